"""The adjudication file and the decision grammar: what a team fills in to settle two coders' disagreements.

Kept apart from :mod:`qualkit.analysis.disagreements` (which finds the disagreements and fills the
rows) and :mod:`qualkit.analysis.reconcile` (which applies the decisions), so that both import it
and neither imports the other back.

Adjudication file (``--out FILE.csv`` or ``.xlsx``)
----------------------------------------------------
One row per disagreement, with these columns (:func:`adjudication_columns`; the two coder columns
are named ``A (<coder>)`` and ``B (<coder>)``)::

    key, transcript, unit, speaker, participant, role, text, code, code_name, applied_by, quote,
    A (ana), B (ben), decision, rationale, decided_by, review, definition, include, exclude

``applied_by`` is the coder who applied ``code``; ``quote`` is what they marked of the unit;
``A (ana)`` / ``B (ben)`` list the names of every code each coder put on the unit. The team fills
in ``decision`` (grammar below), ``rationale`` and ``decided_by``; ``review`` marks a decision whose
codings changed since it was decided ("re-review: ..."; reconcile skips it until the mark is cleared). The CSV starts with a few
instruction rows whose first cell starts with ``#`` (kept or deleted, they are skipped); the XLSX
has them on a README sheet. ``key``, ``code``, ``applied_by`` and the two coder columns are checked
against the coders' files when the file is read back; anything else may be edited, rows may be
sorted, filtered or deleted (a deleted row is simply not decided).

Decision grammar (case, surrounding spaces and a trailing period are ignored):

* ``A`` (or coder A's name): take coder A's coding of this code on this unit: keep it if A applied
  it, drop it if A did not. ``B`` likewise.
* ``both``: keep the code (it is the coding of whoever applied it).
* ``neither`` or ``none``: drop the code from this unit.
* ``edit: ID[, ID ...]``: apply these code ids *instead*, on the span the coder marked (commas,
  semicolons or spaces between ids; list the disputed code too to keep it beside the others).
* empty: not decided yet.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qualkit.errors import AdjudicationError
from qualkit.io.naming import file_kind
from qualkit.render.cells import csv_safe, harden_workbook

__all__ = [
    "CHECKED_COLUMNS", "DECISION_KINDS", "FIXED_AFTER", "FIXED_BEFORE", "REQUIRED_COLUMNS", "XLSX_CELL_LIMIT",
    "Adjudication", "AdjudicationError", "AdjudicationRow", "Decision", "DecisionSyntaxError", "Disputed",
    "adjudication_columns", "adjudication_csv", "adjudication_xlsx", "coder_header", "parse_decision",
    "read_adjudication", "split_key",
]

XLSX_CELL_LIMIT = 32000       # Excel holds at most 32,767 characters in a cell

FIXED_BEFORE = ("key", "transcript", "unit", "speaker", "participant", "role", "text", "code", "code_name",
                "applied_by", "quote")
FIXED_AFTER = ("decision", "rationale", "decided_by", "review", "definition", "include", "exclude")
REQUIRED_COLUMNS = ("key", "code", "applied_by", "decision")
CHECKED_COLUMNS = ("code", "applied_by")  # and the two coder columns
FILL_IN_COLUMNS = ("decision", "rationale", "decided_by")
_CODER_HEADER = re.compile(r"^\s*([AB])\s*\((.+)\)\s*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def coder_header(letter: str, coder: str) -> str:
    """The column of coder ``letter`` (A or B): ``A (ana)``."""
    return f"{letter} ({coder})"


def adjudication_columns(coders: Sequence[str]) -> list[str]:
    """The adjudication file's header for coders (A, B)."""
    return [*FIXED_BEFORE, coder_header("A", coders[0]), coder_header("B", coders[1]), *FIXED_AFTER]


# -- the decision grammar -----------------------------------------------------------------------

DECISION_KINDS = ("A", "B", "both", "neither", "edit")


class Disputed(Protocol):
    """What a decision needs of a disagreement: the code in dispute and the coder who applied it."""

    code: str
    applied_by: str


