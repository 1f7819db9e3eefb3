"""The autocode matcher: spaCy matchers for a codebook's keywords, acronyms, patterns and misspellings.

:class:`AutoCoder` builds the matchers once and finds, in a batch of Docs, every code's hits
(one per code and token span, the best kind kept: exact, lemma, pattern, fuzzy). Word-level work
for a batch is done with numpy, so Python only touches the Docs that match. spaCy, numpy and
rapidfuzz are imported when used (``qualkit --help`` loads none of them).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.coding.autocode_patterns import attrs_used, code_patterns, is_acronym, keyword_variants, pattern_anchors
from qualkit.coding.nlp import MODEL_FEATURES
from qualkit.errors import CodebookError
from qualkit.workspace.codebook import Code

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from qualkit.coding.nlp import Pipeline

__all__ = ["DEFAULT_THRESHOLD", "FUZZY_MIN_LENGTH", "KINDS", "AutoCoder", "Match"]

KINDS = ("exact", "lemma", "pattern", "fuzzy")  # in order of preference for the same span
DEFAULT_THRESHOLD = 90.0
FUZZY_MIN_LENGTH = 4  # shorter words are never corrected
_RANK = {k: i for i, k in enumerate(KINDS)}
_SENT_ATTRS = ("IS_SENT_START", "SENT_START")
_SLOTS = 1 << 18  # slots of the table of words seen (a power of two)
MAX_INFLECTED = 2000  # word sequences one keyword spelling may expand to on LOWER (else: LEMMA matcher)


@dataclass(slots=True)
class Match:
    """One keyword/pattern hit inside a Doc: character offsets into the Doc's text."""

    code: str
    kind: str  # exact | lemma | pattern | fuzzy
    start: int
    end: int
    text: str
    term: str  # the keyword as written, or "pattern N"
    score: float | None = None  # fuzzy similarity (0-100)

    def describe(self) -> str:
        """How the memo says it: ``"faxed" lemma of "fax"``."""
        quoted = f'"{self.text}"'
        if self.kind == "exact":
            return f"{quoted} exact"
        if self.kind == "lemma":
            return f'{quoted} lemma of "{self.term}"'
        if self.kind == "pattern":
            return f"{quoted} {self.term}"
        return f'{quoted} fuzzy {self.score:.0f} of "{self.term}"'


def _keyword_terms(codes: list[Code]) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]:
    """Keywords by normalized form -> [(code id, keyword as written)]: (lower-case ones, acronyms)."""
    lower_terms: dict[str, list[tuple[str, str]]] = {}
    orth_terms: dict[str, list[tuple[str, str]]] = {}
    for code in codes:
        seen: set[str] = set()
        for kw in code.keywords:
            kw = " ".join(str(kw).split())
            if not kw or kw.casefold() in seen:
                continue
            seen.add(kw.casefold())
            if is_acronym(kw):
                orth_terms.setdefault(kw, []).append((code.id, kw))
            else:
                lower_terms.setdefault(kw.lower(), []).append((code.id, kw))
    return lower_terms, orth_terms


