"""The spaCy pipeline behind ``autocode`` and ``search``: built in one place, once per process.

Two kinds of pipeline, chosen by ``nlp:`` in qualkit.yaml::

    nlp:
      model: blank        # default: rule-based, no model download, same results on every machine
      language: en        # for the blank pipeline (lemma tables from spacy-lookups-data)
    # or  model: en_core_web_sm   (an installed trained pipeline, or a path to a saved one)

* **blank** (default): ``spacy.blank(language)`` with a case-insensitive *lookup* lemmatizer
  (the ``lemma_lookup`` table of spacy-lookups-data, keyed by the lower-cased token, applied to a
  whole Doc at once through ``Doc.to_array``/``from_array``). No network, no model, and results
  that do not depend on which models a team member happens to have installed.
* **trained**: used only when the named package is installed (``spacy.util.is_package``) or the
  path holds a saved pipeline; components that autocode does not need (parser, ner, ...) are
  disabled unless a token pattern asks for their annotation (``DEP``, ``ENT_TYPE``). If the model is
  not installed, the blank pipeline is used and a warning says so.

In both, lemmas are lower-case (``LEMMA`` patterns and keywords compare lower-case forms).
spaCy's rule-based ``sentencizer`` is at hand (:attr:`Pipeline.sentencizer`) for token patterns
that use ``IS_SENT_START``; it runs only on the Docs such a pattern is tried on. Sentence *units*
are qualkit's own (:mod:`qualkit.coding.units`), so they do not depend on the pipeline.

spaCy is imported inside functions only, so importing this module costs nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import (
    NlpError,  # noqa: F401  (defined with every other error in qualkit.errors)
    )

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from spacy.tokens import Doc

    from qualkit.workspace.store import Workspace

BLANK = "blank"
DEFAULT_LANGUAGE = "en"
BATCH_SIZE = 512
# Annotations a token pattern may use that a blank pipeline does not provide.
MODEL_FEATURES = ("POS", "TAG", "MORPH", "DEP", "ENT_TYPE", "ENT_IOB", "ENT_ID")
# Components of trained pipelines that autocode never needs unless a pattern uses what they assign.
_OPTIONAL = {"parser": "DEP", "ner": "ENT_TYPE", "entity_ruler": "ENT_TYPE", "entity_linker": "ENT_ID",
             "span_ruler": None, "spancat": None, "textcat": None, "textcat_multilabel": None, "senter": None}

_REGISTERED = False



@dataclass(frozen=True)
class NlpSettings:
    """What qualkit.yaml's ``nlp:`` section asks for."""

    model: str = BLANK
    language: str = DEFAULT_LANGUAGE


def settings_for(workspace: Workspace) -> NlpSettings:
    """The ``nlp:`` settings of a workspace (defaults when the section is absent)."""
    raw = workspace.config.nlp  # typed and checked when qualkit.yaml is read
    model, language = raw.model.strip() or BLANK, raw.language or DEFAULT_LANGUAGE
    if model not in (BLANK,) and not Path(model).is_absolute() and ("/" in model or "\\" in model):
        model = str((workspace.root / model).resolve())  # a saved pipeline, relative to the workspace
    return NlpSettings(model, language.strip().lower())


def pipeline_for(workspace: Workspace, needs: Iterable[str] = ()) -> Pipeline:
    """The (cached) pipeline a workspace's settings ask for; ``needs``: annotations patterns use."""
    s = settings_for(workspace)
    return load_pipeline(s.model, s.language, needs)


def load_pipeline(model: str = BLANK, language: str = DEFAULT_LANGUAGE, needs: Iterable[str] = ()) -> Pipeline:
    """The pipeline for ``model`` (``"blank"``, an installed package or a pipeline folder), cached."""
    keep = frozenset(n for n in needs if n in ("DEP", "ENT_TYPE", "ENT_IOB", "ENT_ID"))
    return _load(model or BLANK, language or DEFAULT_LANGUAGE, keep)


