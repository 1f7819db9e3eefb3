"""Paths as messages show them: relative to the current directory, so they can be typed back."""
from __future__ import annotations

from pathlib import Path

__all__ = ["cwd_relative"]


def cwd_relative(path: str | Path | None) -> str:
    """``path`` relative to the current directory ("" for None), or as given when it is elsewhere.

    For messages about files the user named on the command line; paths inside a workspace are
    shown with :meth:`qualkit.workspace.store.Workspace.rel` instead.
    """
    if path is None:
        return ""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
