"""`qualkit themes show|check|quote`: the themes of themes.yaml, and whether they hold together.

A thin layer over qualkit.analysis.themes (load_themes, theme_mappings, check_themes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qualkit.cli.context import allow_unanchored_option, open_workspace, reads_the_study
from qualkit.cli.output import echo_json, wrap
from qualkit.io.naming import plural_s
from qualkit.io.paths import cwd_relative

_FILE = click.option("--file", "file", type=click.Path(dir_okay=False), metavar="PATH",
                     help="A themes file other than the workspace's themes.yaml.")
_CODER = click.option("--coder", metavar="NAME",
                      help="Codings to count excerpts in: consensus (default; pools qualkit.yaml's coders when "
                           "codings/consensus.csv does not exist yet), pooled, or one coder's name.")


@click.group()
def themes() -> None:
    """Themes (themes.yaml): codes grouped into themes, each mapped onto framework domains.

    Each theme has an id, a name, a description, the codes it groups, the framework refs it maps
    onto ('domains', e.g. heif:societal_context or cfir2:outer_setting.partnerships_connections;
    empty = its codes' own refs from the codebook), a valence (facilitator, barrier, mixed or descriptive) and
    the analyst's memo. `show` lists them; `check` checks them against the workspace.
    """


def _chosen(themeset: Any, theme: str | None, path: Path) -> list:
    """Every theme, or the one named by id or name (a typo gets the closest id)."""
    if not theme:
        return themeset.themes
    found = themeset.get(theme)
    if found is None:
        import difflib

        ids = [t.id for t in themeset]
        close = difflib.get_close_matches(theme, ids, n=1) or [i for i in ids if theme.casefold() in i][:1]
        raise click.ClickException(f"{cwd_relative(path)}: no theme {theme!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                   + f" (themes: {', '.join(ids) or 'none'})")
    return [found]


def _counts(ws: Any, chosen: list, coder: str | None) -> tuple[dict[str, tuple[int, int]], str]:
    """Coded excerpts and participants per theme, and which codings they come from."""
    from qualkit.analysis.sources import load_excerpts
    from qualkit.errors import QualkitError

    counts: dict[str, tuple[int, int]] = {}
    try:
        ex = load_excerpts(ws, coder)
        source = ex.source_text()
        for t in chosen:
            mine = {e.span: e for e in ex.excerpts if e.code in t.codes}
            people = {p for e in mine.values() for p in (e.participants or ())}
            counts[t.id] = (len(mine), len(people))
    except QualkitError as exc:
        source = f"excerpts not counted: {exc}"
    return counts, source


def _echo_theme(t: Any, mapping: Any, counts: dict[str, tuple[int, int]], index: dict, frameworks: dict,
                problems: list) -> None:
    from qualkit.analysis.themes import item_label

    valence = t.valence or "no valence"
    color = {"facilitator": "green", "barrier": "red", "mixed": "yellow"}.get(t.valence or "", None)
    click.echo(click.style(t.name, bold=True) + f"  [{t.id}]  " + click.style(valence, fg=color))
    if t.id in counts:
        n, p = counts[t.id]
        click.echo(f"  {n} excerpt{'s' if n != 1 else ''} from {p} participant{'s' if p != 1 else ''}")
    if t.description:
        click.echo(wrap(t.description, "  "))
    code_text = ", ".join(c if c in index else f"{c} (unknown)" for c in t.codes) or "none"
    click.echo(wrap(f"Codes: {code_text}", "  "))
    how = " (from its codes' refs)" if mapping.from_codes else ""
    click.echo(f"  Domains{how}:")
    for item in mapping.items:
        click.echo(f"    {item.ref:<52} {item_label(item, frameworks)}")
    bad = [p for p in problems if p.theme == t.id and p.kind == "unknown-domain"]
    for p in bad:
        click.echo(click.style(f"    ! {p.message}", fg="red"))
    if not mapping.items and not bad:
        click.echo("    none")
    if t.memo:
        click.echo("  Memo:")
        click.echo(wrap(t.memo, "    "))
    click.echo("")


@themes.command("show")
@click.argument("theme", required=False)
@_FILE
@_CODER
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@allow_unanchored_option
@click.pass_context
@reads_the_study
def show(ctx: click.Context, theme: str | None, file: str | None, coder: str | None, as_json: bool) -> None:
    """Show every theme (or THEME, by id or name): codes, domains, valence, description and memo."""
    from qualkit.analysis.themes import ThemeSet, item_label, load_themes, theme_mappings, themes_path

    ws = open_workspace(ctx)
    path = Path(file) if file else themes_path(ws)
    themeset: ThemeSet = load_themes(path, strict=False)
    frameworks = ws.frameworks()
    problems: list = []
    mappings = theme_mappings(ws, themeset, frameworks, problems)
    problems = themeset.problems + problems
    chosen = _chosen(themeset, theme, path)
    counts, source = _counts(ws, chosen, coder)
    index = ws.code_index()
    if as_json:
        out = []
        for t in chosen:
            m = mappings[t.id]
            d = t.as_dict()
            d["mapping"] = [{"ref": i.ref, "path": i.path_ref, "label": item_label(i, frameworks)} for i in m.items]
            d["mapping_from_codes"] = m.from_codes
            d["line"] = t.line
            if t.id in counts:
                d["excerpts"], d["participants"] = counts[t.id]
            out.append(d)
        echo_json({"path": str(path), "framework": themeset.framework or ws.config.framework, "themes": out,
                   "codings": source, "problems": [p.as_dict() for p in problems]})
        return
    if not themeset.themes:
        click.echo(f"No themes yet in {cwd_relative(path)}. Add them under 'themes:' (see `qualkit themes --help`).")
        return
    for t in chosen:
        _echo_theme(t, mappings[t.id], counts, index, frameworks, problems)
    if source:
        click.echo(f"Counts: {source}.")
    if problems:
        n_err = sum(1 for p in problems if p.is_error)
        click.echo(click.style(f"{len(problems)} problem{plural_s(len(problems))} ({n_err} error{plural_s(n_err)}): run `qualkit themes check`.", fg="yellow"))


@themes.command("check")
@_FILE
@_CODER
@click.option("--include-moderator", is_flag=True, help="Count excerpts in interviewer/moderator turns too.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@allow_unanchored_option
@click.pass_context
@reads_the_study
def check(ctx: click.Context, file: str | None, coder: str | None, include_moderator: bool, as_json: bool) -> None:
    """Check themes.yaml against the workspace; exit 1 on errors, 0 with warnings only.

    Errors: unknown codes, framework refs that do not resolve (with close matches), duplicate
    theme ids, malformed fields (each with file and line). Warnings: codes in no theme, themes
    with no coded excerpt, themes with no valence or no domain, and domains and sub-domains of
    the workspace's framework (qualkit.yaml 'framework:') that no theme touches.
    """
    from qualkit.analysis.themes import check_themes

    ws = open_workspace(ctx)
    result = check_themes(ws, file, coder=coder, include_facilitators=include_moderator)
    if as_json:
        echo_json(result.to_dict())
    else:
        for p in result.problems:
            where = cwd_relative(p.path) + (f":{p.line}" if p.line is not None else "") + ": " if p.path else ""
            color = "red" if p.is_error else "yellow"
            click.echo(f"{where}{click.style(p.severity, fg=color)}: {p.message}")
        for note in result.notes:
            click.echo(wrap(f"note: {note}", ""))
        n = len(result.themeset)
        click.echo(("\n" if result.problems or result.notes else "")
                   + f"{n} theme{'s' if n != 1 else ''}: {result.summary()}.")
    if not result.ok:
        ctx.exit(1)


@themes.command("quote")
@click.argument("theme")
@click.option("--pin", "pin", metavar="CODING",
              help="Pin this coding (transcript:start-end, as listed) as the theme's first quote in every table.")
@_CODER
@click.option("--limit", type=int, default=10, show_default=True, help="Candidates listed.")
@click.pass_context
def quote(ctx: click.Context, theme: str, pin: str | None, coder: str | None, limit: int) -> None:
    """List THEME's quote candidates (pinned first), or pin one with --pin CODING."""
    from qualkit.analysis.theme_quotes import coding_ref, pin_quote, theme_quotes

    ws = open_workspace(ctx)
    if pin:
        path = pin_quote(ws, theme, pin, coder)
        click.echo(f"Pinned {pin} as the first quote of {theme} in {cwd_relative(path)}.")
        return
    found = theme_quotes(ws, theme, coder)
    for e in found.excerpts[:limit]:
        mark = "* " if coding_ref(e) in found.pinned else "  "
        click.echo(wrap(f"{mark}{coding_ref(e)}  [{e.code}] {e.formatted(200)}", "    "))
    if len(found.excerpts) > limit:
        click.echo(f"... {len(found.excerpts) - limit} more (--limit N).")
    click.echo("Pin one: qualkit themes quote " + found.theme + " --pin TRANSCRIPT:START-END (* = pinned).")
