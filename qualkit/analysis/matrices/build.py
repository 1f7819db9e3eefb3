"""Building, returning and exporting a matrix of any kind: the entry points the package exports."""
from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.codes import codes_matrix
from qualkit.analysis.matrices.common import (
    CELLS,
    COOC_CELLS,
    DEFAULT_CELLS,
    KINDS,
    MatrixError,
    MatrixResult,
    MatrixWarning,
    check_choice,
    input_files,
)
from qualkit.analysis.matrices.cooccurrence import cooccurrence_matrix
from qualkit.analysis.matrices.saturation import saturation_matrix
from qualkit.analysis.matrices.themes import themes_matrix
from qualkit.analysis.quote_text import DEFAULT_LIMIT
from qualkit.analysis.sources import CONSENSUS, load_excerpts, provenance
from qualkit.coding.anchoring import anchoring_notes

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["build_matrix", "export_matrix", "matrix", "themes_cells"]


def _cells(kind: str, cells: str | None) -> str | None:
    if cells is not None and kind == "saturation":
        raise MatrixError("cells do not apply to saturation (it has one layout)")
    if kind == "cooccurrence":
        return check_choice(cells or DEFAULT_CELLS[kind], COOC_CELLS, "cells for cooccurrence")
    if kind != "saturation":
        return check_choice(cells or DEFAULT_CELLS[kind], CELLS, f"cells for {kind}")
    return cells


def build_matrix(workspace: Workspace, kind: str, *, by: str | None = None, cells: str | None = None,
                 coder: str | None = None, unit: str = "turn", level: str | None = None, framework: str | None = None,
                 table: str = "matrix", order: Sequence[str] | str | None = None, base: int = 4, run: int = 2,
                 threshold: float = 0.05, quotes: int = 2, quote_chars: int | None = DEFAULT_LIMIT,
                 attributes: Sequence[str] = ("role",), include_facilitators: bool = False, transpose: bool = False,
                 themes_file: str | Path | None = None, sessions: str = "separate",
                 measures: str | Path | None = None) -> MatrixResult:
    """Build a matrix of ``kind`` (see the package docstring) with every table for export.

    Built once per set of arguments while the workspace's inputs are unchanged: `run`'s exports
    and its report share one (callers must not modify the result)."""
    args = dict(locals())
    del args["workspace"]
    if cells is None and kind in DEFAULT_CELLS:  # the default named or not: one matrix, built once
        args["cells"] = DEFAULT_CELLS[kind]
    key: tuple = ("matrix", repr(sorted(args.items())))
    if kind == "cooccurrence" and args["cells"] != DEFAULT_CELLS[kind]:
        _cells(kind, cells)  # a choice that is not one raises as it would when building
        # every cells choice has the same tables; the default's result serves, its frame chosen
        built = build_matrix(workspace, **{**args, "cells": None})
        return workspace.derived(key, lambda: _cooccurrence_cells(built, str(args["cells"]), by))
    if kind in ("themes", "joint"):  # they also read themes.yaml and frameworks/, outside the inputs' stamp
        from qualkit.analysis.matrices.themes import themes_state

        key += themes_state(workspace, themes_file)
    return workspace.derived(key, lambda: _build_matrix(workspace, **{**args, "cells": cells}))


def themes_cells(workspace: Workspace, cells: str, *, by: str | None = None, quotes: int = 2,
                 quote_chars: int | None = DEFAULT_LIMIT, attributes: Sequence[str] = ("role",)) -> Any:
    """The frame of ``build_matrix(workspace, "themes", cells=cells, by=by, quotes=..., ...)`` (themes ×
    domains, or × the cases of ``by``) without the tables built around it, kept while the inputs are unchanged (not to be modified): the
    report shows the same themes as counts, participants and quotes, and reads the other tables once."""
    from qualkit.analysis.matrices.themes import themes_frame, themes_state

    chosen = str(_cells("themes", cells))
    key = ("themes cells", chosen, by, quotes, quote_chars, tuple(attributes), *themes_state(workspace))
    return workspace.derived(key, lambda: themes_frame(workspace, load_excerpts(workspace, None, False), chosen, quotes,
                                                       quote_chars, tuple(attributes), by))


