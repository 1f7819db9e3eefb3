"""Re-anchoring codings after a transcript was edited, and `qualkit codings check [--fix]`."""
from __future__ import annotations

import json

from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.coding.reanchor import QuoteFinder, reanchor_coder, reanchor_codings
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings
from qualkit.workspace.scaffold import init

ORIGINAL = (
    "Interviewer: How do referrals arrive?\n"
    "Mraia: By fax, usually days late. The county sends them whenever they feel like it.\n"
    "Interviewer: Always?\n"
    "Mraia: Mostly. The peer specalist calls within a dya.\n"
)
# A speaker label fixed, a typo fixed inside a quote, a line re-wrapped.
EDITED = (
    "Interviewer: So, how do referrals usually arrive?\n"
    "Maria: By fax, usually\ndays late. The county sends them whenever they feel like it.\n"
    "Interviewer: Always?\n"
    "Maria: Mostly. The peer specialist calls within a day.\n"
)


def make_ws(tmp_path, text=ORIGINAL):
    root = init(tmp_path / "ws")
    (root / "transcripts" / "int1.txt").write_text(text, encoding="utf-8")
    save_codebook(Codebook("main", "Main", [Code("data_sharing", "Data sharing"), Code("delays", "Delays"),
                                            Code("peer_support", "Peer support")]), root / "codebooks" / "main.yaml")
    return root


def coding(text, quote, code, transcript="int1"):
    start = text.index(quote)
    return Coding(transcript, start, start + len(quote), code, quote, "", "2026-01-01T00:00:00")


def write_original_codings(root):
    ws = Workspace(root)
    codings = [coding(ORIGINAL, "By fax, usually days late.", "data_sharing"),
               coding(ORIGINAL, "The county sends them whenever they feel like it.", "delays"),
               coding(ORIGINAL, "The peer specalist calls within a dya.", "peer_support")]
    ws.write_codings("ana", codings)
    return ws


def invoke(root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(root), *args])


def test_unchanged_transcript_leaves_every_coding_unchanged(tmp_path):
    root = make_ws(tmp_path)
    ws = write_original_codings(root)
    report = reanchor_coder(ws, "ana")
    assert report.counts() == {"unchanged": 3, "moved": 0, "fuzzy": 0, "lost": 0}
    r = invoke(root, "codings", "check")
    assert r.exit_code == 0, r.output
    assert "All codings fit" in r.output


def test_edited_transcript_codings_move_and_fuzzy_match(tmp_path):
    root = make_ws(tmp_path)
    ws = write_original_codings(root)
    (root / "transcripts" / "int1.txt").write_text(EDITED, encoding="utf-8")
    report = reanchor_coder(ws, "ana")
    by_code = {r.coding.code: r for r in report.results}
    # Re-wrapped: same words, a newline instead of a space.
    wrapped = by_code["data_sharing"]
    assert (wrapped.status, wrapped.method) == ("moved", "normalized")
    assert EDITED[wrapped.new_start:wrapped.new_end] == "By fax, usually\ndays late."
    # Only shifted by the edits before it.
    shifted = by_code["delays"]
    assert (shifted.status, shifted.method) == ("moved", "exact")
    assert EDITED[shifted.new_start:shifted.new_end] == "The county sends them whenever they feel like it."
    assert shifted.new_start > shifted.old_start
    # Typos fixed inside the quote.
    fuzzy = by_code["peer_support"]
    assert fuzzy.status == "fuzzy" and fuzzy.score >= 90
    assert EDITED[fuzzy.new_start:fuzzy.new_end] == "The peer specialist calls within a day."
    # Reporting does not touch the file.
    assert [c.start for c in ws.codings("ana")] == [c.old_start for c in report.results]


def test_apply_rewrites_moved_codings_with_backup_and_keeps_lost_ones(tmp_path):
    root = make_ws(tmp_path)
    ws = write_original_codings(root)
    text = EDITED.replace("The county sends them whenever they feel like it.", "They come eventually.")
    (root / "transcripts" / "int1.txt").write_text(text, encoding="utf-8")
    before = (root / "codings" / "ana.csv").read_text()
    report = reanchor_coder(ws, "ana", apply=True)
    assert report.applied
    assert report.counts() == {"unchanged": 0, "moved": 1, "fuzzy": 1, "lost": 1}
    after = {c.code: c for c in read_codings(root / "codings" / "ana.csv")}
    assert len(after) == 3  # nothing dropped
    for c in after.values():
        if c.code == "delays":  # lost: kept exactly as it was
            quote = "The county sends them whenever they feel like it."
            assert (c.start, c.end, c.text) == (ORIGINAL.index(quote), ORIGINAL.index(quote) + len(quote), quote)
        else:
            assert text[c.start:c.end] == c.text
    backups = list((root / ".qualkit" / "backups").glob("ana.csv.*.bak"))
    assert any(b.read_text() == before for b in backups)


