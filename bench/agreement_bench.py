"""Benchmark: qualkit's agreement statistics against the krippendorff package, statsmodels and
scikit-learn, in the same process, at 1e3 / 1e4 / 1e5 units.

Not a test. For each size the script makes coders who mostly agree (5 categories, each coder errs
20% of the time; alpha's data also have 5% missing cells, the others are complete because the
baselines take no missing values) and times, in CPU seconds (user + system of this process, the
median of as many runs as fit in ``--budget`` seconds, at least 3):

* each statistic from a numeric array, in qualkit and in the baseline, with the values checked to
  agree to 1e-9 (exit status 1 if they do not);
* qualkit on the same data as text labels in Python lists (``None`` = missing), how codes arrive
  from a coding sheet, and on those labels as numbers in the same lists; ``str/num`` is the text
  time over the numeric-array time, ``str/list`` over the numbers-in-lists time;
* set-valued alpha on one-code sets (``{"code3"}``), which equals nominal alpha.

The machine this runs on is shared: read the ratios, not the absolute times.

    python bench/agreement_bench.py [--units 1000,10000,100000] [--coders 3] [--budget 0.5]
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
    """One statistic: qualkit on the numeric array, on text labels and on numbers in lists, and the baseline."""
    t_num, v_num = cpu_time(lambda: fn(data, **options), budget)
    numbers = as_numbers(data)
    text = numbers if "level" in options else as_text(data)  # interval alpha needs numbers
    t_txt, v_txt = cpu_time(lambda: fn(text, **options), budget)
    t_lst, _ = cpu_time(lambda: fn(numbers, **options), budget)
    row = {"statistic": name, "baseline": base, "units": units, "qualkit": t_num, "text": t_txt,
           "lists": t_lst, "value": v_num, "diff": abs(v_txt - v_num)}
    if baseline:
        t_base, v_base = cpu_time(baseline, budget)
        row.update(base_time=t_base, diff=max(row["diff"], abs(v_base - v_num)))
    return row


def run_size(units: int, coders: int, budget: float, seed: int, lib: dict[str, Any]) -> list[dict[str, Any]]:
    alpha_data = make_data(coders, units, 0.05, seed)
    complete = make_data(coders, units, 0.0, seed + 1)
    rows = [measure_case(name, base, units, data, fn, options, baseline, budget)
            for name, base, data, fn, options, baseline in cases(lib, alpha_data, complete)]
    sets = as_sets(alpha_data)
    t_set, v_set = cpu_time(lambda: ag.set_alpha(sets), budget)
    nominal = next(r for r in rows if r["statistic"] == "alpha nominal")
    rows.append({"statistic": "set alpha (1-code sets)", "baseline": "", "units": units, "qualkit": nominal["qualkit"],
                 "text": t_set, "lists": nominal["lists"], "value": v_set, "diff": abs(v_set - nominal["value"])})
    return rows


def show(rows: list[dict[str, Any]]) -> None:
    print(f"{'statistic':24}{'baseline':14}{'units':>8}{'base ms':>10}{'qk ms':>9}{'base/qk':>9}"
          f"{'text ms':>9}{'str/num':>9}{'str/list':>9}{'|diff|':>10}")
    for r in rows:
        base = f"{r['base_time'] * 1e3:10.3f}" if "base_time" in r else f"{'':10}"
        ratio = f"{r['base_time'] / r['qualkit']:8.1f}x" if "base_time" in r else f"{'':9}"
        print(f"{r['statistic']:24}{r['baseline'] or '-':14}{r['units']:8d}{base}{r['qualkit'] * 1e3:9.3f}{ratio}"
              f"{r['text'] * 1e3:9.3f}{r['text'] / r['qualkit']:8.1f}x{r['text'] / r['lists']:8.1f}x{r['diff']:10.1e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", default="1000,10000,100000", help="comma list of unit counts")
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--budget", type=float, default=0.5, help="CPU seconds to spend per timing (median of the runs)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
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
