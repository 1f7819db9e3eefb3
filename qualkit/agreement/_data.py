"""Input coercion shared by every agreement statistic.

All statistics work on one internal form, :class:`Coded`: a coders × units integer matrix of
category indices (``-1`` = missing) plus the ordered tuple of category labels. Converting once,
here, keeps the statistics small and lets the bootstrap resample units without re-reading labels.

Accepted inputs are lists of lists, numpy arrays, anything with ``to_numpy()`` (a pandas
DataFrame, duck-typed so that pandas is never imported here) and lists of coder rows that are
numpy arrays, pandas Series or Categoricals. Rows are coders, columns are units. ``None``, NaN and
pandas' ``NA``/``NaT`` are missing, and '' in a numpy string array (dtype ``U``/``S``, which cannot
hold None); elsewhere '' is a label like any other.
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeGuard

import numpy as np
import numpy.typing as npt

from qualkit.agreement._arrays import categorical_codes, is_categorical
from qualkit.agreement._counts import CountProfiles, count_profiles
from qualkit.agreement._counts import per_unit_counts as unit_counts
from qualkit.agreement._labels import code_dtype, label_codes
from qualkit.agreement._labels import is_missing as _is_missing
from qualkit.agreement._strings import string_array_codes
from qualkit.errors import AgreementError, QualkitError, UndefinedStatisticError  # noqa: F401  (defined with every other error in qualkit.errors)

# Above this span an integer-valued numeric matrix is mapped with np.unique (a sort) instead
# of a direct lookup table.
_MAX_LUT_SPAN = 1 << 22
# Up to this span the values used are found by comparisons, beyond it by one bincount.
_COMPARE_SPAN = 16
# Small matrices with small spans: one bit per value, OR-ed over all cells (two numpy calls).
_BITMASK_SPAN, _BITMASK_CELLS = 62, 1 << 15


@dataclass(frozen=True, eq=False)
class Coded:
    """A coders × units matrix of category indices (``-1`` = missing) and its category labels.

    ``ordered`` says whether the label order is meaningful (declared by the caller or the natural
    sort of the observed labels); weights, ordinal and interval metrics need it.
    """

    codes: np.ndarray
    categories: tuple[Hashable, ...]
    ordered: bool = True

    @property
    def n_coders(self) -> int:
        """Number of coders (rows)."""
        return int(self.codes.shape[0])

    @property
    def n_units(self) -> int:
        """Number of units (columns)."""
        return int(self.codes.shape[1])

    @property
    def q(self) -> int:
        """Number of categories (declared, or observed when none were declared)."""
        return len(self.categories)

    @cached_property
    def unit_counts(self) -> np.ndarray:
        """units × q matrix: how many coders put unit u in category k (r_uk)."""
        return unit_counts(self.codes, self.q)

    @cached_property
    def profiles(self) -> CountProfiles:
        """The distinct rows of :attr:`unit_counts` with how many units share each (what the
        statistics sum over)."""
        return count_profiles(self.codes, self.q)

    @cached_property
    def coder_counts(self) -> np.ndarray:
        """coders × q matrix: how many units coder g put in category k."""
        q = self.q
        offsets = (np.arange(self.n_coders, dtype=np.int64) * q)[:, None]
        keys = np.where(self.codes >= 0, self.codes + offsets, self.n_coders * q)
        counts = np.bincount(keys.ravel(), minlength=self.n_coders * q + 1)
        return counts[:-1].reshape(self.n_coders, q)

    def take(self, units: np.ndarray) -> Coded:
        """The same coders and categories on the units at ``units`` (repeats allowed)."""
        taken = Coded(self.codes[:, units], self.categories, self.ordered)
        if "profiles" in self.__dict__:  # reuse the cached profiles: only their weights change
            taken.__dict__["profiles"] = self.__dict__["profiles"].take(units)
        return taken

    def index_of(self, label: Hashable) -> int:
        """Position of ``label`` among the categories (ValueError if it is not one)."""
        for i, c in enumerate(self.categories):
            if c == label:
                return i
        raise AgreementError(f"category {label!r} is not among the categories {list(self.categories)!r}")

    def numeric_categories(self, what: str) -> np.ndarray:
        """The labels as floats, for metrics that need numbers (interval, ratio)."""
        bad = [c for c in self.categories if not _is_number(c)]
        if bad:
            raise AgreementError(f"{what} needs numeric category labels; got {bad[0]!r}")
        return np.asarray(self.categories, dtype=float)


def coerce(data: Any, categories: Iterable[Hashable] | None = None, *, min_coders: int = 2) -> Coded:
    """Validate ``data`` and turn it into a :class:`Coded` matrix.

    Without ``categories`` the category list is the sorted set of observed labels (first-seen
    order, flagged unordered, when the labels cannot be sorted together). With ``categories``
    every observed label must be one of them and their order is kept.

    Numeric arrays are mapped by arithmetic and a lookup table, numpy string arrays by hashing
    their bytes and Categoricals by their own codes (:mod:`~qualkit.agreement._arrays`); other
    labels (text, numbers in lists, anything hashable) through one dict lookup per cell in C
    (:mod:`~qualkit.agreement._labels`).
    """
    declared = _declared_categories(categories)
    if isinstance(data, np.ndarray) or hasattr(data, "to_numpy"):
        arr = _as_2d_array(data)
        _check_shape(arr.shape, min_coders)
        if arr.dtype.kind in "iuf":
            return _coerce_numeric(arr, declared)
        if arr.dtype.kind not in "OUSb":
            raise AgreementError(f"cannot use data of dtype {arr.dtype}; give labels (numbers or strings)")
        if arr.dtype.kind in "US":  # fixed-width strings: '' is missing (they cannot hold None)
            fast = string_array_codes(arr, declared)
            if fast is not None:
                return Coded(*fast)
            arr = _label_objects(arr)
        fast = label_codes(lambda: arr.ravel().tolist(), arr.shape, declared)
        if fast is not None:
            return Coded(*fast)
        return _coerce_objects(arr.astype(object), declared)
    stacked = _array_rows(data, declared, min_coders)
    if stacked is not None:
        return stacked if isinstance(stacked, Coded) else coerce(stacked, declared, min_coders=min_coders)
    rows, width = _rows(data)
    _check_shape((len(rows), width), min_coders)
    fast = label_codes(lambda: itertools.chain.from_iterable(rows), (len(rows), width), declared)
    if fast is not None:
        return Coded(*fast)
    return _coerce_objects(_object_matrix(rows, width), declared)


def _array_rows(data: Any, declared: tuple[Hashable, ...] | None, min_coders: int) -> Coded | np.ndarray | None:
    """Coder rows that are numpy arrays, pandas Series or Categoricals, read as arrays rather than
    cell by cell: Categorical codes as they are, rows of one kind of array stacked into a matrix
    (numbers with numbers, strings with strings; anything else as objects). None for other rows."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    categorical = all(is_categorical(row) for row in data)  # Categoricals and category Series: 1-D
    if not categorical and not all(isinstance(row, np.ndarray) or hasattr(row, "to_numpy") for row in data):
        return None
    if len({len(row) for row in data}) > 1 or (not categorical and any(np.ndim(row) != 1 for row in data)):
        return None  # ragged or not rows: the list path says what is wrong
    indexes = [row.index for row in data if hasattr(row, "index") and hasattr(row, "to_numpy")]  # Series
    if any(not index.equals(indexes[0]) for index in indexes[1:]):
        raise AgreementError("the coders' Series have different indexes: cells are paired by position, so "
                             "align them first (e.g. pd.concat(series, axis=1).T)")
    if categorical:
        _check_shape((len(data), len(data[0])), min_coders)
        fast = categorical_codes(data, declared)
        if fast is not None:
            return Coded(*fast)
    arrays = [row if isinstance(row, np.ndarray) else np.asarray(row.to_numpy() if hasattr(row, "to_numpy") else row)
              for row in data]
    kinds = {"n" if a.dtype.kind in "iuf" else a.dtype.kind for a in arrays}
    if not kinds <= {"n", "U", "S", "O", "b"}:
        return None  # dates and the like: cell by cell, as before
    if len(kinds) == 1:
        return np.stack(arrays)
    return np.stack([_label_objects(a) for a in arrays])  # numbers and text mixed: labels of both kinds


