"""Campaign: kill -9 every multi-file command many times, and race concurrent imports (issue 16).

Not a test (tests/test_crash_safety.py runs a few trials). For each multi-file command (codebook
rename, codebook merge, reconcile with an adjudication file, import qdpx into a workspace, import
sheet --done): one kill before each of its renames, then random-moment kills until ``--kills``
trials, each judged after the next command ran (old state, new state, or a problem); then ``--pairs`` pairs of
concurrent `import sheet` into one coder, and ``--rounds`` imports raced against a rename. Prints
JSON figures (each command's line also on stderr as it finishes).

    python bench/crash_campaign.py [--kills 100] [--pairs 30] [--seed 16] [--commands reconcile,import-qdpx]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import crash_harness  # noqa: E402
from tests.crash_harness import (  # noqa: E402
    concurrent_pairs,
    import_during_rename,
    kill_trial,
    make_qdpx_study,
    make_reconcile_study,
    make_sheet_study,
    make_study,
    renames,
)


def _codebook(args: tuple[str, ...]):  # noqa: ANN202
    return lambda root, tmp: (make_study(root), args)


# command -> how to make a fresh workspace for one trial, and the arguments to run in it
COMMANDS = {"rename": _codebook(("codebook", "rename", "fax", "fax_referrals")),
            "merge": _codebook(("codebook", "merge", "portal", "into", "fax")),
            "reconcile": make_reconcile_study,
            "import-qdpx": make_qdpx_study,
            "import-sheet-done": make_sheet_study}


def kills_of(name: str, base: Path, kills: int, rng: random.Random) -> dict:
    """``kills`` trials of one command: one before each of its renames, the rest at random moments
    (a fraction of an uninterrupted run's time, 0.2 to 1.05)."""
    make = COMMANDS[name]
    tmp = base / f"{name}-files"
    tmp.mkdir()
    args = make(base / f"{name}-count", tmp)[1]
    total = renames(make(base / f"{name}-count2", tmp)[0], *args)
    problems: list[str] = []
    crash_harness.OUTCOMES.clear()
    began = _cpu()
    for n in range(kills):
        root = make(base / f"{name}-{n}", tmp)[0]
        if n < total:
            problem = kill_trial(root, args, kill_at=n + 1)
        else:
            problem = kill_trial(root, args, fraction=rng.uniform(0.2, 1.05))
        if problem:
            problems.append(f"trial {n}: {problem}")
        shutil.rmtree(base / f"{name}-{n}", ignore_errors=True)
    return {"trials": kills, "renames_per_run": total, "before_each_rename": min(total, kills),
            "random_moment": max(0, kills - total), "inconsistent": len(problems),
            "outcomes": dict(crash_harness.OUTCOMES), "problems": problems[:5],
            "cpu_s": round(_cpu() - began, 1)}


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and every finished child (the qualkit runs)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def campaign(kills: int, pairs: int, seed: int, rounds: int = 12, commands: list[str] | None = None) -> dict:
    rng = random.Random(seed)
    out: dict = {"kills": {}, "concurrent": {}}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in commands or list(COMMANDS):
            out["kills"][name] = kills_of(name, base, kills, rng)
            print(json.dumps({name: out["kills"][name]}), file=sys.stderr, flush=True)
        if pairs:
            root = make_study(base / "race")
            began = time.perf_counter()
            problems = concurrent_pairs(root, pairs)
            out["concurrent"] = {"pairs": pairs, "failed_pairs": len(problems), "problems": problems[:5],
                                 "seconds": round(time.perf_counter() - began, 1)}
        if rounds:
            root = make_study(base / "race-rename")
            problems = import_during_rename(root, rounds)
            out["import_during_rename"] = {"rounds": rounds, "failed_rounds": len(problems),
                                           "problems": problems[:5]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=12, help="imports raced against a codebook rename")
    ap.add_argument("--commands", default=",".join(COMMANDS), help="which multi-file commands to kill")
    a = ap.parse_args()
    print(json.dumps(campaign(a.kills, a.pairs, a.seed, a.rounds, a.commands.split(",")), indent=2))


if __name__ == "__main__":
    main()
