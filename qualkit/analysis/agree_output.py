"""The report of :func:`qualkit.analysis.agree.agreement` and its forms: text, Markdown, HTML, CSV, JSON.

:class:`AgreementReport` holds the tables and provenance; :func:`definitions` words what was
computed; :func:`export_report` writes the requested files with a manifest beside each.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qualkit.agreement.patterns import Resampling
from qualkit.analysis.agree_tables import PARADOX_AGREEMENT, PARADOX_KAPPA, POOLED, Rules
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AgreementReport", "definitions", "resampled", "export_report"]

_CI_ENDS = ("_low", "_high")  # a statistic's interval columns (and set alpha's keys)
_CI_DEFINITION = "Intervals: "  # how definitions() words the intervals

UNIT_WORDS = {"turn": "turns", "sentence": "sentences", "paragraph": "paragraphs", "question": "question units",
              "document": "documents", "character": "characters", "overlap": "segment units"}


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
    table: pd.DataFrame
    overall: pd.DataFrame              # one row
    set_alpha: dict[str, Any]
    transcripts: list[str]
    left_out: dict[str, list[str]]
    n_units: int
    metric: str
    threshold: float | None = None
    by: str | None = None
    breakdown: pd.DataFrame | None = None
    ci: dict[str, Any] | None = None   # resamples, seed, confidence
    definitions: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    root: Path | None = None
    progress: dict[str, dict[str, str]] = field(default_factory=dict)  # left-out transcript -> coder -> progress
    facilitator_only: dict[str, int] = field(default_factory=dict)    # coder -> codings only in the team's turns
    unanchored: list[str] = field(default_factory=list)  # --allow-unanchored: what was left out, one line per transcript

    def without_ci(self) -> AgreementReport:
        """The same report without its bootstrap intervals: what ``agreement(..., ci=False)`` returns with
        the same settings (the resamples add columns and a definition; they change no estimate)."""
        if self.ci is None:
            return self

        def drop(frame: Any) -> Any:
            return None if frame is None else frame[[c for c in frame.columns if not str(c).endswith(_CI_ENDS)]]

        return replace(self, table=drop(self.table), overall=drop(self.overall), breakdown=drop(self.breakdown),
                       set_alpha={k: v for k, v in self.set_alpha.items() if not k.endswith(_CI_ENDS)}, ci=None,
                       definitions=[d for d in self.definitions if not d.startswith(_CI_DEFINITION)])

    def facilitator_text(self) -> str | None:
        """One line counting the codings in interviewer/moderator turns, which agreement leaves out."""
        if not self.facilitator_only:
            return None
        n = sum(self.facilitator_only.values())
        who = ", ".join(f"{c} {k}" for c, k in self.facilitator_only.items())
        return (f"{n} coding{plural_s(n)} lie only in interviewer/moderator turns and are not counted ({who}); they are kept in "
                "the coders' files; --include-moderator counts them.")

    @property
    def unit_label(self) -> str:
        """What a unit is called in prose ("turns", "characters", "segment units")."""
        return UNIT_WORDS.get(self.unit, self.unit)

    @property
    def parameters(self) -> dict[str, Any]:
        """The settings that produced this report (for manifests)."""
        return {"coders": self.coders, "unit": self.unit, "overlap": self.overlap,
                "include_facilitators": self.include_facilitators, "by": self.by, "metric": self.metric,
                "threshold": self.threshold, "ci": self.ci, "transcripts": self.transcripts,
                "left_out": self.left_out, "n_units": self.n_units,
                **({"unanchored_left_out": self.unanchored} if self.unanchored else {})}

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
        """One sentence saying what the bracketed intervals are (confidence, resamples, seed)."""
        ci = self.ci or {}
        return (f"Brackets: {ci.get('confidence', 0.95):.0%} percentile bootstrap intervals ({ci.get('resamples')} resamples "
                f"of {ci.get('resampled', 'units')}, seed {ci.get('seed')}).")

    def left_out_text(self) -> str:
        """The transcripts left out, each with the coders who did not code it."""
        extra = "".join(f" Codings left out: {n}." for n in self.unanchored)
        if not self.left_out:
            return "No transcript was left out." + extra
        parts = [f"{t} ({_why(cs, self.progress.get(t, {}))})" for t, cs in self.left_out.items()]
        return f"Left out ({len(parts)}): " + "; ".join(parts) + "." + extra

    # -- machine forms ---------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
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
            "left_out": [{"transcript": t, "not_coded_by": cs} | ({"progress": self.progress[t]} if t in self.progress else {})
                         for t, cs in self.left_out.items()],
            "n_units": self.n_units, "unit_label": self.unit_label, "facilitator_only": self.facilitator_only,
            "codes": _records(self.table), "pooled": next(iter(_records(self.overall)), None),
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
                     ("percent_agreement", "Agreement", "num"), ("f1", "Pos. agr. (F1)", "num")]
        else:
            kappa = "Cohen's κ" if len(self.coders) == 2 else "Fleiss' κ"
            cols += [("n_coded", "Coded", "int"), ("prevalence", "Prevalence", "pct"),
                     ("percent_agreement", "Agreement", "num"), ("p_pos", "Pos. agr.", "num"),
                     ("p_neg", "Neg. agr.", "num"), ("kappa", kappa, "num"), ("alpha", "α", "num"),
                     ("ac1", "AC1", "num")]
        cols.append(("flags", "Flags", "text"))
        return cols

    def display_rows(self, frame: pd.DataFrame | None = None, ascii_only: bool = False) -> tuple[list[str], list[list[str]], list[int]]:
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
        """One sentence with the set-valued alphas (MASI, Jaccard), or why they are missing."""
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
            lines += ["", f"### By {(self.by or '').replace('-', ' ')} (all codes pooled)", ""]
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

        def table(headers: list[str], rows: list[list[str]], right: list[int], strong_last: int = 0) -> list[str]:
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
            parts.append(f"<h3>By {e((self.by or '').replace('-', ' '))} (all codes pooled)</h3>")
            parts += table(*self.group_rows())
        parts.append("<p>Definitions:</p><ul>" + "".join(f"<li>{e(d)}</li>" for d in self.definitions) + "</ul>")
        parts.append("</section>")
        return "\n".join(parts) + "\n"

    def group_rows(self) -> tuple[list[str], list[list[str]], list[int]]:
        """The breakdown's pooled rows: one line per transcript or coder pair."""
        key = _by_column(self.by)
        breakdown = self.breakdown
        if breakdown is None:
            raise ValueError("no breakdown in this report: ask agreement() for one with by='transcript' or 'coder-pair'")
        pooled = breakdown[breakdown["code"] == POOLED]
        headers, rows, right = self.display_rows(pooled)
        headers = [key.replace("_", " ").capitalize(), *headers[2:]]
        rows = [[str(g), *r[2:]] for g, r in zip(pooled[key], rows)]
        right = [0 if i < 2 else i - 1 for i in right if i >= 2]
        return headers, rows, right


