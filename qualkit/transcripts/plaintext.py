"""Plain-text and Markdown transcripts: the file's own text, split into turns where labels are."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qualkit.io.textdecode import read_text_file
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.speakers import segment


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
    fmt = source_format or ("md" if path.suffix.lower() in (".md", ".markdown") else "txt")
    return Transcript(path.stem, text, turns, fmt, encoding, warnings + seg_warnings, path)
