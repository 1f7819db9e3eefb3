"""themes.yaml: one pydantic schema (:class:`ThemeEntry`, :class:`ThemesFile`) and the one reader.

:func:`load_themes` validates every theme through :func:`qualkit.io.schema.validate`, which names
the line of each problem. The strict reader (``load_themes``, the first error raised) and the
lenient one (``strict=False``, every problem collected, as `qualkit themes check` shows them) are
the same code: only what happens to an error differs. In the lenient reader a theme with a bad
field keeps its other fields (the bad one falls back: name to the id, a list to its valid items,
text to empty); a theme with no id, or one that is not a mapping, is left out.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from qualkit.coding.codebook_validate import ERROR, WARNING, Problem
from qualkit.errors import ThemesError

__all__ = ["FILE_KEYS", "THEME_KEYS", "VALENCES", "Theme", "ThemeEntry", "ThemeProblem", "ThemeSet", "ThemesFile",  # noqa: F822 (__getattr__)
           "load_themes"]

#: descriptive: context that is neither facilitator nor barrier (who the program serves, how it runs)
VALENCES = ("facilitator", "barrier", "mixed", "descriptive")
THEME_KEYS = ("id", "name", "description", "codes", "domains", "valence", "memo", "quotes")
FILE_KEYS = ("themes", "framework", "codebook")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# keys people write for framework refs by analogy with codebooks or other tools
_DOMAIN_ALIASES = ("framework", "frameworks", "domain", "heif", "cfir", "mapping", "maps", "refs")
_TEXT = (str, int, float)
_CHECK_ORDER = ("id", "name", "description", "memo", "codes", "domains", "valence", "quotes")


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
    quotes: list[str] = field(default_factory=list)  # pinned codings, "transcript:start-end" (`themes quote --pin`)

    def code_line(self, i: int) -> int | None:
        return self.code_lines[i] if i < len(self.code_lines) else self.lines.get("codes", self.line)

    def domain_line(self, i: int) -> int | None:
        return self.domain_lines[i] if i < len(self.domain_lines) else self.lines.get("domains", self.line)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "valence": self.valence, "description": self.description,
                "codes": list(self.codes), "domains": list(self.domains), "memo": self.memo, "quotes": list(self.quotes)}


@dataclass
class ThemeSet:
    """themes.yaml as read: the themes in file order, file-level settings and the problems found."""

    themes: list[Theme] = field(default_factory=list)
    path: Path | None = None
    framework: str | None = None     # default framework for refs without a prefix
    codebook: str | None = None      # the codebook whose codes should all be in a theme
    problems: list[ThemeProblem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Theme]:
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


# ---------------------------------------------------------------------------------------- the schema
# Each field's validator is a plain function, so the lenient reader can keep the fields that pass.

def _id(v: Any) -> str:
    if v in (None, ""):
        raise ValueError("a theme needs an id")
    theme_id = str(v).strip()
    if not _ID_RE.match(theme_id):
        raise ValueError("must be snake_case")
    return theme_id


def _name(v: Any) -> str:
    if v in (None, "") or not isinstance(v, _TEXT):
        raise ValueError("a theme needs a name")
    return str(v).strip()


def _description(v: Any) -> str:
    if v is not None and not isinstance(v, _TEXT):
        raise ValueError("must be text")
    return " ".join(str(v).split()) if v is not None else ""


def _memo(v: Any) -> str:
    if v is not None and not isinstance(v, _TEXT):
        raise ValueError("must be text")
    return str(v).strip() if v is not None else ""


def _items(v: Any) -> list:
    """A list as written: a comma-separated string is split; None is empty."""
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return v


def _refs(v: Any) -> list[str]:
    v = _items(v)
    if not isinstance(v, list) or any(not isinstance(x, _TEXT) or isinstance(x, bool) for x in v):
        raise ValueError("must be a list of ids")
    return [str(x).strip() for x in v]


def _salvaged_refs(v: Any) -> list[str]:
    v = _items(v)
    return [str(x).strip() for x in v if isinstance(x, _TEXT)] if isinstance(v, list) else []


def _valence(v: Any) -> str | None:
    if v in (None, ""):
        return None
    folded = str(v).strip().casefold()
    if folded not in VALENCES:
        raise ValueError("must be facilitator, barrier, mixed or descriptive")
    return folded


def _setting(v: Any) -> str | None:
    if v is not None and not isinstance(v, str):
        raise ValueError("must be an id")
    return v.strip() if isinstance(v, str) and v.strip() else None


_MODELS: list[Any] = []  # ThemeEntry, ThemesFile: made on first use


def _schema() -> tuple[Any, Any]:
    """The file's pydantic models (:class:`ThemeEntry`, :class:`ThemesFile`), made when a themes.yaml is first
    parsed: pydantic builds a model's validator as the class is made, and a themes.yaml read before by the same
    reader is taken from .qualkit/cache/ (:func:`load_themes`) without them."""
    if not _MODELS:
        from pydantic import BaseModel, BeforeValidator, ConfigDict

        class ThemeEntry(BaseModel):
            """One theme of themes.yaml as written (see qualkit.analysis.themes for the meaning of each field)."""

            model_config = ConfigDict(extra="forbid")

            id: Annotated[str, BeforeValidator(_id)]
            name: Annotated[str, BeforeValidator(_name)]
            description: Annotated[str, BeforeValidator(_description)] = ""
            memo: Annotated[str, BeforeValidator(_memo)] = ""
            codes: Annotated[list[str], BeforeValidator(_refs)] = []
            domains: Annotated[list[str], BeforeValidator(_refs)] = []
            valence: Annotated[str | None, BeforeValidator(_valence)] = None
            quotes: Annotated[list[str], BeforeValidator(_refs)] = []

        class ThemesFile(BaseModel):
            """themes.yaml's top level: the themes (each a :class:`ThemeEntry`) and two settings."""

            model_config = ConfigDict(extra="forbid")

            themes: list[Any] | None
            framework: Annotated[str | None, BeforeValidator(_setting)] = None
            codebook: Annotated[str | None, BeforeValidator(_setting)] = None

        ThemeEntry.__qualname__, ThemesFile.__qualname__ = "ThemeEntry", "ThemesFile"
        _MODELS.extend([ThemeEntry, ThemesFile])
    return _MODELS[0], _MODELS[1]


