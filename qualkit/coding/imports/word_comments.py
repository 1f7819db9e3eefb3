"""Importing codings from Word comments: a coder highlights text in the transcript and comments it.

Comment text convention
    The comment names one or more codes, by id or name, separated by ``;``, ``,`` or new lines
    (a name that itself contains a comma is recognized when it matches a code as a whole). A memo
    may follow, either after ``--`` (Word may turn a spaced ``--`` into `` – ``; that works too)
    or on a line starting ``memo:``, which with every line after it is the memo::

        Stigma; Data sharing -- they still fax the consent forms
        Inter-partner data sharing
        memo: the county's new portal is not live yet

    Code names are matched exactly (id or name), then ignoring case, accents and separators,
    then by rapidfuzz similarity (threshold 85, reported as a guess). Names that match nothing are
    reported; with ``add_missing`` they become new inductive codes in the codebook (with a
    change-log entry). Replies to a comment are discussion, not codes: they are skipped and said so.

Anchors
    The commented range (``w:commentRangeStart`` … ``w:commentRangeEnd``, across runs and
    paragraphs, tracked deletions left out as qualkit's reader does) is extracted with its
    paragraph position, then placed in the transcript's text: where that paragraph sits in the
    transcript (exact), else the same text elsewhere (nearest), else ignoring whitespace and
    typographic quotes, else its first and last paragraphs, else a fuzzy match (threshold 90). A
    comment anchored outside the body (a header, footer, footnote) or to no text is reported,
    never imported.

The transcript is the transcript in transcripts/ whose id is the document's file stem (or
``transcript_id``): the same .docx (qualkit ignores comments when reading it), or any other
version of that transcript. The .docx is untrusted: it is checked with the Word reader's archive
checks before python-docx (whose lxml parser resolves no entities) opens it; other parts are
parsed with entity resolution and network access off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.coding.imports import (
    DEFAULT_CODE_THRESHOLD,
    CodeMatcher,
    ImportFileError,
    ImportResult,
    Placed,
    Unplaced,
    commit,
    new_code_id,
    split_duplicates,
)
from qualkit.coding.reanchor import (
    DEFAULT_THRESHOLD,
    Match,
    QuoteFinder,
    _nearest,
    _trim,
)
from qualkit.errors import QualkitError
from qualkit.io.safezip import SafeZip
from qualkit.io.textdecode import normalize_text
from qualkit.transcripts.model import Transcript
from qualkit.workspace.codebook import Code, Codebook, CodebookError
from qualkit.workspace.codings import Coding, now_iso
from qualkit.workspace.store import Workspace, state_locked

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
_W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
_SKIP_TEXT = (_W + "del", _W + "moveFrom")
_CONTAINERS = (_W + "tbl", _W + "tr", _W + "tc", _W + "sdt", _W + "sdtContent", _W + "customXml")

_MEMO_LINE = re.compile(r"^\s*memo\s*:\s*", re.IGNORECASE)
_MEMO_SEP = re.compile(r"\s*--\s*|\s+[\u2013\u2014]\s+")
_CODES_LABEL = re.compile(r"^\s*codes?\s*:\s*", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7]|\d+[.)])\s+")


# -- reading the document -------------------------------------------------------------------

@dataclass
class WordComment:
    """A comment and where it is anchored: (paragraph index, offset) into ``WordDocument.paragraphs``."""

    number: int  # 1-based, in the order of the comments part
    id: int
    author: str
    text: str
    date: str = ""
    reply_to: int | None = None  # number of the comment this one replies to
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    referenced: bool = False  # a reference mark in the body (a comment on no text has only this)
    elsewhere: str | None = None  # "a page header" etc. when anchored outside the body

    def label(self) -> str:
        by = f" by {self.author}" if self.author else ""
        return f"comment {self.number}{by}"


@dataclass
class WordDocument:
    """The body's paragraphs (NFC text, tables' cells included, in order) and the comments."""

    path: Path
    paragraphs: list[str] = field(default_factory=list)
    comments: list[WordComment] = field(default_factory=list)

    def anchored_pieces(self, c: WordComment) -> list[tuple[int, str]]:
        """(paragraph index, text) of each paragraph part the comment covers."""
        if c.start is None or c.end is None:
            return []
        (ps, os_), (pe, oe) = c.start, c.end
        if (pe, oe) <= (ps, os_):
            return []
        out = []
        for p in range(ps, pe + 1):
            text = self.paragraphs[p]
            a = os_ if p == ps else 0
            b = oe if p == pe else len(text)
            out.append((p, text[a:b]))
        return out


def _safe_parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class _BodyWalker:
    """Collects paragraph texts and comment range marks in reading order."""

    def __init__(self):
        self.raw: list[str] = []
        self.starts: dict[int, tuple[int, int]] = {}
        self.ends: dict[int, tuple[int, int]] = {}
        self.refs: set[int] = set()
        self._pending: list[int] = []

    @staticmethod
    def _id(el) -> int | None:
        try:
            return int(el.get(_W + "id"))
        except (TypeError, ValueError):
            return None

    def block(self, element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == _W + "p":
                self.paragraph(child)
            elif tag == _W + "commentRangeStart":
                cid = self._id(child)
                if cid is not None:
                    self._pending.append(cid)
            elif tag == _W + "commentRangeEnd":
                cid = self._id(child)
                if cid is not None and cid not in self.ends:
                    self.ends[cid] = (len(self.raw) - 1, len(self.raw[-1])) if self.raw else (0, 0)
            elif tag in _CONTAINERS:
                self.block(child)

    def paragraph(self, p) -> None:
        index = len(self.raw)
        buf: list[str] = []
        for cid in self._pending:
            self.starts.setdefault(cid, (index, 0))
        self._pending = []
        self._inline(p, buf, index, True)
        self.raw.append("".join(buf))

    def _inline(self, element, buf: list[str], index: int, keep_text: bool) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag == _W + "pPr":
                continue
            if tag == _W + "r":
                if keep_text:
                    buf.append(child.text or "")
                for ref in child.iterchildren(_W + "commentReference"):
                    cid = self._id(ref)
                    if cid is not None:
                        self.refs.add(cid)
            elif tag == _W + "commentRangeStart":
                cid = self._id(child)
                if cid is not None:
                    self.starts.setdefault(cid, (index, sum(map(len, buf))))
            elif tag == _W + "commentRangeEnd":
                cid = self._id(child)
                if cid is not None:
                    self.ends.setdefault(cid, (index, sum(map(len, buf))))
            else:
                self._inline(child, buf, index, keep_text and tag not in _SKIP_TEXT)

    def finish(self) -> None:
        if self._pending and self.raw:
            for cid in self._pending:
                self.starts.setdefault(cid, (len(self.raw) - 1, len(self.raw[-1])))


_PART_NAMES = (("header", "a page header"), ("footer", "a page footer"), ("footnotes", "a footnote"),
               ("endnotes", "an endnote"), ("comments", "another comment"), ("glossary", "a building block"))


def _anchors_elsewhere(path: Path) -> dict[int, str]:
    """Comment id -> a description of the non-body part its range or reference is in."""
    from lxml import etree

    from qualkit.transcripts.wordfile import main_document_part

    out: dict[int, str] = {}
    with SafeZip(path, kind="a Word .docx file", error_cls=ImportFileError) as zf:
        main = main_document_part(zf, path)
        for name in zf.names:
            if not (name.startswith("word/") and name.endswith(".xml")) or name == main:
                continue
            blob = zf.read(name)
            if b"commentRangeStart" not in blob and b"commentReference" not in blob:
                continue
            try:
                root = etree.fromstring(blob, _safe_parser())
            except etree.XMLSyntaxError:
                continue
            where = next((d for k, d in _PART_NAMES if k in name.rsplit("/", 1)[-1].lower()), name)
            for el in root.iter(_W + "commentRangeStart", _W + "commentReference"):
                try:
                    out.setdefault(int(el.get(_W + "id")), where)
                except (TypeError, ValueError):
                    continue
    return out


def _replies(path: Path, comment_elements: dict[int, Any]) -> dict[int, int]:
    """Comment id -> id of the comment it replies to (word/commentsExtended.xml, Word 2013+)."""
    from lxml import etree

    with SafeZip(path, kind="a Word .docx file", error_cls=ImportFileError) as zf:
        if "word/commentsExtended.xml" not in zf.names:
            return {}
        blob = zf.read("word/commentsExtended.xml")
    try:
        root = etree.fromstring(blob, _safe_parser())
    except etree.XMLSyntaxError:
        return {}
    parent_of = {el.get(_W15 + "paraId"): el.get(_W15 + "paraIdParent")
                 for el in root.iter(_W15 + "commentEx") if el.get(_W15 + "paraIdParent")}
    by_para: dict[str, int] = {}
    for cid, elm in comment_elements.items():
        paras = elm.findall(_W + "p")
        if paras and paras[-1].get(_W14 + "paraId"):
            by_para[paras[-1].get(_W14 + "paraId")] = cid
    return {by_para[child]: by_para[parent] for child, parent in parent_of.items()
            if child in by_para and parent in by_para}


def read_word_comments(path: str | Path) -> WordDocument:
    """The comments of a .docx with their anchored ranges; a bad file raises naming it."""
    from qualkit.transcripts.wordfile import _check_archive

    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file" if not path.exists() else "is a folder, not a .docx file", path)
    _check_archive(path)
    import docx
    from lxml import etree

    try:
        document = docx.Document(str(path))
        comments = list(document.comments)
        walker = _BodyWalker()
        if document.element.body is not None:
            walker.block(document.element.body)
        walker.finish()
        elsewhere = _anchors_elsewhere(path)
        replies = _replies(path, {c.comment_id: c._comment_elm for c in comments})
        records = []
        for c in comments:
            stamp = c.timestamp
            if stamp is not None and stamp.tzinfo is not None:
                stamp = stamp.astimezone().replace(tzinfo=None)  # local time, as qualkit's coded_at
            records.append((c.comment_id, c.author or "", c.text or "", stamp.isoformat(timespec="seconds") if stamp else ""))
    except QualkitError:
        raise
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(f"the Word document's XML is damaged ({exc.msg})", path) from None
    except Exception as exc:  # noqa: BLE001 - untrusted input: any failure inside the parser is the file's
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportFileError(f"cannot read the Word document's comments, it may be damaged ({reason})", path) from None
    out = WordDocument(path)
    # Offsets were counted in the raw run text; the transcript is NFC, so count them there too.
    out.paragraphs = [normalize_text(t) for t in walker.raw]

    def norm(pos: tuple[int, int] | None) -> tuple[int, int] | None:
        if pos is None or not walker.raw:
            return None
        p, off = pos
        return p, len(normalize_text(walker.raw[p][:off]))

    numbers = {cid: n for n, (cid, *_rest) in enumerate(records, 1)}
    for n, (cid, author, text, date) in enumerate(records, 1):
        wc = WordComment(n, cid, author, normalize_text(text).strip(), date,
                         numbers.get(replies[cid]) if cid in replies else None,
                         norm(walker.starts.get(cid)), norm(walker.ends.get(cid)), cid in walker.refs)
        if wc.start is None:
            wc.elsewhere = elsewhere.get(cid)
        out.comments.append(wc)
    return out


# -- comment text -> codes and memo ---------------------------------------------------------

def parse_comment_text(text: str, matcher: CodeMatcher | None = None) -> tuple[list[str], str]:
    """(code names as written, memo) from a comment's text, following the convention above."""
    lines = normalize_text(text).split("\n")
    memo_lines: list[str] = []
    code_lines: list[str] = []
    for i, line in enumerate(lines):
        if _MEMO_LINE.match(line):
            memo_lines = [_MEMO_LINE.sub("", line, count=1), *lines[i + 1:]]
            break
        code_lines.append(line)
    codes_text = "\n".join(code_lines)
    m = _MEMO_SEP.search(codes_text)
    if m:
        memo_lines = [codes_text[m.end():], *memo_lines]
        codes_text = codes_text[:m.start()]
    memo = "\n".join(memo_lines).strip()

    def matches(name: str) -> bool:
        return matcher is not None and matcher.known(name)

    names: list[str] = []
    for line in codes_text.split("\n"):
        line = _CODES_LABEL.sub("", _BULLET.sub("", line), count=1).strip()
        if not line:
            continue
        pieces = [line] if matches(line) else [p for p in line.split(";")]
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            parts = [piece] if matches(piece) else piece.split(",")
            for part in parts:
                name = " ".join(part.split()).strip(" .\"'\u201c\u201d\u2018\u2019")
                if name and name not in names:
                    names.append(name)
    return names, memo


