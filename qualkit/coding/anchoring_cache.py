"""Which coders' files were last found in place: .qualkit/cache/anchoring.sqlite.

Every command that reads codings checks that each coding still sits on its quote in the current
transcript (:mod:`qualkit.coding.anchoring`), which means reading every coded transcript once per
coder. When a coder's file and every transcript are exactly as they were the last time all of that
coder's codings were found in place, the answer is the same, so it is kept here and the next command
skips the check: it reads no transcript for it, and reads no file at all for the coders it only checks
so that a notice can name every coder. A verdict is keyed by the state (path, mtime, size, inode) of
the coder's file, of every transcript, of qualkit.yaml and participants.csv (a transcript's text
depends on the settings it was read with), and by qualkit's own code; anything else is a miss and
the check runs as before. Only clean verdicts are kept (nothing moved, nothing lost): a changed
transcript always gets its notices. Derived and rebuildable like the rest of .qualkit/cache/: a busy,
unwritable or damaged store is a miss, never an error.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qualkit.workspace.cache import CACHE_DIR, CacheStore
from qualkit.workspace.results import code_stamp

__all__ = ["AnchoringVerdicts", "file_state"]

_SCHEMA = 1
_TABLES = ("CREATE TABLE IF NOT EXISTS clean (coder TEXT PRIMARY KEY, key TEXT NOT NULL, verdict TEXT NOT NULL)",)


def file_state(path: Path) -> tuple[int, int, int] | None:
    """(mtime in ns, size, inode) of ``path``; None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class AnchoringVerdicts(CacheStore):
    """Clean anchoring verdicts of one workspace, one per coder (the newest); failures read as misses."""

    def __init__(self, root: Path, settings: Iterable[Path]):
        self.root = Path(root)
        super().__init__(self.root / CACHE_DIR / "anchoring.sqlite", _TABLES)
        self._settings = [(p.name, file_state(p)) for p in settings]

    def key(self, coder: str, stamp: Any) -> str:
        """What a verdict on ``coder`` depends on, hashed: ``stamp`` (the coder's file and the
        transcripts, as :func:`qualkit.coding.anchoring` takes them), the settings files and the code."""
        raw = json.dumps([_SCHEMA, coder, stamp, self._settings, code_stamp()], default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def clean(self, coder: str, key: str) -> dict[str, Any] | None:
        """``coder``'s clean verdict under ``key``: ``changed``, the transcripts whose hash changed while
        every coding stayed in place, and ``read_back``, transcript -> the hash of the text its quotes
        were all found in; None when there is no such verdict."""
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT verdict FROM clean WHERE coder = ? AND key = ?", (coder, key)).fetchone()
            verdict = json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None
        if not (isinstance(verdict, dict) and isinstance(verdict.get("changed"), list)
                and isinstance(verdict.get("read_back"), dict)):
            return None
        return {"changed": [str(t) for t in verdict["changed"]],
                "read_back": {str(t): str(h) for t, h in verdict["read_back"].items()}}

    def record(self, coder: str, key: str, changed: Iterable[str], read_back: dict[str, str]) -> None:
        """Keep that every coding of ``coder`` was found in place under ``key`` (see :meth:`clean`)."""
        db = self._connect()
        if db is None:
            return
        try:
            verdict = json.dumps({"changed": sorted(changed), "read_back": read_back}, sort_keys=True)
            db.execute("INSERT OR REPLACE INTO clean VALUES (?, ?, ?)", (coder, key, verdict))
        except sqlite3.Error:
            return
