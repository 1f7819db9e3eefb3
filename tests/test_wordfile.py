"""Reading Word (.docx) transcripts as researchers deliver them: bold or plain labels, label
paragraphs, Teams downloads and turn tables, with exact offsets; and refusing hostile files
(zip bombs, external entities, corrupt XML) with a clear message instead of a traceback."""
from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from qualkit.errors import TranscriptError
from qualkit.transcripts import read_transcript, wordfile
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.speakers import segment
from qualkit.transcripts.wordfile import read_docx

REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-transcripts"


def assert_contract(t: Transcript) -> None:
    """Every turn's offsets select its content, with no speaker label inside."""
    for i, turn in enumerate(t.turns):
        assert turn.index == i
        content = t.text[turn.start:turn.end]
        assert content and content == content.strip()
        if turn.speaker is not None:
            assert not content.startswith(f"{turn.speaker}:")
            assert not content.startswith(turn.speaker + "\n")


def turns_of(t: Transcript) -> list[tuple[str | None, str]]:
    assert_contract(t)
    return [(turn.speaker, t.text[turn.start:turn.end]) for turn in t.turns]


def build(tmp_path: Path, name: str, paragraphs: list) -> Path:
    """A .docx from paragraphs: a string, or a list of (text, bold) runs, or "\\n" line breaks."""
    document = docx.Document()
    for para in paragraphs:
        p = document.add_paragraph()
        for run in [(para, False)] if isinstance(para, str) else para:
            text, bold = run
            for k, piece in enumerate(text.split("\n")):
                r = p.add_run(piece)
                r.bold = bold or None
                if k < text.count("\n"):
                    r.add_break()
    path = tmp_path / name
    document.save(str(path))
    return path


# --- paragraph transcripts ------------------------------------------------------------------

def test_bold_run_labels_in_the_same_paragraph_become_turns(tmp_path):
    path = build(tmp_path, "Sam.docx", [
        [("04-Apr-2023 - 11:03 - 38m00s - Pseudonym", True)],
        [("Researcher 1: ", True), ("Can you tell me about your research?", False)],
        [("Sam: ", True), ("I’m a little bit “hybrid”…", False)],
        [("Researcher 1:", True), ("  Okay.", False)],
        [("DR WHO", True), (": I only speak once.", False)],
    ])
    t = read_docx(path)
    assert turns_of(t) == [
        (None, "04-Apr-2023 - 11:03 - 38m00s - Pseudonym"),
        ("Researcher 1", "Can you tell me about your research?"),
        ("Sam", "I’m a little bit “hybrid”…"),
        ("Researcher 1", "Okay."),
        ("DR WHO", "I only speak once."),
    ]
    assert (t.id, t.source_format) == ("Sam", "docx")


def test_a_wholly_bold_paragraph_is_emphasis_not_a_marked_speaker(tmp_path):
    path = build(tmp_path, "guide.docx", [
        [("Interviewer: ", True), ("Let us begin.", False)],
        [("QUESTION THREE: What barriers did you face?", True)],
        [("P1: ", True), ("Money, mostly.", False)],
        [("BOB:", True), (" Same for us.", False)],
    ])
    t = read_docx(path)
    # Only bold that stops at the colon marks a speaker; the wholly bold question is left to
    # the plain-text rules, exactly as if it were not bold.
    plain, _ = segment(t.text, known_speakers=["Interviewer", "P1", "BOB"])
    assert [(x.speaker, x.start, x.end) for x in t.turns] == [(x.speaker, x.start, x.end) for x in plain]
    assert "BOB" in t.speakers
    assert_contract(t)


def test_plain_name_colon_paragraphs_use_the_plain_text_rules(tmp_path):
    path = build(tmp_path, "plain.docx", [
        "Interviewer: How did the clinic start?",
        "Maria: Slowly. Note: we had no money.",
        "Interviewer: And then?",
        "Maria: Then it grew.",
        "Note: recording paused here.",
    ])
    assert turns_of(read_docx(path)) == [
        ("Interviewer", "How did the clinic start?"),
        ("Maria", "Slowly. Note: we had no money."),
        ("Interviewer", "And then?"),
        ("Maria", "Then it grew.\n\nNote: recording paused here."),
    ]


