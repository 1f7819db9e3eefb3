"""Rapid-analysis calibration and guide-question templates (Hamilton 2013; Taylor B, et al. Can rapid
approaches to qualitative analysis deliver timely, valid findings to clinical leaders? BMJ Open
2018;8:e019993): analysts summarise the same transcript and compare side by side before splitting
the rest; with no codes yet, each template domain starts from the answer to its guide question."""
from __future__ import annotations

import re

from click.testing import CliRunner

import qualkit
import qualkit.cli


def _fill(path, bullets: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    text = text.replace("Summary:\n\n- \n", "Summary:\n\n" + "".join(f"- {b}\n" for b in bullets), 1)
    path.write_text(text, encoding="utf-8")


def test_two_analysts_summarise_one_transcript_and_compare(tmp_path):
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    w = qualkit.Workspace(root)
    paths = w.calibrate("int1_sheriff", ["ana", "ben"])
    assert [p.parent.name for p in paths] == ["ana", "ben"]
    assert "- Analyst: ana" in paths[0].read_text(encoding="utf-8")
    _fill(paths[0], ["Sheriff backs the program in public"])
    _fill(paths[1], ["Sheriff is a champion", "Second term, whole county"])
    cal = w.compare("int1_sheriff")
    assert cal.analysts == ["ana", "ben"] and list(cal.frame.columns) == ["Domain", "ana", "ben"]
    first = cal.frame.iloc[0]
    assert first["Domain"] == "Role and involvement"
    assert first["ana"] == "- Sheriff backs the program in public" and "Second term" in first["ben"]
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "summaries", "compare", "int1_sheriff",
                                             "--out", str(tmp_path / "cal.xlsx")])
    assert r.exit_code == 0 and "Sheriff is a champion" in r.output and (tmp_path / "cal.xlsx").is_file()
    assert not any("calibration" in str(p) for p in w.transcript_paths())


def test_without_codes_each_domain_starts_from_the_answer_to_its_guide_question(tmp_path):
    from qualkit.analysis.summaries import write_templates
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    for f in [*(root / "codings").glob("*.csv"), *(root / "summaries").glob("*.*")]:
        f.unlink()
    w = qualkit.Workspace(root)
    write_templates(w, transcripts=["int1_sheriff"])
    text = (root / "summaries" / "int1_sheriff.md").read_text(encoding="utf-8")
    role = text.split("## Role and involvement")[1].split("## ")[0]
    assert "The answer to this guide question" in role and "sheriff here in Calder County" in role
    assert re.search(r"Excerpts: answers to each guide question", text)
