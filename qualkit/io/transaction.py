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
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from qualkit.errors import QualkitError
from qualkit.io.atomic import atomic_write_text, backup, fsync_dir
from qualkit.io.naming import plural_s

__all__ = ["STAGING", "Transaction", "active", "current_bytes", "gathered", "pending", "recover", "write_file"]

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
        done = f"completed an interrupted change to {len(entries)} file{plural_s(len(entries))}"
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


# -- gathering a command's writes into one transaction -------------------------------------------

_ACTIVE: dict[tuple[int, Path], Transaction] = {}


def _key(root: str | Path) -> tuple[int, Path]:
    import threading

    return threading.get_ident(), Path(root).resolve()


def active(root: str | Path) -> Transaction | None:
    """The transaction this thread is gathering for ``root`` (inside :func:`gathered`), if any."""
    return _ACTIVE.get(_key(root))


@contextmanager
def gathered(root: str | Path, backup_dir: str | Path, lock: AbstractContextManager[object]) -> Iterator[Transaction]:
    """Hold ``lock``; every file written through :func:`write_file` for ``root`` inside is staged,
    and all are replaced together (one :class:`Transaction`) when the block ends without an error.
    Nested blocks join the outer one. A command that writes several files (codings, done marks,
    a codebook) runs its writes inside one block, so a kill leaves all of them old or all new."""
    key = _key(root)
    if key in _ACTIVE:
        yield _ACTIVE[key]
        return
    with lock:
        txn = _ACTIVE[key] = Transaction(root, backup_dir)
        try:
            yield txn
        finally:
            del _ACTIVE[key]
        if txn.files:
            txn.commit()


def write_file(root: str | Path, path: str | Path, content: str | bytes, backup_dir: str | Path,
               *, keep_backup: bool = True) -> None:
    """Replace ``path``: staged in the transaction being gathered for ``root``, or else at once
    (atomically, the old file backed up first unless ``keep_backup`` is False)."""
    from qualkit.io.atomic import atomic_write_bytes

    txn = active(root)
    if txn is not None:
        txn.add(path, content, backup=keep_backup)
        return
    if keep_backup:
        backup(path, backup_dir)
    atomic_write_bytes(path, content.encode("utf-8") if isinstance(content, str) else content)


def current_bytes(root: str | Path, path: str | Path) -> bytes | None:
    """What ``path`` holds for this command: its staged content inside a gathered transaction, else
    the file's (None when there is neither), so a command reads back what it wrote before."""
    txn = active(root)
    path = Path(path)
    if txn is not None:
        full = path if path.is_absolute() else txn.root / path
        if full in txn.files:
            return txn.files[full]
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
