"""`qualkit summaries template|collect` and `qualkit matrix rapid`: rapid qualitative analysis."""
from __future__ import annotations

from pathlib import Path

import click

from qualkit.cli.context import (
    allow_unanchored_option,
    deid_option,
    open_export_workspace,
    open_workspace,
    reads_the_study,
)
from qualkit.cli.output import OutputFile, echo_json, echo_table, report_skipped, strict_option
from qualkit.io.naming import plural_s

EXPORT_FORMATS = ("csv", "md", "html", "json", "xlsx", "docx", "tex")



def _warn(message: str) -> None:
    click.echo(click.style("Warning: ", fg="yellow") + message, err=True)


def _error_line(ws, exc) -> str:
    """A problem as one line, its file relative to the workspace (as the templates are listed)."""
    from qualkit.analysis.summaries import error_text

    return error_text(ws, exc)


@click.group()
def summaries() -> None:
    """Rapid analysis: a summary template per transcript, filled by the analyst and read back.

    Domains come from the interview guide ('interview_guide:' in qualkit.yaml) or from a
    framework's top-level domains; each domain is pre-filled with the coded excerpts that fall in
    it, and has a 'Summary:' area for the analyst's bullets.
    """


@summaries.command("template", short_help="Write a summary template per transcript in summaries/.")
@click.option("--domains", "domains", metavar="guide|framework:ID|equity",
              help="Domains: 'guide' (interview_guide: in qualkit.yaml), a framework's top-level domains, "
                   "e.g. framework:heif, or 'equity' (its health-equity domains; default: the guide if there is "
                   "one, else the workspace's framework).")
@click.option("--format", "fmt", type=click.Choice(["md", "docx"]), default="md", show_default=True,
              help="Markdown or Word templates.")
@click.option("--coder", default="consensus", show_default=True, metavar="NAME[,NAME...]",
              help="Codings whose excerpts pre-fill the domains; without codings/consensus.csv the coders in "
                   "qualkit.yaml are pooled (with a warning). A comma list pools those coders.")
@click.option("--transcript", "transcripts", multiple=True, metavar="ID",
              help="Only this transcript (repeatable; default: all).")
@click.option("--overwrite", is_flag=True,
              help="Replace templates the analyst has started (the old file is backed up in .qualkit/backups/ first).")
