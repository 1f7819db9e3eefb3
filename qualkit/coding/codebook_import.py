"""Importing a codebook from a CSV or XLSX sheet (one row per code; see :mod:`qualkit.coding.codebook_exchange`).

Every import error names the file and the row (the spreadsheet's row number; the header is row 1).
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.coding.codebook_sheet import COLUMNS, PATH_SEP, split_list, split_path
from qualkit.errors import CodebookImportError
from qualkit.io.naming import slugify, unique_id
from qualkit.workspace.codebook import ID_RE, ORIGINS, STATUSES, Code, Codebook

__all__ = ["CodebookImportError", "import_codebook"]

Path_ = tuple[str, ...]  # a code's path of names, case-folded

# loose header names -> field
_HEADER_ALIASES = {
    "code": "code", "code path": "code", "path": "code", "code system": "code", "codes": "code",
    "id": "id", "code id": "id",
    "origin": "origin", "type": "origin",
    "status": "status",
    "brief": "brief", "brief definition": "brief", "short definition": "brief",
    "definition": "definition", "full definition": "definition", "description": "definition",
    "include": "include", "inclusion": "include", "inclusion criteria": "include", "when to use": "include",
    "exclude": "exclude", "exclusion": "exclude", "exclusion criteria": "exclude", "when not to use": "exclude",
    "examples": "examples", "example": "examples",
    "keywords": "keywords", "keyword": "keywords", "search terms": "keywords",
    "framework": "framework", "frameworks": "framework", "framework refs": "framework", "framework ref": "framework",
    "color": "color", "colour": "color",
    "patterns": "patterns",
    # informational columns a codebook export may carry: accepted and not used
    "name": None, "parent": None, "level": None, "depth": None, "codings": None,
}


def _read_rows(path: Path, notes: list[str]) -> list[tuple[int, list[str]]]:
    """(row number, cells) of a CSV or XLSX file, header first."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "csv":
        return _read_csv_rows(path, notes)
    if fmt in ("xlsx", "xlsm"):
        return _read_xlsx_rows(path, notes)
    from qualkit.io.naming import file_kind

    raise CodebookImportError(f"cannot import {file_kind(path)}: a codebook is imported from a .csv or .xlsx file", path)


def _read_csv_rows(path: Path, notes: list[str]) -> list[tuple[int, list[str]]]:
    from qualkit.io.tables import read_csv

    table = read_csv(path, error_cls=CodebookImportError)
    if table.encoding == "cp1252":
        notes.append(f"{path.name} is not UTF-8; read it as Windows-1252 (save as 'CSV UTF-8' to avoid this)")
    return [(r.number, r.cells) for r in table.rows]


def _read_xlsx_rows(path: Path, notes: list[str]) -> list[tuple[int, list[str]]]:
    from qualkit.io.tables import read_xlsx

    table = read_xlsx(path, error_cls=CodebookImportError, kind="a readable Excel workbook",
                      prefer=("codebook", "codes", "code system"))
    if len(table.sheets) > 1:
        notes.append(f"read sheet {table.sheet!r} of {path.name}")
    return [(r.line, r.cells) for r in table.rows]


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text).casefold()).split())


@dataclass
class _Row:
    """One code row of the sheet: its row number, path of names and cells by field."""

    line: int
    names: list[str]
    values: dict[str, str]