def _by_column(by: str | None) -> str:
    return "coder_pair" if by == "coder-pair" else "transcript"



def resampled(unit: str) -> str:
    """What the bootstrap resamples, in words."""
    return {"character": "turns (with all their characters)", "overlap": "segment units"}.get(unit, UNIT_WORDS.get(unit, unit))


def definitions(unit: str, m: int, overlap: float | None, rule: Rules, ci: Resampling | None = None) -> list[str]:
    """What the report's figures mean, with sources, one sentence or two per item."""
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
               "Pos. agr. / Neg. agr. = positive and negative specific agreement, 2a/(2a+b+c) and 2d/(2d+b+c) "
               "(Cicchetti & Feinstein 1990); bias index = (b − c)/N, prevalence index = (a − d)/N (Byrt, Bishop & "
               "Carlin 1993).",
               f"Flags: 'kappa paradox' = kappa < {PARADOX_KAPPA} with agreement ≥ {PARADOX_AGREEMENT} and a small bias "
               "index (|BI| at most half the disagreement rate: the low kappa is a prevalence effect, Feinstein & "
               "Cicchetti 1990; a biased pair is real disagreement and is not flagged); 'rare' = fewer than "
               + (f"{rule.rare_units} coded passages (stretches of characters coded by anyone)" if unit == "character"
                  else f"{rule.rare_units} units coded by anyone or prevalence < {rule.rare_prevalence:.0%}")
               + "; 'undefined' = kappa and alpha undefined (nobody, or everybody, applied the code everywhere)."]
    if rule.threshold is not None:
        out.append(f"'below {rule.threshold:g}': {rule.metric.replace('_', ' ')} under the threshold {rule.threshold:g}.")
    if ci is not None:
        what = {"character": "turns (with all their characters: neighbouring characters are not independent)",
                "overlap": "segment units (matched pairs and unmatched spans)"}.get(unit, resampled(unit))
        out.append(f"{_CI_DEFINITION}{ci.confidence:.0%} percentile bootstrap, {ci.resamples} resamples of {what} "
                   f"with replacement, seed {ci.seed}; resamples where a statistic is undefined are skipped.")
    out.append(f"Sorted worst first by {rule.metric.replace('_', ' ')}; undefined values last.")
    return out


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    s = f"{v:.{digits}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s  # no "-0.00"


def _fmt(rec: dict[str, Any], name: str, kind: str, with_ci: bool) -> str:
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


def _md(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (np.floating, np.integer)):
        return _clean(v.item())
    return v


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
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

    from qualkit.io.manifest import build_manifest, write_manifest
    from qualkit.io.outputs import check_output, write_output_text
    from qualkit.render.cells import csv_safe_frame

    texts: list[tuple[Path, str]] = []
    if csv is not None:
        texts.append((Path(csv), csv_safe_frame(report.to_frame()).to_csv(index=False, lineterminator="\n")))
    if md is not None:
        texts.append((Path(md), report.to_markdown()))
    if html_path is not None:
        texts.append((Path(html_path), report.to_html()))
    if json_path is not None:
        texts.append((Path(json_path), json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"))
    for path, _ in texts:
        check_output(path, report.root)
    written = []
    root = report.root or Path.cwd()
    for path, text in texts:
        write_output_text(path, text, report.root)
        manifest = build_manifest(root, report.inputs, [path], {"command": "agree", **report.parameters})
        write_manifest(Path(f"{path}.manifest.json"), manifest)
        written.append(path)
    return written



def _why(coders: list[str], progress: dict[str, str]) -> str:
    """"not coded by ben; not done by ana: 2/28 turns coded" for one left-out transcript."""
    partly = [f"{c}: {progress[c]}" for c in coders if c in progress]
    absent = [c for c in coders if c not in progress]
    parts = ([f"not coded by {', '.join(absent)}"] if absent else []) + ([f"not done by {'; '.join(partly)}"] if partly else [])
    return "; ".join(parts)
