"""Word (.docx) transcripts: paragraphs with speaker labels, Teams exports, or a turn table.

Three layouts, chosen per file:

- a table whose header row names a speaker and a text column (``Time | Speaker | Text``;
  synonyms such as Name, Participant, Utterance, Dialogue) gives one turn per row, and
  paragraphs outside it (a title) are not turns;
- the Teams "download transcript" layout (a time range, a line break, the name, a line break,
  the text, all in one paragraph) gives one turn per paragraph;
- otherwise the body paragraphs, separated by blank lines, are the text, split by
  :func:`~qualkit.transcripts.speakers.segment` like a plain-text file; a bold leading
  ``Name:`` run with text after it counts as a known speaker, since the author marked it.

Headers, footers, comments and deleted tracked changes are not body text. The file is an
untrusted zip of XML: it is checked by :mod:`qualkit.io.safezip` before python-docx opens it (size,
member count, compression ratio), python-docx's lxml parser does not resolve entities, and
any failure inside the parser is reported as a :class:`TranscriptError`, never a traceback.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qualkit.errors import TranscriptError
from qualkit.io.textdecode import normalize_text
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.render import RawTurn, merge_consecutive, render_turns
from qualkit.transcripts.speakers import TS, parse_timestamp, segment

if TYPE_CHECKING:
    from qualkit.io.safezip import SafeZip

MAX_MEMBERS = 10_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Below this size a member cannot be a bomb, and small repetitive parts compress very well.
RATIO_CHECK_MIN_BYTES = 1024 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_COLUMN_NAMES = {
    "time": {"time", "timestamp", "time stamp", "start", "start time", "timecode", "time code", "begin"},
    "speaker": {"speaker", "speakers", "name", "participant", "speaker name", "who"},
    "text": {"text", "utterance", "transcript", "transcription", "dialogue", "dialog", "content", "speech"},
}
# Teams: "0:0:0.0 --> 0:0:1.510" (unpadded) on the first line of a paragraph.
_TEAMS_TIME = re.compile(r"\s*((?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?)\s*-->\s*(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?\s*")
_BOLD_LABEL = re.compile(r"\s*([^\s:][^:\n]{0,59}?)\s*:")


@dataclass
class _Para:
    text: str
    label: str | None = None  # a bold leading "Name:" followed by text


@dataclass
class _Table:
    rows: list[list[str]]


def read_docx(path: str | Path, *, speaker_pattern: str | None = None, known_speakers: Iterable[str] = ()) -> Transcript:
    """Read a .docx transcript; offsets point into the text laid out from the document body."""
    path = Path(path)
    _check_archive(path)
    blocks = _load_blocks(path)
    turn_tables = [(b, cols) for b in blocks if isinstance(b, _Table) and (cols := _columns(b.rows[0]))]
    if turn_tables:
        text, turns = render_turns(merge_consecutive(_table_turns(turn_tables), sep="\n"))
        return Transcript(path.stem, text, turns, "docx", None, [], path, layout="a Word table with speaker and text columns")
    paras = [b for b in blocks if isinstance(b, _Para)]
    if _is_teams_layout(paras):
        text, turns = render_turns(merge_consecutive(_teams_turns(blocks)))
        return Transcript(path.stem, text, turns, "docx", None, [], path, layout="the Teams transcript layout")
    lines = [line for b in blocks for line in _block_lines(b)]
    # A Word paragraph is a paragraph: a blank line between them, so an unlabeled document gives
    # one turn per paragraph, as a .txt file does.
    text = normalize_text("\n\n".join(lines))
    if text:
        text += "\n"
    bold = [normalize_text(p.label) for p in paras if p.label]
    turns, warnings = segment(text, speaker_pattern=speaker_pattern, known_speakers=[*known_speakers, *bold])
    return Transcript(path.stem, text, turns, "docx", None, warnings, path)


# --- the archive ----------------------------------------------------------------------------

def _check_archive(path: Path) -> None:
    """Refuse what is not a .docx, or is a zip bomb, before any XML is parsed."""
    from qualkit.io.safezip import SafeZip, ZipLimits

    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise TranscriptError(f"cannot read file ({exc.strerror})", path) from None
    hint = (": it looks like an old .doc or a password-protected document; save it as .docx without a password"
            if magic == _OLE_MAGIC else "")
    limits = ZipLimits(MAX_MEMBERS, MAX_UNCOMPRESSED_BYTES, MAX_COMPRESSION_RATIO, RATIO_CHECK_MIN_BYTES)
    with SafeZip(path, kind="a Word .docx file", label="the .docx archive", error_cls=TranscriptError,
                 limits=limits, not_zip_hint=hint) as zf:
        main_document_part(zf, path)


_OFFICE_DOCUMENT = "/officeDocument"


def main_document_part(zf: SafeZip, path: Path) -> str:
    """The name of the main document part, found as Word finds it: through ``_rels/.rels``.

    Word for the web and Microsoft 365 Transcribe save it as ``word/document2.xml``, so the
    name ``word/document.xml`` is only the usual one (ECMA-376 Part 2, Open Packaging Conventions).
    ``zf`` is an open :class:`qualkit.io.safezip.SafeZip`.
    """
    from lxml import etree

    target = None
    if "_rels/.rels" in zf.names:
        try:
            root = etree.fromstring(zf.read("_rels/.rels"), etree.XMLParser(resolve_entities=False, no_network=True))
            for rel in root:
                if str(rel.get("Type", "")).endswith(_OFFICE_DOCUMENT) and rel.get("TargetMode") != "External":
                    target = str(rel.get("Target", "")).lstrip("/")
                    break
        except etree.XMLSyntaxError:
            target = None
    if target is None and "word/document.xml" in zf.names:
        target = "word/document.xml"
    if not target or target not in zf.names:
        raise TranscriptError("not a Word document: no main document part (word/document.xml or the one _rels/.rels names)", path)
    return target


def _load_blocks(path: Path) -> list[_Para | _Table]:
    """The body's paragraphs and tables in order, as plain data."""
    from lxml import etree

    from qualkit.io.collector import collected_after

    try:
        # A Document's parts point at each other: freed as soon as it is read, also while ingest pauses the
        # collector (300 Word transcripts of 40 kB each had held 1.6 GB by the end of a serial ingest).
        with collected_after():
            return _document_blocks(path)
    except etree.XMLSyntaxError as exc:
        raise TranscriptError(f"the Word document's XML is damaged ({exc.msg})", path) from None
    except Exception as exc:  # noqa: BLE001 - untrusted input: any failure inside python-docx is the file's
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TranscriptError(f"cannot read the Word document, it may be damaged ({reason})", path) from None


