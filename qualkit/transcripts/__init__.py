"""Reading transcripts in every format researchers receive: one entry point, one parser per format."""
from __future__ import annotations

import errno
import stat
from collections.abc import Iterable, Sized
from pathlib import Path

from qualkit.errors import TranscriptError
from qualkit.transcripts.documents import CONVERT_HINT
from qualkit.transcripts.model import Parsed, Transcript

# extension -> (module, function); modules are imported only when a file of that kind is read.
_READERS: dict[str, tuple[str, str]] = {
    ".txt": ("plaintext", "read_plaintext"),
    ".text": ("plaintext", "read_plaintext"),
    ".md": ("plaintext", "read_plaintext"),
    ".markdown": ("plaintext", "read_plaintext"),
    ".vtt": ("subtitles", "read_vtt"),
    ".srt": ("subtitles", "read_srt"),
    ".docx": ("wordfile", "read_docx"),
    ".pdf": ("documents", "read_pdf"),
    ".odt": ("documents", "read_odt"),
    ".rtf": ("documents", "read_rtf"),
}
SUPPORTED_EXTENSIONS = tuple(sorted(_READERS))
_HINTS = {
    ".doc": f"old Word .doc files are not read: {CONVERT_HINT}",
    ".wpd": f"WordPerfect files are not read: {CONVERT_HINT}",
    ".pages": "Apple Pages files are not read: export it from Pages as .docx",
}
# Files LibreOffice can turn into .docx (`qualkit ingest --convert`).
CONVERTIBLE = (".doc", ".wpd", ".dot", ".wps", ".sxw")


def is_transcript_file(path: str | Path) -> bool:
    """True for files qualkit can read as transcripts (by extension; hidden files excluded)."""
    p = path if isinstance(path, Path) else Path(path)
    return p.suffix.lower() in _READERS and not p.name.startswith((".", "~$"))


def read_transcript(
    path: str | Path,
    *,
    speaker_pattern: str | None = None,
    known_speakers: Iterable[str] = (),
) -> Transcript:
    """Read one transcript file (.txt .md .vtt .srt .docx .pdf .odt .rtf) into a :class:`~qualkit.transcripts.model.Transcript`.

    ``speaker_pattern``: a regular expression with a ``(?P<speaker>...)`` group (and optionally
    ``(?P<timestamp>...)``) that alone decides which lines start turns in plain-text formats.
    ``known_speakers``: labels always accepted as speakers (e.g. from participants.csv).
    Raises :class:`~qualkit.errors.TranscriptError` naming the file (and line) on bad input.
    """
    path = path if isinstance(path, Path) else Path(path)  # (Path(a Path) parses it again)
    import importlib

    module_name, func_name = _READERS[_readable(path)]
    reader = getattr(importlib.import_module(f"{__name__}.{module_name}"), func_name)
    transcript = reader(path, speaker_pattern=speaker_pattern, known_speakers=tuple(known_speakers))
    _has_speech(transcript.turns, transcript.text, path)
    return transcript


def read_parsed(path: str | Path, *, speaker_pattern: str | None = None, known_speakers: Iterable[str] = ()) -> Parsed:
    """:func:`read_transcript` as :class:`~qualkit.transcripts.model.Parsed` (turns as columns): the same
    parse and the same errors, without a Turn object per turn for a plain-text file (what a worker
    parsing files for the on-disk cache needs)."""
    path = path if isinstance(path, Path) else Path(path)  # (Path(a Path) parses it again)
    if _READERS[_readable(path)][0] != "plaintext":
        return Parsed.of(read_transcript(path, speaker_pattern=speaker_pattern, known_speakers=known_speakers))
    from qualkit.transcripts.plaintext import parse_plaintext

    parsed = parse_plaintext(path, speaker_pattern=speaker_pattern, known_speakers=tuple(known_speakers))
    _has_speech(parsed.columns[0] if parsed.columns else [], parsed.text, path)
    return parsed


def _readable(path: Path) -> str:
    """The suffix of ``path`` as _READERS names it; raises what is wrong with a file no reader can read."""
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        hint = _HINTS.get(suffix) or (f"{suffix} files are not read: {CONVERT_HINT}" if suffix in CONVERTIBLE else
                                      f"unsupported file type {suffix or '(no extension)'}; qualkit reads "
                                      f"{', '.join(SUPPORTED_EXTENSIONS)}; {CONVERT_HINT}")
        if suffix in CONVERTIBLE:
            from qualkit.transcripts.convert import find_soffice

            if find_soffice():
                hint += " (LibreOffice is installed here: `qualkit ingest --convert` will do it)"
        raise TranscriptError(hint, path)
    try:
        st = path.stat()  # one call for what exists(), is_dir() and the size each asked the system for
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise  # (as Path.exists() lets them through)
        raise TranscriptError("no such file", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise TranscriptError("is a folder, not a transcript file", path)
    if st.st_size == 0:
        raise TranscriptError("file is empty", path)
    return suffix


def _has_speech(turns: Sized, text: str, path: Path) -> None:
    if not turns or not text or text.isspace():  # (not text.strip(): no copy of the text)
        raise TranscriptError("no transcript text found (the file has no speech in it)", path)
