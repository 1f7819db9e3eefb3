"""Clear errors instead of internal ones (issue 16, points 9 and 10): a full disk, bad YAML tags,
names no file system takes, links out of the workspace, escape sequences, a killed import's leftovers."""
from __future__ import annotations

import errno
import os
import time

import pytest

INTERVIEW = "Interviewer: How do referrals arrive?\nMaria: By fax, days late.\nInterviewer: Always?\nMaria: Mostly.\n"


def _one_line(result):
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    return len(lines) == 1 and "internal error" not in result.output


def test_a_full_disk_is_one_line_naming_the_file(make_workspace, run_cli, monkeypatch):
    import qualkit.io.atomic as atomic

    ws = make_workspace(codebook=[("fax", "Fax")])

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    out = ws.root / "exports" / "m.csv"
    r = run_cli("codebook", "export", str(out))
    assert r.exit_code == 1 and _one_line(r) and "disk is full" in r.output
    assert not out.exists()


def test_a_backup_that_cannot_be_completed_leaves_nothing_that_looks_like_one(tmp_path, monkeypatch):
    import qualkit.io.atomic as atomic

    src = tmp_path / "ana.csv"
    src.write_text("transcript,start,end,code\n" * 1000, encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError):
        atomic.backup(src, tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.parametrize("value", ["!!timestamp 2001-12-14x", "!!int abc", "!!float x"])
@pytest.mark.parametrize("where", ["qualkit.yaml", "codebook", "themes.yaml"])
def test_a_bad_explicit_yaml_tag_is_one_line_naming_file_and_line(make_workspace, run_cli, value, where):
    ws = make_workspace(codebook=[("fax", "Fax")])
    if where == "qualkit.yaml":
        with open(ws.root / "qualkit.yaml", "a", encoding="utf-8") as f:
            f.write(f"\nnote: {value}\n")
        r = run_cli("ingest")
    elif where == "codebook":
        (ws.root / "codebooks" / "cb.yaml").write_text(f"id: cb\nname: {value}\ncodes:\n  - id: a\n    name: A\n",
                                                       encoding="utf-8")
        r = run_cli("codebook", "show")
    else:
        (ws.root / "themes.yaml").write_text(f"themes: {value}\n", encoding="utf-8")
        r = run_cli("themes", "check")
    assert r.exit_code != 0
    assert "internal error" not in r.output and "not a valid" in r.output


@pytest.mark.parametrize("name", ["CON", "aux", "LPT1", "com3"])
def test_windows_device_names_are_refused_as_coders_and_transcripts(make_workspace, run_cli, tmp_path, name):
    ws = make_workspace(codebook=[("fax", "Fax")])
    sheet = tmp_path / "s.csv"
    sheet.write_text("transcript,code,excerpt\nint1,fax,By fax\n", encoding="utf-8")
    r = run_cli("import", "sheet", str(sheet), "--coder", name)
    assert r.exit_code == 1 and "reserves" in r.output
    (ws.root / "transcripts" / f"{name}.txt").write_text(INTERVIEW, encoding="utf-8")
    r = run_cli("ingest")
    assert "reserves" in r.output


def test_a_name_too_long_for_the_file_system_is_refused(make_workspace, run_cli, tmp_path):
    make_workspace(codebook=[("fax", "Fax")])
    sheet = tmp_path / "s.csv"
    sheet.write_text("transcript,code,excerpt\nint1,fax,By fax\n", encoding="utf-8")
    r = run_cli("import", "sheet", str(sheet), "--coder", "a" * 300)
    assert r.exit_code == 1 and _one_line(r) and "255 bytes" in r.output


def test_links_out_of_the_workspace_are_refused_unless_allowed_and_dangling_ones_reported(make_workspace, run_cli, tmp_path):
    ws = make_workspace()
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("Maria: private notes\n", encoding="utf-8")
    (ws.root / "transcripts" / "leak.txt").symlink_to(secret)
    (ws.root / "transcripts" / "gone.txt").symlink_to(tmp_path / "missing.txt")
    r = run_cli("ingest")
    assert "outside the workspace" in r.output and "dangling" in r.output
    assert "leak" not in [t.id for t in ws.ingest().transcripts]
    allowed = run_cli("--allow-outside-links", "ingest")
    assert "outside the workspace" not in allowed.output
    os.environ.pop("QUALKIT_ALLOW_OUTSIDE_LINKS", None)


def test_terminal_escape_sequences_in_a_transcript_are_not_printed(make_workspace, run_cli):
    make_workspace(transcripts={"int1": INTERVIEW * 20 + "Maria: \x1b]0;pwned\x07By fax \x1b[2J\x9b31m days late.\n"})
    for args in (("transcripts", "show", "int1"), ("search", "fax")):
        r = run_cli(*args)
        assert r.exit_code == 0, r.output
        assert "\x1b" not in r.output and "\x9b" not in r.output and "\x07" not in r.output


def test_a_killed_import_leaves_no_staging_folder_behind_after_the_next_run(make_workspace, run_cli, tmp_path):
    ws = make_workspace(codebook=[("fax", "Fax")], coders={"ana": [("By fax", "fax")]})
    qdpx = tmp_path / "p.qdpx"
    assert run_cli("export", "qdpx", str(qdpx)).exit_code == 0
    stale = tmp_path / ".copy.import-abc123"
    (stale / "transcripts").mkdir(parents=True)
    (stale / "transcripts" / "int1.txt").write_text(INTERVIEW, encoding="utf-8")
    r = run_cli("import", "qdpx", str(qdpx), "--into", str(tmp_path / "copy"), workspace=None)
    assert r.exit_code == 0, r.output
    assert not stale.exists()
    assert not [p for p in tmp_path.iterdir() if ".import-" in p.name]
    assert ws.root.exists()


@pytest.mark.parametrize("text", [
    "Maria: hi\n" + " " * 2_000_000 + "\nBen: ok\n",
    "Maria: hi" + " " * 200_000 + "\nBen: ok\n",          # a turn ending in a long run of spaces (an ASR dump)
    "Maria: hi " + " " * 200_000 + "x\nBen: ok\n",        # spaces inside a turn: quadratic before 2d15418
], ids=["own-line", "turn-end", "inside-turn"])
def test_a_two_megabyte_line_of_spaces_reads_fast(make_workspace, run_cli, text):
    make_workspace(transcripts={"int1": text})
    began = time.perf_counter()
    assert run_cli("ingest").exit_code == 0
    assert time.perf_counter() - began < 5


def test_a_file_with_no_extension_is_named_with_the_formats_accepted(make_workspace, run_cli, tmp_path):
    make_workspace(codebook=[("fax", "Referrals by fax")],
                   coders={"ana": [("By fax, days late.", "fax")], "ben": [("Mostly.", "fax")]})
    notes = tmp_path / "notes"
    notes.write_text("code,name\nfax,Fax\n", encoding="utf-8")
    for args, accepted in ((["codebook", "import", notes], ".csv or .xlsx"),
                           (["reconcile", "--coders", "ana,ben", "--adjudication", notes], ".csv or .xlsx"),
                           (["disagreements", "--coders", "ana,ben", "--out", notes], ".csv or .xlsx"),
                           (["codebook", "export", notes], ".csv, .xlsx, .docx or .md"),
                           (["import", "sheet", notes, "--coder", "cy"], ".csv or .xlsx")):
        result = run_cli(*args)
        assert result.exit_code != 0, (args, result.output)
        assert "'.'" not in result.output and "a file with no extension" in result.output, (args, result.output)
        assert str(notes) in result.output and accepted in result.output, (args, result.output)
        assert "Traceback" not in result.output


@pytest.mark.parametrize("text, line", [("themes: [a\n", 1), ("themes: [a", 1), ('title: "open\nthemes: []\n', 1),
                                        ("title: x\nthemes: [a\n\n\n", 2), ("themes:\n  - id: a\n\tname: x\n", 3)])
def test_a_yaml_syntax_error_names_the_line_to_fix(make_workspace, run_cli, text, line):
    """PyYAML notices an unclosed bracket at the end of the file; the line to fix is where it opened."""
    ws = make_workspace()
    (ws.root / "themes.yaml").write_text(text, encoding="utf-8")
    result = run_cli("themes", "check")
    assert result.exit_code == 1
    assert f"themes.yaml:{line}: " in result.output and "invalid YAML" in result.output, result.output
    (ws.root / "memos").mkdir(exist_ok=True)
    (ws.root / "memos" / "m.md").write_text(f"---\n{text.rstrip()}\n---\nBody\n", encoding="utf-8")
    result = run_cli("memo", "list")
    assert f"m.md:{line + 1}: " in result.output, result.output  # the header starts on line 2
