"""The bundled sample study: what `qualkit demo` gives a new user, and `qualkit run` on it."""
from __future__ import annotations

import sys

import pytest
from conftest import REPO, assert_turn_contract

import qualkit

EXPECTED = {
    "fg1_calder": "docx", "fg2_pinehollow": "vtt", "fg3_regional": "vtt",
    "int1_sheriff": "txt", "int2_ed_physician": "docx", "int3_health_director": "txt",
    "int4_bh_director": "srt", "int5_ems_captain": "txt",
}


def test_demo_copies_a_workspace_with_eight_transcripts_in_mixed_formats(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    result = ws.ingest()
    assert result.ok, [str(e) for e in result.errors]
    assert {r.id: r.format for r in result.rows} == EXPECTED


def test_every_speaker_in_the_sample_is_a_known_participant(sample_workspace):
    result = qualkit.Workspace(sample_workspace).ingest()
    for t in result.transcripts:
        assert not t.warnings, (t.id, t.warnings)
        labeled = [turn for turn in t.turns if turn.speaker]
        assert labeled and all(turn.participant for turn in labeled), t.id
        assert_turn_contract(t)


def test_sample_transcripts_have_realistic_length(sample_workspace):
    for t in qualkit.Workspace(sample_workspace).transcripts():
        assert 1500 <= t.word_count <= 4000, (t.id, t.word_count)


def test_focus_groups_have_four_to_six_partners_from_the_four_sectors(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    table = ws.participant_table
    sectors = set()
    for t in ws.transcripts():
        partners = {turn.participant for turn in t.turns if turn.participant and not table.is_facilitator(turn.participant)}
        if t.id.startswith("fg"):
            assert 4 <= len(partners) <= 6, t.id
        else:
            assert len(partners) == 1, t.id
        sectors |= {table.attributes(p)["role"] for p in partners}
    assert sectors == {"behavioral health", "medical", "public health", "public safety"}


def test_run_on_the_sample_study(sample_workspace):
    from qualkit.pipeline import run

    report = run(qualkit.Workspace(sample_workspace))
    assert [s.name for s in report.steps if s.status == "done"][:1] == ["ingest"]
    assert (sample_workspace / "exports" / "turns.csv").is_file()
    assert report.seconds < 10


def test_the_wheel_ships_everything_demo_copies():
    tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.skip("tomllib needs Python 3.11")
    from qualkit.workspace.scaffold import SAMPLE_ITEMS

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    shipped = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for item in SAMPLE_ITEMS:
        assert shipped.get(item) == f"qualkit/_sample/{item}", item
        assert (REPO / item).exists(), item


def test_demo_refuses_to_overwrite(tmp_path):
    from qualkit.errors import WorkspaceError
    from qualkit.workspace.scaffold import demo

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.docx").write_bytes(b"precious")
    with pytest.raises(WorkspaceError, match="not empty"):
        demo(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.docx").read_bytes() == b"precious"


def test_run_on_the_sample_reports_agreement_and_what_is_left_to_reconcile(sample_workspace):
    from qualkit.pipeline import run

    report = run(qualkit.Workspace(sample_workspace))
    steps = {s.name: s for s in report.steps}
    assert steps["agreement"].status == "done" and "pooled alpha" in steps["agreement"].detail
    assert "lowest: enforcement_history" in steps["agreement"].detail
    assert "disagreements decided" in steps["consensus"].detail
    for name in ("agreement.csv", "agreement.md", "agreement.html", "run.manifest.json"):
        assert (sample_workspace / "exports" / name).is_file()
    assert not (sample_workspace / "codings" / "consensus.csv").exists()  # status only, nothing reconciled
