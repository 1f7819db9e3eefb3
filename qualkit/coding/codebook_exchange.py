"""Codebooks for people and other tools: export (CSV, XLSX, DOCX, Markdown), import (CSV, XLSX), diff.

Spreadsheet layout (CSV and XLSX, one row per code)::

    code                      id               origin     status  brief  definition  include  exclude  examples      keywords      framework       color  patterns
    Stigma                    stigma           inductive  active  ...    ...         ...      ...      "a"; "b"      shame; judged  heif:societal_context
    Stigma > Self-stigma      stigma_self      inductive  active  ...

* ``code`` is the code's path of names, root first, joined by ``" > "`` (as MAXQDA users keep
  them); a ``>`` inside a name is written ``\\>``. Import builds the hierarchy from these paths and
  creates parents that have no row of their own.
* List fields (examples, keywords, framework) are joined with ``"; "``; a ``;`` inside an item is
  written ``\\;``. ``patterns`` (spaCy token patterns) is JSON.
* ``id`` may be left blank (or the column left out): ids are then generated from names
  (snake_case; a clash gets the parent's id as prefix, then ``_2``, ``_3``...).
* Header names are matched loosely ("When to use" = include, "Exclusion criteria" = exclude, ...);
  columns that mean nothing to qualkit are ignored and reported.

Every import error names the file and the row (the spreadsheet's row number; the header is row 1).
Exports are written atomically. The DOCX export is a manuscript appendix: landscape, a title, one
table row per code (hierarchy shown by indentation), with name, definition, when to use / not to
use and an example, and the header row repeated on every page.
"""
from __future__ import annotations

import difflib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.io.atomic import atomic_write_bytes, atomic_write_text
from qualkit.workspace.codebook import (
    ID_RE,
    ORIGINS,
    STATUSES,
    Code,
    Codebook,
    CodebookError,
)

COLUMNS = ("code", "id", "origin", "status", "brief", "definition", "include", "exclude", "examples",
           "keywords", "framework", "color", "patterns")
FORMATS = ("csv", "xlsx", "docx", "md")
PATH_SEP = " > "
LIST_SEP = "; "
_COMPARED = ("name", "parent", "origin", "status", "brief", "definition", "include", "exclude", "examples",
             "keywords", "patterns", "framework", "color")

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


from qualkit.errors import CodebookImportError  # noqa: F401  (defined with every other error in qualkit.errors)

# -- helpers ----------------------------------------------------------------------------------

def _join(items: Iterable[str]) -> str:
    return LIST_SEP.join(str(x).replace(";", "\\;") for x in items)


def _split(text: str) -> list[str]:
    parts = re.split(r"(?<!\\);", text or "")
    return [p.replace("\\;", ";").strip() for p in parts if p.strip()]


def _escape_name(name: str) -> str:
    return name.replace(">", "\\>")


def _split_path(text: str) -> list[str]:
    return [p.replace("\\>", ">").strip() for p in re.split(r"(?<!\\)>", text)]


def tree_order(book: Codebook) -> list[tuple[Code, int]]:
    """Codes parent-first (children in file order) with their depth; codes outside the tree last."""
    ids = {c.id for c in book.codes}
    out: list[tuple[Code, int]] = []
    seen: set[int] = set()

    def walk(parent: str | None, depth: int) -> None:
        for c in book.codes:
            if id(c) in seen:
                continue
            is_root = parent is None and (c.parent is None or c.parent not in ids)
            if (parent is None and is_root) or (parent is not None and c.parent == parent):
                seen.add(id(c))
                out.append((c, depth))
                walk(c.id, depth + 1)

    walk(None, 0)
    for c in book.codes:  # codes caught in a cycle
        if id(c) not in seen:
            seen.add(id(c))
            out.append((c, len(book.path_of(c)) - 1))
    return out


def code_path(book: Codebook, code: Code) -> str:
    return PATH_SEP.join(_escape_name(c.name) for c in book.path_of(code))


