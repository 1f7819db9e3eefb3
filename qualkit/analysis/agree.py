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
"""
from __future__ import annotations

import html
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qualkit.analysis.unit_codes import AgreementInputError, build_unit_codes
from qualkit.coding.units import UNIT_KINDS
from qualkit.errors import QualkitError

__all__ = ["UNITS", "METRICS", "POOLED", "AgreementReport", "agreement", "export_report"]

UNITS = (*UNIT_KINDS, "character")
STATISTICS = ("percent_agreement", "kappa", "alpha", "ac1")
METRICS = ("alpha", "kappa", "ac1", "percent_agreement", "f1")
POOLED = "(pooled)"
BY = ("transcript", "coder-pair")
PARADOX_KAPPA = 0.4
PARADOX_AGREEMENT = 0.8
_UNIT_WORDS = {"turn": "turns", "sentence": "sentences", "paragraph": "paragraphs", "question": "question units",
               "document": "documents", "character": "characters", "overlap": "segment units"}


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


@dataclass
class AgreementReport:
    """What :func:`agreement` found: per-code ``table``, pooled ``overall``, set alpha, provenance.

    ``table`` has one row per code, worst first by ``metric`` (undefined last): code, code_name,
    n_units, [n_coded], prevalence, percent_agreement, kappa, kappa_kind, alpha, ac1, flags, notes,
    and ``<statistic>_low`` / ``<statistic>_high`` with ``ci``; in span-matching mode also n_spans,
    matched, unmatched and f1. ``overall`` holds the pooled row (same columns, code "(pooled)").
    ``breakdown`` (with ``by``) is the same per transcript or coder pair, in long form with a
    ``transcript`` or ``coder_pair`` column and a pooled row per group.
    """

    coders: list[str]
    unit: str                          # a unit kind, or "overlap"
    overlap: float | None
    include_facilitators: bool
    table: Any                         # pandas DataFrame
    overall: Any                       # pandas DataFrame (one row)
    set_alpha: dict[str, Any]
    transcripts: list[str]
    left_out: dict[str, list[str]]
    n_units: int
    metric: str
    threshold: float | None = None
    by: str | None = None
    breakdown: Any = None              # pandas DataFrame or None
    ci: dict[str, Any] | None = None   # resamples, seed, confidence
    definitions: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    root: Path | None = None

    @property
    def unit_label(self) -> str:
        """What a unit is called in prose ("turns", "characters", "segment units")."""
        return _UNIT_WORDS.get(self.unit, self.unit)

    @property
    def parameters(self) -> dict[str, Any]:
        """The settings that produced this report (for manifests)."""
        return {"coders": self.coders, "unit": self.unit, "overlap": self.overlap,
                "include_facilitators": self.include_facilitators, "by": self.by, "metric": self.metric,
                "threshold": self.threshold, "ci": self.ci, "transcripts": self.transcripts,
                "left_out": self.left_out, "n_units": self.n_units}

    def summary(self) -> str:
        """One sentence: who, which unit, how many transcripts and units."""
        unit = f"span matching (overlap ≥ {self.overlap:g} of the longer span)" if self.unit == "overlap" else f"unit: {self.unit}"
        team = ("interviewer/moderator turns included" if self.include_facilitators
                else "interviewer/moderator turns left out") if self.unit != "question" else "question units start with the interviewer's turn"
        n_t = len(self.transcripts)
        shown = ", ".join(self.transcripts[:12]) + (f", … ({n_t} in all)" if n_t > 12 else "")
        return (f"Coders {', '.join(self.coders)}; {unit}; {team}; {n_t} transcript{'s' if n_t != 1 else ''} coded by all "
                f"({shown}), {self.n_units} {self.unit_label}.")

    def ci_text(self) -> str:
        ci = self.ci or {}
        return (f"Brackets: {ci.get('confidence', 0.95):.0%} percentile bootstrap intervals ({ci.get('resamples')} resamples "
                f"of {ci.get('resampled', 'units')}, seed {ci.get('seed')}).")

    def left_out_text(self) -> str:
        if not self.left_out:
            return "No transcript was left out."
        parts = [f"{t} (not coded by {', '.join(cs)})" for t, cs in self.left_out.items()]
        return f"Left out ({len(parts)}): " + "; ".join(parts) + "."

    # -- machine forms ---------------------------------------------------------------------
    def to_frame(self):
        """One tidy DataFrame: per-code rows and the pooled row (group "(all)"), then the breakdown."""
        import pandas as pd

        main = pd.concat([self.table, self.overall], ignore_index=True)
        if self.breakdown is None:
            return main
        key = _by_column(self.by)
        main.insert(0, key, "(all)")
        return pd.concat([main, self.breakdown], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN as null, flags as lists."""
        out = {
            "coders": self.coders, "unit": self.unit, "overlap": self.overlap,
            "include_facilitators": self.include_facilitators, "metric": self.metric, "threshold": self.threshold,
            "transcripts": self.transcripts, "n_transcripts": len(self.transcripts),
            "left_out": [{"transcript": t, "not_coded_by": cs} for t, cs in self.left_out.items()],
            "n_units": self.n_units, "unit_label": self.unit_label,
            "codes": _records(self.table), "pooled": (_records(self.overall) or [None])[0],
            "set_alpha": _clean(self.set_alpha), "ci": self.ci, "definitions": self.definitions,
        }
        if self.breakdown is not None:
            out["by"] = self.by
            out["breakdown"] = _records(self.breakdown)
        return out

    # -- report sections -------------------------------------------------------------------
    def _display_columns(self) -> list[tuple[str, str, str]]:
        """(column, header, kind) for the human tables."""
        cols = [("code", "Code", "text"), ("code_name", "Name", "text"), ("n_units", "n", "int")]
        if self.unit == "overlap":
            cols += [("n_spans", "Spans", "int"), ("matched", "Matched", "int"), ("unmatched", "Unmatched", "int"),
                     ("percent_agreement", "Agreement", "num"), ("f1", "F1", "num")]
        else:
            kappa = "Cohen's κ" if len(self.coders) == 2 else "Fleiss' κ"
            cols += [("n_coded", "Coded", "int"), ("prevalence", "Prevalence", "pct"),
                     ("percent_agreement", "Agreement", "num"), ("kappa", kappa, "num"), ("alpha", "α", "num"),
                     ("ac1", "AC1", "num")]
        cols.append(("flags", "Flags", "text"))
        return cols

    def display_rows(self, frame=None, ascii_only: bool = False) -> tuple[list[str], list[list[str]], list[int]]:
        """Headers, formatted rows and right-aligned column indexes for a table (terminal, MD, HTML)."""
        frame = self.table if frame is None else frame
        cols = self._display_columns()
        headers = [h for _, h, _ in cols]
        if ascii_only:
            headers = [h.replace("κ", "kappa").replace("α", "alpha") for h in headers]
        rows = []
        for rec in frame.to_dict("records"):
            row = []
            for name, _, kind in cols:
                row.append(_fmt(rec, name, kind, self.ci is not None))
            rows.append(row)
        right = [i for i, (_, _, kind) in enumerate(cols) if kind != "text"]
        return headers, rows, right

    def set_alpha_text(self) -> str:
        sa = self.set_alpha
        if sa.get("masi") is None and sa.get("jaccard") is None:
            return f"Set-valued alpha: not computed ({sa.get('note', 'n/a')})."

        def one(name: str) -> str:
            v = sa.get(name)
            s = _num(v)
            if self.ci is not None and sa.get(f"{name}_low") is not None:
                s += f" [{_num(sa[f'{name}_low'])}, {_num(sa[f'{name}_high'])}]"
            return s

        note = f" ({sa['note']})" if sa.get("note") else ""
        return (f"Set-valued Krippendorff's alpha over the whole codebook (each unit's set of codes per coder): "
                f"MASI {one('masi')}, Jaccard {one('jaccard')}{note}.")

    def to_markdown(self) -> str:
        """A Markdown section for a report: a sentence, the table with the pooled row, notes."""
        headers, rows, right = self.display_rows(self.table)
        _, pooled, _ = self.display_rows(self.overall)
        for r in pooled:
            r[0] = "**All codes (pooled)**"
        lines = ["## Inter-coder agreement", "", self.summary(), "", self.left_out_text(), ""]
        lines.append("| " + " | ".join(_md(h) for h in headers) + " |")
        lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
        for r in rows + pooled:
            lines.append("| " + " | ".join(_md(v) for v in r) + " |")
        lines += ["", self.set_alpha_text()]
        if self.ci is not None:
            lines += ["", self.ci_text()]
        if self.breakdown is not None:
            lines += ["", f"### By {self.by.replace('-', ' ')} (all codes pooled)", ""]
            h, rs, rt = self.group_rows()
            lines.append("| " + " | ".join(_md(x) for x in h) + " |")
            lines.append("|" + "|".join("---:" if i in rt else "---" for i in range(len(h))) + "|")
            lines += ["| " + " | ".join(_md(v) for v in r) + " |" for r in rs]
        lines += ["", "Definitions:", ""] + [f"- {d}" for d in self.definitions]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML section (inline style, no external assets)."""
        e = html.escape
        headers, rows, right = self.display_rows(self.table)
        _, pooled, _ = self.display_rows(self.overall)

        def table(headers, rows, right, strong_last: int = 0) -> list[str]:
            out = ["<table>", "<thead><tr>" + "".join(
                f'<th class="num">{e(h)}</th>' if i in right else f"<th>{e(h)}</th>" for i, h in enumerate(headers)) + "</tr></thead>", "<tbody>"]
            for n, r in enumerate(rows):
                cls = ' class="pooled"' if strong_last and n >= len(rows) - strong_last else ""
                out.append(f"<tr{cls}>" + "".join(
                    f'<td class="num">{e(v)}</td>' if i in right else f"<td>{e(v)}</td>" for i, v in enumerate(r)) + "</tr>")
            out += ["</tbody>", "</table>"]
            return out

        for r in pooled:
            r[0] = "All codes (pooled)"
        parts = ['<section class="qualkit-agreement">',
                 "<style>.qualkit-agreement table{border-collapse:collapse;font:14px sans-serif}"
                 ".qualkit-agreement th,.qualkit-agreement td{border-bottom:1px solid #ccc;padding:2px 8px;text-align:left}"
                 ".qualkit-agreement .num{text-align:right}.qualkit-agreement tr.pooled td{font-weight:bold}</style>",
                 "<h2>Inter-coder agreement</h2>", f"<p>{e(self.summary())}</p>", f"<p>{e(self.left_out_text())}</p>"]
        parts += table(headers, rows + pooled, right, strong_last=len(pooled))
        parts.append(f"<p>{e(self.set_alpha_text())}</p>")
        if self.ci is not None:
            parts.append(f"<p>{e(self.ci_text())}</p>")
        if self.breakdown is not None:
            parts.append(f"<h3>By {e(self.by.replace('-', ' '))} (all codes pooled)</h3>")
            parts += table(*self.group_rows())
        parts.append("<p>Definitions:</p><ul>" + "".join(f"<li>{e(d)}</li>" for d in self.definitions) + "</ul>")
        parts.append("</section>")
        return "\n".join(parts) + "\n"

    def group_rows(self) -> tuple[list[str], list[list[str]], list[int]]:
        """The breakdown's pooled rows: one line per transcript or coder pair."""
        key = _by_column(self.by)
        pooled = self.breakdown[self.breakdown["code"] == POOLED]
        headers, rows, right = self.display_rows(pooled)
        headers = [key.replace("_", " ").capitalize(), *headers[2:]]
        rows = [[str(g), *r[2:]] for g, r in zip(pooled[key], rows)]
        right = [0 if i < 2 else i - 1 for i in right if i >= 2]
        return headers, rows, right


