"""Codings: one CSV per coder in codings/, each row a coded span of a transcript.

Columns ``transcript, start, end, code, text, memo, coded_at, transcript_hash`` (DESIGN.md):
offsets are code-point offsets into the transcript's normalized text, half-open; ``text`` is the
quoted span, kept so a coding can be re-found if the transcript is edited; ``transcript_hash`` is
the :func:`content_hash` of the transcript text the offsets were last verified against (blank in
files written before it existed). The hash lives in the row, not in ``.qualkit/``, because a
coder's file travels on its own (git, e-mail) while ``.qualkit/`` is local and git-ignored. Files open in Excel and diff well.
Writes are atomic and the previous file is backed up first, so a coder's work is never lost.
"""
from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from sys import intern
from typing import TYPE_CHECKING, Any

from qualkit.errors import CodingError, QualkitError  # CodingError is defined with every other error in qualkit.errors
from qualkit.io.atomic import atomic_write_text, backup
from qualkit.io.naming import name_problem
from qualkit.io.tables import no_field_limit

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("transcript", "start", "end", "code", "text", "memo", "coded_at", "transcript_hash")
REQUIRED = ("transcript", "start", "end", "code")
CODINGS_DIR = "codings"
BACKUP_DIR = Path(".qualkit") / "backups"




@dataclass(slots=True)  # a large study holds a million: slots make each a third of the size
class Coding:
    """One coded span: ``text`` is the transcript's text[start:end] when it was coded.

    Once checked at its offsets (:mod:`qualkit.coding.anchoring`), a coding holds no copy of its
    quote: ``text`` reads it back from the transcript (:class:`QuoteSource`): the same words."""

    transcript: str
    start: int
    end: int
    code: str
    text: str = ""
    memo: str = ""
    coded_at: str = ""
    transcript_hash: str = ""
    line: int | None = field(default=None, compare=False, repr=False)  # row's line in its CSV file

    @property
    def key(self) -> tuple[str, int, int, str]:
        """Identity of a coding: the same code on the same span is the same coding."""
        return (self.transcript, self.start, self.end, self.code)

    def as_row(self) -> dict[str, str]:
        # getattr, not dataclasses.asdict: asdict deep-copies, which made writing 46k rows take 6 s.
        return {k: str(getattr(self, k)) for k in COLUMNS}


# The quote's slot holds the quote, or the QuoteSource it is read back from: ``Coding.text`` reads
# through it, so every reader (==, repr, pickling, dataclasses.replace) still sees the words.
_QUOTE_SLOT: Any = Coding.__dict__["text"]


def _quote(c: Coding) -> str:
    held = _QUOTE_SLOT.__get__(c, Coding)
    return held if type(held) is str else held.quote(c)


setattr(Coding, "text", property(_quote, _QUOTE_SLOT.__set__, doc="the quoted words: text[start:end] of the transcript"))  # noqa: B010


class QuoteSource:
    """Where the quotes of one coder's checked codings of one transcript are read back from, so that
    a coding does not hold a copy of words the transcript holds (68 of each coder's 130 MB at 5,000
    interviews). ``load`` gives the transcript's text; ``digest`` is the :func:`content_hash` of the
    text the quotes matched at their offsets. Should it change later, the quotes are read again from
    the coder's file (``path``, if its ``stamp`` (mtime_ns, size) is unchanged). ``recent`` is shared
    by a workspace's sources: a walk over one transcript's codings loads and hashes its text once."""

    __slots__ = ("load", "digest", "path", "stamp", "recent", "_rows")

    def __init__(self, load: Callable[[], str], digest: str, path: Path, stamp: Any, recent: RecentTexts) -> None:
        self.load, self.digest, self.path, self.stamp, self.recent = load, digest, path, stamp, recent
        self._rows: dict[int | None, tuple[int, int, str]] | None = None

    def quote(self, c: Coding) -> str:
        """``c``'s quote: the transcript's text[start:end], or its file's cell if that text changed."""
        text = self.recent.text(self)
        return text[c.start:c.end] if text is not None else self._from_file(c)

    def _from_file(self, c: Coding) -> str:
        if self._rows is None:
            try:
                st = self.path.stat()
                same = (st.st_mtime_ns, st.st_size) == self.stamp
            except OSError:
                same = False
            self._rows = ({r.line: (r.start, r.end, r.text) for r in read_codings(self.path) if r.transcript == c.transcript}
                          if same else {})
        row = self._rows.get(c.line)
        if row is None or row[:2] != (c.start, c.end):  # the file changed too, or a passage merged from several
            raise CodingError(f"the quote of this coding of {c.transcript} was to be read from the transcript, which "
                              "changed since it was checked: read the codings again", self.path, c.line)
        return row[2]


