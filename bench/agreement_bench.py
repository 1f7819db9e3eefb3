"""Benchmark: qualkit's agreement statistics against the krippendorff package, statsmodels and
scikit-learn, in the same process, at 1e3 / 1e4 / 1e5 units, on every input kind.

Not a test. For each size the script makes coders who mostly agree (5 categories, each coder errs
20% of the time; alpha's data also have 5% missing cells, the others are complete because the
baselines take no missing values) and times, in CPU seconds (user + system of this process, the
median of as many runs as fit in ``--budget`` seconds, at least 3), each statistic on:

* ``num``: a numeric ndarray (NaN = missing), and ``base``: the baseline package on the same array;
* ``lists``: the labels as numbers in Python lists (None = missing);
* ``text``: the labels as text in Python lists (``"code3"``, None = missing), how codes arrive from
  a coding sheet;
* ``U``: the text as a numpy string array ('' = missing: a string array cannot hold None);
* ``cat``: one pandas Categorical of the text per coder (NaN = missing), as ``df[c].astype("category")``;
* set-valued alpha on one-code sets in lists, text (``{"code3"}``) and numbers (``{3}``), which
  equals nominal alpha.

Every value is checked against the numeric-array value to 1e-9 (exit status 1 if one differs).
The ratios are the honest comparisons: ``txt/lst`` text vs numbers, both in lists; ``lst/num``
numbers in lists vs the ndarray (the price of 3e5 Python objects, whatever they hold); ``U/num``
and ``cat/num`` a string array / Categoricals vs the numeric ndarray.

"Within 2x of its own numeric time on string labels" (issue 17), as measured at 1e5 units, 3
coders, on 2 cores busy with other jobs (two runs; ratios move by about 0.3x from run to run):

* met for text vs numbers in the same container: text in lists is 1.0-1.7x numbers in lists for
  every statistic; set alpha on text sets is 1.1x set alpha on number sets.
* met for Categorical rows vs the numeric ndarray (session 7; nominal alpha 1.4-1.6x at 1e3,
  0.8-1.0x at 1e4, 0.3-0.4x at 1e5, under 1.0-1.4x for the other statistics): rows that share
  one category list (``df[c].astype("category")`` with every code used, or one dtype) are stacked
  and their own int8 codes kept as they are when the categories are all used and sorted; which
  codes occur is one bit each, OR-ed over the cells (``agreement._arrays``). Rows with lists of
  their own still number each row's categories and map its codes through a table. Before: 3.0-3.7x
  at 1e3, 2.3-2.6x at 1e4, 1.2-1.4x at 1e5 (about 10 numpy calls a row, 80 us at 1e3).
* a numpy ``U`` array vs the numeric ndarray, nominal alpha (session 8, load 3): short labels
  (``<U5``) 1.6x at 1e3, 2.2x at 1e4, 3.0x at 1e5 (the code before: 2.7x, 6.2x, 8.1x in the same
  runs); codebook-length labels (``<U20``, the long-U section, ``--long-u-only``) 1.8x, 3.3x,
  4.9-5.0x (before: 8.3-10.9x, 6.8-7.1x, 8.1-8.2x). Every string array now goes first through
  ``agreement._guessed``: one byte names each cell's label (``bytes.translate``), the labels' rows
  are gathered one per cell (``take``) and each block is compared with them by one ``memcmp``,
  so every cell is proven to be its label with no cast, no hash and no sort (on this machine
  ``np.sort`` costs 10-15 ns a key: the sort of route 1 was most of the short labels' time).
  The floor, printed with the long-U section: reading the ``<U20`` array once costs 0.2x, 0.4-0.5x
  and 1.0-1.1x the whole numeric statistic, one ``==`` of its words against a copy 0.3x, 0.9-1.0x
  and 3.3-3.5x. The route spends ~2-3 ns a cell naming, ~3.5 ns gathering and ~3-4 ns comparing,
  against 1.8-2.3 ns a cell for the whole numeric statistic at 1e4-1e5: each pass over 80-byte
  cells costs about what the numeric statistic does, so 2x is met at 1e3 only (a new codebook's
  first call: 3.4x) and is out of reach at 1e4-1e5 for an exact method in NumPy; it would take a
  compiled loop that names and compares each cell in one pass. Tried and measured no better
  (session 8): the telling word compared per cell and the rest with a reference row, counted
  (~7.5 ns a cell with the missing cells' positions and gather); each cell's differing bytes
  written into a reference and missing rows zeroed before the memcmp (fancy assignment costs
  ~30 ns a row); ``np.unique`` for the sample's labels (a sort; now one hash bucket each).
  Session 7 (another machine): 1.4-1.5x at 1e3,
  1.56-1.62x at 1e4 and 1.5-1.7x at 1e5 at load 2; at load 5-6 (other helpers' benchmarks on both
  cores) 1.4-1.5x, 1.7-2.2x and 1.5-1.8x, where the code before measured 1.5-1.7x, 2.0-2.2x and
  1.6-1.7x in the same runs. 1e4 is the size that suffers most from a busy machine: the numeric
  array's 240 KB stay in the core's cache, the string route's ~1 MB (the array, its bytes, the
  keys) do not. Every other statistic 1.0-1.4x. Short labels (up to 8 bytes) that one byte tells
  apart go for nominal alpha straight from that byte to code + 1 in one ``bytes.translate``
  (``_strings.shifted_codes``): no code array, no second pass to shift it, no Coded (1.84-1.93x ->
  1.56-1.59x at 1e4, load 2). Before that (session 6): 1.7-1.9x at 1e3, 2.0-2.1x at 1e4, 1.6-1.7x
  at 1e5; session 5: 3.7-4.4x. A string array's labels of up to 8 bytes (``"code3"``; one byte a
  character when all Latin-1) are each cell's exact 64-bit key: the keys are sorted once for the
  distinct labels, and a byte (or pair) at which those differ names every cell's label through a
  256-entry table (``agreement._strings``). That is ~2.7 ns a cell against ~1.1 ns for the numeric
  coercion: a ``<U5`` array holds 20 bytes a cell to the float's 8, read twice (the Latin-1 check
  and the cast, in cache-sized blocks); the key copy, the sort and the naming are the rest. Tried
  and measured no better (session 7): the distinct labels of a sample checked on every cell by a
  gather of their keys instead of the sort (a gather costs what the sort does), the cast, keys and
  sort in blocks of 8-16 K cells (the calls a block cost more than the cache saves), and one pass
  from the strided words to masked keys (within noise at 1e4). Longer labels (``<U20``) took a
  sampled guess checked word by word: 5.4-9.2x (session 7, quiet machine).
* not met for anything in lists vs the numeric ndarray: 4-8x, because reading 3e5 Python objects
  costs ~8 ms against ~1-1.5 ms for the whole statistic on an ndarray (pd.factorize alone takes
  26 ms on the ``U`` array).
* not met for set alpha on text sets vs nominal alpha on numbers in lists: 6.5x (7.6x before;
  4-6x at 1e3-1e4). Each set cell must become a hashable frozenset before it can be looked up, and
  that allocation alone (~20 ms per 3e5 cells) is twice the whole numbers-in-lists time.

Against the krippendorff package on numeric arrays alpha is 12.5-15x at 1e3 units as timed here
(session 7, load 2-6; one call at a time adds several us to every ~25 us call; 15-19x in a loop of
calls) and 31-73x from 1e4 up (48-58x at 1e5), nominal and interval (session 6: 9.9-11.5x at 1e3,
47-67x above; session 5: 9.5-11.3x and 33-47x; 3.3-5x before). A
numeric array of small whole numbers does not go through coercion, count rows and coincidences:
``agreement._numeric`` makes one key per unit, a histogram of the keys and one product with a
cached per-key table. With few coders the key is a number in base span + 1, computed by Horner's
rule in 16 bits (session 6; a gather with uint8 indices before, which numpy converts to 64-bit
indices first: 0.5 -> 0.17 ms at 1e5). Labels coerced to few categories take the same route for
nominal alpha.

The machine this runs on is shared: read the ratios, not the absolute times.

    python bench/agreement_bench.py [--units 1000,10000,100000] [--coders 3] [--budget 0.5] [--long-u-only]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qualkit.agreement as ag  # noqa: E402

CATEGORIES = 5


def make_data(coders: int, units: int, missing: float, seed: int) -> np.ndarray:
    """Coders × units floats 1..5 (NaN = missing): a true category per unit, 20% coder errors."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, CATEGORIES + 1, size=units)
    data = np.tile(truth, (coders, 1)).astype(float)
    errors = rng.random(data.shape) < 0.2
    data[errors] = rng.integers(1, CATEGORIES + 1, size=int(errors.sum()))
    data[rng.random(data.shape) < missing] = np.nan
    return data


