"""Import a REFI-QDA project (``.qdpx``) made by another tool (or by qualkit) into a workspace.

:func:`read_qdpx` reads the project leniently (draft namespaces, ``<Name>.qde``, ``Sources/``,
upper-case or braced GUIDs, missing optional attributes, BOMs, stray files: warnings, not errors)
and safely (:mod:`.archive`). :func:`import_qdpx` then writes, into a new or empty folder or an
existing workspace:

* ``transcripts/<name>.txt`` per ``TextSource``: its plain text, normalized (NFC, ``\\n``). The
  name is the source's name without a document extension, made file-safe and unique. Sources
  with no text (NVivo can export only ``"\\n"``) or with text outside the archive are reported.
* ``codebooks/<id>.yaml``: qualkit's own codebook folders (``Codebook id:`` in a top-level
  folder's description) become their codebooks again; other codes go into one codebook named
  after the project. Hierarchy, colors and packed descriptions are restored; codes with the same
  name in different branches get distinct ids (the parent's id as prefix, then ``_2``...).
* ``codings/<user>.csv`` per creating user: the ``User`` name (else its id) made into a coder
  name (letters, digits, ``_ . -``). A coding's user is the ``Coding``'s ``creatingUser``, else
  the selection's, else the only user of the project, else ``unattributed``. Memos are the
  texts of notes referenced from the coding or its selection, of notes linked to the selection
  (``Link``) and of the selection's description. Positions are converted to qualkit's
  (:mod:`.offsets`) and the choice of reading is reported.
* ``codings/<user>.done`` per user with done marks (``Coding done by:`` in a source's
  description, as qualkit exports them: :mod:`.done_marks`); none when the project has none.
* ``participants.csv`` from ``Cases`` and ``Variables``: one row per participant and speaker
  label. A case exported by qualkit lists its speaker labels in its description and they are
  restored exactly. For other cases the participant id is the case name and each text source
  the case refers to (``SourceRef``, or a ``SelectionRef``'s source) gives a row for that
  transcript, with the speaker label that matches the case name in the transcript if one does,
  else the case name itself (REFI-QDA does not say which speaker a case is: edit the label if
  the transcript names the speaker differently); a case with no text source gives a row for
  every transcript (blank ``transcript``). Variables become attribute columns (values as text).

What qualkit cannot hold (pictures, PDFs, audio, video and their selections, transcripts of
media with sync points, sets, graphs, links other than memo links, case codings, source
variables and descriptions, whole-source codings, project-level notes) is counted and reported
in ``not_carried`` instead of failing.

Writing is all or nothing: files are written to a temporary folder first (beside the target,
or in the workspace's ``.qualkit/``) and moved into place only when everything was read.
Merge policy for an existing workspace (``qualkit.yaml`` present): new files only, except that
a coder's codings file that exists but holds no codings is filled and a ``participants.csv``
with no rows gets the imported participants. A transcript that already exists with the same
text is reused; a codebook that already exists with the same codes (same ids and names) is
reused, and so is a participants.csv that already holds every imported row, as after exporting
and re-importing a workspace. Anything else that exists (a transcript with different text, a
different codebook with the same id, a coder's file with codings, a participants.csv with other
rows when the project has cases) refuses the whole import with one message, and nothing is
written. New code ids that clash with the workspace's are
renamed (``_2``...). ``qualkit.yaml`` of an existing workspace is never changed.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import QualkitError, RefiQdaError, WorkspaceError
from qualkit.io.naming import plural_s
from qualkit.refiqda.qdpx_read import ProjectData, coder_name, read_qdpx, transcript_id
from qualkit.workspace.codebook import Codebook
from qualkit.workspace.codings import Coding

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["ProjectData", "QdpxImportResult", "coder_name", "import_qdpx", "read_qdpx", "transcript_id"]


@dataclass
class QdpxImportResult:
    """What :func:`import_qdpx` read, wrote (or would write, with ``dry_run``) and left out."""

    source: Path
    target: Path
    project: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    transcripts: list[str] = field(default_factory=list)
    reused_transcripts: list[str] = field(default_factory=list)
    codebooks: dict[str, int] = field(default_factory=dict)  # codebook id -> codes
    reused_codebooks: list[str] = field(default_factory=list)
    coders: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # coder -> done marks written
    participants: int = 0
    reused_participants: bool = False
    offsets: str = ""
    warnings: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
    created_workspace: bool = False
    written: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"source": str(self.source), "target": str(self.target), "project": self.project,
                "counts": dict(self.counts), "transcripts": list(self.transcripts),
                "reused_transcripts": list(self.reused_transcripts), "codebooks": dict(self.codebooks),
                "reused_codebooks": list(self.reused_codebooks), "coders": dict(self.coders),
                "done": dict(self.done),
                "participants": self.participants, "reused_participants": self.reused_participants,
                "offsets": self.offsets, "warnings": list(self.warnings),
                "not_carried": list(self.not_carried), "created_workspace": self.created_workspace,
                "written": self.written, "dry_run": self.dry_run}



# -- planning against the target ---------------------------------------------------------------

def _existing_codings(path: Path) -> bool:
    from qualkit.workspace.codings import read_codings

    if not path.exists():
        return False
    try:
        return bool(read_codings(path))
    except QualkitError:
        return True


def _rename_codes(book: Codebook, taken: set[str], codings: dict[str, list[Coding]], renamed: dict[str, str]) -> None:
    from qualkit.io.naming import unique_id

    local = {}
    for c in book.codes:
        if c.id in taken:
            new = unique_id(c.id, taken | {x.id for x in book.codes})
            local[c.id] = new
            renamed[c.id] = new
    for c in book.codes:
        if c.id in local:
            c.id = local[c.id]
        if c.parent in local:
            c.parent = local[c.parent]
        taken.add(c.id)
    for g in book.groups:
        g.codes = [local.get(x, x) for x in g.codes]
    if local:
        for items in codings.values():
            for co in items:
                if co.code in local:
                    co.code = local[co.code]


def _plan_existing(ws: Workspace, data: ProjectData, result: QdpxImportResult) -> list[str]:
    """Check ``data`` against an existing workspace; returns conflicts (empty: ok) and adjusts ids."""
    conflicts: list[str] = []
    existing_ids = {p.stem.casefold(): p for p in ws.transcript_paths()}
    other_files = {p.name.casefold() for p in ws.transcripts_dir.glob("*")} if ws.transcripts_dir.is_dir() else set()
    for tid, text in data.transcripts.items():
        path = existing_ids.get(tid.casefold())
        if path is not None:
            try:
                same = ws.read(path).text == text
            except QualkitError:
                same = False
            if same and path.stem == tid:
                result.reused_transcripts.append(tid)
            else:
                conflicts.append(f"transcript {tid!r} exists ({path.name}) with different text")
        elif f"{tid}.txt".casefold() in other_files:
            conflicts.append(f"transcripts/{tid}.txt exists")
    books = ws.codebooks()
    by_id = {b.id: b for b in books}
    taken = {c.id for b in books for c in b.codes}
    renamed: dict[str, str] = {}
    for book in data.codebooks:
        old = by_id.get(book.id)
        if old is not None:
            known = {(c.id, c.name) for c in old.codes}
            if all((c.id, c.name) in known for c in book.codes):
                result.reused_codebooks.append(book.id)
            else:
                conflicts.append(f"codebook {book.id!r} exists in codebooks/ with other codes")
            continue
        if (ws.codebooks_dir / f"{book.id}.yaml").exists() or (ws.codebooks_dir / f"{book.id}.yml").exists():
            conflicts.append(f"codebooks/{book.id}.yaml exists")
            continue
        _rename_codes(book, taken, data.codings, renamed)
    if renamed:
        shown = ", ".join(f"{a} -> {b}" for a, b in list(renamed.items())[:5])
        result.warnings.append(f"{len(renamed)} code id{plural_s(len(renamed))} were already used in this workspace and were renamed ({shown})")
    for coder in data.codings:
        try:
            path = ws.coder_file(coder)
        except QualkitError as exc:
            conflicts.append(exc.message)
            continue
        if _existing_codings(path):
            conflicts.append(f"codings/{coder}.csv already has codings")
    conflicts += _plan_done(ws, data)
    if data.participant_rows and ws.participant_table.rows:
        have = {tuple(r.get(c, "") for c in data.participant_columns) for r in ws.participant_table.rows}
        if all(tuple(r.get(c, "") for c in data.participant_columns) in have for r in data.participant_rows):
            result.reused_participants = True
        else:
            conflicts.append("participants.csv already has other participants")
    return conflicts


def _plan_done(ws: Workspace, data: ProjectData) -> list[str]:
    """Conflicts of the imported done marks with the workspace's; the same marks already there
    are not written again (dropped from ``data``)."""
    from qualkit.coding.coverage import done_path, read_done

    conflicts = []
    for coder in list(data.done):
        try:
            path = done_path(ws, coder)
        except QualkitError as exc:
            conflicts.append(exc.message)
            continue
        if not path.exists():
            continue
        try:
            same = read_done(path) == data.done[coder]
        except QualkitError:
            same = False
        if same:
            del data.done[coder]
        else:
            conflicts.append(f"codings/{path.name} already has other done marks")
    return conflicts


def _check_new_target(into: Path) -> None:
    if into.exists() and not into.is_dir():
        raise WorkspaceError("exists and is not a folder", into)
    if into.is_dir() and any(p for p in into.iterdir() if p.name != ".git"):
        raise WorkspaceError("folder is not empty and not a qualkit workspace; import into a new or empty folder, "
                             "or into a workspace", into)


# -- writing ------------------------------------------------------------------------------------

def _participants_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    return buf.getvalue()


def _stage(stage: Path, data: ProjectData, result: QdpxImportResult, *, reused_books: set[str], reused_transcripts: set[str]) -> list[Path]:
    """Write every new file under ``stage`` (relative layout of a workspace); returns their paths."""
    from qualkit.coding.coverage import done_csv
    from qualkit.io.atomic import atomic_write_text
    from qualkit.workspace.codebook import save_codebook
    from qualkit.workspace.codings import stamp_hashes, write_codings

    files: list[Path] = []
    for tid, text in data.transcripts.items():
        if tid in reused_transcripts:
            continue
        p = stage / "transcripts" / f"{tid}.txt"
        atomic_write_text(p, text)
        files.append(p)
    for book in data.codebooks:
        if book.id in reused_books:
            continue
        if not book.changelog:  # a qualkit codebook brings its own log back and is unchanged
            book.log("qualkit", f"imported {len(book.codes)} code{plural_s(len(book.codes))} from {data.source.name}")
        p = stage / "codebooks" / f"{book.id}.yaml"
        save_codebook(book, p)
        files.append(p)
        result.codebooks[book.id] = len(book.codes)
    for coder, codings in data.codings.items():
        p = stage / "codings" / f"{coder}.csv"
        # anchored, as every coding qualkit writes, to the text imported with it (the offsets were
        # just converted against that text)
        write_codings(p, stamp_hashes(codings, data.transcripts))
        files.append(p)
        result.coders[coder] = len(codings)
    for coder, marks in data.done.items():
        p = stage / "codings" / f"{coder}.done"
        atomic_write_text(p, done_csv(marks))
        files.append(p)
        result.done[coder] = len(marks)
    if data.participant_rows and not result.reused_participants:
        p = stage / "participants.csv"
        atomic_write_text(p, _participants_csv(data.participant_columns, data.participant_rows))
        files.append(p)
        result.participants = len(data.participant_rows)
    _verify_transcripts(stage, data, files, result)
    return files


def _verify_transcripts(stage: Path, data: ProjectData, files: list[Path], result: QdpxImportResult) -> None:
    """Every written transcript must read back with the same text; one that does not is dropped."""
    from qualkit.transcripts import read_transcript

    for p in [f for f in files if f.parent.name == "transcripts"]:
        try:
            text = read_transcript(p).text
        except QualkitError as exc:
            text, why = None, exc.message
        else:
            why = "it reads back with different text"
        if text == data.transcripts[p.stem]:
            result.transcripts.append(p.stem)
            continue
        raise RefiQdaError(f"text source {p.stem!r} cannot be a qualkit transcript ({why}); nothing was imported",
                           data.source)


def _is_auto(coder: str) -> bool:
    from qualkit.coding.autocode import is_auto_coder

    return is_auto_coder(coder)


def _config_text(text: str, data: ProjectData, coders: list[str], books: list[str]) -> str:
    # JSON strings are valid YAML double-quoted scalars, whatever quotes the names hold
    project = data.name or data.source.stem
    text = text.replace("project: My study", "project: " + json.dumps(project, ensure_ascii=False), 1)
    if coders:
        text = text.replace("coders: []", "coders: " + json.dumps(coders, ensure_ascii=False), 1)
    default = data.default_codebook if data.default_codebook in books else (books[0] if len(books) == 1 else None)
    if default:
        text = text.replace("# codebook: my_codebook", f"codebook: {default}", 1)
    if data.framework and re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", data.framework):
        text = re.sub(r"(?m)^framework: .*$", f"framework: {data.framework}", text, count=1)
    return text


def import_qdpx(path: str | Path, into: str | Path, *, dry_run: bool = False) -> QdpxImportResult:
    """Import the project at ``path`` into folder ``into`` (new or empty: a new workspace; a
    workspace: filled, see the module docstring). All or nothing; returns what was done."""
    from qualkit.workspace.config import CONFIG_NAME
    from qualkit.workspace.store import Workspace

    path, into = Path(path), Path(into)
    existing = (into / CONFIG_NAME).is_file()
    # An entry point of its own: `into` is a folder that this import fills or makes into a new
    # workspace, so it opens that workspace here rather than being handed one.
    ws = Workspace(into, search_parents=False) if existing else None
    if not existing:
        _check_new_target(into)
    known = {}
    if ws is not None:
        from qualkit.refiqda.qdc import guid_for

        known = {guid_for("code", c.id): c.id for b in ws.codebooks() for c in b.codes}
    data = read_qdpx(path, known)
    result = QdpxImportResult(path, into, data.name, dict(data.counts), warnings=list(data.warnings),
                              not_carried=list(data.not_carried), dry_run=dry_run, created_workspace=not existing)
    result.offsets = data.detection.note if data.detection and data.detection.decided else ""
    if ws is not None:
        conflicts = _plan_existing(ws, data, result)
        if conflicts:
            shown = "; ".join(conflicts[:4]) + (f"; and {len(conflicts) - 4} more" if len(conflicts) > 4 else "")
            raise RefiQdaError(f"cannot import into this workspace without overwriting: {shown}. Nothing was written; "
                               "import into a new folder (--into NEW_FOLDER) instead", into)
    if dry_run:
        result.transcripts = [t for t in data.transcripts if t not in result.reused_transcripts]
        result.codebooks = {b.id: len(b.codes) for b in data.codebooks if b.id not in result.reused_codebooks}
        result.coders = {c: len(v) for c, v in data.codings.items()}
        result.done = {c: len(v) for c, v in data.done.items()}
        result.participants = 0 if result.reused_participants else len(data.participant_rows)
        return result
    if ws is None:
        _write_new(into, data, result)
    else:
        _write_into(ws, data, result)
        new_coders = [c for c in data.codings if c not in ws.config.coders]
        if new_coders:
            result.warnings.append(f"qualkit.yaml was not changed: add {', '.join(new_coders)} to its coders: list "
                                   "to compare them")
    result.written = True
    return result


def _write_new(into: Path, data: ProjectData, result: QdpxImportResult) -> None:
    from qualkit.io.atomic import atomic_write_text
    from qualkit.workspace.scaffold import init

    parent = into.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(parent, f".{into.name}.import-*")
    stage = Path(tempfile.mkdtemp(prefix=f".{into.name}.import-", dir=parent))
    try:
        init(stage)
        _stage(stage, data, result, reused_books=set(), reused_transcripts=set())
        config = stage / "qualkit.yaml"
        # coders: lists the people to compare; a consensus or auto-coding file is not one of them.
        people = [c for c in data.codings if c != "consensus" and not _is_auto(c)]
        atomic_write_text(config, _config_text(config.read_text(encoding="utf-8"), data, people,
                                               [b.id for b in data.codebooks]))
        from qualkit.workspace.config import load_config

        load_config(config)  # must parse
        if into.exists():
            _check_new_target(into)
        if into.exists() and any(into.iterdir()):  # only a .git: file by file, qualkit.yaml last, so a kill
            items = sorted(stage.iterdir(), key=lambda p: p.name == "qualkit.yaml")  # leaves no half workspace
            for item in items:
                os.replace(item, into / item.name)
            stage.rmdir()
            return
        if into.exists():  # empty: the whole workspace arrives in one rename, never file by file
            into.rmdir()
        os.replace(stage, into)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_into(ws: Workspace, data: ProjectData, result: QdpxImportResult) -> None:
    """Stage every file, then replace them as one transaction (:mod:`qualkit.io.transaction`), so a
    kill leaves the workspace as it was or fully imported; a killed run's staging folder goes next time."""
    (ws.root / ".qualkit").mkdir(exist_ok=True)
    with ws.state_lock():
        _clean_stale(ws.root / ".qualkit", "import-*")
        stage = Path(tempfile.mkdtemp(prefix="import-", dir=ws.root / ".qualkit"))
        try:
            files = _stage(stage, data, result, reused_books=set(result.reused_codebooks),
                           reused_transcripts=set(result.reused_transcripts))
            txn = ws.transaction()
            for f in files:
                txn.add(ws.root / f.relative_to(stage), f.read_bytes())
            for f in files:
                (ws.root / f.relative_to(stage)).parent.mkdir(parents=True, exist_ok=True)
            txn.commit()
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _clean_stale(folder: Path, pattern: str) -> None:
    """Remove staging folders a killed import left behind (full transcript copies, hidden)."""
    for old in folder.glob(pattern):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
