"""A cold `qualkit ingest` parses each file to columns (issue 17: ingest within 3x a bare
read+decode+split): its workers make no Turn object, count a usual file's words in one pass over the
whole text, read a plain ASCII file in one pass, and write cache entries whose turns are packed;
every transcript, row and entry reads back exactly as before."""
from __future__ import annotations

import random

from qualkit.transcripts.model import Parsed, Transcript, Turn, count_words_in

LABELS = ["Interviewer", "P1", "Luis", "INTERVIEWER", "Dr. Smith", "O'Brien", "María José", "Speaker 2", "Ann", "FG1-P3",
          "x_y", "Q", "I", "Jo'Anne", "d'Arcy", "ann", "Note", "mom"]
WORDS = ["don't", "year", "'tis", "rock'n'roll", "café", "naïve", "x_y", "42", "it’s", "—", "...", "a:b", "e.g.", "O'Neil's",
         "ﬁne", "e\u0301", "'", "''", "_", "x'", "Q:", "9:", "’"]


def _interviews(seed: int, n: int) -> list[str]:
    """``n`` small interviews in the usual layout (labels with a colon, speech on the label's line) with
    awkward words: apostrophes, accents, digits, colons inside speech, labels left unsaid."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        labels = rng.sample(LABELS, rng.randint(1, 4))
        lines = []
        for _ in range(rng.randint(0, 30)):
            r = rng.random()
            if r < 0.15:
                lines.append(rng.choice(["", " ", "\t"]))
            elif r < 0.85:
                lines.append(rng.choice(["", " "]) * (rng.random() < 0.1) + rng.choice(labels) + rng.choice([": ", ":\t", " : ", ":", ":\n"])
                             + " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8))) + rng.choice(["", " ", "  \t"]))
            else:
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))))
        out.append("\n".join(lines))
    return out


def test_the_words_of_a_usual_file_counted_beside_its_labels_are_the_words_of_its_turns():
    """speakers._words_beside: the whole text's words less its labels' give the turns' words."""
    from qualkit.transcripts.speakers import segment, segment_columns

    counted = 0
    for text in _interviews(11, 3000):
        turns, warnings = segment(text)
        columns, warnings2, words = segment_columns(text)
        assert Transcript("x", text, turns, "txt", None, warnings) == Parsed("x", text, columns, "txt", None, warnings2).transcript()
        if words is not None:
            counted += 1
            assert words == count_words_in(text, [(t.start, t.end) for t in turns]), text
    assert counted > 1000  # (the rest: files with a one-off label, read line by line)


def test_a_worker_parses_a_usual_file_without_a_turn_object_and_writes_the_entry_a_transcript_would(tmp_path, monkeypatch):
    """The ingest command's workers parse to columns (read_parsed): 175,000 Turn objects at 1,000
    interviews were a fifth of a cold ingest. The entry and the row are those of the Transcript."""
    import pytest

    import qualkit.transcripts.model as model
    import qualkit.transcripts.speakers as speakers
    import qualkit.transcripts.turnbuild as turnbuild
    from qualkit.transcripts import read_parsed, read_transcript
    from qualkit.workspace.cache import pack, unpack

    rng = random.Random(3)
    files = []
    for i in range(40):
        f = tmp_path / f"int{i:02d}.txt"
        said = [f"{who}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
                for _ in range(rng.randint(2, 20)) for who in ("Interviewer", "Maria")]
        f.write_text("Recorded at the clinic.\n\n" + "\n\n".join(said) + "\n", encoding="utf-8")
        files.append(f)
    want = [read_transcript(f) for f in files]
    for module in (model, speakers, turnbuild):
        monkeypatch.setattr(module, "Turn", lambda *a: pytest.fail("a Turn was made"))
    got = [read_parsed(f) for f in files]
    monkeypatch.undo()
    back = [unpack(pack(p), f) for p, f in zip(got, files)]
    assert back == want and [t.word_count for t in back] == [t.word_count for t in want]
    assert all(p.words is not None for p in got)  # (counted on the way)


