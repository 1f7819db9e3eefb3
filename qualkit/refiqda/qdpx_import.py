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
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError, WorkspaceError
from qualkit.refiqda import RefiQdaError
from qualkit.refiqda.archive import (
    MAX_TEXT_BYTES,
    MAX_XML_BYTES,
    QdpxArchive,
    child,
    child_text,
    children,
    localname,
    norm_guid,
    parse_xml,
)
from qualkit.refiqda.offsets import Detection, Selection, SourceText, detect
from qualkit.refiqda.qdc import (
    CODEBOOK_LABELS,
    PROJECT_NS,
    _check_namespace,
    read_code_elements,
    unpack_labelled,
)
from qualkit.workspace.codebook import Codebook
from qualkit.workspace.codings import Coding

_DOC_EXTENSIONS = {".txt", ".text", ".md", ".docx", ".doc", ".rtf", ".odt", ".pdf", ".htm", ".html", ".vtt", ".srt"}
_SELECTION_TAGS = ("PlainTextSelection", "PictureSelection", "PDFSelection", "AudioSelection", "VideoSelection",
                   "TranscriptSelection")
_MEDIA = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio", "VideoSource": "video"}
_SPEAKER_LINE = re.compile(r'^Speaker: (".*") in (every transcript|transcript (".*"))$')
_RESERVED_COLUMNS = ("transcript", "speaker", "participant_id")


@dataclass
class ProjectData:
    """A REFI-QDA project read into qualkit's terms (nothing written yet)."""

    source: Path
    name: str = ""
    origin: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    transcripts: dict[str, str] = field(default_factory=dict)  # id -> normalized text
    codebooks: list[Codebook] = field(default_factory=list)
    codings: dict[str, list[Coding]] = field(default_factory=dict)  # coder -> codings
    users: list[str] = field(default_factory=list)  # coder names, in the project's order
    participant_columns: list[str] = field(default_factory=list)
    participant_rows: list[dict[str, str]] = field(default_factory=list)
    default_codebook: str | None = None
    framework: str | None = None
    detection: Detection | None = None
    warnings: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)


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
                "participants": self.participants, "reused_participants": self.reused_participants,
                "offsets": self.offsets, "warnings": list(self.warnings),
                "not_carried": list(self.not_carried), "created_workspace": self.created_workspace,
                "written": self.written, "dry_run": self.dry_run}


# -- names ------------------------------------------------------------------------------------

def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name.casefold() in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name.casefold())
    return name


def transcript_id(name: str) -> str:
    """A file-safe transcript id from a source name ('Interview 1.txt' -> 'Interview 1')."""
    name = " ".join((name or "").split())
    stem, dot, ext = name.rpartition(".")
    if dot and stem and f".{ext.lower()}" in _DOC_EXTENSIONS:
        name = stem
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._-~$")
    return name[:120] or "source"


def coder_name(name: str) -> str:
    """A coder name (codings/<name>.csv) from a user name: letters, digits, _ . - only."""
    out = re.sub(r"[^A-Za-z0-9_.\-]+", "_", _ascii(name or "")).strip("_.-")
    return out[:64] or "user"


# -- reading ------------------------------------------------------------------------------------

@dataclass
class _Sel:
    guid: str
    start: int
    end: int
    name: str
    user: str
    when: str
    memos: list[str]
    codings: list[tuple[str, str, str, list[str], int]]  # code guid, user, when, memos, line
    line: int


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def read_qdpx(path: str | Path) -> ProjectData:
    """Read a ``.qdpx`` file into :class:`ProjectData`; raises :class:`RefiQdaError` on bad input."""
    path = Path(path)
    with QdpxArchive(path) as archive:
        return _read(archive, path)


