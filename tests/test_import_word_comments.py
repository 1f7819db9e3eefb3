"""`qualkit import word-comments`: a coder's Word comments on a transcript become codings."""
from __future__ import annotations

import json

import docx
import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.coding.imports import CodeMatcher
from qualkit.coding.imports.word_comments import parse_comment_text
from qualkit.workspace.codebook import Code, Codebook, load_codebook, save_codebook
from qualkit.workspace.codings import read_codings
from qualkit.workspace.scaffold import init

CODES = [Code("data_sharing", "Inter-partner data sharing"), Code("delays", "Referral delays"),
         Code("stigma", "Stigma"), Code("peer_support", "Peer support")]


@pytest.fixture
def root(tmp_path):
    root = init(tmp_path / "ws")
    save_codebook(Codebook("main", "Main", list(CODES)), root / "codebooks" / "main.yaml")
    return root


def run(root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(root), "import", "word-comments", *args])


def interview_docx(path, comments):
    """A transcript as a coder receives it, commented: ``comments`` is a list of
    (first run key, last run key, comment text)."""
    d = docx.Document()
    runs = {}
    d.add_paragraph("Interviewer: How do referrals arrive?")
    p = d.add_paragraph("Maria: ")
    runs["fax"] = p.add_run("By fax, usually ")
    runs["late"] = p.add_run("days late.")
    p.add_run(" Nobody calls.")
    d.add_paragraph("Interviewer: Why is that?")
    p = d.add_paragraph("Maria: ")
    runs["shame"] = p.add_run("People are ashamed to ask for help")
    p.add_run(", so the peer specialist calls first.")
    runs["header"] = d.sections[0].header.paragraphs[0].add_run("PORT study, confidential")
    for first, last, text in comments:
        d.add_comment([runs[first], runs[last]], text=text, author="Ana Lopez")
    d.save(path)
    return path


def test_comments_on_the_transcript_itself_become_codings(root):
    path = interview_docx(root / "transcripts" / "int2.docx", [
        ("fax", "late", "Inter-partner data sharing; delays -- they still fax the forms"),
        ("late", "shame", "stigma\nmemo: spans two answers"),
    ])
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "Imported 3 codings" in r.output
    text = Workspace(root).transcript("int2").text
    rows = sorted(read_codings(root / "codings" / "ana.csv"), key=lambda c: (c.start, c.code))
    for c in rows:
        assert text[c.start:c.end] == c.text
    assert [(c.code, c.text, c.memo) for c in rows] == [
        ("data_sharing", "By fax, usually days late.", "they still fax the forms"),
        ("delays", "By fax, usually days late.", "they still fax the forms"),
        ("stigma", "days late. Nobody calls.\n\nInterviewer: Why is that?\n\nMaria: People are ashamed to ask for help",
         "spans two answers"),
    ]
    assert rows[0].start == text.index("By fax")

    # Importing again adds nothing.
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 0 and "Skipped 3 duplicates" in r.output


