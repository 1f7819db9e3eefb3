"""The coders' codings as arrays for :mod:`qualkit.analysis.agree`: coders × units × codes booleans.

Units are those of :func:`~qualkit.analysis.unit_codes.build_unit_codes` (turns, sentences, ...)
or, in character mode, runs of characters with identical coverage (a run is a unit weighted by
its length). Span matching reads the spans themselves (:func:`span_lists`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qualkit.analysis.unit_codes import UnitCodes
from qualkit.coding.anchoring import anchored_codings
from qualkit.workspace.store import Workspace

__all__ = ["Units", "unit_table", "character_units", "kept_text", "span_lists"]

SpanLists = dict[str, dict[str, dict[str, list[tuple[int, int]]]]]


@dataclass
class Units:
    """Coders × units × codes booleans; ``weight`` = characters per run in character mode, else 1."""

    coders: list[str]
    codes: list[str]
    x: np.ndarray               # coders × units × codes, bool
    weight: np.ndarray          # units, int64
    transcript: np.ndarray      # units -> index into transcripts
    transcripts: list[str]
    unit: str
    passages: np.ndarray | None = None  # character mode: coded passages per code (for "rare")
    cluster: np.ndarray | None = None   # character mode: the turn of each run (what the bootstrap resamples)

    def reorder(self, codes: list[str]) -> Units:
        """The same units with the codes in the order of ``codes``."""
        pos = [self.codes.index(c) for c in codes]
        passages = self.passages[pos] if self.passages is not None else None
        return Units(self.coders, codes, self.x[:, :, pos], self.weight, self.transcript, self.transcripts, self.unit,
                     passages, self.cluster)


def unit_table(uc: UnitCodes) -> Units:
    """Turn / sentence / paragraph / question / document units from build_unit_codes."""
    codes = sorted(uc.code_ids)
    col = {c: i for i, c in enumerate(codes)}
    n = len(uc.units)
    x = np.zeros((len(uc.coders), n, len(codes)), dtype=bool)
    for g, coder in enumerate(uc.coders):
        rows, cols = [], []
        for u, s in enumerate(uc.codes[coder]):
            for c in s:
                rows.append(u)
                cols.append(col[c])
        x[g, rows, cols] = True
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    transcript = np.fromiter((tindex[u.transcript] for u in uc.units), dtype=np.int64, count=n)
    return Units(list(uc.coders), codes, x, np.ones(n, dtype=np.int64), transcript, list(uc.transcripts), uc.unit_kind)


def kept_text(uc: UnitCodes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per counted transcript, the starts and ends of the kept turns' text (in text order)."""
    out: dict[str, tuple[list[int], list[int]]] = {t: ([], []) for t in uc.transcripts}
    for ref in uc.units:
        starts, ends = out[ref.transcript]
        starts.append(ref.unit.start)
        ends.append(ref.unit.end)
    return {t: (np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64)) for t, (s, e) in out.items()}


def span_lists(ws: Workspace, uc: UnitCodes) -> SpanLists:
    """code -> coder -> transcript -> spans (start, end), for the counted transcripts."""
    counted = set(uc.transcripts)
    out: dict[str, dict[str, dict[str, list[tuple[int, int]]]]] = {}
    for coder in uc.coders:
        per: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for c in anchored_codings(ws, coder):
            if c.transcript in counted:
                per.setdefault(c.code, {}).setdefault(c.transcript, []).append((c.start, c.end))
        out[coder] = per
    # regroup as code -> coder -> transcript for the callers
    by_code: dict[str, dict[str, dict[str, list[tuple[int, int]]]]] = {}
    for coder, per in out.items():
        for code, tr in per.items():
            by_code.setdefault(code, {c: {} for c in uc.coders})[coder] = tr
    return by_code


def _coding_arrays(ws: Workspace, uc: UnitCodes) -> tuple[list[str], dict[str, np.ndarray]]:
    """The coders' codings in the counted transcripts as arrays: coder, code, transcript, start, end."""
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    codes: dict[str, int] = {}
    cols: dict[str, list[int]] = {"coder": [], "code": [], "transcript": [], "start": [], "end": []}
    for g, coder in enumerate(uc.coders):
        for c in anchored_codings(ws, coder):
            t = tindex.get(c.transcript)
            if t is None:
                continue
            cols["coder"].append(g)
            cols["code"].append(codes.setdefault(c.code, len(codes)))
            cols["transcript"].append(t)
            cols["start"].append(c.start)
            cols["end"].append(c.end)
    return list(codes), {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}


