"""Reading a workspace's transcripts as `qualkit ingest` does: every problem collected, none fatal;
turn tables; converting legacy documents. Functions of the data-access Workspace, kept apart so the
store stays small; they take any object with the store's reading methods (:class:`_Store`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from qualkit.errors import QualkitError, TranscriptError
from qualkit.io.naming import name_problem
from qualkit.io.progress import task, track
from qualkit.transcripts.model import Transcript
from qualkit.workspace.config import Config
from qualkit.workspace.participants import PARTICIPANTS_NAME, Participants

if TYPE_CHECKING:
    import pandas as pd

    from qualkit.workspace.ingest_work import Summary

__all__ = ["MEMO_BUDGET", "MEMO_SPILLED", "PARALLEL_MIN_BYTES", "IngestResult", "IngestRow", "TranscriptMemo", "TranscriptRef", "TranscriptsById", "convert_documents",
           "by_reference", "ingest",
           "held", "id_reader", "iter_texts", "prefetch", "read_one", "read_text_one", "text_reader", "turn_table", "unmatched_participant_rows"]

_T = TypeVar("_T")

# Parse in several processes only when the files to parse hold at least this much (about 70
# interviews of 5,000 words, 0.2 s of work): below it, starting the processes costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000
# Word, PDF and OpenDocument files are zipped or binary: a byte of them is several bytes of text.
_PACKED = {".docx": 4, ".pdf": 2, ".odt": 4, ".rtf": 1}


# What a command keeps of the transcripts it has read, in bytes (estimated: a character of text, about
# 100 per turn). A 1,000-interview study fits (about 50 MB), so its commands read each file once; at
# 5,000 the least recently read are dropped and read again from the on-disk cache when asked for.
MEMO_BUDGET = 64_000_000
# What it keeps once a study has proved too big for it: a walk over every transcript then finds none of
# them still held (the least recently read goes first), so the memo only serves a step's re-reads of the
# last few, and the rest of the budget was ~70 MB held at the peak of `run` at 5,000 interviews.
MEMO_SPILLED = 12_000_000


def _weight(transcript: Transcript) -> int:
    return len(transcript.text) + 100 * len(transcript.turns)


class TranscriptMemo:
    """This command's parsed transcripts by path, as ``(file state, Transcript)``: the most recently
    used kept up to ``budget`` bytes, so that a command walking every transcript holds a few
    hundred at a time, not the whole study (the on-disk cache makes a second read cheap). Once the
    study has proved bigger than ``budget``, it keeps only ``spilled`` bytes (see MEMO_SPILLED)."""

    def __init__(self, budget: int = MEMO_BUDGET, spilled: int = MEMO_SPILLED):
        from collections import OrderedDict

        self.budget = budget
        self.spilled = spilled
        self.held = 0
        self._items: OrderedDict[Path, tuple[tuple[float, int], Transcript]] = OrderedDict()

    def get(self, path: Path) -> tuple[tuple[float, int], Transcript] | None:
        hit = self._items.get(path)
        if hit is not None:
            self._items.move_to_end(path)
        return hit

    def __setitem__(self, path: Path, value: tuple[tuple[float, int], Transcript]) -> None:
        old = self._items.pop(path, None)
        if old is not None:
            self.held -= _weight(old[1])
        self._items[path] = value
        self.held += _weight(value[1])
        if self.held > self.budget and len(self._items) > 1:
            self.budget = min(self.budget, self.spilled)
            while self.held > self.budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self.held -= _weight(dropped)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, path: object) -> bool:
        return path in self._items


class TranscriptsById(Mapping[str, Transcript]):
    """Transcripts by id, each read when asked for (from the workspace's memo or its on-disk cache):
    a table over many transcripts holds their ids, not the study's text. ``texts=True`` gives each
    transcript's text instead of the Transcript."""

    def __init__(self, ws: _Store, paths: dict[str, Path], texts: bool = False):
        self._ws, self._paths, self._texts = ws, paths, texts

    def __getitem__(self, tid: str) -> Any:
        if self._texts:
            return self._ws.read_text(self._paths[tid])
        return self._ws.read(self._paths[tid])

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, tid: object) -> bool:
        return tid in self._paths

    def path(self, tid: str) -> Path:
        """The file transcript ``tid`` is read from (nothing read)."""
        return self._paths[tid]

    def subset(self, ids: Iterable[str]) -> TranscriptsById:
        """The same view over ``ids`` only (in that order), still read when asked for."""
        return TranscriptsById(self._ws, {tid: self._paths[tid] for tid in ids}, self._texts)


