"""Themes × framework domains, and the manuscript table (HEIF papers' layout).

Rows are the themes of themes.yaml, columns the framework domains they map onto (``level``:
``domain``, ``subdomain`` = the nearest domain or sub-domain, the default, or ``item`` = the ref as
written). A theme with ``domains`` puts all its excerpts under each of them; a theme whose mapping
comes from its codes' refs puts each excerpt under its own code's domains. ``table="results"``
gives Theme | domain | Description | Illustrative quotes, in sections: facilitators, barriers,
then mixed themes in a section of their own, descriptive (context) themes, then themes with no
valence yet. ``table="domains"`` gives the domain-first layout HEIF papers report: framework domain,
then the themes under it, then their quotes (each quote once in the table).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.cells import cell, cells_note, counts_text, distinct
from qualkit.analysis.matrices.common import MatrixError, MatrixResult, check_choice, unique_labels
from qualkit.analysis.matrices.equity import equity_frame, unverified_footnote
from qualkit.analysis.quotes import quote_rule, select_quotes
from qualkit.analysis.sources import Excerpt, ExcerptSet
from qualkit.io.naming import file_stem, plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["FRAMEWORK_SHORT", "SECTIONS", "themes_frame", "themes_matrix"]

SECTIONS = (("facilitator", "Facilitators"), ("barrier", "Barriers"), ("mixed", "Mixed (facilitator and barrier)"),
            ("descriptive", "Descriptive (context)"), (None, "Valence not set"))
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
    terms: dict[str, list[str]]     # theme id -> the words that carry it (theme and code names, keywords, examples)
    code_items: dict[str, list] = field(default_factory=dict)  # code id -> its own framework refs, resolved
    places: dict[str, dict[str, set[int]]] = field(default_factory=dict)  # theme id -> _places (layouts are shared)


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

    rows, compact = [], []
    theme_excerpts: dict[str, list[Excerpt]] = {}
    used: set = set()  # no quote twice in the table
    shown = cells not in ("count", "presence", "participants")  # else the table is its own terminal view
    for theme in lay.themeset:
        mine = [e for code in theme.codes for e in by_code.get(code, [])]
        places = _places(lay, theme)
        theme_excerpts[theme.id] = mine
        row: dict[str, Any] = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        crow: dict[str, Any] = dict(row)
        in_col: dict[int, list[Excerpt]] = {}  # one pass over the theme's excerpts, not one per column
        for e in mine:
            for col_id in places[e.code]:
                in_col.setdefault(col_id, []).append(e)
        for col, label in zip(lay.columns, lay.labels):
            inside = _pinned_first(in_col.get(id(col), []), theme)
            row[label] = cell(inside, cells, quotes, quote_chars, attributes, used, lay.terms[theme.id])
            if shown:
                crow[label] = cell(inside, "compact", 0, None, ())
        row["all domains"] = (counts_text(distinct(mine)) if cells == "summary" else
                              cell(_pinned_first(mine, theme), cells, quotes, quote_chars, attributes, used,
                                   lay.terms[theme.id]))  # quotes not already in the row's domain cells
        if shown:
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
    used = {e.span for t in lay.themeset for e in _pins(theme_excerpts[t.id], t)}  # pinned quotes are reserved
    for valence, section in SECTIONS:
        for theme in lay.themeset:
            if theme.valence != valence:
                continue
            items = [i for i in lay.mappings[theme.id].items if not framework or i.framework == framework]
            dom = "\n".join((f"{_fw_name(i.framework, frameworks)}: " if len(fws_used) > 1 else "")
                            + marked_label(i, frameworks) for i in items)
            chosen = _table_quotes(theme, distinct(theme_excerpts[theme.id]), quotes, used)
            res_rows.append({"Section": section, "Theme": theme.name, domain_header: dom, "Description": theme.description,
                             quote_header: "\n".join(e.formatted(quote_chars, attributes, terms=lay.terms[theme.id])
                                                     for e in chosen)})
    return pd.DataFrame(res_rows, columns=["Section", "Theme", domain_header, "Description", quote_header]), fw_title


def _domain_text(items: list, frameworks: dict, several: bool) -> str:
    """The framework items of a theme for a manuscript cell: a domain listed beside one of its own
    sub-items is left out (it says nothing more), and items under one domain share one line
    ("Characteristics of the innovation: Degree of fit; Adaptability")."""
    from qualkit.analysis.themes import ancestry, at_level, item_label

    kept = [i for i in items if not any(o is not i and any(a is i for a in ancestry(o, frameworks)) for o in items)]
    lines: dict[str, list[str]] = {}
    for i in kept:
        prefix = f"{_fw_name(i.framework, frameworks)}: " if several else ""
        anchor = at_level(i, frameworks, "subdomain")
        if anchor is i or i.kind in ("domain", "subdomain"):
            lines.setdefault(prefix + item_label(i, frameworks), [])
        else:
            lines.setdefault(prefix + anchor.label, []).append(i.label)
    return "\n".join(k + (": " + "; ".join(v) if v else "") for k, v in lines.items())


def _manuscript_matrix(matrix_df: Any, cells: str) -> Any:
    """The theme × domain matrix as a journal table: the theme's name (no id column), capitalised
    valence, and a Total column only where cells are counts (in quote cells it would repeat them)."""
    out = matrix_df.drop(columns=["theme"]).rename(columns={"name": "Theme", "valence": "Valence"})
    out["Valence"] = [str(v).capitalize() if v else "Not set" for v in out["Valence"]]
    if cells in ("count", "participants", "presence"):
        return out.rename(columns={"all domains": "Total" if cells != "presence" else "Any domain"})
    return out.drop(columns=["all domains"])


def _places(lay: _Layout, theme: Any) -> dict[str, set[int]]:
    """Code -> the domain columns its excerpts count in. A theme mapped through its codes: each
    code's own refs. A theme with its own ``domains``: those of the theme's domains that the code's
    own refs fall in (or under), so a cell counts the excerpts about that domain, not the theme's
    whole total in every column it maps to."""
    known = lay.places.get(theme.id)
    if known is None:
        known = lay.places[theme.id] = _find_places(lay, theme)
    return known


def _find_places(lay: _Layout, theme: Any) -> dict[str, set[int]]:
    from qualkit.analysis.themes import ancestry, at_level

    m = lay.mappings[theme.id]
    if m.from_codes:
        return {code: {id(at_level(i, lay.frameworks, lay.level)) for i in m.items_for_code(code)} for code in theme.codes}

    def related(a: Any, b: Any) -> bool:
        return any(x is a for x in ancestry(b, lay.frameworks)) or any(x is b for x in ancestry(a, lay.frameworks))

    return {code: {id(at_level(i, lay.frameworks, lay.level)) for i in m.items
                   if any(related(i, own) for own in lay.code_items.get(code, []))} for code in theme.codes}


def _code_items(workspace: Workspace, themeset: Any, frameworks: dict) -> dict[str, list]:
    """Each theme code's own framework refs, resolved (unresolvable refs left out)."""
    from qualkit.analysis.themes import default_framework
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    index, default = workspace.code_index(), default_framework(workspace, themeset)
    out: dict[str, list] = {}
    for code in {c for t in themeset for c in t.codes}:
        entry = index.get(code)
        items: list = []
        if entry is None:
            out[code] = items
            continue
        book, c = entry
        for ref in c.framework:
            try:
                items.append(resolve_ref(ref, frameworks=frameworks, default=book.framework or default))
            except FrameworkError:
                continue
        out[code] = items
    return out


