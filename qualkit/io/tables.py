"""Reading the tables researchers bring (CSV and XLSX): rows with the line or sheet row they came from.

One reader for participants.csv, coding sheets, codebook spreadsheets and adjudication files, so
that encoding, delimiter and zip-bomb handling cannot drift between them:

* CSV: UTF-8 (with or without BOM), UTF-16, or cp1252 with a warning (see
  :func:`qualkit.io.textdecode.decode_bytes`); comma, semicolon or tab, detected from the first
  records; each row carries the physical line its record starts on, right even when a quoted
  cell holds line breaks; no field-size limit for long cells.
* XLSX: checked by :class:`qualkit.io.safezip.SafeZip` before openpyxl parses it; each row
  carries its sheet row.
"""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError
from qualkit.io.naming import file_kind

__all__ = [
    "DELIMITERS", "Row", "Table", "cell_text", "detect_delimiter", "no_field_limit", "read_csv", "read_table", "read_xlsx",
    "unclosed_quote",
]

DELIMITERS = (",", ";", "\t")
# Records looked at to choose the delimiter (an adjudication file has a few comment rows first).
SNIFF_RECORDS = 50
# The csv module refuses cells over 128 KiB by default; a memo or a long excerpt may be larger.
_FIELD_LIMIT = 2**31 - 1

Score = Callable[[list[list[str]]], int]


@dataclass(frozen=True)
class Row:
    """One record: ``line`` is where it starts (CSV physical line, XLSX sheet row), ``number``
    its 1-based position among the records (the row a spreadsheet program shows), ``cells`` its values."""

    line: int
    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        """True when every cell is empty or whitespace."""
        return not any(c.strip() for c in self.cells)


@dataclass
class Table:
    """The rows of a CSV file or of one worksheet, and how they were read."""

    path: Path
    rows: list[Row] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: blank for empty, ``3`` for 3.0, ISO 8601 for dates."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


