"""The framework file format as pydantic models, validated through :mod:`qualkit.io.schema` so that every
problem names its file and line (see :mod:`qualkit.frameworks.catalog` for the format itself).

One model per kind of item (:class:`DomainSpec`, :class:`SubdomainSpec`, :class:`ConstructSpec`,
:class:`SubconstructSpec`) says which child lists that kind may hold; :class:`FrameworkSpec` is a whole
file. What depends on other files (labels an ``extends:`` file may leave out, ids unique across a
merged framework, codes) is checked when the framework is built (:mod:`qualkit.frameworks.loading`).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from qualkit.frameworks.model import CHILD_KEYS, CITATION_KEYS, FRAMEWORK_KEYS, ITEM_KEYS, STATUS_WORDS, UNCONFIRMED

__all__ = ["ConstructSpec", "DomainSpec", "FrameworkSpec", "ItemSpec", "SubconstructSpec", "SubdomainSpec"]

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FRAMEWORK_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


def _problem(message: str) -> PydanticCustomError:
    """A problem whose message is shown as it is (pydantic would read braces as placeholders)."""
    return PydanticCustomError("framework", "{message}", {"message": message})


def _fail_at(title: str, loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """A problem at ``loc`` below the value being validated (so its line is the key's, not the item's)."""
    return ValidationError.from_exception_data(title, [InitErrorDetails(type=_problem(message), loc=loc, input=value)])


def _single(value: Any, what: str) -> Any:
    """``value`` unless it is a list or mapping (reported on the line where that value starts)."""
    if isinstance(value, (list, dict)):
        message = f"{what} must be a single value, not a {'list' if isinstance(value, list) else 'mapping'}"
        if value:
            raise _fail_at("value", (0 if isinstance(value, list) else str(next(iter(value))),), message, value)
        raise _problem(message)
    return value


def _nested(exc: ValidationError, prefix: tuple[str | int, ...], title: str) -> ValidationError:
    """The first problem of ``exc`` moved below ``prefix`` (a list index, when the value was an entry)."""
    err = exc.errors()[0]
    return _fail_at(title, (*prefix, *err["loc"]), str(err["ctx"]["message"]), err["input"])


def text_value(value: Any, what: str, required: bool = False) -> str | None:
    """A text field: a single value, numbers and dates as text, blank as None (``required``: an error)."""
    value = _single(value, what)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _problem(f"{what} is empty")
        return None
    if isinstance(value, bool):
        raise _problem(f"{what} must be text")
    return " ".join(str(value).split()) if what.endswith(("definition", "example")) else str(value).strip()


def _mapping_keys(data: Any, what: str, allowed: Sequence[str], title: str) -> dict[str, Any]:
    """``data`` as a mapping whose keys are all ``allowed`` (an unknown key is reported on its own line)."""
    if not isinstance(data, dict):
        raise _problem(f"{what} must be a mapping (key: value)")
    for key in data:
        if str(key) not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
            raise _fail_at(title, (str(key),), f"unknown key '{key}' in {what}{hint}", data[key])
    return data


def _children(value: Any, key: str, kind: str) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _problem(f"'{key}' must be a list of {kind}s (each starting with '- id: ...')")
    return value


class ItemSpec(BaseModel):
    """One domain, sub-domain, construct or sub-construct as written in a file (before merging)."""

    KIND: ClassVar[str] = "construct"

    id: str | None = None
    label: str | None = None
    definition: str | None = None
    status: str | None = None
    verified: bool | None = None
    aliases: list[str] = []
    code: str | None = None
    source: str | None = None
    notes: str | None = None
    example: str | None = None
    where: str | None = None
    inherited_from: str | None = None
    equity_domain: bool | None = None
    labels: dict[str, str] = {}

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        data = _mapping_keys(data, f"a {cls.KIND}", ITEM_KEYS + tuple(CHILD_KEYS[cls.KIND]), cls.__name__)
        if "id" not in data:
            label = data.get("label")
            label = str(label).strip() if isinstance(label, (str, int, float)) and not isinstance(label, bool) else None
            raise _problem(f"{cls.KIND} {('labelled ' + repr(label) + ' ') if label else ''}has no 'id'")
        return data

    @field_validator("equity_domain", mode="before")
    @classmethod
    def _equity(cls, value: Any) -> bool:
        value = _single(value, "'equity_domain'")
        if not isinstance(value, bool):
            raise _problem("'equity_domain' must be true or false")
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> dict[str, str]:
        """``labels: {"2019": Societal influence}``: the item's label in another version of the framework."""
        if not isinstance(value, dict):
            raise _problem("'labels' must be a mapping of version to label, e.g. {\"2019\": Societal influence}")
        out = {}
        for version, label in value.items():
            text = text_value(label, f"the label for version {version}")
            if text:
                out[str(version).strip()] = text
        return out

    @field_validator("id", "label", "definition", "code", "source", "notes", "example", "where", "inherited_from",
                     mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str | None:
        key = info.field_name or ""
        what = key if key in ("definition", "example") else f"the {cls.KIND}'s {key}"
        text = text_value(value, what, required=key == "id")
        if key == "id" and text is not None and not _ID_RE.match(text):
            suggestion = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
            raise _problem(f"id '{text}' must be snake_case (lower-case letters, digits and _), e.g. '{suggestion}'")
        return text

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> str | None:
        text = text_value(value, "'status'")
        if text is not None and text.lower() not in STATUS_WORDS:
            close = difflib.get_close_matches(text.lower(), STATUS_WORDS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise _problem(f"unknown status '{text}' (use one of: {', '.join(STATUS_WORDS)}){hint}")
        return text.lower() if text else None

    @field_validator("verified", mode="before")
    @classmethod
    def _verified(cls, value: Any, info: ValidationInfo) -> bool:
        value = _single(value, "'verified'")
        if not isinstance(value, bool):
            raise _problem("'verified' must be true or false")
        status = info.data.get("status")
        if value is True and status in UNCONFIRMED and info.data.get("id"):
            raise _problem(f"'{info.data['id']}' says verified: true but its status is {status}")
        return value

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> list[str]:
        if isinstance(value, dict):
            raise _problem("'aliases' must be a list of names")
        values = value if isinstance(value, list) else [value]
        out = []
        for i, v in enumerate(values):
            try:
                text = text_value(v, "an alias")
            except ValidationError as exc:
                raise _nested(exc, (i,), cls.__name__) from None
            except PydanticCustomError as exc:
                raise _fail_at(cls.__name__, (i,), exc.message(), v) from None
            if text:
                out.append(text)
        return out


class SubconstructSpec(ItemSpec):
    KIND: ClassVar[str] = "subconstruct"


class ConstructSpec(ItemSpec):
    KIND: ClassVar[str] = "construct"
    subconstructs: list[SubconstructSpec] = []

    @field_validator("subconstructs", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        return _children(value, info.field_name or "", "subconstruct")


class SubdomainSpec(ItemSpec):
    KIND: ClassVar[str] = "subdomain"
    constructs: list[ConstructSpec] = []

    @field_validator("constructs", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        return _children(value, info.field_name or "", "construct")


class DomainSpec(ItemSpec):
    KIND: ClassVar[str] = "domain"
    subdomains: list[SubdomainSpec] = []
    constructs: list[ConstructSpec] = []

    @field_validator("subdomains", "constructs", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        key = info.field_name or ""
        return _children(value, key, CHILD_KEYS["domain"][key])


def _citation(entry: Any) -> dict[str, Any] | None:
    """One citation: text (``{"text": ...}``), or a mapping of CITATION_KEYS with numbers and lists kept."""
    if not isinstance(entry, (dict, list)):
        text = text_value(entry, "a citation")
        return {"text": text} if text else None
    fields = _mapping_keys(entry, "a citation", CITATION_KEYS, "citation")
    return {str(k): v if isinstance(v, (int, list)) and not isinstance(v, bool) else (None if v is None else str(v).strip())
            for k, v in fields.items()}


class FrameworkSpec(BaseModel):
    """A whole framework file: metadata, citations and the domains (with everything below them)."""

    id: str | None = None
    name: str | None = None
    version: str | None = None
    citation: list[dict[str, Any]] = []
    description: str | None = None
    url: str | None = None
    notes: str | None = None
    extends: str | None = None
    domains: list[DomainSpec] = []

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        return _mapping_keys(data, "the framework file", FRAMEWORK_KEYS, cls.__name__)

    @field_validator("id", "name", "version", "description", "url", "notes", "extends", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str | None:
        key = info.field_name or ""
        text = text_value(value, f"'{key}'", required=key == "id")
        if key == "id" and text is not None and not _FRAMEWORK_ID_RE.match(text):
            raise _problem(f"framework id '{text}' must be lower-case letters, digits, _ or -")
        return text

    @field_validator("citation", mode="before")
    @classmethod
    def _citations(cls, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):  # a single citation: its problems are the field's own
            found = _citation(value)
            return [found] if found is not None else []
        out = []
        for i, entry in enumerate(value):
            try:
                found = _citation(entry)
            except ValidationError as exc:
                raise _nested(exc, (i,), "citation") from None
            except PydanticCustomError as exc:
                raise _fail_at("citation", (i,), exc.message(), entry) from None
            if found is not None:
                out.append(found)
        return out

    @field_validator("domains", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _children(value, "domains", "domain")
