"""`qualkit ingest` and `qualkit transcripts list|show`: what was parsed from each file."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from qualkit.cli.context import jobs_option, open_workspace
from qualkit.cli.output import describe_error, echo_json, echo_table, progress_bar, wrap
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.transcripts.model import Transcript


def _report_errors(errors: Iterable[Exception]) -> None:
    for exc in errors:
        click.echo(click.style("Error: ", fg="red") + describe_error(exc), err=True)


def _report_warnings(warnings: Iterable[str]) -> None:
    for w in warnings:
        click.echo(click.style("Warning: ", fg="yellow") + w, err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--convert", is_flag=True,
              help="First convert old .doc (and other LibreOffice-readable) files to .docx copies with soffice; "
                   "the originals are kept as they are.")
@jobs_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], as_json: bool, convert: bool) -> None:
    """Read every transcript in transcripts/ (or PATHS) and report what was found.

    One row per transcript: id, format, turns, speakers, words and warnings. Unknown speakers
    (not in participants.csv) are warnings. Files are never modified. Exit 1 if any file could
    not be read.
    """
    ws = open_workspace(ctx)
    problems: list = []
    if convert:
        converted, problems = ws.convert_documents()
        for src, dst in converted:
            click.echo(f"Converted {ws.rel(src)} -> {ws.rel(dst)} (the original is unchanged)", err=as_json)
        _report_errors(problems)
    from qualkit.io.collector import gc_paused

    with gc_paused(freeze_after=True):  # 175,000 turns at 1,000 interviews and no cycles: nothing to collect
        result = ws.ingest(paths or None, progress=progress_bar("Reading transcripts"), rows_only=True)
    if as_json:
        echo_json({"transcripts": [r.as_dict() for r in result.rows], "warnings": result.warnings,
                   "errors": [{"path": str(e.path) if e.path else None, "line": e.line, "message": e.message} for e in result.errors]})
    else:
        if result.rows:
            echo_table([(r.id, r.format, r.turns, r.speakers, r.words, len(r.warnings)) for r in result.rows],
                       ["id", "format", "turns", "speakers", "words", "warnings"], right=(2, 3, 4, 5))
        else:
            click.echo("No transcripts found in transcripts/." if not paths else "No transcripts read.")
        warned = [r for r in result.rows if r.warnings]
        if warned:
            click.echo("\nWarnings:")
            for r in warned:
                for w in r.warnings:
                    click.echo(f"  {r.id}: {w}")
        total_words = sum(r.words for r in result.rows)
        click.echo(f"\n{len(result.rows)} transcript{plural_s(len(result.rows))}, {sum(r.turns for r in result.rows)} turn{plural_s(sum(r.turns for r in result.rows))}, {total_words} word{plural_s(total_words)}.")
    if not as_json:
        _report_warnings(result.warnings)
    # a file whose conversion failed was reported above; its "cannot read a .doc" error says nothing new
    failed = {(ws.root / p.path).resolve() for p in problems if p.path is not None}
    errors = [e for e in result.errors if e.path is None or (ws.root / e.path).resolve() not in failed]
    if errors:
        _report_errors(errors)
    if result.errors or problems:
        ctx.exit(1)


@click.group()
def transcripts() -> None:
    """List parsed transcripts or show one turn by turn."""


@transcripts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """One line per transcript: its speakers and their participants."""
    ws = open_workspace(ctx)
    result = ws.ingest()
    if as_json:
        echo_json([{"id": t.id, "format": t.source_format, "turns": len(t.turns), "words": t.word_count,
                    "speakers": [{"label": s, "participant_id": _pid(t, s)} for s in t.speakers]} for t in result.transcripts])
    else:
        rows = []
        for t in result.transcripts:
            who = ", ".join(f"{s} = {_pid(t, s) or '?'}" for s in t.speakers) or "(no labels)"
            rows.append((t.id, t.source_format, len(t.turns), t.word_count, who))
        echo_table(rows, ["id", "format", "turns", "words", "speakers = participant"], right=(2, 3))
    if result.errors:
        _report_errors(result.errors)
        ctx.exit(1)


def _pid(t: Transcript, speaker: str) -> str | None:
    return next((turn.participant for turn in t.turns if turn.speaker == speaker), None)


def _parse_range(spec: str, n: int) -> range:
    """'10-20', '5', '7-' or '-3' (1-based, inclusive) as a range of 0-based turn indexes."""
    m = re.fullmatch(r"\s*(\d*)\s*(-?)\s*(\d*)\s*", spec)
    if not m or not (m.group(1) or m.group(3)):
        raise click.BadParameter(f"{spec!r} is not a turn range like 10-20, 5, 7- or -3", param_hint="--turns")
    lo = int(m.group(1)) if m.group(1) else 1
    hi = int(m.group(3)) if m.group(3) else (n if m.group(2) else lo)
    if lo < 1 or hi < lo:
        raise click.BadParameter(f"{spec!r}: turns are numbered from 1 and the range must not be reversed", param_hint="--turns")
    return range(lo - 1, min(hi, n))


@transcripts.command("show")
@click.argument("transcript_id")
@click.option("--turns", "turn_spec", metavar="RANGE", help="Turns to show, numbered from 1: 10-20, 5, 7- or -3.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def show(ctx: click.Context, transcript_id: str, turn_spec: str | None, as_json: bool) -> None:
    """Show TRANSCRIPT_ID turn by turn.

    Each turn: its number, time, speaker, the participant's attributes, and the text.
    """
    ws = open_workspace(ctx)
    t = ws.transcript(transcript_id)
    table = ws.participant_table
    selected = _parse_range(turn_spec, len(t.turns)) if turn_spec is not None else range(len(t.turns))
    if as_json:
        echo_json({"id": t.id, "path": str(t.path), "format": t.source_format, "encoding": t.encoding,
                   "warnings": t.warnings, "turns": [
                       {"number": i + 1, "index": i, "speaker": t.turns[i].speaker, "participant_id": t.turns[i].participant,
                        "attributes": table.attributes(t.turns[i].participant or ""),
                        "timestamp": t.turns[i].timestamp, "start": t.turns[i].start, "end": t.turns[i].end,
                        "text": t.turn_text(i)} for i in selected]})
        return
    click.echo(click.style(f"{t.id}", bold=True) + f"  ({t.source_format}{f', {t.encoding}' if t.encoding else ''}; {len(t.turns)} turn{plural_s(len(t.turns))}, {t.word_count} word{plural_s(t.word_count)})  {t.path}")
    for w in t.warnings:
        click.echo(click.style("  warning: ", fg="yellow") + w)
    from qualkit.transcripts.render import format_timestamp

    for i in selected:
        turn = t.turns[i]
        head = f"[{i + 1}]"
        if turn.timestamp is not None:
            head += f" {format_timestamp(turn.timestamp)}"
        head += f" {turn.speaker or '(unlabeled)'}"
        if turn.participant:
            attrs = table.attributes(turn.participant)
            desc = ", ".join(v for v in attrs.values() if v)
            head += f"  ({turn.participant}{', ' + desc if desc else ''})"
        click.echo("\n" + click.style(head, bold=True))
        click.echo(wrap(t.turn_text(turn)))
    if not selected:
        click.echo(f"No turns in that range (the transcript has {len(t.turns)}).")


@transcripts.command("explain")
@click.argument("transcript_id")
@click.option("--all", "show_all", is_flag=True, help="List every label candidate (default: the first 40).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def explain(ctx: click.Context, transcript_id: str, show_all: bool, as_json: bool) -> None:
    """Why TRANSCRIPT_ID's speakers came out as they did.

    Says which rule applied (a speakers.rules entry, speakers.pattern, or learned from the file),
    which convention was detected and why, every line that looked like a label with the verdict
    (accepted or rejected) and the reason, and the first lines no speaker was attributed to.
    """
    ws = open_workspace(ctx)
    ex = ws.explain_transcript(transcript_id)
    if as_json:
        echo_json(ex.as_dict())
        return
    click.echo(click.style(ex.id, bold=True) + f"  ({ex.source_format})")
    click.echo(f"Rule:        {ex.rule}")
    click.echo(f"Convention:  {ex.convention}")
    click.echo(f"Why:         {ex.why}")
    click.echo(f"Speakers:    {', '.join(ex.speakers) or '(none)'}")
    shown = ex.candidates if show_all else ex.candidates[:40]
    if shown:
        click.echo("\nLabel candidates:")
        echo_table([(c.line, "accepted" if c.accepted else "rejected", c.label, c.reason) for c in shown],
                   ["line", "verdict", "label", "reason"], right=(0,))
        if len(shown) < len(ex.candidates):
            click.echo(f"  ... {len(ex.candidates) - len(shown)} more (--all)")
    if ex.unattributed:
        click.echo("\nFirst lines attributed to no speaker:")
        for line, text in ex.unattributed:
            click.echo(f"  {line if line is not None else '?':>5}  {text}")
