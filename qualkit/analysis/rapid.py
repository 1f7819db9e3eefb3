"""Rapid analysis matrices: rows are participants or transcripts, columns are domains.

Cells hold the analyst's summary bullets from the filled templates in summaries/ (``cells="summary"``)
or, with ``cells="quotes"``, the coded excerpts that fall in each domain, each attributed with the
participant id and role, e.g. ``“...” (FG1-P3, medical)``. Rows can be grouped by a case attribute
(``by="role"``, ``"site"``, any column the codes matrix takes, documents.csv's and cases.csv's and
section headings included): Gale et al. (2019) chart one matrix per participant type, Abraham et al.
one per site (methods.md §4.3). A document with no speakers (site-visit notes) takes its own value,
and with ``cells="quotes"`` a document split into ``## Site:`` sections gives one row per section value.

Focus groups and ``rows="participant"``
---------------------------------------
A focus group's summary describes the group's discussion, so it is **not copied to each member**
(five identical rows would read as five voices agreeing). Instead:

* a bullet that names participants of the group (``(FG1-P3)``, ``FG1-P3 and FG1-P5: ...``) goes
  to those participants' rows, so an analyst who attributes points can compare roles across
  interviews and focus groups;
* every other bullet (and one naming every member) stays on **one row for the group** (``participant`` = the group label from
  participants.csv, e.g. ``FG1``, with the member ids in ``participants``). Its group-by value is
  the members' shared value (a single-site group keeps its site) or ``mixed``.

Focus-group members with no attributed bullet get no row of their own. With ``cells="quotes"``
every excerpt is attributable to one speaker, so each participant, focus-group members included,
has a row with their own excerpts. With ``rows="transcript"`` a focus group is one row with all
its bullets or excerpts.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from qualkit.analysis.sources import load_codings
from qualkit.analysis.summaries import (
    MAX_EXCERPT_CHARS,
    DomainSet,
    Session,
    SummaryError,
    load_domains,
    session_info,
    template_quote,
    transcript_excerpts,
)
from qualkit.errors import RapidError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["CELLS", "MIXED", "NO_EQUITY_ID", "ROWS", "RapidError", "rapid_matrix"]

ROWS = ("participant", "transcript")
CELLS = ("summary", "quotes")
MIXED = "mixed"  # a focus group whose members differ in the grouping attribute
NO_EQUITY_ID = "_no_equity_domain"
BULLET = "• "


def _check_group(workspace: Workspace, group_by: str | None) -> None:
    if group_by is None:
        return
    attrs = [*workspace.participant_table.attribute_columns, *workspace.case_columns()]
    if group_by not in attrs:
        import difflib

        close = difflib.get_close_matches(group_by, attrs, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RapidError(f"cannot group by {group_by!r}: no participants.csv, documents.csv or cases.csv column or "
                         f"section heading of that name{hint} (columns: {', '.join(dict.fromkeys(attrs)) or 'none'})")


def _document_value(workspace: Workspace, transcript: Any, group_by: str) -> str:
    """A transcript's own value (documents.csv, else its sections': one value, or mixed), '' if none."""
    values = {(workspace.attributes_at(transcript, turn) .get(group_by) or "").strip() for turn in transcript.turns}
    values |= {(workspace.attributes_at(transcript).get(group_by) or "").strip()}
    values.discard("")
    if not values:
        return ""
    return values.pop() if len(values) == 1 else MIXED


def _group_value(workspace: Workspace, transcript: Any, pids: list[str], group_by: str, section: str = "") -> str:
    """The row's value: its section's, else its participants' (a shared one, or mixed), else its document's."""
    if section:
        return section
    values = {(workspace.participant_table.attributes(p).get(group_by) or "").strip() for p in pids}
    values.discard("")
    if len(values) == 1:
        return values.pop()
    if len(values) > 1:
        return MIXED
    return _document_value(workspace, transcript, group_by) or "(none)"


def _named(text: str, pids: list[str]) -> list[str]:
    """Participant ids of the session named in a bullet (whole ids only: FG1-P1 is not FG1-P10)."""
    return [p for p in pids if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text, re.I)]


# (transcript, row participant, section value) -> domain -> lines; the section value is set only for
# passages with no participant in a document cut into sections by the grouping attribute
Content = dict[tuple[str, "str | None", str], dict[str, list[str]]]


def _read_summaries(workspace: Workspace) -> Any:
    """The templates in summaries/, read once while unchanged (:func:`~qualkit.analysis.summaries.read.kept_summaries`)."""
    from qualkit.analysis.summaries.read import kept_summaries

    return kept_summaries(workspace)


def _summary_content(workspace: Workspace, rows: str, sessions: dict[str, Session], warnings: list[str],
                     notes: list[str]) -> tuple[DomainSet, Content]:
    """The analyst's bullets per row and domain; a focus group's bullet goes to the participants it names."""
    summaries = _read_summaries(workspace)  # shared: read, never modified
    if summaries.errors:
        first = summaries.errors[0]
        more = f" (and {len(summaries.errors) - 1} more: see `qualkit summaries collect`)" if len(summaries.errors) > 1 else ""
        raise SummaryError(f"cannot build the matrix from malformed templates: {first.message}{more}", first.path, first.line)
    dset = summaries.domains
    if dset is None or not any(f.transcript for f in summaries.files):
        raise RapidError("no summary templates in summaries/ yet: make them with `qualkit summaries template`, "
                         "fill them in, or use --cells quotes")
    filled = summaries.by_transcript()
    if summaries.missing:
        warnings.append(f"no template for {len(summaries.missing)} transcript{plural_s(len(summaries.missing))}: {', '.join(summaries.missing)}")
    content: Content = {}
    for tid, sf in filled.items():
        s = sessions.get(tid)
        if s is None:
            continue
        for d in sf.domains:
            for b in d.bullets:
                line = BULLET + workspace.export_text(b.text)
                if rows == "participant" and s.kind == "focus group":
                    named: list[str | None] = list(_named(b.text, s.participants))
                    if len(named) == len(s.participants):
                        named = []  # about the whole group
                    for pid in named or [None]:
                        content.setdefault((tid, pid, ""), {}).setdefault(d.domain, []).append(line)
                else:
                    key = (tid, s.participants[0] if rows == "participant" and s.participants else None, "")
                    content.setdefault(key, {}).setdefault(d.domain, []).append(line)
    notes.append(f"Cells: the analyst's summary bullets from summaries/ ({dset.source} domains); blank: not summarised.")
    if rows == "participant":
        notes.append("Focus groups: bullets naming a participant (e.g. (FG1-P3)) are on that participant's row; "
                     "the others are on one row for the group, not copied to each member.")
    return dset, content


def _quote_content(workspace: Workspace, transcripts: list[Any], rows: str, domains: str | None, coder: str | None,
                   max_chars: int | None, warnings: list[str], notes: list[str],
                   group_by: str | None = None) -> tuple[DomainSet, Content]:
    """The coded excerpts per row and domain, each attributed with the participant id and role."""
    dset = load_domains(workspace, domains)
    source = load_codings(workspace, coder)
    warnings += dset.warnings + source.warnings
    content: Content = {}
    for t in transcripts:
        for did, items in transcript_excerpts(workspace, t, source.codings_of(t.id), dset).items():
            for ex in items:
                who = ex.participant or ex.speaker
                section = ""
                if group_by and not who and ex.turn is not None:
                    section = (workspace.attributes_at(t, t.turns[ex.turn]).get(group_by) or "").strip()
                key = (t.id, who if rows == "participant" else None, section)
                content.setdefault(key, {}).setdefault(did, []).append(template_quote(ex, max_chars))
    notes.append(f"Cells: coded excerpts ({source.description}) by {dset.source} domain, each with the "
                 "participant id and role; excerpts are trimmed at a word boundary (…).")
    return dset, content


def _row_keys(t: Any, s: Session, rows: str, cells: str, content: Content,
              own: list[tuple[str, str | None, str]]) -> list[tuple[str, str | None, str]]:
    """The transcript's rows; ``own`` is its keys in ``content``, in content order."""
    sections = [k for k in own if k[2]]   # a document's sections, one row each
    if rows == "transcript":
        whole = [] if sections and (t.id, None, "") not in content else [(t.id, None, "")]
        return whole + [k for k in sections if k[1] is None]
    if cells == "summary" and s.kind == "focus group":
        return [(t.id, None, "")] + [(t.id, p, "") for p in s.participants if (t.id, p, "") in content]
    keys: list[tuple[str, str | None, str]] = [(t.id, p, "") for p in s.participants]
    keys += [k for k in own if k[1] not in s.participants and k not in keys]
    return keys


