"""Each piece of work once (issue 17): a study of a thousand interviews must not rescan transcripts/
for every transcript asked for, re-parse a coder's file for every step, or loop over every coding
once per transcript. Each test is a user's action and what it must (not) cost, with the same answer."""
from __future__ import annotations

import sqlite3
import time
import unicodedata
from pathlib import Path

import pytest

import qualkit
from qualkit.io.textdecode import _looks_binary
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import init

INTERVIEW = "Interviewer: How do referrals arrive?\nMaria: By fax.\nInterviewer: Always?\nMaria: Mostly.\n"


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    for i in range(30):
        (root / "transcripts" / f"int{i}.txt").write_text(INTERVIEW, encoding="utf-8")
    return qualkit.Workspace(root)


def test_asking_for_one_transcript_does_not_rescan_the_folder(ws, monkeypatch):
    ws.transcript("int3")
    calls = []
    real = Path.rglob
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: calls.append(self) or real(self, pattern))
    for i in range(30):
        assert ws.transcript(f"int{i}").id == f"int{i}"
    assert ws.transcript("int7.txt").id == "int7"   # a file name is accepted too
    assert calls == []


def test_a_transcript_added_renamed_or_removed_is_seen_at_once(ws):
    assert len(ws.transcript_paths()) == 30
    (ws.transcripts_dir / "site2").mkdir()
    (ws.transcripts_dir / "site2" / "new.txt").write_text(INTERVIEW, encoding="utf-8")
    assert ws.transcript("new").id == "new"
    (ws.transcripts_dir / "site2" / "new.txt").rename(ws.transcripts_dir / "site2" / "newer.txt")
    with pytest.raises(qualkit.QualkitError, match="no transcript with id 'new'"):
        ws.transcript("new")
    assert ws.transcript("newer").id == "newer"
    (ws.transcripts_dir / "int0.txt").unlink()
    assert "int0" not in [p.stem for p in ws.transcript_paths()]
    (ws.transcripts_dir / "sub" / "deeper").mkdir(parents=True)
    (ws.transcripts_dir / "sub" / "deeper" / "int0.txt").write_text(INTERVIEW, encoding="utf-8")
    assert ws.transcript("int0").path.parent.name == "deeper"


def test_a_coders_file_is_parsed_once_until_it_changes(ws, monkeypatch):
    import qualkit.workspace.codings as codings_mod

    ws.write_codings("ana", [Coding("int1", 38, 45, "fax", "By fax.")])
    parsed = []
    real = codings_mod.read_codings
    monkeypatch.setattr(codings_mod, "read_codings", lambda p, *each: parsed.append(p) or real(p, *each))
    first = ws.codings("ana")
    second = ws.codings("ana")
    assert first == second and len(parsed) == 1
    second.clear()                                   # a caller's list is its own
    assert len(ws.codings("ana")) == 1
    time.sleep(0.01)
    ws.write_codings("ana", [Coding("int1", 38, 45, "fax", "By fax."), Coding("int2", 38, 45, "fax", "By fax.")])
    assert [c.transcript for c in ws.codings("ana")] == ["int1", "int2"]
    assert len(parsed) == 2


