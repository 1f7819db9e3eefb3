"""The schema of qualkit.yaml (pydantic models), read by :func:`qualkit.workspace.config.load_config`.

Kept apart from :mod:`qualkit.workspace.config` so that importing a Workspace does not import
pydantic; the models are loaded when a qualkit.yaml is read.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = ["AgreementSettings", "AnalysisSettings", "AutocodeSettings", "NlpSettings", "QualkitYaml", "SpeakerRule",
           "SpeakerSettings"]

# The same units as qualkit.workspace.config.AGREEMENT_UNITS (a test keeps them equal).
AgreementUnit = Literal["turn", "sentence", "paragraph", "question", "document", "character"]


class _Section(BaseModel):
    """A mapping section of qualkit.yaml; keys qualkit does not read inside it are kept, not refused."""

    model_config = ConfigDict(extra="allow", frozen=True)


def _check_pattern(value: Any, where: str) -> Any:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"'{where}' must be a regular expression string")
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"'{where}' is not a valid regular expression: {exc}") from None
    if "speaker" not in compiled.groupindex:
        raise ValueError(f"'{where}' needs a named group (?P<speaker>...)")
    return value


class SpeakerRule(BaseModel):
    """One entry of ``speakers.rules``: the files it covers (a glob) and their ``pattern`` or named
    ``convention`` (see :mod:`qualkit.transcripts.conventions`); the first rule that matches wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: str
    pattern: str | None = None
    convention: str | None = None

    @field_validator("pattern", mode="before")
    @classmethod
    def _pattern(cls, value: Any) -> Any:
        return _check_pattern(value, "speakers.rules pattern")

    @field_validator("convention", mode="before")
    @classmethod
    def _convention(cls, value: Any) -> Any:
        from qualkit.transcripts.conventions import AUTO, CONVENTIONS

        if value in (None, ""):
            return None
        if value != AUTO and value not in CONVENTIONS:
            raise ValueError(f"unknown speaker convention {value!r} (known: {', '.join([AUTO, *CONVENTIONS])})")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> SpeakerRule:
        if (self.pattern is None) == (self.convention is None):
            raise ValueError(f"speakers rule for {self.files!r} needs exactly one of 'pattern' or 'convention'")
        return self


class SpeakerSettings(_Section):
    """``speakers:``: the regular expression that alone decides which lines start a turn, and
    per-file ``rules`` (first match wins) that override it."""

    pattern: str | None = None
    rules: list[SpeakerRule] | None = None

    @field_validator("pattern", mode="before")
    @classmethod
    def _pattern(cls, value: Any) -> Any:
        return _check_pattern(value, "speakers.pattern")


class AgreementSettings(_Section):
    """``agreement:``: the unit compared when none is named (turn unless set)."""

    unit: AgreementUnit = "turn"

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        return value or "turn"


class AnalysisSettings(_Section):
    """``analysis:``: the approach. ``reflexive`` (Braun & Clarke 2019, 2021: reflexive thematic analysis
    rejects inter-rater reliability) skips agreement statistics and reports the consensus discussion;
    ``codebook`` and ``coding-reliability`` (today's default) compute them."""

    approach: Literal["reflexive", "codebook", "coding-reliability"] = "coding-reliability"

    @field_validator("approach", mode="before")
    @classmethod
    def _approach(cls, value: Any) -> Any:
        if value in (None, ""):
            return "coding-reliability"
        if str(value).strip().lower() not in ("reflexive", "codebook", "coding-reliability"):
            raise ValueError("'analysis.approach' must be reflexive, codebook or coding-reliability")
        return str(value).strip().lower()


class AutocodeSettings(_Section):
    """``autocode:``: whether `qualkit run` makes suggestions, from which codebook, on which unit."""

    enabled: bool = False
    codebook: str | None = None
    unit: str = "turn"

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        return value or "turn"


class NlpSettings(_Section):
    """``nlp:``: the spaCy pipeline (``blank``, an installed package or a folder) and its language."""

    model: str = "blank"
    language: str = "en"

    @field_validator("model", "language", mode="before")
    @classmethod
    def _blank(cls, value: Any, info: Any) -> Any:
        return value if value else {"model": "blank", "language": "en"}[info.field_name]


class QualkitYaml(BaseModel):
    """The schema of qualkit.yaml: every setting qualkit reads, with its type."""

    model_config = ConfigDict(extra="allow")

    project: str | int | float | None = None
    coders: list[Any] | None = None
    framework: str | None = "heif"
    facilitator_roles: list[Any] | None = None
    speakers: SpeakerSettings | None = None
    codebook: str | None = None
    agreement: AgreementSettings | None = None
    analysis: AnalysisSettings | None = None
    autocode: AutocodeSettings | None = None
    nlp: NlpSettings | None = None
    interview_guide: list[Any] | None = None  # each domain is checked by qualkit.analysis.summaries
    summaries: dict[str, Any] | None = None
    matrices: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    exports: dict[str, Any] | None = None
    consensus: dict[str, Any] | None = None
