"""From coders' span codings to the codes each coder put on each unit: the input of agreement.

Only transcripts every named coder has done count (marked done: :mod:`qualkit.coding.coverage`;
for a coder who never marks any, a transcript with at least one of their codings). Units in the research team's turns (interviewer, moderator) are
left out unless asked for; a ``question`` unit always starts with one and is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qualkit.coding.anchoring import anchored_codings
from qualkit.coding.units import UNIT_KINDS, Unit, coded_units, split_units
from qualkit.errors import AgreementInputError, CodingError  # AgreementInputError is re-exported from here too
from qualkit.io.naming import natural_key
from qualkit.workspace.store import Workspace

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["AgreementInputError", "UnitRef", "UnitCodes", "build_unit_codes", "release_unit_codes"]


@dataclass(frozen=True, slots=True)  # one per unit of the study: slots keep them small
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
    codes: dict[str, list[frozenset[str]]] = field(default_factory=dict)  # equal sets are one shared object
    transcripts: list[str] = field(default_factory=list)           # coded by all coders
    left_out: dict[str, list[str]] = field(default_factory=dict)  # transcript -> coders who did not code it
    code_ids: set[str] = field(default_factory=set)               # every code used by any of the coders
    progress: dict[str, dict[str, str]] = field(default_factory=dict)  # left-out transcript -> coder -> "2/28 turns coded"
    facilitator_only: dict[str, int] = field(default_factory=dict)    # coder -> codings only in the team's turns

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


def release_unit_codes(workspace: Workspace, coders: list[str], unit: str = "turn", include_facilitators: bool = False,
                       check_codes: bool = True) -> None:
    """Let go of what :func:`build_unit_codes` kept for these arguments, once no later step needs it:
    a unit per turn with every coder's codes, ~200 MB at 5,000 transcripts and three coders."""
    workspace.forget(("unit_codes", tuple(coders), unit, include_facilitators, check_codes))


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
    per_coder = {c: anchored_codings(workspace, c) for c in coders}
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
    common, result = _counted(workspace, coders, unit, per_coder, set(paths))
    if not common:
        raise AgreementInputError(f"coders {', '.join(coders)} have no transcript in common: each must have coded a transcript "
                                  "and marked it done (`qualkit codings done`) for it to count")
    table = workspace.participant_table

    def is_facilitator(turn: Any) -> bool:
        return table.is_facilitator(turn.participant)

    from qualkit.io.progress import track

    # A study has few distinct code sets (most units: none or one code): each unit's set is one
    # shared frozenset, not a set of its own (216 bytes each, three per unit at three coders).
    shared: dict[frozenset[str], frozenset[str]] = {}
    for tid in track(common, "Laying codings onto units"):
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
            result.codes[coder].extend(shared.setdefault(s, s) for s in map(frozenset, coded_units(units, spans)))
            if not include_facilitators and spans:
                _count_outside(result, coder, units, spans)
    return result


def _count_outside(result: UnitCodes, coder: str, units: list[Unit], spans: list[tuple[int, int, str]]) -> None:
    """Count the coder's codings that touch no counted unit (they lie in interviewer/moderator turns):
    they are kept in the files but would vanish from agreement without a word."""
    import bisect

    starts = [u.start for u in units]
    outside = 0
    for start, end, _code in spans:  # coded_units' overlap rule, without a code set per unit
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(units) and units[i].start < end and units[i].end <= start:
            i += 1
        if not (i < len(units) and units[i].start < end):
            outside += 1
    if outside:
        result.facilitator_only[coder] = result.facilitator_only.get(coder, 0) + outside



def _counted(workspace: Workspace, coders: list[str], unit: str, per_coder: dict[str, list],
             known: set[str]) -> tuple[list[str], UnitCodes]:
    """The transcripts every coder has done (coded, for a coder who never marks any done), and the
    UnitCodes to fill, listing the others as left out with each unfinished coder's progress."""
    from qualkit.coding.coverage import done_transcripts, progress

    coded_by = {c: {x.transcript for x in codings} for c, codings in per_coder.items()}
    marks = {c: done_transcripts(workspace, c) for c in coders}
    done = {c: coded_by[c] if (m := marks[c]) is None else m & known for c in coders}
    common = sorted(set.intersection(*done.values()), key=natural_key)
    result = UnitCodes(coders, unit, codes={c: [] for c in coders}, transcripts=common)
    for tid in sorted(set.union(*coded_by.values(), *done.values()) - set(common), key=natural_key):
        result.left_out[tid] = [c for c in coders if tid not in done[c]]
        for c in result.left_out[tid]:
            if tid in coded_by[c]:
                p = progress(workspace, c, [tid], per_coder[c]).get(tid)
                if p is not None:
                    result.progress.setdefault(tid, {})[c] = str(p)
    return common, result
