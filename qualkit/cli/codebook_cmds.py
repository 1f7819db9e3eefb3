"""`qualkit codebook ...`: create, edit, show, check, compare, export and import codebooks.

A thin layer over qualkit.coding.codebook_edit, qualkit.coding.codebook_validate and qualkit.coding.codebook_exchange.
"""
from __future__ import annotations

from pathlib import Path

import click

from qualkit.cli.context import open_workspace
from qualkit.cli.output import OutputFile, echo_json
from qualkit.io.naming import plural_s
from qualkit.io.paths import cwd_relative

_BY = click.option("--by", metavar="NAME", help="Who makes the change, for the change log (default: your OS user name).")
_CODEBOOK = click.option("-c", "--codebook", "codebook", metavar="ID",
                         help="Codebook to use (default: qualkit.yaml's 'codebook', or the only one).")
_IN_CODEBOOK = click.option("-c", "--codebook", "codebook", metavar="ID",
                            help="Look CODE up in this codebook only (default: in every codebook).")
# `-c/--codebook ID` names the codebook a subcommand acts on, on every subcommand that acts on one;
# where a positional ID came first (show, validate) both forms work.
_CODEBOOK_OPTION = click.option("-c", "--codebook", "codebook_opt", metavar="ID",
                                help="Codebook to use (the same as giving ID).")


def _one_codebook(positional: str | None, option: str | None) -> str | None:
    """The codebook named by a positional ID or by -c/--codebook (refusing two different ones)."""
    if positional and option and positional != option:
        raise click.UsageError(f"two codebooks given ({positional!r} and -c {option!r}); give one")
    return positional or option



def _report(result) -> None:
    click.echo(result.message)
    for note in result.notes:
        if note not in result.message:  # some messages already say it (codebook new's id prefix)
            click.echo(f"  note: {note}")


