"""Codebook-length labels in a numpy string array: every cell is named by one byte and then
proven, byte for byte, to be the label it is counted as, so alpha (and every statistic) is the
value the same labels give in Python lists, whatever the labels look like.

Issue 17 (session 8): nominal alpha on a ``<U20`` array ('barriers to access 3') was 5.4-9.2x
the numeric array's time. Each case below is an array a user could pass, checked against the
list path (None for '') and, where it is one, the numeric array it encodes.
"""
from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import qualkit.agreement as ag
from qualkit.agreement import _data, _guessed
from qualkit.agreement._data import AgreementError

SEED = 20261208
STATISTICS = [ag.krippendorff_alpha, ag.fleiss_kappa, ag.percent_agreement, ag.gwet_ac1]


def _as_lists(arr: np.ndarray) -> list[list[object]]:
    return [[(x.decode() if isinstance(x, bytes) else x) or None for x in row] for row in arr.tolist()]


def _coded(names: list[str], shape: tuple[int, int], seed: int, missing: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Coders who mostly agree on ``names`` (20% errors, some '' missing): the string array and
    the numeric array (1..len(names), NaN missing) it encodes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, len(names) + 1, size=shape[1])
    idx = np.tile(truth, (shape[0], 1))
    wrong = rng.random(shape) < 0.2
    idx[wrong] = rng.integers(1, len(names) + 1, size=int(wrong.sum()))
    idx[rng.random(shape) < missing] = 0
    return np.array(["", *names])[idx], np.where(idx == 0, np.nan, idx.astype(float))


def _agrees_with_lists(arr: np.ndarray, numeric: np.ndarray | None = None) -> None:
    as_lists = _as_lists(arr)
    coded, expected = _data.coerce(arr), _data.coerce(as_lists)
    assert tuple(c.decode() if isinstance(c, bytes) else c for c in coded.categories) == expected.categories
    assert np.array_equal(coded.codes.astype(np.intp), expected.codes.astype(np.intp))
    alpha = ag.krippendorff_alpha(as_lists)
    assert ag.krippendorff_alpha(arr) == pytest.approx(alpha, abs=1e-12)
    if numeric is not None:
        assert ag.krippendorff_alpha(arr) == pytest.approx(ag.krippendorff_alpha(numeric), abs=1e-12)


CODEBOOKS = {
    "a long shared prefix": [f"barriers to access {k}" for k in range(1, 6)],
    "differing only in the last character": ["implementation climate a", "implementation climate b",
                                             "implementation climate c"],
    "non-ASCII": ["équité en santé", "accès aux soins", "公平", "δικαιοσύνη", "coût élevé"],
    "longer than 20 characters": ["readiness for implementation: leadership engagement",
                                  "readiness for implementation: available resources",
                                  "readiness for implementation: access to knowledge"],
    "nothing in common": ["cost", "culture", "leadership engagement", "patient needs and resources", "zz"],
    "many labels": [f"theme {k:03d}: a code from a long codebook" for k in range(120)],
    "a paragraph each": [f"{k} " + "a definition from the codebook, quoted in full, " * 6 for k in range(1, 7)],
}


@pytest.mark.parametrize("name", sorted(CODEBOOKS))
@pytest.mark.parametrize("units", [40, 3_000, 40_000])
def test_alpha_on_a_string_array_of_codebook_labels_is_the_list_and_numeric_value(name, units):
    arr, numeric = _coded(CODEBOOKS[name], (3, units), SEED + units + len(name))
    _agrees_with_lists(arr, numeric)
    _agrees_with_lists(np.char.encode(arr, "utf-8"))  # the same labels as bytes (dtype S)
    for f in STATISTICS[1:]:  # the others on complete data ('' made a label's first cell)
        full = np.where(arr == "", arr[arr != ""][0], arr)
        assert f(full) == pytest.approx(f(_as_lists(full)), abs=1e-12)


def test_a_label_in_one_cell_far_into_the_array_is_counted_as_itself():
    """A cell that differs from a common label only at bytes other than the one cells are named
    by (or only at that byte) is found by the byte-for-byte check, not taken for the label."""
    labels = CODEBOOKS["a long shared prefix"]
    for stranger in ("barriers to acceXs 3", "carriers to access 3", "barriers to access 9", "barriers to access 3 "):
        arr, _ = _coded(labels, (3, 60_000), SEED)
        arr = arr.astype("<U24")
        arr[2, 59_998] = stranger
        _agrees_with_lists(arr)
        assert stranger in _data.coerce(arr).categories


