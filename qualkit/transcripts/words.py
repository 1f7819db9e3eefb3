"""Counting words as a reader counts them: runs of letters and digits, contractions whole.

A word is what the regular expression ``\\w+(?:['’]\\w+)*`` finds (:data:`WORD`): a run of word
characters (``\\w``: ``str.isalnum()`` or "_"), runs joined by one apostrophe, straight or curly, into
one word ("don't", "rock'n'roll"). Both counts here give exactly ``len(WORD.findall(...))`` without
making a string per word: the text goes to one byte a character (:func:`_one_byte`), and those bytes
are counted at C speed. Real transcripts hold an apostrophe every few lines and curly quotes whenever
they passed through Word, so neither may send the count down a slow path.
"""
from __future__ import annotations

import codecs
import re

__all__ = ["WORD", "count_words", "count_words_in"]

WORD = re.compile(r"\w+(?:['’]\w+)*")

# Latin-1 code points as count_words sees them: 1 for a word character, else 0.
_WORD_BIT = bytes(1 if chr(b).isalnum() or b == 0x5F else 0 for b in range(256))
# An apostrophe with a word character on either side (in the one-byte text): it joins two runs into one word.
_WORD_BYTES = re.escape(bytes(b for b in range(256) if _WORD_BIT[b]))
_JOINING = re.compile(rb"'(?<=[" + _WORD_BYTES + rb"]')(?=[" + _WORD_BYTES + rb"])")
# As count_words_in sees them: "w" a word character, "'" an apostrophe, " " anything else.
_CLASS = bytes(ord("w") if w else ord("'") if b == 0x27 else ord(" ") for b, w in enumerate(_WORD_BIT))
# Typographic marks beyond Latin-1 that a transcript holds by the hundred (quotes, dashes, an ellipsis):
# none is a word character or an apostrophe, so each is replaced by a space in one pass, where the
# encoder would call _stand_in once for every run of them (most stand alone).
_MARKS = "“”‘—–…"
_ERRORS = "qualkit-wordclass"


def count_words(text: str) -> int:
    """The words of ``text``. With ``w`` the word characters as one bit a byte, every run of them
    starts and ends once, so the runs are half the bits of ``w ^ (w << 8)`` (a big integer: shifts,
    XOR and popcount run in C without a branch on the text, where ``bytes.count(b" w")`` mispredicts
    at ~2 ns a byte); then each apostrophe with a word character on both sides joins two runs."""
    data = _one_byte(text)
    w = int.from_bytes(data.translate(_WORD_BIT), "little")
    words = (w ^ (w << 8)).bit_count() >> 1
    if b"'" in data:  # (a regex that looks only at the apostrophes: a few hundred in a long interview)
        words -= len(_JOINING.findall(data))
    return words


def count_words_in(text: str, spans: list[tuple[int, int]]) -> int:
    """``sum(len(WORD.findall(text, start, end)))`` over ``spans`` (a tenth of the time on a long
    interview). Inside a span a word begins at a word character after a non-word one, or at the
    span's first character (an apostrophe there starts one only when a word character follows)."""
    mask = _word_mask(text)
    count = mask.count
    words = 0
    for start, end in spans:
        if end > start:
            first = mask[start]
            words += count(b" w", start, end) + (first == 0x77 or (first == 0x67 and end - start >= 2))
    return words


def _word_mask(text: str) -> bytes:
    """Each character of ``text`` as "w" (a word character), "g" (an apostrophe joining two of them,
    the one of "don't") or " " (anything else)."""
    mask = _one_byte(text).translate(_CLASS)
    if b"'" not in mask:
        return mask
    while b"w'w" in mask:  # "a'b'c": each pass joins every other apostrophe of a chain
        mask = mask.replace(b"w'w", b"wgw")
    return mask.replace(b"'", b" ")


def _one_byte(text: str) -> bytes:
    """``text`` as one byte a character, each of the class of its character: Latin-1 as it is, a curly
    apostrophe as "'", beyond Latin-1 "a" for a word character and " " for anything else."""
    if text.isascii():  # (known without a pass: a str records it)
        return text.encode("ascii")
    if "’" in text:
        text = text.replace("’", "'")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    for mark in _MARKS:
        if mark in text:
            text = text.replace(mark, " ")
    try:
        codecs.lookup_error(_ERRORS)
    except LookupError:
        codecs.register_error(_ERRORS, _stand_in)
    return text.encode("latin-1", _ERRORS)


def _stand_in(exc: UnicodeError) -> tuple[str, int]:
    """Encode-error handler: each character beyond Latin-1 as one Latin-1 stand-in of its class."""
    assert isinstance(exc, UnicodeEncodeError)
    part = exc.object[exc.start:exc.end]
    if len(part) == 1:  # (the usual run: one letter of a name, one symbol)
        return ("a" if part.isalnum() else " "), exc.end
    return "".join("a" if c.isalnum() else " " for c in part), exc.end
