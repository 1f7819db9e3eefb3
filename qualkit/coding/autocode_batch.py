"""Auto-coding many turns per spaCy Doc: turns joined by blank lines, tokenized and matched at once.

One Doc per turn costs a Doc, a special-case pass, a column copy and a matcher call per turn; joined,
those costs are paid once per group of turns, and no token object is made to find a match's
characters. The matches are the same as turn by turn (``tests/test_autocode_batch.py`` compares):

* spaCy's ``Tokenizer`` cuts text at whitespace and tokenizes each whitespace-free chunk on its own
  (prefixes, suffixes, infixes, special cases; its cache is keyed by the chunk), so a turn's chunks give
  the same tokens inside the joined text. The blank line between two turns (turns neither start nor end
  with whitespace; others are matched alone) is one whitespace token of its own, and the turn's last
  token keeps ``whitespace_ == ""`` as it has alone.
* Its last step matches special-case strings across tokens; such a match holding the separator would
  need a special case whose string holds a blank line (checked: none), so none spans two turns, and
  within a turn it decides as it does alone (overlapping candidates only compete with each other).
* Keyword phrases hold no whitespace token, so no keyword match spans two turns.
* Token patterns may match whitespace tokens, and need lemmas and sentences: they run, as before, on
  the own Doc of each turn that holds their required words.
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from qualkit.coding.autocode_matcher import AutoCoder, Match, _match_order, _member, _quote

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["GROUP_CHARS", "SEPARATOR", "can_join", "match_texts"]

SEPARATOR = "\n\n"
GROUP_CHARS = 16_000  # characters per joined Doc: past some ten thousand, a longer Doc tokenizes no faster

_Found = dict[tuple[str, int, int], tuple[str, str, Any]]


def can_join(engine: AutoCoder) -> bool:
    """True when turns may be matched joined (:func:`match_texts`): keywords on LOWER without lemmas,
    spaCy's own whitespace-splitting tokenizer, and no special case or keyword holding the separator."""
    from spacy.tokenizer import Tokenizer

    if engine.needs_lemmas or not engine.pipeline.lemma_from_lower or engine.lower is not None:
        return False
    tokenizer = engine.pipeline.nlp.tokenizer
    if type(tokenizer) is not Tokenizer or any(SEPARATOR in key for key in tokenizer.rules):
        return False
    if engine.phrase_words_with(SEPARATOR):
        return False
    probe = tokenizer("a" + SEPARATOR + "a")
    return [t.text for t in probe] == ["a", SEPARATOR, "a"]


def match_texts(engine: AutoCoder, texts: list[str]) -> list[list[Match]]:
    """:meth:`AutoCoder.match` of each turn text, the turns tokenized in joined groups (see the module)."""
    out: list[list[Match]] = [[] for _ in texts]
    group: list[int] = []
    size = 0
    for i, text in enumerate(texts):
        if not text:
            continue
        if text[0].isspace() or text[-1].isspace():  # would merge with the separator: alone
            out[i] = engine.match(engine.pipeline.make_doc(text), text)
            continue
        group.append(i)
        size += len(text)
        if size >= GROUP_CHARS:
            _match_group(engine, texts, group, out)
            group, size = [], 0
    if group:
        _match_group(engine, texts, group, out)
    return out


def _match_group(engine: AutoCoder, texts: list[str], group: list[int], out: list[list[Match]]) -> None:
    """Match the turns ``group`` (positions in ``texts``) in one joined Doc; results into ``out``."""
    import numpy as np
    from spacy.attrs import IDX, LENGTH, LOWER, ORTH

    parts = [texts[i] for i in group]
    joined = SEPARATOR.join(parts)
    starts = list(itertools.accumulate((len(p) + len(SEPARATOR) for p in parts[:-1]), initial=0))
    doc = engine.pipeline.make_doc(joined)
    attrs = [LOWER, IDX, LENGTH] + ([ORTH] if engine.orth is not None else [])
    cols = doc.to_array(attrs).reshape(-1, len(attrs))
    lowers = cols[:, 0]
    turn_of = np.searchsorted(np.array(starts, dtype="uint64"), cols[:, 1], side="right") - 1
    first = np.searchsorted(turn_of, np.arange(len(parts))).tolist()
    idx = cols[:, 1].tolist()
    ends = (cols[:, 1] + cols[:, 2]).tolist()
    turn = turn_of.tolist()
    founds: list[_Found] = [{} for _ in parts]
    _keywords(engine, doc, joined, cols, lowers, turn, idx, ends, founds)
    if engine.patterns is not None:
        cands = engine._pattern_docs(lowers, None, turn_of) if engine._anchors is not None else None
        for j in sorted(cands) if cands is not None else range(len(parts)):
            _patterns(engine, parts[j], first[j], founds[j])
    if engine.norm is not None:
        fuzzy = engine._fuzzy_docs(lowers, turn_of)
        if fuzzy:
            keys = engine.keys
            positions = sorted(p for ps in fuzzy.values() for p in ps)
            for mid, s, e, score in engine._fuzzy(doc, lowers, positions):
                found = founds[turn[s]]
                for code, term in keys[mid]:
                    found.setdefault((code, s, e), ("fuzzy", term, score))
    for j, found in enumerate(founds):
        if found:
            out[group[j]] = _resolve(found, idx, ends, starts[j], parts[j])


def _keywords(engine: AutoCoder, doc: Doc, joined: str, cols: Any, lowers: Any, turn: list[int], idx: list[int],
              ends: list[int], founds: list[_Found]) -> None:
    """Acronyms (exact) and keywords with their inflections (exact or lemma), as :meth:`AutoCoder._phrases`."""
    keys = engine.keys
    if engine.orth is not None and _member(cols[:, 3], engine._orth_first).any():
        for mid, s, e in engine.orth(doc):
            found = founds[turn[s]]
            for code, term in keys[mid]:
                found.setdefault((code, s, e), ("exact", term, None))
    if engine.lemma is None or (engine._kw_first is not None and not _member(lowers, engine._kw_first).any()):
        return
    forms = engine.forms
    for mid, s, e in engine.lemma(doc):
        kind = "exact" if joined[idx[s]:ends[e - 1]].lower() in forms[mid] else "lemma"
        found = founds[turn[s]]
        for code, term in keys[mid]:
            prev = found.get((code, s, e))
            if prev is None or (kind == "exact" and prev[0] != "exact"):
                found[(code, s, e)] = (kind, term, None)


def _patterns(engine: AutoCoder, text: str, first: int, found: _Found) -> None:
    """Token patterns on the turn's own Doc (lemmas, sentences), at the joined Doc's token positions."""
    doc = engine.pipeline.lemmatize(engine.pipeline.make_doc(text))
    if engine.need_sents and not doc.has_annotation("SENT_START"):
        engine.pipeline.sentencizer(doc)
    pattern_keys = engine.pattern_keys
    for mid, s, e in engine.patterns(doc):
        code, label = pattern_keys[mid]
        found.setdefault((code, first + s, first + e), ("pattern", label, None))


def _resolve(found: _Found, idx: list[int], ends: list[int], base: int, text: str) -> list[Match]:
    """Matches with character offsets into the turn's ``text`` (which starts at ``base``), in text order."""
    out = []
    for (code, s, e), (kind, term, score) in found.items():
        start, end = idx[s] - base, ends[e - 1] - base
        out.append(Match(code, kind, start, end, _quote(text, start, end), term, score))
    out.sort(key=_match_order)
    return out
