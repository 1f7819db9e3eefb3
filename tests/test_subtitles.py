"""Reading WebVTT and SRT transcripts as a researcher receives them from Zoom, Teams, OHD,
noScribe and Whisper: speaker turns with exact offsets, lenient where files are sloppy and a
clear ``path:line: message`` where they are broken."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qualkit.errors import TranscriptError
from qualkit.transcripts import read_transcript
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.subtitles import read_srt, read_vtt

REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-transcripts"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def assert_contract(t: Transcript) -> None:
    """Every turn's offsets select its content, with no speaker label inside."""
    for i, turn in enumerate(t.turns):
        assert turn.index == i
        content = t.text[turn.start:turn.end]
        assert content and content == content.strip()
        if turn.speaker is not None:
            assert not content.startswith(f"{turn.speaker}:")
            assert t.text[:turn.start].endswith(f"{turn.speaker}: ")
        assert "<v" not in content and "-->" not in content


def turns_of(t: Transcript) -> list[tuple[str | None, str]]:
    assert_contract(t)
    return [(turn.speaker, t.text[turn.start:turn.end]) for turn in t.turns]


# --- Zoom -----------------------------------------------------------------------------------

ZOOM = """WEBVTT

1
00:02:43.480 --> 00:02:46.369
Jihoon: Hey guys, I think we can wait a few more minutes.

2
00:03:32.160 --> 00:03:33.870
Jihoon: Alright, I think we can kick it off.

3
00:03:36.090 --> 00:03:40.609
Jihoon: So, hello everyone…

4
00:03:41.160 --> 00:03:45.480
Fabio Di Fabio: Not a real update.

5
00:03:45.680 --> 00:03:49.340
Jihoon: Nice.
"""


def test_zoom_speaker_split_over_three_cues_becomes_one_turn_with_the_first_cue_time(tmp_path):
    t = read_vtt(write(tmp_path, "zoom.vtt", ZOOM, newline="\r\n"))
    assert turns_of(t) == [
        ("Jihoon", "Hey guys, I think we can wait a few more minutes. Alright, I think we can kick it off. So, hello everyone…"),
        ("Fabio Di Fabio", "Not a real update."),
        ("Jihoon", "Nice."),
    ]
    assert [turn.timestamp for turn in t.turns] == [pytest.approx(163.48), pytest.approx(221.16), pytest.approx(225.68)]
    assert t.id == "zoom" and t.source_format == "vtt" and t.warnings == []


def test_the_text_reads_as_time_speaker_and_speech_paragraphs(tmp_path):
    t = read_vtt(write(tmp_path, "zoom.vtt", ZOOM))
    assert t.text.splitlines()[2] == "[00:03:41] Fabio Di Fabio: Not a real update."
    assert "\r" not in t.text


def test_an_unlabeled_zoom_cue_is_an_unknown_speaker_not_the_previous_one(tmp_path):
    text = ZOOM + "\n6\n00:03:50.000 --> 00:03:51.000\nHmm.\n\n7\n00:03:52.000 --> 00:03:53.000\nJihoon: Right.\n"
    t = read_vtt(write(tmp_path, "zoom.vtt", text))
    assert turns_of(t)[-3:] == [("Jihoon", "Nice."), (None, "Hmm."), ("Jihoon", "Right.")]


def test_a_one_off_zoom_name_is_a_speaker_because_zoom_labels_every_cue(tmp_path):
    cues = "".join(
        f"{i}\n00:00:{i:02d}.000 --> 00:00:{i:02d}.900\n{name}: line {i}\n\n"
        for i, name in enumerate(["Ann Lee", "bob"] * 6 + ["Akash | ECH", "Ann Lee", "@ritz / Hubert (EIP-1)", "bob"], start=1)
    )
    t = read_vtt(write(tmp_path, "z.vtt", "WEBVTT\n\n" + cues))
    assert t.speakers == ["Ann Lee", "bob", "Akash | ECH", "@ritz / Hubert (EIP-1)"]
    assert_contract(t)


def test_note_and_urls_in_cue_text_are_not_speakers(tmp_path):
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nNote: this is where the clinic was.\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nhttp://example.org: see the website.\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\nThe reason: money.\n"
    )
    t = read_srt(write(tmp_path, "whisper.srt", text))
    assert t.speakers == []
    assert turns_of(t) == [(None, "Note: this is where the clinic was. http://example.org: see the website. The reason: money.")]


