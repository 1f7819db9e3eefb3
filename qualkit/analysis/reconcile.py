"""Reconciliation: two coders' codings + the team's decisions -> consensus codings + an audit log.

``reconcile(workspace, ["ana", "ben"], into="consensus", adjudication="adjudication.xlsx")`` applies
a filled-in adjudication file (see :mod:`qualkit.analysis.adjudication` for its columns and the decision
grammar); :class:`qualkit.analysis.reconcile_session.ReconcileSession` walks the disagreements one by
one, driven by the same text commands ``qualkit reconcile`` reads from the terminal (no terminal I/O
inside, so tests drive it). The log itself is :mod:`qualkit.analysis.audit`.

What goes into the consensus file (``codings/<into>.csv``, default ``codings/consensus.csv``)
-------------------------------------------------------------------------------------------------
Units are compared as in agreement (:mod:`qualkit.analysis.unit_codes`), over the transcripts both coders
coded. The consensus is always *rebuilt* from the two coders' files and the decisions, never
edited in place, so it is a pure function of its inputs:

* **Agreed codings** (the same code on the same unit by both coders) are copied from **coder A**,
  the first coder named, exactly as A wrote them (span, quote, memo, coded_at). Coder B's
  differently-drawn span of the same code is not copied: a union or a merge would make up a span
  neither coder chose, and one reference coder keeps the quotes consistent. Put the senior or
  primary coder first.
* **Decided disagreements**: ``A``/``B``/``both`` keep the code when the chosen side applied it,
  copying the coding of the coder who applied it; ``neither`` drops it; ``edit: X, Y`` applies
  X and Y on the span that coder marked (its quote, memo and coded_at are kept).
* **Undecided disagreements** are left out (the code is on neither side of the scale yet); the
  result says how many remain.
* A coding that runs across several units is copied whole when it is kept on every compared unit
  it touches; otherwise it is cut to the units where it is kept (each piece is the coding's span
  within that unit, quote taken from the transcript). So agreement between the consensus and
  the decisions holds unit by unit.
* Transcripts only one coder coded, and units left out (moderator turns unless
  ``include_facilitators``), are not reconciled and not in the consensus.

The coders' own files are never written: agreement can always be recomputed from them. The
consensus file is generated: do not edit it by hand (make a decision instead); each rewrite of
it backs the previous version up in ``.qualkit/backups/``. A file of that name that reconcile did
not write (no audit record names it) is never overwritten.

The audit log: ``.qualkit/audit.log``
-------------------------------------
JSON lines, append-only; every line is written, flushed and fsync'ed before anything else
happens (under a lock, so concurrent runs do not interleave). One record per decision::

    {"v": 1, "id": "…", "action": "decide", "who": "cara", "when": "2026-03-02T10:04:11",
     "mode": "file" | "interactive" | "library", "source": "codings/adjudication.xlsx:7",
     "coders": ["ana", "ben"], "unit_kind": "turn", "into": "consensus",
     "key": "int1:turn:118-190:stigma",
     "disagreement": {"transcript": "int1", "unit": 2, "start": 118, "end": 190, "code": "stigma",
                      "applied_by": "ana", "codes": {"ana": [...], "ben": [...]}, "text": "…"},
     "decision": "A", "codes": [], "result": ["stigma"], "rationale": "…"}

An undo in the interactive session appends ``{"action": "undo", "undoes": <id>, ...}`` (undo reaches
back over interactive decisions only, across runs). The first write of a consensus file that no
record names yet (only agreed codings, no decision) appends ``{"action": "create", ...}``, so that
later runs know the file is reconcile's to rewrite. Nothing in the log is ever rewritten.

**The decisions in force** for a pair of coders, unit kind and consensus name are, per key, the
last ``decide`` record not undone. Every run applies them (not only the ones it was given), so
decisions made in a meeting file, then interactively, then in another file, add up; a decision is
changed by deciding again (a later record wins). A decision is not applied when its disagreement
is no longer there (the coders' files or the transcript changed: the key or the coder who applied
the code differs); such decisions are counted as ``stale``.

**Idempotence.** A decision given again that equals the one in force (same decision, codes and
rationale) is *not* logged again (counted as ``already``), and the consensus file is rewritten only
when its content changes. Re-running the same adjudication file therefore leaves the consensus
file byte-identical and the audit log unchanged. An empty decision cell means "no decision in this
file": earlier decisions stand.

**Crash safety.** The new records and the consensus file they produce are written as one
transaction (:mod:`qualkit.io.transaction`: both staged, a journal, then both replaced), so after a
``kill -9`` at any point the next qualkit command finds the old log and file, or completes the new
ones. Every run and session start also rebuilds the consensus from the coders' files and the log,
and an interactive session resumes at the first undecided disagreement. A partial last line of the
log (an older qualkit, or a hand edit, died while writing it) is dropped.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack, nullcontext
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.analysis.adjudication import (
    Adjudication,
    Decision,
    DecisionSyntaxError,
    coder_header,
    parse_decision,
    read_adjudication,
    split_key,
)
from qualkit.analysis.adjudication_carry import needs_review
from qualkit.analysis.audit import (
    AUDIT_LOG,
    AuditLog,
    Decided,
    audit_record,
    decisions_in_force,
    default_user,
)
from qualkit.analysis.disagreements import (
    Comparison,
    Disagreement,
    DisagreementList,
    code_names,
    default_unit,
    parse_coders,
)
from qualkit.errors import AdjudicationError, QualkitError, ReconcileError
from qualkit.io.jsonlog import LockedError, locked
from qualkit.io.naming import plural_s
from qualkit.workspace.codings import (
    Coding,
    CodingError,
    coder_path,
    dumps_codings,
    quote_source,
    read_back,
    read_codings,
)
from qualkit.workspace.store import Workspace, state_locked

__all__ = [
    "LOCK_DIR", "RESERVED", "ReconcileError", "ReconcileResult", "applicable", "build_consensus", "check_into",
    "check_owner", "decide_record", "names_into", "reconcile", "reconcile_lock", "save_consensus", "unknown_codes",
    "write_consensus",
]

LOCK_DIR = Path(".qualkit") / "sessions"
RESERVED = ("auto",)

Record = dict[str, Any]
Given = tuple[Disagreement, Decision, str, str, "str | None"]   # item, decision, rationale, who, source


def decide_record(d: Disagreement, dec: Decision, rationale: str, who: str, mode: str, coders: Sequence[str],
                  into: str, source: str | None = None) -> Record:
    """The audit record of a decision on ``d`` (``mode``: file, interactive or library; ``source``: file:row)."""
    extra: dict[str, Any] = {"mode": mode}
    if source:
        extra["source"] = source
    return audit_record("decide", who=who, coders=coders, unit_kind=d.unit_kind, into=into, **extra, key=d.key,
                        disagreement=d.snapshot(), decision=dec.kind, codes=list(dec.codes),
                        result=dec.result(d, coders), rationale=rationale)


# -- building the consensus ---------------------------------------------------------------------

def build_consensus(comp: Comparison, decisions: Mapping[str, Decision],
                    items: Mapping[str, Disagreement]) -> list[Coding]:
    """The consensus codings for the agreed (unit, code)s and the decided disagreements (see module doc)."""
    a, _b = comp.coders
    assign: dict[tuple[str, int], dict[str, set[int]]] = {}

    def add(coder: str, j: int, code: str, i: int) -> None:
        assign.setdefault((coder, j), {}).setdefault(code, set()).add(i)

    for i, code in comp.agreed():
        for j in comp.codings_on(a, i, code):
            add(a, j, code, i)
    for key, dec in decisions.items():
        d = items[key]
        for out_code in dec.result(d, comp.coders):
            for j in comp.codings_on(d.applied_by, d.index, d.code):
                add(d.applied_by, j, out_code, d.index)
    out: dict[tuple[str, int, int, str], Coding] = {}
    for (coder, j), by_code in sorted(assign.items(), key=lambda kv: (comp.coders.index(kv[0][0]), kv[0][1])):
        c = comp.codings[coder][j]
        touched = set(comp.touches[coder].get(j, ()))
        for code, units in sorted(by_code.items()):
            if touched <= units:
                pieces = [_same_span(c, code)]
            else:
                pieces = []
                text = comp.texts[c.transcript]
                for i in sorted(units):
                    u = comp.uc.units[i].unit
                    s, e = max(c.start, u.start), min(c.end, u.end)
                    pieces.append(Coding(c.transcript, s, e, code, text[s:e], c.memo, c.coded_at))
            for p in pieces:
                out.setdefault(p.key, p)
    return sorted(out.values(), key=lambda c: (c.transcript, c.start, c.end, c.code))


def _same_span(c: Coding, code: str) -> Coding:
    """``c``'s span with ``code``: its quote read back from where ``c``'s is when ``c`` holds no copy (the same
    words; a copy each was ~50 MB twice in a dry run at 5,000 interviews), else copied."""
    source = quote_source(c)
    if source is None:
        return Coding(c.transcript, c.start, c.end, code, c.text, c.memo, c.coded_at)
    return read_back(Coding(c.transcript, c.start, c.end, code, "", c.memo, c.coded_at), source)


# -- one run ------------------------------------------------------------------------------------

@dataclass
class ReconcileResult:
    """What a reconcile run did. ``undecided`` lists keys still without a decision."""

    into: str
    path: Path
    coders: list[str]
    unit_kind: str
    transcripts: list[str]
    left_out: dict[str, list[str]]
    agreed: int                    # (unit, code)s both coders applied
    disagreements: int
    decided: int                   # disagreements with a decision in force (applied)
    undecided: list[str] = field(default_factory=list)
    new: int = 0                   # decisions this run added to the audit log
    already: int = 0               # decisions given again that were already in force (not logged again)
    stale: int = 0                 # earlier decisions whose disagreement is no longer there (not applied)
    codings: int = 0               # rows in the consensus file
    written: bool = False          # the consensus file changed
    dry_run: bool = False
    audit_log: Path | None = None
    from_agreed: int | None = None  # consensus codings that are coder A's passages on agreed (unit, code)s

    @property
    def complete(self) -> bool:
        """Every disagreement has a decision in force."""
        return not self.undecided

    def summary(self) -> str:
        """Two lines for the terminal: what the consensus holds and where, what was logged."""
        a, b = self.coders
        verb = ("would write" if self.dry_run else "wrote") if self.written else "unchanged:"
        counts = (f"{self.agreed} (unit, code){'' if self.agreed == 1 else 's'} agreed, {self.disagreements} "
                  f"disagreement{'' if self.disagreements == 1 else 's'}: {self.decided} decided")
        if self.undecided:
            counts += f", {len(self.undecided)} still undecided"
        line = (f"Consensus of {a} and {b} ({self.unit_kind} units, {len(self.transcripts)} transcript{plural_s(len(self.transcripts))}): {counts}; "
                f"{verb} {self.path.parent.name}/{self.path.name}: {self.codings_breakdown()}")
        logged = f"{'Would log' if self.dry_run else 'Logged'} {self.new} new decision{plural_s(self.new)} in {AUDIT_LOG}"
        if self.already:
            logged += f"; {self.already} already in force (not logged again)"
        if self.stale:
            logged += f"; {self.stale} earlier decision{plural_s(self.stale)} no longer match the coders' files and were not applied"
        return line + "\n" + logged

    def codings_breakdown(self) -> str:
        """How the codings written add up: a coding is one coded passage, and the agreed count is of
        (unit, code)s, so the two differ: a unit may hold several passages with one code, and one
        passage may cover several units."""
        total = f"{self.codings} coding{'' if self.codings == 1 else 's'}"
        if self.from_agreed is None:
            return total
        a = self.coders[0]
        return (f"{total} = {self.from_agreed} of {a}'s passages on the agreed (unit, code)s (a {self.unit_kind} can "
                f"hold several; one passage can span {self.unit_kind}s) + {self.codings - self.from_agreed} from decision{plural_s(self.codings - self.from_agreed)}")

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``qualkit reconcile --json``)."""
        return {"into": self.into, "path": str(self.path), "coders": self.coders, "unit_kind": self.unit_kind,
                "transcripts": self.transcripts, "left_out": self.left_out, "agreed": self.agreed,
                "disagreements": self.disagreements, "decided": self.decided, "undecided": self.undecided,
                "new": self.new, "already": self.already, "stale": self.stale, "codings": self.codings,
                "codings_from_agreed": self.from_agreed,
                "written": self.written, "dry_run": self.dry_run, "complete": self.complete}


