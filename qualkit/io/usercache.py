"""The user's cache folder for what qualkit derives from its own files (compiled templates, parsed
built-in frameworks): ``$XDG_CACHE_HOME/qualkit``, else ``~/.cache/qualkit``.

Never a workspace's folder: what is kept here comes from qualkit's package, not from a study, and a
workspace is a folder people share. Everything here is rebuildable; deleting it costs one recompute.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["user_cache"]


def user_cache(*parts: str) -> Path:
    """The folder (or file) ``parts`` under the user's qualkit cache (not created here)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "qualkit", *parts)
