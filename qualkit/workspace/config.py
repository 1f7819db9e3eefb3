"""qualkit.yaml: the workspace's settings, validated by one schema, with defaults and line-numbered errors.

:class:`~qualkit.workspace.config_schema.QualkitYaml` is the schema (pydantic, through :mod:`qualkit.io.schema`); :class:`Config` exposes
its typed sections (``config.agreement.unit``, ``config.nlp.model``, ...). A problem in the settings
every command needs (project, coders, framework, facilitator_roles, speakers) stops the workspace
from opening; a problem in one section is a warning when the workspace opens and an error, naming
the file and line, when that section is used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import WorkspaceError
from qualkit.io.schema import SchemaProblem, validate
from qualkit.io.yamlfile import key_lines, load_yaml_file

if TYPE_CHECKING:  # the schema imports pydantic, which is slow to import: only when a file is read
    from qualkit.workspace.config_schema import (
        AgreementSettings,
        AnalysisSettings,
        AutocodeSettings,
        NlpSettings,
        QualkitYaml,
    )

__all__ = ["AGREEMENT_UNITS", "CONFIG_NAME", "DEFAULT_CONFIG_TEXT", "KNOWN_KEYS", "Config", "KeptSection", "load_config"]

CONFIG_NAME = "qualkit.yaml"
# The unit kinds `qualkit agree` compares (qualkit.coding.units.UNIT_KINDS and "character").
AGREEMENT_UNITS = ("turn", "sentence", "paragraph", "question", "document", "character")

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
  # Per-file rules, first match wins: {files: GLOB, pattern: REGEX} or {files: GLOB, convention: NAME}
  # (word-transcribe, f4, otter, zoom-vtt, webvtt-voice, asr-brackets, markdown-heading, colon, auto).
  # rules:
  #   - {files: "interviews_de/*.txt", convention: f4}
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


# Settings qualkit reads; anything else in qualkit.yaml gets a warning (a typo must not pass silently).
KNOWN_KEYS = {"project", "coders", "framework", "facilitator_roles", "speakers", "agreement", "analysis", "codebook",
              "interview_guide", "autocode", "summaries", "matrices", "report", "exports", "consensus", "nlp"}
# Settings every command needs: a problem here stops the workspace from opening.
_CORE = {
    "project": "'project' must be a name",
    "coders": "'coders' must be a list of coder names",
    "framework": "'framework' must be a framework id such as heif",
    "facilitator_roles": "'facilitator_roles' must be a list of role names",
    "speakers": "'speakers' must be a mapping (pattern: ...)",
}


@dataclass
class Config:
    """Parsed qualkit.yaml: the core settings as fields, each other section as a typed property.

    ``raw`` is the file as read (for tools that copy it); ``problems`` every schema problem found.
    """

    path: Path
    project: str = "Untitled study"
    coders: list[str] = field(default_factory=list)
    framework: str | None = "heif"
    framework_version: str | None = None  # `framework: heif@2019`: print that version's labels
    facilitator_roles: list[str] = field(default_factory=lambda: ["interviewer", "moderator", "facilitator", "note-taker"])
    speaker_pattern: str | None = None
    # speakers.rules: (files glob, regular expression or None to learn the file's convention, what it is)
    speaker_rules: list[tuple[str, str | None, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[SchemaProblem] = field(default_factory=list)
    settings: QualkitYaml | None = field(default_factory=lambda: None)  # (no class attribute: see __getattr__)

    def __getattr__(self, name: str) -> Any:
        """``raw``, ``settings`` and ``problems`` of settings taken from the cache (:func:`load_config`):
        the file is read and validated when one of them is first asked for (a section, a tool copying it)."""
        if name not in _DEFERRED or "path" not in self.__dict__:
            raise AttributeError(name)
        full = _read_config(self.path)
        for key in _DEFERRED:
            self.__dict__[key] = full.__dict__[key]
        return self.__dict__[name]

    def _section(self, key: str) -> Any:
        kept = self.__dict__.get("kept_sections")
        if kept is not None and key in kept:
            return kept[key]
        bad = next((p for p in self.problems if _top(p.field) == key), None)
        if bad is not None:
            raise WorkspaceError(_message(bad), bad.path, bad.line)
        return getattr(self.settings, key, None)

    @property
    def codebook(self) -> str | None:
        """The default codebook id (``codebook:``), or None."""
        value: str | None = self._section("codebook")
        return value

    def _kept(self, key: str) -> Any:
        """Section ``key`` as the cache kept it (:func:`load_config`), without reading the file; None if not kept."""
        kept = self.__dict__.get("kept_sections")
        if kept is None or key not in kept:
            return None
        return KeptSection(kept[key]) if key in _TYPED else kept[key]

    @property
    def agreement(self) -> AgreementSettings:
        """``agreement:`` (``unit`` is one of :data:`AGREEMENT_UNITS`)."""
        kept: AgreementSettings | None = self._kept("agreement")
        if kept is not None:
            return kept
        from qualkit.workspace.config_schema import AgreementSettings

        return self._section("agreement") or AgreementSettings()

    @property
    def analysis(self) -> AnalysisSettings:
        """``analysis:`` (``approach``: reflexive, codebook or coding-reliability, the default)."""
        kept: AnalysisSettings | None = self._kept("analysis")
        if kept is not None:
            return kept
        from qualkit.workspace.config_schema import AnalysisSettings

        return self._section("analysis") or AnalysisSettings()

    @property
    def reflexive(self) -> bool:
        """Reflexive thematic analysis (Braun & Clarke 2019): no agreement statistics anywhere."""
        return self.analysis.approach == "reflexive"

    @property
    def autocode(self) -> AutocodeSettings:
        """``autocode:`` (``enabled``, ``codebook``, ``unit``)."""
        kept: AutocodeSettings | None = self._kept("autocode")
        if kept is not None:
            return kept
        from qualkit.workspace.config_schema import AutocodeSettings

        return self._section("autocode") or AutocodeSettings()

    @property
    def nlp(self) -> NlpSettings:
        """``nlp:`` (``model``, ``language``)."""
        kept: NlpSettings | None = self._kept("nlp")
        if kept is not None:
            return kept
        from qualkit.workspace.config_schema import NlpSettings

        return self._section("nlp") or NlpSettings()

    @property
    def interview_guide(self) -> list[Any] | None:
        """``interview_guide:`` domains as written (checked in :mod:`qualkit.analysis.summaries`), or None."""
        value: list[Any] | None = self._section("interview_guide")
        return value

    @property
    def summaries(self) -> dict[str, Any]:
        """``summaries:`` settings (a mapping; empty when absent)."""
        return self._section("summaries") or {}

    @property
    def matrices(self) -> dict[str, Any]:
        """``matrices:`` settings (a mapping; empty when absent)."""
        return self._section("matrices") or {}

    @property
    def report(self) -> dict[str, Any]:
        """``report:`` settings (a mapping; empty when absent)."""
        return self._section("report") or {}

    @property
    def exports(self) -> dict[str, Any]:
        """``exports:`` settings (a mapping; empty when absent)."""
        return self._section("exports") or {}

    @property
    def consensus(self) -> dict[str, Any]:
        """``consensus:`` settings (a mapping; empty when absent)."""
        return self._section("consensus") or {}


def _top(field_name: str) -> str:
    return re.split(r"[.\[]", field_name, maxsplit=1)[0]


def _message(problem: SchemaProblem) -> str:
    """Our own validators' messages as they are; pydantic's after the setting they are about."""
    if problem.message.startswith("Value error, "):
        return problem.message.removeprefix("Value error, ")
    return f"'{problem.field}': {problem.message}" if problem.field else problem.message


def _core_message(problem: SchemaProblem) -> str:
    """What a wrong core setting must look like; inside ``speakers.rules``, what a rule looks like and
    which part of it is wrong (the rule is a mapping inside a mapping: "'speakers' must be a mapping" misled)."""
    if problem.field.startswith("speakers.rules"):
        return ("'speakers.rules' must be a list of {files: GLOB, pattern: REGEX} or {files: GLOB, convention: NAME}"
                f" ({problem.field}: {problem.message.lower()})")
    return _CORE[_top(problem.field)]


def _unknown_speaker_keys(data: dict[str, Any], node: Any, path: Path) -> list[str]:
    """A warning for each key of ``speakers:`` qualkit does not read (a misspelt ``pattern`` is otherwise ignored)."""
    import difflib

    import yaml

    speakers = data.get("speakers")
    if not isinstance(speakers, dict) or not isinstance(node, yaml.MappingNode):
        return []
    sub = next((v for k, v in node.value if str(k.value) == "speakers"), None)
    lines = key_lines(sub)
    known = ("pattern", "rules")
    out = []
    for key in speakers:
        if str(key) not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            out.append(f"{path.name}:{lines.get(str(key), '?')}: unknown setting 'speakers.{key}' is ignored{hint}")
    return out


def load_config(path: str | Path) -> Config:
    """Read qualkit.yaml; a syntax or type error names the file and line.

    A workspace's file that was read without a problem is kept in .qualkit/cache/parsed/ by its content
    and qualkit's own schema code (:mod:`qualkit.io.parsed`): the next command takes the settings every
    command needs, and each section, from there, and reads the file with PyYAML and pydantic only when
    something else is asked for (``raw``, ``problems``; a tenth of a second, most of `qualkit ingest` on a
    study that is already read)."""
    path = Path(path)
    try:
        raw: bytes | None = path.read_bytes()
    except OSError:  # (the read below says what is wrong)
        raw = None
    kept = _from_kept(path, raw) if raw is not None else None
    if kept is not None:
        return kept
    cfg = _read_config(path)
    if raw is not None and not cfg.problems:
        _keep(path, raw, cfg)
    return cfg


# What a Config taken from the cache reads from the file when first asked for (Config.__getattr__).
_DEFERRED = ("raw", "settings", "problems")
# The core settings (Config's fields) the cache keeps, as JSON.
_KEPT = ("project", "coders", "framework", "framework_version", "facilitator_roles", "speaker_pattern", "speaker_rules", "warnings")


def _readers() -> list[Path]:
    """The source files whose code decides what a qualkit.yaml's settings are (the key of its kept parse)."""
    here = Path(__file__).parent
    return [Path(__file__), here / "config_schema.py", here.parent / "io" / "schema.py", here.parent / "io" / "yamlfile.py",
            here.parent / "transcripts" / "conventions.py"]


