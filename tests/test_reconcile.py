"""Reconciliation as a team does it: fill in the adjudication file (or decide interactively), get
consensus codings and an audit trail; re-runs change nothing; bad files write nothing."""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import qualkit.cli
from qualkit.analysis.adjudication import AdjudicationError
from qualkit.analysis.disagreements import disagreements
from qualkit.analysis.meeting import write_disagreements
from qualkit.analysis.reconcile import ReconcileError, reconcile
from qualkit.analysis.reconcile_session import ReconcileSession
from qualkit.analysis.unit_codes import AgreementInputError, build_unit_codes
from qualkit.api import Workspace
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings
from qualkit.workspace.scaffold import init

INT1 = ("Interviewer: How do referrals get to the team?\n"
        "Maria: By fax, usually days late. There is no bus out there. People feel judged.\n"
        "Interviewer: What about the county attorney?\n"
        "Maria: He is careful. The agreement sits on his desk for a year.\n"
        "Interviewer: And staff?\n"
        "Maria: The nurses look down on them.\n")


def at(quote: str, code: str, memo: str = "") -> Coding:
    i = INT1.index(quote)
    return Coding("int1", i, i + len(quote), code, quote, memo, "2026-03-01T09:00:00")


def make_ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n"
                                           ",Maria,KP-4,behavioral health\n")
    (root / "transcripts" / "int1.txt").write_text(INT1)
    save_codebook(Codebook("port", "PORT codebook", [
        Code("data_sharing", "Data sharing"), Code("stigma", "Stigma"),
        Code("stigma_staff", "Stigma by staff", parent="stigma"), Code("legal", "Legal review"),
        Code("transport", "Transport"),
    ]), root / "codebooks" / "port.yaml")
    ws = Workspace(root)
    ws.write_codings("ana", [at("By fax", "data_sharing", "slow"), at("People feel judged.", "stigma"),
                             at("The agreement sits on his desk", "legal"), at("The nurses look down on them.", "stigma")])
    ws.write_codings("ben", [at("By fax, usually days late.", "data_sharing"), at("There is no bus out there.", "transport"),
                             at("He is careful.", "legal"), at("nurses look down", "stigma_staff")])
    return ws


T2 = "int1:turn:54-127"   # Maria's first answer
T6 = "int1:turn:269-298"  # Maria's last answer
DECISIONS = {f"{T2}:stigma": ("A", "judged is stigma"), f"{T2}:transport": ("B", "rural access"),
             f"{T6}:stigma": ("edit: stigma_staff", "it is the nurses"), f"{T6}:stigma_staff": ("neither", "")}


