"""Saving an openpyxl workbook with each sheet written in memory, not through a temporary file.

openpyxl writes every sheet's XML to a temporary file, copies the file into the zip and deletes it:
four system calls and a disk round trip per sheet, which a study's tables (a dozen sheets for `run`
on the sample study) paid for nothing. Here the sheet is written to memory and stored as the entry
``ZipFile.write`` makes of that temporary file (its permissions read from one temporary file per
process). The workbook has the same entries, order and bytes as openpyxl's ``Workbook.save`` writes
(each entry's time apart, as between any two saves): ``tests/test_sample_floor.py`` compares them.
"""
from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["save_workbook", "sheet_data"]

_WRITER: Any = None
_SHEET_ATTR: list[int] = []  # what ZipFile.write records of openpyxl's temporary file: its st_mode << 16


def _sheet_attributes() -> int:
    if not _SHEET_ATTR:
        from openpyxl.worksheet._writer import create_temporary_file

        path = create_temporary_file()
        try:
            _SHEET_ATTR.append((os.stat(path).st_mode & 0xFFFF) << 16)
        finally:
            os.remove(path)
    return _SHEET_ATTR[0]


def _writer_class() -> Any:
    """openpyxl's ExcelWriter with its one step that goes through a temporary file done in memory."""
    global _WRITER
    if _WRITER is None:
        from zipfile import ZIP_DEFLATED, ZipInfo

        from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
        from openpyxl.writer.excel import ExcelWriter

        class InMemorySheets(ExcelWriter):
            def write_worksheet(self, ws: Any) -> None:
                if self.workbook.write_only:  # not what the table writers make: openpyxl's own way
                    super().write_worksheet(ws)
                    return
                ws._drawing = SpreadsheetDrawing()
                ws._drawing.charts = ws._charts
                ws._drawing.images = ws._images
                writer = _rows_writer()(ws, out=io.BytesIO())
                writer.write()
                ws._rels = writer._rels
                entry = ZipInfo(ws.path[1:], time.localtime(time.time())[:6])
                entry.compress_type = ZIP_DEFLATED
                entry.external_attr = _sheet_attributes()
                self._archive.writestr(entry, writer.out.getvalue())
                self.manifest.append(ws)

        _WRITER = InMemorySheets
    return _WRITER


_ROWS_WRITER: list[Any] = []


def _rows_writer() -> Any:
    """openpyxl's WorksheetWriter with the sheet's rows written as one piece of XML (:func:`sheet_data`)."""
    if not _ROWS_WRITER:
        from openpyxl.worksheet._writer import WorksheetWriter

        class RowsAtOnce(WorksheetWriter):
            def write_rows(self) -> None:
                pieces = sheet_data(self)
                if pieces is None:
                    super().write_rows()
                    return
                xf = self.xf.send(True)
                xf.flush()  # what lxml holds goes out first: the rows follow the elements before them
                for piece in pieces:
                    self.out.write(piece)
                self.xf.send(None)

        _ROWS_WRITER.append(RowsAtOnce)
    return _ROWS_WRITER[0]


# What lxml refuses in text (control characters, lone surrogates, U+FFFE/U+FFFF): openpyxl's writer meets them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def sheet_data(writer: Any) -> Iterator[bytes] | None:
    """The ``<sheetData>`` openpyxl's ``WorksheetWriter.write_rows`` writes, as pieces of bytes (a few hundred
    rows each), or None for a sheet with anything else than text and numbers (openpyxl's own writer then
    writes it).

    openpyxl writes each cell through lxml's incremental writer, three nested elements at a time and its
    style looked up by hashing it twice, about 12 us a cell (the 3,300 cells of `run` on the sample study's
    workbooks). Here rows are made as text and a style's number is looked up by its bytes. Elements,
    attributes and their order, the styles' numbering (each registered when first met, in openpyxl's order)
    and the text are what openpyxl writes (``lxml_write_cell``, serialised by lxml in ASCII: ``&``, ``<``,
    ``>`` and a CR escaped, other characters as decimal references); a test compares the bytes."""
    from openpyxl import LXML
    from openpyxl.cell.cell import Cell
    from openpyxl.compat.numbers import NUMERIC_TYPES

    ws = writer.ws
    if not LXML or len(ws.row_dimensions) or ws._hyperlinks or ws._comments:
        return None
    rows = writer.rows()
    if not all(_plain(cell, Cell, NUMERIC_TYPES) for _, cells in rows for cell in cells):
        return None
    return _pieces(rows, ws.parent._cell_styles)


def _plain(cell: Any, cell_type: Any, numbers: tuple[type, ...]) -> bool:
    """A cell :func:`sheet_data` writes as openpyxl would: a plain ``cell_type`` (not a merged cell) with no
    comment or link, empty, text lxml takes, or one of ``numbers``."""
    if type(cell) is not cell_type or cell._comment is not None or cell._hyperlink is not None:
        return False
    value, kind = cell._value, cell.data_type
    if kind == "s":
        return isinstance(value, str) and not _NOT_XML.search(value)
    return kind == "n" and (value is None or isinstance(value, numbers))


_ROWS_A_PIECE = 500  # the rows of a 5,000-interview study's rapid matrix are not one string of many MB


def _pieces(rows: list[tuple[int, list[Any]]], styles: Any) -> Iterator[bytes]:
    from openpyxl.compat.strings import safe_string
    from openpyxl.utils.cell import get_column_letter

    numbers: dict[bytes, str] = {}
    parts = ["<sheetData>"]
    add = parts.append
    for n, (row_idx, cells) in enumerate(rows, start=1):
        add(f'<row r="{row_idx}">')
        for cell in cells:
            value, style = cell._value, cell._style
            styled = style is not None and any(style)
            if value is None and not styled:
                continue
            if styled:
                seen = style.tobytes()
                number = numbers.get(seen)
                if number is None:
                    number = numbers[seen] = f' s="{styles.add(style)}"'
            else:
                number = ""
            where = f"{get_column_letter(cell.col_idx)}{cell.row}"
            if cell.data_type == "s":
                if value == "":
                    add(f'<c r="{where}"{number} t="inlineStr"></c>')
                    continue
                space = ' xml:space="preserve"' if value != value.strip() else ""
                text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
                add(f'<c r="{where}"{number} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif value is None:
                add(f'<c r="{where}"{number} t="n"></c>')
            else:
                add(f'<c r="{where}"{number} t="n"><v>{safe_string(value)}</v></c>')
        add("</row>")
        if n % _ROWS_A_PIECE == 0:
            yield "".join(parts).encode("ascii", "xmlcharrefreplace")
            parts.clear()
    add("</sheetData>")
    yield "".join(parts).encode("ascii", "xmlcharrefreplace")


def save_workbook(workbook: Any, out: IO[bytes]) -> None:
    """Write ``workbook`` to the binary file ``out`` as ``workbook.save(out)`` does, sheets in memory."""
    import datetime
    from zipfile import ZIP_DEFLATED, ZipFile

    if workbook.read_only or workbook.write_only:  # not what the table writers make
        workbook.save(out)
        return
    archive = ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True)
    workbook.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
    _writer_class()(workbook, archive).save()
