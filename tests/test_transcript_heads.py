"""Interview dates without reading each transcript a second time (issue 17, `matrix saturation` at 5,000).

A large study's command holds a few hundred transcripts at a time (the memo's budget); a second pass
over every transcript decodes each again from the on-disk cache. `matrix saturation` made such a pass
for the interview dates after collecting its excerpts: 1.8 s of 5,000 interviews, and its cost grew
faster than the study. Here the memo holds one transcript, as a 5,000-interview study's does at the
end of a pass, and the tests count how often a transcript's whole parse is decoded."""
from __future__ import annotations

from pathlib import Path

import pytest

import qualkit
import qualkit.workspace.cache as cache_mod
from qualkit.analysis.matrices import build_matrix, transcript_dates
from qualkit.coding.anchoring import anchored_codings
from qualkit.workspace.cache import HEAD_CHARS, TranscriptHead, pack, unpack
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.heads import head_in, read_head
from qualkit.workspace.scaffold import init

N = 8
PEOPLE = ["Maria", "Sam", "Ann", "Bo"]


def _study(tmp_path: Path, *, dates_in_csv: bool) -> Path:
    """N interviews; the date of each in participants.csv, or on a "Date:" line above the first turn."""
    root = init(tmp_path / "study")
    (root / "qualkit.yaml").write_text("project: Dates\ncoders: [ana]\ncodebook: cb\n")
    rows = ["transcript,speaker,participant_id,role" + (",date" if dates_in_csv else ""),
            ",Interviewer,RT-1,interviewer" + ("," if dates_in_csv else "")]
    w = None
    codings = []
    for i in range(N):
        tid, who, day = f"int{i + 1}", PEOPLE[i % len(PEOPLE)], f"2024-03-{N - i:02d}"  # the last file was first
        rows.append(f"{tid},{who},P{i},participant" + (f",{day}" if dates_in_csv else ""))
        head = "" if dates_in_csv else f"Site visit notes\nDate: {day}\n\n"
        text = head + f"Interviewer: How do referrals reach you?\n{who}: By fax, days late, number {i}.\n"
        (root / "transcripts" / f"{tid}.txt").write_text(text)
        start = text.index("By fax")
        codings.append(Coding(tid, start, start + 6, "fax" if i % 2 else "late", "By fax"))
    (root / "participants.csv").write_text("\n".join(rows) + "\n")
    save_codebook(Codebook("cb", "Codebook", [Code("fax", "Fax"), Code("late", "Late")]), root / "codebooks" / "cb.yaml")
    w = qualkit.Workspace(root)
    w.write_codings("ana", codings)
    w.ingest()  # every parse in the on-disk cache, and the codings' anchoring verdicts kept, as after any first command
    anchored_codings(w, "ana")
    return root