def _row(book: Codebook, code: Code) -> dict[str, str]:
    return {"code": code_path(book, code), "id": code.id, "origin": code.origin, "status": code.status,
            "brief": code.brief, "definition": code.definition, "include": code.include, "exclude": code.exclude,
            "examples": _join(code.examples), "keywords": _join(code.keywords), "framework": _join(code.framework),
            "color": code.color or "", "patterns": json.dumps(code.patterns, ensure_ascii=False) if code.patterns else ""}


def _visible(book: Codebook, include_retired: bool) -> list[tuple[Code, int]]:
    rows = tree_order(book)
    if include_retired:
        return rows
    keep = []
    for c, depth in rows:
        if c.status != "retired":
            keep.append((c, depth))
    return keep


# -- export -----------------------------------------------------------------------------------

def export_codebook(codebook: Codebook, path: str | Path, *, include_retired: bool | None = None,
                    source: str | None = None) -> Path:
    """Write the codebook to FILE.csv, .xlsx, .docx or .md (by extension), atomically.

    CSV and XLSX hold every field (they re-import with :func:`import_codebook`) and, by default,
    retired codes too; DOCX and Markdown are for reading and leave retired codes out by default.
    ``source`` is mentioned in the DOCX/Markdown footer (e.g. the codebook's file name).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CodebookError(f"cannot export to '.{fmt}': use .csv, .xlsx, .docx or .md", path)
    if include_retired is None:
        include_retired = fmt in ("csv", "xlsx")
    rows = _visible(codebook, include_retired)
    if fmt == "csv":
        atomic_write_text(path, _csv_text(codebook, rows))
    elif fmt == "xlsx":
        atomic_write_bytes(path, _xlsx_bytes(codebook, rows))
    elif fmt == "docx":
        atomic_write_bytes(path, _docx_bytes(codebook, rows, source))
    else:
        atomic_write_text(path, _markdown(codebook, rows, source))
    return path


def _csv_text(book: Codebook, rows) -> str:
    import csv

    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for code, _ in rows:
        writer.writerow(_row(book, code))
    return "\ufeff" + buf.getvalue()  # a BOM so that Excel reads UTF-8


def _xlsx_bytes(book: Codebook, rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Codebook"
    ws.append(list(COLUMNS))
    for code, _ in rows:
        r = _row(book, code)
        ws.append([r[c] for c in COLUMNS])
    widths = {"code": 40, "id": 24, "origin": 11, "status": 9, "brief": 40, "definition": 60, "include": 50,
              "exclude": 50, "examples": 60, "keywords": 40, "framework": 30, "color": 10, "patterns": 20}
    for i, col in enumerate(COLUMNS, 1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = widths[col]
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="DDE5F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _docx_bytes(book: Codebook, rows, source: str | None) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    from qualkit.render.formats import landscape

    section = landscape(doc, margin_cm=1.8, font="Calibri", font_pt=10)

    doc.add_heading(f"Codebook: {book.name}", level=1)
    if book.description:
        doc.add_paragraph(book.description)
    n_ind = sum(1 for c, _ in rows if c.origin == "inductive")
    intro = (f"{len(rows)} codes ({len(rows) - n_ind} deductive, {n_ind} inductive). "
             "Sub-codes are indented under their parent code. Fields after MacQueen et al. (1998).")
    doc.add_paragraph(intro)

    usable = section.page_width - section.left_margin - section.right_margin
    fractions = (0.22, 0.30, 0.30, 0.18)
    widths = [int(usable * f) for f in fractions]
    headers = ("Code", "Definition", "When to use / when not to use", "Example")
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False

    from qualkit.render.formats import mark_row
    from qualkit.render.formats import shade_cell as shade

    def row_props(row, header: bool) -> None:
        mark_row(row, header=header)

    def para(cell, first: bool = False):
        p = cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()
        p.paragraph_format.space_after = Pt(2)
        return p

    def run(p, text: str, bold=False, italic=False, size=9, grey=False):
        r = p.add_run(text)
        r.bold, r.italic = bold, italic
        r.font.size = Pt(size)
        if grey:
            r.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        return r

    head = table.rows[0]
    row_props(head, header=True)
    for i, text in enumerate(headers):
        cell = head.cells[i]
        cell.width = widths[i]
        shade(cell, "D9E2F3")
        run(para(cell, True), text, bold=True, size=9.5)

    for code, depth in rows:
        row = table.add_row()
        row_props(row, header=False)
        cells = row.cells
        for i, cell in enumerate(cells):
            cell.width = widths[i]
        p = para(cells[0], True)
        p.paragraph_format.left_indent = Cm(0.45 * depth)
        run(p, ("\u2013 " if depth else "") + code.name, bold=depth == 0)
        if code.status == "retired":
            run(p, " (retired)", italic=True, grey=True)
        p = para(cells[0])
        p.paragraph_format.left_indent = Cm(0.45 * depth)
        meta = code.id + (f" \u00b7 {code.origin}" if code.origin else "")
        run(p, meta, size=7.5, grey=True)
        if code.framework:
            p = para(cells[0])
            p.paragraph_format.left_indent = Cm(0.45 * depth)
            run(p, ", ".join(code.framework), size=7.5, grey=True)
        first = True
        if code.brief and not " ".join(code.definition.split()).startswith(code.brief.rstrip(". ")):
            run(para(cells[1], first), code.brief, italic=True)
            first = False
        if code.definition:
            run(para(cells[1], first), code.definition)
        first = True
        if code.include:
            p = para(cells[2], first)
            run(p, "Use: ", bold=True)
            run(p, code.include)
            first = False
        if code.exclude:
            p = para(cells[2], first)
            run(p, "Do not use: ", bold=True)
            run(p, code.exclude)
        first = True
        for example in code.examples[:2]:
            run(para(cells[3], first), f"\u201c{example}\u201d", italic=True)
            first = False
    foot = doc.add_paragraph()
    run(foot, f"Codebook {book.id}" + (f" ({source})" if source else "") + ", exported by qualkit.", size=8, grey=True)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", " ".join(str(text).split()))


def _markdown(book: Codebook, rows, source: str | None) -> str:
    out = [f"# Codebook: {_md_escape(book.name)}", ""]
    if book.description:
        out += [_md_escape(book.description), ""]
    n_ind = sum(1 for c, _ in rows if c.origin == "inductive")
    out += [f"{len(rows)} codes ({len(rows) - n_ind} deductive, {n_ind} inductive); "
            "sub-codes are listed under their parent.", ""]
    numbers: dict[str, str] = {}
    counters: dict[str | None, int] = {}
    ids = {c.id for c, _ in rows}
    for code, depth in rows:
        parent = code.parent if code.parent in ids else None
        counters[parent] = counters.get(parent, 0) + 1
        number = (numbers[parent] + "." if parent else "") + str(counters[parent])
        numbers[code.id] = number
        level = "#" * min(2 + depth, 6)
        title = f"{level} {number} {_md_escape(code.name)} (`{code.id}`)"
        if code.status == "retired":
            title += " *(retired)*"
        out += [title, ""]
        if code.brief:
            out += [f"*{_md_escape(code.brief)}*", ""]
        items = [("Definition", code.definition), ("Use when", code.include), ("Do not use when", code.exclude)]
        for label, value in items:
            if value:
                out.append(f"- **{label}:** {_md_escape(value)}")
        if code.examples:
            out.append("- **Examples:** " + "; ".join(f"\u201c{_md_escape(e)}\u201d" for e in code.examples))
        if code.keywords:
            out.append("- **Keywords:** " + ", ".join(_md_escape(k) for k in code.keywords))
        if code.framework:
            out.append("- **Framework:** " + ", ".join(f"`{r}`" for r in code.framework))
        out.append(f"- **Origin:** {code.origin}")
        out.append("")
    out.append(f"*Codebook `{book.id}`" + (f" ({_md_escape(source)})" if source else "") + ", exported by qualkit.*")
    return "\n".join(out) + "\n"


# -- import -----------------------------------------------------------------------------------

def _read_rows(path: Path, notes: list[str]) -> list[tuple[int, list[str]]]:
    """(row number, cells) of a CSV or XLSX file, header first."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "csv":
        from qualkit.io.tables import read_csv

        table = read_csv(path, error_cls=CodebookImportError)
        if table.encoding == "cp1252":
            notes.append(f"{path.name} is not UTF-8; read it as Windows-1252 (save as 'CSV UTF-8' to avoid this)")
        return [(r.number, r.cells) for r in table.rows]
    if fmt in ("xlsx", "xlsm"):
        from qualkit.io.tables import read_xlsx

        table = read_xlsx(path, error_cls=CodebookImportError, kind="a readable Excel workbook",
                          prefer=("codebook", "codes", "code system"))
        if len(table.sheets) > 1:
            notes.append(f"read sheet {table.sheet!r} of {path.name}")
        return [(r.line, r.cells) for r in table.rows]
    raise CodebookImportError(f"cannot import '.{fmt}': use a .csv or .xlsx file", path)


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text).casefold()).split())


