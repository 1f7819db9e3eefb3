"""Importing codings from a spreadsheet (CSV or XLSX): one row per coded excerpt.

Columns (header names are case-insensitive; the first of these found is used):

- transcript: ``transcript``, ``document``, ``file``, ``source``, ``interview`` (+ ``name``/``id``
  variants); the value is a transcript id or a file name (``int1.docx`` -> ``int1``);
- code: ``code``, ``code name``, ``code id``, ``label``, ``tag``, ``category``, ``node``; by id or
  name (see :class:`~qualkit.coding.imports.CodeMatcher`);
- excerpt: ``excerpt``, ``quote``, ``quotation``, ``segment``, ``coded segment``, ``text``,
  ``coded text``, ``passage``, ``selection``, ``content``;
- memo (optional): ``memo``, ``note(s)``, ``comment(s)``, ``annotation``.

The header is the first row (within the first ten) naming these columns; other columns are
ignored and reported. Each excerpt is placed in its transcript: exact; then ignoring whitespace
and typographic quotes/dashes/ellipses; then, for a quote shortened with "...", its first and
last part; then a rapidfuzz match scoring at least ``threshold`` (default 90). Several
occurrences: the first not already coded with that code, reported as ambiguous. The coding's
``text`` is always the transcript's own slice.

Policy (see :mod:`qualkit.coding.imports`): any unplaceable row means nothing is written, unless
``partial=True``; exact duplicates of existing codings are skipped and counted.
"""
from __future__ import annotations

import re
from pathlib import Path

from qualkit.coding.imports import (
    DEFAULT_CODE_THRESHOLD,
    CodeMatcher,
    ImportFileError,
    ImportResult,
    Placed,
    Unplaced,
    commit,
    split_duplicates,
)
from qualkit.coding.reanchor import DEFAULT_THRESHOLD, QuoteFinder
from qualkit.errors import QualkitError
from qualkit.io.naming import file_kind
from qualkit.workspace.codings import Coding, now_iso
from qualkit.workspace.store import Workspace, state_locked

HEADER_SCAN_ROWS = 10
MAX_CELL_CHARS = 100_000

# role -> header names in order of preference
COLUMNS: dict[str, tuple[str, ...]] = {
    "transcript": ("transcript", "transcript id", "transcript name", "document", "document name", "document id",
                   "doc", "file", "file name", "filename", "source", "source file", "interview", "interview id"),
    "code": ("code", "code id", "code name", "codes", "label", "tag", "category", "node", "node name"),
    "excerpt": ("excerpt", "quote", "quotation", "segment", "coded segment", "text", "coded text", "segment text",
                "excerpt text", "passage", "selection", "content"),
    "memo": ("memo", "memos", "note", "notes", "comment", "comments", "annotation"),
}
REQUIRED = ("transcript", "code", "excerpt")


def _header_key(cell: str) -> str:
    text = str(cell).replace("\ufeff", "").casefold()
    text = re.sub(r"[_\-]+", " ", text)
    text = re.sub(r"[^\w ]", "", text)
    return " ".join(text.split())


def _roles(header: list[str]) -> dict[str, int]:
    """Column index of each role found in a header row (preferring earlier synonyms)."""
    keys = [_header_key(h) for h in header]
    found: dict[str, int] = {}
    used: set[int] = set()
    for role, names in COLUMNS.items():
        for name in names:
            hits = [i for i, k in enumerate(keys) if k == name and i not in used]
            if hits:
                found[role] = hits[0]
                used.add(hits[0])
                break
    return found


# -- reading files ---------------------------------------------------------------------------

def _read_csv(path: Path) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """(start line, cells) per record, and notes (encoding, delimiter)."""
    from qualkit.io.tables import read_csv

    table = read_csv(path, error_cls=ImportFileError, score=lambda recs: len(_roles(recs[0])) if recs else 0)
    return [(r.line, r.cells) for r in table.rows], list(table.warnings)


def _read_xlsx(path: Path) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """Rows of the first sheet (the active one first) that has a recognizable header."""
    from qualkit.io.tables import read_xlsx

    table = read_xlsx(path, error_cls=ImportFileError, kind="an Excel .xlsx file", not_zip_hint="; save it as .xlsx or CSV",
                      accept=lambda rows: bool(_find_header([(r.line, r.cells) for r in rows])[1]), active_first=True)
    rows = [(r.line, r.cells) for r in table.rows]
    notes = [f"read sheet {table.sheet!r}"] if len(table.sheets) > 1 and _find_header(rows)[1] else []
    return rows, notes


