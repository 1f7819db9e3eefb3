"""Codings always readable and always carrying their quote (issue 16, points 4 and 5)."""
from __future__ import annotations

from qualkit.workspace.codings import Coding, read_codings, write_codings

LONG = 200_000  # over the csv module's default field limit of 131,072 characters


def test_a_coding_longer_than_the_csv_field_limit_reads_back(tmp_path):
    text = "word " * (LONG // 5)
    path = tmp_path / "codings" / "asr.csv"
    write_codings(path, [Coding("int1", 0, len(text), "fax", text)])
    (back,) = read_codings(path)
    assert back.text == text and back.end == len(text)


def test_every_command_still_reads_a_coder_with_a_long_coding(make_workspace, run_cli):
    long_turn = "Maria: " + "fax " * (LONG // 4) + "\n"
    ws = make_workspace(transcripts={"int1": long_turn}, codebook=[("fax", "Fax")])
    t = ws.transcript("int1")
    ws.write_codings("ana", [Coding("int1", 7, len(t.text.rstrip()), "fax", t.text[7:len(t.text.rstrip())])])
    assert run_cli("codings", "check").exit_code == 0
    assert run_cli("codebook", "rename", "fax", "fax_referrals").exit_code == 0
    assert [c.code for c in ws.codings("ana")] == ["fax_referrals"]


def test_a_participants_file_with_a_long_cell_reads(make_workspace, run_cli):
    note = "x" * LONG
    ws = make_workspace(participants=f"transcript,speaker,participant_id,role,site,note\nint1,Maria,KP-4,nurse,Pine,{note}\n")
    assert ws.participant_table is not None
    assert run_cli("ingest").exit_code == 0


TEXT = ("Interviewer: Tell me about the team.\n"
        "Maria: The team meets weekly. We fax the referrals to the county.\n"
        "Interviewer: And then?\n"
        "Maria: Then the team calls back. Sometimes the team forgets.\n")


def _no_quote_column(path):
    rows = path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "text"]
    path.write_text("\n".join(",".join(r.split(",")[i] for i in keep) for r in rows) + "\n", encoding="utf-8")


def test_codings_without_quotes_are_not_reported_as_fitting(make_workspace, run_cli):
    ws = make_workspace(transcripts={"int1": TEXT}, codebook=[("fax", "Fax")], coders={"ana": [("We fax the referrals", "fax")]})
    _no_quote_column(ws.coder_file("ana"))
    (ws.root / "transcripts" / "int1.txt").write_text("Header line one.\nHeader line two.\n" + TEXT, encoding="utf-8")
    out = run_cli("codings", "check")
    assert out.exit_code == 1
    assert "unquoted" in out.output and "All codings fit" not in out.output


def test_fix_upgrades_a_file_without_quotes_once(make_workspace, run_cli):
    ws = make_workspace(transcripts={"int1": TEXT}, codebook=[("fax", "Fax")], coders={"ana": [("We fax the referrals", "fax")]})
    _no_quote_column(ws.coder_file("ana"))
    assert run_cli("codings", "check", "--fix").exit_code == 0
    assert [c.text for c in ws.codings("ana")] == ["We fax the referrals"]
    assert "All codings fit" in run_cli("codings", "check").output


def test_a_short_quote_found_in_many_places_is_reported_not_moved(make_workspace, run_cli):
    ws = make_workspace(transcripts={"int1": TEXT}, codebook=[("team", "Team")])
    last = TEXT.rindex("the team")
    ws.write_codings("ana", [Coding("int1", last, last + 8, "team", "the team")])
    (ws.root / "transcripts" / "int1.txt").write_text(TEXT.replace("Sometimes the team forgets.", "Sometimes they forget."),
                                                     encoding="utf-8")
    out = run_cli("codings", "check", "--fix")
    assert out.exit_code == 1 and "ambiguous" in out.output
    assert ws.codings("ana")[0].start == last  # never applied silently
