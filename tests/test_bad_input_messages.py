"""Bad input a new user makes by hand, as the README's "Errors and safety" promises: one line naming
the file and the line, exit code 1, never a traceback and never a silent loss of data."""
from __future__ import annotations

from qualkit.workspace.codings import Coding


def _one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]


def test_a_quote_never_closed_in_participants_csv_names_its_line_not_the_rest_of_the_file(make_workspace, run_cli):
    # A user types a quote before a speaker label in Excel's text view and forgets to close it.
    participants = ("transcript,speaker,participant_id,role,site\n"
                    ',Interviewer,RT-1,interviewer,\n'
                    'int1,"Maria,KP-4,behavioral health,Pine Hollow\n'
                    'int2,Ben,KP-5,medical,Calder\n')
    make_workspace(participants=participants)
    result = run_cli("ingest")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert error.startswith("Error: ") and "participants.csv:3: " in error
    assert "never closed" in error
    assert "Ben" not in error  # the rest of the file is not dumped into the message


def test_a_stray_quote_in_a_codings_csv_is_an_error_not_a_lost_coding(make_workspace, run_cli):
    ws = make_workspace(codebook=[("fax", "Fax"), ("late", "Late")],
                        coders={"ana": [("By fax", "fax"), ("days late", "late")]})
    path = ws.root / "codings" / "ana.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Hand-edited in a text editor: a note added after the last column, with an opening quote only.
    lines[1] = lines[1].rstrip("\n") + ',"see memo\n'
    path.write_text("".join(lines), encoding="utf-8")
    result = run_cli("matrix", "codes")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert "codings/ana.csv:2: " in error and "never closed" in error, error


def test_extra_cells_on_a_codings_row_are_an_error_naming_the_line(make_workspace, run_cli):
    make_workspace(codebook=[("fax", "Fax")], coders={"ana": [("By fax", "fax")]})
    ws = make_workspace.made[-1]
    path = ws.root / "codings" / "ana.csv"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + ",an extra note\n", encoding="utf-8")
    result = run_cli("matrix", "codes")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert "codings/ana.csv:2: 9 fields but the header has 8" in error, error


def test_codings_written_by_qualkit_with_line_breaks_and_quotes_still_read(make_workspace):
    # The guard against stray quotes must not reject what qualkit itself writes.
    ws = make_workspace(transcripts={"int1": 'Interviewer: Say it.\nMaria: He said "no,\nnot now".\n'},
                        codebook=[("no", "No")])
    text = ws.transcript("int1").text
    quote = 'He said "no,\nnot now".'
    start = text.index(quote)
    ws.write_codings("ana", [Coding("int1", start, start + len(quote), "no", quote, 'a "memo"')])
    assert [c.text for c in ws.codings("ana")] == [quote]


def _edit_settings(ws, old: str, new: str) -> None:
    path = ws.root / "qualkit.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_speaker_rules_that_are_not_a_list_of_rules_say_so(make_workspace, run_cli):
    # The README's per-file rules, typed into qualkit.yaml with a mistake: a rule without `files`.
    ws = make_workspace()
    _edit_settings(ws, "  # rules:\n", "  rules:\n    - {pattern: '^(?P<speaker>P\\d+) - '}\n")
    result = run_cli("ingest")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert "qualkit.yaml:" in error and "'speakers' must be a mapping" not in error, error
    assert "speakers.rules" in error and "files" in error, error


def test_a_misspelt_speaker_setting_is_a_warning_not_silently_ignored(make_workspace, run_cli):
    ws = make_workspace()
    _edit_settings(ws, "  pattern:\n", "  patern: '^(?P<speaker>[A-Z]+):\\s'\n")
    result = run_cli("ingest")
    assert "unknown setting 'speakers.patern' is ignored (did you mean 'pattern'?)" in result.output, result.output


