"""REFI-QDA ``<Sets>`` of codes (MAXQDA sets, ATLAS.ti code groups) as qualkit code groups and back.

A set's member codes become a :class:`~qualkit.workspace.codebook.CodeGroup` (``groups:`` in the
codebook YAML) of the codebook that holds its first member; its member sources and notes have no
place in qualkit and are counted. On export each group is one ``<Set>`` with a ``<MemberCode>`` per
code (``targetGUID`` in a project, ``guid`` in a ``.qdc``, as the two schemas say).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qualkit.io.naming import plural_s
from qualkit.refiqda.archive import child_text, children, norm_guid
from qualkit.refiqda.ids import guid_for, xml_safe
from qualkit.workspace.codebook import Codebook, CodeGroup

__all__ = ["SetsRead", "add_sets", "read_sets"]


@dataclass
class SetsRead:
    """What :func:`read_sets` placed and what it could not."""

    sets: int = 0
    groups: int = 0
    empty: int = 0  # sets with no code among their members
    other_members: int = 0  # member sources and notes of the sets that became groups
    warnings: list[str] = field(default_factory=list)

    def not_carried(self) -> list[str]:
        out = []
        if self.empty:
            out.append(f"{self.empty} set{plural_s(self.empty)} of sources or notes only (qualkit groups codes)")
        if self.other_members:
            out.append(f"{self.other_members} member{plural_s(self.other_members)} of sets (sources and notes; their codes are kept as code groups)")
        return out


def read_sets(sets_el: Any, code_ids: Mapping[str, str], books: list[Codebook]) -> SetsRead:
    """Add the code sets under ``sets_el`` to ``books`` as code groups; ``code_ids``: GUID -> code id."""
    out = SetsRead()
    if sets_el is None:
        return out
    book_of = {c.id: b for b in books for c in b.codes}
    for s in children(sets_el, "Set"):
        out.sets += 1
        members = children(s, "MemberCode")
        ids = []
        for m in members:
            cid = code_ids.get(norm_guid(m.get("targetGUID") or m.get("guid")))
            if cid is None:
                out.warnings.append(f"set {s.get('name')!r}: a member code that is not in the codebook; left out")
            elif cid not in ids:
                ids.append(cid)
        if not ids:
            out.empty += 1
            continue
        out.other_members += len(children(s, "MemberSource")) + len(children(s, "MemberNote"))
        name = " ".join((s.get("name") or "").split()) or "Unnamed group"
        book_of[ids[0]].groups.append(CodeGroup(name, ids, child_text(s, "Description").strip()))
        out.groups += 1
    return out


def add_sets(parent_el: Any, ns: str, books: Iterable[Codebook], *, member_attr: str, exported: set[str]) -> int:
    """Append ``<Sets>`` with one ``<Set>`` per code group of ``books`` (codes not in ``exported`` are
    left out of it) under ``parent_el``; nothing when there are no groups. Returns how many sets."""
    from lxml import etree

    groups = [(b, g) for b in books for g in b.groups if any(c in exported for c in g.codes)]
    if not groups:
        return 0
    sets_el = etree.SubElement(parent_el, f"{{{ns}}}Sets")
    seen: dict[tuple[str, str], int] = {}
    for book, group in groups:
        n = seen[(book.id, group.name)] = seen.get((book.id, group.name), 0) + 1
        el = etree.SubElement(sets_el, f"{{{ns}}}Set")
        el.set("guid", guid_for("set", book.id, group.name, *([n] if n > 1 else [])))
        el.set("name", xml_safe(group.name))
        if group.description:
            etree.SubElement(el, f"{{{ns}}}Description").text = xml_safe(group.description)
        for cid in dict.fromkeys(group.codes):
            if cid in exported:
                etree.SubElement(el, f"{{{ns}}}MemberCode").set(member_attr, guid_for("code", cid))
    return len(groups)


