"""A second command on an unchanged study does not check every coding's place again.

The first command that reads codings checks each one against its transcript and keeps, in
.qualkit/cache/anchoring.sqlite, that a coder's file was found in place. The next command with the
coder's file, the transcripts and the settings unchanged trusts that verdict: it reads no transcript
for the check, and does not even read the files of coders it checks only for notices. Any change
brings the check (and its notices) back.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

import qualkit
from qualkit.coding import anchoring


@pytest.fixture
def checks(monkeypatch):
    """The coders whose codings were checked against the transcripts, in order."""
    seen: list[str] = []
    real = anchoring._compute

    def counted(ws, coder):
        seen.append(coder)
        return real(ws, coder)

    monkeypatch.setattr(anchoring, "_compute", counted)
    return seen


def _agree(root) -> dict:
    result = qualkit.Workspace(root).agreement()
    return json.loads(json.dumps(result.to_dict(), default=str))


def test_a_second_agree_on_an_unchanged_study_checks_no_coding_again(sample_workspace, checks):
    first = _agree(sample_workspace)
    assert sorted(set(checks)) == ["ana", "ben"]
    checks.clear()
    assert _agree(sample_workspace) == first
    assert checks == []


def test_a_coder_only_checked_for_notices_is_not_read_again(sample_workspace, checks, monkeypatch):
    ws = qualkit.Workspace(sample_workspace)
    anchoring.anchored_codings(ws, "ana")  # checks ben too, so a notice could name both
    assert sorted(checks) == ["ana", "ben"]
    import qualkit.workspace.codings as codings_file

    read: list[str] = []
    real = codings_file.read_codings
    monkeypatch.setattr(codings_file, "read_codings", lambda path, *each: read.append(path.stem) or real(path, *each))
    anchoring.anchored_codings(qualkit.Workspace(sample_workspace), "ana")
    assert read == ["ana"]


def test_an_edited_transcript_is_checked_again_and_its_notice_given(sample_workspace, run_cli, checks):
    assert run_cli("agree", workspace=sample_workspace).exit_code == 0
    path = sample_workspace / "transcripts" / "int1_sheriff.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("my second term.", "my second term. And a third, if they let me.", 1), encoding="utf-8")
    checks.clear()
    result = run_cli("agree", workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    assert sorted(checks) == ["ana", "ben"]
    assert "int1_sheriff changed since it was coded: ana" in result.stderr
    again = run_cli("agree", workspace=sample_workspace)  # moved codings are never trusted from the cache
    assert "int1_sheriff changed since it was coded: ana" in again.stderr


def test_an_edited_coder_file_or_setting_is_checked_again(sample_workspace, checks):
    _agree(sample_workspace)
    ana = sample_workspace / "codings" / "ana.csv"
    lines = ana.read_text(encoding="utf-8").splitlines(keepends=True)
    ana.write_text("".join(lines[:-1]), encoding="utf-8")
    checks.clear()
    _agree(sample_workspace)
    assert checks == ["ana"]
    config = sample_workspace / "qualkit.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    checks.clear()
    _agree(sample_workspace)
    assert sorted(checks) == ["ana", "ben"]


def test_a_damaged_verdict_store_is_a_miss_not_an_error(sample_workspace, checks):
    first = _agree(sample_workspace)
    store = sample_workspace / ".qualkit" / "cache" / "anchoring.sqlite"
    with sqlite3.connect(store) as con:
        con.execute("UPDATE clean SET verdict = 'not json'")
    checks.clear()
    assert _agree(sample_workspace) == first
    assert sorted(checks) == ["ana", "ben"]
    for f in store.parent.glob(store.name + "*"):
        f.unlink()
    store.write_bytes(b"not a database at all")
    checks.clear()
    assert _agree(sample_workspace) == first
    assert sorted(checks) == ["ana", "ben"]


def test_a_second_command_reads_quotes_back_as_the_first_did(sample_workspace, checks):
    from qualkit.workspace.codings import held_quote, read_codings

    first = anchoring.anchored_codings(qualkit.Workspace(sample_workspace), "ana")
    checks.clear()
    ws = qualkit.Workspace(sample_workspace)
    second = anchoring.anchored_codings(ws, "ana")
    assert checks == []  # trusted, not checked
    assert [held_quote(c) is None for c in second] == [held_quote(c) is None for c in first]
    assert sum(held_quote(c) is None for c in second) > 50  # no copy of a quote found at its offsets
    in_file = {c.key: c.text for c in read_codings(ws.coder_file("ana"))}
    assert [c.text for c in second] == [in_file[c.key] for c in second]  # the same words
