"""Exporting themes tables to Excel, Word and LaTeX, and opening them the way a co-author would."""
from __future__ import annotations

import shutil
import subprocess
import zipfile

import docx
import openpyxl
import pandas as pd
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from qualkit.io import atomic as fileio
from qualkit.render.formats import latex_escape, sheet_names
from qualkit.render.tables import Table, export_tables

QUOTES = "“We fax it to the district office” (FG1-P3)\n“Days late, every time” (KP-1)"
THEMES = pd.DataFrame({
    "Theme": ["Data sharing & consent", "Rural_access #2", "[Costs] ~ fees"],
    "Quotes": [QUOTES, "=not a formula, 100% {sure} $5 ^ \\ end", "“No bus”"],
    "n": [12, 3, 7],
    "Share": [0.5, float("nan"), 0.125],
})


def themes(title="Themes by domain", notes="Quotes abridged; P = participant.", name="Barriers: access/cost?"):
    return Table(name, THEMES, title=title, notes=notes)


# -- Excel -----------------------------------------------------------------------------------------

def test_xlsx_sheet_a_colleague_can_filter_and_read(tmp_path):
    out = export_tables([themes(), themes(title=None, notes=None)], tmp_path / "themes.xlsx", title="Study X")
    assert [p.name for p in out] == ["themes.xlsx", "themes.xlsx.manifest.json"]
    wb = openpyxl.load_workbook(out[0])

    # One sheet per table, names Excel accepts, made unique.
    assert wb.sheetnames == ["Barriers - access-cost", "Barriers - access-cost (2)"]
    ws = wb.worksheets[0]

    # Caption row, then a bold, shaded header frozen under it, and a filter over the table.
    assert ws["A1"].value == "Themes by domain" and ws["A1"].font.bold
    assert [c.value for c in ws[2]] == ["Theme", "Quotes", "n", "Share"]
    assert all(c.font.bold and c.fill.fgColor.rgb.endswith("DDEBF7") for c in ws[2])
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:D5"
    assert ws.print_title_rows == "$2:$2"

    # Multi-line quotes keep their line breaks and wrap; text stays text, numbers stay numbers.
    assert ws["B3"].value == QUOTES and ws["B3"].alignment.wrap_text
    assert ws["B4"].value.startswith("=not a formula") and ws["B4"].data_type == "s"
    assert ws["C3"].value == 12 and isinstance(ws["C3"].value, int)
    assert ws["D3"].value == 0.5 and ws["D4"].value is None
    assert ws["C3"].alignment.horizontal == "right"

    # Column widths follow the content, capped; quotes wider than counts.
    widths = {k: ws.column_dimensions[k].width for k in "ABCD"}
    assert widths["B"] > widths["A"] > widths["C"] and max(widths.values()) <= 60

    # Notes after the table, one empty row below it, in italics.
    assert ws["A6"].value is None
    assert ws["A7"].value == "Quotes abridged; P = participant." and ws["A7"].font.italic

    # The second sheet has no caption of its own: the document title heads it.
    second = wb.worksheets[1]
    assert second["A1"].value == "Study X" and second.freeze_panes == "A3"
    assert wb.properties.title == "Study X"


def test_xlsx_without_title_freezes_the_first_row(tmp_path):
    export_tables({"Themes": THEMES}, tmp_path / "t.xlsx", manifest=False)
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Themes"]
    assert ws["A1"].value == "Theme" and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D4"
    assert ws.max_row == 4  # no notes row


def test_sheet_names_follow_excel_rules():
    names = sheet_names(["A very long name for a table of themes", "A very long name for a table of themes",
                         "q[1]*?", "History", "", "Themes", "themes"])
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[2:] == ["q(1)", "History (table)", "Sheet", "Themes", "themes (2)"]


# -- Word ------------------------------------------------------------------------------------------

def test_docx_landscape_table_with_caption_repeating_header_and_line_breaks(tmp_path):
    out = export_tables([themes(), Table("Facilitators", THEMES)], tmp_path / "themes.docx", title="Study X")
    document = docx.Document(out[0])

    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height

    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert paragraphs[0] == ("Heading 1", "Study X")
    assert ("Caption", "Table 1. Themes by domain") in paragraphs
    assert ("Caption", "Table 2. Facilitators") in paragraphs
    # The number is a Word caption field, so Word renumbers it and lists it in a table of tables.
    assert "SEQ Table" in document.element.body.xml

    table = document.tables[0]
    assert table.style.name == "Table Grid"
    header = table.rows[0]
    assert [c.text for c in header.cells] == ["Theme", "Quotes", "n", "Share"]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    assert table.rows[1]._tr.trPr.find(qn("w:tblHeader")) is None  # only the header repeats
    assert all(run.bold for cell in header.cells for run in cell.paragraphs[0].runs)

    quote_cell = table.rows[1].cells[1]
    assert quote_cell.text == QUOTES  # line break kept inside the cell ...
    assert len(quote_cell.paragraphs) == 1 and "<w:br/>" in quote_cell._tc.xml  # ... as a w:br
    assert all(run.font.size == Pt(9) for run in quote_cell.paragraphs[0].runs)
    assert [c.text for c in table.rows[2].cells] == ["Rural_access #2", THEMES["Quotes"][1], "3", ""]
    assert table.rows[3].cells[3].text == "0.125"
    assert table.rows[1].cells[2].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT

    widths = [cell.width for cell in table.rows[0].cells]
    assert widths[1] > widths[0] > widths[2]
    assert sum(widths) <= section.page_width - section.left_margin - section.right_margin

    notes = next(p for p in document.paragraphs if p.text == "Quotes abridged; P = participant.")
    assert all(run.italic for run in notes.runs)
    assert len(document.tables) == 2


