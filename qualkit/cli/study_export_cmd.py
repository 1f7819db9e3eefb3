"""`qualkit export all`: every manuscript table of the study at once, into exports/."""
from __future__ import annotations

import click

from qualkit.cli.context import allow_unanchored_option, deid_option, open_export_workspace


@click.command("all")
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "docx", "csv", "md", "tex", "html", "json"]),
              help="Formats for every table (repeatable). Default: XLSX+DOCX+CSV for themes and the rapid matrix, "
                   "XLSX+CSV for the others.")
@click.option("--out-dir", type=click.Path(file_okay=False), help="Folder to write to (default: exports/).")
@deid_option
@allow_unanchored_option
@click.pass_context
def export_all(ctx: click.Context, formats: tuple[str, ...], out_dir: str | None) -> None:
    """Themes x framework domains with the results table, codes by role, co-occurrence, saturation and
    the rapid matrix, each with a manifest. Tables without input yet are skipped with the reason."""
    from qualkit.io.collector import gc_paused
    from qualkit.reporting.study_exports import export_study

    ws = open_export_workspace(ctx)
    with gc_paused(freeze_after=True):  # the process ends next: the collector need not walk the study again
        result = export_study(ws, out_dir, formats or None)
    for w in result.warnings:
        click.echo(click.style("Note: ", fg="yellow") + w, err=True)
    for what, why in result.skipped:
        click.echo(f"skipped {what}: {why}")
    for path in result.files:
        try:
            shown = path.relative_to(ws.root)
        except ValueError:
            shown = path
        click.echo(f"wrote {shown}")
