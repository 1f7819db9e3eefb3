"""Labels of a numpy string array to codes + 1, each cell proven equal to its label byte for byte.

The first route of :mod:`qualkit.agreement._strings`, for labels of any width. A cell is its raw bytes (a ``U``
array's four bytes a character, no cast); '' (all bytes zero) is missing. The labels are guessed
(the previous array's of that dtype, else those of an evenly spaced sample of cells) and must
differ at one byte position, where none is zero: that byte names every cell's label, code + 1,
in one ``bytes.translate`` per block (0: missing, or a byte no label has). Then, per block of
cells held in the CPU cache, each cell's label row (all zero for code 0) is gathered into a
buffer (``take``, one row per cell) and the buffer is compared with the cells by one ``memcmp``
(``bytearray.startswith``): equal only if every cell is, byte for byte, the label it is named.

No hash, no sort of the cells. Cells that fail (a label the guess lacks) add their labels to the
guess, a few times; None when no guess settles, so the other routes of
:mod:`qualkit.agreement._strings` (and their error messages) stay the only ones for the rest.

No qualkit imports but the label ranking.
"""
from __future__ import annotations

import threading
from collections.abc import Hashable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from qualkit.agreement._labels import label_ranks

__all__ = ["guessed_shifted_codes"]

_BLOCK_BYTES = 1 << 20  # bytes of cells a block: it and its label rows stay in cache (measured 1 << 17 to 1 << 22)
_SAMPLE = 512  # about this many cells, evenly spaced, give the first guess
_RETRIES = 3  # guesses widened by the labels of cells that failed, before giving up
_MAX_LABELS = 250  # labels a guess may hold (codes + 1 in a byte)
# odd 64-bit multipliers of a sample row's words, for telling its rows apart (a guess: checked later)
_COEFFICIENTS = np.random.default_rng(17).integers(0, 1 << 63, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BUCKET_BITS = 10  # buckets of the sample's row hashes
_last: dict[np.dtype, _Plan] = {}  # per dtype, the plan that named the last array (a codebook is used again and again)
_scratch = threading.local()  # per thread, the buffer the label rows are gathered into


class _Plan(NamedTuple):
    """How to name cells of one dtype: ``labels`` (code k + 1 is ``labels[k]``, sorted), each
    code's raw bytes as one void item (``rows``; code 0 all zero), and the byte ``where`` that
    names each cell (``table``: byte → code + 1, 0 for a byte no label has)."""

    labels: tuple[Hashable, ...]
    rows: np.ndarray
    where: int
    table: bytes


def guessed_shifted_codes(arr: np.ndarray) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
    """A ``U``/``S`` array's cells as uint8 code + 1 (0 = '', missing; a read-only array of its
    shape) and the categories (the labels that occur, sorted), every cell checked equal to its
    label; None when the labels cannot be guessed, told apart by one byte, or sorted together.

    >>> codes, categories = guessed_shifted_codes(np.array([["barriers to access", ""], ["cost of care", "cost of care"]]))
    >>> codes.tolist(), categories
    ([[1, 0], [2, 2]], ('barriers to access', 'cost of care'))
    """
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.size == 0 or flat.dtype.itemsize == 0:
        return None
    plan = _last.get(flat.dtype)
    if plan is not None:
        codes, bad = _named_and_checked(flat, plan)
        if bad is None:
            return _occurring(codes, plan, arr.shape)
    rows = _distinct(_raw_rows(flat[:: max(1, flat.size // _SAMPLE)]))
    for _ in range(_RETRIES):
        plan = _cached_plan(rows.tobytes(), flat.dtype)
        if plan is None:
            return None
        codes, bad = _named_and_checked(flat, plan)
        if bad is None:
            _last[flat.dtype] = plan
            return _occurring(codes, plan, arr.shape)
        rows = np.concatenate((_raw_rows(plan.rows[1:]), _distinct(_raw_rows(flat[bad[:_SAMPLE]]))))  # new labels
    return None


def _raw_rows(cells: np.ndarray) -> np.ndarray:
    """The cells' raw bytes, a row each."""
    return np.ascontiguousarray(cells).view(np.uint8).reshape(cells.size, -1)


def _distinct(rows: np.ndarray) -> np.ndarray:
    """Rows of bytes whose hashes fall in different buckets, all zero rows dropped, in first-seen
    order: the first row of each bucket (no sort; two labels that share a bucket keep one, and the
    other's cells fail the check and come back)."""
    width = rows.shape[1]
    padded = rows
    if width % 8:
        padded = np.zeros((len(rows), width + 8 - width % 8), dtype=np.uint8)
        padded[:, :width] = rows
    words = padded.view(np.uint64)
    key = words @ np.resize(_COEFFICIENTS, words.shape[1])  # odd multipliers: a word that differs moves the top bits
    bucket = (key >> np.uint64(64 - _BUCKET_BITS)).astype(np.intp)
    first = np.full(1 << _BUCKET_BITS, len(rows), dtype=np.intp)
    first[bucket[::-1]] = np.arange(len(rows) - 1, -1, -1)  # the last write is the first row
    kept = rows[np.sort(first[first < len(rows)])]
    return kept[kept.any(axis=1)]


def _occurring(codes: bytes, plan: _Plan, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """The codes as an array of ``shape`` and the categories, renumbered when some of the plan's
    labels do not occur (one ``bytes`` search per label, stopping at its first cell)."""
    present = [k for k in range(len(plan.labels)) if bytes((k + 1,)) in codes]
    if len(present) < len(plan.labels):
        table = bytearray(256)
        for new, k in enumerate(present):
            table[k + 1] = new + 1
        codes = codes.translate(table)
    return np.frombuffer(codes, dtype=np.uint8).reshape(shape), tuple(plan.labels[k] for k in present)


@lru_cache(maxsize=16)
def _cached_plan(found: bytes, dtype: np.dtype) -> _Plan | None:
    """The plan for the labels whose raw bytes are ``found`` (a row each, none all zero), cached:
    the same labels (a codebook) are counted again and again."""
    width = dtype.itemsize
    rows = np.frombuffer(found, dtype=np.uint8).reshape(-1, width)
    if not 0 < len(rows) <= _MAX_LABELS:
        return None
    ranked = label_ranks(rows.view(dtype).ravel().tolist(), None)
    if ranked is None:
        return None
    remap, labels = ranked
    coded = np.zeros((len(rows) + 1, width), dtype=np.uint8)
    coded[remap[:-1].astype(np.intp) + 1] = rows  # row k + 1: label k; row 0: missing
    where = _telling_byte(coded[1:])
    if where is None:
        return None
    table = bytearray(256)
    for code, byte in enumerate(coded[1:, where].tolist()):
        table[byte] = code + 1
    items = coded.view(f"V{width}").ravel()
    items.flags.writeable = False
    return _Plan(labels, items, where, bytes(table))


def _telling_byte(rows: np.ndarray) -> int | None:
    """A byte position at which every row's byte is non-zero and differs from every other's."""
    ranked = np.sort(rows, axis=0)
    telling = (ranked[0] != 0) & (ranked[1:] != ranked[:-1]).all(axis=0)
    found = np.flatnonzero(telling)
    return int(found[0]) if found.size else None


def _named_and_checked(flat: np.ndarray, plan: _Plan) -> tuple[bytes, np.ndarray | None]:
    """Each cell's code + 1 by its naming byte, and the cells that are not the label so named
    (None if there are none), block by block: the block's label rows gathered into a buffer,
    then one ``memcmp`` of buffer and cells."""
    n, width = flat.size, flat.dtype.itemsize
    raw, cells = flat.view(np.uint8), flat.view(f"V{width}")
    block = max(1, _BLOCK_BYTES // width)
    buffer, rows = _buffer(min(block, n) * width, width)
    pieces: list[bytes] = []
    bad: list[np.ndarray] = []
    for start in range(0, n, block):
        m = min(block, n - start)
        piece = raw[start * width + plan.where : (start + m) * width : width].tobytes().translate(plan.table)
        pieces.append(piece)
        codes = np.frombuffer(piece, dtype=np.uint8)
        plan.rows.take(codes, out=rows[:m], mode="clip")  # codes are below len(rows): clip only skips a check
        if not buffer.startswith(cells[start : start + m].data):
            own = raw[start * width : (start + m) * width].reshape(m, width)
            bad.append(start + np.flatnonzero((own != rows[:m].view(np.uint8).reshape(m, width)).any(axis=1)))
    return b"".join(pieces), np.concatenate(bad) if bad else None


def _buffer(size: int, width: int) -> tuple[bytearray, np.ndarray]:
    """A buffer of at least ``size`` bytes (a bytearray, for ``startswith``) and its items of
    ``width`` bytes, kept per thread for the next block and call (a fresh one costs page faults)."""
    kept: bytearray | None = getattr(_scratch, "buffer", None)
    if kept is None or len(kept) < size:
        kept = _scratch.buffer = bytearray(max(size, _BLOCK_BYTES))
    return kept, np.frombuffer(kept, dtype=f"V{width}", count=len(kept) // width)
