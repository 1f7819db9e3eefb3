"""Benchmark: ingest 1,000 generated transcripts of ~8,000 words in mixed conventions.

Not a test. Prints words/s, wall time and the ratio to a baseline that only reads and decodes the
same files, measured in the same run, for the library loop (each transcript read and dropped) and
for the `qualkit ingest` command (which keeps every transcript). Peak memory is the measured
process's own: each runs under a fresh wrapper that reads ``getrusage(RUSAGE_CHILDREN)``, because
a process started straight from this one inherits this generator's peak in ``ru_maxrss``.
Targets (issue 2): <= 30 s and <= 1 GB on 2 cores.

    python bench/ingest.py [--files 1000] [--words 8000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

WORDS = ("the outreach team drove out to see him after the overdose and we brought naloxone "
         "but transportation is hard out here because the clinic is forty miles away and the roads "
         "in winter are bad so people miss appointments and stigma is real in a small town where "
         "everyone knows your truck data sharing with the hospital takes days and police reports "
         "come late funding ends next year leadership changed twice trust matters").split()
SPEAKERS = ["Interviewer", "Maria", "Dr. Okafor", "P1", "FG2-P3", "Sheriff Boyd", "Karen", "Luis"]


def _sentence(rng: random.Random) -> str:
    n = rng.randint(6, 22)
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    return s[0].upper() + s[1:] + rng.choice(".?.")


def _turns(rng: random.Random, words: int):
    total, t = 0, 0
    speakers = rng.sample(SPEAKERS, rng.randint(2, 6))
    while total < words:
        text = " ".join(_sentence(rng) for _ in range(rng.randint(1, 6)))
        total += len(text.split())
        t += rng.randint(5, 40)
        yield speakers[0] if t % 3 == 0 else rng.choice(speakers), text, t


def _ts(sec: int, sep: str = ".") -> str:
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}{sep}000"


def make_file(folder: Path, i: int, words: int) -> None:
    rng = random.Random(i)
    kind = i % 9
    turns = list(_turns(rng, words))
    if kind == 0:
        body = "".join(f"{s}: {x}\n\n" for s, x, _ in turns)
        (folder / f"t{i:04d}.txt").write_text("Interview transcript\nDate: 1 May 2026\n\n" + body)
    elif kind == 1:
        (folder / f"t{i:04d}.txt").write_text("".join(f"[{_ts(t)[:8]}] {s}: {x}\n" for s, x, t in turns))
    elif kind == 2:
        (folder / f"t{i:04d}.txt").write_text("".join(f"{s} ({_ts(t)[:8]}): {x}\n" for s, x, t in turns))
    elif kind == 3:
        (folder / f"t{i:04d}.txt").write_text("".join(f"{s}  {t // 60}:{t % 60:02d}\n{x}\n\n" for s, x, t in turns))
    elif kind == 4:
        # wrapped lines, CRLF, BOM: a Windows transcriptionist's export
        import textwrap

        body = "".join(f"{'I' if j % 2 == 0 else 'R'}: " + "\n".join(textwrap.wrap(x, 80)) + "\n\n" for j, (_, x, _t) in enumerate(turns))
        (folder / f"t{i:04d}.txt").write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode("utf-8"))
    elif kind == 5:
        cues = []
        for n, (s, x, t) in enumerate(turns, 1):
            cues.append(f"{n}\n{_ts(t)} --> {_ts(t + 4)}\n{s}: {x}\n")
        (folder / f"t{i:04d}.vtt").write_text("WEBVTT\n\n" + "\n".join(cues))
    elif kind == 6:
        cues = [f"{_ts(t)} --> {_ts(t + 4)}\n<v {s}>{x}</v>\n" for s, x, t in turns]
        (folder / f"t{i:04d}.vtt").write_text("WEBVTT\n\n" + "\n".join(cues))
    elif kind == 7:
        cues = [f"{n}\n{_ts(t, ',')} --> {_ts(t + 4, ',')}\n{s}: {x}\n" for n, (s, x, t) in enumerate(turns, 1)]
        (folder / f"t{i:04d}.srt").write_text("\n".join(cues))
    else:
        import docx  # a transcription service's Word file: bold label run, then the text

        doc = docx.Document()
        doc.add_paragraph("Focus group transcript")
        for s, x, _t in turns:
            para = doc.add_paragraph()
            para.add_run(f"{s}:").bold = True
            para.add_run(f" {x}")
        doc.save(folder / f"t{i:04d}.docx")


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
files = sorted(Path(sys.argv[1]).iterdir())
mode = sys.argv[2]
t0 = time.perf_counter()
words = 0
if mode == "baseline":
    import re, zipfile
    from qualkit.io.textdecode import decode_bytes, normalize_text
    for f in files:
        if f.suffix == ".docx":  # the bare minimum: unzip the body XML and drop the tags
            with zipfile.ZipFile(f) as z:
                text = re.sub(r"<[^>]+>", " ", z.read("word/document.xml").decode("utf-8"))
        else:
            text, _, _ = decode_bytes(f.read_bytes())
        words += len(normalize_text(text).split())
else:
    from qualkit.transcripts import read_transcript
    for f in files:
        words += read_transcript(f).word_count
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "words": words}))
"""