def _by_column(by: str | None) -> str:
    return "coder_pair" if by == "coder-pair" else "transcript"


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def agreement(workspace, coders: list[str] | str | None = None, unit: str | None = None,
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
    from qualkit.workspace.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    coders = _resolve_coders(ws, coders)
    unit = _resolve_unit(ws, unit, overlap)
    if overlap is not None:
        overlap = _check_overlap(overlap)
    if by is not None and by not in BY:
        raise AgreementInputError(f"by must be one of {', '.join(BY)}, not {by!r}")
    metric = _resolve_metric(metric, unit)
    if threshold is not None and not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise AgreementInputError(f"threshold must be a number such as 0.8, not {threshold!r}")
    if ci:
        if not isinstance(resamples, (int, np.integer)) or resamples < 1:
            raise AgreementInputError(f"resamples must be a positive whole number, not {resamples!r}")
        if not 0 < confidence < 1:
            raise AgreementInputError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}")
    base_unit = "turn" if unit in ("character", "overlap") else unit
    uc = build_unit_codes(ws, coders, unit=base_unit, include_facilitators=include_facilitators)
    coders = uc.coders
    index = ws.code_index()
    order = {c: i for i, c in enumerate(index)}
    rule = _Rules(threshold, metric, rare_units, rare_prevalence)
    ci_opts = {"resamples": int(resamples), "seed": int(seed), "confidence": float(confidence)} if ci else None

    if unit == "overlap":
        spans = _spans(ws, uc)
        codes = sorted(spans, key=lambda c: (order.get(c, len(order)), c))
        names = [_code_name(index, c) for c in codes]
        computed = _overlap_tables(uc, spans, codes, names, overlap, rule, by, ci_opts)
    else:
        if unit == "character":
            units = _character_units(ws, uc)
        else:
            units = _unit_table(uc)
        codes = sorted(units.codes, key=lambda c: (order.get(c, len(order)), c))
        units = units.reorder(codes)
        names = [_code_name(index, c) for c in codes]
        computed = _binary_tables(units, names, rule, by, ci_opts)

    table, overall, set_alpha, breakdown, n_units = computed
    return AgreementReport(
        coders=coders, unit=unit, overlap=overlap, include_facilitators=include_facilitators,
        table=table, overall=overall, set_alpha=set_alpha, transcripts=list(uc.transcripts),
        left_out=dict(uc.left_out), n_units=int(n_units), metric=metric, threshold=threshold, by=by,
        breakdown=breakdown, ci=ci_opts and {**ci_opts, "method": "percentile bootstrap", "resampled": _resampled(unit)},
        definitions=_definitions(unit, len(coders), overlap, rule, ci_opts), inputs=_inputs(ws, coders, uc.transcripts),
        root=ws.root)


