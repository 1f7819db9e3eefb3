"""Cell and frame helpers shared by the table writers (XLSX, DOCX, LaTeX): how a value reads as text,
which columns are numeric, how wide a line is."""
from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
import unicodedata
from typing import Any

__all__ = ["CSV_TRIGGERS", "ILLEGAL_XML", "csv_safe", "csv_safe_frame", "display_len", "harden_workbook", "xml_safe", "display_text", "headers_of", "heading_of", "is_bool", "is_missing", "is_number",
           "longest_line", "longest_word", "numeric_columns", "rows_of"]


# Control characters that XML (and so XLSX/DOCX) cannot hold; tab and newline are kept.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# A cell that begins with one of these is run as a formula by Excel, LibreOffice and Sheets (OWASP
# "CSV Injection"): =HYPERLINK(...), +cmd|..., -2+3, @SUM(...); tab and CR start one after a delimiter.
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell made inert for spreadsheets: prefixed with ``'`` when it begins with a formula
    trigger (OWASP CSV injection guidance); numbers and other values are returned as they are."""
    if not isinstance(value, str):
        return value
    # A bare CR is no line break to pandas' CSV writer (left unquoted) but is one to Excel, where the
    # rest of the cell would start a new row: line breaks inside a cell are written as LF.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if value.startswith(CSV_TRIGGERS) else value


def _unsafe(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(CSV_TRIGGERS) or "\r" in value)


def csv_safe_frame(frame: Any) -> Any:
    """A DataFrame with every text cell and column name passed through :func:`csv_safe`: a copy when
    one needed it, else ``frame`` itself (for writing, not to be modified)."""
    from pandas.api.types import is_numeric_dtype

    out = frame
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        # a plain loop over the values: Series.map costs more than the check on a table's few rows
        if not is_numeric_dtype(column.dtype) and any(map(_unsafe, column.tolist())):
            if out is frame:
                out = frame.copy()
            out.isetitem(i, column.map(csv_safe).astype(object))
    if all(isinstance(c, str) for c in frame.columns) and any(map(_unsafe, frame.columns)):
        if out is frame:
            out = frame.copy()
        out.columns = [csv_safe(c) for c in frame.columns]
    return out


def xml_safe(text: str) -> str:
    """``text`` without the control characters XML 1.0 (so DOCX and XLSX) cannot hold."""
    return ILLEGAL_XML.sub("", text)


def harden_workbook(wb: Any) -> Any:
    """Every cell of an openpyxl workbook that openpyxl took for a formula (a text starting with
    ``=``) stored as the text it is: qualkit writes data, never formulas (OWASP CSV injection)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return wb


_PLAIN = (str, int, bool)  # never missing: answered without the pandas checks below


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if type(value) in _PLAIN:
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def is_number(value: Any) -> bool:
    """A real number that is not a bool (numpy scalars included)."""
    kind = type(value)
    if kind is int or kind is float:  # most numeric cells: without the ABC look-ups below
        return True
    if kind is str or kind is bool:
        return False
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not is_bool(value)


def is_bool(value: Any) -> bool:
    if type(value) in (str, int, float):
        return False
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def display_text(value: Any) -> str:
    """The text of a cell as a reader sees it: missing is empty, floats to at most 3 decimals."""
    if type(value) is str:  # most cells: the last line below, without the type checks
        return ILLEGAL_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if is_missing(value):
        return ""
    if is_number(value) and not isinstance(value, numbers.Integral):
        value = float(value)
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == int(value):
            return str(int(value))
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if is_number(value):
        return str(int(value))
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()  # a date (pandas Timestamps included), shown as one
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_XML.sub("", text)


def headers_of(frame: Any) -> list[str]:
    out = []
    for col in frame.columns:
        if isinstance(col, tuple):  # MultiIndex columns
            out.append(" / ".join(str(part) for part in col if str(part) != ""))
        else:
            out.append(display_text(col))
    return out


def rows_of(frame: Any) -> list[tuple[Any, ...]]:
    return list(frame.itertuples(index=False, name=None))


def numeric_columns(frame: Any, rows: list[tuple[Any, ...]]) -> list[bool]:
    """Columns whose non-empty values are all numbers (these are right-aligned)."""
    out = []
    for j in range(len(frame.columns)):
        values = [r[j] for r in rows if not is_missing(r[j])]
        out.append(bool(values) and all(is_number(v) for v in values))
    return out


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def display_len(line: str) -> int:
    """Width of a line in character cells (East Asian wide characters count double)."""
    if line.isascii():  # no wide character: one cell each (the common case, without a lookup per character)
        return len(line)
    return len(line) + sum(1 for ch in _NON_ASCII.findall(line) if unicodedata.east_asian_width(ch) in "WF")


def _narrow(text: str) -> bool:
    """True when no character of ``text`` is East Asian wide, so :func:`display_len` is ``len``
    (bullets and curly quotes are not wide: the common non-ASCII text is narrow too)."""
    return text.isascii() or not any(unicodedata.east_asian_width(ch) in "WF" for ch in set(_NON_ASCII.findall(text)))


def longest_line(text: str) -> int:
    """Width of the widest line of ``text`` (:func:`display_len`, without a call per line when no
    character is wide)."""
    return max(map(len if _narrow(text) else display_len, text.split("\n")))


def longest_word(text: str) -> int:
    """Width of the widest white-space separated word of ``text``, 0 for none."""
    words = text.split()
    if not words:
        return 0
    return max(map(len if _narrow(text) else display_len, words))


def heading_of(table: Any, count: int) -> str | None:
    """The caption of a table: its title, or its name when the document holds several tables."""
    return table.title or (table.name if count > 1 else None)
