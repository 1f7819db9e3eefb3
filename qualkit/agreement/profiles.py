"""Set-valued Krippendorff's alpha over a whole codebook, from distinct unit profiles.

Each coder gives each unit the *set* of codes they applied to it (the empty set = "no code
applies"). A unit's *profile* is its tuple of code sets, one per coder. Alpha with a set
distance (MASI or Jaccard) depends only on how many units share each profile, so it is computed
from the distinct profiles and their weights, and a bootstrap resample is a new weight vector:
the same numbers as :func:`~qualkit.agreement.set_alpha` on the expanded matrix, at a cost that
grows with the number of distinct profiles rather than units.

Pure numpy: no workspace, no pandas.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from qualkit.agreement.patterns import BATCH, Resampling, cluster_batches, percentile_interval, seeded_rng

__all__ = ["set_distances", "distinct_rows", "distinct_profiles", "profile_set_alpha", "set_alpha_by_profiles"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def set_distances(sets: npt.ArrayLike) -> dict[str, FloatArray]:
    """MASI and Jaccard distance matrices between the rows of a sets × codes boolean matrix.

    Parameters
    ----------
    sets : array_like
        Sets × codes booleans; row s is the set of codes where it is True.

    Returns
    -------
    dict of str to ndarray
        ``"masi"`` and ``"jaccard"``: sets × sets distance matrices.

    Notes
    -----
    Same definitions as :func:`~qualkit.agreement.masi_distance` and
    :func:`~qualkit.agreement.jaccard_distance` (two empty sets: distance 0), vectorised with one
    matrix product for the intersections: Jaccard 1 − |A ∩ B| / |A ∪ B|; MASI 1 − J·M with
    M = 1 (equal), 2/3 (nested), 1/3 (overlapping), 0 (disjoint).

    References
    ----------
    Passonneau R (2006) Measuring agreement on set-valued items (MASI) for semantic and
    pragmatic annotation. LREC 2006.

    Examples
    --------
    >>> d = set_distances([[1, 1, 0], [1, 0, 0], [0, 1, 1]])
    >>> round(float(d["masi"][0, 1]), 4), round(float(d["jaccard"][0, 2]), 4)
    (0.6667, 0.6667)
    """
    a = np.asarray(sets).astype(np.float64)  # float matrix product (BLAS); counts are exact in float64
    size = a.sum(axis=1)
    masi, jaccard = _distances(a @ a.T, size[:, None], size[None, :])
    return {"masi": masi, "jaccard": jaccard}


def _distances(inter: FloatArray, size_a: FloatArray, size_b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """MASI and Jaccard distances from intersection sizes and the two sets' sizes (broadcast)."""
    union = size_a + size_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    equal = (inter == size_a) & (inter == size_b)
    nested = inter == np.minimum(size_a, size_b)
    masi = np.where(equal, 0.0, np.where(inter == 0, 1.0, 1.0 - j * np.where(nested, 2 / 3, 1 / 3)))
    jaccard = np.where(union == 0, 0.0, 1.0 - j)
    return masi, jaccard


# Sets × sets distances are built this many bytes of rows at a time: with many distinct code sets
# (S ~ 10^4 at thousands of transcripts) the whole S × S matrices would take gigabytes.
_BLOCK_BYTES = 8 << 20


