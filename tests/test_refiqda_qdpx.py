"""`qualkit export qdpx` and the round trip qualkit -> QDPX -> qualkit (small workspace and sample study)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.refiqda.qdpx_export import export_qdpx
from qualkit.refiqda.qdpx_import import import_qdpx
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, write_codings
from qualkit.workspace.scaffold import demo, init

REFI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "refi-qda"

INT1 = ("Interviewer: How do referrals arrive? 📠\n"
        "Maria: By fax 😩, usually days late. We’re “not ready” for the portal.\n"
        "Interviewer: And the café?\n"
        "Maria: Naïve hopes. The peer specialist calls within a day.\n")
INT2 = "Sheriff Boyd: We carry naloxone in every cruiser now.\nInterviewer: Since when?\nSheriff Boyd: Since the grant.\n"


def project_schema():
    etree = pytest.importorskip("lxml.etree")
    path = REFI / "Project-mrt2019.xsd"
    if not path.exists():
        pytest.skip("Project-mrt2019.xsd not available")
    return etree.XMLSchema(etree.parse(str(path)))


def span(text: str, quote: str) -> tuple[int, int]:
    i = text.index(quote)
    return i, i + len(quote)


def coding(tid: str, text: str, quote: str, code: str, memo: str = "", when: str = "") -> Coding:
    s, e = span(text, quote)
    return Coding(tid, s, e, code, quote, memo, when)


@pytest.fixture
def root(tmp_path):
    root = init(tmp_path / "ws", project="Fax study")
    (root / "transcripts" / "int1.txt").write_text(INT1, encoding="utf-8")
    (root / "transcripts" / "int2.txt").write_text(INT2, encoding="utf-8")
    config = root / "qualkit.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("coders: []", "coders: [ana, ben]")
                      .replace("# codebook: my_codebook", "codebook: main"), encoding="utf-8")
    save_codebook(Codebook("main", "Main codebook", [
        Code("data_sharing", "Inter-partner data sharing", origin="deductive", brief="Moving information",
             definition="How partners move information.", include="Fax,\nemail.", exclude="Legal limits.",
             examples=["we fax it", "two\nlines"], keywords=["fax", "a;b"], patterns=[[{"LOWER": "fax"}]],
             framework=["heif:outer_context"], color="#1f77b4"),
        Code("readiness", "Readiness", "data_sharing", status="retired"),
        Code("culture", "Culture", "data_sharing"),
        Code("stigma", "Stigma"),
        Code("stigma_culture", "Culture", "stigma"),
    ], "The main codebook.", "heif"), root / "codebooks" / "main.yaml")
    save_codebook(Codebook("extra", "Extra", [Code("naloxone", "Naloxone", color="#0f0")]), root / "codebooks" / "extra.yaml")
    (root / "participants.csv").write_text(
        "transcript,speaker,participant_id,role,site\n"
        ",Interviewer,RT-1,interviewer,\n"
        "int1,Maria,P1,clinician,Calder\n"
        "int2,Sheriff Boyd,P2,public safety,\"Pine, Hollow\"\n", encoding="utf-8")
    write_codings(root / "codings" / "ana.csv", [
        coding("int1", INT1, "By fax 😩, usually days late.", "data_sharing", "fax still\nin 2026", "2026-03-01T10:00:00"),
        coding("int1", INT1, "By fax 😩, usually days late.", "culture"),
        coding("int1", INT1, "The peer specialist calls within a day.", "stigma_culture", when="2026-03-01T10:05:00"),
        coding("int2", INT2, "We carry naloxone in every cruiser now.", "naloxone"),
    ])
    write_codings(root / "codings" / "ben.csv", [
        coding("int1", INT1, "By fax 😩, usually days late.", "readiness", "not sure"),
        coding("int1", INT1, "Naïve hopes.", "stigma"),
    ])
    return root


def rows(ws: Workspace, coder: str):
    return sorted((c.transcript, c.start, c.end, c.code, c.text, c.memo, c.coded_at) for c in ws.codings(coder))


def assert_same_workspace(a: Workspace, b: Workspace) -> None:
    assert b.coders() == a.coders()
    for coder in a.coders():
        assert rows(b, coder) == rows(a, coder), coder
    assert [bk.id for bk in b.codebooks()] == [bk.id for bk in a.codebooks()]
    for book in a.codebooks():
        other = b.codebook(book.id)
        assert (other.name, other.description, other.framework) == (book.name, book.description, book.framework)
        assert [c.as_dict() for c in other.codes] == [c.as_dict() for c in book.codes]
    pa, pb = a.participant_table, b.participant_table
    assert pb.columns == pa.columns
    assert pb.rows == pa.rows
    assert {t.id: t.text for t in b.transcripts()} == {t.id: t.text for t in a.transcripts()}
    assert b.config.coders == a.config.coders or sorted(b.config.coders) == a.coders()
    assert b.config.raw.get("codebook") == a.config.raw.get("codebook")
    assert b.config.project == a.config.project


def test_export_validates_against_the_project_schema_and_is_reproducible(root, tmp_path):
    out = tmp_path / "study.qdpx"
    r = CliRunner().invoke(cli, ["--workspace", str(root), "export", "qdpx", str(out)])
    assert r.exit_code == 0, r.output
    assert "Exported 2 transcript(s), 6 code(s) in 2 codebook(s), 6 coding(s) by ana (4), ben (2), 3 participant(s)" in r.output
    from lxml import etree

    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        project = etree.fromstring(zf.read("project.qde"))
        texts = {n: zf.read(n) for n in names if n.startswith("sources/")}
    schema = project_schema()
    assert schema.validate(project), schema.error_log
    assert names[0] == "project.qde" and len(texts) == 2
    # the plain text is the transcript's normalized text, UTF-8 without BOM
    assert sorted(texts.values()) == sorted([INT1.encode("utf-8"), INT2.encode("utf-8")])
    # positions are code points: the emoji before the selection counts once
    sel = next(s for s in project.iter("{*}PlainTextSelection") if s.get("name").startswith("The peer"))
    assert (int(sel.get("startPosition")), int(sel.get("endPosition"))) == span(INT1, "The peer specialist calls within a day.")
    # coder identity: one user per coder, on every selection and coding
    users = {u.get("guid"): u.get("name") for u in project.iter("{*}User")}
    assert sorted(users.values()) == ["ana", "ben"]
    assert all(users[c.get("creatingUser")] for c in project.iter("{*}Coding"))
    assert {c.get("isCodable") for c in project.iter("{*}Code")} == {"true", "false"}
    # a re-export of the unchanged workspace is byte-identical
    again = tmp_path / "again.qdpx"
    export_qdpx(Workspace(root), again)
    assert again.read_bytes() == out.read_bytes()


def test_export_of_a_bare_workspace_has_no_empty_containers(tmp_path):
    root = init(tmp_path / "bare")
    (root / "transcripts" / "a.txt").write_text("Just text.\n", encoding="utf-8")
    out = tmp_path / "bare.qdpx"
    export_qdpx(Workspace(root), out)
    from lxml import etree

    with zipfile.ZipFile(out) as zf:
        project = etree.fromstring(zf.read("project.qde"))
    assert project_schema().validate(project)
    assert [el.tag.split("}")[1] for el in project] == ["Sources", "Description"]


def test_export_only_the_chosen_coders(root, tmp_path):
    out = tmp_path / "ana.qdpx"
    r = CliRunner().invoke(cli, ["--workspace", str(root), "export", "qdpx", str(out), "--coders", "ana", "--json"])
    assert r.exit_code == 0, r.output
    assert '"coders": {\n    "ana": 4\n  }' in r.output
    r = CliRunner().invoke(cli, ["--workspace", str(root), "export", "qdpx", str(out), "--coders", "zed"])
    assert r.exit_code == 1 and "no coder 'zed'" in r.output


def test_codings_that_cannot_be_placed_are_left_out_with_a_warning(root, tmp_path):
    ws = Workspace(root)
    write_codings(root / "codings" / "cy.csv", [Coding("gone", 0, 4, "stigma"), Coding("int2", 0, 5, "nonexistent"),
                                                Coding("int2", 0, 9999, "stigma")])
    result = export_qdpx(ws, tmp_path / "x.qdpx")
    assert result.coders["cy"] == 0
    text = "\n".join(result.warnings)
    assert "'gone' is not readable" in text and "'nonexistent' is in no codebook" in text and "outside int2" in text


def test_round_trip_of_a_small_workspace_loses_nothing(root, tmp_path):
    out = tmp_path / "study.qdpx"
    export_qdpx(Workspace(root), out)
    r = CliRunner().invoke(cli, ["import", "qdpx", str(out), "--into", str(tmp_path / "copy")])
    assert r.exit_code == 0, r.output
    assert "into a new workspace" in r.output
    assert_same_workspace(Workspace(root), Workspace(tmp_path / "copy"))


def test_round_trip_of_the_sample_study_loses_nothing(tmp_path):
    src = demo(tmp_path / "s")
    out = tmp_path / "s.qdpx"
    result = export_qdpx(Workspace(src), out)
    assert result.warnings == [] and result.transcripts == 9
    from lxml import etree

    with zipfile.ZipFile(out) as zf:
        schema = project_schema()
        assert schema.validate(etree.fromstring(zf.read("project.qde"))), schema.error_log
    imported = import_qdpx(out, tmp_path / "back")
    assert imported.written and imported.not_carried == []
    assert_same_workspace(Workspace(src), Workspace(tmp_path / "back"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".qualkit" not in p.relative_to(root).parts}


def test_reimport_into_its_own_workspace_is_refused_without_changing_anything(root, tmp_path):
    out = tmp_path / "study.qdpx"
    export_qdpx(Workspace(root), out)
    before = snapshot(root)
    r = CliRunner().invoke(cli, ["--workspace", str(root), "import", "qdpx", str(out)])
    assert r.exit_code == 1
    assert "codings/ana.csv already has codings" in r.output and "Nothing was written" in r.output
    assert snapshot(root) == before
    assert not list((root / ".qualkit").glob("import-*"))


def test_import_fills_empty_coder_files_and_reuses_identical_transcripts_codebooks_and_participants(root, tmp_path):
    ws = Workspace(root)
    out = tmp_path / "study.qdpx"
    expected = {c: rows(ws, c) for c in ws.coders()}
    export_qdpx(ws, out)
    (root / "codings" / "ana.csv").unlink()
    (root / "codings" / "ben.csv").write_text("transcript,start,end,code,text,memo,coded_at\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--workspace", str(root), "import", "qdpx", str(out)])
    assert r.exit_code == 0, r.output
    assert "2 already there" in r.output and "already there: extra, main" in r.output
    ws = Workspace(root)
    assert {c: rows(ws, c) for c in ws.coders()} == expected
    assert sorted(p.name for p in (root / "transcripts").iterdir()) == ["int1.txt", "int2.txt"]
    assert sorted(p.name for p in (root / "codebooks").iterdir()) == ["extra.yaml", "main.yaml"]


def test_suggestions_and_consensus_are_not_exported_or_listed_as_coders(tmp_path):
    """A round trip keeps 'agree' and 'run' working: coders: lists people, not auto or consensus."""
    import qualkit
    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.refiqda.qdpx_import import import_qdpx
    from qualkit.workspace.codings import Coding
    from qualkit.workspace.scaffold import demo

    ws = qualkit.Workspace(demo(tmp_path / "s"))
    t = ws.transcript("int1_sheriff")
    turn = next(x for x in t.turns if x.speaker == "Sheriff Boyd")
    ws.write_codings("auto", [Coding("int1_sheriff", turn.start, turn.end, "transportation", t.turn_text(turn))])
    ws.write_codings("consensus", ws.codings("ana")[:5])
    result = export_qdpx(ws, tmp_path / "p.qdpx")
    assert "auto" not in result.coders and {"ana", "ben", "consensus"} <= set(result.coders)
    import_qdpx(tmp_path / "p.qdpx", tmp_path / "imported")
    imported = qualkit.Workspace(tmp_path / "imported")
    assert imported.config.coders == ["ana", "ben"]