def __getattr__(name: str) -> Any:
    """``ThemeEntry`` and ``ThemesFile``, made when first asked for (:func:`_schema`)."""
    if name in ("ThemeEntry", "ThemesFile"):
        return _schema()[name == "ThemesFile"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_VALIDATORS: dict[str, Callable[[Any], Any]] = {"id": _id, "name": _name, "description": _description, "memo": _memo,
                                                "codes": _refs, "domains": _refs, "valence": _valence, "quotes": _refs}


# ---------------------------------------------------------------------------------------- reading

Report = Callable[..., None]   # problem(message, line, theme=None, kind="file", severity=ERROR)


def _line(node: Any) -> int:
    return node.start_mark.line + 1


def _bad_fields(problems: list) -> dict[str, Any]:
    """Field (the first step of each problem's location) -> its first problem."""
    out: dict[str, Any] = {}
    for p in problems:
        out.setdefault(re.split(r"[.\\[]", p.field)[0] if p.field else "", p)
    return out


def _unknown_field(key: str) -> str:
    if key in _DOMAIN_ALIASES:
        hint = " (framework refs go under 'domains:')"
    else:
        close = difflib.get_close_matches(key, THEME_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(THEME_KEYS)})"
    return f"unknown theme field '{key}'{hint}"


def _field_message(key: str, theme_id: str, value: Any) -> str:
    """What is wrong with a theme's field, as the analyst reads it."""
    if key == "id":
        suggestion = re.sub(r"[^a-z0-9]+", "_", theme_id.lower()).strip("_") or "my_theme"
        return f"theme id '{theme_id}' must be snake_case (lower-case letters, digits and _), e.g. '{suggestion}'"
    if key == "name":
        return f"theme '{theme_id}' has no 'name'"
    if key in ("description", "memo"):
        return f"'{key}' of theme '{theme_id}' must be text"
    if key in ("codes", "domains"):
        return f"'{key}' of theme '{theme_id}' must be a list of {'code ids' if key == 'codes' else 'framework refs'}"
    close = difflib.get_close_matches(str(value).strip().casefold(), VALENCES, n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"valence '{value}' of theme '{theme_id}' must be facilitator, barrier, mixed or descriptive{hint}"


def _theme_values(node: Any, constructor: Any) -> tuple[dict[str, Any], dict[str, int], dict[str, list[int]], list]:
    """A theme's keys as written: values, the line of each key and of each list item, and the unknown keys
    (each with the id seen before it, which names the theme in the problem)."""
    import yaml

    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    unknown: list[tuple[str, int, str | None]] = []
    label = None
    for knode, vnode in node.value:
        key = str(knode.value)
        lines[key] = _line(knode)
        value = constructor.construct_object(vnode, deep=True)
        if key == "id":
            label = str(value or "")
        if key not in THEME_KEYS:
            unknown.append((key, _line(knode), label))
            continue
        values[key] = value
        if key in ("codes", "domains") and isinstance(vnode, yaml.SequenceNode):
            item_lines[key] = [_line(v) for v in vnode.value]
    for key in ("codes", "domains"):
        if isinstance(values.get(key), str):
            item_lines[key] = [lines[key]] * len(_items(values[key]))
    return values, lines, item_lines, unknown


def _read_theme(node: Any, constructor: Any, problem: Report, path: Path) -> Theme | None:
    """One theme validated against :class:`ThemeEntry`; None when it cannot be a theme (no id, not a mapping)."""
    import yaml

    from qualkit.io.schema import validate

    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        problem("each theme must be a mapping with at least id and name", line, kind="field")
        return None
    values, lines, item_lines, unknown = _theme_values(node, constructor)
    for key, key_line, label in unknown:
        problem(_unknown_field(key), key_line, label, "field")
    entry, schema_problems = validate(_schema()[0], {**values, **{k: None for k, _, _ in unknown}}, node, path)
    bad = {k: p for k, p in _bad_fields(schema_problems).items() if k in THEME_KEYS}
    if values.get("id") in (None, ""):
        name = values.get("name")
        problem(f"theme {('named ' + repr(name) + ' ') if name else ''}has no 'id'", line, None, "field")
        return None
    theme_id = str(values["id"]).strip()
    kept: dict[str, Any] = {}
    for key in _CHECK_ORDER:
        if key in bad:
            at = line if key == "name" else lines.get(key, line)
            problem(_field_message(key, theme_id, values.get(key)), at, theme_id, "field")
            kept[key] = {"id": theme_id, "name": theme_id, "codes": _salvaged_refs(values.get("codes")),
                         "domains": _salvaged_refs(values.get("domains"))}.get(key)
        else:
            kept[key] = getattr(entry, key) if entry is not None else _VALIDATORS[key](values.get(key))
    if kept["valence"] is None and "valence" not in bad:
        problem(f"theme '{theme_id}' has no valence (facilitator, barrier, mixed or descriptive): it goes in no "
                "facilitator/barrier section of the results table", line, theme_id, "no-valence", WARNING)
    return Theme(theme_id, kept["name"], kept["description"] or "", kept["codes"], kept["domains"], kept["valence"],
                 kept["memo"] or "", line, lines, item_lines.get("codes", []), item_lines.get("domains", []),
                 kept["quotes"] or [])


def _read_settings(root: Any, constructor: Any, result: ThemeSet, problem: Report, path: Path) -> Any:
    """The top level validated against :class:`ThemesFile`; returns the themes' node (None: no 'themes:')."""
    from qualkit.io.schema import validate

    data: dict[str, Any] = {}
    theme_nodes = None
    for knode, vnode in root.value:
        key = str(knode.value)
        result.lines[key] = _line(knode)
        data[key] = constructor.construct_object(vnode, deep=True)
        if key == "themes":
            theme_nodes = vnode
    entry, schema_problems = validate(_schema()[1], data, root, path)
    bad = _bad_fields(schema_problems)
    for knode, vnode in root.value:
        key = str(knode.value)
        if key not in FILE_KEYS:
            close = difflib.get_close_matches(key, FILE_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(FILE_KEYS)})"
            problem(f"unknown setting '{key}'{hint}", _line(knode))
        elif key in ("framework", "codebook") and key in bad:
            problem(f"'{key}' must be an id such as {'heif' if key == 'framework' else 'my_codebook'}", _line(vnode))
        elif key in ("framework", "codebook"):
            setattr(result, key, _setting(data[key]))
    return theme_nodes


