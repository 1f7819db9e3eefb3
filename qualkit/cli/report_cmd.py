"""`qualkit report`: the whole study on one self-contained HTML page."""
from __future__ import annotations

import click

from qualkit.cli.context import allow_unanchored_option, deid_option, open_export_workspace
from qualkit.cli.output import OutputFile


@click.command()
@click.option("--out", "out", type=OutputFile(), metavar="FILE",
              help="Where to write the page (default: exports/report.html in the workspace).")
@click.option("--coders", metavar="A,B[,C...]", help="Coders to compare for agreement (default: 'coders:' in qualkit.yaml).")
@click.option("--ci/--no-ci", default=True, show_default=True,
              help="Percentile bootstrap confidence intervals for the agreement figures.")
@click.option("--resamples", type=click.IntRange(min=1), default=1000, show_default=True, help="Bootstrap resamples (with --ci).")
@click.option("--seed", type=int, default=1, show_default=True, help="Bootstrap seed (with --ci).")
@deid_option
@allow_unanchored_option
@click.pass_context
def report(ctx: click.Context, out: str | None, coders: str | None, ci: bool, resamples: int, seed: int) -> None:
    """Write one self-contained HTML report of the study.

    Study overview, codebook, inter-coder agreement (worst first, with intervals and flags), codes
    by participant role, themes x framework domains with quotes and the results table, code
    co-occurrence, saturation, and COREQ-relevant figures. No external resources: open it in any
    browser, offline; it prints cleanly. A FILE.manifest.json beside it records the inputs'
    sha256, the parameters and the versions.
    """
    import json
    from pathlib import Path

    from qualkit.io.collector import gc_paused
    from qualkit.reporting.report import build_report

    ws = open_export_workspace(ctx)
    coder_list = [c.strip() for c in coders.split(",") if c.strip()] if coders else None
    with gc_paused(freeze_after=True):  # the process ends next: the collector need not walk the study again
        path = build_report(ws, out, coders=coder_list, ci=ci, resamples=resamples, seed=seed)
    manifest = Path(f"{path}.manifest.json")
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    click.echo(f"Wrote {shown} (manifest: {manifest.name})")
    try:
        sections = json.loads(manifest.read_text(encoding="utf-8"))["parameters"]["sections"]
    except (OSError, ValueError, KeyError):
        return
    missing = [name for name, status in sections.items() if status != "ok"]
    if missing:
        click.echo(f"Sections with a note instead of content (missing input): {', '.join(missing)}")
