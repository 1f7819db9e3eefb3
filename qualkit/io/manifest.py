"""Run manifests: which inputs (by sha256), parameters and versions produced an export."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qualkit.io.atomic import atomic_write_text
from qualkit.io.paths import relative_to

# Parameters every manifest written inside `recorded(...)` carries (e.g. whether de-identification
# was applied), so the entry point that decides them need not reach every writer.
_RECORDED: ContextVar[dict[str, Any] | None] = ContextVar("qualkit_manifest_recorded", default=None)

_DEPENDENCIES = ("click", "pandas", "numpy", "python-docx", "pyyaml", "rapidfuzz", "jinja2", "openpyxl")


_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """The file's sha256, computed once per file state (mtime, size, inode) in a process: every
    manifest of `qualkit run` lists the same inputs, a thousand transcripts in a large study."""
    return _digest(path, os.stat(path))


def _digest(path: str | Path, st: os.stat_result) -> str:
    """:func:`sha256_file` of a file whose state ``st`` the caller has just read."""
    key = (os.fspath(path), st.st_mtime_ns, st.st_size, st.st_ino)
    known = _DIGESTS.get(key)
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


_VERSIONS: dict[str, str] = {}


def versions() -> dict[str, str]:
    """qualkit's and its dependencies' installed versions (looked up once per process, and kept in the
    user's cache while no folder Python imports from has changed)."""
    if not _VERSIONS:
        key = _installed_key()
        kept = _kept_versions(key) if key is not None else None
        if kept is None:
            kept = _looked_up_versions()
            if key is not None:
                _keep_versions(key, kept)
        _VERSIONS.update(kept)
    return dict(_VERSIONS)


def _looked_up_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("qualkit", *_DEPENDENCIES):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _installed_key() -> str | None:
    """What the installed versions depend on: Python and the state of each folder it imports from (installing,
    upgrading or removing a package adds or removes its ``*.dist-info`` folder there, which changes the
    folder's modification time). Looking the versions up reads every package's metadata, ~0.01 s a command."""
    import sys

    state = []
    for entry in sys.path:
        try:
            st = os.stat(entry or ".")
        except OSError:
            continue
        state.append((os.path.abspath(entry or "."), st.st_mtime_ns, st.st_ino))
    return hashlib.sha256(repr((sys.version, _DEPENDENCIES, state)).encode()).hexdigest()


def _versions_file() -> Path:
    from qualkit.io.usercache import user_cache

    return user_cache("versions.json")


def _kept_versions(key: str) -> dict[str, str] | None:
    from qualkit.io.parsed import read_keyed

    found = read_keyed(_versions_file(), key)
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        return None
    return found


def _keep_versions(key: str, found: dict[str, str]) -> None:
    from qualkit.io.parsed import write_keyed

    write_keyed(_versions_file(), key, found)


@contextmanager
def recorded(**parameters: Any) -> Iterator[None]:
    """Add ``parameters`` to every manifest built inside this block."""
    token = _RECORDED.set({**(_RECORDED.get() or {}), **parameters})
    try:
        yield
    finally:
        _RECORDED.reset(token)


# (path, workspace folder resolved) -> (device, inode, the path relative to the folder): each manifest of a
# `run` names the same inputs, and resolving a path checks each folder on the way (~25 us an input).
# Kept while the path names the same file.
_RELATIVE: dict[tuple[str, str], tuple[int, int, str]] = {}


def build_manifest(root: Path, inputs: Iterable[Path], outputs: Iterable[Path], parameters: dict[str, Any]) -> dict[str, Any]:
    try:
        base: Path | None = Path(root).resolve()  # once, not once per input (a thousand transcripts)
    except OSError:
        base = None

    def rel(p: Path, st: os.stat_result | None = None) -> str:
        if base is None:
            return relative_to(p, root)
        if st is None:
            try:
                st = os.stat(p)
            except OSError:
                st = None
        key = (os.fspath(p), str(base))
        known = _RELATIVE.get(key)
        if st is not None and known is not None and known[:2] == (st.st_dev, st.st_ino):
            return known[2]
        try:  # as relative_to(p, root)
            found = Path(p).resolve().relative_to(base).as_posix()
        except (ValueError, OSError):
            return str(p)
        if st is not None:
            _RELATIVE[key] = (st.st_dev, st.st_ino, found)
        return found

    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": {**(_RECORDED.get() or {}), **parameters},
        "inputs": [{"path": rel(p, st), "sha256": _digest(p, st)} for p, st in _files(inputs)],
        "outputs": [rel(p) for p in outputs],
        "versions": versions(),
    }


def _files(paths: Iterable[Path]) -> Iterator[tuple[Path, os.stat_result]]:
    """Each of ``paths`` that is a file, in order, with its state read once (for its name and its digest)."""
    for p in sorted(set(paths)):
        try:
            st = os.stat(p)
        except OSError as exc:  # as Path.is_file: not there is no file; anything else is an error
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
                continue
            raise
        except ValueError:
            continue
        if stat.S_ISREG(st.st_mode):
            yield p, st


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