def _pins(excerpts: list[Excerpt], theme: Any) -> list[Excerpt]:
    """The theme's pinned codings (``quotes:`` in themes.yaml, "transcript:start-end"), in the order pinned."""
    out = []
    for ref in getattr(theme, "quotes", []) or []:
        tid, _, rng = str(ref).rpartition(":")
        start, _, end = rng.partition("-")
        if not (start.isdigit() and end.isdigit()):
            continue
        hit = next((e for e in excerpts if e.transcript == tid and e.start < int(end) and int(start) < e.end), None)
        if hit is not None and hit not in out:
            out.append(hit)
    return out


def _pinned_first(excerpts: list[Excerpt], theme: Any) -> list[Excerpt]:
    """Pinned excerpts marked as exemplars so that quote selection takes them first."""
    from dataclasses import replace

    pins = {e.span for e in _pins(excerpts, theme)}
    if not pins:  # the common case: nothing to mark, no span to look at per excerpt
        return list(excerpts)
    return [replace(e, memo=f"{e.memo} exemplar (pinned)") if e.span in pins else e for e in excerpts]


def _table_quotes(theme: Any, excerpts: list[Excerpt], n: int, used: set) -> list[Excerpt]:
    """Up to ``n`` quotes for a theme's row: its pins first, then the usual rule among passages no
    other row of the table quotes (Lingard 2019: one quote, one claim)."""
    if not n:
        return []
    pins = _pins(excerpts, theme)[:n]
    rest = select_quotes([e for e in excerpts if (e.transcript, e.start, e.end) not in used and (not pins or e not in pins)],
                         n - len(pins))
    chosen = pins + rest
    used.update(e.span for e in chosen)
    return chosen