def import_codebook(path: str | Path, *, id: str | None = None, name: str | None = None,  # noqa: A002
                    frameworks: Mapping[str, Any] | None = None, default_framework: str | None = None,
                    taken_ids: Iterable[str] | Mapping[str, str] = (), notes: list[str] | None = None) -> Codebook:
    """Read a CSV/XLSX codebook (one row per code, ``code`` = path) into a new Codebook.

    ``id`` and ``name`` default to the file's stem. Generated code ids avoid ``taken_ids`` (the
    workspace's other codes; a mapping of code id to codebook id makes clash messages name it).
    Framework refs are checked against ``frameworks`` (default: the built-ins), with
    ``default_framework`` for refs written without a prefix. ``notes`` collects remarks (ignored
    columns, encoding). Raises :class:`CodebookImportError` naming file and row.
    """
    from qualkit.frameworks.catalog import builtin_frameworks

    path = Path(path)
    notes = notes if notes is not None else []
    rows = _read_rows(path, notes)
    while rows and not any(c.strip() for c in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise CodebookImportError("the file is empty (expected a header row with a 'code' column)", path, 1)
    cols = _header_columns(rows[0][1], path, rows[0][0], notes)
    parsed = _parse_rows(rows, cols, path)
    taken = _check_explicit_ids(parsed, taken_ids, path)
    fws = frameworks if frameworks is not None else builtin_frameworks()
    codes, made, implicit = _build_codes(parsed, taken, path, fws, default_framework)
    if implicit:
        created = sorted(PATH_SEP.join(c.name for c in _chain(made, k)) for k in implicit)
        notes.append(f"created {len(implicit)} parent code{'s' if len(implicit) > 1 else ''} with no row of "
                     f"{'their' if len(implicit) > 1 else 'its'} own: {', '.join(created)}")
    book_id = id or slugify(path.stem)
    if not ID_RE.match(book_id):
        raise CodebookImportError(f"codebook id {book_id!r} must be lower-case letters, digits, _ . -", path)
    return Codebook(book_id, name or path.stem.replace("_", " ").strip() or book_id, codes)


def _header_columns(header: list[str], path: Path, header_line: int, notes: list[str]) -> dict[str, int]:
    """Field -> column index, from loosely matched header names; unknown columns are noted (or refused when close)."""
    cols: dict[str, int] = {}
    ignored = []
    for i, h in enumerate(header):
        key = _header_key(h)
        if not key:
            continue
        if key in _HEADER_ALIASES:
            target = _HEADER_ALIASES[key]
            if target is None:
                continue
            if target in cols:
                raise CodebookImportError(f"two columns mean {target!r}: {header[cols[target]]!r} and {h!r}", path, header_line)
            cols[target] = i
            continue
        close = difflib.get_close_matches(key, [k for k, v in _HEADER_ALIASES.items() if v], n=1, cutoff=0.8)
        if close:
            raise CodebookImportError(f"unknown column {h!r} (did you mean {close[0]!r}?)", path, header_line)
        ignored.append(str(h).strip())
    if "code" not in cols:
        found = ", ".join(repr(h) for h in header if str(h).strip()) or "none"
        raise CodebookImportError("no 'code' column (the code's path of names, e.g. 'Stigma > Self-stigma'); "
                                  f"columns found: {found}", path, header_line)
    if ignored:
        notes.append(f"ignored column{'s' if len(ignored) > 1 else ''}: {', '.join(ignored)}")
    return cols


def _parse_rows(rows: list[tuple[int, list[str]]], cols: dict[str, int], path: Path) -> list[_Row]:
    """The code rows under the header: names from the code path, the other cells by field."""
    def get(cells: list[str], f: str) -> str:
        i = cols.get(f)
        return cells[i].strip() if i is not None and i < len(cells) and cells[i] is not None else ""

    parsed: list[_Row] = []
    by_path: dict[tuple[str, ...], _Row] = {}
    for line, cells in rows[1:]:
        if not any(str(c).strip() for c in cells):
            continue
        raw_path = get(cells, "code")
        if not raw_path:
            raise CodebookImportError("no code name in the 'code' column", path, line)
        names = [" ".join(n.split()) for n in split_path(raw_path)]
        if any(not n for n in names):
            raise CodebookImportError(f"empty name in code path {raw_path!r} (write it as 'Parent > Child')", path, line)
        key = tuple(n.casefold() for n in names)
        if key in by_path:
            raise CodebookImportError(f"duplicate code {PATH_SEP.join(names)!r} (also row {by_path[key].line})", path, line)
        row = _Row(line, names, {f: get(cells, f) for f in COLUMNS if f != "code"})
        by_path[key] = row
        parsed.append(row)
    if not parsed:
        raise CodebookImportError("no codes: the file has a header row but no code rows", path, rows[0][0])
    return parsed


def _check_explicit_ids(parsed: list[_Row], taken_ids: Iterable[str] | Mapping[str, str], path: Path) -> set[str]:
    """Every id generated ones must avoid: the workspace's and those written in the sheet (checked first)."""
    explicit: dict[str, _Row] = {}
    for row in parsed:
        cid = row.values.get("id", "")
        if not cid:
            continue
        if not ID_RE.match(cid):
            raise CodebookImportError(f"code id {cid!r} must be lower-case letters, digits, _ . - (or leave it blank)", path, row.line)
        if cid in explicit:
            raise CodebookImportError(f"duplicate code id {cid!r} (also row {explicit[cid].line})", path, row.line)
        explicit[cid] = row
    owners: dict[str, str | None] = dict(taken_ids) if isinstance(taken_ids, Mapping) else {t: None for t in taken_ids}
    clash = [cid for cid in explicit if cid in owners]
    if clash:
        row, owner = explicit[clash[0]], owners[clash[0]]
        where = f"codebook {owner!r}" if owner else "another codebook of the workspace"
        hint = (f"; to replace that codebook import with --id {owner} --replace, or clear the id column to get new ids"
                if owner else "")
        raise CodebookImportError(f"code id {clash[0]!r} is already used by {where}{hint}", path, row.line)
    return set(owners) | set(explicit)


def _row_fields(row: _Row, path: Path, frameworks: Mapping[str, Any], default_framework: str | None) -> dict[str, Any]:
    """A row's code fields, checked: origin, status, framework refs (short form), patterns (JSON)."""
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    v = row.values
    origin = (v.get("origin") or "inductive").lower()
    if origin not in ORIGINS:
        raise CodebookImportError(f"origin {v.get('origin')!r} must be deductive or inductive", path, row.line)
    status = (v.get("status") or "active").lower()
    if status not in STATUSES:
        raise CodebookImportError(f"status {v.get('status')!r} must be active or retired", path, row.line)
    refs: list[str] = []
    for ref in split_list(v.get("framework", "")):
        try:
            item = resolve_ref(ref, frameworks=frameworks, default=default_framework)
        except FrameworkError as exc:
            raise CodebookImportError(f"framework ref {ref!r}: {exc.message}", path, row.line) from None
        if item.ref not in refs:
            refs.append(item.ref)
    patterns: list[Any] = []
    if v.get("patterns"):
        try:
            patterns = json.loads(v["patterns"])
        except json.JSONDecodeError as exc:
            raise CodebookImportError(f"'patterns' is not valid JSON ({exc.msg})", path, row.line) from None
        if not isinstance(patterns, list):
            raise CodebookImportError("'patterns' must be a JSON list", path, row.line)
    return dict(origin=origin, status=status, brief=v.get("brief", ""), definition=v.get("definition", ""),
                include=v.get("include", ""), exclude=v.get("exclude", ""), examples=split_list(v.get("examples", "")),
                keywords=split_list(v.get("keywords", "")), framework=refs, patterns=patterns,
                color=v.get("color") or None)


def _build_codes(parsed: list[_Row], taken: set[str], path: Path, frameworks: Mapping[str, Any],
                 default_framework: str | None) -> tuple[list[Code], dict[Path_, Code], set[Path_]]:
    """The codes in row order, parents without a row of their own made on the way (``implicit``)."""
    codes: list[Code] = []
    made: dict[Path_, Code] = {}
    implicit: set[Path_] = set()
    for row in parsed:
        key = tuple(n.casefold() for n in row.names)
        fields_ = _row_fields(row, path, frameworks, default_framework)
        for depth in range(1, len(row.names)):  # parents without a row of their own (yet)
            pkey = key[:depth]
            if pkey not in made:
                parent = made.get(pkey[:-1])
                pname = row.names[depth - 1]
                code = Code(_generate_id(pname, parent.id if parent else None, taken), pname,
                            parent.id if parent else None, fields_["origin"])
                made[pkey] = code
                implicit.add(pkey)
                codes.append(code)
        parent = made.get(key[:-1]) if len(key) > 1 else None
        v = row.values
        if key in made:  # a parent created earlier from a child's path: fill it in
            code = made[key]
            implicit.discard(key)
            if v.get("id") and v["id"] != code.id:
                taken.discard(code.id)
                old = code.id
                code.id = v["id"]
                for c in codes:
                    if c.parent == old:
                        c.parent = code.id
            for k, val in fields_.items():
                setattr(code, k, val)
        else:
            cid = v.get("id") or _generate_id(row.names[-1], parent.id if parent else None, taken)
            code = Code(cid, row.names[-1], parent.id if parent else None, **fields_)
            made[key] = code
            codes.append(code)
        code.line = row.line
    return codes, made, implicit


def _chain(made: Mapping[Path_, Code], key: Path_) -> list[Code]:
    return [made[key[:i]] for i in range(1, len(key) + 1)]


def _generate_id(name: str, parent_id: str | None, taken: set[str]) -> str:
    base = slugify(name)
    if base in taken and parent_id:
        base = slugify(f"{parent_id}_{base}", max_len=64)
    cid = unique_id(base, taken)
    taken.add(cid)
    return cid