# --- Teams, OHD, noScribe -------------------------------------------------------------------

def test_teams_voice_tags_with_unpadded_times_and_overlap(tmp_path):
    text = (
        "WEBVTT\n\n0:0:0.0 --> 0:0:0.570\n<v Yuri Bakulin>There you go.</v>\n\n"
        "0:0:0.210 --> 0:0:1.130\n<v Adrian Petrescu>Why hello there, Yuri.</v>\n"
    )
    t = read_vtt(write(tmp_path, "teams.vtt", text))
    assert turns_of(t) == [("Yuri Bakulin", "There you go."), ("Adrian Petrescu", "Why hello there, Yuri.")]
    assert t.turns[1].timestamp == pytest.approx(0.21)
    assert any("overlap" in w and "line 6" in w for w in t.warnings)


def test_new_teams_export_with_guid_cue_ids(tmp_path):
    text = (
        "WEBVTT\n\n6f6c2b1e-9b4f-4f0a-a1b2-3c4d5e6f7a8b/12-0\n00:00:03.120 --> 00:00:05.000\n"
        "<v Ann Lee>We can start.</v>\n\n6f6c2b1e-9b4f-4f0a-a1b2-3c4d5e6f7a8b/13-0\n00:00:05.500 --> 00:00:07.000\n"
        "<v Ann Lee>Everyone here?</v>\n"
    )
    t = read_vtt(write(tmp_path, "teams.vtt", text))
    assert turns_of(t) == [("Ann Lee", "We can start. Everyone here?")]
    assert "6f6c2b1e" not in t.text


def test_two_voices_in_one_cue_are_two_turns(tmp_path):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v.loud Ann>Hello?</v>\n<v Bob>Hi Ann.</v>\n"
    assert turns_of(read_vtt(write(tmp_path, "two.vtt", text))) == [("Ann", "Hello?"), ("Bob", "Hi Ann.")]


def test_a_closed_teams_voice_does_not_carry_into_an_untagged_cue(tmp_path):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello.</v>\n\n00:00:02.500 --> 00:00:03.000\n(door closes)\n"
    assert turns_of(read_vtt(write(tmp_path, "t.vtt", text))) == [("Ann", "Hello."), (None, "(door closes)")]


OHD = """WEBVTT

00:00:05.495 --> 00:00:18.924
<v INT> Victor, kannst Du uns erklären, warum die Aktiengesellschaften <[?]> .

00:00:19.315 --> 00:00:28.684
<v AB> Ja, das ist ein sehr kompliziertes Thema.

00:00:29.535 --> 00:01:03.641
Die Firmen, warum so strukturiert sind.

00:01:35.366 --> 00:01:35.666
Ja.

00:04:05.311 --> 00:04:09.000
<v INT> Wie hat man denn da so Aktien verteilt?
"""


def test_ohd_voice_tag_only_on_speaker_change_carries_over_to_the_following_cues(tmp_path):
    t = read_vtt(write(tmp_path, "ohd.vtt", OHD))
    assert turns_of(t) == [
        ("INT", "Victor, kannst Du uns erklären, warum die Aktiengesellschaften <[?]> ."),
        ("AB", "Ja, das ist ein sehr kompliziertes Thema. Die Firmen, warum so strukturiert sind. Ja."),
        ("INT", "Wie hat man denn da so Aktien verteilt?"),
    ]
    assert t.turns[1].timestamp == pytest.approx(19.315)


NOSCRIBE = """WEBVTT Ein Gespräch mit Heikedine Körting

NOTE
Transcribed with noScribe vers. 0.7 Audio file: ./x.mp3 (Speaker detection: auto)

1
00:00:00.000 --> 00:00:12.140
(12 seconds pause)

2
00:00:34.570 --> 00:00:35.790
<v S01>Guten Tag. //S02: Ist das herrlich. // Ich kann das gar nicht fassen.

3
00:00:36.190 --> 00:00:36.330
<v S00>Ja.

4
00:00:37.000 --> 00:00:38.000
<v //S02>Okay, also hat es dann einfach... //S00: So genau. //
"""


