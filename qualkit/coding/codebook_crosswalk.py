"""Carrying a codebook's framework refs across framework versions (CFIR 2009 <-> CFIR 2.0).

Each code that refers to an item of one version gets the refs of the items that item maps onto in the
other (:mod:`qualkit.frameworks.crosswalk`, from Damschroder et al. 2022, Additional file 4), so
the same codings can be tabled by either version and matched to CFIR-ERIC barrier names.
"""
from __future__ import annotations

from qualkit.coding.codebook_edit_core import Books, EditResult, FileChange, book_file, default_user, safety_net
from qualkit.workspace.codebook import CodebookError
from qualkit.workspace.store import Workspace

__all__ = ["crosswalk_codebook"]


def crosswalk_codebook(workspace: Workspace, to: str, *, codebook: str | None = None,
                       by: str | None = None) -> EditResult:
    """Add to each code of ``codebook`` the refs its framework refs map onto in framework ``to``.

    Refs already there are kept; codes whose items have no counterpart are listed in the notes.
    The codebook is backed up before it is rewritten."""
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref
    from qualkit.frameworks.crosswalk import crosswalk

    ws = workspace
    books = Books(ws)
    book = books.by_id(codebook)
    frameworks = ws.frameworks()
    walks: dict[str, object] = {}
    added, unmapped = 0, []
    for code in book.codes:
        new: list[str] = []
        for ref in code.framework:
            try:
                item = resolve_ref(ref, frameworks=frameworks, default=book.framework or ws.config.framework)
            except FrameworkError:
                continue
            if item.framework == to:
                continue
            if item.framework not in walks:
                walks[item.framework] = crosswalk(item.framework, to, frameworks)
            targets = walks[item.framework].targets_of(item)  # type: ignore[attr-defined]
            if not targets:
                unmapped.append(f"{code.id} ({item.ref})")
            new += [t.ref for t in targets if t.ref not in code.framework and t.ref not in new]
        code.framework = [*code.framework, *new]
        added += len(new)
    if not walks:
        raise CodebookError(f"no code of {book.id!r} refers to a framework with a crosswalk to {to}", book.path)
    book.log(by or default_user(), f"crosswalk: added {added} {to} refs")
    safety_net(books.books, books.books, ws)
    change = FileChange(ws)
    change.add_book(book)
    written, backups = change.commit()
    result = EditResult(f"Added {added} {to} ref{'s' if added != 1 else ''} to the codes of {book_file(book)}.",
                        book, None, written, backups)
    if unmapped:
        result.notes.append(f"no counterpart in {to}: {', '.join(unmapped)}")
    return result
