"""Export a workspace as a REFI-QDA project (``.qdpx``), valid against ``Project.xsd`` 1.0.

What goes where:

* ``<Users>``: one ``User`` per exported coder (``name`` and ``id`` are the coder name), so coder
  identity survives: every selection and coding carries its coder's ``creatingUser``.
* ``<CodeBook>``: the codes with their hierarchy, codability and packed descriptions
  (:func:`qualkit.refiqda.qdc.pack_description`), under distinct names
  (:func:`qualkit.refiqda.qdc.export_names`). With several codebooks each is a top-level folder
  code (``isCodable="false"``) named after it, whose description holds ``Codebook id:`` (and the
  codebook's own description and framework); a single codebook is not wrapped, and the
  project's description names it.
* ``<Variables>`` + ``<Cases>``: one case per participant id of ``participants.csv``, one text
  variable per attribute column (role, site, ...). The case description lists the speaker labels
  that map to the participant (``Speaker: "Karen" in transcript "fg1_calder"`` or
  ``... in every transcript``), and ``SourceRef``s point to the transcripts the participant
  speaks in.
* ``<Sources>``: one ``TextSource`` per readable transcript; its plain text (the transcript's
  normalized text, UTF-8, no BOM) is ``sources/<guid>.txt``. Each coding is one
  ``PlainTextSelection`` (positions are code points, as the standard says) with one ``Coding``,
  as QualCoder writes them; the coder is ``creatingUser`` of both, and ``coded_at``, when it is a
  valid date-time, their ``creationDateTime`` (QualCoder reads the selection's, the others the
  coding's). The coders' done marks (``codings/<coder>.done``) are the source's ``Description``
  (``Coding done by:``, :mod:`qualkit.refiqda.done_marks` says why there).
* ``<Notes>``: a coding's memo is a ``Note`` referenced from that ``Coding`` (``NoteRef``), and
  also the selection's ``Description``, which is where QualCoder reads it.
* ``<Sets>``: each code group (``groups:`` of a codebook) is a set of its member codes.
* ``<Description>`` of the project: the default codebook and framework, for a round trip.

GUIDs are ``uuid5`` of stable keys (coder name, code id, transcript id, span), the XML has no
export timestamp and the zip entries have fixed dates, so exporting an unchanged workspace
twice gives the same bytes. Empty containers are left out, booleans are lower case and
elements follow the schema's order.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.anchoring import anchored_codings
from qualkit.errors import RefiQdaError
from qualkit.refiqda.done_marks import pack_done
from qualkit.refiqda.qdc import (
    PROJECT_NS,
    add_code_elements,
    export_names,
    guid_for,
    pack_changelog,
    pack_labelled,
    version_origin,
    xml_safe,
)

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SELECTION_NAME_CHARS = 100


@dataclass
class QdpxExportResult:
    """What an export wrote, and what it had to leave out (``warnings``)."""

    path: Path
    coders: dict[str, int] = field(default_factory=dict)  # coder -> codings exported
    transcripts: int = 0
    codes: int = 0
    codebooks: int = 0
    selections: int = 0
    cases: int = 0
    variables: int = 0
    notes: int = 0
    sets: int = 0
    done: int = 0  # done marks exported
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "coders": dict(self.coders), "transcripts": self.transcripts,
                "codebooks": self.codebooks, "codes": self.codes, "selections": self.selections,
                "codings": sum(self.coders.values()), "cases": self.cases, "variables": self.variables,
                "notes": self.notes, "sets": self.sets, "done": self.done, "warnings": list(self.warnings)}


def _valid_datetime(value: str) -> str | None:
    value = (value or "").strip()
    return value if _DATETIME.match(value) else None


def _selection_name(text: str) -> str:
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= SELECTION_NAME_CHARS else collapsed[:SELECTION_NAME_CHARS - 1] + "…"


def build_project(ws: Workspace, coders: Iterable[str] | None = None) -> tuple[bytes, dict[str, bytes], QdpxExportResult]:
    """The project XML and the plain-text members (``sources/<guid>.txt`` -> bytes) of ``ws``."""
    from lxml import etree

    result = QdpxExportResult(Path())
    warn = result.warnings.append
    chosen = _chosen_coders(ws, coders, warn)
    ingest = ws.ingest()
    for err in ingest.errors:
        warn(f"transcript not exported: {err}")
    transcripts = {t.id: t for t in ingest.transcripts}
    books = ws.codebooks()
    code_ids: set[str] = set()
    for book in books:
        for c in book.codes:
            if c.id in code_ids:
                warn(f"code id {c.id!r} is defined twice (in {book.id} too); codings go to the first")
            code_ids.add(c.id)
    selections = _selections(ws, chosen, transcripts, code_ids, result)
    attrs = ws.participant_table.attribute_columns
    cases = _cases(ws, transcripts, warn)

    ns = PROJECT_NS
    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns, "xsi": "http://www.w3.org/2001/XMLSchema-instance"})
    root.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation",
             "urn:QDA-XML:project:1.0 http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd")
    root.set("name", xml_safe(ws.config.project) or "qualkit project")
    root.set("origin", version_origin())
    user_guid = {c: guid_for("user", c) for c in chosen}
    if chosen:
        users = _el(root, "Users")
        for c in chosen:
            _el(users, "User", guid=user_guid[c], name=c, id=c)
    _write_codebooks(root, books, result)
    _write_cases(root, attrs, cases, result)
    # notes are collected while writing codings, written after Sources (schema order)
    done = _done_marks(ws, chosen, transcripts, warn)
    texts, notes = _write_sources(root, transcripts, selections, chosen, user_guid, result, done)
    if notes:
        notes_el = _el(root, "Notes")
        for nguid, name, text, user, when in notes:
            note = _el(notes_el, "Note", guid=nguid, name=xml_safe(name))
            if user:
                note.set("creatingUser", user)
            if when:
                note.set("creationDateTime", when)
            _el(note, "PlainTextContent").text = xml_safe(text)
        result.notes = len(notes)
    from qualkit.refiqda.sets import add_sets

    result.sets = add_sets(root, PROJECT_NS, books, member_attr="targetGUID",
                           exported={c.id for b in books if b.codes for c in b.codes})

    _el(root, "Description").text = xml_safe(_project_description(ws, books))
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True, standalone=True)
    return xml, texts, result


def _chosen_coders(ws: Workspace, coders: Iterable[str] | None, warn: Callable[[str], None]) -> list[str]:
    """The coders to export: those asked for (each must exist), else every codings file but auto-coding."""
    all_coders = ws.coders()
    if coders is None:
        from qualkit.coding.autocode import is_auto_coder
        from qualkit.coding.codebook_validate import is_codings_file

        chosen = [c for c in all_coders if is_codings_file(ws.coder_file(c))]
        for c in all_coders:
            if c not in chosen:
                warn(f"codings/{c}.csv is not a codings file (no transcript, start, end, code columns); left out")
        # Suggestions are not codings: another tool would show them as a person's work.
        for c in [c for c in chosen if is_auto_coder(c)]:
            chosen.remove(c)
            warn(f"codings/{c}.csv holds auto-coding suggestions, not a coder's work; left out (name it with --coders to include it)")
        return chosen
    chosen = []
    for c in coders:
        if c not in all_coders:
            known = ", ".join(all_coders) or "none"
            raise RefiQdaError(f"no coder {c!r} (no codings/{c}.csv; known: {known})", ws.codings_dir)
        if c not in chosen:
            chosen.append(c)
    return chosen


def _selections(ws: Workspace, chosen: list[str], transcripts: dict[str, Any], code_ids: set[str],
                result: QdpxExportResult) -> dict[tuple[str, str, int, int], list[Any]]:
    """(transcript, coder, start, end) -> the codings there; codings that cannot be placed are warned about."""
    from qualkit.workspace.codings import CodingError

    warn = result.warnings.append
    selections: dict[tuple[str, str, int, int], list] = {}
    for coder in chosen:
        try:
            codings = anchored_codings(ws, coder, keep_past_end=True)  # left out below, with a warning
        except CodingError as exc:
            raise RefiQdaError(f"cannot export: {exc}", ws.coder_file(coder)) from None
        n = 0
        seen: set[tuple] = set()
        for c in codings:
            where = f"codings/{coder}.csv:{c.line}" if c.line else f"codings/{coder}.csv"
            t = transcripts.get(c.transcript)
            if t is None:
                warn(f"{where}: transcript {c.transcript!r} is not readable in transcripts/; coding left out")
                continue
            if c.code not in code_ids:
                warn(f"{where}: code {c.code!r} is in no codebook; coding left out")
                continue
            if c.end > len(t.text) or c.start < 0 or c.end <= c.start:
                warn(f"{where}: span {c.start}-{c.end} is outside {c.transcript} ({len(t.text)} characters); "
                     "coding left out (run `qualkit codings check --fix`)")
                continue
            if c.text and t.text[c.start:c.end] != c.text:
                warn(f"{where}: quoted text does not match {c.transcript} at {c.start}-{c.end}; exported at these "
                     "positions (run `qualkit codings check --fix` to re-anchor first)")
            if c.key in seen:
                continue
            seen.add(c.key)
            selections.setdefault((c.transcript, coder, c.start, c.end), []).append(c)
            n += 1
        result.coders[coder] = n
    return selections


def _done_marks(ws: Workspace, chosen: list[str], transcripts: dict[str, Any],
                warn: Callable[[str], None]) -> dict[str, list[tuple[str, str]]]:
    """Transcript id -> (coder, done_at) of the exported coders' done marks, in coder order."""
    from qualkit.coding.coverage import done_path, read_done

    done: dict[str, list[tuple[str, str]]] = {}
    for coder in chosen:
        path = done_path(ws, coder)
        if not path.exists():
            continue
        marks = read_done(path)
        if not marks:
            # a project carries marks, not "marks none": after import this coder would count as
            # having done every transcript they coded
            warn(f"codings/{path.name} marks no transcript done; not carried (a project holds marks only)")
        for tid, when in marks.items():
            if tid in transcripts:
                done.setdefault(tid, []).append((coder, when))
            else:
                warn(f"codings/{path.name}: transcript {tid!r} is not exported; its done mark is left out")
    return done


