"""Anchoring is an invariant: a transcript corrected after coding never moves results silently.

Every command that reads codings re-anchors them in memory when their transcript changed (one
line per transcript says so); codings that cannot be placed stop the command (exit 1, naming the
transcript and the count) unless --allow-unanchored leaves them out.
"""
from __future__ import annotations

import json

from qualkit.workspace.codings import content_hash, read_codings

INSERTED = (" Before that I was a deputy for nineteen years, mostly nights, mostly out on the east side of the "
            "county where the roads are gravel and the cell coverage is spotty at best.") * 4


def _agree_numbers(run_cli, root) -> dict:
    result = run_cli("agree", "--json", workspace=root)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    data.pop("anchoring", None)
    return data


def test_agree_gives_the_same_numbers_after_text_is_inserted_in_an_early_coded_answer(sample_workspace, run_cli):
    before = _agree_numbers(run_cli, sample_workspace)
    path = sample_workspace / "transcripts" / "int1_sheriff.txt"
    text = path.read_text(encoding="utf-8")
    assert len(INSERTED) > 600
    path.write_text(text.replace("my second term.", "my second term." + INSERTED, 1), encoding="utf-8")

    result = run_cli("agree", "--json", workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    after = json.loads(result.stdout)
    notes = after.pop("anchoring")
    assert len(notes) == 1 and notes[0].startswith("int1_sheriff changed since it was coded: ana 45 re-anchored in memory")
    assert "; ben 34 re-anchored in memory" in notes[0]  # one line per transcript, every coder in it
    assert after == before
    assert "int1_sheriff changed since" in result.stderr  # one line per transcript, on stderr


def _study(make_workspace):
    return make_workspace(codebook=[("fax", "Referrals by fax"), ("mostly", "Hedging")],
                          coders={"ana": [("By fax, days late.", "fax"), ("Mostly.", "mostly")],
                                  "ben": [("By fax, days late.", "fax"), ("Mostly.", "mostly")]})


def _rewrite(ws, old: str, new: str) -> None:
    path = ws.root / "transcripts" / "int1.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_a_coding_that_cannot_be_placed_stops_agree_and_matrix_naming_the_transcript(make_workspace, run_cli):
    ws = _study(make_workspace)
    _rewrite(ws, "By fax, days late.", "By courier, on time, usually.")
    for args in (["agree", "--coders", "ana,ben"], ["matrix", "codes", "--coder", "ana"]):
        result = run_cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "int1: 1 coding of ana" in result.output and "--allow-unanchored" in result.output


def test_allow_unanchored_leaves_them_out_and_says_so(make_workspace, run_cli):
    ws = _study(make_workspace)
    _rewrite(ws, "By fax, days late.", "By courier, on time, usually.")
    result = run_cli("agree", "--coders", "ana,ben", "--allow-unanchored", "--json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["anchoring"]
    assert any("int1" in n and "LEFT OUT" in n for n in notes)
    assert "LEFT OUT" in run_cli("--allow-unanchored", "matrix", "codes", "--coder", "ana").stderr
    md = ws.root / "agree.md"
    result = run_cli("agree", "--coders", "ana,ben", "--allow-unanchored", "--md", str(md))
    assert "Codings left out: int1 changed since it was coded: ana" in result.stdout  # in the output itself, not only stderr
    assert "Codings left out: int1 changed since it was coded: ana" in md.read_text(encoding="utf-8")
    manifest = json.loads((ws.root / "agree.md.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["unanchored_left_out"]


def test_codings_check_fix_saves_the_reanchoring_with_a_backup_and_the_hash(make_workspace, run_cli):
    ws = _study(make_workspace)
    _rewrite(ws, "Interviewer: How do referrals arrive?", "Interviewer: Thanks for coming. How do referrals arrive?")
    assert "re-anchored in memory" in run_cli("agree", "--coders", "ana,ben").stderr
    assert run_cli("codings", "check", "--fix").exit_code == 0
    assert list((ws.root / ".qualkit" / "backups").iterdir())
    now = content_hash(ws.transcript("int1").text)
    assert {c.transcript_hash for c in read_codings(ws.coder_file("ana"))} == {now}
    assert "changed since" not in run_cli("agree", "--coders", "ana,ben").stderr


def test_every_coding_written_records_the_text_it_is_anchored_to(make_workspace):
    ws = _study(make_workspace)
    header = ws.coder_file("ana").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",transcript_hash")
    assert {c.transcript_hash for c in ws.codings("ana")} == {content_hash(ws.transcript("int1").text)}


def test_a_quote_less_coding_past_the_end_of_its_transcript_stops_agree_matrix_and_run(make_workspace, run_cli):
    ws = _study(make_workspace)
    path = ws.root / "codings" / "ana.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(transcript="int1", start="5000", end="5010", code="fax")
    path.write_text("\n".join([*rows, ",".join(row[h] for h in header)]) + "\n", encoding="utf-8")
    for args in (["agree", "--coders", "ana,ben"], ["matrix", "codes", "--coder", "ana"], ["run"]):
        result = run_cli(*args)
        assert result.exit_code != 0, (args, result.output)
        assert "int1: 1 coding of ana" in result.output and "--allow-unanchored" in result.output, args
        assert "past the end" in result.output, args
    result = run_cli("agree", "--coders", "ana,ben", "--allow-unanchored", "--json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["anchoring"]
    assert any("int1" in n and "past the end" in n and "LEFT OUT" in n for n in notes), notes
