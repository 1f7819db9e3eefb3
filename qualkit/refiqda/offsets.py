"""Selection positions in REFI-QDA projects: which convention a tool used, and conversion to qualkit's.

qualkit's offsets are code points into the transcript's normalized text (NFC, ``\\n`` newlines).
REFI-QDA says positions count Unicode code points of the source's plain text, but tools differ:

* NVivo counts UTF-16 code units, so every emoji or other character outside the Basic
  Multilingual Plane shifts everything after it by one;
* tools disagree on whether a Windows line break (CRLF) in the plain-text file is one character
  or two.

:class:`SourceText` maps positions under each of the four readings ({code points, UTF-16 units}
x {CRLF as two, CRLF as one}) in a source's raw text onto its normalized text. :func:`detect`
chooses one reading for the whole project (a tool uses one convention everywhere) from the
selections themselves: under the right reading selections start and end on word boundaries and
their text matches the selection's ``name`` where the tool stored a label (a label may be
truncated, so a prefix counts). Ties go to the standard's reading (code points, CRLF as two
characters, literally what the file holds). Readings that agree on every source are not
distinguished, and the choice is reported only when the evidence had something to decide.

A source whose plain text starts with U+FEFF (a byte-order mark, or the character itself, which
QualCoder keeps as text and counts in the codings made in it) has two conventions in one file:
positions that count those leading characters and positions that do not. :func:`choose_shifts`
decides per selection from the selected text QualCoder and NVivo write into its ``name`` and
checks every named selection; the transcript itself starts after them (a qualkit transcript cannot
start with U+FEFF: every reader takes it for a byte-order mark).
"""
from __future__ import annotations

import bisect
import itertools
import unicodedata
from dataclasses import dataclass

from qualkit.io.textdecode import normalize_text


@dataclass(frozen=True)
class Reading:
    """One way of counting positions in a plain-text source."""

    key: str
    utf16: bool
    crlf_as_one: bool

    @property
    def label(self) -> str:
        unit = "UTF-16 code units" if self.utf16 else "Unicode code points"
        crlf = "a line break (CRLF) as one character" if self.crlf_as_one else "CRLF as two characters"
        return f"{unit}, {crlf}"


READINGS = (
    Reading("codepoints", False, False),
    Reading("codepoints-crlf1", False, True),
    Reading("utf16", True, False),
    Reading("utf16-crlf1", True, True),
)
STANDARD = READINGS[0]
_HANGUL_VT = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))


