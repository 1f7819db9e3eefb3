"""`qualkit status`: like `git status` for a study: what changed, who has done what, what to run next."""
from __future__ import annotations

import csv
import json

import qualkit
from qualkit.workspace.codings import read_codings

INT2 = "int2_ed_physician"


def _status(run_cli, root) -> dict:
    result = run_cli("status", "--json", workspace=root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_of_the_sample_study_says_who_has_done_what_and_what_to_run_next(sample_workspace, run_cli):
    st = _status(run_cli, sample_workspace)
    assert st["transcripts"]["readable"] == 9 and st["transcripts"]["new"] == []
    assert st["coverage"]["ana"][INT2] == "not started" and st["coverage"]["ben"][INT2] == "done"
    assert st["agreement"]["qualifying"] == ["fg1_calder", "fg2_pinehollow", "int1_sheriff", "int3_health_director"]
    assert st["consensus"]["undecided"] and st["consensus"]["decided"] == 0
    assert st["next"].startswith("qualkit disagreements --out adjudication.xlsx")
    text = run_cli("status", workspace=sample_workspace).output
    assert "Agreement (ana, ben): 4 transcripts qualify" in text and "Next: qualkit disagreements" in text


def test_status_shows_a_started_transcript_in_progress_and_a_changed_one_drifted(sample_workspace, run_cli):
    first = next(c for c in read_codings(sample_workspace / "codings" / "ben.csv") if c.transcript == INT2)
    with open(sample_workspace / "codings" / "ana.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([INT2, first.start, first.end, first.code, first.text, "", ""])
    path = sample_workspace / "transcripts" / "int1_sheriff.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("my second term.", "my second term. I ran unopposed.", 1),
                    encoding="utf-8")
    st = qualkit.Workspace(sample_workspace).status()
    assert st.coverage["ana"][INT2] == "in progress (1/14 turns coded)"
    assert st.agreement["partial"] == [INT2]
    assert st.transcripts["changed_since_coded"] == ["int1_sheriff"]
    assert st.drifted["ana"]["int1_sheriff"] > 0 and st.lost == {}
    assert st.next_command.startswith("qualkit codings check --fix")


def test_run_ends_with_the_status_and_status_then_finds_stale_exports(sample_workspace, run_cli):
    result = run_cli("run", workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    assert "Status:" in result.output and "Next: " in result.output
    assert _status(run_cli, sample_workspace)["stale_exports"] == []
    with open(sample_workspace / "codings" / "ben.csv", "a", encoding="utf-8", newline="") as f:
        f.write("\n")  # any change to an input makes the exports that read it stale
    stale = _status(run_cli, sample_workspace)["stale_exports"]
    assert "exports/agreement.csv" in stale


def test_a_new_workspace_is_told_to_add_transcripts_then_to_code_not_that_nothing_is_pending(tmp_path, run_cli):
    assert run_cli("init", tmp_path / "new", workspace=None).exit_code == 0
    result = run_cli("status", workspace=tmp_path / "new")
    assert "Next: put transcripts in transcripts/" in result.output, result.output
    (tmp_path / "new" / "transcripts" / "int1.txt").write_text("Interviewer: Why?\nMaria: Money.\n", encoding="utf-8")
    result = run_cli("status", workspace=tmp_path / "new")
    assert "Next: qualkit code TRANSCRIPT --coder NAME" in result.output and "nothing pending" not in result.output
