"""Disagreements between two coders: the list a team brings to its consensus meeting, and its files."""
from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

import qualkit.cli
from qualkit.analysis.adjudication import (
    AdjudicationError,
    Decision,
    DecisionSyntaxError,
    parse_decision,
    read_adjudication,
)
from qualkit.analysis.disagreements import confusion_pairs, disagreements
from qualkit.analysis.meeting import write_disagreements
from qualkit.analysis.unit_codes import AgreementInputError
from qualkit.api import Workspace
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import init

INT1 = ("Interviewer: How do referrals get to the team?\n"
        "Maria: By fax, usually days late. There is no bus out there. People feel judged.\n"
        "Interviewer: What about the county attorney?\n"
        "Maria: He is careful. The agreement sits on his desk for a year.\n"
        "Interviewer: And staff?\n"
        "Maria: The nurses look down on them.\n")
INT2 = "Interviewer: Anything else?\nMaria: Funding ends in June.\n"


def make_ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role,site\n,Interviewer,RT-1,interviewer,\n"
                                           ",Maria,KP-4,behavioral health,Pine Hollow\n")
    (root / "transcripts" / "int1.txt").write_text(INT1)
    (root / "transcripts" / "int2.txt").write_text(INT2)
    save_codebook(Codebook("port", "PORT codebook", [
        Code("data_sharing", "Data sharing", definition="Moving client information between partners.",
             include="Fax, e-mail, shared records.", exclude="Talk about data in general."),
        Code("stigma", "Stigma", definition="Negative attitudes toward people who use drugs."),
        Code("stigma_staff", "Stigma by staff", parent="stigma", definition="Stigma from health or justice staff."),
        Code("legal", "Legal review", definition="Lawyers and agreements."),
        Code("transport", "Transport", definition="Getting to services."),
    ]), root / "codebooks" / "port.yaml")
    ws = Workspace(root)
    ws.write_codings("ana", [at("By fax", "data_sharing"), at("People feel judged.", "stigma"),
                             at("The agreement sits on his desk", "legal"), at("The nurses look down on them.", "stigma"),
                             Coding("int2", 35, 55, "legal", "Funding ends in June")])
    ws.write_codings("ben", [at("By fax, usually days late.", "data_sharing"), at("There is no bus out there.", "transport"),
                             at("He is careful.", "legal"), at("nurses look down", "stigma_staff")])
    return ws


def at(quote: str, code: str, text: str = INT1, tid: str = "int1") -> Coding:
    i = text.index(quote)
    return Coding(tid, i, i + len(quote), code, quote)


@pytest.fixture
def cli():
    def invoke(root, *args):
        return CliRunner().invoke(qualkit.cli.cli, ["-w", str(root), "disagreements", *args], catch_exceptions=False)

    return invoke


def test_each_code_one_coder_applied_to_a_unit_is_a_disagreement_with_its_definition(tmp_path):
    ws = make_ws(tmp_path)
    items = disagreements(ws, ["ana", "ben"])
    turn2 = INT1.index("By fax"), INT1.index("judged.") + len("judged.")
    assert [(d.key, d.applied_by) for d in items] == [
        (f"int1:turn:{turn2[0]}-{turn2[1]}:stigma", "ana"), (f"int1:turn:{turn2[0]}-{turn2[1]}:transport", "ben"),
        ("int1:turn:269-298:stigma", "ana"), ("int1:turn:269-298:stigma_staff", "ben")]
    d = items[0]
    assert (d.transcript, d.unit_number, d.speaker, d.participant, d.role) == ("int1", 2, "Maria", "KP-4", "behavioral health")
    assert d.text == INT1[turn2[0]:turn2[1]] and d.quote == "People feel judged."
    assert d.codes == {"ana": ["data_sharing", "stigma"], "ben": ["data_sharing", "transport"]}
    assert (d.code_name, d.definition) == ("Stigma", "Negative attitudes toward people who use drugs.")
    # the coders agree on data_sharing (different spans, same unit) and legal: not disagreements
    assert not [x for x in items if x.code in ("data_sharing", "legal")]
    # int2 was coded by ana only: left out, and said so
    assert items.left_out == {"int2": ["ben"]} and items.transcripts == ["int1"] and items.units == 3
    only = disagreements(ws, "ana,ben", code="stigma")
    assert [x.key for x in only] == [items[0].key, items[2].key]
    df = items.to_dataframe()
    assert list(df.columns[:3]) == ["key", "transcript", "unit"] and "A (ana)" in df and "B (ben)" in df
    assert df.loc[0, "A (ana)"] == "Data sharing; Stigma" and df.loc[0, "decision"] == ""


