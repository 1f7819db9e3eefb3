"""Coverage is explicit: a transcript counts for agreement only when every compared coder marked it done.

A second coder who has only started a transcript (one coding) must not make it "double-coded";
matrices and summaries say which transcripts are partly coded, and summary templates never lose
pre-filled excerpts because codings went missing.
"""
from __future__ import annotations

import csv
import json
import re

from qualkit.workspace.codings import read_codings

INT2 = "int2_ed_physician"


def _agree(run_cli, root) -> dict:
    result = run_cli("agree", "--json", workspace=root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _second_coder_starts_int2(root) -> None:
    """ana copies one of ben's codings of int2 (which ben coded in full) into her file."""
    first = next(c for c in read_codings(root / "codings" / "ben.csv") if c.transcript == INT2)
    with open(root / "codings" / "ana.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([INT2, first.start, first.end, first.code, first.text, "", ""])


def test_one_coding_by_a_second_coder_does_not_make_a_transcript_double_coded(sample_workspace, run_cli):
    before = _agree(run_cli, sample_workspace)
    _second_coder_starts_int2(sample_workspace)
    after = _agree(run_cli, sample_workspace)
    assert INT2 not in after["transcripts"]
    assert after["pooled"] == before["pooled"] and after["n_units"] == before["n_units"]
    left = next(x for x in after["left_out"] if x["transcript"] == INT2)
    assert left["not_coded_by"] == ["ana"] and left["progress"] == {"ana": "1/14 turns coded"}
    text = run_cli("agree", workspace=sample_workspace).output
    assert f"{INT2} (not done by ana: 1/14 turns coded)" in text


def test_codings_done_marks_a_transcript_and_agreement_then_counts_it(sample_workspace, run_cli):
    _second_coder_starts_int2(sample_workspace)
    result = run_cli("codings", "done", INT2, "--coder", "ana", workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    assert f"{INT2}: done for ana (1/14 turns coded)" in result.output
    assert INT2 in _agree(run_cli, sample_workspace)["transcripts"]
    assert run_cli("codings", "done", INT2, "--coder", "ana", "--undo", workspace=sample_workspace).exit_code == 0
    assert INT2 not in _agree(run_cli, sample_workspace)["transcripts"]


def test_matrices_and_summaries_say_which_transcripts_are_partly_coded(sample_workspace, run_cli):
    _second_coder_starts_int2(sample_workspace)
    result = run_cli("matrix", "codes", "--coder", "ana", workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    assert f"partly coded (not marked done), so these excerpts are incomplete: {INT2} (ana: 1/14 turns coded)" in result.output


def test_summaries_template_never_replaces_more_excerpts_with_fewer(sample_workspace, run_cli):
    assert run_cli("summaries", "template", workspace=sample_workspace).exit_code == 0
    path = sample_workspace / "summaries" / f"{INT2}.md"
    full = path.read_text(encoding="utf-8")
    assert full.count("\n> ") > 5
    result = run_cli("summaries", "template", "--coder", "ana", workspace=sample_workspace)  # ana never coded int2
    assert result.exit_code == 0, result.output
    # with no codings of ana's, the template would start from the guide answers: still fewer excerpts
    assert re.search(r"it has (\d+) excerpts? and the codings now give (\d+); --overwrite replaces it after a backup",
                     result.output)
    assert path.read_text(encoding="utf-8") == full
    result = run_cli("summaries", "template", "--coder", "ana", "--overwrite", workspace=sample_workspace)
    assert "backup:" in result.output and path.read_text(encoding="utf-8") != full


def test_qualkit_code_asks_at_the_end_whether_the_transcript_is_done(make_workspace, run_cli):
    ws = make_workspace(codebook=[("fax", "Referrals by fax")])
    result = run_cli("code", "int1", "--coder", "ana", input="j 4\nfax\nq\ny\n")
    assert result.exit_code == 0, result.output
    assert "Mark int1 done for ana" in result.output and "int1 marked done for ana." in result.output
    assert "int1" in (ws.root / "codings" / "ana.done").read_text(encoding="utf-8")


def test_codings_in_interviewer_turns_are_counted_and_reported_not_lost(sample_workspace, run_cli):
    text = (sample_workspace / "transcripts" / "int1_sheriff.txt").read_text(encoding="utf-8")
    quote = "could you tell me a bit about your role"
    i = text.index(quote)
    with open(sample_workspace / "codings" / "ana.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(["int1_sheriff", i, i + len(quote), "program_fit", quote, "", ""])
    result = run_cli("agree", workspace=sample_workspace)
    assert "1 coding lie only in interviewer/moderator turns and are not counted (ana 1)" in result.output
    assert json.loads(run_cli("agree", "--json", workspace=sample_workspace).stdout)["facilitator_only"] == {"ana": 1}
    assert "1 coding hold only interviewer/moderator words" in run_cli("matrix", "codes", "--coder", "ana",
                                                                          workspace=sample_workspace).output
    run = run_cli("run", workspace=sample_workspace)
    assert "1 coding only in interviewer/moderator turns not counted" in run.output
    assert quote in (sample_workspace / "codings" / "ana.csv").read_text(encoding="utf-8")  # kept


def test_quitting_a_session_and_marking_done_count_the_same_turns(make_workspace, run_cli):
    """The session counted every turn (interviewer too), `codings done` participant turns: a coder saw
    0/4 then 0/2 for the same transcript. The session now gives both, and marking a transcript done
    with nothing coded says what that means for agreement."""
    make_workspace(transcripts={"int1": "Interviewer: Why?\nMaria: Money.\nInterviewer: Ok.\nMaria: Yes.\n"},
                   codebook=[("money", "Money")])
    result = run_cli("code", "int1", "--coder", "ana", input="q\n")
    assert "0/4 turns coded (0/2 participant turns)" in result.output, result.output
    result = run_cli("codings", "done", "int1", "--coder", "ana")
    assert result.exit_code == 0 and "(0/2 turns coded)" in result.output
    assert "ana coded none of its turns" in result.stderr and "--undo" in result.stderr