def test_binary_check_counts_the_same_control_characters_as_unicodedata():
    controls = [chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cc"]
    for ch in controls:
        text = "a" * 50 + ch * 2
        expected = ch not in "\n\r\t\f\v"
        assert _looks_binary(text) is expected, repr(ch)
    assert not _looks_binary("plain words, 'quotes' \u2019 and accents: café\n" * 100)
    assert not _looks_binary("x" * 999 + "\x07")          # one bell in 1,000 characters is text
    assert _looks_binary("x" * 97 + "\x07\x07")


def test_report_lists_who_coded_each_transcript(ws):
    from qualkit.reporting.study import load_study

    ws.write_codings("ana", [Coding("int1", 38, 45, "fax", "By fax."), Coding("int2", 38, 45, "fax", "By fax.")])
    ws.write_codings("ben", [Coding("int2", 38, 45, "fax", "By fax.")])
    study = load_study(ws, ["ana", "ben"], ci=False)
    assert study.coded_by("int1") == ["ana"]
    assert study.coded_by("int2") == ["ana", "ben"]
    assert study.coded_by("int3") == []


def test_a_coding_source_hands_out_one_transcripts_codings():
    from qualkit.analysis.sources import CodingSource

    codings = [Coding("b", 1, 2, "x"), Coding("a", 1, 2, "x"), Coding("b", 3, 4, "y")]
    source = CodingSource("pooled", ["ana"], codings=codings)
    assert source.codings_of("b") == [codings[0], codings[2]]
    assert source.codings_of("a") == [codings[1]]
    assert source.codings_of("zzz") == []


def test_matrices_of_one_command_share_one_reading_of_the_excerpts(ws, monkeypatch):
    import qualkit.analysis.sources as sources

    (ws.root / "codebooks" / "cb.yaml").write_text("id: cb\nname: CB\ncodes:\n  - id: fax\n    name: Fax\n", encoding="utf-8")
    ws.write_codings("consensus", [Coding("int1", 38, 45, "fax", "By fax.")])
    built = []
    real = sources._load_excerpts
    monkeypatch.setattr(sources, "_load_excerpts", lambda *a: built.append(a) or real(*a))
    first = sources.load_excerpts(ws)
    assert sources.load_excerpts(ws) is first and len(built) == 1
    time.sleep(0.01)
    ws.write_codings("consensus", [Coding("int1", 38, 45, "fax", "By fax."), Coding("int2", 38, 45, "fax", "By fax.")])
    assert len(sources.load_excerpts(ws).excerpts) == 2 and len(built) == 2


def test_word_count_is_counted_once_per_transcript(ws, monkeypatch):
    import qualkit.transcripts.model as model

    t = ws.transcript("int1")
    assert t.word_count == 8
    monkeypatch.setattr(model, "count_words_in", None)  # counting again would fail from here on
    assert t.word_count == 8
    again = qualkit.Workspace(ws.root).transcript("int1")  # a new command: the count comes with the cached parse
    assert again.word_count == 8


def test_a_second_command_takes_word_counts_from_the_cache(ws, monkeypatch):
    import qualkit.transcripts.model as model

    assert ws.transcript("int1").word_count == 8              # the first command parses and counts
    monkeypatch.setattr(model, "count_words_in", None)  # counting again would fail from here on
    assert qualkit.Workspace(ws.root).transcript("int1").word_count == 8   # the next one counts nothing


def test_a_second_command_reads_parsed_transcripts_from_the_cache(ws, monkeypatch):
    import qualkit.transcripts as readers

    first = [(t.id, t.text, [(u.speaker, u.start, u.end, u.participant) for u in t.turns]) for t in ws.transcripts()]
    assert (ws.root / ".qualkit" / "cache" / "transcripts.sqlite").is_file()
    parsed = []
    real = readers.read_parsed
    monkeypatch.setattr(readers, "read_parsed", lambda *a, **k: parsed.append(a) or real(*a, **k))
    again = qualkit.Workspace(ws.root)                       # a new command
    assert [(t.id, t.text, [(u.speaker, u.start, u.end, u.participant) for u in t.turns]) for t in again.transcripts()] == first
    assert parsed == []
    time.sleep(0.01)
    (ws.transcripts_dir / "int2.txt").write_text(INTERVIEW + "Maria: One more thing.\n", encoding="utf-8")
    assert qualkit.Workspace(ws.root).transcript("int2").turns[-1].speaker == "Maria"
    assert len(parsed) == 1                                  # the edited file only


def test_a_broken_cache_is_rebuilt_not_an_error(ws):
    ws.transcripts()
    db = ws.root / ".qualkit" / "cache" / "transcripts.sqlite"
    for extra in db.parent.glob("transcripts.sqlite-*"):
        extra.unlink()
    db.write_bytes(b"not a database at all" * 100)
    assert len(qualkit.Workspace(ws.root).transcripts()) == 30
    with sqlite3.connect(db) as con:                           # and made afresh
        assert con.execute("SELECT count(*) FROM parsed").fetchone()[0] == 30


def test_ingest_prunes_cache_entries_of_edited_and_removed_files(ws, monkeypatch):
    import qualkit.transcripts as readers

    db = ws.root / ".qualkit" / "cache" / "transcripts.sqlite"

    def entries() -> int:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT count(*) FROM parsed").fetchone()[0]

    ws.ingest()
    assert entries() == 30
    time.sleep(0.01)
    for i in range(10):
        (ws.transcripts_dir / f"int{i}.txt").write_text(INTERVIEW + "Maria: One more thing.\n", encoding="utf-8")
    for i in range(10, 15):
        (ws.transcripts_dir / f"int{i}.txt").unlink()
    qualkit.Workspace(ws.root).transcripts()          # reading alone adds the edited files' entries
    assert entries() == 40
    with sqlite3.connect(db) as con:                  # another qualkit version's parse of an unchanged file
        con.execute("INSERT INTO parsed SELECT 'other version', file, state, data FROM parsed WHERE file LIKE '%int20.txt'")
    result = qualkit.Workspace(ws.root).ingest()      # a full ingest drops the removed and edited files' old entries
    assert len(result.transcripts) == 25 and entries() == 26
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM parsed WHERE key = 'other version'").fetchone()[0] == 1
    parsed = []
    real = readers.read_parsed
    monkeypatch.setattr(readers, "read_parsed", lambda *a, **k: parsed.append(a) or real(*a, **k))
    again = {t.id: t for t in qualkit.Workspace(ws.root).transcripts()}
    last = again["int0"].turns[-1]
    assert again["int0"].text[last.start:last.end] == "One more thing."
    assert parsed == []                                # every file is still a hit


def test_status_checks_themes_without_building_a_single_excerpt(sample_workspace, monkeypatch):
    import qualkit.analysis.sources as sources
    from qualkit.analysis.themes import check_themes

    ws = qualkit.Workspace(sample_workspace)
    ex = sources.load_excerpts(ws)
    built = check_themes(ws)                                           # counted from the excerpts built
    expected = {t.id: len({e.span for e in ex.excerpts if e.code in t.codes}) for t in built.themeset}
    assert built.excerpts == expected and any(expected.values())

    def no_excerpts(*args, **kwargs):
        raise AssertionError("an excerpt was built")

    monkeypatch.setattr(sources, "_lay_onto_turns", no_excerpts)
    st = qualkit.Workspace(sample_workspace).status()
    assert st.themes == built.summary()
    counted = check_themes(qualkit.Workspace(sample_workspace))
    assert counted.excerpts == expected
    assert [p.message for p in counted.problems] == [p.message for p in built.problems]
    assert counted.notes == built.notes


def test_each_session_looks_up_its_own_participant_rows(ws):
    """A dated participants.csv has a row per interview: each session must not scan them all."""
    from qualkit.analysis.summaries.sessions import session_info

    rows = ["transcript,speaker,participant_id,role,date", ",Interviewer,RT-1,interviewer,"]
    rows += [f"int{i},Maria,P{i},participant,2026-01-{i % 28 + 1:02d}" for i in range(30)]
    (ws.root / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = ws.participant_table

    class NoScan(list):
        def __iter__(self):
            raise AssertionError("every participants.csv row scanned")

    table.rows = NoScan(table.rows)
    for i in range(30):
        s = session_info(ws, ws.transcript(f"int{i}"))
        assert (s.participants, s.facilitators, s.date, s.kind) == ([f"P{i}"], ["RT-1"], f"2026-01-{i % 28 + 1:02d}", "interview")


def test_run_checks_the_consensus_once_and_sees_a_new_decision(sample_workspace, monkeypatch):
    """`run` asks for reconcile's dry run in its consensus step, the status, the report and the
    excerpts: it is made once while nothing changes, and made again when a decision is recorded."""
    import qualkit.analysis.reconcile as rec
    from qualkit.pipeline import run

    made = []
    real = rec._reconcile
    monkeypatch.setattr(rec, "_reconcile", lambda *a, **k: made.append(k["dry_run"]) or real(*a, **k))
    ws = qualkit.Workspace(sample_workspace)
    run(ws, use_cache=False)
    assert made == [True]
    first = rec.reconcile(ws, ws.config.coders[:2], dry_run=True)
    assert made == [True]
    key = first.undecided[0]
    rec.reconcile(ws, ws.config.coders[:2], decisions={key: "both"})   # recorded in the audit log
    assert made == [True, False]
    after = rec.reconcile(ws, ws.config.coders[:2], dry_run=True)
    assert made == [True, False, True] and key not in after.undecided and key in first.undecided
