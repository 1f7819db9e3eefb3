"""Reconciliation: two coders' codings + the team's decisions -> consensus codings + an audit log.

``reconcile(workspace, ["ana", "ben"], into="consensus", adjudication="adjudication.xlsx")`` applies
a filled-in adjudication file (see :mod:`qualkit.analysis.disagreements` for its columns and the decision
grammar); :class:`ReconcileSession` walks the disagreements one by one, driven by the same text
commands ``qualkit reconcile`` reads from the terminal (no terminal I/O inside, so tests drive it).

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

**Crash safety.** Decisions are logged before the consensus file is rewritten, and every run and
session start rebuilds the consensus from the coders' files and the log: after a ``kill -9`` at any
point, the next run (interactive or not) brings the consensus file up to date, and an
interactive session resumes at the first undecided disagreement. A partial last line of the log
(the process died while writing it; never confirmed) is dropped.
"""
from __future__ import annotations

import difflib
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.analysis.disagreements import (
    AdjudicationError,
    Comparison,
    Decision,
    DecisionSyntaxError,
    Disagreement,
    DisagreementList,
    coder_header,
    default_unit,
    parse_coders,
    parse_decision,
    read_adjudication,
    split_key,
)
from qualkit.errors import QualkitError
from qualkit.io.atomic import atomic_write_text, backup
from qualkit.io.atomic import fsync_dir as _fsync_dir
from qualkit.workspace.codings import (
    Coding,
    CodingError,
    coder_path,
    dumps_codings,
    now_iso,
    read_codings,
)

AUDIT_LOG = Path(".qualkit") / "audit.log"
LOCK_DIR = Path(".qualkit") / "sessions"
AUDIT_VERSION = 1
RESERVED = ("auto",)


from qualkit.errors import ReconcileError  # noqa: F401  (defined with every other error in qualkit.errors)

# -- the audit log ------------------------------------------------------------------------------