def _records(workspace: Workspace, transcripts: list[Any], sessions: dict[str, Session], rows: str, cells: str,
             group_by: str | None, include_empty: bool, dset: DomainSet, labels: list[str], content: Content,
             with_role: bool) -> list[dict[str, Any]]:
    """One record per row: the row's keys, then one cell per domain."""
    table = workspace.participant_table
    records: list[dict[str, Any]] = []
    own: dict[str, list[tuple[str, str | None, str]]] = {}  # content's keys by transcript: one pass, not one per transcript
    for k in content:
        own.setdefault(k[0], []).append(k)
    for t in transcripts:
        s = sessions[t.id]
        for key in _row_keys(t, s, rows, cells, content, own.get(t.id, [])):
            pid = key[1]
            cell = content.get(key, {})
            if not include_empty and not cell:
                continue
            rec: dict[str, Any] = {}
            members = s.participants if pid is None else [pid]
            if group_by:
                rec[group_by] = _group_value(workspace, t, members, group_by, key[2])
            if rows == "participant":
                rec["participant"] = pid if pid is not None else s.name
                if with_role:
                    rec["role"] = table.attributes(pid).get("role", "") if pid else ", ".join(
                        sorted({table.attributes(p).get("role", "") for p in s.participants} - {""}))
                rec["transcript"] = t.id
                rec["session"] = s.kind if pid is None or s.kind == "interview" else f"{s.kind} {s.name}"
            else:
                rec["transcript"] = t.id
                rec["session"] = s.kind
                rec["participants"] = ", ".join(s.participants)
            for d, label in zip(dset.domains, labels):
                rec[label] = "\n".join(cell.get(d.id, []))
            records.append(rec)
    return records


