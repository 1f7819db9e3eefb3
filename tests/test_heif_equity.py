"""HEIF as the analyst meets it: the three health-equity domains of Woodward et al. 2021 (Implement Sci
Commun 2:61) with their determinants and sources, the 2019 labels (Woodward et al. 2019, Implement Sci
14:26), unverified items warned about and footnoted, and themes cut by equity domain."""
from __future__ import annotations

import json
import re

import pytest

from qualkit.frameworks.catalog import FrameworkRefError, get_framework, resolve_ref

EQUITY = ["culturally_relevant_factors", "clinical_encounter", "societal_context"]


def test_heif_marks_its_three_health_equity_domains_and_each_has_determinants():
    heif = get_framework("heif")
    assert [d.id for d in heif.equity_domains()] == EQUITY
    for dom in heif.equity_domains():
        determinants = list(dom.walk())[1:]
        assert len(determinants) >= 3, dom.id
        for item in [dom, *determinants]:
            assert item.definition and item.example and item.where, item.ref
            assert heif.equity_domain_of(item) is dom
    # a recipient determinant outside the equity domain belongs to none
    assert heif.equity_domain_of(resolve_ref("heif:motivation")) is None


def test_every_heif_item_says_where_it_was_read_and_inherited_items_where_they_come_from():
    for item in get_framework("heif").items():
        assert item.example, item.ref
        assert item.where or item.inherited_from, item.ref
        if item.status == "inherited":
            assert item.inherited_from.startswith("i-PARIHS (Harvey & Kitson 2016"), item.ref
        # verified only where it was read: a row of the 2021 Table 1 that could not be read is never verified
        if item.where and "not read" in item.where:
            assert not item.verified, item.ref
    assert resolve_ref("heif:clarity").where == "2021 Table 1, innovation row" and resolve_ref("heif:clarity").verified


def test_heif_at_2019_prints_the_2019_labels_and_keeps_ids_and_refs():
    old = get_framework("heif@2019")
    assert old.version == "2019"
    assert [d.label for d in old.domains()] == ["Innovation factors", "Recipient factors", "Clinical encounter",
                                                "Context", "Societal influence", "Implementation facilitation"]
    assert old.resolve("outer").label == "Healthcare system factors"
    assert old.resolve("Societal context").id == "societal_context"      # the 2021 label still resolves
    assert resolve_ref("heif@2019:societal_context").label == "Societal influence"
    assert get_framework("heif").resolve("societal_context").label == "Societal context"   # built-in untouched
    with pytest.raises(FrameworkRefError, match="no version '2030'"):
        get_framework("heif@2030")


def test_frameworks_show_heif_lists_the_determinants_of_the_three_equity_domains_with_sources(run_cli, tmp_path):
    out = run_cli("frameworks", "show", "heif", cwd=tmp_path).output
    section = out[out.index("Health-equity domains (3)"):]
    for label in ("Culturally relevant factors of recipients", "Clinical encounter or patient–provider interaction",
                  "Societal context", "Trust and mistrust of health care", "Patient–provider communication",
                  "Physical structures"):
        assert label in section
    assert section.count("Source: ") == 3 + 6 + 5 + 3   # domains and their determinants
    assert "2021 abstract (health equity domain 1)" in " ".join(section.split())
    full = run_cli("frameworks", "show", "heif", "--equity", cwd=tmp_path).output
    assert "Innovation" not in full.split("Health-equity domains")[0].split("\n", 8)[-1]
    assert "Example: " in full
    old = run_cli("frameworks", "show", "heif@2019", cwd=tmp_path).output
    assert "\nSocietal influence  [societal_context]" in old


def test_themes_check_warns_once_about_unverified_items_listing_the_themes_that_use_them(sample_workspace, run_cli):
    out = run_cli("themes", "check", workspace=sample_workspace).output
    lines = [ln for ln in out.splitlines() if "not verified against the framework's source" in ln]
    assert len(lines) == 1, lines          # one warning, not one per theme and item (19 lines before)
    line = lines[0]
    assert re.search(r"themes\.yaml:\d+: warning: 7 themes map onto 16 framework items", line)
    assert "heif:physical_structures (rural_distance, who_is_missed)" in line
    assert "heif:regulatory_frameworks* (information_flow)" in line and "* inherited from the parent framework" in line
    assert line.count("heif:physical_structures") == 1


