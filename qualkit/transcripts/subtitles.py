"""WebVTT and SRT subtitle transcripts (Zoom, Microsoft Teams, OHD, noScribe, Whisper).

Cues become speaker turns: consecutive cues of one speaker merge into a turn (joined by a
space) whose timestamp is the first cue's start. The speaker of a cue comes from

- a voice tag ``<v Name>`` (Teams closes it with ``</v>``; OHD and noScribe do not, and tag
  only the cue where the speaker changes, so an untagged cue continues the current voice);
- otherwise a ``Name: text`` label in the cue text (Zoom), accepted with the same caution as
  plain text (:func:`~qualkit.transcripts.speakers.inline_labels`: a label must recur, be
  known, or have a role shape), or decided by the workspace's ``speaker_pattern`` alone.
  Where nearly every cue opens with an accepted label (Zoom labels every cue), a one-off
  ``Name:`` opening a cue is taken as a label too. Where no label is repeated on the next
  cue, the file labels only speaker changes and an unlabeled cue continues the previous
  speaker; otherwise (Zoom) an unlabeled cue is speech of an unknown speaker.
- Cues nobody is known to speak (files without labels, such as Whisper SRT) are not merged
  into one giant turn: a new unlabeled turn starts at each pause of ``PAUSE_SECONDS`` (2.0 s)
  or more between one cue's end and the next cue's start; and since ASR output often has
  no such pauses, also at the first sentence end once the turn spans ``LONG_TURN_SECONDS``
  (60 s), and in any case once it spans ``MAX_TURN_SECONDS`` (120 s).

Inline overlaps (noScribe's ``//S02: text //``) stay in the text. Cue markup (``<c>``,
``<i>``, ``<b>``, ``<font>``, karaoke ``<00:00:01.000>``, ``{\\an8}``) is removed and HTML
entities decoded; other angle-bracket text, such as OHD's uncertain-word mark ``<[?]>``, is
kept. NOTE, STYLE and REGION blocks and cue settings are ignored.

Hand-written rather than webvtt-py or srt: neither reports line numbers. webvtt-py silently
drops a cue whose timing does not parse, accepts a cue that ends before it starts, refuses a
file without the ``WEBVTT`` header, and does not decode entities or keep OHD's ``<[?]>``;
srt reads ``00:00:0x,000`` as a zero end time. The grammar needed here (blocks, a timing
line, text) is small, and every recovery can be reported with its line.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qualkit.errors import TranscriptError
from qualkit.io.naming import plural_s
from qualkit.io.textdecode import read_text_file
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.render import RawTurn, render_turns
from qualkit.transcripts.speakers import inline_labels

PAUSE_SECONDS = 2.0
# Speech of unknown speakers is also cut into turns of about a minute, at a sentence end,
# and at most two minutes long: ASR files often have no 2 s gaps at all.
LONG_TURN_SECONDS = 60.0
MAX_TURN_SECONDS = 120.0
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
# Share of cue openings that must carry an accepted label for one-off labels to count too.
_DENSE_SHARE = 0.9

# hh:mm:ss.ttt, also the unpadded 0:0:0.570 of old Teams exports and SRT's comma.
_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d+))?")
_TIMING = re.compile(r"\s*(\S+)\s*-->\s*(\S+)(?:\s.*)?")
# A timing line with a mistyped arrow ("->", "—>", "- ->", "to"): an error, not speech.
_NEAR_TIMING = re.compile(r"\s*\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[.,]\d+)?\s*(?:-{1,2}>|=+>|[-–—]{1,3}\s*>?|>|to)\s*\d{1,2}:\d{1,2}\S*(?:\s.*)?")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_MARKUP = re.compile(
    r"</?(?:c|i|b|u|v|s|lang|ruby|rt|font|span)(?:[.\s][^<>]*)?>"  # WebVTT and SRT tags
    r"|<\d+:\d{2}(?::\d{2})?(?:\.\d+)?>"  # karaoke timestamps
    r"|\{\\[^{}]*\}",  # ASS overrides in SRT, e.g. {\an8}
    re.IGNORECASE,
)
# A cue identifier as tools write them: SRT's number, Teams' "<guid>/12-0".
_CUE_ID = re.compile(r"\d+|[\w-]+/[\w-]+")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SKIPPED_BLOCK = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)")


@dataclass
class _Cue:
    line: int  # 1-based line of the timing line
    start: float
    end: float
    text: list[tuple[int, str]]  # (1-based line, raw text line)


@dataclass
class _Piece:
    """Speech in one cue by one speaker; ``voice`` is None when nothing names the speaker."""

    voice: str | None
    source: str | None  # "voice" (a <v> tag), "label" (Name: text) or None
    lines: list[tuple[int, str]]  # (1-based line, cleaned text)
    cue: _Cue
    closed: bool = False  # the voice span ends with </v>, so it does not carry over


def read_vtt(path: str | Path, *, speaker_pattern: str | None = None, known_speakers: Iterable[str] = ()) -> Transcript:
    """Read a WebVTT transcript (Zoom, Teams, OHD, noScribe and plain captions)."""
    return _read_subtitles(Path(path), "vtt", speaker_pattern, known_speakers)


def read_srt(path: str | Path, *, speaker_pattern: str | None = None, known_speakers: Iterable[str] = ()) -> Transcript:
    """Read a SubRip (.srt) transcript, e.g. a Whisper export, labeled or not."""
    return _read_subtitles(Path(path), "srt", speaker_pattern, known_speakers)


def _read_subtitles(path: Path, fmt: str, speaker_pattern: str | None, known_speakers: Iterable[str]) -> Transcript:
    text, encoding, warnings = read_text_file(path)
    cues = _parse_cues(text.lstrip("\ufeff").split("\n"), path, fmt, warnings)
    if not cues:
        raise TranscriptError("no subtitle cues found (no timing line like 00:00:01.000 --> 00:00:04.000)", path)
    pieces = _pieces(cues, warnings)
    if not pieces:
        raise TranscriptError(f"all {len(cues)} cues are empty", path)
    _assign_speakers(pieces, speaker_pattern, tuple(known_speakers))
    if not any(p.voice for p in pieces):
        warnings.append(
            f"no speaker labels found: unlabeled turns split at pauses of {PAUSE_SECONDS:g} s or more"
            f" and at sentence ends about every {LONG_TURN_SECONDS:g} s"
        )
    out_text, turns = render_turns(_group(pieces))
    return Transcript(path.stem, out_text, turns, fmt, encoding, warnings, path)


# --- cues -----------------------------------------------------------------------------------

def _parse_time(value: str) -> float | None:
    """``01:02:03.5`` / ``0:0:0.570`` / ``00:01,000`` -> seconds; None if it is not a time."""
    m = _TIME.fullmatch(value)
    if not m:
        return None
    hours, minutes, seconds, frac = m.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + (float(f"0.{frac}") if frac else 0.0)


def _expected(fmt: str) -> str:
    """The timing line a cue needs, as the file's own format writes it (SubRip: a comma before the milliseconds)."""
    if fmt == "srt":
        return "expected 00:00:01,000 --> 00:00:04,000"
    return "expected 00:00:01.000 --> 00:00:04.000"