class SourceText:
    """A source's raw plain text (before normalization, without its leading U+FEFFs) and its
    normalized text; ``lead`` is how many leading U+FEFFs (byte-order mark included) the file had."""

    def __init__(self, raw: str, lead: int = 0):
        self.raw = raw
        self.lead = lead
        self.text = normalize_text(raw)
        self.has_cr = "\r" in raw
        self.has_astral = any(ord(ch) > 0xFFFF for ch in raw)
        self._raw_to_nl = self._newline_map()
        self._nl_to_nfc = self._nfc_map()
        self._units: dict[Reading, list[int]] = {}

    # raw index -> index in the newline-normalized text (len(raw)+1 entries) ----------------
    def _newline_map(self) -> list[int] | None:
        raw = self.raw
        if not self.has_cr and "\u2028" not in raw and "\u2029" not in raw:
            return None  # identity
        out: list[int] = []
        j = 0
        i = 0
        n = len(raw)
        while i < n:
            ch = raw[i]
            out.append(j)
            if ch == "\r" and i + 1 < n and raw[i + 1] == "\n":
                out.append(j)  # between CR and LF: before the line break
                i += 2
            else:
                i += 1
            j += 1
        out.append(j)
        return out

    # newline-normalized index -> NFC index -------------------------------------------------
    def _nfc_map(self):
        nl = self.raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        self._nl = nl
        if unicodedata.is_normalized("NFC", nl):
            return None  # identity
        # Split into segments that start at a starter (combining class 0, not a Hangul vowel or
        # final consonant); NFC works within them. Positions inside a segment are clamped to it.
        bounds = [i for i, ch in enumerate(nl) if i == 0 or (unicodedata.combining(ch) == 0 and ord(ch) not in _HANGUL_VT)]
        bounds.append(len(nl))
        out = [0] * (len(nl) + 1)
        pos = 0
        pieces = []
        for a, b in zip(bounds, bounds[1:]):
            seg = unicodedata.normalize("NFC", nl[a:b])
            pieces.append(seg)
            for k in range(a, b):
                out[k] = pos if k == a else pos + min(k - a, len(seg))
            pos += len(seg)
        out[len(nl)] = pos
        if "".join(pieces) != self.text:
            return "slow"  # a composition across segments (rare scripts): compute per position
        return out

    def _to_text(self, raw_index: int) -> int:
        j = self._raw_to_nl[raw_index] if self._raw_to_nl is not None else raw_index
        if self._nl_to_nfc is None:
            return j
        if self._nl_to_nfc == "slow":
            return len(unicodedata.normalize("NFC", self._nl[:j]))
        return self._nl_to_nfc[j]

    # positions under a reading -> raw index -----------------------------------------------
    def _starts(self, reading: Reading) -> list[int] | None:
        """Unit offset at which each raw character starts under ``reading`` (None: identity)."""
        utf16 = reading.utf16 and self.has_astral
        crlf1 = reading.crlf_as_one and self.has_cr
        if not utf16 and not crlf1:
            return None
        if reading not in self._units:
            raw = self.raw
            widths = []
            for i, ch in enumerate(raw):
                if crlf1 and ch == "\r" and i + 1 < len(raw) and raw[i + 1] == "\n":
                    widths.append(0)
                elif utf16 and ord(ch) > 0xFFFF:
                    widths.append(2)
                else:
                    widths.append(1)
            self._units[reading] = [0, *itertools.accumulate(widths)]
        return self._units[reading]

    def length(self, reading: Reading = STANDARD) -> int:
        starts = self._starts(reading)
        return len(self.raw) if starts is None else starts[-1]

    def convert(self, position: int, reading: Reading = STANDARD, shift: int = 0) -> int | None:
        """A position under ``reading`` as an index into :attr:`text`, or None if it is not one
        (out of range, or inside a UTF-16 surrogate pair). ``shift``: how many of the leading
        U+FEFFs the position counts (a position inside them is the start of the text)."""
        if shift and position >= 0:
            position = max(0, position - shift)
        starts = self._starts(reading)
        if starts is None:
            if not 0 <= position <= len(self.raw):
                return None
            return self._to_text(position)
        if not 0 <= position <= starts[-1]:
            return None
        i = bisect.bisect_left(starts, position)
        if starts[i] != position:
            return None
        return self._to_text(min(i, len(self.raw)))

    def distinct_readings(self) -> list[Reading]:
        """Readings that can give different results on this source."""
        out = [STANDARD]
        if self.has_cr:
            out.append(READINGS[1])
        if self.has_astral:
            out.append(READINGS[2])
            if self.has_cr:
                out.append(READINGS[3])
        return out


@dataclass
class Selection:
    """A selection's raw positions and optional label, for detection."""

    start: int
    end: int
    name: str = ""


def _collapse(text: str) -> str:
    return " ".join(text.split()).casefold()


def _label_matches(name: str, text: str) -> bool:
    a = _collapse(name).rstrip(".…").strip()
    b = _collapse(text)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter = min(len(a), len(b))
    return shorter >= 4 and (a.startswith(b) or b.startswith(a))


def match_quality(name: str, text: str) -> int:
    """How well a selection's ``name`` matches its text: 3 the same, 2 the same but for spacing and
    case, 1 one a prefix of the other (a truncated label), 0 not at all."""
    if not name:
        return 0
    if name == text or name.rstrip("…") and name.endswith("…") and text.startswith(name.rstrip("…")):
        return 3
    a, b = _collapse(name), _collapse(text)
    if a and a == b:
        return 2
    return 1 if _label_matches(name, text) else 0


@dataclass
class Shifts:
    """Per selection, how many leading U+FEFFs its positions count; the source's usual count; the
    indexes of named selections whose text matches their name under no count."""

    shifts: list[int]
    usual: int
    unmatched: list[int]
    decided: int  # selections placed by their name


