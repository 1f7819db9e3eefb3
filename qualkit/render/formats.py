"""XLSX, DOCX and LaTeX writers for ``qualkit.render.tables.export_tables``.

Each writer takes the tables (``qualkit.render.tables.Table``: name, frame, title, notes), the target path
and an optional document title, and returns the files written. They are meant for tables that
researchers paste into a manuscript or send to co-authors, so each one looks finished when opened:

* XLSX: one sheet per table, a caption row, a bold frozen header with an autofilter, wrapped text,
  column widths from the content, numbers stored as numbers, notes after the table.
* DOCX: a landscape page, "Table N." captions (a real Word caption field), a grid table whose header
  row repeats on every page, 9 pt text with the line breaks of multi-line cells kept, notes in italics.
* LaTeX: one booktabs ``table`` float per table, every special character escaped, long or
  multi-line text in ``p{}`` columns with ``\\newline``, numbers right-aligned.

Documents are built and serialised in memory, then written through ``atomic_open`` (temp file +
rename), so a failure never leaves a half-written file behind and never clobbers an earlier export.
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import numbers
import re
from collections.abc import Iterable
from copy import copy
from pathlib import Path
from typing import Any

from qualkit.io.outputs import output_open

__all__ = ["write_xlsx", "write_docx", "write_latex", "latex_escape", "sheet_names"]


from qualkit.io.naming import plural_s
from qualkit.render.cells import (
    ILLEGAL_XML as _ILLEGAL_XML,
)
from qualkit.render.cells import (
    display_text as _text,
)
from qualkit.render.cells import (
    headers_of as _headers,
)
from qualkit.render.cells import (
    heading_of as _heading,
)
from qualkit.render.cells import (
    is_bool as _is_bool,
)
from qualkit.render.cells import (
    is_missing as _is_missing,
)
from qualkit.render.cells import (
    is_number as _is_number,
)
from qualkit.render.cells import (
    longest_line as _longest_line,
)
from qualkit.render.cells import (
    longest_word as _longest_word,
)
from qualkit.render.cells import (
    numeric_columns as _numeric_columns,
)
from qualkit.render.cells import (
    rows_of as _rows,
)
from qualkit.render.docx_package import SharedTemplate
from qualkit.render.docx_rows import append_paragraph, append_rows, caption_xml, notes_xml
from qualkit.render.latex import latex_escape, write_latex

# -- XLSX ------------------------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_XLSX_MAX_CELL = 32767
_XLSX_MAX_ROWS = 1_048_576
_XLSX_MAX_COLS = 16_384
_WIDTH_MIN, _WIDTH_MAX, _HEADER_WIDTH_MAX = 8, 60, 30


def sheet_names(names: list[str]) -> list[str]:
    """Valid, unique Excel sheet names for ``names``.

    At most 31 characters, none of ``[]:*?/\\``, no leading or trailing apostrophe, not the
    reserved "History", unique ignoring case (Excel's rule); clashes get " (2)", " (3)", ...
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = _ILLEGAL_XML.sub("", str(raw).replace("\n", " "))
        name = name.replace("[", "(").replace("]", ")").replace(":", " -").replace("*", "").replace("?", "")
        name = re.sub(r"\s+", " ", _SHEET_FORBIDDEN.sub("-", name)).strip().strip("'").strip()
        name = name[:31].strip() or "Sheet"
        if name.lower() == "history":
            name = "History (table)"
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            suffix = f" ({n})"
            candidate = name[:31 - len(suffix)].rstrip() + suffix
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _xlsx_value(value):
    """A cell value as openpyxl should store it: numbers stay numbers, text is cleaned."""
    if type(value) is str:  # most cells: the text branch at the end, without the type checks
        text = _text(value)
        return text if len(text) <= _XLSX_MAX_CELL else text[:_XLSX_MAX_CELL - 1] + "…"
    if _is_missing(value):
        return None
    if _is_bool(value):
        return bool(value)
    if _is_number(value):
        if isinstance(value, numbers.Integral):
            return int(value)
        value = float(value)
        return value if math.isfinite(value) else _text(value)
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, (_dt.datetime, _dt.time)) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value
    text = _text(value)
    if len(text) > _XLSX_MAX_CELL:  # Excel refuses to open a workbook with a longer cell
        text = text[:_XLSX_MAX_CELL - 1] + "…"
    return text


def _set_text_cell(cell, value) -> None:
    cell.value = value
    if isinstance(value, str):
        # Keep text as text: a quote starting with "=" must not become a formula.
        cell.data_type = "s"


