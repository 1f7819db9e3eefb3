"""A codebook for other tools, in every format qualkit writes, and Taguette's codebook CSV both ways.

:func:`export_codebook` writes CSV, XLSX, DOCX, Markdown (:mod:`qualkit.coding.codebook_exchange`),
REFI-QDA ``.qdc`` (:mod:`.qdc`) or ``taguette-csv``, chosen by ``fmt`` or by the file's extension.

Taguette (1.5) imports a codebook from a CSV file with one column naming the tag (``tag``, or
``name`` or ``path``: exactly one of them) and an optional ``description``; every other column is
ignored, and Taguette's own codebook export has the same form (plus highlight counts). qualkit's
CSV codebook (a ``code`` column) is refused there. So the Taguette form has:

* ``tag``: the code's path of names joined by ``.`` (Taguette shows tags whose path starts with
  ``parent.`` under that parent's highlights);
* ``description``: the definition (else the brief) on one line: Taguette's import form shows it in
  a one-line text box, and a browser drops the line breaks of such a box when the form is sent;
* then qualkit's own sheet columns (``id``, ``brief``, ``definition``, ``include``...; see
  :mod:`qualkit.coding.codebook_exchange`), which Taguette ignores and :func:`read_taguette_csv`
  reads back, so the file re-imports whole. Taguette's own export has only the first two: its
  tags come back with ids made from their names.

Retired codes are left out of the Taguette form (a tag is there to be applied).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from qualkit.errors import CodebookImportError, RefiQdaError
from qualkit.io.naming import plural_s
from qualkit.workspace.codebook import Code, Codebook

__all__ = ["CODEBOOK_FORMATS", "export_codebook", "is_taguette_csv", "read_taguette_csv", "taguette_csv_text"]

CODEBOOK_FORMATS = ("csv", "xlsx", "docx", "md", "qdc", "taguette-csv")
_TAG_COLUMNS = ("tag", "name", "path")


def export_codebook(codebook: Codebook, path: str | Path, fmt: str | None = None, *,
                    include_retired: bool | None = None, source: str | None = None) -> list[str]:
    """Write ``codebook`` to ``path`` in ``fmt`` (one of :data:`CODEBOOK_FORMATS`; default: by the
    file's extension), atomically; returns warnings."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "taguette-csv":
        from qualkit.io.atomic import atomic_write_text

        text, warnings = taguette_csv_text(codebook)
        atomic_write_text(path, text)
        return warnings
    if fmt == "qdc":
        from qualkit.refiqda.qdc import export_qdc

        return export_qdc(codebook, path)
    if fmt not in CODEBOOK_FORMATS:
        raise RefiQdaError(f"cannot export a codebook as {fmt!r}: use one of {', '.join(CODEBOOK_FORMATS)}", path)
    if path.suffix.lower().lstrip(".") != fmt:
        raise RefiQdaError(f"a {fmt} codebook needs a .{fmt} file name", path)
    from qualkit.coding.codebook_exchange import export_codebook as export_sheet

    export_sheet(codebook, path, include_retired=include_retired, source=source)
    return []


def taguette_csv_text(codebook: Codebook) -> tuple[str, list[str]]:
    """The codebook as Taguette's codebook CSV (see the module docstring) and warnings."""
    from qualkit.coding.codebook_sheet import COLUMNS, sheet_row, tree_order

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    columns = [c for c in COLUMNS if c != "code"]
    writer.writerow(["tag", "description", *columns])
    warnings: list[str] = []
    dotted = [c.name for c in codebook.codes if "." in c.name]
    if dotted:
        warnings.append(f"{len(dotted)} code name{plural_s(len(dotted))} contain '.', which Taguette reads as a level of the tag "
                        f"hierarchy: {', '.join(repr(n) for n in dotted[:5])}")
    seen: dict[str, str] = {}
    for code, _ in tree_order(codebook):
        if code.status == "retired":
            continue
        tag = ".".join(" ".join(c.name.split()) for c in codebook.path_of(code))
        if len(tag) > 200:
            warnings.append(f"code {code.id!r}: its tag path is longer than Taguette's 200 characters")
        if tag in seen:
            warnings.append(f"codes {seen[tag]!r} and {code.id!r} have the same tag path {tag!r}; Taguette keeps one")
        seen.setdefault(tag, code.id)
        row = sheet_row(codebook, code)
        writer.writerow([tag, " ".join((code.definition or code.brief).split()), *(row[c] for c in columns)])
    return buf.getvalue(), warnings


def _header(cells: list[str]) -> tuple[int, int | None] | None:
    """(tag column, description column) when ``cells`` is a Taguette codebook header, else None."""
    names = [c.strip().lstrip("\ufeff").casefold() for c in cells]
    found = [n for n in _TAG_COLUMNS if n in names]
    # Taguette also reads 'name' or 'path', but qualkit's own sheets use those words too: a sheet
    # is read as Taguette's when it has the 'tag' column that Taguette's and qualkit's exports write.
    if found != ["tag"] or "code" in names:
        return None
    return names.index(found[0]), names.index("description") if "description" in names else None


def is_taguette_csv(path: str | Path) -> bool:
    """Whether ``path`` is a CSV codebook in Taguette's form (a ``tag`` column, no ``name``, ``path``
    or ``code`` column), as opposed to qualkit's own CSV codebook."""
    from qualkit.io.tables import read_csv

    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        table = read_csv(path, error_cls=CodebookImportError)
    except CodebookImportError:
        return False
    first = next((r for r in table.rows if not r.blank), None)
    return first is not None and _header(first.cells) is not None


def read_taguette_csv(path: str | Path, *, id: str | None = None, name: str | None = None,  # noqa: A002
                      taken: set[str] | None = None) -> tuple[Codebook, list[str]]:
    """A codebook from Taguette's codebook CSV (its own export, or :func:`export_codebook`'s
    ``taguette-csv``): tag paths split on ``.`` make the hierarchy; qualkit's columns, when there,
    give every field and the id, else the description is the definition. Returns it and notes."""
    from qualkit.io.naming import slugify, unique_id
    from qualkit.io.tables import read_csv
    from qualkit.workspace.codebook import ID_RE

    path = Path(path)
    table = read_csv(path, error_cls=CodebookImportError)
    rows = [r for r in table.rows if not r.blank]
    cols = _header(rows[0].cells) if rows else None
    if cols is None:
        raise CodebookImportError("not a Taguette codebook: no 'tag' column", path, 1)
    tag_col, desc_col = cols
    header = [c.strip().lstrip("\ufeff").casefold() for c in rows[0].cells]
    extra = {name: header.index(name) for name in _SHEET_FIELDS if name in header}
    taken = set(taken or ())
    made: dict[tuple[str, ...], Code] = {}
    codes: list[Code] = []
    notes: list[str] = []
    for row in rows[1:]:
        cell = row.cells[tag_col].strip() if tag_col < len(row.cells) else ""
        if not cell:
            raise CodebookImportError("empty tag name", path, row.line)
        names = [" ".join(n.split()) for n in cell.split(".")]
        if any(not n for n in names):
            raise CodebookImportError(f"empty level in tag path {cell!r}", path, row.line)
        key = tuple(n.casefold() for n in names)
        if key in made and made[key].line is not None:
            raise CodebookImportError(f"duplicate tag {cell!r} (also line {made[key].line})", path, row.line)
        parent = _parents(names, key, made, codes, taken)
        fields = _row_fields(row.cells, desc_col, extra)
        wanted = fields.pop("id", None)
        if key in made:  # a parent made earlier from a child's path: fill it in
            code = made[key]
            for k, v in fields.items():
                setattr(code, k, v)
        else:
            if wanted and ID_RE.match(wanted) and wanted not in taken:
                cid = wanted
            else:
                if wanted:
                    notes.append(f"line {row.line}: code id {wanted!r} is already used; the tag got another one")
                base = slugify(names[-1])
                cid = unique_id(slugify(f"{parent}_{base}", max_len=64) if base in taken and parent else base, taken)
            taken.add(cid)
            code = Code(cid, names[-1], parent, **fields)
            made[key] = code
            codes.append(code)
        code.line = row.line
    if not codes:
        raise CodebookImportError("no tags: the file has a header row but no tag rows", path, rows[0].line)
    book_id = id or slugify(path.stem) or "taguette"
    return Codebook(book_id, name or path.stem.replace("_", " ").strip() or book_id, codes,
                    f"Imported from {path.name} (Taguette codebook)."), notes


_SHEET_FIELDS = ("id", "origin", "status", "brief", "definition", "include", "exclude", "examples", "keywords",
                 "framework", "color", "patterns")


def _row_fields(cells: list[str], desc_col: int | None, extra: dict[str, int]) -> dict[str, Any]:
    """A row's code fields: qualkit's own columns when the file has them, else the description."""
    import json

    from qualkit.coding.codebook_sheet import split_list

    def cell(i: int | None) -> str:
        return cells[i].strip() if i is not None and i < len(cells) else ""

    if not extra:
        return {"definition": cell(desc_col)} if cell(desc_col) else {}
    out: dict[str, Any] = {}
    for name, i in extra.items():
        value = cell(i)
        if not value:
            continue
        if name in ("examples", "keywords", "framework"):
            out[name] = split_list(value)
        elif name == "patterns":
            try:
                out[name] = json.loads(value)
            except ValueError:
                continue
        elif name == "origin" and value not in ("deductive", "inductive") or name == "status" and value not in (
                "active", "retired"):
            continue
        else:
            out[name] = value
    return out


def _parents(names: list[str], key: tuple[str, ...], made: dict[tuple[str, ...], Code], codes: list[Code],
             taken: set[str]) -> str | None:
    """The id of the parent of the tag ``names``; parents without a row of their own are made."""
    from qualkit.io.naming import slugify, unique_id

    parent: str | None = None
    for depth in range(1, len(names)):
        pkey = key[:depth]
        if pkey not in made:
            cid = unique_id(slugify(names[depth - 1]), taken)
            taken.add(cid)
            made[pkey] = Code(cid, names[depth - 1], parent)
            codes.append(made[pkey])
        parent = made[pkey].id
    return parent
