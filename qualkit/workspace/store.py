"""A workspace: a folder with qualkit.yaml, found the way git finds its repository."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from qualkit.errors import QualkitError, TranscriptError, WorkspaceError
from qualkit.io.jsonlog import locked
from qualkit.io.naming import name_problem, natural_key  # noqa: F401  (re-exported for callers of the store)
from qualkit.io.transaction import Transaction, pending, recover
from qualkit.transcripts.model import Transcript
from qualkit.workspace.config import CONFIG_NAME, Config, load_config
from qualkit.workspace.participants import (
    PARTICIPANTS_NAME,
    Participants,
    load_participants,
)

T = TypeVar("T")
TRANSCRIPTS_DIR = "transcripts"
STATE_LOCK = Path(".qualkit") / "state"
STATE_LOCK_TIMEOUT = 120.0  # seconds a writer waits for another one before giving up with a message


def state_locked(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn(workspace, ...)`` holding the workspace's lock: its reads and writes are one step."""
    @functools.wraps(fn)
    def wrapper(workspace: Workspace, *args: Any, **kwargs: Any) -> T:
        with workspace.state_lock():
            return fn(workspace, *args, **kwargs)
    return wrapper


def _hidden(path: Path, folder: Path) -> bool:
    """Hidden files and folders (.DS_Store, .git) and Office lock files (~$x.docx) are not ours."""
    return any(part.startswith((".", "~$")) for part in path.relative_to(folder).parts)


def find_root(start: str | Path = ".") -> Path:
    """The nearest folder at or above ``start`` holding qualkit.yaml."""
    if not Path(start).exists():
        raise WorkspaceError("no such folder", start)
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceError(
        f"not inside a qualkit workspace (no {CONFIG_NAME} here or above); "
        "create one with `qualkit init DIR` or try `qualkit demo DIR`", here)


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


