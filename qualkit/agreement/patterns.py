"""Binary agreement statistics for many codes at once, from counts of unit patterns.

When each unit is coded / not coded by each coder (one binary variable per code), percent
agreement, Cohen's or Fleiss' kappa, Krippendorff's alpha, Gwet's AC1 and prevalence depend only
on how many units show each *pattern* of coders (for two coders: who applied the code; for more:
how many applied it). :class:`PatternCells` turns coders × units × codes booleans into those
pattern counts and evaluates every statistic for every code (and every bootstrap resample) in a
few array operations. The formulas are those of :mod:`qualkit.agreement.kappas` and
:mod:`qualkit.agreement.alpha` on complete binary data; tests check them equal.

Bootstrap intervals resample units: a resample of N units is a multinomial draw of a code's
pattern counts, so resamples cost O(patterns), not O(units). Clustered units (characters within
turns) are resampled by cluster instead (:func:`clustered_pattern_ci`).

Pure numpy: no workspace, no pandas.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "PATTERN_STATISTICS",
    "BATCH",
    "PatternCells",
    "Resampling",
    "pattern_keys",
    "count_patterns",
    "seeded_rng",
    "percentile_interval",
    "pattern_ci",
    "pooled_pattern_ci",
    "cluster_batches",
    "clustered_pattern_ci",
]

#: The statistics that get bootstrap intervals (``<name>_low`` / ``<name>_high``).
PATTERN_STATISTICS = ("percent_agreement", "kappa", "alpha", "ac1")
#: Bootstrap resamples drawn and evaluated together (bounds memory: batch × patterns or clusters).
BATCH = 250
_BLOCK = 1 << 15  # units per block in count_patterns

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Resampling(NamedTuple):
    """Bootstrap settings: how many ``resamples``, the ``seed`` and the ``confidence`` level."""

    resamples: int
    seed: int
    confidence: float


class PatternCells:
    """The unit patterns the binary statistics need, for ``m`` coders.

    Two coders: the 4 joint patterns (Cohen's kappa needs each coder's marginal); more coders:
    how many of them applied the code (0..m), which Fleiss' kappa, alpha, AC1 and percent
    agreement depend on. Cell 0 is always "nobody applied it".

    Parameters
    ----------
    m : int
        Number of coders (at least 2).

    Examples
    --------
    >>> cells = PatternCells(2)
    >>> x = np.array([[[1], [1], [0], [0]], [[1], [0], [0], [0]]], dtype=bool)  # coders × units × codes
    >>> cells.index(x)[:, 0].tolist()
    [3, 1, 0, 0]
    """

    def __init__(self, m: int) -> None:
        self.m = m
        self.first: FloatArray | None = None
        self.second: FloatArray | None = None
        if m == 2:
            self.r1 = np.array([0, 1, 1, 2], dtype=float)
            self.first = np.array([0, 1, 0, 1], dtype=float)   # coder 1 applied it
            self.second = np.array([0, 0, 1, 1], dtype=float)  # coder 2 applied it
        else:
            self.r1 = np.arange(m + 1, dtype=float)
        self.n = len(self.r1)

    def index(self, x: npt.ArrayLike) -> npt.NDArray[np.signedinteger[Any]]:
        """Pattern cell of each unit × code, from a coders × units × codes boolean array."""
        x = np.asarray(x, dtype=bool)
        cell: npt.NDArray[np.signedinteger[Any]]
        if self.m == 2:
            cell = x[0].astype(np.int8) + 2 * x[1].astype(np.int8)
        else:
            cell = x.sum(axis=0, dtype=np.int16)
        return cell

    def stats(self, counts: npt.ArrayLike) -> dict[str, FloatArray]:
        """Every statistic from pattern counts of shape (..., ``n`` cells); NaN where undefined.

        Parameters
        ----------
        counts : array_like
            Units (or weights) per pattern cell, last axis the cells; leading axes are codes,
            resamples, or both.

        Returns
        -------
        dict of str to ndarray
            ``n_units``, ``n_coded`` (units coded by anyone), ``prevalence`` (π₁),
            ``percent_agreement``, ``kappa``, ``alpha``, ``ac1``, the positive and negative specific
            agreement ``p_pos`` / ``p_neg`` (Cicchetti & Feinstein 1990), the bias and prevalence
            indices ``bias_index`` / ``prevalence_index`` (Byrt, Bishop & Carlin 1993; bias: two
            coders only, else NaN), and the value counts ``n1`` / ``n0`` (cells coded / not
            coded), each of the leading shape.

        Notes
        -----
        With c_p the count of pattern p, r₁(p) coders applying the code and r₀ = m − r₁,
        N = Σ c_p units and n = mN values:

        * p_a = Σ_p c_p (r₁(r₁ − 1) + r₀(r₀ − 1)) / (m(m − 1)) / N;
        * π₁ = Σ_p c_p r₁ / n;
        * kappa = (p_a − p_e) / (1 − p_e), p_e = q₁q₂ + (1 − q₁)(1 − q₂) with each coder's share
          q of units coded (Cohen) for two coders, else π₁² + (1 − π₁)² (Fleiss);
        * alpha = 1 − (n − 1) o₀₁ / (n₀ n₁), o₀₁ = Σ_p c_p r₁ r₀ / (m − 1) (nominal coincidences);
        * AC1 = (p_a − p_e) / (1 − p_e), p_e = 2π₁(1 − π₁);
        * p_pos = Σ_p c_p r₁(r₁ − 1) / Σ_p c_p r₁(m − 1), p_neg the same with r₀ (for two coders
          2a / (2a + b + c) and 2d / (2d + b + c); Cicchetti & Feinstein 1990, Uebersax's general form);
        * bias index = q₁ − q₂ = (b − c) / N, prevalence index = (a − d) / N (Byrt et al. 1993; for
          more coders the prevalence index uses "all coders" for a and "nobody" for d).

        Results are rounded to 12 decimals so that an exact 0 is not shown as "-3e-16".

        Examples
        --------
        Ten units: 6 nobody coded, 1 only coder 1, 1 only coder 2, 2 both; the same figures as
        :func:`~qualkit.agreement.cohen_kappa` and :func:`~qualkit.agreement.krippendorff_alpha`
        on the 2 × 10 matrix.

        >>> st = PatternCells(2).stats([6, 1, 1, 2])
        >>> float(st["percent_agreement"]), round(float(st["kappa"]), 4), round(float(st["alpha"]), 4)
        (0.8, 0.5238, 0.5476)
        >>> from qualkit.agreement import cohen_kappa, krippendorff_alpha
        >>> data = [[0] * 6 + [1, 0, 1, 1], [0] * 6 + [0, 1, 1, 1]]
        >>> round(cohen_kappa(data), 4), round(krippendorff_alpha(data), 4)
        (0.5238, 0.5476)
        >>> round(float(st["p_pos"]), 4), round(float(st["p_neg"]), 4), float(st["bias_index"]), float(st["prevalence_index"])
        (0.6667, 0.8571, 0.0, -0.4)
        """
        m = self.m
        c = np.asarray(counts, dtype=float)
        r1 = self.r1
        r0 = m - r1
        with np.errstate(divide="ignore", invalid="ignore"):
            n_units = c.sum(axis=-1)
            pa = (c @ ((r1 * (r1 - 1) + r0 * (r0 - 1)) / (m * (m - 1)))) / n_units
            n_vals = n_units * m
            n1 = c @ r1
            n0 = n_vals - n1
            pi1 = n1 / n_vals
            if self.first is not None and self.second is not None:
                q1 = (c @ self.first) / n_units
                q2 = (c @ self.second) / n_units
                pe = q1 * q2 + (1 - q1) * (1 - q2)
            else:
                pe = pi1 ** 2 + (1 - pi1) ** 2
            kappa = np.where(1 - pe > 1e-12, (pa - pe) / (1 - pe), np.nan)
            o01 = (c @ (r1 * r0)) / (m - 1)
            alpha = np.where(n0 * n1 > 0, 1 - (n_vals - 1) * o01 / (n0 * n1), np.nan)
            pe1 = 2 * pi1 * (1 - pi1)
            ac1 = (pa - pe1) / (1 - pe1)
            extra = self._specific(c, n_units)
        # 12 decimals: no "-3e-16" where the exact value is 0
        return {"n_units": n_units, "n_coded": n_units - c[..., 0], "prevalence": pi1, "percent_agreement": np.round(pa, 12),
                "kappa": np.round(kappa, 12), "alpha": np.round(alpha, 12), "ac1": np.round(ac1, 12), "n1": n1, "n0": n0,
                **{k: np.round(v, 12) for k, v in extra.items()}}

    def _specific(self, c: FloatArray, n_units: FloatArray) -> dict[str, FloatArray]:
        """p_pos, p_neg (Cicchetti & Feinstein 1990), bias and prevalence indices (Byrt et al. 1993)."""
        m, r1 = self.m, self.r1
        r0 = m - r1
        with np.errstate(divide="ignore", invalid="ignore"):
            pos_den = c @ (r1 * (m - 1))
            neg_den = c @ (r0 * (m - 1))
            out = {"p_pos": np.where(pos_den > 0, (c @ (r1 * (r1 - 1))) / pos_den, np.nan),
                   "p_neg": np.where(neg_den > 0, (c @ (r0 * (r0 - 1))) / neg_den, np.nan),
                   "prevalence_index": (c[..., -1] - c[..., 0]) / n_units}
            if self.first is not None and self.second is not None:
                out["bias_index"] = (c @ self.first - c @ self.second) / n_units
            else:
                out["bias_index"] = np.full_like(n_units, np.nan)
        return out


def pattern_keys(cell: npt.ArrayLike, n_cells: int) -> npt.NDArray[np.signedinteger[Any]]:
    """Units × codes keys ``cell + code · n_cells``: one bincount of them counts every code's patterns.

    The smallest integers every key fits in (16 bits up to 4,096 codes of three coders): a quarter
    of the memory of 64-bit keys, which a 5,000-transcript study's agreement held by the hundred MB."""
    c = np.asarray(cell)
    k = c.shape[1]
    top = k * n_cells
    kind: type[np.signedinteger[Any]] = np.int16 if top < 2**15 else np.int32 if top < 2**31 else np.int64
    out: npt.NDArray[np.signedinteger[Any]] = c.astype(kind)  # a copy: the caller's cells are left as they are
    out += (np.arange(k, dtype=kind) * kind(n_cells))[None, :]  # in place: no third units x codes array at once
    return out


def count_patterns(keys: npt.ArrayLike, weight: npt.ArrayLike, n_cells: int,
                   group: npt.ArrayLike | None = None, n_groups: int = 1) -> FloatArray:
    """Weighted pattern counts per code (codes × cells), or per group and code with ``group``.

    Parameters
    ----------
    keys : array_like
        Units × codes keys from :func:`pattern_keys`.
    weight : array_like
        Weight of each unit (1, or characters per run).
    n_cells : int
        Pattern cells per code (:attr:`PatternCells.n`).
    group : array_like, optional
        Group (e.g. transcript) index of each unit; the result is then groups × codes × cells.
    n_groups : int
        Number of groups (with ``group``).

    Examples
    --------
    >>> count_patterns(pattern_keys([[3, 0], [1, 0]], 4), [1, 1], 4).tolist()
    [[0.0, 1.0, 0.0, 1.0], [2.0, 0.0, 0.0, 0.0]]
    """
    kk = np.asarray(keys)
    k = kk.shape[1]
    wt = np.asarray(weight)
    g = None if group is None else np.asarray(group, dtype=np.int64)
    size = k * n_cells * (1 if g is None else n_groups)
    counts = np.zeros(size, dtype=np.float64)
    # In blocks of units, so the repeated weights and 64-bit keys bincount needs are a few MB, not
    # units × codes × 16 bytes. The weights are whole numbers, so the sums are exact in any order.
    for b0 in range(0, kk.shape[0], _BLOCK):
        block = kk[b0:b0 + _BLOCK].astype(np.int64)
        if g is not None:
            block += g[b0:b0 + _BLOCK, None] * (k * n_cells)
        counts += np.bincount(block.ravel(), weights=np.repeat(wt[b0:b0 + _BLOCK], k), minlength=size)
    if g is None:
        return counts.reshape(k, n_cells)
    return counts.reshape(n_groups, k, n_cells)


def seeded_rng(seed: int, key: str) -> np.random.Generator:
    """A generator from ``seed`` and a name, so one item's draws do not depend on the others'."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8"))]))


def percentile_interval(values: npt.ArrayLike, confidence: float) -> tuple[float, float]:
    """Percentile interval of the defined (non-NaN) values; (NaN, NaN) if there are none.

    The ((1 − confidence)/2, (1 + confidence)/2) quantiles, as :func:`~qualkit.agreement.bootstrap_ci`
    takes them.

    Examples
    --------
    >>> percentile_interval([0.1, 0.2, float("nan"), 0.3], 0.5)
    (0.15000000000000002, 0.25)
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (math.nan, math.nan)
    tail = (1 - confidence) / 2
    low, high = np.quantile(v, [tail, 1 - tail])
    return (float(low), float(high))


def _nan_intervals() -> dict[str, float]:
    return {f"{s}_{e}": math.nan for s in PATTERN_STATISTICS for e in ("low", "high")}


def _intervals(st: dict[str, FloatArray], confidence: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in PATTERN_STATISTICS:
        out[f"{s}_low"], out[f"{s}_high"] = percentile_interval(st[s], confidence)
    return out


def pattern_ci(cells: PatternCells, counts: npt.ArrayLike, key: str, resampling: Resampling) -> dict[str, float]:
    """Bootstrap intervals of one code's statistics: resampling N units = a multinomial draw of its counts.

    Parameters
    ----------
    cells : PatternCells
        The coders' pattern cells.
    counts : array_like
        The code's pattern counts (one row of :func:`count_patterns`).
    key : str
        Name mixed into the seed (the code id), so an interval does not change when codes are added.
    resampling : Resampling
        Resamples, seed and confidence.

    Returns
    -------
    dict of str to float
        ``<statistic>_low`` and ``<statistic>_high`` for each of :data:`PATTERN_STATISTICS`;
        resamples where a statistic is undefined are skipped, NaN when all are.
    """
    c = np.asarray(counts, dtype=float)
    total = int(round(c.sum()))
    if total == 0:
        return _nan_intervals()
    rng = seeded_rng(resampling.seed, key)
    draws = rng.multinomial(total, c / c.sum(), size=resampling.resamples)
    return _intervals(cells.stats(draws), resampling.confidence)


def pooled_pattern_ci(cells: PatternCells, cell: npt.ArrayLike, weight: npt.ArrayLike, key: str,
                      resampling: Resampling) -> dict[str, float]:
    """Bootstrap intervals of the pooled statistics: units resampled with all their codes.

    Each unit contributes its histogram of pattern cells over the codes; distinct histograms are
    resampled as a multinomial draw of their weights. ``cell`` is units × codes (from
    :meth:`PatternCells.index`); ``key`` names the seed stream. Returns as :func:`pattern_ci`.
    """
    c = np.asarray(cell)
    k = c.shape[1]
    if c.shape[0] == 0 or k == 0:
        return _nan_intervals()
    hist = np.zeros((c.shape[0], cells.n), dtype=np.int64)
    for j in range(cells.n):
        hist[:, j] = (c == j).sum(axis=1)
    rows, inverse = np.unique(hist, axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=np.asarray(weight), minlength=len(rows))
    rng = seeded_rng(resampling.seed, key)
    draws = rng.multinomial(int(round(w.sum())), w / w.sum(), size=resampling.resamples)
    return _intervals(cells.stats(draws @ rows), resampling.confidence)


def cluster_batches(cluster: npt.ArrayLike, resampling: Resampling, key: str = "(turns)") -> Iterator[FloatArray]:
    """Bootstrap resamples of clusters with replacement, in batches of :data:`BATCH`.

    Yields resamples × clusters arrays of multiplicities (how often each cluster was drawn).
    ``cluster`` gives each unit's cluster index (0..C−1).
    """
    cl = np.asarray(cluster)
    n = int(cl.max()) + 1 if len(cl) else 0
    rng = seeded_rng(resampling.seed, key)
    for b0 in range(0, resampling.resamples, BATCH):
        b = min(BATCH, resampling.resamples - b0)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b, dtype=np.int64) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)


