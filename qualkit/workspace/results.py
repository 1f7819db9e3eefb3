"""Finished results of a whole-study command, kept in .qualkit/cache/results.sqlite.

A second ``qualkit run`` on a study where nothing changed rewrites the files the first run wrote
(byte for byte: the same bytes, manifests and report footer included) and prints the same steps,
without parsing or computing anything again. A result is keyed by everything it was made from:

* every file of the workspace (path, mtime, size, inode), except exports/, .git/ and .qualkit/'s
  cache, backups, lock files and ledger of written files, so an edited, added, removed or touched file is a miss;
* qualkit's own code and data (each file's mtime and size) and the versions of the libraries that
  write the files (pandas, openpyxl, python-docx, ...) and of Python;
* the command's parameters and the QUALKIT_* environment variables.

The store is derived and rebuildable (delete the folder at any time), git-ignored (.qualkit/), safe
under concurrent readers and writers (SQLite in WAL mode, each result written in one transaction;
a busy, unwritable or corrupt database is a miss, never an error), and holds JSON and file bytes,
never pickles. Only the newest result of each command is kept.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qualkit.workspace.cache import CACHE_DIR, CacheStore

__all__ = ["RESULTS_NAME", "ResultCache", "code_stamp", "workspace_stamp"]

RESULTS_NAME = "results.sqlite"
_SCHEMA = 1
_CHUNK = 8 << 20  # files are stored in 8 MiB pieces: restoring one never holds a whole large file
_TABLES = ("CREATE TABLE IF NOT EXISTS results (command TEXT PRIMARY KEY, key TEXT NOT NULL, meta TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS pieces (command TEXT NOT NULL, path TEXT NOT NULL, seq INTEGER NOT NULL, "
           "data BLOB NOT NULL, PRIMARY KEY (command, path, seq))")
_SKIP_TOP = {"exports", ".git"}
_ZIPPED = {".xlsx", ".docx", ".zip", ".qdpx", ".odt"}  # stored without compressing them again
_SKIP_STATE = {"cache", "backups"}
_LIBRARIES = ("pandas", "numpy", "openpyxl", "python-docx", "jinja2", "lxml", "pyyaml", "pydantic", "rapidfuzz",
              "click", "spacy", "XlsxWriter")


def _walk(folder: Path, rel: str, skip: set[str], out: list[tuple[str, int, int, int]]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name in skip or entry.name == "__pycache__":
            continue
        name = f"{rel}/{entry.name}" if rel else entry.name
        try:
            if entry.is_dir():
                _walk(Path(entry.path), name, _SKIP_STATE if name == ".qualkit" else set(), out)
                continue
            st = entry.stat()  # follows links: a linked transcript is stamped by its target
        except OSError:
            continue
        if name.startswith(".qualkit/") and (name.startswith(".qualkit/state") or name.endswith(".lock")
                                             or name.startswith(".qualkit/outputs.json")):
            continue  # locks (taken by every command) and the ledger of the files qualkit wrote
        out.append((name, st.st_mtime_ns, st.st_size, st.st_ino))


def workspace_stamp(root: Path) -> list[tuple[str, int, int, int]]:
    """(path, mtime, size, inode) of every file a command may read in workspace ``root``."""
    out: list[tuple[str, int, int, int]] = []
    _walk(Path(root), "", _SKIP_TOP, out)
    return out


_CODE_STAMP: list[Any] = []


def code_stamp() -> list[Any]:
    """qualkit's files and the libraries' versions, once per process: new code, new results."""
    if not _CODE_STAMP:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        import qualkit

        files: list[tuple[str, int, int, int]] = []
        _walk(Path(qualkit.__file__).parent, "", set(), files)
        libs: list[tuple[str, str | None]] = []
        for name in _LIBRARIES:
            try:
                libs.append((name, version(name)))
            except PackageNotFoundError:
                libs.append((name, None))
        _CODE_STAMP.extend([_SCHEMA, platform.python_version(), libs, [f[:3] for f in files]])
    return _CODE_STAMP


class ResultCache(CacheStore):
    """The newest finished result of each command on this workspace; any failure reads as a miss."""

    def __init__(self, root: Path):
        self.root = Path(root)
        super().__init__(self.root / CACHE_DIR / RESULTS_NAME, _TABLES)

    def key(self, command: str, parameters: Any) -> str:
        """What a result of ``command`` with ``parameters`` depends on, hashed (see the module's text)."""
        env = sorted((k, v) for k, v in os.environ.items() if k.startswith("QUALKIT_"))
        raw = json.dumps([command, parameters, env, code_stamp(), workspace_stamp(self.root)], default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, command: str, key: str) -> dict[str, Any] | None:
        """The result's record (what ``put`` was given) when ``key`` is the stored one, else None."""
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT meta FROM results WHERE command = ? AND key = ?", (command, key)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def restore(self, command: str, record: dict[str, Any]) -> bool:
        """Write the result's files back where they were, each as any export is written (atomically,
        a file qualkit did not write backed up first); False if a stored copy is missing or damaged."""
        from qualkit.io.outputs import output_open

        db = self._connect()
        if db is None:
            return False
        try:
            db.execute("BEGIN")  # one snapshot: a writer replacing this result meanwhile is not seen half-way
            try:
                for rel, digest in record["files"]:
                    h = hashlib.sha256()
                    with output_open(self.root / rel, "wb", encoding=None, root=self.root) as f:
                        for piece in self._pieces(db, command, rel):
                            h.update(piece)
                            f.write(piece)
                        if h.hexdigest() != digest:
                            raise ValueError(f"{rel}: stored copy does not match")
            finally:
                db.execute("COMMIT")
        except (sqlite3.Error, OSError, ValueError, zlib.error):
            return False
        return True

    @staticmethod
    def _pieces(db: sqlite3.Connection, command: str, rel: str) -> Iterator[bytes]:
        rows = db.execute("SELECT data FROM pieces WHERE command = ? AND path = ? ORDER BY seq", (command, rel))
        for (blob,) in rows:
            yield zlib.decompress(blob)

    def put(self, command: str, key: str, record: dict[str, Any], files: Iterable[Path]) -> None:
        """Keep ``record`` and the bytes of ``files`` (in the workspace) as ``command``'s newest result."""
        db = self._connect()
        if db is None:
            return
        try:
            stored = []
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM pieces WHERE command = ?", (command,))
                db.execute("DELETE FROM results WHERE command = ?", (command,))
                for path in dict.fromkeys(Path(p) for p in files):
                    rel = path.resolve().relative_to(self.root.resolve()).as_posix()
                    h = hashlib.sha256()
                    level = 0 if path.suffix.lower() in _ZIPPED else 1  # a zip inside does not shrink again
                    with open(path, "rb") as f:
                        for seq, block in enumerate(iter(lambda: f.read(_CHUNK), b"")):
                            h.update(block)
                            db.execute("INSERT INTO pieces VALUES (?, ?, ?, ?)", (command, rel, seq, zlib.compress(block, level)))
                    stored.append([rel, h.hexdigest()])
                db.execute("INSERT INTO results VALUES (?, ?, ?)", (command, key, json.dumps({**record, "files": stored})))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError, ValueError):
            return