def _resolve_coders(ws, coders) -> list[str]:
    if isinstance(coders, str):
        coders = [c.strip() for c in coders.split(",") if c.strip()]
    if not coders:
        coders = list(ws.config.coders)
        if len(coders) < 2:
            raise AgreementInputError("name the coders to compare: --coders ana,ben, or list them under 'coders:' in qualkit.yaml "
                                      f"(coders with files: {', '.join(ws.coders()) or 'none'})", ws.config.path)
    return list(coders)


def _resolve_unit(ws, unit: str | None, overlap: float | None) -> str:
    if overlap is not None:
        if unit is not None:
            raise AgreementInputError("give either a unit or --overlap (span matching needs no units), not both")
        return "overlap"
    if unit is None:
        return str(ws.config.agreement.unit)  # validated against the units when qualkit.yaml is read
    if unit not in UNITS:
        raise AgreementInputError(f"unit must be one of {', '.join(UNITS)} (or use --overlap SHARE), not {unit!r}")
    return unit


def _check_overlap(overlap) -> float:
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


def _code_name(index: dict, code: str) -> str:
    entry = index.get(code)
    return entry[1].name if entry else ""


def _inputs(ws, coders: list[str], transcripts: list[str]) -> list[Path]:
    wanted = set(transcripts)
    files = [ws.config.path, ws.root / "participants.csv"]
    files += [ws.coder_file(c) for c in coders]
    if ws.codebooks_dir.is_dir():
        files += sorted([*ws.codebooks_dir.glob("*.yaml"), *ws.codebooks_dir.glob("*.yml")])
    files += [p for p in ws.transcript_paths() if p.stem in wanted]
    return [Path(p) for p in files if Path(p).is_file()]


@dataclass
class _Rules:
    threshold: float | None
    metric: str
    rare_units: int
    rare_prevalence: float


# ---------------------------------------------------------------------------------------------
# Units as coders × units × codes 0/1 arrays (with unit weights for character runs)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Units:
    """Coders × units × codes booleans; ``weight`` = characters per run in character mode, else 1."""

    coders: list[str]
    codes: list[str]
    x: np.ndarray               # coders × units × codes, bool
    weight: np.ndarray          # units, int64
    transcript: np.ndarray      # units -> index into transcripts
    transcripts: list[str]
    unit: str
    passages: np.ndarray | None = None  # character mode: coded passages per code (for "rare")
    cluster: np.ndarray | None = None   # character mode: the turn of each run (what the bootstrap resamples)

    def reorder(self, codes: list[str]) -> _Units:
        pos = [self.codes.index(c) for c in codes]
        passages = self.passages[pos] if self.passages is not None else None
        return _Units(self.coders, codes, self.x[:, :, pos], self.weight, self.transcript, self.transcripts, self.unit,
                      passages, self.cluster)


def _unit_table(uc) -> _Units:
    """Turn / sentence / paragraph / question / document units from build_unit_codes."""
    codes = sorted(uc.code_ids)
    col = {c: i for i, c in enumerate(codes)}
    n = len(uc.units)
    x = np.zeros((len(uc.coders), n, len(codes)), dtype=bool)
    for g, coder in enumerate(uc.coders):
        rows, cols = [], []
        for u, s in enumerate(uc.codes[coder]):
            for c in s:
                rows.append(u)
                cols.append(col[c])
        x[g, rows, cols] = True
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    transcript = np.fromiter((tindex[u.transcript] for u in uc.units), dtype=np.int64, count=n)
    return _Units(list(uc.coders), codes, x, np.ones(n, dtype=np.int64), transcript, list(uc.transcripts), uc.unit_kind)


def _kept_text(uc) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per counted transcript, the starts and ends of the kept turns' text (in text order)."""
    out: dict[str, tuple[list[int], list[int]]] = {t: ([], []) for t in uc.transcripts}
    for ref in uc.units:
        starts, ends = out[ref.transcript]
        starts.append(ref.unit.start)
        ends.append(ref.unit.end)
    return {t: (np.asarray(s, dtype=np.int64), np.asarray(e, dtype=np.int64)) for t, (s, e) in out.items()}


def _spans(ws, uc) -> dict[str, dict[str, dict[str, list[tuple[int, int]]]]]:
    """code -> coder -> transcript -> spans (start, end), for the counted transcripts."""
    counted = set(uc.transcripts)
    out: dict[str, dict[str, dict[str, list[tuple[int, int]]]]] = {}
    for coder in uc.coders:
        per: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for c in ws.codings(coder):
            if c.transcript in counted:
                per.setdefault(c.code, {}).setdefault(c.transcript, []).append((c.start, c.end))
        out[coder] = per
    # regroup as code -> coder -> transcript for the callers
    by_code: dict[str, dict[str, dict[str, list[tuple[int, int]]]]] = {}
    for coder, per in out.items():
        for code, tr in per.items():
            by_code.setdefault(code, {c: {} for c in uc.coders})[coder] = tr
    return by_code


def _coding_arrays(ws, uc) -> tuple[list[str], dict[str, np.ndarray]]:
    """The coders' codings in the counted transcripts as arrays: coder, code, transcript, start, end."""
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    codes: dict[str, int] = {}
    cols: dict[str, list[int]] = {"coder": [], "code": [], "transcript": [], "start": [], "end": []}
    for g, coder in enumerate(uc.coders):
        for c in ws.codings(coder):
            t = tindex.get(c.transcript)
            if t is None:
                continue
            cols["coder"].append(g)
            cols["code"].append(codes.setdefault(c.code, len(codes)))
            cols["transcript"].append(t)
            cols["start"].append(c.start)
            cols["end"].append(c.end)
    return list(codes), {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}