def _parse_timing(line: str, lineno: int, path: Path, fmt: str = "vtt") -> tuple[float, float]:
    """A cue timing line -> (start, end); one that does not parse is an error naming its line."""
    m = _TIMING.fullmatch(line)
    start = _parse_time(m.group(1)) if m else None
    end = _parse_time(m.group(2)) if m else None
    if start is None or end is None:
        raise TranscriptError(f"cue timing does not parse: {line.strip()!r} ({_expected(fmt)})", path, lineno)
    return start, end


def _blocks(lines: list[str], first: int) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines from index ``first``, each line with its 1-based number."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for i in range(first, len(lines)):
        if lines[i].strip():
            current.append((i + 1, lines[i]))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _skip_header(lines: list[str], fmt: str, warnings: list[str]) -> int:
    """Index of the first line after the WEBVTT header block (VTT), or 0."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    if fmt != "vtt":
        return first
    if not lines[first:first + 1] or not re.match(r"WEBVTT(?:[ \t]|$)", lines[first]):
        warnings.append(f"missing WEBVTT header on line {first + 1}; read as WebVTT anyway")
        return first
    # Header metadata runs to the first blank line, unless a cue follows without one.
    i = first + 1
    while i < len(lines) and lines[i].strip() and "-->" not in lines[i]:
        i += 1
    if i < len(lines) and "-->" in lines[i] and i - 1 > first:
        i -= 1  # the line before a timing line is that cue's identifier
    return i


def _parse_cues(lines: list[str], path: Path, fmt: str, warnings: list[str]) -> list[_Cue]:
    """Cues in file order; text outside any cue is kept with the cue before it, with a warning."""
    cues: list[_Cue] = []
    stray: list[int] = []
    preamble: list[int] = []
    for block in _blocks(lines, _skip_header(lines, fmt, warnings)):
        if fmt == "vtt" and _SKIPPED_BLOCK.match(block[0][1]):
            continue
        for lineno, ln in block:
            if "-->" not in ln and _NEAR_TIMING.fullmatch(ln):
                raise TranscriptError(f"cue timing does not parse: {ln.strip()!r} ({_expected(fmt)})", path, lineno)
        timing_at = [k for k, (_, ln) in enumerate(block) if "-->" in ln]
        bounds = timing_at + [len(block)]
        head = block[: timing_at[0]] if timing_at else block
        # The line just before a timing line is a cue identifier (SRT's number, a VTT id).
        if timing_at and head:
            head = head[:-1]
        if head and cues:
            stray.append(head[0][0])
            cues[-1].text.extend(head)
        elif head:
            preamble.append(head[0][0])
        for n, k in enumerate(timing_at):
            lineno, ln = block[k]
            start, end = _parse_timing(ln, lineno, path, fmt)
            body = block[k + 1: bounds[n + 1]]
            if n + 1 < len(timing_at) and body and _CUE_ID.fullmatch(body[-1][1].strip()):
                body = body[:-1]  # identifier of the next cue, written without a blank line
            cues.append(_Cue(lineno, start, end, list(body)))
    if preamble:
        warnings.append(f"text before the first cue ignored (line {preamble[0]})")
    if stray:
        warnings.append(f"{len(stray)} block{plural_s(len(stray))} of text outside any cue (first on line {stray[0]}); kept with the cue before them")
    _warn_order(cues, warnings)
    return cues


def _warn_order(cues: list[_Cue], warnings: list[str]) -> None:
    """Odd timings are read as they are, in file order, with one warning of each kind.

    A cue that ends before it starts (noScribe writes some) gets its start as its end: the
    speech is there, only the clock is off, so refusing the file would help nobody.
    """
    backwards = [c.line for c in cues if c.end < c.start]
    for c in cues:
        c.end = max(c.end, c.start)
    if backwards:
        warnings.append(f"{len(backwards)} cue{plural_s(len(backwards))} end before they start (first on line {backwards[0]}); read as ending at their start")
    overlap: list[int] = []
    disorder: list[int] = []
    for prev, cue in zip(cues, cues[1:]):
        if cue.start < prev.start:
            disorder.append(cue.line)
        elif cue.start < prev.end:
            overlap.append(cue.line)
    if disorder:
        warnings.append(f"{len(disorder)} cue{plural_s(len(disorder))} start before the cue above them (first on line {disorder[0]}); kept in file order")
    if overlap:
        warnings.append(f"{len(overlap)} cue{plural_s(len(overlap))} overlap the cue above them (first on line {overlap[0]})")


# --- speakers -------------------------------------------------------------------------------

def _clean(text: str) -> str:
    """Cue text without markup, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_MARKUP.sub("", _BREAK.sub(" ", text))).split())


