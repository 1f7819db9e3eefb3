"""Plain-text and Markdown transcripts: the file's own text, split into turns where labels are."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qualkit.io.textdecode import read_text_file, read_text_file_as_is
from qualkit.transcripts.model import Parsed, Transcript
from qualkit.transcripts.speakers import segment, segment_columns


def read_plaintext(
    path: str | Path,
    *,
    speaker_pattern: str | None = None,
    known_speakers: Iterable[str] = (),
    source_format: str | None = None,
) -> Transcript:
    """Read a .txt/.md transcript; offsets point into the file's normalized text itself."""
    path = Path(path)
    text, encoding, warnings = read_text_file(path)
    turns, seg_warnings = segment(text, speaker_pattern=speaker_pattern, known_speakers=known_speakers)
    return Transcript(path.stem, text, turns, _format(path, source_format), encoding, warnings + seg_warnings, path)


def parse_plaintext(path: Path, *, speaker_pattern: str | None = None, known_speakers: Iterable[str] = ()) -> Parsed:
    """:func:`read_plaintext` as columns (:class:`~qualkit.transcripts.model.Parsed`), no Turn object
    made and the words counted on the way in the usual file: what a parse for the on-disk cache needs."""
    text, encoding, warnings, as_is = read_text_file_as_is(path)
    columns, seg_warnings, words = segment_columns(text, speaker_pattern=speaker_pattern, known_speakers=known_speakers)
    return Parsed(path.stem, text, columns, _format(path, None), encoding, warnings + seg_warnings, path, None, words, as_is)


def _format(path: Path, source_format: str | None) -> str:
    return source_format or ("md" if path.suffix.lower() in (".md", ".markdown") else "txt")