def test_a_missing_cell_that_is_not_empty_is_caught():
    """A cell whose naming byte is 0 but which is not '' (a shorter label) is not missing."""
    arr, _ = _coded(CODEBOOKS["a long shared prefix"], (2, 20_000), SEED + 1)
    arr[1, 17_777] = "barriers"  # no byte where the others say which they are
    _agrees_with_lists(arr)


def test_arrays_after_one_another_with_other_labels_give_their_own_categories():
    """The labels of the last array are tried first; an array with fewer, more or other labels
    still gets exactly the labels it has."""
    labels = CODEBOOKS["a long shared prefix"]
    full, _ = _coded(labels, (3, 5_000), SEED + 2)
    fewer = np.where(full == labels[0], labels[1], full)
    more = full.copy()
    more[0, 4_321] = "barriers to access 6"
    other, _ = _coded(CODEBOOKS["non-ASCII"], (3, 5_000), SEED + 3)
    for arr in (full, fewer, more, other, full, np.full((2, 100), ""), fewer):
        try:
            expected = ag.krippendorff_alpha(_as_lists(arr))
        except AgreementError as e:
            with pytest.raises(AgreementError, match=re.escape(str(e))):
                ag.krippendorff_alpha(arr)
            continue
        assert ag.krippendorff_alpha(arr) == pytest.approx(expected, abs=1e-12)
        _agrees_with_lists(arr)
    assert labels[0] not in _data.coerce(fewer).categories


def test_declared_categories_keep_their_order_and_unused_ones():
    arr, _ = _coded(CODEBOOKS["differing only in the last character"], (3, 10_000), SEED + 4)
    declared = ["implementation climate c", "never used", "implementation climate a", "implementation climate b"]
    coded, expected = _data.coerce(arr, declared), _data.coerce(_as_lists(arr), declared)
    assert coded.categories == expected.categories == tuple(declared)
    assert np.array_equal(coded.codes.astype(np.intp), expected.codes.astype(np.intp))


def test_any_memory_layout_and_byte_order_give_the_same_alpha():
    arr, numeric = _coded(CODEBOOKS["non-ASCII"], (3, 8_000), SEED + 5)
    expected = ag.krippendorff_alpha(numeric)
    for given in (arr.astype(">U20"), np.asfortranarray(arr), arr.T.copy().T, arr[:, ::-1][:, ::-1]):
        assert ag.krippendorff_alpha(given) == pytest.approx(expected, abs=1e-12)


def test_threads_counting_at_once_each_get_their_own_value():
    arrays = [_coded(CODEBOOKS[name], (3, 30_000), SEED + i) for i, name in enumerate(sorted(CODEBOOKS))]
    expected = [ag.krippendorff_alpha(numeric) for _, numeric in arrays]
    got: dict[int, list[float]] = {}

    def count(i: int) -> None:
        got[i] = [ag.krippendorff_alpha(arrays[(i + j) % len(arrays)][0]) for j in range(len(arrays))]

    threads = [threading.Thread(target=count, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, values in got.items():
        assert values == pytest.approx([expected[(i + j) % len(arrays)] for j in range(len(arrays))], abs=1e-12)


def test_labels_no_one_byte_tells_apart_are_left_to_the_other_routes():
    labels = ["ab cd ef gh ij", "ba dc fe hg ji", "ab dc ef hg ij", "ba cd fe gh ji"]  # every byte shared
    arr, numeric = _coded(labels, (3, 10_000), SEED + 6)
    assert _guessed.guessed_shifted_codes(arr) is None
    _agrees_with_lists(arr, numeric)


def test_labels_whose_sample_hashes_collide_still_get_their_own_codes(monkeypatch):
    """The sample's labels are told apart by a hash only to make the first guess: with every
    hash in one bucket the guess holds one label, and the cells of the others, which fail the
    byte-for-byte check, bring theirs in (or leave the array to the other routes)."""
    monkeypatch.setattr(_guessed, "_BUCKET_BITS", 0)
    monkeypatch.setattr(_guessed, "_last", {})
    for names in (CODEBOOKS["a long shared prefix"][:3], CODEBOOKS["non-ASCII"]):
        arr, numeric = _coded(names, (3, 9_000), SEED + 7)
        _agrees_with_lists(arr, numeric)
    calls: list[bytes] = []
    plan = _guessed._cached_plan.__wrapped__
    monkeypatch.setattr(_guessed, "_cached_plan", lambda found, dtype: calls.append(found) or plan(found, dtype))
    monkeypatch.setattr(_guessed, "_last", {})
    arr, numeric = _coded(CODEBOOKS["a long shared prefix"][:3], (3, 9_000), SEED + 8)
    assert _guessed.guessed_shifted_codes(arr) is not None and len(calls) == 3  # one label more each time
    _agrees_with_lists(arr, numeric)
