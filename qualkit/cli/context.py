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


_NO_DEID = "qualkit.no_deid"


def _remember_no_deid(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[_NO_DEID] = value
    return value


def deid_option(f):
    """``--no-deid`` on a command that exports: original text although deid.csv has decisions."""
    return click.option("--no-deid", is_flag=True, expose_value=False, callback=_remember_no_deid, is_eager=True,
                        help="Export the original transcript text even though deid.csv holds decisions "
                             "(recorded in the manifest).")(f)


def open_export_workspace(ctx: click.Context) -> Workspace:
    """The Workspace an exporting command reads: redacted once deid.csv holds a decision (unless
    --no-deid); every manifest written during the command records which."""
    from qualkit.deid.apply import exporting

    view = ctx.with_resource(exporting(open_workspace(ctx), no_deid=bool(ctx.meta.get(_NO_DEID))))
    return view  # type: ignore[return-value]  # a redacted view keeps the facade's class
