"""Named speaker-label conventions a workspace can assign to files (``speakers.rules`` in qualkit.yaml).

Each is a regular expression with a ``(?P<speaker>...)`` group (and ``(?P<timestamp>...)`` where
the layout has times) that alone decides which lines start a turn, exactly as a user's own
``pattern:`` would. ``auto`` means: learn the file's convention (the default).
"""
from __future__ import annotations

from qualkit.transcripts.speakers import TS

__all__ = ["AUTO", "CONVENTIONS", "convention_pattern"]

AUTO = "auto"
CONVENTIONS: dict[str, str] = {
    # Word for the web / Microsoft 365 Transcribe: "00:00:03 Speaker 1" paragraph, then the speech.
    "word-transcribe": rf"^(?P<timestamp>{TS})[ \t]+(?P<speaker>[^\s:][^\n:]{{0,59}}?)[ \t]*$",
    # f4/f5 (Dresing & Pehl): "I: ...", "B:Das ..."; #hh:mm:ss-t# marks are taken out of the text anyway.
    "f4": r"^(?P<speaker>[A-ZÄÖÜ][A-Za-zÄÖÜäöü]{0,2}\d{0,2}):[ \t]*",
    # Otter.ai export: "Speaker 1  0:03" on its own line, then the speech.
    "otter": rf"^(?P<speaker>[^\s:][^\n:]{{0,59}}?)[ \t]+(?P<timestamp>{TS})[ \t]*$",
    # Zoom's cue text (also saved as .txt): "Name: text".
    "zoom-vtt": r"^(?:(?P<timestamp>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d{1,3})?)[ \t]+)?(?P<speaker>[^\s:][^\n:]{0,59}?):[ \t]+",
    # WebVTT voice spans: "<v Name>text", with or without a time before it.
    "webvtt-voice": rf"^(?:\[?(?P<timestamp>{TS})\]?[ \t]+)?<v(?:\.[\w.-]+)*[ \t]+(?P<speaker>[^>\n]{{1,60}})>[ \t]*",
    # Diarised ASR: "[Speaker 3] [12:04] text".
    "asr-brackets": rf"^\[(?P<speaker>[^\]\n]{{1,40}})\][ \t]*(?:\[(?P<timestamp>{TS})\][ \t]*)?",
    # Markdown heading labels: "### Interviewer" over the speech paragraphs.
    "markdown-heading": r"^#{1,6}[ \t]+(?P<speaker>[^\n#]{1,60}?)[ \t]*$",
    # Plain "Name: text" lines, any name.
    "colon": r"^(?P<speaker>[^\s:][^\n:]{0,59}?):[ \t]+",
}


def convention_pattern(name: str) -> str | None:
    """The regular expression of a named convention; None for ``auto``. Raises KeyError if unknown."""
    if name == AUTO:
        return None
    return CONVENTIONS[name]
