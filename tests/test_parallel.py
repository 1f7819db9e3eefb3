"""Parallel where it pays (issue 17): a study of many transcripts is parsed (and auto-coded) over the
machine's cores, and what comes out is exactly what one process gives."""
from __future__ import annotations

import pytest

import qualkit
import qualkit.io.parallel as parallel_mod
from qualkit.io.parallel import can_fork, chunks, default_jobs, parallel_each, parallel_map, resolve_jobs
from qualkit.workspace import ingest as ingest_mod
from qualkit.workspace.scaffold import init

LAYOUTS = [
    "Interviewer: How do referrals arrive?\n\nMaria: By fax, mostly.\n\nInterviewer: Always?\n\nMaria: Mostly. Dr. Okafor: not always!\n",
    "[00:00:03] Interviewer: Tell me about transport.\n[00:00:09] Luis: The clinic is forty miles away.\n",
    "Karen (00:01:02): We brought naloxone.\nInterviewer (00:01:09): And then?\nKaren (00:01:15): Then we waited.\n",
    "INTERVIEWER\nWhat changed?\n\nSHERIFF BOYD\nLeadership changed twice.\n\nINTERVIEWER\nWhy?\n\nSHERIFF BOYD\nFunding.\n",
    "I: Wie kam das?\r\nB: Durch Zufall. #00:01:22-6#\r\nI: Und dann?\r\nB: Dann nicht mehr. #00:01:40-1#\r\n",
    "No labels here, just field notes.\n\nA second paragraph of notes.\n",
]
VTT = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Maria>We faxed it.</v>\n\n2\n00:00:05.000 --> 00:00:07.000\n<v Interviewer>When?</v>\n"


def _study(root, n: int):
    init(root)
    for i in range(n):
        name = f"t{i:03d}.vtt" if i % 7 == 6 else f"t{i:03d}.txt"
        body = VTT if name.endswith(".vtt") else LAYOUTS[i % len(LAYOUTS)] * (1 + i % 3)
        (root / "transcripts" / name).write_text(body, encoding="utf-8")
    (root / "transcripts" / "broken.txt").write_bytes(b"\x00\x01\x02" * 100)  # unreadable: reported, not fatal
    return root


def _view(result, root):
    return _same_root(([(t.id, t.text, t.source_format, t.warnings, t.word_count,
              [(u.index, u.speaker, u.start, u.end, u.timestamp, u.participant, u.line) for u in t.turns])
             for t in result.transcripts],
            [r.as_dict() for r in result.rows], [str(e) for e in result.errors]), root)


def _same_root(value, root):
    import json

    return json.loads(json.dumps(value).replace(str(root), "ROOT"))


def test_ingest_over_several_processes_gives_what_one_process_gives(tmp_path, monkeypatch, workers_on_small_studies):
    one = qualkit.Workspace(_study(tmp_path / "a", 60))
    one.jobs = 1
    serial = one.ingest()
    many = qualkit.Workspace(_study(tmp_path / "b", 60))
    many.jobs = 3
    parsed = []
    real = parallel_mod.parallel_each
    monkeypatch.setattr(parallel_mod, "parallel_each",
                        lambda fn, items, jobs, each: parsed.extend(len(i) for i in items) or real(fn, items, jobs, each))
    parallel = many.ingest()
    assert sum(parsed) == 61 and len(parsed) > 1            # the files went to the workers in chunks
    assert _view(parallel, many.root) == _view(serial, one.root)
    assert len(serial.transcripts) == 60 and len(serial.errors) == 1
    # and the next command reads what the workers parsed from the cache, the same again
    again = qualkit.Workspace(many.root)
    again.jobs = 3
    assert _view(again.ingest(), many.root) == _view(serial, one.root)


