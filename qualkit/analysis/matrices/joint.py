"""Joint display (mixed methods): one row per case, its quantitative measures beside its themes.

A side-by-side joint display in the sense of Fetters, Curry & Creswell (2013, Health Serv Res 48:2134)
and Guetterman, Fetters & Creswell (2015, Ann Fam Med 13:554): a case table of measures (``sites.csv``:
``site,engagement_rate,referrals``) is joined to the qualitative themes per case, each theme cell
holding that case's excerpts and its best quotes, so the reader can see where the numbers and the
words agree, expand on each other or diverge.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.cells import cell, cells_note
from qualkit.analysis.matrices.common import NOT_SET, MatrixError, MatrixResult
from qualkit.analysis.quotes import quote_rule
from qualkit.analysis.sources import ExcerptSet
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["joint_matrix", "read_measures"]


def read_measures(path: str | Path) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The case column (the first), the measure columns and the rows of a measures CSV.

    Numbers stay numbers (``0.42``, ``17``); a blank case or a case listed twice names the line."""
    from qualkit.io.tables import read_csv

    path = Path(path)
    if not path.is_file():
        raise MatrixError("no such measures file", path)
    table = read_csv(path, error_cls=MatrixError)
    if not table.rows or not any(c.strip() for c in table.rows[0].cells):
        raise MatrixError("is empty; it needs a header row: the case column (e.g. site), then the measures", path, 1)
    header = [c.strip() for c in table.rows[0].cells]
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for record in table.rows[1:]:
        if record.blank:
            continue
        values = [c.strip() for c in record.cells] + [""] * (len(header) - len(record.cells))
        if len(record.cells) > len(header):
            raise MatrixError(f"{len(record.cells)} fields but the header has {len(header)}", path, record.line)
        case = values[0]
        if not case:
            raise MatrixError(f"blank {header[0]}", path, record.line)
        if case in seen:
            raise MatrixError(f"{header[0]} {case!r} is listed twice (first on line {seen[case]})", path, record.line)
        seen[case] = record.line
        rows.append({h: _number(v) for h, v in zip(header, values)})
    return header[0], header[1:], rows


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def joint_matrix(workspace: Workspace, ex: ExcerptSet, measures: str | Path, by: str | None, cells: str,
                 quotes: int, quote_chars: int | None, attributes: Sequence[str], themes_file: str | Path | None,
                 params: dict[str, Any]) -> MatrixResult:
    """Cases (the measures file's rows, matched on ``by``, default its first column) x measures + themes."""
    import pandas as pd

    from qualkit.analysis.matrices.bycase import case_cut
    from qualkit.analysis.themes import load_themes, themes_path
    from qualkit.render.tables import Table

    measures = Path(measures)
    if not measures.is_absolute() and (workspace.root / measures).is_file():
        measures = workspace.root / measures   # `--measures sites.csv`: the workspace's own file, from anywhere
    case_col, measure_cols, rows = read_measures(measures)
    # the case names meet the excerpts' attributes, which a de-identified view has redacted: redact them alike
    rows = [{**r, case_col: workspace.export_text(str(r[case_col]))} for r in rows]
    by = by or case_col
    _values, case_of = case_cut(workspace, ex, by)
    themeset = load_themes(Path(themes_file) if themes_file else themes_path(workspace))
    if not len(themeset):
        raise MatrixError("themes.yaml has no themes yet: a joint display puts themes beside the measures")
    by_case: dict[str, list] = {}
    for e in ex.excerpts:
        for case in case_of(e):
            by_case.setdefault(case, []).append(e)
    listed = [str(r[case_col]) for r in rows]
    extra = sorted(c for c in by_case if c not in listed and c != NOT_SET)
    out = []
    for row in [*rows, *({case_col: c} for c in extra)]:
        case = str(row[case_col])
        mine = by_case.get(case, [])
        rec: dict[str, Any] = {case_col: case, **{m: row.get(m, "") for m in measure_cols}}
        used: set = set()
        for theme in themeset:
            inside = [e for e in mine if e.code in set(theme.codes)]
            rec[theme.name] = cell(inside, cells, quotes, quote_chars, attributes, used)
        out.append(rec)
    frame = pd.DataFrame(out, columns=[case_col, *measure_cols, *(t.name for t in themeset)])
    warnings = []
    if extra:
        warnings.append(f"{by} value{plural_s(len(extra))} with codings but no row in {Path(measures).name}: {', '.join(extra)} "
                        "(added with blank measures)")
    empty = [str(r[case_col]) for r in rows if not by_case.get(str(r[case_col]))]
    if empty:
        warnings.append(f"no coded excerpt for {by} {', '.join(empty)}: check the spelling against "
                        f"`qualkit matrix codes --by {by}`")
    notes = [f"Joint display: one row per {by}, its measures ({Path(measures).name}) beside its themes "
             f"({cells_note(cells)}); {ex.source_text()}."]
    quote_note = quote_rule(quote_chars)
    table = Table("joint_display", frame, f"Joint display: {by} × measures and themes", " ".join([*notes, quote_note]))
    params.update({"measures": str(Path(measures).name), "measure_columns": measure_cols, "by": by, "cells": cells, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes), "quote_rule": quote_note})
    result = MatrixResult("joint", frame, [table], f"Joint display by {by}", warnings, notes, params)
    result.display = frame
    return result
