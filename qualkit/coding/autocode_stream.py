"""Auto-coding a study a batch of transcripts at a time, so that a command holds a few, not the study.

Transcripts come in as ingest reads them (:func:`qualkit.workspace.ingest.ingest` with ``visit``);
their turns to code are gathered into batches of about ``BATCH_CHARS`` characters, and each batch is
matched (:mod:`qualkit.coding.autocode_batch`, :class:`~qualkit.coding.autocode_matcher.AutoCoder`)
here or, once the study proves large enough, in forked worker processes
(:func:`qualkit.io.parallel.parallel_feed`). A batch comes back as each transcript's rows of the coder's
CSV file, which go to a private temporary file (:class:`Spool`) and are copied into the coder's file in
transcript order at the end: the file is byte for byte what writing every coding at once gives, while
the command holds one batch's suggestions at a time (at 5,000 interviews, half a million codings
and their quotes were a third of the command's memory, and every transcript another third).
"""
from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from qualkit.coding.autocode_matcher import KINDS, AutoCoder, Match
from qualkit.workspace.codings import Coding

if TYPE_CHECKING:
    from qualkit.coding.nlp import Pipeline
    from qualkit.transcripts.model import Transcript
    from qualkit.workspace.store import Workspace

__all__ = ["BATCH_CHARS", "MEMO_MAX_TERMS", "MEMO_PREFIX", "CodeCount", "Spool", "Stream", "code_batch", "csv_header",
           "no_gc", "run"]

MEMO_PREFIX = "autocode"
MEMO_MAX_TERMS = 8

BATCH_CHARS = 1_000_000  # turn text per batch (about 30 interviews): a batch's suggestions are what is held

_Item = tuple[str, str, list[tuple[int, int]]]  # a transcript to code: id, text, (start, end) of its turns to code
_Turn = tuple[str, str, int, int]  # transcript id, its text, the turn's start and end
_Row = tuple[int, int, str, str]  # a coding as a batch sends it back: start, end, code, memo (the quote is cut here)
# per transcript: id, number of codings, its rows of the CSV file (when written), its codings as rows (when kept)
_Coded = tuple[str, int, "str | None", "list[_Row] | None"]
_Done = tuple[list[_Coded], dict[str, "CodeCount"], dict[str, tuple[str, float, int]]]
_WORK: dict[str, Any] = {}  # what a batch is coded with: set for the run (forked workers read it), cleared after


@dataclass
class CodeCount:
    """Per code: units coded and matches of each kind."""

    code: str
    name: str
    units: int = 0
    matches: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})

    def as_dict(self) -> dict[str, Any]:
        """The counts as one flat record (``--json``)."""
        return {"code": self.code, "name": self.name, "units": self.units, **self.matches}


def csv_header() -> str:
    """The header line of a codings CSV file, as :func:`qualkit.workspace.codings.codings_csv_chunks` writes it."""
    from qualkit.workspace.codings import codings_csv_chunks

    return next(codings_csv_chunks([]))


def _csv_rows(codings: list[Coding], header: str) -> str:
    """The CSV rows of ``codings`` (one transcript's), without the header."""
    from qualkit.workspace.codings import codings_csv_chunks

    text = "".join(codings_csv_chunks(codings))
    return text[len(header):]


class Spool:
    """Each transcript's CSV rows as they are made, in a private temporary file (no name, removed when
    closed) beside the coder's file; :meth:`copy_to` writes them out in transcript order."""

    def __init__(self, folder: Path):
        import tempfile

        folder.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] = tempfile.TemporaryFile(dir=folder)
        self._parts: list[tuple[str, int, int]] = []  # transcript id, offset, length
        self._size = 0

    def add(self, transcript: str, rows: str) -> None:
        data = rows.encode("utf-8")
        self._fh.write(data)
        self._parts.append((transcript, self._size, len(data)))
        self._size += len(data)

    def copy_to(self, out: IO[bytes], piece: int = 1 << 20) -> None:
        """Every transcript's rows into ``out``, in the order of transcript ids, ``piece`` bytes at a time."""
        fh = self._fh
        fh.flush()
        for _tid, offset, length in sorted(self._parts):
            fh.seek(offset)
            while length > 0:
                data = fh.read(min(piece, length))
                out.write(data)
                length -= len(data)

    def close(self) -> None:
        self._fh.close()