def fill_csv(path, decisions=DECISIONS, who: str = ""):
    """Fill in the decision columns as a team would in a spreadsheet program."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(lines))
    h = next(i for i, r in enumerate(rows) if r and r[0] == "key")
    header = rows[h]
    for r in rows[h + 1:]:
        if r[0] in decisions:
            r[header.index("decision")], r[header.index("rationale")] = decisions[r[0]]
            r[header.index("decided_by")] = who
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return path


def adjudication(ws, tmp_path, name="adj.csv", decisions=DECISIONS):
    path = write_disagreements(disagreements(ws, ["ana", "ben"]), tmp_path / name)
    return fill_csv(path, decisions)


def consensus_rows(ws, into="consensus"):
    return [(c.text, c.code, c.memo) for c in read_codings(ws.coder_file(into))]


def audit(ws):
    path = ws.root / ".qualkit" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def snapshot(ws):
    read = lambda p: p.read_bytes() if p.exists() else None  # noqa: E731
    return (read(ws.coder_file("consensus")), read(ws.root / ".qualkit" / "audit.log"))


# -- from an adjudication file ---------------------------------------------------------------

def test_a_filled_in_adjudication_file_gives_consensus_codings_and_an_audit_trail(tmp_path):
    ws = make_ws(tmp_path)
    originals = {c: ws.coder_file(c).read_bytes() for c in ("ana", "ben")}
    path = adjudication(ws, tmp_path)
    result = reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    assert (result.agreed, result.disagreements, result.decided, result.new, result.complete) == (2, 4, 4, 4, True)
    assert result.written and result.path == ws.root / "codings" / "consensus.csv"
    # agreed codings come from ana (coder A) exactly: her span, memo and time, not ben's longer span
    assert consensus_rows(ws) == [
        ("By fax", "data_sharing", "slow"), ("There is no bus out there.", "transport", ""),
        ("People feel judged.", "stigma", ""), ("The agreement sits on his desk", "legal", ""),
        ("The nurses look down on them.", "stigma_staff", "")]  # edit: ana's span, relabelled
    assert read_codings(ws.coder_file("consensus"))[0].coded_at == "2026-03-01T09:00:00"
    log = audit(ws)
    assert [(r["action"], r["key"], r["decision"], r["who"]) for r in log] == [
        ("decide", f"{T2}:stigma", "A", "cara"), ("decide", f"{T2}:transport", "B", "cara"),
        ("decide", f"{T6}:stigma", "edit", "cara"), ("decide", f"{T6}:stigma_staff", "neither", "cara")]
    first = log[0]
    assert first["coders"] == ["ana", "ben"] and first["unit_kind"] == "turn" and first["into"] == "consensus"
    assert first["rationale"] == "judged is stigma" and first["when"] and first["source"].endswith("adj.csv:8")
    assert first["disagreement"]["applied_by"] == "ana" and first["disagreement"]["codes"]["ben"] == ["data_sharing", "transport"]
    assert log[2]["codes"] == ["stigma_staff"] and log[2]["result"] == ["stigma_staff"]
    # the coders' own files are untouched, so agreement can always be recomputed from them
    assert {c: ws.coder_file(c).read_bytes() for c in ("ana", "ben")} == originals
    # and the consensus, laid onto the same units, says exactly what was decided
    uc = build_unit_codes(ws, ["consensus", "ana"])
    assert uc.codes["consensus"] == [{"data_sharing", "stigma", "transport"}, {"legal"}, {"stigma_staff"}]


def test_re_running_changes_nothing_and_a_changed_decision_is_logged_once(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    path = adjudication(ws, tmp_path)
    reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    before = snapshot(ws)
    again = reconcile(ws, ["ana", "ben"], adjudication=path, by="dan")
    assert (again.new, again.already, again.written) == (0, 4, False)
    assert snapshot(ws) == before  # byte for byte: same consensus, nothing logged twice
    assert not (ws.root / ".qualkit" / "backups" / "consensus.csv").exists()
    # the team changes its mind on one row: one new record, that row's effect only
    fill_csv(path, {**DECISIONS, f"{T2}:transport": ("neither", "not a barrier here")})
    changed = reconcile(ws, ["ana", "ben"], adjudication=path)
    assert (changed.new, changed.already) == (1, 3)
    assert ("There is no bus out there.", "transport", "") not in consensus_rows(ws)
    assert len(audit(ws)) == 5 and audit(ws)[-1]["decision"] == "neither"
    # an emptied cell is "no decision in this file": the decision in force stands
    fill_csv(path, {f"{T2}:stigma": ("", "")})
    kept = reconcile(ws, ["ana", "ben"], adjudication=path)
    assert kept.decided == 4 and kept.new == 0 and len(audit(ws)) == 5


def test_undecided_disagreements_stay_out_and_are_reported(tmp_path):
    ws = make_ws(tmp_path)
    path = adjudication(ws, tmp_path, decisions={f"{T2}:stigma": ("both", "")})
    result = reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    assert result.decided == 1 and result.undecided == [f"{T2}:transport", f"{T6}:stigma", f"{T6}:stigma_staff"]
    assert not result.complete
    assert [code for _, code, _ in consensus_rows(ws)] == ["data_sharing", "stigma", "legal"]
    assert "3 still undecided" in result.summary()


def test_xlsx_adjudication_file_filled_in_excel(tmp_path):
    from openpyxl import load_workbook

    ws = make_ws(tmp_path)
    path = write_disagreements(disagreements(ws, ["ana", "ben"]), tmp_path / "adj.xlsx")
    wb = load_workbook(path)
    sheet = wb["Adjudication"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = row[0].value
        if key in DECISIONS:
            row[header.index("decision")].value, row[header.index("rationale")].value = DECISIONS[key]
            row[header.index("decided_by")].value = "team"
    wb.save(path)
    result = reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    assert result.decided == 4 and {r["who"] for r in audit(ws)} == {"team"}
    assert audit(ws)[0]["source"].endswith("adj.xlsx:2")


def test_library_decisions_and_sentence_units(tmp_path):
    ws = make_ws(tmp_path)
    items = disagreements(ws, ["ana", "ben"], unit="sentence")
    keys = {d.code: d.key for d in items}
    assert keys["transport"].startswith("int1:sentence:")
    result = reconcile(ws, ["ana", "ben"], unit="sentence", decisions={
        keys["transport"]: {"decision": "b", "rationale": "access", "by": "eve"}, keys["stigma_staff"]: "both"})
    assert result.unit_kind == "sentence" and result.decided == 2 and audit(ws)[0]["who"] == "eve"
    assert audit(ws)[0]["mode"] == "library"
    with pytest.raises(AdjudicationError, match="matches no current disagreement"):
        reconcile(ws, ["ana", "ben"], unit="sentence", decisions={"int1:sentence:0-3:legal": "A"})


# -- spans ------------------------------------------------------------------------------------

def test_a_coding_across_two_units_is_kept_whole_or_cut_to_the_units_decided(tmp_path):
    ws = make_ws(tmp_path)
    across = "People feel judged.\nInterviewer: What about the county attorney?\nMaria: He is careful."
    ws.write_codings("ana", [at(across, "stigma")])
    ws.write_codings("ben", [at("People feel judged.", "stigma")])
    # ana's coding reaches into Maria's second answer, ben's does not
    [d] = disagreements(ws, ["ana", "ben"])
    key = d.key
    assert (d.unit_number, d.quote) == (4, "He is careful.")
    reconcile(ws, ["ana", "ben"], decisions={key: "B"}, by="cara")
    assert consensus_rows(ws) == [("People feel judged.", "stigma", "")]  # cut to turn 2 (agreed)
    reconcile(ws, ["ana", "ben"], decisions={key: "A"}, by="cara")
    assert consensus_rows(ws) == [(across, "stigma", "")]  # kept on both turns: the coding whole


# -- bad input ----------------------------------------------------------------------------------

def _edit_cell(path, key, column, value):
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    h = next(i for i, r in enumerate(rows) if r and r[0] == "key")
    for r in rows[h + 1:]:
        if r[0] == key:
            r[rows[h].index(column)] = value
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _drop_column(path, column):
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    h = next(i for i, r in enumerate(rows) if r and r[0] == "key")
    j = rows[h].index(column)
    buf = io.StringIO()
    csv.writer(buf).writerows([r if i < h else r[:j] + r[j + 1:] for i, r in enumerate(rows)])
    path.write_text(buf.getvalue(), encoding="utf-8")


BAD_FILES = {
    "unknown decision": (lambda p: _edit_cell(p, f"{T2}:stigma", "decision", "maybe"),
                         r"adj.csv:8: unknown decision 'maybe'"),
    "edited key": (lambda p: _edit_cell(p, f"{T2}:stigma", "key", "int1:turn:54-128:stigma"),
                   r"adj.csv:8: key int1:turn:54-128:stigma matches no current disagreement"),
    "edited coder column": (lambda p: _edit_cell(p, f"{T6}:stigma", "B (ben)", "Stigma"),
                            r"adj.csv:10: column 'B \(ben\)' says 'Stigma' but the coders' files say 'Stigma by staff'"),
    "edited applied_by": (lambda p: _edit_cell(p, f"{T6}:stigma", "applied_by", "ben"),
                          r"adj.csv:10: column 'applied_by' says 'ben'"),
    "missing column": (lambda p: _drop_column(p, "decision"), r"adj.csv:7: missing column\(s\) decision"),
    "renamed coder": (lambda p: p.write_text(p.read_text(encoding="utf-8-sig").replace("B (ben)", "B (bea)")),
                      r"adj.csv:7: this file compares ana and bea, not ana and ben"),
    "unknown code after edit:": (lambda p: _edit_cell(p, f"{T6}:stigma", "decision", "edit: stigma_staf"),
                                 r"adj.csv:10: code 'stigma_staf' after 'edit:' is not in any codebook \(did you mean stigma_staff\?\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_adjudication_file_is_a_one_line_error_and_nothing_is_written(tmp_path, case):
    ws = make_ws(tmp_path)
    path = adjudication(ws, tmp_path, decisions={f"{T2}:stigma": ("A", "")})
    reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    path = adjudication(ws, tmp_path)
    before, originals = snapshot(ws), (ws.coder_file("ana").read_bytes(), ws.coder_file("ben").read_bytes())
    damage, message = BAD_FILES[case]
    damage(path)
    with pytest.raises(AdjudicationError, match=message):
        reconcile(ws, ["ana", "ben"], adjudication=path, by="cara")
    assert snapshot(ws) == before  # consensus file and audit log untouched
    assert (ws.coder_file("ana").read_bytes(), ws.coder_file("ben").read_bytes()) == originals


def test_cli_errors_exit_1_with_one_line_naming_file_and_row(tmp_path, recon_cli):
    ws = make_ws(tmp_path)
    path = adjudication(ws, tmp_path)
    _edit_cell(path, f"{T2}:transport", "decision", "B?")
    r = recon_cli(ws.root, "--coders", "ana,ben", "--adjudication", str(path))
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "adj.csv:9: unknown decision 'B?'" in r.output
    assert not ws.coder_file("consensus").exists() and not audit(ws)
    _edit_cell(path, f"{T2}:transport", "decision", "B")
    r = recon_cli(ws.root, "--coders", "ana,ben", "--adjudication", str(path), "--unit", "sentence")
    assert r.exit_code == 1 and "it is a turn unit; this run compares sentence units: add --unit turn" in r.output
    r = recon_cli(ws.root, "--coders", "ana,zoe")
    assert r.exit_code == 1 and "no codings file for coder(s) zoe" in r.output
    r = recon_cli(ws.root, "--coders", "ana,ben", "--into", "ben")
    assert r.exit_code == 1 and "is one of the coders" in r.output
    (ws.root / "transcripts" / "int2.txt").write_text("Maria: Funding ends in June.\n")
    ws.write_codings("carl", [Coding("int2", 7, 14, "legal", "Funding")])
    with pytest.raises(AgreementInputError, match="no transcript in common"):
        reconcile(ws, ["ana", "carl"])
    assert not ws.coder_file("consensus").exists() and not audit(ws)


def test_into_never_overwrites_a_file_reconcile_did_not_write(tmp_path):
    ws = make_ws(tmp_path)
    ws.write_codings("dora", [at("By fax", "legal")])
    with pytest.raises(ReconcileError, match="dora.csv: already exists and was not written by `qualkit reconcile`"):
        reconcile(ws, ["ana", "ben"], into="dora")
    with pytest.raises(ReconcileError, match="reserved"):
        reconcile(ws, ["ana", "ben"], into="auto")
    assert [c.code for c in ws.codings("dora")] == ["legal"]
    # a consensus with only agreed codings (no decision yet) is recorded, so the next run may rewrite it
    reconcile(ws, ["ana", "ben"], into="team")
    assert [r["action"] for r in audit(ws)] == ["create"]
    assert reconcile(ws, ["ana", "ben"], into="team").new == 0 and len(audit(ws)) == 1


def test_decisions_that_no_longer_match_the_coders_files_are_not_applied(tmp_path):
    ws = make_ws(tmp_path)
    reconcile(ws, ["ana", "ben"], decisions={f"{T2}:transport": "neither"}, by="cara")
    assert ("There is no bus out there.", "transport", "") not in consensus_rows(ws)
    # ana adds transport too: the disagreement is gone (now agreed), the old decision is stale
    ws.write_codings("ana", [*ws.codings("ana"), at("There is no bus", "transport")])
    result = reconcile(ws, ["ana", "ben"], by="cara")
    assert result.stale == 1 and ("There is no bus", "transport", "") in consensus_rows(ws)


def test_decisions_hold_when_the_coders_are_named_the_other_way_round(tmp_path):
    ws = make_ws(tmp_path)
    reconcile(ws, ["ana", "ben"], decisions={f"{T2}:transport": "B", f"{T2}:stigma": "B"}, by="cara")
    result = reconcile(ws, ["ben", "ana"], decisions={f"{T2}:transport": "A"}, by="cara")
    assert result.new == 0 and result.already == 1  # "A" now means ben: the same decision
    assert result.decided == 2 and "stigma" not in [c for _, c, _ in consensus_rows(ws)]


# -- interactively ------------------------------------------------------------------------------

def run(session, *lines):
    replies = [session.execute(line) for line in lines]
    for line, r in zip(lines, replies):
        assert not r.error, f"{line!r}: {r.message}"
    return replies[-1]


def test_walking_the_disagreements_deciding_with_rationale_undo_and_resume(tmp_path):
    ws = make_ws(tmp_path)
    originals = (ws.coder_file("ana").read_bytes(), ws.coder_file("ben").read_bytes())
    with ReconcileSession(ws, ["ana", "ben"], by="cara") as s:
        v = s.view()
        assert (v.number, v.total, v.item.code, v.item.applied_by, v.decision) == (1, 4, "stigma", "ana", None)
        assert v.names == {"ana": ["Data sharing", "Stigma"], "ben": ["Data sharing", "Transport"]} and v.others_here == 1
        r = run(s, "a")
        assert "rationale?" in r.message and s.prompt == "rationale > "
        r = run(s, "judged is stigma")
        assert r.moved and "decided A: stigma kept on int1 turn 2" in r.message and s.view().number == 2
        run(s, "b -- rural access")
        assert s.view().number == 3
        r = s.execute("e stigma_staf")
        assert r.error and "did you mean stigma_staff" in r.message
        assert s.execute("maybe").error
        run(s, "e stigma_staff -- it is the nurses")
        assert "stigma_staff" in [c for _, c, _ in consensus_rows(ws)]  # saved at once
        r = run(s, "u")
        assert "undone: apply stigma_staff instead" in r.message and s.view().number == 3
        assert [r_["action"] for r_ in audit(ws)][-1] == "undo"
        assert "stigma_staff" not in [c for _, c, _ in consensus_rows(ws)]
    # a new run resumes at the first undecided disagreement, with the undo history
    with ReconcileSession(ws, ["ana", "ben"], by="cara") as s:
        assert s.view().number == 3 and s.decided == 2
        run(s, "e stigma_staff -- it is the nurses", "neither -- covered by the edit")
        assert s.decided == 4
        r = run(s, "u")
        assert "undecided again" in r.message and s.view().number == 4
        run(s, "x -- covered by the edit")
    assert consensus_rows(ws) == [
        ("By fax", "data_sharing", "slow"), ("There is no bus out there.", "transport", ""),
        ("People feel judged.", "stigma", ""), ("The agreement sits on his desk", "legal", ""),
        ("The nurses look down on them.", "stigma_staff", "")]
    assert (ws.coder_file("ana").read_bytes(), ws.coder_file("ben").read_bytes()) == originals
    # the same decisions from a file are already in force: nothing logged, nothing rewritten
    before = snapshot(ws)
    same = reconcile(ws, ["ana", "ben"], adjudication=adjudication(ws, tmp_path, decisions={
        f"{T2}:stigma": ("A", "judged is stigma"), f"{T6}:stigma_staff": ("neither", "covered by the edit")}))
    # (a new adjudication file carries every decision in force, so all 4 are "already" there)
    assert (same.new, same.already) == (0, 4) and snapshot(ws) == before


def die_before_replacing(monkeypatch, name):
    """The process dies just before it renames a file onto ``name`` (as a kill -9 would)."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == name:
            raise KeyboardInterrupt
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_killed_session_leaves_each_decision_whole_and_resumes(tmp_path, monkeypatch):
    """Issue 16: a decision and the consensus it produces are one transaction: killed before it is
    decided (the journal), the next command rolls it back; killed after, the next command completes it."""
    ws = make_ws(tmp_path)
    s = ReconcileSession(ws, ["ana", "ben"], by="cara")
    run(s, "a -- judged")
    die_before_replacing(monkeypatch, "journal.json")
    with pytest.raises(KeyboardInterrupt):
        s.execute("b -- rural access")
    monkeypatch.undo()
    s.close()
    ws = Workspace(ws.root)  # the next command rolls back: decision b is neither logged nor applied
    assert [r["action"] for r in audit(ws)] == ["create", "decide"]
    assert ("There is no bus out there.", "transport", "") not in consensus_rows(ws)
    with ReconcileSession(ws, ["ana", "ben"], by="cara") as again:
        assert again.view().number == 2 and again.decided == 1
        die_before_replacing(monkeypatch, "audit.log")  # after the journal: the change is decided
        with pytest.raises(KeyboardInterrupt):
            again.execute("b -- rural access")
        monkeypatch.undo()
    assert (ws.root / ".qualkit" / "transaction").exists()
    ws = Workspace(ws.root)  # the next command completes it: logged and applied
    assert not (ws.root / ".qualkit" / "transaction").exists()
    assert ("There is no bus out there.", "transport", "") in consensus_rows(ws)
    # an older qualkit died in the middle of appending a later line of the log
    with open(ws.root / ".qualkit" / "audit.log", "ab") as f:
        f.write(b'{"v":1,"id":"x","action":"dec')
    with ReconcileSession(ws, ["ana", "ben"], by="cara") as again:
        assert any("unfinished line" in n for n in again.notices)
        assert again.view().number == 3 and again.decided == 2
        with pytest.raises(ReconcileError, match="another `qualkit reconcile` into consensus is running"):
            ReconcileSession(ws, ["ana", "ben"])
        run(again, "x -- no")
    # the session's start wrote the consensus of agreed codings (recorded once); the partial line is gone
    assert [r["action"] for r in audit(ws)] == ["create", "decide", "decide", "decide"]