def _character_units(ws, uc) -> _Units:
    """Every character of the kept turns as a unit, stored as runs of identical coverage.

    Kept characters are laid end to end on one line (transcripts in order, turns in order); a
    span [s, e) of a transcript covers exactly the kept characters g(s) .. g(e) − 1, where g(x)
    is the line position of the first kept character at or after x. The boundaries of every
    coder's spans, of the turns and of the transcripts cut the line into runs; within a run every
    character has the same codes from every coder, so a run is a unit of weight = its length.
    Each run remembers its turn (``cluster``): the bootstrap resamples turns, not characters.
    """
    n_turns = len(uc.units)
    tindex = {t: i for i, t in enumerate(uc.transcripts)}
    seg_t = np.fromiter((tindex[r.transcript] for r in uc.units), dtype=np.int64, count=n_turns)
    seg_s = np.fromiter((r.unit.start for r in uc.units), dtype=np.int64, count=n_turns)
    seg_e = np.fromiter((r.unit.end for r in uc.units), dtype=np.int64, count=n_turns)
    lengths = seg_e - seg_s
    line_start = np.concatenate(([0], np.cumsum(lengths)))          # turn i starts at line_start[i]
    total = int(line_start[-1])
    nt = len(uc.transcripts)
    # where each transcript begins on the line (a transcript without kept turns takes no room)
    first_turn = np.searchsorted(seg_t, np.arange(nt), side="left")
    t_line = line_start[first_turn]
    big = np.int64(1) << 40  # (transcript, offset) keys sort as one number

    def to_line(t: np.ndarray, pos: np.ndarray) -> np.ndarray:
        if n_turns == 0:
            return np.zeros(len(pos), dtype=np.int64)
        j = np.searchsorted(seg_t * big + seg_s, t * big + pos, side="right") - 1
        jj = np.maximum(j, 0)
        same = (j >= 0) & (seg_t[jj] == t)
        return np.where(same, line_start[jj] + np.minimum(pos - seg_s[jj], lengths[jj]), t_line[t])

    codes, arr = _coding_arrays(ws, uc)
    si = to_line(arr["transcript"], arr["start"])
    ei = to_line(arr["transcript"], arr["end"])
    keep = ei > si
    gi, ki, si, ei = arr["coder"][keep], arr["code"][keep], si[keep], ei[keep]
    bounds = np.unique(np.concatenate([si, ei, line_start]))
    runs = len(bounds) - 1
    weight = np.diff(bounds).astype(np.int64)
    m, kk = len(uc.coders), len(codes)
    x = np.zeros((m, max(runs, 0), kk), dtype=bool)
    if runs > 0 and len(si):
        a = np.searchsorted(bounds, si)
        b = np.searchsorted(bounds, ei)
        for g in range(m):
            sel = gi == g
            diff = np.zeros((runs + 1) * kk, dtype=np.int32)  # +1 at a run where a span starts, −1 where it ends
            diff += np.bincount(a[sel] * kk + ki[sel], minlength=(runs + 1) * kk).astype(np.int32)
            diff -= np.bincount(b[sel] * kk + ki[sel], minlength=(runs + 1) * kk).astype(np.int32)
            x[g] = np.cumsum(diff.reshape(runs + 1, kk)[:-1], axis=0) > 0
    run_start = bounds[:-1]
    cluster = np.searchsorted(line_start[1:], run_start, side="right")      # the turn each run lies in
    transcript = seg_t[np.minimum(cluster, max(n_turns - 1, 0))] if n_turns else np.zeros(runs, dtype=np.int64)
    # coded passages: maximal stretches coded by anyone, broken at transcript boundaries
    covered = x.any(axis=0)
    if runs:
        new_t = np.concatenate(([True], transcript[1:] != transcript[:-1]))
        prev = np.vstack([np.zeros((1, kk), dtype=bool), covered[:-1]])
        passages = (covered & (~prev | new_t[:, None])).sum(axis=0)
    else:
        passages = np.zeros(kk, dtype=np.int64)
    assert int(weight.sum()) == total
    return _Units(list(uc.coders), codes, x, weight, transcript.astype(np.int64), list(uc.transcripts), "character",
                  passages, cluster.astype(np.int64))


# ---------------------------------------------------------------------------------------------
# Binary statistics from unit-pattern counts, vectorised over codes (and resamples)
# ---------------------------------------------------------------------------------------------


