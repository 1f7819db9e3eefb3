"""`qualkit import qdpx`: real exports, files that deviate from the standard, bad and hostile input."""
from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualkit.api import Workspace
from qualkit.cli import cli
from qualkit.refiqda import RefiQdaError, archive
from qualkit.refiqda.qdpx_import import import_qdpx, read_qdpx
from qualkit.workspace.codebook import Code, Codebook, load_codebook, load_codebooks, save_codebook
from qualkit.workspace.codings import read_codings
from qualkit.workspace.scaffold import init

REFI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "refi-qda"
NS = "urn:QDA-XML:project:1.0"


def reference(name: str) -> Path:
    path = REFI / name
    if not path.exists():
        pytest.skip(f"reference file {name} not available")
    return path


def make_qdpx(path: Path, qde: str | bytes, files: dict[str, bytes | str] | None = None,
              qde_name: str = "project.qde") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(qde_name, qde.encode("utf-8") if isinstance(qde, str) else qde)
        for name, data in (files or {}).items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def project(body: str, ns: str = NS, attrs: str = 'name="Study"') -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{ns}" {attrs}>\n{body}\n</Project>\n'


CODEBOOK = """<CodeBook><Codes>
  <Code guid="20000000-0000-0000-0000-000000000001" name="Barriers" isCodable="true">
    <Code guid="20000000-0000-0000-0000-000000000002" name="Cost" isCodable="true"/>
  </Code>
</Codes></CodeBook>"""
USERS = '<Users><User guid="10000000-0000-0000-0000-000000000001" name="Ana Lucía"/></Users>'


def text_source(sels: str = "", guid: str = "40000000-0000-0000-0000-000000000001", name: str = "Interview 1.txt",
                path: str = "internal://s1.txt") -> str:
    return f'<Sources><TextSource guid="{guid}" name="{name}" plainTextPath="{path}">{sels}</TextSource></Sources>'


