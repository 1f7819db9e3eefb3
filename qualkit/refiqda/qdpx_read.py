"""Reading a REFI-QDA project (``.qdpx``) into qualkit's terms, leniently and safely, writing nothing.

:func:`read_qdpx` is the reading half of :mod:`.qdpx_import` (see its docstring for what becomes
what); it returns a :class:`ProjectData` that :func:`~qualkit.refiqda.qdpx_import.import_qdpx`
checks against the target and writes.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError, RefiQdaError
from qualkit.io.naming import plural_s
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
from qualkit.refiqda.done_marks import unpack_done
from qualkit.refiqda.names import coder_name, transcript_id, unique_name
from qualkit.refiqda.offsets import Detection, Selection, SourceText, choose_shifts, detect
from qualkit.refiqda.qdc import (
    CODEBOOK_LABELS,
    PROJECT_NS,
    _check_namespace,
    read_code_elements,
    unpack_changelog,
    unpack_labelled,
)
from qualkit.refiqda.qdpx_cases import read_cases
from qualkit.workspace.codebook import Codebook
from qualkit.workspace.codings import Coding

_PROJECT_LABELS = ["Default codebook", "Framework", "Codebook id", "Codebook name", "Codebook description",
                   "Codebook framework", "Codebook change log"]

__all__ = ["ProjectData", "coder_name", "read_qdpx", "transcript_id"]

_SELECTION_TAGS = ("PlainTextSelection", "PictureSelection", "PDFSelection", "AudioSelection", "VideoSelection",
                   "TranscriptSelection")
_MEDIA = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio", "VideoSource": "video"}


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
    done: dict[str, dict[str, str]] = field(default_factory=dict)  # coder -> transcript id -> done_at
    participant_columns: list[str] = field(default_factory=list)
    participant_rows: list[dict[str, str]] = field(default_factory=list)
    default_codebook: str | None = None
    framework: str | None = None
    detection: Detection | None = None
    warnings: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)


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


def read_qdpx(path: str | Path, known: Mapping[str, str] | None = None) -> ProjectData:
    """Read a ``.qdpx`` file into :class:`ProjectData`; raises :class:`RefiQdaError` on bad input.

    ``known``: normalized code GUID -> code id of the workspace imported into, so that its codes
    come back with their ids even when another tool dropped the ``Code id:`` lines."""
    path = Path(path)
    with QdpxArchive(path) as archive:
        return _read(archive, path, known or {})


def _read(archive: QdpxArchive, path: Path, known: Mapping[str, str]) -> ProjectData:
    member = archive.project_member
    root = parse_xml(archive.read(member, MAX_XML_BYTES), path, member)
    data = ProjectData(path)
    data.warnings.extend(archive.warnings)
    if localname(root) != "Project":
        raise RefiQdaError(f"not a REFI-QDA project: the root element is <{localname(root)}>, not <Project>",
                           path, member, root.sourceline)
    _check_namespace(root, PROJECT_NS, "project", path, member, data.warnings)
    data.name = " ".join((root.get("name") or "").split())
    data.origin = root.get("origin") or ""
    reader = _Reader(archive, path, member, root, data)
    reader.known = known
    reader.users()
    reader.codebook()
    reader.notes()
    reader.links()
    pending = reader.sources()
    reader.positions(pending)
    read_cases(root, data, reader.source_ids, reader.all_sources, reader.selection_source, reader.err)
    reader.the_rest()
    return data


class _Reader:
    """One project read part by part (users, codebook, notes, links, sources, positions, the rest),
    each part filling ``data`` and the lookups (guid -> name) the later parts need."""

    def __init__(self, archive: QdpxArchive, path: Path, member: str, root: Any, data: ProjectData) -> None:
        self.archive, self.path, self.member, self.root, self.data = archive, path, member, root, data
        self.warn, self.lost = data.warnings.append, data.not_carried.append
        self.used_members: set[str] = set()
        self.users_by_guid: dict[str, str] = {}  # guid -> coder name
        self.users_by_label: dict[str, str] = {}  # User name (else id) -> coder name
        self.code_map: dict[str, str] = {}  # code guid -> code id
        self.folder_guids: set[str] = set()
        self.code_notes: dict[str, list[str]] = {}
        self.note_texts: dict[str, str] = {}
        self.used_notes: set[str] = set()
        self.link_memos: dict[str, list[str]] = {}
        self.other_links = 0
        self.source_ids: dict[str, str] = {}  # text source guid -> transcript id
        self.all_sources: set[str] = set()
        self.selection_source: dict[str, str] = {}  # any selection guid -> source guid
        self.known: Mapping[str, str] = {}  # code guid -> id in the workspace imported into

    def err(self, message: str, el: Any = None) -> RefiQdaError:
        return RefiQdaError(message, self.path, self.member, el.sourceline if el is not None else None)

    def users(self) -> None:
        data = self.data
        taken_coders: set[str] = set()
        users_el = child(self.root, "Users")
        for u in children(users_el, "User") if users_el is not None else []:
            guid = norm_guid(u.get("guid"))
            label = u.get("name") or u.get("id") or (f"user_{guid[:8]}" if guid else "user")
            name = unique_name(coder_name(label), taken_coders)
            if name != label:
                self.warn(f"user {label!r} is coder {name!r} (coder names are file names: letters, digits, _ . -)")
            if guid:
                self.users_by_guid[guid] = name
            self.users_by_label.setdefault(label, name)
            data.users.append(name)
        data.counts["users"] = len(data.users)

    def codebook(self) -> None:
        data, path, member = self.data, self.path, self.member
        taken_ids: set[str] = set()
        book_el = child(self.root, "CodeBook")
        codes_el = child(book_el, "Codes") if book_el is not None else None
        top = children(codes_el, "Code") if codes_el is not None else []
        data.counts["codes"] = len(codes_el.findall(".//{*}Code")) if codes_el is not None else 0
        loose = []
        folders = 0
        taken_books: set[str] = set()
        taken_books_own: set[str] = set()
        for el in top:
            desc = child_text(el, "Description")
            lead, meta = unpack_labelled(desc, [lab for lab, _ in CODEBOOK_LABELS], signature="Codebook id")
            is_folder = (el.get("isCodable") or "").strip().lower() in ("false", "0")
            book_id = meta.get("Codebook id")
            if is_folder and isinstance(book_id, str) and re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", book_id.strip()):
                book_id = unique_name(book_id.strip(), taken_books)
                taken_books_own.add(book_id)
                tree = read_code_elements(children(el, "Code"), taken_ids, path=path, member=member,
                                          known=self.known)
                name = meta.get("Codebook name") or el.get("name") or book_id
                fw = meta.get("Framework") if isinstance(meta.get("Framework"), str) else None
                data.codebooks.append(Codebook(book_id, str(name).strip(), tree.codes, lead, fw or None,
                                               unpack_changelog(meta.get("Change log"))))
                self.folder_guids.add(norm_guid(el.get("guid")))
            else:
                loose.append(el)
                continue
            folders += self._take_tree(tree)
        if loose:
            tree = read_code_elements(loose, taken_ids, path=path, member=member, known=self.known)
            book, ours = self._single_codebook(tree.codes, taken_books)
            taken_books_own.update([book.id] if ours else [])
            data.codebooks.insert(0, book)
            folders += self._take_tree(tree)
        data.counts["folders"] = folders
        # qualkit's own codes come back with their ids; other tools' repeated names get new ones
        dupes = _duplicate_names([b for b in data.codebooks if b.id not in taken_books_own])
        if dupes:
            self.warn(f"{len(dupes)} code name{plural_s(len(dupes))} occur in more than one branch and were kept as distinct codes "
                      f"with their own ids ({', '.join(dupes[:5])}{', ...' if len(dupes) > 5 else ''})")

    def _single_codebook(self, codes: list[Any], taken_books: set[str]) -> tuple[Codebook, bool]:
        """The codebook of the codes not in a qualkit codebook folder, and whether it is qualkit's:
        qualkit's only codebook when the project's description names it (qualkit wraps codebooks in
        folders only when there are several), else one named after the project."""
        from qualkit.io.naming import slugify

        data, path = self.data, self.path
        _, meta = unpack_labelled(child_text(self.root, "Description"), _PROJECT_LABELS)
        book_id = meta.get("Codebook id")
        if isinstance(book_id, str) and re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", book_id.strip()):
            book_id = unique_name(book_id.strip(), taken_books)
            name = meta.get("Codebook name")
            desc, fw = meta.get("Codebook description"), meta.get("Codebook framework")
            return Codebook(book_id, name.strip() if isinstance(name, str) and name.strip() else book_id, codes,
                            desc.strip() if isinstance(desc, str) else "",
                            fw.strip() if isinstance(fw, str) and fw.strip() else None,
                            unpack_changelog(meta.get("Codebook change log"))), True
        book_id = unique_name(slugify(data.name or path.stem) or "imported", taken_books)
        description = f"Imported from {path.name}" + (f" ({data.origin})" if data.origin else "") + "."
        return Codebook(book_id, data.name or path.stem, codes, description), False

    def _take_tree(self, tree: Any) -> int:
        """Record a code tree's guids and memo references; returns its number of folder codes."""
        self.code_map.update(tree.by_guid)
        self.code_notes.update(tree.note_refs)
        self.data.warnings.extend(tree.warnings)
        return int(tree.folders)

    def notes(self) -> None:
        notes_el = child(self.root, "Notes")
        for n in children(notes_el, "Note") if notes_el is not None else []:
            text = child_text(n, "PlainTextContent")
            ref = n.get("plainTextPath")
            if not text and ref:
                m = self.archive.find(ref)
                if m is not None:
                    self.used_members.add(m)
                    text = _decode(self.archive.read(m), self.path, m, self.data.warnings)[0]
            self.note_texts[norm_guid(n.get("guid"))] = text.lstrip("\ufeff").strip()
        self.data.counts["notes"] = len(self.note_texts)

    def links(self) -> None:
        """Memo links between a note and a selection; other links are counted as not carried over."""
        notes = self.note_texts
        links_el = child(self.root, "Links")
        links = children(links_el, "Link") if links_el is not None else []
        for ln in links:
            a, b = norm_guid(ln.get("originGUID")), norm_guid(ln.get("targetGUID"))
            if a in notes and b not in notes:
                self.link_memos.setdefault(b, []).append(a)
            elif b in notes and a not in notes:
                self.link_memos.setdefault(a, []).append(b)
            else:
                self.other_links += 1
        self.data.counts["links"] = len(links)

    def sources(self) -> list[tuple[str, SourceText, list[_Sel]]]:
        """Text sources with their selections (transcript id, text, selections); media are counted."""
        data, lost = self.data, self.lost
        sources_el = child(self.root, "Sources")
        media: dict[str, int] = {}
        tally = {"media_selections": 0, "whole": 0, "vars": 0, "descs": 0, "selections": 0, "text_selections": 0}
        taken_transcripts: set[str] = set()
        pending: list[tuple[str, SourceText, list[_Sel]]] = []
        for src in children(sources_el) if sources_el is not None else []:
            kind = localname(src)
            sguid = norm_guid(src.get("guid"))
            self.all_sources.add(sguid)
            for sel_tag in _SELECTION_TAGS:
                for s in src.iter(f"{{*}}{sel_tag}"):
                    self.selection_source[norm_guid(s.get("guid"))] = sguid
                    tally["selections"] += 1
            if kind in _MEDIA:
                media[kind] = media.get(kind, 0) + 1
                tally["media_selections"] += sum(1 for t in _SELECTION_TAGS for _ in src.iter(f"{{*}}{t}"))
                self._use_media_members(src)
                continue
            if kind != "TextSource":
                self.warn(f"{self.member}, line {src.sourceline}: unknown source element <{kind}> ignored")
                continue
            found = self._text_source(src, sguid, tally, taken_transcripts)
            if found is not None:
                pending.append(found)
        data.counts["sources"] = len(self.all_sources)
        data.counts["text_sources"] = len(children(sources_el, "TextSource")) if sources_el is not None else 0
        data.counts["selections"] = tally["selections"]
        data.counts["text_selections"] = tally["text_selections"]
        for kind, n in media.items():
            lost(f"{n} {_MEDIA[kind]} source{plural_s(n)}")
        if tally["media_selections"]:
            lost(f"{tally['media_selections']} selection{plural_s(tally['media_selections'])} of pictures, PDFs, audio or video (and media "
                 "transcripts) with their codings")
        if tally["whole"]:
            lost(f"{tally['whole']} coding{plural_s(tally['whole'])} of whole text sources (not of a selection)")
        if tally["vars"]:
            lost(f"{tally['vars']} variable value{plural_s(tally['vars'])} of sources (qualkit has attributes for participants only)")
        if tally["descs"]:
            lost(f"{tally['descs']} description{plural_s(tally['descs'])} of sources")
        return pending

    def _use_media_members(self, src: Any) -> None:
        for attr in ("path", "plainTextPath", "richTextPath"):
            for el in src.iter():
                ref = el.get(attr) if isinstance(el.tag, str) else None
                if ref and ref.lower().startswith("internal://"):
                    m = self.archive.find(ref)
                    if m is not None:
                        self.used_members.add(m)

    def _text_source(self, src: Any, sguid: str, tally: dict[str, int],
                     taken_transcripts: set[str]) -> tuple[str, SourceText, list[_Sel]] | None:
        label = src.get("name") or sguid or "source"
        text, bom = None, False
        ref = src.get("plainTextPath")
        inline = child(src, "PlainTextContent")
        if ref and ref.strip().lower().startswith("internal://"):
            m = self.archive.find(ref)
            if m is None:
                raise self.err(f"text source {label!r} refers to {ref!r}, which is not in the archive", src)
            self.used_members.add(m)
            text, bom = _decode(self.archive.read(m, MAX_TEXT_BYTES), self.path, m, self.data.warnings)
        elif inline is not None:
            text = inline.text or ""
        elif ref:
            self.lost(f"text source {label!r}: its text is outside the archive ({ref}); not imported, "
                      "with its selections")
            return None
        else:
            raise self.err(f"text source {label!r} has neither plainTextPath nor PlainTextContent", src)
        rich = src.get("richTextPath")
        if rich and rich.lower().startswith("internal://"):
            m = self.archive.find(rich)
            if m is not None:
                self.used_members.add(m)
        sels_el = children(src, "PlainTextSelection")
        tally["text_selections"] += len(sels_el)
        tally["whole"] += len(children(src, "Coding"))
        tally["vars"] += len(children(src, "VariableValue"))
        free, marks = unpack_done(child_text(src, "Description"))
        tally["descs"] += bool(free)  # NVivo writes an empty one on every source
        if not text.strip():
            self.warn(f"text source {label!r} has no text (its plain text is empty); not imported"
                      + (f", with its {len(sels_el)} selection{plural_s(len(sels_el))}" if sels_el else ""))
            return None
        tid = unique_name(transcript_id(label), taken_transcripts)
        self.source_ids[sguid] = tid
        for label, when in marks:
            coder = self.users_by_label.get(label) or coder_name(label)
            self.data.done.setdefault(coder, {})[tid] = when
        sels = [sel for sel in (self._selection(s) for s in sels_el) if sel is not None]
        body = text.lstrip("\ufeff")
        return tid, SourceText(body, lead=len(text) - len(body) + bom), sels

    def _selection(self, s: Any) -> _Sel | None:
        member = self.member
        start, end = _int(s.get("startPosition")), _int(s.get("endPosition"))
        if start is None or end is None:
            self.warn(f"{member}, line {s.sourceline}: selection without valid startPosition/endPosition; left out")
            return None
        sel_guid = norm_guid(s.get("guid"))
        memos = [norm_guid(r.get("targetGUID")) for r in children(s, "NoteRef")] + self.link_memos.get(sel_guid, [])
        desc = child_text(s, "Description").strip()
        codings = []
        for c in children(s, "Coding"):
            ref_el = child(c, "CodeRef")
            if ref_el is None:
                self.warn(f"{member}, line {c.sourceline}: a coding without CodeRef; left out")
                continue
            cguid = norm_guid(ref_el.get("targetGUID"))
            if cguid not in self.code_map:
                if cguid in self.folder_guids:
                    self.warn(f"{member}, line {c.sourceline}: a coding refers to a codebook folder; left out")
                    continue
                raise self.err(f"a coding refers to code {ref_el.get('targetGUID')!r}, which is not in the codebook", c)
            cmemos = [norm_guid(r.get("targetGUID")) for r in children(c, "NoteRef")]
            codings.append((cguid, norm_guid(c.get("creatingUser")), c.get("creationDateTime") or "", cmemos,
                            c.sourceline))
        return _Sel(sel_guid, start, end, s.get("name") or "", norm_guid(s.get("creatingUser")),
                    s.get("creationDateTime") or "", memos + ([f"\x00{desc}"] if desc else []), codings,
                    s.sourceline)

    def positions(self, pending: list[tuple[str, SourceText, list[_Sel]]]) -> None:
        """Convert selection positions (one reading for the whole project) into codings per coder."""
        data = self.data
        detection = detect([(st, [Selection(s.start, s.end, s.name) for s in sels]) for _, st, sels in pending])
        data.detection = detection
        if detection.decided:
            self.warn(detection.note)
        n_codings = 0
        unmatched: list[int] = []
        for tid, st, sels in pending:
            data.transcripts[tid] = st.text
            shifts = choose_shifts(st, [Selection(s.start, s.end, s.name) for s in sels], detection.reading)
            unmatched += [sels[i].line for i in shifts.unmatched]
            if st.lead:
                counting = sum(1 for k in shifts.shifts if k)
                self.warn(f"source {tid!r} starts with U+FEFF (a byte-order mark or the character, which QualCoder "
                          f"keeps as text): {counting} of {len(sels)} selection{plural_s(len(sels))} count it in their positions, "
                          f"{len(sels) - counting} do not ({shifts.decided} decided by the selected text in their "
                          "name); the transcript starts after it")
            for s, shift in zip(sels, shifts.shifts):
                start = st.convert(s.start, detection.reading, shift)
                end = st.convert(s.end, detection.reading, shift)
                if start is None or end is None or end <= start:
                    self.warn(f"{self.member}, line {s.line}: selection {s.start}-{s.end} does not fit source "
                              f"{tid!r} ({st.length(detection.reading)} positions); its {len(s.codings)} "
                              f"coding{plural_s(len(s.codings))} left out")
                    continue
                n_codings += self._codings_of(tid, st, s, start, end)
        data.counts["codings"] = n_codings
        if unmatched:
            shown = ", ".join(str(x) for x in unmatched[:8]) + (", ..." if len(unmatched) > 8 else "")
            self.warn(f"{len(unmatched)} selection{plural_s(len(unmatched))} whose text matches their name under no reading of the positions "
                      f"({self.member}, lines {shown}); placed by their positions: check them")
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

    def _codings_of(self, tid: str, st: SourceText, s: _Sel, start: int, end: int) -> int:
        data, notes = self.data, self.note_texts
        only_user = next(iter(self.users_by_guid.values())) if len(self.users_by_guid) == 1 else None
        sel_memos = [notes.get(g, "") if not g.startswith("\x00") else g[1:] for g in s.memos]
        self.used_notes.update(g for g in s.memos if not g.startswith("\x00"))
        for cguid, cuser, cwhen, cmemos, line in s.codings:
            user_guid = cuser or s.user
            coder = self.users_by_guid.get(user_guid) or only_user
            if coder is None:
                if user_guid:
                    self.warn(f"{self.member}, line {line}: coding by unknown user {user_guid!r}; "
                              "filed under 'unattributed'")
                coder = "unattributed"
                if coder not in data.users:
                    data.users.append(coder)
            self.used_notes.update(cmemos)
            memo_parts = [notes.get(g, "") for g in cmemos] + sel_memos
            memo = "\n\n".join(dict.fromkeys(p for p in memo_parts if p))
            coding = Coding(tid, start, end, self.code_map[cguid], st.text[start:end], memo, cwhen or s.when)
            data.codings.setdefault(coder, []).append(coding)
        return len(s.codings)

    def the_rest(self) -> None:
        """Code memos, unused notes, other links, sets, graphs, the project description, stray files."""
        data, lost, root = self.data, self.lost, self.root
        code_memo_refs = sum(len(v) for v in self.code_notes.values())
        if code_memo_refs:
            lost(f"{code_memo_refs} memo{plural_s(code_memo_refs)} attached to codes (qualkit codebooks have no code memos)")
        self.used_notes.update(g for refs in self.code_notes.values() for g in refs)
        unused_notes = [g for g in self.note_texts if g not in self.used_notes]
        if unused_notes:
            lost(f"{len(unused_notes)} note{plural_s(len(unused_notes))} not attached to a coded text selection (project, source or other memos)")
        if self.other_links:
            lost(f"{self.other_links} link{plural_s(self.other_links)} between items other than a note and a selection")
        from qualkit.refiqda.sets import read_sets

        sets = read_sets(child(root, "Sets"), self.code_map, data.codebooks)
        data.counts["sets"] = sets.sets
        self.data.warnings.extend(sets.warnings)
        for item in sets.not_carried():
            lost(item)
        for group, item, key in (("Graphs", "Graph", "graphs"),):
            group_el = child(root, group)
            if group_el is not None and children(group_el, item):
                data.counts[key] = len(children(group_el, item))
                lost(f"{data.counts[key]} {item.lower()}{plural_s(data.counts[key])}")
        desc_el = child(root, "Description")
        if desc_el is not None:
            _, meta = unpack_labelled(desc_el.text or "", _PROJECT_LABELS)
            if isinstance(meta.get("Default codebook"), str):
                data.default_codebook = meta["Default codebook"].strip() or None
            if isinstance(meta.get("Framework"), str):
                data.framework = meta["Framework"].strip() or None
        stray = self.archive.other_members(self.used_members)
        if stray:
            shown = ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
            self.warn(f"{len(stray)} file{plural_s(len(stray))} in the archive that the project does not use, ignored: {shown}")

def _decode(raw: bytes, path: Path, member: str, warnings: list[str]) -> tuple[str, bool]:
    """A source's text as written (the byte-order mark decoded away, every character of the text
    kept, U+FEFF too; newlines and normalization untouched) and whether the file had a BOM."""
    import codecs

    from qualkit.io.textdecode import decode_bytes

    try:
        text, encoding, notes = decode_bytes(raw, path)
    except QualkitError as exc:
        raise RefiQdaError(exc.message, path, member) from None
    bom = raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE))
    warnings.extend(f"{member}: {n}" for n in notes)
    return text, bom


def _duplicate_names(books: list[Codebook]) -> list[str]:
    names: dict[str, int] = {}
    for b in books:
        for c in b.codes:
            key = c.name.casefold()
            names[key] = names.get(key, 0) + 1
    firsts = {c.name.casefold(): c.name for b in books for c in b.codes}
    return [firsts[k] for k, n in names.items() if n > 1]
