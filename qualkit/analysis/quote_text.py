"""The text of a quote: whitespace collapsed, trimmed at a sentence or word end, attributed.

THE one quote trimmer (:func:`trim_quote`): summary templates, rapid matrices, theme tables and the
report all trim an excerpt the same way. A trimmed quote, its ellipsis included, is never longer
than the limit and never ends inside a word. It sits below :mod:`qualkit.analysis.sources` (whose
Excerpt uses it) and :mod:`qualkit.analysis.quotes` (which chooses quotes).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

__all__ = ["DEFAULT_LIMIT", "ELLIPSIS", "MIN_SENTENCE_SHARE", "QUOTE_MARKS", "attribution", "collapse_whitespace",
           "focus_quote", "stem", "trim_quote", "word_stems"]

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


_STOP = frozenset("""a an and are as at be but by can do does for from had has have he her his i if in into is it its
me my no not of on or our she so than that the their them then there they this to too us was we were what when where
which who will with would you your about just like yeah okay um uh really very much more some any all one get got""".split())
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ness", "ies", "ied", "ers", "er", "ed", "es", "ly", "s")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


def stem(word: str) -> str:
    """A crude English stem (the word's lemma for matching: 'uniformed', 'uniforms' -> 'uniform')."""
    w = word.casefold().strip("'-")
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


@lru_cache(maxsize=65536)
def _content_stem(word: str) -> str | None:
    """The stem of a content word, None for a stop word or a 1-2 letter word (words recur: kept)."""
    return stem(word) if word.casefold() not in _STOP and len(word) > 2 else None


def word_stems(text: str) -> set[str]:
    """The stems of a text's content words (stop words and 1-2 letter words left out)."""
    return {s for w in _WORD.findall(text) if (s := _content_stem(w)) is not None}


_PREFIX = 5  # a stem matches a longer one it begins (or that begins it) from this length on


@lru_cache(maxsize=256)
def _matcher(terms: tuple[str, ...]) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The term stems, and each prefix (of ``_PREFIX`` letters or more) of a long stem -> the stems it begins."""
    wanted = frozenset(set().union(*(word_stems(t) for t in terms))) if terms else frozenset()
    begins: dict[str, set[str]] = {}
    for t in wanted:
        for k in range(_PREFIX, len(t) + 1):
            begins.setdefault(t[:k], set()).add(t)
    return wanted, {p: frozenset(ts) for p, ts in begins.items()}


def _score(sentence: str, wanted: frozenset[str], begins: Mapping[str, frozenset[str]]) -> int:
    """How many term stems the sentence carries: a word equal to one, or (both of 5+ letters) one
    beginning the other. The same count as testing every term against every word, without the pairs."""
    words = word_stems(sentence)
    hit = words & wanted
    for w in words:
        if len(w) >= _PREFIX:
            hit |= begins.get(w, frozenset())  # terms that w begins
            hit.update(w[:k] for k in range(_PREFIX, len(w)) if w[:k] in wanted)  # terms that begin w
    return len(hit)


def focus_quote(text: str, terms: Sequence[str], limit: int | None = DEFAULT_LIMIT, ellipsis: str = ELLIPSIS) -> str:
    """The sentence(s) of ``text`` that carry ``terms`` (a code's name, keywords, examples), within ``limit``.

    A quote must show the coded idea, not the first 300 characters of a long turn (Lingard 2019,
    "Beyond the default colon": a quote is evidence for the claim it sits beside). The sentence
    matching most term stems is kept, with its neighbours while they fit; an ellipsis marks each
    cut. No match, or no limit: as :func:`trim_quote`.

    Kept per (text, terms, limit): the matrices and the report of one `run` quote the same passage
    for the same code several times."""
    return _focus_quote(text, tuple(terms), limit, ellipsis)


@lru_cache(maxsize=1024)
def _focus_quote(text: str, terms: tuple[str, ...], limit: int | None, ellipsis: str) -> str:
    flat = collapse_whitespace(text)
    if limit is None or len(flat) <= limit:
        return flat
    wanted, begins = _matcher(terms)
    from qualkit.coding.units import split_sentences

    sentences = split_sentences(flat)
    scores = [_score(flat[a:b], wanted, begins) for a, b in sentences] if wanted else []
    if not scores or max(scores) == 0:
        return trim_quote(flat, limit, ellipsis)
    best = scores.index(max(scores))
    lo = hi = best

    def size(i: int, j: int) -> int:
        return (sentences[j][1] - sentences[i][0] + (len(ellipsis) + 1) * ((sentences[i][0] > 0)
                                                                        + (sentences[j][1] < len(flat))))

    if size(lo, hi) > limit:  # the sentence alone is too long: trim it, mark the cut before it
        head = ellipsis + " " if sentences[best][0] > 0 else ""
        return head + trim_quote(flat[sentences[best][0]:sentences[best][1]], limit - len(head), ellipsis)
    grew = True
    while grew:
        grew = False
        for i, j in ((lo, hi + 1), (lo - 1, hi)):
            if 0 <= i and j < len(sentences) and size(i, j) <= limit:
                lo, hi, grew = i, j, True
                break
    body = flat[sentences[lo][0]:sentences[hi][1]]
    return (ellipsis + " " if sentences[lo][0] > 0 else "") + body + (" " + ellipsis if sentences[hi][1] < len(flat) else "")