# -- LaTeX -----------------------------------------------------------------------------------------

def test_latex_booktabs_fragment_escapes_and_keeps_line_breaks(tmp_path):
    out = export_tables(themes(), tmp_path / "themes.tex", title="Study X")
    tex = out[0].read_text(encoding="utf-8")

    assert tex.startswith("%") and "\\usepackage{booktabs}" in tex.split("\\begin{table}")[0]
    assert "UTF-8" in tex.split("\\begin{table}")[0]
    assert "\\caption{Themes by domain}" in tex
    assert tex.index("\\toprule") < tex.index("\\midrule") < tex.index("\\bottomrule") < tex.index("\\end{table}")

    spec = tex.split("\\begin{tabular}{", 1)[1].split("\n", 1)[0]
    assert "p{" in spec and spec.endswith("rr@{}}")  # text wraps, numbers right-aligned

    assert "Data sharing \\& consent" in tex
    assert "Rural\\_access \\#2" in tex
    assert "{}[Costs] \\textasciitilde{} fees" in tex
    assert "=not a formula, 100\\% \\{sure\\} \\$5 \\textasciicircum{} \\textbackslash{} end" in tex
    assert "“We fax it to the district office” (FG1-P3) \\newline “Days late, every time” (KP-1)" in tex
    assert "& 12 & 0.5 \\tabularnewline" in tex
    assert "\\emph{Quotes abridged; P = participant.}" in tex


def test_latex_escape_covers_every_special_character():
    assert latex_escape("& % $ # _ { } ~ ^ \\") == (
        "\\& \\% \\$ \\# \\_ \\{ \\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}")
    assert latex_escape("“quoted” — ok") == "“quoted” — ok"


def test_short_text_columns_stay_natural_width(tmp_path):
    export_tables(pd.DataFrame({"Code": ["a_b"], "Count": [2]}), tmp_path / "t.tex", manifest=False)
    assert "\\begin{tabular}{@{}lr@{}}" in (tmp_path / "t.tex").read_text()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_fragment_compiles(tmp_path):
    export_tables([themes(), Table("Empty", pd.DataFrame(columns=["a"]))], tmp_path / "t.tex", manifest=False)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{booktabs}"
                                      "\\begin{document}\\input{t.tex}\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


# -- atomic writes ---------------------------------------------------------------------------------

def _fail_after_first_zip_member(monkeypatch):
    """Make building the XLSX/DOCX zip fail once its first member is written."""
    real_writestr = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def writestr(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("serialisation failed")
        return real_writestr(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    from qualkit.render.docx_package import ZipEntries  # a Word table's zip is written entry by entry

    real_add = ZipEntries.add_deflated

    def add_deflated(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("serialisation failed")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(ZipEntries, "add_deflated", add_deflated)
    return calls


def _fail_on_disk(monkeypatch):
    """Make the disk fail after the bytes went into the temp file (before it replaces the target)."""
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        raise OSError("No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    return calls


@pytest.mark.parametrize("ext, failure", [("xlsx", _fail_after_first_zip_member), ("docx", _fail_after_first_zip_member),
                                          ("xlsx", _fail_on_disk), ("docx", _fail_on_disk), ("tex", _fail_on_disk)])
def test_failure_mid_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch, ext, failure):
    target = tmp_path / f"themes.{ext}"

    with monkeypatch.context() as m:
        calls = failure(m)
        with pytest.raises((OSError, RuntimeError)):
            export_tables(themes(), target)
    assert calls["n"] >= 1
    assert list(tmp_path.iterdir()) == []  # no half-written file, no temp file, no manifest

    export_tables(themes(), target, manifest=False)
    before = target.read_bytes()
    with monkeypatch.context() as m:
        failure(m)
        with pytest.raises((OSError, RuntimeError)):
            export_tables(themes(title="Changed"), target, manifest=False)
    assert target.read_bytes() == before  # the earlier export is untouched
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
