"""What a coder's commands do to the codings: apply, delete, memo, new code, undo, review decisions.

Each action builds one journal record of exact assignments and hands it to
:meth:`SessionState._commit <qualkit.coding.session_state.SessionState._commit>`, which journals
it (fsync) before changing the codebook or ``codings/<coder>.csv``. Undo journals the inverse
assignments, computed against the state at that moment.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

from qualkit.coding.fragments import locate, short, split_quote
from qualkit.coding.journal import apply_changes, coding_row
from qualkit.coding.session_state import SessionState
from qualkit.coding.session_views import CodingView, CommandError, Reply
from qualkit.coding.units import split_units
from qualkit.io.naming import slugify
from qualkit.workspace.codebook import ID_RE, Code
from qualkit.workspace.codings import Coding, content_hash, now_iso, read_codings

__all__ = ["CodingActions"]


class CodingActions(SessionState):
    """The commands that change codings (and the codebook), on top of the session's state."""

    # -- codes and spans ---------------------------------------------------------------------------
    def _resolve_code(self, token: str) -> Code:
        entries = self.code_list()
        if token.isdigit():
            n = int(token)
            if 1 <= n <= len(entries):
                return entries[n - 1].code
            raise CommandError(f"no code number {n}: the list goes from 1 to {len(entries)} ('/' shows it)")
        code = self.codebook.get(token) or self.codebook.get(token.lower())
        if code is not None:
            if code.status != "active":
                raise CommandError(f"code {code.id} is retired")
            return code
        ids = [e.code.id for e in entries]
        close = difflib.get_close_matches(token.lower(), ids, n=3) or [i for i in ids if token.lower() in i][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else f"; type /{token} to search the codes"
        raise CommandError(f"unknown code or command {token!r}{hint} (? for help)")

    def _span(self, fragment: str | None) -> tuple[int, int, str]:
        u = self.unit
        if fragment is None:
            return u.start, u.end, ""
        return locate(self.text, u.start, u.end, fragment)

    def _newcoding_row(self, code_id: str, s: int, e: int, memo: str = "") -> dict:
        return {"transcript": self.tid, "start": s, "end": e, "code": code_id, "text": self.text[s:e],
                "memo": memo, "coded_at": now_iso(), "transcript_hash": content_hash(self.text)}

    def _current(self, key: tuple) -> Coding | None:
        return next((c for c in self.codings if c.key == key), None)


    # -- coding ------------------------------------------------------------------------------------
    def _apply(self, line: str) -> Reply:
        head, fragment = split_quote(line)
        tokens = [t for t in re.split(r"[\s,]+", head) if t]
        if not tokens:
            raise CommandError("type code numbers or ids to apply, e.g. 3 or 3 7 \"some words\" (? for help)")
        codes = []
        for tok in tokens:
            code = self._resolve_code(tok)
            if code not in codes:
                codes.append(code)
        s, e, note = self._span(fragment)
        changes: list[dict[str, Any]] = []
        already: list[str] = []
        for code in codes:
            key = (self.tid, s, e, code.id)
            if self._current(key) is not None:
                already.append(code.id)
                continue
            changes.append({"key": list(key), "before": None, "after": self._newcoding_row(code.id, s, e),
                            "mine": True, "was_mine": False})
        where = "the whole unit" if fragment is None else f"\"{short(self.text[s:e])}\""
        if not changes:
            return Reply(f"already coded {', '.join(already)} on {where}")
        self._commit({"type": "apply", "unit": self.unit.index, "offset": self.unit.start, "kind": self.unit_kind,
                      "changes": changes})
        msg = f"coded {', '.join(ch['key'][3] for ch in changes)} on {where}{note}"
        if already:
            msg += f" ({', '.join(already)} already there)"
        return Reply(msg, changed=True)

    def _pick_codings(self, arg: str) -> list[CodingView]:
        view = self._unit_view(self.unit, None)
        if not view.codings:
            raise CommandError("this unit has no codings")
        picked = []
        for tok in [t for t in re.split(r"[\s,]+", arg) if t]:
            if tok.isdigit() and 1 <= int(tok) <= len(view.codings):
                picked.append(view.codings[int(tok) - 1])
                continue
            if tok.isdigit():
                raise CommandError(f"no coding #{tok} in this unit (they are numbered 1-{len(view.codings)} under 'coded:')")
            same = [v for v in view.codings if v.coding.code == tok]
            if len(same) == 1:
                picked.append(same[0])
            elif same:
                raise CommandError(f"{tok} is coded {len(same)} times here; give its #number")
            else:
                raise CommandError(f"{tok!r} is not one of this unit's codings (numbered under 'coded:')")
        if not picked:
            raise CommandError("usage: d N (the #number of a coding of this unit)")
        return picked

    def _delete(self, arg: str) -> Reply:
        picked = self._pick_codings(arg)
        changes = []
        for v in picked:
            c = v.coding
            changes.append({"key": list(c.key), "before": coding_row(c), "after": None, "mine": False,
                            "was_mine": c.key in self.mine})
        self._commit({"type": "delete", "unit": self.unit.index, "offset": self.unit.start, "kind": self.unit_kind,
                      "changes": changes})
        return Reply("deleted " + ", ".join(f"#{v.number} {v.coding.code}" for v in picked) + " (u undoes it)",
                     changed=True)

    def _memo(self, arg: str) -> Reply:
        view = self._unit_view(self.unit, None)
        if not view.codings:
            raise CommandError("this unit has no codings to write a memo on")
        first, _, text = arg.partition(" ")
        if first.isdigit():
            if not 1 <= int(first) <= len(view.codings):
                raise CommandError(f"no coding #{first} in this unit (they are numbered 1-{len(view.codings)} under 'coded:')")
            target = view.codings[int(first) - 1].coding
        else:
            text = arg
            key = self.last_here.get(self.unit.start)
            last = self._current(key) if key else None
            if last is None and len(view.codings) == 1:
                last = view.codings[0].coding
            if last is None:
                raise CommandError("which coding? m N text (N is its #number under 'coded:')")
            target = last
        text = text.strip()
        if not text:
            return Reply(f"memo of {target.code}: {target.memo or '(none)'}")
        memo = "" if text == "-" else text
        if memo == target.memo:
            return Reply("memo unchanged")
        after = {**coding_row(target), "memo": memo}
        mine = target.key in self.mine
        self._commit({"type": "memo", "unit": self.unit.index, "offset": self.unit.start, "kind": self.unit_kind,
                      "changes": [{"key": list(target.key), "before": coding_row(target), "after": after,
                                   "mine": mine, "was_mine": mine}]})
        self.counts["memos"] += 1
        return Reply(f"memo {'cleared' if not memo else 'saved'} on {target.code}", changed=True)

    def _new_code(self, spec: str) -> Reply:
        usage = 'usage: + Name: one-line definition   (optionally followed by "words of the unit")'
        name, colon, rest = spec.partition(":")
        name = " ".join(name.split())
        if not colon or not name:
            raise CommandError(usage)
        definition, fragment = split_quote(rest)
        definition = " ".join(definition.split())
        if not definition:
            raise CommandError("a new code needs a one-line definition after the colon; " + usage)
        code_id = slugify(name, fallback="")
        if not code_id or not ID_RE.match(code_id):
            raise CommandError(f"cannot make a code id from {name!r}: use letters or digits in the name")
        index = self.ws.code_index()
        if code_id in index:
            book, existing = index[code_id]
            raise CommandError(f"code {code_id} already exists in codebook {book.id} ({existing.name}); "
                               "apply it by id or choose another name")
        s, e, note = self._span(fragment)
        key = (self.tid, s, e, code_id)
        record = {"type": "newcode", "unit": self.unit.index, "offset": self.unit.start, "kind": self.unit_kind,
                  "codebook": self.codebook_id,
                  "code": {"id": code_id, "name": name, "definition": definition, "origin": "inductive"},
                  "changes": [{"key": list(key), "before": None, "after": self._newcoding_row(code_id, s, e),
                               "mine": True, "was_mine": False}]}
        self._commit(record)
        self.counts["codes"] += 1
        entry = next(e_ for e_ in self.code_list() if e_.code.id == code_id)
        where = "the whole unit" if fragment is None else f"\"{short(self.text[s:e])}\""
        return Reply(f"new inductive code {entry.number} {code_id} added to {self.codebook_id}; coded on {where}{note}",
                     changed=True)


    # -- undo --------------------------------------------------------------------------------------
    def _undo(self) -> Reply:
        stack = self.stacks[self.mode]
        if not stack:
            return Reply("nothing to undo" + (" in this session" if self.mode == "code" else ""), error=True)
        target = self.records[stack[-1]]
        was = (self.pos, self.rpos)
        inverse, kept = self._inverse(target)
        record: dict[str, Any] = {"type": "undo", "undoes": target["seq"], "changes": inverse}
        if target.get("offset") is not None:
            record.update(unit=target.get("unit"), offset=target["offset"], kind=target.get("kind"))
        if target["type"] == "newcode":
            code_id = target["code"]["id"]
            if not self._code_used_after(code_id, inverse):
                record.update(code_removed=code_id, codebook=target.get("codebook") or self.codebook_id)
        if target["type"] == "decide":
            record.update(item=target["item"], item_index=target.get("item_index"), restore=target.get("prev"))
        self._commit(record)
        what = {"apply": "coding", "delete": "deletion", "memo": "memo", "newcode": "new code",
                "decide": "decision"}[target["type"]]
        detail = ", ".join(sorted({ch["key"][3] for ch in target.get("changes") or []}))
        msg = f"undone: {what}" + (f" {detail}" if detail else "")
        if target["type"] == "decide":
            msg = f"undone: {target['decision']} of suggestion {self.rpos + 1}"
        if record.get("code_removed"):
            msg += f" (code {record['code_removed']} removed from {self.codebook_id})"
        if kept:
            msg += f"; kept {', '.join(kept)} as changed since"
        return Reply(msg, moved=(self.pos, self.rpos) != was, changed=True)

    def _inverse(self, target: dict) -> tuple[list[dict], list[str]]:
        """Assignments reverting ``target`` where its result still stands (checked change by change)."""
        state = {c.key: coding_row(c) for c in self.codings}
        mine = set(self.mine)
        inverse, kept = [], []
        for ch in reversed(target.get("changes") or []):
            key = tuple(ch["key"])
            if state.get(key) != ch.get("after"):
                kept.append(key[3])
                continue
            inverse.append({"key": list(key), "before": state.get(key), "after": ch.get("before"),
                            "mine": bool(ch.get("was_mine")), "was_mine": key in mine})
            if ch.get("before") is None:
                state.pop(key, None)
            else:
                state[key] = ch["before"]
        return inverse, kept

    def _code_used_after(self, code_id: str, inverse: list[dict]) -> bool:
        rest = apply_changes(read_codings(self.csv_path), inverse)
        if any(c.code == code_id for c in rest):
            return True
        for other in self.ws.coders():
            if other != self.coder and any(c.code == code_id for c in self.ws.codings(other)):
                return True
        return False


    # -- review decisions --------------------------------------------------------------------------
    def _edit(self, arg: str) -> Reply:
        s0 = self.suggestions[self.rpos]
        turn = self._turn_of(s0.start)
        lo, hi = min(turn.start, s0.start), max(turn.end, s0.end)
        word = arg.strip().strip("\"“”").strip().lower()
        if word in ("turn", "t"):
            s, e = turn.start, turn.end
        elif word in ("sentence", "sent"):
            sents = [u for u in split_units(self.transcript, "sentence") if u.start < s0.end and u.end > s0.start]
            if not sents:
                raise CommandError("no sentence around this suggestion")
            s, e = sents[0].start, sents[-1].end
        else:
            _, fragment = split_quote(arg)
            if fragment is None:
                fragment = arg
            if not fragment.strip():
                raise CommandError('usage: e "words of the turn", e sentence or e turn')
            s, e, _note = locate(self.text, lo, hi, fragment)
        return self._decide("edit", (s, e))

    def _decide(self, decision: str, span: tuple[int, int] | None = None) -> Reply:
        sug = self.suggestions[self.rpos]
        item = sug.key[1:]
        prev = self.decisions.get(item)
        state = {c.key: coding_row(c) for c in self.codings}
        changes: list[dict] = []
        # re-deciding: first take back the coding an earlier accept/edit made, if it still stands
        if prev and prev.get("coding"):
            old = tuple(prev["coding"])
            if old in state and old in self.mine:
                changes.append({"key": list(old), "before": state.pop(old), "after": None,
                                "mine": False, "was_mine": True})
        coding_key = None
        if decision in ("accept", "edit"):
            s, e = span if span else (sug.start, sug.end)
            key = (self.tid, s, e, sug.code)
            if key not in state:  # else the coder already has this coding: nothing to copy
                row = {"transcript": self.tid, "start": s, "end": e, "code": sug.code, "text": self.text[s:e],
                       "memo": sug.memo, "coded_at": now_iso(), "transcript_hash": content_hash(self.text)}
                changes.append({"key": list(key), "before": None, "after": row, "mine": True, "was_mine": False})
                coding_key = list(key)
        self._commit({"type": "decide", "item": list(item), "item_index": self.rpos, "decision": decision,
                      "prev": prev, "coding": coding_key, "changes": changes})
        self.counts["decided"] += 1
        word = {"accept": "accepted", "reject": "rejected", "edit": "accepted with edited span"}[decision]
        msg = f"{word}: {sug.code}"
        if decision == "edit" and span is not None:
            msg += f" on \"{short(self.text[span[0]:span[1]])}\""
        elif decision == "accept" and coding_key is None:
            msg += " (already in your codings)"
        nxt = self._next_undecided(self.rpos)
        if nxt is not None:
            self.rpos = nxt
            self._commit_nav()
            return Reply(msg, moved=True, changed=True)
        return Reply(msg + f"; all {len(self.suggestions)} suggestions decided, q to quit", changed=True)