def _xlsx_widths(headers: list[str], rows: list[tuple]) -> list[float]:
    widths = []
    for j, head in enumerate(headers):
        longest = max((_longest_line(_text(r[j])) for r in rows), default=0)
        header_need = min(max(_longest_line(head), 1), _HEADER_WIDTH_MAX)
        header_need = max(header_need, min(_longest_word(head), _WIDTH_MAX))
        widths.append(float(min(max(longest, header_need, _WIDTH_MIN - 2) + 2, _WIDTH_MAX)))
    return widths


def _header_row(ws: Any, row: int, headers: list[str], numeric: list[bool], look: tuple[Any, Any, Any, Any]) -> None:
    """The header cells of a sheet: bold on a fill, a line below, numbers' headers right-aligned. Each of
    the two styles is set once through openpyxl and then copied, as the body's are (setting a font or a
    fill looks it up among the workbook's by hashing it, per cell)."""
    from openpyxl.styles import Alignment

    font, fill, border, align = look
    styles: dict[bool, Any] = {}
    for j, head in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=j)
        _set_text_cell(cell, head)
        is_num = numeric[j - 1]
        if is_num in styles:
            cell._style = copy(styles[is_num])
            continue
        cell.font, cell.fill, cell.border = font, fill, border
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="right") if is_num else align
        styles[is_num] = copy(cell._style)


def _build_workbook(tables, title: str | None):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    from qualkit.errors import ExportError

    wb = Workbook()
    wb.remove(wb.active)
    if title:
        wb.properties.title = _text(title)
    wb.properties.creator = "qualkit"

    title_font = Font(bold=True, size=12)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
    header_border = Border(bottom=Side(style="thin", color="808080"))
    header_align = Alignment(wrap_text=True, vertical="top")
    text_align = Alignment(wrap_text=True, vertical="top")
    number_align = Alignment(vertical="top", horizontal="right")
    notes_font = Font(italic=True)

    for table, sheet_name in zip(tables, sheet_names([t.name for t in tables])):
        frame = table.frame
        headers = _headers(frame)
        rows = _rows(frame)
        caption = table.title or title
        first = 2 if caption else 1  # the header row
        if len(headers) > _XLSX_MAX_COLS or first + len(rows) + 2 > _XLSX_MAX_ROWS:
            raise ExportError(f"table {table.name!r} has {len(rows)} row{plural_s(len(rows))} and {len(headers)} column{plural_s(len(headers))}, "
                              "more than an Excel sheet holds; export it to CSV instead")
        ws = wb.create_sheet(sheet_name)
        if caption:
            cell = ws.cell(row=1, column=1)
            _set_text_cell(cell, _text(caption))
            cell.font = title_font
        numeric = _numeric_columns(frame, rows)
        _header_row(ws, first, headers, numeric, (header_font, header_fill, header_border, header_align))
        # Each body cell's style is one of two, set once through openpyxl and then copied: setting
        # ``cell.alignment`` looks the Alignment up among the workbook's by hashing it, per cell.
        styles: dict[bool, Any] = {}
        for i, row in enumerate(rows, start=first + 1):
            for j, value in enumerate(row, start=1):
                cell = ws.cell(row=i, column=j)
                stored = _xlsx_value(value)
                if type(stored) is str:  # cleaned and cut to Excel's limit already: openpyxl's checks skipped
                    cell._value, cell.data_type = stored, "s"
                else:
                    _set_text_cell(cell, stored)
                is_num = isinstance(stored, (int, float)) and not isinstance(stored, bool)
                if is_num in styles:
                    cell._style = copy(styles[is_num])
                else:
                    cell.alignment = number_align if is_num else text_align
                    styles[is_num] = copy(cell._style)
        for j, width in enumerate(_xlsx_widths(headers, rows), start=1):
            ws.column_dimensions[get_column_letter(j)].width = width
        if headers:
            last_col = get_column_letter(len(headers))
            ws.freeze_panes = f"A{first + 1}"
            ws.auto_filter.ref = f"A{first}:{last_col}{first + max(len(rows), 1)}"
            ws.print_title_rows = f"{first}:{first}"
        if table.notes:
            cell = ws.cell(row=first + len(rows) + 2, column=1)  # one empty row keeps it out of sorts
            _set_text_cell(cell, _text(table.notes))
            cell.font = notes_font
        # Printing: landscape, as wide as one page, header row on every page.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if not wb.sheetnames:
        wb.create_sheet("Sheet")
    return wb


def _save_atomically(document, path: Path, template: SharedTemplate | None = None) -> None:
    """Serialise ``document`` (a Workbook, or a Document made from ``template``) in memory, then replace
    ``path`` in one go."""
    buffer = io.BytesIO()
    if template is not None:
        template.save(document, buffer)
    else:
        document.save(buffer)
    with output_open(path, "wb", encoding=None) as f:
        f.write(buffer.getbuffer())


