"""`qualkit matrix` as an analyst meets it: themes × HEIF domains and the results table, codes × cases,
code co-occurrence and saturation, on a study small enough to count by hand.

The small study (participants.csv roles and sites):
  int1  Maria  KP-1   medical            Calder
  int2  Sam    KP-2   public safety      Pine Hollow
  fg1   Ann    FG-P1  medical            Calder
        Bo     FG-P2  behavioral health  (no site)
plus the Interviewer and the Moderator, whose turns are never counted. Codebook cb: info (fax,
partners), police (uniform), peer, shame. Two coders, no consensus yet:

  ana: int1 "By fax, days late." fax (memo: exemplar) | "Nobody talks to anybody." partners |
       "The uniform scares people." uniform | int1 interviewer's "How do referrals reach you?" fax |
       int2 "We fax the list every morning." fax | "Nobody calls back." partners |
       fg1 "The peers. They have been there." peer | "But the fax still takes days." fax
  ben: int1 "By fax, days late." fax (the same coding as ana's) | int2 "I ride along in plain
       clothes now." uniform | "The uniform was a mistake, ..." uniform | fg1 "Peers, yes." peer |
       "Shame keeps people home." shame

Pooled: 11 excerpts (ana's and ben's identical fax coding counted once; the interviewer's words left out).
"""
from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

import qualkit
import qualkit.cli
from qualkit.analysis.matrices import MatrixError, MatrixWarning, build_matrix, c_coefficient, matrix, saturation_table
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import demo, init

CONFIG = """project: Small study
coders: [ana, ben]
codebook: cb
framework: heif
facilitator_roles: [interviewer, moderator]
"""
PARTICIPANTS = """transcript,speaker,participant_id,role,site
,Interviewer,RT-1,interviewer,
,Moderator,RT-2,moderator,
int1,Maria,KP-1,medical,Calder
int2,Sam,KP-2,public safety,Pine Hollow
fg1,Ann,FG-P1,medical,Calder
fg1,Bo,FG-P2,behavioral health,
"""
TEXTS = {
    "int1": ("Interviewer: How do referrals reach you?\nMaria: By fax, days late. Nobody talks to anybody.\n"
             "Interviewer: And the police?\nMaria: The uniform scares people. Plain clothes work better.\n"),
    "int2": ("Interviewer: How do referrals reach you?\nSam: We fax the list every morning. Nobody calls back.\n"
             "Interviewer: And the visits?\nSam: I ride along in plain clothes now. The uniform was a mistake, "
             "and people would not open the door for us.\n"),
    "fg1": ("Moderator: What helps?\nAnn: The peers. They have been there.\nBo: Peers, yes. But the fax still takes days.\n"
            "Moderator: Anything else?\nAnn: Shame keeps people home.\n"),
}
CODES = [
    Code("info", "Information", framework=["heif:interorganizational_networks_and_relationships"]),
    Code("fax", "Referrals by fax", parent="info", framework=["heif:structure_and_systems"]),
    Code("partners", "Partners do not talk", parent="info", framework=["heif:interorganizational_networks_and_relationships"]),
    Code("police", "Police", framework=["heif:sociopolitical_forces"]),
    Code("uniform", "Police uniforms", parent="police", framework=["heif:clinical_encounter"]),
    Code("peer", "Peers", framework=["heif:clinical_encounter", "heif:culturally_relevant_factors"]),
    Code("shame", "Self-stigma", framework=["heif:patient"]),
]
THEMES = """\
themes:
  - id: information_flow
    name: Information does not flow between partners
    valence: barrier
    description: Referrals arrive late, by fax, and nobody calls back.
    codes: [fax, partners]
    domains: [heif:context.outer, heif:structure_and_systems]
  - id: police
    name: Police presence opens and closes doors
    valence: mixed
    description: Uniforms scare people; plain clothes work.
    codes: [uniform]
    domains: [heif:clinical_encounter, heif:sociopolitical_forces]
  - id: peers
    name: Peers build trust
    valence: facilitator
    description: People who have been there open doors.
    codes: [peer, shame]
    domains: []
"""
ANA = [("int1", "By fax, days late.", "fax", "exemplar: by fax"), ("int1", "Nobody talks to anybody.", "partners", ""),
       ("int1", "The uniform scares people.", "uniform", ""), ("int1", "How do referrals reach you?", "fax", ""),
       ("int2", "We fax the list every morning.", "fax", ""), ("int2", "Nobody calls back.", "partners", ""),
       ("fg1", "The peers. They have been there.", "peer", ""), ("fg1", "But the fax still takes days.", "fax", "")]
