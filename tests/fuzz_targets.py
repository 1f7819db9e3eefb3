"""One fuzz target per reader of untrusted files: the bytes of a file in, and either a result or a
:class:`~qualkit.errors.QualkitError` out; anything else (an internal error) is a finding.

Seeds are real files of the sample study and files qualkit writes from it (codebook workbook,
QDPX, QDC, adjudication sheets); :func:`mutate` changes bytes, and for zip-based formats also
one member inside the archive, so the XML parsers behind the zip checks are reached too.
Used by tests/test_fuzz.py (hypothesis, small budget) and bench/fuzz.py (the long campaign).
"""
from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError


def _transcript(path: Path) -> Any:
    from qualkit.transcripts import read_transcript

    return read_transcript(path)


def _codings(path: Path) -> Any:
    from qualkit.workspace.codings import read_codings

    return read_codings(path)


def _participants(path: Path) -> Any:
    from qualkit.workspace.participants import load_participants

    return load_participants(path, ["interviewer"]).to_dataframe()


def _codebook_yaml(path: Path) -> Any:
    from qualkit.coding.codebook_validate import validate
    from qualkit.workspace.codebook import load_codebook

    validate([path])
    return load_codebook(path)


def _codebook_sheet(path: Path) -> Any:
    from qualkit.coding.codebook_import import import_codebook

    return import_codebook(path, id="fuzz")


def _themes(path: Path) -> Any:
    from qualkit.analysis.themes_file import load_themes

    load_themes(path, strict=False)
    return load_themes(path)


def _config(path: Path) -> Any:
    from qualkit.workspace.config import load_config

    return load_config(path)


def _qdpx(path: Path) -> Any:
    from qualkit.refiqda.qdpx_read import read_qdpx

    return read_qdpx(path)


def _qdc(path: Path) -> Any:
    from qualkit.refiqda.qdc import read_qdc

    return read_qdc(path)


def _adjudication(path: Path) -> Any:
    from qualkit.analysis.adjudication import read_adjudication

    return read_adjudication(path)


def _sheet(path: Path) -> Any:
    from qualkit.coding.imports.sheet import read_sheet

    return read_sheet(path)


def _word_comments(path: Path) -> Any:
    from qualkit.coding.imports.word_comments import read_word_comments

    return read_word_comments(path)


# reader name -> (file name the input is written to, the reader)
READERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "transcript_txt": ("int1.txt", _transcript),
    "transcript_vtt": ("fg1.vtt", _transcript),
    "transcript_srt": ("int4.srt", _transcript),
    "transcript_docx": ("int2.docx", _transcript),
    "codings": ("ana.csv", _codings),
    "participants": ("participants.csv", _participants),
    "codebook_yaml": ("cb.yaml", _codebook_yaml),
    "codebook_xlsx": ("cb.xlsx", _codebook_sheet),
    "codebook_csv": ("cb.csv", _codebook_sheet),
    "themes": ("themes.yaml", _themes),
    "qualkit_yaml": ("qualkit.yaml", _config),
    "qdpx": ("p.qdpx", _qdpx),
    "qdc": ("cb.qdc", _qdc),
    "adjudication_csv": ("adj.csv", _adjudication),
    "adjudication_xlsx": ("adj.xlsx", _adjudication),
    "sheet_csv": ("sheet.csv", _sheet),
    "sheet_xlsx": ("sheet.xlsx", _sheet),
    "word_comments": ("comments.docx", _word_comments),
}
ZIPPED = {".docx", ".xlsx", ".qdpx"}


