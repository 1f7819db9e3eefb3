"""`qualkit init DIR` in a folder that already holds transcripts: they are moved into transcripts/
unchanged, the command says what it found, and ingest reads them."""
from __future__ import annotations

import os


def test_init_in_a_folder_of_transcripts_adopts_them_and_never_changes_them(tmp_path, run_cli):
    study = tmp_path / "study"
    (study / "focus_groups").mkdir(parents=True)
    (study / "int1.txt").write_text("Interviewer: How?\nSam: Slowly.\nInterviewer: Why?\nSam: Money.\n", encoding="utf-8")
    (study / "focus_groups" / "fg1.txt").write_text("Moderator: Hi all.\nP1: Hello.\nModerator: Ok.\nP1: Yes.\n",
                                                    encoding="utf-8")
    (study / "README.md").write_text("# My study notes\n", encoding="utf-8")
    (study / "budget.xlsx").write_bytes(b"PK")
    os.utime(study / "int1.txt", (1_600_000_000, 1_600_000_000))
    before = (study / "int1.txt").read_bytes()

    r = run_cli("init", study, workspace=None)
    assert r.exit_code == 0, r.output
    assert "Created a workspace" in r.output and "Moved 2 transcript files/folders" in r.output
    assert "int1.txt" in r.output and "focus_groups/" in r.output
    moved = study / "transcripts" / "int1.txt"
    assert moved.read_bytes() == before and moved.stat().st_mtime == 1_600_000_000
    assert (study / "transcripts" / "focus_groups" / "fg1.txt").is_file()
    assert (study / "README.md").is_file() and (study / "budget.xlsx").is_file()  # not transcripts: left alone

    r = run_cli("ingest", workspace=study)
    assert "2 transcripts" in r.output


def test_init_in_an_empty_folder_still_says_empty(tmp_path, run_cli):
    r = run_cli("init", tmp_path / "new", workspace=None)
    assert r.exit_code == 0 and "Created an empty workspace" in r.output
