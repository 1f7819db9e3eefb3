"""Studies beyond interviews (Formica et al. 2022's design: encounter data plus notes from monthly
calls and site visits): field notes with no speakers ingest as documents with attributes from
documents.csv, a `## Site: ...` heading puts a section under its case, cases.csv gives cases
attributes, and matrices are cut by any of them."""
from __future__ import annotations

import pytest

NOTES = """# Site-visit notes, March 2026

## Site: Millbrook

Referrals arrive by fax, two days late on average.

The deputy rides along on every visit; families do not open the door.

## Site: Pine Hollow

Referrals come by phone from the fire chief, same day.

No broadband north of the reservoir, so telehealth follow-ups fail.
"""
CALL = "Monthly call, April. Millbrook says the fax machine broke again; referrals waited a week.\n"
DOCUMENTS = "document,source_type,date,site\nvisit_notes,site-visit report,2026-03-12,\ncall_04,meeting notes,2026-04-02,Millbrook\n"
CASES = "case,type,rurality,county_pop\nMillbrook,site,rural,12000\nPine Hollow,site,frontier,3100\n"


@pytest.fixture
def study(make_workspace):
    ws = make_workspace({"int1": "Interviewer: How do referrals arrive?\nMaria: By fax, days late.\n",
                         "visit_notes.md": NOTES, "call_04": CALL},
                        codebook=[("fax", "Referrals by fax"), ("police", "Police at visits"),
                                  ("broadband", "No broadband")],
                        coders={"ana": [("By fax, days late", "fax"),
                                        ("Referrals arrive by fax, two days late", "fax"),
                                        ("The deputy rides along", "police"),
                                        ("No broadband north of the reservoir", "broadband"),
                                        ("the fax machine broke again", "fax")]})
    (ws.root / "documents.csv").write_text(DOCUMENTS)
    (ws.root / "cases.csv").write_text(CASES)
    return ws


def test_field_notes_ingest_as_documents_with_their_attributes(study, run_cli):
    r = run_cli("ingest")
    assert r.exit_code == 0, r.output
    turns = study.turn_table()
    notes = turns[turns["transcript"] == "visit_notes"]
    assert set(notes["source_type"]) == {"site-visit report"}
    by_text = dict(zip(notes["text"], notes["site"]))
    assert by_text["Referrals arrive by fax, two days late on average."] == "Millbrook"
    assert by_text["No broadband north of the reservoir, so telehealth follow-ups fail."] == "Pine Hollow"
    call = turns[turns["transcript"] == "call_04"].iloc[0]
    assert call["site"] == "Millbrook" and call["rurality"] == "rural"     # from cases.csv via the site
    # the interview keeps its participant's site
    assert set(turns[turns["transcript"] == "int1"]["site"].dropna()) == {"Pine Hollow"}


def test_matrices_cut_by_site_and_by_a_case_attribute(study, run_cli):
    site = study.matrix("codes", by="site", coder="ana")
    row = site.set_index("code").loc["fax"]
    assert row["Millbrook"] == 2 and row["Pine Hollow"] == 1
    assert study.matrix("codes", by="site", coder="ana").set_index("code").loc["broadband"]["Pine Hollow"] == 1
    rural = study.matrix("codes", by="rurality", coder="ana").set_index("code")
    assert rural.loc["police"]["rural"] == 1 and rural.loc["broadband"]["frontier"] == 1
    kinds = study.matrix("codes", by="source_type", coder="ana").set_index("code")
    assert kinds.loc["fax"]["meeting notes"] == 1 and kinds.loc["fax"]["site-visit report"] == 1
    r = run_cli("matrix", "codes", "--by", "rurallity")
    assert r.exit_code == 1 and "did you mean 'rurality'" in r.output


def test_a_blank_speaker_maps_a_documents_unlabeled_turns_to_a_participant(make_workspace, run_cli):
    ws = make_workspace({"fieldnotes": "The nurse said referrals come late.\n\nShe keeps a paper list.\n"},
                        participants="transcript,speaker,participant_id,role,site\n"
                                     "fieldnotes,,OBS-1,observer,Millbrook\n")
    r = run_cli("ingest")
    assert r.exit_code == 0 and "Error" not in r.output, r.output
    turns = ws.turn_table()
    assert set(turns["participant_id"]) == {"OBS-1"} and set(turns["site"]) == {"Millbrook"}


