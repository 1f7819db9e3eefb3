"""Nominal and interval alpha straight from a numeric array of small whole numbers, in about a
dozen numpy calls.

The general path (:func:`~qualkit.agreement._data.coerce`, then the distinct count rows of
:mod:`~qualkit.agreement._counts`, then the coincidence matrix) is built for every kind of input;
on 1,000 units its ~40 numpy calls and two objects cost more than the arithmetic (70–100 µs).
Here each unit's count row is one integer key (its counts as digits in base coders + 1, values
shifted to 1..span with NaN as 0, so an unused value is a digit that stays 0), and every sum
alpha needs is a column of a table over the key space: the histogram of keys times that table
gives the pairable value counts n_c and the observed disagreement at once. The same sums, so the
same alpha (to rounding: 1e-12) as :func:`~qualkit.agreement.alpha.krippendorff_alpha`'s general
path, which runs whenever this one returns None.

Reference: Krippendorff K (2011) Computing Krippendorff's alpha-reliability,
https://repository.upenn.edu/asc_papers/43 (coincidences o_ck, D_o and D_e).

Pure numpy, no qualkit imports.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["whole_number_alpha", "coded_nominal_alpha", "shifted_nominal_alpha"]

# Key spaces up to this size get a cached table (at most 4096 × 18 floats); larger ones (many
# coders and values at once) take the general path.
_MAX_SPACE = 1 << 12
# Up to this many cells the keys come from one gather over the whole matrix; beyond, one per coder
# row (a whole-matrix int64 gather would be 8 bytes a cell of page faults).
_WHOLE_GATHER_CELLS = 1 << 14
_LIMIT = float(1 << 52)  # beyond this magnitude a float shift is no longer exact


@lru_cache(maxsize=16)
def _tables(coders: int, span: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For ``coders`` and values 1..span (0 = missing): the gather tables, the key table and the
    interval δ² of the value positions (read-only: cached); None when the key space is too large.

    A unit's key is the sum of its cells' entries in the gather tables. With one table (a unit's
    counts as digits in base coders + 1: value v adds (coders + 1) ** (v − 1)) the key ignores
    which coder gave which value; with one table per coder (coder g's value v adds
    v (span + 1) ** g) it does not, a smaller space when there are many values and few coders.
    That key is a number in base span + 1, so it is computed by Horner's rule (16-bit arithmetic,
    a few passes over the cells) rather than gathered from the tables.
    Row ``key`` of the key table holds, for a unit with count row r_c (r = Σ r_c): r_c when the
    unit is pairable (r ≥ 2) else 0 (span columns), Σ_c r_c (r_c − 1) / (r − 1) (its part of
    Σ_c o_cc) and Σ_ck r_c r_k (c − k)² / (r − 1) (its part of Σ_ck o_ck δ²_ck, interval).
    """
    by_counts = (coders + 1) ** span
    by_codes = (span + 1) ** coders
    if min(by_counts, by_codes) > _MAX_SPACE:
        return None
    keys = np.arange(min(by_counts, by_codes), dtype=np.int64)
    gather = np.zeros((1 if by_counts <= by_codes else coders, 256), dtype=np.int64)
    if by_counts <= by_codes:
        powers = (coders + 1) ** np.arange(span, dtype=np.int64)
        gather[0, 1 : span + 1] = powers
        counts = (keys[:, None] // powers) % (coders + 1)
    else:
        powers = (span + 1) ** np.arange(coders, dtype=np.int64)
        gather[:, : span + 1] = powers[:, None] * np.arange(span + 1)
        values = (keys[:, None] // powers) % (span + 1)  # each coder's value, 0 = missing
        counts = (values[:, :, None] == np.arange(1, span + 1)).sum(axis=1)
    r = counts.sum(axis=1)
    pairable = (r >= 2) & (r <= coders)  # count keys whose digits sum past the coders never occur
    inverse = np.where(pairable, 1.0 / np.maximum(r - 1.0, 1.0), 0.0)
    position = np.arange(span, dtype=float)
    delta2 = (position[:, None] - position[None, :]) ** 2
    table = np.empty((len(keys), span + 2))
    table[:, :span] = counts * pairable[:, None]
    table[:, span] = (counts * (counts - 1)).sum(axis=1) * inverse
    table[:, span + 1] = np.einsum("kc,cd,kd->k", counts, delta2, counts) * inverse
    for array in (gather, table, delta2):
        array.flags.writeable = False
    return gather, table, delta2


def whole_number_alpha(arr: np.ndarray, level: str, bounds: tuple[Any, Any] | None = None) -> float | None:
    """Nominal or interval alpha of a coders × units numeric ndarray (NaN = missing) whose values
    are whole numbers within a small range; None for anything else (other levels, fractions, a
    wide range or many coders, no pairable values, D_e = 0), which the general path then computes
    or reports. ``bounds``: the array's smallest and largest value (NaN skipped), when known.

    Krippendorff's (2011) 4 × 12 example, NaN = missing:

    >>> nan = float("nan")
    >>> data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...                  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...                  [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...                  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]])
    >>> round(whole_number_alpha(data, "nominal"), 3), round(whole_number_alpha(data, "interval"), 3)
    (0.743, 0.849)
    >>> whole_number_alpha(data / 2, "nominal") is None  # fractions: the general path's work
    True
    """
    if level not in ("nominal", "interval") or arr.ndim != 2 or arr.dtype.kind not in "fiu":
        return None
    coders, units = arr.shape
    if coders < 2 or units == 0:
        return None
    if bounds is None:
        bounds = (np.fmin.reduce(arr, axis=None), np.fmax.reduce(arr, axis=None))
    ints = _shifted(arr, *bounds)
    if ints is None:
        return None
    return _alpha_of_shifted(*ints, level)


def coded_nominal_alpha(codes: np.ndarray, q: int) -> float | None:
    """Nominal alpha of a coders × units matrix of int8 category codes 0..q − 1 (−1 = missing), as
    :func:`whole_number_alpha` computes it; None when it cannot (see there).

    >>> round(coded_nominal_alpha(np.array([[0, 1, 1, -1], [0, 1, 0, 1]], dtype=np.int8), 2), 4)
    0.4444
    """
    if codes.dtype != np.int8 or codes.ndim != 2 or codes.shape[0] < 2 or codes.shape[1] == 0 or q < 1:
        return None
    if _tables(codes.shape[0], q) is None:
        return None
    return _alpha_of_shifted(np.add(codes, 1).view(np.uint8), q, "nominal")


def shifted_nominal_alpha(shifted: np.ndarray, q: int) -> float | None:
    """Nominal alpha of a coders × units matrix of uint8 codes + 1 (1..q, 0 = missing), as
    :func:`coded_nominal_alpha` computes it from the codes; None when it cannot (see there).

    >>> round(shifted_nominal_alpha(np.array([[1, 2, 2, 0], [1, 2, 1, 2]], dtype=np.uint8), 2), 4)
    0.4444
    """
    if shifted.dtype != np.uint8 or shifted.ndim != 2 or shifted.shape[0] < 2 or shifted.shape[1] == 0 or q < 1:
        return None
    if _tables(shifted.shape[0], q) is None:
        return None
    return _alpha_of_shifted(shifted, q, "nominal")


def _alpha_of_shifted(codes: np.ndarray, span: int, level: str) -> float | None:
    """Alpha from uint8 cells 1..span (0 = missing): keys, their histogram, one product."""
    coders = codes.shape[0]
    tables = _tables(coders, span)
    if tables is None:
        return None
    gather, table, delta2 = tables
    if len(gather) > 1:  # coder g's value v adds v (span + 1) ** g: Horner's rule, 16 bits a unit, no gather
        key = codes[-1].astype(np.uint16)
        for g in range(coders - 2, -1, -1):
            key *= span + 1
            key += codes[g]
    elif codes.size <= _WHOLE_GATHER_CELLS:
        key = gather[0].take(codes, mode="clip").sum(axis=0)
    else:
        key = gather[0].take(codes[0], mode="clip")
        for g in range(1, coders):
            key += gather[0].take(codes[g], mode="clip")
    sums = np.bincount(key, minlength=len(table)).astype(float) @ table
    n_c = sums[:span]
    n = float(n_c.sum())
    if n < 2:
        return None
    if level == "nominal":
        expected = n * n - float(n_c @ n_c)
        observed = n - float(sums[span])
    else:
        expected = float(n_c @ delta2 @ n_c)
        observed = float(sums[span + 1])
    if expected <= 0.0:
        return None
    return 1.0 - (n - 1.0) * observed / expected


def _shifted(arr: np.ndarray, lo: Any, hi: Any) -> tuple[np.ndarray, int] | None:
    """The cells as uint8 value − lo + 1 (missing 0) and the span hi − lo + 1; None unless every
    value is a whole number and the key table for the span exists (decided before any pass over
    the cells)."""
    lo, hi = float(lo), float(hi)
    if not (lo.is_integer() and hi.is_integer()) or max(-lo, hi) >= _LIMIT:  # NaN, inf, fractions
        return None
    span = int(hi - lo) + 1
    if span > 255 or _tables(arr.shape[0], span) is None:
        return None
    if arr.dtype.kind != "f":
        return np.subtract(arr, int(lo) - 1, dtype=np.int64).astype(np.uint8), span
    shifted = np.fmax(arr, lo - 1.0)  # fmax skips NaN: missing cells become lo − 1
    if lo != 1.0:
        shifted -= lo - 1.0
    codes = shifted.astype(np.uint8)
    if np.count_nonzero(codes != shifted):  # a fraction somewhere
        return None
    return codes, span
