"""Run manifests: which inputs (by sha256), parameters and versions produced an export."""
from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qualkit.io.atomic import atomic_write_text
from qualkit.io.paths import relative_to

_DEPENDENCIES = ("click", "pandas", "numpy", "python-docx", "pyyaml", "rapidfuzz", "jinja2", "openpyxl")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """qualkit's and its dependencies' installed versions."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("qualkit", *_DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(root: Path, inputs: Iterable[Path], outputs: Iterable[Path], parameters: dict[str, Any]) -> dict[str, Any]:
    def rel(p: Path) -> str:
        return relative_to(p, root)

    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "inputs": [{"path": rel(p), "sha256": sha256_file(p)} for p in sorted(set(inputs)) if Path(p).is_file()],
        "outputs": [rel(p) for p in outputs],
        "versions": versions(),
    }


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
