"""Input handling of qualkit.agreement: shapes, label types, missing values, and every ValueError."""
from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qualkit import agreement as ag
from qualkit.agreement import AgreementError, UndefinedStatisticError
from qualkit.errors import QualkitError

K4 = [  # Krippendorff's 4 × 12 example (alpha 0.743)
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
K4_ALPHA = 0.7434210526315789
ALL_MATRIX_STATISTICS = [
    ag.percent_agreement,
    ag.fleiss_kappa,
    ag.conger_kappa,
    ag.brennan_prediger,
    ag.gwet_ac1,
    ag.krippendorff_alpha,
]


def as_float_array(rows):
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


# ---------------------------------------------------------------------------------------------
# Shapes and types
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda rows: rows,
        lambda rows: as_float_array(rows),
        lambda rows: np.array(rows, dtype=object),
        lambda rows: pd.DataFrame(as_float_array(rows)),
        lambda rows: pd.DataFrame(rows, dtype=object),
        lambda rows: pd.DataFrame(as_float_array(rows)).astype("Int64"),  # pandas NA
        lambda rows: [tuple(r) for r in rows],
        lambda rows: [[f"c{v}" if v is not None else None for v in row] for row in rows],
        lambda rows: pd.DataFrame([[f"c{v}" if v is not None else None for v in row] for row in rows]),
    ],
    ids=["lists", "float-nan", "object-array", "dataframe", "dataframe-object", "dataframe-Int64",
         "tuples", "strings", "dataframe-strings"],
)
def test_every_input_form_gives_the_same_values(make):
    data = make(K4)
    for f in ALL_MATRIX_STATISTICS:
        assert f(data) == pytest.approx(f(K4), abs=1e-12), f.__name__
    assert ag.krippendorff_alpha(data) == pytest.approx(K4_ALPHA, abs=1e-12)


def test_none_and_nan_are_both_missing():
    with_nan = [[v if v is not None else float("nan") for v in row] for row in K4]
    assert ag.krippendorff_alpha(with_nan) == pytest.approx(K4_ALPHA, abs=1e-12)
    mixed = [list(row) for row in K4]
    mixed[0][9] = float("nan")
    assert ag.gwet_ac1(mixed) == pytest.approx(ag.gwet_ac1(K4), abs=1e-12)


def test_numpy_string_array_and_integer_array():
    rows = [["a", "b", "b", "a"], ["a", "b", "a", "a"]]
    assert ag.cohen_kappa(np.array(rows)) == pytest.approx(ag.cohen_kappa(rows))
    ints = np.array([[1, 2, 2, 1], [1, 2, 1, 1]], dtype=np.int64)
    assert ag.cohen_kappa(ints) == pytest.approx(ag.cohen_kappa(rows))


def test_numeric_paths_agree_with_the_label_path():
    """Whole numbers (lookup table), fractions and huge ranges (np.unique) map like any label."""
    rng = np.random.default_rng(3)
    for values in ([1, 2, 3], [0.5, 1.5, 2.25], [-(10**12), 0, 10**12]):
        data = np.asarray(values, dtype=float)[rng.integers(0, 3, size=(4, 50))]
        data[rng.random(data.shape) < 0.2] = np.nan
        as_objects = [[None if np.isnan(v) else float(v) for v in row] for row in data]
        for level in ("nominal", "ordinal", "interval"):
            assert ag.krippendorff_alpha(data, level=level) == pytest.approx(
                ag.krippendorff_alpha(as_objects, level=level), abs=1e-12
            )


def test_unused_values_in_a_whole_number_range_are_not_categories():
    data = np.array([[1, 5, 5, 1], [1, 5, 1, 1]], dtype=float)  # 2, 3, 4 never occur
    assert ag.brennan_prediger(data) == pytest.approx(2 * 0.75 - 1)  # q = 2 observed
    assert ag.brennan_prediger(data, categories=[1, 2, 3, 4, 5]) == pytest.approx((0.75 - 0.2) / 0.8)


def test_string_and_int_categories():
    rows = [["low", "mid", "high", "mid"], ["low", "high", "high", "mid"]]
    order = ["low", "mid", "high"]
    ints = [[order.index(v) for v in row] for row in rows]
    assert ag.cohen_kappa(rows, weights="linear", categories=order) == pytest.approx(
        ag.cohen_kappa(ints, weights="linear")
    )
    # Sorted-label default order differs ("high" < "low" < "mid"), so linear weights change.
    assert ag.cohen_kappa(rows, weights="linear") != pytest.approx(
        ag.cohen_kappa(rows, weights="linear", categories=order)
    )
    assert ag.krippendorff_alpha(rows, level="ordinal", categories=order) == pytest.approx(
        ag.krippendorff_alpha(ints, level="ordinal")
    )


