"""REFI-QDA with real clients (issue 15): what QualCoder, NVivo, MAXQDA, ATLAS.ti and Taguette users
get back intact. Each test is one thing a user of those tools saw go wrong."""
from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

from qualkit.api import Workspace
from qualkit.refiqda.qdpx_import import import_qdpx
from qualkit.refiqda.qdpx_read import read_qdpx

NS = "urn:QDA-XML:project:1.0"
USER = "10000000-0000-0000-0000-000000000001"
CODEBOOK = ('<CodeBook><Codes><Code guid="20000000-0000-0000-0000-000000000001" name="Cost" isCodable="true"/>'
            '</Codes></CodeBook>')
USERS = f'<Users><User guid="{USER}" name="ana"/></Users>'


def make_qdpx(path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    qde = f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="Study">\n{body}\n</Project>\n'
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return path


def selection(start: int, end: int, name: str = "", n: int = 1, code: str = "20000000-0000-0000-0000-000000000001",
              extra: str = "") -> str:
    label = f' name="{name}"' if name else ""
    return (f'<PlainTextSelection guid="50000000-0000-0000-0000-{n:012d}"{label} startPosition="{start}" '
            f'endPosition="{end}">{extra}<Coding guid="60000000-0000-0000-0000-{n:012d}" creatingUser="{USER}">'
            f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def source(sels: str, inner: str = "") -> str:
    return (f'<Sources><TextSource guid="40000000-0000-0000-0000-000000000001" name="int1.txt" '
            f'plainTextPath="internal://s1.txt">{inner}{sels}</TextSource></Sources>')


# 7 -----------------------------------------------------------------------------------------------

def test_an_empty_source_description_as_nvivo_writes_is_not_reported_as_lost(tmp_path):
    text = b"Ana: Cost is the barrier.\n"
    qdpx = make_qdpx(tmp_path / "nv.qdpx", USERS + CODEBOOK + source(selection(5, 9), "<Description />"),
                     {"sources/s1.txt": text})
    data = read_qdpx(qdpx)
    assert not any("description" in x for x in data.not_carried), data.not_carried
    qdpx = make_qdpx(tmp_path / "nv2.qdpx", USERS + CODEBOOK + source(selection(5, 9), "<Description>Site A</Description>"),
                     {"sources/s1.txt": text})
    assert "1 description of sources" in read_qdpx(qdpx).not_carried


# 1 -----------------------------------------------------------------------------------------------

BOM_TEXT = "Ana: Cost is the barrier.\nBob: Travel, and the cost of travel.\n"


def test_a_leading_u_feff_is_counted_or_not_selection_by_selection_as_the_selected_text_says(tmp_path):
    """QualCoder keeps a text file's U+FEFF as a character and counts it in the codings made in it;
    codings that came from elsewhere do not. One source mixes both; the selection names decide."""
    def at(quote: str, counted: bool) -> tuple[int, int]:
        i = BOM_TEXT.index(quote) + counted
        return i, i + len(quote)

    sels = (selection(*at("Cost is the barrier.", True), "Cost is the barrier.", 1)  # made in QualCoder
            + selection(*at("Travel", False), "Travel", 2)  # imported into QualCoder from elsewhere
            + selection(*at("the cost of travel", True), "the cost of travel", 3)
            + selection(*at("Bob", True), "", 4)  # no name: the source's usual convention (counted)
            + selection(*at("barrier", True), "a label, not the text", 5))  # matches under no reading
    for n, raw in enumerate((codecs.BOM_UTF8 + BOM_TEXT.encode("utf-8"),  # a byte-order mark
                             ("\ufeff" + BOM_TEXT).encode("utf-8-sig"))):  # a BOM and the character U+FEFF
        qdpx = make_qdpx(tmp_path / f"qc{n}.qdpx", USERS + CODEBOOK + source(sels), {"sources/s1.txt": raw})
        result = import_qdpx(qdpx, tmp_path / f"qc{n}")
        ws = Workspace(tmp_path / f"qc{n}")
        assert ws.transcript("int1").text == BOM_TEXT
        assert [c.text for c in sorted(ws.codings("ana"), key=lambda c: c.start)] == [
            "Cost is the barrier.", "barrier", "Bob", "Travel", "the cost of travel"]
        warnings = "\n".join(result.warnings)
        assert "starts with U+FEFF" in warnings and "4 of 5 selections count it" in warnings
        assert "1 selection whose text matches their name under no reading" in warnings


# 3 and 4 -----------------------------------------------------------------------------------------

def exported_selections(make_workspace, tmp_path):
    """A coder's three codings (two on one span, one with a memo and date) exported as QDPX."""
    from lxml import etree

    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.workspace.codings import Coding

    ws = make_workspace(codebook=[("fax", "Referrals by fax"), ("delay", "Delays")])
    text = ws.transcript("int1").text
    i = text.index("By fax")
    ws.write_codings("ana", [Coding("int1", i, i + 6, "fax", "By fax", "fax still\nin 2026", "2026-03-01T10:00:00"),
                             Coding("int1", i, i + 6, "delay", "By fax", "", "2026-03-02T09:00:00"),
                             Coding("int1", i + 8, i + 17, "delay", "days late")])
    export_qdpx(ws, tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    return ws, root, list(root.iter(f"{{{NS}}}PlainTextSelection"))


def test_coding_memos_reach_qualcoder_as_the_selection_description_and_other_tools_as_notes(make_workspace, tmp_path):
    ws, root, sels = exported_selections(make_workspace, tmp_path)
    # one selection per coding, as QualCoder makes them: its memo is the selection's description
    assert len(sels) == 3 and all(len(s.findall(f"{{{NS}}}Coding")) == 1 for s in sels)
    described = [s for s in sels if s.find(f"{{{NS}}}Description") is not None]
    assert [s.find(f"{{{NS}}}Description").text for s in described] == ["fax still\nin 2026"]
    assert described[0].find(f"{{{NS}}}Coding/{{{NS}}}NoteRef") is not None  # and a Note for NVivo and MAXQDA
    assert [n.findtext(f"{{{NS}}}PlainTextContent") for n in root.iter(f"{{{NS}}}Note")] == ["fax still\nin 2026"]
    # read back, the memo is not doubled
    import_qdpx(tmp_path / "p.qdpx", tmp_path / "back")
    back = Workspace(tmp_path / "back")
    assert sorted((c.code, c.memo) for c in back.codings("ana")) == sorted((c.code, c.memo) for c in ws.codings("ana"))


def test_coding_dates_and_coders_are_on_the_selection_too_where_qualcoder_reads_them(make_workspace, tmp_path):
    ws, root, sels = exported_selections(make_workspace, tmp_path)
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{{{NS}}}User")}
    got = sorted((s.get("creationDateTime") or "", users[s.get("creatingUser")]) for s in sels)
    assert got == [("", "ana"), ("2026-03-01T10:00:00", "ana"), ("2026-03-02T09:00:00", "ana")]
    for s in sels:  # the coding says the same
        coding = s.find(f"{{{NS}}}Coding")
        assert (coding.get("creationDateTime"), coding.get("creatingUser")) == (s.get("creationDateTime"),
                                                                                s.get("creatingUser"))
    import_qdpx(tmp_path / "p.qdpx", tmp_path / "back")
    back = Workspace(tmp_path / "back")
    assert sorted((c.code, c.coded_at) for c in back.codings("ana")) == sorted((c.code, c.coded_at)
                                                                               for c in ws.codings("ana"))


# 2 -----------------------------------------------------------------------------------------------

def edit_project(src: Path, dst: Path, edit) -> Path:
    """The .qdpx at src with its project.qde changed by edit(text) -> text, as another tool saves it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, edit(data.decode("utf-8")).encode("utf-8") if item.filename == "project.qde" else data)
    return dst


def test_a_description_edited_in_another_tool_keeps_the_codes_fields_and_id(make_workspace, tmp_path):
    from qualkit.refiqda.qdc import unpack_description
    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.workspace.codebook import Code

    code = Code("fax_referral", "Referrals by fax", definition="Faxed referrals.", include="Any fax.", keywords=["fax"],
                origin="deductive")
    ws = make_workspace(coders={"ana": [("By fax", "fax_referral"), ("days late", "fax_referral")]}, codebook=[code])
    export_qdpx(ws, tmp_path / "p.qdpx")
    # a user adds a line after qualkit's packed fields; another deletes the Code id line
    added = edit_project(tmp_path / "p.qdpx", tmp_path / "added.qdpx",
                         lambda t: t.replace("Code id: fax_referral", "Code id: fax_referral\nAlso: phone referrals."))
    dropped = edit_project(tmp_path / "p.qdpx", tmp_path / "dropped.qdpx", lambda t: t.replace("\nCode id: fax_referral", ""))
    import_qdpx(added, tmp_path / "added")
    back = Workspace(tmp_path / "added")
    (got,) = back.codebook().codes
    assert (got.id, got.definition, got.include, got.keywords, got.origin) == (
        "fax_referral", "Faxed referrals.\n\nAlso: phone referrals.", "Any fax.", ["fax"], "deductive")
    assert {c.code for c in back.codings("ana")} == {"fax_referral"}
    # without its Code id line, the code's GUID finds it in the workspace that holds the codebook
    from qualkit.workspace.codebook import Codebook, save_codebook
    from qualkit.workspace.scaffold import init

    other = init(tmp_path / "colleague")
    save_codebook(Codebook("cb", "Codebook", [code]), other / "codebooks" / "cb.yaml")
    result = import_qdpx(dropped, other)
    assert result.reused_codebooks == ["cb"] and not any("renamed" in w for w in result.warnings)
    assert {c.code for c in Workspace(other).codings("ana")} == {"fax_referral"}
    # the packed fields are found wherever they stand
    fields = unpack_description("Intro.\n\nBrief: b\nCode id: x\nA line a user wrote.\n\nAnd more.")
    assert fields == {"definition": "Intro.\n\nA line a user wrote.\n\nAnd more.", "brief": "b", "id": "x"}


def test_a_code_whose_id_is_taken_is_renamed_with_a_warning_never_silently(tmp_path):
    from lxml import etree

    from qualkit.refiqda.qdc import read_code_elements

    codes = etree.fromstring(f'<Codes xmlns="{NS}"><Code guid="20000000-0000-0000-0000-000000000001" name="Fax">'
                             '<Description>Code id: fax</Description></Code></Codes>')
    tree = read_code_elements(list(codes), {"fax"})
    assert [c.id for c in tree.codes] == ["fax_2"]
    assert tree.warnings == ["code 'Fax': its id 'fax' is already used by another code; imported as 'fax_2' "
                             "(its codings follow it)"]


# 5 -----------------------------------------------------------------------------------------------

def test_two_codes_named_culture_are_exported_under_distinct_names_and_come_back_as_culture(tmp_path):
    """The built-in HEIF codebook has two codes named "Culture"; QualCoder keeps one code per name."""
    from lxml import etree

    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.workspace.scaffold import demo

    ws = Workspace(demo(tmp_path / "s"))
    result = export_qdpx(ws, tmp_path / "s.qdpx")
    assert any("2 codes are named 'Culture'" in w for w in result.warnings)
    with zipfile.ZipFile(tmp_path / "s.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    names = [c.get("name") for c in root.iter(f"{{{NS}}}Code")]
    assert len({n.casefold() for n in names}) == len(names)
    assert {"Culture (inner local)", "Culture (inner organizational)"} <= set(names)
    import_qdpx(tmp_path / "s.qdpx", tmp_path / "back")
    back = {c.id: c.name for b in Workspace(tmp_path / "back").codebooks() for c in b.codes}
    assert back["local_culture"] == back["organizational_culture"] == "Culture"


# 6 -----------------------------------------------------------------------------------------------

FOLDERS = ('<CodeBook><Codes><Code guid="20000000-0000-0000-0000-00000000000a" name="Barriers" isCodable="false">'
           '<Code guid="20000000-0000-0000-0000-000000000001" name="Cost" isCodable="true"/></Code></Codes></CodeBook>')


def test_an_nvivo_folder_stays_a_folder_through_import_and_export(tmp_path):
    from lxml import etree

    from qualkit.refiqda.qdpx_export import export_qdpx

    qdpx = make_qdpx(tmp_path / "nv.qdpx", USERS + FOLDERS + source(selection(5, 9, "Cost")),
                     {"sources/s1.txt": b"Ana: Cost is the barrier.\n"})
    import_qdpx(qdpx, tmp_path / "nv")
    ws = Workspace(tmp_path / "nv")
    codes = {c.name: c for c in ws.codebook().codes}
    assert codes["Barriers"].codable is False and codes["Cost"].codable is True
    assert "codable: false" in ws.codebook().path.read_text(encoding="utf-8")
    export_qdpx(ws, tmp_path / "again.qdpx")
    with zipfile.ZipFile(tmp_path / "again.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    assert {c.get("name"): c.get("isCodable") for c in root.iter(f"{{{NS}}}Code")} == {"Barriers": "false",
                                                                                    "Cost": "true"}


def test_a_single_codebook_is_not_wrapped_under_a_folder_and_comes_back_whole(make_workspace, tmp_path):
    from lxml import etree

    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.workspace.codebook import Codebook, save_codebook

    ws = make_workspace(coders={"ana": [("By fax", "fax")]}, codebook=[("fax", "Referrals by fax")])
    book = ws.codebook()
    save_codebook(Codebook(book.id, "Fax codebook", book.codes, "Codes about faxes.\nTwo lines.", "heif"), book.path)
    export_qdpx(ws, tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    top = root.find(f"{{{NS}}}CodeBook/{{{NS}}}Codes")
    assert [(c.get("name"), c.get("isCodable")) for c in top] == [("Referrals by fax", "true")]  # no "Untitled" folder
    import_qdpx(tmp_path / "p.qdpx", tmp_path / "back")
    back = Workspace(tmp_path / "back").codebook()
    assert (back.id, back.name, back.description, back.framework) == ("cb", "Fax codebook",
                                                                      "Codes about faxes.\nTwo lines.", "heif")
    assert [c.as_dict() for c in back.codes] == [c.as_dict() for c in book.codes]


# 9 -----------------------------------------------------------------------------------------------

REFI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "refi-qda"


def schema(name: str):
    import pytest
    from lxml import etree

    path = REFI / name
    if not path.exists():
        pytest.skip(f"{name} not available")
    return etree.XMLSchema(etree.parse(str(path)))


def test_maxqda_sets_become_code_groups_and_go_back_out_as_sets(tmp_path):
    from lxml import etree

    from qualkit.refiqda.qdc import export_qdc
    from qualkit.refiqda.qdpx_export import export_qdpx

    sets = ('<Sets><Set guid="c0000000-0000-0000-0000-000000000001" name="Money"><Description>What costs.</Description>'
            '<MemberCode targetGUID="20000000-0000-0000-0000-000000000001"/>'
            '<MemberSource targetGUID="40000000-0000-0000-0000-000000000001"/></Set>'
            '<Set guid="c0000000-0000-0000-0000-000000000002" name="Documents only">'
            '<MemberSource targetGUID="40000000-0000-0000-0000-000000000001"/></Set></Sets>')
    qdpx = make_qdpx(tmp_path / "mx.qdpx", USERS + FOLDERS + source(selection(5, 9, "Cost")) + sets,
                     {"sources/s1.txt": b"Ana: Cost is the barrier.\n"})
    result = import_qdpx(qdpx, tmp_path / "mx")
    assert result.not_carried == ["1 set of sources or notes only (qualkit groups codes)",
                                  "1 member of sets (sources and notes; their codes are kept as code groups)"]
    ws = Workspace(tmp_path / "mx")
    book = ws.codebook()
    assert [g.as_dict() for g in book.groups] == [{"name": "Money", "codes": ["cost"], "description": "What costs."}]
    assert "groups:\n- name: Money\n  codes:\n  - cost\n" in book.path.read_text(encoding="utf-8")
    # out again as <Sets>, valid against both schemas
    export_qdpx(ws, tmp_path / "again.qdpx")
    with zipfile.ZipFile(tmp_path / "again.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    project = schema("Project-mrt2019.xsd")
    assert project.validate(root), project.error_log
    (s,) = root.iter(f"{{{NS}}}Set")
    assert s.get("name") == "Money" and len(s.findall(f"{{{NS}}}MemberCode")) == 1
    export_qdc(book, tmp_path / "book.qdc")
    codebook = schema("Codebook-mrt2019.xsd")
    assert codebook.validate(etree.parse(str(tmp_path / "book.qdc"))), codebook.error_log
    import_qdpx(tmp_path / "again.qdpx", tmp_path / "back")
    assert Workspace(tmp_path / "back").codebook().groups == book.groups


def test_a_group_naming_an_unknown_code_is_reported_by_validate(make_workspace, run_cli):
    ws = make_workspace(codebook=[("cost", "Cost")])
    path = ws.codebook().path
    path.write_text(path.read_text(encoding="utf-8").replace("changelog:", "groups:\n- name: Money\n  codes: [cost, gone]\n"
                                                                          "changelog:"), encoding="utf-8")
    r = run_cli("codebook", "validate")
    assert "group 'Money' lists code 'gone', which is in no codebook" in r.output


# 8 -----------------------------------------------------------------------------------------------

def taguette_codebook(make_workspace):
    from qualkit.workspace.codebook import Code

    return make_workspace(codebook=[
        Code("stigma", "Stigma", definition="Judgement of people who use drugs.", include="Staff attitudes.",
             keywords=["shame", "judged"], origin="deductive"),
        Code("self_stigma", "Self-stigma", "stigma", brief="Turned inward"),
        Code("old", "Old code", status="retired"),
    ])


def test_a_codebook_exported_for_taguette_has_its_tag_column_and_reads_back_whole(make_workspace, run_cli, tmp_path):
    ws = taguette_codebook(make_workspace)
    out = tmp_path / "tags.csv"
    r = run_cli("export", "codebook", str(out), "--format", "taguette-csv")
    assert r.exit_code == 0, r.output
    import csv

    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["tag", "description", "id"]  # Taguette reads the first two, ignores the rest
    assert [r[0] for r in rows[1:]] == ["Stigma", "Stigma.Self-stigma"]  # Taguette's hierarchy; retired left out
    # one line: Taguette's import form shows it in a one-line box, which drops line breaks
    assert [r[1] for r in rows[1:]] == ["Judgement of people who use drugs.", "Turned inward"]
    # read back (qualkit codebook import sees the Taguette form)
    r = run_cli("codebook", "import", str(out), "--id", "tg")
    assert r.exit_code == 0, r.output
    assert "code id 'stigma' is already used" in r.output  # the ids are this workspace's: new ones, said so
    back = {c.name: c for c in Workspace(ws.root).codebook("tg").codes}
    assert back["Stigma"].keywords == ["shame", "judged"] and back["Stigma"].origin == "deductive"
    assert back["Self-stigma"].parent == back["Stigma"].id and back["Self-stigma"].brief == "Turned inward"
    # into another workspace, the ids come back too
    from qualkit.refiqda.codebook_formats import read_taguette_csv

    book, _ = read_taguette_csv(out)
    assert [(c.id, c.parent) for c in book.codes] == [("stigma", None), ("self_stigma", "stigma")]


def test_taguettes_own_codebook_export_reads_as_a_codebook(tmp_path):
    from qualkit.refiqda.codebook_formats import is_taguette_csv, read_taguette_csv

    path = tmp_path / "codebook.csv"  # what Taguette 1.5 writes (export.codebook_csv)
    path.write_text("tag,description,number of highlights,number of documents\r\n"
                    "interesting,Things that are interesting,3,2\r\ninteresting.bright,,1,1\r\n", encoding="utf-8")
    assert is_taguette_csv(path)
    book, notes = read_taguette_csv(path)
    assert [(c.id, c.name, c.parent, c.definition) for c in book.codes] == [
        ("interesting", "interesting", None, "Things that are interesting"), ("bright", "bright", "interesting", "")]


def test_taguettes_own_importer_accepts_the_export(make_workspace, tmp_path):
    """Taguette's codebook parser (taguette.import_codebook.list_tags), when Taguette is installed."""
    import pytest

    list_tags = pytest.importorskip("taguette.import_codebook").list_tags
    ws = taguette_codebook(make_workspace)
    ws.export_codebook(tmp_path / "tags.csv", "taguette-csv")
    with (tmp_path / "tags.csv").open("rb") as f:
        tags = list_tags(f)
    assert [t["path"] for t in tags] == ["Stigma", "Stigma.Self-stigma"]
    assert tags[0]["description"].startswith("Judgement of people who use drugs.")