class TranscriptRef:
    """A read transcript held by id and path: its other attributes (text, turns, ...) are read again
    when asked for (from the workspace's memo, else its on-disk cache). A study-wide list of these
    costs a few bytes a transcript, where the Transcripts themselves hold all the study's text."""

    __slots__ = ("_ws", "id", "path")

    def __init__(self, ws: _Store, transcript_id: str, path: Path):
        self._ws, self.id, self.path = ws, transcript_id, path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws.read(self.path), name)

    def __repr__(self) -> str:
        return f"TranscriptRef({self.id!r})"


def by_reference(ws: _Store, transcripts: list[Transcript]) -> list[Transcript]:
    """``transcripts`` as :class:`TranscriptRef` s (each a stand-in for its Transcript), for a command
    that keeps the list while it works on one transcript at a time."""
    return [cast(Transcript, TranscriptRef(ws, t.id, t.path)) if t.path is not None else t for t in transcripts]


class _Store(Protocol):
    """What these functions read of a workspace (qualkit.workspace.store.Workspace has all of it)."""

    root: Path
    config: Config
    jobs: int | None
    _cache: TranscriptMemo

    @property
    def disk_cache(self) -> Any: ...
    def speaker_rule(self, path: str | Path) -> tuple[str | None, str]: ...
    def _attach_participants(self, transcript: Transcript) -> None: ...
    @property
    def participant_table(self) -> Participants: ...
    def transcript_paths(self) -> list[Path]: ...
    def unreadable_paths(self) -> list[Path]: ...
    def _scan(self) -> tuple[list[Path], list[QualkitError]]: ...
    def _transcripts_rel(self, path: Path) -> str: ...
    def read(self, path: str | Path) -> Transcript: ...
    def read_text(self, path: Path) -> str: ...
    def transcripts(self, *, strict: bool = False) -> list[Transcript]: ...
    def case_columns(self) -> list[str]: ...
    @property
    def documents(self) -> Any: ...
    @property
    def cases(self) -> Any: ...
    def attributes_at(self, transcript: Transcript, turn: Any | None = None,
                      offset: int | None = None, *, tables: tuple[Any, Any] | None = None) -> dict[str, str]: ...


@dataclass
class IngestRow:
    """One transcript's ingest summary, as `qualkit ingest` prints it."""

    id: str
    path: Path
    format: str
    turns: int
    speakers: int
    words: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "path": str(self.path), "format": self.format, "turns": self.turns,
                "speakers": self.speakers, "words": self.words, "warnings": list(self.warnings)}


