"""`qualkit run` on the sample study, close to the cost of importing its libraries (issue 17): what
does not change between the files of one run (Word's template parts) is made once, and what `run`
computes for one step and the report alike (agreement) is computed once, with the same files."""
from __future__ import annotations

import io
import time

import pytest

import qualkit
from qualkit.workspace.scaffold import demo


def _tables(name: str):
    import pandas as pd

    from qualkit.render.tables import Table

    frame = pd.DataFrame({"Theme": ["Referrals by fax", "Warm hand-offs"], "Excerpts": [3, 12],
                          "Quote": ["By fax, days late.", "She walked him over & stayed <1 h>."]})
    return [Table(name, frame, title=f"Table {name}", notes="Quotes abridged.")]


def test_word_tables_share_the_templates_styles_and_are_the_bytes_python_docx_saves(monkeypatch):
    from qualkit.render import docx_package, formats

    monkeypatch.setattr(time, "time", lambda: 1_767_323_045.0)  # one clock for both writers' entry times
    deflated = []
    real = docx_package._deflate
    monkeypatch.setattr(docx_package, "_deflate", lambda blob: deflated.append(len(blob)) or real(blob))
    monkeypatch.setattr(formats._Template, "_made", None)
    for name in ("one", "two", "three"):
        document, template = formats._build_document(_tables(name), f"Study {name}")
        ours, theirs = io.BytesIO(), io.BytesIO()
        template.shared.save(document, ours)
        document.save(theirs)  # python-docx's own writer, every part serialised and deflated afresh
        assert ours.getvalue() == theirs.getvalue()
    styles = len(next(p.blob for p in template.shared.shared.values() if p.partname == "/word/styles.xml"))
    assert styles > 100_000 and deflated.count(styles) == 1  # the template's styles deflated once, not per file
    fresh = formats._Template()  # no document changed a part it shares with the template
    unchanged = {p.partname: p.blob for p in fresh.shared.shared.values()}
    assert {p.partname: p.blob for p in template.shared.shared.values()} == unchanged


def test_each_word_file_has_its_own_tables_and_title(tmp_path):
    import docx

    from qualkit.render.tables import export_tables

    for name in ("one", "two"):
        export_tables(_tables(name), tmp_path / f"{name}.docx", title=f"Study {name}", manifest=False)
    for name in ("one", "two"):
        document = docx.Document(str(tmp_path / f"{name}.docx"))
        assert document.core_properties.title == f"Study {name}"
        assert len(document.tables) == 1 and document.tables[0].cell(0, 0).text == "Theme"
        assert document.paragraphs[1].text.endswith(f"Table {name}")
        assert document.styles["Caption"].font.size.pt == 10  # the template's caption style, kept


