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
import time
from typing import IO, Any

__all__ = ["save_workbook"]

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
        from openpyxl.worksheet._writer import WorksheetWriter
        from openpyxl.writer.excel import ExcelWriter

        class InMemorySheets(ExcelWriter):
            def write_worksheet(self, ws: Any) -> None:
                if self.workbook.write_only:  # not what the table writers make: openpyxl's own way
                    super().write_worksheet(ws)
                    return
                ws._drawing = SpreadsheetDrawing()
                ws._drawing.charts = ws._charts
                ws._drawing.images = ws._images
                writer = WorksheetWriter(ws, out=io.BytesIO())
                writer.write()
                ws._rels = writer._rels
                entry = ZipInfo(ws.path[1:], time.localtime(time.time())[:6])
                entry.compress_type = ZIP_DEFLATED
                entry.external_attr = _sheet_attributes()
                self._archive.writestr(entry, writer.out.getvalue())
                self.manifest.append(ws)

        _WRITER = InMemorySheets
    return _WRITER


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
