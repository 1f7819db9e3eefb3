"""What every codebook edit shares: the workspace's codebooks, lookups, checks, and writing files as one change.

An edit loads every codebook once (:class:`Books`), checks the whole change (names, ids, parents,
framework refs, and :func:`safety_net` against new structural problems), then writes all of its
files together (:class:`FileChange`): each backed up, replaced atomically, and put back on failure.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.workspace.codebook import ID_RE, ORIGINS, STATUSES, Code, Codebook, CodebookError, dump_codebook
from qualkit.workspace.store import Workspace

__all__ = ["LIST_FIELDS", "TEXT_FIELDS", "Books", "EditResult", "FileChange", "book_file", "canonical_refs", "check_id",
           "check_name", "check_origin_status", "clone", "default_user", "descendants", "edit_error", "norm_name",
           "resolve_parent", "safety_net"]

TEXT_FIELDS = ("name", "brief", "definition", "include", "exclude", "color", "origin", "status")
LIST_FIELDS = ("examples", "keywords", "framework")


@dataclass
class EditResult:
    """What an edit did: a one-line ``message`` and the files it wrote."""

    message: str
    codebook: Codebook
    code: Code | None = None
    written: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    recoded: dict[str, int] = field(default_factory=dict)      # codings file name -> codings changed
    dropped: dict[str, int] = field(default_factory=dict)      # codings file name -> duplicates dropped
    skipped: list[Path] = field(default_factory=list)          # codings/*.csv that are not codings files
    notes: list[str] = field(default_factory=list)             # things the user should know

    def __str__(self) -> str:
        return self.message


# -- small helpers ----------------------------------------------------------------------------

def default_user() -> str:
    """Who is editing: the operating-system user, else 'unknown'."""
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no user database (containers)
        return "unknown"


def norm_name(name: str) -> str:
    """A name as compared: whitespace collapsed, case folded."""
    return " ".join(str(name).split()).casefold()


def edit_error(message: str, book: Codebook | None = None, code: Code | None = None,
               path: Path | None = None) -> CodebookError:
    """The error an edit raises: at the code's line in its codebook file, else at ``path``."""
    if book is not None:
        return CodebookError(message, book.path, code.line if code is not None else None)
    return CodebookError(message, path)


