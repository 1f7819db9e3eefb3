"""Distinct unit count profiles: the units × categories counts r_uk with equal rows merged.

Alpha, percent agreement, Fleiss, AC1 and Brennan–Prediger are sums over units of a function of
the unit's counts r_u = (r_u1 … r_uq). With c coders and q categories few distinct count rows
exist (at most C(c + q, q), 56 for 3 coders and 5 categories), so each statistic runs over the
distinct rows weighted by how many units share them; finding them costs one integer key per unit
(c gathers and adds), not a units × categories matrix.

Pure numpy, no qualkit imports (``_data`` builds on this module).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

__all__ = ["CountProfiles", "count_profiles", "per_unit_counts", "per_unit_profiles"]

# A key space up to this size (or 4 keys per unit) is counted with one bincount and a lookup for
# each unit's row; larger spaces are sorted with np.unique.
_BINCOUNT_SPACE = 1 << 16
# Up to this many categories, per-unit counts come from one comparison per coder and category;
# beyond it a single bincount over all cells is cheaper.
_LOOP_CATEGORIES = 32


@dataclass(eq=False)
class CountProfiles:
    """Distinct unit count rows: ``counts`` (P × q), ``weight`` (units per row, float) and
    :attr:`inverse` (each unit's row, worked out when first asked for: only resampling needs it)."""

    counts: np.ndarray
    weight: np.ndarray
    unit_rows: Callable[[], np.ndarray] = field(repr=False)

    @cached_property
    def inverse(self) -> np.ndarray:
        """Each unit's row in :attr:`counts`."""
        return self.unit_rows()

    def take(self, units: np.ndarray) -> CountProfiles:
        """The profiles of the units at ``units`` (repeats allowed): new weights, unused rows dropped."""
        picked = self.inverse[units]
        weight = np.bincount(picked, minlength=len(self.weight))
        used = np.flatnonzero(weight)
        renumber = np.zeros(len(weight), dtype=np.intp)
        renumber[used] = np.arange(len(used))
        rows = renumber[picked]
        return CountProfiles(self.counts[used], weight[used].astype(float), lambda: rows)


def per_unit_profiles(counts: np.ndarray) -> CountProfiles:
    """One row per unit, each of weight 1 (no merging)."""
    n = len(counts)
    return CountProfiles(np.asarray(counts, dtype=np.int64), np.ones(n), lambda: np.arange(n, dtype=np.intp))


def count_profiles(codes: np.ndarray, q: int) -> CountProfiles:
    """The distinct count rows of a coders × units code matrix (``-1`` = missing).

    Each unit gets an integer key: its counts as digits in base c + 1 (order-free), or, when that
    space is larger, its coders' codes as digits in base q + 1; keys that do not fit in 62 bits
    fall back to one row per unit.

    >>> p = count_profiles(np.array([[0, 1, 0, -1], [0, 1, 0, 1], [1, 1, 0, 0]]), 2)
    >>> p.counts.tolist(), p.weight.tolist(), p.inverse.tolist()
    ([[3, 0], [1, 1], [2, 1], [0, 3]], [1.0, 1.0, 1.0, 1.0], [2, 3, 0, 1])
    """
    c, n = codes.shape
    by_counts, by_codes = (c + 1) ** q, (q + 1) ** c
    if min(by_counts, by_codes) >= 1 << 62 or n == 0:
        return per_unit_profiles(per_unit_counts(codes, q))
    if by_counts <= max(by_codes, _BINCOUNT_SPACE, 4 * n):  # order-free keys, unless far more of them
        powers = _powers(c + 1, q)
        key = _summed_lookup(codes, powers)
        keys, weight, inverse = _distinct(key, by_counts)
        return CountProfiles((keys[:, None] // powers[None, :]) % (c + 1), weight, inverse)
    key = codes[0].astype(np.int64) + 1
    for row in codes[1:]:
        key *= q + 1
        key += row
        key += 1
    keys, weight, inverse = _distinct(key, by_codes)
    counts = np.zeros((len(keys), q + 1), dtype=np.int64)  # the last column collects the missing
    rest = keys.copy()
    rows = np.arange(len(keys))
    for _ in range(c):
        rest, digit_g = np.divmod(rest, q + 1)
        counts[rows, digit_g - 1] += 1  # each row once per coder: no repeated index
    return CountProfiles(counts[:, :q], weight, inverse)


def _summed_lookup(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Σ_g values[codes[g]] per unit, missing (−1) adding 0."""
    if codes.dtype == np.int8:  # bytes index a 256-slot table (−1 is 255) with take(mode="clip"): the fastest gather
        table = _byte_table(values.tobytes())
        rows = codes.view(np.uint8)
        key: np.ndarray = table.take(rows[0], mode="clip")
        for row in rows[1:]:
            key += table.take(row, mode="clip")
        return key
    table = np.append(values, 0)  # code −1 indexes the last slot
    key = np.asarray(table[codes[0]])
    for row in codes[1:]:
        key += table[row]
    return key


@lru_cache(maxsize=64)
def _powers(base: int, q: int) -> np.ndarray:
    """base ** k for k < q (read-only: cached)."""
    powers = base ** np.arange(q, dtype=np.int64)
    powers.flags.writeable = False
    return powers


@lru_cache(maxsize=64)
def _byte_table(values: bytes) -> np.ndarray:
    """A 256-slot int64 lookup table starting with ``values`` (read-only: cached)."""
    table = np.zeros(256, dtype=np.int64)
    given = np.frombuffer(values, dtype=np.int64)
    table[: len(given)] = given
    table.flags.writeable = False
    return table


def _distinct(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray, Callable[[], np.ndarray]]:
    """Distinct keys, how many units have each (float) and a function giving each unit's index
    among them."""
    if space <= max(_BINCOUNT_SPACE, 4 * len(key)):
        hist = np.bincount(key)
        keys = hist.nonzero()[0]

        def unit_rows() -> np.ndarray:
            lookup = np.zeros(len(hist), dtype=np.intp)
            lookup[keys] = np.arange(len(keys))
            rows: np.ndarray = lookup[key]
            return rows

        return keys, hist[keys].astype(float), unit_rows
    keys, inverse, weight = np.unique(key, return_inverse=True, return_counts=True)
    return keys, weight.astype(float), inverse.ravel


def per_unit_counts(codes: np.ndarray, q: int) -> np.ndarray:
    """units × q counts r_uk from a coders × units code matrix, without a loop over units.

    Few categories: one vectorised comparison per coder and category (fastest); many: one
    ``bincount`` over unit-offset keys. The result may be a transposed view.
    """
    n_units = codes.shape[1]
    if q <= _LOOP_CATEGORIES:
        out = np.zeros((q, n_units), dtype=np.int32)
        for row in codes:
            for k in range(q):
                np.add(out[k], row == k, out=out[k])
        transposed: np.ndarray = out.T
        return transposed
    offsets = (np.arange(n_units, dtype=np.int64) * q)[None, :]
    # Missing cells go to one extra bin past the end, dropped afterwards.
    keys = np.where(codes >= 0, codes + offsets, n_units * q)
    counts = np.bincount(keys.ravel(), minlength=n_units * q + 1)
    return counts[:-1].reshape(n_units, q)