def _label_objects(arr: np.ndarray) -> np.ndarray:
    """An array of labels as objects, with '' in a string array (its missing value) as None."""
    out = arr.astype(object)
    if arr.dtype.kind in "US":
        out[arr == arr.dtype.type()] = None
    return out


def _check_shape(shape: tuple[int, ...], min_coders: int) -> None:
    if shape[0] < min_coders:
        raise AgreementError(
            f"need at least {min_coders} coders (rows); got {shape[0]}. "
            "Data are a coders × units matrix: transpose a units × coders table first"
        )
    if shape[1] == 0:
        raise AgreementError("data have no units (columns)")


def _declared_categories(categories: Iterable[Hashable] | None) -> tuple[Hashable, ...] | None:
    if categories is None:
        return None
    if isinstance(categories, (str, bytes)):
        raise AgreementError("categories must be a list of labels, not a single string")
    labels = tuple(categories)
    if not labels:
        raise AgreementError("categories is empty")
    for c in labels:
        if _is_missing(c):
            raise AgreementError("categories must not contain None or NaN (those mean missing)")
        if not isinstance(c, Hashable):
            raise AgreementError(f"category {c!r} is not hashable")
    if len(set(labels)) != len(labels):
        raise AgreementError(f"categories contain duplicates: {list(labels)!r}")
    return labels