def make_seeds(folder: Path) -> dict[str, bytes]:
    """One valid input per reader, from a copy of the sample study (made in ``folder``)."""
    import pandas as pd

    from qualkit.analysis.meeting import write_disagreements
    from qualkit.api import Workspace
    from qualkit.coding.codebook_export import export_codebook
    from qualkit.refiqda.qdc import export_qdc
    from qualkit.refiqda.qdpx_export import export_qdpx
    from qualkit.workspace.scaffold import demo

    root = demo(folder / "study")
    ws = Workspace(root)
    out = folder / "made"
    out.mkdir()
    t = root / "transcripts"
    book = ws.codebooks()[0]
    export_codebook(book, out / "cb.xlsx")
    export_codebook(book, out / "cb.csv")
    export_qdc(book, out / "cb.qdc")
    export_qdpx(ws, out / "p.qdpx")
    items = ws.disagreements(["ana", "ben"])
    write_disagreements(items, out / "adj.csv")
    write_disagreements(items, out / "adj.xlsx")
    codings = ws.codings("ana")[:30]
    sheet = pd.DataFrame({"transcript": [c.transcript for c in codings], "code": [c.code for c in codings],
                          "excerpt": [c.text for c in codings]})
    sheet.to_csv(out / "sheet.csv", index=False)
    sheet.to_excel(out / "sheet.xlsx", index=False)
    files = {"transcript_txt": t / "int1_sheriff.txt", "transcript_vtt": t / "fg2_pinehollow.vtt",
             "transcript_srt": t / "int4_bh_director.srt", "transcript_docx": t / "int2_ed_physician.docx",
             "codings": root / "codings" / "ana.csv", "participants": root / "participants.csv",
             "codebook_yaml": book.path, "codebook_xlsx": out / "cb.xlsx", "codebook_csv": out / "cb.csv",
             "themes": root / "themes.yaml", "qualkit_yaml": root / "qualkit.yaml", "qdpx": out / "p.qdpx",
             "qdc": out / "cb.qdc", "adjudication_csv": out / "adj.csv", "adjudication_xlsx": out / "adj.xlsx",
             "sheet_csv": out / "sheet.csv", "sheet_xlsx": out / "sheet.xlsx",
             "word_comments": t / "fg1_calder.docx"}
    return {name: Path(p).read_bytes() for name, p in files.items()}


_TOKENS = [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\n", b'"', b",", b";", b"\t", b":", b"- ", b"!!int abc",
           b"!!timestamp 2001-12-14x", b"&a", b"*a", b"<", b"]]>", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>",
           b"=HYPERLINK(1)", b"\x1b[2J", b"-->", b"00:00:01,000 --> 00:00:00,000", b"9" * 30, b"-1", b"NaN",
           b" " * 5000, "é".encode(), "\u2028".encode(), b"\xc3"]


def mutate_bytes(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """A few random edits: flips, inserts of interesting tokens, deletions, duplications, truncation."""
    buf = bytearray(data)
    for _ in range(rounds or rng.randint(1, 8)):
        op = rng.random()
        at = rng.randrange(len(buf) + 1) if buf else 0
        if op < 0.25 and buf:
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op < 0.55:
            buf[at:at] = rng.choice(_TOKENS)
        elif op < 0.7 and buf:
            del buf[at:at + rng.randint(1, 64)]
        elif op < 0.85 and buf:
            chunk = bytes(buf[at:at + rng.randint(1, 200)])
            buf[rng.randrange(len(buf) + 1):0] = chunk
        elif op < 0.9:
            del buf[at:]
        else:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(buf)


def mutate(data: bytes, rng: random.Random, zipped: bool) -> bytes:
    """A mutated input: for a zip archive, usually one member mutated and the archive rebuilt."""
    if not zipped or rng.random() < 0.25:
        return mutate_bytes(data, rng)
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        members = [(i, src.read(i)) for i in src.infolist()]
    except Exception:  # noqa: BLE001 - a seed that is no longer a zip
        return mutate_bytes(data, rng)
    xml = [k for k, (i, _) in enumerate(members) if i.filename.endswith((".xml", ".qde", ".rels", ".txt"))]
    k = rng.choice(xml) if xml else rng.randrange(len(members))
    info, body = members[k]
    members[k] = (info, mutate_bytes(body, rng))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, b in members:
            z.writestr(i.filename, b)
    return out.getvalue()


def run_one(name: str, data: bytes, folder: Path) -> str | None:
    """Feed ``data`` to reader ``name``; None when it read it or refused it clearly, else the finding."""
    file_name, reader = READERS[name]
    path = folder / file_name
    path.write_bytes(data)
    try:
        reader(path)
    except QualkitError:
        return None
    except RecursionError:
        return "RecursionError"
    except Exception as exc:  # noqa: BLE001 - what the campaign is looking for
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    return None
