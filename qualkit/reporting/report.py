"""`qualkit report`: the whole study on one self-contained HTML page.

``build_report(workspace, out=None, coders=None, ci=True)`` writes ``exports/report.html`` (or
``out``) atomically, with ``report.html.manifest.json`` beside it (inputs' sha256, parameters,
versions), and returns its path. The page has no external resource at all: no script, font, image
or stylesheet from anywhere (a Content-Security-Policy meta tag forbids them, so the browser itself
guarantees it), the CSS is inline, the charts are inline SVG. It opens from a file, a shared drive
or an e-mail attachment, offline, and prints cleanly.

Sections (each built by its own function from a :class:`Study`, each degrading to a short note
when its input is missing: no second coder, no themes, no codings):

* :func:`overview_section`: project, transcripts (format, interview or focus group, participants,
  turns, words, date, coders), participants by role and site, totals, dates;
* :func:`codebook_section`: codebooks, codes per top-level group, origin, codes used and unused;
* :func:`agreement_section`: :func:`qualkit.analysis.agree.agreement` worst first, with percentile bootstrap
  intervals (fixed seed), flags, the pooled row, set-valued alpha, transcripts counted / left out;
* :func:`heatmap_section`: codes × participant roles, shaded by the share of the role's
  participants who said something coded with the code, the number of those participants printed;
* :func:`themes_section`: themes × framework domains (counts), the same matrix in long form with
  an illustrative quote per cell, and the results table (facilitators / barriers / mixed) of the
  HEIF papers (:mod:`qualkit.analysis.matrices`, kind ``themes``);
* :func:`cooccurrence_section`: the strongest code pairs and a compact c-coefficient heatmap;
* :func:`saturation_section`: new codes per transcript (bars) and cumulative distinct codes (line)
  in interview order, with Guest, Namey & Chen's (2020) saturation point marked;
* :func:`coreq_section`: figures a COREQ checklist asks for (items 12, 16, 22, 24-27);
* a footer with qualkit's version, the date, the parameters and the inputs' sha256.

Charts are hand-made SVG (:mod:`qualkit.render.svg_charts`), not matplotlib: small, crisp at any zoom
and in print, styled by the page, accessible, and no heavy dependency (see that module).

Codings for the matrices, heatmaps and saturation follow :mod:`qualkit.analysis.matrices`: the consensus
file when there is one, else the configured coders pooled (the page says so at the top).
"""
from __future__ import annotations

import hashlib
import math
import warnings as _warnings
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError

__all__ = ["REPORT_NAME", "Section", "Study", "load_study", "overview_section", "codebook_section",
           "agreement_section", "heatmap_section", "themes_section", "cooccurrence_section", "saturation_section",
           "coreq_section", "report_context", "render_report", "build_report"]

REPORT_NAME = "report.html"
TEMPLATE = "report.html.j2"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
NOT_SET = "(not set)"
TOP_PAIRS = 12


# ============================================================================ data shapes

@dataclass
class Section:
    """One part of the report: ``ok`` False means its input is missing and only ``notes`` are shown."""

    id: str
    title: str
    ok: bool = True
    notes: list[str] = field(default_factory=list)      # what the reader should know (or why it is missing)
    warnings: list[str] = field(default_factory=list)   # problems in the input
    data: dict[str, Any] = field(default_factory=dict)

    def missing(self, note: str) -> Section:
        self.ok = False
        self.notes.append(note)
        return self


@dataclass
class Study:
    """What every section reads, loaded once: transcripts, participants, coders and their codings."""

    ws: Any
    transcripts: list                                  # readable transcripts, natural order
    rows: list                                         # IngestRow per transcript
    errors: list[str]                                  # unreadable transcripts and other ingest errors
    ingest_warnings: list[str]
    coders: list[str]                                  # coders to compare (given or qualkit.yaml's)
    coder_files: dict[str, list]                       # coder -> codings (coders' files, consensus excluded)
    consensus: list | None                             # codings/consensus.csv if it exists
    people: dict[str, list[str]]                       # transcript -> participants who spoke (team left out)
    ci: bool = True
    resamples: int = 1000
    seed: int = 1
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self):
        return self.ws.participant_table

    def attr(self, participant: str, column: str) -> str:
        value = (self.table.attributes(participant).get(column) or "").strip()
        return value or NOT_SET

    def kind(self, transcript: str) -> str:
        n = len(self.people.get(transcript, []))
        return "focus group" if n >= 2 else "interview" if n == 1 else "unknown"

    def codebooks(self) -> list:
        if "codebooks" not in self.cache:
            self.cache["codebooks"] = self.ws.codebooks()
        return self.cache["codebooks"]

    def code_index(self) -> dict:
        from qualkit.workspace.codebook import all_codes

        return all_codes(self.codebooks())

    def coded_by(self, transcript: str) -> list[str]:
        return [c for c, codings in self.coder_files.items() if any(x.transcript == transcript for x in codings)]


def _describe(exc: QualkitError, root: Path | None = None) -> str:
    """A QualkitError as one line: 'file:line: message', the file relative to the workspace."""
    path = getattr(exc, "path", None)
    if path is None:
        return str(getattr(exc, "message", exc))
    shown = str(path)
    if root is not None:
        try:
            shown = str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    line = f":{exc.line}" if getattr(exc, "line", None) is not None else ""
    return f"{shown}{line}: {exc.message}"