def _flock(f, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


class AuditLog:
    """``.qualkit/audit.log``: append-only JSON lines, each batch fsync'ed before append returns."""

    def __init__(self, root: str | Path):
        self.path = Path(root) / AUDIT_LOG
        self.dropped_partial = False

    def read(self) -> list[dict]:
        """Every record; a partial last line (a crash mid-write) is left out."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        self.dropped_partial = bool(data) and not data.endswith(b"\n")
        if self.dropped_partial:
            data = data[: data.rfind(b"\n") + 1]
        out = []
        for n, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise QualkitError(f"unreadable audit log line ({type(exc).__name__}); it is append-only: "
                                   "restore it from version control", self.path, n) from None
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def append(self, records: Sequence[dict]) -> None:
        """Append records under a lock; an unfinished last line left by a crash is cut off first."""
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with open(self.path, "a+b") as f:
            _flock(f, blocking=True)
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    f.seek(0)
                    data = f.read()
                    f.truncate(data.rfind(b"\n") + 1)
            payload = b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                               for r in records)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if created:
            _fsync_dir(self.path.parent)


def _same_pair(rec: dict, coders: Sequence[str]) -> bool | None:
    """True for records of (A, B), False for (B, A), None for other coders."""
    rc = rec.get("coders")
    if rc == list(coders):
        return True
    if rc == list(coders)[::-1]:
        return False
    return None


@dataclass
class Decided:
    """A decision in force: the decision (in terms of the current A/B order) and its record."""

    decision: Decision
    record: dict

    @property
    def rationale(self) -> str:
        return self.record.get("rationale") or ""

    @property
    def who(self) -> str:
        return self.record.get("who") or ""


def decisions_in_force(records: Sequence[dict], coders: Sequence[str], unit_kind: str, into: str) -> dict[str, Decided]:
    """Per key, the last ``decide`` record not undone, for these coders, unit kind and consensus."""
    history: dict[str, list[Decided]] = {}
    for rec in records:
        if rec.get("into") != into or rec.get("unit_kind") != unit_kind:
            continue
        order = _same_pair(rec, coders)
        if order is None:
            continue
        key = rec.get("key")
        if rec.get("action") == "decide" and key:
            try:
                dec = Decision(str(rec["decision"]), tuple(rec.get("codes") or ()))
            except KeyError:
                continue
            if dec.kind not in ("A", "B", "both", "neither", "edit"):
                continue
            history.setdefault(key, []).append(Decided(dec if order else dec.swapped(), rec))
        elif rec.get("action") == "undo" and key:
            h = history.get(key, [])
            for i in range(len(h) - 1, -1, -1):
                if h[i].record.get("id") == rec.get("undoes"):
                    del h[i]
                    break
    return {k: h[-1] for k, h in history.items() if h}


def _record(action: str, *, who: str, coders: Sequence[str], unit_kind: str, into: str, **extra) -> dict:
    return {"v": AUDIT_VERSION, "id": uuid.uuid4().hex[:16], "action": action, "who": who, "when": now_iso(),
            "coders": list(coders), "unit_kind": unit_kind, "into": into, **extra}


def _decide_record(d: Disagreement, dec: Decision, rationale: str, who: str, mode: str, coders: Sequence[str],
                   into: str, source: str | None = None) -> dict:
    extra: dict[str, Any] = {"mode": mode}
    if source:
        extra["source"] = source
    return _record("decide", who=who, coders=coders, unit_kind=d.unit_kind, into=into, **extra, key=d.key,
                   disagreement=d.snapshot(), decision=dec.kind, codes=list(dec.codes),
                   result=dec.result(d, coders), rationale=rationale)


def default_user() -> str:
    """Who decides when --by is not given: the operating-system user."""
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


# -- building the consensus ---------------------------------------------------------------------

def build_consensus(comp: Comparison, decisions: Mapping[str, Decision], items: Mapping[str, Disagreement]) -> list[Coding]:
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
    out: dict[tuple, Coding] = {}
    for (coder, j), by_code in sorted(assign.items(), key=lambda kv: (comp.coders.index(kv[0][0]), kv[0][1])):
        c = comp.codings[coder][j]
        touched = set(comp.touches[coder].get(j, ()))
        for code, units in sorted(by_code.items()):
            if touched <= units:
                pieces = [Coding(c.transcript, c.start, c.end, code, c.text, c.memo, c.coded_at)]
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

    @property
    def complete(self) -> bool:
        return not self.undecided

    def summary(self) -> str:
        a, b = self.coders
        verb = ("would write" if self.dry_run else "wrote") if self.written else "unchanged:"
        counts = f"{self.agreed} agreed, {self.disagreements} disagreement(s): {self.decided} decided"
        if self.undecided:
            counts += f", {len(self.undecided)} still undecided"
        line = (f"Consensus of {a} and {b} ({self.unit_kind} units, {len(self.transcripts)} transcript(s)): {counts}; "
                f"{verb} {self.path.parent.name}/{self.path.name} ({self.codings} codings)")
        logged = f"{'Would log' if self.dry_run else 'Logged'} {self.new} new decision(s) in {AUDIT_LOG}"
        if self.already:
            logged += f"; {self.already} already in force (not logged again)"
        if self.stale:
            logged += f"; {self.stale} earlier decision(s) no longer match the coders' files and were not applied"
        return line + "\n" + logged

    def as_dict(self) -> dict:
        return {"into": self.into, "path": str(self.path), "coders": self.coders, "unit_kind": self.unit_kind,
                "transcripts": self.transcripts, "left_out": self.left_out, "agreed": self.agreed,
                "disagreements": self.disagreements, "decided": self.decided, "undecided": self.undecided,
                "new": self.new, "already": self.already, "stale": self.stale, "codings": self.codings,
                "written": self.written, "dry_run": self.dry_run, "complete": self.complete}


def _workspace(workspace):
    from qualkit.workspace.store import Workspace

    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def _check_into(ws, into: str, coders: Sequence[str]) -> Path:
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


def _check_owner(path: Path, into: str, records: Sequence[dict]) -> None:
    """Refuse to overwrite a codings file that reconcile did not write."""
    if not path.exists() or any(r.get("into") == into for r in records):
        return
    try:
        rows = read_codings(path)
    except QualkitError:
        rows = [None]
    if rows:
        raise ReconcileError("already exists and was not written by `qualkit reconcile` (no audit record names it); "
                             "choose another --into or move the file away", path)


@contextmanager
def _reconcile_lock(ws, into: str) -> Iterator[None]:
    path = ws.root / LOCK_DIR / f"reconcile__{into}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+b")  # noqa: SIM115
    try:
        if not _flock(f, blocking=False):
            raise ReconcileError(f"another `qualkit reconcile` into {into} is running; finish it first", path)
        yield
    finally:
        f.close()


def _hint_for_key(key: str, unit_kind: str, include_facilitators: bool, ws, coders) -> str:
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


def _unknown_codes(codes: Sequence[str], code_index) -> str | None:
    for c in codes:
        if c not in code_index:
            close = difflib.get_close_matches(c, sorted(code_index), n=1)
            return f"code {c!r} after 'edit:' is not in any codebook" + (f" (did you mean {close[0]}?)" if close else "")
    return None


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _names(items: DisagreementList, ids) -> str:
    return "; ".join(items.code_name(c) for c in ids)


def _from_adjudication(adj, items: DisagreementList, by_key: dict[str, Disagreement], ws, include_facilitators: bool,
                       by: str) -> list[tuple[Disagreement, Decision, str, str, str]]:
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
    out = []
    for row in adj.rows:
        d = by_key.get(row.key)
        if d is None:
            raise AdjudicationError(f"key {row.key} matches no current disagreement between {a} and {b}"
                                    + _hint_for_key(row.key, items.unit_kind, include_facilitators, ws, items.coders),
                                    path, row.row)
        expected = {"code": d.code, "applied_by": d.applied_by, "A": _names(items, d.codes[a]),
                    "B": _names(items, d.codes[b])}
        for col, want in expected.items():
            got = row.cells.get(col, "")
            if _norm(got) != _norm(want):
                label = coder_header(col, a if col == "A" else b) if col in "AB" else col
                raise AdjudicationError(
                    f"column '{label}' says {got!r} but the coders' files say {want!r} for {row.key} "
                    "(edited, or the codings or code names changed since the file was written)", path, row.row)
        if row.decision is None:
            continue
        if row.decision.kind == "edit" and (msg := _unknown_codes(row.decision.codes, code_index)):
            raise AdjudicationError(msg, path, row.row)
        out.append((d, row.decision, row.rationale, row.decided_by or by, f"{shown}:{row.row}"))
    return out


def _from_mapping(decisions: Mapping, items: DisagreementList, by_key, by: str) -> list:
    out = []
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
            dec = value
        else:
            try:
                dec = parse_decision(value, items.coders)
            except DecisionSyntaxError as exc:
                raise AdjudicationError(f"decisions[{key!r}]: {exc}") from None
        if dec is None:
            continue
        if dec.kind == "edit" and (msg := _unknown_codes(dec.codes, items.comparison.code_index)):
            raise AdjudicationError(f"decisions[{key!r}]: {msg}")
        out.append((d, dec, rationale, who, None))
    return out


def _applicable(force: Mapping[str, Decided], by_key: Mapping[str, Disagreement]) -> tuple[dict[str, Decided], int]:
    """Decisions in force whose disagreement is still there (same key, same coder applied the code)."""
    ok, stale = {}, 0
    for key, dd in force.items():
        d = by_key.get(key)
        snap = dd.record.get("disagreement") or {}
        if d is not None and snap.get("applied_by") in (None, d.applied_by):
            ok[key] = dd
        else:
            stale += 1
    return ok, stale


def _write_consensus(ws, path: Path, codings: list[Coding], make_backup: bool = True) -> bool:
    """Rewrite codings/<into>.csv only if its content changes (atomic; the old file backed up); True if written."""
    text = dumps_codings(codings)
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        return False
    if make_backup:
        backup(path, ws.backup_dir)
    atomic_write_text(path, text)
    return True


def _names_into(records: Sequence[dict], into: str) -> bool:
    return any(r.get("into") == into for r in records)


def reconcile(workspace, coders, into: str = "consensus", adjudication: str | Path | None = None,
              decisions: Mapping | None = None, by: str | None = None, *, unit: str | None = None,
              include_facilitators: bool = False, dry_run: bool = False) -> ReconcileResult:
    """Apply decisions (an adjudication file and/or ``decisions``: key -> decision text, Decision, or
    ``{"decision", "rationale", "by"}``) and rebuild ``codings/<into>.csv``; see the module docstring.

    Every problem (unknown coder, no transcript in common, a bad adjudication file, an unknown code
    after ``edit:``) raises before anything is written: the consensus file and the audit log are
    then untouched. ``dry_run`` checks and counts but writes nothing.
    """
    ws = _workspace(workspace)
    coders = parse_coders(coders)
    path = _check_into(ws, into, coders)
    by = by or default_user()
    adj = read_adjudication(adjudication) if adjudication is not None else None
    if unit is None:
        kinds = adj.unit_kinds if adj is not None else set()
        if len(kinds) > 1:
            raise AdjudicationError(f"keys of several unit kinds ({', '.join(sorted(kinds))}); one file per unit kind",
                                    adj.path)
        unit = next(iter(kinds)) if kinds else default_unit(ws)
    comp = Comparison(ws, coders, unit, include_facilitators)
    items = DisagreementList(comp.disagreements(), comparison=comp)
    by_key = {d.key: d for d in items}
    given: list = []
    if adj is not None:
        given += _from_adjudication(adj, items, by_key, ws, include_facilitators, by)
    if decisions:
        given += _from_mapping(decisions, items, by_key, by)
    log = AuditLog(ws.root)
    records = log.read()
    _check_owner(path, into, records)
    with (_nullcontext() if dry_run else _reconcile_lock(ws, into)):
        if not dry_run:
            records = log.read()
        force, stale = _applicable(decisions_in_force(records, comp.coders, unit, into), by_key)
        new_records, already = [], 0
        last: dict[str, tuple] = {}
        for d, dec, rationale, who, source in given:
            last[d.key] = (d, dec, rationale, who, source)  # a key given twice: the last one counts
        for d, dec, rationale, who, source in last.values():
            cur = force.get(d.key)
            if cur is not None and cur.decision == dec and cur.rationale == rationale:
                already += 1
                continue
            mode = "file" if source else "library"
            rec = _decide_record(d, dec, rationale, who, mode, comp.coders, into, source)
            new_records.append(rec)
            force[d.key] = Decided(dec, rec)
        consensus = build_consensus(comp, {k: v.decision for k, v in force.items()}, by_key)
        result = ReconcileResult(into, path, comp.coders, unit, list(comp.uc.transcripts), dict(comp.uc.left_out),
                                 len(comp.agreed()), len(items), len(force),
                                 [d.key for d in items if d.key not in force], len(new_records), already, stale,
                                 len(consensus), dry_run=dry_run, audit_log=log.path)
        if dry_run:
            result.written = dumps_codings(consensus) != (path.read_text(encoding="utf-8") if path.exists() else None)
            return result
        log.append(new_records)  # decisions first (fsync), then the file they produce
        result.written = _write_consensus(ws, path, consensus)
        if result.written and not _names_into([*records, *new_records], into):
            log.append([_record("create", who=by, coders=comp.coders, unit_kind=unit, into=into,
                                path=f"{path.parent.name}/{path.name}", codings=len(consensus))])
        return result


@contextmanager
def _nullcontext():
    yield


# -- the interactive session --------------------------------------------------------------------

HELP = """\
Deciding a disagreement (one code that one coder applied to this unit and the other did not):
  a                 take A's coding: keep the code if A applied it, drop it if not
  b                 take B's coding            (a coder's name works too)
  both              keep the code              x (or neither, none)   drop the code
  e ID [ID ...]     edit: apply these code ids instead, on the span the coder marked
  ... -- why        give the rationale on the same line (a -- staff, not family);
                    otherwise you are asked for it (Enter leaves it empty)
  u                 undo your last decision (repeat to go further back)
  n or Enter        next disagreement without deciding      p   previous
  j 12              jump to disagreement 12                 i ID   a code's definition
  ?                 this help                               q   quit (Ctrl-D too)
