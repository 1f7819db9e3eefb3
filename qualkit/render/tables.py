"""Writing tables for manuscripts and colleagues: one call, the format chosen by the file extension.

``export_tables(tables, path)`` writes one or several named tables (pandas DataFrames) to CSV,
Markdown, HTML, JSON, XLSX, DOCX or LaTeX, atomically, and a manifest beside the output
(``FILE.manifest.json``: inputs with sha256, parameters, versions) so the same inputs give the
same numbers. Cells may hold multi-line text (quotes, summary bullets); each writer keeps the
line breaks in its own way.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.errors import (
    ExportError,  # noqa: F401  (defined with every other error in qualkit.errors)
)
from qualkit.io.manifest import build_manifest, write_manifest
from qualkit.io.naming import file_kind, file_stem
from qualkit.io.outputs import output_open
from qualkit.render.cells import csv_safe_frame


@dataclass
class Table:
    """A named table: ``name`` is the sheet/section name, ``title`` the caption, ``notes`` a footnote."""

    name: str
    frame: Any  # pandas.DataFrame
    title: str | None = None
    notes: str | None = None


def _tables(tables) -> list[Table]:
    if isinstance(tables, Table):
        return [tables]
    if hasattr(tables, "to_csv"):
        return [Table("table", tables)]
    if isinstance(tables, dict):
        return [Table(str(k), v) for k, v in tables.items()]
    return list(tables)


def cell_text(value: Any) -> str:
    """A cell as people read it: blanks for None/NaN/NA, floats to 3 places without trailing zeros."""
    if value is None:
        return ""
    if not isinstance(value, (str, bytes, list, tuple, dict, set)):
        import pandas as pd  # frames are being exported, so pandas is loaded already

        try:
            if pd.isna(value):  # NaN, pandas.NA and NaT alike ("<NA>" is no cell for a manuscript)
                return ""
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


# -- writers ---------------------------------------------------------------------------------------

def _write_csv(tables: list[Table], path: Path, **_) -> list[Path]:
    """One CSV per table (``stem__name.csv`` when there are several), UTF-8 with a BOM for Excel."""
    out = []
    for t in tables:
        target = path if len(tables) == 1 else path.with_name(f"{path.stem}__{file_stem(t.name)}{path.suffix}")
        with output_open(target, "w", encoding="utf-8-sig", newline="") as f:
            csv_safe_frame(t.frame).to_csv(f, index=False)
        out.append(target)
    return out


def _mdcell_text(value) -> str:
    # HTML in a cell is shown as text, not run: Markdown renderers pass raw HTML through.
    return html.escape(cell_text(value), quote=False).replace("|", "\\|").replace("\n", "<br>")


def markdown_table(frame: Any) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (line breaks in cells become <br>)."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(_mdcell_text(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_mdcell_text(v) for v in row) + " |")
    return "\n".join(lines)


def _write_md(tables: list[Table], path: Path, title: str | None = None, **_) -> list[Path]:
    parts = [f"# {title}\n"] if title else []
    for t in tables:
        heading = t.title or (t.name if len(tables) > 1 else None)
        if heading:
            parts.append(f"## {heading}\n")
        parts.append(markdown_table(t.frame) + "\n")
        if t.notes:
            parts.append(f"\n*{t.notes}*\n")
    with output_open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return [path]


def html_table(frame: Any, caption: str | None = None) -> str:
    """A DataFrame as a plain, escaped HTML table (line breaks in cells become <br>)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(cell_text(v)).replace(chr(10), '<br>')}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_HTML_STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
               "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
               "vertical-align:top;text-align:left}th{background:#f3f3f3}caption{font-weight:600;text-align:left}")


def _write_html(tables: list[Table], path: Path, title: str | None = None, **_) -> list[Path]:
    body = [f"<h1>{html.escape(title)}</h1>"] if title else []
    for t in tables:
        body.append(html_table(t.frame, t.title or (t.name if len(tables) > 1 else None)))
        if t.notes:
            body.append(f"<p><em>{html.escape(t.notes)}</em></p>")
    doc = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title or path.stem)}</title>"
           f"<style>{_HTML_STYLE}</style></head><body>{''.join(body)}</body></html>\n")
    with output_open(path, "w", encoding="utf-8") as f:
        f.write(doc)
    return [path]


def _write_json(tables: list[Table], path: Path, title: str | None = None, **_) -> list[Path]:
    data = {"title": title, "tables": [{"name": t.name, "title": t.title, "notes": t.notes,
                                        "rows": json.loads(t.frame.to_json(orient="records", force_ascii=False))} for t in tables]}
    with output_open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    return [path]


WRITERS = {".csv": _write_csv, ".md": _write_md, ".html": _write_html, ".htm": _write_html, ".json": _write_json}
# XLSX, DOCX and LaTeX writers live in their own module (openpyxl / python-docx / booktabs).
_MORE_WRITERS = {".xlsx": "write_xlsx", ".docx": "write_docx", ".tex": "write_latex"}


def export_tables(tables: Any, path: str | Path, *, title: str | None = None, workspace: Any = None,
                  inputs: Iterable[Path] = (), parameters: dict[str, Any] | None = None,
                  manifest: bool = True) -> list[Path]:
    """Write ``tables`` (a DataFrame, a Table, a list of Tables or a {name: DataFrame} dict) to ``path``.

    The format follows the extension (.csv .md .html .json .xlsx .docx .tex). Returns the files
    written, the manifest (``FILE.manifest.json``) last. ``inputs`` and ``parameters`` go into the
    manifest, with paths relative to ``workspace.root`` when given.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    items = _tables(tables)
    if suffix in WRITERS:
        written = WRITERS[suffix](items, path, title=title)
    elif suffix in _MORE_WRITERS:
        from qualkit.render import formats as export_formats

        written = getattr(export_formats, _MORE_WRITERS[suffix])(items, path, title=title)
    else:
        known = ", ".join(sorted([*WRITERS, *_MORE_WRITERS]))
        raise ExportError(f"cannot export to {file_kind(path)}; use one of {known}", path)
    if manifest:
        root = Path(workspace.root) if workspace is not None else path.parent
        man_path = path.with_name(path.name + ".manifest.json")
        params = {"format": suffix.lstrip("."), "tables": [t.name for t in items], **(parameters or {})}
        write_manifest(man_path, build_manifest(root, list(inputs), written, params))
        written.append(man_path)
    return written
