"""`qualkit deid check PATH...`: the last gate before sharing. Reads finished files (DOCX, XLSX,
CSV, HTML, Markdown, text, JSON, LaTeX, QDPX) and lists every accepted or still-undecided
identifier of deid.csv found in them, whole words, as written."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qualkit.deid.table import DeidTable
from qualkit.errors import DeidError

__all__ = ["Finding", "deid_check", "file_text"]

_TEXT = {".csv", ".tsv", ".md", ".markdown", ".txt", ".json", ".tex", ".html", ".htm", ".xml", ".yaml", ".yml", ".svg", ".qde"}
_ZIPPED = {".docx", ".xlsx", ".qdpx", ".pptx", ".odt", ".ods"}
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"</(?:w:p|a:p|text:p|p|div|tr|li|h\d|row|si|c)>|<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """An identifier found in a finished file: where, which deid.csv row, and what."""

    path: Path
    line: int
    id: str
    text: str
    kind: str
    decision: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r} ({self.kind}, {self.decision or 'undecided'}, {self.id})"


def _markup_text(markup: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", markup)))


def file_text(path: Path) -> str:
    """The readable text of a finished file; archives are opened with the safe-zip guards."""
    suffix = path.suffix.lower()
    if suffix in _ZIPPED:
        from qualkit.io.safezip import SafeZip

        archive = SafeZip(path, kind=f"a {suffix[1:].upper()} file", label=str(path))
        try:
            parts = []
            for name in archive.names:
                if name.endswith((".xml", ".qde", ".txt", ".rels")) and not name.endswith(".rels"):
                    data = archive.read(name).decode("utf-8", errors="replace")
                    parts.append(data if name.endswith(".txt") else _markup_text(data))
            return "\n".join(parts)
        finally:
            archive.close()
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    return _markup_text(raw) if suffix in (".html", ".htm", ".xml", ".svg", ".qde") else raw


def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _TEXT | _ZIPPED)
        elif p.is_file():
            yield p
        else:
            raise DeidError("no such file or folder", p)


def _kept_on_purpose(text: str, start: int, end: int, corpus: str) -> bool:
    """The word with two neighbours on one side reads the same in the de-identified transcripts:
    the team kept it there ("White paint"), so it is not a leak."""
    left = " ".join(text[max(0, start - 60):start].split()[-2:])
    right = " ".join(text[end:end + 60].split()[:2])
    word = " ".join(text[start:end].split())
    return any(len(w) > len(word) + 2 and w in corpus for w in (f"{left} {word}".strip(), f"{word} {right}".strip()))


def deid_check(table: DeidTable, paths: Iterable[str | Path], redacted_corpus: str = "") -> list[Finding]:
    """Every applied (accepted or undecided) identifier of ``table`` found in ``paths``, except where
    its words read as in ``redacted_corpus`` (the de-identified transcripts, whitespace collapsed)."""
    rows: dict[str, tuple[str, str, str]] = {}
    for r in table.rows:
        if r.applied and len(r.text.strip()) > 1:
            rows.setdefault(" ".join(r.text.split()), (r.id, r.kind, r.decision))
    findings: list[Finding] = []
    if not rows:
        return findings
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(rows, key=len, reverse=True)) + r")(?!\w)")
    for path in _files(paths):
        text = file_text(path)
        for m in pattern.finditer(text):
            if redacted_corpus and _kept_on_purpose(text, m.start(), m.end(), redacted_corpus):
                continue
            rid, kind, decision = rows[m.group()]
            findings.append(Finding(path, text.count("\n", 0, m.start()) + 1, rid, m.group(), kind, decision))
    return findings
