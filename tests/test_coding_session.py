"""Interactive coding, driven the way a coder types: units, codes, spans, undo, journal, recovery, review."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

import qualkit.cli
from qualkit.api import Workspace
from qualkit.coding.session import CodingSession, SessionError, journal_path, locate
from qualkit.coding.units import split_sentences, split_units
from qualkit.workspace.codebook import Code, Codebook, load_codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings, write_codings
from qualkit.workspace.scaffold import init

INTERVIEW = (
    "Interviewer: How do referrals get to the team?\n"
    "Maria: By fax, usually days late. There is no bus out there. People feel judged.\n"
    "Interviewer: What about the county attorney?\n"
    "Maria: He is careful. Dr. Cole said the agreement sits on his desk... for a year.\n"
)
SECOND = "Interviewer: Anything else?\nMaria: Funding ends in June.\n"


def make_ws(tmp_path, existing: list[Coding] | None = None):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text(
        "transcript,speaker,participant_id,role,site\n,Interviewer,RT-1,interviewer,\n"
        "int1,Maria,KP-4,behavioral health,Pine Hollow\nint2,Maria,KP-4,behavioral health,Pine Hollow\n")
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    (root / "transcripts" / "int2.txt").write_text(SECOND)
    save_codebook(Codebook("port", "PORT codebook", [
        Code("data_sharing", "Data sharing", origin="deductive", brief="moving client information"),
        Code("fax", "Fax and paper", parent="data_sharing", origin="deductive"),
        Code("stigma", "Stigma", origin="deductive", brief="feeling judged"),
        Code("old_code", "Old code", status="retired"),
        Code("legal", "Legal review", origin="deductive"),
    ]), root / "codebooks" / "port.yaml")
    if existing:
        write_codings(root / "codings" / "ana.csv", existing)
    return root


def span_of(quote: str, text: str = INTERVIEW) -> tuple[int, int]:
    i = text.index(quote)
    return i, i + len(quote)


def rows(root, coder="ana"):
    return [(c.transcript, c.text, c.code, c.memo) for c in read_codings(root / "codings" / f"{coder}.csv")]


def full_rows(root, coder="ana"):
    return [c.as_row() for c in read_codings(root / "codings" / f"{coder}.csv")]


def run(session, *commands):
    replies = [session.execute(c) for c in commands]
    for c, r in zip(commands, replies):
        assert not r.error, f"{c!r}: {r.message}"
    return replies[-1] if replies else None


MARIA_1 = "By fax, usually days late. There is no bus out there. People feel judged."


# -- units --------------------------------------------------------------------------------------

def test_turn_and_sentence_units_are_exact_spans_of_the_text(tmp_path):
    ws = Workspace(make_ws(tmp_path))
    t = ws.transcript("int1")
    turns = split_units(t, "turn")
    assert [t.text[u.start:u.end] for u in turns][1] == MARIA_1
    sentences = split_units(t, "sentence")
    texts = [t.text[u.start:u.end] for u in sentences]
    assert texts[:4] == ["How do referrals get to the team?", "By fax, usually days late.",
                         "There is no bus out there.", "People feel judged."]
    # abbreviations and a trailing ellipsis before lower case do not end a sentence
    assert "Dr. Cole said the agreement sits on his desk... for a year." in texts
    assert all(u.turn is not None and u.start < u.end for u in sentences)


def test_sentence_splitter_rules():
    text = "What, four officers? So most. [pause] That changes it.\nNew line \"Quote.\" And J. Smith agreed!"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "What, four officers?", "So most.", "[pause] That changes it.", 'New line "Quote."', "And J. Smith agreed!"]


def test_fragments_are_found_exactly_then_ignoring_case_spacing_and_quote_style():
    text = "He said “don't  go” and we didn't go. We went."
    assert locate(text, 0, len(text), "we didn't")[:2] == span_of("we didn't", text)
    s, e, _ = locate(text, 0, len(text), 'SAID "don\'t go"')
    assert text[s:e] == "said “don't  go”"
    s, e, _ = locate(text, 0, len(text), "we didn't ... went")
    assert text[s:e] == "we didn't go. We went"
    assert "2 times" in locate(text, 0, len(text), "go")[2]


# -- coding -------------------------------------------------------------------------------------

def test_a_coder_codes_whole_units_and_quoted_fragments(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        entries = s.code_list()
        assert [(e.number, e.code.id, e.depth) for e in entries] == [
            (1, "data_sharing", 0), (2, "fax", 1), (3, "stigma", 0), (4, "legal", 0)]  # retired hidden
        assert [e.code.id for e in s.execute("/JUDG").codes] == ["stigma"]
        view = s.view()
        assert (view.number, view.total, view.speaker, view.facilitator) == (1, 4, "Interviewer", True)
        run(s, "n")
        view = s.view()
        assert view.participant == "KP-4" and view.attributes == {"role": "behavioral health", "site": "Pine Hollow"}
        assert view.context == "How do referrals get to the team?"
        assert run(s, "1 stigma").message == "coded data_sharing, stigma on the whole unit"
        assert 'on "By fax"' in run(s, '2 "BY FAX"').message
        run(s, '4 "no bus ... there"')
        r = s.execute("zzz")
        assert r.error and "unknown code" in r.message
        r = s.execute('3 "not in this turn"')
        assert r.error and "not found in this unit" in r.message
        assert "already coded" in s.execute("1").message
        assert [(c.number, c.coding.code, c.whole_unit, c.this_session) for c in s.view().codings] == [
            (1, "fax", False, True), (2, "data_sharing", True, True), (3, "stigma", True, True), (4, "legal", False, True)]
    assert rows(root) == [("int1", "By fax", "fax", ""), ("int1", MARIA_1, "data_sharing", ""),
                          ("int1", MARIA_1, "stigma", ""), ("int1", "no bus out there", "legal", "")]


def test_undo_walks_back_every_change_and_the_file_ends_exactly_as_before(tmp_path):
    s0, e0 = span_of("People feel judged.")
    older = Coding("int1", s0, e0, "stigma", "People feel judged.", "imported", "2026-01-01T09:00:00")
    other = Coding("int2", 28, 51, "legal", SECOND[28:51], "", "2026-01-02T09:00:00")
    root = make_ws(tmp_path, [older, other])
    before = full_rows(root)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        run(s, "j 2")
        view = s.view()
        assert [(c.coding.code, c.this_session) for c in view.codings] == [("stigma", False)]
        run(s, "1", '2 "by fax"', "m 1 the fax machine", "d 3")  # d 3: the older stigma coding
        assert [c.coding.code for c in s.view().codings] == ["fax", "data_sharing"]
        assert rows(root)[:2] == [("int1", "By fax", "fax", "the fax machine"), ("int1", MARIA_1, "data_sharing", "")]
        for expected in ("deletion", "memo", "coding fax", "coding data_sharing"):
            assert expected in run(s, "u").message
        r = s.execute("u")
        assert r.error and "nothing to undo" in r.message  # the older coding was not made here
    assert full_rows(root) == before
    assert list((root / ".qualkit" / "backups").glob("ana.csv.*.bak"))


def test_a_code_named_in_a_session_gets_the_same_id_as_with_codebook_add(tmp_path):
    # Ana creates "Fear & shame" while coding; Ben adds the same code with `qualkit codebook add`
    # in his own copy of the study: both codebooks call it fear_and_shame.
    ana, ben = make_ws(tmp_path / "ana"), make_ws(tmp_path / "ben")
    with CodingSession(Workspace(ana), "int1", "ana") as s:
        assert "fear_and_shame" in run(s, "n", '+ Fear & shame: feeling judged "People feel judged"').message
    r = CliRunner().invoke(qualkit.cli.cli, ["-w", str(ben), "codebook", "add", "Fear & shame", "--by", "ben"])
    assert r.exit_code == 0, r.output
    made = [{c.id for c in load_codebook(root / "codebooks" / "port.yaml").codes if c.name == "Fear & shame"}
            for root in (ana, ben)]
    assert made == [{"fear_and_shame"}, {"fear_and_shame"}]


def test_a_new_inductive_code_goes_into_the_codebook_with_a_log_entry_and_undo_takes_it_back(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        run(s, "n")
        r = run(s, '+ Rural transport: no public transit to services "no bus out there"')
        assert "new inductive code 5 rural_transport" in r.message
        book = load_codebook(root / "codebooks" / "port.yaml")
        code = book.get("rural_transport")
        assert (code.origin, code.definition, code.status) == ("inductive", "no public transit to services", "active")
        assert book.changelog[-1].who == "ana" and "rural_transport" in book.changelog[-1].what
        assert list((root / ".qualkit" / "backups").glob("port.yaml.*.bak"))
        assert rows(root) == [("int1", "no bus out there", "rural_transport", "")]
        assert "already exists" in s.execute("+ Rural transport: again").message
        assert s.execute("+ Missing definition").error
        run(s, "rural_transport")  # usable by id at once
        run(s, "u")
        assert "code rural_transport removed" in run(s, "u").message
    assert load_codebook(root / "codebooks" / "port.yaml").get("rural_transport") is None
    assert rows(root) == []


def test_the_next_run_resumes_at_the_same_unit_with_undo_history(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        run(s, "n", "1", "n", "s")
        assert s.pos == 3
    with CodingSession(Workspace(root), "int1", "ana") as s:
        assert s.pos == 3
        assert s.view(  # turn 3 was skipped
        ).number == 4 and s._unit_view(s.units[2], None).skipped
        r = run(s, "u")  # undo reaches back into the previous run and jumps to where it happened
        assert "coding data_sharing" in r.message and r.moved and s.pos == 1
    assert rows(root) == []


def test_a_journal_written_by_an_earlier_qualkit_still_resumes(tmp_path):
    # Earlier versions wrote compact lines (no spaces after separators); the records are the same.
    import json

    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        run(s, "n", "1", "n")
    jpath = journal_path(root, "ana", "int1")
    old = [json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))
           for line in jpath.read_text(encoding="utf-8").splitlines()]
    jpath.write_text("\n".join(old) + "\n", encoding="utf-8")
    with CodingSession(Workspace(root), "int1", "ana") as s:
        assert s.pos == 2 and not s.notices
        assert "coding data_sharing" in run(s, "u").message
    assert rows(root) == []


def test_resuming_in_sentence_units_lands_in_the_same_place(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana", unit="sentence") as s:
        run(s, "j 3", "3")
        assert s.view().text == "There is no bus out there."
    assert rows(root) == [("int1", "There is no bus out there.", "stigma", "")]
    with CodingSession(Workspace(root), "int1", "ana", unit="turn") as s:
        assert s.view().number == 2  # the turn holding that sentence
        assert [c.whole_unit for c in s.view().codings] == [False]


def test_only_one_session_per_coder_and_transcript(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana"):
        with pytest.raises(SessionError, match="another `qualkit code` session"):
            CodingSession(Workspace(root), "int1", "ana")
        with CodingSession(Workspace(root), "int2", "ana") as other:  # another transcript is fine
            run(other, "n", "4")
    with pytest.raises(SessionError, match="reserved"):
        CodingSession(Workspace(root), "int1", "auto")


def test_sessions_on_two_transcripts_keep_each_others_codings(tmp_path):
    root = make_ws(tmp_path)
    a = CodingSession(Workspace(root), "int1", "ana")
    b = CodingSession(Workspace(root), "int2", "ana")
    run(a, "n", "3")
    run(b, "n", "4")
    run(a, "j 4", "4")
    a.close()
    b.close()
    assert sorted((t, code) for t, _, code, _ in rows(root)) == [("int1", "legal"), ("int1", "stigma"), ("int2", "legal")]


# -- crash safety -------------------------------------------------------------------------------

COMMANDS = ["n", "1 3", '2 "by fax"', "m 1 slow fax", '+ Rural transport: no transit "no bus out there"',
            "d 3", "u", "u", "j 4", '4 "Dr. Cole ... his desk"', "m faxed in 2024"]


def test_a_crash_at_any_point_is_recovered_exactly(tmp_path):
    """Replay every crash point: after the journal write, after the codebook write, after the CSV write,
    and in the middle of writing a journal line. The next start must give exactly the uninterrupted result."""
    root = make_ws(tmp_path)
    csv = root / "codings" / "ana.csv"
    book = root / "codebooks" / "port.yaml"
    jpath = journal_path(root, "ana", "int1")
    read = lambda p: p.read_bytes() if p.exists() else None  # noqa: E731
    snaps = []  # (journal, csv, codebook, rows, code ids, position) after each command
    s = CodingSession(Workspace(root), "int1", "ana")
    snaps.append((read(jpath), read(csv), read(book), full_rows(root), [c.id for c in load_codebook(book).codes], s.pos))
    for cmd in COMMANDS:
        run(s, cmd)
        snaps.append((read(jpath), read(csv), read(book), full_rows(root),
                      [c.id for c in load_codebook(book).codes], s.pos))
    s.journal.close()  # killed: no clean-exit marker
    # the uninterrupted result is what the commands mean
    assert rows(root) == [("int1", "By fax", "fax", "slow fax"), ("int1", MARIA_1, "data_sharing", ""),
                          ("int1", MARIA_1, "stigma", ""),
                          ("int1", "Dr. Cole said the agreement sits on his desk", "legal", "faxed in 2024")]

    def restore(journal, csv_bytes, book_bytes):
        jpath.write_bytes(journal)
        if csv_bytes is None:
            csv.unlink(missing_ok=True)
        else:
            csv.write_bytes(csv_bytes)
        book.write_bytes(book_bytes)

    for k in range(1, len(snaps)):
        j_k, csv_k, book_k, rows_k, ids_k, pos_k = snaps[k]
        _, csv_prev, book_prev, rows_prev, ids_prev, _ = snaps[k - 1]
        crash_points = {
            "after the journal line": (j_k, csv_prev, book_prev),
            "after the codebook write": (j_k, csv_prev, book_k),
            "after the CSV write": (j_k, csv_k, book_k),
        }
        for where, files in crash_points.items():
            restore(*files)
            with CodingSession(Workspace(root), "int1", "ana") as again:
                assert again.pos == pos_k, (COMMANDS[k - 1], where)
            assert full_rows(root) == rows_k, (COMMANDS[k - 1], where)
            assert [c.id for c in load_codebook(book).codes] == ids_k, (COMMANDS[k - 1], where)
            assert read(book) == book_k and read(csv) == csv_k, (COMMANDS[k - 1], where)  # byte for byte
        # killed while writing the journal line: the unconfirmed action is dropped, the rest kept
        j_prev = snaps[k - 1][0]
        partial = j_prev + j_k[len(j_prev):][: max(1, (len(j_k) - len(j_prev)) // 2)]
        restore(partial, csv_prev, book_prev)
        with CodingSession(Workspace(root), "int1", "ana") as again:
            assert any("dropped" in n for n in again.notices)
        assert full_rows(root) == rows_prev


def test_recovery_after_a_crash_between_journal_and_csv(tmp_path, monkeypatch):
    root = make_ws(tmp_path)
    s = CodingSession(Workspace(root), "int1", "ana")
    run(s, "n", "1")

    def killed(self, changes):
        raise KeyboardInterrupt  # the process dies right after the journal line was fsync'ed

    monkeypatch.setattr(CodingSession, "_write_csv", killed)
    with pytest.raises(KeyboardInterrupt):
        s.execute("3")
    monkeypatch.undo()
    s.close()  # a dirty session writes no clean-exit marker
    assert rows(root) == [("int1", MARIA_1, "data_sharing", "")]
    with CodingSession(Workspace(root), "int1", "ana") as again:
        assert any("replayed from the journal into ana.csv" in n for n in again.notices)
        assert again.pos == 1
    assert rows(root) == [("int1", MARIA_1, "data_sharing", ""), ("int1", MARIA_1, "stigma", "")]


def test_hand_edits_after_a_clean_exit_are_not_undone_by_the_journal(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        run(s, "n", "1 3")
    write_codings(root / "codings" / "ana.csv", [c for c in read_codings(root / "codings" / "ana.csv") if c.code != "stigma"])
    with CodingSession(Workspace(root), "int1", "ana") as s:
        assert not s.notices
    assert rows(root) == [("int1", MARIA_1, "data_sharing", "")]


# -- reviewing auto-coding suggestions ----------------------------------------------------------

def auto_ws(tmp_path):
    root = make_ws(tmp_path)
    sugg = []
    for quote, code, term in [("fax", "fax", "fax"), ("judged", "stigma", "judg*"), ("county attorney", "legal", "attorney")]:
        s, e = span_of(quote)
        sugg.append(Coding("int1", s, e, code, quote, term, "2026-03-01T10:00:00"))
    write_codings(root / "codings" / "auto.csv", sugg)
    return root


def test_reviewing_suggestions_accept_reject_edit_undo_and_resume(tmp_path):
    root = auto_ws(tmp_path)
    auto_before = (root / "codings" / "auto.csv").read_bytes()
    s = CodingSession(Workspace(root), "int1", "ana", review="auto")
    v = s.view()
    assert (v.number, v.total, v.suggestion.code, v.term) == (1, 3, "fax", "fax")
    assert v.unit.text == MARIA_1
    assert "accepted: fax" in run(s, "a").message
    assert s.view().number == 2
    s.journal.close()  # killed
    s = CodingSession(Workspace(root), "int1", "ana", review="auto")
    assert s.view().number == 2  # resumes at the same suggestion
    run(s, "e sentence")
    assert "rejected: legal; all 3 suggestions decided" in run(s, "r").message
    assert "undone: reject" in run(s, "u").message
    assert s.view().number == 3 and s.view().decision is None
    run(s, 'e "the county attorney"')
    s.close()
    assert rows(root) == [("int1", "fax", "fax", "fax"), ("int1", "People feel judged.", "stigma", "judg*"),
                          ("int1", "the county attorney", "legal", "attorney")]
    assert (root / "codings" / "auto.csv").read_bytes() == auto_before
    with CodingSession(Workspace(root), "int1", "ana", review="auto") as s:
        assert {k[2]: d["decision"] for k, d in s.decisions.items()} == {"fax": "accept", "stigma": "edit", "legal": "edit"}
        run(s, "j 1", "r")  # changing one's mind takes the copied coding back
    assert [r[2] for r in rows(root)] == ["stigma", "legal"]


def test_review_without_auto_codings_says_what_to_run(tmp_path):
    root = make_ws(tmp_path)
    with pytest.raises(SessionError, match="qualkit autocode"):
        CodingSession(Workspace(root), "int1", "ana", review="auto")


# -- piped input through the CLI ----------------------------------------------------------------

@pytest.fixture
def code_cli():
    def invoke(root, *args, input=""):
        return CliRunner().invoke(qualkit.cli.cli, ["-w", str(root), "code", *args], input=input,
                                  catch_exceptions=False)

    return invoke


def test_piped_commands_code_a_transcript(tmp_path, code_cli):
    root = make_ws(tmp_path)
    r = code_cli(root, "int1", "--coder", "ana", input='\n1 3\n2 "by fax"\n/stig\nbogus\n?\n')
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Codes (type a number or an id" in out and "   2    Fax and paper  fax" in out
    assert "old_code" not in out
    assert "── turn 2/4 · Maria — KP-4, role: behavioral health, site: Pine Hollow" in out
    assert "… Interviewer: How do referrals get to the team?" in out
    assert "[turn 2/4] > 1 3" in out and "coded data_sharing, stigma on the whole unit" in out
    assert "coded: #1 fax* \"By fax\"  #2 data_sharing* (whole turn)" in out
    assert "unknown code or command 'bogus'" in out and "j 40" in out  # help
    assert "1/4 turns coded" in out  # end of input = save and quit
    assert "\x1b[" not in out  # no colors when not a terminal
    assert [r[2] for r in rows(root)] == ["fax", "data_sharing", "stigma"]


def test_piped_review_marks_the_suggested_span(tmp_path, code_cli):
    root = auto_ws(tmp_path)
    r = code_cli(root, "int1", "--coder", "ana", "--review", "auto", input="a\nr\nq\n")
    assert r.exit_code == 0, r.output
    assert "By [[fax]], usually days late." in r.output
    assert "── suggestion 2/3 · stigma (Stigma) · matched 'judg*'" in r.output
    assert "1 accepted, 0 edited, 1 rejected" in r.output
    assert [r_[2] for r_ in rows(root)] == ["fax"]


def test_cli_errors_are_one_line(tmp_path, code_cli):
    root = make_ws(tmp_path)
    r = code_cli(root, "nope", "--coder", "ana")
    assert r.exit_code == 1 and "no transcript with id 'nope'" in r.output
    shutil.rmtree(root / "codebooks")
    (root / "codebooks").mkdir()
    r = code_cli(root, "int1", "--coder", "ana")
    assert r.exit_code == 1 and "no codebook yet" in r.output


def test_memos_code_info_and_moving_around(tmp_path):
    root = make_ws(tmp_path)
    with CodingSession(Workspace(root), "int1", "ana") as s:
        assert s.execute("b").error  # already at the first unit
        run(s, "j 2", "3", '1 "no bus out there"')
        assert "memo saved on data_sharing" in run(s, "m the bus line was cut").message  # the last coding made here
        assert "the bus line was cut" in run(s, "m 2").message  # shows it
        assert "memo cleared" in run(s, "m 2 -").message
        assert s.execute("m 9 nine").error
        assert "deleted #1 stigma" in run(s, "d stigma").message
        info = run(s, "i 3").message
        assert info.startswith("Stigma (stigma, deductive)") and "brief: feeling judged" in info
        assert s.execute("j 99").error and s.execute("+ !!!: symbols only").error
        run(s, "b")
        assert s.view().number == 1
        assert "retired" in s.execute("old_code").message
    assert rows(root) == [("int1", "no bus out there", "data_sharing", "")]
