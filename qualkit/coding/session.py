"""Interactive coding of one transcript by one coder, driven by text commands (no terminal I/O).

``qualkit code`` is a thin terminal loop around :class:`CodingSession`: it prints the session's
views (:meth:`CodingSession.view`, :meth:`CodingSession.code_list`) and passes every line the
coder types to :meth:`CodingSession.execute`, which returns a :class:`Reply`. Tests drive the
class directly with the same commands a coder types (see ``HELP_CODE`` and ``HELP_REVIEW``).

Nothing is ever lost: the journal
---------------------------------
Every action is first appended to an append-only journal,
``.qualkit/sessions/<coder>__<transcript>.jsonl``: one JSON object per line, written, flushed
and fsync'ed *before* anything else happens and before the coder sees it confirmed. A change to
the codings is journaled as exact assignments, ``{"key": [transcript, start, end, code],
"before": row|null, "after": row|null}``; an undo is journaled as the inverse assignments it
performed (computed against the state at that moment), never as "undo #n". So the journal is a
sequence of last-writer-wins assignments, and applying it twice, or applying any suffix of it
again over a file that already holds a prefix of it, gives the same result (idempotent).

Then, for each action, ``codings/<coder>.csv`` is rewritten: under a lock, the current file is
read, the action's assignments are applied, and the file is replaced atomically (temp file +
rename) if its rows changed. The first rewrite of each run copies the previous file to
``.qualkit/backups/`` (the journal holds every intermediate state, so one backup per run, not
one per keystroke). Rows of other transcripts, written by other sessions, are kept as they are.
A new inductive code is added to the codebook (origin inductive, change-log entry, atomic write
with a backup) after it is journaled and before the CSV is rewritten.

A clean exit appends a ``close`` marker. On start, every action journaled after the last marker
(``close`` or ``recovered``) is applied again to the CSV and the codebook: after a ``kill -9``
(or a power cut) at any point, the CSV thus ends up exactly as the coder's previous codings plus
the session's effective actions, and a ``recovered`` marker is written. Changes made to the CSV
by hand after a clean exit are respected (nothing before the marker is replayed). A partial last
line (the process died while writing it; the action was never confirmed) is dropped. The whole
journal is also replayed in memory to restore the position (same unit), the undo history, the
skipped units and the review decisions: the next run resumes exactly where the last one stopped.
Only one session per coder and transcript can run at a time (a lock on the journal).

Undo reverts the coder's last change (repeatedly), across runs, within the same mode (coding or
review); a coding changed since by something else is left as it is and reported. Codings the
coder made before this journal existed (earlier sessions, imports) cannot be undone, but they
are listed with each unit and can be deleted with ``d N`` (journaled, so that is undoable too).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.coding.units import UNIT_KINDS, Unit, split_units, turn_units, unit_at
from qualkit.io.atomic import atomic_write_text, backup
from qualkit.io.atomic import fsync_dir as _fsync_dir
from qualkit.workspace.codebook import ID_RE, Code, Codebook, save_codebook
from qualkit.workspace.codings import (
    Coding,
    coder_path,
    dumps_codings,
    now_iso,
    read_codings,
)

JOURNAL_VERSION = 1
SESSIONS_DIR = Path(".qualkit") / "sessions"
AUTO_CODER = "auto"
REVIEW_SOURCES = ("auto",)
_MARKERS = ("close", "recovered")
_UNDOABLE = ("apply", "delete", "memo", "newcode", "decide")

HELP_CODE = """\
Coding commands (one per line; Enter alone goes to the next unit):
  3                 apply code 3 (its number in the code list) to the whole unit
  3 7 data_sharing  apply several codes at once, by number or id
  3 "no bus out there"
                    apply code 3 to part of the unit: the quoted words are found in the unit
                    (exact, then ignoring case, spacing and quote style)
  3 "we fax ... next day"
                    a longer span: from the words before ' ... ' to the words after it
  + Name: definition         create an inductive code (added to the codebook) and apply it;
  + Name: definition "quote" a quoted fragment at the end narrows it, as above
  d 2               delete coding #2 of this unit (the #numbers listed under 'coded:')
  m 2 text          memo on coding #2 of this unit ('m text': the coding you made last here;
                    'm 2 -' clears it)
  u                 undo your last change (repeat to go further back)
  n or Enter        next unit           b   previous unit
  s                 skip this unit (marked skipped) and go to the next one
  j 40              jump to unit 40
  /stig             list codes whose id, name or brief contain 'stig'
  / or l            the whole code list      i 3   a code's definition, include and exclude
  ?                 this help                q   save and quit (Ctrl-D too)
