"""The coding-session journal: every action of `qualkit code`, fsync'ed before it is confirmed.

``.qualkit/sessions/<coder>__<transcript>.jsonl`` is an append-only :class:`~qualkit.io.jsonlog.JsonLog`
(one JSON object per line, flushed and fsync'ed before ``append`` returns; a partial last line
left by a crash is dropped). A change to the codings is journaled as exact assignments,
``{"key": [transcript, start, end, code], "before": row|null, "after": row|null}``, so applying
the journal, or any suffix of it again, gives the same codings (:func:`apply_changes`).

One session per coder and transcript holds the journal at a time (a cross-platform lock), and
every rewrite of ``codings/<coder>.csv`` happens under the coder's lock (:func:`coder_lock`).
"""
from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError, SessionError
from qualkit.io.jsonlog import JsonLog, LockedError, locked
from qualkit.workspace.codings import Coding

__all__ = ["CODER_LOCK_TIMEOUT", "JOURNAL_VERSION", "SESSIONS_DIR", "Journal", "apply_changes", "coder_lock",
           "coding_row", "journal_path", "row_coding"]

JOURNAL_VERSION = 1
SESSIONS_DIR = Path(".qualkit") / "sessions"
CODER_LOCK_TIMEOUT = 60.0  # seconds another writer of codings/<coder>.csv may hold it


def journal_path(root: str | Path, coder: str, transcript_id: str) -> Path:
    """``.qualkit/sessions/<coder>__<transcript>.jsonl`` of a workspace."""
    return Path(root) / SESSIONS_DIR / f"{coder}__{transcript_id}.jsonl"


def coder_lock(root: str | Path, coder: str) -> AbstractContextManager[None]:
    """The lock every rewrite of ``codings/<coder>.csv`` by a session takes: the workspace's one lock
    (``.qualkit/state.lock``), which imports, edits and reconcile take too."""
    from qualkit.workspace.store import STATE_LOCK

    return locked(Path(root) / STATE_LOCK, timeout=CODER_LOCK_TIMEOUT, what=f"codings/{coder}.csv")


def coding_row(c: Coding) -> dict[str, Any]:
    """A coding as the journal stores it."""
    return {"transcript": c.transcript, "start": int(c.start), "end": int(c.end), "code": c.code,
            "text": c.text, "memo": c.memo, "coded_at": c.coded_at,
            **({"transcript_hash": c.transcript_hash} if c.transcript_hash else {})}


def row_coding(row: dict[str, Any]) -> Coding:
    """A journal row back as a coding."""
    return Coding(row["transcript"], int(row["start"]), int(row["end"]), row["code"], row.get("text", ""),
                  row.get("memo", ""), row.get("coded_at", ""), row.get("transcript_hash", ""))


def apply_changes(codings: list[Coding], changes: list[dict[str, Any]]) -> list[Coding]:
    """Apply journaled assignments (key -> after row, None = absent) to a list of codings, in order."""
    out = list(codings)
    for ch in changes:
        key = tuple(ch["key"])
        hits = [i for i, c in enumerate(out) if c.key == key]
        after = ch.get("after")
        if after is None:
            out = [c for i, c in enumerate(out) if i not in hits]
        elif hits:
            out[hits[0]] = row_coding(after)
            out = [c for i, c in enumerate(out) if i not in hits[1:]]
        else:
            out.append(row_coding(after))
    return out


class Journal:
    """A session's journal, held (locked) by that session until :meth:`close`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._log = JsonLog(self.path, what="session journal")
        self._held = ExitStack()
        try:
            # the session lock is not the JsonLog's own per-append lock (a sibling file of its own)
            self._held.enter_context(locked(self.path.with_suffix(".session"), timeout=0, reentrant=False))
        except LockedError:
            raise SessionError("another `qualkit code` session is using this journal; finish it first",
                               self.path) from None
        self.dropped_partial = False

    def load(self) -> list[dict[str, Any]]:
        """Every record; a partial last line (a crash mid-write, never confirmed) is left out."""
        try:
            records = self._log.read()
        except QualkitError as exc:
            raise SessionError("unreadable journal line; move the file aside to start afresh",
                               self.path, exc.line) from None
        self.dropped_partial = self._log.dropped_partial
        for rec in records:
            if "type" not in rec:
                raise SessionError("unreadable journal line (not a journal record); move the file aside to "
                                   "start afresh", self.path)
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Append one record, fsync'ed before returning (a partial last line is cut off first)."""
        self._log.append([record])

    def close(self) -> None:
        """Let another session open this journal."""
        self._held.close()