# -- placing anchors in the transcript ------------------------------------------------------

class _ParagraphMap:
    """Where each document paragraph's lines are in the transcript text (None where not found)."""

    def __init__(self, paragraphs: list[str], text: str):
        self.lines: list[list[tuple[int, int, int | None]]] = []
        cursor = 0
        for para in paragraphs:
            entries = []
            off = 0
            for line in para.split("\n"):
                stripped = line.strip()
                pos = None
                if stripped:
                    lead = len(line) - len(line.lstrip())
                    # A short line ("Yes.") recurs everywhere: look for it only just ahead.
                    limit = cursor + 300 + len(stripped) if len(stripped) < 30 else len(text)
                    j = text.find(stripped, cursor, limit)
                    if j != -1:
                        pos = j - lead
                        cursor = j + len(stripped)
                entries.append((off, off + len(line), pos))
                off += len(line) + 1
            self.lines.append(entries)

    def position(self, para: int, offset: int) -> int | None:
        for start, end, pos in self.lines[para]:
            if start <= offset <= end:
                return None if pos is None else max(0, pos + offset - start)
        return None

    def approx(self, para: int) -> int:
        for p in range(para, -1, -1):
            for _start, _end, pos in self.lines[p]:
                if pos is not None:
                    return max(0, pos)
        return 0


