"""Implementation frameworks as a user meets them: built-ins, references, workspace files, the CLI."""
from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from qualkit.cli import cli
from qualkit.errors import QualkitError
from qualkit.frameworks.catalog import (
    STATUS_WORDS,
    FrameworkError,
    FrameworkRefError,
    available_frameworks,
    builtin_frameworks,
    framework_problems,
    get_framework,
    load_framework,
    resolve_ref,
)

BUILTINS = {"heif", "cfir2", "cfir2009", "iparihs", "reaim", "epis"}


def labels(items):
    return [i.label for i in items]


# ----------------------------------------------------------------------------- built-ins
def test_every_builtin_loads_with_citation_and_complete_items():
    fws = builtin_frameworks()
    assert set(fws) == BUILTINS
    for fw in fws.values():
        assert fw.builtin and fw.name and fw.version and fw.domains()
        assert fw.citations and all(c.get("doi") and c.get("title") and c.get("year") for c in fw.citations), fw.id
        for item in fw.items():
            assert item.status in STATUS_WORDS, item.ref
            assert item.label and item.definition, item.ref
            assert len(item.definition) < 300, f"{item.ref}: keep definitions to one or two sentences"
            if item.status in ("unverified", "inherited"):
                assert item.verified is False, item.ref


def test_builtin_ids_are_unique_and_every_item_resolves_by_id_path_and_code():
    for fw in builtin_frameworks().values():
        ids = [i.id for i in fw.items()]
        assert len(ids) == len(set(ids)), fw.id
        for item in fw.items():
            assert resolve_ref(item.ref) is item
            assert resolve_ref(item.path_ref) is item
            if [i.label.casefold() for i in fw.items()].count(item.label.casefold()) == 1:
                assert resolve_ref(f"{fw.id}:{item.label}") is item
            if item.code:
                assert resolve_ref(f"{fw.id}:{item.code}") is item


def test_heif_2019_labels_resolve_to_the_2021_items():
    ctx = resolve_ref("heif:societal_context")
    assert ctx.label == "Societal context" and ctx.kind == "domain"
    for old in ("heif:societal_influence", "heif:Societal influences", "heif:SOCIETAL INFLUENCE"):
        assert resolve_ref(old) is ctx
    assert resolve_ref("heif:healthcare_system_factors").path == "context.outer"
    assert resolve_ref("heif:Patient-provider interaction").id == "clinical_encounter"
    assert resolve_ref("heif:cultural factors of recipients").path == "recipients.culturally_relevant_factors"
    assert resolve_ref("heif:recipient_factors").id == "recipients"
    assert resolve_ref("societal_influence", default="heif") is ctx


def test_heif_cites_both_papers_with_their_own_titles_and_marks_unconfirmed_names():
    heif = get_framework("heif")
    by_year = {c["year"]: c for c in heif.citations}
    assert by_year[2019]["doi"] == "10.1186/s13012-019-0861-y"
    assert by_year[2019]["title"].startswith("The health equity implementation framework: proposal")
    assert by_year[2021]["doi"] == "10.1186/s43058-021-00146-5"
    assert by_year[2021]["title"].startswith("A more practical guide")
    assert labels(heif.domains()) == ["Innovation", "Recipients", "Clinical encounter or patient–provider interaction",
                                      "Context", "Societal context", "Facilitation"]
    for sub in ("economies", "physical_structures", "sociopolitical_forces"):
        item = resolve_ref(f"heif:{sub}")
        assert item.parent == "societal_context" and item.status == "unverified" and not item.verified
    assert resolve_ref("heif:motivation").status == "inherited" and not resolve_ref("heif:motivation").verified
    assert resolve_ref("heif:clarity").verified
    # "Culture" occurs at two context levels: two ids, and the bare label is ambiguous.
    assert resolve_ref("heif:local_culture").parent == "inner_local"
    assert resolve_ref("heif:organizational_culture").parent == "inner_organizational"
    with pytest.raises(FrameworkRefError, match="ambiguous"):
        resolve_ref("heif:culture")


