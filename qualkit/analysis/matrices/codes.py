"""Codes × cases: the Framework Method's chart.

Cases (``by``) are participants, transcripts, or the values of any participants.csv column such as
role or site; ``transpose=True`` puts cases in rows, as Gale et al. (2013) chart them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.bycase import case_cut
from qualkit.analysis.matrices.cells import cell, cells_note, counts_text, distinct
from qualkit.analysis.matrices.common import MatrixResult, code_order, level_mapper
from qualkit.analysis.quotes import quote_rule
from qualkit.analysis.sources import Excerpt, ExcerptSet
from qualkit.io.naming import file_stem, plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["codes_matrix"]

NUMERIC = ("count", "presence", "participants")  # cells shown as they are in the terminal


def _rows(order: list[str], names: dict[str, str], cases: list[str], grid: dict[tuple[str, str], list[Excerpt]],
          per_code: dict[str, list[Excerpt]], cells: str, quotes: int, quote_chars: int | None,
          attributes: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """One row per code (and its compact terminal row), with a total."""
    rows, compact = [], []
    shown = cells not in NUMERIC  # numeric cells are their own terminal view: no compact row to build
    for code in order:
        row: dict[str, Any] = {"code": code, "name": names.get(code, "")}
        crow: dict[str, Any] = {"code": code, "name": names.get(code, "")}
        used: set = set()
        for case in cases:
            row[case] = cell(grid.get((code, case), []), cells, quotes, quote_chars, attributes, used)
            if shown:
                crow[case] = cell(grid.get((code, case), []), "compact", 0, None, ())
        if shown:
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
    cases, case_of = case_cut(workspace, ex, by)
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
    display = frame if cells in NUMERIC else pd.DataFrame(compact, columns=frame.columns)
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