def _read(archive: QdpxArchive, path: Path) -> ProjectData:
    member = archive.project_member
    root = parse_xml(archive.read(member, MAX_XML_BYTES), path, member)
    data = ProjectData(path)
    warn, lost = data.warnings.append, data.not_carried.append
    data.warnings.extend(archive.warnings)
    if localname(root) != "Project":
        raise RefiQdaError(f"not a REFI-QDA project: the root element is <{localname(root)}>, not <Project>",
                           path, member, root.sourceline)
    _check_namespace(root, PROJECT_NS, "project", path, member, data.warnings)
    data.name = " ".join((root.get("name") or "").split())
    data.origin = root.get("origin") or ""
    used_members: set[str] = set()

    def err(message: str, el=None) -> RefiQdaError:
        return RefiQdaError(message, path, member, el.sourceline if el is not None else None)

    # users ------------------------------------------------------------------------------
    users: dict[str, str] = {}  # guid -> coder name
    taken_coders: set[str] = set()
    users_el = child(root, "Users")
    for u in children(users_el, "User") if users_el is not None else []:
        guid = norm_guid(u.get("guid"))
        label = u.get("name") or u.get("id") or (f"user_{guid[:8]}" if guid else "user")
        name = _unique(coder_name(label), taken_coders)
        if name != label:
            warn(f"user {label!r} is coder {name!r} (coder names are file names: letters, digits, _ . -)")
        if guid:
            users[guid] = name
        data.users.append(name)
    data.counts["users"] = len(data.users)

    # codebook ---------------------------------------------------------------------------
    code_map: dict[str, str] = {}  # code guid -> code id
    folder_guids: set[str] = set()
    code_notes: dict[str, list[str]] = {}
    taken_ids: set[str] = set()
    book_el = child(root, "CodeBook")
    codes_el = child(book_el, "Codes") if book_el is not None else None
    top = children(codes_el, "Code") if codes_el is not None else []
    data.counts["codes"] = len(codes_el.findall(".//{*}Code")) if codes_el is not None else 0
    loose = []
    folders = 0
    taken_books: set[str] = set()
    taken_books_own: set[str] = set()
    for el in top:
        desc = child_text(el, "Description")
        lead, meta = unpack_labelled(desc, [lab for lab, _ in CODEBOOK_LABELS])
        is_folder = (el.get("isCodable") or "").strip().lower() in ("false", "0")
        book_id = meta.get("Codebook id")
        if is_folder and isinstance(book_id, str) and re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", book_id.strip()):
            book_id = _unique(book_id.strip(), taken_books)
            taken_books_own.add(book_id)
            tree = read_code_elements(children(el, "Code"), taken_ids, path=path, member=member)
            name = meta.get("Codebook name") or el.get("name") or book_id
            fw = meta.get("Framework") if isinstance(meta.get("Framework"), str) else None
            data.codebooks.append(Codebook(book_id, str(name).strip(), tree.codes, lead, fw or None))
            folder_guids.add(norm_guid(el.get("guid")))
        else:
            loose.append(el)
            continue
        code_map.update(tree.by_guid)
        code_notes.update(tree.note_refs)
        folders += tree.folders
        data.warnings.extend(tree.warnings)
    if loose:
        from qualkit.io.naming import slugify

        tree = read_code_elements(loose, taken_ids, path=path, member=member)
        base = slugify(data.name or path.stem) or "imported"
        book_id = _unique(base, taken_books)
        label = data.name or path.stem
        description = f"Imported from {path.name}" + (f" ({data.origin})" if data.origin else "") + "."
        data.codebooks.insert(0, Codebook(book_id, label, tree.codes, description))
        code_map.update(tree.by_guid)
        code_notes.update(tree.note_refs)
        folders += tree.folders
        data.warnings.extend(tree.warnings)
    if folders:
        warn(f"{folders} folder code(s) (not codable in the source) became ordinary parent codes")
    # qualkit's own codes come back with their ids; other tools' repeated names get new ones
    dupes = _duplicate_names([b for b in data.codebooks if b.id not in taken_books_own])
    if dupes:
        warn(f"{len(dupes)} code name(s) occur in more than one branch and were kept as distinct codes with their "
             f"own ids ({', '.join(dupes[:5])}{', ...' if len(dupes) > 5 else ''})")

    # notes --------------------------------------------------------------------------------
    notes: dict[str, str] = {}
    notes_el = child(root, "Notes")
    for n in children(notes_el, "Note") if notes_el is not None else []:
        text = child_text(n, "PlainTextContent")
        ref = n.get("plainTextPath")
        if not text and ref:
            m = archive.find(ref)
            if m is not None:
                used_members.add(m)
                text = _decode(archive.read(m), path, m, data.warnings)
        notes[norm_guid(n.get("guid"))] = text.strip()
    data.counts["notes"] = len(notes)
    used_notes: set[str] = set()

    # links: memo links between a note and a selection -----------------------------------
    link_memos: dict[str, list[str]] = {}
    links_el = child(root, "Links")
    other_links = 0
    links = children(links_el, "Link") if links_el is not None else []
    for ln in links:
        a, b = norm_guid(ln.get("originGUID")), norm_guid(ln.get("targetGUID"))
        if a in notes and b not in notes:
            link_memos.setdefault(b, []).append(a)
        elif b in notes and a not in notes:
            link_memos.setdefault(a, []).append(b)
        else:
            other_links += 1
    data.counts["links"] = len(links)

    # sources ------------------------------------------------------------------------------
    sources_el = child(root, "Sources")
    source_ids: dict[str, str] = {}  # text source guid -> transcript id
    all_sources: set[str] = set()
    selection_source: dict[str, str] = {}  # any selection guid -> source guid
    media: dict[str, int] = {}
    media_selections = 0
    whole_codings = source_vars = source_descs = 0
    taken_transcripts: set[str] = set()
    pending: list[tuple[str, SourceText, list[_Sel]]] = []  # transcript id, text, selections
    n_selections = n_text_selections = 0
    for src in children(sources_el) if sources_el is not None else []:
        kind = localname(src)
        sguid = norm_guid(src.get("guid"))
        all_sources.add(sguid)
        for sel_tag in _SELECTION_TAGS:
            for s in src.iter(f"{{*}}{sel_tag}"):
                selection_source[norm_guid(s.get("guid"))] = sguid
                n_selections += 1
        if kind in _MEDIA:
            media[kind] = media.get(kind, 0) + 1
            media_selections += sum(1 for t in _SELECTION_TAGS for _ in src.iter(f"{{*}}{t}"))
            for attr in ("path", "plainTextPath", "richTextPath"):
                for el in src.iter():
                    ref = el.get(attr) if isinstance(el.tag, str) else None
                    if ref and ref.lower().startswith("internal://"):
                        m = archive.find(ref)
                        if m is not None:
                            used_members.add(m)
            continue
        if kind != "TextSource":
            warn(f"{member}, line {src.sourceline}: unknown source element <{kind}> ignored")
            continue
        label = src.get("name") or sguid or "source"
        text = None
        ref = src.get("plainTextPath")
        inline = child(src, "PlainTextContent")
        if ref and ref.strip().lower().startswith("internal://"):
            m = archive.find(ref)
            if m is None:
                raise err(f"text source {label!r} refers to {ref!r}, which is not in the archive", src)
            used_members.add(m)
            text = _decode(archive.read(m, MAX_TEXT_BYTES), path, m, data.warnings)
        elif inline is not None:
            text = inline.text or ""
        elif ref:
            lost(f"text source {label!r}: its text is outside the archive ({ref}); not imported, with its selections")
            continue
        else:
            raise err(f"text source {label!r} has neither plainTextPath nor PlainTextContent", src)
        rich = src.get("richTextPath")
        if rich and rich.lower().startswith("internal://"):
            m = archive.find(rich)
            if m is not None:
                used_members.add(m)
        sels_el = children(src, "PlainTextSelection")
        n_text_selections += len(sels_el)
        whole_codings += len(children(src, "Coding"))
        source_vars += len(children(src, "VariableValue"))
        source_descs += child(src, "Description") is not None
        if not text.strip():
            warn(f"text source {label!r} has no text (its plain text is empty); not imported"
                 + (f", with its {len(sels_el)} selection(s)" if sels_el else ""))
            continue
        tid = _unique(transcript_id(label), taken_transcripts)
        source_ids[sguid] = tid
        sels: list[_Sel] = []
        for s in sels_el:
            start, end = _int(s.get("startPosition")), _int(s.get("endPosition"))
            if start is None or end is None:
                warn(f"{member}, line {s.sourceline}: selection without valid startPosition/endPosition; left out")
                continue
            sel_guid = norm_guid(s.get("guid"))
            memos = [norm_guid(r.get("targetGUID")) for r in children(s, "NoteRef")] + link_memos.get(sel_guid, [])
            desc = child_text(s, "Description").strip()
            codings = []
            for c in children(s, "Coding"):
                ref_el = child(c, "CodeRef")
                if ref_el is None:
                    warn(f"{member}, line {c.sourceline}: a coding without CodeRef; left out")
                    continue
                cguid = norm_guid(ref_el.get("targetGUID"))
                if cguid not in code_map:
                    if cguid in folder_guids:
                        warn(f"{member}, line {c.sourceline}: a coding refers to a codebook folder; left out")
                        continue
                    raise err(f"a coding refers to code {ref_el.get('targetGUID')!r}, which is not in the codebook", c)
                cmemos = [norm_guid(r.get("targetGUID")) for r in children(c, "NoteRef")]
                codings.append((cguid, norm_guid(c.get("creatingUser")), c.get("creationDateTime") or "", cmemos,
                                c.sourceline))
            sels.append(_Sel(sel_guid, start, end, s.get("name") or "", norm_guid(s.get("creatingUser")),
                             s.get("creationDateTime") or "", memos + ([f"\x00{desc}"] if desc else []), codings,
                             s.sourceline))
        pending.append((tid, SourceText(text), sels))
    data.counts["sources"] = len(all_sources)
    data.counts["text_sources"] = len(children(sources_el, "TextSource")) if sources_el is not None else 0
    data.counts["selections"] = n_selections
    data.counts["text_selections"] = n_text_selections
    for kind, n in media.items():
        lost(f"{n} {_MEDIA[kind]} source(s)")
    if media_selections:
        lost(f"{media_selections} selection(s) of pictures, PDFs, audio or video (and media transcripts) with their codings")
    if whole_codings:
        lost(f"{whole_codings} coding(s) of whole text sources (not of a selection)")
    if source_vars:
        lost(f"{source_vars} variable value(s) of sources (qualkit has attributes for participants only)")
    if source_descs:
        lost(f"{source_descs} description(s) of sources")

    # positions ----------------------------------------------------------------------------
    detection = detect([(st, [Selection(s.start, s.end, s.name) for s in sels]) for _, st, sels in pending])
    data.detection = detection
    if detection.decided:
        warn(detection.note)
    only_user = next(iter(users.values())) if len(users) == 1 else None
    n_codings = 0
    for tid, st, sels in pending:
        data.transcripts[tid] = st.text
        for s in sels:
            start, end = st.convert(s.start, detection.reading), st.convert(s.end, detection.reading)
            if start is None or end is None or end <= start:
                warn(f"{member}, line {s.line}: selection {s.start}-{s.end} does not fit source {tid!r} "
                     f"({st.length(detection.reading)} positions); its {len(s.codings)} coding(s) left out")
                continue
            sel_memos = [notes.get(g, "") if not g.startswith("\x00") else g[1:] for g in s.memos]
            used_notes.update(g for g in s.memos if not g.startswith("\x00"))
            for cguid, cuser, cwhen, cmemos, line in s.codings:
                user_guid = cuser or s.user
                coder = users.get(user_guid) or only_user
                if coder is None:
                    if user_guid:
                        warn(f"{member}, line {line}: coding by unknown user {user_guid!r}; filed under 'unattributed'")
                    coder = "unattributed"
                    if coder not in data.users:
                        data.users.append(coder)
                used_notes.update(cmemos)
                memo_parts = [notes.get(g, "") for g in cmemos] + sel_memos
                memo = "\n\n".join(dict.fromkeys(p for p in memo_parts if p))
                coding = Coding(tid, start, end, code_map[cguid], st.text[start:end], memo, cwhen or s.when)
                data.codings.setdefault(coder, []).append(coding)
                n_codings += 1
    data.counts["codings"] = n_codings
    order = {name: i for i, name in enumerate(data.users)}
    data.codings = dict(sorted(data.codings.items(), key=lambda kv: order.get(kv[0], len(order))))
    for coder, codings in data.codings.items():
        seen: set[tuple] = set()
        unique = []
        for c in codings:
            if c.key not in seen:
                seen.add(c.key)
                unique.append(c)
        data.codings[coder] = unique

    # cases and variables ----------------------------------------------------------------
    _read_cases(root, data, source_ids, all_sources, selection_source, err)

    # the rest -----------------------------------------------------------------------------
    code_memo_refs = sum(len(v) for v in code_notes.values())
    if code_memo_refs:
        lost(f"{code_memo_refs} memo(s) attached to codes (qualkit codebooks have no code memos)")
    used_notes.update(g for refs in code_notes.values() for g in refs)
    unused_notes = [g for g in notes if g not in used_notes]
    if unused_notes:
        lost(f"{len(unused_notes)} note(s) not attached to a coded text selection (project, source or other memos)")
    if other_links:
        lost(f"{other_links} link(s) between items other than a note and a selection")
    sets_el = child(root, "Sets")
    if sets_el is not None and children(sets_el, "Set"):
        data.counts["sets"] = len(children(sets_el, "Set"))
        lost(f"{data.counts['sets']} set(s)")
    graphs_el = child(root, "Graphs")
    if graphs_el is not None and children(graphs_el, "Graph"):
        data.counts["graphs"] = len(children(graphs_el, "Graph"))
        lost(f"{data.counts['graphs']} graph(s)")
    desc_el = child(root, "Description")
    if desc_el is not None:
        _, meta = unpack_labelled(desc_el.text or "", ["Default codebook", "Framework"])
        if isinstance(meta.get("Default codebook"), str):
            data.default_codebook = meta["Default codebook"].strip() or None
        if isinstance(meta.get("Framework"), str):
            data.framework = meta["Framework"].strip() or None
    stray = archive.other_members(used_members)
    if stray:
        shown = ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
        warn(f"{len(stray)} file(s) in the archive that the project does not use, ignored: {shown}")
    return data


