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
  HEIF papers (:mod:`qualkit.analysis.matrices`, kind ``themes``), themes by health-equity domain,
  and themes × site when the study has sites (participants.csv, documents.csv or cases.csv);
* :func:`cooccurrence_section`: the strongest code pairs and a compact c-coefficient heatmap;
* :func:`saturation_section`: new codes per transcript (bars) and cumulative distinct codes (line)
  in interview order, with Guest, Namey & Chen's (2020) saturation point marked;
* :func:`rapid_section`: the analysts' summary bullets by health-equity domain (HEIF 2021), one row
  per transcript grouped by site, when there are summaries and the framework marks equity domains;
* :func:`coreq_section`: figures a COREQ checklist asks for (items 12, 16, 17, 21, 22, 24-27), and the
  SRQR standards the project supports (:mod:`qualkit.reporting.checklists`);
* a footer with qualkit's version, the date, the parameters and the inputs' sha256.

Charts are hand-made SVG (:mod:`qualkit.render.svg_charts`), not matplotlib: small, crisp at any zoom
and in print, styled by the page, accessible, and no heavy dependency (see that module).

Codings for the matrices, heatmaps and saturation follow :mod:`qualkit.analysis.matrices`: the consensus
file when there is one, else the configured coders pooled (the page says so at the top).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import QualkitError
from qualkit.io.naming import plural_s
from qualkit.reporting.sections import (
    _excerpts,
    _fmt_stat,
    agreement_section,
    codebook_section,
    cooccurrence_section,
    heatmap_section,
    overview_section,
    rapid_section,
    release_agreement_units,
    saturation_section,
    themes_section,
)
from qualkit.reporting.study import Section, Study, _bad, _describe, _guard, _plural, load_study

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["REPORT_NAME", "Section", "Study", "load_study", "overview_section", "codebook_section",
           "agreement_section", "heatmap_section", "themes_section", "cooccurrence_section", "saturation_section",
           "rapid_section", "coreq_section", "report_context", "render_report", "build_report"]

REPORT_NAME = "report.html"
TEMPLATE = "report.html.j2"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


# ============================================================================ COREQ

def coreq_section(study: Study, sections: dict[str, Section]) -> Section:
    """Figures a COREQ checklist asks for, from the other sections and the coders' files."""
    s = Section("coreq", "COREQ-relevant figures")
    if not study.transcripts:
        return s.missing("No transcripts yet.")
    ids = [t.id for t in study.transcripts]
    coders = study.coders
    double = [t for t in ids if coders and len(coders) >= 2 and all(t in study.transcripts_of(coder) for coder in coders)]

    all_turns = sum(study.participant_turns(t) for t in study.transcripts)  # counted as ingest read them
    double_set = set(double)
    double_turns = sum(study.participant_turns(t) for t in study.transcripts if t.id in double_set)
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
    from qualkit.reporting.checklists import coreq_rows, srqr_rows
    from qualkit.reporting.sections import _used_codes

    rows += coreq_rows(study, _used_codes(study))
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
    s.data = {"rows": rows, "srqr": srqr_rows(study, sections, rows)}
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
    detail = (f"{st.agreed} agreed (unit, code) pairs; {st.decided} of {st.disagreements} disagreement{plural_s(st.disagreements)} decided; "
              + (f"codings/{st.into}.csv holds {st.codings} coding{plural_s(st.codings)}" if exists else f"codings/{st.into}.csv not written yet")
              + ("" if not st.written or not exists else " (out of date: run `qualkit reconcile`)"))
    value = "complete" if not st.undecided else f"{len(st.undecided)} of {st.disagreements} disagreement{plural_s(st.disagreements)} undecided"
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
    files += [ws.root / "documents.csv", ws.root / "cases.csv"]  # the cut by site reads them
    if study.cache.get("rapid_inputs"):
        files += study.cache["rapid_inputs"]
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
        cards.append({"label": "Words", "value": f"{d['words']:,}", "hint": f"{d['turns']:,} turn{plural_s(d['turns'])}"})
    cards.append({"label": "Coders", "value": str(len(study.coders)), "hint": ", ".join(study.coders) or "none named"})
    ag = sections["agreement"]
    if ag.ok and ag.data.get("pooled"):
        a = ag.data["pooled"]["alpha"]
        cards.append({"label": "Pooled alpha", "value": "—" if a["value"] is None else f"{a['value']:.2f}",
                      "hint": f"95% CI {a['low']:.2f}–{a['high']:.2f}" if a["low"] is not None else
                      f"{len(ag.data['transcripts'])} shared transcript{plural_s(len(ag.data['transcripts']))}"})
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
    ("rapid", "Rapid analysis by health-equity domain", rapid_section),
]


