"""Cases and variables of a REFI-QDA project as rows of participants.csv (see :mod:`.qdpx_import`)."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from qualkit.errors import RefiQdaError
from qualkit.io.naming import plural_s
from qualkit.refiqda.archive import child, child_text, children, localname, norm_guid
from qualkit.refiqda.names import transcript_id, unique_name

__all__ = ["read_cases"]

_SPEAKER_LINE = re.compile(r'^Speaker: (".*") in (every transcript|transcript (".*"))$')
_RESERVED_COLUMNS = ("transcript", "speaker", "participant_id")


def read_cases(root: Any, data: Any, source_ids: dict[str, str], all_sources: set[str],
                selection_source: dict[str, str], err: Callable[..., RefiQdaError]) -> None:
    """Fill ``data`` (a :class:`~.qdpx_read.ProjectData`) with participant rows from the project's cases."""
    warn, lost = data.warnings.append, data.not_carried.append
    variables: dict[str, str] = {}  # guid -> column
    columns: list[str] = []
    taken = {c for c in _RESERVED_COLUMNS}
    vars_el = child(root, "Variables")
    for v in children(vars_el, "Variable") if vars_el is not None else []:
        name = " ".join((v.get("name") or "").split()) or "variable"
        col = name
        if col.casefold() in {t.casefold() for t in taken}:
            col = unique_name(f"var_{name}", {t.casefold() for t in taken})
            warn(f"variable {name!r} is column {col!r} of participants.csv")
        taken.add(col)
        variables[norm_guid(v.get("guid"))] = col
        columns.append(col)
    data.counts["variables"] = len(columns)
    cases_el = child(root, "Cases")
    cases = children(cases_el, "Case") if cases_el is not None else []
    data.counts["cases"] = len(cases)
    if not cases:
        return
    data.participant_columns = [*_RESERVED_COLUMNS, *columns]
    speakers_cache: dict[str, list[str]] = {}
    taken_ids: set[str] = set()
    case_codes = 0
    for case in cases:
        guid = norm_guid(case.get("guid"))
        pid = unique_name(" ".join((case.get("name") or "").split()) or f"case_{guid[:8]}", taken_ids)
        values = {c: "" for c in columns}
        for vv in children(case, "VariableValue"):
            ref = child(vv, "VariableRef")
            column = variables.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
            if column is None:
                warn(f"case {pid!r}: a value of an unknown variable; left out")
                continue
            value_el = next((c for c in children(vv) if localname(c) != "VariableRef"), None)
            if value_el is not None and not values[column]:
                values[column] = (value_el.text or "").strip()
        case_codes += len(children(case, "CodeRef"))
        rows: list[tuple[str, str]] = []
        for line in child_text(case, "Description").split("\n"):
            m = _SPEAKER_LINE.match(line.strip())
            if not m:
                continue
            try:
                label = json.loads(m.group(1))
                tid = json.loads(m.group(3)) if m.group(3) else ""
            except ValueError:
                continue
            if tid:
                tid = _transcript_for(tid, data.transcripts)
            rows.append((tid, label))
        if not rows:
            sources: list[str] = []
            for r in children(case, "SourceRef"):
                sg = norm_guid(r.get("targetGUID"))
                if sg not in all_sources:
                    raise err(f"case {pid!r} refers to source {r.get('targetGUID')!r}, which is not in the project", r)
                if sg in source_ids and source_ids[sg] not in sources:
                    sources.append(source_ids[sg])
            for r in children(case, "SelectionRef"):
                sel_source = selection_source.get(norm_guid(r.get("targetGUID")))
                if sel_source is None:
                    warn(f"case {pid!r} refers to selection {r.get('targetGUID')!r}, which is not in the project")
                elif sel_source in source_ids and source_ids[sel_source] not in sources:
                    sources.append(source_ids[sel_source])
            for tid in sources:
                rows.append((tid, _speaker_for(pid, tid, data.transcripts, speakers_cache)))
            if not rows:
                rows.append(("", pid))
        for tid, label in rows:
            data.participant_rows.append({"transcript": tid, "speaker": label, "participant_id": pid, **values})
    if case_codes:
        lost(f"{case_codes} code{plural_s(case_codes)} applied to cases (case classification)")


def _transcript_for(old_id: str, transcripts: dict[str, str]) -> str:
    """A transcript id written in a case description, as it was renamed on import (if it was)."""
    if old_id in transcripts:
        return old_id
    new = transcript_id(old_id)
    return new if new in transcripts else old_id


def _speaker_for(case_name: str, tid: str, transcripts: dict[str, str], cache: dict[str, list[str]]) -> str:
    """The transcript's speaker label that names this case, else the case name itself."""
    if tid not in cache:
        from qualkit.transcripts.speakers import segment

        turns, _ = segment(transcripts[tid])
        cache[tid] = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    key = " ".join(case_name.split()).casefold()
    for label in cache[tid]:
        if " ".join(label.split()).casefold() == key:
            return label
    return case_name