def _terms(workspace: Workspace, themeset: Any) -> dict[str, list[str]]:
    """Per theme, the words a quote about it should contain: its name, and its codes' names,
    keywords and examples (qualkit.analysis.quote_text.focus_quote stems them)."""
    index = workspace.code_index()
    out: dict[str, list[str]] = {}
    for theme in themeset:
        words = [theme.name]
        for code_id in theme.codes:
            code = index.get(code_id, (None, None))[1]
            if code is not None:
                words += [code.name, *code.keywords, *code.examples]
        out[theme.id] = words
    return out


def _domain_frame(lay: _Layout, theme_excerpts: dict[str, list[Excerpt]], quotes: int, quote_chars: int | None,
                  attributes: Sequence[str]) -> Any:
    """Domain-first results (framework domain, then its themes, then quotes), the order in which
    framework-guided papers report findings (HEIF: Woodward et al. 2019, Implement Sci 14:26):
    one row per (domain, theme)."""
    import pandas as pd

    from qualkit.analysis.themes import item_label

    used = {e.span for t in lay.themeset for e in _pins(theme_excerpts[t.id], t)}
    rows = []
    in_col: dict[str, dict[int, list[Excerpt]]] = {}  # theme -> column -> its excerpts, in one pass per theme
    for theme in lay.themeset:
        places, buckets = _places(lay, theme), in_col.setdefault(theme.id, {})
        for e in theme_excerpts[theme.id]:
            for col_id in places.get(e.code, ()):
                buckets.setdefault(col_id, []).append(e)
    for col, label in zip(lay.columns, lay.labels):
        for theme in lay.themeset:
            inside = distinct(in_col[theme.id].get(id(col), []))
            if not inside:
                continue
            chosen = _table_quotes(theme, inside, quotes, used)
            rows.append({"Domain": label or item_label(col, lay.frameworks), "Theme": theme.name,
                         "Valence": (theme.valence or "not set").capitalize(),
                         "Illustrative quotes": "\n".join(e.formatted(quote_chars, attributes, terms=lay.terms[theme.id])
                                                          for e in chosen)})
    return pd.DataFrame(rows, columns=["Domain", "Theme", "Valence", "Illustrative quotes"])


def _notes(lay: _Layout, cells: str, ex: ExcerptSet, main_fw: str | None) -> list[str]:
    themeset, mappings, frameworks, framework = lay.themeset, lay.mappings, lay.frameworks, lay.framework
    notes = [f"{len(themeset)} theme{plural_s(len(themeset))}; {cells_note(cells)}; columns: {lay.level} level; {ex.source_text()}."]
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
    """Read themes.yaml and map its themes (a mapping error stops here) into the tables' layout.

    Read once per state of themes.yaml and frameworks/ (and of the workspace's inputs): the report's
    count, participants and quotes matrices and `run`'s exports share one layout (not to be modified)."""
    key = ("themes layout", str(path), _file_state(path), _file_state(workspace.root / "frameworks"), level, framework)
    lay, warns = workspace.derived(key, lambda: _read_layout(workspace, level, framework, path))
    return lay, list(warns)


def _read_layout(workspace: Workspace, level: str, framework: str | None, path: Path) -> tuple[_Layout, tuple[str, ...]]:
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
    return (_Layout(themeset, mappings, frameworks, level, framework, columns, labels, _terms(workspace, themeset),
                    _code_items(workspace, themeset, frameworks)), tuple(str(p.message) for p in problems))


def themes_state(workspace: Workspace, themes_file: str | Path | None = None) -> tuple:
    """The state of what a themes table reads besides the workspace's inputs: themes.yaml (or
    ``themes_file``) and the frameworks/ folder (part of the key its results are kept under)."""
    from qualkit.analysis.themes import themes_path

    path = Path(themes_file) if themes_file else themes_path(workspace)
    return str(path), _file_state(path), _file_state(workspace.root / "frameworks")


