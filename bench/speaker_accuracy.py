"""Benchmark: speaker attribution on labelled transcripts, one per layout researchers receive.

Not a test. bench/speakers/ holds transcripts written for this benchmark (free to keep) and
expected.json: for each file, every turn's speaker, its first two words and its time. Word, PDF,
OpenDocument and RTF versions are made from the text files at run time. Prints, per file, turns
found, speaker attribution accuracy (expected turns whose speaker is right), time accuracy, and
whether any label or time mark was left in a turn's text; then the same speaker counts for the
third-party files in ../shared/reference/real-transcripts (expected counts from its PROVENANCE.md).

    python bench/speaker_accuracy.py
"""
from __future__ import annotations

import json
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import qualkit

HERE = Path(__file__).resolve().parent / "speakers"
REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-transcripts"
LEFTOVER = re.compile(r"#\d{1,2}:\d{2}:\d{2}|</?v\b|^\[?\d{1,2}:\d{2}|^#+ ")


def _paragraphs(text: str) -> list[str]:
    """Each non-blank line is a paragraph, as a word processor would hold the text."""
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def make_docx(src: Path, out: Path) -> None:
    import docx

    d = docx.Document()
    for p in _paragraphs(src.read_text(encoding="utf-8")):
        d.add_paragraph(p)
    d.save(str(out))


def make_pdf(src: Path, out: Path) -> None:
    lines = [ln for ln in src.read_text(encoding="utf-8").split("\n") if ln.strip()]
    ops = "BT /F1 11 Tf 72 740 Td 14 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines) + " ET"
    objs = ["<</Type/Catalog/Pages 2 0 R>>", "<</Type/Pages/Kids[4 0 R]/Count 1>>",
            "<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 3 0 R>>>>/Contents 5 0 R>>",
            f"<</Length {len(ops.encode('cp1252'))}>>stream\n{ops}\nendstream"]
    data, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objs, 1):
        offsets.append(len(data))
        data += f"{n} 0 obj\n{body}\nendobj\n".encode("cp1252")
    xref = len(data)
    data += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode() + "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    data += f"trailer<</Size {len(objs) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    out.write_bytes(data)


def make_odt(src: Path, out: Path) -> None:
    from xml.sax.saxutils import escape

    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in _paragraphs(src.read_text(encoding="utf-8")))
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", '<?xml version="1.0"?><office:document-content '
                    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
                    f"{body}</office:text></office:body></office:document-content>")


def make_rtf(src: Path, out: Path) -> None:
    def esc(s: str) -> str:
        return "".join(c if ord(c) < 128 and c not in "\\{}" else (f"\\{c}" if c in "\\{}" else f"\\u{ord(c)}?") for c in s)

    body = "".join(esc(p) + "\\par\n" for p in _paragraphs(src.read_text(encoding="utf-8")))
    out.write_text("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Calibri;}}\\f0\\fs22 " + body + "}", encoding="ascii")


MAKERS = {".docx": make_docx, ".pdf": make_pdf, ".odt": make_odt, ".rtf": make_rtf}


def score(t, expected: list[dict]) -> dict:
    """Expected turns found (by their first words, in order), right speaker, right time, leftovers."""
    turns = [(x, " ".join(t.turn_text(x).split())) for x in t.turns]
    found = right = timed = timed_right = 0
    pos = 0
    for exp in expected:
        match = next((k for k in range(pos, len(turns)) if turns[k][1].startswith(exp["starts"])), None)
        if exp["seconds"] is not None:
            timed += 1
        if match is None:
            continue
        pos = match + 1
        found += 1
        turn = turns[match][0]
        right += turn.speaker == exp["speaker"]
        if exp["seconds"] is not None and turn.timestamp is not None and abs(turn.timestamp - exp["seconds"]) < 0.05:
            timed_right += 1
    labelled = sum(1 for x, _ in turns if x.speaker is not None)
    leftovers = sum(1 for x, text in turns if x.speaker is not None and LEFTOVER.search(text))
    return {"expected": len(expected), "labelled": labelled, "found": found, "right": right,
            "timed": timed, "timed_right": timed_right, "leftovers": leftovers}


def main() -> int:
    spec = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(HERE / name, name, exp) for name, exp in spec["files"].items()]
        for name, source in spec["documents"].items():
            out = Path(tmp) / name
            MAKERS[out.suffix](HERE / source, out)
            jobs.append((out, name, spec["files"][source]))
        for path, name, exp in jobs:
            try:
                rows.append((name, score(qualkit.read_transcript(path), exp)))
            except qualkit.QualkitError as exc:
                rows.append((name, {"error": str(exc)}))
    print(f"{'file':<18} {'turns':>9} {'speaker right':>14} {'time right':>11} {'leftovers':>9}")
    total = right = timed = timed_right = 0
    for name, r in rows:
        if "error" in r:
            print(f"{name:<18} ERROR {r['error']}")
            continue
        total += r["expected"]
        right += r["right"]
        timed += r["timed"]
        timed_right += r["timed_right"]
        tcol = f"{r['timed_right']}/{r['timed']}" if r["timed"] else "-"
        print(f"{name:<18} {r['labelled']:>4}/{r['expected']:<4} {r['right']:>7}/{r['expected']:<6} {tcol:>11} {r['leftovers']:>9}")
    print(f"\nspeaker attribution: {right}/{total} = {right / max(total, 1):.1%}; "
          f"times: {timed_right}/{timed} = {timed_right / max(timed, 1):.1%}")
    _real()
    return 0 if right == total else 1


def _real() -> None:
    """Distinct speakers found in each real third-party file against PROVENANCE.md's count."""
    prov = REAL / "PROVENANCE.md"
    if not prov.is_file():
        print("\n(real transcripts not available)")
        return
    print("\nreal third-party files (speakers found / expected):")
    ok = n = 0
    for m in re.finditer(r"^\| ([\w./-]+\.(?:vtt|srt|docx|txt|md)) \|[^|]*\|[^|]*\| (\d+)", prov.read_text(encoding="utf-8"), re.M):
        rel, want = m.group(1), int(m.group(2))
        if rel.endswith(("pipeline-ui_interview.srt", "qualcoder_ID1.docx", "cp1252.txt")):
            want = 0  # PROVENANCE counts the people; these files have no speaker labels
        try:
            got = len(qualkit.read_transcript(REAL / rel).speakers)
        except qualkit.QualkitError as exc:
            print(f"  {rel}: ERROR {exc}")
            continue
        n += 1
        ok += got == want
        print(f"  {rel:<70} {got:>3} / {want}")
    print(f"  {ok}/{n} files with the expected number of speakers")


if __name__ == "__main__":
    sys.exit(main())