def check_into(ws: Workspace, into: str, coders: Sequence[str]) -> Path:
    """The consensus file ``codings/<into>.csv``; never a coder's own file nor a reserved name."""
    try:
        path = coder_path(ws.root, into)
    except CodingError as exc:
        raise ReconcileError(f"--into: {exc.message}") from None
    if into in coders:
        raise ReconcileError(f"--into {into} is one of the coders: reconciliation never writes a coder's own file; "
                             "choose another name (default: consensus)")
    if into in RESERVED:
        raise ReconcileError(f"--into {into}: '{into}' is reserved for autocode suggestions")
    return path


def check_owner(path: Path, into: str, records: Sequence[Record]) -> None:
    """Refuse to overwrite a codings file that reconcile did not write."""
    if not path.exists() or any(r.get("into") == into for r in records):
        return
    try:
        unwritten = bool(read_codings(path))
    except QualkitError:
        unwritten = True
    if unwritten:
        raise ReconcileError("already exists and was not written by `qualkit reconcile` (no audit record names it); "
                             "choose another --into or move the file away", path)


def reconcile_lock(ws: Workspace, into: str) -> ExitStack:
    """Hold the lock of consensus ``into`` (``.qualkit/sessions/reconcile__<into>.lock``) until the stack closes.

    One run or session per consensus at a time: a second one fails at once, nothing waits."""
    base = ws.root / LOCK_DIR / f"reconcile__{into}"
    stack = ExitStack()
    try:
        stack.enter_context(locked(base, timeout=0, what=f"the consensus {into}", reentrant=False))
    except LockedError:
        raise ReconcileError(f"another `qualkit reconcile` into {into} is running; finish it first",
                             base.with_name(base.name + ".lock")) from None
    return stack


