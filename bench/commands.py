"""Benchmark every command on generated studies of 10 / 100 / 1,000 (/ 5,000) transcripts.

Not a test. For each size it generates a study once (bench/study.py; kept in ``--dir`` and reused),
then runs each command and each baseline (bench/baselines.py) as a fresh process, ``--repeat``
times in turn (command A, B, C, ..., A, B, C, ...: a busy moment of this shared machine hurts
every row alike), and prints the median CPU time (user + system), wall time and the command's own
peak RSS. Each measurement runs in a fresh wrapper process that starts the command and reads
``resource.getrusage(RUSAGE_CHILDREN)`` after it exits, so the peak is the command's, never this
script's. Then: the ratios to the baselines measured in the same run, and the growth exponent
``log(t2 / t1) / log(n2 / n1)`` of each command between consecutive sizes (1.0 = linear).

Two import floors: ``qualkit --help`` (Python start-up and the CLI alone, 0.07 s) is the floor of a
light command, but `run` must import pandas, numpy, openpyxl, python-docx, jinja2, PyYAML and
pydantic on any study, which ``--help`` never does, so `run` against it mostly measures those
imports (42x on the sample). The honest floor for `run` is Python start-up plus those libraries
(bench/baselines.py ``libs``); both ratios are printed, the old one for comparison with earlier notes.

``ingest`` is measured twice: ``ingest (cold)`` with .qualkit/cache/transcripts.sqlite deleted first
(every file decoded and parsed), then ``ingest`` on the unchanged study (every file summed up from its
cache entry), the case of every later ingest. The ratio to the bare read is printed for both; the bar
(issue 17, <= 3x) is the cold one, since the bare read reads every file. With ``--repeat 1`` each is one
run, and on a busy host one run moves 10-25%: use farm-bench's paired medians for that ratio.

Every process runs with its bytecode cached, as an installed qualkit does (pip compiles it): qualkit's
modules are compiled once before timing and PYTHONDONTWRITEBYTECODE is dropped. With it set (as on
the shared development machine) each start compiles every qualkit module `run` imports again, about
0.2 s CPU on the sample, while the libraries of the floor come with their bytecode.

    python bench/commands.py [--sizes 10,100,1000] [--repeat 3] [--dir /tmp/qualkit-bench]
                             [--only ingest,agree] [--sample]
    python bench/commands.py --sizes "" --sample     # `run` on the sample study only
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

__all__ = ["COMMANDS", "compile_qualkit", "measure"]

QK = [sys.executable, "-m", "qualkit.cli"]
BASE = [sys.executable, str(ROOT / "bench" / "baselines.py")]
COMMANDS: dict[str, list[str]] = {
    "ingest (cold)": [*QK, "ingest"],  # every file parsed: the transcript cache is deleted first (COLD)
    "ingest": [*QK, "ingest"],  # right after: nothing changed, every parse read back from .qualkit/cache/
    "autocode": [*QK, "autocode"],
    "search": [*QK, "search", "naloxone"],
    "agree": [*QK, "agree"],
    "disagreements --code c01": [*QK, "disagreements", "--coders", "coder1,coder2", "--code", "c01"],
    "summaries template": [*QK, "summaries", "template"],
    "matrix codes": [*QK, "matrix", "codes"],
    "matrix themes": [*QK, "matrix", "themes"],
    "matrix cooccurrence": [*QK, "matrix", "cooccurrence"],
    "matrix rapid": [*QK, "matrix", "rapid"],
    "matrix saturation": [*QK, "matrix", "saturation"],
    "export all": [*QK, "export", "all"],
    "report": [*QK, "report"],
    "run": [*QK, "run", "--recompute"],
    "run (nothing changed)": [*QK, "run"],  # right after `run`: its files written again from .qualkit/cache/
}
BASELINES: dict[str, list[str]] = {
    "(floor: qualkit --help)": [*BASE, "floor", "."],
    "(floor: start-up + run's libraries)": [*BASE, "libs", "."],
    "(bare read+decode+split)": [*BASE, "read", "."],
    "(bare read+lines+label regex)": [*BASE, "parse", "."],
    "(bare spaCy+PhraseMatcher)": [*BASE, "spacy", "."],
    "(one alternation regex)": [*BASE, "regex", "."],
    "(krippendorff package)": [*BASE, "krippendorff", "."],
}
FLOOR = "(floor: start-up + run's libraries)"
# Commands measured on a study without its parsed-transcript cache, as after a parser or qualkit upgrade
# or on first reading the files (the cache is keyed by the parser's own source files, so a study
# generated under another checkout is cold too).
COLD = {"ingest (cold)"}
# The command's own figures, read in a fresh process so that RUSAGE_CHILDREN holds this child only.
WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "peak_mb": ru.ru_maxrss / 1024, "rc": rc}))
"""


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode read from __pycache__, as installed (see the docstring)
    return env


