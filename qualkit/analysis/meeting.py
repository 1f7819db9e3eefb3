"""The consensus-meeting documents (Word and Markdown) and :func:`write_disagreements`, which writes
the disagreements in any of the four formats: .csv / .xlsx adjudication files, .docx / .md for the meeting.

Kept out of :mod:`qualkit.analysis.disagreements` so that finding disagreements does not load the
Word writer; the page and table helpers are :mod:`qualkit.render.formats`'.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qualkit.analysis.disagreements import (
    ConfusionPair,
    Disagreement,
    DisagreementList,
    clip,
    code_names,
    confusion_pairs,
    left_out_line,
    summary_line,
    who,
    write_adjudication,
)
from qualkit.errors import QualkitError
from qualkit.io.naming import file_kind
from qualkit.io.outputs import check_output, write_output_bytes, write_output_text
from qualkit.render.cells import xml_safe
from qualkit.render.formats import landscape, mark_row, shade_cell

__all__ = ["FORMATS", "meeting_docx", "meeting_markdown", "write_disagreements"]

FORMATS = ("csv", "xlsx", "docx", "md")


def write_disagreements(items: DisagreementList, path: str | Path, pairs: list[ConfusionPair] | None = None,
                        force: bool = False) -> Path:
    """Write the disagreements to FILE.csv / .xlsx (adjudication files), .docx or .md (meeting documents)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise QualkitError(f"cannot write {file_kind(path)}: use .csv or .xlsx (adjudication file), .docx or .md", path)
    if fmt in ("csv", "xlsx"):
        return write_adjudication(items, path, force=force)
    check_output(path)
    if pairs is None:
        pairs = confusion_pairs(items)
    if fmt == "md":
        write_output_text(path, meeting_markdown(items, pairs))
    else:
        write_output_bytes(path, meeting_docx(items, pairs))
    return path


# -- Markdown -----------------------------------------------------------------------------------

def meeting_markdown(items: DisagreementList, pairs: list[ConfusionPair]) -> str:
    """The meeting document as Markdown: confusion pairs, then each unit with its codes in dispute."""
    a, b = items.coders
    out = [f"# Disagreements: {a} and {b}", "", summary_line(items) + ".", ""]
    if (lo := left_out_line(items)):
        out += [lo[0].upper() + lo[1:] + ".", ""]
    if pairs:
        out += ["## Confusion pairs", "", f"Units where {a} used one code and {b} another: definitions to sharpen.", "",
                f"| Units | {a} used | {b} used |", "|---:|---|---|"]
        out += [f"| {p.count} | {_md(items.code_name(p.a_code))} | {_md(items.code_name(p.b_code))} |" for p in pairs]
        out.append("")
    for group in items.by_unit():
        d0 = group[0]
        out += [f"## {d0.transcript} · {d0.unit_label} · {_md(who(d0))}", ""]
        out += ["> " + line if line.strip() else ">" for line in clip(d0.text).split("\n")]
        out += ["", f"- **{a}**: {_md(code_names(items, d0.codes[a])) or '(nothing)'}",
                f"- **{b}**: {_md(code_names(items, d0.codes[b])) or '(nothing)'}", ""]
        for d in group:
            out.append(f"**{_md(d.code_name)}** (`{d.code}`), applied by {d.applied_by} only"
                       + (f": “{_md(clip(' '.join(d.quote.split()), 300))}”" if d.quote and d.quote != d.text else "")
                       + f" — key `{d.key}`")
            out.append("")
            for label, value in (("Definition", d.definition), ("Use when", d.include), ("Do not use when", d.exclude)):
                if value:
                    out.append(f"- {label}: {_md(value)}")
            if not (d.definition or d.include or d.exclude):
                out.append("- (no definition in the codebook)")
            out.append("")
    if not items:
        out += ["No disagreements.", ""]
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


# -- Word ---------------------------------------------------------------------------------------

