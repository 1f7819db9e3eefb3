"""Rapid qualitative analysis: one summary template per transcript, and reading the filled ones back.

Rapid analysis (Hamilton 2013; Gale et al. 2019; Taylor et al. 2018) replaces line-by-line coding
with a **summary template** per interview or focus group: a header (who, when, what kind of
session) and one section per **domain**, in which the analyst writes short bullet paraphrases.
The bullets are then charted into a matrix (participants x domains, :mod:`qualkit.analysis.rapid`).

Domains
-------
Domains come from the **interview guide** (``interview_guide:`` in qualkit.yaml, one domain per
main question or topic) or from a **framework**'s top-level domains (``framework:heif``)::

    interview_guide:
      - id: referrals_data                # snake_case, unique
        label: Referrals and data         # the template heading; unique
        prompt: How do referrals get from your side to the team?   # optional (or `question:`)
        codes: [referral_delays, data_sharing_hipaa]               # optional: codes it covers
        framework: [heif:regulatory_frameworks]                    # optional: framework refs

A coded excerpt falls in a **guide domain** when its code is listed under the domain, or when the
code's nearest listed ancestor is (listing a parent code covers its sub-codes unless a sub-code is
listed itself), or when one of the code's framework refs resolves to an item the domain lists, or
to an item under it. It falls in a **framework domain** when one of its code's framework refs
resolves to that domain or to an item under it (a code without refs uses its parent's). An
excerpt may fall in several domains; it is then shown in each.

Templates
---------
``summaries/<transcript>.md`` (or ``.docx``): a header with ``Transcript:``, date, session type,
participants with their attributes, the domain source and the codings used; then per domain a
``## <label>`` heading, the guide question, the coded excerpts as a starting point (Markdown block
quotes, or Word's *Quote* style) and a ``Summary:`` area with empty bullets. Only the analyst's
bullets are read back; excerpts never are. A template carries a fingerprint of what qualkit wrote,
so any edit marks it as started and qualkit will not replace it (unless asked to, after a backup).
"""
from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError

SUMMARIES_DIR = "summaries"
FORMATS = ("md", "docx")
GUIDE_KEY = "interview_guide"
GUIDE_FIELDS = ("id", "label", "prompt", "question", "codes", "framework")
MAX_EXCERPT_CHARS = 300
EMPTY_BULLETS = 3
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FINGERPRINT_RE = re.compile(r"fingerprint ([0-9a-f]{12})")
_PLACEHOLDER = "0" * 12
_BULLET_RE = re.compile(r"^(\s*)(?:[-*+•]|\d+[.)])(?:\s+|$)(.*)$")
_SUMMARY_RE = re.compile(r"^\s*(?:#{3,6}\s*)?(?:\*\*|__)?\s*summary\s*:?\s*(?:\*\*|__)?\s*:?\s*$", re.I)
# qualkit's own lines inside a domain section: never the analyst's
_PREFILLED_RE = re.compile(r"^\W*(?:guide question|definition)\s*:|^coded excerpts \(a starting point|"
                           r"^no coded excerpts fall in this domain", re.I)
_HR_RE = re.compile(r"^[-*_=\s]{3,}$")
_HEADER_RE = re.compile(r"^\s*(?:[-*+•]\s*)?(?:\*\*)?([A-Za-z][A-Za-z ]*?)(?:\*\*)?\s*:(?:\*\*)?\s*(.*?)\s*$")


from qualkit.errors import SummaryError  # noqa: F401  (defined with every other error in qualkit.errors)


# ------------------------------------------------------------------------------------ domains
@dataclass
class Domain:
    """One section of a summary template: a guide question/topic or a framework domain."""

    id: str
    label: str
    prompt: str = ""
    codes: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)     # framework refs as written
    line: int | None = None                           # where the guide defines it
    items: list[Any] = field(default_factory=list, repr=False)  # resolved FrameworkItems


@dataclass
class DomainSet:
    """The domains of a template, where they come from (``guide`` or ``framework:ID``), and which
    codes fall in which domains."""

    source: str
    domains: list[Domain]
    description: str
    code_domains: dict[str, list[str]] = field(default_factory=dict)  # code id -> domain ids
    warnings: list[str] = field(default_factory=list)

    def get(self, key: str) -> Domain | None:
        """A domain by id or label (case and spacing ignored)."""
        norm = _norm_label(key)
        for d in self.domains:
            if d.id == key or _norm_label(d.label) == norm or _norm_label(d.id) == norm:
                return d
        return None

    def labels(self) -> list[str]:
        return [d.label for d in self.domains]

    def domains_of(self, code: str) -> list[str]:
        return self.code_domains.get(code, [])


def _norm_label(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", str(text).replace("_", " ")).split()).casefold()


def _guide_nodes(workspace) -> tuple[int | None, list]:
    """The line of ``interview_guide:`` in qualkit.yaml and its items' YAML nodes (for line numbers)."""
    from qualkit.io.yamlfile import load_yaml_file

    _data, root = load_yaml_file(workspace.config.path, SummaryError, "settings file")
    for k, v in (root.value if root is not None and isinstance(root.value, list) else []):
        if getattr(k, "value", None) == GUIDE_KEY:
            return k.start_mark.line + 1, (v.value if isinstance(v.value, list) else [])
    return None, []


def _as_list(value, what: str, path, line) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(x, (str, int, float)) for x in value):
        raise SummaryError(f"'{what}' must be a list of {'code ids' if what == 'codes' else 'framework refs'}", path, line)
    return [str(x).strip() for x in value if str(x).strip()]


