"""Random matrices, checked against independent implementations.

* Krippendorff's alpha (all four levels) against the ``krippendorff`` package, to 1e-9.
* The kappas against brute-force references written below straight from the textbook formulas:
  plain loops over units, coder pairs and categories, deliberately slow and structured unlike the
  vectorised code (no coincidence matrices, no count tables).
* Set-valued alpha against a pairwise-values definition; unitizing alpha against a
  position-by-position count.
* If ``irrCAC`` (PyPI) is importable: percent agreement, Fleiss, Conger, Brennan–Prediger, AC1
  and alpha against it (skipped otherwise).
"""
from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qualkit import agreement as ag
from qualkit.agreement import UndefinedStatisticError

krippendorff = pytest.importorskip("krippendorff")

pytestmark = pytest.mark.slow  # Hypothesis cross-checks against independent implementations

SETTINGS = settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def reliability(draw, coders=(2, 6), categories=(2, 6), units=(1, 18), missing=True):
    """(rows, q): a coders × units list matrix of labels 1..q, None = missing."""
    m = draw(st.integers(*coders))
    q = draw(st.integers(*categories))
    n = draw(st.integers(*units))
    cell = st.one_of(st.none(), st.integers(1, q)) if missing else st.integers(1, q)
    rows = draw(st.lists(st.lists(cell, min_size=n, max_size=n), min_size=m, max_size=m))
    return rows, q


def ours(f, *args, **kwargs):
    """The statistic, or None where qualkit says it is undefined."""
    try:
        return f(*args, **kwargs)
    except UndefinedStatisticError:
        return None


def agree(a, b, tol=1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


# ---------------------------------------------------------------------------------------------
# Brute-force references (textbook formulas, loops only)
# ---------------------------------------------------------------------------------------------


def units_of(rows):
    """Each unit's list of values (missing dropped)."""
    return [[row[u] for row in rows if row[u] is not None] for u in range(len(rows[0]))]


def ref_percent(rows):
    shares = []
    for values in units_of(rows):
        if len(values) < 2:
            continue
        pairs = list(permutations(range(len(values)), 2))
        shares.append(sum(values[i] == values[j] for i, j in pairs) / len(pairs))
    return sum(shares) / len(shares) if shares else None


def ref_pi(rows, cats):
    rated = [v for v in units_of(rows) if v]
    return {k: sum(v.count(k) / len(v) for v in rated) / len(rated) for k in cats}


def ref_corrected(p_a, p_e):
    if p_a is None or abs(1 - p_e) < 1e-12:
        return None
    return (p_a - p_e) / (1 - p_e)


def ref_fleiss(rows, cats):
    return ref_corrected(ref_percent(rows), sum(p * p for p in ref_pi(rows, cats).values()))


def ref_ac1(rows, cats):
    pi = ref_pi(rows, cats)
    return ref_corrected(ref_percent(rows), sum(p * (1 - p) for p in pi.values()) / (len(cats) - 1))


def ref_bp(rows, cats):
    return ref_corrected(ref_percent(rows), 1 / len(cats))


def ref_conger(rows, cats):
    """Chance = mean over ordered pairs of different coders of Σ_k p_gk p_hk."""
    if ref_percent(rows) is None:
        return None
    shares = []
    for row in rows:
        given_values = [v for v in row if v is not None]
        if given_values:
            shares.append({k: given_values.count(k) / len(given_values) for k in cats})
    pairs = list(permutations(range(len(shares)), 2))
    p_e = sum(sum(shares[g][k] * shares[h][k] for k in cats) for g, h in pairs) / len(pairs)
    return ref_corrected(ref_percent(rows), p_e)


def ref_cohen(rows, cats, weights=None):
    a, b = rows
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if not both:
        return None
    pa = {k: sum(x == k for x in a if x is not None) / sum(x is not None for x in a) for k in cats}
    pb = {k: sum(y == k for y in b if y is not None) / sum(y is not None for y in b) for k in cats}
    if weights is None:  # κ = (p_o − p_e) / (1 − p_e)
        p_o = sum(x == y for x, y in both) / len(both)
        return ref_corrected(p_o, sum(pa[k] * pb[k] for k in cats))
    pos = {k: i for i, k in enumerate(cats)}
    w = (lambda i, j: abs(i - j)) if weights == "linear" else (lambda i, j: (i - j) ** 2)
    d_o = sum(w(pos[x], pos[y]) for x, y in both) / len(both)
    d_e = sum(w(pos[i], pos[j]) * pa[i] * pb[j] for i in cats for j in cats)
    return None if d_e == 0 else 1 - d_o / d_e


def observed(rows):
    return sorted({v for row in rows for v in row if v is not None})


# ---------------------------------------------------------------------------------------------
# Alpha vs the krippendorff package
# ---------------------------------------------------------------------------------------------


def package_alpha(rows, level, value_domain=None):
    data = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    try:
        with np.errstate(all="ignore"):
            value = krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=value_domain)
    except (ValueError, ZeroDivisionError):
        return None
    return float(value) if np.isfinite(value) else None


