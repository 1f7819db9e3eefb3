"""Laying coders' codings onto units: what agreement is computed from."""
from __future__ import annotations

import pytest

import qualkit
from qualkit.analysis.unit_codes import AgreementInputError, build_unit_codes
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, CodingError
from qualkit.workspace.scaffold import init

TEXT = "Interviewer: How do referrals arrive?\nMaria: By fax. Days late.\nInterviewer: Why?\nMaria: Lawyers.\n"


@pytest.fixture
def ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role\n,Interviewer,RT-1,interviewer\n,Maria,KP-4,medical\n")
    for tid in ("int1", "int2"):
        (root / "transcripts" / f"{tid}.txt").write_text(TEXT)
    save_codebook(Codebook("cb", "CB", [Code("fax", "Fax"), Code("law", "Lawyers")]), root / "codebooks" / "cb.yaml")
    return qualkit.Workspace(root)


def code(ws, coder, tid, quote, code_id):
    t = ws.transcript(tid)
    start = t.text.index(quote)
    return Coding(tid, start, start + len(quote), code_id, quote)


def test_only_transcripts_coded_by_every_coder_count_and_facilitator_turns_are_left_out(ws):
    ws.write_codings("ana", [code(ws, "ana", "int1", "By fax", "fax"), code(ws, "ana", "int2", "Lawyers", "law")])
    ws.write_codings("ben", [code(ws, "ben", "int1", "fax. Days", "fax"), code(ws, "ben", "int1", "Lawyers", "fax")])
    uc = build_unit_codes(ws, ["ana", "ben"])
    assert uc.transcripts == ["int1"] and uc.left_out == {"int2": ["ben"]}
    assert [u.speaker for u in uc.units] == ["Maria", "Maria"]
    assert uc.codes == {"ana": [{"fax"}, set()], "ben": [{"fax"}, {"fax"}]}
    assert uc.matrix("fax").tolist() == [[1, 0], [1, 1]]
    with_team = build_unit_codes(ws, ["ana", "ben"], include_facilitators=True)
    assert len(with_team.units) == 4


def test_unknown_coder_and_no_common_transcript_are_clear_errors(ws):
    ws.write_codings("ana", [code(ws, "ana", "int1", "By fax", "fax")])
    ws.write_codings("ben", [code(ws, "ben", "int2", "By fax", "fax")])
    with pytest.raises(AgreementInputError, match=r"no codings file for coder\(s\) zoe \(known: ana, ben\)"):
        build_unit_codes(ws, ["ana", "zoe"])
    with pytest.raises(AgreementInputError, match="no transcript in common"):
        build_unit_codes(ws, ["ana", "ben"])


def test_codings_of_missing_transcripts_or_codes_name_the_file_and_row(ws):
    ws.write_codings("ana", [code(ws, "ana", "int1", "By fax", "fax"), Coding("int9", 0, 3, "fax", "abc")])
    ws.write_codings("ben", [code(ws, "ben", "int1", "By fax", "nope")])
    with pytest.raises(CodingError) as e:
        build_unit_codes(ws, ["ana", "ben"])
    assert "ana.csv:3: transcript 'int9'" in str(e.value)
    ws.write_codings("ana", [code(ws, "ana", "int1", "By fax", "fax")])
    with pytest.raises(CodingError, match=r"ben.csv:2: code 'nope' is not in any codebook"):
        build_unit_codes(ws, ["ana", "ben"])


def test_document_units_keep_the_whole_interview(ws):
    ws.write_codings("ana", [code(ws, "ana", "int1", "By fax", "fax")])
    ws.write_codings("ben", [code(ws, "ben", "int1", "Lawyers", "law")])
    uc = build_unit_codes(ws, ["ana", "ben"], unit="document")
    assert len(uc.units) == 1 and uc.codes == {"ana": [{"fax"}], "ben": [{"law"}]}