def locate_anchor(doc: WordDocument, c: WordComment, text: str, pmap: _ParagraphMap, finder: QuoteFinder,
                  threshold: float = DEFAULT_THRESHOLD) -> tuple[Match | None, str]:
    """(match, "") for the comment's range in the transcript text, or (None, reason)."""
    pieces = [(p, t.strip()) for p, t in doc.anchored_pieces(c)]
    pieces = [(p, t) for p, t in pieces if t]
    if not pieces or c.start is None or c.end is None:
        return None, "anchored to no text"
    ps, os_ = c.start
    pe, oe = c.end
    ms, me = pmap.position(ps, os_), pmap.position(pe, oe)
    first, last = pieces[0][1], pieces[-1][1]
    if ms is not None and me is not None and me > ms:
        s, e = _trim(text, ms, min(me, len(text)))
        if e > s and text.startswith(first, s) and text[:e].endswith(last) and (len(pieces) > 1 or text[s:e] == first):
            return Match(s, e, "anchored"), ""
    near = ms if ms is not None else pmap.approx(ps)
    quote = "\n\n".join(t for _, t in pieces)
    for method, find in (("exact", finder.exact), ("normalized", finder.normalized)):
        spans = find(quote)
        if spans:
            s, e = _nearest(spans, near)
            return Match(s, e, method, 100.0, len(spans)), ""
    if len(pieces) > 1:
        heads = finder.exact(first) or finder.normalized(first)
        if heads:
            head = _nearest(heads, near)
            gap = 3 * len(quote) + 500
            tails = [t for t in (finder.exact(last) or finder.normalized(last)) if head[1] <= t[0] <= head[1] + gap]
            if tails:
                return Match(head[0], tails[0][1], "paragraphs"), ""
    m = finder.fuzzy(quote, near=near, threshold=threshold)
    if m is not None:
        return m, ""
    short = quote if len(quote) <= 60 else quote[:57] + "..."
    return None, f"the commented text {short!r} was not found in the transcript"