def test_several_occurrences_take_the_nearest_free_one():
    text = "yes we fax it. " + "filler " * 40 + "yes we fax it. " + "more " * 40 + "yes we fax it."
    edited = "Well, " + text
    first = text.index("yes we fax it.")
    last = text.rindex("yes we fax it.")
    codings = [Coding("t", last, last + 14, "fax", "yes we fax it."), Coding("t", first, first + 14, "fax", "yes we fax it.")]
    results = reanchor_codings(codings, {"t": edited})
    assert [r.new_start for r in results] == [last + 6, first + 6]
    assert all(r.status == "moved" for r in results)
    # The same quote coded twice with one code cannot collapse onto one span when one occurrence is gone.
    gone = edited.replace("yes we fax it. filler", "no. filler", 1)
    results = reanchor_codings(codings, {"t": gone})
    spans = {(r.new_start, r.new_end) for r in results if r.status != "lost"}
    assert len(spans) == len([r for r in results if r.status != "lost"])


def test_unknown_transcript_and_short_quote_are_lost_not_dropped():
    codings = [Coding("nope", 0, 4, "x", "abcd"), Coding("t", 0, 3, "x", "Yse")]
    results = reanchor_codings(codings, {"t": "Yes, sure."})
    assert [r.status for r in results] == ["lost", "lost"]
    assert "not in transcripts/" in results[0].reason
    assert "too short" in results[1].reason


def test_quote_finder_folds_smart_quotes_and_whitespace():
    text = "She said \u201cwe\u2019re  not\nready\u201d \u2014 twice."
    finder = QuoteFinder(text)
    spans = finder.normalized('"we\'re not ready" - twice')
    assert len(spans) == 1
    s, e = spans[0]
    assert text[s:e] == "\u201cwe\u2019re  not\nready\u201d \u2014 twice"


def test_check_reports_problems_and_fix_rewrites_only_what_moved(tmp_path):
    root = make_ws(tmp_path)
    write_original_codings(root)
    with (root / "codings" / "ana.csv").open("a", encoding="utf-8") as f:
        f.write("int1,0,11,no_such_code,Interviewer,,\n")
        f.write("int9,0,5,delays,hello,,\n")
        f.write("int1,5000,5010,delays,,,\n")
    (root / "transcripts" / "int1.txt").write_text(EDITED, encoding="utf-8")
    before = (root / "codings" / "ana.csv").read_text()

    r = invoke(root, "codings", "check")
    assert r.exit_code == 1
    assert "ana.csv:5: code 'no_such_code' is not in any codebook" in r.output
    assert "ana.csv:6: transcript 'int9' is not in transcripts/" in r.output
    assert "ana.csv:7: span 5000-5010 ends past the end of int1" in r.output
    assert "moved" in r.output and "fuzzy" in r.output and "--fix" in r.output
    assert "Traceback" not in r.output
    assert (root / "codings" / "ana.csv").read_text() == before  # a check writes nothing

    r = invoke(root, "codings", "check", "--coder", "ana", "--fix")
    assert r.exit_code == 1  # the bad rows are still there
    assert "Re-anchored 3 codings" in r.output
    rows = read_codings(root / "codings" / "ana.csv")
    assert len(rows) == 6
    for c in rows:
        if c.code in ("data_sharing", "delays", "peer_support") and c.transcript == "int1" and c.text:
            assert EDITED[c.start:c.end] == c.text
    assert list((root / ".qualkit" / "backups").glob("ana.csv.*.bak"))

    r = invoke(root, "codings", "check", "--json")
    data = json.loads(r.output)
    assert data["ok"] is False
    assert data["coders"][0]["reanchor"]["counts"]["moved"] == 0


def test_check_unknown_coder_is_a_one_line_error(tmp_path):
    root = make_ws(tmp_path)
    write_original_codings(root)
    r = invoke(root, "codings", "check", "--coder", "zoe")
    assert r.exit_code == 1
    assert "no codings file for coder 'zoe' (coders: ana)" in r.output
    assert "Traceback" not in r.output


def test_check_reports_a_malformed_codings_file_and_goes_on(tmp_path):
    root = make_ws(tmp_path)
    write_original_codings(root)
    (root / "codings" / "bob.csv").write_text("transcript,start,end,code\nint1,ten,20,delays\n")
    r = invoke(root, "codings", "check")
    assert r.exit_code == 1
    assert "bob.csv:2: start and end must be whole numbers" in r.output
    assert "ana" in r.output
