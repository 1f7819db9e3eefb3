"""Bounded memory (issue 17): a study of 5,000 interviews holds close to a million codings and as many
excerpts and units, so what each one holds is multiplied by a million. These tests check the shape
that keeps `export all`, `report` and `run` under 1 GB there: equal values held once, nothing copied
per passage that the passage's coding or turn already holds. Each is a user's action on the sample
study with the same answer as before."""
from __future__ import annotations

import qualkit
from qualkit.analysis.matrices.cooccurrence import _unit_sets
from qualkit.analysis.sources import Excerpt, load_excerpts
from qualkit.coding.anchoring import anchored_codings


def test_an_excerpt_holds_its_codings_quote_not_a_copy(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws, "ana")
    quotes = {c.key: c.text for c in anchored_codings(ws, "ana")}
    within_a_turn = [e for e in ex.excerpts if quotes.get((e.transcript, e.start, e.end, e.code)) == e.text]
    assert len(within_a_turn) > 50
    assert all(e.text is quotes[(e.transcript, e.start, e.end, e.code)] for e in within_a_turn)


def test_excerpts_of_one_participant_share_one_attributes_dict(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws)
    by_participant: dict[str, set[int]] = {}
    for e in ex.excerpts:
        if e.participant:
            by_participant.setdefault(e.participant, set()).add(id(e.attributes))
    assert by_participant
    assert max(len(ids) for ids in by_participant.values()) <= 3  # a few case sections at most, not one per passage
    assert sum(len(ids) for ids in by_participant.values()) < len(ex.excerpts) / 5


def test_an_excerpt_has_no_per_object_dict():
    e = Excerpt("int1", 0, 5, "code", "words")
    assert not hasattr(e, "__dict__")  # slots: about 150 bytes instead of 500 per passage


def test_cooccurrence_units_with_the_same_codes_share_one_row(sample_workspace):
    ws = qualkit.Workspace(sample_workspace)
    ex = load_excerpts(ws)
    unit_sets, n_units = _unit_sets(ws, ex, "turn", lambda code: code)
    assert n_units == len(unit_sets) > 100
    distinct = {id(row) for row in unit_sets}
    assert len(distinct) == len(set(unit_sets)) < n_units  # equal rows (most often: nothing coded) are one object
    assert all(isinstance(one, frozenset) for row in unit_sets for one in row)
