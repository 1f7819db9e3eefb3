"""Reading framework files into :class:`~qualkit.frameworks.model.Framework` objects: one pydantic
schema (:mod:`qualkit.frameworks.schema`) checked through :mod:`qualkit.io.schema`, then ``extends:``
merged and ids and codes checked across the whole framework. Every problem names its file and line.

:func:`framework_problems` lists every problem of a file (lenient); :func:`load_framework` and the
functions that find frameworks raise :class:`~qualkit.errors.FrameworkError` for the first one.
"""
from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import FrameworkError
from qualkit.frameworks.model import (
    CHILD_KEYS,
    UNCONFIRMED,
    Framework,
    FrameworkItem,
)
from qualkit.io.schema import SchemaProblem, node_line, validate
from qualkit.io.yamlfile import compose_yaml, construct_yaml

__all__ = ["available_frameworks", "builtin_frameworks", "framework_problems", "load_framework"]


@dataclass
class _Spec:
    """One item (or the framework itself) as written in a file, before merging and indexing."""

    fields: dict[str, Any]
    lines: dict[str, int]              # key -> line (1-based) of the key
    line: int | None
    file: Path | str | None
    children: dict[str, list[_Spec]] = field(default_factory=dict)


_SPEC_CACHE: dict[tuple[str, int, int], _Spec] = {}


def _err(message: str, path: Any, line: int | None) -> FrameworkError:
    return FrameworkError(message, path, line)


# ----------------------------------------------------------------------------------- reading
def _duplicate_keys(node: Any, what: str, kind: str, path: Any) -> list[SchemaProblem]:
    """Keys given twice in one mapping (YAML keeps the last silently), in the framework's item tree.

    ``kind``: "framework", an item kind, or "citation"; it says which keys hold lists to look into."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    where = Path(str(path)) if path is not None else None
    problems: list[SchemaProblem] = []
    seen: dict[str, int] = {}
    child_kinds = dict(CHILD_KEYS.get(kind, {}))
    if kind == "framework":
        child_kinds["citation"] = "citation"
    for knode, vnode in node.value:
        key, line = str(knode.value), knode.start_mark.line + 1
        if key in seen:
            problems.append(SchemaProblem(where, line, key, f"'{key}' is given twice in {what} (first on line {seen[key]})"))
            continue
        seen[key] = line
        child_kind = child_kinds.get(key)
        if child_kind is None:
            continue
        for child in vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]:
            problems += _duplicate_keys(child, f"a {child_kind}", child_kind, path)
    return problems


def _problems_and_spec(text: str, path: Any) -> tuple[list[SchemaProblem], _Spec | None]:
    """Every problem of one framework file, by line, and its spec tree when there are none."""

    from qualkit.frameworks.schema import FrameworkSpec

    node = compose_yaml(text, path, FrameworkError)
    where = Path(str(path)) if path is not None else None
    if node is None:
        return [SchemaProblem(where, 1, "", "empty framework file (it needs id, name and domains)")], None
    data = construct_yaml(node, path, FrameworkError)
    problems = _duplicate_keys(node, "the framework file", "framework", path)
    model, found = validate(FrameworkSpec, data, node, where)
    problems += found
    if model is not None:
        given = model.model_fields_set
        if model.id is None:
            problems.append(SchemaProblem(where, 1, "id", "the framework has no 'id' (e.g. id: heif)"))
        elif model.extends is None and model.name is None:
            problems.append(SchemaProblem(where, 1, "name", f"framework '{model.id}' has no 'name'"))
        elif model.extends is None and "domains" not in given:
            problems.append(SchemaProblem(where, 1, "domains", f"framework '{model.id}' has no 'domains'"))
    problems.sort(key=lambda p: p.line or 0)
    if problems or model is None:
        return problems, None
    return [], _spec_of(model, (), node, path)


def _spec_of(model: Any, loc: tuple[str | int, ...], node: Any, path: Any) -> _Spec:
    """The spec tree of a validated model: the keys the file gives, with their lines."""
    kind = getattr(model, "KIND", "framework")
    children_keys = CHILD_KEYS[kind]
    spec = _Spec(fields={}, lines={}, line=node_line(node, loc), file=path)
    for key in type(model).model_fields:
        if key not in model.model_fields_set:
            continue
        line = node_line(node, (*loc, key))
        spec.lines[key] = line if line is not None else 1
        value = getattr(model, key)
        if key in children_keys:
            spec.children[key] = [_spec_of(child, (*loc, key, i), node, path) for i, child in enumerate(value)]
        else:
            spec.fields[key] = value
    return spec


def framework_problems(path: str | Path) -> list[SchemaProblem]:
    """Every problem of one framework file (syntax, unknown keys, bad values), each with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [SchemaProblem(path, None, "", "no such file")]
    except UnicodeDecodeError:
        return [SchemaProblem(path, None, "", "not UTF-8 text")]
    try:
        return _problems_and_spec(text, path)[0]
    except FrameworkError as exc:  # a YAML syntax error
        return [SchemaProblem(path, exc.line, "", exc.message)]


