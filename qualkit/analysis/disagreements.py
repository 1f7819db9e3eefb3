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

The adjudication file's columns and the decision grammar are in :mod:`qualkit.analysis.adjudication`;
this module fills the file's rows (:func:`write_adjudication`). The meeting documents (.docx, .md)
and :func:`write_disagreements`, which writes any of the four formats, are in
:mod:`qualkit.analysis.meeting`.
"""
from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.adjudication import (
    adjudication_columns,
    adjudication_csv,
    adjudication_xlsx,
    coder_header,
)
from qualkit.analysis.adjudication_carry import carry_forward
from qualkit.analysis.unit_codes import AgreementInputError, build_unit_codes
from qualkit.coding.anchoring import anchored_codings
from qualkit.errors import QualkitError
from qualkit.io.atomic import backup
from qualkit.io.naming import file_kind, plural_s
from qualkit.io.outputs import check_output, write_output_bytes, write_output_text
from qualkit.workspace.ingest import TranscriptsById
from qualkit.workspace.store import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DISPLAY_LIMIT", "Comparison", "ConfusionPair", "Disagreement", "DisagreementList", "adjudication_row", "clip",
    "code_names", "confusion_pairs", "default_unit", "disagreements", "left_out_line", "parse_coders",
    "readme_lines", "reconcile_command", "summary_line", "who", "write_adjudication",
]

DISPLAY_LIMIT = 1500          # characters of a unit's text shown in the terminal, DOCX and Markdown

# -- data ---------------------------------------------------------------------------------------

@dataclass(slots=True)  # one per (unit, code) two coders differ on: a large study has hundreds of thousands
class Disagreement:
    """One code on one unit applied by one coder (``applied_by``) and not by the other.

    The disagreements of one unit share its ``text`` and ``codes``: read them, never change them."""

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
        """``turn 2``: the unit's kind and number within its transcript."""
        return f"{self.unit_kind} {self.unit_number}"

    def holder_letter(self, coders: Sequence[str]) -> str:
        """A or B: the letter of the coder who applied the code."""
        return "A" if self.applied_by == coders[0] else "B"

    def snapshot(self) -> dict[str, Any]:
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

    def as_dict(self) -> dict[str, Any]:
        """The pair as JSON-ready data."""
        return {"a_coder": self.a_coder, "a_code": self.a_code, "b_coder": self.b_coder, "b_code": self.b_code,
                "count": self.count}


class DisagreementList(list[Disagreement]):
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
        self.carried: dict[str, int] = {}  # after write_adjudication: decisions kept / applied / to re-review / new rows

    def code_name(self, code_id: str) -> str:
        """A code's name in the codebook (its id when no codebook has it)."""
        return self.comparison.code_name(code_id)

    def by_unit(self) -> list[list[Disagreement]]:
        """The disagreements grouped by unit (text order)."""
        groups: dict[int, list[Disagreement]] = {}
        for d in self:
            groups.setdefault(d.index, []).append(d)
        return list(groups.values())

    def to_dataframe(self) -> pd.DataFrame:
        """One row per disagreement, columns as in the adjudication file (decision columns empty)."""
        import pandas as pd

        cols = adjudication_columns(self.coders)
        return pd.DataFrame([adjudication_row(d, self) for d in self], columns=cols)

    def as_dicts(self) -> list[dict[str, Any]]:
        """The disagreements as JSON-ready data (``qualkit disagreements --json``)."""
        return [{"key": d.key, "transcript": d.transcript, "unit_kind": d.unit_kind, "unit": d.unit_number,
                 "start": d.start, "end": d.end, "speaker": d.speaker, "participant": d.participant, "role": d.role,
                 "text": d.text, "code": d.code, "code_name": d.code_name, "applied_by": d.applied_by,
                 "quote": d.quote, "codes": d.codes, "definition": d.definition, "include": d.include,
                 "exclude": d.exclude} for d in self]


# -- the comparison of two coders ---------------------------------------------------------------

