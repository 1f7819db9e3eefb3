"""A command that asks for its shared results some 45 times (`qualkit run` at 5,000 interviews: 25 ms
each) stats every transcript once per state of the study, not at every ask (issue 17); an edit is
still seen: inside the command any file qualkit writes or any transcript added or removed, and in
a script between two calls even a transcript edited in place."""
from __future__ import annotations

import pytest

import qualkit
from qualkit.analysis.sources import load_excerpts

TEAM_WORDS = "Interviewer: Why now?\nMaria: Money.\nInterviewer: Ok then.\nMaria: Yes.\n"


@pytest.fixture
def stamps_taken(monkeypatch) -> list[int]:
    """How many times the transcripts' states were taken for the inputs' stamp (each: a stat per file)."""
    import qualkit.workspace.inputs as inputs

    taken: list[int] = []
    real = inputs._stamp
    monkeypatch.setattr(inputs, "_stamp", lambda ws, settings: taken.append(1) or real(ws, settings))
    return taken


def test_the_report_stats_the_transcripts_once_for_all_its_shared_results(sample_workspace, stamps_taken):
    from qualkit.reporting.report import build_report

    ws = qualkit.Workspace(sample_workspace)
    asks = []
    real = ws.derived
    ws.derived = lambda key, build: asks.append(key) or real(key, build)  # type: ignore[method-assign]
    build_report(ws, sample_workspace / "exports" / "report.html")
    assert len(asks) > 10 and len(stamps_taken) == 1


def test_a_script_sees_a_transcript_edited_in_place_between_two_calls(make_workspace, stamps_taken):
    ws = make_workspace(transcripts={"int1": TEAM_WORDS}, codebook=[("money", "Money")],
                        coders={"ana": [("Money.", "money"), ("Ok then.", "money")]})
    first = load_excerpts(ws)
    assert load_excerpts(ws) is first                          # unchanged: shared
    path = ws.transcripts_dir / "int1.txt"
    with open(path, "w", encoding="utf-8") as f:              # in place: the folder's listing is the same
        f.write(TEAM_WORDS.replace("Interviewer: Ok then.", "Maria: Ok then."))
    assert len(load_excerpts(ws).excerpts) == 2 and len(first.excerpts) == 1
    assert len(stamps_taken) == 3                              # outside a command's block: at every ask


def test_inside_a_command_a_coders_file_written_or_a_transcript_removed_is_seen_at_once(make_workspace, stamps_taken):
    ws = make_workspace(transcripts={"int1": TEAM_WORDS, "int2": TEAM_WORDS}, codebook=[("money", "Money")],
                        coders={"ana": [("Money.", "money")]})
    with ws.derived_cache.steady():
        first = load_excerpts(ws)
        assert load_excerpts(ws) is first and len(stamps_taken) == 1 and first.left_out == ["int2"]
        ws.code("ana", [("Money.", "money"), ("Yes.", "money")])             # codings/ana.csv rewritten
        assert len(load_excerpts(ws).excerpts) == 2
        c = ws.coding_at("Why now?", "money")
        with open(ws.codings_dir / "ana.csv", "a", encoding="utf-8") as f:  # a row appended in place
            f.write(f"int1,{c.start},{c.end},money,{c.text},,,\n")
        assert len(load_excerpts(ws).codings) == 3
        (ws.transcripts_dir / "int2.txt").unlink()                            # a transcript removed
        assert load_excerpts(ws).left_out == []
        taken = len(stamps_taken)
        assert load_excerpts(ws).codings and len(stamps_taken) == taken      # nothing changed since: no new stamp
    assert ws.derived_cache.kept_stamp is None
