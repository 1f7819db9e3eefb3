"""Rapid analysis matrices: rows are participants or transcripts, columns are domains.

Cells hold the analyst's summary bullets from the filled templates in summaries/ (``cells="summary"``)
or, with ``cells="quotes"``, the coded excerpts that fall in each domain, each attributed with the
participant id and role, e.g. ``“...” (FG1-P3, medical)``. Rows can be grouped by a participant
attribute (``role``, ``site``, ...): Gale et al. (2019) chart one matrix per participant type,
Abraham et al. one per site (methods.md §4.3).

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
    read_summaries,
    session_info,
    template_quote,
    transcript_excerpts,
)
from qualkit.errors import RapidError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["CELLS", "MIXED", "ROWS", "RapidError", "rapid_matrix"]

ROWS = ("participant", "transcript")
CELLS = ("summary", "quotes")
MIXED = "mixed"  # a focus group whose members differ in the grouping attribute
BULLET = "• "


def _check_group(workspace: Workspace, group_by: str | None) -> None:
    if group_by is None:
        return
    attrs = workspace.participant_table.attribute_columns
    if group_by not in attrs:
        import difflib

        close = difflib.get_close_matches(group_by, attrs, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RapidError(f"cannot group by {group_by!r}: participants.csv has no such column{hint} "
                         f"(columns: {', '.join(attrs) or 'none'})")


def _group_value(workspace: Workspace, pids: list[str], group_by: str) -> str:
    values = {workspace.participant_table.attributes(p).get(group_by, "") for p in pids}
    if len(values) == 1:
        return values.pop() or "(none)"
    return MIXED if len(pids) > 1 else "(none)"


def _named(text: str, pids: list[str]) -> list[str]:
    """Participant ids of the session named in a bullet (whole ids only: FG1-P1 is not FG1-P10)."""
    return [p for p in pids if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text, re.I)]


Content = dict[tuple[str, "str | None"], dict[str, list[str]]]   # (transcript, row participant) -> domain -> lines


def _summary_content(workspace: Workspace, rows: str, sessions: dict[str, Session], warnings: list[str],
                     notes: list[str]) -> tuple[DomainSet, Content]:
    """The analyst's bullets per row and domain; a focus group's bullet goes to the participants it names."""
    summaries = read_summaries(workspace)
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
                        content.setdefault((tid, pid), {}).setdefault(d.domain, []).append(line)
                else:
                    key = (tid, s.participants[0] if rows == "participant" and s.participants else None)
                    content.setdefault(key, {}).setdefault(d.domain, []).append(line)
    notes.append(f"Cells: the analyst's summary bullets from summaries/ ({dset.source} domains); blank: not summarised.")
    if rows == "participant":
        notes.append("Focus groups: bullets naming a participant (e.g. (FG1-P3)) are on that participant's row; "
                     "the others are on one row for the group, not copied to each member.")
    return dset, content


def _quote_content(workspace: Workspace, transcripts: list[Any], rows: str, domains: str | None, coder: str | None,
                   max_chars: int | None, warnings: list[str], notes: list[str]) -> tuple[DomainSet, Content]:
    """The coded excerpts per row and domain, each attributed with the participant id and role."""
    dset = load_domains(workspace, domains)
    source = load_codings(workspace, coder)
    warnings += dset.warnings + source.warnings
    content: Content = {}
    for t in transcripts:
        for did, items in transcript_excerpts(workspace, t, source.codings_of(t.id), dset).items():
            for ex in items:
                key = (t.id, (ex.participant or ex.speaker) if rows == "participant" else None)
                content.setdefault(key, {}).setdefault(did, []).append(template_quote(ex, max_chars))
    notes.append(f"Cells: coded excerpts ({source.description}) by {dset.source} domain, each with the "
                 "participant id and role; excerpts are trimmed at a word boundary (…).")
    return dset, content


def _row_keys(t: Any, s: Session, rows: str, cells: str, content: Content) -> list[tuple[str, str | None]]:
    if rows == "transcript":
        return [(t.id, None)]
    if cells == "summary" and s.kind == "focus group":
        return [(t.id, None)] + [(t.id, p) for p in s.participants if (t.id, p) in content]
    keys: list[tuple[str, str | None]] = [(t.id, p) for p in s.participants]
    keys += [k for k in content if k[0] == t.id and k[1] not in s.participants and k not in keys]
    return keys


def _records(workspace: Workspace, transcripts: list[Any], sessions: dict[str, Session], rows: str, cells: str,
             group_by: str | None, include_empty: bool, dset: DomainSet, labels: list[str], content: Content,
             with_role: bool) -> list[dict[str, Any]]:
    """One record per row: the row's keys, then one cell per domain."""
    table = workspace.participant_table
    records: list[dict[str, Any]] = []
    for t in transcripts:
        s = sessions[t.id]
        for key in _row_keys(t, s, rows, cells, content):
            pid = key[1]
            cell = content.get(key, {})
            if not include_empty and not cell:
                continue
            rec: dict[str, Any] = {}
            members = s.participants if pid is None else [pid]
            if group_by:
                rec[group_by] = _group_value(workspace, members, group_by)
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


