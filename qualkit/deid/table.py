"""deid.csv (the proposed spans and the team's decisions) and deid.yaml (the team's own lists).

deid.csv has one row per span: ``id, transcript, start, end, text, kind, detector, replacement,
decision``. Offsets are code-point offsets into the transcript's normalized text, as codings use.
``decision`` is ``accept``, ``reject`` or empty (undecided). ``replacement`` is what the span
becomes in exports; the same entity gets the same replacement across the study, and the team may
edit it. Plain CSV so the decisions diff in git.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import DeidError
from qualkit.io.atomic import atomic_write_text, backup

__all__ = ["COLUMNS", "DECISIONS", "DEID_CSV", "DEID_YAML", "KINDS", "DeidRow", "DeidSettings", "DeidTable",
           "load_settings", "read_table", "write_table"]

DEID_CSV = "deid.csv"
DEID_YAML = "deid.yaml"
COLUMNS = ("id", "transcript", "start", "end", "text", "kind", "detector", "replacement", "decision")
DECISIONS = ("accept", "reject", "")
KINDS = ("person", "place", "organisation", "date", "phone", "email", "url", "ip", "number", "age", "zip", "address")


@dataclass
class DeidRow:
    """One proposed span of a transcript and the team's decision about it."""

    id: str
    transcript: str
    start: int
    end: int
    text: str
    kind: str
    detector: str
    replacement: str = ""
    decision: str = ""
    line: int | None = field(default=None, compare=False, repr=False)

    @property
    def applied(self) -> bool:
        """Redacted in exports: accepted, or not yet decided (nothing leaves until a person says so)."""
        return self.decision != "reject"

    def as_row(self) -> dict[str, str]:
        return {k: str(getattr(self, k)) for k in COLUMNS}


@dataclass
class DeidTable:
    """Every row of deid.csv, in file order."""

    path: Path
    rows: list[DeidRow] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """De-identification is on for exports once any span has a decision."""
        return any(r.decision for r in self.rows)

    def by_id(self) -> dict[str, DeidRow]:
        return {r.id: r for r in self.rows}

    def for_transcript(self, transcript: str) -> list[DeidRow]:
        return [r for r in self.rows if r.transcript == transcript]


def _int(value: str, column: str, path: Path, line: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise DeidError(f"{column} {value!r} is not a whole number", path, line) from None
    if number < 0:
        raise DeidError(f"{column} {number} is negative", path, line)
    return number


def read_table(path: str | Path) -> DeidTable:
    """Read deid.csv (an empty table when it does not exist); a bad row names its line."""
    path = Path(path)
    if not path.exists():
        return DeidTable(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeidError(f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8", path) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not header:
        return DeidTable(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DeidError(f"missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})", path, 1)
    idx = {h: i for i, h in enumerate(header)}
    rows: list[DeidRow] = []
    seen: set[str] = set()
    from qualkit.io.tables import UNCLOSED_QUOTE, unclosed_quote

    # A stray quote typed by hand swallows the rows after it: every identifier in them would silently
    # leave the study unredacted. So a row with extra cells, or a quote never closed, is an error.
    first = n = reader.line_num + 1  # the line the next record starts on, and this one's
    for cells in reader:
        n, first = first, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise DeidError(UNCLOSED_QUOTE if unclosed_quote(text, n) else
                            f"{len(cells)} fields but the header has {len(header)}", path, n)
        cells += [""] * (len(header) - len(cells))
        get = {c: cells[idx[c]] for c in COLUMNS}
        decision = get["decision"].strip().lower()
        if decision not in DECISIONS:
            raise DeidError(f"decision {get['decision']!r} must be accept, reject or empty", path, n)
        start, end = _int(get["start"], "start", path, n), _int(get["end"], "end", path, n)
        if end <= start:
            raise DeidError(f"end {end} is not after start {start}", path, n)
        rid = get["id"].strip()
        if not rid or rid in seen:
            raise DeidError(f"id {rid!r} is {'empty' if not rid else 'used twice'}", path, n)
        seen.add(rid)
        rows.append(DeidRow(rid, get["transcript"].strip(), start, end, get["text"], get["kind"].strip(),
                            get["detector"].strip(), get["replacement"], decision, line=n))
    if unclosed_quote(text, n):
        raise DeidError(UNCLOSED_QUOTE, path, n)
    return DeidTable(path, rows)


def write_table(table: DeidTable, backup_dir: Path | None = None) -> Path:
    """Rewrite deid.csv atomically, ordered by transcript and position; the old file is backed up."""
    from qualkit.io.naming import natural_key

    table.rows.sort(key=lambda r: (natural_key(r.transcript), r.start, r.end))
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table.rows:
        writer.writerow(row.as_row())
    if table.path.exists() and backup_dir is not None:
        backup(table.path, backup_dir)
    atomic_write_text(table.path, buf.getvalue())
    return table.path


@dataclass
class DeidSettings:
    """deid.yaml: words never redacted, people/places/organisations always redacted, an NER model."""

    allow: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    ner_model: str | None = None


def load_settings(path: str | Path) -> DeidSettings:
    """Read deid.yaml (defaults when it does not exist); a wrong key or type names its line."""
    from pydantic import BaseModel, ConfigDict

    from qualkit.io.schema import validate_strict
    from qualkit.io.yamlfile import load_yaml_file

    class _Schema(BaseModel):
        model_config = ConfigDict(extra="forbid")
        allow: list[str] = []
        deny: list[str] = []
        people: list[str] = []
        places: list[str] = []
        organisations: list[str] = []
        organizations: list[str] = []
        ner_model: str | None = None

    path = Path(path)
    if not path.exists():
        return DeidSettings()
    data, node = load_yaml_file(path, DeidError, "deid.yaml")
    spec = validate_strict(_Schema, data or {}, node, path, DeidError)
    return DeidSettings(allow=spec.allow, people=spec.deny + spec.people, places=spec.places,
                        organisations=spec.organisations + spec.organizations, ner_model=spec.ner_model)