def test_exported_tables_footnote_unverified_items_and_cut_themes_by_equity_domain(sample_workspace, run_cli):
    import docx

    out = sample_workspace / "themes.docx"
    r = run_cli("matrix", "themes", "--format", "docx", "--out", str(out), workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    cells = "\n".join(c.text for t in docx.Document(str(out)).tables for row in t.rows for c in row.cells)
    assert "Physical structures\u2020" in cells
    assert "\u2020 Name not verified against the framework's source" in text
    assert "health-equity domains" in text

    r = run_cli("matrix", "themes", "--table", "equity", "--json", workspace=sample_workspace)
    data = json.loads(r.output)
    table = next(t for t in data["tables"] if t["name"] == "themes_by_equity_domain")
    rows = {row["theme"]: row for row in table["rows"]}
    assert "Physical structures\u2020" in rows["rural_distance"]["Societal context"]
    assert rows["rural_distance"]["Culturally relevant factors of recipients"] == ""
    assert rows["borrowed_time"]["No equity domain"] == "yes"


def test_framework_heif_at_2019_in_qualkit_yaml_prints_2019_labels_in_tables(sample_workspace, run_cli):
    cfg = sample_workspace / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("\nframework: heif\n", "\nframework: heif@2019\n"))
    r = run_cli("matrix", "themes", "--table", "results", "--json", workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    text = r.output
    assert "Healthcare system factors" in text and "Societal influence" in text
    assert "Outer context" not in text
    cfg.write_text(cfg.read_text().replace("heif@2019", "heif@1999"))
    r = run_cli("matrix", "themes", workspace=sample_workspace)
    assert r.exit_code == 1 and "no version '1999'" in r.output and "Traceback" not in r.output


def test_rapid_summaries_and_excerpts_grouped_by_health_equity_domain(sample_workspace, run_cli):
    """The rapid matrix by HEIF 2021's three equity domains (Woodward et al. 2021), as themes are."""
    import qualkit

    ws = qualkit.Workspace(sample_workspace)
    equity = ["Culturally relevant factors of recipients", "Clinical encounter or patient–provider interaction",
              "Societal context"]
    frame = ws.matrix("rapid", rows="transcript", equity=True)
    assert [c for c in frame.columns if c not in ("transcript", "session", "participants")] == [
        *equity, "Not in an equity domain"]
    row = frame.set_index("transcript").loc["fg1_calder"]
    # each bullet says which template domain it was written under
    assert "• [Who is missed] " in row["Societal context"]
    assert all(line.startswith("• [") for line in row["Societal context"].split("\n"))
    assert "health-equity domains" in frame.attrs["notes"]
    quotes = ws.matrix("rapid", rows="transcript", cells="quotes", equity=True, by="site")
    assert equity[2] in quotes.columns and "Not in an equity domain" not in quotes.columns
    assert quotes["site"].iloc[0] == "Calder" and quotes[equity[2]].str.len().sum() > 0
    assert ws.matrix("rapid", rows="transcript", cells="quotes", domains="equity").columns.tolist()[3:] == equity
    r = run_cli("matrix", "rapid", "--equity", "--by", "site", workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    assert "== site: Calder ==" in r.output and "Societal context:" in r.output
    r = run_cli("summaries", "template", "--domains", "equity", "--transcript", "int1_sheriff", "--overwrite",
                workspace=sample_workspace)
    assert r.exit_code == 0 and "health-equity domains" in r.output, r.output
    text = (sample_workspace / "summaries" / "int1_sheriff.md").read_text(encoding="utf-8")
    assert "## Culturally relevant factors of recipients" in text and "## Societal context" in text


def test_rapid_equity_without_equity_domains_says_which_frameworks_have_them(sample_workspace, run_cli):
    """--equity on summaries has no --domains to fix it: the message names the framework and what to set."""
    cfg = sample_workspace / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("framework: heif", "framework: cfir2"))
    r = run_cli("matrix", "rapid", "--equity", workspace=sample_workspace)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "cfir2" in r.output and "marks no health-equity domains" in r.output
    assert "Frameworks that mark them: heif" in r.output and "`framework: heif`" in r.output
    assert "--domains" not in r.output  # it does not apply to summary bullets
    r = run_cli("matrix", "rapid", "--equity", "--cells", "quotes", workspace=sample_workspace)
    assert r.exit_code == 1 and "frameworks that do: heif" in r.output


def test_the_equity_table_shows_each_quote_once(sample_workspace, run_cli, tmp_path):
    """A theme mapped onto several equity domains, or two themes sharing a coding, showed the same
    quote in each of their cells; like the themes x domains matrix, the table now quotes a passage once."""
    import re

    out = tmp_path / "equity.md"
    result = run_cli("matrix", "themes", "--table", "equity", "--out", out, workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    quotes = re.findall(r"“[^”]{20,}”", out.read_text(encoding="utf-8"))
    assert len(quotes) >= 5 and len(quotes) == len(set(quotes)), quotes