def _file_state(path: Path) -> tuple:
    """(mtime, size) of a file, or of each file in a folder; None when missing."""
    try:
        if path.is_dir():
            return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in path.iterdir()))
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return ()


def themes_matrix(workspace: Workspace, ex: ExcerptSet, cells: str, level: str, framework: str | None, table: str,
                  quotes: int, quote_chars: int | None, attributes: Sequence[str], themes_file: str | Path | None,
                  params: dict[str, Any], by: str | None = None) -> MatrixResult:
    """The themes × domains matrix and the manuscript table, sections exported one table each.

    With ``by`` (participant, transcript, role, site, ... as for the codes matrix) the first table is
    themes × the cases of ``by`` instead: each theme's excerpts in each case."""
    import pandas as pd

    from qualkit.analysis.themes import LEVELS, themes_path
    from qualkit.render.tables import Table

    check_choice(level, LEVELS, "level for themes")
    check_choice(table, ("matrix", "results", "domains", "equity"), "table")
    path = Path(themes_file) if themes_file else themes_path(workspace)
    lay, warns = _layout(workspace, level, framework, path)
    main_fw = workspace.config.framework
    by_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        by_code.setdefault(e.code, []).append(e)
    rows, compact, theme_excerpts = _matrix_rows(lay, by_code, cells, quotes, quote_chars, attributes)
    matrix_df = pd.DataFrame(rows, columns=["theme", "name", "valence", *lay.labels, "all domains"])
    # The results and domain tables do not depend on the cells: the report's count, participants and
    # quotes matrices (and `run`'s export of the same themes) choose their quotes once.
    shared = ex.__dict__.setdefault("_themes_tables", {})
    key = (_file_state(path), _file_state(workspace.root / "frameworks"), level, framework, quotes, quote_chars,
           tuple(attributes), main_fw)
    if key not in shared:
        shared[key] = (_results_frame(lay, theme_excerpts, quotes, quote_chars, attributes, main_fw),
                       _domain_frame(lay, theme_excerpts, quotes, quote_chars, attributes))
    (results_df, fw_title), domains_df = shared[key]
    notes = _notes(lay, cells, ex, main_fw)
    quote_note = quote_rule(quote_chars)
    equity_df, equity_items = equity_frame(lay.themeset, lay.mappings, lay.frameworks, main_fw, theme_excerpts, cells,
                                           quotes, quote_chars, attributes)
    mapped = [i for m in lay.mappings.values() for i in m.items if not lay.framework or i.framework == lay.framework]
    foot = {name: unverified_footnote(items) for name, items in
            (("matrix", lay.columns), ("results", mapped), ("equity", equity_items))}
    tables = [Table("themes_by_domain", _manuscript_matrix(matrix_df, cells), f"Themes × {fw_title} domains ({cells_note(cells)})",
                    " ".join(x for x in (*notes, foot["matrix"]) if x)
                    + (" " + quote_note if cells in ("quotes", "summary") else ""))]
    notes += [foot["results"]] if foot["results"] else []
    for _valence, section in SECTIONS:
        part = results_df[results_df["Section"] == section].drop(columns=["Section"]).reset_index(drop=True)
        if len(part):
            tables.append(Table(file_stem(section.split(" (")[0]), part, f"{section}: themes mapped onto {fw_title}",
                                " ".join(x for x in (quote_note, foot["results"]) if x)))
    tables.append(Table("results_by_domain", domains_df, f"Findings by {fw_title} domain: themes and illustrative quotes",
                        " ".join(x for x in (quote_note, foot["results"]) if x)))
    if len(equity_df.columns) > 4:
        tables.append(Table("themes_by_equity_domain", equity_df,
                            f"Themes × {fw_title} health-equity domains ({cells_note(cells)})",
                            " ".join(x for x in ("Health-equity domains of Woodward et al. 2021; each cell lists the "
                                                 "theme's determinants in that domain.", foot["equity"]) if x)))
    themeset = lay.themeset
    by_frame = by_display = None
    if by:
        by_frame, by_display, by_note = _by_case(workspace, ex, lay, theme_excerpts, by, cells, quotes, quote_chars,
                                                 attributes)
        tables.insert(0, Table(f"themes_by_{file_stem(by)}", by_frame, f"Themes × {by} ({cells_note(cells)})",
                               " ".join(x for x in (by_note, quote_note if cells in ("quotes", "summary") else "") if x)))
    if lay.framework and not lay.columns and len(themeset):
        warns.append(f"no theme maps onto {lay.framework}: the matrix has no domain columns")
    no_valence = [t.id for t in themeset if t.valence is None]
    if no_valence:
        warns.append(f"theme(s) with no valence: {', '.join(no_valence)} (results table: section 'Valence not set')")
    params.update({"cells": cells, "level": level, "framework": lay.framework, "table": table, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes), "themes": str(path.name),
                   "quote_rule": quote_note, "by": by})
    frame = {"matrix": matrix_df if by_frame is None else by_frame, "results": results_df, "domains": domains_df,
             "equity": equity_df}[table]
    result = MatrixResult("themes", frame, tables, f"Themes and {fw_title} domains" + (f", by {by}" if by else ""),
                          warns, notes, params)
    result.display = (matrix_df if cells in ("count", "presence", "participants")
                      else pd.DataFrame(compact, columns=matrix_df.columns)) if by_display is None else by_display
    return result


