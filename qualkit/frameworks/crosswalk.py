"""Crosswalks between versions of a framework: which items of one map onto which of the other.

The built-in crosswalk maps the original CFIR (Damschroder et al. 2009, Implement Sci 4:50) onto the
updated CFIR 2.0 (Damschroder et al. 2022, Implement Sci 17:75, Additional file 4), so codes, themes
and CFIR-ERIC barrier names (keyed on the 2009 constructs, Waltz et al. 2019) carry across versions.
Pairs not read in the additional file are ``verified = False``. Either direction can be asked for.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qualkit.errors import FrameworkError, FrameworkRefError
from qualkit.frameworks.model import Framework, FrameworkItem

__all__ = ["Crosswalk", "CrosswalkPair", "crosswalk", "crosswalks", "map_ref"]


@dataclass
class CrosswalkPair:
    """One item of the source framework and the items it maps onto (none: no counterpart)."""

    source: FrameworkItem
    targets: list[FrameworkItem] = field(default_factory=list)
    verified: bool = False
    where: str | None = None


@dataclass
class Crosswalk:
    """The pairs from framework ``source`` to framework ``target``, with where they come from."""

    source: str
    target: str
    reference: str
    pairs: list[CrosswalkPair] = field(default_factory=list)

    def targets_of(self, item: FrameworkItem) -> list[FrameworkItem]:
        """The items ``item`` maps onto (empty when it has no counterpart or is not listed)."""
        return next((p.targets for p in self.pairs if p.source is item), [])

    def rows(self) -> list[dict[str, Any]]:
        """One row per pair, for tables and JSON."""
        return [{"from": p.source.ref, "from_label": p.source.label, "to": [t.ref for t in p.targets],
                 "to_labels": [t.label for t in p.targets], "verified": p.verified, "where": p.where or ""}
                for p in self.pairs]


def _raw() -> list[tuple[str, dict[str, Any]]]:
    """The built-in crosswalk files as (name, data)."""
    from importlib.resources import files

    import yaml

    folder = files("qualkit") / "data" / "crosswalks"
    return [(f"qualkit/data/crosswalks/{e.name}", yaml.safe_load(e.read_text(encoding="utf-8")))
            for e in sorted(folder.iterdir(), key=lambda e: e.name) if e.name.endswith(".yaml")]


def crosswalks() -> list[tuple[str, str]]:
    """The (from, to) framework pairs qualkit has a crosswalk for."""
    return [(data["from"], data["to"]) for _name, data in _raw()]


def crosswalk(source: str, target: str, frameworks: Mapping[str, Framework] | None = None) -> Crosswalk:
    """The crosswalk from framework ``source`` to ``target`` (either direction of a built-in file).

    Raises :class:`FrameworkRefError` when qualkit has none for that pair, :class:`FrameworkError` when
    the file names an item the framework does not have."""
    from qualkit.frameworks.loading import builtin_frameworks

    pool = frameworks if frameworks is not None else builtin_frameworks()
    for name, data in _raw():
        if {data["from"], data["to"]} != {source, target}:
            continue
        fw_from, fw_to = pool[data["from"]], pool[data["to"]]
        walk = Crosswalk(data["from"], data["to"], str(data.get("source", name)))
        for i, entry in enumerate(data.get("pairs") or []):
            try:
                src = fw_from.resolve(str(entry["from"]))
                tgts = [fw_to.resolve(str(t)) for t in entry.get("to") or []]
            except (FrameworkRefError, KeyError) as exc:
                raise FrameworkError(f"pair {i + 1}: {getattr(exc, 'message', exc)}", name) from None
            walk.pairs.append(CrosswalkPair(src, tgts, bool(entry.get("verified", False)), entry.get("where")))
        return walk if data["from"] == source else _reversed(walk)
    known = ", ".join(f"{a} -> {b}" for a, b in crosswalks())
    raise FrameworkRefError(f"no crosswalk between {source} and {target} (known: {known})", f"{source}->{target}")


def _reversed(walk: Crosswalk) -> Crosswalk:
    """The same pairs read from the other side: each target item with every source item mapped onto it."""
    out = Crosswalk(walk.target, walk.source, walk.reference)
    for pair in walk.pairs:
        for tgt in pair.targets:
            mine = next((p for p in out.pairs if p.source is tgt), None)
            if mine is None:
                mine = CrosswalkPair(tgt, [], pair.verified, pair.where)
                out.pairs.append(mine)
            mine.targets.append(pair.source)
            mine.verified = mine.verified and pair.verified
    return out


def map_ref(ref: str, target: str, frameworks: Mapping[str, Framework] | None = None) -> list[FrameworkItem]:
    """The items of framework ``target`` that ``ref`` (e.g. ``cfir2009:peer_pressure``) maps onto."""
    from qualkit.frameworks.loading import builtin_frameworks
    from qualkit.frameworks.refs import resolve_ref

    pool = frameworks if frameworks is not None else builtin_frameworks()
    item = resolve_ref(ref, frameworks=pool)
    return crosswalk(item.framework, target, pool).targets_of(item)
