"""A workspace: init, participants.csv, ingest with warnings and errors, qualkit.yaml settings."""
from __future__ import annotations

import pytest

import qualkit
from qualkit.errors import WorkspaceError
from qualkit.workspace.scaffold import init


def make_ws(tmp_path, participants="transcript,speaker,participant_id,role,site\n", config_extra=""):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text(participants, encoding="utf-8")
    if config_extra:
        with open(root / "qualkit.yaml", "a", encoding="utf-8") as f:
            f.write(config_extra)
    return root


INTERVIEW = "Interviewer: How do referrals arrive?\nMaria: By fax.\nInterviewer: Always?\nMaria: Mostly.\n"


def test_init_creates_the_documented_layout(tmp_path):
    root = init(tmp_path / "study")
    for name in ("qualkit.yaml", "participants.csv", "themes.yaml", ".gitignore"):
        assert (root / name).is_file()
    for d in ("transcripts", "codebooks", "codings", "frameworks", "summaries", "exports"):
        assert (root / d).is_dir()
    assert (root / "participants.csv").read_text().startswith("transcript,speaker,participant_id")
    ws = qualkit.Workspace(root)
    assert ws.transcripts() == []


def test_init_turns_a_folder_of_files_into_a_workspace_without_touching_them(tmp_path):
    (tmp_path / "x" / "transcripts").mkdir(parents=True)
    (tmp_path / "x" / "transcripts" / "int1.txt").write_text(INTERVIEW)
    (tmp_path / "x" / "notes.docx").write_bytes(b"mine")
    init(tmp_path / "x")
    assert (tmp_path / "x" / "notes.docx").read_bytes() == b"mine"
    assert [t.id for t in qualkit.Workspace(tmp_path / "x").transcripts()] == ["int1"]


def test_init_never_overwrites_a_participants_file(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "participants.csv").write_text("mine")
    with pytest.raises(WorkspaceError, match="already has participants.csv"):
        init(tmp_path / "x")
    assert (tmp_path / "x" / "participants.csv").read_text() == "mine"
    assert not (tmp_path / "x" / "qualkit.yaml").exists()


def test_workspace_is_found_from_a_subfolder(tmp_path):
    root = make_ws(tmp_path)
    assert qualkit.Workspace(root / "transcripts").root == root.resolve()


def test_outside_a_workspace_the_error_says_how_to_make_one(tmp_path):
    with pytest.raises(WorkspaceError, match="qualkit init"):
        qualkit.Workspace(tmp_path)


def test_participants_attach_to_turns_and_blank_transcript_maps_everywhere(tmp_path):
    root = make_ws(tmp_path, "transcript,speaker,participant_id,role,site\n,Interviewer,RT-1,interviewer,\nint1,Maria,KP-4,behavioral health,Pine Hollow\n")
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    ws = qualkit.Workspace(root)
    t = ws.transcript("int1")
    assert [x.participant for x in t.turns] == ["RT-1", "KP-4", "RT-1", "KP-4"]
    assert not t.warnings
    assert ws.participant_table.attributes("KP-4") == {"role": "behavioral health", "site": "Pine Hollow"}
    assert ws.participant_table.is_facilitator("RT-1") and not ws.participant_table.is_facilitator("KP-4")
    df = ws.participants
    assert list(df.columns) == ["transcript", "speaker", "participant_id", "role", "site"]
    turns = ws.turn_table()
    assert turns.loc[1, "role"] == "behavioral health" and turns.loc[1, "turn"] == 2


def test_speaker_lookup_ignores_case_and_spacing(tmp_path):
    root = make_ws(tmp_path, "transcript,speaker,participant_id\nint1,maria ,KP-4\n,INTERVIEWER,RT-1\n")
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    t = qualkit.Workspace(root).transcript("int1")
    assert [x.participant for x in t.turns] == ["RT-1", "KP-4", "RT-1", "KP-4"]