def _document_blocks(path: Path) -> list[_Para | _Table]:
    import docx  # imported here: python-docx and lxml are slow to import for the CLI

    document = docx.Document(str(path))
    return [_to_block(item) for item in _body_items(document)]


def _body_items(document) -> Iterator:
    """Paragraphs and tables of the body in order, including those inside content controls."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document._body  # the BlockItemContainer; python-docx has no public handle for it

    def walk(element) -> Iterator:
        for child in element.iterchildren():
            if child.tag == _W + "p":
                yield Paragraph(child, body)
            elif child.tag == _W + "tbl":
                yield Table(child, body)
            elif child.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
                yield from walk(child)

    if document.element.body is not None:
        yield from walk(document.element.body)


def _to_block(item) -> _Para | _Table:
    from docx.table import Table

    if isinstance(item, Table):
        return _Table([[_paragraphs_text(cell.paragraphs) for cell in row.cells] for row in item.rows] or [[]])
    runs = list(_runs(item._p))
    text = "".join(r.text for r in runs)
    return _Para(text, _bold_label(item, runs, text))


# --- paragraphs -----------------------------------------------------------------------------

def _runs(element) -> Iterator:
    """Runs of a paragraph in reading order: hyperlinks and insertions in, deletions out."""
    for child in element.iterchildren():
        tag = child.tag
        if tag == _W + "r":
            yield child
        elif isinstance(tag, str) and tag not in (_W + "del", _W + "moveFrom", _W + "pPr"):
            yield from _runs(child)


def _paragraphs_text(paragraphs) -> str:
    return "\n".join("".join(r.text for r in _runs(p._p)) for p in paragraphs)


def _bold_label(paragraph, runs: list, text: str) -> str | None:
    """``Name`` when the paragraph opens with a bold ``Name:`` (or bold ``Name`` then ``:``)
    followed by plain text; the author's bold marks a speaker even when it occurs only once."""
    from docx.text.run import Run

    bold_len = 0
    for r in runs:
        run_text = r.text
        if not run_text.strip() and not bold_len:
            bold_len += len(run_text)
            continue
        if not _is_bold(Run(r, paragraph)):
            break
        bold_len += len(run_text)
    m = _BOLD_LABEL.match(text)
    if not m or not text[:bold_len].strip() or m.end(1) > bold_len or not text[m.end():].strip():
        return None
    # Bold must stop at the label: a wholly bold "Question 3: What ...?" is emphasis, not a speaker.
    if text[m.end():bold_len].strip():
        return None
    return m.group(1)


