"""`qualkit agree` as a user meets it: per-code agreement tables, flags, exports and errors.

The small study: two interviews (int1, int2) of ten interviewer questions and ten answers each,
coded by ana and ben, and a third (int3) coded by ana only. The answers are the units (turns), so
unit n is the n-th answer counting across int1 then int2. Expected figures come from the 2 × 2
tables by hand, checked again with the pure functions of qualkit.agreement on the matrices.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import qualkit
import qualkit.cli
from qualkit.agreement import (
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    jaccard_distance,
    krippendorff_alpha,
    masi_distance,
    percent_agreement,
    set_alpha,
)
from qualkit.agreement.patterns import PatternCells
from qualkit.agreement.profiles import set_alpha_by_profiles, set_distances
from qualkit.agreement.spans import match_spans
from qualkit.analysis.agree import agreement
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import init

CODES = [("fax", "Referrals by fax"), ("trust", "Trust"), ("law", "Lawyers"), ("q", "Interview question")]
# units (answers) each coder applied each code to; 1-10 are int1's answers, 11-20 int2's
PLAN = {
    "ana": {"fax": {1, 2, 3, 4}, "trust": {11, 12, 13}, "law": {20}},
    "ben": {"fax": {1, 2, 3, 5}, "trust": {13, 14, 15}, "law": {20}},
}


def interview(tid: str) -> str:
    return "".join(f"Interviewer: Question {i} for {tid}?\nMaria: Answer {i} of {tid}, about referrals and trust.\n"
                   for i in range(1, 11))


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n,Maria,KP-4,nurse\n")
    for tid in ("int1", "int2", "int3"):
        (root / "transcripts" / f"{tid}.txt").write_text(interview(tid))
    save_codebook(Codebook("cb", "Codebook", [Code(i, n) for i, n in CODES]), root / "codebooks" / "cb.yaml")
    w = qualkit.Workspace(root)
    for coder, plan in PLAN.items():
        codings = [answer(w, n, code) for code, units in plan.items() for n in sorted(units)]
        if coder == "ana":
            t = w.transcript("int1")
            first = t.turns[0]  # an interviewer turn: left out unless --include-moderator
            codings.append(Coding("int1", first.start, first.end, "q", t.text[first.start:first.end]))
            codings.append(answer(w, 3, "fax", tid="int3"))
        w.write_codings(coder, codings)
    return w


def answer(w, n: int, code: str, tid: str | None = None, part: slice = slice(None)) -> Coding:
    """A coding of answer n (1-20 across int1, int2) or of part of its text."""
    tid = tid or ("int1" if n <= 10 else "int2")
    t = w.transcript(tid)
    turn = [x for x in t.turns if x.speaker == "Maria"][(n - 1) % 10]
    text = t.text[turn.start:turn.end]
    start = turn.start + (part.start or 0)
    end = turn.start + (part.stop if part.stop is not None else len(text))
    return Coding(tid, start, end, code, t.text[start:end])


def run(w, *args):
    return CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(w.root), "agree", *args], catch_exceptions=False)


def matrix(units_a: set, units_b: set, n: int = 20) -> list[list[int]]:
    return [[int(u in units_a) for u in range(1, n + 1)], [int(u in units_b) for u in range(1, n + 1)]]


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def test_per_code_figures_match_the_two_by_two_tables(ws):
    report = agreement(ws, ["ana", "ben"])
    rows = report.table.set_index("code")
    assert report.transcripts == ["int1", "int2"] and report.n_units == 20
    # fax: both 3, ana only 1, ben only 1, neither 15 -> p_o .9, p_e .2*.2 + .8*.8 = .68
    fax = rows.loc["fax"]
    assert fax.n_units == 20 and fax.n_coded == 5 and fax.prevalence == pytest.approx(0.2)
    assert fax.percent_agreement == pytest.approx(0.9)
    assert fax.kappa == pytest.approx((0.9 - 0.68) / (1 - 0.68)) and fax.kappa_kind == "Cohen"
    assert fax.alpha == pytest.approx(1 - 39 * 2 / (8 * 32))          # 1 - (n-1) o_01 / (n_0 n_1)
    assert fax.ac1 == pytest.approx((0.9 - 2 * 0.2 * 0.8) / (1 - 2 * 0.2 * 0.8))
    assert fax.code_name == "Referrals by fax" and fax["flags"] == ""
    for code in ("fax", "trust", "law"):
        m = matrix(PLAN["ana"][code], PLAN["ben"][code])
        r = rows.loc[code]
        assert r.kappa == pytest.approx(cohen_kappa(m))
        assert r.alpha == pytest.approx(krippendorff_alpha(m))
        assert r.ac1 == pytest.approx(gwet_ac1(m, categories=[0, 1]))
        assert r.percent_agreement == pytest.approx(percent_agreement(m))


def test_skewed_code_is_flagged_as_kappa_paradox_and_table_is_sorted_worst_first(ws):
    report = agreement(ws, ["ana", "ben"])
    trust = report.table.set_index("code").loc["trust"]
    # both 1, ana only 2, ben only 2, neither 15: 80% agreement but kappa .216
    assert trust.percent_agreement == pytest.approx(0.8)
    assert trust.kappa == pytest.approx((0.8 - 0.745) / 0.255)
    assert "kappa paradox" in trust["flags"] and "rare" not in trust["flags"]
    assert list(report.table.code) == ["trust", "fax", "law", "q"]  # by alpha; undefined last


def test_rare_and_undefined_codes_are_flagged_not_crashed(ws):
    rows = agreement(ws, ["ana", "ben"]).table.set_index("code")
    assert rows.loc["law"]["flags"] == "rare" and rows.loc["law"].kappa == pytest.approx(1.0)
    q = rows.loc["q"]  # only ever applied to an interviewer turn, which is left out
    assert np.isnan(q.kappa) and np.isnan(q.alpha) and q.n_coded == 0
    assert q["flags"].startswith("undefined") and "no coder applied this code" in q.notes


def test_moderator_turns_are_left_out_unless_asked(ws):
    assert agreement(ws, ["ana", "ben"]).n_units == 20
    report = agreement(ws, ["ana", "ben"], include_facilitators=True)
    assert report.n_units == 40
    q = report.table.set_index("code").loc["q"]
    assert q.n_coded == 1 and q.kappa == pytest.approx(0.0) and "undefined" not in q["flags"]


def test_terminal_table_reports_left_out_transcripts_and_definitions(ws):
    r = run(ws, "--coders", "ana,ben")
    assert r.exit_code == 0, r.output
    assert "2 transcripts coded by all (int1, int2), 20 turns" in r.output
    assert "Left out (1): int3 (not coded by ben)." in r.output
    lines = r.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Code "))
    assert "Cohen's κ" in lines[header] and "AC1" in lines[header]
    assert lines[header + 1].split()[:2] == ["trust", "Trust"]
    assert "kappa paradox" in lines[header + 1]
    fax = next(line for line in lines if line.startswith("fax "))
    assert "0.90" in fax and "0.69" in fax and "0.70" in fax
    assert any(line.startswith("(pooled)") for line in lines)
    assert "MASI" in r.output and "Jaccard" in r.output


def test_coders_and_unit_default_to_qualkit_yaml(ws):
    cfg = ws.root / "qualkit.yaml"
    cfg.write_text(cfg.read_text().replace("coders: []", "coders: [ana, ben]").replace("unit: turn", "unit: sentence"))
    r = run(ws, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["coders"] == ["ana", "ben"] and data["unit"] == "sentence" and data["n_units"] == 20


# ---------------------------------------------------------------------------------------------
# Pooled figures and set alpha
# ---------------------------------------------------------------------------------------------


def test_pooled_row_is_the_statistics_of_the_code_by_unit_stack(ws):
    report = agreement(ws, ["ana", "ben"])
    codes = list(report.table.code)
    stack = np.hstack([matrix(PLAN["ana"].get(c, set()), PLAN["ben"].get(c, set())) for c in codes])
    pooled = report.overall.iloc[0]
    assert pooled.code == "(pooled)" and pooled.n_units == 80
    assert pooled.percent_agreement == pytest.approx(percent_agreement(stack))
    assert pooled.kappa == pytest.approx(cohen_kappa(stack))
    assert pooled.alpha == pytest.approx(krippendorff_alpha(stack))
    assert pooled.ac1 == pytest.approx(gwet_ac1(stack, categories=[0, 1]))


def test_set_alpha_uses_each_units_set_of_codes(ws):
    report = agreement(ws, ["ana", "ben"])
    sets = [[frozenset(c for c, units in PLAN[coder].items() if u in units) for u in range(1, 21)] for coder in ("ana", "ben")]
    assert report.set_alpha["masi"] == pytest.approx(set_alpha(sets, "masi"))
    assert report.set_alpha["jaccard"] == pytest.approx(set_alpha(sets, "jaccard"))


# ---------------------------------------------------------------------------------------------
# Breakdowns, three coders, intervals
# ---------------------------------------------------------------------------------------------


def test_by_transcript_gives_each_transcripts_figures(ws):
    report = agreement(ws, ["ana", "ben"], by="transcript")
    b = report.breakdown
    fax1 = b[(b.transcript == "int1") & (b.code == "fax")].iloc[0]
    # int1 alone: both 3, ana only 1, ben only 1, neither 5
    assert fax1.n_units == 10 and fax1.kappa == pytest.approx(cohen_kappa(matrix({1, 2, 3, 4}, {1, 2, 3, 5}, 10)))
    assert set(b[b.code == "(pooled)"].transcript) == {"int1", "int2"}
    r = run(ws, "--coders", "ana,ben", "--by", "transcript")
    assert r.exit_code == 0 and "By transcript" in r.output
    assert any(line.startswith("int1 ") for line in r.output.splitlines())


def test_three_coders_use_fleiss_kappa_and_break_down_by_coder_pair(ws):
    cy = {"fax": {1, 2, 4, 5}, "trust": {13}, "law": {19, 20}}
    ws.write_codings("cy", [answer(ws, n, code) for code, units in cy.items() for n in sorted(units)])
    report = agreement(ws, "ana,ben,cy", by="coder-pair")
    fax = report.table.set_index("code").loc["fax"]
    m = matrix(PLAN["ana"]["fax"], PLAN["ben"]["fax"]) + [matrix(cy["fax"], set())[0]]
    assert fax.kappa_kind == "Fleiss" and fax.kappa == pytest.approx(fleiss_kappa(m))
    assert fax.alpha == pytest.approx(krippendorff_alpha(m)) and fax.ac1 == pytest.approx(gwet_ac1(m, categories=[0, 1]))
    b = report.breakdown
    assert sorted(set(b.coder_pair)) == ["ana-ben", "ana-cy", "ben-cy"]
    pair = b[(b.coder_pair == "ben-cy") & (b.code == "fax")].iloc[0]
    assert pair.kappa_kind == "Cohen" and pair.kappa == pytest.approx(cohen_kappa([m[1], m[2]]))


def test_confidence_intervals_are_reproducible_and_bracket_the_estimate(ws):
    a = agreement(ws, ["ana", "ben"], ci=True, resamples=300, seed=7)
    b = agreement(ws, ["ana", "ben"], ci=True, resamples=300, seed=7)
    assert a.table.equals(b.table)
    fax = a.table.set_index("code").loc["fax"]
    assert fax.kappa_low <= fax.kappa <= fax.kappa_high and fax.alpha_low < fax.alpha_high
    assert a.set_alpha["masi_low"] <= a.set_alpha["masi"] <= a.set_alpha["masi_high"]
    assert a.ci["seed"] == 7 and a.ci["resamples"] == 300
    r = run(ws, "--coders", "ana,ben", "--ci", "--resamples", "200")
    assert r.exit_code == 0 and "bootstrap intervals (200 resamples of turns, seed 1)" in r.output


def test_intervals_agree_with_bootstrap_ci_which_resamples_units_the_same_way(ws):
    report = agreement(ws, ["ana", "ben"], ci=True, resamples=4000, seed=3)
    fax = report.table.set_index("code").loc["fax"]
    ref = bootstrap_ci(matrix(PLAN["ana"]["fax"], PLAN["ben"]["fax"]), "percent_agreement", n_boot=4000, seed=3)
    assert fax.percent_agreement_low == pytest.approx(ref.low, abs=0.051)
    assert fax.percent_agreement_high == pytest.approx(ref.high, abs=0.051)


def test_threshold_marks_codes_below_it(ws):
    report = agreement(ws, ["ana", "ben"], threshold=0.8)
    flags = report.table.set_index("code")["flags"]
    assert "below 0.8" in flags["fax"] and "below 0.8" in flags["trust"] and "below" not in flags["law"]
    by_kappa = agreement(ws, ["ana", "ben"], metric="kappa", threshold=0.5)
    assert "below 0.5" not in by_kappa.table.set_index("code")["flags"]["fax"]


# ---------------------------------------------------------------------------------------------
# Character units and span matching
# ---------------------------------------------------------------------------------------------


def test_character_units_equal_per_character_boolean_arrays(ws):
    # partial spans, one crossing from an answer into the next interviewer turn and beyond
    t = ws.transcript("int1")
    turns = t.turns
    ws.write_codings("ana", [answer(ws, 1, "fax", part=slice(0, 12)), answer(ws, 2, "fax"),
                             Coding("int1", turns[3].start + 5, turns[5].start + 8, "trust"),
                             answer(ws, 12, "fax", part=slice(3, 9))])
    ws.write_codings("ben", [answer(ws, 1, "fax", part=slice(4, 20)), answer(ws, 2, "trust"),
                             answer(ws, 12, "fax", part=slice(0, 5))])
    report = agreement(ws, ["ana", "ben"], unit="character")
    # the naive way: one boolean per character of the answers' text, per coder and code
    cols = {}
    for tid in ("int1", "int2"):
        tr = ws.transcript(tid)
        for turn in tr.turns:
            if turn.speaker == "Maria":
                for pos in range(turn.start, turn.end):
                    cols[(tid, pos)] = len(cols)
    expected = {}
    for code in ("fax", "trust"):
        m = np.zeros((2, len(cols)), dtype=int)
        for g, coder in enumerate(("ana", "ben")):
            for c in ws.codings(coder):
                if c.code == code:
                    for pos in range(c.start, c.end):
                        if (c.transcript, pos) in cols:
                            m[g, cols[(c.transcript, pos)]] = 1
        expected[code] = m
    rows = report.table.set_index("code")
    assert report.n_units == len(cols)
    for code, m in expected.items():
        assert rows.loc[code].n_coded == int(m.max(axis=0).sum())
        assert rows.loc[code].kappa == pytest.approx(cohen_kappa(m))
        assert rows.loc[code].alpha == pytest.approx(krippendorff_alpha(m))
        assert rows.loc[code].ac1 == pytest.approx(gwet_ac1(m, categories=[0, 1]))
    ci = agreement(ws, ["ana", "ben"], unit="character", ci=True, resamples=200).table.set_index("code")
    assert ci.loc["fax"].alpha_low <= rows.loc["fax"].alpha <= ci.loc["fax"].alpha_high


def test_span_matching_counts_matched_pairs_and_unmatched_spans(ws):
    # fax: ana 0-20 vs ben 4-20 of answer 1 (16 of 20 shared: a match); law: 0-8 vs 0-30 (8/30: no match)
    ws.write_codings("ana", [answer(ws, 1, "fax", part=slice(0, 20)), answer(ws, 2, "law", part=slice(0, 8)),
                             answer(ws, 3, "fax", part=slice(0, 5)), answer(ws, 3, "fax", part=slice(3, 10))])
    ws.write_codings("ben", [answer(ws, 1, "fax", part=slice(4, 20)), answer(ws, 2, "law", part=slice(0, 30)),
                             answer(ws, 3, "fax", part=slice(0, 10))])
    report = agreement(ws, ["ana", "ben"], overlap=0.5)
    rows = report.table.set_index("code")
    # ana's two overlapping fax spans in answer 3 merge into 0-10, which matches ben's exactly
    assert (rows.loc["fax"].matched, rows.loc["fax"].unmatched) == (2, 0)
    assert (rows.loc["law"].matched, rows.loc["law"].unmatched) == (0, 2)
    pooled = report.overall.iloc[0]
    assert pooled.percent_agreement == pytest.approx(2 / 4) and pooled.f1 == pytest.approx(4 / 6)
    assert np.isnan(pooled.kappa) and report.set_alpha["masi"] is None
    strict = agreement(ws, ["ana", "ben"], overlap=1.0).table.set_index("code")
    assert (strict.loc["fax"].matched, strict.loc["fax"].unmatched) == (1, 2)
    r = run(ws, "--coders", "ana,ben", "--overlap", "0.5")
    assert r.exit_code == 0 and "span matching (overlap ≥ 0.5" in r.output and "F1" in r.output


def test_match_spans_pairs_one_to_one_largest_overlap_first():
    assert match_spans([(0, 10)], [(0, 4), (4, 10)], 0.5) == 1          # 6/10 wins over 4/10
    assert match_spans([(0, 10)], [(0, 4), (4, 10)], 0.7) == 0
    assert match_spans([(0, 10), (20, 30)], [(2, 10), (20, 29)], 0.8) == 2
    assert match_spans([], [(0, 3)], 0.5) == 0


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------


def test_csv_json_md_html_exports_with_manifests(ws, tmp_path):
    out = tmp_path / "out"
    r = run(ws, "--coders", "ana,ben", "--by", "transcript", "--csv", str(out / "a.csv"), "--md", str(out / "a.md"),
            "--html", str(out / "a.html"))
    assert r.exit_code == 0, r.output
    import pandas as pd

    csv = pd.read_csv(out / "a.csv")
    assert {"transcript", "code", "kappa", "alpha", "ac1", "flags"} <= set(csv.columns)
    assert csv[(csv.transcript == "(all)") & (csv.code == "fax")].kappa.iloc[0] == pytest.approx(0.6875)
    assert "(pooled)" in set(csv.code) and "int2" in set(csv.transcript)
    md = (out / "a.md").read_text()
    assert md.startswith("## Inter-coder agreement") and "| fax | Referrals by fax | 20 |" in md
    assert "**All codes (pooled)**" in md and "### By transcript" in md
    page = (out / "a.html").read_text()
    assert page.startswith('<section class="qualkit-agreement">') and "<table>" in page
    assert "http" not in page.split("Definitions")[0] and "<script" not in page and "<link" not in page
    for name in ("a.csv", "a.md", "a.html"):
        manifest = json.loads((out / f"{name}.manifest.json").read_text())
        assert manifest["parameters"]["coders"] == ["ana", "ben"] and manifest["parameters"]["unit"] == "turn"
        inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
        assert "codings/ana.csv" in inputs and "transcripts/int1.txt" in inputs and "transcripts/int3.txt" not in inputs
        assert manifest["outputs"] and manifest["versions"]["numpy"]
    data = json.loads(run(ws, "--coders", "ana,ben", "--json").output)
    fax = next(c for c in data["codes"] if c["code"] == "fax")
    assert fax["kappa"] == pytest.approx(0.6875) and data["left_out"] == [{"transcript": "int3", "not_coded_by": ["ben"]}]
    q = next(c for c in data["codes"] if c["code"] == "q")
    assert q["kappa"] is None and q["flags"][0] == "undefined"


# ---------------------------------------------------------------------------------------------
# Bad input: one line, exit 1, nothing written
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--coders", "ana,zoe"], "no codings file for coder(s) zoe (known: ana, ben)"),
    (["--coders", "ana,ben", "--unit", "word"], "unit must be one of turn, sentence, paragraph, question, document, character"),
    (["--coders", "ana,ben", "--overlap", "0"], "overlap must be a share in (0, 1]"),
    (["--coders", "ana,ben", "--overlap", "1.2"], "overlap must be a share in (0, 1]"),
    ([], "name the coders to compare"),
])
def test_bad_input_is_one_line_exit_1_and_writes_nothing(ws, tmp_path, args, message):
    r = run(ws, *args, "--csv", str(tmp_path / "x.csv"))
    assert r.exit_code == 1 and message in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.csv.manifest.json").exists()


def test_codings_of_missing_transcripts_or_codes_name_file_and_row(ws):
    ws.write_codings("ben", [answer(ws, 1, "fax"), Coding("int9", 0, 4, "fax", "abcd")])
    r = run(ws, "--coders", "ana,ben")
    assert r.exit_code == 1 and "ben.csv:3: transcript 'int9' is not in transcripts/" in r.output
    ws.write_codings("ben", [answer(ws, 1, "nope")])
    r = run(ws, "--coders", "ana,ben")
    assert r.exit_code == 1 and "ben.csv:2: code 'nope' is not in any codebook" in r.output


def test_coders_with_no_transcript_in_common(ws):
    ws.write_codings("ben", [answer(ws, 3, "fax", tid="int3")])
    ws.write_codings("ana", [answer(ws, 3, "fax", tid="int1")])
    r = run(ws, "--coders", "ana,ben")
    assert r.exit_code == 1 and "have no transcript in common" in r.output


# ---------------------------------------------------------------------------------------------
# The vectorised statistics equal the pure functions on any 0/1 matrix
# ---------------------------------------------------------------------------------------------


def _cells_stats(x: np.ndarray) -> dict:
    cells = PatternCells(x.shape[0])
    idx = cells.index(x[:, :, None])[:, 0]
    return {k: float(v[0]) for k, v in cells.stats(np.bincount(idx, minlength=cells.n)[None, :]).items()}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.integers(2, 4).flatmap(lambda m: st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=2, max_size=30)))
def test_vectorised_binary_statistics_equal_the_pure_functions(units):
    x = np.array(units, dtype=bool).T  # coders × units
    m = x.shape[0]
    got = _cells_stats(x)
    data = x.astype(int)
    assert got["percent_agreement"] == pytest.approx(percent_agreement(data))
    assert got["ac1"] == pytest.approx(gwet_ac1(data, categories=[0, 1]))
    for name, fn in (("kappa", cohen_kappa if m == 2 else fleiss_kappa), ("alpha", krippendorff_alpha)):
        try:
            expected = fn(data, categories=[0, 1])
        except ValueError:
            assert np.isnan(got[name])
        else:
            assert got[name] == pytest.approx(expected, abs=1e-9)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.integers(1, 9), st.integers(1, 25), st.integers(0, 2**31 - 1))
def test_set_alpha_by_profiles_equals_set_alpha(m, k, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((m, n, k)) < rng.uniform(0.05, 0.6)
    got = set_alpha_by_profiles(x, np.ones(n, dtype=np.int64))
    data = [[frozenset(np.flatnonzero(x[g, u])) for u in range(n)] for g in range(m)]
    for name in ("masi", "jaccard"):
        try:
            expected = set_alpha(data, name)
        except ValueError:
            assert np.isnan(got[name])
        else:
            assert got[name] == pytest.approx(expected, abs=1e-9)


def test_set_distances_equal_masi_and_jaccard():
    sets = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=bool)
    d = set_distances(sets)
    fs = [frozenset(np.flatnonzero(r)) for r in sets]
    for i, a in enumerate(fs):
        for j, b in enumerate(fs):
            assert d["masi"][i, j] == pytest.approx(masi_distance(a, b))
            assert d["jaccard"][i, j] == pytest.approx(jaccard_distance(a, b))


def test_span_matching_with_three_coders_sums_over_pairs(ws):
    ws.write_codings("ana", [answer(ws, 1, "fax", part=slice(0, 20)), answer(ws, 2, "law")])
    ws.write_codings("ben", [answer(ws, 1, "fax", part=slice(4, 20))])
    ws.write_codings("cy", [answer(ws, 1, "fax", part=slice(4, 20))])
    report = agreement(ws, ["ana", "ben", "cy"], overlap=0.5, by="coder-pair")
    fax = report.table.set_index("code").loc["fax"]
    assert (fax.n_spans, fax.matched, fax.unmatched, fax.f1) == (3, 3, 0, 1.0)
    law = report.table.set_index("code").loc["law"]  # ana's span has no partner in either of her two pairs
    assert (law.n_spans, law.matched, law.unmatched) == (1, 0, 2)
    b = report.breakdown.set_index(["coder_pair", "code"])
    assert (b.loc[("ben-cy", "fax")].matched, b.loc[("ben-cy", "fax")].n_spans) == (1, 2)
    by_t = agreement(ws, ["ana", "ben", "cy"], overlap=0.5, by="transcript").breakdown.set_index(["transcript", "code"])
    assert by_t.loc[("int1", "fax")].n_spans == 3


def test_set_alpha_in_row_blocks_equals_the_whole_matrices_and_never_holds_sets_squared(monkeypatch):
    """Issue 17: many distinct code sets (S) made set alpha hold several S × S float matrices (GBs)."""
    import tracemalloc

    import qualkit.agreement.profiles as profiles
    from qualkit.agreement.patterns import Resampling

    rng = np.random.default_rng(3)
    x = rng.random((3, 3000, 30)) < 0.05
    w = np.ones(3000, dtype=np.int64)
    whole = set_alpha_by_profiles(x, w, None, Resampling(200, 1, 0.95))
    n_sets = whole["n_distinct_sets"]
    monkeypatch.setattr(profiles, "_BLOCK_BYTES", 64 * 8 * n_sets)   # 64 rows at a time
    tracemalloc.start()
    blocked = set_alpha_by_profiles(x, w, None, Resampling(200, 1, 0.95))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for key in ("masi", "jaccard", "masi_low", "masi_high", "jaccard_low", "jaccard_high"):
        assert blocked[key] == pytest.approx(whole[key], abs=1e-12)
    assert peak < 8 * n_sets * n_sets