BEN = [("int1", "By fax, days late.", "fax", ""), ("int2", "I ride along in plain clothes now.", "uniform", ""),
       ("int2", "The uniform was a mistake, and people would not open the door for us.", "uniform", ""),
       ("fg1", "Peers, yes.", "peer", ""), ("fg1", "Shame keeps people home.", "shame", "")]


def coding(tid: str, phrase: str, code: str, memo: str = "") -> Coding:
    start = TEXTS[tid].index(phrase)
    return Coding(tid, start, start + len(phrase), code, phrase, memo)


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "qualkit.yaml").write_text(CONFIG)
    (root / "participants.csv").write_text(PARTICIPANTS)
    for tid, text in TEXTS.items():
        (root / "transcripts" / f"{tid}.txt").write_text(text)
    save_codebook(Codebook("cb", "Codebook", CODES, framework="heif"), root / "codebooks" / "cb.yaml")
    (root / "themes.yaml").write_text(THEMES)
    w = qualkit.Workspace(root)
    w.write_codings("ana", [coding(*c) for c in ANA])
    w.write_codings("ben", [coding(*c) for c in BEN])
    return root


def build(root, kind, **kw):
    return build_matrix(qualkit.Workspace(root), kind, **kw)


def cli(root, *args):
    return CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "matrix", *args], catch_exceptions=False)


def cells(frame, key="code"):
    """{row key: {column: value}} without the name/total columns."""
    out = {}
    for row in frame.to_dict("records"):
        out[row[key]] = {k: v for k, v in row.items() if k not in (key, "name", "valence", "total")}
    return out


# -- which codings ---------------------------------------------------------------------------

def test_without_a_consensus_the_coders_are_pooled_with_a_warning(ws):
    result = build(ws, "codes")
    assert result.warnings[0].startswith("codings/consensus.csv does not exist yet: pooling the codings of ana, ben")
    assert result.parameters["codings"] == "pooled: ana, ben"
    # ana's and ben's identical fax coding on Maria's words counts once
    assert cells(result.frame)["fax"] == {"FG-P1": 0, "FG-P2": 1, "KP-1": 1, "KP-2": 1}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = matrix(qualkit.Workspace(ws), "codes")
    messages = [str(w.message) for w in caught if issubclass(w.category, MatrixWarning)]
    assert any("pooling the codings of ana, ben" in m for m in messages)
    assert any("interviewer/moderator words" in m for m in messages)
    assert frame.attrs["warnings"] == messages


def test_the_consensus_file_is_used_when_it_exists(ws):
    w = qualkit.Workspace(ws)
    w.write_codings("consensus", [coding("int1", "By fax, days late.", "fax"), coding("int2", "Nobody calls back.", "partners")])
    result = build(ws, "codes")
    assert result.warnings == [] and result.parameters["codings"] == "consensus"
    assert cells(result.frame)["fax"] == {"KP-1": 1, "KP-2": 0}  # int2 is coded (partners); fg1 is not, so no columns
    assert "Not coded, left out: fg1" in result.notes[0]


def test_one_coder_can_be_picked(ws):
    table = cells(build(ws, "codes", coder="ben").frame)
    assert table["uniform"] == {"FG-P1": 0, "FG-P2": 0, "KP-1": 0, "KP-2": 2}
    assert table["fax"]["KP-1"] == 1
    with pytest.raises(MatrixError, match="no codings file for coder 'bem'.*did you mean 'ben'"):
        build(ws, "codes", coder="bem")


def test_interviewer_words_are_never_counted_nor_quoted(ws):
    w = qualkit.Workspace(ws)
    # cy's fax coding runs from the interviewer's question into Maria's answer
    start = TEXTS["int1"].index("How do referrals")
    end = TEXTS["int1"].index("days late.") + len("days late.")
    w.write_codings("cy", [Coding("int1", start, end, "fax", TEXTS["int1"][start:end], "exemplar")])
    result = build(ws, "codes", coder="cy", cells="quotes")
    assert cells(result.frame)["fax"]["KP-1"] == "\u201cBy fax, days late.\u201d (KP-1, medical)"
    pooled = build(ws, "codes")
    assert any("1 coding hold only interviewer/moderator words" in w for w in pooled.warnings)


