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
        codable: false            # only on a folder: a code that groups codes and is not applied (NVivo, ATLAS.ti)
    groups:                       # code groups (MAXQDA sets, ATLAS.ti code groups): codes by id, any branch
      - name: Money
        codes: [cost, insurance]
        description: Anything that costs someone something.
    changelog:
      - {who: ana, when: "2026-03-01T10:00:00", what: "added data_sharing"}

Code ids are what codings/<coder>.csv refers to, so they must be unique across every codebook of
a workspace. Errors name the file and the line of the offending field.
"""
from __future__ import annotations

from collections.abc import Iterable
from copy import copy, deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import CodebookError
from qualkit.io.atomic import atomic_write_text, backup
from qualkit.io.schema import SchemaProblem, validate
from qualkit.io.yamlfile import key_lines, load_yaml_file
from qualkit.workspace.codebook_fields import CODE_FIELDS, ID_RE, LIST_FIELDS, ORIGINS, STATUSES, TEXT_FIELDS

if TYPE_CHECKING:  # the schema (pydantic) is imported when a codebook is first read
    from qualkit.workspace.codebook_schema import CodebookFile, CodeEntry

__all__ = ["ID_RE", "ORIGINS", "STATUSES", "ChangeLogEntry", "Code", "CodeGroup", "Codebook", "CodebookError", "CodebookLines",
           "all_codes", "dump_codebook", "load_codebook", "load_codebooks", "read_codebook", "save_codebook"]


@dataclass
class ChangeLogEntry:
    """One edit to a codebook: who, when (ISO 8601), what."""

    who: str
    when: str
    what: str

    def as_dict(self) -> dict[str, str]:
        return {"who": self.who, "when": self.when, "what": self.what}


@dataclass
class CodeGroup:
    """A named set of codes from any branch of the codebook (a MAXQDA set, an ATLAS.ti code group)."""

    name: str
    codes: list[str] = field(default_factory=list)  # code ids
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "codes": list(self.codes)}
        if self.description:
            out["description"] = self.description
        return out


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
    codable: bool = True  # False: a folder that groups codes and is not applied itself (REFI-QDA isCodable)
    line: int | None = field(default=None, compare=False, repr=False)  # where it is defined

    def as_dict(self) -> dict[str, Any]:
        """The code as YAML writes it: empty optional fields left out, order fixed."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.parent:
            out["parent"] = self.parent
        out["origin"] = self.origin
        for name in TEXT_FIELDS:
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in LIST_FIELDS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.color:
            out["color"] = self.color
        out["status"] = self.status
        if not self.codable:
            out["codable"] = False
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
    groups: list[CodeGroup] = field(default_factory=list)

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
        chain: list[Code] = []
        seen: set[str] = set()
        cur: Code | None = code
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
        if self.groups:
            out["groups"] = [g.as_dict() for g in self.groups]
        out["changelog"] = [e.as_dict() for e in self.changelog]
        return out


# -- reading ----------------------------------------------------------------------------------

@dataclass
class CodebookLines:
    """Line numbers of a codebook file's keys, for messages about its codes (codes built in memory have none)."""

    by_code: dict[int, dict[str, int]] = field(default_factory=dict)   # id(code) -> key -> line
    ref_lines: dict[int, list[int]] = field(default_factory=dict)      # id(code) -> line of each framework ref
    book_keys: dict[str, int] = field(default_factory=dict)            # top-level key -> line

    def of(self, code: Code, key: str | None = None) -> int | None:
        """The line of ``key`` in ``code``'s entry, else the line where the code starts."""
        if key is not None:
            line = self.by_code.get(id(code), {}).get(key)
            if line is not None:
                return line
        return code.line

    def ref(self, code: Code, i: int) -> int | None:
        """The line of the code's ``i``-th framework ref (the ``framework:`` line when written inline)."""
        refs = self.ref_lines.get(id(code), [])
        return refs[i] if i < len(refs) else self.of(code, "framework")

    def add(self, code: Code, node: Any) -> None:
        """Remember the lines of the keys (and block-list framework refs) of ``code``'s YAML node."""
        self.by_code[id(code)] = key_lines(node)
        for k, v in (node.value if node is not None else []):
            if getattr(k, "value", None) == "framework" and isinstance(getattr(v, "value", None), list):
                self.ref_lines[id(code)] = [x.start_mark.line + 1 for x in v.value]


_Read = tuple["Codebook | None", list[SchemaProblem], CodebookLines]
_READ_CACHE: dict[Path, tuple[bytes, _Read]] = {}  # path -> (the file's bytes, what they read as)
_READ_CACHE_SIZE = 32