def test_confusion_pairs_count_codes_the_coders_swap_most_frequent_first(tmp_path):
    ws = make_ws(tmp_path)
    ws.write_codings("ben", [at("By fax, usually days late.", "data_sharing"), at("There is no bus", "transport"),
                             at("He is careful.", "legal"), at("nurses look down", "stigma_staff"),
                             at("People feel", "stigma_staff")])
    pairs = confusion_pairs(ws, ["ana", "ben"])
    assert [(p.a_code, p.b_code, p.count) for p in pairs] == [("stigma", "stigma_staff", 2), ("stigma", "transport", 1)]
    # turn 2: ana has stigma, ben has stigma_staff and transport (not stigma): both pairs count there
    assert confusion_pairs(disagreements(ws, ["ana", "ben"], code="transport")) == [pairs[1]]


def test_moderator_turns_are_compared_only_when_asked(tmp_path):
    ws = make_ws(tmp_path)
    ws.write_codings("ana", [*ws.codings("ana"), at("And staff?", "stigma")])
    assert not [d for d in disagreements(ws, ["ana", "ben"]) if d.speaker == "Interviewer"]
    with_team = disagreements(ws, ["ana", "ben"], include_facilitators=True)
    assert [(d.speaker, d.role, d.code) for d in with_team if d.speaker == "Interviewer"] == [("Interviewer", "interviewer", "stigma")]


def test_unknown_coder_no_transcript_in_common_and_unknown_code_are_one_line_errors(tmp_path, cli):
    ws = make_ws(tmp_path)
    with pytest.raises(AgreementInputError, match=r"no codings file for coder\(s\) zoe"):
        disagreements(ws, ["ana", "zoe"])
    with pytest.raises(Exception, match="is not in any codebook .did you mean stigma"):
        disagreements(ws, ["ana", "ben"], code="stigmaa")
    r = cli(ws.root, "--coders", "ana,zoe")
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "zoe" in r.output
    ws.write_codings("ben", [at("Funding ends", "legal", INT2, "int2")])
    ws.write_codings("ana", [at("By fax", "data_sharing")])
    r = cli(ws.root, "--coders", "ana,ben")
    assert r.exit_code == 1 and "no transcript in common" in r.output
    r = cli(ws.root, "--coders", "ana")
    assert r.exit_code == 2 and "name two coders" in r.output


def test_the_terminal_view_shows_units_codes_definitions_and_confusion_pairs(tmp_path, cli):
    ws = make_ws(tmp_path)
    r = cli(ws.root, "--coders", "ana,ben")
    assert r.exit_code == 0, r.output
    out = r.output
    assert "── int1 · turn 2 · Maria (KP-4, behavioral health)" in out
    assert "[[There is no bus out there.]] [[People feel judged.]]" in out  # the disputed quotes
    assert "  ana: Data sharing; Stigma\n  ben: Data sharing; Transport" in out
    assert "Stigma by staff (stigma_staff) — ben only\n      definition: Stigma from health or justice staff." in out
    assert "Confusion pairs (ana used X where ben used Y" in out
    assert "    1  Stigma (stigma)  Stigma by staff (stigma_staff)" in out
    assert "left out: int2 (not coded by ben)" in out
    assert out.rstrip().endswith("4 disagreements on 2 of 3 turns between ana and ben (1 transcript coded by both)")
    assert "\x1b[" not in out
    long_text = "Maria: " + "word " * 60 + "end.\n"
    full = INT1 + "Interviewer: More?\n" + long_text
    (ws.root / "transcripts" / "int1.txt").write_text(full)
    i = full.index("word")
    ws.write_codings("ana", [*ws.codings("ana"), Coding("int1", i, i + 4, "legal", "word")])
    out = cli(ws.root, "--coders", "ana,ben").output
    assert max(len(line) for line in out.splitlines()) <= 110  # wrapped
    cfg = ws.root / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("coders: []", "coders: [ana, ben]"))
    j = cli(ws.root, "--json")  # the two coders listed in qualkit.yaml
    import json

    data = json.loads(j.output)
    assert len(data["disagreements"]) == 5 and data["confusion_pairs"][0]["count"] == 1