class Comparison:
    """Two coders' codings laid onto units, with which coding touches which unit.

    ``uc`` is :class:`qualkit.analysis.unit_codes.UnitCodes`; ``codings[coder]`` the coder's whole file;
    ``on_unit[coder].get(i, ())`` the indices (into ``codings[coder]``) of codings overlapping unit ``i``;
    ``touches[coder][j]`` the units coding ``j`` overlaps (only units compared).
    """

    def __init__(self, workspace: Workspace, coders: str | Iterable[str], unit: str | None = None,
                 include_facilitators: bool = False):
        self.ws = workspace
        unit = unit or default_unit(self.ws)
        coders = parse_coders(coders)
        if len(coders) != 2:
            raise AgreementInputError(f"name exactly two coders to compare (e.g. --coders ana,ben), not {len(coders)}")
        self.uc = build_unit_codes(self.ws, coders, unit, include_facilitators)
        self.coders: list[str] = list(self.uc.coders)
        self.unit_kind = unit
        self.include_facilitators = include_facilitators
        self.code_index = self.ws.code_index()
        self.codings = {c: anchored_codings(self.ws, c) for c in self.coders}
        # read when a unit's words are shown, one transcript after another (not the study's text at once)
        paths = {p.stem: p for p in self.ws.transcript_paths()}
        self.texts = TranscriptsById(self.ws, {tid: paths[tid] for tid in self.uc.transcripts}, texts=True)
        by_tid: dict[str, list[int]] = {}
        for i, ref in enumerate(self.uc.units):
            by_tid.setdefault(ref.transcript, []).append(i)
        self._by_tid = by_tid
        self._starts = {tid: [self.uc.units[i].unit.start for i in idxs] for tid, idxs in by_tid.items()}
        # Only the units some coding touches have an entry: most units of a large study have none, and an
        # empty list for each (two coders, 300,000 units at 5,000 interviews) was 35 MB.
        self.on_unit: dict[str, dict[int, list[int]]] = {c: {} for c in self.coders}
        self.touches: dict[str, dict[int, list[int]]] = {c: {} for c in self.coders}
        for coder in self.coders:
            for j, c in enumerate(self.codings[coder]):
                hit = self._units_overlapping(c.transcript, c.start, c.end)
                if hit:
                    self.touches[coder][j] = hit
                    for i in hit:
                        self.on_unit[coder].setdefault(i, []).append(j)

    def _units_overlapping(self, transcript: str, start: int, end: int) -> list[int]:
        """Indices of the compared units of ``transcript`` that the span [start, end) overlaps."""
        idxs = self._by_tid.get(transcript)
        if not idxs:
            return []
        starts = self._starts[transcript]
        k = max(bisect.bisect_right(starts, start) - 1, 0)
        hit = []
        while k < len(idxs) and self.uc.units[idxs[k]].unit.start < end:
            if self.uc.units[idxs[k]].unit.end > start:
                hit.append(idxs[k])
            k += 1
        return hit

    def code_name(self, code_id: str) -> str:
        """A code's name in the codebook (its id when no codebook has it)."""
        found = self.code_index.get(code_id)
        return found[1].name if found else code_id

    def key(self, i: int, code: str) -> str:
        """The key of ``code`` on unit ``i`` (see the module docstring)."""
        ref = self.uc.units[i]
        return f"{ref.transcript}:{self.unit_kind}:{ref.unit.start}-{ref.unit.end}:{code}"

    def codings_on(self, coder: str, i: int, code: str) -> list[int]:
        """Indices of ``coder``'s codings of ``code`` that overlap unit ``i``."""
        return [j for j in self.on_unit[coder].get(i, ()) if self.codings[coder][j].code == code]

    def role(self, participant: str | None) -> str:
        """A participant's role from participants.csv ('' when none)."""
        if not participant:
            return ""
        return self.ws.participant_table.attributes(participant).get("role", "") or ""

    def agreed(self) -> list[tuple[int, str]]:
        """(unit index, code) that both coders applied."""
        a, b = self.coders
        return [(i, code) for i in range(len(self.uc.units))
                for code in sorted(self.uc.codes[a][i] & self.uc.codes[b][i])]

    def disagreements(self, code: str | None = None) -> list[Disagreement]:
        """Every (unit, code) one coder applied and the other did not, in unit order (only ``code``, if given)."""
        a, b = self.coders
        out: list[Disagreement] = []
        for i, ref in enumerate(self.uc.units):
            sa, sb = self.uc.codes[a][i], self.uc.codes[b][i]
            shared: tuple[str, dict[str, list[str]]] | None = None  # the unit's words and codes, once per unit
            for c in sorted(sa ^ sb):
                if code is not None and c != code:
                    continue
                holder = a if c in sa else b
                text = self.texts[ref.transcript]
                u = ref.unit
                if shared is None:
                    shared = (text[u.start:u.end], {a: sorted(sa), b: sorted(sb)})
                spans = []
                for j in self.codings_on(holder, i, c):
                    x = self.codings[holder][j]
                    spans.append((max(x.start, u.start), min(x.end, u.end)))
                spans = sorted(set(spans))
                found = self.code_index.get(c)
                cb = found[1] if found else None
                quote = " … ".join(text[s:e] for s, e in spans)
                out.append(Disagreement(
                    self.key(i, c), ref.transcript, self.unit_kind, ref.number, u.start, u.end, ref.speaker,
                    ref.participant, self.role(ref.participant), shared[0], c,
                    cb.name if cb else c, holder, shared[1], shared[0] if quote == shared[0] else quote, spans,
                    cb.definition if cb else "", cb.include if cb else "", cb.exclude if cb else "", i))
        return out


def default_unit(ws: Workspace) -> str:
    """The unit kind compared when none is named: qualkit.yaml's ``agreement: unit:``, else turn."""
    return str(ws.config.agreement.unit)


def parse_coders(coders: str | Iterable[str]) -> list[str]:
    """``"ana,ben"`` or ``["ana", "ben"]`` -> ``["ana", "ben"]`` (blanks and repeats dropped)."""
    if isinstance(coders, str):
        coders = coders.split(",")
    return list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))


# -- the library calls --------------------------------------------------------------------------

