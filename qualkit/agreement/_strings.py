"""Numpy string arrays (dtype ``U`` or ``S``) to category codes without a Python object per cell.

A cell is its bytes; '' (all bytes zero) is missing, since a string array cannot hold None. Only
the distinct labels ever become Python strings, to be sorted. Four routes, each exact, tried in
turn:

0. any width (:mod:`qualkit.agreement._guessed`): the labels are guessed (the last array's, else
   a sample's), one byte names each cell's label (``bytes.translate``), and every cell is proven
   equal to its label by gathering the labels' rows and one ``memcmp`` a block. Session 8: this
   replaced routes 1 and 2 wherever the labels differ at one byte (on this machine ``np.sort``
   costs 10-15 ns a key, and route 2 took ~15 numpy calls a block).
1. labels of at most 8 bytes (one byte a character when a native ``U`` array is all Latin-1):
   each cell's bytes are its 64-bit key. The keys are sorted in cache-sized blocks, so the
   distinct keys are the labels; a byte position (or a pair) at which the labels all differ then
   names every cell's label through one 256-entry table (``bytes.translate``, C speed).
2. longer labels, in arrays of more than 4,096 cells: the labels of an evenly spaced sample of
   cells are guessed, each cell is named by the guess's telling byte(s) (else the top bits of a
   hash of its words), and every cell's words are compared with its label's, in cache-sized
   blocks. Cells that fail add their labels to the guess.
3. otherwise (a smaller array, many labels, a guess that does not settle): every cell's words
   are hashed and sorted, and each run of equal hashes is checked word by word.

Each returns None for input it leaves to :func:`qualkit.agreement._labels.label_codes` (a label
not among the declared categories, a hash collision), so that path's results and error messages
stay the only ones.
"""
from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from qualkit.agreement._guessed import guessed_shifted_codes
from qualkit.agreement._labels import label_ranks

__all__ = ["string_array_codes", "shifted_codes"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (Fibonacci hashing)
# for telling labels apart by a hash when no byte (pair) does: a few odd constants to try
_MULTIPLIERS = tuple(np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))
_HASH_BITS = 16
_BLOCK_BYTES = 1 << 17  # bytes of labels per block: the block stays in the CPU cache between passes
_WALK_FROM = 1 << 13  # sorted keys from which a binary search per distinct one beats marking runs
_GUESS_FROM = 1 << 12  # cells from which route 2's guess and check beats route 3's sort (measured)
_SAMPLE = 1024  # about this many cells, evenly spaced, give route 2 its first guess
_RETRIES = 3  # guesses widened by the labels of cells that failed the check, before route 3
_MAX_GUESSED = 250  # labels a guess may hold

Codes = tuple[np.ndarray, tuple[Hashable, ...], bool]


