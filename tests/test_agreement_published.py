"""Every published worked example in shared/reference/agreement-cases.json, within its tolerance.

The json lives outside the repository (the project's shared reference folder); the tests skip
when it is absent. Each case says which statistic, input format and parameters it uses; the
adapters below translate them into qualkit calls without changing any convention.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qualkit import agreement as ag

CASES_PATH = Path(__file__).resolve().parents[2] / "shared" / "reference" / "agreement-cases.json"


def _load_cases() -> list[dict[str, Any]]:
    if not CASES_PATH.is_file():
        return []
    return json.loads(CASES_PATH.read_text(encoding="utf-8"))


CASES = _load_cases()


def _matrix(case: dict[str, Any]) -> tuple[Any, list | None]:
    """The case's data as a coders × units matrix, plus its declared categories (if any)."""
    fmt, cats = case["format"], case.get("categories")
    if fmt == "reliability_matrix":
        return case["data"], cats
    if fmt == "contingency_table":
        return ag.from_contingency_table(case["data"], cats), cats
    if fmt == "subject_category_counts":
        return ag.from_category_counts(case["data"], cats), cats
    raise AssertionError(f"unexpected format {fmt}")


def _segments(case: dict[str, Any]) -> tuple[dict, tuple[int, int]]:
    """Unitizing cases → qualkit's half-open [start, end) spans and continuum."""
    continuum, observers = case["data"]["continuum"], case["data"]["observers"]
    if "length" in continuum:  # 2004 cases: 0-based (offset, length)
        begin = continuum["begin"]
        span = (begin, begin + continuum["length"])
        segs = {o: [(off, off + n, v) for off, n, v in rec] for o, rec in observers.items()}
    else:  # 2019 cases: 1-based inclusive [start, end]
        span = (continuum["start"] - 1, continuum["end"])
        segs = {o: [(s - 1, e, v) for s, e, v in rec] for o, rec in observers.items()}
    return segs, span


def _weights(case: dict[str, Any]) -> Any:
    params = case.get("params", {})
    return {
        "linear_irr_levels": "linear",  # default category order = sorted observed levels (irr)
        "quadratic_irr_levels": "quadratic",
        "custom": params.get("distance_matrix"),
    }[params["weights"]]


def compute(case: dict[str, Any]) -> float:
    stat = case["statistic"]
    if stat.startswith("unitizing"):
        segs, span = _segments(case)
        if stat == "unitizing_u_alpha":
            return ag.unitizing_alpha(segs, span, level=case["level"])
        return ag.unitizing_alpha_category(segs, span, category=case["params"]["category"])
    data, cats = _matrix(case)
    if stat == "krippendorff_alpha":
        return ag.krippendorff_alpha(data, level=case["level"], categories=cats)
    if stat == "weighted_cohen_kappa":
        return ag.cohen_kappa(data, weights=_weights(case), categories=cats)
    if stat == "fleiss_kappa_category":
        return ag.fleiss_kappa_category(data, case["params"]["category"], categories=cats)
    functions = {
        "percent_agreement": ag.percent_agreement,
        "cohen_kappa": ag.cohen_kappa,
        "scott_pi": ag.scott_pi,
        "bennett_s": ag.bennett_s,
        "brennan_prediger": ag.brennan_prediger,
        "randolph_kappa": ag.randolph_kappa,
        "gwet_ac1": ag.gwet_ac1,
        "fleiss_kappa": ag.fleiss_kappa,
        "conger_kappa": ag.conger_kappa,
    }
    return functions[stat](data, categories=cats)


@pytest.mark.skipif(not CASES, reason=f"{CASES_PATH} not found")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_case(case: dict[str, Any]) -> None:
    got = compute(case)
    assert abs(got - case["expected"]) <= case["tolerance"], (
        f"{case['id']}: got {got!r}, published {case['expected']} ± {case['tolerance']} "
        f"(components {case.get('expected_components')}, source: {case['source']})"
    )


def test_cases_file_has_the_31_cases() -> None:
    if not CASES:
        pytest.skip(f"{CASES_PATH} not found")
    assert len(CASES) == 31
    assert len({c["id"] for c in CASES}) == 31


