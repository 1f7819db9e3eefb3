"""The report's sections built from a :class:`~qualkit.reporting.study.Study` (overview, codebook,
agreement, heatmap, themes, co-occurrence, saturation); each degrades to a note when its input is missing."""
from __future__ import annotations

from typing import Any

from qualkit.io.naming import plural_s
from qualkit.reporting.study import NOT_SET, TOP_PAIRS, Section, Study, _bad, _matrix

__all__ = ["agreement_section", "codebook_section", "cooccurrence_section", "heatmap_section", "overview_section",
           "rapid_section", "saturation_section", "themes_section"]


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
    return (None, None) if low is None or high is None or _bad(low) or _bad(high) else (float(low), float(high))


def _stat(rec: dict, name: str) -> dict:
    v = rec.get(name)
    low, high = _ci(rec, name)
    return {"value": None if v is None or _bad(v) else float(v), "low": low, "high": high}


def _discussion_log(study: Study, s: Section) -> Section:
    """Reflexive thematic analysis: the consensus discussion (decisions and their rationale), no statistics."""
    from qualkit.analysis.audit import AuditLog

    s.title = "Consensus discussion (reflexive thematic analysis)"
    records = [r for r in AuditLog(study.ws.root).read() if r.get("action") == "decide"]
    s.missing("analysis.approach is reflexive: no inter-rater statistics (Braun & Clarke 2019, 2021: reflexive "
              "thematic analysis treats coders' different readings as material for discussion, not error). "
              f"Consensus discussion log (.qualkit/audit.log): {len(records)} decision{plural_s(len(records))}"
              + (f" by {', '.join(sorted({str(r.get('who')) for r in records}))}." if records else "."))
    for r in records[-30:]:
        d = r.get("disagreement") or {}
        s.notes.append(f"{d.get('transcript', '')} {d.get('code', '')}: {r.get('decision')}"
                       + (f" ({', '.join(r.get('result') or [])})" if r.get("result") else "")
                       + f" by {r.get('who')}, {str(r.get('when', ''))[:10]}: {r.get('rationale') or 'no rationale given'}")
    return s


def release_agreement_units(study: Study, report: Any) -> None:
    """The units the agreement was computed on are not read by the sections after it (the report is
    `run`'s last step): held to the end they added ~200 MB to the report's peak at 5,000 transcripts."""
    from qualkit.analysis.unit_codes import release_unit_codes

    unit = "turn" if report.unit in ("character", "overlap") else report.unit
    release_unit_codes(study.ws, list(report.coders), unit, report.include_facilitators)


def agreement_section(study: Study) -> Section:
    """Per-code agreement worst first, with bootstrap intervals, flags, pooled and set-valued figures."""
    from qualkit.analysis.agree import shared_agreement
    from qualkit.render.svg_charts import ci_whisker

    s = Section("agreement", "Inter-coder agreement")
    if study.ws.config.reflexive:
        return _discussion_log(study, s)
    coders = study.coders
    if len(coders) < 2:
        return s.missing("Agreement needs two or more coders: name them under `coders:` in qualkit.yaml or pass "
                         f"--coders A,B (coders' files now: {', '.join(study.coder_files) or 'none'}).")
    missing = [c for c in coders if c not in study.coder_files]
    if missing:
        return s.missing(f"No codings file yet for {', '.join(missing)} (codings/<coder>.csv): "
                         "agreement needs every named coder's codings.")
    # `run`'s agreement step computed the same report already (shared_agreement): it is not computed again
    if len(coders) == 2:  # the COREQ section's consensus dry run compares the same units: kept until then
        report = shared_agreement(study.ws, coders, ci=study.ci, resamples=study.resamples, seed=study.seed)
    else:  # no later section needs the units: not kept, and let go of inside as soon as they are tabulated
        with study.ws.derived_cache.passing("unit_codes"):
            report = shared_agreement(study.ws, coders, ci=study.ci, resamples=study.resamples, seed=study.seed)
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
    depth: dict[str, int] = {}
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
    equity = next((t for t in counts.tables if t.name == "themes_by_equity_domain"), None)
    for t in counts.tables[1:]:
        if t is equity:
            continue
        cols = list(t.frame.columns)
        rows = [{"theme": r[cols[0]], "domains": _split_lines(r[cols[1]]), "description": r[cols[2]],
                 "quotes": _split_lines(r[cols[3]])} for r in t.frame.to_dict("records")]
        sections.append({"title": t.title.split(":")[0], "name": t.name, "headers": cols, "rows": rows})
    valences = [r["valence"] for r in long_rows]
    s.data = {"svg": svg, "domains": domains, "long": long_rows, "results": sections, "framework": fw,
              "n_themes": len(long_rows), "n_facilitator": valences.count("facilitator"),
              "n_barrier": valences.count("barrier"), "n_mixed": valences.count("mixed"),
              "quote_rule": counts.parameters.get("quote_rule", ""), "source": _excerpts(study).source_text() + ".",
              "equity": _equity_rows(equity), "by_case": _by_case_rows(study)}
    if counts.parameters.get("excerpts", 0) == 0:
        s.notes.insert(0, "No codings yet: the themes have no excerpts and no quotes.")
    return s


