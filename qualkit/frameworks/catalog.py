"""Implementation frameworks (HEIF, CFIR 2.0, CFIR 2009, i-PARIHS, RE-AIM, EPIS) and references to them.

A framework is a tree of items: **domains**, optional **sub-domains**, **constructs** and, where the
framework has them (CFIR), **sub-constructs**. Built-in frameworks ship as YAML files in
``qualkit/data/frameworks/``; a workspace's ``frameworks/*.yaml`` files add new frameworks or replace
built-ins that have the same ``id``. A workspace file may also say ``extends: heif`` to start from an
already loaded framework and add or amend items (merged by id under the same parent).

File format (one framework per file)::

    id: heif                       # the framework id used in refs
    name: Health Equity Implementation Framework
    version: "2021"
    citation:                      # a mapping, or a list of them
      - {authors: "...", year: 2021, title: "...", journal: "...", volume: "2", pages: "61", doi: "10..."}
    domains:
      - id: societal_context       # snake_case, unique within the framework
        label: Societal context    # display name
        definition: ...            # a short paraphrase
        status: verified           # verified | secondary | unverified | inherited
        aliases: [Societal influence]
        code: III.D.1              # optional: the framework's own numbering (CFIR 2.0)
        source: "2021"             # optional: which paper/version the name comes from
        verified: false            # optional; defaults to false for unverified/inherited items
        subdomains: [...]          # under a domain
        constructs: [...]          # under a domain or a sub-domain
        subconstructs: [...]       # under a construct

References
----------
A reference to an item is ``framework:key``; the key may be any of

* the item's **id** (ids are unique within a framework, so this short form is unambiguous):
  ``heif:societal_context``, ``cfir2:partnerships_connections``;
* its **dotted path** of ids from the domain down: ``cfir2:outer_setting.partnerships_connections``,
  ``heif:context.outer``. Each segment after the first is matched among the children of the previous
  one by id, label or alias, so ``cfir2:implementation_process.engaging.innovation_deliverers`` works
  although several CFIR 2.0 items are labelled "Innovation Deliverers". The first segment may be any
  item, not only a domain (``cfir2:engaging.innovation_recipients``);
* the framework's own **code** where it has one: ``cfir2:III.D.1`` (Human Equality-Centeredness);
* a **label or alias**, ignoring case, punctuation, "and"/"&" and -isation/-ization spelling:
  ``heif:societal_influence``, ``heif:Societal influences``, ``cfir2:Innovation Evidence Base``. A
  label shared by several items (EPIS "Leadership") is an error that lists the candidates.

An unknown reference raises :class:`FrameworkRefError` with close matches. File problems raise
:class:`FrameworkError` naming the file and line.
"""
from __future__ import annotations

import copy
import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.io.yamlfile import compose_yaml

STATUS_WORDS = ("verified", "secondary", "unverified", "inherited")
#: statuses whose item names are not confirmed; such items default to ``verified = False``
UNCONFIRMED = ("unverified", "inherited")
KINDS = ("domain", "subdomain", "construct", "subconstruct")
#: which child lists each kind of item may hold, and the kind of the children
CHILD_KEYS: dict[str, dict[str, str]] = {
    "framework": {"domains": "domain"},
    "domain": {"subdomains": "subdomain", "constructs": "construct"},
    "subdomain": {"constructs": "construct"},
    "construct": {"subconstructs": "subconstruct"},
    "subconstruct": {},
}
ITEM_KEYS = ("id", "label", "definition", "status", "verified", "aliases", "code", "source", "notes")
FRAMEWORK_KEYS = ("id", "name", "version", "citation", "description", "url", "notes", "extends", "domains")
CITATION_KEYS = ("authors", "year", "title", "journal", "volume", "issue", "pages", "doi", "url", "note", "status")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FRAMEWORK_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


from qualkit.errors import FrameworkError, FrameworkRefError  # noqa: F401  (defined with every other error in qualkit.errors)


