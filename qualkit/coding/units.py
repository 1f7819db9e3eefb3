"""Coding units: a transcript cut into turns or sentences, as exact ``(start, end)`` offsets.

A unit is a half-open span of the transcript's text: ``transcript.text[unit.start:unit.end]`` *is*
the unit, with no surrounding whitespace. Units never cross a turn boundary and come in text order.

Sentence splitting is deliberately simple and rule-based (no spaCy, no model), so it is fast,
deterministic and the same on every machine. The rules, in order:

1. A line break inside a turn always ends a sentence (transcribers start a new line for a new
   thought; a paragraph is never merged with the next one).
2. Otherwise a sentence ends after a run of terminal punctuation (``.``, ``!``, ``?``, ``…``),
   optionally followed by closing quotes or brackets (``" ' ” ’ ) ]``), when what follows is
   whitespace and then the start of a sentence: an upper-case letter, a digit, an opening quote
   or an opening bracket (``[pause] So...`` starts a new sentence).
3. A period does not end a sentence after a common abbreviation (``Dr.``, ``Mr.``, ``e.g.``,
   ``etc.``, ``vs.``, ... see ``ABBREVIATIONS``) or after a single letter (initials such as
   ``J. Smith`` or ``U.S. Army``).
4. Each piece is trimmed of surrounding whitespace; empty pieces are dropped.

So ``"What, four officers? So most..."`` is two sentences, ``"I got involved... honestly"`` one,
and ``"Dr. Cole said so."`` one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from qualkit.transcripts.model import Transcript

UNIT_KINDS = ("turn", "sentence", "paragraph", "question", "document")

# Lower-cased, without the final period. A period after one of these never ends a sentence.
ABBREVIATIONS = frozenset({
    "dr", "mr", "mrs", "ms", "mx", "prof", "st", "jr", "sr", "rev", "hon", "gen", "col", "lt", "sgt",
    "capt", "cpt", "cmdr", "det", "ofc", "dept", "gov", "sen", "rep", "pres", "supt", "insp",
    "vs", "etc", "e.g", "i.e", "cf", "approx", "vol", "fig", "p", "pp", "ch",
    "mt", "ft", "ave", "blvd", "rd", "inc", "ltd", "co", "corp", "llc", "univ", "assn",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "a.m", "p.m", "ph.d", "m.d", "r.n", "u.s", "u.k",
})

# terminal punctuation run, then closing quotes/brackets, then the whitespace before the next sentence
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[\d\w])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


@dataclass(frozen=True, slots=True)  # agreement at 5,000 transcripts holds half a million
class Unit:
    """One coding unit: its position in the unit list, its span, and the turn it belongs to."""

    index: int          # 0-based position among the transcript's units
    start: int
    end: int
    turn: int | None    # 0-based index of the turn it lies in (None if not inside a turn)
    kind: str = "turn"

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    # str.strip() drops exactly the characters str.isspace() is true for, in C rather than one by one
    piece = text[start:end] if end > start else ""
    left = piece.lstrip()
    if not left:
        return None
    return start + len(piece) - len(left), start + len(left.rstrip()) + len(piece) - len(left)


def _ends_sentence(text: str, start: int, punct_start: int, next_char: str) -> bool:
    """Whether the punctuation beginning at ``punct_start`` ends a sentence (rules 2 and 3)."""
    if text[punct_start] == "." and not text.startswith("...", punct_start):
        m = _WORD_BEFORE.search(text, start, punct_start)
        if m:
            word = m.group(1).lower().strip(".")
            if word in ABBREVIATIONS:
                return False
            # initials: "J." or the last letter of a dotted run "U.S."
            if len(word) == 1 and word.isalpha():
                return False
            if re.fullmatch(r"(?:\w\.)+\w", word) and all(len(p) == 1 for p in word.split(".")):
                return False
    # a sentence starts with an upper-case letter, a digit, an opening quote or bracket
    return not next_char.isalpha() or next_char.isupper()


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as exact, trimmed ``(start, end)`` offsets into ``text``."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    line_start = start
    while line_start < end:
        nl = text.find("\n", line_start, end)
        line_end = end if nl < 0 else nl
        piece_start = line_start
        for m in _BOUNDARY.finditer(text, line_start, line_end):
            after = m.end()
            j = after
            while j < line_end and text[j].isspace():
                j += 1
            if j >= line_end:
                break
            if _ends_sentence(text, piece_start, m.start(), text[j]):
                span = _trim(text, piece_start, after)
                if span:
                    out.append(span)
                piece_start = after
        span = _trim(text, piece_start, line_end)
        if span:
            out.append(span)
        line_start = line_end + 1
    return out


def turn_units(transcript: Transcript) -> list[Unit]:
    """One unit per turn (the turn's content; empty turns are left out)."""
    units: list[Unit] = []
    for turn in transcript.turns:
        span = _trim(transcript.text, turn.start, turn.end)
        if span:
            units.append(Unit(len(units), span[0], span[1], turn.index, "turn"))
    return units


def sentence_units(transcript: Transcript) -> list[Unit]:
    """Every turn's sentences, in order (see the module docstring for the rules)."""
    units: list[Unit] = []
    for turn in transcript.turns:
        for s, e in split_sentences(transcript.text, turn.start, turn.end):
            units.append(Unit(len(units), s, e, turn.index, "sentence"))
    return units


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def paragraph_units(transcript: Transcript) -> list[Unit]:
    """Every turn's paragraphs (split at blank lines); a turn without blank lines is one paragraph."""
    units: list[Unit] = []
    text = transcript.text
    for turn in transcript.turns:
        pos = turn.start
        for m in [*_BLANK_LINE.finditer(text, turn.start, turn.end), None]:
            end = m.start() if m else turn.end
            span = _trim(text, pos, end)
            if span:
                units.append(Unit(len(units), span[0], span[1], turn.index, "paragraph"))
            if m:
                pos = m.end()
    return units


def question_units(transcript: Transcript, is_facilitator: Callable[[object], bool]) -> list[Unit]:
    """An interviewer's or moderator's turn with the answers that follow it, up to the next one.

    Turns before the first facilitator turn form a unit of their own. ``is_facilitator(turn)``
    says which turns are the research team's (from participants.csv roles).
    """
    groups: list[list] = []
    for turn in transcript.turns:
        if not groups or is_facilitator(turn):
            groups.append([turn])
        else:
            groups[-1].append(turn)
    units: list[Unit] = []
    for g in groups:
        span = _trim(transcript.text, g[0].start, g[-1].end)
        if span:
            units.append(Unit(len(units), span[0], span[1], g[0].index, "question"))
    return units


def document_units(transcript: Transcript) -> list[Unit]:
    """The whole transcript as one unit (first turn's start to last turn's end)."""
    if not transcript.turns:
        return []
    span = _trim(transcript.text, transcript.turns[0].start, transcript.turns[-1].end)
    return [Unit(0, span[0], span[1], 0, "document")] if span else []


def split_units(transcript: Transcript, kind: str = "turn", is_facilitator: Callable[[object], bool] | None = None) -> list[Unit]:
    """The transcript's units of ``kind`` (one of UNIT_KINDS); ``question`` needs ``is_facilitator``."""
    if kind == "turn":
        return turn_units(transcript)
    if kind == "sentence":
        return sentence_units(transcript)
    if kind == "paragraph":
        return paragraph_units(transcript)
    if kind == "document":
        return document_units(transcript)
    if kind == "question":
        return question_units(transcript, is_facilitator or (lambda turn: False))
    raise ValueError(f"unit must be one of {', '.join(UNIT_KINDS)}, not {kind!r}")


Label = TypeVar("Label")


def coded_units(units: list[Unit], spans: Iterable[tuple[int, int, Label]]) -> list[set[Label]]:
    """For each unit (in text order), the codes (labels) of the spans that overlap it by at least one character.

    A coding that runs across two turns codes both. Uses bisect on unit starts, so it is
    O((units + codings) log units) rather than units x codings.
    """
    import bisect

    starts = [u.start for u in units]
    out: list[set[Label]] = [set() for _ in units]
    for start, end, code in spans:
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(units) and units[i].start < end:
            if units[i].end > start:
                out[i].add(code)
            i += 1
    return out


def unit_at(units: Iterable[Unit], offset: int) -> Unit | None:
    """The unit containing ``offset``, else the first unit after it, else the last unit."""
    units = list(units)
    for u in units:
        if u.start <= offset < u.end:
            return u
    for u in units:
        if u.start >= offset:
            return u
    return units[-1] if units else None