def _find_header(rows: list[tuple[int, list[str]]]) -> tuple[int | None, dict[str, int]]:
    """(index into rows, roles) of the header: the first of the first rows naming all required
    columns, else the first naming two or more, else the first non-empty row."""
    candidates = [(k, _roles(cells)) for k, (_, cells) in enumerate(rows) if any(c.strip() for c in cells)]
    candidates = candidates[:HEADER_SCAN_ROWS]
    for k, roles in candidates:
        if all(r in roles for r in REQUIRED):
            return k, roles
    for k, roles in candidates:
        if len(roles) >= 2:
            return k, roles
    return (candidates[0][0], candidates[0][1]) if candidates else (None, {})


def read_sheet(path: str | Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The data rows of a CSV/XLSX coding sheet as (row number, {role: value}), and notes.

    A missing required column raises :class:`ImportFileError` naming the file and header row.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file" if not path.exists() else "is a folder, not a file", path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, notes = _read_xlsx(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows, notes = _read_csv(path)
    elif suffix == ".xls":
        raise ImportFileError("old Excel .xls files are not supported: save it as .xlsx or CSV", path)
    else:
        raise ImportFileError(f"cannot import {file_kind(path)}: give a .csv or .xlsx file", path)
    k, roles = _find_header(rows)
    if k is None:
        raise ImportFileError("the file is empty (no header row)", path, 1)
    header_line, header = rows[k]
    missing = [r for r in REQUIRED if r not in roles]
    if missing:
        found = ", ".join(repr(h) for h in header if str(h).strip()) or "none"
        names = "; ".join(f"{r}: {'/'.join(COLUMNS[r][:4])}" for r in missing)
        raise ImportFileError(f"missing column(s) {', '.join(missing)} in the header row (found {found}; "
                              f"accepted names: {names})", path, header_line)
    ignored = [h for i, h in enumerate(header) if str(h).strip() and i not in roles.values()]
    if ignored:
        notes.append(f"ignored column(s): {', '.join(ignored)}")
    out = []
    for line, cells in rows[k + 1:]:
        if not any(str(c).strip() for c in cells):
            continue
        values = {r: (cells[i] if i < len(cells) else "") for r, i in roles.items()}
        out.append((line, values))
    return out, notes


# -- placing rows ----------------------------------------------------------------------------

class _Transcripts:
    """Transcript ids as spreadsheets write them (id, file name, path, any case), read once each."""

    def __init__(self, workspace):
        from qualkit.transcripts import SUPPORTED_EXTENSIONS

        self.ws = workspace
        self.ext = set(SUPPORTED_EXTENSIONS)
        self.paths: dict[str, list[Path]] = {}
        for p in workspace.transcript_paths():
            self.paths.setdefault(p.stem, []).append(p)
        self.folded = {k.casefold(): k for k in self.paths}
        self.cache: dict[str, object] = {}

    def resolve(self, value: str) -> tuple[str | None, str]:
        v = value.strip().replace("\\", "/").rsplit("/", 1)[-1].strip()
        candidates = [v]
        if Path(v).suffix.lower() in self.ext:
            candidates.append(Path(v).stem)
        for c in candidates:
            if c in self.paths:
                return c, ""
        for c in candidates:
            if c.casefold() in self.folded:
                return self.folded[c.casefold()], ""
        known = sorted(self.paths)
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "") if known else "none"
        return None, f"unknown transcript {value.strip()!r} (transcripts: {shown})"

    def get(self, tid: str):
        """(Transcript, None) or (None, reason)."""
        if tid not in self.cache:
            found = self.paths[tid]
            if len(found) > 1:
                self.cache[tid] = f"two transcripts have the id {tid!r}: {', '.join(p.name for p in found)}"
            else:
                try:
                    self.cache[tid] = self.ws.read(found[0])
                except QualkitError as exc:
                    self.cache[tid] = f"transcript {tid!r} could not be read: {exc}"
        value = self.cache[tid]
        return (None, value) if isinstance(value, str) else (value, "")


