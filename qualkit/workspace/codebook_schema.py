"""The schema of a codebook YAML file (pydantic), checked through :mod:`qualkit.io.schema`.

One schema serves both readers: `qualkit codebook validate` reports every problem it finds, and
:func:`~qualkit.workspace.codebook.load_codebook` raises the first one. Every message names the
field itself ("origin 'abductive' must be deductive or inductive"), so it reads the same on its own
as after a file and line. Values are read the way YAML authors write them: a single keyword may be
written without a list, a number where text is expected is read as text.
"""
from __future__ import annotations

import difflib
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from qualkit.workspace.codebook_fields import CODE_FIELDS, ID_RE, LIST_FIELDS, ORIGINS, STATUSES, TEXT_FIELDS

__all__ = ["ChangeLogEntryModel", "CodeEntry", "CodeGroupModel", "CodebookFile"]

def _problem(kind: str, message: str) -> PydanticCustomError:
    """A pydantic error whose message is ours, word for word (braces in user text stay as they are)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _scalar(value: Any) -> str:
    return "" if value is None else str(value)


def _collect(cls: type[BaseModel], data: Any, handler: ValidatorFunctionWrapHandler,
             early: list[InitErrorDetails], late: tuple[InitErrorDetails, ...] = ()) -> Any:
    """Run the field validators even when structural problems were found (``early`` ones are reported
    before the fields', ``late`` ones after), and raise all of them together."""
    errors = list(early)
    value = None
    try:
        value = handler(data)
    except ValidationError as exc:
        errors += [InitErrorDetails(type=_problem(str(e["type"]), e["msg"]), loc=tuple(e["loc"]), input=e.get("input"))
                   for e in exc.errors(include_url=False)]
    errors += late
    if errors:
        raise ValidationError.from_exception_data(cls.__name__, errors)
    return value


def _missing(data: dict[str, Any], message: str, at_key: bool) -> list[InitErrorDetails]:
    """id and name are required and may not be empty; reported at the key or at the entry."""
    return [InitErrorDetails(type=_problem("missing", message.format(key=key)), loc=(key,) if at_key else (), input=data)
            for key in ("id", "name") if data.get(key) in (None, "")]


class CodeEntry(BaseModel):
    """One code of ``codes:``: MacQueen et al.'s fields, keywords and patterns, refs, colour, status."""

    model_config = ConfigDict(extra="ignore")

    id: str = ""
    name: str = ""
    parent: str | None = None
    origin: str = "inductive"
    status: str = "active"
    examples: list[str] = []
    keywords: list[str] = []
    patterns: list[Any] = []
    framework: list[str] = []
    brief: str = ""
    definition: str = ""
    include: str = ""
    exclude: str = ""
    color: str | None = None
    codable: bool = True

    @model_validator(mode="wrap")
    @classmethod
    def _structure(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, dict):
            raise _problem("code_type", "each code must be a mapping with at least id and name")
        early = []
        for key in data:
            if key not in CODE_FIELDS:
                close = difflib.get_close_matches(str(key), sorted(CODE_FIELDS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                early.append(InitErrorDetails(type=_problem("unknown_field", f"unknown code field '{key}'{hint}"),
                                              loc=(key,), input=data[key]))
        early += _missing(data, "code is missing '{key}'", at_key=False)
        return _collect(cls, data, handler, early)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        text = _scalar(value)
        if text and not ID_RE.match(text):
            raise _problem("code_id", f"code id {text!r} must be lower-case letters, digits, _ . - (e.g. data_sharing)")
        return text

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        return _scalar(value).strip()

    @field_validator("parent", "color", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> str | None:
        return None if value in (None, "") else str(value)

    @field_validator("origin", mode="before")
    @classmethod
    def _origin(cls, value: Any) -> str:
        text = str(value or "inductive")
        if text not in ORIGINS:
            raise _problem("origin", f"origin {text!r} must be deductive or inductive")
        return text

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> str:
        text = str(value or "active")
        if text not in STATUSES:
            raise _problem("status", f"status {text!r} must be active or retired")
        return text

    @field_validator("codable", mode="before")
    @classmethod
    def _codable(cls, value: Any) -> bool:
        if value is None or isinstance(value, bool):
            return value is not False
        raise _problem("codable", f"codable {value!r} must be true or false")

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _list(cls, value: Any, info: Any) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, str) and info.field_name != "patterns":
            value = [value]
        if not isinstance(value, list):
            raise _problem("list", f"'{info.field_name}' must be a list")
        return value if info.field_name == "patterns" else [str(x) for x in value]

    @field_validator(*TEXT_FIELDS, mode="before")
    @classmethod
    def _text(cls, value: Any, info: Any) -> str:
        if value is not None and not isinstance(value, (str, int, float)):
            raise _problem("text", f"'{info.field_name}' must be text")
        return _scalar(value).strip()


class ChangeLogEntryModel(BaseModel):
    """One ``changelog:`` entry: who, when (ISO 8601), what."""

    who: str = ""
    when: str = ""
    what: str = ""

    @field_validator("who", "when", "what", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value)


class CodeGroupModel(BaseModel):
    """One ``groups:`` entry: a name, the ids of its codes, a description."""

    name: str = ""
    codes: list[str] = []
    description: str = ""

    @field_validator("name", "description", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _scalar(value).strip()

    @field_validator("codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value or [], list):
            raise _problem("group_codes", "a group's 'codes' must be a list of code ids")
        return [str(x) for x in value or []]

    @model_validator(mode="after")
    def _named(self) -> CodeGroupModel:
        if not self.name:
            raise _problem("group_name", "a group needs a name")
        return self


class CodebookFile(BaseModel):
    """A whole codebook file: id, name, description, default framework, codes, change log."""

    model_config = ConfigDict(extra="ignore")

    id: str = ""
    name: str = ""
    description: str = ""
    framework: str | None = None
    codes: list[CodeEntry] = []
    groups: list[CodeGroupModel] = []
    changelog: list[ChangeLogEntryModel] = []

    @model_validator(mode="wrap")
    @classmethod
    def _structure(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, dict):
            raise _problem("codebook_type", "a codebook must be a mapping with id, name and codes")
        log = data.get("changelog")
        late = tuple(InitErrorDetails(type=_problem("changelog_type", f"changelog entry {i + 1} must be a mapping with who, "
                                                   "when, what"), loc=("changelog", i), input=entry)
                     for i, entry in enumerate(log if isinstance(log, list) else []) if not isinstance(entry, dict))
        return _collect(cls, data, handler, _missing(data, "missing '{key}'", at_key=True), late)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        text = _scalar(value)
        if text and not ID_RE.match(text):
            raise _problem("codebook_id", f"codebook id {text!r} must be lower-case letters, digits, _ . -")
        return text

    @field_validator("name", "description", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value or "")

    @field_validator("framework", mode="before")
    @classmethod
    def _framework(cls, value: Any) -> str | None:
        return str(value) if value else None

    @field_validator("codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> list[Any]:
        if not isinstance(value or [], list):
            raise _problem("codes_type", "'codes' must be a list of codes")
        return value or []

    @field_validator("groups", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> list[Any]:
        if not isinstance(value or [], list) or any(not isinstance(g, dict) for g in value or []):
            raise _problem("groups_type", "'groups' must be a list of groups, each with a name and codes")
        return value or []

    @field_validator("changelog", mode="before")
    @classmethod
    def _changelog(cls, value: Any) -> list[Any]:
        if not isinstance(value or [], list):
            raise _problem("changelog_type", "'changelog' must be a list of entries with who, when, what")
        return [entry for entry in value or [] if isinstance(entry, dict)]  # the others are reported by _structure
