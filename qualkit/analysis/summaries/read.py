"""Reading filled summary templates back: the analyst's bullets per domain, and every problem found.

Only the analyst's bullets are read back; the pre-filled excerpts never are. A malformed template
(no or unknown ``Transcript:``, an unknown, duplicate or missing domain heading) is reported with
its file and line (Markdown) or paragraph (Word).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.summaries.guide import DomainSet, default_source, load_domains
from qualkit.analysis.summaries.sessions import Session, session_info, summaries_dir
from qualkit.errors import QualkitError, SummaryError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["Bullet", "DomainSummary", "Summaries", "SummaryFile", "collect_summaries", "error_text", "has_bullets", "kept_summaries",
           "read_summaries", "read_template", "template_paths"]

_BULLET_RE = re.compile(r"^(\s*)(?:[-*+•]|\d+[.)])(?:\s+|$)(.*)$")
_SUMMARY_RE = re.compile(r"^\s*(?:#{3,6}\s*)?(?:\*\*|__)?\s*summary\s*:?\s*(?:\*\*|__)?\s*:?\s*$", re.I)
# qualkit's own lines inside a domain section: never the analyst's
_PREFILLED_RE = re.compile(r"^\W*(?:guide question|definition)\s*:|^coded excerpts \(a starting point|"
                           r"^no coded excerpts fall in this domain", re.I)
_HR_RE = re.compile(r"^[-*_=\s]{3,}$")
_HEADER_RE = re.compile(r"^\s*(?:[-*+•]\s*)?(?:\*\*)?([A-Za-z][A-Za-z ]*?)(?:\*\*)?\s*:(?:\*\*)?\s*(.*?)\s*$")


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

    def frame(self, workspace: Workspace | None = None) -> Any:
        """One row per bullet: transcript, session, participant (interview) or group (focus
        group), participants, domain, domain_label, bullet, file, line."""
        import pandas as pd

        sessions = _sessions(workspace) if workspace is not None else {}
        rows = []
        for f in self.files:
            if _fatal(f):
                continue
            s = sessions.get(f.transcript or "")
            shown = _rel(workspace, f.path)  # once per file, not per bullet (it resolves the path)
            for d in f.domains:
                for b in d.bullets:
                    rows.append({"transcript": f.transcript, "session": s.kind if s else "",
                                 "participant": s.name if s else "",
                                 "participants": ", ".join(s.participants) if s else "",
                                 "domain": d.domain, "domain_label": d.label, "bullet": b.text,
                                 "analyst": f.analyst, "file": shown, "line": b.line})
        cols = ["transcript", "session", "participant", "participants", "domain", "domain_label", "bullet",
                "analyst", "file", "line"]
        return pd.DataFrame(rows, columns=cols)

    def as_dict(self, workspace: Workspace | None = None) -> dict:
        return {"domains": self.domains.source if self.domains else None,
                "templates": [{"transcript": f.transcript, "file": _rel(workspace, f.path), "analyst": f.analyst,
                               "bullets": sum(len(d.bullets) for d in f.domains),
                               "filled_domains": [d.label for d in f.domains if d.bullets],
                               "empty_domains": f.empty_domains(), "errors": [str(e) for e in f.errors]}
                              for f in self.files],
                "missing": list(self.missing), "errors": [error_text(workspace, e) for e in self.errors],
                "bullets": self.frame(workspace).to_dict("records")}


def _fatal(f: SummaryFile) -> bool:
    """A file whose transcript could not be established contributes nothing."""
    return f.transcript is None


def _rel(workspace: Workspace | None, path: Path) -> str:
    return str(path) if workspace is None else workspace.rel(path)


def error_text(workspace: Workspace | None, e: QualkitError) -> str:
    """A problem as one line, its file relative to the workspace: 'summaries/int1.md:12: message'."""
    where = _rel(workspace, e.path) if e.path is not None else ""
    if e.line is not None:
        where += f":{e.line}"
    return f"{where}: {e.message}" if where else e.message


def _sessions(workspace: Workspace) -> dict[str, Session]:
    """Who took part in each transcript (not word counts), taken as each is read: the study's text is
    not held all at once (~250 MB at 5,000 interviews)."""
    from qualkit.workspace.ingest import ingest

    out: dict[str, Session] = {}
    ingest(workspace, summarize=False, visit=lambda t: out.__setitem__(t.id, session_info(workspace, t, t.path)))
    return out


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

    from qualkit.io.safezip import SafeZip

    # The archive checks every zip-based reader makes (size, ratio, members, names) before parsing.
    SafeZip(path, kind="a Word .docx file", label="the .docx archive", error_cls=SummaryError).close()
    from qualkit.render.docx_styles import ParagraphStyles

    doc = docx.Document(str(path))
    styles = ParagraphStyles(doc)  # p.style scans every style of the document, per paragraph
    out: list[_Block] = []
    for n, p in enumerate(doc.paragraphs, start=1):
        text = p.text.strip()
        style = (styles.name(p) or "").lower()
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


def _read_blocks(sf: SummaryFile) -> list[_Block] | None:
    """The template's blocks, or None (with the error recorded) when the file cannot be read."""
    try:
        if sf.is_docx:
            from qualkit.io.collector import collected_after

            with collected_after():  # the Document's cycles freed now, also under a paused collector
                return _docx_blocks(sf.path)
        return _md_blocks(sf.path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        sf.errors.append(SummaryError(f"not UTF-8 text (byte {exc.start})", sf.path))
    except SummaryError as exc:
        sf.errors.append(exc)
    except Exception as exc:  # noqa: BLE001 - a damaged .docx
        sf.errors.append(SummaryError(f"cannot be read as a Word document ({type(exc).__name__})", sf.path))
    return None


def _header_fields(blocks: list[_Block]) -> dict[str, tuple[str, int]]:
    """'Key: value' lines above the first domain heading: lower-cased key -> (value, line)."""
    fields: dict[str, tuple[str, int]] = {}
    for b in blocks:
        if b.kind == "heading":
            break
        if b.kind in ("bullet", "text"):
            m = _HEADER_RE.match(b.text)
            if m and m.group(1).strip().lower() not in fields:
                fields[m.group(1).strip().lower()] = (m.group(2).strip(), b.number)
    return fields


_Err = Callable[[str, "int | None"], None]


def _read_header(workspace: Workspace, sf: SummaryFile, blocks: list[_Block], known: Iterable[str] | None,
                 domain_sets: dict[str, DomainSet | None], err: _Err) -> DomainSet | None:
    """The transcript, analyst and domain source named in the header; the domains, or None on a problem."""
    fields = _header_fields(blocks)
    known_ids = sorted(known) if known is not None else [p.stem for p in workspace.transcript_paths()]
    if "transcript" not in fields:
        err("no 'Transcript:' line in the header (before the first domain heading), so the transcript is unknown; "
            "qualkit templates start with '- Transcript: <id>'", 1 if blocks else None)
        return None
    tid, tline = fields["transcript"]
    tid = tid.strip().strip("`*").strip()
    if tid not in known_ids:
        close = difflib.get_close_matches(tid, known_ids, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known_ids[:12]) or 'none'})"
        err(f"transcript {tid!r} in the header is not in transcripts/{hint}", tline)
        return None
    sf.transcript = tid
    sf.analyst = fields.get("analyst", ("", 0))[0]
    src_text, src_line = fields.get("domains", ("", None))
    src = src_text.split()[0] if src_text.split() else default_source(workspace)
    sf.source = src
    if src not in domain_sets:
        try:
            domain_sets[src] = load_domains(workspace, src)
        except QualkitError as exc:
            domain_sets[src] = None
            err(f"domains {src!r} named in the header cannot be loaded: {exc}", src_line)
            return None
    if domain_sets[src] is None:
        err(f"domains {src!r} named in the header cannot be loaded", src_line)
    return domain_sets[src]


