"""Local auto-coding suggestions: a codebook's keywords and token patterns, matched with spaCy.

A deductive first pass that never leaves the machine. For every active code of a codebook:

* **keywords** (one or more words each) match on the lower-case text (``exact``) and on the
  lemmas (``lemma``: "faxed", "faxes" for the keyword "fax"); a keyword written in capitals
  (an acronym such as ``ED``, ``PORT``, ``HIPAA``) matches only in capitals;
* **patterns** are spaCy ``Matcher`` token patterns (``pattern``); a pattern written as a flat
  list of token dicts is one pattern. ``LEMMA`` values compare lower-case. Patterns that need a
  trained pipeline's annotations (``POS``, ``TAG``, ``DEP``, ...) are skipped with a warning when
  only the blank pipeline is available (see :mod:`qualkit.coding.nlp`);
* **fuzzy** (optional) catches misspellings and transcription errors ("naloxon",
  "buprenorphene"): a word that is not itself a keyword word and not a dictionary word is
  compared (rapidfuzz ``fuzz.ratio``, ``threshold`` 0-100) with the keyword words of about its
  length, once per distinct word; a keyword whose words all match, at least one of them
  fuzzily, is a ``fuzzy`` match with the lowest such score.

A match codes its whole unit: the turn, or the sentence, with offsets into the transcript such
that ``text[start:end]`` is the unit. Sentences are those of :func:`qualkit.coding.units.split_sentences`,
the same units ``qualkit agree --unit sentence`` compares, so suggestions line up with coders'
sentence units. Turns of the research team (facilitator roles in participants.csv) are skipped unless
``include_facilitators``. The memo of each suggestion lists what matched and how.

Suggestions belong to an **auto coder**: ``auto`` or a name ending in ``-auto`` (e.g.
``heif-auto``), never a person's name, so they cannot mix with a human coder's file. Running
again replaces that file (the previous version goes to .qualkit/backups/).
"""
from __future__ import annotations

import bisect
import itertools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError

AUTO_CODER = "auto"
AUTO_SUFFIX = "-auto"
UNITS = ("turn", "sentence")
KINDS = ("exact", "lemma", "pattern", "fuzzy")  # in order of preference for the same span
DEFAULT_THRESHOLD = 90.0
FUZZY_MIN_LENGTH = 4  # shorter words are never corrected
MEMO_PREFIX = "autocode"
MEMO_MAX_TERMS = 8
_RANK = {k: i for i, k in enumerate(KINDS)}
_SENT_ATTRS = ("IS_SENT_START", "SENT_START")


from qualkit.errors import AutocodeError  # noqa: F401  (defined with every other error in qualkit.errors)


def is_auto_coder(name: str) -> bool:
    """True for the names autocode writes to: ``auto`` or anything ending in ``-auto``."""
    return name == AUTO_CODER or (name.endswith(AUTO_SUFFIX) and len(name) > len(AUTO_SUFFIX))


def check_coder(name: str) -> str:
    """``name`` if autocode may write to it, else AutocodeError (a person's name, a bad file name)."""
    from qualkit.workspace.codings import coder_path

    if not is_auto_coder(name):
        raise AutocodeError(f"coder {name!r} is not an auto coder: suggestions go to 'auto' or a name ending in '-auto' "
                            f"(e.g. '{name}-auto'), never to a person's codings file")
    coder_path(".", name)  # file-name rules
    return name


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
        quoted = f'"{self.text}"'
        if self.kind == "exact":
            return f"{quoted} exact"
        if self.kind == "lemma":
            return f'{quoted} lemma of "{self.term}"'
        if self.kind == "pattern":
            return f"{quoted} {self.term}"
        return f'{quoted} fuzzy {self.score:.0f} of "{self.term}"'


@dataclass
class CodeCount:
    """Per code: units coded and matches of each kind."""

    code: str
    name: str
    units: int = 0
    matches: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "units": self.units, **self.matches}


