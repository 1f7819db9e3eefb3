"""REFI-QDA with real clients (issue 15): what QualCoder, NVivo, MAXQDA, ATLAS.ti and Taguette users
get back intact. Each test is one thing a user of those tools saw go wrong."""
from __future__ import annotations

import zipfile
from pathlib import Path

from qualkit.refiqda.qdpx_read import read_qdpx

NS = "urn:QDA-XML:project:1.0"
USER = "10000000-0000-0000-0000-000000000001"
CODEBOOK = ('<CodeBook><Codes><Code guid="20000000-0000-0000-0000-000000000001" name="Cost" isCodable="true"/>'
            '</Codes></CodeBook>')
USERS = f'<Users><User guid="{USER}" name="ana"/></Users>'


def make_qdpx(path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    qde = f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="Study">\n{body}\n</Project>\n'
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return path


def selection(start: int, end: int, name: str = "", n: int = 1, code: str = "20000000-0000-0000-0000-000000000001",
              extra: str = "") -> str:
    label = f' name="{name}"' if name else ""
    return (f'<PlainTextSelection guid="50000000-0000-0000-0000-{n:012d}"{label} startPosition="{start}" '
            f'endPosition="{end}">{extra}<Coding guid="60000000-0000-0000-0000-{n:012d}" creatingUser="{USER}">'
            f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>')


def source(sels: str, inner: str = "") -> str:
    return (f'<Sources><TextSource guid="40000000-0000-0000-0000-000000000001" name="int1.txt" '
            f'plainTextPath="internal://s1.txt">{inner}{sels}</TextSource></Sources>')


# 7 -----------------------------------------------------------------------------------------------

def test_an_empty_source_description_as_nvivo_writes_is_not_reported_as_lost(tmp_path):
    text = b"Ana: Cost is the barrier.\n"
    qdpx = make_qdpx(tmp_path / "nv.qdpx", USERS + CODEBOOK + source(selection(5, 9), "<Description />"),
                     {"sources/s1.txt": text})
    data = read_qdpx(qdpx)
    assert not any("description" in x for x in data.not_carried), data.not_carried
    qdpx = make_qdpx(tmp_path / "nv2.qdpx", USERS + CODEBOOK + source(selection(5, 9), "<Description>Site A</Description>"),
                     {"sources/s1.txt": text})
    assert "1 description(s) of sources" in read_qdpx(qdpx).not_carried
