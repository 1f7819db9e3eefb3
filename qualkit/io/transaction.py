"""Several files changed as one: all new, or all old, whatever moment a process is killed.

A change that touches several files (a codebook rename rewrites the codebook and every codings
file) is written in three steps:

1. every new file is staged in ``.qualkit/transaction/`` (fsync'ed), each old one backed up;
2. a journal listing them is written atomically: from this moment the change is decided;
3. each staged file replaces its target (one rename each), then the journal is removed.

A kill before step 2 leaves the old files and a staging folder, which :func:`recover` deletes
(roll back); a kill during step 3 leaves the journal, which :func:`recover` completes (roll
forward). Callers hold the workspace lock (:func:`qualkit.io.jsonlog.locked`) throughout, and so
does :func:`recover`, which every command opening the workspace runs first.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from qualkit.errors import QualkitError
from qualkit.io.atomic import atomic_write_text, backup, fsync_dir

__all__ = ["STAGING", "Transaction", "pending", "recover"]

STAGING = Path(".qualkit") / "transaction"
_JOURNAL = "journal.json"


def pending(root: str | Path) -> bool:
    """Whether an interrupted change waits to be completed or rolled back."""
    return (Path(root) / STAGING).exists()


def recover(root: str | Path) -> str | None:
    """Complete (journal written) or roll back (no journal) an interrupted change; what was done."""
    root = Path(root)
    folder = root / STAGING
    if not folder.exists():
        return None
    journal = folder / _JOURNAL
    done = None
    if journal.is_file():
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QualkitError(f"an interrupted change cannot be completed ({exc}); restore the files named "
                               "in it from .qualkit/backups", journal) from None
        for entry in entries:
            staged, target = folder / entry["staged"], root / entry["path"]
            if staged.exists():
                os.replace(staged, target)
        fsync_dir(root)
        done = f"completed an interrupted change to {len(entries)} file(s)"
    else:
        done = "rolled back an interrupted change (no file had been replaced)"
    shutil.rmtree(folder, ignore_errors=True)
    return done


class Transaction:
    """Files to replace together under ``root``: :meth:`add` each, then :meth:`commit` once."""

    def __init__(self, root: str | Path, backup_dir: str | Path | None = None) -> None:
        self.root = Path(root)
        self.backup_dir = Path(backup_dir) if backup_dir is not None else self.root / ".qualkit" / "backups"
        self.files: dict[Path, bytes] = {}
        self.no_backup: set[Path] = set()

    def add(self, path: str | Path, content: str | bytes, *, backup: bool = True) -> None:
        """Replace ``path`` (inside ``root``) with ``content`` (text is written as UTF-8) on commit.

        ``backup=False`` for a file whose old content the new one keeps (an append-only log grown by
        a few lines): a copy of it in ``.qualkit/backups`` on every run would only pile up."""
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        self.files[path] = content.encode("utf-8") if isinstance(content, str) else content
        if not backup:
            self.no_backup.add(path)

    def commit(self) -> tuple[list[Path], list[Path]]:
        """Stage, journal, replace; returns the files written and the backups made."""
        recover(self.root)
        folder = self.root / STAGING
        folder.mkdir(parents=True, exist_ok=True)
        entries, backups = [], []
        try:
            for n, (path, data) in enumerate(self.files.items()):
                staged = folder / f"{n}.new"
                with open(staged, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                _copy_mode(path, staged)
                saved = None if path in self.no_backup else backup(path, self.backup_dir)
                if saved is not None:
                    backups.append(saved)
                entries.append({"path": path.relative_to(self.root).as_posix(), "staged": staged.name})
            fsync_dir(folder)
            atomic_write_text(folder / _JOURNAL, json.dumps({"files": entries}, indent=1) + "\n")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        recover(self.root)
        return list(self.files), backups


def _copy_mode(path: Path, staged: Path) -> None:
    try:
        os.chmod(staged, path.stat().st_mode & 0o7777)
    except OSError:
        pass
