"""Every manuscript table of a study at once (`qualkit export all`, and the matrices step of `run`).

Writes to exports/: the theme x framework-domain matrix with the results table (facilitators,
barriers, mixed) as DOCX and XLSX, codes by role, code co-occurrence, saturation, and the rapid
analysis matrix, each in the chosen formats and each with a manifest. A table whose input is not
there yet (no themes, no codings, no summaries) is skipped with the reason.
"""
from __future__ import annotations

import warnings as _warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["DATA_FORMATS", "MANUSCRIPT_FORMATS", "StudyExport", "export_study"]

# Word is for the tables that go into a manuscript; spreadsheets and CSV for everything.
MANUSCRIPT_FORMATS = ("xlsx", "docx", "csv")
DATA_FORMATS = ("xlsx", "csv")


@dataclass
class StudyExport:
    """What export_study wrote, what it skipped (with reasons) and what a reader must know."""

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """Written files without their manifests."""
        return [p for p in self.written if not p.name.endswith(".manifest.json")]


def _has_codings(ws: Workspace) -> bool:
    return any(ws.codings(c) for c in ws.coders() if c != "auto")


def export_study(workspace: Workspace, out_dir: str | Path | None = None, formats: Iterable[str] | None = None) -> StudyExport:
    """Write every study table that has input; returns what was written and skipped.

    ``formats`` (e.g. ``["md"]``) applies to every table; by default the manuscript tables (themes,
    rapid matrix) are written as XLSX, DOCX and CSV and the others as XLSX and CSV.
    """
    from qualkit.analysis.matrices import MatrixWarning, build_matrix, export_matrix
    from qualkit.analysis.themes import load_themes
    from qualkit.errors import MatrixError

    ws = workspace
    out = Path(out_dir) if out_dir is not None else ws.root / "exports"
    out.mkdir(parents=True, exist_ok=True)
    chosen = [f.lower().lstrip(".") for f in formats] if formats is not None else None
    done = StudyExport()
    if not _has_codings(ws):
        done.skipped.append(("matrices", "no codings yet in codings/"))
        return done

    themes_file = ws.root / "themes.yaml"
    plans: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [("cooccurrence", "cooccurrence", {}, DATA_FORMATS), ("saturation", "saturation", {}, DATA_FORMATS)]
    if "role" in ws.participant_table.attribute_columns:
        plans.insert(0, ("codes_by_role", "codes", {"by": "role"}, DATA_FORMATS))
    if themes_file.exists() and load_themes(themes_file):
        plans.insert(0, ("themes_by_domain", "themes", {"table": "matrix"}, MANUSCRIPT_FORMATS))
    else:
        done.skipped.append(("themes", "no themes in themes.yaml yet"))

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", MatrixWarning)
        from qualkit.io.progress import track

        for stem, kind, options, default_formats in track(plans, "Writing study tables"):
            try:
                result = build_matrix(ws, kind, **options)
            except MatrixError as e:  # saturation without interview dates: Guest et al. need the order
                done.skipped.append((stem, str(e)))
                continue
            for w in result.warnings:
                if w not in done.warnings:
                    done.warnings.append(w)
            for fmt in chosen or default_formats:
                tables = None
                if kind == "themes" and fmt in ("docx", "tex"):
                    # A page holds the results table (theme, domain, description, quotes), not the
                    # wide theme x domain matrix; that one stays in the spreadsheet.
                    tables = [t.name for t in result.tables if t.name != "themes_by_domain"] or None
                done.written += export_matrix(result, out / f"{stem}.{fmt}", workspace=ws, tables=tables)
            done.made.append(result.title or stem)
    _rapid(ws, out, chosen or list(MANUSCRIPT_FORMATS), done)
    return done


def _rapid(ws, out: Path, formats: list[str], done: StudyExport) -> None:
    from qualkit.analysis.rapid import rapid_matrix
    from qualkit.analysis.summaries import collect_summaries
    from qualkit.render.tables import Table, export_tables

    summaries = ws.root / "summaries"
    if not summaries.is_dir() or not any(summaries.iterdir()):
        done.skipped.append(("rapid matrix", "no summaries yet (`qualkit summaries template`)"))
        return
    bullets = collect_summaries(ws)
    if bullets.empty:
        done.skipped.append(("rapid matrix", "no summary bullets filled in yet in summaries/"))
        return
    group = "role" if "role" in ws.participant_table.attribute_columns else None
    frame = rapid_matrix(ws, rows="participant", cells="summary", group_by=group)
    inputs = sorted(p for p in summaries.iterdir() if p.suffix in (".md", ".docx")) + [ws.root / "qualkit.yaml", ws.root / "participants.csv"]
    table = Table("rapid_matrix", frame, title="Rapid analysis matrix: participants by interview-guide domain",
                  notes="Built from the analysts' summaries in summaries/ (rapid analysis; no codings).")
    for fmt in formats:
        done.written += export_tables([table], out / f"rapid_matrix.{fmt}", title=table.title, workspace=ws,
                                      inputs=inputs, parameters={"command": "export all", "rows": "participant", "group_by": group,
                                                  "provenance": table.notes})
    done.made.append("rapid matrix")
