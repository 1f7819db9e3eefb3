"""Percent agreement and the kappa family: Cohen (weighted), Scott, Fleiss, Conger,
Brennan–Prediger (Bennett's S, Randolph) and Gwet's AC1.

Missing data follow Gwet (2014, *Handbook of Inter-Rater Reliability*, 4th ed.) as implemented
in irrCAC, so that the coefficients are comparable with one another:

* observed agreement p_a is the mean, over units with values from two or more coders, of the
  share of agreeing coder pairs within the unit (each such unit weighted equally);
* chance terms use every value given, including units that only one coder rated.

With complete data these reduce to the textbook two-coder and Fleiss formulas. Two-coder
statistics are consistent with their multi-coder generalisations on any data:
``cohen_kappa == conger_kappa`` and ``scott_pi == fleiss_kappa`` for two coders.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from qualkit.agreement._data import (
    AgreementError,
    Coded,
    UndefinedStatisticError,
    check_square,
    coerce,
)

__all__ = [
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "fleiss_kappa_category",
    "conger_kappa",
    "brennan_prediger",
    "bennett_s",
    "randolph_kappa",
    "gwet_ac1",
]

Categories = Iterable[Hashable] | None


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def percent_agreement(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Share of agreeing coder pairs, averaged over units (Gwet's convention).

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels (list of lists, numpy array or pandas DataFrame);
        ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        The full category list; here it only validates the labels.

    Returns
    -------
    float
        Percent agreement p_a in [0, 1].

    Raises
    ------
    UndefinedStatisticError
        No unit has values from two or more coders.

    Notes
    -----
    p_a = mean over pairable units u (r_u ≥ 2 values) of Σ_k r_uk (r_uk − 1) / (r_u (r_u − 1)),
    with r_uk the coders who put unit u in category k. Two coders with complete data: the share of
    units on which they agree. With missing data every pairable unit counts equally, as in irrCAC's
    ``pa`` (0.8181818 on ``cac.raw4raters``); the alpha-style figure 1 − D_o, which weights units by
    their number of values, gives 0.800 there (DKPro).

    References
    ----------
    Gwet KL (2014) Handbook of Inter-Rater Reliability, 4th ed., ch. 2.

    Examples
    --------
    >>> percent_agreement([["a", "a", "b", "b"], ["a", "b", "b", "b"]])
    0.75
    """
    return _percent_agreement(coerce(data, categories))


def cohen_kappa(data: npt.ArrayLike, weights: str | npt.ArrayLike | None = None, categories: Categories = None) -> float:
    """Cohen's kappa for two coders, optionally weighted.

    Parameters
    ----------
    data : array_like
        2 × units matrix of labels; ``None`` / NaN = missing.
    weights : {None, "linear", "quadratic"} or array_like, optional
        Disagreement weights: ``None`` → 1 − [i = j] (plain kappa), ``"linear"`` → |i − j|,
        ``"quadratic"`` → (i − j)², or a q × q matrix with a zero diagonal.
    categories : iterable of hashable, optional
        The full category list, in scale order for weighted kappa.

    Returns
    -------
    float
        Kappa; 1 is perfect agreement, 0 chance agreement.

    Raises
    ------
    AgreementError
        Not exactly two coders, or unusable weights.
    UndefinedStatisticError
        No unit coded by both, or expected disagreement 0 (one category throughout).

    Notes
    -----
    κ_w = 1 − Σ_ij w_ij p_ij / Σ_ij w_ij p_i+ p_+j; unweighted, κ = (p_o − p_e) / (1 − p_e).
    i and j are **positions in the category list**: ``categories`` in scale order, or by default
    the sorted observed labels, which is R irr ``kappa2``'s convention (a scale value nobody used is
    skipped, so 1, 2, 3, 5, 6 are ranked 1..5); pass the full scale as ``categories`` to weight by
    scale position instead (scikit-learn's ``labels``, irrCAC's ``categories``).

    p_ij comes from the units both coders rated; each coder's marginal p_i+ / p_+j from all the
    units that coder rated (Gwet's missing-data convention, equal to :func:`conger_kappa` for two
    coders). Matches R irr ``kappa2``, scikit-learn ``cohen_kappa_score`` and statsmodels on
    complete data.

    References
    ----------
    Cohen J (1960) A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37–46,
    doi:10.1177/001316446002000104.
    Cohen J (1968) Weighted kappa. Psychol Bull 70:213–220, doi:10.1037/h0026256.

    Examples
    --------
    >>> round(cohen_kappa([[1, 1, 2, 2, 3], [1, 2, 2, 3, 3]]), 4)
    0.4118
    >>> round(cohen_kappa([[1, 1, 2, 2, 3], [1, 2, 2, 3, 3]], weights="quadratic"), 4)
    0.6875
    """
    coded = _two_coders(coerce(data, categories), "Cohen's kappa", "conger_kappa")
    return _cohen(coded, weights)


