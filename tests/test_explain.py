"""`qualkit transcripts explain ID`: the convention detected, each label candidate accepted or
rejected with its reason, and the first lines no speaker was attributed to."""
from __future__ import annotations

import json

TEXT = ("Interview 3, 12 May\n\nNote: recorded by phone\n\nInterviewer: How did it start?\nSam: In May.\n"
        "Interviewer: Why?\nSam: Money.\nDr Okafor: I agree.\nStep 1: we call.\n")


def test_explain_says_the_convention_and_why_each_label_was_taken_or_not(make_workspace, run_cli):
    make_workspace({"int1": TEXT})
    r = run_cli("transcripts", "explain", "int1")
    assert r.exit_code == 0, r.output
    assert "Rule:        learned from the file" in r.output
    assert "Convention:  Name: text" in r.output
    lines = {ln.split()[0]: ln for ln in r.output.splitlines() if ln.strip()[:2].strip().isdigit()}
    assert "rejected  Note" in lines["3"] and "header or annotation word" in lines["3"]
    assert "accepted  Sam" in lines["6"] and "recurs (2 times)" in lines["6"]
    assert "accepted  Dr Okafor" in lines["9"] and "one-off in the file's own label style" in lines["9"]
    assert "rejected  Step 1" in lines["10"] and "phrase" in lines["10"]
    assert "First lines attributed to no speaker" in r.output and "Interview 3, 12 May" in r.output


def test_explain_names_the_rule_that_decided(make_workspace, run_cli):
    ws = make_workspace({"fg1": "P1 - We waited.\nP2 - Months.\n"},
                        settings="speakers:\n  rules:\n    - {files: 'fg*', pattern: '^(?P<speaker>P\\d+) - '}\n")
    ex = ws.explain_transcript("fg1")
    assert ex.rule == "speakers.rules entry 1 ('fg*': pattern)"
    assert [(c.line, c.label, c.accepted) for c in ex.candidates] == [(1, "P1", True), (2, "P2", True)]
    data = json.loads(run_cli("transcripts", "explain", "fg1", "--json").output)
    assert data["speakers"] == ["P1", "P2"] and data["unattributed"] == []


def test_explain_a_file_without_labels(make_workspace):
    ws = make_workspace({"memo": "We met at the clinic.\n\nIt was raining.\n"})
    ex = ws.explain_transcript("memo")
    assert ex.convention == "no speaker labels" and [ln for ln, _ in ex.unattributed] == [1, 3]