def read_codebook(path: str | Path) -> tuple[Codebook | None, list[SchemaProblem], CodebookLines]:
    """Read a codebook file against its schema, collecting every problem instead of stopping at the first.

    Returns the codebook built from what could be read (None if the file is not a codebook at
    all), every problem with its file and line, and the line numbers of its keys.

    Parsed once per content: a command asks for the codebooks many times (`run`: 46 reads of two
    files), so the YAML parse and the schema check are kept with the file's bytes, and a read whose
    bytes are the same gets a fresh copy (callers may edit what they get).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError:
        return _read_codebook(path)
    hit = _READ_CACHE.get(path)
    if hit is not None and hit[0] == raw:
        return _fresh(hit[1])
    kept = _from_kept(path, raw)
    result = kept if kept is not None else _read_codebook(path)
    try:
        unchanged = path.read_bytes() == raw  # not edited while it was parsed
    except OSError:
        unchanged = False
    if unchanged:
        if kept is None and result[0] is not None and not result[1]:
            _keep(path, raw, result)
        if len(_READ_CACHE) >= _READ_CACHE_SIZE:
            _READ_CACHE.pop(next(iter(_READ_CACHE)))
        _READ_CACHE[path] = (raw, result)
        return _fresh(result)
    return result


def _readers() -> list[Path]:
    """The source files whose code decides what a codebook file reads as (the key of its kept parse)."""
    here = Path(__file__).parent
    return [Path(__file__), here / "codebook_schema.py", here / "codebook_fields.py", here.parent / "io" / "schema.py",
            here.parent / "io" / "yamlfile.py"]


def _keep(path: Path, raw: bytes, result: _Read) -> None:
    """Keep a codebook read without a problem in .qualkit/cache/ (:mod:`qualkit.io.parsed`), lines and all."""
    from dataclasses import asdict

    from qualkit.io.parsed import keep_parse

    book, _, lines = result
    assert book is not None
    value = {"id": book.id, "name": book.name, "description": book.description, "framework": book.framework,
             "changelog": [e.as_dict() for e in book.changelog], "groups": [asdict(g) for g in book.groups],
             "codes": [{**asdict(c), "key_lines": lines.by_code.get(id(c)), "ref_lines": lines.ref_lines.get(id(c))}
                       for c in book.codes],
             "book_keys": lines.book_keys}
    keep_parse(path, raw, "codebook", _readers(), value)


def _from_kept(path: Path, raw: bytes) -> _Read | None:
    """The codebook :func:`_keep` kept for these bytes (no PyYAML, no pydantic), or None."""
    from qualkit.io.parsed import kept_parse

    value = kept_parse(path, raw, "codebook", _readers())
    if value is None:
        return None
    try:
        lines = CodebookLines(book_keys=dict(value["book_keys"]))
        codes = []
        for entry in value["codes"]:
            key_lines, ref_lines = entry.pop("key_lines"), entry.pop("ref_lines")
            code = Code(**entry)
            if key_lines is not None:
                lines.by_code[id(code)] = key_lines
            if ref_lines is not None:
                lines.ref_lines[id(code)] = ref_lines
            codes.append(code)
        book = Codebook(value["id"], value["name"], codes, value["description"], value["framework"],
                        [ChangeLogEntry(**e) for e in value["changelog"]], path, [CodeGroup(**g) for g in value["groups"]])
    except (KeyError, TypeError, ValueError, AttributeError):  # a damaged entry is a miss
        return None
    return book, [], lines


def _fresh(result: _Read) -> _Read:
    """A copy of a read codebook that shares nothing a caller could change with the kept one."""
    book, problems, lines = result
    new_lines = CodebookLines(book_keys=dict(lines.book_keys))
    if book is None:
        return None, list(problems), new_lines
    codes = []
    for code in book.codes:
        new = copy(code)
        for name in LIST_FIELDS:  # patterns hold lists of dicts
            setattr(new, name, deepcopy(getattr(code, name)) if name == "patterns" else list(getattr(code, name)))
        if id(code) in lines.by_code:
            new_lines.by_code[id(new)] = dict(lines.by_code[id(code)])
        if id(code) in lines.ref_lines:
            new_lines.ref_lines[id(new)] = list(lines.ref_lines[id(code)])
        codes.append(new)
    changelog = [ChangeLogEntry(e.who, e.when, e.what) for e in book.changelog]
    groups = [CodeGroup(g.name, list(g.codes), g.description) for g in book.groups]
    return (Codebook(book.id, book.name, codes, book.description, book.framework, changelog, book.path, groups),
            list(problems), new_lines)


def _read_codebook(path: Path) -> tuple[Codebook | None, list[SchemaProblem], CodebookLines]:
    lines = CodebookLines()
    if path.is_dir():
        return None, [SchemaProblem(path, None, "", "is a folder, not a codebook file")], lines
    try:
        data, root = load_yaml_file(path, CodebookError, "codebook file")
    except CodebookError as exc:
        return None, [SchemaProblem(exc.path, exc.line, "", exc.message)], lines
    from qualkit.workspace.codebook_schema import CodebookFile

    parsed, problems = validate(CodebookFile, data, root, path)
    problems = [p if p.line is not None else SchemaProblem(p.path, 1, p.field, p.message) for p in problems]
    if not isinstance(data, dict):
        return None, problems, lines
    lines.book_keys = key_lines(root)
    head, entries = (parsed, list(enumerate(parsed.codes))) if parsed is not None else _salvage(data, path)
    code_nodes = _code_nodes(root)
    codes = []
    for i, entry in entries:
        node = code_nodes[i] if i < len(code_nodes) else None
        code = Code(**entry.model_dump(), line=node.start_mark.line + 1 if node is not None else None)
        lines.add(code, node)
        codes.append(code)
    problems += _duplicate_ids(codes, lines, path)
    changelog = [ChangeLogEntry(e.who, e.when, e.what) for e in head.changelog]
    groups = [CodeGroup(g.name, list(g.codes), g.description) for g in head.groups]
    return Codebook(head.id, head.name, codes, head.description, head.framework, changelog, path, groups), problems, lines


def _duplicate_ids(codes: list[Code], lines: CodebookLines, path: Path) -> list[SchemaProblem]:
    """A code id used twice in one file: codings name codes by id alone, so which one they mean is unknowable."""
    first: dict[str, Code] = {}
    problems = []
    for code in codes:
        prev = first.setdefault(code.id, code)
        if prev is not code:
            where = f" on line {lines.of(prev, 'id')}" if lines.of(prev, "id") else ""
            problems.append(SchemaProblem(path, lines.of(code, "id"), "",
                                          f"duplicate code id {code.id!r} (already defined{where}); give one of them "
                                          "another id"))
    return problems


def _code_nodes(root: Any) -> list[Any]:
    for k, v in (root.value if root is not None else []):
        if getattr(k, "value", None) == "codes" and isinstance(getattr(v, "value", None), list):
            return list(v.value)
    return []


def _salvage(data: dict[str, Any], path: Path) -> tuple[CodebookFile, list[tuple[int, CodeEntry]]]:
    """What can be read of a codebook with problems: good fields, codes with an id, good log entries."""
    from qualkit.workspace.codebook_schema import ChangeLogEntryModel, CodebookFile

    head: dict[str, Any] = {"id": "x", "name": data.get("name") or path.stem}
    head.update({k: data[k] for k in ("description", "framework") if k in data})
    book, _ = validate(CodebookFile, head)
    if book is None:
        book, _ = validate(CodebookFile, {"id": "x", "name": path.stem})
    assert book is not None
    log = data.get("changelog")
    entries = [validate(ChangeLogEntryModel, e)[0] for e in (log if isinstance(log, list) else []) if isinstance(e, dict)]
    book = book.model_copy(update={"id": str(data.get("id") or "") or path.stem,
                                   "changelog": [e for e in entries if e is not None]})
    items = data.get("codes")
    codes = [(i, _salvage_code(item)) for i, item in enumerate(items if isinstance(items, list) else [])]
    return book, [(i, code) for i, code in codes if code is not None]


def _salvage_code(item: Any) -> CodeEntry | None:
    """A code entry without its bad fields (None without an id): structural checks still see it."""
    from qualkit.workspace.codebook_schema import CodeEntry

    entry, problems = validate(CodeEntry, item)
    if entry is not None or not isinstance(item, dict) or item.get("id") in (None, ""):
        return entry
    bad = {p.field.split(".")[0].split("[")[0] for p in problems}
    code_id = str(item["id"])
    kept = {k: v for k, v in item.items() if k in CODE_FIELDS and k not in bad}
    kept.update(id="x", name=str(item.get("name") or code_id))
    entry, _ = validate(CodeEntry, kept)
    return entry.model_copy(update={"id": code_id}) if entry is not None else None


def load_codebook(path: str | Path) -> Codebook:
    """Read a codebook YAML file; its first problem raises CodebookError naming file and line.

    This is :func:`read_codebook` made strict, so the two can never accept different files."""
    book, problems, _ = read_codebook(path)
    if problems:
        first = problems[0]
        raise CodebookError(first.message, first.path or Path(path), first.line)
    assert book is not None
    return book

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