def test_unknown_speakers_are_warnings_not_errors(tmp_path):
    root = make_ws(tmp_path)
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    result = qualkit.Workspace(root).ingest()
    assert result.ok
    assert any("'Maria' (2 turns) is not in participants.csv" in w for w in result.rows[0].warnings)


def test_participants_csv_names_the_speaker_a_one_off_label_belongs_to(tmp_path):
    # "Zed" speaks once; listing him makes him a speaker rather than continuation text.
    root = make_ws(tmp_path, "transcript,speaker,participant_id\nint1,Zed,P9\n")
    (root / "transcripts" / "int1.txt").write_text("Zed: just once.\n")
    t = qualkit.Workspace(root).transcript("int1")
    assert t.turns[0].speaker == "Zed" and t.turns[0].participant == "P9"


def test_two_transcripts_with_the_same_id_are_an_error(tmp_path):
    root = make_ws(tmp_path)
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    (root / "transcripts" / "int1.md").write_text(INTERVIEW)
    result = qualkit.Workspace(root).ingest()
    assert len(result.errors) == 1 and "two transcripts have the id 'int1'" in str(result.errors[0])
    assert len(result.rows) == 1


def test_ingest_collects_every_bad_file_and_keeps_the_good_ones(tmp_path):
    root = make_ws(tmp_path)
    (root / "transcripts" / "good.txt").write_text(INTERVIEW)
    (root / "transcripts" / "empty.txt").write_bytes(b"")
    (root / "transcripts" / "bad.docx").write_bytes(b"this is not a zip")
    before = {p.name: p.read_bytes() for p in (root / "transcripts").iterdir()}
    result = qualkit.Workspace(root).ingest()
    assert [r.id for r in result.rows] == ["good"]
    messages = sorted(str(e) for e in result.errors)
    assert any("bad.docx" in m for m in messages) and any("empty.txt" in m and "empty" in m for m in messages)
    assert {p.name: p.read_bytes() for p in (root / "transcripts").iterdir()} == before  # nothing modified


@pytest.mark.parametrize("csv_text, line, message", [
    ("speaker,participant_id\n", 1, "missing column(s) transcript"),
    ("transcript,speaker,participant_id\nint1,Maria,\n", 2, "blank participant_id"),
    ("transcript,speaker,participant_id\nint1,Maria,A\nint1,maria,B\n", 3, "mapped twice"),
    ("transcript,speaker,participant_id\n,,A\n", 2, "blank speaker label and blank transcript"),
    ("transcript,speaker,participant_id\nint1,Maria,A,extra\n", 2, "4 fields but the header has 3"),
])
def test_malformed_participants_csv_names_the_line(tmp_path, csv_text, line, message):
    root = make_ws(tmp_path, csv_text)
    with pytest.raises(WorkspaceError) as e:
        _ = qualkit.Workspace(root).participant_table
    assert e.value.line == line and message in str(e.value)
    assert str(e.value).startswith(str(root / "participants.csv") + f":{line}:")


