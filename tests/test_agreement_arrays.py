"""Labels that arrive as arrays: numpy string arrays, rows of numpy arrays or pandas Series, and
pandas Categoricals give the same codes, categories and statistics as the same labels in lists.

Issue 17: a numpy ``U`` array was 24x slower than a numeric array (every cell became a Python
string), and rows that were arrays or Series went cell by cell or were refused. Each case is
checked against the list path on seeded random matrices; a numpy string array cannot hold None,
so its missing value is ''.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import qualkit.agreement as ag
from qualkit.agreement import _arrays, _data, _strings
from qualkit.agreement._data import AgreementError, Coded

SEED = 20261207
STATISTICS = [ag.percent_agreement, ag.fleiss_kappa, ag.conger_kappa, ag.gwet_ac1, ag.krippendorff_alpha]
LABELS = {
    "short": ["a", "b", "c", "d", "e", "f", "g", "h"],                   # one 64-bit word per cell
    "long": ["barriers to access", "barriers to accept", "cost", "culture", "équité",
             "leadership engagement", "readiness for implementation", "zz"],  # hashed, then checked
    "unicode": ["α", "β", "γ", "δ", "语", "言", "ε", "ζ"],                  # beyond Latin-1: 4 bytes a character
    "codes": [f"code{k}" for k in range(8)],
}


def _random_labels(rng: np.random.Generator, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A coders × units object matrix of labels (None = missing) and its missing mask."""
    m, n = int(rng.integers(2, 6)), int(rng.integers(1, 400))
    idx = np.tile(rng.integers(0, len(labels), size=n), (m, 1))
    wrong = rng.random(idx.shape) < 0.3
    idx[wrong] = rng.integers(0, len(labels), size=int(wrong.sum()))
    cells = np.array(labels, dtype=object)[idx]
    missing = rng.random(idx.shape) < rng.choice([0.0, 0.1, 0.5])
    cells[missing] = None
    return cells, missing


def _same(a: Coded, b: Coded) -> None:
    assert a.categories == b.categories and a.ordered == b.ordered
    assert np.array_equal(a.codes.astype(np.intp), b.codes.astype(np.intp))


def _string_array(cells: np.ndarray, kind: str = "U") -> np.ndarray:
    filled = np.where(cells == None, "", cells)  # noqa: E711  (elementwise)
    return filled.astype(str) if kind == "U" else np.char.encode(filled.astype(str), "utf-8")


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_a_numpy_string_array_gives_what_the_same_labels_in_lists_give(kind):
    rng = np.random.default_rng(SEED + len(kind))
    for _ in range(30):
        cells, _ = _random_labels(rng, LABELS[kind])
        expected = _data.coerce(cells.tolist())
        _same(_data.coerce(_string_array(cells)), expected)
        as_bytes = _data.coerce(_string_array(cells, "S"))
        assert as_bytes.categories == tuple(c.encode() for c in expected.categories)  # type: ignore[union-attr]
        assert np.array_equal(as_bytes.codes.astype(np.intp), expected.codes.astype(np.intp))
        declared = list(reversed(LABELS[kind]))
        _same(_data.coerce(_string_array(cells), declared), _data.coerce(cells.tolist(), declared))
        for f in STATISTICS:
            try:
                value = f(cells.tolist())
            except AgreementError:
                continue
            assert f(_string_array(cells)) == pytest.approx(value, abs=1e-12)


def test_in_a_string_array_empty_is_missing_and_in_lists_none_and_nan_are():
    rows = [["yes", "no", "", "yes"], ["yes", "no", "no", ""]]
    with_none = [[x or None for x in row] for row in rows]
    with_nan = [[x or float("nan") for x in row] for row in rows]
    assert ag.cohen_kappa(np.array(rows)) == ag.cohen_kappa(with_none) == ag.cohen_kappa(with_nan) == 1.0
    assert ag.krippendorff_alpha(np.array(rows, dtype=object)) != ag.krippendorff_alpha(with_none)  # '' is a label there
    assert _data.coerce(np.array([["", ""], ["", ""]])).categories == ()


def test_string_arrays_in_any_memory_layout_give_the_same_values():
    rows = [["a", "b", "", "c", "a"], ["a", "c", "b", "c", ""], ["b", "b", "b", "c", "a"]]
    expected = ag.krippendorff_alpha([[x or None for x in row] for row in rows])
    wide = np.array([[*row, "longer label"] for row in rows])[:, :5]  # a slice, U12
    for arr in (np.asfortranarray(np.array(rows)), np.array(rows).astype(">U5"), wide, np.array(rows).T.T):
        assert ag.krippendorff_alpha(arr) == expected


