"""Benchmark: precision and recall of `qualkit deid scan`'s detectors, per kind, on labelled interviews.

Not a test. Each file in bench/deid_data/ is an interview with identifiers marked
``[[kind|text]]`` and everyday words that must survive marked ``<<word>>`` (drug names, insurers,
weekdays, acronyms, census names that are common words). Header lines give the participants
(speaker label = id) and the sites, as participants.csv would.

A proposed span counts as a hit when it overlaps a labelled identifier (kind-agnostic; the table
also reports how many hits have the right kind). ``tuning.txt`` was used while writing the
detectors; ``heldout.txt`` was written before they were run on it and never used to adjust them.
With ``--compare``, Microsoft Presidio's analyzer (pattern recognizers over a blank spaCy pipeline:
no trained model can be downloaded here) and scrubadub's default detectors are measured on the
same spans when they are installed.

    python bench/deid.py [--compare] [FILE...]
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parent / "deid_data"
_MARK = re.compile(r"\[\[(\w+)\|([^\]]+)\]\]|<<([^>]+)>>")

Span = tuple[int, int, str]


def parse(path: Path) -> tuple[str, list[Span], list[tuple[int, int]], dict[str, str], list[str]]:
    """The plain text, the labelled identifiers, the must-survive words, participants and sites."""
    participants: dict[str, str] = {}
    sites: list[str] = []
    body = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("# participants:"):
            participants = dict(p.strip().split("=") for p in line.split(":", 1)[1].split(";"))
        elif line.startswith("# sites:"):
            sites = [s.strip() for s in line.split(":", 1)[1].split(";")]
        elif not line.startswith("#"):
            body.append(line)
    marked = "".join(body)
    text, gold, keep, pos = [], [], [], 0
    out_len = 0
    for m in _MARK.finditer(marked):
        text.append(marked[pos:m.start()])
        out_len += m.start() - pos
        word = m.group(2) or m.group(3)
        if m.group(1):
            gold.append((out_len, out_len + len(word), m.group(1)))
        else:
            keep.append((out_len, out_len + len(word)))
        text.append(word)
        out_len += len(word)
        pos = m.end()
    text.append(marked[pos:])
    return "".join(text), gold, keep, participants, sites


def qualkit_detector(participants: dict[str, str], sites: list[str]) -> Callable[[str], list[Span]]:
    from qualkit.deid.detect import Detector

    det = Detector()
    for label, pid in participants.items():
        det.add_participant(label, pid)
    for site in sites:
        det.add_term(site, "place", "participants site")
    return lambda text: [(c.start, c.end, c.kind) for c in det.candidates(text)]


def presidio_detector() -> Callable[[str], list[Span]] | None:
    try:
        from presidio_analyzer import AnalyzerEngine
    except ImportError:
        return None
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankEngine(SpacyNlpEngine):  # Presidio would download en_core_web_lg otherwise
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    nlp_engine = BlankEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp_engine.load()
    engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    kinds = {"PERSON": "person", "LOCATION": "place", "DATE_TIME": "date", "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email",
             "URL": "url", "IP_ADDRESS": "ip", "US_SSN": "number", "MEDICAL_LICENSE": "number", "US_DRIVER_LICENSE": "number"}
    return lambda text: [(r.start, r.end, kinds.get(r.entity_type, r.entity_type.lower()))
                         for r in engine.analyze(text, language="en") if r.score >= 0.3]


def scrubadub_detector() -> Callable[[str], list[Span]] | None:
    try:
        import scrubadub
    except ImportError:
        return None
    scrubber = scrubadub.Scrubber()
    kinds = {"email": "email", "phone": "phone", "url": "url", "name": "person", "address": "address", "date_of_birth": "date"}
    return lambda text: [(f.beg, f.end, kinds.get(f.type, f.type)) for f in scrubber.iter_filth(text)]


def score(text: str, gold: list[Span], keep: list[tuple[int, int]], found: list[Span]) -> dict:
    """Per-kind recall (gold overlapped), precision over all proposals, common words flagged."""
    def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    per_kind: dict[str, list[int]] = {}
    for s, e, kind in gold:
        hits = [f for f in found if overlaps((s, e), f[:2])]
        row = per_kind.setdefault(kind, [0, 0, 0])
        row[0] += 1
        row[1] += bool(hits)
        row[2] += any(f[2] == kind for f in hits)
    true_pos = [f for f in found if any(overlaps(f[:2], g[:2]) for g in gold)]
    false_pos = [text[f[0]:f[1]] for f in found if f not in true_pos]
    flagged_common = sorted({text[s:e] for s, e in keep if any(overlaps((s, e), f[:2]) for f in found)})
    return {"per_kind": per_kind, "found": len(found), "true_pos": len(true_pos), "false_pos": false_pos,
            "flagged_common": flagged_common, "gold": len(gold),
            "missed": [text[s:e] for s, e, _ in gold if not any(overlaps((s, e), f[:2]) for f in found)]}


def report(name: str, result: dict, seconds: float) -> None:
    hit = sum(r[1] for r in result["per_kind"].values())
    precision = result["true_pos"] / result["found"] if result["found"] else float("nan")
    print(f"  {name}: recall {hit}/{result['gold']} = {hit / result['gold']:.0%}, precision "
          f"{result['true_pos']}/{result['found']} = {precision:.0%}, common words flagged "
          f"{len(result['flagged_common'])} {result['flagged_common']}, {seconds * 1000:.0f} ms")
    print(f"    {'kind':<13}{'labelled':>9}{'found':>7}{'recall':>8}{'right kind':>12}")
    for kind, (n, found, right) in sorted(result["per_kind"].items()):
        print(f"    {kind:<13}{n:>9}{found:>7}{found / n:>8.0%}{right:>12}")
    if result["missed"]:
        print(f"    missed: {result['missed']}")
    if result["false_pos"]:
        print(f"    proposed but not labelled: {result['false_pos']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--compare", action="store_true", help="Also measure Presidio and scrubadub when installed.")
    args = parser.parse_args()
    for path in args.files or sorted(DATA.glob("*.txt")):
        text, gold, keep, participants, sites = parse(path)
        print(f"{path.name}: {len(text.split())} words, {len(gold)} labelled identifiers, {len(keep)} words that must survive")
        detectors: list[tuple[str, Callable[[str], list[Span]] | None]] = [("qualkit", qualkit_detector(participants, sites))]
        if args.compare:
            detectors += [("presidio (patterns, blank:en)", presidio_detector()), ("scrubadub", scrubadub_detector())]
        for name, detect in detectors:
            if detect is None:
                print(f"  {name}: not installed")
                continue
            started = time.perf_counter()
            found = detect(text)
            report(name, score(text, gold, keep, found), time.perf_counter() - started)


if __name__ == "__main__":
    main()
