"""Auto-coding suggestions as a user meets them: `qualkit autocode` on a small study, and the library call."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings, write_codings
from qualkit.workspace.scaffold import init

INT1 = """\
Interviewer: Do you fax the referral forms to the team?
Maria: We faxed them for years. Now the sheriff sends a spreadsheet every morning.
Interviewer: And naloxone?
Maria: We hand out naloxon kits at every visit. The data-sharing agreement is still with the county attorney.
Maria: Faxing is slow.
Interviewer: Anything about the ED?
Maria: Ed from the clinic said the ED was full again. Some clients are on buprenorphene.
Maria: Nothing else, thanks.
"""
PARTICIPANTS = ("transcript,speaker,participant_id,role,site\n"
                ",Interviewer,RT-1,interviewer,\n"
                "int1,Maria,KP-4,behavioral health,Pine Hollow\n")

CODES = [
    Code("data_sharing", "Data sharing", origin="deductive",
         keywords=["fax", "spreadsheet", "data sharing agreement"]),
    Code("naloxone", "Naloxone and MOUD", origin="deductive", keywords=["naloxone", "Narcan", "buprenorphine"]),
    Code("hospital", "Hospital", origin="deductive", keywords=["ED"]),
    Code("legal", "Legal", origin="deductive", keywords=["county attorney"],
         patterns=[[{"LEMMA": "send"}, {"LOWER": "a"}, {"LOWER": "spreadsheet"}]]),
    Code("unused", "Retired code", keywords=["fax"], status="retired"),
]


def make_ws(tmp_path, codes=CODES, text=INT1):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    (root / "transcripts" / "int1.txt").write_text(text, encoding="utf-8")
    save_codebook(Codebook("port", "PORT codebook", list(codes)), root / "codebooks" / "port.yaml")
    return root


def run(root, *args, **kw):
    return CliRunner().invoke(cli, ["--workspace", str(root), *args], **kw)


def coded(root, coder="auto"):
    """{(turn number, code): coding} for a coder's file, turn numbers from 1."""
    ws = Workspace(root)
    t = ws.transcript("int1")
    out = {}
    for c in read_codings(root / "codings" / f"{coder}.csv"):
        assert c.text == t.text[c.start:c.end]  # offsets are exact
        turn = next(tu for tu in t.turns if tu.start <= c.start and c.end <= tu.end)
        out[(turn.index + 1, c.code)] = c
    return out


@pytest.mark.slow
def test_autocode_codes_participant_turns_and_writes_auto_csv(tmp_path):
    root = make_ws(tmp_path)
    r = run(root, "autocode")
    assert r.exit_code == 0, r.output
    assert "codings/auto.csv" in r.output and "suggestion" in r.output
    got = coded(root)
    t = Workspace(root).transcript("int1")
    # Maria's second turn: "faxed" (lemma of fax) and "spreadsheet" (exact), the pattern "sends a spreadsheet"
    c = got[(2, "data_sharing")]
    assert (c.start, c.end) == (t.turns[1].start, t.turns[1].end)
    assert '"faxed" lemma of "fax"' in c.memo and '"spreadsheet" exact' in c.memo
    assert "pattern 1" in got[(2, "legal")].memo
    # "Faxing" at the start of a turn is still a form of "fax"; hyphenated keyword matches too
    assert (5, "data_sharing") in got
    assert '"data-sharing agreement"' in got[(4, "data_sharing")].memo
    assert (4, "legal") in got
    # interviewer turns (1, 3, 6) are never coded, retired codes never used
    assert not [k for k in got if k[0] in (1, 3, 6)]
    assert not [k for k in got if k[1] == "unused"]
    assert "Skipped 3 research-team turns" in r.output


@pytest.mark.slow
def test_include_facilitators_codes_interviewer_turns_too(tmp_path):
    root = make_ws(tmp_path)
    assert run(root, "autocode", "--include-facilitators").exit_code == 0
    got = coded(root)
    assert (1, "data_sharing") in got and (3, "naloxone") in got and (6, "hospital") in got


