"""Local auto-coding suggestions: a codebook's keywords and token patterns, matched with spaCy.

A deductive first pass that never leaves the machine. For every active code of a codebook:

* **keywords** (one or more words each) match on the lower-case text (``exact``) and on the
  lemmas (``lemma``: "faxed", "faxes" for the keyword "fax"); a keyword written in capitals
  (an acronym such as ``ED``, ``PORT``, ``HIPAA``) matches only in capitals;
* **patterns** are spaCy ``Matcher`` token patterns (``pattern``); a pattern written as a flat
  list of token dicts is one pattern. ``LEMMA`` values compare lower-case. Patterns that need a
  trained pipeline's annotations (``POS``, ``TAG``, ``DEP``, ...) are skipped with a warning when
  only the blank pipeline is available (see :mod:`qualkit.coding.nlp`);
* **fuzzy** (optional) catches misspellings and transcription errors ("naloxon",
  "buprenorphene"): a word that is not itself a keyword word and not a dictionary word is
  compared (rapidfuzz ``fuzz.ratio``, ``threshold`` 0-100) with the keyword words of about its
  length, once per distinct word; a keyword whose words all match, at least one of them
  fuzzily, is a ``fuzzy`` match with the lowest such score.

A match codes its whole unit: the turn, or the sentence, with offsets into the transcript such
that ``text[start:end]`` is the unit. Sentences are those of :func:`qualkit.coding.units.split_sentences`,
the same units ``qualkit agree --unit sentence`` compares, so suggestions line up with coders'
sentence units. Turns of the research team (facilitator roles in participants.csv) are skipped unless
``include_facilitators``. The memo of each suggestion lists what matched and how.

Suggestions belong to an **auto coder**: ``auto`` or a name ending in ``-auto`` (e.g.
``heif-auto``), never a person's name, so they cannot mix with a human coder's file. Running
again replaces that file (the previous version goes to .qualkit/backups/).
"""
from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.autocode_matcher import DEFAULT_THRESHOLD, FUZZY_MIN_LENGTH, KINDS, AutoCoder, Match
from qualkit.coding.autocode_patterns import keyword_variants, pattern_needs
from qualkit.errors import AutocodeError
from qualkit.workspace.codebook import Codebook
from qualkit.workspace.codings import Coding, coder_path

if TYPE_CHECKING:
    from qualkit.coding.nlp import Pipeline
    from qualkit.transcripts.model import Transcript, Turn
    from qualkit.workspace.store import Workspace

__all__ = ["AUTO_CODER", "AUTO_SUFFIX", "DEFAULT_THRESHOLD", "FUZZY_MIN_LENGTH", "KINDS", "MEMO_MAX_TERMS",
           "MEMO_PREFIX", "UNITS", "AutoCoder", "AutocodeError", "AutocodeResult", "CodeCount", "Match", "autocode",
           "check_coder", "is_auto_coder", "keyword_variants", "pattern_needs"]

AUTO_CODER = "auto"
AUTO_SUFFIX = "-auto"
UNITS = ("turn", "sentence")
MEMO_PREFIX = "autocode"
MEMO_MAX_TERMS = 8


def is_auto_coder(name: str) -> bool:
    """True for the names autocode writes to: ``auto`` or anything ending in ``-auto``."""
    return name == AUTO_CODER or (name.endswith(AUTO_SUFFIX) and len(name) > len(AUTO_SUFFIX))


def check_coder(name: str) -> str:
    """``name`` if autocode may write to it, else AutocodeError (a person's name, a bad file name)."""
    if not is_auto_coder(name):
        raise AutocodeError(f"coder {name!r} is not an auto coder: suggestions go to 'auto' or a name ending in '-auto' "
                            f"(e.g. '{name}-auto'), never to a person's codings file")
    coder_path(".", name)  # file-name rules
    return name


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


