"""Where two coders differ, unit by unit: the document a team brings to its consensus meeting.

A *disagreement* is one code on one unit that one coder applied and the other did not (units as
in agreement: ``turn``, ``sentence``, ``paragraph``, ``question``, ``document``; see
:mod:`qualkit.analysis.unit_codes`). A unit where ana coded *stigma* and ben coded *legal* is two
disagreements, one per code, because the team decides each code on its own.

Each disagreement has a stable **key**::

    <transcript>:<unit kind>:<start>-<end>:<code>        e.g.  int1:turn:118-190:stigma

``start``-``end`` are the unit's code-point offsets in the transcript's text (half-open), so a key
stays the same as long as the transcript's text and the unit kind do, whatever else changes in
the coders' files. Keys are what adjudication files and the audit log refer to.

**Confusion pairs** ("ana used X where ben used Y") count units where coder A has X and not Y
while coder B has Y and not X: codes the coders swap for one another, whose definitions (or
include / exclude rules) need sharpening.

Adjudication file (``--out FILE.csv`` or ``.xlsx``)
----------------------------------------------------
One row per disagreement, with these columns (``ADJUDICATION_COLUMNS``; the two coder columns are
named ``A (<coder>)`` and ``B (<coder>)``)::

    key, transcript, unit, speaker, participant, role, text, code, code_name, applied_by, quote,
    A (ana), B (ben), decision, rationale, decided_by, definition, include, exclude

``applied_by`` is the coder who applied ``code``; ``quote`` is what they marked of the unit;
``A (ana)`` / ``B (ben)`` list the names of every code each coder put on the unit. The team fills
in ``decision`` (grammar below), ``rationale`` and ``decided_by``. The CSV starts with a few
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import QualkitError
from qualkit.io.atomic import atomic_write_bytes, atomic_write_text

FORMATS = ("csv", "xlsx", "docx", "md")
DISPLAY_LIMIT = 1500          # characters of a unit's text shown in the terminal, DOCX and Markdown
XLSX_CELL_LIMIT = 32000       # Excel holds at most 32,767 characters in a cell

FIXED_BEFORE = ("key", "transcript", "unit", "speaker", "participant", "role", "text", "code", "code_name",
                "applied_by", "quote")
FIXED_AFTER = ("decision", "rationale", "decided_by", "definition", "include", "exclude")
REQUIRED_COLUMNS = ("key", "code", "applied_by", "decision")
CHECKED_COLUMNS = ("code", "applied_by")  # and the two coder columns
_CODER_HEADER = re.compile(r"^\s*([AB])\s*\((.+)\)\s*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def coder_header(letter: str, coder: str) -> str:
    return f"{letter} ({coder})"


def adjudication_columns(coders: Sequence[str]) -> list[str]:
    """The adjudication file's header for coders (A, B)."""
    return [*FIXED_BEFORE, coder_header("A", coders[0]), coder_header("B", coders[1]), *FIXED_AFTER]


from qualkit.errors import AdjudicationError  # noqa: F401  (defined with every other error in qualkit.errors)

# -- data ---------------------------------------------------------------------------------------

@dataclass
class Disagreement:
    """One code on one unit applied by one coder (``applied_by``) and not by the other."""

    key: str
    transcript: str
    unit_kind: str
    unit_number: int           # 1-based, within the transcript
    start: int
    end: int
    speaker: str | None
    participant: str | None
    role: str
    text: str                  # the unit's text
    code: str
    code_name: str
    applied_by: str
    codes: dict[str, list[str]]   # coder -> ids of every code the coder put on the unit (sorted)
    quote: str                 # what ``applied_by`` marked with ``code`` inside the unit
    quote_spans: list[tuple[int, int]]  # those spans, as offsets into the transcript
    definition: str = ""
    include: str = ""
    exclude: str = ""
    index: int = 0             # the unit's position in the comparison's unit list

    @property
    def unit_label(self) -> str:
        return f"{self.unit_kind} {self.unit_number}"

    def holder_letter(self, coders: Sequence[str]) -> str:
        return "A" if self.applied_by == coders[0] else "B"

    def snapshot(self) -> dict:
        """What the audit log records of the disagreement."""
        text = " ".join(self.text.split())
        return {"transcript": self.transcript, "unit": self.unit_number, "start": self.start, "end": self.end,
                "code": self.code, "applied_by": self.applied_by, "codes": {c: list(v) for c, v in self.codes.items()},
                "text": text if len(text) <= 200 else text[:199] + "…"}