# -- the import ----------------------------------------------------------------------------

def _target_codebook(workspace: Workspace, codebook: str | None) -> Codebook:
    """The codebook new codes go to; a workspace with none gets codebooks/inductive.yaml."""

    if codebook is None and not workspace.codebooks():
        return Codebook("inductive", "Inductive codes", description="Codes created while coding.",
                        path=workspace.codebooks_dir / "inductive.yaml")
    try:
        return workspace.codebook(codebook)
    except CodebookError as exc:
        raise CodebookError(f"{exc.message}; --add-missing needs to know which codebook gets the new codes", exc.path) from None


class _NewCodes:
    """Codes that ``--add-missing`` creates while importing, and the codebook they go to."""

    def __init__(self, workspace: Workspace, codebook: str | None, matcher: CodeMatcher) -> None:
        self.workspace, self.codebook, self.matcher = workspace, codebook, matcher
        self.book: Codebook | None = None
        self.created: dict[str, Code] = {}  # folded name -> new code
        self.taken = set(workspace.code_index())

    def get(self, name: str) -> Code:
        """The new code for ``name`` (made on first use; later comments naming it match it)."""
        key = " ".join(name.split()).casefold()
        code = self.created.get(key)
        if code is None:
            if self.book is None:
                self.book = _target_codebook(self.workspace, self.codebook)
            code = Code(new_code_id(name, self.taken), name, origin="inductive")
            self.taken.add(code.id)
            self.created[key] = code
            self.matcher.add(code)
        return code

    def save(self, result: ImportResult, coder: str, path: Path) -> None:
        """Add the new codes that were used to their codebook (unless nothing is to be written)."""
        from qualkit.workspace.codebook import dump_codebook

        used = {p.coding.code for p in result.placed}
        result.added_codes = [code for code in self.created.values() if code.id in used]
        if not result.added_codes or self.book is None:
            return
        book = self.book
        result.codebook_path = book.path or self.workspace.codebooks_dir / f"{book.id}.yaml"
        if not result.dry_run and (result.ok or result.partial):
            for code in result.added_codes:
                book.codes.append(code)
                book.log(coder, f"added inductive code {code.id} ({code.name!r}) from Word comments in {path.name}")
            self.workspace.replace_file(result.codebook_path, dump_codebook(book))  # staged: see import_word_comments
            book.path = result.codebook_path


