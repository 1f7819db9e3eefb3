"""qualkit: qualitative implementation research, from transcripts to framework matrices.

Heavy dependencies (pandas, python-docx, spaCy) load only when used, so ``import qualkit``
and ``qualkit --help`` stay fast: the public names below are imported on first access.
"""
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute), imported on first use. No import statement here on purpose:
# `from qualkit import __version__` in library modules must not pull the facade (an import cycle).
_LAZY = {
    "read_transcript": ("qualkit.transcripts", "read_transcript"),
    "Transcript": ("qualkit.transcripts.model", "Transcript"),
    "Turn": ("qualkit.transcripts.model", "Turn"),
    "Workspace": ("qualkit.api", "Workspace"),
    "QualkitError": ("qualkit.errors", "QualkitError"),
    "TranscriptError": ("qualkit.errors", "TranscriptError"),
    "WorkspaceError": ("qualkit.errors", "WorkspaceError"),
}

__all__ = [  # spelled out for linters and type checkers; tests/test_public_api.py keeps it equal to _LAZY
    "QualkitError",
    "Transcript",
    "TranscriptError",
    "Turn",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "read_transcript",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access (PEP 562) and keep it as a module attribute."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qualkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    """What ``dir(qualkit)`` and tab completion show: the public names (loaded or not yet) and dunders."""
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})
