"""`qualkit deid`: scan, review, accept/reject, export redacted copies, check finished files."""
from __future__ import annotations

import click

from qualkit.cli.context import open_workspace
from qualkit.deid.table import KINDS as _KINDS
from qualkit.io.naming import plural_s


@click.group("deid")
def deid() -> None:
    """De-identification: propose identifiers, decide, apply to every export, check before sharing.

    `deid scan` writes deid.csv (one row per proposed span). Decide with `deid review`, or
    `deid accept|reject`. Once any span is decided, every export (qualkit run, matrix, report,
    export, summaries template) uses the redacted text; `--no-deid` on those commands turns it off
    and the manifest records it. Transcripts and codings on disk are never changed.
    """


@deid.command("scan", short_help="Propose spans to redact in every transcript, into deid.csv.")
@click.pass_context
def scan(ctx: click.Context) -> None:
    """Propose names, places, organisations and Safe Harbor identifiers in every transcript.

    Decisions already in deid.csv are kept; undecided rows the detectors no longer propose are
    dropped. Lists of your own go in deid.yaml (allow, deny/people, places, organisations, ner_model).
    """
    ws = open_workspace(ctx)
    result = ws.deid_scan()
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    kinds = ", ".join(f"{n} {k}" for k, n in result.by_kind().items()) or "nothing"
    click.echo(f"{ws.rel(result.path)}: {len(result.table.rows)} span{plural_s(len(result.table.rows))} ({kinds}); "
               f"{result.added} new, {result.kept} kept, {result.dropped} dropped.")
    click.echo("Decide with `qualkit deid review` or `qualkit deid accept --all`; a person must review them.")


# What a decision means for the span, said as the user reads it ("now accept" read as a typo).
_NOW = {"accept": "accepted (redacted on export)", "reject": "rejected (kept as written)"}


def _decide(ctx: click.Context, decision: str, ids: tuple[str, ...], kind: str | None, transcript: str | None,
            everything: bool, redecide: bool) -> None:
    ws = open_workspace(ctx)
    result = ws.deid_decide(decision, ids, kind=kind, transcript=transcript, everything=everything, redecide=redecide)
    now = _NOW.get(decision, decision or "undecided")
    click.echo(f"{ws.rel(result.path)}: {result.changed} of {result.matched} span{plural_s(result.matched)} now {now}; "
               f"{result.undecided} undecided left.")


def _decide_options(f):
    f = click.argument("ids", nargs=-1)(f)
    f = click.option("--kind", type=click.Choice(_KINDS), help="Only spans of this kind.")(f)
    f = click.option("--transcript", metavar="ID", help="Only spans of this transcript.")(f)
    f = click.option("--all", "everything", is_flag=True, help="Every undecided span.")(f)
    return click.option("--redecide", is_flag=True, help="With --kind/--transcript/--all: also change spans already decided.")(f)


@deid.command("accept", short_help="Accept spans (they are redacted in exports).")
@_decide_options
@click.pass_context
def accept(ctx: click.Context, ids: tuple[str, ...], kind: str | None, transcript: str | None, everything: bool, redecide: bool) -> None:
    """Accept spans by ID (first column of deid.csv), by --kind, --transcript or --all."""
    _decide(ctx, "accept", ids, kind, transcript, everything, redecide)


@deid.command("reject", short_help="Reject spans (they stay as written in exports).")
@_decide_options
@click.pass_context
def reject(ctx: click.Context, ids: tuple[str, ...], kind: str | None, transcript: str | None, everything: bool, redecide: bool) -> None:
    """Reject spans by ID, by --kind, --transcript or --all (only undecided ones unless --redecide)."""
    _decide(ctx, "reject", ids, kind, transcript, everything, redecide)


@deid.command("review", short_help="Decide the undecided spans one by one, in context (resumable).")
@click.option("--kind", type=click.Choice(_KINDS), help="Only spans of this kind.")
@click.option("--transcript", metavar="ID", help="Only spans of this transcript.")
@click.pass_context
def review(ctx: click.Context, kind: str | None, transcript: str | None) -> None:
    """Each undecided span with its context. Answer y (redact), n (keep), Y/N (the same for every
    undecided span with this text), e (redact with a replacement you type), s (skip), q (quit).
    Every answer is saved at once; run again to resume."""
    from qualkit.cli.terminal import LineTerminal

    ws = open_workspace(ctx)
    term = LineTerminal()
    decided = 0
    for item in ws.deid_review_queue(kind=kind, transcript=transcript):
        r = item.row
        term.out(f"\n{r.id}  {r.transcript}:{r.start}  {r.kind} ({r.detector}) -> {r.replacement}"
                 + (f"   [{item.same_text} with this text]" if item.same_text > 1 else ""))
        term.out(term.wrap(f"...{item.before}[[{r.text}]]{item.after}..."))
        while True:
            reply = term.read("redact? [y/n/Y/N/e/s/q] ")
            if reply is None or reply.strip() == "q":
                term.out(f"{decided} decided; run `qualkit deid review` again to resume.")
                return
            reply = reply.strip()
            if reply in ("y", "n", "Y", "N"):
                decided += ws.deid_answer(r.id, "accept" if reply.lower() == "y" else "reject", same_text=reply.isupper())
            elif reply == "e":
                new = (term.read("replacement: ") or "").strip()
                if not new:
                    continue
                decided += ws.deid_answer(r.id, "accept", replacement=new)
            elif reply != "s":
                term.out("y redact, n keep, Y/N all with this text, e edit replacement, s skip, q quit")
                continue
            break
    term.out(f"{decided} decided; nothing undecided left" + (" of this selection." if kind or transcript else "."))


@deid.command("export", short_help="Write redacted copies of the transcripts (and a mapping file kept apart).")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.pass_context
def export(ctx: click.Context, out_dir: str) -> None:
    """Write OUT_DIR/<id>.txt for every transcript, redacted with every span not rejected; the
    mapping (replacement -> original) goes to OUT_DIR.mapping.csv beside the folder, never inside."""
    ws = open_workspace(ctx)
    result = ws.deid_export(out_dir)
    click.echo(f"Wrote {len(result.files)} redacted transcript{plural_s(len(result.files))} to {out_dir}; "
               f"mapping in {result.mapping} (keep it private).")


@deid.command("check", short_help="Scan finished files for identifiers before sharing (exit 1 if any).")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Look for every accepted or undecided span of deid.csv in PATHS (DOCX, XLSX, CSV, HTML, MD,
    QDPX, folders recursively). Lists each one found and exits 1; exits 0 when none is."""
    ws = open_workspace(ctx)
    findings = ws.deid_check(paths)
    for f in findings:
        click.echo(str(f))
    if findings:
        files = {f.path for f in findings}
        click.echo(f"{len(findings)} identifier{plural_s(len(findings))} found in {len(files)} file{plural_s(len(files))}.", err=True)
        ctx.exit(1)
    click.echo("No identifier of deid.csv found.")
