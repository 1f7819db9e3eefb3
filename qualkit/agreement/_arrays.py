"""Numpy string arrays and pandas categoricals to category codes without a Python object per cell.

A fixed-width string array (dtype ``U`` or ``S``) is read as 64-bit words: each cell's words are
hashed together (one numpy pass per word), the hashes sorted, and every cell is checked to equal
the first cell with its hash, so the codes are exact (a hash collision sends the array down the
label path instead). Only the distinct labels become Python strings, to be sorted. pandas
``Categorical`` rows (or Series of category dtype) already carry integer codes: those are used
as they are, with each row's categories mapped into one list.

Each function returns None for input it leaves to :func:`qualkit.agreement._labels.label_codes`
(a label not among the declared categories, labels that cannot be sorted together, a collision),
so that path's results and error messages stay the only ones. Duck-typed: pandas is never imported.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from qualkit.agreement._labels import code_dtype

__all__ = ["string_array_codes", "categorical_codes", "is_categorical"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (Fibonacci hashing)

Codes = tuple[np.ndarray, tuple[Hashable, ...], bool]


def _words(flat: np.ndarray) -> np.ndarray:
    """The cells of a 1-D contiguous string array as rows of 64-bit words (zero-padded); text
    that is all Latin-1 (every ``U`` character below 256) takes one byte per character, not four."""
    n = flat.size
    raw: np.ndarray = flat.view(np.uint8).reshape(n, -1)
    if flat.dtype.kind == "U":
        chars = flat.view(np.uint32).reshape(n, -1)
        if int(chars.max()) < 256:
            raw = chars  # copied below one byte per character
    width = raw.shape[1]
    if raw.dtype == np.uint8 and width % 8 == 0:
        return raw.view(np.uint64)
    padded = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = raw  # a cast from uint32 when Latin-1 (every value < 256)
    return padded.view(np.uint64)


def _hash(words: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of words: the word itself when there is one (exact), else a
    multiply-xor hash of all of them. Few large temporaries: each one costs page faults."""
    if words.shape[1] == 1:
        return words[:, 0]
    key: np.ndarray = words[:, 0] * _MULTIPLIER
    for k in range(1, words.shape[1]):
        key ^= words[:, k]
        if k + 1 < words.shape[1]:
            key *= _MULTIPLIER
    return key


def string_array_codes(arr: np.ndarray, declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes, categories and ordered flag for a 2-D ``U``/``S`` array, '' = missing (a string
    array cannot hold None); None to leave the array to the label path.

    >>> codes, cats, ordered = string_array_codes(__import__("numpy").array([["b", "a"], ["b", ""]]), None)
    >>> codes.tolist(), cats, ordered
    ([[1, 0], [1, -1]], ('a', 'b'), True)
    """
    if arr.dtype.itemsize == 0:
        return None
    flat = np.ascontiguousarray(arr).reshape(-1)
    words = _words(flat)
    key = _hash(words)
    order = np.argsort(key)  # equal keys side by side: each run is one label
    ranked = key[order]
    starts = np.empty(flat.size, dtype=bool)
    starts[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=starts[1:])
    bounds = np.flatnonzero(starts)
    lengths = np.diff(bounds, append=flat.size)
    first = order[bounds]  # one cell per run
    if words.shape[1] > 1 and not np.array_equal(words[order], np.repeat(words[first], lengths, axis=0)):
        return None  # two different labels share a hash: let the label path number them
    labels = flat[first].tolist()
    empty = not labels[0]  # '' (all words zero) has the smallest key: its cells are missing
    ranks = _ranks(labels[1:] if empty else labels, declared)
    if ranks is None:
        return None
    remap, categories = ranks
    per_run = np.concatenate((remap[-1:], remap[:-1])) if empty else remap[:-1]
    codes = np.empty(flat.size, dtype=remap.dtype)
    codes[order] = np.repeat(per_run, lengths)
    return codes.reshape(arr.shape), categories, True


def _finish(inverse: np.ndarray, labels: list[Any], shape: tuple[int, ...],
            declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes from each cell's distinct-label number (−1 = missing) and the distinct labels."""
    ranked = _ranks(labels, declared)
    if ranked is None:
        return None
    remap, categories = ranked
    return remap[inverse].reshape(shape), categories, True


def _ranks(labels: list[Any], declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
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


def is_categorical(row: Any) -> bool:
    """A pandas ``Categorical`` or a Series of category dtype (duck-typed)."""
    return getattr(getattr(row, "dtype", None), "categories", None) is not None


def categorical_codes(rows: Sequence[Any], declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes for coder rows that are pandas categoricals of one length, from their own integer
    codes (−1 = missing): each row's categories are numbered in one dict (a lookup per category,
    not per cell), then one table per row takes its codes to the final ones."""
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
    ranked = _ranks([every[k] for k in used], declared)
    if ranked is None:
        return None
    remap, categories = ranked
    final = np.full(len(numbers) + 1, -1, dtype=remap.dtype)  # global number → code; last slot −1
    final[used] = remap[:-1]
    out = np.empty((len(rows_codes), rows_codes[0].size), dtype=remap.dtype)
    for i, (codes, lookup) in enumerate(zip(rows_codes, lookups)):
        np.take(np.append(final[lookup], remap.dtype.type(-1)), codes, out=out[i])
    return out, categories, True
