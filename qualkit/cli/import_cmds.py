"""`qualkit import sheet|word-comments|qdc|qdpx`: work made outside qualkit, into the workspace.

A group, so that other importers (REFI-QDA ``qdc``/``qdpx``) can be added as subcommands.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from qualkit.cli.context import open_workspace
from qualkit.cli.output import echo_json
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.coding.imports import ImportResult
    from qualkit.workspace.store import Workspace


def report_import(ctx: click.Context, ws: Workspace, result: ImportResult, noun: str, as_json: bool) -> None:
    """Print an ImportResult; exit 1 when items could not be placed and nothing was written
    for that reason (not --partial)."""
    if as_json:
        echo_json(result.as_dict())
    else:
        target = ws.rel(result.target)
        for note in result.notes:
            click.echo(click.style("note: ", fg="cyan") + note)
        for p in result.placed:
            for note in p.notes:
                click.echo(click.style("note: ", fg="cyan") + f"{p.where}: {note}")
        n = len(result.placed)
        if result.written:
            click.echo(f"Imported {n} coding{plural_s(n)} from {result.source.name} into {target} "
                       f"(the previous file, if any, is in {ws.rel(ws.backup_dir)}/).")
        elif result.dry_run:
            click.echo(f"Dry run: {n} coding{plural_s(n)} would be imported into {target}; nothing was written.")
        elif n and not result.ok:
            click.echo(f"{n} coding{plural_s(n)} could be imported, but nothing was written.")
        elif not n:
            click.echo(f"Nothing new to import into {target}.")
        for c in result.added_codes:
            verb = "added" if result.written else "would add"
            click.echo(f"Codebook: {verb} inductive code {c.id!r} ({c.name}) to {ws.rel(result.codebook_path)}.")
        if result.duplicates:
            where = ", ".join(p.where for p in result.duplicates[:10]) + (", ..." if len(result.duplicates) > 10 else "")
            click.echo(f"Skipped {len(result.duplicates)} duplicate{plural_s(len(result.duplicates))} of codings already in {target}: {where}.")
    if result.unplaced:
        click.echo(f"Could not import {len(result.unplaced)} {noun}{plural_s(len(result.unplaced))}:", err=True)
        for msg in result.messages():
            click.echo(click.style("error: ", fg="red") + msg, err=True)
        if result.partial:
            click.echo("--partial: the other " + f"{noun}s were imported; these were not.", err=True)
        else:
            if not result.dry_run:
                click.echo(f"Nothing was written. Fix these {noun}s, or run again with --partial to import only "
                           f"the {len(result.placed)} coding{plural_s(len(result.placed))} that could be placed.", err=True)
            ctx.exit(1)


def _marked(result: ImportResult) -> None:
    """--done: say which transcripts were marked complete for the coder (in the import's transaction)."""
    for tid in result.marked:
        click.echo(f"{tid}: marked done for {result.coder}.")


@click.group("import")
def import_() -> None:
    """Import codings (a spreadsheet, Word comments) or a REFI-QDA codebook/project (.qdc/.qdpx)."""


@import_.command("sheet", short_help="Import coded excerpts from a CSV or XLSX file.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, metavar="NAME", help="Whose codings file (codings/NAME.csv) to add to.")
@click.option("-c", "--codebook", metavar="ID", help="Match codes only against this codebook.")
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--partial", is_flag=True, help="Import the rows that can be placed even if others cannot.")
@click.option("--threshold", type=click.FloatRange(50, 100), default=90.0, show_default=True,
              help="Lowest similarity (0-100) for a fuzzy excerpt match.")
@click.option("--done", "mark", is_flag=True, help="Also mark each imported transcript done for the coder (fully coded).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def sheet(ctx: click.Context, file: str, coder: str, codebook: str | None, dry_run: bool, partial: bool, mark: bool,
          threshold: float, as_json: bool) -> None:
    """Import coded excerpts from FILE (.csv or .xlsx) with columns transcript, code, excerpt
    (and optionally memo; synonyms such as document/file, quote/segment/text are accepted).

    Each excerpt is found in its transcript (exact, then ignoring whitespace and typographic
    quotes, then fuzzy). If any row cannot be placed nothing is written (exit 1) unless --partial.
    """
    from qualkit.coding.imports.sheet import import_sheet

    ws = open_workspace(ctx)
    result = import_sheet(ws, file, coder, codebook=codebook, partial=partial, dry_run=dry_run, threshold=threshold,
                          done=mark and not as_json)
    _marked(result)
    report_import(ctx, ws, result, "row", as_json)


@import_.command("word-comments", short_help="Import a coder's Word comments on a transcript (.docx).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, metavar="NAME", help="Whose codings file (codings/NAME.csv) to add to.")
@click.option("--transcript", "transcript_id", metavar="ID", help="Transcript the document is (default: the file name without .docx).")
@click.option("--add-missing", is_flag=True, help="Add code names that match no code to the codebook as inductive codes.")
@click.option("-c", "--codebook", metavar="ID", help="Match codes only against this codebook (and add new codes to it).")
@click.option("--dry-run", is_flag=True, help="Report what would be imported; write nothing.")
@click.option("--partial", is_flag=True, help="Import the comments that can be placed even if others cannot.")
@click.option("--threshold", type=click.FloatRange(50, 100), default=90.0, show_default=True,
              help="Lowest similarity (0-100) for a fuzzy match of the commented text.")
@click.option("--done", "mark", is_flag=True, help="Also mark each imported transcript done for the coder (fully coded).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def word_comments(ctx: click.Context, file: str, coder: str, transcript_id: str | None, add_missing: bool, mark: bool,
                  codebook: str | None, dry_run: bool, partial: bool, threshold: float, as_json: bool) -> None:
    """Import the comments of a Word FILE (.docx) as codings: the commented text is the span, the
    comment names the code(s).

    Several codes: separate them with ; or , or new lines. A memo: after -- or on a line starting
    "memo:". Example comment: "Stigma; Data sharing -- they still fax the forms". If any comment
    cannot be imported nothing is written (exit 1) unless --partial.
    """
    from qualkit.coding.imports.word_comments import import_word_comments

    ws = open_workspace(ctx)
    result = import_word_comments(ws, file, coder, transcript_id=transcript_id, add_missing=add_missing,
                                  codebook=codebook, partial=partial, dry_run=dry_run, threshold=threshold,
                                  done=mark and not as_json)
    _marked(result)
    report_import(ctx, ws, result, "comment", as_json)


# REFI-QDA imports live with the exports; attaching them here keeps `qualkit import` one group.
from qualkit.cli.refiqda_cmds import import_qdc, import_qdpx  # noqa: E402

import_.add_command(import_qdc)
import_.add_command(import_qdpx)
