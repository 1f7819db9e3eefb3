"""qualkit: qualitative implementation research, from transcripts to framework matrices.

Heavy dependencies (pandas, python-docx, spaCy) load only when used, so ``import qualkit``
and ``qualkit --help`` stay fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "read_transcript": ("qualkit.transcripts", "read_transcript"),
    "Transcript": ("qualkit.transcripts.model", "Transcript"),
    "Turn": ("qualkit.transcripts.model", "Turn"),
    "Workspace": ("qualkit.api", "Workspace"),
    "QualkitError": ("qualkit.errors", "QualkitError"),
    "TranscriptError": ("qualkit.errors", "TranscriptError"),
    "WorkspaceError": ("qualkit.errors", "WorkspaceError"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qualkit' has no attribute {name!r}")
