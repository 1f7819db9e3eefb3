"""themes.yaml as an analyst meets it: writing themes from codes, mapping them onto framework domains,
and `qualkit themes show|check` telling what is wrong (file and line) or missing.

The small study: one interview (int1: Maria, medical) and one focus group (fg1: Ann, medical; Bo,
behavioral health), coded by ana with a five-code codebook whose codes carry HEIF refs.
"""
from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

import qualkit
import qualkit.cli
from qualkit.analysis.themes import ThemesError, check_themes, load_themes
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import demo, init

PARTICIPANTS = """transcript,speaker,participant_id,role,site
,Interviewer,RT-1,interviewer,
,Moderator,RT-2,moderator,
int1,Maria,KP-1,medical,Calder
fg1,Ann,FG-P1,medical,Calder
fg1,Bo,FG-P2,behavioral health,Pine Hollow
"""
INT1 = ("Interviewer: How do referrals reach you?\nMaria: By fax, days late. Nobody talks to anybody.\n"
        "Interviewer: And the police?\nMaria: The uniform scares people. Plain clothes work better.\n")
FG1 = ("Moderator: What helps?\nAnn: The peers. They have been there.\nBo: Peers, yes. But the fax still takes days.\n"
       "Moderator: Anything else?\nAnn: Shame keeps people home.\n")
CODES = [
    Code("fax", "Referrals by fax", framework=["heif:structure_and_systems"]),
    Code("partners", "Partners do not talk", framework=["heif:interorganizational_networks_and_relationships"]),
    Code("uniform", "Police uniforms", framework=["heif:clinical_encounter"]),
    Code("peer", "Peers", framework=["heif:clinical_encounter", "heif:culturally_relevant_factors"]),
    Code("shame", "Self-stigma", framework=["heif:patient"]),
]
THEMES = """\
themes:
  - id: information_flow
    name: Information does not flow between partners
    valence: barrier
    description: Referrals arrive late, by fax.
    codes: [fax, partners]
    domains:
      - heif:context.outer
      - heif:structure_and_systems
    memo: Everyone mentioned the fax.
  - id: peers
    name: Peers build trust
    valence: facilitator
    codes: [peer]
    domains: []
"""


def coding(text: str, tid: str, phrase: str, code: str, memo: str = "") -> Coding:
    start = text.index(phrase)
    return Coding(tid, start, start + len(phrase), code, phrase, memo)


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text(PARTICIPANTS)
    (root / "transcripts" / "int1.txt").write_text(INT1)
    (root / "transcripts" / "fg1.txt").write_text(FG1)
    save_codebook(Codebook("cb", "Codebook", CODES, framework="heif"), root / "codebooks" / "cb.yaml")
    (root / "themes.yaml").write_text(THEMES)
    w = qualkit.Workspace(root)
    w.write_codings("ana", [coding(INT1, "int1", "By fax, days late.", "fax"),
                            coding(INT1, "int1", "Nobody talks to anybody.", "partners"),
                            coding(FG1, "fg1", "The peers. They have been there.", "peer"),
                            coding(FG1, "fg1", "Shame keeps people home.", "shame")])
    return root


def run(root, *args):
    return CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "themes", *args], catch_exceptions=False)


def write(root, text: str) -> None:
    (root / "themes.yaml").write_text(textwrap.dedent(text))


# -- reading -----------------------------------------------------------------------------------

def test_themes_are_read_with_their_fields_and_lines(ws):
    themes = load_themes(ws / "themes.yaml")
    assert [t.id for t in themes] == ["information_flow", "peers"]
    info = themes.get("information_flow")
    assert info.valence == "barrier" and info.codes == ["fax", "partners"]
    assert info.domains == ["heif:context.outer", "heif:structure_and_systems"]
    assert info.memo == "Everyone mentioned the fax." and info.line == 2
    assert info.domain_lines == [8, 9]
    assert themes.get("Peers build trust").id == "peers"


def test_an_empty_themes_file_has_no_themes(ws):
    write(ws, "# nothing yet\nthemes: []\n")
    assert len(load_themes(ws / "themes.yaml")) == 0