def themes_frame(workspace: Workspace, ex: ExcerptSet, cells: str, quotes: int, quote_chars: int | None,
                 attributes: Sequence[str], by: str | None = None) -> Any:
    """The frame of :func:`themes_matrix` alone (themes × domains, or × the cases of ``by``), at the
    default level and framework of themes.yaml: for a reader of the cells only (the report's participants
    and quotes views), without the results, domain and equity tables built around it."""
    import pandas as pd

    from qualkit.analysis.themes import themes_path

    lay, _ = _layout(workspace, "subdomain", None, themes_path(workspace))
    by_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        by_code.setdefault(e.code, []).append(e)
    if by:
        mine = {theme.id: [e for code in theme.codes for e in by_code.get(code, [])] for theme in lay.themeset}
        return _by_case(workspace, ex, lay, mine, by, cells, quotes, quote_chars, attributes)[0]
    rows, _, _ = _matrix_rows(lay, by_code, cells, quotes, quote_chars, attributes)
    return pd.DataFrame(rows, columns=["theme", "name", "valence", *lay.labels, "all domains"])


def _by_case(workspace: Workspace, ex: ExcerptSet, lay: _Layout, theme_excerpts: dict[str, list[Excerpt]], by: str,
             cells: str, quotes: int, quote_chars: int | None, attributes: Sequence[str]) -> tuple[Any, Any, str]:
    """Themes × the cases of ``by`` (the codes matrix's cut): the table, its compact terminal form, its note."""
    import pandas as pd

    from qualkit.analysis.matrices.bycase import case_cut

    cases, case_of = case_cut(workspace, ex, by)
    rows, compact = [], []
    shown = cells not in ("count", "presence", "participants")  # else the table is its own terminal view
    for theme in lay.themeset:
        mine = _pinned_first(theme_excerpts.get(theme.id, []), theme)
        row: dict[str, Any] = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        crow = dict(row)
        used: set = set()
        in_case: dict[str, list[Excerpt]] = {}  # one pass over the theme's excerpts, not one per case
        for e in mine:
            for case in dict.fromkeys(case_of(e)):
                in_case.setdefault(case, []).append(e)
        for case in cases:
            inside = in_case.get(case, [])
            row[case] = cell(inside, cells, quotes, quote_chars, attributes, used, lay.terms[theme.id])
            if shown:
                crow[case] = cell(inside, "compact", 0, None, ())
        row["total"] = (sum(1 for case in cases if row[case]) if cells == "presence" else
                        cell(distinct(mine), cells, 0, None, ()) if cells in ("count", "participants") else
                        counts_text(distinct(mine)) if mine else "")
        if shown:
            crow["total"] = cell(mine, "compact", 0, None, ())
        rows.append(row)
        compact.append(crow)
    columns = ["theme", "name", "valence", *cases, "total"]
    frame = pd.DataFrame(rows, columns=columns)
    display = frame if cells in ("count", "presence", "participants") else pd.DataFrame(compact, columns=columns)
    note = (f"{len(rows)} themes × {len(cases)} {by} cases; {cells_note(cells)}; a passage counts for the {by} of its "
            f"participant, else of its document or section; {ex.source_text()}.")
    return frame, display, note