@SETTINGS
@given(reliability(), st.sampled_from(ag.LEVELS))
def test_alpha_matches_krippendorff_package(case, level):
    rows, q = case
    assume(len(observed(rows)) >= 1)
    assert agree(ours(ag.krippendorff_alpha, rows, level=level), package_alpha(rows, level))


@SETTINGS
@given(reliability(), st.sampled_from(ag.LEVELS))
def test_alpha_on_a_numeric_array_matches_krippendorff_package(case, level):
    """The same matrices as a float ndarray (NaN = missing), where nominal and interval alpha take
    the short path of whole numbers (``agreement._numeric``)."""
    rows, q = case
    assume(len(observed(rows)) >= 1)
    data = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    assert agree(ours(ag.krippendorff_alpha, data, level=level), package_alpha(rows, level))


@SETTINGS
@given(reliability(), st.sampled_from(["nominal", "ordinal", "interval"]))
def test_alpha_with_declared_scale_matches_package(case, level):
    """Unused scale points change nothing for ordinal alpha (and the others)."""
    rows, q = case
    assume(len(observed(rows)) >= 1)
    scale = list(range(1, q + 1))
    expected = package_alpha(rows, level, value_domain=scale)
    assert agree(ours(ag.krippendorff_alpha, rows, level=level, categories=scale), expected)


def test_alpha_numeric_fast_path_matches_package_on_a_large_matrix():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4, size=(5, 20_000)).astype(float)
    data[:, :10_000] = data[0, :10_000]  # half the units agree perfectly
    data[rng.random(data.shape) < 0.1] = np.nan
    for level in ag.LEVELS:
        if level == "ratio":
            data = data + 1
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ag.krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Kappas vs brute force
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(reliability())
def test_percent_fleiss_conger_match_brute_force(case):
    rows, q = case
    cats = observed(rows)
    assume(cats)
    assert agree(ours(ag.percent_agreement, rows), ref_percent(rows))
    assert agree(ours(ag.fleiss_kappa, rows), ref_fleiss(rows, cats))
    assert agree(ours(ag.conger_kappa, rows), ref_conger(rows, cats))


@SETTINGS
@given(reliability())
def test_ac1_and_brennan_prediger_match_brute_force(case):
    rows, q = case
    assume(observed(rows))
    scale = list(range(1, q + 1))
    assert agree(ours(ag.gwet_ac1, rows, categories=scale), ref_ac1(rows, scale))
    assert agree(ours(ag.brennan_prediger, rows, categories=scale), ref_bp(rows, scale))
    cats = observed(rows)
    if len(cats) >= 2:
        assert agree(ours(ag.gwet_ac1, rows), ref_ac1(rows, cats))
        assert agree(ours(ag.brennan_prediger, rows), ref_bp(rows, cats))


@SETTINGS
@given(reliability(coders=(2, 2)), st.sampled_from([None, "linear", "quadratic"]), st.booleans())
def test_cohen_matches_brute_force(case, weights, declare):
    rows, q = case
    assume(observed(rows))
    cats = list(range(1, q + 1)) if declare else observed(rows)
    got = ours(ag.cohen_kappa, rows, weights=weights, categories=cats if declare else None)
    assert agree(got, ref_cohen(rows, cats, weights))


@SETTINGS
@given(reliability(coders=(2, 2)))
def test_two_coder_statistics_equal_their_generalisations(case):
    rows, q = case
    assume(observed(rows))
    assert agree(ours(ag.cohen_kappa, rows), ours(ag.conger_kappa, rows))
    assert agree(ours(ag.scott_pi, rows), ours(ag.fleiss_kappa, rows))
    assert agree(ours(ag.scott_pi, rows), ref_fleiss(rows, observed(rows)))