def _row_blocks(n_sets: int) -> list[slice]:
    rows = max(1, _BLOCK_BYTES // (8 * max(n_sets, 1)))
    return [slice(i, min(i + rows, n_sets)) for i in range(0, n_sets, rows)]


def _observed(a: FloatArray, profiles: IntArray) -> dict[str, FloatArray]:
    """Each profile's observed disagreement Σ_{g≠h} δ²(A_pg, A_ph) / (m − 1), from the pairs it holds only."""
    m = profiles.shape[1]
    size = a.sum(axis=1)
    out = {"masi": np.zeros(len(profiles)), "jaccard": np.zeros(len(profiles))}
    for g in range(m):
        for h in range(m):
            if g != h:
                pg, ph = profiles[:, g], profiles[:, h]
                masi, jaccard = _distances(np.einsum("pk,pk->p", a[pg], a[ph]), size[pg], size[ph])
                out["masi"] += masi
                out["jaccard"] += jaccard
    return {name: v / (m - 1) for name, v in out.items()}


def _expected_blocked(nmat: FloatArray, a: FloatArray) -> dict[str, FloatArray]:
    """nᵀ δ² n for each row of ``nmat`` and both distances, δ² built a block of rows at a time.

    δ² is symmetric with a zero diagonal, so each block of rows is paired only with itself and the
    columns after it, those counted twice: half the products of the whole square."""
    size = a.sum(axis=1)
    out = {"masi": np.zeros(len(nmat)), "jaccard": np.zeros(len(nmat))}
    for blk in _row_blocks(len(a)):
        lo, hi = blk.start, blk.stop
        masi, jaccard = _distances(a[blk] @ a[lo:].T, size[blk, None], size[None, lo:])   # rows of blk, columns lo..S
        for name, delta in (("masi", masi), ("jaccard", jaccard)):
            near = nmat[:, blk] @ delta[:, :hi - lo].T                    # pairs inside the block, both ways round
            if hi < len(a):
                near += 2 * (nmat[:, hi:] @ delta[:, hi - lo:].T)         # pairs with a later set, once each way
            out[name] += np.einsum("bi,bi->b", near, nmat[:, blk])
    return out


def distinct_rows(x: npt.ArrayLike) -> tuple[BoolArray, IntArray]:
    """Distinct rows of a boolean matrix (as booleans) and each row's index among them.

    Rows are packed into 64-bit words (one word per 64 columns) before ``np.unique``.

    Examples
    --------
    >>> rows, inverse = distinct_rows([[True, False], [False, False], [True, False]])
    >>> rows.tolist(), inverse.tolist()
    ([[False, False], [True, False]], [1, 0, 1])
    """
    xb = np.asarray(x, dtype=bool)
    n_rows, k = xb.shape
    packed = np.packbits(xb, axis=1) if k else np.zeros((n_rows, 1), dtype=np.uint8)
    width = -(-packed.shape[1] // 8) * 8
    if width != packed.shape[1]:
        packed = np.hstack([packed, np.zeros((n_rows, width - packed.shape[1]), dtype=np.uint8)])
    words = np.ascontiguousarray(packed).view(np.uint64)     # rows × (width / 8): one 64-bit word per 64 codes
    if words.shape[1] == 1:
        keys, inverse = np.unique(words[:, 0], return_inverse=True)
        uniq = keys[:, None]
    else:
        uniq, inverse = np.unique(words, axis=0, return_inverse=True)
    distinct = np.unpackbits(np.ascontiguousarray(uniq).view(np.uint8), axis=1, count=k).astype(bool) if k \
        else np.zeros((len(uniq), 0), dtype=bool)
    return distinct, inverse.ravel().astype(np.int64)


def distinct_profiles(set_idx: npt.ArrayLike, n_sets: int) -> tuple[IntArray, IntArray]:
    """Distinct columns of a coders × units matrix of set indexes.

    Returns the P × coders profiles and each unit's profile index.

    Examples
    --------
    >>> profiles, inverse = distinct_profiles([[0, 1, 0], [0, 2, 0]], 3)
    >>> profiles.tolist(), inverse.tolist()
    ([[0, 0], [1, 2]], [0, 1, 0])
    """
    idx = np.asarray(set_idx, dtype=np.int64)
    m = idx.shape[0]
    if n_sets ** m < 2 ** 62:
        key = np.zeros(idx.shape[1], dtype=np.int64)
        for g in range(m):
            key = key * n_sets + idx[g]
        uniq, inverse = np.unique(key, return_inverse=True)
        profiles = np.empty((len(uniq), m), dtype=np.int64)
        rest = uniq.copy()
        for g in range(m - 1, -1, -1):
            profiles[:, g] = rest % n_sets
            rest //= n_sets
        return profiles, inverse.ravel()
    uprofiles, inverse = np.unique(idx.T, axis=0, return_inverse=True)
    return uprofiles, inverse.ravel()


def profile_set_alpha(w: npt.ArrayLike, profiles: npt.ArrayLike, observed: npt.ArrayLike,
                      delta: npt.ArrayLike) -> FloatArray:
    """Set alpha for each row of profile weights; NaN where undefined.

    Parameters
    ----------
    w : array_like
        Resamples × P profile weights (units sharing each profile).
    profiles : array_like
        P × m set indexes (:func:`distinct_profiles`).
    observed : array_like
        Each profile's observed disagreement d_p = Σ_{g≠h} δ²(A_pg, A_ph) / (m − 1).
    delta : array_like
        Sets × sets δ² matrix with a zero diagonal (:func:`set_distances`).

    Returns
    -------
    ndarray
        One alpha per row of ``w``.

    Notes
    -----
    α = 1 − (n − 1) Σ_p w_p d_p / (nᵀ δ² n), where n_s = Σ_p w_p · (coders giving set s in
    profile p) and n = m Σ_p w_p values (every unit has a value from every coder): the
    coincidence-matrix alpha of :func:`~qualkit.agreement.set_alpha`, linear in the weights.
    """
    wf = np.asarray(w, dtype=float)
    prof = np.asarray(profiles, dtype=np.int64)
    dl = np.asarray(delta, dtype=float)
    nmat = _set_counts(wf, prof, len(dl))
    expected = np.einsum("bs,bs->b", nmat @ dl, nmat)      # nᵀ δ² n (δ² has a zero diagonal)
    return _alpha(wf, prof.shape[1], observed, expected)


def _set_counts(wf: FloatArray, prof: IntArray, n_sets: int,
                plan: list[tuple[IntArray | None, IntArray, IntArray]] | None = None) -> FloatArray:
    """Resamples × sets: n_s = Σ_p w_p · (coders giving set s in profile p).

    For each coder, the profiles are grouped by the set that coder gave, and each group's weights
    summed in one segmented sum over profile rows (no resamples × profiles index arrays). With
    whole-number weights (unit counts, resampled counts) every sum is exact, whatever its order.
    ``plan`` (:func:`_count_plan` of ``prof``) is the grouping, made once for many batches."""
    w_t = np.ascontiguousarray(np.asarray(wf, dtype=np.float64).T)  # profiles × resamples: a group's rows sum as vectors
    counts = np.zeros((n_sets, len(w_t[0]) if len(w_t) else len(wf)))
    for order, targets, starts in _count_plan(prof) if plan is None else plan:
        counts[targets] += np.add.reduceat(w_t if order is None else w_t[order], starts, axis=0)
    return np.ascontiguousarray(counts.T)


def _count_plan(prof: IntArray) -> list[tuple[IntArray | None, IntArray, IntArray]]:
    """Per coder: the profile order that groups the sets they gave (None: already grouped), each
    group's set and where each group starts in that order."""
    plan = []
    for g in range(prof.shape[1]):
        given = prof[:, g]
        if not len(given):
            continue
        in_order = bool(np.all(given[1:] >= given[:-1]))    # the first coder's sets come sorted
        order = None if in_order else np.argsort(given, kind="stable")
        ordered = given if order is None else given[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        plan.append((order, ordered[starts], starts))
    return plan


def _alpha(wf: FloatArray, m: int, observed: npt.ArrayLike, expected: FloatArray) -> FloatArray:
    return _alpha_from(wf.sum(axis=1) * m, wf @ np.asarray(observed, dtype=float), expected)


def _alpha_from(total: FloatArray, disagreement: FloatArray, expected: FloatArray) -> FloatArray:
    """α = 1 − (n − 1) Σ_p w_p d_p / (nᵀ δ² n); NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where((expected > 0) & (total >= 2), 1 - (total - 1) * disagreement / expected, np.nan)
    return result


def _profile_draws(pw: FloatArray, inverse: IntArray, n_profiles: int, weight: IntArray,
                   cluster: IntArray | None, resampling: Resampling) -> Iterator[FloatArray]:
    """Batches of resampled profile weights: units resampled (a multinomial draw of the profile
    counts), or, with clusters, clusters resampled with their units (the same draws as
    :func:`~qualkit.agreement.patterns.clustered_pattern_ci`)."""
    if cluster is None:
        rng = seeded_rng(resampling.seed, "(set alpha)")
        total, p = int(round(pw.sum())), pw / pw.sum()
        # the generator draws row after row, so smaller batches are the same draws
        step = min(BATCH, _draw_rows(n_profiles))
        for b in range(0, resampling.resamples, step):
            yield rng.multinomial(total, p, size=min(step, resampling.resamples - b)).astype(float)
        return
    step = _draw_rows(len(inverse))
    for whole in cluster_batches(cluster, resampling):
        for i in range(0, len(whole), step):
            w = whole[i:i + step]
            vals = w[:, cluster] * weight[None, :]
            rows = (np.arange(len(w), dtype=np.int64) * n_profiles)[:, None] + inverse[None, :]
            counts = np.bincount(rows.ravel(), weights=vals.ravel(), minlength=len(w) * n_profiles)  # float64: weighted
            yield np.asarray(counts, dtype=np.float64).reshape(len(w), n_profiles)


# Resampled weights are made this many bytes of rows at a time (and each is copied a few times on its
# way to the per-set counts): 250 resamples x 53,000 profiles were 106 MB a copy at 5,000 transcripts,
# set alpha's peak 425 MB there; 32 MB: 190 MB, same CPU (smaller batches cost more per resample); 16 MB: at
# 1,000 transcripts 139 -> 97 MB traced, same CPU, and the report's peak at 5,000 is set alpha's
_DRAW_BYTES = 16 << 20


def _draw_rows(width: int) -> int:
    return max(1, _DRAW_BYTES // (8 * max(width, 1)))


def set_alpha_by_profiles(x: npt.ArrayLike, weight: npt.ArrayLike, cluster: npt.ArrayLike | None = None,
                          resampling: Resampling | None = None) -> dict[str, float | int | str | None]:
    """Krippendorff's alpha over each unit's set of codes per coder, MASI and Jaccard, with intervals.

    Parameters
    ----------
    x : array_like
        Coders × units × codes booleans (True = the coder applied the code to the unit).
    weight : array_like
        Weight of each unit (1, or characters per run).
    cluster : array_like, optional
        Cluster of each unit; with ``resampling``, clusters are resampled instead of units.
    resampling : Resampling, optional
        Adds ``masi_low`` / ``masi_high`` / ``jaccard_low`` / ``jaccard_high``, percentile
        bootstrap intervals (undefined resamples skipped).

    Returns
    -------
    dict
        ``masi`` and ``jaccard`` (float, NaN when undefined; None with no units),
        ``n_distinct_sets``, the intervals, and a ``note`` when something is undefined.

    Notes
    -----
    α = 1 − (n − 1) Σ_p w_p d_p / (nᵀ δ² n) over the distinct profiles p (see
    :func:`profile_set_alpha`). Which coder gave which set does not matter to alpha, so each
    unit's sets are sorted first, which leaves fewer distinct profiles.

    References
    ----------
    Passonneau R (2006) LREC; Artstein R, Poesio M (2008) Computational Linguistics 34:555–596;
    Hayes AF, Krippendorff K (2007) Commun Methods Meas 1:77–89 (bootstrap).

    Examples
    --------
    Two coders, two codes a and b, four units; the same as :func:`~qualkit.agreement.set_alpha`
    on the sets {a}, {a, b}, {b}, {} and {a}, {a}, {b}, {}.

    >>> x = np.array([[[1, 0], [1, 1], [0, 1], [0, 0]],
    ...               [[1, 0], [1, 0], [0, 1], [0, 0]]], dtype=bool)
    >>> out = set_alpha_by_profiles(x, np.ones(4, dtype=np.int64))
    >>> round(out["masi"], 4), round(out["jaccard"], 4), out["n_distinct_sets"]
    (0.7812, 0.8293, 4)
    """
    xb = np.asarray(x, dtype=bool)
    wt = np.asarray(weight, dtype=np.int64)
    m, n, k = xb.shape
    out: dict[str, float | int | str | None] = {"masi": None, "jaccard": None}
    if n == 0:
        out["note"] = "no units"
        return out
    sets, set_idx = distinct_rows(xb.reshape(m * n, k))
    # alpha ignores which coder gave which value, so a unit's sets are sorted: fewer distinct profiles
    set_idx = np.sort(set_idx.reshape(m, n), axis=0)
    profiles, inverse = distinct_profiles(set_idx, len(sets))             # P × m set indexes
    pw = np.asarray(np.bincount(inverse, weights=wt, minlength=len(profiles)), dtype=np.float64)
    cl = None if cluster is None else np.asarray(cluster, dtype=np.int64)
    draws = iter(()) if resampling is None else _profile_draws(pw, inverse, len(profiles), wt, cl, resampling)
    if len(_row_blocks(len(sets))) == 1:
        alphas = _alphas_whole(sets, profiles, pw, draws)
    else:
        alphas = _alphas_blocked(sets, profiles, pw, draws, None if resampling is None else resampling.resamples)
    notes = []
    for name, (value, boot) in alphas.items():
        out[name] = value
        if math.isnan(value):
            notes.append(f"{name}: undefined (every coder gave every unit the same set of codes: expected disagreement is 0)")
        if resampling is not None:  # the same resamples of units for both distances
            out[f"{name}_low"], out[f"{name}_high"] = percentile_interval(boot, resampling.confidence)
    if notes:
        out["note"] = "; ".join(notes)
    out["n_distinct_sets"] = int(len(sets))
    return out


def _alphas_whole(sets: BoolArray, profiles: IntArray, pw: FloatArray,
                  draws: Iterator[FloatArray]) -> dict[str, tuple[float, FloatArray]]:
    """Alpha and its resamples with the whole sets × sets distance matrices (few distinct sets)."""
    m = profiles.shape[1]
    distances = set_distances(sets)
    observed = {name: sum(delta[profiles[:, g], profiles[:, h]] for g in range(m) for h in range(m) if g != h) / (m - 1)
                for name, delta in distances.items()}
    boot: dict[str, list[FloatArray]] = {name: [] for name in distances}
    for d in draws:
        for name, delta in distances.items():
            boot[name].append(profile_set_alpha(d, profiles, observed[name], delta))
    return {name: (float(profile_set_alpha(pw[None, :], profiles, observed[name], delta)[0]),
                   np.concatenate(boot[name]) if boot[name] else np.empty(0)) for name, delta in distances.items()}


def _alphas_blocked(sets: BoolArray, profiles: IntArray, pw: FloatArray, draws: Iterator[FloatArray],
                    resamples: int | None = None) -> dict[str, tuple[float, FloatArray]]:
    """The same, with the distances built a block of rows at a time: memory grows with the number
    of distinct sets times the resamples, never with its square."""
    a = np.asarray(sets, dtype=np.float64)
    m = profiles.shape[1]
    observed = _observed(a, profiles)
    totals: list[FloatArray] = []
    disagreement: dict[str, list[FloatArray]] = {name: [] for name in observed}
    # only resamples × sets counts are kept, not the weights: one batch of draws at a time (unpacking
    # them all held resamples × profiles floats, 120 MB at 1,000 interviews and growing with the study),
    # each batch written into one array made up front (a list of batches joined by vstack held them twice)
    nmat = np.empty((1 + (resamples if resamples is not None else 0), len(a)))
    row, plan = 0, _count_plan(profiles)
    for w in itertools.chain((pw[None, :],), draws):
        nmat[row:row + len(w)] = _set_counts(w, profiles, len(a), plan)
        row += len(w)
        totals.append(w.sum(axis=1) * m)
        for name, d in observed.items():
            disagreement[name].append(w @ d)
        del w  # the batch of weights (resamples × profiles) is not held through the expected disagreement
    expected = _expected_blocked(nmat[:row], a)
    out = {}
    for name in observed:
        alphas = _alpha_from(np.concatenate(totals), np.concatenate(disagreement[name]), expected[name])
        out[name] = (float(alphas[0]), alphas[1:])
    return out
