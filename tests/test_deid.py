"""De-identification as a user meets it: `qualkit deid scan` proposes spans in deid.csv, the team
decides (`accept`, `reject`, `review`), exports read the redacted text, `deid check` is the gate."""
from __future__ import annotations

import csv
import json

import pytest

from qualkit.deid.detect import Detector
from qualkit.deid.redact import redaction_for
from qualkit.deid.table import DeidRow

INTERVIEW = (
    "Interviewer: How do referrals arrive?\n"
    "Maria: Dana from the health district faxes them, usually on Monday. Deputy Hale brings Narcan.\n"
    "Interviewer: Anything else?\n"
    "Maria: Call Pastor White at 555-201-3344 or dana.h@calder.gov. We met on March 14, 2025 at "
    "12 Elm Street in Calder County, off Route 9. My grandmother is 93 years old. Medicaid pays.\n"
    "Maria: White paint and young people, we will hope for the best in May. Rose Young came by.\n"
)


def _rows(ws) -> list[dict[str, str]]:
    with open(ws.root / "deid.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_scan_proposes_names_places_and_safe_harbor_identifiers(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW})
    result = run_cli("deid", "scan")
    assert result.exit_code == 0, result.output
    found = {(r["text"], r["kind"]) for r in _rows(ws)}
    for text, kind in [("Maria", "person"), ("Dana", "person"), ("Hale", "person"), ("White", "person"),
                       ("555-201-3344", "phone"), ("dana.h@calder.gov", "email"), ("March 14, 2025", "date"),
                       ("12 Elm Street", "address"), ("Calder County", "place"), ("Route 9", "place"),
                       ("93", "age"), ("Rose Young", "person")]:
        assert (text, kind) in found, (text, kind, sorted(found))
    texts = {t for t, _ in found}
    # everyday words that are also census names survive without a title or a neighbouring name
    for word in ("Narcan", "Medicaid", "Monday", "May", "Interviewer"):
        assert word not in texts
    assert not any(t.startswith(("White paint", "young", "hope")) for t in texts)


def test_the_same_person_gets_the_same_replacement_across_the_study(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW, "int2": "Maria: Dana again. Dana, always Dana.\n"},
                        participants=[("", "Interviewer", "RT-1", "interviewer", ""),
                                      ("", "Maria", "KP-4", "behavioral health", "")])
    run_cli("deid", "scan")
    rows = _rows(ws)
    assert {r["replacement"] for r in rows if r["text"] == "Dana"} == {"[Person 1]"}
    assert {r["replacement"] for r in rows if r["text"] == "Maria"} == {"[KP-4]"}  # participants: their id


def test_accept_reject_by_kind_and_id_and_rescan_keeps_decisions(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW})
    run_cli("deid", "scan")
    first = _rows(ws)
    phone = next(r["id"] for r in first if r["kind"] == "phone")
    assert run_cli("deid", "reject", phone).exit_code == 0
    assert run_cli("deid", "accept", "--kind", "person").exit_code == 0
    result = run_cli("deid", "accept", "--all")
    assert "undecided left" in result.output
    rows = {r["id"]: r for r in _rows(ws)}
    assert rows[phone]["decision"] == "reject"  # a bulk accept does not overturn a rejection
    run_cli("deid", "scan")
    again = {r["id"]: r for r in _rows(ws)}
    assert again == rows
    bad = run_cli("deid", "accept", "d999")
    assert bad.exit_code == 1 and "no span with id 'd999'" in bad.output


def test_review_is_interactive_and_resumable(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW})
    run_cli("deid", "scan")
    result = run_cli("deid", "review", "--kind", "person", input="y\nn\nq\n")
    assert result.exit_code == 0 and "run `qualkit deid review` again to resume" in result.output
    decided = [r for r in _rows(ws) if r["decision"]]
    assert [r["decision"] for r in decided] == ["accept", "reject"]
    result = run_cli("deid", "review", "--kind", "person", input="e\n[Neighbour]\nq\n")
    edited = [r for r in _rows(ws) if r["replacement"] == "[Neighbour]"]
    assert edited and edited[0]["decision"] == "accept"


def test_redaction_remaps_offsets_inside_and_around_spans():
    text = "Hi Karen and Dana Smith, bye"
    red = redaction_for(text, [DeidRow("d1", "x", 3, 8, "Karen", "person", "p", "[P1]"),
                               DeidRow("d2", "x", 13, 23, "Dana Smith", "person", "p", "[Person 1]", "reject")])
    assert red.text == "Hi [P1] and Dana Smith, bye"
    s, e = red.offset(0), red.offset(12, end=True)
    assert red.text[s:e] == "Hi [P1] and"
    assert red.text[red.offset(4):red.offset(6, end=True)] == "[P1]"  # inside a span: the whole replacement