def rapid_matrix(workspace: Workspace, rows: str = "participant", cells: str = "summary", group_by: str | None = None,
                 domains: str | None = None, coder: str | None = "consensus",
                 max_chars: int | None = MAX_EXCERPT_CHARS, include_empty: bool = True) -> Any:
    """The rapid analysis matrix as a DataFrame: ``[group_by,] row keys, one column per domain``.

    ``rows``: ``participant`` or ``transcript``. ``cells``: ``summary`` (the analyst's bullets, one
    per line, from summaries/; every template must be well formed) or ``quotes`` (coded excerpts of
    ``coder``, default consensus, else the pooled coders). ``domains`` applies to quotes (default:
    the interview guide, else the workspace's framework); summaries use the domains their templates
    were made with. ``include_empty=False`` drops rows with no content. ``df.attrs["notes"]`` says
    how the matrix was built (focus-group mapping, sources); ``df.attrs["warnings"]`` lists gaps.
    """
    import pandas as pd

    if rows not in ROWS:
        raise RapidError(f"rows must be one of {', '.join(ROWS)}, not {rows!r}")
    if cells not in CELLS:
        raise RapidError(f"cells must be one of {', '.join(CELLS)}, not {cells!r}")
    _check_group(workspace, group_by)
    result = workspace.ingest()
    if result.errors:
        raise result.errors[0]
    transcripts = result.transcripts
    paths = {r.id: r.path for r in result.rows}
    sessions = {t.id: session_info(workspace, t, paths.get(t.id)) for t in transcripts}
    warnings: list[str] = []
    notes: list[str] = []
    if cells == "summary":
        dset, content = _summary_content(workspace, rows, sessions, warnings, notes)
    else:
        dset, content = _quote_content(workspace, transcripts, rows, domains, coder, max_chars, warnings, notes)
    with_role = rows == "participant" and "role" in workspace.participant_table.attribute_columns and group_by != "role"
    labels = [d.label for d in dset.domains]
    if len(set(labels)) != len(labels):
        labels = [f"{d.label} ({d.id})" for d in dset.domains]
    records = _records(workspace, transcripts, sessions, rows, cells, group_by, include_empty, dset, labels, content,
                       with_role)
    if group_by:
        from qualkit.io.naming import natural_key

        # stable: within a group, transcripts keep their natural order
        records.sort(key=lambda r: (r[group_by] == MIXED, r[group_by] == "(none)", natural_key(r[group_by])))
        notes.append(f"Rows grouped by {group_by}; a focus group row whose members differ in {group_by} is '{MIXED}'.")
    keys = ([group_by] if group_by else []) + (["participant", "role", "transcript", "session"] if rows == "participant"
                                               else ["transcript", "session", "participants"])
    if rows == "participant" and not with_role:
        keys.remove("role")
    df = pd.DataFrame.from_records(records, columns=keys + labels)
    df.attrs["notes"] = " ".join(notes)
    df.attrs["warnings"] = warnings
    df.attrs["domains"] = dset.source
    return df
