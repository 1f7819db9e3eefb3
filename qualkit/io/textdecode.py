"""Decoding transcript bytes into qualkit's canonical text: Unicode NFC with ``\\n`` newlines."""
from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from qualkit.errors import TranscriptError
from qualkit.io.naming import plural_s

# Transcripts larger than this are almost certainly not transcripts (a video, a disk image).
MAX_TEXT_BYTES = 200 * 1024 * 1024


def normalize_text(text: str) -> str:
    """CRLF and lone CR become ``\\n``; the result is NFC so offsets agree across tools."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # U+2028/2029 are line/paragraph separators some exporters emit; treat as newlines.
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return unicodedata.normalize("NFC", text)


def _looks_binary(text: str) -> bool:
    """Control characters other than whitespace in a decoded text mean it was not text."""
    if "\x00" in text:
        return True
    sample = text[:20000]
    if not sample:
        return False
    return _controls_in(sample, _NOT_CONTROL) / len(sample) > 0.01


# Unicode category Cc (U+0000-U+001F, U+007F-U+009F) less the whitespace controls \t \n \v \f \r: what
# _looks_binary counts (the definition; the count itself is _controls_in's, in bytes).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# What bytes.translate deletes from a text's UTF-8 to leave one byte for each C0 control or DEL _CONTROL
# matches: every other byte below 0x80, and every byte from 0x80 (no byte of a longer sequence is below
# 0x80, and a C0 control or DEL is one byte). _NOT_CONTROLS (below) is the same for _CONTROLS.
_NOT_CONTROL = bytes(b for b in range(256) if b >= 0x80 or not _CONTROL.match(chr(b)))
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080-U+009F in UTF-8


def _controls_in(text: str, not_controls: bytes) -> int:
    """How many controls ``text`` holds: the C0 controls and DEL that ``not_controls`` leaves (see
    _NOT_CONTROL), and every C1 control (U+0080-U+009F: 0xC2 and a byte 0x80-0x9F), counted in its
    UTF-8 bytes at C speed. A regex over a text with a curly quote in it (two bytes a character) cost
    ~6 ns a character, six times decoding it; the price is the text's UTF-8 copy while counting."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, not_controls))
    return _utf8_controls(text.encode("utf-8", "surrogatepass"), not_controls)


