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
from typing import Any

import numpy as np

from qualkit.agreement._labels import label_ranks

__all__ = ["categorical_codes", "is_categorical"]

Codes = tuple[np.ndarray, tuple[Hashable, ...], bool]


def is_categorical(row: Any) -> bool:
    """A pandas ``Categorical`` or a Series of category dtype (duck-typed)."""
    return getattr(getattr(row, "dtype", None), "categories", None) is not None


def categorical_codes(rows: Sequence[Any], declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes for coder rows that are pandas categoricals of one length, from their own integer
    codes (−1 = missing): each row's categories are numbered in one dict (a lookup per category,
    not per cell), then one table per row takes its codes to the final ones.

    >>> import pandas as pd
    >>> codes, categories, ordered = categorical_codes([pd.Categorical(["b", "a"]), pd.Categorical(["b", None])], None)
    >>> codes.tolist(), categories
    ([[1, 0], [1, -1]], ('a', 'b'))
    """
    numbers: dict[Any, int] = {}
    rows_codes, lookups = [], []
    for row in rows:
        cat = row.array if hasattr(row, "cat") else row  # a Series holds its Categorical in .array
        rows_codes.append(np.asarray(cat.codes))
        lookups.append(np.array([numbers.setdefault(label, len(numbers)) for label in cat.categories.tolist()],
                                dtype=np.intp))
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