def test_cfir2_has_five_domains_and_the_published_constructs():
    cfir = get_framework("cfir2")
    assert labels(cfir.domains()) == ["Innovation", "Outer Setting", "Inner Setting", "Individuals",
                                      "Implementation Process"]
    counts = cfir.counts()
    assert (counts["constructs"], counts["subconstructs"]) == (48, 19)
    innovation = [i.label for i in cfir.items() if i.parent == "innovation"]
    assert innovation == ["Innovation Source", "Innovation Evidence Base", "Innovation Relative Advantage",
                          "Innovation Adaptability", "Innovation Trialability", "Innovation Complexity",
                          "Innovation Design", "Innovation Cost"]
    assert [i.label for i in cfir.items() if i.parent == "outer_setting"] == [
        "Critical Incidents", "Local Attitudes", "Local Conditions", "Partnerships & Connections",
        "Policies & Laws", "Financing", "External Pressure"]
    assert [i.label for i in cfir.items() if i.parent == "inner_setting"] == [
        "Structural Characteristics", "Relational Connections", "Communications", "Culture",
        "Tension for Change", "Compatibility", "Relative Priority", "Incentive Systems", "Mission Alignment",
        "Available Resources", "Access to Knowledge & Information"]
    assert labels(resolve_ref("cfir2:culture").children) == [
        "Human Equality-Centeredness", "Recipient-Centeredness", "Deliverer-Centeredness", "Learning-Centeredness"]
    assert labels(resolve_ref("cfir2:external_pressure").children) == [
        "Societal Pressure", "Market Pressure", "Performance-Measurement Pressure"]
    assert len(resolve_ref("cfir2:individuals.roles").children) == 9
    assert labels(resolve_ref("cfir2:individuals.characteristics").children) == [
        "Need", "Capability", "Opportunity", "Motivation"]
    assert [i.label for i in cfir.items() if i.parent == "implementation_process"] == [
        "Teaming", "Assessing Needs", "Assessing Context", "Planning", "Tailoring Strategies", "Engaging",
        "Doing", "Reflecting & Evaluating", "Adapting"]
    assert resolve_ref("cfir2:III.D.1").id == "human_equality_centeredness"
    assert resolve_ref("cfir2:outer_setting.partnerships_connections").code == "II.D"
    assert resolve_ref("cfir2:Innovation Evidence Base").id == "innovation_evidence_base"
    # The same label under several constructs is reached through its dotted path.
    assert resolve_ref("cfir2:implementation_process.engaging.innovation_deliverers").id == "engaging_deliverers"
    assert resolve_ref("cfir2:assessing_needs.innovation_recipients").id == "assessing_needs_recipients"
    # Definitions are qualkit's paraphrases, not the paper's "The degree to which ..." wording.
    assert not any(i.definition.startswith("The degree to which") for i in cfir.items())


def test_cfir2009_keeps_the_original_names_all_marked_unverified():
    old = get_framework("cfir2009")
    assert labels(old.domains()) == ["Intervention Characteristics", "Outer Setting", "Inner Setting",
                                     "Characteristics of Individuals", "Process"]
    assert len(resolve_ref("cfir2009:intervention_characteristics").children) == 8
    assert len(resolve_ref("cfir2009:outer_setting").children) == 4
    assert len(resolve_ref("cfir2009:implementation_climate").children) == 6
    assert len(resolve_ref("cfir2009:readiness_for_implementation").children) == 3
    assert len(resolve_ref("cfir2009:engaging").children) == 6
    assert all(not i.verified for i in old.items() if i.kind != "domain")
    assert resolve_ref("cfir2009:Evidence Strength and Quality").id == "evidence_strength_quality"


def test_iparihs_reaim_and_epis():
    ip = get_framework("iparihs")
    assert labels(ip.domains()) == ["Innovation", "Recipients", "Context", "Facilitation"]
    assert resolve_ref("iparihs:environmental_instability").label == "Environmental (in)stability"
    assert resolve_ref("iparihs:Inter-organizational networks and relationships").parent == "outer"
    assert labels(get_framework("reaim").domains()) == ["Reach", "Effectiveness", "Adoption", "Implementation",
                                                        "Maintenance"]
    epis = get_framework("epis")
    assert labels(resolve_ref("epis:phases").children) == ["Exploration", "Preparation", "Implementation",
                                                          "Sustainment"]
    assert resolve_ref("epis:outer_context.leadership").id == "outer_leadership"
    assert resolve_ref("epis:inner_context.leadership").id == "inner_leadership"
    with pytest.raises(FrameworkRefError) as info:
        resolve_ref("epis:leadership")
    assert "epis:outer_leadership" in str(info.value) and "epis:inner_leadership" in str(info.value)
    assert get_framework("EPIS") is epis


def test_unknown_refs_are_user_errors_with_close_matches():
    with pytest.raises(FrameworkRefError) as info:
        resolve_ref("heif:societal_contxt")
    err = info.value
    assert isinstance(err, QualkitError)
    assert "unknown item 'heif:societal_contxt'" in str(err) and "heif:societal_context" in str(err)
    assert err.suggestions and err.suggestions[0].startswith("heif:societal_context")
    with pytest.raises(FrameworkRefError, match="did you mean heif:context.outer"):
        resolve_ref("heif:context.outr")
    with pytest.raises(FrameworkRefError, match="did you mean cfir2"):
        resolve_ref("cfir:financing")
    with pytest.raises(FrameworkRefError, match="framework prefix"):
        resolve_ref("societal_context")


