"""participants.csv: who each speaker label is, and their attributes (role, site, group, ...)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import WorkspaceError

PARTICIPANTS_NAME = "participants.csv"
REQUIRED_COLUMNS = ("transcript", "speaker", "participant_id")
DEFAULT_HEADER = "transcript,speaker,participant_id,role,site,group\n"


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass
class Participants:
    """The participant table: rows as written, plus lookups from speaker labels.

    A row with a blank ``transcript`` maps that label in every transcript (e.g. ``Interviewer``).
    Lookups try the exact label first, then a case- and space-insensitive match.
    """

    path: Path | None
    columns: list[str] = field(default_factory=lambda: list(REQUIRED_COLUMNS))
    rows: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facilitator_roles: frozenset[str] = frozenset({"interviewer", "moderator", "facilitator", "note-taker"})

    def __post_init__(self) -> None:
        self._by_key: dict[tuple[str, str], dict[str, str]] = {}
        self._by_id: dict[str, dict[str, str]] = {}
        self._rows_of: dict[str, list[int]] = {}  # transcript -> positions of its rows (labels_for, per file)
        for i, row in enumerate(self.rows):
            self._rows_of.setdefault(row["transcript"], []).append(i)
            self._by_key.setdefault((row["transcript"], _norm(row["speaker"])), row)
            self._by_id.setdefault(row["participant_id"], row)

    @property
    def attribute_columns(self) -> list[str]:
        """Columns beyond transcript/speaker/participant_id (role, site, ...)."""
        return [c for c in self.columns if c not in REQUIRED_COLUMNS]

    def lookup(self, transcript: str, speaker: str | None) -> dict[str, str] | None:
        """The row for ``speaker`` in ``transcript`` (transcript-specific rows win over blank ones).

        ``speaker`` None (a turn with no label, as in field notes) finds the transcript's row with a
        blank speaker, if it has one."""
        if speaker is None:
            return self._by_key.get((transcript, ""))
        key = _norm(speaker)
        return self._by_key.get((transcript, key)) or self._by_key.get(("", key))

    def rows_for(self, transcript: str) -> list[dict[str, str]]:
        """The rows naming ``transcript`` (not the all-transcript ones), in file order: looked up, not scanned."""
        return [self.rows[i] for i in self._rows_of.get(transcript, [])] if transcript else []

    def labels_for(self, transcript: str) -> list[str]:
        """Speaker labels known for a transcript (its own rows and the all-transcript rows)."""
        rows = self._rows_of.get(transcript, []) + (self._rows_of.get("", []) if transcript != "" else [])
        return [self.rows[i]["speaker"] for i in sorted(rows)]

    def attributes(self, participant_id: str) -> dict[str, str]:
        """A participant's attribute columns (empty dict if unknown)."""
        cache: dict[str, dict[str, str]] = self.__dict__.setdefault("_attributes", {})
        found = cache.get(participant_id)
        if found is None:  # built once per participant: the matrices ask once per coding
            row = self._by_id.get(participant_id)
            found = cache[participant_id] = {c: row.get(c, "") for c in self.attribute_columns} if row else {}
        return dict(found)

    def is_facilitator(self, participant_id: str | None) -> bool:
        """True for research-team members (role in facilitator_roles), excluded from analysis by default."""
        if participant_id is None:
            return False
        cache: dict[str, bool] = self.__dict__.setdefault("_facilitator", {})
        found = cache.get(participant_id)
        if found is None:  # once per participant: sections ask once per turn and per coding
            row = self._by_id.get(participant_id)
            found = cache[participant_id] = row is not None and row.get("role", "").strip().lower() in self.facilitator_roles
        return found

    def to_dataframe(self) -> Any:
        """The table as a pandas DataFrame (all columns as strings)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns, dtype="string")


def load_participants(path: str | Path, facilitator_roles: Iterable[str] | None = None) -> Participants:
    """Read participants.csv; missing columns, blank ids or conflicting rows name the line."""
    path = Path(path)
    roles = frozenset(r.lower() for r in facilitator_roles) if facilitator_roles is not None else None
    extra: dict[str, Any] = {"facilitator_roles": roles} if roles is not None else {}
    if not path.exists():
        return Participants(path, warnings=[f"{PARTICIPANTS_NAME} not found: speakers are not linked to participants"], **extra)
    from qualkit.io.tables import read_csv

    # Excel writes cp1252 (and, in many locales, semicolons): read what researchers have.
    table = read_csv(path, error_cls=WorkspaceError)
    warnings = [f"{PARTICIPANTS_NAME}: {w}" for w in table.warnings]
    if not table.rows:
        raise WorkspaceError(f"is empty; it needs a header row with {', '.join(REQUIRED_COLUMNS)}", path, 1)
    header = table.rows[0].cells
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise WorkspaceError(f"missing column(s) {', '.join(missing)} in the header row", path, 1)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise WorkspaceError(f"column(s) {', '.join(dupes)} appear twice in the header row", path, 1)
    rows: list[dict[str, str]] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for record in table.rows[1:]:
        lineno, values = record.line, record.cells
        if record.blank:
            continue
        if len(values) > len(header):
            raise WorkspaceError(f"{len(values)} fields but the header has {len(header)}", path, lineno)
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
        if not row["speaker"] and not row["transcript"]:
            raise WorkspaceError("blank speaker label and blank transcript: a blank speaker stands for the "
                                 "unlabeled turns of one document, so name its transcript", path, lineno)
        if not row["participant_id"]:
            who = f"speaker {row['speaker']!r}" if row["speaker"] else f"the unlabeled turns of {row['transcript']!r}"
            raise WorkspaceError(f"blank participant_id for {who}", path, lineno)
        key = (row["transcript"], _norm(row["speaker"]))
        if key in seen and seen[key][1] != row["participant_id"]:
            where = f"transcript {row['transcript']!r}" if row["transcript"] else "all transcripts"
            raise WorkspaceError(
                f"speaker {row['speaker']!r} in {where} is mapped twice (line {seen[key][0]} says "
                f"{seen[key][1]!r}, this line {row['participant_id']!r})", path, lineno)
        seen.setdefault(key, (lineno, row["participant_id"]))
        rows.append(row)
    return Participants(path, header, rows, warnings, **extra)
