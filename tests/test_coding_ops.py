"""Adding, removing and querying codings through the library, and `qualkit codings list`."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.coding.coding_ops import add_coding, query_codings, remove_coding
from qualkit.errors import WorkspaceError
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import CodingError, read_codings
from qualkit.workspace.scaffold import init

TEXT = ("Interviewer: How do referrals arrive?\n"
        "Maria: By fax, usually days late.\n"
        "Interviewer: Always?\n"
        "Maria: Mostly. The peer specialist calls within a day.\n")


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role,site\n"
                                           ",Interviewer,RT-1,interviewer,\nint1,Maria,KP-4,peer,Pine Hollow\n")
    (root / "transcripts" / "int1.txt").write_text(TEXT, encoding="utf-8")
    save_codebook(Codebook("main", "Main", [Code("data_sharing", "Inter-partner data sharing"), Code("delays", "Delays")]),
                  root / "codebooks" / "main.yaml")
    return Workspace(root)


def span(quote):
    start = TEXT.index(quote)
    return start, start + len(quote)


def test_add_coding_fills_quote_and_time_and_never_duplicates(ws):
    s, e = span("By fax, usually days late.")
    coding, added = add_coding(ws, "ana", "int1", s, e, "Inter-partner data sharing", memo="fax")
    assert added
    assert (coding.code, coding.text, coding.memo) == ("data_sharing", "By fax, usually days late.", "fax")
    assert coding.coded_at
    coding2, added2 = add_coding(ws, "ana", "int1", s, e, "data_sharing")
    assert not added2 and coding2.key == coding.key
    rows = read_codings(ws.coder_file("ana"))
    assert len(rows) == 1
    assert TEXT[rows[0].start:rows[0].end] == rows[0].text


@pytest.mark.parametrize("start,end,code,message", [
    (5, 500, "delays", "ends past the end of int1"),
    (10, 10, "delays", "empty or reversed"),
    (0, 5, "delyas", "not in any codebook (did you mean 'delays'?)"),
])
def test_add_coding_refuses_bad_input_and_writes_nothing(ws, start, end, code, message):
    with pytest.raises(CodingError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        add_coding(ws, "ana", "int1", start, end, code)
    assert not ws.coder_file("ana").exists()


def test_add_coding_to_an_unknown_transcript_fails(ws):
    with pytest.raises(WorkspaceError, match="no transcript with id 'int9'"):
        add_coding(ws, "ana", "int9", 0, 5, "delays")
    assert not ws.coder_file("ana").exists()


def test_remove_coding_backs_up_and_reports_missing(ws):
    s, e = span("By fax, usually days late.")
    add_coding(ws, "ana", "int1", s, e, "data_sharing")
    add_coding(ws, "ana", "int1", s, e, "delays")
    removed = remove_coding(ws, "ana", "int1", s, e, "Delays")
    assert removed.code == "delays"
    assert [c.code for c in ws.codings("ana")] == ["data_sharing"]
    assert list((ws.root / ".qualkit" / "backups").glob("ana.csv.*.bak"))
    with pytest.raises(CodingError, match="has no coding 'delays'"):
        remove_coding(ws, "ana", "int1", s, e, "delays")


def test_query_codings_gives_the_speaker_and_participant_of_each_coding(ws):
    add_coding(ws, "ana", "int1", *span("By fax, usually days late."), "data_sharing")
    add_coding(ws, "bob", "int1", *span("Always?"), "delays")
    # A span starting on the speaker label belongs to the turn that follows it.
    add_coding(ws, "bob", "int1", *span("Maria: Mostly."), "delays")
    df = query_codings(ws)
    assert list(df["coder"]) == ["ana", "bob", "bob"]
    assert list(df["speaker"]) == ["Maria", "Interviewer", "Maria"]
    assert list(df["participant_id"]) == ["KP-4", "RT-1", "KP-4"]
    assert list(df["code_name"]) == ["Inter-partner data sharing", "Delays", "Delays"]
    only = query_codings(ws, coders=["bob"], code="Delays", transcript="int1")
    assert len(only) == 2 and set(only["code"]) == {"delays"}
    assert query_codings(ws, transcript="int9").empty


def test_codings_list_prints_a_table_and_json(ws):
    add_coding(ws, "ana", "int1", *span("The peer specialist calls within a day."), "delays")
    add_coding(ws, "bob", "int1", *span("By fax, usually days late."), "data_sharing")
    runner = CliRunner()
    r = runner.invoke(cli, ["-w", str(ws.root), "codings", "list", "--code", "delays"])
    assert r.exit_code == 0, r.output
    assert "ana" in r.output and "Maria" in r.output and "The peer specialist calls within a day." in r.output
    assert "bob" not in r.output
    r = runner.invoke(cli, ["-w", str(ws.root), "codings", "list", "--coder", "bob", "--json"])
    data = json.loads(r.output)
    assert [(d["coder"], d["code"], d["speaker"], d["participant_id"]) for d in data] == [("bob", "data_sharing", "Maria", "KP-4")]
    r = runner.invoke(cli, ["-w", str(ws.root), "codings", "list", "--coder", "zoe"])
    assert r.exit_code == 1 and "no codings file for coder 'zoe'" in r.output and "Traceback" not in r.output


def test_listing_long_quotes_trims_them(ws):
    add_coding(ws, "ana", "int1", 0, len(TEXT) - 1, "delays")
    r = CliRunner().invoke(cli, ["-w", str(ws.root), "codings", "list"])
    assert r.exit_code == 0
    assert "\u2026" in r.output
    assert "calls within a day" not in r.output