class RecentTexts:
    """The transcript texts a workspace's :class:`QuoteSource` s loaded last (a few: ``keep``), each
    with whether it is still the text their quotes were checked against."""

    __slots__ = ("keep", "_texts", "_digests")

    def __init__(self, keep: int = 8) -> None:
        self.keep = keep
        self._texts: dict[QuoteSource, str | None] = {}
        self._digests: dict[int, tuple[str, str]] = {}  # id(text) -> (text, its hash): one hash per text object

    def text(self, source: QuoteSource) -> str | None:
        """``source``'s transcript text, None if it changed since its quotes were checked."""
        texts = self._texts
        if source in texts:
            text = texts.pop(source)  # and put back last: the most recently used
        else:
            text = self._checked(source)
            if len(texts) >= self.keep:
                del texts[next(iter(texts))]
        texts[source] = text
        return text

    def _checked(self, source: QuoteSource) -> str | None:
        try:
            text = source.load()
        except (QualkitError, OSError):
            return None
        hit = self._digests.get(id(text))
        if hit is None or hit[0] is not text:
            if len(self._digests) >= self.keep:
                self._digests.clear()
            hit = self._digests[id(text)] = (text, content_hash(text))
        return text if hit[1] == source.digest else None


def held_quote(c: Coding) -> str | None:
    """The quote ``c`` holds itself, or None when it is read back from its transcript."""
    held = _QUOTE_SLOT.__get__(c, Coding)
    return held if type(held) is str else None


def quote_source(c: Coding) -> QuoteSource | None:
    """Where ``c``'s quote is read back from (None: ``c`` holds it)."""
    held = _QUOTE_SLOT.__get__(c, Coding)
    return None if type(held) is str else held


def read_back(c: Coding, source: QuoteSource) -> Coding:
    """Let ``c`` hold no copy of its quote, read back from ``source`` instead: only for a quote
    checked to be that transcript's text[start:end] (the words ``c.text`` gives stay the same)."""
    _QUOTE_SLOT.__set__(c, source)
    return c


def content_hash(text: str) -> str:
    """A short fingerprint of a transcript's text (sha256, 16 hex digits): what offsets point into."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def stamp_hashes(codings: Iterable[Coding], texts: Mapping[str, str] | Callable[[str], str | None]) -> list[Coding]:
    """The codings with ``transcript_hash`` set to the current text's hash wherever the quote is
    verified at its offsets; a coding that cannot be verified keeps the hash it had (it is still
    anchored to that older text). ``texts``: the texts by id, or a function reading one (None: none):
    then one text is held at a time, not the text of every coded transcript (157 MB at 5,000)."""
    from dataclasses import replace

    read = texts.get if isinstance(texts, Mapping) else texts
    hashes: dict[str, str] = {}
    last: tuple[str | None, str | None] = (None, None)
    out = []
    for c in codings:
        if c.transcript != last[0]:
            last = (c.transcript, read(c.transcript))
        text = last[1]
        if text is not None:
            h = hashes.get(c.transcript)
            if h is None:
                h = hashes[c.transcript] = content_hash(text)
            if h != c.transcript_hash and c.text and text[c.start:c.end] == c.text:
                c = replace(c, transcript_hash=h)
        out.append(c)
    return out


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def coder_path(root: str | Path, coder: str) -> Path:
    """codings/<coder>.csv for a coder name (names are file names: letters, digits, _ . -)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", coder or ""):
        raise CodingError(f"coder name {coder!r} must be letters, digits, _ . - (it becomes codings/{coder}.csv)")
    why = name_problem(coder, ".csv")
    if why:
        raise CodingError(f"coder name {coder!r} {why} (it becomes codings/{coder}.csv); choose another")
    return Path(root) / CODINGS_DIR / f"{coder}.csv"


