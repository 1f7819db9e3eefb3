"""`qualkit run` shows each step as it finishes, with its time (issue 17); the library only calls back."""
from __future__ import annotations

import re

from click.testing import CliRunner

from qualkit.cli import cli
from qualkit.pipeline import run
from qualkit.workspace.scaffold import init
from qualkit.workspace.store import Workspace


def _young(tmp_path):
    root = init(tmp_path / "ws")
    (root / "transcripts" / "int1.txt").write_text("Interviewer: Hi?\nMaria: Hello.\n")
    return root


def test_run_calls_back_as_each_step_starts_and_finishes(tmp_path):
    events: list[tuple[str, str]] = []
    report = run(Workspace(_young(tmp_path)), on_start=lambda name: events.append(("start", name)),
                 on_step=lambda step: events.append(("end", step.name)))
    assert events[:4] == [("start", "ingest"), ("end", "ingest"), ("start", "codebooks"), ("end", "codebooks")]
    assert [name for kind, name in events if kind == "end"] == [s.name for s in report.steps]
    assert all(s.seconds >= 0 for s in report.steps)


def test_run_prints_each_done_step_with_its_time_and_no_progress_line_in_a_pipe(tmp_path):
    r = CliRunner().invoke(cli, ["--workspace", str(_young(tmp_path)), "run"])
    assert r.exit_code == 0, r.output
    assert re.search(r"  ingest     done  1 transcript, .*\(\d+\.\d s\)\n", r.output)
    assert "agreement  skipped  name two or more coders" in r.output
    assert "..." not in r.output and "\r" not in r.output
