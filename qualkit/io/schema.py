"""Validating a YAML file against one pydantic model, with every problem named by file and line.

Each workspace YAML file (qualkit.yaml, codebooks, themes.yaml, frameworks, summary front matter)
has one model. The lenient reader (`validate`, every problem) and the strict one (`validate_strict`,
the first problem raised) are the same code, so they cannot drift apart.

pydantic v2 was chosen over attrs+cattrs because its errors carry the location of every problem
(``loc``) in one pass, which we map back to YAML lines; cattrs stops at the first structuring error
unless its detailed-validation mode is on, and has no line map either.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from qualkit.errors import QualkitError

__all__ = ["SchemaProblem", "node_line", "validate", "validate_strict"]

ModelT = TypeVar("ModelT")


@dataclass(frozen=True)
class SchemaProblem:
    """One problem in a file: where it is (``path``, 1-based ``line``), which field, and what is wrong."""

    path: Path | None
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path and self.line else (f"{self.path}: " if self.path else "")
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


def node_line(node: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (keys and list indices), or of its nearest parent."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(step)), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(step) if not isinstance(step, int) else f"[{step}]" for step in loc).replace(".[", "[")


def validate(model: type[ModelT], data: Any, node: Any = None, path: str | Path | None = None) -> tuple[ModelT | None, list[SchemaProblem]]:
    """Every problem of ``data`` against ``model`` with its line; the model instance when there are none."""
    from pydantic import TypeAdapter, ValidationError

    where = Path(path) if path is not None else None
    try:
        return TypeAdapter(model).validate_python(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(step for step in err["loc"] if not (isinstance(step, str) and step.startswith("function-")))
            problems.append(SchemaProblem(where, node_line(node, loc), _field_name(loc), err["msg"]))
        return None, problems


def validate_strict(model: type[ModelT], data: Any, node: Any = None, path: str | Path | None = None,
                    error_cls: type[QualkitError] = QualkitError) -> ModelT:
    """``data`` as a ``model`` instance, or ``error_cls`` for the first problem (file and line named)."""
    value, problems = validate(model, data, node, path)
    if problems:
        first = problems[0]
        message = f"{first.field}: {first.message}" if first.field else first.message
        raise error_cls(message, first.path, first.line)
    assert value is not None
    return value
