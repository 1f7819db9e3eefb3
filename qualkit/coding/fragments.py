"""Where typed words are in a unit: the quoted fragments of `qualkit code` commands.

A coder types a few words of the unit (``3 "no bus out there"``); :func:`locate` finds them
exactly, then ignoring case, spacing and quote/dash style, and ``from ... to`` spans.
"""
from __future__ import annotations

import re

from qualkit.coding.session_views import CommandError

__all__ = ["locate", "short", "split_quote", "tail"]


_LOOSE = {
    "'": "['’‘`]", "’": "['’‘`]", "‘": "['’‘`]", "`": "['’‘`]",
    '"': '["“”]', "“": '["“”]', "”": '["“”]',
    "-": "[-–—]", "–": "[-–—]", "—": "[-–—]",
}
_RANGE_SEP = re.compile(r"\s+(?:\.\.\.|…)\s+")


def _loose_pattern(fragment: str) -> re.Pattern[str]:
    parts = []
    for token in re.split(r"(\s+)", fragment):
        if not token:
            continue
        if token.isspace():
            parts.append(r"\s+")
        else:
            parts.append("".join(_LOOSE.get(ch, re.escape(ch)) for ch in token))
    return re.compile("".join(parts), re.IGNORECASE)


def _find(text: str, start: int, end: int, fragment: str) -> list[tuple[int, int]]:
    """Matches of ``fragment`` in text[start:end]: exact ones, else case/space/quote-insensitive ones."""
    hits, i = [], text.find(fragment, start, end)
    while i >= 0:
        hits.append((i, i + len(fragment)))
        i = text.find(fragment, i + 1, end)
    if hits:
        return hits
    return [(m.start(), m.end()) for m in _loose_pattern(fragment).finditer(text, start, end)]


def locate(text: str, start: int, end: int, fragment: str) -> tuple[int, int, str]:
    """Where a typed fragment is in ``text[start:end]``: (start, end, note about ambiguity).

    Tried in order: the exact fragment; the fragment ignoring case, spacing and quote/dash style;
    and, when it contains `` ... `` (or `` … ``), the span from the first match of the words
    before it to the end of the first match after that of the words after it.
    Raises CommandError when nothing matches.
    """
    frag = fragment.strip()
    if not frag:
        raise CommandError("empty quote: type some words of the unit between the quotes")
    hits = _find(text, start, end, frag)
    if hits:
        note = f" (found {len(hits)} times; used the first, add words to pick another)" if len(hits) > 1 else ""
        return hits[0][0], hits[0][1], note
    parts = _RANGE_SEP.split(frag, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        first = _find(text, start, end, parts[0].strip())
        if first:
            last = _find(text, first[0][1], end, parts[1].strip())
            if last:
                return first[0][0], last[0][1], ""
            raise CommandError(f"found {parts[0].strip()!r} but not {parts[1].strip()!r} after it in this unit")
    raise CommandError(f"not found in this unit: {frag!r} (copy a few words exactly as they appear)")


def split_quote(text: str) -> tuple[str, str | None]:
    """``3 7 "some words"`` -> (``3 7 ``, ``some words``); (text, None) without a quote."""
    m = re.search(r"[\"“”]", text)
    if not m:
        return text, None
    quote = text[m.end():]
    quote = re.sub(r"[\"“”]\s*$", "", quote)
    return text[: m.start()], quote


def short(text: str, n: int = 60) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def tail(text: str, n: int = 90) -> str:
    """The last ``n`` characters of ``text`` on one line, starting at a word."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[-n:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < 20 else cut)
