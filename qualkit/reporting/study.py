"""What the report's sections read, loaded once (:class:`Study`), and what each returns (:class:`Section`)."""
from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.anchoring import UnanchoredError, anchored_codings
from qualkit.errors import QualkitError

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["NOT_SET", "TOP_PAIRS", "Section", "Study", "load_study"]

NOT_SET = "(not set)"
TOP_PAIRS = 12


# ============================================================================ data shapes

@dataclass
class Section:
    """One part of the report: ``ok`` False means its input is missing and only ``notes`` are shown."""

    id: str
    title: str
    ok: bool = True
    notes: list[str] = field(default_factory=list)      # what the reader should know (or why it is missing)
    warnings: list[str] = field(default_factory=list)   # problems in the input
    data: dict[str, Any] = field(default_factory=dict)

    def missing(self, note: str) -> Section:
        self.ok = False
        self.notes.append(note)
        return self


@dataclass
class Study:
    """What every section reads, loaded once: transcripts, participants, coders and their codings."""

    ws: Any
    transcripts: list                                  # readable transcripts, natural order
    rows: list                                         # IngestRow per transcript
    errors: list[str]                                  # unreadable transcripts and other ingest errors
    ingest_warnings: list[str]
    coders: list[str]                                  # coders to compare (given or qualkit.yaml's)
    coder_files: dict[str, list]                       # coder -> codings (coders' files, consensus excluded)
    consensus: list | None                             # codings/consensus.csv if it exists
    people: dict[str, list[str]]                       # transcript -> participants who spoke (team left out)
    ci: bool = True
    resamples: int = 1000
    seed: int = 1
    cache: dict[str, Any] = field(default_factory=dict)
    # transcript -> (turns not by the research team, turns with a timestamp, first and last timestamp), counted as
    # ingest read each transcript: at 5,000 interviews, reading them again for these was 15,000 decodes of a report
    turn_facts: dict[str, tuple[int, int, float | None, float | None]] = field(default_factory=dict)

    @property
    def table(self) -> Any:
        return self.ws.participant_table

    def attr(self, participant: str, column: str) -> str:
        value = (self.table.attributes(participant).get(column) or "").strip()
        return value or NOT_SET

    def kind(self, transcript: str) -> str:
        n = len(self.people.get(transcript, []))
        return "focus group" if n >= 2 else "interview" if n == 1 else "unknown"

    def participant_turns(self, t: Any) -> int:
        """How many of transcript ``t``'s turns are not the research team's."""
        facts = self.turn_facts.get(t.id)
        return facts[0] if facts is not None else _turn_facts(t, self.table)[0]

    def timestamps(self, t: Any) -> tuple[int, float | None, float | None]:
        """(turns with a timestamp, the first and the last timestamp) of transcript ``t``."""
        facts = self.turn_facts.get(t.id)
        return (facts if facts is not None else _turn_facts(t, self.table))[1:]

    def codebooks(self) -> list:
        if "codebooks" not in self.cache:
            self.cache["codebooks"] = self.ws.codebooks()
        return self.cache["codebooks"]

    def code_index(self) -> dict:
        from qualkit.workspace.codebook import all_codes

        return all_codes(self.codebooks())

    def transcripts_of(self, coder: str) -> set[str]:
        """Ids of the transcripts ``coder`` coded (one pass over the coder's codings, then kept)."""
        key = "transcripts_of:" + coder
        if key not in self.cache:
            self.cache[key] = {x.transcript for x in self.coder_files.get(coder, [])}
        return self.cache[key]

    def coded_by(self, transcript: str) -> list[str]:
        return [c for c in self.coder_files if transcript in self.transcripts_of(c)]


def _turn_facts(t: Any, table: Any) -> tuple[int, int, float | None, float | None]:
    """(turns not by the research team, turns with a timestamp, first and last timestamp) of ``t``."""
    stamps = [turn.timestamp for turn in t.turns if turn.timestamp is not None]
    own = sum(1 for turn in t.turns if not table.is_facilitator(turn.participant))
    return own, len(stamps), min(stamps, default=None), max(stamps, default=None)


def _describe(exc: QualkitError, root: Path | None = None) -> str:
    """A QualkitError as one line: 'file:line: message', the file relative to the workspace."""
    path = getattr(exc, "path", None)
    if path is None:
        return str(getattr(exc, "message", exc))
    shown = str(path)
    if root is not None:
        try:
            shown = str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    line = f":{exc.line}" if getattr(exc, "line", None) is not None else ""
    return f"{shown}{line}: {exc.message}"


def load_study(ws: Workspace, coders: Iterable[str] | str | None = None, ci: bool = True, resamples: int = 1000,
               seed: int = 1) -> Study:
    """Read the workspace once for all sections (unreadable files become notes, not failures)."""
    from qualkit.workspace.ingest import ingest

    table = ws.participant_table
    people: dict[str, list[str]] = {}
    facts: dict[str, tuple[int, int, float | None, float | None]] = {}

    def speakers(t: Any) -> None:
        seen: list[str] = []
        for turn in t.turns:
            if turn.participant and turn.participant not in seen and not table.is_facilitator(turn.participant):
                seen.append(turn.participant)
        people[t.id] = seen
        facts[t.id] = _turn_facts(t, table)

    result = ingest(ws, visit=speakers)  # the sections read the transcripts again one at a time
    errors = [_describe(e, ws.root) for e in result.errors]
    if isinstance(coders, str):
        coders = [c.strip() for c in coders.split(",") if c.strip()]
    coder_list = list(dict.fromkeys(coders if coders else ws.config.coders))
    files: dict[str, list] = {}
    names = list(dict.fromkeys([*coder_list, *(c for c in ws.coders()
                                                 if c != "consensus" and not c.startswith("adjudication"))]))
    for name in names:
        if not ws.coder_file(name).is_file():
            continue
        try:
            files[name] = anchored_codings(ws, name)
        except UnanchoredError:
            raise  # never a report built on codings at wrong positions
        except QualkitError as exc:
            errors.append(_describe(exc, ws.root))
    consensus = None
    if ws.coder_file("consensus").is_file():
        try:
            consensus = anchored_codings(ws, "consensus")
        except UnanchoredError:
            raise
        except QualkitError as exc:
            errors.append(_describe(exc, ws.root))
    return Study(ws, result.transcripts, result.rows, errors, list(result.warnings), coder_list, files, consensus,
                 people, ci, resamples, seed, turn_facts=facts)


def _guard(study: Study, section_id: str, title: str, build: Callable[[Study], Section]) -> Section:
    """Build a section; unusable input (a QualkitError) becomes the section's note, not a failed report."""
    try:
        return build(study)
    except QualkitError as exc:
        return Section(section_id, title).missing(f"Could not be built: {_describe(exc, study.ws.root)}")


def _matrix(study: Study, kind: str, **options):
    """build_matrix with the study's cache (the same matrix serves several sections)."""
    from qualkit.analysis.matrices import build_matrix

    key = kind + repr(sorted(options.items()))
    if key not in study.cache:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            study.cache[key] = build_matrix(study.ws, kind, **options)
    return study.cache[key]


def _bad(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ == "NAType"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"
