"""The interactive reconciliation: walk two coders' disagreements and decide each, one text command at a time.

:class:`ReconcileSession` is what `qualkit reconcile` (without --adjudication) drives; it does no
terminal I/O, so tests drive it too. Every decision and the consensus file rebuilt from it are written
as one transaction, exactly as :func:`qualkit.analysis.reconcile.reconcile` does (see that module's
docstring for what the consensus holds, and how a killed session resumes).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qualkit.analysis.adjudication import Decision, DecisionSyntaxError, parse_decision
from qualkit.analysis.audit import (
    AUDIT_LOG,
    AuditLog,
    Decided,
    audit_record,
    decisions_in_force,
    default_user,
    same_pair,
)
from qualkit.analysis.disagreements import Comparison, Disagreement, DisagreementList, default_unit, parse_coders
from qualkit.analysis.reconcile import (
    applicable,
    build_consensus,
    check_into,
    check_owner,
    decide_record,
    names_into,
    reconcile_lock,
    save_consensus,
    unknown_codes,
)
from qualkit.coding.session import Reply
from qualkit.io.naming import plural_s
from qualkit.workspace.store import Workspace

__all__ = ["HELP", "DisagreementView", "ReconcileSession"]

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

    def __init__(self, workspace: Workspace, coders: str | Iterable[str], into: str = "consensus",
                 unit: str | None = None, by: str | None = None, include_facilitators: bool = False):
        self.ws = workspace
        pair = parse_coders(coders)
        self.into = into
        self.path = check_into(self.ws, into, pair)
        self.by = by or default_user()
        self.unit_kind = unit or default_unit(self.ws)
        self.comp = Comparison(self.ws, pair, self.unit_kind, include_facilitators)
        self.coders = self.comp.coders
        self.items = DisagreementList(self.comp.disagreements(), comparison=self.comp)
        self.by_key = {d.key: d for d in self.items}
        self.log = AuditLog(self.ws.root)
        self.notices: list[str] = []
        self.counts = {"decided": 0, "undone": 0}
        self.pending: tuple[Decision, str] | None = None  # a decision waiting for its rationale
        self._backed_up = False
        self._closed = False
        self.force: dict[str, Decided] = {}
        self.stale = 0
        self.n_codings = 0
        self.pos = 0
        self._lock = reconcile_lock(self.ws, into)  # held for the session
        try:
            self._start()
        except BaseException:
            self._lock.close()
            raise

    def _start(self) -> None:
        """Read the log, bring the consensus file up to date, go to the first undecided disagreement."""
        self.records = self.log.read()
        if self.log.dropped_partial:
            self.notices.append("the last, unfinished line of the audit log (never confirmed) was dropped")
        check_owner(self.path, self.into, self.records)
        self._refresh()
        existed = self.path.exists()
        if self._save():
            shown = f"{self.path.parent.name}/{self.path.name}"
            self.notices.append(f"{shown} brought up to date from the coders' files and {len(self.force)} "
                                f"decision{plural_s(len(self.force))} in {AUDIT_LOG}" if existed else
                                f"{shown} created with the {self.n_codings} coding{plural_s(self.n_codings)} the coders agree on")
        if self.stale:
            self.notices.append(f"{self.stale} earlier decision{plural_s(self.stale)} no longer match the coders' files "
                                "(the codings or transcripts changed) and are not applied")
        first = self._next_undecided(-1)
        self.pos = 0 if first is None else first

    # -- state ------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        self.force, self.stale = applicable(
            decisions_in_force(self.records, self.coders, self.unit_kind, self.into), self.by_key)

    def _save(self, new: Sequence[dict[str, Any]] = ()) -> bool:
        """Log ``new`` (already in ``self.records`` and in force) and rewrite the consensus, as one
        transaction; if that fails, ``new`` is taken back out of the session's memory too."""
        consensus = build_consensus(self.comp, {k: v.decision for k, v in self.force.items()}, self.by_key)
        create = None if names_into(self.records, self.into) else audit_record(
            "create", who=self.by, coders=self.coders, unit_kind=self.unit_kind, into=self.into,
            path=f"{self.path.parent.name}/{self.path.name}", codings=len(consensus))
        try:
            written, logged = save_consensus(self.ws, self.log, self.path, consensus, new, create,
                                             make_backup=not self._backed_up)
        except BaseException:
            for rec in new:
                self.records.remove(rec)
            self._refresh()
            raise
        if written:
            self._backed_up = True
        self.records.extend(logged[len(new):])  # the create record, when one was logged
        self.n_codings = len(consensus)
        return written

    def _next_undecided(self, current: int) -> int | None:
        n = len(self.items)
        for i in [*range(current + 1, n), *range(0, current + 1)]:
            if self.items[i].key not in self.force:
                return i
        return None

    @property
    def item(self) -> Disagreement | None:
        """The current disagreement (None when there are none)."""
        return self.items[self.pos] if self.items else None

    @property
    def decided(self) -> int:
        """How many disagreements have a decision in force."""
        return len(self.force)

    @property
    def prompt(self) -> str:
        """The prompt the terminal shows before the next command."""
        if self.pending is not None:
            return "rationale > "
        if not self.items:
            return "> "
        return f"[disagreement {self.pos + 1}/{len(self.items)}] a/b/both/x/e/? > "

    def view(self) -> DisagreementView | None:
        """What the terminal shows of the current disagreement (None when there are none)."""
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
        """A code's name, codebook and definition (``i ID``)."""
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
        """One line: how many decided, what this run did, where the consensus is."""
        c = self.counts
        done = [f"{n} {w}" for n, w in ((c["decided"], "decided"), (c["undone"], "undone")) if n]
        return (f"{self.decided}/{len(self.items)} disagreement{plural_s(len(self.items))} decided (this run: {', '.join(done) or 'no changes'}); "
                f"consensus in {self.path.parent.name}/{self.path.name} ({self.n_codings} coding{plural_s(self.n_codings)})")

    # -- commands -------------------------------------------------------------------------------
    def execute(self, line: str) -> Reply:
        """Run one command line; returns a Reply (message, error, moved, changed, help, quit)."""
        if self._closed:
            return Reply("the session is closed", error=True)
        try:
            if self.pending is not None:
                dec, _ = self.pending
                self.pending = None
                if line.strip().casefold() in ("q", "quit", "exit"):  # quitting, not a rationale of "q"
                    return Reply(f"{self._describe(dec)}: not saved (quit at the rationale prompt). {self.summary()}",
                                 quit=True)
                return self._commit(dec, line.strip())
            return self._dispatch(line.strip())
        except _CommandError as exc:
            return Reply(str(exc), error=True)

    def _dispatch(self, line: str) -> Reply:
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
        dec = self._decision(body.strip(), line)
        if explicit:
            return self._commit(dec, rationale.strip())
        self.pending = (dec, "")
        return Reply(f"{self._describe(dec)}: rationale? (one line; Enter leaves it empty)")

    def _decision(self, body: str, line: str) -> Decision:
        """The decision a command names: a, b, a coder's name, both, x / neither / none, e ID [ID ...]."""
        bhead, _, brest = body.partition(" ")
        if bhead.casefold() in ("e", "edit", "edit:") or body.casefold().startswith("edit:"):
            codes_text = body.split(":", 1)[1] if body.casefold().startswith("edit:") else brest
            try:
                dec = parse_decision("edit: " + codes_text, self.coders)
            except DecisionSyntaxError as exc:
                raise _CommandError(str(exc).replace("'edit:'", "e")) from None
            if dec is not None and unknown_codes(dec.codes, self.comp.code_index):
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
        return dec

    def _describe(self, dec: Decision) -> str:
        a, b = self.coders
        return {"A": f"take {a}'s coding", "B": f"take {b}'s coding", "both": "keep the code",
                "neither": "drop the code"}.get(dec.kind, f"apply {', '.join(dec.codes)} instead")

    def _move(self, to: int) -> Reply:
        if to < 0:
            return Reply("this is the first disagreement", error=True)
        if to >= len(self.items):
            n_left = len(self.items) - self.decided
            return Reply(f"that was the last disagreement ({n_left} undecided; j N to go back)", error=True)
        self.pos = to
        return Reply(moved=True)

    def _commit(self, dec: Decision, rationale: str) -> Reply:
        d = self.item
        if d is None:
            raise _CommandError("no disagreements to decide")
        cur = self.force.get(d.key)
        if cur is not None and cur.decision == dec and cur.rationale == rationale:
            return Reply(f"already decided: {dec}")
        rec = decide_record(d, dec, rationale, self.by, "interactive", self.coders, self.into)
        self.records.append(rec)
        self._refresh()
        self._save([rec])                 # the record and the consensus file it produces, as one transaction
        self.counts["decided"] += 1
        result = dec.result(d, self.coders)
        what = f": {d.code} {'kept' if result == [d.code] else 'dropped'}" if dec.kind != "edit" else \
            f" (instead of {d.code})"
        msg = f"decided {dec}{what} on {d.transcript} {d.unit_label}"
        nxt = self._next_undecided(self.pos)
        if nxt is None:
            return Reply(msg + f"; all {len(self.items)} disagreement{plural_s(len(self.items))} decided, q to quit", changed=True)
        self.pos = nxt
        return Reply(msg, moved=True, changed=True)

    def _undo(self) -> Reply:
        undone = {r.get("undoes") for r in self.records if r.get("action") == "undo"}
        stack = [r for r in self.records if r.get("action") == "decide" and r.get("mode") == "interactive"
                 and r.get("into") == self.into and r.get("unit_kind") == self.unit_kind
                 and same_pair(r, self.coders) is not None and r.get("id") not in undone]
        if not stack:
            return Reply("nothing to undo", error=True)
        target = stack[-1]
        rec = audit_record("undo", who=self.by, coders=self.coders, unit_kind=self.unit_kind, into=self.into,
                           mode="interactive", key=target["key"], undoes=target["id"], decision=target.get("decision"),
                           codes=target.get("codes") or [])
        self.records.append(rec)
        self._refresh()
        self._save([rec])
        self.counts["undone"] += 1
        moved = False
        d = self.by_key.get(target["key"])
        if d is not None:
            new_pos = self.items.index(d)
            moved = new_pos != self.pos
            self.pos = new_pos
        dec = Decision(str(target.get("decision")), tuple(target.get("codes") or ()))
        if not same_pair(target, self.coders):
            dec = dec.swapped()
        now = self.force.get(target["key"])
        tail = f"; in force again: {self._describe(now.decision)}" if now else "; undecided again"
        where = f"{d.code} on {d.transcript} {d.unit_label}" if d is not None else target["key"]
        return Reply(f"undone: {self._describe(dec)} ({where}){tail}", moved=moved, changed=True)

    # -- closing --------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the session's lock (the audit log and consensus file are already saved)."""
        if self._closed:
            return
        self._closed = True
        self._lock.close()

    def __enter__(self) -> ReconcileSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CommandError(Exception):
    """A command the session cannot run: shown as an error reply, the session goes on."""