def as_text(data: np.ndarray) -> list[list[str | None]]:
    """The same matrix as code labels in Python lists, None = missing."""
    return [[None if v != v else f"code{int(v)}" for v in row] for row in data.tolist()]


def as_numbers(data: np.ndarray) -> list[list[int | None]]:
    return [[None if v != v else int(v) for v in row] for row in data.tolist()]


def as_sets(data: np.ndarray) -> list[list[set[str] | None]]:
    return [[None if v != v else {f"code{int(v)}"} for v in row] for row in data.tolist()]


def as_number_sets(data: np.ndarray) -> list[list[set[int] | None]]:
    return [[None if v != v else {int(v)} for v in row] for row in data.tolist()]


def as_string_array(data: np.ndarray) -> np.ndarray:
    """The labels as a numpy ``U`` array, '' = missing (a string array cannot hold None)."""
    names = np.array([""] + [f"code{k}" for k in range(1, CATEGORIES + 1)])
    return names[np.nan_to_num(data, nan=0).astype(int)]


def as_long_string_array(data: np.ndarray) -> np.ndarray:
    """As :func:`as_string_array` with codebook-length labels (``"barriers to access 3"``, ``<U20``): real
    code names are longer than 8 bytes, where a U array's four bytes a character decide the time."""
    names = np.array([""] + [f"barriers to access {k}" for k in range(1, CATEGORIES + 1)])
    return names[np.nan_to_num(data, nan=0).astype(int)]