def place_excerpt(finder: QuoteFinder, excerpt: str, coded: set[tuple[int, int]],
                  threshold: float = DEFAULT_THRESHOLD) -> tuple[tuple[int, int, str, float] | None, list[str]]:
    """((start, end, method, score) or None, notes) for an excerpt in a transcript.

    Several occurrences: the first not in ``coded`` (spans already holding the code).
    """
    for method, find in (("exact", finder.exact), ("normalized", finder.normalized), ("elided", finder.elided)):
        spans = find(excerpt)
        if spans:
            free = [s for s in spans if s not in coded]
            chosen = free[0] if free else spans[0]
            notes = []
            if len(spans) > 1:
                notes.append(f"ambiguous: the excerpt occurs {len(spans)} times; used the "
                             f"{'first not yet coded with this code' if free else 'first'} (at {chosen[0]})")
            return (chosen[0], chosen[1], method, 100.0), notes
    m = finder.fuzzy(excerpt, threshold=threshold, exclude=coded)
    if m is None:
        m = finder.fuzzy(excerpt, threshold=threshold)
    if m is not None:
        return (m.start, m.end, "fuzzy", m.score), [f"fuzzy match (similarity {m.score:.0f})"]
    return None, []


@state_locked
def import_sheet(workspace: Workspace, path: str | Path, coder: str, *, codebook: str | None = None, partial: bool = False,
                 dry_run: bool = False, threshold: float = DEFAULT_THRESHOLD,
                 code_threshold: float = DEFAULT_CODE_THRESHOLD, done: bool = False) -> ImportResult:
    """Import a CSV/XLSX of coded excerpts into ``coder``'s codings file (``done``: and mark the
    imported transcripts done for the coder, in the same transaction).

    Returns an :class:`~qualkit.coding.imports.ImportResult`; unplaceable rows are in ``unplaced`` and
    then nothing is written unless ``partial``. Unreadable files and missing columns raise.
    """
    path = Path(path)
    target = workspace.coder_file(coder)
    existing = workspace.codings(coder)
    rows, notes = read_sheet(path)
    if codebook is not None:
        codes = workspace.codebook(codebook).codes
    else:
        codes = [c for _, c in workspace.code_index().values()]
    if not codes:
        raise ImportFileError("there are no codes to match the code column to: create or import a codebook first",
                              workspace.codebooks_dir)
    matcher = CodeMatcher(codes, code_threshold)
    transcripts = _Transcripts(workspace)
    result = ImportResult(path, coder, target, notes=notes, dry_run=dry_run, partial=partial)
    coded: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for c in existing:
        coded.setdefault((c.transcript, c.code), set()).add((c.start, c.end))
    finders: dict[str, QuoteFinder] = {}
    stamp = now_iso()
    for line, values in rows:
        where = f"row {line}"

        def fail(reason: str, where: str = where, line: int = line) -> None:
            result.unplaced.append(Unplaced(where, line, reason))

        raw_t, raw_code = values.get("transcript", "").strip(), values.get("code", "").strip()
        excerpt = values.get("excerpt", "").strip()
        if not raw_t or not raw_code or not excerpt:
            blank = [r for r, v in (("transcript", raw_t), ("code", raw_code), ("excerpt", excerpt)) if not v]
            fail(f"blank {', '.join(blank)}")
            continue
        if len(excerpt) > MAX_CELL_CHARS:
            fail(f"excerpt is longer than {MAX_CELL_CHARS} characters")
            continue
        tid, why = transcripts.resolve(raw_t)
        if tid is None:
            fail(why)
            continue
        transcript, why = transcripts.get(tid)
        if transcript is None:
            fail(why)
            continue
        match, why = matcher.match(raw_code)
        if match is None:
            fail(why)
            continue
        code_id = match.code.id
        taken = coded.setdefault((tid, code_id), set())
        finder = finders.setdefault(tid, QuoteFinder(transcript.text))
        found, place_notes = place_excerpt(finder, excerpt, taken, threshold)
        if found is None:
            short = excerpt if len(excerpt) <= 60 else excerpt[:57] + "..."
            fail(f"excerpt {short!r} not found in {tid} (no exact, normalized or fuzzy match scoring {threshold:g}+)")
            continue
        start, end, method, score = found
        taken.add((start, end))
        notes_row = place_notes
        if match.guessed:
            notes_row.insert(0, match.note())
        coding = Coding(tid, start, end, code_id, transcript.text[start:end], values.get("memo", "").strip(), stamp)
        result.placed.append(Placed(coding, where, line, method, score, notes_row))
    split_duplicates(result, existing)
    commit(workspace, result, existing, done)
    return result
