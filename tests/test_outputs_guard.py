"""Outputs never land on inputs: an --out or export target inside transcripts/, codings/, codebooks/,
frameworks/, summaries/, memos/ or on a workspace config file is refused, and an existing file qualkit
did not write is kept as a backup before it is replaced (issue 16, point 1)."""
from __future__ import annotations

import pytest

from qualkit.errors import ExportError
from qualkit.io.outputs import check_output

CODED = {"ana": [("By fax", "fax")], "ben": [("days late", "fax")]}


@pytest.fixture
def ws(make_workspace):
    return make_workspace(codebook=[("fax", "Referrals by fax")], coders=CODED)


@pytest.mark.parametrize("args, target", [
    (("matrix", "codes", "--format", "csv", "--out"), "codings/ana.csv"),
    (("report", "--out"), "transcripts/int1.txt"),
    (("export", "qdpx"), "codebooks/cb.yaml"),
    (("export", "qdc"), "qualkit.yaml"),
    (("agree", "--coders", "ana,ben", "--csv"), "participants.csv"),
    (("codebook", "export"), "participants.csv"),
    (("disagreements", "--coders", "ana,ben", "--out"), "codings/ben.csv"),
])
def test_an_output_on_an_input_is_refused_and_the_input_is_untouched(ws, run_cli, args, target):
    path = ws.root / target
    before = path.read_bytes()
    result = run_cli(*args, str(path))
    assert result.exit_code != 0
    assert "refused" in result.output and "\n" not in result.output.strip().splitlines()[-1]
    assert path.read_bytes() == before


@pytest.mark.parametrize("where", ["frameworks/x.csv", "summaries/int1.md", "memos/m.md", "themes.yaml",
                                   "codings/new.csv", ".qualkit/x.csv"])
def test_every_input_folder_and_config_file_is_refused(ws, where):
    (ws.root / "memos").mkdir(exist_ok=True)
    with pytest.raises(ExportError, match="refused"):
        check_output(ws.root / where)


def test_a_symlink_into_the_inputs_is_refused(ws, tmp_path):
    link = tmp_path / "innocent.csv"
    link.symlink_to(ws.root / "codings" / "ana.csv")
    with pytest.raises(ExportError, match="codings"):
        check_output(link)


def test_an_exports_file_is_fine(ws):
    assert check_output(ws.root / "exports" / "m.csv").name == "m.csv"


def test_a_colleagues_file_is_kept_before_it_is_replaced(ws, run_cli):
    out = ws.root / "exports" / "matrix.csv"
    out.parent.mkdir(exist_ok=True)
    out.write_text("a colleague's notes\n", encoding="utf-8")
    assert run_cli("matrix", "codes", "--out", str(out)).exit_code == 0
    kept = list((ws.root / ".qualkit" / "backups").glob("matrix.csv.*.bak"))
    assert [p.read_text(encoding="utf-8") for p in kept] == ["a colleague's notes\n"]
    # qualkit's own export, written again, is replaced without another backup
    assert run_cli("matrix", "codes", "--out", str(out)).exit_code == 0
    assert len(list((ws.root / ".qualkit" / "backups").glob("matrix.csv.*.bak"))) == 1


def test_every_output_option_creates_a_missing_folder_and_says_so(sample_workspace, run_cli, tmp_path):
    """One rule for every FILE a command writes: missing folders are created (as `export all` and the
    defaults in exports/ need), and a note on stderr names the new folder, so a typo does not pass unseen."""
    for args, name in ((["disagreements", "--out"], "x.docx"), (["matrix", "codes", "--coder", "ana", "--out"], "m.csv"),
                       (["agree", "--md"], "a.md"), (["codebook", "export", "-c", "port_inductive"], "c.csv"),
                       (["report", "--out"], "r.html")):
        out = tmp_path / args[0] / "new" / name
        result = run_cli(*args, out, workspace=sample_workspace)
        assert result.exit_code == 0, (args, result.output)
        assert out.is_file(), args
        assert f"folder {out.parent}/ does not exist; it will be created" in result.stderr, (args, result.stderr)
        again = run_cli(*args, out, workspace=sample_workspace)
        assert "does not exist" not in again.stderr
