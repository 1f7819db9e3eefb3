"""Coverage made explicit: which transcripts each coder has finished, and how far they got in the others.

A coder marks a transcript done (``qualkit codings done``, the end of ``qualkit code``, an import
with ``--done``); the marks live beside the coder's codings in ``codings/<coder>.done`` (a CSV of
``transcript, done_at``), so they travel with the coder's file. Agreement counts only transcripts
every compared coder has done: a coder who coded two turns of a transcript has not coded it.

A coder with no ``.done`` file at all (a study from before marks existed) is taken to have done
every transcript they coded, as qualkit always assumed; ``qualkit status`` says so.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import CodingError
from qualkit.io.jsonlog import locked
from qualkit.io.naming import natural_key, plural_s
from qualkit.io.transaction import current_bytes
from qualkit.workspace.codings import now_iso

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["DONE_SUFFIX", "Progress", "coverage_counts", "done_csv", "done_path", "done_transcripts", "mark_done", "participant_units", "partly_coded",
           "progress", "read_done"]

DONE_SUFFIX = ".done"


def done_path(ws: Workspace, coder: str) -> Path:
    """codings/<coder>.done for a coder (the name is checked as coder file names are)."""
    return ws.coder_file(coder).with_suffix(DONE_SUFFIX)


def read_done(path: Path, text: str | None = None) -> dict[str, str]:
    """transcript id -> when it was marked done (from ``text`` when given: what a command staged);
    a malformed row names the file and line."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return {}
    out: dict[str, str] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        if not row or not row[0].strip() or (reader.line_num == 1 and row[0].strip() == "transcript"):
            continue
        if len(row) > 2:
            raise CodingError("expected two columns: transcript, done_at", path, reader.line_num)
        out[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
    return out


def done_transcripts(ws: Workspace, coder: str) -> set[str] | None:
    """The transcripts ``coder`` marked done; None when the coder never marked any (no .done file)."""
    path = done_path(ws, coder)
    return set(read_done(path)) if path.exists() else None


def mark_done(ws: Workspace, transcript: str, coder: str, done: bool = True) -> bool:
    """Mark (or with ``done=False`` unmark) a transcript done for a coder; True if the file changed."""
    tid = ws.transcript(transcript).id  # an unknown transcript is an error naming the known ones
    path = done_path(ws, coder)
    with locked(path, what=f"codings/{path.name}"):
        staged = current_bytes(ws.root, path)  # inside one_change: what this command already marked
        marks = read_done(path, None if staged is None else staged.decode("utf-8-sig"))
        if done == (tid in marks) and staged is not None:
            return False
        if done:
            marks[tid] = now_iso()
        else:
            marks.pop(tid, None)
        ws.replace_file(path, done_csv(marks), keep_backup=False)
    return True


def done_csv(marks: dict[str, str]) -> str:
    """The text of a ``.done`` file holding ``marks`` (transcript -> done_at), in transcript order;
    the one writer, so that a file written by an import is byte for byte the one ``mark_done`` writes."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["transcript", "done_at"])
    for t in sorted(marks, key=natural_key):
        w.writerow([t, marks[t]])
    return buf.getvalue()


@dataclass(frozen=True)
class Progress:
    """How much of a transcript a coder coded: turns with a coding / turns outside the team's."""

    coded: int
    total: int

    def __str__(self) -> str:
        return f"{self.coded}/{self.total} turn{plural_s(self.total)} coded"


def progress(ws: Workspace, coder: str, transcripts: list[str] | None = None,
             codings: list | None = None) -> dict[str, Progress]:
    """Per transcript the coder has codings in (or ``transcripts``): turns coded / participant turns.

    Interviewer and moderator turns are not counted in the total (codings there are reported apart)."""
    codings = ws.codings(coder) if codings is None else codings
    ids = transcripts if transcripts is not None else {c.transcript for c in codings}
    return coverage_counts(ws, {coder: codings}, ids)[0][coder]


def coverage_counts(ws: Workspace, codings: dict[str, list],
                    transcripts: Iterable[str]) -> tuple[dict[str, dict[str, Progress]], dict[str, int]]:
    """Per coder (``codings``: coder -> codings), the :func:`progress` of each readable transcript among
    ``transcripts`` (natural order), and how many of the coder's codings there touch no participant
    turn (only interviewer/moderator words). Each transcript is read once for every coder, one at a
    time: a study's transcripts are never held together. A missing, duplicated or unreadable one is
    left out."""
    from array import array

    from qualkit.coding.turn_layouts import keep_layout
    from qualkit.coding.units import coded_units
    from qualkit.io.progress import track
    from qualkit.workspace.ingest import id_reader

    # coder -> transcript -> the indices of the coder's codings there, 4 bytes each: a (start, end, i)
    # tuple per coding, held through the pass, was some 60 MB of status's peak at 5,000 interviews
    spans: dict[str, dict[str, array]] = {}
    for coder, cs in codings.items():
        mine = spans[coder] = {}
        for i, c in enumerate(cs):
            at = mine.get(c.transcript)
            if at is None:
                at = mine[c.transcript] = array("I")
            at.append(i)
    found: dict[str, dict[str, Progress]] = {coder: {} for coder in codings}
    outside = dict.fromkeys(codings, 0)
    read = id_reader(ws, ws.read)[0]
    for tid in track(sorted(set(transcripts)), "Reading transcripts"):
        transcript = read(tid)  # once (its text was read first, then the whole of it)
        if transcript is None:
            continue
        keep_layout(ws, transcript)  # for a later step that needs its turns' bounds only (status's themes check)
        units = participant_units(ws, transcript)
        for coder, mine in spans.items():
            cs = codings[coder]
            here = [(cs[i].start, cs[i].end, i) for i in mine.get(tid, ())]  # this transcript's only
            touched = coded_units(units, here) if here else [set() for _ in units]
            found[coder][tid] = Progress(sum(1 for s in touched if s), len(units))
            outside[coder] += len(here) - len(set().union(*touched))
    order = sorted({tid for per in found.values() for tid in per}, key=natural_key)
    return {coder: {tid: per[tid] for tid in order if tid in per} for coder, per in found.items()}, outside


def participant_units(ws: Workspace, transcript: Any) -> list[Any]:
    """The transcript's turn units without the research team's turns: what coverage counts.
    Kept for the command while this parse of the transcript is in memory, since every coder asks
    (held by a weak reference: keeping every parse alive held a large study's text twice over)."""
    import weakref

    from qualkit.coding.units import turn_units

    memo: dict[str, tuple[Any, Any, list[Any]]] = ws.__dict__.setdefault("_participant_units", {})
    table = ws.participant_table
    hit = memo.get(transcript.id)
    if hit is not None and hit[0]() is transcript and hit[1] is table:
        return hit[2]
    units = [u for u in turn_units(transcript)
             if u.turn is None or not table.is_facilitator(transcript.turns[u.turn].participant)]

    def gone(ref: Any, tid: str = transcript.id) -> None:
        if memo.get(tid, (None,))[0] is ref:
            del memo[tid]

    memo[transcript.id] = (weakref.ref(transcript, gone), table, units)
    return units


def partly_coded(ws: Workspace, coders: list[str]) -> str | None:
    """One warning naming the transcripts some of ``coders`` coded without marking them done, with
    their progress ("int2 (ana: 1/14 turns coded)"); None when there are none. Coders who never
    mark transcripts done are not asked."""
    parts = []
    for coder in coders:
        marks = done_transcripts(ws, coder)
        if marks is None:
            continue
        codings = ws.codings(coder)
        open_ids = sorted({c.transcript for c in codings} - marks, key=natural_key)
        for tid, p in progress(ws, coder, open_ids, codings).items():
            parts.append(f"{tid} ({coder}: {p})")
    if not parts:
        return None
    return f"partly coded (not marked done), so these excerpts are incomplete: {', '.join(parts)}"
