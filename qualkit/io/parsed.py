"""What qualkit derives from a file, kept as JSON, keyed by the file's bytes and the reader's code.

Codebooks, themes.yaml and qualkit.yaml are read by almost every command, and reading one means PyYAML's
composer and a pydantic schema, whose models take longer to build on import than the small files take to
check (about 0.05 s of `qualkit run` on the sample study). A workspace file read without a problem is kept
in its .qualkit/cache/parsed/ (:func:`keep_parse`); the next command whose file and reader are unchanged
takes the kept value (:func:`kept_parse`) and imports neither. The key (:func:`parse_key`) holds the file's
bytes, qualkit's version and the (mtime, size) of the reader's source files and of PyYAML's and pydantic's,
so an edit to either or an upgrade is a miss. The same keyed file (:func:`read_keyed`, :func:`write_keyed`)
keeps the parsed built-in frameworks and the installed versions a manifest records, in the user's cache.

Each file is one line of header, ``{"key": ..., "sha256": ...}``, then the value's JSON: the fingerprint is
the SHA-256 of those value bytes, so a value edited by hand, cut short or mangled by a merge is a miss (the
source is read again), never a wrong result or a crash. Only values that come back from JSON as they went
in are kept (:func:`plain_json`).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["keep_parse", "kept_parse", "parse_key", "plain_json", "read_keyed", "write_keyed"]


def _cache_dir(path: Path) -> Path | None:
    """The .qualkit/cache/parsed/ of the workspace ``path`` belongs to (its folder or the one above), or None."""
    for folder in (path.parent, path.parent.parent):
        if (folder / ".qualkit").is_dir() and (folder / "qualkit.yaml").is_file():
            return folder / ".qualkit" / "cache" / "parsed"
    return None


# The libraries a parse goes through: an upgrade rewrites their files, so their state is part of the key.
_LIBRARIES = ("yaml", "pydantic")
_LIBRARY_FILES: list[Path] = []


def _library_files() -> list[Path]:
    """Each library's package file, found without importing the library (once per process)."""
    if not _LIBRARY_FILES:
        from importlib.util import find_spec

        for name in _LIBRARIES:
            spec = find_spec(name)
            _LIBRARY_FILES.append(Path(spec.origin) if spec is not None and spec.origin else Path(name))
    return _LIBRARY_FILES


def parse_key(kind: str, raw: bytes, readers: Sequence[Path]) -> str | None:
    """The key of ``raw`` read as ``kind`` by the code in ``readers`` (source files); None if one is missing."""
    from qualkit import __version__

    try:
        code = [(str(f), st.st_mtime_ns, st.st_size) for f in [*readers, *_library_files()] for st in (f.stat(),)]
    except OSError:
        return None
    return hashlib.sha256(repr((__version__, kind, code)).encode() + b"\0" + raw).hexdigest()


def _entry(path: Path, kind: str) -> Path | None:
    folder = _cache_dir(path)
    if folder is None:
        return None
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return folder / f"{kind}-{name}.json"


def kept_parse(path: Path, raw: bytes, kind: str, readers: Sequence[Path]) -> Any | None:
    """The value kept for ``path`` read as ``raw`` by ``readers`` (:func:`keep_parse`), or None."""
    entry = _entry(path, kind)
    key = parse_key(kind, raw, readers) if entry is not None else None
    if entry is None or key is None:
        return None
    return read_keyed(entry, key)


def keep_parse(path: Path, raw: bytes, kind: str, readers: Sequence[Path], value: Any) -> None:
    """Keep ``value`` (plain JSON data) as what ``path`` reads as while its bytes are ``raw``; nothing is kept
    outside a workspace, for a value JSON would change, or when the cache cannot be written."""
    entry = _entry(path, kind)
    key = parse_key(kind, raw, readers) if entry is not None else None
    if entry is None or key is None:
        return
    write_keyed(entry, key, value)


def read_keyed(file: Path, key: str) -> Any | None:
    """The value :func:`write_keyed` kept in ``file`` under ``key``; None for another key, no file, or a file
    whose value is not the one its fingerprint was taken of (edited, truncated, not this layout)."""
    try:
        head, newline, body = file.read_bytes().partition(b"\n")
        header = json.loads(head)
        if not newline or header.get("key") != key or header.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return json.loads(body)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _json_text(value: Any) -> str | None:
    """``value`` as JSON text, or None if JSON cannot hold it or gives back something else."""
    try:
        text = json.dumps(value, ensure_ascii=False)
        return text if json.loads(text) == value else None  # e.g. a mapping with a number as its key
    except (TypeError, ValueError):
        return None


def plain_json(value: Any) -> bool:
    """Whether JSON gives ``value`` back as it was given (not so for a YAML date, a tuple, a number as a key)."""
    return _json_text(value) is not None


def write_keyed(file: Path, key: str, value: Any) -> None:
    """Keep ``value`` (plain JSON data) in ``file`` under ``key`` with its fingerprint, atomically; nothing is
    kept for a value JSON would change, and a file that cannot be written is no error (a cache, rebuilt on a miss)."""
    from qualkit.io.atomic import atomic_write_text

    body = _json_text(value)
    if body is None:
        return
    try:
        header = json.dumps({"key": key, "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()})
        atomic_write_text(file, f"{header}\n{body}")
    except (OSError, ValueError):  # (a lone surrogate cannot be UTF-8)
        pass
