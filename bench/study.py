"""Generate a whole study to benchmark the commands on: N interviews and everything a study holds.

Not a test. Writes a workspace with ``N`` interview transcripts of ~``words`` words (.txt,
interviewer questions and participant answers with contractions; about a third typed in Word, with
curly apostrophes, quotes and dashes, and a tenth with Windows line ends), participants.csv, a ``codes``-code codebook (a two-word keyword each) with
Zipf code frequencies, ``coders`` coders' codings that mostly agree (shifted boundaries, missed,
swapped and extra codes), an interview guide in qualkit.yaml (one domain per ten codes), themes.yaml
(codes grouped into themes mapped onto HEIF domains), a filled rapid-analysis summary per
transcript, and each interview's date (a ``date`` column of participants.csv, as in the sample study,
so that ``matrix saturation`` can order the interviews). The same arguments always give the same files.

    python bench/study.py DIR [--transcripts 100] [--words 5000] [--codes 60] [--coders 3] [--seed 7]
"""
from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = ["add_dates", "make_study"]

WORDS = ("the outreach team drove out to see him after the overdose and we brought naloxone "
         "but transportation is hard out here because the clinic is forty miles away and the roads "
         "in winter are bad so people miss appointments and stigma is real in a small town where "
         "everyone knows your truck data sharing with the hospital takes days and police reports "
         "come late funding ends next year leadership changed twice trust matters we don't know if it's "
         "the county's call and they're not sure we'll get there").split()
PARTICIPANTS = ["Maria", "Dr. Okafor", "Sheriff Boyd", "Karen", "Luis"]
DOMAINS = ["heif:context.outer.interorganizational_networks_and_relationships",
           "heif:context.inner_organizational.structure_and_systems",
           "heif:context.outer.regulatory_frameworks",
           "heif:context.inner_local.evaluation_and_feedback_processes",
           "heif:societal_context.physical_structures",
           "heif:context.outer.policy_drivers_and_priorities",
           "heif:recipients.patient"]


def _sentence(rng: random.Random) -> str:
    s = " ".join(rng.choices(WORDS, k=rng.randint(6, 22)))
    return s[0].upper() + s[1:] + rng.choice(".?.")


def make_transcript(rng: random.Random, words: int) -> str:
    """Alternating interviewer questions and participant answers, ``Speaker: text`` per turn, with
    contractions. As real files arrive, some are typed in Word (about one in three: curly apostrophes,
    quoted words, dashes) and some saved on Windows (about one in ten: CRLF line ends)."""
    out, total = [], 0
    speaker = rng.choice(PARTICIPANTS)
    typed_in_word, windows = rng.random() < 0.3, rng.random() < 0.1
    while total < words:
        q = " ".join(rng.choices(WORDS, k=rng.randint(5, 12)))
        answer = " ".join(_sentence(rng) for _ in range(rng.randint(1, 6)))
        total += answer.count(" ") + q.count(" ") + 2  # (before the dashes, which add spaces and no word)
        if typed_in_word:
            q, answer = q.replace("'", "’"), answer.replace("'", "’").replace(" so ", " — so ").replace(" stigma ", " “stigma” ")
        out.append(f"Interviewer: {q[0].upper() + q[1:]}?\n\n{speaker}: {answer}\n\n")
    text = "".join(out)
    return text.replace("\n", "\r\n") if windows else text


