"""`qualkit deid scan`: propose spans to redact in every transcript, into deid.csv.

A re-scan keeps every decided row and every row the team added by hand, drops undecided rows the
detectors no longer propose, and adds new proposals with the replacement their entity already has.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.deid.detect import Detector
from qualkit.deid.patterns import Candidate
from qualkit.deid.table import (
    DEID_CSV,
    DEID_YAML,
    DeidRow,
    DeidSettings,
    DeidTable,
    load_settings,
    read_table,
    write_table,
)
from qualkit.transcripts.model import Transcript
from qualkit.workspace.store import Workspace

__all__ = ["ScanResult", "build_detector", "deid_scan", "entity_key", "load_deid", "replacement_for"]

_PLAIN = {"date": "[Date]", "phone": "[Phone]", "email": "[Email]", "url": "[URL]", "ip": "[IP address]",
          "number": "[Number]", "age": "[Age 90+]", "zip": "[ZIP]", "address": "[Address]"}
_LETTERED = {"place": "Place", "organisation": "Organisation"}
_SITE_COLUMNS = ("site", "location", "town", "city", "county", "community", "facility", "organisation", "organization", "agency")


@dataclass
class ScanResult:
    """What a scan did: rows proposed now, kept from before, dropped; where they are; what it could not do."""

    path: Path
    table: DeidTable
    added: int = 0
    kept: int = 0
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.table.rows:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def load_deid(ws: Workspace) -> DeidTable:
    """deid.csv of the workspace (empty when there is none)."""
    return read_table(ws.root / DEID_CSV)


def build_detector(ws: Workspace, settings: DeidSettings | None = None, warnings: list[str] | None = None) -> Detector:
    """The detector for this workspace: participants.csv names and sites, deid.yaml's lists and model."""
    from qualkit.deid import lexicon

    settings = settings if settings is not None else load_settings(ws.root / DEID_YAML)
    det = Detector(allow=lexicon.ALLOW_DEFAULT | {w.casefold() for w in settings.allow})
    table = ws.participant_table
    for row in table.rows:
        det.add_participant(row["speaker"], row["participant_id"])
    for row in table.rows:
        for col in _SITE_COLUMNS:
            value = (row.get(col) or "").strip()
            if value and not lexicon.common_word(value):
                det.add_term(value, "organisation" if col in ("facility", "organisation", "organization", "agency") else "place",
                             "participants site")
    for kind, terms in (("person", settings.people), ("place", settings.places), ("organisation", settings.organisations)):
        for term in terms:
            det.add_term(term, kind, "deid.yaml", exact=False)
    if settings.ner_model:
        det.nlp = _load_ner(settings.ner_model, warnings if warnings is not None else [])
    return det


def _load_ner(name: str, warnings: list[str]) -> object | None:
    """The user's installed spaCy model (deid.yaml `ner_model:`); never downloaded."""
    import importlib.util

    installed = Path(name).is_dir() or (name.isidentifier() and importlib.util.find_spec(name) is not None)
    if not installed:  # checked without importing spaCy
        warnings.append(f"deid.yaml: ner_model {name!r} is not installed; scanned without it (qualkit never downloads models)")
        return None
    import spacy

    try:
        return spacy.load(name, exclude=["lemmatizer", "textcat"])
    except (OSError, ValueError) as exc:
        warnings.append(f"deid.yaml: ner_model {name!r} does not load ({exc}); scanned without it")
        return None


def entity_key(kind: str, text: str, entity: str = "") -> str:
    """Who or what a span is: its participant, else its kind and its words (case and spacing ignored)."""
    return entity or f"{kind}:{' '.join(text.split()).casefold()}"


def replacement_for(kind: str, key: str, table: DeidTable, known: dict[str, str]) -> str:
    """The entity's replacement already in use, else the next free one of its kind: [Person 3], [Place B]."""
    if key in known:
        return known[key]
    if key.startswith("participant:"):
        value = f"[{key.split(':', 1)[1]}]"
    elif kind in _PLAIN:
        value = _PLAIN[kind]
    else:
        used = set(known.values()) | {r.replacement for r in table.rows}
        label = _LETTERED.get(kind, "Person")
        n = 1
        while (value := f"[{label} {_ordinal(n, kind in _LETTERED)}]") in used:
            n += 1
    known[key] = value
    return value


def _ordinal(n: int, letters: bool) -> str:
    if not letters:
        return str(n)
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _entity_of(row: DeidRow, participants: dict[str, str]) -> str:
    """A row's entity key as the table remembers it (participant replacements look like [FG1-P1])."""
    inner = row.replacement[1:-1] if row.replacement.startswith("[") and row.replacement.endswith("]") else ""
    if inner in participants:
        return f"participant:{inner}"
    return entity_key(row.kind, row.text)


def deid_scan(ws: Workspace, progress: Callable[[list[Transcript]], Iterable[Transcript]] | None = None) -> ScanResult:
    """Propose spans in every transcript and merge them into deid.csv (decisions are kept)."""
    path = ws.root / DEID_CSV
    table = read_table(path)
    warnings: list[str] = []
    detector = build_detector(ws, warnings=warnings)
    participants = {r["participant_id"]: r["participant_id"] for r in ws.participant_table.rows}
    known = {_entity_of(r, participants): r.replacement for r in table.rows if r.replacement}
    keep = [r for r in table.rows if r.decision or r.detector == "manual"]
    undecided = {(r.transcript, r.start, r.end): r for r in table.rows if r not in keep}
    result = ScanResult(path, DeidTable(path, list(keep)), kept=len(keep), warnings=warnings)
    next_id = 1 + max((int(r.id[1:]) for r in table.rows if r.id[1:].isdigit()), default=0)
    transcripts = ws.transcripts()
    for t in progress(transcripts) if progress is not None else transcripts:
        taken = [(r.start, r.end) for r in keep if r.transcript == t.id]
        for c in detector.candidates(t.text):
            if any(c.start < e and s < c.end for s, e in taken):
                continue
            text = t.text[c.start:c.end]
            prev = undecided.pop((t.id, c.start, c.end), None)
            if prev is not None and prev.text == text:
                result.table.rows.append(prev)
                result.kept += 1
                continue
            row = DeidRow(f"d{next_id}", t.id, c.start, c.end, text, c.kind, c.detector,
                          replacement_for(c.kind, entity_key(c.kind, text, c.entity), result.table, known))
            next_id += 1
            result.table.rows.append(row)
            result.added += 1
    result.dropped = len(undecided)
    write_table(result.table, ws.backup_dir)
    return result


def candidates_for(text: str, detector: Detector) -> list[Candidate]:
    """The spans ``detector`` proposes in ``text`` (the benchmark's entry point)."""
    return detector.candidates(text)