def _read_spec(text: str, path: Any) -> _Spec:
    """Parse one framework file into a spec tree; the first problem (by line) raises FrameworkError."""
    problems, spec = _problems_and_spec(text, path)
    if problems:
        first = problems[0]
        raise _err(first.message, path, first.line)
    assert spec is not None
    return spec


def _spec_from_file(path: Path) -> _Spec:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FrameworkError("no such file", path) from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _SPEC_CACHE:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise FrameworkError("not UTF-8 text", path) from None
        _SPEC_CACHE[key] = _read_spec(text, path)
    return _SPEC_CACHE[key]


# ----------------------------------------------------------------------------------- building
def _merge(base: list[_Spec], extra: list[_Spec]) -> list[_Spec]:
    """Children of ``extra`` amend same-id children of ``base`` (recursively) or are appended."""
    out = [copy.copy(s) for s in base]
    for s in out:
        s.fields = dict(s.fields)
        s.children = dict(s.children)
    by_id = {s.fields["id"]: s for s in out}
    added: dict[str, _Spec] = {}
    for s in extra:
        first = added.get(s.fields["id"])
        if first is not None:
            raise _err(f"duplicate id '{s.fields['id']}' (already used on line {first.line})", s.file,
                       s.lines.get("id", s.line))
        added[s.fields["id"]] = s
        target = by_id.get(s.fields["id"])
        if target is None:
            out.append(s)
            by_id[s.fields["id"]] = s
            continue
        for key, value in s.fields.items():
            if key == "aliases":
                target.fields["aliases"] = list(dict.fromkeys([*target.fields.get("aliases", []), *value]))
            else:
                target.fields[key] = value
        target.lines = {**target.lines, **s.lines}
        for key, kids in s.children.items():
            target.children[key] = _merge(target.children.get(key, []), kids)
    return out


