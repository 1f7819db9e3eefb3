"""The rapid analysis matrix: participants or transcripts x domains, from summaries or coded excerpts."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_summaries import fill_md, make_ws

import qualkit.cli
from qualkit.analysis.rapid import MIXED, RapidError, rapid_matrix
from qualkit.analysis.summaries import SummaryError, write_templates

DOMAINS = ["Referrals and data", "Barriers", "What helps", "Anything else"]


@pytest.fixture
def qk():
    """`qualkit summaries ...` and `qualkit matrix rapid ...`."""

    def invoke(ws, *args):
        return CliRunner().invoke(qualkit.cli.cli, ["-w", str(ws.root), *args], catch_exceptions=False)

    return invoke


def summarised(tmp_path):
    """The interview and the focus group summarised; in the focus group some points name who made them."""
    ws = make_ws(tmp_path)
    write_templates(ws)
    fill_md(ws.root / "summaries" / "int1.md", {
        "Referrals and data": ["Referrals arrive by fax, days late."],
        "Barriers": ["No bus.", "ED staff look down on clients."]})
    fill_md(ws.root / "summaries" / "fg1.md", {
        "Referrals and data": ["ED faxes consents; no feedback on outcomes (FG1-P1).",
                               "Police reports wait three days for approval (FG1-P2)."],
        "Barriers": ["Distance and no bus to the clinic.", "FG1-P1 and FG1-P3: stigma and rides."],
        "What helps": ["Everyone praised the peer (FG1-P1, FG1-P2, FG1-P3)."]})
    return ws


def cells(df, key_col, key, col):
    return df.loc[df[key_col] == key, col].tolist()


def test_rows_per_participant_keep_a_focus_group_summary_on_one_row(tmp_path):
    ws = summarised(tmp_path)
    df = rapid_matrix(ws, rows="participant", cells="summary")
    assert list(df.columns) == ["participant", "role", "transcript", "session", *DOMAINS]
    assert df["participant"].tolist() == ["FG1", "FG1-P1", "FG1-P2", "FG1-P3", "KP-1"]
    # unattributed bullets stay with the group, not copied to each member
    assert cells(df, "participant", "FG1", "Barriers") == ["• Distance and no bus to the clinic."]
    assert cells(df, "participant", "FG1", "role") == ["behavioral health, medical, public safety"]
    # ... and so does a bullet naming every member
    assert cells(df, "participant", "FG1", "What helps") == ["• Everyone praised the peer (FG1-P1, FG1-P2, FG1-P3)."]
    assert cells(df, "participant", "FG1-P2", "What helps") == [""]
    # bullets naming participants go to their rows (a bullet naming two goes to both)
    assert cells(df, "participant", "FG1-P1", "Referrals and data") == ["• ED faxes consents; no feedback on outcomes (FG1-P1)."]
    assert cells(df, "participant", "FG1-P1", "Barriers") == ["• FG1-P1 and FG1-P3: stigma and rides."]
    assert cells(df, "participant", "FG1-P3", "Barriers") == ["• FG1-P1 and FG1-P3: stigma and rides."]
    assert cells(df, "participant", "FG1-P2", "session") == ["focus group FG1"]
    assert cells(df, "participant", "KP-1", "Barriers") == ["• No bus.\n• ED staff look down on clients."]
    assert cells(df, "participant", "KP-1", "What helps") == [""]
    assert "not copied to each member" in df.attrs["notes"]


def test_rows_per_transcript_grouped_by_site(tmp_path):
    ws = summarised(tmp_path)
    df = rapid_matrix(ws, rows="transcript", group_by="site")
    assert list(df.columns) == ["site", "transcript", "session", "participants", *DOMAINS]
    assert df[["site", "transcript", "participants"]].values.tolist() == [
        ["Calder", "fg1", "FG1-P1, FG1-P2, FG1-P3"], ["Pine Hollow", "int1", "KP-1"]]
    assert cells(df, "transcript", "fg1", "Barriers") == ["• Distance and no bus to the clinic.\n• FG1-P1 and FG1-P3: stigma and rides."]
    by_role = rapid_matrix(ws, rows="participant", group_by="role")
    assert by_role[["role", "participant"]].values.tolist() == [
        ["behavioral health", "FG1-P3"], ["behavioral health", "KP-1"], ["medical", "FG1-P1"],
        ["public safety", "FG1-P2"], [MIXED, "FG1"]]


def test_quote_cells_attribute_each_excerpt(tmp_path):
    ws = make_ws(tmp_path)  # no summaries needed
    df = rapid_matrix(ws, rows="participant", cells="quotes")
    assert df["participant"].tolist() == ["FG1-P1", "FG1-P2", "FG1-P3", "KP-1"]   # every member has a row
    assert cells(df, "participant", "FG1-P2", "Referrals and data") == [
        "“Our reports take three days to get approved” (FG1-P2, public safety)"]
    assert cells(df, "participant", "FG1-P3", "What helps") == ["“People trust someone who has lived it.” (FG1-P3, behavioral health)"]
    assert "RT-2" not in df.to_string()                               # the moderator's coded words are left out
    by_t = rapid_matrix(ws, rows="transcript", cells="quotes")
    assert cells(by_t, "transcript", "int1", "Barriers") == [
        "“There is no bus out there.” (KP-1, behavioral health)\n“The nurses look down on them.” (KP-1, behavioral health)"]
    heif = rapid_matrix(ws, rows="transcript", cells="quotes", domains="framework:heif")
    assert "Recipients" in heif.columns and "pool the coders ana, ben" in heif.attrs["warnings"][-1]


@pytest.mark.parametrize("ext", ["csv", "md", "html", "json"])
def test_export_the_matrix(tmp_path, qk, ext):
    ws = summarised(tmp_path)
    out = tmp_path / f"rapid.{ext}"
    r = qk(ws, "matrix", "rapid", "--rows", "transcript", "--group-by", "role", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert (tmp_path / f"rapid.{ext}.manifest.json").exists()
    text = out.read_text(encoding="utf-8-sig")
    assert "Police reports wait three days for approval (FG1-P2)." in text and "Barriers" in text
    if ext == "json":
        rows = json.loads(text)["tables"][0]["rows"]
        assert [r["role"] for r in rows] == ["behavioral health", MIXED]
    if ext == "md":
        assert "• No bus.<br>• ED staff look down on clients." in text


def test_matrix_on_the_terminal_and_default_export(tmp_path, qk):
    ws = summarised(tmp_path)
    r = qk(ws, "matrix", "rapid")
    assert r.exit_code == 0, r.output
    assert "FG1 (behavioral health, medical, public safety)  fg1, focus group" in r.stdout
    assert "  Barriers:\n    • No bus.\n    • ED staff look down on clients." in r.stdout
    r = qk(ws, "matrix", "rapid", "--cells", "quotes", "--format", "csv")
    assert r.exit_code == 0 and (ws.root / "exports" / "rapid_matrix.csv").exists()
    assert "(FG1-P1, medical)" in (ws.root / "exports" / "rapid_matrix.csv").read_text(encoding="utf-8-sig")


def test_the_matrix_refuses_malformed_templates_and_bad_options(tmp_path, qk):
    ws = make_ws(tmp_path)
    with pytest.raises(RapidError, match="no summary templates in summaries/ yet"):
        rapid_matrix(ws)
    with pytest.raises(RapidError, match="cannot group by 'sit'.*did you mean 'site'"):
        rapid_matrix(ws, group_by="sit", cells="quotes")
    ws = summarised(tmp_path / "again")
    path = ws.root / "summaries" / "int1.md"
    path.write_text(path.read_text().replace("## Barriers", "## Barrier"))
    with pytest.raises(SummaryError, match="cannot build the matrix from malformed templates: domain heading 'Barrier'"):
        rapid_matrix(ws)
    r = qk(ws, "matrix", "rapid")
    assert r.exit_code == 1 and "summaries/int1.md:" in r.output and "domain heading 'Barrier'" in r.output


def test_an_edited_template_shows_in_the_next_matrix_of_the_same_session(tmp_path):
    # the templates are read once per state of summaries/ (export all builds two matrices from them)
    ws = summarised(tmp_path)
    assert cells(rapid_matrix(ws, rows="participant"), "participant", "KP-1", "What helps") == [""]
    fill_md(ws.root / "summaries" / "int1.md", {"What helps": ["The peer calls back within a day."]})
    assert cells(rapid_matrix(ws, rows="participant"), "participant", "KP-1", "What helps") == [
        "• The peer calls back within a day."]