def test_the_ingest_rows_of_the_workers_are_those_of_one_process(tmp_path, monkeypatch, workers_on_small_studies):
    """Rows summed up from columns (turns, speakers, words, warnings: an unknown speaker, a document with
    none), in the workers or in this process, equal those of reading each file as a Transcript."""

    import qualkit
    from qualkit.workspace.scaffold import init

    rows = []
    for name, jobs, rows_only in (("serial", 1, True), ("parallel", 2, True), ("transcripts", 1, False)):
        root = init(tmp_path / name)
        (root / "participants.csv").write_text("transcript,speaker,participant_id\n,Interviewer,I1\n,Luis,P1\n", encoding="utf-8")
        (root / "documents.csv").write_text("document,source_type\nnotes,field notes\n", encoding="utf-8")
        (root / "transcripts" / "notes.txt").write_text("Visited the clinic.\n\nIt was closed.\n", encoding="utf-8")
        for i, text in enumerate(_interviews(5, 30)):
            (root / "transcripts" / f"int{i:02d}.txt").write_text("Interviewer: hi\nLuis: yes\n" + text, encoding="utf-8")
        ws = qualkit.Workspace(root)
        ws.jobs = jobs
        rows.append([r.as_dict() | {"path": r.path.name} for r in ws.ingest(rows_only=rows_only).rows])
    assert rows[0] == rows[1] == rows[2]
    assert any(r["warnings"] for r in rows[1]) and [r["warnings"] for r in rows[1] if r["id"] == "notes"] == [[]]


def test_a_file_reading_leaves_unchanged_is_decoded_in_one_pass_and_reads_as_before(tmp_path, monkeypatch):
    """read_text_file: an ASCII file with no control character and no CR, or a UTF-8 one typed in Word
    (curly quotes, dashes) that is NFC with no CR, control or separator, skips decode_bytes, NFC and the
    control scan; any other file takes them, and both give what decode_bytes and its followers give."""
    import pytest

    import qualkit.io.textdecode as td

    def slow(data: bytes):
        try:
            text, encoding, warnings = td.decode_bytes(data)
        except td.TranscriptError as exc:
            return exc.message
        text, note = td.replace_controls(td.normalize_text(text))
        return text, encoding, warnings + ([note] if note else [])

    rng = random.Random(2)
    parts = [b"word ", b"\n", b"P1: ", b"x", b"\t", b"  "]
    rare = [b"\r", b"\r\n", b"\x0b", b"\x0c", b"\x00", b"\x1b", b"\x7f", b"\xc3\xa9", b"\xff", b"\xef\xbb\xbf", b"\xe2\x80\xa8",
            *[c.encode() for c in "’“”‘—–…\u00a0\u0085\u2029\ufffe\uffff\u2126\u212b中é\u0301\u1100\u1161\u0340Ā"], b"\xe2\x80"]
    samples = [b"".join(rng.choice(rare) if rng.random() < 0.01 else rng.choice(parts) for _ in range(rng.randint(1, 300)))
               for _ in range(400)]
    for i, data in enumerate(samples):
        f = tmp_path / f"f{i}.txt"
        f.write_bytes(data)
        try:
            text, encoding, warnings, as_is = td.read_text_file_as_is(f)
            got = (text, encoding, warnings)
            assert as_is == (encoding == "utf-8" and text.encode("utf-8") == data), data
        except td.TranscriptError as exc:
            got = exc.message  # type: ignore[assignment]
        assert got == slow(data), data
    f = tmp_path / "plain.txt"
    f.write_bytes(b"Interviewer: How?\nMaria: Fine.\n")
    typed = tmp_path / "typed.txt"
    typed.write_bytes("Interviewer: Don’t you… “agree” — é?\nMaria: Fine.\n".encode())
    monkeypatch.setattr(td, "decode_bytes", lambda *a: pytest.fail("decoded by decode_bytes"))
    assert td.read_text_file(f) == ("Interviewer: How?\nMaria: Fine.\n", "utf-8", [])
    assert td.read_text_file_as_is(typed) == ("Interviewer: Don’t you… “agree” — é?\nMaria: Fine.\n", "utf-8", [], True)


