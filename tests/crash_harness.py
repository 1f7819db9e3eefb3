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


def make_reconcile_study(root: Path, tmp: Path) -> tuple[Path, tuple[str, ...]]:
    """A study whose two coders disagree on every coded remark (120 disagreements), a consensus with
    a few of them decided, and a filled-in adjudication file; the `reconcile` arguments that apply it."""
    from qualkit.analysis.reconcile import reconcile
    from qualkit.workspace.store import Workspace

    root = make_study(root)
    label = len("Maria: ")
    keys = [f"int1:turn:{_offset(i)}-{_offset(i) - label + len(line(i))}:fax" for i in range(0, 12, 3)]
    reconcile(Workspace(root), ["ana", "ben"], by="cara", decisions=dict.fromkeys(keys, "A"))
    adj = tmp / "adjudication.csv"
    if not adj.exists():
        done = qualkit(root, "disagreements", "--coders", "ana,ben", "--out", str(adj))
        assert done.returncode == 0, done.stderr
        with open(adj, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        head = next(i for i, r in enumerate(rows) if r and r[0] == "key")
        col = rows[head].index("decision")
        for n, r in enumerate(rows[head + 1:]):
            r[col] = ("A", "B", "both", "neither")[n % 4]
        with open(adj, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    return root, ("reconcile", "--coders", "ana,ben", "--adjudication", str(adj), "--by", "cara")


def make_sheet_study(root: Path, tmp: Path) -> tuple[Path, tuple[str, ...]]:
    """A study and a coding sheet for a new coder; `import sheet --done` writes codings and done marks."""
    path = tmp / "sheet.csv"
    if not path.exists():
        sheet(path, 0, size=20)
    return make_study(root), ("import", "sheet", str(path), "--coder", "carl", "--done")


def _offset(i: int) -> int:
    """Where remark ``i`` starts in the harness transcript, after its speaker label."""
    return sum(len(line(k)) + 1 for k in range(i)) + len("Maria: ")


def make_qdpx_study(root: Path, tmp: Path, transcripts: int = 4) -> tuple[Path, tuple[str, ...]]:
    """An empty workspace and a project (several transcripts, a codebook, two coders) exported as
    .qdpx from another one; the `import qdpx` arguments that fill the first with it."""
    project = tmp / "project.qdpx"
    if not project.exists():
        source = make_study(tmp / "qdpx-source")
        text = (source / "transcripts" / "int1.txt").read_text(encoding="utf-8")
        for n in range(2, transcripts + 1):
            (source / "transcripts" / f"int{n}.txt").write_text(text, encoding="utf-8")
        done = qualkit(source, "export", "qdpx", str(project))
        assert done.returncode == 0, done.stderr
    return init(root), ("import", "qdpx", str(project))


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


def full_state(root: Path) -> tuple:
    """Everything a multi-file command changes: the workspace's files (outside .qualkit/; lock files
    left out: a lock taken is no change), each
    transcript's bytes, code ids, every codings file (consensus too) and the audit log's records
    (action, key, decision: ids and times differ between runs)."""
    import hashlib

    from qualkit.analysis.audit import AuditLog

    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and p.relative_to(root).parts[0] != ".qualkit" and p.suffix != ".lock")
    texts = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "transcripts").glob("*"))}
    from qualkit.coding.coverage import read_done

    records = [(r.get("action"), r.get("key"), r.get("decision")) for r in AuditLog(root).read()]
    done = {p.stem: sorted(read_done(p)) for p in sorted((root / "codings").glob("*.done"))}
    return files, texts, *state(root), records, done


OUTCOMES: dict[str, int] = {}  # how the trials ended, for the campaign's figures: old, new, or a problem


def consistency_problem(root: Path, before: tuple, after: tuple) -> str | None:
    """None when the workspace (after any next command has run) is all-before or all-after."""
    problem = _problem(root, before, after)
    outcome = "problem" if problem else "old" if full_state(root) == before else "new"
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1
    return problem


def _problem(root: Path, before: tuple, after: tuple) -> str | None:
    opened = qualkit(root, "codings", "check")  # any command completes or rolls back a killed change
    if "internal error" in opened.stderr or "Traceback" in opened.stderr:
        return f"next command failed: {opened.stderr.strip()[-300:]}"
    if (root / ".qualkit" / "transaction").exists():
        return "the next command left the interrupted change's staging folder"
    now = full_state(root)
    if now in (before, after):
        return None
    files, _texts, ids, codings, records, _done = now
    unknown = sorted({k[3] for rows in codings.values() for k in rows} - ids)
    return (f"mixed state: {len(files)} files (before {len(before[0])}, after {len(after[0])}), "
            f"{len(records)} audit records (before {len(before[4])}, after {len(after[4])}), "
            f"codings on unknown codes {unknown}")


def kill_trial(root: Path, args: tuple[str, ...], kill_at: int = 0, delay: float | None = None,
               fraction: float | None = None) -> str | None:
    """Run ``args`` once, killed before rename ``kill_at``, after ``delay`` seconds or after
    ``fraction`` of the time an uninterrupted run takes; a problem or None."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        after_ws = Path(tmp) / "after"
        shutil.copytree(root, after_ws)
        began = time.perf_counter()
        done = qualkit(after_ws, *args)
        took = time.perf_counter() - began
        if done.returncode != 0:
            return f"the command fails on its own: {done.stderr.strip()}"
        before, after = full_state(root), full_state(after_ws)
    if before == after:
        return "the command changes nothing (no trial)"
    if fraction is not None:
        delay = fraction * took
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
