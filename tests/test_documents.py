"""PDF (text layer), OpenDocument and RTF transcripts are read like a .txt; a scanned PDF and a legacy
.doc are refused with one line that says what to do."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import qualkit
from qualkit.errors import TranscriptError


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A small valid PDF: each page's lines in Helvetica (no lines: a page with no text, as a scan)."""
    objs = ["<</Type/Catalog/Pages 2 0 R>>", "", "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    kids = []
    for lines in pages:
        ops = "BT /F1 11 Tf 72 740 Td 14 TL " + " ".join(
            "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines) + " ET"
        objs.append(f"<</Length {len(ops)}>>stream\n{ops}\nendstream")
        objs.append(f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 3 0 R>>>>"
                    f"/Contents {len(objs)} 0 R>>")
        kids.append(f"{len(objs)} 0 R")
    objs[1] = f"<</Type/Pages/Kids[{' '.join(kids)}]/Count {len(kids)}>>"
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer<</Size {len(objs) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def turns(t) -> list[tuple[str | None, str]]:
    return [(x.speaker, " ".join(t.text[x.start:x.end].split())) for x in t.turns]


def test_a_pdf_transcript_is_read_from_its_text_layer_across_pages(tmp_path):
    path = tmp_path / "int1.pdf"
    path.write_bytes(pdf_bytes([["Interviewer: How do referrals arrive?", "Maria: By fax, days late, and",
                                 "nobody calls."], ["Interviewer: Always?", "Maria: Mostly."]]))
    t = qualkit.read_transcript(path)
    assert t.source_format == "pdf"
    assert turns(t) == [("Interviewer", "How do referrals arrive?"), ("Maria", "By fax, days late, and nobody calls."),
                        ("Interviewer", "Always?"), ("Maria", "Mostly.")]


def test_a_scanned_pdf_without_text_is_refused_saying_so(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([[], []]))
    with pytest.raises(TranscriptError, match=r"no text layer \(2 pages, a scan\?\): run OCR"):
        qualkit.read_transcript(path)


def test_a_damaged_pdf_is_one_line(tmp_path):
    path = tmp_path / "cut.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<")
    with pytest.raises(TranscriptError, match="cannot read the PDF"):
        qualkit.read_transcript(path)


def odt(path: Path, body: str) -> Path:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", f'<?xml version="1.0"?><office:document-content {ns}><office:body>'
                                   f"<office:text>{body}</office:text></office:body></office:document-content>")
    return path


def test_an_odt_transcript_without_its_comments_and_footnotes(tmp_path):
    path = odt(tmp_path / "int2.odt",
               "<text:h>Interview 2</text:h>"
               "<text:p><text:span>I:</text:span> Wie<text:s/>kam es<text:s text:c=\"2\"/>dazu?"
               "<office:annotation><dc:creator>Ana</dc:creator><text:p>delays</text:p></office:annotation></text:p>"
               "<text:list><text:list-item><text:p>B: Per Fax.<text:note><text:note-body><text:p>fn</text:p>"
               "</text:note-body></text:note><text:line-break/>Immer.</text:p></text:list-item></text:list>"
               "<text:p>I: Warum?</text:p><text:p>B: Geld.</text:p>")
    t = qualkit.read_transcript(path)
    assert t.source_format == "odt"
    assert turns(t) == [(None, "Interview 2"), ("I", "Wie kam es dazu?"), ("B", "Per Fax. Immer."),
                        ("I", "Warum?"), ("B", "Geld.")]
    assert "Wie kam es  dazu?" in t.text and "Per Fax.\nImmer." in t.text
    assert "delays" not in t.text and "fn" not in t.text


def test_an_rtf_transcript_with_word_escapes(tmp_path):
    path = tmp_path / "int3.rtf"
    path.write_bytes(rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Calibri;}}\f0\fs22 {\b Interviewer:} How\rquote s"
                     rb" the caf\'e9? \u8364?5 a day\par Maria: Fine.\par Interviewer: Sure?\par Maria: Yes.\par}")
    t = qualkit.read_transcript(path)
    assert t.source_format == "rtf"
    assert turns(t) == [("Interviewer", "How’s the café? €5 a day"), ("Maria", "Fine."), ("Interviewer", "Sure?"),
                        ("Maria", "Yes.")]


def test_a_legacy_doc_says_how_to_convert_it(tmp_path):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(TranscriptError) as e:
        qualkit.read_transcript(path)
    assert "soffice --headless --convert-to docx" in str(e.value) and "qualkit ingest --convert" in str(e.value)
    assert "\n" not in str(e.value)


def test_ingest_convert_makes_a_docx_copy_with_libreoffice_and_keeps_the_original(make_workspace, run_cli,
                                                                                   tmp_path, monkeypatch):
    import os
    import stat
    import sys

    import docx

    ws = make_workspace()
    old = ws.transcripts_dir / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy")
    r = run_cli("ingest")
    assert r.exit_code == 1 and "old.doc: old Word .doc files are not read" in r.output
    # A stand-in soffice that writes OUTDIR/old.docx, as LibreOffice does.
    made = tmp_path / "made.docx"
    document = docx.Document()
    for line in ["Interviewer: Why?", "Sam: Money.", "Interviewer: Ok.", "Sam: Yes."]:
        document.add_paragraph(line)
    document.save(str(made))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "soffice"
    fake.write_text(f"#!{sys.executable}\nimport shutil, sys\nout = sys.argv[sys.argv.index('--outdir') + 1]\n"
                    f"shutil.copy({str(made)!r}, out + '/' + sys.argv[-1].rsplit('/', 1)[-1].rsplit('.', 1)[0] + '.docx')\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    r = run_cli("ingest")
    assert "LibreOffice is installed here: `qualkit ingest --convert` will do it" in r.output
    before = old.read_bytes()
    r = run_cli("ingest", "--convert")
    assert r.exit_code == 0, r.output
    assert "Converted transcripts/old.doc -> transcripts/old.docx" in r.output
    assert old.read_bytes() == before
    assert [s for s in ws.transcript("old").speakers] == ["Interviewer", "Sam"]


def test_ingest_convert_without_libreoffice_says_once_what_to_do(make_workspace, run_cli, monkeypatch):
    monkeypatch.setattr("qualkit.transcripts.convert.find_soffice", lambda: None)
    ws = make_workspace()
    (ws.transcripts_dir / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy")
    r = run_cli("ingest", "--convert")
    assert r.exit_code == 1
    assert r.output.count("old.doc") == 1 and "LibreOffice (soffice) is not on PATH" in r.output, r.output