@dataclass(frozen=True)
class ConfusionPair:
    """Units where coder A applied ``a_code`` (and not ``b_code``) while B applied ``b_code`` (and not ``a_code``)."""

    a_coder: str
    a_code: str
    b_coder: str
    b_code: str
    count: int

    def as_dict(self) -> dict:
        return {"a_coder": self.a_coder, "a_code": self.a_code, "b_coder": self.b_coder, "b_code": self.b_code,
                "count": self.count}


class DisagreementList(list):
    """The disagreements (a list of :class:`Disagreement`, in text order) with their context.

    ``coders`` (A, B), ``unit_kind``, ``transcripts`` compared, ``left_out`` (transcript -> coders
    who did not code it), ``units`` compared, ``code_filter``, ``code_names`` (id -> name) and
    ``comparison`` (for :func:`confusion_pairs` and reconciliation).
    """

    def __init__(self, items: Iterable[Disagreement] = (), *, comparison: Comparison, code_filter: str | None = None):
        super().__init__(items)
        self.comparison = comparison
        self.coders: list[str] = list(comparison.coders)
        self.unit_kind: str = comparison.unit_kind
        self.transcripts: list[str] = list(comparison.uc.transcripts)
        self.left_out: dict[str, list[str]] = dict(comparison.uc.left_out)
        self.units: int = len(comparison.uc.units)
        self.code_filter = code_filter

    def code_name(self, code_id: str) -> str:
        return self.comparison.code_name(code_id)

    def by_unit(self) -> list[list[Disagreement]]:
        """The disagreements grouped by unit (text order)."""
        groups: dict[int, list[Disagreement]] = {}
        for d in self:
            groups.setdefault(d.index, []).append(d)
        return list(groups.values())

    def to_dataframe(self):
        """One row per disagreement, columns as in the adjudication file (decision columns empty)."""
        import pandas as pd

        cols = adjudication_columns(self.coders)
        return pd.DataFrame([adjudication_row(d, self) for d in self], columns=cols)

    def as_dicts(self) -> list[dict]:
        return [{"key": d.key, "transcript": d.transcript, "unit_kind": d.unit_kind, "unit": d.unit_number,
                 "start": d.start, "end": d.end, "speaker": d.speaker, "participant": d.participant, "role": d.role,
                 "text": d.text, "code": d.code, "code_name": d.code_name, "applied_by": d.applied_by,
                 "quote": d.quote, "codes": d.codes, "definition": d.definition, "include": d.include,
                 "exclude": d.exclude} for d in self]


# -- the comparison of two coders ---------------------------------------------------------------

