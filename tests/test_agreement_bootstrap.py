"""Bootstrap intervals: reproducible with a seed, consistent with the point estimate, and with
roughly the promised coverage on simulated coders whose population alpha is known."""
from __future__ import annotations

import numpy as np
import pytest

from qualkit import agreement as ag

K4 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_same_seed_same_interval_and_estimate_is_the_statistic():
    a = ag.bootstrap_ci(K4, n_boot=300, seed=11)
    b = ag.bootstrap_ci(K4, ag.krippendorff_alpha, n_boot=300, seed=11)
    assert (a.low, a.high) == (b.low, b.high)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    assert a.estimate == ag.krippendorff_alpha(K4)
    assert a.low <= a.high
    assert a.n_boot == 300 and a.n_units == 12 and a.confidence == 0.95
    c = ag.bootstrap_ci(K4, n_boot=300, seed=12)
    assert (c.low, c.high) != (a.low, a.high)


def test_seed_is_drawn_and_recorded_when_not_given():
    a = ag.bootstrap_ci(K4, n_boot=50)
    b = ag.bootstrap_ci(K4, n_boot=50, seed=a.seed)
    assert (a.low, a.high) == (b.low, b.high)


def test_interval_is_the_percentile_interval_of_the_distribution():
    r = ag.bootstrap_ci(K4, level="interval", n_boot=400, confidence=0.9, seed=5)
    defined = r.distribution[~np.isnan(r.distribution)]
    assert len(defined) == r.n_boot - r.n_undefined
    assert r.low == pytest.approx(np.quantile(defined, 0.05))
    assert r.high == pytest.approx(np.quantile(defined, 0.95))
    assert r.estimate == pytest.approx(ag.krippendorff_alpha(K4, level="interval"))
    assert 0.0 <= r.prob_below(0.8) <= 1.0
    assert r.prob_below(-10) == 0.0 and r.prob_below(10) == 1.0


@pytest.mark.parametrize(
    "statistic, options",
    [
        ("percent_agreement", {}),
        ("fleiss_kappa", {}),
        ("conger_kappa", {}),
        ("gwet_ac1", {"categories": [1, 2, 3, 4, 5, 6]}),
        ("brennan_prediger", {"categories": [1, 2, 3, 4, 5, 6]}),
        (ag.krippendorff_alpha, {"level": "ordinal"}),
    ],
)
def test_each_multi_coder_statistic_can_be_bootstrapped(statistic, options):
    r = ag.bootstrap_ci(K4, statistic, n_boot=100, seed=3, **options)
    f = getattr(ag, statistic) if isinstance(statistic, str) else statistic
    assert r.estimate == pytest.approx(f(K4, **options))
    assert r.low <= r.high


def test_two_coder_statistics_and_set_alpha():
    two = [[1, 2, 3, 3, 2, 1, 4, 1, 2, 3], [1, 2, 3, 3, 2, 2, 4, 1, 2, 4]]
    for name, options in [("cohen_kappa", {"weights": "quadratic"}), ("scott_pi", {}), ("bennett_s", {})]:
        statistic = getattr(ag, name)
        r = ag.bootstrap_ci(two, statistic, n_boot=100, seed=1, **options)
        assert r.estimate == pytest.approx(statistic(two, **options))
    sets = [[{"a"}, {"a", "b"}, {"b"}, {"c"}, {"a"}], [{"a"}, {"a"}, {"b"}, {"c", "d"}, {"b"}]]
    r = ag.bootstrap_ci(sets, "set_alpha", distance="jaccard", n_boot=100, seed=1)
    assert r.estimate == pytest.approx(ag.set_alpha(sets, distance="jaccard"))
    with pytest.raises(ValueError, match="exactly 2 coders"):
        ag.bootstrap_ci(K4, "cohen_kappa", n_boot=10)


def test_resamples_where_the_statistic_is_undefined_are_counted_not_fatal():
    # Only 2 of 6 units disagree: some resamples hold identical values only (alpha undefined).
    data = [[1, 1, 1, 1, 1, 2], [1, 1, 1, 1, 2, 1]]
    r = ag.bootstrap_ci(data, n_boot=200, seed=0)
    assert 0 < r.n_undefined < 200
    assert np.isnan(r.distribution).sum() == r.n_undefined


def test_coverage_on_simulated_coders_with_known_alpha():
    """Each coder reports the true category with probability s, else a uniform random one; the
    population alpha (= Scott's pi) is then s². About 95% of 95% intervals should cover it."""
    rng = np.random.default_rng(2024)
    s, q, units, runs = 0.8, 4, 150, 40
    covered = 0
    for run in range(runs):
        truth = rng.integers(0, q, units)
        honest = rng.random((2, units)) < s
        data = np.where(honest, truth, rng.integers(0, q, (2, units))).astype(float)
        r = ag.bootstrap_ci(data, n_boot=250, seed=run)
        covered += r.low <= s * s <= r.high
    assert 0.85 <= covered / runs <= 1.0