def _cases(ws: Workspace, transcripts: dict[str, Any], warn: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Participant id -> its (transcript, speaker) rows, attribute values and the sources it speaks in."""
    table = ws.participant_table
    attrs = table.attribute_columns
    cases: dict[str, dict[str, Any]] = {}
    for row in table.rows:
        pid = row["participant_id"]
        case = cases.setdefault(pid, {"rows": [], "values": {a: row.get(a, "") for a in attrs}, "sources": []})
        case["rows"].append((row["transcript"], row["speaker"]))
        for a in attrs:
            if row.get(a, "") != case["values"][a] and row.get(a, ""):
                if case["values"][a]:
                    warn(f"participants.csv: participant {pid!r} has two values for {a!r} "
                         f"({case['values'][a]!r} and {row.get(a)!r}); the first is exported")
                else:
                    case["values"][a] = row.get(a, "")
        if row["transcript"] in transcripts and row["transcript"] not in case["sources"]:
            case["sources"].append(row["transcript"])
    for t in transcripts.values():
        for turn in t.turns:
            if turn.participant in cases and t.id not in cases[turn.participant]["sources"]:
                cases[turn.participant]["sources"].append(t.id)
    return cases


def _el(parent: Any, tag: str, **attrs: str) -> Any:
    """A new project-namespace child element with these attributes, in the order given."""
    from lxml import etree

    el = etree.SubElement(parent, f"{{{PROJECT_NS}}}{tag}")
    for k, v in attrs.items():
        el.set(k, v)
    return el


def _write_codebooks(root: Any, books: list[Any], result: QdpxExportResult) -> None:
    """The codebooks: several as one non-codable folder each (``Codebook id:`` in its description),
    the only one with its codes at the top (other tools showed its folder as a code, "Untitled" in
    QualCoder); the project's description then names it (:func:`_project_description`)."""
    names, name_warnings = export_names(c for b in books for c in b.codes)
    result.warnings.extend(name_warnings)
    for book in books:
        if not book.codes:
            result.warnings.append(f"codebook {book.id!r} has no codes; left out")
    books = [b for b in books if b.codes]
    if not books:
        return
    codes_el = _el(_el(root, "CodeBook"), "Codes")
    for book in books:
        parent = codes_el
        if len(books) > 1:
            parent = _el(codes_el, "Code", guid=guid_for("codebook", book.id), name=xml_safe(book.name) or book.id,
                         isCodable="false")
            desc = pack_labelled(book.description, [("Codebook id", book.id), ("Codebook name", book.name),
                                                    ("Framework", book.framework or ""),
                                                    ("Change log", pack_changelog(book.changelog))])
            _el(parent, "Description").text = xml_safe(desc)
        tree_warnings: list[str] = []
        result.codes += add_code_elements(parent, PROJECT_NS, book.codes, warnings=tree_warnings, names=names)
        result.warnings.extend(f"{book.id}: {w}" for w in tree_warnings)
        result.codebooks += 1


def _project_description(ws: Workspace, books: list[Any]) -> str:
    """The project's description: the default codebook and framework, and the only codebook's id,
    name, description and framework (it has no folder to hold them)."""
    fields: list[tuple[str, Any]] = [("Default codebook", str(ws.config.codebook or "")),
                                     ("Framework", ws.config.framework or "")]
    books = [b for b in books if b.codes]
    if len(books) == 1:
        (book,) = books
        fields += [("Codebook id", book.id), ("Codebook name", book.name), ("Codebook description", book.description),
                   ("Codebook framework", book.framework or ""), ("Codebook change log", pack_changelog(book.changelog))]
    return pack_labelled("Exported by qualkit.", fields)


def _write_cases(root: Any, attrs: list[str], cases: dict[str, dict[str, Any]], result: QdpxExportResult) -> None:
    if attrs and cases:
        variables = _el(root, "Variables")
        for a in attrs:
            _el(variables, "Variable", guid=guid_for("variable", a), name=xml_safe(a), typeOfVariable="Text")
        result.variables = len(attrs)
    if not cases:
        return
    cases_el = _el(root, "Cases")
    for pid, case in cases.items():
        el = _el(cases_el, "Case", guid=guid_for("case", pid), name=xml_safe(pid))
        lines = []
        for tid, speaker in case["rows"]:
            where = f"in transcript {json.dumps(tid, ensure_ascii=False)}" if tid else "in every transcript"
            lines.append(f"Speaker: {json.dumps(speaker, ensure_ascii=False)} {where}")
        _el(el, "Description").text = xml_safe(f"qualkit participant {pid}\n\n" + "\n".join(lines))
        for a in attrs:
            value = case["values"].get(a, "")
            if value:
                vv = _el(el, "VariableValue")
                _el(vv, "VariableRef", targetGUID=guid_for("variable", a))
                _el(vv, "TextValue").text = xml_safe(value)
        for tid in case["sources"]:
            _el(el, "SourceRef", targetGUID=guid_for("source", tid))
    result.cases = len(cases)


_Note = tuple[str, str, str, "str | None", "str | None"]  # guid, name, text, user, when


def _write_sources(root: Any, transcripts: dict[str, Any], selections: dict[tuple[str, str, int, int], list[Any]],
                   chosen: list[str], user_guid: dict[str, str], result: QdpxExportResult,
                   done: dict[str, list[tuple[str, str]]]) -> tuple[dict[str, bytes], list[_Note]]:
    """Text sources with their selections and codings; returns the text members and the memos as notes."""
    texts: dict[str, bytes] = {}
    notes: list[_Note] = []
    if not transcripts:
        return texts, notes
    sources_el = _el(root, "Sources")
    for tid, t in transcripts.items():
        sguid = guid_for("source", tid)
        src = _el(sources_el, "TextSource", guid=sguid, name=xml_safe(tid), plainTextPath=f"internal://{sguid}.txt")
        if done.get(tid):
            _el(src, "Description").text = xml_safe(pack_done("", done[tid]))
            result.done += len(done[tid])
        texts[f"sources/{sguid}.txt"] = t.text.encode("utf-8")
        keys = sorted(k for k in selections if k[0] == tid)
        keys.sort(key=lambda k: (k[2], k[3], chosen.index(k[1])))
        for key in keys:
            _, coder, start, end = key
            for c in sorted(selections[key], key=lambda c: c.code):
                _write_selection(src, c, coder, user_guid[coder], t.text, notes)
                result.selections += 1
        result.transcripts += 1
    return texts, notes


def _write_selection(src: Any, c: Any, coder: str, user: str, text: str, notes: list[_Note]) -> None:
    """One coding as one ``PlainTextSelection`` (as QualCoder writes and reads them): the coder and
    date on the selection and on the coding, the memo both as the selection's ``Description``
    (what QualCoder reads) and as a ``Note`` the coding refers to (what NVivo, ATLAS.ti and MAXQDA read)."""
    tid, start, end = c.transcript, c.start, c.end
    when = _valid_datetime(c.coded_at)
    sel = _el(src, "PlainTextSelection", guid=guid_for("selection", tid, coder, start, end, c.code),
              name=xml_safe(_selection_name(text[start:end])), startPosition=str(start), endPosition=str(end),
              creatingUser=user)
    if when:
        sel.set("creationDateTime", when)
    memo = c.memo.strip()
    if memo:
        _el(sel, "Description").text = xml_safe(memo)
    coding = _el(sel, "Coding", guid=guid_for("coding", tid, coder, start, end, c.code), creatingUser=user)
    if when:
        coding.set("creationDateTime", when)
    _el(coding, "CodeRef", targetGUID=guid_for("code", c.code))
    if memo:
        nguid = guid_for("note", tid, coder, start, end, c.code)
        _el(coding, "NoteRef", targetGUID=nguid)
        notes.append((nguid, f"Memo by {coder}: {c.code} in {tid} {start}-{end}", c.memo, user, when))


def qdpx_bytes(project_xml: bytes, texts: dict[str, bytes]) -> bytes:
    """The ``.qdpx`` zip: ``project.qde`` first, then the sources, with fixed dates (reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("project.qde", project_xml), *sorted(texts.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def export_qdpx(ws: Workspace, path: str | Path, coders: Iterable[str] | None = None) -> QdpxExportResult:
    """Write workspace ``ws`` to ``path``.

    ``coders``: whose codings to export (default: every codings file). Codings that cannot be
    placed (unknown transcript or code, span outside the text) are left out with a warning.
    """
    from qualkit.io.outputs import check_output, write_output_bytes

    check_output(path, ws.root)
    xml, texts, result = build_project(ws, coders)
    path = Path(path)
    write_output_bytes(path, qdpx_bytes(xml, texts), ws.root)
    result.path = path
    return result