class Stream:
    """Takes transcripts one at a time (:meth:`add`), codes their turns batch by batch, and keeps what
    comes back: counts and corrections into ``result``, each transcript's CSV rows into ``spool``, and
    the codings themselves into ``result.codings`` when ``keep``. Use it as a context manager."""

    def __init__(self, ws: Workspace, result: Any, *, include_facilitators: bool, jobs: int,
                 parallel_min_chars: int, spool: Spool | None, keep: bool):
        self.result, self.include_facilitators, self.spool, self.keep = result, include_facilitators, spool, keep
        self.jobs, self.parallel_min_chars = jobs, parallel_min_chars
        self._table = ws.participant_table
        self._team: dict[str | None, bool] = {}  # a few participants, many turns: ask once each
        self._batch: list[_Item] = []
        self._chars = 0
        self._held: list[list[_Item]] | None = []  # batches kept until the study proves large enough for workers
        self._held_chars = 0
        self._put: Callable[[list[_Item]], None] | None = None
        self._stack = ExitStack()

    def __enter__(self) -> Stream:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:  # what is waiting is dropped, the pool closed
            self._stack.__exit__(*exc)
            return
        with self._stack:  # (closed with whatever the last batches raise)
            self._flush()
            if self._held is not None:  # a small study: coded here
                self._start(1)

    def add(self, t: Transcript) -> None:
        """Queue ``t``'s turns to code (non-empty; the research team's only with ``include_facilitators``)."""
        table, team, result = self._table, self._team, self.result
        spans = []
        for turn in t.turns:
            who = turn.participant
            is_team = team[who] if who in team else team.setdefault(who, table.is_facilitator(who))
            if not self.include_facilitators and is_team:
                result.skipped_facilitator_turns += 1
            elif turn.end > turn.start:
                spans.append((turn.start, turn.end))
                self._chars += turn.end - turn.start
        result.transcripts += 1
        result.turns += len(spans)
        if spans:
            self._batch.append((t.id, t.text, spans))
        if self._chars >= BATCH_CHARS:
            self._flush()

    def _flush(self) -> None:
        batch, self._batch, chars, self._chars = self._batch, [], self._chars, 0
        if not batch:
            return
        if self._put is not None:
            self._put(batch)
            return
        assert self._held is not None
        self._held.append(batch)
        self._held_chars += chars
        if self._held_chars >= self.parallel_min_chars or self.jobs <= 1:
            self._start(self.jobs)

    def _start(self, jobs: int) -> None:
        """Code the batches held so far and every later one, in ``jobs`` processes."""
        from qualkit.io.parallel import parallel_feed

        held, self._held = self._held or [], None
        self._put = self._stack.enter_context(parallel_feed(code_batch, jobs, self._take))
        for batch in held:
            self._put(batch)

    def _take(self, batch: list[_Item], done: _Done) -> None:
        """A coded batch: its counts, corrections, CSV rows and (when kept) codings."""
        coded, part_counts, part_corrections = done
        result = self.result
        texts = {tid: text for tid, text, _spans in batch} if self.keep else {}
        stamp = _WORK["stamp"]
        for tid, n_codings, rows_text, rows in coded:
            result.suggestions += n_codings
            if rows_text is not None and self.spool is not None:
                self.spool.add(tid, rows_text)
            if rows is not None:
                text, last = texts[tid], (-1, -1, "")
                for a, b, code, memo in rows:
                    if last[:2] != (a, b):  # a turn's codes come together: one quote string for them all
                        last = (a, b, text[a:b])
                    result.codings.append(Coding(tid, a, b, code, last[2], memo, stamp))
        for code, n in part_counts.items():
            result.counts[code].units += n.units
            for kind, k in n.matches.items():
                result.counts[code].matches[kind] += k
        for word, (term, score, k) in part_corrections.items():
            prev = result.corrections.get(word)
            result.corrections[word] = (term, score, (prev[2] if prev else 0) + k)


def code_batch(batch: list[_Item]) -> _Done:
    """Match one batch of transcripts (here or in a worker): per transcript its CSV rows and/or its
    codings as rows, with this batch's own counts and fuzzy corrections (they add up across batches:
    a word's correction depends on the word alone)."""
    w = _WORK
    engine: AutoCoder = w["engine"]
    counts = {c: CodeCount(n.code, n.name) for c, n in w["counts"].items()}
    engine.corrections = {}
    turns: list[_Turn] = [(tid, text, s, e) for tid, text, spans in batch for s, e in spans]
    by_transcript: dict[str, list[Coding]] = {}
    with no_gc():
        _match_chunks(_found(turns, w["pipeline"], engine, w["size"]), w["unit"], counts, w["stamp"],
                      w["described"], by_transcript)
    coded: list[_Coded] = []
    for tid, codings in by_transcript.items():
        codings.sort(key=_coding_order)
        rows_text = _csv_rows(codings, w["header"]) if w["write"] else None
        rows = [(c.start, c.end, c.code, c.memo) for c in codings] if w["keep"] else None
        coded.append((tid, len(codings), rows_text, rows))
    return coded, counts, dict(engine.corrections)


def _coding_order(c: Coding) -> tuple[int, int, str]:
    return (c.start, c.end, c.code)


