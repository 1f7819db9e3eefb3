"""Matrices: themes × framework domains, codes × cases, code co-occurrence and saturation.

``matrix(workspace, kind, ...)`` returns a pandas DataFrame; ``build_matrix`` returns a
:class:`MatrixResult` with every table of that kind (for exports), warnings, notes and the
parameters and input files that go into an export's manifest.

Modules: ``build`` (build_matrix, matrix, export_matrix), one per kind (``themes``, ``codes``,
``cooccurrence``, ``saturation``), ``cells`` (one cell's value) and ``common`` (choices, results,
code order). The codings and excerpts come from :mod:`qualkit.analysis.sources`. This package
``__init__`` only re-exports: no module of the package imports it back.

Kinds
-----
``themes``
    Rows are the themes of themes.yaml, columns the framework domains they map onto (``level``:
    ``domain``, ``subdomain`` = the nearest domain or sub-domain, the default, or ``item`` = the
    ref as written). A theme with ``domains`` puts all its excerpts under each of them; a theme
    whose mapping comes from its codes' refs puts each excerpt under its own code's domains.
    ``table="results"`` gives the manuscript table instead (HEIF papers' layout): Theme | HEIF
    domain | Description | Illustrative quotes, in sections: facilitators, barriers, then mixed
    themes in a section of their own (a mixed theme is neither, and listing it twice would count
    it twice), then themes with no valence yet.
``codes``
    Codes × cases (``by``: participant, transcript, or any participants.csv column such as role or
    site), the Framework Method's chart (``transpose=True`` puts cases in rows, as Gale et al. 2013).
``cooccurrence``
    Code × code over units (``unit``: turn by default, or sentence, paragraph, question, document):
    raw counts of units coded with both, and the coefficient c = n12 / (n1 + n2 − n12), the
    Jaccard index of the two codes' unit sets; it is the formula of ATLAS.ti's c-coefficient
    (ATLAS.ti counts overlapping quotations, qualkit counts units, so figures can differ).
    ``cells``: ``count`` (square, diagonal = units with the code), ``coefficient`` (square), or
    ``pairs`` (one row per pair with n1, n2, n12 and c side by side). ``by`` cuts the units by case
    (as for ``codes``): each case's counts apart, under a first column of cases.
``saturation``
    New codes per transcript in interview order and Guest, Namey & Chen's (2020) assessment: base
    size (default 4), run length (default 2), new-information threshold (default ≤ 5%). Starting
    from the base, the codes new in the next run are divided by the unique codes in the base; the
    base grows one transcript at a time until the ratio is at or below the threshold, reported as
    "saturation at B+R" (base + run). (The growing base is qualkit's reading of the method, which
    reports results as "6+2"; check it against the paper before describing it in a manuscript.) Order: ``order`` if given, else interview dates (a date /
    interview_date / session_date column of participants.csv, or a "Date:" line at the top of every
    transcript), else natural id order. ``by="participant"`` counts focus-group participants one by
    one instead of sessions. Code saturation is not meaning saturation (Hennink et al. 2017).

Cells (themes and codes): ``count`` (excerpts), ``presence`` (0/1), ``participants`` (distinct
participants), ``quotes`` (illustrative quotes, see qualkit.analysis.quotes), ``summary`` ("n excerpts /
n participants" and the best quote). An excerpt is a coded span; the same span with two codes of
one theme counts once for that theme. Within a row, a quote already shown in an earlier cell is
passed over while the cell has others (a theme mapped onto several domains would otherwise repeat
its best quote in each).

Codings: ``coder=None`` or ``"consensus"`` uses codings/consensus.csv; when it does not exist the
coders of qualkit.yaml's ``coders:`` are pooled (union of their codings, the same span and code
counted once) with a warning. ``coder="pooled"`` pools on purpose; any other name uses that coder.
Interviewer and moderator turns (participants.csv roles in ``facilitator_roles``) are left out.
"""
from __future__ import annotations

from qualkit.analysis.matrices.build import build_matrix, export_matrix, matrix
from qualkit.analysis.matrices.common import (
    CELLS,
    COOC_CELLS,
    DEFAULT_CELLS,
    KINDS,
    NOT_SET,
    UNIDENTIFIED,
    MatrixError,
    MatrixResult,
    MatrixWarning,
    SaturationSummary,
)
from qualkit.analysis.matrices.cooccurrence import c_coefficient, cooccurrence_counts
from qualkit.analysis.matrices.saturation import DATE_COLUMNS, parse_date, saturation_table, transcript_dates
from qualkit.analysis.matrices.themes import FRAMEWORK_SHORT, SECTIONS
from qualkit.analysis.sources import (
    CONSENSUS,
    POOLED,
    CodingSource,
    Excerpt,
    ExcerptSet,
    load_excerpts,
    resolve_codings,
)

__all__ = ["CELLS", "CONSENSUS", "COOC_CELLS", "DATE_COLUMNS", "DEFAULT_CELLS", "FRAMEWORK_SHORT", "KINDS", "NOT_SET",
           "POOLED", "SECTIONS", "UNIDENTIFIED", "CodingSource", "Excerpt", "ExcerptSet", "MatrixError", "MatrixResult",
           "MatrixWarning", "SaturationSummary", "build_matrix", "c_coefficient", "cooccurrence_counts", "export_matrix",
           "load_excerpts", "matrix", "parse_date", "resolve_codings", "saturation_table", "transcript_dates"]
