"""The state of a coding session: what the journal says, what is on screen, and how it is saved.

:class:`SessionState` opens (and recovers) the journal, replays it to restore the position, the
undo history, skipped units and review decisions, and saves every action: journal first
(fsync'ed), then the codebook, then ``codings/<coder>.csv`` (atomic, under the coder's lock).
The commands that change it are in :mod:`qualkit.coding.session_actions` and
:mod:`qualkit.coding.session`.
"""
from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime

from qualkit.coding.fragments import tail
from qualkit.coding.journal import JOURNAL_VERSION, Journal, apply_changes, coder_lock, journal_path
from qualkit.coding.session_views import CodeEntry, CodingView, SuggestionView, UnitView
from qualkit.coding.units import UNIT_KINDS, Unit, split_units, turn_units, unit_at
from qualkit.errors import SessionError
from qualkit.io.naming import plural_s
from qualkit.workspace.codebook import Code, Codebook, dump_codebook
from qualkit.workspace.codings import Coding, coder_path, dumps_codings, now_iso, read_codings
from qualkit.workspace.store import Workspace

__all__ = ["AUTO_CODER", "REVIEW_SOURCES", "SessionState"]

AUTO_CODER = "auto"
REVIEW_SOURCES = ("auto",)
_MARKERS = ("close", "recovered")
_UNDOABLE = ("apply", "delete", "memo", "newcode", "decide")


