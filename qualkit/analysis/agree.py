"""`qualkit agree`: inter-coder agreement per code, pooled over the codebook, and over code sets.

What is compared
    Only transcripts coded by **every** named coder count (a coder "coded" a transcript when their
    file has a coding in it); the others are listed as left out, with who did not code them.
    Interviewer / moderator turns (roles in ``facilitator_roles``) are left out unless
    ``include_facilitators``; a ``question`` unit always starts with one and is kept.

Units (``unit=``)
    ``turn`` (default, else qualkit.yaml ``agreement: {unit: ...}``), ``sentence``, ``paragraph``,
    ``question``, ``document`` (see :mod:`qualkit.coding.units`): a coder applied a code to a unit when one
    of their spans of that code overlaps it by at least one character. ``character``: every
    character position of the counted turns' text is a unit (speaker labels and the blank lines
    between turns are not text), as NVivo and QualCoder count (agreement.md §2). Characters are
    computed exactly but by runs: positions where no coder's coverage changes share every
    statistic's contribution, so the coders × characters 0/1 table is kept as runs with lengths
    (weights) — the same numbers as per-character boolean arrays, at O(codings) cost.

Per code (each unit coded / not coded by each coder: one binary variable per code, agreement.md §1)
    Every coder rated every unit of the counted transcripts, so the data are complete and:

    * ``percent_agreement``: mean over units of the share of agreeing coder pairs (Gwet 2014; for
      two coders, the share of units on which they agree);
    * ``kappa``: Cohen's kappa for two coders (``kappa_kind`` "Cohen"), Fleiss' kappa for more
      ("Fleiss");
    * ``alpha``: Krippendorff's alpha, nominal;
    * ``ac1``: Gwet's AC1 with the two categories coded / not coded;
    * ``prevalence``: share of unit × coder cells in which the code was applied (π₁);
    * ``n_units``, ``n_coded`` (units coded by at least one coder; characters in character mode).

    The formulas are those of :mod:`qualkit.agreement` (same definitions, tested equal to
    :func:`~qualkit.agreement.cohen_kappa`, :func:`~qualkit.agreement.fleiss_kappa`,
    :func:`~qualkit.agreement.krippendorff_alpha`, :func:`~qualkit.agreement.gwet_ac1` and
    :func:`~qualkit.agreement.percent_agreement` on the expanded matrices), evaluated for all codes
    at once from each code's table of unit patterns (how many units each combination of coders
    coded), which is all these statistics depend on.

Flags (``flags`` column, comma-separated)
    ``undefined``: kappa and alpha are undefined because chance agreement is 1 — nobody applied the
    code to any unit (e.g. it was only used on interviewer turns), or everybody applied it to every
    unit; they are NaN and ``notes`` says why. ``kappa paradox``: kappa < 0.4 while percent
    agreement ≥ 0.8 — high agreement on a skewed code that kappa's chance term punishes
    (Feinstein & Cicchetti 1990, doi:10.1016/0895-4356(90)90158-L); read AC1 and prevalence with
    it. ``rare``: too rare to judge — fewer than ``rare_units`` (5) units coded by anyone, or
    prevalence below ``rare_prevalence`` (2%); in character mode: fewer than 5 coded passages
    (maximal stretches of characters coded by anyone), since a code covers a small share of the
    characters even when it is common. ``below T``: the ``metric`` (alpha by
    default) is below ``threshold``.

Pooled figures (``overall``, code "(pooled)")
    The per-code coders × units tables are stacked side by side into one coders × (units · codes)
    binary table — every (unit, code) pair is one item, coded or not by each coder — and each
    statistic is computed on that stack (agreement.md §1, DESIGN.md "Overall figures pool the
    per-code tables"). So pooled percent agreement is the mean of the per-code ones, and the
    chance terms come from the pooled marginals; note that De Vries et al.'s pooled kappa
    (Field Methods 2008;20:272–282, doi:10.1177/1525822X08317166) averages p_o and p_e over codes
    instead, which differs slightly for Cohen's kappa. Codes pooled: those in the table (applied by
    at least one coder in the counted transcripts).

Set-valued alpha (``set_alpha``)
    Krippendorff's alpha with each unit's *set* of codes per coder as the value (the empty set =
    "no code applies") and the MASI or Jaccard distance as δ² (Passonneau 2006; agreement.md §10),
    as :func:`~qualkit.agreement.set_alpha` computes it, over the whole codebook.

Span matching (``overlap=``, instead of units)
    Per code and transcript, a coder's overlapping spans of the code are merged first; then two
    coders' spans *agree* when they overlap by at least ``overlap`` × the length of the longer span
    (the "overlap of at least X%" rule of MAXQDA's segment comparison; QDA Miner's minimum-overlap
    setting, default 90%: agreement.md §2). Spans are paired one-to-one, largest overlap share
    first. Each matched pair is one agreement, each unmatched span one disagreement. Per code:
    ``matched`` pairs a, ``unmatched`` spans u, ``percent_agreement`` = a / (a + u) (share of
    segment units in agreement) and ``f1`` = 2a / (2a + u), the positive specific agreement, which
    is the F-measure of one coder against the other (Fleiss 1975, Biometrics 31:651–659; Hripcsak &
    Rothschild 2005, JAMIA 12:296–298, doi:10.1197/jamia.M1733). There are no units that both
    coders left uncoded, so chance cannot be estimated: kappa, alpha and AC1 are not reported
    (NaN), as Hripcsak & Rothschild recommend the F-measure for this case. With three or more coders
    every pair of coders is matched and a and u are summed over pairs. Spans entirely inside
    left-out (interviewer) turns are dropped.

Confidence intervals (``ci=True``)
    Percentile bootstrap, resampling units with replacement ``resamples`` times, as
    :func:`qualkit.agreement.bootstrap_ci` does (Hayes & Krippendorff 2007): since a code's
    statistics depend only on its unit-pattern counts, a resample of N units is a multinomial draw
    of those counts, drawn directly (so 1,000 resamples of 60 codes take well under a second, also
    for millions of characters). Undefined resamples are skipped as in ``bootstrap_ci``. The pooled
    interval resamples units with all their codes together; the set alpha interval likewise.
    Character units are not resampled one by one (neighbouring characters are not independent):
    turns are resampled with all their characters. Span matching resamples segment units. Each code's draws come from ``seed`` and the code id, so
    a code's interval does not change when another code is added. Units are treated as
    independent, which understates uncertainty when units cluster within transcripts.

Where things live
    This module resolves the settings (coders, unit, metric; qualkit.yaml) and orchestrates;
    :mod:`qualkit.analysis.agree_units` lays codings onto unit arrays,
    :mod:`qualkit.analysis.agree_tables` builds and flags the rows, :mod:`qualkit.analysis.agree_output`
    renders and exports the report. The statistics themselves are pure numpy in
    :mod:`qualkit.agreement.patterns` (units), :mod:`qualkit.agreement.spans` (span matching) and
    :mod:`qualkit.agreement.profiles` (set-valued alpha).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from qualkit.agreement.patterns import Resampling
from qualkit.analysis.agree_output import AgreementReport, definitions, export_report, resampled
from qualkit.analysis.agree_tables import POOLED, Rules, Tables, binary_tables, overlap_tables
from qualkit.analysis.agree_units import character_units, span_lists, unit_table
from qualkit.analysis.unit_codes import UnitCodes, build_unit_codes
from qualkit.coding.anchoring import anchoring_notes
from qualkit.coding.units import UNIT_KINDS
from qualkit.errors import AgreementInputError
from qualkit.workspace.store import Workspace

__all__ = ["UNITS", "METRICS", "POOLED", "AgreementReport", "agreement", "export_report", "shared_agreement"]

#: why agreement is not computed under ``analysis.approach: reflexive``
REFLEXIVE_NOTE = ("analysis.approach is reflexive: reflexive thematic analysis does not use inter-rater reliability "
                  "(Braun & Clarke 2019, 2021), so no agreement statistics are computed; the consensus discussion "
                  "(`qualkit reconcile`, .qualkit/audit.log) is the record of how coders' readings were brought together. "
                  "Set analysis.approach: coding-reliability in qualkit.yaml to compute them")

UNITS = (*UNIT_KINDS, "character")
METRICS = ("alpha", "kappa", "ac1", "percent_agreement", "f1")
BY = ("transcript", "coder-pair")


def agreement(ws: Workspace, coders: list[str] | str | None = None, unit: str | None = None,
              include_facilitators: bool = False, overlap: float | None = None, by: str | None = None,
              ci: bool = False, resamples: int = 1000, seed: int = 1, confidence: float = 0.95,
              threshold: float | None = None, metric: str | None = None,
              rare_units: int = 5, rare_prevalence: float = 0.02) -> AgreementReport:
    """Inter-coder agreement of ``coders`` per code, pooled, and as set-valued alpha.

    ``coders`` default to qualkit.yaml ``coders:``; ``unit`` to ``agreement: {unit: ...}``, else
    ``turn``; ``overlap`` (0 < share ≤ 1) matches spans instead of using units. ``by``:
    ``"transcript"`` or ``"coder-pair"`` adds a breakdown. ``ci`` adds percentile bootstrap
    intervals (``resamples``, ``seed``, ``confidence``). ``metric`` (alpha; f1 for span
    matching) orders the table worst first and is compared with ``threshold``. Definitions and
    sources: the module docstring. Raises :class:`~qualkit.errors.QualkitError` subclasses with the
    file and line for unusable input (unknown coder, no common transcript, codings of missing
    transcripts or codes, unknown unit, overlap outside (0, 1]).
    """
    if ws.config.reflexive:
        raise AgreementInputError(REFLEXIVE_NOTE, ws.config.path)
    coders = _resolve_coders(ws, coders)
    unit = _resolve_unit(ws, unit, overlap)
    share = _check_overlap(overlap) if overlap is not None else None
    if by is not None and by not in BY:
        raise AgreementInputError(f"by must be one of {', '.join(BY)}, not {by!r}")
    metric = _resolve_metric(metric, unit)
    if threshold is not None and not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise AgreementInputError(f"threshold must be a number such as 0.8, not {threshold!r}")
    resampling = _resampling(resamples, seed, confidence) if ci else None
    base_unit = "turn" if unit in ("character", "overlap") else unit
    uc = build_unit_codes(ws, coders, unit=base_unit, include_facilitators=include_facilitators)
    rule = Rules(threshold, metric, rare_units, rare_prevalence)
    counted = (uc.coders, list(uc.transcripts), dict(uc.left_out), dict(uc.progress), dict(uc.facilitator_only))
    held = [uc]
    del uc  # _compute lets go of the units once their table is made: unless a later step keeps them (see
    #         Workspace.derived), their ~140 MB at 5,000 interviews are given back before the statistics' peak
    computed = _compute(ws, held, unit, share, rule, by, resampling)
    ci_info = None if resampling is None else {**resampling._asdict(), "method": "percentile bootstrap",
                                               "resampled": resampled(unit)}
    kept_coders, transcripts, left_out, progress, facilitator_only = counted
    return AgreementReport(
        coders=kept_coders, unit=unit, overlap=share, include_facilitators=include_facilitators,
        table=computed.table, overall=computed.overall, set_alpha=computed.set_alpha, transcripts=transcripts,
        left_out=left_out, progress=progress,
        facilitator_only=facilitator_only, unanchored=[n for n in anchoring_notes(ws) if "LEFT OUT" in n],
        n_units=int(computed.n_units), metric=metric, threshold=threshold, by=by,
        breakdown=computed.breakdown, ci=ci_info,
        definitions=definitions(unit, len(kept_coders), share, rule, resampling),
        inputs=_inputs(ws, kept_coders, transcripts), root=ws.root)


def shared_agreement(ws: Workspace, coders: list[str], *, ci: bool = True, resamples: int = 1000, seed: int = 1) -> AgreementReport:
    """The agreement of ``coders`` with qualkit.yaml's settings that `run`'s agreement step and the report both
    show, computed once while the inputs are unchanged (:meth:`Workspace.derived`; not to be modified): the
    step writes it without its intervals (:meth:`AgreementReport.without_ci`), the report with them."""
    key = ("agreement", tuple(coders), ci, resamples, seed)
    return ws.derived(key, lambda: agreement(ws, list(coders), ci=ci, resamples=resamples, seed=seed))


def _compute(ws: Workspace, held: list[UnitCodes], unit: str, share: float | None, rule: Rules, by: str | None,
             resampling: Resampling | None) -> Tables:
    """The tables for span matching (``unit`` "overlap") or for units, codes in codebook order; the unit
    codes come in ``held`` (taken out of it) so that they are not held once the units' table is made."""
    uc = held.pop()
    index = ws.code_index()
    order = {c: i for i, c in enumerate(index)}

    def codebook_order(codes: Any) -> list[str]:
        return sorted(codes, key=lambda c: (order.get(c, len(order)), c))

    if unit == "overlap":
        assert share is not None
        spans = span_lists(ws, uc)
        codes = codebook_order(spans)
        names = [_code_name(index, c) for c in codes]
        return overlap_tables(uc, spans, codes, names, share, rule, by, resampling)
    units = character_units(ws, uc) if unit == "character" else unit_table(uc)
    del uc
    codes = codebook_order(units.codes)
    units = units.reorder(codes)
    names = [_code_name(index, c) for c in codes]
    return binary_tables(units, names, rule, by, resampling)


