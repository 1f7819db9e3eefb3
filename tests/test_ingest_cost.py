"""What `qualkit ingest` costs on a large study (issue 17: ingest within 3x a bare read+decode+split),
with exactly the answers it gave before: word counts, control characters, speaker turns."""
from __future__ import annotations

import random
import re

from qualkit.io.textdecode import replace_controls
from qualkit.transcripts.model import Transcript, Turn, count_words, count_words_in

# The definition of a word, written out here as qualkit.transcripts.words.WORD says it: runs of word
# characters, contractions whole (a copy, so that the tests hold the library to it).
WORD = re.compile(r"\w+(?:['’]\w+)*")


def test_the_word_pattern_is_the_one_the_library_states():
    from qualkit.transcripts.words import WORD as stated

    assert stated.pattern == WORD.pattern


def test_word_counts_are_those_of_the_word_pattern_for_every_character():
    # each character alone (a word exactly when it is \w): all of the BMP, every 7th beyond it
    everything = " ".join(map(chr, [*range(0x10000), *range(0x10000, 0x110000, 7)]))
    assert count_words(everything) == len(WORD.findall(everything))


def test_word_counts_of_turns_on_awkward_text_match_the_word_pattern():
    rng = random.Random(17)
    pieces = ["a", "Z", "9", "_", "'", "’", "''", " ", "\n", ".", "-", "é", "ß", "中", "²", "‘", "\u00a0", "\U0001F600", "\u0301"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        spans = [(rng.randint(0, len(text)), rng.randint(0, len(text))) for _ in range(3)]
        assert count_words_in(text, spans) == sum(len(WORD.findall(text, s, e)) for s, e in spans), (text, spans)


def test_a_whole_texts_word_count_with_apostrophes_anywhere_is_that_of_the_word_pattern():
    """count_words finds the apostrophes that join words without marking them in passes over the text
    (chains like rock'n'roll, apostrophes doubled, leading or trailing, curly or straight)."""
    rng = random.Random(29)
    pieces = ["a", "Z", "9", "_", "'", "’", "''", " ", "\n", ".", "é", "中", "\u0301", "n't", "rock'n'roll", "'tis", "x'", "“", "—", "…"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        assert count_words(text) == len(WORD.findall(text)) == count_words_in(text, [(0, len(text))]), text


def test_a_long_interview_typed_in_word_counts_as_the_word_pattern_does():
    """Curly quotes, dashes, ellipses and contractions by the hundred (what a transcript that passed
    through Word holds), letters beyond Latin-1 among them: the count of the whole text and of its turns."""
    rng = random.Random(41)
    pieces = ["we", "don’t", "it's", "“really”", "—", "–", "…", "‘so’", "l’école", "Zoë", "Łukasz", "中文", "x'", "''", "9"]
    text = "\n".join(" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(2000))
    assert count_words(text) == len(WORD.findall(text))
    spans = [(i, i + 500) for i in range(0, len(text), 700)]
    assert count_words_in(text, spans) == sum(len(WORD.findall(text, s, e)) for s, e in spans)


def test_a_transcripts_word_count_is_its_turns_words():
    text = "I: Don't you think it's 'fine'?\nP1: Rock’n’roll isn't -- well... l'école, 中文 ok."
    turns = [Turn(0, "I", 3, 31), Turn(1, "P1", 36, len(text))]
    assert Transcript("t", text, turns, "txt").word_count == 5 + 6


def test_control_characters_are_found_alike_in_plain_ascii_and_other_text():
    for code in range(0x100):
        ch = chr(code)
        for text in (f"ab{ch}cd\n", f"ab{ch}cd é\n"):  # the ASCII fast path and the general one
            want = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", " ", text)
            got, note = replace_controls(text)
            assert got == want and (note is None) == (want == text), (code, text)


def test_control_characters_are_counted_alike_in_any_text_as_the_regex_counts_them():
    """Counted in UTF-8 bytes (one byte each for C0 and DEL, 0xC2 and one for C1): no byte of another
    character may pass for one (no-break space is 0xC2 0xA0, Ā is 0xC4 0x80, a curly quote 0xE2 0x80 0x99)."""
    from qualkit.io.textdecode import _CONTROL, _NOT_CONTROL, _NOT_CONTROLS, _controls_in

    rng = random.Random(5)
    pieces = [chr(c) for c in [*range(0x00, 0xA1), 0xAD, 0xC2, 0x100, 0x2019, 0xFFFE, 0xFFFF, 0x1F600]] + ["\udc80", "word "]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        assert _controls_in(text, _NOT_CONTROL) == len(_CONTROL.findall(text)), repr(text)
        assert _controls_in(text, _NOT_CONTROLS) == len(re.findall(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)), repr(text)
        want = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]", " ", text)
        assert replace_controls(text)[0] == want, repr(text)


def test_the_characters_read_as_nfc_without_asking_unicodedata_are_so_wherever_they_stand():
    """A Word-typed file is taken as NFC when it holds nothing but characters below U+0300 and Word's
    curly quotes, dashes and ellipsis: none composes with or reorders against any of them, in either order."""
    import unicodedata

    from qualkit.io.textdecode import _INERT_MARKS, _surely_nfc

    inert = [chr(c) for c in range(0x300)] + sorted(m.decode() for m in _INERT_MARKS)
    for b in inert:
        assert unicodedata.is_normalized("NFC", "".join(a + b for a in inert)), repr(b)
    assert "’" in inert and "\u2028" not in inert and "\u2029" not in inert  # (normalize_text makes those newlines)
    # the byte regex lets through exactly those marks among every three bytes that begin with 0xE2
    passed = {bytes((0xE2, a, b)) for a in range(0x80, 0xC0) for b in range(0x80, 0xC0) if _surely_nfc(bytes((0xE2, a, b)))}
    assert passed == _INERT_MARKS and not _surely_nfc(b"\xe2\x80") and not _surely_nfc(b"\xe2")
    rng = random.Random(11)
    pool = inert[::7] + list("\u0301\u0300\u0340\u2126\u212b\u1100\u1161中\u00a0\u2028ﬁ")
    for _ in range(5000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        if _surely_nfc(text.encode("utf-8", "surrogatepass")):
            assert unicodedata.is_normalized("NFC", text), repr(text)
    assert _surely_nfc("Don’t — “so” … é".encode()) and not _surely_nfc("e\u0301".encode())


def test_numbered_court_lines_are_recognised_by_the_quick_scan_as_line_by_line():
    from qualkit.transcripts.speakers import _numbered

    court = "".join(f"{n % 25 + 1:>2}   Q. Where were you? {n}\n" for n in range(40))
    mixed = court.replace("\n", "\nJUSTICE SCALIA: Yes.\n", 15)   # 40 numbered of 55 lines: still over 60%
    few = "".join(f"{n} apples\n" for n in range(12)) + "Maria: no.\n" * 8     # 12 numbered of 20: too few
    prose = "Interviewer: How?\n\nMaria: 12 of them. 3 more.\n" * 30
    for text in (court, mixed, few, prose, " 7\tx\n" * 30, "\t12 \n" * 30, "", "1 x"):
        lines = text.split("\n")
        assert _numbered(lines, text) == _numbered(lines, None), text[:40]
    assert _numbered(court.split("\n"), court) and not _numbered(few.split("\n"), few)


def _short_interviews(tmp_path, n: int):
    """A workspace of ``n`` two-turn interviews, read in this process (one job)."""
    import qualkit
    from qualkit.workspace.scaffold import init

    root = init(tmp_path / "ws")
    for i in range(n):
        (root / "transcripts" / f"int{i:03d}.txt").write_text(f"Interviewer: How?\nMaria: Case {i}.\n", encoding="utf-8")
    ws = qualkit.Workspace(root)
    ws.jobs = 1
    return ws


def test_an_ingest_writes_its_parses_in_a_few_transactions_and_a_new_command_finds_them(tmp_path, monkeypatch):
    import qualkit
    import qualkit.workspace.cache as cache_mod

    ws = _short_interviews(tmp_path, 150)
    root = ws.root
    ws.disk_cache._connect()
    commits = []
    ws.disk_cache._db.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    assert len(ws.ingest().transcripts) == 150
    assert 2 <= len(commits) <= 4                              # 150 entries, 64 a transaction: not 150 commits
    assert not ws.disk_cache._db.in_transaction                # all of them written when ingest returns
    parsed = []
    monkeypatch.setattr(cache_mod, "_decode", lambda blob, file, real=cache_mod._decode: parsed.append(1) or real(blob, file))
    again = qualkit.Workspace(root)
    assert [t.text for t in again.ingest().transcripts] == [t.text for t in ws.ingest().transcripts]
    assert len(parsed) == 150                                  # every one read back from the cache


def test_the_ingest_command_reads_with_the_garbage_collector_paused(make_workspace, run_cli, monkeypatch):
    import gc

    import qualkit.workspace.store as store

    make_workspace(transcripts={"int1": "Interviewer: How?\nMaria: By fax.\n"})
    seen = []
    real = store.Workspace.ingest
    monkeypatch.setattr(store.Workspace, "ingest", lambda self, *a, **k: seen.append(gc.isenabled()) or real(self, *a, **k))
    result = run_cli("ingest")
    assert result.exit_code == 0 and "1 transcript, 2 turns" in result.output
    assert seen == [False] and gc.isenabled()                  # paused while reading, on again after


def test_a_missing_file_a_folder_and_an_empty_file_are_named_as_before(tmp_path):
    import pytest

    import qualkit
    from qualkit.errors import TranscriptError

    (tmp_path / "folder.txt").mkdir()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    for name, why in (("nope.txt", "no such file"), ("dangling.txt", "no such file"),
                      ("folder.txt", "is a folder, not a transcript file"), ("empty.txt", "file is empty")):
        with pytest.raises(TranscriptError, match=why):
            qualkit.read_transcript(tmp_path / name)


def test_a_cached_transcript_comes_back_exactly_as_it_was_parsed(tmp_path):
    from pathlib import Path

    from qualkit.workspace.cache import pack, unpack

    text = "Q: Où? \x00 « ok »\nR: 中文 done\n"
    turns = [Turn(0, "Q", 3, 13, 1.5, "P-1", 1), Turn(1, None, 16, 23, None, None, None),
             Turn(2, "Ré \"x\"", 24, 2**40, 0.0, None, 2**31)]
    for t in (Transcript("t1", text, turns, "txt", "utf-8", ["a warning"], Path(tmp_path / "t1.txt"), "teams"),
              Transcript("t2", "x", [], "docx"), Transcript("t3", text, turns[:2], "md")):  # (t1: an offset past 2**31)
        back = unpack(pack(t), tmp_path / "t1.txt")
        assert back == t and back.word_count == t.word_count
        assert [type(u.start) for u in back.turns] == [int] * len(t.turns)


def test_labels_written_several_ways_are_warned_about_in_order_of_first_use():
    from qualkit.transcripts.speakers import segment

    text = "John: Hi.\nMaria: Hello.\nJOHN: Again.\nmaria: Yes.\nJohn: Bye.\nMaria: Bye.\n"
    _turns, warnings = segment(text)
    assert warnings == ["speaker written several ways: JOHN, John (map them in participants.csv)",
                        "speaker written several ways: Maria, maria (map them in participants.csv)"]


def test_an_interrupted_ingest_leaves_the_cache_open_to_other_writers(tmp_path, monkeypatch):
    import sqlite3

    import pytest

    import qualkit.workspace.ingest as ingest_mod

    ws = _short_interviews(tmp_path, 10)
    real, seen = ingest_mod.read_one, []

    def read_then_stop(w, path):
        if len(seen) == 5:
            raise KeyboardInterrupt  # the user presses Ctrl-C halfway
        seen.append(path)
        return real(w, path)

    monkeypatch.setattr(ingest_mod, "read_one", read_then_stop)
    with pytest.raises(KeyboardInterrupt):
        ws.ingest()
    assert not ws.disk_cache._db.in_transaction              # no write lock held by this process
    other = sqlite3.connect(ws.disk_cache.path, timeout=0)   # another process writes at once
    other.execute("DELETE FROM parsed WHERE key = 'none'")
    other.commit()
    assert other.execute("SELECT COUNT(*) FROM parsed").fetchone()[0] == 5   # what was read is kept


def test_a_parallel_ingest_larger_than_memory_reads_each_parse_back_once(tmp_path, monkeypatch, workers_on_small_studies):
    import qualkit
    import qualkit.workspace.cache as cache_mod
    from qualkit.workspace.scaffold import init

    roots = []
    for name in ("serial", "parallel"):
        root = init(tmp_path / name)
        for i in range(40):
            (root / "transcripts" / f"int{i:02d}.txt").write_text(f"Interviewer: How?\nMaria: Case {i}, " + "words " * 200 + "\n",
                                                                  encoding="utf-8")
        roots.append(root)
    one = qualkit.Workspace(roots[0])
    one.jobs = 1
    many = qualkit.Workspace(roots[1])
    many.jobs = 2
    many._cache.budget = 10_000          # memory for a few transcripts of the 40, as 5,000 interviews are to 64 MB
    decoded = []
    monkeypatch.setattr(cache_mod, "_decode", lambda blob, file, real=cache_mod._decode: decoded.append(1) or real(blob, file))
    got = many.ingest()
    assert len(decoded) == 40             # each parse unpacked once: in the workers' batch or read back, never both
    want = one.ingest()
    assert [(t.id, t.text, [(u.speaker, u.start, u.end) for u in t.turns], t.word_count) for t in got.transcripts] == \
           [(t.id, t.text, [(u.speaker, u.start, u.end) for u in t.turns], t.word_count) for t in want.transcripts]


def test_a_usual_transcript_is_split_in_one_pass_into_the_same_turns_as_line_by_line(monkeypatch):
    """Issue 17: in a file with no time and no "[" the label lines are found by one regex over the whole
    text (speakers._quick), and if every one fits the file's convention it is split as they are found;
    otherwise (a one-off label) they are decided on the label lines found. Files with times, brackets or
    numbered lines are read line by line. Every way gives the same turns and warnings."""
    import pytest

    import qualkit.transcripts.speakers as speakers

    layouts = [
        "Interviewer: How do referrals arrive?\n\nMaria: By fax.\n  Mostly.  \n\nInterviewer: Always?\nMaria:\tYes \n",
        "Intro before any label\n\nINTERVIEWER\nHow long?\n\nMARIA\nTen years.\n\nINTERVIEWER\nThanks.",
        "### Interviewer\nFirst question\n\n### Maria\nAnswer one\nand two\n\n### Interviewer\n",
        "**Ana:** hello\n**Ben:** hi\n**Ana:** bye\n**Ben**: later\n",
        "[00:00:01] Ana: hi\n[00:00:05] Ben: hello there\n[00:00:09] Ana: ok\n",
        "[Speaker 1] one\n[Speaker 2] two\n[Speaker 1] three\n",
        "<v Ann Lee>hello</v>\n<v Bo>hi</v>\n",
        "Speaker 1  0:03\nHello.\n\nSpeaker 2  0:09\nHi.\n",
        "I: Q1 #00:00:12-3#\nB: Answer #00:00:20-1#\nI: Q2\n",
        "Interviewer: Hi.\n[00:01:02]\nMaria: Hello.\nInterviewer: again\n",         # a time-only line
        "Interviewer: Hi.\nMaria: Hello.\nInterviewer: Who else?\nDolores: Me.\n",        # a one-off speaker
        "John: Hi.\nJOHN: Again.\nJohn: Bye.\n",
        "no labels at all\n\njust paragraphs\n",
        # the one-pass split's edge cases: a line that is no label inside a turn, a label with nothing said,
        # whitespace that is not a space after the colon, two spaces before it, labels of two kinds
        "Interviewer: Hi.\nso the thing is: we left\nMaria: ok\nInterviewer: bye\nMaria: x",
        "Interviewer:\xa0\nMaria: hi\nInterviewer:\nMaria: yes\xa0 \n\n\nInterviewer: again \n",
        "Interviewer  : Hi\nMaria: yes\nInterviewer: a\nMaria: b\n",
        "INTERVIEWER\nHow long?\nMARIA: Ten years.\n\nINTERVIEWER\n\n  Thanks.\nMARIA: bye #\n",
        "  Interviewer: indented\n\tMaria:\tand tabbed\nInterviewer: ok\nMaria: end>",
    ]
    quick = speakers._quick
    for text in layouts:
        for known in ((), ("Dolores",)):
            monkeypatch.setattr(speakers, "_quick", quick)
            fast = speakers.segment(text, known_speakers=known)
            monkeypatch.setattr(speakers, "_quick", lambda text, known: None)
            assert fast == speakers.segment(text, known_speakers=known), text
    monkeypatch.setattr(speakers, "_quick", quick)
    # a file the one pass does not fit is decided on the label lines it found: none is looked for again
    monkeypatch.setattr(speakers, "_find_candidates", lambda *a: pytest.fail("label lines looked for line by line"))
    for text in layouts[:4] + layouts[10:]:  # labels with a colon, alone on a line, as headings, bold
        speakers.segment(text)
    assert quick(layouts[4], set()) is None                          # a time somewhere: line by line
    numbered = "".join(f"{i} Q: line {i}\n" for i in range(1, 30))    # court-reporter style: line by line
    assert quick(numbered, set()) is None


def test_words_alone_are_read_back_without_decoding_turns_once_memory_is_full(tmp_path, monkeypatch):
    """Issue 17: a walk over every transcript's text (quotes read back, a unit's words) after the memo
    is full read each parse back whole at 5,000 interviews (10,000 decodes of turns in `disagreements`);
    the text alone is now read from the cache entry, the same words."""
    import qualkit.workspace.cache as cache_mod
    from qualkit.workspace.ingest import iter_texts

    ws = _short_interviews(tmp_path, 30)
    ws._cache.budget = 3_000              # a few of the 30 kept, as 64 MB is to 5,000 interviews
    want = {t.id: t.text for t in ws.ingest().transcripts}
    decoded = []
    monkeypatch.setattr(cache_mod, "_decode", lambda blob, file, real=cache_mod._decode: decoded.append(1) or real(blob, file))
    assert dict(iter_texts(ws)) == want
    assert decoded == []


def test_the_ingest_command_has_its_workers_write_the_parses_and_send_back_only_the_rows(tmp_path, monkeypatch, workers_on_small_studies):
    """Issue 17 (cold ingest <= 3x a bare read): the workers of `qualkit ingest` write their files' cache
    entries themselves, so a study's text is not sent through a pipe for this process to write. The rows
    are those of one process, and a second command finds every parse."""
    import pytest

    import qualkit
    from qualkit.workspace.scaffold import init

    rows = []
    for name, jobs in (("serial", 1), ("parallel", 2)):
        root = init(tmp_path / name)
        for i in range(30):
            (root / "transcripts" / f"int{i:02d}.txt").write_text(f"Interviewer: How?\nMaria: Case {i}, " + "words " * 50 + "\nZed: hi\n",
                                                                  encoding="utf-8")
        ws = qualkit.Workspace(root)
        ws.jobs = jobs
        if jobs > 1:  # this process writes nothing: a write here fails the test
            monkeypatch.setattr(ws.disk_cache, "put", lambda *a, **k: pytest.fail("a parse written by this process"))
        rows.append([(r.as_dict() | {"path": r.path.name}) for r in ws.ingest(rows_only=True).rows])
    assert rows[0] == rows[1] and len(rows[1]) == 30 and rows[1][0]["warnings"]   # (Zed is not in participants.csv)
    again = qualkit.Workspace(tmp_path / "parallel")
    for reader in ("read_transcript", "read_parsed"):
        monkeypatch.setattr(f"qualkit.transcripts.{reader}", lambda *a, **k: pytest.fail("a file parsed again"))
    assert len(again.ingest().transcripts) == 30


def test_the_greedy_name_label_matches_what_the_lazy_one_does():
    """Issue 17: the one-pass split takes a "Name:" label up to its colon at once (speakers._TO_COLON);
    it must match the same lines with the same span as the label pattern, and give the same label once
    the one space or tab before the colon is left out (60 characters and that space at most)."""
    import itertools
    import re

    from qualkit.transcripts import speakers

    lazy = re.compile(speakers._LAZY_TO_COLON + r"(?=\s|$)[ \t]*")
    greedy = re.compile(speakers._TO_COLON + r"(?=\s|$)[ \t]*")
    heads = ["Ana", "@bob", "_x", "a" * 59, "a" * 60, "a" * 61, "Dr. Lee", "so we said", "é"]
    for head, gap, tail in itertools.product(heads, ["", " ", "  ", "\t", " \t", "\xa0"], [": hi", ":", ":x", "::", ": \n", "? :"]):
        line = head + gap + tail
        a, b = lazy.match(line), greedy.match(line)
        assert (a is None) == (b is None), line
        if a is not None:
            label = b.group("label")
            assert a.span() == b.span() and a.group("label") == (label[:-1] if label[-1] in " \t" else label), line


def test_a_worker_holds_the_cache_write_lock_only_while_it_writes(tmp_path, monkeypatch, workers_on_small_studies):
    """Issue 17: a worker of `qualkit ingest` writes its parses in short transactions and never keeps the
    cache's write lock while it parses. (A worker that did made the other wait past the busy timeout on
    a loaded machine; their parses came back for this process to write, which then held the lock while
    it waited for them: two seconds a file, found at 5,000 interviews.) Another writer gets the lock at
    any moment a file is parsed."""
    import sqlite3

    import qualkit.transcripts
    import qualkit.workspace.ingest_work as work_mod

    monkeypatch.setattr(work_mod, "WRITE_BATCH", 4)
    ws = _short_interviews(tmp_path, 40)
    ws.jobs = 2
    real = qualkit.transcripts.read_parsed

    def another_writer_first(path, **kw):
        db = sqlite3.connect(ws.disk_cache.path, timeout=1.0, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # "database is locked" if a connection of this worker holds the lock
        db.execute("ROLLBACK")
        db.close()
        return real(path, **kw)

    monkeypatch.setattr(qualkit.transcripts, "read_parsed", another_writer_first)
    result = ws.ingest(rows_only=True)
    assert not result.errors and len(result.rows) == 40
    assert sqlite3.connect(ws.disk_cache.path).execute("SELECT COUNT(*) FROM parsed").fetchone()[0] == 40