class Comparison:
    """Two coders' codings laid onto units, with which coding touches which unit.

    ``uc`` is :class:`qualkit.analysis.unit_codes.UnitCodes`; ``codings[coder]`` the coder's whole file;
    ``on_unit[coder][i]`` the indices (into ``codings[coder]``) of codings overlapping unit ``i``;
    ``touches[coder][j]`` the units coding ``j`` overlaps (only units compared).
    """

    def __init__(self, workspace, coders, unit: str | None = None, include_facilitators: bool = False):
        from qualkit.analysis.unit_codes import AgreementInputError, build_unit_codes

        self.ws = _workspace(workspace)
        unit = unit or default_unit(self.ws)
        coders = parse_coders(coders)
        if len(coders) != 2:
            raise AgreementInputError(f"name exactly two coders to compare (e.g. --coders ana,ben), not {len(coders)}")
        self.uc = build_unit_codes(self.ws, coders, unit, include_facilitators)
        self.coders: list[str] = list(self.uc.coders)
        self.unit_kind = unit
        self.include_facilitators = include_facilitators
        self.code_index = self.ws.code_index()
        self.codings = {c: self.ws.codings(c) for c in self.coders}
        self.texts = {tid: self.ws.transcript(tid).text for tid in self.uc.transcripts}
        by_tid: dict[str, list[int]] = {}
        for i, ref in enumerate(self.uc.units):
            by_tid.setdefault(ref.transcript, []).append(i)
        self._by_tid = by_tid
        self.on_unit: dict[str, list[list[int]]] = {c: [[] for _ in self.uc.units] for c in self.coders}
        self.touches: dict[str, dict[int, list[int]]] = {c: {} for c in self.coders}
        import bisect

        for coder in self.coders:
            for j, c in enumerate(self.codings[coder]):
                idxs = by_tid.get(c.transcript)
                if not idxs:
                    continue
                starts = [self.uc.units[i].unit.start for i in idxs]
                k = max(bisect.bisect_right(starts, c.start) - 1, 0)
                hit = []
                while k < len(idxs) and self.uc.units[idxs[k]].unit.start < c.end:
                    if self.uc.units[idxs[k]].unit.end > c.start:
                        hit.append(idxs[k])
                    k += 1
                if hit:
                    self.touches[coder][j] = hit
                    for i in hit:
                        self.on_unit[coder][i].append(j)

    def code_name(self, code_id: str) -> str:
        found = self.code_index.get(code_id)
        return found[1].name if found else code_id

    def key(self, i: int, code: str) -> str:
        ref = self.uc.units[i]
        return f"{ref.transcript}:{self.unit_kind}:{ref.unit.start}-{ref.unit.end}:{code}"

    def codings_on(self, coder: str, i: int, code: str) -> list[int]:
        return [j for j in self.on_unit[coder][i] if self.codings[coder][j].code == code]

    def role(self, participant: str | None) -> str:
        if not participant:
            return ""
        return self.ws.participant_table.attributes(participant).get("role", "") or ""

    def agreed(self) -> list[tuple[int, str]]:
        """(unit index, code) that both coders applied."""
        a, b = self.coders
        return [(i, code) for i in range(len(self.uc.units))
                for code in sorted(self.uc.codes[a][i] & self.uc.codes[b][i])]

    def disagreements(self, code: str | None = None) -> list[Disagreement]:
        a, b = self.coders
        out: list[Disagreement] = []
        for i, ref in enumerate(self.uc.units):
            sa, sb = self.uc.codes[a][i], self.uc.codes[b][i]
            for c in sorted(sa ^ sb):
                if code is not None and c != code:
                    continue
                holder = a if c in sa else b
                text = self.texts[ref.transcript]
                u = ref.unit
                spans = []
                for j in self.codings_on(holder, i, c):
                    x = self.codings[holder][j]
                    spans.append((max(x.start, u.start), min(x.end, u.end)))
                spans = sorted(set(spans))
                found = self.code_index.get(c)
                cb = found[1] if found else None
                out.append(Disagreement(
                    self.key(i, c), ref.transcript, self.unit_kind, ref.number, u.start, u.end, ref.speaker,
                    ref.participant, self.role(ref.participant), text[u.start:u.end], c,
                    cb.name if cb else c, holder, {a: sorted(sa), b: sorted(sb)},
                    " … ".join(text[s:e] for s, e in spans), spans,
                    cb.definition if cb else "", cb.include if cb else "", cb.exclude if cb else "", i))
        return out


def _workspace(workspace):
    from qualkit.workspace.store import Workspace

    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def default_unit(ws) -> str:
    """The unit kind compared when none is named: qualkit.yaml's ``agreement: unit:``, else turn."""
    return str(ws.config.agreement.unit)


def parse_coders(coders) -> list[str]:
    """``"ana,ben"`` or ``["ana", "ben"]`` -> ``["ana", "ben"]`` (blanks and repeats dropped)."""
    if isinstance(coders, str):
        coders = coders.split(",")
    return list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))


# -- the library calls --------------------------------------------------------------------------