def test_cache_entries_store_turn_numbers_packed_and_read_back_the_same(tmp_path):
    """A cache entry's offsets and lines are packed arrays, not JSON lists (most of the cost of writing
    and reading an entry's turns), its unset times and participants nothing at all; a new cache
    file has 16 KiB pages (a quarter less time writing a study's entries)."""
    import json
    import sqlite3

    from qualkit.transcripts import read_transcript
    from qualkit.workspace.cache import TranscriptCache, pack, unpack

    f = tmp_path / "int.txt"
    f.write_text("Interviewer: How?\nMaria: Fine, thanks.\n\nInterviewer: And then?\n", encoding="utf-8")
    t = read_transcript(f)
    data = pack(t)
    meta = json.loads(data.split(b"\x00")[1])
    assert meta["n"] == 3 and meta["turns"][0] == ["Interviewer", "Maria", "Interviewer"]
    assert [type(c).__name__ for c in meta["turns"][1:]] == ["str", "str", "NoneType", "NoneType", "str"]
    back = unpack(data, f)
    assert back == t and back.word_count == t.word_count == 5
    cache = TranscriptCache(tmp_path)
    assert cache.put("k", t, f, (1.0, 2))
    assert sqlite3.connect(cache.path).execute("PRAGMA page_size").fetchone()[0] == 16384


def test_the_one_pass_split_counts_numbered_lines_itself_and_splits_as_line_by_line(monkeypatch):
    """Court transcripts number their lines; the one-pass split finds such lines itself (no pass of its
    own over the text) and leaves a file with 13 or more to the line-by-line reading, as before; a few
    numbered lines give the turns of the line-by-line reading."""
    import pytest

    import qualkit.transcripts.speakers as speakers

    texts = ["".join(f"{n % 25 + 1:>2}   Q. Where were you? {n}\nMR. SMITH: ok\n" for n in range(20)),
             "Interviewer: How many?\n12 of them\nMaria: 3 more\n  7\tthen\nInterviewer: ok\nMaria: 12 x\n",
             "1 Interviewer: hi\n2 Maria: yes\nInterviewer: again\nMaria: no\n"]
    quick = speakers._quick
    want = []
    for text in texts:
        monkeypatch.setattr(speakers, "_quick", lambda text, known: None)
        want.append(speakers.segment(text))
    monkeypatch.setattr(speakers, "_quick", quick)

    class NoPass:
        def findall(self, text):
            pytest.fail("a pass over the text for numbered lines")

    monkeypatch.setattr(speakers, "_NUMBERED_LINE", NoPass())
    assert quick(texts[0], set()) is None
    assert [speakers.segment(text) for text in texts[1:]] == want[1:]


def _entries(ws) -> dict[str, bytes]:
    """What the on-disk cache keeps as each transcript's text (after an entry's second NUL), by file stem."""
    import sqlite3
    from pathlib import Path

    rows = sqlite3.connect(ws.disk_cache.path).execute("SELECT file, data FROM parsed").fetchall()
    return {Path(f).stem: bytes(data).split(b"\x00", 2)[2] for f, data in rows}


def test_a_plain_text_interview_is_not_copied_into_the_cache_and_reads_back_from_its_own_file(tmp_path, workers_on_small_studies):
    """The cache keeps a plain-text file read as it is (UTF-8 that reading changes in nothing) by the
    CRC-32 of its bytes, not a copy of its words: writing the texts was a tenth of a cold ingest, and it
    is one copy fewer of sensitive words. A file that reading changes (CRLF line ends, cp1252 accents, a
    byte-order mark, accents in decomposed form) keeps its text. Every one reads back as a fresh parse
    of its file, in one process or over workers."""
    import qualkit
    from qualkit.workspace.scaffold import init

    for jobs in (1, 2):
        root = init(tmp_path / f"jobs{jobs}")
        t = root / "transcripts"
        (t / "plain.txt").write_text("Interviewer: How do referrals arrive?\nMaria: By fax, mostly.\n", encoding="utf-8")
        (t / "crlf.txt").write_bytes(b"Interviewer: How?\r\nMaria: By fax.\r\n")
        (t / "accents.txt").write_text("Interviewer: \u00bfC\u00f3mo?\nMar\u00eda: Por fax.\n", encoding="cp1252")
        (t / "bom.md").write_bytes(b"\xef\xbb\xbfInterviewer: How?\nMaria: By fax.\n")
        (t / "utf8.txt").write_text("Interviewer: \u00bfC\u00f3mo?\nMar\u00eda: Por fax \u2014 it\u2019s slow.\n", encoding="utf-8")
        (t / "nfd.txt").write_text("Interviewer: How?\nJose\u0301: By fax.\n", encoding="utf-8")
        ws = qualkit.Workspace(root)
        ws.jobs = jobs
        ws.ingest()
        kept = _entries(ws)
        assert set(kept) == {"plain", "crlf", "accents", "bom", "utf8", "nfd"}
        assert all(b"fax" not in kept[name] and kept[name].startswith(b"C") for name in ("plain", "utf8"))
        assert all(b"fax" in kept[name] for name in ("crlf", "accents", "bom", "nfd"))
        again = qualkit.Workspace(root)
        for path in again.transcript_paths():
            got, want = again.read(path), qualkit.read_transcript(path)
            assert (got.text, [(u.speaker, u.start, u.end) for u in got.turns], got.word_count) == \
                   (want.text, [(u.speaker, u.start, u.end) for u in want.turns], want.word_count)