def interview_guide(workspace) -> list[Domain]:
    """The ``interview_guide:`` domains of qualkit.yaml, validated (errors name the line).

    Each domain has ``id`` (snake_case), ``label`` (the template heading; defaults to the id in
    words), optional ``prompt`` (or ``question``) text, ``codes`` (code ids) and ``framework``
    (framework refs such as ``heif:societal_context``). Ids and labels must be unique.
    """
    from qualkit.io.yamlfile import key_lines

    raw = workspace.config.interview_guide
    path = workspace.config.path
    if raw is None:
        return []
    key_line, nodes = _guide_nodes(workspace)
    if not isinstance(raw, list):
        raise SummaryError(f"'{GUIDE_KEY}' must be a list of domains (id, label, prompt, codes)", path, key_line)
    out: list[Domain] = []
    seen_ids: dict[str, int | None] = {}
    seen_labels: dict[str, int | None] = {}
    for i, item in enumerate(raw):
        node = nodes[i] if i < len(nodes) else None
        line = node.start_mark.line + 1 if node is not None else key_line
        lines = key_lines(node)
        if isinstance(item, str):  # a bare label: "- Barriers"
            item = {"id": re.sub(r"[^a-z0-9]+", "_", item.casefold()).strip("_"), "label": item}
        if not isinstance(item, dict):
            raise SummaryError(f"interview guide domain {i + 1} must be a mapping with id and label", path, line)
        for key in item:
            if key not in GUIDE_FIELDS:
                close = difflib.get_close_matches(str(key), GUIDE_FIELDS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise SummaryError(f"unknown interview guide field '{key}'{hint}", path, lines.get(str(key), line))
        did = str(item.get("id") or "").strip()
        if not did:
            raise SummaryError(f"interview guide domain {i + 1} has no 'id'", path, line)
        if not _ID_RE.match(did):
            raise SummaryError(f"domain id {did!r} must be lower-case letters, digits and _ (e.g. referrals_data)",
                               path, lines.get("id", line))
        label = " ".join(str(item.get("label") or did.replace("_", " ").capitalize()).split())
        if did in seen_ids:
            raise SummaryError(f"domain id {did!r} is used twice (also line {seen_ids[did]})", path, lines.get("id", line))
        if _norm_label(label) in seen_labels:
            raise SummaryError(f"domain label {label!r} is used twice (also line {seen_labels[_norm_label(label)]}); "
                               "labels are the template headings", path, lines.get("label", line))
        seen_ids[did] = lines.get("id", line)
        seen_labels[_norm_label(label)] = lines.get("label", line)
        prompt = item.get("prompt") if item.get("prompt") is not None else item.get("question")
        if prompt is not None and not isinstance(prompt, (str, int, float)):
            raise SummaryError("'prompt' must be text", path, lines.get("prompt", lines.get("question", line)))
        out.append(Domain(did, label, " ".join(str(prompt or "").split()),
                          _as_list(item.get("codes"), "codes", path, lines.get("codes", line)),
                          _as_list(item.get("framework"), "framework", path, lines.get("framework", line)),
                          line))
    return out


def _code_refs(book, code) -> list[str]:
    """A code's framework refs, prefixed with its codebook's framework when written bare; a code
    without refs uses its nearest ancestor's."""
    for c in reversed(book.path_of(code)):
        if c.framework:
            return [r if ":" in r else f"{book.framework or ''}:{r}" for r in c.framework]
    return []


def _resolve(frameworks: dict, ref: str):
    fid, _, key = ref.partition(":")
    fw = frameworks.get(fid.strip())
    return fw.get(key) if fw is not None and key else None


def _under(item, target) -> bool:
    """Whether framework item ``item`` is ``target`` or lies under it."""
    return item.framework == target.framework and (item.path == target.path or item.path.startswith(target.path + "."))


def _safe_index(workspace) -> dict:
    from qualkit.workspace.codebook import CodebookError

    try:
        return workspace.code_index()
    except CodebookError:
        return {}


def load_domains(workspace, source: str | None = None) -> DomainSet:
    """The domains for templates: ``"guide"`` (qualkit.yaml ``interview_guide:``), ``"framework"``
    (the workspace's framework) or ``"framework:ID"``. Default: the guide when there is one, else
    the workspace's framework. Also works out which codes fall in which domain."""
    from qualkit.frameworks.catalog import FrameworkRefError

    guide_present = workspace.config.interview_guide is not None
    warnings: list[str] = []
    if source is None or source == "":
        if guide_present:
            source = "guide"
        else:
            source = f"framework:{workspace.config.framework or 'heif'}"
            warnings.append(f"no '{GUIDE_KEY}:' in qualkit.yaml, so the domains are {source}'s top-level domains "
                            f"(add an interview guide to summarise by guide question)")
    source = source.strip()
    frameworks = workspace.frameworks()
    index = _safe_index(workspace)
    code_domains: dict[str, list[str]] = {}
    if source == "guide":
        domains = interview_guide(workspace)
        if not domains:
            raise SummaryError(f"no '{GUIDE_KEY}:' domains in qualkit.yaml; add them (a list of id, label, prompt, "
                               "codes) or use --domains framework:ID", workspace.config.path)
        path = workspace.config.path
        for d in domains:
            for ref in d.refs:
                if ":" not in ref:
                    ref_full = f"{workspace.config.framework or 'heif'}:{ref}"
                else:
                    ref_full = ref
                fid = ref_full.split(":", 1)[0]
                if fid not in frameworks:
                    known = ", ".join(sorted(frameworks))
                    raise SummaryError(f"domain {d.id!r}: unknown framework {fid!r} in {ref!r} (known: {known})", path, d.line)
                try:
                    d.items.append(frameworks[fid].resolve(ref_full.split(":", 1)[1]))
                except FrameworkRefError as exc:
                    raise SummaryError(f"domain {d.id!r}: {exc.message}", path, d.line) from None
            unknown = [c for c in d.codes if index and c not in index]
            if unknown:
                warnings.append(f"qualkit.yaml:{d.line}: interview guide domain {d.id!r} lists code(s) that are in no "
                                f"codebook: {', '.join(unknown)}")
        listed: dict[str, list[str]] = {}
        for d in domains:
            for c in d.codes:
                listed.setdefault(c, []).append(d.id)
        for cid in set(index) | set(listed):
            hits: list[str] = []
            if cid in listed:
                hits += listed[cid]
            elif cid in index:
                book, code = index[cid]
                for anc in reversed(book.path_of(code)[:-1]):
                    if anc.id in listed:
                        hits += listed[anc.id]
                        break
            if cid in index:
                book, code = index[cid]
                items = [it for it in (_resolve(frameworks, r) for r in _code_refs(book, code)) if it is not None]
                for d in domains:
                    if d.id not in hits and any(_under(it, target) for it in items for target in d.items):
                        hits.append(d.id)
            order = {d.id: i for i, d in enumerate(domains)}
            code_domains[cid] = sorted(set(hits), key=order.get)
        description = f"interview guide ({len(domains)} domains in qualkit.yaml)"
    elif source == "framework" or source.startswith("framework:"):
        fid = source.partition(":")[2].strip() or (workspace.config.framework or "heif")
        if fid not in frameworks:
            close = difflib.get_close_matches(fid, sorted(frameworks), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(frameworks))})"
            raise SummaryError(f"no framework {fid!r}{hint}")
        fw = frameworks[fid]
        source = f"framework:{fid}"
        domains = [Domain(item.id, item.label, item.definition, [], [item.ref], None, [item]) for item in fw.domains()]
        for cid, (book, code) in index.items():
            hits = []
            for ref in _code_refs(book, code):
                item = _resolve(frameworks, ref)
                if item is not None and item.framework == fid:
                    top = item.path.split(".")[0]
                    if top not in hits:
                        hits.append(top)
            order = {d.id: i for i, d in enumerate(domains)}
            code_domains[cid] = sorted(hits, key=lambda h: order.get(h, 99))
        description = f"{fw.name} ({fid}), {len(domains)} top-level domains"
    else:
        raise SummaryError(f"--domains must be 'guide' or 'framework:ID' (e.g. framework:heif), not {source!r}")
    return DomainSet(source, domains, description, code_domains, warnings)