def _build(spec: _Spec, base: Framework | None = None, *, path=None, builtin: bool = False) -> Framework:
    f = spec.fields
    roots_spec = spec.children.get("domains", [])
    if base is not None:
        roots_spec = _merge(base._spec_roots, roots_spec)  # type: ignore[attr-defined]
    fw = Framework(
        id=f["id"],
        name=f.get("name") or (base.name if base else f["id"]),
        version=f.get("version") if f.get("version") is not None else (base.version if base else None),
        citations=f["citation"] if f.get("citation") is not None else (list(base.citations) if base else []),
        description=f.get("description") or (base.description if base else None),
        url=f.get("url") or (base.url if base else None),
        notes=f.get("notes") or (base.notes if base else None),
        path=Path(str(path)) if path is not None else None,
        builtin=builtin,
        extends=f.get("extends"),
    )
    seen: dict[str, _Spec] = {}

    def make(s: _Spec, kind: str, parent: FrameworkItem | None) -> FrameworkItem:
        fields = s.fields
        item_id = fields["id"]
        if item_id in seen:
            first = seen[item_id]
            where = f"line {first.line}" if first.file == s.file else f"{first.file}:{first.line}"
            raise _err(f"duplicate id '{item_id}' (already used on {where}); ids must be unique within a framework",
                       s.file, s.lines.get("id", s.line))
        seen[item_id] = s
        label = fields.get("label")
        if not label:
            raise _err(f"{kind} '{item_id}' has no 'label'", s.file, s.line)
        status = fields.get("status") or (parent.status if parent else None)
        verified = fields.get("verified")
        if verified is None:
            verified = status not in UNCONFIRMED
        item = FrameworkItem(
            id=item_id, label=label, definition=fields.get("definition") or "", kind=kind,
            parent=parent.id if parent else None, path=f"{parent.path}.{item_id}" if parent else item_id,
            aliases=list(fields.get("aliases", [])), status=status, verified=verified,
            code=fields.get("code"), source=fields.get("source"), notes=fields.get("notes"),
            example=fields.get("example"), where=fields.get("where"), inherited_from=fields.get("inherited_from"),
            equity_domain=bool(fields.get("equity_domain")), labels=dict(fields.get("labels") or {}),
            framework=fw.id, file=Path(str(s.file)) if s.file is not None else None, line=s.line)
        for key, child_kind in CHILD_KEYS[kind].items():
            for child in s.children.get(key, []):
                item.children.append(make(child, child_kind, item))
        return item

    fw.roots = [make(s, "domain", None) for s in roots_spec]
    if not fw.roots:
        raise _err(f"framework '{fw.id}' has no domains", path, spec.lines.get("domains", 1))
    codes: dict[str, FrameworkItem] = {}
    for item in fw.items():
        if item.code:
            other = codes.get(item.code.casefold())
            if other is not None:
                raise _err(f"code '{item.code}' of '{item.id}' is also the code of '{other.id}'", item.file, item.line)
            codes[item.code.casefold()] = item
    fw._spec_roots = roots_spec  # type: ignore[attr-defined]  # kept so that other files can extend it
    return fw


def load_framework(path: str | Path, base: Framework | Mapping[str, Framework] | None = None) -> Framework:
    """Read and validate one framework file.

    A file with ``extends: ID`` is merged onto ``base`` (a Framework, or a mapping of id to Framework
    to look ``ID`` up in; default: the built-ins).
    """
    path = Path(path)
    spec = _spec_from_file(path)
    return _build_with_base(spec, path, base)


def _build_with_base(spec: _Spec, path, base, builtin: bool = False) -> Framework:
    parent_id = spec.fields.get("extends")
    parent = None
    if parent_id is not None:
        if isinstance(base, Framework):
            parent = base
        else:
            pool = base if base is not None else builtin_frameworks()
            parent = pool.get(parent_id)
            if parent is None:
                close = difflib.get_close_matches(parent_id, list(pool), n=3, cutoff=0.5)
                raise _err(f"'extends: {parent_id}': no such framework (known: {', '.join(sorted(pool))})"
                           + (f"; did you mean {', '.join(close)}?" if close else ""), path, spec.lines.get("extends"))
    return _build(spec, parent, path=path, builtin=builtin)



# ------------------------------------------------------------------- the built-ins, parsed once per user
def _spec_json(spec: _Spec) -> dict[str, Any]:
    return {"fields": spec.fields, "lines": spec.lines, "line": spec.line, "file": spec.file,
            "children": {k: [_spec_json(c) for c in v] for k, v in spec.children.items()}}


def _spec_from_json(d: dict[str, Any]) -> _Spec:
    return _Spec(d["fields"], d["lines"], d["line"], d["file"],
                 {k: [_spec_from_json(c) for c in v] for k, v in d["children"].items()})


