"""Codings: one CSV per coder in codings/, each row a coded span of a transcript.

Columns ``transcript, start, end, code, text, memo, coded_at`` (DESIGN.md): offsets are
code-point offsets into the transcript's normalized text, half-open; ``text`` is the quoted span,
kept so a coding can be re-found if the transcript is edited. Files open in Excel and diff well.
Writes are atomic and the previous file is backed up first, so a coder's work is never lost.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from qualkit.errors import CodingError  # noqa: F401  (defined with every other error in qualkit.errors)
from qualkit.io.atomic import atomic_write_text, backup

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("transcript", "start", "end", "code", "text", "memo", "coded_at")
REQUIRED = ("transcript", "start", "end", "code")
CODINGS_DIR = "codings"
BACKUP_DIR = Path(".qualkit") / "backups"




@dataclass
class Coding:
    """One coded span: ``text`` is the transcript's text[start:end] when it was coded."""

    transcript: str
    start: int
    end: int
    code: str
    text: str = ""
    memo: str = ""
    coded_at: str = ""
    line: int | None = field(default=None, compare=False, repr=False)  # row's line in its CSV file

    @property
    def key(self) -> tuple[str, int, int, str]:
        """Identity of a coding: the same code on the same span is the same coding."""
        return (self.transcript, self.start, self.end, self.code)

    def as_row(self) -> dict[str, str]:
        # getattr, not dataclasses.asdict: asdict deep-copies, which made writing 46k rows take 6 s.
        return {k: str(getattr(self, k)) for k in COLUMNS}


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


def coder_path(root: str | Path, coder: str) -> Path:
    """codings/<coder>.csv for a coder name (names are file names: letters, digits, _ . -)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", coder or ""):
        raise CodingError(f"coder name {coder!r} must be letters, digits, _ . - (it becomes codings/{coder}.csv)")
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
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
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
        out.append(Coding(get("transcript").strip(), start, end, get("code").strip(), get("text"),
                          get("memo"), get("coded_at").strip(), lineno))
    if unclosed_quote(text, begins):
        raise CodingError(UNCLOSED_QUOTE, path, begins)
    return out


def dumps_codings(codings: Iterable[Coding]) -> str:
    """CSV text, sorted by transcript, position and code so that files diff well."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in sorted(codings, key=lambda c: (c.transcript, c.start, c.end, c.code)):
        row = c.as_row()
        writer.writerow([row[k] for k in COLUMNS])
    return buf.getvalue()


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