def _cooccurrence_cells(base: MatrixResult, cells: str, by: str | None) -> MatrixResult:
    """The co-occurrence result ``base`` with its main frame the table of ``cells`` (count,
    coefficient or pairs; by case when ``by``), as cooccurrence_matrix chooses it."""
    from dataclasses import replace

    from qualkit.io.naming import file_stem

    name = {"count": "cooccurrence_counts", "coefficient": "cooccurrence_c", "pairs": "cooccurrence_pairs"}[cells]
    frame = base.table(f"{name}_by_{file_stem(by)}" if by else name).frame
    return replace(base, frame=frame, parameters={**base.parameters, "cells": cells})


def _build_matrix(workspace: Workspace, kind: str, *, by: str | None, cells: str | None, coder: str | None, unit: str,
                  level: str | None, framework: str | None, table: str, order: Sequence[str] | str | None, base: int,
                  run: int, threshold: float, quotes: int, quote_chars: int | None, attributes: Sequence[str],
                  include_facilitators: bool, transpose: bool, themes_file: str | Path | None, sessions: str,
                  measures: str | Path | None) -> MatrixResult:
    check_choice(kind, KINDS, "kind")
    if quotes < 0:
        raise MatrixError("quotes must be 0 or more")
    if quote_chars is not None and quote_chars < 40:
        raise MatrixError("quote_chars must be at least 40 (or None for whole quotes)")
    attributes = tuple(attributes)
    chosen = _cells(kind, cells)
    ex = load_excerpts(workspace, coder, include_facilitators)
    params: dict[str, Any] = {"kind": kind, "coder": coder or CONSENSUS, "codings": ex.source.label,
                              "excerpts": len(ex.excerpts), "include_facilitators": include_facilitators}
    if kind == "themes":
        result = themes_matrix(workspace, ex, str(chosen), level or "subdomain", framework, table, quotes, quote_chars,
                               attributes, themes_file, params, by=by)
    elif kind == "codes":
        result = codes_matrix(workspace, ex, by or "participant", str(chosen), level or "code", quotes, quote_chars,
                              attributes, transpose, params)
    elif kind == "joint":
        if measures is None:
            raise MatrixError("a joint display needs --measures FILE (a case table such as sites.csv: site, measures...)")
        from qualkit.analysis.matrices.joint import joint_matrix

        result = joint_matrix(workspace, ex, measures, by, str(chosen), quotes, quote_chars, attributes, themes_file,
                              params)
    elif kind == "cooccurrence":
        result = cooccurrence_matrix(workspace, ex, unit, str(chosen), level or "code", params, by=by)
    else:
        result = saturation_matrix(workspace, ex, by or "transcript", level or "code", order, base, run, threshold,
                                   params, sessions)
    result.warnings[:0] = ex.warnings + [n for n in anchoring_notes(workspace) if "LEFT OUT" in n]
    prov = provenance(workspace, ex.source)
    params["provenance"] = prov
    for t in result.tables:
        t.notes = f"{t.notes} {prov}" if t.notes else prov
    result.inputs = input_files(workspace, ex, themes=kind in ("themes", "joint"))
    if measures is not None:
        in_ws = workspace.root / measures
        result.inputs.append(in_ws if not Path(measures).is_absolute() and in_ws.is_file() else Path(measures))
    result.root = workspace.root
    return result


def matrix(workspace: Workspace, kind: str, **options: Any) -> Any:
    """The matrix of ``kind`` as a DataFrame (options as :func:`build_matrix`).

    What a reader must know (e.g. coders pooled for want of a consensus) is issued as a
    :class:`MatrixWarning`; ``frame.attrs`` holds the warnings, notes and parameters too.
    """
    result = build_matrix(workspace, kind, **options)
    for w in result.warnings:
        _warnings.warn(w, MatrixWarning, stacklevel=2)
    frame = result.frame
    frame.attrs.update({"kind": kind, "warnings": list(result.warnings), "notes": list(result.notes),
                        "parameters": dict(result.parameters)})
    if result.saturation is not None:
        frame.attrs["saturation"] = result.saturation.as_dict()
    return frame


def export_matrix(result: MatrixResult, path: str | Path, workspace: Workspace | None = None,
                  tables: Sequence[str] | None = None) -> list[Path]:
    """Write the result's tables (or the named ones) through qualkit.render.tables, manifest beside."""
    from qualkit.render.tables import export_tables

    chosen = [t for t in result.tables if tables is None or t.name in tables]
    if not chosen:
        raise MatrixError(f"no table to export (tables: {', '.join(t.name for t in result.tables)})")
    return export_tables(chosen, path, title=result.title, workspace=workspace, inputs=result.inputs,
                         parameters={"command": "matrix", **result.parameters,
                                     "warnings": list(result.warnings)})