# ----------------------------------------------------------------------------------- codings
@dataclass
class CodingSource:
    """Which codings pre-fill the templates: one coder's file, or several pooled."""

    coders: list[str]
    codings: list[Any]
    description: str
    warnings: list[str] = field(default_factory=list)


def load_codings(workspace, coder: str | Iterable[str] | None = "consensus") -> CodingSource:
    """Codings for excerpts. ``consensus`` (the default) is codings/consensus.csv; when that file
    does not exist the coders in qualkit.yaml ``coders:`` are pooled (union; the same code on the
    same span counted once) with a warning. ``"ana,ben"`` or a list pools those coders."""
    from qualkit.workspace.codings import CodingError

    warnings: list[str] = []
    if coder is None:
        coder = "consensus"
    names = [c.strip() for c in coder.split(",")] if isinstance(coder, str) else [str(c).strip() for c in coder]
    names = [n for n in names if n]
    if names == ["consensus"] and workspace.coder_file("consensus").exists():
        # One definition of "the consensus codings" for templates, matrices and the report.
        from qualkit.analysis.matrices import resolve_codings

        pairs, source = resolve_codings(workspace, "consensus")
        desc = "codings/consensus.csv"
        if len(source.coders) > 1:
            desc += f" + single-coded transcripts ({', '.join(source.coders[1:])})"
        return CodingSource(source.coders, [c for c, _ in pairs], desc, list(source.warnings))
    if names == ["consensus"]:
        pooled = [c for c in workspace.config.coders if workspace.coder_file(c).exists()]
        if not pooled:
            warnings.append("no codings/consensus.csv and no coder files for qualkit.yaml 'coders:', so the templates "
                            "have no pre-filled excerpts")
            return CodingSource([], [], "none (no codings yet)", warnings)
        missing = [c for c in workspace.config.coders if c not in pooled]
        warnings.append(f"no codings/consensus.csv yet: excerpts pool the coders {', '.join(pooled)} (union, duplicates "
                        "removed); reconcile them (`qualkit reconcile`) for consensus excerpts"
                        + (f"; no file for {', '.join(missing)}" if missing else ""))
        names = pooled
    for n in names:
        if not workspace.coder_file(n).exists():
            known = ", ".join(workspace.coders()) or "none"
            raise CodingError(f"no codings file for coder {n!r} (known: {known})", workspace.coder_file(n))
    seen: set = set()
    codings = []
    for n in names:
        for c in workspace.codings(n):
            if c.key not in seen:
                seen.add(c.key)
                codings.append(c)
    desc = f"codings/{names[0]}.csv" if len(names) == 1 else f"pooled {', '.join(names)} (codings/{{{','.join(names)}}}.csv)"
    return CodingSource(names, codings, desc, warnings)


# ----------------------------------------------------------------------------------- excerpts
@dataclass
class Excerpt:
    """A coded passage of one turn (overlapping codings in a domain merged), with its speaker."""

    transcript: str
    start: int
    end: int
    text: str
    codes: list[str]
    turn: int                      # numbered from 1
    participant: str | None
    speaker: str | None
    role: str | None = None
    time: str | None = None

    def attribution(self) -> str:
        """``(FG1-P3, medical)``: participant id and role (the speaker label when unmapped)."""
        who = self.participant or self.speaker or "unknown speaker"
        return f"({who}, {self.role})" if self.role else f"({who})"

    def quote(self, max_chars: int | None = MAX_EXCERPT_CHARS) -> str:
        """The passage in curly quotes, trimmed at a word boundary, with the attribution."""
        return f"“{trim_text(self.text, max_chars)}” {self.attribution()}"

    def locator(self) -> str:
        where = f"turn {self.turn}" + (f", {self.time}" if self.time else "")
        return f"{where} · {', '.join(self.codes)}"


def trim_text(text: str, max_chars: int | None = MAX_EXCERPT_CHARS) -> str:
    """Whitespace collapsed; longer than ``max_chars`` is cut at the last word boundary before it
    (never mid-word) and ends with an ellipsis."""
    flat = " ".join(str(text).split())
    if max_chars is None or max_chars <= 0 or len(flat) <= max_chars:
        return flat
    cut = flat.rfind(" ", 0, max_chars + 1)
    if cut <= 0:  # one very long "word": keep it whole rather than cut it
        nxt = flat.find(" ", max_chars)
        return flat if nxt < 0 else flat[:nxt].rstrip(",;:–—-") + " …"
    return flat[:cut].rstrip(" ,;:–—-") + " …"


