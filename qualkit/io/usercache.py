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
    """The folder (or file) ``parts`` under the user's qualkit cache (not created here). Raises
    OSError when there is no such folder to use (no home folder): callers then do without a cache,
    rather than write somewhere shared or relative to the current folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative (which the XDG spec says to ignore)
        home = os.path.expanduser("~")
        if not os.path.isabs(home) or home == os.path.sep:  # "~" unresolved, or HOME="" (read as "/")
            raise OSError("no home folder for qualkit's cache")
        base = os.path.join(home, ".cache")
    return Path(base, "qualkit", *parts)
