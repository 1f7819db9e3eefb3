"""One safe-archive reader for every zip-based format (issue 16, point 8): a zip bomb or a damaged
deflate stream in a codebook workbook, an adjudication workbook or a summary template is a one-line
refusal naming the file, never minutes of unpacking or an internal error."""
from __future__ import annotations

import io
import zipfile

import pytest


def _bomb(path, member):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(member, b"\0" * (20 * 1024 * 1024))  # 20 MB of zeros: ~1000:1


def _corrupt(path):
    from openpyxl import Workbook

    wb = Workbook()
    for i in range(300):
        wb.active.append([f"code{i}", f"definition {i * 7919 % 1000}"])
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    for k in range(at, at + 30):
        data[k] ^= 0x33
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make", [_bomb, _corrupt], ids=["bomb", "corrupt-deflate"])
def test_codebook_import_of_a_hostile_workbook_is_one_line(make_workspace, run_cli, tmp_path, make):
    make_workspace()
    path = tmp_path / "cb.xlsx"
    make(path, "xl/worksheets/sheet1.xml") if make is _bomb else make(path)
    r = run_cli("codebook", "import", str(path))
    assert r.exit_code == 1 and "internal error" not in r.output and len(r.output.strip().splitlines()) == 1


def test_a_summary_template_that_is_a_zip_bomb_is_refused(make_workspace, run_cli):
    ws = make_workspace(codebook=[("fax", "Fax")])
    (ws.root / "summaries").mkdir(exist_ok=True)
    _bomb(ws.root / "summaries" / "int1.docx", "word/document.xml")
    r = run_cli("summaries", "collect")
    assert "internal error" not in r.output
    assert "refused" in r.output and "zip bombs" in r.output


def _study(make_workspace):
    return make_workspace(codebook=[("fax", "Fax"), ("late", "Late")],
                          coders={"ana": [("By fax, days late.", "fax")], "ben": [("By fax, days late.", "late")]})


@pytest.mark.parametrize("make", [_bomb, _corrupt], ids=["bomb", "corrupt-deflate"])
def test_a_hostile_adjudication_workbook_is_one_line(make_workspace, run_cli, tmp_path, make):
    """`reconcile --adjudication X.xlsx` had no size guard (a 3.6 MB file ran 15 minutes at 907 MB)."""
    _study(make_workspace)
    path = tmp_path / "adjudication.xlsx"
    make(path, "xl/worksheets/sheet1.xml") if make is _bomb else make(path)
    r = run_cli("reconcile", "--coders", "ana,ben", "--adjudication", str(path), catch_exceptions=True)
    assert r.exit_code == 1 and "internal error" not in r.output and "Traceback" not in r.output
    assert "adjudication.xlsx" in r.output and len(r.output.strip().splitlines()) == 1


def test_a_qdpx_with_a_corrupt_deflate_stream_is_one_line(make_workspace, run_cli, tmp_path):
    """A QDPX whose project.qde does not inflate gave an internal error (zlib.error)."""
    _study(make_workspace)
    project = tmp_path / "p.qdpx"
    assert run_cli("export", "qdpx", str(project)).exit_code == 0
    data = bytearray(project.read_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("project.qde")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    at = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(at, at + min(40, info.compress_size)):
        data[k] ^= 0x55
    project.write_bytes(bytes(data))
    r = run_cli("import", "qdpx", str(project), "--into", str(tmp_path / "new"), catch_exceptions=True)
    assert r.exit_code == 1 and "internal error" not in r.output and "Traceback" not in r.output
    assert "p.qdpx" in r.output and len(r.output.strip().splitlines()) == 1
