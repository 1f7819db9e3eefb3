"""`qualkit matrix KIND`: themes × domains, codes × cases, co-occurrence and saturation.

A thin layer over qualkit.analysis.matrices.build_matrix; exports go through qualkit.render.tables.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from qualkit.cli.context import allow_unanchored_option, deid_option, open_export_workspace, reads_the_study
from qualkit.cli.output import OutputFile, echo_json, echo_table, wrap
from qualkit.io.paths import cwd_relative

KINDS = ("themes", "codes", "cooccurrence", "saturation", "joint")
FORMATS = ("csv", "xlsx", "docx", "md", "tex", "html", "json")
ALL_CELLS = ("count", "presence", "participants", "quotes", "summary", "coefficient", "pairs")


def _threshold(ctx, param, value):
    if value is None:
        return 0.05
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        number = float(text)
    except ValueError:
        raise click.BadParameter("give a share (0.05) or a percentage (5%)") from None
    if number >= 1:
        raise click.BadParameter(f"{text} is not a share: write 0.05 or 5%")
    return number


@click.command("matrix")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--by", metavar="CASE",
              help="Cut by case: participant, transcript, or a case attribute (a participants.csv, documents.csv or "
                   "cases.csv column, or a section heading: role, site, source_type, ...). codes: codes × cases "
                   "(default participant); themes: themes × cases; cooccurrence: each case's units apart; saturation: "
                   "transcript (default), participant "
                   "(focus groups person by person) or an attribute (each site assessed apart); joint: the case "
                   "column (default: the measures file's first).")
@click.option("--cells", type=click.Choice(ALL_CELLS), metavar="KIND",
              help="themes/codes: count, presence (0/1), participants, quotes or summary (themes default: summary, "
                   "codes: count); cooccurrence: count, coefficient or pairs.")
@click.option("--coder", metavar="NAME",
              help="consensus (default; when codings/consensus.csv does not exist the coders of qualkit.yaml are "
                   "pooled, with a warning), pooled, or one coder's name.")
@click.option("--unit", type=click.Choice(["turn", "sentence", "paragraph", "question", "document"]), default="turn",
              show_default=True, help="cooccurrence: the unit two codes must share.")
@click.option("--level", metavar="LEVEL",
              help="themes: domain, subdomain (default) or item (the refs as written); "
                   "codes/cooccurrence/saturation: code (default) or top (codes rolled up to their top-level parent).")
@click.option("--framework", metavar="ID", help="themes: only this framework's domains (default: every framework mapped).")
@click.option("--table", type=click.Choice(["all", "matrix", "results", "domains", "equity"]), default="all",
              show_default=True,
              help="themes: the theme × domain matrix, the results table (facilitators / barriers / mixed / "
                   "descriptive), the domain-first findings (domain, themes, quotes), themes × health-equity "
                   "domain, or all.")
@click.option("--order", metavar="T1,T2,...",
              help="saturation: interview order (transcript ids; default: interview dates, required without them).")
@click.option("--sessions", type=click.Choice(["separate", "together"]), default="separate", show_default=True,
              help="saturation: interviews and focus groups assessed apart (default) or as one sequence.")
@click.option("--base", type=int, default=4, show_default=True, help="saturation: base size.")
@click.option("--run", "run_length", type=int, default=2, show_default=True, help="saturation: run length.")
@click.option("--threshold", callback=_threshold, metavar="SHARE", help="saturation: new-information threshold (default 5%).")
@click.option("--quotes", type=int, default=2, show_default=True, help="Quotes per cell / per theme.")
@click.option("--quote-chars", type=int, default=300, show_default=True, help="Trim quotes to this many characters (0: whole).")
@click.option("--transpose", is_flag=True, help="codes: cases in rows, codes in columns (Framework Method layout).")
@click.option("--include-moderator", is_flag=True, help="Keep interviewer/moderator turns (left out by default).")
@click.option("--measures", type=click.Path(dir_okay=False), metavar="FILE",
              help="joint: a case table of measures (sites.csv: site, engagement_rate, ...), first column the case.")
@click.option("--top", type=int, default=20, show_default=True, help="cooccurrence: pairs shown on the terminal.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Export format (default: from --out's extension).")
@click.option("--out", type=OutputFile(), metavar="FILE",
              help="Export to FILE (default with --format: exports/matrix_KIND.FORMAT); a manifest is written beside.")
@deid_option
@allow_unanchored_option
@click.pass_context
@reads_the_study
def matrix_kind(ctx: click.Context, kind: str, by: str | None, cells: str | None, coder: str | None, unit: str,
                level: str | None, framework: str | None, table: str, order: str | None, sessions: str, base: int,
                run_length: int,
                threshold: float, quotes: int, quote_chars: int | None, transpose: bool, include_moderator: bool,
                top: int, measures: str | None, as_json: bool, fmt: str | None, out: str | None) -> None:
    """Build a matrix: KIND is themes, codes, cooccurrence, saturation or joint.

    \b
    themes        themes × framework domains (excerpts / participants, quotes), and the results
                  table: Theme | HEIF domain | Description | Illustrative quotes, facilitators and
                  barriers apart (mixed themes in their own section)
    codes         codes × participants / roles / sites / transcripts (--by); --cells presence
                  gives a 0/1 table
    cooccurrence  code × code over units (--unit turn): counts, and c = n12/(n1+n2-n12)
                  (Jaccard; ATLAS.ti's c-coefficient formula)
    saturation    new codes per transcript in interview order, with Guest et al. (2020) base
                  size, run length and new-information threshold
    joint         a joint display (mixed methods): one row per case of --measures FILE (sites.csv),
                  its measures beside each theme's excerpts and quotes there (Fetters et al. 2013)

    Interviewer/moderator turns are left out. Quotes: 'exemplar' in the coding memo first, then
    the longest, one per participant before a second; trimmed at a sentence or word boundary.
    """
    from qualkit.analysis.matrices import build_matrix, export_matrix

    ws = open_export_workspace(ctx)
    path = _export_path(ws, kind, fmt, out)
    result = build_matrix(ws, kind, by=by, cells=cells, coder=coder, unit=unit, level=level, framework=framework,
                          table=table if table in ("results", "domains", "equity") else "matrix", order=order, base=base,
                          run=run_length, threshold=threshold, quotes=quotes, quote_chars=quote_chars or None,
                          include_facilitators=include_moderator, transpose=transpose, sessions=sessions,
                          measures=measures)
    written = []
    if path is not None:
        names = _table_names(result, table)
        written = export_matrix(result, path, workspace=ws, tables=names)
    if as_json:
        data = result.to_dict()
        if written:
            data["written"] = [str(p) for p in written]
        echo_json(data)
        return
    for w in result.warnings:
        click.echo(click.style("Warning: ", fg="yellow") + w, err=True)
    if not result.parameters.get("excerpts"):
        click.echo("No coded excerpts yet: code transcripts first (`qualkit code`, or `qualkit import` from a spreadsheet or Word comments).")
    _print(result, table, explicit_cells=cells is not None, top=top)
    if written:
        click.echo("")
        files = [p for p in written if not p.name.endswith(".manifest.json")]
        manifest = next((p for p in written if p.name.endswith(".manifest.json")), None)
        for p in files:
            click.echo(f"Wrote {cwd_relative(p)}")
        if manifest:
            click.echo(f"Manifest: {cwd_relative(manifest)}")



def _export_path(ws, kind: str, fmt: str | None, out: str | None) -> Path | None:
    if out is None and fmt is None:
        return None
    if out is None:
        return ws.root / "exports" / f"matrix_{kind}.{fmt}"
    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    if fmt is None:
        if suffix not in FORMATS and suffix != "htm":
            raise click.UsageError(f"cannot tell the format from {out!r}: give --format ({', '.join(FORMATS)}) "
                                   "or a file name ending in one of them")
        return path
    if not suffix:
        return path.with_name(f"{path.name}.{fmt}")
    if suffix != fmt and not (fmt == "html" and suffix == "htm"):
        raise click.UsageError(f"--format {fmt} but --out ends in .{suffix}; make them agree")
    return path


def _table_names(result, table: str) -> list[str] | None:
    if result.kind != "themes" or table == "all":
        return None
    if table == "matrix":
        return [result.tables[0].name]      # themes_by_domain, or themes_by_site with --by site
    if table == "domains":
        return ["results_by_domain"]
    if table == "equity":
        return ["themes_by_equity_domain"]
    return [t.name for t in result.tables if not _overview(t.name)]


def _overview(name: str) -> bool:
    """A themes table that is not a section of the results table (the matrices and the domain-first table)."""
    return name.startswith("themes_by_") or name == "results_by_domain"


# -- terminal views ---------------------------------------------------------------------------

def _width() -> int:
    return max(60, shutil.get_terminal_size((100, 20)).columns)


def _cell_text(value) -> str:
    from qualkit.render.tables import cell_text

    return cell_text(value)


def echo_grid(row_labels: list[str], columns: list[str], rows: list[list], label_header: str = "",
              legend: bool | None = None) -> None:
    """A wide matrix, split into column blocks that fit the terminal. With ``legend``, columns are
    numbered (1, 2, ...) and named below the table; ``None``: only when the names do not fit."""
    width = _width()
    if legend is None:
        label_w = max([len(label_header), *(len(r) for r in row_labels)] or [0])
        full = label_w + sum(2 + max([len(str(c)), *(len(_cell_text(r[i])) for r in rows)] or [1])
                             for i, c in enumerate(columns))
        legend = full > width and any(len(str(c)) > 8 for c in columns)
    headers = [str(i + 1) for i in range(len(columns))] if legend else [str(c) for c in columns]
    cells = [[_cell_text(v) for v in row] for row in rows]
    label_w = max([len(label_header), *(len(r) for r in row_labels)] or [0])
    col_w = [max([len(h), *(len(r[i]) for r in cells)] or [1]) for i, h in enumerate(headers)]
    blocks: list[list[int]] = []
    current: list[int] = []
    used = label_w
    for i, w in enumerate(col_w):
        if current and used + 2 + w > width:
            blocks.append(current)
            current, used = [], label_w
        current.append(i)
        used += 2 + w
    if current:
        blocks.append(current)
    for b, block in enumerate(blocks):
        if b:
            click.echo("")
        head = label_header.ljust(label_w) + "".join("  " + headers[i].rjust(col_w[i]) for i in block)
        click.echo(click.style(head.rstrip(), bold=True))
        for label, row in zip(row_labels, cells):
            click.echo((label.ljust(label_w) + "".join("  " + row[i].rjust(col_w[i]) for i in block)).rstrip())
    if legend:
        click.echo("")
        for i, c in enumerate(columns):
            click.echo(wrap(f"{i + 1:>2}  {c}", "  ").rstrip() if len(c) > width - 8 else f"  {i + 1:>2}  {c}")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _print(result, table: str, explicit_cells: bool, top: int) -> None:
    if result.kind == "joint":
        _print_joint(result)
    elif result.kind == "themes":
        _print_themes(result, table)
    elif result.kind == "codes":
        _print_codes(result)
    elif result.kind == "cooccurrence":
        _print_cooccurrence(result, explicit_cells, top)
    else:
        _print_saturation(result)


def _print_joint(result) -> None:
    """One block per case: its measures, then each theme's count and best quote."""
    t = result.tables[0]
    click.echo(click.style(t.title, bold=True))
    case_col = t.frame.columns[0]
    measures = [c for c in t.frame.columns[1:] if c in result.parameters.get("measure_columns", [])]
    for row in t.frame.to_dict("records"):
        head = ", ".join(f"{m} {row[m]}" for m in measures)
        click.echo(f"\n{row[case_col]}" + (f"  ({head})" if head else ""))
        for col in t.frame.columns[1 + len(measures):]:
            if row[col] not in ("", 0, None):
                click.echo(wrap(f"{col}: {str(row[col]).replace(chr(10), ' ')}", "  "))
    click.echo("")
    click.echo(wrap(t.notes or "", ""))


def _print_equity(result) -> None:
    """Themes × health-equity domain: each theme's determinants under each domain."""
    t = next((t for t in result.tables if t.name == "themes_by_equity_domain"), None)
    if t is None:
        click.echo("The framework marks no health-equity domains (HEIF does: `qualkit frameworks show heif --equity`).")
        return
    click.echo(click.style(t.title, bold=True))
    cols = [c for c in t.frame.columns if c not in ("theme", "name", "valence")]
    for row in t.frame.to_dict("records"):
        click.echo(f"\n{row['name']}  [{row['valence'] or '-'}]")
        for col in cols:
            if row[col]:
                first = str(row[col]).split("\n")[0]
                click.echo(wrap(f"{col}: {first}", "  "))
    click.echo("")
    click.echo(wrap(t.notes or "", ""))


def _print_themes(result, table: str) -> None:
    cells = result.parameters["cells"]
    if table == "equity":
        _print_equity(result)
        return
    if not len(result.display):
        click.echo(f"No themes yet in {result.parameters.get('themes', 'themes.yaml')}: add them under 'themes:' "
                   "(see `qualkit themes --help`).")
        return
    if table in ("all", "matrix"):
        frame = result.display
        domain_cols = [c for c in frame.columns if c not in ("theme", "name", "valence")]
        what = {"count": "excerpts", "presence": "1 = present", "participants": "participants"}.get(cells, "excerpts/participants")
        click.echo(click.style(result.tables[0].title.split(" (")[0] + f"  (cells: {what})", bold=True))
        labels = [f"{_short(n, 44)} [{v[:1].upper() if v else '-'}]" for n, v in zip(frame["name"], frame["valence"])]
        by = result.parameters.get("by")
        echo_grid(labels, domain_cols, frame[domain_cols].values.tolist(), "Theme  [F/B/M = valence]",
                  legend=None if by else True)
        if cells == "quotes" and table == "matrix":
            click.echo("")
            _print_quote_cells(result.frame, "name", domain_cols)
        for note in [result.tables[0].notes or ""] if by else result.notes[1:]:
            click.echo(wrap(note, ""))
    if table in ("all", "results"):
        if table == "all":
            click.echo("")
        section_tables = [t for t in result.tables if not _overview(t.name)]
        if not section_tables:
            click.echo("No themes in themes.yaml yet.")
        for t in section_tables:
            click.echo(click.style(t.title.split(":")[0].upper(), bold=True))
            cols = list(t.frame.columns)
            domain_col, quote_col = cols[1], cols[3]
            for row in t.frame.to_dict("records"):
                click.echo(click.style(f"  {row['Theme']}", bold=True))
                if row[domain_col]:
                    click.echo(wrap(f"{domain_col}: " + "; ".join(row[domain_col].split("\n")), "    "))
                if row["Description"]:
                    click.echo(wrap(row["Description"], "    "))
                for q in (row[quote_col] or "").split("\n"):
                    if q:
                        click.echo(wrap(q, "      "))
                click.echo("")
        click.echo(wrap(result.parameters.get("quote_rule", ""), ""))
    if table == "domains":
        _print_domains(next(t for t in result.tables if t.name == "results_by_domain"))
    click.echo(wrap(result.notes[0], "") if result.notes else "")


def _print_domains(table) -> None:
    """Domain, then its themes (valence), then their quotes."""
    last = None
    for row in table.frame.to_dict("records"):
        if row["Domain"] != last:
            click.echo(click.style(row["Domain"].upper(), bold=True))
            last = row["Domain"]
        click.echo(click.style(f"  {row['Theme']} ({row['Valence']})", bold=True))
        for q in (row["Illustrative quotes"] or "").split("\n"):
            if q:
                click.echo(wrap(q, "      "))
    click.echo("")


def _print_quote_cells(frame, row_col: str, columns: list[str]) -> None:
    for row in frame.to_dict("records"):
        for col in columns:
            text = row.get(col)
            if not text:
                continue
            click.echo(click.style(f"{row[row_col]} × {col}", bold=True))
            for line in str(text).split("\n"):
                click.echo(wrap(line, "    "))
        click.echo("")


def _print_codes(result) -> None:
    frame = result.display
    cells = result.parameters["cells"]
    by = result.parameters["by"]
    what = {"count": "excerpts", "presence": "1 = coded", "participants": "participants"}.get(cells, "excerpts/participants")
    click.echo(click.style(f"{result.title}  (cells: {what})", bold=True))
    if result.parameters.get("transpose"):
        cols = [c for c in frame.columns if c != by]
        echo_grid([str(x) for x in frame[by]], cols, frame[cols].values.tolist(), by, legend=True)
    else:
        cols = [c for c in frame.columns if c not in ("code", "name")]
        echo_grid(list(frame["code"]), cols, frame[cols].values.tolist(), "code")
    if cells in ("quotes", "summary") and not result.parameters.get("transpose"):
        click.echo("")
        cases = [c for c in result.frame.columns if c not in ("code", "name", "total")]
        _print_quote_cells(result.frame, "code", cases)
    click.echo("")
    for note in result.notes:
        click.echo(wrap(note, ""))


def _print_cooccurrence(result, explicit_cells: bool, top: int) -> None:
    cells = result.parameters["cells"]
    by = result.parameters.get("by")
    if by:
        _print_cooccurrence_by(result, by, top)
        return
    if explicit_cells and cells in ("count", "coefficient"):
        frame = result.frame
        codes = list(frame["code"])
        click.echo(click.style(result.tables[0 if cells == "count" else 1].title, bold=True))
        echo_grid(codes, codes, frame[codes].values.tolist(), "code", legend=True)
    else:
        pairs = result.table("cooccurrence_pairs").frame
        shown = pairs.head(top) if top and top > 0 else pairs
        click.echo(click.style(f"{result.title}: code pairs, strongest first"
                               + (f" (top {len(shown)} of {len(pairs)})" if len(shown) < len(pairs) else ""), bold=True))
        if not len(pairs):
            click.echo("No two codes share a unit.")
        else:
            rows = [[r["code_a"], r["code_b"], r["n_a"], r["n_b"], r["n_both"], f"{r['c']:.3f}"] for r in shown.to_dict("records")]
            echo_table(rows, ["code A", "code B", "n A", "n B", "n both", "c"], right=(2, 3, 4, 5))
        if len(shown) < len(pairs):
            click.echo("Every pair and the full code × code matrices: --format csv|xlsx|md|html --out FILE, or --json.")
    click.echo("")
    click.echo(wrap(result.notes[0], ""))


def _print_cooccurrence_by(result, by: str, top: int) -> None:
    """Each case's strongest pairs (--by): the stacked squares are for --format / --json."""
    from qualkit.io.naming import file_stem

    pairs = result.table(f"cooccurrence_pairs_by_{file_stem(by)}").frame
    click.echo(click.style(f"{result.title}: code pairs, strongest first in each {by}", bold=True))
    for case in dict.fromkeys(pairs[by]):
        mine = pairs[pairs[by] == case]
        shown = mine.head(top) if top and top > 0 else mine
        click.echo(f"\n== {by}: {case} ==" + (f" (top {len(shown)} of {len(mine)})" if len(shown) < len(mine) else ""))
        rows = [[r["code_a"], r["code_b"], r["n_a"], r["n_b"], r["n_both"], f"{r['c']:.3f}"] for r in shown.to_dict("records")]
        echo_table(rows, ["code A", "code B", "n A", "n B", "n both", "c"], right=(2, 3, 4, 5))
    if not len(pairs):
        click.echo("No two codes share a unit in any case.")
    click.echo("")
    for note in result.notes[::-1]:
        click.echo(wrap(note, ""))


def _print_saturation(result) -> None:
    frame = result.frame
    name = "transcript" if "transcript" in frame.columns else "participant"
    by = result.parameters.get("by")
    group = "kind" if "kind" in frame.columns else by if by not in (None, name) and by in frame.columns else None
    kind = group is not None
    headers = ["#", *([str(group)] if kind else []), name, *(["date"] if "date" in frame.columns else []), "codes", "new",
               "cumulative", "next run",
               "new in run", "new info", "≤ threshold"]
    rows = []
    for r in frame.to_dict("records"):
        info = r["new_info"]
        has = info is not None and info == info  # not NA
        try:
            has = has and str(info) != "<NA>"
        except TypeError:
            has = False
        rows.append([r["position"], *([r[group]] if kind else []), r[name], *([r["date"]] if "date" in frame.columns else []), r["codes"], r["new"],
                     r["cumulative"], r["run"] or "", "" if not has else r["new_in_run"],
                     "" if not has else f"{float(info):.0%}", "" if not has else ("yes" if r["saturated"] else "no")])
    n_right = len(headers)
    echo_table(rows, headers, right=tuple(i for i in range(n_right) if headers[i] not in (name, group, "date", "next run")))
    new_rows = [r for r in frame.to_dict("records") if r["new"] and r["position"] > 1]
    if new_rows:
        click.echo("")
        click.echo("New codes after the first:")
        for r in new_rows:
            click.echo(wrap(f"{r[name]}: {r['new_codes']}", "  "))
    click.echo("")
    for note in result.notes:
        click.echo(wrap(note, ""))


# `qualkit matrix KIND [options]`: one subcommand per kind, all sharing matrix_kind's options, plus
# `rapid` (built from summaries, with options of its own), so each kind has its own --help.
matrix = click.Group("matrix", help="Matrices: themes x framework domains (and the results table), codes x cases, "
                                    "code co-occurrence, saturation, and the rapid-analysis matrix.")
_SHARED = [p for p in matrix_kind.params if p.name != "kind"]
_KIND_HELP = {
    "themes": "Themes x framework domains, and the manuscript results table (facilitators, barriers, mixed).",
    "codes": "Codes x cases (participant, transcript, role, site...): counts, presence, participants or quotes.",
    "cooccurrence": "Code x code over a unit, with counts and the c-coefficient.",
    "saturation": "New codes per transcript in interview order, with Guest et al. (2020) saturation.",
}


def _kind_command(kind: str) -> click.Command:
    def callback(**options: Any) -> Any:
        target = matrix_kind.callback
        assert target is not None  # a decorated command always has one
        return click.get_current_context().invoke(target, kind=kind, **options)

    return click.Command(kind, params=list(_SHARED), callback=callback, help=_KIND_HELP.get(kind, f"The {kind} matrix."))


for _kind in KINDS:
    matrix.add_command(_kind_command(_kind))

from qualkit.cli.summaries_cmds import rapid  # noqa: E402

matrix.add_command(rapid)
