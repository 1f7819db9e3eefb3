"""`qualkit init` and `qualkit demo`: make a workspace to work in."""
from __future__ import annotations

import click

from qualkit.io.naming import plural_s


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--project", help="Project name written into qualkit.yaml.")
def init(directory: str, project: str | None) -> None:
    """Create a workspace in DIRECTORY: a new or empty folder, or one holding your transcripts (nothing is overwritten)."""
    from qualkit.workspace.scaffold import init_workspace

    result = init_workspace(directory, project=project)
    path = result.path
    found = len(result.adopted) + len(result.present)
    if not found:
        click.echo(f"Created an empty workspace in {path}")
        click.echo("Next: put transcripts in transcripts/, list speakers in participants.csv, then `qualkit ingest`.")
        return
    click.echo(f"Created a workspace in {path}")
    if result.adopted:
        click.echo(f"Moved {len(result.adopted)} transcript file{plural_s(len(result.adopted))}/folder{plural_s(len(result.adopted))} into transcripts/ (contents unchanged):")
        for src, _dst in result.adopted:
            click.echo(f"  {src.name}{'/' if src.is_dir() or _dst.is_dir() else ''}")
    if result.present:
        click.echo(f"Found {len(result.present)} transcript file{plural_s(len(result.present))} already in transcripts/.")
    click.echo("Next: `qualkit ingest` to see speakers and turns, then list speakers in participants.csv.")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
def demo(directory: str) -> None:
    """Copy the bundled sample study into DIRECTORY (new or empty folder)."""
    from qualkit.workspace.scaffold import demo as do_demo

    path = do_demo(directory)
    click.echo(f"Copied the sample study (a fictional rural post-overdose outreach evaluation) into {path}")
    click.echo(f"Next: cd {path} && qualkit run")
