"""Reading .txt/.md transcripts: every labelling convention researchers receive."""
from __future__ import annotations

import codecs

import pytest

import qualkit
from qualkit.errors import TranscriptError


def read(tmp_path, text, name="t.txt", **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return qualkit.read_transcript(path, **options)


def turns_of(t):
    """(speaker, content) for each turn; also checks the offset contract on every turn."""
    out = []
    for turn in t.turns:
        content = t.text[turn.start:turn.end]
        assert content == content.strip(), "turn content is trimmed"
        if turn.speaker:
            assert not content.startswith(turn.speaker + ":"), "the label is not part of the content"
        out.append((turn.speaker, content))
    return out


@pytest.mark.parametrize("label", ["Maria", "MARIA", "Dr. Okafor", "P1", "FG2-P3", "Interviewer", "Moderator", "Speaker 2"])
def test_name_colon_labels_become_speakers(tmp_path, label):
    t = read(tmp_path, f"Interviewer: How did it start?\n{label}: It started in May.\nInterviewer: And then?\n{label}: Then it grew.\n")
    assert turns_of(t)[1] == (label, "It started in May.")
    assert t.turns[1].index == 1
    assert t.source_format == "txt"


def test_short_interview_labels_i_and_r(tmp_path):
    t = read(tmp_path, "I: What is your role?\nR: I direct the health district.\nI: Since when?\nR: Four years.\n")
    assert [s for s, _ in turns_of(t)] == ["I", "R", "I", "R"]


def test_bracketed_name_labels(tmp_path):
    t = read(tmp_path, "[Ana] We drove forty miles.\n\n[Ben] No bus out there.\n\n[Ana] Not in winter.\n")
    assert turns_of(t) == [("Ana", "We drove forty miles."), ("Ben", "No bus out there."), ("Ana", "Not in winter.")]


@pytest.mark.parametrize("line, seconds", [
    ("Maria (00:01:23): We start at eight.", 83),
    ("[00:01:23] Maria: We start at eight.", 83),
    ("00:01:23 Maria: We start at eight.", 83),
])
def test_timestamped_labels_give_turn_times(tmp_path, line, seconds):
    t = read(tmp_path, f"{line}\n{line.replace('Maria', 'Interviewer').replace('01:23', '02:00')}\n")
    speaker, content = turns_of(t)[0]
    assert (speaker, content) == ("Maria", "We start at eight.")
    assert t.turns[0].timestamp == seconds
    assert t.turns[1].timestamp == 120


def test_otter_export_label_and_time_on_their_own_line(tmp_path):
    text = ("Speaker 1  0:03\nThanks for joining. Could you describe your role?\n\n"
            "Speaker 2  0:15\nSure. I run the night shift.\nMostly EMS calls.\n\n"
            "Speaker 1  1:02:07\nGot it.\n\nTranscribed by https://otter.ai\n")
    t = read(tmp_path, text)
    got = turns_of(t)
    assert got[0] == ("Speaker 1", "Thanks for joining. Could you describe your role?")
    assert got[1] == ("Speaker 2", "Sure. I run the night shift.\nMostly EMS calls.")
    assert [x.timestamp for x in t.turns[:3]] == [3, 15, 3727]
    # The footer URL is not a speaker: it stays in the last turn's text.
    assert "otter.ai" in got[-1][1] and got[-1][0] == "Speaker 1"


def test_label_on_its_own_line_followed_by_paragraphs(tmp_path):
    text = ("INTERVIEWER\nWhat happens after a visit?\n\nRESPONDENT\nWe call the next day.\n\n"
            "Sometimes twice.\n\nINTERVIEWER\nAnd if no one answers?\n\nRESPONDENT\nWe drive out.\n")
    t = read(tmp_path, text)
    assert turns_of(t)[1] == ("RESPONDENT", "We call the next day.\n\nSometimes twice.")
    assert len(t.turns) == 4


def test_markdown_bold_labels(tmp_path):
    text = "# Call notes\n\n**Ana**\n* Hello all.\n\n**Ben**\n* Hi.\n* Two points.\n\n**Ana**\n* Go ahead.\n"
    t = read(tmp_path, text, name="call.md")
    assert t.source_format == "md"
    got = turns_of(t)
    assert got[0] == (None, "# Call notes")
    assert got[2] == ("Ben", "* Hi.\n* Two points.")


def test_unlabeled_continuation_lines_belong_to_the_previous_turn(tmp_path):
    t = read(tmp_path, "Interviewer: Tell me about referrals.\nMaria: They come by fax,\nsometimes days late.\n\nAnd some never come.\nInterviewer: Why?\n")
    assert turns_of(t)[1] == ("Maria", "They come by fax,\nsometimes days late.\n\nAnd some never come.")


def test_non_speech_brackets_stay_in_the_text(tmp_path):
    t = read(tmp_path, "Interviewer: And then?\nMaria: We lost him [inaudible 00:12:03] after that.\n[crosstalk]\n[laughter] Anyway.\nInterviewer: Okay.\n")
    got = turns_of(t)
    assert got[1] == ("Maria", "We lost him [inaudible 00:12:03] after that.\n[crosstalk]\n[laughter] Anyway.")
    assert t.speakers == ["Interviewer", "Maria"]


def test_note_lines_and_urls_do_not_become_speakers(tmp_path):
    text = ("Interviewer: What changed?\nMaria: The clinic moved.\nNote: the clinic closed in 2024.\n"
            "See http://example.org for the plan.\nhttp://example.org/map is where it was\n"
            "Interviewer: I see.\nMaria: Yes.\nBottom line: we can't arrest our way out of this.\n")
    t = read(tmp_path, text)
    assert t.speakers == ["Interviewer", "Maria"]
    assert "Note: the clinic closed" in turns_of(t)[1][1]
    assert "Bottom line:" in turns_of(t)[3][1]


def test_header_lines_before_the_first_label_are_an_unlabeled_turn(tmp_path):
    text = "PORT Evaluation - Interview 1\nDate: 14 March 2026\n\nInterviewer: Hello.\nSheriff Boyd: Morning.\nInterviewer: Ready?\nSheriff Boyd: Yes.\n"
    t = read(tmp_path, text)
    assert turns_of(t)[0] == (None, "PORT Evaluation - Interview 1\nDate: 14 March 2026")
    assert t.speakers == ["Interviewer", "Sheriff Boyd"]


def test_a_focus_group_member_who_speaks_once_is_still_a_speaker(tmp_path):
    text = "".join(f"Moderator: Question {i}?\nKaren: Answer {i}.\nLuis: Reply {i}.\n" for i in range(3))
    text += "Tamika: I only spoke once.\nModerator: Thanks.\n"
    t = read(tmp_path, text)
    assert "Tamika" in t.speakers


def test_known_speakers_are_accepted_even_once(tmp_path):
    t = read(tmp_path, "Zed: only once here.\n", known_speakers=["Zed"])
    assert turns_of(t) == [("Zed", "only once here.")]


def test_workspace_speaker_pattern_overrides_detection(tmp_path):
    text = "GA: Question?\nTN4: Answer.\nNote: not a speaker.\nGA: Next?\n"
    t = read(tmp_path, text, speaker_pattern=r"^(?P<speaker>[A-Z]{2}\d*):\s")
    assert t.speakers == ["GA", "TN4"]
    assert turns_of(t)[1] == ("TN4", "Answer.\nNote: not a speaker.")


def test_a_speaker_pattern_without_a_speaker_group_is_a_clear_error(tmp_path):
    with pytest.raises(qualkit.QualkitError, match=r"\(\?P<speaker>"):
        read(tmp_path, "A: b\n", speaker_pattern=r"^([A-Z]+):")


def test_a_file_without_labels_gives_one_unlabeled_turn_per_paragraph(tmp_path):
    t = read(tmp_path, "First paragraph\nstill first.\n\nSecond paragraph.\n")
    assert turns_of(t) == [(None, "First paragraph\nstill first."), (None, "Second paragraph.")]
    assert any("no speaker labels" in w for w in t.warnings)


def test_word_count_counts_spoken_words_only(tmp_path):
    t = read(tmp_path, "Interviewer: One two three.\nMaria: Four, five; don't.\nInterviewer: ok\nMaria: ok\n")
    assert t.word_count == 8


# -- encodings and newlines ----------------------------------------------------------------------

SAMPLE = "Interviewer: Café “naloxone” visit?\nMaria: Yes – twice.\nInterviewer: Ok.\nMaria: Ok.\n"


@pytest.mark.parametrize("encoding, bom, expected", [
    ("utf-8", b"", "utf-8"),
    ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
])
def test_unicode_encodings_are_detected(tmp_path, encoding, bom, expected):
    path = tmp_path / "t.txt"
    path.write_bytes(bom + SAMPLE.encode(encoding))
    t = qualkit.read_transcript(path)
    assert t.encoding == expected
    assert t.text == SAMPLE
    assert not t.warnings


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_recognised(tmp_path, codec):
    path = tmp_path / "t.txt"
    path.write_bytes(SAMPLE.encode(codec))
    t = qualkit.read_transcript(path)
    assert t.text == SAMPLE and t.encoding == codec
    assert any("no byte-order mark" in w for w in t.warnings)


def test_one_off_own_line_labels_and_colon_phrases(tmp_path):
    t = read(tmp_path, "Interviewer\nTell me about your role.\n\nJordan Smith\nI coordinate the team.\n\n"
                       "Interviewer\nHow long?\n\nINTERVIEWEE\nTwo years.\n")
    assert t.speakers == ["Interviewer", "Jordan Smith", "INTERVIEWEE"]
    t = read(tmp_path, "Interviewer: Walk me through it.\nP1: Sure.\nStep 1: we get the call.\nAnswer: more staff.\n"
                       "Mom: would call me.\nInterviewer: And then?\nP1: We drive.\nP2: Agreed.\n")
    assert t.speakers == ["Interviewer", "P1", "P2"]


def test_cp1252_is_read_with_a_warning(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(SAMPLE.encode("cp1252"))
    t = qualkit.read_transcript(path)
    assert t.encoding == "cp1252"
    assert "“naloxone”" in t.text
    assert any("cp1252" in w for w in t.warnings)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_newlines_are_normalized(tmp_path, newline):
    path = tmp_path / "t.txt"
    path.write_bytes(SAMPLE.replace("\n", newline).encode("utf-8"))
    t = qualkit.read_transcript(path)
    assert "\r" not in t.text and t.text == SAMPLE


def test_text_is_nfc_so_offsets_agree_across_tools(tmp_path):
    decomposed = "Interviewer: Jose\u0301 came.\nMaria: Yes.\nInterviewer: Ok.\nMaria: Ok.\n"
    t = read(tmp_path, decomposed)
    assert "José" in t.text and "\u0301" not in t.text
    assert t.turn_text(0) == "José came."


# -- bad input --------------------------------------------------------------------------------------

def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(TranscriptError, match="no such file") as e:
        qualkit.read_transcript(tmp_path / "nope.txt")
    assert "nope.txt" in str(e.value)


@pytest.mark.parametrize("name, message", [("a.pdf", "cannot read the PDF"), ("a.doc", "convert-to docx"), ("a.xyz", "unsupported file type .xyz")])
def test_unsupported_extensions_say_what_to_do(tmp_path, name, message):
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(TranscriptError, match=message):
        qualkit.read_transcript(tmp_path / name)


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"")
    with pytest.raises(TranscriptError, match="empty"):
        qualkit.read_transcript(tmp_path / "e.txt")


def test_whitespace_only_file_is_an_error(tmp_path):
    (tmp_path / "e.txt").write_text("\n  \n\t\n")
    with pytest.raises(TranscriptError, match="no transcript text"):
        qualkit.read_transcript(tmp_path / "e.txt")


def test_binary_garbage_is_an_error(tmp_path):
    import random

    rng = random.Random(1)
    (tmp_path / "g.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4000)))
    with pytest.raises(TranscriptError, match="binary|not text"):
        qualkit.read_transcript(tmp_path / "g.txt")


def test_a_titled_name_alone_on_its_line_is_a_one_off_speaker(tmp_path):
    t = read(tmp_path, "INTERVIEWER\nHow far is it?\n\nMARIA\nForty miles.\n\nINTERVIEWER\nAnd then?\n\nMARIA\nWinter.\n\n"
                       "DR. OKAFOR\nIf I may add one thing.\n")
    assert [s for s, _ in turns_of(t)] == ["INTERVIEWER", "MARIA", "INTERVIEWER", "MARIA", "DR. OKAFOR"]


def test_bracketed_labels_with_a_colon_as_de_identified_copies_write_them_are_speakers(tmp_path):
    """A bracketed placeholder as a label (`[FG1-P1]:`, as de-identified text shows it) reads back with its turns."""
    from qualkit.transcripts import read_transcript

    path = tmp_path / "fg1.txt"
    path.write_text("[Interviewer]: So tell me.\n\n[FG1-P1]: Well we go out.\n\n[FG1-P2]: And we knock.\n\n"
                    "[Interviewer]: Thanks.\n\n[FG1-P1]: Sure.\n", encoding="utf-8")
    t = read_transcript(path)
    assert t.speakers == ["Interviewer", "FG1-P1", "FG1-P2"]
    assert [t.text[x.start:x.end] for x in t.turns][:2] == ["So tell me.", "Well we go out."]
