"""Creating codebooks: an empty inductive one, a deductive one from a framework, or one built elsewhere.

``new_codebook`` with ``from_framework`` builds a deductive codebook: one code per item of the
framework (domains, sub-domains, constructs and sub-constructs; hierarchy kept via ``parent``),
with definitions from the framework and a ``framework:`` ref on each. Code ids are the
framework's item ids; if any of them is already a code id elsewhere in the workspace, every id
gets the framework's prefix (``cfir2_innovation``) so that ids stay unique. ``add_codebook``
writes a codebook made by an import.
"""
from __future__ import annotations

import re

from qualkit.coding.codebook_edit_core import Books, EditResult, FileChange, book_file, default_user, safety_net
from qualkit.coding.codebook_recode import coding_counts
from qualkit.frameworks.catalog import Framework, FrameworkItem
from qualkit.io.naming import plural_s, slugify
from qualkit.workspace.codebook import ID_RE, Code, Codebook, CodebookError
from qualkit.workspace.store import Workspace, state_locked

__all__ = ["add_codebook", "new_codebook"]


# -- new --------------------------------------------------------------------------------------

@state_locked
def new_codebook(workspace: Workspace, name: str, from_framework: str | None = None, id: str | None = None,  # noqa: A002
                 *, description: str | None = None, by: str | None = None) -> EditResult:
    """Create codebooks/<id>.yaml: empty (inductive) or one code per item of a framework.

    ``id`` defaults to a snake_case form of ``name``. Refuses to overwrite an existing file or to
    reuse a codebook id.
    """
    ws = workspace
    books = Books(ws)
    if not str(name or "").strip():
        raise CodebookError("a codebook needs a name", ws.codebooks_dir)
    book_id = id or slugify(name)
    if not ID_RE.match(book_id):
        raise CodebookError(f"codebook id {book_id!r} must be lower-case letters, digits, _ . - (e.g. port_inductive)",
                            ws.codebooks_dir)
    path = ws.codebooks_dir / f"{book_id}.yaml"
    for candidate in (path, path.with_suffix(".yml")):
        if candidate.exists():
            raise CodebookError("already exists; choose another --id (nothing was changed)", candidate)
    for b in books.books:
        if b.id == book_id:
            raise CodebookError(f"codebook id {book_id!r} is already used by {book_file(b)}", b.path, 1)
    book = Codebook(book_id, name.strip(), [], description or "", None, [], path)
    notes: list[str] = []
    if from_framework:
        what = _fill_from_framework(book, books, from_framework, notes)
    else:
        if not book.description:
            book.description = "Inductive codebook."
        what = "created (empty, inductive)"
    book.log(by or default_user(), what)
    safety_net(books.books, [*books.books, book], ws)
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    rel = path.relative_to(ws.root) if path.is_relative_to(ws.root) else path
    msg = f"Created {rel}: {len(book.codes)} code{'s' if len(book.codes) != 1 else ''}"
    msg += f" from {book.framework} ({what.split('(', 1)[1]}" if from_framework else " (empty inductive codebook)"
    if notes:
        msg += "; " + "; ".join(notes)
    return EditResult(msg + ".", book, None, written, backups, notes=notes)


def _fill_from_framework(book: Codebook, books: Books, framework: str, notes: list[str]) -> str:
    """One deductive code per item of ``framework`` (prefixed ids when one clashes); the change-log line."""
    from qualkit.frameworks.catalog import get_framework

    ws = books.ws
    fw = get_framework(framework, frameworks=ws.frameworks())
    book.framework = fw.id
    taken = books.all_ids()
    items = fw.items()
    prefix = ""
    if any(item.id in taken for item in items):
        prefix = f"{fw.id}_"
        clash = next(item.id for item in items if item.id in taken)
        notes.append(f"code ids carry the prefix '{prefix}' because {clash!r} is already a code id in this workspace")
    for item in items:
        if prefix + item.id in taken:
            raise CodebookError(f"code id {prefix + item.id!r} is already used in this workspace; "
                                "rename that code first", ws.codebooks_dir)
    book.codes = [_code_from_item(item, fw, prefix) for item in items]
    counts = fw.counts()
    parts = [f"{counts['domains']} domains"] + [f"{counts[k]} {w}" for k, w in
                                               (("subdomains", "sub-domains"), ("constructs", "constructs"),
                                                ("subconstructs", "sub-constructs")) if counts[k]]
    if not book.description:
        book.description = (f"Deductive codebook: one code per domain, sub-domain and construct of the {fw.name}"
                            + (f" ({fw.version})" if fw.version else "") + ", with the framework's definitions. "
                            "Add inductive sub-codes under the items they belong to.")
    return f"created from framework {fw.id}: {len(book.codes)} code{plural_s(len(book.codes))} ({', '.join(parts)})"


def _code_from_item(item: FrameworkItem, fw: Framework, prefix: str) -> Code:
    """A deductive code whose include, exclude and example come from the item's own definition and
    example and from its neighbours (MacQueen et al. 1998's fields, filled with content, not a template)."""
    definition = " ".join(item.definition.split())
    if not item.verified:
        source = f"the {fw.id.upper()} source"
        origin = f" ({item.inherited_from})" if item.inherited_from else ""
        definition += (f" (Inherited from the parent framework{origin}; the name is not verified against {source}.)"
                       if item.status == "inherited" else f" (The name is not verified against {source}.)")
    brief = _brief(item.definition) or item.label
    include = f"Passages in which {_clause(item.definition)}."
    if item.example:
        include += f" For instance: {' '.join(item.example.split())}"
    return Code(id=prefix + item.id, name=item.label, parent=(prefix + item.parent) if item.parent else None,
                origin="deductive", brief=brief, definition=definition, include=include,
                exclude=_exclude(item, fw), examples=[" ".join(item.example.split())] if item.example else [],
                framework=[item.ref])