def _from_kept(path: Path, raw: bytes) -> Config | None:
    """The settings :func:`_keep` kept for these bytes (no PyYAML, no pydantic), or None."""
    from qualkit.io.parsed import kept_parse

    value = kept_parse(path, raw, "config", _readers())
    if value is None:
        return None
    try:
        kept = value["config"]
        cfg = Config(path=path, **{k: kept[k] for k in _KEPT})
        cfg.speaker_rules = [(files, pattern, what) for files, pattern, what in kept["speaker_rules"]]
        sections = value.get("sections")
    except (KeyError, TypeError, ValueError, AttributeError):  # a damaged entry is a miss
        return None
    for name in _DEFERRED:  # read from the file when asked for (__getattr__)
        del cfg.__dict__[name]
    if isinstance(sections, dict):
        cfg.__dict__["kept_sections"] = sections
    return cfg


def _keep(path: Path, raw: bytes, cfg: Config) -> None:
    """Keep ``cfg``'s core settings and its sections for the next command (:mod:`qualkit.io.parsed`)."""
    from qualkit.io.parsed import keep_parse, plain_json

    core = {k: getattr(cfg, k) for k in _KEPT}
    value: dict[str, Any] = {"config": {**core, "speaker_rules": [list(rule) for rule in cfg.speaker_rules]}}
    sections = _sections(cfg)
    if plain_json(sections):  # sections JSON cannot hold (a YAML date) are left out, the core settings kept all the same
        value["sections"] = sections
    keep_parse(path, raw, "config", _readers(), value)