@pytest.mark.slow
def test_acronym_keywords_match_only_in_capitals(tmp_path):
    root = make_ws(tmp_path)
    run(root, "autocode")
    c = coded(root)[(7, "hospital")]
    assert c.memo == 'autocode: "ED" exact'  # "Ed from the clinic" did not match


@pytest.mark.slow
def test_sentence_unit_codes_the_sentence_with_exact_offsets(tmp_path):
    root = make_ws(tmp_path)
    r = run(root, "autocode", "--unit", "sentence")
    assert r.exit_code == 0, r.output
    t = Workspace(root).transcript("int1")
    suggestions = read_codings(root / "codings" / "auto.csv")
    assert all(c.text == t.text[c.start:c.end] for c in suggestions)
    texts = {(c.code, c.text) for c in suggestions}
    assert ("data_sharing", "We faxed them for years.") in texts
    assert ("data_sharing", "Now the sheriff sends a spreadsheet every morning.") in texts
    assert ("naloxone", "We hand out naloxon kits at every visit.") in texts
    assert ("data_sharing", "The data-sharing agreement is still with the county attorney.") in texts
    assert not any(code == "data_sharing" and "naloxon" in text for code, text in texts)


@pytest.mark.slow
def test_fuzzy_catches_misspellings_only_when_asked(tmp_path):
    root = make_ws(tmp_path)
    r = run(root, "autocode")
    got = coded(root)
    assert '"naloxon" fuzzy' in got[(4, "naloxone")].memo and 'of "naloxone"' in got[(4, "naloxone")].memo
    assert '"buprenorphene" fuzzy' in got[(7, "naloxone")].memo
    assert "naloxon -> naloxone" in r.output
    run(root, "autocode", "--no-fuzzy")
    got = coded(root)
    assert (4, "naloxone") not in got and (7, "naloxone") not in got
    run(root, "autocode", "--threshold", "99")
    assert (4, "naloxone") not in coded(root)


