"""The fast paths of qualkit.agreement give what the plain paths give, on random data.

Labels are coerced by C loops (one dict lookup per cell, ``_labels``) and numbers by arithmetic
(``_data._small_integer_codes``); the statistics sum over distinct unit count rows (``_counts``)
instead of over units; set distances come from one matrix product. Each is checked here against
the slow path it replaced (the cell-by-cell coercion, per-unit sums, the distance functions
called pair by pair) on a few hundred random matrices from a seeded numpy generator: the same
codes and categories, and statistics equal to 1e-12.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import qualkit.agreement as ag
from qualkit.agreement import _counts, _data, _numeric, alpha, kappas, sets
from qualkit.agreement._data import AgreementError, Coded, UndefinedStatisticError

SEED = 20261207


def _plain_coded(data, categories=None):
    """The cell-by-cell coercion every input took before the fast paths."""
    return _data._coerce_objects(_data._as_2d_array(data).astype(object), _data._declared_categories(categories))


def _per_unit(coded: Coded) -> Coded:
    """The same matrix whose statistics sum over units, one count row each (the old path)."""
    counts = coded.unit_counts
    plain = Coded(coded.codes, coded.categories, coded.ordered)
    plain.__dict__["profiles"] = _counts.per_unit_profiles(counts)
    return plain


def _same_coded(a: Coded, b: Coded) -> None:
    assert a.categories == b.categories and a.ordered == b.ordered
    assert np.array_equal(np.asarray(a.codes, dtype=np.intp), np.asarray(b.codes, dtype=np.intp))


def _statistics(coded: Coded) -> dict[str, float]:
    out: dict[str, float] = {}
    calls = {
        "alpha": lambda c: alpha._alpha(c),
        "percent": kappas._percent_agreement,
        "fleiss": kappas._fleiss,
        "conger": kappas._conger,
        "ac1": kappas._gwet_ac1,
        "bp": kappas._brennan_prediger,
    }
    if coded.ordered:
        calls["ordinal"] = lambda c: alpha._alpha(c, level="ordinal")
    if coded.categories and all(_data._is_number(x) for x in coded.categories):
        calls["interval"] = lambda c: alpha._alpha(c, level="interval")
        if min(coded.categories) >= 0:  # type: ignore[type-var]
            calls["ratio"] = lambda c: alpha._alpha(c, level="ratio")
    if coded.n_coders == 2:
        calls["cohen"] = kappas._cohen
    for name, fn in calls.items():
        try:
            out[name] = fn(coded)
        except (UndefinedStatisticError, AgreementError) as e:
            out[name] = type(e).__name__  # type: ignore[assignment]
    return out


def _same_statistics(fast: Coded, plain: Coded) -> None:
    a, b = _statistics(fast), _statistics(_per_unit(plain))
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], str) or isinstance(b[name], str):
            assert a[name] == b[name], name
        else:
            assert a[name] == pytest.approx(b[name], abs=1e-12, rel=1e-12), name


def _random_matrix(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coders × units category indices (−1 = missing) and the mask of missing cells."""
    m, n, q = int(rng.integers(2, 7)), int(rng.integers(1, 300)), int(rng.integers(1, 9))
    truth = rng.integers(0, q, size=n)
    idx = np.tile(truth, (m, 1))
    wrong = rng.random(idx.shape) < rng.uniform(0, 0.6)
    idx[wrong] = rng.integers(0, q, size=int(wrong.sum()))
    missing = rng.random(idx.shape) < rng.choice([0.0, 0.1, 0.5])
    return idx, missing


