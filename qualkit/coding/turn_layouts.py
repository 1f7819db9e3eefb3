"""Where each transcript's turns lie, kept from one pass over the transcripts for a later one that
needs no more than that: `qualkit status` reads every transcript for coverage, and its themes check
then asks which codings hold only interviewer/moderator words, which the turns' bounds and
participants answer without the text (reading every coded transcript again cost a second decode of
the whole study).

Kept only inside :func:`kept_layouts` (status opens it around its coverage pass and themes check),
a few bytes per turn, and each layout only while its file, qualkit.yaml and participants.csv are
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
        wide = "I" if not turns or max(t.end for t in turns) < 2**32 else "q"  # 4 bytes a bound: 7 MB less at 5,000
        return cls(array(wide, (t.start for t in turns)), array(wide, (t.end for t in turns)), who, tuple(labels))

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


@contextmanager
def kept_layouts(ws: Workspace) -> Iterator[None]:
    """Inside the block, :func:`keep_layout` keeps the layout of each transcript read for the block's
    later steps (:func:`layout_of`); they are let go when it ends. Only for a workspace that reads the
    files as they are (not a redacted view, whose text and offsets differ)."""
    if not ws.reads_files_as_they_are or ws.__dict__.get(_MEMO) is not None:
        yield
        return
    ws.__dict__[_MEMO] = {}
    try:
        yield
    finally:
        ws.__dict__.pop(_MEMO, None)


def keep_layout(ws: Workspace, transcript: Any) -> None:
    """Keep ``transcript``'s layout inside :func:`kept_layouts` (else nothing), with the state of its
    file and of the settings its parse depends on."""
    memo = ws.__dict__.get(_MEMO)
    path = getattr(transcript, "path", None)
    if memo is None or path is None:
        return
    now, stamp = held(ws, path)
    if now is transcript and stamp is not None:  # read from the file as it is now
        memo[path] = (stamp, ws.config, ws.participant_table, TurnLayout.of(transcript))


def layout_of(ws: Workspace, path: Path) -> TurnLayout:
    """The layout of the transcript at ``path``: the one kept while its file and settings are
    unchanged, else from the transcript this command holds or reads."""
    memo = ws.__dict__.get(_MEMO)
    hit = memo.get(path) if memo is not None else None
    if hit is not None:
        now, stamp = held(ws, path)
        if hit[0] == stamp and hit[1] is ws.config and hit[2] is ws.participant_table:
            return hit[3]
        if now is not None:
            return TurnLayout.of(now)
    return TurnLayout.of(ws.read(path))