# -- codes × cases ---------------------------------------------------------------------------

def test_codes_by_participant_count_excerpts(ws):
    frame = build(ws, "codes").frame
    assert list(frame.columns) == ["code", "name", "FG-P1", "FG-P2", "KP-1", "KP-2", "total"]
    assert list(frame["code"]) == ["info", "fax", "partners", "police", "uniform", "peer", "shame"]
    table = cells(frame)
    assert table["uniform"] == {"FG-P1": 0, "FG-P2": 0, "KP-1": 1, "KP-2": 2}
    assert table["peer"] == {"FG-P1": 1, "FG-P2": 1, "KP-1": 0, "KP-2": 0}
    assert dict(zip(frame["code"], frame["total"])) == {"info": 0, "fax": 3, "partners": 2, "police": 0, "uniform": 3,
                                                        "peer": 2, "shame": 1}


def test_codes_by_role_and_site(ws):
    by_role = cells(build(ws, "codes", by="role").frame)
    assert by_role["uniform"] == {"behavioral health": 0, "medical": 1, "public safety": 2}
    assert by_role["fax"] == {"behavioral health": 1, "medical": 1, "public safety": 1}
    by_site = cells(build(ws, "codes", by="site").frame)
    assert by_site["fax"] == {"Calder": 1, "Pine Hollow": 1, "(not set)": 1}
    by_t = cells(build(ws, "codes", by="transcript").frame)
    assert by_t["fax"] == {"fg1": 1, "int1": 1, "int2": 1}


def test_a_presence_table_of_zeros_and_ones_for_r(ws):
    result = build(ws, "codes", cells="presence")
    table = cells(result.frame)
    assert table["uniform"] == {"FG-P1": 0, "FG-P2": 0, "KP-1": 1, "KP-2": 1}
    assert dict(zip(result.frame["code"], result.frame["total"]))["uniform"] == 2  # cases with the code
    assert {v for row in table.values() for v in row.values()} == {0, 1}
    transposed = build(ws, "codes", cells="presence", transpose=True).frame
    assert list(transposed.columns[:3]) == ["participant", "info", "fax"]
    assert transposed.set_index("participant").loc["KP-2", "uniform"] == 1


def test_participants_cells_and_top_level_codes(ws):
    table = cells(build(ws, "codes", by="role", cells="participants").frame)
    assert table["fax"] == {"behavioral health": 1, "medical": 1, "public safety": 1}
    top = build(ws, "codes", level="top").frame
    assert list(top["code"]) == ["info", "police", "peer", "shame"]
    assert cells(top)["info"] == {"FG-P1": 0, "FG-P2": 1, "KP-1": 2, "KP-2": 2}


def test_an_unknown_breakdown_names_the_columns_there_are(ws):
    r = cli(ws, "codes", "--by", "sitee")
    assert r.exit_code == 1
    assert "cannot break down by 'sitee'" in r.output and "did you mean 'site'" in r.output


# -- themes ----------------------------------------------------------------------------------

def test_themes_by_heif_domain(ws):
    frame = build(ws, "themes", cells="count").frame
    assert list(frame.columns) == ["theme", "name", "valence", "Patient factors", "Culturally relevant factors of recipients",
                                   "Clinical encounter or patient–provider interaction", "Inner context, organisational",
                                   "Outer context", "Societal context", "all domains"]
    table = cells(frame, "theme")
    # a theme with domains counts in each domain the excerpts whose code's own refs fall in it (a cell
    # means what its header says; the audit): 3 fax under structures, 2 partners under outer context
    assert table["information_flow"]["Outer context"] == 2 and table["information_flow"]["Inner context, organisational"] == 3
    assert table["police"]["Clinical encounter or patient–provider interaction"] == 3
    assert table["police"]["Societal context"] == 0
    # peers has no domains: each excerpt goes under its own code's refs (peer: 2, shame: 1)
    assert table["peers"]["Clinical encounter or patient–provider interaction"] == 2
    assert table["peers"]["Culturally relevant factors of recipients"] == 2
    assert table["peers"]["Patient factors"] == 1
    assert table["peers"]["Outer context"] == 0 and table["peers"]["all domains"] == 3
    participants = cells(build(ws, "themes", cells="participants").frame, "theme")
    assert participants["information_flow"]["Outer context"] == 2 and participants["police"]["all domains"] == 2


