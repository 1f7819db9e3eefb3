"""Long tables to Word and Excel: written without python-docx's per-row calls and openpyxl's per-cell
style look-ups, and the same document as the API calls make (issue 17: `export all` at 1,000
transcripts spent seconds in python-docx's quadratic `add_row` / `row.cells`)."""
from __future__ import annotations

import docx
import openpyxl
import pandas as pd
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from lxml import etree

from qualkit.render import formats
from qualkit.render.cells import display_len, longest_line, longest_word
from qualkit.render.docx_rows import append_rows
from qualkit.render.tables import Table, export_tables

TRICKY = ["  leading spaces", "trailing spaces  ", "a & b < c > d \"q\" 'x'", "tab\there", "",
          "\n\nafter two blank lines\n\n", "line one\n  indented line two", "日本語のセル", "−∞", "12"]


def _through_the_api(table, rows, widths, right, bold):
    """What the writer did before: python-docx's own calls, row by row and cell by cell."""
    for values in rows:
        row = table.add_row()
        formats.mark_row(row)
        for j, (cell, value) in enumerate(zip(row.cells, values)):
            cell.width = widths[j]
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if right[j]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            formats._add_lines(paragraph, value, size_pt=9, bold=bold)


@pytest.mark.parametrize("bold", [False, True])
def test_word_table_rows_are_the_xml_python_docx_writes(bold):
    rows = [TRICKY[k:] + TRICKY[:k] for k in range(len(TRICKY))]
    widths = [914400 + 12345 * j for j in range(len(TRICKY))]
    right = [j % 3 == 0 for j in range(len(TRICKY))]
    made = []
    for build in (_through_the_api, None):
        document = docx.Document()
        table = document.add_table(rows=1, cols=len(TRICKY))
        for column, width in zip(table.columns, widths):
            column.width = width
        if build:
            build(table, rows, widths, right, bold)
        else:
            append_rows(table, rows, widths, right, size_pt=9, bold=bold)
        made.append(etree.tostring(document.element))
    assert made[0] == made[1]
    # ... and reads back as the text it was given.
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == rows


def test_a_long_word_table_does_not_go_through_add_row(tmp_path, monkeypatch):
    def refuse(self):  # python-docx rebuilds the grid per call: quadratic in the rows
        raise AssertionError("table.add_row() used for a body row")

    monkeypatch.setattr(docx.table.Table, "add_row", refuse)
    frame = pd.DataFrame({"participant": [f"P{i}" for i in range(300)], "turns": range(300),
                          "summary": ["- staff\n- time & money"] * 300})
    out = export_tables([Table("rapid", frame, title="Rapid")], tmp_path / "rapid.docx")
    table = docx.Document(out[0]).tables[0]
    assert len(table.rows) == 301
    assert [c.text for c in table.rows[300].cells] == ["P299", "299", "- staff\n- time & money"]
    assert table.rows[300].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_every_excel_body_cell_keeps_its_style_and_text(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "#N/A", "plain", "x\ny"] * 50, "n": [1, 2.5, None, 4] * 50})
    out = export_tables([Table("t", frame, title="T")], tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(out[0]).worksheets[0]
    for row in ws.iter_rows(min_row=3, max_row=202):
        text, n = row
        assert text.data_type == "s" and text.alignment.wrap_text and text.alignment.vertical == "top"
        if n.value is not None:
            assert n.alignment.horizontal == "right" and not n.alignment.wrap_text
    assert [ws.cell(row=r, column=1).value for r in range(3, 7)] == ["=1+1", "#N/A", "plain", "x\ny"]


@pytest.mark.parametrize("text", ["", "\n", "ab  cd\n\nxyz", "日本語 ab\nc", " ", "\t x", "wide 全角文字 word\nshort", "• a “curly” bullet\n• two"])
def test_line_and_word_widths_count_wide_characters_double(text):
    assert longest_line(text) == max(display_len(line) for line in text.split("\n"))
    assert longest_word(text) == max((display_len(w) for w in text.split()), default=0)


def test_every_adjudication_row_wraps_and_shades_the_cells_to_fill_in(tmp_path):
    import io

    from qualkit.analysis.adjudication import FILL_IN_COLUMNS, adjudication_columns, adjudication_xlsx

    columns = adjudication_columns(["ana", "ben"])
    rows = [{c: ("=SUM(A1)" if c == "quote" and i % 2 else f"{c} {i}") for c in columns} for i in range(120)]
    for row in rows:
        for c in FILL_IN_COLUMNS:
            row[c] = ""
    wb = openpyxl.load_workbook(io.BytesIO(adjudication_xlsx(columns, rows, ["Read me."], ["ana", "ben"])))
    sheet = wb["Adjudication"]
    for row in sheet.iter_rows(min_row=2, max_row=121):
        for name, cell in zip(columns, row):
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
            assert (cell.fill.fgColor.rgb == "00FFF2CC") == (name in FILL_IN_COLUMNS), (name, cell.coordinate)
    quote = columns.index("quote") + 1
    assert sheet.cell(row=3, column=quote).value == "=SUM(A1)" and sheet.cell(row=3, column=quote).data_type == "s"


def _styled_names(document):
    from docx.enum.style import WD_STYLE_TYPE

    return [s.name for s in document.styles if s.type == WD_STYLE_TYPE.PARAGRAPH]


def test_paragraph_styles_are_the_ones_python_docx_looks_up():
    from docx.enum.style import WD_STYLE_TYPE

    from qualkit.render.docx_styles import ParagraphStyles

    document = docx.Document()
    styles = ParagraphStyles(document)
    names = _styled_names(document)
    assert len(names) > 20
    for name in names:
        assert styles.style_id(name) == document.part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
        made, reference = styles.add_paragraph(f"a {name}", style=name), document.add_paragraph(f"a {name}", style=name)
        assert etree.tostring(made._p) == etree.tostring(reference._p)
    for text in [" leading", "trailing ", "tab\there", "two\nlines", "cr\rx", "", "& < > “quoted”"]:
        made, reference = styles.add_paragraph(text, style="Quote"), document.add_paragraph(text, style="Quote")
        assert etree.tostring(made._p) == etree.tostring(reference._p)
    document.add_paragraph("no style")
    odd = document.add_paragraph("an unknown id")
    odd._p.style = "NoSuchStyle"
    character = document.add_paragraph("a character style's id")
    character._p.style = "DefaultParagraphFont"
    for paragraph in document.paragraphs:
        assert styles.name(paragraph) == (paragraph.style.name if paragraph.style is not None else "")
    assert etree.tostring(styles.add_heading("H", 2)._p) == etree.tostring(document.add_heading("H", 2)._p)
    with pytest.raises(KeyError):
        styles.add_paragraph("x", style="No such style")


def test_paragraph_styles_of_a_document_with_other_definitions_are_its_own():
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn

    from qualkit.render.docx_styles import ParagraphStyles

    ParagraphStyles(docx.Document()).name(docx.Document().add_paragraph("x"))  # the default template's, remembered
    document = docx.Document()
    normal = document.styles["Normal"].element
    normal.set(qn("w:default"), "0")
    document.styles["Quote"].element.set(qn("w:default"), "1")
    plain = document.add_paragraph("no style")
    styles = ParagraphStyles(document)
    assert styles.name(plain) == plain.style.name == "Quote"
    assert styles.style_id("Quote") is None is document.part.get_style_id("Quote", WD_STYLE_TYPE.PARAGRAPH)
