"""`qualkit status` on a study where nothing changed reads its last answer back from .qualkit/cache/
(issue 17: it re-read every coder's codings, 28 s at 5,000 transcripts); any edit is seen at once."""
from __future__ import annotations

import csv
import json

import pytest

import qualkit
from qualkit.workspace.codings import read_codings

INT2 = "int2_ed_physician"


def _status(run_cli, root) -> tuple[dict, str]:
    result = run_cli("status", "--json", workspace=root)
    assert result.exit_code == 0, result.output
    text = run_cli("status", workspace=root)
    assert text.exit_code == 0, text.output
    return json.loads(result.stdout), text.output


def test_a_second_status_on_an_unchanged_study_reads_no_codings_and_says_the_same(sample_workspace, run_cli,
                                                                                  monkeypatch):
    first = _status(run_cli, sample_workspace)

    def refuse(*args, **kwargs):
        raise AssertionError("status re-read a coder's codings on an unchanged study")

    monkeypatch.setattr("qualkit.workspace.codings.read_codings", refuse)
    monkeypatch.setattr("qualkit.workspace.store.Workspace.codings", refuse)
    assert _status(run_cli, sample_workspace) == first


def test_status_sees_a_coder_file_edited_between_two_calls(sample_workspace, run_cli):
    before, _ = _status(run_cli, sample_workspace)
    assert before["coverage"]["ana"][INT2] == "not started"
    first = next(c for c in read_codings(sample_workspace / "codings" / "ben.csv") if c.transcript == INT2)
    with open(sample_workspace / "codings" / "ana.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([INT2, first.start, first.end, first.code, first.text, "", ""])
    after, text = _status(run_cli, sample_workspace)
    assert after["coverage"]["ana"][INT2] == "in progress (1/14 turns coded)"
    assert after["agreement"]["partial"] == [INT2]
    assert f"Next: qualkit code {INT2} --coder ana" in text


def test_status_sees_a_transcript_edited_between_two_calls_and_tells_of_it_again(sample_workspace, run_cli):
    assert _status(run_cli, sample_workspace)[0]["drifted"] == {}
    path = sample_workspace / "transcripts" / "int1_sheriff.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("my second term.", "my second term. I ran unopposed.", 1),
                    encoding="utf-8")
    fresh = qualkit.Workspace(sample_workspace)
    told: list[str] = []
    fresh.notify = told.append
    st = fresh.status()
    assert st.transcripts["changed_since_coded"] == ["int1_sheriff"] and st.drifted["ana"]["int1_sheriff"] > 0
    again = qualkit.Workspace(sample_workspace)  # a second command: its answer is the kept one, notice included
    told_again: list[str] = []
    again.notify = told_again.append
    assert again.status().as_dict() == st.as_dict()
    assert told_again == told and any(line.startswith("int1_sheriff changed since it was coded") for line in told)


@pytest.mark.parametrize("broken", [b"not a database at all", b""])
def test_a_damaged_cache_is_only_a_miss(sample_workspace, run_cli, broken):
    first = _status(run_cli, sample_workspace)
    (sample_workspace / ".qualkit" / "cache" / "results.sqlite").write_bytes(broken)
    assert _status(run_cli, sample_workspace) == first


def test_a_second_run_with_nothing_changed_ends_with_the_same_status_without_reading_codings(sample_workspace,
                                                                                            run_cli, monkeypatch):
    first = run_cli("run", workspace=sample_workspace)
    assert first.exit_code == 0, first.output

    def refuse(*args, **kwargs):
        raise AssertionError("run re-read a coder's codings on an unchanged study")

    monkeypatch.setattr("qualkit.workspace.codings.read_codings", refuse)
    monkeypatch.setattr("qualkit.workspace.store.Workspace.codings", refuse)
    second = run_cli("run", workspace=sample_workspace)
    assert second.exit_code == 0, second.output
    assert "unchanged since the last run" in second.output
    assert second.output.split("Status:")[1] == first.output.split("Status:")[1]


def test_status_after_a_change_lists_hashes_and_counts_coverage_reading_each_transcript_once(sample_workspace,
                                                                                             monkeypatch):
    """Issue 17: the first status after a change read every transcript three times to list, hash and
    count them: whole to list the readable ones and hash their text, then its text and again whole
    to count coverage (at 5,000 interviews this command's memo holds none of them in between). Now a
    transcript whose parse is cached is listed unread, its text's hash comes from the anchoring
    that read it, and coverage reads it whole once. (The themes check and a two-coder consensus
    dry run read the transcripts they need after that.)"""
    from collections import Counter

    import qualkit.reporting.status as status_mod
    from qualkit.workspace.cache import TranscriptCache
    from qualkit.workspace.ingest import TranscriptMemo

    before = status_mod.status(qualkit.Workspace(sample_workspace)).as_dict()
    (sample_workspace / ".qualkit" / "cache" / "results.sqlite").unlink()  # the first status after a change
    reads: Counter = Counter()
    for name in ("get", "get_text"):
        real = getattr(TranscriptCache, name)
        monkeypatch.setattr(TranscriptCache, name, lambda self, key, real=real, name=name: (
            reads.update([(name, key)]), real(self, key))[1])
    listed: Counter = Counter()
    agreement = status_mod._agreement
    monkeypatch.setattr(status_mod, "_agreement", lambda ws, st: (listed.update(reads), agreement(ws, st))[1])
    ws = qualkit.Workspace(sample_workspace)
    ws._cache = TranscriptMemo(budget=0)  # as at 5,000 interviews: the memo keeps the last one read
    assert status_mod.status(ws).as_dict() == before
    assert sum(1 for name, _ in listed if name == "get") == before["transcripts"]["readable"] > 5
    assert set(listed.values()) == {1}  # each whole once, and no text read apart (nothing to re-anchor)
    assert not any(name == "get_text" for name, _ in listed)
