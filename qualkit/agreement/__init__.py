"""Inter-coder agreement statistics: percent agreement, the kappas, Gwet's AC1 and
Krippendorff's alpha (nominal, ordinal, interval, ratio, custom, set-valued, unitizing), with
bootstrap confidence intervals.

Pure statistics: no workspace and no pandas import. Every statistic takes ``data``, a
**coders × units** matrix (list of lists, numpy array, pandas DataFrame, or a list of one numpy
array, Series or Categorical per coder; ``None``/NaN = missing, and '' in a numpy string array;
labels are any hashable values), returns a float and raises ``ValueError``
(:class:`AgreementError`) on unusable input or when the statistic is undefined on the data.
``categories=`` declares the full, ordered category list where it matters (chance terms of AC1
and Brennan–Prediger, weights, ordinal ranks). Missing data follow Gwet's conventions (see
:mod:`qualkit.agreement.kappas`). Formulas, sources and pitfalls: each function's docstring.

For many codes at once (one binary variable per code, as ``qualkit agree`` has them), the
vectorised building blocks live in :mod:`~qualkit.agreement.patterns` (kappas, alpha, AC1 and
percent agreement from counts of unit patterns, with cheap bootstrap intervals),
:mod:`~qualkit.agreement.profiles` (set-valued alpha from distinct unit profiles) and
:mod:`~qualkit.agreement.spans` (span matching without units).

>>> from qualkit.agreement import krippendorff_alpha, cohen_kappa
>>> round(cohen_kappa([["a", "a", "b", "b"], ["a", "b", "b", "b"]]), 3)
0.5
"""
from __future__ import annotations

from qualkit.agreement._data import (
    AgreementError,
    UndefinedStatisticError,
    from_category_counts,
    from_contingency_table,
)
from qualkit.agreement.alpha import LEVELS, krippendorff_alpha
from qualkit.agreement.bootstrap import BootstrapResult, bootstrap_ci
from qualkit.agreement.kappas import (
    bennett_s,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    fleiss_kappa_category,
    gwet_ac1,
    percent_agreement,
    randolph_kappa,
    scott_pi,
)
from qualkit.agreement.sets import jaccard_distance, masi_distance, set_alpha
from qualkit.agreement.unitizing import unitizing_alpha, unitizing_alpha_category

__all__ = [
    "AgreementError",
    "BootstrapResult",
    "LEVELS",
    "UndefinedStatisticError",
    "bennett_s",
    "bootstrap_ci",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "fleiss_kappa",
    "fleiss_kappa_category",
    "from_category_counts",
    "from_contingency_table",
    "gwet_ac1",
    "jaccard_distance",
    "krippendorff_alpha",
    "masi_distance",
    "percent_agreement",
    "randolph_kappa",
    "scott_pi",
    "set_alpha",
    "unitizing_alpha",
    "unitizing_alpha_category",
]
