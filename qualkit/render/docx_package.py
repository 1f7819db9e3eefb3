"""Word documents made from one template that share its unchanging parts, and their saving.

python-docx's default template carries about 0.8 MB of XML that no table document changes (styles,
styles with effects, theme, settings, fonts, numbering). A deep copy of the template per document
and python-docx's save serialise and deflate all of it again for every file: about 15 ms of the 20 ms
a small Word table took. Here a document gets its own main part and core properties (the only parts
the writers change) and shares the rest with the template, and each shared part is deflated once per
process. The file has the entries, order and bytes python-docx's ``Document.save`` writes (each
entry's time apart, as between any two saves): ``tests/test_sample_speed.py`` compares them.
"""
from __future__ import annotations

import struct
import sys
import time
import zlib
from copy import deepcopy
from typing import IO, Any, NamedTuple

__all__ = ["SharedTemplate", "ZipEntries"]


class _Deflated(NamedTuple):
    crc: int
    size: int
    data: bytes


def _deflate(blob: bytes) -> _Deflated:
    """What ``zipfile`` stores for ``blob`` under ZIP_DEFLATED at its default level."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Deflated(zlib.crc32(blob), len(blob), packer.compress(blob) + packer.flush())


class ZipEntries:
    """A zip written entry by entry as ``zipfile.ZipFile(f, "w", ZIP_DEFLATED).writestr(name, blob)``
    writes it to a seekable file, byte for byte, except that an entry's deflated bytes may be given
    (``add_deflated``). ASCII names and entries under 4 GB only (a Word table is far below)."""

    _VERSION = 20  # zipfile's DEFAULT_VERSION: deflate, no zip64
    _SYSTEM = 0 if sys.platform == "win32" else 3  # zipfile.ZipInfo.create_system
    _ATTR = 0o600 << 16  # what writestr gives a file entry: ?rw-------

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.start = out.tell()
        self.central: list[bytes] = []

    def add(self, name: str, blob: bytes) -> None:
        self.add_deflated(name, _deflate(blob))

    def add_deflated(self, name: str, entry: _Deflated) -> None:
        raw = name.encode("ascii")
        if entry.size >= 0xFFFFFFFF or len(entry.data) >= 0xFFFFFFFF:
            raise ValueError(f"{name}: too large for a zip entry without zip64")
        t = time.localtime(time.time())
        dosdate = (t[0] - 1980) << 9 | t[1] << 5 | t[2]
        dostime = t[3] << 11 | t[4] << 5 | (t[5] // 2)
        offset = self.out.tell() - self.start
        fields = (8, dostime, dosdate, entry.crc, len(entry.data), entry.size, len(raw))  # 8: deflated
        self.out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", self._VERSION, 0, 0, *fields, 0) + raw)
        self.out.write(entry.data)
        self.central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", self._VERSION, self._SYSTEM, self._VERSION, 0,
                                        0, *fields, 0, 0, 0, 0, self._ATTR, offset) + raw)

    def close(self) -> None:
        """The central directory and the end record."""
        where = self.out.tell() - self.start
        for record in self.central:
            self.out.write(record)
        size = self.out.tell() - self.start - where
        n = len(self.central)
        self.out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, size, where, 0))


class SharedTemplate:
    """A python-docx ``document`` to make documents from (:meth:`new`) and to save them (:meth:`save`):
    each new document owns its main part and core properties and shares every other part with it."""

    def __init__(self, document: Any) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        package = document.part.package
        own = {id(document.part), id(package.part_related_by(RT.CORE_PROPERTIES))}
        self.document = document
        self.shared = {id(p): p for p in package.iter_parts() if id(p) not in own}
        self._deflated: dict[int, _Deflated] = {}

    def new(self) -> Any:
        """A document of its own made from the template; the shared parts are not copied."""
        memo: dict[int, Any] = dict(self.shared)
        return deepcopy(self.document, memo)

    def save(self, document: Any, out: IO[bytes]) -> None:
        """Write ``document`` (made by :meth:`new`) as python-docx's ``Document.save`` would, to a
        seekable binary file; a shared part's deflated bytes are made once."""
        from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI
        from docx.opc.pkgwriter import _ContentTypesItem

        package = document.part.package
        parts = list(package.iter_parts())
        for part in parts:
            part.before_marshal()
        zipped = ZipEntries(out)
        zipped.add(CONTENT_TYPES_URI.membername, _ContentTypesItem.from_parts(parts).blob)
        zipped.add(PACKAGE_URI.rels_uri.membername, package.rels.xml)
        for part in parts:
            if id(part) in self.shared:
                entry = self._deflated.get(id(part))
                if entry is None:
                    entry = self._deflated[id(part)] = _deflate(part.blob)
                zipped.add_deflated(part.partname.membername, entry)
            else:
                zipped.add(part.partname.membername, part.blob)
            if len(part.rels):
                zipped.add(part.partname.rels_uri.membername, part.rels.xml)
        zipped.close()
