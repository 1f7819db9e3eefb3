"""`qualkit report` without a browser: the page has every section, no external resource, well-formed
SVG charts, escapes what it shows, degrades section by section, and writes a manifest.

(tests/test_report_browser.py opens the same page in headless Chromium.)
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

import qualkit.cli
from qualkit.render.svg_charts import bar_line_chart, ci_whisker, contrast_ratio, heatmap, ramp_color, text_color
from qualkit.reporting.report import build_report, render_report, report_context
from qualkit.workspace.codebook import load_codebook, save_codebook
from qualkit.workspace.scaffold import demo, init

SECTIONS = ["overview", "codebook", "agreement", "heatmap", "themes", "cooccurrence", "saturation", "rapid", "coreq"]
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample study's report, built once for the module (CI on, fixed seed)."""
    root = demo(tmp_path_factory.mktemp("report") / "s")
    path = build_report(qualkit.Workspace(root))
    return root, path, path.read_text(encoding="utf-8")


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def _section(html: str, sid: str) -> str:
    start = html.index(f'<h2 id="{sid}"')
    end = html.find('<h2 id="', start + 10)
    return html[start:end if end > 0 else len(html)]


# --------------------------------------------------------------------------------- the sample

def test_sample_report_has_every_section_and_a_manifest(sample):
    root, path, html = sample
    assert path == root / "exports" / "report.html"
    assert html.startswith("<!DOCTYPE html>")
    for sid in SECTIONS:
        assert f'<h2 id="{sid}"' in html and f'href="#{sid}"' in html  # heading and table of contents
    assert 'id="provenance"' in html and "qualkit 0.1.0" in html
    for phrase in ("Study overview", "Participants by role and site", "PORT inductive codebook", "Unused codes",
                   "kappa paradox", "All codes (pooled)", "Set-valued Krippendorff", "Left out",
                   "Codes by participant role", "Matrix with illustrative quotes", "Results table", "Facilitators",
                   "Barriers", "Mixed", "Strongest pairs", "by interview: not assessable", "Double-coded participant turns",
                   "Consensus status", "report.html.manifest.json"):
        assert phrase in html, phrase
    manifest = json.loads((root / "exports" / "report.html.manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"] == ["exports/report.html"]
    assert manifest["parameters"]["command"] == "report"
    assert manifest["parameters"]["seed"] == 1 and manifest["parameters"]["resamples"] == 1000
    assert set(manifest["parameters"]["sections"].values()) == {"ok"}
    paths = {i["path"] for i in manifest["inputs"]}
    assert {"qualkit.yaml", "participants.csv", "themes.yaml", "codings/ana.csv", "codings/ben.csv",
            "transcripts/fg1_calder.docx", "codebooks/port_inductive.yaml"} <= paths
    assert all(re.fullmatch(r"[0-9a-f]{64}", i["sha256"]) for i in manifest["inputs"])


def test_sample_report_has_no_external_resource(sample):
    _, _, html = sample
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    refs = re.findall(r"""\b(?:src|href|xlink:href|action|srcset|poster)\s*=\s*["']?([^"'\s>]*)""", html)
    assert refs and all(r.startswith(("#", "data:")) for r in refs), refs  # only #anchors and data: URIs
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the browser enforces it too (Content-Security-Policy)


def test_sample_report_figures(sample):
    _, _, html = sample
    overview = _section(html, "overview")
    assert "21,565" in overview and "fg2_pinehollow" in overview and "focus group" in overview
    agreement = _section(html, "agreement")
    # worst first: partnership_information (alpha -0.01) before funding_sustainability (0.91)
    assert agreement.index("partnership_information") < agreement.index("funding_sustainability")
    assert "[0.70, 0.78]" in agreement  # pooled alpha's bootstrap interval
    coreq = _section(html, "coreq")
    assert "4 of 9 (44%)" in coreq and "214 of 367 (58%)" in coreq  # double-coded transcripts and turns (9: with the site-visit notes)
    assert "5 / 3" in coreq  # interviews / focus groups


def test_sample_report_svg_is_well_formed(sample):
    _, _, html = sample
    svgs = _svgs(html)
    assert len(svgs) >= 4
    kinds = set()
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed XML
        assert root.tag == "svg"
        kinds.update(root.get("class", "").split())
        w, h = float(root.get("width")), float(root.get("height"))
        assert w > 0 and h > 0 and root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
        assert root.get("role") == "img" and root.get("aria-label")
        assert root.find("title") is not None and root.find("title").text
        for el in root.iter():
            for attr in ("x", "y", "width", "height", "cx", "cy", "r", "x1", "x2", "y1", "y2"):
                v = el.get(attr)
                if v is not None:
                    assert re.fullmatch(r"-?\d+(\.\d)?", v), (el.tag, attr, v)
                    if attr in ("width", "height", "r"):
                        assert float(v) >= 0
        assert "nan" not in svg.lower().replace("nanny", "")
    assert {"heatmap", "barline", "whisker"} <= kinds


def test_report_is_deterministic_but_for_the_date(tmp_path):
    root = demo(tmp_path / "s")
    now = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    one = render_report(report_context(qualkit.Workspace(root), resamples=200, now=now))
    two = render_report(report_context(qualkit.Workspace(root), resamples=200, now=now))
    assert one == two


# --------------------------------------------------------------------------------- escaping

def test_everything_shown_is_escaped(tmp_path):
    root = demo(tmp_path / "s")
    book_path = root / "codebooks" / "port_inductive.yaml"
    book = load_codebook(book_path)
    book.get("stigma_staff").name = EVIL
    save_codebook(book, book_path)
    cfg = root / "qualkit.yaml"
    cfg.write_text(re.sub(r'(?m)^project: .*$', 'project: "Study <img src=x onerror=alert(2)> & co"',
                          cfg.read_text(encoding="utf-8")), encoding="utf-8")
    themes = root / "themes.yaml"
    themes.write_text(themes.read_text(encoding="utf-8").replace(
        "name: Information does not flow between partners", 'name: "Info <b onmouseover=alert(3)>flow</b>"'),
        encoding="utf-8")
    html = build_report(qualkit.Workspace(root), ci=False).read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img" not in html and "<b " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; co" in html
    assert "Info &lt;b onmouseover=alert(3)&gt;flow&lt;/b&gt;" in html
    # the code name appears in the agreement table, the role heatmap (SVG text) and co-occurrence
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    for svg in _svgs(html):
        ET.fromstring(svg)


# --------------------------------------------------------------------------------- degrading

def _sections(ctx) -> dict:
    return {s.id: s for s in ctx["sections"]}


def test_empty_workspace_gets_a_note_in_every_section(tmp_path):
    root = init(tmp_path / "w", project="Empty")
    path = build_report(qualkit.Workspace(root))
    html = path.read_text(encoding="utf-8")
    ctx = report_context(qualkit.Workspace(root), ci=False)
    secs = _sections(ctx)
    assert all(not s.ok and s.notes for s in secs.values()), {k: (s.ok, s.notes) for k, s in secs.items()}
    assert "No readable transcript" in html and "Agreement needs two or more coders" in html
    assert "No codebook in codebooks/" in html and "No codings yet" in html
    assert "themes.yaml has no themes yet" in html
    for sid in SECTIONS:
        assert f'<h2 id="{sid}"' in html
    manifest = json.loads((root / "exports" / "report.html.manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["parameters"]["sections"].values()) == {"missing input"}


def test_one_coder_and_no_themes(tmp_path):
    root = demo(tmp_path / "s")
    cfg = root / "qualkit.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("coders: [ana, ben]", "coders: [ana]"), encoding="utf-8")
    (root / "themes.yaml").unlink()
    secs = _sections(report_context(qualkit.Workspace(root), ci=False))
    assert not secs["agreement"].ok and "two or more coders" in secs["agreement"].notes[0]
    assert not secs["themes"].ok and "No themes.yaml" in secs["themes"].notes[0]
    assert secs["overview"].ok and secs["heatmap"].ok and secs["saturation"].ok and secs["coreq"].ok
    rows = {r["figure"]: r["value"] for r in secs["coreq"].data["rows"]}
    assert rows["Coders"] == "1" and "Double-coded transcripts" not in rows and "Consensus status" not in rows
    # --coders overrides qualkit.yaml
    secs = _sections(report_context(qualkit.Workspace(root), coders="ana,ben", ci=False))
    assert secs["agreement"].ok and secs["agreement"].data["coders"] == ["ana", "ben"]


def test_no_codings(tmp_path):
    root = demo(tmp_path / "s")
    for f in (root / "codings").glob("*.csv"):
        f.unlink()
    ctx = report_context(qualkit.Workspace(root), ci=False)
    secs = _sections(ctx)
    assert secs["overview"].ok and secs["codebook"].ok
    assert "No codings yet" in " ".join(secs["codebook"].notes)
    for sid in ("agreement", "heatmap", "cooccurrence", "saturation"):
        assert not secs[sid].ok, sid
    assert "No codings file yet" in secs["agreement"].notes[0]
    assert secs["themes"].ok and "No codings yet" in secs["themes"].notes[0]
    render_report(ctx)  # renders


def test_broken_input_becomes_a_note_not_a_failure(tmp_path):
    root = demo(tmp_path / "s")
    (root / "themes.yaml").write_text("themes:\n  - id: x\n    name: [unclosed\n", encoding="utf-8")
    secs = _sections(report_context(qualkit.Workspace(root), ci=False))
    assert not secs["themes"].ok and secs["themes"].notes[0].startswith("Could not be built: themes.yaml")
    assert secs["agreement"].ok


def test_out_must_be_a_file(tmp_path):
    root = demo(tmp_path / "s")
    from qualkit.errors import QualkitError

    with pytest.raises(QualkitError, match="is a folder"):
        build_report(qualkit.Workspace(root), out=root / "exports", ci=False)


# --------------------------------------------------------------------------------- CLI

def test_cli_report(tmp_path, monkeypatch):
    root = demo(tmp_path / "s")
    out = tmp_path / "out" / "r.html"
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "report", "--out", str(out), "--no-ci",
                                             "--coders", "ana,ben"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "Wrote" in r.output and "r.html.manifest.json" in r.output
    html = out.read_text(encoding="utf-8")
    assert (tmp_path / "out" / "r.html.manifest.json").is_file() and "r.html.manifest.json" in html
    assert "Brackets: 95%" not in html  # --no-ci: no intervals
    manifest = json.loads((tmp_path / "out" / "r.html.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["ci"] is False

    (root / "themes.yaml").unlink()
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "report", "--no-ci"], catch_exceptions=False)
    assert r.exit_code == 0 and "themes" in r.output.splitlines()[-1]
    assert (root / "exports" / "report.html").is_file()

    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "report", "--help"])
    assert r.exit_code == 0 and "--no-ci" in r.output


# --------------------------------------------------------------------------------- svg_charts

def test_cell_text_contrast_meets_wcag_aa():
    for i in range(101):
        bg = ramp_color(i / 100)
        assert contrast_ratio(text_color(bg), bg) >= 4.5, bg


def test_charts_escape_and_stay_well_formed():
    svg = heatmap([EVIL, "b & c"], ["x<y", "z"], [[1, None], [0, 2.5]], tooltips=[[EVIL, ""], ["", "q\"uote"]],
                  title=EVIL, legend_label="<l>")
    assert "<script" not in svg
    root = ET.fromstring(str(svg))
    assert root.find("title").text == EVIL  # escaped in the markup, the text itself intact
    line = bar_line_chart(["a", "<b>"], [3, 0], [3, 3], marker=(1, "sat <1+1>"), shade=(2, 2), title="t")
    ET.fromstring(str(line))
    assert "<b>" not in line
    for args in ((0.5, 0.2, 0.8), (float("nan"),), (-0.3, -0.5, 0.1), (None,)):
        ET.fromstring(str(ci_whisker(*args)))


def test_notes_show_commands_as_code_and_stay_escaped():
    from qualkit.reporting.report import _env

    f = _env().filters["code_spans"]
    assert str(f("run `qualkit reconcile` <now> & `a<b>`")) == \
        "run <code>qualkit reconcile</code> &lt;now&gt; &amp; <code>a&lt;b&gt;</code>"


def test_too_few_transcripts_for_saturation_reads_not_assessable_everywhere(tmp_path):
    """With fewer transcripts than base + run, the card, COREQ and the section agree."""
    import qualkit
    from qualkit.reporting.report import build_report
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    for t in ("fg2_pinehollow.vtt", "fg3_regional.vtt", "int2_ed_physician.docx", "int4_bh_director.srt", "int5_ems_captain.txt"):
        (root / "transcripts" / t).unlink()
    for coder in ("ana", "ben"):
        ws = qualkit.Workspace(root)
        ws.write_codings(coder, [c for c in ws.codings(coder) if c.transcript in ("fg1_calder", "int1_sheriff", "int3_health_director")])
    html = build_report(qualkit.Workspace(root), ci=False).read_text(encoding="utf-8")
    assert "not assessable" in html
    assert "not reached" not in html


def test_sample_report_cuts_themes_by_health_equity_domain_and_footnotes_unverified_items(sample):
    html = _section(sample[2], "themes")
    assert "Themes by health-equity domain" in html
    assert "<th>Culturally relevant factors of recipients</th>" in html and "<th>Societal context</th>" in html
    assert "Physical structures\u2020" in html
    assert "\u2020 Name not verified against the framework&#39;s source" in html


def test_sample_report_shows_themes_by_site_and_the_rapid_matrix_by_equity_domain(sample):
    """The sample's sites (participants.csv, cases.csv) cut the themes, and its summaries stand under HEIF
    2021's health-equity domains by site, as `export all` writes them (Woodward et al. 2021)."""
    root, _path, page = sample
    themes = _section(page, "themes")
    assert "Themes by site" in themes and "coded excerpts / participants" in themes
    for site in ("Calder", "Pine Hollow", "Regional"):
        assert f'<th class="num">{site}</th>' in themes
    assert re.search(r"<td class=\"num\">\d+ / \d+</td>", themes)
    rapid = _section(page, "rapid")
    assert '<span class="num">8</span>Rapid analysis by health-equity domain' in rapid
    assert "<th>Site</th>" in rapid and ">Societal context</th>" in rapid and ">Not in an equity domain</th>" in rapid
    assert "<code>fg1_calder</code>" in rapid and "<strong>Calder</strong>" in rapid
    assert "[Who is missed]" in rapid  # each bullet names the template domain it was written under
    assert '<span class="num">9</span>COREQ' in _section(page, "coreq")
    manifest = json.loads((root / "exports" / "report.html.manifest.json").read_text(encoding="utf-8"))
    paths = {i["path"] for i in manifest["inputs"]}
    assert {"cases.csv", "documents.csv", "summaries/fg1_calder.md"} <= paths


def test_report_without_equity_domains_or_sites_says_why_the_cuts_are_missing(tmp_path):
    root = demo(tmp_path / "s")
    cfg = root / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("framework: heif", "framework: cfir2"))
    (root / "cases.csv").unlink()
    people = root / "participants.csv"
    people.write_text(people.read_text().replace(",site,", ",place,"))
    page = build_report(qualkit.Workspace(root), ci=False).read_text(encoding="utf-8")
    assert "Themes by site" not in page
    rapid = _section(page, "rapid")
    assert "Not built: the framework (cfir2) marks no health-equity domains" in rapid