def test_exports_use_the_redacted_text_once_a_decision_exists(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW}, codebook=[("fax", "Referrals by fax")],
                        coders={"ana": [("Dana from the health district faxes them", "fax")]})
    run_cli("deid", "scan")
    run_cli("export", "qdpx", str(ws.root / "before.qdpx"))
    before = run_cli("deid", "check", str(ws.root / "before.qdpx"))  # nothing decided yet: not redacted, and
    assert before.exit_code == 1 and "(person, undecided" in before.output  # check flags undecided spans
    run_cli("deid", "accept", "--all")
    out = ws.root / "exports"
    assert run_cli("run").exit_code == 0
    turns = (out / "turns.csv").read_text(encoding="utf-8-sig")
    assert "Dana" not in turns and "[Person 1] from the health district" in turns
    assert "Maria" not in turns  # speaker labels become participant ids
    assert "applied" in json.loads((out / "run.manifest.json").read_text())["parameters"]["deid"]
    run_cli("export", "qdpx", str(out / "study.qdpx"))
    check = run_cli("deid", "check", str(out))
    assert check.exit_code == 0, check.output
    assert "Dana from" in (ws.root / "transcripts" / "int1.txt").read_text()  # originals untouched
    assert ws.codings("ana")[0].text == "Dana from the health district faxes them"


def test_no_deid_is_explicit_and_recorded(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW})
    run_cli("deid", "scan")
    run_cli("deid", "accept", "--all")
    assert run_cli("run", "--no-deid").exit_code == 0
    manifest = json.loads((ws.root / "exports" / "run.manifest.json").read_text())
    assert manifest["parameters"]["deid"].startswith("off (--no-deid)")
    check = run_cli("deid", "check", str(ws.root / "exports"))
    assert check.exit_code == 1 and "'Dana' (person, accept" in check.output


def test_deid_export_writes_redacted_copies_and_keeps_the_mapping_apart(make_workspace, run_cli, tmp_path):
    make_workspace({"int1": INTERVIEW})
    run_cli("deid", "scan")
    result = run_cli("deid", "export", str(tmp_path / "shared"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "shared" / "int1.txt").read_text(encoding="utf-8")
    assert "Dana" not in text and "[Phone]" in text and "[Date]" in text
    assert (tmp_path / "shared.mapping.csv").is_file() and not list((tmp_path / "shared").glob("*.csv"))


def test_check_reads_docx_xlsx_html_and_lists_each_identifier(make_workspace, run_cli, tmp_path):
    import pandas as pd
    from docx import Document

    make_workspace({"int1": INTERVIEW})
    run_cli("deid", "scan")
    doc = Document()
    doc.add_paragraph("A quote: Dana from the health district.")
    doc.save(tmp_path / "quotes.docx")
    pd.DataFrame({"quote": ["call Pastor White"]}).to_excel(tmp_path / "t.xlsx", index=False)
    (tmp_path / "r.html").write_text("<p>seen at 12 Elm&nbsp;Street</p><p>fine</p>", encoding="utf-8")
    (tmp_path / "ok.md").write_text("Nothing here but Narcan.\n", encoding="utf-8")
    result = run_cli("deid", "check", str(tmp_path))
    assert result.exit_code == 1
    assert "quotes.docx" in result.output and "'Dana' (person, undecided" in result.output
    assert "t.xlsx" in result.output and "ok.md" not in result.output


def test_deid_yaml_lists_allow_and_deny(make_workspace, run_cli):
    ws = make_workspace({"int1": "Maria: The Bridges program and Sunnyvale helped. Ask Zed.\n"})
    (ws.root / "deid.yaml").write_text("allow: [Maria]\npeople: [Zed]\nplaces: [Sunnyvale]\n", encoding="utf-8")
    run_cli("deid", "scan")
    found = {(r["text"], r["kind"], r["detector"]) for r in _rows(ws)}
    assert ("Zed", "person", "deid.yaml") in found and ("Sunnyvale", "place", "deid.yaml") in found
    assert not any(t == "Maria" for t, _, _ in found)
    (ws.root / "deid.yaml").write_text("allow: Maria\n", encoding="utf-8")
    bad = run_cli("deid", "scan")
    assert bad.exit_code == 1 and "deid.yaml:1" in bad.output


def test_an_ner_model_that_is_not_installed_is_a_warning_not_a_download(make_workspace, run_cli):
    ws = make_workspace({"int1": INTERVIEW})
    (ws.root / "deid.yaml").write_text("ner_model: en_core_web_nonexistent\n", encoding="utf-8")
    result = run_cli("deid", "scan")
    assert result.exit_code == 0 and "is not installed" in result.output


@pytest.mark.parametrize("text,expected", [
    ("Mrs. Young said so.", "Young"), ("ask Sheriff Boyd", "Boyd"), ("Dr. Nguyen called", "Nguyen"),
    ("We saw Marcus Bell there.", "Marcus Bell"),
])
def test_titles_and_names_in_context(text, expected):
    found = [text[c.start:c.end] for c in Detector().candidates(text)]
    assert expected in found


@pytest.mark.parametrize("text", [
    "We hope it will work in May.", "White people and Black people alike.", "Monday the EMS crew came.",
    "Narcan and Suboxone, Medicaid and Aetna.", "The Sheriff. Before that I was a nurse.", "CAD, HIPAA and PORT.",
])
def test_common_words_survive(text):
    assert [text[c.start:c.end] for c in Detector().candidates(text)] == []


@pytest.mark.slow
def test_sample_study_after_scan_and_accept_all_exports_nothing_identifying(tmp_path, run_cli):
    import pandas as pd

    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "study")
    for args in (["deid", "scan"], ["deid", "accept", "--all"], ["run"], ["export", "qdpx", "exports/study.qdpx"],
                 # the joint display meets sites.csv's case names with the redacted site attributes
                 ["matrix", "joint", "--measures", "sites.csv", "--format", "md", "--out", "exports/joint.md"]):
        result = run_cli(*args, workspace=root, cwd=root)
        assert result.exit_code == 0, result.output
    check = run_cli("deid", "check", "exports", workspace=root, cwd=root)
    assert check.exit_code == 0, check.output
    assert "no coded excerpt for site" not in (root / "exports" / "joint.md.manifest.json").read_text(encoding="utf-8")
    quotes = pd.read_csv(root / "exports" / "themes_by_domain__facilitators.csv").iloc[:, -1].dropna()
    assert "[FG1-P1] or one of the other peers" in " ".join(quotes)  # was "Karen or one of the other peers"
    for quote in quotes:  # still readable: mostly words, a few placeholders
        words = quote.split()
        assert sum(w.startswith("[") for w in words) <= len(words) / 5, quote


