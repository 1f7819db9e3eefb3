"""Benchmark: `qualkit agree` on a generated workspace (200 transcripts, 3 coders, 60 codes).

Not a test. Generates interview transcripts (.txt, interviewer questions and participant
answers), a 60-code codebook with skewed code frequencies, and three coders' codings that mostly
agree (shifted boundaries, some missed, swapped and extra codes), then times the library call
``qualkit.analysis.agree.agreement`` on a freshly opened workspace (reading transcripts and codings
included) for several settings, and the `qualkit agree` command as a whole process (start-up and the
pandas/numpy imports included: what a user waits for; CPU time and its own peak RSS read with
``getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper). The first library timing imports pandas inside
the timed call too. Target: the command (turn units) under 5 s.

    python bench/agree_workspace.py [--transcripts 200] [--coders 3] [--codes 60] [--words 5000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import WORDS, _sentence  # noqa: E402  (bench/ingest.py's word generator)
from study import _codings as study_codings  # noqa: E402  (bench/study.py's coders)

PARTICIPANTS = ["Maria", "Dr. Okafor", "Sheriff Boyd", "Karen", "Luis"]


def make_transcript(rng: random.Random, words: int) -> str:
    """Alternating interviewer questions and participant answers, ``Speaker: text`` per turn."""
    out, total = [], 0
    speaker = rng.choice(PARTICIPANTS)
    while total < words:
        q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12)))
        answer = " ".join(_sentence(rng) for _ in range(rng.randint(1, 6)))
        out.append(f"Interviewer: {q[0].upper() + q[1:]}?\n\n{speaker}: {answer}\n\n")
        total += len(answer.split()) + len(q.split())
    return "".join(out)


def make_workspace(root: Path, n_transcripts: int, n_coders: int, n_codes: int, words: int, seed: int = 7) -> list[str]:
    """Write the workspace; returns the coder names."""
    from qualkit import Workspace
    from qualkit.workspace.codebook import Code, Codebook, save_codebook
    from qualkit.workspace.scaffold import init

    init(root)
    rows = ["transcript,speaker,participant_id,role", ",Interviewer,RT-1,interviewer"]
    rows += [f",{p},P{i},participant" for i, p in enumerate(PARTICIPANTS)]
    (root / "participants.csv").write_text("\n".join(rows) + "\n")
    rng = random.Random(seed)
    for i in range(n_transcripts):
        (root / "transcripts" / f"int{i + 1:03d}.txt").write_text(make_transcript(random.Random(seed * 1000 + i), words))
    codes = [f"c{k + 1:02d}" for k in range(n_codes)]
    save_codebook(Codebook("bench", "Bench codebook", [Code(c, f"Code {c}") for c in codes]), root / "codebooks" / "bench.yaml")
    coders = [f"coder{g + 1}" for g in range(n_coders)]
    ws = Workspace(root)
    per_coder = study_codings(ws, codes, coders, rng)  # bench/study.py's coding simulation, the one copy
    for coder, codings in per_coder.items():
        ws.write_codings(coder, codings)
    return coders


def timed(label: str, root: Path, coders: list[str], **options) -> float:
    from qualkit import Workspace
    from qualkit.analysis.agree import agreement

    ws = Workspace(root)  # fresh: transcripts and codings are read inside the timed call
    t0 = time.perf_counter()
    report = agreement(ws, coders, **options)
    secs = time.perf_counter() - t0
    pooled = report.overall.iloc[0]
    stat = "f1" if report.unit == "overlap" else "alpha"
    print(f"{label:<34} {secs:6.2f} s   {report.n_units:>9} {report.unit_label:<14} {len(report.table):>3} codes   "
          f"pooled {stat} {pooled[stat]:.3f}")
    return secs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transcripts", type=int, default=200)
    ap.add_argument("--coders", type=int, default=3)
    ap.add_argument("--codes", type=int, default=60)
    ap.add_argument("--words", type=int, default=5000, help="words per transcript")
    ap.add_argument("--keep", type=Path, help="generate the workspace here and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "ws"
        t0 = time.perf_counter()
        coders = make_workspace(root, args.transcripts, args.coders, args.codes, args.words)
        n_codings = sum(len((root / "codings" / f"{c}.csv").read_text().splitlines()) - 1 for c in coders)
        print(f"generated {args.transcripts} transcripts x ~{args.words} words, {args.coders} coders, {args.codes} codes, "
              f"{n_codings} codings in {time.perf_counter() - t0:.1f} s ({root})")
        from commands import QK, measure

        cmd = measure([*QK, "agree", "--coders", ",".join(coders)], root)
        print(f"{'`qualkit agree` (whole process)':<34} {cmd['wall']:6.2f} s wall, {cmd['cpu']:.2f} s cpu, "
              f"peak RSS {cmd['peak_mb']:.0f} MB" + ("" if cmd["rc"] == 0 else f" (exit {cmd['rc']})"))
        main_secs = timed("agree (turn, default; cold import)", root, coders)

        from qualkit import Workspace
        from qualkit.analysis.unit_codes import build_unit_codes

        t0 = time.perf_counter()
        build_unit_codes(Workspace(root), coders)
        units_secs = time.perf_counter() - t0
        print(f"{'  reading + units (build_unit_codes)':<34} {units_secs:6.2f} s")
        print(f"{'  statistics, set alpha, tables':<34} {max(main_secs - units_secs, 0):6.2f} s")
        timed("agree --unit sentence", root, coders, unit="sentence")
        timed("agree --unit character", root, coders, unit="character")
        timed("agree --overlap 0.5", root, coders, overlap=0.5)
        timed("agree --by transcript", root, coders, by="transcript")
        timed("agree --by coder-pair", root, coders, by="coder-pair")
        timed("agree --ci (1000 resamples)", root, coders, ci=True)
        timed("agree --unit character --ci", root, coders, unit="character", ci=True)
        print(f"target: the command under 5 s -> {'OK' if cmd['wall'] < 5 else 'TOO SLOW'}")
    return 0 if cmd["wall"] < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
