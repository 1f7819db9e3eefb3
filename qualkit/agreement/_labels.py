"""Labels (text, numbers, code sets) to category codes with C loops, never Python code per cell.

Each cell is looked up in a dict that numbers a label the first time it is seen
(``map(index.__getitem__, cells)`` packed by ``bytes`` or ``np.fromiter``), so the only Python
code runs once per *distinct* label: deciding which are missing (None, NaN, pandas NA), sorting
them into categories and checking them against declared categories. That is the same result as
the cell-by-cell path in :mod:`qualkit.agreement._data`, which is kept for the error messages of
input this path declines (an unhashable cell, a stray type among code sets).

No qualkit imports but the errors (``_data`` builds on this module).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np

from qualkit.errors import AgreementError

__all__ = ["label_codes", "set_codes", "is_missing", "code_dtype", "label_ranks"]

# Codes packed one byte per cell while there are at most this many distinct labels; byte 255
# marks None.
_BYTE_LABELS = 255
_SET_TYPES = {type(None): 0, set: 1, frozenset: 2, list: 3, tuple: 4}  # cell types of set-valued data


class _TooMany(Exception):
    """More distinct labels than a byte can number."""


class _Index(dict[Any, int]):
    """label → number in order of first sight; a new label gets the next number (``__missing__``
    runs once per distinct label, every other lookup is the dict's own C code)."""

    def __init__(self, preset: dict[Any, int], first: int, cap: int) -> None:
        super().__init__(preset)
        self.next, self.cap = first, cap

    def __missing__(self, label: Any) -> int:
        number = self.next
        if number >= self.cap:
            raise _TooMany
        self[label] = number
        self.next = number + 1
        return number


def is_missing(x: Any) -> bool:
    """None, NaN and pandas' ``NA``/``NaT`` mean "no value"."""
    if x is None:
        return True
    if isinstance(x, (float, np.floating)):
        return bool(x != x)
    return type(x).__name__ in ("NAType", "NaTType")


def code_dtype(q: int) -> type:
    """Smallest signed integer type for codes 0..q-1 and -1 (less memory traffic when counting)."""
    return np.int8 if q < 127 else np.int16 if q < 32767 else np.intp


def label_ranks(labels: list[Any], declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
    """Each distinct label's code (a table with −1 in its last slot, for −1 = missing) and the
    categories: the declared ones, or the labels sorted; None when a label is undeclared or the
    labels do not sort together."""
    if declared is not None:
        index = {c: i for i, c in enumerate(declared)}
        try:
            positions = [index[label] for label in labels]
        except KeyError:
            return None  # the label path names the first cell that is not declared
        categories: tuple[Hashable, ...] = declared
    else:
        try:
            order = sorted(range(len(labels)), key=labels.__getitem__)
        except TypeError:  # unsortable: the label path orders them by first sight
            return None
        positions = [0] * len(labels)
        for rank, k in enumerate(order):
            positions[k] = rank
        categories = tuple(labels[k] for k in order)
    return np.array([*positions, -1], dtype=code_dtype(len(categories))), categories


def _numbered(cells: Callable[[], Iterable[Any]], size: int, preset: dict[Any, int],
              first: int) -> tuple[np.ndarray, _Index] | None:
    """Each cell's number (None → 255 in byte mode, −1 otherwise) and the index that gave them;
    None when a cell is unhashable."""
    try:
        if first < _BYTE_LABELS:
            try:
                index = _Index({**preset, None: _BYTE_LABELS}, first, _BYTE_LABELS)
                return np.frombuffer(bytes(map(index.__getitem__, cells())), dtype=np.uint8), index
            except _TooMany:
                pass
        index = _Index({**preset, None: -1}, first, 1 << 62)
        return np.fromiter(map(index.__getitem__, cells()), dtype=np.intp, count=size), index
    except TypeError:  # an unhashable cell (or one whose == fails): the cell-by-cell path says where
        return None


def label_codes(cells: Callable[[], Iterable[Any]], shape: tuple[int, int],
                declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, tuple[Hashable, ...], bool] | None:
    """Codes (−1 = missing), categories and whether their order means something, for the cells
    in row-major order (``cells()`` may be called twice). Without ``declared`` the categories are
    the sorted distinct labels (first-seen order, unordered, when they cannot be sorted together).

    Returns None for input the cell-by-cell path must report (an unhashable cell).

    >>> codes, categories, ordered = label_codes(lambda: ["b", None, "a", "b", "b", float("nan")], (2, 3), None)
    >>> codes.tolist(), categories, ordered
    ([[1, -1, 0], [1, 1, -1]], ('a', 'b'), True)
    """
    preset = {} if declared is None else {c: i for i, c in enumerate(declared)}
    numbered = _numbered(cells, shape[0] * shape[1], preset, len(preset))
    if numbered is None:
        return None
    raw, index = numbered
    remap = np.full(max(index.next + 1, _BYTE_LABELS + 1), -1, dtype=np.intp)  # None (255 or −1) → −1
    remap[: len(preset)] = np.arange(len(preset))
    seen = [(number, _plain(x)) for x, number in index.items() if number >= len(preset) and not is_missing(x)]
    if declared is not None:
        if seen:
            _undeclared(raw, shape, seen, declared)
        return _finish(remap, raw, shape, declared, True)
    labels = [x for _, x in seen]
    try:
        order = sorted(range(len(labels)), key=lambda k: labels[k])
    except TypeError:  # labels that cannot be compared (e.g. 1 and "a"): first-seen order
        order, ordered = list(range(len(labels))), False
    else:
        ordered = True
    numbers = np.array([seen[k][0] for k in order], dtype=np.intp)
    remap[numbers] = np.arange(len(numbers))
    return _finish(remap, raw, shape, tuple(labels[k] for k in order), ordered)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _finish(remap: np.ndarray, raw: np.ndarray, shape: tuple[int, int], categories: tuple[Hashable, ...],
            ordered: bool) -> tuple[np.ndarray, tuple[Hashable, ...], bool]:
    codes = remap.astype(code_dtype(len(categories)))[raw].reshape(shape)
    return codes, categories, ordered


def _undeclared(raw: np.ndarray, shape: tuple[int, int], seen: list[tuple[int, Any]],
                declared: tuple[Hashable, ...]) -> None:
    """Raise for the first cell (row-major) whose label is not a declared category."""
    numbers = np.array([number for number, _ in seen])
    first = int(np.argmax(np.isin(raw, numbers)))
    label = dict(seen)[int(raw[first])]
    i, j = divmod(first, shape[1])
    raise AgreementError(f"value {label!r} (coder {i}, unit {j}) is not among the categories {list(declared)!r}")


def set_codes(cells: Callable[[], Iterable[Any]], shape: tuple[int, int]) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
    """Codes (−1 = missing) and the distinct code sets (frozensets, in order of first sight) for
    set-valued cells: sets, frozensets, lists or tuples of codes, None = missing.

    Returns None for anything the cell-by-cell path must report or handle (another cell type, an
    unhashable code, a missing value inside a set, NaN cells).
    """
    flat = cells()
    flat = flat if type(flat) is list else list(flat)
    try:  # one byte per cell naming its type (0 = None): type check and missing mask in one C pass
        kinds = bytes(map(_SET_TYPES.__getitem__, map(type, flat)))
    except KeyError:  # another type: the cell-by-cell path says which cell
        return None
    counts = np.bincount(np.frombuffer(kinds, dtype=np.uint8), minlength=len(_SET_TYPES))
    keep = kinds if counts[0] else None

    def given() -> Iterable[Any]:
        cells = flat if keep is None else itertools.compress(flat, keep)
        return cells if counts[2] == len(flat) - counts[0] else map(frozenset, cells)  # all frozensets: as they are

    size = len(flat) - int(counts[0])
    numbered = _numbered(given, size, {}, 0)
    if numbered is None:
        return None
    raw, index = numbered
    sets = [s for s in index if s is not None]
    if any(is_missing(code) for s in sets for code in s):
        return None
    if keep is None:
        return raw.astype(code_dtype(len(sets))).reshape(shape), tuple(sets)
    codes: np.ndarray = np.full(len(flat), -1, dtype=code_dtype(len(sets)))
    codes[np.frombuffer(keep, dtype=np.uint8) != 0] = raw
    return codes.reshape(shape), tuple(sets)
