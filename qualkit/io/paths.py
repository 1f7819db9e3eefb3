"""Paths as messages show them: relative to a folder (the workspace, or the current directory), so
they can be typed back."""
from __future__ import annotations

from pathlib import Path

__all__ = ["cwd_relative", "relative_to"]


def relative_to(path: str | Path | None, folder: str | Path) -> str:
    """``path`` relative to ``folder`` as a POSIX path ("" for None), or as given when it is elsewhere."""
    if path is None:
        return ""
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def cwd_relative(path: str | Path | None) -> str:
    """``path`` relative to the current directory ("" for None), or as given when it is elsewhere.

    For messages about files the user named on the command line; paths inside a workspace are
    shown with :meth:`qualkit.workspace.store.Workspace.rel` instead.
    """
    return relative_to(path, Path.cwd())