def test_the_zip_writer_writes_what_zipfile_writes(monkeypatch):
    import zipfile

    from qualkit.render.docx_package import ZipEntries

    monkeypatch.setattr(time, "time", lambda: 1_767_323_045.0)
    entries = [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document>" + b"x" * 70_000 + b"</w:document>"),
               ("empty.bin", b""), ("docProps/thumbnail.jpeg", bytes(range(256)) * 40)]
    theirs = io.BytesIO()
    with zipfile.ZipFile(theirs, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, blob in entries:
            z.writestr(name, blob)
    ours = io.BytesIO()
    zipped = ZipEntries(ours)
    for name, blob in entries:
        zipped.add(name, blob)
    zipped.close()
    assert ours.getvalue() == theirs.getvalue()


@pytest.fixture
def sample_ws(tmp_path):
    return qualkit.Workspace(demo(tmp_path / "s"))


@pytest.mark.parametrize("options", [{}, {"unit": "sentence"}, {"unit": "character"}, {"unit": "question"},
                                     {"unit": "document"}, {"overlap": 0.5}, {"by": "transcript"}, {"by": "coder-pair"},
                                     {"threshold": 0.7, "metric": "kappa"}])
def test_agreement_without_its_intervals_is_agreement_computed_without_them(sample_ws, tmp_path, options):
    from qualkit.analysis.agree import agreement, export_report

    coders = ["ana", "ben"]
    plain = agreement(sample_ws, coders, **options)
    stripped = agreement(sample_ws, coders, ci=True, resamples=40, **options).without_ci()
    assert stripped.to_dict() == plain.to_dict()
    assert stripped.to_frame().equals(plain.to_frame()) and list(stripped.to_frame()) == list(plain.to_frame())
    for name, report in (("plain", plain), ("stripped", stripped)):
        export_report(report, csv=tmp_path / f"{name}.csv", md=tmp_path / f"{name}.md", html_path=tmp_path / f"{name}.html")
    for ext in ("csv", "md", "html"):
        assert (tmp_path / f"stripped.{ext}").read_bytes() == (tmp_path / f"plain.{ext}").read_bytes()


def test_a_run_computes_agreement_once_for_its_agreement_step_and_its_report(sample_ws, monkeypatch):
    import qualkit.analysis.agree as agree
    from qualkit.pipeline import run

    computed = []
    real = agree.agreement
    monkeypatch.setattr(agree, "agreement", lambda *a, **k: computed.append(k.get("ci")) or real(*a, **k))
    report = run(sample_ws, use_cache=False)
    assert "agreement" in [s.name for s in report.steps if s.status == "done"]
    assert computed == [True]  # with the report's intervals; agreement.csv is written without them
    header = (sample_ws.root / "exports" / "agreement.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "alpha" in header and "_low" not in header
    assert "Inter-coder agreement" in (sample_ws.root / "exports" / "report.html").read_text(encoding="utf-8")


def test_a_three_coder_runs_agreement_step_lets_go_of_the_units_no_later_step_reads(sample_ws, monkeypatch):
    import shutil

    import qualkit.pipeline as pipeline

    root = sample_ws.root
    shutil.copy(root / "codings" / "ana.csv", root / "codings" / "cy.csv")
    config = root / "qualkit.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("coders: [ana, ben]", "coders: [ana, ben, cy]"),
                      encoding="utf-8")
    ws = qualkit.Workspace(root)
    held = []
    step = pipeline._agreement

    def agreement_step(run):
        done = step(run)
        held.append([k for k in run.ws.derived_cache._entries if k[0] == "unit_codes"])
        return done

    monkeypatch.setattr(pipeline, "STEPS", [agreement_step if s is step else s for s in pipeline.STEPS])
    report = pipeline.run(ws, use_cache=False)
    assert held == [[]]  # not held through the matrices (no consensus step with three coders; the report reuses the result)
    assert "ana, ben, cy" in next(s.detail for s in report.steps if s.name == "agreement")


@pytest.mark.parametrize("options", [{"cells": "count"}, {"cells": "participants"}, {"cells": "quotes", "quotes": 1},
                                     {"cells": "summary"}, {"cells": "presence", "by": "site"},
                                     {"cells": "count", "by": "site"}, {"cells": "participants", "by": "site"},
                                     {"cells": "quotes", "by": "role", "quote_chars": None}])
def test_a_themes_matrixs_cells_alone_are_the_frame_of_the_whole_matrix(sample_ws, options):
    from qualkit.analysis.matrices import build_matrix
    from qualkit.analysis.matrices.build import themes_cells

    whole = build_matrix(sample_ws, "themes", **options).frame
    cells = options.pop("cells")
    alone = themes_cells(sample_ws, cells, **options)
    assert alone.equals(whole) and list(alone.columns) == list(whole.columns)


def test_the_reports_themes_views_build_one_whole_themes_matrix(sample_ws, monkeypatch):
    import qualkit.analysis.matrices.build as build
    from qualkit.reporting.report import report_context

    built = []
    real = build.themes_matrix
    monkeypatch.setattr(build, "themes_matrix", lambda *a, **k: built.append(a[2]) or real(*a, **k))
    context = report_context(sample_ws, resamples=20)
    assert built == ["count"]  # participants, quotes and the site cut: their cells only
    assert "Themes and framework domains" in str(context)


def _zeroed_times(data: bytes) -> bytes:
    """A zip's bytes with each entry's time and date (local header and central directory) zeroed."""
    import zipfile

    out = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        out[info.header_offset + 10:info.header_offset + 14] = bytes(4)
    at = archive.start_dir
    while out[at:at + 4] == b"PK\x01\x02":
        out[at + 12:at + 16] = bytes(4)
        at += 46 + sum(int.from_bytes(out[at + k:at + k + 2], "little") for k in (28, 30, 32))
    return bytes(out)


def _ours_and_openpyxls(tables) -> tuple[bytes, bytes]:
    """The workbook ``save_workbook`` writes and the one openpyxl saves, entry times zeroed. Each carries the
    second it was made and saved in: a pair a second boundary fell between is made again."""
    from qualkit.render import formats
    from qualkit.render.xlsx_package import save_workbook

    for _ in range(5):
        started = int(time.time())
        ours, theirs = io.BytesIO(), io.BytesIO()
        save_workbook(formats._build_workbook(tables, "Study"), ours)
        formats._build_workbook(tables, "Study").save(theirs)
        if int(time.time()) == started:
            break
    return _zeroed_times(ours.getvalue()), _zeroed_times(theirs.getvalue())


def test_a_workbook_written_with_its_sheets_in_memory_is_the_workbook_openpyxl_saves(monkeypatch):
    import os

    import pandas as pd
    from openpyxl.worksheet import _writer

    from qualkit.render import formats
    from qualkit.render.tables import Table
    from qualkit.render.xlsx_package import save_workbook

    frame = pd.DataFrame({"quote": ["By fax <days> & late. "] * 400, "n": range(400), "why": ["a\nb"] * 400})
    tables = [Table("long", frame, title="Long", notes="A note."), *_tables("short")]
    ours, theirs = _ours_and_openpyxls(tables)  # openpyxl's own: a temporary file per sheet
    assert ours == theirs
    made = []
    real = _writer.create_temporary_file
    monkeypatch.setattr(_writer, "create_temporary_file", lambda *a, **k: made.append(1) or real(*a, **k))
    save_workbook(formats._build_workbook(tables, "Study"), io.BytesIO())
    save_workbook(formats._build_workbook(tables, "Study"), io.BytesIO())
    assert len(made) <= 1  # one per process at most (to read the permissions it would get), not one per sheet
    assert not [p for p in _writer.ALL_TEMP_FILES if os.path.exists(p)]


def test_a_run_whose_report_shows_no_agreement_computes_no_intervals(sample_ws, monkeypatch):
    import qualkit.analysis.agree as agree
    from qualkit.pipeline import run

    config = sample_ws.root / "qualkit.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("coders: [ana, ben]", "coders: [ana, ben, cy]"),
                      encoding="utf-8")  # cy has no codings file yet: the report shows no agreement
    ws = qualkit.Workspace(sample_ws.root)
    computed = []
    real = agree.agreement
    monkeypatch.setattr(agree, "agreement", lambda *a, **k: computed.append(bool(k.get("ci"))) or real(*a, **k))
    report = run(ws, use_cache=False)
    assert "ana, ben on" in next(s.detail for s in report.steps if s.name == "agreement")
    assert computed == [False]


