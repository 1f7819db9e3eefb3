"""Yardsticks for bench/commands.py: the least work a command could do on the same study.

Not a test. Each baseline is run as its own fresh process, exactly as the commands are, so its
start-up counts the same way:

* ``floor``: the CLI floor, ``qualkit --help`` (Python start-up and the CLI's lazy imports). It
  imports no heavy library, so it is a floor for a light command, not for ``run``;
* ``libs``: the import floor of ``run``: Python start-up plus importing the libraries ``run`` cannot
  avoid on any study (``RUN_LIBRARIES``: pandas and numpy for its tables, openpyxl and python-docx
  for the XLSX/DOCX exports, jinja2 for the report, PyYAML and pydantic for the codebooks and
  qualkit.yaml, filelock, click, lxml). Nothing else: qualkit's own modules and work are what the
  ratio ``run / libs`` measures;
* ``read``: a bare read + decode + split of every transcript (what ingest cannot avoid);
* ``parse``: ``read`` plus what finding turns cannot avoid either: the text split into lines and one
  regex (a ``Name:`` label) tried on each line. A floor for a cold ingest, which must parse every file
  (``read`` stays the yardstick the issue set; this one says how much of the rest is parsing at all);
* ``spacy``: truly bare spaCy: ``spacy.blank("en")`` with its rule-based ``sentencizer`` and one
  ``PhraseMatcher`` (attr LOWER) of every codebook keyword over every blank-line-separated turn
  (what autocode cannot avoid: it codes turns or sentences);
* ``regex``: one case-insensitive alternation regex of every keyword over each transcript's text;
* ``krippendorff``: the krippendorff package's nominal alpha of the first three coders over the
  study's turn x code units (the same matrix size as ``qualkit agree`` pools).

    python bench/baselines.py floor|libs|read|parse|spacy|regex|krippendorff WORKSPACE
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["RUN_LIBRARIES", "main"]

# What `qualkit run` must import on any study, whatever qualkit does (python -X importtime on the sample).
# pydantic.main: `import pydantic` alone defers BaseModel, which every schema needs.
RUN_LIBRARIES = ("click", "numpy", "pandas", "openpyxl", "docx", "pydantic.main", "jinja2", "yaml", "filelock",
                 "lxml.etree")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "transcripts").rglob("*") if p.is_file() and not p.name.startswith("."))


def _keywords(root: Path) -> list[str]:
    import yaml

    out: list[str] = []
    for book in sorted((root / "codebooks").glob("*.yaml")):
        for code in (yaml.safe_load(book.read_text(encoding="utf-8")) or {}).get("codes") or []:
            out += [str(k) for k in code.get("keywords") or []]
    return out


def read(root: Path) -> int:
    words = 0
    for f in _files(root):
        words += len(f.read_bytes().decode("utf-8", errors="replace").split())
    return words


def parse(root: Path) -> int:
    import re

    label = re.compile(r"@?[^\W_][^:\n?!;\"“”\[\]*]{0,59}?[ \t]?:(?=\s|$)")  # qualkit's "Name:" line shape
    words = labels = 0
    for f in _files(root):
        text = f.read_bytes().decode("utf-8", errors="replace")
        labels += sum(1 for line in text.split("\n") if label.match(line))
        words += len(text.split())
    return words + labels


def bare_spacy(root: Path) -> int:
    import spacy
    from spacy.matcher import PhraseMatcher

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("kw", list(nlp.tokenizer.pipe(_keywords(root))))
    turns = (t for f in _files(root) for t in f.read_text(encoding="utf-8").split("\n\n") if t.strip())
    return sum(len(matcher(doc)) for doc in nlp.pipe(turns))


def regex(root: Path) -> int:
    import re

    terms = sorted(_keywords(root), key=len, reverse=True)
    rx = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)
    return sum(1 for f in _files(root) for _m in rx.finditer(f.read_text(encoding="utf-8")))


def krippendorff_alpha(root: Path) -> int:
    """The krippendorff package's nominal alpha for each of the first 10 codes (present / absent per
    coded span start): what `qualkit agree` computes per code, on the package's dense input.
    (All 60 labels in one matrix made the package take 12 GB at 1,000 transcripts.)"""
    import csv

    import krippendorff
    import numpy as np

    coders = sorted(p.stem for p in (root / "codings").glob("coder*.csv"))[:3]
    keys: dict[tuple[str, str], int] = {}
    coded: list[set[tuple[int, str]]] = []
    for coder in coders:
        seen: set[tuple[int, str]] = set()
        with open(root / "codings" / f"{coder}.csv", encoding="utf-8-sig", newline="") as fh:
            for rec in csv.DictReader(fh):
                seen.add((keys.setdefault((rec["transcript"], rec["start"]), len(keys)), rec["code"]))
        coded.append(seen)
    for code in [f"c{k:02d}" for k in range(1, 11)]:
        data = np.zeros((len(coders), len(keys)))
        for r, seen in enumerate(coded):
            data[r, [i for i, c in seen if c == code]] = 1
        print(code, krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return len(keys)


KINDS = ("floor", "libs", "read", "parse", "spacy", "regex", "krippendorff")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in KINDS:
        print(f"usage: python bench/baselines.py {'|'.join(KINDS)} [WORKSPACE]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    kind, root = argv[0], Path(argv[1]) if len(argv) > 1 else Path(".")
    if kind == "floor":
        import runpy

        sys.argv = ["qualkit", "--help"]
        try:
            runpy.run_module("qualkit.cli", run_name="__main__")
        except SystemExit:
            pass
        return 0
    if kind == "libs":
        import importlib

        for name in RUN_LIBRARIES:
            importlib.import_module(name)
        return 0
    fn = {"read": read, "parse": parse, "spacy": bare_spacy, "regex": regex, "krippendorff": krippendorff_alpha}[kind]
    print(kind, fn(root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