class _Cells:
    """The unit patterns the statistics need: two coders, the 4 joint patterns (for Cohen's
    marginals); more, how many coders applied the code (0..m), which Fleiss, alpha, AC1 and
    percent agreement depend on. Cell 0 is always "nobody applied it"."""

    def __init__(self, m: int):
        self.m = m
        if m == 2:
            self.r1 = np.array([0, 1, 1, 2], dtype=float)
            self.first = np.array([0, 1, 0, 1], dtype=float)   # coder 1 applied it
            self.second = np.array([0, 0, 1, 1], dtype=float)  # coder 2 applied it
        else:
            self.r1 = np.arange(m + 1, dtype=float)
        self.n = len(self.r1)

    def index(self, x: np.ndarray) -> np.ndarray:
        """Cell of each unit × code from coders × units × codes booleans."""
        if self.m == 2:
            return x[0].astype(np.int8) + 2 * x[1].astype(np.int8)
        return x.sum(axis=0, dtype=np.int16)

    def stats(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """All statistics for cell counts of shape (..., n cells); NaN where undefined."""
        m = self.m
        c = np.asarray(counts, dtype=float)
        r1 = self.r1
        r0 = m - r1
        with np.errstate(divide="ignore", invalid="ignore"):
            n_units = c.sum(axis=-1)
            pa = (c @ ((r1 * (r1 - 1) + r0 * (r0 - 1)) / (m * (m - 1)))) / n_units
            n_vals = n_units * m
            n1 = c @ r1
            n0 = n_vals - n1
            pi1 = n1 / n_vals
            if m == 2:
                q1 = (c @ self.first) / n_units
                q2 = (c @ self.second) / n_units
                pe = q1 * q2 + (1 - q1) * (1 - q2)
            else:
                pe = pi1 ** 2 + (1 - pi1) ** 2
            kappa = np.where(1 - pe > 1e-12, (pa - pe) / (1 - pe), np.nan)
            o01 = (c @ (r1 * r0)) / (m - 1)
            alpha = np.where(n0 * n1 > 0, 1 - (n_vals - 1) * o01 / (n0 * n1), np.nan)
            pe1 = 2 * pi1 * (1 - pi1)
            ac1 = (pa - pe1) / (1 - pe1)
        # 12 decimals: no "-3e-16" where the exact value is 0
        return {"n_units": n_units, "n_coded": n_units - c[..., 0], "prevalence": pi1, "percent_agreement": np.round(pa, 12),
                "kappa": np.round(kappa, 12), "alpha": np.round(alpha, 12), "ac1": np.round(ac1, 12), "n1": n1, "n0": n0}


def _seed_for(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8"))]))


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of the defined values (NaN, NaN if none), as bootstrap_ci takes it."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (math.nan, math.nan)
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return (float(low), float(high))


def _binary_ci(cells: _Cells, counts: np.ndarray, key: str, opts: dict) -> dict[str, float]:
    """Bootstrap one code: resampling N units = a multinomial draw of its cell counts."""
    total = int(round(counts.sum()))
    out: dict[str, float] = {}
    if total == 0:
        for s in STATISTICS:
            out[f"{s}_low"] = out[f"{s}_high"] = math.nan
        return out
    rng = _seed_for(opts["seed"], key)
    draws = rng.multinomial(total, counts / counts.sum(), size=opts["resamples"])
    st = cells.stats(draws)
    for s in STATISTICS:
        out[f"{s}_low"], out[f"{s}_high"] = _interval(st[s], opts["confidence"])
    return out


def _binary_tables(units: _Units, names: list[str], rule: _Rules, by: str | None, ci: dict | None):
    import pandas as pd

    m, n_units, k = units.x.shape
    cells = _Cells(m)
    kind = "Cohen" if m == 2 else "Fleiss"
    cell = cells.index(units.x)                                   # units × codes
    keys = cell.astype(np.int64) + (np.arange(k, dtype=np.int64) * cells.n)[None, :]
    counts = np.bincount(keys.ravel(), weights=np.repeat(units.weight, k), minlength=k * cells.n).reshape(k, cells.n)
    passages = units.passages

    rows = _code_rows(cells, counts, units.codes, names, kind, rule, passages)
    pooled_counts = counts.sum(axis=0)
    pooled = _code_rows(cells, pooled_counts[None, :], [POOLED], [f"all {k} codes"], kind, rule, None, pooled=True)[0]
    if ci is not None and units.cluster is None:
        for r, code, cnt in zip(rows, units.codes, counts):
            r.update(_binary_ci(cells, cnt, code, ci))
        pooled.update(_pooled_ci(cells, cell, units.weight, ci))
    elif ci is not None:
        per_code, whole = _cluster_ci(cells, keys, units, ci)
        for r, extra in zip(rows, per_code):
            r.update(extra)
        pooled.update(whole)
    set_alpha = _set_alpha(units, ci)

    columns = ["code", "code_name", "n_units", "n_coded", "prevalence", "percent_agreement", "kappa", "kappa_kind",
               "alpha", "ac1", "flags", "notes"]
    if ci is not None:
        columns += [f"{s}_{end}" for s in STATISTICS for end in ("low", "high")]
    table = _sorted_frame(rows, columns, rule.metric)
    overall = pd.DataFrame([pooled], columns=columns)

    breakdown = None
    if by == "transcript":
        nt = len(units.transcripts)
        tkeys = keys + (units.transcript[:, None] * (k * cells.n))
        tcounts = np.bincount(tkeys.ravel(), weights=np.repeat(units.weight, k),
                              minlength=nt * k * cells.n).reshape(nt, k, cells.n)
        recs = []
        for ti, t in enumerate(units.transcripts):
            recs += _group_rows("transcript", t, cells, tcounts[ti], units.codes, names, kind, rule)
        breakdown = pd.DataFrame(recs, columns=["transcript", *columns[:12]])
    elif by == "coder-pair":
        pair_cells = _Cells(2)
        recs = []
        for g in range(m):
            for h in range(g + 1, m):
                pc = pair_cells.index(units.x[[g, h]])
                pkeys = pc.astype(np.int64) + (np.arange(k, dtype=np.int64) * 4)[None, :]
                pcounts = np.bincount(pkeys.ravel(), weights=np.repeat(units.weight, k), minlength=k * 4).reshape(k, 4)
                label = f"{units.coders[g]}-{units.coders[h]}"
                recs += _group_rows("coder_pair", label, pair_cells, pcounts, units.codes, names, "Cohen", rule)
        breakdown = pd.DataFrame(recs, columns=["coder_pair", *columns[:12]])
    return table, overall, set_alpha, breakdown, int(units.weight.sum())


def _group_rows(key: str, label: str, cells: _Cells, counts: np.ndarray, codes, names, kind, rule) -> list[dict]:
    rows = _code_rows(cells, counts, codes, names, kind, rule, None)
    rows.sort(key=_sort_key(rule.metric))
    pooled = _code_rows(cells, counts.sum(axis=0)[None, :], [POOLED], [f"all {len(codes)} codes"], kind, rule, None, pooled=True)
    return [{key: label, **r} for r in rows + pooled]


def _code_rows(cells: _Cells, counts: np.ndarray, codes, names, kind, rule: _Rules, passages, pooled: bool = False) -> list[dict]:
    st = cells.stats(counts)
    rows = []
    for i, code in enumerate(codes):
        n = float(st["n_units"][i])
        r = {"code": code, "code_name": names[i], "n_units": int(round(n)), "n_coded": int(round(st["n_coded"][i])),
             "prevalence": float(st["prevalence"][i]), "percent_agreement": float(st["percent_agreement"][i]),
             "kappa": float(st["kappa"][i]), "kappa_kind": kind, "alpha": float(st["alpha"][i]), "ac1": float(st["ac1"][i])}
        flags, notes = [], []
        if n == 0:
            flags.append("undefined")
            notes.append("no units")
        elif st["n1"][i] == 0 or st["n0"][i] == 0:
            flags.append("undefined")
            who = "no coder applied this code to any unit" if st["n1"][i] == 0 else "every coder applied this code to every unit"
            notes.append(f"kappa and alpha undefined: {who} (chance agreement is 1)")
        if r["kappa"] < PARADOX_KAPPA and r["percent_agreement"] >= PARADOX_AGREEMENT:
            flags.append("kappa paradox")
            notes.append(f"kappa {r['kappa']:.2f} despite {r['percent_agreement']:.0%} agreement: "
                         f"prevalence {r['prevalence']:.1%}; see AC1")
        if not pooled and n > 0:
            coded = int(passages[i]) if passages is not None else r["n_coded"]
            what = "coded passages" if passages is not None else "units coded by anyone"
            if coded < rule.rare_units:
                flags.append("rare")
                notes.append(f"too rare to judge: {what}: {coded} (< {rule.rare_units})")
            elif passages is None and r["prevalence"] < rule.rare_prevalence:  # characters: passages only
                flags.append("rare")
                notes.append(f"too rare to judge: prevalence {r['prevalence']:.1%} (< {rule.rare_prevalence:.0%})")
        _threshold_flag(r, rule, flags)
        r["flags"] = ", ".join(flags)
        r["notes"] = "; ".join(notes)
        rows.append(r)
    return rows


def _threshold_flag(r: dict, rule: _Rules, flags: list[str]) -> None:
    if rule.threshold is None:
        return
    v = r.get(rule.metric)
    if v is not None and not (isinstance(v, float) and math.isnan(v)) and v < rule.threshold:
        flags.append(f"below {rule.threshold:g}")


def _sort_key(metric: str):
    def key(r: dict):
        v = r.get(metric)
        undefined = v is None or (isinstance(v, float) and math.isnan(v))
        return (undefined, 0.0 if undefined else v)
    return key


def _sorted_frame(rows: list[dict], columns: list[str], metric: str):
    import pandas as pd

    rows = sorted(rows, key=_sort_key(metric))  # stable: codebook order among ties
    return pd.DataFrame(rows, columns=columns)


def _pooled_ci(cells: _Cells, cell: np.ndarray, weight: np.ndarray, opts: dict) -> dict[str, float]:
    """Resample units with all their codes: each unit contributes its histogram of cells."""
    k = cell.shape[1]
    out: dict[str, float] = {}
    if cell.shape[0] == 0 or k == 0:
        return {f"{s}_{e}": math.nan for s in STATISTICS for e in ("low", "high")}
    hist = np.zeros((cell.shape[0], cells.n), dtype=np.int64)
    for c in range(cells.n):
        hist[:, c] = (cell == c).sum(axis=1)
    rows, inverse = np.unique(hist, axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=weight, minlength=len(rows))
    rng = _seed_for(opts["seed"], POOLED)
    draws = rng.multinomial(int(round(w.sum())), w / w.sum(), size=opts["resamples"])
    st = cells.stats(draws @ rows)
    for s in STATISTICS:
        out[f"{s}_low"], out[f"{s}_high"] = _interval(st[s], opts["confidence"])
    return out


def _cluster_batches(cluster: np.ndarray, opts: dict):
    """Bootstrap resamples of clusters (turns) with replacement, in batches: multiplicities per cluster."""
    n = int(cluster.max()) + 1 if len(cluster) else 0
    rng = _seed_for(opts["seed"], "(turns)")
    for b0 in range(0, opts["resamples"], _BATCH):
        b = min(_BATCH, opts["resamples"] - b0)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b, dtype=np.int64) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)


