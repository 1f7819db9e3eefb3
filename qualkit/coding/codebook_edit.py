"""Creating and editing codebooks in a workspace: new, add, edit, rename, merge, move, retire.

Every function takes a :class:`~qualkit.workspace.store.Workspace`, checks the whole edit first and
writes nothing when anything is wrong (a :class:`~qualkit.workspace.codebook.CodebookError` naming the file
and line). Each edit is recorded in the codebook's ``changelog`` (who, when, what); ``by``
defaults to the operating-system user. Files are written atomically and the previous version of
every rewritten file is copied to ``.qualkit/backups/`` first.

Semantics worth knowing:

* **Codes are looked up** by id, or by name (case-insensitive) when no id matches, across all of
  the workspace's codebooks (ids are unique workspace-wide); ``codebook=`` narrows the search.
* **rename** changes a code's id (and/or its name). The id is what codings refer to, so every
  codings file in ``codings/*.csv`` that uses the old id is rewritten; only the ``code`` cells
  change, other columns and row order are kept. Children follow (their ``parent`` is updated).
* **merge A into B**: every coding of A becomes a coding of B. When a coder already has B on
  exactly the same span, A's copy is dropped (its memo, if different, is appended to B's) and
  the number dropped is reported. A stays in the codebook, **retired**, so its definition remains
  part of the record; its children move under B (or, if B is in another codebook, under A's
  parent); its keywords and examples are added to B's. A retired code that is used again is a
  warning in ``validate``.
* **retire** marks a code retired; its codings stay. **move** changes the parent (refusing
  cycles). **add** generates the id from the name (snake_case, made unique) unless given.
* **new** with ``from_framework`` builds a deductive codebook: one code per item of the
  framework (domains, sub-domains, constructs and sub-constructs; hierarchy kept via ``parent``),
  with definitions from the framework and a ``framework:`` ref on each. Code ids are the
  framework's item ids; if any of them is already a code id elsewhere in the workspace, every id
  gets the framework's prefix (``cfir2_innovation``) so that ids stay unique.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qualkit.coding.codebook_edit_core import (
    LIST_FIELDS,
    TEXT_FIELDS,
    Books,
    EditResult,
    FileChange,
    book_file,
    canonical_refs,
    check_id,
    check_name,
    check_origin_status,
    clone,
    default_user,
    descendants,
    edit_error,
    resolve_parent,
    safety_net,
)
from qualkit.coding.codebook_new import add_codebook, new_codebook
from qualkit.coding.codebook_recode import Recode, coding_counts, recode_files, themes_mentions
from qualkit.io.naming import plural_s, slugify, unique_id
from qualkit.workspace.codebook import Code
from qualkit.workspace.store import Workspace, state_locked

__all__ = ["EditResult", "add_code", "add_codebook", "coding_counts", "default_user", "edit_code", "merge_codes",
           "move_code", "new_codebook", "rename_code", "retire_code", "slugify", "unique_id"]


# -- add / edit -------------------------------------------------------------------------------

@state_locked
def add_code(workspace: Workspace, name: str, *, id: str | None = None, codebook: str | None = None,  # noqa: A002
             parent: str | None = None, brief: str = "", definition: str = "", include: str = "",
             exclude: str = "", examples: Iterable[str] = (), keywords: Iterable[str] = (),
             framework: Iterable[str] = (), origin: str = "inductive", color: str | None = None,
             by: str | None = None) -> EditResult:
    """Add a code to a codebook (default: the workspace's default codebook)."""
    ws = workspace
    books = Books(ws)
    book = books.by_id(codebook)
    before = [clone(b) for b in books.books]
    name = " ".join(str(name or "").split())
    check_origin_status(book, origin)
    parent_id = resolve_parent(book, parent)
    check_name(book, name, parent_id)
    if id:
        check_id(books, id, book)
        code_id = id
    else:
        taken = books.all_ids()
        base = slugify(name)
        if base in taken and parent_id:
            base = slugify(f"{parent_id}_{base}")
        code_id = unique_id(base, taken)
    code = Code(code_id, name, parent_id, origin, brief.strip(), definition.strip(), include.strip(), exclude.strip(),
                [e for e in examples if e.strip()], _dedupe(keywords), [], canonical_refs(framework, book, ws),
                color or None)
    book.codes.append(code)
    who = by or default_user()
    book.log(who, f"added {code_id} ({name})" + (f" under {parent_id}" if parent_id else ""))
    safety_net(before, books.books, ws)
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    where = f" under {parent_id}" if parent_id else ""
    return EditResult(f"Added {code_id} ({name}){where} to {book_file(book)}.", book, code, written, backups)


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        x = str(x).strip()
        if x and x.casefold() not in {y.casefold() for y in out}:
            out.append(x)
    return out


@state_locked
def edit_code(workspace: Workspace, code: str, *, codebook: str | None = None, clear: Iterable[str] = (),
              by: str | None = None, **changes: Any) -> EditResult:
    """Change a code's fields (not its id: see rename_code, nor its parent: see move_code).

    ``changes``: name, brief, definition, include, exclude, color, origin, status (replace the
    value); examples, keywords, framework (lists: values are appended). ``clear`` names fields to
    empty first (e.g. ``clear=["keywords"]`` then ``keywords=[...]`` replaces the list).
    """
    ws = workspace
    books = Books(ws)
    book, target = books.locate(code, codebook)
    before = [clone(b) for b in books.books]
    unknown = [k for k in [*changes, *clear] if k not in TEXT_FIELDS + LIST_FIELDS]
    if unknown:
        raise edit_error(f"cannot edit field(s) {', '.join(unknown)} (fields: {', '.join(TEXT_FIELDS + LIST_FIELDS)})", book, target)
    changes = {k: v for k, v in changes.items() if v not in (None, (), [])}
    if not changes and not clear:
        raise edit_error(f"nothing to change for {target.id}: give a field to set", book, target)
    check_origin_status(book, changes.get("origin"), changes.get("status"))
    if "name" in changes:
        changes["name"] = " ".join(str(changes["name"]).split())
        check_name(book, changes["name"], target.parent, target.id)
    done = []
    for f in clear:
        if f in ("name", "origin", "status"):
            raise edit_error(f"'{f}' cannot be cleared", book, target)
        setattr(target, f, [] if f in LIST_FIELDS else ("" if f != "color" else None))
        done.append(f"cleared {f}")
    for f, v in changes.items():
        if f in LIST_FIELDS:
            values = [v] if isinstance(v, str) else list(v)
            if f == "framework":
                values = canonical_refs(values, book, ws)
            merged = list(getattr(target, f))
            for x in values:
                x = str(x).strip()
                if x and x not in merged:
                    merged.append(x)
            setattr(target, f, merged)
            done.append(f"added {f}")
        else:
            old = getattr(target, f)
            setattr(target, f, str(v).strip() if v is not None else v)
            done.append(f"{f} {old!r} -> {getattr(target, f)!r}" if f in ("name", "origin", "status") else f"set {f}")
    who = by or default_user()
    book.log(who, f"edited {target.id}: " + "; ".join(done))
    safety_net(before, books.books, ws)
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    return EditResult(f"Updated {target.id} in {book_file(book)}: {'; '.join(done)}.", book, target, written, backups)


# -- rename -----------------------------------------------------------------------------------

@state_locked
def rename_code(workspace: Workspace, code: str, new_id: str | None = None, *, name: str | None = None,
                codebook: str | None = None, by: str | None = None) -> EditResult:
    """Change a code's id (rewriting every codings file that uses it) and/or its name."""
    ws = workspace
    books = Books(ws)
    book, target = books.locate(code, codebook)
    before = [clone(b) for b in books.books]
    old_id = target.id
    if new_id == old_id:
        new_id = None
    if new_id is None and name is None:
        raise edit_error(f"give a new id and/or --name for {old_id}", book, target)
    recodes: list[Recode] = []
    skipped: list[Path] = []
    if new_id is not None:
        check_id(books, new_id, book)
        counts = coding_counts(ws)
        if counts.get(new_id):
            raise edit_error(f"code id {new_id!r} is already used by {counts[new_id]} coding{plural_s(counts[new_id])} in codings/ although no codebook "
                       f"defines it; pick another id, or add {new_id!r} to a codebook and merge {old_id} into it", book, target)
        recodes, skipped = recode_files(ws, old_id, new_id, merge=False)
    what = []
    if name is not None:
        name = " ".join(name.split())
        check_name(book, name, target.parent, target.id)
        what.append(f"name {target.name!r} -> {name!r}")
        target.name = name
    if new_id is not None:
        target.id = new_id
        for c in book.codes:
            if c.parent == old_id:
                c.parent = new_id
        for g in book.groups:  # code groups follow the code
            g.codes = [new_id if x == old_id else x for x in g.codes]
        what.insert(0, f"renamed code {old_id} to {new_id}")
    n = sum(r.changed for r in recodes)
    if new_id is not None:
        what.append(f"{n} coding{'s' if n != 1 else ''} in {len(recodes)} file{'s' if len(recodes) != 1 else ''} recoded")
    who = by or default_user()
    book.log(who, "; ".join(what))
    safety_net(before, books.books, ws)
    change = FileChange(ws)
    change.add_book(book)
    for r in recodes:
        change.add(r.path, r.text)
    written, backups = change.commit()
    result = EditResult("", book, target, written, backups, {r.path.name: r.changed for r in recodes}, {}, skipped)
    if new_id is not None:
        result.message = (f"Renamed {old_id} to {new_id} in {book_file(book)}; {n} coding{'s' if n != 1 else ''} recoded in "
                          + (", ".join(f"{r.path.name} ({r.changed})" for r in recodes) or "no codings file") + ".")
        if name is not None:
            result.message = result.message[:-1] + f"; name now {name!r}."
    else:
        result.message = f"Renamed {old_id}: name now {name!r}."
    _add_notes(ws, result, old_id if new_id is not None else None, skipped)
    return result


def _add_notes(ws: Workspace, result: EditResult, old_id: str | None, skipped: list[Path]) -> None:
    if old_id:
        lines = themes_mentions(ws, old_id)
        if lines:
            result.notes.append(f"themes.yaml still refers to {old_id!r} (line{'s' if len(lines) > 1 else ''} "
                                f"{', '.join(map(str, lines))}); update it")
    for p in skipped:
        result.notes.append(f"{p.relative_to(ws.root)} is not a codings file and was left as it is")
    if result.backups:
        result.notes.append(f"previous versions are in {ws.backup_dir.relative_to(ws.root)}/")


# -- merge ------------------------------------------------------------------------------------

@state_locked
def merge_codes(workspace: Workspace, source: str, target: str, *, codebook: str | None = None,
                by: str | None = None) -> EditResult:
    """Merge code ``source`` (A) into ``target`` (B): A's codings become B's; A is retired."""
    ws = workspace
    books = Books(ws)
    book_a, a = books.locate(source, codebook)
    book_b, b = books.locate(target, None)
    before = [clone(x) for x in books.books]
    if a.id == b.id:
        raise edit_error(f"cannot merge {a.id} into itself", book_a, a)
    if b.status == "retired":
        raise edit_error(f"{b.id} is retired; reactivate it (qualkit codebook edit {b.id} --status active) "
                   "or merge into an active code", book_b, b)
    if a.status == "retired" and not coding_counts(ws).get(a.id):
        raise edit_error(f"{a.id} is already retired and has no codings; nothing to merge", book_a, a)
    recodes, skipped = recode_files(ws, a.id, b.id, merge=True)
    # hierarchy: A's children move under B (or A's parent when B is elsewhere or below A)
    same_book = book_a is book_b
    moved = []
    for c in book_a.codes:
        if c.parent != a.id:
            continue
        if same_book and c.id != b.id and b.id not in (descendants(book_a, c.id) | {c.id}):
            c.parent = b.id
        else:
            c.parent = a.parent
        moved.append(c.id)
    added_kw = [k for k in a.keywords if k.casefold() not in {x.casefold() for x in b.keywords}]
    added_ex = [e for e in a.examples if e not in b.examples]
    b.keywords = [*b.keywords, *added_kw]
    b.examples = [*b.examples, *added_ex]
    a.status = "retired"
    n = sum(r.changed for r in recodes)
    d = sum(r.dropped for r in recodes)
    who = by or default_user()
    what = (f"merged {a.id} into {b.id}: {n} coding{'s' if n != 1 else ''} recoded, "
            f"{d} duplicate{'s' if d != 1 else ''} dropped; {a.id} retired")
    if moved:
        what += f"; children moved: {', '.join(moved)}"
    book_a.log(who, what)
    if book_b is not book_a:
        book_b.log(who, f"received {a.id} from {book_a.id}: " + what)
    safety_net(before, books.books, ws)
    change = FileChange(ws)
    change.add_book(book_a)
    if book_b is not book_a:
        change.add_book(book_b)
    for r in recodes:
        change.add(r.path, r.text)
    written, backups = change.commit()
    files = ", ".join(f"{r.path.name} ({r.changed} recoded, {r.dropped} dropped)" if r.dropped else
                      f"{r.path.name} ({r.changed})" for r in recodes) or "no codings file"
    msg = (f"Merged {a.id} into {b.id}: {n} coding{'s' if n != 1 else ''} now {b.id}, "
           f"{d} duplicate{'s' if d != 1 else ''} (same coder, same span, already {b.id}) dropped; "
           f"{a.id} is retired. Files: {files}.")
    if added_kw or added_ex:
        msg = msg[:-1] + f"; {len(added_kw)} keyword{plural_s(len(added_kw))} and {len(added_ex)} example{plural_s(len(added_ex))} of {a.id} added to {b.id}."
    result = EditResult(msg, book_b, b, written, backups, {r.path.name: r.changed for r in recodes},
                        {r.path.name: r.dropped for r in recodes if r.dropped}, skipped)
    if moved:
        result.notes.append(f"children of {a.id} moved: {', '.join(moved)}")
    _add_notes(ws, result, a.id, skipped)
    return result


# -- move / retire ----------------------------------------------------------------------------

@state_locked
def move_code(workspace: Workspace, code: str, parent: str | None, *, codebook: str | None = None,
              by: str | None = None) -> EditResult:
    """Give a code a new parent (None: top level); refuses to make a cycle."""
    ws = workspace
    books = Books(ws)
    book, target = books.locate(code, codebook)
    before = [clone(b) for b in books.books]
    parent_id = resolve_parent(book, parent)
    if parent_id == target.id:
        raise edit_error(f"{target.id} cannot be its own parent", book, target)
    if parent_id is not None and parent_id in descendants(book, target.id):
        new_parent = book.get(parent_id)
        assert new_parent is not None  # resolve_parent found it
        chain = [c.id for c in book.path_of(new_parent)]
        raise edit_error(f"moving {target.id} under {parent_id} would make a cycle ({' > '.join(chain)} > {target.id})", book, target)
    if parent_id == target.parent:
        where = f"under {parent_id}" if parent_id else "at the top level"
        raise edit_error(f"{target.id} is already {where}", book, target)
    check_name(book, target.name, parent_id, target.id)
    old = target.parent
    target.parent = parent_id
    who = by or default_user()
    book.log(who, f"moved {target.id} from {old or '(top level)'} to {parent_id or '(top level)'}")
    safety_net(before, books.books, ws)
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    return EditResult(f"Moved {target.id} {'under ' + parent_id if parent_id else 'to the top level'} in {book_file(book)}.",
                      book, target, written, backups)


@state_locked
def retire_code(workspace: Workspace, code: str, *, codebook: str | None = None, by: str | None = None) -> EditResult:
    """Mark a code retired: it stays in the codebook and its codings stay; new use is a warning."""
    ws = workspace
    books = Books(ws)
    book, target = books.locate(code, codebook)
    if target.status == "retired":
        return EditResult(f"{target.id} is already retired; nothing was changed.", book, target)
    target.status = "retired"
    who = by or default_user()
    n = coding_counts(ws).get(target.id, 0)
    book.log(who, f"retired {target.id}")
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    msg = f"Retired {target.id} in {book_file(book)}"
    msg += (f"; its {n} coding{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} kept "
            "(validate warns while a retired code is in use)." if n else ".")
    active_children = [c.id for c in book.codes if c.parent == target.id and c.status == "active"]
    result = EditResult(msg, book, target, written, backups)
    if active_children:
        result.notes.append(f"its children stay active: {', '.join(active_children)}")
    return result
