"""Themes × framework domains, and the manuscript table (HEIF papers' layout).

Rows are the themes of themes.yaml, columns the framework domains they map onto (``level``:
``domain``, ``subdomain`` = the nearest domain or sub-domain, the default, or ``item`` = the ref as
written). A theme with ``domains`` puts all its excerpts under each of them; a theme whose mapping
comes from its codes' refs puts each excerpt under its own code's domains. ``table="results"``
gives Theme | domain | Description | Illustrative quotes, in sections: facilitators, barriers,
then mixed themes in a section of their own, then themes with no valence yet.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.cells import cell, cells_note, counts_text, distinct
from qualkit.analysis.matrices.common import MatrixError, MatrixResult, check_choice, slug, unique_labels
from qualkit.analysis.matrices.equity import equity_frame, unverified_footnote
from qualkit.analysis.quotes import quote_rule, select_quotes
from qualkit.analysis.sources import Excerpt, ExcerptSet

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["FRAMEWORK_SHORT", "SECTIONS", "themes_matrix"]

SECTIONS = (("facilitator", "Facilitators"), ("barrier", "Barriers"), ("mixed", "Mixed (facilitator and barrier)"),
            (None, "Valence not set"))
FRAMEWORK_SHORT = {"heif": "HEIF", "cfir2": "CFIR 2.0", "cfir2009": "CFIR", "iparihs": "i-PARIHS", "reaim": "RE-AIM",
                   "epis": "EPIS"}


@dataclass
class _Layout:
    """What the tables are built from: the themes, their mappings, and the chosen columns."""

    themeset: Any
    mappings: dict[str, Any]
    frameworks: dict[str, Any]
    level: str
    framework: str | None
    columns: list
    labels: list[str]


def _fw_name(fw_id: str, frameworks: dict) -> str:
    return FRAMEWORK_SHORT.get(fw_id) or (fw_id.upper() if len(fw_id) <= 6 else frameworks[fw_id].name)


def _columns(mappings: dict[str, Any], frameworks: dict, level: str, framework: str | None,
             main_fw: str | None) -> tuple[list, list[str]]:
    """The domain columns (framework items at ``level``), main framework first, and their labels."""
    from qualkit.analysis.matrices.equity import marked_label
    from qualkit.analysis.themes import at_level

    columns: list = []
    for m in mappings.values():
        for item in m.items:
            col = at_level(item, frameworks, level)
            if framework and col.framework != framework:
                continue
            if all(c is not col for c in columns):
                columns.append(col)
    fw_order = {fid: i for i, fid in enumerate(frameworks)}

    def col_key(item: Any) -> tuple:
        fw = frameworks[item.framework]
        pos = next((i for i, x in enumerate(fw.items()) if x is item), 0)
        return (item.framework != main_fw, fw_order.get(item.framework, 99), pos)

    columns.sort(key=col_key)
    several = len({c.framework for c in columns}) > 1
    labels = []
    for c in columns:
        label = marked_label(c, frameworks)
        labels.append(f"{_fw_name(c.framework, frameworks)}: {label}" if several else label)
    return columns, unique_labels(labels)


def _matrix_rows(lay: _Layout, by_code: dict[str, list[Excerpt]], cells: str, quotes: int, quote_chars: int | None,
                 attributes: Sequence[str]) -> tuple[list[dict], list[dict], dict[str, list[Excerpt]]]:
    """Each theme's row (and its compact terminal row) and the excerpts of each theme."""
    from qualkit.analysis.themes import at_level

    rows, compact = [], []
    theme_excerpts: dict[str, list[Excerpt]] = {}
    for theme in lay.themeset:
        m = lay.mappings[theme.id]
        mine = [e for code in theme.codes for e in by_code.get(code, [])]
        places = {code: {id(at_level(i, lay.frameworks, lay.level)) for i in m.items_for_code(code)}
                  for code in theme.codes}
        theme_excerpts[theme.id] = mine
        row: dict[str, Any] = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        crow: dict[str, Any] = dict(row)
        used: set = set()
        for col, label in zip(lay.columns, lay.labels):
            inside = [e for e in mine if id(col) in places[e.code]]
            row[label] = cell(inside, cells, quotes, quote_chars, attributes, used)
            crow[label] = cell(inside, "compact", 0, None, ())
        row["all domains"] = (cell(mine, cells, quotes, quote_chars, attributes) if cells != "summary"
                              else counts_text(distinct(mine)))
        crow["all domains"] = cell(mine, "compact", 0, None, ())
        rows.append(row)
        compact.append(crow)
    return rows, compact, theme_excerpts