@pytest.mark.parametrize("yaml_text, message", [
    ("project: [unclosed\n", "invalid YAML"),
    ("coders: alice\n", "'coders' must be a list"),
    ("speakers:\n  pattern: '(unclosed'\n", "not a valid regular expression"),
    ("speakers:\n  pattern: '^([A-Z]+):'\n", "(?P<speaker>"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_malformed_qualkit_yaml_is_a_clear_error(tmp_path, yaml_text, message):
    root = init(tmp_path / "ws")
    (root / "qualkit.yaml").write_text(yaml_text)
    with pytest.raises(WorkspaceError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?").replace("[", r"\[")) as e:
        qualkit.Workspace(root)
    assert "qualkit.yaml" in str(e.value)


def test_yaml_error_names_the_line(tmp_path):
    root = init(tmp_path / "ws")
    (root / "qualkit.yaml").write_text("project: ok\ncoders: [a, b\nframework: heif\n")
    with pytest.raises(WorkspaceError) as e:
        qualkit.Workspace(root)
    assert e.value.line in (2, 3)


def test_speaker_pattern_in_qualkit_yaml_is_used_for_txt(tmp_path):
    root = make_ws(tmp_path, config_extra="")
    text = (root / "qualkit.yaml").read_text().replace("  pattern:\n", "  pattern: '^(?P<speaker>[A-Z]{2}\\d*):\\s'\n")
    (root / "qualkit.yaml").write_text(text)
    (root / "transcripts" / "fg.txt").write_text("GA: Question?\nTN4: Answer.\nNote: aside.\nGA: Next?\n")
    t = qualkit.Workspace(root).transcript("fg")
    assert t.speakers == ["GA", "TN4"]


def test_rereading_an_unchanged_file_uses_the_cache_and_a_changed_one_is_reread(tmp_path):
    import os

    root = make_ws(tmp_path)
    path = root / "transcripts" / "int1.txt"
    path.write_text(INTERVIEW)
    ws = qualkit.Workspace(root)
    first = ws.transcript("int1")
    assert ws.transcript("int1") is first
    path.write_text(INTERVIEW.replace("By fax.", "By fax and email."))
    os.utime(path, (1, 1))  # a different mtime even on coarse filesystems
    assert "email" in ws.transcript("int1").text


def test_written_files_follow_the_umask_and_keep_an_existing_mode(tmp_path):
    import os
    import stat

    from qualkit.io.atomic import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.csv", "a\n")
        assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644
        os.chmod(tmp_path / "new.csv", 0o640)
        atomic_write_text(tmp_path / "new.csv", "b\n")
        assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    from qualkit.io.atomic import atomic_open

    target = tmp_path / "codings.csv"
    target.write_text("precious\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["codings.csv"]


def test_a_backup_is_the_file_byte_for_byte_or_nothing_when_the_copy_does_not_match(tmp_path, monkeypatch):
    """Backups are copied and checked a piece at a time (a 45 MB auto.csv read whole, twice, was a
    sixth of auto-coding's peak memory): still the whole file, and a bad copy still stops the rewrite."""
    from qualkit.io import atomic

    target = tmp_path / "auto.csv"
    data = bytes(range(256)) * (3 * (1 << 20) // 256 + 7)  # three pieces and a bit
    target.write_bytes(data)
    copy = atomic.backup(target, tmp_path / "backups")
    assert copy is not None and copy.read_bytes() == data
    monkeypatch.setattr(atomic, "_same_bytes", lambda a, b: False)
    with pytest.raises(OSError, match="the backup copy does not match the original"):
        atomic.backup(target, tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == [copy]


def test_participants_csv_from_european_excel_semicolons_and_cp1252(tmp_path):
    root = make_ws(tmp_path)
    (root / "participants.csv").write_bytes("transcript;speaker;participant_id;role\nint1;Maria;KP-4;Sozialarbeit – Café\n".encode("cp1252"))
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    ws = qualkit.Workspace(root)
    assert ws.participant_table.attributes("KP-4") == {"role": "Sozialarbeit – Café"}
    assert any("cp1252" in w for w in ws.ingest().warnings)


def test_a_note_cell_with_line_breaks_loads_and_a_later_error_names_its_own_line(tmp_path):
    note = '"Met at the clinic.\nPrefers mornings, ""no calls""."'
    good = f"transcript,speaker,participant_id,role,note\nint1,Maria,KP-4,nurse,{note}\nint1,Jo,KP-5,doctor,\n"
    root = make_ws(tmp_path, good)
    table = qualkit.Workspace(root).participant_table
    assert table.attributes("KP-4")["note"] == 'Met at the clinic.\nPrefers mornings, "no calls".'
    assert table.attributes("KP-5") == {"role": "doctor", "note": ""}
    # the quoted note spans lines 2-3 and Jo is on line 4, so the row without an id is on line 5
    (root / "participants.csv").write_text(good + "int1,Ana,,nurse,\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as e:
        _ = qualkit.Workspace(root).participant_table
    assert e.value.line == 5 and "blank participant_id" in str(e.value)


def test_missing_participants_csv_is_one_warning(tmp_path):
    root = make_ws(tmp_path)
    (root / "participants.csv").unlink()
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    result = qualkit.Workspace(root).ingest()
    assert result.warnings == ["participants.csv not found: speakers are not linked to participants"]
    assert result.rows[0].warnings == []


def test_the_workspace_speaker_pattern_leaves_subtitles_alone(tmp_path):
    root = make_ws(tmp_path)
    text = (root / "qualkit.yaml").read_text().replace("  pattern:\n", "  pattern: '^(?P<speaker>[A-Z]{2}\\d*):\\s'\n")
    (root / "qualkit.yaml").write_text(text)
    (root / "transcripts" / "zoom.vtt").write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nJane Doe: Hi.\n\n2\n00:00:02.500 --> 00:00:03.000\nBob Lee: Hello.\n\n"
        "3\n00:00:03.500 --> 00:00:04.000\nJane Doe: Ok.\n")
    assert qualkit.Workspace(root).transcript("zoom").speakers == ["Jane Doe", "Bob Lee"]


def test_transcripts_are_listed_in_natural_order(tmp_path):
    root = make_ws(tmp_path)
    for name in ("int10", "int2", "int1"):
        (root / "transcripts" / f"{name}.txt").write_text(INTERVIEW)
    assert [p.stem for p in qualkit.Workspace(root).transcript_paths()] == ["int1", "int2", "int10"]


def test_a_project_name_with_quotes_and_apostrophes_survives_init(tmp_path):
    root = init(tmp_path / "ws", project='Sheriff\'s "PORT" study')
    assert qualkit.Workspace(root).config.project == 'Sheriff\'s "PORT" study'


def test_transcripts_in_subfolders_are_found_and_hidden_files_lock_files_and_linked_folders_are_not(tmp_path):
    root = make_ws(tmp_path)
    t = root / "transcripts"
    (t / "site_b" / "wave2").mkdir(parents=True)
    (t / ".git").mkdir()
    (t / "int1.txt").write_text(INTERVIEW)
    (t / "site_b" / "int10.txt").write_text(INTERVIEW)
    (t / "site_b" / "wave2" / "int2.txt").write_text(INTERVIEW)
    (t / ".git" / "int3.txt").write_text(INTERVIEW)  # in a hidden folder: not ours
    (t / ".notes.txt").write_text(INTERVIEW)
    (t / "~$int1.docx").write_bytes(b"lock")
    (t / "linked").symlink_to(t / "site_b")  # a link to a folder is not walked: its files would count twice
    ws = qualkit.Workspace(root)
    assert [p.relative_to(t).as_posix() for p in ws.transcript_paths()] == ["int1.txt", "site_b/int10.txt", "site_b/wave2/int2.txt"]
    (t / "site_b" / "wave2" / "int4.txt").write_text(INTERVIEW)  # a file added deep down is seen at the next listing
    assert "int4" in [p.stem for p in ws.transcript_paths()]


def test_two_links_to_one_file_are_two_transcripts_each_with_its_own_id(tmp_path):
    root = make_ws(tmp_path)
    (root / "originals").mkdir()
    (root / "originals" / "int1.txt").write_text(INTERVIEW)
    for name in ("site_a_int1.txt", "site_b_int1.txt"):
        (root / "transcripts" / name).symlink_to(root / "originals" / "int1.txt")
    for _ in range(2):  # the first reading parses, the second reads the cache
        assert sorted(t.id for t in qualkit.Workspace(root).ingest().transcripts) == ["site_a_int1", "site_b_int1"]