def test_a_file_changed_behind_the_same_time_and_size_is_read_again_not_taken_from_the_cache(tmp_path):
    """An edit that keeps a file's size, its modification time then put back (a copy that preserves
    times), leaves the cache's key as it was; the file's CRC no longer matches, so the entry is a miss
    and the transcript is what the file now says: never new words under the old turns."""
    import os

    import qualkit
    from qualkit.workspace.scaffold import init

    root = init(tmp_path / "ws")
    f = root / "transcripts" / "int1.txt"
    said = "Interviewer: How do referrals arrive?\nMaria: By {}.\nInterviewer: Always?\nMaria: Mostly.\n"
    f.write_text(said.format("fax"), encoding="utf-8")
    qualkit.Workspace(root).ingest()
    st = f.stat()
    f.write_text(said.format("car"), encoding="utf-8")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    t = qualkit.Workspace(root).read(f)
    assert t.turn_text(t.turns[1]) == "By car."
    assert "By car." in qualkit.Workspace(root).ingest().transcripts[0].text


def test_a_long_interviews_speaker_labels_are_kept_once_each_with_each_turns_index(tmp_path):
    """Labels repeat on every turn; an entry keeps each distinct label once (None for an unlabelled turn)
    and each turn's index among them, packed: JSON strings per turn were the largest part of writing an
    entry's turns. Labels said once or twice each stay a plain list. Both read back as they were."""
    import json

    from qualkit.workspace.cache import pack, unpack

    f = tmp_path / "int.txt"
    f.write_text("x", encoding="utf-8")
    said = [Turn(i, who, 10 * i, 10 * i + 5, None, None, i + 1)
            for i, who in enumerate([None] + ["Interviewer", "María", "Dr. O'Neil"] * 10)]
    text = "".join(f"{i:<10}" for i in range(len(said)))
    few = [Turn(0, "Ann", 0, 5, None, None, 1), Turn(1, "Bo", 10, 15, None, None, 2)]
    for turns, packed in ((said, True), (few, False)):
        t = Transcript("int", text, turns, "txt", "utf-8", [], f)
        stored = json.loads(pack(t).split(b"\x00")[1])["turns"][0]
        assert (stored[0] == [None, "Interviewer", "María", "Dr. O'Neil"] and isinstance(stored[1], str)) if packed \
            else stored == ["Ann", "Bo"]
        assert unpack(pack(t), f) == t