class Workspace:
    """An open workspace: its config, participants, codebooks, codings and transcripts.

    This is the data-access object every domain module takes. The verbs that mirror the CLI
    (``agreement``, ``matrix``, ...) live on the facade :class:`qualkit.api.Workspace`, which
    sits above the modules it calls."""

    def __init__(self, path: str | Path = ".", *, search_parents: bool = True):
        path = Path(path)
        if search_parents:
            self.root = find_root(path)
        else:
            if not (path / CONFIG_NAME).is_file():
                raise WorkspaceError(f"no {CONFIG_NAME} in this folder", path)
            self.root = path.resolve()
        if pending(self.root):  # a multi-file change was interrupted (killed): finish or undo it first
            with self.state_lock():
                recover(self.root)
        self.config: Config = load_config(self.root / CONFIG_NAME)
        self._participants: Participants | None = None
        self._cache: dict[Path, tuple[tuple[float, int], Transcript]] = {}

    def state_lock(self, timeout: float = STATE_LOCK_TIMEOUT) -> AbstractContextManager[None]:
        """The one lock every read-modify-write of the workspace's files takes (codings, codebooks,
        consensus, audit log); re-entrant, so a command holding it may call helpers that take it."""
        return locked(self.root / STATE_LOCK, timeout=timeout, what="this workspace")

    def transaction(self) -> Transaction:
        """Files to replace together (see :mod:`qualkit.io.transaction`); commit it under :meth:`state_lock`."""
        return Transaction(self.root, self.backup_dir)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # -- participants -------------------------------------------------------------------
    @property
    def participant_table(self) -> Participants:
        """participants.csv, parsed (plain object with lookups)."""
        if self._participants is None:
            self._participants = load_participants(self.root / PARTICIPANTS_NAME, self.config.facilitator_roles)
        return self._participants

    @property
    def participants(self):
        """participants.csv as a pandas DataFrame."""
        return self.participant_table.to_dataframe()

    # -- frameworks ---------------------------------------------------------------------
    def frameworks(self) -> dict:
        """Built-in frameworks plus (overridden or extended by) the workspace's frameworks/*.yaml."""
        from qualkit.frameworks.catalog import available_frameworks

        return available_frameworks([self.root / "frameworks"])

    # -- codebooks ----------------------------------------------------------------------
    @property
    def codebooks_dir(self) -> Path:
        return self.root / "codebooks"

    def codebooks(self) -> list:
        """Every codebook in codebooks/ (name order)."""
        from qualkit.workspace.codebook import load_codebooks

        return load_codebooks(self.codebooks_dir) if self.codebooks_dir.is_dir() else []

    def codebook(self, codebook_id: str | None = None):
        """One codebook: by id, else qualkit.yaml's ``codebook``, else the only one there is."""
        from qualkit.workspace.codebook import CodebookError

        books = self.codebooks()
        wanted = codebook_id or self.config.codebook
        if wanted:
            for b in books:
                if b.id == wanted or (b.path and b.path.stem == wanted):
                    return b
            known = ", ".join(b.id for b in books) or "none"
            raise CodebookError(f"no codebook {wanted!r} (known: {known})", self.codebooks_dir)
        if len(books) == 1:
            return books[0]
        if not books:
            raise CodebookError("no codebook yet: create one with `qualkit codebook new NAME`", self.codebooks_dir)
        raise CodebookError("several codebooks: name one (--codebook ID) or set 'codebook:' in qualkit.yaml "
                            f"(known: {', '.join(b.id for b in books)})", self.codebooks_dir)

    def code_index(self) -> dict:
        """Code id -> (codebook, code) across all codebooks."""
        from qualkit.workspace.codebook import all_codes

        return all_codes(self.codebooks())

    # -- codings -------------------------------------------------------------------------
    @property
    def codings_dir(self) -> Path:
        return self.root / "codings"

    @property
    def backup_dir(self) -> Path:
        """Where a coder's or codebook's previous version goes before it is rewritten."""
        return self.root / ".qualkit" / "backups"

    def coders(self) -> list[str]:
        """Coders with a file in codings/ (file stems, name order)."""
        folder = self.codings_dir
        return sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []

    def coder_file(self, coder: str) -> Path:
        from qualkit.workspace.codings import coder_path

        return coder_path(self.root, coder)

    def codings(self, coder: str) -> list:
        """A coder's codings (empty if the coder has no file yet)."""
        from qualkit.workspace.codings import read_codings

        return read_codings(self.coder_file(coder))

    def write_codings(self, coder: str, codings) -> Path:
        """Replace a coder's file atomically, backing up the old one in .qualkit/backups/."""
        from qualkit.workspace.codings import write_codings

        return write_codings(self.coder_file(coder), codings, self.backup_dir)

    def codings_frame(self, coders: Iterable[str] | None = None):
        """Codings of the given coders (default: all) as one DataFrame with a ``coder`` column."""
        import pandas as pd

        from qualkit.workspace.codings import COLUMNS, to_dataframe

        frames = [to_dataframe(self.codings(c), coder=c) for c in (coders if coders is not None else self.coders())]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["coder", *COLUMNS])

    # -- transcripts --------------------------------------------------------------------
    @property
    def transcripts_dir(self) -> Path:
        return self.root / TRANSCRIPTS_DIR

    def _files(self) -> list[Path]:
        return self._scan()[0]

    def _scan(self) -> tuple[list[Path], list[QualkitError]]:
        """Files in transcripts/, and the links refused: dangling ones, and ones that lead out of the
        workspace (their content would end up in exports) unless QUALKIT_ALLOW_OUTSIDE_LINKS is set."""
        import os

        folder = self.transcripts_dir
        if not folder.is_dir():
            return [], []
        allow = bool(os.environ.get("QUALKIT_ALLOW_OUTSIDE_LINKS"))
        files: list[Path] = []
        refused: list[QualkitError] = []
        for p in folder.rglob("*"):
            if _hidden(p, folder):
                continue
            if p.is_symlink():
                if not p.exists():
                    refused.append(TranscriptError("is a link to a file that does not exist (dangling); remove it", p))
                    continue
                if not allow and not p.resolve().is_relative_to(self.root):
                    refused.append(TranscriptError(
                        f"is a link to {p.resolve()}, outside the workspace; copy the file in, or allow links "
                        "with `qualkit --allow-outside-links`", p))
                    continue
            if p.is_file():
                files.append(p)
        return sorted(files, key=natural_key), refused

    def transcript_paths(self) -> list[Path]:
        """Transcript files in transcripts/ (recursively), in natural order (int2 before int10)."""
        from qualkit.transcripts import is_transcript_file

        return [p for p in self._files() if is_transcript_file(p)]

    def unreadable_paths(self) -> list[Path]:
        """Files in transcripts/ that qualkit cannot read (a PDF, an old .doc): never skipped silently."""
        from qualkit.transcripts import is_transcript_file

        return [p for p in self._files() if not is_transcript_file(p)]

    def read(self, path: str | Path) -> Transcript:
        """Read one transcript with the workspace's speaker rules and attach participants."""
        from qualkit.transcripts import read_transcript

        path = Path(path)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime, stat.st_size)
        except OSError:
            stamp = None
        cached = self._cache.get(path)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
        table = self.participant_table
        # The workspace's speaker pattern describes its plain-text house style; subtitle and Word
        # files carry their own labelling (Zoom, Teams, bold runs).
        plain = path.suffix.lower() in (".txt", ".text", ".md", ".markdown")
        transcript = read_transcript(
            path,
            speaker_pattern=self.config.speaker_pattern if plain else None,
            known_speakers=table.labels_for(path.stem),
        )
        self._attach_participants(transcript)
        if stamp is not None:
            self._cache[path] = (stamp, transcript)
        return transcript

    def _attach_participants(self, transcript: Transcript) -> None:
        table = self.participant_table
        unknown: dict[str, int] = {}
        for turn in transcript.turns:
            row = table.lookup(transcript.id, turn.speaker)
            if row is not None:
                turn.participant = row["participant_id"]
            elif turn.speaker is not None:
                unknown[turn.speaker] = unknown.get(turn.speaker, 0) + 1
        if table.path is not None and not table.path.exists():
            return  # one workspace-level warning says participants.csv is missing
        for label, n in unknown.items():
            transcript.warnings.append(f"speaker {label!r} ({n} turn{'s' if n != 1 else ''}) is not in {PARTICIPANTS_NAME}")

    def ingest(self, paths: Iterable[str | Path] | None = None, progress=None, summarize: bool = True) -> IngestResult:
        """Read transcripts (all of transcripts/, or ``paths``); collect every problem, stop at none.

        Two files with the same id (file stem) are an error for both: codings refer to transcripts by id.
        ``progress``, if given, wraps the list of files (e.g. a progress bar) and is iterated.
        """
        from qualkit.transcripts import is_transcript_file

        table = self.participant_table  # a broken participants.csv is one error, not one per file
        result = IngestResult(warnings=list(self.config.warnings) + list(table.warnings))
        if paths is not None:
            files = [Path(p) for p in paths]
        else:
            files = self.transcript_paths()
            result.errors.extend(self._scan()[1])
            for other in self.unreadable_paths():
                try:
                    from qualkit.transcripts import read_transcript

                    read_transcript(other)  # raises the format's own hint (e.g. "PDF is not supported")
                except QualkitError as exc:
                    result.errors.append(exc)
        by_id: dict[str, Path] = {}
        for path in progress(files) if progress is not None else files:
            if path.stem in by_id and is_transcript_file(path):
                result.errors.append(TranscriptError(
                    f"two transcripts have the id {path.stem!r} ({self._transcripts_rel(by_id[path.stem])} and {self._transcripts_rel(path)}); rename one", path))
                continue
            by_id[path.stem] = path
            why = name_problem(path.stem)
            if why:
                result.errors.append(TranscriptError(f"the transcript id {path.stem!r} {why}; rename the file", path))
                continue
            try:
                t = self.read(path)
            except QualkitError as exc:
                result.errors.append(exc)
                continue
            result.transcripts.append(t)
            if summarize:  # word counts cost a pass over the text; transcripts() does not need them
                result.rows.append(IngestRow(t.id, path, t.source_format, len(t.turns), len(t.speakers), t.word_count, list(t.warnings)))
        if paths is None:
            result.warnings.extend(self._unmatched_participant_rows({p.stem for p in files}))
        return result

    def rel(self, path: str | Path | None) -> str:
        """``path`` relative to the workspace root, as a POSIX path for display; as given when outside it."""
        if path is None:
            return ""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError):
            return str(path)

    def _transcripts_rel(self, path: Path) -> str:
        """``path`` relative to transcripts/ (how a transcript file is named in ingest messages)."""
        try:
            return str(Path(path).resolve().relative_to(self.transcripts_dir.resolve()))
        except ValueError:
            return str(path)

    def _unmatched_participant_rows(self, ids: set[str]) -> list[str]:
        """participants.csv rows naming a transcript that does not exist (a typo loses a mapping)."""
        import difflib

        out = []
        for row in self.participant_table.rows:
            tid = row["transcript"]
            if tid and tid not in ids:
                close = difflib.get_close_matches(tid, sorted(ids), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                out.append(f"{PARTICIPANTS_NAME}: transcript {tid!r} (speaker {row['speaker']!r}) is not in transcripts/{hint}")
        return out

    def transcripts(self) -> list[Transcript]:
        """Every transcript in the workspace; the first unreadable one raises its error."""
        result = self.ingest(summarize=False)
        if result.errors:
            raise result.errors[0]
        return result.transcripts

    def transcript(self, transcript_id: str) -> Transcript:
        """One transcript by id (file stem; a file name with its extension is accepted too)."""
        paths = self.transcript_paths()
        matches = [p for p in paths if p.stem == transcript_id] or [p for p in paths if p.name == transcript_id]
        if not matches:
            ids = [p.stem for p in paths]
            known = ", ".join(ids[:12]) + (f", ... ({len(ids)} in all: `qualkit transcripts list`)" if len(ids) > 12 else "")
            raise WorkspaceError(f"no transcript with id {transcript_id!r} (known: {known or 'none'})", self.transcripts_dir)
        if len(matches) > 1:
            raise WorkspaceError(f"two transcripts have the id {transcript_id!r}: {', '.join(p.name for p in matches)}", self.transcripts_dir)
        return self.read(matches[0])

    def turn_table(self, transcripts: list[Transcript] | None = None):
        """Every turn as a DataFrame row: transcript, turn, speaker, participant, attributes, text."""
        import pandas as pd

        from qualkit.transcripts.render import format_timestamp

        table = self.participant_table
        attrs = table.attribute_columns
        records = []
        for t in transcripts if transcripts is not None else self.transcripts():
            for turn in t.turns:
                a = table.attributes(turn.participant) if turn.participant else {}
                rec = {"transcript": t.id, "turn": turn.index + 1, "speaker": turn.speaker,
                       "participant_id": turn.participant, **{c: a.get(c) for c in attrs},
                       "time": format_timestamp(turn.timestamp) if turn.timestamp is not None else None,
                       "seconds": turn.timestamp, "start": turn.start, "end": turn.end,
                       "text": t.text[turn.start:turn.end]}
                records.append(rec)
        return pd.DataFrame.from_records(records, columns=["transcript", "turn", "speaker", "participant_id", *attrs, "time", "seconds", "start", "end", "text"])