def test_a_broken_documents_or_cases_file_names_the_line(study, run_cli):
    (study.root / "cases.csv").write_text(CASES + "Millbrook,site,urban,1\n")
    r = run_cli("matrix", "codes", "--by", "site")
    assert r.exit_code == 1 and "cases.csv:4: case 'Millbrook' is listed twice" in r.output
    assert "Traceback" not in r.output


SITES = "site,engagement_rate,referrals\nMillbrook,0.31,42\nPine Hollow,0.58,17\nCalder,0.44,9\n"
THEMES = """themes:
  - id: information_flow
    name: Referrals arrive late
    valence: barrier
    codes: [fax]
    domains: [heif:structure_and_systems]
  - id: reach
    name: Rural distance limits reach
    valence: barrier
    codes: [police, broadband]
    domains: [heif:physical_structures]
"""


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "docx", "md", "tex", "html", "json"])
def test_a_joint_display_puts_each_sites_measures_beside_its_themes_in_every_format(study, run_cli, fmt):
    """Fetters, Curry & Creswell (2013): a side-by-side joint display of measures and themes per case."""
    (study.root / "themes.yaml").write_text(THEMES)
    (study.root / "sites.csv").write_text(SITES)
    out = study.root / f"joint.{fmt}"
    r = run_cli("matrix", "joint", "--measures", "sites.csv", "--coder", "ana", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert out.is_file() and (study.root / f"joint.{fmt}.manifest.json").is_file()
    if fmt == "csv":
        import csv

        rows = {r["site"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
        assert list(rows) == ["Millbrook", "Pine Hollow", "Calder"]
        assert rows["Millbrook"]["engagement_rate"] == "0.31"
        assert rows["Millbrook"]["Referrals arrive late"].startswith("2 excerpts")
        assert "fax machine broke" in rows["Millbrook"]["Referrals arrive late"] or \
            "two days late" in rows["Millbrook"]["Referrals arrive late"]
        assert "broadband" in rows["Pine Hollow"]["Rural distance limits reach"]
        assert rows["Calder"]["Referrals arrive late"] == ""
        assert "no coded excerpt for site Calder" in r.output


def test_a_joint_display_needs_measures_and_names_a_bad_line(study, run_cli):
    (study.root / "themes.yaml").write_text(THEMES)
    r = run_cli("matrix", "joint")
    assert r.exit_code == 1 and "needs --measures FILE" in r.output
    (study.root / "sites.csv").write_text(SITES + "Millbrook,0.2,1\n")
    r = run_cli("matrix", "joint", "--measures", str(study.root / "sites.csv"))
    assert r.exit_code == 1 and "sites.csv:5: site 'Millbrook' is listed twice (first on line 2)" in r.output


def test_a_document_can_be_split_into_cases_by_turn_ranges(make_workspace, run_cli):
    ws = make_workspace({"call_05": "The fax broke again.\n\nStill no bilingual worker.\n\nThe car is back.\n"},
                        codebook=[("fax", "Referrals by fax")], coders={"ana": [("fax broke", "fax")]})
    (ws.root / "documents.csv").write_text("document,source_type,sections\n"
                                           "call_05,meeting notes,site=Millbrook:1-2; site=Pine Hollow:3\n")
    turns = ws.turn_table()
    assert list(turns["site"]) == ["Millbrook", "Millbrook", "Pine Hollow"]
    assert "sections" not in turns.columns
    (ws.root / "documents.csv").write_text("document,sections\ncall_05,Millbrook 1 to 2\n")
    r = run_cli("matrix", "codes", "--by", "site")
    assert r.exit_code == 1 and "documents.csv: section 'Millbrook 1 to 2' must look like site=Millbrook:1-4" in r.output


# -- every matrix cut by case attribute: the same `by` as the codes matrix ----------------------------

GUIDE = """interview_guide:
  - id: referrals
    label: Referrals
    codes: [fax]
  - id: reach
    label: Reach
    codes: [police, broadband]
"""


def test_the_themes_matrix_cut_by_site_has_a_column_per_site(study, run_cli):
    (study.root / "themes.yaml").write_text(THEMES)
    frame = study.matrix("themes", by="site", coder="ana", cells="count").set_index("theme")
    assert [c for c in frame.columns if c not in ("name", "valence", "total")] == ["Millbrook", "Pine Hollow"]
    # the site-visit notes and the monthly call are Millbrook's, the interview Pine Hollow's
    assert frame.loc["information_flow", "Millbrook"] == 2 and frame.loc["information_flow", "Pine Hollow"] == 1
    assert frame.loc["reach", "Millbrook"] == 1 and frame.loc["reach", "Pine Hollow"] == 1
    rural = study.matrix("themes", by="rurality", coder="ana", cells="count").set_index("theme")
    assert rural.loc["reach", "frontier"] == 1
    r = run_cli("matrix", "themes", "--by", "site", "--table", "matrix", "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "Themes × site" in r.output and "Millbrook" in r.output and "Pine Hollow" in r.output
    out = study.root / "by_site.csv"
    r = run_cli("matrix", "themes", "--by", "site", "--table", "matrix", "--coder", "ana", "--out", str(out))
    assert r.exit_code == 0 and "Millbrook" in out.read_text(encoding="utf-8-sig").splitlines()[0]
    r = run_cli("matrix", "themes", "--by", "sitte")
    assert r.exit_code == 1 and "did you mean 'site'" in r.output and "Traceback" not in r.output


def test_saturation_cut_by_site_assesses_each_site_apart(make_workspace, run_cli):
    """Guest, Namey & Chen (2020), each site's interviews in date order with only that site's codings."""
    ws = make_workspace({"a1": "I: Q?\nAnn: fax and phone.\n", "a2": "I: Q?\nAbe: fax again.\n",
                         "b1": "I: Q?\nBea: no broadband here.\n"},
                        participants="transcript,speaker,participant_id,role,site,date\n"
                                     ",I,RT-1,interviewer,,\n"
                                     "a1,Ann,A-1,nurse,Millbrook,2026-01-02\na2,Abe,A-2,nurse,Millbrook,2026-01-09\n"
                                     "b1,Bea,B-1,nurse,Pine Hollow,2026-01-05\n",
                        codebook=[("fax", "Fax"), ("phone", "Phone"), ("broadband", "Broadband")],
                        coders={"ana": [("fax and phone", "fax"), ("phone", "phone"), ("fax again", "fax"),
                                        ("no broadband here", "broadband")]})
    frame = ws.matrix("saturation", by="site", coder="ana", base=1, run=1)
    assert list(zip(frame["site"], frame["transcript"], frame["new"])) == [
        ("Millbrook", "a1", 2), ("Millbrook", "a2", 0), ("Pine Hollow", "b1", 1)]
    sat = frame.attrs["saturation"]
    assert [p["kind"] for p in sat["parts"]] == ["Millbrook", "Pine Hollow"]
    assert sat["parts"][0]["reached"] and sat["parts"][0]["label"] == "1+1"
    r = run_cli("matrix", "saturation", "--by", "site", "--coder", "ana", "--base", "1", "--run", "1")
    assert r.exit_code == 0, r.output
    assert "Site Millbrook: Guest et al. (2020) saturation" in " ".join(r.output.split())
    assert any(line.split()[:3] == ["1", "Pine", "Hollow"] for line in r.output.splitlines())


def test_the_rapid_matrix_cut_by_site_gives_each_site_its_rows_field_notes_included(study, run_cli):
    import qualkit

    with open(study.root / "qualkit.yaml", "a", encoding="utf-8") as f:
        f.write(GUIDE)
    study = qualkit.Workspace(study.root)
    frame = study.matrix("rapid", rows="transcript", cells="quotes", by="site", coder="ana")
    rows = list(zip(frame["site"], frame["transcript"]))
    # the notes split at their `## Site:` headings: one row per site; the call is Millbrook's (documents.csv)
    assert rows == [("Millbrook", "call_04"), ("Millbrook", "visit_notes"), ("Pine Hollow", "int1"),
                    ("Pine Hollow", "visit_notes")]
    notes = frame[frame["transcript"] == "visit_notes"].set_index("site")
    assert "two days late" in notes.loc["Millbrook", "Referrals"] and notes.loc["Pine Hollow", "Referrals"] == ""
    assert "broadband" in notes.loc["Pine Hollow", "Reach"]
    people = study.matrix("rapid", rows="participant", cells="quotes", by="rurality", coder="ana")
    assert set(people["rurality"]) == {"rural", "frontier"}
    assert study.matrix("rapid", rows="transcript", cells="quotes", group_by="site", coder="ana").equals(frame)
    r = run_cli("matrix", "rapid", "--rows", "transcript", "--cells", "quotes", "--by", "site", "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "== site: Millbrook ==" in r.output and "== site: Pine Hollow ==" in r.output
    r = run_cli("matrix", "rapid", "--cells", "quotes", "--by", "sitte")
    assert r.exit_code == 1 and "did you mean 'site'" in r.output


def test_code_cooccurrence_cut_by_site_counts_each_sites_units_apart(make_workspace, run_cli):
    """`matrix cooccurrence --by site`, as codes and themes take it: interviews by their participant's
    site, field notes by their `## Site:` section; c = n12 / (n1 + n2 - n12) within each site."""
    ws = make_workspace({"int1": "Interviewer: How do referrals arrive?\nMaria: By fax, and the deputy comes along.\n",
                         "int2": "Interviewer: And here?\nJoe: By fax, but no broadband for telehealth.\n",
                         "visit_notes.md": NOTES},
                        participants="transcript,speaker,participant_id,role,site\n"
                                     ",Interviewer,RT-1,interviewer,\nint1,Maria,P1,nurse,Millbrook\n"
                                     "int2,Joe,P2,officer,Pine Hollow\n",
                        codebook=[("fax", "Referrals by fax"), ("police", "Police at visits"),
                                  ("broadband", "No broadband")],
                        coders={"ana": [("By fax, and the deputy comes along", "fax"),
                                        ("the deputy comes along", "police"),
                                        ("By fax, but no broadband", "fax"), ("no broadband for telehealth", "broadband"),
                                        ("The deputy rides along", "police"), ("families do not open the door", "fax")]})
    (ws.root / "documents.csv").write_text(DOCUMENTS.replace("call_04,meeting notes,2026-04-02,Millbrook\n", ""))
    result = ws.matrix("cooccurrence", by="site", cells="pairs", coder="ana")
    pairs = {(r["site"], r["code_a"], r["code_b"]): (r["n_both"], r["c"]) for r in result.to_dict("records")}
    assert pairs == {("Millbrook", "fax", "police"): (2, 1.0), ("Pine Hollow", "fax", "broadband"): (1, 1.0)}
    whole = ws.matrix("cooccurrence", cells="pairs", coder="ana")  # without by: unchanged, every unit together
    assert set(zip(whole["code_a"], whole["code_b"], whole["n_both"])) == {("fax", "police", 2), ("fax", "broadband", 1)}
    counts = ws.matrix("cooccurrence", by="site", coder="ana")
    assert list(counts.columns[:2]) == ["site", "code"] and set(counts["site"]) == {"Millbrook", "Pine Hollow"}
    mill = counts[counts["site"] == "Millbrook"].set_index("code")
    assert mill.loc["fax", "fax"] == 2 and mill.loc["fax", "police"] == 2 and mill.loc["broadband", "broadband"] == 0
    r = run_cli("matrix", "cooccurrence", "--by", "site", "--coder", "ana")
    assert r.exit_code == 0, r.output
    assert "== site: Millbrook ==" in r.output and "Cut by site" in r.output
    r = run_cli("matrix", "cooccurrence", "--by", "site", "--coder", "ana", "--format", "csv")
    assert r.exit_code == 0 and (ws.root / "exports" / "matrix_cooccurrence__cooccurrence_pairs_by_site.csv").is_file()
    r = run_cli("matrix", "cooccurrence", "--by", "sitte")
    assert r.exit_code == 1 and "did you mean 'site'" in r.output
