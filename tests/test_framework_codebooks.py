"""Codebooks made from a framework are codebooks a coder can use (MacQueen et al. 1998: each code's
inclusion and exclusion criteria and an example, specific to it), `codebook validate` calls template
text what it is, CFIR 2009 says which construct set it is, and the CFIR 2009 <-> 2.0 crosswalk
(Damschroder et al. 2022, Implement Sci 17:75, Additional file 4) carries codes across versions."""
from __future__ import annotations

import json

import yaml

from qualkit.frameworks.catalog import get_framework
from qualkit.frameworks.crosswalk import crosswalk, map_ref


def _codes(root, book):
    return {c["id"]: c for c in yaml.safe_load((root / "codebooks" / f"{book}.yaml").read_text())["codes"]}


def test_a_codebook_from_heif_draws_include_exclude_and_examples_from_the_framework(make_workspace, run_cli):
    ws = make_workspace()
    assert run_cli("codebook", "new", "HEIF", "--from-framework", "heif").exit_code == 0
    codes = _codes(ws.root, "heif")
    trust = codes["trust_and_mistrust"]
    assert trust["include"].startswith("Passages in which participants speak of recipients' trust")
    assert "will not give her address" in trust["include"]
    assert trust["examples"] == [get_framework("heif").resolve("trust_and_mistrust").example]
    assert trust["exclude"].startswith("Not for ") and "This code is only for" in trust["exclude"]
    assert "as the definition describes" not in json.dumps(codes)
    assert codes["societal_context"]["exclude"].startswith(
        "Passages a more specific item fits (Economies, Physical structures, Sociopolitical forces)")
    # every include and exclude is its own
    for key in ("include", "exclude"):
        assert len({c[key] for c in codes.values()}) == len(codes)
    r = run_cli("codebook", "validate")
    assert r.exit_code == 0 and "No problems." in r.output


def test_validate_reports_boilerplate_include_and_exclude(make_workspace, run_cli):
    ws = make_workspace()
    (ws.root / "codebooks" / "tmpl.yaml").write_text(
        "id: tmpl\nname: Template\ncodes:\n"
        + "".join(f"  - id: c{i}\n    name: Code {i}\n    definition: The thing number {i}.\n"
                  f"    include: Passages about code {i}, as the definition describes, that bear on implementation.\n"
                  f"    exclude: Passages that mention it in passing.\n" for i in range(3))
        + "  - id: d\n    name: D\n    definition: Delays in referral.\n    include: Delays in referral.\n")
    out = run_cli("codebook", "validate").output
    assert "tmpl.yaml:7: warning: boilerplate: the 'include' of 'c0' is template text" in out
    assert "the 'exclude' of 'c1' is the same sentence in 3 codes" in out
    assert "the 'include' of 'd' repeats the definition" in out


def test_the_shipped_heif_codebook_has_no_boilerplate(sample_workspace, run_cli):
    out = run_cli("codebook", "validate", workspace=sample_workspace).output
    assert "boilerplate" not in out


def test_cfir2009_says_it_is_the_papers_37_constructs_plus_the_two_of_cfir_eric():
    old = get_framework("cfir2009")
    assert "37 constructs plus 2, the 39 of CFIR-ERIC" in old.name
    grouping = [i for i in old.items() if (i.notes or "").startswith("A grouping")]
    added = [i for i in old.items() if (i.notes or "").startswith("Not in the 2009 paper")]
    counted = [i for i in old.items() if i.kind != "domain" and i not in grouping]
    assert [i.id for i in added] == ["key_stakeholders", "innovation_participants"]
    assert len(counted) == 39 and len(counted) - len(added) == 37
    per_domain = [sum(1 for i in counted if i not in added and i.path.split(".")[0] == d.id) for d in old.domains()]
    assert per_domain == [8, 4, 12, 5, 8]     # as the 2009 abstract counts them


def test_the_cfir_crosswalk_maps_every_2009_item_and_reads_both_ways():
    walk = crosswalk("cfir2009", "cfir2")
    assert {p.source.id for p in walk.pairs} == {i.id for i in get_framework("cfir2009").items()}
    verified = [p.source.id for p in walk.pairs if p.verified]
    assert verified == ["intervention_characteristics", "intervention_source"]
    assert [t.id for t in map_ref("cfir2009:intervention_source", "cfir2")] == ["innovation_source"]
    assert [t.id for t in map_ref("cfir2009:external_policy_incentives", "cfir2")] == [
        "policies_laws", "financing", "performance_measurement_pressure"]
    assert map_ref("cfir2009:implementation_climate", "cfir2") == []
    back = crosswalk("cfir2", "cfir2009")
    assert [t.id for t in back.targets_of(get_framework("cfir2").resolve("capability"))] == [
        "knowledge_beliefs", "self_efficacy", "other_personal_attributes"]


def test_codebook_crosswalk_adds_cfir2_refs_to_a_cfir2009_codebook(make_workspace, run_cli):
    ws = make_workspace()
    assert run_cli("codebook", "new", "Old CFIR", "--from-framework", "cfir2009").exit_code == 0
    r = run_cli("codebook", "crosswalk", "--to", "cfir2", "-c", "old_cfir")
    assert r.exit_code == 0 and "cfir2 refs to the codes of old_cfir.yaml" in r.output
    assert "no counterpart in cfir2: implementation_climate" in r.output
    codes = _codes(ws.root, "old_cfir")
    assert codes["peer_pressure"]["framework"] == ["cfir2009:peer_pressure", "cfir2:market_pressure"]
    assert list((ws.root / ".qualkit" / "backups").rglob("old_cfir*"))
    shown = run_cli("frameworks", "crosswalk", "cfir2009", "cfir2").output
    assert "Intervention Source " in shown and "Evidence Strength & Quality\u2020" in shown
    r = run_cli("frameworks", "crosswalk", "heif", "cfir2")
    assert r.exit_code == 1 and "no crosswalk between heif and cfir2" in r.output


def test_a_second_framework_codebook_says_once_why_its_ids_carry_a_prefix(make_workspace, run_cli):
    make_workspace()
    assert run_cli("codebook", "new", "HEIF", "--from-framework", "heif").exit_code == 0
    result = run_cli("codebook", "new", "HEIF again", "--from-framework", "heif", "--id", "heif2")
    assert result.exit_code == 0, result.output
    assert result.output.count("carry the prefix 'heif_'") == 1, result.output