@dataclass(frozen=True)
class Decision:
    """A decision on one disagreement: ``kind`` is A, B, both, neither or edit (with ``codes``)."""

    kind: str
    codes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"edit: {', '.join(self.codes)}" if self.kind == "edit" else self.kind

    def result(self, d: Disputed, coders: Sequence[str]) -> list[str]:
        """The codes the consensus puts on the unit for this disagreement (on the marked span)."""
        if self.kind == "edit":
            return list(self.codes)
        keep = {"A": d.applied_by == coders[0], "B": d.applied_by == coders[1], "both": True, "neither": False}[self.kind]
        return [d.code] if keep else []

    def swapped(self) -> Decision:
        """The same decision with coders A and B swapped."""
        return Decision({"A": "B", "B": "A"}.get(self.kind, self.kind), self.codes)


class DecisionSyntaxError(ValueError):
    """A decision cell or command that is not in the grammar (see the module docstring)."""


def parse_decision(text: object, coders: Sequence[str] = ()) -> Decision | None:
    """A decision cell (see the module docstring) -> Decision, None when empty; DecisionSyntaxError if unknown."""
    raw = "" if text is None else str(text)
    s = " ".join(raw.split()).strip().rstrip(".").strip()
    if not s:
        return None
    low = s.casefold()
    names = {c.casefold(): letter for c, letter in zip(coders, "AB")}
    if low in ("a", "b"):
        return Decision(low.upper())
    if low in ("both", "neither", "none"):
        return Decision("neither" if low == "none" else low)
    if low in names:
        return Decision(names[low])
    m = re.match(r"^edit\b\s*:?\s*(.*)$", s, re.IGNORECASE)
    if m:
        ids = [x.lower() for x in re.split(r"[,;\s]+", m.group(1)) if x]
        if not ids:
            raise DecisionSyntaxError("'edit:' needs the code ids to apply after it (e.g. edit: stigma_staff)")
        bad = [x for x in ids if not _ID.match(x)]
        if bad:
            raise DecisionSyntaxError(f"{bad[0]!r} after 'edit:' is not a code id (ids look like stigma_staff)")
        return Decision("edit", tuple(dict.fromkeys(ids)))
    who_ = f" (or {coders[0]} / {coders[1]})" if len(coders) == 2 else ""
    raise DecisionSyntaxError(f"unknown decision {raw.strip()!r}: use A, B{who_}, both, neither, or edit: code ids")


# -- reading adjudication files -----------------------------------------------------------------

@dataclass
class AdjudicationRow:
    """One row of an adjudication file, as read (``decision`` parsed; None = not decided)."""

    row: int                     # the row number a spreadsheet program shows (1-based, instruction rows count)
    key: str
    cells: dict[str, str]        # every column, as text
    decision: Decision | None
    rationale: str = ""
    decided_by: str = ""


@dataclass
class Adjudication:
    """A read adjudication file: the coders its columns name (A, B) and its rows."""

    path: Path
    coders: list[str]
    header_row: int
    columns: list[str]
    rows: list[AdjudicationRow] = field(default_factory=list)

    @property
    def unit_kinds(self) -> set[str]:
        """The unit kinds the rows' keys name."""
        return {parts[1] for r in self.rows if (parts := split_key(r.key))}

    def decided(self) -> list[AdjudicationRow]:
        """The rows with a decision."""
        return [r for r in self.rows if r.decision is not None]


def split_key(key: str) -> tuple[str, str, int, int, str] | None:
    """``transcript:kind:start-end:code`` -> parts, or None if it is not shaped like a key."""
    parts = key.rsplit(":", 3)
    if len(parts) != 4:
        return None
    m = re.fullmatch(r"(\d+)-(\d+)", parts[2])
    if not m or not parts[0] or not parts[3]:
        return None
    return parts[0], parts[1], int(m.group(1)), int(m.group(2)), parts[3]


Table = list[tuple[int, list[str]]]   # (row number as a spreadsheet shows it, cells)