def test_declared_categories_change_only_the_chance_terms_that_use_q():
    rows = [["y", "y", "n", "n", "y"], ["y", "n", "n", "n", "y"]]
    cats = ["y", "n", "maybe"]
    for f in (ag.percent_agreement, ag.cohen_kappa, ag.scott_pi, ag.fleiss_kappa, ag.krippendorff_alpha):
        assert f(rows, categories=cats) == pytest.approx(f(rows))
    assert ag.brennan_prediger(rows, categories=cats) > ag.brennan_prediger(rows)
    assert ag.gwet_ac1(rows, categories=cats) != pytest.approx(ag.gwet_ac1(rows))


def test_unsortable_labels_work_for_nominal_statistics():
    rows = [[1, "a", "a", 1], [1, "a", 1, 1]]
    assert ag.krippendorff_alpha(rows) == pytest.approx(ag.krippendorff_alpha([[1, 2, 2, 1], [1, 2, 1, 1]]))


def test_pabak_is_bennett_s_with_two_categories():
    rows = [[1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]]
    assert ag.bennett_s(rows) == pytest.approx(2 * ag.percent_agreement(rows) - 1)
    assert ag.randolph_kappa is ag.brennan_prediger


def test_callable_and_matrix_distances_agree():
    rows = [[1, 2, 3, 3, 2], [1, 2, 3, 1, 3], [2, 2, 3, 3, None]]
    matrix = [[0, 1, 0.5], [1, 0, 0.5], [0.5, 0.5, 0]]
    by_matrix = ag.krippendorff_alpha(rows, distance=matrix)
    assert ag.krippendorff_alpha(rows, distance=lambda a, b: matrix[a - 1][b - 1]) == pytest.approx(by_matrix)
    assert ag.krippendorff_alpha(rows, distance=1 - np.eye(3)) == pytest.approx(ag.krippendorff_alpha(rows))
    interval = lambda a, b: float(a - b) ** 2  # noqa: E731
    by_interval = ag.krippendorff_alpha(rows, level="interval")
    assert ag.krippendorff_alpha(rows, distance=interval) == pytest.approx(by_interval)


def test_one_disagreement_among_identical_values_gives_zero():
    assert ag.krippendorff_alpha([[1, 1, 1], [1, 1, 2]]) == 0.0


def test_conversion_helpers():
    table = ag.from_contingency_table([[2, 1], [0, 3]], ["y", "n"])
    assert table.shape == (2, 6)
    assert ag.percent_agreement(table) == pytest.approx(5 / 6)
    counts = ag.from_category_counts([[3, 0], [1, 1]], ["a", "b"])
    assert counts.tolist() == [["a", "a"], ["a", "b"], ["a", None]]
    assert ag.fleiss_kappa(counts) == pytest.approx(ag.fleiss_kappa([["a", "a"], ["a", "b"], ["a", None]]))


def test_package_import_does_not_load_pandas():
    code = "import sys, qualkit.agreement; print('pandas' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["_data", "kappas", "alpha", "sets", "unitizing", "bootstrap", "__init__"])
