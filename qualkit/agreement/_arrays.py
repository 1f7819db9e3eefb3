"""pandas categoricals to category codes without a Python object per cell.

``Categorical`` rows (or Series of category dtype) already carry integer codes: those are used
as they are, with each row's categories mapped into one list. Numpy string arrays are
:mod:`qualkit.agreement._strings`' work.

:func:`categorical_codes` returns None for input it leaves to
:func:`qualkit.agreement._labels.label_codes` (a label not among the declared categories, labels
that cannot be sorted together), so that path's results and error messages stay the only ones.
Duck-typed: pandas is never imported.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cache
from typing import Any

import numpy as np

from qualkit.agreement._labels import label_ranks

__all__ = ["categorical_codes", "is_categorical"]

Codes = tuple[np.ndarray, tuple[Hashable, ...], bool]
_SHARED_MAX = 64  # categories a shared list may have for one bit each in a uint64
_INT8 = np.dtype(np.int8)
_BIT_TYPES = (np.uint8, np.uint16, np.uint32, np.uint32)  # by categories // 8: one bit each and one for missing


def is_categorical(row: Any) -> bool:
    """A pandas ``Categorical`` or a Series of category dtype (duck-typed)."""
    return getattr(getattr(row, "dtype", None), "categories", None) is not None


def categorical_codes(rows: Sequence[Any], declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes for coder rows that are pandas categoricals of one length, from their own integer
    codes (−1 = missing). Rows that share one category list (as ``df[c].astype("category")`` with
    the same codes, or one dtype) are stacked and kept as they are when those categories are all
    used and already sorted; otherwise each row's categories are numbered in one dict (a lookup
    per category, not per cell), then one table per row takes its codes to the final ones.

    >>> import pandas as pd
    >>> codes, categories, ordered = categorical_codes([pd.Categorical(["b", "a"]), pd.Categorical(["b", None])], None)
    >>> codes.tolist(), categories
    ([[1, 0], [1, -1]], ('a', 'b'))
    """
    cats = [row.array if hasattr(row, "cat") else row for row in rows]  # a Series holds its Categorical in .array
    labels = [cat.categories.tolist() for cat in cats]
    rows_codes = [np.asarray(cat.codes) for cat in cats]
    if len(labels[0]) < _SHARED_MAX and all(each == labels[0] for each in labels[1:]) \
            and all(codes.dtype is _INT8 for codes in rows_codes):
        return _shared_codes(np.array(rows_codes), labels[0], declared)
    numbers: dict[Any, int] = {}
    lookups = [np.array([numbers.setdefault(label, len(numbers)) for label in each], dtype=np.intp) for each in labels]
    seen = np.zeros(len(numbers), dtype=bool)
    for codes, lookup in zip(rows_codes, lookups):
        seen[lookup[np.bincount(codes + 1, minlength=len(lookup) + 1)[1:] > 0]] = True
    used = np.flatnonzero(seen)
    every = list(numbers)
    ranked = label_ranks([every[k] for k in used], declared)
    if ranked is None:
        return None
    remap, categories = ranked
    final = np.full(len(numbers) + 1, -1, dtype=remap.dtype)  # global number → code; last slot −1
    final[used] = remap[:-1]
    out = np.empty((len(rows_codes), rows_codes[0].size), dtype=remap.dtype)
    for i, (codes, lookup) in enumerate(zip(rows_codes, lookups)):
        np.take(np.append(final[lookup], remap.dtype.type(-1)), codes, out=out[i])
    return out, categories, True


@cache
def _bit_table(width: type) -> np.ndarray:
    """``1 << s`` for each byte value ``s`` in ``width`` (0 where it would not fit), looked up rather
    than shifted: NumPy 1.x casts a shifted scalar down to the shift's uint8, losing bits 8 and up."""
    bits = np.dtype(width).itemsize * 8
    table: np.ndarray = np.zeros(256, dtype=width)
    table[:bits] = [1 << s for s in range(bits)]
    table.flags.writeable = False
    return table


def _shared_codes(stacked: np.ndarray, labels: list[Any], declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes for int8 coder rows (−1 = missing) over one category list ``labels``: which codes
    occur is one bit each, OR-ed over every cell in the smallest unsigned type that holds them
    (−1 wraps to bit 0), so the categories are the used labels only, as the label path gives."""
    width = _BIT_TYPES[len(labels) // 8] if len(labels) < 32 else np.uint64
    shifts = stacked.view(np.uint8) + np.uint8(1)  # code c → bit c + 1, missing (255) → bit 0
    bits = int(np.bitwise_or.reduce(_bit_table(width).take(shifts), axis=None))
    used = [c for c in range(len(labels)) if bits >> (c + 1) & 1]
    ranked = label_ranks([labels[c] for c in used], declared)
    if ranked is None:
        return None
    remap, categories = ranked
    if len(used) == len(labels) and remap.dtype == stacked.dtype and remap[:-1].tolist() == used:
        return stacked, categories, True  # every category used, already in order: the codes are final
    final = np.full(len(labels) + 1, -1, dtype=remap.dtype)  # −1 (missing) takes the last slot
    final[used] = remap[:-1]
    return final.take(stacked), categories, True