def _hint_for_key(key: str, unit_kind: str, include_facilitators: bool, ws: Workspace, coders: Sequence[str]) -> str:
    parts = split_key(key)
    if parts and parts[1] != unit_kind:
        return f" (it is a {parts[1]} unit; this run compares {unit_kind} units: add --unit {parts[1]})"
    if parts and not include_facilitators:
        try:
            t = ws.transcript(parts[0])
        except QualkitError:
            return f" (there is no transcript {parts[0]!r})"
        table = ws.participant_table
        for turn in t.turns:
            if turn.start <= parts[2] < turn.end + 1 and table.is_facilitator(turn.participant):
                return " (a moderator's turn: add --include-moderator)"
    return (" (edited, or the coders' files changed since the file was written: "
            f"write it again with `qualkit disagreements --coders {','.join(coders)} --out FILE`)")


def unknown_codes(codes: Iterable[str], code_index: Mapping[str, object]) -> str | None:
    """The message for the first code id no codebook has (None when every one is known)."""
    for c in codes:
        if c not in code_index:
            close = difflib.get_close_matches(c, sorted(code_index), n=1)
            return f"code {c!r} after 'edit:' is not in any codebook" + (f" (did you mean {close[0]}?)" if close else "")
    return None


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _from_adjudication(adj: Adjudication, items: DisagreementList, by_key: Mapping[str, Disagreement],
                       ws: Workspace, include_facilitators: bool, by: str) -> list[Given]:
    """Check a read adjudication file against the current disagreements; (item, decision, rationale, who, source)."""
    a, b = items.coders
    path = adj.path
    if adj.coders != [a, b]:
        if adj.coders == [b, a]:
            raise AdjudicationError(f"this file has A = {b} and B = {a}: run with --coders {b},{a} "
                                    "(its A/B decisions refer to that order)", path, adj.header_row)
        raise AdjudicationError(f"this file compares {adj.coders[0]} and {adj.coders[1]}, not {a} and {b} "
                                "(coder columns edited, or the wrong file)", path, adj.header_row)
    code_index = items.comparison.code_index
    try:
        shown = os.path.relpath(path.resolve(), ws.root)
        if shown.startswith(".."):
            shown = str(path)
    except ValueError:
        shown = str(path)
    out: list[Given] = []
    for row in adj.rows:
        if needs_review(row.cells):
            continue  # the codings changed since it was decided: the team looks again, then clears the mark
        d = by_key.get(row.key)
        if d is None:
            raise AdjudicationError(f"key {row.key} matches no current disagreement between {a} and {b}"
                                    + _hint_for_key(row.key, items.unit_kind, include_facilitators, ws, items.coders),
                                    path, row.row)
        expected = {"code": d.code, "applied_by": d.applied_by, "A": code_names(items, d.codes[a]),
                    "B": code_names(items, d.codes[b])}
        for col, want in expected.items():
            got = row.cells.get(col, "")
            if _norm(got) != _norm(want):
                label = coder_header(col, a if col == "A" else b) if col in "AB" else col
                raise AdjudicationError(
                    f"column '{label}' says {got!r} but the coders' files say {want!r} for {row.key} "
                    "(edited, or the codings or code names changed since the file was written)", path, row.row)
        if row.decision is None:
            continue
        if row.decision.kind == "edit" and (msg := unknown_codes(row.decision.codes, code_index)):
            raise AdjudicationError(msg, path, row.row)
        out.append((d, row.decision, row.rationale, row.decided_by or by, f"{shown}:{row.row}"))
    return out


