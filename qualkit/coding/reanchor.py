"""Re-anchoring codings after a transcript changed, and finding quotes in a transcript's text.

Each coding keeps the text it quotes (DESIGN.md). When the transcript is edited (a typo fixed,
lines re-wrapped, a speaker label corrected) its offsets may no longer point at that text, so the
coding is re-found by its quote, trying in order:

1. ``unchanged``: the quote is still at the old offsets;
2. ``moved`` (method ``exact``): the quote occurs elsewhere; with several occurrences the one
   nearest the old position that is not already coded with the same code;
3. ``moved`` (method ``normalized``): the quote occurs when whitespace is ignored and typographic
   quotes, dashes and the ellipsis are folded to ASCII (re-wrapped lines, "smart" quotes);
4. ``fuzzy``: a rapidfuzz alignment of the quote (case and whitespace folded) with a window of
   the text around the old position, then with the whole text, scoring at least ``threshold``
   (0-100, default 90) as :func:`rapidfuzz.fuzz.ratio` of the quote and the new span;
5. ``lost``: none of these. A lost coding is kept in the file exactly as it was and reported.

:class:`QuoteFinder` holds the matching machinery; the spreadsheet and Word-comment imports use it
to place excerpts too. Nothing here imports pandas.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qualkit.workspace.codings import Coding, CodingError

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

DEFAULT_THRESHOLD = 90.0
# Quotes shorter than this (after folding) are never matched fuzzily: too many false hits.
MIN_FUZZY_LENGTH = 12
# Characters searched on each side of the old position before the whole text is tried.
DEFAULT_WINDOW = 2000

STATUSES = ("unchanged", "moved", "fuzzy", "unquoted", "ambiguous", "lost")
# Quotes shorter than this many words that occur several times are not distinctive enough to move.
MIN_DISTINCT_WORDS = 3

# Typographic characters and their ASCII equivalents; zero-width characters disappear.
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u00ad": "",
}


def fold_text(text: str, *, spaces: str = "remove", casefold: bool = False) -> tuple[str, list[int]]:
    """``text`` with typographic punctuation folded and whitespace removed (``spaces="remove"``)
    or collapsed to single spaces (``"collapse"``); also the original index of each character.

    The index list has one entry per folded character plus a final ``len(text)``.
    """
    out: list[str] = []
    idx: list[int] = []
    last_space = True
    for i, ch in enumerate(text):
        rep = _FOLD.get(ch, ch)
        if rep.isspace():
            if spaces == "remove" or last_space:
                continue
            out.append(" ")
            idx.append(i)
            last_space = True
            continue
        if casefold:
            rep = rep.casefold()
        for c in rep:
            out.append(c)
            idx.append(i)
        if rep:
            last_space = False
    idx.append(len(text))
    return "".join(out), idx


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither begins nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _nearest(spans: Sequence[tuple[int, int]], near: int | None) -> tuple[int, int]:
    if near is None:
        return spans[0]
    return min(spans, key=lambda s: (abs(s[0] - near), s[0]))


@dataclass
class Match:
    """Where a quote was found: ``text[start:end]``, how, how well, among how many candidates."""

    start: int
    end: int
    method: str  # exact | normalized | elided | fuzzy
    score: float = 100.0
    candidates: int = 1


class QuoteFinder:
    """Finds quotes in one text; folded forms of the text are computed once, when first needed."""

    def __init__(self, text: str):
        self.text = text
        self._compact: tuple[str, list[int]] | None = None
        self._loose: tuple[str, list[int]] | None = None

    @property
    def compact(self) -> tuple[str, list[int]]:
        if self._compact is None:
            self._compact = fold_text(self.text, spaces="remove")
        return self._compact

    @property
    def loose(self) -> tuple[str, list[int]]:
        if self._loose is None:
            self._loose = fold_text(self.text, spaces="collapse", casefold=True)
        return self._loose

    # -- stages --------------------------------------------------------------------------
    def exact(self, quote: str) -> list[tuple[int, int]]:
        """Every occurrence of ``quote`` (overlapping ones too), in text order."""
        spans: list[tuple[int, int]] = []
        if not quote:
            return spans
        i = self.text.find(quote)
        while i != -1:
            spans.append((i, i + len(quote)))
            i = self.text.find(quote, i + 1)
        return spans

    def normalized(self, quote: str) -> list[tuple[int, int]]:
        """Occurrences when whitespace is ignored and quotes, dashes and ellipses are folded."""
        folded, _ = fold_text(quote, spaces="remove")
        if not folded:
            return []
        ctext, idx = self.compact
        spans: list[tuple[int, int]] = []
        i = ctext.find(folded)
        while i != -1:
            spans.append(self._back(idx, i, i + len(folded)))
            i = ctext.find(folded, i + 1)
        return spans

    def elided(self, quote: str, max_gap: int | None = None) -> list[tuple[int, int]]:
        """A quote shortened with an ellipsis ("we fax it ... days late"): its first part, then
        its last part after it (within ``max_gap`` characters); the span covers both."""
        folded, _ = fold_text(quote, spaces="collapse")
        parts = [p.strip() for p in folded.split("...")]
        parts = [p for p in parts if p]
        if len(parts) < 2 or min(len(parts[0]), len(parts[-1])) < 4:
            return []
        gap = max_gap if max_gap is not None else max(2000, 10 * len(folded))
        spans = []
        for head in self.normalized(parts[0]):
            tails = [t for t in self.normalized(parts[-1]) if head[1] <= t[0] <= head[1] + gap]
            if tails:
                spans.append((head[0], tails[0][1]))
        return spans

    def fuzzy(self, quote: str, *, near: int | None = None, window: int | None = DEFAULT_WINDOW,
              threshold: float = DEFAULT_THRESHOLD, exclude: Iterable[tuple[int, int]] = (),
              whole: bool = True) -> Match | None:
        """The best approximate occurrence scoring at least ``threshold``: first within ``window``
        characters of ``near``, then (``whole``) anywhere in the text."""
        from rapidfuzz import fuzz

        q, _ = fold_text(quote, spaces="collapse", casefold=True)
        q = q.strip()
        if len(q) < MIN_FUZZY_LENGTH:
            return None
        ltext, idx = self.loose
        excluded = set(exclude)
        regions: list[tuple[int, int]] = []
        if near is not None and window:
            center = bisect.bisect_left(idx, near)
            regions.append((max(0, center - window), min(len(ltext), center + len(q) + window)))
        if whole or not regions:
            regions.append((0, len(ltext)))
        cutoff = max(0.0, threshold - 10)
        for lo, hi in regions:
            if hi - lo < len(q):
                lo, hi = max(0, hi - len(q)), min(len(ltext), lo + len(q))
                if hi - lo < len(q):
                    continue
            al = fuzz.partial_ratio_alignment(q, ltext[lo:hi], score_cutoff=cutoff)
            if al is None or al.score < cutoff:
                continue
            s, e, score = self._refine(q, ltext, lo + al.dest_start, lo + al.dest_end)
            if score < threshold:
                continue
            start, end = _trim(self.text, *self._back(idx, s, e))
            if end <= start or (start, end) in excluded:
                continue
            return Match(start, end, "fuzzy", round(score, 1))
        return None

    def locate(self, quote: str, *, near: int | None = None, threshold: float = DEFAULT_THRESHOLD,
               window: int | None = DEFAULT_WINDOW, exclude: Iterable[tuple[int, int]] = (),
               choose: Callable[[list[tuple[int, int]]], tuple[int, int]] | None = None,
               elided: bool = False) -> Match | None:
        """Exact, then normalized, (then elided), then fuzzy; ``choose`` picks among several
        occurrences (default: the one nearest ``near``, else the first). ``exclude``d spans are
        never returned."""
        excluded = set(exclude)
        stages: list[tuple[str, Callable[[str], list[tuple[int, int]]]]] = [("exact", self.exact), ("normalized", self.normalized)]
        if elided:
            stages.append(("elided", self.elided))
        for method, find in stages:
            spans = [s for s in find(quote) if s not in excluded]
            if spans:
                span = choose(spans) if choose else _nearest(spans, near)
                return Match(span[0], span[1], method, 100.0, len(spans))
        return self.fuzzy(quote, near=near, window=window, threshold=threshold, exclude=excluded)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _back(idx: list[int], s: int, e: int) -> tuple[int, int]:
        """A span of a folded text back in the original text."""
        return idx[s], idx[e - 1] + 1 if e > s else idx[s]

    @staticmethod
    def _refine(q: str, text: str, s: int, e: int) -> tuple[int, int, float]:
        """Move the ends of an alignment to where the quote fits best, then to word boundaries."""
        from rapidfuzz import fuzz

        k = max(3, min(80, len(q) // 6))

        def score(a: int, b: int) -> float:
            return fuzz.ratio(q, text[a:b]) if b > a else 0.0

        best = score(s, e)
        for b in range(max(s + 1, e - k), min(len(text), e + k) + 1):
            sc = score(s, b)
            if sc > best:
                best, e = sc, b
        for a in range(max(0, s - k), min(e - 1, s + k) + 1):
            sc = score(a, e)
            if sc > best:
                best, s = sc, a
        # Whole words: a match that cuts a word in two is extended to include all of it.
        a, b = s, e
        while 0 < a and text[a - 1].isalnum() and text[a].isalnum() and s - a < 30:
            a -= 1
        while b < len(text) and text[b - 1].isalnum() and text[b].isalnum() and b - e < 30:
            b += 1
        if (a, b) != (s, e):
            sc = score(a, b)
            if sc >= best - 3:
                return a, b, max(sc, 0.0)
        return s, e, best


# -- re-anchoring codings ------------------------------------------------------------------

@dataclass
class Reanchored:
    """What became of one coding: status, old and new span, how it was found and how well."""

    coding: Coding
    status: str  # unchanged | moved | fuzzy | unquoted (no quote stored) | ambiguous (not moved) | lost
    new_start: int | None = None
    new_end: int | None = None
    new_text: str | None = None
    method: str | None = None  # exact | normalized | fuzzy (for moved/fuzzy)
    score: float | None = None
    reason: str = ""

    @property
    def old_start(self) -> int:
        return self.coding.start

    @property
    def old_end(self) -> int:
        return self.coding.end

    @property
    def changed(self) -> bool:
        return self.status in ("moved", "fuzzy", "unquoted")

    def updated(self) -> Coding:
        """The coding as it should be written: new span and quote if it moved (or had no quote), else as it was."""
        if self.status == "unquoted" and self.new_text is not None:
            return replace(self.coding, text=self.new_text)
        if not self.changed or self.new_start is None or self.new_end is None or self.new_text is None:
            return self.coding
        return replace(self.coding, start=self.new_start, end=self.new_end, text=self.new_text)

    def as_dict(self) -> dict:
        c = self.coding
        return {"transcript": c.transcript, "code": c.code, "line": c.line, "status": self.status,
                "method": self.method, "score": self.score, "old_start": c.start, "old_end": c.end,
                "new_start": self.new_start, "new_end": self.new_end, "text": c.text,
                "new_text": self.new_text, "reason": self.reason}


def reanchor_codings(codings: Iterable[Coding], texts: dict[str, str], *, threshold: float = DEFAULT_THRESHOLD,
                     window: int = DEFAULT_WINDOW, unreadable: dict[str, str] | None = None) -> list[Reanchored]:
    """Re-find each coding in ``texts`` (transcript id -> text); one result per coding, in order.

    ``unreadable`` maps transcript ids that exist but could not be read to the reason. Codings
    whose quote is found at their old offsets are settled first, so that a moved coding is never
    placed onto a span already holding the same code.
    """
    codings = list(codings)
    unreadable = unreadable or {}
    results: list[Reanchored | None] = [None] * len(codings)
    finders: dict[str, QuoteFinder] = {}
    claimed: dict[tuple[str, str], set[tuple[int, int]]] = {}
    pending: list[int] = []
    for i, c in enumerate(codings):
        text = texts.get(c.transcript)
        if text is None:
            why = unreadable.get(c.transcript)
            results[i] = Reanchored(c, "lost", reason=f"transcript {c.transcript!r} could not be read: {why}" if why
                                    else f"transcript {c.transcript!r} is not in transcripts/")
            continue
        quote = c.text  # once: a checked quote is read back from its transcript
        if not quote:
            if c.end <= len(text):
                results[i] = Reanchored(c, "unquoted", c.start, c.end, text[c.start:c.end], None, None,
                                        "no quoted text stored, so the span cannot be verified; --fix stores the text "
                                        "it covers now")
                claimed.setdefault((c.transcript, c.code), set()).add((c.start, c.end))
            else:
                results[i] = Reanchored(c, "lost", reason=f"span ends past the end of the transcript ({len(text)} characters) "
                                                          "and there is no quoted text to search for")
            continue
        if text[c.start:c.end] == quote:
            results[i] = Reanchored(c, "unchanged", c.start, c.end, quote, "exact", 100.0)
            claimed.setdefault((c.transcript, c.code), set()).add((c.start, c.end))
            continue
        pending.append(i)
    for i in pending:
        c = codings[i]
        text = texts[c.transcript]
        finder = finders.setdefault(c.transcript, QuoteFinder(text))
        taken = claimed.setdefault((c.transcript, c.code), set())
        m = finder.locate(c.text, near=c.start, threshold=threshold, window=window, exclude=taken)
        if m is None:
            results[i] = Reanchored(c, "lost", reason="quoted text not found in the transcript"
                                    + (" (too short for a fuzzy match)" if len(c.text.strip()) < MIN_FUZZY_LENGTH else
                                       f" (no fuzzy match scoring {threshold:g} or more)"))
            continue
        if _ambiguous(finder, c.text, m, near=c.start, taken=taken):
            results[i] = Reanchored(c, "ambiguous", m.start, m.end, text[m.start:m.end], m.method, m.score,
                                    f"the quote fits {m.candidates} places equally well; not moved: correct the "
                                    "offsets by hand or code a longer passage")
            continue
        taken.add((m.start, m.end))
        status = "fuzzy" if m.method == "fuzzy" else "moved"
        reason = f"{m.candidates} occurrences; took the nearest" if m.candidates > 1 else ""
        results[i] = Reanchored(c, status, m.start, m.end, text[m.start:m.end], m.method, m.score, reason)
    return [r for r in results if r is not None]


def _ambiguous(finder: QuoteFinder, quote: str, m: Match, *, near: int, taken: set[tuple[int, int]]) -> bool:
    """Several occurrences and nothing to choose between them: the two nearest are equally near the
    old place, or the quote is too short (under MIN_DISTINCT_WORDS words) to say which passage it was."""
    if m.candidates < 2 or m.method not in ("exact", "normalized"):
        return False
    if len(quote.split()) < MIN_DISTINCT_WORDS:
        return True
    find = finder.exact if m.method == "exact" else finder.normalized
    distances = sorted(abs(s - near) for s, e in find(quote) if (s, e) not in taken)
    return len(distances) > 1 and distances[0] == distances[1]


@dataclass
class ReanchorReport:
    """Re-anchoring of one coder's file; ``applied`` when the file was rewritten."""

    coder: str
    path: Path
    results: list[Reanchored] = field(default_factory=list)
    applied: bool = False

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] += 1
        # unquoted and ambiguous are listed only when they occur (older readers know the other four)
        return {s: n for s, n in out.items() if n or s not in ("unquoted", "ambiguous")}

    @property
    def changed(self) -> list[Reanchored]:
        return [r for r in self.results if r.changed]

    @property
    def lost(self) -> list[Reanchored]:
        return [r for r in self.results if r.status == "lost"]

    @property
    def ambiguous(self) -> list[Reanchored]:
        return [r for r in self.results if r.status == "ambiguous"]

    def as_dict(self) -> dict:
        return {"coder": self.coder, "path": str(self.path), "applied": self.applied, "counts": self.counts(),
                "results": [r.as_dict() for r in self.results]}


