"""Coverage marks (``codings/<coder>.done``) in a REFI-QDA project, where the standard has no element for them.

"This coder finished this transcript" is packed, as qualkit's other fields are
(:func:`qualkit.refiqda.qdc.pack_labelled`), into the ``Description`` of the transcript's own
``TextSource``::

    Coding done by:
    - ana (2026-03-30T17:00:00)
    - ben (2026-03-30T17:00:00)

Why there and not in the project's description (nor a ``User``'s: ``User`` has no description in
the schema): a mark is about one source, and in the source's own description it follows that
source wherever it goes. It reads as what it is to a person who opens the document's properties
(QualCoder shows a source's ``Description`` as the file's memo, NVivo as the source's
description), it survives a rename (NVivo for Mac exports sources under GUID-like names: see
``reference/refi-qda/samples``), and it goes when the source is deleted. Listed by transcript
name in the project's description, marks would point at nothing after a rename, and the NVivo
export there has no project description at all. Another tool's user may write around the block:
it is still found (``Coding done by`` is its signature) and their text is kept apart.
"""
from __future__ import annotations

import re

from qualkit.refiqda.qdc import pack_labelled, unpack_labelled

__all__ = ["DONE_LABEL", "pack_done", "unpack_done"]

DONE_LABEL = "Coding done by"
_ITEM = re.compile(r"^(\S+)(?: \((.*)\))?$", re.S)


def pack_done(lead: str, marks: list[tuple[str, str]]) -> str:
    """A source description: ``lead`` then one ``- coder (done_at)`` line per (coder, done_at)."""
    return pack_labelled(lead, [(DONE_LABEL, [f"{coder} ({when})" if when else coder for coder, when in marks])])


def unpack_done(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A source description's free text and its marks (coder label, done_at); no block: no marks."""
    free, meta = unpack_labelled(text, [DONE_LABEL], signature=DONE_LABEL)
    items = meta.get(DONE_LABEL)
    if isinstance(items, str):  # written on one line by hand: "Coding done by: ana"
        items = [items]
    marks = []
    for item in items or []:
        m = _ITEM.match(str(item).strip())
        if m:
            marks.append((m.group(1), (m.group(2) or "").strip()))
    return free, marks
