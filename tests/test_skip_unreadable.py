"""A study never stops on one file: run, search, autocode and summaries skip an unreadable
transcript, name it with its reason, and carry on (exit 0; --strict makes it exit 1)."""
from __future__ import annotations

from conftest import INTERVIEW
from test_documents import pdf_bytes

from qualkit.workspace.codebook import Code


def _broken_study(make_workspace):
    ws = make_workspace({"int1": INTERVIEW, "int2": "Interviewer: And the fax?\nSam: The fax is slow.\n"},
                        codebook=[Code("fax", "Fax", keywords=["fax"])])
    (ws.transcripts_dir / "int3.docx").write_bytes(b"PK\x03\x04 this zip was cut short")
    (ws.transcripts_dir / "int4.pdf").write_bytes(pdf_bytes([[]]))  # a scan: pages, no text
    return ws


def test_run_skips_a_corrupt_docx_and_a_pdf_without_text_and_writes_everything_else(make_workspace, run_cli):
    ws = _broken_study(make_workspace)
    r = run_cli("run")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert (ws.root / "exports" / "turns.csv").is_file() and (ws.root / "exports" / "report.html").is_file()
    assert "2 transcript files skipped" in r.output
    assert "int3.docx" in r.output and "int4.pdf: the PDF has no text layer" in r.output
    # and the report names them too
    html = (ws.root / "exports" / "report.html").read_text(encoding="utf-8")
    assert "int3.docx" in html and "int4.pdf" in html


def test_run_strict_exits_1_when_a_file_was_skipped(make_workspace, run_cli):
    _broken_study(make_workspace)
    r = run_cli("run", "--strict")
    assert r.exit_code == 1 and "int3.docx" in r.output


def test_search_and_autocode_carry_on_past_an_unreadable_file(make_workspace, run_cli):
    _broken_study(make_workspace)
    r = run_cli("search", "fax")
    assert r.exit_code == 0 and "int2" in r.output and "skipped" in r.output and "int4.pdf" in r.output
    assert run_cli("search", "fax", "--strict").exit_code == 1
    r = run_cli("autocode", "--dry-run")
    assert r.exit_code == 0 and "int3.docx" in r.output


def test_summaries_template_writes_the_readable_ones(make_workspace, run_cli):
    ws = _broken_study(make_workspace)
    r = run_cli("summaries", "template", "--domains", "framework:heif")
    assert r.exit_code == 0, r.output
    assert (ws.root / "summaries" / "int1.md").is_file() and "int3.docx" in r.output


def test_the_library_keeps_the_skipped_files_with_their_reasons(make_workspace):
    ws = _broken_study(make_workspace)
    assert [t.id for t in ws.transcripts()] == ["int1", "int2"]
    assert sorted(e.path.name for e in ws.skipped_transcripts) == ["int3.docx", "int4.pdf"]