def _participants(n_transcripts: int, width: int, seed: int) -> str:
    """participants.csv: the speakers of every transcript, then one row per interview with its date
    (interviews spread over a year, several a week; the participant keeps its all-transcript id)."""
    rows = ["transcript,speaker,participant_id,role,date", ",Interviewer,RT-1,interviewer,"]
    rows += [f",{p},P{i},participant," for i, p in enumerate(PARTICIPANTS)]
    first = datetime.date(2025, 1, 6)
    for i in range(n_transcripts):
        speaker = random.Random(seed * 100_000 + i).choice(PARTICIPANTS)  # make_transcript's first draw
        day = first + datetime.timedelta(days=i * 365 // max(n_transcripts, 1))
        rows.append(f"int{i + 1:0{width}d},{speaker},P{PARTICIPANTS.index(speaker)},participant,{day.isoformat()}")
    return "\n".join(rows) + "\n"


def _config(codes: list[str], coders: list[str]) -> str:
    guide = []
    for d in range(0, len(codes), 10):
        guide.append(f"  - id: domain{d // 10 + 1}\n    label: Domain {d // 10 + 1}\n"
                     f"    prompt: What about topic {d // 10 + 1}?\n    codes: [{', '.join(codes[d:d + 10])}]\n")
    return (f"project: Generated benchmark study\ncoders: [{', '.join(coders)}]\ncodebook: bench\nframework: heif\n"
            "facilitator_roles: [interviewer]\nspeakers:\n  pattern:\nagreement:\n  unit: turn\n"
            "autocode:\n  enabled: false\nnlp:\n  model: blank\ninterview_guide:\n" + "".join(guide))


def _themes(codes: list[str]) -> str:
    out = ["framework: heif\ncodebook: bench\nthemes:\n"]
    for k in range(0, len(codes), 6):
        n = k // 6
        out.append(f"  - id: theme{n + 1}\n    name: Theme {n + 1}\n    valence: {'barrier' if n % 2 else 'facilitator'}\n"
                   f"    description: Generated theme {n + 1}.\n    codes: [{', '.join(codes[k:k + 6])}]\n"
                   f"    domains:\n      - {DOMAINS[n % len(DOMAINS)]}\n")
    return "".join(out)


def _summary(tid: str, n_domains: int, rng: random.Random) -> str:
    parts = [f"# Rapid analysis summary: {tid}\n\n- Transcript: {tid}\n- Analyst: coder1\n- Summarised on: 2026-03-30\n"]
    for d in range(n_domains):
        bullets = "".join(f"- {_sentence(rng)}\n" for _ in range(rng.randint(2, 4)))
        parts.append(f"\n## Domain {d + 1}\n\nSummary:\n{bullets}")
    return "".join(parts)


def _codings(ws, codes: list[str], coders: list[str], rng: random.Random) -> dict:
    from qualkit.workspace.codings import Coding

    weights = [1 / (k + 1) for k in range(len(codes))]  # Zipf: a few common codes, a long tail of rare ones
    per_coder: dict[str, list] = {c: [] for c in coders}
    for t in ws.transcripts():
        for turn in t.turns:
            if turn.speaker == "Interviewer" or rng.random() > 0.5:
                continue
            for code in sorted(set(rng.choices(codes, weights, k=rng.randint(1, 2)))):
                length = turn.end - turn.start
                s = turn.start + rng.randint(0, length // 3)
                e = turn.end - rng.randint(0, length // 3)
                for coder in coders:
                    u = rng.random()
                    if u < 0.12:
                        continue                                   # missed
                    c = rng.choice(codes) if u < 0.18 else code    # swapped
                    js = max(turn.start, min(s + rng.randint(-15, 15), e - 1))
                    je = min(turn.end, max(e + rng.randint(-15, 15), js + 1))
                    per_coder[coder].append(Coding(t.id, js, je, c, t.text[js:je]))
            for coder in coders:                                   # an extra code of one coder's own
                if rng.random() < 0.06:
                    per_coder[coder].append(Coding(t.id, turn.start, turn.end, rng.choices(codes, weights)[0],
                                                   t.text[turn.start:turn.end]))
    return per_coder


def make_study(root: Path, n_transcripts: int, words: int = 5000, n_codes: int = 60, n_coders: int = 3,
               seed: int = 7) -> Path:
    """Write the study into ``root`` (created) and return it."""
    from qualkit.workspace.codebook import Code, Codebook, save_codebook
    from qualkit.workspace.scaffold import init
    from qualkit.workspace.store import Workspace

    init(root)
    codes = [f"c{k + 1:02d}" for k in range(n_codes)]
    coders = [f"coder{g + 1}" for g in range(n_coders)]
    (root / "qualkit.yaml").write_text(_config(codes, coders))
    (root / "themes.yaml").write_text(_themes(codes))
    width = max(3, len(str(n_transcripts)))
    (root / "participants.csv").write_text(_participants(n_transcripts, width, seed))
    for i in range(n_transcripts):
        (root / "transcripts" / f"int{i + 1:0{width}d}.txt").write_text(make_transcript(random.Random(seed * 100_000 + i), words),
                                                                          encoding="utf-8", newline="")
    kw = random.Random(seed + 1)
    save_codebook(Codebook("bench", "Bench codebook", [Code(c, f"Code {c}", definition=f"Generated code {c}.", origin="deductive",
                                                            keywords=[" ".join(kw.sample(WORDS, 2))]) for c in codes]),
                  root / "codebooks" / "bench.yaml")
    ws = Workspace(root)
    rng = random.Random(seed)
    for coder, codings in _codings(ws, codes, coders, rng).items():
        ws.write_codings(coder, codings)
    n_domains = (n_codes + 9) // 10
    for i in range(n_transcripts):
        tid = f"int{i + 1:0{width}d}"
        (root / "summaries" / f"{tid}.md").write_text(_summary(tid, n_domains, rng))
    return root


def add_dates(root: Path, n_transcripts: int, seed: int = 7) -> bool:
    """Give a study generated before participants.csv had interview dates its dates (what
    :func:`make_study` writes today); False when it already has them."""
    path = root / "participants.csv"
    if "date" in path.read_text().partition("\n")[0].split(","):
        return False
    path.write_text(_participants(n_transcripts, max(3, len(str(n_transcripts))), seed))
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--transcripts", type=int, default=100)
    ap.add_argument("--words", type=int, default=5000, help="words per transcript")
    ap.add_argument("--codes", type=int, default=60)
    ap.add_argument("--coders", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.dir.exists() and any(args.dir.iterdir()):
        print(f"{args.dir}: not empty", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    make_study(args.dir, args.transcripts, args.words, args.codes, args.coders, args.seed)
    print(f"generated {args.transcripts} transcripts x ~{args.words} words, {args.codes} codes, {args.coders} coders "
          f"in {time.perf_counter() - t0:.1f} s: {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