# ----------------------------------------------------------------------------- workspace files
MINIMAL = """\
id: {id}
name: {name}
version: "1"
domains:
  - id: barriers
    label: Barriers
    status: verified
    definition: Things in the way.
    constructs:
      - id: cost_of_travel
        label: Cost of travel
        definition: Getting there is expensive.
"""


def test_a_workspace_file_replaces_a_builtin_and_another_adds_a_framework(tmp_path):
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "heif.yaml").write_text(MINIMAL.format(id="heif", name="Our HEIF"))
    (folder / "local.yaml").write_text(MINIMAL.format(id="local", name="Local barriers"))
    (folder / "notes.txt").write_text("not a framework")
    fws = available_frameworks([folder])
    assert set(fws) == BUILTINS | {"local"}
    assert fws["heif"].name == "Our HEIF" and fws["heif"].overrides and not fws["heif"].builtin
    assert fws["local"].path == folder / "local.yaml" and not fws["local"].overrides
    item = resolve_ref("local:barriers.cost_of_travel", [folder])
    assert item.kind == "construct" and item.status == "verified"  # status is inherited from the parent
    assert resolve_ref("heif:cost_of_travel", [folder]).label == "Cost of travel"
    with pytest.raises(FrameworkRefError):
        resolve_ref("heif:societal_context", [folder])
    assert get_framework("heif").name == "Health Equity Implementation Framework"  # built-ins unchanged


def test_a_workspace_file_can_extend_a_builtin(tmp_path):
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "heif.yaml").write_text(textwrap.dedent("""\
        id: heif
        extends: heif
        domains:
          - id: societal_context
            aliases: [Social determinants]
            constructs:
              - id: transportation
                label: Transportation
                definition: Whether people can physically get to services.
                status: verified
          - id: stigma
            label: Stigma
            definition: Negative attitudes toward people who use drugs.
            status: verified
        """))
    heif = get_framework("heif", [folder])
    assert heif.extends == "heif" and heif.name == "Health Equity Implementation Framework"
    assert resolve_ref("heif:social_determinants", [folder]).id == "societal_context"
    assert resolve_ref("heif:societal_influence", [folder]).id == "societal_context"
    assert resolve_ref("heif:societal_context.transportation", [folder]).kind == "construct"
    assert heif.domains()[-1].id == "stigma" and len(heif.domains()) == 7
    assert len(get_framework("heif").domains()) == 6


BAD_FILES = [
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n  - label: B\n", 6, "domain labelled 'B' has no 'id'"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    definition: no label\n", 4, "domain 'a' has no 'label'"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    constructs:\n      - id: a\n        label: Again\n",
     7, "duplicate id 'a' (already used on line 4)"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    status: confirmed\n", 6, "unknown status 'confirmed'"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: [A\n", 5, "invalid YAML"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    contructs: []\n", 6, "did you mean 'constructs'?"),
    ("id: x\nname: X\ndomains:\n  - id: Societal Context\n    label: A\n", 4, "e.g. 'societal_context'"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    status: unverified\n    verified: true\n", 7,
     "verified: true but its status is unverified"),
    ("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    label: B\n", 6, "'label' is given twice in a domain (first on line 5)"),
    ("name: X\ndomains: []\n", 1, "no 'id'"),
    ("- just\n- a list\n", 1, "must be a mapping"),
]


@pytest.mark.parametrize("text,line,message", BAD_FILES)
def test_malformed_framework_files_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    err = info.value
    assert err.path == path and err.line == line
    assert message in str(err) and str(err).startswith(f"{path}:{line}: ")


def test_checking_a_framework_file_lists_every_problem_by_line_and_loading_raises_the_first(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nname: X\ndomains:\n  - id: a\n    label: A\n    status: confirmed\n"
                    "  - id: Bad Id\n    label: B\n    contructs: []\n  - id: c\n    label: C\n    label: D\n")
    problems = framework_problems(path)
    assert [(p.line, p.path) for p in problems] == [(6, path), (9, path), (12, path)]
    assert "unknown status 'confirmed'" in problems[0].message
    assert "did you mean 'constructs'?" in problems[1].message  # an unknown key hides the rest of that item
    assert "'label' is given twice in a domain (first on line 11)" in problems[2].message
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert info.value.line == 6 and problems[0].message in str(info.value)
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL.format(id="mine", name="Mine"))
    assert framework_problems(good) == []


def test_a_bad_workspace_file_is_reported_by_available_frameworks(tmp_path):
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "one.yaml").write_text(MINIMAL.format(id="mine", name="One"))
    (folder / "two.yaml").write_text(MINIMAL.format(id="mine", name="Two"))
    with pytest.raises(FrameworkError, match="also defined in one.yaml") as info:
        available_frameworks([folder])
    assert info.value.path == folder / "two.yaml" and info.value.line == 1
    (folder / "two.yaml").write_text("id: other\nextends: hief\n")
    with pytest.raises(FrameworkError, match="did you mean heif"):
        available_frameworks([folder])


