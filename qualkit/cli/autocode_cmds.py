"""`qualkit autocode` (keyword/pattern suggestions) and `qualkit search` (keyword in context)."""
from __future__ import annotations

import click

from qualkit.cli.context import jobs_option, open_workspace, reads_the_study
from qualkit.cli.output import echo_json, echo_table, progress_bar, report_skipped, strict_option
from qualkit.io.naming import plural_s

MAX_CORRECTIONS_SHOWN = 15



@click.command()
@click.option("-c", "--codebook", "codebook_id", metavar="ID",
              help="Codebook to use (default: qualkit.yaml's 'codebook', or the only one).")
@click.option("--coder", default="auto", show_default=True,
              help="Write to codings/CODER.csv; must be 'auto' or end in '-auto' (never a person's file).")
@click.option("--unit", type=click.Choice(["turn", "sentence"]), default="turn", show_default=True,
              help="What a match codes: its whole turn or its sentence.")
@click.option("--fuzzy/--no-fuzzy", default=True, show_default=True,
              help="Also catch misspellings and transcription errors of keywords.")
@click.option("--threshold", type=click.FloatRange(50, 100), default=90, show_default=True,
              help="Fuzzy similarity (0-100) a misspelling needs.")
@click.option("--include-facilitators", is_flag=True,
              help="Also code research-team turns (interviewer, moderator roles in participants.csv).")
@click.option("--dry-run", is_flag=True, help="Show what would be suggested; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (with the suggestions).")
@strict_option
@jobs_option
@click.pass_context
def autocode(ctx: click.Context, codebook_id: str | None, coder: str, unit: str, fuzzy: bool, threshold: float,
             include_facilitators: bool, dry_run: bool, as_json: bool, strict: bool) -> None:
    """Suggest codings from the codebook's keywords and token patterns (all local, nothing is sent).

    Keywords match whole words, case-insensitively, and their inflections (lemma); a keyword in
    capitals (ED, HIPAA) matches only in capitals. Token patterns are spaCy Matcher patterns.
    With --fuzzy, misspelled keywords are caught too. Each match codes its turn or sentence;
    the memo says what matched and how (exact, lemma, pattern, fuzzy score).

    Suggestions go to codings/auto.csv (or --coder NAME-auto) for review; running again
    replaces that file and keeps the previous one in .qualkit/backups/.
    """
    from qualkit.coding.autocode import autocode as run_autocode
    from qualkit.coding.autocode import check_coder
    from qualkit.errors import QualkitError

    try:
        check_coder(coder)
    except QualkitError as exc:  # a person's name, or not a valid file name
        raise click.BadParameter(exc.message, param_hint="--coder") from None
    ws = open_workspace(ctx)
    result = run_autocode(ws, codebook_id, unit, coder=coder, fuzzy=fuzzy, threshold=threshold,
                          include_facilitators=include_facilitators, write=not dry_run,
                          progress=progress_bar("Auto-coding transcripts"), keep_codings=as_json)
    for w in result.warnings:
        click.echo(click.style("warning: ", fg="yellow") + w, err=True)
    if as_json:
        echo_json({**result.as_dict(), "skipped": [str(e) for e in ws.skipped_transcripts]})
        report_skipped(ctx, ws.skipped_transcripts, strict)
        return
    rows = [(c.code, c.name, c.units, c.matches["exact"], c.matches["lemma"], c.matches["pattern"], c.matches["fuzzy"])
            for c in result.counts.values()]
    click.echo(f"Codebook {result.codebook}: {result.turns} turn{plural_s(result.turns)} of {result.transcripts} transcript{plural_s(result.transcripts)}, "
               f"unit: {result.unit}, pipeline: {result.pipeline}"
               + (f", fuzzy >= {threshold:g}" if fuzzy else "") + f" ({result.seconds:.1f} s).\n")
    echo_table(rows, ["code", "name", "units", "exact", "lemma", "pattern", "fuzzy"], right=(2, 3, 4, 5, 6))
    if result.corrections:
        click.echo("\nFuzzy matches (check these):")
        ranked = sorted(result.corrections.items(), key=lambda kv: (-kv[1][2], kv[0]))
        for word, (term, score, n) in ranked[:MAX_CORRECTIONS_SHOWN]:
            click.echo(f"  {word} -> {term} ({score:.0f}) x{n}")
        if len(ranked) > MAX_CORRECTIONS_SHOWN:
            click.echo(f"  ... and {len(ranked) - MAX_CORRECTIONS_SHOWN} more (--json lists them all)")
    if result.skipped_facilitator_turns:
        click.echo(f"\nSkipped {result.skipped_facilitator_turns} research-team turn{plural_s(result.skipped_facilitator_turns)} "
                   "(--include-facilitators to code them).")
    n = result.suggestions
    if dry_run:
        click.echo(f"\n{n} suggestion{plural_s(n)}; nothing written (--dry-run).")
        report_skipped(ctx, ws.skipped_transcripts, strict)
        return
    msg = f"\nWrote {n} suggestion{plural_s(n)} to {ws.rel(result.path)}"
    if result.backup:
        msg += f" (previous version kept as {ws.rel(result.backup)})"
    click.echo(msg + ".")
    click.echo("These are suggestions to review, not a coder's codings.")
    report_skipped(ctx, ws.skipped_transcripts, strict)