def _split_voices(cue: _Cue) -> list[_Piece]:
    """A cue's text cut at each ``<v Name>`` tag; text before the first tag has no voice."""
    pieces: list[_Piece] = []
    voice: str | None = None
    source: str | None = None
    current: list[tuple[int, str]] = []

    def flush() -> None:
        lines = [(n, c) for n, c in ((n, _clean(t)) for n, t in current) if c]
        if lines:
            closed = source == "voice" and any("</v>" in t.lower() for _, t in current)
            pieces.append(_Piece(voice, source, lines, cue, closed))

    for lineno, raw in cue.text:
        pos = 0
        for m in _VOICE.finditer(raw):
            current.append((lineno, raw[pos:m.start()]))
            flush()
            current = []
            # noScribe tags a cue of overlapping speech <v //S02>; the speaker is S02.
            voice, source = " ".join((m.group(1) or "").strip().strip("/").split()) or None, "voice"
            pos = m.end()
        current.append((lineno, raw[pos:]))
    flush()
    return pieces


def _pieces(cues: list[_Cue], warnings: list[str]) -> list[_Piece]:
    """Every cue's speech by voice; empty cues are skipped with one warning."""
    pieces: list[_Piece] = []
    empty: list[int] = []
    for cue in cues:
        found = _split_voices(cue)
        if not found:
            empty.append(cue.line)
        pieces.extend(found)
    if empty:
        warnings.append(f"{len(empty)} empty cue{plural_s(len(empty))} skipped (first on line {empty[0]})")
    return pieces