@dataclass
class AutocodeResult:
    """What autocode suggested (``codings``) and how (``counts`` per code, fuzzy ``corrections``)."""

    codebook: str
    coder: str
    unit: str
    codings: list[Coding] = field(default_factory=list)
    counts: dict[str, CodeCount] = field(default_factory=dict)
    corrections: dict[str, tuple[str, float, int]] = field(default_factory=dict)  # word -> (term, score, n)
    transcripts: int = 0
    turns: int = 0
    skipped_facilitator_turns: int = 0
    pipeline: str = ""
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    backup: Path | None = None
    seconds: float = 0.0

    @property
    def units(self) -> dict[str, int]:
        """Code id -> number of units coded."""
        return {c: n.units for c, n in self.counts.items()}

    def as_dict(self, with_codings: bool = True) -> dict[str, Any]:
        """Everything as JSON-ready data, with or without the suggested codings."""
        out: dict[str, Any] = {"codebook": self.codebook, "coder": self.coder, "unit": self.unit,
               "path": str(self.path) if self.path else None, "backup": str(self.backup) if self.backup else None,
               "pipeline": self.pipeline, "transcripts": self.transcripts, "turns": self.turns,
               "skipped_facilitator_turns": self.skipped_facilitator_turns, "suggestions": len(self.codings),
               "counts": [c.as_dict() for c in self.counts.values()],
               "fuzzy_corrections": [{"word": w, "term": t, "score": round(s, 1), "count": n}
                                     for w, (t, s, n) in sorted(self.corrections.items())],
               "warnings": list(self.warnings), "seconds": round(self.seconds, 3)}
        if with_codings:
            out["codings"] = [c.as_row() for c in self.codings]
        return out


def _coding_order(c: Coding) -> tuple[str, int, int, str]:
    return (c.transcript, c.start, c.end, c.code)


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


# -- the library call ---------------------------------------------------------------------------

def autocode(workspace: Workspace, codebook: Codebook | str | None = None, unit: str = "turn", *,
             coder: str = AUTO_CODER, fuzzy: bool = True, threshold: float = DEFAULT_THRESHOLD,
             include_facilitators: bool = False, write: bool = True, transcripts: list[Transcript] | None = None,
             progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
             batch_size: int | None = None) -> AutocodeResult:
    """Suggest codings from a codebook's keywords and patterns; write them to codings/<coder>.csv.

    ``codebook``: a Codebook, a codebook id, or None for the workspace's default. ``unit``:
    ``"turn"`` or ``"sentence"``. ``coder`` must be an auto coder (:func:`is_auto_coder`); its
    file is replaced (the old one backed up) unless ``write=False``. ``transcripts`` (Transcript
    objects) defaults to every transcript of the workspace; ``progress`` wraps the list of turns
    (e.g. a progress bar).
    """
    from qualkit.coding.nlp import pipeline_for

    began = time.perf_counter()
    if unit not in UNITS:
        raise AutocodeError(f"unit {unit!r} must be one of {', '.join(UNITS)}")
    if not 0 < float(threshold) <= 100:
        raise AutocodeError(f"fuzzy threshold {threshold} must be between 0 and 100")
    if write:
        check_coder(coder)
    book = codebook if isinstance(codebook, Codebook) else workspace.codebook(codebook)
    codes = [c for c in book.codes if c.status == "active" and (c.keywords or c.patterns)]
    if not codes:
        raise AutocodeError(f"codebook {book.id!r} has no active code with keywords or patterns to match; "
                            "add e.g. 'keywords: [fax, data sharing agreement]' to its codes", book.path)
    pipeline = pipeline_for(workspace, pattern_needs(codes))
    with _no_gc():
        engine = AutoCoder(codes, pipeline, fuzzy=fuzzy, threshold=threshold, source=book.path)
    result = AutocodeResult(book.id, coder, unit, pipeline=pipeline.name,
                            warnings=[*pipeline.warnings, *engine.warnings],
                            counts={c.id: CodeCount(c.id, c.name) for c in codes})
    ts = transcripts if transcripts is not None else workspace.transcripts()
    items = _turns(ts, workspace, include_facilitators, result)
    jobs = _jobs_for(items, workspace.jobs)
    if jobs > 1:
        result.codings, result.corrections = _suggest_parallel(items, pipeline, engine, unit, result.counts, jobs, batch_size)
    else:
        result.codings = _suggest(items, pipeline, engine, unit, result.counts, progress, batch_size)
        result.corrections = dict(engine.corrections)
    if write:
        result.path = _write(workspace, coder, result)
    result.seconds = time.perf_counter() - began
    return result


def _write(workspace: Workspace, coder: str, result: AutocodeResult) -> Path:
    """The codings to the coder's file (the old one backed up), written in pieces: the whole CSV text
    and its encoded bytes at once were a sixth of the command's peak memory at 1,000 interviews."""
    from qualkit.io.atomic import atomic_open, backup
    from qualkit.workspace.codings import codings_csv_chunks

    path = workspace.coder_file(coder)
    with workspace.state_lock(), _no_gc():
        result.backup = backup(path, workspace.backup_dir)
        with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
            fh.writelines(codings_csv_chunks(result.codings))
    return path


