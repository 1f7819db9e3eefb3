"""`qualkit export qdc|qdpx` and `qualkit import qdc|qdpx`: REFI-QDA exchange with other QDA tools.

``export`` is a group (``qdc``, ``qdpx``); ``import_qdc`` and ``import_qdpx`` are commands to be
attached to the ``import`` group of :mod:`qualkit.cli.import_cmds`. Library work happens in
:mod:`qualkit.refiqda`, imported only when a command runs.
"""
from __future__ import annotations

from pathlib import Path

import click

from qualkit.cli.context import allow_unanchored_option, deid_option, open_export_workspace, open_workspace
from qualkit.cli.output import OutputFile, echo_json
from qualkit.io.naming import plural_s


def _split_coders(values: tuple[str, ...]) -> list[str] | None:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


def _notes(warnings: list[str], label: str = "note") -> None:
    for w in warnings:
        click.echo(click.style(f"{label}: ", fg="yellow" if label == "warning" else "cyan") + w)


@click.group("export")
def export() -> None:
    """Export the workspace for other QDA tools: a codebook as REFI-QDA .qdc, or the whole project as .qdpx
    (NVivo, ATLAS.ti, MAXQDA, QualCoder... import these)."""


@export.command("qdc", short_help="Export a codebook as a REFI-QDA codebook (.qdc).")
@click.argument("file", type=OutputFile())
@click.option("-c", "--codebook", "codebook_id", metavar="ID", help="Which codebook (default: qualkit.yaml's codebook, or the only one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@deid_option
@click.pass_context
def export_qdc(ctx: click.Context, file: str, codebook_id: str | None, as_json: bool) -> None:
    """Write a codebook to FILE (.qdc): hierarchy, colors, and every qualkit field packed into each
    code's description (definition first, then "When to use:", "When not to use:", "Examples:",
    "Framework:" ... lines), which `qualkit import qdc` reads back."""
    from qualkit.refiqda.qdc import export_qdc as run

    ws = open_export_workspace(ctx)
    book = ws.codebook(codebook_id)
    warnings = run(book, file)
    if as_json:
        echo_json({"path": file, "codebook": book.id, "codes": len(book.codes), "warnings": warnings})
        return
    _notes(warnings, "warning")
    click.echo(f"Exported codebook {book.id} ({len(book.codes)} code{plural_s(len(book.codes))}) to {file}.")


@export.command("codebook", short_help="Export a codebook for people or another tool (Taguette, REFI-QDA, sheets).")
@click.argument("file", type=OutputFile())
@click.option("-c", "--codebook", "codebook_id", metavar="ID", help="Which codebook (default: qualkit.yaml's codebook, or the only one).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "docx", "md", "qdc", "taguette-csv"]),
              help="The format (default: from FILE's extension). taguette-csv is what Taguette's 'Import codebook' reads.")
@click.pass_context
def export_codebook(ctx: click.Context, file: str, codebook_id: str | None, fmt: str | None) -> None:
    """Write a codebook to FILE. taguette-csv has a 'tag' column (the code's path, 'Parent.Child')
    and a 'description' holding every qualkit field, so that `qualkit codebook import` reads it
    back whole; .csv/.xlsx are qualkit's sheets, .docx and .md for reading, .qdc for REFI-QDA tools."""
    from qualkit.refiqda.codebook_formats import export_codebook as run

    ws = open_workspace(ctx)
    book = ws.codebook(codebook_id)
    _notes(run(book, file, fmt), "warning")
    click.echo(f"Exported codebook {book.id} ({len(book.codes)} code{plural_s(len(book.codes))}) to {file}"
               + (f" ({fmt})." if fmt else "."))


@export.command("qdpx", short_help="Export the workspace as a REFI-QDA project (.qdpx).")
@click.argument("file", type=OutputFile())
@click.option("--coders", "coders", multiple=True, metavar="NAMES",
              help="Whose codings to export (comma-separated or repeated; default: every coder).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@deid_option
@allow_unanchored_option
@click.pass_context
def export_qdpx(ctx: click.Context, file: str, coders: tuple[str, ...], as_json: bool) -> None:
    """Write the whole workspace to FILE (.qdpx): one user per coder, the codebooks, transcripts as
    text sources, codings as selections (code-point positions) with their coder, memos as notes,
    and participants as cases with their attributes as variables. Exporting an unchanged
    workspace again gives the same file."""
    from qualkit.refiqda.qdpx_export import export_qdpx as run

    ws = open_export_workspace(ctx)
    result = run(ws, file, _split_coders(coders))
    if as_json:
        echo_json(result.as_dict())
        return
    _notes(result.warnings, "warning")
    coders_text = ", ".join(f"{c} ({n})" for c, n in result.coders.items()) or "no coders"
    click.echo(f"Exported {result.transcripts} transcript{plural_s(result.transcripts)}, {result.codes} code{plural_s(result.codes)} in {result.codebooks} codebook{plural_s(result.codebooks)}, "
               f"{sum(result.coders.values())} coding{plural_s(sum(result.coders.values()))} by {coders_text}, {result.cases} participant{plural_s(result.cases)} to {file}.")


@click.command("qdc", short_help="Import a REFI-QDA codebook (.qdc) as a new codebook.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--id", "-c", "--codebook", "codebook_id", metavar="ID", help="Id of the new codebook (default: from the file name).")
@click.option("--name", metavar="NAME", help="Name of the new codebook (default: from the file name).")
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def import_qdc(ctx: click.Context, file: str, codebook_id: str | None, name: str | None, dry_run: bool,
               as_json: bool) -> None:
    """Import the codebook in FILE (.qdc, from NVivo, ATLAS.ti, MAXQDA... or qualkit) into
    codebooks/ID.yaml: hierarchy, colors and descriptions (qualkit's packed fields are restored).
    An existing codebook is never overwritten."""
    from qualkit.refiqda.qdc import import_qdc as run

    ws = open_export_workspace(ctx)
    result = run(ws, file, codebook_id=codebook_id, name=name, dry_run=dry_run)
    if as_json:
        echo_json(result.as_dict())
        return
    _notes(result.warnings)
    for item in result.not_carried:
        click.echo(click.style("not carried over: ", fg="yellow") + item)
    verb = "Imported" if result.written else "Dry run: would import"
    groups = f" and {len(result.codebook.groups)} code group{plural_s(len(result.codebook.groups))}" if result.codebook.groups else ""
    click.echo(f"{verb} {len(result.codebook.codes)} code{plural_s(len(result.codebook.codes))}{groups} from {Path(file).name} as codebook "
               f"{result.codebook.id} ({result.path.name if result.path else ''}).")


@click.command("qdpx", short_help="Import a REFI-QDA project (.qdpx) into a new or existing workspace.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--into", "into", type=click.Path(file_okay=False), metavar="DIR",
              help="A new or empty folder (a workspace is created) or a workspace (default: the current one).")
@click.option("--dry-run", is_flag=True, help="Read the project and report what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def import_qdpx(ctx: click.Context, file: str, into: str | None, dry_run: bool, as_json: bool) -> None:
    """Import the project in FILE (.qdpx, from NVivo, ATLAS.ti, MAXQDA, QualCoder... or qualkit):
    text sources become transcripts, the codebook codebooks/, each user's codings codings/USER.csv,
    cases and variables participants.csv. What qualkit cannot hold (pictures, audio, video, PDF
    selections, sets, graphs...) is listed, not fatal. Nothing is written unless everything is
    read, and an existing workspace's files are never overwritten."""
    from qualkit.errors import WorkspaceError
    from qualkit.refiqda.qdpx_import import import_qdpx as run

    try:
        target = Path(into) if into else open_workspace(ctx).root
    except WorkspaceError as exc:
        raise WorkspaceError(f"{exc.message}; or give --into NEW_FOLDER to import into a new workspace", exc.path) from None
    result = run(file, target, dry_run=dry_run)
    if as_json:
        echo_json(result.as_dict())
        return
    if result.offsets:
        click.echo(click.style("positions: ", fg="cyan") + result.offsets)
    _notes([w for w in result.warnings if w != result.offsets], "warning")
    for item in result.not_carried:
        click.echo(click.style("not carried over: ", fg="yellow") + item)
    books = ", ".join(f"{b} ({n} code{plural_s(n)})" for b, n in result.codebooks.items()) or "none new"
    if result.reused_codebooks:
        books += f"; already there: {', '.join(result.reused_codebooks)}"
    coders = ("codings by " + ", ".join(f"{c} ({n})" for c, n in result.coders.items())) if result.coders else "no codings"
    if result.done:
        coders += "; done marks by " + ", ".join(f"{c} ({n})" for c, n in result.done.items())
    transcripts = f"{len(result.transcripts)} new"
    if result.reused_transcripts:
        transcripts += f", {len(result.reused_transcripts)} already there"
    where = "a new workspace " + str(target) if result.created_workspace else str(target)
    head = "Dry run: would import" if result.dry_run else "Imported"
    click.echo(f"{head} {Path(file).name} into {where}: transcripts {transcripts}; codebooks {books}; "
               f"{coders}; {result.participants} participant row{plural_s(result.participants)}.")


# `qualkit export all` (the study's tables) sits beside the REFI-QDA exports in one group.
from qualkit.cli.study_export_cmd import export_all  # noqa: E402

export.add_command(export_all)
