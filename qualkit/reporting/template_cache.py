"""The report's Jinja template compiled once per user, not once per `qualkit report` or `run`.

Compiling report.html.j2 and its macros is ~65 ms of every report on a small study. jinja2 can keep
the compiled code in a bytecode cache; its own FileSystemBytecodeCache stores a pickled checksum, so
this one writes the same code behind a plain-text header instead (no pickle). The folder is the
user's cache (``$XDG_CACHE_HOME/qualkit/templates``, else ``~/.cache/qualkit/templates``), never the
workspace: the code is executed, and a workspace is a folder people share. Each entry is keyed by the
template's path and checked against a hash of its source, the Environment's options, the Python
bytecode tag and jinja2's version, so an edited template or an upgraded jinja2 compiles afresh. Any
failure to read or write (read-only home, a truncated or foreign file) only means compiling as before.
"""
from __future__ import annotations

import marshal
import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["bytecode_cache", "cache_folder"]


def cache_folder() -> Path:
    """Where compiled templates are kept: the user's cache folder, qualkit/templates."""
    from qualkit.io.usercache import user_cache

    return user_cache("templates")


def _header(checksum: str, salt: str) -> bytes:
    import hashlib

    import jinja2

    tag = sys.implementation.cache_tag or sys.version
    options = hashlib.sha256(salt.encode()).hexdigest()[:16]
    return f"qualkit-jinja 1 {tag} jinja2-{jinja2.__version__} {options} {checksum}\n".encode()


def bytecode_cache(salt: str = "", folder: Path | None = None) -> Any:
    """A jinja2 ``BytecodeCache`` keeping compiled templates in ``folder`` (default :func:`cache_folder`;
    None when there is none to use).

    ``salt`` names what else the compiled code depends on (the Environment's options): a different
    salt is a different entry."""
    from jinja2.bccache import Bucket, BytecodeCache

    try:
        where = folder if folder is not None else cache_folder()
    except OSError:  # no cache folder to use: compile every time, as before
        return None

    class _CodeCache(BytecodeCache):
        def _file(self, bucket: Bucket) -> Path:
            return where / f"{bucket.key}.code"

        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                data = self._file(bucket).read_bytes()
            except OSError:
                return
            head = _header(bucket.checksum, salt)
            if not data.startswith(head):
                return
            try:
                code = marshal.loads(data[len(head):])
            except (EOFError, ValueError, TypeError):
                return
            if isinstance(code, types.CodeType):
                bucket.code = code

        def dump_bytecode(self, bucket: Bucket) -> None:
            from qualkit.io.atomic import atomic_write_bytes

            if bucket.code is None:
                return
            try:
                where.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(self._file(bucket), _header(bucket.checksum, salt) + marshal.dumps(bucket.code))
            except OSError:
                pass

    return _CodeCache()
