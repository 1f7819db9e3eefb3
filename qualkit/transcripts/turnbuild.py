"""Speaker turns from the label lines a transcript's convention accepted (qualkit.transcripts.speakers
decides which lines those are): each turn's span of the text, its time, and the layout marks kept out
of its content. Kept apart from the label rules so that each module stays small."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat
from operator import add

from qualkit.transcripts.model import Turn

__all__ = ["F4_TIME", "TS", "Candidate", "build_turns_by_line", "parse_timestamp", "timed_unlabeled", "trim_marks",
           "turns_after_labels"]

# Timestamps: 1:02, 01:02:03, 01:02:03.456, and the 4-part day:h:m:s of mission logs.
TS = r"\d{1,2}:\d{2}(?::\d{2}){0,2}(?:[.,]\d{1,3})?"
# f4/f5 time marks ("#00:01:22-6#": h:m:s and tenths) at the end of a paragraph, and Scribie's
# "[00:01:22]" there: the time the paragraph ends.
F4_TIME = re.compile(r"\s*(?:#(?P<ts>\d{1,2}:\d{2}:\d{2})(?:[-.,](?P<tenth>\d{1,2}))?#|\[(?P<bts>\d{1,2}:\d{2}:\d{2})\])[ \t]*$")


@dataclass(slots=True)
class Candidate:
    """A line that could start a turn: its kind of label, the label, its time and where its text starts."""

    line: int  # 0-based line index
    kind: str
    label: str
    ts: str | None
    content_start: int | None  # offset of same-line content (inline kinds), else None


def parse_timestamp(ts: str | None) -> float | None:
    """``01:02:03.5`` -> 3723.5 seconds; two parts are m:s, four are d:h:m:s (mission logs)."""
    if not ts:
        return None
    ts = ts.replace(",", ".")
    parts = ts.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    scales = {2: (60, 1), 3: (3600, 60, 1), 4: (86400, 3600, 60, 1)}.get(len(nums))
    if scales is None:
        return None
    return sum(n * s for n, s in zip(nums, scales))


def build_turns_by_line(text: str, lines: list[str], starts: list[int], accepted: list[Candidate],
                        ts_lines: dict[int, str]) -> list[Turn]:
    """Turns from the accepted label lines, walking every line (``starts``: each line's offset):
    the general case, with time-only lines (``ts_lines``) and files without labels."""
    turns: list[Turn] = []
    by_line = {c.line: c for c in accepted}
    cur_speaker: str | None = None
    cur_ts: float | None = None
    cur_line: int | None = None
    cur_start: int | None = None  # offset where content begins (None until first content)
    cur_end: int | None = None
    open_turn = False
    pending_ts: float | None = None
    no_labels = not accepted

    def close():
        nonlocal open_turn
        # A label with nothing said after it (e.g. "Interviewer 1:" then another label) is dropped.
        if open_turn and cur_start is not None and cur_end is not None and cur_end > cur_start:
            turns.append(Turn(len(turns), cur_speaker, cur_start, cur_end, cur_ts, None, cur_line))
        open_turn = False

    prev_blank = True
    for i, ln in enumerate(lines):
        c = by_line.get(i)
        if c is not None:
            # close(), inlined: a long interview has a label every other line
            if open_turn and cur_start is not None and cur_end is not None and cur_end > cur_start:
                turns.append(Turn(len(turns), cur_speaker, cur_start, cur_end, cur_ts, None, cur_line))
            open_turn = True
            cur_speaker = c.label
            cur_ts = parse_timestamp(c.ts) if c.ts else pending_ts
            pending_ts = None
            cur_line = i + 1
            if c.content_start is not None:
                cur_start = c.content_start
                cur_end = starts[i] + len(ln.rstrip())
            else:
                cur_start = cur_end = None
            prev_blank = False
            continue
        if not ln or ln.isspace():  # (a time-only line is never blank)
            prev_blank = True
            continue
        if i in ts_lines and not no_labels:
            pending_ts = parse_timestamp(ts_lines[i])
            prev_blank = False
            continue
        if no_labels and prev_blank:
            # Files without labels: each paragraph is a turn.
            close()
            open_turn = True
            cur_speaker, cur_ts, cur_line = None, None, i + 1
            cur_start = cur_end = None
        elif not open_turn:
            open_turn = True  # text before the first label: an unlabeled preamble turn
            cur_speaker, cur_ts, cur_line = None, None, i + 1
            cur_start = cur_end = None
        stripped_left = len(ln) - len(ln.lstrip())
        if cur_start is None:
            cur_start = starts[i] + stripped_left
            if cur_line is None or cur_speaker is None:
                cur_line = cur_line or i + 1
        cur_end = starts[i] + len(ln.rstrip())
        prev_blank = False
    close()
    return turns  # (each numbered as it was added)


def turns_after_labels(text: str, begins: list[int], label_ends: list[int], content_starts: list[int | None],
                       after: list[str], labels: list[str], lines: list[int]) -> list[list]:
    """The turns of :func:`build_turns_by_line` when every label line is accepted and no line holds a
    time alone, as columns (:data:`~qualkit.transcripts.model.TURN_COLUMNS`), from each label line's
    offset (``begins``), where its label ends, where its text starts on that line (None when it starts
    below), the text ``after`` the label up to the next label line and its 0-based line: each turn runs
    from its label's text (or the first non-blank character after an own-line label) to the last
    non-blank character before the next label; the text before the first label is an unlabeled turn.
    Lengths are taken at C speed and no Turn object is made (a long interview has a label every other line)."""
    speakers: list[str | None] = []
    starts: list[int] = []
    ends: list[int] = []
    at: list[int] = []
    head = text[:begins[0]]
    said = head.lstrip()
    if said and len(head.rstrip()) > len(head) - len(said):
        speakers.append(None)
        starts.append(len(head) - len(said))
        ends.append(len(head.rstrip()))
        at.append(head.count("\n", 0, len(head) - len(said)) + 1)
    lefts = list(map(len, map(str.lstrip, after)))
    kept = map(len, map(str.rstrip, after))
    if None not in content_starts and 0 not in lefts:  # the usual file: every label has its text on its line
        speakers += labels
        starts += content_starts  # type: ignore[arg-type]
        ends += map(add, label_ends, kept)
        at += map(add, lines, repeat(1))
    else:
        for end, start, size, left, right, label, line in zip(label_ends, content_starts, map(len, after), lefts, kept, labels, lines):
            if left:  # (nothing said: the label is dropped, as build_turns_by_line drops it)
                speakers.append(label)
                starts.append(end + size - left if start is None else start)
                ends.append(end + right)
                at.append(line + 1)
    none = [None] * len(starts)
    return [speakers, starts, ends, none, list(none), at]


# "[00:00:15]" alone, or "00:00:37: text" / "[00:01:06] text": a time starting unlabeled speech.
_TS_TEXT = re.compile(rf"\[?(?P<ts>{TS})\]?:?(?:[ \t]+|$)")


def timed_unlabeled(lines: list[str], starts: list[int]) -> list[Turn] | None:
    """Files without speaker labels whose speech is timed (Happy Scribe's ``[00:00:15]`` lines, podcast
    pages' ``00:00:37: text``): one unlabeled turn per time, the time in Turn.timestamp, not the text.
    None when fewer than two lines start with a time (then paragraphs are the turns)."""
    marks = {}
    for i, ln in enumerate(lines):
        m = _TS_TEXT.match(ln)
        if m and parse_timestamp(m.group("ts")) is not None:
            marks[i] = m
    if len(marks) < 2:
        return None
    turns: list[Turn] = []
    cur: list = [None, None, None, None]  # timestamp, start, end, line

    def close() -> None:
        if cur[1] is not None and cur[2] is not None and cur[2] > cur[1]:
            turns.append(Turn(len(turns), None, cur[1], cur[2], cur[0], None, cur[3]))

    for i, ln in enumerate(lines):
        m = marks.get(i)
        if m is not None:
            close()
            rest = ln[m.end():]
            cur[:] = [parse_timestamp(m.group("ts")), None, None, i + 1]
            if rest.strip():
                cur[1] = starts[i] + m.end() + len(rest) - len(rest.lstrip())
                cur[2] = starts[i] + len(ln.rstrip())
            continue
        if not ln.strip():
            continue
        if cur[1] is None:
            cur[1] = starts[i] + len(ln) - len(ln.lstrip())
            cur[3] = cur[3] or i + 1
        cur[2] = starts[i] + len(ln.rstrip())
    close()
    return turns


_VOICE_END = re.compile(r"[ \t]*</v>[ \t]*$")


def trim_marks(text: str, turns: list[Turn]) -> list[Turn]:
    """Keep layout marks out of turn content: a closing ``</v>`` and an f4/f5 time mark at the end.

    f4/f5 (Dresing & Pehl, *Praxisbuch Interview, Transkription & Analyse*) put ``#hh:mm:ss-t#`` at
    the end of a paragraph: the time when it ends, so it is the start time of the turn after it.
    """
    end_time: float | None = None
    for turn in turns:
        if end_time is not None and turn.timestamp is None:
            turn.timestamp = end_time
        end_time = None
        if turn.end > turn.start:
            last = text[turn.end - 1]
            if last not in ">#]" and not last.isspace():
                continue  # no mark can end it and nothing to strip: as it is (no copy of its text)
        # Both marks stand at the very end: search only there (a regex anchored with $ but searched
        # from every position is quadratic on a long run of spaces, e.g. an ASR dump).
        content = text[turn.start:turn.end].rstrip()
        m = _VOICE_END.search(content, max(len(content) - 16, 0)) if content.endswith(">") else None
        if m:
            content = content[:m.start()].rstrip()
        m = F4_TIME.search(content, max(len(content) - 32, 0)) if content.endswith(("#", "]")) else None
        if m:
            tenth = m.group("tenth")
            end_time = (parse_timestamp(m.group("ts") or m.group("bts")) or 0.0) + (int(tenth) / 10 ** len(tenth) if tenth else 0.0)
            content = content[:m.start()]
        turn.end = turn.start + len(content.rstrip())
    kept = [t for t in turns if t.end > t.start]
    if len(kept) < len(turns):  # a turn that held only a mark is gone: number the rest 0..n-1,
        for position, turn in enumerate(kept):  # as the cache numbers them when read back
            turn.index = position
    return kept
