"""Opening untrusted zip archives (.docx, .xlsx, .qdpx) safely, with one-line errors naming the file.

Every zip-based format qualkit reads is made by someone else's software, possibly by an attacker.
Before any member is parsed the archive is checked here, once, for all of them:

* not a zip, a damaged zip (``BadZipFile``), encrypted members;
* more than ``max_members`` members; a declared uncompressed total over ``max_total_bytes``;
  a member of at least ``ratio_min_bytes`` compressed more than ``max_ratio``:1 (zip bombs);
* member names that are absolute, contain ``..``, a drive letter or a NUL, and symbolic links
  (zip-slip: nothing is extracted by name, but such an archive is not an honest one).

Reading a member stops at its declared size (and at a per-call limit), and decompression errors
(``zlib.error``, ``BadZipFile``, ``EOFError``, ...) become the caller's :class:`QualkitError`.
"""
from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from qualkit.errors import QualkitError

__all__ = ["DEFAULT_LIMITS", "SafeZip", "ZipLimits", "bad_member_name"]

# What zipfile and the decompressors raise for a damaged archive or member.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError, KeyError,
)


@dataclass(frozen=True)
class ZipLimits:
    """How much an archive may hold before it is refused."""

    max_members: int = 10_000
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100
    # Below this size a member cannot be a bomb, and small repetitive parts compress very well.
    ratio_min_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ZipLimits()


def bad_member_name(name: str) -> str | None:
    """Why a member name is unsafe (would escape a target folder), or None."""
    if "\x00" in name:
        return "contains a NUL character"
    norm = name.replace("\\", "/")
    if norm.startswith("/"):
        return "is an absolute path"
    if len(norm) >= 2 and norm[1] == ":" and norm[0].isalpha():
        return "starts with a drive letter"
    if any(part == ".." for part in norm.split("/")):
        return "contains '..'"
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


class SafeZip:
    """An open, checked zip archive; members are read into memory, never extracted.

    ``kind`` names what the file should be in messages ("a Word .docx file"); ``label`` names the
    archive in refusals ("the .docx archive"); every problem raises ``error_cls(message, path)``.
    """

    def __init__(self, path: str | Path, *, kind: str = "a zip archive", label: str = "the archive",
                 error_cls: type[QualkitError] = QualkitError, limits: ZipLimits = DEFAULT_LIMITS,
                 not_zip_hint: str = "") -> None:
        self.path = Path(path)
        self.label = label
        self.error_cls = error_cls
        try:
            is_zip = zipfile.is_zipfile(self.path)
        except OSError as exc:
            raise error_cls(f"cannot read file ({exc.strerror})", self.path) from None
        if not is_zip:
            raise error_cls(f"not {kind} (not a zip archive){not_zip_hint}", self.path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            members = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise error_cls(f"not {kind} (damaged zip archive: {_reason(exc)})", self.path) from None
        try:
            self._check(members, limits)
        except QualkitError:
            self._zip.close()
            raise
        self.members = [m for m in members if not m.is_dir()]
        self._by_name = {m.filename.replace("\\", "/"): m for m in self.members}

    def _check(self, members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
        fail, label = self.error_cls, self.label
        if len(members) > limits.max_members:
            raise fail(f"refused: {label} has {len(members)} members (more than {limits.max_members})", self.path)
        total = 0
        for m in members:
            why = bad_member_name(m.filename)
            if why:
                raise fail(f"refused: member {m.filename!r} {why}, so it would escape the target folder", self.path)
            if stat.S_ISLNK(m.external_attr >> 16):
                raise fail(f"refused: member {m.filename!r} is a symbolic link", self.path)
            if m.flag_bits & 0x1:
                raise fail(f"refused: member {m.filename!r} is encrypted", self.path)
            total += m.file_size
            if m.file_size >= limits.ratio_min_bytes and m.file_size > limits.max_ratio * max(m.compress_size, 1):
                raise fail(f"refused: {m.filename} in {label} is compressed {m.file_size // max(m.compress_size, 1)}:1"
                           f" (more than {limits.max_ratio}:1), which is how zip bombs look", self.path)
        # zipfile never yields more than a member's declared size (the CRC check fails first), so
        # the declared sizes bound what a parser can be made to read.
        if total > limits.max_total_bytes:
            raise fail(f"refused: {label} unpacks to {total // (1024 * 1024)} MB "
                       f"(more than {limits.max_total_bytes // (1024 * 1024)} MB)", self.path)

    @property
    def names(self) -> list[str]:
        """Member names (``/``-separated), in archive order."""
        return list(self._by_name)

    def info(self, member: str) -> zipfile.ZipInfo | None:
        """The header of a member, or None when it is not in the archive."""
        return self._by_name.get(member)

    def read(self, member: str, limit: int | None = None) -> bytes:
        """A member's bytes; refused past ``limit`` or past the size its header declares."""
        info = self._by_name.get(member)
        if info is None:
            raise self.error_cls(f"member {member!r} is not in {self.label}", self.path)
        if limit is not None and info.file_size > limit:
            raise self.error_cls(f"refused: member {member!r} is {info.file_size // (1024 * 1024)} MB "
                                 f"(more than {limit // (1024 * 1024)} MB)", self.path)
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except _ZIP_ERRORS as exc:
            raise self.error_cls(f"member {member!r} cannot be read ({_reason(exc)})", self.path) from None
        if len(data) > info.file_size:
            raise self.error_cls(f"refused: member {member!r} holds more data than its header declares", self.path)
        return data

    def close(self) -> None:
        """Close the underlying file."""
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