def test_a_label_that_is_not_declared_is_reported_at_its_cell_as_in_lists():
    rows = [["a", "b", ""], ["a", "stranger", "b"]]
    with pytest.raises(AgreementError) as from_list:
        ag.percent_agreement([["a", "b", None], ["a", "stranger", "b"]], categories=["a", "b"])
    with pytest.raises(AgreementError) as from_array:
        ag.percent_agreement(np.array(rows), categories=["a", "b"])
    assert str(from_array.value) == str(from_list.value) == (
        "value 'stranger' (coder 1, unit 1) is not among the categories ['a', 'b']")


def test_labels_that_share_a_hash_still_get_their_own_codes(monkeypatch):
    cells, _ = _random_labels(np.random.default_rng(SEED), LABELS["long"])
    monkeypatch.setattr(_strings, "_hash", lambda words: np.zeros(len(words), dtype=np.uint64))
    monkeypatch.setattr(_strings, "_row_keys", lambda rows: np.zeros(len(rows), dtype=np.uint64))
    assert _strings.string_array_codes(_string_array(cells), None) is None  # every check caught it
    _same(_data.coerce(_string_array(cells)), _data.coerce(cells.tolist()))


def _categoricals(cells: np.ndarray, rng: np.random.Generator) -> list[object]:
    """Each coder's labels as a Categorical or a category Series, with its own category order
    and an unused category."""
    rows: list[object] = []
    for row in cells:
        present = sorted({x for x in row if x is not None}) + ["never used"]
        order = [present[k] for k in rng.permutation(len(present))]
        cat = pd.Categorical(row, categories=order)
        rows.append(cat if rng.random() < 0.5 else pd.Series(cat))
    return rows


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_categorical_rows_give_what_the_same_labels_in_lists_give(kind):
    rng = np.random.default_rng(SEED + 7 * len(kind))
    for _ in range(30):
        cells, _ = _random_labels(rng, LABELS[kind])
        rows = _categoricals(cells, rng)
        _same(_data.coerce(rows), _data.coerce(cells.tolist()))
        declared = [*LABELS[kind], "never used"]
        _same(_data.coerce(rows, declared), _data.coerce(cells.tolist(), declared))
        for f in STATISTICS:
            try:
                value = f(cells.tolist())
            except AgreementError:
                continue
            assert f(rows) == pytest.approx(value, abs=1e-12)


def _shared_categoricals(cells: np.ndarray, order: list[str], series: bool) -> list[object]:
    """Every coder's labels over one category list, as ``df[coder].astype(dtype)`` gives them."""
    dtype = pd.CategoricalDtype(order)
    return [pd.Series(row, dtype=dtype) if series else pd.Categorical(row, dtype=dtype) for row in cells]


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_categorical_rows_sharing_one_category_list_give_what_lists_give(kind):
    """One category list for every coder, sorted or not, every category used or some never:
    the same codes, categories and statistics as the labels in lists."""
    rng = np.random.default_rng(SEED + 11 * len(kind))
    for _ in range(30):
        cells, _ = _random_labels(rng, LABELS[kind])
        present = sorted({x for x in cells.ravel() if x is not None})
        for order in (present, present[::-1], [*present, "never used"], ["never used", *present[1:], present[0]]):
            rows = _shared_categoricals(cells, order, series=rng.random() < 0.5)
            _same(_data.coerce(rows), _data.coerce(cells.tolist()))
            declared = [*LABELS[kind], "never used"]
            _same(_data.coerce(rows, declared), _data.coerce(cells.tolist(), declared))
            value = ag.krippendorff_alpha(cells.tolist()) if len(present) > 1 else None
            if value is not None:
                assert ag.krippendorff_alpha(rows) == pytest.approx(value, abs=1e-12)


def test_categorical_rows_sharing_one_category_list_are_read_without_a_table_per_row(monkeypatch):
    """Issue 17: nominal alpha on Categoricals was 2.0-3.8x the numeric array at 1e3-1e4 units:
    each row's codes were counted and mapped through a table of its own (about 10 numpy calls a
    row). Rows sharing one category list are now stacked, and their codes kept as they are when
    the categories are all used and sorted (``pd.Categorical(labels)``'s own)."""
    cells = np.array([["a", "b", None, "c"], ["a", "c", "b", "c"], ["b", "b", "a", None]], dtype=object)

    class NoPerRowCounts:
        def __getattr__(self, name):
            if name in ("bincount", "append"):
                raise AssertionError(f"np.{name} per row")
            return getattr(np, name)

    monkeypatch.setattr(_arrays, "np", NoPerRowCounts())
    coded = _data.coerce(_shared_categoricals(cells, ["a", "b", "c"], series=False))
    _same(coded, _data.coerce(cells.tolist()))
    assert coded.codes.dtype == np.int8
    _same(_data.coerce(_shared_categoricals(cells, ["c", "never used", "a", "b"], series=True)),
          _data.coerce(cells.tolist()))