def write_xlsx(tables: Iterable[Any], path: Path, title: str | None = None) -> list[Path]:
    """Write ``tables`` to an Excel workbook at ``path``, one sheet per table."""
    path = Path(path)
    wb = _build_workbook(list(tables), title)
    _save_atomically(wb, path)
    # Each cell points back to its sheet: left to the cyclic collector (paused while `run` and `export
    # all` work), a study's cells would stay in memory until the command ends. Released here instead.
    for sheet in wb.worksheets:
        sheet._cells.clear()
    return [path]


# -- DOCX ------------------------------------------------------------------------------------------

_DOCX_FONT_PT = 9
_DOCX_CHAR_EMU = 5.5 * 12700   # one character of 9 pt text, generously (12700 EMU = 1 pt)
_DOCX_CELL_PAD_EMU = 14 * 12700  # the cell's left and right margins, and a little air
_DOCX_WRAP_AT = 50               # characters: longer text wraps


def _docx_widths(headers: list[str], rows: list[tuple], usable: int) -> list[int]:
    """Column widths (EMU) from the content.

    A table of short texts gets its natural width. Long texts (quotes) share what the short
    columns leave of the page width. When even that does not fit, widths are proportional, but a
    column never gets narrower than its longest word (header included), so headers such as
    "Share" are not broken mid-word; the widest columns give up the room.
    """
    need, floor, chars = [], [], []
    for j, head in enumerate(headers):
        texts = [_text(r[j]) for r in rows]
        longest = max((_longest_line(t) for t in texts), default=0)
        word = max([_longest_word(head), *(_longest_word(t) for t in texts)])
        chars.append(max(longest, word, min(_longest_line(head), 20), 3))
        need.append(min(chars[-1], _DOCX_WRAP_AT) * _DOCX_CHAR_EMU + _DOCX_CELL_PAD_EMU)
        floor.append(min(word, 25) * _DOCX_CHAR_EMU + _DOCX_CELL_PAD_EMU)
    wraps = [c > _DOCX_WRAP_AT for c in chars]
    if not any(wraps) and sum(need) <= usable:
        return [int(w) for w in need]
    fixed = sum(w for w, wrap in zip(need, wraps) if not wrap)
    if any(wraps) and fixed <= 0.6 * usable:
        weights = [min(c, 150) if wrap else 0 for c, wrap in zip(chars, wraps)]
        room = usable - fixed
        return [int(room * wt / sum(weights)) if wrap else int(w) for w, wt, wrap in zip(need, weights, wraps)]
    floor = [min(f, usable / len(headers)) for f in floor]
    widths = [usable * w / sum(need) for w in need]
    for _ in headers:  # raise the columns below their floor, take it from the others
        low = [j for j, w in enumerate(widths) if w < floor[j] - 1]
        if not low:
            break
        pinned = {j: floor[j] for j in low}
        for j, w in enumerate(widths):
            if w <= floor[j] + 1:
                pinned.setdefault(j, max(w, floor[j]))
        free = [j for j in range(len(widths)) if j not in pinned]
        if not free:
            widths = [usable * f / sum(floor) for f in floor]
            break
        room = usable - sum(pinned.values())
        scale = room / sum(need[j] for j in free)
        widths = [pinned[j] if j in pinned else need[j] * scale for j in range(len(widths))]
    return [int(w) for w in widths]


def _add_lines(paragraph, text: str, *, size_pt: float, bold: bool = False, italic: bool = False) -> None:
    """Add ``text`` to ``paragraph``, each newline a line break (w:br) in the same paragraph."""
    from docx.shared import Pt

    run = paragraph.add_run()
    run.font.size = Pt(size_pt)
    run.bold = bold or None
    run.italic = italic or None
    for k, line in enumerate(text.split("\n")):
        if k:
            run.add_break()
        if line:
            run.add_text(line)


def _caption_number_field(paragraph, number: int, size_pt: float) -> None:
    """A Word SEQ field ("Insert Caption"), showing ``number`` until fields are updated (through
    python-docx; the table writer writes the same runs as XML, ``docx_rows.caption_xml``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def run_with(child):
        run = paragraph.add_run()
        run.bold = True
        run.font.size = Pt(size_pt)
        run._r.append(child)
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " SEQ Table \\* ARABIC "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    shown = paragraph.add_run(str(number))
    shown.bold = True
    shown.font.size = Pt(size_pt)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def mark_row(row: Any, header: bool = False, keep_together: bool = True) -> None:
    """Keep a Word table ``row`` on one page (a row taller than a page still breaks) and/or repeat
    it at the top of every page (``header``)."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    tags = (("w:cantSplit",) if keep_together else ()) + (("w:tblHeader",) if header else ())
    for tag in tags:
        tr_pr.append(OxmlElement(tag))