def _is_bold(run) -> bool:
    """Bold directly, or through a character style such as Word's "Strong"."""
    if run.bold is not None:
        return run.bold
    rpr = run._r.rPr
    if rpr is None or rpr.rStyle is None:
        return False  # only named styles are looked up: the default-style search is slow
    try:
        return bool(run.style.font.bold)
    except (KeyError, ValueError, AttributeError):  # a style the document does not define
        return False


def _block_lines(block: _Para | _Table) -> list[str]:
    """Text lines of a block for the paragraph layout; a non-transcript table row is one line."""
    if isinstance(block, _Para):
        return [block.text]
    lines = []
    for row in block.rows:
        cells: list[str] = []
        for cell in row:
            if cell and (not cells or cells[-1] != cell):  # a merged cell repeats across the grid
                cells.append(" ".join(cell.split()))
        if cells:
            lines.append("\t".join(cells))
    return lines


# --- Teams layout ---------------------------------------------------------------------------

def _teams_entry(text: str) -> tuple[str, str, str] | None:
    """(start time, name, speech) of a Teams paragraph: time range, name and text on own lines."""
    lines = text.split("\n")
    m = _TEAMS_TIME.fullmatch(lines[0])
    if not m or len(lines) < 3 or not lines[1].strip():
        return None
    return m.group(1), lines[1].strip(), "\n".join(lines[2:]).strip()


def _is_teams_layout(paras: list[_Para]) -> bool:
    """Most non-empty paragraphs are Teams entries."""
    filled = [p for p in paras if p.text.strip()]
    entries = sum(1 for p in filled if _teams_entry(p.text))
    return entries > 0 and entries * 2 >= len(filled)


def _teams_turns(blocks: list[_Para | _Table]) -> list[RawTurn]:
    """A turn per Teams entry; any other text (a title, a table) is kept as unlabeled turns."""
    raw: list[RawTurn] = []
    for b in blocks:
        entry = _teams_entry(b.text) if isinstance(b, _Para) else None
        if entry:
            raw.append(RawTurn(entry[1], entry[2], parse_timestamp(entry[0])))
        else:
            raw.extend(RawTurn(None, line) for line in _block_lines(b) if line.strip())
    return raw


# --- turn tables ----------------------------------------------------------------------------

def _columns(header: list[str]) -> dict[str, int] | None:
    """Column index of time/speaker/text when ``header`` is a transcript table's header row."""
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = " ".join(cell.casefold().strip().rstrip(":").split())
        for role, names in _COLUMN_NAMES.items():
            if key in names and role not in found:
                found[role] = i
    return found if "speaker" in found and "text" in found else None


def _table_turns(tables: list[tuple[_Table, dict[str, int]]]) -> list[RawTurn]:
    """One turn per row; a row with an empty speaker cell continues the speaker above."""
    raw: list[RawTurn] = []
    for table, cols in tables:
        speaker: str | None = None
        for row in table.rows[1:]:
            if row == table.rows[0]:
                continue  # the header repeated (e.g. on each page)
            name = _cell(row, cols, "speaker").strip().rstrip(":").strip()
            speaker = " ".join(name.split()) or speaker
            content = _cell(row, cols, "text").strip()
            if not content:
                continue
            ts = re.search(TS, _cell(row, cols, "time"))
            raw.append(RawTurn(speaker, content, parse_timestamp(ts.group(0)) if ts else None))
    return raw


def _cell(row: list[str], cols: dict[str, int], role: str) -> str:
    """The row's cell for a column role, or "" when the table has no such column or cell."""
    i = cols.get(role)
    return row[i] if i is not None and i < len(row) else ""