def disagreements(workspace: Workspace, coders: str | Iterable[str], unit: str | None = None, code: str | None = None,
                  include_facilitators: bool = False) -> DisagreementList:
    """Every (unit, code) that exactly one of two coders applied, in text order.

    ``unit`` defaults to qualkit.yaml's ``agreement: unit:``, else ``turn``; ``code`` limits the
    list to one code id. Raises :class:`~qualkit.analysis.unit_codes.AgreementInputError`
    for an unknown coder or no transcript in common, a :class:`QualkitError` for an unknown code.
    """
    comp = Comparison(workspace, coders, unit, include_facilitators)
    if code is not None and code not in comp.code_index and code not in comp.uc.code_ids:
        close = difflib.get_close_matches(code, sorted(comp.code_index), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise QualkitError(f"code {code!r} is not in any codebook{hint}", comp.ws.codebooks_dir)
    return DisagreementList(comp.disagreements(code), comparison=comp, code_filter=code)


def confusion_pairs(workspace_or_list: Workspace | DisagreementList, coders: str | Iterable[str] | None = None,
                    unit: str | None = None, code: str | None = None,
                    include_facilitators: bool = False) -> list[ConfusionPair]:
    """Code pairs the coders swap, most frequent first (see the module docstring).

    Pass a :class:`DisagreementList` (its comparison and code filter are used), or a workspace with
    the same arguments as :func:`disagreements`. With ``code``, only pairs involving that code.
    """
    if isinstance(workspace_or_list, DisagreementList):
        comp, code = workspace_or_list.comparison, workspace_or_list.code_filter if code is None else code
    else:
        comp = Comparison(workspace_or_list, coders or (), unit, include_facilitators)
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

def code_names(items: DisagreementList, ids: Iterable[str]) -> str:
    """The names of codes, ``; ``-separated (as in the adjudication file's coder columns)."""
    return "; ".join(items.code_name(c) for c in ids)


def adjudication_row(d: Disagreement, items: DisagreementList) -> dict[str, object]:
    """A disagreement's row of the adjudication file (decision columns empty)."""
    a, b = items.coders
    return {"key": d.key, "transcript": d.transcript, "unit": d.unit_number, "speaker": d.speaker or "",
            "participant": d.participant or "", "role": d.role, "text": d.text, "code": d.code,
            "code_name": d.code_name, "applied_by": d.applied_by, "quote": d.quote,
            coder_header("A", a): code_names(items, d.codes[a]), coder_header("B", b): code_names(items, d.codes[b]),
            "decision": "", "rationale": "", "decided_by": "", "review": "",
            "definition": d.definition, "include": d.include, "exclude": d.exclude}


def readme_lines(items: DisagreementList) -> list[str]:
    """The adjudication file's instructions (``#`` rows of the CSV, the XLSX's README sheet)."""
    a, b = items.coders
    what = f" for code {items.code_filter}" if items.code_filter else ""
    return [
        f"qualkit adjudication file: {len(items)} disagreement{plural_s(len(items))}{what} between A = {a} and B = {b}, "
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


def reconcile_command(items: DisagreementList, path: str | Path) -> str:
    """The command that applies an adjudication file written for these disagreements."""
    flag = " --include-moderator" if items.comparison.include_facilitators else ""
    return f"qualkit reconcile --coders {','.join(items.coders)} --adjudication {path}{flag}"


def write_adjudication(items: DisagreementList, path: str | Path, force: bool = False) -> Path:
    """Write the adjudication file (``.csv`` or ``.xlsx``) for these disagreements, atomically.

    Decisions carry forward (:mod:`qualkit.analysis.adjudication_carry`): every decision in an
    existing file or applied to the consensus is kept, changed ones marked for re-review, and only
    new disagreements get empty rows. An unreadable file is refused unless ``force``; an existing
    file is always kept as a backup beside it.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise QualkitError(f"an adjudication file is .csv or .xlsx, not {file_kind(path)}", path)
    check_output(path)
    rows, items.carried = carry_forward(items, path, [adjudication_row(d, items) for d in items], force)
    if path.exists():
        backup(path)
    cols = adjudication_columns(items.coders)
    if fmt == "csv":
        write_output_text(path, adjudication_csv(cols, rows, readme_lines(items)))
    else:
        write_output_bytes(path, adjudication_xlsx(cols, rows, readme_lines(items), items.coders))
    return path


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
    """One line: how many disagreements on how many units, between whom."""
    a, b = items.coders
    units = len(items.by_unit())
    what = f" on code {items.code_filter}" if items.code_filter else ""
    return (f"{len(items)} disagreement{plural_s(len(items))}{what} on {units} of {items.units} {items.unit_kind}s between {a} and {b} "
            f"({len(items.transcripts)} transcript{plural_s(len(items.transcripts))} coded by both)")


def left_out_line(items: DisagreementList) -> str | None:
    """The transcripts left out because one coder did not code them (None when none)."""
    if not items.left_out:
        return None
    progress = items.comparison.uc.progress
    parts = [f"{t} (not coded by {', '.join(c)})" if t not in progress else
             f"{t} (not done by {'; '.join(f'{k}: {v}' for k, v in progress[t].items())})" for t, c in items.left_out.items()]
    return "left out: " + "; ".join(parts)

