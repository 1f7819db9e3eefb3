"""Keyword inflections without a lemmatizer pass: the blank pipeline matches "overdoses" for the keyword
"overdose" on the lower-case words (the lookup table reversed), with the same suggestions as lemmatizing
every turn gives."""
from __future__ import annotations

import dataclasses

from qualkit.api import Workspace
from qualkit.coding import autocode_matcher
from qualkit.coding.autocode import autocode
from qualkit.coding.nlp import load_pipeline
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.scaffold import init

TEXT = """\
Interviewer: Tell me about the overdoses last winter.
Maria: Two people overdosed in March. Overdosing is what we fear. He took days to answer and takes days still.
Interviewer: Who drives the van?
Maria: Luis drove it; he is driving it now. The Roads are bad. We were taking the naloxon kits.
Maria: Data-sharing agreements are slow, and data sharing agreement talks drag.
"""
CODES = [
    Code("overdose", "Overdose", origin="deductive", keywords=["overdose", "naloxone"]),
    Code("transport", "Transport", origin="deductive", keywords=["drive", "road", "take day"],
         patterns=[[{"LEMMA": "take"}, {"LOWER": "days"}, {"LOWER": "to"}]]),
    Code("sharing", "Data sharing", origin="deductive", keywords=["data sharing agreement", "be slow"]),
]


def make_ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n"
                                           ",Maria,P1,participant\n,Luis,P2,participant\n", encoding="utf-8")
    (root / "transcripts" / "int1.txt").write_text(TEXT, encoding="utf-8")
    save_codebook(Codebook("port", "PORT codebook", CODES), root / "codebooks" / "port.yaml")
    return Workspace(root)


def suggestions(ws, unit):
    r = autocode(ws, "port", unit, include_facilitators=True, write=False)
    return [dataclasses.replace(c, coded_at="") for c in r.codings], {c: n.matches for c, n in r.counts.items()}


def test_an_inflected_keyword_still_matches_as_a_lemma_and_turns_are_not_lemmatized(tmp_path):
    ws = make_ws(tmp_path)
    r = autocode(ws, "port", include_facilitators=True, write=False)
    memos = " ".join(c.memo for c in r.codings)
    assert '"overdoses" lemma of "overdose"' in memos
    assert '"overdosed" lemma of "overdose"' in memos and '"Overdosing" lemma of "overdose"' in memos
    assert '"drove" lemma of "drive"' in memos and '"Roads" lemma of "road"' in memos
    assert '"Data-sharing agreements" lemma of "data sharing agreement"' in memos
    assert '"are slow" lemma of "be slow"' in memos
    assert '"took days to" pattern 1' in memos and '"naloxon" fuzzy 93 of "naloxone"' in memos
    engine = autocode_matcher.AutoCoder(CODES, load_pipeline())
    assert not engine.needs_lemmas  # Docs are only tokenized


def test_same_suggestions_as_lemmatizing_every_turn(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    fast = [suggestions(ws, unit) for unit in ("turn", "sentence")]
    monkeypatch.setattr(autocode_matcher, "MAX_INFLECTED", 0)  # too many sequences: the LEMMA matcher
    slow = [suggestions(ws, unit) for unit in ("turn", "sentence")]
    assert autocode_matcher.AutoCoder(CODES, load_pipeline()).needs_lemmas
    assert fast == slow
    assert fast[0][1]["overdose"]["lemma"] == 3


def test_lemma_forms_are_the_lookup_table_reversed():
    p = load_pipeline()
    assert sorted(p.lemma_forms("overdose")) == ["overdose", "overdosed", "overdoses", "overdosing"]
    assert "took" in p.lemma_forms("take") and "qualkitword" in p.lemma_forms("qualkitword")


def test_the_dictionary_array_holds_every_known_word_hash_in_order():
    """Fuzzy matching looks words up in it by binary search (numpy.isin), so it must be sorted."""
    p = load_pipeline()
    hashes = p.dictionary_hashes
    assert p.dictionary_array.dtype.name == "uint64"
    assert p.dictionary_array.tolist() == sorted(hashes)