def test_the_command_asks_numpys_blas_for_one_thread_unless_the_user_chose(monkeypatch):
    """OpenBLAS woke a thread per core for every small matrix product (set alpha's bootstrap): ~0.13 s
    of CPU of `qualkit run` on the sample study, for nothing. The command sets one thread before numpy
    loads; a number the user set (for OpenBLAS or OpenMP) is kept."""
    from qualkit.cli import BLAS_THREAD_VARIABLES, one_blas_thread

    environ: dict[str, str] = {}
    one_blas_thread(environ)
    assert environ == {"OPENBLAS_NUM_THREADS": "1"}
    for name in BLAS_THREAD_VARIABLES:
        chosen = {name: "4"}
        one_blas_thread(chosen)
        assert chosen == {name: "4"}


def test_a_command_runs_numpys_blas_on_one_thread(tmp_path):
    import os
    import subprocess
    import sys

    pytest.importorskip("threadpoolctl")
    root = demo(tmp_path / "s")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    probe = ("import atexit, sys, threadpoolctl\n"
             "atexit.register(lambda: print('BLAS threads', sorted({p['num_threads'] for p in threadpoolctl.threadpool_info()"
             " if p['user_api'] == 'blas'}), file=sys.stderr))\n"
             "sys.argv = ['qualkit', 'matrix', 'codes']\n"
             "from qualkit.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert "BLAS threads [1]" in done.stderr, done.stderr


def test_a_workbooks_rows_written_at_once_are_the_bytes_openpyxl_writes():
    """The sheets' rows are made as one element tree (render.xlsx_package.sheet_data) instead of cell by cell
    through lxml's incremental writer: the same bytes, for text of every shape, numbers, empty cells and
    the values openpyxl's own writer is left to write (dates, true/false)."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    from qualkit.render import xlsx_package
    from qualkit.render.tables import Table

    texts = ["plain", " leading", "trailing ", "a\nb", "a\r\nb\rc", "\ttab", "<tag> & \"quotes\" 'single'", "",
             "=SUM(A1:A2)", "naïve café – “curly” 🙂", "x" * 40_000, "  ", "]]>", "\u2028line"]
    numbers = [0, -1, 3.5, 1e20, 0.1, float("nan"), float("inf"), np.int64(7), np.float64(2.25), None, 12345678901234]
    frames = {
        "texts": pd.DataFrame({"quote": texts, "n": range(len(texts))}),
        "numbers": pd.DataFrame({"value": numbers, "label": [str(v) for v in numbers]}),
        "empty": pd.DataFrame({"a": [], "b": []}),
        "gaps": pd.DataFrame({"a": [None, "x", None], "b": [1.0, None, float("nan")], "c": ["", "", "y"]}),
        "dates": pd.DataFrame({"when": [dt.datetime(2026, 3, 1, 10, 0), dt.date(2026, 3, 2)], "ok": [True, False]}),
        "many": pd.DataFrame({"n": range(1_234), "quote": [f"row {i} & more " for i in range(1_234)]}),  # in pieces
    }
    made = []
    real = xlsx_package.sheet_data
    for name, frame in frames.items():
        tables = [Table(name, frame, title=f"Table {name}", notes="A note."), *_tables("short")]
        try:
            xlsx_package.sheet_data = lambda w: (rows := real(w), made.append((w.ws.title, rows is not None)))[0]  # type: ignore[assignment]
            ours, theirs = _ours_and_openpyxls(tables)
        finally:
            xlsx_package.sheet_data = real
        assert ours == theirs, name
    at_once = {sheet for sheet, rows in made if rows}
    assert at_once == {"texts", "numbers", "empty", "gaps", "many", "short"}  # dates and true/false: openpyxl's writer


def test_installed_versions_are_looked_up_again_only_when_an_import_folder_changes(tmp_path, monkeypatch):
    """Every manifest lists the installed versions; reading each package's metadata was ~0.01 s a command.
    They are kept in the user's cache while no folder Python imports from changed (installing, upgrading or
    removing a package adds or removes a folder there)."""
    import importlib.metadata
    import sys

    from qualkit.io import manifest

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    packages = tmp_path / "site"
    packages.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(packages)])
    looked_up = []
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: looked_up.append(name) or real(name))
    found = []
    for step in ("first", "again", "after an install", "again"):
        if step == "after an install":
            (packages / "newpkg-1.0.dist-info").mkdir()
        monkeypatch.setattr(manifest, "_VERSIONS", {})  # a new command
        found.append(manifest.versions())
        assert bool(looked_up) == (step != "again"), step
        looked_up.clear()
    assert all(v == found[0] for v in found) and found[0]["numpy"] == real("numpy")


def test_the_turn_table_reads_documents_and_cases_a_few_times_not_once_per_turn(sample_ws, monkeypatch):
    from qualkit.workspace.store import Workspace

    asked = []
    for name in ("documents", "cases"):
        real = getattr(Workspace, name)
        monkeypatch.setattr(Workspace, name, property(lambda self, real=real, name=name: asked.append(name) or real.fget(self)))
    table = sample_ws.turn_table()
    assert len(table) == 490 and asked.count("documents") < 20 and asked.count("cases") < 20  # was once a turn and more


def test_a_manifest_resolves_each_input_once_per_file_it_names(tmp_path, monkeypatch):
    """Each of a run's twenty-odd manifests lists the same inputs; resolving each path again checked every
    folder on its way. A path is resolved again once it names another file (here: made a link)."""
    from pathlib import Path

    from qualkit.io.manifest import build_manifest

    (tmp_path / "sub").mkdir()
    first, moved = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    first.write_text("a", encoding="utf-8")
    moved.write_text("b", encoding="utf-8")
    resolved = []
    real = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, *a, **k: resolved.append(self.name) or real(self, *a, **k))
    names = [[i["path"] for i in build_manifest(tmp_path, [first, moved], [], {})["inputs"]] for _ in range(3)]
    assert names == [["a.txt", "sub/b.txt"]] * 3 and resolved.count("a.txt") == 1
    import os

    stated = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: stated.append(os.fspath(p)) or real_stat(p, *a, **k))
    build_manifest(tmp_path, [first, moved], [], {})
    assert stated.count(str(first)) == 1  # its state read once for its name, its digest and whether it is a file
    monkeypatch.setattr(os, "stat", real_stat)
    first.unlink()
    first.symlink_to(moved)
    assert [i["path"] for i in build_manifest(tmp_path, [first], [], {})["inputs"]] == ["sub/b.txt"]


def test_a_sheet_with_merged_cells_is_left_to_openpyxls_writer():
    from openpyxl import Workbook
    from openpyxl.worksheet._writer import WorksheetWriter

    from qualkit.render.xlsx_package import save_workbook, sheet_data

    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"], sheet["A2"] = "Theme", "spans two columns", 3
    sheet.merge_cells("A1:B1")
    assert sheet_data(WorksheetWriter(sheet, out=io.BytesIO())) is None
    save_workbook(workbook, io.BytesIO())
