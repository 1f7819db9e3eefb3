"""Bootstrap confidence intervals for alpha and the kappas: resample units, take percentiles.

Units (columns) are drawn with replacement, the statistic is recomputed on each resample with
the category list of the full data fixed, and the interval is the distribution's percentile
interval, as Hayes & Krippendorff (2007) suggest for alpha. Their KALPHA macro resamples in its
own way (not verified here), so its intervals need not equal these. Every run is reproducible
from its ``seed``, which is drawn and recorded when not given.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from qualkit.agreement import alpha, kappas, sets
from qualkit.agreement._data import (
    AgreementError,
    Coded,
    UndefinedStatisticError,
    coerce,
)

__all__ = ["BootstrapResult", "bootstrap_ci"]


def _matrix(data: Any, categories: Any = None, **options: Any) -> tuple[Coded, dict[str, Any]]:
    return coerce(data, categories), options


def _sets(data: Any, **options: Any) -> tuple[Coded, dict[str, Any]]:
    return sets.coerce_sets(data), options


def _two(compute: Callable[..., float], name: str, instead: str) -> Callable[..., float]:
    def checked(coded: Coded, **options: Any) -> float:
        return compute(kappas._two_coders(coded, name, instead), **options)

    return checked


# name → (prepare(data, **options) -> (coded, options), compute(coded, **options) -> float)
_STATISTICS: dict[str, tuple[Callable[..., tuple[Coded, dict[str, Any]]], Callable[..., float]]] = {
    "krippendorff_alpha": (_matrix, alpha._alpha),
    "set_alpha": (_sets, sets._set_alpha),
    "percent_agreement": (_matrix, kappas._percent_agreement),
    "cohen_kappa": (_matrix, _two(kappas._cohen, "Cohen's kappa", "conger_kappa")),
    "scott_pi": (_matrix, _two(kappas._fleiss, "Scott's pi", "fleiss_kappa")),
    "fleiss_kappa": (_matrix, kappas._fleiss),
    "conger_kappa": (_matrix, kappas._conger),
    "brennan_prediger": (_matrix, kappas._brennan_prediger),
    "bennett_s": (_matrix, kappas._brennan_prediger),
    "randolph_kappa": (_matrix, kappas._brennan_prediger),
    "gwet_ac1": (_matrix, kappas._gwet_ac1),
}


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate and percentile bootstrap interval of an agreement statistic.

    ``distribution`` holds the resampled values (NaN where the statistic was undefined on a
    resample, e.g. all values identical); ``n_undefined`` counts those, and the interval uses the
    rest. ``seed`` reproduces the run.
    """

    statistic: str
    estimate: float
    low: float
    high: float
    confidence: float
    n_boot: int
    n_units: int
    n_undefined: int
    seed: int
    distribution: np.ndarray = field(repr=False, compare=False)

    def prob_below(self, threshold: float) -> float:
        """Share of defined bootstrap values below ``threshold`` (Hayes & Krippendorff's q for a
        minimum acceptable alpha such as 0.667 or 0.8)."""
        values = self.distribution[~np.isnan(self.distribution)]
        return float(np.mean(values < threshold))


