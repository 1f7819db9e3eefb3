"""Transcript layouts as researchers receive them, recognised by their structure: Word for the web /
M365 Transcribe, f4/f5, Markdown headings, WebVTT voice lines in .txt, diarised ASR lines. Each gives
the right speakers, turn boundaries and times, with no label or time mark left in a turn's content."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

import qualkit
from qualkit.cli import cli
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import read_codings
from qualkit.workspace.scaffold import init

_LEFTOVER = re.compile(r"#\d{1,2}:\d{2}:\d{2}|</?v\b|^\[?\d{1,2}:\d{2}|^#+ ")


def read(tmp_path: Path, name: str, text: str) -> qualkit.Transcript:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return qualkit.read_transcript(path)


def turns(t) -> list[tuple[str | None, float | None, str]]:
    """(speaker, seconds, content) per turn; no label or time mark may be left in the content."""
    out = []
    for turn in t.turns:
        content = t.text[turn.start:turn.end]
        assert content == content.strip() and not _LEFTOVER.search(content), content
        if turn.speaker:
            assert not content.startswith(turn.speaker)
        out.append((turn.speaker, turn.timestamp, content))
    return out


def test_f4_labels_with_and_without_a_space_and_time_marks_at_paragraph_end(tmp_path):
    t = read(tmp_path, "f4.txt", "I: Wie kam es dazu? #00:00:05-2#\n\nB:Das war so. #00:01:22-6#\n\n"
                                 "I:Q2 Und dann? #00:01:30-0#\n\nB: Dann ging es weiter. #00:02:00-1#\n")
    # The mark ends its paragraph, so it is the time the next turn starts (Dresing & Pehl).
    assert turns(t) == [("I", None, "Wie kam es dazu?"), ("B", 5.2, "Das war so."),
                        ("I", 82.6, "Q2 Und dann?"), ("B", 90.0, "Dann ging es weiter.")]


def test_a_turn_of_nothing_but_a_time_mark_leaves_turns_numbered_as_a_second_read_numbers_them(tmp_path):
    """A dropped mark-only turn used to leave a gap (0, 2, 3) in a fresh parse, while the same
    transcript read back from the cache was numbered 0, 1, 2: turns.csv then differed cold vs warm."""
    (tmp_path / "transcripts").mkdir()
    init(tmp_path)
    (tmp_path / "transcripts" / "f4.txt").write_text(
        "I: Wie kam es dazu? #00:00:05-1#\n\nB: #00:00:07-2#\n\nI: Und dann?\n\nB: Dann ging es weiter.\n",
        encoding="utf-8")
    fresh = qualkit.read_transcript(tmp_path / "transcripts" / "f4.txt")
    assert [t.index for t in fresh.turns] == [0, 1, 2]
    assert turns(fresh)[1] == ("I", 7.2, "Und dann?")
    ws = qualkit.Workspace(tmp_path)
    cold = [(t.index, t.start, t.end) for t in ws.transcript("f4").turns]
    warm = [(t.index, t.start, t.end) for t in qualkit.Workspace(tmp_path).transcript("f4").turns]
    assert cold == warm == [(t.index, t.start, t.end) for t in fresh.turns]


def test_markdown_heading_labels_over_paragraphs(tmp_path):
    t = read(tmp_path, "bpm.md", "### Interviewer\n\nHow did it start?\n\n### Business Process Manager\n\n"
                                 "We began in May.\n\nIt was hard.\n\n### Interviewer\n\nWhy?\n\n"
                                 "### Business Process Manager\n\nMoney.\n")
    assert [(s, c) for s, _, c in turns(t)] == [
        ("Interviewer", "How did it start?"), ("Business Process Manager", "We began in May.\n\nIt was hard."),
        ("Interviewer", "Why?"), ("Business Process Manager", "Money.")]


def test_webvtt_voice_lines_saved_as_text(tmp_path):
    t = read(tmp_path, "talk.txt", "00:00:03 <v Michael Kennedy>Welcome to the show.</v>\n"
                                   "00:00:07 <v Guest Person>Thanks for having me.\n"
                                   "00:01:09 <v Michael Kennedy>So tell me.\n")
    assert turns(t) == [("Michael Kennedy", 3.0, "Welcome to the show."),
                        ("Guest Person", 7.0, "Thanks for having me."), ("Michael Kennedy", 69.0, "So tell me.")]


def test_diarised_asr_lines_give_times_out_of_the_text(tmp_path):
    t = read(tmp_path, "asr.txt", "[Speaker 1] [00:04] Hello there.\n[Speaker 3] [12:04] Fine thanks.\n"
                                  "[Speaker 1] [12:10] Good.\n")
    assert turns(t) == [("Speaker 1", 4.0, "Hello there."), ("Speaker 3", 724.0, "Fine thanks."),
                        ("Speaker 1", 730.0, "Good.")]


def transcribe_docx(path: Path, main_part: str = "word/document2.xml") -> Path:
    """A .docx as Word for the web's Transcribe saves it: ``00:00:03 Speaker 1`` paragraphs, then the
    speech, with the main part renamed (named only in _rels/.rels)."""
    d = docx.Document()
    d.add_paragraph("Interview 4")
    for stamp, who, paras in [("00:00:03", "Speaker 1", ["Thanks for joining."]),
                              ("00:00:09", "Speaker 2", ["Happy to.", "Where do we start?"]),
                              ("00:01:15", "Speaker 1", ["With referrals."])]:
        d.add_paragraph(f"{stamp} {who}")
        for p in paras:
            d.add_paragraph(p)
    plain = path.with_suffix(".tmp")
    d.save(str(plain))
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            name = item.filename
            if name == "word/document.xml":
                name = main_part
            elif name == "word/_rels/document.xml.rels":
                name = main_part.replace("word/", "word/_rels/") + ".rels"
            if name in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"/word/document.xml", b"/" + main_part.encode()).replace(
                    b"word/document.xml", main_part.encode())
            dst.writestr(name, data)
    plain.unlink()
    return path


def test_word_transcribe_docx_with_its_main_part_in_document2_xml(tmp_path):
    t = qualkit.read_transcript(transcribe_docx(tmp_path / "int4.docx"))
    assert turns(t) == [(None, None, "Interview 4"), ("Speaker 1", 3.0, "Thanks for joining."),
                        ("Speaker 2", 9.0, "Happy to.\n\nWhere do we start?"), ("Speaker 1", 75.0, "With referrals.")]


def test_import_word_comments_reads_document2_and_leaves_the_label_out_of_a_whole_paragraph(tmp_path):
    root = init(tmp_path / "ws")
    save_codebook(Codebook("main", "Main", [Code("delays", "Delays")]), root / "codebooks" / "main.yaml")
    d = docx.Document()
    d.add_paragraph("I: Wie kommen Überweisungen an?")
    p = d.add_paragraph()
    runs = [p.add_run("B: "), p.add_run("Per Fax, Tage zu spät.")]
    d.add_paragraph("I: Immer?")
    d.add_paragraph("B: Meistens.")
    d.add_comment(runs, text="delays", author="Ana")
    path = root / "transcripts" / "int2.docx"
    d.save(str(path))
    r = CliRunner().invoke(cli, ["--workspace", str(root), "import", "word-comments", str(path), "--coder", "ana"])
    assert r.exit_code == 0, r.output
    (c,) = read_codings(root / "codings" / "ana.csv")
    assert c.text == "Per Fax, Tage zu spät."


@pytest.mark.parametrize("main_part", ["word/document2.xml", "word/main.xml"])
def test_word_comments_find_the_main_part_through_the_relationships(tmp_path, main_part):
    from qualkit.coding.imports.word_comments import read_word_comments

    path = transcribe_docx(tmp_path / "int4.docx", main_part)
    assert read_word_comments(path).paragraphs[1] == "00:00:03 Speaker 1"


# Layouts seen on public transcript pages (described, not copied): a transcription service's export
# with a "[00:00:15]" line over each unlabeled paragraph, and a podcast host's "00:00:37: text" lines.
@pytest.mark.parametrize("text", [
    "[00:00:15]\n\nFirst part of the talk.\n\n[00:00:33]\n\nSecond part,\nover two lines.\n",
    "00:00:15: First part of the talk.\n\n00:00:33: Second part,\nover two lines.\n",
])
def test_timed_paragraphs_without_speakers_keep_the_time_out_of_the_text(tmp_path, text):
    t = read(tmp_path, "podcast.txt", text)
    assert turns(t) == [(None, 15.0, "First part of the talk."), (None, 33.0, "Second part,\nover two lines.")]


# Transcription-service exports, as their public style guides describe them (our own text):
@pytest.mark.parametrize("text, times", [
    # Rev: "Name (mm:ss):" on its own line, the speech below
    ("Jane Doe (00:03):\nThanks for coming.\n\nJohn Roe (00:09):\nHappy to be here.\n\nJane Doe (00:15):\nLet's start.\n",
     [3.0, 9.0, 15.0]),
    # Trint-style: name, bracketed time, speech on one line
    ("Jane Doe [00:00:03] Thanks for coming.\n\nJohn Roe [00:00:09] Happy to be here.\n\nJane Doe [00:00:15] Let's start.\n",
     [3.0, 9.0, 15.0]),
    # Sonix/Descript-style: "Name: [time] speech", each speaker once is enough (the time marks the label)
    ("Jane Doe: [00:00:03] Thanks for coming.\nJohn Roe: [00:00:09] Happy to be here.\nJane Doe: [00:00:15] Let's start.\n",
     [3.0, 9.0, 15.0]),
    # Scribie: "S1: speech [hh:mm:ss]", the time closing the paragraph (so it starts the next turn)
    ("S1: Thanks for coming. [00:00:09]\n\nS2: Happy to be here. [00:00:15]\n\nS1: Let's start.\n", [None, 9.0, 15.0]),
])
def test_transcription_service_layouts(tmp_path, text, times):
    t = read(tmp_path, "svc.txt", text)
    got = turns(t)
    assert [c for _, _, c in got] == ["Thanks for coming.", "Happy to be here.", "Let's start."]
    assert [s for s, _, _ in got][0] in ("Jane Doe", "S1") and [x for _, x, _ in got] == times


def test_a_sentence_opening_with_a_bracketed_time_is_not_a_speaker(tmp_path):
    t = read(tmp_path, "memo.txt", "Then [10:30] we went home.\nIt was late.\n")
    assert t.speakers == []