def _resampling(resamples: Any, seed: int, confidence: float) -> Resampling:
    if not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise AgreementInputError(f"resamples must be a positive whole number, not {resamples!r}")
    if not 0 < confidence < 1:
        raise AgreementInputError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}")
    return Resampling(int(resamples), int(seed), float(confidence))


def _resolve_coders(ws: Workspace, coders: list[str] | str | None) -> list[str]:
    if isinstance(coders, str):
        coders = [c.strip() for c in coders.split(",") if c.strip()]
    if not coders:
        coders = list(ws.config.coders)
        if len(coders) < 2:
            raise AgreementInputError("name the coders to compare: --coders ana,ben, or list them under 'coders:' in qualkit.yaml "
                                      f"(coders with files: {', '.join(ws.coders()) or 'none'})", ws.config.path)
    return list(coders)


def _resolve_unit(ws: Workspace, unit: str | None, overlap: float | None) -> str:
    if overlap is not None:
        if unit is not None:
            raise AgreementInputError("give either a unit or --overlap (span matching needs no units), not both")
        return "overlap"
    if unit is None:
        return str(ws.config.agreement.unit)  # validated against the units when qualkit.yaml is read
    if unit not in UNITS:
        raise AgreementInputError(f"unit must be one of {', '.join(UNITS)} (or use --overlap SHARE), not {unit!r}")
    return unit