def shade_cell(cell: Any, color: str) -> None:
    """Fill a Word table cell with a background colour (hex RGB such as ``DDEBF7``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), color)
    cell._tc.get_or_add_tcPr().append(shd)


def landscape(document: Any, margin_cm: float = 2.0, font: str | None = None, font_pt: float | None = None) -> Any:
    """Turn a python-docx document's first section to landscape (the orientation flag and the page
    size both) with even margins; optionally set the Normal font. Returns the section."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    section = document.sections[0]
    w, h = section.page_width, section.page_height
    section.page_width, section.page_height = max(w, h), min(w, h)
    section.orientation = WD_ORIENT.LANDSCAPE
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(margin_cm))
    if font or font_pt:
        normal = document.styles["Normal"]
        if font:
            normal.font.name = font
        if font_pt:
            normal.font.size = Pt(font_pt)
    return section


class _Template:
    """The landscape page with its caption style, made from python-docx's default template once per
    process and copied for each document: parsing that template and python-docx's scans of its
    styles for each look-up by name were most of the time of writing a small table to Word."""

    _made: _Template | None = None

    def __init__(self) -> None:
        import docx
        from docx.enum.style import WD_STYLE_TYPE
        from docx.shared import Pt, RGBColor

        document = docx.Document()
        section = landscape(document, margin_cm=2)
        self.usable = section.page_width - section.left_margin - section.right_margin
        caption_style = document.styles["Caption"]
        caption_style.font.color.rgb = RGBColor(0, 0, 0)
        caption_style.font.size = Pt(10)
        caption_style.font.bold = False
        caption_style.paragraph_format.keep_with_next = True
        caption_style.paragraph_format.space_after = Pt(4)
        part = document.part
        # The w:pStyle / w:tblStyle values python-docx writes for these names.
        self.caption = part.get_style_id("Caption", WD_STYLE_TYPE.PARAGRAPH)
        self.heading = part.get_style_id("Heading 1", WD_STYLE_TYPE.PARAGRAPH)
        self.grid = part.get_style_id("Table Grid", WD_STYLE_TYPE.TABLE)
        self.shared = SharedTemplate(document)

    @classmethod
    def copy(cls) -> tuple[Any, _Template]:
        """A fresh document made from the template (its own body and properties; the styles, theme and
        settings no writer changes are shared, see :mod:`qualkit.render.docx_package`), and the template."""
        if cls._made is None:
            cls._made = cls()
        return cls._made.shared.new(), cls._made


def _paragraph(document: Any, style_id: str | None = None, text: str = "") -> Any:
    """As ``document.add_paragraph(text, style)`` with the style's id already looked up."""
    paragraph = document.add_paragraph(text)
    if style_id is not None:
        paragraph._p.style = style_id
    return paragraph


def _build_document(tables, title: str | None) -> tuple[Any, _Template]:
    document, template = _Template.copy()
    usable = template.usable

    if title:
        document.core_properties.title = _text(title)
        _paragraph(document, template.heading, _text(title))

    for n, table in enumerate(tables, start=1):
        if n > 1:
            document.add_paragraph()
        # caption and notes as XML: python-docx's run properties are a schema-ordered insert each
        heading = _heading(table, len(tables))
        append_paragraph(document, caption_xml(template.caption, n, _text(heading).replace("\n", " ") if heading else None,
                                               size_pt=10))
        if _headers(table.frame):
            _docx_table(document, table.frame, usable, template.grid)
        if table.notes:
            append_paragraph(document, notes_xml(_text(table.notes), size_pt=_DOCX_FONT_PT, space_before_pt=4))
    return document, template


def _docx_table(document: Any, frame: Any, usable: int, style_id: str | None) -> None:
    """One grid table: a repeated bold header row, numbers right-aligned, widths from the content."""
    headers = _headers(frame)
    rows = _rows(frame)
    numeric = _numeric_columns(frame, rows)
    widths = _docx_widths(headers, rows, usable)
    word_table = document.add_table(rows=0, cols=len(headers))
    word_table._tbl.tblStyle_val = style_id  # what ``word_table.style = "Table Grid"`` writes
    word_table.autofit = False
    for column, width in zip(word_table.columns, widths):
        column.width = width
    # The header row (bold, repeated on every page) and the body rows as XML, the elements python-docx's
    # cell.width, paragraph format, mark_row and _add_lines write: its per-cell API walks the grid.
    append_rows(word_table, [headers], widths, numeric, size_pt=_DOCX_FONT_PT, bold=True, header=True)
    append_rows(word_table, ([_text(v).strip("\n") for v in row] for row in rows), widths, numeric,
                size_pt=_DOCX_FONT_PT)


def write_docx(tables: Iterable[Any], path: Path, title: str | None = None) -> list[Path]:
    """Write ``tables`` to a Word document at ``path`` (landscape, one captioned table each)."""
    path = Path(path)
    document, template = _build_document(list(tables), title)
    _save_atomically(document, path, template.shared)
    return [path]