# Further published values on data already in the file (agreement.md §14); exact where known.
EXTRA = [
    ("kalpha_k4x12_nominal", lambda d: ag.krippendorff_alpha(d, level="ordinal"), 0.815388, 5e-7),
    ("kalpha_k4x12_nominal", lambda d: ag.krippendorff_alpha(d, level="ratio"), 0.797403, 5e-7),
    ("kalpha_k4x12_nominal", ag.conger_kappa, 0.76207, 5e-6),
    ("pa_irrcac_raw4raters", ag.fleiss_kappa, 0.76117, 5e-6),
    ("kalpha_wikipedia_nominal", lambda d: ag.krippendorff_alpha(d, level="interval"), 0.811, 5e-4),
    ("wkappa_irr_anxiety_r2r3_equal", ag.cohen_kappa, -0.006289308, 5e-9),
    ("wkappa_irr_anxiety_r2r3_equal",
     lambda d: ag.cohen_kappa(d, weights="linear", categories=range(1, 7)), 0.1262135922, 5e-9),
    ("wkappa_irr_anxiety_r2r3_equal",
     lambda d: ag.cohen_kappa(d, weights="quadratic", categories=range(1, 7)), 0.2297979798, 5e-9),
    ("cohen_irrcac_cont3x3", ag.brennan_prediger, 0.835, 5e-4),
    ("cohen_irrcac_cont3x3", ag.krippendorff_alpha, 0.7972585, 5e-7),
    ("wkappa_ap2008_ex2_custom", ag.percent_agreement, 0.88, 5e-9),
    ("wkappa_ap2008_ex2_custom", ag.bennett_s, 0.82, 5e-9),
    ("wkappa_ap2008_ex2_custom", ag.scott_pi, 0.7995, 5e-5),
    ("wkappa_ap2008_ex2_custom", ag.cohen_kappa, 0.8013, 5e-5),
    ("fleiss_1971_category_schizophrenia", ag.fleiss_kappa, 0.430, 5e-4),
    ("fleiss_1971_category_schizophrenia", lambda d: ag.fleiss_kappa_category(d, 1), 0.2448, 5e-5),
    ("fleiss_1971_category_schizophrenia", lambda d: ag.fleiss_kappa_category(d, 2), 0.2448, 5e-5),
    ("fleiss_1971_category_schizophrenia", lambda d: ag.fleiss_kappa_category(d, 3), 0.5200, 5e-5),
    ("fleiss_1971_category_schizophrenia", lambda d: ag.fleiss_kappa_category(d, 4), 0.4711, 5e-5),
    ("fleiss_1971_category_schizophrenia", lambda d: ag.fleiss_kappa_category(d, 5), 0.5661, 5e-5),
    ("randolph_randolph2005_ex1", ag.fleiss_kappa, 1 / 3, 1e-12),
    # Artstein & Poesio's distance (0.5 for pairs with Chck) as alpha's δ² (agreement.md §10).
    ("wkappa_ap2008_ex2_custom",
     lambda d: ag.krippendorff_alpha(d, distance=[[0, 1, 0.5], [1, 0, 0.5], [0.5, 0.5, 0]],
                                     categories=["STAT", "IReq", "Chck"]), 0.8156, 5e-5),
]


@pytest.mark.skipif(not CASES, reason=f"{CASES_PATH} not found")
@pytest.mark.parametrize(
    "case_id, statistic, expected, tol", EXTRA, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(EXTRA)]
)
def test_more_published_values_on_the_same_data(case_id: str, statistic: Any, expected: float, tol: float) -> None:
    case = next(c for c in CASES if c["id"] == case_id)
    data, _ = _matrix(case)
    assert abs(statistic(data) - expected) <= tol


@pytest.mark.skipif(not CASES, reason=f"{CASES_PATH} not found")
def test_alpha_components_of_the_4x12_example() -> None:
    """D_o 0.200 and D_e 0.779 from 40 pairable values in 11 units (Krippendorff 2011)."""
    from qualkit.agreement._data import coerce
    from qualkit.agreement.alpha import coincidences

    case = next(c for c in CASES if c["id"] == "kalpha_k4x12_nominal")
    coded = coerce(case["data"])
    counts = coded.unit_counts
    assert int((counts.sum(axis=1) >= 2).sum()) == 11
    o = coincidences(counts)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    assert n == pytest.approx(40)
    d_o = (o.sum() - o.trace()) / n
    d_e = (n * n - (n_c**2).sum()) / (n * (n - 1))
    assert d_o == pytest.approx(0.200, abs=5e-4)
    assert d_e == pytest.approx(0.779, abs=5e-4)


@pytest.mark.skipif(not CASES, reason=f"{CASES_PATH} not found")
def test_conger_depends_on_who_gave_the_single_value() -> None:
    """Moving unit 12's lone value to another coder changes Conger only (agreement.md §8)."""
    k4 = next(c for c in CASES if c["id"] == "kalpha_k4x12_nominal")["data"]
    raw4 = next(c for c in CASES if c["id"] == "pa_irrcac_raw4raters")["data"]
    assert ag.conger_kappa(k4) != pytest.approx(ag.conger_kappa(raw4), abs=1e-4)
    for f in (ag.fleiss_kappa, ag.gwet_ac1, ag.krippendorff_alpha, ag.brennan_prediger, ag.percent_agreement):
        assert f(k4) == pytest.approx(f(raw4), abs=1e-12)


@pytest.mark.skipif(not CASES, reason=f"{CASES_PATH} not found")
@pytest.mark.parametrize("case_id", ["ualpha_k2004_p254_cat_c", "ualpha_k2004_p254_cat_k"])
def test_unitizing_2004_components(case_id: str) -> None:
    """D_o and D_e as published (c: .0144 / .0532; k: 0 / .049)."""
    from qualkit.agreement.unitizing import _records, disagreements_2004

    case = next(c for c in CASES if c["id"] == case_id)
    segs, (begin, end) = _segments(case)
    category = case["params"]["category"]
    records = [[s for s in rec if s.value == category] for rec in _records(segs, begin, end).values()]
    d_o, d_e = disagreements_2004(records, begin, end)
    expected = case["expected_components"]
    assert d_o == pytest.approx(expected["D_o"], abs=5e-5)
    assert d_e == pytest.approx(expected["D_e"], abs=5e-4)
