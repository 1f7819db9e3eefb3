"""Benchmark: Krippendorff's alpha on 10 coders × 1,000,000 units against the krippendorff package.

Nominal data, ~5 categories, 5% missing. Both implementations run in the same process on the same
float matrix (NaN = missing); the script checks that the two alphas agree to 1e-9 and prints both
times (best of ``--repeat`` runs) and their ratio. Exit status 1 if the values differ or qualkit
is slower.

    python bench/agreement_bench.py [--coders 10] [--units 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qualkit.agreement import krippendorff_alpha  # noqa: E402


def make_data(coders: int, units: int, categories: int, missing: float, seed: int) -> np.ndarray:
    """Coders who mostly agree: each unit has a true category, each coder errs 20% of the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, categories + 1, size=units)
    data = np.tile(truth, (coders, 1)).astype(float)
    errors = rng.random(data.shape) < 0.2
    data[errors] = rng.integers(1, categories + 1, size=int(errors.sum()))
    data[rng.random(data.shape) < missing] = np.nan
    return data


def best_time(fn: Callable[[], float], repeat: int) -> tuple[float, float]:
    times, value = [], float("nan")
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coders", type=int, default=10)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--categories", type=int, default=5)
    parser.add_argument("--missing", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    import krippendorff

    data = make_data(args.coders, args.units, args.categories, args.missing, args.seed)
    print(f"data: {args.coders} coders × {args.units:,} units, {args.categories} categories, "
          f"{np.isnan(data).mean():.1%} missing; best of {args.repeat}")
    t_ref, a_ref = best_time(
        lambda: float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")), args.repeat
    )
    t_qk, a_qk = best_time(lambda: krippendorff_alpha(data), args.repeat)
    print(f"krippendorff {krippendorff.__version__ if hasattr(krippendorff, '__version__') else ''}: "
          f"alpha = {a_ref:.12f}  {t_ref:.3f} s")
    print(f"qualkit:      alpha = {a_qk:.12f}  {t_qk:.3f} s")
    print(f"ratio krippendorff / qualkit = {t_ref / t_qk:.1f}× ; |difference| = {abs(a_qk - a_ref):.2e}")
    ok = abs(a_qk - a_ref) <= 1e-9 and t_qk <= t_ref
    print("OK" if ok else "FAIL: values differ by more than 1e-9 or qualkit is slower")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