def test_string_arrays_and_categoricals_never_go_cell_by_cell(monkeypatch):
    """The point of these paths: no Python object per cell (the label path is never called)."""
    cells, _ = _random_labels(np.random.default_rng(SEED), LABELS["long"])
    expected = _data.coerce(cells.tolist())

    def refuse(*args, **kwargs):
        raise AssertionError("went cell by cell")

    monkeypatch.setattr(_data, "label_codes", refuse)
    _same(_data.coerce(_string_array(cells)), expected)
    _same(_data.coerce([pd.Categorical(row) for row in cells]), expected)
    _same(_data.coerce([pd.Series(row, dtype="category") for row in cells]), expected)


def test_rows_of_arrays_and_series_give_what_lists_give():
    rng = np.random.default_rng(SEED)
    for _ in range(20):
        cells, missing = _random_labels(rng, [1, 2, 3, 5, 8])
        numbers = np.where(missing, np.nan, cells).astype(float)
        expected = _data.coerce(cells.tolist())
        _same(_data.coerce(list(numbers)), _data.coerce(numbers))
        _same(_data.coerce([pd.Series(row) for row in numbers]), _data.coerce(numbers))
        _same(_data.coerce([pd.Series(row, dtype="Int64") for row in numbers]), expected)  # pandas NA = missing
        _same(_data.coerce(list(cells)), expected)  # object rows
        text = np.array([[None if x is None else f"c{x}" for x in row] for row in cells], dtype=object)
        _same(_data.coerce(list(_string_array(text))), _data.coerce(text.tolist()))
    complete = [np.array([1, 2, 3, 3]), np.array([1, 2, 3, 1])]
    assert ag.cohen_kappa(complete) == ag.cohen_kappa([[1, 2, 3, 3], [1, 2, 3, 1]])


def test_numbers_and_text_mixed_work_where_no_order_is_needed_and_say_so_where_it_is():
    rows = [np.array([1, 2, 2, 1]), np.array(["1", "2", "", "1"])]
    as_lists = [[1, 2, 2, 1], ["1", "2", None, "1"]]
    assert ag.percent_agreement(rows) == ag.percent_agreement(as_lists) == 0.0  # 1 is not "1"
    with pytest.raises(AgreementError, match="ordinal alpha needs ordered categories: pass categories= in rank order"):
        ag.krippendorff_alpha(rows, level="ordinal")
    with pytest.raises(AgreementError, match="interval alpha needs numeric category labels; got 'a'"):
        ag.krippendorff_alpha(np.array([["a", "b"], ["a", "a"]]), level="interval")
    with pytest.raises(AgreementError, match="linear weights need ordered categories"):
        ag.cohen_kappa([pd.Categorical([1, "a", 2]), pd.Categorical([1, "a", 1])], weights="linear")


def test_rows_that_do_not_make_a_matrix_are_refused_in_one_line():
    ana = pd.Series(["a", "b", "c"], index=["u1", "u2", "u3"])
    ben = pd.Series(["c", "b", "a"], index=["u3", "u2", "u1"])  # the same codes, units in another order
    with pytest.raises(AgreementError, match="the coders' Series have different indexes"):
        ag.percent_agreement([ana, ben])
    assert ag.percent_agreement([ana, ben.loc[ana.index]]) == 1.0
    with pytest.raises(AgreementError, match=r"ragged matrix: rows have \[2, 3\] values"):
        ag.percent_agreement([np.array(["a", "b"]), np.array(["a", "b", "c"])])
    with pytest.raises(AgreementError, match=r"need at least 2 coders \(rows\); got 1"):
        ag.percent_agreement([pd.Categorical(["a", "b"])])
    with pytest.raises(AgreementError, match="data have no units"):
        ag.percent_agreement([pd.Categorical([]), pd.Categorical([])])


def _as_lists(arr: np.ndarray) -> list[list[object]]:
    """The cells of a string array as labels in lists, '' as None (what the array means)."""
    return [[None if not x else x for x in row] for row in arr.tolist()]


def _with_cell(arr: np.ndarray, at: tuple[int, int], label: str) -> np.ndarray:
    out = arr.astype(f"U{max(arr.dtype.itemsize // 4, len(label))}")
    out[at] = label
    return out


def _drawn(labels: list[str], shape: tuple[int, int], seed: int) -> np.ndarray:
    return np.array(labels)[np.random.default_rng(seed).integers(0, len(labels), size=shape)]


