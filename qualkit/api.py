"""The public facade: the data-access Workspace plus one method per CLI verb.

``qualkit.Workspace`` is this class. It sits above the modules it calls, so domain modules
take the plain :class:`qualkit.workspace.store.Workspace` and never import this one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    from qualkit.workspace.codebook import Codebook

__all__ = ["Workspace"]


class Workspace(_Store):
    """An open workspace. Methods mirror the CLI verbs and return plain objects or DataFrames."""

    def check_codings(self, coders: Iterable[str] | None = None, *, fix: bool = False) -> CheckReport:
        """Validate and re-anchor coders' files (`qualkit codings check`)."""
        from qualkit.coding.coding_ops import check_codings

        return check_codings(self, coders, fix=fix)

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

    def reconcile(self, coders: list[str] | str, into: str = "consensus", adjudication: str | Path | None = None,
                  decisions: Mapping[str, Any] | None = None, by: str | None = None, **kwargs: Any) -> ReconcileResult:
        """Consensus codings from two coders and decisions (`qualkit reconcile`); returns a ReconcileResult."""
        from qualkit.analysis.reconcile import reconcile

        return reconcile(self, coders, into, adjudication, decisions, by, **kwargs)

    def memo_add(self, title: str, body: str = "", **options: Any) -> Any:
        """`qualkit memo add`: write memos/<date>-<title>.md (kind, author, links, date)."""
        from qualkit.workspace.memos import add_memo

        return add_memo(self.root, title, body, **options)

    def memos(self, link: str | None = None, kind: str | None = None) -> list:
        """`qualkit memo list`: the memos in memos/, by date (only those linked to ``link``, of ``kind``)."""
        from qualkit.workspace.memos import list_memos

        return list_memos(self.root, link=link, kind=kind)
