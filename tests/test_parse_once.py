"""Parsed once (issue 17, `run` on the sample study against its import floor): what a command asks for
again is not computed again. `run` on the sample read and parsed the two codebooks 46 times and
scored the same quotes for the same codes up to four times; the answers must not change, only the work.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from qualkit.analysis import quote_text
from qualkit.workspace import codebook as codebook_module
from qualkit.workspace.codebook import load_codebooks, read_codebook

BOOK = """id: study
name: Study codebook
codes:
  - id: trust
    name: Trust between partners
    keywords: [trust, rapport]
    patterns: [[{LOWER: trust}]]
  - id: cost
    name: Cost
"""


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each YAML parse of a codebook file, by path."""
    seen: list[Path] = []
    real = codebook_module.load_yaml_file

    def counting(path, *args, **kwargs):
        seen.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(codebook_module, "load_yaml_file", counting)
    monkeypatch.setattr(codebook_module, "_READ_CACHE", {}, raising=False)
    return seen


def test_a_codebook_read_again_unchanged_is_parsed_once(tmp_path: Path, parses: list[Path]) -> None:
    (tmp_path / "study.yaml").write_text(BOOK, encoding="utf-8")
    first = load_codebooks(tmp_path)
    again = load_codebooks(tmp_path)
    assert len(parses) == 1
    assert [c.id for c in again[0].codes] == ["trust", "cost"] == [c.id for c in first[0].codes]
    assert again[0].codes == first[0].codes


def test_changing_what_was_read_does_not_change_the_next_read(tmp_path: Path, parses: list[Path]) -> None:
    (tmp_path / "study.yaml").write_text(BOOK, encoding="utf-8")
    book = load_codebooks(tmp_path)[0]
    book.codes[0].keywords.append("faith")
    book.codes[0].patterns[0][0]["LOWER"] = "distrust"
    book.codes.pop()
    book.log("ana", "dropped cost")
    again = load_codebooks(tmp_path)[0]
    assert again.codes[0].keywords == ["trust", "rapport"]
    assert again.codes[0].patterns == [[{"LOWER": "trust"}]]
    assert [c.id for c in again.codes] == ["trust", "cost"] and again.changelog == []


def test_a_file_rewritten_in_place_with_its_size_and_time_kept_is_read_anew(tmp_path: Path, parses: list[Path]) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(BOOK, encoding="utf-8")
    stat = path.stat()
    assert load_codebooks(tmp_path)[0].codes[1].name == "Cost"
    path.write_text(BOOK.replace("name: Cost", "name: Fees"), encoding="utf-8")  # same length, same inode
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_codebooks(tmp_path)[0].codes[1].name == "Fees"
    assert len(parses) == 2


def test_the_lines_of_a_code_are_found_in_every_read(tmp_path: Path) -> None:
    # messages name the line of a code's field: a copy must keep them
    path = tmp_path / "study.yaml"
    path.write_text(BOOK, encoding="utf-8")
    for _ in range(2):
        book, problems, lines = read_codebook(path)
        assert book is not None and problems == []
        assert [lines.of(c, "name") for c in book.codes] == [5, 9]
        assert [lines.of(c, "keywords") for c in book.codes] == [6, 8]  # none: where the code starts


def test_a_codebook_with_problems_gives_the_same_problems_every_time(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BOOK.replace("id: cost", "id: Cost Code"), encoding="utf-8")
    first, again = read_codebook(path)[1], read_codebook(path)[1]
    assert first and first == again


def _pairwise_score(sentence: str, terms: set[str]) -> int:
    """The definition: a term counts when a word equals it, or (both 5+ letters) one begins the other."""
    words = quote_text.word_stems(sentence)
    return sum(1 for t in terms if any(w == t or (len(t) >= 5 and len(w) >= 5 and (w.startswith(t) or t.startswith(w)))
                                       for w in words))


@pytest.mark.parametrize("sentence, terms", [
    ("The outreach workers built trust with the families.", ["trusted relationships", "outreach"]),
    ("Uniformed officers scared people off.", ["uniform", "officer presence"]),
    ("We faxed the consent forms to the clinic.", ["fax", "consent form", "clinical data"]),
    ("Nothing here matches at all.", ["naloxone", "stigma"]),
    ("Transportation was the barrier; transport vans were rare.", ["transportation barriers", "trans"]),
])
def test_a_sentence_scores_by_the_terms_it_carries(sentence: str, terms: list[str]) -> None:
    wanted, begins = quote_text._matcher(tuple(terms))
    assert quote_text._score(sentence, wanted, begins) == _pairwise_score(sentence, set(wanted))


def test_the_same_passage_quoted_for_the_same_code_is_focused_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lingard 2019: the sentences carrying the code's terms are kept; the pick is the same the second time
    from qualkit.coding import units

    calls = []
    real = units.split_sentences
    monkeypatch.setattr(units, "split_sentences", lambda text: calls.append(text) or real(text))
    quote_text._focus_quote.cache_clear()
    text = "We met at the diner every week. " * 6 + "The sheriff's deputies carried naloxone on every shift. " + "Then we left. " * 6
    first = quote_text.focus_quote(text, ["naloxone", "carry"], 120)
    again = quote_text.focus_quote(text, ["naloxone", "carry"], 120)
    assert first == again and "naloxone" in first and len(first) <= 120
    assert len(calls) == 1


def test_exporting_does_not_import_the_deid_detector() -> None:
    # every export goes through deid.apply; the detector's patterns (regexes compiled at import) are for `deid scan`
    import subprocess
    import sys

    code = "import sys, qualkit.deid.apply; print(sorted(m for m in sys.modules if m.startswith('qualkit.deid.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(quote_text.__file__).parents[2])}).stdout
    assert "qualkit.deid.patterns" not in out and "qualkit.deid.detect" not in out