def test_an_srt_timing_typo_is_explained_in_srt_form(make_workspace, run_cli):
    # SubRip writes milliseconds after a comma; the hint must show that, not WebVTT's full stop.
    make_workspace(transcripts={"int2.srt": "1\n00:00:01,000 -> 00:00:04,000\nMaria: Hello.\n"})
    result = run_cli("ingest")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert "int2.srt:2: cue timing does not parse" in error
    assert "(expected 00:00:01,000 --> 00:00:04,000)" in error, error


def test_deid_accept_and_reject_say_what_became_of_the_spans(make_workspace, run_cli):
    make_workspace(transcripts={"int1": "Interviewer: When?\nMaria: On March 3, 2024, in Calder County.\n"})
    run_cli("deid", "scan")
    accepted = run_cli("deid", "accept", "--kind", "date")
    assert accepted.exit_code == 0
    assert "span now accepted (redacted on export)" in accepted.output, accepted.output
    rejected = run_cli("deid", "reject", "--all")
    assert "spans now rejected (kept as written)" in rejected.output, rejected.output


def test_transcripts_explain_counts_the_candidate_lines_it_lists(make_workspace, run_cli):
    # The README's example: a 'Note:' line must not become a speaker, and explain says why.
    make_workspace(transcripts={"int1": "Interviewer: Hello there.\nMaria: Hi.\nNote: the clinic closed\n"
                                        "Interviewer: Go on.\nMaria: Fine.\n"})
    result = run_cli("transcripts", "explain", "int1")
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 5 and any("Note" in r and "rejected" in r for r in rows), result.output
    assert "among 5 candidate lines" in result.output, result.output


def test_transcripts_show_names_a_text_encoding_only_where_the_file_has_one(make_workspace, run_cli):
    # A Word or PDF transcript has no text encoding: the header must not show a puzzling 'n/a'.
    from docx import Document

    ws = make_workspace()
    doc = Document()
    for line in ("Interviewer: How do referrals arrive?", "Maria: By fax.", "Interviewer: Always?", "Maria: Mostly."):
        doc.add_paragraph(line)
    doc.save(str(ws.root / "transcripts" / "int2.docx"))
    shown = run_cli("transcripts", "show", "int2")
    assert shown.exit_code == 0
    assert "(docx; 4 turns" in shown.output and "n/a" not in shown.output, shown.output
    assert "(txt, utf-8; 4 turns" in run_cli("transcripts", "show", "int1").output


def test_a_stray_quote_in_deid_csv_stops_the_export_instead_of_leaking_names(make_workspace, run_cli):
    # A researcher edits a replacement in deid.csv by hand and leaves a quote open. Before, the rows
    # after it vanished and `qualkit run` exported their names unredacted, with exit code 0.
    ws = make_workspace(transcripts={"int1": "Interviewer: Who helped?\nMaria: Dana Whitfield at Calder County, "
                                             "and Marcus Bell.\nInterviewer: Thanks.\nMaria: Sure.\n"})
    assert run_cli("deid", "scan").exit_code == 0
    assert run_cli("deid", "accept", "--all").exit_code == 0
    path = ws.root / "deid.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 4, lines
    lines[1] = lines[1].rstrip("\n") + ',"double-check\n'
    path.write_text("".join(lines), encoding="utf-8")
    result = run_cli("run")
    assert result.exit_code == 1
    error = _one_error_line(result)
    assert "deid.csv:2: " in error and "never closed" in error, error
    assert not (ws.root / "exports" / "turns.csv").exists()


def test_deid_csv_with_a_line_break_in_a_span_still_reads(make_workspace, run_cli):
    ws = make_workspace()
    (ws.root / "deid.csv").write_text(
        "id,transcript,start,end,text,kind,detector,replacement,decision\n"
        'd1,int1,0,5,"Inter\nviewer",person,manual,[Person 1],\n'
        "d2,int1,40,45,Maria,person,manual,[Person 2],accept\n", encoding="utf-8")
    result = run_cli("deid", "accept", "d1")
    assert result.exit_code == 0, result.output
    assert "1 of 1 span now accepted" in result.output