def _utf8_controls(utf8: bytes, not_controls: bytes) -> int:
    """:func:`_controls_in` of the text whose UTF-8 bytes are ``utf8`` (a file's own, before decoding)."""
    found = len(utf8.translate(None, not_controls))
    if b"\xc2" in utf8:
        found += len(_C1_UTF8.findall(utf8))
    return found


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when text without a BOM has the zero bytes of ASCII in UTF-16."""
    sample = data[:4000]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, path: str | Path | None = None, what: str = "a text transcript") -> tuple[str, str, list[str]]:
    """Decode ``data`` as a transcript (or ``what`` the caller reads); returns (text, encoding, warnings).

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM are read as such; anything else that
    is not valid UTF-8 is read as cp1252 with a warning, since that is what Windows tools write.
    Binary data raises :class:`TranscriptError`.
    """
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        encoding = "utf-32"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    else:
        encoding = _bomless_utf16(data) or "utf-8"
        if encoding != "utf-8":
            warnings.append(f"no byte-order mark; read as {encoding.upper()} from its pattern of zero bytes")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise TranscriptError(
                f"not valid {encoding.upper()} text (byte {exc.start}): the file may be damaged", path
            ) from None
        try:
            text = data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError as exc2:
            # cp1252 leaves five bytes undefined; their presence means neither encoding fits.
            raise TranscriptError(
                f"not text in UTF-8, UTF-16 or cp1252 (undecodable byte at position {exc2.start})", path
            ) from None
        line = data.count(b"\n", 0, exc.start) + 1
        warnings.append(f"not valid UTF-8 (first bad byte on line {line}); read as Windows cp1252")
    if _looks_binary(text):
        raise TranscriptError(f"looks like a binary file, not {what}", path)
    return text, encoding, warnings


def read_text_file(path: str | Path) -> tuple[str, str, list[str]]:
    """Read and decode a text transcript; returns normalized text, encoding and warnings."""
    return read_text_file_as_is(path)[:3]


def read_text_file_as_is(path: str | Path) -> tuple[str, str, list[str], bool]:
    """:func:`read_text_file`, and whether the text is the file's bytes as they are: UTF-8 (plain ASCII
    most often) that reading changed in nothing (no byte-order mark, CR, control character or
    composed form to normalize). Such a text can be read back from the file itself (its bytes decoded
    as UTF-8) instead of kept in a copy."""
    import os

    path = path if isinstance(path, Path) else Path(path)
    try:
        with open(path, "rb") as fh:  # (its size from the open file: one system call less than stat, then read)
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_TEXT_BYTES:
                raise TranscriptError(f"file is {size // (1024 * 1024)} MB; transcripts over {MAX_TEXT_BYTES // (1024 * 1024)} MB are refused", path)
            data = fh.read()
    except FileNotFoundError:
        raise TranscriptError("no such file", path) from None
    except OSError as exc:
        raise TranscriptError(f"cannot read file ({exc.strerror})", path) from None
    as_is = _unchanged_text(data)
    if as_is is not None:  # (no byte-order mark or zero byte: decode_bytes would read it as UTF-8 with no warning)
        return as_is, "utf-8", [], True
    text, encoding, warnings = decode_bytes(data, path)
    text, note = replace_controls(normalize_text(text))
    if note:
        warnings.append(note)
    return text, encoding, warnings, encoding == "utf-8" and text.encode("utf-8") == data


def _unchanged_text(data: bytes) -> str | None:
    """The text of a file's bytes ``data`` when reading it changes nothing, else None: the test
    :func:`read_text_file_as_is` makes before anything else. The usual file is plain ASCII with no
    control character and no CR; a file typed in Word is UTF-8 with curly quotes and dashes (and
    letters of Latin alphabets), and no CR or control character. In either, decode_bytes,
    normalize_text and replace_controls would each take a pass to leave it as it is. A file with any
    other character from U+0300 (a combining mark, another script, a line separator, a byte-order
    mark) takes those passes."""
    if b"\r" in data or _utf8_controls(data, _NOT_CONTROLS):
        return None
    if data.isascii():
        return data.decode("ascii")
    if not _surely_nfc(data):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# Characters from U+0300 that NFC leaves as they are wherever they stand among themselves and those below
# U+0300 (none of which is a combining mark or composes with the one before), and that normalize_text and
# replace_controls leave too: the punctuation and currency signs Word types (curly quotes, dashes, an
# ellipsis, the euro). Each is three bytes in UTF-8, the first 0xE2; every character from U+0300 has a
# first byte from 0xCC.
_INERT_RANGES = [(0x2010, 0x2027), (0x2030, 0x205E), (0x20A0, 0x20C0), (0x2122, 0x2122)]
_INERT_MARKS = frozenset(chr(c).encode("utf-8") for first, last in _INERT_RANGES for c in range(first, last + 1))
_BELOW_0XCC = bytes(range(0xCC))


def _other_e2_pattern() -> re.Pattern[bytes]:
    """A regex for the first 0xE2 of a character not in _INERT_MARKS (or of no whole character): the
    marks' second bytes, each with the range of third bytes it takes, in a negative lookahead."""
    thirds: dict[int, list[int]] = {}
    for mark in sorted(_INERT_MARKS):
        thirds.setdefault(mark[1], []).append(mark[2])
    runs: list[list[int]] = []
    for second, found in thirds.items():
        for third in found:  # (consecutive third bytes as one range)
            if runs and runs[-1][0] == second and runs[-1][2] == third - 1:
                runs[-1][2] = third
            else:
                runs.append([second, third, third])
    alternatives = b"|".join(b"\\x%02x[\\x%02x-\\x%02x]" % (second, lo, hi) for second, lo, hi in runs)
    return re.compile(b"\\xe2(?!" + alternatives + b")")


_OTHER_E2 = _other_e2_pattern()


def _surely_nfc(data: bytes) -> bool:
    """Whether the UTF-8 ``data`` holds no character from U+0300 but those of _INERT_MARKS (then its
    text is NFC, with nothing normalize_text or replace_controls would change), found in bytes at C
    speed: unicodedata's quick check takes ~2 ns a character. False when it may hold another."""
    leads = data.translate(None, _BELOW_0XCC)  # (the first byte of each character from U+0300)
    return not leads or (not leads.translate(None, b"\xe2") and _OTHER_E2.search(data) is None)


# C0 and C1 controls (ESC and CSI start terminal escape sequences), DEL, and XML's non-characters.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_NOT_CONTROLS = bytes(b for b in range(256) if b >= 0x80 or not _CONTROLS.match(chr(b)))


def replace_controls(text: str) -> tuple[str, str | None]:
    """``text`` with control characters (which Word and Excel files cannot hold) replaced by spaces,
    so every offset stays where it was; and a warning naming the first one, or None."""
    if not _controls_in(text, _NOT_CONTROLS) and (text.isascii() or ("\ufffe" not in text and "\uffff" not in text)):
        return text, None  # the common case, found at C speed
    first = _CONTROLS.search(text)
    if first is None:
        return text, None
    n = len(_CONTROLS.findall(text))
    line = text.count("\n", 0, first.start()) + 1
    return _CONTROLS.sub(" ", text), (f"{n} control character{plural_s(n)} replaced by spaces (the first, U+{ord(first.group()):04X}, "
                                      f"on line {line}); Word and Excel files cannot hold them")