def read_codings(path: str | Path, each: Callable[[Coding], object] | None = None) -> list[Coding]:
    """Read a coder's CSV; a missing column or a bad offset names the file and line.

    Read a line at a time: a coder's file is 70 MB at 5,000 interviews, and holding its text while
    its rows are made was half of what reading it cost. ``each(coding)`` is called on each coding as
    it is read (anchoring reads a checked quote back from its transcript from then on, so a file's
    quotes are never all held at once: 200 MB for auto.csv at 5,000)."""
    if each is None:
        return list(iter_codings(path))
    out = []
    for c in iter_codings(path):
        each(c)
        out.append(c)
    return out


def iter_codings(path: str | Path) -> Iterator[Coding]:
    """The codings of a coder's CSV one at a time, as :func:`read_codings` reads them (same errors), for a
    pass that needs each once: auto.csv holds 226 MB of suggestions at 5,000 interviews, over 1 GB as a
    list. The csv module's field limit is lifted until the last row is read."""
    path = Path(path)
    if not path.exists():
        return
    try:
        with open(path, encoding="utf-8-sig") as f, no_field_limit():  # newlines as read_text gives them
            # a coding may quote more than the csv module's 131,072-character default
            yield from _read_rows(path, f)
    except UnicodeDecodeError:
        try:  # the position in the whole file, as reading it at once reports it
            path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CodingError(f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8", path) from None
        raise  # a decoding error that reading the whole file does not meet: not expected
    except OSError as exc:
        raise CodingError(f"cannot read file ({exc.strerror or exc})", path) from None
    except csv.Error as exc:
        raise CodingError(f"not a readable CSV file ({exc})", path) from None


def _blank(path: Path) -> bool:
    return not path.read_text(encoding="utf-8-sig").strip()


def _read_rows(path: Path, lines: Iterable[str]) -> Iterator[Coding]:
    held: list[list[str]] = [[]]  # the lines of the record being read (what a stray quote swallowed)

    def tracked() -> Iterator[str]:
        for line in lines:
            held[0].append(line)
            yield line

    reader = csv.reader(tracked())
    header = [h.strip() for h in next(reader, [])]
    held[0] = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        if _blank(path):
            return
        raise CodingError(f"missing column(s) {', '.join(missing)} in the header row (expected {', '.join(COLUMNS)})", path, 1)
    idx = {h: i for i, h in enumerate(header)}
    from qualkit.io.tables import UNCLOSED_QUOTE, unclosed_quote

    record: list[str] = []
    first = begins = reader.line_num + 1  # the line the next record starts on, and the last one's
    for values in reader:
        lineno, begins, first = reader.line_num, first, reader.line_num + 1
        record, held[0] = held[0], []
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):  # a stray quote or comma: the row would be read wrongly
            if unclosed_quote("".join(record), 1):
                raise CodingError(UNCLOSED_QUOTE, path, begins)
            raise CodingError(f"{len(values)} fields but the header has {len(header)}", path, begins)
        get = lambda c, values=values: values[idx[c]] if c in idx and idx[c] < len(values) else ""  # noqa: E731
        try:
            start, end = int(get("start")), int(get("end"))
        except ValueError:
            raise CodingError(f"start and end must be whole numbers, got {get('start')!r} and {get('end')!r}", path, lineno) from None
        if start < 0 or end <= start:
            raise CodingError(f"span {start}-{end} is empty or reversed", path, lineno)
        if not get("transcript").strip() or not get("code").strip():
            raise CodingError("blank transcript or code", path, lineno)
        # ids, dates and hashes repeat on every row of a transcript: one string object each, not one per row;
        # so do autocode's memos (297 of them on auto.csv's 518,000 rows at 5,000 interviews: 38 MB)
        yield Coding(intern(get("transcript").strip()), start, end, intern(get("code").strip()), get("text"),
                     intern(get("memo")), intern(get("coded_at").strip()), intern(get("transcript_hash").strip()), lineno)
    if unclosed_quote("".join(record), 1):
        raise CodingError(UNCLOSED_QUOTE, path, begins)