def test_a_label_paragraph_followed_by_text_paragraphs(tmp_path):
    path = build(tmp_path, "Lisa.docx", [
        [("Researcher 1:  ", True)], "Thank you for the interview.", "",
        [("Lisa: ", True)], "Which licence will you use?", "It matters to me.", "",
        [("Researcher 1:", True)], "Probably CC-BY.", "",
    ])
    assert turns_of(read_docx(path)) == [
        ("Researcher 1", "Thank you for the interview."),
        ("Lisa", "Which licence will you use?\n\nIt matters to me."),
        ("Researcher 1", "Probably CC-BY."),
    ]


def test_line_breaks_inside_a_paragraph_stay_in_the_turn(tmp_path):
    path = build(tmp_path, "br.docx", [
        "Interviewer: First line\nsecond line",
        "P1: Yes.",
    ])
    assert turns_of(read_docx(path)) == [("Interviewer", "First line\nsecond line"), ("P1", "Yes.")]


def test_headers_and_footers_are_not_transcript_text(tmp_path):
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "CONFIDENTIAL: draft header"
    section.footer.paragraphs[0].text = "Page footer: do not cite"
    document.add_paragraph("Interviewer: Hello.")
    document.add_paragraph("P1: Hi.")
    path = tmp_path / "hf.docx"
    document.save(str(path))
    t = read_docx(path)
    assert "CONFIDENTIAL" not in t.text and "footer" not in t.text
    assert turns_of(t) == [("Interviewer", "Hello."), ("P1", "Hi.")]


def test_speaker_pattern_decides_labels_in_paragraphs(tmp_path):
    path = build(tmp_path, "pat.docx", ["JANE> We started.", "Interviewer: not a label here", "TOM> Yes."])
    t = read_docx(path, speaker_pattern=r"(?P<speaker>[A-Z]+)>\s*")
    assert turns_of(t) == [("JANE", "We started.\n\nInterviewer: not a label here"), ("TOM", "Yes.")]


def test_known_speakers_from_the_workspace_are_accepted_once(tmp_path):
    path = build(tmp_path, "known.docx", ["Opening remarks.", "Maria: I was there once."])
    assert read_docx(path).speakers == []
    assert read_docx(path, known_speakers=["Maria"]).speakers == ["Maria"]


def test_teams_download_layout_one_paragraph_per_entry(tmp_path):
    path = build(tmp_path, "teams.docx", [
        "0:0:0.0 --> 0:0:1.510\nSome Body\nOK. Yeah.",
        "0:0:3.270 --> 0:0:4.250\nJames Bond\nUmm.",
        "0:0:5.0 --> 0:0:6.0\nJames Bond\nRight.",
    ])
    t = read_docx(path)
    assert turns_of(t) == [("Some Body", "OK. Yeah."), ("James Bond", "Umm. Right.")]
    assert [turn.timestamp for turn in t.turns] == [0.0, pytest.approx(3.27)]


def test_tracked_changes_hyperlinks_and_content_controls(tmp_path):
    body = (
        '<w:p><w:r><w:t xml:space="preserve">Interviewer: We </w:t></w:r>'
        '<w:del w:id="1" w:author="a"><w:r><w:delText>never </w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a"><w:r><w:t xml:space="preserve">always </w:t></w:r></w:ins>'
        '<w:hyperlink r:id="rId9"><w:r><w:t>met</w:t></w:r></w:hyperlink><w:r><w:t>.</w:t></w:r></w:p>'
        '<w:sdt><w:sdtContent><w:p><w:r><w:t>P1: Inside a content control.</w:t></w:r></w:p></w:sdtContent></w:sdt>'
    )
    t = read_docx(raw_docx(tmp_path / "tracked.docx", body))
    assert turns_of(t) == [("Interviewer", "We always met."), ("P1", "Inside a content control.")]


