"""Plain data for a parsed transcript: the normalized text and its speaker turns."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of letters/digits, keeping contractions whole.

    :func:`count_words_in` over the whole text, without marking the joining apostrophes first (a pass
    over the text for each, and real interviews have one every few lines): a word begins at a word
    character after a non-word one, or after an apostrophe that follows no word character."""
    mask = _class_mask(text)
    words = mask.count(b" w") + (mask[:1] == b"w")
    if b"'" in mask:
        words += mask.count(b" 'w") + mask.count(b"''w") + (mask[:2] == b"'w")
    return words


# How count_words_in sees a text: one byte a character, "w" for a word character (regex \w: letters,
# digits, "_"), "g" for an apostrophe joining two of them (the one of "don't"), " " for anything else.
_ASCII_MASK = bytes(ord("w") if chr(b).isalnum() or b == 0x5F else ord("'") if b == 0x27 else ord(" ") for b in range(128)) + b" " * 128


def _mask_error(exc: UnicodeError) -> tuple[str, int]:
    """Encode-error handler: each non-ASCII character as one ASCII stand-in of its class."""
    assert isinstance(exc, UnicodeEncodeError)
    part = exc.object[exc.start:exc.end]
    return "".join("a" if c.isalnum() else "'" if c == "’" else " " for c in part), exc.end


def _class_mask(text: str) -> bytes:
    """Each character of ``text`` as one byte of its class: "w" a word character, "'" an apostrophe, " " other."""
    import codecs

    try:
        codecs.lookup_error("qualkit-wordmask")
    except LookupError:
        codecs.register_error("qualkit-wordmask", _mask_error)
    return text.encode("ascii", "qualkit-wordmask").translate(_ASCII_MASK)


def _word_mask(text: str) -> bytes:
    mask = _class_mask(text)
    if b"'" not in mask:
        return mask
    while b"w'w" in mask:  # "a'b'c": each pass joins every other apostrophe of a chain
        mask = mask.replace(b"w'w", b"wgw")
    return mask.replace(b"'", b" ")


def count_words_in(text: str, spans: list[tuple[int, int]]) -> int:
    """``sum(len(_WORD.findall(text, start, end)))`` over ``spans``, without building a string per
    word (a tenth of the time on a long interview). A word is a run of word characters joined by
    single apostrophes; inside a span it begins at a word character after a non-word one, or at the
    span's first character (an apostrophe there starts one only when a word character follows)."""
    mask = _word_mask(text)
    count = mask.count
    words = 0
    for start, end in spans:
        if end > start:
            first = mask[start]
            words += count(b" w", start, end) + (first == 0x77 or (first == 0x67 and end - start >= 2))
    return words


@dataclass(slots=True)  # a study holds hundreds of thousands: slots make each smaller and quicker to build
class Turn:
    """One speaker turn. ``text[start:end]`` of its transcript is the content, without the label."""

    index: int
    speaker: str | None
    start: int
    end: int
    timestamp: float | None = None
    participant: str | None = None
    line: int | None = None  # 1-based line in the source file where the turn begins, when known


@dataclass
class Transcript:
    """A transcript as qualkit sees it: NFC text with ``\\n`` newlines and turns over it.

    Offsets are code-point offsets into ``text``, half-open, as in REFI-QDA.
    """

    id: str
    text: str
    turns: list[Turn]
    source_format: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    layout: str | None = None  # a layout whose structure gives the speakers (a Word turn table, Teams entries)

    def turn_text(self, turn: Turn | int) -> str:
        """The content of a turn (by object or index)."""
        if isinstance(turn, int):
            turn = self.turns[turn]
        return self.text[turn.start:turn.end]

    @property
    def speakers(self) -> list[str]:
        """Distinct speaker labels in order of first appearance."""
        return distinct_labels(map(_SPEAKER, self.turns))  # (C speed: a study has hundreds of thousands of turns)

    @property
    def word_count(self) -> int:
        """Words spoken (turn contents only, labels and timestamps excluded).

        Counted once per text and turn list (ingest, the report and the summaries all ask); a
        transcript given a new text or a new list of turns is counted again."""
        cached = self.__dict__.get("_word_count")
        if cached is not None and cached[0] is self.text and cached[1] is self.turns and cached[2] == len(self.turns):
            return int(cached[3])
        words = count_words_in(self.text, [(t.start, t.end) for t in self.turns])
        self.remember_word_count(words)
        return words

    def remember_word_count(self, words: int) -> None:
        """Take ``words`` as :attr:`word_count` while text and turns stay as they are (the transcript
        cache stores the count with the parse, so a second command does not count again)."""
        self.__dict__["_word_count"] = (self.text, self.turns, len(self.turns), int(words))


_SPEAKER = attrgetter("speaker")


def distinct_labels(labels: Iterable[str | None]) -> list[str]:
    """Distinct speaker labels in order of first appearance, None (no label) left out."""
    seen = dict.fromkeys(labels)
    seen.pop(None, None)
    return list(seen)  # type: ignore[arg-type]
TURN_COLUMNS = ("speaker", "start", "end", "timestamp", "participant", "line")  # a Turn's fields after its index
_TURN_GETTERS = [attrgetter(name) for name in TURN_COLUMNS]


def turn_columns(turns: list[Turn]) -> list[list]:
    """``turns`` as one list per field of :data:`TURN_COLUMNS` (their index is their position)."""
    return [list(map(get, turns)) for get in _TURN_GETTERS]


def turns_of_columns(columns: list[list]) -> list[Turn]:
    """The Turns whose :func:`turn_columns` are ``columns``, numbered from 0."""
    return list(map(Turn, range(len(columns[0])), *columns)) if columns else []


@dataclass
class Parsed:
    """A parsed transcript with its turns as columns (:data:`TURN_COLUMNS`) and its word count when the
    parser knew it: what the on-disk cache stores and `qualkit ingest` sums up, without a Turn object
    per turn (a study has hundreds of thousands). :meth:`transcript` gives the Transcript. ``as_is``:
    the text is the file's bytes as they are (:func:`~qualkit.io.textdecode.read_text_file_as_is`)."""

    id: str
    text: str
    columns: list[list]
    source_format: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    layout: str | None = None
    words: int | None = None
    as_is: bool = False

    @classmethod
    def of(cls, t: Transcript) -> Parsed:
        """The columns of a transcript in hand (its word count counted if it was not)."""
        return cls(t.id, t.text, turn_columns(t.turns), t.source_format, t.encoding, t.warnings, t.path, t.layout,
                   t.word_count)

    @property
    def turn_count(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def speakers(self) -> list[str]:
        """As :attr:`Transcript.speakers`: distinct labels in order of first appearance."""
        return distinct_labels(self.columns[0]) if self.columns else []

    @property
    def word_count(self) -> int:
        """As :attr:`Transcript.word_count` (counted over the turns here when the parser did not)."""
        if self.words is None:
            self.words = count_words_in(self.text, list(zip(self.columns[1], self.columns[2]))) if self.columns else 0
        return self.words

    def transcript(self) -> Transcript:
        """The Transcript of these columns, its word count remembered when known."""
        t = Transcript(self.id, self.text, turns_of_columns(self.columns), self.source_format, self.encoding,
                       self.warnings, self.path, self.layout)
        if self.words is not None:
            t.remember_word_count(self.words)
        return t