def test_noscribe_voices_keep_inline_overlaps_in_the_text(tmp_path):
    t = read_vtt(write(tmp_path, "noscribe.vtt", NOSCRIBE))
    assert turns_of(t) == [
        (None, "(12 seconds pause)"),
        ("S01", "Guten Tag. //S02: Ist das herrlich. // Ich kann das gar nicht fassen."),
        ("S00", "Ja."),
        ("S02", "Okay, also hat es dann einfach... //S00: So genau. //"),
    ]
    assert "Transcribed with noScribe" not in t.text


def test_cue_markup_is_removed_and_entities_decoded(tmp_path):
    text = (
        "WEBVTT\nKind: captions\nLanguage: en\n\n"
        "STYLE\n::cue { color: yellow }\n\n"
        "REGION\nid:fred width:40%\n\n"
        "intro\n00:00:01.000 --> 00:00:04.000 align:start position:0%\n"
        "<v Ann><c.yellow>Fi</c>sh &amp; <i>chips</i><br/><b>at</b><00:00:02.500> <u>noon</u>&nbsp;&lt;3</v>\n"
    )
    t = read_vtt(write(tmp_path, "markup.vtt", text))
    assert turns_of(t) == [("Ann", "Fish & chips at noon <3")]
    assert "captions" not in t.text and "yellow" not in t.text


# --- labels in cue text ---------------------------------------------------------------------

def test_an_srt_labeling_only_speaker_changes_carries_the_label_over(tmp_path):
    text = (
        "1\n00:00:01,000 --> 00:00:03,000\nInterviewer: How did it start?\n\n"
        "2\n00:00:03,000 --> 00:00:06,000\nP1: It started slowly.\n\n"
        "3\n00:00:09,000 --> 00:00:12,000\nThen the clinic opened.\n\n"
        "4\n00:00:12,000 --> 00:00:14,000\nAnd we came.\n\n"
        "5\n00:00:14,000 --> 00:00:16,000\nInterviewer: Thanks.\n\n"
        "6\n00:00:16,000 --> 00:00:17,000\nAnything else?\n\n"
    )
    t = read_srt(write(tmp_path, "labels.srt", text))
    assert turns_of(t) == [
        ("Interviewer", "How did it start?"),
        ("P1", "It started slowly. Then the clinic opened. And we came."),
        ("Interviewer", "Thanks. Anything else?"),
    ]


def test_a_known_speaker_is_accepted_even_once(tmp_path):
    text = (
        "1\n00:00:01,000 --> 00:00:03,000\nMaria: The clinic closed.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nso we moved.\n"
    )
    path = write(tmp_path, "once.srt", text)
    assert read_srt(path).speakers == []
    assert turns_of(read_srt(path, known_speakers=["Maria"])) == [("Maria", "The clinic closed. so we moved.")]


def test_a_speaker_pattern_alone_decides_labels_in_cues(tmp_path):
    text = (
        "1\n00:00:01,000 --> 00:00:03,000\nJANE> The clinic closed.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nInterviewer: so you moved?\n\n"
        "3\n00:00:04,000 --> 00:00:05,000\nTOM> We did.\n"
    )
    t = read_srt(write(tmp_path, "pattern.srt", text), speaker_pattern=r"(?P<speaker>[A-Z]+)>\s*")
    assert turns_of(t) == [("JANE", "The clinic closed. Interviewer: so you moved?"), ("TOM", "We did.")]