def _turns(ts: list[Transcript], workspace: Workspace, include_facilitators: bool,
           result: AutocodeResult) -> list[tuple[Transcript, Turn]]:
    """The turns to code (non-empty; the research team's only with ``include_facilitators``), counted."""
    table = workspace.participant_table
    team: dict[str | None, bool] = {}  # a few participants, many turns: ask once each
    items = []
    for t in ts:
        for turn in t.turns:
            who = turn.participant
            is_team = team[who] if who in team else team.setdefault(who, table.is_facilitator(who))
            if not include_facilitators and is_team:
                result.skipped_facilitator_turns += 1
            elif turn.end > turn.start:
                items.append((t, turn))
    result.transcripts, result.turns = len(ts), len(items)
    return items


def _suggest(items: list[tuple[Transcript, Turn]], pipeline: Pipeline, engine: AutoCoder, unit: str,
             counts: dict[str, CodeCount], progress: Callable[[Iterable[Any]], Iterable[Any]] | None,
             batch_size: int | None, stamp: str | None = None) -> list[Coding]:
    """One coding per unit and code matched, in transcript order, batch by batch through the pipeline."""
    from qualkit.coding.nlp import BATCH_SIZE
    from qualkit.io.progress import track
    from qualkit.workspace.codings import now_iso

    source = progress(items) if progress is not None else track(items, "Auto-coding turns")
    size = batch_size or BATCH_SIZE
    stamp = stamp or now_iso()
    described: dict[tuple[Any, ...], str] = {}
    codings: list[Coding] = []
    with _no_gc():
        _match_chunks(_found(source, pipeline, engine, size), unit, counts, stamp, described, codings)
    codings.sort(key=_coding_order)
    return codings


_Chunk = tuple[list[tuple["Transcript", "Turn"]], list[str], list[list[Match]]]


def _found(source: Iterable[tuple[Transcript, Turn]], pipeline: Pipeline, engine: AutoCoder, size: int
           ) -> Iterator[_Chunk]:
    """``size`` turns at a time: the turns, their texts and each one's matches.

    On the blank pipeline turns are tokenized and matched joined (:mod:`qualkit.coding.autocode_batch`,
    the same matches); otherwise one Doc per turn comes out of the pipeline."""
    from qualkit.coding.autocode_batch import can_join, match_texts

    if can_join(engine):
        turns = iter(source)
        while chunk := list(itertools.islice(turns, size)):
            texts = [t.text[turn.start:turn.end] for t, turn in chunk]
            yield chunk, texts, match_texts(engine, texts)
        return
    pairs = ((t.text[turn.start:turn.end], (t, turn)) for t, turn in source)
    stream = pipeline.pipe_tuples(pairs, batch_size=size, lemmas=engine.needs_lemmas)
    while docs := list(itertools.islice(stream, size)):
        ctx = [c for _doc, c in docs]
        texts = [t.text[turn.start:turn.end] for t, turn in ctx]
        yield ctx, texts, engine.match_many([doc for doc, _c in docs], texts)


def _no_gc() -> AbstractContextManager[None]:
    """The cyclic garbage collector off while turns are matched: nothing made there forms cycles (Docs,
    matches and codings are freed by reference counts), and its passes over everything the process
    holds cost about a tenth of auto-coding."""
    from qualkit.io.collector import gc_paused

    return gc_paused()


def _match_chunks(chunks: Iterator[_Chunk], unit: str, counts: dict[str, CodeCount], stamp: str,
                  described: dict[tuple[Any, ...], str], codings: list[Coding]) -> None:
    """Codings for each chunk's matched turns (one per unit and code), appended to ``codings``."""
    for chunk, turn_texts, found in chunks:
        for (t, turn), matches, turn_text in zip(chunk, found, turn_texts):
            if not matches:
                continue
            for (s, e, code), ms in _unit_groups(t, turn, turn_text, matches, unit, counts).items():
                counts[code].units += 1
                quote = turn_text if unit == "turn" else turn_text[s:e]
                codings.append(Coding(t.id, turn.start + s, turn.start + e, code, quote, _memo(ms, described), stamp))


# Auto-code in several processes only from this much turn text on (about 70 interviews of 5,000 words):
# below it, starting the processes costs more than they save.
PARALLEL_MIN_CHARS = 2_000_000
_WORK: dict[str, Any] = {}  # what forked workers read: set just before the pool starts, cleared after


def _jobs_for(items: list[tuple[Transcript, Turn]], jobs: int | None) -> int:
    from qualkit.io.parallel import can_fork, resolve_jobs

    n = resolve_jobs(jobs)
    if n <= 1 or not can_fork() or sum(turn.end - turn.start for _t, turn in items) < PARALLEL_MIN_CHARS:
        return 1
    return n