def _cluster_ci(cells: _Cells, keys: np.ndarray, units: _Units, opts: dict) -> tuple[list[dict], dict]:
    """Character units: resample turns (with all their characters and codes), not characters.

    Characters next to each other are not independent observations; turns are treated as the
    independent units instead. cc[turn] holds each code's cell counts (in characters) within it.
    """
    k = keys.shape[1]
    n_cl = int(units.cluster.max()) + 1 if len(units.cluster) else 0
    if n_cl == 0:
        nan = {f"{s}_{e}": math.nan for s in STATISTICS for e in ("low", "high")}
        return [dict(nan) for _ in range(k)], dict(nan)
    width = k * cells.n
    cc = np.bincount((units.cluster[:, None] * width + keys).ravel(), weights=np.repeat(units.weight, k),
                     minlength=n_cl * width).reshape(n_cl, width)
    per_code = {s: [] for s in STATISTICS}
    pooled = {s: [] for s in STATISTICS}
    for w in _cluster_batches(units.cluster, opts):
        counts = (w @ cc).reshape(len(w), k, cells.n)
        st = cells.stats(counts)
        whole = cells.stats(counts.sum(axis=1))
        for s in STATISTICS:
            per_code[s].append(st[s])
            pooled[s].append(whole[s])
    rows = [{} for _ in range(k)]
    for s in STATISTICS:
        values = np.concatenate(per_code[s], axis=0)
        for i in range(k):
            rows[i][f"{s}_low"], rows[i][f"{s}_high"] = _interval(values[:, i], opts["confidence"])
    whole = {}
    for s in STATISTICS:
        whole[f"{s}_low"], whole[f"{s}_high"] = _interval(np.concatenate(pooled[s]), opts["confidence"])
    return rows, whole


# ---------------------------------------------------------------------------------------------
# Set-valued alpha over the whole codebook
# ---------------------------------------------------------------------------------------------


