"""Span matching: agreement between coders' segments without fixed units.

Two coders' spans of a code *agree* when they overlap by at least a share of the longer span
(MAXQDA's "overlap of at least X%" rule; QDA Miner's minimum overlap). Spans are paired one to
one, largest overlap share first; each matched pair is one agreement and each unmatched span one
disagreement. Without units that both coders left uncoded, chance agreement cannot be estimated,
so the figures are percent agreement and the F-measure (positive specific agreement).

Pure Python and numpy: no workspace, no pandas.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qualkit.agreement.patterns import Resampling, percentile_interval, seeded_rng

__all__ = ["SPAN_STATISTICS", "merge_spans", "spans_touching", "match_spans", "span_match_stats", "span_match_ci"]

#: The statistics span matching reports (and gives bootstrap intervals for).
SPAN_STATISTICS = ("percent_agreement", "f1")

Span = tuple[int, int]


def merge_spans(spans: list[Span]) -> list[Span]:
    """One coder's spans of one code, overlapping ones merged, sorted.

    Examples
    --------
    >>> merge_spans([(5, 9), (0, 3), (2, 4), (9, 10)])
    [(0, 4), (5, 9), (9, 10)]
    """
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def spans_touching(spans: list[Span], starts: npt.ArrayLike, ends: npt.ArrayLike) -> list[Span]:
    """The spans that overlap at least one kept piece ``[starts[i], ends[i])`` (disjoint, in order).

    Examples
    --------
    >>> spans_touching([(0, 5), (10, 12), (20, 30)], [4, 25], [8, 40])
    [(0, 5), (20, 30)]
    """
    st = np.asarray(starts, dtype=np.int64)
    en = np.asarray(ends, dtype=np.int64)
    if len(st) == 0:
        return []
    out = []
    for s, e in spans:
        j = int(np.searchsorted(st, e, side="left")) - 1  # last kept piece starting before e
        if j >= 0 and en[j] > s:  # pieces are disjoint and in order: checking the last one is enough
            out.append((s, e))
    return out


def match_spans(a: list[Span], b: list[Span], share: float) -> int:
    """Number of one-to-one matches between two sorted lists of disjoint spans.

    Parameters
    ----------
    a, b : list of (int, int)
        Two coders' merged spans of one code (:func:`merge_spans`), half-open ``[start, end)``.
    share : float
        Minimum overlap, as a share (0, 1] of the longer span's length.

    Returns
    -------
    int
        Matched pairs.

    Notes
    -----
    Two spans match when their overlap is at least ``share`` × the longer one's length; pairs
    are taken greedily, largest overlap share first (then text order), each span at most once.

    Examples
    --------
    >>> match_spans([(0, 10)], [(0, 4), (4, 10)], 0.5)  # 6/10 wins over 4/10
    1
    >>> match_spans([(0, 10)], [(0, 4), (4, 10)], 0.7)
    0
    """
    candidates = []
    j0 = 0
    for i, (s, e) in enumerate(a):
        while j0 < len(b) and b[j0][1] <= s:
            j0 += 1
        j = j0
        while j < len(b) and b[j][0] < e:
            bs, be = b[j]
            ov = min(e, be) - max(s, bs)
            longer = max(e - s, be - bs)
            if ov > 0 and ov >= share * longer * (1 - 1e-12):
                candidates.append((-ov / longer, i, j))
            j += 1
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return len(used_a)


def span_match_stats(matched: npt.ArrayLike, unmatched: npt.ArrayLike) -> dict[str, npt.NDArray[np.float64]]:
    """Percent agreement a / (a + u) and F1 = 2a / (2a + u) from matched pairs a and unmatched spans u.

    Notes
    -----
    F1 is the positive specific agreement, equal to the F-measure of one coder against the
    other; NaN where there are no spans.

    References
    ----------
    Fleiss JL (1975) Biometrics 31:651–659; Hripcsak G, Rothschild AS (2005) JAMIA 12:296–298,
    doi:10.1197/jamia.M1733.

    Examples
    --------
    >>> st = span_match_stats([3], [2])
    >>> float(st["percent_agreement"][0]), float(st["f1"][0])
    (0.6, 0.75)
    """
    a = np.asarray(matched, dtype=float)
    u = np.asarray(unmatched, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"percent_agreement": a / (a + u), "f1": 2 * a / (2 * a + u)}


def span_match_ci(counts: npt.ArrayLike, key: str, resampling: Resampling) -> dict[str, float]:
    """Bootstrap intervals of :func:`span_match_stats`, resampling segment units.

    ``counts`` is (matched pairs, unmatched spans); a resample of their total is a binomial draw
    of the matched share. ``key`` names the seed stream (the code id). Returns
    ``percent_agreement_low`` / ``_high`` and ``f1_low`` / ``_high`` (NaN without spans).
    """
    tab = np.asarray(counts)
    total = int(tab.sum())
    if total == 0:
        return {f"{s}_{e}": float("nan") for s in SPAN_STATISTICS for e in ("low", "high")}
    rng = seeded_rng(resampling.seed, key)
    a = rng.binomial(total, tab[0] / total, size=resampling.resamples)
    st = span_match_stats(a, total - a)
    out: dict[str, float] = {}
    for s in SPAN_STATISTICS:
        out[f"{s}_low"], out[f"{s}_high"] = percentile_interval(st[s], resampling.confidence)
    return out