def test_theme_columns_at_domain_level(ws):
    table = cells(build(ws, "themes", cells="count", level="domain").frame, "theme")
    assert table["peers"] == {"Recipients": 3, "Clinical encounter or patient–provider interaction": 2, "Context": 0,
                              "Societal context": 0, "all domains": 3}


def test_summary_cells_give_counts_and_a_quote(ws):
    table = cells(build(ws, "themes").frame, "theme")
    assert table["information_flow"]["Inner context, organisational"].split("\n") == [
        "3 excerpts / 3 participants", "\u201cBy fax, days late.\u201d (KP-1, medical)"]
    assert table["information_flow"]["Patient factors"] == ""
    # the outer-context cell holds the partners excerpts, and its own quote
    assert table["information_flow"]["Outer context"].split("\n")[1] == "\u201cNobody talks to anybody.\u201d (KP-1, medical)"


def test_the_results_table_puts_facilitators_barriers_and_mixed_apart(ws):
    result = build(ws, "themes", table="results")
    frame = result.frame
    assert list(frame.columns) == ["Section", "Theme", "HEIF domain", "Description", "Illustrative quotes (participant, role)"]
    assert list(frame["Section"]) == ["Facilitators", "Barriers", "Mixed (facilitator and barrier)"]
    info = frame[frame["Theme"] == "Information does not flow between partners"].iloc[0]
    # an item inherited from i-PARIHS (not verified in the HEIF papers) is marked and footnoted
    assert info["HEIF domain"] == "Outer context\nInner context, organisational: Structure and systems\u2020"
    assert all("\u2020 Name not verified" in t.notes for t in result.tables[1:4])
    # the exemplar first, then the longest quote from someone else
    assert info["Illustrative quotes (participant, role)"] == (
        "\u201cBy fax, days late.\u201d (KP-1, medical)\n\u201cWe fax the list every morning.\u201d (KP-2, public safety)")
    peers = frame[frame["Theme"] == "Peers build trust"].iloc[0]
    assert peers["HEIF domain"] == "Clinical encounter or patient–provider interaction\nCulturally relevant factors of recipients\nPatient factors"
    assert [t.name for t in result.tables] == ["themes_by_domain", "facilitators", "barriers", "mixed", "results_by_domain",
                                               "themes_by_equity_domain"]


def test_a_broken_theme_domain_stops_the_matrix_with_file_and_line(ws):
    (ws / "themes.yaml").write_text(THEMES.replace("heif:context.outer", "heif:context.outerr"))
    r = cli(ws, "themes")
    assert r.exit_code == 1
    assert "themes.yaml:7:" in r.output and "heif:context.outerr" in r.output


# -- co-occurrence ---------------------------------------------------------------------------

def test_cooccurrence_over_turns_with_the_c_coefficient(ws):
    counts = build(ws, "cooccurrence").frame.set_index("code")
    assert list(counts.columns) == ["fax", "partners", "uniform", "peer", "shame"]
    assert counts.loc["fax", "fax"] == 3 and counts.loc["fax", "partners"] == 2
    assert counts.loc["uniform", "fax"] == 0
    pairs = build(ws, "cooccurrence", cells="pairs").frame
    top = pairs.iloc[0].to_dict()
    assert top == {"code_a": "fax", "code_b": "partners", "n_a": 3, "n_b": 2, "n_both": 2, "c": 0.667}
    coef = build(ws, "cooccurrence", cells="coefficient").frame.set_index("code")
    assert coef.loc["partners", "fax"] == 0.667 and coef.loc["fax", "fax"] == 1.0
    assert c_coefficient(3, 2, 2) == pytest.approx(2 / 3)