def _results_frame(lay: _Layout, theme_excerpts: dict[str, list[Excerpt]], quotes: int, quote_chars: int | None,
                   attributes: Sequence[str], main_fw: str | None) -> tuple[Any, str]:
    """The manuscript table (one row per theme, in valence sections) and the framework's short title."""
    import pandas as pd

    from qualkit.analysis.matrices.equity import marked_label

    frameworks, framework = lay.frameworks, lay.framework
    fws_used = {i.framework for m in lay.mappings.values() for i in m.items if not framework or i.framework == framework}
    header_fw: str | None
    if framework:
        header_fw = framework
    elif len(fws_used) == 1:
        header_fw = next(iter(fws_used))
    else:
        header_fw = main_fw if not fws_used and main_fw in frameworks else None
    fw_title = _fw_name(header_fw, frameworks) if header_fw else "framework"
    domain_header = f"{fw_title} domain" if header_fw else "Framework domains"
    quote_header = ("Illustrative quotes (participant, " + ", ".join(attributes) + ")" if attributes
                    else "Illustrative quotes (participant)")
    res_rows = []
    for valence, section in SECTIONS:
        for theme in lay.themeset:
            if theme.valence != valence:
                continue
            items = [i for i in lay.mappings[theme.id].items if not framework or i.framework == framework]
            dom = "\n".join((f"{_fw_name(i.framework, frameworks)}: " if len(fws_used) > 1 else "")
                            + marked_label(i, frameworks) for i in items)
            chosen = select_quotes(distinct(theme_excerpts[theme.id]), quotes) if quotes else []
            res_rows.append({"Section": section, "Theme": theme.name, domain_header: dom, "Description": theme.description,
                             quote_header: "\n".join(e.formatted(quote_chars, attributes) for e in chosen)})
    return pd.DataFrame(res_rows, columns=["Section", "Theme", domain_header, "Description", quote_header]), fw_title


def _notes(lay: _Layout, cells: str, ex: ExcerptSet, main_fw: str | None) -> list[str]:
    themeset, mappings, frameworks, framework = lay.themeset, lay.mappings, lay.frameworks, lay.framework
    notes = [f"{len(themeset)} themes; {cells_note(cells)}; columns: {lay.level} level; {ex.source_text()}."]
    mapped_from_codes = [t.id for t in themeset if mappings[t.id].from_codes and t.codes]
    if mapped_from_codes:
        notes.append("Mapped through their codes' framework refs (no 'domains' given): " + ", ".join(mapped_from_codes) + ".")
    if main_fw in frameworks and (not framework or framework == main_fw):
        fw = frameworks[main_fw]
        touched = [i for m in mappings.values() for i in m.items if i.framework == fw.id]
        gaps = [d.label for d in fw.domains() if not any(t.path == d.path or t.path.startswith(d.path + ".") for t in touched)]
        if gaps and len(themeset):
            notes.append(f"No theme maps onto these {_fw_name(fw.id, frameworks)} domains: " + ", ".join(gaps) + ".")
    return notes


def _layout(workspace: Workspace, level: str, framework: str | None, path: Path) -> tuple[_Layout, list[str]]:
    """Read themes.yaml and map its themes (a mapping error stops here) into the tables' layout."""
    from qualkit.analysis.themes import ThemeProblem, load_themes, theme_mappings
    from qualkit.frameworks.catalog import get_framework

    themeset = load_themes(path)
    frameworks = workspace.frameworks()
    if framework:
        framework = get_framework(framework, frameworks=frameworks).id
    problems: list[ThemeProblem] = []
    mappings = theme_mappings(workspace, themeset, frameworks, problems)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise MatrixError(errors[0].message + " (`qualkit themes check` lists every problem)", errors[0].path, errors[0].line)
    columns, labels = _columns(mappings, frameworks, level, framework, workspace.config.framework)
    return _Layout(themeset, mappings, frameworks, level, framework, columns, labels), [str(p.message) for p in problems]