Every action is saved at once; after a crash, the next run resumes here."""

HELP_REVIEW = """\
Reviewing auto-coding suggestions (the suggested span is highlighted):
  a                 accept: copy the suggestion into your codings, then go to the next one
  r                 reject it (nothing is copied; codings/auto.csv is never changed)
  e "words"         edit: accept it with the span changed to these words of the turn
                    (exact, then ignoring case; "from ... to" for a longer span)
  e sentence        accept it widened to its whole sentence   e turn   ... to the whole turn
  n or Enter        next suggestion without deciding     b   previous suggestion
  j 12              jump to suggestion 12
  u                 undo your last decision (repeat to go further back)
  ?                 this help           q   save and quit (Ctrl-D too)
Decisions are saved at once; the next run resumes at the same suggestion."""


from qualkit.errors import SessionError  # noqa: F401  (defined with every other error in qualkit.errors)


class CommandError(Exception):
    """A command the session cannot carry out; its message is shown to the coder."""


# -- plain data for the terminal ---------------------------------------------------------------

@dataclass
class CodeEntry:
    """A code as listed: its number (what the coder types), depth in the hierarchy, the code."""

    number: int
    code: Code
    depth: int


@dataclass
class CodingView:
    """One of this coder's codings touching the current unit, numbered for ``d N`` / ``m N``."""

    number: int
    coding: Coding
    name: str             # the code's name ('' if the code is not in the codebook)
    this_session: bool    # made in this session (undo can revert it)
    whole_unit: bool      # covers the whole unit


@dataclass
class UnitView:
    """What the coder sees of a unit."""

    number: int           # 1-based
    total: int
    kind: str             # turn | sentence
    start: int
    end: int
    text: str
    turn_number: int | None
    speaker: str | None
    participant: str | None
    attributes: dict[str, str]
    facilitator: bool
    timestamp: float | None
    context: str          # the end of the previous unit ('' for the first)
    context_speaker: str | None
    codings: list[CodingView]
    skipped: bool


@dataclass
class SuggestionView:
    """An auto-coding suggestion in its turn."""

    number: int           # 1-based
    total: int
    suggestion: Coding
    code_name: str
    term: str             # the matched term (auto.csv's memo)
    unit: UnitView        # the turn the suggestion is in
    decision: str | None  # accept | reject | edit | None
    in_codings: bool      # the coder already has this exact coding
    decided: int          # suggestions decided so far
    mismatch: bool = False  # auto.csv's quote is not the transcript's text there (it changed)


@dataclass
class Reply:
    """What a command did: a message, and what the terminal should show again."""

    message: str = ""
    error: bool = False
    moved: bool = False          # the current unit/suggestion changed: show it
    changed: bool = False        # codings changed: show the unit's codings again
    codes: list[CodeEntry] | None = None
    help: str | None = None
    quit: bool = False


# -- rows, changes, fragments ---------------------------------------------------------------------

def journal_path(root: str | Path, coder: str, transcript_id: str) -> Path:
    """``.qualkit/sessions/<coder>__<transcript>.jsonl`` of a workspace."""
    return Path(root) / SESSIONS_DIR / f"{coder}__{transcript_id}.jsonl"


def _row(c: Coding) -> dict[str, Any]:
    return {"transcript": c.transcript, "start": int(c.start), "end": int(c.end), "code": c.code,
            "text": c.text, "memo": c.memo, "coded_at": c.coded_at}