def test_pooled_codings_count_a_passage_once_and_pair_codes_only_within_one_coder(ws):
    """Pooling two coders' codings (no consensus yet) must not count one passage twice because the
    coders drew its boundaries differently, nor pair ana's code with ben's code in the same turn
    (that is disagreement, not co-occurrence: a co-occurrence is a property of one coding of the data;
    the issue's audit of the sample study). A code paired with its own parent is left out (a
    sub-code always sits inside its parent's idea)."""
    before = build(ws, "themes").parameters["excerpts"]
    w = qualkit.Workspace(ws)
    w.write_codings("ben", [coding(*x) for x in BEN] + [coding("int1", "By fax", "fax"),
                                                         coding("int1", "days late. Nobody talks", "partners")])
    w.write_codings("ana", [coding(*x) for x in ANA] + [coding("int1", "Nobody talks to anybody.", "info")])
    result = build(ws, "cooccurrence")
    assert result.parameters["excerpts"] == before + 1  # ana's new 'info'; ben's two overlaps merge
    counts = result.frame.set_index("code")
    assert counts.loc["fax", "peer"] == 0  # Bo's turn: ben's peer, ana's fax
    assert counts.loc["info", "partners"] == 0  # parent and sub-code
    assert "one coder applied both" in result.notes[0] and "built from" in result.notes[0]


def test_cooccurrence_by_sentence_separates_what_turns_join(ws):
    pairs = build(ws, "cooccurrence", cells="pairs", unit="sentence").frame
    assert len(pairs) == 0


# -- saturation ------------------------------------------------------------------------------

def test_guest_saturation_on_a_hand_counted_sequence():
    seq = [("t1", {"a", "b", "c"}), ("t2", {"b", "d"}), ("t3", {"a", "e"}), ("t4", {"c"}), ("t5", {"f"}),
           ("t6", {"a"}), ("t7", {"b"}), ("t8", set())]
    rows, at = saturation_table(seq, base=4, run=2, threshold=0.05)
    assert [r["new"] for r in rows] == [3, 1, 1, 0, 1, 0, 0, 0]
    assert [r["cumulative"] for r in rows] == [3, 4, 5, 5, 6, 6, 6, 6]
    assert (rows[3]["run"], rows[3]["new_in_run"], rows[3]["new_info"]) == ("5–6", 1, 0.2)  # f: 1 of 5 base codes
    assert (rows[4]["new_in_run"], rows[4]["new_info"], rows[4]["saturated"]) == (0, 0.0, True)
    assert at == 5  # "saturation at 5+2"
    assert saturation_table(seq, base=4, run=2, threshold=0.2)[1] == 4


def test_saturation_divides_by_the_codes_of_the_original_base_not_a_growing_one():
    """Guest, Namey & Chen 2020 (PLoS ONE 15:e0232076): new information = new codes in the run ÷ the
    unique codes in the original base. Interviews 1-4 hold 20 codes, 5 adds 20, 6 adds 2, 7 and 8 none;
    base 4, run 2, threshold 5%: run 6-7 is 2/20 = 10% (not yet), run 7-8 is 0/20, so 6+2 (a growing
    base would give 2/40 = 5% and 5+2)."""
    base = [f"b{i}" for i in range(20)]
    seq = [("i1", set(base[:5])), ("i2", set(base[5:10])), ("i3", set(base[10:15])), ("i4", set(base[15:])),
           ("i5", {f"n{i}" for i in range(20)}), ("i6", {"x", "y", "b1"}), ("i7", {"b2"}), ("i8", {"n3"})]
    rows, at = saturation_table(seq, base=4, run=2, threshold=0.05)
    assert (rows[4]["run"], rows[4]["new_in_run"], rows[4]["base_codes"], rows[4]["new_info"]) == ("6–7", 2, 20, 0.1)
    assert rows[4]["saturated"] is False
    assert (rows[5]["run"], rows[5]["new_in_run"], rows[5]["new_info"], rows[5]["saturated"]) == ("7–8", 0, 0.0, True)
    assert at == 6  # "saturation at 6+2"


def test_saturation_without_dates_asks_for_the_order(ws):
    """Guest et al. 2020 assess interviews in the order they were done: file names are not that order."""
    with pytest.raises(MatrixError, match="needs the interview order.*--order"):
        build(ws, "saturation", base=1, run=1)
    r = cli(ws, "saturation", "--base", "1", "--run", "1")
    assert r.exit_code != 0 and "needs the interview order" in r.output and "Traceback" not in r.output


