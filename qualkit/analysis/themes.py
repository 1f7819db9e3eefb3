"""Themes (themes.yaml): codes grouped into themes, each mapped onto implementation-framework domains.

This is the step of the seed study (Senthilkumar et al. 2024): code inductively, build themes from
the codes, then map each theme onto HEIF (or any framework; several at once are fine). File format::

    framework: heif          # optional: framework for refs written without a prefix
                             #   (default: qualkit.yaml's framework)
    codebook: port_inductive # optional: the codebook whose codes should all be in a theme
                             #   (default: qualkit.yaml's codebook, else every codebook)
    themes:
      - id: information_flow             # snake_case, unique
        name: Information does not flow between partners
        valence: barrier                 # facilitator | barrier | mixed
        description: >
          One or two sentences a reader of the results table sees.
        codes: [referral_delays, data_sharing_hipaa, closing_the_loop]
        domains:                         # framework refs; empty: the codes' own refs (codebook)
          - heif:interorganizational_networks_and_relationships
          - cfir2:outer_setting.partnerships_connections
        memo: >
          The analyst's memo: how the theme was built, doubts, decisions.

A theme's **mapping** is its ``domains`` when given; when the list is empty it defaults to the
framework refs of its codes (the codebook's ``framework:`` field), code by code, so that each
excerpt is placed under the domains of the code it carries.

:func:`load_themes` (in :mod:`qualkit.analysis.themes_file`, with the file's pydantic schema) reads
the file (errors name file and line); :func:`check_themes` checks it
against the workspace: unknown codes, unknown domains (with close matches), duplicate ids, codes
in no theme, themes with no coded excerpt, and the domains of the workspace's framework that no
theme touches.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.themes_file import (
    FILE_KEYS,
    THEME_KEYS,
    VALENCES,
    Theme,
    ThemeProblem,
    ThemeSet,
    load_themes,
)
from qualkit.coding.codebook_validate import ERROR, WARNING, Problem, summary
from qualkit.errors import QualkitError, ThemesError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["FILE_KEYS", "LEVELS", "THEMES_NAME", "THEME_KEYS", "VALENCES", "Theme", "ThemeCheck", "ThemeEntry",  # noqa: F822 (made on first use: __getattr__)
           "ThemeMapping", "ThemeProblem", "ThemeSet", "ThemesError", "ThemesFile", "ancestry", "at_level",  # noqa: F822
           "check_themes", "default_framework", "item_label", "load_themes", "theme_mappings", "themes_path"]

THEMES_NAME = "themes.yaml"


def __getattr__(name: str) -> Any:
    """``ThemeEntry`` and ``ThemesFile``, the file's pydantic models, made when first asked for."""
    if name in ("ThemeEntry", "ThemesFile"):
        from qualkit.analysis import themes_file

        return getattr(themes_file, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------- mapping

@dataclass
class ThemeMapping:
    """Where a theme sits in the frameworks: ``items`` (resolved, in order, no repeats).

    ``from_codes`` is True when the theme's ``domains`` is empty and the mapping comes from its
    codes' framework refs; ``by_code`` then says which items each code brings.
    """

    theme: Theme
    items: list = field(default_factory=list)          # FrameworkItem
    from_codes: bool = False
    by_code: dict[str, list] = field(default_factory=dict)
    ref_index: dict[str, int] = field(default_factory=dict)  # item ref -> index in the theme's `domains`

    def items_for_code(self, code: str) -> list:
        """The items an excerpt of ``code`` is placed under."""
        return self.by_code.get(code, []) if self.from_codes else self.items


def default_framework(workspace: Workspace, themeset: ThemeSet | None = None) -> str | None:
    """The framework of refs written without a prefix: themes.yaml's, else qualkit.yaml's."""
    return (themeset.framework if themeset is not None and themeset.framework else None) or workspace.config.framework


def theme_mappings(workspace: Workspace, themeset: ThemeSet, frameworks: dict | None = None,
                   problems: list[ThemeProblem] | None = None) -> dict[str, ThemeMapping]:
    """Each theme's resolved mapping (see :class:`ThemeMapping`). Refs that do not resolve are left
    out and, when ``problems`` is given, reported there (errors for the theme's own refs, with the
    close matches; warnings for a code's refs, which `qualkit codebook validate` reports too)."""
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    frameworks = frameworks if frameworks is not None else workspace.frameworks()
    default = default_framework(workspace, themeset)
    index = workspace.code_index()
    out: dict[str, ThemeMapping] = {}
    warned: set[tuple[str, str]] = set()

    def add(items: list, item: Any) -> None:
        if all(i is not item for i in items):
            items.append(item)

    for theme in themeset:
        mapping = ThemeMapping(theme)
        if theme.domains:
            for i, ref in enumerate(theme.domains):
                try:
                    found = resolve_ref(ref, frameworks=frameworks, default=default)
                    add(mapping.items, found)
                    mapping.ref_index.setdefault(found.ref, i)
                except FrameworkError as exc:
                    if problems is not None:
                        problems.append(ThemeProblem(themeset.path, theme.domain_line(i), ERROR,
                                                     f"theme '{theme.id}': {exc.message}", theme=theme.id,
                                                     kind="unknown-domain"))
        else:
            mapping.from_codes = True
            for code in theme.codes:
                entry = index.get(code)
                if entry is None:
                    continue
                book, c = entry
                items: list = []
                for ref in c.framework:
                    try:
                        item = resolve_ref(ref, frameworks=frameworks, default=book.framework or default)
                    except FrameworkError as exc:
                        if problems is not None and (code, ref) not in warned:
                            warned.add((code, ref))
                            problems.append(ThemeProblem(book.path, c.line, WARNING,
                                                         f"code '{code}' (in theme '{theme.id}'): {exc.message}; "
                                                         "left out of the theme's mapping", theme=theme.id,
                                                         code=code, kind="unknown-code-domain"))
                        continue
                    add(items, item)
                    add(mapping.items, item)
                mapping.by_code[code] = items
        out[theme.id] = mapping
    return out


# ---------------------------------------------------------------------------------------- checking

@dataclass
class ThemeCheck:
    """What :func:`check_themes` found: ``problems`` (errors and warnings), ``notes`` (context, such
    as which codings were used), the themes as read and their mappings."""

    themeset: ThemeSet
    problems: list[ThemeProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mappings: dict[str, ThemeMapping] = field(default_factory=dict)
    excerpts: dict[str, int] = field(default_factory=dict)   # theme id -> n coded excerpts

    @property
    def errors(self) -> list[ThemeProblem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[ThemeProblem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        problems: list[Problem] = list(self.problems)
        return summary(problems)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.themeset.path) if self.themeset.path else None, "themes": len(self.themeset),
                "ok": self.ok, "summary": self.summary(), "problems": [p.as_dict() for p in self.problems],
                "notes": list(self.notes), "excerpts": dict(self.excerpts)}


def themes_path(workspace: Workspace) -> Path:
    """The workspace's themes.yaml."""
    return workspace.root / THEMES_NAME


def _code_problems(themeset: ThemeSet, index: dict, path: Path, problems: list[ThemeProblem]) -> None:
    """Unknown codes (with close matches, also by name), a code listed twice, a theme with no codes."""
    names = {" ".join(c.name.split()).casefold(): cid for cid, (_, c) in index.items()}
    for theme in themeset:
        seen: set[str] = set()
        for i, code in enumerate(theme.codes):
            if code in seen:
                problems.append(ThemeProblem(path, theme.code_line(i), WARNING,
                                             f"theme '{theme.id}' lists code '{code}' twice", theme=theme.id,
                                             code=code, kind="duplicate-code"))
            seen.add(code)
            if code not in index:
                by_name = names.get(" ".join(code.split()).casefold())
                close = [by_name] if by_name else difflib.get_close_matches(code, list(index), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                problems.append(ThemeProblem(path, theme.code_line(i), ERROR,
                                             f"theme '{theme.id}': unknown code '{code}' (in no codebook){hint}",
                                             theme=theme.id, code=code, kind="unknown-code"))
        if not theme.codes:
            problems.append(ThemeProblem(path, theme.line, WARNING, f"theme '{theme.id}' groups no codes",
                                         theme=theme.id, kind="no-codes"))


def _unmapped_problems(check: ThemeCheck, path: Path, problems: list[ThemeProblem]) -> None:
    """Themes that map onto no framework domain (and whose refs are not already reported as unknown)."""
    for theme in check.themeset:
        m = check.mappings[theme.id]
        if not m.items and not any(p.theme == theme.id and p.kind == "unknown-domain" for p in problems):
            where = "and its codes have no framework refs" if theme.codes else ""
            problems.append(ThemeProblem(path, theme.lines.get("domains", theme.line), WARNING,
                                         f"theme '{theme.id}' maps onto no framework domain (empty 'domains' {where})".replace(" )", ")"),
                                         theme=theme.id, kind="no-domains"))


def _unverified_problems(check: ThemeCheck, path: Path, problems: list[ThemeProblem]) -> None:
    """One warning for every framework item a theme maps onto whose name was not verified in the source
    (footnoted † in exported tables): each item once, with the themes that use it, at the first line
    that maps onto one, so a reader does not take them for the framework's words."""
    uses: dict[str, tuple[Any, list[str]]] = {}
    first_line: int | None = None
    for theme in check.themeset:
        m = check.mappings.get(theme.id)
        for item in (m.items if m else []):
            if item.verified:
                continue
            if first_line is None:
                index = m.ref_index.get(item.ref) if m else None
                first_line = theme.domain_line(index) if index is not None else theme.lines.get("domains", theme.line)
            _item, themes = uses.setdefault(item.ref, (item, []))
            if theme.id not in themes:
                themes.append(theme.id)
    if not uses:
        return
    n_themes = len({t for _i, ts in uses.values() for t in ts})
    parts = []
    for ref, (item, themes) in uses.items():
        parts.append(f"{ref}{'*' if item.status == 'inherited' else ''} ({', '.join(themes)})")
    inherited = any(item.status == "inherited" for item, _t in uses.values())
    why = " (* inherited from the parent framework, not confirmed in this one's papers)" if inherited else ""
    problems.append(ThemeProblem(path, first_line, WARNING,
                                 f"{n_themes} theme{plural_s(n_themes)} map onto {len(uses)} framework item{plural_s(len(uses))} not verified against "
                                 f"the framework's source{why}; tables footnote them with †: " + "; ".join(parts),
                                 theme=None, kind="unverified-domain"))


def _excerpt_counts(workspace: Workspace, check: ThemeCheck, coder: str | None, include_facilitators: bool,
                    path: Path, problems: list[ThemeProblem]) -> dict[str, int]:
    """Coded excerpts per code and per theme (from the same codings as matrices); themes with none.
    Counted as the codings stream by (:func:`~qualkit.analysis.excerpt_tally.excerpt_tally`), without
    building the excerpts: `qualkit status` runs this check on every study."""
    from qualkit.analysis.excerpt_tally import excerpt_tally

    try:
        ex = excerpt_tally(workspace, coder, include_facilitators=include_facilitators)
    except QualkitError as exc:
        problems.append(ThemeProblem(exc.path, exc.line, ERROR, exc.message, kind="codings"))
        return {}
    check.notes.append(ex.source_text())
    check.notes.extend(ex.warnings)
    for theme in check.themeset:
        spans = ex.spans_with(theme.codes)  # a span holding several of the theme's codes counts once
        check.excerpts[theme.id] = spans
        if ex.excerpts and not spans:
            problems.append(ThemeProblem(path, theme.line, WARNING,
                                         f"theme '{theme.id}' has no coded excerpt ({ex.source_label()})",
                                         theme=theme.id, kind="no-excerpts"))
    if not ex.excerpts:
        check.notes.append("no codings yet: cannot tell which themes have coded excerpts")
    return ex.codes


def _codes_in_no_theme(themeset: ThemeSet, scope: list, used: dict[str, int], index: dict,
                       problems: list[ThemeProblem]) -> None:
    """Codes of the themes' codebook, and codes used in the codings, that no theme groups."""
    in_theme = {c for t in themeset for c in t.codes}
    reported: set[str] = set()
    for book in scope:
        for code in book.codes:
            if code.status == "retired" or code.id in in_theme:
                continue
            reported.add(code.id)
            n = used.get(code.id, 0)
            problems.append(ThemeProblem(book.path, code.line, WARNING,
                                         f"code '{code.id}' ({code.name}) is in no theme"
                                         + (f" ({n} coded excerpt{'s' if n != 1 else ''})" if n else ""),
                                         code=code.id, kind="code-in-no-theme"))
    for code_id, n in sorted(used.items()):
        if code_id in in_theme or code_id in reported or code_id not in index:
            continue
        book, code = index[code_id]
        problems.append(ThemeProblem(book.path, code.line, WARNING,
                                     f"code '{code_id}' ({code.name}) is in no theme ({n} coded excerpt{'s' if n != 1 else ''})",
                                     code=code_id, kind="code-in-no-theme"))


def _gap_problems(workspace: Workspace, check: ThemeCheck, frameworks: dict, path: Path,
                  problems: list[ThemeProblem]) -> None:
    """Domains (and sub-domains) of the workspace's framework that no theme touches."""
    fw_id = workspace.config.framework
    fw = frameworks.get(fw_id) if fw_id else None
    if fw_id and fw is None:
        check.notes.append(f"qualkit.yaml's framework '{fw_id}' is not available: no gap check")
    if fw is None or not len(check.themeset):
        return
    touched = [i for m in check.mappings.values() for i in m.items if i.framework == fw.id]
    for item in fw.items():
        if item.kind not in ("domain", "subdomain"):
            continue
        if not any(t.path == item.path or t.path.startswith(item.path + ".") for t in touched):
            problems.append(ThemeProblem(path, None, WARNING,
                                         f"no theme maps onto {item.path_ref} ({item.label}): a gap to report or to look for",
                                         kind="uncovered-domain"))


def check_themes(workspace: Workspace, path: str | Path | None = None, coder: str | None = None,
                 include_facilitators: bool = False) -> ThemeCheck:
    """Check themes.yaml against the workspace (see the module docstring); never raises on content.

    ``coder`` picks the codings used to see which themes have coded excerpts (default: consensus,
    else all coders pooled, as for matrices).
    """
    path = Path(path) if path is not None else themes_path(workspace)
    try:
        themeset = load_themes(path, strict=False)
    except ThemesError as exc:
        check = ThemeCheck(ThemeSet(path=path))
        check.problems.append(ThemeProblem(exc.path, exc.line, ERROR, exc.message, kind="file"))
        return check
    check = ThemeCheck(themeset, problems=list(themeset.problems))
    problems = check.problems
    index = workspace.code_index()
    _code_problems(themeset, index, path, problems)
    frameworks = workspace.frameworks()
    check.mappings = theme_mappings(workspace, themeset, frameworks, problems)
    _unmapped_problems(check, path, problems)
    _unverified_problems(check, path, problems)
    book_id = themeset.codebook or workspace.config.codebook
    books = workspace.codebooks()
    scope = [b for b in books if b.id == book_id] if book_id else books
    if book_id and not scope:
        problems.append(ThemeProblem(path, themeset.lines.get("codebook"), ERROR,
                                     f"no codebook '{book_id}' (known: {', '.join(b.id for b in books) or 'none'})",
                                     kind="unknown-codebook"))
    used = _excerpt_counts(workspace, check, coder, include_facilitators, path, problems)
    _codes_in_no_theme(themeset, scope, used, index, problems)
    _gap_problems(workspace, check, frameworks, path, problems)
    check.problems = _sorted(problems, path)
    return check


def _sorted(problems: list[ThemeProblem], themes_file: Path) -> list[ThemeProblem]:
    """Errors first, then themes.yaml's problems by line, then the codebooks', then file-level ones."""
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (str(p.path), p.line, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)

    def order(p: ThemeProblem) -> tuple:
        return (0 if p.is_error else 1, 0 if p.path == themes_file else 1, str(p.path or ""), p.line is None, p.line or 0)

    return sorted(out, key=order)


# ---------------------------------------------------------------------------------------- display

LEVELS = ("domain", "subdomain", "item")


def ancestry(item: Any, frameworks: dict) -> list:
    """The items from the domain down to ``item`` (ids are unique within a framework)."""
    fw = frameworks.get(item.framework)
    if fw is None:
        return [item]
    chain = []
    for seg in item.path.split("."):
        found = fw.get(seg)
        chain.append(found if found is not None else item)
    chain[-1] = item
    return chain


def at_level(item: Any, frameworks: dict, level: str = "subdomain") -> Any:
    """``item`` rolled up to a level: its ``domain``; its nearest ``subdomain`` (or its domain when
    it has none); or the ``item`` itself."""
    if level == "item":
        return item
    chain = ancestry(item, frameworks)
    if level == "domain":
        return chain[0]
    if level == "subdomain":
        anchors = [i for i in chain if i.kind in ("domain", "subdomain")]
        return anchors[-1] if anchors else chain[0]
    raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def item_label(item: Any, frameworks: dict) -> str:
    """A framework item as a reader sees it: 'Outer context: Regulatory frameworks'.

    Domains and sub-domains are their label; a construct is prefixed with its nearest domain or
    sub-domain ('Societal context: Physical structures').
    """
    if item.kind in ("domain", "subdomain"):
        return item.label
    anchor = at_level(item, frameworks, "subdomain")
    if anchor is item:
        return item.label
    return f"{anchor.label}: {item.label}"
