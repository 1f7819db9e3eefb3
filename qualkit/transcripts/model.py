"""Plain data for a parsed transcript: the normalized text and its speaker turns."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from qualkit.transcripts.words import count_words, count_words_in

__all__ = ["TURN_COLUMNS", "Parsed", "Transcript", "Turn", "count_words", "count_words_in", "distinct_labels",
           "turn_columns", "turns_of_columns"]


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