def test_saturation_in_a_given_order_interviews_and_focus_groups_apart(ws):
    """Guest et al. 2020 validated the method on in-depth interviews: a focus group is another kind of
    session, so the two are assessed apart unless the analyst says otherwise (sessions="together")."""
    together = build(ws, "saturation", base=1, run=1, order="fg1,int1,int2", sessions="together")
    assert list(together.frame["new"]) == [3, 2, 0] and list(together.frame["cumulative"]) == [3, 5, 5]
    assert together.saturation.label == "2+1" and "reached at 2+1" in together.saturation.statement
    given = build(ws, "saturation", base=1, run=1, order="int2,int1,fg1", sessions="together")
    assert list(given.frame["new"]) == [3, 0, 2] and given.saturation.label == "1+1"
    apart = build(ws, "saturation", base=1, run=1, order="int2,int1,fg1")
    assert list(apart.frame["kind"]) == ["interview", "interview", "focus group"]
    assert list(apart.frame["position"]) == [1, 2, 1]
    assert [p.kind for p in apart.saturation.parts] == ["interview", "focus group"]
    assert apart.saturation.label == "1+1" and "by focus group: not assessable" in apart.saturation.statement
    with pytest.raises(MatrixError, match="no transcript 'int9'"):
        build(ws, "saturation", order="int9")


def test_saturation_follows_interview_dates_when_every_transcript_has_one(ws):
    (ws / "participants.csv").write_text(PARTICIPANTS.replace("site\n", "site,date\n")
                                         .replace("KP-1,medical,Calder", "KP-1,medical,Calder,2024-02-01")
                                         .replace("KP-2,public safety,Pine Hollow", "KP-2,public safety,Pine Hollow,2024-01-05")
                                         .replace("FG-P1,medical,Calder", "FG-P1,medical,Calder,2024-03-10"))
    result = build(ws, "saturation", base=1, run=1)
    assert list(result.frame["transcript"]) == ["int2", "int1", "fg1"]
    assert list(result.frame["date"]) == ["2024-01-05", "2024-02-01", "2024-03-10"]
    assert "interview date (participants.csv 'date' column)" in result.saturation.order_source


def test_saturation_reads_date_lines_at_the_top_of_transcripts(ws):
    for tid, when in (("int1", "Date: 1 February 2024"), ("int2", "Date: January 5, 2024"), ("fg1", "Date: 2024-03-10")):
        (ws / "transcripts" / f"{tid}.txt").write_text(f"PORT evaluation\n{when}\n\n" + TEXTS[tid])
    w = qualkit.Workspace(ws)
    w.write_codings("ana", [])  # offsets moved: one coder, re-coded below
    w.write_codings("ben", [Coding(c.transcript, c.start + len(h), c.end + len(h), c.code, c.text)
                            for c, h in ((coding(*x), _header(ws, x[0])) for x in BEN)])
    result = build(ws, "saturation", base=1, run=1)
    assert list(result.frame["transcript"]) == ["int2", "int1", "fg1"]
    assert result.saturation.order_source == "interview date ('Date:' lines in the transcripts)"


def _header(root, tid: str) -> str:
    text = (root / "transcripts" / f"{tid}.txt").read_text()
    return text[: len(text) - len(TEXTS[tid])]


def test_saturation_not_assessable_with_too_few_transcripts(ws):
    result = build(ws, "saturation", order="int1,int2,fg1")  # base 4 + run 2 > 3 transcripts
    assert not result.saturation.reached and "not assessable" in result.saturation.statement


def test_saturation_counts_focus_group_participants_one_by_one(ws):
    frame = build(ws, "saturation", by="participant", base=1, run=1, order="fg1,int1,int2").frame
    assert list(frame["participant"]) == ["FG-P1", "FG-P2", "KP-1", "KP-2"]
    assert list(frame["new"]) == [2, 1, 2, 0]  # Ann: peer, shame; Bo: fax; Maria: partners, uniform


# -- the command line ------------------------------------------------------------------------

def test_terminal_view_of_the_theme_matrix_and_results(ws):
    r = cli(ws, "themes")
    assert r.exit_code == 0
    assert "Warning: codings/consensus.csv does not exist yet" in r.output
    assert "5/3" in r.output  # information_flow: 5 excerpts from 3 participants
    assert "FACILITATORS" in r.output and "BARRIERS" in r.output and "MIXED" in r.output
    assert "\u201cBy fax, days late.\u201d (KP-1, medical)" in r.output