Every decision is saved at once (audit log + consensus file); the next run resumes here."""


@dataclass
class DisagreementView:
    """What the terminal shows of the current disagreement."""

    number: int                   # 1-based
    total: int
    item: Disagreement
    coders: list[str]
    names: dict[str, list[str]]   # coder -> names of the codes they put on the unit
    decision: str | None          # the decision in force ('A', 'edit: x', ...) or None
    rationale: str
    decided_by: str
    result: list[str]             # the codes the decision puts on the unit
    decided: int                  # disagreements decided so far
    others_here: int              # other disagreements on the same unit


class ReconcileSession:
    """Walk two coders' disagreements and decide each; ``execute(line)`` runs one command.

    State lives in the audit log and the consensus file (see the module docstring), so a session
    that is killed loses nothing confirmed and the next one resumes at the first undecided
    disagreement. Only one session (or run) per consensus name at a time. Call ``close()`` (or use
    ``with``) to release the lock.
    """

    def __init__(self, workspace, coders, into: str = "consensus", unit: str | None = None, by: str | None = None,
                 include_facilitators: bool = False):
        self.ws = _workspace(workspace)
        coders = parse_coders(coders)
        self.into = into
        self.path = _check_into(self.ws, into, coders)
        self.by = by or default_user()
        self.unit_kind = unit or default_unit(self.ws)
        self.comp = Comparison(self.ws, coders, self.unit_kind, include_facilitators)
        self.coders = self.comp.coders
        self.items = DisagreementList(self.comp.disagreements(), comparison=self.comp)
        self.by_key = {d.key: d for d in self.items}
        self.log = AuditLog(self.ws.root)
        self.notices: list[str] = []
        self.counts = {"decided": 0, "undone": 0}
        self.pending: tuple[Decision, str] | None = None  # a decision waiting for its rationale
        self._backed_up = False
        self._closed = False
        lock = self.ws.root / LOCK_DIR / f"reconcile__{into}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(lock, "a+b")  # noqa: SIM115 - held for the session
        if not _flock(self._lock, blocking=False):
            self._lock.close()
            raise ReconcileError(f"another `qualkit reconcile` into {into} is running; finish it first", lock)
        try:
            self.records = self.log.read()
            if self.log.dropped_partial:
                self.notices.append("the last, unfinished line of the audit log (never confirmed) was dropped")
            _check_owner(self.path, into, self.records)
            self._refresh()
            existed = self.path.exists()
            if self._save():
                shown = f"{self.path.parent.name}/{self.path.name}"
                self.notices.append(f"{shown} brought up to date from the coders' files and {len(self.force)} "
                                    f"decision(s) in {AUDIT_LOG}" if existed else
                                    f"{shown} created with the {self.n_codings} coding(s) the coders agree on")
            if self.stale:
                self.notices.append(f"{self.stale} earlier decision(s) no longer match the coders' files "
                                    "(the codings or transcripts changed) and are not applied")
            self.pos = self._next_undecided(-1)
            if self.pos is None:
                self.pos = 0
        except BaseException:
            self._lock.close()
            raise

    # -- state ------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        self.force, self.stale = _applicable(
            decisions_in_force(self.records, self.coders, self.unit_kind, self.into), self.by_key)

    def _save(self) -> bool:
        consensus = build_consensus(self.comp, {k: v.decision for k, v in self.force.items()}, self.by_key)
        written = _write_consensus(self.ws, self.path, consensus, make_backup=not self._backed_up)
        if written:
            self._backed_up = True
        if written and not _names_into(self.records, self.into):
            self._append(_record("create", who=self.by, coders=self.coders, unit_kind=self.unit_kind, into=self.into,
                                 path=f"{self.path.parent.name}/{self.path.name}", codings=len(consensus)))
        self.n_codings = len(consensus)
        return written

    def _append(self, rec: dict) -> None:
        self.log.append([rec])
        self.records.append(rec)

    def _next_undecided(self, current: int) -> int | None:
        n = len(self.items)
        for i in [*range(current + 1, n), *range(0, current + 1)]:
            if self.items[i].key not in self.force:
                return i
        return None

    @property
    def item(self) -> Disagreement | None:
        return self.items[self.pos] if self.items else None

    @property
    def decided(self) -> int:
        return len(self.force)

    @property
    def prompt(self) -> str:
        if self.pending is not None:
            return "rationale > "
        if not self.items:
            return "> "
        return f"[disagreement {self.pos + 1}/{len(self.items)}] a/b/both/x/e/? > "

    def view(self) -> DisagreementView | None:
        d = self.item
        if d is None:
            return None
        dd = self.force.get(d.key)
        return DisagreementView(
            self.pos + 1, len(self.items), d, list(self.coders),
            {c: [self.items.code_name(x) for x in d.codes[c]] for c in self.coders},
            str(dd.decision) if dd else None, dd.rationale if dd else "", dd.who if dd else "",
            dd.decision.result(d, self.coders) if dd else [], self.decided,
            sum(1 for x in self.items if x.index == d.index) - 1)

    def code_info(self, code_id: str) -> str:
        found = self.comp.code_index.get(code_id)
        if not found:
            raise _CommandError(f"no code {code_id!r}" + self._close_hint(code_id))
        book, code = found
        lines = [f"{code.name} ({code.id}, codebook {book.id})"]
        for label, value in (("definition", code.definition), ("use when", code.include),
                             ("do not use when", code.exclude)):
            if value:
                lines.append(f"  {label}: {value}")
        if len(lines) == 1:
            lines.append("  (no definition in the codebook)")
        return "\n".join(lines)

    def _close_hint(self, code_id: str) -> str:
        close = difflib.get_close_matches(code_id, sorted(self.comp.code_index), n=3)
        return f"; did you mean {', '.join(close)}?" if close else ""

    def summary(self) -> str:
        c = self.counts
        done = [f"{n} {w}" for n, w in ((c["decided"], "decided"), (c["undone"], "undone")) if n]
        return (f"{self.decided}/{len(self.items)} disagreements decided (this run: {', '.join(done) or 'no changes'}); "
                f"consensus in {self.path.parent.name}/{self.path.name} ({self.n_codings} codings)")

    # -- commands -------------------------------------------------------------------------------
    def execute(self, line: str):
        """Run one command line; returns a Reply (message, error, moved, changed, help, quit)."""
        from qualkit.coding.session import Reply

        if self._closed:
            return Reply("the session is closed", error=True)
        try:
            if self.pending is not None:
                dec, _ = self.pending
                self.pending = None
                return self._commit(dec, line.strip())
            return self._dispatch(line.strip())
        except _CommandError as exc:
            return Reply(str(exc), error=True)

    def _dispatch(self, line: str):
        from qualkit.coding.session import Reply

        low = line.casefold()
        head, _, rest = line.partition(" ")
        cmd = head.casefold()
        if low in ("q", "quit", "exit"):
            return Reply(self.summary(), quit=True)
        if low in ("?", "h", "help"):
            return Reply(help=HELP)
        if not self.items:
            return Reply("no disagreements: the consensus holds every coding both coders agree on; q to quit")
        if low in ("", "n", "next"):
            return self._move(self.pos + 1)
        if low in ("p", "prev", "previous", "back"):
            return self._move(self.pos - 1)
        if cmd in ("j", "jump", "g", "go"):
            if not rest.strip().isdigit():
                raise _CommandError(f"usage: j N (1-{len(self.items)})")
            return self._move(int(rest) - 1)
        if low.isdigit():
            return self._move(int(low) - 1)
        if low in ("u", "undo"):
            return self._undo()
        if cmd in ("i", "info"):
            if not rest.strip():
                raise _CommandError("usage: i CODE_ID")
            return Reply(self.code_info(rest.strip()))
        explicit = "--" in line
        body, _, rationale = line.partition("--")
        body = body.strip()
        bhead, _, brest = body.partition(" ")
        if bhead.casefold() in ("e", "edit", "edit:") or body.casefold().startswith("edit:"):
            codes_text = body.split(":", 1)[1] if body.casefold().startswith("edit:") else brest
            try:
                dec = parse_decision("edit: " + codes_text, self.coders)
            except DecisionSyntaxError as exc:
                raise _CommandError(str(exc).replace("'edit:'", "e")) from None
            msg = _unknown_codes(dec.codes, self.comp.code_index)
            if msg:
                bad = next(c for c in dec.codes if c not in self.comp.code_index)
                raise _CommandError(f"no code {bad!r}{self._close_hint(bad)} (i ID shows a code; e ID [ID ...])")
        else:
            word = {"x": "neither"}.get(body.casefold(), body)
            try:
                dec = parse_decision(word, self.coders)
            except DecisionSyntaxError:
                raise _CommandError(f"unknown command {line!r} (? for help)") from None
            if dec is None:
                raise _CommandError("? for help")
        if explicit:
            return self._commit(dec, rationale.strip())
        self.pending = (dec, "")
        return Reply(f"{self._describe(dec)}: rationale? (one line; Enter leaves it empty)")

    def _describe(self, dec: Decision) -> str:
        a, b = self.coders
        return {"A": f"take {a}'s coding", "B": f"take {b}'s coding", "both": "keep the code",
                "neither": "drop the code"}.get(dec.kind, f"apply {', '.join(dec.codes)} instead")

    def _move(self, to: int):
        from qualkit.coding.session import Reply

        if to < 0:
            return Reply("this is the first disagreement", error=True)
        if to >= len(self.items):
            n_left = len(self.items) - self.decided
            return Reply(f"that was the last disagreement ({n_left} undecided; j N to go back)", error=True)
        self.pos = to
        return Reply(moved=True)

    def _commit(self, dec: Decision, rationale: str):
        from qualkit.coding.session import Reply

        d = self.item
        cur = self.force.get(d.key)
        if cur is not None and cur.decision == dec and cur.rationale == rationale:
            return Reply(f"already decided: {dec}")
        rec = _decide_record(d, dec, rationale, self.by, "interactive", self.coders, self.into)
        self._append(rec)                 # the record of the decision first (fsync) ...
        self._refresh()
        self._save()                      # ... then the consensus file it produces
        self.counts["decided"] += 1
        result = dec.result(d, self.coders)
        what = f": {d.code} {'kept' if result == [d.code] else 'dropped'}" if dec.kind != "edit" else \
            f" (instead of {d.code})"
        msg = f"decided {dec}{what} on {d.transcript} {d.unit_label}"
        nxt = self._next_undecided(self.pos)
        if nxt is None:
            return Reply(msg + f"; all {len(self.items)} disagreements decided, q to quit", changed=True)
        self.pos = nxt
        return Reply(msg, moved=True, changed=True)

    def _undo(self):
        from qualkit.coding.session import Reply

        undone = {r.get("undoes") for r in self.records if r.get("action") == "undo"}
        stack = [r for r in self.records if r.get("action") == "decide" and r.get("mode") == "interactive"
                 and r.get("into") == self.into and r.get("unit_kind") == self.unit_kind
                 and _same_pair(r, self.coders) is not None and r.get("id") not in undone]
        if not stack:
            return Reply("nothing to undo", error=True)
        target = stack[-1]
        rec = _record("undo", who=self.by, coders=self.coders, unit_kind=self.unit_kind, into=self.into,
                      mode="interactive", key=target["key"], undoes=target["id"], decision=target.get("decision"),
                      codes=target.get("codes") or [])
        self._append(rec)
        self._refresh()
        self._save()
        self.counts["undone"] += 1
        moved = False
        d = self.by_key.get(target["key"])
        if d is not None:
            new_pos = self.items.index(d)
            moved = new_pos != self.pos
            self.pos = new_pos
        dec = Decision(str(target.get("decision")), tuple(target.get("codes") or ()))
        if not _same_pair(target, self.coders):
            dec = dec.swapped()
        now = self.force.get(target["key"])
        tail = f"; in force again: {self._describe(now.decision)}" if now else "; undecided again"
        where = f"{d.code} on {d.transcript} {d.unit_label}" if d is not None else target["key"]
        return Reply(f"undone: {self._describe(dec)} ({where}){tail}", moved=moved, changed=True)

    # -- closing --------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._lock.close()

    def __enter__(self) -> ReconcileSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _CommandError(Exception):
    pass