def _equity_rows(table) -> dict | None:
    """Themes by health-equity domain (HEIF 2021): each theme's determinants under each equity domain."""
    if table is None:
        return None
    domains = [c for c in table.frame.columns if c not in ("theme", "name", "valence")]
    rows = [{"name": r["name"], "valence": r["valence"], "cells": [str(r[d] or "").split("\n")[0] for d in domains]}
            for r in table.frame.to_dict("records")]
    return {"title": table.title.split(" (")[0], "domains": domains, "rows": rows, "note": table.notes or ""}


def _case(study: Study) -> str | None:
    """The case attribute the study is cut by (site when there are sites), as `export all` cuts it."""
    if "case" not in study.cache:
        from qualkit.reporting.study_exports import study_case_attribute

        study.cache["case"] = study_case_attribute(study.ws)
    return study.cache["case"]


def _by_case_rows(study: Study) -> dict | None:
    """Themes × site (or the study's case attribute): excerpts and participants of each theme in each case."""
    case = _case(study)
    if case is None:
        return None
    counts = _matrix(study, "themes", cells="count", by=case)
    people = _matrix(study, "themes", cells="participants", by=case)
    table = counts.tables[0]
    cases = [c for c in table.frame.columns if c not in ("theme", "name", "valence", "total")]
    rows = []
    for rc, rp in zip(table.frame.to_dict("records"), people.tables[0].frame.to_dict("records")):
        cells = [(int(rc[c] or 0), int(rp[c] or 0)) for c in [*cases, "total"]]
        rows.append({"name": rc["name"], "valence": rc["valence"], "cells": cells})
    note = (f"{len(rows)} themes × {len(cases)} {case} cases; cells: coded excerpts / distinct participants; a passage "
            f"counts for the {case} of its participant, else of its document or section; {_excerpts(study).source_text()}.")
    return {"case": case, "cases": cases, "rows": rows, "note": note}


# ============================================================================ rapid analysis by equity domain

def rapid_section(study: Study) -> Section:
    """The analysts' summary bullets under HEIF 2021's health-equity domains (Woodward et al. 2021,
    Implement Sci Commun 2:61), one row per transcript grouped by site, as `export all` writes it."""
    from qualkit.reporting.study_exports import rapid_by_equity

    s = Section("rapid", "Rapid analysis by health-equity domain")
    case = _case(study)
    frame, why = rapid_by_equity(study.ws, case)
    if frame is None:
        return s.missing(f"Not built: {why}.")
    keys = [k for k in (case, "transcript", "session", "participants") if k]
    domains = [c for c in frame.columns if c not in keys]
    rows = [{"case": r[case] if case else "", "transcript": r["transcript"], "session": r["session"],
             "participants": r["participants"], "cells": [_split_lines(r[d]) for d in domains]}
            for r in frame.to_dict("records")]
    study.cache["rapid_inputs"] = sorted(p for p in (study.ws.root / "summaries").iterdir() if p.suffix in (".md", ".docx"))
    s.warnings += list(frame.attrs.get("warnings", []))
    s.notes.append(str(frame.attrs.get("notes", "")))
    s.notes.append("Transcripts whose templates have no bullets yet are left out (`qualkit summaries collect` lists "
                   "them); `qualkit export all` writes this table as rapid_matrix_by_equity_domain.")
    s.data = {"case": case, "domains": domains, "rows": rows}
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
    # the squares as plain rows: a pandas lookup per cell cost more than the rest of the section
    count_rows = counts[codes].to_numpy().tolist()
    coef_rows = coef[codes].to_numpy(dtype=float).tolist()
    for i, _a in enumerate(codes):
        vals, txt, tip = [], [], []
        for j, _b in enumerate(codes):
            n = int(count_rows[i][j])
            c = float(coef_rows[i][j])
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
    from qualkit.errors import MatrixError
    from qualkit.render.svg_charts import bar_line_chart

    s = Section("saturation", "Code saturation")
    try:
        result = _matrix(study, "saturation")
    except MatrixError as e:  # no interview dates: Guest et al. need the order the interviews were done in
        return s.missing(f"Not assessed: {e}.")
    frame = result.frame
    if result.parameters.get("excerpts", 0) == 0 or not len(frame):
        return s.missing("No codings yet: saturation needs coded transcripts.")
    summary = result.saturation
    if "kind" in frame.columns:  # interviews and focus groups assessed apart: the chart shows the first kind
        frame = frame[frame["kind"] == summary.kind]
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
    s.data = {"svg": svg, "rows": rows, "statement": result.saturation.statement, "reached": summary.reached, "verdict": verdict,
              "label": summary.label, "base": summary.base, "run": summary.run, "threshold": summary.threshold,
              "has_date": "date" in frame.columns}
    s.notes += result.notes[1:]
    return s