class AutoCoder:
    """Matchers for a set of codes, built once; :meth:`match` finds every hit in a Doc.

    One PhraseMatcher per attribute (ORTH for acronyms, LOWER, LEMMA, and NORM for fuzzy
    corrections), one token Matcher for patterns: each Doc is scanned a fixed number of times
    whatever the number of terms.
    """

    def __init__(self, codes: Iterable[Code], pipeline: Pipeline, *, fuzzy: bool = True,
                 threshold: float = DEFAULT_THRESHOLD, source: Path | None = None):
        self.pipeline = pipeline
        self.fuzzy = fuzzy
        self.threshold = float(threshold)
        self.warnings: list[str] = []
        self.corrections: dict[str, tuple[str, float, int]] = {}
        self.strings = pipeline.nlp.vocab.strings
        codes = list(codes)
        lower_terms, orth_terms = _keyword_terms(codes)
        self.keys: dict[int, list[tuple[str, str]]] = {}
        self.forms: dict[int, frozenset[str]] = {}  # keyword key -> its spellings, lower-case
        self.needs_lemmas = True  # False: Docs come without lemmas (pipe_tuples(lemmas=False))
        self._kw_first: Any = None  # first words of the keyword phrases on LOWER (None: not known)
        self.inflected_words: set[str] = set()  # the words of the keyword phrases matched on LOWER
        self._add_acronyms(orth_terms)
        self._add_keywords(lower_terms)
        self._add_patterns(codes, source)
        self._init_fuzzy()

    def _add_acronyms(self, orth_terms: dict[str, list[tuple[str, str]]]) -> None:
        """One ORTH PhraseMatcher for the keywords written in capitals."""
        import numpy as np
        from spacy.matcher import PhraseMatcher

        pipeline, vocab = self.pipeline, self.pipeline.nlp.vocab
        orth = PhraseMatcher(vocab, attr="ORTH")
        orth_first: set[int] = set()  # first word of each acronym keyword: Docs without any skip ORTH
        for kw, owners in orth_terms.items():
            docs = [d for d in pipeline.nlp.tokenizer.pipe(keyword_variants(kw)) if len(d)]
            if docs:
                orth.add(self._key("O", kw, owners), docs)
                orth_first.update(d[0].orth for d in docs)
        self.orth: Any = orth if orth_terms else None
        self._orth_first = np.array(sorted(orth_first), dtype="uint64")

    def _add_keywords(self, lower_terms: dict[str, list[tuple[str, str]]]) -> None:
        """LOWER, LEMMA (and, for fuzzy matching, NORM) PhraseMatchers for the other keywords."""
        import numpy as np
        from spacy.matcher import PhraseMatcher

        pipeline, vocab = self.pipeline, self.pipeline.nlp.vocab
        self.lower: Any = None
        self.lemma: Any = None
        self.norm: Any = None
        self.term_words: set[str] = set()
        if lower_terms:
            from spacy.attrs import LOWER, NORM

            # With a lookup lemmatizer every LOWER match is also a LEMMA match, so one LEMMA
            # matcher finds both and a hit is exact when its words are the keyword's (see _phrases).
            self.lower = None if pipeline.lemma_from_lower else PhraseMatcher(vocab, attr="LOWER")
            self.lemma = PhraseMatcher(vocab, attr="LEMMA")
            self.norm = PhraseMatcher(vocab, attr="NORM") if self.fuzzy else None
            variants = {kw: keyword_variants(kw) for kw in lower_terms}
            flat = [v for vs in variants.values() for v in vs]
            lemma_docs = dict(zip(flat, pipeline.pipe(flat)))
            inflected = self._inflected(lemma_docs) if pipeline.lemma_from_lower else None
            if inflected is not None:  # lemma matches without lemmatizing every Doc: on LOWER
                self.lemma = PhraseMatcher(vocab, attr="LOWER")
                self.needs_lemmas = False
                # a Doc holding none of these first words is not given to the matcher
                firsts = {d[0].lower for ds in inflected.values() for d in ds if len(d)}
                self._kw_first = np.array(sorted(firsts), dtype="uint64")
            for kw, owners in lower_terms.items():
                docs = [pipeline.make_doc(v) for v in variants[kw]]
                docs = [d for d in docs if len(d)]
                if not docs:
                    continue
                key = self._key("K", kw, owners)
                if self.lower is not None:
                    self.lower.add(key, docs)
                self.forms[self.strings[key]] = frozenset(v.lower() for v in variants[kw])
                if inflected is not None:
                    self.lemma.add(key, [d for v in variants[kw] for d in inflected[v]])
                else:
                    self.lemma.add(key, [lemma_docs[v] for v in variants[kw] if len(lemma_docs[v])])
                if self.norm is not None:
                    for doc in docs:
                        norms: Any = np.asarray(doc.to_array(LOWER), dtype="uint64").reshape(-1, 1)
                        doc.from_array([NORM], norms)
                        self.term_words.update(t.lower_ for t in doc if t.is_alpha and len(t) >= FUZZY_MIN_LENGTH)
                    self.norm.add(key, docs)

    def _inflected(self, lemma_docs: dict[str, Any]) -> dict[str, list[Any]] | None:
        """Per keyword spelling, LOWER phrase patterns of every word sequence with its lemmas, or None.

        With the lookup lemmatizer a word's lemma depends on its lower-case form alone, so the
        words a LEMMA pattern matches are known in advance (:meth:`Pipeline.lemma_forms`): matching
        them on LOWER gives the same hits, and Docs need no lemmas. None when some keyword would
        need more than ``MAX_INFLECTED`` sequences (the LEMMA matcher is used then).
        """
        from spacy.tokens import Doc

        vocab, out = self.pipeline.nlp.vocab, {}
        for variant, doc in lemma_docs.items():
            slots = [self.pipeline.lemma_forms(t.lemma_) for t in doc]
            if math.prod(len(f) for f in slots) > MAX_INFLECTED:
                return None
            for forms in slots:
                self.inflected_words.update(forms)
            out[variant] = [Doc(vocab, words=list(words)) for words in itertools.product(*slots)] if slots else []
        return out

    def _add_patterns(self, codes: list[Code], source: Path | None) -> None:
        """One token Matcher for every code's patterns the pipeline can run; the words each requires."""
        from spacy.matcher import Matcher

        pipeline, vocab = self.pipeline, self.pipeline.nlp.vocab
        self.patterns: Any = None
        self.pattern_keys: dict[int, tuple[str, str]] = {}
        self.need_sents = False
        # per pattern, the words a Doc must hold for it to match (None: some pattern needs none);
        # the token Matcher walks every token in Python, so it only runs on Docs that could match
        self._anchors: list[list[tuple[int, frozenset[int]]]] | None = []
        features = pipeline.features
        for code in codes:
            for n, pat in enumerate(code_patterns(code, source), 1):
                used = attrs_used(pat)
                missing = sorted((used & set(MODEL_FEATURES)) - features)
                if missing:
                    self.warnings.append(f"code {code.id!r} pattern {n} uses {', '.join(missing)}, which the "
                                         f"{pipeline.name} pipeline does not assign; skipped (set nlp.model in "
                                         "qualkit.yaml to an installed trained pipeline such as en_core_web_sm)")
                    continue
                if used & set(_SENT_ATTRS):
                    self.need_sents = True
                if self.patterns is None:
                    self.patterns = Matcher(vocab, validate=True)
                name = f"P\x1f{code.id}\x1f{n}"
                try:
                    self.patterns.add(name, [pat])
                except Exception as exc:  # noqa: BLE001 - spaCy's MatchPatternError, ValueError, KeyError
                    detail = " ".join(str(exc).split())
                    raise CodebookError(f"code {code.id!r}: pattern {n} is not a valid spaCy token pattern ({detail})",
                                        source, code.line) from None
                self.pattern_keys[self.strings.add(name)] = (code.id, f"pattern {n}")
                need = [self._anchor(space, alts) for space, alts in pattern_anchors(pat)]
                if self._anchors is not None:
                    self._anchors = self._anchors + [need] if need else None

    def _anchor(self, space: int, alts: frozenset[str]) -> tuple[int, frozenset[int]]:
        """A pattern's required word as hashes; without lemmas, a lemma becomes its lower-case forms."""
        if space == 1 and not self.needs_lemmas:
            return 0, frozenset(self.strings.add(f) for w in alts for f in self.pipeline.lemma_forms(w))
        return space, frozenset(self.strings.add(w) for w in alts)

    def _init_fuzzy(self) -> None:
        """Per distinct word, the correction (term word hash, score); the words seen so far."""
        import numpy as np

        pipeline = self.pipeline
        self._fz: dict[int, tuple[int, float]] = {}
        self._seen: set[int] = set()  # words already looked at (when the pipeline does not list them)
        self._slots: Any = None  # hash table of seen words (see _unseen)
        self._seen_pos = 0  # position in the pipeline's list of words seen (Pipeline.new_words)
        self._hits = np.empty(0, dtype="uint64")
        self._buckets: dict[int, list[str]] = {}
        self._word_hash = {w: self.strings.add(w) for w in self.term_words}
        self._hash_word = {h: w for w, h in self._word_hash.items()}
        if self.norm is None or not self.term_words:
            self.norm = None
        self._known = pipeline.dictionary_array if self.norm is not None else None
        first: tuple[set[int], set[int]] = (set(), set())
        for need in self._anchors or []:
            space, alts = need[0]
            first[space].update(alts)
        self._first = tuple(np.array(sorted(x), dtype="uint64") for x in first)

    def phrase_words_with(self, part: str) -> bool:
        """True if a word of some keyword phrase holds ``part`` (e.g. a blank line: see autocode_batch)."""
        return any(part in w for w in self.inflected_words)

    def _key(self, prefix: str, kw: str, owners: list[tuple[str, str]]) -> str:
        name = f"{prefix}\x1f{kw}"
        self.keys[self.strings.add(name)] = owners
        return name

    # -- fuzzy corrections --------------------------------------------------------------------
    def _bucket(self, n: int) -> list[str]:
        """Term words whose length allows a ratio >= threshold against a word of length n."""
        got = self._buckets.get(n)
        if got is None:
            t = max(self.threshold, 1.0) / 100.0
            lo, hi = n * t / (2 - t) - 1e-9, n * (2 - t) / t + 1e-9
            got = self._buckets[n] = sorted(w for w in self.term_words if lo <= len(w) <= hi)
        return got

    def _correct(self, h: int) -> tuple[int, float] | None:
        """The correction of a word that is neither a dictionary word nor a keyword word, or None."""
        word = self.strings[h]
        if len(word) < FUZZY_MIN_LENGTH or not word.isalpha() or word in self.term_words:
            return None
        choices = self._bucket(len(word))
        if not choices:
            return None
        from rapidfuzz import fuzz, process

        best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=self.threshold)
        if best is None:
            return None
        return (self._word_hash[best[0]], float(best[1]))

    def _pattern_docs(self, lowers, lemmas, doc_of) -> set[int] | None:
        """Docs (positions in the batch) that hold every required word of some pattern (None: all)."""

        if self._anchors is None:
            return None
        hit = _member(lowers, self._first[0])
        if lemmas is not None:
            hit |= _member(lemmas, self._first[1])
        out = set()
        for i in set(doc_of[hit].tolist()):  # few Docs: check them word by word
            rows = doc_of == i
            sets = (set(lowers[rows].tolist()), set(lemmas[rows].tolist()) if lemmas is not None else set())
            if any(all(not sets[space].isdisjoint(alts) for space, alts in need) for need in self._anchors):
                out.add(i)
        return out

    def _fuzzy_docs(self, lowers, doc_of) -> dict[int, list[int]]:
        """Learn the corrections of the batch's new words; Doc -> batch positions of its corrected words."""
        import numpy as np

        fed = self.pipeline.new_words(self._seen_pos) if self.needs_lemmas else None
        if fed is not None:  # the lemmatizer lists each distinct word once: no per-token work here
            words, self._seen_pos = fed
            new = np.array(words, dtype="uint64")
        else:
            new = self._unseen(lowers)
        if len(new):
            unknown = new[~_member(new, self._known)]
            found = []
            for h in unknown.tolist():
                fix = self._correct(h)
                if fix is not None:
                    self._fz[h] = fix
                    found.append(h)
            if found:
                self._hits = np.sort(np.concatenate((self._hits, np.array(found, dtype="uint64"))))
        if not len(self._hits):
            return {}
        where = np.flatnonzero(_member(lowers, self._hits))
        out: dict[int, list[int]] = {}
        for pos, i in zip(where.tolist(), doc_of[where].tolist()):
            out.setdefault(i, []).append(pos)
        return out

    def _unseen(self, lowers):
        """The distinct words of ``lowers`` not looked at before (now marked seen).

        A direct-mapped table of hashes answers "seen" for almost every word at numpy speed;
        the few words it cannot vouch for (new, or sharing a slot) are checked in the exact set.
        """
        import numpy as np

        if self._slots is None:
            self._slots = np.zeros(_SLOTS, dtype="uint64")
        slots, mask = self._slots, np.uint64(_SLOTS - 1)
        maybe = np.unique(lowers[slots[lowers & mask] != lowers])
        if not len(maybe):
            return maybe
        slots[maybe & mask] = maybe
        seen = self._seen
        new = [h for h in maybe.tolist() if h not in seen]
        seen.update(new)
        return np.array(new, dtype="uint64")

    def _fuzzy(self, doc, lowers, positions: list[int]) -> list[tuple[int, int, int, float]]:
        """``(key, start, end, score)`` of keyword matches needing at least one corrected word.

        ``lowers``: the Doc's LOWER column; ``positions``: its tokens that have a correction.
        """
        from spacy.attrs import NORM

        cache = self._fz
        norms = lowers.copy()
        scores: dict[int, float] = {}
        for i in positions:
            norms[i], scores[i] = cache[int(lowers[i])]
        doc.from_array([NORM], norms.reshape(-1, 1))
        out = []
        for mid, s, e in self.norm(doc):
            fixed = [i for i in range(s, e) if i in scores]
            if not fixed:
                continue  # no corrected word: an exact match, found already
            out.append((mid, s, e, min(scores[i] for i in fixed)))
            for i in fixed:
                h = int(lowers[i])
                word = self.strings[h]
                target, sc = cache[h]
                prev = self.corrections.get(word)
                self.corrections[word] = (self._hash_word[target], sc, (prev[2] if prev else 0) + 1)
        return out

    # -- matching ------------------------------------------------------------------------------
    def match(self, doc: Doc, text: str | None = None) -> list[Match]:
        """Every code's hits in ``doc`` (one per code and token span, the best kind kept), in text order.

        ``text`` is ``doc.text`` when the caller has it (spaCy rebuilds it token by token).
        """
        return self.match_many([doc], [text if text is not None else doc.text])[0]

    def match_many(self, docs: list, texts: list[str]) -> list[list[Match]]:
        """:meth:`match` for a batch of Docs (``texts[i]`` is ``docs[i].text``).

        The work that looks at every word (new words for fuzzy correction, words that patterns
        require) is done once per batch with numpy, so Python only touches the Docs that match.
        """
        import numpy as np
        from spacy.attrs import LEMMA, LOWER, ORTH

        n = len(docs)
        sizes = [len(d) for d in docs]
        pattern_docs: set[int] | None = set()
        fuzzy_docs: dict[int, list[int]] = {}
        orth_docs: set[int] | None = None  # None: every Doc
        kw_docs: set[int] | None = None
        # the word columns this batch needs, and only those (Doc.to_array costs per attribute)
        anchored = self.patterns is not None and self._anchors is not None
        wants = ((LOWER, self.norm is not None or anchored or self._kw_first is not None),
                 (LEMMA, anchored and self.needs_lemmas), (ORTH, self.orth is not None))
        need = [a for a, wanted in wants if wanted]
        if need and sum(sizes):
            cat = np.concatenate([d.to_array(need) for d in docs if len(d)]).reshape(-1, len(need))
            col = {a: cat[:, i] for i, a in enumerate(need)}
            doc_of = np.repeat(np.arange(n), sizes)
            base = [0, *itertools.accumulate(sizes)]
            if anchored:
                pattern_docs = self._pattern_docs(col[LOWER], col.get(LEMMA), doc_of)
            if self.norm is not None:
                fuzzy_docs = self._fuzzy_docs(col[LOWER], doc_of)
            if self.orth is not None:
                orth_docs = set(doc_of[_member(col[ORTH], self._orth_first)].tolist())
            if self._kw_first is not None:
                kw_docs = set(doc_of[_member(col[LOWER], self._kw_first)].tolist())
        if self.patterns is not None and not anchored:
            pattern_docs = None
        out: list[list[Match]] = []
        for i, doc in enumerate(docs):
            if not sizes[i]:
                out.append([])
                continue
            found = self._phrases(doc, orth_docs is None or i in orth_docs, kw_docs is None or i in kw_docs,
                                  self.patterns is not None and (pattern_docs is None or i in pattern_docs), texts[i])
            if i in fuzzy_docs:
                keys = self.keys
                lo = base[i]
                for mid, s, e, sc in self._fuzzy(doc, col[LOWER][lo:base[i + 1]], [p - lo for p in fuzzy_docs[i]]):
                    for code, term in keys[mid]:
                        found.setdefault((code, s, e), ("fuzzy", term, sc))
            out.append(self._resolve(doc, texts[i], found) if found else [])
        return out

    def _phrases(self, doc, run_orth: bool, run_keywords: bool, run_patterns: bool,
                 text: str) -> dict[tuple[str, int, int], tuple[str, str, float | None]]:
        """``(code, start token, end token) -> (kind, term, score)``, the best kind per span.

        Kinds are added best first (exact, lemma, pattern), so the first one recorded stays,
        except that an exact spelling found by the LEMMA matcher replaces a lemma hit.
        """
        found: dict[tuple[str, int, int], tuple[str, str, float | None]] = {}
        keys = self.keys
        for matcher in (self.orth if run_orth else None, self.lower):
            if matcher is not None:
                for mid, s, e in matcher(doc):
                    for code, term in keys[mid]:
                        found.setdefault((code, s, e), ("exact", term, None))
        if self.lemma is not None and run_keywords:
            lemma_hits = self.lemma(doc)
            if self.lower is not None:
                for mid, s, e in lemma_hits:
                    for code, term in keys[mid]:
                        found.setdefault((code, s, e), ("lemma", term, None))
            else:  # exact when the words are spelled as the keyword (lower case)
                forms = self.forms
                for mid, s, e in lemma_hits:
                    start, end = _chars(doc, s, e)
                    kind = "exact" if text[start:end].lower() in forms[mid] else "lemma"
                    for code, term in keys[mid]:
                        prev = found.get((code, s, e))
                        if prev is None or (kind == "exact" and prev[0] != "exact"):
                            found[(code, s, e)] = (kind, term, None)
        if run_patterns:
            if not self.needs_lemmas:
                self.pipeline.lemmatize(doc)
            if self.need_sents and not doc.has_annotation("SENT_START"):
                self.pipeline.sentencizer(doc)
            pattern_keys = self.pattern_keys
            for mid, s, e in self.patterns(doc):
                code, label = pattern_keys[mid]
                found.setdefault((code, s, e), ("pattern", label, None))
        return found

    @staticmethod
    def _resolve(doc, text: str, found: dict) -> list[Match]:
        """Matches with character offsets into ``text``, in text order."""
        out = []
        for (code, s, e), (kind, term, score) in found.items():
            start, end = _chars(doc, s, e)
            out.append(Match(code, kind, start, end, _quote(text, start, end), term, score))
        out.sort(key=_match_order)
        return out


