"""Paragraph styles of a python-docx document, each looked up once.

python-docx resolves a style name on every ``add_paragraph(text, style)`` and every ``paragraph.style``
read by scanning all of the document's styles for the default one (about 4 ms in the default
template): a summary template of a hundred paragraphs spent most of its time there. This writes the
same ``w:pStyle`` python-docx writes and reads the same names, with one look-up per style, shared
by every document whose style definitions are the same (a thousand templates made from python-docx's
default template look each style up once).
"""
from __future__ import annotations

from typing import Any

__all__ = ["ParagraphStyles"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Look-ups by the style definitions they depend on (see _key); a few entries at most.
_SHARED: dict[bytes, tuple[dict[str, str | None], dict[str | None, str | None]]] = {}


def _key(document: Any) -> bytes:
    """The style definitions python-docx's look-ups read: the digest of the styles part's XML (one
    C serialisation, no proxy objects)."""
    import hashlib

    from lxml import etree

    return hashlib.sha256(etree.tostring(document.styles.element)).digest()


class ParagraphStyles:
    """Style ids (by name) and names (by id) of one python-docx ``document``'s paragraph styles.

    Meant for a document whose style definitions do not change while it is used.
    """

    def __init__(self, document: Any) -> None:
        self.document = document
        key = _key(document)
        if key not in _SHARED:
            if len(_SHARED) > 16:
                _SHARED.clear()
            _SHARED[key] = ({}, {})
        self._ids, self._names = _SHARED[key]

    def style_id(self, name: str) -> str | None:
        """The ``w:pStyle`` value python-docx writes for ``name`` (None for the default style)."""
        if name not in self._ids:
            from docx.enum.style import WD_STYLE_TYPE

            self._ids[name] = self.document.part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
        return self._ids[name]

    def add_paragraph(self, text: str = "", style: str | None = None) -> Any:
        """As ``document.add_paragraph(text, style)``."""
        paragraph = self.document.add_paragraph()
        if text and not ("\t" in text or "\n" in text or "\r" in text):
            paragraph._p.add_r().add_t(text)  # what run.text writes, without its loop over each character
        elif text:
            paragraph.add_run(text)
        if style is not None:
            paragraph._p.style = self.style_id(style)
        return paragraph

    def add_heading(self, text: str, level: int = 1) -> Any:
        """As ``document.add_heading(text, level)``."""
        if not 0 <= level <= 9:
            raise ValueError(f"level must be in range 0-9, got {level}")
        return self.add_paragraph(text, "Title" if level == 0 else f"Heading {level}")

    def name(self, paragraph: Any) -> str | None:
        """As ``paragraph.style.name if paragraph.style is not None else ""``."""
        style_id = paragraph._p.style
        if style_id not in self._names:
            from docx.enum.style import WD_STYLE_TYPE

            style = self.document.part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
            self._names[style_id] = style.name if style is not None else ""
        return self._names[style_id]
