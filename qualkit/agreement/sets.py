"""Krippendorff's alpha for units that carry several codes (set-valued cells), with the MASI or
Jaccard distance between code sets.

Each distinct code set is treated as one category of the ordinary coincidence-matrix alpha and
the set distance d(A, B) is used directly as δ² (as NLTK, Passonneau 2006 and Artstein & Poesio
2008 do).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from qualkit.agreement._data import AgreementError, Coded, _as_2d_array, _is_missing, _rows
from qualkit.agreement._labels import set_codes
from qualkit.agreement.alpha import alpha_from_coincidences, coincidences
from qualkit.agreement.profiles import set_distances

__all__ = ["set_alpha", "masi_distance", "jaccard_distance"]

SetDistance = Callable[[frozenset[Hashable], frozenset[Hashable]], float]


def jaccard_distance(a: frozenset[Hashable], b: frozenset[Hashable]) -> float:
    """Jaccard distance between two code sets.

    Parameters
    ----------
    a, b : frozenset
        Two sets of codes.

    Returns
    -------
    float
        Distance in [0, 1].

    Notes
    -----
    d(A, B) = 1 − |A ∩ B| / |A ∪ B|; two empty sets are identical (distance 0).

    References
    ----------
    Jaccard P (1912) The distribution of the flora in the alpine zone. New Phytol 11:37–50,
    doi:10.1111/j.1469-8137.1912.tb05611.x.

    Examples
    --------
    >>> jaccard_distance(frozenset("ab"), frozenset("bc"))
    0.6666666666666667
    """
    union = len(a | b)
    return 0.0 if union == 0 else 1.0 - len(a & b) / union


def masi_distance(a: frozenset[Hashable], b: frozenset[Hashable]) -> float:
    """Passonneau's MASI distance between two code sets.

    Parameters
    ----------
    a, b : frozenset
        Two sets of codes.

    Returns
    -------
    float
        Distance in [0, 1].

    Notes
    -----
    d(A, B) = 1 − J·M, with J the Jaccard similarity |A ∩ B| / |A ∪ B| and the monotonicity M = 1
    if A = B, 2/3 if one set contains the other, 1/3 if they only overlap, 0 if disjoint. Two
    empty sets: distance 0. NLTK before PR #3695 used 0.67 / 0.33 for M.

    References
    ----------
    Passonneau R (2006) Measuring agreement on set-valued items (MASI) for semantic and pragmatic
    annotation. Proceedings of LREC 2006.

    Examples
    --------
    >>> round(masi_distance(frozenset("ab"), frozenset("a")), 4)
    0.6667
    >>> round(masi_distance(frozenset("ab"), frozenset("bc")), 4)
    0.8889
    """
    if a == b:
        return 0.0
    inter = len(a & b)
    if inter == 0:
        return 1.0
    monotonicity = 2 / 3 if (a <= b or b <= a) else 1 / 3
    return 1.0 - inter / len(a | b) * monotonicity


_DISTANCES: dict[str, SetDistance] = {"masi": masi_distance, "jaccard": jaccard_distance}


def set_alpha(data: npt.ArrayLike | Sequence[Sequence[Any]], distance: str | SetDistance = "masi") -> float:
    """Krippendorff's alpha for set-valued cells (several codes per unit and coder).

    Parameters
    ----------
    data : array_like or sequence of sequences
        Coders × units matrix whose cells are sets, frozensets, lists or tuples of codes, or
        ``None`` / NaN for missing (an empty set means "coded, no code applies").
    distance : {"masi", "jaccard"} or callable, default "masi"
        δ² between two code sets: :func:`masi_distance`, :func:`jaccard_distance`, or a function
        of two frozensets.

    Returns
    -------
    float
        Alpha over the code sets.

    Raises
    ------
    AgreementError
        Cells that are not sets, or an unusable distance.
    UndefinedStatisticError
        No pairable values, or every value the same set.

    Notes
    -----
    Each distinct code set is a category of the coincidence-matrix alpha and α = 1 − D_o / D_e as
    in :func:`~qualkit.agreement.krippendorff_alpha`, with δ²(A, B) = ``distance``. When every cell
    holds one code the result equals nominal alpha. Matches NLTK 3.10 ``AnnotationTask.alpha`` with
    ``masi_distance`` / ``jaccard_distance`` (NLTK releases before PR #3695 weighted MASI with
    0.67 / 0.33 and give slightly different values).

    References
    ----------
    Passonneau R (2006) Measuring agreement on set-valued items (MASI) for semantic and pragmatic
    annotation. LREC 2006.
    Artstein R, Poesio M (2008) Inter-coder agreement for computational linguistics. Computational
    Linguistics 34:555–596, doi:10.1162/coli.07-034-R2.
    Krippendorff K (2019) Content Analysis, 4th ed., ch. 12.

    Examples
    --------
    >>> data = [[{"a"}, {"a", "b"}, {"b"}, {"c"}],
    ...         [{"a"}, {"a"}, {"b"}, {"c", "d"}]]
    >>> round(set_alpha(data), 4)
    0.5758
    >>> round(set_alpha(data, distance="jaccard"), 4)
    0.6667
    """
    coded = coerce_sets(data)
    return _set_alpha(coded, distance)


def _set_alpha(coded: Coded, distance: str | SetDistance = "masi") -> float:
    d = _resolve(distance)
    sets = cast(tuple[frozenset[Hashable], ...], coded.categories)
    delta2 = _builtin_distances(sets, d)
    if delta2 is None:
        delta2 = np.array([[float(d(a, b)) for b in sets] for a in sets]).reshape(len(sets), len(sets))
    if np.any(~np.isfinite(delta2)) or np.any(delta2 < 0) or np.any(np.diag(delta2) != 0):
        raise AgreementError("set distance must be finite, non-negative and 0 between identical sets")
    prof = coded.profiles
    return alpha_from_coincidences(coincidences(prof.counts, prof.weight), delta2)


def _builtin_distances(sets: tuple[frozenset[Hashable], ...], d: SetDistance) -> np.ndarray | None:
    """MASI or Jaccard between every two sets from one matrix product (the same floating-point
    operations as :func:`masi_distance` / :func:`jaccard_distance`); None for another distance."""
    if d is not masi_distance and d is not jaccard_distance:
        return None
    members: dict[Hashable, int] = {}
    cells = [(i, members.setdefault(code, len(members))) for i, s in enumerate(sets) for code in s]
    matrix = np.zeros((len(sets), len(members)), dtype=bool)
    if cells:
        rows, cols = np.array(cells).T
        matrix[rows, cols] = True
    return set_distances(matrix)["masi" if d is masi_distance else "jaccard"]


def _resolve(distance: str | SetDistance) -> SetDistance:
    if callable(distance):
        return distance
    try:
        return _DISTANCES[distance]
    except (KeyError, TypeError):
        raise AgreementError(f"unknown set distance {distance!r}: use 'masi', 'jaccard' or a function") from None


def coerce_sets(data: Any) -> Coded:
    """A :class:`Coded` matrix whose categories are the distinct code sets (frozensets).

    Sets, lists and tuples (None = missing) go through C loops (:func:`~qualkit.agreement._labels.set_codes`);
    anything else cell by cell, which also says which cell is wrong.
    """
    if isinstance(data, np.ndarray) or hasattr(data, "to_numpy"):
        arr = _as_2d_array(data)
        shape, cells = arr.shape, arr.ravel().tolist
    else:  # lists of lists: read in place, no object array
        rows, width = _rows(data)
        shape, cells = (len(rows), width), lambda: list(itertools.chain.from_iterable(rows))
    if shape[0] < 2:
        raise AgreementError(f"need at least 2 coders (rows); got {shape[0]}")
    if shape[1] == 0:
        raise AgreementError("data have no units (columns)")
    fast = set_codes(cells, (shape[0], shape[1]))
    if fast is not None:
        return Coded(fast[0], fast[1], ordered=False)
    arr = _as_2d_array(data)
    index: dict[frozenset[Hashable], int] = {}
    codes = np.full(arr.shape, -1, dtype=np.intp)
    for (i, j), cell in np.ndenumerate(arr):
        if _is_missing(cell):
            continue
        codes[i, j] = index.setdefault(_as_code_set(cell, i, j), len(index))
    return Coded(codes, tuple(index), ordered=False)


def _as_code_set(cell: Any, i: int, j: int) -> frozenset[Hashable]:
    if not isinstance(cell, (set, frozenset, list, tuple, np.ndarray)):
        raise AgreementError(
            f"cell (coder {i}, unit {j}) is a {type(cell).__name__}, not a set of codes: "
            f"write {{{cell!r}}} for a single code, None for missing"
        )
    codes: list[Hashable] = list(cell)
    for code in codes:
        if _is_missing(code):
            raise AgreementError(f"cell (coder {i}, unit {j}) contains a missing value inside the set")
        if not isinstance(code, Hashable):
            raise AgreementError(f"cell (coder {i}, unit {j}) contains an unhashable code {code!r}")
    return frozenset(codes)