def _as_2d_array(data: Any) -> np.ndarray:
    """A 2-D numpy array (object dtype for labels) without letting numpy guess nested shapes."""
    if hasattr(data, "to_numpy"):  # pandas DataFrame, duck-typed
        data = data.to_numpy()
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise AgreementError(f"data must be a 2-D coders × units matrix; got {data.ndim} dimension(s)")
        return data
    return _object_matrix(*_rows(data))


def _rows(data: Any) -> tuple[list[Any], int]:
    """The rows of a list-of-lists matrix, checked to be rectangular, and their width."""
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise AgreementError("data must be a coders × units matrix (list of lists, array or DataFrame)")
    rows = [row if type(row) is list else list(row) if _is_row(row) else row for row in data]
    if not rows:
        raise AgreementError("data are empty: need at least 2 coders (rows)")
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise AgreementError(
                f"row {i} is not a sequence: data must be a coders × units matrix (list of lists)"
            )
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise AgreementError(
            f"ragged matrix: rows have {sorted(lengths)} values; give every coder one cell per unit "
            "(None for missing)"
        )
    return rows, lengths.pop()


def _object_matrix(rows: list[Any], width: int) -> np.ndarray:
    """The rows as a coders × units object array, list cells kept whole."""
    try:  # one C loop when numpy sees a plain 2-D matrix of single labels
        whole = np.array(rows, dtype=object)
        if whole.shape == (len(rows), width):
            return whole
    except ValueError:
        pass
    arr = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        for j, x in enumerate(row):  # cell by cell, so that numpy never splits a list cell
            arr[i, j] = x
    return arr


def _is_row(row: Any) -> bool:
    return isinstance(row, (Sequence, np.ndarray)) and not isinstance(row, (str, bytes))


def _is_number(x: Any) -> TypeGuard[numbers.Real]:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def numeric_bounds(arr: np.ndarray) -> tuple[Any, Any]:
    """Smallest and largest value of a non-empty numeric array, NaN skipped (NaN when every cell
    is); AgreementError when one is infinite."""
    if arr.dtype.kind == "f":
        lo, hi = float(np.fmin.reduce(arr, axis=None)), float(np.fmax.reduce(arr, axis=None))  # NaN if all are
        if math.isinf(lo) or math.isinf(hi):
            raise AgreementError("data contain infinite values")
        return lo, hi
    return arr.min(), arr.max()


