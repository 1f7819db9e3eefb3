"""The body rows of a Word table, written as one piece of XML instead of cell by cell.

python-docx's per-cell API is quadratic on long tables: ``table.add_row()`` and ``row.cells`` walk the
whole table's grid each time, so a 1,000-row table of summaries took seconds. :func:`append_rows`
writes the same elements python-docx writes for ``add_row()`` followed by the cell width, the
paragraph spacing and alignment, and one run of text per cell with ``w:br`` line breaks (what
``qualkit.render.formats`` did through the API): the document's XML is byte-identical, it is built as
one string and parsed once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["append_paragraph", "append_rows", "caption_xml", "notes_xml", "rows_xml"]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_EMU_PER_TWIP = 635


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_xml(text: str) -> str:
    """The children of one run holding ``text``: ``w:t`` per line, ``w:br`` between lines (as
    python-docx's ``add_break`` and ``add_text``: ``xml:space="preserve"`` on a line that starts or
    ends with white space, nothing for an empty line)."""
    parts = []
    for k, line in enumerate(text.split("\n")):
        if k:
            parts.append("<w:br/>")
        if line:
            space = ' xml:space="preserve"' if len(line.strip()) < len(line) else ""
            parts.append(f"<w:t{space}>{_escape(line)}</w:t>")
    return "".join(parts)


def rows_xml(rows: Iterable[Sequence[str]], widths_emu: Sequence[int], right: Sequence[bool], *,
             size_pt: float, bold: bool = False, keep_together: bool = True, header: bool = False) -> str:
    """``w:tr`` elements (no namespace declaration) for ``rows`` of text: each cell ``widths_emu`` wide
    (stored in twips, rounded as python-docx rounds), its paragraph with no space after, right-aligned
    where ``right``, its text ``size_pt`` and bold or not; each row kept on one page unless not
    ``keep_together``; repeated at the top of every page when ``header`` (``formats.mark_row``)."""
    marks = ("<w:cantSplit/>" if keep_together else "") + ("<w:tblHeader/>" if header else "")
    tr_pr = f"<w:trPr>{marks}</w:trPr>" if marks else ""
    r_pr = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{round(size_pt * 2)}"/></w:rPr>'
    heads = []
    for width, is_right in zip(widths_emu, right):
        twips = int(round(width / float(_EMU_PER_TWIP)))
        jc = '<w:jc w:val="right"/>' if is_right else ""
        heads.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{twips}"/></w:tcPr>'
                     f'<w:p><w:pPr><w:spacing w:after="0"/>{jc}</w:pPr><w:r>{r_pr}')
    tail = "</w:r></w:p></w:tc>"
    out = []
    for row in rows:
        out.append(f"<w:tr>{tr_pr}")
        out.extend(head + _text_xml(text) + tail for head, text in zip(heads, row))
        out.append("</w:tr>")
    return "".join(out)


def append_rows(table: Any, rows: Iterable[Sequence[str]], widths_emu: Sequence[int], right: Sequence[bool], *,
                size_pt: float, bold: bool = False, keep_together: bool = True, header: bool = False) -> None:
    """Append ``rows`` to a python-docx ``table`` at its end, as :func:`rows_xml` describes them."""
    from docx.oxml.parser import parse_xml

    body = rows_xml(rows, widths_emu, right, size_pt=size_pt, bold=bold, keep_together=keep_together, header=header)
    wrapper = parse_xml(f'<w:tbl xmlns:w="{_W}">{body}</w:tbl>')
    table._tbl.extend(list(wrapper))


def caption_xml(style_id: str | None, number: int, heading: str | None, *, size_pt: float) -> str:
    """A "Table N." caption paragraph (no namespace declaration): bold "Table ", a Word SEQ field
    showing ``number`` (bold, ``size_pt``), a bold ".", then `` heading`` at ``size_pt`` when given: the
    runs ``formats._caption_number_field`` and ``formats._add_lines`` write through python-docx."""
    sz = f'<w:sz w:val="{round(size_pt * 2)}"/>'
    style = f'<w:pPr><w:pStyle w:val="{_escape(style_id)}"/></w:pPr>' if style_id is not None else ""
    field = [f"<w:r><w:rPr><w:b/>{sz}</w:rPr>{inner}</w:r>" for inner in (
        '<w:fldChar w:fldCharType="begin"/>', '<w:instrText xml:space="preserve"> SEQ Table \\* ARABIC </w:instrText>',
        '<w:fldChar w:fldCharType="separate"/>', f"<w:t>{number}</w:t>", '<w:fldChar w:fldCharType="end"/>')]
    text = f"<w:r><w:rPr>{sz}</w:rPr>{_text_xml(' ' + heading)}</w:r>" if heading else ""
    return (f'<w:p>{style}<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Table </w:t></w:r>{"".join(field)}'
            f"<w:r><w:rPr><w:b/></w:rPr><w:t>.</w:t></w:r>{text}</w:p>")


def notes_xml(text: str, *, size_pt: float, space_before_pt: float) -> str:
    """A table's notes: one italic run of ``text`` (line breaks kept) after ``space_before_pt`` of space."""
    return (f'<w:p><w:pPr><w:spacing w:before="{round(space_before_pt * 20)}"/></w:pPr>'
            f'<w:r><w:rPr><w:i/><w:sz w:val="{round(size_pt * 2)}"/></w:rPr>{_text_xml(text)}</w:r></w:p>')


def append_paragraph(document: Any, xml: str) -> None:
    """Add the ``w:p`` element ``xml`` (no namespace declaration) at the end of a python-docx
    ``document``'s body, where ``document.add_paragraph()`` puts one."""
    from docx.oxml.parser import parse_xml

    document.element.body._insert_p(parse_xml(xml.replace("<w:p>", f'<w:p xmlns:w="{_W}">', 1)))