def _equity_regroup(workspace: Workspace, dset: DomainSet, content: Content,
                    notes: list[str]) -> tuple[DomainSet, Content]:
    """The analyst's bullets under the health-equity domains their template domain's codes and refs lie in
    (a bullet under several when its domain spans them), each marked with the domain it was written under;
    bullets of domains in no equity domain go to a last column."""
    from qualkit.analysis.summaries import Domain, load_domains
    from qualkit.analysis.summaries.guide import equity_frameworks

    frameworks = workspace.frameworks()
    fid = workspace.config.framework or "heif"
    main = frameworks.get(fid.split("@")[0]) or frameworks.get(fid)
    if main is not None and not main.equity_domains():
        # --domains does not apply to summary cells: say what does
        others = equity_frameworks(frameworks)
        raise RapidError(f"--equity: the codebook's framework, {main.name} ({main.id}, `framework:` in qualkit.yaml), "
                         "marks no health-equity domains, so the summary bullets have none to go under. Frameworks "
                         f"that mark them: {', '.join(others) or 'none'}. Set `framework: {(others or ['heif'])[0]}` "
                         "in qualkit.yaml and map the codes onto its refs, or leave out --equity.")
    eq = load_domains(workspace, "equity")
    fw = workspace.frameworks().get(eq.source.split(":", 1)[1])
    targets: dict[str, list[str]] = {d.id: [] for d in dset.domains}
    for code, ds in dset.code_domains.items():
        for did in ds:
            targets.setdefault(did, []).extend(e for e in eq.code_domains.get(code, []) if e not in targets[did])
    for d in dset.domains:
        for item in d.items:
            dom = fw.equity_domain_of(item) if fw is not None and item.framework == fw.id else None
            if dom is not None and dom.id not in targets[d.id]:
                targets[d.id].append(dom.id)
    other = Domain(NO_EQUITY_ID, "Not in an equity domain")
    regrouped: Content = {}
    for key, cells in content.items():
        for did, lines in cells.items():
            known = dset.get(did)
            label = known.label if known is not None else did
            for eid in targets.get(did) or [other.id]:
                regrouped.setdefault(key, {}).setdefault(eid, []).extend(
                    f"{BULLET}[{label}] {ln.removeprefix(BULLET)}" for ln in lines)
    notes.append(f"Columns: the health-equity domains of {eq.description}; each bullet goes under the equity domains "
                 "its template domain's codes or framework refs lie in, marked with that domain ([...]).")
    return DomainSet(eq.source, [*eq.domains, other], eq.description, eq.code_domains, eq.warnings), regrouped


def _labels(dset: DomainSet, notes: list[str]) -> list[str]:
    """Column labels; a framework item (equity or framework domains) not verified in its source gets
    † and the footnote other framework tables give it."""
    from qualkit.analysis.matrices.equity import UNVERIFIED_MARK, unverified_footnote

    of_framework = dset.source.startswith(("equity:", "framework"))
    items = [d.items[0] for d in dset.domains if of_framework and len(d.items) == 1]
    unverified = {id(i) for i in items if not i.verified}
    labels = [d.label + (UNVERIFIED_MARK if of_framework and len(d.items) == 1 and id(d.items[0]) in unverified else "")
              for d in dset.domains]
    if len(set(labels)) != len(labels):
        labels = [f"{label} ({d.id})" for label, d in zip(labels, dset.domains)]
    foot = unverified_footnote(items)
    if foot:
        notes.append(foot)
    return labels