@dataclass
class IngestResult:
    """What ingest read (``transcripts``, ``rows``), what it could not (``errors``), and
    workspace-level ``warnings`` (participants.csv rows that match no transcript, ...)."""

    transcripts: list[Transcript] = field(default_factory=list)
    rows: list[IngestRow] = field(default_factory=list)
    errors: list[QualkitError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def ingest(ws: _Store, paths: Iterable[str | Path] | None = None,
           progress: Callable[[list[Path]], Iterable[Path]] | None = None, summarize: bool = True,
           visit: Callable[[Transcript], object] | None = None, rows_only: bool = False,
           known: Callable[[Path], bool] | None = None) -> IngestResult:
    """Read transcripts (all of transcripts/, or ``paths``); collect every problem, stop at none.

    Two files with the same id (file stem) are an error for both: codings refer to transcripts by id.
    ``progress``, if given, wraps the list of files (e.g. a progress bar) and is iterated.
    ``visit``, if given, is called with each transcript read, and the result then holds each as a
    :class:`TranscriptRef` (read again when asked for): a whole-study command holds one transcript at
    a time, not the study's text (350 MB at 5,000 interviews). ``rows_only``: the caller needs the rows
    only (`qualkit ingest`); the result then holds TranscriptRefs too, and a file parsed in a worker
    process is summed up there, not read back here. ``known`` (with ``visit``): a file it says was
    read before without a problem (its parse cached for its state now) is held as a TranscriptRef
    without being read or visited (`status`, which wants the readable ids, not the texts).
    """
    from qualkit.transcripts import is_transcript_file

    table = ws.participant_table  # a broken participants.csv is one error, not one per file
    result = IngestResult(warnings=list(ws.config.warnings) + list(table.warnings))
    if paths is not None:
        files = [Path(p) for p in paths]
    else:
        files = ws.transcript_paths()
        result.errors.extend(ws._scan()[1])
        for other in ws.unreadable_paths():
            if other.with_suffix(".docx").is_file():
                continue  # converted (`qualkit ingest --convert`): its .docx copy is read instead
            try:
                from qualkit.transcripts import read_transcript

                read_transcript(other)  # raises the format's own hint (e.g. "PDF is not supported")
            except QualkitError as exc:
                result.errors.append(exc)
    ws.disk_cache.begin_batch()  # the parses of this ingest written a few dozen per transaction
    try:
        rows = prefetch(ws, [p for p in files if not name_problem(p.stem)], ws.jobs, rows_only=rows_only and summarize and visit is None)
        by_id: dict[str, Path] = {}
        stamps: dict[Path, tuple[float, int] | None] = {}  # (each file's state as this loop found it, for the prune)
        for path in progress(files) if progress is not None else track(files, "Reading transcripts"):
            if path.stem in by_id and is_transcript_file(path):
                result.errors.append(TranscriptError(
                    f"two transcripts have the id {path.stem!r} ({ws._transcripts_rel(by_id[path.stem])} and {ws._transcripts_rel(path)}); rename one", path))
                continue
            by_id[path.stem] = path
            why = name_problem(path.stem)
            if why:
                result.errors.append(TranscriptError(f"the transcript id {path.stem!r} {why}; rename the file", path))
                continue
            summed = rows.pop(path, None) if rows else None
            if summed is not None:
                stamps[path] = _stamp(path)
            if summed is not None and summed[0] == stamps[path]:  # parsed and summed up in a worker, or from its cache entry
                tid, *row = summed[1]
                result.rows.append(IngestRow(tid, path, *row))  # type: ignore[arg-type]
                result.transcripts.append(cast(Transcript, TranscriptRef(ws, tid, path)))
                continue
            if known is not None and visit is not None and known(path):
                result.transcripts.append(cast(Transcript, TranscriptRef(ws, path.stem, path)))
                continue
            try:
                t = ws.read(path)
            except QualkitError as exc:
                result.errors.append(exc)
                continue
            if visit is not None:
                visit(t)
            result.transcripts.append(t if visit is None or t.path is None else cast(Transcript, TranscriptRef(ws, t.id, t.path)))
            if summarize:  # word counts cost a pass over the text; transcripts() does not need them
                result.rows.append(IngestRow(t.id, path, t.source_format, len(t.turns), len(t.speakers), t.word_count, list(t.warnings)))
    finally:  # committed whatever happens: an open transaction would keep other writers waiting
        ws.disk_cache.end_batch()
    if paths is None:
        result.warnings.extend(unmatched_participant_rows(ws, {p.stem for p in files}))
        if summarize:  # a full ingest (the command, `run`): entries of files removed or changed since go
            ws.disk_cache.prune({p: st for p in by_id.values() if (st := stamps.get(p) or _stamp(p)) is not None})
    return result


def iter_texts(ws: _Store, ids: Iterable[str] | None = None) -> Iterator[tuple[str, str]]:
    """(id, normalized text) of the readable transcripts among ``ids`` (default: all), in id order,
    one at a time: a caller that needs each text once holds one, not the study's. A missing,
    duplicated or unreadable transcript is left out (the commands that need it say why)."""
    read, known = text_reader(ws)
    for tid in track(sorted(known if ids is None else set(ids)), "Reading transcripts"):
        text = read(tid)
        if text is not None:
            yield tid, text


def text_reader(ws: _Store) -> tuple[Callable[[str], str | None], set[str]]:
    """(a function from a transcript id to its normalized text, the ids of transcripts/): the function
    gives None for a missing, duplicated or unreadable transcript, as :func:`iter_texts` leaves them out."""
    return id_reader(ws, ws.read_text)


def id_reader(ws: _Store, read_path: Callable[[Path], _T]) -> tuple[Callable[[str], _T | None], set[str]]:
    """(a function from a transcript id to ``read_path`` of its one file, the ids of transcripts/): None for
    an id with no file, with several (int1.txt and int1.docx) or whose file cannot be read."""
    paths: dict[str, list[Path]] = {}
    for p in ws.transcript_paths():
        paths.setdefault(p.stem, []).append(p)

    def read(tid: str) -> _T | None:
        found = paths.get(tid)
        if not found or len(found) > 1:
            return None
        try:
            return read_path(found[0])
        except QualkitError:
            return None
    return read, set(paths)


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime, st.st_size)