def _from_mapping(decisions: Mapping[str, Any], items: DisagreementList, by_key: Mapping[str, Disagreement],
                  by: str) -> list[Given]:
    """Check ``decisions`` (key -> text, Decision or mapping) against the current disagreements."""
    out: list[Given] = []
    for key, value in decisions.items():
        d = by_key.get(key)
        if d is None:
            raise AdjudicationError(f"decisions: key {key} matches no current disagreement between "
                                    f"{items.coders[0]} and {items.coders[1]}")
        rationale, who = "", by
        if isinstance(value, Mapping):
            rationale = str(value.get("rationale") or "")
            who = str(value.get("by") or value.get("decided_by") or by)
            value = value.get("decision")
        if isinstance(value, Decision):
            dec: Decision | None = value
        else:
            try:
                dec = parse_decision(value, items.coders)
            except DecisionSyntaxError as exc:
                raise AdjudicationError(f"decisions[{key!r}]: {exc}") from None
        if dec is None:
            continue
        if dec.kind == "edit" and (msg := unknown_codes(dec.codes, items.comparison.code_index)):
            raise AdjudicationError(f"decisions[{key!r}]: {msg}")
        out.append((d, dec, rationale, who, None))
    return out


def applicable(force: Mapping[str, Decided], by_key: Mapping[str, Disagreement]) -> tuple[dict[str, Decided], int]:
    """Decisions in force whose disagreement is still there (same key, same coder applied the code); and how many
    are stale."""
    ok: dict[str, Decided] = {}
    stale = 0
    for key, dd in force.items():
        d = by_key.get(key)
        snap = dd.record.get("disagreement") or {}
        if d is not None and snap.get("applied_by") in (None, d.applied_by):
            ok[key] = dd
        else:
            stale += 1
    return ok, stale