# ----------------------------------------------------------------------------------- model
@dataclass
class FrameworkItem:
    """One domain, sub-domain, construct or sub-construct of a framework."""

    id: str
    label: str
    definition: str = ""
    kind: str = "construct"
    parent: str | None = None          # the parent item's id (None for a domain)
    path: str = ""                     # dotted ids from the domain down, e.g. "outer_setting.financing"
    aliases: list[str] = field(default_factory=list)
    status: str | None = None          # verified | secondary | unverified | inherited (None: not stated)
    verified: bool = True              # False when the item's name could not be confirmed
    code: str | None = None            # the framework's own numbering, e.g. "II.D"
    source: str | None = None          # which paper or version the name comes from
    notes: str | None = None
    framework: str = ""                # the framework id
    file: Path | None = field(default=None, repr=False, compare=False)
    line: int | None = field(default=None, repr=False, compare=False)
    children: list[FrameworkItem] = field(default_factory=list, repr=False)

    @property
    def ref(self) -> str:
        """The short reference, e.g. ``heif:societal_context``."""
        return f"{self.framework}:{self.id}"

    @property
    def path_ref(self) -> str:
        """The dotted-path reference, e.g. ``heif:context.outer``."""
        return f"{self.framework}:{self.path}"

    @property
    def depth(self) -> int:
        return self.path.count(".")

    def walk(self) -> Iterator[FrameworkItem]:
        """This item and everything below it, in file order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_dict(self, children: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "ref": self.ref, "path": self.path, "kind": self.kind,
                             "label": self.label, "definition": self.definition, "parent": self.parent,
                             "aliases": list(self.aliases), "status": self.status, "verified": self.verified}
        for key in ("code", "source", "notes"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        if children:
            d["children"] = [c.as_dict() for c in self.children]
        return d


@dataclass
class Framework:
    """A loaded framework: metadata, citations and the item tree."""

    id: str
    name: str
    version: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    description: str | None = None
    url: str | None = None
    notes: str | None = None
    path: Path | None = None           # the file it was read from
    builtin: bool = False
    extends: str | None = None
    overrides: bool = False            # True when a workspace file replaced a built-in of the same id
    roots: list[FrameworkItem] = field(default_factory=list, repr=False)
    _index: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def domains(self) -> list[FrameworkItem]:
        """The top-level items, in order."""
        return list(self.roots)

    def items(self) -> list[FrameworkItem]:
        """Every item (domains, sub-domains, constructs, sub-constructs), depth first, in file order."""
        return [item for root in self.roots for item in root.walk()]

    def constructs(self) -> list[FrameworkItem]:
        return [i for i in self.items() if i.kind == "construct"]

    def counts(self) -> dict[str, int]:
        """Number of items of each kind, plus ``unverified`` (items whose name is not confirmed)."""
        items = self.items()
        out = {f"{k}s": sum(1 for i in items if i.kind == k) for k in KINDS}
        out["unverified"] = sum(1 for i in items if not i.verified)
        return out

    def get(self, key: str) -> FrameworkItem | None:
        """The item a key (id, dotted path, code, label or alias) names, or None."""
        try:
            return self.resolve(key)
        except FrameworkRefError:
            return None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def resolve(self, key: str) -> FrameworkItem:
        """The item ``key`` names (see the module docstring); raises :class:`FrameworkRefError`."""
        index = self._build_index()
        ref = f"{self.id}:{key}"
        raw = key.strip()
        if not raw:
            raise FrameworkRefError(f"empty item reference '{ref}'", ref)
        folded = raw.casefold()
        if folded in index["id"]:
            return index["id"][folded]
        if folded in index["path"]:
            return index["path"][folded]
        if folded in index["code"]:
            return index["code"][folded]
        if "." in raw:
            first, *rest = raw.split(".")
            item = self._resolve_one(first, ref)
            for seg in rest:
                item = self._child(item, seg, ref)
            return item
        return self._resolve_one(raw, ref)

    # -- helpers --------------------------------------------------------------------------
    def _build_index(self) -> dict[str, Any]:
        if self._index is None:
            ids, paths, codes, names = {}, {}, {}, {}
            for item in self.items():
                ids[item.id.casefold()] = item
                paths[item.path.casefold()] = item
                if item.code:
                    codes[item.code.casefold()] = item
                for name in _names(item):
                    bucket = names.setdefault(_norm(name), [])
                    if item not in bucket:
                        bucket.append(item)
            self._index = {"id": ids, "path": paths, "code": codes, "name": names}
        return self._index

    def _resolve_one(self, key: str, ref: str) -> FrameworkItem:
        index = self._build_index()
        folded = key.strip().casefold()
        if folded in index["id"]:
            return index["id"][folded]
        key_norm = _norm(key)
        by_id = [i for i in index["name"].get(key_norm, []) if _norm(i.id) == key_norm]
        if len(by_id) == 1:  # "innovation deliverers" names the item whose id is innovation_deliverers
            return by_id[0]
        found = index["name"].get(key_norm, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise FrameworkRefError(f"'{ref}' is ambiguous: {len(found)} items of {self.id} have that name", ref,
                                    [f"{i.ref} ({i.path_ref})" for i in found])
        raise FrameworkRefError(f"unknown item '{ref}' in framework {self.id}", ref, self._suggest(key))

    def _child(self, item: FrameworkItem, seg: str, ref: str) -> FrameworkItem:
        folded = seg.strip().casefold()
        exact = [c for c in item.children if c.id.casefold() == folded]
        if exact:
            return exact[0]
        key = _norm(seg)
        found = [c for c in item.children if key in {_norm(n) for n in _names(c)}]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise FrameworkRefError(f"'{ref}': '{seg}' is ambiguous under {item.path}", ref,
                                    [c.path_ref for c in found])
        pool = {c.id: c for c in item.children}
        close = difflib.get_close_matches(folded, list(pool), n=3, cutoff=0.5)
        suggestions = [pool[c].path_ref for c in close] or [c.path_ref for c in item.children][:5]
        what = f"{item.path} has no item '{seg}'" if item.children else f"{item.path} has no sub-items"
        raise FrameworkRefError(f"unknown item '{ref}': {what}", ref, suggestions)

    def _suggest(self, key: str, n: int = 3) -> list[str]:
        index = self._build_index()
        target = _norm(key)
        candidates: dict[str, FrameworkItem] = {}
        for name, items in index["name"].items():
            for item in items:
                candidates.setdefault(name, item)
        picked: list[FrameworkItem] = []
        for name in difflib.get_close_matches(target, list(candidates), n=n * 2, cutoff=0.6):
            if candidates[name] not in picked:
                picked.append(candidates[name])
        if len(picked) < n and len(target) >= 4:
            for name, item in candidates.items():
                if target in name and item not in picked:
                    picked.append(item)
        return [f"{i.ref} ({i.label})" for i in picked[:n]]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "version": self.version, "citations": self.citations,
                "description": self.description, "url": self.url,
                "source": "built-in" if self.builtin else (str(self.path) if self.path else None),
                "extends": self.extends, "overrides": self.overrides, "counts": self.counts(),
                "domains": [d.as_dict() for d in self.roots]}


def _names(item: FrameworkItem) -> list[str]:
    return [item.id, item.label, *item.aliases]


def _norm(text: str) -> str:
    """Matching key: case, punctuation, spacing, 'and'/'&' and -isation/-ization are ignored."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().replace("&", " and ")
    text = re.sub(r"is(ation|ational|ed|e|ing)\b", r"iz\1", text)
    words = [w for w in re.split(r"[^0-9a-z]+", text) if w and w != "and"]
    return "".join(words)


