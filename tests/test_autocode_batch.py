"""Turns tokenized and matched joined (qualkit.coding.autocode_batch) give exactly the matches that one
Doc per turn gives: checked on generated turns full of what makes spaCy's tokenizer split or merge
(special cases, apostrophes, hyphens, emoticons, abbreviations), line breaks and runs of spaces,
case and unicode, misspellings, acronyms and token patterns that match whitespace or sentence starts."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.api import Workspace
from qualkit.coding import autocode_batch
from qualkit.coding.autocode import autocode
from qualkit.coding.autocode_batch import can_join, match_texts
from qualkit.coding.autocode_matcher import AutoCoder
from qualkit.coding.nlp import load_pipeline
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.scaffold import init

CODES = [
    Code("overdose", "Overdose", keywords=["overdose", "naloxone", "buprenorphine"]),
    Code("transport", "Transport", keywords=["drive", "road", "take day", "can not"],
         patterns=[[{"LEMMA": "take"}, {"IS_SPACE": True, "OP": "?"}, {"LOWER": "days"}],
                   [{"IS_SENT_START": True, "LOWER": "roads"}]]),
    Code("sharing", "Data sharing", keywords=["data sharing agreement", "be slow", "e.g.", "follow-up"]),
    Code("acronyms", "Acronyms", keywords=["ED", "HIPAA", "U.S."]),
]
# a pattern with no word it requires runs on every turn
UNANCHORED = [*CODES, Code("space", "Space", patterns=[[{"IS_SPACE": True}, {"IS_TITLE": True}]])]

WORDS = ["overdose", "Overdoses", "OVERDOSED", "naloxone", "naloxon", "Naloxóne", "buprenorphene", "drove",
         "driving", "Roads", "road's", "took", "days", "day", "data", "Data-sharing", "sharing", "agreement",
         "agreements", "is", "are", "slow", "can", "not", "cannot", "can't", "don't", "won't", "gonna", "e.g.",
         "e.g", "a.m.", "U.S.", "U.S", "ED", "Ed", "ed", "HIPAA", "hipaa", "follow-up", "follow", "up", ":)",
         "(", ")", "-", "--", ".", ",", "'", "’s", "'s", "\"", "...", "İstanbul", "ΟΔΟΣ", "straße", "café",
         "naïve", "x", "1990s", "10km", "$5", "e-mail", "co-op", "the", "The", "and", "A"]
SPACES = [" ", " ", " ", " ", "", "  ", "\n", "\n\n", "\t", " \n ", "\u00a0"]


@st.composite
def turn_texts(draw):
    n = draw(st.integers(1, 30))
    out = []
    for _ in range(n):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25))
        seps = draw(st.lists(st.sampled_from(SPACES), min_size=len(words) + 1, max_size=len(words) + 1))
        text = "".join(s + w for s, w in zip(seps, words)) + seps[-1]
        out.append(text if draw(st.booleans()) else text.strip())
    return out


def one_doc_per_turn(engine, texts):
    """What auto-coding did before: one Doc per turn, tokenized only, matched batch by batch."""
    docs = [engine.pipeline.make_doc(t) for t in texts]
    return engine.match_many(docs, texts)


def engines(codes, threshold=80.0):
    pipeline = load_pipeline()
    return (AutoCoder(codes, pipeline, fuzzy=True, threshold=threshold),
            AutoCoder(codes, pipeline, fuzzy=True, threshold=threshold))


@pytest.mark.parametrize("codes", [CODES, UNANCHORED], ids=["anchored", "unanchored"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=turn_texts(), group=st.sampled_from([1, 40, 200, 16_000]))
def test_joined_turns_match_exactly_as_one_doc_per_turn(codes, texts, group):
    joined, alone = engines(codes)
    assert can_join(joined)
    old = autocode_batch.GROUP_CHARS
    autocode_batch.GROUP_CHARS = group
    try:
        got = match_texts(joined, texts)
    finally:
        autocode_batch.GROUP_CHARS = old
    assert got == one_doc_per_turn(alone, texts)
    assert joined.corrections == alone.corrections


def test_the_tricky_cases_match_and_the_separator_is_checked():
    texts = ["Naloxon and buprenorphene, e.g. at the ED.", "  Roads\n\nare slow  ", "took \n days", "U.S. HIPAA rules",
             "We can't drive; we cannot drive.", "Roads (took days) :) follow-up"]
    joined, alone = engines(CODES)
    got = match_texts(joined, texts)
    assert got == one_doc_per_turn(alone, texts)
    kinds = {(m.code, m.kind, m.text) for ms in got for m in ms}
    assert ("overdose", "fuzzy", "Naloxon") in kinds and ("acronyms", "exact", "ED") in kinds
    assert ("transport", "pattern", "took days") in kinds and ("transport", "lemma", "cannot") in kinds
    # a special case holding a blank line could span two turns: then turns are matched one by one
    pipeline = load_pipeline()
    pipeline.nlp.tokenizer.add_special_case("x\n\ny", [{"ORTH": "x"}, {"ORTH": "\n\n"}, {"ORTH": "y"}])
    try:
        assert not can_join(AutoCoder(CODES, pipeline))
    finally:
        pipeline.nlp.tokenizer.rules = {k: v for k, v in pipeline.nlp.tokenizer.rules.items() if k != "x\n\ny"}
    assert can_join(AutoCoder(CODES, pipeline))


def test_autocode_writes_the_same_suggestions_joined_or_turn_by_turn(tmp_path, monkeypatch):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n"
                                           ",Maria,P1,participant\n", encoding="utf-8")
    turns = ["Maria: Naloxon saved him. The roads are slow, e.g. in winter.", "Interviewer: And the ED?",
             "Maria: The ED took days\nto call. Data-sharing agreements can't follow-up.", "Maria: HIPAA :) ok."]
    (root / "transcripts" / "int1.txt").write_text("\n\n".join(turns) * 3, encoding="utf-8")
    save_codebook(Codebook("port", "PORT codebook", CODES), root / "codebooks" / "port.yaml")
    ws = Workspace(root)

    def suggestions(unit):
        r = autocode(ws, "port", unit, threshold=80, write=False)
        return [dataclasses.replace(c, coded_at="") for c in r.codings], r.units, r.corrections

    fast = [suggestions(u) for u in ("turn", "sentence")]
    monkeypatch.setattr(autocode_batch, "can_join", lambda engine: False)
    assert fast == [suggestions(u) for u in ("turn", "sentence")]
    assert fast[0][0] and fast[0][2]
