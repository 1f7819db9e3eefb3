"""Per-file speaker rules in qualkit.yaml (`speakers.rules`): a glob and a pattern or a named
convention; the first rule that matches a file wins, the workspace pattern covers the rest."""
from __future__ import annotations

import pytest

from qualkit.errors import WorkspaceError

RULES = """
speakers:
  pattern: '^(?P<speaker>[A-Z]{2,4}\\d*):\\s'
  rules:
    - {files: "de/*.txt", convention: f4}
    - {files: "fg*.txt", pattern: '^(?P<speaker>P\\d+) - '}
    - {files: "free*.txt", convention: auto}
"""


def test_first_matching_rule_wins_and_the_workspace_pattern_covers_the_rest(make_workspace):
    ws = make_workspace({"fg1": "MOD: not a label here\nP1 - We waited.\nP2 - Months.\n",
                         "int1": "INT: How?\nRESP: Slowly.\nNote: nothing\n",
                         "free1": "Interviewer: Hi?\nSam: Hello.\nInterviewer: Ok?\nSam: Yes.\n"}, settings=RULES)
    (ws.transcripts_dir / "de").mkdir()
    (ws.transcripts_dir / "de" / "int9.txt").write_text("I:Wie? #00:00:04-0#\nB: So. #00:00:09-5#\nI: Gut.\n",
                                                        encoding="utf-8")
    assert [(t.speaker, ws.transcript("fg1").turn_text(t)) for t in ws.transcript("fg1").turns] == [
        (None, "MOD: not a label here"), ("P1", "We waited."), ("P2", "Months.")]
    assert ws.transcript("int1").speakers == ["INT", "RESP"]
    assert ws.transcript("free1").speakers == ["Interviewer", "Sam"]  # auto: learned, not the pattern
    t = ws.transcript("int9")
    assert [(x.speaker, x.timestamp, t.turn_text(x)) for x in t.turns] == [
        ("I", None, "Wie?"), ("B", 4.0, "So."), ("I", 9.5, "Gut.")]
    assert ws.speaker_rule(ws.transcripts_dir / "fg1.txt")[1] == "speakers.rules entry 2 ('fg*.txt': pattern)"


@pytest.mark.parametrize("rule, message", [
    ('{files: "*.txt", convention: nope}', "unknown speaker convention 'nope'"),
    ('{files: "*.txt"}', "needs exactly one of 'pattern' or 'convention'"),
    ('{files: "*.txt", pattern: "(x"}', "is not a valid regular expression"),
    ('{files: "*.txt", pattern: "^x:"}', "needs a named group (?P<speaker>...)"),
])
def test_a_bad_rule_is_one_line_naming_the_line(make_workspace, rule, message):
    with pytest.raises(WorkspaceError) as e:
        make_workspace(settings=f"speakers:\n  rules:\n    - {rule}\n")
    assert message in str(e.value) and e.value.line is not None
