"""`qualkit import sheet`: coded excerpts from a CSV or XLSX placed in their transcripts."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.coding.imports.sheet import import_sheet
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings
from qualkit.workspace.scaffold import init

INT1 = ("Interviewer: How do referrals arrive?\n"
        "Maria: By fax, usually days late. We're \"not ready\" for the portal, honestly.\n"
        "Interviewer: Always?\n"
        "Maria: Mostly. The peer specialist calls within a day, and the family gets a naloxone kit.\n"
        "Interviewer: Anything else?\n"
        "Maria: Mostly the fax. Mostly the fax.\n")
INT2 = "Sheriff: We carry naloxone in every cruiser now.\nInterviewer: Since when?\nSheriff: Since the grant.\n"


@pytest.fixture
def root(tmp_path):
    root = init(tmp_path / "ws")
    (root / "transcripts" / "int1.txt").write_text(INT1, encoding="utf-8")
    (root / "transcripts" / "int2_sheriff.txt").write_text(INT2, encoding="utf-8")
    save_codebook(Codebook("main", "Main", [Code("data_sharing", "Inter-partner data sharing"),
                                            Code("readiness", "Readiness for implementation"),
                                            Code("naloxone", "Naloxone distribution"),
                                            Code("peer_support", "Peer support")]), root / "codebooks" / "main.yaml")
    return root


def run(root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(root), "import", "sheet", *args])


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_synonym_headers_is_placed_exactly_normalized_and_fuzzily(root, tmp_path):
    sheet = write_csv(tmp_path / "coded.csv",
                      "Document,Code,Quote,Notes\n"
                      "int1.txt,Inter-partner data sharing,\"By fax, usually days late.\",fax still\n"
                      # smart quotes and a re-wrapped line in the spreadsheet
                      "int1,readiness,\"We\u2019re \u201cnot ready\u201d for the\n portal\",\n"
                      # a typo in the excerpt and a misspelt code name
                      "INT2_SHERIFF,Naloxone distrbution,We carry naloxon in every cruiser now.,\n"
                      "int1,peer_support,\"The peer specialist calls within a day\",\n")
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "Imported 4 codings" in r.output
    assert "read as 'naloxone'" in r.output and "fuzzy match" in r.output
    rows = {c.code: c for c in read_codings(root / "codings" / "ana.csv")}
    texts = {"int1": INT1, "int2_sheriff": INT2}
    for c in rows.values():
        assert texts[c.transcript][c.start:c.end] == c.text
    assert rows["data_sharing"].text == "By fax, usually days late." and rows["data_sharing"].memo == "fax still"
    assert rows["readiness"].text == "We're \"not ready\" for the portal"
    assert rows["naloxone"].text == "We carry naloxone in every cruiser now."
    assert rows["naloxone"].transcript == "int2_sheriff"

    # Importing the same sheet again adds nothing and backs the file up.
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 0
    assert "Skipped 4 duplicates" in r.output
    assert len(read_codings(root / "codings" / "ana.csv")) == 4


def test_an_unplaceable_row_writes_nothing_unless_partial(root, tmp_path):
    sheet = write_csv(tmp_path / "coded.csv",
                      "transcript,code,excerpt\n"
                      "int1,data_sharing,\"By fax, usually days late.\"\n"
                      "int1,data_sharing,This sentence is nowhere in the transcript at all.\n"
                      "int9,data_sharing,By fax\n"
                      "int1,no such code at all,By fax\n"
                      "int1,,By fax\n")
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 1
    assert f"{sheet}:3: excerpt 'This sentence is nowhere in the transcript at all.' not found in int1" in r.output
    assert f"{sheet}:4: unknown transcript 'int9'" in r.output
    assert f"{sheet}:5: unknown code 'no such code at all'" in r.output
    assert f"{sheet}:6: blank code" in r.output
    assert "Nothing was written" in r.output and "--partial" in r.output
    assert "Traceback" not in r.output
    assert not (root / "codings" / "ana.csv").exists()

    r = run(root, str(sheet), "--coder", "ana", "--partial")
    assert r.exit_code == 0
    assert "Imported 1 coding" in r.output
    assert f"{sheet}:3:" in r.output  # still listed
    assert [c.text for c in read_codings(root / "codings" / "ana.csv")] == ["By fax, usually days late."]


def test_missing_column_is_a_one_line_error_naming_file_and_row(root, tmp_path):
    sheet = write_csv(tmp_path / "coded.csv", "transcript,code,speaker\nint1,data_sharing,Maria\n")
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 1
    assert f"{sheet}:1: missing column(s) excerpt" in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not (root / "codings" / "ana.csv").exists()


def test_ambiguous_excerpt_takes_the_first_occurrence_not_yet_coded(root, tmp_path):
    ws = Workspace(root)
    first = INT1.index("Mostly the fax.")
    ws.write_codings("ana", [Coding("int1", first, first + 15, "data_sharing", "Mostly the fax.")])
    sheet = write_csv(tmp_path / "coded.csv", "transcript,code,excerpt\nint1,data_sharing,Mostly the fax.\n")
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "ambiguous: the excerpt occurs 2 times" in r.output
    starts = sorted(c.start for c in read_codings(root / "codings" / "ana.csv"))
    assert starts == [first, INT1.rindex("Mostly the fax.")]
    assert list((root / ".qualkit" / "backups").glob("ana.csv.*.bak"))


def test_xlsx_with_a_title_row_and_an_elided_quote(root, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    sh = wb.active
    sh.title = "Segments"
    sh.append(["Coded segments exported 2026-03-01"])
    sh.append(["File", "Code name", "Coded text", "Memo"])
    sh.append(["int1", "Peer support", "The peer specialist calls ... gets a naloxone kit.", "elided"])
    sh.append([None, None, None, None])
    path = tmp_path / "coded.xlsx"
    wb.save(path)
    r = run(root, str(path), "--coder", "bob")
    assert r.exit_code == 0, r.output
    (c,) = read_codings(root / "codings" / "bob.csv")
    assert c.text == "The peer specialist calls within a day, and the family gets a naloxone kit."
    assert INT1[c.start:c.end] == c.text and c.memo == "elided"


def test_semicolon_csv_and_dry_run(root, tmp_path):
    sheet = tmp_path / "coded.csv"
    sheet.write_bytes("Transcript;Code;Segment\nint2_sheriff;naloxone;Since the grant.\n".encode("cp1252"))
    r = run(root, str(sheet), "--coder", "ana", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["written"] is False and len(data["placed"]) == 1
    assert data["placed"][0]["text"] == "Since the grant."
    assert not (root / "codings" / "ana.csv").exists()


def test_not_a_workbook_and_bad_codings_file_are_one_line_errors(root, tmp_path):
    fake = tmp_path / "coded.xlsx"
    fake.write_text("transcript,code,excerpt\n")
    r = run(root, str(fake), "--coder", "ana")
    assert r.exit_code == 1 and "not an Excel .xlsx file" in r.output and "Traceback" not in r.output
    (root / "codings" / "ana.csv").write_text("transcript,start,end,code\nint1,x,2,naloxone\n")
    sheet = write_csv(tmp_path / "coded.csv", "transcript,code,excerpt\nint1,naloxone,naloxone kit\n")
    before = (root / "codings" / "ana.csv").read_text()
    r = run(root, str(sheet), "--coder", "ana")
    assert r.exit_code == 1 and "ana.csv:2: start and end must be whole numbers" in r.output
    assert (root / "codings" / "ana.csv").read_text() == before


def test_library_call_returns_what_it_could_not_place(root, tmp_path):
    sheet = write_csv(tmp_path / "c.csv", "transcript,code,excerpt\nint1,peer_support,gone text that is not there\n")
    result = import_sheet(Workspace(root), sheet, "ana")
    assert not result.ok and not result.written
    assert result.unplaced[0].line == 2 and "not found" in result.unplaced[0].reason


def test_dash_c_names_the_codebook_to_match_against_as_on_codebook_commands(root, tmp_path):
    sheet = write_csv(tmp_path / "coded.csv", "transcript,code,excerpt\nint2_sheriff,naloxone,Since the grant.\n")
    r = run(root, str(sheet), "--coder", "ana", "--dry-run", "-c", "main")
    assert r.exit_code == 0, r.output
    r = run(root, str(sheet), "--coder", "ana", "--dry-run", "-c", "nosuch")
    assert r.exit_code == 1 and "no codebook 'nosuch'" in r.output


def test_import_with_done_marks_the_imported_transcripts_done(root, tmp_path):
    sheet = write_csv(tmp_path / "coded.csv", "transcript,code,excerpt\nint1,data_sharing,\"By fax, usually days late.\"\n")
    r = run(root, str(sheet), "--coder", "ana", "--done")
    assert r.exit_code == 0, r.output
    assert "int1: marked done for ana." in r.output
    assert (root / "codings" / "ana.done").read_text(encoding="utf-8").splitlines()[1].startswith("int1,")