def measure(folder: Path, mode: str) -> dict:
    """The loop's own seconds and words, and its process's CPU time and peak RSS."""
    from commands import WRAPPER

    out = subprocess.run([sys.executable, "-c", WRAPPER.replace("stdout=subprocess.DEVNULL", "stdout=open('/dev/fd/2', 'w')"),
                          sys.executable, "-c", CHILD, str(folder), mode], capture_output=True, text=True, check=True)
    return {**json.loads(out.stderr.strip().splitlines()[-1]), **json.loads(out.stdout)}


def measure_command(folder: Path) -> dict:
    """`qualkit ingest` as a whole process (start-up included) on a workspace holding ``folder``."""
    import shutil

    from commands import QK
    from commands import measure as run_measured

    ws = folder.parent / (folder.name + "-ws")
    if not ws.exists():
        subprocess.run([*QK, "init", str(ws)], check=True, capture_output=True)
        (ws / "transcripts").rmdir()
        shutil.copytree(folder, ws / "transcripts")
    return run_measured([*QK, "ingest"], ws)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--words", type=int, default=8000)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="qualkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(args.files):
        make_file(folder, i, args.words)
    print(f"generated {args.files} transcripts (~{args.words} words each) in {time.perf_counter() - t0:.1f} s: {folder}")
    base = measure(folder, "baseline")
    ing = measure(folder, "ingest")
    cmd = measure_command(folder)
    print(f"baseline (read + decode + split; docx: unzip + strip tags): {base['seconds']:.2f} s  process cpu {base['cpu']:.2f} s, "
          f"peak RSS {base['peak_mb']:.0f} MB")
    print(f"ingest loop (parse turns, speakers):   {ing['seconds']:.2f} s  {ing['words'] / ing['seconds']:,.0f} words/s  "
          f"process cpu {ing['cpu']:.2f} s, peak RSS {ing['peak_mb']:.0f} MB  ({ing['words']:,} words)")
    print(f"`qualkit ingest` command (whole process): cpu {cmd['cpu']:.2f} s, wall {cmd['wall']:.2f} s, peak RSS {cmd['peak_mb']:.0f} MB")
    print(f"ratio ingest loop / baseline: {ing['seconds'] / base['seconds']:.1f}x; command cpu / baseline process cpu: "
          f"{cmd['cpu'] / base['cpu']:.1f}x")
    print(f"targets: <= 30 s -> {'OK' if cmd['wall'] <= 30 else 'MISSED'}; <= 1024 MB -> {'OK' if cmd['peak_mb'] <= 1024 else 'MISSED'}")
    if not args.keep:
        import shutil

        shutil.rmtree(folder)
        shutil.rmtree(folder.parent / (folder.name + "-ws"), ignore_errors=True)


if __name__ == "__main__":
    main()