def _field_options(f):
    options = [
        click.option("--brief", help="Brief definition (a few words)."),
        click.option("--definition", help="Full definition."),
        click.option("--include", help="When to use the code."),
        click.option("--exclude", help="When not to use it (e.g. 'double-code under X')."),
        click.option("--example", "examples", multiple=True, metavar="TEXT", help="An example quote (repeatable)."),
        click.option("--keyword", "keywords", multiple=True, metavar="WORD", help="A keyword for autocode (repeatable)."),
        click.option("--framework", "framework", multiple=True, metavar="REF",
                     help="A framework ref such as heif:societal_context (repeatable; checked)."),
        click.option("--color", help="Display color, e.g. '#1f77b4'."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group()
def codebook() -> None:
    """Create, edit, show, validate, compare, export and import codebooks (codebooks/*.yaml).

    Edits check everything first and write nothing on error; each is recorded in the codebook's
    change log. rename and merge rewrite the codings files that use the code (backups in
    .qualkit/backups/).
    """


# -- new / add / edit ---------------------------------------------------------------------

@codebook.command("new")
@click.argument("name")
@click.option("--from-framework", "from_framework", metavar="FRAMEWORK",
              help="Start from a framework (heif, cfir2, ...): one deductive code per domain, sub-domain and construct.")
@click.option("--id", "-c", "--codebook", "book_id", metavar="ID",
              help="Codebook id and file name (default: from NAME, snake_case).")
@click.option("--description", help="A sentence on what the codebook is for.")
@_BY
@click.pass_context
def new(ctx: click.Context, name: str, from_framework: str | None, book_id: str | None, description: str | None, by: str | None) -> None:
    """Create codebooks/ID.yaml named NAME: empty (inductive) or from a framework. Never overwrites."""
    from qualkit.coding.codebook_edit import new_codebook

    ws = open_workspace(ctx)
    _report(new_codebook(ws, name, from_framework=from_framework, id=book_id, description=description, by=by))


@codebook.command("add")
@click.argument("name")
@click.option("--id", "code_id", metavar="ID", help="Code id (default: from NAME, snake_case, made unique).")
@_CODEBOOK
@click.option("--parent", metavar="CODE", help="Parent code (id or name, in the same codebook).")
@_field_options
@click.option("--origin", type=click.Choice(["inductive", "deductive"]), default="inductive", show_default=True)
@_BY
@click.pass_context
def add(ctx: click.Context, name: str, code_id: str | None, codebook: str | None, parent: str | None, brief: str | None, definition: str | None,
        include: str | None, exclude: str | None, examples: tuple[str, ...], keywords: tuple[str, ...], framework: tuple[str, ...], color: str | None, origin: str,
        by: str | None) -> None:
    """Add a code named NAME."""
    from qualkit.coding.codebook_edit import add_code

    ws = open_workspace(ctx)
    _report(add_code(ws, name, id=code_id, codebook=codebook, parent=parent, brief=brief or "",
                     definition=definition or "", include=include or "", exclude=exclude or "", examples=examples,
                     keywords=keywords, framework=framework, origin=origin, color=color, by=by))


@codebook.command("edit")
@click.argument("code")
@_IN_CODEBOOK
@click.option("--name", help="New display name (the id stays; see `rename`).")
@_field_options
@click.option("--origin", type=click.Choice(["inductive", "deductive"]))
@click.option("--status", type=click.Choice(["active", "retired"]))
@click.option("--clear", "clear", multiple=True, metavar="FIELD",
              type=click.Choice(["brief", "definition", "include", "exclude", "examples", "keywords", "framework", "color"]),
              help="Empty a field first (repeatable); with --keyword etc. this replaces a list.")
@_BY
@click.pass_context
def edit(ctx: click.Context, code: str, codebook: str | None, name: str | None, brief: str | None, definition: str | None, include: str | None,
         exclude: str | None, examples: tuple[str, ...], keywords: tuple[str, ...], framework: tuple[str, ...], color: str | None, origin: str | None, status: str | None,
         clear: tuple[str, ...], by: str | None) -> None:
    """Change fields of CODE (id or name). Text fields are replaced, --example/--keyword/--framework added."""
    from qualkit.coding.codebook_edit import edit_code

    ws = open_workspace(ctx)
    _report(edit_code(ws, code, codebook=codebook, clear=clear, by=by, name=name, brief=brief, definition=definition,
                      include=include, exclude=exclude, examples=examples, keywords=keywords, framework=framework,
                      color=color, origin=origin, status=status))


# -- rename / merge / move / retire -------------------------------------------------------

@codebook.command("rename")
@click.argument("code")
@click.argument("new_id", required=False)
@click.option("--name", help="New display name.")
@_IN_CODEBOOK
@_BY
@click.pass_context
def rename(ctx: click.Context, code: str, new_id: str | None, name: str | None, codebook: str | None, by: str | None) -> None:
    """Give CODE the id NEW_ID (and/or a new --name); codings using it are rewritten."""
    from qualkit.coding.codebook_edit import rename_code

    ws = open_workspace(ctx)
    _report(rename_code(ws, code, new_id, name=name, codebook=codebook, by=by))


@codebook.command("merge")
@click.argument("codes", nargs=-1, required=True, metavar="A into B")
@_IN_CODEBOOK
@_BY
@click.pass_context
def merge(ctx: click.Context, codes: tuple[str, ...], codebook: str | None, by: str | None) -> None:
    """Merge code A into code B: A's codings become B's (duplicates on the same span dropped), A is retired."""
    from qualkit.coding.codebook_edit import merge_codes

    parts = list(codes)
    if len(parts) == 3 and parts[1].casefold() == "into":
        parts = [parts[0], parts[2]]
    if len(parts) != 2:
        raise click.UsageError("write `qualkit codebook merge A into B`")
    ws = open_workspace(ctx)
    _report(merge_codes(ws, parts[0], parts[1], codebook=codebook, by=by))


@codebook.command("move")
@click.argument("code")
@click.option("--parent", metavar="CODE", help="New parent (id or name).")
@click.option("--top", is_flag=True, help="Make it a top-level code.")
@_IN_CODEBOOK
@_BY
@click.pass_context
def move(ctx: click.Context, code: str, parent: str | None, top: bool, codebook: str | None, by: str | None) -> None:
    """Move CODE under --parent (or to the --top level)."""
    from qualkit.coding.codebook_edit import move_code

    if bool(parent) == bool(top):
        raise click.UsageError("give either --parent CODE or --top")
    ws = open_workspace(ctx)
    _report(move_code(ws, code, None if top else parent, codebook=codebook, by=by))


@codebook.command("retire")
@click.argument("code")
@_IN_CODEBOOK
@_BY
@click.pass_context
def retire(ctx: click.Context, code: str, codebook: str | None, by: str | None) -> None:
    """Mark CODE retired: kept in the codebook with its codings; using it again is a warning."""
    from qualkit.coding.codebook_edit import retire_code

    ws = open_workspace(ctx)
    _report(retire_code(ws, code, codebook=codebook, by=by))


@codebook.command("crosswalk")
@click.option("--to", "to", required=True, metavar="FRAMEWORK", help="The framework version to add refs of, e.g. cfir2.")
@_IN_CODEBOOK
@_BY
@click.pass_context
def crosswalk(ctx: click.Context, to: str, codebook: str | None, by: str | None) -> None:
    """Add to each code the refs its framework refs map onto in another version (CFIR 2009 <-> CFIR 2.0).

    The mapping is Damschroder et al. 2022's Additional file 4; `qualkit frameworks crosswalk` shows it.
    """
    from qualkit.coding.codebook_crosswalk import crosswalk_codebook

    ws = open_workspace(ctx)
    _report(crosswalk_codebook(ws, to, codebook=codebook, by=by))


# -- show ---------------------------------------------------------------------------------

def _code_dict(book, code, counts, path: str) -> dict:
    return {"codebook": book.id, "id": code.id, "name": code.name, "path": path, "parent": code.parent,
            "origin": code.origin, "status": code.status, "brief": code.brief, "definition": code.definition,
            "include": code.include, "exclude": code.exclude, "examples": list(code.examples),
            "keywords": list(code.keywords), "patterns": list(code.patterns), "framework": list(code.framework),
            "color": code.color, "codings": counts.get(code.id, 0)}


@codebook.command("show")
@click.argument("codebook_id", metavar="[ID]", required=False)
@_CODEBOOK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the codes with all their fields as JSON.")
@click.pass_context
def show(ctx: click.Context, codebook_id: str | None, codebook_opt: str | None, as_json: bool) -> None:
    """Show a codebook as a tree: names, ids, origin, brief definition and codings per code.

    ID (or -c ID) names the codebook; without it: the default codebook (qualkit.yaml's
    'codebook'), else every codebook.
    """
    from qualkit.coding.codebook_edit import coding_counts
    from qualkit.coding.codebook_exchange import code_path, tree_order

    codebook_id = _one_codebook(codebook_id, codebook_opt)
    ws = open_workspace(ctx)
    if codebook_id or ws.config.codebook:
        books = [ws.codebook(codebook_id)]
    else:
        books = ws.codebooks()
    counts = coding_counts(ws)
    if as_json:
        echo_json([_code_dict(b, c, counts, code_path(b, c)) for b in books for c, _ in tree_order(b)])
        return
    if not books:
        click.echo("No codebooks yet. Create one with `qualkit codebook new NAME` "
                   "(or `--from-framework heif` for a deductive one).")
        return
    for i, book in enumerate(books):
        if i:
            click.echo("")
        n = sum(counts.get(c.id, 0) for c in book.codes)
        click.echo(click.style(f"{book.name}", bold=True) +
                   f"  ({book.id}, {cwd_relative(book.path)}): {len(book.codes)} code{plural_s(len(book.codes))}, {n} coding{plural_s(n)}")
        for code, depth in tree_order(book):
            indent = "  " * depth
            k = counts.get(code.id, 0)
            name = click.style(code.name, bold=True) if depth == 0 else code.name
            extra = code.origin + (", retired" if code.status == "retired" else "")
            line = f"{indent}{name}  [{code.id}]  {extra}  {k} coding{'s' if k != 1 else ''}"
            click.echo(click.style(line, dim=True) if code.status == "retired" else line)
            if code.brief:
                click.echo(f"{indent}    {click.style(code.brief, dim=True)}")


# -- validate -----------------------------------------------------------------------------

@codebook.command("validate")
@click.argument("target", metavar="[ID|PATH]", required=False)
@_CODEBOOK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def validate_cmd(ctx: click.Context, target: str | None, codebook_opt: str | None, as_json: bool) -> None:
    """Report every problem of the codebooks and of the codings that use them, with file and line.

    Errors: duplicate ids (also across codebooks), duplicate names under one parent, unknown
    parents, cycles, framework refs that do not exist, codes used in codings/*.csv that no
    codebook defines. Warnings: retired codes still in use. Exit 1 if there is any error.
    With ID (or -c ID), only that codebook (and the codings); with PATH, that file on its own.
    """
    from qualkit.coding.codebook_validate import summary, validate
    from qualkit.errors import WorkspaceError

    target = _one_codebook(target, codebook_opt)
    problems = None
    if target and (Path(target).suffix.lower() in (".yaml", ".yml") or Path(target).is_file()):
        path = Path(target)
        ws = None
        try:
            ws = open_workspace(ctx)
        except WorkspaceError:
            pass
        if ws is not None and path.resolve().parent == ws.codebooks_dir.resolve() and path.is_file():
            problems = validate(ws, codebook=_book_id_of(path))
        else:
            problems = validate([path])
    else:
        ws = open_workspace(ctx)
        problems = validate(ws, codebook=target)
    if as_json:
        echo_json({"problems": [p.as_dict() for p in problems], "summary": summary(problems)})
    else:
        for p in problems:
            where = cwd_relative(p.path) + (f":{p.line}" if p.line is not None else "") + ": " if p.path else ""
            color = "red" if p.is_error else "yellow"
            click.echo(f"{where}{click.style(p.severity, fg=color)}: {p.message}")
        click.echo(("" if not problems else "\n") + f"{summary(problems).capitalize()}.")
    if any(p.is_error for p in problems):
        ctx.exit(1)


def _book_id_of(path: Path) -> str:
    """The id a codebook file declares (its file name when it cannot be read)."""
    from qualkit.coding.codebook_validate import read_codebook_leniently

    book, _, _ = read_codebook_leniently(path)
    return book.id if book is not None and book.id else path.stem


# -- diff ---------------------------------------------------------------------------------

def _load_either(ctx, key: str):
    from qualkit.workspace.codebook import load_codebook

    path = Path(key)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        return load_codebook(path)
    return open_workspace(ctx).codebook(key)


@codebook.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.pass_context
def diff(ctx: click.Context, a: str, b: str, as_json: bool) -> None:
    """Compare codebooks A and B (ids or YAML paths): codes added, removed, renamed? and changed fields."""
    from qualkit.coding.codebook_exchange import diff_codebooks

    book_a, book_b = _load_either(ctx, a), _load_either(ctx, b)
    result = diff_codebooks(book_a, book_b)
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"--- {book_a.id} ({cwd_relative(book_a.path)})")
    click.echo(f"+++ {book_b.id} ({cwd_relative(book_b.path)})")
    colors = {"+": "green", "-": "red", "~": "yellow", "*": None}
    for line in result.lines():
        fg = colors.get(line[:1])
        click.echo(click.style(line, fg=fg) if fg else line)
    click.echo(result.summary().capitalize() + ".")


# -- export / import ----------------------------------------------------------------------

@codebook.command("export")
@click.argument("file", type=OutputFile())
@_CODEBOOK
@click.option("--retired/--no-retired", "retired", default=None,
              help="Include retired codes (default: yes for CSV/XLSX, no for DOCX/MD).")
@click.pass_context
def export(ctx: click.Context, file: str, codebook: str | None, retired: bool | None) -> None:
    """Write the codebook to FILE: .csv/.xlsx (one row per code, re-importable), .docx (manuscript appendix) or .md."""
    from qualkit.coding.codebook_exchange import export_codebook

    ws = open_workspace(ctx)
    book = ws.codebook(codebook)
    source = cwd_relative(book.path) if book.path else None
    path = export_codebook(book, file, include_retired=retired, source=source)
    click.echo(f"Wrote {cwd_relative(path)} ({book.id}, {len(book.codes)} code{plural_s(len(book.codes))}).")


@codebook.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--id", "-c", "--codebook", "book_id", metavar="ID", help="Codebook id (default: from the file name).")
@click.option("--name", metavar="NAME", help="Codebook name (default: the file name).")
@click.option("--replace", is_flag=True, help="Replace the codebook with the same id (the old file is backed up).")
@_BY
@click.pass_context
def import_(ctx: click.Context, file: str, book_id: str | None, name: str | None, replace: bool, by: str | None) -> None:
    """Read a CSV/XLSX codebook (a 'code' column with paths like 'Parent > Child') into codebooks/ID.yaml;
    a Taguette codebook CSV (a 'tag' column with paths like 'Parent.Child', and 'description') too."""
    from qualkit.coding.codebook_edit import add_codebook
    from qualkit.coding.codebook_exchange import import_codebook
    from qualkit.io.naming import slugify

    ws = open_workspace(ctx)
    books = ws.codebooks()
    wanted = book_id or slugify(Path(file).stem)
    existing = next((b for b in books if b.id == wanted), None)
    if existing is not None and not replace:
        from qualkit.workspace.codebook import CodebookError

        raise CodebookError(f"codebook {wanted!r} already exists; use --replace to replace it (the old file is "
                            "backed up) or --id to import under another id; nothing was changed", existing.path)
    taken = {c.id: b.id for b in books if not (replace and b.id == wanted) for c in b.codes}
    notes: list[str] = []
    from qualkit.refiqda.codebook_formats import is_taguette_csv, read_taguette_csv

    if is_taguette_csv(file):  # Taguette's codebook CSV: a 'tag' column, not 'code'
        book, notes = read_taguette_csv(file, id=wanted, name=name, taken=set(taken))
    else:
        book = import_codebook(file, id=wanted, name=name, frameworks=ws.frameworks(),
                               default_framework=ws.config.framework, taken_ids=taken, notes=notes)
    result = add_codebook(ws, book, replace=replace, by=by, what=f"imported from {Path(file).name} ({len(book.codes)} code{plural_s(len(book.codes))})")
    result.notes = notes + result.notes
    _report(result)
