"""Safe writes: atomic replace (temp file + rename) and a backup before overwriting a user's file."""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None,
                before_replace: Callable[[], object] | None = None) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; on success it replaces ``path`` in one rename.

    On any exception the temp file is removed and ``path`` is left as it was. ``before_replace``
    runs once the new content is safely on disk, just before the rename (e.g. to back up the old file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp makes files private (0600); a replaced file keeps its mode, a new one follows the
    # umask like any other program's output, so colleagues on a shared drive can read exports.
    try:
        file_mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        file_mode = 0o666 & ~_umask()
    os.chmod(tmp, file_mode)
    try:
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            f = os.fdopen(fd, mode, encoding=encoding, newline=newline)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb", encoding=None) as f:
        f.write(data)


def backup(path: str | Path, backup_dir: str | Path | None = None) -> Path | None:
    """Copy ``path`` to a timestamped backup before it is rewritten; returns the backup path.

    Backups go to ``backup_dir`` (created if needed) or beside the file. Nothing is done when
    ``path`` does not exist yet.
    """
    path = Path(path)
    if not path.exists():
        return None
    target_dir = Path(backup_dir) if backup_dir is not None else path.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    dest = target_dir / f"{path.name}.{stamp}.bak"
    # Copied to a temp file, checked byte for byte, then renamed: a full disk leaves no truncated
    # backup that looks like a good one, and the rewrite that follows does not start. A piece at a
    # time: a coder's file at 5,000 interviews is 70-230 MB, held twice when read whole.
    with open(path, "rb") as src, atomic_open(dest, "wb", encoding=None) as f:
        shutil.copyfileobj(src, f, _PIECE)
    if not _same_bytes(path, dest):
        dest.unlink(missing_ok=True)
        raise OSError(errno.EIO, "the backup copy does not match the original", str(dest))
    shutil.copystat(path, dest)
    return dest


_PIECE = 1 << 20


def _same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes, read a piece at a time."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(_PIECE), fb.read(_PIECE)
            if x != y:
                return False
            if not x:
                return True


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries to disk, so a rename or a new file survives a power cut (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
