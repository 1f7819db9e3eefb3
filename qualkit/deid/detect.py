"""Finding identifiers in one transcript's text: people, places and organisations from the team's
own lists, census names in context, titles before capitalised words, Safe Harbor patterns, and a
trained NER model when one is installed.

Census surnames include many everyday words (White, Young, May, Will, Hope). A census name that is
also an English word (:func:`qualkit.deid.lexicon.name_is_common_word`) is proposed only with more
evidence: a title before it (`Pastor White`) or a neighbouring name (`Jess White`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from qualkit.deid import lexicon
from qualkit.deid.patterns import Candidate, pattern_candidates

__all__ = ["Detector", "resolve_overlaps"]

_TOKEN = re.compile(r"(?:O['’]|Mc|Mac|De|La|Van)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?=\s|[.,;:!?)]|$)")
_TITLE = re.compile(r"(?:" + "|".join(lexicon.TITLES) + r")\.?$")
_ABBREVIATED = re.compile(r"(?:Dr|Mr|Mrs|Ms|Mx|Prof|Capt|Lt|Sgt|Det|Cpl|Rev|Fr|Rep|St)$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_PRIORITY = {"participants": 0, "deid.yaml": 1, "participants site": 2, "title": 4, "names list": 5}


@dataclass
class Detector:
    """Everything known before reading a transcript: the lists to match and the words to keep."""

    terms: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # text -> (kind, detector, entity)
    folded_terms: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # case-insensitive
    allow: frozenset[str] = lexicon.ALLOW_DEFAULT
    nlp: object | None = None

    def add_term(self, text: str, kind: str, detector: str, entity: str = "", *, exact: bool = True) -> None:
        text = " ".join(text.split())
        if len(text) < 2 or text.casefold() in self.allow:
            return
        if exact:
            self.terms.setdefault(text, (kind, detector, entity))
        else:
            self.folded_terms.setdefault(text.casefold(), (kind, detector, entity))

    def add_participant(self, label: str, participant_id: str) -> None:
        """A speaker label's name parts (`Chief Dale Hughes` -> Dale Hughes, Dale, Hughes), unless the
        label is a role (`Interviewer`, `P3`, `R`)."""
        words = [w for w in _PAREN.sub(" ", label).replace(".", " ").split()
                 if not _TITLE.match(w) and w[:1].isupper() and not w.isupper() and w.casefold() not in self.allow]
        if not words:
            return
        entity = f"participant:{participant_id}"
        self.add_term(" ".join(words), "person", "participants", entity)
        for w in words:
            if len(w) > 1:
                self.add_term(w, "person", "participants", entity)

    def _regex(self) -> re.Pattern[str] | None:
        if not getattr(self, "_compiled", None):
            alts = sorted({*self.terms, *self.folded_terms}, key=len, reverse=True)
            self._compiled = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)",
                                        re.IGNORECASE) if alts else None
        return self._compiled

    def candidates(self, text: str) -> list[Candidate]:
        """Every proposed span in ``text``, overlaps resolved, allowed words dropped."""
        lowercase = set(re.findall(r"\b[a-z]+\b", text))
        found = [*self._listed(text, lowercase), *pattern_candidates(text), *self._names(text), *self._ner(text)]
        kept = [c for c in found if not self._allowed(text[c.start:c.end])]
        return resolve_overlaps(kept)

    def _allowed(self, span: str) -> bool:
        words = re.findall(r"[\w'’]+", span)
        return span.casefold() in self.allow or (bool(words) and all(w.casefold() in self.allow for w in words))

    def _listed(self, text: str, lowercase: set[str]) -> Iterator[Candidate]:
        pattern = self._regex()
        if pattern is None:
            return
        for m in pattern.finditer(text):
            word = m.group()
            hit = self.terms.get(word)
            if hit is None:
                hit = self.folded_terms.get(word.casefold())
                if hit is None:
                    continue
            elif word.lower() in lowercase and _sentence_start(text, m.start()) and lexicon.name_is_common_word(word):
                continue  # "Will we...": an everyday word of this very text, at a sentence start
            kind, detector, entity = hit
            yield Candidate(m.start(), m.end(), kind, detector, entity)

    def _names(self, text: str) -> Iterator[Candidate]:
        """Census names and capitalised words after a title, run by run of capitalised words."""
        run: list[re.Match[str]] = []
        for m in _TOKEN.finditer(text):
            gap = text[run[-1].end():m.start()] if run else " "
            title_starts = bool(run) and _TITLE.match(m.group()) is not None and not _TITLE.match(run[-1].group())
            if title_starts or (gap != " " and not (gap == ". " and _ABBREVIATED.match(run[-1].group()))):
                yield from self._name_run(text, run)
                run = []
            run.append(m)
        if run:
            yield from self._name_run(text, run)

    def _name_run(self, text: str, run: list[re.Match[str]]) -> Iterator[Candidate]:
        titled = False
        names: list[tuple[re.Match[str], bool]] = []  # token, strong evidence on its own
        for m in run:
            word = m.group()
            if _TITLE.match(word) and not names:
                titled = True
                continue
            if word.isupper() or word.casefold() in self.allow:
                if names:
                    break
                titled = False
                continue
            known = word in lexicon.first_names() or word in lexicon.last_names()
            common = lexicon.name_is_common_word(word) if known else lexicon.common_word(word)
            if (known and not common) or (titled and not common):
                names.append((m, True))
            elif known or (titled and len(names) == 0 and word in lexicon.last_names()):
                names.append((m, False))
            elif names:
                break
        if not names:
            return
        first, last = names[0][0].group(), names[-1][0].group()
        strong = titled or any(s for _, s in names) or (
            len(names) > 1 and first in lexicon.first_names() and last in lexicon.last_names())
        if not strong or (len(names) == 1 and not titled and _sentence_start(text, names[0][0].start())
                          and lexicon.common_word(names[0][0].group())):
            return
        detector = "title" if titled else "names list"
        yield Candidate(names[0][0].start(), names[-1][0].end(), "person", detector)

    def _ner(self, text: str) -> Iterator[Candidate]:
        if self.nlp is None:
            return
        kinds = {"PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "organisation"}
        for ent in self.nlp(text).ents:  # type: ignore[operator]
            if ent.label_ in kinds:
                yield Candidate(ent.start_char, ent.end_char, kinds[ent.label_], "ner")


def _sentence_start(text: str, pos: int) -> bool:
    before = text[max(0, pos - 3):pos].rstrip(" \t\"'“‘")
    return not before or before[-1] in ".!?:\n[(—–-"


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Longest span first (ties: the team's lists before patterns before names), no two overlapping."""
    chosen: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    order = sorted(candidates, key=lambda c: (-(c.end - c.start), _PRIORITY.get(c.detector, 3), c.start))
    for c in order:
        if any(c.start < e and s < c.end for s, e in taken):
            continue
        chosen.append(c)
        taken.append((c.start, c.end))
    return sorted(chosen, key=lambda c: (c.start, c.end))