def read_adjudication(path: str | Path) -> Adjudication:
    """Read a filled-in adjudication file (.csv or .xlsx); problems name the file and row.

    Checks the file's own shape (columns, keys, decision grammar, duplicate keys). Whether the
    rows still match the coders' files and the codebook is checked by :func:`qualkit.analysis.reconcile.reconcile`.
    """
    path = Path(path)
    if not path.is_file():
        raise AdjudicationError("no such file", path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "csv":
        table = _csv_rows(path)
    elif fmt in ("xlsx", "xlsm"):
        table = _xlsx_rows(path)
    else:
        raise AdjudicationError(f"an adjudication file is .csv or .xlsx, not {file_kind(path)}", path)
    hrow, header = _header(table, path)
    coder_cols = _coder_columns(header, path, hrow)
    names = [header_coder(header[coder_cols["A"]]), header_coder(header[coder_cols["B"]])]
    result = Adjudication(path, names, hrow, header)
    idx = {h.casefold(): i for i, h in enumerate(header)}
    seen: dict[str, int] = {}
    for n, values in table:
        if n <= hrow or not any(v.strip() for v in values):
            continue
        if values and values[0].strip().startswith("#"):
            continue
        result.rows.append(_row(n, values, header, idx, coder_cols, names, seen, path))
    return result


def header_coder(header: str) -> str:
    """The coder a coder column names (``A (ana)`` -> ``ana``)."""
    m = _CODER_HEADER.match(header)
    return m.group(2).strip() if m else header


def _header(table: Table, path: Path) -> tuple[int, list[str]]:
    """The header row: the first row that is neither blank nor an instruction (``#``)."""
    for n, values in table:
        first = values[0].strip().lstrip("\ufeff") if values else ""
        if not any(v.strip() for v in values) or first.startswith("#"):
            continue
        return n, [v.strip().lstrip("\ufeff") for v in values]
    raise AdjudicationError("no header row (key, ..., decision): write it with `qualkit disagreements --out`", path)


def _coder_columns(header: list[str], path: Path, hrow: int) -> dict[str, int]:
    """Where the A and B columns are; every required column there, none twice."""
    lower = [h.casefold() for h in header]
    coder_cols: dict[str, int] = {}
    for i, h in enumerate(header):
        m = _CODER_HEADER.match(h)
        if m:
            if m.group(1) in coder_cols:
                raise AdjudicationError(f"two columns for coder {m.group(1)}", path, hrow)
            coder_cols[m.group(1)] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in lower]
    missing += [f"{x} (<coder>)" for x in "AB" if x not in coder_cols]
    if missing:
        raise AdjudicationError(f"missing column(s) {', '.join(missing)} in the header row; write the file again "
                                "with `qualkit disagreements --out`", path, hrow)
    dupes = sorted({h for h in lower if h and lower.count(h) > 1})
    if dupes:
        raise AdjudicationError(f"column(s) {', '.join(dupes)} appear twice in the header row", path, hrow)
    return coder_cols


def _row(n: int, values: list[str], header: list[str], idx: Mapping[str, int], coder_cols: Mapping[str, int],
         names: Sequence[str], seen: dict[str, int], path: Path) -> AdjudicationRow:
    """One data row, checked (key present, shaped like a key, not seen before; the decision parses)."""
    def get(c: str) -> str:
        return values[idx[c]].strip() if c in idx and idx[c] < len(values) else ""

    cells = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
    cells["A"] = values[coder_cols["A"]].strip() if coder_cols["A"] < len(values) else ""
    cells["B"] = values[coder_cols["B"]].strip() if coder_cols["B"] < len(values) else ""
    key = get("key")
    if not key:
        raise AdjudicationError("blank key (keys identify the disagreements; do not edit them)", path, n)
    if split_key(key) is None:
        raise AdjudicationError(f"key {key!r} is not shaped like transcript:unit:start-end:code (edited?)", path, n)
    if key in seen:
        raise AdjudicationError(f"key {key} appears twice (also on row {seen[key]})", path, n)
    seen[key] = n
    try:
        decision = parse_decision(get("decision"), names)
    except DecisionSyntaxError as exc:
        raise AdjudicationError(str(exc), path, n) from None
    return AdjudicationRow(n, key, cells, decision, get("rationale"), get("decided_by"))


def _is_adjudication_header(records: list[list[str]]) -> int:
    header = next((v for v in records if v and v[0].strip().lstrip("\ufeff") == "key"), None)
    return int(bool(header) and "decision" in [h.strip().casefold() for h in header or []])


