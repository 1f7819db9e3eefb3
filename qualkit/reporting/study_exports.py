"""Every manuscript table of a study at once (`qualkit export all`, and the matrices step of `run`).

Writes to exports/: the theme x framework-domain matrix with the results table (facilitators,
barriers, mixed) as DOCX and XLSX, themes x site when the study has sites, codes by role, code
co-occurrence, saturation, the rapid analysis matrix, and the rapid matrix by health-equity domain
(HEIF 2021; Woodward et al. 2021) by site, each in the chosen formats and each with a manifest. A
table whose input is not there yet (no themes, no codings, no summaries, no equity domains) is
skipped with the reason.
"""
from __future__ import annotations

import warnings as _warnings
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.io.collector import collected_after

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["DATA_FORMATS", "MANUSCRIPT_FORMATS", "RAPID_EQUITY_STEM", "StudyExport", "export_study", "study_case_attribute"]

RAPID_EQUITY_STEM = "rapid_matrix_by_equity_domain"

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


def study_case_attribute(ws: Workspace) -> str | None:
    """The case attribute the study's tables are cut by: ``site`` when some participant, document or
    case (cases.csv ``type``) has one, else the first other case type of cases.csv; None without cases.

    `export all`, `run` and the report cut themes and the rapid matrix by it, as `--by site` does."""
    table = ws.participant_table
    for name in dict.fromkeys(["site", *ws.cases.types()]):
        if name in ws.cases.types():
            return name
        if name in table.attribute_columns and any((r.get(name) or "").strip() for r in table.rows):
            return name
        docs = ws.documents
        if name in docs.attribute_columns and any((r.get(name) or "").strip() for r in docs.rows.values()):
            return name
        if any(key == name for d in docs.rows for key, *_ in docs.ranges(d)):
            return name
    return None


def _has_codings(ws: Workspace) -> bool:
    return any(ws.codings(c) for c in ws.coders() if c != "auto")


def export_study(workspace: Workspace, out_dir: str | Path | None = None, formats: Iterable[str] | None = None, *,
                 keep: bool = False) -> StudyExport:
    """Write every study table that has input; returns what was written and skipped.

    ``formats`` (e.g. ``["md"]``) applies to every table; by default the manuscript tables (themes,
    rapid matrix) are written as XLSX, DOCX and CSV and the others as XLSX and CSV. The excerpts and
    matrices built for the tables are let go of once they are written (a study of 5,000 interviews held
    them through the rapid matrices); ``keep`` keeps them for a later step of the same command that
    reads them again (`run`'s report).
    """
    from contextlib import nullcontext

    from qualkit.io.collector import gc_paused
    from qualkit.io.outputs import ledger_batch

    # The output ledger written once, not once per file; the inputs' stamp taken once per state, not per table.
    with gc_paused(), ledger_batch(), workspace.derived_cache.steady():
        return _export_study(workspace, out_dir, formats, nullcontext() if keep else workspace.derived_cache.released())


def _export_study(workspace: Workspace, out_dir: str | Path | None, formats: Iterable[str] | None,
                  holding: AbstractContextManager) -> StudyExport:
    from qualkit.analysis.matrices import MatrixWarning, build_matrix, export_matrix
    from qualkit.analysis.themes import load_themes
    from qualkit.errors import MatrixError
    from qualkit.io.naming import file_stem

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
    case = study_case_attribute(ws)
    if themes_file.exists() and load_themes(themes_file):
        plans.insert(0, ("themes_by_domain", "themes", {"table": "matrix"}, MANUSCRIPT_FORMATS))
        if case is not None:  # themes x site: right after the themes tables, before codes by role
            plans.insert(1, (f"themes_by_{file_stem(case)}", "themes", {"by": case}, MANUSCRIPT_FORMATS))
    else:
        done.skipped.append(("themes", "no themes in themes.yaml yet"))

    with _warnings.catch_warnings(), holding:
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
                if kind == "themes" and options.get("by"):
                    tables = [stem]  # only the cut; the other themes tables are in themes_by_domain
                elif kind == "themes" and fmt in ("docx", "tex"):
                    # A page holds the results table (theme, domain, description, quotes), not the
                    # wide theme x domain matrix; that one stays in the spreadsheet.
                    tables = [t.name for t in result.tables if t.name != "themes_by_domain"] or None
                with collected_after():  # a Word document is freed as soon as it is written
                    done.written += export_matrix(result, out / f"{stem}.{fmt}", workspace=ws, tables=tables)
            done.made.append(result.title or stem)
    _rapid(ws, out, chosen or list(MANUSCRIPT_FORMATS), done)
    _rapid_equity(ws, out, chosen or list(MANUSCRIPT_FORMATS), done, case)
    return done