def _coding(row: dict[str, Any]) -> Coding:
    return Coding(row["transcript"], int(row["start"]), int(row["end"]), row["code"], row.get("text", ""),
                  row.get("memo", ""), row.get("coded_at", ""))


def apply_changes(codings: list[Coding], changes: list[dict]) -> list[Coding]:
    """Apply journaled assignments (key -> after row, None = absent) to a list of codings, in order."""
    out = list(codings)
    for ch in changes:
        key = tuple(ch["key"])
        hits = [i for i, c in enumerate(out) if c.key == key]
        after = ch.get("after")
        if after is None:
            out = [c for i, c in enumerate(out) if i not in hits]
        elif hits:
            out[hits[0]] = _coding(after)
            out = [c for i, c in enumerate(out) if i not in hits[1:]]
        else:
            out.append(_coding(after))
    return out


_LOOSE = {
    "'": "['’‘`]", "’": "['’‘`]", "‘": "['’‘`]", "`": "['’‘`]",
    '"': '["“”]', "“": '["“”]', "”": '["“”]',
    "-": "[-–—]", "–": "[-–—]", "—": "[-–—]",
}
_RANGE_SEP = re.compile(r"\s+(?:\.\.\.|…)\s+")


def _loose_pattern(fragment: str) -> re.Pattern[str]:
    parts = []
    for token in re.split(r"(\s+)", fragment):
        if not token:
            continue
        if token.isspace():
            parts.append(r"\s+")
        else:
            parts.append("".join(_LOOSE.get(ch, re.escape(ch)) for ch in token))
    return re.compile("".join(parts), re.IGNORECASE)


def _find(text: str, start: int, end: int, fragment: str) -> list[tuple[int, int]]:
    """Matches of ``fragment`` in text[start:end]: exact ones, else case/space/quote-insensitive ones."""
    hits, i = [], text.find(fragment, start, end)
    while i >= 0:
        hits.append((i, i + len(fragment)))
        i = text.find(fragment, i + 1, end)
    if hits:
        return hits
    return [(m.start(), m.end()) for m in _loose_pattern(fragment).finditer(text, start, end)]


def locate(text: str, start: int, end: int, fragment: str) -> tuple[int, int, str]:
    """Where a typed fragment is in ``text[start:end]``: (start, end, note about ambiguity).

    Tried in order: the exact fragment; the fragment ignoring case, spacing and quote/dash style;
    and, when it contains `` ... `` (or `` … ``), the span from the first match of the words
    before it to the end of the first match after that of the words after it.
    Raises CommandError when nothing matches.
    """
    frag = fragment.strip()
    if not frag:
        raise CommandError("empty quote: type some words of the unit between the quotes")
    hits = _find(text, start, end, frag)
    if hits:
        note = f" (found {len(hits)} times; used the first, add words to pick another)" if len(hits) > 1 else ""
        return hits[0][0], hits[0][1], note
    parts = _RANGE_SEP.split(frag, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        first = _find(text, start, end, parts[0].strip())
        if first:
            last = _find(text, first[0][1], end, parts[1].strip())
            if last:
                return first[0][0], last[0][1], ""
            raise CommandError(f"found {parts[0].strip()!r} but not {parts[1].strip()!r} after it in this unit")
    raise CommandError(f"not found in this unit: {frag!r} (copy a few words exactly as they appear)")


def slug(name: str) -> str:
    """A code id from a name: ASCII, lower case, words joined by underscores."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _tail(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[-n:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < 20 else cut)


# -- the journal -------------------------------------------------------------------------------

def _flock(f, exclusive_nonblocking: bool = True) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one session at a time is up to the coder
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (fcntl.LOCK_NB if exclusive_nonblocking else 0))
        return True
    except BlockingIOError:
        return False


class Journal:
    """An append-only JSON-lines file; each record is flushed and fsync'ed before append returns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a+b")  # noqa: SIM115 - kept open (and locked) for the session
        if not _flock(self._f):
            self._f.close()
            raise SessionError("another `qualkit code` session is using this journal; finish it first", self.path)
        if created:
            _fsync_dir(self.path.parent)
        self.dropped_partial = False

    def load(self) -> list[dict]:
        """Every record; a partial last line (a crash mid-write) is dropped from the file."""
        self._f.seek(0)
        data = self._f.read()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            self._f.truncate(keep)
            self._f.flush()
            os.fsync(self._f.fileno())
            data = data[:keep]
            self.dropped_partial = True
        records = []
        for lineno, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict) or "type" not in rec:
                    raise ValueError("not a journal record")
            except (ValueError, UnicodeDecodeError) as exc:
                raise SessionError(f"unreadable journal line ({exc}); move the file aside to start afresh",
                                   self.path, lineno) from None
            records.append(rec)
        return records

    def append(self, record: dict) -> None:
        self._f.seek(0, os.SEEK_END)
        self._f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


