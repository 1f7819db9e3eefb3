"""`qualkit memo add|list`: analytic memos and the reflexive journal (Markdown files in memos/)."""
from __future__ import annotations

import click

from qualkit.cli.context import open_workspace
from qualkit.cli.output import echo_json, echo_table


@click.group()
def memo() -> None:
    """Write and list analytic memos and reflexive-journal entries (memos/*.md).

    Link a memo to what it is about with --link code:ID, theme:ID, transcript:ID or case:NAME;
    the report's audit trail lists every memo with its links.
    """


@memo.command("add")
@click.argument("title")
@click.option("--text", "body", default="", help="The memo's text (Markdown); or pipe it in on standard input.")
@click.option("--reflexive", is_flag=True, help="A reflexive-journal entry rather than an analytic memo.")
@click.option("--link", "links", multiple=True, metavar="KIND:ID", help="code:ID, theme:ID, transcript:ID or case:NAME (repeatable).")
@click.option("--by", "author", default="", metavar="NAME", help="Who wrote it (default: your user name).")
@click.pass_context
def add(ctx: click.Context, title: str, body: str, reflexive: bool, links: tuple[str, ...], author: str) -> None:
    """Write a memo titled TITLE to memos/<date>-<title>.md (never over an existing file)."""
    from qualkit.coding.codebook_edit_core import default_user

    ws = open_workspace(ctx)
    if not body:
        import sys

        body = "" if sys.stdin.isatty() else sys.stdin.read()
    m = ws.memo_add(title, body, kind="reflexive" if reflexive else "memo", author=author or default_user(),
                    links=list(links))
    click.echo(f"Wrote memos/{m.path.name}" + (f" (links: {', '.join(m.links)})" if m.links else ""))


@memo.command("list")
@click.option("--link", metavar="KIND:ID", help="Only memos linked to this code, theme, transcript or case.")
@click.option("--reflexive", is_flag=True, help="Only reflexive-journal entries.")
@click.option("--json", "as_json", is_flag=True, help="Print the memos (with their text) as JSON.")
@click.pass_context
def list_(ctx: click.Context, link: str | None, reflexive: bool, as_json: bool) -> None:
    """List the memos: date, kind, author, title and links."""
    ws = open_workspace(ctx)
    memos = ws.memos(link=link, kind="reflexive" if reflexive else None)
    if as_json:
        echo_json([m.as_dict() for m in memos])
        return
    if not memos:
        click.echo("No memos yet: `qualkit memo add TITLE --text ... --link theme:ID`.")
        return
    echo_table([(m.date, m.kind, m.author, m.title, ", ".join(m.links)) for m in memos],
               ["date", "kind", "author", "title", "links"])