def _clause(definition: str) -> str:
    """The definition's first sentence as a clause after 'Passages in which ...'."""
    text = " ".join(str(definition).split()).rstrip(".")
    text = text.split("; ", 1)[0].split(". ", 1)[0]
    lowered = text[:1].lower() + text[1:] if text and not text[:2].isupper() else text
    return f"participants speak of {lowered}"


def _exclude(item: FrameworkItem, fw: Framework) -> str:
    """What the code is not: its more specific children, else its closest siblings by wording."""
    if item.children:
        names = ", ".join(c.label for c in item.children[:5]) + (", ..." if len(item.children) > 5 else "")
        return f"Passages a more specific item fits ({names}): code that item instead, not this one."
    parent = fw.parent_of(item)
    siblings = [c for c in (parent.children if parent is not None else fw.domains())
                if c is not item and c.kind == item.kind]
    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z]{4,}", text.lower()))

    df: dict[str, int] = {}
    for other in fw.items():
        for w in words(other.definition):
            df[w] = df.get(w, 0) + 1
    mine = words(item.definition)
    close = sorted(siblings, key=lambda c: -sum(1 / df[w] for w in mine & words(c.definition)))[:2]
    if not close:
        return "Passages that only name the topic without saying how it helped or hindered the work."
    parts = [f"{c.label} ({_brief(c.definition, 90)})" for c in close]
    own = _brief(item.definition, 90)
    own = own[:1].lower() + own[1:] if own and not own[:2].isupper() else own
    return ("Not for " + " or ".join(parts) + f": code those instead. This code is only for {own.rstrip('.')} "
            "(double-code a passage that is about both).")


def _lower_first(label: str) -> str:
    words = label.split()
    if words and not (len(words[0]) > 1 and words[0].isupper()):
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


def _brief(definition: str, limit: int = 110) -> str:
    text = " ".join(str(definition).split())
    for sep in ("; ", ". "):
        if sep in text:
            text = text.split(sep, 1)[0]
    text = text.rstrip(".")
    if len(text) > limit:
        text = re.sub(r"\s*\([^)]*\)", "", text)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "..."
    return text


# -- adding a whole codebook (import) ---------------------------------------------------------

@state_locked
def add_codebook(workspace: Workspace, codebook: Codebook, *, replace: bool = False, by: str | None = None,
                 what: str | None = None) -> EditResult:
    """Write a codebook built elsewhere (e.g. by import_codebook) to codebooks/<id>.yaml.

    Refuses an existing file unless ``replace``; then the old file is backed up, its change log
    kept, and codes that disappear but are still used in codings are reported.
    """
    ws = workspace
    books = Books(ws)
    if not ID_RE.match(codebook.id or ""):
        raise CodebookError(f"codebook id {codebook.id!r} must be lower-case letters, digits, _ . -", ws.codebooks_dir)
    old = next((b for b in books.books if b.id == codebook.id), None)
    path = old.path if old is not None and old.path is not None else ws.codebooks_dir / f"{codebook.id}.yaml"
    if old is None and path.exists():
        raise CodebookError("already exists; choose another --id (nothing was changed)", path)
    if old is not None and not replace:
        raise CodebookError(f"codebook {codebook.id!r} already exists; use --replace to replace it "
                            "(the old file is backed up) or choose another --id; nothing was changed", path)
    others = [b for b in books.books if b is not old]
    for b in others:
        for c in b.codes:
            if codebook.get(c.id) is not None:
                raise CodebookError(f"code id {c.id!r} is already used in {book_file(b)}; code ids must be unique "
                                    "across codebooks (change it in the file or leave the id blank)", b.path, c.line)
    codebook.path = path
    if old is not None:
        codebook.changelog = [*old.changelog, *codebook.changelog]
        if not codebook.description:
            codebook.description = old.description
        if not codebook.framework:
            codebook.framework = old.framework
    who = by or default_user()
    codebook.log(who, what or f"created with {len(codebook.codes)} code{plural_s(len(codebook.codes))}")
    safety_net(books.books, [*others, codebook], ws)
    change = FileChange(ws)
    change.add_book(codebook)
    written, backups = change.commit()
    rel = path.relative_to(ws.root) if path.is_relative_to(ws.root) else path
    verb = "Replaced" if old is not None else "Created"
    result = EditResult(f"{verb} {rel}: {len(codebook.codes)} code{'s' if len(codebook.codes) != 1 else ''}.",
                        codebook, None, written, backups)
    if old is not None:
        gone = [c.id for c in old.codes if codebook.get(c.id) is None]
        counts = coding_counts(ws)
        used = [f"{cid} ({counts[cid]})" for cid in gone if counts.get(cid)]
        if gone:
            result.notes.append(f"codes no longer in the codebook: {', '.join(gone)}")
        if used:
            result.notes.append(f"still used in codings: {', '.join(used)}; run `qualkit codebook validate`")
    return result
