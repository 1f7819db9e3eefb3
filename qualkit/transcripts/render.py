"""Rendering parsed turns into qualkit's plain text, for formats whose source is not plain text.

VTT, SRT and DOCX parsers produce :class:`RawTurn` objects; :func:`render_turns` lays them out
one turn per paragraph (``[hh:mm:ss] Speaker: content``) and records the content offsets. The
layout is one the plain-text parser reads back identically.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from qualkit.io.textdecode import normalize_text
from qualkit.transcripts.model import Turn


@dataclass
class RawTurn:
    """A turn before layout: who spoke, what (paragraphs joined by ``\\n``), when, and where."""

    speaker: str | None
    content: str
    timestamp: float | None = None
    line: int | None = None
    parts: list[str] = field(default_factory=list, repr=False)


def format_timestamp(seconds: float) -> str:
    """``3725.5`` -> ``01:02:05`` (whole seconds; sub-second precision is kept in Turn.timestamp)."""
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def merge_consecutive(raw: list[RawTurn], sep: str = " ") -> list[RawTurn]:
    """Merge runs of turns by the same labeled speaker (subtitle cues split one turn into many).

    The first turn's timestamp and line are kept. Unlabeled turns are merged with each other too,
    since a file with no labels gives no evidence of a speaker change.
    """
    out: list[RawTurn] = []
    for t in raw:
        if out and out[-1].speaker == t.speaker:
            prev = out[-1]
            if t.content:
                prev.content = f"{prev.content}{sep}{t.content}" if prev.content else t.content
        else:
            out.append(RawTurn(t.speaker, t.content, t.timestamp, t.line))
    return out


def render_turns(raw: list[RawTurn]) -> tuple[str, list[Turn]]:
    """Lay out turns as plain text; returns (text, turns) with exact content offsets.

    Each content is normalized (NFC, ``\\n``) and stripped; empty turns are dropped.
    """
    pieces: list[str] = []
    turns: list[Turn] = []
    pos = 0
    for r in raw:
        content = normalize_text(r.content).strip()
        if not content:
            continue
        if pieces:
            pieces.append("\n\n")
            pos += 2
        header = ""
        if r.timestamp is not None:
            header += f"[{format_timestamp(r.timestamp)}] "
        if r.speaker is not None:
            header += f"{r.speaker}: "
        pieces.append(header)
        pos += len(header)
        start = pos
        pieces.append(content)
        pos += len(content)
        turns.append(Turn(index=len(turns), speaker=r.speaker, start=start, end=pos, timestamp=r.timestamp, line=r.line))
    text = "".join(pieces)
    if text:
        text += "\n"
    return text, turns