def test_a_yaml_syntax_error_names_the_line(ws):
    write(ws, "themes:\n  - id: a\n    name: [unclosed\n")
    with pytest.raises(ThemesError) as err:
        load_themes(ws / "themes.yaml")
    assert err.value.line is not None and "invalid YAML" in err.value.message


def test_a_misspelt_valence_is_an_error_with_a_suggestion(ws):
    write(ws, """\
        themes:
          - id: a
            name: A
            valence: barriers
    """)
    with pytest.raises(ThemesError) as err:
        load_themes(ws / "themes.yaml")
    assert err.value.line == 4 and "did you mean 'barrier'" in err.value.message


def test_framework_refs_under_the_wrong_key_are_pointed_to_domains(ws):
    write(ws, """\
        themes:
          - id: a
            name: A
            valence: mixed
            framework: [heif:societal_context]
    """)
    with pytest.raises(ThemesError, match="go under 'domains:'"):
        load_themes(ws / "themes.yaml")


def test_themes_check_lists_every_problem_and_loading_stops_at_the_first_of_them(ws):
    write(ws, """\
        themes:
          - id: a
            name: A
            valence: barier
          - id: Second Theme
            name: B
            valence: mixed
            codes: [fax]
    """)
    lenient = load_themes(ws / "themes.yaml", strict=False)
    assert [(p.line, p.message) for p in lenient.errors] == [
        (4, "valence 'barier' of theme 'a' must be facilitator, barrier, mixed or descriptive (did you mean 'barrier'?)"),
        (5, "theme id 'Second Theme' must be snake_case (lower-case letters, digits and _), e.g. 'second_theme'")]
    assert [t.id for t in lenient] == ["a", "Second Theme"]  # a theme with a bad field keeps the others
    with pytest.raises(ThemesError) as err:
        load_themes(ws / "themes.yaml")
    assert (err.value.line, err.value.message) == (lenient.errors[0].line, lenient.errors[0].message)


# -- check -------------------------------------------------------------------------------------

def test_check_of_a_sound_file_passes_with_warnings_about_what_is_missing(ws):
    result = check_themes(qualkit.Workspace(ws))
    assert result.ok
    kinds = {(p.kind, p.code) for p in result.problems}
    # uniform and shame belong to no theme; uniform was never coded, shame was (1 excerpt)
    assert ("code-in-no-theme", "uniform") in kinds and ("code-in-no-theme", "shame") in kinds
    shame = next(p for p in result.problems if p.code == "shame")
    assert shame.path.name == "cb.yaml" and shame.line is not None and "(1 coded excerpt)" in shame.message
    gaps = [p.message for p in result.problems if p.kind == "uncovered-domain"]
    assert any("heif:facilitation" in m for m in gaps) and any("heif:societal_context" in m for m in gaps)
    assert not any("heif:context.outer " in m for m in gaps)
    assert result.excerpts == {"information_flow": 2, "peers": 1}
    r = run(ws, "check")
    assert r.exit_code == 0, r.output
    assert "2 themes:" in r.output and "warning" in r.output


def test_check_reports_every_error_with_file_and_line_and_exits_1(ws):
    write(ws, """\
        themes:
          - id: info
            name: Information
            valence: barrier
            codes: [faxx, partners]
            domains: [heif:societal_contxt]
          - id: info
            name: Information again
            valence: barrier
            codes: [fax]
    """)
    result = check_themes(qualkit.Workspace(ws))
    errors = {p.kind: p for p in result.errors}
    assert set(errors) == {"unknown-code", "unknown-domain", "duplicate-id"}
    assert errors["unknown-code"].line == 5 and "did you mean fax" in errors["unknown-code"].message
    assert errors["unknown-domain"].line == 6 and "heif:societal_context" in errors["unknown-domain"].message
    assert errors["duplicate-id"].line == 7 and "already used on line 2" in errors["duplicate-id"].message
    r = run(ws, "check")
    assert r.exit_code == 1
    assert "themes.yaml:5: error: theme 'info': unknown code 'faxx'" in r.output
    assert "themes.yaml:7: error: duplicate theme id 'info'" in r.output


