"""Rewriting codings when a code's id changes (rename, merge), and counting codings per code.

Nothing here writes: :func:`recode_files` returns the new text of each codings file, which the
edit writes together with the codebook (:class:`~qualkit.coding.codebook_edit_core.FileChange`).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from qualkit.workspace.store import Workspace

__all__ = ["Recode", "coding_counts", "recode_files", "themes_mentions"]


# -- codings rewriting ------------------------------------------------------------------------

@dataclass
class Recode:
    """The new text of one codings file, and how many of its codings were changed and dropped."""

    path: Path
    text: str
    changed: int
    dropped: int


def recode_files(ws: Workspace, old: str, new: str, merge: bool) -> tuple[list[Recode], list[Path]]:
    """New text of every codings/*.csv that uses ``old``; nothing is written here.

    Each file is first read with the codings reader, so a malformed file stops the edit before
    anything is written. Only ``code`` cells change; rows that become exact duplicates of an
    existing coding (same transcript, start, end and code) are dropped, their memo kept.
    """
    from qualkit.coding.codebook_validate import codings_files, is_codings_file
    from qualkit.workspace.codings import read_codings

    out: list[Recode] = []
    skipped: list[Path] = []
    for path in codings_files(ws.codings_dir):
        if not is_codings_file(path):
            skipped.append(path)
            continue
        read_codings(path)  # raises CodingError (file and line) on a malformed file
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        if not re.search(re.escape(old), text):
            continue
        recoded = _recode_text(text, old, new, merge)
        if recoded is not None:
            new_text, changed, dropped = recoded
            out.append(Recode(path, ("\ufeff" if raw.startswith(b"\xef\xbb\xbf") else "") + new_text, changed, dropped))
    return out, skipped


class _Columns:
    """Cells of a codings CSV row by column name."""

    def __init__(self, header: list[str]) -> None:
        self.index = {h.strip(): i for i, h in enumerate(header)}

    def cell(self, row: list[str], col: str) -> str:
        i = self.index.get(col)
        return row[i].strip() if i is not None and i < len(row) else ""

    def key(self, row: list[str], code: str) -> tuple[str, int, int, str]:
        return (self.cell(row, "transcript"), int(self.cell(row, "start")), int(self.cell(row, "end")), code)


def _recode_text(text: str, old: str, new: str, merge: bool) -> tuple[str, int, int] | None:
    """A codings file's text with ``old`` recoded as ``new`` (None when nothing changes), codings changed, dropped."""
    newline = "\r\n" if "\r\n" in text else "\n"
    from qualkit.io.tables import no_field_limit

    with no_field_limit():
        rows = list(csv.reader(io.StringIO(text, newline="")))
    cols = _Columns(rows[0])
    existing: dict[tuple[str, int, int, str], list[str]] = {}
    for row in rows[1:]:
        if any(v.strip() for v in row) and cols.cell(row, "code") == new:
            existing[cols.key(row, new)] = row
    kept, changed, dropped = [rows[0]], 0, 0
    for row in rows[1:]:
        if not any(v.strip() for v in row) or cols.cell(row, "code") != old:
            kept.append(row)
            continue
        k = cols.key(row, new)
        if merge and k in existing:
            dropped += 1
            _merge_memo(existing[k], row, cols.index)
            continue
        row = list(row)
        row[cols.index["code"]] = new
        existing[k] = row
        kept.append(row)
        changed += 1
    if not changed and not dropped:
        return None
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator=newline).writerows(kept)
    return buf.getvalue(), changed, dropped


def _merge_memo(kept: list[str], dropped: list[str], ci: dict[str, int]) -> None:
    i = ci.get("memo")
    if i is None or i >= len(dropped) or not dropped[i].strip():
        return
    while len(kept) <= i:
        kept.append("")
    if dropped[i].strip() not in kept[i]:
        kept[i] = f"{kept[i]} | {dropped[i]}" if kept[i].strip() else dropped[i]


def themes_mentions(ws: Workspace, code_id: str) -> list[int]:
    """Lines of themes.yaml that mention a code id (themes are edited by hand or by `themes`)."""
    path = ws.root / "themes.yaml"
    if not path.is_file():
        return []
    pat = re.compile(rf"(?<![\w.\-]){re.escape(code_id)}(?![\w.\-])")
    try:
        return [i for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1)
                if pat.search(line.split("#", 1)[0])]
    except (OSError, UnicodeDecodeError):
        return []


def coding_counts(ws: Workspace) -> dict[str, int]:
    """Code id -> number of codings across codings/*.csv (unreadable files are skipped)."""
    from qualkit.coding.codebook_validate import codings_files, is_codings_file
    from qualkit.errors import QualkitError
    from qualkit.workspace.codings import read_codings

    counts: dict[str, int] = {}
    for path in codings_files(ws.codings_dir):
        if not is_codings_file(path):
            continue
        try:
            for c in read_codings(path):
                counts[c.code] = counts.get(c.code, 0) + 1
        except QualkitError:
            continue
    return counts
