"""Keyword in context: every occurrence of a term in the transcripts' turns, with the words around it.

Three ways to match, combinable:

* plain (default): case-insensitive, whole words; words of the term match across any run of
  spaces or a hyphen ("data sharing" finds "data-sharing"), ``'`` finds ``’`` too, and ``*``
  stands for any letters (``fax*`` finds fax, faxed, faxing). No spaCy involved.
* ``lemma``: a word also matches any inflection with the same lemma ("send" finds "sent").
* ``fuzzy``: a word also matches a word that is similar enough (rapidfuzz ``fuzz.ratio`` >=
  ``threshold``), to find misspellings and transcription errors ("naloxon").

Each hit names its transcript, turn (numbered from 1), speaker and participant, the matched
text and its offsets into the transcript, and ``context`` characters of the same turn on each
side (whitespace folded to single spaces), ready to print as aligned KWIC lines.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qualkit.errors import SearchError  # noqa: F401  (defined with every other error in qualkit.errors)

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

DEFAULT_CONTEXT = 60
DEFAULT_FUZZY_THRESHOLD = 80.0
_WS = re.compile(r"\s+")
_HYPHENS = ("-", "\u2010", "\u2011")
_WORD_SPLIT = re.compile(r"\s+|(?<=\w)[-\u2010\u2011](?=\w)")




@dataclass
class Hit:
    """One occurrence: where (transcript, turn 1-based, offsets), who, what, and the context."""

    transcript: str
    turn: int
    speaker: str | None
    participant: str | None
    start: int
    end: int
    text: str
    left: str
    right: str
    kind: str = "exact"  # exact | lemma | fuzzy
    score: float = 100.0

    def as_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "turn": self.turn, "speaker": self.speaker,
                "participant_id": self.participant, "start": self.start, "end": self.end,
                "text": self.text, "left": self.left, "right": self.right, "kind": self.kind,
                "score": round(self.score, 1)}


def term_regex(term: str) -> re.Pattern:
    """The regular expression plain search uses for ``term`` (see the module docstring)."""
    words = [w for w in _WORD_SPLIT.split(term.strip()) if w]
    if not words:
        raise SearchError("the search term is empty")

    def word(w: str) -> str:
        out = []
        for ch in w:
            if ch == "*":
                out.append(r"\w*")
            elif ch in "'\u2019":
                out.append("['\u2019]")
            else:
                out.append(re.escape(ch))
        return "".join(out)

    body = r"(?:\s*[-\u2010\u2011]\s*|\s+)".join(word(w) for w in words)
    first, last = words[0][0], words[-1][-1]
    pre = r"(?<!\w)" if (first.isalnum() or first in "_*") else ""
    post = r"(?!\w)" if (last.isalnum() or last in "_*") else ""
    return re.compile(pre + body + post, re.IGNORECASE)


def _fold(text: str) -> str:
    return _WS.sub(" ", text)


def _context(text: str, turn_start: int, turn_end: int, start: int, end: int, width: int) -> tuple[str, str]:
    if width <= 0:
        return "", ""
    reach = 4 * width + 16
    left = _fold(text[max(turn_start, start - reach):start])[-width:]
    right = _fold(text[end:min(turn_end, end + reach)])[:width]
    return left, right


class _TokenTerm:
    """A term as a sequence of token tests (lower-case form, lemma, wildcard, fuzzy)."""

    def __init__(self, term: str, pipeline, lemma: bool, fuzzy: bool, threshold: float):
        self.pipeline, self.lemma, self.fuzzy, self.threshold = pipeline, lemma, fuzzy, threshold
        doc = pipeline(term.replace("*", "\uE000"))  # keep wildcards inside one token
        toks = [t for t in doc if not t.is_space and t.text not in _HYPHENS]
        if not toks:
            raise SearchError("the search term is empty")
        strings = pipeline.nlp.vocab.strings
        self.words = [t.lower_.replace("\uE000", "*") for t in toks]
        self.lemmas = [strings.add(t.lemma_) if "\uE000" not in t.text else 0 for t in toks]
        self.wild = [re.compile("".join(r"\w*" if c == "*" else re.escape(c) for c in w)) if "*" in w else None
                     for w in self.words]
        self.cache: list[dict[int, float]] = [{} for _ in self.words]
        self.strings = strings
        self.hyphens = {strings.add(h) for h in _HYPHENS}

    def _score(self, j: int, h: int) -> float:
        """Similarity (0-100) of the word with lower-case hash ``h`` to term word ``j``; 0 = no match."""
        got = self.cache[j].get(h)
        if got is None:
            word, want = self.strings[h], self.words[j]
            wild = self.wild[j]
            if wild is not None:
                got = 100.0 if wild.fullmatch(word) else 0.0
            elif word == want:
                got = 100.0
            elif self.fuzzy:
                from rapidfuzz import fuzz

                s = fuzz.ratio(word, want, score_cutoff=self.threshold)
                got = float(s) if s else 0.0
            else:
                got = 0.0
            self.cache[j][h] = got
        return got

    def find_many(self, docs: list) -> list[list[tuple[int, int, str, float]]]:
        """For each Doc, ``(start_char, end_char, kind, score)`` of each occurrence.

        One set of numpy operations per batch of Docs: each distinct word is scored once
        (cached), then the term's words are matched in sequence, skipping whitespace and hyphens,
        never across two Docs.
        """
        import numpy as np
        from spacy.attrs import IDX, IS_SPACE, LEMMA, LENGTH, LOWER, ORTH

        out: list[list[tuple[int, int, str, float]]] = [[] for _ in docs]
        sizes = [len(d) for d in docs]
        k = len(self.words)
        if sum(sizes) < k:
            return out
        arr = np.concatenate([d.to_array([LOWER, LEMMA, IDX, LENGTH, IS_SPACE, ORTH]) for d in docs if len(d)])
        doc_of = np.repeat(np.arange(len(docs)), sizes)
        keep = (arr[:, 4] == 0) & ~np.isin(arr[:, 5], np.array(sorted(self.hyphens), dtype="uint64"))
        sub, doc_of = arr[keep], doc_of[keep]
        n = len(sub)
        if n < k:
            return out
        uniq, inv = np.unique(sub[:, 0], return_inverse=True)
        inv = inv.reshape(-1)
        hashes = uniq.tolist()
        m = n - k + 1
        ok = doc_of[:m] == doc_of[k - 1:]  # the whole sequence inside one Doc
        scores: list[Any] = []
        exact: list[Any] = []
        for j in range(k):
            vals = np.array([self._score(j, h) for h in hashes], dtype=float)
            sc = vals[inv]
            ex = sc >= 100.0
            if self.lemma and self.lemmas[j]:
                sc = np.where(sub[:, 1] == self.lemmas[j], np.maximum(sc, 100.0), sc)
            ok &= sc[j:j + m] > 0
            scores.append(sc)
            exact.append(ex)
        for i in np.flatnonzero(ok).tolist():
            best = min(float(scores[j][i + j]) for j in range(k))
            all_exact = all(bool(exact[j][i + j]) for j in range(k))
            kind = "exact" if all_exact else ("fuzzy" if best < 100.0 else "lemma")
            last = i + k - 1
            out[int(doc_of[i])].append((int(sub[i, 2]), int(sub[last, 2] + sub[last, 3]), kind, best))
        return out


def search(workspace: Workspace, term: str, fuzzy: bool = False, *, lemma: bool = False,
           transcripts: Iterable[str] | str | None = None, context: int = DEFAULT_CONTEXT,
           threshold: float = DEFAULT_FUZZY_THRESHOLD, include_facilitators: bool = True,
           progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> list[Hit]:
    """Every occurrence of ``term`` in the turns of the workspace's transcripts (or ``transcripts`` ids).

    Hits come in transcript order, then text order. ``context`` characters of the same turn are
    kept on each side. ``include_facilitators=False`` leaves out research-team turns.
    ``progress``, if given, wraps the list of turns run through spaCy (lemma and fuzzy search).
    """
    if not term or not term.strip():
        raise SearchError("the search term is empty")
    if context < 0:
        raise SearchError("context must be 0 or more characters")
    if not 0 < float(threshold) <= 100:
        raise SearchError(f"fuzzy threshold {threshold} must be between 0 and 100")
    import unicodedata

    term = unicodedata.normalize("NFC", term)
    if isinstance(transcripts, str):
        transcripts = [transcripts]
    ts = [workspace.transcript(i) for i in transcripts] if transcripts else workspace.transcripts()
    table = workspace.participant_table
    turns = [(t, turn) for t in ts for turn in t.turns
             if turn.end > turn.start and (include_facilitators or not table.is_facilitator(turn.participant))]

    found: list[tuple[Any, Any, int, int, str, float]] = []
    if not fuzzy and not lemma:
        rx = term_regex(term)
        for t, turn in turns:
            for m in rx.finditer(t.text, turn.start, turn.end):
                found.append((t, turn, m.start(), m.end(), "exact", 100.0))
    else:
        import itertools

        from qualkit.coding.nlp import BATCH_SIZE, pipeline_for

        pipeline = pipeline_for(workspace)
        matcher = _TokenTerm(term, pipeline, lemma, fuzzy, float(threshold))
        source = progress(turns) if progress is not None else turns
        pairs = ((t.text[turn.start:turn.end], (t, turn)) for t, turn in source)
        stream = pipeline.pipe_tuples(pairs)
        while True:
            chunk = list(itertools.islice(stream, BATCH_SIZE))
            if not chunk:
                break
            for (_doc, (t, turn)), hits in zip(chunk, matcher.find_many([doc for doc, _ in chunk])):
                for s, e, kind, score in hits:
                    found.append((t, turn, turn.start + s, turn.start + e, kind, score))

    result: list[Hit] = []
    for t, turn, s, e, kind, score in found:
        left, right = _context(t.text, turn.start, turn.end, s, e, context)
        result.append(Hit(t.id, turn.index + 1, turn.speaker, turn.participant, s, e, t.text[s:e],
                          left, right, kind, score))
    return result