def transcript_texts(workspace: Workspace, ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(id -> text, id -> reason it could not be read) for the given transcript ids.

    Ids with no file in transcripts/ are in neither mapping.
    """
    from qualkit.errors import QualkitError

    paths: dict[str, list[Path]] = {}
    for p in workspace.transcript_paths():
        paths.setdefault(p.stem, []).append(p)
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    for tid in sorted(set(ids)):
        found = paths.get(tid)
        if not found:
            continue
        if len(found) > 1:
            errors[tid] = f"two transcripts have this id: {', '.join(p.name for p in found)}"
            continue
        try:
            texts[tid] = workspace.read(found[0]).text
        except QualkitError as exc:
            errors[tid] = str(exc)
    return texts, errors


def reanchor_coder(workspace: Workspace, coder: str, apply: bool = False, *, threshold: float = DEFAULT_THRESHOLD,
                   window: int = DEFAULT_WINDOW) -> ReanchorReport:
    """Re-anchor every coding of ``coder`` against the workspace's current transcripts.

    With ``apply=True`` and anything moved, the coder's file is rewritten (the old one backed up
    in .qualkit/backups/) with the new offsets and quoted text; lost codings stay as they were.
    """
    if apply:  # a rewrite: its read and its write are one step under the workspace lock
        with workspace.state_lock():
            return _reanchor_coder(workspace, coder, apply, threshold, window)
    return _reanchor_coder(workspace, coder, apply, threshold, window)


def _reanchor_coder(workspace: Workspace, coder: str, apply: bool, threshold: float, window: int) -> ReanchorReport:
    path = workspace.coder_file(coder)
    if not path.exists():
        known = ", ".join(workspace.coders()) or "none"
        raise CodingError(f"no codings file for coder {coder!r} (coders: {known})", path)
    codings = workspace.codings(coder)
    texts, unreadable = transcript_texts(workspace, (c.transcript for c in codings))
    report = ReanchorReport(coder, path, reanchor_codings(codings, texts, threshold=threshold, window=window,
                                                          unreadable=unreadable))
    if apply and report.changed:
        workspace.write_codings(coder, [r.updated() for r in report.results])
        report.applied = True
    return report