def as_categoricals(data: np.ndarray) -> list[Any]:
    """One pandas Categorical of labels per coder (NaN = missing), as ``df[coder].astype("category")``."""
    import pandas as pd

    return [pd.Categorical(np.where(row == "", None, row)) for row in as_string_array(data)]


def cpu_time(fn: Callable[[], Any], budget: float) -> tuple[float, Any]:
    """Median CPU seconds of ``fn`` over at least 3 runs (more while within ``budget``) and its value."""
    times: list[float] = []
    value: Any = None
    spent = 0.0
    while len(times) < 3 or (spent < budget and len(times) < 200):
        start = time.process_time()
        value = fn()
        times.append(time.process_time() - start)
        spent += times[-1]
    return statistics.median(times), value


def baselines() -> dict[str, Any]:
    """The baseline libraries that are installed (the benchmark skips the others)."""
    found: dict[str, Any] = {}
    try:
        import krippendorff

        found["krippendorff"] = krippendorff
    except ImportError:
        pass
    try:
        from statsmodels.stats import inter_rater

        found["statsmodels"] = inter_rater
    except ImportError:
        pass
    try:
        from sklearn.metrics import cohen_kappa_score

        found["sklearn"] = cohen_kappa_score
    except ImportError:
        pass
    return found


def cases(lib: dict[str, Any], alpha_data: np.ndarray, complete: np.ndarray) -> list[tuple[str, str, np.ndarray, Callable[..., float], dict[str, Any], Callable[[], float] | None]]:
    """(statistic, baseline name, data, qualkit function, options, baseline call or None)."""
    two = complete[:2]
    kr, sm, sk = lib.get("krippendorff"), lib.get("statsmodels"), lib.get("sklearn")
    return [
        ("alpha nominal", "krippendorff", alpha_data, ag.krippendorff_alpha, {},
         kr and (lambda: float(kr.alpha(reliability_data=alpha_data, level_of_measurement="nominal")))),
        ("alpha interval", "krippendorff", alpha_data, ag.krippendorff_alpha, {"level": "interval"},
         kr and (lambda: float(kr.alpha(reliability_data=alpha_data, level_of_measurement="interval")))),
        ("fleiss kappa", "statsmodels", complete, ag.fleiss_kappa, {},
         sm and (lambda: float(sm.fleiss_kappa(sm.aggregate_raters(complete.T)[0])))),
        ("randolph kappa", "statsmodels", complete, ag.randolph_kappa, {},
         sm and (lambda: float(sm.fleiss_kappa(sm.aggregate_raters(complete.T)[0], method="randolph")))),
        ("cohen kappa", "scikit-learn", two, ag.cohen_kappa, {},
         sk and (lambda: float(sk(two[0], two[1])))),
        ("cohen kappa", "statsmodels", two, ag.cohen_kappa, {},
         sm and (lambda: float(sm.cohens_kappa(sm.to_table(two.T)[0]).kappa))),
        ("cohen quadratic", "scikit-learn", two, ag.cohen_kappa, {"weights": "quadratic"},
         sk and (lambda: float(sk(two[0], two[1], weights="quadratic")))),
        ("percent agreement", "", complete, ag.percent_agreement, {}, None),
        ("gwet AC1", "", complete, ag.gwet_ac1, {}, None),
        ("conger kappa", "", complete, ag.conger_kappa, {}, None),
    ]