def string_array_codes(arr: np.ndarray, declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Codes, categories and ordered flag for a 2-D ``U``/``S`` array, '' = missing (a string
    array cannot hold None); None to leave the array to the label path.

    >>> codes, cats, ordered = string_array_codes(np.array([["b", "a"], ["b", ""]]), None)
    >>> codes.tolist(), cats, ordered
    ([[1, 0], [1, -1]], ('a', 'b'), True)
    """
    if arr.dtype.itemsize == 0:
        return None
    guessed = guessed_shifted_codes(arr)
    if guessed is not None:
        coded = _declared_codes(*guessed, declared)
        if coded is not None:
            return coded
    flat = np.ascontiguousarray(arr).reshape(-1)
    latin1 = flat.dtype.kind == "U" and flat.dtype.isnative  # until a character says otherwise
    if (flat.dtype.itemsize // 4 if latin1 else flat.dtype.itemsize) <= 8:
        found = _short_codes(flat, latin1, declared)
        if found is not None:
            return found[0].reshape(arr.shape), found[1], True
        latin1 = latin1 and int(flat.view(np.uint32).max()) < 256
    found = _checked_guess(flat, latin1, declared) if flat.size > _GUESS_FROM else None
    if found is not None:
        return found[0].reshape(arr.shape), found[1], True
    return _sorted_codes(flat, arr.shape, declared)


def _declared_codes(shifted: np.ndarray, labels: tuple[Hashable, ...],
                    declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Route 0's code + 1 (0 = missing) of each cell, given its sorted ``labels``, as the codes of
    the declared categories (or of the labels, when none are declared), −1 = missing, through one
    table; None when a label is not declared (the label path says which cell)."""
    ranked = label_ranks(list(labels), declared)
    if ranked is None:
        return None
    remap, categories = ranked
    table = np.full(256, -1, dtype=remap.dtype)
    table[1 : len(labels) + 1] = remap[:-1]
    return table.take(shifted, mode="clip"), categories, True


class _Guess(NamedTuple):
    """Labels told apart by their byte(s) at ``where`` (none: by the top 16 bits of a hash of
    their words with ``multiplier``): the code each value of those bits names (``lut``; one no
    label has names label 0), the values the labels have there (``named``, in label order), the
    categories, and ``lut`` as a ``bytes.translate`` table when it can be one (``shifted``: of
    code + 1, missing 0, for nominal alpha)."""

    where: tuple[int, ...]
    multiplier: np.uint64
    lut: np.ndarray
    named: np.ndarray
    categories: tuple[Hashable, ...]
    table: bytes | None
    shifted: bytes | None


def _short_codes(flat: np.ndarray, latin1: bool,
                 declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
    """Route 1, labels of at most 8 bytes (see :func:`_sorted_short`), each cell named by its
    telling byte(s). None when a character is not Latin-1 or no telling byte (pair) exists."""
    found = _sorted_short(flat, latin1, declared)
    if found is None:
        return None
    buf, width, guess = found
    codes = _named(buf, flat.size, width, guess)
    return None if codes is None else (codes, guess.categories)


def shifted_codes(arr: np.ndarray) -> tuple[np.ndarray, int] | None:
    """For nominal alpha: a 2-D ``U``/``S`` array's cells as uint8 code + 1 (0 = missing, a
    read-only array) and the number of labels, when one byte tells its labels apart (route 0, any
    width; else route 1, labels of at most 8 bytes); None otherwise (the caller then codes the
    array in full). The codes are :func:`string_array_codes`' plus one, named in one
    ``bytes.translate`` pass: no code array, no second pass to shift it.

    >>> codes, q = shifted_codes(np.array([["b", "a"], ["b", ""]]))
    >>> codes.tolist(), q
    ([[2, 1], [2, 0]], 2)
    """
    if arr.ndim != 2 or arr.dtype.kind not in "US" or arr.dtype.itemsize == 0 or arr.shape[0] < 2 or arr.shape[1] == 0:
        return None  # (too few coders or no units: the general path says so)
    guessed = guessed_shifted_codes(arr)
    if guessed is not None:
        return guessed[0], len(guessed[1])
    flat = np.ascontiguousarray(arr).reshape(-1)
    latin1 = flat.dtype.kind == "U" and flat.dtype.isnative
    if (flat.dtype.itemsize // 4 if latin1 else flat.dtype.itemsize) > 8:
        return None
    found = _sorted_short(flat, latin1, None)
    if found is None or found[2].shifted is None:
        return None
    buf, width, guess = found
    assert guess.shifted is not None
    column = buf[guess.where[0] : flat.size * width : width]
    codes = np.frombuffer(column.tobytes().translate(guess.shifted), dtype=np.uint8)
    return codes.reshape(arr.shape), len(guess.categories)


def _sorted_short(flat: np.ndarray, latin1: bool,
                  declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, int, _Guess] | None:
    """Labels of at most 8 bytes: their bytes laid back to back (cast block by block, so the
    Latin-1 check and the cast read the same block from cache), each cell's 64-bit key (its
    bytes, exact) sorted for the distinct labels, and the guess that tells those apart. Returns
    the bytes (with 8 spare), the bytes a cell, and the guess; None when a character is not
    Latin-1 or the labels leave no guess."""
    n = flat.size
    width = flat.dtype.itemsize // 4 if latin1 else flat.dtype.itemsize
    source = flat.view(np.uint32 if latin1 else np.uint8)
    buf = np.empty(n * width + 8, dtype=np.uint8)  # 8 spare bytes: the last cell's word reads past it
    buf[n * width :] = 0
    step = max(1, _BLOCK_BYTES // width) * width
    for start in range(0, n * width, step):
        cells = source[start : start + step]
        if latin1 and int(cells.max()) >= 256:
            return None
        np.copyto(buf[start : start + len(cells)], cells, casting="unsafe")
    key = np.ndarray((n,), dtype=np.uint64, buffer=buf, strides=(width,)).copy()  # aligned: faster to mask
    mask = _tail_mask(width)
    if mask is not None:  # a word's last bytes are the next cell's
        key &= mask
    key.sort()
    found = _distinct_sorted(key)
    guess = _guess_for(found.view(np.uint8).reshape(-1, 8)[:, :width], flat.dtype, latin1, declared)
    return None if guess is None else (buf, width, guess)


def _distinct_sorted(ranked: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array: while they are few, one binary search each for
    the end of its run; the rest by marking where each run starts."""
    found: list[Any] = []
    at, n = 0, len(ranked)
    while n > _WALK_FROM and at < n and len(found) < 32:
        found.append(ranked[at])
        at = int(ranked.searchsorted(ranked[at], "right"))
    if not found:
        return _runs(ranked)
    return np.array(found, dtype=ranked.dtype) if at == n else np.concatenate((np.array(found, dtype=ranked.dtype), _runs(ranked[at:])))


def _runs(ranked: np.ndarray) -> np.ndarray:
    """The first value of each run of equal values in a sorted array."""
    keep = np.empty(len(ranked), dtype=bool)
    keep[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=keep[1:])
    return ranked[keep]


def _named(buf: np.ndarray, n: int, width: int, guess: _Guess) -> np.ndarray | None:
    """Each of the ``n`` cells' code, by the label its telling byte(s) name."""
    if not guess.where:
        return None  # labels told apart by a hash: route 2's work
    column = buf[guess.where[0] : n * width : width]
    if guess.table is not None:  # one byte to one code: bytes.translate, then a writable array
        return np.frombuffer(bytearray(column.tobytes().translate(guess.table)), dtype=np.int8)
    at = column.astype(np.intp)
    if len(guess.where) == 2:
        at <<= 8
        at |= buf[guess.where[1] : n * width : width]
    codes: np.ndarray = guess.lut.take(at)
    return codes


def _guess_for(found: np.ndarray, dtype: np.dtype, latin1: bool,
               declared: tuple[Hashable, ...] | None) -> _Guess | None:
    """The guess for labels with bytes ``found`` (a row each), from a small cache when no
    categories are declared: the same label set (a codebook) is counted again and again."""
    if declared is not None:
        return _guess(found, _as_labels(found, dtype, latin1), declared)
    return _cached_guess(np.ascontiguousarray(found).tobytes(), found.shape[1], dtype, latin1)


@lru_cache(maxsize=32)
def _cached_guess(found: bytes, width: int, dtype: np.dtype, latin1: bool) -> _Guess | None:
    rows = np.frombuffer(found, dtype=np.uint8).reshape(-1, width)
    return _guess(rows, _as_labels(rows, dtype, latin1), None)


def _as_labels(found: np.ndarray, dtype: np.dtype, latin1: bool) -> list[Any]:
    """The labels whose bytes are the rows of ``found``, as Python strings (or bytes)."""
    rows = found.astype(np.uint32) if latin1 else np.ascontiguousarray(found)
    labels: list[Any] = rows.view(dtype).ravel().tolist()
    return labels


def _guess(found: np.ndarray, labels: list[Any], declared: tuple[Hashable, ...] | None) -> _Guess | None:
    """The lookup table for ``labels`` with bytes ``found``; None when there are too many, one is
    not declared, or no one or two byte positions tell them apart."""
    if len(labels) > _MAX_GUESSED:
        return None
    given = [i for i, label in enumerate(labels) if label]  # '' is missing
    ranked = label_ranks([labels[i] for i in given], declared)
    if ranked is None:
        return None
    remap, categories = ranked
    code = np.full(len(labels), -1, dtype=remap.dtype)
    code[given] = remap[:-1]
    where, multiplier, named = _telling(found)
    if named is None:
        return None
    lut = np.full(1 << (8 * len(where)) if where else 1 << _HASH_BITS, code[0], dtype=code.dtype)
    lut[named] = code
    for array in (lut, named):
        array.flags.writeable = False  # cached
    table = shifted = None
    if len(where) == 1 and lut.dtype == np.int8:
        table, shifted = lut.view(np.uint8).tobytes(), (lut + 1).view(np.uint8).tobytes()
    return _Guess(where, multiplier, lut, named, categories, table, shifted)


def _telling(found: np.ndarray) -> tuple[tuple[int, ...], np.uint64, np.ndarray | None]:
    """How to tell the labels with bytes ``found`` apart: their byte(s) at ``where``, else the
    top bits of a hash of their words (no ``where``), and each label's value there (None: no way
    found)."""
    where = _telling_bytes(found)
    if where is not None:
        named = found[:, where[0]].astype(np.intp)
        if len(where) == 2:
            named = named << 8 | found[:, where[1]]
        return where, _MULTIPLIERS[0], named
    words, mask = _word_views(_padded(found), len(found), found.shape[1]), _tail_mask(found.shape[1])
    if mask is not None:
        words[-1] = words[-1] & mask
    for multiplier in _MULTIPLIERS:
        named = _hash_index(words, multiplier, np.empty(len(found), dtype=np.uint64))
        if len(np.unique(named)) == len(found):
            return (), multiplier, named.copy()
    return (), _MULTIPLIERS[0], None


def _hash_index(words: list[np.ndarray], multiplier: np.uint64, out: np.ndarray) -> np.ndarray:
    """The top bits of a multiply-xor hash of each cell's words (the last one masked), computed
    in ``out`` (uint64) and returned as an index array viewing it."""
    np.multiply(words[0], multiplier, out=out)
    for word in words[1:]:
        out ^= word
        out *= multiplier
    out >>= np.uint64(64 - _HASH_BITS)
    index: np.ndarray = out.view(np.intp)
    return index


def _telling_bytes(rows: np.ndarray) -> tuple[int] | tuple[int, int] | None:
    """A byte position (else a pair) at which every row differs from every other; None if none
    (or the rows are too wide to search for a pair)."""
    ranked = np.sort(rows, axis=0)
    single = np.flatnonzero((ranked[1:] != ranked[:-1]).all(axis=0))
    if single.size:
        return (int(single[0]),)
    if rows.shape[1] > 64:
        return None
    pairs = np.sort(np.left_shift(rows[:, :, None], 8, dtype=np.uint16) | rows[:, None, :], axis=0)
    both = np.argwhere((pairs[1:] != pairs[:-1]).all(axis=0))
    return (int(both[0, 0]), int(both[0, 1])) if both.size else None


def _checked_guess(flat: np.ndarray, latin1: bool,
                   declared: tuple[Hashable, ...] | None) -> tuple[np.ndarray, tuple[Hashable, ...]] | None:
    """Route 2: codes and categories from a guess checked on every cell. The labels of a sample
    of cells are told apart by their telling byte(s), then each cell's words are compared with
    those of the label its byte(s) name. Cells that fail add their labels to the guess; None
    when the guess does not settle (route 3 then numbers the array)."""
    sample = flat[:: max(1, flat.size // _SAMPLE)]
    rows = _byte_rows(sample, latin1)
    if rows is None:
        latin1, rows = False, _byte_rows(sample, False)
    assert rows is not None
    found = np.zeros((0, rows.shape[1]), dtype=np.uint8)
    for _ in range(_RETRIES):
        found = np.concatenate((found, rows[_distinct_rows(rows)]))
        guess = _guess_for(found, flat.dtype, latin1, declared)
        if guess is None:
            return None
        checked = _check(flat, latin1, guess, _label_words(found, guess))
        if checked is None:
            return None
        codes, bad = checked
        if bad is None:
            return codes, guess.categories
        rows = _byte_rows(flat[bad[:_SAMPLE]], latin1)  # labels the guess lacks
        if rows is None:
            return None
    return None


def _byte_rows(cells: np.ndarray, latin1: bool) -> np.ndarray | None:
    """The cells' bytes, a row each: one byte a character when ``latin1`` (None if a character
    is not), else their raw bytes."""
    cells = np.ascontiguousarray(cells)
    if latin1:
        chars = cells.view(np.uint32).reshape(cells.size, -1)
        return chars.astype(np.uint8) if not chars.size or int(chars.max()) < 256 else None
    return cells.view(np.uint8).reshape(cells.size, -1)


def _word_views(buf: np.ndarray, n: int, width: int) -> list[np.ndarray]:
    """Each of the ``n`` cells' 64-bit words, one strided (unaligned) view per word, of cells laid
    ``width`` bytes apart in ``buf`` (8 bytes longer than the cells: a last word reads past them)."""
    return [np.ndarray((n,), dtype=np.uint64, buffer=buf, offset=8 * j, strides=(width,)) for j in range(-(-width // 8))]


def _padded(rows: np.ndarray) -> np.ndarray:
    """Rows of bytes back to back, with 8 zero bytes after them."""
    return np.concatenate((rows.reshape(-1), np.zeros(8, dtype=np.uint8)))


@lru_cache(maxsize=64)
def _tail_mask(width: int) -> np.uint64 | None:
    """The bits of a cell's last word that are its own bytes (None when all 8 are)."""
    valid = width - 8 * ((width - 1) // 8)
    if valid == 8:
        return None
    ones = np.zeros(8, dtype=np.uint8)
    ones[:valid] = 255
    mask: np.uint64 = ones.view(np.uint64)[0]
    return mask


def _row_keys(rows: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of bytes: its bytes when they fit one word (exact), else a
    multiply-xor hash of its words."""
    n, width = rows.shape
    words, mask = _word_views(_padded(rows), n, width), _tail_mask(width)
    key: np.ndarray = words[-1] & mask if mask is not None else words[-1].copy()
    for word in words[-2::-1]:
        key *= _MULTIPLIER
        key ^= word
    return key


def _distinct_rows(rows: np.ndarray) -> np.ndarray:
    """The first row with each distinct key, in row order (two labels that share a hash keep one
    row: the check then fails on the other's cells, which come back as new rows)."""
    _, first = np.unique(_row_keys(rows), return_index=True)
    return np.sort(first)


def _label_words(found: np.ndarray, guess: _Guess) -> list[np.ndarray]:
    """Per word, the word of the label with each code (code −1, missing, last), masked to a
    cell's own bytes; codes no label has get label 0's (never looked up)."""
    rows = len(guess.categories) + 1
    table = np.tile(found[:1], (rows, 1))
    table[guess.lut[guess.named].astype(np.intp) % rows] = found
    width = found.shape[1]
    mask = _tail_mask(width)
    words = [w.copy() for w in _word_views(_padded(table), rows, width)]
    if mask is not None:
        words[-1] &= mask
    return words


def _check(flat: np.ndarray, latin1: bool, guess: _Guess,
           label_words: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Each cell's code by its telling byte(s) or hash, and the cells whose bytes are not their
    code's label's (None if all are); None when a character is not Latin-1 after all. Runs in
    blocks of cells whose temporaries stay in the CPU cache (fresh multi-MB arrays cost page
    faults)."""
    n = flat.size
    width = flat.dtype.itemsize // 4 if latin1 else flat.dtype.itemsize
    mask = _tail_mask(width)
    block = max(64, _BLOCK_BYTES // width)
    source = flat.view(np.uint32 if latin1 else np.uint8)
    buf = np.zeros(block * width + 8, dtype=np.uint8)
    index, coded = np.empty(block, dtype=np.intp), np.empty(block, dtype=np.intp)
    expected, own = np.empty(block, dtype=np.uint64), np.empty(block, dtype=np.uint64)
    same, also = np.empty(block, dtype=bool), np.empty(block, dtype=bool)
    codes = np.empty(n, dtype=guess.lut.dtype)
    bad: list[np.ndarray] = []
    for start in range(0, n, block):
        m = min(block, n - start)
        cells = source[start * width : (start + m) * width]
        if latin1 and int(cells.max()) >= 256:
            return None
        np.copyto(buf[: m * width], cells, casting="unsafe")
        words = _word_views(buf, m, width)
        if mask is not None:  # the last word's last bytes are the next cell's
            words[-1] = np.bitwise_and(words[-1], mask, out=own[:m])
        at = _block_index(buf, m, width, guess, words, index[:m])
        np.take(guess.lut, at, out=codes[start : start + m], mode="clip")
        np.copyto(coded[:m], codes[start : start + m])
        taken = same[:m]
        for j, (word, label_word) in enumerate(zip(words, label_words)):
            np.take(label_word, coded[:m], out=expected[:m], mode="wrap")  # code −1: the last row
            np.equal(expected[:m], word, out=taken if j == 0 else also[:m])
            if j:
                taken &= also[:m]
        if not taken.all():
            bad.append(start + np.flatnonzero(~taken))
    return codes, np.concatenate(bad) if bad else None


def _block_index(buf: np.ndarray, m: int, width: int, guess: _Guess, words: list[np.ndarray],
                 out: np.ndarray) -> np.ndarray:
    """The value of each of a block's ``m`` cells at its telling byte(s), or of its hash, in
    ``out`` (intp)."""
    if not guess.where:
        return _hash_index(words, guess.multiplier, out.view(np.uint64))
    np.copyto(out, buf[guess.where[0] : m * width : width])
    if len(guess.where) == 2:
        out <<= 8
        out |= buf[guess.where[1] : m * width : width]
    return out


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
    multiply-xor hash of all of them."""
    if words.shape[1] == 1:
        return words[:, 0]
    key: np.ndarray = words[:, 0] * _MULTIPLIER
    for k in range(1, words.shape[1]):
        key ^= words[:, k]
        if k + 1 < words.shape[1]:
            key *= _MULTIPLIER
    return key


def _sorted_codes(flat: np.ndarray, shape: tuple[int, ...], declared: tuple[Hashable, ...] | None) -> Codes | None:
    """Route 3: every cell's words hashed and sorted, each run of equal keys one label (checked
    word by word: a collision gives None)."""
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
    ranks = label_ranks(labels[1:] if empty else labels, declared)
    if ranks is None:
        return None
    remap, categories = ranks
    per_run = np.concatenate((remap[-1:], remap[:-1])) if empty else remap[:-1]
    codes = np.empty(flat.size, dtype=remap.dtype)
    codes[order] = np.repeat(per_run, lengths)
    return codes.reshape(shape), categories, True