def _found(turns: list[_Turn], pipeline: Pipeline, engine: AutoCoder, size: int
           ) -> Iterator[tuple[list[_Turn], list[str], list[list[Match]]]]:
    """``size`` turns at a time: the turns, their texts and each one's matches.

    On the blank pipeline turns are tokenized and matched joined (:mod:`qualkit.coding.autocode_batch`,
    the same matches); otherwise one Doc per turn comes out of the pipeline."""
    from qualkit.coding.autocode_batch import can_join, match_texts

    if can_join(engine):
        for i in range(0, len(turns), size):
            chunk = turns[i:i + size]
            texts = [text[s:e] for _tid, text, s, e in chunk]
            yield chunk, texts, match_texts(engine, texts)
        return
    pairs = ((text[s:e], turn) for turn in turns for _tid, text, s, e in (turn,))
    stream = pipeline.pipe_tuples(pairs, batch_size=size, lemmas=engine.needs_lemmas)
    while docs := list(itertools.islice(stream, size)):
        chunk = [c for _doc, c in docs]
        texts = [text[s:e] for _tid, text, s, e in chunk]
        yield chunk, texts, engine.match_many([doc for doc, _c in docs], texts)


def _tracked(files: list[Path]) -> Iterable[Path]:
    from qualkit.io.progress import track

    return track(files, "Auto-coding transcripts")


def no_gc() -> AbstractContextManager[None]:
    """The cyclic garbage collector off while turns are matched: nothing made there forms cycles (Docs,
    matches and codings are freed by reference counts), and its passes over everything the process
    holds cost about a tenth of auto-coding."""
    from qualkit.io.collector import gc_paused

    return gc_paused()


def _match_chunks(chunks: Iterator[tuple[list[_Turn], list[str], list[list[Match]]]], unit: str,
                  counts: dict[str, CodeCount], stamp: str, described: dict[tuple[Any, ...], str],
                  out: dict[str, list[Coding]]) -> None:
    """Codings for each chunk's matched turns (one per unit and code), by transcript into ``out``."""
    for chunk, turn_texts, found in chunks:
        for (tid, text, start, end), matches, turn_text in zip(chunk, found, turn_texts):
            if not matches:
                continue
            codings = out.get(tid)
            if codings is None:
                codings = out[tid] = []
            for (s, e, code), ms in _unit_groups(text, start, end, turn_text, matches, unit, counts).items():
                counts[code].units += 1
                quote = turn_text if unit == "turn" else turn_text[s:e]
                codings.append(Coding(tid, start + s, start + e, code, quote, _memo(ms, described), stamp))


def _unit_groups(text: str, start: int, end: int, turn_text: str, matches: list[Match], unit: str,
                 counts: dict[str, CodeCount]) -> dict[tuple[int, int, str], list[Match]]:
    """Unit (start, end) within the turn ``text[start:end]``, code -> its matches; every match counted by kind."""
    from qualkit.coding.units import split_sentences

    groups: dict[tuple[int, int, str], list[Match]] = {}
    if unit == "turn":
        whole = (0, len(turn_text))
        for m in matches:
            counts[m.code].matches[m.kind] += 1
            groups.setdefault((*whole, m.code), []).append(m)
        return groups
    # the sentences `qualkit agree --unit sentence` counts (qualkit.coding.units), turn-relative
    spans = [(s - start, e - start) for s, e in split_sentences(text, start, end)]
    starts = [s for s, _ in spans]
    for m in matches:
        counts[m.code].matches[m.kind] += 1
        i = max(bisect.bisect_right(starts, m.start) - 1, 0)
        while i < len(spans) and spans[i][0] < m.end:
            if spans[i][1] > m.start:
                groups.setdefault((*spans[i], m.code), []).append(m)
            i += 1
    return groups


def _memo(matches: list[Match], described: dict[tuple[Any, ...], str]) -> str:
    """``autocode: "fax" exact; "faxed" lemma of "fax"; ...`` (each description once, in text order)."""
    if len(matches) == 1:
        m = matches[0]
        key = (m.kind, m.text, m.term, m.score)
        d = described.get(key)
        if d is None:
            d = described[key] = m.describe()
        return f"{MEMO_PREFIX}: {d}"
    parts: dict[str, None] = {}
    for m in matches:
        key = (m.kind, m.text, m.term, m.score)
        d = described.get(key)
        if d is None:
            d = described[key] = m.describe()
        parts[d] = None
    shown = list(parts)
    more = len(shown) - MEMO_MAX_TERMS
    return f"{MEMO_PREFIX}: " + "; ".join(shown[:MEMO_MAX_TERMS]) + (f"; and {more} more" if more > 0 else "")


def run(ws: Workspace, result: Any, work: dict[str, Any], transcripts: Iterable[Transcript] | None,
        progress: Callable[[Iterable[Any]], Iterable[Any]] | None, **options: Any) -> None:
    """Code every transcript (``transcripts``, or the workspace's as ingest reads them) through a
    :class:`Stream`; ``work`` is what each batch is coded with (see :func:`code_batch`)."""
    from qualkit.workspace.ingest import ingest

    _WORK.clear()
    _WORK.update(work, header=csv_header(), described={})
    try:
        with Stream(ws, result, **options) as stream:
            if transcripts is not None:
                for t in progress(transcripts) if progress is not None else transcripts:
                    stream.add(t)
            else:
                read = ingest(ws, None, progress or _tracked, summarize=False, visit=stream.add)
                ws.skipped_transcripts = list(read.errors)
    finally:
        _WORK.clear()