def test_a_transcript_edited_after_the_scan_is_still_redacted_where_the_words_moved():
    rows = [DeidRow("d1", "x", 3, 8, "Karen", "person", "participants", "[P1]", "accept")]
    red = redaction_for("Oh, hi Karen.", rows)  # three characters were added before the name
    assert red.text == "Oh, hi [P1]."


@pytest.mark.parametrize("text,expected,kind", [
    ("seen on 3/14/2026 at noon", "3/14/2026", "date"), ("the 14th of March", "14th of March", "date"),
    ("back in March 2024", "March 2024", "date"), ("fax 606.555.0110 now", "606.555.0110", "phone"),
    ("server 192.168.4.20 is down", "192.168.4.20", "ip"), ("see https://example.org/a.", "https://example.org/a", "url"),
    ("MRN 00448821 was wrong", "00448821", "number"), ("she is 97 years old", "97", "age"),
    ("aged 103, still sharp", "103", "age"), ("mail it to KY 41465", "41465", "zip"),
    ("out on Route 9 again", "Route 9", "place"), ("the Bluebird Motel lot", "Bluebird Motel", "organisation"),
])
def test_safe_harbor_patterns(text, expected, kind):
    found = [(text[c.start:c.end], c.kind) for c in Detector().candidates(text)]
    assert (expected, kind) in found


@pytest.mark.parametrize("text", ["he is 45 years old", "in 2024 we started", "about 30 people, 12 of them", "at 10:30 am"])
def test_numbers_that_identify_no_one_survive(text):
    assert Detector().candidates(text) == []


@pytest.mark.slow
def test_an_installed_ner_model_adds_its_entities(make_workspace, run_cli, tmp_path):
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Zorblat"},
                                                {"label": "GPE", "pattern": "Quarnville"}])
    nlp.to_disk(tmp_path / "model")
    ws = make_workspace({"int1": "Maria: Zorblat drove us to Quarnville.\n"})
    (ws.root / "deid.yaml").write_text(f"ner_model: '{tmp_path / 'model'}'\n", encoding="utf-8")
    assert run_cli("deid", "scan").exit_code == 0
    found = {(r["text"], r["kind"], r["detector"]) for r in _rows(ws)}
    assert {("Zorblat", "person", "ner"), ("Quarnville", "place", "ner")} <= found