LONG = ["barriers to access", "barriers to accept", "cost", "culture", "leadership engagement", ""]
ROUTES = {  # Issue 17: each route of _strings, and each way out of it, on arrays larger than a block
    "short labels, many blocks": _drawn(["code1", "code2", "code3", "code4", "code5", ""], (3, 60_000), 1),
    "short labels, a non-Latin-1 one in the last block": _with_cell(
        _drawn(["code1", "code2", "code3", ""], (3, 60_000), 2), (2, 59_999), "cαde"),
    "short labels two bytes tell apart": _drawn(["ab", "ba", "aa", "bb", ""], (3, 20_000), 3),
    "short labels no byte pair tells apart": _drawn(["aaa", "baa", "aba", "aab", ""], (3, 20_000), 4),
    "short labels as bytes": np.char.encode(_drawn(["yes", "no", "maybe", ""], (2, 30_000), 5), "utf-8"),
    "more labels than a guess holds": _drawn([f"label{k:03d}" for k in range(400)] + [""], (3, 20_000), 6),
    "long labels": _drawn(LONG, (3, 40_000), 7),
    "long labels, a rare one the sample misses": _with_cell(_drawn(LONG, (3, 40_000), 8), (1, 33_333), "barriers to acceps"),
    "long labels, rare ones in many blocks": _drawn(LONG * 500 + [f"rare label number {k}" for k in range(40)],
                                                    (3, 40_000), 9),
    "long non-Latin-1 labels": _drawn(["équité en santé", "公平", "accès aux soins", ""], (3, 20_000), 10),
    "all missing": np.full((2, 20_000), ""),
}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_way_through_a_string_array_gives_what_the_labels_in_lists_give(name):
    arr = ROUTES[name]
    as_lists = _as_lists(arr)
    _same(_data.coerce(arr), _data.coerce(as_lists))
    try:
        expected = ag.krippendorff_alpha(as_lists)
    except AgreementError:
        return
    assert ag.krippendorff_alpha(arr) == pytest.approx(expected, abs=1e-12)
    assert ag.fleiss_kappa(np.where(arr == "", arr.flat[0], arr)) == pytest.approx(
        ag.fleiss_kappa(_as_lists(np.where(arr == "", arr.flat[0], arr))), abs=1e-12)


def test_declared_categories_beyond_a_byte_of_codes_name_each_cell_as_lists_do():
    declared = [f"c{k}" for k in range(300)]  # codes need 16 bits
    arr = _drawn(["c5", "c299", "c17", ""], (3, 30_000), 11)
    _same(_data.coerce(arr, declared), _data.coerce(_as_lists(arr), declared))
    few = declared[:3] + ["c5", "c17"]
    with pytest.raises(AgreementError) as from_lists:
        ag.percent_agreement(_as_lists(arr), categories=few)
    with pytest.raises(AgreementError) as from_array:
        ag.percent_agreement(arr, categories=few)
    assert str(from_array.value) == str(from_lists.value) and "'c299'" in str(from_lists.value)


def test_a_string_array_of_few_labels_is_numbered_without_sorting_every_cell(monkeypatch):
    """Issue 17: a ``U`` array was 3.3-4.4x the numeric array because every cell's hash was
    sorted; labels of up to 8 bytes now sort their bytes as one word each, and longer ones are
    named by a byte and checked, so the hash-and-sort route runs only for what they decline."""
    def refuse(*args, **kwargs):
        raise AssertionError("hashed and sorted every cell")

    monkeypatch.setattr(_strings, "_sorted_codes", refuse)
    for arr in (ROUTES["short labels, many blocks"], ROUTES["long labels, a rare one the sample misses"],
                ROUTES["short labels two bytes tell apart"]):
        _same(_data.coerce(arr), _data.coerce(_as_lists(arr)))


def test_random_string_arrays_of_every_width_and_size_give_what_lists_give():
    """Random label sets (empty to 14 characters, some beyond Latin-1, some differing only in
    their last character) in arrays of 200 to 40,000 cells, so that every route of ``_strings``
    and every way out of it runs: the same codes and categories as the labels in lists."""
    rng = np.random.default_rng(SEED + 99)
    alphabet = list("abcxyz 0123:-é") + ["α", "语"]
    for _ in range(40):
        stem = "".join(rng.choice(alphabet, size=int(rng.integers(0, 10))))
        labels = sorted({stem + "".join(rng.choice(alphabet, size=int(rng.integers(0, 5))))
                         for _ in range(int(rng.integers(1, 40)))} | {""})
        shape = (int(rng.integers(2, 5)), int(rng.choice([100, 1500, 5000, 10_000])))
        arr = np.array(labels)[rng.integers(0, len(labels), size=shape)]
        if rng.random() < 0.3:  # a rare label, once, late in the array
            arr = _with_cell(arr, (shape[0] - 1, shape[1] - 2), stem + "rare")
        if rng.random() < 0.3:
            arr = np.char.encode(arr, "utf-8")
        _same(_data.coerce(arr), _data.coerce(_as_lists(arr)))
