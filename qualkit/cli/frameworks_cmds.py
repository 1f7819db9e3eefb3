"""`qualkit frameworks list|show`: the built-in frameworks and the workspace's own frameworks/ files."""
from __future__ import annotations

from pathlib import Path

import click

from qualkit.cli.output import echo_json, echo_table


def wrap(text: str, indent: str) -> str:
    """Wrap to the terminal width without splitting hyphenated names such as RE-AIM."""
    import shutil
    import textwrap

    width = max(40, min(100, shutil.get_terminal_size((100, 20)).columns))
    return textwrap.fill(" ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)


def framework_dirs(ctx: click.Context) -> list[Path]:
    """The workspace's frameworks/ folder, or nothing when the command runs outside a workspace.

    An explicit ``--workspace`` that is not a workspace is an error; the current folder not being
    inside one is not (the built-in frameworks are still listed).
    """
    from qualkit.errors import WorkspaceError
    from qualkit.workspace.store import find_root

    root = (ctx.find_root().obj or {}).get("workspace")
    if root:
        return [find_root(root) / "frameworks"]
    try:
        return [find_root(".") / "frameworks"]
    except WorkspaceError:
        return []


def _source(fw, dirs: list[Path]) -> str:
    if fw.builtin:
        return "built-in"
    path = fw.path
    for d in dirs:
        try:
            path = Path("frameworks") / fw.path.resolve().relative_to(d.resolve())
            break
        except ValueError:
            continue
    return f"{path}" + (" (replaces built-in)" if fw.overrides else "")


def _citation(c: dict) -> str:
    if "text" in c:
        return c["text"]
    parts = []
    if c.get("authors"):
        parts.append(f"{c['authors']} ({c['year']})." if c.get("year") else f"{c['authors']}.")
    if c.get("title"):
        parts.append(str(c["title"]).rstrip(".") + ".")
    where = c.get("journal") or ""
    if c.get("volume"):
        where += f" {c['volume']}" + (f"({c['issue']})" if c.get("issue") else "")
    if c.get("pages"):
        where += f":{c['pages']}"
    if where.strip():
        parts.append(where.strip() + ".")
    if c.get("doi"):
        parts.append(f"https://doi.org/{c['doi']}")
    elif c.get("url"):
        parts.append(str(c["url"]))
    return " ".join(parts)


@click.group()
def frameworks() -> None:
    """List the implementation frameworks (built-in and the workspace's frameworks/) or show one."""


@frameworks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """One line per framework: id, version, counts of domains and constructs, unverified items, source.

    Inside a workspace, files in its frameworks/ folder add frameworks or replace built-ins with the
    same id.
    """
    from qualkit.frameworks.catalog import available_frameworks

    dirs = framework_dirs(ctx)
    fws = available_frameworks(dirs)
    if as_json:
        echo_json([{"id": fw.id, "name": fw.name, "version": fw.version, **fw.counts(),
                    "source": "built-in" if fw.builtin else str(fw.path), "overrides": fw.overrides,
                    "extends": fw.extends} for fw in fws.values()])
        return
    rows = []
    for fw in fws.values():
        n = fw.counts()
        rows.append((fw.id, fw.version or "", n["domains"], n["constructs"], n["subconstructs"], n["unverified"],
                     _source(fw, dirs), fw.name))
    echo_table(rows, ["id", "version", "domains", "constructs", "subconstructs", "unverified", "source", "name"],
               right=(2, 3, 4, 5))
    click.echo("\nShow one with `qualkit frameworks show ID`; refer to an item as ID:item, e.g. heif:societal_context.")


def _status_note(item) -> str:
    if item.equity_domain and not item.verified:
        return "health-equity domain; not verified"
    if item.equity_domain:
        return "health-equity domain"
    if not item.verified:
        return f"{item.status}, not verified" if item.status and item.status != "unverified" else "unverified"
    if item.status == "secondary":
        return "secondary source"
    return ""


@frameworks.command("show")
@click.argument("framework_id", metavar="ID")
@click.option("-d", "--definitions", is_flag=True, help="Include each item's definition.")
@click.option("--equity", is_flag=True, help="Only the health-equity domains, with definitions, examples and sources.")
@click.option("--json", "as_json", is_flag=True, help="Print the full structure as JSON.")
@click.pass_context
def show(ctx: click.Context, framework_id: str, definitions: bool, equity: bool, as_json: bool) -> None:
    """Show framework ID as a tree: domains, sub-domains and constructs with their ids and labels.

    Items whose names are not confirmed against the source are marked, and HEIF's health-equity
    domains are listed at the end with their determinants and where each was read. ID@VERSION
    (heif@2019) shows that version's labels. Refer to an item in a codebook or themes.yaml as
    ID:item_id or ID:dotted.path (e.g. cfir2:outer_setting.financing).
    """
    from qualkit.frameworks.catalog import get_framework

    dirs = framework_dirs(ctx)
    fw = get_framework(framework_id, dirs)
    if as_json:
        echo_json(fw.as_dict())
        return
    title = f"{fw.name} ({fw.id}" + (f", version {fw.version}" if fw.version else "") + ")"
    click.echo(click.style(title, bold=True))
    if not fw.builtin:
        click.echo(f"From {_source(fw, dirs)}" + (f", extending {fw.extends}" if fw.extends else ""))
    for c in fw.citations:
        click.echo(wrap(_citation(c), indent="  "))
    n = fw.counts()
    parts = [f"{n['domains']} domains"]
    for kind, word in (("subdomains", "sub-domains"), ("constructs", "constructs"), ("subconstructs", "sub-constructs")):
        if n[kind]:
            parts.append(f"{n[kind]} {word}")
    summary = ", ".join(parts)
    if n["unverified"]:
        summary += f"; {n['unverified']} not verified against the source (marked)"
    click.echo(summary + ".")
    for item in ([] if equity else fw.items()):
        indent = "  " * item.depth
        text = (f"{item.code}  " if item.code else "") + item.label
        line = indent + (click.style(text, bold=True) if item.kind == "domain" else text) + f"  [{item.id}]"
        notes = []
        if item.aliases:
            notes.append("also: " + ", ".join(item.aliases))
        status = _status_note(item)
        if status:
            notes.append(status)
        if notes:
            line += "  (" + "; ".join(notes) + ")"
        if item.kind == "domain":
            click.echo("")
        click.echo(line)
        if definitions:
            _details(item, indent + "    ")
    _equity_section(fw, equity)
    example = next((i for i in fw.items() if i.parent), fw.items()[0])
    eg = example.ref if example.ref == example.path_ref else f"{example.ref} or {example.path_ref}"
    click.echo(f"\nRefer to an item as {fw.id}:ID or {fw.id}:dotted.path, e.g. {eg}.")


def _details(item, indent: str) -> None:
    """Definition, example, notes, where it was read and where an inherited item comes from."""
    for prefix, paragraph in (("", item.definition), ("Example: ", item.example), ("", item.notes),
                              ("Source: ", _source_of(item)), ("From: ", item.inherited_from)):
        if paragraph:
            click.echo(wrap(prefix + paragraph, indent=indent))


def _source_of(item) -> str:
    where = item.where or (f"{item.source} paper" if item.source else "")
    if not where or item.verified or "not read" in where:
        return where
    return where + " (not verified)"


def _equity_section(fw, full: bool) -> None:
    """The health-equity domains and every determinant under them, with sources (all of it with ``full``)."""
    domains = fw.equity_domains()
    if not domains:
        if full:
            click.echo(f"{fw.id} marks no health-equity domains.")
        return
    click.echo("\n" + click.style(f"Health-equity domains ({len(domains)})", bold=True))
    for dom in domains:
        click.echo(f"\n{dom.label}  [{dom.ref}]" + ("" if dom.verified else "  (not verified)"))
        click.echo(wrap("Source: " + _source_of(dom), indent="    "))
        if full:
            _details(dom, "    ")
        for item in list(dom.walk())[1:]:
            mark = "" if item.verified else "  (not verified)"
            click.echo(f"  {item.label}  [{item.id}]{mark}")
            if full:
                _details(item, "      ")
            else:
                click.echo(wrap("Source: " + _source_of(item), indent="      "))


@frameworks.command("crosswalk")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
def crosswalk_cmd(source: str, target: str, as_json: bool) -> None:
    """Show which items of framework FROM map onto which of TO (cfir2009 cfir2, either way round).

    Pairs not checked against the published crosswalk are marked with a dagger.
    """
    from qualkit.frameworks.crosswalk import crosswalk

    walk = crosswalk(source, target)
    if as_json:
        echo_json({"from": walk.source, "to": walk.target, "source": walk.reference, "pairs": walk.rows()})
        return
    click.echo(click.style(f"{walk.source} -> {walk.target}", bold=True) + f"  ({walk.reference})")
    rows = [(p.source.label + ("" if p.verified else "\u2020"), "; ".join(t.label for t in p.targets) or "(no counterpart)")
            for p in walk.pairs]
    echo_table(rows, [walk.source, walk.target])
    if any(not p.verified for p in walk.pairs):
        click.echo("\n\u2020 not yet checked against the published crosswalk; `qualkit codebook crosswalk --to "
                   f"{walk.target}` adds the {walk.target} refs to a codebook's codes.")