def test_terminal_views_of_codes_cooccurrence_and_saturation(ws):
    r = cli(ws, "codes", "--by", "role")
    assert r.exit_code == 0 and "public safety" in r.output and "uniform" in r.output
    r = cli(ws, "cooccurrence")
    assert r.exit_code == 0 and "fax" in r.output and "0.667" in r.output
    r = cli(ws, "saturation", "--base", "1", "--run", "1", "--threshold", "5%", "--order", "fg1,int1,int2",
            "--sessions", "together")
    assert r.exit_code == 0 and "reached at 2+1" in r.output


def test_json_output(ws):
    r = cli(ws, "codes", "--json")
    data = json.loads(r.stdout)
    assert data["kind"] == "codes" and data["warnings"][0].startswith("codings/consensus.csv does not exist yet")
    rows = {row["code"]: row for row in data["tables"][0]["rows"]}
    assert rows["uniform"]["KP-2"] == 2
    r = cli(ws, "saturation", "--json", "--base", "1", "--run", "1", "--order", "fg1,int1,int2", "--sessions", "together")
    assert json.loads(r.stdout)["saturation"]["label"] == "2+1"


def test_export_the_results_table_to_markdown_with_a_manifest(ws, tmp_path):
    out = tmp_path / "results.md"
    r = cli(ws, "themes", "--table", "results", "--out", str(out))
    assert r.exit_code == 0 and "Wrote" in r.output
    text = out.read_text()
    assert "## Facilitators: themes mapped onto HEIF" in text and "## Mixed (facilitator and barrier)" in text
    assert "| Theme | HEIF domain | Description | Illustrative quotes (participant, role) |" in text
    assert "themes_by_domain" not in text
    manifest = json.loads((tmp_path / "results.md.manifest.json").read_text())
    inputs = {i["path"] for i in manifest["inputs"]}
    assert {"themes.yaml", "codings/ana.csv", "codings/ben.csv", "codebooks/cb.yaml", "transcripts/int1.txt",
            "transcripts/fg1.txt", "participants.csv", "qualkit.yaml"} <= inputs
    assert manifest["parameters"]["kind"] == "themes" and manifest["parameters"]["codings"] == "pooled: ana, ben"
    assert manifest["parameters"]["tables"] == ["facilitators", "barriers", "mixed"]