def _plan(ws: _Store, path: Path, stamp: tuple[float, int] | None) -> tuple[str | None, list[str], str | None]:
    """(speaker pattern, known labels, disk-cache key) of one file: what its parse depends on.
    Kept for the command (while the file, qualkit.yaml and participants.csv are unchanged):
    :func:`prefetch` and then :func:`read_one` ask for every file."""
    memo = ws.__dict__.setdefault("_plans", {})
    config, table = ws.config, ws.participant_table
    hit = memo.get(path)
    if hit is not None and hit[0] == stamp and hit[1] is config and hit[2] is table:
        return hit[3]
    pattern, known = ws.speaker_rule(path)[0], table.labels_for(path.stem)
    key = ws.disk_cache.key(path, stamp, [pattern, known]) if stamp is not None else None
    memo[path] = (stamp, config, table, (pattern, known, key))
    return pattern, known, key


def _keep(ws: _Store, path: Path, stamp: tuple[float, int] | None, transcript: Transcript) -> Transcript:
    ws._attach_participants(transcript)
    if stamp is not None:
        ws._cache[path] = (stamp, transcript)
    return transcript


def held(ws: _Store, path: Path) -> tuple[Transcript | None, tuple[float, int] | None]:
    """(the transcript this command holds for ``path`` if its file is unchanged, else None; the file's state)."""
    stamp = _stamp(path)
    cached = ws._cache.get(path)
    return (cached[1] if cached is not None and stamp is not None and cached[0] == stamp else None), stamp


def read_one(ws: _Store, path: Path) -> Transcript:
    """One transcript: from this command's memory, else the on-disk cache, else parsed from the file."""
    transcript, stamp = held(ws, path)
    return transcript if transcript is not None else _read_unheld(ws, path, stamp)


def _read_unheld(ws: _Store, path: Path, stamp: tuple[float, int] | None) -> Transcript:
    from qualkit.transcripts import read_parsed

    pattern, known, key = _plan(ws, path, stamp)
    transcript = ws.disk_cache.get(key) if key is not None else None
    if transcript is None:
        from qualkit.workspace.cache import pack

        parsed = read_parsed(path, speaker_pattern=pattern, known_speakers=known)  # (as a worker parses: the same entry)
        data = pack(parsed) if key is not None and stamp is not None else None  # (words counted before the turns are made)
        transcript = parsed.transcript()
        if data is not None:
            ws.disk_cache.put(key, None, path, stamp, data)
    return _keep(ws, path, stamp, transcript)


def read_text_one(ws: _Store, path: Path) -> str:
    """One transcript's text alone: from this command's memory, else the on-disk cache without
    decoding its turns, else parsed from the file (as :func:`read_one`). For readers of words only
    (quotes, a unit's text), so that a walk after the memo is full costs a text decode, not a parse."""
    transcript, stamp = held(ws, path)
    if transcript is not None:
        return transcript.text
    key = _plan(ws, path, stamp)[2]
    text = ws.disk_cache.get_text(key) if key is not None else None
    return text if text is not None else _read_unheld(ws, path, stamp).text