@dataclass
class AutocodeResult:
    """What autocode suggested (``codings``) and how (``counts`` per code, fuzzy ``corrections``)."""

    codebook: str
    coder: str
    unit: str
    codings: list = field(default_factory=list)
    counts: dict[str, CodeCount] = field(default_factory=dict)
    corrections: dict[str, tuple[str, float, int]] = field(default_factory=dict)  # word -> (term, score, n)
    transcripts: int = 0
    turns: int = 0
    skipped_facilitator_turns: int = 0
    pipeline: str = ""
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    backup: Path | None = None
    seconds: float = 0.0

    @property
    def units(self) -> dict[str, int]:
        """Code id -> number of units coded."""
        return {c: n.units for c, n in self.counts.items()}

    def as_dict(self, with_codings: bool = True) -> dict[str, Any]:
        out = {"codebook": self.codebook, "coder": self.coder, "unit": self.unit,
               "path": str(self.path) if self.path else None, "backup": str(self.backup) if self.backup else None,
               "pipeline": self.pipeline, "transcripts": self.transcripts, "turns": self.turns,
               "skipped_facilitator_turns": self.skipped_facilitator_turns, "suggestions": len(self.codings),
               "counts": [c.as_dict() for c in self.counts.values()],
               "fuzzy_corrections": [{"word": w, "term": t, "score": round(s, 1), "count": n}
                                     for w, (t, s, n) in sorted(self.corrections.items())],
               "warnings": list(self.warnings), "seconds": round(self.seconds, 3)}
        if with_codings:
            out["codings"] = [c.as_row() for c in self.codings]
        return out


# -- patterns -----------------------------------------------------------------------------------

def _code_patterns(code, source: Path | None) -> list[list[dict]]:
    """A code's token patterns as a list of patterns (each a list of token dicts)."""
    from qualkit.workspace.codebook import CodebookError

    pats = code.patterns or []
    if not isinstance(pats, list):
        raise CodebookError(f"code {code.id!r}: 'patterns' must be a list of spaCy token patterns", source, code.line)
    if pats and all(isinstance(p, dict) and "pattern" not in p for p in pats):
        pats = [pats]  # one pattern written as a flat list of token dicts
    out = []
    for n, p in enumerate(pats, 1):
        if isinstance(p, dict) and "pattern" in p:
            p = p["pattern"]
        if isinstance(p, dict):
            p = [p]
        if not isinstance(p, list) or not p or not all(isinstance(t, dict) for t in p):
            raise CodebookError(f"code {code.id!r}: pattern {n} must be a list of token dicts such as "
                                "[{LOWER: send}, {LEMMA: fax}]", source, code.line)
        out.append([_lower_lemma_values(t) for t in p])
    return out


def _lower_lemma_values(tok: dict) -> dict:
    out = {}
    for key, value in tok.items():
        if str(key).upper() == "LEMMA":
            if isinstance(value, str):
                value = value.lower()
            elif isinstance(value, dict):
                value = {op: ([v.lower() if isinstance(v, str) else v for v in vals] if isinstance(vals, list) else vals)
                         for op, vals in value.items()}
        out[key] = value
    return out


def _attrs_used(pattern: list[dict]) -> set[str]:
    return {str(k).upper() for tok in pattern for k in tok}


def pattern_needs(codes) -> set[str]:
    """Annotations the codes' token patterns use beyond text and lemma (POS, DEP, ...)."""
    from qualkit.coding.nlp import MODEL_FEATURES

    needs: set[str] = set()
    for code in codes:
        try:
            pats = _code_patterns(code, None)
        except QualkitError:
            continue  # reported when the matcher is built
        for p in pats:
            needs |= _attrs_used(p) & set(MODEL_FEATURES)
    return needs


def keyword_variants(keyword: str) -> list[str]:
    """A keyword's spellings with its words joined by a space or a hyphen.

    "data sharing agreement" also matches "data-sharing agreement", and "follow-up" also
    matches "follow up" (spaCy splits hyphenated words into three tokens). Keywords of more than
    five words match only as written.
    """
    words = [w for w in re.split(r"\s+|(?<=\w)-(?=\w)", keyword.strip()) if w]
    if not words:
        return []
    if len(words) == 1 or len(words) > 5:
        return [" ".join(keyword.split())]
    out = []
    for seps in itertools.product((" ", "-"), repeat=len(words) - 1):
        out.append(words[0] + "".join(sep + w for sep, w in zip(seps, words[1:])))
    return out