@click.option("--max-chars", type=click.IntRange(20, None), default=300, show_default=True,
              help="Trim longer excerpts at a word boundary.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@strict_option
@deid_option
@allow_unanchored_option
@click.pass_context
@reads_the_study
def template(ctx: click.Context, domains: str | None, fmt: str, coder: str, transcripts: tuple[str, ...],
             overwrite: bool, max_chars: int, as_json: bool, strict: bool) -> None:
    """One template per transcript: summaries/<transcript>.md (or .docx).

    A template the analyst has started (anything changed since qualkit wrote it) is kept as it is;
    --overwrite replaces it after copying it to .qualkit/backups/. Templates still as qualkit wrote
    them are brought up to date (new codings, a changed guide).
    """
    from qualkit.analysis.summaries import write_templates

    ws = open_export_workspace(ctx)
    run = write_templates(ws, domains, fmt, coder, overwrite, list(transcripts) or None, max_chars)
    if as_json:
        echo_json(run.as_dict())
        report_skipped(ctx, run.errors, strict)
        return
    for w in run.warnings:
        _warn(w)
    assert run.domains is not None and run.codings is not None  # write_templates always sets both
    click.echo(f"Domains: {run.domains.source} — {run.domains.description}")
    click.echo(f"Excerpts: {run.codings.description}")
    words = {"written": "wrote", "updated": "updated", "unchanged": "unchanged", "replaced": "replaced",
             "kept": "kept"}
    kept = 0
    for r in run.results:
        line = f"  {words[r.status]:<9} {ws.rel(r.path)}"
        if r.status != "kept":
            line += f"  ({r.excerpts} excerpt{'s' if r.excerpts != 1 else ''})"
        if r.status == "kept":
            kept += 1
            line += f"  ({r.reason or 'the analyst has started it; --overwrite replaces it after a backup'})"
        if r.backup:
            line += f"  backup: {ws.rel(r.backup)}"
        if r.removed:
            line += f"  (removed {ws.rel(r.removed)}, the old format)"
        click.echo(line)
    if not run.results and not run.errors:
        click.echo("No transcripts in transcripts/ yet.")
    # An unreadable transcript is skipped, not fatal: the others get their templates.
    report_skipped(ctx, run.errors, strict)


@summaries.command("collect", short_help="Read the filled templates back; report empty domains and problems.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (bullets, empty domains, errors).")
@click.option("--out", "out", type=OutputFile(), metavar="FILE",
              help="Write the bullets (one row per bullet) to FILE; the format follows the extension "
                   "(.csv .md .html .json .xlsx .docx .tex).")
@click.pass_context
def collect(ctx: click.Context, as_json: bool, out: str | None) -> None:
    """Read every template in summaries/ (Markdown and Word): the analyst's bullets per domain
    (never the pre-filled excerpts), the domains still empty, and transcripts with no template.

    A malformed template (unknown transcript in the header, a domain heading that is not in the
    guide, a missing heading) is reported with its file and line (Word: paragraph); exit 1.
    """
    from qualkit.analysis.summaries import read_summaries

    ws = open_workspace(ctx)
    s = read_summaries(ws)
    frame = s.frame(ws)
    written = []
    if out:
        from qualkit.render.tables import export_tables

        written = export_tables({"summaries": frame}, out, title="Rapid analysis summaries", workspace=ws,
                                inputs=[f.path for f in s.files],
                                parameters={"command": "summaries collect",
                                            "domains": s.domains.source if s.domains else None})
    if as_json:
        echo_json(s.as_dict(ws))
        if not s.ok:
            ctx.exit(1)
        return
    if not s.files:
        click.echo("No templates in summaries/ yet: make them with `qualkit summaries template`.")
    rows = []
    for f in s.files:
        if f.transcript is None:
            continue
        n = sum(len(d.bullets) for d in f.domains)
        filled = sum(1 for d in f.domains if d.bullets)
        empty = f.empty_domains()
        status = "not started" if filled == 0 else (f"{len(empty)} empty: {', '.join(empty)}" if empty else "complete")
        rows.append([f.transcript, ws.rel(f.path), f"{filled}/{len(f.domains)}", n, f.analyst, status])
    if rows:
        echo_table(rows, ["transcript", "template", "domains", "bullets", "analyst", "empty domains"], right=(2, 3))
    if s.missing:
        click.echo(f"No template yet: {', '.join(s.missing)}")
    for p in written:
        if not str(p).endswith(".manifest.json"):
            click.echo(f"Wrote {p} (manifest: {p}.manifest.json)")
    for e in s.errors:
        click.echo(click.style("Error: ", fg="red") + _error_line(ws, e), err=True)
    if not s.ok:
        ctx.exit(1)


@click.command("rapid", short_help="Rapid analysis matrix: participants or transcripts x domains.")
@click.option("--rows", type=click.Choice(["participant", "transcript"]), default="participant", show_default=True,
              help="One row per participant (focus groups: see below) or per transcript.")
@click.option("--by", "by", metavar="ATTRIBUTE",
              help="Group rows by a case attribute, as `matrix codes --by` cuts: a participants.csv, documents.csv "
                   "or cases.csv column or section heading (role, site, source_type, ...).")
@click.option("--group-by", "group_by", metavar="ATTRIBUTE", hidden=True, help="The old name of --by.")
@click.option("--equity", is_flag=True,
              help="Columns are the framework's health-equity domains (HEIF 2021): summary bullets regrouped under "
                   "the equity domains their template domain's codes lie in; --cells quotes: excerpts by equity domain.")
@click.option("--cells", type=click.Choice(["summary", "quotes"]), default="summary", show_default=True,
              help="The analyst's summary bullets (summaries/) or the coded excerpts with participant ids.")
@click.option("--domains", metavar="guide|framework:ID|equity",
              help="Domains for --cells quotes (default: the guide, else the framework; equity: its health-equity domains).")
@click.option("--coder", default="consensus", show_default=True, metavar="NAME[,NAME...]",
              help="Codings for --cells quotes (no consensus.csv: the qualkit.yaml coders pooled).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), help="Export format (default: from --out's extension).")
@click.option("--out", type=OutputFile(), metavar="FILE",
              help="Write the matrix to FILE (default with --format: exports/rapid_matrix.<format>).")
@click.option("--json", "as_json", is_flag=True, help="Print the matrix as JSON records.")
@allow_unanchored_option
@click.pass_context
@reads_the_study
def rapid(ctx: click.Context, rows: str, by: str | None, group_by: str | None, equity: bool, cells: str,
          domains: str | None, coder: str, fmt: str | None, out: str | None, as_json: bool) -> None:
    """Rows are participants or transcripts (optionally grouped by role, site or any case attribute,
    --by), columns are domains (--equity: the health-equity domains), cells are the analyst's summary
    bullets or, with --cells quotes, coded excerpts.

    With --rows participant, a focus group's summary is one row for the group (not copied to each
    member); bullets that name a participant, e.g. '(FG1-P3)', go to that participant's row.
    Exports get a FILE.manifest.json beside them.
    """
    from qualkit.analysis.rapid import rapid_matrix
    from qualkit.render.tables import Table, export_tables

    ws = open_workspace(ctx)
    by = by or group_by
    df = rapid_matrix(ws, rows=rows, cells=cells, by=by, domains=domains, coder=coder, equity=equity)
    for w in df.attrs.get("warnings", []):
        _warn(w)
    if out is None and fmt is not None:
        out = str(Path(ws.root) / "exports" / f"rapid_matrix.{fmt}")
    if out is not None:
        path = Path(out)
        if fmt is not None and path.suffix.lower() != f".{fmt}":
            if path.suffix:
                raise click.UsageError(f"--out {out} does not end in .{fmt} (--format {fmt}); give one or the other")
            path = path.with_suffix(f".{fmt}")
        inputs = [p for p in sorted((Path(ws.root) / "summaries").glob("*")) if p.suffix in (".md", ".docx")] \
            if cells == "summary" else sorted(Path(ws.codings_dir).glob("*.csv"))
        title = f"Rapid analysis matrix: {rows}s x domains ({'summary bullets' if cells == 'summary' else 'coded excerpts'})"
        written = export_tables([Table("rapid_matrix", df, title=None, notes=df.attrs.get("notes"))], path, title=title,
                                workspace=ws, inputs=inputs,
                                parameters={"command": "matrix rapid", "rows": rows, "cells": cells,
                                            "by": by, "equity": equity, "domains": df.attrs.get("domains"),
                                            "coder": coder})
        if as_json:
            echo_json({"written": [str(p) for p in written]})
            return
        click.echo(f"Wrote {ws.rel(written[0])} ({len(df)} row{plural_s(len(df))} x {len(df.columns)} column{plural_s(len(df.columns))}; "
                   f"manifest: {ws.rel(written[-1])})")
        return
    if as_json:
        echo_json({"notes": df.attrs.get("notes"), "rows": df.to_dict("records")})
        return
    _print_matrix(df, rows, by)


def _print_matrix(df, rows: str, group_by: str | None) -> None:
    """The matrix on a terminal, row by row (a wide table does not fit): domain, then its cell."""
    import shutil
    import textwrap

    width = max(60, min(110, shutil.get_terminal_size((100, 20)).columns))
    keys = {group_by, "participant", "role", "transcript", "session", "participants"}
    domains = [c for c in df.columns if c not in keys]
    last_group = None
    for rec in df.to_dict("records"):
        if group_by and rec[group_by] != last_group:
            last_group = rec[group_by]
            click.echo(click.style(f"== {group_by}: {last_group} ==", bold=True))
        if rows == "participant":
            head = f"{rec['participant']}" + (f" ({rec['role']})" if rec.get("role") else "") + f"  {rec['transcript']}, {rec['session']}"
        else:
            head = f"{rec['transcript']}  {rec['session']}: {rec['participants']}"
        click.echo(click.style(head, bold=True))
        filled = False
        for d in domains:
            if rec[d]:
                filled = True
                click.echo(f"  {d}:")
                for item in str(rec[d]).split("\n"):
                    click.echo(textwrap.fill(item, width, initial_indent="    ", subsequent_indent="      "))
        if not filled:
            click.echo("  (nothing yet)")
        click.echo("")
    if df.attrs.get("notes"):
        click.echo(df.attrs["notes"])


@summaries.command("calibrate", short_help="Calibration: one template of TRANSCRIPT per analyst.")
@click.argument("transcript")
@click.option("--analysts", required=True, metavar="A,B", help="The analysts who each summarise TRANSCRIPT.")
@click.option("--coder", default="consensus", show_default=True, help="Codings whose excerpts pre-fill the templates.")
@click.pass_context
def calibrate(ctx: click.Context, transcript: str, analysts: str, coder: str) -> None:
    """Write summaries/calibration/<analyst>/TRANSCRIPT.md for each analyst (Hamilton's rapid analysis,
    Taylor et al. 2018: analysts summarise the same transcript, then compare with `summaries compare`)."""
    from qualkit.analysis.summaries.calibration import calibration_templates
    from qualkit.io.paths import cwd_relative

    ws = open_workspace(ctx)
    for path in calibration_templates(ws, transcript, analysts.split(","), coder=coder):
        click.echo(f"Wrote {cwd_relative(path)}")
    click.echo(f"When each analyst has filled theirs in: qualkit summaries compare {transcript}")


@summaries.command("compare", short_help="Calibration: the analysts' summaries of TRANSCRIPT side by side.")
@click.argument("transcript")
@click.option("--out", type=OutputFile(), metavar="FILE", help="Also write the comparison (xlsx, docx, csv, md, html).")
@click.pass_context
def compare(ctx: click.Context, transcript: str, out: str | None) -> None:
    """Each domain's bullets from every analyst's calibration template, side by side."""
    from qualkit.analysis.summaries.calibration import compare_calibration
    from qualkit.cli.output import wrap
    from qualkit.render.tables import Table, export_tables

    ws = open_workspace(ctx)
    cal = compare_calibration(ws, transcript)
    for row in cal.frame.to_dict("records"):
        click.echo(click.style(row["Domain"], bold=True))
        for a in cal.analysts:
            click.echo(wrap(f"{a}: " + (" ".join(row[a].split("\n")) or "(nothing written)"), "    "))
        click.echo("")
    if out:
        note = f"Calibration of {transcript}: {', '.join(cal.analysts)} (rapid analysis; Taylor et al. 2018)."
        for p in export_tables([Table("calibration", cal.frame, f"Calibration: {transcript}", note)], out,
                               title=f"Calibration: {transcript}", workspace=ws, parameters={"command": "summaries compare"}):
            click.echo(f"Wrote {p}")
