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
    "site_visit_notes": "md",   # a site-visit report: no speakers, sections by site (documents.csv)
}
DOCUMENTS = {"site_visit_notes"}


def test_demo_copies_a_workspace_with_eight_transcripts_in_mixed_formats(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    result = ws.ingest()
    assert result.ok, [str(e) for e in result.errors]
    assert {r.id: r.format for r in result.rows} == EXPECTED


def test_every_speaker_in_the_sample_is_a_known_participant(sample_workspace):
    result = qualkit.Workspace(sample_workspace).ingest()
    for t in result.transcripts:
        assert not t.warnings, (t.id, t.warnings)
        if t.id in DOCUMENTS:
            assert not t.speakers and len(t.turns) > 5
            continue
        labeled = [turn for turn in t.turns if turn.speaker]
        assert labeled and all(turn.participant for turn in labeled), t.id
        assert_turn_contract(t)


def test_sample_transcripts_have_realistic_length(sample_workspace):
    for t in qualkit.Workspace(sample_workspace).transcripts():
        if t.id in DOCUMENTS:
            continue
        assert 1500 <= t.word_count <= 4000, (t.id, t.word_count)


def test_focus_groups_have_four_to_six_partners_from_the_four_sectors(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    table = ws.participant_table
    sectors = set()
    for t in ws.transcripts():
        if t.id in DOCUMENTS:
            continue
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
    # how fast is measured, not asserted (a loaded machine made a wall-time bound flaky):
    # `python bench/commands.py --sample` times `run` on the sample study against the import floor
    assert report.seconds > 0


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


def test_the_sample_shows_site_visit_notes_cases_a_joint_display_and_memos(sample_workspace, run_cli):
    """Issue 13's tour: site-visit notes (no speakers) cut by site, a joint display from sites.csv, memos."""
    import json

    ws = qualkit.Workspace(sample_workspace)
    for name in ("documents.csv", "cases.csv", "sites.csv", "memos"):
        assert (sample_workspace / name).exists(), name
    turns = ws.turn_table()
    notes = turns[turns["transcript"] == "site_visit_notes"]
    assert set(notes["source_type"]) == {"site-visit report"}
    assert {"Calder", "Pine Hollow", "Regional"} <= set(notes["site"].dropna())
    assert set(notes[notes["site"] == "Pine Hollow"]["rurality"]) == {"frontier"}     # from cases.csv
    r = run_cli("matrix", "joint", "--measures", "sites.csv", "--json", workspace=sample_workspace)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["tables"][0]["rows"]
    assert [row["site"] for row in rows] == ["Calder", "Pine Hollow", "Regional"]
    assert rows[1]["engagement_rate"] == 0.52 and "excerpts" in rows[1]["Police presence both opens and closes doors"]
    by_site = run_cli("matrix", "codes", "--by", "site", "--json", workspace=sample_workspace)
    assert by_site.exit_code == 0 and '"Regional"' in by_site.output
    assert [m.kind for m in ws.memos()] == ["memo", "reflexive"]
    # the README tour's other cuts by site: themes x site, and the rapid matrix by site and equity domain
    themes = run_cli("matrix", "themes", "--by", "site", "--table", "matrix", workspace=sample_workspace)
    assert themes.exit_code == 0 and "Themes × site" in themes.output and "Pine Hollow" in themes.output
    rapid = run_cli("matrix", "rapid", "--by", "site", "--equity", workspace=sample_workspace)
    assert rapid.exit_code == 0, rapid.output
    assert "== site: Regional ==" in rapid.output and "Societal context:" in rapid.output