def test_ingest_rows_summed_up_in_the_workers_are_those_of_one_process(tmp_path, monkeypatch, workers_on_small_studies):
    """`qualkit ingest` needs the rows only: a file parsed in a worker is summed up there (participants
    attached, unknown speakers warned about) and not read back; the rows and the transcripts (read
    when asked for) are what one process gives."""
    import qualkit.workspace.cache as cache_mod

    one = qualkit.Workspace(_study(tmp_path / "a", 60))
    (one.root / "participants.csv").write_text("transcript,speaker,participant_id,role\nt000,Maria,P1,nurse\n", encoding="utf-8")
    one.jobs = 1
    serial = one.ingest()
    many = qualkit.Workspace(_study(tmp_path / "b", 60))
    (many.root / "participants.csv").write_text("transcript,speaker,participant_id,role\nt000,Maria,P1,nurse\n", encoding="utf-8")
    many.jobs = 3
    decoded = []
    real = cache_mod.unpack
    monkeypatch.setattr(cache_mod, "unpack", lambda data: decoded.append(1) or real(data))
    rows = many.ingest(rows_only=True)
    assert decoded == []                                        # nothing parsed in a worker was read back
    assert _same_root([r.as_dict() for r in rows.rows], many.root) == _same_root([r.as_dict() for r in serial.rows], one.root)
    assert any("is not in participants.csv" in w for r in rows.rows for w in r.warnings)
    monkeypatch.setattr(cache_mod, "unpack", real)
    assert _view(rows, many.root) == _view(serial, one.root)    # each transcript read (from the cache) when asked for


def test_a_small_study_is_read_in_one_process(tmp_path, monkeypatch):
    ws = qualkit.Workspace(_study(tmp_path / "s", 10))
    ws.jobs = 4
    monkeypatch.setattr(parallel_mod, "parallel_each", lambda *a, **k: pytest.fail("no processes for a few files"))
    assert ingest_mod.prefetch(ws, ws.transcript_paths(), 4) == {}   # nothing parsed in a worker
    assert len(ws.ingest().transcripts) == 10


def test_jobs_default_to_the_cores_and_follow_qualkit_jobs(monkeypatch):
    monkeypatch.delenv("QUALKIT_JOBS", raising=False)
    assert 1 <= default_jobs() <= 8
    monkeypatch.setenv("QUALKIT_JOBS", "3")
    assert default_jobs() == 3 and resolve_jobs(None) == 3 and resolve_jobs(0) == 3 and resolve_jobs(2) == 2


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")
def test_parallel_each_hands_over_results_in_order_as_they_come():
    got = []
    parallel_each(_slow_abs, [-3, 2, -1, 5, -4], 3, lambda i, r: got.append((i, r)))
    assert got == [(0, 3), (1, 2), (2, 1), (3, 5), (4, 4)]
    got.clear()
    parallel_each(_slow_abs, [-3, 2], 1, lambda i, r: got.append((i, r)))   # serial: the same
    assert got == [(0, 3), (1, 2)]


def _slow_abs(x: int) -> int:
    import time

    time.sleep(0.05 if x == -3 else 0)  # the first finishes last: its result still comes first
    return abs(x)


def test_parallel_map_keeps_the_order_and_chunks_cover_everything():
    assert parallel_map(abs, [-3, 2, -1, 5], 2) == [3, 2, 1, 5]
    assert parallel_map(abs, [-3], 4) == [3]
    parts = chunks(range(10), 3)
    assert [x for p in parts for x in p] == list(range(10)) and len(parts) == 3
    assert chunks([1], 5) == [[1]]


def test_every_speaker_pattern_has_its_quick_line_test():
    """speakers._NEEDS pairs each label pattern with what a line must hold to match it (issue 17:
    lines are tried only against patterns they could match); the two lists must stay in step."""
    from qualkit.transcripts import speakers

    assert len(speakers._NEEDS) == len(speakers._PATTERNS)
    assert [k for k, *_ in speakers._patterns_for("M")][:3] == ["label_ts", "label_bracket_ts", "label"]
    assert [k for k, *_ in speakers._patterns_for("[")][0] == "voice"