class SessionState:
    """One coder's session on one transcript: journal-derived state, saving, and the views."""

    def __init__(self, workspace: Workspace, transcript_id: str, coder: str, *, codebook: str | None = None,
                 unit: str = "turn", review: str | None = None):
        self.ws = workspace
        if coder == AUTO_CODER:
            raise SessionError(f"'{AUTO_CODER}' is reserved for autocode suggestions (codings/auto.csv); "
                               "code under your own name")
        self.csv_path = coder_path(self.ws.root, coder)
        if unit not in UNIT_KINDS:
            raise SessionError(f"--unit must be one of {', '.join(UNIT_KINDS)}, not {unit!r}")
        if review is not None and review not in REVIEW_SOURCES:
            raise SessionError(f"--review must be one of {', '.join(REVIEW_SOURCES)}, not {review!r}")
        self.coder = coder
        self.unit_kind = unit
        self.review = review
        self.mode = "review" if review else "code"
        self.transcript = self.ws.transcript(transcript_id)
        self.tid = self.transcript.id
        self.text = self.transcript.text
        self.units: list[Unit] = split_units(self.transcript, unit)
        if not self.units:
            raise SessionError("has no text to code", self.transcript.path)
        self._turn_units = turn_units(self.transcript)
        self.codebook: Codebook = self.ws.codebook(codebook)
        self.codebook_id = self.codebook.id
        self.table = self.ws.participant_table
        self.mismatched: set[tuple] = set()  # suggestions whose quote is no longer in the transcript
        self.suggestions: list[Coding] = self._load_suggestions() if review else []
        self.notices: list[str] = []   # said once when the session opens (recovery, warnings)

        # journal-derived state
        self.pos = 0
        self.rpos = 0
        self.stacks: dict[str, list[int]] = {"code": [], "review": []}
        self.records: dict[int, dict] = {}
        self.mine: set[tuple] = set()
        self.skipped: set[int] = set()
        self.decisions: dict[tuple, dict] = {}
        self.last_here: dict[int, tuple] = {}   # unit start -> key of the last coding made there
        self.seq = 0
        self.counts = {"added": 0, "removed": 0, "memos": 0, "codes": 0, "decided": 0, "undone": 0}
        self._dirty = False
        self._backed_up = False
        self._closed = False

        self.journal = Journal(journal_path(self.ws.root, coder, self.tid))
        try:
            self._open()
        except BaseException:
            self.journal.close()
            raise

    # -- opening, recovery ------------------------------------------------------------------
    def _open(self) -> None:
        records = self.journal.load()
        if self.journal.dropped_partial:
            self.notices.append("the last, unfinished journal line (never confirmed) was dropped")
        sha = hashlib.sha1(self.text.encode("utf-8")).hexdigest()
        first_open = next((r for r in records if r["type"] == "open"), None)
        if first_open and first_open.get("text_sha1") not in (None, sha):
            self.notices.append(f"warning: {self.tid} changed since this session began; codings made "
                                "earlier in this session may point at moved text: check them")
        last_marker = max((i for i, r in enumerate(records) if r["type"] in _MARKERS), default=-1)
        for r in records:
            self.seq = max(self.seq, int(r.get("seq", 0)))
            self._track(r)
        pending = [r for r in records[last_marker + 1:] if r.get("changes") is not None or r.get("code")
                   or r.get("code_removed")]
        if pending:
            self._recover(pending)
        self.codings: list[Coding] = [c for c in read_codings(self.csv_path) if c.transcript == self.tid]
        if self.suggestions and not any(r.get("mode") == "review" for r in records):
            self.rpos = self._next_undecided(len(self.suggestions) - 1) or 0
        self._append({"type": "open", "v": JOURNAL_VERSION, "coder": self.coder, "transcript": self.tid,
                      "unit_kind": self.unit_kind, "codebook": self.codebook_id, "review": self.review,
                      "text_sha1": sha, "pid": os.getpid()})

    def _recover(self, pending: list[dict]) -> None:
        """Re-apply actions journaled after the last clean marker (idempotent), then mark it."""
        # codebook: only the net effect per code (created, or created then removed by undo)
        final: dict[str, tuple[dict | None, str | None, str]] = {}
        for r in pending:
            book_id = r.get("codebook") or self.codebook_id
            if r.get("code"):
                final[r["code"]["id"]] = (r["code"], r.get("at"), book_id)
            if r.get("code_removed"):
                final[r["code_removed"]] = (None, r.get("at"), book_id)
        for code_id, (code, when, book_id) in final.items():
            if code is not None:
                self._ensure_code(code, when, book_id)
            else:
                self._remove_code(code_id, when, book_id)
        changes = [ch for r in pending for ch in (r.get("changes") or [])]
        wrote = self._write_csv(changes)
        self._append({"type": "recovered", "actions": len(pending), "csv_rewritten": wrote})
        if wrote:
            self.notices.append(f"the last session was interrupted: its {len(pending)} action{plural_s(len(pending))} were replayed "
                                f"from the journal into {self.csv_path.name}")
        else:
            self.notices.append(f"the last session was interrupted; all its {len(pending)} action{plural_s(len(pending))} were "
                                f"already saved in {self.csv_path.name}")

    def _track(self, r: dict) -> None:
        """Update the in-memory bookkeeping (not the codings) from one journal record."""
        seq = int(r.get("seq", 0))
        self.records[seq] = r
        t, mode = r["type"], r.get("mode", "code")
        for ch in r.get("changes") or []:
            key = tuple(ch["key"])
            if ch.get("after") is None:
                self.mine.discard(key)
            elif ch.get("mine"):
                self.mine.add(key)
            else:
                self.mine.discard(key)
        if t in _UNDOABLE:
            self.stacks[mode].append(seq)
        elif t == "undo":
            if self.stacks[mode] and self.stacks[mode][-1] == r.get("undoes"):
                self.stacks[mode].pop()
            elif r.get("undoes") in self.stacks[mode]:
                self.stacks[mode].remove(r["undoes"])
        if t == "decide":
            self.decisions[tuple(r["item"])] = {"decision": r["decision"], "coding": r.get("coding")}
        elif t == "undo" and mode == "review" and r.get("item") is not None:
            if r.get("restore"):
                self.decisions[tuple(r["item"])] = r["restore"]
            else:
                self.decisions.pop(tuple(r["item"]), None)
        if t == "nav" and r.get("skipped") is not None:
            self.skipped.add(int(r["skipped"]))
        if t in ("apply", "newcode") and r.get("offset") is not None and r.get("changes"):
            self.last_here[int(r["offset"])] = tuple(r["changes"][-1]["key"])
        # position
        if mode == "code" and r.get("offset") is not None:
            self.pos = self._resolve_pos(r.get("unit"), int(r["offset"]), r.get("kind"))
        if mode == "review" and r.get("item") is not None and self.suggestions:
            self.rpos = self._resolve_item(r.get("item_index"), tuple(r["item"]))

    def _resolve_pos(self, index, offset: int, kind: str | None) -> int:
        if kind in (None, self.unit_kind) and isinstance(index, int) and 0 <= index < len(self.units) \
                and self.units[index].start == offset:
            return index
        found = unit_at(self.units, offset)
        return found.index if found else 0

    def _resolve_item(self, index, key: tuple) -> int:
        keys = [s.key[1:] for s in self.suggestions]
        if key in keys:
            return keys.index(key)
        return min(max(int(index or 0), 0), len(self.suggestions) - 1)

    def _load_suggestions(self) -> list[Coding]:
        path = self.ws.codings_dir / f"{AUTO_CODER}.csv"
        if not path.exists():
            raise SessionError("no auto-coding suggestions yet: run `qualkit autocode` first", path)
        rows = []
        for c in read_codings(path):
            if c.transcript != self.tid:
                continue
            if c.text and self.text[c.start:c.end] != c.text:
                # the transcript moved since autocode ran: re-anchor on the nearest exact quote
                hits = [m.start() for m in re.finditer(re.escape(c.text), self.text)]
                if hits:
                    at = min(hits, key=lambda h: abs(h - c.start))
                    c = Coding(c.transcript, at, at + len(c.text), c.code, c.text, c.memo, c.coded_at)
                else:
                    self.mismatched.add(c.key)
            if c.end <= len(self.text):
                rows.append(c)
        seen, out = set(), []
        for c in sorted(rows, key=lambda c: (c.start, c.end, c.code)):
            if c.key not in seen:
                seen.add(c.key)
                out.append(c)
        return out

    # -- saving ---------------------------------------------------------------------------------
    def _append(self, record: dict) -> dict:
        self.seq += 1
        record = {"seq": self.seq, "at": now_iso(), **record}
        self.journal.append(record)
        return record

    def _write_csv(self, changes: list[dict]) -> bool:
        """Apply assignments to codings/<coder>.csv (read under a lock, atomic replace); True if rewritten."""
        if not changes:
            return False
        with coder_lock(self.ws.root, self.coder):
            current = read_codings(self.csv_path)
            new = apply_changes(current, changes)
            old_text, new_text = dumps_codings(current), dumps_codings(new)
            if new_text == old_text:
                return False
            self.ws.replace_file(self.csv_path, new_text, keep_backup=not self._backed_up)  # staged: see _commit
            self._backed_up = True
            return True

    def _commit(self, record: dict) -> dict:
        """Journal an action (fsync), then update memory, the codebook and the CSV."""
        record = self._append({"mode": self.mode, **record})
        self._dirty = True
        self._track(record)
        changes = record.get("changes") or []
        self.codings = apply_changes(self.codings, changes)
        with self.ws.one_change():  # the codebook and the codings file: one transaction
            if record.get("code"):
                self._ensure_code(record["code"], record["at"], record["codebook"])
            if record.get("code_removed"):
                self._remove_code(record["code_removed"], record["at"], record["codebook"])
            self._write_csv(changes)
        self._dirty = False
        if record["type"] == "undo":
            self.counts["undone"] += 1
            return record
        for ch in changes:
            if ch.get("before") is None and ch.get("after") is not None:
                self.counts["added"] += 1
            elif ch.get("after") is None and ch.get("before") is not None:
                self.counts["removed"] += 1
        return record

    def _fresh_codebook(self, book_id: str) -> Codebook:
        """The codebook as it is on disk now (others may have edited it); the session's is refreshed."""
        book = self.ws.codebook(book_id)
        if book.id == self.codebook_id:
            self.codebook = book
        return book

    def _ensure_code(self, code: dict, when: str | None, book_id: str) -> None:
        """Make sure an inductive code created in this session is in the codebook file."""
        with coder_lock(self.ws.root, self.coder):  # the codebook is read and rewritten as one step
            book = self._fresh_codebook(book_id)
            if book.get(code["id"]) is not None:
                return
            book.codes.append(Code(code["id"], code["name"], code.get("parent"), "inductive",
                                   definition=code.get("definition", ""), status="active"))
            stamp = datetime.fromisoformat(when) if when else None
            book.log(self.coder, f"added inductive code {code['id']} ({code['name']}) while coding {self.tid}", stamp)
            self.ws.replace_file(book.path or self.ws.codebooks_dir / f"{book.id}.yaml", dump_codebook(book))

    def _remove_code(self, code_id: str, when: str | None, book_id: str) -> None:
        """Take an inductive code created in this session out of the codebook again (undo)."""
        with coder_lock(self.ws.root, self.coder):  # the codebook is read and rewritten as one step
            book = self._fresh_codebook(book_id)
            code = book.get(code_id)
            if code is None or code.origin != "inductive":
                return
            book.codes.remove(code)
            stamp = datetime.fromisoformat(when) if when else None
            book.log(self.coder, f"removed inductive code {code_id} (undo in `qualkit code` of {self.tid})", stamp)
            self.ws.replace_file(book.path or self.ws.codebooks_dir / f"{book.id}.yaml", dump_codebook(book))

    def close(self) -> None:
        """End the session: a clean-exit marker (only if everything journaled is also saved)."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._dirty:
                self._append({"type": "close", "summary": dict(self.counts)})
        finally:
            self.journal.close()

    # -- views ----------------------------------------------------------------------------------
    def code_list(self, fragment: str | None = None) -> list[CodeEntry]:
        """Active codes, numbered, hierarchy depth-first; with ``fragment``, only the matching ones."""
        active = [c for c in self.codebook.codes if c.status == "active"]
        ids = {c.id for c in active}
        entries: list[CodeEntry] = []
        seen: set[str] = set()

        def walk(code: Code, depth: int) -> None:
            if code.id in seen:
                return
            seen.add(code.id)
            entries.append(CodeEntry(len(entries) + 1, code, depth))
            for child in active:
                if child.parent == code.id:
                    walk(child, depth + 1)

        for code in active:
            if not code.parent or code.parent not in ids:
                walk(code, 0)
        for code in active:  # cycles: never lose a code
            walk(code, 0)
        if fragment:
            f = fragment.casefold().strip()
            entries = [e for e in entries if f in e.code.id.casefold() or f in e.code.name.casefold()
                       or f in e.code.brief.casefold() or any(f in k.casefold() for k in e.code.keywords)]
        return entries

    def _unit_view(self, u: Unit, prev: Unit | None) -> UnitView:
        turn = self.transcript.turns[u.turn] if u.turn is not None else None
        pid = turn.participant if turn else None
        overlapping = sorted((c for c in self.codings if c.start < u.end and c.end > u.start),
                             key=lambda c: (c.start, c.end, c.code))
        views = []
        for i, c in enumerate(overlapping, start=1):
            code = self.codebook.get(c.code)
            views.append(CodingView(i, c, code.name if code else "", c.key in self.mine,
                                    c.start <= u.start and c.end >= u.end))
        ctx_speaker = None
        if prev is not None and prev.turn is not None:
            ctx_speaker = self.transcript.turns[prev.turn].speaker
        return UnitView(u.index + 1, len(self.units) if u.kind == self.unit_kind else len(self._turn_units),
                        u.kind, u.start, u.end, self.text[u.start:u.end],
                        (turn.index + 1) if turn else None, turn.speaker if turn else None, pid,
                        self.table.attributes(pid) if pid else {}, self.table.is_facilitator(pid),
                        turn.timestamp if turn else None,
                        tail(self.text[prev.start:prev.end]) if prev else "", ctx_speaker, views,
                        u.start in self.skipped)

    @property
    def unit(self) -> Unit:
        """The unit the coder is on."""
        return self.units[self.pos]

    def view(self) -> UnitView | SuggestionView | None:
        """The current unit (coding) or suggestion (review; None when there are none)."""
        if self.mode == "code":
            return self._unit_view(self.unit, self.units[self.pos - 1] if self.pos > 0 else None)
        if not self.suggestions:
            return None
        s = self.suggestions[self.rpos]
        turn = self._turn_of(s.start)
        prev = self._turn_units[turn.index - 1] if turn.index > 0 else None
        uv = self._unit_view(turn, prev)
        code = self.codebook.get(s.code)
        dec = self.decisions.get(s.key[1:])
        return SuggestionView(self.rpos + 1, len(self.suggestions), s, code.name if code else "", s.memo, uv,
                              dec["decision"] if dec else None,
                              any(c.key == s.key for c in self.codings), len(self._current_decisions()),
                              s.key in self.mismatched)

    def _turn_of(self, offset: int) -> Unit:
        """The turn holding ``offset`` (a transcript with units has turns)."""
        turn = unit_at(self._turn_units, offset)
        assert turn is not None
        return turn

    def _current_decisions(self) -> dict[tuple, dict]:
        """Decisions on the suggestions auto.csv holds now (it may have been regenerated since)."""
        keys = {s.key[1:] for s in self.suggestions}
        return {k: d for k, d in self.decisions.items() if k in keys}

    def summary(self) -> str:
        """One line on what is coded and what this run changed, said when the coder quits."""
        c = self.counts
        if self.mode == "review":
            n = len(self.suggestions)
            decided = self._current_decisions()
            by: dict[str, int] = {}
            for d in decided.values():
                by[d["decision"]] = by.get(d["decision"], 0) + 1
            return (f"{len(decided)}/{n} suggestions decided ({by.get('accept', 0)} accepted, "
                    f"{by.get('edit', 0)} edited, {by.get('reject', 0)} rejected); saved in {self.csv_path.name}")
        coded = {u.index for u in self.units for x in self.codings if x.start < u.end and x.end > u.start}
        done = [f"{n} {what}" for n, what in [
            (c["added"], f"coding{plural_s(c['added'])} added"), (c["removed"], "removed"),
            (c["memos"], f"memo{plural_s(c['memos'])}"), (c["codes"], f"new code{plural_s(c['codes'])}"),
            (c["undone"], "undone")] if n]
        return (f"{len(coded)}/{len(self.units)} {self.unit_kind}{plural_s(len(self.units))} coded{self._participant_progress()}; "
                "this run: " + (f"{', '.join(done)}; saved in {self.csv_path.name}" if done else "no changes"))

    def _participant_progress(self) -> str:
        """" (3/14 participant turns)" when the research team's turns make the two counts differ: the
        count `codings done`, `status` and agreement use, so the numbers a coder sees agree."""
        from qualkit.coding.coverage import progress

        p = progress(self.ws, self.coder, [self.transcript.id], codings=list(self.codings)).get(self.transcript.id)
        if p is None or self.unit_kind != "turn" or p.total == len(self.units):
            return ""
        return f" ({p.coded}/{p.total} participant turn{plural_s(p.total)})"

    # -- navigation records --------------------------------------------------------------------
    def _nav_record(self, **extra) -> dict:
        if self.mode == "code":
            u = self.unit
            return {"type": "nav", "unit": u.index, "offset": u.start, "kind": self.unit_kind, **extra}
        s = self.suggestions[self.rpos]
        return {"type": "nav", "item": list(s.key[1:]), "item_index": self.rpos, **extra}

    def _commit_nav(self) -> None:
        self._append({"mode": self.mode, **self._nav_record()})

    def _next_undecided(self, current: int) -> int | None:
        """The next suggestion without a decision after ``current`` (wrapping around), or None."""
        n = len(self.suggestions)
        for i in [*range(current + 1, n), *range(0, current + 1)]:
            if self.suggestions[i].key[1:] not in self.decisions:
                return i
        return None