def load_study(workspace, coders: Iterable[str] | str | None = None, ci: bool = True, resamples: int = 1000,
               seed: int = 1) -> Study:
    """Read the workspace once for all sections (unreadable files become notes, not failures)."""
    from qualkit.workspace.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    result = ws.ingest()
    errors = [_describe(e, ws.root) for e in result.errors]
    if isinstance(coders, str):
        coders = [c.strip() for c in coders.split(",") if c.strip()]
    coder_list = list(dict.fromkeys(coders if coders else ws.config.coders))
    files: dict[str, list] = {}
    names = list(dict.fromkeys([*coder_list, *(c for c in ws.coders()
                                                 if c != "consensus" and not c.startswith("adjudication"))]))
    for name in names:
        if not ws.coder_file(name).is_file():
            continue
        try:
            files[name] = ws.codings(name)
        except QualkitError as exc:
            errors.append(_describe(exc, ws.root))
    consensus = None
    if ws.coder_file("consensus").is_file():
        try:
            consensus = ws.codings("consensus")
        except QualkitError as exc:
            errors.append(_describe(exc, ws.root))
    table = ws.participant_table
    people: dict[str, list[str]] = {}
    for t in result.transcripts:
        seen: list[str] = []
        for turn in t.turns:
            if turn.participant and turn.participant not in seen and not table.is_facilitator(turn.participant):
                seen.append(turn.participant)
        people[t.id] = seen
    return Study(ws, result.transcripts, result.rows, errors, list(result.warnings), coder_list, files, consensus,
                 people, ci, resamples, seed)


def _guard(study: Study, section_id: str, title: str, build: Callable[[Study], Section]) -> Section:
    """Build a section; unusable input (a QualkitError) becomes the section's note, not a failed report."""
    try:
        return build(study)
    except QualkitError as exc:
        return Section(section_id, title).missing(f"Could not be built: {_describe(exc, study.ws.root)}")


def _matrix(study: Study, kind: str, **options):
    """build_matrix with the study's cache (the same matrix serves several sections)."""
    from qualkit.analysis.matrices import build_matrix

    key = kind + repr(sorted(options.items()))
    if key not in study.cache:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            study.cache[key] = build_matrix(study.ws, kind, **options)
    return study.cache[key]


