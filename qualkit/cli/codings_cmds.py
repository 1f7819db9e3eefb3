"""`qualkit codings check|list`: validate and re-anchor coders' files, and list codings."""
from __future__ import annotations

import click

from qualkit.cli.context import open_workspace
from qualkit.cli.output import echo_json, echo_table
from qualkit.io.naming import plural_s


def _quote(text: str | None, width: int = 50) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


@click.group()
def codings() -> None:
    """Check coders' files against the transcripts and codebooks, or list codings."""


@codings.command("check", short_help="Validate coders' files; re-anchor codings after transcript edits.")
@click.option("--coder", "coders", multiple=True, metavar="NAME", help="Only this coder (repeatable; default: every file in codings/).")
@click.option("--fix", is_flag=True, help="Re-anchor moved codings and rewrite the files (backed up first).")
@click.option("--threshold", type=click.FloatRange(50, 100), default=90.0, show_default=True,
              help="Lowest fuzzy-match similarity (0-100) accepted when re-anchoring.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def check(ctx: click.Context, coders: tuple[str, ...], fix: bool, threshold: float, as_json: bool) -> None:
    """Check every coder's file: rows that do not fit (unknown transcript or code, span outside the
    transcript) and codings whose quoted text moved (a transcript was edited) or is lost.

    --fix rewrites moved codings with their new offsets and text; lost codings are kept as they
    are and listed. Exit 1 while anything needs attention.
    """
    from qualkit.coding.coding_ops import check_codings

    ws = open_workspace(ctx)
    report = check_codings(ws, list(coders) or None, fix=fix, threshold=threshold)
    if as_json:
        echo_json(report.as_dict())
        if not report.ok:
            ctx.exit(1)
        return
    if not report.coders:
        click.echo("No codings files in codings/ yet.")
        return
    pending = 0
    for chk in report.coders:
        rel = ws.rel(chk.path)
        if chk.error is not None:
            click.echo(click.style(f"{chk.coder}", bold=True) + f"  {rel}")
            click.echo(click.style("  error: ", fg="red") + str(chk.error), err=True)
            continue
        counts = chk.reanchor.counts() if chk.reanchor else {}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        click.echo(click.style(f"{chk.coder}", bold=True) + f"  {rel}  {chk.codings} coding{plural_s(chk.codings)}" + (f": {summary}" if summary else ""))
        for p in chk.problems:
            where = f"{ws.rel(p.path)}:{p.line}" if p.path and p.line else rel
            click.echo(click.style("  problem  ", fg="red") + f"{where}: {p.message}")
        if chk.reanchor is None:
            continue
        for r in chk.reanchor.results:
            c = r.coding
            if r.status == "unchanged":
                continue
            line = f"line {c.line}" if c.line else ""
            if r.status in ("lost", "ambiguous"):
                click.echo(click.style(f"  {r.status:<9}", fg="red") + f"{line}  {c.transcript} {c.start}-{c.end} {c.code}  "
                           f"\"{_quote(c.text)}\": {r.reason}")
                continue
            if r.status == "unquoted":
                click.echo(click.style("  unquoted ", fg="yellow") + f"{line}  {c.transcript} {c.start}-{c.end} {c.code}  "
                           f"now covers \"{_quote(r.new_text)}\": {r.reason}")
                continue
            score = f" (similarity {r.score:.0f})" if r.status == "fuzzy" else ""
            color = "yellow" if r.status == "fuzzy" else "cyan"
            click.echo(click.style(f"  {r.status:<9}", fg=color) + f"{line}  {c.transcript} {c.start}-{c.end} -> "
                       f"{r.new_start}-{r.new_end} {c.code}{score}  \"{_quote(r.new_text)}\"")
        if chk.reanchor.applied:
            click.echo(f"  Re-anchored {len(chk.reanchor.changed)} coding{plural_s(len(chk.reanchor.changed))} in {rel} "
                       f"(previous version in {ws.rel(ws.backup_dir)}/).")
        elif chk.reanchor.changed:
            pending += len(chk.reanchor.changed)
        if chk.reanchor.lost:
            click.echo(f"  {len(chk.reanchor.lost)} lost coding{plural_s(len(chk.reanchor.lost))} are kept in {rel} as they are: "
                       "correct their offsets or remove them by hand.")
    if pending:
        click.echo(f"\nRun `qualkit codings check --fix` to re-anchor {pending} coding{plural_s(pending)}; files are backed up first.")
    if report.ok:
        click.echo("\nAll codings fit their transcripts and codebooks.")
    else:
        ctx.exit(1)


@codings.command("list", short_help="List codings with speaker and a trimmed quote.")
@click.option("--coder", "coders", multiple=True, metavar="NAME", help="Only this coder (repeatable).")
@click.option("--transcript", "transcript", metavar="ID", help="Only this transcript.")
@click.option("--code", "code", metavar="ID", help="Only this code (id or name).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, coders: tuple[str, ...], transcript: str | None, code: str | None, as_json: bool) -> None:
    """List codings: coder, transcript, span, code, speaker and the quote (trimmed)."""
    from qualkit.coding.coding_ops import query_codings
    from qualkit.workspace.codings import CodingError

    ws = open_workspace(ctx)
    available = ws.coders()
    for name in coders:
        ws.coder_file(name)
        if name not in available:
            raise CodingError(f"no codings file for coder {name!r} (coders: {', '.join(available) or 'none'})", ws.codings_dir)
    df = query_codings(ws, list(coders) or None, transcript=transcript, code=code)
    records = [{k: (None if _isna(v) else v) for k, v in row.items()} for row in df.to_dict(orient="records")]
    if as_json:
        echo_json(records)
        return
    if not records:
        click.echo("No codings match." if (coders or transcript or code) else "No codings yet.")
        return
    rows = [(r["coder"], r["transcript"], f"{r['start']}-{r['end']}", r["code"], r["speaker"] or "", _quote(r["text"]))
            for r in records]
    echo_table(rows, ["coder", "transcript", "span", "code", "speaker", "quote"])
    click.echo(f"\n{len(records)} coding{plural_s(len(records))}.")


@codings.command("done", short_help="Mark a transcript done for a coder (agreement counts only done transcripts).")
@click.argument("transcript")
@click.option("--coder", required=True, metavar="NAME", help="The coder who finished it.")
@click.option("--undo", is_flag=True, help="Mark it not done (in progress) again.")
@click.pass_context
def done(ctx: click.Context, transcript: str, coder: str, undo: bool) -> None:
    """Mark TRANSCRIPT done for a coder: they have coded all of it.

    Agreement compares only transcripts every compared coder has done, so a transcript a second
    coder has only started is never counted as double-coded. Marks are kept in codings/NAME.done.
    """
    from qualkit.coding.coverage import done_path, mark_done, progress

    ws = open_workspace(ctx)
    changed = mark_done(ws, transcript, coder, done=not undo)
    tid = ws.transcript(transcript).id
    p = progress(ws, coder, [tid]).get(tid)
    state = "not done (in progress)" if undo else "done"
    click.echo(f"{tid}: {state} for {coder}" + (f" ({p})" if p else "") + ("" if changed else " (already so)")
               + f"; saved in {ws.rel(done_path(ws, coder))}")
    if not undo and p is not None and p.coded == 0 and p.total:
        click.echo(f"Note: {coder} coded none of its turns: agreement now counts every code another coder applied "
                   f"there as a disagreement. If that was a slip, `qualkit codings done {tid} --coder {coder} --undo`.",
                   err=True)


def _isna(value) -> bool:
    try:
        return value != value  # NaN
    except Exception:  # noqa: BLE001
        return False
