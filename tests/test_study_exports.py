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
        "codes_by_role.md", "cooccurrence.md", "rapid_matrix.md", "saturation.md", "themes_by_domain.md"]


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
