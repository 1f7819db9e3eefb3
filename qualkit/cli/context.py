"""Opening the workspace a command runs in (the --workspace option, else the current folder)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from qualkit.api import Workspace


def open_workspace(ctx: click.Context) -> Workspace:
    """The Workspace for this invocation."""
    from qualkit.api import Workspace

    root = (ctx.find_root().obj or {}).get("workspace")
    return Workspace(root or ".")
