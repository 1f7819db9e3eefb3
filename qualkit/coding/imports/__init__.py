"""Importing codings made elsewhere: spreadsheets (:mod:`.sheet`), Word comments (:mod:`.word_comments`).

Shared here: matching a code as people write it to a codebook code (:class:`CodeMatcher`), the
result every importer returns (:class:`ImportResult`) and the one way results are written
(:func:`commit`).

The policy is the same for every importer: nothing is dropped silently. Each input item (row,
comment) is either placed (maybe with a note: a guessed code, a fuzzy or ambiguous match),
skipped as an exact duplicate of a coding the coder already has, or listed as unplaceable with
its position and the reason. When anything is unplaceable nothing is written, unless the caller
asks for a ``partial`` import, which writes the placeable items and still lists the others.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import ImportFileError  # noqa: F401  (re-exported: defined with every other error in qualkit.errors)
from qualkit.workspace.codebook import Code
from qualkit.workspace.codings import Coding
from qualkit.workspace.store import Workspace

DEFAULT_CODE_THRESHOLD = 85.0

# -- codes -------------------------------------------------------------------------------------

def _key(text: str) -> str:
    """A code id or name reduced for comparison: case, accents, separators and punctuation folded."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[\s_\-./\\:&+]+", " ", text)
    text = re.sub(r"[^\w ]", "", text)
    return " ".join(text.split())


@dataclass
class CodeMatch:
    """A code written as ``raw`` matched to ``code`` (a :class:`~qualkit.workspace.codebook.Code`)."""

    raw: str
    code: Code
    method: str  # id | name | normalized | path | fuzzy
    score: float = 100.0

    @property
    def guessed(self) -> bool:
        """Whether the match is a fuzzy guess (reported to the user)."""
        return self.method == "fuzzy"

    def note(self) -> str:
        """What the guess was, for the import report."""
        return f"code {self.raw!r} read as {self.code.id!r} ({self.code.name}; similarity {self.score:.0f})"


class CodeMatcher:
    """Matches code names as coders write them to codes: exact id, exact name, case-insensitive,
    separator/punctuation-insensitive, the last part of a path (``Parent > Child``, ``A\\B``),
    then rapidfuzz similarity of at least ``threshold`` (a guess, reported)."""

    def __init__(self, codes: Iterable[Code], threshold: float = DEFAULT_CODE_THRESHOLD) -> None:
        self.codes = list(codes)
        self.threshold = threshold
        self._index()

    def _index(self) -> None:
        self._by_id = {c.id: c for c in self.codes}
        self._by_name: dict[str, Code] = {}
        self._by_fold: dict[str, Code] = {}
        self._by_key: dict[str, list[Code]] = {}
        for c in self.codes:
            self._by_name.setdefault(c.name, c)
            for s in (c.id, c.name):
                self._by_fold.setdefault(" ".join(s.split()).casefold(), c)
                self._by_key.setdefault(_key(s), [])
                if c not in self._by_key[_key(s)]:
                    self._by_key[_key(s)].append(c)

    def add(self, code: Code) -> None:
        """Make a new code matchable (one just added to a codebook)."""
        self.codes = [*self.codes, code]
        self._index()

    def known(self, raw: str) -> bool:
        """Whether ``raw`` names a code without guessing (id or name, case/separators aside)."""
        return self._direct(" ".join(str(raw).split())) is not None

    def match(self, raw: str) -> tuple[CodeMatch | None, str]:
        """(match, "") or (None, reason)."""
        raw = " ".join(str(raw).split())
        if not raw:
            return None, "no code given"
        m = self._direct(raw)
        if m:
            return m, ""
        parts = [p.strip() for p in re.split(r"\s*(?:>|\\|::|/)\s*", raw) if p.strip()]
        if len(parts) > 1:
            m = self._direct(parts[-1])
            if m:
                return CodeMatch(raw, m.code, "path", m.score), ""
        return self._fuzzy(raw)

    def _direct(self, raw: str) -> CodeMatch | None:
        if raw in self._by_id:
            return CodeMatch(raw, self._by_id[raw], "id")
        if raw in self._by_name:
            return CodeMatch(raw, self._by_name[raw], "name")
        folded = raw.casefold()
        if folded in self._by_fold:
            return CodeMatch(raw, self._by_fold[folded], "name")
        found = self._by_key.get(_key(raw), [])
        if len(found) == 1:
            return CodeMatch(raw, found[0], "normalized")
        return None

    def _fuzzy(self, raw: str) -> tuple[CodeMatch | None, str]:
        if not self.codes:
            return None, f"unknown code {raw!r} (there are no codes to match it to)"
        from rapidfuzz import fuzz

        key = _key(raw)
        scored: dict[str, tuple[float, Code]] = {}
        for c in self.codes:
            s = max(fuzz.ratio(key, _key(c.id)), fuzz.ratio(key, _key(c.name)))
            if c.id not in scored or s > scored[c.id][0]:
                scored[c.id] = (s, c)
        ranked = sorted(scored.values(), key=lambda t: -t[0])
        best_score, best = ranked[0]
        if best_score >= self.threshold:
            if len(ranked) > 1 and ranked[1][0] >= best_score - 2:
                other = ranked[1][1]
                return None, (f"code {raw!r} is ambiguous: as close to {best.id!r} as to {other.id!r}")
            return CodeMatch(raw, best, "fuzzy", round(best_score, 1)), ""
        hint = f" (closest: {best.id!r} {best.name!r}, similarity {best_score:.0f})" if best_score >= 50 else ""
        return None, f"unknown code {raw!r}{hint}"


