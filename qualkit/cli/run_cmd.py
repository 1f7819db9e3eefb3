"""`qualkit run`: the main job."""
from __future__ import annotations

import sys

import click

from qualkit.cli.context import allow_unanchored_option, jobs_option, open_workspace
from qualkit.cli.output import report_skipped, strict_option


@click.command()
@strict_option
@click.option("--no-deid", is_flag=True, help="Export the original transcript text even though deid.csv holds decisions "
                                               "(recorded in the manifests).")
@click.option("--recompute", is_flag=True, help="Compute every step again even when nothing changed since the last "
                                                "run (by default its files are written again from .qualkit/cache/); the fresh "
                                                "result is kept for the next run.")
@allow_unanchored_option
@jobs_option
@click.pass_context
def run(ctx: click.Context, strict: bool, no_deid: bool, recompute: bool) -> None:
    """Run the pipeline on this workspace and write exports/ (prints each step and the files written)."""
    from qualkit.pipeline import run as do_run

    ws = open_workspace(ctx)
    click.echo(f"qualkit run: {ws.config.project}  ({ws.root})")
    tty = sys.stdout.isatty()

    def started(name: str) -> None:
        if tty:  # a transient line while the step runs; overwritten by its result
            click.echo(f"  {name:<10} ...", nl=False)

    def finished(step) -> None:
        if tty:
            click.echo("\r\033[K", nl=False)
        mark = click.style("done", fg="green") if step.status == "done" else click.style("skipped", fg="yellow")
        took = ("  (unchanged since the last run)" if step.cached else f"  ({step.seconds:.1f} s)") if step.status == "done" else ""
        click.echo(f"  {step.name:<10} {mark}  {step.detail}{took}")

    from qualkit.io.collector import gc_paused

    try:
        # The process ends soon after: the collector need not walk the whole study once or twice
        # (~0.1 s of CPU on the sample study, its final pass at exit included).
        with gc_paused(freeze_after=True):
            report = do_run(ws, no_deid=no_deid, on_start=started, on_step=finished, use_cache=not recompute)
    except BaseException:
        if tty:
            click.echo("")  # the error goes on a line of its own
        raise
    if report.outputs:
        click.echo("Wrote:")
        for p in report.outputs:
            try:
                shown = p.relative_to(ws.root)
            except ValueError:
                shown = p
            click.echo(f"  {shown}")
    click.echo(f"Finished in {report.seconds:.1f} s.")
    click.echo(click.style("Status:", bold=True))
    for line in ws.status().lines():
        click.echo(f"  {line}")
    report_skipped(ctx, report.skipped, strict)