@pytest.fixture
def recon_cli():
    def invoke(root, *args, input=""):
        return CliRunner().invoke(qualkit.cli.cli, ["-w", str(root), "reconcile", *args], input=input,
                                  catch_exceptions=False)

    return invoke


def test_piped_interactive_reconcile(tmp_path, recon_cli):
    ws = make_ws(tmp_path)
    r = recon_cli(ws.root, "--coders", "ana,ben", "--by", "cara", input="?\na\njudged\nb -- access\nq\n")
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Reconciling A = ana and B = ben into codings/consensus.csv · turn units · 4 disagreements" in out
    assert "── 1/4 · int1 · turn 2 · Maria (KP-4, behavioral health)" in out
    assert "[[People feel judged.]]" in out and "  A ana: Data sharing; Stigma" in out
    assert "in dispute: Stigma (stigma) — applied by ana only" in out and "u                 undo" in out
    assert "[disagreement 1/4] a/b/both/x/e/? > a\n" in out and "rationale > judged" in out
    assert "2/4 disagreements decided (this run: 2 decided)" in out and "\x1b[" not in out
    assert [(x["action"], x.get("decision"), x.get("rationale"), x["who"]) for x in audit(ws)] == [
        ("create", None, None, "cara"), ("decide", "A", "judged", "cara"), ("decide", "B", "access", "cara")]
    # the file way, through the CLI: a dry run reports and writes nothing
    path = adjudication(ws, tmp_path)
    before = snapshot(ws)
    r = recon_cli(ws.root, "--coders", "ana,ben", "--adjudication", str(path), "--dry-run")
    assert r.exit_code == 0 and "would write codings/consensus.csv" in r.output and snapshot(ws) == before
    r = recon_cli(ws.root, "--coders", "ana,ben", "--adjudication", str(path), "--json")
    data = json.loads(r.output)
    assert data["complete"] and (data["new"], data["already"]) == (4, 0)  # other rationales: new records