def _bad(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ == "NAType"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# ============================================================================ overview

def overview_section(study: Study) -> Section:
    """Project, transcripts, participants by role and site, totals and dates."""
    from qualkit.analysis.matrices import transcript_dates

    s = Section("overview", "Study overview")
    s.warnings += study.errors + study.ingest_warnings
    for row in study.rows:
        s.warnings += [f"{row.id}: {w}" for w in row.warnings]
    if not study.transcripts:
        return s.missing("No readable transcript in transcripts/ yet (`qualkit ingest` lists what it finds).")
    by_id = {r.id: r for r in study.rows}
    dates, date_source = transcript_dates(study.ws, {t.id: t for t in study.transcripts})
    has_site = "site" in study.table.attribute_columns
    rows = []
    for t in study.transcripts:
        r = by_id[t.id]
        people = study.people.get(t.id, [])
        sites = sorted({study.attr(p, "site") for p in people} - {NOT_SET}) if has_site else []
        rows.append({"id": t.id, "format": r.format, "kind": study.kind(t.id), "participants": len(people),
                     "turns": r.turns, "words": r.words, "date": dates[t.id].isoformat() if t.id in dates else "",
                     "sites": ", ".join(sites), "coded_by": ", ".join(study.coded_by(t.id))})
    everyone = list(dict.fromkeys(p for t in study.transcripts for p in study.people.get(t.id, [])))
    roles = sorted({study.attr(p, "role") for p in everyone}, key=lambda v: (v == NOT_SET, v.casefold()))
    sites = sorted({study.attr(p, "site") for p in everyone}, key=lambda v: (v == NOT_SET, v.casefold())) if has_site else []
    grid = []
    for role in roles:
        mine = [p for p in everyone if study.attr(p, "role") == role]
        grid.append({"role": role, "cells": [sum(1 for p in mine if study.attr(p, "site") == site) for site in sites],
                     "total": len(mine)})
    site_totals = [sum(1 for p in everyone if study.attr(p, "site") == site) for site in sites]
    kinds = [study.kind(t.id) for t in study.transcripts]
    s.data = {
        "project": study.ws.config.project, "transcripts": rows, "n_transcripts": len(rows),
        "n_interviews": kinds.count("interview"), "n_focus_groups": kinds.count("focus group"),
        "n_unknown": kinds.count("unknown"), "turns": sum(r["turns"] for r in rows),
        "words": sum(r["words"] for r in rows), "participants": len(everyone), "roles": grid, "sites": sites,
        "site_totals": site_totals, "has_site": has_site,
        "dates": (f"{min(dates.values()).isoformat()} to {max(dates.values()).isoformat()}" if len(set(dates.values())) > 1
                  else next(iter(dates.values())).isoformat()) if dates else "",
        "n_dated": len(dates), "date_source": date_source,
    }
    if "role" not in study.table.attribute_columns:
        s.notes.append("participants.csv has no role column: participants are not broken down by role.")
    if not everyone:
        s.notes.append("No speaker is linked to a participant (participants.csv), so participants cannot be counted.")
    s.notes.append("Interview or focus group: a transcript with two or more participants (research team left out) "
                   "counts as a focus group. Words: every speaker's turns.")
    return s


# ============================================================================ codebook

def _used_codes(study: Study) -> dict[str, set[str]]:
    """Code id -> the coders (and 'consensus') who applied it."""
    used: dict[str, set[str]] = {}
    for coder, codings in study.coder_files.items():
        for c in codings:
            used.setdefault(c.code, set()).add(coder)
    for c in study.consensus or []:
        used.setdefault(c.code, set()).add("consensus")
    return used


def codebook_section(study: Study) -> Section:
    """Codebooks, codes per top-level group (origin, used / unused)."""
    s = Section("codebook", "Codebook")
    books = study.codebooks()
    if not books:
        return s.missing("No codebook in codebooks/ yet (`qualkit codebook new NAME`).")
    used = _used_codes(study)
    known = {c.id for b in books for c in b.codes}
    default = study.ws.config.codebook
    out = []
    for book in books:
        groups = []
        for root in book.children(None):
            members = [c for c in book.codes if book.path_of(c)[0].id == root.id]
            groups.append({
                "id": root.id, "name": root.name, "codes": len(members),
                "deductive": sum(1 for c in members if c.origin == "deductive"),
                "inductive": sum(1 for c in members if c.origin == "inductive"),
                "used": sum(1 for c in members if c.id in used),
                "unused": [c.name for c in members if c.id not in used and c.status == "active"],
                "retired": sum(1 for c in members if c.status == "retired"),
            })
        active = book.active()
        out.append({"id": book.id, "name": book.name, "default": book.id == default, "framework": book.framework or "",
                    "codes": len(book.codes), "active": len(active),
                    "deductive": sum(1 for c in book.codes if c.origin == "deductive"),
                    "inductive": sum(1 for c in book.codes if c.origin == "inductive"),
                    "used": sum(1 for c in book.codes if c.id in used),
                    "unused": sum(1 for c in active if c.id not in used), "groups": groups,
                    "levels": max((len(book.path_of(c)) for c in book.codes), default=0)})
    stray = sorted(set(used) - known)
    if stray:
        s.warnings.append(f"Codes applied but in no codebook: {', '.join(stray)} (`qualkit codebook validate`).")
    if not used:
        s.notes.append("No codings yet: every code is unused.")
    s.data = {"books": out, "n_codes": sum(b["codes"] for b in out), "n_used": sum(b["used"] for b in out),
              "used_by": "any coder's file" + (" or the consensus" if study.consensus is not None else "")}
    return s


# ============================================================================ agreement

def _ci(rec: dict, name: str) -> tuple[float | None, float | None]:
    low, high = rec.get(f"{name}_low"), rec.get(f"{name}_high")
    return (None, None) if _bad(low) or _bad(high) else (float(low), float(high))


def _stat(rec: dict, name: str) -> dict:
    v = rec.get(name)
    low, high = _ci(rec, name)
    return {"value": None if _bad(v) else float(v), "low": low, "high": high}


def agreement_section(study: Study) -> Section:
    """Per-code agreement worst first, with bootstrap intervals, flags, pooled and set-valued figures."""
    from qualkit.analysis.agree import agreement
    from qualkit.render.svg_charts import ci_whisker

    s = Section("agreement", "Inter-coder agreement")
    coders = study.coders
    if len(coders) < 2:
        return s.missing("Agreement needs two or more coders: name them under `coders:` in qualkit.yaml or pass "
                         f"--coders A,B (coders' files now: {', '.join(study.coder_files) or 'none'}).")
    missing = [c for c in coders if c not in study.coder_files]
    if missing:
        return s.missing(f"No codings file yet for {', '.join(missing)} (codings/<coder>.csv): "
                         "agreement needs every named coder's codings.")
    report = agreement(study.ws, coders, ci=study.ci, resamples=study.resamples, seed=study.seed)
    study.cache["agreement"] = report
    rows = []
    for rec in report.table.to_dict("records"):
        alpha = _stat(rec, "alpha")
        rows.append({"code": rec["code"], "name": rec.get("code_name") or "", "n_units": int(rec["n_units"]),
                     "n_coded": int(rec.get("n_coded") or 0), "prevalence": rec.get("prevalence"),
                     "agreement": _stat(rec, "percent_agreement"), "kappa": _stat(rec, "kappa"), "alpha": alpha,
                     "ac1": _stat(rec, "ac1"), "flags": [f for f in str(rec.get("flags") or "").split(", ") if f],
                     "notes": rec.get("notes") or "",
                     "whisker": ci_whisker(alpha["value"], alpha["low"], alpha["high"],
                                           label=f"{rec['code']}: alpha " + _fmt_stat(alpha))})
    pooled_rec = report.overall.to_dict("records")[0] if len(report.overall) else {}
    pooled = None
    if pooled_rec:
        alpha = _stat(pooled_rec, "alpha")
        pooled = {"n_units": int(pooled_rec["n_units"]), "n_coded": int(pooled_rec.get("n_coded") or 0),
                  "prevalence": pooled_rec.get("prevalence"), "agreement": _stat(pooled_rec, "percent_agreement"),
                  "kappa": _stat(pooled_rec, "kappa"), "alpha": alpha, "ac1": _stat(pooled_rec, "ac1"),
                  "name": pooled_rec.get("code_name") or "",
                  "whisker": ci_whisker(alpha["value"], alpha["low"], alpha["high"], label="pooled alpha " + _fmt_stat(alpha))}
    flagged = sum(1 for r in rows if r["flags"])
    same_n = len({r["n_units"] for r in rows}) <= 1
    s.data = {"summary": report.summary(), "left_out_text": report.left_out_text(), "rows": rows, "pooled": pooled,
              "set_alpha": report.set_alpha_text(), "ci_text": report.ci_text() if report.ci else "",
              "definitions": report.definitions, "transcripts": report.transcripts,
              "left_out": [{"transcript": t, "not_coded_by": ", ".join(cs)} for t, cs in report.left_out.items()],
              "kappa_name": "Cohen's κ" if len(report.coders) == 2 else "Fleiss' κ", "coders": report.coders,
              "unit": report.unit, "unit_label": report.unit_label, "n_units": report.n_units, "flagged": flagged,
              "show_n": not same_n, "n_per_code": rows[0]["n_units"] if rows and same_n else None,
              "explained": [(r["code"], r["notes"]) for r in rows
                            if "undefined" in r["flags"] or "kappa paradox" in r["flags"]]}
    if not rows:
        s.notes.append("No code was applied in the transcripts both coders coded.")
    return s


def _fmt_stat(stat: dict) -> str:
    if stat["value"] is None:
        return "undefined"
    out = f"{stat['value']:.2f}"
    if stat["low"] is not None:
        out += f" [{stat['low']:.2f}, {stat['high']:.2f}]"
    return out


# ============================================================================ code heatmap by role

def _code_tree(study: Study) -> dict[str, int]:
    """Code id -> depth (0 for a top-level code)."""
    depth = {}
    for book in study.codebooks():
        for code in book.codes:
            depth.setdefault(code.id, len(book.path_of(code)) - 1)
    return depth


def heatmap_section(study: Study) -> Section:
    """Codes × participant roles: share of each role's participants who said something with the code."""
    from qualkit.render.svg_charts import heatmap

    s = Section("heatmap", "Codes by participant role")
    counts = _matrix(study, "codes", by="role", cells="count")
    if counts.parameters.get("excerpts", 0) == 0:
        return s.missing("No codings yet: nothing to count.")
    people = _matrix(study, "codes", by="role", cells="participants")
    frame_c, frame_p = counts.frame, people.frame
    roles = [c for c in frame_c.columns if c not in ("code", "name", "total")]
    excerpts_set = _excerpts(study)
    everyone = list(dict.fromkeys(p for ps in excerpts_set.participants.values() for p in ps))
    size = {r: sum(1 for p in everyone if study.attr(p, "role") == r) for r in roles}
    depth = _code_tree(study)
    labels, indent, bold, values, text, tips, row_tips = [], [], [], [], [], [], []
    for rec_c, rec_p in zip(frame_c.to_dict("records"), frame_p.to_dict("records")):
        code, name = rec_c["code"], rec_c["name"] or rec_c["code"]
        d = depth.get(code, 0)
        labels.append(name)
        indent.append(min(d, 3))
        bold.append(d == 0)
        row_tips.append(f"{name} ({code})")
        vals, txt, tip = [], [], []
        for role in [*roles, "total"]:
            n_people = int(rec_p[role] or 0)
            n_exc = int(rec_c[role] or 0)
            denominator = size.get(role, 0) if role != "total" else len(everyone)
            share = n_people / denominator if denominator else None
            vals.append(share)
            txt.append(str(n_people))
            who = "all participants" if role == "total" else f"{role} participants"
            tip.append(f"{name} — {n_people} of {denominator} {who}"
                       + (f" ({share:.0%})" if share is not None else "") + f"; {n_exc} coded excerpt{'s' if n_exc != 1 else ''}")
        values.append(vals)
        text.append(txt)
        tips.append(tip)
    col_labels = [*roles, "All roles"]
    sub = [f"n = {size.get(r, 0)}" for r in roles] + [f"n = {len(everyone)}"]
    svg = heatmap(labels, col_labels, values, text=text, tooltips=tips, row_indent=indent, row_bold=bold,
                  row_tooltips=row_tips, col_sublabels=sub, vmax=1.0, total_col=True,
                  title="Codes by participant role",
                  desc="Number of participants in each role who said something coded with each code; cells shaded by "
                       "that number as a share of the role's participants.",
                  legend_label="Share of the role's participants", legend_fmt=lambda v: f"{v:.0%}", min_cell_w=76)
    s.data = {"svg": svg, "roles": roles, "sizes": size, "source": counts.parameters.get("codings", "")}
    s.notes.append(f"Cells: participants in the role who said something coded with the code (a passage touching "
                   f"several participants counts for each); shade: that number ÷ the role's participants in the coded "
                   f"transcripts (n under each role). Research-team turns left out. "
                   f"{_excerpts(study).source_text()}.")
    if "role" not in study.table.attribute_columns:
        s.notes.append("participants.csv has no role column: every participant is '(not set)'.")
    return s


def _excerpts(study: Study):
    from qualkit.analysis.matrices import load_excerpts

    if "excerpts" not in study.cache:
        study.cache["excerpts"] = load_excerpts(study.ws)
    return study.cache["excerpts"]


# ============================================================================ themes

def _split_lines(value) -> list[str]:
    return [x for x in str(value or "").split("\n") if x.strip()]


def themes_section(study: Study) -> Section:
    """Themes × framework domains (counts; long form with quotes) and the results table."""
    from qualkit.analysis.themes import load_themes, themes_path
    from qualkit.render.svg_charts import heatmap

    s = Section("themes", "Themes and framework domains")
    path = themes_path(study.ws)
    if not path.is_file():
        return s.missing("No themes.yaml yet: group codes into themes and map them onto framework domains "
                         "(`qualkit themes`).")
    if not len(load_themes(path)):
        return s.missing("themes.yaml has no themes yet (`qualkit themes`).")
    counts = _matrix(study, "themes", cells="count")
    people = _matrix(study, "themes", cells="participants")
    quotes = _matrix(study, "themes", cells="quotes", quotes=1)
    s.warnings += [w for w in counts.warnings if not w.startswith("codings/consensus.csv does not exist")]
    s.notes += counts.notes[1:]
    fixed = ("theme", "name", "valence", "all domains")
    domains = [c for c in counts.frame.columns if c not in fixed]
    fw = counts.title.replace("Themes and ", "").replace(" domains", "") or "framework"
    c_rows = counts.frame.to_dict("records")
    p_rows = people.frame.to_dict("records")
    q_rows = quotes.frame.to_dict("records")
    values, text, tips, labels, long_rows = [], [], [], [], []
    for rc, rp, rq in zip(c_rows, p_rows, q_rows):
        labels.append(rc["name"])
        vals, txt, tip = [], [], []
        cells = []
        for d in domains:
            n, p = int(rc[d] or 0), int(rp[d] or 0)
            vals.append(n if n else None)
            txt.append(str(n) if n else "")
            tip.append(f"{rc['name']} — {d}: {n} excerpt{'s' if n != 1 else ''}, {p} participant{'s' if p != 1 else ''}"
                       if n else f"{rc['name']} — {d}: not mapped")
            if n or rq[d]:
                cells.append({"domain": d, "excerpts": n, "participants": p, "quotes": _split_lines(rq[d])})
        values.append(vals)
        text.append(txt)
        tips.append(tip)
        long_rows.append({"theme": rc["theme"], "name": rc["name"], "valence": rc["valence"], "cells": cells,
                          "total": int(rc["all domains"] or 0)})
    svg = None
    if domains and labels:
        svg = heatmap([f"{r['name']}" for r in long_rows], domains, values, text=text, tooltips=tips,
                      row_tooltips=[f"{r['name']} ({r['valence'] or 'valence not set'})" for r in long_rows],
                      title=f"Themes × {fw} domains",
                      desc="Coded excerpts of each theme under each framework domain it maps onto; empty: not mapped.",
                      legend_label="Coded excerpts", legend_fmt=lambda v: f"{v:g}", rotate=True, min_cell_w=44,
                      max_label_chars=52)
    sections = []
    for t in counts.tables[1:]:
        cols = list(t.frame.columns)
        rows = [{"theme": r[cols[0]], "domains": _split_lines(r[cols[1]]), "description": r[cols[2]],
                 "quotes": _split_lines(r[cols[3]])} for r in t.frame.to_dict("records")]
        sections.append({"title": t.title.split(":")[0], "name": t.name, "headers": cols, "rows": rows})
    valences = [r["valence"] for r in long_rows]
    s.data = {"svg": svg, "domains": domains, "long": long_rows, "results": sections, "framework": fw,
              "n_themes": len(long_rows), "n_facilitator": valences.count("facilitator"),
              "n_barrier": valences.count("barrier"), "n_mixed": valences.count("mixed"),
              "quote_rule": counts.parameters.get("quote_rule", ""), "source": _excerpts(study).source_text() + "."}
    if counts.parameters.get("excerpts", 0) == 0:
        s.notes.insert(0, "No codings yet: the themes have no excerpts and no quotes.")
    return s


# ============================================================================ co-occurrence

def cooccurrence_section(study: Study) -> Section:
    """The strongest code pairs and a compact heatmap of the c coefficient."""
    from qualkit.render.svg_charts import heatmap

    s = Section("cooccurrence", "Code co-occurrence")
    result = _matrix(study, "cooccurrence", cells="pairs")
    pairs = result.frame
    if result.parameters.get("excerpts", 0) == 0:
        return s.missing("No codings yet: nothing co-occurs.")
    if not len(pairs):
        return s.missing("No two codes were applied to the same unit.")
    index = study.code_index()
    names = {c: index[c][1].name if c in index else c for c in set(pairs["code_a"]) | set(pairs["code_b"])}
    top = [r for r in pairs.to_dict("records") if r["n_both"] >= 2][:TOP_PAIRS] or pairs.to_dict("records")[:TOP_PAIRS]
    counts = result.table("cooccurrence_counts").frame
    coef = result.table("cooccurrence_c").frame
    codes = list(counts["code"])
    labels = [index[c][1].name if c in index else c for c in codes]
    values, text, tips = [], [], []
    for i, a in enumerate(codes):
        vals, txt, tip = [], [], []
        for j, b in enumerate(codes):
            n = int(counts.iloc[i][b])
            c = float(coef.iloc[i][b])
            vals.append(c if n and i != j else (0.0 if i != j else None))
            txt.append(str(n) if n and i != j else "")
            tip.append(f"{labels[i]} × {labels[j]}: {n} unit{'s' if n != 1 else ''} with both, c = {c:.2f}")
        values.append(vals)
        text.append(txt)
        tips.append(tip)
    off = [v for i, row in enumerate(values) for j, v in enumerate(row) if j < i and v]
    # lower triangle without the diagonal: rows from the second code, columns up to the last but one
    values = [row[:-1] for row in values[1:]]
    text = [row[:-1] for row in text[1:]]
    tips = [row[:-1] for row in tips[1:]]
    svg = heatmap(labels[1:], labels[:-1], values, text=text, tooltips=tips, vmax=max(off) if off else 1.0, rotate=True,
                  lower_triangle=True, min_cell_w=22, cell_h=20, max_label_chars=40,
                  title="Code co-occurrence (c coefficient)",
                  desc="Lower triangle: units coded with both codes (number) shaded by c = n12 / (n1 + n2 − n12).",
                  legend_label="c coefficient", legend_fmt=lambda v: f"{v:.2f}")
    s.data = {"top": [{**r, "name_a": names.get(r["code_a"], r["code_a"]), "name_b": names.get(r["code_b"], r["code_b"])}
                      for r in top], "svg": svg, "n_pairs": len(pairs), "n_codes": len(codes)}
    s.notes += result.notes
    return s


# ============================================================================ saturation

def saturation_section(study: Study) -> Section:
    """Cumulative distinct codes per transcript (line), new codes (bars), Guest et al.'s point marked."""
    from qualkit.render.svg_charts import bar_line_chart

    s = Section("saturation", "Code saturation")
    result = _matrix(study, "saturation")
    frame = result.frame
    if result.parameters.get("excerpts", 0) == 0 or not len(frame):
        return s.missing("No codings yet: saturation needs coded transcripts.")
    summary = result.saturation
    s.warnings += [w for w in result.warnings if not w.startswith("codings/consensus.csv does not exist")]
    labels = [str(x) for x in frame["transcript"]]
    bars = [int(x) for x in frame["new"]]
    line = [int(x) for x in frame["cumulative"]]
    marker = shade = None
    if summary.reached and summary.at is not None:
        marker = (summary.at, f"saturation at {summary.label}")
        shade = (summary.at + 1, summary.at + summary.run)
    svg = bar_line_chart(labels, bars, line, bar_label="new codes", line_label="cumulative distinct codes",
                         y_label="codes", marker=marker, shade=shade, shade_label="run" if shade else "",
                         title="Code saturation",
                         desc=f"New codes per transcript (bars) and cumulative distinct codes (line) in interview order. "
                              f"{summary.statement}")
    rows = []
    for rec in frame.to_dict("records"):
        rows.append({"position": rec["position"], "transcript": rec["transcript"], "date": rec.get("date", ""),
                     "codes": rec["codes"], "new": rec["new"], "new_codes": rec["new_codes"],
                     "cumulative": rec["cumulative"], "run": rec["run"] or "",
                     "new_info": None if _bad(rec["new_info"]) else float(rec["new_info"]),
                     "saturated": None if _bad(rec["saturated"]) else bool(rec["saturated"])})
    # One verdict for the card, COREQ and the section: too few transcripts is "not assessable",
    # which is not the same finding as "not reached".
    if summary.n < summary.base + summary.run:
        verdict = "not assessable"
    else:
        verdict = f"reached at {summary.label}" if summary.reached else "not reached"
    s.data = {"svg": svg, "rows": rows, "statement": summary.statement, "reached": summary.reached, "verdict": verdict,
              "label": summary.label, "base": summary.base, "run": summary.run, "threshold": summary.threshold,
              "has_date": "date" in frame.columns}
    s.notes += result.notes[1:]
    return s


# ============================================================================ COREQ

def coreq_section(study: Study, sections: dict[str, Section]) -> Section:
    """Figures a COREQ checklist asks for, from the other sections and the coders' files."""
    s = Section("coreq", "COREQ-relevant figures")
    if not study.transcripts:
        return s.missing("No transcripts yet.")
    table = study.table
    ids = [t.id for t in study.transcripts]
    coders = study.coders
    double = [t for t in ids if coders and len(coders) >= 2 and all(
        any(c.transcript == t for c in study.coder_files.get(coder, [])) for coder in coders)]

    def participant_turns(t) -> int:
        return sum(1 for turn in t.turns if not table.is_facilitator(turn.participant))

    all_turns = sum(participant_turns(t) for t in study.transcripts)
    double_turns = sum(participant_turns(t) for t in study.transcripts if t.id in double)
    ov = sections.get("overview")
    rows: list[dict] = []

    def add(item: str, figure: str, value: str, detail: str = "") -> None:
        rows.append({"item": item, "figure": figure, "value": value, "detail": detail})

    if ov is not None and ov.ok:
        d = ov.data
        add("12 Sample size", "Participants (research team left out)", str(d["participants"]),
            f"in {_plural(d['n_transcripts'], 'transcript')}")
        add("12 Sample size", "Interviews / focus groups", f"{d['n_interviews']} / {d['n_focus_groups']}",
            (f"{d['n_unknown']} with no identified participant" if d["n_unknown"] else "")
            + "focus group: two or more participants in the transcript")
        for role in d["roles"]:
            add("16 Description of sample", f"Participants: {role['role']}", str(role["total"]),
                ", ".join(f"{site}: {n}" for site, n in zip(d["sites"], role["cells"]) if n))
    add("24 Number of data coders", "Coders", str(len(coders)), ", ".join(coders) or "none named in qualkit.yaml")
    if len(coders) >= 2:
        share_t = len(double) / len(ids) if ids else 0
        share_u = double_turns / all_turns if all_turns else 0
        add("24 Number of data coders", "Double-coded transcripts", f"{len(double)} of {len(ids)} ({share_t:.0%})",
            "coded by every named coder")
        add("24 Number of data coders", "Double-coded participant turns", f"{double_turns} of {all_turns} ({share_u:.0%})",
            "turns of the double-coded transcripts, research team left out")
    ag = sections.get("agreement")
    if ag is not None and ag.ok and ag.data.get("pooled"):
        p = ag.data["pooled"]
        add("24 Number of data coders", "Agreement, pooled Krippendorff's α", _fmt_stat(p["alpha"]),
            f"{ag.data['kappa_name']} {_fmt_stat(p['kappa'])}; AC1 {_fmt_stat(p['ac1'])}; "
            f"{ag.data['n_units']} {ag.data['unit_label']}")
    consensus = _consensus_status(study)
    if consensus:
        add("24 Number of data coders", "Consensus status", consensus[0], consensus[1])
    cb = sections.get("codebook")
    if cb is not None and cb.ok:
        books = cb.data["books"]
        add("25 Description of the coding tree", "Codes", str(cb.data["n_codes"]),
            "; ".join(f"{b['name']}: {b['codes']} codes, {b['levels']} level{'s' if b['levels'] != 1 else ''}" for b in books))
        add("26 Derivation of themes", "Code origin (deductive / inductive)",
            f"{sum(b['deductive'] for b in books)} / {sum(b['inductive'] for b in books)}",
            f"{cb.data['n_used']} codes applied")
    th = sections.get("themes")
    if th is not None and th.ok:
        add("26 Derivation of themes", "Themes (facilitators / barriers / mixed)",
            f"{th.data['n_themes']} ({th.data['n_facilitator']} / {th.data['n_barrier']} / {th.data['n_mixed']})",
            f"mapped onto {th.data['framework']}")
    sat = sections.get("saturation")
    if sat is not None and sat.ok:
        add("22 Data saturation", "Code saturation (Guest et al. 2020)",
            sat.data["verdict"], sat.data["statement"])
    from qualkit import __version__

    add("27 Software", "Software", f"qualkit {__version__}", "this report")
    rows.sort(key=lambda r: int(r["item"].split()[0]))  # stable: figures of one item keep their order
    s.data = {"rows": rows}
    s.notes.append("Items of Tong, Sainsbury & Craig (2007) that project data can support; the rest of the "
                   "checklist (team, reflexivity, setting, participant checking) needs the team's own account.")
    return s


def _consensus_status(study: Study) -> tuple[str, str] | None:
    """(value, detail) for the consensus row, from a dry run of reconcile (writes nothing)."""
    if len(study.coders) != 2:
        return ("not applicable", "reconciliation compares exactly two coders") if len(study.coders) > 2 else None
    if any(c not in study.coder_files for c in study.coders):
        return None
    from qualkit.analysis.reconcile import reconcile

    try:
        st = reconcile(study.ws, study.coders, dry_run=True)
    except QualkitError as exc:
        return ("unknown", _describe(exc, study.ws.root))
    if not st.disagreements and not st.agreed:
        return ("not started", "the coders share no coded transcript yet")
    exists = study.ws.coder_file(st.into).is_file()
    detail = (f"{st.agreed} agreed (unit, code) pairs; {st.decided} of {st.disagreements} disagreements decided; "
              + (f"codings/{st.into}.csv holds {st.codings} codings" if exists else f"codings/{st.into}.csv not written yet")
              + ("" if not st.written or not exists else " (out of date: run `qualkit reconcile`)"))
    value = "complete" if not st.undecided else f"{len(st.undecided)} of {st.disagreements} disagreements undecided"
    return value, detail


# ============================================================================ the page

def _inputs(study: Study) -> list[Path]:
    ws = study.ws
    files = [ws.config.path, ws.root / "participants.csv", *[t.path for t in study.transcripts if t.path]]
    if ws.codebooks_dir.is_dir():
        files += sorted([*ws.codebooks_dir.glob("*.yaml"), *ws.codebooks_dir.glob("*.yml")])
    files += [ws.coder_file(c) for c in study.coder_files]
    if study.consensus is not None:
        files.append(ws.coder_file("consensus"))
    files.append(ws.root / "themes.yaml")
    if (ws.root / "frameworks").is_dir():
        files += sorted((ws.root / "frameworks").glob("*.y*ml"))
    return [Path(p) for p in dict.fromkeys(files) if p and Path(p).is_file()]


def _glance(sections: dict[str, Section], study: Study) -> list[dict]:
    cards = []
    ov = sections["overview"]
    if ov.ok:
        d = ov.data
        cards.append({"label": "Transcripts", "value": str(d["n_transcripts"]),
                      "hint": f"{_plural(d['n_interviews'], 'interview')}, {_plural(d['n_focus_groups'], 'focus group')}"})
        cards.append({"label": "Participants", "value": str(d["participants"]),
                      "hint": _plural(len(d["roles"]), "role") + (f", {_plural(len(d['sites']), 'site')}" if d["sites"] else "")})
        cards.append({"label": "Words", "value": f"{d['words']:,}", "hint": f"{d['turns']:,} turns"})
    cards.append({"label": "Coders", "value": str(len(study.coders)), "hint": ", ".join(study.coders) or "none named"})
    ag = sections["agreement"]
    if ag.ok and ag.data.get("pooled"):
        a = ag.data["pooled"]["alpha"]
        cards.append({"label": "Pooled alpha", "value": "—" if a["value"] is None else f"{a['value']:.2f}",
                      "hint": f"95% CI {a['low']:.2f}–{a['high']:.2f}" if a["low"] is not None else
                      f"{len(ag.data['transcripts'])} shared transcripts"})
    th = sections["themes"]
    if th.ok:
        cards.append({"label": "Themes", "value": str(th.data["n_themes"]),
                      "hint": f"{th.data['n_facilitator']} facilitators, {th.data['n_barrier']} barriers, "
                              f"{th.data['n_mixed']} mixed"})
    sat = sections["saturation"]
    if sat.ok:
        cards.append({"label": "Saturation", "value": sat.data["label"] if sat.data["reached"] else sat.data["verdict"],
                      "hint": f"base {sat.data['base']}, run {sat.data['run']}, ≤ {sat.data['threshold']:.0%} new"})
    return cards


SECTION_BUILDERS: list[tuple[str, str, Callable[[Study], Section]]] = [
    ("overview", "Study overview", overview_section),
    ("codebook", "Codebook", codebook_section),
    ("agreement", "Inter-coder agreement", agreement_section),
    ("heatmap", "Codes by participant role", heatmap_section),
    ("themes", "Themes and framework domains", themes_section),
    ("cooccurrence", "Code co-occurrence", cooccurrence_section),
    ("saturation", "Code saturation", saturation_section),
]


def report_context(workspace, coders=None, ci: bool = True, *, resamples: int = 1000, seed: int = 1,
                   now: datetime | None = None, manifest_name: str = REPORT_NAME + ".manifest.json") -> dict[str, Any]:
    """Everything the template needs (plain data and pre-rendered, escaped SVG)."""
    from qualkit import __version__
    from qualkit.workspace.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    with _codebooks_read_once(ws):
        study = load_study(ws, coders, ci, resamples, seed)
        sections: dict[str, Section] = {}
        for sid, title, build in SECTION_BUILDERS:
            sections[sid] = _guard(study, sid, title, build)
        sections["coreq"] = _guard(study, "coreq", "COREQ-relevant figures", lambda st: coreq_section(st, sections))
    source = _excerpts_source(study)
    inputs = _inputs(study)
    rel = []
    for p in inputs:
        try:
            shown = str(p.resolve().relative_to(study.ws.root.resolve()))
        except ValueError:
            shown = str(p)
        rel.append({"path": shown, "sha256": _sha256(p)})
    fingerprint = hashlib.sha256("".join(f"{r['path']}\0{r['sha256']}\n" for r in rel).encode()).hexdigest()
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    agreement_report = study.cache.get("agreement")
    parameters = {"coders": study.coders, "ci": ci, "resamples": resamples if ci else None, "seed": seed if ci else None,
                  "agreement_unit": agreement_report.unit if agreement_report is not None else None,
                  "codings": source, "facilitator_roles": list(study.ws.config.facilitator_roles),
                  "framework": study.ws.config.framework}
    order = ["overview", "codebook", "agreement", "heatmap", "themes", "cooccurrence", "saturation", "coreq"]
    return {
        "project": study.ws.config.project, "version": __version__,
        "generated": stamp.strftime("%Y-%m-%d %H:%M UTC"), "generated_iso": stamp.isoformat(timespec="seconds"),
        "codings_source": source, "pooled": source.startswith("pooled"),
        "glance": _glance(sections, study), "sections": [sections[k] for k in order],
        "s": sections, "inputs": rel, "fingerprint": fingerprint, "parameters": parameters,
        "parameter_rows": [(k.replace("_", " "), _param_text(v)) for k, v in parameters.items() if v is not None],
        "manifest_name": manifest_name, "_inputs": inputs,
    }


@contextmanager
def _codebooks_read_once(ws):
    """While the report is built, ``ws.codebooks()`` reads codebooks/ once: every section sees the
    same snapshot, and the matrices and agreement do not re-parse the YAML a dozen times."""
    if "codebooks" in vars(ws):  # already wrapped (nested call): leave it
        yield
        return
    books: list = []
    loaded = False
    read = type(ws).codebooks

    def codebooks():
        nonlocal books, loaded
        if not loaded:
            books, loaded = read(ws), True
        return books

    ws.codebooks = codebooks
    try:
        yield
    finally:
        del ws.codebooks


def _param_text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v) or "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _excerpts_source(study: Study) -> str:
    try:
        ex = _excerpts(study)
    except QualkitError as exc:
        return f"unreadable ({_describe(exc, study.ws.root)})"
    if not ex.excerpts and not ex.codings:
        return "none yet"
    return ("consensus codings (codings/consensus.csv)" if ex.source.label == "consensus" else
            f"{ex.source.label} (no consensus file yet)" if ex.source.pooled else ex.source.label)


