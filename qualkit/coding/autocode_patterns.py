"""What autocode looks for: a codebook's keywords (and their spellings) and spaCy token patterns.

Checks and normalizes what a codebook says (a flat list of token dicts is one pattern, ``LEMMA``
values compare lower-case), and says which words a Doc must hold for a pattern to match, so the
slow token Matcher only runs where it can. No spaCy here: :mod:`qualkit.coding.autocode_matcher`
builds the matchers.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qualkit.coding.nlp import MODEL_FEATURES
from qualkit.errors import CodebookError, QualkitError
from qualkit.workspace.codebook import Code

__all__ = ["attrs_used", "code_patterns", "is_acronym", "keyword_variants", "pattern_anchors", "pattern_needs"]


def code_patterns(code: Code, source: Path | None) -> list[list[dict[str, Any]]]:
    """A code's token patterns as a list of patterns (each a list of token dicts)."""
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


def _lower_lemma_values(tok: dict[str, Any]) -> dict[str, Any]:
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


def attrs_used(pattern: list[dict[str, Any]]) -> set[str]:
    """Token attributes a pattern uses, upper-case (LOWER, LEMMA, POS, ...)."""
    return {str(k).upper() for tok in pattern for k in tok}


def pattern_needs(codes: Iterable[Code]) -> set[str]:
    """Annotations the codes' token patterns use beyond text and lemma (POS, DEP, ...)."""
    needs: set[str] = set()
    for code in codes:
        try:
            pats = code_patterns(code, None)
        except QualkitError:
            continue  # reported when the matcher is built
        for p in pats:
            needs |= attrs_used(p) & set(MODEL_FEATURES)
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


def pattern_anchors(pattern: list[dict[str, Any]]) -> list[tuple[int, frozenset[str]]]:
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


def is_acronym(keyword: str) -> bool:
    """``ED``, ``PORT``, ``HIPAA``: keywords that match only in capitals."""
    letters = [ch for ch in keyword if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)