# --- table transcripts ----------------------------------------------------------------------

def table_docx(tmp_path: Path, header: list[str], rows: list[list[str]], title: str = "Interview 4 transcript") -> Path:
    document = docx.Document()
    document.add_paragraph(title)
    table = document.add_table(rows=0, cols=len(header))
    for values in [header, *rows]:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            cell.text = value
    document.add_paragraph("End of interview: thank you.")
    path = tmp_path / "table.docx"
    document.save(str(path))
    return path


def test_a_time_speaker_text_table_gives_one_turn_per_row(tmp_path):
    path = table_docx(tmp_path, ["Time", "Speaker", "Text"], [
        ["00:00:05", "Interviewer", "How did it start?"],
        ["00:00:09", "Maria:", "Slowly."],
        ["00:01:02", "", "Then it grew."],
        ["00:01:30", "Interviewer", "Thanks."],
    ])
    t = read_docx(path)
    assert turns_of(t) == [
        ("Interviewer", "How did it start?"),
        ("Maria", "Slowly.\nThen it grew."),
        ("Interviewer", "Thanks."),
    ]
    assert [turn.timestamp for turn in t.turns] == [5.0, 9.0, 90.0]
    assert "Interview 4 transcript" not in t.text and "thank you" not in t.text


@pytest.mark.parametrize("header", [["PARTICIPANT", "Utterance"], ["Name", "Dialogue"], ["Timestamp", "Speaker:", "Transcript"], ["Start", "Name", "Content"]])
def test_table_header_synonyms_are_recognised_case_insensitively(tmp_path, header):
    rows = [["[00:00:01]", "P1", "Hello."], ["[00:00:02]", "P2", "Hi."]] if len(header) == 3 else [["P1", "Hello."], ["P2", "Hi."]]
    t = read_docx(table_docx(tmp_path, header, rows))
    assert turns_of(t) == [("P1", "Hello."), ("P2", "Hi.")]


def test_a_table_that_is_not_a_transcript_keeps_its_text_in_a_paragraph_transcript(tmp_path):
    path = table_docx(tmp_path, ["Date", "Site"], [["2023-04-04", "Leeds"]], title="Interviewer: Hello.")
    t = read_docx(path)
    assert "2023-04-04\tLeeds" in t.text
    assert t.turns[0].speaker == "Interviewer"
    assert_contract(t)


# --- hostile and broken files ---------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def raw_docx(path: Path, body: str, doctype: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """A minimal .docx written by hand, for inputs python-docx would never produce."""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<w:body>{body}</w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_an_external_entity_does_not_leak_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD")
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    path = raw_docx(tmp_path / "xxe.docx", para("Interviewer: before &xxe; after") + para("P1: ok"), doctype)
    try:
        t = read_docx(path)
    except TranscriptError as err:
        assert "TOP-SECRET" not in str(err)
    else:
        assert "TOP-SECRET" not in t.text
        assert "before" in t.text and t.speakers == ["Interviewer", "P1"]
        assert_contract(t)


def test_an_entity_expansion_bomb_is_not_expanded(tmp_path):
    doctype = (
        '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>"
    )
    path = raw_docx(tmp_path / "lol.docx", para("Interviewer: &i;") + para("P1: ok"), doctype)
    try:
        t = read_docx(path)
    except TranscriptError:
        return
    assert len(t.text) < 1000


def test_corrupt_xml_inside_is_a_clear_error(tmp_path):
    path = raw_docx(tmp_path / "corrupt.docx", "<w:p><w:r><w:t>Interviewer: broken</w:r></w:p>")
    with pytest.raises(TranscriptError, match="XML is damaged"):
        read_docx(path)


def test_a_document_without_a_body_reads_as_empty_not_a_traceback(tmp_path):
    path = tmp_path / "nobody.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>')
    assert read_docx(path).turns == []
    with pytest.raises(TranscriptError, match="no transcript text"):
        read_transcript(path)