@pytest.mark.slow
def test_rerun_replaces_suggestions_with_a_backup_and_never_touches_human_files(tmp_path):
    root = make_ws(tmp_path)
    ws = Workspace(root)
    t = ws.transcript("int1")
    turn = t.turns[1]
    human = [Coding("int1", turn.start, turn.end, "naloxone", t.turn_text(turn), "ana's call", "2026-03-01T10:00:00")]
    write_codings(root / "codings" / "ana.csv", human)
    before = (root / "codings" / "ana.csv").read_bytes()

    assert run(root, "autocode").exit_code == 0
    first = (root / "codings" / "auto.csv").read_text(encoding="utf-8")
    save_codebook(Codebook("port", "PORT codebook", [Code("naloxone", "Naloxone", keywords=["naloxone"])]),
                  root / "codebooks" / "port.yaml")
    r = run(root, "autocode")
    assert r.exit_code == 0 and "previous version kept as .qualkit/backups/auto.csv." in r.output
    now = read_codings(root / "codings" / "auto.csv")
    assert {c.code for c in now} == {"naloxone"}  # replaced, not appended
    backups = list((root / ".qualkit" / "backups").glob("auto.csv.*.bak"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [first]
    assert (root / "codings" / "ana.csv").read_bytes() == before


@pytest.mark.slow
def test_refuses_to_write_into_a_person_s_codings(tmp_path):
    root = make_ws(tmp_path)
    write_codings(root / "codings" / "ana.csv", [])
    r = run(root, "autocode", "--coder", "ana")
    assert r.exit_code == 2
    assert "not an auto coder" in r.output and "ana-auto" in r.output
    assert not (root / "codings" / "auto.csv").exists()
    r = run(root, "autocode", "--coder", "ana-auto")
    assert r.exit_code == 0 and (root / "codings" / "ana-auto.csv").exists()
    assert read_codings(root / "codings" / "ana.csv") == []


@pytest.mark.slow
def test_library_call_returns_codings_and_counts_without_writing(tmp_path):
    from qualkit.coding.autocode import autocode

    root = make_ws(tmp_path)
    result = autocode(Workspace(root), unit="turn", write=False)
    assert result.path is None and not (root / "codings" / "auto.csv").exists()
    assert result.units["data_sharing"] == 3 and result.units["hospital"] == 1
    assert result.counts["data_sharing"].matches["lemma"] >= 2
    assert result.counts["naloxone"].matches["fuzzy"] == 2
    assert result.skipped_facilitator_turns == 3 and result.turns == 5
    assert result.corrections["naloxon"][0] == "naloxone"
    assert all(c.memo.startswith("autocode: ") for c in result.codings)


@pytest.mark.slow
def test_json_output_lists_counts_and_suggestions(tmp_path):
    root = make_ws(tmp_path)
    r = run(root, "autocode", "--dry-run", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["path"] is None and data["suggestions"] == len(data["codings"]) > 0
    assert {c["code"] for c in data["counts"]} == {"data_sharing", "naloxone", "hospital", "legal"}
    assert not (root / "codings" / "auto.csv").exists()


@pytest.mark.slow
def test_patterns_needing_a_trained_pipeline_are_skipped_with_a_warning(tmp_path):
    codes = [Code("nouns", "Nouns", patterns=[[{"POS": "NOUN"}]]), Code("fax", "Fax", keywords=["fax"])]
    root = make_ws(tmp_path, codes)
    r = CliRunner().invoke(cli, ["--workspace", str(root), "autocode"])
    assert r.exit_code == 0
    assert "pattern 1 uses POS" in r.stderr and "en_core_web_sm" in r.stderr
    assert {c.code for c in read_codings(root / "codings" / "auto.csv")} == {"fax"}


@pytest.mark.slow
def test_an_invalid_pattern_names_the_codebook_file_and_line(tmp_path):
    codes = [Code("bad", "Bad", patterns=[[{"LOWR": "fax"}]])]
    root = make_ws(tmp_path, codes)
    r = run(root, "autocode")
    assert r.exit_code == 1
    assert "port.yaml:" in r.output and "pattern 1 is not a valid spaCy token pattern" in r.output
    assert "Traceback" not in r.output


def test_a_codebook_without_keywords_is_a_clear_error(tmp_path):
    root = make_ws(tmp_path, [Code("x", "X")])
    r = run(root, "autocode")
    assert r.exit_code == 1 and "no active code with keywords or patterns" in r.output


@pytest.mark.slow
def test_configured_pipeline_missing_falls_back_to_blank_and_a_saved_pipeline_is_used(tmp_path):
    import spacy

    from qualkit.coding.autocode import autocode

    root = make_ws(tmp_path)
    cfg = root / "qualkit.yaml"
    base = cfg.read_text(encoding="utf-8")
    cfg.write_text(base + "nlp:\n  model: xx_not_installed_pipeline\n", encoding="utf-8")
    result = autocode(Workspace(root), write=False)
    assert result.pipeline == "blank:en"
    assert any("xx_not_installed_pipeline" in w and "not installed" in w for w in result.warnings)

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.to_disk(root / "mypipe")
    cfg.write_text(base + "nlp:\n  model: ./mypipe\n", encoding="utf-8")
    result = autocode(Workspace(root), write=False)
    assert result.pipeline != "blank:en" and not result.warnings
    assert result.units["data_sharing"] >= 2
    assert result.corrections["naloxon"][0] == "naloxone"


def test_help_loads_neither_spacy_nor_pandas():
    code = ("import sys\nimport qualkit.cli as c\n"
            "for args in (['qualkit', '--help'], ['qualkit', 'autocode', '--help'], ['qualkit', 'search', '--help']):\n"
            "    sys.argv = args\n"
            "    try:\n        c.main()\n    except SystemExit:\n        pass\n"
            "print('HEAVY', [m for m in ('spacy', 'pandas', 'rapidfuzz', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--unit [turn|sentence]" in out and "--fuzzy" in out
    assert "HEAVY []" in out


@pytest.mark.slow
def test_sentence_suggestions_are_the_sentence_units_agreement_counts(tmp_path):
    from qualkit.coding.autocode import autocode
    from qualkit.coding.units import sentence_units

    text = INT1.replace("We faxed them for years. Now", "We faxed them, e.g. to Dr. Cole, for years.\nNow")
    root = make_ws(tmp_path, text=text)
    ws = Workspace(root)
    units = {(u.start, u.end) for u in sentence_units(ws.transcript("int1"))}
    result = autocode(ws, unit="sentence", write=False)
    assert result.codings and all((c.start, c.end) in units for c in result.codings)
    assert "We faxed them, e.g. to Dr. Cole, for years." in {c.text for c in result.codings}


def test_a_memo_says_autocode_once_even_when_a_term_was_seen_alone_before(tmp_path):
    """The memo of a turn with two hits names 'autocode:' once, whatever turns came before it (a term
    first met alone used to carry the prefix into later two-hit memos: 'autocode: a; autocode: b')."""
    text = "Maria: We use a spreadsheet.\nInterviewer: Ok.\nMaria: We faxed it, then a spreadsheet.\n"
    root = make_ws(tmp_path, CODES, text)
    result = Workspace(root).autocode(write=False)
    memos = [c.memo for c in result.codings if c.code == "data_sharing"]
    assert memos == ['autocode: "spreadsheet" exact', 'autocode: "faxed" lemma of "fax"; "spreadsheet" exact']


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failure_halfway_leaves_the_previous_suggestions_and_no_stray_file(tmp_path, monkeypatch, jobs):
    """Suggestions are made a batch at a time (in one process or several); one that fails writes
    nothing: the previous auto.csv stays as it was and no half-written or temporary file is left."""
    import qualkit.coding.autocode as autocode_mod
    import qualkit.coding.autocode_stream as stream

    root = make_ws(tmp_path, CODES, INT1)
    for i in range(2, 6):
        (root / "transcripts" / f"int{i}.txt").write_text(INT1, encoding="utf-8")
    assert run(root, "autocode").exit_code == 0
    before = (root / "codings" / "auto.csv").read_bytes()
    files = sorted(p.name for p in (root / "codings").iterdir())
    monkeypatch.setattr(stream, "BATCH_CHARS", 1)  # one interview a batch
    monkeypatch.setattr(autocode_mod, "PARALLEL_MIN_CHARS", 0)
    real = stream._found

    def fails_on_int3(turns, *args):
        if turns[0][0] == "int3":
            raise RuntimeError("matching failed")
        return real(turns, *args)

    monkeypatch.setattr(stream, "_found", fails_on_int3)  # (forked workers see it too)
    ws = Workspace(root)
    ws.jobs = jobs
    with pytest.raises(RuntimeError, match="matching failed"):
        ws.autocode()
    assert (root / "codings" / "auto.csv").read_bytes() == before
    assert sorted(p.name for p in (root / "codings").iterdir()) == files


def test_autocode_codes_only_the_transcripts_it_is_given(tmp_path):
    root = make_ws(tmp_path, CODES, INT1)
    (root / "transcripts" / "int2.txt").write_text(INT1, encoding="utf-8")
    ws = Workspace(root)
    everything = ws.autocode(write=False)
    one = ws.autocode(write=False, transcripts=[ws.transcript("int2")])
    assert one.transcripts == 1 and everything.transcripts == 2
    assert {c.transcript for c in one.codings} == {"int2"}
    assert [c.key for c in one.codings] == [c.key for c in everything.codings if c.transcript == "int2"]
    assert one.suggestions == len(one.codings) == everything.suggestions // 2
