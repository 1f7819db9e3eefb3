"""Reading the workspace's YAML files with line numbers, so every error can say where."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError


def compose_yaml(text: str, path: str | Path | None, error_cls: type[QualkitError] = QualkitError) -> Any:
    """Parse YAML text into a node tree (None for an empty file); syntax errors name the line."""
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=loader_cls)
    except yaml.YAMLError as exc:
        line, problem = yaml_error_where(exc, text)
        raise error_cls(f"invalid YAML: {problem}", path, line) from None


def yaml_error_where(exc: Exception, text: str, first_line: int = 1) -> tuple[int | None, str]:
    """The line (counting the first line of ``text`` as ``first_line``) and the words for a YAML syntax error.

    PyYAML notices an unclosed bracket or quote only at the end of the text, one line past the last
    one ("line 2" of a one-line file): the line where the unclosed thing opened is the one to fix."""
    mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return None, problem
    line = mark.line
    last = max(len(text.rstrip().splitlines()) - 1, 0)
    if line > last or mark.index >= len(text.rstrip()):
        if context is not None and context.line <= last:
            what = re.sub(r"^while (scanning|parsing) (an? )?", "", str(getattr(exc, "context", "") or ""))
            problem += f" (the {what} that starts on this line is not closed)" if what and context.line != last else ""
            line = context.line
        else:
            line = last
    return line + first_line, problem


def load_yaml_file(path: str | Path, error_cls: type[QualkitError] = QualkitError, what: str = "file") -> tuple[Any, Any]:
    """Read a UTF-8 YAML file; returns (data, root node) from one parse. Errors name file and line."""

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error_cls(f"no such {what}", path) from None
    except UnicodeDecodeError as exc:
        raise error_cls(f"not UTF-8 text (byte {exc.start})", path) from None
    except OSError as exc:
        raise error_cls(f"cannot read file ({exc.strerror or exc})", path) from None
    node = compose_yaml(text, path, error_cls)
    data = construct_yaml(node, path, error_cls) if node is not None else None
    return data, node


# What PyYAML's safe constructors raise for a bad explicit tag (!!int abc, !!timestamp 2001-12-14x, ...).
_CONSTRUCT_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError)


def construct_yaml(node: Any, path: str | Path | None, error_cls: type[QualkitError] = QualkitError) -> Any:
    """The data of a composed document; a value its explicit tag cannot hold names its line."""
    import yaml

    try:
        return yaml.SafeLoader("").construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error_cls(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None  # a node's own line
    except _CONSTRUCT_ERRORS:
        bad = _first_bad_scalar(node)
        line = bad.start_mark.line + 1 if bad is not None else None
        what = f"{bad.value!r} is not a valid {bad.tag.rsplit(':', 1)[-1]}" if bad is not None else "a value cannot be read"
        raise error_cls(f"invalid YAML: {what} (remove the explicit !! tag or fix the value)", path, line) from None


def _first_bad_scalar(node: Any) -> Any:
    import yaml

    stack = [node]
    while stack:
        n = stack.pop(0)
        if isinstance(n, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(n, deep=True)
            except Exception:  # noqa: BLE001 - looking for the value that failed above
                return n
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(v for pair in n.value for v in pair)
    return None


def key_lines(node: Any) -> dict[str, int]:
    """Line (1-based) of each key of a YAML mapping node ({} for anything else)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