def character_units(ws: Workspace, uc: UnitCodes) -> Units:
    """Every character of the kept turns as a unit, stored as runs of identical coverage.

    Kept characters are laid end to end on one line (transcripts in order, turns in order); a
    span [s, e) of a transcript covers exactly the kept characters g(s) .. g(e) − 1, where g(x)
    is the line position of the first kept character at or after x. The boundaries of every
    coder's spans, of the turns and of the transcripts cut the line into runs; within a run every
    character has the same codes from every coder, so a run is a unit of weight = its length.
    Each run remembers its turn (``cluster``): the bootstrap resamples turns, not characters.
    """
    n_turns = len(uc.units)
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    seg_t = np.fromiter((tindex[r.transcript] for r in uc.units), dtype=np.int64, count=n_turns)
    seg_s = np.fromiter((r.unit.start for r in uc.units), dtype=np.int64, count=n_turns)
    seg_e = np.fromiter((r.unit.end for r in uc.units), dtype=np.int64, count=n_turns)
    lengths = seg_e - seg_s
    line_start = np.concatenate(([0], np.cumsum(lengths)))          # turn i starts at line_start[i]
    total = int(line_start[-1])
    nt = len(uc.transcripts)
    # where each transcript begins on the line (a transcript without kept turns takes no room)
    first_turn = np.searchsorted(seg_t, np.arange(nt), side="left")
    t_line = line_start[first_turn]
    big = np.int64(1) << 40  # (transcript, offset) keys sort as one number

    def to_line(t: np.ndarray, pos: np.ndarray) -> np.ndarray:
        if n_turns == 0:
            return np.zeros(len(pos), dtype=np.int64)
        j = np.searchsorted(seg_t * big + seg_s, t * big + pos, side="right") - 1
        jj = np.maximum(j, 0)
        same = (j >= 0) & (seg_t[jj] == t)
        return np.where(same, line_start[jj] + np.minimum(pos - seg_s[jj], lengths[jj]), t_line[t])

    codes, arr = _coding_arrays(ws, uc)
    si = to_line(arr["transcript"], arr["start"])
    ei = to_line(arr["transcript"], arr["end"])
    keep = ei > si
    gi, ki, si, ei = arr["coder"][keep], arr["code"][keep], si[keep], ei[keep]
    bounds = np.unique(np.concatenate([si, ei, line_start]))
    runs = len(bounds) - 1
    weight = np.diff(bounds).astype(np.int64)
    m, kk = len(uc.coders), len(codes)
    x = np.zeros((m, max(runs, 0), kk), dtype=bool)
    if runs > 0 and len(si):
        a = np.searchsorted(bounds, si)
        b = np.searchsorted(bounds, ei)
        for g in range(m):
            sel = gi == g
            diff = np.zeros((runs + 1) * kk, dtype=np.int32)  # +1 at a run where a span starts, −1 where it ends
            diff += np.bincount(a[sel] * kk + ki[sel], minlength=(runs + 1) * kk).astype(np.int32)
            diff -= np.bincount(b[sel] * kk + ki[sel], minlength=(runs + 1) * kk).astype(np.int32)
            x[g] = np.cumsum(diff.reshape(runs + 1, kk)[:-1], axis=0) > 0
    run_start = bounds[:-1]
    cluster = np.searchsorted(line_start[1:], run_start, side="right")      # the turn each run lies in
    transcript = seg_t[np.minimum(cluster, max(n_turns - 1, 0))] if n_turns else np.zeros(runs, dtype=np.int64)
    # coded passages: maximal stretches coded by anyone, broken at transcript boundaries
    covered = np.asarray(x.any(axis=0), dtype=bool)
    if runs:
        new_t = np.concatenate(([True], transcript[1:] != transcript[:-1]))
        prev = np.vstack([np.zeros((1, kk), dtype=bool), covered[:-1]])
        passages = (covered & (~prev | new_t[:, None])).sum(axis=0)
    else:
        passages = np.zeros(kk, dtype=np.int64)
    assert int(weight.sum()) == total
    return Units(list(uc.coders), codes, x, weight, transcript.astype(np.int64), list(uc.transcripts), "character",
                 passages, cluster.astype(np.int64))


