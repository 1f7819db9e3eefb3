"""Campaign: mutation fuzzing of every reader of untrusted files (issue 16).

Not a test (tests/test_fuzz.py runs a few hundred inputs with hypothesis). For each reader of
tests/fuzz_targets.py: up to ``--inputs`` mutated inputs or ``--seconds`` seconds, whichever
comes first; an input that raises anything but a QualkitError, or runs longer than ``--hang``
seconds, is a finding (the first few are kept in ``--findings DIR``). Prints JSON figures.

    python bench/fuzz.py [--inputs 10000] [--seconds 120] [--readers codings,qdpx] [--seed 16]
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz_targets import READERS, ZIPPED, make_seeds, mutate, run_one  # noqa: E402


class _Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ANN001
    raise _Hang


def fuzz_reader(name: str, seed: bytes, work: Path, inputs: int, seconds: float, hang: int, rng: random.Random,
                findings: Path | None) -> dict:
    zipped = Path(READERS[name][0]).suffix in ZIPPED
    pool = [seed]
    kinds: dict[str, int] = {}
    n = errors = hangs = 0
    began = time.perf_counter()
    while n < inputs and time.perf_counter() - began < seconds:
        data = mutate(rng.choice(pool), rng, zipped)
        n += 1
        signal.alarm(hang)
        try:
            found = run_one(name, data, work)
        except _Hang:
            found, hangs = "hang", hangs + 1
        finally:
            signal.alarm(0)
        if found is None:
            if len(pool) < 50 and rng.random() < 0.05:
                pool.append(data)  # keep some accepted variants: mutations stack up
            continue
        errors += 1
        kind = found.split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        if findings is not None and kinds[kind] <= 3:
            findings.mkdir(parents=True, exist_ok=True)
            (findings / f"{name}-{kind}-{kinds[kind]}{Path(READERS[name][0]).suffix}").write_bytes(data)
            (findings / f"{name}-{kind}-{kinds[kind]}.txt").write_text(found + "\n", encoding="utf-8")
    return {"inputs": n, "internal_errors": errors, "hangs": hangs, "kinds": kinds,
            "seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--inputs", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--hang", type=int, default=20)
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--findings", type=Path, default=None)
    a = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(a.seed)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        seeds = make_seeds(Path(tmp))
        work = Path(tmp) / "work"
        work.mkdir()
        for name in a.readers.split(","):
            out[name] = fuzz_reader(name, seeds[name], work, a.inputs, a.seconds, a.hang, rng, a.findings)
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    total = {"inputs": sum(r["inputs"] for r in out.values()),
             "internal_errors": sum(r["internal_errors"] for r in out.values()),
             "hangs": sum(r["hangs"] for r in out.values())}
    print(json.dumps({"readers": out, "total": total}, indent=2))


if __name__ == "__main__":
    main()