def load_themes(path: str | Path, strict: bool = True) -> ThemeSet:
    """Read themes.yaml.

    With ``strict`` (the default) the first error raises :class:`ThemesError` naming the file and
    line; with ``strict=False`` every problem of every theme is collected in ``.problems`` (a
    YAML syntax error, or a file that is not a mapping, still raises: nothing can be read).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise ThemesError("no such file (create it: a 'themes:' list; see `qualkit themes --help`)", path) from None
    except UnicodeDecodeError as exc:
        raise ThemesError(f"not UTF-8 text (byte {exc.start})", path) from None
    except OSError as exc:
        raise ThemesError(f"cannot read file ({exc.strerror or exc})", path) from None
    kept = _from_kept(path, raw)
    if kept is not None:
        return kept
    result = _parse(path, text, strict)
    if not result.errors:  # warnings alone read the same strictly or not
        _keep(path, raw, result)
    return result


def _readers() -> list[Path]:
    """The source files whose code decides what a themes.yaml reads as (the key of its kept parse)."""
    here = Path(__file__).parent
    return [Path(__file__), here.parent / "io" / "schema.py", here.parent / "io" / "yamlfile.py",
            here.parent / "coding" / "codebook_validate.py"]


def _keep(path: Path, raw: bytes, result: ThemeSet) -> None:
    """Keep a themes.yaml read without an error in .qualkit/cache/ (:mod:`qualkit.io.parsed`), warnings and lines."""
    from dataclasses import asdict

    from qualkit.io.parsed import keep_parse

    if any(p.path != path or p.code is not None for p in result.problems):
        return
    problems = [{"line": p.line, "severity": p.severity, "message": p.message, "theme": p.theme, "kind": p.kind}
                for p in result.problems]
    keep_parse(path, raw, "themes", _readers(), {
        "themes": [asdict(t) for t in result.themes], "framework": result.framework, "codebook": result.codebook,
        "problems": problems, "lines": result.lines})


def _from_kept(path: Path, raw: bytes) -> ThemeSet | None:
    """The themes :func:`_keep` kept for these bytes (no PyYAML, no pydantic), or None."""
    from qualkit.io.parsed import kept_parse

    value = kept_parse(path, raw, "themes", _readers())
    if value is None:
        return None
    try:
        return ThemeSet([Theme(**t) for t in value["themes"]], path, value["framework"], value["codebook"],
                        [ThemeProblem(path, p["line"], p["severity"], p["message"], theme=p["theme"], kind=p["kind"])
                         for p in value["problems"]], dict(value["lines"]))
    except (KeyError, TypeError, ValueError, AttributeError):  # a damaged entry is a miss
        return None


def _parse(path: Path, text: str, strict: bool) -> ThemeSet:
    """themes.yaml's text parsed and checked (:func:`load_themes` without its cache)."""
    import yaml

    from qualkit.io.yamlfile import compose_yaml, construct_yaml

    root = compose_yaml(text, path, ThemesError)
    result = ThemeSet(path=path)
    if root is None:
        return result
    construct_yaml(root, path, ThemesError)  # a bad explicit tag (!!int abc) is one line naming it
    constructor = yaml.SafeLoader("")

    def problem(message: str, line: int | None, theme: str | None = None, kind: str = "file",
                severity: str = ERROR) -> None:
        if strict and severity == ERROR:
            raise ThemesError(message, path, line)
        result.problems.append(ThemeProblem(path, line, severity, message, theme=theme, kind=kind))

    if isinstance(root, yaml.SequenceNode):
        theme_nodes = root  # a bare list of themes is accepted
    elif isinstance(root, yaml.MappingNode):
        theme_nodes = _read_settings(root, constructor, result, problem, path)
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
        theme = _read_theme(node, constructor, problem, path)
        if theme is None:
            continue
        if theme.id in seen:
            problem(f"duplicate theme id '{theme.id}' (already used on line {seen[theme.id]})",
                    theme.lines.get("id", theme.line), theme.id, "duplicate-id")
            continue
        seen[theme.id] = theme.lines.get("id", theme.line)
        result.themes.append(theme)
    return result
