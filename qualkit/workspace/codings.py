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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from sys import intern
from typing import TYPE_CHECKING

from qualkit.errors import CodingError  # noqa: F401  (defined with every other error in qualkit.errors)
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
    """One coded span: ``text`` is the transcript's text[start:end] when it was coded."""

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


def content_hash(text: str) -> str:
    """A short fingerprint of a transcript's text (sha256, 16 hex digits): what offsets point into."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def stamp_hashes(codings: Iterable[Coding], texts: dict[str, str]) -> list[Coding]:
    """The codings with ``transcript_hash`` set to the current text's hash wherever the quote is
    verified at its offsets; a coding that cannot be verified keeps the hash it had (it is still
    anchored to that older text)."""
    from dataclasses import replace

    hashes = {tid: content_hash(t) for tid, t in texts.items()}
    out = []
    for c in codings:
        text = texts.get(c.transcript)
        h = hashes.get(c.transcript)
        if text is not None and h != c.transcript_hash and c.text and text[c.start:c.end] == c.text:
            c = replace(c, transcript_hash=h or "")
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


def read_codings(path: str | Path) -> list[Coding]:
    """Read a coder's CSV; a missing column or a bad offset names the file and line."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodingError(f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8", path) from None
    except OSError as exc:
        raise CodingError(f"cannot read file ({exc.strerror or exc})", path) from None
    if not text.strip():
        return []
    with no_field_limit():  # a coding may quote more than the csv module's 131,072-character default
        try:
            return _read_rows(path, text)
        except csv.Error as exc:
            raise CodingError(f"not a readable CSV file ({exc})", path) from None


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as ``io.StringIO(text, newline="")`` gives them, one at a time.

    A StringIO holds its text as four bytes a character (300 MB for a coder's 70 MB file at 5,000
    interviews): without a carriage return the lines are cut at each newline in place instead."""
    if "\r" in text:  # "\r" and "\r\n" end lines too: StringIO's own rules
        yield from io.StringIO(text, newline="")
        return
    find, pos, n = text.find, 0, len(text)
    while pos < n:
        end = find("\n", pos) + 1 or n
        yield text[pos:end]
        pos = end


def _read_rows(path: Path, text: str) -> list[Coding]:
    reader = csv.reader(_lines(text))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CodingError(f"missing column(s) {', '.join(missing)} in the header row (expected {', '.join(COLUMNS)})", path, 1)
    idx = {h: i for i, h in enumerate(header)}
    out: list[Coding] = []
    from qualkit.io.tables import UNCLOSED_QUOTE, unclosed_quote

    first = begins = reader.line_num + 1  # the line the next record starts on, and the last one's
    for values in reader:
        lineno, begins, first = reader.line_num, first, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):  # a stray quote or comma: the row would be read wrongly
            if unclosed_quote(text, begins):
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
        # ids, dates and hashes repeat on every row of a transcript: one string object each, not one per row
        out.append(Coding(intern(get("transcript").strip()), start, end, intern(get("code").strip()), get("text"),
                          get("memo"), intern(get("coded_at").strip()), intern(get("transcript_hash").strip()), lineno))
    if unclosed_quote(text, begins):
        raise CodingError(UNCLOSED_QUOTE, path, begins)
    return out


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