@click.command()
@click.argument("term")
@click.option("--fuzzy", is_flag=True, help="Also find misspellings and transcription errors.")
@click.option("--lemma", is_flag=True, help="Also find inflections (send: sent, sending).")
@click.option("--threshold", type=click.FloatRange(50, 100), default=80, show_default=True,
              help="Fuzzy similarity (0-100) a word needs with --fuzzy.")
@click.option("--transcript", "transcript_ids", multiple=True, metavar="ID",
              help="Search only this transcript (repeatable).")
@click.option("--context", type=click.IntRange(0, 500), default=60, show_default=True,
              help="Characters of context on each side.")
@click.option("--skip-facilitators", is_flag=True, help="Leave out research-team turns.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@strict_option
@click.pass_context
@reads_the_study
def search(ctx: click.Context, term: str, fuzzy: bool, lemma: bool, threshold: float, transcript_ids: tuple[str, ...],
           context: int, skip_facilitators: bool, as_json: bool, strict: bool) -> None:
    """Keyword in context: every occurrence of TERM in the transcripts' turns.

    Case-insensitive whole words; a multi-word TERM matches across spaces and hyphens, and *
    stands for any letters (fax*). One line per hit: transcript, turn number, speaker, and the
    text around the hit, aligned on it.
    """
    from qualkit.coding.search import search as run_search

    ws = open_workspace(ctx)
    hits = run_search(ws, term, fuzzy, lemma=lemma, transcripts=list(transcript_ids) or None, context=context,
                      threshold=threshold, include_facilitators=not skip_facilitators,
                      progress=progress_bar("Searching turns"))
    if as_json:
        echo_json({"term": term, "fuzzy": fuzzy, "lemma": lemma, "hits": [h.as_dict() for h in hits],
                   "skipped": [str(e) for e in ws.skipped_transcripts]})
        report_skipped(ctx, ws.skipped_transcripts, strict)
        return
    if not hits:
        click.echo(f"No hits for {term!r}.")
        report_skipped(ctx, ws.skipped_transcripts, strict)
        return
    ids = max(len(h.transcript) for h in hits)
    nums = max(len(str(h.turn)) for h in hits)
    who = [(h.speaker or h.participant or "?")[:20] for h in hits]
    wide = max(len(w) for w in who)
    for h, w in zip(hits, who):
        # styled always; click.echo drops the colors when stdout is not a terminal
        middle = click.style(" ".join(h.text.split()), fg="yellow", bold=True)
        line = f"{h.transcript:<{ids}}  {h.turn:>{nums}}  {w:<{wide}}  {h.left:>{context}}{middle}{h.right}"
        click.echo(line.rstrip())
    n_ts = len({h.transcript for h in hits})
    click.echo(f"\n{len(hits)} hit{plural_s(len(hits))} in {n_ts} transcript{plural_s(n_ts)}.")
    if fuzzy or lemma:
        forms: dict[tuple[str, str], list] = {}
        for h in hits:
            key = (" ".join(h.text.split()).lower(), h.kind)
            forms.setdefault(key, [0, h.score])[0] += 1
        parts = []
        for (form, kind), (n, score) in sorted(forms.items(), key=lambda kv: -kv[1][0]):
            tag = "" if kind == "exact" else (f" ({kind} {score:.0f})" if kind == "fuzzy" else f" ({kind})")
            parts.append(f"{form}{tag} x{n}")
        click.echo("Forms: " + ", ".join(parts))
    report_skipped(ctx, ws.skipped_transcripts, strict)
