"""REFI-QDA codebooks (.qdc): export valid files, import other tools' files, round-trip qualkit's fields."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.refiqda import RefiQdaError
from qualkit.refiqda.qdc import export_qdc, pack_description, read_qdc, unpack_description
from qualkit.workspace.codebook import Code, Codebook, load_codebook, save_codebook
from qualkit.workspace.scaffold import init

REFI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "refi-qda"


def reference(name: str) -> Path:
    path = REFI / name
    if not path.exists():
        pytest.skip(f"reference file {name} not available")
    return path


def codebook_schema():
    etree = pytest.importorskip("lxml.etree")
    return etree.XMLSchema(etree.parse(str(reference("Codebook-mrt2019.xsd"))))


RICH = Code(
    "data_sharing", "Inter-partner data sharing", None, "deductive",
    brief="Moving client information between partners",
    definition="How partner agencies move information.\n\nA second paragraph; with a colon: here.",
    include="Referral routes, consent forms,\nand what is done by hand.",
    exclude="Legal limits on sharing (data_sharing_hipaa).",
    examples=["we fax the consent form over", "Examples: a line that looks like a label\n- and a dash"],
    keywords=["fax", "HIPAA; privacy", "data sharing agreement"],
    patterns=[[{"LOWER": "fax"}]],
    framework=["heif:outer_context", "cfir2:partnerships"],
    color="#1f77b4", status="retired")


def book() -> Codebook:
    return Codebook("main", "Main codebook", [
        RICH,
        Code("hipaa", "HIPAA", "data_sharing", definition="Rules on sharing."),
        Code("culture", "Culture", "data_sharing"),
        Code("stigma", "Stigma", color="#abc"),
        Code("stigma_culture", "Culture", "stigma", brief="Same name, other branch"),
    ], "A test codebook.", "heif")


@pytest.fixture
def root(tmp_path):
    root = init(tmp_path / "ws")
    save_codebook(book(), root / "codebooks" / "main.yaml")
    return root


def test_description_packs_every_field_readably_and_unpacks_exactly():
    text = pack_description(RICH)
    assert text.startswith("How partner agencies move information.")
    assert "\nWhen to use: Referral routes, consent forms,\n  and what is done by hand." in text
    assert "\nWhen not to use: " in text and "\nFramework: heif:outer_context; cfir2:partnerships" in text
    assert "\nKeywords: fax; HIPAA\\; privacy; data sharing agreement" in text
    assert "\nOrigin: deductive" in text and "\nStatus: retired" in text and text.endswith("Code id: data_sharing")
    fields = unpack_description(text)
    for name in ("definition", "brief", "include", "exclude", "examples", "keywords", "patterns", "framework",
                 "origin", "status", "id"):
        assert fields[name] == getattr(RICH, name), name


def test_another_tools_description_is_the_definition_whole():
    text = "Anything about health.\n\nWhen to use: mentioned in passing\nbut this line is not a field"
    assert unpack_description(text) == {"definition": text}
    assert unpack_description("") == {}


def test_exported_qdc_validates_and_reimports_with_all_fields(root, tmp_path):
    out = tmp_path / "main.qdc"
    r = CliRunner().invoke(cli, ["--workspace", str(root), "export", "qdc", str(out)])
    assert r.exit_code == 0, r.output
    assert "Exported codebook main (5 codes)" in r.output
    from lxml import etree

    doc = etree.parse(str(out))
    schema = codebook_schema()
    assert schema.validate(doc), schema.error_log
    assert doc.getroot().get("origin").startswith("qualkit")
    assert {c.get("isCodable") for c in doc.iter("{*}Code")} == {"true"}

    other = init(tmp_path / "other")
    r = CliRunner().invoke(cli, ["--workspace", str(other), "import", "qdc", str(out), "--id", "copy"])
    assert r.exit_code == 0, r.output
    copy = load_codebook(other / "codebooks" / "copy.yaml")
    original = book()
    assert [c.as_dict() for c in copy.codes] == [c.as_dict() for c in original.codes]

    # the same ids cannot be imported twice: the second import gets fresh code ids, not clashes
    r = CliRunner().invoke(cli, ["--workspace", str(other), "import", "qdc", str(out), "--id", "copy"])
    assert r.exit_code == 1 and "already exists" in r.output
    r = CliRunner().invoke(cli, ["--workspace", str(other), "import", "qdc", str(out), "--id", "copy2"])
    assert r.exit_code == 0, r.output
    ids = [c.id for b in Workspace(other).codebooks() for c in b.codes]
    assert len(ids) == len(set(ids)) == 10


def test_atlasti_draft_namespace_codebook_imports_with_warnings(root):
    qdc = reference("samples/atlasti-win-9_codebook_ns-0-4.qdc")
    r = CliRunner().invoke(cli, ["--workspace", str(root), "import", "qdc", str(qdc), "--id", "atlas", "--name", "ATLAS"])
    assert r.exit_code == 0, r.output
    assert "urn:QDA-XML:codebook:0:4" in r.output and "and 2 code groups" in r.output
    imported = load_codebook(root / "codebooks" / "atlas.yaml")
    assert imported.name == "ATLAS"
    by_name = {c.name: c for c in imported.codes}
    assert len(imported.codes) == 5  # PROVENANCE: nested codes, one folder
    assert by_name["code1.1"].parent == by_name["code1"].id
    assert by_name["code:3.1"].parent == by_name["code3"].id  # ':' in names is fine
    assert not by_name["code3"].codable  # the folder stays a folder
    # ATLAS.ti's code groups are the codebook's groups
    assert [(g.name, [by_id.name for cid in g.codes for by_id in imported.codes if by_id.id == cid])
            for g in imported.groups] == [("codeGroup1::codeGroup1.2", ["code2", "code1.1"]),
                                          ("codeGroup1::codeGroup1.1", ["code1", "code1.1"])]
    result = read_qdc(qdc)
    assert result.folders == 1 and result.sets == 2


def test_atlasti_file_validates_once_its_namespace_is_fixed():
    # A check on the reference material itself: the draft namespace is the only deviation.
    from lxml import etree

    text = reference("samples/atlasti-win-9_codebook_ns-0-4.qdc").read_bytes().replace(b"codebook:0:4", b"codebook:1.0")
    assert codebook_schema().validate(etree.fromstring(text))


def test_bad_qdc_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.qdc"
    bad.write_text('<?xml version="1.0"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n<Code name="x"\n</Codes>',
                   encoding="utf-8")
    with pytest.raises(RefiQdaError) as exc:
        read_qdc(bad)
    assert "not well-formed" in str(exc.value) and exc.value.path == bad and exc.value.line == 5
    assert "\n" not in str(exc.value)
    wrong = tmp_path / "wrong.qdc"
    wrong.write_text('<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>', encoding="utf-8")
    with pytest.raises(RefiQdaError, match="not a REFI-QDA codebook"):
        read_qdc(wrong)


def test_export_of_a_codebook_without_codes_is_refused(tmp_path):
    with pytest.raises(RefiQdaError, match="no codes"):
        export_qdc(Codebook("empty", "Empty"), tmp_path / "e.qdc")
