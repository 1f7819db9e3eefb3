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
