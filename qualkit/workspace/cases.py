"""Documents and cases beyond speakers: documents.csv, cases.csv and case sections inside a document.

Field notes, meeting notes and site-visit reports sit in transcripts/ like interviews (no speaker
labels: each paragraph is a turn). ``documents.csv`` gives each document attributes (site, date,
source_type, ...); ``cases.csv`` gives each case (a site, a program, a participant) attributes
(region, rurality, ...). A heading such as ``## Site: Millbrook`` starts a section of the document
that belongs to that case, until the next heading of the same kind. This is the design of studies
that pair encounter data with notes from monthly calls and site visits (Formica et al. 2022).

Attributes of a passage, most specific last: the document's, the participant's (participants.csv),
the section's; then the attributes of every case those values name (cases.csv), where not already set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import WorkspaceError

__all__ = ["CASES_NAME", "DOCUMENTS_NAME", "Cases", "Documents", "load_cases", "load_documents", "parse_ranges",
           "sections"]

DOCUMENTS_NAME = "documents.csv"
CASES_NAME = "cases.csv"
_HEADING = re.compile(r"^#{1,6}[ \t]*(?P<key>[A-Za-z][A-Za-z _-]{0,30}?)[ \t]*:[ \t]*(?P<value>\S.*?)[ \t]*#*[ \t]*$",
                      re.MULTILINE)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().casefold()).strip("_")


@dataclass
class _Keyed:
    """A CSV whose first required column names each row (a document id, a case id)."""

    path: Path | None
    key: str
    columns: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def attribute_columns(self) -> list[str]:
        """Every column but the key."""
        return [c for c in self.columns if c != self.key]

    def attributes(self, name: str) -> dict[str, str]:
        """The row's non-blank attributes (empty when ``name`` is not listed)."""
        row = self.rows.get(name) or self.rows.get(name.casefold()) or {}
        return {c: v for c, v in row.items() if c != self.key and v}


class Documents(_Keyed):
    """documents.csv: ``document`` (the file's id in transcripts/) and its attributes.

    An optional ``sections`` column splits a document by turn ranges instead of headings:
    ``site=Millbrook:1-4; site=Pine Hollow:5-9`` (turns numbered from 1, as on screen)."""

    @property
    def attribute_columns(self) -> list[str]:
        return [c for c in self.columns if c not in (self.key, "sections")]

    def attributes(self, name: str) -> dict[str, str]:
        return {k: v for k, v in super().attributes(name).items() if k != "sections"}

    def ranges(self, name: str) -> list[tuple[str, str, int, int]]:
        """The document's ``sections`` as (key, value, first turn, last turn), turns from 1."""
        text = (self.rows.get(name) or {}).get("sections", "")
        return parse_ranges(text, self.path) if text else []


_RANGE = re.compile(r"^\s*(?P<key>[A-Za-z][\w -]*?)\s*=\s*(?P<value>[^:]+?)\s*:\s*(?P<a>\d+)\s*(?:-\s*(?P<b>\d+))?\s*$")


def parse_ranges(text: str, path: Path | None = None) -> list[tuple[str, str, int, int]]:
    """``site=Millbrook:1-4; site=Pine Hollow:5`` as [(site, Millbrook, 1, 4), (site, Pine Hollow, 5, 5)]."""
    out = []
    for part in (p for p in text.split(";") if p.strip()):
        m = _RANGE.match(part)
        if m is None:
            raise WorkspaceError(f"section {part.strip()!r} must look like site=Millbrook:1-4 (turns from 1)", path)
        first, last = int(m.group("a")), int(m.group("b") or m.group("a"))
        if first < 1 or last < first:
            raise WorkspaceError(f"section {part.strip()!r}: the range must run from a turn to a later one", path)
        out.append((_key(m.group("key")), m.group("value").strip(), first, last))
    return out


class Cases(_Keyed):
    """cases.csv: ``case`` (e.g. a site name as written in site columns), ``type`` and attributes."""

    def types(self) -> list[str]:
        """The case types used (site, program, participant, ...)."""
        return sorted({r.get("type", "").strip() for r in self.rows.values() if r.get("type", "").strip()})


def _load(path: Path, key: str, cls: type[_Keyed]) -> _Keyed:
    if not path.is_file():
        return cls(None, key)
    from qualkit.io.tables import read_csv

    table = read_csv(path, error_cls=WorkspaceError)
    if not table.rows:
        raise WorkspaceError(f"is empty; it needs a header row starting with '{key}'", path, 1)
    header = [_key(h) for h in table.rows[0].cells]
    if key not in header:
        raise WorkspaceError(f"no '{key}' column in the header row (it names each row)", path, 1)
    out = cls(path, key, header)
    for record in table.rows[1:]:
        if record.blank:
            continue
        if len(record.cells) > len(header):
            raise WorkspaceError(f"{len(record.cells)} fields but the header has {len(header)}", path, record.line)
        row = {h: (record.cells[i].strip() if i < len(record.cells) else "") for i, h in enumerate(header)}
        name = row[key]
        if not name:
            raise WorkspaceError(f"blank '{key}'", path, record.line)
        if name in out.rows:
            raise WorkspaceError(f"{key} {name!r} is listed twice", path, record.line)
        out.rows[name] = row
    return out


def load_documents(path: str | Path) -> Documents:
    """Read documents.csv (absent: no document attributes); problems name the file and line."""
    return _load(Path(path), "document", Documents)  # type: ignore[return-value]


def load_cases(path: str | Path) -> Cases:
    """Read cases.csv (absent: no case attributes); problems name the file and line."""
    return _load(Path(path), "case", Cases)  # type: ignore[return-value]


def sections(text: str, keys: set[str] | None = None) -> list[tuple[int, int, dict[str, str]]]:
    """The case sections of a document: (start, end, {key: value}) from headings like ``## Site: Millbrook``.

    A section runs to the next heading with the same key (or the end). ``keys`` limits which heading
    words count (``site``, ``program``, ...); None: any. Offsets are into ``text``.
    """
    found = [(m.start(), _key(m.group("key")), m.group("value").strip()) for m in _HEADING.finditer(text)]
    found = [f for f in found if keys is None or f[1] in keys]
    out = []
    for i, (start, key, value) in enumerate(found):
        end = next((s for s, k, _v in found[i + 1:] if k == key), len(text))
        out.append((start, end, {key: value}))
    return out