def test_q_at_the_rationale_prompt_quits_instead_of_saving_q_as_the_rationale(tmp_path):
    ws = make_ws(tmp_path)
    with ReconcileSession(ws, ["ana", "ben"], by="cara") as s:
        assert s.execute("A").message.endswith("rationale? (one line; Enter leaves it empty)")
        r = s.execute("q")
        assert r.quit and not r.error and "not saved" in r.message
    assert [rec for rec in audit(ws) if rec.get("action") == "decide"] == []


def test_the_summary_says_how_the_codings_written_add_up(sample_workspace, run_cli, tmp_path):
    """The sample study has more codings on agreed turns than agreed (turn, code)s (a turn can hold
    several passages with one code): the summary must not leave a reader with 195 agreed and 205 written."""
    adj = tmp_path / "adj.csv"
    assert run_cli("disagreements", "--out", adj, workspace=sample_workspace).exit_code == 0
    keys = [r[0] for r in csv.reader(adj.read_text(encoding="utf-8-sig").splitlines()) if r and ":" in r[0]
            and not r[0].startswith("#")]
    fill_csv(adj, {k: ("both", "") for k in keys[:10]})
    result = run_cli("reconcile", "--adjudication", adj, workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[0]
    agreed = int(line.split(": ", 1)[1].split(" ", 1)[0])
    written = len(read_codings(sample_workspace / "codings" / "consensus.csv"))
    assert f"{agreed} (unit, code)s agreed" in line and f"{written} codings = " in line, line
    from_agreed, from_decisions = (int(x) for x in re.findall(r"= (\d+) of ana's passages.* \+ (\d+) from decisions", line)[0])
    assert from_agreed + from_decisions == written and from_decisions > 0 and from_agreed != agreed, line
