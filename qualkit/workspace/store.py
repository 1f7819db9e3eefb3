"""A workspace: a folder with qualkit.yaml, found the way git finds its repository."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qualkit.errors import QualkitError, TranscriptError, WorkspaceError
from qualkit.io.jsonlog import locked
from qualkit.io.naming import name_problem, natural_key  # noqa: F401  (re-exported for callers of the store)
from qualkit.io.transaction import Transaction, active, gathered, pending, recover, write_file
from qualkit.transcripts.model import Transcript
from qualkit.workspace.config import CONFIG_NAME, Config, load_config
from qualkit.workspace.derived import DerivedCache
from qualkit.workspace.ingest import IngestResult, IngestRow, TranscriptMemo  # noqa: F401  (IngestResult/Row re-exported)
from qualkit.workspace.listing import folder_mtimes, list_folder
from qualkit.workspace.participants import (
    PARTICIPANTS_NAME,
    Participants,
    load_participants,
)

if TYPE_CHECKING:
    import pandas as pd

    from qualkit.transcripts.explain import Explanation
    from qualkit.workspace.cache import TranscriptCache
    from qualkit.workspace.codebook import Codebook
    from qualkit.workspace.codings import Coding

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
        self._documents: Any = None
        self._cases: Any = None
        self._sections: dict[str, tuple[int, list]] = {}
        self._cache = TranscriptMemo()  # the transcripts read, most recent kept (qualkit.workspace.ingest)
        # Files the last :meth:`transcripts` call could not read, each with its one-line reason.
        self.skipped_transcripts: list[QualkitError] = []
        # transcripts/ listing, valid while no folder in it changed (see _files)
        self._index: tuple[tuple[Path, ...], tuple[int | None, ...], list[Path], dict[str, list[Path]], bool,
                           list[QualkitError]] | None = None
        self._paths: tuple[Any, list[Path]] | None = None  # transcript_paths() for the index it was made from
        self._codings_cache: dict[Path, tuple[tuple[int, int, int], list]] = {}
        self.derived_cache = DerivedCache()  # what derived() keeps, and for how long (qualkit.workspace.derived)
        self._disk_cache: Any = None

        # Codings whose transcript changed are re-anchored in memory (qualkit.coding.anchoring);
        # entry points decide whether unplaceable ones may be left out, and where notices go.
        self.allow_unanchored: bool = False
        # Processes that parse transcripts when many need parsing (None: every core; 1: serial).
        self.jobs: int | None = None
        self.notify: Callable[[str], None] | None = None
        self.anchor_state: dict = {}

    def state_lock(self, timeout: float = STATE_LOCK_TIMEOUT) -> AbstractContextManager[None]:
        """The one lock every read-modify-write of the workspace's files takes (codings, codebooks,
        consensus, audit log); re-entrant, so a command holding it may call helpers that take it."""
        return locked(self.root / STATE_LOCK, timeout=timeout, what="this workspace")

    def transaction(self) -> Transaction:
        """Files to replace together (see :mod:`qualkit.io.transaction`); commit it under :meth:`state_lock`."""
        return Transaction(self.root, self.backup_dir)

    def one_change(self) -> AbstractContextManager[Transaction]:
        """Hold the lock; files written inside (:meth:`write_codings`, :meth:`replace_file`) are replaced
        together when the block ends: a command writing several files is one transaction."""
        return gathered(self.root, self.backup_dir, self.state_lock())

    def replace_file(self, path: str | Path, content: str | bytes, *, keep_backup: bool = True) -> None:
        """Replace a workspace file (atomic, the old one backed up), or stage it inside :meth:`one_change`."""
        write_file(self.root, path, content, self.backup_dir, keep_backup=keep_backup)

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
    def participants(self) -> pd.DataFrame:
        """participants.csv as a pandas DataFrame."""
        return self.participant_table.to_dataframe()

    # -- frameworks ---------------------------------------------------------------------
    def frameworks(self) -> dict:
        """Built-in frameworks plus (overridden or extended by) the workspace's frameworks/*.yaml.

        With ``framework: heif@2019`` in qualkit.yaml, HEIF carries its 2019 labels (ids unchanged)."""
        from qualkit.frameworks.catalog import available_frameworks

        pool = available_frameworks([self.root / "frameworks"])
        fid, version = self.config.framework, self.config.framework_version
        if fid and version and fid in pool:
            try:
                pool[fid] = pool[fid].for_version(version)
            except QualkitError as exc:
                raise WorkspaceError(f"'framework: {fid}@{version}': {exc.message}", self.root / "qualkit.yaml") from None
        return pool

    # -- codebooks ----------------------------------------------------------------------
    @property
    def codebooks_dir(self) -> Path:
        return self.root / "codebooks"

    def codebooks(self) -> list:
        """Every codebook in codebooks/ (name order)."""
        from qualkit.workspace.codebook import load_codebooks

        return load_codebooks(self.codebooks_dir) if self.codebooks_dir.is_dir() else []

    def codebook(self, codebook_id: str | None = None) -> Codebook:
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

    def codings(self, coder: str, each: Callable[[Coding], object] | None = None) -> list:
        """A coder's codings (empty if the coder has no file yet).

        Parsed once per file state (mtime, size, inode): every step of a command that asks again
        gets the same Coding objects in a new list, so callers must not modify them in place. ``each(coding)`` is
        called on each coding as its row is read, when the file is read (anchoring lets go of checked quotes)."""
        from qualkit.workspace.codings import read_codings

        path = self.coder_file(coder)
        try:
            st = path.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        cached = self._codings_cache.get(path)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return list(cached[1])
        codings = read_codings(path, each)
        if stamp is not None:
            self._codings_cache[path] = (stamp, codings)
        return list(codings)

    def write_codings(self, coder: str, codings: Iterable[Coding]) -> Path:
        """Replace a coder's file atomically, backing up the old one in .qualkit/backups/.

        Each coding whose quote is verified at its offsets is stamped with the transcript's
        current content hash (the text it is anchored to)."""
        from qualkit.workspace.codings import dumps_codings, stamp_hashes, write_codings
        from qualkit.workspace.ingest import text_reader

        codings = list(codings)
        texts = text_reader(self)[0]  # one transcript's text at a time
        path = self.coder_file(coder)
        if active(self.root) is None:
            return write_codings(path, stamp_hashes(codings, texts), self.backup_dir)
        self.replace_file(path, dumps_codings(stamp_hashes(codings, texts)))  # inside one_change
        return path

    def texts_by_id(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Transcript id -> normalized text for the readable transcripts among ``ids`` (default: all).

        A missing, duplicated or unreadable transcript is left out (the commands that need it say why);
        :func:`qualkit.workspace.ingest.iter_texts` gives them one at a time."""
        from qualkit.workspace.ingest import iter_texts

        return dict(iter_texts(self, ids))

    def codings_frame(self, coders: Iterable[str] | None = None) -> pd.DataFrame:
        """Codings of the given coders (default: all) as one DataFrame with a ``coder`` column."""
        import pandas as pd

        from qualkit.workspace.codings import COLUMNS, to_dataframe

        frames = [to_dataframe(self.codings(c), coder=c) for c in (coders if coders is not None else self.coders())]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["coder", *COLUMNS])

    # -- derived results ---------------------------------------------------------------
    def inputs_stamp(self) -> tuple:
        """(mtime, size, inode) of each file an analysis reads: qualkit.yaml, participants.csv, codebooks/, codings/, transcripts."""
        from qualkit.workspace.inputs import inputs_stamp

        return inputs_stamp(self)

    def derived(self, key: Any, build: Any) -> Any:
        """``build()``'s result, computed once while the inputs are unchanged (:meth:`inputs_stamp`, taken once per
        state inside ``derived_cache.steady()``: :mod:`qualkit.workspace.inputs`) and shared by a command's steps,
        so not to be modified; ``build=None`` only looks (None: not computed, or inputs changed)."""
        from qualkit.workspace.inputs import derived_stamp

        return self.derived_cache.get(key, derived_stamp(self), build)

    def forget(self, key: Any) -> None:
        """Drop a :meth:`derived` result no later step asks for, so its memory is given back."""
        self.derived_cache.forget(key)

    # -- transcripts --------------------------------------------------------------------
    @property
    def transcripts_dir(self) -> Path:
        return self.root / TRANSCRIPTS_DIR

    def _files(self) -> list[Path]:
        """Every file in transcripts/ (recursively, hidden ones and refused links left out), in natural order."""
        return self._scan()[0]

    def _scan(self) -> tuple[list[Path], list[QualkitError]]:
        """Files in transcripts/, and the links refused: dangling ones, and ones that lead out of the
        workspace (their content would end up in exports) unless QUALKIT_ALLOW_OUTSIDE_LINKS is set.

        Listed once and kept while every folder in transcripts/ keeps its mtime: adding, removing
        or renaming a file changes its folder's mtime, so the listing is never stale, and asking
        for one transcript by id costs a few stat calls instead of a scan of the folder."""
        import os

        allow = bool(os.environ.get("QUALKIT_ALLOW_OUTSIDE_LINKS"))
        index = self._index
        if index is not None and folder_mtimes(index[0]) == index[1] and index[4] == allow:
            return list(index[2]), list(index[5])
        dirs, stamps, files, refused = list_folder(self.transcripts_dir, lambda p, f, r: self._list_link(p, allow, f, r))
        files.sort(key=natural_key)
        by_stem: dict[str, list[Path]] = {}
        for p in files:
            by_stem.setdefault(p.stem, []).append(p)
        self._index = (tuple(dirs), stamps, files, by_stem, allow, refused)
        return list(files), list(refused)

    def _list_link(self, p: Path, allow: bool, files: list[Path], refused: list[QualkitError]) -> None:
        """A link in transcripts/: to a file in the workspace (or anywhere, when ``allow``), to ``files``;
        a dangling one, or one out of the workspace, to ``refused``; one to a folder, to neither."""
        if not p.exists():
            refused.append(TranscriptError("is a link to a file that does not exist (dangling); remove it", p))
            return
        if not allow and not p.resolve().is_relative_to(self.root):
            refused.append(TranscriptError(
                f"is a link to {p.resolve()}, outside the workspace; copy the file in, or allow links "
                "with `qualkit --allow-outside-links`", p))
            return
        if p.is_file():
            files.append(p)

    def transcript_paths(self) -> list[Path]:
        """Transcript files in transcripts/ (recursively), in natural order (int2 before int10)."""
        from qualkit.transcripts import is_transcript_file

        files = self._files()  # brings the index up to date; the filtered list is kept with it
        index = self._index
        if index is not None and self._paths is not None and self._paths[0] is index:
            return list(self._paths[1])
        paths = [p for p in files if is_transcript_file(p)]
        self._paths = (index, paths)
        return list(paths)

    def unreadable_paths(self) -> list[Path]:
        """Files in transcripts/ that qualkit cannot read (a PDF, an old .doc): never skipped silently."""
        from qualkit.transcripts import is_transcript_file

        return [p for p in self._files() if not is_transcript_file(p)]

    def read(self, path: str | Path) -> Transcript:
        """Read one transcript with the workspace's speaker rules and attach participants (from this
        command's memory, else the on-disk cache, else the file: :func:`qualkit.workspace.ingest.read_one`)."""
        from qualkit.workspace.ingest import read_one

        return read_one(self, path if isinstance(path, Path) else Path(path))

    @property
    def reads_files_as_they_are(self) -> bool:
        """Whether transcripts read as their parses are cached (not a view that rewrites the text, such as
        the de-identified one): only then may part of a cache entry stand in for the transcript."""
        return type(self).read is Workspace.read

    def read_text(self, path: Path) -> str:
        """One transcript's text alone, its turns not decoded (:func:`qualkit.workspace.ingest.read_text_one`)."""
        from qualkit.workspace.ingest import read_text_one

        return read_text_one(self, path) if self.reads_files_as_they_are else self.read(path).text

    def speaker_rule(self, path: str | Path) -> tuple[str | None, str]:
        """(pattern or None to learn the file's convention, where that comes from) for one file.

        The first ``speakers.rules`` entry whose ``files`` glob matches the path (relative to
        transcripts/) or the file name wins; otherwise ``speakers.pattern`` applies to .txt/.md files,
        while subtitle and Word files carry their own labelling (Zoom, Teams, bold runs).
        """
        from fnmatch import fnmatch

        path = path if isinstance(path, Path) else Path(path)  # Path(a Path) parses it again
        rules = self.config.speaker_rules
        try:
            rel = path.resolve().relative_to(self.transcripts_dir.resolve()).as_posix() if rules else path.name
        except (ValueError, OSError):
            rel = path.name
        for n, (glob, pattern, what) in enumerate(rules, 1):
            if fnmatch(rel, glob) or fnmatch(path.name, glob):
                return pattern, f"speakers.rules entry {n} ({glob!r}: {what})"
        if self.config.speaker_pattern and path.suffix.lower() in (".txt", ".text", ".md", ".markdown"):
            return self.config.speaker_pattern, "speakers.pattern"
        return None, "learned from the file"

    def explain_transcript(self, transcript_id: str) -> Explanation:
        """Why a transcript's speakers came out as they did (``qualkit transcripts explain``): the rule
        used, the convention detected, each label candidate accepted or rejected and why, the first
        lines attributed to no one. Returns a :class:`qualkit.transcripts.explain.Explanation`."""
        from qualkit.transcripts.explain import explain_transcript

        t = self.transcript(transcript_id)
        pattern, rule = self.speaker_rule(t.path) if t.path is not None else (None, "learned from the file")
        return explain_transcript(t, speaker_pattern=pattern, known_speakers=self.participant_table.labels_for(t.id),
                                  rule=rule)

    @property
    def disk_cache(self) -> TranscriptCache:
        """Parsed transcripts kept in .qualkit/cache/ across commands (see qualkit.workspace.cache)."""
        if self._disk_cache is None:
            from qualkit.workspace.cache import TranscriptCache

            self._disk_cache = TranscriptCache(self.root)
        return self._disk_cache

    def _attach_participants(self, transcript: Transcript) -> None:
        from qualkit.workspace.ingest_work import speakers_found

        found, transcript.warnings = speakers_found(self, transcript.id, [turn.speaker for turn in transcript.turns], transcript.warnings)
        if found:
            for turn in transcript.turns:
                if turn.speaker in found:
                    turn.participant = found[turn.speaker]

    def ingest(self, paths: Iterable[str | Path] | None = None, progress: Callable[[list[Path]], Iterable[Path]] | None = None,
               summarize: bool = True, rows_only: bool = False) -> IngestResult:
        """Read transcripts (all of transcripts/, or ``paths``); collect every problem, stop at none
        (:func:`qualkit.workspace.ingest.ingest`)."""
        from qualkit.workspace.ingest import ingest

        return ingest(self, paths, progress, summarize, rows_only=rows_only)

    def convert_documents(self) -> tuple[list[tuple[Path, Path]], list[QualkitError]]:
        """Convert legacy documents in transcripts/ (.doc, ...) to .docx copies with LibreOffice;
        originals are never modified (:func:`qualkit.workspace.ingest.convert_documents`)."""
        from qualkit.workspace.ingest import convert_documents

        return convert_documents(self)

    def export_text(self, text: str) -> str:
        """Free text on its way into an export (a summary bullet). As written here; the
        de-identified view (qualkit.deid.redact) replaces identifiers."""
        return text

    def rel(self, path: str | Path | None) -> str:
        """``path`` relative to the workspace root, as a POSIX path for display; as given when outside it."""
        from qualkit.io.paths import relative_to

        return relative_to(path, self.root)

    def _transcripts_rel(self, path: Path) -> str:
        """``path`` relative to transcripts/ (how a transcript file is named in ingest messages)."""
        try:
            return str(Path(path).resolve().relative_to(self.transcripts_dir.resolve()))
        except ValueError:
            return str(path)

    def transcripts(self, *, strict: bool = False) -> list[Transcript]:
        """Every readable transcript in the workspace.

        An unreadable file does not stop a study: it is left out and its error kept in
        :attr:`skipped_transcripts` for the caller to report. ``strict`` raises the first instead.
        """
        result = self.ingest(summarize=False)
        self.skipped_transcripts = list(result.errors)
        if result.errors and strict:
            raise result.errors[0]
        return result.transcripts

    # -- documents and cases ------------------------------------------------------------
    @property
    def documents(self) -> Any:
        """documents.csv (:class:`qualkit.workspace.cases.Documents`): attributes per document."""
        from qualkit.workspace.cases import DOCUMENTS_NAME, load_documents

        self._documents = self._fresh(self._documents, self.root / DOCUMENTS_NAME, load_documents)
        return self._documents[1]

    @property
    def cases(self) -> Any:
        """cases.csv (:class:`qualkit.workspace.cases.Cases`): attributes per case (site, program, ...)."""
        from qualkit.workspace.cases import CASES_NAME, load_cases

        self._cases = self._fresh(self._cases, self.root / CASES_NAME, load_cases)
        return self._cases[1]

    @staticmethod
    def _fresh(cached: Any, path: Path, load: Any) -> tuple[Any, Any]:
        """(stamp, table), read again when the file changed since it was last read."""
        try:
            stat = path.stat()
            stamp: Any = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if cached is None or cached[0] != stamp:
            return stamp, load(path)
        return cached

    def case_columns(self) -> list[str]:
        """Attribute names a matrix can be cut by besides participants.csv's: documents.csv's, cases.csv's
        and the section headings' keys."""
        cols = [*self.documents.attribute_columns, *self.section_keys(), *self.cases.attribute_columns]
        return [c for c in dict.fromkeys(cols) if c not in ("type",)]

    def section_keys(self) -> list[str]:
        """Heading words that open a case section (``## Site: Millbrook``)."""
        return list(dict.fromkeys(["site", "program", "participant", "case", *self.cases.types()]))

    def attributes_at(self, transcript: Transcript, turn: Any | None = None, offset: int | None = None, *,
                      tables: tuple[Any, Any] | None = None) -> dict[str, str]:
        """The attributes of a passage: its document's, its participant's, its case section's, then those
        of the cases these name (see :mod:`qualkit.workspace.cases`). ``tables``: (documents, cases) as
        read once by a caller that asks for many passages (else each call checks both files' state)."""
        from qualkit.workspace.cases import sections

        documents, cases = tables if tables is not None else (self.documents, self.cases)
        out = dict(documents.attributes(transcript.id))
        if turn is not None and turn.participant:
            out.update({k: v for k, v in self.participant_table.attributes(turn.participant).items() if v})
        cached = self._sections.get(transcript.id)
        if cached is None or cached[0] != len(transcript.text):
            cached = (len(transcript.text), sections(transcript.text, set(self.section_keys())))
            self._sections[transcript.id] = cached
        where = offset if offset is not None else (turn.start if turn is not None else None)
        if where is not None:
            for start, end, values in cached[1]:
                if start <= where < end:
                    out.update(values)
        if turn is not None:
            for key, value, first, last in documents.ranges(transcript.id):
                if first <= turn.index + 1 <= last:
                    out[key] = value
        for value in list(out.values()):
            for k, v in cases.attributes(value).items():
                out.setdefault(k, v)
        return out

    def transcript(self, transcript_id: str) -> Transcript:
        """One transcript by id (file stem; a file name with its extension is accepted too)."""
        from qualkit.transcripts import is_transcript_file

        paths = self.transcript_paths()  # also brings the index (self._index) up to date
        by_stem = self._index[3] if self._index is not None else {}
        matches = [p for p in by_stem.get(transcript_id, []) if is_transcript_file(p)]
        matches = matches or [p for p in paths if p.name == transcript_id]
        if not matches:
            ids = [p.stem for p in paths]
            known = ", ".join(ids[:12]) + (f", ... ({len(ids)} in all: `qualkit transcripts list`)" if len(ids) > 12 else "")
            raise WorkspaceError(f"no transcript with id {transcript_id!r} (known: {known or 'none'})", self.transcripts_dir)
        if len(matches) > 1:
            raise WorkspaceError(f"two transcripts have the id {transcript_id!r}: {', '.join(p.name for p in matches)}", self.transcripts_dir)
        return self.read(matches[0])

    def turn_table(self, transcripts: list[Transcript] | None = None) -> pd.DataFrame:
        """Every turn as a DataFrame row: transcript, turn, speaker, participant, attributes, text."""
        from qualkit.workspace.ingest import turn_table

        return turn_table(self, transcripts)