def _unanchored(c: WordComment) -> str | None:
    """Why a comment has no place in the text (None when it has one)."""
    if c.start is not None and c.end is not None:
        return None
    if c.elsewhere:
        return f"anchored in {c.elsewhere}, not in the transcript's text"
    if c.start is None and c.end is None and not c.referenced:
        return "not anchored anywhere in the document"
    if c.start is None and c.end is None:
        return "anchored to no text (a comment on a point, not a selection)"
    return "its anchored range has no " + ("start" if c.start is None else "end") + "; the document may be damaged"


def _code_for(name: str, matcher: CodeMatcher, new_codes: _NewCodes | None,
              notes: list[str]) -> tuple[Code | None, list[str], str]:
    """The code a comment names, with the notes of its coding; else None and why it is not imported."""
    cm, why = matcher.match(name)
    code_notes = list(notes)
    if cm is not None:
        if cm.guessed:
            code_notes.insert(0, cm.note())
        return cm.code, code_notes, ""
    if new_codes is not None and why.startswith("unknown code"):
        code = new_codes.get(name)
        return code, [f"new inductive code {code.id!r} for {name!r}", *code_notes], ""
    hint = " (use --add-missing to add it to the codebook)" if why.startswith("unknown code") else ""
    return None, code_notes, why + hint


