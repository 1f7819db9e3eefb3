"""Opening the workspace a command runs in (the --workspace option, else the current folder)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from qualkit.api import Workspace

F = TypeVar("F", bound=Callable[..., Any])

ALLOW_UNANCHORED_HELP = ("Leave out codings that can no longer be placed in a changed transcript "
                         "(default: stop with an error naming the transcript).")


def _set_allow(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        if root.obj is None:
            root.obj = {}
        root.obj["allow_unanchored"] = True


def allow_unanchored_option(f: F) -> F:
    """``--allow-unanchored`` on a command that computes or exports results from codings."""
    return click.option("--allow-unanchored", is_flag=True, expose_value=False, callback=_set_allow,
                        help=ALLOW_UNANCHORED_HELP)(f)


def _set_jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        root = ctx.find_root()
        if root.obj is None:
            root.obj = {}
        root.obj["jobs"] = value


def jobs_option(f: F) -> F:
    """``-j/--jobs N`` on a command that parses transcripts or auto-codes: processes to use."""
    return click.option("-j", "--jobs", type=click.IntRange(0), default=None, expose_value=False, callback=_set_jobs,
                        metavar="N", help="Processes for parsing transcripts and auto-coding (default: every core, "
                        "or QUALKIT_JOBS; 1: one process). Small studies always run in one.")(f)


def reads_the_study(f: F) -> F:
    """A command that builds a read-only picture of the whole study, then ends: the cyclic collector is
    paused while it runs (:func:`qualkit.io.collector.gc_paused`). Its full passes over the study's
    objects freed nothing and cost 12-30% of the CPU of `agree`, `matrix` and `disagreements` at 5,000
    interviews (5-15% at 1,000: they made the cost grow faster than the study). Innermost decorator."""
    import functools

    @functools.wraps(f)
    def paused(*args: Any, **kwargs: Any) -> Any:
        from qualkit.io.collector import gc_paused

        with gc_paused(freeze_after=True):
            return f(*args, **kwargs)
    return paused  # type: ignore[return-value]


def _notice(line: str) -> None:
    import textwrap

    lines = textwrap.wrap("Note: " + line, 100, subsequent_indent="  ")
    click.echo(click.style("Note:", fg="yellow") + "\n".join(lines)[5:], err=True)


def open_workspace(ctx: click.Context) -> Workspace:
    """The Workspace for this invocation; anchoring notices go to stderr, one line each."""
    import os

    from qualkit.api import Workspace

    obj = ctx.find_root().obj or {}
    ws = Workspace(obj.get("workspace") or ".")
    ws.allow_unanchored = bool(obj.get("allow_unanchored")) or os.environ.get("QUALKIT_ALLOW_UNANCHORED", "") not in ("", "0")
    ws.notify = _notice
    ws.jobs = obj.get("jobs")
    return ws


_NO_DEID = "qualkit.no_deid"


def _remember_no_deid(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[_NO_DEID] = value
    return value


def deid_option(f: F) -> F:
    """``--no-deid`` on a command that exports: original text although deid.csv has decisions."""
    return click.option("--no-deid", is_flag=True, expose_value=False, callback=_remember_no_deid, is_eager=True,
                        help="Export the original transcript text even though deid.csv holds decisions "
                             "(recorded in the manifest).")(f)


def open_export_workspace(ctx: click.Context) -> Workspace:
    """The Workspace an exporting command reads: redacted once deid.csv holds a decision (unless
    --no-deid); every manifest written during the command records which. The command reads the study
    once through: the inputs' stamp of its shared results is taken once per state of the files."""
    from qualkit.deid.apply import exporting

    view = ctx.with_resource(exporting(open_workspace(ctx), no_deid=bool(ctx.meta.get(_NO_DEID))))
    ctx.with_resource(view.derived_cache.steady())
    return view  # type: ignore[return-value]  # a redacted view keeps the facade's class