def _word_bounds(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words (within ``[lo, hi)``) and trim whitespace."""
    while start > lo and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < hi and end > 0 and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def transcript_excerpts(workspace, transcript, codings: Iterable[Any], domains: DomainSet,
                        include_facilitators: bool = False) -> dict[str, list[Excerpt]]:
    """Domain id -> excerpts of one transcript, in text order. A coding is clipped to the turn it
    starts in and widened to whole words; facilitators' turns are left out; within a domain,
    overlapping excerpts of the same turn are merged (their codes listed together)."""
    import bisect

    from qualkit.transcripts.render import format_timestamp

    table = workspace.participant_table
    text = transcript.text
    turns = transcript.turns
    ends = [t.end for t in turns]
    raw: dict[str, list[tuple[int, int, int, str]]] = {d.id: [] for d in domains.domains}
    for c in codings:
        if c.transcript != transcript.id or c.end > len(text) or c.start >= len(text):
            continue
        i = bisect.bisect_right(ends, c.start)
        if i >= len(turns):
            continue
        turn = turns[i]
        if c.start < turn.start and c.end <= turn.start:
            continue  # in a speaker label or between turns
        if not include_facilitators and table.is_facilitator(turn.participant):
            continue
        s, e = _word_bounds(text, max(c.start, turn.start), min(c.end, turn.end), turn.start, turn.end)
        if e <= s:
            continue
        for did in domains.domains_of(c.code):
            raw[did].append((i, s, e, c.code))
    out: dict[str, list[Excerpt]] = {}
    for did, spans in raw.items():
        merged: list[list] = []
        for i, s, e, code in sorted(spans):
            if merged and merged[-1][0] == i and s < merged[-1][2]:
                merged[-1][2] = max(merged[-1][2], e)
                if code not in merged[-1][3]:
                    merged[-1][3].append(code)
            else:
                merged.append([i, s, e, [code]])
        items = []
        for i, s, e, codes in merged:
            turn = turns[i]
            attrs = table.attributes(turn.participant) if turn.participant else {}
            items.append(Excerpt(transcript.id, s, e, text[s:e], codes, i + 1, turn.participant, turn.speaker,
                                 attrs.get("role") or None,
                                 format_timestamp(turn.timestamp) if turn.timestamp is not None else None))
        out[did] = items
    return out


# ------------------------------------------------------------------------------ session facts
@dataclass
class Session:
    """What a template's header says about a transcript."""

    id: str
    path: Path | None
    format: str
    kind: str                               # "interview" or "focus group"
    participants: list[str]                 # participant ids (not facilitators), in order
    facilitators: list[str]
    date: str = ""
    turns: int = 0
    words: int = 0
    group: str = ""                         # focus group label (participants.csv `group`, else the id)

    @property
    def name(self) -> str:
        """How the session is named in a matrix: the participant id (interview) or the group."""
        if self.kind == "interview":
            return self.participants[0] if self.participants else self.id
        return self.group or self.id


_DATE_RE = re.compile(r"(?im)^[ \t]*(?:interview |session |focus group )?date[ \t]*:[ \t]*(.+?)(?=[ \t]{2,}|\t|[ \t]*$)")


def session_info(workspace, transcript, path: Path | None = None) -> Session:
    """Participants (participants.csv rows for the transcript, then anyone else who speaks), the
    kind of session (more than one participant: focus group), and the date (a ``date`` column in
    participants.csv, else a ``Date:`` line before the first labelled turn)."""
    table = workspace.participant_table
    people: list[str] = []
    facilitators: list[str] = []
    for row in table.rows:
        if row["transcript"] == transcript.id:
            pid = row["participant_id"]
            target = facilitators if table.is_facilitator(pid) else people
            if pid not in target:
                target.append(pid)
    for turn in transcript.turns:
        pid = turn.participant
        if pid is None:
            continue
        target = facilitators if table.is_facilitator(pid) else people
        if pid not in target:
            target.append(pid)
    date = ""
    for pid in people:
        attrs = table.attributes(pid)
        date = attrs.get("date") or attrs.get("interview_date") or ""
        if date:
            break
    if not date:
        first = next((t.start for t in transcript.turns if t.speaker), len(transcript.text))
        m = _DATE_RE.search(transcript.text[:first])
        date = m.group(1).strip() if m else ""
    kind = "focus group" if len(people) > 1 else "interview"
    groups = {table.attributes(p).get("group", "") for p in people}
    group = groups.pop() if len(groups) == 1 and kind == "focus group" else ""
    if not group or group.lower() == "interview":
        group = transcript.id
    return Session(transcript.id, path, transcript.source_format, kind, people, facilitators, date,
                   len(transcript.turns), getattr(transcript, "word_count", 0), group)


def describe_participant(workspace, pid: str) -> str:
    attrs = workspace.participant_table.attributes(pid)
    parts = [f"{k}: {v}" for k, v in attrs.items() if v]
    return f"{pid} ({'; '.join(parts)})" if parts else pid


# --------------------------------------------------------------------------------- templates
@dataclass
class TemplateResult:
    """What ``write_templates`` did for one transcript: ``status`` is written, updated, unchanged,
    kept (the analyst has started it; not replaced) or replaced (``--overwrite``; backed up)."""

    transcript: str
    path: Path
    status: str
    excerpts: int = 0
    backup: Path | None = None
    removed: Path | None = None     # a template in the other format that was replaced

    def as_dict(self) -> dict:
        return {"transcript": self.transcript, "path": str(self.path), "status": self.status,
                "excerpts": self.excerpts, "backup": str(self.backup) if self.backup else None,
                "removed": str(self.removed) if self.removed else None}


@dataclass
class TemplateRun:
    results: list[TemplateResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[QualkitError] = field(default_factory=list)
    domains: DomainSet | None = None
    codings: CodingSource | None = None

    def as_dict(self) -> dict:
        return {"domains": self.domains.source if self.domains else None,
                "codings": self.codings.description if self.codings else None,
                "templates": [r.as_dict() for r in self.results], "warnings": list(self.warnings),
                "errors": [str(e) for e in self.errors]}


def _template_model(workspace, transcript, session: Session, domains: DomainSet,
                    source: CodingSource) -> tuple[list[tuple[str, str]], list[tuple[Domain, list[Excerpt]]]]:
    """The header fields and each domain's excerpts, shared by the Markdown and Word writers."""
    excerpts = transcript_excerpts(workspace, transcript, source.codings, domains)
    try:
        rel = Path(session.path).resolve().relative_to(Path(workspace.root).resolve()) if session.path else Path(transcript.id)
    except ValueError:
        rel = Path(session.path)
    kind = session.kind + (f", {len(session.participants)} participants" if session.kind == "focus group" else "")
    header = [("Transcript", transcript.id), ("Session", kind), ("Date", session.date or ""),
              ("Source", f"{rel.as_posix()} ({session.format}, {session.turns} turns, {session.words} words)")]
    if session.facilitators:
        header.append(("Facilitators", ", ".join(describe_participant(workspace, p) for p in session.facilitators)))
    label = "Participants" if session.kind == "focus group" else "Participant"
    header.append((label, "" if session.kind == "focus group" else
                   (describe_participant(workspace, session.participants[0]) if session.participants else "(not in participants.csv)")))
    header += [("Domains", f"{domains.source} — {domains.description}"), ("Excerpts", f"{source.description}"),
               ("Analyst", ""), ("Summarised on", "")]
    return header, [(d, excerpts.get(d.id, [])) for d in domains.domains]


INSTRUCTIONS = ("Write your summary as bullets under "
                "'Summary:' in each domain, 2-4 short paraphrases per domain; in a focus group, name the "
                "participant(s) a point comes from, e.g. '(FG1-P3)'. The quoted excerpts are a starting point "
                "from the codings and are never collected. Keep the domain headings and the 'Transcript:' line "
                "as they are; fill in Analyst and Summarised on.")


def render_markdown(workspace, transcript, session: Session, domains: DomainSet, source: CodingSource,
                    max_chars: int | None = MAX_EXCERPT_CHARS, bullets: int = EMPTY_BULLETS) -> tuple[str, int]:
    """The Markdown template text (with its fingerprint) and the number of excerpts in it."""
    header, sections = _template_model(workspace, transcript, session, domains, source)
    lines = [f"# Rapid analysis summary: {transcript.id}", "",
             f"<!-- qualkit summary template (fingerprint {_PLACEHOLDER}). {INSTRUCTIONS} -->", ""]
    for key, value in header:
        lines.append(f"- {key}: {value}".rstrip())
        if key == "Participants":
            lines += [f"  - {describe_participant(workspace, p)}" for p in session.participants]
    n = 0
    for d, items in sections:
        lines += ["", f"## {d.label}", ""]
        if d.prompt:
            lines += [f"*{'Guide question' if domains.source == 'guide' else 'Definition'}:* {d.prompt}", ""]
        if items:
            lines += ["Coded excerpts (a starting point; not collected):", ""]
            for ex in items:
                lines.append(f"> {ex.quote(max_chars)} · {ex.locator()}")
                lines.append(">")
            lines.pop()
            n += len(items)
        else:
            lines.append("No coded excerpts fall in this domain; summarise from the transcript.")
        lines += ["", "Summary:", ""] + ["- "] * max(bullets, 1)
    text = "\n".join(lines) + "\n"
    return _stamp(text), n


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FINGERPRINT_RE.sub(f"fingerprint {_PLACEHOLDER}", text, count=1)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip() + "\n"


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def _stamp(text: str) -> str:
    return text.replace(f"fingerprint {_PLACEHOLDER}", f"fingerprint {_digest(_normalize(text))}", 1)


def _docx_payload(doc) -> str:
    return "\n".join(f"{p.style.name if p.style is not None else ''}\t{p.text.rstrip()}" for p in doc.paragraphs).strip()


def render_docx(workspace, transcript, session: Session, domains: DomainSet, source: CodingSource,
                max_chars: int | None = MAX_EXCERPT_CHARS, bullets: int = EMPTY_BULLETS):
    """The Word template (a python-docx Document, fingerprint in its Comments property) and the
    number of excerpts. Domains are *Heading 2*, excerpts *Quote*, summary bullets *List Bullet*."""
    import docx

    header, sections = _template_model(workspace, transcript, session, domains, source)
    doc = docx.Document()
    doc.add_heading(f"Rapid analysis summary: {transcript.id}", level=1)
    note = doc.add_paragraph()
    note.add_run(f"qualkit summary template. {INSTRUCTIONS}").italic = True
    for key, value in header:
        p = doc.add_paragraph()
        p.add_run(f"{key}:").bold = True
        if value:
            p.add_run(f" {value}")
        if key == "Participants":
            for pid in session.participants:
                doc.add_paragraph(describe_participant(workspace, pid), style="List Bullet 2")
    n = 0
    for d, items in sections:
        doc.add_heading(d.label, level=2)
        if d.prompt:
            p = doc.add_paragraph()
            p.add_run(f"{'Guide question' if domains.source == 'guide' else 'Definition'}: ").italic = True
            p.add_run(d.prompt)
        if items:
            doc.add_paragraph("Coded excerpts (a starting point; not collected):")
            for ex in items:
                doc.add_paragraph(f"{ex.quote(max_chars)} · {ex.locator()}", style="Quote")
            n += len(items)
        else:
            doc.add_paragraph("No coded excerpts fall in this domain; summarise from the transcript.")
        p = doc.add_paragraph()
        p.add_run("Summary:").bold = True
        for _ in range(max(bullets, 1)):
            doc.add_paragraph("", style="List Bullet")
    doc.core_properties.title = f"Rapid analysis summary: {transcript.id}"
    doc.core_properties.comments = f"qualkit summary template; fingerprint {_digest(_docx_payload(doc))}"
    return doc, n


def template_state(path: Path) -> str:
    """``pristine`` (exactly as qualkit wrote it), ``started`` (edited by an analyst) or ``unreadable``."""
    path = Path(path)
    if path.suffix.lower() == ".docx":
        try:
            import docx

            doc = docx.Document(str(path))
        except Exception:  # noqa: BLE001 - a damaged file is treated as someone's work
            return "unreadable"
        m = _FINGERPRINT_RE.search(doc.core_properties.comments or "")
        return "pristine" if m and m.group(1) == _digest(_docx_payload(doc)) else "started"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return "unreadable"
    m = _FINGERPRINT_RE.search(text)
    return "pristine" if m and m.group(1) == _digest(_normalize(text)) else "started"


def summaries_dir(workspace) -> Path:
    return Path(workspace.root) / SUMMARIES_DIR


def write_templates(workspace, domains: str | DomainSet | None = None, format: str = "md",
                    coder: str | Iterable[str] | None = "consensus", overwrite: bool = False,
                    transcripts: Iterable[str] | None = None, max_chars: int | None = MAX_EXCERPT_CHARS,
                    bullets: int = EMPTY_BULLETS) -> TemplateRun:
    """One summary template per transcript in summaries/ (``<id>.md`` or ``<id>.docx``).

    A template the analyst has started (anything changed since qualkit wrote it) is never
    replaced unless ``overwrite``; even then the old file is copied to .qualkit/backups/ first. A
    template that is still as qualkit wrote it is brought up to date (new codings, new guide).
    A template in the other format counts as the transcript's template too.
    """
    from qualkit.io.atomic import atomic_write_bytes, atomic_write_text, backup

    if format not in FORMATS:
        raise SummaryError(f"--format must be md or docx, not {format!r}")
    run = TemplateRun()
    dset = domains if isinstance(domains, DomainSet) else load_domains(workspace, domains)
    run.domains = dset
    run.warnings += dset.warnings
    source = load_codings(workspace, coder)
    run.codings = source
    run.warnings += source.warnings
    wanted = list(transcripts) if transcripts is not None else None
    if wanted is not None:
        result = workspace.ingest([_path_of(workspace, t) for t in wanted])
    else:
        result = workspace.ingest()
    run.errors += result.errors
    paths = {r.id: r.path for r in result.rows}
    known_ids = {t.id for t in result.transcripts}
    unplaced = sorted({c.code for c in source.codings if c.transcript in known_ids and not dset.domains_of(c.code)})
    if unplaced:
        run.warnings.append(f"{len(unplaced)} code(s) fall in no {dset.source} domain, so their excerpts are not in the "
                            f"templates: {', '.join(unplaced)}")
    folder = summaries_dir(workspace)
    for t in result.transcripts:
        session = session_info(workspace, t, paths.get(t.id))
        target = folder / f"{t.id}.{format}"
        other = folder / f"{t.id}.{'docx' if format == 'md' else 'md'}"
        existing = [p for p in (target, other) if p.exists()]
        states = {p: template_state(p) for p in existing}
        if format == "md":
            content, n = render_markdown(workspace, t, session, dset, source, max_chars, bullets)
        else:
            content, n = render_docx(workspace, t, session, dset, source, max_chars, bullets)
        started = [p for p in existing if states[p] != "pristine"]
        if started and not overwrite:
            run.results.append(TemplateResult(t.id, started[0], "kept", n))
            continue
        res = TemplateResult(t.id, target, "written", n)
        if started:
            for p in started:
                saved = backup(p, workspace.backup_dir)
                res.backup = res.backup or saved
            res.status = "replaced"
        elif target.exists():
            if format == "md" and target.read_text(encoding="utf-8-sig") == content:
                run.results.append(TemplateResult(t.id, target, "unchanged", n))
                continue
            res.status = "updated"
        if format == "md":
            atomic_write_text(target, content)
        else:
            import io

            buf = io.BytesIO()
            content.save(buf)
            atomic_write_bytes(target, buf.getvalue())
        if other.exists():
            other.unlink()
            res.removed = other
        run.results.append(res)
    return run


def _path_of(workspace, transcript_id: str) -> Path:
    paths = workspace.transcript_paths()
    for p in paths:
        if p.stem == transcript_id or p.name == transcript_id:
            return p
    return workspace.transcript(transcript_id)  # raises with the known ids


# --------------------------------------------------------------------------------- reading back
@dataclass
class Bullet:
    text: str
    line: int          # Markdown line, or Word paragraph, numbered from 1


@dataclass
class DomainSummary:
    domain: str
    label: str
    line: int | None
    bullets: list[Bullet] = field(default_factory=list)


@dataclass
class SummaryFile:
    """One filled (or unfilled) template as read back."""

    path: Path
    transcript: str | None = None
    source: str | None = None
    analyst: str = ""
    domains: list[DomainSummary] = field(default_factory=list)
    errors: list[SummaryError] = field(default_factory=list)

    @property
    def is_docx(self) -> bool:
        return self.path.suffix.lower() == ".docx"

    def empty_domains(self) -> list[str]:
        return [d.label for d in self.domains if not d.bullets]


@dataclass
class Summaries:
    """Everything in summaries/: the files read, their errors, and transcripts with no template."""

    files: list[SummaryFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)     # transcripts without a template
    domains: DomainSet | None = None                     # the domain set the templates use

    @property
    def errors(self) -> list[SummaryError]:
        return [e for f in self.files for e in f.errors]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_transcript(self) -> dict[str, SummaryFile]:
        return {f.transcript: f for f in self.files if f.transcript and not _fatal(f)}

    def frame(self, workspace=None):
        """One row per bullet: transcript, session, participant (interview) or group (focus
        group), participants, domain, domain_label, bullet, file, line."""
        import pandas as pd

        sessions = _sessions(workspace) if workspace is not None else {}
        rows = []
        for f in self.files:
            if _fatal(f):
                continue
            s = sessions.get(f.transcript)
            for d in f.domains:
                for b in d.bullets:
                    rows.append({"transcript": f.transcript, "session": s.kind if s else "",
                                 "participant": s.name if s else "",
                                 "participants": ", ".join(s.participants) if s else "",
                                 "domain": d.domain, "domain_label": d.label, "bullet": b.text,
                                 "analyst": f.analyst, "file": _rel(workspace, f.path), "line": b.line})
        cols = ["transcript", "session", "participant", "participants", "domain", "domain_label", "bullet",
                "analyst", "file", "line"]
        return pd.DataFrame(rows, columns=cols)

    def as_dict(self, workspace=None) -> dict:
        return {"domains": self.domains.source if self.domains else None,
                "templates": [{"transcript": f.transcript, "file": _rel(workspace, f.path), "analyst": f.analyst,
                               "bullets": sum(len(d.bullets) for d in f.domains),
                               "filled_domains": [d.label for d in f.domains if d.bullets],
                               "empty_domains": f.empty_domains(), "errors": [str(e) for e in f.errors]}
                              for f in self.files],
                "missing": list(self.missing), "errors": [_err_text(workspace, e) for e in self.errors],
                "bullets": self.frame(workspace).to_dict("records")}


def _fatal(f: SummaryFile) -> bool:
    """A file whose transcript could not be established contributes nothing."""
    return f.transcript is None


def _rel(workspace, path: Path) -> str:
    if workspace is None:
        return str(path)
    return workspace.rel(path)


def _err_text(workspace, e: QualkitError) -> str:
    where = _rel(workspace, e.path) if e.path is not None else ""
    if e.line is not None:
        where += f":{e.line}"
    return f"{where}: {e.message}" if where else e.message


def _sessions(workspace) -> dict[str, Session]:
    result = workspace.ingest()
    paths = {r.id: r.path for r in result.rows}
    return {t.id: session_info(workspace, t, paths.get(t.id)) for t in result.transcripts}


@dataclass
class _Block:
    """A template as a list of (number, kind, text) blocks, whatever the file format.

    kind: ``title``, ``heading`` (a domain heading), ``quote`` (excerpt), ``bullet`` (a list item),
    ``cont`` (an indented line continuing the bullet above; ``nested`` when it is itself a
    sub-bullet), ``text`` (a plain paragraph).
    """

    number: int
    kind: str
    text: str
    nested: bool = False


def _md_blocks(text: str) -> list[_Block]:
    out: list[_Block] = []
    in_comment = False
    in_fence = False
    for n, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if in_comment:
            if "-->" not in line:
                continue
            in_comment = False
            line = line.split("-->", 1)[1]
        while "<!--" in line:
            before, _, after = line.partition("<!--")
            if "-->" not in after:
                in_comment = True
                line = before
                break
            line = before + after.split("-->", 1)[1]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            continue
        if not stripped:
            continue
        if in_fence:
            out.append(_Block(n, "text", stripped))
        elif re.match(r"^#\s", stripped):
            out.append(_Block(n, "title", stripped[2:].strip()))
        elif re.match(r"^##\s", stripped):
            out.append(_Block(n, "heading", stripped[3:].strip().rstrip("#").strip()))
        elif stripped.startswith(">"):
            out.append(_Block(n, "quote", stripped.lstrip(">").strip()))
        else:
            m = _BULLET_RE.match(line)
            indented = len(line) - len(line.lstrip()) >= 2
            under_bullet = bool(out) and out[-1].kind in ("bullet", "cont")
            if m and indented and under_bullet:
                out.append(_Block(n, "cont", m.group(2).strip(), nested=True))
            elif m:
                out.append(_Block(n, "bullet", m.group(2).strip()))
            elif indented and under_bullet:
                out.append(_Block(n, "cont", stripped))
            else:
                out.append(_Block(n, "text", stripped))
    return out


def _docx_blocks(path: Path) -> list[_Block]:
    import docx

    doc = docx.Document(str(path))
    out: list[_Block] = []
    for n, p in enumerate(doc.paragraphs, start=1):
        text = p.text.strip()
        style = (p.style.name if p.style is not None else "").lower()
        if style.startswith("heading 1") or style == "title":
            if text:
                out.append(_Block(n, "title", text))
            continue
        if style.startswith("heading 2"):
            out.append(_Block(n, "heading", text))
            continue
        if not text:
            continue
        numbered = p._p.pPr is not None and p._p.pPr.numPr is not None
        if "quote" in style and not numbered and "list" not in style:
            out.append(_Block(n, "quote", text))
        elif "list" in style or numbered:
            sub = style[-1:].isdigit() and style[-1] != "1" and bool(out) and out[-1].kind in ("bullet", "cont")
            out.append(_Block(n, "cont", text, nested=True) if sub else _Block(n, "bullet", text))
        else:
            m = _BULLET_RE.match(text)
            out.append(_Block(n, "bullet", m.group(2).strip()) if m else _Block(n, "text", text))
    return out


def read_template(workspace, path: str | Path, domain_sets: dict[str, DomainSet] | None = None,
                  known: Iterable[str] | None = None) -> SummaryFile:
    """Read one template: its transcript, domain source, and each domain's analyst bullets.

    Problems (no or unknown ``Transcript:``, an unknown, duplicate or missing domain heading) are
    collected in ``errors``, each naming the file and the line (Markdown) or paragraph (Word).
    """
    path = Path(path)
    sf = SummaryFile(path)
    docx_file = path.suffix.lower() == ".docx"
    unit = "paragraph" if docx_file else "line"

    def err(message: str, number: int | None) -> None:
        if docx_file and number is not None:
            sf.errors.append(SummaryError(f"paragraph {number}: {message}", path))
        else:
            sf.errors.append(SummaryError(message, path, number))

    try:
        if docx_file:
            blocks = _docx_blocks(path)
        else:
            blocks = _md_blocks(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        sf.errors.append(SummaryError(f"not UTF-8 text (byte {exc.start})", path))
        return sf
    except Exception as exc:  # noqa: BLE001 - a damaged .docx
        sf.errors.append(SummaryError(f"cannot be read as a Word document ({type(exc).__name__})", path))
        return sf
    first_heading = next((i for i, b in enumerate(blocks) if b.kind == "heading"), len(blocks))
    fields: dict[str, tuple[str, int]] = {}
    for b in blocks[:first_heading]:
        if b.kind in ("bullet", "text"):
            m = _HEADER_RE.match(b.text)
            if m and m.group(1).strip().lower() not in fields:
                fields[m.group(1).strip().lower()] = (m.group(2).strip(), b.number)
    known_ids = sorted(known) if known is not None else [p.stem for p in workspace.transcript_paths()]
    if "transcript" not in fields:
        err("no 'Transcript:' line in the header (before the first domain heading), so the transcript is unknown; "
            "qualkit templates start with '- Transcript: <id>'", 1 if blocks else None)
        return sf
    tid, tline = fields["transcript"]
    tid = tid.strip().strip("`*").strip()
    if tid not in known_ids:
        close = difflib.get_close_matches(tid, known_ids, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known_ids[:12]) or 'none'})"
        err(f"transcript {tid!r} in the header is not in transcripts/{hint}", tline)
        return sf
    sf.transcript = tid
    sf.analyst = fields.get("analyst", ("", 0))[0]
    src_text, src_line = fields.get("domains", ("", None))
    src = src_text.split()[0] if src_text.split() else ""
    if not src:
        src = "guide" if workspace.config.interview_guide is not None else f"framework:{workspace.config.framework or 'heif'}"
    sf.source = src
    domain_sets = domain_sets if domain_sets is not None else {}
    if src not in domain_sets:
        try:
            domain_sets[src] = load_domains(workspace, src)
        except QualkitError as exc:
            domain_sets[src] = None  # type: ignore[assignment]
            err(f"domains {src!r} named in the header cannot be loaded: {exc}", src_line)
            return sf
    dset = domain_sets[src]
    if dset is None:
        err(f"domains {src!r} named in the header cannot be loaded", src_line)
        return sf
    where = "the interview guide in qualkit.yaml" if src == "guide" else f"{src}'s domains"
    found: dict[str, DomainSummary] = {}
    renamed: set[str] = set()  # domains whose heading was mistyped (reported once, as unknown)
    current: DomainSummary | None = None
    in_summary = False
    for b in blocks[first_heading:]:
        if b.kind == "heading":
            d = dset.get(b.text)
            in_summary = False
            if d is None:
                close = difflib.get_close_matches(b.text, dset.labels(), n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]!r}?" if close else f" (domains: {', '.join(dset.labels())})"
                if close:
                    renamed.add(dset.get(close[0]).id)
                err(f"domain heading {b.text!r} is not in {where}{hint}", b.number)
                current = None
                continue
            if d.id in found:
                err(f"domain heading {b.text!r} appears twice (first at {unit} {found[d.id].line})", b.number)
                current = None
                continue
            current = DomainSummary(d.id, d.label, b.number)
            found[d.id] = current
            continue
        if current is None:
            continue
        if _SUMMARY_RE.match(b.text) and b.kind in ("text", "title"):
            in_summary = True
            continue
        if b.kind in ("quote", "title") or _PREFILLED_RE.match(b.text) or _HR_RE.match(b.text):
            continue
        if b.kind == "bullet":
            if b.text:
                current.bullets.append(Bullet(b.text, b.number))
        elif b.kind == "cont":
            if current.bullets:
                current.bullets[-1].text += ("; " if b.nested else " ") + b.text
            elif in_summary:
                current.bullets.append(Bullet(b.text, b.number))
        elif b.kind == "text" and in_summary:
            current.bullets.append(Bullet(b.text, b.number))
    order = [d.id for d in dset.domains]
    for i, d in enumerate(dset.domains):
        if d.id not in found and d.id not in renamed:
            nxt = next((found[x] for x in order[i + 1:] if x in found), None)
            after = nxt.line if nxt is not None else None
            place = f" (expected before {nxt.label!r})" if nxt is not None else " (expected at the end)"
            heading = f"'## {d.label}'" if not docx_file else f"{d.label!r} (Heading 2)"
            err(f"missing the domain heading {heading} of {where}{place}",
                after if after is not None else (blocks[-1].number if blocks else None))
    sf.domains = [found[d.id] for d in dset.domains if d.id in found]
    return sf


