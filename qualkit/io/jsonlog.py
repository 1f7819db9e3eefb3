"""Append-only JSON-lines files (the reconciliation audit log, coding-session journals) and the
one cross-platform lock every read-modify-write of workspace state takes.

Each appended batch is flushed and fsync'ed before ``append`` returns; a partial last line (a
crash mid-write) is left out on read and reported through ``dropped_partial``. Locks are
``filelock`` locks on a sibling ``.lock`` file, so they work on Windows as on POSIX (the
``fcntl`` locks they replace were no-ops on Windows).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError
from qualkit.io.atomic import fsync_dir

__all__ = ["DEFAULT_LOCK_TIMEOUT", "JsonLog", "LockedError", "encode_record", "locked"]

DEFAULT_LOCK_TIMEOUT = 5.0


class LockedError(QualkitError):
    """Another qualkit process holds the lock on this file."""


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


# Locks this thread already holds (lock file -> depth): taking one again nests instead of waiting
# for itself, so a command that holds the workspace lock can call helpers that take it too.
_HELD: dict[tuple[int, str], int] = {}


@contextmanager
def locked(path: str | Path, timeout: float = DEFAULT_LOCK_TIMEOUT, what: str = "this file",
           reentrant: bool = True) -> Iterator[None]:
    """Hold the cross-platform lock of ``path`` (waiting up to ``timeout`` seconds).

    A second writer waits, then fails with a clear message naming the file; nothing is lost.
    ``reentrant``: the same thread may take it again (nested); False for a lock that says "only
    one of these at a time", such as one coding session per transcript."""
    import threading

    from filelock import FileLock, Timeout

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = (threading.get_ident(), str(_lock_path(path).resolve()))
    if reentrant and key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    lock = FileLock(str(_lock_path(path)), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(f"another qualkit command is writing {what}; wait for it to finish and try again",
                          path) from None
    if reentrant:
        _HELD[key] = 0
    try:
        yield
    finally:
        if reentrant:
            del _HELD[key]
        lock.release()


def encode_record(record: dict[str, Any]) -> bytes:
    """One record as one line: compact separators, keys in the record's own order (as qualkit's logs
    and journals have always been written, so older files and newer lines look the same)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class JsonLog:
    """An append-only JSON-lines file: records are dicts, one per line, never rewritten."""

    def __init__(self, path: str | Path, what: str = "log"):
        self.path = Path(path)
        self.what = what
        self.dropped_partial = False

    def read(self) -> list[dict[str, Any]]:
        """Every record; a partial last line is left out (``dropped_partial``), a corrupt one is an error."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        self.dropped_partial = bool(data) and not data.endswith(b"\n")
        if self.dropped_partial:
            data = data[: data.rfind(b"\n") + 1]
        out: list[dict[str, Any]] = []
        for n, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise QualkitError(f"unreadable {self.what} line ({type(exc).__name__}); it is append-only: "
                                   "restore it from version control", self.path, n) from None
            if isinstance(record, dict):
                out.append(record)
        return out

    def appended(self, records: Iterable[dict[str, Any]]) -> bytes:
        """The whole file as it would be after :meth:`append` (a partial last line cut off): for a
        caller that replaces the log together with other files in one transaction, holding the
        log's lock (:func:`locked` on ``self.path``) from this read until the replacement."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        return data[: data.rfind(b"\n") + 1] + b"".join(encode_record(r) for r in records)

    def append(self, records: Iterable[dict[str, Any]], timeout: float = DEFAULT_LOCK_TIMEOUT) -> int:
        """Append records under the file's lock, fsync'ed before returning; the number written.

        A partial last line left by a crash is cut off first, so the new records start on a line."""
        payload = b"".join(encode_record(r) for r in records)
        if not payload:
            return 0
        with locked(self.path, timeout, what=f"the {self.what}"):
            created = not self.path.exists()
            with open(self.path, "ab+") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                if size:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        f.seek(0)
                        keep = f.read().rfind(b"\n") + 1
                        f.truncate(keep)
                f.seek(0, os.SEEK_END)
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            if created:
                fsync_dir(self.path.parent)
        return payload.count(b"\n")