def test_two_labeled_lines_in_one_cue_are_two_turns(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:03,000\nInterviewer: Ready?\nP1: Yes.\n\n2\n00:00:03,000 --> 00:00:04,000\nInterviewer: Go.\n"
    assert turns_of(read_srt(write(tmp_path, "two.srt", text))) == [
        ("Interviewer", "Ready?"), ("P1", "Yes."), ("Interviewer", "Go.")
    ]


# --- files without speakers -----------------------------------------------------------------

def srt_cues(spans: list[tuple[float, float, str]]) -> str:
    def ts(s: float) -> str:
        return f"{int(s) // 3600:02d}:{int(s) % 3600 // 60:02d}:{int(s) % 60:02d},{round(s % 1 * 1000):03d}"

    return "".join(f"{i}\n{ts(a)} --> {ts(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(spans, start=1))


def test_whisper_srt_without_labels_starts_a_new_turn_at_a_two_second_pause(tmp_path):
    text = srt_cues([(0, 4, "Where were you born?"), (4, 6, "And when?"), (8, 12, "In Jackson,"), (12, 13, "in 1941."), (14.5, 16, "I see.")])
    t = read_srt(write(tmp_path, "whisper.srt", text))
    assert turns_of(t) == [(None, "Where were you born? And when?"), (None, "In Jackson, in 1941. I see.")]
    assert [turn.timestamp for turn in t.turns] == [0.0, 8.0]
    assert any("no speaker labels" in w for w in t.warnings)


def test_unlabeled_speech_without_pauses_is_cut_at_sentence_ends_about_every_minute(tmp_path):
    spans = [(i * 10, i * 10 + 10, f"Sentence {i}." if i % 2 else f"Clause {i},") for i in range(30)]
    t = read_srt(write(tmp_path, "long.srt", srt_cues(spans)))
    assert 3 <= len(t.turns) <= 6
    assert all(t.text[turn.start:turn.end].endswith(".") for turn in t.turns)
    assert_contract(t)


# --- sloppy files -----------------------------------------------------------------------------

def test_missing_webvtt_header_is_read_with_a_warning(tmp_path):
    t = read_vtt(write(tmp_path, "nohead.vtt", "1\n00:00:01.000 --> 00:00:02.000\nInterviewer: Hello.\n"))
    assert turns_of(t) == [("Interviewer", "Hello.")]
    assert any("WEBVTT" in w for w in t.warnings)


def test_text_before_the_first_srt_cue_is_ignored_with_a_warning(tmp_path):
    t = read_srt(write(tmp_path, "title.srt", "My interview\n\n" + srt_cues([(1, 2, "Hello.")])))
    assert turns_of(t) == [(None, "Hello.")]
    assert any("before the first cue" in w and "line 1" in w for w in t.warnings)


def test_out_of_order_and_backwards_cues_are_read_in_file_order_with_warnings(tmp_path):
    text = srt_cues([(10, 12, "First."), (5, 6, "Second.")]) + "3\n00:00:20,000 --> 00:00:19,000\nThird.\n"
    t = read_srt(write(tmp_path, "order.srt", text))
    assert " ".join(c for _, c in turns_of(t)) == "First. Second. Third."
    assert any("start before" in w and "line 6" in w for w in t.warnings)
    assert any("end before they start" in w and "line 10" in w for w in t.warnings)


def test_empty_cues_are_skipped_with_a_warning(tmp_path):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello.</v>\n\n00:00:02.000 --> 00:00:03.000\n<i></i>\n\n00:00:03.000 --> 00:00:04.000\n\n"
    t = read_vtt(write(tmp_path, "empty.vtt", text))
    assert turns_of(t) == [("Ann", "Hello.")]
    assert any("2 empty cues" in w and "line 6" in w for w in t.warnings)


def test_srt_cues_without_blank_lines_between_them_are_still_separate(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:02,000\nInterviewer: Hi.\n2\n00:00:02,000 --> 00:00:03,000\nP1: Hello.\n"
    assert turns_of(read_srt(write(tmp_path, "tight.srt", text))) == [("Interviewer", "Hi."), ("P1", "Hello.")]


def test_a_blank_line_inside_an_srt_cue_keeps_the_text_with_a_warning(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:02,000\nInterviewer: Hi\n\nthere.\n\n2\n00:00:02,000 --> 00:00:03,000\nP1: Hello.\n"
    t = read_srt(write(tmp_path, "gap.srt", text))
    assert turns_of(t) == [("Interviewer", "Hi there."), ("P1", "Hello.")]
    assert any("outside any cue" in w and "line 5" in w for w in t.warnings)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_bom_utf16_and_cp1252_files_are_decoded(tmp_path, encoding):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v José>It’s “fine” – café.</v>\n"
    t = read_vtt(write(tmp_path, "enc.vtt", text, encoding=encoding, newline="\r\n"))
    assert turns_of(t) == [("José", "It’s “fine” – café.")]
    assert not any("WEBVTT" in w for w in t.warnings)
    assert any("cp1252" in w for w in t.warnings) == (encoding == "cp1252")


# --- broken files ---------------------------------------------------------------------------

def test_a_timing_line_that_does_not_parse_names_its_line(tmp_path):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n\n00:00:0x.000 --> 00:00:03.000\nBroken.\n"
    path = write(tmp_path, "broken.vtt", text)
    with pytest.raises(TranscriptError) as err:
        read_vtt(path)
    assert err.value.line == 6
    assert str(err.value).startswith(f"{path}:6: cue timing does not parse")


def test_minutes_over_59_are_a_broken_timing(tmp_path):
    with pytest.raises(TranscriptError) as err:
        read_srt(write(tmp_path, "bad.srt", "1\n00:61:00,000 --> 00:62:00,000\nHi.\n"))
    assert err.value.line == 2


@pytest.mark.parametrize("content", ["", "WEBVTT\n\nNOTE nothing here\n", "just some text\nwith lines\n"])
def test_a_file_without_cues_is_an_error(tmp_path, content):
    with pytest.raises(TranscriptError, match="no subtitle cues"):
        read_vtt(write(tmp_path, "none.vtt", content))


def test_binary_garbage_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "video.srt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(TranscriptError):
        read_srt(path)


def test_read_transcript_dispatches_by_extension(tmp_path):
    t = read_transcript(write(tmp_path, "Interview 3.srt", srt_cues([(1, 2, "Hello.")])))
    assert (t.id, t.source_format, turns_of(t)) == ("Interview 3", "srt", [(None, "Hello.")])


# --- real files (see shared/reference/real-transcripts/PROVENANCE.md) ------------------------

def real(rel: str) -> Path:
    path = REAL / rel
    if not path.exists():
        pytest.skip(f"reference file {rel} not present")
    return path


@pytest.mark.parametrize(
    "rel,speakers",
    [
        ("vtt/ethereum-pm_focil-029_zoom-transcript.vtt", {"Jihoon", "Pelle Krabbenhoeft", "Fabio Di Fabio", "nflaig"}),
        ("vtt/zoomstudentengagement_GMT20240124-202901_Recording.transcript.vtt", 5),
        ("vtt/ethereum-pm_acde-243_zoom-transcript.vtt", 25),
        ("vtt/webvtt-py_teams_timeframe.vtt", {"Yuri Bakulin", "Adrian Petrescu"}),
        ("vtt/ohd_transcript_de.vtt", {"INT", "AB"}),
        ("vtt/noscribe_interview.vtt", {"S00", "S01", "S02"}),
        ("srt/pipeline-ui_interview.srt", set()),
    ],
)
def test_real_subtitle_files_give_the_speakers_their_provenance_lists(rel, speakers):
    t = read_transcript(real(rel))
    assert_contract(t)
    if isinstance(speakers, int):
        assert len(t.speakers) == speakers
    else:
        assert set(t.speakers) == speakers
    assert len(t.turns) >= 2


def test_real_zoom_file_keeps_names_with_punctuation_whole():
    t = read_transcript(real("vtt/ethereum-pm_acde-243_zoom-transcript.vtt"))
    assert {"Justin Florentine (Besu)", "Lumi | Offchain Labs", "Akash | ECH", "jochem-brouwer", "nixo",
            "@ritzdorf / Hubert Ritzdorf (EIP-8219)"} <= set(t.speakers)
    assert not any(re.match(r"\d\d$", s) for s in t.speakers)


def test_real_zoom_file_with_an_honorific_and_one_unlabeled_cue():
    t = read_transcript(real("vtt/zoomstudentengagement_GMT20240124-202901_Recording.transcript.vtt"))
    assert "Dr. Melissa Ko" in t.speakers
    assert [t.turn_text(x) for x in t.turns if x.speaker is None] == ["Hmm."]


def test_real_noscribe_file_keeps_overlaps_and_reads_its_backwards_cue():
    t = read_transcript(real("vtt/noscribe_interview.vtt"))
    assert "//S02: Ist das herrlich. //" in t.text
    assert t.turn_text(0) == "(12 seconds pause)" and t.turns[0].speaker is None
    assert any("end before they start" in w for w in t.warnings)


def test_real_whisper_srt_is_many_unlabeled_turns_not_one():
    t = read_transcript(real("srt/pipeline-ui_interview.srt"))
    assert len(t.turns) > 50
    assert all(turn.speaker is None for turn in t.turns)
    assert max(turn.end - turn.start for turn in t.turns) < 5000
