"""Where exports may go: the one check every writer of a user-chosen file (``--out``, export targets)
makes before it writes, so an output never lands on a workspace's own inputs.

* A target that resolves (symlinks followed) to a file under a workspace's ``transcripts/``,
  ``codings/``, ``codebooks/``, ``frameworks/``, ``summaries/`` or ``memos/`` folder, or to one of
  its configuration files (qualkit.yaml, participants.csv, themes.yaml), is refused.
* An existing target is replaced atomically (:func:`qualkit.io.atomic.atomic_open`); when qualkit
  did not write it (its sha256 is not in the workspace's output ledger, ``.qualkit/outputs.json``),
  it is backed up first, so a colleague's file of the same name is never lost.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from qualkit.errors import ExportError
from qualkit.io.atomic import atomic_open, backup

__all__ = ["CONFIG_FILES", "INPUT_FOLDERS", "check_output", "ledger_batch", "output_open", "record_output",
           "workspace_of", "write_output_bytes", "write_output_text"]

INPUT_FOLDERS = ("transcripts", "codings", "codebooks", "frameworks", "summaries", "memos")
CONFIG_FILES = ("qualkit.yaml", "participants.csv", "themes.yaml")
_MARKER = "qualkit.yaml"
_LEDGER = Path(".qualkit") / "outputs.json"


def workspace_of(path: str | Path) -> Path | None:
    """The nearest folder at or above ``path`` that holds a qualkit.yaml (a workspace), or None."""
    p = Path(path).resolve()
    for folder in [p, *p.parents] if p.is_dir() else list(p.parents):
        if (folder / _MARKER).is_file():
            return folder
    return None


def _input_reason(target: Path, root: Path) -> str | None:
    try:
        rel = target.relative_to(root)
    except ValueError:
        return None
    parts = rel.parts
    if not parts:
        return "is the workspace folder itself"
    if len(parts) == 1 and parts[0].casefold() in CONFIG_FILES:
        return f"is the workspace's {parts[0]}"
    if parts[0].casefold() in INPUT_FOLDERS:
        return f"is inside the workspace's {parts[0]}/ folder, which holds its inputs"
    if parts[0] == ".qualkit":
        return "is inside .qualkit/, which holds qualkit's own state"
    return None


def check_output(path: str | Path, root: str | Path | None = None) -> Path:
    """Refuse ``path`` when it resolves to a workspace input (of ``root`` or of the workspace it lies
    in); returns the resolved target. Raises :class:`ExportError` naming the path."""
    path = Path(path)
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:
        raise ExportError(f"cannot write here ({exc})", path) from None
    if target.is_dir():
        raise ExportError("is a folder; give a file name", path)
    roots = [Path(root).resolve()] if root is not None else []
    found = workspace_of(target)
    if found is not None and found not in roots:
        roots.append(found)
    for r in roots:
        why = _input_reason(target, r)
        if why:
            raise ExportError(f"refused: this output {why}; write it elsewhere (for example exports/)", path)
    return target


def _ledger_path(target: Path) -> Path:
    """The workspace's ledger, or (for files outside any workspace) the user's, in the cache folder."""
    root = workspace_of(target)
    if root is not None:
        return root / _LEDGER
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "qualkit" / "outputs.json"


# Outputs recorded inside ledger_batch(), by ledger: written to the ledgers once, when the batch ends.
_PENDING: dict[Path, dict[str, str]] | None = None


@contextmanager
def ledger_batch() -> Iterator[None]:
    """Record the outputs written inside this block in their ledgers once, at its end, instead of
    once per file (`qualkit run` writes some fifty: a locked read and rewrite of the ledger each).

    Nested blocks join the outermost. A batch lost to a crash only means the next export backs up
    those files once more (as a ledger lost to a power cut, see :func:`record_output`)."""
    global _PENDING
    if _PENDING is not None:
        yield
        return
    _PENDING = {}
    try:
        yield
    finally:
        pending, _PENDING = _PENDING, None
        for ledger, entries in pending.items():
            _update_ledger(ledger, entries)


def _ledger(ledger: Path) -> dict[str, str]:
    if not ledger.is_file():
        return {}
    try:
        data = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _written_by_qualkit(target: Path) -> bool:
    from qualkit.io.manifest import sha256_file

    ledger = _ledger_path(target)
    known = (_PENDING or {}).get(ledger, {}).get(str(target)) or _ledger(ledger).get(str(target))
    if known is None:
        manifest = target.with_name(target.name + ".manifest.json")
        return manifest.is_file()  # a table export: qualkit writes FILE.manifest.json beside it
    try:
        return sha256_file(target) == known
    except OSError:
        return False


def record_output(path: str | Path) -> None:
    """Remember that qualkit wrote ``path`` (its sha256, in the workspace's output ledger; at the end
    of the :func:`ledger_batch` when inside one)."""
    from qualkit.io.manifest import sha256_file

    target = Path(path).resolve()
    ledger = _ledger_path(target)
    try:
        digest = sha256_file(target)
    except OSError:
        return
    if _PENDING is not None:
        _PENDING.setdefault(ledger, {})[str(target)] = digest
        return
    _update_ledger(ledger, {str(target): digest})


def _update_ledger(ledger: Path, entries: dict[str, str]) -> None:
    """Add ``entries`` (file -> sha256) to ``ledger`` under its lock."""
    from qualkit.io.jsonlog import locked

    try:
        with locked(ledger, what="the output ledger"):
            data = _ledger(ledger)
            data.update(entries)
            # Replaced in one rename but not fsync'ed: a ledger lost to a power cut only means the
            # next export keeps one backup too many, and fsync per export made `qualkit run` slower.
            tmp = ledger.with_name(f".{ledger.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, ledger)
    except OSError:
        pass  # no ledger (read-only cache): the next export keeps a backup of this one, nothing is lost


def _keep_foreign(target: Path) -> None:
    """Back up ``target`` when it exists and qualkit did not write it."""
    if target.is_file() and not _written_by_qualkit(target):
        ws = workspace_of(target)
        backup(target, ws / ".qualkit" / "backups" if ws is not None else None)


@contextmanager
def output_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None,
                root: str | Path | None = None) -> Iterator[IO[Any]]:
    """:func:`qualkit.io.atomic.atomic_open` for a user-chosen output: checked, a foreign file kept
    (backed up only once the new content is on disk, so a failed export leaves nothing behind)."""
    target = check_output(path, root)
    with atomic_open(path, mode, encoding=encoding, newline=newline,
                     before_replace=lambda: _keep_foreign(target)) as f:
        yield f
    record_output(path)


def write_output_text(path: str | Path, text: str, root: str | Path | None = None, encoding: str = "utf-8") -> None:
    """Write an output text file through :func:`output_open`."""
    with output_open(path, "w", encoding=encoding, newline="", root=root) as f:
        f.write(text)


def write_output_bytes(path: str | Path, data: bytes, root: str | Path | None = None) -> None:
    """Write an output binary file through :func:`output_open`."""
    with output_open(path, "wb", encoding=None, root=root) as f:
        f.write(data)