def _open_transcript(workspace: Workspace, tid: str, path: Path) -> Transcript:
    from qualkit.errors import WorkspaceError

    try:
        return workspace.transcript(tid)
    except WorkspaceError as exc:
        raise ImportFileError(f"{exc.message}: put the transcript in transcripts/ first (the commented .docx itself "
                              "will do; qualkit ignores comments) or name it with --transcript ID", path) from None


def _without_label(transcript: Transcript, match: Match) -> Match:
    """A comment on a whole paragraph covers its ``B: `` label too; the coded span starts at the
    turn's content, as a coder selecting the speech would have it."""
    import dataclasses

    for turn in transcript.turns:
        if turn.start <= match.start:
            continue
        line_start = transcript.text.rfind("\n", 0, turn.start) + 1
        if line_start <= match.start < turn.start and match.end > turn.start:
            return dataclasses.replace(match, start=turn.start)
        break
    return match


@state_locked
def import_word_comments(workspace: Workspace, path: str | Path, coder: str, *, transcript_id: str | None = None,
                         add_missing: bool = False, codebook: str | None = None, partial: bool = False,
                         dry_run: bool = False, threshold: float = DEFAULT_THRESHOLD,
                         code_threshold: float = DEFAULT_CODE_THRESHOLD, done: bool = False) -> ImportResult:
    """Import a commented .docx as ``coder``'s codings of transcript ``transcript_id`` (default:
    the file stem). See the module docstring for the comment convention and the placing rules.
    New codes, the codings and (``done``) the transcript's done mark are written as one transaction.

    Returns an :class:`~qualkit.coding.imports.ImportResult`; comments that cannot be imported are in
    ``unplaced`` and then nothing is written unless ``partial``. A bad file raises.
    """
    path = Path(path)
    target = workspace.coder_file(coder)
    existing = workspace.codings(coder)
    doc = read_word_comments(path)
    if not doc.comments:
        raise ImportFileError("the document has no comments to import", path)
    transcript = _open_transcript(workspace, transcript_id or path.stem, path)
    text = transcript.text
    if codebook is not None:
        codes = list(workspace.codebook(codebook).codes)
    else:
        codes = [c for _, c in workspace.code_index().values()]
    matcher = CodeMatcher(codes, code_threshold)
    new_codes = _NewCodes(workspace, codebook, matcher)
    result = ImportResult(path, coder, target, dry_run=dry_run, partial=partial)
    finder = QuoteFinder(text)
    pmap = _ParagraphMap(doc.paragraphs, text)
    stamp = now_iso()
    for c in sorted(doc.comments, key=lambda c: (0, c.start) if c.start is not None else (1, (c.number, 0))):
        where = c.label() + (f" (paragraph {c.start[0] + 1})" if c.start is not None else "")
        if c.reply_to is not None:
            result.notes.append(f"{where} replies to comment {c.reply_to}: skipped (replies are discussion, not codes)")
            continue
        reason = _unanchored(c)
        names, memo = parse_comment_text(c.text, matcher) if reason is None else ([], "")
        if reason is None and not names:
            reason = f"no code named in the comment text {c.text!r}"
        match, why = locate_anchor(doc, c, text, pmap, finder, threshold) if reason is None else (None, reason)
        if match is None:
            result.unplaced.append(Unplaced(where, None, why))
            continue
        match = _without_label(transcript, match)
        notes = []
        if match.method == "fuzzy":
            notes.append(f"commented text found by fuzzy match (similarity {match.score:.0f})")
        elif match.candidates > 1:
            notes.append(f"commented text occurs {match.candidates} times; took the one nearest its paragraph")
        for name in names:
            code, code_notes, why = _code_for(name, matcher, new_codes if add_missing else None, notes)
            if code is None:
                result.unplaced.append(Unplaced(where, None, why))
                continue
            coding = Coding(transcript.id, match.start, match.end, code.id, text[match.start:match.end], memo,
                            c.date or stamp)
            result.placed.append(Placed(coding, where, None, match.method, match.score, code_notes))
    split_duplicates(result, existing)
    with workspace.one_change():
        new_codes.save(result, coder, path)
        commit(workspace, result, existing, done)
    return result