LABELS = {
    "small ints": [3, 4, 5, 7, 8, 10, 11, 12],
    "negative ints": [-5, -2, -1, 0, 1, 2, 3, 9],
    "big ints": [10**15, 10**15 + 1, 10**15 + 7, -(10**12), 2, 3, 4, 5],
    "fractions": [0.5, 1.25, 2.0, 3.75, -1.5, 8.0, 9.5, 10.0],
    "text": ["barriers", "cost", "culture", "équité", "leadership", "readiness", "", "zz"],
    "mixed": [1, "a", 2.5, "b", True, None.__class__.__name__, 7, "c"],
}


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_labels_in_every_container_coerce_as_the_cell_by_cell_path_does(kind):
    rng = np.random.default_rng(SEED + len(kind))
    labels = LABELS[kind]
    for _ in range(40):
        idx, missing = _random_matrix(rng)
        cells = np.array(labels, dtype=object)[idx]
        cells[missing] = None
        as_lists = cells.tolist()
        expected = _plain_coded(as_lists)
        containers = [as_lists, cells, [tuple(row) for row in as_lists]]
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in labels):
            numeric = np.array(labels, dtype=float)[idx]
            numeric[missing] = np.nan
            containers.append(numeric)
            if not missing.any() and all(isinstance(x, int) for x in labels):
                containers.append(np.array(labels, dtype=np.int64)[idx])
        if kind == "text":
            containers.append(np.where(missing, np.nan, cells).tolist())  # NaN as missing, as pandas writes it
        for data in containers:
            fast = _data.coerce(data)
            if isinstance(data, np.ndarray) and data.dtype.kind == "f":
                assert fast.categories == tuple(float(x) for x in expected.categories)
                assert np.array_equal(fast.codes.astype(np.intp), expected.codes)
            else:
                _same_coded(fast, expected)
        _same_statistics(_data.coerce(as_lists), expected)


def test_declared_categories_coerce_and_count_as_before():
    rng = np.random.default_rng(SEED)
    for _ in range(60):
        idx, missing = _random_matrix(rng)
        declared = ["z", "y", "x", "w", "v", "u", "t", "s", "extra"]
        cells = np.array(declared, dtype=object)[idx]
        cells[missing] = None
        fast = _data.coerce(cells.tolist(), declared)
        expected = _plain_coded(cells.tolist(), declared)
        _same_coded(fast, expected)
        _same_statistics(fast, expected)
        numeric = np.where(missing, np.nan, idx * 2.0)
        scale = [float(v) for v in range(0, 20, 2)]
        _same_coded(_data.coerce(numeric, scale), _plain_coded(numeric, scale))


def test_an_undeclared_or_unhashable_label_is_reported_at_the_same_cell():
    rng = np.random.default_rng(SEED)
    for _ in range(30):
        idx, missing = _random_matrix(rng)
        cells = np.array(["a", "b", "c", "d", "e", "f", "g", "h"], dtype=object)[idx]
        cells[missing] = None
        i, j = int(rng.integers(0, cells.shape[0])), int(rng.integers(0, cells.shape[1]))
        cells[i, j] = "stranger"
        rows = cells.tolist()
        with pytest.raises(AgreementError) as plain:
            _plain_coded(rows, list("abcdefgh"))
        with pytest.raises(AgreementError) as fast:
            _data.coerce(rows, list("abcdefgh"))
        assert str(fast.value) == str(plain.value)
        rows[i][j] = ["a", "b"]
        with pytest.raises(AgreementError, match=r"unhashable list; cells must be single labels"):
            _data.coerce(rows)


def test_count_profiles_hold_the_per_unit_counts_in_every_encoding():
    rng = np.random.default_rng(SEED)
    shapes = [(2, 1), (3, 5), (10, 5), (3, 40), (6, 12), (20, 30), (2, 200), (40, 3)]
    for m, q in shapes:
        for n in (1, 7, 500):
            codes = rng.integers(-1, q, size=(m, n)).astype(_data.code_dtype(q))
            prof = _counts.count_profiles(codes, q)
            per_unit = _counts.per_unit_counts(codes, q)
            assert np.array_equal(prof.counts[prof.inverse], per_unit)
            assert np.array_equal(np.bincount(prof.inverse, minlength=len(prof.weight)), prof.weight)
            units = rng.integers(0, n, size=n)
            taken = prof.take(units)
            assert np.array_equal(taken.counts[taken.inverse], per_unit[units])
            assert np.array_equal(np.bincount(taken.inverse), taken.weight)


def test_bootstrap_resamples_give_the_same_values_as_per_unit_counting():
    rng = np.random.default_rng(SEED)
    for _ in range(10):
        idx, missing = _random_matrix(rng)
        data = np.where(missing, np.nan, idx + 1.0)
        coded = _data.coerce(data)
        assert len(coded.profiles.weight) > 0  # cached now, so that take() carries the profiles
        for _ in range(5):
            units = rng.integers(0, coded.n_units, coded.n_units)
            taken = coded.take(units)
            _same_statistics(taken, Coded(coded.codes[:, units], coded.categories, coded.ordered))