def test_export_csv_html_and_json(ws, tmp_path):
    r = cli(ws, "codes", "--cells", "presence", "--format", "csv", "--out", str(tmp_path / "presence.csv"))
    assert r.exit_code == 0
    lines = (tmp_path / "presence.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "code,name,FG-P1,FG-P2,KP-1,KP-2,total"
    assert "uniform,Police uniforms,0,0,1,1,2" in lines
    r = cli(ws, "cooccurrence", "--out", str(tmp_path / "co.html"))
    assert r.exit_code == 0 and "<table>" in (tmp_path / "co.html").read_text()
    r = cli(ws, "themes", "--format", "json", "--out", str(tmp_path / "themes.json"))
    data = json.loads((tmp_path / "themes.json").read_text())
    assert [t["name"] for t in data["tables"]] == ["themes_by_domain", "facilitators", "barriers", "mixed",
                                                "results_by_domain", "themes_by_equity_domain"]
    r = cli(ws, "saturation", "--format", "md", "--order", "int1,int2,fg1")  # default place: exports/
    assert r.exit_code == 0 and (ws / "exports" / "matrix_saturation.md").is_file()


def test_a_format_that_contradicts_the_file_name_is_a_usage_error(ws, tmp_path):
    r = cli(ws, "codes", "--format", "csv", "--out", str(tmp_path / "x.md"))
    assert r.exit_code == 2 and "make them agree" in r.output
    r = cli(ws, "nonsense")
    assert r.exit_code == 2


# -- the sample study ------------------------------------------------------------------------

def test_the_sample_study_results_table(tmp_path):
    root = demo(tmp_path / "s")
    w = qualkit.Workspace(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MatrixWarning)
        results = matrix(w, "themes", table="results")
    assert set(results["Section"]) == {"Facilitators", "Barriers", "Mixed (facilitator and barrier)"}
    peers = results[results["Theme"] == "Peers with lived experience build trust"].iloc[0]
    assert peers["Section"] == "Facilitators"
    assert "Clinical encounter" in peers["HEIF domain"]
    import re

    quotes = [q for cell in results["Illustrative quotes (participant, role)"] for q in cell.split("\n")]
    assert len(quotes) == 2 * len(results)
    for q in quotes:
        m = re.fullmatch(r"\u201c(.+)\u201d \(((?:FG\d-P\d|KP-\d)), (behavioral health|medical|public health|public safety)\)", q)
        assert m, q
        assert len(m.group(1)) <= 300


def test_the_sample_study_codes_and_saturation(tmp_path):
    root = demo(tmp_path / "s")
    w = qualkit.Workspace(root)
    presence = build_matrix(w, "codes", cells="presence", by="role").frame
    assert list(presence.columns) == ["code", "name", "behavioral health", "medical", "public health", "public safety",
                                      "(not set)", "total"]   # (not set): the site-visit notes have no speaker
    assert set(presence[["behavioral health", "medical", "public health", "public safety"]].values.ravel()) <= {0, 1}
    sat = build_matrix(w, "saturation", sessions="together")  # participants.csv dates: the focus groups came first
    assert list(sat.frame["transcript"])[:3] == ["fg1_calder", "fg2_pinehollow", "fg3_regional"]
    assert sat.saturation.reached and sat.saturation.total_codes == 26


def test_a_consensus_keeps_the_single_coded_transcripts_in_the_analysis(tmp_path):
    """Reconciling the double-coded transcripts must not drop the ones only one coder coded."""
    import qualkit
    from qualkit.analysis.matrices import resolve_codings
    from qualkit.analysis.reconcile import reconcile
    from qualkit.analysis.summaries import load_codings
    from qualkit.workspace.scaffold import demo

    ws = qualkit.Workspace(demo(tmp_path / "s"))
    reconcile(ws, ["ana", "ben"])  # nothing decided yet: only agreed codings in the consensus
    pairs, source = resolve_codings(ws, "consensus")
    transcripts = {c.transcript for c, _ in pairs}
    assert {"fg3_regional", "int2_ed_physician", "int4_bh_director", "int5_ems_captain"} <= transcripts
    assert source.label == "consensus + single-coded" and "int2_ed_physician (ben)" in source.warnings[0]
    fg3 = [c for c, who in pairs if c.transcript == "fg3_regional"]
    assert len(fg3) == len([c for c in ws.codings("ana") if c.transcript == "fg3_regional"])
    assert {c.transcript for c in load_codings(ws).codings} == transcripts


# -- provenance --------------------------------------------------------------------------------

def test_every_exported_table_says_what_it_was_built_from(ws, tmp_path):
    """A table built on a half-finished consensus must say so (the issue's audit: 10 of 129 decided,
    tables switched silently); COREQ item 24 (Tong et al. 2007) asks how many coders coded the data
    and how they agreed, so the reader needs: consensus (complete or partial: N of M undecided), one
    coder, or coders merged, in the notes of DOCX/XLSX/Markdown and in the manifest of every file."""
    from qualkit.analysis.reconcile import reconcile

    w = qualkit.Workspace(ws)
    merged = build(ws, "codes")
    assert "merged (no consensus)" in merged.tables[0].notes
    assert "one coder's codings (ana)" in build(ws, "codes", coder="ana").tables[0].notes
    first = reconcile(w, ["ana", "ben"], dry_run=True)
    reconcile(w, ["ana", "ben"], decisions={first.undecided[0]: "A"})
    total = first.disagreements
    result = build(ws, "themes")
    expected = f"partial: {total - 1} of {total} disagreements of ana and ben undecided"
    assert all(expected in (t.notes or "") for t in result.tables)
    for fmt in ("docx", "xlsx", "csv"):
        r = cli(ws, "themes", "--out", str(tmp_path / f"t.{fmt}"))
        assert r.exit_code == 0, r.output
        manifest = json.loads((tmp_path / f"t.{fmt}.manifest.json").read_text())
        assert expected in json.dumps(manifest)
    import docx
    import openpyxl

    assert expected in "\n".join(p.text for p in docx.Document(str(tmp_path / "t.docx")).paragraphs)
    cells = [str(c.value) for row in openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0].iter_rows() for c in row]
    assert any(expected in c for c in cells)
    reconcile(w, ["ana", "ben"], decisions={k: "A" for k in first.undecided})
    assert f"complete: all {total} disagreements" in build(ws, "themes").tables[0].notes