def _assign_speakers(pieces: list[_Piece], speaker_pattern: str | None, known: tuple[str, ...]) -> None:
    """Give every piece its speaker: voice tag, accepted ``Name:`` label, or carried over.

    An unclosed voice tag carries over to untagged cues (OHD, noScribe). A ``Name:`` label
    does where the file labels only speaker changes, i.e. never repeats a label on the next cue
    (Zoom repeats the name on every cue, so there an unlabeled cue is an unknown speaker).
    """
    pieces[:] = _split_labels(pieces, speaker_pattern, known)
    repeats = any(a.source == b.source == "label" and a.voice == b.voice for a, b in zip(pieces, pieces[1:]))
    current: str | None = None
    for p in pieces:
        if p.source == "voice":
            current = None if p.closed else p.voice
        elif p.source == "label":
            current = None if repeats else p.voice
        else:
            p.voice = current


def _split_labels(pieces: list[_Piece], speaker_pattern: str | None, known: tuple[str, ...]) -> list[_Piece]:
    """Untagged pieces cut at each accepted ``Name: text`` line into labeled pieces."""
    untagged = [(i, k) for i, p in enumerate(pieces) if p.source is None for k in range(len(p.lines))]
    texts = [pieces[i].lines[k][1] for i, k in untagged]
    found = inline_labels(texts, speaker_pattern=speaker_pattern, known_speakers=known)
    openings = {n for n, (i, k) in enumerate(untagged) if k == 0}
    accepted = {lab.line: lab for lab in found if lab.accepted}
    # Zoom labels every cue: there a one-off "Name:" opening a cue is a label like the rest
    # (even in a short call where everyone speaks once and no label recurs).
    if openings and len({lab.line for lab in found} & openings) >= _DENSE_SHARE * len(openings):
        accepted.update({lab.line: lab for lab in found if lab.line in openings and lab.line not in accepted})
    out: list[_Piece] = []
    n = 0
    for p in pieces:
        if p.source is not None:
            out.append(p)
            continue
        for lineno, line in p.lines:
            lab = accepted.get(n)
            n += 1
            if lab is not None:
                out.append(_Piece(lab.label, "label", [(lineno, line[lab.column:])], p.cue))
            elif out and out[-1].cue is p.cue:
                out[-1].lines.append((lineno, line))
            else:
                out.append(_Piece(None, None, [(lineno, line)], p.cue))
    return out


def _group(pieces: list[_Piece]) -> list[RawTurn]:
    """Consecutive pieces of one speaker become one turn; unknown speech splits (see above)."""
    turns: list[RawTurn] = []
    prev: _Piece | None = None
    for p in pieces:
        content = " ".join(t for _, t in p.lines)
        if prev is not None and turns[-1].speaker == p.voice and not (p.voice is None and _breaks(turns[-1], prev, p)):
            turns[-1].content += " " + content
        else:
            turns.append(RawTurn(p.voice, content, p.cue.start, p.lines[0][0]))
        prev = p
    return turns


def _breaks(turn: RawTurn, prev: _Piece, p: _Piece) -> bool:
    """Whether unlabeled speech ``p`` starts a new turn after ``prev`` (a pause or a long turn)."""
    if p.cue is prev.cue:
        return False
    span = p.cue.start - (turn.timestamp or 0.0)
    if p.cue.start - prev.cue.end >= PAUSE_SECONDS or span >= MAX_TURN_SECONDS:
        return True
    return span >= LONG_TURN_SECONDS and bool(_SENTENCE_END.search(turn.content))