def write_consensus(ws: Workspace, path: Path, codings: list[Coding], make_backup: bool = True) -> bool:
    """Rewrite codings/<into>.csv only if its content changes (atomic; the old file backed up); True if written."""
    return save_consensus(ws, AuditLog(ws.root), path, codings, make_backup=make_backup)[0]


def save_consensus(ws: Workspace, log: AuditLog, path: Path, codings: list[Coding], new: Sequence[Record] = (),
                   create: Record | None = None, make_backup: bool = True) -> tuple[bool, list[Record]]:
    """Append ``new`` audit records and rewrite codings/<into>.csv (when its content changes) as one
    transaction (:mod:`qualkit.io.transaction`): a kill at any moment leaves both old or both new,
    never decisions without their consensus or a consensus no record names. ``create`` is logged
    too when the file is written. Returns whether the file changed and the records logged."""
    text = dumps_codings(codings)
    with ws.state_lock(), locked(log.path, what="the audit log"):
        try:
            old: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = None
        written = old != text
        records = [*new, *([create] if written and create is not None else [])]
        if not written and not records:
            return False, []
        txn = ws.transaction()
        if records:
            txn.add(log.path, log.appended(records), backup=False)  # append-only: the new file keeps the old
        if written:
            txn.add(path, text, backup=make_backup)
        txn.commit()
    return written, records


def names_into(records: Sequence[Record], into: str) -> bool:
    """Some audit record names consensus ``into``: the file is reconcile's to rewrite."""
    return any(r.get("into") == into for r in records)


@state_locked
def reconcile(workspace: Workspace, coders: str | Iterable[str], into: str = "consensus",
              adjudication: str | Path | None = None, decisions: Mapping[str, Any] | None = None,
              by: str | None = None, *, unit: str | None = None, include_facilitators: bool = False,
              dry_run: bool = False) -> ReconcileResult:
    """Apply decisions (an adjudication file and/or ``decisions``: key -> decision text, Decision, or
    ``{"decision", "rationale", "by"}``) and rebuild ``codings/<into>.csv``; see the module docstring.

    Every problem (unknown coder, no transcript in common, a bad adjudication file, an unknown code
    after ``edit:``) raises before anything is written: the consensus file and the audit log are
    then untouched. ``dry_run`` checks and counts but writes nothing; a dry run with no decisions to
    apply is made once per command while the workspace's inputs and the audit log are unchanged (`run`
    asks four times: its consensus step, the status, the report and its excerpts).
    """
    if dry_run and adjudication is None and not decisions:
        try:
            log_state: tuple[int, int] | None = ((st := (workspace.root / AUDIT_LOG).stat()).st_mtime_ns, st.st_size)
        except OSError:
            log_state = None
        pair = parse_coders(coders)
        key = ("reconcile dry run", tuple(pair), into, unit, include_facilitators, log_state)
        return copy(workspace.derived(key, lambda: _reconcile(workspace, pair, into, None, None, by, unit=unit,
                                                                include_facilitators=include_facilitators, dry_run=True)))
    return _reconcile(workspace, coders, into, adjudication, decisions, by, unit=unit,
                      include_facilitators=include_facilitators, dry_run=dry_run)


