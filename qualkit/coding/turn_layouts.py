"""Where each transcript's turns lie, kept from one pass over the transcripts for a later one that
needs no more than that: `qualkit status` reads every transcript for coverage, and its themes check
then asks which codings hold only interviewer/moderator words, which the turns' bounds and
participants answer without the text (reading every coded transcript again cost a second decode of
the whole study).

Kept only inside :func:`kept_layouts` (status opens it around its coverage pass and themes check),
10 bytes a turn, and each layout only while its file, qualkit.yaml and participants.csv are
as they were when the transcript was read; otherwise the transcript is read again.
"""
from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.workspace.ingest import held

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["TurnLayout", "kept_layouts", "keep_layout", "layout_of"]

_MEMO = "_turn_layouts"


@dataclass(frozen=True)
class TurnLayout:
    """A transcript's turns as (start, end, participant), in order, without their words."""

    starts: array
    ends: array
    who: array                        # index into ``labels`` of each turn's participant
    labels: tuple[str | None, ...]

    @classmethod
    def of(cls, transcript: Any) -> TurnLayout:
        turns = transcript.turns
        labels: dict[str | None, int] = {}
        who = array("i", (labels.setdefault(t.participant, len(labels)) for t in turns))
        return cls(array("q", (t.start for t in turns)), array("q", (t.end for t in turns)), who, tuple(labels))

    def only_team_words(self, start: int, end: int, is_facilitator: Callable[[str | None], bool]) -> bool:
        """Whether the span [start, end) covers part of a turn and every turn it covers part of is the
        research team's (``is_facilitator``): a coding that holds only interviewer/moderator words."""
        starts, ends, who, labels = self.starts, self.ends, self.who, self.labels
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        touched = False
        while i < len(starts) and starts[i] < end:
            if min(end, ends[i]) > max(start, starts[i]):
                if not is_facilitator(labels[who[i]]):
                    return False
                touched = True
            i += 1
        return touched


class _Kept:
    """The kept layouts, every transcript's turns in three arrays end to end (a few large blocks, not
    three small arrays per transcript: those, scattered among the transcripts read and let go, held
    35 MB at the peak of a status at 5,000 interviews for 9 MB of bounds), and per file where its
    turns are, with the state they were read in."""

    def __init__(self) -> None:
        self.starts, self.ends, self.who = array("I"), array("I"), array("H")
        self.files: dict[Path, tuple[Any, Any, Any, int, int, tuple[str | None, ...]]] = {}

    def add(self, path: Path, state: tuple, transcript: Any) -> None:
        turns = transcript.turns
        labels: dict[str | None, int] = {}
        who = [labels.setdefault(t.participant, len(labels)) for t in turns]
        if len(labels) > 0xFFFF or (turns and max(t.end for t in turns) > 0xFFFFFFFF):
            self.files.pop(path, None)  # (no such interview: read again when asked for)
            return
        first = len(self.starts)
        self.starts.extend(t.start for t in turns)
        self.ends.extend(t.end for t in turns)
        self.who.extend(who)
        self.files[path] = (*state, first, len(turns), tuple(labels))

    def get(self, path: Path, state: tuple) -> TurnLayout | None:
        hit = self.files.get(path)
        if hit is None or hit[0] != state[0] or hit[1] is not state[1] or hit[2] is not state[2]:
            return None
        first, n, labels = hit[3], hit[4], hit[5]
        end = first + n
        return TurnLayout(self.starts[first:end], self.ends[first:end], self.who[first:end], labels)


@contextmanager
def kept_layouts(ws: Workspace) -> Iterator[None]:
    """Inside the block, :func:`keep_layout` keeps the layout of each transcript read for the block's
    later steps (:func:`layout_of`); they are let go when it ends. Only for a workspace that reads the
    files as they are (not a redacted view, whose text and offsets differ)."""
    if not ws.reads_files_as_they_are or ws.__dict__.get(_MEMO) is not None:
        yield
        return
    ws.__dict__[_MEMO] = _Kept()
    try:
        yield
    finally:
        ws.__dict__.pop(_MEMO, None)


def keep_layout(ws: Workspace, transcript: Any) -> None:
    """Keep ``transcript``'s layout inside :func:`kept_layouts` (else nothing), with the state of its
    file and of the settings its parse depends on."""
    kept = ws.__dict__.get(_MEMO)
    path = getattr(transcript, "path", None)
    if kept is None or path is None or path in kept.files:
        return
    now, stamp = held(ws, path)
    if now is transcript and stamp is not None:  # read from the file as it is now
        kept.add(path, (stamp, ws.config, ws.participant_table), transcript)


def layout_of(ws: Workspace, path: Path) -> TurnLayout:
    """The layout of the transcript at ``path``: the one kept while its file and settings are
    unchanged, else from the transcript this command holds or reads."""
    kept = ws.__dict__.get(_MEMO)
    if kept is not None and path in kept.files:
        now, stamp = held(ws, path)
        found = kept.get(path, (stamp, ws.config, ws.participant_table))
        if found is not None:
            return found
        if now is not None:
            return TurnLayout.of(now)
    return TurnLayout.of(ws.read(path))
