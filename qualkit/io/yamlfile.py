"""Reading the workspace's YAML files with line numbers, so every error can say where."""
from __future__ import annotations

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
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error_cls(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None


def load_yaml_file(path: str | Path, error_cls: type[QualkitError] = QualkitError, what: str = "file") -> tuple[Any, Any]:
    """Read a UTF-8 YAML file; returns (data, root node) from one parse. Errors name file and line."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error_cls(f"no such {what}", path) from None
    except UnicodeDecodeError as exc:
        raise error_cls(f"not UTF-8 text (byte {exc.start})", path) from None
    node = compose_yaml(text, path, error_cls)
    data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    return data, node


def key_lines(node: Any) -> dict[str, int]:
    """Line (1-based) of each key of a YAML mapping node ({} for anything else)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