def clustered_pattern_ci(cells: PatternCells, keys: npt.ArrayLike, weight: npt.ArrayLike, cluster: npt.ArrayLike,
                         resampling: Resampling) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Per-code and pooled bootstrap intervals resampling clusters (e.g. turns), not units.

    Neighbouring characters are not independent observations; their turns are treated as the
    independent units instead, each resampled with all its characters and codes.

    Parameters
    ----------
    cells : PatternCells
        The coders' pattern cells.
    keys : array_like
        Units × codes keys from :func:`pattern_keys`.
    weight : array_like
        Weight of each unit (characters per run).
    cluster : array_like
        Cluster index of each unit.
    resampling : Resampling
        Resamples, seed and confidence.

    Returns
    -------
    (list of dict, dict)
        One interval dict per code (as :func:`pattern_ci`), and the pooled one.
    """
    kk = np.asarray(keys, dtype=np.int64)
    cl = np.asarray(cluster, dtype=np.int64)
    k = kk.shape[1]
    n_cl = int(cl.max()) + 1 if len(cl) else 0
    if n_cl == 0:
        return [_nan_intervals() for _ in range(k)], _nan_intervals()
    width = k * cells.n
    cc = np.bincount((cl[:, None] * width + kk).ravel(), weights=np.repeat(np.asarray(weight), k),
                     minlength=n_cl * width).reshape(n_cl, width)
    per_code: dict[str, list[FloatArray]] = {s: [] for s in PATTERN_STATISTICS}
    pooled: dict[str, list[FloatArray]] = {s: [] for s in PATTERN_STATISTICS}
    for w in cluster_batches(cl, resampling):
        counts = (w @ cc).reshape(len(w), k, cells.n)
        st = cells.stats(counts)
        whole = cells.stats(counts.sum(axis=1))
        for s in PATTERN_STATISTICS:
            per_code[s].append(st[s])
            pooled[s].append(whole[s])
    rows: list[dict[str, float]] = [{} for _ in range(k)]
    for s in PATTERN_STATISTICS:
        values = np.concatenate(per_code[s], axis=0)
        for i in range(k):
            rows[i][f"{s}_low"], rows[i][f"{s}_high"] = percentile_interval(values[:, i], resampling.confidence)
    total = {s: np.concatenate(pooled[s]) for s in PATTERN_STATISTICS}
    return rows, _intervals(total, resampling.confidence)