def selection(start: int, end: int, code: str = "20000000-0000-0000-0000-000000000002", name: str = "",
              guid: str = "50000000-0000-0000-0000-000000000001") -> str:
    label = f' name="{name}"' if name else ""
    return (f'<PlainTextSelection guid="{guid}"{label} startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="6{guid[1:]}" creatingUser="10000000-0000-0000-0000-000000000001">'
            f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def run(*args):
    return CliRunner().invoke(cli, ["import", "qdpx", *map(str, args)])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert out.startswith("Error: ") and "\n" not in out, out
    for f in fragments:
        assert f in out, out


# -- real files ---------------------------------------------------------------------------------

def test_nvivo_export_imports_its_nested_codebook_with_warnings(tmp_path):
    qdpx = reference("samples/nvivo-mac-15_nested-codebook.qdpx")
    r = run(qdpx, "--into", tmp_path / "nv")
    assert r.exit_code == 0, r.output
    assert "has no text" in r.output and "sources/.root" in r.output
    data = read_qdpx(qdpx)
    # PROVENANCE.md: 262 codes, 2 text sources, no selections, 2 users
    assert (data.counts["codes"], data.counts["sources"], data.counts["selections"], data.counts["users"]) == (262, 2, 0, 2)
    (book,) = load_codebooks(tmp_path / "nv" / "codebooks")
    assert len(book.codes) == 262 and len({c.id for c in book.codes}) == 262
    names = [c.name for c in book.codes]
    assert len({n for n in names if names.count(n) > 1}) == 9  # same names in different branches, kept apart
    assert max(len(book.path_of(c)) for c in book.codes) == 7
    ws = Workspace(tmp_path / "nv")
    assert ws.transcript_paths() == [] and ws.coders() == []


def zipped_hand_authored(tmp_path: Path) -> Path:
    folder = reference("samples/ornio_hand_authored")
    out = tmp_path / "hand.qdpx"
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    return out  # as-is: the picture and the PDF it names are missing


def test_hand_authored_fixture_imports_and_reports_what_qualkit_cannot_hold(tmp_path):
    qdpx = zipped_hand_authored(tmp_path)
    r = run(qdpx, "--into", tmp_path / "hand")
    assert r.exit_code == 0, r.output
    data = read_qdpx(qdpx)
    assert (data.counts["codes"], data.counts["sources"], data.counts["selections"], data.counts["users"]) == (4, 5, 7, 1)
    lost = "\n".join(data.not_carried)
    for what in ("picture source", "PDF source", "audio source", "video source", "5 selections", "of sets", "1 graph\n",
                 "applied to cases"):
        assert what in lost + "\n"
    ws = Workspace(tmp_path / "hand")
    (t,) = ws.transcripts()
    assert t.id == "Interview 1" and t.text == "Diet and health are closely linked in this interview."
    codings = ws.codings("Researcher_A")
    assert [(c.start, c.end, c.text) for c in codings] == [(0, 15, "Diet and health"), (9, 23, "health are clo")]
    assert codings[0].memo == "Remember to follow up on diet-related comments."  # a note linked to the selection
    assert ws.participant_table.rows == [{"transcript": "Interview 1", "speaker": "Participant 1",
                                          "participant_id": "Participant 1", "Age": "34", "Consented": "true"}]
    by_name = {c.name: c for c in ws.codebook().codes}
    assert by_name["Diet"].parent == by_name["Health"].id and by_name["Health"].color == "#33cc33"
    assert by_name["Health"].definition == "Anything about physical or mental health"


# -- deviations from the standard ---------------------------------------------------------------

def test_deviating_project_imports_leniently_with_warnings(tmp_path):
    text = "Ana: Cost is the barrier.\r\nBob: Cost, and the cost of travel.\r\n"
    body = (
        '<Users><User guid="{10000000-0000-0000-0000-00000000000A}" name="Ana Lucía"/></Users>'
        "<CodeBook><Codes>"
        '<Code guid="20000000-0000-0000-0000-00000000000A" name="Barriers" isCodable="false">'
        '<Code guid="20000000-0000-0000-0000-00000000000B" name="Cost" isCodable="true"/></Code>'
        '<Code guid="20000000-0000-0000-0000-00000000000C" name="Facilitators" isCodable="true">'
        '<Code guid="20000000-0000-0000-0000-00000000000D" name="Cost" isCodable="true"/></Code>'
        "</Codes></CodeBook>"
        '<Sources><TextSource guid="40000000-0000-0000-0000-000000000001" name="Interview/1.rtf" '
        'plainTextPath="internal://ABC.TXT">'
        '<PlainTextSelection guid="50000000-0000-0000-0000-000000000001" startPosition="5" endPosition="9">'
        '<Coding guid="60000000-0000-0000-0000-000000000001" creatingUser="10000000-0000-0000-0000-00000000000a">'
        '<CodeRef targetGUID="{20000000-0000-0000-0000-00000000000b}"/></Coding></PlainTextSelection>'
        '<PlainTextSelection guid="50000000-0000-0000-0000-000000000002" startPosition="32" endPosition="36">'
        '<Coding guid="60000000-0000-0000-0000-000000000002">'
        '<CodeRef targetGUID="20000000-0000-0000-0000-00000000000D"/></Coding></PlainTextSelection>'
        "</TextSource></Sources>")
    qdpx = make_qdpx(tmp_path / "odd.qdpx", project(body, ns="urn:QDA-XML:project:0:4"),
                     {"Sources/abc.txt": codecs.BOM_UTF8 + text.encode("utf-8"), "Thumbs.db": b"junk"},
                     qde_name="My Study.qde")
    result = import_qdpx(qdpx, tmp_path / "odd")
    warnings = "\n".join(result.warnings)
    for fragment in ("'My Study.qde', not 'project.qde'", "urn:QDA-XML:project:0:4", "byte-order mark", "Thumbs.db",
                     "'Ana Lucía' is coder 'Ana_Lucia'", "occur in more than one branch"):
        assert fragment in warnings, fragment
    ws = Workspace(tmp_path / "odd")
    (t,) = ws.transcripts()
    assert t.id == "Interview_1" and t.text == text.replace("\r\n", "\n")
    codings = read_codings(tmp_path / "odd" / "codings" / "Ana_Lucia.csv")
    assert [c.text for c in codings] == ["Cost", "Cost"]
    codes = {c.id: c for c in ws.codebook().codes}
    assert codes[codings[0].code].parent == "barriers" and codes[codings[1].code].parent == "facilitators"
    assert not codes["barriers"].codable and codes["facilitators"].codable  # a folder stays a folder
    assert codings[0].code != codings[1].code and codings[0].coded_at == ""


def test_nvivo_style_utf16_positions_are_detected_converted_and_reported(tmp_path):
    raw = "Ana: We waited 😩 for the fax 📠 again.\r\nBob: The 🚑 crew found 💊 pills, again.\r\n"
    words = ["for the fax", "again", "crew found", "pills"]

    def u16(i: int) -> int:
        return len(raw[:i].encode("utf-16-le")) // 2

    sels = ""
    for k, w in enumerate(words):
        i = raw.index(w, raw.index("Bob") if w == "pills" else 0)
        sels += selection(u16(i), u16(i + len(w)), name=w, guid=f"5000000{k}-0000-0000-0000-000000000001")
    qdpx = make_qdpx(tmp_path / "nv.qdpx", project(USERS + CODEBOOK + text_source(sels)), {"sources/s1.txt": raw})
    r = run(qdpx, "--into", tmp_path / "nv")
    assert r.exit_code == 0, r.output
    assert "positions: selection positions read as UTF-16 code units" in r.output
    codings = read_codings(tmp_path / "nv" / "codings" / "Ana_Lucia.csv")
    assert sorted(c.text for c in codings) == sorted(words)


# -- bad input: one-line errors, nothing half-imported -------------------------------------------

def test_not_a_zip_and_no_project_file_are_refused(tmp_path):
    bad = tmp_path / "notes.qdpx"
    bad.write_text("just text", encoding="utf-8")
    assert_one_line_error(run(bad, "--into", tmp_path / "a"), "notes.qdpx", "not a zip archive")
    empty = make_qdpx(tmp_path / "empty.qdpx", "x", qde_name="readme.txt")
    assert_one_line_error(run(empty, "--into", tmp_path / "a"), "no project.qde")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("qde, files, fragments", [
    (project("<Users>\n<User guid='x' name='a'>\n</Users>"), {}, ["project.qde, line 5", "not well-formed"]),
    (project(USERS + CODEBOOK + text_source()), {}, ["'Interview 1.txt' refers to 'internal://s1.txt'", "not in the archive"]),
    (project(USERS + CODEBOOK + text_source(selection(0, 4, code="20000000-0000-0000-0000-0000000000ff"))),
     {"sources/s1.txt": "Cost matters."}, ["project.qde, line", "code '20000000-0000-0000-0000-0000000000ff'"]),
    (project(USERS + CODEBOOK + '<Cases><Case guid="d0000000-0000-0000-0000-000000000001" name="P1">'
             '<SourceRef targetGUID="40000000-0000-0000-0000-0000000000ff"/></Case></Cases>' + text_source()),
     {"sources/s1.txt": "Cost matters."}, ["case 'P1' refers to source"]),
])
def test_broken_projects_are_one_line_errors_and_leave_nothing_behind(tmp_path, qde, files, fragments):
    qdpx = make_qdpx(tmp_path / "broken.qdpx", qde, files)
    assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "broken.qdpx", *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.qdpx"]


def test_a_non_empty_folder_that_is_not_a_workspace_is_refused(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    qdpx = make_qdpx(tmp_path / "p.qdpx", project(CODEBOOK))
    assert_one_line_error(run(qdpx, "--into", tmp_path / "busy"), "not empty")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_project_names_with_quotes_make_a_valid_qualkit_yaml(tmp_path):
    qdpx = make_qdpx(tmp_path / "p.qdpx", project(CODEBOOK, attrs='name="Sheriff&apos;s &quot;PORT&quot; study: año 2"'))
    import_qdpx(qdpx, tmp_path / "out")
    assert Workspace(tmp_path / "out").config.project == 'Sheriff\'s "PORT" study: año 2'


def test_dry_run_reads_everything_and_writes_nothing(tmp_path):
    qdpx = make_qdpx(tmp_path / "p.qdpx", project(USERS + CODEBOOK + text_source(selection(0, 4))),
                     {"sources/s1.txt": "Cost matters."})
    r = run(qdpx, "--into", tmp_path / "out", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "Dry run: would import" in r.output and "Ana_Lucia (1)" in r.output
    assert not (tmp_path / "out").exists()


def test_import_into_an_existing_workspace_adds_new_files_only(tmp_path):
    root = init(tmp_path / "ws")
    save_codebook(Codebook("mine", "Mine", [Code("cost", "Cost of care")]), root / "codebooks" / "mine.yaml")
    (root / "transcripts" / "Interview 1.txt").write_text("Other text entirely.", encoding="utf-8")
    qdpx = make_qdpx(tmp_path / "p.qdpx", project(USERS + CODEBOOK + text_source(selection(0, 4))),
                     {"sources/s1.txt": "Cost matters."})
    assert_one_line_error(run(qdpx, "--into", root), "transcript 'Interview 1' exists", "Nothing was written")
    (root / "transcripts" / "Interview 1.txt").unlink()
    r = CliRunner().invoke(cli, ["--workspace", str(root), "import", "qdpx", str(qdpx)])
    assert r.exit_code == 0, r.output
    assert "add Ana_Lucia to its coders" in r.output and "cost -> cost_2" in r.output
    assert [(c.text, c.code) for c in Workspace(root).codings("Ana_Lucia")] == [("Cost", "cost_2")]
    assert load_codebook(root / "codebooks" / "mine.yaml").codes == [Code("cost", "Cost of care")]


def test_without_into_outside_a_workspace_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    qdpx = make_qdpx(tmp_path / "p.qdpx", project(CODEBOOK))
    assert_one_line_error(run(qdpx), "not inside a qualkit workspace", "--into NEW_FOLDER")


# -- hostile input ------------------------------------------------------------------------------

XXE = ('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">'
       '<!ENTITY y SYSTEM "http://example.invalid/steal">]>\n'
       f'<Project xmlns="{NS}" name="&x;&y;"/>')
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY a "hahahahahahahahahaha">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
          + f']>\n<Project xmlns="{NS}" name="&i;"/>')


@pytest.mark.parametrize("qde", [XXE, LAUGHS], ids=["external-entities", "billion-laughs"])
def test_dtds_and_entities_are_refused(tmp_path, qde):
    qdpx = make_qdpx(tmp_path / "evil.qdpx", qde)
    assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "declares a DTD")
    assert not (tmp_path / "out").exists()


def test_zip_slip_member_names_are_refused(tmp_path):
    for name in ("../evil.txt", "/etc/evil.txt", "sources/../../evil.txt", "C:\\evil.txt"):
        qdpx = make_qdpx(tmp_path / "slip.qdpx", project(CODEBOOK), {name: "x"})
        assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "escape the target folder")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_too_many_members_and_too_much_data_are_refused(tmp_path, monkeypatch):
    qdpx = make_qdpx(tmp_path / "many.qdpx", project(CODEBOOK), {f"sources/{i}.txt": "x" * 100 for i in range(12)})
    monkeypatch.setattr(archive, "MAX_MEMBERS", 10)
    assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "13 members (more than 10)")
    monkeypatch.setattr(archive, "MAX_MEMBERS", 1000)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1000)
    assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "unpacks to")


def test_a_zip_bomb_member_is_refused_by_its_compression_ratio(tmp_path):
    qdpx = make_qdpx(tmp_path / "bomb.qdpx", project(CODEBOOK), {"sources/zeros.txt": b"\0" * (4 * 1024 * 1024)})
    assert_one_line_error(run(qdpx, "--into", tmp_path / "out"), "zip bombs")


def test_a_member_larger_than_its_header_says_is_not_read_past_it(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("project.qde", project(USERS + CODEBOOK + text_source()).encode())
        zf.writestr("sources/s1.txt", b"Cost matters.")
    qdpx = tmp_path / "ok.qdpx"
    qdpx.write_bytes(buf.getvalue())
    with archive.QdpxArchive(qdpx) as arc:
        with pytest.raises(RefiQdaError, match="more than 0 MB"):
            arc.read("sources/s1.txt", limit=5)
        assert arc.read("sources/s1.txt") == b"Cost matters."