def set_distances(sets: np.ndarray) -> dict[str, np.ndarray]:
    """MASI and Jaccard distance matrices between the rows of a sets × codes boolean matrix.

    Same definitions as :func:`qualkit.agreement.masi_distance` / ``jaccard_distance`` (two empty
    sets: distance 0), vectorised.
    """
    a = sets.astype(np.float64)  # float matrix product (BLAS); counts are exact in float64
    size = a.sum(axis=1)
    inter = a @ a.T
    union = size[:, None] + size[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    equal = (inter == size[:, None]) & (inter == size[None, :])
    nested = inter == np.minimum(size[:, None], size[None, :])
    masi = np.where(equal, 0.0, np.where(inter == 0, 1.0, 1.0 - j * np.where(nested, 2 / 3, 1 / 3)))
    jaccard = np.where(union == 0, 0.0, 1.0 - j)
    return {"masi": masi, "jaccard": jaccard}


def _set_alpha(units: _Units, ci: dict | None) -> dict[str, Any]:
    """Alpha over each unit's set of codes per coder, from distinct unit profiles with weights.

    A profile is one unit's tuple of code sets (one per coder); w_p units share it. With δ² the set
    distance, the coincidence-matrix alpha of :func:`qualkit.agreement.set_alpha` is
    α = 1 − (n − 1) Σ_p w_p d_p / (nᵀ δ² n), where d_p = Σ_{g≠h} δ²(A_pg, A_ph) / (m − 1) is a
    profile's observed disagreement and n_s = Σ_p w_p · (coders giving set s in p), n = m · N
    values (every unit has a value from every coder). Linear in the weights, so resamples are cheap.
    """
    m, n, k = units.x.shape
    out: dict[str, Any] = {"masi": None, "jaccard": None}
    if n == 0:
        out["note"] = "no units"
        return out
    sets, set_idx = _distinct_rows(units.x.reshape(m * n, k))
    # alpha ignores which coder gave which value, so a unit's sets are sorted: fewer distinct profiles
    set_idx = np.sort(set_idx.reshape(m, n), axis=0)
    profiles, inverse = _distinct_profiles(set_idx, len(sets))             # P × m set indexes
    pw = np.bincount(inverse, weights=units.weight, minlength=len(profiles))
    notes = []
    distances = set_distances(sets)
    observed = {name: sum(delta[profiles[:, g], profiles[:, h]] for g in range(m) for h in range(m) if g != h) / (m - 1)
                for name, delta in distances.items()}
    for name, delta in distances.items():
        value = float(_set_alpha_from(pw[None, :], profiles, observed[name], delta)[0])
        out[name] = value
        if math.isnan(value):
            notes.append(f"{name}: undefined (every coder gave every unit the same set of codes: expected disagreement is 0)")
    if ci is not None:  # the same resamples of units for both distances
        values: dict[str, list[np.ndarray]] = {name: [] for name in distances}
        for draws in _profile_draws(units, pw, inverse, len(profiles), ci):
            for name, delta in distances.items():
                values[name].append(_set_alpha_from(draws, profiles, observed[name], delta))
        for name in distances:
            out[f"{name}_low"], out[f"{name}_high"] = _interval(np.concatenate(values[name]), ci["confidence"])
    if notes:
        out["note"] = "; ".join(notes)
    out["n_distinct_sets"] = int(len(sets))
    return out


_BATCH = 250  # bootstrap resamples drawn and evaluated together (bounds memory: batch × profiles)


def _profile_draws(units: _Units, pw: np.ndarray, inverse: np.ndarray, n_profiles: int, opts: dict):
    """Batches of resampled profile weights: units resampled (a multinomial draw of the profile
    counts), or, for characters, turns resampled with their characters (the same draws as the
    per-code intervals)."""
    if units.cluster is None:
        rng = _seed_for(opts["seed"], "(set alpha)")
        total, p = int(round(pw.sum())), pw / pw.sum()
        for b in range(0, opts["resamples"], _BATCH):
            yield rng.multinomial(total, p, size=min(_BATCH, opts["resamples"] - b)).astype(float)
        return
    for w in _cluster_batches(units.cluster, opts):
        vals = w[:, units.cluster] * units.weight[None, :]
        rows = (np.arange(len(w), dtype=np.int64) * n_profiles)[:, None] + inverse[None, :]
        yield np.bincount(rows.ravel(), weights=vals.ravel(), minlength=len(w) * n_profiles).reshape(len(w), n_profiles)


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean matrix (as booleans) and each row's index among them."""
    rows, k = x.shape
    packed = np.packbits(x, axis=1) if k else np.zeros((rows, 1), dtype=np.uint8)
    width = -(-packed.shape[1] // 8) * 8
    if width != packed.shape[1]:
        packed = np.hstack([packed, np.zeros((rows, width - packed.shape[1]), dtype=np.uint8)])
    words = np.ascontiguousarray(packed).view(np.uint64)     # rows × (width / 8): one 64-bit word per 64 codes
    if words.shape[1] == 1:
        keys, inverse = np.unique(words[:, 0], return_inverse=True)
        uniq = keys[:, None]
    else:
        uniq, inverse = np.unique(words, axis=0, return_inverse=True)
    distinct = np.unpackbits(np.ascontiguousarray(uniq).view(np.uint8), axis=1, count=k).astype(bool) if k \
        else np.zeros((len(uniq), 0), dtype=bool)
    return distinct, inverse.ravel()


def _distinct_profiles(set_idx: np.ndarray, n_sets: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct columns of a coders × units matrix of set indexes: (P × coders, unit -> profile)."""
    m = set_idx.shape[0]
    if n_sets ** m < 2 ** 62:
        key = np.zeros(set_idx.shape[1], dtype=np.int64)
        for g in range(m):
            key = key * n_sets + set_idx[g]
        uniq, inverse = np.unique(key, return_inverse=True)
        profiles = np.empty((len(uniq), m), dtype=np.int64)
        rest = uniq.copy()
        for g in range(m - 1, -1, -1):
            profiles[:, g] = rest % n_sets
            rest //= n_sets
        return profiles, inverse.ravel()
    profiles, inverse = np.unique(set_idx.T, axis=0, return_inverse=True)
    return profiles, inverse.ravel()


def _set_alpha_from(w: np.ndarray, profiles: np.ndarray, observed: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Set alpha for each row of profile weights ``w`` (resamples × P); NaN where undefined."""
    b, m = len(w), profiles.shape[1]
    n_sets = len(delta)
    w = np.asarray(w, dtype=float)
    rows = np.repeat(np.arange(b, dtype=np.int64) * n_sets, w.shape[1])
    nvec = np.zeros(b * n_sets)
    for g in range(m):  # n_s = Σ_p w_p · (coders giving set s in profile p)
        nvec += np.bincount(rows + np.tile(profiles[:, g], b), weights=w.ravel(), minlength=b * n_sets)
    nvec = nvec.reshape(b, n_sets)
    expected = np.einsum("bs,bs->b", nvec @ delta, nvec)      # nᵀ δ² n (δ² has a zero diagonal)
    total = w.sum(axis=1) * m
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((expected > 0) & (total >= 2), 1 - (total - 1) * (w @ observed) / expected, np.nan)


# ---------------------------------------------------------------------------------------------
# Span matching
# ---------------------------------------------------------------------------------------------


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One coder's spans of one code, overlapping ones merged, sorted."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _touches_kept(spans: list[tuple[int, int]], kept: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int]]:
    starts, ends = kept
    if len(starts) == 0:
        return []
    out = []
    for s, e in spans:
        j = int(np.searchsorted(starts, e, side="left")) - 1  # last kept piece starting before e
        if j >= 0 and ends[j] > s:  # pieces are disjoint and in order: checking the last one is enough
            out.append((s, e))
    return out


def match_spans(a: list[tuple[int, int]], b: list[tuple[int, int]], share: float) -> int:
    """Number of one-to-one matches between two sorted lists of disjoint spans.

    Two spans match when their overlap is at least ``share`` × the longer one's length; pairs are
    taken greedily, largest overlap share first (then text order).
    """
    candidates = []
    j0 = 0
    for i, (s, e) in enumerate(a):
        while j0 < len(b) and b[j0][1] <= s:
            j0 += 1
        j = j0
        while j < len(b) and b[j][0] < e:
            bs, be = b[j]
            ov = min(e, be) - max(s, bs)
            longer = max(e - s, be - bs)
            if ov > 0 and ov >= share * longer * (1 - 1e-12):
                candidates.append((-ov / longer, i, j))
            j += 1
    candidates.sort()
    used_a, used_b = set(), set()
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return len(used_a)


def _overlap_stats(matched: np.ndarray, unmatched: np.ndarray) -> dict[str, np.ndarray]:
    a = np.asarray(matched, dtype=float)
    u = np.asarray(unmatched, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"percent_agreement": a / (a + u), "f1": 2 * a / (2 * a + u)}


def _overlap_tables(uc, spans, codes, names, share: float, rule: _Rules, by: str | None, ci: dict | None):
    import pandas as pd

    kept = _kept_text(uc)
    coders = uc.coders
    m = len(coders)
    pairs = [(g, h) for g in range(m) for h in range(g + 1, m)]
    nt, k = len(uc.transcripts), len(codes)
    # [pair, transcript, code, (matched, unmatched)]
    table = np.zeros((len(pairs), nt, k, 2), dtype=np.int64)
    spans_t = np.zeros((nt, k), dtype=np.int64)  # spans of all coders per transcript and code (after merging)
    for ki, code in enumerate(codes):
        per_coder = spans.get(code, {})
        for ti, t in enumerate(uc.transcripts):
            merged = [_merge(_touches_kept(per_coder.get(c, {}).get(t, []), kept[t])) for c in coders]
            spans_t[ti, ki] = sum(len(x) for x in merged)
            for pi, (g, h) in enumerate(pairs):
                a = match_spans(merged[g], merged[h], share)
                table[pi, ti, ki] = (a, len(merged[g]) + len(merged[h]) - 2 * a)

    def rows_for(tab: np.ndarray, spans_n, pooled_label: str | None = None) -> list[dict]:
        st = _overlap_stats(tab[..., 0], tab[..., 1])
        out = []
        for i in range(tab.shape[0]):
            a, u = int(tab[i, 0]), int(tab[i, 1])
            code = pooled_label or codes[i]
            r = {"code": code, "code_name": f"all {k} codes" if pooled_label else names[i], "n_units": a + u,
                 "n_spans": int(spans_n[i]), "matched": a, "unmatched": u, "prevalence": math.nan,
                 "percent_agreement": float(st["percent_agreement"][i]), "f1": float(st["f1"][i]),
                 "kappa": math.nan, "kappa_kind": "", "alpha": math.nan, "ac1": math.nan}
            flags, notes = [], []
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

    n_spans = spans_t.sum(axis=0)
    per_code = table.sum(axis=(0, 1))  # code × 2
    rows = rows_for(per_code, n_spans)
    if ci is not None:
        for r, code, tab in zip(rows, codes, per_code):
            r.update(_overlap_ci(tab, code, ci))
    pooled = rows_for(per_code.sum(axis=0)[None, :], [int(n_spans.sum())], POOLED)[0]
    if ci is not None:
        pooled.update(_overlap_ci(per_code.sum(axis=0), POOLED, ci))
    columns = ["code", "code_name", "n_units", "n_spans", "matched", "unmatched", "prevalence", "percent_agreement",
               "f1", "kappa", "kappa_kind", "alpha", "ac1", "flags", "notes"]
    if ci is not None:
        columns += [f"{s}_{e}" for s in ("percent_agreement", "f1") for e in ("low", "high")]
    frame = _sorted_frame(rows, columns, rule.metric)
    overall = pd.DataFrame([pooled], columns=columns)

    breakdown = None
    if by is not None:
        recs = []
        if by == "transcript":
            groups = [(t, table[:, ti].sum(axis=0), spans_t[ti]) for ti, t in enumerate(uc.transcripts)]
            key = "transcript"
        else:  # a pair's spans: two per matched pair, one per unmatched span
            groups = [(f"{coders[g]}-{coders[h]}", table[pi].sum(axis=0), 2 * table[pi].sum(axis=0)[:, 0] + table[pi].sum(axis=0)[:, 1])
                      for pi, (g, h) in enumerate(pairs)]
            key = "coder_pair"
        for label, tab, sp in groups:
            rs = rows_for(tab, sp)
            rs.sort(key=_sort_key(rule.metric))
            rs += rows_for(tab.sum(axis=0)[None, :], [int(sp.sum())], POOLED)
            recs += [{key: label, **r} for r in rs]
        breakdown = pd.DataFrame(recs, columns=[key, *columns[:15]])
    set_alpha = {"masi": None, "jaccard": None,
                 "note": "not defined for span matching (no fixed units); use a unit such as turn"}
    return frame, overall, set_alpha, breakdown, int(per_code.sum())


def _overlap_ci(tab: np.ndarray, key: str, opts: dict) -> dict[str, float]:
    total = int(tab.sum())
    out = {}
    if total == 0:
        return {f"{s}_{e}": math.nan for s in ("percent_agreement", "f1") for e in ("low", "high")}
    rng = _seed_for(opts["seed"], key)
    a = rng.binomial(total, tab[0] / total, size=opts["resamples"])
    st = _overlap_stats(a, total - a)
    for s in ("percent_agreement", "f1"):
        out[f"{s}_low"], out[f"{s}_high"] = _interval(st[s], opts["confidence"])
    return out


# ---------------------------------------------------------------------------------------------
# Text helpers and exports
# ---------------------------------------------------------------------------------------------


def _resampled(unit: str) -> str:
    """What the bootstrap resamples, in words."""
    return {"character": "turns (with all their characters)", "overlap": "segment units"}.get(unit, _UNIT_WORDS.get(unit, unit))


def _definitions(unit: str, m: int, overlap: float | None, rule: _Rules, ci: dict | None = None) -> list[str]:
    if unit == "overlap":
        out = [f"Span matching: per code and transcript, each coder's overlapping spans are merged; two coders' spans agree "
               f"when they overlap by at least {overlap:g} of the longer span (MAXQDA's 'overlap of at least X%' rule), "
               "paired one-to-one, largest overlap first. Spans wholly inside left-out turns are dropped.",
               "Agreement = matched pairs / (matched pairs + unmatched spans); F1 = 2·matched / (2·matched + unmatched), "
               "the positive specific agreement (Fleiss 1975; Hripcsak & Rothschild 2005, doi:10.1197/jamia.M1733).",
               "Kappa, alpha and AC1 are not reported: span matching has no units that both coders left uncoded, "
               "so chance agreement cannot be estimated."]
        if m > 2:
            out.append("With three or more coders every pair of coders is matched and the counts are summed over pairs.")
    else:
        unit_def = ("every character of the counted turns' text is a unit" if unit == "character"
                    else f"unit = {unit}; a coder applied a code to a unit when one of their spans of that code overlaps it")
        out = [f"Units: {unit_def}; only transcripts coded by every coder count.",
               "Agreement = mean over units of the share of agreeing coder pairs (Gwet 2014); "
               + ("kappa = Cohen's kappa (Cohen 1960)" if m == 2 else "kappa = Fleiss' kappa (Fleiss 1971)")
               + "; alpha = Krippendorff's alpha, nominal; AC1 = Gwet's AC1 (Gwet 2008); prevalence = share of "
               "unit × coder cells in which the code was applied.",
               "Pooled: the per-code coders × units tables stacked into one coders × (units × codes) table "
               "(each unit–code pair one item); statistics computed on the stack.",
               "Set-valued alpha: Krippendorff's alpha with each unit's set of codes per coder as the value and "
               "the MASI (Passonneau 2006) or Jaccard distance.",
               f"Flags: 'kappa paradox' = kappa < {PARADOX_KAPPA} with agreement ≥ {PARADOX_AGREEMENT} "
               "(Feinstein & Cicchetti 1990); 'rare' = fewer than "
               + (f"{rule.rare_units} coded passages (stretches of characters coded by anyone)" if unit == "character"
                  else f"{rule.rare_units} units coded by anyone or prevalence < {rule.rare_prevalence:.0%}")
               + "; 'undefined' = kappa and alpha undefined (nobody, or everybody, applied the code everywhere)."]
    if rule.threshold is not None:
        out.append(f"'below {rule.threshold:g}': {rule.metric.replace('_', ' ')} under the threshold {rule.threshold:g}.")
    if ci is not None:
        what = {"character": "turns (with all their characters: neighbouring characters are not independent)",
                "overlap": "segment units (matched pairs and unmatched spans)"}.get(unit, _resampled(unit))
        out.append(f"Intervals: {ci['confidence']:.0%} percentile bootstrap, {ci['resamples']} resamples of {what} "
                   f"with replacement, seed {ci['seed']}; resamples where a statistic is undefined are skipped.")
    out.append(f"Sorted worst first by {rule.metric.replace('_', ' ')}; undefined values last.")
    return out


def _num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    s = f"{v:.{digits}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s  # no "-0.00"


def _fmt(rec: dict, name: str, kind: str, with_ci: bool) -> str:
    v = rec.get(name)
    if kind == "text":
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    if kind == "int":
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(int(v))
    if kind == "pct":
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"
    s = _num(v, 2)
    low, high = rec.get(f"{name}_low"), rec.get(f"{name}_high")
    if with_ci and low is not None and not (isinstance(low, float) and math.isnan(low)):
        s += f" [{_num(low, 2)}, {_num(high, 2)}]"
    return s


def _md(v: str) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (np.floating, np.integer)):
        return _clean(v.item())
    return v


def _records(frame) -> list[dict]:
    out = []
    for rec in frame.to_dict("records"):
        rec = {k: _clean(v) for k, v in rec.items()}
        if "flags" in rec:
            rec["flags"] = [f for f in (rec["flags"] or "").split(", ") if f]
        out.append(rec)
    return out


def export_report(report: AgreementReport, csv: str | Path | None = None, md: str | Path | None = None,
                  html_path: str | Path | None = None, json_path: str | Path | None = None) -> list[Path]:
    """Write the requested files atomically, each with ``FILE.manifest.json`` beside it.

    Every text is rendered before anything is written, so a rendering error writes nothing.
    """
    import json

    from qualkit.io.atomic import atomic_write_text
    from qualkit.io.manifest import build_manifest, write_manifest

    texts: list[tuple[Path, str]] = []
    if csv is not None:
        texts.append((Path(csv), report.to_frame().to_csv(index=False, lineterminator="\n")))
    if md is not None:
        texts.append((Path(md), report.to_markdown()))
    if html_path is not None:
        texts.append((Path(html_path), report.to_html()))
    if json_path is not None:
        texts.append((Path(json_path), json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"))
    for path, _ in texts:
        if path.is_dir():
            raise QualkitError("is a folder; give a file name for the export", path)
    written = []
    root = report.root or Path.cwd()
    for path, text in texts:
        atomic_write_text(path, text)
        manifest = build_manifest(root, report.inputs, [path], {"command": "agree", **report.parameters})
        write_manifest(Path(f"{path}.manifest.json"), manifest)
        written.append(path)
    return written

