"""`qualkit export all` and the matrices step of `qualkit run`: every manuscript table at once."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from qualkit.cli import cli
from qualkit.workspace.scaffold import init


def test_export_all_on_the_sample_writes_the_manuscript_tables_with_manifests(sample_workspace):
    r = CliRunner().invoke(cli, ["--workspace", str(sample_workspace), "export", "all"])
    assert r.exit_code == 0, r.output
    exports = sample_workspace / "exports"
    for name in ("themes_by_domain.docx", "themes_by_domain.xlsx", "rapid_matrix.docx", "codes_by_role.xlsx",
                 "cooccurrence.xlsx", "saturation.csv"):
        assert (exports / name).is_file(), name
        assert (exports / f"{name}.manifest.json").is_file(), name
    assert not (exports / "cooccurrence.docx").exists()  # Word only for manuscript tables
    assert "pooling the codings of ana, ben" in r.output


def test_export_all_in_a_chosen_format(sample_workspace, tmp_path):
    r = CliRunner().invoke(cli, ["--workspace", str(sample_workspace), "export", "all", "--format", "md", "--out-dir", str(tmp_path / "md")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "md").glob("*.md")) == [
        "codes_by_role.md", "cooccurrence.md", "rapid_matrix.md", "rapid_matrix_by_equity_domain.md", "saturation.md",
        "themes_by_domain.md", "themes_by_site.md"]


def test_export_all_on_the_sample_cuts_themes_by_site_and_the_rapid_matrix_by_equity_domain(sample_workspace, run_cli):
    """The sample's sites (participants.csv, cases.csv) and HEIF's equity domains (Woodward et al. 2021)
    give two more manuscript tables, in every format export all writes; the others are unchanged."""
    import csv

    r = run_cli("export", "all", workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    exports = sample_workspace / "exports"
    for stem in ("themes_by_site", "rapid_matrix_by_equity_domain"):
        for fmt in ("xlsx", "docx", "csv"):
            assert (exports / f"{stem}.{fmt}").is_file() and (exports / f"{stem}.{fmt}.manifest.json").is_file()
    with open(exports / "themes_by_site.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["theme", "name", "valence", "Calder", "Pine Hollow", "Regional", "total"]
    assert len(rows) - 1 == 9 and "excerpts /" in rows[1][3]
    with open(exports / "rapid_matrix_by_equity_domain.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["site", "transcript", "session", "participants", "Culturally relevant factors of recipients",
                       "Clinical encounter or patient–provider interaction", "Societal context", "Not in an equity domain"]
    assert [r[:2] for r in rows[1:]] == [["Calder", "fg1_calder"], ["Calder", "int1_sheriff"],
                                         ["Pine Hollow", "int3_health_director"]]  # the summarised transcripts
    assert "• [Who is missed]" in rows[1][6]
    assert "themes_by_domain__themes_by_site.csv" not in {p.name for p in exports.iterdir()}


def test_export_all_footnotes_unverified_equity_domains_in_the_rapid_table(sample_workspace, run_cli, monkeypatch):
    """An equity domain whose name was not read in the source is marked † with the footnote, as in the themes tables."""
    import qualkit

    heif = qualkit.Workspace(sample_workspace).frameworks()["heif"]
    monkeypatch.setattr(heif.equity_domains()[2], "verified", False)
    frame = qualkit.Workspace(sample_workspace).matrix("rapid", rows="transcript", equity=True)
    assert "Societal context\u2020" in frame.columns
    assert "\u2020 Name not verified against the framework's source" in frame.attrs["notes"]


def test_export_all_without_sites_or_equity_domains_skips_the_cuts_with_reasons(sample_workspace, run_cli):
    cfg = sample_workspace / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("framework: heif", "framework: cfir2"))
    (sample_workspace / "cases.csv").unlink()
    people = sample_workspace / "participants.csv"
    people.write_text(people.read_text().replace(",site,", ",place,"))
    r = run_cli("export", "all", workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    names = {p.name for p in (sample_workspace / "exports").iterdir()}
    assert "themes_by_domain.xlsx" in names and not any(n.startswith(("themes_by_site", "rapid_matrix_by_equity")) for n in names)
    assert "marks no health-equity domains" in r.output


def test_a_young_workspace_skips_with_reasons(tmp_path):
    root = init(tmp_path / "ws")
    (root / "transcripts" / "int1.txt").write_text("Interviewer: Hi?\nMaria: Hello.\n")
    r = CliRunner().invoke(cli, ["--workspace", str(root), "run"])
    assert r.exit_code == 0, r.output
    assert "matrices   skipped  no codings yet in codings/" in r.output
    assert "agreement  skipped  name two or more coders" in r.output


@pytest.mark.slow
def test_run_makes_autocode_suggestions_when_enabled(sample_workspace):
    config = sample_workspace / "qualkit.yaml"
    config.write_text(config.read_text().replace("autocode:\n  enabled: false", "autocode:\n  enabled: true"))
    r = CliRunner().invoke(cli, ["--workspace", str(sample_workspace), "run"])
    assert r.exit_code == 0, r.output
    assert "autocode   done" in r.output and "codings/auto.csv" in r.output
    assert (sample_workspace / "codings" / "auto.csv").stat().st_size > 100
    assert "agreement  done  ana, ben" in r.output  # suggestions never join the human coders' comparison