def test_a_text_file_renamed_to_docx_is_refused(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("Interviewer: hello")
    with pytest.raises(TranscriptError, match=r"not a Word \.docx file \(not a zip archive\)"):
        read_docx(path)


def test_an_old_doc_or_password_protected_file_gets_a_hint(tmp_path):
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(TranscriptError, match="password-protected"):
        read_docx(path)


def test_a_zip_without_word_document_xml_is_refused(tmp_path):
    path = tmp_path / "book.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(TranscriptError, match="no main document part"):
        read_docx(path)


def test_a_zip_bomb_member_is_refused_before_parsing(tmp_path):
    path = raw_docx(tmp_path / "bomb.docx", para("P1: hi"), extra={"word/media/big.bin": b"\0" * (8 * 1024 * 1024)})
    with pytest.raises(TranscriptError, match=r"word/media/big.bin .*zip bomb"):
        read_docx(path)


def test_too_many_members_are_refused(tmp_path):
    path = raw_docx(tmp_path / "many.docx", para("P1: hi"))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        for i in range(wordfile.MAX_MEMBERS):
            zf.writestr(f"customXml/item{i}.xml", b"")
    with pytest.raises(TranscriptError, match="members"):
        read_docx(path)


def test_too_large_uncompressed_total_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(wordfile, "MAX_UNCOMPRESSED_BYTES", 64 * 1024)
    path = raw_docx(tmp_path / "large.docx", para("P1: hi"), extra={"word/media/photo.bin": bytes(range(256)) * 400})
    with pytest.raises(TranscriptError, match="unpacks to"):
        read_docx(path)


def test_read_transcript_dispatches_docx(tmp_path):
    t = read_transcript(build(tmp_path, "Interview 7.docx", ["Interviewer: Hi.", "P1: Hello."]))
    assert (t.id, t.source_format, turns_of(t)) == ("Interview 7", "docx", [("Interviewer", "Hi."), ("P1", "Hello.")])


# --- real files (see shared/reference/real-transcripts/PROVENANCE.md) ------------------------

def real(rel: str) -> Path:
    path = REAL / rel
    if not path.exists():
        pytest.skip(f"reference file {rel} not present")
    return path


@pytest.mark.parametrize(
    "rel,speakers",
    [
        ("docx/sheffield-orda_Sam.docx", {"Researcher 1", "Sam"}),
        ("docx/sheffield-orda_Lisa.docx", {"Researcher 1", "Lisa"}),
        ("docx/unstructured_teams_chat.docx", {"Some Body", "James Bond"}),
    ],
)
def test_real_labeled_word_files_give_the_speakers_their_provenance_lists(rel, speakers):
    t = read_transcript(real(rel))
    assert_contract(t)
    assert set(t.speakers) == speakers


def test_real_sam_interview_has_84_labeled_turns_after_its_header_line():
    t = read_transcript(real("docx/sheffield-orda_Sam.docx"))
    assert t.turns[0].speaker is None and t.turn_text(0).startswith("04-Apr-2023")
    assert sum(1 for turn in t.turns if turn.speaker) == 84
    assert "’" in t.text


def test_real_lisa_interview_pairs_label_paragraphs_with_their_text():
    t = read_transcript(real("docx/sheffield-orda_Lisa.docx"))
    assert t.turns[1].speaker == "Researcher 1"
    assert t.turn_text(1).startswith("Okay. Great. Well thank you very much")
    assert t.turns[2].speaker == "Lisa" and t.turn_text(2).startswith("Yeah, which Creative Commons")


@pytest.mark.parametrize("rel", ["docx/qualcoder_ID1.docx", "docx/sheffield-orda_Readme-Interviews.docx"])
def test_real_word_files_without_labels_parse(rel):
    t = read_transcript(real(rel))
    assert_contract(t)
    assert t.turns


def test_real_answer_only_file_has_no_speakers_and_keeps_the_euro_sign():
    t = read_transcript(real("docx/qualcoder_ID1.docx"))
    assert t.speakers == [] and "€" in t.text