def test_docstring_examples_run(module):
    import importlib

    mod = importlib.import_module("qualkit.agreement" if module == "__init__" else f"qualkit.agreement.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_every_public_function_documents_formula_and_example():
    for name in ag.__all__:
        obj = getattr(ag, name)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__ and ">>>" in obj.__doc__, name


# ---------------------------------------------------------------------------------------------
# Errors: every one is a ValueError (and a QualkitError for the CLI) with a clear message
# ---------------------------------------------------------------------------------------------

ERRORS = [
    (lambda: ag.fleiss_kappa([[1, 2, 3]]), "at least 2 coders"),
    (lambda: ag.fleiss_kappa([]), "empty"),
    (lambda: ag.fleiss_kappa([[], []]), "no units"),
    (lambda: ag.fleiss_kappa(np.array([1, 2, 3])), "2-D"),
    (lambda: ag.fleiss_kappa("abc"), "coders × units matrix"),
    (lambda: ag.fleiss_kappa([1, 2, 3]), "row 0 is not a sequence"),
    (lambda: ag.fleiss_kappa([[1, 2, 3], [1, 2]]), "ragged"),
    (lambda: ag.fleiss_kappa([[1, None], [None, 2]]), "no unit has values from two or more coders"),
    (lambda: ag.percent_agreement([[1, None], [None, 2]]), "no unit has values from two or more coders"),
    (lambda: ag.krippendorff_alpha([[1, None], [None, 2]]), "no unit has values from two or more coders"),
    (lambda: ag.fleiss_kappa([[1, 1], [1, 1]]), "chance agreement is 1"),
    (lambda: ag.conger_kappa([[1, 1], [1, 1]]), "chance agreement is 1"),
    (lambda: ag.cohen_kappa([[1, 1], [1, 1]]), "expected disagreement is 0"),
    (lambda: ag.krippendorff_alpha([[1, 1], [1, 1]]), "D_e is 0"),
    (lambda: ag.gwet_ac1([[1, 1], [1, 1]]), "at least 2 categories"),
    (lambda: ag.brennan_prediger([["a", "a"], ["a", "a"]]), "pass categories="),
    (lambda: ag.cohen_kappa([[1, 2], [1, 2], [2, 2]]), "exactly 2 coders; got 3. Use conger_kappa"),
    (lambda: ag.scott_pi([[1, 2], [1, 2], [2, 2]]), "Use fleiss_kappa"),
    (lambda: ag.cohen_kappa([[1, 2], [1, 1]], weights="cubic"), "unknown weights 'cubic'"),
    (lambda: ag.cohen_kappa([[1, 2], [1, 1]], weights=[[0, 1, 2], [1, 0, 1], [2, 1, 0]]), "must be 2 × 2"),
    (lambda: ag.cohen_kappa([[1, 2], [1, 1]], weights=[[1, 0], [0, 1]]), "zero diagonal"),
    (lambda: ag.cohen_kappa([[1, 2], [1, 1]], weights=[[0, -1], [1, 0]]), "non-negative"),
    (lambda: ag.cohen_kappa([[1, "a"], [1, 1]], weights="linear"), "ordered categories"),
    (lambda: ag.fleiss_kappa([[1, 2], [1, 3]], categories=[1, 2]), "value 3"),
    (lambda: ag.fleiss_kappa([["a", "b"], ["a", "c"]], categories=["a", "b"]), "'c'"),
    (lambda: ag.fleiss_kappa([[1, 2], [1, 2]], categories=[1, 2, 1]), "duplicates"),
    (lambda: ag.fleiss_kappa([[1, 2], [1, 2]], categories="ab"), "not a single string"),
    (lambda: ag.fleiss_kappa([[1, 2], [1, 2]], categories=[]), "categories is empty"),
    (lambda: ag.fleiss_kappa([[1, 2], [1, 2]], categories=[1, None]), "must not contain None"),
    (lambda: ag.fleiss_kappa([[[1], 2], [1, 2]]), "unhashable list"),
    (lambda: ag.fleiss_kappa(np.array([[1.0, np.inf], [1.0, 2.0]])), "infinite"),
    (lambda: ag.krippendorff_alpha(K4, level="circular"), "unknown level 'circular'"),
    (lambda: ag.krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval"), "numeric category labels"),
    (lambda: ag.krippendorff_alpha([[-1, 2], [1, 2]], level="ratio"), "non-negative"),
    (lambda: ag.krippendorff_alpha([[1, "a"], [1, 1]], level="ordinal"), "ordered categories"),
    (lambda: ag.krippendorff_alpha(K4, level="ordinal", distance=np.ones((5, 5))), "not both"),
    (lambda: ag.krippendorff_alpha([[1, 2], [1, 1]], distance=[[0, 1], [2, 0]]), "symmetric"),
    (lambda: ag.fleiss_kappa_category(K4, 9), "category 9 is not among"),
    (lambda: ag.set_alpha([["a", {"b"}], [{"a"}, {"b"}]]), "not a set of codes"),
    (lambda: ag.set_alpha([[{"a"}, {"b"}], [{"a"}, {"b"}]], distance="cosine"), "unknown set distance"),
    (lambda: ag.set_alpha([[{"a"}, {"b"}]]), "at least 2 coders"),
    (lambda: ag.from_contingency_table([[1, 2, 3], [1, 2, 3]]), "square"),
    (lambda: ag.from_contingency_table([[1, 0.5], [1, 2]]), "whole counts"),
    (lambda: ag.from_contingency_table([[1, 0], [1, 2]], ["a"]), "1 categories given"),
    (lambda: ag.unitizing_alpha({"a": [(0, 5, "x")]}, (0, 10)), "at least 2 coders"),
    (lambda: ag.unitizing_alpha({"a": [(0, 5, "x"), (4, 8, "y")], "b": []}, (0, 10)), "overlap"),
    (lambda: ag.unitizing_alpha({"a": [(0, 12, "x")], "b": []}, (0, 10)), "inside the continuum"),
    (lambda: ag.unitizing_alpha({"a": [(3, 3, "x")], "b": []}, (0, 10)), "non-empty"),
    (lambda: ag.unitizing_alpha({"a": [(0.5, 3, "x")], "b": []}, (0, 10)), "whole number"),
    (lambda: ag.unitizing_alpha({"a": [(0, 3)], "b": []}, (0, 10)), "triple"),
    (lambda: ag.unitizing_alpha({"a": [(0, 3, None)], "b": []}, (0, 10)), "needs a hashable value"),
    (lambda: ag.unitizing_alpha({"a": [], "b": []}, (5, 5)), "is empty"),
    (lambda: ag.unitizing_alpha({"a": [], "b": []}, 10), "(begin, end) pair"),
    (lambda: ag.unitizing_alpha({"a": [], "b": []}, (0, 10), level="ordinal"), "unknown level"),
    (lambda: ag.unitizing_alpha({"a": [], "b": []}, (0, 10)), "expected disagreement is 0"),
    (lambda: ag.unitizing_alpha_category({"a": [(0, 3, "x")], "b": []}, (0, 10), "y"), "no coder has a segment"),
    (lambda: ag.unitizing_alpha_category({"a": [(0, 3, "x"), (2, 5, "x")], "b": []}, (0, 10), "x"), "overlap"),
    (lambda: ag.bootstrap_ci(K4, "median"), "cannot bootstrap 'median'"),
    (lambda: ag.bootstrap_ci(K4, len), "cannot bootstrap"),
    (lambda: ag.bootstrap_ci(K4, n_boot=0), "n_boot"),
    (lambda: ag.bootstrap_ci(K4, "fleiss_kappa", weights="linear"), "takes no option weights"),
    (lambda: ag.bootstrap_ci(K4, confidence=95), "confidence"),
    (lambda: ag.bootstrap_ci([[1, 1], [1, 1]]), "D_e is 0"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=[m for _, m in ERRORS])
def test_errors_are_clear_value_errors(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
    assert isinstance(info.value, (AgreementError, QualkitError))


def test_undefined_statistics_raise_the_specific_subclass():
    with pytest.raises(UndefinedStatisticError):
        ag.krippendorff_alpha([[1, 1], [1, 1]])
    with pytest.raises(AgreementError) as info:  # an input problem, not an undefined value
        ag.krippendorff_alpha([[1, 2]])
    assert not isinstance(info.value, UndefinedStatisticError)


def test_unitizing_categories_may_overlap_across_categories_in_2004_variant():
    segs = {"i": [(0, 5, "c"), (3, 8, "k")], "j": [(0, 5, "c"), (3, 8, "k")]}
    assert ag.unitizing_alpha_category(segs, (0, 10), "c") == 1.0
    with pytest.raises(ValueError, match="overlap"):
        ag.unitizing_alpha(segs, (0, 10))


def test_unitizing_accepts_a_list_of_records_and_any_segment_order():
    a = [(20, 30, "y"), (0, 10, "x")]
    b = [(0, 10, "x"), (18, 30, "y")]
    assert ag.unitizing_alpha([a, b], (0, 40)) == pytest.approx(ag.unitizing_alpha({"A": sorted(a), "B": b}, (0, 40)))


def test_text_labels_give_the_same_alpha_as_numbers_and_cost_little_more():
    """Issue 17: string labels (how codes arrive) were 28-80x slower than the numeric path."""
    import time

    rng = np.random.default_rng(0)
    num = rng.integers(0, 5, size=(5, 100_000)).astype(float)
    num[rng.random(num.shape) < 0.05] = np.nan
    names = np.array(["none", "alpha", "beta", "gamma", "delta"], dtype=object)
    text = np.where(np.isnan(num), None, names[np.nan_to_num(num).astype(int)])
    krippendorff_alpha = ag.krippendorff_alpha
    assert krippendorff_alpha(text) == pytest.approx(krippendorff_alpha(num), abs=1e-12)
    assert krippendorff_alpha(text.tolist()) == pytest.approx(krippendorff_alpha(num), abs=1e-12)

    def best(data) -> float:
        times = []
        for _ in range(3):
            t0 = time.process_time()
            krippendorff_alpha(data)
            times.append(time.process_time() - t0)
        return min(times)

    assert best(text) <= 6 * best(num) + 0.05   # within 2-3x on a quiet machine; slack for a busy one
