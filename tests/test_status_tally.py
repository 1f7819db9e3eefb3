"""`qualkit status` at 5,000 interviews (issue 17): its themes check counts coded excerpts as the
codings stream by, without a (code, span) pair per excerpt held at once, and without reading every
coded transcript a second time after its coverage pass. Each test is what a user does and what they
see: the same answers, and an edit still seen."""
from __future__ import annotations

import qualkit
from qualkit.analysis.excerpt_tally import ExcerptTally, excerpt_tally
from qualkit.analysis.sources import CodingSource, load_excerpts
from qualkit.coding.coverage import coverage_counts
from qualkit.coding.turn_layouts import kept_layouts
from qualkit.workspace.ingest import TranscriptMemo

TEAM_WORDS = "Interviewer: Why now?\nMaria: Money.\nInterviewer: Ok then.\nMaria: Yes.\n"


def test_a_span_coded_with_two_codes_of_a_theme_counts_once_for_it_and_once_for_each_code():
    tally = ExcerptTally(CodingSource("ana", ["ana"]), transcripts=2)
    for tid, code, start, end in [("int1", "cost", 0, 9), ("int1", "money", 0, 9), ("int1", "money", 20, 30),
                                  ("int2", "cost", 0, 9)]:
        tally.add(tid, code, start, end)
    tally.done()
    assert tally.excerpts == 4 and tally.codes == {"cost": 2, "money": 2}
    assert tally.spans_with(["cost", "money"]) == 3      # int1 0-9 once, int1 20-30, int2 0-9
    assert tally.spans_with(["money"]) == 2 and tally.spans_with(["staff"]) == 0
    assert tally.source_text() == "4 coded excerpts from ana's codings in 2 transcripts"


def test_the_themes_check_counts_the_same_with_or_without_the_excerpts_built(sample_workspace):
    from qualkit.analysis.themes import check_themes

    counted = check_themes(qualkit.Workspace(sample_workspace))            # streamed from the codings
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws)
    built = check_themes(ws)                                               # streamed from the excerpts
    expected = {t.id: len({e.span for e in ex.excerpts if e.code in t.codes}) for t in built.themeset}
    assert counted.excerpts == built.excerpts == expected and any(expected.values())
    assert [p.message for p in counted.problems] == [p.message for p in built.problems]
    assert counted.notes == built.notes


def test_status_checks_the_themes_without_reading_a_transcript_again(sample_workspace, monkeypatch):
    import qualkit.analysis.themes as themes
    import qualkit.workspace.ingest as ingest

    expected = themes.check_themes(qualkit.Workspace(sample_workspace)).summary()
    ws = qualkit.Workspace(sample_workspace)
    ws._cache = TranscriptMemo(budget=0)  # as at 5,000 interviews: the memo holds the last one read
    read_in_check: list[str] = []
    in_check = []
    real_read, real_check = ingest.read_one, themes.check_themes

    def read_one(w, path):
        if in_check:
            read_in_check.append(path.stem)
        return real_read(w, path)

    def check(*args, **kwargs):
        in_check.append(True)
        try:
            return real_check(*args, **kwargs)
        finally:
            in_check.clear()

    monkeypatch.setattr(ingest, "read_one", read_one)
    monkeypatch.setattr(themes, "check_themes", check)
    assert ws.status().themes == expected
    assert read_in_check == []                                # each transcript's turns kept from the coverage pass
    assert "_turn_layouts" not in ws.__dict__                 # and let go when status is done


def test_a_transcript_edited_after_the_coverage_pass_is_read_again_for_the_themes_check(make_workspace):
    ws = make_workspace(transcripts={"int1": TEAM_WORDS}, codebook=[("money", "Money")],
                        coders={"ana": [("Money.", "money"), ("Ok then.", "money")]})
    with kept_layouts(ws):
        coverage_counts(ws, {"ana": ws.codings("ana")}, ["int1"])
        before = excerpt_tally(ws)
        path = ws.transcripts_dir / "int1.txt"
        path.write_text(TEAM_WORDS.replace("Interviewer: Ok then.", "Maria: Ok then."), encoding="utf-8")
        after = excerpt_tally(ws)
    assert (before.excerpts, before.warnings[-1]) == (1, "1 coding hold only interviewer/moderator words and are left out")
    assert after.excerpts == 2 and not any("interviewer/moderator" in w for w in after.warnings)
    assert after.codes == excerpt_tally(qualkit.Workspace(ws.root)).codes == {"money": 2}


def test_the_coverage_pass_holds_an_index_per_coding_not_a_tuple(make_workspace):
    """status's coverage pass at 5,000 interviews held a (start, end, index) tuple for each of 590,000
    codings until its end; now 4 bytes each, and one transcript's spans at a time."""
    import tracemalloc

    from qualkit.workspace.codings import Coding

    ws = make_workspace(transcripts={f"int{i}": TEAM_WORDS for i in range(400)})
    ws._cache = TranscriptMemo(budget=0)
    codings = [Coding(f"int{i}", s, s + 3, "money", "") for i in range(400) for s in range(10, 70, 1)]
    expected = coverage_counts(ws, {"ana": codings}, [f"int{i}" for i in range(400)])  # parsed once, cached
    assert expected[0]["ana"]["int7"].coded == 2 and expected[1]["ana"] == 400 * 46
    tracemalloc.start()
    try:
        again = coverage_counts(ws, {"ana": codings}, [f"int{i}" for i in range(400)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert again == expected
    assert peak < 48 * len(codings), peak  # ~16 bytes a coding; a tuple each held through the pass was ~107
