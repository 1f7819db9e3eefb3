"""What .qualkit/cache/ keeps of a codebook, themes.yaml or qualkit.yaml is a copy, never the source: a kept
entry edited by hand (or mangled by a git merge), cut short or not JSON at all is read as a miss, and the
command shows what the file itself says, with no internal error. Each kept value carries a fingerprint of
itself (qualkit.io.parsed), so the check is the same for every file qualkit keeps."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qualkit.workspace.scaffold import demo


def _qualkit(root: Path, *args: str) -> str:
    """`qualkit ARGS` run in ``root`` as a user runs it (a new process: nothing held from the last command)."""
    done = subprocess.run([sys.executable, "-m", "qualkit.cli", *args], cwd=root, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _kept(root: Path, kind: str, which: Callable[[Any], bool] = lambda value: True) -> Path:
    found = [entry for entry in sorted((root / ".qualkit" / "cache" / "parsed").glob(f"{kind}-*.json"))
             if which(json.loads(entry.read_text(encoding="utf-8").split("\n", 1)[1]))]
    assert len(found) == 1, found
    return found[0]


def _edit_by_hand(entry: Path, edit: Callable[[Any], None]) -> None:
    """Change the kept value as someone editing the JSON would: valid JSON, the rest of the file left as it was."""
    header, body = entry.read_text(encoding="utf-8").split("\n", 1)
    value = json.loads(body)
    edit(value)
    entry.write_text(header + "\n" + json.dumps(value), encoding="utf-8")


def _kept_value(entry: Path) -> Any:
    return json.loads(entry.read_text(encoding="utf-8").split("\n", 1)[1])


def test_a_codebook_edited_in_the_cache_shows_as_its_file_says(tmp_path):
    root = demo(tmp_path / "s")
    shown = _qualkit(root, "codebook", "show", "port_inductive")
    entry = _kept(root, "codebook", lambda value: value["id"] == "port_inductive")

    def rename(value: Any) -> None:
        value["codes"][0]["name"] = "Renamed in the cache"

    _edit_by_hand(entry, rename)
    again = _qualkit(root, "codebook", "show", "port_inductive")
    assert again == shown and "Renamed in the cache" not in again
    assert _kept_value(entry)["codes"][0]["name"] != "Renamed in the cache"  # kept again, from the file


def test_a_theme_edited_in_the_cache_shows_as_themes_yaml_says(tmp_path):
    root = demo(tmp_path / "s")
    shown = _qualkit(root, "themes", "show")
    entry = _kept(root, "themes")

    def rename(value: Any) -> None:
        value["themes"][0]["name"] = "Renamed in the cache"
        value["themes"][0]["codes"] = ["stigma"]

    _edit_by_hand(entry, rename)
    again = _qualkit(root, "themes", "show")
    assert again == shown and "Renamed in the cache" not in again


def test_a_setting_edited_in_the_cache_is_read_as_qualkit_yaml_says(tmp_path):
    root = demo(tmp_path / "s")
    assert "unit: turn" in _qualkit(root, "agree")
    entry = _kept(root, "config")

    def change(value: Any) -> None:
        value["sections"]["agreement"]["unit"] = "sentence"
        value["config"]["coders"] = ["ana"]

    _edit_by_hand(entry, change)
    again = _qualkit(root, "agree")
    assert "Coders ana, ben; unit: turn;" in again and "sentence" not in again


def _reads(root: Path) -> tuple[Any, ...]:
    """The sample's codebooks, themes and settings as this process reads them (its own copies forgotten)."""
    from dataclasses import asdict

    from qualkit.analysis.themes import load_themes
    from qualkit.workspace import codebook
    from qualkit.workspace.config import load_config

    codebook._READ_CACHE.clear()
    books = [codebook.read_codebook(path)[0] for path in sorted((root / "codebooks").glob("*.yaml"))]
    themes = load_themes(root / "themes.yaml")
    cfg = load_config(root / "qualkit.yaml")
    return (books, [asdict(t) for t in themes.themes], themes.lines, cfg.project, cfg.coders, cfg.speaker_rules,
            cfg.agreement.model_dump(), cfg.nlp.model_dump(), cfg.interview_guide)


def _truncated(text: str) -> str:
    return text[: len(text) * 2 // 3]


def _merge_conflict(text: str) -> str:
    header, body = text.split("\n", 1)
    return f"<<<<<<< HEAD\n{header}\n=======\n{header}\n>>>>>>> theirs\n{body}"


def _session_7_layout(text: str) -> str:  # one JSON object, no fingerprint: what the cache held before
    header, body = text.split("\n", 1)
    return json.dumps({"key": json.loads(header)["key"], "value": json.loads(body)})


@pytest.mark.parametrize("damage", [_truncated, lambda text: "{not json", lambda text: "", lambda text: "\n\n",
                                    _merge_conflict, _session_7_layout])
def test_a_damaged_cache_file_is_read_again_from_the_files(tmp_path, damage):
    root = demo(tmp_path / "s")
    fresh = _reads(root)  # parsed, and kept
    entries = sorted((root / ".qualkit" / "cache" / "parsed").glob("*.json"))
    assert {entry.name.split("-")[0] for entry in entries} == {"codebook", "themes", "config"}
    for entry in entries:
        entry.write_text(damage(entry.read_text(encoding="utf-8")), encoding="utf-8")
    assert _reads(root) == fresh
    assert all(_kept_value(entry) for entry in entries)  # each kept again as it should be, once
    assert _reads(root) == fresh


def test_a_keyed_file_gives_back_only_the_value_it_was_given(tmp_path):
    from qualkit.io.parsed import read_keyed, write_keyed

    file = tmp_path / "kept.json"
    write_keyed(file, "k1", {"a": [1, "é"]})
    assert read_keyed(file, "k1") == {"a": [1, "é"]} and read_keyed(file, "k2") is None
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("[1,", "[2,"), encoding="utf-8")  # the value edited, the fingerprint not
    assert read_keyed(file, "k1") is None
    file.write_text(text[:-1], encoding="utf-8")
    assert read_keyed(file, "k1") is None
    file.write_text(text, encoding="utf-8")
    assert read_keyed(file, "k1") == {"a": [1, "é"]}