_Row = tuple[str, int, int, str, str]  # a coding as a worker sends it back: transcript, start, end, code, memo


def _suggest_part(bounds: tuple[int, int]) -> tuple[list[_Row], dict[str, CodeCount], dict[str, tuple[str, float, int]]]:
    """In a worker: :func:`_suggest` on ``items[a:b]``, with this process's own counts and corrections.

    The codings go back as plain rows without their quotes (the parent cuts those from the transcripts
    it holds): pickling whole Codings cost more than matching a tenth of the turns."""
    w = _WORK
    counts = {c: CodeCount(n.code, n.name) for c, n in w["counts"].items()}
    w["engine"].corrections = {}  # this part's own (a worker runs several parts)
    codings = _suggest(w["items"][bounds[0]:bounds[1]], w["pipeline"], w["engine"], w["unit"], counts, None,
                       w["batch_size"], w["stamp"])
    return [(c.transcript, c.start, c.end, c.code, c.memo) for c in codings], counts, dict(w["engine"].corrections)


def _suggest_parallel(items: list[tuple[Transcript, Turn]], pipeline: Pipeline, engine: AutoCoder, unit: str,
                      counts: dict[str, CodeCount], jobs: int, batch_size: int | None
                      ) -> tuple[list[Coding], dict[str, tuple[str, float, int]]]:
    """:func:`_suggest` over runs of turns in ``jobs`` forked processes, merged: the same codings, counts
    and fuzzy corrections as one process gives (a word's correction depends on the word alone, so the
    counts of each add up; the codings are sorted in the end as in one process)."""
    from qualkit.io.parallel import chunks, parallel_map
    from qualkit.io.progress import task
    from qualkit.workspace.codings import now_iso

    bounds, start = [], 0
    for part in chunks(range(len(items)), jobs * 4):
        bounds.append((start, start + len(part)))
        start += len(part)
    stamp = now_iso()
    _WORK.update(items=items, pipeline=pipeline, engine=engine, unit=unit, counts=counts,
                 batch_size=batch_size, stamp=stamp)
    try:
        with task("Auto-coding turns", len(items)) as progress:
            parts = parallel_map(_suggest_part, bounds, jobs, on_done=lambda i: progress.advance(bounds[i][1] - bounds[i][0]))
    finally:
        _WORK.clear()
    texts = {t.id: t.text for t, _turn in items}
    codings: list[Coding] = []
    corrections: dict[str, tuple[str, float, int]] = {}
    for rows, part_counts, part_corrections in parts:
        last: tuple[Any, ...] = ()
        for tid, a, b, code, memo in rows:
            if last[:3] != (tid, a, b):  # a turn's codes come together: one quote string for them all
                last = (tid, a, b, texts[tid][a:b])
            codings.append(Coding(tid, a, b, code, last[3], memo, stamp))
        for code, n in part_counts.items():
            counts[code].units += n.units
            for kind, k in n.matches.items():
                counts[code].matches[kind] += k
        for word, (term, score, k) in part_corrections.items():
            prev = corrections.get(word)
            corrections[word] = (term, score, (prev[2] if prev else 0) + k)
    codings.sort(key=_coding_order)
    return codings, corrections


def _unit_groups(t: Transcript, turn: Turn, turn_text: str, matches: list[Match], unit: str,
                 counts: dict[str, CodeCount]) -> dict[tuple[int, int, str], list[Match]]:
    """Unit (start, end) within the turn, code -> its matches; every match counted by kind."""
    from qualkit.coding.units import split_sentences

    groups: dict[tuple[int, int, str], list[Match]] = {}
    if unit == "turn":
        whole = (0, len(turn_text))
        for m in matches:
            counts[m.code].matches[m.kind] += 1
            groups.setdefault((*whole, m.code), []).append(m)
        return groups
    # the sentences `qualkit agree --unit sentence` counts (qualkit.coding.units), turn-relative
    spans = [(s - turn.start, e - turn.start) for s, e in split_sentences(t.text, turn.start, turn.end)]
    starts = [s for s, _ in spans]
    for m in matches:
        counts[m.code].matches[m.kind] += 1
        i = max(bisect.bisect_right(starts, m.start) - 1, 0)
        while i < len(spans) and spans[i][0] < m.end:
            if spans[i][1] > m.start:
                groups.setdefault((*spans[i], m.code), []).append(m)
            i += 1
    return groups