def coerce_numeric(arr: np.ndarray, min_coders: int = 2, bounds: tuple[Any, Any] | None = None) -> Coded:
    """:func:`coerce` for a 2-D numeric ndarray without declared categories, reusing its
    :func:`numeric_bounds` when the caller has them."""
    _check_shape(arr.shape, min_coders)
    return _coerce_numeric(arr, None, bounds)


def _coerce_numeric(arr: np.ndarray, declared: tuple[Hashable, ...] | None,
                    bounds: tuple[Any, Any] | None = None) -> Coded:
    """Fast path for numeric arrays: vectorised label mapping, NaN = missing."""
    lo, hi = numeric_bounds(arr) if bounds is None else bounds
    if declared is not None:
        return _numeric_declared(arr, declared)
    if lo != lo:  # every cell NaN
        return Coded(np.full(arr.shape, -1, dtype=np.intp), (), True)
    fast = _small_integer_codes(arr, lo, hi)
    if fast is not None:
        return fast
    missing = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
    labels, idx = np.unique(arr[~missing], return_inverse=True)
    codes: np.ndarray = np.full(arr.shape, -1, dtype=code_dtype(len(labels)))
    codes[~missing] = idx.reshape(-1)
    return Coded(codes, tuple(labels.tolist()), True)


def _used_values(ints: np.ndarray, span: int) -> list[int]:
    """Which of the shifted values 1..span occur, as 0-based offsets (the extremes always do)."""
    if span <= 2:
        return list(range(span))
    if span <= _BITMASK_SPAN and ints.size <= _BITMASK_CELLS:  # one bit per value, OR-ed together
        mask = int(np.bitwise_or.reduce(np.left_shift(1, ints, dtype=np.int64), axis=None))
        return [v - 1 for v in range(1, span + 1) if mask >> v & 1]
    if span <= _COMPARE_SPAN:  # a few byte comparisons are cheaper than bincount's cast to intp
        return [0, *(v - 1 for v in range(2, span) if (ints == v).any()), span - 1]
    return [int(v) for v in np.flatnonzero(np.bincount(ints.ravel(), minlength=span + 1)[1:])]


def _numeric_declared(arr: np.ndarray, declared: tuple[Hashable, ...]) -> Coded:
    missing = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
    codes = np.full(arr.shape, -1, dtype=np.intp)
    codes[~missing] = _map_to_declared(arr[~missing], declared)
    return Coded(codes, declared, True)


def _small_integer_codes(arr: np.ndarray, lo: Any, hi: Any) -> Coded | None:
    """Whole-number data within a modest range: codes by subtraction and a lookup (no sort).

    Float cells are shifted so that NaN (missing) becomes 0 and value v becomes v − lo + 1 in one
    ``fmax`` pass, then cast; a cell that changes in the cast was not a whole number. Returns None
    when the data are not whole numbers or span too wide a range.
    """
    if not (float(lo).is_integer() and float(hi).is_integer()):
        return None
    lo, hi = int(lo), int(hi)
    span = hi - lo + 1
    if span > _MAX_LUT_SPAN or max(abs(lo), abs(hi)) >= 1 << 52:  # beyond, float shifts are not exact
        return None
    dtype = code_dtype(span + 1)
    if arr.dtype.kind == "f":
        shifted = np.fmax(arr, lo - 1)  # fmax skips NaN: missing cells become lo − 1
        if lo != 1:
            shifted -= lo - 1           # 0 = missing, 1..span = value − lo + 1 (exact: small whole numbers)
        ints = shifted.astype(dtype)
        if np.count_nonzero(ints != shifted):
            return None
    else:
        ints = np.subtract(arr, lo - 1, dtype=np.int64).astype(dtype)
    used = _used_values(ints, span)
    kind = float if arr.dtype.kind == "f" else int
    labels = tuple(kind(v + lo) for v in used)  # Python numbers, as the general path gives
    if len(used) == span:  # every value in the range occurs: the code is the shifted value − 1
        ints -= 1
        return Coded(ints, labels, True)
    lookup = np.full(span + 1, -1, dtype=code_dtype(len(used)))
    lookup[np.asarray(used) + 1] = np.arange(len(used))
    return Coded(lookup[ints], labels, True)


