"""Keyword in context as a user meets it: `qualkit search TERM` and the library call."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.coding.search import search
from qualkit.workspace.scaffold import init

INT1 = """\
Interviewer: Do you fax the referral forms?
Maria: We faxed them for years. Honestly the fax is the most reliable thing we have, the fax never crashes.
Interviewer: And naloxone?
Maria: We hand out naloxon kits. The data-sharing agreement is stuck.
"""
INT2 = """\
Interviewer: How do referrals arrive?
Sam: By FAX, days late. Data sharing is the problem.
"""
PARTICIPANTS = ("transcript,speaker,participant_id,role,site\n"
                ",Interviewer,RT-1,interviewer,\n"
                "int1,Maria,KP-4,behavioral health,Pine Hollow\n"
                "int2,Sam,KP-5,public safety,Calder\n")


@pytest.fixture
def root(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    (root / "transcripts" / "int1.txt").write_text(INT1, encoding="utf-8")
    (root / "transcripts" / "int2.txt").write_text(INT2, encoding="utf-8")
    return root


def run(root, *args, **kw):
    return CliRunner().invoke(cli, ["--workspace", str(root), *args], **kw)


def test_hits_name_transcript_turn_speaker_and_participant(root):
    hits = search(Workspace(root), "fax")
    assert [(h.transcript, h.turn, h.speaker, h.participant) for h in hits] == [
        ("int1", 1, "Interviewer", "RT-1"), ("int1", 2, "Maria", "KP-4"), ("int1", 2, "Maria", "KP-4"),
        ("int2", 2, "Sam", "KP-5")]
    ws = Workspace(root)
    for h in hits:  # offsets point into the transcript; "faxed" is not a whole-word hit
        assert ws.transcript(h.transcript).text[h.start:h.end].lower() == "fax"
    h = hits[1]
    assert h.left.endswith("Honestly the ") and h.right.startswith(" is the most reliable")


def test_context_stays_inside_the_turn_and_respects_the_width(root):
    hits = search(Workspace(root), "fax", context=10)
    assert hits[0].left == "Do you " and hits[0].right == " the refer"  # no speaker label of the line
    assert all(len(h.left) <= 10 and len(h.right) <= 10 for h in hits)
    last = search(Workspace(root), "stuck")[0]
    assert last.right == "." and "Interviewer" not in last.left


def test_wildcards_phrases_and_hyphens(root):
    ws = Workspace(root)
    assert sorted({h.text for h in search(ws, "fax*")}) == ["FAX", "fax", "faxed"]
    assert [h.text for h in search(ws, "data sharing")] == ["data-sharing", "Data sharing"]


@pytest.mark.slow
def test_lemma_finds_inflections_and_fuzzy_finds_misspellings(root):
    ws = Workspace(root)
    assert "faxed" not in [h.text for h in search(ws, "fax")]
    lemma_hits = search(ws, "fax", lemma=True)
    assert [(h.text, h.kind) for h in lemma_hits if h.text == "faxed"] == [("faxed", "lemma")]
    assert search(ws, "naloxone", transcripts=["int1"], include_facilitators=False) == []
    fuzzy = search(ws, "naloxone", fuzzy=True, include_facilitators=False)
    assert [(h.text, h.kind, h.turn) for h in fuzzy] == [("naloxon", "fuzzy", 4)]
    assert 90 <= fuzzy[0].score < 100


def test_cli_prints_aligned_kwic_lines(root):
    r = run(root, "search", "fax", "--context", "20")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if line.startswith("int")]
    assert len(lines) == 4
    cols = {line.lower().index("fax", line.index("  ", 10) + 20 - 2) for line in lines}
    assert len(cols) == 1  # the term starts in the same column on every line
    assert "\x1b[" not in r.output  # no colors when not on a terminal
    assert "4 hits in 2 transcripts." in r.output


def test_cli_highlights_the_term_on_a_terminal(root):
    r = run(root, "search", "stuck", color=True)
    assert "\x1b[" in r.output and "stuck" in r.output


def test_cli_json_and_transcript_filter(root):
    r = run(root, "search", "fax", "--transcript", "int2", "--json")
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert [(h["transcript"], h["turn"], h["speaker"], h["participant_id"], h["text"]) for h in data["hits"]] == [
        ("int2", 2, "Sam", "KP-5", "FAX")]
    r = run(root, "search", "fax", "--transcript", "int9")
    assert r.exit_code == 1 and "no transcript with id 'int9'" in r.output


@pytest.mark.slow
def test_cli_fuzzy_lists_the_forms_found(root):
    r = run(root, "search", "naloxone", "--fuzzy")
    assert r.exit_code == 0
    assert "naloxon (fuzzy" in r.output and "naloxone x1" in r.output


def test_no_hits_and_empty_term(root):
    r = run(root, "search", "ambulance")
    assert r.exit_code == 0 and "No hits for 'ambulance'." in r.output
    r = run(root, "search", "  ")
    assert r.exit_code == 1 and "empty" in r.output