_ANCHOR_KEYS = {"ORTH": 0, "TEXT": 0, "LOWER": 0, "LEMMA": 1}
_COUNT_OP = re.compile(r"\{\s*(\d+)\s*(?:,\s*\d*\s*)?\}")


def _anchors(pattern: list[dict]) -> list[tuple[int, frozenset[str]]]:
    """Words a Doc must contain for ``pattern`` to match: ``(0 lower | 1 lemma, alternatives)`` each.

    Only tokens the pattern requires (no ``OP``, or ``+``, ``{n}``/``{n,m}`` with n >= 1) with a
    literal ORTH/TEXT/LOWER/LEMMA value (or an ``IN`` list) count; an empty list means the
    pattern must always be run.
    """
    out = []
    for tok in pattern:
        op = tok.get("OP")
        if op is not None and op not in ("1", "+"):
            m = _COUNT_OP.fullmatch(str(op))
            if not m or int(m.group(1)) < 1:
                continue
        for key, value in tok.items():
            space = _ANCHOR_KEYS.get(str(key).upper())
            if space is None:
                continue
            if isinstance(value, str):
                out.append((space, frozenset({value.lower()})))
            elif isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list) \
                    and value["IN"] and all(isinstance(v, str) for v in value["IN"]):
                out.append((space, frozenset(v.lower() for v in value["IN"])))
    return out