def measure_case(name: str, base: str, units: int, data: np.ndarray, fn: Callable[..., float],
                 options: dict[str, Any], baseline: Callable[[], float] | None, budget: float) -> dict[str, Any]:
    """One statistic on every input kind (numeric array, numbers and text in lists, a ``U`` array,
    Categorical rows) and the baseline; ``diff`` is the largest difference from the numeric value."""
    t_num, v_num = cpu_time(lambda: fn(data, **options), budget)
    row: dict[str, Any] = {"statistic": name, "baseline": base, "units": units, "qualkit": t_num, "value": v_num}
    numeric_only = "level" in options  # interval alpha needs numbers: no text inputs
    kinds = {"lists": as_numbers(data)}
    if not numeric_only:
        kinds.update(text=as_text(data), U=as_string_array(data), cat=as_categoricals(data))
    diffs = [0.0]
    for kind, given in kinds.items():
        try:
            row[kind], value = cpu_time(lambda given=given: fn(given, **options), budget)
        except ag.AgreementError:  # an input kind this version refuses: shown as '-'
            continue
        diffs.append(abs(value - v_num))
    if baseline:
        row["base_time"], v_base = cpu_time(baseline, budget)
        diffs.append(abs(v_base - v_num))
    row["diff"] = max(diffs)
    return row


def run_size(units: int, coders: int, budget: float, seed: int, lib: dict[str, Any]) -> list[dict[str, Any]]:
    alpha_data = make_data(coders, units, 0.05, seed)
    complete = make_data(coders, units, 0.0, seed + 1)
    rows = [measure_case(name, base, units, data, fn, options, baseline, budget)
            for name, base, data, fn, options, baseline in cases(lib, alpha_data, complete)]
    nominal = next(r for r in rows if r["statistic"] == "alpha nominal")
    text_sets, number_sets = as_sets(alpha_data), as_number_sets(alpha_data)
    t_text, v_text = cpu_time(lambda: ag.set_alpha(text_sets), budget)
    t_sets, v_sets = cpu_time(lambda: ag.set_alpha(number_sets), budget)
    rows.append({"statistic": "set alpha (1-code sets)", "baseline": "", "units": units, "qualkit": nominal["qualkit"],
                 "lists": nominal["lists"], "text": t_text, "number sets": t_sets, "value": v_text,
                 "diff": max(abs(v_text - nominal["value"]), abs(v_sets - nominal["value"]))})
    return rows + [long_u_row(units, alpha_data, nominal, budget)]


def long_u_row(units: int, alpha_data: np.ndarray, nominal: dict[str, Any] | None, budget: float) -> dict[str, Any]:
    """Nominal alpha on codebook-length labels in a ``U`` array, against the numeric array's time
    (``nominal``'s, else timed here) and the floor: the array read once, and each word compared once."""
    if nominal is None:
        t_num, v_num = cpu_time(lambda: ag.krippendorff_alpha(alpha_data), budget)
        nominal = {"qualkit": t_num, "value": v_num}
    long_u = as_long_string_array(alpha_data)
    t_long, v_long = cpu_time(lambda: ag.krippendorff_alpha(long_u, level="nominal"), budget)
    words, twin = long_u.view(np.uint64), long_u.view(np.uint64).copy()
    t_read, _ = cpu_time(lambda: words.sum(), budget)  # every byte read once, nothing else
    t_compare, _ = cpu_time(lambda: np.count_nonzero(words == twin), budget)  # one exact comparison of every word
    return {"statistic": "alpha nominal, long U", "baseline": "", "units": units, "qualkit": nominal["qualkit"],
            "long U": t_long, "read": t_read, "compare": t_compare, "value": v_long,
            "diff": abs(v_long - nominal["value"])}


def _ms(r: dict[str, Any], key: str, width: int) -> str:
    return f"{r[key] * 1e3:{width}.2f}" if key in r else f"{'-':>{width}}"