def dumps_codings(codings: Iterable[Coding]) -> str:
    """CSV text, sorted by transcript, position and code so that files diff well.

    The bytes the csv module writes (QUOTE_MINIMAL), with each distinct field escaped once: a turn's
    quote repeats for every code suggested on it, and the csv module's per-character scan of 50 MB
    took three times as long. A row holding a carriage return goes through the csv module itself (whether
    it quotes one differs between Python versions)."""
    return "".join(codings_csv_chunks(codings))


def codings_csv_chunks(codings: Iterable[Coding], rows: int = 2_000) -> Iterator[str]:
    """:func:`dumps_codings`'s text in pieces of ``rows`` rows, to write a large file without holding
    all of it (and its encoded bytes) at once."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    fields = operator.attrgetter(*COLUMNS)
    lines = [buf.getvalue()]
    escaped: dict[object, str] = {}
    get = escaped.get
    transcript = None
    for c in sorted(codings, key=lambda c: (c.transcript, c.start, c.end, c.code)):
        if c.transcript != transcript:  # quotes repeat within a transcript: remember one transcript's only
            transcript = c.transcript
            escaped.clear()
        if len(lines) >= rows:
            yield "".join(lines)
            lines = []
        row = [get(v) or _escaped(v, escaped) for v in (c.transcript, c.code, c.text, c.memo, c.coded_at, c.transcript_hash)]
        if "\r" in row:
            buf.seek(0)
            buf.truncate()
            writer.writerow([str(v) for v in fields(c)])
            lines.append(buf.getvalue())
            continue
        t, code, text, memo, at, h = row
        lines.append(f"{t},{c.start},{c.end},{code},{text},{memo},{at},{h}\n")
    yield "".join(lines)


def _escaped(value: object, seen: dict[object, str]) -> str:
    """``value`` as the csv module writes it in a row of several fields ("\\r" if it holds a carriage
    return: the row is left to the csv module)."""
    v = value if type(value) is str else str(value)
    if "\r" in v:
        got = "\r"
    elif '"' in v:
        got = '"' + v.replace('"', '""') + '"'
    elif "," in v or "\n" in v:
        got = f'"{v}"'
    else:
        got = v
    if v is value:  # only strings are remembered (1 and True are equal keys)
        seen[value] = got
    return got


def write_codings(path: str | Path, codings: Iterable[Coding], backup_dir: str | Path | None = None) -> Path:
    """Replace a coder's file atomically, backing up the previous version first."""
    path = Path(path)
    backup(path, backup_dir)
    atomic_write_text(path, dumps_codings(codings))
    return path


def check_against(codings: Iterable[Coding], texts: dict[str, str], code_ids: set[str] | None = None,
                  path: str | Path | None = None) -> list[CodingError]:
    """Problems of codings against transcripts (id -> text) and known code ids; nothing is raised.

    Reports spans outside the transcript, quotes that no longer match the text (see re-anchoring),
    unknown transcripts and unknown codes, each naming the file's line.
    """
    problems: list[CodingError] = []
    for c in codings:
        text = texts.get(c.transcript)
        if text is None:
            problems.append(CodingError(f"transcript {c.transcript!r} is not in transcripts/", path, c.line))
            continue
        if c.end > len(text):
            problems.append(CodingError(f"span {c.start}-{c.end} ends past the end of {c.transcript} ({len(text)} characters)", path, c.line))
        elif c.text and text[c.start:c.end] != c.text:
            problems.append(CodingError(f"quoted text no longer matches {c.transcript} at {c.start}-{c.end} (the transcript changed?)", path, c.line))
        if code_ids is not None and c.code not in code_ids:
            problems.append(CodingError(f"code {c.code!r} is not in any codebook", path, c.line))
    return problems


def to_dataframe(codings: Iterable[Coding], coder: str | None = None) -> pd.DataFrame:
    """Codings as a pandas DataFrame (a ``coder`` column is added when given)."""
    import pandas as pd

    rows = [c.as_row() | ({"coder": coder} if coder else {}) for c in codings]
    cols = [*(["coder"] if coder else []), *COLUMNS]
    df = pd.DataFrame(rows, columns=cols)
    if not df.empty:
        df["start"] = df["start"].astype(int)
        df["end"] = df["end"].astype(int)
    return df
