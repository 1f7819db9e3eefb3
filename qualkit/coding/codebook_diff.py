"""What changed between two versions of a codebook: codes added, removed, renamed (recorded or guessed), changed."""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qualkit.workspace.codebook import Code, Codebook

__all__ = ["CodebookDiff", "diff_codebooks"]

_COMPARED = ("name", "parent", "origin", "status", "brief", "definition", "include", "exclude", "examples",
             "keywords", "patterns", "framework", "color")


@dataclass
class CodebookDiff:
    """Differences from codebook ``a`` to ``b``, by code id.

    ``renamed`` pairs (old code, new code, certain): certain when b's changelog records the
    rename, else a guess from equal names or definitions (shown as "renamed?").
    ``changed`` maps a code id (b's id for renamed codes) to {field: (old, new)}.
    """

    a: Codebook
    b: Codebook
    added: list[Code] = field(default_factory=list)
    removed: list[Code] = field(default_factory=list)
    renamed: list[tuple[Code, Code, bool]] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        """Whether nothing differs."""
        return not (self.added or self.removed or self.renamed or self.changed)

    def summary(self) -> str:
        """'1 added, 0 removed, 2 renamed, 3 changed' (or 'no differences')."""
        if self.same:
            return "no differences"
        return (f"{len(self.added)} added, {len(self.removed)} removed, {len(self.renamed)} renamed, "
                f"{len(self.changed)} changed")

    def as_dict(self) -> dict[str, Any]:
        """The differences as JSON-ready data."""
        return {"a": {"id": self.a.id, "path": str(self.a.path) if self.a.path else None},
                "b": {"id": self.b.id, "path": str(self.b.path) if self.b.path else None},
                "added": [{"id": c.id, "name": c.name} for c in self.added],
                "removed": [{"id": c.id, "name": c.name} for c in self.removed],
                "renamed": [{"from": o.id, "to": n.id, "certain": sure} for o, n, sure in self.renamed],
                "changed": {cid: {f: {"old": o, "new": n} for f, (o, n) in fs.items()} for cid, fs in self.changed.items()},
                "summary": self.summary()}

    def lines(self) -> list[str]:
        """The diff as text lines: '+ id  name', '- id  name', '~ old -> new', '* id.field: old -> new'."""
        out = []
        for c in self.added:
            out.append(f"+ {c.id}  {c.name}")
        for c in self.removed:
            out.append(f"- {c.id}  {c.name}")
        for old, new, sure in self.renamed:
            out.append(f"~ {old.id} -> {new.id}  {new.name}  ({'renamed' if sure else 'renamed?'})")
        for cid, fs in self.changed.items():
            for f, (o, n) in fs.items():
                out.append(f"* {cid}.{f}: {_short(o)} -> {_short(n)}")
        return out


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, list):
        text = "[" + ", ".join(str(x) for x in value) + "]"
    elif value in (None, ""):
        return "(empty)"
    else:
        text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _field_changes(old: Code, new: Code, id_map: Mapping[str, str]) -> dict[str, tuple[Any, Any]]:
    out = {}
    for f in _COMPARED:
        o, n = getattr(old, f), getattr(new, f)
        if f == "parent" and o is not None:
            o_mapped = id_map.get(o, o)
            if o_mapped == n:
                continue
        if o != n:
            out[f] = (o, n)
    return out


def diff_codebooks(a: Codebook, b: Codebook) -> CodebookDiff:
    """What changed from codebook ``a`` to codebook ``b`` (codes matched by id, renames guessed)."""
    result = CodebookDiff(a, b)
    a_ids = {c.id: c for c in a.codes}
    b_ids = {c.id: c for c in b.codes}
    removed = [c for c in a.codes if c.id not in b_ids]
    added = [c for c in b.codes if c.id not in a_ids]
    pairs: list[tuple[Code, Code, bool]] = []
    # renames recorded in b's changelog ("renamed code X to Y"), following chains
    steps = {}
    for entry in b.changelog:
        m = re.match(r"renamed code (\S+) to (\S+?)[;,]?(?:\s|$)", entry.what)
        if m:
            steps[m.group(1)] = m.group(2)
    added_ids = {c.id: c for c in added}
    for old in list(removed):
        cur, seen = old.id, set()
        while cur in steps and cur not in seen:
            seen.add(cur)
            cur = steps[cur]
        if cur != old.id and cur in added_ids:
            pairs.append((old, added_ids.pop(cur), True))
            removed.remove(old)
    # guesses: same name, same definition, or very similar name + definition
    candidates = []
    for old in removed:
        for new in added_ids.values():
            if _norm(old.name) == _norm(new.name):
                score = 1.0
            elif old.definition and old.definition == new.definition:
                score = 0.95
            else:
                score = difflib.SequenceMatcher(None, _norm(old.name + " " + old.definition),
                                                _norm(new.name + " " + new.definition)).ratio()
            if score >= 0.85:
                candidates.append((score, old.id, new.id, old, new))
    used_old, used_new = set(), set()
    for _score, _, _, old, new in sorted(candidates, key=lambda t: (-t[0], t[1], t[2])):
        if old.id in used_old or new.id in used_new:
            continue
        used_old.add(old.id)
        used_new.add(new.id)
        pairs.append((old, new, False))
    result.removed = [c for c in removed if c.id not in used_old]
    result.added = [c for c in added if c.id in added_ids and c.id not in used_new]
    result.renamed = pairs
    id_map = {o.id: n.id for o, n, _ in pairs}
    for old, new, _ in pairs:
        changes = _field_changes(old, new, id_map)
        if changes:
            result.changed[new.id] = changes
    for c in a.codes:
        if c.id in b_ids:
            changes = _field_changes(c, b_ids[c.id], id_map)
            if changes:
                result.changed[c.id] = changes
    return result


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()