def _tight(root: Path) -> qualkit.Workspace:
    """The workspace as a 5,000-interview command sees it: its memo holds one transcript at a time."""
    w = qualkit.Workspace(root)
    w._cache.budget = 1
    return w


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The id of every transcript whose whole parse is decoded from the on-disk cache, from now on."""
    seen: list[str] = []
    real = cache_mod._decode

    def counted(blob: bytes, file: str):
        t = real(blob, file)
        if t is not None:
            seen.append(t.id)
        return t

    monkeypatch.setattr(cache_mod, "_decode", counted)
    return seen


@pytest.mark.parametrize("dates_in_csv", [True, False], ids=["participants.csv dates", "Date: lines"])
def test_saturation_decodes_each_transcript_once_where_the_memo_holds_few(tmp_path, decodes, dates_in_csv):
    root = _study(tmp_path, dates_in_csv=dates_in_csv)
    result = build_matrix(_tight(root), "saturation", coder="ana", base=2, run=1)
    assert list(result.frame["transcript"]) == [f"int{i}" for i in range(N, 0, -1)]  # by date, not by name
    assert sorted(decodes) == sorted(f"int{i + 1}" for i in range(N))  # once each, for its excerpts
    where = "participants.csv 'date' column" if dates_in_csv else "'Date:' lines in the transcripts"
    assert result.saturation.order_source == f"interview date ({where})"


def test_dates_from_headers_are_the_dates_from_the_transcripts_themselves(tmp_path, decodes):
    root = _study(tmp_path, dates_in_csv=False)
    w = _tight(root)
    ids = {p.stem: w.read(p) for p in w.transcript_paths()}  # the transcripts themselves, in hand
    decodes.clear()
    from_headers = transcript_dates(w, _by_id(w))
    assert decodes == []  # not one turn decoded
    assert from_headers == transcript_dates(w, ids)


def _by_id(w: qualkit.Workspace):
    from qualkit.workspace.ingest import TranscriptsById

    return TranscriptsById(w, {p.stem: p for p in w.transcript_paths()})


def test_a_header_says_what_the_transcript_says(tmp_path):
    root = _study(tmp_path, dates_in_csv=False)
    w = _tight(root)
    path = w.transcript_paths()[2]
    t = w.read(path)
    w._cache = type(w._cache)(budget=1)  # forgotten: the header comes from the on-disk cache
    head = read_head(w, path)
    assert head == TranscriptHead.of(t)
    assert (head.id, head.turns, head.words, head.labels) == (t.id, len(t.turns), t.word_count, (None, "Interviewer", "Ann"))
    assert head.before_first_turn() == t.text[:t.turns[1].start] == "Site visit notes\nDate: 2024-03-06\n\nInterviewer: "
    assert unpack(pack(t), path).text == t.text and unpack(pack(t), path).turns == t.turns  # the entry reads back whole


def test_a_preamble_longer_than_a_header_holds_is_read_from_the_transcript(tmp_path):
    root = _study(tmp_path, dates_in_csv=False)
    long = "Notes. " * (HEAD_CHARS // 5)
    (root / "transcripts" / "int1.txt").write_text(f"{long}\nDate: 2023-12-24\n\nInterviewer: Hello?\nMaria: Hi.\n")
    w = _tight(root)
    head = head_in(w, _by_id(w), "int1")
    assert head.lead is not None and head.lead > HEAD_CHARS and head.before_first_turn() is None
    dates, _ = transcript_dates(w, _by_id(w))
    assert dates["int1"].isoformat() == "2023-12-24"  # found in the transcript itself


def test_a_document_without_speakers_keeps_its_opening_text_as_its_header():
    from qualkit.transcripts.model import Transcript, Turn

    text = "Field notes\nDate: 2024-05-01\n" + "We walked the site. " * 400
    t = Transcript("notes", text, [Turn(0, None, 0, len(text))], "text")
    head = TranscriptHead.of(t)
    assert head.lead is None and head.labels == (None,) and len(head.head) == HEAD_CHARS
    assert head.before_first_turn(2000) == text[:2000]
    assert head.before_first_turn() is None  # the whole text: more than a header holds


def test_the_report_counts_turns_and_timestamps_as_ingest_reads_each_transcript(sample_workspace, monkeypatch):
    """COREQ's double-coded turns and interview lengths walked every transcript twice more: at 5,000
    interviews 15,000 decodes of the report's 40,000. They are counted in the report's first pass."""
    import dataclasses

    from qualkit.reporting.checklists import interview_durations
    from qualkit.reporting.report import coreq_section
    from qualkit.reporting.study import load_study

    ws = qualkit.Workspace(sample_workspace)
    study = load_study(ws)
    coreq_section(study, {})  # its consensus status (a reconcile dry run, which reads the texts) is kept for the command
    reads: list = []
    real = type(ws).read
    monkeypatch.setattr(type(ws), "read", lambda self, path: reads.append(path) or real(self, path))
    section, minutes = coreq_section(study, {}), interview_durations(study)
    assert reads == []  # not one transcript read again
    counted_from_turns = dataclasses.replace(study, turn_facts={})
    assert coreq_section(counted_from_turns, {}).data == section.data  # the same figures
    assert interview_durations(counted_from_turns) == minutes and len(minutes) >= 3  # the subtitle files' lengths
    assert any("participant turns" in row["figure"] for row in section.data["rows"])