def _random_sets(rng: np.random.Generator) -> list[list[object]]:
    m, n = int(rng.integers(2, 5)), int(rng.integers(1, 120))
    codes = list("abcdef")
    out: list[list[object]] = []
    for _ in range(m):
        row: list[object] = []
        for _ in range(n):
            if rng.random() < 0.1:
                row.append(None)
            else:
                picked = [c for c in codes if rng.random() < 0.3]
                row.append([set, frozenset, list, tuple][int(rng.integers(0, 4))](picked))
        out.append(row)
    return out


def test_set_valued_cells_coerce_and_give_alpha_as_the_cell_by_cell_path_does():
    rng = np.random.default_rng(SEED)
    for _ in range(60):
        data = _random_sets(rng)
        fast = sets.coerce_sets(data)
        arr = _data._as_2d_array(data)
        index: dict[frozenset[object], int] = {}
        codes = np.full(arr.shape, -1, dtype=np.intp)
        for (i, j), cell in np.ndenumerate(arr):  # the old loop
            if cell is not None:
                codes[i, j] = index.setdefault(frozenset(cell), len(index))
        _same_coded(fast, Coded(codes, tuple(index), ordered=False))
        for name, d in (("masi", sets.masi_distance), ("jaccard", sets.jaccard_distance)):
            pairwise = lambda a, b, d=d: d(a, b)  # noqa: E731  (a function, so the pair-by-pair loop runs)
            try:
                expected = sets._set_alpha(_per_unit(fast), pairwise)
            except UndefinedStatisticError:
                with pytest.raises(UndefinedStatisticError):
                    ag.set_alpha(data, name)
                continue
            assert ag.set_alpha(data, name) == pytest.approx(expected, abs=1e-12)


def test_set_distances_from_the_matrix_product_equal_the_functions_exactly():
    sets_ = tuple(frozenset(c) for r in range(5) for c in itertools.combinations("abcdefg", r))
    for d in (sets.masi_distance, sets.jaccard_distance):
        matrix = sets._builtin_distances(sets_, d)
        assert matrix is not None
        assert np.array_equal(matrix, [[d(a, b) for b in sets_] for a in sets_])


def test_odd_set_cells_still_get_their_one_line_messages():
    with pytest.raises(AgreementError, match=r"cell \(coder 1, unit 0\) is a str"):
        ag.set_alpha([[{"a"}, {"b"}], ["a", {"b"}]])
    with pytest.raises(AgreementError, match=r"missing value inside the set"):
        ag.set_alpha([[{"a"}, {"b"}], [{"a", None}, {"b"}]])
    with pytest.raises(AgreementError, match=r"unhashable code"):
        ag.set_alpha([[{"a"}, {"b"}], [[["x"]], {"b"}]])


@pytest.mark.parametrize("span", [2, 10, 40, 100])
def test_large_numeric_matrices_with_unused_values_coerce_as_numpy_unique_does(span):
    """Above 32k cells the values used are found by comparisons (span <= 16) or one bincount."""
    rng = np.random.default_rng(SEED + span)
    values = np.array([v for v in range(-3, span - 3) if v % 7 != 2], dtype=float)  # gaps in the range
    data = values[rng.integers(0, len(values), size=(3, 20_000))]
    data[rng.random(data.shape) < 0.05] = np.nan
    fast = _data.coerce(data)
    present = ~np.isnan(data)
    labels, inverse = np.unique(data[present], return_inverse=True)
    assert fast.categories == tuple(labels.tolist())
    assert np.array_equal(fast.codes[present], inverse) and np.all(fast.codes[~present] == -1)
    as_ints = _data.coerce(np.nan_to_num(data, nan=-3).astype(np.int64))
    assert as_ints.categories == tuple(int(v) for v in np.unique(np.nan_to_num(data, nan=-3)))


def _general_alpha(data, level):
    """Alpha by the general path (coercion, count rows, coincidences), or the error it raises."""
    try:
        return alpha._alpha(_data.coerce(data), level=level)
    except (UndefinedStatisticError, AgreementError) as e:
        return type(e).__name__