def choose_shifts(source: SourceText, selections: list[Selection], reading: Reading = STANDARD) -> Shifts:
    """Decide, selection by selection, whether positions count the source's leading U+FEFFs.

    The selected text in a selection's ``name`` decides (the best :func:`match_quality`, ties to
    the source's usual count); a selection without a name takes the usual count: the one most
    named selections chose, else none of the leading U+FEFFs (the standard counts characters of
    the text, and a byte-order mark is not one)."""
    options = list(range(source.lead + 1))
    qualities: list[list[int]] = []
    for sel in selections:
        row = []
        for k in options:
            s, e = source.convert(sel.start, reading, k), source.convert(sel.end, reading, k)
            row.append(match_quality(sel.name, source.text[s:e]) if s is not None and e is not None and e > s else 0)
        qualities.append(row)
    votes = {k: 0 for k in options}
    for sel, row in zip(selections, qualities):
        best = max(row)
        if sel.name and best and row.count(best) == 1:
            votes[row.index(best)] += 1
    usual = max(options, key=lambda k: (votes[k], -k))
    shifts, unmatched, decided = [], [], 0
    for i, (sel, row) in enumerate(zip(selections, qualities)):
        best = max(row)
        if not sel.name:
            shifts.append(usual)
        elif best == 0:
            shifts.append(usual)
            unmatched.append(i)
        else:
            shifts.append(usual if row[usual] == best else row.index(best))
            decided += 1
    return Shifts(shifts, usual, unmatched, decided)


def _boundary(text: str, pos: int) -> bool:
    if pos <= 0 or pos >= len(text):
        return True
    return not (text[pos - 1].isalnum() and text[pos].isalnum())


def score(source: SourceText, selections: list[Selection], reading: Reading) -> tuple[int, int]:
    """(score, selections that fit) of a reading on one source."""
    total = fits = 0
    for sel in selections:
        s, e = source.convert(sel.start, reading), source.convert(sel.end, reading)
        if s is None or e is None or e <= s:
            total -= 5
            continue
        text = source.text
        points = int(_boundary(text, s)) + int(_boundary(text, e))
        if sel.name and _label_matches(sel.name, text[s:e]):
            points += 3
        total += points
        fits += points >= 2
    return total, fits


@dataclass
class Detection:
    """The reading chosen for a project and why."""

    reading: Reading
    decided: bool  # False when every reading gave the same positions (nothing to decide)
    note: str
    scores: dict[str, tuple[int, int]]


def detect(sources: list[tuple[SourceText, list[Selection]]]) -> Detection:
    """Choose one reading for all sources' selections (see the module docstring)."""
    candidates = [STANDARD]
    for src, sels in sources:
        if sels:
            for r in src.distinct_readings():
                if r not in candidates:
                    candidates.append(r)
    n = sum(len(sels) for _, sels in sources)
    if len(candidates) == 1:
        return Detection(STANDARD, False, "", {})
    # A reading that a source cannot distinguish from the standard scores as the standard there.
    totals: dict[Reading, list[int]] = {r: [0, 0] for r in candidates}
    for src, sels in sources:
        if not sels:
            continue
        distinct = src.distinct_readings()
        cache: dict[Reading, tuple[int, int]] = {}
        for r in candidates:
            eff = r if r in distinct else _equivalent(r, src)
            if eff not in cache:
                cache[eff] = score(src, sels, eff)
            totals[r][0] += cache[eff][0]
            totals[r][1] += cache[eff][1]
    order = {r: i for i, r in enumerate(READINGS)}
    best = max(candidates, key=lambda r: (totals[r][0], -order[r]))
    others = "; ".join(f"as {r.label}, {totals[r][1]}" for r in candidates if r != best)
    note = (f"selection positions read as {best.label}"
            + (" (the standard's reading)" if best == STANDARD else " (not the standard's code points: converted)")
            + f": {totals[best][1]} of {n} selections fit word boundaries or their labels ({others})")
    return Detection(best, True, note, {r.key: (v[0], v[1]) for r, v in totals.items()})


def _equivalent(reading: Reading, src: SourceText) -> Reading:
    """The reading that gives the same positions as ``reading`` on ``src``."""
    utf16 = reading.utf16 and src.has_astral
    crlf1 = reading.crlf_as_one and src.has_cr
    return next(r for r in READINGS if r.utf16 == utf16 and r.crlf_as_one == crlf1)
