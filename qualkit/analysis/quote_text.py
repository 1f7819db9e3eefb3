"""The text of a quote: whitespace collapsed, trimmed at a sentence or word end, attributed.

THE one quote trimmer (:func:`trim_quote`): summary templates, rapid matrices, theme tables and the
report all trim an excerpt the same way. A trimmed quote, its ellipsis included, is never longer
than the limit and never ends inside a word. It sits below :mod:`qualkit.analysis.sources` (whose
Excerpt uses it) and :mod:`qualkit.analysis.quotes` (which chooses quotes).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

__all__ = ["DEFAULT_LIMIT", "ELLIPSIS", "MIN_SENTENCE_SHARE", "QUOTE_MARKS", "attribution", "collapse_whitespace",
           "trim_quote"]

DEFAULT_LIMIT = 300
ELLIPSIS = "…"
QUOTE_MARKS = ("\u201c", "\u201d")  # “ ”
#: a sentence cut must keep at least this share of the limit, else the cut is at a word boundary
MIN_SENTENCE_SHARE = 0.4

_TRAILING_PUNCT = " ,;:\u2014\u2013-([{\"'\u201c\u2018"


def collapse_whitespace(text: str) -> str:
    """Runs of spaces, tabs and line breaks become one space; the ends are stripped."""
    return " ".join(str(text).split())


def trim_quote(text: str, limit: int | None = DEFAULT_LIMIT, ellipsis: str = ELLIPSIS) -> str:
    """``text`` with whitespace collapsed, cut to at most ``limit`` characters at a sentence or word end.

    The result (ellipsis included) is never longer than ``limit`` unless the first word alone is.
    """
    text = collapse_whitespace(text)
    if limit is None or len(text) <= limit:
        return text
    from qualkit.coding.units import split_sentences

    # a sentence cut adds " …", a word cut "…"
    room = limit - len(ellipsis) - 1
    ends = [end for _, end in split_sentences(text) if end <= room and end < len(text)]
    if ends and ends[-1] >= MIN_SENTENCE_SHARE * limit:
        return text[:ends[-1]] + " " + ellipsis
    room = limit - len(ellipsis)
    cut = text.rfind(" ", 0, room + 1)  # text[cut] is a space, so text[:cut] ends with a whole word
    while cut > 0:
        piece = text[:cut].rstrip(_TRAILING_PUNCT)
        if piece:
            return piece + ellipsis
        cut = text.rfind(" ", 0, cut)
    first = re.match(r"\S+", text)
    return (first.group(0) if first else text) + ellipsis


def attribution(participant: str | None, attributes: Mapping[str, str] | None = None,
                fields: Sequence[str] = ("role",), fallback: str | None = None) -> str:
    """"(FG1-P3, medical)": the participant id and the named attributes that are filled in."""
    parts = [participant] if participant else ([fallback] if fallback else [])
    for name in fields:
        value = (attributes or {}).get(name)
        if value and str(value).strip():
            parts.append(str(value).strip())
    return f"({', '.join(parts)})" if parts else ""
