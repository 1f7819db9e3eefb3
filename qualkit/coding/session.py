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
The journal is :mod:`qualkit.coding.journal`; the state it restores and the saving are
:mod:`qualkit.coding.session_state`; the actions are :mod:`qualkit.coding.session_actions`;
this module is the command grammar (``execute``) and navigation.

Undo reverts the coder's last change (repeatedly), across runs, within the same mode (coding or
review); a coding changed since by something else is left as it is and reported. Codings the
coder made before this journal existed (earlier sessions, imports) cannot be undone, but they
are listed with each unit and can be deleted with ``d N`` (journaled, so that is undoable too).
"""
from __future__ import annotations

from types import TracebackType

from qualkit.coding.fragments import locate
from qualkit.coding.journal import JOURNAL_VERSION, SESSIONS_DIR, Journal, apply_changes, journal_path
from qualkit.coding.session_actions import CodingActions
from qualkit.coding.session_state import AUTO_CODER, REVIEW_SOURCES
from qualkit.coding.session_views import (
    CodeEntry,
    CodingView,
    CommandError,
    Reply,
    SuggestionView,
    UnitView,
)
from qualkit.errors import SessionError

__all__ = ["AUTO_CODER", "HELP_CODE", "HELP_REVIEW", "JOURNAL_VERSION", "REVIEW_SOURCES", "SESSIONS_DIR",
           "CodeEntry", "CodingSession", "CodingView", "CommandError", "Journal", "Reply", "SessionError",
           "SuggestionView", "UnitView", "apply_changes", "journal_path", "locate"]

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


class CodingSession(CodingActions):
    """One coder coding one transcript, unit by unit (or reviewing auto-coding suggestions).

    ``execute(line)`` runs one command; the state is saved before it returns. Call ``close()``
    when done (it marks a clean exit); a session that is never closed is recovered on next start.
    """

    def __enter__(self) -> CodingSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

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