def _csv_rows(path: Path) -> Table:
    from qualkit.io.tables import read_csv

    # numbered as a spreadsheet program numbers rows (a cell may hold line breaks)
    table = read_csv(path, error_cls=AdjudicationError, score=_is_adjudication_header)
    return [(r.number, r.cells) for r in table.rows]


def _xlsx_rows(path: Path) -> Table:
    from qualkit.io.tables import read_xlsx

    table = read_xlsx(path, error_cls=AdjudicationError, kind="a readable .xlsx workbook", prefer=("Adjudication",))
    return [(r.line, r.cells) for r in table.rows]


# -- writing adjudication files -----------------------------------------------------------------

Row = Mapping[str, Any]


def adjudication_csv(columns: Sequence[str], rows: Sequence[Row], readme: Sequence[str]) -> str:
    """The CSV adjudication file: ``#`` instruction rows, the header, one row per disagreement."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    for line in readme:
        writer.writerow(["# " + line])
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_safe(row[c]) for c in columns])
    return "\ufeff" + buf.getvalue()  # a BOM so that Excel reads UTF-8


_WIDTHS = {"key": 24, "transcript": 12, "unit": 7, "speaker": 14, "participant": 12, "role": 14, "text": 60,
           "code": 16, "code_name": 20, "applied_by": 11, "quote": 40, "decision": 16, "rationale": 40,
           "decided_by": 12, "definition": 45, "include": 35, "exclude": 35}


def adjudication_xlsx(columns: Sequence[str], rows: Sequence[Row], readme: Sequence[str],
                      coders: Sequence[str]) -> bytes:
    """The XLSX adjudication file: an Adjudication sheet (decision cells offer the grammar) and a README sheet."""
    from openpyxl import Workbook

    cols = list(columns)
    wb = Workbook()
    ws = wb.active
    ws.title = "Adjudication"
    ws.append(cols)
    for row in rows:
        ws.append([_cell(row[c]) for c in cols])
    _style_sheet(ws, cols)
    if len(rows):
        _decision_prompt(ws, cols, len(rows), coders)
    _readme_sheet(wb, readme)
    harden_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _style_sheet(ws: Any, cols: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    head_fill = PatternFill("solid", fgColor="DDE5F0")
    fill_in = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, col in enumerate(cols, 1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = _WIDTHS.get(col, 28)
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True)
        head.fill = fill_in if col in FILL_IN_COLUMNS else head_fill
    # Two body styles (wrapped; wrapped and shaded to fill in), each set once through openpyxl and then
    # copied: setting ``cell.alignment`` hashes the Alignment to find its id, per cell.
    fill_col = [c in FILL_IN_COLUMNS for c in cols]
    styles: dict[bool, Any] = {}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a transcript's text is never a formula
            shaded = fill_col[cell.column - 1]
            if shaded in styles:
                cell._style = copy(styles[shaded])
                continue
            cell.alignment = wrap
            if shaded:
                cell.fill = fill_in
            styles[shaded] = copy(cell._style)
    ws.freeze_panes = "B2"


def _decision_prompt(ws: Any, cols: list[str], n_rows: int, coders: Sequence[str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    ws.auto_filter.ref = ws.dimensions
    col = ws.cell(row=1, column=cols.index("decision") + 1).column_letter
    a, b = coders
    dv = DataValidation(type="list", formula1='"A,B,both,neither,edit: "', allow_blank=True,
                        showErrorMessage=False, showInputMessage=True, promptTitle="decision",
                        prompt=f"A = {a}'s coding, B = {b}'s, both, neither, or edit: code_id[, code_id]"[:255])
    dv.add(f"{col}2:{col}{n_rows + 1}")
    ws.add_data_validation(dv)


def _readme_sheet(wb: Any, readme: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = wb.create_sheet("README")
    sheet.column_dimensions["A"].width = 140
    for line in readme:
        sheet.append([line])
        sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.cell(row=1, column=1).font = Font(bold=True)


_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value: object) -> object:
    if isinstance(value, str):
        value = _ILLEGAL_XLSX.sub("", value)
        if len(value) > XLSX_CELL_LIMIT:
            value = value[:XLSX_CELL_LIMIT - 1] + "…"
    return value
