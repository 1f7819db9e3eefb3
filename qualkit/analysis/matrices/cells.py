"""One cell of a themes or codes matrix: a count, presence, participants, quotes or a summary.

An excerpt is a coded span; the same span with two codes of one theme counts once. Within a table, a
quote already shown in an earlier cell is never shown again (a theme mapped onto several domains,
or two themes sharing a code, would otherwise repeat the same quote).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from qualkit.analysis.quotes import select_quotes
from qualkit.analysis.sources import Excerpt

__all__ = ["cell", "cells_note", "counts_text", "distinct", "people"]


def distinct(excerpts: Iterable[Excerpt]) -> list[Excerpt]:
    """One excerpt per span (a passage with two codes of a theme is one excerpt of that theme); the
    analyst's exemplar wins whichever code it was written on (not the first code in themes.yaml)."""
    items = excerpts if isinstance(excerpts, list) else list(excerpts)
    spans = [(e.transcript, e.start, e.end) for e in items]  # Excerpt.span, without a property call per excerpt
    if len(set(spans)) == len(items):  # the common case: no span twice, nothing to choose
        return list(items)
    seen: dict[tuple, Excerpt] = {}
    for span, e in zip(spans, items):
        first = seen.get(span)
        if first is None or (e.exemplar and not first.exemplar):
            seen[span] = e
    return list(seen.values())


def people(excerpts: Iterable[Excerpt]) -> set[str]:
    """Every participant the excerpts touch."""
    return {p for e in excerpts for p in (e.participants or ((e.participant,) if e.participant else ()))}


def counts_text(excerpts: list[Excerpt]) -> str:
    """"3 excerpts / 2 participants"."""
    n, p = len(excerpts), len(people(excerpts))
    return f"{n} excerpt{'s' if n != 1 else ''} / {p} participant{'s' if p != 1 else ''}"


def cell(excerpts: list[Excerpt], cells: str, quotes: int, quote_chars: int | None, attributes: Sequence[str],
         used: set | None = None, terms: Sequence[str] = ()) -> Any:
    """One cell's value. ``used``: spans already quoted in this table, avoided while others remain
    (a theme mapped onto several domains would otherwise show the same quote in each). ``terms``:
    the words that carry the row's idea, for choosing the sentences of a long quote."""
    excerpts = distinct(excerpts)
    if cells == "compact":  # terminal view: "excerpts/participants"
        return f"{len(excerpts)}/{len(people(excerpts))}" if excerpts else ""
    if cells == "count":
        return len(excerpts)
    if cells == "presence":
        return 1 if excerpts else 0
    if cells == "participants":
        return len(people(excerpts))
    if not excerpts:
        return ""
    fresh = [e for e in excerpts if used is None or e.span not in used]
    picked = select_quotes(fresh, quotes)
    if used is None and len(picked) < min(quotes, len(excerpts)):
        picked += [e for e in select_quotes(excerpts, quotes + len(picked)) if e not in picked][: quotes - len(picked)]
    if used is not None:
        used.update(e.span for e in picked[: quotes if cells == "quotes" else 1])
    chosen = list(dict.fromkeys(e.formatted(quote_chars, attributes, terms=terms) for e in picked))  # never twice in a cell
    if cells == "quotes":
        return "\n".join(chosen)
    return "\n".join([counts_text(excerpts), *chosen[:1]])


def cells_note(cells: str) -> str:
    """What the cells hold, for a table's note."""
    return {"count": "cells: number of coded excerpts", "presence": "cells: 1 = coded at least once, 0 = never",
            "participants": "cells: number of distinct participants",
            "quotes": "cells: illustrative quotes", "summary": "cells: excerpts / participants and the best quote"}[cells]
