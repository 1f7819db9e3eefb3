"""Reading untrusted REFI-QDA files safely: the ``.qdpx`` zip and the XML inside it.

A ``.qdpx`` is a zip made by someone else's software, possibly by an attacker. Before anything is
parsed the archive is checked by :class:`qualkit.io.safezip.SafeZip`, as Word and Excel files are,
and each check refuses the file with a one-line :class:`RefiQdaError`:

* not a zip, a damaged zip, encrypted members;
* more than :data:`MAX_MEMBERS` members; declared uncompressed total over :data:`MAX_TOTAL_BYTES`;
  a member of at least :data:`RATIO_CHECK_MIN_BYTES` compressed more than
  :data:`MAX_COMPRESSION_RATIO`:1 (zip bombs);
* member names that are absolute, contain ``..``, a drive letter or a NUL, or symbolic links
  (zip-slip: nothing is ever extracted by member name, but such an archive is not an honest one);
* reading a member stops at its declared size and at a per-call limit, so a lying header
  cannot make qualkit read more than it agreed to.

XML is parsed by lxml with entity resolution, DTD loading and network access turned off; a
document that declares a DTD at all is refused (no legitimate REFI-QDA file has one), so
"billion laughs" and external-entity (XXE) tricks never run.
"""
from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from qualkit.errors import RefiQdaError
from qualkit.io.safezip import SafeZip, ZipLimits, bad_member_name

if TYPE_CHECKING:
    from lxml import etree

MAX_MEMBERS = 20_000
# Projects may carry audio and video (which qualkit never reads); the total is still bounded.
MAX_TOTAL_BYTES = 4 * 1024 ** 3
MAX_COMPRESSION_RATIO = 100
# Below this size a member cannot be a bomb, and small repetitive files compress very well.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_XML_BYTES = 512 * 1024 * 1024
MAX_TEXT_BYTES = 200 * 1024 * 1024

_INTERNAL = "internal://"


_bad_name = bad_member_name