# The sections read as pydantic models (Config's typed properties); the others are plain YAML values.
_TYPED = ("agreement", "analysis", "autocode", "nlp")
_PLAIN = ("codebook", "interview_guide", "summaries", "matrices", "report", "exports", "consensus")


def _sections(cfg: Config) -> dict[str, Any]:
    """Each section a command reads, as its property gives it (a typed one as its fields, defaults filled in)."""
    return {**{key: getattr(cfg, key).model_dump() for key in _TYPED}, **{key: cfg._section(key) for key in _PLAIN}}


class KeptSection:
    """A typed section of settings taken from the cache (:func:`load_config`): its fields as read-only
    attributes, as the pydantic model read from the file has them, without importing pydantic (~0.03 s)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_fields":  # not a setting (copy and pickle ask for these)
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read-only ({name})")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return KeptSection, (dict(self._fields),)

    def __repr__(self) -> str:
        return f"KeptSection({self._fields!r})"

    def model_dump(self) -> dict[str, Any]:
        """The fields, as pydantic's ``model_dump`` gives them."""
        return dict(self._fields)


def _read_config(path: Path) -> Config:
    """qualkit.yaml read and validated (:func:`load_config` without its cache)."""
    data, node = load_yaml_file(path, WorkspaceError)
    lines = key_lines(node)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WorkspaceError("must be a mapping of settings (key: value)", path, 1)
    from qualkit.workspace.config_schema import QualkitYaml

    settings, problems = validate(QualkitYaml, data, node, path)
    problems.sort(key=lambda p: p.line or 0)
    for p in problems:
        if _top(p.field) in _CORE:
            own = p.message.startswith("Value error, ")
            raise WorkspaceError(_message(p) if own else _core_message(p), p.path, p.line)
    if settings is None:  # only sections are wrong: read the file without them, keep their problems
        bad = {_top(p.field) for p in problems}
        settings, _ = validate(QualkitYaml, {k: v for k, v in data.items() if str(k) not in bad}, node, path)
        assert settings is not None
    cfg = Config(path=path, raw=data, problems=problems, settings=settings)
    import difflib

    for key in data:
        if str(key) not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            cfg.warnings.append(f"{path.name}:{lines.get(str(key), '?')}: unknown setting '{key}' is ignored{hint}")
    cfg.warnings += _unknown_speaker_keys(data, node, path)
    cfg.warnings += [f"{path.name}:{p.line or '?'}: {_message(p)}" for p in problems]
    if settings.project is not None:
        cfg.project = str(settings.project)
    if settings.coders is not None:
        cfg.coders = [str(c) for c in settings.coders]
    if "framework" in data:
        cfg.framework = settings.framework
        if cfg.framework and "@" in cfg.framework:
            cfg.framework, _, version = cfg.framework.partition("@")
            cfg.framework_version = version.strip() or None
    if settings.facilitator_roles is not None:
        cfg.facilitator_roles = [str(r).strip().lower() for r in settings.facilitator_roles]
    if settings.speakers is not None:
        cfg.speaker_pattern = settings.speakers.pattern
        from qualkit.transcripts.conventions import convention_pattern

        for rule in settings.speakers.rules or []:
            if rule.convention is not None:
                cfg.speaker_rules.append((rule.files, convention_pattern(rule.convention), f"convention {rule.convention}"))
            else:
                cfg.speaker_rules.append((rule.files, rule.pattern, "pattern"))
    return cfg
