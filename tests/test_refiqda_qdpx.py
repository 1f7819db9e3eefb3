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
    assert "Exported 2 transcripts, 6 codes in 2 codebooks, 6 codings by ana (4), ben (2), 3 participants" in r.output
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
    assert result.transcripts == 9
    assert result.warnings == ["2 codes are named 'Culture': exported as 'Culture (inner local)', 'Culture (inner "
                               "organizational)' (tools such as QualCoder keep one code per name); `qualkit import` "
                               "restores the name"]
    from lxml import etree

    with zipfile.ZipFile(out) as zf:
        schema = project_schema()
        assert schema.validate(etree.fromstring(zf.read("project.qde"))), schema.error_log
    imported = import_qdpx(out, tmp_path / "back")
    assert imported.written and imported.not_carried == []
    assert_same_workspace(Workspace(src), Workspace(tmp_path / "back"))
    # byte for byte: the coders' files and their done marks, the codebooks (their change logs
    # travel too), the participants, and the project exported again from the imported workspace
    back = tmp_path / "back"
    files = ["participants.csv", *(f"{d}/{p.name}" for d in ("codings", "codebooks") for p in sorted((src / d).iterdir()))]
    assert len(files) == 7 and "codings/ana.done" in files and "codings/ben.done" in files
    assert {f: (back / f).read_bytes() for f in files} == {f: (src / f).read_bytes() for f in files}
    export_qdpx(Workspace(back), tmp_path / "again.qdpx")
    assert (tmp_path / "again.qdpx").read_bytes() == out.read_bytes()



def test_a_coders_done_marks_survive_a_qdpx_round_trip(root, tmp_path):
    """`qualkit codings done` marks go out in the transcript's own description, which a person
    reads in NVivo or QualCoder, and come back as codings/<coder>.done, byte for byte."""
    run = CliRunner().invoke
    for transcript, coder in [("int1", "ana"), ("int2", "ana"), ("int1", "ben")]:
        assert run(cli, ["--workspace", str(root), "codings", "done", transcript, "--coder", coder]).exit_code == 0
    out = tmp_path / "study.qdpx"
    assert export_qdpx(Workspace(root), out).done == 3
    from lxml import etree

    with zipfile.ZipFile(out) as zf:
        project = etree.fromstring(zf.read("project.qde"))
    assert project_schema().validate(project)
    when = {c: dict(line.split(",") for line in (root / "codings" / f"{c}.done").read_text().splitlines()[1:])
            for c in ("ana", "ben")}
    descriptions = {s.get("name"): s.findtext("{*}Description") for s in project.iter("{*}TextSource")}
    assert descriptions == {"int1": f"Coding done by:\n- ana ({when['ana']['int1']})\n- ben ({when['ben']['int1']})",
                            "int2": f"Coding done by:\n- ana ({when['ana']['int2']})"}
    r = run(cli, ["import", "qdpx", str(out), "--into", str(tmp_path / "copy")])
    assert r.exit_code == 0, r.output
    assert "done marks by ana (2), ben (1)" in r.output and "not carried" not in r.output
    for name in ("ana.done", "ben.done"):
        assert (tmp_path / "copy" / "codings" / name).read_bytes() == (root / "codings" / name).read_bytes()
    # into the workspace they came from: the same marks are already there; other marks are not overwritten
    def empty_codings():
        for c in ("ana", "ben"):
            (root / "codings" / f"{c}.csv").write_text("transcript,start,end,code,text,memo,coded_at\n", encoding="utf-8")

    empty_codings()
    before = {c: (root / "codings" / f"{c}.done").read_bytes() for c in ("ana", "ben")}
    r = run(cli, ["--workspace", str(root), "import", "qdpx", str(out)])
    assert r.exit_code == 0, r.output
    assert {c: (root / "codings" / f"{c}.done").read_bytes() for c in ("ana", "ben")} == before
    empty_codings()
    run(cli, ["--workspace", str(root), "codings", "done", "int2", "--coder", "ana", "--undo"])
    r = run(cli, ["--workspace", str(root), "import", "qdpx", str(out)])
    assert r.exit_code == 1 and "codings/ana.done already has other done marks" in r.output


def test_done_marks_are_found_when_another_tool_adds_to_the_description(root, tmp_path):
    from qualkit.refiqda.qdpx_read import read_qdpx

    CliRunner().invoke(cli, ["--workspace", str(root), "codings", "done", "int1", "--coder", "ben"])
    out = tmp_path / "study.qdpx"
    export_qdpx(Workspace(root), out)
    with zipfile.ZipFile(out) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["project.qde"] = members["project.qde"].replace(b"<Description>Coding done by:",
                                                            b"<Description>Second pass in NVivo.\n\nCoding done by:")
    edited = tmp_path / "edited.qdpx"
    with zipfile.ZipFile(edited, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = read_qdpx(edited)
    assert list(data.done) == ["ben"] and list(data.done["ben"]) == ["int1"]
    assert "1 description of sources" in data.not_carried  # the user's own text is reported, not lost silently


def test_a_project_without_done_marks_imports_no_done_files(root, tmp_path):
    (root / "codings" / "ana.done").write_text("transcript,done_at\n", encoding="utf-8")  # marks kept, none yet
    out = tmp_path / "study.qdpx"
    result = export_qdpx(Workspace(root), out)
    assert result.done == 0
    assert any("ana.done marks no transcript done" in w for w in result.warnings)
    import_qdpx(out, tmp_path / "copy")
    assert not list((tmp_path / "copy" / "codings").glob("*.done"))

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