def test_a_theme_whose_codes_were_never_applied_is_flagged(ws):
    write(ws, THEMES + """\
  - id: police
    name: Police presence
    valence: mixed
    codes: [uniform]
    domains: [heif:clinical_encounter]
""")
    result = check_themes(qualkit.Workspace(ws))
    flagged = [p for p in result.problems if p.kind == "no-excerpts"]
    assert [p.theme for p in flagged] == ["police"] and flagged[0].line == 16


def test_check_json_lists_problems_and_the_codings_used(ws):
    r = run(ws, "check", "--json")
    data = json.loads(r.stdout)
    assert data["ok"] is True and data["themes"] == 2
    # no consensus yet and no 'coders:' in qualkit.yaml: every coder's file is pooled, and the check says so
    assert any("pooling the codings of ana (every codings/*.csv file" in n for n in data["notes"])
    assert {p["kind"] for p in data["problems"]} >= {"code-in-no-theme", "uncovered-domain"}


def test_a_broken_file_is_one_error_not_a_traceback(ws):
    write(ws, "themes:\n  - id: a\n    name: [unclosed\n")
    r = run(ws, "check")
    assert r.exit_code == 1 and "themes.yaml:" in r.output and "invalid YAML" in r.output


# -- mapping -----------------------------------------------------------------------------------

def test_an_empty_domains_list_takes_the_codes_refs(ws):
    r = run(ws, "show", "peers", "--json")
    theme = json.loads(r.stdout)["themes"][0]
    assert theme["mapping_from_codes"] is True
    assert [m["ref"] for m in theme["mapping"]] == ["heif:clinical_encounter", "heif:culturally_relevant_factors"]
    assert theme["excerpts"] == 1 and theme["participants"] == 1


def test_a_theme_may_map_onto_several_frameworks(ws):
    write(ws, """\
        themes:
          - id: info
            name: Information
            valence: barrier
            codes: [fax, partners, peer, shame, uniform]
            domains:
              - heif:context.outer
              - cfir2:outer_setting.partnerships_connections
    """)
    result = check_themes(qualkit.Workspace(ws))
    assert result.ok
    assert [i.ref for i in result.mappings["info"].items] == ["heif:outer", "cfir2:partnerships_connections"]
    r = run(ws, "show")
    assert r.exit_code == 0
    assert "cfir2:partnerships_connections" in r.output and "Partnerships & Connections" in r.output


def test_show_prints_each_theme_for_a_reader(ws):
    r = run(ws, "show")
    assert r.exit_code == 0
    assert "Information does not flow between partners  [information_flow]  barrier" in r.output
    assert "2 excerpts from 1 participant" in r.output
    assert "Domains (from its codes' refs):" in r.output
    assert "Memo:" in r.output and "Everyone mentioned the fax." in r.output


# -- the sample study --------------------------------------------------------------------------

def test_the_sample_studys_themes_check_clean(tmp_path):
    root = demo(tmp_path / "s")
    ws = qualkit.Workspace(root)
    result = check_themes(ws)
    assert result.ok, [str(p) for p in result.errors]
    themes = result.themeset
    assert 6 <= len(themes) <= 9
    assert {t.valence for t in themes} == {"facilitator", "barrier", "mixed"}
    assert all(t.description and t.memo and t.codes for t in themes)
    # every inductive code is in a theme, every theme has excerpts: only framework gaps remain
    assert {p.kind for p in result.problems} == {"uncovered-domain", "unverified-domain"}
    assert any("heif:facilitation" in p.message for p in result.problems)
    book = ws.codebook("port_inductive")
    assert {c.id for c in book.codes} <= {c for t in themes for c in t.codes}
    assert any(n.startswith("codings/consensus.csv does not exist yet: pooling the codings of ana, ben")
               for n in result.notes)
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "themes", "check"])
    assert r.exit_code == 0 and "9 themes" in r.output
