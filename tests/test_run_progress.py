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


# -- progress bars on every long step (issue 17): the library tells, the command line shows ------------

def _study(tmp_path, n=12):
    root = init(tmp_path / "big")
    for i in range(n):
        (root / "transcripts" / f"int{i}.txt").write_text("Interviewer: Hi?\nMaria: Hello.\n")
    return root


def test_long_library_steps_tell_a_listener_how_far_they_are_and_nothing_without_one(tmp_path):
    from qualkit.io.progress import reporting, track

    seen: list[list[tuple[str, int, int | None]]] = []
    ws = Workspace(_study(tmp_path))
    with reporting(lambda tasks: seen.append([(t.label, t.done, t.total) for t in tasks])):
        assert len(ws.ingest().transcripts) == 12
    assert seen[0] == [("Reading transcripts", 0, 12)]
    assert [("Reading transcripts", 12, 12)] in seen and seen[-1] == []
    assert list(track([1, 2], "free when no one listens")) == [1, 2]   # and no listener was called
    assert seen[-1] == []


def test_nested_steps_reach_the_listener_as_a_stack():
    from qualkit.io.progress import reporting, task, track

    seen = []
    with reporting(lambda tasks: seen.append(" > ".join(f"{t.label} {t.done}/{t.total}" for t in tasks))):
        with task("report", 2) as outer:
            for _ in track(range(3), "reading"):
                pass
            outer.advance()
    assert "report 0/2 > reading 3/3" in seen and seen[-2:] == ["report 1/2", ""]


def test_a_terminal_shows_one_bar_line_that_is_erased_when_the_step_ends():
    import io

    from qualkit.cli.output import TerminalProgress
    from qualkit.io.progress import reporting, track

    out = io.StringIO()
    with reporting(TerminalProgress(out, delay=0)):
        for _ in track(range(3), "Reading transcripts"):
            pass
    shown = out.getvalue()
    assert "Reading transcripts [" in shown and "/3" in shown
    assert shown.endswith("\r\033[K")                       # nothing left behind for the next line


def test_no_bar_under_json_or_in_a_pipe(tmp_path):
    import io

    import click

    from qualkit.cli.output import TerminalProgress
    from qualkit.io.progress import reporting, track

    out = io.StringIO()
    with click.Context(click.Command("ingest"), info_name="ingest") as ctx:
        ctx.params["as_json"] = True
        with reporting(TerminalProgress(out, delay=0)):
            list(track(range(3), "Reading transcripts"))
    assert out.getvalue() == ""
    r = CliRunner().invoke(cli, ["--workspace", str(_study(tmp_path)), "ingest"])   # CliRunner: not a terminal
    assert r.exit_code == 0 and "\r" not in r.output and "[#" not in r.output
