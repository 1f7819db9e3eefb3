"""qualkit.yaml through one schema: typed sections, every problem with its line, unknown keys as warnings."""
from __future__ import annotations

import pytest

import qualkit
from qualkit.errors import WorkspaceError
from qualkit.workspace.config import AGREEMENT_UNITS, load_config
from qualkit.workspace.scaffold import init


def write_config(tmp_path, text):
    path = tmp_path / "qualkit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_workspace_has_typed_defaults(tmp_path):
    cfg = qualkit.Workspace(init(tmp_path / "ws")).config
    assert cfg.agreement.unit == "turn" and cfg.autocode.enabled is False
    assert cfg.nlp.model == "blank" and cfg.nlp.language == "en"
    assert cfg.codebook is None and cfg.interview_guide is None
    assert (cfg.summaries, cfg.matrices, cfg.report, cfg.exports, cfg.consensus) == ({}, {}, {}, {}, {})
    assert cfg.problems == []


def test_sections_are_read_as_typed_values(tmp_path):
    cfg = load_config(write_config(tmp_path, """\
project: PORT
codebook: port_codes
agreement:
  unit: sentence
autocode:
  enabled: true
  unit: sentence
nlp:
  model: en_core_web_sm
interview_guide:
  - Barriers
  - id: helps
    label: What helps
report:
  title: PORT report
"""))
    assert cfg.codebook == "port_codes" and cfg.agreement.unit == "sentence"
    assert cfg.autocode.enabled is True and cfg.autocode.unit == "sentence" and cfg.autocode.codebook is None
    assert cfg.nlp.model == "en_core_web_sm"
    assert cfg.interview_guide == ["Barriers", {"id": "helps", "label": "What helps"}]
    assert cfg.report == {"title": "PORT report"}


def test_a_blank_agreement_unit_means_turn(tmp_path):
    assert load_config(write_config(tmp_path, "agreement:\n  unit:\n")).agreement.unit == "turn"


def test_every_section_problem_is_a_warning_with_its_line_and_an_error_when_used(tmp_path):
    cfg = load_config(write_config(tmp_path, """\
project: PORT
agreement:
  unit: paragraphs
nlp:
  model: 3
autocode: yes please
"""))
    assert [p.line for p in cfg.problems] == [3, 5, 6]
    assert any(w.startswith("qualkit.yaml:3: 'agreement.unit'") and "paragraph" in w for w in cfg.warnings)
    assert any(w.startswith("qualkit.yaml:5: 'nlp.model'") for w in cfg.warnings)
    with pytest.raises(WorkspaceError) as e:
        _ = cfg.agreement
    assert e.value.line == 3 and str(e.value).startswith(f"{tmp_path / 'qualkit.yaml'}:3: 'agreement.unit'")
    with pytest.raises(WorkspaceError, match="nlp.model"):
        _ = cfg.nlp
    with pytest.raises(WorkspaceError, match="autocode"):
        _ = cfg.autocode
    assert cfg.project == "PORT" and cfg.codebook is None  # the rest of the file still reads


def test_a_bad_agreement_unit_stops_disagreements_as_it_stops_agree(tmp_path):
    root = init(tmp_path / "ws")
    config = root / "qualkit.yaml"
    config.write_text(config.read_text().replace("agreement:\n  unit: turn", "agreement:\n  unit: sentense"))
    from qualkit.analysis.disagreements import default_unit

    ws = qualkit.Workspace(root)
    with pytest.raises(WorkspaceError, match=r"'agreement.unit'.*'sentence'") as e:
        default_unit(ws)
    assert e.value.path == config and e.value.line == config.read_text().splitlines().index("  unit: sentense") + 1


def test_unknown_keys_are_still_only_a_warning(tmp_path):
    cfg = load_config(write_config(tmp_path, "project: PORT\ncoder: [ana]\n"))
    assert cfg.warnings == ["qualkit.yaml:2: unknown setting 'coder' is ignored (did you mean 'coders'?)"]


def test_the_agreement_units_are_the_ones_agree_compares():
    from qualkit.analysis.agree import UNITS

    assert tuple(UNITS) == AGREEMENT_UNITS


def test_the_schema_knows_exactly_the_settings_that_are_not_warned_about():
    from typing import get_args

    from qualkit.workspace.config import KNOWN_KEYS
    from qualkit.workspace.config_schema import AgreementUnit, QualkitYaml

    assert set(QualkitYaml.model_fields) == KNOWN_KEYS
    assert get_args(AgreementUnit) == AGREEMENT_UNITS


def test_a_second_command_takes_the_settings_from_the_cache_and_reads_the_file_only_for_a_section(tmp_path, monkeypatch):
    """Issue 17 (cold ingest): validating qualkit.yaml imports pydantic, about a tenth of a second of every
    command. A workspace's file read once without a problem is remembered in .qualkit/cache/ by its
    content; the next command reads the file only when it asks for a section (ingest never does)."""
    import qualkit.workspace.config as config

    root = init(tmp_path / "ws")
    path = root / "qualkit.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("unit: turn", "unit: sentence") + "colour: blue\n", encoding="utf-8")
    first = load_config(path)
    assert list((root / ".qualkit" / "cache" / "parsed").glob("config-*.json"))
    validate = config.validate
    monkeypatch.setattr(config, "validate", lambda *a, **k: pytest.fail("qualkit.yaml validated again"))
    again = load_config(path)
    for name in ("project", "coders", "framework", "facilitator_roles", "speaker_pattern", "speaker_rules", "warnings"):
        assert getattr(again, name) == getattr(first, name)
    assert any("colour" in w for w in again.warnings)
    monkeypatch.setattr(config, "validate", validate)
    assert again.agreement.unit == "sentence" and again.raw == first.raw and again.problems == []
    path.write_text(path.read_text(encoding="utf-8").replace("unit: sentence", "unit: paragraph"), encoding="utf-8")
    assert load_config(path).agreement.unit == "paragraph"  # an edited file is read again
    path.write_text(path.read_text(encoding="utf-8") + "project: [not, a, name]\n", encoding="utf-8")
    with pytest.raises(WorkspaceError):  # and a broken one still stops the workspace from opening
        load_config(path)
