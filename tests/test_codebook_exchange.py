"""Codebooks out to people and back: CSV/XLSX round trips, MAXQDA-style imports, DOCX/MD, diff."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from qualkit.cli import cli
from qualkit.coding.codebook_exchange import diff_codebooks, export_codebook, import_codebook
from qualkit.workspace.codebook import Code, Codebook, CodebookError, load_codebook
from qualkit.workspace.scaffold import init


@pytest.fixture
def ws(tmp_path):
    return init(tmp_path / "ws")


def qk(root, *args):
    return CliRunner().invoke(cli, ["-w", str(root), "codebook", *args])


def tricky_book() -> Codebook:
    """Codes with everything that can go wrong in a spreadsheet: ; and > in text, new lines, accents."""
    return Codebook("tricky", "Tricky", [
        Code("access", "Access > reach", origin="deductive", brief="Getting to care",
             definition="Line one.\nLine two, with a comma; and a semicolon.", include='When "rides" come up',
             exclude="Telehealth; double-code telehealth", examples=["forty miles; no bus", "Walt’s cab — one guy"],
             keywords=["ride", "bus;stop", "café"], framework=["heif:physical_structures", "heif:economies"],
             color="#9467bd", patterns=[[{"LOWER": "no"}, {"LOWER": "bus"}]]),
        Code("transport", "Transportation", parent="access", keywords=["cab"]),
        Code("winter_roads", "Winter roads", parent="transport", status="retired"),
        Code("stigma", "Stigma", examples=["Everybody knows your car."]),
    ])


def fields(book: Codebook):
    return [c.as_dict() for c in book.codes]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_codes(tmp_path, ext):
    book = tricky_book()
    path = export_codebook(book, tmp_path / f"tricky.{ext}")
    back = import_codebook(path)
    assert back.id == "tricky"
    assert fields(back) == fields(book)


def test_the_sample_codebook_round_trips_through_the_cli(ws):
    assert qk(ws, "new", "HEIF", "--from-framework", "heif", "--id", "heif").exit_code == 0
    path = ws / "codebooks" / "heif.yaml"
    before = load_codebook(path)
    out = ws / "exports" / "heif.csv"
    r = qk(ws, "export", str(out))
    assert r.exit_code == 0 and "66 codes" in r.output
    r = qk(ws, "import", str(out))            # same id as the codebook it came from
    assert r.exit_code == 1 and "codebook 'heif' already exists; use --replace" in r.output
    r = qk(ws, "import", str(out), "--id", "heif_copy")
    assert r.exit_code == 1 and "heif.csv:2: code id 'innovation' is already used by codebook 'heif'" in r.output
    r = qk(ws, "import", str(out), "--replace", "--by", "ana")
    assert r.exit_code == 0, r.output
    after = load_codebook(path)
    assert fields(after) == fields(before)
    assert after.changelog[:1] == before.changelog and "imported from heif.csv" in after.changelog[-1].what
    assert list((ws / ".qualkit" / "backups").glob("heif.yaml.*.bak"))


MAXQDA = """\
Code;Definition;When to use;When not to use;Example;Keywords;Memo
Stigma > Self-stigma;Shame about use;Own shame;Community views;They don’t think they count;"shame; embarrassed";x
Stigma > Community;Views of neighbours;;;;enabling;
Access > Transport;Rides and roads;;;;"bus;cab";
Barriers > Other;;;;;;
Facilitators > Other;;;;;;
Stigma;Any stigma;;;;;
"""


def test_import_builds_the_hierarchy_from_paths_and_generates_ids(ws):
    src = ws / "maxqda.csv"
    src.write_text(MAXQDA, encoding="utf-8")
    r = qk(ws, "import", str(src), "--id", "team", "--name", "Team codebook")
    assert r.exit_code == 0, r.output
    assert "ignored column: Memo" in r.output
    assert "created 3 parent codes with no row of their own: Access, Barriers, Facilitators" in r.output
    book = load_codebook(ws / "codebooks" / "team.yaml")
    assert book.name == "Team codebook"
    got = {c.id: c for c in book.codes}
    assert got["self_stigma"].parent == "stigma" and got["community"].parent == "stigma"
    assert got["self_stigma"].include == "Own shame" and got["self_stigma"].keywords == ["shame", "embarrassed"]
    assert got["stigma"].definition == "Any stigma"          # the parent's own row fills it in
    assert got["transport"].parent == "access" and got["access"].name == "Access"
    assert got["other"].parent == "barriers" and got["facilitators_other"].parent == "facilitators"
    assert [c.id for c in book.codes][:2] == ["stigma", "self_stigma"]   # parents before children


@pytest.mark.parametrize("content, row, message", [
    ("code,definition\nStigma,x\n,no name here\n", 3, "no code name"),
    ("code,definition\nStigma > Self,x\nStigma,y\nstigma >  self,z\n", 4, "duplicate code 'stigma > self' (also row 2)"),
    ("code,framework\nStigma,heif:societal_contxt\n", 2, "did you mean heif:societal_context"),
    ("code,origin\nStigma,abductive\n", 2, "origin 'abductive'"),
    ("code,id\nStigma,Stigma Code\n", 2, "must be lower-case"),
    ("code,defintion\nStigma,x\n", 1, "unknown column 'defintion' (did you mean 'definition'?)"),
    ("name,definition\nStigma,x\n", 1, "no 'code' column"),
    ("code,patterns\nStigma,[{oops\n", 2, "'patterns' is not valid JSON"),
    ("code\nStigma > > Self\n", 2, "empty name in code path"),
])
def test_import_errors_name_the_file_and_row_and_write_nothing(ws, content, row, message):
    src = ws / "bad.csv"
    src.write_text(content, encoding="utf-8")
    r = qk(ws, "import", str(src))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"bad.csv:{row}: " in r.output and message in r.output, r.output
    assert list((ws / "codebooks").glob("*.yaml")) == []


def test_an_excel_file_that_is_not_a_workbook_is_a_one_line_error(ws):
    (ws / "codes.xlsx").write_bytes(b"not a zip")
    r = qk(ws, "import", str(ws / "codes.xlsx"))
    assert r.exit_code == 1 and "codes.xlsx: not a readable Excel workbook" in r.output


def test_csv_export_has_paths_and_lists_joined_for_spreadsheet_users(tmp_path):
    path = export_codebook(tricky_book(), tmp_path / "tricky.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")          # Excel opens it as UTF-8
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["code"] for r in table] == ["Access \\> reach", "Access \\> reach > Transportation",
                                          "Access \\> reach > Transportation > Winter roads", "Stigma"]
    assert table[0]["framework"] == "heif:physical_structures; heif:economies"
    assert table[0]["keywords"] == "ride; bus\\;stop; café"


def test_docx_export_is_a_landscape_appendix_table_with_a_repeated_header(tmp_path):
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn

    path = export_codebook(tricky_book(), tmp_path / "appendix.docx")
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    assert doc.paragraphs[0].text == "Codebook: Tricky"
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Code", "Definition", "When to use / when not to use", "Example"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    names = [r.cells[0].paragraphs[0].text for r in table.rows[1:]]
    assert names == ["Access > reach", "\u2013 Transportation", "Stigma"]          # retired code left out
    child = table.rows[2].cells[0].paragraphs[0]
    assert child.paragraph_format.left_indent > 0
    assert "Use: " in table.rows[1].cells[2].text and "Do not use: " in table.rows[1].cells[2].text
    assert "\u201cforty miles; no bus\u201d" in table.rows[1].cells[3].text


def test_markdown_export_is_a_structured_list(ws):
    qk(ws, "new", "PORT", "--id", "port")
    qk(ws, "add", "Stigma", "--definition", "Negative attitudes.", "--example", "Everybody knows your car.")
    qk(ws, "add", "Self-stigma", "--parent", "stigma", "--include", "Own shame", "--framework", "heif:patient")
    r = qk(ws, "export", str(ws / "exports" / "port.md"))
    assert r.exit_code == 0
    text = (ws / "exports" / "port.md").read_text(encoding="utf-8")
    assert text.startswith("# Codebook: PORT")
    assert "## 1 Stigma (`stigma`)" in text and "### 1.1 Self-stigma (`self_stigma`)" in text
    assert "- **Definition:** Negative attitudes." in text and "- **Framework:** `heif:patient`" in text
    assert "\u201cEverybody knows your car.\u201d" in text


def test_xlsx_export_opens_with_a_bold_frozen_header(tmp_path):
    from openpyxl import load_workbook

    path = export_codebook(tricky_book(), tmp_path / "codes.xlsx")
    sheet = load_workbook(path).active
    assert sheet.title == "Codebook" and sheet.freeze_panes == "B2"
    assert [c.value for c in sheet[1]][:3] == ["code", "id", "origin"] and sheet["A1"].font.bold
    assert sheet.max_row == 5


def test_export_to_an_unknown_format_is_an_error(tmp_path):
    with pytest.raises(CodebookError, match=r"use \.csv, \.xlsx, \.docx or \.md"):
        export_codebook(tricky_book(), tmp_path / "codes.pdf")
    assert not (tmp_path / "codes.pdf").exists()


# -- diff -----------------------------------------------------------------------------------

def test_diff_shows_added_removed_renamed_and_changed_codes(ws):
    qk(ws, "new", "PORT", "--id", "port")
    for name in ("Stigma", "Fax", "Rides", "Old idea"):
        qk(ws, "add", name)
    old_copy = ws / "port_v1.yaml"
    old_copy.write_bytes((ws / "codebooks" / "port.yaml").read_bytes())
    qk(ws, "rename", "fax", "fax_referrals")                      # recorded in the change log
    qk(ws, "edit", "stigma", "--definition", "Negative attitudes.")
    qk(ws, "add", "Broadband")
    qk(ws, "rename", "rides", "transport")
    text = (ws / "codebooks" / "port.yaml").read_text(encoding="utf-8")
    (ws / "codebooks" / "port.yaml").write_text(                    # forget the log of the second rename
        text.replace("what: renamed code rides to transport", "what: tidied"), encoding="utf-8")
    qk(ws, "retire", "old_idea")

    r = qk(ws, "diff", str(old_copy), "port")
    assert r.exit_code == 0, r.output
    assert "+ broadband  Broadband" in r.output
    assert "~ fax -> fax_referrals  Fax  (renamed)" in r.output
    assert "~ rides -> transport  Rides  (renamed?)" in r.output
    assert "* stigma.definition: (empty) -> 'Negative attitudes.'" in r.output
    assert "* old_idea.status: 'active' -> 'retired'" in r.output
    assert "1 added, 0 removed, 2 renamed, 2 changed." in r.output

    d = diff_codebooks(load_codebook(old_copy), load_codebook(ws / "codebooks" / "port.yaml"))
    assert [(o.id, n.id, sure) for o, n, sure in d.renamed] == [("fax", "fax_referrals", True), ("rides", "transport", False)]
    assert d.as_dict()["changed"]["stigma"]["definition"] == {"old": "", "new": "Negative attitudes."}


def test_diff_of_unrelated_codebooks_lists_removed_codes(tmp_path):
    a = tricky_book()
    b = Codebook("b", "B", [Code("stigma", "Stigma", examples=["Everybody knows your car."])])
    d = diff_codebooks(a, b)
    assert {c.id for c in d.removed} == {"access", "transport", "winter_roads"} and not d.added and not d.changed
    assert diff_codebooks(a, a).same
