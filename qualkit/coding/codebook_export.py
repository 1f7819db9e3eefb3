"""Exporting a codebook for people and other tools: CSV and XLSX (every field; they re-import), DOCX, Markdown.

The DOCX export is a manuscript appendix: landscape, a title, one table row per code (hierarchy
shown by indentation), with name, definition, when to use / not to use and an example, and the
header row repeated on every page. Exports are written atomically.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from qualkit.coding.codebook_sheet import COLUMNS, FORMATS, sheet_row, visible_rows
from qualkit.io.naming import file_kind, plural_s
from qualkit.io.outputs import check_output, write_output_bytes, write_output_text
from qualkit.render.cells import csv_safe, harden_workbook, xml_safe
from qualkit.workspace.codebook import Code, Codebook, CodebookError

__all__ = ["export_codebook"]

Rows = list[tuple[Code, int]]  # codes in tree order, with their depth


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
        raise CodebookError(f"cannot export to {file_kind(path)}: use .csv, .xlsx, .docx or .md", path)
    check_output(path)
    if include_retired is None:
        include_retired = fmt in ("csv", "xlsx")
    rows = visible_rows(codebook, include_retired)
    if fmt == "csv":
        write_output_text(path, _csv_text(codebook, rows))
    elif fmt == "xlsx":
        write_output_bytes(path, _xlsx_bytes(codebook, rows))
    elif fmt == "docx":
        write_output_bytes(path, _docx_bytes(codebook, rows, source))
    else:
        write_output_text(path, _markdown(codebook, rows, source))
    return path


def _csv_text(book: Codebook, rows: Rows) -> str:
    import csv

    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for code, _ in rows:
        writer.writerow({k: csv_safe(v) for k, v in sheet_row(book, code).items()})
    return "\ufeff" + buf.getvalue()  # a BOM so that Excel reads UTF-8


def _xlsx_bytes(book: Codebook, rows: Rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Codebook"
    ws.append(list(COLUMNS))
    for code, _ in rows:
        r = sheet_row(book, code)
        ws.append([xml_safe(r[c]) if isinstance(r[c], str) else r[c] for c in COLUMNS])
    harden_workbook(wb)  # a code named "=HYPERLINK(...)" stays text
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


def _docx_bytes(book: Codebook, rows: Rows, source: str | None) -> bytes:
    """A manuscript appendix: landscape, a title and intro, one table row per code, header repeated."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT

    from qualkit.render.formats import landscape, mark_row
    from qualkit.render.formats import shade_cell as shade

    doc = Document()
    section = landscape(doc, margin_cm=1.8, font="Calibri", font_pt=10)
    doc.add_heading(xml_safe(f"Codebook: {book.name}"), level=1)
    if book.description:
        doc.add_paragraph(xml_safe(book.description))
    n_ind = sum(1 for c, _ in rows if c.origin == "inductive")
    doc.add_paragraph(f"{len(rows)} code{plural_s(len(rows))} ({len(rows) - n_ind} deductive, {n_ind} inductive). "
                      "Sub-codes are indented under their parent code. Fields after MacQueen et al. (1998).")
    usable = section.page_width - section.left_margin - section.right_margin
    widths = [int(usable * f) for f in (0.22, 0.30, 0.30, 0.18)]
    headers = ("Code", "Definition", "When to use / when not to use", "Example")
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    head = table.rows[0]
    mark_row(head, header=True)
    for i, text in enumerate(headers):
        cell = head.cells[i]
        cell.width = widths[i]
        shade(cell, "D9E2F3")
        _run(_para(cell, True), text, bold=True, size=9.5)
    for code, depth in rows:
        row = table.add_row()
        mark_row(row, header=False)
        for i, cell in enumerate(row.cells):
            cell.width = widths[i]
        _docx_code_cells(row.cells, code, depth)
    foot = doc.add_paragraph()
    _run(foot, f"Codebook {book.id}" + (f" ({source})" if source else "") + ", exported by qualkit.", size=8, grey=True)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _para(cell: Any, first: bool = False) -> Any:
    """The cell's first paragraph when still empty and ``first``, else a new one."""
    from docx.shared import Pt

    p = cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()
    p.paragraph_format.space_after = Pt(2)
    return p


def _run(p: Any, text: str, bold: bool = False, italic: bool = False, size: float = 9, grey: bool = False) -> Any:
    from docx.shared import Pt, RGBColor

    r = p.add_run(xml_safe(text))
    r.bold, r.italic = bold, italic
    r.font.size = Pt(size)
    if grey:
        r.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    return r


def _docx_code_cells(cells: Any, code: Code, depth: int) -> None:
    """One code's row: name (indented by depth), id, origin and refs; definition; use / do not use; examples."""
    from docx.shared import Cm

    p = _para(cells[0], True)
    p.paragraph_format.left_indent = Cm(0.45 * depth)
    _run(p, ("\u2013 " if depth else "") + code.name, bold=depth == 0)
    if code.status == "retired":
        _run(p, " (retired)", italic=True, grey=True)
    for meta in (code.id + (f" \u00b7 {code.origin}" if code.origin else ""), ", ".join(code.framework)):
        if meta:
            p = _para(cells[0])
            p.paragraph_format.left_indent = Cm(0.45 * depth)
            _run(p, meta, size=7.5, grey=True)
    first = True
    if code.brief and not " ".join(code.definition.split()).startswith(code.brief.rstrip(". ")):
        _run(_para(cells[1], first), code.brief, italic=True)
        first = False
    if code.definition:
        _run(_para(cells[1], first), code.definition)
    first = True
    for label, text in (("Use: ", code.include), ("Do not use: ", code.exclude)):
        if text:
            p = _para(cells[2], first)
            _run(p, label, bold=True)
            _run(p, text)
            first = False
    first = True
    for example in code.examples[:2]:
        _run(_para(cells[3], first), f"\u201c{example}\u201d", italic=True)
        first = False


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", " ".join(str(text).split()))


def _markdown(book: Codebook, rows: Rows, source: str | None) -> str:
    out = [f"# Codebook: {_md_escape(book.name)}", ""]
    if book.description:
        out += [_md_escape(book.description), ""]
    n_ind = sum(1 for c, _ in rows if c.origin == "inductive")
    out += [f"{len(rows)} code{plural_s(len(rows))} ({len(rows) - n_ind} deductive, {n_ind} inductive); "
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
