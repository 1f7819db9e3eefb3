"""qualkit.yaml: the workspace's settings, with defaults and line-numbered errors."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import WorkspaceError
from qualkit.io.yamlfile import key_lines, load_yaml_file

CONFIG_NAME = "qualkit.yaml"
# Settings qualkit reads; anything else in qualkit.yaml gets a warning (a typo must not pass silently).
KNOWN_KEYS = {"project", "coders", "framework", "facilitator_roles", "speakers", "agreement", "codebook",
              "interview_guide", "autocode", "summaries", "matrices", "report", "exports", "consensus", "nlp"}

DEFAULT_CONFIG_TEXT = """\
# qualkit workspace settings. Paths are relative to this file.
project: My study
# Coders whose files in codings/ are compared (codings/<coder>.csv).
coders: []
# Default codebook for coding, autocode and new inductive codes (codebooks/<id>.yaml).
# codebook: my_codebook
# Framework the themes are mapped onto (built-in: heif, cfir2, cfir2009, iparihs, reaim, epis).
framework: heif
# Participant roles that belong to the research team; their turns are left out of agreement and matrices.
facilitator_roles: [interviewer, moderator, facilitator, note-taker]
speakers:
  # A regular expression with a (?P<speaker>...) group (and optionally (?P<timestamp>...)) that
  # alone decides which lines of a .txt/.md transcript start a turn. Leave empty to let qualkit
  # learn each file's convention.
  pattern:
agreement:
  unit: turn
# Auto-coding suggestions (codings/auto.csv, for review): set enabled: true to run them in `qualkit run`.
autocode:
  enabled: false
nlp:
  # spaCy pipeline for autocode and search: blank (rule-based, same results on every machine),
  # an installed trained pipeline such as en_core_web_sm, or a path to a saved pipeline folder.
  model: blank
"""


@dataclass
class Config:
    """Parsed qualkit.yaml; unknown keys are kept in ``raw`` for later steps."""

    path: Path
    project: str = "Untitled study"
    coders: list[str] = field(default_factory=list)
    framework: str | None = "heif"
    facilitator_roles: list[str] = field(default_factory=lambda: ["interviewer", "moderator", "facilitator", "note-taker"])
    speaker_pattern: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_config(path: str | Path) -> Config:
    """Read qualkit.yaml; a syntax or type error names the file and line."""
    path = Path(path)
    data, node = load_yaml_file(path, WorkspaceError)
    lines = key_lines(node)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WorkspaceError("must be a mapping of settings (key: value)", path, 1)

    def expect(key: str, kind: type | tuple[type, ...], what: str):
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            raise WorkspaceError(f"'{key}' must be {what}", path, lines.get(key))
        return value

    cfg = Config(path=path, raw=data)
    import difflib

    for key in data:
        if str(key) not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            cfg.warnings.append(f"{path.name}:{lines.get(str(key), '?')}: unknown setting '{key}' is ignored{hint}")
    if (v := expect("project", (str, int, float), "a name")) is not None:
        cfg.project = str(v)
    if (v := expect("coders", list, "a list of coder names")) is not None:
        cfg.coders = [str(c) for c in v]
    if "framework" in data:
        v = expect("framework", str, "a framework id such as heif")
        cfg.framework = v
    if (v := expect("facilitator_roles", list, "a list of role names")) is not None:
        cfg.facilitator_roles = [str(r).strip().lower() for r in v]
    speakers = expect("speakers", dict, "a mapping (pattern: ...)") or {}
    for k, v in (node.value if node is not None and isinstance(node.value, list) else []):
        if getattr(k, "value", None) == "speakers":
            lines["speakers"] = key_lines(v).get("pattern", lines.get("speakers"))
    pattern = speakers.get("pattern")
    if pattern not in (None, ""):
        if not isinstance(pattern, str):
            raise WorkspaceError("'speakers.pattern' must be a regular expression string", path, lines.get("speakers"))
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise WorkspaceError(f"'speakers.pattern' is not a valid regular expression: {exc}", path, lines.get("speakers")) from None
        if "speaker" not in compiled.groupindex:
            raise WorkspaceError("'speakers.pattern' needs a named group (?P<speaker>...)", path, lines.get("speakers"))
        cfg.speaker_pattern = pattern
    return cfg