class Books:
    """All codebooks of a workspace, loaded once, with lookups across them."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.books: list[Codebook] = ws.codebooks()

    def by_id(self, codebook: str | None) -> Codebook:
        """A codebook by id or file stem; None: the workspace's default (or only) codebook."""
        if codebook is None:
            wanted = self.ws.config.codebook
            if not wanted:
                if len(self.books) == 1:
                    return self.books[0]
                if not self.books:
                    raise CodebookError("no codebook yet: create one with `qualkit codebook new NAME`", self.ws.codebooks_dir)
                raise CodebookError("several codebooks: name one (--codebook ID) or set 'codebook:' in qualkit.yaml "
                                    f"(known: {', '.join(b.id for b in self.books)})", self.ws.codebooks_dir)
            codebook = str(wanted)
        for b in self.books:
            if b.id == codebook or (b.path is not None and b.path.stem == codebook):
                return b
        known = ", ".join(b.id for b in self.books) or "none"
        raise CodebookError(f"no codebook {codebook!r} (known: {known})", self.ws.codebooks_dir)

    def all_ids(self, exclude: Codebook | None = None) -> set[str]:
        """Every code id in use, across codebooks (but ``exclude``)."""
        return {c.id for b in self.books if b is not exclude for c in b.codes}

    def locate(self, key: str, codebook: str | None = None) -> tuple[Codebook, Code]:
        """The code a key (id, else name) names, in ``codebook`` or in any codebook."""
        books = [self.by_id(codebook)] if codebook else self.books
        if not books:
            raise CodebookError("no codebook yet: create one with `qualkit codebook new NAME`", self.ws.codebooks_dir)
        for b in books:
            c = b.get(key)
            if c is not None:
                return b, c
        named = [(b, c) for b in books for c in b.codes if norm_name(c.name) == norm_name(key)]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            listed = ", ".join(f"{c.id} ({b.id})" for b, c in named)
            raise CodebookError(f"several codes are named {key!r}: {listed}; use the id", named[0][0].path)
        import difflib

        pool = [c.id for b in books for c in b.codes]
        close = difflib.get_close_matches(key, pool, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = books[0].path if len(books) == 1 else self.ws.codebooks_dir
        raise CodebookError(f"no code {key!r}" + (f" in codebook {books[0].id!r}" if codebook else "") + hint, where)


def resolve_parent(book: Codebook, key: str | None) -> str | None:
    """The id of the parent a key (id, else name) names in ``book``; None for none."""
    if key is None or key == "":
        return None
    c = book.get(key)
    if c is None:
        named = [x for x in book.codes if norm_name(x.name) == norm_name(key)]
        if len(named) == 1:
            c = named[0]
        elif len(named) > 1:
            raise edit_error(f"several codes are named {key!r}: {', '.join(x.id for x in named)}; give the parent's id", book)
    if c is None:
        import difflib

        close = difflib.get_close_matches(key, [x.id for x in book.codes], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise edit_error(f"no parent code {key!r} in codebook {book.id!r} (a parent must be in the same codebook){hint}", book)
    return c.id


def check_name(book: Codebook, name: str, parent: str | None, self_id: str | None = None) -> None:
    """Refuse an empty name, or one a sibling already has."""
    if not str(name).strip():
        raise edit_error("a code needs a name", book)
    for c in book.codes:
        if c.id != self_id and c.parent == parent and norm_name(c.name) == norm_name(name):
            under = f"under {parent!r}" if parent else "at the top level"
            raise edit_error(f"there is already a code named {c.name!r} {under} ({c.id})", book, c)


def check_id(ws_books: Books, new_id: str, book: Codebook) -> None:
    """Refuse a malformed code id, or one used anywhere in the workspace."""
    if not ID_RE.match(new_id or ""):
        raise edit_error(f"code id {new_id!r} must be lower-case letters, digits, _ . - (e.g. data_sharing)", book)
    for b in ws_books.books:
        c = b.get(new_id)
        if c is not None:
            raise edit_error(f"code id {new_id!r} is already used by {c.name!r} in {book_file(b)}", b, c)


def canonical_refs(refs: Iterable[str], book: Codebook, ws: Workspace) -> list[str]:
    """Framework refs checked with resolve_ref and written in their short form (heif:outer)."""
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    wanted = [r.strip() for r in refs if r and r.strip()]
    if not wanted:
        return []
    frameworks = ws.frameworks()
    out: list[str] = []
    for r in wanted:
        try:
            item = resolve_ref(r, frameworks=frameworks, default=book.framework or ws.config.framework)
        except FrameworkError as exc:
            raise edit_error(f"framework ref {r!r}: {exc.message}", book) from None
        if item.ref not in out:
            out.append(item.ref)
    return out


def check_origin_status(book: Codebook, origin: str | None = None, status: str | None = None) -> None:
    """Refuse an origin or status the codebook schema does not allow."""
    if origin is not None and origin not in ORIGINS:
        raise edit_error(f"origin {origin!r} must be deductive or inductive", book)
    if status is not None and status not in STATUSES:
        raise edit_error(f"status {status!r} must be active or retired", book)


def descendants(book: Codebook, code_id: str) -> set[str]:
    """Ids of every code below ``code_id`` in the hierarchy."""
    out: set[str] = set()
    todo = [code_id]
    while todo:
        cur = todo.pop()
        for c in book.codes:
            if c.parent == cur and c.id not in out and c.id != code_id:
                out.add(c.id)
                todo.append(c.id)
    return out


def safety_net(before: list[Codebook], after: list[Codebook], ws: Workspace) -> None:
    """Refuse an edit that would add a structural problem (duplicate id, cycle, bad ref...)."""
    from qualkit.coding.codebook_validate import Problem, check_codebooks

    try:
        frameworks = ws.frameworks()
    except Exception:  # noqa: BLE001 - a broken frameworks/ file is reported by validate
        from qualkit.frameworks.catalog import builtin_frameworks

        frameworks = builtin_frameworks()

    def keys(problems: list[Problem]) -> set[tuple[str, str | None, str]]:
        return {(str(p.path), p.code, re.sub(r"\d+", "#", p.message)) for p in problems if p.is_error}

    old = keys(check_codebooks(before, frameworks))
    for p in check_codebooks(after, frameworks):
        if p.is_error and (str(p.path), p.code, re.sub(r"\d+", "#", p.message)) not in old:
            raise CodebookError(f"the edit would break the codebook: {p.message}; nothing was changed", p.path, p.line)


def clone(book: Codebook) -> Codebook:
    """A deep copy, to compare a codebook before and after an edit."""
    import copy

    return copy.deepcopy(book)


# -- writing several files as one change ------------------------------------------------------

class FileChange:
    """Files to write together: each backed up, then replaced atomically; undone on failure."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.files: list[tuple[Path, str]] = []

    def add(self, path: Path, text: str) -> None:
        """Write ``text`` to ``path`` on commit."""
        self.files.append((Path(path), text))

    def add_book(self, book: Codebook) -> None:
        """Write ``book`` to its file on commit."""
        if book.path is None:
            raise CodebookError(f"codebook {book.id!r} has no file to write to")
        self.add(book.path, dump_codebook(book))

    def commit(self) -> tuple[list[Path], list[Path]]:
        """Write every file as one transaction (each backed up first): a kill at any point leaves
        either all old files or all new ones (see :mod:`qualkit.io.transaction`)."""
        with self.ws.state_lock():
            txn = self.ws.transaction()
            for path, text in self.files:
                txn.add(path, text)
            return txn.commit()


def book_file(book: Codebook) -> str:
    """The codebook's file name, for messages (its id when it has no file yet)."""
    return book.path.name if book.path is not None else book.id