@SETTINGS
@given(reliability(missing=False, units=(2, 18)))
def test_fleiss_category_kappa_matches_fleiss_1971_formula(case):
    """κ_k = 1 − Σ_u r_uk (m − r_uk) / (N m (m − 1) p_k q_k), complete data."""
    rows, q = case
    m, n = len(rows), len(rows[0])
    for k in observed(rows):
        r = [sum(row[u] == k for row in rows) for u in range(n)]
        p = sum(r) / (n * m)
        expected = None if p in (0, 1) else 1 - sum(x * (m - x) for x in r) / (n * m * (m - 1) * p * (1 - p))
        assert agree(ours(ag.fleiss_kappa_category, rows, k), expected)


# ---------------------------------------------------------------------------------------------
# Set-valued alpha vs a pairwise definition
# ---------------------------------------------------------------------------------------------


def ref_set_alpha(rows, d):
    """α = 1 − D_o / D_e with D_o over within-unit pairs (÷ r_u − 1) and D_e over all pairs of
    pairable values."""
    units = [[v for v in unit] for unit in units_of(rows)]
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    if n < 2:
        return None
    d_o = sum(sum(d(u[i], u[j]) for i, j in permutations(range(len(u)), 2)) / (len(u) - 1) for u in units) / n
    d_e = sum(d(values[i], values[j]) for i, j in permutations(range(n), 2)) / (n * (n - 1))
    return None if d_e == 0 else 1 - d_o / d_e


code_sets = st.frozensets(st.sampled_from("abcd"), max_size=3)


@SETTINGS
@given(
    st.integers(2, 4).flatmap(
        lambda m: st.integers(1, 10).flatmap(
            lambda n: st.lists(
                st.lists(st.one_of(st.none(), code_sets), min_size=n, max_size=n), min_size=m, max_size=m
            )
        )
    ),
    st.sampled_from(["masi", "jaccard"]),
)
def test_set_alpha_matches_pairwise_definition(rows, name):
    d = {"masi": ag.masi_distance, "jaccard": ag.jaccard_distance}[name]
    assert agree(ours(ag.set_alpha, rows, distance=name), ref_set_alpha(rows, d))


@SETTINGS
@given(reliability())
def test_set_alpha_on_single_codes_is_nominal_alpha(case):
    rows, q = case
    as_sets = [[None if v is None else {v} for v in row] for row in rows]
    assert agree(ours(ag.set_alpha, as_sets), ours(ag.krippendorff_alpha, rows))


# ---------------------------------------------------------------------------------------------
# Unitizing alpha (2019) vs a position-by-position count
# ---------------------------------------------------------------------------------------------


def ref_unitizing(records, length, level):
    """ℓ from every position and ordered coder pair; ε from the book's eq. 33, all in loops."""
    m = len(records)
    gap = object()
    at = []
    for rec in records:
        values = [gap] * length
        for s, e, v in rec:
            for p in range(s, e):
                values[p] = v
        at.append(values)
    labels = [gap] + sorted({v for rec in records for *_, v in rec})
    idx = {id(gap): 0} | {v: i + 1 for i, v in enumerate(labels[1:])}
    key = lambda v: idx[id(v)] if v is gap else idx[v]  # noqa: E731
    q = len(labels)
    ell = [[0.0] * q for _ in range(q)]
    for p in range(length):
        for i, j in permutations(range(m), 2):
            ell[key(at[i][p])][key(at[j][p])] += 1 / (m - 1)
    t = [0.0] * q
    for rec in records:
        t[0] += length - sum(e - s for s, e, _ in rec)
        for s, e, v in rec:
            t[key(v)] += (e - s) ** 2
    total = sum(map(sum, ell))
    row = [sum(r) for r in ell]
    eps = [
        [total * (row[c] * row[k] - (t[c] if c == k else 0)) / (total**2 - sum(t)) for k in range(q)]
        for c in range(q)
    ]
    group = (lambda c: min(c, 1)) if level == "binary" else (lambda c: c)
    d_o = sum(ell[c][k] for c in range(q) for k in range(q) if group(c) != group(k))
    d_e = sum(eps[c][k] for c in range(q) for k in range(q) if group(c) != group(k))
    return None if d_e <= 0 else 1 - d_o / d_e


@st.composite
def unitizations(draw):
    length = draw(st.integers(4, 30))
    m = draw(st.integers(2, 4))
    records = []
    for _ in range(m):
        cuts = sorted(draw(st.sets(st.integers(0, length), min_size=2, max_size=8)))
        rec = []
        for s, e in zip(cuts, cuts[1:], strict=False):
            if draw(st.booleans()):
                rec.append((s, e, draw(st.sampled_from("xyz"))))
        records.append(rec)
    return records, length


@SETTINGS
@given(unitizations(), st.sampled_from(["nominal", "binary"]))
def test_unitizing_alpha_matches_position_count(case, level):
    records, length = case
    got = ours(ag.unitizing_alpha, records, (0, length), level=level)
    assert agree(got, ref_unitizing(records, length, level), tol=1e-9)