def _map_to_declared(values: np.ndarray, declared: tuple[Hashable, ...]) -> np.ndarray:
    """Index of each numeric value in the declared categories (ValueError for strangers)."""
    numeric = [(float(c), i) for i, c in enumerate(declared) if _is_number(c)]
    if values.size == 0:
        return np.empty(0, dtype=np.intp)
    if not numeric:
        raise AgreementError(f"value {values.flat[0]!r} is not among the categories {list(declared)!r}")
    numeric.sort()
    keys = np.array([k for k, _ in numeric])
    positions = np.array([i for _, i in numeric], dtype=np.intp)
    where = np.clip(np.searchsorted(keys, values), 0, len(keys) - 1)
    unknown = keys[where] != values
    if unknown.any():
        bad = values[unknown][0]
        raise AgreementError(f"value {bad.item()!r} is not among the categories {list(declared)!r}")
    return positions[where]


def _coerce_objects(arr: np.ndarray, declared: tuple[Hashable, ...] | None) -> Coded:
    """General path: any hashable labels, mapped through a dict."""
    index: dict[Hashable, int] = {} if declared is None else {c: i for i, c in enumerate(declared)}
    codes = np.full(arr.shape, -1, dtype=np.intp)
    for (i, j), x in np.ndenumerate(arr):
        if _is_missing(x):
            continue
        if isinstance(x, np.generic):
            x = x.item()
        try:
            k = index.get(x)
        except TypeError:
            raise AgreementError(
                f"cell (coder {i}, unit {j}) holds an unhashable {type(x).__name__}; "
                "cells must be single labels (use set_alpha for several codes per unit)"
            ) from None
        if k is None:
            if declared is not None:
                raise AgreementError(
                    f"value {x!r} (coder {i}, unit {j}) is not among the categories {list(declared)!r}"
                )
            k = index[x] = len(index)
        codes[i, j] = k
    if declared is not None:
        return Coded(codes, declared, True)
    labels: list[Any] = list(index)  # sortable or not: sorted() below finds out
    try:
        order = sorted(range(len(labels)), key=lambda k: labels[k])
    except TypeError:
        return Coded(codes, tuple(labels), False)
    remap = np.empty(len(labels) + 1, dtype=np.intp)
    remap[np.asarray(order, dtype=np.intp)] = np.arange(len(labels))
    remap[-1] = -1  # codes of -1 index the last slot
    return Coded(remap[codes], tuple(labels[k] for k in order), True)


def from_contingency_table(table: npt.ArrayLike, categories: Sequence[Hashable] | None = None) -> np.ndarray:
    """Expand a two-coder contingency table into a 2 × units reliability matrix.

    Parameters
    ----------
    table : array_like
        Square q × q counts: ``table[i][j]`` units that coder 1 put in category i and coder 2 in j.
    categories : sequence of hashable, optional
        Names of the rows and columns (default ``0..q-1``).

    Returns
    -------
    numpy.ndarray
        2 × units object array of labels, usable with any statistic, e.g.
        ``cohen_kappa(from_contingency_table(t, cats), categories=cats)``.

    Raises
    ------
    AgreementError
        Not a square table of non-negative whole counts, or the wrong number of categories.

    Notes
    -----
    A contingency table is how two-coder studies are often published (e.g. Cohen 1960, Table 1);
    expanding it lets every statistic, including bootstrap intervals, start from the same matrix.

    References
    ----------
    Cohen J (1960) Educ Psychol Meas 20:37–46, doi:10.1177/001316446002000104.

    Examples
    --------
    >>> from_contingency_table([[2, 1], [0, 1]], ["yes", "no"]).tolist()
    [['yes', 'yes', 'yes', 'no'], ['yes', 'yes', 'no', 'no']]
    """
    counts = _count_matrix(table, "contingency table")
    if counts.shape[0] != counts.shape[1]:
        raise AgreementError(f"contingency table must be square; got {counts.shape[0]} × {counts.shape[1]}")
    labels = _labels_for(categories, counts.shape[0])
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    out = np.empty((2, int(reps.sum())), dtype=object)
    out[0] = np.repeat(np.asarray(labels, dtype=object)[rows], reps)
    out[1] = np.repeat(np.asarray(labels, dtype=object)[cols], reps)
    return out


