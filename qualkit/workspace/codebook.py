"""Codebooks: one YAML file per codebook in codebooks/, codes with MacQueen et al.'s (1998) fields.

File format (every field but ``id`` and ``name`` of a code is optional)::

    id: port_inductive            # unique among the workspace's codebooks
    name: PORT inductive codebook
    description: Codes that emerged from the first six transcripts.
    framework: heif               # default framework for refs written without a prefix
    codes:
      - id: data_sharing          # snake_case, unique across the workspace's codebooks
        name: Inter-partner data sharing
        parent: null              # id of the parent code (hierarchy)
        origin: inductive         # deductive | inductive
        brief: Moving client information between partners
        definition: ...
        include: When to use ...
        exclude: When not to use ... (double-code under X)
        examples: ["we fax the consent form over", ...]
        keywords: [fax, HIPAA, data sharing agreement]   # for autocode suggestions
        patterns: []              # spaCy token patterns (lists of dicts), for autocode
        framework: [heif:outer_context]
        color: "#1f77b4"
        status: active            # active | retired
    changelog:
      - {who: ana, when: "2026-03-01T10:00:00", what: "added data_sharing"}

Code ids are what codings/<coder>.csv refers to, so they must be unique across every codebook of
a workspace. Errors name the file and the line of the offending field.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from qualkit.io.atomic import atomic_write_text, backup
from qualkit.io.yamlfile import key_lines, load_yaml_file

ORIGINS = ("deductive", "inductive")
STATUSES = ("active", "retired")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_LIST_FIELDS = ("examples", "keywords", "patterns", "framework")
_TEXT_FIELDS = ("brief", "definition", "include", "exclude")


from qualkit.errors import CodebookError  # noqa: F401  (defined with every other error in qualkit.errors)


@dataclass
class ChangeLogEntry:
    """One edit to a codebook: who, when (ISO 8601), what."""

    who: str
    when: str
    what: str

    def as_dict(self) -> dict[str, str]:
        return {"who": self.who, "when": self.when, "what": self.what}


@dataclass
class Code:
    """One code with the fields a team codebook needs (MacQueen et al. 1998) plus qualkit's."""

    id: str
    name: str
    parent: str | None = None
    origin: str = "inductive"
    brief: str = ""
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    patterns: list[Any] = field(default_factory=list)
    framework: list[str] = field(default_factory=list)
    color: str | None = None
    status: str = "active"
    line: int | None = field(default=None, compare=False, repr=False)  # where it is defined

    def as_dict(self) -> dict[str, Any]:
        """The code as YAML writes it: empty optional fields left out, order fixed."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.parent:
            out["parent"] = self.parent
        out["origin"] = self.origin
        for name in _TEXT_FIELDS:
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in _LIST_FIELDS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.color:
            out["color"] = self.color
        out["status"] = self.status
        return out


@dataclass
class Codebook:
    """A codebook file: its codes in order, and the log of changes made to it."""

    id: str
    name: str
    codes: list[Code] = field(default_factory=list)
    description: str = ""
    framework: str | None = None
    changelog: list[ChangeLogEntry] = field(default_factory=list)
    path: Path | None = None

    def get(self, code_id: str) -> Code | None:
        """The code with this id, or None."""
        return next((c for c in self.codes if c.id == code_id), None)

    def find(self, key: str) -> Code | None:
        """A code by id, else by name (case-insensitive)."""
        found = self.get(key)
        if found is not None:
            return found
        folded = " ".join(key.split()).casefold()
        return next((c for c in self.codes if " ".join(c.name.split()).casefold() == folded), None)

    def children(self, code_id: str | None) -> list[Code]:
        """Direct children of a code (None: the top-level codes)."""
        return [c for c in self.codes if c.parent == code_id]

    def path_of(self, code: Code) -> list[Code]:
        """The code and its ancestors, root first (stops at a cycle or a missing parent)."""
        chain, seen, cur = [], set(), code
        while cur is not None and cur.id not in seen:
            chain.append(cur)
            seen.add(cur.id)
            cur = self.get(cur.parent) if cur.parent else None
        return list(reversed(chain))

    def active(self) -> list[Code]:
        return [c for c in self.codes if c.status == "active"]

    def log(self, who: str, what: str, when: datetime | None = None) -> None:
        """Record an edit in the change log."""
        stamp = (when or datetime.now()).isoformat(timespec="seconds")
        self.changelog.append(ChangeLogEntry(who, stamp, what))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description:
            out["description"] = self.description
        if self.framework:
            out["framework"] = self.framework
        out["codes"] = [c.as_dict() for c in self.codes]
        out["changelog"] = [e.as_dict() for e in self.changelog]
        return out


# -- reading ----------------------------------------------------------------------------------

def load_codebook(path: str | Path) -> Codebook:
    """Read a codebook YAML file; any problem raises CodebookError naming file and line."""
    path = Path(path)
    data, root = load_yaml_file(path, CodebookError, "codebook file")
    if not isinstance(data, dict):
        raise CodebookError("a codebook must be a mapping with id, name and codes", path, 1)
    lines = key_lines(root)
    for key in ("id", "name"):
        if not data.get(key):
            raise CodebookError(f"missing '{key}'", path, lines.get(key, 1))
    book_id = str(data["id"])
    if not ID_RE.match(book_id):
        raise CodebookError(f"codebook id {book_id!r} must be lower-case letters, digits, _ . -", path, lines.get("id"))
    codes_data = data.get("codes") or []
    if not isinstance(codes_data, list):
        raise CodebookError("'codes' must be a list of codes", path, lines.get("codes"))
    code_nodes = []
    for k, v in (root.value if root is not None else []):
        if getattr(k, "value", None) == "codes" and hasattr(v, "value") and isinstance(v.value, list):
            code_nodes = v.value
    codes = [_parse_code(item, code_nodes[i] if i < len(code_nodes) else None, path)
             for i, item in enumerate(codes_data)]
    changelog = []
    for i, entry in enumerate(data.get("changelog") or []):
        if not isinstance(entry, dict):
            raise CodebookError(f"changelog entry {i + 1} must be a mapping with who, when, what", path, lines.get("changelog"))
        changelog.append(ChangeLogEntry(str(entry.get("who", "")), str(entry.get("when", "")), str(entry.get("what", ""))))
    return Codebook(book_id, str(data["name"]), codes, str(data.get("description") or ""),
                    data.get("framework"), changelog, path)


def _parse_code(item: Any, node, path: Path) -> Code:
    line = node.start_mark.line + 1 if node is not None else None
    lines = key_lines(node)
    if not isinstance(item, dict):
        raise CodebookError("each code must be a mapping with at least id and name", path, line)
    known = {f.name for f in fields(Code)} - {"line"}
    for key in item:
        if key not in known:
            import difflib

            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise CodebookError(f"unknown code field '{key}'{hint}", path, lines.get(str(key), line))
    for key in ("id", "name"):
        if item.get(key) in (None, ""):
            raise CodebookError(f"code is missing '{key}'", path, line)
    code_id = str(item["id"])
    if not ID_RE.match(code_id):
        raise CodebookError(f"code id {code_id!r} must be lower-case letters, digits, _ . - (e.g. data_sharing)", path, lines.get("id", line))
    origin = str(item.get("origin") or "inductive")
    if origin not in ORIGINS:
        raise CodebookError(f"origin {origin!r} must be deductive or inductive", path, lines.get("origin", line))
    status = str(item.get("status") or "active")
    if status not in STATUSES:
        raise CodebookError(f"status {status!r} must be active or retired", path, lines.get("status", line))
    values: dict[str, Any] = {}
    for name in _LIST_FIELDS:
        v = item.get(name)
        if v is None:
            v = []
        elif isinstance(v, str) and name != "patterns":
            v = [v]
        if not isinstance(v, list):
            raise CodebookError(f"'{name}' must be a list", path, lines.get(name, line))
        values[name] = v if name == "patterns" else [str(x) for x in v]
    for name in _TEXT_FIELDS:
        v = item.get(name)
        if v is not None and not isinstance(v, (str, int, float)):
            raise CodebookError(f"'{name}' must be text", path, lines.get(name, line))
        values[name] = str(v).strip() if v is not None else ""
    parent = item.get("parent")
    return Code(code_id, str(item["name"]).strip(), str(parent) if parent not in (None, "") else None, origin,
                color=str(item["color"]) if item.get("color") else None, status=status, line=line, **values)


# -- writing ----------------------------------------------------------------------------------

def dump_codebook(codebook: Codebook) -> str:
    """The codebook as YAML text: stable key order, one field per line, diff-friendly."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(codebook.as_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def save_codebook(codebook: Codebook, path: str | Path | None = None, backup_dir: str | Path | None = None) -> Path:
    """Write the codebook atomically; an existing file is backed up first."""
    target = Path(path or codebook.path or f"{codebook.id}.yaml")
    backup(target, backup_dir)
    atomic_write_text(target, dump_codebook(codebook))
    codebook.path = target
    return target


def load_codebooks(folder: str | Path) -> list[Codebook]:
    """Every codebooks/*.yaml (and *.yml), in name order; duplicate codebook ids are an error."""
    folder = Path(folder)
    books: list[Codebook] = []
    seen: dict[str, Path] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        book = load_codebook(path)
        if book.id in seen:
            raise CodebookError(f"codebook id {book.id!r} is also used by {seen[book.id].name}", path, 1)
        seen[book.id] = path
        books.append(book)
    return books


def all_codes(books: Iterable[Codebook]) -> dict[str, tuple[Codebook, Code]]:
    """Code id -> (codebook, code) across codebooks (first definition wins; validate reports clashes)."""
    out: dict[str, tuple[Codebook, Code]] = {}
    for book in books:
        for code in book.codes:
            out.setdefault(code.id, (book, code))
    return out
