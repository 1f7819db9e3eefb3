"""The tables of :func:`qualkit.analysis.agree.agreement`: one row per code, a pooled row, flags.

The statistics come from :mod:`qualkit.agreement.patterns` (units), :mod:`qualkit.agreement.spans`
(span matching) and :mod:`qualkit.agreement.profiles` (set alpha); this module names the rows,
flags them (undefined, kappa paradox, rare, below a threshold) and sorts them worst first.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from qualkit.agreement.patterns import (
    PATTERN_STATISTICS,
    PatternCells,
    Resampling,
    clustered_pattern_ci,
    count_patterns,
    pattern_ci,
    pattern_keys,
    pooled_pattern_ci,
)
from qualkit.agreement.profiles import set_alpha_by_profiles
from qualkit.agreement.spans import (
    SPAN_STATISTICS,
    match_spans,
    merge_spans,
    span_match_ci,
    span_match_stats,
    spans_touching,
)
from qualkit.analysis.agree_units import SpanLists, Units, kept_text
from qualkit.analysis.unit_codes import UnitCodes
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["POOLED", "STATISTICS", "PARADOX_KAPPA", "PARADOX_AGREEMENT", "PARADOX_BIAS_SHARE", "paradox_flag", "Rules",
           "Tables", "binary_tables",
           "overlap_tables", "sort_key"]

POOLED = "(pooled)"
STATISTICS = PATTERN_STATISTICS
PARADOX_KAPPA = 0.4
PARADOX_AGREEMENT = 0.8
Row = dict[str, Any]
BINARY_COLUMNS = ["code", "code_name", "n_units", "n_coded", "prevalence", "percent_agreement", "p_pos", "p_neg",
                  "kappa", "kappa_kind", "alpha", "ac1", "bias_index", "prevalence_index", "flags", "notes"]
#: the bias counts as small when neither coder accounts for more than 3/4 of the disagreements:
#: |BI| = |b - c| / N at most half the disagreement rate (b + c) / N (Byrt, Bishop & Carlin 1993)
PARADOX_BIAS_SHARE = 0.5
SPAN_COLUMNS = ["code", "code_name", "n_units", "n_spans", "matched", "unmatched", "prevalence", "percent_agreement",
                "f1", "kappa", "kappa_kind", "alpha", "ac1", "flags", "notes"]


@dataclass
class Rules:
    """How rows are sorted and flagged: the ``metric``, its ``threshold``, and what counts as rare."""

    threshold: float | None
    metric: str
    rare_units: int
    rare_prevalence: float


class Tables(NamedTuple):
    """Per-code ``table``, pooled ``overall``, ``set_alpha``, optional ``breakdown``, units counted."""

    table: pd.DataFrame
    overall: pd.DataFrame
    set_alpha: dict[str, Any]
    breakdown: pd.DataFrame | None
    n_units: int


# ---------------------------------------------------------------------------------------------
# Units: per-code binary statistics
# ---------------------------------------------------------------------------------------------


def binary_tables(units: Units, names: list[str], rule: Rules, by: str | None, ci: Resampling | None) -> Tables:
    """Per-code, pooled and set-alpha figures for units, with bootstrap intervals when ``ci``."""
    import pandas as pd

    m, _, k = units.x.shape
    cells = PatternCells(m)
    kind = "Cohen" if m == 2 else "Fleiss"
    cell = cells.index(units.x)                                   # units × codes
    counts = count_patterns(pattern_keys(cell, cells.n), units.weight, cells.n)

    rows = _code_rows(cells, counts, units.codes, names, kind, rule, units.passages)
    pooled = _code_rows(cells, counts.sum(axis=0)[None, :], [POOLED], [f"all {k} code{plural_s(k)}"], kind, rule, None,
                        pooled=True)[0]
    if ci is not None and units.cluster is None:
        for r, code, cnt in zip(rows, units.codes, counts):
            r.update(pattern_ci(cells, cnt, code, ci))
        pooled.update(pooled_pattern_ci(cells, cell, units.weight, POOLED, ci))
    elif ci is not None and units.cluster is not None:
        per_code, whole = clustered_pattern_ci(cells, pattern_keys(cell, cells.n), units.weight, units.cluster, ci)
        for r, extra in zip(rows, per_code):
            r.update(extra)
        pooled.update(whole)
    if by != "transcript":
        del cell  # not held through set alpha (units × codes; keys are made again where needed)
    set_alpha = set_alpha_by_profiles(units.x, units.weight, units.cluster, ci)

    columns = list(BINARY_COLUMNS)
    if ci is not None:
        columns += [f"{s}_{end}" for s in STATISTICS for end in ("low", "high")]
    table = sorted_frame(rows, columns, rule.metric)
    overall = pd.DataFrame([pooled], columns=columns)
    breakdown = None
    if by == "transcript":
        breakdown = _by_transcript(units, cells, pattern_keys(cell, cells.n), names, kind, rule)
    elif by == "coder-pair":
        breakdown = _by_coder_pair(units, names, rule)
    return Tables(table, overall, set_alpha, breakdown, int(units.weight.sum()))


def _by_transcript(units: Units, cells: PatternCells, keys: np.ndarray, names: list[str], kind: str,
                   rule: Rules) -> pd.DataFrame:
    import pandas as pd

    nt = len(units.transcripts)
    tcounts = count_patterns(keys, units.weight, cells.n, group=units.transcript, n_groups=nt)
    recs: list[Row] = []
    for ti, t in enumerate(units.transcripts):
        recs += _group_rows("transcript", t, cells, tcounts[ti], units.codes, names, kind, rule)
    return pd.DataFrame(recs, columns=["transcript", *BINARY_COLUMNS])


def _by_coder_pair(units: Units, names: list[str], rule: Rules) -> pd.DataFrame:
    import pandas as pd

    m = units.x.shape[0]
    pair_cells = PatternCells(2)
    recs: list[Row] = []
    for g in range(m):
        for h in range(g + 1, m):
            pkeys = pattern_keys(pair_cells.index(units.x[[g, h]]), pair_cells.n)
            pcounts = count_patterns(pkeys, units.weight, pair_cells.n)
            label = f"{units.coders[g]}-{units.coders[h]}"
            recs += _group_rows("coder_pair", label, pair_cells, pcounts, units.codes, names, "Cohen", rule)
    return pd.DataFrame(recs, columns=["coder_pair", *BINARY_COLUMNS])


def _group_rows(key: str, label: str, cells: PatternCells, counts: np.ndarray, codes: Sequence[str],
                names: Sequence[str], kind: str, rule: Rules) -> list[Row]:
    rows = _code_rows(cells, counts, codes, names, kind, rule, None)
    rows.sort(key=sort_key(rule.metric))
    pooled = _code_rows(cells, counts.sum(axis=0)[None, :], [POOLED], [f"all {len(codes)} code{plural_s(len(codes))}"], kind, rule, None,
                        pooled=True)
    return [{key: label, **r} for r in rows + pooled]


def _code_rows(cells: PatternCells, counts: np.ndarray, codes: Sequence[str], names: Sequence[str], kind: str,
               rule: Rules, passages: np.ndarray | None, pooled: bool = False) -> list[Row]:
    st = cells.stats(counts)
    rows = []
    for i, code in enumerate(codes):
        n = float(st["n_units"][i])
        r: Row = {"code": code, "code_name": names[i], "n_units": int(round(n)), "n_coded": int(round(st["n_coded"][i])),
                  "prevalence": float(st["prevalence"][i]), "percent_agreement": float(st["percent_agreement"][i]),
                  "p_pos": float(st["p_pos"][i]), "p_neg": float(st["p_neg"][i]),
                  "kappa": float(st["kappa"][i]), "kappa_kind": kind, "alpha": float(st["alpha"][i]),
                  "ac1": float(st["ac1"][i]), "bias_index": float(st["bias_index"][i]),
                  "prevalence_index": float(st["prevalence_index"][i])}
        flags: list[str] = []
        notes: list[str] = []
        if n == 0:
            flags.append("undefined")
            notes.append("no units")
        elif st["n1"][i] == 0 or st["n0"][i] == 0:
            flags.append("undefined")
            who = "no coder applied this code to any unit" if st["n1"][i] == 0 else "every coder applied this code to every unit"
            notes.append(f"kappa and alpha undefined: {who} (chance agreement is 1)")
        paradox_flag(r, flags, notes)
        if not pooled and n > 0:
            _rare_flag(r, rule, None if passages is None else int(passages[i]), flags, notes)
        _threshold_flag(r, rule, flags)
        r["flags"] = ", ".join(flags)
        r["notes"] = "; ".join(notes)
        rows.append(r)
    return rows


def paradox_flag(r: Row, flags: list[str], notes: list[str]) -> None:
    """'kappa paradox' only when agreement is high, kappa low AND the coders are not biased
    (Feinstein & Cicchetti 1990; Byrt, Bishop & Carlin 1993): a low kappa from one coder applying
    the code far more often is real disagreement, not a prevalence artefact, and is not flagged."""
    if not (r["kappa"] < PARADOX_KAPPA and r["percent_agreement"] >= PARADOX_AGREEMENT):
        return
    bi, disagree = r["bias_index"], 1 - r["percent_agreement"]
    if bi == bi and abs(bi) > PARADOX_BIAS_SHARE * disagree + 1e-12:  # not NaN and large
        notes.append(f"low kappa from coder bias, not prevalence: bias index {bi:+.3f} ({abs(bi) / disagree:.0%} of "
                     f"the disagreement rate); positive agreement {r['p_pos']:.2f}")
        return
    flags.append("kappa paradox")
    notes.append(f"kappa {r['kappa']:.2f} despite {r['percent_agreement']:.0%} agreement: prevalence index "
                 f"{r['prevalence_index']:+.2f}, bias index {bi:+.3f}; read positive ({r['p_pos']:.2f}) and negative "
                 f"({r['p_neg']:.2f}) specific agreement")


def _rare_flag(r: Row, rule: Rules, passages: int | None, flags: list[str], notes: list[str]) -> None:
    """'rare': few units coded by anyone, or low prevalence; characters: few coded passages only."""
    coded = passages if passages is not None else r["n_coded"]
    what = "coded passages" if passages is not None else "units coded by anyone"
    if coded < rule.rare_units:
        flags.append("rare")
        notes.append(f"too rare to judge: {what}: {coded} (< {rule.rare_units})")
    elif passages is None and r["prevalence"] < rule.rare_prevalence:  # characters: passages only
        flags.append("rare")
        notes.append(f"too rare to judge: prevalence {r['prevalence']:.1%} (< {rule.rare_prevalence:.0%})")


def _threshold_flag(r: Row, rule: Rules, flags: list[str]) -> None:
    if rule.threshold is None:
        return
    v = r.get(rule.metric)
    if v is not None and not (isinstance(v, float) and math.isnan(v)) and v < rule.threshold:
        flags.append(f"below {rule.threshold:g}")


def sort_key(metric: str) -> Callable[[Row], tuple[bool, float]]:
    """Worst first by ``metric``; undefined (NaN) values last."""
    def key(r: Row) -> tuple[bool, float]:
        v = r.get(metric)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return (True, 0.0)
        return (False, v)
    return key


def sorted_frame(rows: list[Row], columns: list[str], metric: str) -> pd.DataFrame:
    """The rows as a DataFrame, worst first (stable: codebook order among ties)."""
    import pandas as pd

    return pd.DataFrame(sorted(rows, key=sort_key(metric)), columns=columns)


# ---------------------------------------------------------------------------------------------
# Span matching
# ---------------------------------------------------------------------------------------------


def _match_counts(uc: UnitCodes, spans: SpanLists, codes: list[str], share: float,
                  pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """[pair, transcript, code, (matched, unmatched)] and spans of all coders per transcript and code."""
    kept = kept_text(uc)
    nt, k = len(uc.transcripts), len(codes)
    table = np.zeros((len(pairs), nt, k, 2), dtype=np.int64)
    spans_t = np.zeros((nt, k), dtype=np.int64)  # after merging
    for ki, code in enumerate(codes):
        per_coder = spans.get(code, {})
        for ti, t in enumerate(uc.transcripts):
            merged = [merge_spans(spans_touching(per_coder.get(c, {}).get(t, []), *kept[t])) for c in uc.coders]
            spans_t[ti, ki] = sum(len(x) for x in merged)
            for pi, (g, h) in enumerate(pairs):
                a = match_spans(merged[g], merged[h], share)
                table[pi, ti, ki] = (a, len(merged[g]) + len(merged[h]) - 2 * a)
    return table, spans_t


def _span_rows(tab: np.ndarray, spans_n: Sequence[int] | np.ndarray, codes: list[str], names: list[str],
               rule: Rules, pooled_label: str | None = None) -> list[Row]:
    st = span_match_stats(tab[..., 0], tab[..., 1])
    out = []
    for i in range(tab.shape[0]):
        a, u = int(tab[i, 0]), int(tab[i, 1])
        code = pooled_label or codes[i]
        r: Row = {"code": code, "code_name": f"all {len(codes)} code{plural_s(len(codes))}" if pooled_label else names[i], "n_units": a + u,
                  "n_spans": int(spans_n[i]), "matched": a, "unmatched": u, "prevalence": math.nan,
                  "percent_agreement": float(st["percent_agreement"][i]), "f1": float(st["f1"][i]),
                  "kappa": math.nan, "kappa_kind": "", "alpha": math.nan, "ac1": math.nan}
        flags: list[str] = []
        notes: list[str] = []
        if a + u == 0:
            flags.append("undefined")
            notes.append("no spans of this code in the counted text")
        elif not pooled_label and spans_n[i] < rule.rare_units:
            flags.append("rare")
            notes.append(f"too rare to judge: spans: {int(spans_n[i])} (< {rule.rare_units})")
        _threshold_flag(r, rule, flags)
        r["flags"], r["notes"] = ", ".join(flags), "; ".join(notes)
        out.append(r)
    return out


def overlap_tables(uc: UnitCodes, spans: SpanLists, codes: list[str], names: list[str], share: float, rule: Rules,
                   by: str | None, ci: Resampling | None) -> Tables:
    """Span matching per code and pooled (matched pairs, unmatched spans, agreement, F1)."""
    import pandas as pd

    m = len(uc.coders)
    pairs = [(g, h) for g in range(m) for h in range(g + 1, m)]
    table, spans_t = _match_counts(uc, spans, codes, share, pairs)
    n_spans = spans_t.sum(axis=0)
    per_code = table.sum(axis=(0, 1))  # code × 2
    rows = _span_rows(per_code, n_spans, codes, names, rule)
    if ci is not None:
        for r, code, tab in zip(rows, codes, per_code):
            r.update(span_match_ci(tab, code, ci))
    pooled = _span_rows(per_code.sum(axis=0)[None, :], [int(n_spans.sum())], codes, names, rule, POOLED)[0]
    if ci is not None:
        pooled.update(span_match_ci(per_code.sum(axis=0), POOLED, ci))
    columns = list(SPAN_COLUMNS)
    if ci is not None:
        columns += [f"{s}_{e}" for s in SPAN_STATISTICS for e in ("low", "high")]
    frame = sorted_frame(rows, columns, rule.metric)
    overall = pd.DataFrame([pooled], columns=columns)
    breakdown = None if by is None else _span_breakdown(uc, table, spans_t, pairs, codes, names, rule, by)
    set_alpha = {"masi": None, "jaccard": None,
                 "note": "not defined for span matching (no fixed units); use a unit such as turn"}
    return Tables(frame, overall, set_alpha, breakdown, int(per_code.sum()))


def _span_breakdown(uc: UnitCodes, table: np.ndarray, spans_t: np.ndarray, pairs: list[tuple[int, int]],
                    codes: list[str], names: list[str], rule: Rules, by: str) -> pd.DataFrame:
    import pandas as pd

    if by == "transcript":
        groups = [(t, table[:, ti].sum(axis=0), spans_t[ti]) for ti, t in enumerate(uc.transcripts)]
        key = "transcript"
    else:  # a pair's spans: two per matched pair, one per unmatched span
        groups = []
        for pi, (g, h) in enumerate(pairs):
            tab = table[pi].sum(axis=0)
            groups.append((f"{uc.coders[g]}-{uc.coders[h]}", tab, 2 * tab[:, 0] + tab[:, 1]))
        key = "coder_pair"
    recs: list[Row] = []
    for label, tab, sp in groups:
        rs = _span_rows(tab, sp, codes, names, rule)
        rs.sort(key=sort_key(rule.metric))
        rs += _span_rows(tab.sum(axis=0)[None, :], [int(sp.sum())], codes, names, rule, POOLED)
        recs += [{key: label, **r} for r in rs]
    return pd.DataFrame(recs, columns=[key, *SPAN_COLUMNS])
