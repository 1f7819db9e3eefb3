"""`qualkit status`: what changed and what is left in this study, like `git status`."""
from __future__ import annotations

import click

from qualkit.cli.context import open_workspace, reads_the_study


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
@reads_the_study
def status(ctx: click.Context, as_json: bool) -> None:
    """The state of the study: transcripts new, changed since coded or unreadable; each coder's
    progress per transcript (done, in progress with turns coded / total, not started); codings that
    drifted or were lost; codings only in interviewer turns; which transcripts qualify for
    agreement; the consensus; the themes check; stale exports; and the next command to run."""
    from qualkit.cli.output import echo_json

    ws = open_workspace(ctx)
    st = ws.status()
    if as_json:
        echo_json(st.as_dict())
        return
    click.echo(click.style(f"Study: {ws.config.project}", bold=True) + f"  ({ws.root})")
    for line in st.lines():
        click.echo(f"  {line}")
