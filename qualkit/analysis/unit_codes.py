"""From coders' span codings to the codes each coder put on each unit: the input of agreement.

Only transcripts coded by every named coder count (a coder "coded" a transcript when their file
has at least one coding in it). Units in the research team's turns (interviewer, moderator) are
left out unless asked for; a ``question`` unit always starts with one and is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qualkit.coding.units import UNIT_KINDS, Unit, coded_units, split_units
from qualkit.errors import AgreementInputError, CodingError  # AgreementInputError is re-exported from here too
from qualkit.io.naming import natural_key
from qualkit.workspace.store import Workspace

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["AgreementInputError", "UnitRef", "UnitCodes", "build_unit_codes"]


@dataclass(frozen=True)
class UnitRef:
    """A unit of one transcript, with who speaks in it (the first turn's speaker for question units)."""

    transcript: str
    unit: Unit
    speaker: str | None
    participant: str | None

    @property
    def number(self) -> int:
        """1-based unit number within its transcript, as shown to people."""
        return self.unit.index + 1


@dataclass
class UnitCodes:
    """Per coder, the set of codes on each unit; ``units`` and every coder's list share one order."""

    coders: list[str]
    unit_kind: str
    units: list[UnitRef] = field(default_factory=list)
    codes: dict[str, list[set[str]]] = field(default_factory=dict)
    transcripts: list[str] = field(default_factory=list)           # coded by all coders
    left_out: dict[str, list[str]] = field(default_factory=dict)  # transcript -> coders who did not code it
    code_ids: set[str] = field(default_factory=set)               # every code used by any of the coders

    def matrix(self, code: str) -> npt.NDArray[np.int8]:
        """Coders x units 0/1 matrix for one code (1 = the coder applied it to the unit)."""
        import numpy as np

        return np.array([[1 if code in s else 0 for s in self.codes[c]] for c in self.coders], dtype=np.int8)


def build_unit_codes(workspace: Workspace, coders: list[str], unit: str = "turn", include_facilitators: bool = False,
                     check_codes: bool = True) -> UnitCodes:
    """Read the coders' files and lay their codings onto units (see the module docstring).

    Built once per arguments while the workspace's inputs are unchanged (`run`'s agreement step,
    its report and the coder comparison share it); callers must not modify the result."""
    key = ("unit_codes", tuple(coders), unit, include_facilitators, check_codes)
    return workspace.derived(key, lambda: _build_unit_codes(workspace, coders, unit, include_facilitators, check_codes))


def _build_unit_codes(workspace: Workspace, coders: list[str], unit: str, include_facilitators: bool,
                      check_codes: bool) -> UnitCodes:
    if unit not in UNIT_KINDS:
        raise AgreementInputError(f"unit must be one of {', '.join(UNIT_KINDS)}, not {unit!r}")
    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise AgreementInputError("name at least two coders (e.g. --coders ana,ben)")
    known = workspace.coders()
    missing = [c for c in coders if c not in known]
    if missing:
        raise AgreementInputError(f"no codings file for coder(s) {', '.join(missing)} (known: {', '.join(known) or 'none'})",
                                  workspace.codings_dir)
    per_coder = {c: workspace.codings(c) for c in coders}
    paths = {p.stem: p for p in workspace.transcript_paths()}
    code_ids = set(workspace.code_index()) if check_codes else None
    spans_by: dict[str, dict[str, list[tuple[int, int, str]]]] = {c: {} for c in coders}
    for coder, codings in per_coder.items():
        path = workspace.coder_file(coder)
        for c in codings:
            spans_by[coder].setdefault(c.transcript, []).append((c.start, c.end, c.code))
            if c.transcript not in paths:
                raise CodingError(f"transcript {c.transcript!r} is not in transcripts/", path, c.line)
            if code_ids is not None and c.code not in code_ids:
                raise CodingError(f"code {c.code!r} is not in any codebook", path, c.line)
    coded_by = {c: {x.transcript for x in codings} for c, codings in per_coder.items()}
    common = sorted(set.intersection(*coded_by.values()), key=natural_key)
    result = UnitCodes(coders, unit, codes={c: [] for c in coders}, transcripts=common)
    for tid in sorted(set.union(*coded_by.values()) - set(common), key=natural_key):
        result.left_out[tid] = [c for c in coders if tid not in coded_by[c]]
    if not common:
        raise AgreementInputError(f"coders {', '.join(coders)} have no transcript in common: each must have coded a transcript for it to count")
    table = workspace.participant_table

    def is_facilitator(turn: Any) -> bool:
        return table.is_facilitator(turn.participant)

    for tid in common:
        t = workspace.read(paths[tid])  # not transcript(id): that rescans the folder each time
        units = split_units(t, unit, is_facilitator=is_facilitator)
        # Question and document units start with the team's turn by construction; keep them.
        if not include_facilitators and unit not in ("question", "document"):
            units = [u for u in units if u.turn is None or not is_facilitator(t.turns[u.turn])]
        for u in units:
            turn = t.turns[u.turn] if u.turn is not None else None
            result.units.append(UnitRef(tid, u, turn.speaker if turn else None, turn.participant if turn else None))
        for coder in coders:
            spans = spans_by[coder].get(tid, [])
            result.code_ids.update(code for *_, code in spans)
            result.codes[coder].extend(coded_units(units, spans))
    return result