def _decode(raw: bytes, path: Path, member: str, warnings: list[str]) -> str:
    """A source's text as written (BOM removed, newlines and normalization untouched)."""
    import codecs

    from qualkit.io.textdecode import decode_bytes

    try:
        text, encoding, notes = decode_bytes(raw, path)
    except QualkitError as exc:
        raise RefiQdaError(exc.message, path, member) from None
    if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        warnings.append(f"{member} starts with a byte-order mark; ignored (positions count from the text after it)")
    if text.startswith("\ufeff"):
        text = text[1:]
    warnings.extend(f"{member}: {n}" for n in notes)
    return text


def _duplicate_names(books: list[Codebook]) -> list[str]:
    names: dict[str, int] = {}
    for b in books:
        for c in b.codes:
            key = c.name.casefold()
            names[key] = names.get(key, 0) + 1
    firsts = {c.name.casefold(): c.name for b in books for c in b.codes}
    return [firsts[k] for k, n in names.items() if n > 1]


def _read_cases(root, data: ProjectData, source_ids: dict[str, str], all_sources: set[str],
                selection_source: dict[str, str], err) -> None:
    warn, lost = data.warnings.append, data.not_carried.append
    variables: dict[str, str] = {}  # guid -> column
    columns: list[str] = []
    taken = {c for c in _RESERVED_COLUMNS}
    vars_el = child(root, "Variables")
    for v in children(vars_el, "Variable") if vars_el is not None else []:
        name = " ".join((v.get("name") or "").split()) or "variable"
        col = name
        if col.casefold() in {t.casefold() for t in taken}:
            col = _unique(f"var_{name}", {t.casefold() for t in taken})
            warn(f"variable {name!r} is column {col!r} of participants.csv")
        taken.add(col)
        variables[norm_guid(v.get("guid"))] = col
        columns.append(col)
    data.counts["variables"] = len(columns)
    cases_el = child(root, "Cases")
    cases = children(cases_el, "Case") if cases_el is not None else []
    data.counts["cases"] = len(cases)
    if not cases:
        return
    data.participant_columns = [*_RESERVED_COLUMNS, *columns]
    speakers_cache: dict[str, list[str]] = {}
    taken_ids: set[str] = set()
    case_codes = 0
    for case in cases:
        guid = norm_guid(case.get("guid"))
        pid = _unique(" ".join((case.get("name") or "").split()) or f"case_{guid[:8]}", taken_ids)
        values = {c: "" for c in columns}
        for vv in children(case, "VariableValue"):
            ref = child(vv, "VariableRef")
            col = variables.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
            if col is None:
                warn(f"case {pid!r}: a value of an unknown variable; left out")
                continue
            value_el = next((c for c in children(vv) if localname(c) != "VariableRef"), None)
            if value_el is not None and not values[col]:
                values[col] = (value_el.text or "").strip()
        case_codes += len(children(case, "CodeRef"))
        rows: list[tuple[str, str]] = []
        for line in child_text(case, "Description").split("\n"):
            m = _SPEAKER_LINE.match(line.strip())
            if not m:
                continue
            try:
                label = json.loads(m.group(1))
                tid = json.loads(m.group(3)) if m.group(3) else ""
            except ValueError:
                continue
            if tid:
                tid = _transcript_for(tid, data.transcripts)
            rows.append((tid, label))
        if not rows:
            sources: list[str] = []
            for r in children(case, "SourceRef"):
                sg = norm_guid(r.get("targetGUID"))
                if sg not in all_sources:
                    raise err(f"case {pid!r} refers to source {r.get('targetGUID')!r}, which is not in the project", r)
                if sg in source_ids and source_ids[sg] not in sources:
                    sources.append(source_ids[sg])
            for r in children(case, "SelectionRef"):
                sg = selection_source.get(norm_guid(r.get("targetGUID")))
                if sg is None:
                    warn(f"case {pid!r} refers to selection {r.get('targetGUID')!r}, which is not in the project")
                elif sg in source_ids and source_ids[sg] not in sources:
                    sources.append(source_ids[sg])
            for tid in sources:
                rows.append((tid, _speaker_for(pid, tid, data.transcripts, speakers_cache)))
            if not rows:
                rows.append(("", pid))
        for tid, label in rows:
            data.participant_rows.append({"transcript": tid, "speaker": label, "participant_id": pid, **values})
    if case_codes:
        lost(f"{case_codes} code(s) applied to cases (case classification)")


