"""`qualkit agree`: inter-coder agreement per code, pooled, and over code sets."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from qualkit.cli.context import allow_unanchored_option, open_workspace, reads_the_study
from qualkit.cli.output import OutputFile, echo_json, echo_table

if TYPE_CHECKING:
    from qualkit.analysis.agree import AgreementReport


@click.command()
@click.option("--coders", metavar="A,B[,C...]", help="Coders to compare (default: 'coders:' in qualkit.yaml).")
@click.option("--unit", metavar="KIND",
              help="Unit of agreement: turn, sentence, paragraph, question, document or character "
                   "(default: 'agreement: unit:' in qualkit.yaml, else turn).")
@click.option("--overlap", type=float, metavar="SHARE",
              help="Match spans instead of using units: same-code spans agree when they overlap by at least "
                   "SHARE (0-1] of the longer one.")
@click.option("--include-moderator", is_flag=True, help="Keep interviewer/moderator turns (left out by default).")
@click.option("--by", type=click.Choice(["transcript", "coder-pair"]), help="Also break the figures down.")
@click.option("--ci", is_flag=True, help="Add percentile bootstrap confidence intervals.")
@click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap resamples (with --ci).")
@click.option("--seed", type=int, default=1, show_default=True, help="Bootstrap seed (with --ci).")
@click.option("--threshold", type=float, metavar="X", help="Mark codes whose metric is below X (e.g. 0.8).")
@click.option("--metric", type=click.Choice(["alpha", "kappa", "ac1", "agreement", "f1"]),
              help="Statistic to sort by (worst first) and to compare with --threshold "
                   "(default: alpha; f1 with --overlap).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--csv", "csv_path", type=OutputFile(), metavar="FILE", help="Write the table as CSV.")
@click.option("--md", "md_path", type=OutputFile(), metavar="FILE", help="Write a Markdown report section.")
@click.option("--html", "html_path", type=OutputFile(), metavar="FILE", help="Write an HTML report section.")
@allow_unanchored_option
@click.pass_context
@reads_the_study
def agree(ctx: click.Context, coders: str | None, unit: str | None, overlap: float | None, include_moderator: bool,
          by: str | None, ci: bool, resamples: int, seed: int, threshold: float | None, metric: str | None,
          as_json: bool, csv_path: str | None, md_path: str | None, html_path: str | None) -> None:
    """Inter-coder agreement per code: percent agreement, kappa, alpha, AC1.

    Only transcripts coded by all the coders count; the others are listed as left out. Per code,
    each unit is coded or not by each coder; the table is sorted worst first and flags the kappa
    paradox (kappa < 0.4 with agreement >= 0.8), rare codes and undefined statistics. A pooled
    row stacks all codes; set-valued alpha (MASI, Jaccard) compares each unit's set of codes.
    Exports (--csv, --md, --html) get a FILE.manifest.json beside them.
    """
    from qualkit.analysis.agree import agreement, export_report

    ws = open_workspace(ctx)
    coder_list = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    report = agreement(ws, coder_list, unit=unit, include_facilitators=include_moderator, overlap=overlap, by=by,
                       ci=ci, resamples=resamples, seed=seed, threshold=threshold, metric=metric)
    written = export_report(report, csv=csv_path, md=md_path, html_path=html_path)
    if as_json:
        from qualkit.coding.anchoring import anchoring_notes

        notes = anchoring_notes(ws)
        echo_json(report.to_dict() | ({"anchoring": notes} if notes else {}))
        return
    _print(report)
    for path in written:
        click.echo(f"Wrote {path} (manifest: {path}.manifest.json)")


def _print(report: AgreementReport) -> None:
    click.echo(report.summary())
    click.echo(report.left_out_text())
    if (line := report.facilitator_text()):
        click.echo(click.style("Warning: ", fg="yellow") + line, err=True)
    if report.n_units == 0:
        click.echo(click.style("Warning: ", fg="yellow") + "nothing to compare: the counted transcripts have no "
                   f"{report.unit_label} outside interviewer/moderator turns (see --include-moderator and participants.csv roles).",
                   err=True)
    click.echo("")
    headers, rows, right = report.display_rows()
    _, pooled, _ = report.display_rows(report.overall)
    if not rows:
        click.echo("No code was applied in the counted transcripts.")
    else:
        echo_table(rows + pooled, headers, right=right)
    click.echo("")
    click.echo(report.set_alpha_text())
    if report.ci is not None:
        click.echo(report.ci_text())
    if report.breakdown is not None:
        click.echo("")
        click.echo(click.style(f"By {(report.by or '').replace('-', ' ')} (all codes pooled; per-code figures in --csv/--json):", bold=True))
        h, rs, rt = report.group_rows()
        echo_table(rs, h, right=rt)
    # why a statistic is undefined, and paradoxes; "rare" is explained in the definitions
    notes = [(r["code"], r["notes"]) for r in report.table.to_dict("records")
             if "undefined" in r["flags"] or "kappa paradox" in r["flags"]]
    if notes:
        click.echo("")
        click.echo("Notes:")
        for code, note in notes:
            click.echo(f"  {code}: {note}")
    click.echo("")
    for d in report.definitions:
        click.echo(f"* {d}")