def compile_qualkit() -> None:
    """qualkit's bytecode, written before anything is timed (pip does this on install)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "qualkit")], env=_env(), check=True,
                   capture_output=True)


def measure(cmd: list[str], cwd: Path) -> dict:
    """CPU seconds, wall seconds, peak RSS (MB) and exit code of one fresh run of ``cmd`` in ``cwd``."""
    env = _env()
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def study(folder: Path, n: int) -> Path:
    from study import add_dates, make_study

    path = folder / f"study{n}"
    if not (path / "qualkit.yaml").is_file():
        shutil.rmtree(path, ignore_errors=True)
        make_study(path, n)
    elif add_dates(path, n):  # generated before studies had interview dates (matrix saturation needs them)
        print(f"{path}: interview dates added to participants.csv", file=sys.stderr)
    return path


SAMPLE_PAIRS = 9  # runs of the sample study's `run` and its floor, in turn: one pair each moved the ratio by 0.5x


def bench(path: Path, names: dict[str, list[str]], repeat: int) -> dict[str, dict]:
    runs: dict[str, list[dict]] = {k: [] for k in names}
    for _ in range(repeat):
        for name, cmd in names.items():
            if name in COLD:
                for f in (path / ".qualkit" / "cache").glob("transcripts.sqlite*"):
                    f.unlink()
            runs[name].append(measure(cmd, path))
    out = {}
    for name, rs in runs.items():
        out[name] = {k: statistics.median(r[k] for r in rs) for k in ("cpu", "wall", "peak_mb")}
        out[name]["rc"] = max(r["rc"] for r in rs)
        out[name]["cpus"] = [r["cpu"] for r in rs]  # (run by run, in turn with the others: ratios are taken pair by pair)
    return out


def show(title: str, res: dict[str, dict]) -> None:
    print(f"\n{title}\n{'':34}{'cpu s':>9}{'wall s':>9}{'peak MB':>9}")
    for name, r in res.items():
        bad = "" if r["rc"] == 0 else f"  (exit {r['rc']})"
        print(f"{name:34}{r['cpu']:9.2f}{r['wall']:9.2f}{r['peak_mb']:9.0f}{bad}")


def ratios(res: dict[str, dict]) -> None:
    def r(a: str, b: str) -> str:
        """The median of a/b over the repeats, each pair run one after the other (a drifting machine moves
        both alike); with one run each, the plain ratio."""
        if a not in res or b not in res or not all(res[b]["cpus"]):
            return "n/a"
        pairs = [x / y for x, y in zip(res[a]["cpus"], res[b]["cpus"])]
        return f"{statistics.median(pairs):.2f}x" + (f" (paired, {min(pairs):.2f}-{max(pairs):.2f})" if len(pairs) > 1 else "")

    print(f"  ingest (cold) / bare read+decode+split: {r('ingest (cold)', '(bare read+decode+split)')} (target <= 3x: "
          f"every file parsed, as the bare read reads every file; warm, every parse from the cache: "
          f"{r('ingest', '(bare read+decode+split)')})")
    print(f"  ingest (cold) / bare read+lines+label regex: {r('ingest (cold)', '(bare read+lines+label regex)')}")
    print(f"  bare spaCy+PhraseMatcher / autocode: {r('(bare spaCy+PhraseMatcher)', 'autocode')} (target >= 0.9x)")
    print(f"  autocode / one alternation regex: {r('autocode', '(one alternation regex)')}")
    print(f"  agree / krippendorff package (whole processes): {r('agree', '(krippendorff package)')}")
    print(f"  run / CLI floor (qualkit --help): {r('run', '(floor: qualkit --help)')}")
    print(f"  run / import floor (start-up + run's libraries): {r('run', FLOOR)} (target <= 1.5x on the sample)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000", help="comma list of study sizes (transcripts)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the median is printed")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/qualkit-bench"), help="where studies are generated and kept")
    ap.add_argument("--only", help="comma list of command names to run (default: all)")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--sample", action="store_true", help="also `run` on a copy of the bundled sample study")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    compile_qualkit()
    names = {k: v for k, v in COMMANDS.items() if not args.only or k in args.only.split(",")}
    if not args.no_baselines:
        names.update(BASELINES)
    if args.sample:
        sample = args.dir / "sample"
        shutil.rmtree(sample, ignore_errors=True)
        subprocess.run([*QK, "demo", str(sample)], env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True)
        res = bench(sample, {"run": COMMANDS["run"], "(floor: qualkit --help)": BASELINES["(floor: qualkit --help)"],
                             FLOOR: BASELINES[FLOOR]}, max(args.repeat, SAMPLE_PAIRS))
        show(f"sample study (median of {max(args.repeat, SAMPLE_PAIRS)})", res)
        ratios(res)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]  # --sizes "" --sample: the sample study only
    results: dict[int, dict[str, dict]] = {}
    for n in sizes:
        results[n] = bench(study(args.dir, n), names, args.repeat)
        show(f"{n} transcripts (median of {args.repeat})", results[n])
        ratios(results[n])
    for a, b in zip(sizes, sizes[1:]):
        print(f"\ngrowth exponent of CPU time, {a} -> {b} transcripts (1.0 = linear)")
        for name in names:
            ta, tb = results[a][name]["cpu"], results[b][name]["cpu"]
            if ta > 0 and tb > 0:
                print(f"  {name:34}{math.log(tb / ta) / math.log(b / a):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