def new_code_id(name: str, taken: Iterable[str]) -> str:
    """A snake_case code id for ``name`` not among ``taken``."""
    from qualkit.workspace.codebook import ID_RE

    base = re.sub(r"[^a-z0-9]+", "_", _key(name)).strip("_")[:40].strip("_") or "code"
    if not ID_RE.match(base):
        base = f"code_{base}"
    taken = set(taken)
    cid, n = base, 2
    while cid in taken:
        cid, n = f"{base}_{n}", n + 1
    return cid


# -- results -----------------------------------------------------------------------------------

@dataclass
class Placed:
    """An input item turned into a coding; ``where`` says which (``row 5``, ``comment 3``)."""

    coding: Coding
    where: str
    line: int | None
    method: str  # how the text was found: exact | normalized | elided | fuzzy | anchored
    score: float = 100.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        c = self.coding
        return {"where": self.where, "line": self.line, "transcript": c.transcript, "start": c.start, "end": c.end,
                "code": c.code, "text": c.text, "memo": c.memo, "method": self.method, "score": self.score,
                "notes": list(self.notes)}


@dataclass
class Unplaced:
    """An input item that could not be imported, and why."""

    where: str
    line: int | None
    reason: str

    def as_dict(self) -> dict:
        return {"where": self.where, "line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    """What an import found and did. ``written`` is True only when the coder's file was rewritten."""

    source: Path
    coder: str
    target: Path
    placed: list[Placed] = field(default_factory=list)
    duplicates: list[Placed] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    added_codes: list = field(default_factory=list)  # Codes created (Word comments --add-missing)
    codebook_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    partial: bool = False
    written: bool = False
    marked: list[str] = field(default_factory=list)  # transcripts marked done for the coder (``done=True``)

    @property
    def ok(self) -> bool:
        """Everything in the input was placed (or was a duplicate)."""
        return not self.unplaced

    def messages(self) -> list[str]:
        """One ``file:line: reason`` (or ``file: comment 3 ...: reason``) line per unplaceable item."""
        out = []
        for u in self.unplaced:
            if u.line is not None:
                label = "" if u.where == f"row {u.line}" else f"{u.where}: "
                out.append(f"{self.source}:{u.line}: {label}{u.reason}")
            else:
                out.append(f"{self.source}: {u.where}: {u.reason}")
        return out

    def as_dict(self) -> dict:
        return {"source": str(self.source), "coder": self.coder, "target": str(self.target),
                "written": self.written, "dry_run": self.dry_run, "partial": self.partial,
                "placed": [p.as_dict() for p in self.placed], "duplicates": [p.as_dict() for p in self.duplicates],
                "unplaced": [u.as_dict() for u in self.unplaced],
                "added_codes": [{"id": c.id, "name": c.name} for c in self.added_codes],
                "codebook": str(self.codebook_path) if self.codebook_path else None, "notes": list(self.notes)}


def split_duplicates(result: ImportResult, existing: list[Coding]) -> None:
    """Move placed items that repeat an existing coding (or an earlier item) to ``duplicates``."""
    seen = {c.key for c in existing}
    kept: list[Placed] = []
    for p in result.placed:
        if p.coding.key in seen:
            result.duplicates.append(p)
        else:
            seen.add(p.coding.key)
            kept.append(p)
    result.placed = kept


def may_write(result: ImportResult) -> bool:
    """Whether the import policy allows writing: not a dry run, and complete or ``partial``."""
    return not result.dry_run and (result.ok or result.partial)


def commit(workspace: Workspace, result: ImportResult, existing: list[Coding], done: bool = False) -> None:
    """Append the placed codings to the coder's file (backup first) if the policy allows; with
    ``done``, a complete import also marks its transcripts done for the coder. One transaction
    with whatever else the import writes (a codebook): a kill leaves all of it or none."""
    from qualkit.coding.coverage import mark_done

    if not may_write(result):
        return
    with workspace.one_change():
        if result.placed:
            workspace.write_codings(result.coder, [*existing, *(p.coding for p in result.placed)])
            result.written = True
        if done and result.ok:
            for tid in sorted({p.coding.transcript for p in (*result.placed, *result.duplicates)}):
                mark_done(workspace, tid, result.coder)
                result.marked.append(tid)
