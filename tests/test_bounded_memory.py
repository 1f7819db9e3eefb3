"""Bounded memory (issue 17): a study of 5,000 interviews holds close to a million codings and as many
excerpts and units, so what each one holds is multiplied by a million. These tests check the shape
that keeps `export all`, `report` and `run` under 1 GB there: equal values held once, nothing copied
per passage that the passage's coding or turn already holds. Each is a user's action on the sample
study with the same answer as before."""
from __future__ import annotations

import qualkit
from qualkit.analysis.matrices.cooccurrence import _unit_sets
from qualkit.analysis.sources import Excerpt, load_excerpts
from qualkit.coding.anchoring import anchored_codings
from qualkit.workspace.codings import held_quote, read_codings


def _ingested_transcripts(monkeypatch) -> list:
    """Every transcript each ingest call hands back, from now on (what a command then holds)."""
    import qualkit.workspace.ingest as ingest_mod

    real = ingest_mod.ingest
    held: list = []

    def watched(*args, **kwargs):
        result = real(*args, **kwargs)
        held.extend(result.transcripts)
        return result

    monkeypatch.setattr(ingest_mod, "ingest", watched)
    return held


def test_a_checked_coding_reads_its_quote_back_from_the_transcript_and_holds_no_copy(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    in_file = {c.key: c.text for c in read_codings(ws.coder_file("ana"))}
    codings = anchored_codings(ws, "ana")
    read_back = [c for c in codings if held_quote(c) is None]
    assert len(read_back) > 0.9 * len(codings) > 50  # every quote found at its offsets holds no copy
    assert all(c.text == in_file[c.key] for c in read_back)  # and gives the same words
    quotes = {e.text for e in load_excerpts(ws, "ana").excerpts}
    assert sum(c.text in quotes for c in read_back) > 50  # an excerpt within one turn quotes the same words


def test_excerpts_of_one_participant_share_one_attributes_dict(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws)
    by_participant: dict[str, set[int]] = {}
    for e in ex.excerpts:
        if e.participant:
            by_participant.setdefault(e.participant, set()).add(id(e.attributes))
    assert by_participant
    assert max(len(ids) for ids in by_participant.values()) <= 3  # a few case sections at most, not one per passage
    assert sum(len(ids) for ids in by_participant.values()) < len(ex.excerpts) / 5


def test_an_excerpt_has_no_per_object_dict():
    e = Excerpt("int1", 0, 5, "code", "words")
    assert not hasattr(e, "__dict__")  # slots: about 150 bytes instead of 500 per passage


def test_cooccurrence_units_with_the_same_codes_share_one_row(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws)
    unit_sets, n_units = _unit_sets(ws, ex, "turn", lambda code: code)
    assert n_units == len(unit_sets) > 100
    distinct = {id(row) for row in unit_sets}
    assert len(distinct) == len(set(unit_sets)) < n_units  # equal rows (most often: nothing coded) are one object
    assert all(isinstance(one, frozenset) for row in unit_sets for one in row)


def test_a_coders_file_is_read_without_a_four_bytes_a_character_copy(sample_workspace, monkeypatch):
    import io

    import qualkit.workspace.codings as codings_mod

    ws = qualkit.Workspace(sample_workspace)
    expected = codings_mod.read_codings(ws.coder_file("ana"))

    whole = len(ws.coder_file("ana").read_text(encoding="utf-8"))
    real = io.StringIO

    def no_copy(initial: str = "", newline: str | None = "\n") -> io.StringIO:
        assert len(initial) < whole / 2, "the file's text was copied into a StringIO"
        return real(initial, newline)  # a small one (the last record's check) is fine

    monkeypatch.setattr(io, "StringIO", no_copy)
    assert codings_mod.read_codings(ws.coder_file("ana")) == expected


def test_the_report_holds_references_to_transcripts_not_their_text(sample_workspace):
    from qualkit.reporting.study import load_study
    from qualkit.workspace.ingest import TranscriptRef

    ws = qualkit.Workspace(sample_workspace)
    study = load_study(ws)
    assert study.transcripts and all(isinstance(t, TranscriptRef) for t in study.transcripts)
    first = study.transcripts[0]
    assert first.text == ws.transcript(first.id).text  # read again when asked for
    assert any(len(people) >= 2 for people in study.people.values())  # focus groups still counted


def test_run_writes_turns_a_few_transcripts_at_a_time_with_the_same_bytes(sample_workspace, monkeypatch):
    import qualkit.pipeline as pipeline
    from qualkit.render.cells import csv_safe_frame

    ws = qualkit.Workspace(sample_workspace)
    whole = sample_workspace / "whole.csv"
    with open(whole, "w", encoding="utf-8-sig", newline="") as f:
        csv_safe_frame(ws.turn_table()).to_csv(f, index=False)
    monkeypatch.setattr(pipeline, "TURNS_CHUNK", 2)
    n, ids = pipeline._write_turns(ws, ws.transcripts(), sample_workspace / "chunked.csv")
    assert (sample_workspace / "chunked.csv").read_bytes() == whole.read_bytes()
    assert n == len(ws.turn_table()) and ids


def test_set_alpha_resamples_are_used_one_batch_at_a_time(monkeypatch):
    import weakref

    import numpy as np

    import qualkit.agreement.profiles as profiles
    from qualkit.agreement.patterns import Resampling

    rng = np.random.default_rng(3)
    x = rng.random((2, 1500, 12)) < 0.3           # thousands of distinct code sets: the row-block path
    assert len(profiles._row_blocks(len(profiles.distinct_rows(x.reshape(-1, 12))[0]))) > 1
    real = profiles._profile_draws
    alive: list[int] = []

    def watched(*args, **kwargs):
        held: list[weakref.ref] = []
        for batch in real(*args, **kwargs):
            alive.append(sum(r() is not None for r in held))
            held.append(weakref.ref(batch))
            yield batch

    monkeypatch.setattr(profiles, "_profile_draws", watched)
    out = profiles.set_alpha_by_profiles(x, np.ones(1500, dtype=np.int64), resampling=Resampling(resamples=600, seed=1, confidence=0.95))
    assert len(alive) == 3 and max(alive) <= 1  # not every batch of resampled weights held at once
    assert out["masi_low"] <= out["masi"] <= out["masi_high"]


def test_a_backup_is_copied_and_checked_a_piece_at_a_time(tmp_path, monkeypatch):
    from pathlib import Path

    import qualkit.io.atomic as atomic

    src = tmp_path / "ana.csv"
    src.write_bytes(b"transcript,start,end,code\n" + b"int1,0,5,fax\n" * 200_000)  # 2.6 MB: several pieces

    def whole(self):
        raise AssertionError(f"{self.name} read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)
    monkeypatch.setattr(Path, "read_text", whole)
    dest = atomic.backup(src, tmp_path / "backups")
    monkeypatch.undo()
    assert dest is not None and dest.read_bytes() == src.read_bytes()


def test_a_coder_comparison_keeps_nothing_for_units_no_coding_touches(sample_workspace):
    from qualkit.analysis.disagreements import Comparison, disagreements

    ws = qualkit.Workspace(sample_workspace)
    comp = Comparison(ws, "ana,ben")
    for coder in ("ana", "ben"):
        assert 0 < len(comp.on_unit[coder]) < len(comp.uc.units)
        assert all(comp.on_unit[coder].values())  # no empty entries
    assert len(disagreements(ws, "ana,ben")) > 10  # and the comparison still finds them


def test_autocode_over_several_processes_keeps_one_quote_per_turn(tmp_path, monkeypatch):
    import pytest

    import qualkit.coding.autocode as autocode_mod
    from qualkit.io.parallel import can_fork
    from tests.test_autocode import CODES, INT1, make_ws

    if not can_fork():
        pytest.skip("worker processes are forked (Linux)")
    monkeypatch.setattr(autocode_mod, "PARALLEL_MIN_CHARS", 0)
    root = make_ws(tmp_path, CODES, INT1 * 3)
    for i in range(2, 6):
        (root / "transcripts" / f"int{i}.txt").write_text(INT1 * i, encoding="utf-8")
    ws = qualkit.Workspace(root)
    ws.jobs = 2
    codings = autocode_mod.autocode(ws, unit="turn", write=False).codings
    by_span: dict[tuple, set[int]] = {}
    for c in codings:
        by_span.setdefault((c.transcript, c.start, c.end), set()).add(id(c.text))
    assert len(by_span) < len(codings)                     # several codes on one turn
    assert all(len(ids) == 1 for ids in by_span.values())  # share its quote, not a copy each


def test_the_disagreements_of_one_unit_share_its_words_and_codes(sample_workspace):
    from qualkit.analysis.disagreements import disagreements

    ws = qualkit.Workspace(sample_workspace)
    items = disagreements(ws, "ana,ben")
    assert not hasattr(items[0], "__dict__")
    by_unit: dict[int, list] = {}
    for d in items:
        by_unit.setdefault(d.index, []).append(d)
    several = [ds for ds in by_unit.values() if len(ds) > 1]
    assert several
    for ds in several:
        assert all(d.text is ds[0].text and d.codes is ds[0].codes for d in ds)


def test_a_dry_run_of_reconcile_does_not_write_out_a_consensus_that_has_no_file(sample_workspace, monkeypatch):
    import qualkit.analysis.reconcile as reconcile_mod

    ws = qualkit.Workspace(sample_workspace)
    assert not ws.coder_file("consensus").exists()

    def whole(codings):
        raise AssertionError("the consensus was written out as text to compare with no file")

    monkeypatch.setattr(reconcile_mod, "dumps_codings", whole)
    status = reconcile_mod.reconcile(ws, "ana,ben", dry_run=True)
    assert status.written and status.disagreements > 10


def test_saturation_reads_the_transcripts_one_at_a_time(sample_workspace, monkeypatch):
    from qualkit.analysis.matrices import build_matrix
    from qualkit.workspace.ingest import TranscriptsById

    ws = qualkit.Workspace(sample_workspace)
    seen: list[type] = []
    import qualkit.analysis.matrices.saturation as saturation

    real = saturation.transcript_dates
    monkeypatch.setattr(saturation, "transcript_dates", lambda w, ts: seen.append(type(ts)) or real(w, ts))
    build_matrix(ws, "saturation")
    assert seen == [TranscriptsById]  # a view read when asked for, not a dict of every transcript


def test_set_alpha_keeps_the_resampled_set_counts_in_one_array_not_a_list_and_its_copy(monkeypatch):
    import weakref

    import numpy as np

    import qualkit.agreement.profiles as profiles
    from qualkit.agreement.patterns import Resampling

    rng = np.random.default_rng(3)
    x = rng.random((2, 1500, 12)) < 0.3           # thousands of distinct code sets: the row-block path
    real_counts, real_expected, real_draws = profiles._set_counts, profiles._expected_blocked, profiles._profile_draws
    made: list[weakref.ref] = []
    drawn: list[weakref.ref] = []
    alive_at_expected: list[int] = []

    def draws(*args, **kwargs):
        for batch in real_draws(*args, **kwargs):
            drawn.append(weakref.ref(batch))
            yield batch

    def counts(*args, **kwargs):
        out = real_counts(*args, **kwargs)
        made.append(weakref.ref(out))
        return out

    def expected(nmat, a):
        alive_at_expected.append(sum(r() is not None for r in made + drawn))
        return real_expected(nmat, a)

    monkeypatch.setattr(profiles, "_set_counts", counts)
    monkeypatch.setattr(profiles, "_expected_blocked", expected)
    monkeypatch.setattr(profiles, "_profile_draws", draws)
    resampling = Resampling(resamples=600, seed=1, confidence=0.95)
    out = profiles.set_alpha_by_profiles(x, np.ones(1500, dtype=np.int64), resampling=resampling)
    # each batch's counts copied in, not kept beside the whole; the last batch of weights let go too
    assert len(made) == 4 and len(drawn) == 3 and alive_at_expected == [0]
    monkeypatch.setattr(profiles, "_set_counts", real_counts)
    monkeypatch.setattr(profiles, "_expected_blocked", real_expected)
    monkeypatch.setattr(profiles, "_profile_draws", real_draws)
    assert profiles.set_alpha_by_profiles(x, np.ones(1500, dtype=np.int64), resampling=resampling) == out


def test_the_report_lets_go_of_the_agreements_units_once_written(sample_workspace):
    from qualkit.analysis.unit_codes import build_unit_codes
    from qualkit.reporting.report import build_report

    ws = qualkit.Workspace(sample_workspace)
    held = build_unit_codes(ws, ["ana", "ben"])
    assert ws.derived(("unit_codes", ("ana", "ben"), "turn", False, True), None) is held
    path = build_report(ws)
    assert "Inter-coder agreement" in path.read_text(encoding="utf-8")
    assert ws.derived(("unit_codes", ("ana", "ben"), "turn", False, True), None) is None  # ~200 MB at 5,000 transcripts
    assert build_unit_codes(ws, ["ana", "ben"]).units == held.units  # asked again: built again, the same


def test_the_rapid_matrix_of_summaries_holds_transcripts_by_reference(sample_workspace, monkeypatch):
    from qualkit.analysis.rapid import rapid_matrix
    from qualkit.workspace.ingest import TranscriptRef

    ws = qualkit.Workspace(sample_workspace)
    with monkeypatch.context() as patch:
        held = _ingested_transcripts(patch)
        df = rapid_matrix(ws, rows="participant", cells="summary")
    assert len(df) > 5 and held
    assert all(isinstance(t, TranscriptRef) for t in held)  # not the study's text: ~250 MB at 5,000 interviews
    assert rapid_matrix(qualkit.Workspace(sample_workspace), rows="participant", cells="summary").equals(df)


def test_set_alpha_draws_its_resamples_a_few_megabytes_at_a_time_with_the_same_interval(monkeypatch):
    import numpy as np

    import qualkit.agreement.profiles as profiles
    from qualkit.agreement.patterns import Resampling

    rng = np.random.default_rng(4)
    x = rng.random((3, 2000, 10)) < 0.3
    resampling = Resampling(resamples=300, seed=2, confidence=0.95)
    whole = profiles.set_alpha_by_profiles(x, np.ones(2000, dtype=np.int64), resampling=resampling)
    weight, cluster = rng.integers(1, 40, 2000), np.repeat(np.arange(200), 10)  # character runs in their turns
    clustered = profiles.set_alpha_by_profiles(x, weight, cluster, resampling)
    real = profiles._profile_draws
    sizes: list[int] = []

    def watched(*args, **kwargs):
        for batch in real(*args, **kwargs):
            sizes.append(batch.nbytes)
            yield batch

    monkeypatch.setattr(profiles, "_profile_draws", watched)
    monkeypatch.setattr(profiles, "_DRAW_BYTES", 64_000)
    assert profiles.set_alpha_by_profiles(x, np.ones(2000, dtype=np.int64), resampling=resampling) == whole
    assert len(sizes) > 10 and max(sizes) <= 64_000  # not 250 resamples x profiles floats at once
    assert profiles.set_alpha_by_profiles(x, weight, cluster, resampling) == clustered


def test_collecting_summaries_holds_transcripts_by_reference(sample_workspace, monkeypatch):
    from qualkit.analysis.summaries import collect_summaries
    from qualkit.workspace.ingest import TranscriptRef

    before = collect_summaries(qualkit.Workspace(sample_workspace))
    held = _ingested_transcripts(monkeypatch)
    bullets = collect_summaries(qualkit.Workspace(sample_workspace))
    assert len(bullets) > 10 and held
    assert all(isinstance(t, TranscriptRef) for t in held)  # sessions taken as each is read, not the study's text
    assert bullets.equals(before)


def _autocode_study(tmp_path):
    """Nine interviews named so that natural order (int2, ..., int10) is not the file's order (int1, int10, int2)."""
    from tests.test_autocode import CODES, INT1, make_ws

    root = make_ws(tmp_path, CODES, INT1)
    for i in range(2, 11):
        (root / "transcripts" / f"int{i}.txt").write_text(INT1.replace("faxed", "faxxed" if i % 2 else "faxed") * i,
                                                           encoding="utf-8")
    return root


def test_autocode_writes_its_suggestions_holding_a_few_transcripts_and_none_of_the_codings(tmp_path, monkeypatch):
    import gc
    from pathlib import Path

    from click.testing import CliRunner

    import qualkit.io.atomic as atomic
    from qualkit.cli import cli
    from qualkit.transcripts.model import Transcript
    from qualkit.workspace.codings import Coding, read_codings
    from qualkit.workspace.ingest import TranscriptMemo

    root = _autocode_study(tmp_path)
    monkeypatch.setattr(TranscriptMemo.__init__, "__defaults__", (1, 1))  # the memo keeps the last transcript read (budget, spilled)
    held: list[tuple[int, int]] = []
    real = atomic.atomic_open

    def counted(path, *args, **kwargs):
        if Path(path).name == "auto.csv":  # what the command holds as it writes the file
            gc.collect()  # (garbage of earlier tests is not held)
            objects = gc.get_objects()
            held.append((sum(type(o) is Coding for o in objects), sum(type(o) is Transcript for o in objects)))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(atomic, "atomic_open", counted)
    r = CliRunner().invoke(cli, ["--workspace", str(root), "autocode"])
    assert r.exit_code == 0, r.output
    written = read_codings(root / "codings" / "auto.csv")
    assert len(written) > 100 and len({c.transcript for c in written}) == 10
    assert f"Wrote {len(written)} suggestions" in r.output
    assert len(held) == 1
    codings, transcripts = held[0]
    assert codings == 0        # none of the suggestions (half a million at 5,000 interviews)
    assert transcripts <= 2    # not the study's transcripts: those the memo keeps


def test_autocode_file_is_the_same_bytes_in_batches_and_processes_as_written_at_once(tmp_path, monkeypatch):
    import qualkit.coding.autocode as autocode_mod
    import qualkit.coding.autocode_stream as stream
    from qualkit.io.parallel import can_fork
    from qualkit.workspace.codings import dumps_codings

    root = _autocode_study(tmp_path)
    monkeypatch.setattr(stream, "BATCH_CHARS", 300)  # a batch or two per interview
    monkeypatch.setattr(autocode_mod, "PARALLEL_MIN_CHARS", 1_000)
    seen = []
    for jobs, unit in ((1, "turn"), (2, "turn"), (2, "sentence")):
        ws = qualkit.Workspace(root)
        ws.jobs = jobs
        result = autocode_mod.autocode(ws, unit=unit)
        data = (root / "codings" / "auto.csv").read_text(encoding="utf-8")
        assert data == dumps_codings(result.codings)                 # in transcript order: int1, int10, int2, ...
        assert result.suggestions == len(result.codings) > 100
        assert [c.transcript for c in result.codings][-1] == "int9"
        lean = autocode_mod.autocode(ws, unit=unit, keep_codings=False)
        assert lean.codings == [] and lean.suggestions == result.suggestions
        assert lean.counts == result.counts and lean.corrections == result.corrections
        stamp = result.codings[0].coded_at
        lean_data = (root / "codings" / "auto.csv").read_text(encoding="utf-8")
        lean_stamp = lean_data.splitlines()[1].split(",")[-2]  # coded_at of its first row (transcript_hash is blank)
        assert lean_data.replace(lean_stamp, "") == data.replace(stamp, "")
        seen.append(data.replace(stamp, ""))
    assert seen[0] == seen[1] or not can_fork()                      # several processes: the same file


def test_status_reads_the_transcripts_one_at_a_time(sample_workspace, monkeypatch):
    from qualkit.reporting.status import status
    from qualkit.workspace.ingest import TranscriptRef

    before = status(qualkit.Workspace(sample_workspace)).as_dict()
    (sample_workspace / ".qualkit" / "cache" / "results.sqlite").unlink()  # the first status after a change
    held = _ingested_transcripts(monkeypatch)
    assert status(qualkit.Workspace(sample_workspace)).as_dict() == before
    assert len(held) > 5 and all(isinstance(t, TranscriptRef) for t in held)  # hashed as read, not the study's text


def test_coverage_keeps_no_transcript_alive_once_the_command_lets_go_of_it(sample_workspace):
    import gc

    from qualkit.reporting.status import status
    from qualkit.workspace.ingest import TranscriptMemo

    ws = qualkit.Workspace(sample_workspace)
    ws._cache = TranscriptMemo(budget=0)  # as at 5,000 interviews: the memo keeps the last one read
    st = status(ws)
    gc.collect()
    assert len(st.coverage["ana"]) > 5
    assert len(ws.__dict__["_participant_units"]) <= 1  # not every transcript's parse, units and text


def test_a_coders_file_is_read_a_line_at_a_time(sample_workspace, monkeypatch):
    from pathlib import Path

    ws = qualkit.Workspace(sample_workspace)
    expected = read_codings(ws.coder_file("ana"))
    real = Path.read_text

    def whole(self, *args, **kwargs):
        assert self.suffix != ".csv", "a coder's whole file was read into one string"
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", whole)
    assert read_codings(ws.coder_file("ana")) == expected


def test_a_quote_read_back_is_still_the_coders_after_the_transcript_changes(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    path = next(p for p in ws.transcript_paths() if p.suffix == ".txt")
    mine = [c for c in anchored_codings(ws, "ana") if c.transcript == path.stem and held_quote(c) is None]
    assert mine
    quotes = {c.key: c.text for c in read_codings(ws.coder_file("ana")) if c.transcript == path.stem}
    path.write_text("A line added at the top.\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert all(c.text == quotes[c.key] for c in mine)  # read again from the coder's file, not the new text
    moved = [c for c in anchored_codings(ws, "ana") if c.transcript == path.stem]
    assert len(moved) == len(mine) and all(c.start > 20 for c in moved)  # re-found further down, by those quotes
    text = ws.transcript(path.stem).text
    assert all(c.text == text[c.start:c.end] for c in moved)


def test_a_quote_that_can_no_longer_be_read_back_names_the_coders_file_and_line(sample_workspace):
    import pytest

    from qualkit.errors import CodingError

    ws = qualkit.Workspace(sample_workspace)
    path = next(p for p in ws.transcript_paths() if p.suffix == ".txt")
    c = next(c for c in anchored_codings(ws, "ana") if c.transcript == path.stem and held_quote(c) is None)
    path.write_text("A line added at the top.\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with ws.coder_file("ana").open("a", encoding="utf-8") as f:
        f.write("\n")  # the coder's file changed too: the old row cannot be trusted
    with pytest.raises(CodingError, match=f"ana.csv:{c.line}: .*read the codings again"):
        c.text  # noqa: B018
    assert {x.transcript for x in anchored_codings(ws, "ana")} >= {path.stem}  # a new read is fine


def test_export_all_frees_each_word_document_as_it_is_written_while_the_collector_is_paused(sample_workspace,
                                                                                             monkeypatch):
    # A python-docx document and its parts point at each other, so only the cyclic collector frees one,
    # and `run` / `export all` pause it: a table of 5,000 rows kept 160 MB of XML to the end of the command.
    import weakref

    import qualkit.render.formats as formats
    from qualkit.io.collector import gc_paused
    from qualkit.reporting.study_exports import export_study

    built: list = []
    real = formats._build_document

    def build(tables, title):
        document, template = real(tables, title)
        built.append(weakref.ref(document))
        return document, template

    monkeypatch.setattr(formats, "_build_document", build)
    ws = qualkit.Workspace(sample_workspace)
    with gc_paused():
        done = export_study(ws, sample_workspace / "exports")
        alive = [r() is not None for r in built]
    assert sum(p.suffix == ".docx" for p in done.written) == len(built) == 4
    assert alive == [False] * 4


def test_export_all_lets_go_of_its_excerpts_and_matrices_once_its_tables_are_written(sample_workspace):
    from qualkit.reporting.study_exports import export_study

    ws = qualkit.Workspace(sample_workspace)
    done = export_study(ws, sample_workspace / "exports")
    assert "rapid matrix" in done.made  # the steps after the matrices ran without them
    assert ws.derived(("excerpts", None, False), None) is None  # ~190 MB at 5,000 interviews
    # `run` keeps them: its report reads the same excerpts and matrices next
    export_study(ws, sample_workspace / "exports", keep=True)
    assert ws.derived(("excerpts", None, False), None) is not None


def test_the_reports_agreement_lets_go_of_the_units_before_its_statistics(sample_workspace, monkeypatch):
    # The report's last use of the units (three or more coders): they are tabulated, then let go of
    # before the statistics' arrays are made, not held through them (~140 MB at 5,000 interviews).
    import weakref

    import qualkit.analysis.agree as agree_mod
    from qualkit.analysis.agree import agreement

    ws = qualkit.Workspace(sample_workspace)
    refs: list = []
    real_build, real_tables = agree_mod.build_unit_codes, agree_mod.binary_tables

    def build(*args, **kwargs):
        uc = real_build(*args, **kwargs)
        refs.append(weakref.ref(uc))
        return uc

    alive: list[bool] = []

    def tables(*args, **kwargs):
        alive.append(refs[0]() is not None)
        return real_tables(*args, **kwargs)

    monkeypatch.setattr(agree_mod, "build_unit_codes", build)
    monkeypatch.setattr(agree_mod, "binary_tables", tables)
    kept = agreement(ws, ["ana", "ben"])
    assert alive == [True]  # kept for a later step (`run`'s report, a consensus dry run) when not the last use
    with ws.derived_cache.passing("unit_codes"):
        last = agreement(ws, ["ana", "ben"])
    assert alive == [True, False]
    assert last.table.equals(kept.table) and last.transcripts == kept.transcripts


def test_export_all_checks_for_summary_bullets_without_a_row_per_bullet(sample_workspace, monkeypatch):
    from qualkit.analysis.summaries import collect_summaries
    from qualkit.analysis.summaries.read import Summaries, has_bullets
    from qualkit.reporting.study_exports import export_study

    ws = qualkit.Workspace(sample_workspace)
    assert has_bullets(ws) == (not collect_summaries(ws).empty)
    real = Summaries.frame
    framed: list[int] = []

    def frame(self, workspace=None):
        framed.append(1)
        return real(self, workspace)

    monkeypatch.setattr(Summaries, "frame", frame)
    done = export_study(ws, sample_workspace / "exports")
    assert "rapid matrix" in done.made and framed == []


def test_the_report_page_is_written_as_it_renders_not_held_as_one_string(sample_workspace, monkeypatch):
    # At 5,000 interviews the page is 17 MB of text; whole, as one string and its pieces, it was the report's peak.
    import re

    import qualkit.reporting.report as report_mod

    ws = qualkit.Workspace(sample_workspace)
    expected = report_mod.render_report(report_mod.report_context(ws))

    def whole(context):
        raise AssertionError("the page was rendered as one string")

    monkeypatch.setattr(report_mod, "render_report", whole)
    written = report_mod.build_report(ws).read_text(encoding="utf-8")

    def stamps(text: str) -> str:
        return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d\+00:00| UTC)", "STAMP", text)

    assert stamps(written) == stamps(expected)


def test_a_study_too_big_for_the_transcript_memo_is_walked_holding_a_few_transcripts(sample_workspace):
    # At 5,000 interviews the 64 MB memo cannot hold the study, so a walk over every transcript finds
    # none still held; keeping 64 MB of them anyway was ~70 MB of `run`'s peak. Once the study has proved
    # too big, the memo keeps a few (its spilled budget); a study that fits keeps every transcript read.
    from qualkit.workspace.ingest import TranscriptMemo, _weight

    ws = qualkit.Workspace(sample_workspace)
    paths = ws.transcript_paths()
    sizes = [_weight(ws.read(p)) for p in paths]
    ws._cache = TranscriptMemo(budget=sum(sizes) - 1, spilled=max(sizes) + 1)  # one transcript short of the study
    texts = [ws.read(p).text for p in paths]
    assert ws._cache.held <= max(sizes) + 1 and len(ws._cache) < len(paths) - 1
    assert [ws.read(p).text for p in paths] == texts  # read back from the on-disk cache: the same transcripts

    roomy = qualkit.Workspace(sample_workspace)
    roomy._cache = TranscriptMemo(budget=sum(sizes), spilled=max(sizes) + 1)
    for p in paths:
        roomy.read(p)
    assert len(roomy._cache) == len(paths)  # the whole study fits: every transcript read is kept


def test_a_two_coder_run_lets_go_of_the_pairs_units_after_its_consensus_step(sample_workspace):
    # The agreement step keeps the pair's units for the consensus step's dry run; no later step reads them
    # (the report reads the shared agreement and the dry run's counts), so they are not held through the
    # matrices and the report (~100 MB at 5,000 interviews).
    import gc

    from qualkit.analysis.unit_codes import UnitCodes
    from qualkit.pipeline import run

    held: dict[str, int] = {}

    def after(step) -> None:
        gc.collect()
        held[step.name] = sum(type(o) is UnitCodes for o in gc.get_objects())

    ws = qualkit.Workspace(sample_workspace)
    assert ws.config.coders == ["ana", "ben"]
    report = run(ws, use_cache=False, on_step=after)
    assert [s.status for s in report.steps if s.name in ("agreement", "consensus")] == ["done", "done"]
    assert held["agreement"] == 1  # kept for the consensus step
    assert held["consensus"] == 0 and held["matrices"] == 0 and held["report"] == 0


def test_a_consensus_coding_over_a_whole_checked_coding_reads_its_quote_back(sample_workspace):
    # reconcile's dry run (run's consensus step) builds the consensus twice: a copy of every agreed quote
    # each time was ~100 MB of the step's peak at 5,000 interviews.
    from qualkit.analysis.disagreements import Comparison
    from qualkit.analysis.reconcile import build_consensus

    ws = qualkit.Workspace(sample_workspace)
    comp = Comparison(ws, ["ana", "ben"])
    consensus = build_consensus(comp, {}, {})
    spans = {(c.transcript, c.start, c.end) for coder in comp.coders for c in comp.codings[coder]}
    whole = [c for c in consensus if (c.transcript, c.start, c.end) in spans]
    assert whole and all(held_quote(c) is None for c in whole)  # read back, as the coder's own coding is
    texts = {t: ws.transcript(t).text for t in {c.transcript for c in consensus}}
    assert all(c.text == texts[c.transcript][c.start:c.end] for c in consensus)  # the same words


def _rss() -> int:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_a_step_freed_is_handed_back_to_the_system(monkeypatch):
    # glibc keeps freed memory for its own reuse; pages a later step does not reuse still counted in run's
    # peak (~50 MB at 5,000 interviews). Between run's steps it is handed back.
    import platform

    import pytest

    from qualkit.io import collector

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    monkeypatch.setattr(collector, "GIVE_BACK_FROM", 0)
    blocks = [bytes(2000) for _ in range(25_000)]  # ~50 MB from malloc's heap (too big for Python's own)
    last = bytes(2000)  # made after them: the heap cannot simply shrink from its top
    del blocks
    before = _rss()
    assert collector.give_back()
    assert _rss() < before - 30 * 2**20
    assert last


def test_run_hands_back_what_each_step_freed(sample_workspace, monkeypatch):
    import qualkit.pipeline as pipeline

    calls: list[int] = []
    monkeypatch.setattr(pipeline, "give_back", lambda: calls.append(1) or True)
    report = pipeline.run(qualkit.Workspace(sample_workspace), use_cache=False)
    assert len(calls) == len(report.steps)  # after every step, the manifest's included


def test_rewriting_a_coders_file_holds_one_transcripts_text_at_a_time(sample_workspace, monkeypatch):
    """Stamping each checked coding with its transcript's hash held the text of every coded transcript
    at once (157 MB at 5,000 interviews, in `codings check --fix`, reconcile and every import); now one
    is read at a time, and the file written is the same."""
    import weakref

    from qualkit.workspace.store import Workspace

    class Text(str):
        pass

    ws = qualkit.Workspace(sample_workspace)
    path = ws.coder_file("ana")
    before = path.read_bytes()
    real, alive, most = Workspace.read_text, [], []

    def read_text(self, p):
        most.append(sum(1 for r in alive if r() is not None))
        text = Text(real(self, p))
        alive.append(weakref.ref(text))
        return text

    monkeypatch.setattr(Workspace, "read_text", read_text)
    ws.write_codings("ana", ws.codings("ana"))
    assert path.read_bytes() == before
    assert len(most) >= 5 and max(most) <= 1


def test_cooccurrence_cut_by_case_keeps_no_transcript_per_unit(sample_workspace, monkeypatch):
    """`matrix cooccurrence --by role` kept (transcript, unit) for every unit until the cut, so every
    transcript of the study stayed alive; each unit's cases are now read while its transcript is."""
    import gc

    import qualkit.analysis.matrices.cooccurrence as cooc
    from qualkit.transcripts.model import Transcript

    ws = qualkit.Workspace(sample_workspace)
    whole = ws.matrix("cooccurrence", by="role", cells="pairs", coder="ana")
    ws = qualkit.Workspace(sample_workspace)
    ws._cache.budget = 1  # the memo keeps the last transcript only
    real, alive = cooc._by_case_frames, []

    def counted(*args, **kwargs):
        gc.collect()
        alive.append(sum(1 for o in gc.get_objects() if isinstance(o, Transcript)))
        return real(*args, **kwargs)

    monkeypatch.setattr(cooc, "_by_case_frames", counted)
    assert ws.matrix("cooccurrence", by="role", cells="pairs", coder="ana").equals(whole) and len(whole) > 5
    assert alive and alive[0] <= 2


def test_ingesting_word_transcripts_keeps_no_document_once_each_is_read(tmp_path):
    """Ingest pauses the collector, and a python-docx Document's parts point at each other: 300 Word
    transcripts of 40 kB each held 1.6 GB by the end of a serial ingest. Each is freed as it is read."""
    import gc

    import docx
    from docx.document import Document

    from qualkit.io.collector import gc_paused
    from qualkit.workspace.scaffold import init

    root = init(tmp_path / "ws")
    for i in range(6):
        d = docx.Document()
        for j in range(20):
            d.add_paragraph(f"{'Interviewer' if j % 2 == 0 else 'Maria'}: answer {i} {j} about referrals")
        d.save(str(root / "transcripts" / f"int{i}.docx"))
    del d
    gc.collect()
    ws = qualkit.Workspace(root)
    ws.jobs = 1
    before = sum(1 for o in gc.get_objects() if isinstance(o, Document))  # (one kept per process by the writers)
    with gc_paused():
        result = ws.ingest()
        left = sum(1 for o in gc.get_objects() if isinstance(o, Document)) - before
    assert len(result.transcripts) == 6 and len(result.transcripts[0].turns) == 20
    assert left == 0


def test_word_summary_templates_are_written_and_read_back_keeping_no_document(sample_workspace):
    """`summaries template --format docx` and reading the filled templates back (collect, the rapid
    matrix) run with the collector paused: each Word document is freed once written or read."""
    import gc

    from docx.document import Document

    from qualkit.analysis.summaries import read_summaries, write_templates
    from qualkit.io.collector import gc_paused

    ws = qualkit.Workspace(sample_workspace)
    write_templates(ws, format="docx", overwrite=True, transcripts=["int1_sheriff"])  # what a process keeps once
    gc.collect()
    before = sum(1 for o in gc.get_objects() if isinstance(o, Document))
    with gc_paused():
        run = write_templates(ws, format="docx", overwrite=True)
        written = sum(1 for o in gc.get_objects() if isinstance(o, Document)) - before
        read = read_summaries(ws)
        left = sum(1 for o in gc.get_objects() if isinstance(o, Document)) - before
    assert len(run.results) >= 5 and len(read.files) >= 5
    assert (written, left) == (0, 0)


def test_checking_codings_against_the_codebooks_reads_each_coders_file_a_row_at_a_time(sample_workspace, monkeypatch):
    """`run`'s codebook step read every coder's file whole to look at its header, then as a list of codings:
    auto.csv (226 MB of suggestions at 5,000 interviews) made that step the 1.28 GB peak of `run`. Only the
    header row is read to decide, and the codes are counted one coding at a time; the problems are the same."""
    from pathlib import Path

    import qualkit.workspace.codings as codings_mod
    from qualkit.coding.codebook_validate import validate

    ws = qualkit.Workspace(sample_workspace)
    before = validate(ws)
    real = Path.read_text

    def read_text(self, *args, **kwargs):
        assert self.parent.name != "codings", f"{self.name} read whole"
        return real(self, *args, **kwargs)

    def whole(path):
        raise AssertionError(f"{path} read as one list")

    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(codings_mod, "read_codings", whole)
    assert validate(ws) == before


def test_checking_a_coders_file_lets_go_of_each_quote_found_in_place_as_its_row_is_read(sample_workspace, monkeypatch):
    """auto.csv at 5,000 interviews holds 200 MB of quotes: read whole before any was checked, they were the
    peak of `run` (the report reads it). Each quote found at its offsets is now read back from its
    transcript as soon as its row is read, the first time (checked) and once the file is known clean."""
    import qualkit.workspace.codings as codings_mod

    real = codings_mod.iter_codings
    held_when_read: list[tuple[int, int]] = []

    def watched(path):
        seen = []
        for c in real(path):
            seen.append(c)
            yield c
        held_when_read.append((sum(held_quote(c) is not None for c in seen), len(seen)))

    monkeypatch.setattr(codings_mod, "iter_codings", watched)
    in_file = {c.key: c.text for c in read_codings(sample_workspace / "codings" / "ana.csv")}
    held_when_read.clear()
    for _ in range(2):  # checked against the transcripts, then read again with the clean verdict kept
        ws = qualkit.Workspace(sample_workspace)
        codings = anchored_codings(ws, "ana")
        held, total = held_when_read.pop(0)
        assert total > 50 and held < 0.1 * total  # before: every quote of the file, until it was all read
        assert {c.key: c.text for c in codings} == in_file  # the same words
        assert sum(held_quote(c) is None for c in codings) > 0.9 * len(codings)


def test_a_memo_repeated_on_many_rows_is_held_once(tmp_path):
    """autocode writes one of a few hundred memos on each of auto.csv's 518,000 rows at 5,000 interviews (38 MB)."""
    path = tmp_path / "auto.csv"
    rows = [f'int{i % 7},{10 * i},{10 * i + 5},c{i % 3},words,"autocode: ""naloxone"" exact",,' for i in range(1, 40)]
    path.write_text("transcript,start,end,code,text,memo,coded_at,transcript_hash\n" + "\n".join(rows) + "\n", encoding="utf-8")
    codings = read_codings(path)
    assert len(codings) == 39 and codings[0].memo == 'autocode: "naloxone" exact'
    assert len({id(c.memo) for c in codings}) == 1


def test_a_coders_file_sorted_by_code_is_checked_reading_each_transcript_at_most_twice(sample_workspace, monkeypatch):
    """Spreadsheet imports and QDA exports are often sorted by code: the rows of one transcript come back
    after another's many times. The check as rows are read re-read and re-hashed the transcript at each
    switch (145 reads for 13 transcripts on the sample); one coming back is now re-anchored with the rest."""
    import qualkit.workspace.ingest as ingest_mod

    path = sample_workspace / "codings" / "ana.csv"
    by_transcript = anchored_codings(qualkit.Workspace(sample_workspace), "ana")
    rows = read_codings(path)
    import csv

    with path.open(encoding="utf-8", newline="") as f:
        header, *table = list(csv.reader(f))
    with path.open("w", encoding="utf-8", newline="") as f:  # as a spreadsheet sorted by its code column saves it
        csv.writer(f, lineterminator="\n").writerows([header, *sorted(table, key=lambda row: row[header.index("code")])])
    reads: list[str] = []
    real = ingest_mod.text_reader

    def counted(ws):
        read, *rest = real(ws)

        def each(tid):
            reads.append(tid)
            return read(tid)
        return (each, *rest)

    monkeypatch.setattr(ingest_mod, "text_reader", counted)
    codings = anchored_codings(qualkit.Workspace(sample_workspace), "ana")
    assert len(reads) <= 2 * len({c.transcript for c in rows})  # checked, then re-anchored: 139 reads of 7 before
    key = lambda c: (c.transcript, c.start, c.end, c.code)  # noqa: E731
    assert sorted(map(key, codings)) == sorted(map(key, by_transcript))
    assert {c.key: c.text for c in codings} == {c.key: c.text for c in by_transcript}