def _transcript_for(old_id: str, transcripts: dict[str, str]) -> str:
    """A transcript id written in a case description, as it was renamed on import (if it was)."""
    if old_id in transcripts:
        return old_id
    new = transcript_id(old_id)
    return new if new in transcripts else old_id


def _speaker_for(case_name: str, tid: str, transcripts: dict[str, str], cache: dict[str, list[str]]) -> str:
    """The transcript's speaker label that names this case, else the case name itself."""
    if tid not in cache:
        from qualkit.transcripts.speakers import segment

        turns, _ = segment(transcripts[tid])
        cache[tid] = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    key = " ".join(case_name.split()).casefold()
    for label in cache[tid]:
        if " ".join(label.split()).casefold() == key:
            return label
    return case_name


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
    if local:
        for items in codings.values():
            for co in items:
                if co.code in local:
                    co.code = local[co.code]


def _plan_existing(ws, data: ProjectData, result: QdpxImportResult) -> list[str]:
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
        result.warnings.append(f"{len(renamed)} code id(s) were already used in this workspace and were renamed ({shown})")
    for coder in data.codings:
        try:
            path = ws.coder_file(coder)
        except QualkitError as exc:
            conflicts.append(exc.message)
            continue
        if _existing_codings(path):
            conflicts.append(f"codings/{coder}.csv already has codings")
    if data.participant_rows and ws.participant_table.rows:
        have = {tuple(r.get(c, "") for c in data.participant_columns) for r in ws.participant_table.rows}
        if all(tuple(r.get(c, "") for c in data.participant_columns) in have for r in data.participant_rows):
            result.reused_participants = True
        else:
            conflicts.append("participants.csv already has other participants")
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
    from qualkit.io.atomic import atomic_write_text
    from qualkit.workspace.codebook import save_codebook
    from qualkit.workspace.codings import write_codings

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
        book.log("qualkit", f"imported {len(book.codes)} codes from {data.source.name}")
        p = stage / "codebooks" / f"{book.id}.yaml"
        save_codebook(book, p)
        files.append(p)
        result.codebooks[book.id] = len(book.codes)
    for coder, codings in data.codings.items():
        p = stage / "codings" / f"{coder}.csv"
        write_codings(p, codings)
        files.append(p)
        result.coders[coder] = len(codings)
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
    ws = Workspace(into, search_parents=False) if existing else None
    if not existing:
        _check_new_target(into)
    data = read_qdpx(path)
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
            for item in stage.iterdir():
                os.replace(item, into / item.name)
            stage.rmdir()
        else:
            os.replace(stage, into)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_into(ws, data: ProjectData, result: QdpxImportResult) -> None:
    from qualkit.io.atomic import backup

    (ws.root / ".qualkit").mkdir(exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="import-", dir=ws.root / ".qualkit"))
    moved: list[Path] = []
    backups: list[tuple[Path, Path]] = []
    try:
        files = _stage(stage, data, result, reused_books=set(result.reused_codebooks),
                       reused_transcripts=set(result.reused_transcripts))
        for f in files:
            dest = ws.root / f.relative_to(stage)
            if dest.exists():
                # only empty coder files and a participants.csv without rows get here (checked above)
                bak = backup(dest, ws.backup_dir)
                if bak is not None:
                    backups.append((dest, bak))
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                moved.append(dest)
            os.replace(f, dest)
    except BaseException:
        for dest in moved:
            try:
                dest.unlink()
            except OSError:
                pass
        for dest, bak in backups:
            try:
                shutil.copy2(bak, dest)
            except OSError:
                pass
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