@SETTINGS
@given(unitizations())
def test_unitizing_category_observed_disagreement_matches_all_pairs(case):
    """The merge walk visits exactly the overlapping section pairs: compare with all pairs."""
    from qualkit.agreement.unitizing import _pair_disagreement, _sections, _Segment

    records, length = case
    secs = [_sections([_Segment(*s) for s in rec], 0, length) for rec in records]
    for a, b in permutations(secs, 2):
        brute = 0
        for s1, e1, u1 in a:
            for s2, e2, u2 in b:
                if max(s1, s2) >= min(e1, e2):
                    continue
                if u1 and u2:
                    brute += (s1 - s2) ** 2 + (e1 - e2) ** 2
                elif u1 and s2 <= s1 and e1 <= e2:
                    brute += (e1 - s1) ** 2
                elif u2 and s1 <= s2 and e2 <= e1:
                    brute += (e2 - s2) ** 2
        assert _pair_disagreement(a, b) == brute


# ---------------------------------------------------------------------------------------------
# irrCAC (optional)
# ---------------------------------------------------------------------------------------------


def _irrcac():
    try:
        from irrCAC.raw import CAC
    except Exception:  # not installed, or its pinned scipy/pandas do not import
        return None
    return CAC


@pytest.mark.skipif(_irrcac() is None, reason="irrCAC not installed")
@settings(max_examples=60, deadline=None)
@given(reliability(units=(2, 15)))
def test_against_irrcac(case):
    import pandas as pd

    rows, q = case
    # irrCAC divides by zero without a pairable unit and gives NaN for a coder with no values.
    assume(any(len(v) >= 2 for v in units_of(rows)))
    assume(all(any(v is not None for v in row) for row in rows))
    cats = observed(rows)
    assume(len(cats) >= 2)
    frame = pd.DataFrame({f"r{i}": [np.nan if v is None else v for v in row] for i, row in enumerate(rows)})
    cac = _irrcac()(frame, weights="identity", categories=cats, digits=15)

    def check(statistic, method, field="coefficient_value"):
        try:
            with np.errstate(all="ignore"):
                value = float(getattr(cac, method)()["est"][field])
        except ZeroDivisionError:  # irrCAC's standard error needs 2+ subjects; no estimate then
            return
        assert agree(ours(statistic, rows), value if math.isfinite(value) else None), method

    check(ag.percent_agreement, "gwet", field="pa")
    check(ag.gwet_ac1, "gwet")
    check(ag.fleiss_kappa, "fleiss")
    check(ag.conger_kappa, "conger")
    check(ag.brennan_prediger, "bp")
    check(ag.krippendorff_alpha, "krippendorff")


# ---------------------------------------------------------------------------------------------
# NLTK (optional): set-valued alpha with MASI / Jaccard
# ---------------------------------------------------------------------------------------------


def _nltk_with_current_masi():
    """NLTK's AnnotationTask, if installed with the 2/3 and 1/3 MASI weights (old releases used
    0.67 / 0.33, which cannot match to 1e-9)."""
    try:
        from nltk.metrics.agreement import AnnotationTask
        from nltk.metrics.distance import masi_distance
    except Exception:
        return None
    if masi_distance({1, 2}, {1, 2, 3, 4}) != 1 - 0.5 * (2 / 3):
        return None
    return AnnotationTask


nonempty_sets = st.frozensets(st.sampled_from("abcd"), min_size=1, max_size=3)


@pytest.mark.skipif(_nltk_with_current_masi() is None, reason="NLTK (with 2/3, 1/3 MASI weights) not installed")
@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda m: st.integers(2, 10).flatmap(
            lambda n: st.lists(
                st.lists(st.one_of(st.none(), nonempty_sets), min_size=n, max_size=n), min_size=m, max_size=m
            )
        )
    ),
    st.sampled_from(["masi", "jaccard"]),
)
def test_set_alpha_against_nltk(rows, name):
    from nltk.metrics import distance

    # NLTK treats None as a label, so missing cells are left out of its triples.
    triples = [(f"c{c}", f"u{u}", v) for c, row in enumerate(rows) for u, v in enumerate(row) if v is not None]
    got = ours(ag.set_alpha, rows, distance=name)
    assume(got is not None)
    task = _nltk_with_current_masi()(data=triples, distance=getattr(distance, f"{name}_distance"))
    assert got == pytest.approx(task.alpha(), abs=1e-9)
