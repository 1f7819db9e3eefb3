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

:func:`load_themes` reads the file (errors name file and line); :func:`check_themes` checks it
against the workspace: unknown codes, unknown domains (with close matches), duplicate ids, codes
in no theme, themes with no coded excerpt, and the domains of the workspace's framework that no
theme touches.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.codebook_validate import ERROR, WARNING, Problem, summary
from qualkit.errors import QualkitError, ThemesError

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

THEMES_NAME = "themes.yaml"
VALENCES = ("facilitator", "barrier", "mixed")
THEME_KEYS = ("id", "name", "description", "codes", "domains", "valence", "memo")
FILE_KEYS = ("themes", "framework", "codebook")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# keys people write for framework refs by analogy with codebooks or other tools
_DOMAIN_ALIASES = ("framework", "frameworks", "domain", "heif", "cfir", "mapping", "maps", "refs")


@dataclass
class ThemeProblem(Problem):
    """A problem found in themes.yaml or by :func:`check_themes`; ``kind`` says which check."""

    theme: str | None = None
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "theme": self.theme, "kind": self.kind}


@dataclass
class Theme:
    """One theme: the codes it groups and the framework refs it maps onto (``domains``)."""

    id: str
    name: str
    description: str = ""
    codes: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    valence: str | None = None
    memo: str = ""
    line: int | None = field(default=None, compare=False, repr=False)
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)        # key -> line
    code_lines: list[int] = field(default_factory=list, compare=False, repr=False)        # line of each code
    domain_lines: list[int] = field(default_factory=list, compare=False, repr=False)      # line of each ref

    def code_line(self, i: int) -> int | None:
        return self.code_lines[i] if i < len(self.code_lines) else self.lines.get("codes", self.line)

    def domain_line(self, i: int) -> int | None:
        return self.domain_lines[i] if i < len(self.domain_lines) else self.lines.get("domains", self.line)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "valence": self.valence, "description": self.description,
                "codes": list(self.codes), "domains": list(self.domains), "memo": self.memo}


@dataclass
class ThemeSet:
    """themes.yaml as read: the themes in file order, file-level settings and the problems found."""

    themes: list[Theme] = field(default_factory=list)
    path: Path | None = None
    framework: str | None = None     # default framework for refs without a prefix
    codebook: str | None = None      # the codebook whose codes should all be in a theme
    problems: list[ThemeProblem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def __iter__(self):
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def get(self, key: str) -> Theme | None:
        """A theme by id, else by name (case-insensitive)."""
        for t in self.themes:
            if t.id == key:
                return t
        folded = " ".join(str(key).split()).casefold()
        return next((t for t in self.themes if " ".join(t.name.split()).casefold() == folded), None)

    @property
    def errors(self) -> list[ThemeProblem]:
        return [p for p in self.problems if p.is_error]


# ---------------------------------------------------------------------------------------- reading

def _line(node) -> int:
    return node.start_mark.line + 1


def load_themes(path: str | Path, strict: bool = True) -> ThemeSet:
    """Read themes.yaml.

    With ``strict`` (the default) the first error raises :class:`ThemesError` naming the file and
    line; with ``strict=False`` every problem of every theme is collected in ``.problems`` (a
    YAML syntax error, or a file that is not a mapping, still raises: nothing can be read).
    """
    import yaml

    from qualkit.io.yamlfile import compose_yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ThemesError("no such file (create it: a 'themes:' list; see `qualkit themes --help`)", path) from None
    except UnicodeDecodeError as exc:
        raise ThemesError(f"not UTF-8 text (byte {exc.start})", path) from None
    root = compose_yaml(text, path, ThemesError)
    result = ThemeSet(path=path)
    if root is None:
        return result
    constructor = yaml.SafeLoader("")
    problems = result.problems

    def problem(message: str, line: int | None, theme: str | None = None, kind: str = "file", severity: str = ERROR) -> None:
        p = ThemeProblem(path, line, severity, message, theme=theme, kind=kind)
        if strict and severity == ERROR:
            raise ThemesError(message, path, line)
        problems.append(p)

    if isinstance(root, yaml.SequenceNode):
        theme_nodes = root  # a bare list of themes is accepted
    elif isinstance(root, yaml.MappingNode):
        theme_nodes = None
        for knode, vnode in root.value:
            key = str(knode.value)
            result.lines[key] = _line(knode)
            if key == "themes":
                theme_nodes = vnode
            elif key in ("framework", "codebook"):
                value = constructor.construct_object(vnode, deep=True)
                if value is not None and not isinstance(value, str):
                    problem(f"'{key}' must be an id such as {'heif' if key == 'framework' else 'my_codebook'}", _line(vnode))
                    continue
                setattr(result, key, value.strip() if isinstance(value, str) and value.strip() else None)
            else:
                close = difflib.get_close_matches(key, FILE_KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(FILE_KEYS)})"
                problem(f"unknown setting '{key}'{hint}", _line(knode))
        if theme_nodes is None:
            problem("no 'themes:' list (write 'themes: []' for none yet)", 1)
            return result
    else:
        raise ThemesError("must be a mapping with a 'themes:' list", path, _line(root))
    if isinstance(theme_nodes, yaml.ScalarNode) and constructor.construct_object(theme_nodes) is None:
        return result
    if not isinstance(theme_nodes, yaml.SequenceNode):
        problem("'themes' must be a list of themes (each starting with '- id: ...')", _line(theme_nodes))
        return result
    seen: dict[str, int | None] = {}
    for node in theme_nodes.value:
        theme = _read_theme(node, constructor, problem)
        if theme is None:
            continue
        if theme.id in seen:
            problem(f"duplicate theme id '{theme.id}' (already used on line {seen[theme.id]})",
                    theme.lines.get("id", theme.line), theme.id, "duplicate-id")
            continue
        seen[theme.id] = theme.lines.get("id", theme.line)
        result.themes.append(theme)
    return result


