"""Adding, removing, querying and checking a workspace's codings (the library under `qualkit codings`).

Every change goes through :meth:`Workspace.write_codings`, which backs the coder's file up in
.qualkit/backups/ and replaces it atomically. A coding's ``text`` is always filled from the
transcript, so it can be re-anchored later (:mod:`qualkit.coding.reanchor`). pandas is imported only by
:func:`query_codings`.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qualkit.coding.reanchor import (
    DEFAULT_THRESHOLD,
    ReanchorReport,
    reanchor_codings,
    transcript_texts,
)
from qualkit.errors import QualkitError
from qualkit.workspace.codings import Coding, CodingError, check_against, now_iso
from qualkit.workspace.store import state_locked

if TYPE_CHECKING:
    import pandas as pd

    from qualkit.workspace.store import Workspace


def resolve_code(workspace: Workspace, code: str, index: dict | None = None) -> str:
    """The id of ``code`` given by id or by name (case-insensitive); unknown codes raise with a hint."""
    index = workspace.code_index() if index is None else index
    if code in index:
        return code
    folded = " ".join(str(code).split()).casefold()
    for cid, (_, c) in index.items():
        if " ".join(c.name.split()).casefold() == folded or cid.casefold() == folded:
            return cid
    hint = ""
    if index:
        from rapidfuzz import fuzz, process

        choices = {cid: f"{cid} {c.name}" for cid, (_, c) in index.items()}
        best = process.extractOne(str(code), choices, scorer=fuzz.WRatio, score_cutoff=60)
        if best:
            hint = f" (did you mean {best[2]!r}?)"
    else:
        hint = " (the workspace has no codebook yet)"
    raise CodingError(f"code {code!r} is not in any codebook{hint}")


def _validate_span(text: str, transcript_id: str, start, end) -> tuple[int, int]:
    try:
        s, e = int(start), int(end)
    except (TypeError, ValueError):
        raise CodingError(f"start and end must be whole numbers, got {start!r} and {end!r}") from None
    if s < 0 or e <= s:
        raise CodingError(f"span {s}-{e} is empty or reversed")
    if e > len(text):
        raise CodingError(f"span {s}-{e} ends past the end of {transcript_id} ({len(text)} characters)")
    return s, e


@state_locked
def add_coding(workspace: Workspace, coder: str, transcript_id: str, start: int, end: int, code: str,
               memo: str = "") -> tuple[Coding, bool]:
    """Code ``text[start:end]`` of a transcript with ``code`` (id or name) for ``coder``.

    Returns ``(coding, added)``: ``added`` is False when the same code was already on the same
    span (nothing is written then). The quote and ``coded_at`` are filled in.
    """
    workspace.coder_file(coder)  # validates the coder name
    existing = workspace.codings(coder)
    text = workspace.transcript(transcript_id).text
    s, e = _validate_span(text, transcript_id, start, end)
    code_id = resolve_code(workspace, code)
    coding = Coding(transcript_id, s, e, code_id, text[s:e], memo or "", now_iso())
    for c in existing:
        if c.key == coding.key:
            return c, False
    workspace.write_codings(coder, [*existing, coding])
    return coding, True


@state_locked
def remove_coding(workspace: Workspace, coder: str, transcript_id: str, start: int, end: int, code: str) -> Coding:
    """Remove ``coder``'s coding of ``code`` (id or name) on that span; returns what was removed.

    A coding that does not exist raises :class:`CodingError` (nothing is written).
    """
    path = workspace.coder_file(coder)
    existing = workspace.codings(coder)
    key_code = code
    if not any(c.code == code for c in existing):
        try:
            key_code = resolve_code(workspace, code)
        except CodingError:
            key_code = code
    try:
        key = (transcript_id, int(start), int(end), key_code)
    except (TypeError, ValueError):
        raise CodingError(f"start and end must be whole numbers, got {start!r} and {end!r}", path) from None
    kept = [c for c in existing if c.key != key]
    removed = [c for c in existing if c.key == key]
    if not removed:
        raise CodingError(f"{coder} has no coding {key_code!r} on {transcript_id} {start}-{end}", path)
    workspace.write_codings(coder, kept)
    return removed[0]


def _turn_at(turns, ends: list[int], pos: int):
    """The turn a position starts in: the turn containing it, else the next one (a label before it)."""
    i = bisect.bisect_right(ends, pos)
    return turns[i] if i < len(turns) else (turns[-1] if turns else None)


QUERY_COLUMNS = ["coder", "transcript", "start", "end", "code", "code_name", "text", "memo", "coded_at",
                 "turn", "speaker", "participant_id", "line"]


def query_codings(workspace: Workspace, coders: Iterable[str] | None = None, transcript: str | None = None,
                  code: str | None = None) -> pd.DataFrame:
    """Codings as a DataFrame, filtered by coder(s), transcript id and code (id or name).

    Columns: coder, transcript, start, end, code, code_name, text, memo, coded_at, and the turn
    (numbered from 1), speaker and participant_id of the turn each coding starts in (empty when the
    transcript cannot be read), and the coding's line in its CSV file.
    """
    import pandas as pd

    from qualkit.workspace.codebook import CodebookError

    try:
        index = workspace.code_index()
    except CodebookError:
        index = {}
    if coders is None:
        coders = workspace.coders()
    elif isinstance(coders, str):
        coders = [coders]
    code_id = None
    if code is not None:
        try:
            code_id = resolve_code(workspace, code, index)
        except CodingError:
            code_id = code  # codings may use a code no codebook defines yet
    records = []
    by_transcript: dict[str, list[tuple[str, Coding]]] = {}
    for coder in coders:
        for c in workspace.codings(coder):
            if transcript is not None and c.transcript != transcript:
                continue
            if code_id is not None and c.code != code_id:
                continue
            by_transcript.setdefault(c.transcript, []).append((coder, c))
    for tid in sorted(by_transcript):
        turns, ends = [], []
        try:
            t = workspace.transcript(tid)
            turns, ends = t.turns, [turn.end for turn in t.turns]
        except QualkitError:
            pass
        for coder, c in by_transcript[tid]:
            turn = _turn_at(turns, ends, c.start) if turns else None
            name = index[c.code][1].name if c.code in index else None
            records.append({"coder": coder, "transcript": c.transcript, "start": c.start, "end": c.end,
                            "code": c.code, "code_name": name, "text": c.text, "memo": c.memo,
                            "coded_at": c.coded_at, "turn": turn.index + 1 if turn else None,
                            "speaker": turn.speaker if turn else None,
                            "participant_id": turn.participant if turn else None, "line": c.line})
    df = pd.DataFrame.from_records(records, columns=QUERY_COLUMNS)
    if not df.empty:
        df = df.sort_values(["transcript", "start", "end", "code", "coder"], kind="stable").reset_index(drop=True)
    return df


# -- checking ----------------------------------------------------------------------------------

@dataclass
class CoderCheck:
    """One coder's file: validation problems and what re-anchoring found (or why it could not run)."""

    coder: str
    path: Path
    codings: int = 0
    problems: list[QualkitError] = field(default_factory=list)
    reanchor: ReanchorReport | None = None
    error: QualkitError | None = None  # the file itself could not be read

    @property
    def ok(self) -> bool:
        if self.error is not None or self.problems:
            return False
        return self.reanchor is None or not (self.reanchor.lost or self.reanchor.ambiguous
                                             or (self.reanchor.changed and not self.reanchor.applied))

    def as_dict(self) -> dict:
        return {"coder": self.coder, "path": str(self.path), "codings": self.codings, "ok": self.ok,
                "error": str(self.error) if self.error else None,
                "problems": [{"path": str(p.path) if p.path else None, "line": p.line, "message": p.message} for p in self.problems],
                "reanchor": self.reanchor.as_dict() if self.reanchor else None}