def _is_acronym(keyword: str) -> bool:
    letters = [ch for ch in keyword if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


# -- the matcher --------------------------------------------------------------------------------

class AutoCoder:
    """Matchers for a set of codes, built once; :meth:`match` finds every hit in a Doc.

    One PhraseMatcher per attribute (ORTH for acronyms, LOWER, LEMMA, and NORM for fuzzy
    corrections), one token Matcher for patterns: each Doc is scanned a fixed number of times
    whatever the number of terms.
    """

    def __init__(self, codes: Iterable, pipeline, *, fuzzy: bool = True, threshold: float = DEFAULT_THRESHOLD,
                 source: Path | None = None):
        import numpy as np
        from spacy.matcher import Matcher, PhraseMatcher

        self.pipeline = pipeline
        self.fuzzy = fuzzy
        self.threshold = float(threshold)
        self.warnings: list[str] = []
        self.corrections: dict[str, tuple[str, float, int]] = {}
        vocab = pipeline.nlp.vocab
        self.strings = vocab.strings
        codes = list(codes)

        # keywords: normalized form -> [(code id, keyword as written)]
        lower_terms: dict[str, list[tuple[str, str]]] = {}
        orth_terms: dict[str, list[tuple[str, str]]] = {}
        for code in codes:
            seen: set[str] = set()
            for kw in code.keywords:
                kw = " ".join(str(kw).split())
                if not kw or kw.casefold() in seen:
                    continue
                seen.add(kw.casefold())
                if _is_acronym(kw):
                    orth_terms.setdefault(kw, []).append((code.id, kw))
                else:
                    lower_terms.setdefault(kw.lower(), []).append((code.id, kw))

        self.keys: dict[int, list[tuple[str, str]]] = {}
        self.forms: dict[int, frozenset[str]] = {}  # keyword key -> its spellings, lower-case
        self.orth = PhraseMatcher(vocab, attr="ORTH") if orth_terms else None
        orth_first: set[int] = set()  # first word of each acronym keyword: Docs without any skip ORTH
        for kw, owners in orth_terms.items():
            docs = [d for d in pipeline.nlp.tokenizer.pipe(keyword_variants(kw)) if len(d)]
            if docs:
                self.orth.add(self._key("O", kw, owners), docs)
                orth_first.update(d[0].orth for d in docs)
        self._orth_first = np.array(sorted(orth_first), dtype="uint64")

        self.lower = self.lemma = self.norm = None
        self.term_words: set[str] = set()
        if lower_terms:
            from spacy.attrs import LOWER, NORM

            # With a lookup lemmatizer every LOWER match is also a LEMMA match, so one LEMMA
            # matcher finds both and a hit is exact when its words are the keyword's (see _phrases).
            self.lower = None if pipeline.lemma_from_lower else PhraseMatcher(vocab, attr="LOWER")
            self.lemma = PhraseMatcher(vocab, attr="LEMMA")
            self.norm = PhraseMatcher(vocab, attr="NORM") if fuzzy else None
            variants = {kw: keyword_variants(kw) for kw in lower_terms}
            flat = [v for vs in variants.values() for v in vs]
            lemma_docs = dict(zip(flat, pipeline.pipe(flat)))
            for kw, owners in lower_terms.items():
                docs = [pipeline.make_doc(v) for v in variants[kw]]
                docs = [d for d in docs if len(d)]
                if not docs:
                    continue
                key = self._key("K", kw, owners)
                if self.lower is not None:
                    self.lower.add(key, docs)
                self.forms[self.strings[key]] = frozenset(v.lower() for v in variants[kw])
                self.lemma.add(key, [lemma_docs[v] for v in variants[kw] if len(lemma_docs[v])])
                if self.norm is not None:
                    for doc in docs:
                        doc.from_array([NORM], np.asarray(doc.to_array(LOWER), dtype="uint64").reshape(-1, 1))
                        self.term_words.update(t.lower_ for t in doc if t.is_alpha and len(t) >= FUZZY_MIN_LENGTH)
                    self.norm.add(key, docs)

        # token patterns
        self.patterns = None
        self.pattern_keys: dict[int, tuple[str, str]] = {}
        self.need_sents = False
        # per pattern, the words a Doc must hold for it to match (None: some pattern needs none);
        # the token Matcher walks every token in Python, so it only runs on Docs that could match
        self._anchors: list[list[tuple[int, frozenset[int]]]] | None = []
        features = pipeline.features
        from qualkit.coding.nlp import MODEL_FEATURES
        from qualkit.workspace.codebook import CodebookError

        for code in codes:
            for n, pat in enumerate(_code_patterns(code, source), 1):
                used = _attrs_used(pat)
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
                need = [(space, frozenset(self.strings.add(w) for w in alts)) for space, alts in _anchors(pat)]
                if self._anchors is not None:
                    self._anchors = self._anchors + [need] if need else None

        # fuzzy: per distinct word, the correction (term word hash, score); words seen so far
        self._fz: dict[int, tuple[int, float]] = {}
        self._seen = np.empty(0, dtype="uint64")
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
        hit = _member(lowers, self._first[0]) | _member(lemmas, self._first[1])
        out = set()
        for i in set(doc_of[hit].tolist()):  # few Docs: check them word by word
            rows = doc_of == i
            sets = (set(lowers[rows].tolist()), set(lemmas[rows].tolist()))
            if any(all(not sets[space].isdisjoint(alts) for space, alts in need) for need in self._anchors):
                out.add(i)
        return out

    def _fuzzy_docs(self, lowers, doc_of) -> dict[int, list[int]]:
        """Learn the corrections of the batch's new words; Doc -> batch positions of its corrected words."""
        import numpy as np

        fed = self.pipeline.new_words(self._seen_pos)
        if fed is not None:  # the lemmatizer lists each distinct word once: no per-token work here
            words, self._seen_pos = fed
            new = np.array(words, dtype="uint64")
        else:
            new = np.unique(lowers[~_member(lowers, self._seen)])
            self._seen = np.sort(np.concatenate((self._seen, new)))
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
    def match(self, doc, text: str | None = None) -> list[Match]:
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
        # the word columns this batch needs, and only those (Doc.to_array costs per attribute)
        anchored = self.patterns is not None and self._anchors is not None
        need = [a for a, wanted in ((LOWER, self.norm is not None or anchored), (LEMMA, anchored),
                                    (ORTH, self.orth is not None)) if wanted]
        if need and sum(sizes):
            cat = np.concatenate([d.to_array(need) for d in docs if len(d)]).reshape(-1, len(need))
            col = {a: cat[:, i] for i, a in enumerate(need)}
            doc_of = np.repeat(np.arange(n), sizes)
            base = [0, *itertools.accumulate(sizes)]
            if anchored:
                pattern_docs = self._pattern_docs(col[LOWER], col[LEMMA], doc_of)
            if self.norm is not None:
                fuzzy_docs = self._fuzzy_docs(col[LOWER], doc_of)
            if self.orth is not None:
                orth_docs = set(doc_of[_member(col[ORTH], self._orth_first)].tolist())
        if self.patterns is not None and not anchored:
            pattern_docs = None
        out = []
        for i, doc in enumerate(docs):
            if not sizes[i]:
                out.append([])
                continue
            found = self._phrases(doc, orth_docs is None or i in orth_docs,
                                  self.patterns is not None and (pattern_docs is None or i in pattern_docs), texts[i])
            if i in fuzzy_docs:
                keys = self.keys
                lo = base[i]
                for mid, s, e, sc in self._fuzzy(doc, col[LOWER][lo:base[i + 1]], [p - lo for p in fuzzy_docs[i]]):
                    for code, term in keys[mid]:
                        found.setdefault((code, s, e), ("fuzzy", term, sc))
            out.append(self._resolve(doc, texts[i], found) if found else [])
        return out

    def _phrases(self, doc, run_orth: bool, run_patterns: bool,
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
        if self.lemma is not None:
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
            quote = text[start:end]
            if "  " in quote or "\n" in quote or "\t" in quote:
                quote = " ".join(quote.split())
            out.append(Match(code, kind, start, end, quote, term, score))
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
    pos = np.searchsorted(sorted_array, values)
    pos[pos == len(sorted_array)] = 0
    return sorted_array[pos] == values


def _match_order(m: Match):
    return (m.start, m.end, m.code, _RANK[m.kind])


def _coding_order(c):
    return (c.transcript, c.start, c.end, c.code)


def _memo(matches: list[Match], described: dict) -> str:
    """``autocode: "fax" exact; "faxed" lemma of "fax"; ...`` (each description once, in text order)."""
    if len(matches) == 1:
        m = matches[0]
        key = (m.kind, m.text, m.term, m.score)
        d = described.get(key)
        if d is None:
            d = described[key] = f"{MEMO_PREFIX}: {m.describe()}"
        return d
    parts: dict[str, None] = {}
    for m in matches:
        key = (m.kind, m.text, m.term, m.score)
        d = described.get(key)
        if d is None:
            d = described[key] = m.describe()
        parts[d] = None
    shown = list(parts)
    more = len(shown) - MEMO_MAX_TERMS
    return f"{MEMO_PREFIX}: " + "; ".join(shown[:MEMO_MAX_TERMS]) + (f"; and {more} more" if more > 0 else "")


# -- the library call ---------------------------------------------------------------------------

def autocode(workspace, codebook=None, unit: str = "turn", *, coder: str = AUTO_CODER, fuzzy: bool = True,
             threshold: float = DEFAULT_THRESHOLD, include_facilitators: bool = False, write: bool = True,
             transcripts: list | None = None, progress: Callable[[Iterable], Iterable] | None = None,
             batch_size: int | None = None) -> AutocodeResult:
    """Suggest codings from a codebook's keywords and patterns; write them to codings/<coder>.csv.

    ``codebook``: a Codebook, a codebook id, or None for the workspace's default. ``unit``:
    ``"turn"`` or ``"sentence"``. ``coder`` must be an auto coder (:func:`is_auto_coder`); its
    file is replaced (the old one backed up) unless ``write=False``. ``transcripts`` (Transcript
    objects) defaults to every transcript of the workspace; ``progress`` wraps the list of turns
    (e.g. a progress bar).
    """
    from qualkit.coding.nlp import BATCH_SIZE, pipeline_for
    from qualkit.coding.units import split_sentences
    from qualkit.io.atomic import atomic_write_text, backup
    from qualkit.workspace.codebook import Codebook
    from qualkit.workspace.codings import Coding, dumps_codings, now_iso

    began = time.perf_counter()
    if unit not in UNITS:
        raise AutocodeError(f"unit {unit!r} must be one of {', '.join(UNITS)}")
    if not 0 < float(threshold) <= 100:
        raise AutocodeError(f"fuzzy threshold {threshold} must be between 0 and 100")
    if write:
        check_coder(coder)
    book = codebook if isinstance(codebook, Codebook) else workspace.codebook(codebook)
    codes = [c for c in book.codes if c.status == "active" and (c.keywords or c.patterns)]
    if not codes:
        raise AutocodeError(f"codebook {book.id!r} has no active code with keywords or patterns to match; "
                            "add e.g. 'keywords: [fax, data sharing agreement]' to its codes", book.path)
    pipeline = pipeline_for(workspace, pattern_needs(codes))
    engine = AutoCoder(codes, pipeline, fuzzy=fuzzy, threshold=threshold, source=book.path)
    result = AutocodeResult(book.id, coder, unit, pipeline=pipeline.name,
                            warnings=[*pipeline.warnings, *engine.warnings],
                            counts={c.id: CodeCount(c.id, c.name) for c in codes})

    ts = transcripts if transcripts is not None else workspace.transcripts()
    table = workspace.participant_table
    items = []
    for t in ts:
        for turn in t.turns:
            if not include_facilitators and table.is_facilitator(turn.participant):
                result.skipped_facilitator_turns += 1
            elif turn.end > turn.start:
                items.append((t, turn))
    result.transcripts, result.turns = len(ts), len(items)

    source = progress(items) if progress is not None else items
    pairs = ((t.text[turn.start:turn.end], (t, turn)) for t, turn in source)
    size = batch_size or BATCH_SIZE
    stream = pipeline.pipe_tuples(pairs, batch_size=size)
    counts = result.counts
    stamp = now_iso()
    described: dict = {}
    codings: list[Coding] = []
    while True:
        chunk = list(itertools.islice(stream, size))
        if not chunk:
            break
        turn_texts = [t.text[turn.start:turn.end] for _doc, (t, turn) in chunk]
        found = engine.match_many([doc for doc, _ctx in chunk], turn_texts)
        for (doc, (t, turn)), matches, turn_text in zip(chunk, found, turn_texts):
            if not matches:
                continue
            # unit (start, end) within the turn, code -> its matches
            groups: dict[tuple[int, int, str], list[Match]] = {}
            if unit == "turn":
                whole = (0, len(turn_text))
                for m in matches:
                    counts[m.code].matches[m.kind] += 1
                    groups.setdefault((*whole, m.code), []).append(m)
            else:  # the sentences `qualkit agree --unit sentence` counts (qualkit.coding.units), turn-relative
                spans = [(s - turn.start, e - turn.start) for s, e in split_sentences(t.text, turn.start, turn.end)]
                starts = [s for s, _ in spans]
                for m in matches:
                    counts[m.code].matches[m.kind] += 1
                    i = max(bisect.bisect_right(starts, m.start) - 1, 0)
                    while i < len(spans) and spans[i][0] < m.end:
                        if spans[i][1] > m.start:
                            groups.setdefault((*spans[i], m.code), []).append(m)
                        i += 1
            for (s, e, code), ms in groups.items():
                counts[code].units += 1
                quote = turn_text if unit == "turn" else turn_text[s:e]
                codings.append(Coding(t.id, turn.start + s, turn.start + e, code, quote, _memo(ms, described), stamp))
    codings.sort(key=_coding_order)
    result.codings = codings
    result.corrections = dict(engine.corrections)
    if write:
        path = workspace.coder_file(coder)
        result.backup = backup(path, workspace.backup_dir)
        atomic_write_text(path, dumps_codings(codings))
        result.path = path
    result.seconds = time.perf_counter() - began
    return result