def prefetch(ws: _Store, paths: list[Path], jobs: int | None = None, rows_only: bool = False) -> dict[Path, tuple[tuple[float, int], Summary]]:
    """Parse the files of ``paths`` that no cache holds in ``jobs`` processes (default: every core),
    and keep them as :func:`read_one` would; returns the ingest row of each file parsed here, or summed
    up from its entry in the on-disk cache (:func:`_summed_from_cache`), when ``rows_only`` (each with
    the file's state then), which are then not read back into this process (their parse is in the
    on-disk cache, written by the workers), else an empty dict.

    Processes are forked unless one is asked for, they cannot be forked here, or the files to parse
    hold less than :data:`PARALLEL_MIN_BYTES` (weighted for zipped formats). Without them, ``rows_only``
    files are parsed here the way a worker parses them (to columns, no Turn object, written to the
    cache as they go: half the time of reading each as a Transcript); other reading is left to
    :func:`read_one`. The results are the same every way, since each file is parsed on its own."""
    from qualkit.io.parallel import can_fork, chunks, parallel_each, resolve_jobs
    from qualkit.workspace.ingest_work import WORKER_STORE, parse_chunk, worker_cache_closed

    n = resolve_jobs(jobs)
    rows: dict[Path, tuple[tuple[float, int], Summary]] = {}
    forked = n > 1 and can_fork()
    if not forked and not rows_only:
        return rows
    todo, size, held = _unparsed(ws, paths)
    if rows_only:
        rows.update(_summed_from_cache(ws, held))
    forked = forked and size >= PARALLEL_MIN_BYTES and len(todo) >= 2
    if not todo or not (forked or rows_only):
        return rows
    parts = chunks(todo, n * 4 if forked else max(1, len(todo) // 50))  # (a few chunks a process: an even finish)

    def keep(i: int, parsed: list[tuple[bytes | None, Summary | None] | None]) -> None:  # each chunk as it comes, in order
        from qualkit.workspace.cache import unpack

        progress.advance(len(parts[i]))
        for (path, stamp, _pattern, _known, key), got in zip(parts[i], parsed):
            if got is None:
                continue
            data, summary = got
            if data is None:  # written to the on-disk cache by the worker
                rows[path] = (stamp, summary)  # type: ignore[assignment]
                continue
            stored = key is not None and ws.disk_cache.put(key, None, path, stamp, data)
            if stored and summary is not None:
                rows[path] = (stamp, summary)
            # Kept in memory too while this command's memo has room; beyond it, unpacking here would
            # only be undone (dropped, then read back from the cache when asked for: twice the work).
            # (an entry may hold its text or only the CRC of its file's: the larger of the two sizes is the text's)
            elif (not stored or ws._cache.held + max(len(data), stamp[1]) <= ws._cache.budget) and \
                    (parsed_here := unpack(data, path)) is not None:
                _keep(ws, path, stamp, parsed_here)  # (None: the file changed since; it is read again when asked for)
        ws.disk_cache.end_batch()  # committed now: the workers must not wait on this process's write lock
        ws.disk_cache.begin_batch()

    if rows_only:
        WORKER_STORE.append(ws)  # forked with the workers: they attach participants and write the cache themselves
    ws.disk_cache.end_batch()  # (nothing of this process's left open while the workers write)
    ws.disk_cache.begin_batch()
    try:
        with task("Parsing transcripts", len(todo)) as progress:
            parallel_each(parse_chunk, [[(p, pattern, known, stamp, key) for p, stamp, pattern, known, key in part] for part in parts],
                          n if forked else 1, keep)
    finally:
        WORKER_STORE.clear()
        worker_cache_closed()  # (the connection parse_chunk opened in this process, when it ran here)
    return rows


_Work = tuple[Path, tuple[float, int], str | None, list[str], str | None]  # a file, its state, speaker rules and cache key


def _unparsed(ws: _Store, paths: list[Path]) -> tuple[list[_Work], int, list[_Work]]:
    """The transcript files of ``paths`` that neither this command's memory nor the on-disk cache holds
    in their present state, each with its state, speaker rules and cache key; their weighted size; and
    the files the on-disk cache holds (not this command's memory), in the same form."""
    from qualkit.transcripts import is_transcript_file

    todo: list[_Work] = []
    size = 0
    for path in dict.fromkeys(paths):
        stamp = _stamp(path)
        cached = ws._cache.get(path)
        if stamp is None or not is_transcript_file(path) or (cached is not None and cached[0] == stamp):
            continue
        todo.append((path, stamp, *_plan(ws, path, stamp)))
        size += stamp[1] * _PACKED.get(path.suffix.lower(), 1)
    if not todo:
        return todo, size, []
    held = ws.disk_cache.held([k for *_, k in todo if k is not None])
    return [w for w in todo if w[4] not in held], size, [w for w in todo if w[4] in held]


def _summed_from_cache(ws: _Store, held: list[_Work]) -> dict[Path, tuple[tuple[float, int], Summary]]:
    """The ingest row of each file of ``held`` (its parse in the on-disk cache), with its state, from its
    entry's header, warnings and speakers (:meth:`~qualkit.workspace.cache.TranscriptCache.summary`: no
    Turn made, no text decoded) and the participants found as reading it would: a tenth of the cost of
    reading the transcript back, for `qualkit ingest` on a study where a few files are new. A file whose
    entry gives none is left to be read as usual."""
    from qualkit.workspace.ingest_work import speakers_found

    rows: dict[Path, tuple[tuple[float, int], Summary]] = {}
    for path, stamp, _pattern, _known, key in held:
        got = ws.disk_cache.summary(key) if key is not None else None
        if got is None:
            continue
        head, warnings, speakers = got
        found = speakers_found(ws, head.id, speakers, list(warnings))[1]
        labels = sum(1 for label in head.labels if label is not None)
        rows[path] = (stamp, (head.id, head.source_format, head.turns, labels, head.words, list(found)))
    return rows


def unmatched_participant_rows(ws: _Store, ids: set[str]) -> list[str]:
    """participants.csv rows naming a transcript that does not exist (a typo loses a mapping)."""
    import difflib

    out = []
    for row in ws.participant_table.rows:
        tid = row["transcript"]
        if tid and tid not in ids:
            close = difflib.get_close_matches(tid, sorted(ids), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(f"{PARTICIPANTS_NAME}: transcript {tid!r} (speaker {row['speaker']!r}) is not in transcripts/{hint}")
    return out


def convert_documents(ws: _Store) -> tuple[list[tuple[Path, Path]], list[QualkitError]]:
    """Convert legacy documents in transcripts/ (.doc, ...) to .docx copies with LibreOffice.

    Returns ((original, copy) pairs, errors). Originals are never modified; a file that already
    has a .docx of its name is left alone.
    """
    from qualkit.transcripts import CONVERTIBLE
    from qualkit.transcripts.convert import convert_to_docx, find_soffice

    todo = [p for p in ws.unreadable_paths() if p.suffix.lower() in CONVERTIBLE and not p.with_suffix(".docx").exists()]
    done: list[tuple[Path, Path]] = []
    errors: list[QualkitError] = []
    soffice = find_soffice()
    for path in todo:
        try:
            done.append((path, convert_to_docx(path, soffice)))
        except QualkitError as exc:
            errors.append(exc)
    return done, errors


def turn_table(ws: _Store, transcripts: list[Transcript] | None = None) -> pd.DataFrame:
    """Every turn as a DataFrame row: transcript, turn, speaker, participant, attributes, text."""
    import pandas as pd

    from qualkit.transcripts.render import format_timestamp

    table = ws.participant_table
    attrs = list(dict.fromkeys([*table.attribute_columns, *ws.case_columns()]))
    tables = (ws.documents, ws.cases)  # read (and their files' state checked) once, not once per turn
    records = []
    for t in transcripts if transcripts is not None else ws.transcripts():
        if isinstance(t, TranscriptRef):  # read once here, not once per attribute asked of each turn
            t = ws.read(t.path)
        for turn in t.turns:
            a = ws.attributes_at(t, turn, tables=tables)
            rec = {"transcript": t.id, "turn": turn.index + 1, "speaker": turn.speaker,
                   "participant_id": turn.participant, **{c: a.get(c) for c in attrs},
                   "time": format_timestamp(turn.timestamp) if turn.timestamp is not None else None,
                   "seconds": turn.timestamp, "start": turn.start, "end": turn.end,
                   "text": t.text[turn.start:turn.end]}
            records.append(rec)
    return pd.DataFrame.from_records(records, columns=["transcript", "turn", "speaker", "participant_id", *attrs, "time", "seconds", "start", "end", "text"])
