"""Opening the workspace a command runs in (the --workspace option, else the current folder)."""
from __future__ import annotations

import click


def open_workspace(ctx: click.Context):
    """The Workspace for this invocation."""
    from qualkit.api import Workspace

    root = (ctx.find_root().obj or {}).get("workspace")
    return Workspace(root or ".")
