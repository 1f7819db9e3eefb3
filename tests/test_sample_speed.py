"""`qualkit run` on a small study costs little more than importing its libraries (issue 17): work
that does not depend on the study (compiling the report template) is done once per user, and work
`run` needs twice (agreement, matrices, Word's default template) is done once per run. Each test is
what a user does and what it must no longer cost, with the same files as before."""
from __future__ import annotations

from datetime import datetime, timezone

import jinja2
import pytest

import qualkit
from qualkit.reporting.report import render_report, report_context
from qualkit.workspace.scaffold import demo

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    root = demo(tmp_path_factory.mktemp("speed") / "s")
    return report_context(qualkit.Workspace(root), resamples=50, now=NOW)


def test_the_report_template_is_compiled_once_per_user_not_once_per_report(context, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = render_report(context)
    kept = list((tmp_path / "cache" / "qualkit" / "templates").glob("*.code"))
    assert len(kept) >= 2  # the page and its macros

    def no_compiling(*args, **kwargs):
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render_report(context) == first


def test_a_damaged_or_foreign_cache_entry_only_means_compiling_again(context, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = render_report(context)
    kept = sorted((tmp_path / "cache" / "qualkit" / "templates").glob("*.code"))
    kept[0].write_bytes(kept[0].read_bytes()[:40])          # truncated
    kept[1].write_bytes(b"\x80\x04\x95 not a header at all")  # someone else's file (a pickle, say)
    assert render_report(context) == first
    assert all(len(p.read_bytes()) > 100 for p in kept)     # written afresh


def test_an_unwritable_cache_folder_is_no_error(context, tmp_path, monkeypatch):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert render_report(context).startswith("<!DOCTYPE html>")


def test_word_tables_are_written_from_one_parsed_template(tmp_path, monkeypatch):
    import docx
    import pandas as pd

    from qualkit.render import formats
    from qualkit.render.tables import Table, export_tables

    parsed = []
    real = docx.Document
    monkeypatch.setattr(docx, "Document", lambda *a, **k: parsed.append(a) or real(*a, **k))
    monkeypatch.setattr(formats._Template, "_made", None)
    frame = pd.DataFrame({"Theme": ["Referrals by fax"], "Quote": ["By fax, days late."]})
    for name in ("one", "two", "three"):
        export_tables([Table(name, frame, title=f"Table {name}", notes="A note.")], tmp_path / f"{name}.docx",
                      title=f"Study {name}", manifest=False)
    assert len(parsed) == 1
    for name in ("one", "two", "three"):  # each document its own: no table or title of another
        document = real(str(tmp_path / f"{name}.docx"))
        assert len(document.tables) == 1
        assert document.core_properties.title == f"Study {name}"
        assert [p.style.name for p in document.paragraphs[:2]] == ["Heading 1", "Caption"]
        assert document.tables[0].style.name == "Table Grid"
        assert document.sections[0].orientation == 1  # landscape


@pytest.fixture
def sample_ws(tmp_path):
    return qualkit.Workspace(demo(tmp_path / "s"))


def test_the_report_and_the_exports_read_themes_yaml_once_for_every_cut(sample_ws, monkeypatch):
    import qualkit.analysis.themes as themes_mod
    from qualkit.analysis.matrices import build_matrix

    read = []
    real = themes_mod.load_themes
    monkeypatch.setattr(themes_mod, "load_themes", lambda *a, **k: read.append(a) or real(*a, **k))
    tables = [build_matrix(sample_ws, "themes", cells=cells).tables[0].frame
              for cells in ("summary", "count", "participants", "quotes")]
    assert len(read) == 1
    assert list(tables[1].columns) == list(tables[2].columns)  # one layout, different cells
    (sample_ws.root / "themes.yaml").write_text((sample_ws.root / "themes.yaml").read_text(encoding="utf-8")
                                                + "\n# edited\n", encoding="utf-8")
    edited = build_matrix(sample_ws, "themes", cells="count")
    assert len(read) == 2  # an edited themes.yaml is read again, and the matrix made again from it
    assert edited.tables[0].frame is not tables[1]


def test_a_matrix_asked_for_with_its_default_cells_named_is_the_one_already_built(sample_ws):
    from qualkit.analysis.matrices import build_matrix

    exported = build_matrix(sample_ws, "codes", by="role")  # `export all` / `run`
    assert build_matrix(sample_ws, "codes", by="role", cells="count") is exported  # the report's heatmap


def test_a_run_records_its_outputs_in_the_ledger_once(sample_ws, monkeypatch):
    import json

    import qualkit.io.outputs as outputs
    from qualkit.pipeline import run

    rewrites = []
    real = outputs._update_ledger
    monkeypatch.setattr(outputs, "_update_ledger", lambda ledger, entries: rewrites.append(len(entries)) or real(ledger, entries))
    report = run(sample_ws, use_cache=False)
    assert len(rewrites) == 1 and rewrites[0] > 20
    ledger = json.loads((sample_ws.root / ".qualkit" / "outputs.json").read_text(encoding="utf-8"))
    from qualkit.io.manifest import sha256_file

    exports = (sample_ws.root / "exports").resolve()
    assert {"report.html", "themes_by_domain.xlsx", "rapid_matrix.docx"} <= {p.name for p in report.outputs}
    for path in report.outputs:
        if path.name in ("report.html", "themes_by_domain.xlsx", "rapid_matrix.docx", "saturation.csv"):
            assert ledger[str(exports / path.name)] == sha256_file(path)


def test_inside_one_batch_qualkits_own_file_is_rewritten_and_a_colleagues_is_backed_up(sample_ws):
    from qualkit.io.outputs import ledger_batch, write_output_text

    ours, theirs = sample_ws.root / "exports" / "ours.txt", sample_ws.root / "exports" / "theirs.txt"
    theirs.write_text("a colleague's notes", encoding="utf-8")
    with ledger_batch():
        write_output_text(ours, "one", sample_ws.root)
        write_output_text(ours, "two", sample_ws.root)     # written by qualkit moments ago: no backup
        write_output_text(theirs, "mine now", sample_ws.root)
    backups = list((sample_ws.root / ".qualkit" / "backups").glob("*"))
    assert [p.name.startswith("theirs") for p in backups] == [True]
    assert "a colleague's notes" in backups[0].read_text(encoding="utf-8") and ours.read_text(encoding="utf-8") == "two"


def _framework_tree(fw) -> list:
    return [(d.path, d.label, [(c.path, c.label) for c in d.children]) for d in fw.domains()]


def test_the_built_in_frameworks_are_parsed_once_per_user_not_once_per_command(tmp_path, monkeypatch):
    import qualkit.frameworks.loading as loading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(loading, "_BUILTIN", None)
    legacy = tmp_path / "cache" / "qualkit" / "frameworks" / "builtin-0123abcd.json"   # named by key, as before
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{}", encoding="utf-8")
    first = loading.builtin_frameworks()
    kept = list((tmp_path / "cache" / "qualkit" / "frameworks").glob("builtin*.json"))
    assert [k.name for k in kept] == ["builtin.json"]   # one file, the old one swept away

    def no_parsing(*args, **kwargs):
        raise AssertionError("a built-in framework was parsed again")

    monkeypatch.setattr(loading, "_BUILTIN", None)   # the next command
    monkeypatch.setattr(loading, "_read_spec", no_parsing)
    again = loading.builtin_frameworks()
    assert list(again) == list(first) and "heif" in again
    assert all(_framework_tree(again[k]) == _framework_tree(first[k]) for k in first)
    assert again["heif"].equity_domains() and [d.path for d in again["heif"].equity_domains()] == \
        [d.path for d in first["heif"].equity_domains()]


def test_a_damaged_frameworks_cache_only_means_parsing_again(tmp_path, monkeypatch):
    import qualkit.frameworks.loading as loading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(loading, "_BUILTIN", None)
    first = loading.builtin_frameworks()
    kept = tmp_path / "cache" / "qualkit" / "frameworks" / "builtin.json"
    header, body = kept.read_text(encoding="utf-8").split("\n", 1)
    label = first["heif"].roots[0].label
    assert f'"label": "{label}"' in body
    edited = header + "\n" + body.replace(f'"label": "{label}"', '"label": "Edited in the cache"')  # fingerprint kept
    for damage in ('[{"fields": {}}]', "{not json", '[{"fields": {}, "lines": {}, "line": 1, "file": "x", "children": {}}]',
                   header + "\n" + body[: len(body) // 2], edited):
        kept.write_text(damage, encoding="utf-8")
        monkeypatch.setattr(loading, "_BUILTIN", None)
        assert {k: _framework_tree(v) for k, v in loading.builtin_frameworks().items()} == \
            {k: _framework_tree(v) for k, v in first.items()}


def test_qualkit_run_works_with_the_collector_paused_and_leaves_nothing_for_it_at_exit(sample_ws, run_cli, monkeypatch):
    import gc

    import qualkit.pipeline as pipeline

    seen = []
    first = pipeline.STEPS[0]

    def ingest(state):
        seen.append(gc.isenabled())
        return first(state)

    monkeypatch.setattr(pipeline, "STEPS", [ingest, *pipeline.STEPS[1:]])
    try:
        result = run_cli("run", "--recompute", workspace=sample_ws)
        assert result.exit_code == 0, result.output
        assert seen == [False]                      # every step: no collector pass over the study
        assert gc.isenabled() and gc.get_freeze_count() > 0  # what it built is out of the final pass's way
    finally:
        gc.unfreeze()


def test_where_each_themes_codes_count_is_worked_out_once_for_every_cut(sample_ws, monkeypatch):
    import qualkit.analysis.matrices.themes as themes_matrix
    from qualkit.analysis.matrices import build_matrix

    worked = []
    real = themes_matrix._find_places
    monkeypatch.setattr(themes_matrix, "_find_places", lambda lay, theme: worked.append(theme.id) or real(lay, theme))
    for cells in ("count", "participants", "quotes"):
        build_matrix(sample_ws, "themes", cells=cells)
    build_matrix(sample_ws, "themes", cells="count", by="site")
    assert worked and len(worked) == len(set(worked))


def test_a_table_with_nothing_to_defuse_is_written_without_a_copy_and_one_with_a_formula_is_copied():
    import pandas as pd

    from qualkit.render.cells import csv_safe_frame

    plain = pd.DataFrame({"code": ["fax", "delays"], "count": [3, 4]})
    assert csv_safe_frame(plain) is plain
    risky = pd.DataFrame({"quote": ["fine", "=HYPERLINK(\"x\")", "a\r\nb"], "count": [1, 2, 3]})
    safe = csv_safe_frame(risky)
    assert list(safe["quote"]) == ["fine", "'=HYPERLINK(\"x\")", "a\nb"]
    assert risky.loc[1, "quote"] == "=HYPERLINK(\"x\")"  # the caller's frame untouched
    header = pd.DataFrame({"=cmd": ["x"]})
    assert list(csv_safe_frame(header).columns) == ["'=cmd"] and list(header.columns) == ["=cmd"]


def test_a_run_reads_the_codebooks_once_for_all_its_steps(sample_ws, monkeypatch):
    import qualkit.workspace.codebook as codebook
    from qualkit.pipeline import run

    read = []
    real = codebook.load_codebooks
    monkeypatch.setattr(codebook, "load_codebooks", lambda *a, **k: read.append(a) or real(*a, **k))
    report = run(sample_ws, use_cache=False)
    assert [s.name for s in report.steps if s.status == "done"][:2] == ["ingest", "codebooks"]
    assert len(read) == 1
    assert "codebooks" not in vars(sample_ws)  # the workspace reads codebooks/ afresh afterwards


def test_a_word_tables_header_row_is_the_xml_python_docxs_api_writes():
    import docx
    import pandas as pd
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt
    from lxml import etree

    from qualkit.render import formats

    frame = pd.DataFrame({"Theme": ["Referrals by fax"], "Excerpts\nper site": [3], " Quote ": ["By fax."]})
    usable = 8_000_000
    ours = docx.Document()
    formats._docx_table(ours, frame, usable, "TableGrid")

    api = docx.Document()  # what the writer did before: python-docx's calls, cell by cell
    headers, rows = formats._headers(frame), formats._rows(frame)
    numeric, widths = formats._numeric_columns(frame, rows), formats._docx_widths(headers, rows, usable)
    table = api.add_table(rows=1, cols=len(headers))
    table._tbl.tblStyle_val = "TableGrid"
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    formats.mark_row(table.rows[0], header=True)
    for j, (cell, value) in enumerate(zip(table.rows[0].cells, headers)):
        cell.width = widths[j]
        paragraph = cell.paragraphs[0]
        paragraph.paragraph_format.space_after = Pt(0)
        if numeric[j]:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        formats._add_lines(paragraph, value, size_pt=9, bold=True)
    formats.append_rows(table, ([formats._text(v).strip("\n") for v in row] for row in rows), widths, numeric, size_pt=9)
    assert etree.tostring(ours.tables[0]._tbl) == etree.tostring(table._tbl)


@pytest.mark.parametrize("heading", [None, "Themes × HEIF domains", "a & b < c > d  ", "\tTabbed\tcaption"])
def test_a_word_tables_caption_and_notes_are_the_xml_python_docxs_api_writes(heading):
    import docx
    from docx.shared import Pt
    from lxml import etree

    from qualkit.render import formats
    from qualkit.render.docx_rows import append_paragraph, caption_xml, notes_xml

    notes = "Quotes abridged; P = participant.\n  second line & <more>\n"
    ours, api = docx.Document(), docx.Document()
    append_paragraph(ours, caption_xml("Caption", 3, heading, size_pt=10))
    append_paragraph(ours, notes_xml(notes, size_pt=9, space_before_pt=4))

    caption = api.add_paragraph()
    caption._p.style = "Caption"
    caption.add_run("Table ").bold = True
    formats._caption_number_field(caption, 3, 10)
    caption.add_run(".").bold = True
    if heading:
        formats._add_lines(caption, " " + heading, size_pt=10)
    paragraph = api.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(4)
    formats._add_lines(paragraph, notes, size_pt=9, italic=True)
    assert [etree.tostring(p) for p in ours.element.body] == [etree.tostring(p) for p in api.element.body]


def test_the_runs_kept_word_and_excel_files_are_not_compressed_again_and_come_back_the_same(sample_ws):
    import sqlite3

    from qualkit.pipeline import run

    run(sample_ws, use_cache=False)
    xlsx = sample_ws.root / "exports" / "themes_by_domain.xlsx"
    original = xlsx.read_bytes()
    with sqlite3.connect(sample_ws.root / ".qualkit" / "cache" / "results.sqlite") as db:
        stored = db.execute("SELECT sum(length(data)) FROM pieces WHERE path = ?", ("exports/themes_by_domain.xlsx",)).fetchone()[0]
    assert stored >= len(original)  # zlib level 0: stored blocks, no time spent deflating a zip again
    xlsx.unlink()
    assert run(sample_ws).cached and xlsx.read_bytes() == original


def test_export_all_reads_each_summary_template_once(sample_ws, tmp_path, monkeypatch):
    import qualkit.analysis.summaries.read as read
    from qualkit.reporting.study_exports import export_study

    opened = []
    real = read.read_template
    monkeypatch.setattr(read, "read_template", lambda ws, path, *a, **k: opened.append(path.name) or real(ws, path, *a, **k))
    done = export_study(sample_ws, tmp_path / "out")
    assert {"rapid matrix", "rapid matrix by equity domain"} <= set(done.made)
    assert opened and len(opened) == len(set(opened))


@pytest.mark.parametrize("by", [None, "site"])
def test_the_reports_code_pairs_are_the_exported_cooccurrence_with_its_frame_chosen(sample_ws, monkeypatch, by):
    import qualkit.analysis.matrices.build as build

    computed = []
    real = build.cooccurrence_matrix
    monkeypatch.setattr(build, "cooccurrence_matrix", lambda *a, **k: computed.append(1) or real(*a, **k))
    exported = build.build_matrix(sample_ws, "cooccurrence", by=by)
    for cells in ("pairs", "coefficient", "count"):
        shared = build.build_matrix(sample_ws, "cooccurrence", cells=cells, by=by)
        fresh = build._build_matrix(sample_ws, "cooccurrence", **{**_defaults(build), "cells": cells, "by": by})
        assert shared.frame.equals(fresh.frame) and shared.parameters == fresh.parameters
        assert [t.name for t in shared.tables] == [t.name for t in fresh.tables] == [t.name for t in exported.tables]
    assert len(computed) == 1 + 3  # the export's, and the three fresh ones of this test
    with pytest.raises(qualkit.QualkitError, match="cells"):
        build.build_matrix(sample_ws, "cooccurrence", cells="quotes")


def _defaults(build) -> dict:
    import inspect

    return {k: p.default for k, p in inspect.signature(build.build_matrix).parameters.items()
            if p.kind is p.KEYWORD_ONLY}


def test_without_a_home_folder_nothing_is_cached_anywhere_else(context, tmp_path, monkeypatch):
    import qualkit.frameworks.loading as loading
    from qualkit.io.usercache import user_cache

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "")
    with pytest.raises(OSError):
        user_cache("templates")
    monkeypatch.setattr(loading, "_BUILTIN", None)
    assert "heif" in loading.builtin_frameworks()
    assert render_report(context).startswith("<!DOCTYPE html>")
    assert list(tmp_path.iterdir()) == []  # nothing written relative to the current folder


def test_cell_kinds_read_the_same_through_the_fast_paths():
    import numpy as np
    import pandas as pd

    from qualkit.render.cells import is_bool, is_missing, is_number

    cases = {3: (True, False, False), 2.5: (True, False, False), float("nan"): (True, False, True),
             "12": (False, False, False), True: (False, True, False), np.int64(4): (True, False, False),
             np.float64(0.5): (True, False, False), np.bool_(True): (False, True, False), None: (False, False, True),
             pd.NA: (False, False, True), pd.NaT: (False, False, True)}
    for value, (number, boolean, missing) in cases.items():
        assert (is_number(value), is_bool(value), is_missing(value)) == (number, boolean, missing), value


def test_writing_a_workbook_leaves_its_cells_to_reference_counting_not_the_collector(tmp_path):
    import gc

    import pandas as pd

    from qualkit.render.tables import Table, export_tables

    frame = pd.DataFrame({"code": [f"c{i}" for i in range(300)], "n": range(300), "quote": ["By fax."] * 300})
    export_tables([Table("t", frame)], tmp_path / "warm.xlsx", manifest=False)
    gc.collect()
    gc.disable()
    try:
        export_tables([Table("t", frame)], tmp_path / "t.xlsx", manifest=False)
        left_for_the_collector = gc.collect()
    finally:
        gc.enable()
    assert left_for_the_collector < 900  # not the table's 900 cells (3,000 objects before)
    import openpyxl

    assert openpyxl.load_workbook(tmp_path / "t.xlsx").active["C301"].value == "By fax."
