"""`qualkit deid review`: the undecided spans one by one, in context. Every answer is written to
deid.csv at once (atomically), so quitting or a crash loses nothing and the next run resumes at the
first undecided span. No terminal I/O here; the CLI asks."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qualkit.deid.table import DEID_CSV, DeidRow, read_table, write_table
from qualkit.errors import DeidError
from qualkit.io.jsonlog import locked
from qualkit.workspace.store import Workspace

__all__ = ["ReviewItem", "answer", "review_queue"]


@dataclass
class ReviewItem:
    """One undecided span with the words around it, and how many more share its text."""

    row: DeidRow
    before: str
    after: str
    same_text: int


def review_queue(ws: Workspace, kind: str | None = None, transcript: str | None = None,
                 context: int = 70) -> Iterator[ReviewItem]:
    """Undecided rows in file order, re-read before each so decisions made meanwhile are skipped."""
    texts: dict[str, str] = {}
    done: set[str] = set()
    while True:
        table = read_table(ws.root / DEID_CSV)
        row = next((r for r in table.rows if not r.decision and r.id not in done
                    and (kind is None or r.kind == kind) and (transcript is None or r.transcript == transcript)), None)
        if row is None:
            return
        done.add(row.id)
        if row.transcript not in texts:
            texts[row.transcript] = ws.transcript(row.transcript).text
        text = texts[row.transcript]
        same = sum(1 for r in table.rows if not r.decision and r.text == row.text and r.kind == row.kind)
        before, after = text[max(0, row.start - context):row.start], text[row.end:row.end + context]
        yield ReviewItem(row, " ".join(before.split()) + (" " if before[-1:].isspace() else ""),
                         (" " if after[:1].isspace() else "") + " ".join(after.split()), same)


def answer(ws: Workspace, row_id: str, decision: str, *, replacement: str | None = None,
           same_text: bool = False) -> int:
    """Decide one row (and, with ``same_text``, every undecided row with its text and kind);
    a new ``replacement`` goes to every row of that entity. Returns the rows changed."""
    if decision not in ("accept", "reject"):
        raise DeidError(f"decision {decision!r} must be accept or reject")
    path = ws.root / DEID_CSV
    with locked(path, what="deid.csv"):
        table = read_table(path)
        target = table.by_id().get(row_id)
        if target is None:
            raise DeidError(f"no span with id {row_id!r}", path)
        changed, old = 0, target.replacement
        for r in table.rows:
            same = r.text == target.text and r.kind == target.kind
            if r is target or (same_text and same and not r.decision):
                r.decision = decision
                changed += 1
            if replacement is not None and (r is target or (same and r.replacement == old)):
                r.replacement = replacement
        write_table(table, ws.backup_dir)
    return changed