def themes_matrix(workspace: Workspace, ex: ExcerptSet, cells: str, level: str, framework: str | None, table: str,
                  quotes: int, quote_chars: int | None, attributes: Sequence[str], themes_file: str | Path | None,
                  params: dict[str, Any]) -> MatrixResult:
    """The themes × domains matrix and the manuscript table, sections exported one table each."""
    import pandas as pd

    from qualkit.analysis.themes import LEVELS, themes_path
    from qualkit.render.tables import Table

    check_choice(level, LEVELS, "level for themes")
    check_choice(table, ("matrix", "results", "equity"), "table")
    path = Path(themes_file) if themes_file else themes_path(workspace)
    lay, warns = _layout(workspace, level, framework, path)
    main_fw = workspace.config.framework
    by_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        by_code.setdefault(e.code, []).append(e)
    rows, compact, theme_excerpts = _matrix_rows(lay, by_code, cells, quotes, quote_chars, attributes)
    matrix_df = pd.DataFrame(rows, columns=["theme", "name", "valence", *lay.labels, "all domains"])
    results_df, fw_title = _results_frame(lay, theme_excerpts, quotes, quote_chars, attributes, main_fw)
    notes = _notes(lay, cells, ex, main_fw)
    quote_note = quote_rule(quote_chars)
    equity_df, equity_items = equity_frame(lay.themeset, lay.mappings, lay.frameworks, main_fw, theme_excerpts, cells,
                                           quotes, quote_chars, attributes)
    mapped = [i for m in lay.mappings.values() for i in m.items if not lay.framework or i.framework == lay.framework]
    foot = {name: unverified_footnote(items) for name, items in
            (("matrix", lay.columns), ("results", mapped), ("equity", equity_items))}
    tables = [Table("themes_by_domain", matrix_df, f"Themes × {fw_title} domains ({cells_note(cells)})",
                    " ".join(x for x in (*notes, foot["matrix"]) if x)
                    + (" " + quote_note if cells in ("quotes", "summary") else ""))]
    notes += [foot["results"]] if foot["results"] else []
    for _valence, section in SECTIONS:
        part = results_df[results_df["Section"] == section].drop(columns=["Section"]).reset_index(drop=True)
        if len(part):
            tables.append(Table(slug(section.split(" (")[0]), part, f"{section}: themes mapped onto {fw_title}",
                                " ".join(x for x in (quote_note, foot["results"]) if x)))
    if len(equity_df.columns) > 4:
        tables.append(Table("themes_by_equity_domain", equity_df,
                            f"Themes × {fw_title} health-equity domains ({cells_note(cells)})",
                            " ".join(x for x in ("Health-equity domains of Woodward et al. 2021; each cell lists the "
                                                 "theme's determinants in that domain.", foot["equity"]) if x)))
    themeset = lay.themeset
    if lay.framework and not lay.columns and len(themeset):
        warns.append(f"no theme maps onto {lay.framework}: the matrix has no domain columns")
    no_valence = [t.id for t in themeset if t.valence is None]
    if no_valence:
        warns.append(f"theme(s) with no valence: {', '.join(no_valence)} (results table: section 'Valence not set')")
    params.update({"cells": cells, "level": level, "framework": lay.framework, "table": table, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes), "themes": str(path.name),
                   "quote_rule": quote_note})
    frame = {"matrix": matrix_df, "results": results_df, "equity": equity_df}[table]
    result = MatrixResult("themes", frame, tables, f"Themes and {fw_title} domains", warns, notes, params)
    result.display = (matrix_df if cells in ("count", "presence", "participants")
                      else pd.DataFrame(compact, columns=matrix_df.columns))
    return result
