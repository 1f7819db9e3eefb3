"""A loaded implementation framework (:class:`Framework`) and its items (:class:`FrameworkItem`), with
the resolution of a reference key (id, dotted path, code, label or alias) to an item.

See :mod:`qualkit.frameworks.catalog` for the file format and the reference forms.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import FrameworkRefError

__all__ = ["CHILD_KEYS", "CITATION_KEYS", "FRAMEWORK_KEYS", "ITEM_KEYS", "KINDS", "STATUS_WORDS", "UNCONFIRMED",
           "Framework", "FrameworkItem"]

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
ITEM_KEYS = ("id", "label", "definition", "status", "verified", "aliases", "code", "source", "notes",
             "example", "where", "inherited_from", "equity_domain", "labels")
FRAMEWORK_KEYS = ("id", "name", "version", "citation", "description", "url", "notes", "extends", "domains")
CITATION_KEYS = ("authors", "year", "title", "journal", "volume", "issue", "pages", "doi", "url", "note", "status")


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
    example: str | None = None         # an illustrative example (paraphrased), for codebooks and `frameworks show`
    where: str | None = None           # where in the source it was read, e.g. "2021 Table 1, innovation row"
    inherited_from: str | None = None  # the parent framework an inherited item comes from, e.g. "i-PARIHS ..."
    equity_domain: bool = False        # True on a health-equity domain (HEIF 2021); tables can be cut by it
    labels: dict[str, str] = field(default_factory=dict)  # the label in another version, e.g. {"2019": ...}
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
        """0 for a domain, one more per level below."""
        return self.path.count(".")

    def walk(self) -> Iterator[FrameworkItem]:
        """This item and everything below it, in file order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_dict(self, children: bool = True) -> dict[str, Any]:
        """The item as plain data (for JSON), with its children unless ``children`` is False."""
        d: dict[str, Any] = {"id": self.id, "ref": self.ref, "path": self.path, "kind": self.kind,
                             "label": self.label, "definition": self.definition, "parent": self.parent,
                             "aliases": list(self.aliases), "status": self.status, "verified": self.verified,
                             "equity_domain": self.equity_domain}
        for key in ("code", "source", "notes", "example", "where", "inherited_from", "labels"):
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
        """Every item of kind construct, in file order."""
        return [i for i in self.items() if i.kind == "construct"]

    def counts(self) -> dict[str, int]:
        """Number of items of each kind, plus ``unverified`` (items whose name is not confirmed)."""
        items = self.items()
        out = {f"{k}s": sum(1 for i in items if i.kind == k) for k in KINDS}
        out["unverified"] = sum(1 for i in items if not i.verified)
        return out

    def parent_of(self, item: FrameworkItem) -> FrameworkItem | None:
        """The item one level up (None for a domain)."""
        return self._build_index()["id"].get(item.parent.casefold()) if item.parent else None

    def equity_domains(self) -> list[FrameworkItem]:
        """The items marked ``equity_domain: true`` (HEIF 2021's three health-equity domains), in file order."""
        return [i for i in self.items() if i.equity_domain]

    def equity_domain_of(self, item: FrameworkItem) -> FrameworkItem | None:
        """The health-equity domain ``item`` belongs to (itself or its nearest marked ancestor), or None."""
        current: FrameworkItem | None = item
        while current is not None:
            if current.equity_domain:
                return current
            current = self.parent_of(current)
        return None

    def versions(self) -> list[str]:
        """The versions whose labels this framework knows: its own, then any named in items' ``labels``."""
        found = [self.version] if self.version else []
        for item in self.items():
            found += [v for v in item.labels if v not in found]
        return found

    def for_version(self, version: str) -> Framework:
        """A copy whose labels are those of ``version`` (e.g. HEIF's 2019 names); ids and refs are unchanged.

        The current labels stay resolvable as aliases. Unknown versions raise :class:`FrameworkRefError`."""
        import copy

        version = str(version).strip()
        if version == (self.version or ""):
            return self
        if version not in self.versions():
            raise FrameworkRefError(f"framework {self.id} has no version '{version}' (known: "
                                    f"{', '.join(self.versions()) or 'none'})", f"{self.id}@{version}")
        other = copy.deepcopy(self)
        other.version = version
        other._index = None
        for item in other.items():
            if version in item.labels:
                old, item.label = item.label, item.labels[version]
                item.aliases = [a for a in [old, *item.aliases] if _norm(a) != _norm(item.label)]
        return other

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
            ids: dict[str, FrameworkItem] = {}
            paths: dict[str, FrameworkItem] = {}
            codes: dict[str, FrameworkItem] = {}
            names: dict[str, list[FrameworkItem]] = {}
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