@dataclass
class _Row:
    line: int
    names: list[str]
    values: dict[str, str]


def import_codebook(path: str | Path, *, id: str | None = None, name: str | None = None,  # noqa: A002
                    frameworks: Mapping | None = None, default_framework: str | None = None,
                    taken_ids: Iterable[str] | Mapping[str, str] = (), notes: list[str] | None = None) -> Codebook:
    """Read a CSV/XLSX codebook (one row per code, ``code`` = path) into a new Codebook.

    ``id`` and ``name`` default to the file's stem. Generated code ids avoid ``taken_ids`` (the
    workspace's other codes; a mapping of code id to codebook id makes clash messages name it). Framework refs are checked against ``frameworks`` (default: the
    built-ins), with ``default_framework`` for refs written without a prefix. ``notes`` collects
    remarks (ignored columns, encoding). Raises :class:`CodebookImportError` naming file and row.
    """
    from qualkit.frameworks.catalog import (
        FrameworkError,
        builtin_frameworks,
        resolve_ref,
    )

    path = Path(path)
    notes = notes if notes is not None else []
    frameworks = frameworks if frameworks is not None else builtin_frameworks()
    rows = _read_rows(path, notes)
    while rows and not any(c.strip() for c in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise CodebookImportError("the file is empty (expected a header row with a 'code' column)", path, 1)
    header_line, header = rows[0]
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
        names = [" ".join(n.split()) for n in _split_path(raw_path)]
        if any(not n for n in names):
            raise CodebookImportError(f"empty name in code path {raw_path!r} (write it as 'Parent > Child')", path, line)
        key = tuple(n.casefold() for n in names)
        if key in by_path:
            raise CodebookImportError(f"duplicate code {PATH_SEP.join(names)!r} (also row {by_path[key].line})", path, line)
        row = _Row(line, names, {f: get(cells, f) for f in COLUMNS if f != "code"})
        by_path[key] = row
        parsed.append(row)
    if not parsed:
        raise CodebookImportError("no codes: the file has a header row but no code rows", path, header_line)

    # explicit ids first, so that generated ones never take them
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
    owners = dict(taken_ids) if isinstance(taken_ids, Mapping) else {t: None for t in taken_ids}
    taken = set(owners) | set(explicit)
    clash = [cid for cid in explicit if cid in owners]
    if clash:
        row, owner = explicit[clash[0]], owners[clash[0]]
        where = f"codebook {owner!r}" if owner else "another codebook of the workspace"
        hint = (f"; to replace that codebook import with --id {owner} --replace, or clear the id column to get new ids"
                if owner else "")
        raise CodebookImportError(f"code id {clash[0]!r} is already used by {where}{hint}", path, row.line)

    codes: list[Code] = []
    made: dict[tuple[str, ...], Code] = {}
    implicit: set[tuple[str, ...]] = set()
    for row in parsed:
        key = tuple(n.casefold() for n in row.names)
        v = row.values
        origin = (v.get("origin") or "inductive").lower()
        if origin not in ORIGINS:
            raise CodebookImportError(f"origin {v.get('origin')!r} must be deductive or inductive", path, row.line)
        status = (v.get("status") or "active").lower()
        if status not in STATUSES:
            raise CodebookImportError(f"status {v.get('status')!r} must be active or retired", path, row.line)
        refs = []
        for ref in _split(v.get("framework", "")):
            try:
                item = resolve_ref(ref, frameworks=frameworks, default=default_framework)
            except FrameworkError as exc:
                raise CodebookImportError(f"framework ref {ref!r}: {exc.message}", path, row.line) from None
            if item.ref not in refs:
                refs.append(item.ref)
        patterns: list = []
        if v.get("patterns"):
            try:
                patterns = json.loads(v["patterns"])
            except json.JSONDecodeError as exc:
                raise CodebookImportError(f"'patterns' is not valid JSON ({exc.msg})", path, row.line) from None
            if not isinstance(patterns, list):
                raise CodebookImportError("'patterns' must be a JSON list", path, row.line)
        # parents without a row of their own (yet)
        for depth in range(1, len(row.names)):
            pkey = key[:depth]
            if pkey not in made:
                parent = made.get(pkey[:-1])
                pname = row.names[depth - 1]
                cid = _generate_id(pname, parent.id if parent else None, taken)
                code = Code(cid, pname, parent.id if parent else None, origin)
                made[pkey] = code
                implicit.add(pkey)
                codes.append(code)
        parent = made.get(key[:-1]) if len(key) > 1 else None
        fields_ = dict(origin=origin, status=status, brief=v.get("brief", ""), definition=v.get("definition", ""),
                       include=v.get("include", ""), exclude=v.get("exclude", ""), examples=_split(v.get("examples", "")),
                       keywords=_split(v.get("keywords", "")), framework=refs, patterns=patterns,
                       color=v.get("color") or None)
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
    if implicit:
        created = sorted(PATH_SEP.join(code_names) for code_names in
                         (tuple(c.name for c in _chain(made, k)) for k in implicit))
        notes.append(f"created {len(implicit)} parent code{'s' if len(implicit) > 1 else ''} with no row of "
                     f"{'their' if len(implicit) > 1 else 'its'} own: {', '.join(created)}")
    book_id = id or _slug(path.stem)
    if not ID_RE.match(book_id):
        raise CodebookImportError(f"codebook id {book_id!r} must be lower-case letters, digits, _ . -", path)
    return Codebook(book_id, name or path.stem.replace("_", " ").strip() or book_id, codes)


def _chain(made: dict, key: tuple) -> list[Code]:
    return [made[key[:i]] for i in range(1, len(key) + 1)]


def _slug(text: str) -> str:
    from qualkit.coding.codebook_edit import slugify

    return slugify(text)


def _generate_id(name: str, parent_id: str | None, taken: set[str]) -> str:
    from qualkit.coding.codebook_edit import slugify, unique_id

    base = slugify(name)
    if base in taken and parent_id:
        base = slugify(f"{parent_id}_{base}", max_len=64)
    cid = unique_id(base, taken)
    taken.add(cid)
    return cid


# -- diff -------------------------------------------------------------------------------------

@dataclass
class CodebookDiff:
    """Differences from codebook ``a`` to ``b``, by code id.

    ``renamed`` pairs (old code, new code, certain): certain when b's changelog records the
    rename, else a guess from equal names or definitions (shown as "renamed?").
    ``changed`` maps a code id (b's id for renamed codes) to {field: (old, new)}.
    """

    a: Codebook
    b: Codebook
    added: list[Code] = field(default_factory=list)
    removed: list[Code] = field(default_factory=list)
    renamed: list[tuple[Code, Code, bool]] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.changed)

    def summary(self) -> str:
        if self.same:
            return "no differences"
        return (f"{len(self.added)} added, {len(self.removed)} removed, {len(self.renamed)} renamed, "
                f"{len(self.changed)} changed")

    def as_dict(self) -> dict[str, Any]:
        return {"a": {"id": self.a.id, "path": str(self.a.path) if self.a.path else None},
                "b": {"id": self.b.id, "path": str(self.b.path) if self.b.path else None},
                "added": [{"id": c.id, "name": c.name} for c in self.added],
                "removed": [{"id": c.id, "name": c.name} for c in self.removed],
                "renamed": [{"from": o.id, "to": n.id, "certain": sure} for o, n, sure in self.renamed],
                "changed": {cid: {f: {"old": o, "new": n} for f, (o, n) in fs.items()} for cid, fs in self.changed.items()},
                "summary": self.summary()}

    def lines(self) -> list[str]:
        """The diff as text lines: '+ id  name', '- id  name', '~ old -> new', '* id.field: old -> new'."""
        out = []
        for c in self.added:
            out.append(f"+ {c.id}  {c.name}")
        for c in self.removed:
            out.append(f"- {c.id}  {c.name}")
        for old, new, sure in self.renamed:
            out.append(f"~ {old.id} -> {new.id}  {new.name}  ({'renamed' if sure else 'renamed?'})")
        for cid, fs in self.changed.items():
            for f, (o, n) in fs.items():
                out.append(f"* {cid}.{f}: {_short(o)} -> {_short(n)}")
        return out


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, list):
        text = "[" + ", ".join(str(x) for x in value) + "]"
    elif value in (None, ""):
        return "(empty)"
    else:
        text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _field_changes(old: Code, new: Code, id_map: Mapping[str, str]) -> dict[str, tuple[Any, Any]]:
    out = {}
    for f in _COMPARED:
        o, n = getattr(old, f), getattr(new, f)
        if f == "parent" and o is not None:
            o_mapped = id_map.get(o, o)
            if o_mapped == n:
                continue
        if o != n:
            out[f] = (o, n)
    return out


