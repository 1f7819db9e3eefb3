"""Third-party .txt/.md transcripts (no one here wrote them) parse as their provenance describes."""
from __future__ import annotations

import re

import pytest
from conftest import assert_turn_contract

import qualkit

EXPECTED_SPEAKERS = {
    "txt/mlsss_Interview-12.txt": {"Interviewer 1", "Interviewer 2", "Interviewee"},
    # "Interviewer2 2 :" really is in the file (a typo in the source), so it is a label as written.
    "txt/mlsss_Interview-2_fr.txt": {"Interviewer1", "Interviewee1", "Interviewer2", "Interviewer2 2"},
    "txt/noscribe_interview.txt": {"S00", "S01", "S02"},
    "txt/spacelog_mr4_ATG.txt": {"STONY", "BELL 7", "CC", "CHASE 1", "UKN", "ATS", "CARDFILE 23", "HUNTCLUB 1", "CARDFILE 9", "HUNTCLUB 3"},
    "txt/scotus_11-398_2012-03-26.txt": {
        "CHIEF JUSTICE ROBERTS", "MR. LONG", "MR. KATSAS", "GENERAL VERRILLI", "JUSTICE SCALIA", "JUSTICE KENNEDY",
        "JUSTICE GINSBURG", "JUSTICE SOTOMAYOR", "JUSTICE ALITO", "JUSTICE KAGAN", "JUSTICE BREYER"},
    "focus-group/ta-using-llms_focus_group_2.txt": {"GA", "TN4", "TN5", "TN7", "TN10", "CA"},
    "focus-group/ta-using-llms_focus_group_5.txt": {"GA", "TN17", "Tn17", "TN19", "TN22", "CA"},
    "focus-group/qualcoder_transcript.txt": {"id1", "id2", "id3"},
}


@pytest.mark.parametrize("rel", sorted(EXPECTED_SPEAKERS))
def test_real_transcript_speakers_match_provenance(real_file, rel):
    t = qualkit.read_transcript(real_file(rel))
    assert set(t.speakers) == EXPECTED_SPEAKERS[rel]
    assert_turn_contract(t)


def test_court_transcript_line_numbers_and_caption_are_not_speakers(real_file):
    t = qualkit.read_transcript(real_file("txt/scotus_11-398_2012-03-26.txt"))
    first = next(turn for turn in t.turns if turn.speaker == "MR. LONG")
    assert t.text[first.start:].startswith("Mr. Chief Justice, and may it")


def test_zoom_chat_export_finds_all_sixty_speakers(real_file):
    path = real_file("txt/ethereum-pm_acde-243_zoom-chat.txt")
    t = qualkit.read_transcript(path)
    expected = set(re.findall(r"^\d\d:\d\d:\d\d\t([^\t]+):\t", t.text, re.M))
    assert len(expected) == 60
    assert set(t.speakers) == expected
    assert t.turns[0].timestamp == 5 * 60 + 7


def test_markdown_meeting_bold_labels_are_speakers(real_file):
    t = qualkit.read_transcript(real_file("txt/ethereum-pm_ACD-EL-Meeting-139.md"))
    bold = set(re.findall(r"^\*\*([^*\n]+)\*\*[ \t]*$", t.text, re.M))
    assert len(bold) == 27
    assert bold <= set(t.speakers)
    assert_turn_contract(t)


def test_stray_case_variant_is_reported(real_file):
    t = qualkit.read_transcript(real_file("focus-group/ta-using-llms_focus_group_5.txt"))
    assert any("TN17" in w and "Tn17" in w for w in t.warnings)


def test_cp1252_lecture_without_labels(real_file):
    t = qualkit.read_transcript(real_file("txt/uoe-teaching-interview_transcript_cp1252.txt"))
    assert t.encoding == "cp1252"
    assert t.speakers == []
    assert "I’m Dr Federico Andreis" in t.text
    assert any("cp1252" in w for w in t.warnings)


def test_mission_log_timestamp_lines_time_the_next_turn(real_file):
    t = qualkit.read_transcript(real_file("txt/spacelog_mr4_ATG.txt"))
    labeled = [turn for turn in t.turns if turn.speaker]
    assert labeled[0].speaker == "STONY" and labeled[0].timestamp == 1
    assert t.turn_text(labeled[0]).startswith("Lift-off.")
