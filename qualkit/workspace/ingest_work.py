"""The part of reading a study's transcripts that runs in a worker process (`qualkit ingest` over the
cores), and who speaks in a transcript: the participants.csv rows its speaker labels find and the
warnings for those it does not. Apart from qualkit.workspace.ingest, which forks the workers, so that
both stay small; a worker needs neither Transcript nor Turn objects (:class:`~qualkit.transcripts.model.Parsed`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError
from qualkit.workspace.participants import PARTICIPANTS_NAME

__all__ = ["WORKER_STORE", "WRITE_BATCH", "Summary", "Work", "parse_chunk", "speakers_found", "worker_cache_closed"]

Summary = tuple[str, str, int, int, int, list[str]]  # an IngestRow's id, format, turns, speakers, words, warnings
Work = tuple[Path, str | None, list[str], tuple[float, int], str | None]  # a file, its speaker rules, state and cache key
WORKER_STORE: list[Any] = []  # the workspace, for worker processes forked while rows are asked for
WRITE_BATCH = 32  # parses a worker writes in one transaction (about 1 MB of interviews)
_WORKER_CACHE: list[tuple[int, Any]] = []  # a worker's own connection to the transcript cache (with its pid), opened on its first write


def speakers_found(ws: Any, transcript_id: str, speakers: list[str | None],
                   warnings: list[str]) -> tuple[dict[str | None, str], list[str]]:
    """(the participant id of each speaker label of transcript ``transcript_id`` that ``ws``'s
    participants.csv names, ``warnings`` with a warning for each label it does not): each distinct
    label looked up once, however many turns it has. A document listed in documents.csv with no
    speaker has no "no speaker labels" warning: it has none by design. ``warnings`` is extended in
    place, or replaced by a new list when one of its warnings goes."""
    table = ws.participant_table
    labels = dict.fromkeys(speakers)  # (in order of first use; the turns of a label counted only to warn of it)
    found: dict[str | None, str] = {}
    unknown: dict[str, int] = {}
    for label in labels:
        row = table.lookup(transcript_id, label)
        if row is not None:
            found[label] = row["participant_id"]
        elif label is not None:
            unknown[label] = speakers.count(label)
    if all(label is None for label in labels) and transcript_id in ws.documents.rows:
        warnings = [w for w in warnings if not w.startswith("no speaker labels found")]
    if unknown and table.path is not None and not table.path.exists():
        return found, warnings  # one workspace-level warning says participants.csv is missing
    for label, n in unknown.items():
        warnings.append(f"speaker {label!r} ({n} turn{'s' if n != 1 else ''}) is not in {PARTICIPANTS_NAME}")
    return found, warnings


def parse_chunk(work: list[Work]) -> list[tuple[bytes | None, Summary | None] | None]:
    """Parse files in a worker process, each as its transcript-cache entry (a few bytes of JSON and
    the text: a third of the cost of pickling the Transcript and its turns there and back), and,
    when the workspace was left for the workers (:data:`WORKER_STORE`), the file's ingest row, its
    participants found as reading it would; a file that fails is None (the serial read reports why).
    Given the workspace, the worker writes the entries to the on-disk cache itself and sends back only
    the rows (None for an entry it wrote): the text of a study does not go through a pipe, and this
    process's writes run beside the other workers' work. Each file is parsed to columns
    (:func:`~qualkit.transcripts.read_parsed`): no Turn object is made for what goes to the cache."""
    from qualkit.transcripts import read_parsed
    from qualkit.workspace.cache import pack

    out: list[tuple[bytes | None, Summary | None] | None] = []
    written: list[tuple[int, str, Path, tuple[float, int]]] = []  # parses to write: (place in out, key, file, state)
    for path, pattern, known, stamp, key in work:
        try:
            p = read_parsed(path, speaker_pattern=pattern, known_speakers=known)
        except QualkitError:
            out.append(None)
            continue
        data = pack(p)  # words counted here (as parsed: participants are attached when an entry is read)
        if not WORKER_STORE:
            out.append((data, None))
            continue
        if key is not None:
            written.append((len(out), key, path, stamp))
        speakers = p.columns[0] if p.columns else []
        warnings = speakers_found(WORKER_STORE[0], p.id, speakers, p.warnings)[1]
        out.append((data, (p.id, p.source_format, len(speakers), len(p.speakers), p.word_count, list(warnings))))
        if len(written) >= WRITE_BATCH:
            _write_parses(out, written)
    _write_parses(out, written)
    return out


def _write_parses(out: list[tuple[bytes | None, Summary | None] | None], written: list[tuple[int, str, Path, tuple[float, int]]]) -> None:
    """Write the parses of ``written`` to the on-disk cache in one short transaction, each marked written
    in ``out`` (its text dropped); once one cannot be written (another process holds the cache for
    longer than the busy timeout), the rest go back with their text for the parent to write. The
    write lock is taken only for the inserts, never while a file is parsed, so the other workers wait
    milliseconds for it. A connection of the worker's own: none may cross a fork."""
    from qualkit.workspace.cache import TranscriptCache

    if not written:
        return
    import os

    if not _WORKER_CACHE or _WORKER_CACHE[0][0] != os.getpid():  # (one made before a fork is the parent's)
        _WORKER_CACHE[:] = [(os.getpid(), TranscriptCache(WORKER_STORE[0].root))]
    store = _WORKER_CACHE[0][1]
    store.begin_batch()
    try:
        for i, key, path, stamp in written:
            got = out[i]
            assert got is not None
            if not store.put(key, None, path, stamp, got[0]):
                break
            out[i] = (None, got[1])
    finally:
        store.end_batch()
        written.clear()


def worker_cache_closed() -> None:
    """Let go of the cache connection :func:`parse_chunk` opened in this process, if it ran here (not
    in a worker): it is closed, not left for the rest of the command."""
    import os

    if _WORKER_CACHE and _WORKER_CACHE[0][0] == os.getpid():
        _WORKER_CACHE[0][1].close()
    _WORKER_CACHE.clear()