# ----------------------------------------------------------------------------------- reading
@dataclass
class _Spec:
    """One item (or the framework itself) as written in a file, before merging and indexing."""

    fields: dict[str, Any]
    lines: dict[str, int]              # key -> line (1-based) of the key
    line: int | None
    file: Path | str | None
    children: dict[str, list[_Spec]] = field(default_factory=dict)


_SPEC_CACHE: dict[tuple[str, int, int], _Spec] = {}


def _err(message: str, path, line: int | None) -> FrameworkError:
    return FrameworkError(message, path, line)


def _line(node) -> int:
    return node.start_mark.line + 1


def _scalar(node, path, what: str, constructor) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise _err(f"{what} must be a single value, not a {'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}",
                   path, _line(node))
    return constructor.construct_object(node)


def _text(node, path, what: str, constructor, required: bool = False) -> str | None:
    value = _scalar(node, path, what, constructor)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _err(f"{what} is empty", path, _line(node))
        return None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise _err(f"{what} must be text", path, _line(node))
    return " ".join(str(value).split()) if what.endswith("definition") else str(value).strip()


def _pairs(node, path, what: str, allowed: Iterable[str]) -> list[tuple[str, Any, int]]:
    """(key, value node, line) of a mapping node; unknown and repeated keys are errors."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise _err(f"{what} must be a mapping (key: value)", path, _line(node))
    allowed = tuple(allowed)
    seen: dict[str, int] = {}
    out = []
    for knode, vnode in node.value:
        key = str(knode.value)
        if key in seen:
            raise _err(f"'{key}' is given twice in {what} (first on line {seen[key]})", path, _line(knode))
        seen[key] = _line(knode)
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
            raise _err(f"unknown key '{key}' in {what}{hint}", path, _line(knode))
        out.append((key, vnode, _line(knode)))
    return out


def _read_item(node, path, kind: str, constructor) -> _Spec:
    import yaml

    allowed = ITEM_KEYS + tuple(CHILD_KEYS[kind])
    pairs = _pairs(node, path, f"a {kind}", allowed)
    spec = _Spec(fields={}, lines={}, line=_line(node), file=path)
    for key, vnode, line in pairs:
        spec.lines[key] = line
        if key in CHILD_KEYS[kind]:
            spec.children[key] = _read_list(vnode, path, CHILD_KEYS[kind][key], key, constructor)
        elif key == "aliases":
            if isinstance(vnode, yaml.ScalarNode):
                values = [vnode]
            elif isinstance(vnode, yaml.SequenceNode):
                values = vnode.value
            else:
                raise _err("'aliases' must be a list of names", path, line)
            spec.fields["aliases"] = [a for a in (_text(v, path, "an alias", constructor) for v in values) if a]
        elif key == "verified":
            value = _scalar(vnode, path, "'verified'", constructor)
            if not isinstance(value, bool):
                raise _err("'verified' must be true or false", path, _line(vnode))
            spec.fields["verified"] = value
        elif key == "status":
            value = _text(vnode, path, "'status'", constructor)
            if value is not None and value.lower() not in STATUS_WORDS:
                close = difflib.get_close_matches(value.lower(), STATUS_WORDS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise _err(f"unknown status '{value}' (use one of: {', '.join(STATUS_WORDS)}){hint}",
                           path, _line(vnode))
            spec.fields["status"] = value.lower() if value else None
        else:
            spec.fields[key] = _text(vnode, path, f"the {kind}'s {key}" if key != "definition" else "definition",
                                     constructor, required=key == "id")
    item_id = spec.fields.get("id")
    if item_id is None:
        label = spec.fields.get("label")
        raise _err(f"{kind} {('labelled ' + repr(label) + ' ') if label else ''}has no 'id'", path, spec.line)
    if not _ID_RE.match(item_id):
        suggestion = re.sub(r"[^a-z0-9]+", "_", item_id.lower()).strip("_")
        raise _err(f"id '{item_id}' must be snake_case (lower-case letters, digits and _), e.g. '{suggestion}'",
                   path, spec.lines["id"])
    if spec.fields.get("verified") is True and spec.fields.get("status") in UNCONFIRMED:
        raise _err(f"'{item_id}' says verified: true but its status is {spec.fields['status']}",
                   path, spec.lines["verified"])
    return spec


def _read_list(node, path, kind: str, key: str, constructor) -> list[_Spec]:
    import yaml

    if isinstance(node, yaml.ScalarNode) and constructor.construct_object(node) is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise _err(f"'{key}' must be a list of {kind}s (each starting with '- id: ...')", path, _line(node))
    return [_read_item(child, path, kind, constructor) for child in node.value]


def _read_citations(node, path, constructor) -> list[dict[str, Any]]:
    import yaml

    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out = []
    for cnode in nodes:
        if isinstance(cnode, yaml.ScalarNode):
            text = _text(cnode, path, "a citation", constructor)
            if text:
                out.append({"text": text})
            continue
        entry = {}
        for key, vnode, _ in _pairs(cnode, path, "a citation", CITATION_KEYS):
            value = constructor.construct_object(vnode, deep=True)
            entry[key] = value if isinstance(value, (int, list)) and not isinstance(value, bool) else (
                None if value is None else str(value).strip())
        out.append(entry)
    return out


def _read_spec(text: str, path) -> _Spec:
    """Parse one framework file into a spec tree; syntax and field errors name file and line."""
    import yaml

    node = compose_yaml(text, path, FrameworkError)
    if node is None:
        raise _err("empty framework file (it needs id, name and domains)", path, 1)
    constructor = yaml.SafeLoader("")
    pairs = _pairs(node, path, "the framework file", FRAMEWORK_KEYS)
    spec = _Spec(fields={}, lines={}, line=_line(node), file=path)
    for key, vnode, line in pairs:
        spec.lines[key] = line
        if key == "domains":
            spec.children["domains"] = _read_list(vnode, path, "domain", "domains", constructor)
        elif key == "citation":
            spec.fields["citation"] = _read_citations(vnode, path, constructor)
        else:
            spec.fields[key] = _text(vnode, path, f"'{key}'", constructor, required=key == "id")
    fid = spec.fields.get("id")
    if fid is None:
        raise _err("the framework has no 'id' (e.g. id: heif)", path, 1)
    if not _FRAMEWORK_ID_RE.match(fid):
        raise _err(f"framework id '{fid}' must be lower-case letters, digits, _ or -", path, spec.lines["id"])
    if spec.fields.get("extends") is None:
        if spec.fields.get("name") is None:
            raise _err(f"framework '{fid}' has no 'name'", path, 1)
        if "domains" not in spec.children:
            raise _err(f"framework '{fid}' has no 'domains'", path, 1)
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
        citations=f.get("citation") if f.get("citation") is not None else (list(base.citations) if base else []),
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
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            label = f"qualkit/data/frameworks/{entry.name}"
            spec = _read_spec(entry.read_text(encoding="utf-8"), label)
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


def get_framework(framework_id: str, extra_dirs: Iterable[str | Path] = (),
                  frameworks: Mapping[str, Framework] | None = None) -> Framework:
    """The framework with this id (case-insensitive); unknown ids raise :class:`FrameworkRefError`."""
    pool = frameworks if frameworks is not None else available_frameworks(extra_dirs)
    key = framework_id.strip()
    if key in pool:
        return pool[key]
    for fid, fw in pool.items():
        if fid.casefold() == key.casefold() or _norm(fw.name) == _norm(key):
            return fw
    close = difflib.get_close_matches(key.casefold(), list(pool), n=3, cutoff=0.5)
    raise FrameworkRefError(f"unknown framework '{framework_id}' (available: {', '.join(sorted(pool))})",
                            framework_id, close)


def resolve_ref(ref: str, extra_dirs: Iterable[str | Path] = (), *,
                frameworks: Mapping[str, Framework] | None = None, default: str | None = None) -> FrameworkItem:
    """The item a reference such as ``heif:societal_influence`` or ``cfir2:outer_setting.financing`` names.

    ``default`` is the framework used when ``ref`` has no ``framework:`` prefix. Pass ``frameworks``
    (from :func:`available_frameworks`) when resolving many references, to read the files once.
    """
    text = str(ref).strip()
    if ":" in text:
        fid, key = text.split(":", 1)
    elif default:
        fid, key = default, text
    else:
        raise FrameworkRefError(f"'{ref}' needs a framework prefix, e.g. heif:{text or 'societal_context'}", text)
    fw = get_framework(fid, extra_dirs, frameworks)
    return fw.resolve(key)
