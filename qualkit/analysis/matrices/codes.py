"""Codes × cases: the Framework Method's chart.

Cases (``by``) are participants, transcripts, or the values of any participants.csv column such as
role or site; ``transpose=True`` puts cases in rows, as Gale et al. (2013) chart them.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.cells import cell, cells_note, counts_text, distinct
from qualkit.analysis.matrices.common import (
    NOT_SET,
    UNIDENTIFIED,
    MatrixError,
    MatrixResult,
    code_order,
    level_mapper,
)
from qualkit.analysis.quotes import quote_rule
from qualkit.analysis.sources import Excerpt, ExcerptSet
from qualkit.io.naming import file_stem, plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["codes_matrix"]


def _cases(workspace: Workspace, ex: ExcerptSet, by: str) -> tuple[list[str], Callable[[Excerpt], set[str]]]:
    """Case labels in order and a function excerpt -> the cases it belongs to."""
    table = workspace.participant_table
    if by == "transcript":
        return list(ex.transcripts), lambda e: {e.transcript}
    people = [p for tid in ex.transcripts for p in ex.participants[tid]]
    people = list(dict.fromkeys(people))
    unidentified = any(not (e.participants or e.participant) for e in ex.excerpts)

    def who(e: Excerpt) -> tuple:
        return e.participants or ((e.participant,) if e.participant else ())

    if by == "participant":
        cases = people + ([UNIDENTIFIED] if unidentified else [])
        return cases, lambda e: set(who(e)) or {UNIDENTIFIED}
    columns = table.attribute_columns
    extra = [c for c in workspace.case_columns() if c not in columns]
    if by not in columns and by not in extra:
        choices = ["participant", "transcript", *columns, *extra]
        close = difflib.get_close_matches(by, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise MatrixError(f"cannot break down by {by!r}: use participant, transcript, a participants.csv column "
                          f"({', '.join(columns) or 'none'}) or a documents.csv/cases.csv column or section heading "
                          f"({', '.join(extra) or 'none'}){hint}")

    def value(p: str) -> str:
        v = (table.attributes(p).get(by) or "").strip()
        return v or NOT_SET

    def values_of(e: Excerpt) -> set[str]:
        # a participant's own value first; a passage with no participant (field notes) or a column that
        # is not a participant's takes the passage's document, section or case value
        found = {value(p) for p in who(e)} - {NOT_SET} if by in columns else set()
        if not found:
            found = {(e.attributes.get(by) or "").strip() or NOT_SET}
        return found

    seen = {v for e in ex.excerpts for v in values_of(e)}
    if by in columns:
        seen |= {value(p) for p in people}
    values = sorted(seen, key=lambda v: (v == NOT_SET, v.casefold()))
    return values, values_of


def _rows(order: list[str], names: dict[str, str], cases: list[str], grid: dict[tuple[str, str], list[Excerpt]],
          per_code: dict[str, list[Excerpt]], cells: str, quotes: int, quote_chars: int | None,
          attributes: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """One row per code (and its compact terminal row), with a total."""
    rows, compact = [], []
    for code in order:
        row: dict[str, Any] = {"code": code, "name": names.get(code, "")}
        crow: dict[str, Any] = {"code": code, "name": names.get(code, "")}
        used: set = set()
        for case in cases:
            row[case] = cell(grid.get((code, case), []), cells, quotes, quote_chars, attributes, used)
            crow[case] = cell(grid.get((code, case), []), "compact", 0, None, ())
        crow["total"] = cell(per_code.get(code, []), "compact", 0, None, ())
        compact.append(crow)
        mine = distinct(per_code.get(code, []))
        if cells == "presence":
            row["total"] = sum(1 for case in cases if row[case])
        elif cells in ("count", "participants"):
            row["total"] = cell(mine, cells, quotes, quote_chars, attributes)
        else:
            row["total"] = counts_text(mine) if mine else ""
        rows.append(row)
    return rows, compact


def codes_matrix(workspace: Workspace, ex: ExcerptSet, by: str, cells: str, level: str, quotes: int,
                 quote_chars: int | None, attributes: Sequence[str], transpose: bool,
                 params: dict[str, Any]) -> MatrixResult:
    """Codes × cases (see the module docstring)."""
    import pandas as pd

    from qualkit.render.tables import Table

    lv = level_mapper(workspace, level)
    cases, case_of = _cases(workspace, ex, by)
    order, names = code_order(workspace, {e.code for e in ex.excerpts})
    if level == "top":
        order = list(dict.fromkeys(lv(c) for c in order))
    grid: dict[tuple[str, str], list[Excerpt]] = {}
    per_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        code = lv(e.code)
        per_code.setdefault(code, []).append(e)
        for case in case_of(e):
            grid.setdefault((code, case), []).append(e)
    rows, compact = _rows(order, names, cases, grid, per_code, cells, quotes, quote_chars, attributes)
    frame = pd.DataFrame(rows, columns=["code", "name", *cases, "total"])
    display = frame if cells in ("count", "presence", "participants") else pd.DataFrame(compact, columns=frame.columns)
    if transpose:
        frame, display = _transpose(frame, cases, by), _transpose(display, cases, by)
    total_note = {"presence": "total: number of cases with the code", "count": "total: distinct excerpts",
                  "participants": "total: distinct participants"}.get(cells, "total: excerpts / participants")
    note = (f"{len(order)} code{plural_s(len(order))} × {len(cases)} {by} cases; {cells_note(cells)}; {total_note}; "
            f"a coding that touches several participants counts for each; {ex.source_text()}.")
    if ex.left_out:
        note += f" Not coded, left out: {', '.join(ex.left_out)}."
    title = f"Codes × {by}" + (" (cases in rows)" if transpose else "")
    params.update({"by": by, "cells": cells, "level": level, "transpose": transpose, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes)})
    if cells in ("quotes", "summary"):
        params["quote_rule"] = quote_rule(quote_chars)
    tables = [Table(f"codes_by_{file_stem(by)}", frame, f"{title} ({cells_note(cells)})", note)]
    return MatrixResult("codes", frame, tables, title, [], [note], params, display=display)


def _transpose(frame: Any, cases: list[str], by: str) -> Any:
    """Cases in rows, codes in columns (the Framework Method's layout)."""
    body = frame.set_index("code")[cases].T
    body.index.name = by
    out = body.reset_index()
    out.columns.name = None
    return out
