"""A second `qualkit run` on a study where nothing changed writes the same files from .qualkit/cache/
instead of computing them again; any change to what the run reads makes it compute afresh, with the
same files a run without any cache writes."""
from __future__ import annotations

import io
import os
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

import qualkit
from qualkit.pipeline import run

_STAMPS = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d\+00:00| \d\d:\d\d UTC)")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _normalized(folder: Path) -> dict[str, object]:
    """Each export with the moment it was made masked (manifests' "created", the report's footer);
    spreadsheets and Word files member by member, their zip dates and docProps/core.xml left out."""
    out: dict[str, object] = {}
    for name, data in _files(folder).items():
        if name.endswith((".xlsx", ".docx")):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                out[name] = {m: z.read(m) for m in sorted(z.namelist()) if m != "docProps/core.xml"}
        else:
            out[name] = _STAMPS.sub("<when>", data.decode("utf-8-sig"))
    return out


def test_a_second_run_with_nothing_changed_writes_the_same_files_from_the_cache(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    first = run(ws)
    assert not first.cached
    made = _files(sample_workspace / "exports")
    (sample_workspace / "exports" / "report.html").unlink()  # a colleague deleted one; the next run brings it back

    second = run(qualkit.Workspace(sample_workspace))
    assert second.cached
    assert all(s.cached for s in second.steps)
    assert [(s.name, s.status, s.detail) for s in second.steps] == [(s.name, s.status, s.detail) for s in first.steps]
    assert _files(sample_workspace / "exports") == made  # byte for byte, manifests included


def test_the_run_command_says_the_steps_are_unchanged(sample_workspace, run_cli):
    assert run_cli("run", workspace=sample_workspace).exit_code == 0
    result = run_cli("run", workspace=sample_workspace)
    assert result.exit_code == 0
    assert "ingest     done" in result.output
    assert "(unchanged since the last run)" in result.output
    again = run_cli("run", "--recompute", workspace=sample_workspace)
    assert again.exit_code == 0
    assert "unchanged" not in again.output


def test_a_run_after_run_recompute_replays_what_recompute_made(sample_workspace, run_cli):
    assert run_cli("run", "--recompute", workspace=sample_workspace).exit_code == 0
    made = _files(sample_workspace / "exports")
    result = run_cli("run", workspace=sample_workspace)
    assert result.exit_code == 0
    assert "(unchanged since the last run)" in result.output
    assert _files(sample_workspace / "exports") == made


@pytest.mark.slow
def test_a_changed_coding_is_computed_again_and_equals_a_run_without_cache(sample_workspace):
    run(qualkit.Workspace(sample_workspace))
    ana = sample_workspace / "codings" / "ana.csv"
    lines = ana.read_text(encoding="utf-8").splitlines(keepends=True)
    ana.write_text("".join(lines[:-1]), encoding="utf-8")  # ana un-codes her last passage

    warm = run(qualkit.Workspace(sample_workspace))
    assert not warm.cached
    after_edit = _normalized(sample_workspace / "exports")

    shutil.rmtree(sample_workspace / ".qualkit" / "cache")
    for p in (sample_workspace / "exports").iterdir():
        if p.name != ".gitkeep":
            p.unlink()
    cold = run(qualkit.Workspace(sample_workspace), use_cache=False)
    assert not cold.cached
    assert _normalized(sample_workspace / "exports") == after_edit


@pytest.mark.parametrize("change", ["touch a transcript", "new memo", "env", "edit a linked transcript's target"])
def test_what_the_run_reads_is_part_of_the_key(sample_workspace, change, monkeypatch, tmp_path):
    from qualkit.workspace.results import ResultCache

    # A transcript kept outside the study and linked in (QUALKIT_ALLOW_OUTSIDE_LINKS) is stamped by its target;
    # nothing in qualkit.yaml names a file outside the workspace, so links are the only way out.
    outside = tmp_path / "shared-drive" / "extra.txt"
    outside.parent.mkdir()
    outside.write_text("Interviewer: Hello.\nP1: Hi there.\n", encoding="utf-8")
    (sample_workspace / "transcripts" / "extra.txt").symlink_to(outside)
    cache = ResultCache(sample_workspace)
    key = cache.key("run", {})
    if change == "edit a linked transcript's target":
        outside.write_text("Interviewer: Hello.\nP1: Hi here.\n", encoding="utf-8")  # one byte shorter
        os.utime(outside, ns=(0, 0))
    elif change == "touch a transcript":
        t = next((sample_workspace / "transcripts").iterdir())
        t.write_bytes(t.read_bytes())
    elif change == "new memo":
        (sample_workspace / "memos").mkdir(exist_ok=True)
        (sample_workspace / "memos" / "later.md").write_text("A thought.\n", encoding="utf-8")
    else:
        monkeypatch.setenv("QUALKIT_ALLOW_OUTSIDE_LINKS", "1")
    assert cache.key("run", {}) != key
    assert cache.key("run", {"no_deid": True}) != cache.key("run", {})


def test_a_damaged_cache_is_a_miss_not_an_error(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    run(ws)
    db = sample_workspace / ".qualkit" / "cache" / "results.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE pieces SET data = ? WHERE rowid = (SELECT min(rowid) FROM pieces)", (b"garbage",))
    again = run(qualkit.Workspace(sample_workspace))
    assert not again.cached
    assert (sample_workspace / "exports" / "report.html").is_file()
    for f in db.parent.glob(db.name + "*"):
        f.unlink()
    db.write_bytes(b"not a database at all")
    assert not run(qualkit.Workspace(sample_workspace)).cached
