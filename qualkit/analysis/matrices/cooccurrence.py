"""Code × code co-occurrence over units, with ATLAS.ti's c-coefficient formula.

Units (``unit``): turn by default, or sentence, paragraph, question, document. Raw counts of units
coded with both codes, and c = n12 / (n1 + n2 − n12), the Jaccard index of the two codes' unit
sets (ATLAS.ti counts overlapping quotations, qualkit counts units, so figures can differ).
``cells``: ``count`` (square, diagonal = units with the code), ``coefficient`` (square), or
``pairs`` (one row per pair with n1, n2, n12 and c side by side).

``by`` (participant, transcript, role, site, ... as for the codes and themes matrices) cuts the
units by case first: each case's units counted apart, its squares stacked and its pairs listed
under a first column of cases; a unit belongs to the case of its participant, else of its document
or section (field notes), and a unit two participants share (a question) to both their cases.

Pairs are counted within one coder's codings (or the consensus), never across coders: with pooled
codings a unit counts for a pair only when one coder applied both codes, since ana's A beside
ben's B is a disagreement, not a co-occurrence. A code and its own ancestor (``stigma`` and
``stigma_staff``) are left out as a pair: a sub-code always co-occurs with its parent's idea.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.common import MatrixResult, check_choice, code_order, level_mapper
from qualkit.analysis.sources import ExcerptSet
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["c_coefficient", "cooccurrence_counts", "cooccurrence_matrix", "per_coder_counts"]


def cooccurrence_counts(unit_codes: Sequence[set[str]], codes: Sequence[str]
                        ) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """(n per code, n12 per pair) over units, each unit a set of codes: the input of the coefficient."""
    n = {c: 0 for c in codes}
    both: dict[tuple[str, str], int] = {}
    for s in unit_codes:
        present = [c for c in codes if c in s]
        for c in present:
            n[c] += 1
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                both[(a, b)] = both.get((a, b), 0) + 1
    return n, both


def c_coefficient(n1: int, n2: int, n12: int) -> float | None:
    """n12 / (n1 + n2 − n12): the Jaccard index of two unit sets (ATLAS.ti's c-coefficient formula)."""
    denom = n1 + n2 - n12
    return n12 / denom if denom > 0 else None


def _unit_sets(workspace: Workspace, ex: ExcerptSet, unit: str, lv: Callable[[str], str],
               case_of: Callable[[Any, Any], frozenset[str]] | None = None, unit_cases: list[frozenset[str]] | None = None
               ) -> tuple[list[tuple[frozenset[str], ...]], int]:
    """Per unit, the codes each coder (or the consensus) put on it; and the number of units.

    Research-team units are left out unless included. With ``case_of`` (transcript, unit -> its cases),
    ``unit_cases`` gets each unit's cases, in the same order (for the cut by case), while its
    transcript is read: holding (transcript, unit) pairs instead kept every transcript to the end."""
    from qualkit.coding.units import coded_units, split_units

    table = workspace.participant_table

    def is_fac(turn: Any) -> bool:
        return table.is_facilitator(turn.participant)

    spans_by: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    coders: list[str] = []
    for c, who in ex.codings:
        for name in who or ("",):
            if name not in coders:
                coders.append(name)
            spans_by.setdefault((c.transcript, name), []).append((c.start, c.end, lv(c.code)))
    unit_sets: list[tuple[frozenset[str], ...]] = []
    shared: dict[frozenset[str], frozenset[str]] = {}
    rows: dict[tuple[frozenset[str], ...], tuple[frozenset[str], ...]] = {}
    n_units = 0
    for tid, t in ex.transcripts.items():
        units = split_units(t, unit, is_facilitator=is_fac)
        if not ex.include_facilitators and unit not in ("question", "document"):
            units = [u for u in units if u.turn is None or not is_fac(t.turns[u.turn])]
        n_units += len(units)
        per_coder = [[shared.setdefault(f, f) for f in map(frozenset, coded_units(units, spans_by.get((tid, name), [])))]
                     for name in coders]
        # A study has few distinct (code set per coder) rows (most units: nothing): each unit holds a shared
        # tuple, not a list of sets of its own (about 700 bytes a unit, 220 MB at 5,000 interviews).
        unit_sets.extend([rows.setdefault(sets, sets) for sets in zip(*per_coder)] if per_coder else [])
        if case_of is not None and unit_cases is not None and per_coder:
            unit_cases.extend(case_of(t, u) for u in units)
    return unit_sets, n_units


def _unit_cases(workspace: Workspace, ex: ExcerptSet, by: str
                ) -> tuple[list[str], Callable[[Any, Any], frozenset[str]]]:
    """The cases of ``by``, and a function giving a unit's cases (from its transcript and the unit), read
    as the codes matrix reads an excerpt's (case_cut); units with the same cases share one set."""
    import bisect

    from qualkit.analysis.matrices.bycase import case_cut
    from qualkit.analysis.sources import Excerpt

    cases, case_of = case_cut(workspace, ex, by)
    table = workspace.participant_table
    starts: dict[str, list[int]] = {}  # the turn starts of the transcript being read
    shared: dict[frozenset[str], frozenset[str]] = {}

    def unit_cases(t: Any, u: Any) -> frozenset[str]:
        if t.id not in starts:
            starts.clear()
            starts[t.id] = [x.start for x in t.turns]
        first = starts[t.id]
        i = max(bisect.bisect_right(first, u.start) - 1, 0)
        people: list[str] = []
        while i < len(t.turns) and t.turns[i].start < u.end:
            p = t.turns[i].participant
            if p and p not in people and (ex.include_facilitators or not table.is_facilitator(p)):
                people.append(p)
            i += 1
        turn = t.turns[u.turn] if u.turn is not None and u.turn < len(t.turns) else None
        attrs = workspace.attributes_at(t, turn) if turn is not None else workspace.attributes_at(t, None, u.start)
        proxy = Excerpt(t.id, u.start, u.end, "", "", participant=people[0] if people else None,
                        participants=tuple(people), attributes=attrs)
        found = frozenset(case_of(proxy))
        return shared.setdefault(found, found)
    return cases, unit_cases


def _by_case_frames(by: str, unit_sets: list[tuple[frozenset[str], ...]], cases: list[str],
                    of_unit: list[frozenset[str]], used: list[str], related: Set[tuple[str, str]]
                    ) -> tuple[Any, Any, Any]:
    """Each case's counts and c squares stacked, and its pairs, under a first column ``by``."""
    import pandas as pd

    counts: list[Any] = []
    coefs: list[Any] = []
    pairs: list[Any] = []
    for case in cases:
        mine = [sets for sets, in_cases in zip(unit_sets, of_unit) if case in in_cases]
        n, both = per_coder_counts(mine, used, related)
        for frame, out in zip(_frames(used, n, both), (counts, coefs, pairs)):
            frame.insert(0, by, case)
            out.append(frame)

    def stack(frames: list, columns: list[str]) -> Any:
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    square = [by, "code", *used]
    return (stack(counts, square), stack(coefs, square),
            stack(pairs, [by, "code_a", "code_b", "n_a", "n_b", "n_both", "c"]))


def _related(workspace: Workspace) -> set[tuple[str, str]]:
    """(ancestor, descendant) pairs of code ids across the study's codebooks, both ways round."""
    out: set[tuple[str, str]] = set()
    for book in workspace.codebooks():
        for code in book.codes:
            for anc in book.path_of(code)[:-1]:
                out |= {(anc.id, code.id), (code.id, anc.id)}
    return out


def per_coder_counts(unit_sets: Sequence[Sequence[Set[str]]], codes: Sequence[str],
                     related: Set[tuple[str, str]] = frozenset()) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """n per code (units any coder coded with it) and n12 per pair (units where ONE coder applied both).

    ``unit_sets``: per unit, one code set per coder. Pairs in ``related`` (ancestor and descendant)
    are not counted."""
    n = {c: 0 for c in codes}
    both: dict[tuple[str, str], int] = {}
    pos = {c: i for i, c in enumerate(codes)}
    unique = len(pos) == len(codes)  # then a unit's few codes are walked, not every code per unit
    for sets in unit_sets:
        union: set[str] = set().union(*sets) if sets else set()
        for c in ((x for x in union if x in pos) if unique else codes):
            if c in union:
                n[c] += 1
        pairs: set[tuple[str, str]] = set()
        for one in sets:
            if not one:
                continue
            present = (sorted((c for c in one if c in pos), key=pos.__getitem__) if unique
                       else [c for c in codes if c in one])
            pairs |= {(a, b) for i, a in enumerate(present) for b in present[i + 1:] if (a, b) not in related}
        for key in pairs:
            both[key] = both.get(key, 0) + 1
    return n, both


def _frames(used: list[str], n: dict[str, int], both: dict[tuple[str, str], int]) -> tuple[Any, Any, Any]:
    """The counts and coefficient squares (code column first) and the pairs, strongest first."""
    import pandas as pd

    pos = {c: i for i, c in enumerate(used)}

    def n12(a: str, b: str) -> int:
        if a == b:
            return n[a]
        key = (a, b) if pos[a] < pos[b] else (b, a)
        return both.get(key, 0)

    counts = pd.DataFrame([[n12(a, b) for b in used] for a in used], index=used, columns=used)
    coef = pd.DataFrame([[round(c_coefficient(n[a], n[b], n12(a, b)) or 0.0, 3) for b in used] for a in used],
                        index=used, columns=used)
    pair_rows = []
    for (a, b), k in both.items():
        pair_rows.append({"code_a": a, "code_b": b, "n_a": n[a], "n_b": n[b], "n_both": k,
                          "c": round(c_coefficient(n[a], n[b], k) or 0.0, 3)})
    pairs = pd.DataFrame(pair_rows, columns=["code_a", "code_b", "n_a", "n_b", "n_both", "c"])
    if len(pairs):
        pairs = pairs.sort_values(["c", "n_both", "code_a", "code_b"],
                                  ascending=[False, False, True, True]).reset_index(drop=True)
    return counts.rename_axis("code").reset_index(), coef.rename_axis("code").reset_index(), pairs


def cooccurrence_matrix(workspace: Workspace, ex: ExcerptSet, unit: str, cells: str, level: str,
                        params: dict[str, Any], by: str | None = None) -> MatrixResult:
    """Code co-occurrence by ``unit`` (see the module docstring); with ``by``, cut by case first."""
    from qualkit.coding.units import UNIT_KINDS
    from qualkit.render.tables import Table

    check_choice(unit, UNIT_KINDS, "unit")
    lv = level_mapper(workspace, level)
    cases, case_of = _unit_cases(workspace, ex, by) if by else ([], None)
    of_unit: list[frozenset[str]] = []
    unit_sets, n_units = _unit_sets(workspace, ex, unit, lv, case_of, of_unit)
    order, _names = code_order(workspace, {lv(c.code) for c, _ in ex.codings})
    if level == "top":
        order = list(dict.fromkeys(lv(c) for c in order))
    used = [c for c in order if any(c in one for sets in unit_sets for one in sets)]
    related = _related(workspace) if level == "code" else set()
    n, both = per_coder_counts(unit_sets, used, related)
    counts_df, coef_df, pairs = _frames(used, n, both)
    note = (f"{n_units} {unit} units in {len(ex.transcripts)} transcript{plural_s(len(ex.transcripts))}"
            + ("" if ex.include_facilitators or unit in ("question", "document") else " (interviewer/moderator turns left out)")
            + f"; {len(used)} code{plural_s(len(used))} used; c = n12 / (n1 + n2 − n12), the Jaccard index of the units coded with each code "
            "(the formula of ATLAS.ti's c-coefficient; ATLAS.ti counts quotations, not units); "
            + ("a pair counts in a unit only when one coder applied both codes (never one coder's A with another's B); "
               if ex.source.pooled else "")
            + f"a code paired with its own parent or sub-code is left out; built from {ex.source_text()}.")
    tables = [Table("cooccurrence_counts", counts_df, f"Code co-occurrence: units coded with both (diagonal: with the code), per {unit}", note),
              Table("cooccurrence_c", coef_df, "Code co-occurrence: c = n12 / (n1 + n2 − n12)", note),
              Table("cooccurrence_pairs", pairs, "Code pairs that co-occur, strongest first", note)]
    frame = {"count": counts_df, "coefficient": coef_df, "pairs": pairs}[cells]
    params.update({"unit": unit, "cells": cells, "level": level, "coefficient": "c = n12/(n1+n2-n12) (Jaccard)",
                   "units": n_units, "by": by})
    notes = [note]
    if by:
        from qualkit.io.naming import file_stem

        by_counts, by_coef, by_pairs = _by_case_frames(by, unit_sets, cases, of_unit, used, related)
        by_note = (f"Cut by {by}: {len(cases)} cases, each case's units counted apart; a unit counts for the {by} of "
                   f"its participant(s), else of its document or section.")
        stem = file_stem(by)
        tables[:0] = [Table(f"cooccurrence_pairs_by_{stem}", by_pairs, f"Code pairs that co-occur, by {by}",
                            f"{by_note} {note}"),
                      Table(f"cooccurrence_counts_by_{stem}", by_counts,
                            f"Code co-occurrence by {by}: units coded with both, per {unit}", f"{by_note} {note}"),
                      Table(f"cooccurrence_c_by_{stem}", by_coef, f"Code co-occurrence by {by}: c", f"{by_note} {note}")]
        frame = {"count": by_counts, "coefficient": by_coef, "pairs": by_pairs}[cells]
        notes.append(by_note)
    return MatrixResult("cooccurrence", frame, tables, f"Code co-occurrence by {unit}" + (f", by {by}" if by else ""),
                        [], notes, params)