@dataclass
class CheckReport:
    coders: list[CoderCheck] = field(default_factory=list)
    fixed: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.coders)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "fixed": self.fixed, "coders": [c.as_dict() for c in self.coders]}


def check_codings(workspace: Workspace, coders: Iterable[str] | None = None, *, fix: bool = False,
                  threshold: float = DEFAULT_THRESHOLD) -> CheckReport:
    """Check every coder's file (or ``coders``): rows that do not fit (unknown transcript, span
    outside it, unknown code) and codings whose quote moved or is lost.

    With ``fix=True`` moved and fuzzy codings are re-anchored and the file rewritten (backup first);
    validation problems are then reported for the rewritten file. Lost codings are never removed.
    """
    if fix:  # rewrites: read and written under the workspace lock, every coder's file in one transaction
        with workspace.one_change():
            return _check_codings(workspace, coders, fix, threshold)
    return _check_codings(workspace, coders, fix, threshold)


def _check_codings(workspace: Workspace, coders: Iterable[str] | None, fix: bool, threshold: float) -> CheckReport:
    available = workspace.coders()
    names = list(coders) if coders is not None else available
    for name in names:
        workspace.coder_file(name)  # a malformed name is an error
        if name not in available:
            raise CodingError(f"no codings file for coder {name!r} (coders: {', '.join(available) or 'none'})",
                              workspace.codings_dir)
    code_ids = set(workspace.code_index())
    report = CheckReport(fixed=fix)
    texts_all: dict[str, str] = {}
    unreadable_all: dict[str, str] = {}
    for name in names:
        path = workspace.coder_file(name)
        check = CoderCheck(name, path)
        report.coders.append(check)
        try:
            codings = workspace.codings(name)
        except QualkitError as exc:
            check.error = exc
            continue
        check.codings = len(codings)
        wanted = {c.transcript for c in codings} - set(texts_all) - set(unreadable_all)
        texts, unreadable = transcript_texts(workspace, wanted)
        texts_all.update(texts)
        unreadable_all.update(unreadable)
        results = reanchor_codings(codings, texts_all, threshold=threshold, unreadable=unreadable_all)
        check.reanchor = ReanchorReport(name, path, results)
        if fix and check.reanchor.changed:
            codings = [r.updated() for r in results]
            workspace.write_codings(name, codings)
            check.reanchor.applied = True
        # Quotes are re-anchoring's business; validation covers transcripts, spans and codes.
        blank = [replace(c, text="") for c in codings]
        known = {tid: text for tid, text in texts_all.items()}
        problems = check_against(blank, known, code_ids, path)
        for p in problems:
            tid = next((c.transcript for c in codings if c.line == p.line), None)
            if tid in unreadable_all and "is not in transcripts/" in p.message:
                p.message = f"transcript {tid!r} could not be read: {unreadable_all[tid]}"
        check.problems = list(problems)
    return report
