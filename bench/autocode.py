"""Benchmark: autocode over a generated 1M-word corpus with a 500-term codebook.

Not a test. In one run, over the same turn texts, it reports words/s for

* ``bare spaCy + PhraseMatcher``: truly bare spaCy, ``spacy.blank("en")`` with its sentencizer and
  one PhraseMatcher (attr LOWER) of every keyword over the same turn texts: the least a matcher could do;
* ``qualkit nlp.pipe``: qualkit's own pipeline (qualkit.coding.nlp), every Doc discarded: not bare,
  it carries qualkit's components;
* ``autocode``: the library call end to end (matchers built, every turn matched, fuzzy
  corrections, suggestions written to codings/auto.csv), unit turn and unit sentence;
* ``one alternation regex``: one case-insensitive ``\\b(?:t1|t2|...)\\b`` of every term over each
  transcript's text (exact matches only: no lemmas, no fuzzy): the fair regex yardstick;
* ``regex loop``: what naive keyword tools do, one ``re.finditer`` per term and transcript.

Targets (issue 17): autocode >= 0.9x bare spaCy + PhraseMatcher. Reading the
transcripts (ingest) is timed apart and excluded from every figure. Each figure is the best of
``--repeat`` interleaved runs, as wall time and as CPU time of this process (the fairer figure
on a shared machine).

    python bench/autocode.py [--words 1000000] [--terms 500] [--repeat 3] [--regex-terms N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DOMAIN = ("naloxone narcan buprenorphine methadone suboxone overdose outreach referral sheriff deputy dispatch "
          "paramedic coordinator consent liability attorney warrant stigma transportation clinic counselor "
          "funding grant spreadsheet fax hospital discharge housing recovery peer").split()
SPEAKERS = ["Interviewer", "P1", "P2", "P3", "P4"]


def vocabulary(rng: random.Random, dense: bool = False) -> list[str]:
    """Real English words (spacy-lookups-data's tables), most frequent first, plus domain words.

    The domain words (naloxone, sheriff, ...) get the ranks of moderately common words (500 to
    5,000), as in real transcripts of such a study; ``dense`` puts them among the 100 most common
    words instead, a worst case in which almost every turn matches several codes.
    """
    from qualkit.coding.nlp import _dictionary_words

    words = sorted(w for w in _dictionary_words("en") if w.isalpha() and 2 <= len(w) <= 14)
    rng.shuffle(words)
    common = ("the and to of a i in that it is you we was for they on so but with have be this are "
              "not he she what like just know there at do if or one my about from when them all").split()
    rest = [w for w in words[:30000] if w not in common and w not in DOMAIN]
    if dense:
        return common + DOMAIN + rest
    vocab = common + rest
    for i, w in enumerate(DOMAIN):
        vocab.insert(500 + i * 150, w)
    return vocab


def misspell(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice("dsi")
    if op == "d":
        return word[:i] + word[i + 1:]
    ch = rng.choice("aeiou")
    return word[:i] + ch + word[i + 1:] if op == "s" else word[:i] + ch + word[i:]


def make_corpus(root: Path, words: int, n_terms: int, seed: int = 7, dense: bool = False):
    """Transcripts (.txt, 'Speaker: text' turns) of ``words`` words and a codebook of ``n_terms`` keywords.

    Words follow Zipf's law over ~30,000 real words. Keywords: the domain words, words and
    phrases of ranks 1,500-20,000 (300-6,000 if ``dense``), ten acronyms; the text also gets
    keyword phrases, inflected keywords and misspelled keywords (one edit) at fixed rates.
    """
    from qualkit.workspace.codebook import Code, Codebook, save_codebook

    rng = random.Random(seed)
    vocab = vocabulary(rng, dense)
    weights = [1.0 / (r + 1) ** 1.07 for r in range(len(vocab))]
    # terms: mid-frequency words and phrases, some inflected forms in the text, a few acronyms
    mid = vocab[300:6000] if dense else vocab[1500:20000]
    terms: list[str] = list(DOMAIN)
    while len(terms) < n_terms - 10:
        k = rng.choice((1, 1, 1, 2, 2, 3))
        t = " ".join(rng.sample(mid, k))
        if t not in terms:
            terms.append(t)
    terms += ["HIPAA", "CJIS", "EMS", "ED", "PORT", "MOU", "CAD", "DSA", "SUD", "OUD"]
    terms = terms[:n_terms]
    codes = []
    per = max(1, n_terms // 100)
    pairs = [t.split() for t in terms if t.count(" ") == 1]
    for i in range(0, len(terms), per):
        patterns = []
        if i % 25 == 0 and pairs:  # 20 token patterns: a two-word keyword, maybe a word between
            a, b = rng.choice(pairs)
            patterns = [[{"LEMMA": a}, {"IS_ALPHA": True, "OP": "?"}, {"LOWER": b}]]
        codes.append(Code(f"c{i // per:03d}", f"Code {i // per}", origin="deductive", keywords=terms[i:i + per], patterns=patterns))
    save_codebook(Codebook("bench", "Benchmark codebook", codes), root / "codebooks" / "bench.yaml")

    phrases = [t for t in terms if " " in t]
    singles = [t for t in terms if " " not in t and not t.isupper()]
    per_file = 10_000
    total, f = 0, 0
    while total < words:
        body, n = [], 0
        target = min(per_file, words - total)
        while n < target:
            speaker = SPEAKERS[0] if len(body) % 2 == 0 else rng.choice(SPEAKERS[1:])
            size = rng.randint(8, 30) if speaker == "Interviewer" else rng.randint(20, 250)
            toks = rng.choices(vocab, weights, k=size)
            for j in range(len(toks)):
                r = rng.random()
                if r < 0.004:
                    toks[j] = rng.choice(phrases)
                elif r < 0.008:
                    toks[j] = rng.choice(singles) + rng.choice(("", "s", "ed", "ing"))
                elif r < 0.009:
                    w = rng.choice(singles)
                    toks[j] = misspell(rng, w) if len(w) > 6 else w
            sents, j = [], 0
            while j < len(toks):
                k = rng.randint(5, 20)
                s = " ".join(toks[j:j + k])
                sents.append(s[:1].upper() + s[1:] + rng.choice(".?.,!.")[0])
                j += k
            text = " ".join(sents)
            body.append(f"{speaker}: {text}\n\n")
            n += len(text.split())
        (root / "transcripts" / f"t{f:04d}.txt").write_text("".join(body), encoding="utf-8")
        total += n
        f += 1
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n"
                                           + "".join(f",{s},{s},participant\n" for s in SPEAKERS[1:]))
    return terms


class Timer:
    """Best (lowest) wall and CPU time of each named step over interleaved repeats."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, name: str, fn):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        self.wall[name] = min(self.wall.get(name, w), w)
        self.cpu[name] = min(self.cpu.get(name, c), c)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--terms", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--regex-terms", type=int, default=None,
                    help="time the regex loop on this many terms and extrapolate (default: all)")
    ap.add_argument("--dense", action="store_true",
                    help="worst case: domain keywords among the most common words (several codes per turn)")
    ap.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = ap.parse_args()

    from qualkit.coding.autocode import autocode
    from qualkit.coding.nlp import pipeline_for
    from qualkit.transcripts.model import count_words
    from qualkit.workspace.scaffold import init
    from qualkit.workspace.store import Workspace

    tmp = None
    if args.keep:
        root = init(args.keep)
    else:
        tmp = tempfile.TemporaryDirectory()
        root = init(Path(tmp.name) / "ws")
    t0 = time.perf_counter()
    terms = make_corpus(root, args.words, args.terms, dense=args.dense)
    print(f"corpus generated in {time.perf_counter() - t0:.1f} s: {root}")

    ws = Workspace(root)
    ws.jobs = 1  # one process: this script reads its own CPU time, which would miss worker processes
    t0 = time.perf_counter()
    transcripts = ws.transcripts()
    read_s = time.perf_counter() - t0
    texts = [t.text[turn.start:turn.end] for t in transcripts for turn in t.turns]
    words = sum(count_words(x) for x in texts)
    print(f"{len(transcripts)} transcripts, {len(texts)} turns, {words:,} words, {len(terms)} terms "
          f"(read in {read_s:.1f} s, not counted below)")

    t0 = time.perf_counter()
    pipeline = pipeline_for(ws)
    print(f"pipeline {pipeline.name} loaded in {time.perf_counter() - t0:.2f} s: {pipeline.nlp.pipe_names}")
    for _ in pipeline.pipe(texts[:200]):
        pass  # warm-up

    def own_pipe():
        for _doc in pipeline.pipe(texts):
            pass

    import spacy
    from spacy.matcher import PhraseMatcher

    blank = spacy.blank("en")
    blank.add_pipe("sentencizer")  # as bench/baselines.py: blank + sentencizer + PhraseMatcher

    def bare():
        matcher = PhraseMatcher(blank.vocab, attr="LOWER")
        matcher.add("kw", list(blank.tokenizer.pipe(terms)))
        return sum(len(matcher(doc)) for doc in blank.pipe(texts))

    def run(unit, **kw):
        return lambda: autocode(ws, "bench", unit, include_facilitators=True, transcripts=transcripts, **kw)

    timer = Timer()
    steps = {"bare spaCy + PhraseMatcher": bare, "qualkit nlp.pipe": own_pipe,
             "autocode (turn, fuzzy)": run("turn"),
             "autocode (turn, fuzzy, no write)": run("turn", write=False),
             "autocode (turn, no fuzzy, no write)": run("turn", fuzzy=False, write=False),
             "autocode (sentence, fuzzy)": run("sentence")}
    results = {}
    for _ in range(args.repeat):  # interleaved, so a busy moment hurts every step alike
        for name, fn in steps.items():
            results[name] = timer.run(name, fn)

    sample = terms if not args.regex_terms else random.Random(1).sample(terms, min(args.regex_terms, len(terms)))
    full = [t.text for t in transcripts]

    def regex_loop():
        n = 0
        for term in sample:
            rx = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
            for text in full:
                for _m in rx.finditer(text):
                    n += 1
        return n

    alternation = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")\b",
                             re.IGNORECASE)
    timer.run("one alternation regex", lambda: sum(1 for text in full for _m in alternation.finditer(text)))
    rx_hits = timer.run("regex loop", regex_loop)
    scale = len(terms) / len(sample)
    timer.wall["regex loop"] *= scale
    timer.cpu["regex loop"] *= scale

    print()
    print(f"{'':40}{'wall s':>8}{'words/s':>12}{'cpu s':>8}{'words/s':>12}")
    for name in [*steps, "one alternation regex", "regex loop"]:
        label = name if name != "regex loop" or scale == 1 else f"regex loop ({len(sample)} terms, scaled)"
        w, c = timer.wall[name], timer.cpu[name]
        print(f"{label:40}{w:8.2f}{words / w:12,.0f}{c:8.2f}{words / c:12,.0f}")
    print()
    main_step = "autocode (turn, fuzzy)"
    for clock, t in (("wall", timer.wall), ("cpu", timer.cpu)):
        bare_t = t["bare spaCy + PhraseMatcher"]
        print(f"{clock}: speed of autocode / bare spaCy + PhraseMatcher = {bare_t / t[main_step]:.2f}x (target >= 0.9), "
              f"without writing the CSV {bare_t / t['autocode (turn, fuzzy, no write)']:.2f}x; "
              f"/ qualkit nlp.pipe {t['qualkit nlp.pipe'] / t[main_step]:.2f}x; "
              f"/ one alternation regex {t['one alternation regex'] / t[main_step]:.2f}x; "
              f"/ regex loop {t['regex loop'] / t[main_step]:.1f}x")
    result, sresult = results[main_step], results["autocode (sentence, fuzzy)"]
    coded_turns = len({(c.transcript, c.start) for c in result.codings})
    print(f"turns with a suggestion: {coded_turns:,} of {len(texts):,}; "
          f"suggestions: {len(result.codings):,} turn units, {len(sresult.codings):,} sentence units; "
          f"regex loop found {rx_hits:,} exact hits" + ("" if scale == 1 else " (sampled terms)"))
    kinds = {k: sum(c.matches[k] for c in result.counts.values()) for k in ("exact", "lemma", "pattern", "fuzzy")}
    print(f"matches by kind: {kinds}; fuzzy corrections: {len(result.corrections)} distinct words")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