def rapid_matrix(workspace: Workspace, rows: str = "participant", cells: str = "summary", by: str | None = None,
                 domains: str | None = None, coder: str | None = "consensus",
                 max_chars: int | None = MAX_EXCERPT_CHARS, include_empty: bool = True, *,
                 group_by: str | None = None, equity: bool = False) -> Any:
    """The rapid analysis matrix as a DataFrame: ``[by,] row keys, one column per domain``.

    ``rows``: ``participant`` or ``transcript``. ``cells``: ``summary`` (the analyst's bullets, one
    per line, from summaries/; every template must be well formed) or ``quotes`` (coded excerpts of
    ``coder``, default consensus, else the pooled coders). ``by`` groups the rows by a case attribute
    as the codes matrix cuts by one (role, site, source_type, ...; ``group_by`` is its old name).
    ``domains`` applies to quotes (default: the interview guide, else the workspace's framework;
    ``"equity"``: its health-equity domains); summaries use the domains their templates were made
    with, or, with ``equity=True``, are regrouped under the health-equity domains (HEIF 2021).
    ``include_empty=False`` drops rows with no content. ``df.attrs["notes"]`` says how the matrix was
    built (focus-group mapping, sources); ``df.attrs["warnings"]`` lists gaps.
    """
    import pandas as pd

    if group_by is not None and by is not None and group_by != by:
        raise RapidError(f"by={by!r} and group_by={group_by!r}: give one (group_by is by's old name)")
    by = by or group_by
    if rows not in ROWS:
        raise RapidError(f"rows must be one of {', '.join(ROWS)}, not {rows!r}")
    if cells not in CELLS:
        raise RapidError(f"cells must be one of {', '.join(CELLS)}, not {cells!r}")
    _check_group(workspace, by)
    from dataclasses import replace

    from qualkit.workspace.ingest import ingest

    read: dict[str, Any] = {}
    # summary cells need only each transcript's session facts: taken as it is read, the transcript is then
    # held by reference (the study's text is not kept: ~250 MB at 5,000 interviews); quotes read the turns
    visit = (lambda t: read.__setitem__(t.id, session_info(workspace, t))) if cells == "summary" else None
    result = ingest(workspace, visit=visit)
    if result.errors:
        raise result.errors[0]
    transcripts = result.transcripts
    paths = {r.id: r.path for r in result.rows}
    sessions = {t.id: replace(read[t.id], path=paths.get(t.id)) if visit else session_info(workspace, t, paths.get(t.id))
                for t in transcripts}
    warnings: list[str] = []
    notes: list[str] = []
    if cells == "summary":
        dset, content = _summary_content(workspace, rows, sessions, warnings, notes)
        if equity:
            dset, content = _equity_regroup(workspace, dset, content, notes)
    else:
        if equity and domains not in (None, "equity") and not str(domains).startswith("equity:"):
            raise RapidError(f"equity=True groups the excerpts by health-equity domain: leave domains out, not {domains!r}")
        dset, content = _quote_content(workspace, transcripts, rows, "equity" if equity and not domains else domains,
                                       coder, max_chars, warnings, notes, by)
    with_role = rows == "participant" and "role" in workspace.participant_table.attribute_columns and by != "role"
    labels = _labels(dset, notes)
    records = _records(workspace, transcripts, sessions, rows, cells, by, include_empty, dset, labels, content,
                       with_role)
    if by:
        from qualkit.io.naming import natural_key

        # stable: within a group, transcripts keep their natural order
        records.sort(key=lambda r: (r[by] == MIXED, r[by] == "(none)", natural_key(r[by])))
        notes.append(f"Rows grouped by {by}; a row whose participants differ in {by} is '{MIXED}'.")
    keys = ([by] if by else []) + (["participant", "role", "transcript", "session"] if rows == "participant"
                                   else ["transcript", "session", "participants"])
    if rows == "participant" and not with_role:
        keys.remove("role")
    df = pd.DataFrame.from_records(records, columns=keys + labels)
    df.attrs["notes"] = " ".join(notes)
    df.attrs["warnings"] = warnings
    df.attrs["domains"] = dset.source
    return df
