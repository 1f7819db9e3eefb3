"""The command line as a user meets it: help, init, ingest, transcripts, run, and one-line errors.

The workspace is conftest's default: one interview (int1) of Maria (KP-4) and an interviewer.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import INTERVIEW


def test_help_is_fast_and_imports_no_heavy_library():
    code = ("import sys\nfrom qualkit.cli import main\nsys.argv=['qualkit','--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('pandas','docx','spacy','numpy','yaml') if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Commands:" in out and "ingest" in out
    assert "HEAVY []" in out


def test_init_then_ingest_an_empty_workspace(tmp_path, run_cli):
    r = run_cli("init", tmp_path / "new")
    assert r.exit_code == 0 and "Created an empty workspace" in r.output
    r = run_cli("ingest", workspace=tmp_path / "new")
    assert r.exit_code == 0 and "No transcripts found" in r.output


def test_init_twice_refuses_and_changes_nothing(tmp_path, run_cli):
    run_cli("init", tmp_path / "new")
    r = run_cli("init", tmp_path / "new")
    assert r.exit_code == 1
    assert "already a workspace" in r.output and "Traceback" not in r.output


def test_ingest_prints_one_row_per_transcript_with_warnings(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW, "int2": "Interviewer: Hi?\nSam: Hello.\nInterviewer: Ok?\nSam: Ok.\n"})
    r = run_cli("ingest", cwd=ws.root)
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0].split() == ["id", "format", "turns", "speakers", "words", "warnings"]
    assert lines[1].split() == ["int1", "txt", "4", "2", "10", "0"]
    assert lines[2].split() == ["int2", "txt", "4", "2", "4", "1"]
    assert "int2: speaker 'Sam' (2 turns) is not in participants.csv" in r.output


def test_ingest_json(make_workspace, run_cli):
    ws = make_workspace()
    data = json.loads(run_cli("ingest", "--json", cwd=ws.root).output)
    assert data["transcripts"][0] | {"path": None} == {"id": "int1", "path": None, "format": "txt", "turns": 4,
                                                      "speakers": 2, "words": 10, "warnings": []}
    assert data["errors"] == []


def test_ingest_of_a_bad_file_is_one_line_and_exit_1(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW, "broken.docx": ""})
    (ws.root / "transcripts" / "broken.docx").write_bytes(b"not a zip at all")
    r = run_cli("ingest")
    assert r.exit_code == 1
    assert "int1" in r.output  # the good file is still reported
    err = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(err) == 1 and "broken.docx" in err[0]
    assert "Traceback" not in r.output


def test_ingest_named_paths_and_a_missing_one(make_workspace, run_cli):
    ws = make_workspace()
    r = run_cli("ingest", ws.root / "transcripts" / "nope.txt")
    assert r.exit_code == 1 and "nope.txt: no such file" in r.output


def test_transcripts_list_shows_speakers_and_participants(make_workspace, run_cli):
    make_workspace()
    r = run_cli("transcripts", "list")
    assert r.exit_code == 0
    assert "Interviewer = RT-1, Maria = KP-4" in r.output


def test_transcripts_show_numbers_turns_from_one_with_attributes(make_workspace, run_cli):
    make_workspace()
    r = run_cli("transcripts", "show", "int1", "--turns", "2-3")
    assert r.exit_code == 0
    assert "[2] Maria  (KP-4, behavioral health, Pine Hollow)" in r.output
    assert "By fax, days late." in r.output
    assert "[3] Interviewer" in r.output and "[1]" not in r.output and "[4]" not in r.output


def test_transcripts_show_json_and_bad_range(make_workspace, run_cli):
    make_workspace()
    data = json.loads(run_cli("transcripts", "show", "int1", "--json", "--turns", "2").output)
    assert data["turns"] == [{"number": 2, "index": 1, "speaker": "Maria", "participant_id": "KP-4",
                              "attributes": {"role": "behavioral health", "site": "Pine Hollow"}, "timestamp": None,
                              "start": data["turns"][0]["start"], "end": data["turns"][0]["end"],
                              "text": "By fax, days late."}]
    r = run_cli("transcripts", "show", "int1", "--turns", "9-3")
    assert r.exit_code == 2 and "reversed" in r.output


def test_show_unknown_transcript_lists_the_known_ones(make_workspace, run_cli):
    make_workspace()
    r = run_cli("transcripts", "show", "int9")
    assert r.exit_code == 1 and "no transcript with id 'int9' (known: int1)" in r.output


def test_run_writes_exports_and_says_where(make_workspace, run_cli):
    ws = make_workspace()
    r = run_cli("run")
    assert r.exit_code == 0, r.output
    assert "exports/turns.csv" in r.output and "exports/transcripts.csv" in r.output
    manifest = json.loads((ws.root / "exports" / "run.manifest.json").read_text())
    assert manifest["inputs"][0]["path"] == "participants.csv"
    assert any(i["path"] == "transcripts/int1.txt" and len(i["sha256"]) == 64 for i in manifest["inputs"])
    turns = pd.read_csv(ws.root / "exports" / "turns.csv")
    assert list(turns["speaker"]) == ["Interviewer", "Maria", "Interviewer", "Maria"]


def test_run_on_an_empty_workspace_skips_with_a_reason(make_workspace, run_cli):
    make_workspace(transcripts={})
    r = run_cli("run")
    assert r.exit_code == 0 and "skipped" in r.output and "no transcripts" in r.output


def test_outside_a_workspace(tmp_path, run_cli):
    r = run_cli("ingest", workspace=tmp_path)
    assert r.exit_code == 1 and "not inside a qualkit workspace" in r.output and "Traceback" not in r.output


def test_an_internal_bug_is_one_line_not_a_traceback(make_workspace, monkeypatch, capsys):
    from qualkit.api import Workspace
    from qualkit.cli import main

    ws = make_workspace()

    def broken(self, *a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(Workspace, "ingest", broken)
    monkeypatch.setattr(sys, "argv", ["qualkit", "--workspace", str(ws.root), "ingest"])
    monkeypatch.delenv("QUALKIT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        main()
    err = capsys.readouterr().err
    assert e.value.code == 1
    assert "internal error (RuntimeError: boom)" in err and "QUALKIT_DEBUG=1" in err and "Traceback" not in err


def test_files_qualkit_cannot_read_are_errors_not_skipped(make_workspace, run_cli):
    ws = make_workspace()
    (ws.root / "transcripts" / "report.pdf").write_bytes(b"%PDF-1.4")
    (ws.root / "transcripts" / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (ws.root / "transcripts" / ".DS_Store").write_bytes(b"\x00\x01")
    r = run_cli("ingest")
    assert r.exit_code == 1
    assert "report.pdf: cannot read the PDF, it may be damaged" in r.output
    assert "old.doc: old Word .doc files are not read: convert it with LibreOffice" in r.output
    assert ".DS_Store" not in r.output


def test_a_broken_participants_csv_is_reported_once(make_workspace, run_cli):
    make_workspace({"int1": INTERVIEW, "int2": INTERVIEW}, participants="transcript,speaker\nint1,Maria\n")
    r = run_cli("ingest")
    assert r.exit_code == 1 and r.output.count("missing column(s) participant_id") == 1
    assert "No transcripts found" not in r.output


def test_workspace_warnings_typo_in_settings_and_participants(make_workspace, run_cli):
    from conftest import PARTICIPANTS

    make_workspace(participants=[*PARTICIPANTS, ("int_1", "Sam", "KP-9", "medical", "Calder")],
                   settings="speakrs:\n  pattern:\n")
    r = run_cli("ingest")
    assert r.exit_code == 0
    assert "unknown setting 'speakrs' is ignored (did you mean 'speakers'?)" in r.output
    assert "transcript 'int_1' (speaker 'Sam') is not in transcripts/ (did you mean 'int1'?)" in r.output


def test_errors_show_paths_relative_to_where_the_user_is(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW, "empty": ""})
    r = run_cli("ingest", cwd=ws.root)
    assert "Error: transcripts/empty.txt: file is empty" in r.output


def test_a_mistyped_command_gets_a_suggestion(run_cli):
    r = run_cli("ingset")
    assert r.exit_code == 2 and "Did you mean 'ingest'?" in r.output


def test_a_workspace_folder_that_does_not_exist(tmp_path, run_cli):
    r = run_cli("ingest", workspace=tmp_path / "nope")
    assert r.exit_code == 1 and "no such folder" in r.output


def test_show_accepts_the_file_name_and_rejects_an_empty_range(make_workspace, run_cli):
    make_workspace()
    assert run_cli("transcripts", "show", "int1.txt").exit_code == 0
    r = run_cli("transcripts", "show", "int1", "--turns=")
    assert r.exit_code == 2 and "not a turn range" in r.output


def test_turns_export_has_readable_times_and_opens_in_excel(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW, "int2": "[00:01:05] Interviewer: Hi?\n[00:01:09] Maria: Café “ok”.\n"})
    run_cli("run")
    raw = (ws.root / "exports" / "turns.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 and shows the quotes right
    turns = pd.read_csv(ws.root / "exports" / "turns.csv", encoding="utf-8-sig")
    row = turns[(turns.transcript == "int2") & (turns.turn == 2)].iloc[0]
    assert (row["time"], row["seconds"], row["text"]) == ("00:01:09", 69.0, "Café “ok”.")


def test_listing_the_sample_study_after_run_shows_its_eight_transcripts(sample_study_run, run_cli):
    r = run_cli("transcripts", "list", "--json", workspace=sample_study_run)
    assert r.exit_code == 0
    assert len(json.loads(r.output)) == 9   # and the site-visit notes
    assert (sample_study_run / "exports" / "turns.csv").is_file()


def test_a_coding_made_by_quoting_covers_exactly_that_text(make_workspace):
    ws = make_workspace(codebook=[("fax", "Referrals by fax")], coders={"ana": [("By fax", "fax")]})
    [coding] = ws.codings("ana")
    assert ws.transcript("int1").text[coding.start:coding.end] == "By fax" and coding.code == "fax"


def test_counts_agree_with_their_nouns(make_workspace, run_cli):
    """'1 turns' and 'transcript(s)' read as unfinished: a count of one takes the singular."""
    make_workspace(transcripts={"int1": "Maria: We fax them.\n"})
    result = run_cli("ingest")
    assert result.exit_code == 0, result.output
    assert "1 transcript, 1 turn, 3 words." in result.output and "(s)" not in result.output, result.output
    result = run_cli("run")
    assert "1 transcript, 1 turn, 3 words" in result.output and "(s)" not in result.output, result.output
