"""Real-process fault harness: `qualkit` run as a separate process, killed with SIGKILL at a random
moment or just before its n-th file rename (as strace fault injection does), and concurrent writers.

Used by tests/test_crash_safety.py (a few trials) and bench/crash_campaign.py (hundreds).
"""
from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from qualkit.workspace.codebook import Code, Codebook, load_codebooks, save_codebook
from qualkit.workspace.codings import Coding, read_codings, write_codings
from qualkit.workspace.scaffold import init

REPO = Path(__file__).resolve().parents[1]
LINES = 400  # enough distinct remarks for 40 import batches of 5 (30 concurrent pairs use 300)

# Runs the CLI; with QK_KILL_AT=n the process kills itself (SIGKILL) just before its n-th os.replace
# or os.rename, and with QK_COUNT=FILE it writes how many it made.
_PRELUDE = """
import os, signal, sys
n = {'calls': 0}
kill_at = int(os.environ.get('QK_KILL_AT') or 0)
count = os.environ.get('QK_COUNT')
def wrap(real):
    def patched(*a, **k):
        n['calls'] += 1
        if kill_at and n['calls'] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    return patched
os.replace = wrap(os.replace)
os.rename = wrap(os.rename)
if count:
    import atexit
    atexit.register(lambda: open(count, 'w').write(str(n['calls'])))
sys.argv = ['qualkit'] + sys.argv[1:]
from qualkit.cli import main
main()
"""


def line(i: int) -> str:
    return f"Maria: Remark number {i:04d} is about the fax machine and referral {i:04d}."


def make_study(root: Path, coders: tuple[str, ...] = ("ana", "ben"), per_coder: int = 60) -> Path:
    """A workspace with one long transcript, a codebook (fax, portal, other) and coded files."""
    root = init(root)
    text = "\n".join(line(i) for i in range(LINES)) + "\n"
    (root / "transcripts" / "int1.txt").write_text(text, encoding="utf-8")
    save_codebook(Codebook("cb", "Codebook", [Code("fax", "Fax"), Code("portal", "Portal"), Code("other", "Other")]),
                  root / "codebooks" / "cb.yaml")
    for k, coder in enumerate(coders):
        codings = []
        for i in range(per_coder):
            quote = f"Remark number {i:04d}"
            start = text.index(quote)
            code = ("fax", "portal", "other")[(i + k) % 3]
            codings.append(Coding("int1", start, start + len(quote), code, quote))
        write_codings(root / "codings" / f"{coder}.csv", codings)
    return root