def _chars(doc, s: int, e: int) -> tuple[int, int]:
    """Character offsets of tokens ``s:e`` of a Doc."""
    last = doc[e - 1]
    return doc[s].idx, last.idx + len(last)


def _member(values, sorted_array):
    """Boolean mask: which of ``values`` are in ``sorted_array`` (uint64, sorted, unique)."""
    import numpy as np

    if not len(sorted_array):
        return np.zeros(len(values), dtype=bool)
    if len(values) > 1000 and len(sorted_array) < 8192:
        # a batch against a few words: a bitmap of their hashes' low bits rules out most words at once
        low = np.uint64(0xFFFF)
        bits = np.zeros(0x10000, dtype=bool)
        bits[sorted_array & low] = True
        maybe = np.flatnonzero(bits[values & low])
        out = np.zeros(len(values), dtype=bool)
        out[maybe] = _searched(values[maybe], sorted_array)
        return out
    return _searched(values, sorted_array)


def _searched(values, sorted_array):
    """:func:`_member` by binary search."""
    import numpy as np

    pos = np.searchsorted(sorted_array, values)
    pos[pos == len(sorted_array)] = 0
    return sorted_array[pos] == values


def _quote(text: str, start: int, end: int) -> str:
    """The matched span as one line: runs of whitespace (a line break inside a match) become one space."""
    quote = text[start:end]
    if "  " in quote or "\n" in quote or "\t" in quote:
        quote = " ".join(quote.split())
    return quote


def _match_order(m: Match):
    return (m.start, m.end, m.code, _RANK[m.kind])