def test_a_commented_copy_maps_onto_an_edited_transcript(root, tmp_path):
    # The transcript in the workspace was corrected after the coder got her copy.
    (root / "transcripts" / "int3.txt").write_text(
        "[Recording starts]\n\nInterviewer: How do referrals arrive?\n\n"
        "Maria: By fax, usually days late. Nobody calls.\n\n"
        "Interviewer: Why is that?\n\n"
        "Maria: People are too ashamed to ask for help, so the peer specialist calls first.\n", encoding="utf-8")
    path = interview_docx(tmp_path / "int3 - Ana's coding.docx", [
        ("fax", "late", "Referral delays"),
        ("shame", "shame", "Stigma"),
    ])
    r = run(root, str(path), "--coder", "ana", "--transcript", "int3", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    methods = {p["code"]: p["method"] for p in data["placed"]}
    # The unchanged paragraph is found where it now is; the edited one by a fuzzy match.
    assert methods == {"delays": "anchored", "stigma": "fuzzy"}
    text = Workspace(root).transcript("int3").text
    rows = {c.code: c for c in read_codings(root / "codings" / "ana.csv")}
    assert rows["delays"].text == "By fax, usually days late."
    assert rows["stigma"].text == "People are too ashamed to ask for help"
    for c in rows.values():
        assert text[c.start:c.end] == c.text


def test_unknown_code_writes_nothing_until_add_missing_makes_it_inductive(root):
    path = interview_docx(root / "transcripts" / "int2.docx", [
        ("fax", "late", "Fax machines, Stigmma"),
    ])
    before = (root / "codebooks" / "main.yaml").read_text()
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 1
    assert "unknown code 'Fax machines'" in r.output and "--add-missing" in r.output
    assert "comment 1 by Ana Lopez (paragraph 2)" in r.output
    assert "Traceback" not in r.output
    assert not (root / "codings" / "ana.csv").exists()
    assert (root / "codebooks" / "main.yaml").read_text() == before

    r = run(root, str(path), "--coder", "ana", "--add-missing")
    assert r.exit_code == 0, r.output
    assert "added inductive code 'fax_machines'" in r.output
    assert "read as 'stigma'" in r.output  # the misspelling is a reported guess, not a new code
    book = load_codebook(root / "codebooks" / "main.yaml")
    new = book.get("fax_machines")
    assert new is not None and new.origin == "inductive" and new.name == "Fax machines"
    assert "fax_machines" in book.changelog[-1].what and book.changelog[-1].who == "ana"
    assert list((root / ".qualkit" / "backups").glob("main.yaml.*.bak"))
    assert sorted(c.code for c in read_codings(root / "codings" / "ana.csv")) == ["fax_machines", "stigma"]


def test_a_comment_in_the_header_is_reported_not_imported(root):
    path = interview_docx(root / "transcripts" / "int2.docx", [
        ("fax", "late", "delays"),
        ("header", "header", "stigma"),
    ])
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 1
    assert f"{path}: comment 2 by Ana Lopez: anchored in a page header, not in the transcript's text" in r.output
    assert not (root / "codings" / "ana.csv").exists()
    r = run(root, str(path), "--coder", "ana", "--partial")
    assert r.exit_code == 0
    assert "anchored in a page header" in r.output
    assert [c.code for c in read_codings(root / "codings" / "ana.csv")] == ["delays"]


def test_a_transcript_table_is_mapped_through_its_cells(root):
    d = docx.Document()
    d.add_paragraph("Focus group 1")
    table = d.add_table(rows=3, cols=2)
    for row, (who, what) in zip(table.rows, [("Speaker", "Text"), ("Moderator", "What gets in the way?"),
                                             ("P3", "Honestly the paperwork. It never ends.")]):
        row.cells[0].text = who
        row.cells[1].text = what
    run_ = table.rows[2].cells[1].paragraphs[0].runs[0]
    d.add_comment(run_, text="Referral delays", author="Bo")
    path = root / "transcripts" / "fg1.docx"
    d.save(path)
    r = run(root, str(path), "--coder", "bo")
    assert r.exit_code == 0, r.output
    text = Workspace(root).transcript("fg1").text
    (c,) = read_codings(root / "codings" / "bo.csv")
    assert c.text == "Honestly the paperwork. It never ends." == text[c.start:c.end]


def test_bad_documents_are_one_line_errors(root, tmp_path):
    fake = tmp_path / "int2.docx"
    fake.write_text("not a zip")
    r = run(root, str(fake), "--coder", "ana")
    assert r.exit_code == 1 and "not a Word .docx file" in r.output and "Traceback" not in r.output

    plain = tmp_path / "int5.docx"
    docx.Document().save(plain)
    r = run(root, str(plain), "--coder", "ana")
    assert r.exit_code == 1 and "has no comments" in r.output

    path = interview_docx(tmp_path / "int7.docx", [("fax", "late", "delays")])
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 1
    assert "no transcript with id 'int7'" in r.output and "--transcript" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not (root / "codings" / "ana.csv").exists()


def test_comment_text_convention():
    m = CodeMatcher([*CODES, Code("knowledge", "Knowledge, attitudes and beliefs")])
    assert parse_comment_text("Stigma; Peer support -- she means the county", m) == (
        ["Stigma", "Peer support"], "she means the county")
    assert parse_comment_text("stigma, delays\ndata_sharing\nmemo: first line\nsecond line", m) == (
        ["stigma", "delays", "data_sharing"], "first line\nsecond line")
    # Word turns " -- " into an en dash; a name with a comma that is a code stays whole.
    assert parse_comment_text("Knowledge, attitudes and beliefs \u2013 about naloxone", m) == (
        ["Knowledge, attitudes and beliefs"], "about naloxone")
    assert parse_comment_text("memo: only a note", m) == ([], "only a note")


def add_reply(path, parent_number, reply_number):
    """Mark a comment as a reply the way Word 2013+ does: w14:paraId on the comments' paragraphs
    and word/commentsExtended.xml linking them."""
    import zipfile

    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    w14 = "http://schemas.microsoft.com/office/word/2010/wordml"
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    root = etree.fromstring(parts["word/comments.xml"])
    comments = root.findall(f"{{{w}}}comment")
    ids = {}
    for n, c in enumerate(comments, 1):
        ids[n] = f"0000000{n}"
        c.findall(f"{{{w}}}p")[-1].set(f"{{{w14}}}paraId", ids[n])
    parts["word/comments.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["word/commentsExtended.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w15:commentsEx xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
        f'<w15:commentEx w15:paraId="{ids[parent_number]}" w15:done="0"/>'
        f'<w15:commentEx w15:paraId="{ids[reply_number]}" w15:paraIdParent="{ids[parent_number]}" w15:done="0"/>'
        "</w15:commentsEx>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_replies_to_a_comment_are_discussion_and_skipped(root):
    path = interview_docx(root / "transcripts" / "int2.docx", [
        ("fax", "late", "delays"),
        ("fax", "late", "I would code this as data sharing too, what do you think?"),
    ])
    add_reply(path, 1, 2)
    r = run(root, str(path), "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "comment 2 by Ana Lopez (paragraph 2) replies to comment 1: skipped" in r.output
    assert [c.code for c in read_codings(root / "codings" / "ana.csv")] == ["delays"]