def report_context(ws: Workspace, coders: Iterable[str] | str | None = None, ci: bool = True, *, resamples: int = 1000, seed: int = 1,
                   now: datetime | None = None, manifest_name: str = REPORT_NAME + ".manifest.json") -> dict[str, Any]:
    """Everything the template needs (plain data and pre-rendered, escaped SVG)."""
    from qualkit import __version__
    from qualkit.io.collector import gc_paused

    with gc_paused(), _codebooks_read_once(ws):
        study = load_study(ws, coders, ci, resamples, seed)
        sections: dict[str, Section] = {}
        from qualkit.io.progress import track

        for sid, title, build in track(SECTION_BUILDERS, "Building the report"):
            sections[sid] = _guard(study, sid, title, build)
        sections["coreq"] = _guard(study, "coreq", "COREQ-relevant figures", lambda st: coreq_section(st, sections))
        if study.cache.get("agreement") is not None:
            release_agreement_units(study, study.cache["agreement"])
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
    order = ["overview", "codebook", "agreement", "heatmap", "themes", "cooccurrence", "saturation", "rapid", "coreq"]
    return {
        "project": study.ws.config.project, "version": __version__,
        "generated": stamp.strftime("%Y-%m-%d %H:%M UTC"), "generated_iso": stamp.isoformat(timespec="seconds"),
        "codings_source": source, "pooled": source.startswith("pooled"),
        "glance": _glance(sections, study), "sections": [sections[k] for k in order],
        "s": sections, "inputs": rel, "fingerprint": fingerprint, "parameters": parameters,
        "parameter_rows": [(k.replace("_", " "), _param_text(v)) for k, v in parameters.items() if v is not None],
        "manifest_name": manifest_name, "_inputs": inputs, "memos": _memos(study),
    }


def _memos(study: Study) -> list[dict]:
    """The analytic memos and reflexive-journal entries (memos/*.md) for the audit trail; none if unreadable."""
    from qualkit.errors import QualkitError
    from qualkit.workspace.memos import list_memos

    try:
        memos = [m.as_dict() for m in list_memos(study.ws.root)]
    except QualkitError:
        return []
    clean = study.ws.export_text  # de-identified on the way out, as every other free text of the report
    for m in memos:
        m.update(title=clean(m["title"]), body=clean(m["body"]), links=[clean(link) for link in m["links"]],
                 path=clean(m["path"]))
    return memos


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

    from qualkit.reporting.template_cache import bytecode_cache

    options = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}
    # compiled once per user and template version, not once per report (~65 ms)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined,
                      bytecode_cache=bytecode_cache(salt=repr(sorted(options.items()))), **options)

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


def build_report(ws: Workspace, out: str | Path | None = None, coders: Iterable[str] | str | None = None, ci: bool = True, *, resamples: int = 1000,
                 seed: int = 1) -> Path:
    """Write the report (default ``exports/report.html``) atomically with its manifest; return its path."""
    from qualkit.io.manifest import build_manifest, write_manifest
    from qualkit.io.outputs import check_output, output_open

    path = Path(out) if out is not None else ws.root / "exports" / REPORT_NAME
    check_output(path, ws.root)
    from qualkit.io.collector import gc_paused

    with gc_paused(), ws.derived_cache.steady():  # the inputs' stamp taken once per state, not at each step
        context = report_context(ws, coders, ci, resamples=resamples, seed=seed,
                                 manifest_name=path.name + ".manifest.json")
        # Written as the template renders it, the bytes of render_report: the page whole as one string (and
        # its pieces) was the report's peak at 5,000 transcripts. The file is atomic: a template error
        # writes nothing.
        with output_open(path, "w", encoding="utf-8", newline="", root=ws.root) as f:
            f.writelines(_env().get_template(TEMPLATE).generate(**context))
    params = {"command": "report", **context["parameters"],
              "sections": {s.id: ("ok" if s.ok else "missing input") for s in context["sections"]}}
    write_manifest(Path(f"{path}.manifest.json"), build_manifest(ws.root, context["_inputs"], [path], params))
    return path