@lru_cache(maxsize=8)
def _load(model: str, language: str, keep: frozenset) -> Pipeline:
    try:
        import spacy
    except ImportError:  # pragma: no cover - spaCy is a dependency
        raise NlpError("spaCy is not installed; install it with: pip install spacy spacy-lookups-data") from None
    _register()
    warnings: list[str] = []
    if model != BLANK:
        is_dir = Path(model).is_dir()
        if is_dir or spacy.util.is_package(model):
            try:
                nlp = spacy.load(model)
            except Exception as exc:  # noqa: BLE001 - any load failure is the user's model
                raise NlpError(f"cannot load the spaCy pipeline {model!r}: {exc}") from None
            return _trained(nlp, model, keep, warnings)
        warnings.append(f"spaCy pipeline {model!r} is not installed; using the blank rule-based pipeline "
                        f"(install it with: python -m spacy download {model})")
    return _blank(language, warnings)


def _blank(language: str, warnings: list[str]) -> Pipeline:
    import spacy

    try:
        nlp = spacy.blank(language)
    except Exception:  # noqa: BLE001
        raise NlpError(f"spaCy has no language {language!r} (nlp.language in qualkit.yaml)") from None
    table = _lemma_table(language)
    if table is None:
        warnings.append(f"no lemma table for language {language!r} (is spacy-lookups-data installed?); "
                        "lemmas are the lower-case words")
    nlp.add_pipe("qualkit_lookup_lemmatizer", config={"language": language})
    return Pipeline(nlp, f"blank:{language}", trained=False, language=language, warnings=warnings,
                    lemma_from_lower=True)


def _trained(nlp, model: str, keep: frozenset, warnings: list[str]) -> Pipeline:
    for name in list(nlp.pipe_names):
        factory = nlp.get_pipe_meta(name).factory
        if factory in _OPTIONAL and _OPTIONAL[factory] not in keep:
            nlp.disable_pipe(name)
    factories = {nlp.get_pipe_meta(n).factory for n in nlp.pipe_names}
    if factories & {"lemmatizer", "trainable_lemmatizer", "edit_tree_lemmatizer"}:
        nlp.add_pipe("qualkit_lower_lemmas", last=True)
    else:
        nlp.add_pipe("qualkit_lookup_lemmatizer", config={"language": nlp.lang}, last=True)
    meta = nlp.meta or {}
    name = f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')} {meta.get('version', '')}".strip()
    return Pipeline(nlp, name, trained=True, language=nlp.lang, warnings=warnings)


@lru_cache(maxsize=8)
def _lemma_table(language: str):
    """The spacy-lookups-data ``lemma_lookup`` table (keys are string hashes), or None."""
    try:
        from spacy.lookups import load_lookups

        return load_lookups(language, ["lemma_lookup"], strict=True).get_table("lemma_lookup")
    except Exception:  # noqa: BLE001 - missing package or no table for this language
        return None


@lru_cache(maxsize=8)
def _lemma_forms(language: str) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """The lookup table reversed: (its lower-case keys, lemma -> every lower-case word with that lemma).

    A word's lemma is what :class:`_LookupLemmatizer` gives its lower-case form, so the words
    whose lemma is ``x`` are the keys mapped to ``x`` (plus ``x`` itself when it is no key).
    """
    try:
        from spacy.lookups import load_language_data
        from spacy.util import registry

        raw: Any = load_language_data(registry.lookups.get(language)["lemma_lookup"])
    except Exception:  # noqa: BLE001 - missing package or no table for this language
        return frozenset(), {}
    keys: set[str] = set()
    forms: dict[str, list[str]] = {}
    for key, value in raw.items():
        key = str(key)
        if key != key.lower():
            continue  # looked up by the lower-case word: such a key is never reached
        keys.add(key)
        forms.setdefault(str(value).lower() if value else key, []).append(key)
    return frozenset(keys), {k: tuple(sorted(v)) for k, v in forms.items()}


@lru_cache(maxsize=8)
def _dictionary_words(language: str) -> frozenset[str]:
    """Base forms the lookup data knows (lemma values and, for English, WordNet's lemma index)."""
    words: set[str] = set()
    table = _lemma_table(language)
    if table is not None:
        words.update(str(v).lower() for v in table.values())
    try:
        from spacy.lookups import load_lookups

        index = load_lookups(language, ["lemma_index"], strict=True).get_table("lemma_index")
        for values in index.values():
            words.update(str(w).lower() for w in values)
    except Exception:  # noqa: BLE001 - only some languages have it
        pass
    return frozenset(words)