def qualkit(root: Path, *args: str, kill_at: int = 0, count_file: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `qualkit --workspace ROOT ARGS` in a new process (killed before its ``kill_at``-th rename)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "QK_KILL_AT": str(kill_at), "QK_COUNT": str(count_file or "")}
    return subprocess.run([sys.executable, "-c", _PRELUDE, "--workspace", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QK_KILL_AT": "0", "QK_COUNT": ""}
    return subprocess.Popen([sys.executable, "-c", _PRELUDE, "--workspace", str(root), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def renames(root: Path, *args: str) -> int:
    """How many renames a successful run of ``args`` makes (on a copy of the workspace)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(root, copy)
        out = Path(tmp) / "count"
        done = qualkit(copy, *args, count_file=out)
        assert done.returncode == 0, done.stderr
        return int(out.read_text())


def state(root: Path) -> tuple[set[str], dict[str, list[tuple[str, int, int, str]]]]:
    """The code ids of every codebook and every coder's codings (as keys)."""
    ids = {c.id for b in load_codebooks(root / "codebooks") for c in b.codes}
    codings = {p.stem: sorted(c.key for c in read_codings(p)) for p in sorted((root / "codings").glob("*.csv"))}
    return ids, codings


def consistency_problem(root: Path, before: tuple[set[str], dict], after: tuple[set[str], dict]) -> str | None:
    """None when the workspace (after any next command has run) is all-before or all-after."""
    opened = qualkit(root, "codings", "check")  # any command completes or rolls back a killed change
    if "internal error" in opened.stderr:
        return f"next command failed: {opened.stderr.strip()}"
    now = state(root)
    if now in (before, after):
        return None
    ids, codings = now
    unknown = sorted({k[3] for rows in codings.values() for k in rows} - ids)
    return f"mixed state: codes {sorted(ids)}, codings on unknown codes {unknown}"


def kill_trial(root: Path, args: tuple[str, ...], kill_at: int = 0, delay: float | None = None) -> str | None:
    """Run ``args`` once, killed before rename ``kill_at`` or after ``delay`` seconds; a problem or None."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        after_ws = Path(tmp) / "after"
        shutil.copytree(root, after_ws)
        done = qualkit(after_ws, *args)
        if done.returncode != 0:
            return f"the command fails on its own: {done.stderr.strip()}"
        before, after = state(root), state(after_ws)
    if delay is None:
        qualkit(root, *args, kill_at=kill_at)
    else:
        proc = start(root, *args)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    return consistency_problem(root, before, after)


def sheet(path: Path, batch: int, size: int = 5) -> int:
    """A coding sheet of ``size`` excerpts no other batch uses; the number of rows."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["transcript", "code", "excerpt"])
        for i in range(batch * size, batch * size + size):
            w.writerow(["int1", "fax", f"is about the fax machine and referral {i:04d}"])
    return size


def concurrent_pairs(root: Path, pairs: int, coder: str = "carl", size: int = 5) -> list[str]:
    """``pairs`` times, two `import sheet` processes into one coder at once; what went wrong."""
    problems = []
    folder = root.parent / "sheets"
    folder.mkdir(exist_ok=True)
    assert 2 * pairs * size <= LINES, "the harness transcript has too few remarks for this many pairs"
    for p in range(pairs):
        paths = [folder / f"s{p}_{k}.csv" for k in (0, 1)]
        for k, path in enumerate(paths):
            sheet(path, 2 * p + k, size)
        expected = len(read_codings(root / "codings" / f"{coder}.csv")) + 2 * size
        procs = [start(root, "import", "sheet", str(path), "--coder", coder) for path in paths]
        time.sleep(random.uniform(0, 0.05))
        outs = [proc.communicate(timeout=300) for proc in procs]
        got = len(read_codings(root / "codings" / f"{coder}.csv"))
        failed = [err for proc, (_, err) in zip(procs, outs, strict=True) if proc.returncode != 0]
        if got != expected or failed:
            problems.append(f"pair {p}: {got} codings, expected {expected}; {failed}")
    return problems


def import_during_rename(root: Path, rounds: int, coder: str = "carl", size: int = 5) -> list[str]:
    """``rounds`` times, `import sheet` into a coder while `codebook rename` renames the code it uses;
    afterwards every coding must be on a code the codebook defines and none of the import lost."""
    problems = []
    folder = root.parent / "race-sheets"
    folder.mkdir(exist_ok=True)
    names = ["fax"] + [f"fax_{r}" for r in range(1, rounds + 1)]
    for r in range(rounds):
        path = folder / f"s{r}.csv"
        sheet(path, r, size)
        path.write_text(path.read_text(encoding="utf-8").replace(",fax,", f",{names[r]},"), encoding="utf-8")
        before = len(read_codings(root / "codings" / f"{coder}.csv"))
        procs = [start(root, "import", "sheet", str(path), "--coder", coder),
                 start(root, "codebook", "rename", names[r], names[r + 1])]
        outs = [proc.communicate(timeout=300) for proc in procs]
        ids, codings = state(root)
        unknown = sorted({k[3] for rows in codings.values() for k in rows} - ids)
        got = len(codings.get(coder, []))
        imported = procs[0].returncode == 0
        if unknown or (imported and got != before + size) or procs[1].returncode != 0:
            problems.append(f"round {r}: codings on unknown codes {unknown}, {got} codings (before {before}); "
                            f"{[err.strip()[-200:] for _, err in outs]}")
    return problems
