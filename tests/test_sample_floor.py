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