def test_adjudication_csv_and_xlsx_have_keys_empty_decision_columns_and_instructions(tmp_path, cli):
    ws = make_ws(tmp_path)
    r = cli(ws.root, "--coders", "ana,ben", "--out", str(tmp_path / "adj.csv"))
    assert r.exit_code == 0 and "Wrote 4 disagreements" in r.output and "qualkit reconcile --coders ana,ben" in r.output
    raw = (tmp_path / "adj.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader((tmp_path / "adj.csv").read_text(encoding="utf-8-sig").splitlines()))
    intro = [r_[0] for r_ in rows if r_[0].startswith("#")]
    assert any("edit: ID, ID" in line for line in intro) and any("key = transcript:unit kind:start-end:code" in x for x in intro)
    header = rows[len(intro)]
    assert header[:4] == ["key", "transcript", "unit", "speaker"]
    assert header[header.index("A (ana)"):header.index("decided_by") + 1] == ["A (ana)", "B (ben)", "decision", "rationale", "decided_by"]
    assert header[-3:] == ["definition", "include", "exclude"]
    first = dict(zip(header, rows[len(intro) + 1]))
    assert first["code"] == "stigma" and first["applied_by"] == "ana" and first["decision"] == ""
    adj = read_adjudication(tmp_path / "adj.csv")
    assert adj.coders == ["ana", "ben"] and len(adj.rows) == 4 and adj.decided() == []
    assert adj.rows[0].row == len(intro) + 2  # the spreadsheet's row number
    assert adj.unit_kinds == {"turn"}

    from openpyxl import load_workbook

    cli(ws.root, "--coders", "ana,ben", "--out", str(tmp_path / "adj.xlsx"))
    wb = load_workbook(tmp_path / "adj.xlsx")
    sheet = wb["Adjudication"]
    assert wb.sheetnames == ["Adjudication", "README"]
    assert sheet.freeze_panes == "B2" and sheet.cell(row=2, column=7).alignment.wrap_text
    assert [c.value for c in sheet[1]][:2] == ["key", "transcript"]
    assert any("edit:" in (c.value or "") for c in wb["README"]["A"])
    dv = sheet.data_validations.dataValidation
    assert dv and "both" in dv[0].formula1 and not dv[0].showErrorMessage  # a list, typing 'edit: x' allowed
    assert [r_.key for r_ in read_adjudication(tmp_path / "adj.xlsx").rows] == [r_.key for r_ in adj.rows]


def test_meeting_documents_docx_landscape_with_repeated_header_and_plain_markdown(tmp_path):
    ws = make_ws(tmp_path)
    items = disagreements(ws, ["ana", "ben"])
    write_disagreements(items, tmp_path / "meeting.docx")
    from docx import Document

    doc = Document(tmp_path / "meeting.docx")
    section = doc.sections[0]
    assert section.page_width > section.page_height
    main = doc.tables[-1]
    assert [c.text for c in main.rows[0].cells] == ["Unit", "Text", "ana", "ben", "Codes in dispute", "Decision"]
    assert main.rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    assert len(main.rows) == 3  # one row per unit
    assert "Stigma by staff" in main.rows[2].cells[4].text and "Stigma from health or justice staff." in main.rows[2].cells[4].text
    bold = [r.text for p in main.rows[1].cells[1].paragraphs for r in p.runs if r.bold]
    assert bold == ["There is no bus out there.", "People feel judged."]
    assert [c.text for c in doc.tables[0].rows[1].cells] == ["1", "Stigma", "Stigma by staff"]  # confusion pairs
    md = write_disagreements(items, tmp_path / "meeting.md").read_text()
    assert md.startswith("# Disagreements: ana and ben\n")
    assert "| 1 | Stigma | Stigma by staff |" in md and "## int1 · turn 6 · Maria (KP-4, behavioral health)" in md
    with pytest.raises(Exception, match="cannot write a '.pdf' file"):
        write_disagreements(items, tmp_path / "meeting.pdf")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left


def test_the_decision_grammar():
    coders = ["ana", "ben"]
    assert parse_decision(" a ", coders) == Decision("A") and parse_decision("B.", coders) == Decision("B")
    assert parse_decision("Ana", coders) == Decision("A") and parse_decision("ben", coders) == Decision("B")
    assert parse_decision("Both", coders) == Decision("both")
    assert parse_decision("none", coders) == parse_decision("NEITHER", coders) == Decision("neither")
    assert parse_decision("edit: stigma_staff", coders) == Decision("edit", ("stigma_staff",))
    assert parse_decision("Edit:stigma_staff; legal , legal", coders) == Decision("edit", ("stigma_staff", "legal"))
    assert parse_decision("edit stigma_staff legal", coders).codes == ("stigma_staff", "legal")
    assert parse_decision("", coders) is None and parse_decision(None, coders) is None
    assert str(Decision("edit", ("a", "b"))) == "edit: a, b"
    for bad, msg in (("maybe", "unknown decision 'maybe'"), ("edit:", "needs the code ids"),
                     ("edit: stigma staff!", "is not a code id"), ("take A", "unknown decision")):
        with pytest.raises(DecisionSyntaxError, match=msg):
            parse_decision(bad, coders)


def test_a_file_that_is_not_an_adjudication_file_is_refused_with_its_row(tmp_path):
    (tmp_path / "x.csv").write_text("transcript,start\nint1,3\n")
    with pytest.raises(AdjudicationError, match=r"x.csv:1: missing column\(s\) key, code, applied_by, decision, A"):
        read_adjudication(tmp_path / "x.csv")
    with pytest.raises(AdjudicationError, match="no such file"):
        read_adjudication(tmp_path / "nope.csv")
    (tmp_path / "x.txt").write_text("key")
    with pytest.raises(AdjudicationError, match=r"\.csv or \.xlsx"):
        read_adjudication(tmp_path / "x.txt")


def _adj_rows(path):
    import csv as _csv

    rows = list(_csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    h = next(i for i, r in enumerate(rows) if r and r[0] == "key")
    return rows, h


def _write_rows(path, rows):
    import csv as _csv

    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        _csv.writer(f, lineterminator="\r\n").writerows(rows)


def test_rewriting_a_filled_adjudication_file_keeps_every_decision(tmp_path):
    from click.testing import CliRunner

    from qualkit.cli import cli
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    runner = CliRunner()
    adj = root / "adj.csv"
    assert runner.invoke(cli, ["--workspace", str(root), "disagreements", "--out", str(adj)]).exit_code == 0
    rows, h = _adj_rows(adj)  # the team fills in one decision, as in a spreadsheet program
    col = {name: i for i, name in enumerate(rows[h])}
    key = rows[h + 1][col["key"]]
    rows[h + 1][col["decision"]], rows[h + 1][col["rationale"]] = "both", "fits both definitions"
    _write_rows(adj, rows)
    filled = adj.read_bytes()
    r = runner.invoke(cli, ["--workspace", str(root), "disagreements", "--out", str(adj)])
    assert r.exit_code == 0, r.output
    assert "Carried forward 1 decision from the file" in r.output
    again, h2 = _adj_rows(adj)
    kept = [row for row in again[h2 + 1:] if row[col["key"]] == key]
    assert [(x[col["decision"]], x[col["rationale"]], x[col["review"]]) for x in kept] == [("both", "fits both definitions", "")]
    assert len(again) == len(rows)  # no row lost, none duplicated
    assert [p.read_bytes() for p in root.glob("adj.csv.*.bak")] == [filled]
    # applied to the consensus, the decision is written into a brand-new file too
    assert runner.invoke(cli, ["--workspace", str(root), "reconcile", "--adjudication", str(adj)]).exit_code == 0
    fresh = root / "fresh.csv"
    assert runner.invoke(cli, ["--workspace", str(root), "disagreements", "--out", str(fresh)]).exit_code == 0
    rows3, h3 = _adj_rows(fresh)
    assert [(x[col["decision"]], x[col["rationale"]]) for x in rows3[h3 + 1:] if x[col["key"]] == key] == [
        ("both", "fits both definitions")]


def test_a_decision_whose_codings_changed_is_marked_for_re_review_not_dropped(tmp_path):
    from click.testing import CliRunner

    from qualkit.cli import cli
    from qualkit.workspace.codings import read_codings, write_codings
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    runner = CliRunner()
    adj = root / "adj.csv"
    assert runner.invoke(cli, ["--workspace", str(root), "disagreements", "--out", str(adj)]).exit_code == 0
    rows, h = _adj_rows(adj)
    col = {name: i for i, name in enumerate(rows[h])}
    row = rows[h + 1]
    key, code, by = row[col["key"]], row[col["code"]], row[col["applied_by"]]
    row[col["decision"]] = "neither"
    _write_rows(adj, rows)
    # the coder who applied the code takes it back: the disagreement is gone
    tid, _, span, _ = key.rsplit(":", 3)
    s, e = (int(x) for x in span.split("-"))
    path = root / "codings" / f"{by}.csv"
    write_codings(path, [c for c in read_codings(path)
                         if not (c.transcript == tid and c.code == code and c.start < e and c.end > s)])
    r = runner.invoke(cli, ["--workspace", str(root), "disagreements", "--out", str(adj)])
    assert r.exit_code == 0, r.output
    assert "1 marked for re-review" in r.output
    again, h2 = _adj_rows(adj)
    kept = [x for x in again[h2 + 1:] if x[col["key"]] == key]
    assert len(kept) == 1 and kept[0][col["decision"]] == "neither"
    assert kept[0][col["review"]].startswith("re-review: no longer a disagreement")
    # reconcile leaves the marked row alone instead of failing on it
    r = runner.invoke(cli, ["--workspace", str(root), "reconcile", "--adjudication", str(adj)])
    assert r.exit_code == 0, r.output