def _builtin_specs(texts: list[tuple[str, str]]) -> list[_Spec]:
    """The built-in files' spec trees: parsed and validated once per user (and per qualkit and file
    version), then read back from a keyed JSON file (:mod:`qualkit.io.parsed`) in the user's cache.
    Validating them needs PyYAML's composer and the pydantic schema (~45 ms a command); the built-ins
    never change between commands."""
    from qualkit.io.parsed import parse_key, read_keyed, write_keyed
    from qualkit.io.usercache import user_cache

    here = Path(__file__).parent
    raw = "".join(f"{label}\0{text}\0" for label, text in texts).encode()
    key = parse_key("frameworks", raw, [here / "loading.py", here / "schema.py", here / "model.py"]) or ""
    try:  # (one file whatever the key: a new qualkit or an edited built-in replaces it, never piles up beside it)
        file = user_cache("frameworks", "builtin.json") if key else None
    except OSError:  # no home folder: no cache
        file = None
    kept = read_keyed(file, key) if file is not None else None
    try:
        specs = [_spec_from_json(d) for d in kept] if isinstance(kept, list) else []
        if len(specs) == len(texts) and all(s.file == label for s, (label, _) in zip(specs, texts)):
            return specs
    except (KeyError, TypeError, ValueError, AttributeError):  # a damaged entry is a miss
        pass
    specs = [_read_spec(text, label) for label, text in texts]
    if file is not None:
        write_keyed(file, key, [_spec_json(s) for s in specs])  # kept only if JSON gives back the same
        for old in file.parent.glob("builtin-*.json"):  # (named by key before: one for each qualkit version that ran)
            try:
                old.unlink(missing_ok=True)
            except OSError:  # (another's, or read-only: left, as any cache file may be)
                pass
    return specs


# ----------------------------------------------------------------------------------- finding
_BUILTIN: dict[str, Framework] | None = None


def _builtin_dir():
    from importlib.resources import files

    return files("qualkit") / "data" / "frameworks"


def builtin_frameworks() -> dict[str, Framework]:
    """The frameworks shipped with qualkit, by id (loaded once per process)."""
    global _BUILTIN
    if _BUILTIN is None:
        loaded: dict[str, Framework] = {}
        folder = _builtin_dir()
        texts = [(f"qualkit/data/frameworks/{entry.name}", entry.read_text(encoding="utf-8"))
                 for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith((".yaml", ".yml"))]
        for (label, _text), spec in zip(texts, _builtin_specs(texts)):
            fw = _build_with_base(spec, label, loaded, builtin=True)
            if fw.id in loaded:
                raise FrameworkError(f"framework id '{fw.id}' is defined twice among the built-ins", label, spec.lines["id"])
            loaded[fw.id] = fw
        _BUILTIN = loaded
    return dict(_BUILTIN)


def available_frameworks(extra_dirs: Iterable[str | Path] = ()) -> dict[str, Framework]:
    """Built-in frameworks, then each folder's ``*.yaml`` files, which add new ids or replace built-ins.

    Folders are read in the order given (a workspace's ``frameworks/`` folder, typically) and files
    in name order; a file with ``extends:`` is applied after the plain files of its folder. Two files
    in the same folder defining the same id are an error.
    """
    result = builtin_frameworks()
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        files_ = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
                        and not p.name.startswith("."))
        specs = [(p, _spec_from_file(p)) for p in files_]
        defined: dict[str, Path] = {}
        for p, spec in sorted(specs, key=lambda ps: ps[1].fields.get("extends") is not None):
            fid = spec.fields["id"]
            if fid in defined:
                raise FrameworkError(f"framework id '{fid}' is also defined in {defined[fid].name}", p, spec.lines["id"])
            defined[fid] = p
            fw = _build_with_base(spec, p, result)
            fw.overrides = fid in result
            result[fid] = fw
    return result


