"""Units of analysis: turns, sentences, paragraphs, question-answer blocks, whole documents."""
from __future__ import annotations

import qualkit
from qualkit.coding.units import coded_units, split_units

TEXT = ("Interviewer: How do referrals arrive?\nMaria: By fax. Days late.\n\nSometimes never.\n"
        "Sam: Same here.\nInterviewer: Why?\nMaria: Lawyers.\n")


def transcript(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    return qualkit.read_transcript(tmp_path / "t.txt")


def texts(t, units):
    return [t.text[u.start:u.end] for u in units]


def test_each_kind_of_unit_is_an_exact_span(tmp_path):
    t = transcript(tmp_path)
    assert texts(t, split_units(t, "turn")) == ["How do referrals arrive?", "By fax. Days late.\n\nSometimes never.", "Same here.", "Why?", "Lawyers."]
    assert texts(t, split_units(t, "sentence"))[1:4] == ["By fax.", "Days late.", "Sometimes never."]
    assert texts(t, split_units(t, "paragraph"))[1:3] == ["By fax. Days late.", "Sometimes never."]
    assert texts(t, split_units(t, "document")) == [t.text[t.turns[0].start:t.turns[-1].end]]


def test_question_units_group_a_facilitator_turn_with_its_answers(tmp_path):
    t = transcript(tmp_path)
    units = split_units(t, "question", is_facilitator=lambda turn: turn.speaker == "Interviewer")
    got = texts(t, units)
    assert len(got) == 2
    assert got[0].startswith("How do referrals arrive?") and got[0].endswith("Same here.")
    assert got[1].startswith("Why?") and got[1].endswith("Lawyers.")
    assert [u.turn for u in units] == [0, 3]


def test_a_coding_codes_every_unit_it_overlaps(tmp_path):
    t = transcript(tmp_path)
    units = split_units(t, "turn")
    fax = t.text.index("fax")
    same = t.text.index("Same")
    coded = coded_units(units, [(fax, fax + 3, "data_sharing"), (fax, same + 4, "delay"), (units[0].start, units[0].start + 1, "question")])
    assert coded == [{"question"}, {"data_sharing", "delay"}, {"delay"}, set(), set()]