def _register() -> None:
    """Register qualkit's two small spaCy components (once per process)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from spacy.language import Language

    @Language.factory("qualkit_lookup_lemmatizer", default_config={"language": DEFAULT_LANGUAGE},
                      assigns=["token.lemma"])
    def make_lookup(nlp, name: str, language: str):
        return _LookupLemmatizer(nlp.vocab, _lemma_table(language))

    @Language.factory("qualkit_lower_lemmas", assigns=["token.lemma"])
    def make_lower(nlp, name: str):
        return _LowerLemmas(nlp.vocab)

    _REGISTERED = True


class _LookupLemmatizer:
    """Lookup lemmatization on the lower-cased token, a whole Doc per call (no per-token objects).

    spaCy's own lookup mode looks up the token text as written, so "Faxing" at the start of a
    sentence would stay "Faxing"; here it becomes "fax" like "faxing" does. Unknown words keep
    their lower-case form. Lemmas are cached per distinct word.
    """

    def __init__(self, vocab, table):
        self.vocab = vocab
        self.table = table
        self.cache: dict[int, int] = {}
        self.seen: list[int] = []  # distinct lower-case word hashes, in first-seen order

    def _lemma(self, lower: int) -> int:
        value = self.table.get(lower) if self.table is not None else None
        if not value:
            return lower
        return self.vocab.strings.add(str(value).lower())

    def __call__(self, doc):
        if not len(doc):
            return doc
        import numpy as np
        from spacy.attrs import LEMMA, LOWER

        hashes = doc.to_array(LOWER).tolist()
        cache = self.cache
        missing = set(hashes).difference(cache)
        if missing:
            for h in missing:
                cache[h] = self._lemma(h)
            self.seen.extend(missing)
        doc.from_array([LEMMA], np.fromiter(map(cache.__getitem__, hashes), dtype="uint64", count=len(hashes)).reshape(-1, 1))
        return doc


class _LowerLemmas:
    """Lower-case the lemmas a trained lemmatizer assigned (proper nouns keep their case there)."""

    def __init__(self, vocab):
        self.vocab = vocab
        self.cache: dict[int, int] = {0: 0}

    def __call__(self, doc):
        if not len(doc):
            return doc
        import numpy as np
        from spacy.attrs import LEMMA, LOWER

        arr = doc.to_array([LEMMA, LOWER])
        strings, cache = self.vocab.strings, self.cache
        out = []
        for lemma, lower in arr.tolist():
            if not lemma:
                out.append(lower)
                continue
            v = cache.get(lemma)
            if v is None:
                v = cache[lemma] = strings.add(strings[lemma].lower())
            out.append(v)
        doc.from_array([LEMMA], np.asarray(out, dtype="uint64").reshape(-1, 1))
        return doc


@dataclass
class Pipeline:
    """A ready spaCy pipeline plus what qualkit needs around it (sentencizer, dictionary words)."""

    nlp: Any
    name: str
    trained: bool
    language: str
    warnings: list[str] = field(default_factory=list)
    # True when a token's lemma depends on its lower-case form alone (the lookup lemmatizer), so
    # words equal in lower case have equal lemmas
    lemma_from_lower: bool = False

    def __post_init__(self) -> None:
        from spacy.pipeline import Sentencizer

        self.sentencizer = Sentencizer()

    # -- what the pipeline annotates ---------------------------------------------------------
    @property
    def features(self) -> frozenset[str]:
        """Token annotations this pipeline sets beyond text and lemma (POS, TAG, DEP, ...)."""
        out: set[str] = {"LEMMA"}
        names = set(self.nlp.pipe_names)
        for name in names:
            meta = self.nlp.get_pipe_meta(name)
            assigns = set(meta.assigns)
            if meta.factory == "attribute_ruler" or "token.pos" in assigns:
                out.add("POS")
            if "token.tag" in assigns:
                out.add("TAG")
            if "token.morph" in assigns or meta.factory == "morphologizer":
                out.add("MORPH")
            if "token.dep" in assigns or meta.factory == "parser":
                out.add("DEP")
            if meta.factory in ("ner", "entity_ruler") or "doc.ents" in assigns:
                out.update({"ENT_TYPE", "ENT_IOB", "ENT_ID"})
        return frozenset(out)

    # -- processing --------------------------------------------------------------------------
    def make_doc(self, text: str) -> Doc:
        """Tokens only (no lemmas): what LOWER/ORTH phrase patterns are built from."""
        return self.nlp.make_doc(text)

    def __call__(self, text: str) -> Doc:
        return self.nlp(text)

    def pipe(self, texts: Iterable[str], batch_size: int = BATCH_SIZE) -> Iterator:
        """Docs for ``texts`` in order: one pass, one process, batched."""
        return self.nlp.pipe(texts, batch_size=batch_size, n_process=1)

    def pipe_tuples(self, pairs: Iterable[tuple[str, Any]], batch_size: int = BATCH_SIZE,
                    lemmas: bool = True) -> Iterator:
        """``(doc, context)`` for ``(text, context)`` pairs, in order.

        ``lemmas=False``: a blank pipeline only tokenizes (its one component is the lemmatizer);
        :meth:`lemmatize` adds the lemmas later to the few Docs that need them.
        """
        if not lemmas and self.lemma_from_lower:
            make_doc = self.nlp.make_doc
            return ((make_doc(text), context) for text, context in pairs)
        return self.nlp.pipe(pairs, batch_size=batch_size, n_process=1, as_tuples=True)

    def _lookup(self) -> _LookupLemmatizer | None:
        for name in self.nlp.pipe_names:
            component = self.nlp.get_pipe(name)
            if isinstance(component, _LookupLemmatizer):
                return component
        return None

    def lemmatize(self, doc: Doc) -> Doc:
        """Give a Doc made with ``pipe_tuples(..., lemmas=False)`` its lemmas (blank pipeline)."""
        component = self._lookup() if self.lemma_from_lower else None
        return component(doc) if component is not None else doc

    def lemma_forms(self, lemma: str) -> list[str]:
        """Every lower-case word the blank pipeline lemmatizes to ``lemma`` (``lemma`` itself included
        unless the table maps it elsewhere): a keyword's inflections, matched on LOWER without lemmas."""
        keys, forms = _lemma_forms(self.language)
        out = list(forms.get(lemma, ()))
        if lemma not in keys:
            out.append(lemma)
        return out

    def new_words(self, since: int) -> tuple[list[int], int] | None:
        """Lower-case word hashes first seen by the pipeline after position ``since``, and the new position.

        Every word of every Doc the pipeline has made is in there by the time the Doc comes out,
        so a caller can learn each distinct word once without looking at every token. None when
        the pipeline does not keep the list (trained pipelines).
        """
        component = self._lookup()
        if component is None:
            return None
        seen = component.seen
        return seen[since:], len(seen)

    # -- vocabulary --------------------------------------------------------------------------
    @property
    def dictionary_hashes(self) -> frozenset[int]:
        """String hashes of every lower-case word the lemma tables know (built once, cached)."""
        got = self.__dict__.get("_dictionary_hashes")
        if got is None:
            from spacy.strings import hash_string  # type: ignore[attr-defined]  # not in spaCy's stubs

            table = _lemma_table(self.language)
            keys = set(table.keys()) if table is not None else set()
            got = frozenset(keys | {hash_string(w) for w in _dictionary_words(self.language)})
            self.__dict__["_dictionary_hashes"] = got
        return got

    @property
    def dictionary_array(self) -> NDArray[Any]:
        """:attr:`dictionary_hashes` as a sorted numpy uint64 array (for ``numpy.isin``)."""
        got = self.__dict__.get("_dictionary_array")
        if got is None:
            import numpy as np

            hashes = self.dictionary_hashes
            got = np.fromiter(hashes, dtype="uint64", count=len(hashes))
            got.sort()  # numpy's sort of ~150k integers: a seventh of the time of sorted() on the set
            self.__dict__["_dictionary_array"] = got
        return got

    def is_dictionary_word(self, word: str) -> bool:
        """True for a word the lemma tables know (so it is a real word, not a misspelling)."""
        w = word.lower()
        table = _lemma_table(self.language)
        if table is not None and w in table:
            return True
        return w in _dictionary_words(self.language)