def template_paths(workspace) -> list[Path]:
    folder = summaries_dir(workspace)
    if not folder.is_dir():
        return []
    from qualkit.io.naming import natural_key

    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".md", ".docx")
                   and not p.name.startswith((".", "~$")) and p.name.lower() != "readme.md"), key=natural_key)


def read_summaries(workspace) -> Summaries:
    """Read every template in summaries/ (Markdown and Word). Nothing is raised: problems are in
    ``errors`` (one per problem, naming file and line or paragraph); transcripts without a template
    are in ``missing``. All templates must use the same domains (guide or one framework)."""
    out = Summaries()
    known = [p.stem for p in workspace.transcript_paths()]
    sets: dict[str, DomainSet] = {}
    claimed: dict[str, Path] = {}
    for path in template_paths(workspace):
        sf = read_template(workspace, path, sets, known)
        if sf.transcript is not None:
            if sf.transcript in claimed:
                sf.errors.insert(0, SummaryError(f"a second template for {sf.transcript!r} (the first is "
                                                 f"{_rel(workspace, claimed[sf.transcript])}); keep one", path))
                sf.transcript = None
            else:
                claimed[sf.transcript] = path
        out.files.append(sf)
    used = [s for s in {f.source for f in out.files if f.transcript} if s]
    if len(used) > 1:
        first = used[0]
        for f in out.files:
            if f.transcript and f.source != first:
                f.errors.append(SummaryError(f"this template uses {f.source} domains but others use {first}; "
                                             "use one set of domains for all templates", f.path))
    if used:
        out.domains = sets.get(used[0])
    else:
        try:
            out.domains = load_domains(workspace, None)
        except QualkitError:
            out.domains = None
    present = {p.stem for p in template_paths(workspace)}
    out.missing = [t for t in known if t not in claimed and t not in present]
    return out


def collect_summaries(workspace, errors: str = "raise"):
    """The analyst's bullets from every filled template, as a DataFrame with one row per bullet:
    transcript, session, participant (interview: the participant id; focus group: the group),
    participants, domain, domain_label, bullet, analyst, file, line.

    ``errors="raise"`` (default) raises the first template problem (after reading them all);
    ``"ignore"`` returns what could be read. ``df.attrs`` holds ``empty_domains`` (transcript ->
    labels), ``missing`` (transcripts with no template) and ``errors`` (one line each).
    """
    s = read_summaries(workspace)
    if errors == "raise" and s.errors:
        first = s.errors[0]
        more = f" (and {len(s.errors) - 1} more problem(s): `qualkit summaries collect` lists them)" if len(s.errors) > 1 else ""
        raise SummaryError(first.message + more, first.path, first.line)
    df = s.frame(workspace)
    df.attrs["empty_domains"] = {f.transcript: f.empty_domains() for f in s.files if f.transcript}
    df.attrs["missing"] = list(s.missing)
    df.attrs["errors"] = [_err_text(workspace, e) for e in s.errors]
    return df