def test_jobs_option_on_the_commands_that_parse_and_autocode(tmp_path):
    from click.testing import CliRunner

    from qualkit.cli import cli

    root = _study(tmp_path / "j", 8)
    for args in (["ingest", "-j", "1"], ["ingest", "--jobs", "2"], ["run", "-j", "2"]):
        r = CliRunner().invoke(cli, ["--workspace", str(root), *args])
        assert r.exit_code in (0, 1) and "Error: No such option" not in r.output, r.output
    r = CliRunner().invoke(cli, ["--workspace", str(root), "ingest", "-j", "-3"])
    assert r.exit_code == 2 and "-3" in r.output


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")
@pytest.mark.parametrize("unit", ["turn", "sentence"])
def test_autocode_over_several_processes_suggests_what_one_process_does(tmp_path, monkeypatch, unit):
    import qualkit.coding.autocode as autocode_mod
    from qualkit.api import Workspace
    from tests.test_autocode import CODES, INT1, make_ws

    monkeypatch.setattr(autocode_mod, "PARALLEL_MIN_CHARS", 0)   # a small study: parallel all the same
    root = make_ws(tmp_path, CODES, INT1 * 3)
    for i in range(2, 13):                                       # misspellings, acronyms, patterns in each
        (root / "transcripts" / f"int{i}.txt").write_text(INT1.replace("faxed", "faxxed" if i % 2 else "faxed") * (i % 4 + 1),
                                                           encoding="utf-8")
    results = []
    for jobs in (1, 3):
        ws = Workspace(root)
        ws.jobs = jobs
        r = autocode_mod.autocode(ws, unit=unit, write=False)
        stamps = {c.coded_at for c in r.codings}
        assert len(stamps) == 1                                    # one time for the whole run, as in one process
        results.append(([{**c.as_row(), "coded_at": ""} for c in r.codings], [c.as_dict() for c in r.counts.values()],
                         sorted(r.corrections.items())))
    assert results[0][0] and results[0][2]                       # suggestions and fuzzy corrections both
    assert results[1] == results[0]


def _cube(x: int) -> int:
    return x ** 3


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_feed_of_items_comes_back_in_order_with_few_waiting(jobs):
    from qualkit.io.parallel import parallel_feed

    got: list[tuple[int, int]] = []
    with parallel_feed(_cube, jobs, lambda x, r: got.append((x, r)), ahead=3) as put:
        for i in range(20):
            put(i)
            assert len(got) >= i + 1 - 3  # at most three items wait for their result
    assert got == [(i, i ** 3) for i in range(20)]


def _no_children_left() -> bool:
    import os

    try:
        os.waitpid(-1, os.WNOHANG)  # (a worker still running, or not yet reaped)
    except ChildProcessError:
        return True
    return False


def _fails_on_three(x: int) -> int:
    from qualkit.errors import TranscriptError

    if x == 3:
        raise TranscriptError("not a transcript", "t3.txt")
    return x


def _dies_on_three(x: int) -> int:
    import os

    if x == 3:
        os._exit(9)  # as a worker the system kills for memory would
    return x


class _Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(a)


def _odd_error(x: int) -> int:
    raise _Unpicklable("odd", 1)


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")
def test_a_workers_error_or_death_stops_the_work_with_a_clear_error_and_leaves_no_process_behind():
    from qualkit.errors import TranscriptError

    with pytest.raises(TranscriptError, match="not a transcript"):  # raised as itself, as one process would
        parallel_map(_fails_on_three, list(range(8)), 2)
    assert _no_children_left()
    with pytest.raises(RuntimeError, match="stopped before it finished"):
        parallel_map(_dies_on_three, list(range(8)), 2)
    assert _no_children_left()
    with pytest.raises(RuntimeError, match="_Unpicklable: odd"):
        parallel_map(_odd_error, list(range(4)), 2)
    assert _no_children_left()


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")
def test_large_results_and_many_items_come_back_whole():
    big = parallel_map(lambda n: bytes([n % 251]) * 3_000_000, [1, 2, 3], 2)  # (more than a pipe holds: read as it comes)
    assert [len(b) for b in big] == [3_000_000] * 3 and [b[0] for b in big] == [1, 2, 3]
    assert parallel_map(abs, list(range(-5000, 0)), 3) == list(range(5000, 0, -1))  # (over the pipe's task limit: the executor)
    assert _no_children_left()


def _says(x: int) -> int:
    print(f"worker says {x}")
    return x


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")
def test_what_a_worker_prints_is_not_lost(capfd):
    assert parallel_map(_says, [1, 2, 3], 2) == [1, 2, 3]
    out = capfd.readouterr().out
    assert all(f"worker says {x}" in out for x in (1, 2, 3))
