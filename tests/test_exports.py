"""Exporting tables: the format follows the extension, a manifest is written beside every file."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from qualkit.render.tables import ExportError, Table, export_tables

FRAME = pd.DataFrame({"Theme": ["Data sharing", "Rural access"], "Quotes": ["“We fax it” (FG1-P3)\n“Days late” (KP-1)", "No bus | ever"], "n": [12, 0.5]})


def test_csv_md_html_json_exports_and_their_manifest(tmp_path):
    (tmp_path / "in.txt").write_text("x")
    for ext in ("csv", "md", "html", "json"):
        out = export_tables(Table("themes", FRAME, title="Themes by domain"), tmp_path / f"t.{ext}",
                            inputs=[tmp_path / "in.txt"], parameters={"unit": "turn"})
        assert [p.name for p in out] == [f"t.{ext}", f"t.{ext}.manifest.json"]
        manifest = json.loads(out[-1].read_text())
        assert manifest["parameters"]["unit"] == "turn" and manifest["inputs"][0]["path"] == "in.txt"
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    md = (tmp_path / "t.md").read_text()
    assert "“We fax it” (FG1-P3)<br>“Days late” (KP-1)" in md and "No bus \\| ever" in md and "| 0.5 |" in md
    assert "<caption>Themes by domain</caption>" in (tmp_path / "t.html").read_text()
    assert json.loads((tmp_path / "t.json").read_text())["tables"][0]["rows"][1]["n"] == 0.5


def test_several_tables_to_csv_give_one_file_each(tmp_path):
    out = export_tables({"Facilitators": FRAME, "Barriers": FRAME}, tmp_path / "m.csv", manifest=False)
    assert [p.name for p in out] == ["m__facilitators.csv", "m__barriers.csv"]


def test_unknown_format_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="cannot export to a '.pdf' file"):
        export_tables(FRAME, tmp_path / "t.pdf")
    assert list(tmp_path.iterdir()) == []


def test_missing_values_are_blank_cells_not_na_markers(tmp_path):
    frame = pd.DataFrame({"run": pd.array([None, 2], dtype="Int64"), "share": [float("nan"), 0.25]})
    export_tables(frame, tmp_path / "t.md", manifest=False)
    text = (tmp_path / "t.md").read_text()
    assert "<NA>" not in text and "nan" not in text and "| 2 | 0.25 |" in text
