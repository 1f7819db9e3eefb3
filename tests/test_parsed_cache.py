"""A workspace's codebooks, themes.yaml and qualkit.yaml sections are parsed once (issue 17: `qualkit run`
on the sample study near the cost of importing its libraries): a file read without a problem is kept in
.qualkit/cache/ by its bytes, and the next command reads it back without PyYAML or pydantic's models,
with the same codes, themes, settings, warnings and line numbers as the parse."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

import qualkit
from qualkit.workspace.scaffold import demo

_PROBE = """
import sys
from qualkit.cli import main
sys.argv = ["qualkit", "matrix", "themes"]
try:
    main()
finally:
    from qualkit.analysis import themes_file
    print("LOADED", sorted(m for m in ("qualkit.workspace.codebook_schema", "qualkit.workspace.config_schema")
                             if m in sys.modules), bool(themes_file._MODELS), file=sys.stderr)
"""


def _command(root: Path) -> str:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return next(line for line in done.stderr.splitlines() if line.startswith("LOADED"))


def test_a_second_command_reads_codebooks_themes_and_settings_without_their_schemas(tmp_path):
    root = demo(tmp_path / "s")
    first = _command(root)
    assert "codebook_schema" in first and "True" in first  # parsed and checked the first time
    assert _command(root) == "LOADED [] False"  # then read back as parsed: no pydantic model made


def _parse_fresh(monkeypatch) -> None:
    """Make every read below parse its file (no kept parse, nothing held in this process)."""
    from qualkit.io import parsed
    from qualkit.workspace import codebook

    monkeypatch.setattr(parsed, "kept_parse", lambda *a, **k: None)
    codebook._READ_CACHE.clear()


def _lines_by_code(book, lines) -> list:
    return [(lines.by_code.get(id(c)), lines.ref_lines.get(id(c)), c.line) for c in book.codes]


def test_a_kept_codebook_is_the_codebook_its_file_parses_to(tmp_path, monkeypatch):
    from qualkit.workspace import codebook

    root = demo(tmp_path / "s")
    for path in sorted((root / "codebooks").glob("*.yaml")):
        codebook._READ_CACHE.clear()
        parsed_book, problems, parsed_lines = codebook.read_codebook(path)  # parsed, and kept
        assert not problems and (root / ".qualkit" / "cache" / "parsed").is_dir()
        codebook._READ_CACHE.clear()
        kept_book, kept_problems, kept_lines = codebook.read_codebook(path)  # read back
        assert kept_book == parsed_book and not kept_problems
        assert [c.line for c in kept_book.codes] == [c.line for c in parsed_book.codes]
        assert _lines_by_code(kept_book, kept_lines)[:3] and (_lines_by_code(kept_book, kept_lines)
                                                             == _lines_by_code(parsed_book, parsed_lines))
        assert kept_lines.book_keys == parsed_lines.book_keys


def test_a_kept_themes_file_is_the_themes_it_parses_to_warnings_and_lines_too(tmp_path, monkeypatch):
    from qualkit.analysis.themes import load_themes

    root = demo(tmp_path / "s")
    path = root / "themes.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("valence:"))
    path.write_text("".join(lines[:at] + lines[at + 1:]), encoding="utf-8")  # a theme with no valence: a warning
    first = load_themes(path)
    assert list((root / ".qualkit" / "cache" / "parsed").glob("themes-*.json"))
    kept = load_themes(path)
    with monkeypatch.context() as m:
        _parse_fresh(m)
        fresh = load_themes(path, strict=False)
    for result in (first, kept):
        assert [asdict(t) for t in result.themes] == [asdict(t) for t in fresh.themes]  # lines included
        assert result.problems == fresh.problems and [p.kind for p in result.problems] == ["no-valence"]
        assert (result.framework, result.codebook, result.lines, result.path) == (fresh.framework, fresh.codebook,
                                                                                  fresh.lines, fresh.path)


def test_settings_kept_are_the_settings_read_from_the_file(tmp_path, monkeypatch):
    from qualkit.workspace.config import load_config

    root = demo(tmp_path / "s")
    qualkit.Workspace(root)  # keeps the settings
    kept = load_config(root / "qualkit.yaml")
    assert "kept_sections" in kept.__dict__
    with monkeypatch.context() as m:
        m.setattr("qualkit.workspace.config._from_kept", lambda *a: None)
        read = load_config(root / "qualkit.yaml")
    for key in ("agreement", "analysis", "autocode", "nlp"):
        assert getattr(kept, key).model_dump() == getattr(read, key).model_dump()
    assert kept.agreement.unit == read.agreement.unit and kept.autocode.enabled is read.autocode.enabled
    assert kept.nlp.model == "blank" and kept.reflexive is read.reflexive
    for key in ("codebook", "interview_guide", "summaries", "matrices", "report", "exports", "consensus"):
        assert getattr(kept, key) == getattr(read, key)
    with pytest.raises(AttributeError):
        kept.agreement.unit = "sentence"
    import copy
    import pickle

    for section in (copy.deepcopy(kept.nlp), pickle.loads(pickle.dumps(kept.nlp))):  # a copy, or a worker's
        assert section.model_dump() == read.nlp.model_dump()


def test_an_edited_codebook_is_parsed_again_and_a_file_with_a_problem_is_never_kept(tmp_path):
    from qualkit.workspace import codebook

    root = demo(tmp_path / "s")
    path = sorted((root / "codebooks").glob("*.yaml"))[0]
    book, _, _ = codebook.read_codebook(path)
    first = book.codes[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"name: {first.name}", "name: Renamed in an edit", 1), encoding="utf-8")
    codebook._READ_CACHE.clear()
    assert codebook.read_codebook(path)[0].codes[0].name == "Renamed in an edit"
    path.write_text(text.replace(f"id: {first.id}", "id: Not Snake", 1), encoding="utf-8")
    for _ in range(2):
        codebook._READ_CACHE.clear()
        _, problems, _ = codebook.read_codebook(path)
        assert problems  # read with its problems each time, never taken from a kept parse


def test_a_value_json_would_change_is_not_kept(tmp_path):
    from qualkit.io.parsed import keep_parse, kept_parse

    root = demo(tmp_path / "s")
    path = root / "themes.yaml"
    readers = [Path(qualkit.__file__)]
    keep_parse(path, b"x", "probe", readers, {"patterns": [{1: "a"}]})  # a number as a key comes back a string
    assert kept_parse(path, b"x", "probe", readers) is None
    keep_parse(path, b"x", "probe", readers, {"patterns": [{"LOWER": "fax"}]})
    assert kept_parse(path, b"x", "probe", readers) == {"patterns": [{"LOWER": "fax"}]}
    assert kept_parse(path, b"y", "probe", readers) is None  # other bytes: a miss
    outside = tmp_path / "elsewhere.yaml"
    keep_parse(outside, b"x", "probe", readers, {"a": 1})  # not a workspace's file: nothing kept
    assert kept_parse(outside, b"x", "probe", readers) is None


def test_a_date_in_qualkit_yaml_still_leaves_the_core_settings_kept(tmp_path, monkeypatch):
    """A YAML date (``report: {date: 2024-05-01}``) cannot go into JSON: only the sections are left
    out of the cache, not the whole entry (which made every command validate qualkit.yaml again)."""
    import qualkit.workspace.config as config

    root = demo(tmp_path / "s")
    path = root / "qualkit.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "report:\n  date: 2024-05-01\n", encoding="utf-8")
    first = config.load_config(path)
    assert list((root / ".qualkit" / "cache" / "parsed").glob("config-*.json"))
    monkeypatch.setattr(config, "validate", lambda *a, **k: pytest.fail("qualkit.yaml validated again"))
    again = config.load_config(path)
    assert again.project == first.project and again.coders == first.coders


def test_settings_edited_by_hand_in_the_cache_file_are_read_from_qualkit_yaml_instead(tmp_path):
    """A kept section changed in .qualkit/cache/parsed/ (here: agreement emptied) is not trusted: the
    command reads qualkit.yaml instead of failing with an internal error."""
    import json

    root = demo(tmp_path / "s")
    qualkit.Workspace(root)  # keeps the settings
    (cache,) = (root / ".qualkit" / "cache" / "parsed").glob("config-*.json")
    header, body = cache.read_text(encoding="utf-8").split("\n", 1)
    value = json.loads(body)
    value["sections"]["agreement"] = {}
    cache.write_text(header + "\n" + json.dumps(value), encoding="utf-8")
    from qualkit.workspace.config import load_config

    assert load_config(root / "qualkit.yaml").agreement.unit == "turn"