# -- the session -------------------------------------------------------------------------------

class CodingSession:
    """One coder coding one transcript, unit by unit (or reviewing auto-coding suggestions).

    ``execute(line)`` runs one command; the state is saved before it returns. Call ``close()``
    when done (it marks a clean exit); a session that is never closed is recovered on next start.
    """

    def __init__(self, workspace, transcript_id: str, coder: str, *, codebook: str | None = None,
                 unit: str = "turn", review: str | None = None):
        from qualkit.workspace.store import Workspace

        self.ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
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
            self.notices.append(f"the last session was interrupted: its {len(pending)} action(s) were replayed "
                                f"from the journal into {self.csv_path.name}")
        else:
            self.notices.append(f"the last session was interrupted; all its {len(pending)} action(s) were "
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

    @contextmanager
    def _csv_lock(self) -> Iterator[None]:
        lock = self.ws.root / SESSIONS_DIR / f"{self.coder}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as f:
            _flock(f, exclusive_nonblocking=False)
            yield

    def _write_csv(self, changes: list[dict]) -> bool:
        """Apply assignments to codings/<coder>.csv (read under a lock, atomic replace); True if rewritten."""
        if not changes:
            return False
        with self._csv_lock():
            current = read_codings(self.csv_path)
            new = apply_changes(current, changes)
            old_text, new_text = dumps_codings(current), dumps_codings(new)
            if new_text == old_text:
                return False
            if not self._backed_up:
                backup(self.csv_path, self.ws.backup_dir)
                self._backed_up = True
            atomic_write_text(self.csv_path, new_text)
            return True

    def _commit(self, record: dict) -> dict:
        """Journal an action (fsync), then update memory, the codebook and the CSV."""
        record = self._append({"mode": self.mode, **record})
        self._dirty = True
        self._track(record)
        changes = record.get("changes") or []
        self.codings = apply_changes(self.codings, changes)
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
        book = self._fresh_codebook(book_id)
        if book.get(code["id"]) is not None:
            return
        book.codes.append(Code(code["id"], code["name"], code.get("parent"), "inductive",
                               definition=code.get("definition", ""), status="active"))
        from datetime import datetime

        stamp = datetime.fromisoformat(when) if when else None
        book.log(self.coder, f"added inductive code {code['id']} ({code['name']}) while coding {self.tid}", stamp)
        save_codebook(book, backup_dir=self.ws.backup_dir)

    def _remove_code(self, code_id: str, when: str | None, book_id: str) -> None:
        """Take an inductive code created in this session out of the codebook again (undo)."""
        book = self._fresh_codebook(book_id)
        code = book.get(code_id)
        if code is None or code.origin != "inductive":
            return
        book.codes.remove(code)
        from datetime import datetime

        stamp = datetime.fromisoformat(when) if when else None
        book.log(self.coder, f"removed inductive code {code_id} (undo in `qualkit code` of {self.tid})", stamp)
        save_codebook(book, backup_dir=self.ws.backup_dir)

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

    def __enter__(self) -> CodingSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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
                        _tail(self.text[prev.start:prev.end]) if prev else "", ctx_speaker, views,
                        u.start in self.skipped)

    @property
    def unit(self) -> Unit:
        return self.units[self.pos]

    def view(self) -> UnitView | SuggestionView | None:
        """The current unit (coding) or suggestion (review; None when there are none)."""
        if self.mode == "code":
            return self._unit_view(self.unit, self.units[self.pos - 1] if self.pos > 0 else None)
        if not self.suggestions:
            return None
        s = self.suggestions[self.rpos]
        turn = unit_at(self._turn_units, s.start)
        prev = self._turn_units[turn.index - 1] if turn.index > 0 else None
        uv = self._unit_view(turn, prev)
        code = self.codebook.get(s.code)
        dec = self.decisions.get(s.key[1:])
        return SuggestionView(self.rpos + 1, len(self.suggestions), s, code.name if code else "", s.memo, uv,
                              dec["decision"] if dec else None,
                              any(c.key == s.key for c in self.codings), len(self._current_decisions()),
                              s.key in self.mismatched)

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
        done = [f"{n} {what}" for n, what in [(c["added"], "coding(s) added"), (c["removed"], "removed"),
                                               (c["memos"], "memo(s)"), (c["codes"], "new code(s)"),
                                               (c["undone"], "undone")] if n]
        return (f"{len(coded)}/{len(self.units)} {self.unit_kind}s coded; this run: "
                + (f"{', '.join(done)}; saved in {self.csv_path.name}" if done else "no changes"))

    # -- commands ---------------------------------------------------------------------------
    def execute(self, line: str) -> Reply:
        """Run one command line (see HELP_CODE / HELP_REVIEW); everything is saved before it returns."""
        if self._closed:
            raise SessionError("this session is closed")
        line = line.strip()
        try:
            if line in ("?", "h", "help"):
                return Reply(help=HELP_REVIEW if self.mode == "review" else HELP_CODE)
            if line in ("q", "quit", "exit", ":q"):
                return Reply(self.summary(), quit=True)
            if line in ("u", "undo"):
                return self._undo()
            cmd, _, rest = line.partition(" ")
            rest = rest.strip()
            if line in ("", "n", "next"):
                return self._move(+1)
            if line in ("b", "back", "p", "prev"):
                return self._move(-1)
            if cmd in ("j", "jump", "g", "goto"):
                return self._jump(rest)
            if self.mode == "review":
                return self._review_command(cmd, rest, line)
            if line.startswith("/"):
                return self._filter(line[1:])
            if line in ("l", "list", "codes"):
                return Reply(codes=self.code_list())
            if cmd in ("i", "info"):
                return self._info(rest)
            if line in ("s", "skip"):
                return self._move(+1, skip=True)
            if cmd in ("d", "del", "delete"):
                return self._delete(rest)
            if cmd in ("m", "memo"):
                return self._memo(rest)
            if line.startswith("+"):
                return self._new_code(line[1:])
            return self._apply(line)
        except CommandError as exc:
            return Reply(str(exc), error=True)

    # navigation
    def _nav_record(self, **extra) -> dict:
        if self.mode == "code":
            u = self.unit
            return {"type": "nav", "unit": u.index, "offset": u.start, "kind": self.unit_kind, **extra}
        s = self.suggestions[self.rpos]
        return {"type": "nav", "item": list(s.key[1:]), "item_index": self.rpos, **extra}

    def _move(self, step: int, skip: bool = False) -> Reply:
        if self.mode == "review":
            if not self.suggestions:
                return Reply("no suggestions for this transcript", error=True)
            target = self.rpos + step
            if target >= len(self.suggestions):
                left = len(self.suggestions) - len(self.decisions)
                return Reply(f"that was the last suggestion ({left} undecided); j N to go back, q to quit")
            if target < 0:
                return Reply("this is the first suggestion", error=True)
            self.rpos = target
            self._commit_nav()
            return Reply(moved=True)
        target = self.pos + step
        extra = {"skipped": self.unit.start} if skip else {}
        if target >= len(self.units):
            if skip:
                self.skipped.add(self.unit.start)
                self._append({"mode": "code", **self._nav_record(**extra)})
            return Reply(f"that was the last unit ({len(self.units)}/{len(self.units)}); j N to go back, q to quit")
        if target < 0:
            return Reply("this is the first unit", error=True)
        self.pos = target
        self._append({"mode": "code", **self._nav_record(**extra)})
        if skip:
            self.skipped.add(extra["skipped"])
        return Reply("skipped" if skip else "", moved=True)

    def _commit_nav(self) -> None:
        self._append({"mode": self.mode, **self._nav_record()})

    def _jump(self, arg: str) -> Reply:
        total = len(self.suggestions) if self.mode == "review" else len(self.units)
        try:
            n = int(arg)
        except ValueError:
            raise CommandError(f"usage: j NUMBER (1-{total})") from None
        if not 1 <= n <= total:
            raise CommandError(f"no {'suggestion' if self.mode == 'review' else 'unit'} {n}: there are {total}")
        if self.mode == "review":
            self.rpos = n - 1
        else:
            self.pos = n - 1
        self._commit_nav()
        return Reply(moved=True)

    # code list
    def _filter(self, fragment: str) -> Reply:
        entries = self.code_list(fragment.strip() or None)
        if not entries:
            return Reply(f"no code matches {fragment.strip()!r}; '/' lists them all", error=True, codes=[])
        return Reply(codes=entries)

    def _info(self, arg: str) -> Reply:
        code = self._resolve_code(arg.strip()) if arg.strip() else None
        if code is None:
            raise CommandError("usage: i CODE (a number or id)")
        lines = [f"{code.name} ({code.id}, {code.origin})"]
        for name in ("brief", "definition", "include", "exclude"):
            if getattr(code, name):
                lines.append(f"  {name}: {getattr(code, name)}")
        if code.examples:
            lines.append("  examples: " + "; ".join(code.examples))
        return Reply("\n".join(lines))

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

    # coding
    def _split_quote(self, text: str) -> tuple[str, str | None]:
        m = re.search(r"[\"“”]", text)
        if not m:
            return text, None
        quote = text[m.end():]
        quote = re.sub(r"[\"“”]\s*$", "", quote)
        return text[: m.start()], quote

    def _span(self, fragment: str | None) -> tuple[int, int, str]:
        u = self.unit
        if fragment is None:
            return u.start, u.end, ""
        return locate(self.text, u.start, u.end, fragment)

    def _new_row(self, code_id: str, s: int, e: int, memo: str = "") -> dict:
        return {"transcript": self.tid, "start": s, "end": e, "code": code_id, "text": self.text[s:e],
                "memo": memo, "coded_at": now_iso()}

    def _current(self, key: tuple) -> Coding | None:
        return next((c for c in self.codings if c.key == key), None)

    def _apply(self, line: str) -> Reply:
        head, fragment = self._split_quote(line)
        tokens = [t for t in re.split(r"[\s,]+", head) if t]
        if not tokens:
            raise CommandError("type code numbers or ids to apply, e.g. 3 or 3 7 \"some words\" (? for help)")
        codes = []
        for tok in tokens:
            code = self._resolve_code(tok)
            if code not in codes:
                codes.append(code)
        s, e, note = self._span(fragment)
        changes, already = [], []
        for code in codes:
            key = (self.tid, s, e, code.id)
            if self._current(key) is not None:
                already.append(code.id)
                continue
            changes.append({"key": list(key), "before": None, "after": self._new_row(code.id, s, e),
                            "mine": True, "was_mine": False})
        where = "the whole unit" if fragment is None else f"\"{_short(self.text[s:e])}\""
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
            changes.append({"key": list(c.key), "before": _row(c), "after": None, "mine": False,
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
            target = self._current(key) if key else None
            if target is None and len(view.codings) == 1:
                target = view.codings[0].coding
            if target is None:
                raise CommandError("which coding? m N text (N is its #number under 'coded:')")
        text = text.strip()
        if not text:
            return Reply(f"memo of {target.code}: {target.memo or '(none)'}")
        memo = "" if text == "-" else text
        if memo == target.memo:
            return Reply("memo unchanged")
        after = {**_row(target), "memo": memo}
        mine = target.key in self.mine
        self._commit({"type": "memo", "unit": self.unit.index, "offset": self.unit.start, "kind": self.unit_kind,
                      "changes": [{"key": list(target.key), "before": _row(target), "after": after,
                                   "mine": mine, "was_mine": mine}]})
        self.counts["memos"] += 1
        return Reply(f"memo {'cleared' if not memo else 'saved'} on {target.code}", changed=True)

    def _new_code(self, spec: str) -> Reply:
        usage = 'usage: + Name: one-line definition   (optionally followed by "words of the unit")'
        name, colon, rest = spec.partition(":")
        name = " ".join(name.split())
        if not colon or not name:
            raise CommandError(usage)
        definition, fragment = self._split_quote(rest)
        definition = " ".join(definition.split())
        if not definition:
            raise CommandError("a new code needs a one-line definition after the colon; " + usage)
        code_id = slug(name)
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
                  "changes": [{"key": list(key), "before": None, "after": self._new_row(code_id, s, e),
                               "mine": True, "was_mine": False}]}
        self._commit(record)
        self.counts["codes"] += 1
        entry = next(e_ for e_ in self.code_list() if e_.code.id == code_id)
        where = "the whole unit" if fragment is None else f"\"{_short(self.text[s:e])}\""
        return Reply(f"new inductive code {entry.number} {code_id} added to {self.codebook_id}; coded on {where}{note}",
                     changed=True)

    # undo
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
        state = {c.key: _row(c) for c in self.codings}
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

    # review
    def _review_command(self, cmd: str, rest: str, line: str) -> Reply:
        if not self.suggestions:
            return Reply("no suggestions for this transcript in codings/auto.csv; q to quit", error=True)
        if line in ("s", "skip"):
            return self._move(+1)
        if line in ("a", "y", "accept", "yes"):
            return self._decide("accept")
        if line in ("r", "x", "reject", "no"):
            return self._decide("reject")
        if cmd in ("e", "edit"):
            return self._edit(rest)
        raise CommandError(f"unknown command {line!r} in review: a accept, r reject, e \"words\" edit, ? help")

    def _edit(self, arg: str) -> Reply:
        s0 = self.suggestions[self.rpos]
        turn = unit_at(self._turn_units, s0.start)
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
            _, fragment = self._split_quote(arg)
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
        state = {c.key: _row(c) for c in self.codings}
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
                       "memo": sug.memo, "coded_at": now_iso()}
                changes.append({"key": list(key), "before": None, "after": row, "mine": True, "was_mine": False})
                coding_key = list(key)
        self._commit({"type": "decide", "item": list(item), "item_index": self.rpos, "decision": decision,
                      "prev": prev, "coding": coding_key, "changes": changes})
        self.counts["decided"] += 1
        word = {"accept": "accepted", "reject": "rejected", "edit": "accepted with edited span"}[decision]
        msg = f"{word}: {sug.code}"
        if decision == "edit":
            msg += f" on \"{_short(self.text[span[0]:span[1]])}\""
        elif decision == "accept" and coding_key is None:
            msg += " (already in your codings)"
        nxt = self._next_undecided(self.rpos)
        if nxt is not None:
            self.rpos = nxt
            self._commit_nav()
            return Reply(msg, moved=True, changed=True)
        return Reply(msg + f"; all {len(self.suggestions)} suggestions decided, q to quit", changed=True)

    def _next_undecided(self, current: int) -> int | None:
        """The next suggestion without a decision after ``current`` (wrapping around), or None."""
        n = len(self.suggestions)
        for i in [*range(current + 1, n), *range(0, current + 1)]:
            if self.suggestions[i].key[1:] not in self.decisions:
                return i
        return None