def scott_pi(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Scott's pi for two coders: chance agreement from the pooled marginals.

    Parameters
    ----------
    data : array_like
        2 × units matrix of labels; ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        The full category list (validates the labels).

    Returns
    -------
    float
        Scott's pi.

    Raises
    ------
    AgreementError
        Not exactly two coders.
    UndefinedStatisticError
        Chance agreement is 1 (all values in one category) or nothing to compare.

    Notes
    -----
    π = (p_o − p_e) / (1 − p_e), p_e = Σ_k ((p_k+ + p_+k) / 2)². With missing data this is
    :func:`fleiss_kappa` on two coders (Gwet's convention). Matches irrCAC ``scott2``, NLTK ``pi``,
    DKPro.

    References
    ----------
    Scott WA (1955) Reliability of content analysis: the case of nominal scale coding. Public Opin
    Q 19:321–325, doi:10.1086/266577.

    Examples
    --------
    >>> round(scott_pi([[1, 1, 2, 2, 3], [1, 2, 2, 3, 3]]), 4)
    0.3939
    """
    coded = _two_coders(coerce(data, categories), "Scott's pi", "fleiss_kappa")
    return _fleiss(coded, "Scott's pi")


def fleiss_kappa(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Fleiss' kappa for any number of coders (Scott's pi generalised), missing values allowed.

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels; ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        The full category list (validates the labels).

    Returns
    -------
    float
        Fleiss' kappa.

    Raises
    ------
    UndefinedStatisticError
        Chance agreement is 1 (all values in one category) or nothing to compare.

    Notes
    -----
    κ = (p_a − p_e) / (1 − p_e); p_a as in :func:`percent_agreement`; p_e = Σ_k π_k² with
    π_k = mean over units with at least one value of r_uk / r_u. Complete data: Fleiss (1971)
    exactly (R irr ``kappam.fleiss``, statsmodels ``fleiss_kappa``); missing data: Gwet's
    generalisation (irrCAC ``fleiss``; 0.76117 on ``cac.raw4raters``, where DKPro gives 0.737).

    References
    ----------
    Fleiss JL (1971) Measuring nominal scale agreement among many raters. Psychol Bull
    76:378–382, doi:10.1037/h0031619.

    Examples
    --------
    >>> round(fleiss_kappa([["y", "y", "n", "n"], ["y", "y", "n", "n"], ["y", "n", "y", "n"]]), 4)
    0.3333
    """
    return _fleiss(coerce(data, categories), "Fleiss' kappa")


def fleiss_kappa_category(data: npt.ArrayLike, category: Hashable, categories: Categories = None) -> float:
    """Fleiss' category-specific kappa: agreement on ``category`` versus all other categories.

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels; ``None`` / NaN = missing.
    category : hashable
        The category whose agreement is measured.
    categories : iterable of hashable, optional
        The full category list (validates the labels).

    Returns
    -------
    float
        κ_k for ``category``.

    Raises
    ------
    AgreementError
        ``category`` is not among the categories.
    UndefinedStatisticError
        Everybody or nobody used ``category`` everywhere.

    Notes
    -----
    κ_k = 1 − Σ_u r_uk (m − r_uk) / (N m (m − 1) p_k (1 − p_k)) for complete data, which is Fleiss'
    kappa on the data recoded to "k / not k"; that recoding is how it is computed here, so missing
    values follow :func:`fleiss_kappa`. A per-code diagnostic: on Fleiss's 30 × 6 diagnoses the
    five categories give 0.2448, 0.2448, 0.5200, 0.4711, 0.5661.

    References
    ----------
    Fleiss JL (1971) Psychol Bull 76:378–382, doi:10.1037/h0031619 (equation for κ_j).

    Examples
    --------
    >>> round(fleiss_kappa_category([["y", "y", "n", "n"], ["y", "y", "n", "n"], ["y", "n", "y", "n"]], "y"), 4)
    0.3333
    """
    coded = coerce(data, categories)
    k = coded.index_of(category)
    binary = np.where(coded.codes < 0, -1, (coded.codes == k).astype(np.intp))
    return _fleiss(Coded(binary, (False, True)), f"Fleiss' kappa for category {category!r}")


def conger_kappa(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Conger's kappa: Cohen's kappa for many coders, keeping each coder's own marginals.

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels; ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        The full category list (validates the labels).

    Returns
    -------
    float
        Conger's kappa (Cohen's kappa for two coders).

    Raises
    ------
    UndefinedStatisticError
        Chance agreement is 1 or nothing to compare.

    Notes
    -----
    κ = (p_a − p_e) / (1 − p_e); p_a as in :func:`percent_agreement`; with p_gk = share of coder
    g's values in category k (over the units g rated), p̄_k their mean over the R coders and s_k²
    their variance (divisor R − 1): p_e = Σ_k (p̄_k² − s_k² / R), i.e. the mean over pairs of coders
    of Σ_k p_gk p_hk. Coders who gave no value are left out. Matches irrCAC ``conger`` (0.76282 on
    ``cac.raw4raters``).

    References
    ----------
    Conger AJ (1980) Integration and generalization of kappas for multiple raters. Psychol Bull
    88:322–328, doi:10.1037/0033-2909.88.2.322.

    Examples
    --------
    >>> round(conger_kappa([[1, 1, 2, 2], [1, 2, 2, 2], [1, 1, 2, 1]]), 4)
    0.3846
    """
    return _conger(coerce(data, categories))


def brennan_prediger(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Brennan–Prediger coefficient: chance agreement 1/q (= Bennett's S = Randolph's kappa).

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels; ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        **The full category set**: q is its size. Without it q is the number of labels observed
        (NLTK's ``S`` and irrCAC's default; MAXQDA uses the number of codes).

    Returns
    -------
    float
        S.

    Raises
    ------
    AgreementError
        Fewer than two categories known.
    UndefinedStatisticError
        Nothing to compare.

    Notes
    -----
    S = (p_a − 1/q) / (1 − 1/q), p_a as in :func:`percent_agreement`. Two coders: Bennett's S;
    many coders: Randolph's free-marginal kappa. With q = 2, S = 2 p_o − 1 = PABAK. Matches irrCAC
    ``bp`` (0.77273 on ``cac.raw4raters``; DKPro's Randolph gives 0.750 there).

    References
    ----------
    Bennett EM, Alpert R, Goldstein AC (1954) Communications through limited response
    questioning. Public Opin Q 18:303–308, doi:10.1086/266520.
    Brennan RL, Prediger DJ (1981) Coefficient kappa: some uses, misuses, and alternatives. Educ
    Psychol Meas 41:687–699, doi:10.1177/001316448104100307.
    Randolph JJ (2005) Free-marginal multirater kappa. ERIC ED490661.

    Examples
    --------
    >>> brennan_prediger([["y", "y", "n", "n"], ["y", "y", "n", "n"], ["y", "n", "y", "n"]])
    0.33333333333333326
    >>> round(brennan_prediger([["y", "y", "n", "n"], ["y", "y", "n", "y"]], categories=["y", "n", "?"]), 4)
    0.625
    """
    return _brennan_prediger(coerce(data, categories))


bennett_s = brennan_prediger
randolph_kappa = brennan_prediger


def gwet_ac1(data: npt.ArrayLike, categories: Categories = None) -> float:
    """Gwet's AC1: chance agreement from how evenly values spread over the categories.

    Parameters
    ----------
    data : array_like
        Coders × units matrix of labels; ``None`` / NaN = missing.
    categories : iterable of hashable, optional
        The full category set (q is its size; default: the observed labels).

    Returns
    -------
    float
        AC1.

    Raises
    ------
    AgreementError
        Fewer than two categories known.
    UndefinedStatisticError
        Nothing to compare.

    Notes
    -----
    AC1 = (p_a − p_e) / (1 − p_e), p_a as in :func:`percent_agreement`,
    p_e = Σ_k π_k (1 − π_k) / (q − 1), π_k as in :func:`fleiss_kappa` (two coders:
    (p_k+ + p_+k) / 2). Stays stable when agreement and prevalence are high, where kappa
    collapses (the "kappa paradox"). Matches irrCAC ``gwet`` (0.77544 on ``cac.raw4raters``) and
    DKPro for two coders.

    References
    ----------
    Gwet KL (2008) Computing inter-rater reliability and its variance in the presence of high
    agreement. Br J Math Stat Psychol 61:29–48, doi:10.1348/000711006X126600.

    Examples
    --------
    >>> round(gwet_ac1([["y", "y", "y", "y", "n"], ["y", "y", "y", "y", "y"]]), 4)
    0.7561
    """
    return _gwet_ac1(coerce(data, categories))


# ---------------------------------------------------------------------------------------------
# Computations on coded data (shared with the bootstrap)
# ---------------------------------------------------------------------------------------------


def _percent_agreement(coded: Coded) -> float:
    prof = coded.profiles  # distinct unit count rows, each weighted by the units that share it
    counts, r = prof.counts, prof.counts.sum(axis=1)
    pairable = r >= 2
    if not pairable.any():
        raise UndefinedStatisticError("no unit has values from two or more coders, so nothing can be compared")
    c, r, w = counts[pairable], r[pairable], prof.weight[pairable]
    return float(w @ ((c * (c - 1)).sum(axis=1) / (r * (r - 1))) / w.sum())


def _category_shares(coded: Coded) -> np.ndarray:
    """π_k: mean over units with at least one value of the share of that unit's values in k."""
    prof = coded.profiles
    r = prof.counts.sum(axis=1)
    rated = r > 0
    w = prof.weight[rated]
    shares: np.ndarray = w @ (prof.counts[rated] / r[rated, None]) / w.sum()
    return shares


def _chance_corrected(p_a: float, p_e: float, name: str) -> float:
    if 1.0 - p_e <= 1e-12:
        raise UndefinedStatisticError(
            f"{name} is undefined: chance agreement is 1 (all values fall in one category)"
        )
    return float((p_a - p_e) / (1.0 - p_e))


def _fleiss(coded: Coded, name: str = "Fleiss' kappa") -> float:
    p_a = _percent_agreement(coded)
    pi = _category_shares(coded)
    return _chance_corrected(p_a, float(np.sum(pi**2)), name)


def _conger(coded: Coded) -> float:
    p_a = _percent_agreement(coded)
    per_coder = coded.coder_counts
    n_g = per_coder.sum(axis=1)
    active = n_g > 0
    p = per_coder[active] / n_g[active, None]
    r = p.shape[0]
    p_e = float(np.sum(p.mean(axis=0) ** 2 - p.var(axis=0, ddof=1) / r))
    return _chance_corrected(p_a, p_e, "Conger's kappa")


def _gwet_ac1(coded: Coded) -> float:
    q = _at_least_two_categories(coded, "Gwet's AC1")
    pi = _category_shares(coded)
    p_e = float(np.sum(pi * (1 - pi)) / (q - 1))
    return _chance_corrected(_percent_agreement(coded), p_e, "Gwet's AC1")


def _brennan_prediger(coded: Coded) -> float:
    q = _at_least_two_categories(coded, "the Brennan–Prediger coefficient")
    return _chance_corrected(_percent_agreement(coded), 1.0 / q, "the Brennan–Prediger coefficient")


def _cohen(coded: Coded, weights: str | Any | None = None) -> float:
    w = disagreement_weights(coded, weights)
    a, b = coded.codes.astype(np.intp)  # small code dtypes would overflow in a * q + b
    both = (a >= 0) & (b >= 0)
    if not both.any():
        raise UndefinedStatisticError("no unit was coded by both coders, so nothing can be compared")
    q = coded.q
    joint = np.bincount(a[both] * q + b[both], minlength=q * q).reshape(q, q) / both.sum()
    per_coder = coded.coder_counts
    marginals = per_coder / per_coder.sum(axis=1, keepdims=True)
    observed = float(np.sum(w * joint))
    expected = float(np.sum(w * np.outer(marginals[0], marginals[1])))
    if expected <= 1e-12 * float(w.max(initial=0.0)):  # also catches an all-zero weight matrix
        raise UndefinedStatisticError(
            "Cohen's kappa is undefined: expected disagreement is 0 (both coders used one and the same category)"
        )
    return 1.0 - observed / expected


def disagreement_weights(coded: Coded, weights: str | Any | None) -> np.ndarray:
    """The q × q disagreement weight matrix for Cohen's kappa (positions in the category list)."""
    q = coded.q
    if weights is None:
        return 1.0 - np.eye(q)
    if isinstance(weights, str):
        if weights not in ("linear", "quadratic"):
            raise AgreementError(
                f"unknown weights {weights!r}: use None, 'linear', 'quadratic' or a q × q disagreement matrix"
            )
        if not coded.ordered:
            raise AgreementError(
                f"{weights} weights need ordered categories: pass categories= in scale order "
                "(the labels seen cannot be sorted together)"
            )
        pos = np.arange(q, dtype=float)
        diff = np.abs(pos[:, None] - pos[None, :])
        return diff if weights == "linear" else diff**2
    return check_square(weights, q, "weights matrix")


def _two_coders(coded: Coded, name: str, instead: str) -> Coded:
    if coded.n_coders != 2:
        raise AgreementError(f"{name} is for exactly 2 coders; got {coded.n_coders}. Use {instead} for more")
    return coded


def _at_least_two_categories(coded: Coded, name: str) -> int:
    if coded.q < 2:
        raise AgreementError(
            f"{name} needs at least 2 categories but only {list(coded.categories)!r} is known: "
            "pass categories= with the full category set"
        )
    return coded.q