def test_ingest_on_one_core_parses_to_columns_and_a_second_ingest_reads_nothing(tmp_path, monkeypatch):
    """`qualkit ingest` in one process (QUALKIT_JOBS=1, a small study, no fork) parses each file as a
    worker would, to columns written to the cache (no Turn object: half the time of a Transcript each),
    and the next command finds every parse there."""
    import pytest

    import qualkit
    import qualkit.transcripts as readers
    import qualkit.transcripts.model as model
    import qualkit.transcripts.plaintext  # noqa: F401  (imported before Turn is replaced below)
    import qualkit.transcripts.speakers as speakers
    import qualkit.transcripts.turnbuild as turnbuild
    import qualkit.workspace.cache  # noqa: F401
    from qualkit.workspace.scaffold import init

    root = init(tmp_path / "ws")
    rng = random.Random(11)
    for i in range(12):
        said = [f"{who}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(8) for who in ("Interviewer", "Luis")]
        (root / "transcripts" / f"int{i:02d}.txt").write_text("\n".join(said) + "\n", encoding="utf-8")
    ws = qualkit.Workspace(root)
    ws.jobs = 1
    for module in (model, speakers, turnbuild):
        monkeypatch.setattr(module, "Turn", lambda *a: pytest.fail("a Turn was made"))
    result = ws.ingest(rows_only=True)
    monkeypatch.undo()
    assert len(result.rows) == 12 and not result.errors
    parsed = []
    real = readers.read_parsed
    monkeypatch.setattr(readers, "read_parsed", lambda *a, **k: parsed.append(a) or real(*a, **k))
    again = qualkit.Workspace(root)
    assert [t.id for t in again.transcripts()] == [r.id for r in result.rows] and parsed == []


def test_a_second_ingest_reports_each_file_from_its_cache_entry_without_reading_it_back(tmp_path, monkeypatch):
    """`qualkit ingest` on a study whose parses the cache holds sums each file up from its entry's header,
    warnings and speakers (no Turn, no text decoded): the same rows as the first ingest (an unknown
    speaker, a document with none, a file kept as text, a file typed in Word); a file changed behind the
    same time and size is read again and reported as it now is."""
    import os

    import pytest

    import qualkit
    import qualkit.transcripts as readers
    import qualkit.workspace.cache as cache
    from qualkit.workspace.scaffold import init

    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id\n,Interviewer,I1\n", encoding="utf-8")
    (root / "documents.csv").write_text("document,source_type\nnotes,field notes\n", encoding="utf-8")
    files = {"notes.txt": "Visited the clinic.\n\nIt was closed.\n",
             "crlf.txt": "Interviewer: Hi?\r\nLuis: Yes, by fax.\r\nInterviewer: Ok?\r\nLuis: Yes.\r\n",
             "word.txt": "Interviewer: Don’t you “agree” — really?\nLuis: I’d say so…\nInterviewer: Why?\nLuis: Trust.\n",
             "plain.txt": "Interviewer: How?\nLuis: By fax.\nInterviewer: Always?\nLuis: Mostly.\n"}
    for name, text in files.items():
        (root / "transcripts" / name).write_bytes(text.encode("utf-8"))
    first = qualkit.Workspace(root)
    first.jobs = 1
    rows = [r.as_dict() for r in first.ingest(rows_only=True).rows]
    assert [r["words"] for r in rows] == [6, 6, 5, 9] and any(r["warnings"] for r in rows)

    monkeypatch.setattr(cache, "_decode", lambda *a: pytest.fail("a transcript was read back"))
    monkeypatch.setattr(readers, "read_parsed", lambda *a, **k: pytest.fail("a file was parsed"))
    again = qualkit.Workspace(root)
    again.jobs = 1
    assert [r.as_dict() for r in again.ingest(rows_only=True).rows] == rows
    monkeypatch.undo()

    plain = root / "transcripts" / "plain.txt"
    st = plain.stat()
    plain.write_text("Interviewer: How?\nLuis: By f x.\nInterviewer: Always?\nLuis: Mostly.\n", encoding="utf-8")  # (the same size)
    os.utime(plain, ns=(st.st_atime_ns, st.st_mtime_ns))
    edited = qualkit.Workspace(root)
    edited.jobs = 1
    assert [r.words for r in edited.ingest(rows_only=True).rows if r.id == "plain"] == [6]


def test_a_text_that_begins_with_a_nul_and_a_file_gone_since_its_parse_read_back_safely(tmp_path):
    """An entry's text is tagged, so a text of any first character (an RTF's \\'00 becomes a NUL) reads back
    as itself; a text kept as its file's CRC whose file is gone, renamed or locked by the time it is read
    back is a miss (None), not an error."""
    from qualkit.transcripts import read_parsed
    from qualkit.workspace.cache import TranscriptCache, pack, unpack

    f = tmp_path / "int.txt"
    f.write_text("Interviewer: How?\nMaria: By fax.\nInterviewer: Always?\nMaria: Mostly.\n", encoding="utf-8")
    t = read_parsed(f).transcript()
    odd = Transcript("odd", "\x00" + t.text, [Turn(i, u.speaker, u.start + 1, u.end + 1, None, None, u.line)
                                              for i, u in enumerate(t.turns)], "rtf", None, [], tmp_path / "odd.rtf")
    cache = TranscriptCache(tmp_path)
    assert cache.put("k", odd, odd.path, (1.0, 2)) and cache.get("k") == odd and cache.get_text("k") == odd.text
    data = pack(read_parsed(f))
    f.rename(tmp_path / "moved.txt")
    assert unpack(data, f) is None