def _numeric_case(rng: np.random.Generator) -> np.ndarray:
    """A numeric coders × units array: whole numbers from a random range (gaps, negatives, zero),
    in one of several dtypes, sometimes with missing cells, sometimes nearly constant."""
    idx, missing = _random_matrix(rng)
    if rng.random() < 0.1:
        idx = idx[:, : int(rng.integers(1, 4))]
        missing = missing[:, : idx.shape[1]]
    lo = int(rng.integers(-6, 4))
    values = lo + np.sort(rng.choice(12, size=9, replace=False))  # gaps: unused values in the range
    data = values[idx].astype(float)
    if rng.random() < 0.3:
        return data.astype(rng.choice([np.int64, np.int16, np.uint8] if lo >= 0 else [np.int64, np.int8]))
    data[missing] = np.nan
    return data.astype(np.float32) if rng.random() < 0.2 else data


def test_alpha_on_a_numeric_array_takes_the_short_path_with_the_general_paths_values():
    """Small whole numbers in an ndarray: nominal and interval alpha from a histogram of unit keys
    (``_numeric``) equal the general path's to 1e-12 (Krippendorff 2011's coincidences both), and
    where alpha is undefined the short path steps aside so that the same error is raised."""
    rng = np.random.default_rng(SEED + 17)
    taken = 0
    for _ in range(400):
        data = _numeric_case(rng)
        for level in ("nominal", "interval"):
            expected = _general_alpha(data, level)
            short = _numeric.whole_number_alpha(data, level)
            if short is not None:
                taken += 1
                assert short == pytest.approx(expected, abs=1e-12, rel=1e-12), (data, level)
            try:
                got = ag.krippendorff_alpha(data, level=level)
            except (UndefinedStatisticError, AgreementError) as e:
                got = type(e).__name__
            assert got == expected if isinstance(expected, str) else got == pytest.approx(expected, abs=1e-12)
    assert taken > 400  # of 800: the rest have too many coders and values for a key table


def test_the_short_path_is_taken_where_the_benchmark_measures_and_steps_aside_elsewhere():
    rng = np.random.default_rng(SEED)
    data = rng.integers(1, 6, size=(3, 1000)).astype(float)
    data[rng.random(data.shape) < 0.05] = np.nan
    for level in ("nominal", "interval"):
        assert _numeric.whole_number_alpha(data, level) == pytest.approx(_general_alpha(data, level), abs=1e-12)
        assert _numeric.whole_number_alpha(data[:, :20_000], level) is not None
    big = np.tile(data, 40)  # 120,000 cells: one gather per coder row
    assert _numeric.whole_number_alpha(big, "nominal") == pytest.approx(_general_alpha(big, "nominal"), abs=1e-12)
    declined = {
        "ordinal": (data, "ordinal"),
        "ratio": (data, "ratio"),
        "fractions": (data / 2, "nominal"),
        "infinite": (np.where(data == 5, np.inf, data), "nominal"),
        "all missing": (np.full((3, 4), np.nan), "nominal"),
        "wide range": (data * 100, "interval"),
        "many coders and values": (np.tile(data, (4, 1)), "nominal"),  # 13 ** 5 keys
        "huge values": (data + 2.0**53, "nominal"),
        "one pairable value": (np.array([[1.0, np.nan], [np.nan, 2.0]]), "nominal"),
        "one value throughout": (np.ones((2, 5)), "interval"),
        "one coder": (data[:1], "nominal"),
    }
    for name, (given, level) in declined.items():
        assert _numeric.whole_number_alpha(given, level) is None, name
    with pytest.raises(UndefinedStatisticError, match="expected disagreement D_e is 0"):
        ag.krippendorff_alpha(np.ones((2, 5)), level="interval")
    with pytest.raises(AgreementError, match="infinite"):
        ag.krippendorff_alpha(np.where(data == 5, np.inf, data))


@pytest.mark.parametrize("kind", ["lists", "text", "U", "object"])
def test_nominal_alpha_of_labels_sums_the_codes_keys_as_the_general_path_does(kind):
    """Labels coerced to few category codes: nominal alpha from the keys' histogram
    (``_numeric.coded_nominal_alpha``) equals the count-row path to 1e-12."""
    rng = np.random.default_rng(SEED + 71)
    names = np.array(["", "barriers", "cost", "culture", "équité", "leadership", "readiness", "z", "zz"])
    for _ in range(150):
        idx, missing = _random_matrix(rng)
        labels = names[np.where(missing, 0, idx + 1)]
        given = {"lists": np.where(missing, np.nan, idx).tolist(), "U": labels, "object": labels.astype(object),
                 "text": [[None if x == "" else x for x in row] for row in labels.tolist()]}[kind]
        coded = _data.coerce(given)
        expected = _general_alpha(given, "nominal")
        short = _numeric.coded_nominal_alpha(coded.codes, coded.q)
        if short is not None:
            assert short == pytest.approx(expected, abs=1e-12, rel=1e-12)
        try:
            got = ag.krippendorff_alpha(given)
        except (UndefinedStatisticError, AgreementError) as e:
            got = type(e).__name__
        assert got == expected if isinstance(expected, str) else got == pytest.approx(expected, abs=1e-12)