@pytest.mark.slow
def test_de_identified_copies_of_the_sample_study_read_back_with_the_same_turns_and_speakers(tmp_path, run_cli):
    """`Sheriff [KP-1]:`, `[00:00:16] [KP-4]:`, `[RT-2] (Eval Team):`: a placeholder inside a speaker
    label must not stop the copy's label being read as one."""
    from qualkit.transcripts import read_transcript
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "study")
    for args in (["deid", "scan"], ["deid", "accept", "--all"], ["deid", "export", str(tmp_path / "shared")]):
        result = run_cli(*args, workspace=root)
        assert result.exit_code == 0, result.output
    sizes = {}
    for path in sorted((root / "transcripts").iterdir()):
        before, after = read_transcript(path), read_transcript(tmp_path / "shared" / f"{path.stem}.txt")
        sizes[path.stem] = (len(before.turns), len(set(t.speaker for t in before.turns)))
        assert (len(after.turns), len(set(t.speaker for t in after.turns))) == sizes[path.stem], path.name
    assert sizes["int1_sheriff"] == (33, 3) and sizes["fg2_pinehollow"][1] == 6
    copy = (tmp_path / "shared" / "int1_sheriff.txt").read_text(encoding="utf-8")
    assert "Boyd" not in copy and "[00:00:13] Sheriff KP-1: Yep" in copy


def test_de_identified_codings_keep_their_own_quotes_not_the_files(make_workspace, run_cli):
    from qualkit.coding.anchoring import anchored_codings
    from qualkit.deid.apply import export_view
    from qualkit.workspace.codings import held_quote

    ws = make_workspace({"int1": INTERVIEW}, codebook=[("fax", "Referrals by fax")],
                        coders={"ana": [("Dana from the health district faxes them", "fax")]})
    run_cli("deid", "scan")
    run_cli("deid", "accept", "--all")
    view, _ = export_view(ws)
    (c,) = anchored_codings(view, "ana")
    assert c.text.startswith("[Person 1] from the health district")
    assert held_quote(c) == c.text  # held: the file's words (with the name) could never stand in for it
    (mine,) = anchored_codings(ws, "ana")
    assert held_quote(mine) is None and mine.text == "Dana from the health district faxes them"


def test_exports_of_a_workspace_that_already_read_its_codings_are_still_redacted(make_workspace, run_cli):
    import qualkit
    from qualkit.analysis.sources import load_excerpts
    from qualkit.coding.anchoring import anchored_codings
    from qualkit.deid.apply import export_view

    made = make_workspace({"int1": INTERVIEW}, codebook=[("fax", "Referrals by fax")],
                          coders={"ana": [("Dana from the health district faxes them", "fax")]})
    run_cli("deid", "scan")
    run_cli("deid", "accept", "--all")
    ws = qualkit.Workspace(made.root)
    assert load_excerpts(ws, "ana").excerpts[0].text.startswith("Dana")  # a notebook looked at its own codings first
    view, _ = export_view(ws)
    (c,) = anchored_codings(view, "ana")
    assert "Dana" not in c.text and "Dana" not in load_excerpts(view, "ana").excerpts[0].text
    assert anchored_codings(ws, "ana")[0].text.startswith("Dana")  # and its own stay as they are


def test_a_de_identified_view_reads_words_alone_redacted_too(make_workspace, run_cli):
    """Issue 17 reads a transcript's text alone from the cache (its turns not decoded) for quotes and the
    words of a unit; in the de-identified view that reading must stay redacted, however it is served."""
    from qualkit.analysis.disagreements import disagreements
    from qualkit.deid.apply import export_view

    ws = make_workspace({"int1": INTERVIEW}, codebook=[("fax", "Referrals by fax"), ("narcan", "Naloxone")],
                        coders={"ana": [("Dana from the health district faxes them", "fax")],
                                "ben": [("Deputy Hale brings Narcan", "narcan")]})
    run_cli("deid", "scan")
    run_cli("deid", "accept", "--all")
    path = ws.transcript_paths()[0]
    assert "Dana" in ws.read_text(path)
    view, _ = export_view(ws)
    assert "Dana" not in view.read_text(path) and "[Person 1]" in view.read_text(path)
    shown = disagreements(view, "ana,ben")
    assert len(shown) == 2
    assert not any(name in d.text or name in d.quote for d in shown for name in ("Dana", "Hale"))
