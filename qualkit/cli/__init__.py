"""The ``qualkit`` command: a thin click layer over the library.

Subcommands live in their own modules and are imported only when invoked, so ``qualkit --help``
never loads pandas, python-docx or spaCy. Every :class:`~qualkit.errors.QualkitError` becomes a
one-line message and exit code 1 here, in one place.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import MutableMapping
from typing import Any

import click

# command name -> (module under qualkit.cli, attribute, one-line help).
# The one-line help here is the ONLY short help of a top-level command: `qualkit --help` shows it
# without importing the command, and LazyGroup.get_command stamps it on the loaded command, so a
# command's docstring is its long help (`qualkit CMD --help`) and never a second one-liner that
# could drift (tests/test_help.py checks both).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("workspace_cmds", "init", "Create a workspace in DIR (new, empty, or holding your transcripts)."),
    "demo": ("workspace_cmds", "demo", "Copy the bundled sample study into DIR."),
    "run": ("run_cmd", "run", "Run the whole pipeline on this workspace and write exports/."),
    "status": ("status_cmd", "status", "What changed and what is left: transcripts, coders' progress, drift, consensus, stale exports."),
    "ingest": ("transcripts_cmds", "ingest", "Read every transcript and report turns, speakers and warnings."),
    "transcripts": ("transcripts_cmds", "transcripts", "List parsed transcripts or show one, turn by turn."),
    "codebook": ("codebook_cmds", "codebook", "Create, edit, check, compare, export and import codebooks."),
    "code": ("code_cmd", "code", "Code a transcript interactively, unit by unit (saved as you go, resumable)."),
    "autocode": ("autocode_cmds", "autocode", "Suggest codings from codebook keywords and patterns (local, for review)."),
    "search": ("autocode_cmds", "search", "Keyword in context: every occurrence of a term, with turn and speaker."),
    "codings": ("codings_cmds", "codings", "Check coders' files (re-anchor after transcript edits) or list codings."),
    "import": ("import_cmds", "import_", "Import codings (spreadsheet, Word comments) or a REFI-QDA codebook/project (.qdc/.qdpx)."),
    "export": ("refiqda_cmds", "export", "Export every study table (all), a codebook (.qdc) or the workspace (.qdpx) for other QDA tools."),
    "agree": ("agree_cmd", "agree", "Inter-coder agreement per code (kappa, alpha, AC1), pooled, with exports."),
    "disagreements": ("reconcile_cmds", "disagreements", "Show where two coders differ, with code definitions; write an adjudication file."),
    "reconcile": ("reconcile_cmds", "reconcile", "Build consensus codings from two coders and the team's decisions (audit-logged)."),
    "summaries": ("summaries_cmds", "summaries", "Rapid analysis: summary templates per transcript, filled in and read back."),
    "themes": ("themes_cmds", "themes", "Show and check themes (themes.yaml): codes grouped into themes, mapped onto framework domains."),
    "matrix": ("matrix_cmds", "matrix", "Matrices: themes x domains, codes x cases, co-occurrence, saturation, rapid analysis."),
    "report": ("report_cmd", "report", "Write one self-contained HTML report of the study (exports/report.html)."),
    "deid": ("deid_cmds", "deid", "De-identify: propose identifiers (deid.csv), review, apply to exports, check files."),
    "frameworks": ("frameworks_cmds", "frameworks", "List implementation frameworks or show one as a tree."),
    "memo": ("memo_cmds", "memo", "Write and list analytic memos and reflexive-journal entries (memos/*.md)."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module, attr, short_help = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        command.short_help = short_help  # set on every load: the registry is the single source
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        # A mistyped command gets a suggestion ("ingset" -> "ingest").
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            import difflib

            close = difflib.get_close_matches(args[0], self.list_commands(ctx), n=1) if args else []
            if close:
                ctx.fail(f"No such command '{args[0]}'. Did you mean '{close[0]}'?")
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the registry's short help so `qualkit --help` imports no command module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from qualkit.cli.output import describe_error
        from qualkit.errors import QualkitError

        try:
            if ctx.parent is None and sys.stderr.isatty():  # progress bars on a terminal only (qualkit.io.progress)
                from qualkit.cli.output import TerminalProgress
                from qualkit.io.progress import reporting

                with reporting(TerminalProgress()):
                    return super().invoke(ctx)
            return super().invoke(ctx)
        except QualkitError as exc:
            raise click.ClickException(describe_error(exc)) from None
        except OSError as exc:  # disk full, read-only, permission, name too long, ...: one line naming the file
            raise click.ClickException(os_error_line(exc)) from None


def os_error_line(exc: OSError) -> str:
    """An operating-system error as one line naming the file and what to do."""
    import errno

    hints = {errno.ENOSPC: "the disk is full; free some space and run the command again (nothing was half-written)",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EROFS: "the file system is read-only", errno.ENAMETOOLONG: "the name is too long for the file system",
             errno.EDQUOT: "the disk quota is exceeded; free some space and run the command again"}
    what = hints.get(exc.errno or -1) or (exc.strerror or str(exc)).lower()
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {what}" if name else what


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qualkit", prog_name="qualkit")
@click.option("-w", "--workspace", type=click.Path(file_okay=False), envvar="QUALKIT_WORKSPACE",
              help="Workspace folder (default: the one containing the current folder).")
@click.option("--allow-unanchored", is_flag=True, help="For every command: leave out codings that can no longer be "
              "placed in a changed transcript (default: stop with an error).")
@click.option("--allow-outside-links", is_flag=True, envvar="QUALKIT_ALLOW_OUTSIDE_LINKS",
              help="Read transcripts that are symbolic links to files outside the workspace.")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, allow_unanchored: bool, allow_outside_links: bool = False) -> None:
    """qualkit: transcripts -> codes -> agreement -> themes -> framework matrices.

    Run commands inside a workspace (a folder with qualkit.yaml); `qualkit demo DIR` makes one
    with a sample study, `qualkit init DIR` an empty one.
    """
    if allow_outside_links:
        import os

        os.environ["QUALKIT_ALLOW_OUTSIDE_LINKS"] = "1"
    ctx.obj = {"workspace": workspace, "allow_unanchored": allow_unanchored}


# The variables OpenBLAS (numpy's BLAS) reads for its thread count, in the order it reads them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread(environ: MutableMapping[str, str]) -> None:
    """Ask numpy's BLAS for one thread, unless the user chose a number: set before numpy is imported.

    OpenBLAS starts a thread per core and wakes them all for every matrix product; on the small products
    a command makes (set alpha's 250 x 99 by 99 x 99 per code) the waking costs 20-50x the product's own
    CPU, about 0.13 s of `qualkit run` on the sample study, for no gain in time. qualkit's large work is
    spread over processes instead (ingest, autocode), which also inherit this setting."""
    if not any(environ.get(name) for name in BLAS_THREAD_VARIABLES):
        environ["OPENBLAS_NUM_THREADS"] = "1"


def main() -> None:
    """Console-script entry point.

    An unexpected exception is a bug in qualkit, not the user's fault: say so in one line and keep
    the traceback for QUALKIT_DEBUG=1, so transcripts' content never floods a shared screen.
    """
    import gc
    import os

    # A command lives seconds and allocates millions of small objects that die young: the default
    # young-generation collection every 700 allocations was ~10% of `run` on the sample study. Every
    # 10,000 halves that; cyclic garbage is still collected, a little later.
    gc.set_threshold(10_000, 10, 10)
    one_blas_thread(os.environ)
    try:
        cli(prog_name="qualkit", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("QUALKIT_DEBUG"):
            raise
        click.echo(f"Error: internal error ({type(exc).__name__}: {exc}). This is a bug in qualkit; "
                   "run again with QUALKIT_DEBUG=1 to see the details and please report it.", err=True)
        sys.exit(1)