class QdpxArchive:
    """An open, checked ``.qdpx`` archive; members are read into memory, never extracted."""

    def __init__(self, path: str | Path, *, max_members: int | None = None, max_total_bytes: int | None = None,
                 max_ratio: int | None = None):
        max_members = MAX_MEMBERS if max_members is None else max_members
        max_total_bytes = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
        max_ratio = MAX_COMPRESSION_RATIO if max_ratio is None else max_ratio
        self.path = Path(path)
        self.warnings: list[str] = []
        if not self.path.exists():
            raise RefiQdaError("no such file", self.path)
        if self.path.is_dir():
            raise RefiQdaError("is a folder, not a .qdpx file", self.path)
        limits = ZipLimits(max_members, max_total_bytes, max_ratio, RATIO_CHECK_MIN_BYTES)
        self._zip = SafeZip(self.path, kind="a REFI-QDA project (.qdpx)", error_cls=RefiQdaError, limits=limits)
        members = self._zip.members
        self.members = [m for m in members if not m.is_dir()]
        self._by_name = {m.filename.replace("\\", "/"): m for m in self.members}
        self._by_folded: dict[str, zipfile.ZipInfo] = {}
        for name, m in self._by_name.items():
            self._by_folded.setdefault(name.casefold(), m)
        self.project_member = self._find_project()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> QdpxArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- locating members ------------------------------------------------------------------
    def _find_project(self) -> str:
        names = list(self._by_name)
        qde = [n for n in names if n.lower().endswith(".qde")]
        top = [n for n in qde if "/" not in n.strip("/")]
        if "project.qde" in names:
            chosen = "project.qde"
        elif len(top) == 1:
            chosen = top[0]
            self.warnings.append(f"the project file is {chosen!r}, not 'project.qde' as the standard names it")
        elif not top and len(qde) == 1:
            chosen = qde[0]
            self.warnings.append(f"the project file {chosen!r} is in a subfolder of the archive")
        elif qde:
            raise RefiQdaError(f"several project files in the archive ({', '.join(sorted(qde)[:5])}); expected one project.qde",
                               self.path)
        else:
            raise RefiQdaError("not a REFI-QDA project: no project.qde (no .qde file) inside the archive", self.path)
        return chosen

    def find(self, reference: str) -> str | None:
        """The member an ``internal://NAME`` path (or a bare member path) refers to, or None.

        Tries ``sources/NAME`` as written, then any letter case (``Sources/``), then the project
        file's folder, then a unique member with that file name anywhere.
        """
        ref = reference.strip()
        if ref.lower().startswith(_INTERNAL):
            ref = ref[len(_INTERNAL):]
        ref = ref.replace("\\", "/").lstrip("/")
        if not ref or _bad_name(ref):
            return None
        base = str(PurePosixPath(self.project_member).parent)
        prefix = "" if base in ("", ".") else base + "/"
        for cand in (f"{prefix}sources/{ref}", f"sources/{ref}", f"{prefix}{ref}", ref):
            if cand in self._by_name:
                return cand
            m = self._by_folded.get(cand.casefold())
            if m is not None:
                return m.filename.replace("\\", "/")
        leaf = ref.rsplit("/", 1)[-1].casefold()
        hits = [n for n in self._by_name if n.rsplit("/", 1)[-1].casefold() == leaf]
        return hits[0] if len(hits) == 1 else None

    def read(self, member: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        """A member's bytes; refused past ``limit`` or past the size its header declares."""
        info = self._by_name.get(member)
        if info is None:
            raise RefiQdaError(f"member {member!r} is not in the archive", self.path)
        if info.file_size > limit:
            raise RefiQdaError(f"refused: member {member!r} is {info.file_size // (1024 * 1024)} MB "
                               f"(more than {limit // (1024 * 1024)} MB)", self.path)
        return self._zip.read(member)

    def other_members(self, used: set[str]) -> list[str]:
        """Members that are neither the project file nor in ``used`` (stray files)."""
        return sorted(n for n in self._by_name if n != self.project_member and n not in used)


# -- XML ---------------------------------------------------------------------------------------

def parse_xml(data: bytes, path: Path, member: str | None) -> etree._Element:
    """Parse untrusted XML bytes into an lxml element; errors name the file, member and line."""
    from lxml import etree

    if _declares_dtd(data):
        raise RefiQdaError(_DTD_REFUSED, path, member)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    if not data.strip():
        raise RefiQdaError("is empty, not XML", path, member)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else getattr(exc, "lineno", None)
        msg = (exc.msg or str(exc)).split(", line ")[0]
        raise RefiQdaError(f"XML is not well-formed ({msg})", path, member, line) from None
    except ValueError as exc:
        raise RefiQdaError(f"cannot be parsed as XML ({exc})", path, member) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise RefiQdaError(_DTD_REFUSED, path, member)
    return root


_DTD_REFUSED = ("refused: the XML declares a DTD (<!DOCTYPE>), which REFI-QDA files never need and XML entity "
                "attacks (external entities, billion laughs) use")


def _declares_dtd(data: bytes) -> bool:
    """Whether the prolog (before the root element) has a <!DOCTYPE>; checked before parsing."""
    import codecs

    head = data[:1 << 20]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head[:4].count(0) >= 1:
        for enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            try:
                text = head.decode(enc, errors="ignore")
            except LookupError:
                continue
            if "<" in text[:100]:
                break
        else:
            return False
    else:
        text = head.decode("latin-1")
    text = text.lstrip("\ufeff\xef\xbb\xbf")
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i)
        elif text.startswith("<!--", i):
            end = text.find("-->", i)
        else:
            return text.startswith("<!DOCTYPE", i) or text.startswith("<!doctype", i)
        if end < 0:
            return False
        i = end + 2


def localname(element: etree._Element) -> str:
    """An element's tag without its namespace ('' for comments and the like)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(element: etree._Element) -> str:
    tag = element.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def children(element: etree._Element, name: str | None = None) -> list[etree._Element]:
    """Child elements (any namespace), optionally only those with local name ``name``."""
    return [c for c in element if isinstance(c.tag, str) and (name is None or localname(c) == name)]


def child(element: etree._Element, name: str) -> etree._Element | None:
    for c in element:
        if isinstance(c.tag, str) and localname(c) == name:
            return c
    return None


def child_text(element: etree._Element, name: str) -> str:
    c = child(element, name)
    return (c.text or "") if c is not None else ""


def norm_guid(value: str | None) -> str:
    """GUIDs compare case-insensitively, with or without braces."""
    return (value or "").strip().strip("{}").lower()
