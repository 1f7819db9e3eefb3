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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.autocode_matcher import DEFAULT_THRESHOLD, FUZZY_MIN_LENGTH, KINDS, AutoCoder, Match
from qualkit.coding.autocode_patterns import keyword_variants, pattern_needs
from qualkit.coding.autocode_stream import MEMO_MAX_TERMS, MEMO_PREFIX, CodeCount, Spool, no_gc
from qualkit.errors import AutocodeError
from qualkit.workspace.codebook import Codebook
from qualkit.workspace.codings import Coding, coder_path

if TYPE_CHECKING:
    from qualkit.transcripts.model import Transcript
    from qualkit.workspace.store import Workspace

__all__ = ["AUTO_CODER", "AUTO_SUFFIX", "DEFAULT_THRESHOLD", "FUZZY_MIN_LENGTH", "KINDS", "MEMO_MAX_TERMS",
           "MEMO_PREFIX", "UNITS", "AutoCoder", "AutocodeError", "AutocodeResult", "CodeCount", "Match", "autocode",
           "check_coder", "is_auto_coder", "keyword_variants", "pattern_needs"]

AUTO_CODER = "auto"
AUTO_SUFFIX = "-auto"
UNITS = ("turn", "sentence")
# Auto-code in several processes only from this much turn text on (about 70 interviews of 5,000 words):
# below it, starting the processes costs more than they save.
PARALLEL_MIN_CHARS = 2_000_000


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
class AutocodeResult:
    """What autocode suggested (``codings``, unless it was asked not to keep them; ``suggestions`` counts
    them either way) and how (``counts`` per code, fuzzy ``corrections``)."""

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
    suggestions: int = 0  # how many codings were suggested (``len(codings)`` when they were kept)

    @property
    def units(self) -> dict[str, int]:
        """Code id -> number of units coded."""
        return {c: n.units for c, n in self.counts.items()}

    def as_dict(self, with_codings: bool = True) -> dict[str, Any]:
        """Everything as JSON-ready data, with or without the suggested codings."""
        out: dict[str, Any] = {"codebook": self.codebook, "coder": self.coder, "unit": self.unit,
               "path": str(self.path) if self.path else None, "backup": str(self.backup) if self.backup else None,
               "pipeline": self.pipeline, "transcripts": self.transcripts, "turns": self.turns,
               "skipped_facilitator_turns": self.skipped_facilitator_turns, "suggestions": self.suggestions,
               "counts": [c.as_dict() for c in self.counts.values()],
               "fuzzy_corrections": [{"word": w, "term": t, "score": round(s, 1), "count": n}
                                     for w, (t, s, n) in sorted(self.corrections.items())],
               "warnings": list(self.warnings), "seconds": round(self.seconds, 3)}
        if with_codings:
            out["codings"] = [c.as_row() for c in self.codings]
        return out


def _coding_order(c: Coding) -> tuple[str, int, int, str]:
    return (c.transcript, c.start, c.end, c.code)


# -- the library call ---------------------------------------------------------------------------

def autocode(workspace: Workspace, codebook: Codebook | str | None = None, unit: str = "turn", *,
             coder: str = AUTO_CODER, fuzzy: bool = True, threshold: float = DEFAULT_THRESHOLD,
             include_facilitators: bool = False, write: bool = True, transcripts: list[Transcript] | None = None,
             progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
             batch_size: int | None = None, keep_codings: bool = True) -> AutocodeResult:
    """Suggest codings from a codebook's keywords and patterns; write them to codings/<coder>.csv.

    ``codebook``: a Codebook, a codebook id, or None for the workspace's default. ``unit``:
    ``"turn"`` or ``"sentence"``. ``coder`` must be an auto coder (:func:`is_auto_coder`); its
    file is replaced (the old one backed up) unless ``write=False``. ``transcripts`` (Transcript
    objects) defaults to every transcript of the workspace, read a batch at a time; ``progress``
    wraps the list of transcript files (or ``transcripts``), e.g. a progress bar. ``keep_codings=False``
    leaves ``result.codings`` empty (``result.suggestions`` still counts them): the command then holds
    a batch of suggestions at a time, not the study's (half a million at 5,000 interviews).
    """
    from qualkit.coding import autocode_stream
    from qualkit.coding.nlp import BATCH_SIZE, pipeline_for
    from qualkit.workspace.codings import now_iso

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
    with no_gc():
        engine = AutoCoder(codes, pipeline, fuzzy=fuzzy, threshold=threshold, source=book.path)
    result = AutocodeResult(book.id, coder, unit, pipeline=pipeline.name,
                            warnings=[*pipeline.warnings, *engine.warnings],
                            counts={c.id: CodeCount(c.id, c.name) for c in codes})
    work = {"engine": engine, "pipeline": pipeline, "unit": unit, "counts": result.counts, "stamp": now_iso(),
            "size": batch_size or BATCH_SIZE, "write": write, "keep": keep_codings}
    spool = Spool(workspace.coder_file(coder).parent) if write else None
    try:
        autocode_stream.run(workspace, result, work, transcripts, progress, include_facilitators=include_facilitators,
                            jobs=_jobs(workspace.jobs), parallel_min_chars=PARALLEL_MIN_CHARS, spool=spool,
                            keep=keep_codings)
        result.codings.sort(key=_coding_order)
        if spool is not None:
            result.path = _write(workspace, coder, result, spool)
    finally:
        if spool is not None:
            spool.close()
    result.seconds = time.perf_counter() - began
    return result


def _jobs(jobs: int | None) -> int:
    """Processes to auto-code in (1 where they cannot be forked); used once the study proves large enough."""
    from qualkit.io.parallel import can_fork, resolve_jobs

    return resolve_jobs(jobs) if can_fork() else 1


def _write(workspace: Workspace, coder: str, result: AutocodeResult, spool: Spool) -> Path:
    """The coder's file (the old one backed up) from each transcript's rows, in transcript order: the
    same bytes as writing every coding at once, without holding them."""
    from qualkit.coding.autocode_stream import csv_header
    from qualkit.io.atomic import atomic_open, backup

    path = workspace.coder_file(coder)
    with workspace.state_lock():
        result.backup = backup(path, workspace.backup_dir)
        with atomic_open(path, "wb") as fh:
            fh.write(csv_header().encode("utf-8"))
            spool.copy_to(fh)
    return path
