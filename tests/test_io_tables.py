"""The one table reader (CSV and XLSX) and the one safe-zip reader every spreadsheet and archive goes through."""
from __future__ import annotations

import codecs
import csv
import zipfile

import pytest

from qualkit.errors import QualkitError, WorkspaceError
from qualkit.io.safezip import SafeZip, ZipLimits
from qualkit.io.tables import detect_delimiter, read_csv, read_table, read_xlsx


def cells(table):
    return [(r.line, r.cells) for r in table.rows]


def test_a_quoted_cell_with_line_breaks_keeps_the_physical_line_of_each_record(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"first line\nsecond line\nthird"\n2,short\n', encoding="utf-8")
    table = read_csv(path)
    assert cells(table) == [(1, ["id", "note"]), (2, ["1", "first line\nsecond line\nthird"]), (5, ["2", "short"])]
    assert [r.number for r in table.rows] == [1, 2, 3]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_comma_semicolon_and_tab_files_are_recognized(tmp_path, delimiter):
    path = tmp_path / "p.csv"
    path.write_text(delimiter.join(["transcript", "speaker", "id"]) + "\n" + delimiter.join(["int1", '"Maria; RN, ward 3"', "A"]) + "\n")
    table = read_csv(path)
    assert table.delimiter == delimiter
    assert table.rows[1].cells == ["int1", "Maria; RN, ward 3", "A"]


def test_a_quoted_title_with_commas_does_not_fool_the_delimiter_choice():
    assert detect_delimiter('"a, b, c";d;e\n1;2;3\n') == ";"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_utf8_with_or_without_bom_and_utf16_read_without_warnings(tmp_path, encoding):
    path = tmp_path / "p.csv"
    path.write_bytes("name,place\nJosé,Zürich\n".encode(encoding))
    table = read_csv(path)
    assert table.rows[1].cells == ["José", "Zürich"] and table.warnings == []


def test_cp1252_from_old_excel_is_read_with_a_warning(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("name;role\nJosé;Café – staff\n".encode("cp1252"))
    table = read_csv(path)
    assert table.rows[1].cells == ["José", "Café – staff"]
    assert table.encoding == "cp1252" and any("cp1252" in w for w in table.warnings)
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)


def test_a_cell_larger_than_the_csv_modules_default_limit_is_read(tmp_path):
    path = tmp_path / "big.csv"
    memo = "x" * (csv.field_size_limit() + 10)
    path.write_text(f'id,memo\n1,"{memo}"\n', encoding="utf-8")
    before = csv.field_size_limit()
    assert read_csv(path).rows[1].cells == ["1", memo]
    assert csv.field_size_limit() == before


def test_a_binary_or_missing_file_is_the_callers_error_naming_the_file(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\x00\x00\x01" * 50)
    with pytest.raises(WorkspaceError, match="looks like a binary file, not a CSV text file"):
        read_csv(path, error_cls=WorkspaceError)
    with pytest.raises(WorkspaceError, match="no such file"):
        read_csv(tmp_path / "nope.csv", error_cls=WorkspaceError)


def make_xlsx(path, sheets):
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_an_xlsx_sheet_is_read_with_sheet_rows_and_numbers_as_written(tmp_path):
    path = make_xlsx(tmp_path / "codes.xlsx", {"Notes": [["hello"]], "Codebook": [["id", "n"], ["a", 3.0], [None, None], ["b", 2.5]]})
    table = read_xlsx(path, prefer=("codebook",))
    assert table.sheet == "Codebook" and table.sheets == ["Notes", "Codebook"]
    assert cells(table) == [(1, ["id", "n"]), (2, ["a", "3"]), (3, ["", ""]), (4, ["b", "2.5"])]
    picked = read_xlsx(path, accept=lambda rows: any("id" in r.cells for r in rows))
    assert picked.sheet == "Codebook"
    assert read_table(path).sheet == "Notes"


def test_a_text_file_named_xlsx_and_an_unknown_type_are_one_line_errors(tmp_path):
    (tmp_path / "codes.xlsx").write_text("not a zip")
    with pytest.raises(QualkitError, match=r"not an Excel \.xlsx workbook \(not a zip archive\)"):
        read_table(tmp_path / "codes.xlsx")
    with pytest.raises(QualkitError, match=r"cannot read a '\.ods' file"):
        read_table(tmp_path / "codes.ods")


def test_an_xlsx_zip_bomb_is_refused_before_openpyxl_parses_it(tmp_path):
    path = make_xlsx(tmp_path / "bomb.xlsx", {"Sheet": [["a"]]})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(QualkitError, match=r"xl/media/zeros.bin in the workbook .*zip bombs"):
        read_xlsx(path)


def test_zip_slip_names_and_too_many_members_are_refused(tmp_path):
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(QualkitError, match="escape the target folder"):
        SafeZip(path)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(5):
            zf.writestr(f"m{i}.txt", "x")
    with pytest.raises(QualkitError, match="5 members"):
        SafeZip(many, limits=ZipLimits(max_members=4))


def test_a_corrupt_member_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "damaged.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:document>" + b"hello " * 2000 + b"</w:document>")
    data = bytearray(path.read_bytes())
    start = data.index(b"word/document.xml") + len("word/document.xml")
    for i in range(start + 10, start + 60):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    with SafeZip(path, error_cls=WorkspaceError) as zf, pytest.raises(WorkspaceError) as e:
        zf.read("word/document.xml")
    assert str(e.value).startswith(f"{path}: member 'word/document.xml' cannot be read")
    assert "\n" not in str(e.value)