def _check_overlap(overlap: Any) -> float:
    try:
        value = float(overlap)
    except (TypeError, ValueError):
        raise AgreementInputError(f"overlap must be a share between 0 and 1 such as 0.5, not {overlap!r}") from None
    if not (0.0 < value <= 1.0):
        raise AgreementInputError(f"overlap must be a share in (0, 1] such as 0.5 (a share of the longer span), not {overlap!r}")
    return value


def _resolve_metric(metric: str | None, unit: str) -> str:
    if metric in (None, ""):
        return "f1" if unit == "overlap" else "alpha"
    if metric == "agreement":
        metric = "percent_agreement"
    if metric not in METRICS:
        raise AgreementInputError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if unit == "overlap" and metric not in ("f1", "percent_agreement"):
        raise AgreementInputError(f"span matching reports agreement and f1 only (no chance-corrected {metric}): use --metric f1")
    if unit != "overlap" and metric == "f1":
        raise AgreementInputError("f1 is reported for span matching (--overlap) only")
    return metric


def _code_name(index: dict[str, Any], code: str) -> str:
    entry = index.get(code)
    return entry[1].name if entry else ""


def _inputs(ws: Workspace, coders: list[str], transcripts: list[str]) -> list[Path]:
    wanted = set(transcripts)
    files = [ws.config.path, ws.root / "participants.csv"]
    files += [ws.coder_file(c) for c in coders]
    if ws.codebooks_dir.is_dir():
        files += sorted([*ws.codebooks_dir.glob("*.yaml"), *ws.codebooks_dir.glob("*.yml")])
    files += [p for p in ws.transcript_paths() if p.stem in wanted]
    return [Path(p) for p in files if Path(p).is_file()]