def _reconcile(workspace: Workspace, coders: str | Iterable[str], into: str, adjudication: str | Path | None,
               decisions: Mapping[str, Any] | None, by: str | None, *, unit: str | None, include_facilitators: bool,
               dry_run: bool) -> ReconcileResult:
    ws = workspace
    pair = parse_coders(coders)
    path = check_into(ws, into, pair)
    by = by or default_user()
    adj = read_adjudication(adjudication) if adjudication is not None else None
    if unit is None:
        unit = _unit_of(adj, ws)
    comp = Comparison(ws, pair, unit, include_facilitators)
    items = DisagreementList(comp.disagreements(), comparison=comp)
    by_key = {d.key: d for d in items}
    given: list[Given] = []
    if adj is not None:
        given += _from_adjudication(adj, items, by_key, ws, include_facilitators, by)
    if decisions:
        given += _from_mapping(decisions, items, by_key, by)
    log = AuditLog(ws.root)
    records = log.read()
    check_owner(path, into, records)
    with (nullcontext() if dry_run else reconcile_lock(ws, into)):
        if not dry_run:
            records = log.read()
        force, stale = applicable(decisions_in_force(records, comp.coders, unit, into), by_key)
        new_records, already = _new_decisions(given, force, comp.coders, into)
        consensus = build_consensus(comp, {k: v.decision for k, v in force.items()}, by_key)
        result = ReconcileResult(into, path, comp.coders, unit, list(comp.uc.transcripts), dict(comp.uc.left_out),
                                 len(comp.agreed()), len(items), len(force),
                                 [d.key for d in items if d.key not in force], len(new_records), already, stale,
                                 len(consensus), dry_run=dry_run, audit_log=log.path)
        # with no decision in force the consensus is the agreed codings themselves: not built a second time
        agreed_keys = {c.key for c in (build_consensus(comp, {}, by_key) if force else consensus)}
        result.from_agreed = sum(c.key in agreed_keys for c in consensus)
        if dry_run:
            # no file yet: it would be written (without making its whole text to compare with nothing)
            result.written = not path.exists() or dumps_codings(consensus) != path.read_text(encoding="utf-8")
            return result
        create = None if names_into([*records, *new_records], into) else audit_record(
            "create", who=by, coders=comp.coders, unit_kind=unit, into=into, path=f"{path.parent.name}/{path.name}",
            codings=len(consensus))
        result.written = save_consensus(ws, log, path, consensus, new_records, create)[0]  # one transaction
        return result


def _unit_of(adj: Adjudication | None, ws: Workspace) -> str:
    """The unit kind an adjudication file's keys name; without a file, the workspace's default."""
    kinds = adj.unit_kinds if adj is not None else set()
    if adj is not None and len(kinds) > 1:
        raise AdjudicationError(f"keys of several unit kinds ({', '.join(sorted(kinds))}); one file per unit kind",
                                adj.path)
    return next(iter(kinds)) if kinds else default_unit(ws)


def _new_decisions(given: Sequence[Given], force: dict[str, Decided], coders: Sequence[str],
                   into: str) -> tuple[list[Record], int]:
    """The records of the given decisions not already in force (``force`` updated with them); how many were."""
    new_records: list[Record] = []
    already = 0
    last: dict[str, Given] = {}
    for g in given:
        last[g[0].key] = g  # a key given twice: the last one counts
    for d, dec, rationale, who, source in last.values():
        cur = force.get(d.key)
        if cur is not None and cur.decision == dec and cur.rationale == rationale:
            already += 1
            continue
        mode = "file" if source else "library"
        rec = decide_record(d, dec, rationale, who, mode, coders, into, source)
        new_records.append(rec)
        force[d.key] = Decided(dec, rec)
    return new_records, already
