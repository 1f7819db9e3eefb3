"""Campaign: kill -9 every multi-file command many times, and race concurrent imports (issue 16).

Not a test (tests/test_crash_safety.py runs a few trials). For each command (codebook rename,
codebook merge): one kill before each of its renames, then random-moment kills until ``--kills``
trials; then ``--pairs`` pairs of concurrent `import sheet` into one coder. Prints JSON figures.

    python bench/crash_campaign.py [--kills 100] [--pairs 30] [--seed 16]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash_harness import concurrent_pairs, import_during_rename, kill_trial, make_study, renames  # noqa: E402

COMMANDS = {"rename": ("codebook", "rename", "fax", "fax_referrals"),
            "merge": ("codebook", "merge", "portal", "into", "fax")}


def campaign(kills: int, pairs: int, seed: int, rounds: int = 12) -> dict:
    rng = random.Random(seed)
    out: dict = {"kills": {}, "concurrent": {}}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name, args in COMMANDS.items():
            total = renames(make_study(base / f"{name}-count"), *args)
            problems: list[str] = []
            for n in range(kills):
                root = make_study(base / f"{name}-{n}")
                if n < total:
                    problem = kill_trial(root, args, kill_at=n + 1)
                else:
                    problem = kill_trial(root, args, delay=rng.uniform(0.2, 2.0))
                if problem:
                    problems.append(f"trial {n}: {problem}")
            out["kills"][name] = {"trials": kills, "renames_per_run": total, "inconsistent": len(problems),
                                  "problems": problems[:5]}
        root = make_study(base / "race")
        began = time.perf_counter()
        problems = concurrent_pairs(root, pairs)
        out["concurrent"] = {"pairs": pairs, "failed_pairs": len(problems), "problems": problems[:5],
                             "seconds": round(time.perf_counter() - began, 1)}
        root = make_study(base / "race-rename")
        problems = import_during_rename(root, rounds)
        out["import_during_rename"] = {"rounds": rounds, "failed_rounds": len(problems), "problems": problems[:5]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=12, help="imports raced against a codebook rename")
    a = ap.parse_args()
    print(json.dumps(campaign(a.kills, a.pairs, a.seed, a.rounds), indent=2))


if __name__ == "__main__":
    main()