def from_category_counts(counts: npt.ArrayLike, categories: Sequence[Hashable] | None = None) -> np.ndarray:
    """Expand a units × categories count table (Fleiss's layout) into a reliability matrix.

    Parameters
    ----------
    counts : array_like
        Units × categories counts: row u says how many coders put unit u in each category.
    categories : sequence of hashable, optional
        Names of the columns (default ``0..q-1``).

    Returns
    -------
    numpy.ndarray
        Coders × units object array; units with fewer ratings than the largest row get ``None``
        in the last rows.

    Raises
    ------
    AgreementError
        Not a table of non-negative whole counts, or the wrong number of categories.

    Notes
    -----
    Coder identity is unknown in this layout, so use the result only with statistics that ignore
    it (percent agreement, Fleiss, AC1, Brennan–Prediger, alpha), not Conger or Cohen.

    References
    ----------
    Fleiss JL (1971) Psychol Bull 76:378–382, doi:10.1037/h0031619 (Table 1 is in this layout).

    Examples
    --------
    >>> from_category_counts([[2, 0], [1, 1]], ["a", "b"]).tolist()
    [['a', 'a'], ['a', 'b']]
    """
    table = _count_matrix(counts, "category count table")
    labels = np.asarray(_labels_for(categories, table.shape[1]), dtype=object)
    n_coders = int(table.sum(axis=1).max()) if table.size else 0
    out = np.full((n_coders, table.shape[0]), None, dtype=object)
    for u, row in enumerate(table):
        values = np.repeat(labels, row)
        out[: len(values), u] = values
    return out


def _count_matrix(table: Any, what: str) -> np.ndarray:
    try:
        counts = np.asarray(table.to_numpy() if hasattr(table, "to_numpy") else table, dtype=float)
    except (TypeError, ValueError):
        raise AgreementError(f"{what} must be a rectangular matrix of counts") from None
    if counts.ndim != 2:
        raise AgreementError(f"{what} must be 2-D; got {counts.ndim} dimension(s)")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise AgreementError(f"{what} must hold non-negative whole counts")
    return counts.astype(np.int64)


def _labels_for(categories: Sequence[Hashable] | None, q: int) -> tuple[Hashable, ...]:
    if categories is None:
        return tuple(range(q))
    labels = _declared_categories(categories)
    assert labels is not None
    if len(labels) != q:
        raise AgreementError(f"{len(labels)} categories given for a table with {q} of them")
    return labels


def check_square(matrix: Any, q: int, what: str) -> np.ndarray:
    """A finite, non-negative q × q float matrix with a zero diagonal (a disagreement matrix)."""
    try:
        m = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError):
        raise AgreementError(f"{what} must be a numeric q × q matrix") from None
    if m.shape != (q, q):
        raise AgreementError(f"{what} must be {q} × {q} (one row and column per category); got shape {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise AgreementError(f"{what} must hold finite, non-negative disagreement weights")
    if np.any(np.diag(m) != 0):
        raise AgreementError(
            f"{what} must have a zero diagonal: it gives disagreement (0 = same category); "
            "for agreement weights W pass 1 - W"
        )
    return m