def _sha256(path: Path) -> str:
    from qualkit.io.manifest import sha256_file

    return sha256_file(path)


def _env():
    import re

    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup, escape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, keep_trailing_newline=True)

    def num(v, digits: int = 2) -> str:
        if _bad(v):
            return "—"
        s = f"{float(v):.{digits}f}"
        return s[1:] if s.startswith("-") and not s.strip("-0.") else s

    def pct(v, digits: int = 0) -> str:
        return "—" if _bad(v) else f"{float(v):.{digits}%}"

    def thousands(v) -> str:
        return "—" if _bad(v) else f"{int(v):,}"

    def code_spans(text) -> Markup:
        """Plain text with `backticks` (commands in notes) shown as <code>; escaped first."""
        escaped = str(escape("" if text is None else text))
        return Markup(re.sub(r"`([^`\n]+)`", r"<code>\1</code>", escaped))

    env.filters.update(num=num, pct=pct, thousands=thousands, code_spans=code_spans)
    return env


def render_report(context: dict[str, Any]) -> str:
    """The HTML page for a :func:`report_context`."""
    return _env().get_template(TEMPLATE).render(**context)


def build_report(workspace, out: str | Path | None = None, coders=None, ci: bool = True, *, resamples: int = 1000,
                 seed: int = 1) -> Path:
    """Write the report (default ``exports/report.html``) atomically with its manifest; return its path."""
    from qualkit.io.atomic import atomic_write_text
    from qualkit.io.manifest import build_manifest, write_manifest
    from qualkit.workspace.store import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = Path(out) if out is not None else ws.root / "exports" / REPORT_NAME
    if path.is_dir():
        raise QualkitError("is a folder; give a file name for the report (e.g. report.html)", path)
    context = report_context(ws, coders, ci, resamples=resamples, seed=seed,
                             manifest_name=path.name + ".manifest.json")
    text = render_report(context)  # render before writing: a template error writes nothing
    atomic_write_text(path, text)
    params = {"command": "report", **context["parameters"],
              "sections": {s.id: ("ok" if s.ok else "missing input") for s in context["sections"]}}
    write_manifest(Path(f"{path}.manifest.json"), build_manifest(ws.root, context["_inputs"], [path], params))
    return path