class _Doc:
    """A landscape Word document with the few paragraph, run and table helpers the meeting document uses."""

    def __init__(self) -> None:
        from docx import Document
        from docx.shared import Pt

        self.doc = Document()
        section = landscape(self.doc, margin_cm=1.5, font="Calibri", font_pt=9)
        self.doc.styles["Normal"].paragraph_format.space_after = Pt(2)
        self.usable = section.page_width - section.left_margin - section.right_margin

    @staticmethod
    def para(cell: Any, first: bool = False) -> Any:
        """The cell's first paragraph while it is empty (``first``), else a new one."""
        return cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()

    @staticmethod
    def run(p: Any, text: str, bold: bool = False, italic: bool = False, size: float = 9, grey: bool = False) -> Any:
        """A run of text; only what differs from the Normal style (9 pt): python-docx is slow with many run properties."""
        from docx.shared import Pt, RGBColor

        r = p.add_run(xml_safe(text))
        if bold:
            r.bold = True
        if italic:
            r.italic = True
        if size != 9:
            r.font.size = Pt(size)
        if grey:
            r.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        return r

    def table(self, headers: Sequence[str], fractions: Sequence[float]) -> tuple[Any, list[int]]:
        """A grid table with a shaded header row; the table and its column widths."""
        from docx.enum.table import WD_TABLE_ALIGNMENT

        t = self.doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        widths = [int(self.usable * f) for f in fractions]
        head = t.rows[0]
        mark_row(head, header=True, keep_together=False)
        for i, text in enumerate(headers):
            cell = head.cells[i]
            cell.width = widths[i]
            shade_cell(cell, "D9E2F3")
            self.run(self.para(cell, True), text, bold=True, size=9.5)
        return t, widths

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def meeting_docx(items: DisagreementList, pairs: list[ConfusionPair]) -> bytes:
    """The meeting document as Word: confusion pairs, then one table row per unit with a Decision column."""
    a, b = items.coders
    w = _Doc()
    w.doc.add_heading(f"Disagreements: {a} and {b}", level=1)
    w.doc.add_paragraph(summary_line(items) + ". One row per unit; the codes in dispute are listed with their "
                        "definitions. Record the team's decision in the last column, or in the adjudication file "
                        f"(qualkit disagreements --coders {a},{b} --out adjudication.xlsx).")
    if (lo := left_out_line(items)):
        w.doc.add_paragraph(lo[0].upper() + lo[1:] + ".")
    if pairs:
        w.doc.add_heading("Confusion pairs: definitions to sharpen", level=2)
        t, widths = w.table(("Units", f"{a} used", f"{b} used"), (0.1, 0.45, 0.45))
        for p in pairs:
            cells = t.add_row().cells
            for i, value in enumerate((str(p.count), items.code_name(p.a_code), items.code_name(p.b_code))):
                cells[i].width = widths[i]
                w.run(w.para(cells[i], True), value)
        w.doc.add_paragraph()
    if not items:
        w.doc.add_paragraph("No disagreements.")
    else:
        w.doc.add_heading("Disagreements by unit", level=2)
        t, widths = w.table(("Unit", "Text", a, b, "Codes in dispute", "Decision"),
                            (0.12, 0.30, 0.11, 0.11, 0.26, 0.10))
        for group in items.by_unit():
            cells = t.add_row().cells
            for i, cell in enumerate(cells):
                cell.width = widths[i]
            _unit_row(w, cells, items, group)
    return w.save()


def _unit_row(w: _Doc, cells: Sequence[Any], items: DisagreementList, group: list[Disagreement]) -> None:
    """One unit's row: where, the text (disputed quotes in bold), each coder's codes, the codes in dispute."""
    a, b = items.coders
    d0 = group[0]
    w.run(w.para(cells[0], True), f"{d0.transcript} · {d0.unit_label}", bold=True)
    w.run(w.para(cells[0]), who(d0), grey=True)
    _docx_text(w, w.para(cells[1], True), d0, group)
    for coder, cell in ((a, cells[2]), (b, cells[3])):
        names = [items.code_name(c) for c in d0.codes[coder]]
        disputed = {d.code for d in group if d.applied_by == coder}
        first = True
        for cid, name in zip(d0.codes[coder], names):
            w.run(w.para(cell, first), name, bold=cid in disputed)
            first = False
        if first:
            w.run(w.para(cell, True), "(nothing)", italic=True, grey=True)
    first = True
    for d in group:
        p = w.para(cells[4], first)
        first = False
        w.run(p, d.code_name, bold=True)
        w.run(p, f"  {d.code} · {d.applied_by} only", grey=True, size=8)
        for label, value in (("Definition: ", d.definition), ("Use when: ", d.include),
                             ("Do not use when: ", d.exclude)):
            if value:
                q = w.para(cells[4])
                w.run(q, label, italic=True, size=8.5)
                w.run(q, value, size=8.5)
        if not (d.definition or d.include or d.exclude):
            w.run(w.para(cells[4]), "(no definition in the codebook)", italic=True, grey=True, size=8.5)


def _docx_text(w: _Doc, p: Any, d0: Disagreement, group: list[Disagreement]) -> None:
    """The unit's text with every disputed quote in bold."""
    text = clip(d0.text)
    marks = sorted({(s - d0.start, e - d0.start) for d in group for s, e in d.quote_spans})
    pos = 0
    for s, e in marks:
        s, e = max(s, pos), min(e, len(text))
        if s >= e:
            continue
        if s > pos:
            w.run(p, text[pos:s])
        w.run(p, text[s:e], bold=True)
        pos = e
    if pos < len(text):
        w.run(p, text[pos:])