def _read_theme(node, constructor, problem) -> Theme | None:
    import yaml

    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        problem("each theme must be a mapping with at least id and name", line, kind="field")
        return None
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    label = None
    for knode, vnode in node.value:
        key = str(knode.value)
        lines[key] = _line(knode)
        if key == "id":
            label = str(constructor.construct_object(vnode, deep=True) or "")
        if key not in THEME_KEYS:
            if key in _DOMAIN_ALIASES:
                hint = " (framework refs go under 'domains:')"
            else:
                close = difflib.get_close_matches(key, THEME_KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(THEME_KEYS)})"
            problem(f"unknown theme field '{key}'{hint}", _line(knode), label, "field")
            continue
        values[key] = constructor.construct_object(vnode, deep=True)
        if key in ("codes", "domains") and isinstance(vnode, yaml.SequenceNode):
            item_lines[key] = [_line(v) for v in vnode.value]
    theme_id = values.get("id")
    if theme_id in (None, ""):
        name = values.get("name")
        problem(f"theme {('named ' + repr(name) + ' ') if name else ''}has no 'id'", line, None, "field")
        return None
    theme_id = str(theme_id).strip()
    if not _ID_RE.match(theme_id):
        suggestion = re.sub(r"[^a-z0-9]+", "_", theme_id.lower()).strip("_") or "my_theme"
        problem(f"theme id '{theme_id}' must be snake_case (lower-case letters, digits and _), e.g. '{suggestion}'",
                lines.get("id", line), theme_id, "field")
    name = values.get("name")
    if name in (None, "") or not isinstance(name, (str, int, float)):
        problem(f"theme '{theme_id}' has no 'name'", line, theme_id, "field")
        name = theme_id
    texts = {}
    for key in ("description", "memo"):
        v = values.get(key)
        if v is not None and not isinstance(v, (str, int, float)):
            problem(f"'{key}' of theme '{theme_id}' must be text", lines.get(key, line), theme_id, "field")
            v = None
        texts[key] = " ".join(str(v).split()) if key == "description" and v is not None else (str(v).strip() if v is not None else "")
    lists = {}
    for key in ("codes", "domains"):
        v = values.get(key)
        if v is None:
            v = []
        elif isinstance(v, str):
            v = [x.strip() for x in v.split(",") if x.strip()]
            item_lines[key] = [lines[key]] * len(v)
        if not isinstance(v, list) or any(not isinstance(x, (str, int, float)) or isinstance(x, bool) for x in v):
            problem(f"'{key}' of theme '{theme_id}' must be a list of {'code ids' if key == 'codes' else 'framework refs'}",
                    lines.get(key, line), theme_id, "field")
            v = [x for x in v if isinstance(x, (str, int, float))] if isinstance(v, list) else []
        lists[key] = [str(x).strip() for x in v]
    valence = values.get("valence")
    if valence in (None, ""):
        problem(f"theme '{theme_id}' has no valence (facilitator, barrier or mixed): it goes in no "
                "facilitator/barrier section of the results table", line, theme_id, "no-valence", WARNING)
        valence = None
    else:
        folded = str(valence).strip().casefold()
        if folded not in VALENCES:
            close = difflib.get_close_matches(folded, VALENCES, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problem(f"valence '{valence}' of theme '{theme_id}' must be facilitator, barrier or mixed{hint}",
                    lines.get("valence", line), theme_id, "field")
            valence = None
        else:
            valence = folded
    return Theme(theme_id, str(name).strip(), texts["description"], lists["codes"], lists["domains"], valence,
                 texts["memo"], line, lines, item_lines.get("codes", []), item_lines.get("domains", []))


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
                    add(mapping.items, resolve_ref(ref, frameworks=frameworks, default=default))
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


def _excerpt_counts(workspace: Workspace, check: ThemeCheck, coder: str | None, include_facilitators: bool,
                    path: Path, problems: list[ThemeProblem]) -> dict[str, int]:
    """Coded excerpts per code and per theme (from the same codings as matrices); themes with none."""
    from qualkit.analysis.sources import load_excerpts

    used: dict[str, int] = {}
    try:
        ex = load_excerpts(workspace, coder, include_facilitators=include_facilitators)
    except QualkitError as exc:
        problems.append(ThemeProblem(exc.path, exc.line, ERROR, exc.message, kind="codings"))
        return used
    check.notes.append(ex.source_text())
    check.notes.extend(ex.warnings)
    for e in ex.excerpts:
        used[e.code] = used.get(e.code, 0) + 1
    for theme in check.themeset:
        spans = {e.span for e in ex.excerpts if e.code in theme.codes}
        check.excerpts[theme.id] = len(spans)
        if ex.excerpts and not spans:
            problems.append(ThemeProblem(path, theme.line, WARNING,
                                         f"theme '{theme.id}' has no coded excerpt ({ex.source_label()})",
                                         theme=theme.id, kind="no-excerpts"))
    if not ex.excerpts:
        check.notes.append("no codings yet: cannot tell which themes have coded excerpts")
    return used


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
    book_id = themeset.codebook or workspace.config.raw.get("codebook")
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