def disagreements(workspace, coders, unit: str | None = None, code: str | None = None,
                  include_facilitators: bool = False) -> DisagreementList:
    """Every (unit, code) that exactly one of two coders applied, in text order.

    ``unit`` defaults to qualkit.yaml's ``agreement: unit:``, else ``turn``; ``code`` limits the
    list to one code id. Raises :class:`~qualkit.analysis.unit_codes.AgreementInputError`
    for an unknown coder or no transcript in common, a :class:`QualkitError` for an unknown code.
    """
    comp = Comparison(workspace, coders, unit, include_facilitators)
    if code is not None and code not in comp.code_index and code not in comp.uc.code_ids:
        import difflib

        close = difflib.get_close_matches(code, sorted(comp.code_index), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise QualkitError(f"code {code!r} is not in any codebook{hint}", comp.ws.codebooks_dir)
    return DisagreementList(comp.disagreements(code), comparison=comp, code_filter=code)


def confusion_pairs(workspace_or_list, coders=None, unit: str | None = None, code: str | None = None,
                    include_facilitators: bool = False) -> list[ConfusionPair]:
    """Code pairs the coders swap, most frequent first (see the module docstring).

    Pass a :class:`DisagreementList` (its comparison and code filter are used), or a workspace with
    the same arguments as :func:`disagreements`. With ``code``, only pairs involving that code.
    """
    if isinstance(workspace_or_list, DisagreementList):
        comp, code = workspace_or_list.comparison, workspace_or_list.code_filter if code is None else code
    else:
        comp = Comparison(workspace_or_list, coders, unit, include_facilitators)
    a, b = comp.coders
    counts: dict[tuple[str, str], int] = {}
    for sa, sb in zip(comp.uc.codes[a], comp.uc.codes[b]):
        for x in sa - sb:
            for y in sb - sa:
                if code is None or code in (x, y):
                    counts[(x, y)] = counts.get((x, y), 0) + 1
    pairs = [ConfusionPair(a, x, b, y, n) for (x, y), n in counts.items()]
    return sorted(pairs, key=lambda p: (-p.count, p.a_code, p.b_code))


# -- writing ------------------------------------------------------------------------------------

def _names(items: DisagreementList, ids: Iterable[str]) -> str:
    return "; ".join(items.code_name(c) for c in ids)


def adjudication_row(d: Disagreement, items: DisagreementList) -> dict[str, object]:
    a, b = items.coders
    return {"key": d.key, "transcript": d.transcript, "unit": d.unit_number, "speaker": d.speaker or "",
            "participant": d.participant or "", "role": d.role, "text": d.text, "code": d.code,
            "code_name": d.code_name, "applied_by": d.applied_by, "quote": d.quote,
            coder_header("A", a): _names(items, d.codes[a]), coder_header("B", b): _names(items, d.codes[b]),
            "decision": "", "rationale": "", "decided_by": "",
            "definition": d.definition, "include": d.include, "exclude": d.exclude}


def readme_lines(items: DisagreementList) -> list[str]:
    a, b = items.coders
    what = f" for code {items.code_filter}" if items.code_filter else ""
    return [
        f"qualkit adjudication file: {len(items)} disagreement(s){what} between A = {a} and B = {b}, "
        f"{items.unit_kind} units. One row per code that one coder applied to a unit and the other did not.",
        f"Fill in 'decision' (and 'rationale', 'decided_by'), then run: {reconcile_command(items, 'THIS_FILE')}",
        f"decision: A (or {a}) = take {a}'s coding of this code here (keep it if {a} applied it, drop it if not); "
        f"B (or {b}) = take {b}'s; both = keep the code; neither (or none) = drop it;",
        "  edit: ID, ID = apply these code ids instead, on the span the coder marked (e.g. edit: stigma_staff); "
        "empty = not decided yet.",
        "Do not change key, code, applied_by or the A/B columns: they are checked against the coders' files. "
        "Rows may be sorted, filtered or deleted (a deleted row stays undecided).",
        "key = transcript:unit kind:start-end:code (the unit's character offsets in the transcript).",
    ]


def reconcile_command(items: DisagreementList, path) -> str:
    """The command that applies an adjudication file written for these disagreements."""
    flag = " --include-moderator" if items.comparison.include_facilitators else ""
    return f"qualkit reconcile --coders {','.join(items.coders)} --adjudication {path}{flag}"


def _pending_decisions(path: Path, items: DisagreementList) -> int | None:
    """Decisions in an existing adjudication file that are not yet in force (None: unreadable).

    A decision already applied by `qualkit reconcile` lives in the audit log, so regenerating the
    file after reconciling loses nothing; one not applied yet would be lost.
    """
    from qualkit.analysis.reconcile import AuditLog, decisions_in_force

    try:
        adj = read_adjudication(path)
    except QualkitError:
        return None
    comp = items.comparison
    in_force = decisions_in_force(AuditLog(comp.ws.root).read(), items.coders, items.unit_kind, "consensus")
    return sum(1 for r in adj.rows
               if r.decision is not None and (r.key not in in_force or in_force[r.key].decision != r.decision))


def write_adjudication(items: DisagreementList, path: str | Path, force: bool = False) -> Path:
    """Write the adjudication file (``.csv`` or ``.xlsx``) for these disagreements, atomically.

    A team's filled-in decisions are never overwritten silently: an existing file with decisions not
    yet applied by `qualkit reconcile` (or one that cannot be read) is refused unless ``force``; an
    existing file is always kept as a backup beside it.
    """
    from qualkit.io.atomic import backup

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise QualkitError(f"an adjudication file is .csv or .xlsx, not '.{fmt}'", path)
    if path.exists():
        pending = _pending_decisions(path, items)
        if (pending is None or pending) and not force:
            what = ("could not be read as an adjudication file" if pending is None
                    else f"already holds {pending} decision(s) not yet applied")
            raise QualkitError(f"{what}; apply it first (`qualkit reconcile --adjudication {path.name}`) or write to "
                               "another file; --force replaces it and keeps a backup beside it", path)
        backup(path)
    if fmt == "csv":
        atomic_write_text(path, _adjudication_csv(items))
    else:
        atomic_write_bytes(path, _adjudication_xlsx(items))
    return path


def write_disagreements(items: DisagreementList, path: str | Path, pairs: list[ConfusionPair] | None = None,
                        force: bool = False) -> Path:
    """Write the disagreements to FILE.csv / .xlsx (adjudication files), .docx or .md (meeting documents)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise QualkitError(f"cannot write '.{fmt}': use .csv or .xlsx (adjudication file), .docx or .md", path)
    if fmt in ("csv", "xlsx"):
        return write_adjudication(items, path, force=force)
    if pairs is None:
        pairs = confusion_pairs(items)
    if fmt == "md":
        atomic_write_text(path, meeting_markdown(items, pairs))
    else:
        atomic_write_bytes(path, _meeting_docx(items, pairs))
    return path


def _adjudication_csv(items: DisagreementList) -> str:
    cols = adjudication_columns(items.coders)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    for line in readme_lines(items):
        writer.writerow(["# " + line])
    writer.writerow(cols)
    for d in items:
        row = adjudication_row(d, items)
        writer.writerow([row[c] for c in cols])
    return "\ufeff" + buf.getvalue()  # a BOM so that Excel reads UTF-8


def _adjudication_xlsx(items: DisagreementList) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = adjudication_columns(items.coders)
    wb = Workbook()
    ws = wb.active
    ws.title = "Adjudication"
    ws.append(cols)
    for d in items:
        row = adjudication_row(d, items)
        ws.append([_cell(row[c]) for c in cols])
    widths = {"key": 24, "transcript": 12, "unit": 7, "speaker": 14, "participant": 12, "role": 14, "text": 60,
              "code": 16, "code_name": 20, "applied_by": 11, "quote": 40, "decision": 16, "rationale": 40,
              "decided_by": 12, "definition": 45, "include": 35, "exclude": 35}
    head_fill = PatternFill("solid", fgColor="DDE5F0")
    fill_in = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, col in enumerate(cols, 1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = widths.get(col, 28)
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True)
        head.fill = fill_in if col in ("decision", "rationale", "decided_by") else head_fill
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a transcript's text is never a formula
            if cols[cell.column - 1] in ("decision", "rationale", "decided_by"):
                cell.fill = fill_in
    ws.freeze_panes = "B2"
    if len(items):
        ws.auto_filter.ref = ws.dimensions
        col = ws.cell(row=1, column=cols.index("decision") + 1).column_letter
        a, b = items.coders
        dv = DataValidation(type="list", formula1='"A,B,both,neither,edit: "', allow_blank=True,
                            showErrorMessage=False, showInputMessage=True, promptTitle="decision",
                            prompt=f"A = {a}'s coding, B = {b}'s, both, neither, or edit: code_id[, code_id]"[:255])
        dv.add(f"{col}2:{col}{len(items) + 1}")
        ws.add_data_validation(dv)
    readme = wb.create_sheet("README")
    readme.column_dimensions["A"].width = 140
    for line in readme_lines(items):
        readme.append([line])
        readme.cell(row=readme.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    readme.cell(row=1, column=1).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value):
    if isinstance(value, str):
        value = _ILLEGAL_XLSX.sub("", value)
        if len(value) > XLSX_CELL_LIMIT:
            value = value[:XLSX_CELL_LIMIT - 1] + "…"
    return value


def clip(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """A unit's text for reading: whole, or its start and a note of how much is left out."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit * 0.8 else cut
    return f"{cut} … [{len(text) - len(cut)} more characters]"


def who(d: Disagreement) -> str:
    """Speaker (participant, role) of a disagreement's unit."""
    bits = [x for x in (d.participant, d.role) if x]
    return (d.speaker or "(no speaker label)") + (f" ({', '.join(bits)})" if bits else "")


def summary_line(items: DisagreementList) -> str:
    a, b = items.coders
    units = len(items.by_unit())
    what = f" on code {items.code_filter}" if items.code_filter else ""
    return (f"{len(items)} disagreement(s){what} on {units} of {items.units} {items.unit_kind}s between {a} and {b} "
            f"({len(items.transcripts)} transcript(s) coded by both)")


def left_out_line(items: DisagreementList) -> str | None:
    if not items.left_out:
        return None
    parts = [f"{t} (not coded by {', '.join(c)})" for t, c in items.left_out.items()]
    return "left out: " + "; ".join(parts)


def meeting_markdown(items: DisagreementList, pairs: list[ConfusionPair]) -> str:
    a, b = items.coders
    out = [f"# Disagreements: {a} and {b}", "", summary_line(items) + ".", ""]
    if (lo := left_out_line(items)):
        out += [lo[0].upper() + lo[1:] + ".", ""]
    if pairs:
        out += ["## Confusion pairs", "", f"Units where {a} used one code and {b} another: definitions to sharpen.", "",
                f"| Units | {a} used | {b} used |", "|---:|---|---|"]
        out += [f"| {p.count} | {_md(items.code_name(p.a_code))} | {_md(items.code_name(p.b_code))} |" for p in pairs]
        out.append("")
    for group in items.by_unit():
        d0 = group[0]
        out += [f"## {d0.transcript} · {d0.unit_label} · {_md(who(d0))}", ""]
        out += ["> " + line if line.strip() else ">" for line in clip(d0.text).split("\n")]
        out += ["", f"- **{a}**: {_md(_names(items, d0.codes[a])) or '(nothing)'}",
                f"- **{b}**: {_md(_names(items, d0.codes[b])) or '(nothing)'}", ""]
        for d in group:
            out.append(f"**{_md(d.code_name)}** (`{d.code}`), applied by {d.applied_by} only"
                       + (f": “{_md(clip(' '.join(d.quote.split()), 300))}”" if d.quote and d.quote != d.text else "")
                       + f" — key `{d.key}`")
            out.append("")
            for label, value in (("Definition", d.definition), ("Use when", d.include), ("Do not use when", d.exclude)):
                if value:
                    out.append(f"- {label}: {_md(value)}")
            if not (d.definition or d.include or d.exclude):
                out.append("- (no definition in the codebook)")
            out.append("")
    if not items:
        out += ["No disagreements.", ""]
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _meeting_docx(items: DisagreementList, pairs: list[ConfusionPair]) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt, RGBColor

    a, b = items.coders
    doc = Document()
    from qualkit.render.formats import landscape

    section = landscape(doc, margin_cm=1.5, font="Calibri", font_pt=9)
    doc.styles["Normal"].paragraph_format.space_after = Pt(2)
    usable = section.page_width - section.left_margin - section.right_margin

    doc.add_heading(f"Disagreements: {a} and {b}", level=1)
    doc.add_paragraph(summary_line(items) + ". One row per unit; the codes in dispute are listed with their "
                      "definitions. Record the team's decision in the last column, or in the adjudication file "
                      f"(qualkit disagreements --coders {a},{b} --out adjudication.xlsx).")
    if (lo := left_out_line(items)):
        doc.add_paragraph(lo[0].upper() + lo[1:] + ".")

    from qualkit.render.formats import mark_row
    from qualkit.render.formats import shade_cell as shade

    def header_row(row) -> None:
        mark_row(row, header=True, keep_together=False)

    def para(cell, first: bool = False):
        return cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()

    def run(p, text: str, bold=False, italic=False, size=9, grey=False):
        # only what differs from the Normal style (9 pt): python-docx is slow with many run properties
        r = p.add_run(text)
        if bold:
            r.bold = True
        if italic:
            r.italic = True
        if size != 9:
            r.font.size = Pt(size)
        if grey:
            r.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        return r

    def table(headers, fractions):
        t = doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        widths = [int(usable * f) for f in fractions]
        head = t.rows[0]
        header_row(head)
        for i, text in enumerate(headers):
            cell = head.cells[i]
            cell.width = widths[i]
            shade(cell, "D9E2F3")
            run(para(cell, True), text, bold=True, size=9.5)
        return t, widths

    if pairs:
        doc.add_heading("Confusion pairs: definitions to sharpen", level=2)
        t, widths = table(("Units", f"{a} used", f"{b} used"), (0.1, 0.45, 0.45))
        for p in pairs:
            cells = t.add_row().cells
            for i, value in enumerate((str(p.count), items.code_name(p.a_code), items.code_name(p.b_code))):
                cells[i].width = widths[i]
                run(para(cells[i], True), value)
        doc.add_paragraph()

    if not items:
        doc.add_paragraph("No disagreements.")
    else:
        doc.add_heading("Disagreements by unit", level=2)
        t, widths = table(("Unit", "Text", a, b, "Codes in dispute", "Decision"),
                          (0.12, 0.30, 0.11, 0.11, 0.26, 0.10))
        for group in items.by_unit():
            d0 = group[0]
            cells = t.add_row().cells
            for i, cell in enumerate(cells):
                cell.width = widths[i]
            p = para(cells[0], True)
            run(p, f"{d0.transcript} · {d0.unit_label}", bold=True)
            run(para(cells[0]), who(d0), grey=True)
            _docx_text(para(cells[1], True), d0, group, run)
            for coder, cell in ((a, cells[2]), (b, cells[3])):
                names = [items.code_name(c) for c in d0.codes[coder]]
                disputed = {d.code for d in group if d.applied_by == coder}
                first = True
                for cid, name in zip(d0.codes[coder], names):
                    run(para(cell, first), name, bold=cid in disputed)
                    first = False
                if first:
                    run(para(cell, True), "(nothing)", italic=True, grey=True)
            first = True
            for d in group:
                p = para(cells[4], first)
                first = False
                run(p, d.code_name, bold=True)
                run(p, f"  {d.code} · {d.applied_by} only", grey=True, size=8)
                for label, value in (("Definition: ", d.definition), ("Use when: ", d.include),
                                     ("Do not use when: ", d.exclude)):
                    if value:
                        q = para(cells[4])
                        run(q, label, italic=True, size=8.5)
                        run(q, value, size=8.5)
                if not (d.definition or d.include or d.exclude):
                    run(para(cells[4]), "(no definition in the codebook)", italic=True, grey=True, size=8.5)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_text(p, d0: Disagreement, group: list[Disagreement], run) -> None:
    """The unit's text with every disputed quote in bold."""
    text = clip(d0.text)
    marks = sorted({(s - d0.start, e - d0.start) for d in group for s, e in d.quote_spans})
    pos = 0
    for s, e in marks:
        s, e = max(s, pos), min(e, len(text))
        if s >= e:
            continue
        if s > pos:
            run(p, text[pos:s])
        run(p, text[s:e], bold=True)
        pos = e
    if pos < len(text):
        run(p, text[pos:])


# -- reading adjudication files -----------------------------------------------------------------

DECISION_KINDS = ("A", "B", "both", "neither", "edit")


@dataclass(frozen=True)
class Decision:
    """A decision on one disagreement: ``kind`` is A, B, both, neither or edit (with ``codes``)."""

    kind: str
    codes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"edit: {', '.join(self.codes)}" if self.kind == "edit" else self.kind

    def result(self, d: Disagreement, coders: Sequence[str]) -> list[str]:
        """The codes the consensus puts on the unit for this disagreement (on the marked span)."""
        if self.kind == "edit":
            return list(self.codes)
        keep = {"A": d.applied_by == coders[0], "B": d.applied_by == coders[1], "both": True, "neither": False}[self.kind]
        return [d.code] if keep else []

    def swapped(self) -> Decision:
        """The same decision with coders A and B swapped."""
        return Decision({"A": "B", "B": "A"}.get(self.kind, self.kind), self.codes)


class DecisionSyntaxError(ValueError):
    pass


def parse_decision(text, coders: Sequence[str] = ()) -> Decision | None:
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
        return {split_key(r.key)[1] for r in self.rows if split_key(r.key)}

    def decided(self) -> list[AdjudicationRow]:
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
        raise AdjudicationError(f"an adjudication file is .csv or .xlsx, not '.{fmt}'", path)
    header_at = None
    for n, values in table:
        first = values[0].strip().lstrip("\ufeff") if values else ""
        if not any(v.strip() for v in values) or first.startswith("#"):
            continue
        header_at = (n, [v.strip().lstrip("\ufeff") for v in values])
        break
    if header_at is None:
        raise AdjudicationError("no header row (key, ..., decision): write it with `qualkit disagreements --out`", path)
    hrow, header = header_at
    lower = [h.casefold() for h in header]
    coders: dict[str, str] = {}
    coder_cols: dict[str, int] = {}
    for i, h in enumerate(header):
        m = _CODER_HEADER.match(h)
        if m:
            if m.group(1) in coders:
                raise AdjudicationError(f"two columns for coder {m.group(1)}", path, hrow)
            coders[m.group(1)] = m.group(2).strip()
            coder_cols[m.group(1)] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in lower]
    missing += [f"{x} (<coder>)" for x in "AB" if x not in coders]
    if missing:
        raise AdjudicationError(f"missing column(s) {', '.join(missing)} in the header row; write the file again "
                                "with `qualkit disagreements --out`", path, hrow)
    dupes = sorted({h for h in lower if h and lower.count(h) > 1})
    if dupes:
        raise AdjudicationError(f"column(s) {', '.join(dupes)} appear twice in the header row", path, hrow)
    names = [coders["A"], coders["B"]]
    idx = {h: i for i, h in enumerate(lower)}
    result = Adjudication(path, names, hrow, header)
    seen: dict[str, int] = {}
    for n, values in table:
        if n <= hrow or not any(v.strip() for v in values):
            continue
        if values and values[0].strip().startswith("#"):
            continue
        get = lambda c: values[idx[c]].strip() if c in idx and idx[c] < len(values) else ""  # noqa: E731
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
        result.rows.append(AdjudicationRow(n, key, cells, decision, get("rationale"), get("decided_by")))
    return result


def _is_adjudication_header(records: list[list[str]]) -> int:
    header = next((v for v in records if v and v[0].strip().lstrip("\ufeff") == "key"), None)
    return int(bool(header) and "decision" in [h.strip().casefold() for h in header or []])


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    from qualkit.io.tables import read_csv

    # numbered as a spreadsheet program numbers rows (a cell may hold line breaks)
    table = read_csv(path, error_cls=AdjudicationError, score=_is_adjudication_header)
    return [(r.number, r.cells) for r in table.rows]


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from qualkit.io.tables import read_xlsx

    table = read_xlsx(path, error_cls=AdjudicationError, kind="a readable .xlsx workbook", prefer=("Adjudication",))
    return [(r.line, r.cells) for r in table.rows]
