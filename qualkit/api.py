"""The public facade: the data-access Workspace plus one method per CLI verb.

``qualkit.Workspace`` is this class. It sits above the modules it calls, so domain modules
take the plain :class:`qualkit.workspace.store.Workspace` and never import this one.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.workspace.store import Workspace as _Store

if TYPE_CHECKING:  # only for the annotations: importing these loads pandas
    import pandas as pd

    from qualkit.analysis.disagreements import DisagreementList
    from qualkit.analysis.reconcile import ReconcileResult
    from qualkit.analysis.themes import ThemeCheck, ThemeSet
    from qualkit.coding.autocode import AutocodeResult
    from qualkit.coding.coding_ops import CheckReport
    from qualkit.coding.search import Hit
    from qualkit.deid.check import Finding
    from qualkit.deid.decide import DecideResult, DeidExport
    from qualkit.deid.review import ReviewItem
    from qualkit.deid.scan import ScanResult
    from qualkit.reporting.status import StudyStatus
    from qualkit.workspace.codebook import Codebook

__all__ = ["Workspace"]


class Workspace(_Store):
    """An open workspace. Methods mirror the CLI verbs and return plain objects or DataFrames."""

    def check_codings(self, coders: Iterable[str] | None = None, *, fix: bool = False) -> CheckReport:
        """Validate and re-anchor coders' files (`qualkit codings check`)."""
        from qualkit.coding.coding_ops import check_codings

        return check_codings(self, coders, fix=fix)

    def status(self) -> StudyStatus:
        """The study's state (`qualkit status`): coverage, drift, agreement, consensus, stale exports, next step."""
        from qualkit.reporting.status import status

        return status(self)

    def mark_done(self, transcript: str, coder: str, done: bool = True) -> bool:
        """Mark a transcript done (or not) for a coder (`qualkit codings done`); True if that changed."""
        from qualkit.coding.coverage import mark_done

        return mark_done(self, transcript, coder, done)

    def query_codings(self, coders: Iterable[str] | None = None, transcript: str | None = None,
                      code: str | None = None) -> pd.DataFrame:
        """Codings with the speaker and participant of each (`qualkit codings list`), as a DataFrame."""
        from qualkit.coding.coding_ops import query_codings

        return query_codings(self, coders, transcript, code)

    def autocode(self, codebook: Codebook | str | None = None, unit: str = "turn", **options: Any) -> AutocodeResult:
        """Keyword/pattern suggestions into codings/auto.csv (`qualkit autocode`); an AutocodeResult."""
        from qualkit.coding.autocode import autocode

        return autocode(self, codebook, unit, **options)

    def search(self, term: str, fuzzy: bool = False, **options: Any) -> list[Hit]:
        """Keyword in context across transcripts (`qualkit search`); a list of hits."""
        from qualkit.coding.search import search

        return search(self, term, fuzzy, **options)

    def themes(self) -> ThemeSet:
        """themes.yaml, read (`qualkit themes show`); errors name file and line."""
        from qualkit.analysis.themes import load_themes, themes_path

        return load_themes(themes_path(self))

    def check_themes(self, coder: str | None = None) -> ThemeCheck:
        """`qualkit themes check`: themes.yaml against codebooks, codings and the framework."""
        from qualkit.analysis.themes import check_themes

        return check_themes(self, coder=coder)

    def quote(self, theme: str, pin: str | None = None, coder: str | None = None) -> Any:
        """`qualkit themes quote THEME [--pin CODING]`: the theme's quote candidates, or pin one."""
        from qualkit.analysis.theme_quotes import pin_quote, theme_quotes

        if pin:
            return pin_quote(self, theme, pin, coder)
        return theme_quotes(self, theme, coder)

    def calibrate(self, transcript: str, analysts: list[str], **options: Any) -> list[Path]:
        """`qualkit summaries calibrate`: one summary template of ``transcript`` per analyst."""
        from qualkit.analysis.summaries.calibration import calibration_templates

        return calibration_templates(self, transcript, analysts, **options)

    def compare(self, transcript: str) -> Any:
        """`qualkit summaries compare`: the analysts' calibration summaries side by side."""
        from qualkit.analysis.summaries.calibration import compare_calibration

        return compare_calibration(self, transcript)

    def matrix(self, kind: str, **options: Any) -> pd.DataFrame:
        """`qualkit matrix KIND` as a DataFrame: themes, codes, cooccurrence, saturation or rapid."""
        if kind == "rapid":
            from qualkit.analysis.rapid import rapid_matrix

            return rapid_matrix(self, **options)
        from qualkit.analysis.matrices import matrix

        return matrix(self, kind, **options)

    def agreement(self, coders: list[str] | str | None = None, unit: str | None = None,
                  **options: Any) -> pd.DataFrame:
        """Per-code inter-coder agreement (`qualkit agree`) as a DataFrame; the full report
        (pooled row, set alpha, left-out transcripts) is qualkit.analysis.agree.agreement(self, ...)."""
        from qualkit.analysis.agree import agreement

        return agreement(self, coders, unit=unit, **options).table

    def disagreements(self, coders: list[str] | str, unit: str | None = None, code: str | None = None,
                      include_facilitators: bool = False) -> DisagreementList:
        """Where two coders differ, unit by unit (`qualkit disagreements`); a list with .to_dataframe()."""
        from qualkit.analysis.disagreements import disagreements

        return disagreements(self, coders, unit, code, include_facilitators)

    def export_codebook(self, path: str | Path, format: str | None = None,  # noqa: A002
                        codebook: str | None = None) -> list[str]:
        """`qualkit export codebook`: a codebook as csv, xlsx, docx, md, qdc or taguette-csv
        (default: by the file's extension); returns warnings."""
        from qualkit.refiqda.codebook_formats import export_codebook

        return export_codebook(self.codebook(codebook), path, format)

    def reconcile(self, coders: list[str] | str, into: str = "consensus", adjudication: str | Path | None = None,
                  decisions: Mapping[str, Any] | None = None, by: str | None = None, **kwargs: Any) -> ReconcileResult:
        """Consensus codings from two coders and decisions (`qualkit reconcile`); returns a ReconcileResult."""
        from qualkit.analysis.reconcile import reconcile

        return reconcile(self, coders, into, adjudication, decisions, by, **kwargs)

    # -- de-identification (`qualkit deid ...`) ----------------------------------------------
    def deid_scan(self) -> ScanResult:
        """Propose identifiers in every transcript into deid.csv, keeping decisions (`qualkit deid scan`)."""
        from qualkit.deid.scan import deid_scan

        return deid_scan(self)

    def deid_decide(self, decision: str, ids: Iterable[str] = (), **options: Any) -> DecideResult:
        """Set a decision on spans by id, ``kind=``, ``transcript=`` or ``everything=True``."""
        from qualkit.deid.decide import deid_decide

        return deid_decide(self, decision, ids, **options)

    def deid_accept(self, ids: Iterable[str] = (), **options: Any) -> DecideResult:
        """`qualkit deid accept`: these spans are redacted in exports."""
        return self.deid_decide("accept", ids, **options)

    def deid_reject(self, ids: Iterable[str] = (), **options: Any) -> DecideResult:
        """`qualkit deid reject`: these spans stay as written."""
        return self.deid_decide("reject", ids, **options)

    def deid_review_queue(self, kind: str | None = None, transcript: str | None = None) -> Iterator[ReviewItem]:
        """`qualkit deid review`: the undecided spans in context, one at a time (answer with deid_answer)."""
        from qualkit.deid.review import review_queue

        return review_queue(self, kind, transcript)

    def deid_answer(self, row_id: str, decision: str, **options: Any) -> int:
        """Decide one span (``same_text=True``: all undecided with its text; ``replacement=``: rename)."""
        from qualkit.deid.review import answer

        return answer(self, row_id, decision, **options)

    def deid_export(self, out_dir: str | Path) -> DeidExport:
        """`qualkit deid export DIR`: redacted transcript copies, mapping file beside the folder."""
        from qualkit.deid.decide import deid_export

        return deid_export(self, out_dir)

    def deid_check(self, paths: Iterable[str | Path]) -> list[Finding]:
        """`qualkit deid check PATH...`: accepted or undecided identifiers found in finished files."""
        from qualkit.deid.check import deid_check
        from qualkit.deid.redact import redacted_view
        from qualkit.deid.scan import load_deid

        table = load_deid(self)
        corpus = " ".join(" ".join(t.text.split()) for t in redacted_view(self, table).transcripts()) if table.rows else ""
        return deid_check(table, paths, corpus)

    def redacted(self, *, no_deid: bool = False) -> Workspace:
        """The view exports read: redacted once deid.csv holds a decision (this workspace otherwise)."""
        from qualkit.deid.apply import export_view

        return export_view(self, no_deid=no_deid)[0]  # type: ignore[return-value]

    def memo_add(self, title: str, body: str = "", **options: Any) -> Any:
        """`qualkit memo add`: write memos/<date>-<title>.md (kind, author, links, date)."""
        from qualkit.workspace.memos import add_memo

        return add_memo(self.root, title, body, **options)

    def memos(self, link: str | None = None, kind: str | None = None) -> list:
        """`qualkit memo list`: the memos in memos/, by date (only those linked to ``link``, of ``kind``)."""
        from qualkit.workspace.memos import list_memos

        return list_memos(self.root, link=link, kind=kind)
