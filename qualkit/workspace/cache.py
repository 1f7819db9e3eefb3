"""A derived on-disk cache of parsed transcripts: .qualkit/cache/transcripts.sqlite.

A second command on an unchanged study reads each transcript's parsed text and turns from here
instead of decoding and segmenting the file again. Every entry is keyed by what the parse depends
on: the file (path, mtime, size), the workspace's speaker rules and qualkit's version, so an edited
file or changed setting is simply a miss. The cache is rebuildable (delete the folder at any time),
git-ignored (.qualkit/), safe under concurrent readers and writers (SQLite in WAL mode; a busy or
unwritable database is a miss, never an error), and holds JSON, never pickles.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import fields
from pathlib import Path
from typing import Any

from qualkit.transcripts.model import Transcript, Turn

__all__ = ["CACHE_DIR", "TranscriptCache"]

CACHE_DIR = Path(".qualkit") / "cache"
_SCHEMA = 1  # bump when the stored form or the parser's output changes without a version bump


class TranscriptCache:
    """Parsed transcripts by key; every failure (locked, read-only, corrupt) reads as a miss."""

    def __init__(self, root: Path):
        self.path = Path(root) / CACHE_DIR / "transcripts.sqlite"
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a derived cache: losing the last entries costs a re-parse
                db.execute("CREATE TABLE IF NOT EXISTS transcripts (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
                self._db = db
                return db
            except sqlite3.DatabaseError as exc:
                if attempt == 1 and "not a database" in str(exc):  # overwritten or truncated: start afresh
                    for f in (self.path, *self.path.parent.glob(self.path.name + "-*")):
                        f.unlink(missing_ok=True)
                    continue
                break
            except (sqlite3.Error, OSError):
                break
        self._broken = True
        return None

    @staticmethod
    def key(path: Path, stamp: tuple, settings: Any) -> str:
        """What a parse depends on, hashed: the file's path and state, the reader settings, and the
        parser itself (qualkit's version and the state of its reader modules' source files)."""
        from qualkit import __version__

        raw = json.dumps([_SCHEMA, __version__, _parser_stamp(), str(Path(path).resolve()), list(stamp), settings],
                         default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Transcript | None:
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT data FROM transcripts WHERE key = ?", (key,)).fetchone()
            return _decode(row[0]) if row else None
        except (sqlite3.Error, ValueError, KeyError, TypeError, zlib.error):
            return None

    def put(self, key: str, transcript: Transcript) -> None:
        db = self._connect()
        if db is None:
            return
        try:
            db.execute("INSERT OR REPLACE INTO transcripts (key, data) VALUES (?, ?)", (key, _encode(transcript)))
        except sqlite3.Error:
            pass


_PARSER_STAMP: list[Any] = []


def _parser_stamp() -> list[Any]:
    """(name, mtime, size) of the reader's source files, once per process: an edited parser is a miss."""
    if not _PARSER_STAMP:
        import qualkit.io.textdecode as textdecode
        import qualkit.transcripts as transcripts

        files = sorted(Path(transcripts.__file__).parent.glob("*.py")) + [Path(textdecode.__file__)]
        for f in files:
            st = f.stat()
            _PARSER_STAMP.append([f.name, st.st_mtime_ns, st.st_size])
    return _PARSER_STAMP


def _encode(t: Transcript) -> bytes:
    record = {f.name: getattr(t, f.name) for f in fields(Transcript)}
    record["turns"] = [[getattr(u, f.name) for f in fields(Turn)] for u in t.turns]
    record["path"] = str(t.path) if t.path is not None else None
    counted = t.__dict__.get("_word_count")  # kept with the parse: the next command need not count again
    record["word_count"] = counted[1] if counted is not None else None
    return zlib.compress(json.dumps(record, ensure_ascii=False).encode("utf-8"), 1)


def _decode(blob: bytes) -> Transcript:
    record = json.loads(zlib.decompress(blob).decode("utf-8"))
    record["turns"] = [Turn(*u) for u in record["turns"]]
    record["path"] = Path(record["path"]) if record["path"] is not None else None
    words = record.pop("word_count", None)
    t = Transcript(**record)
    if words is not None:
        t.__dict__["_word_count"] = ((t.text, tuple((u.start, u.end) for u in t.turns)), words)
    return t
