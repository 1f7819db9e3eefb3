"""Illustrative quotes: choosing them reproducibly, trimming them readably, attributing them.

An :class:`Excerpt` is one coded passage as a reader sees it: the participant's own words (the
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

**Trimming** (:func:`trim_quote`): whitespace and line breaks are collapsed to single spaces; a
quote longer than the limit (default 300 characters) is cut at the last sentence end that keeps
at least 40% of the limit, else at the last word boundary, and never inside a word; an ellipsis
marks the cut ("... the end of a sentence. …", "... the last whole word…"). Sentence ends follow
qualkit.coding.units (abbreviations such as "Dr." do not end a sentence).

**Attribution** (:func:`attribution`): "(FG1-P3, medical)": the participant id and, by default,
their ``role`` from participants.csv; passages from unidentified speakers get the transcript id.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DEFAULT_LIMIT = 300
ELLIPSIS = "…"
EXEMPLAR_WORD = "exemplar"
QUOTE_MARKS = ("\u201c", "\u201d")  # “ ”
#: a sentence cut must keep at least this share of the limit, else the cut is at a word boundary
MIN_SENTENCE_SHARE = 0.4

_TRAILING_PUNCT = " ,;:\u2014\u2013-([{\"'\u201c\u2018"


@dataclass
class Excerpt:
    """One coded passage: the participant's words, who said them and the code put on them."""

    transcript: str
    start: int
    end: int
    code: str
    text: str                                   # the quoted words (whitespace as in the transcript)
    memo: str = ""
    participant: str | None = None              # who said the quoted words (None: unidentified)
    participants: tuple[str, ...] = ()          # every participant in the coded span (facilitators left out)
    speaker: str | None = None                  # the speaker label in the transcript
    attributes: dict[str, str] = field(default_factory=dict)  # the participant's role, site, ...
    coders: tuple[str, ...] = ()                # who applied the code (several when pooled)
    turn: int | None = None                     # 0-based index of the quoted turn

    @property
    def exemplar(self) -> bool:
        """The coder's memo marks this passage as an exemplar quote."""
        return EXEMPLAR_WORD in (self.memo or "").casefold()

    @property
    def span(self) -> tuple[str, int, int]:
        return (self.transcript, self.start, self.end)

    def quote(self, limit: int | None = DEFAULT_LIMIT) -> str:
        """The text, trimmed to ``limit`` characters (None: whole, whitespace collapsed)."""
        return trim_quote(self.text, limit)

    def attribution(self, fields: Sequence[str] = ("role",)) -> str:
        return attribution(self.participant, self.attributes, fields, fallback=self.transcript)

    def formatted(self, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",)) -> str:
        """“quote” (FG1-P3, medical)"""
        return format_quote(self, limit, fields)

    def as_dict(self, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",)) -> dict:
        return {"transcript": self.transcript, "start": self.start, "end": self.end, "code": self.code,
                "participant": self.participant, "attributes": dict(self.attributes), "coders": list(self.coders),
                "memo": self.memo, "exemplar": self.exemplar, "quote": self.quote(limit),
                "attribution": self.attribution(fields)}


def collapse_whitespace(text: str) -> str:
    """Runs of spaces, tabs and line breaks become one space; the ends are stripped."""
    return " ".join(text.split())


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


def attribution(participant: str | None, attributes: dict | None = None, fields: Sequence[str] = ("role",),
                fallback: str | None = None) -> str:
    """"(FG1-P3, medical)": the participant id and the named attributes that are filled in."""
    parts = [participant] if participant else ([fallback] if fallback else [])
    for name in fields:
        value = (attributes or {}).get(name)
        if value and str(value).strip():
            parts.append(str(value).strip())
    return f"({', '.join(parts)})" if parts else ""


def format_quote(excerpt: Excerpt, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",)) -> str:
    """“quote” (participant, role)"""
    who = excerpt.attribution(fields)
    text = f"{QUOTE_MARKS[0]}{excerpt.quote(limit)}{QUOTE_MARKS[1]}"
    return f"{text} {who}" if who else text


def _natural(text: str):
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", text)]


def _order_key(e: Excerpt):
    return (-len(collapse_whitespace(e.text)), _natural(e.transcript), e.start, e.end, e.code)


def select_quotes(excerpts: Iterable[Excerpt], n: int = 3) -> list[Excerpt]:
    """Up to ``n`` distinct excerpts chosen by the rule in the module docstring, in the order chosen."""
    pool = sorted(excerpts, key=_order_key)
    groups = [[e for e in pool if e.exemplar], [e for e in pool if not e.exemplar]]
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


def _voice(e: Excerpt) -> str:
    return e.participant or f"{e.transcript}:{e.speaker or '?'}"


def quote_rule(limit: int | None = DEFAULT_LIMIT) -> str:
    """One sentence describing how quotes were chosen, for table notes and manifests."""
    trim = f"trimmed to {limit} characters at a sentence or word boundary" if limit else "not trimmed"
    return ("Quotes: codings whose memo says 'exemplar' first, then the longest, one per participant before a "
            f"second from anyone, no passage twice; {trim}; attributed (participant, role).")