def _heading(b: _Block, dset: DomainSet, where: str, unit: str, found: dict[str, DomainSummary], renamed: set[str],
             err: _Err) -> DomainSummary | None:
    """The domain a heading opens, or None (an unknown or repeated heading, reported)."""
    d = dset.get(b.text)
    if d is None:
        close = difflib.get_close_matches(b.text, dset.labels(), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f" (domains: {', '.join(dset.labels())})"
        if close:
            renamed.add(dset.get(close[0]).id)  # type: ignore[union-attr]
        err(f"domain heading {b.text!r} is not in {where}{hint}", b.number)
        return None
    if d.id in found:
        err(f"domain heading {b.text!r} appears twice (first at {unit} {found[d.id].line})", b.number)
        return None
    found[d.id] = DomainSummary(d.id, d.label, b.number)
    return found[d.id]


def _sections(blocks: list[_Block], dset: DomainSet, where: str, unit: str,
              err: _Err) -> tuple[dict[str, DomainSummary], set[str]]:
    """Each domain's analyst bullets, and the domains whose heading was mistyped (reported once, as unknown)."""
    found: dict[str, DomainSummary] = {}
    renamed: set[str] = set()
    current: DomainSummary | None = None
    in_summary = False
    for b in blocks:
        if b.kind == "heading":
            in_summary = False
            current = _heading(b, dset, where, unit, found, renamed, err)
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
    return found, renamed


def _missing_headings(dset: DomainSet, found: dict[str, DomainSummary], renamed: set[str], where: str,
                      docx_file: bool, blocks: list[_Block], err: _Err) -> None:
    order = [d.id for d in dset.domains]
    for i, d in enumerate(dset.domains):
        if d.id not in found and d.id not in renamed:
            nxt = next((found[x] for x in order[i + 1:] if x in found), None)
            after = nxt.line if nxt is not None else None
            place = f" (expected before {nxt.label!r})" if nxt is not None else " (expected at the end)"
            heading = f"'## {d.label}'" if not docx_file else f"{d.label!r} (Heading 2)"
            err(f"missing the domain heading {heading} of {where}{place}",
                after if after is not None else (blocks[-1].number if blocks else None))


def read_template(workspace: Workspace, path: str | Path, domain_sets: dict[str, DomainSet | None] | None = None,
                  known: Iterable[str] | None = None) -> SummaryFile:
    """Read one template: its transcript, domain source, and each domain's analyst bullets.

    Problems (no or unknown ``Transcript:``, an unknown, duplicate or missing domain heading) are
    collected in ``errors``, each naming the file and the line (Markdown) or paragraph (Word).
    """
    path = Path(path)
    sf = SummaryFile(path)
    docx_file = sf.is_docx
    unit = "paragraph" if docx_file else "line"

    def err(message: str, number: int | None) -> None:
        if docx_file and number is not None:
            sf.errors.append(SummaryError(f"paragraph {number}: {message}", path))
        else:
            sf.errors.append(SummaryError(message, path, number))

    blocks = _read_blocks(sf)
    if blocks is None:
        return sf
    dset = _read_header(workspace, sf, blocks, known, domain_sets if domain_sets is not None else {}, err)
    if dset is None:
        return sf
    src = sf.source or ""
    where = "the interview guide in qualkit.yaml" if src == "guide" else f"{src}'s domains"
    first_heading = next((i for i, b in enumerate(blocks) if b.kind == "heading"), len(blocks))
    found, renamed = _sections(blocks[first_heading:], dset, where, unit, err)
    _missing_headings(dset, found, renamed, where, docx_file, blocks, err)
    sf.domains = [found[d.id] for d in dset.domains if d.id in found]
    return sf

def template_paths(workspace: Workspace) -> list[Path]:
    """The templates in summaries/ (Markdown and Word), in natural order."""
    folder = summaries_dir(workspace)
    if not folder.is_dir():
        return []
    from qualkit.io.naming import natural_key

    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".md", ".docx")
                   and not p.name.startswith((".", "~$")) and p.name.lower() != "readme.md"), key=natural_key)