def diff_codebooks(a: Codebook, b: Codebook) -> CodebookDiff:
    """What changed from codebook ``a`` to codebook ``b`` (codes matched by id, renames guessed)."""
    result = CodebookDiff(a, b)
    a_ids = {c.id: c for c in a.codes}
    b_ids = {c.id: c for c in b.codes}
    removed = [c for c in a.codes if c.id not in b_ids]
    added = [c for c in b.codes if c.id not in a_ids]
    pairs: list[tuple[Code, Code, bool]] = []
    # renames recorded in b's changelog ("renamed code X to Y"), following chains
    steps = {}
    for entry in b.changelog:
        m = re.match(r"renamed code (\S+) to (\S+?)[;,]?(?:\s|$)", entry.what)
        if m:
            steps[m.group(1)] = m.group(2)
    added_ids = {c.id: c for c in added}
    for old in list(removed):
        cur, seen = old.id, set()
        while cur in steps and cur not in seen:
            seen.add(cur)
            cur = steps[cur]
        if cur != old.id and cur in added_ids:
            pairs.append((old, added_ids.pop(cur), True))
            removed.remove(old)
    # guesses: same name, same definition, or very similar name + definition
    candidates = []
    for old in removed:
        for new in added_ids.values():
            if _norm(old.name) == _norm(new.name):
                score = 1.0
            elif old.definition and old.definition == new.definition:
                score = 0.95
            else:
                score = difflib.SequenceMatcher(None, _norm(old.name + " " + old.definition),
                                                _norm(new.name + " " + new.definition)).ratio()
            if score >= 0.85:
                candidates.append((score, old.id, new.id, old, new))
    used_old, used_new = set(), set()
    for score, _, _, old, new in sorted(candidates, key=lambda t: (-t[0], t[1], t[2])):
        if old.id in used_old or new.id in used_new:
            continue
        used_old.add(old.id)
        used_new.add(new.id)
        pairs.append((old, new, False))
    result.removed = [c for c in removed if c.id not in used_old]
    result.added = [c for c in added if c.id in added_ids and c.id not in used_new]
    result.renamed = pairs
    id_map = {o.id: n.id for o, n, _ in pairs}
    for old, new, _ in pairs:
        changes = _field_changes(old, new, id_map)
        if changes:
            result.changed[new.id] = changes
    for c in a.codes:
        if c.id in b_ids:
            changes = _field_changes(c, b_ids[c.id], id_map)
            if changes:
                result.changed[c.id] = changes
    return result


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()