SHORT_LABELS = {  # Issue 17: labels of up to 8 bytes that one byte tells apart, and ones it does not
    "codes": ["", "code1", "code2", "code3", "code4", "code5", "code6", "code7", "code8"],
    "words": ["", "yes", "no", "maybe", "unsure", "n/a", "agree", "neutral", "disagree"],
    "letters": ["", *"ABCDEFGH"],
    "latin-1": ["", "été", "ça", "où", "déjà", "à", "ôté", "île", "œuf"],      # œ is not Latin-1
    "no one byte": ["", "ab", "ba", "aa", "bb", "abc", "bca", "cab", "cc"],    # a pair, then the sort
}


@pytest.mark.parametrize("kind", sorted(SHORT_LABELS))
@pytest.mark.parametrize("as_bytes", [False, True])
def test_nominal_alpha_of_a_short_label_string_array_equals_the_general_path(kind, as_bytes):
    """A numpy string array of short labels: nominal alpha from its cells named straight to
    code + 1 (``_strings.shifted_codes``, no code array) equals the count-row path to 1e-12, and
    what the short route declines still gets the general path's value or error."""
    rng = np.random.default_rng(SEED + 97 + len(kind))
    names = np.array(SHORT_LABELS[kind])
    for _ in range(120):
        idx, missing = _random_matrix(rng)
        labels = names[np.where(missing, 0, idx + 1)]
        given = np.char.encode(labels, "utf-8") if as_bytes else labels
        expected = _general_alpha(given, "nominal")
        try:
            got = ag.krippendorff_alpha(given)
        except (UndefinedStatisticError, AgreementError) as e:
            got = type(e).__name__
        assert got == expected if isinstance(expected, str) else got == pytest.approx(expected, abs=1e-12)


def test_nominal_alpha_of_short_labels_in_a_string_array_names_each_cell_once(monkeypatch):
    """Issue 17: alpha on a ``U`` array was 1.8-2.1x its numeric time at 1e4 units: the cells
    were coded (a code array), shifted by one in a second pass and wrapped in a Coded. Short
    labels one byte tells apart now go from the telling byte to code + 1 in one translate (since
    session 8 labels of any width, each cell checked by a memcmp with its label's row)."""
    rng = np.random.default_rng(SEED)
    data = rng.integers(1, 6, size=(3, 20_000)).astype(float)
    data[rng.random(data.shape) < 0.05] = np.nan
    labels = np.array(["", "code1", "code2", "code3", "code4", "code5"])[np.nan_to_num(data, nan=0).astype(int)]
    expected = ag.krippendorff_alpha(data)

    def refuse(*args, **kwargs):
        raise AssertionError("coded the whole array")

    monkeypatch.setattr(alpha, "coerce", refuse)
    assert ag.krippendorff_alpha(labels) == pytest.approx(expected, abs=1e-12)
    assert ag.krippendorff_alpha(np.char.encode(labels, "ascii")) == pytest.approx(expected, abs=1e-12)
    longer = np.where(labels == "", "", np.char.add(labels, " and a longer label"))  # since session 8 not coded either
    assert ag.krippendorff_alpha(longer) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("given", [np.empty((2, 0), dtype="<U3"), np.empty((2, 0), dtype="S2"), np.array([["a", "b"]]),
                                   np.array([["", ""], ["", ""]]), np.array([["a", "a"], ["a", "a"]])])
def test_a_string_array_alpha_cannot_be_computed_on_says_why_in_one_line(given):
    with pytest.raises(AgreementError) as raised:
        ag.krippendorff_alpha(given)
    with pytest.raises(AgreementError) as from_lists:
        ag.krippendorff_alpha([[x.decode() if isinstance(x, bytes) else x or None for x in row] for row in given.tolist()]
                              if given.size else [[], []])
    assert str(raised.value) == str(from_lists.value)