def bootstrap_ci(
    data: npt.ArrayLike | Sequence[Sequence[Any]],
    statistic: str | Callable[..., float] = "krippendorff_alpha",
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = None,
    **options: Any,
) -> BootstrapResult:
    """Percentile bootstrap interval for an agreement statistic, resampling units.

    Parameters
    ----------
    data : array_like or sequence of sequences
        The coders × units matrix the statistic takes (set-valued cells for ``set_alpha``).
    statistic : str or callable, default "krippendorff_alpha"
        One of this package's functions or its name: ``krippendorff_alpha``, ``set_alpha``,
        ``percent_agreement``, ``cohen_kappa``, ``scott_pi``, ``fleiss_kappa``, ``conger_kappa``,
        ``brennan_prediger``, ``gwet_ac1``.
    n_boot : int, default 1000
        Number of resamples.
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).
    seed : int, optional
        Seed of the resampling; drawn (and recorded in the result) when not given.
    **options
        Passed to the statistic (``level=``, ``categories=``, ``weights=``, ``distance=``); give
        ``categories=`` when the full category set matters (AC1, Brennan–Prediger, weights).

    Returns
    -------
    BootstrapResult
        ``estimate``, ``low``, ``high``, the resampled ``distribution`` (NaN = undefined), ``seed``.

    Raises
    ------
    AgreementError
        Unknown statistic or option, bad ``n_boot`` or ``confidence``.
    UndefinedStatisticError
        The statistic is undefined on the full data or on every resample.

    Notes
    -----
    Units (columns) are drawn with replacement and the statistic recomputed, categories fixed from
    the full data; the interval is the ((1 − confidence)/2, (1 + confidence)/2) quantiles of the
    defined values, as Hayes & Krippendorff (2007) suggest (their KALPHA macro resamples otherwise).

    References
    ----------
    Efron B, Tibshirani RJ (1993) An Introduction to the Bootstrap, ch. 13.
    Hayes AF, Krippendorff K (2007) Answering the call for a standard reliability measure for
    coding data. Commun Methods Meas 1:77–89, doi:10.1080/19312450709336664.

    Examples
    --------
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    ...         [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    >>> ci = bootstrap_ci(data, "krippendorff_alpha", n_boot=500, seed=1)
    >>> round(ci.estimate, 3), ci.low < ci.estimate < ci.high, ci.seed
    (0.743, True, 1)
    """
    name, (prepare, compute) = _resolve(statistic)
    _check_options(name, options)
    _check_settings(n_boot, confidence)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    coded, options = prepare(data, **options)
    estimate = compute(coded, **options)  # raises for bad options or undefined full-data value
    values = _resampled_values(coded, compute, options, int(n_boot), seed)
    n = coded.n_units
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        raise UndefinedStatisticError(f"{name} is undefined on every bootstrap resample")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return BootstrapResult(statistic=name, estimate=float(estimate), low=float(low), high=float(high),
                           confidence=float(confidence), n_boot=int(n_boot), n_units=n,
                           n_undefined=int(n_boot - defined.size), seed=int(seed), distribution=values)


def _check_settings(n_boot: Any, confidence: Any) -> None:
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise AgreementError(f"n_boot must be a positive whole number; got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise AgreementError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}")


def _resampled_values(coded: Coded, compute: Callable[..., float], options: dict[str, Any], n_boot: int,
                      seed: int) -> np.ndarray:
    """The statistic on ``n_boot`` resamples of the units (NaN where undefined)."""
    rng = np.random.default_rng(seed)
    n = coded.n_units
    values = np.empty(n_boot)
    for b in range(n_boot):
        try:
            values[b] = compute(coded.take(rng.integers(0, n, n)), **options)
        except UndefinedStatisticError:
            values[b] = np.nan
    return values


def _check_options(name: str, options: dict[str, Any]) -> None:
    """Options must be keyword parameters of the public statistic (e.g. level, categories)."""
    public = getattr(importlib.import_module("qualkit.agreement"), name)
    allowed = set(inspect.signature(public).parameters) - {"data"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise AgreementError(f"{name} takes no option {', '.join(unknown)}; its options: {', '.join(sorted(allowed))}")


def _resolve(statistic: str | Callable[..., float]) -> tuple[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    if isinstance(statistic, str):
        name = statistic
    else:  # one of our public functions (aliases such as bennett_s share their target's name)
        public = {getattr(m, n) for m in (alpha, kappas, sets) for n in m.__all__}
        name = statistic.__name__ if statistic in public else repr(statistic)
    if name not in _STATISTICS:
        raise AgreementError(
            f"cannot bootstrap {name!r}: use one of {', '.join(sorted(_STATISTICS))}"
        )
    return name, _STATISTICS[name]