def _ratio(r: dict[str, Any], top: str, bottom: str) -> str:
    return f"{r[top] / r[bottom]:7.1f}x" if top in r and bottom in r else f"{'-':>8}"


def show(rows: list[dict[str, Any]], table: bool = True) -> None:
    """The table: times in ms; base/qk = baseline over qualkit on the numeric array; txt/lst =
    text in lists over numbers in lists; U/num and cat/num = a U array and Categorical rows over
    the numeric array; lst/num = numbers in lists over the numeric array."""
    if table:
        print(f"{'statistic':24}{'baseline':13}{'units':>7}{'base':>8}{'num':>7}{'base/qk':>8}"
              f"{'lists':>8}{'text':>8}{'txt/lst':>8}{'lst/num':>8}{'U':>7}{'U/num':>8}{'cat':>7}{'cat/num':>8}{'|diff|':>9}")
    for r in rows if table else []:
        print(f"{r['statistic']:24}{r['baseline'] or '-':13}{r['units']:7d}{_ms(r, 'base_time', 8)}{_ms(r, 'qualkit', 7)}"
              f"{_ratio(r, 'base_time', 'qualkit')}{_ms(r, 'lists', 8)}{_ms(r, 'text', 8)}{_ratio(r, 'text', 'lists')}"
              f"{_ratio(r, 'lists', 'qualkit')}{_ms(r, 'U', 7)}{_ratio(r, 'U', 'qualkit')}{_ms(r, 'cat', 7)}"
              f"{_ratio(r, 'cat', 'qualkit')}{r['diff']:9.1e}")
    long = [r for r in rows if "long U" in r]
    if long:
        print("\n" * table + "nominal alpha on a U array of codebook-length labels ('barriers to access 3', <U20) over the numeric array;"
              "\nfloor: reading the U array once (a sum of its 64-bit words) and comparing each word once (== a copy, counted)")
        for r in long:
            print(f"{r['units']:7d}  long U{_ms(r, 'long U', 8)}  num{_ms(r, 'qualkit', 7)}  ratio{_ratio(r, 'long U', 'qualkit')}"
                  f"  |diff|{r['diff']:9.1e}   floor: read{_ms(r, 'read', 7)}{_ratio(r, 'read', 'qualkit')}"
                  f"  compare{_ms(r, 'compare', 7)}{_ratio(r, 'compare', 'qualkit')}")
    sets = [r for r in rows if "number sets" in r]
    if sets:
        print("\nset alpha on one-code sets in lists (ms): text sets {'a'}, number sets {3}, and nominal alpha on numbers in lists")
        for r in sets:
            print(f"{r['units']:7d}  text sets{_ms(r, 'text', 8)}  number sets{_ms(r, 'number sets', 8)}"
                  f"  ratio{_ratio(r, 'text', 'number sets')}   nominal lists{_ms(r, 'lists', 7)}"
                  f"  text sets / nominal lists{_ratio(r, 'text', 'lists')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", default="1000,10000,100000", help="comma list of unit counts")
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--budget", type=float, default=0.5, help="CPU seconds to spend per timing (median of the runs)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--long-u-only", action="store_true",
                        help="only nominal alpha on codebook-length labels in a U array, its numeric time and the floor")
    args = parser.parse_args()
    if args.long_u_only:
        found = [long_u_row(int(u), make_data(args.coders, int(u), 0.05, args.seed), None, args.budget)
                 for u in args.units.split(",")]
        show(found, table=False)
        return 1 if any(r["diff"] > 1e-9 for r in found) else 0
    lib = baselines()
    missing = sorted({"krippendorff", "statsmodels", "sklearn"} - set(lib))
    print(f"{args.coders} coders ({2} for Cohen), {CATEGORIES} categories; CPU time, median of runs; "
          f"text = code labels in lists, None = missing (interval alpha: numbers in lists)"
          + (f"; not installed: {', '.join(missing)}" if missing else ""))
    rows: list[dict[str, Any]] = []
    for units in (int(u) for u in args.units.split(",")):
        rows += run_size(units, args.coders, args.budget, args.seed, lib)
    show(sorted(rows, key=lambda r: (r["statistic"], r["baseline"], r["units"])))
    bad = [r for r in rows if r["diff"] > 1e-9]
    for r in bad:
        print(f"FAIL: {r['statistic']} at {r['units']} units differs by {r['diff']:.2e}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
