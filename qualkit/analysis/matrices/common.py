"""What every kind of matrix shares: its choices, its result, the codes in order and the input files."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.sources import ExcerptSet
from qualkit.errors import MatrixError

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["CELLS", "COOC_CELLS", "DEFAULT_CELLS", "KINDS", "NOT_SET", "UNIDENTIFIED", "MatrixError", "MatrixResult",
           "MatrixWarning", "SaturationSummary", "check_choice", "code_order", "input_files", "level_mapper",
           "unique_labels"]

KINDS = ("themes", "codes", "cooccurrence", "saturation", "joint")
CELLS = ("count", "presence", "participants", "quotes", "summary")
COOC_CELLS = ("count", "coefficient", "pairs")
DEFAULT_CELLS = {"themes": "summary", "codes": "count", "cooccurrence": "count", "joint": "summary"}
UNIDENTIFIED = "(unidentified)"
NOT_SET = "(not set)"


class MatrixWarning(UserWarning):
    """Something the reader of a matrix should know (e.g. coders pooled for want of a consensus)."""


@dataclass
class SaturationSummary:
    """Guest et al. (2020) assessment: whether and where saturation was reached."""

    base: int
    run: int
    threshold: float
    reached: bool
    at: int | None              # the base size at which the next run added ≤ threshold new information
    label: str | None           # "6+2"
    unit: str                   # transcript | participant
    total_codes: int
    n: int                      # transcripts (or participants) assessed
    order_source: str
    statement: str
    kind: str = ""              # "interview" / "focus group" when the two are assessed apart
    parts: tuple[SaturationSummary, ...] = ()  # one per kind when assessed apart (the first is this one)

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "run": self.run, "threshold": self.threshold, "reached": self.reached, "at": self.at,
                "label": self.label, "unit": self.unit, "total_codes": self.total_codes, "n": self.n,
                "order": self.order_source, "statement": self.statement,
                "kind": self.kind, "parts": [p.as_dict() for p in self.parts]}


@dataclass
class MatrixResult:
    """One kind of matrix: the main ``frame``, every table for export, and what a reader should know."""

    kind: str
    frame: Any                                         # pandas.DataFrame
    tables: list = field(default_factory=list)         # qualkit.render.tables.Table
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    saturation: SaturationSummary | None = None
    root: Path | None = None
    display: Any = None          # a compact frame for the terminal (numbers, or "excerpts/participants")

    def table(self, name: str) -> Any:
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        import json

        def rows(frame: Any) -> Any:
            return json.loads(frame.to_json(orient="records", force_ascii=False))

        out = {"kind": self.kind, "title": self.title, "parameters": self.parameters, "warnings": list(self.warnings),
               "notes": list(self.notes),
               "tables": [{"name": t.name, "title": t.title, "notes": t.notes, "columns": [str(c) for c in t.frame.columns],
                           "rows": rows(t.frame)} for t in self.tables]}
        if self.saturation is not None:
            out["saturation"] = self.saturation.as_dict()
        return out


def input_files(workspace: Workspace, ex: ExcerptSet | None, themes: bool = False) -> list[Path]:
    """The files a matrix was built from, for its export's manifest."""
    files = [workspace.config.path, workspace.root / "participants.csv"]
    if ex is not None:
        files += list(ex.source.files)
        files += [p for p in workspace.transcript_paths() if p.stem in ex.transcripts]
    if workspace.codebooks_dir.is_dir():
        files += sorted([*workspace.codebooks_dir.glob("*.yaml"), *workspace.codebooks_dir.glob("*.yml")])
    files.append(workspace.root / "themes.yaml")
    if themes and (workspace.root / "frameworks").is_dir():
        files += sorted((workspace.root / "frameworks").glob("*.y*ml"))
    return [Path(p) for p in dict.fromkeys(files) if Path(p).is_file()]


def check_choice(value: Any, choices: Sequence[str], what: str) -> Any:
    """``value`` when it is one of ``choices``, else a MatrixError naming the closest one."""
    if value not in choices:
        close = difflib.get_close_matches(str(value), list(choices), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MatrixError(f"{what} must be one of {', '.join(choices)}, not {value!r}{hint}")
    return value


def unique_labels(labels: list[str]) -> list[str]:
    """Column labels made unique: a repeated label gets ' (2)', ' (3)'..."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label} ({n + 1})")
    return out


def code_order(workspace: Workspace, used: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Codes to show: every active code of the default codebook and every code used; codebook order."""
    books = workspace.codebooks()
    default = workspace.config.codebook
    used = set(used)
    order: list[str] = []
    names: dict[str, str] = {}
    for book in books:
        for code in book.codes:
            names.setdefault(code.id, code.name)
            if code.id in used or (book.id == default and code.status == "active"):
                if code.id not in order:
                    order.append(code.id)
    order += sorted(c for c in used if c not in order)
    return order, names


def _top_map(workspace: Workspace) -> dict[str, str]:
    """Code id -> its top-level ancestor's id."""
    out: dict[str, str] = {}
    for book in workspace.codebooks():
        for code in book.codes:
            out.setdefault(code.id, book.path_of(code)[0].id)
    return out


def level_mapper(workspace: Workspace, level: str) -> Callable[[str], str]:
    """Code id -> the code itself (``level="code"``) or its top-level ancestor (``"top"``)."""
    check_choice(level, ("code", "top"), "level for codes")
    if level == "code":
        return lambda code: code
    top = _top_map(workspace)
    return lambda code: top.get(code, code)