def read_summaries(workspace: Workspace) -> Summaries:
    """Read every template in summaries/ (Markdown and Word). Nothing is raised: problems are in
    ``errors`` (one per problem, naming file and line or paragraph); transcripts without a template
    are in ``missing``. All templates must use the same domains (guide or one framework)."""
    out = Summaries()
    known = [p.stem for p in workspace.transcript_paths()]
    sets: dict[str, DomainSet | None] = {}
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


def _folder_state(folder: Path) -> tuple:
    """(name, mtime, size) of each file directly in ``folder`` (empty when it is missing)."""
    import os

    try:
        return tuple(sorted((e.name, st.st_mtime_ns, st.st_size) for e in os.scandir(folder) for st in (e.stat(),)))
    except OSError:
        return ()


def kept_summaries(workspace: Workspace) -> Summaries:
    """:func:`read_summaries`, read once while summaries/ (and the workspace's inputs and frameworks/)
    are unchanged: `export all` and `run` check for bullets and build two rapid matrices from them, the
    report a third (shared: not to be modified)."""
    from qualkit.analysis.summaries.sessions import summaries_dir

    key = ("summaries", _folder_state(summaries_dir(workspace)), _folder_state(workspace.root / "frameworks"))
    return workspace.derived(key, lambda: read_summaries(workspace))


def collect_summaries(workspace: Workspace, errors: str = "raise") -> Any:
    """The analyst's bullets from every filled template, as a DataFrame with one row per bullet:
    transcript, session, participant (interview: the participant id; focus group: the group),
    participants, domain, domain_label, bullet, analyst, file, line.

    ``errors="raise"`` (default) raises the first template problem (after reading them all);
    ``"ignore"`` returns what could be read. ``df.attrs`` holds ``empty_domains`` (transcript ->
    labels), ``missing`` (transcripts with no template) and ``errors`` (one line each).
    """
    s = _checked(workspace, errors)
    df = s.frame(workspace)
    df.attrs["empty_domains"] = {f.transcript: f.empty_domains() for f in s.files if f.transcript}
    df.attrs["missing"] = list(s.missing)
    df.attrs["errors"] = [error_text(workspace, e) for e in s.errors]
    return df


def _checked(workspace: Workspace, errors: str) -> Summaries:
    s = kept_summaries(workspace)
    if errors == "raise" and s.errors:
        first = s.errors[0]
        more = f" (and {len(s.errors) - 1} more problem{plural_s(len(s.errors) - 1)}: `qualkit summaries collect` lists them)" if len(s.errors) > 1 else ""
        raise SummaryError(first.message + more, first.path, first.line)
    return s


def has_bullets(workspace: Workspace, errors: str = "raise") -> bool:
    """Whether :func:`collect_summaries` has a row, raising as it does, without making its frame (a row
    per bullet, and every transcript read again for who took part): what `export all` checks."""
    return any(d.bullets for f in _checked(workspace, errors).files if not _fatal(f) for d in f.domains)