def _rapid(ws, out: Path, formats: list[str], done: StudyExport) -> None:
    from qualkit.analysis.rapid import rapid_matrix
    from qualkit.analysis.summaries.read import has_bullets
    from qualkit.render.tables import Table, export_tables

    summaries = ws.root / "summaries"
    if not summaries.is_dir() or not any(summaries.iterdir()):
        done.skipped.append(("rapid matrix", "no summaries yet (`qualkit summaries template`)"))
        return
    if not has_bullets(ws):
        done.skipped.append(("rapid matrix", "no summary bullets filled in yet in summaries/"))
        return
    group = "role" if "role" in ws.participant_table.attribute_columns else None
    frame = rapid_matrix(ws, rows="participant", cells="summary", group_by=group)
    inputs = sorted(p for p in summaries.iterdir() if p.suffix in (".md", ".docx")) + [ws.root / "qualkit.yaml", ws.root / "participants.csv"]
    table = Table("rapid_matrix", frame, title="Rapid analysis matrix: participants by interview-guide domain",
                  notes="Built from the analysts' summaries in summaries/ (rapid analysis; no codings).")
    for fmt in formats:
        with collected_after():  # a Word document of a row per interview is freed as soon as it is written
            done.written += export_tables([table], out / f"rapid_matrix.{fmt}", title=table.title, workspace=ws,
                                          inputs=inputs, parameters={"command": "export all", "rows": "participant",
                                                                     "group_by": group, "provenance": table.notes})
    done.made.append("rapid matrix")


def rapid_by_equity(ws: Workspace, case: str | None) -> tuple[Any, str | None]:
    """The rapid matrix by health-equity domain (HEIF 2021), one row per transcript grouped by ``case``:
    (the frame, None), or (None, why it cannot be made: no summaries, no equity domains)."""
    from qualkit.analysis.rapid import rapid_matrix
    from qualkit.errors import QualkitError

    fid = ws.config.framework or "heif"
    fw = ws.frameworks().get(fid.split("@")[0]) or ws.frameworks().get(fid)
    if fw is None or not fw.equity_domains():
        return None, f"the framework ({fid}) marks no health-equity domains (HEIF does)"
    summaries = ws.root / "summaries"
    if not summaries.is_dir() or not any(p.suffix in (".md", ".docx") for p in summaries.iterdir()):
        return None, "no summaries yet (`qualkit summaries template`)"
    try:
        frame = rapid_matrix(ws, rows="transcript", cells="summary", by=case, equity=True, include_empty=False)
    except QualkitError as exc:
        return None, str(getattr(exc, "message", exc))
    if frame.empty:
        return None, "no summary bullets filled in yet in summaries/"
    return frame, None


def _rapid_equity(ws, out: Path, formats: list[str], done: StudyExport, case: str | None) -> None:
    from qualkit.render.tables import Table, export_tables

    frame, why = rapid_by_equity(ws, case)
    if frame is None:
        done.skipped.append(("rapid matrix by equity domain", str(why)))
        return
    summaries = ws.root / "summaries"
    inputs = sorted(p for p in summaries.iterdir() if p.suffix in (".md", ".docx")) + [
        p for p in (ws.root / "qualkit.yaml", ws.root / "participants.csv", ws.root / "documents.csv",
                    ws.root / "cases.csv") if p.is_file()]
    title = "Rapid analysis matrix by health-equity domain" + (f", transcripts by {case}" if case else "")
    table = Table(RAPID_EQUITY_STEM, frame, title=title, notes=frame.attrs.get("notes"))
    for fmt in formats:
        with collected_after():  # a Word document of a row per interview is freed as soon as it is written
            done.written += export_tables([table], out / f"{RAPID_EQUITY_STEM}.{fmt}", title=title, workspace=ws,
                                          inputs=inputs, parameters={"command": "export all", "rows": "transcript",
                                                                     "by": case, "equity": True,
                                                                     "domains": frame.attrs.get("domains"),
                                                                     "provenance": table.notes})
    for w in frame.attrs.get("warnings", []):
        if w not in done.warnings:
            done.warnings.append(w)
    done.made.append("rapid matrix by equity domain")