@contextmanager
def no_field_limit() -> Iterator[None]:
    """Let the csv module read cells of any length (its default limit is 131,072 characters)."""
    old = csv.field_size_limit()
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sample(text: str, delimiter: str) -> list[list[str]]:
    """The first non-blank records of ``text`` read with ``delimiter`` (fewer if it is not CSV)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[list[str]] = []
    try:
        for values in itertools.islice((v for v in reader if any(c.strip() for c in v)), SNIFF_RECORDS):
            out.append(values)
    except csv.Error:
        pass
    return out


def detect_delimiter(text: str, score: Score | None = None) -> str:
    """Comma, semicolon or tab: the one ``score`` rates highest on the first records, then the one
    giving the first record the most fields; comma on a tie."""
    def key(delimiter: str) -> tuple[int, int]:
        records = _sample(text, delimiter)
        return (score(records) if score is not None else 0, len(records[0]) if records else 0)

    with no_field_limit():
        return max(DELIMITERS, key=key)


def unclosed_quote(text: str, line: int, delimiter: str = ",") -> bool:
    """True when the record starting on ``line`` opens a quoted cell that the file never closes.

    Python's csv module then reads the rest of the file into that one cell, silently: a stray quote
    typed by hand would swallow every row after it.
    """
    pos = 0
    for _ in range(line - 1):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return False
    reader = csv.reader(io.StringIO(text[pos:], newline=""), delimiter=delimiter, strict=True)
    try:
        with no_field_limit():
            next(reader, None)
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


UNCLOSED_QUOTE = 'a quote (") opened on this line is never closed, so the rest of the file would be one cell'


def _decode(path: Path, error_cls: type[QualkitError]) -> tuple[str, str, list[str]]:
    from qualkit.io.textdecode import decode_bytes, normalize_text

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error_cls("no such file", path) from None
    except OSError as exc:
        raise error_cls(f"cannot read file ({exc.strerror})", path) from None
    try:
        text, encoding, warnings = decode_bytes(data, path, what="a CSV text file")
    except QualkitError as exc:
        raise error_cls(exc.message, path) from None
    return normalize_text(text), encoding, warnings


def read_csv(path: str | Path, *, error_cls: type[QualkitError] = QualkitError, delimiter: str | None = None,
             score: Score | None = None) -> Table:
    """Every record of a CSV file (blank ones too) with its starting line; text is NFC with ``\\n`` newlines.

    ``score`` helps choose the delimiter when a file's first line alone cannot (see
    :func:`detect_delimiter`). Problems raise ``error_cls`` naming the file (and line).
    """
    path = Path(path)
    text, encoding, warnings = _decode(path, error_cls)
    delim = delimiter or detect_delimiter(text, score)
    table = Table(path, encoding=encoding, delimiter=delim, warnings=warnings)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    line = 1
    with no_field_limit():
        try:
            for number, values in enumerate(reader, start=1):
                table.rows.append(Row(line, number, [_unprotect(v) for v in values]))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise error_cls(f"not a readable CSV file ({exc})", path, line) from None
    if table.rows and unclosed_quote(text, table.rows[-1].line, delim):
        raise error_cls(UNCLOSED_QUOTE, path, table.rows[-1].line)
    return table


_PROTECTED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def _unprotect(cell: str) -> str:
    """A cell as it was before a CSV writer made it inert (``'=x`` -> ``=x``, OWASP CSV injection),
    so qualkit's own CSV exports (codebook, adjudication) read back unchanged."""
    return cell[1:] if cell.startswith(_PROTECTED) else cell


def _ordered_sheets(wb: Any, active_first: bool) -> list[Any]:
    sheets = list(wb.worksheets)
    active = wb.active if active_first else None
    return [active, *[s for s in sheets if s is not active]] if active is not None else sheets


def read_xlsx(path: str | Path, *, error_cls: type[QualkitError] = QualkitError,
              kind: str = "an Excel .xlsx workbook", not_zip_hint: str = "", prefer: Sequence[str] = (),
              accept: Callable[[list[Row]], bool] | None = None, active_first: bool = False) -> Table:
    """The rows of one worksheet, each with its sheet row, after the archive passed the zip checks.

    The sheet is the first (the active one first when ``active_first``) whose name is in
    ``prefer`` (any case), else the first whose rows ``accept`` takes, else the first.
    """
    from qualkit.io.safezip import SafeZip

    path = Path(path)
    if not path.exists():
        raise error_cls("no such file", path)
    SafeZip(path, kind=kind, label="the workbook", error_cls=error_cls, not_zip_hint=not_zip_hint).close()
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - untrusted file: any parser failure is the file's
        raise error_cls(f"cannot read the workbook, it may be damaged ({_reason(exc)})", path) from None
    try:
        sheets = _ordered_sheets(wb, active_first)
        wanted = {p.casefold() for p in prefer}
        chosen = next((s for s in sheets if s.title.casefold() in wanted), None)
        rows: list[Row] | None = None
        for sheet in [chosen] if chosen is not None else sheets:
            found = [Row(i, i, [cell_text(v) for v in r]) for i, r in enumerate(sheet.iter_rows(values_only=True), 1)]
            if rows is None:
                rows, chosen = found, sheet
            if accept is None or accept(found):
                rows, chosen = found, sheet
                break
        names = [str(s.title) for s in wb.worksheets]
        return Table(path, rows or [], sheet=str(chosen.title) if chosen is not None else None, sheets=names)
    except Exception as exc:  # noqa: BLE001
        raise error_cls(f"cannot read the workbook, it may be damaged ({_reason(exc)})", path) from None
    finally:
        wb.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


def read_table(path: str | Path, *, error_cls: type[QualkitError] = QualkitError, score: Score | None = None,
               prefer: Sequence[str] = ()) -> Table:
    """A .csv/.tsv/.txt or .xlsx/.xlsm file as a :class:`Table`; other types raise ``error_cls``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, error_cls=error_cls, prefer=prefer)
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, error_cls=error_cls, score=score)
    raise error_cls(f"cannot read {file_kind(path)}: give a .csv or .xlsx file", path)
