"""Illustrative quotes: choosing them reproducibly, trimming them readably, attributing them.

An :class:`~qualkit.analysis.sources.Excerpt` is one coded passage as a reader sees it: the participant's own words (the
research team's turns are left out), who said it and their attributes (role, site, ...), the code,
and the coder's memo. Matrices, theme tables and the report all pick quotes the same way:

**Selection** (:func:`select_quotes`), deterministic for the same codings:

1. codings whose memo contains the word "exemplar" (case-insensitive) come first: the analyst
   has marked them as the quote to use;
2. then the other excerpts;
3. within each group the longest text first, taking **one quote per participant** before a second
   quote from anyone (so a table row shows several voices), ties broken by transcript (natural
   order) and position;
4. a quote is never chosen twice: an excerpt whose span overlaps one already chosen in the same
   transcript, or whose text is the same, is skipped (two coders' near-identical spans, a
   passage coded with two codes of one theme).

**Trimming** (:func:`~qualkit.analysis.quote_text.trim_quote`, the one trimmer, also used by summary
templates and rapid matrices): whitespace and line breaks are collapsed to single spaces; a
quote longer than the limit (default 300 characters) is cut at the last sentence end that keeps
at least 40% of the limit, else at the last word boundary, and never inside a word; an ellipsis
marks the cut ("... the end of a sentence. …", "... the last whole word…"). Sentence ends follow
qualkit.coding.units (abbreviations such as "Dr." do not end a sentence).

**Attribution** (:func:`attribution`): "(FG1-P3, medical)": the participant id and, by default,
their ``role`` from participants.csv; passages from unidentified speakers get the transcript id.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter

from qualkit.analysis.quote_text import (
    DEFAULT_LIMIT,
    ELLIPSIS,
    MIN_SENTENCE_SHARE,
    QUOTE_MARKS,
    attribution,
    collapse_whitespace,
    trim_quote,
)
from qualkit.analysis.sources import EXEMPLAR_WORD, Excerpt
from qualkit.io.naming import natural_key

__all__ = ["DEFAULT_LIMIT", "ELLIPSIS", "EXEMPLAR_WORD", "MIN_SENTENCE_SHARE", "QUOTE_MARKS", "Excerpt", "attribution",
           "collapse_whitespace", "format_quote", "quote_rule", "select_quotes", "trim_quote"]


def format_quote(excerpt: Excerpt, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",)) -> str:
    """“quote” (participant, role)"""
    return excerpt.formatted(limit, fields)


def _order_key(e: Excerpt) -> tuple:
    # Kept on the excerpt: one excerpt is ranked again for every cell, row and table it can be quoted in.
    cached = e._order
    if cached is not None and cached[0] is e.text and cached[2] == e.start and cached[3] == e.end \
            and cached[4] == e.code and cached[5] == e.transcript:
        return cached[1]
    key = (-len(collapse_whitespace(e.text)), natural_key(e.transcript), e.start, e.end, e.code)
    e._order = (e.text, key, e.start, e.end, e.code, e.transcript)
    return key


def select_quotes(excerpts: Iterable[Excerpt], n: int = 3) -> list[Excerpt]:
    """Up to ``n`` distinct excerpts chosen by the rule in the module docstring, in the order chosen."""
    if n <= 0:
        return []
    pinned: list[Excerpt] = []
    rest: list[Excerpt] = []
    for e in excerpts:
        (pinned if e.exemplar else rest).append(e)
    groups = [_Ordered(pinned), _Ordered(rest)]
    chosen: list[Excerpt] = []
    voices: set[str] = set()
    texts: set[str] = set()

    def distinct(e: Excerpt) -> bool:
        if collapse_whitespace(e.text).casefold() in texts:
            return False
        return not any(c.transcript == e.transcript and c.start < e.end and e.start < c.end for c in chosen)

    def take(e: Excerpt) -> None:
        chosen.append(e)
        voices.add(_voice(e))
        texts.add(collapse_whitespace(e.text).casefold())

    for group in groups:
        for new_voices_only in (True, False):
            for e in group:
                if len(chosen) >= n:
                    return chosen
                if e in chosen or not collapse_whitespace(e.text) or not distinct(e):
                    continue
                if new_voices_only and _voice(e) in voices:
                    continue
                take(e)
    return chosen


_TEXT = attrgetter("text")


class _Ordered:
    """A pool in the selection order (``sorted(pool, key=_order_key)``, ties in pool order), sorted
    only as far as it is read: a table cell takes one or two quotes from thousands of passages.

    Collapsing whitespace never lengthens a text, so a passage whose raw text is shorter than the
    collapsed length of the best one ranked so far cannot come before it: exact keys are computed
    (and ranked in a heap) only for passages at least as long as the next one handed out."""

    def __init__(self, pool: list[Excerpt]) -> None:
        self.pool = pool
        n = self.n = len(pool) or 1
        # (-raw length, position) as one int: -raw length is a lower bound of the key's first part
        self.bound = [i - size * n for i, size in enumerate(map(len, map(_TEXT, pool)))]
        heapq.heapify(self.bound)
        self.exact: list[tuple[tuple, int]] = []
        self.done: list[Excerpt] = []                                   # handed out so far, in order

    def _next(self) -> Excerpt | None:
        bound, exact, n = self.bound, self.exact, self.n
        while bound and (not exact or exact[0][0][0] >= bound[0] // n):
            i = heapq.heappop(bound) % n
            heapq.heappush(exact, (_order_key(self.pool[i]), i))
        if not exact:
            return None
        e = self.pool[heapq.heappop(exact)[1]]
        self.done.append(e)
        return e

    def __iter__(self) -> Iterator[Excerpt]:
        i = 0
        while True:
            if i < len(self.done):
                yield self.done[i]
            else:
                e = self._next()
                if e is None:
                    return
                yield e
            i += 1


def _voice(e: Excerpt) -> str:
    return e.participant or f"{e.transcript}:{e.speaker or '?'}"


def quote_rule(limit: int | None = DEFAULT_LIMIT) -> str:
    """One sentence describing how quotes were chosen, for table notes and manifests."""
    trim = f"trimmed to {limit} characters at a sentence or word boundary" if limit else "not trimmed"
    return ("Quotes: codings pinned by the analyst (`themes quote --pin`) or whose memo says 'exemplar' first, then the "
            "longest, one per participant before a second from anyone, no passage twice in a table; a long passage "
            f"is quoted by the sentences that carry the theme's codes (their names, keywords, examples); {trim}; "
            "attributed (participant, role).")