# ----------------------------------------------------------------------------- CLI
@pytest.fixture
def run(monkeypatch):
    """Invoke `qualkit ...` from a given folder."""

    def invoke(*args, cwd):
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args))

    return invoke


def test_cli_frameworks_list_outside_a_workspace(run, tmp_path):
    r = run("frameworks", "list", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split()[:7] == ["id", "version", "domains", "constructs", "subconstructs", "unverified", "source"]
    rows = {ln.split()[0]: ln for ln in lines[1:7]}
    assert set(rows) == BUILTINS
    assert rows["cfir2"].split()[2:7] == ["5", "48", "19", "6", "built-in"]
    assert rows["heif"].split()[1:7] == ["2021", "6", "52", "0", "42", "built-in"]
    assert "Health Equity Implementation Framework" in rows["heif"]
    data = json.loads(run("frameworks", "list", "--json", cwd=tmp_path).output)
    assert {d["id"] for d in data} == BUILTINS
    assert next(d for d in data if d["id"] == "cfir2")["constructs"] == 48


def test_cli_frameworks_list_inside_a_workspace_includes_its_frameworks(run, sample_workspace):
    (sample_workspace / "frameworks" / "local.yaml").write_text(MINIMAL.format(id="local", name="Local barriers"))
    r = run("frameworks", "list", cwd=sample_workspace / "transcripts")
    assert r.exit_code == 0, r.output
    row = next(ln for ln in r.output.splitlines() if ln.startswith("local "))
    assert row.split()[1:7] == ["1", "1", "1", "0", "0", "frameworks/local.yaml"]
    r = run("frameworks", "show", "local", cwd=sample_workspace)
    assert "Cost of travel  [cost_of_travel]" in r.output


def test_cli_frameworks_show_heif_prints_the_tree(run, tmp_path):
    r = run("frameworks", "show", "heif", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    out = r.output
    assert out.startswith("Health Equity Implementation Framework (heif, version 2021)")
    flat = " ".join(out.split())
    assert "(2021). A more practical guide to incorporating health equity domains" in flat
    assert "(2019). The health equity implementation framework: proposal" in flat
    assert "6 domains, 8 sub-domains, 52 constructs; 42 not verified" in out
    assert ("\nSocietal context  [societal_context]  (also: Societal influence, Societal influences; "
            "health-equity domain)") in out
    assert "\n  Economies  [economies]  (unverified)" in out
    assert "\n  Outer context  [outer]  (also: Healthcare system factors" in out
    assert "\n    Clarity  [clarity]\n" in out
    assert "Motivation  [motivation]  (inherited, not verified)" in out
    assert out.index("[innovation]") < out.index("[recipients]") < out.index("[facilitation]")
    assert "Forces in society" not in out

    r = run("frameworks", "show", "heif", "--definitions", cwd=tmp_path)
    assert "Forces in society that create or maintain health care disparities" in " ".join(r.output.split())

    data = json.loads(run("frameworks", "show", "heif", "--json", cwd=tmp_path).output)
    assert [d["id"] for d in data["domains"]] == ["innovation", "recipients", "clinical_encounter", "context",
                                                  "societal_context", "facilitation"]
    societal = data["domains"][4]
    assert societal["aliases"] == ["Societal influence", "Societal influences"]
    assert [c["ref"] for c in societal["children"]] == ["heif:economies", "heif:physical_structures",
                                                        "heif:sociopolitical_forces"]
    assert data["counts"]["unverified"] == 42


def test_cli_frameworks_show_cfir2_uses_the_published_codes(run, tmp_path):
    out = run("frameworks", "show", "cfir2", cwd=tmp_path).output
    assert "\n  I.B  Innovation Evidence Base  [innovation_evidence_base]" in out
    assert "\n    III.D.1  Human Equality-Centeredness  [human_equality_centeredness]  (secondary source)" in out


def test_cli_frameworks_show_unknown_id_is_a_one_line_error(run, tmp_path):
    r = run("frameworks", "show", "cfr", cwd=tmp_path)
    assert r.exit_code == 1
    assert "unknown framework 'cfr'" in r.output and "did you mean cfir2" in r.output
    assert "Traceback" not in r.output


def test_cli_frameworks_with_a_broken_workspace_file_names_file_and_line(run, sample_workspace):
    (sample_workspace / "frameworks" / "bad.yaml").write_text("id: bad\nname: Bad\ndomains:\n  - id: a\n")
    r = run("frameworks", "list", cwd=sample_workspace)
    assert r.exit_code == 1
    assert "bad.yaml:4: domain 'a' has no 'label'" in r.output
