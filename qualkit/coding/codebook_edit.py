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

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.io.atomic import atomic_write_text, backup
from qualkit.workspace.codebook import (
    ID_RE,
    ORIGINS,
    STATUSES,
    Code,
    Codebook,
    CodebookError,
    dump_codebook,
)

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


def slugify(name: str, max_len: int = 48) -> str:
    """A snake_case id from a name: 'Inter-partner data sharing' -> 'inter_partner_data_sharing'."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ").replace("+", " plus ")
    slug = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if len(slug) > max_len:
        cut = slug[:max_len]
        slug = cut.rsplit("_", 1)[0] if "_" in cut else cut
    return slug or "code"


def unique_id(base: str, taken: set[str] | Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _err(message: str, book: Codebook | None = None, code: Code | None = None, path=None) -> CodebookError:
    if book is not None:
        return CodebookError(message, book.path, code.line if code is not None else None)
    return CodebookError(message, path)


class _Books:
    """All codebooks of a workspace, loaded once, with lookups across them."""

    def __init__(self, ws):
        self.ws = ws
        self.books: list[Codebook] = ws.codebooks()

    def by_id(self, codebook: str | None) -> Codebook:
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
        named = [(b, c) for b in books for c in b.codes if _norm(c.name) == _norm(key)]
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


def _resolve_parent(book: Codebook, key: str | None) -> str | None:
    if key in (None, ""):
        return None
    c = book.get(key)
    if c is None:
        named = [x for x in book.codes if _norm(x.name) == _norm(key)]
        if len(named) == 1:
            c = named[0]
        elif len(named) > 1:
            raise _err(f"several codes are named {key!r}: {', '.join(x.id for x in named)}; give the parent's id", book)
    if c is None:
        import difflib

        close = difflib.get_close_matches(key, [x.id for x in book.codes], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise _err(f"no parent code {key!r} in codebook {book.id!r} (a parent must be in the same codebook){hint}", book)
    return c.id


def _check_name(book: Codebook, name: str, parent: str | None, self_id: str | None = None) -> None:
    if not str(name).strip():
        raise _err("a code needs a name", book)
    for c in book.codes:
        if c.id != self_id and c.parent == parent and _norm(c.name) == _norm(name):
            under = f"under {parent!r}" if parent else "at the top level"
            raise _err(f"there is already a code named {c.name!r} {under} ({c.id})", book, c)


def _check_id(ws_books: _Books, new_id: str, book: Codebook) -> None:
    if not ID_RE.match(new_id or ""):
        raise _err(f"code id {new_id!r} must be lower-case letters, digits, _ . - (e.g. data_sharing)", book)
    for b in ws_books.books:
        c = b.get(new_id)
        if c is not None:
            raise _err(f"code id {new_id!r} is already used by {c.name!r} in {b.path.name if b.path else b.id}", b, c)


def _canonical_refs(refs: Iterable[str], book: Codebook, ws) -> list[str]:
    """Framework refs checked with resolve_ref and written in their short form (heif:outer)."""
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    refs = [r.strip() for r in refs if r and r.strip()]
    if not refs:
        return []
    frameworks = ws.frameworks()
    out = []
    for r in refs:
        try:
            item = resolve_ref(r, frameworks=frameworks, default=book.framework or ws.config.framework)
        except FrameworkError as exc:
            raise _err(f"framework ref {r!r}: {exc.message}", book) from None
        if item.ref not in out:
            out.append(item.ref)
    return out


def _check_origin_status(book: Codebook, origin: str | None = None, status: str | None = None) -> None:
    if origin is not None and origin not in ORIGINS:
        raise _err(f"origin {origin!r} must be deductive or inductive", book)
    if status is not None and status not in STATUSES:
        raise _err(f"status {status!r} must be active or retired", book)


def _descendants(book: Codebook, code_id: str) -> set[str]:
    out: set[str] = set()
    todo = [code_id]
    while todo:
        cur = todo.pop()
        for c in book.codes:
            if c.parent == cur and c.id not in out and c.id != code_id:
                out.add(c.id)
                todo.append(c.id)
    return out


def _safety_net(before: list[Codebook], after: list[Codebook], ws) -> None:
    """Refuse an edit that would add a structural problem (duplicate id, cycle, bad ref...)."""
    from qualkit.coding.codebook_validate import check_codebooks

    try:
        frameworks = ws.frameworks()
    except Exception:  # noqa: BLE001 - a broken frameworks/ file is reported by validate
        from qualkit.frameworks.catalog import builtin_frameworks

        frameworks = builtin_frameworks()

    def keys(problems):
        return {(str(p.path), p.code, re.sub(r"\d+", "#", p.message)) for p in problems if p.is_error}

    old = keys(check_codebooks(before, frameworks))
    for p in check_codebooks(after, frameworks):
        if p.is_error and (str(p.path), p.code, re.sub(r"\d+", "#", p.message)) not in old:
            raise CodebookError(f"the edit would break the codebook: {p.message}; nothing was changed", p.path, p.line)


def _clone(book: Codebook) -> Codebook:
    import copy

    return copy.deepcopy(book)


# -- writing several files as one change ------------------------------------------------------

class _Change:
    """Files to write together: each backed up, then replaced atomically; undone on failure."""

    def __init__(self, ws):
        self.ws = ws
        self.files: list[tuple[Path, str]] = []

    def add(self, path: Path, text: str) -> None:
        self.files.append((Path(path), text))

    def commit(self) -> tuple[list[Path], list[Path]]:
        import shutil

        done: list[tuple[Path, Path | None]] = []
        try:
            for path, text in self.files:
                saved = backup(path, self.ws.backup_dir)
                atomic_write_text(path, text)
                done.append((path, saved))
        except BaseException:
            for path, saved in reversed(done):
                try:
                    if saved is not None:
                        shutil.copy2(saved, path)
                    else:
                        path.unlink(missing_ok=True)
                except OSError:
                    pass
            raise
        return [p for p, _ in done], [b for _, b in done if b is not None]


# -- codings rewriting ------------------------------------------------------------------------

@dataclass
class _Recode:
    path: Path
    text: str
    changed: int
    dropped: int


def _recode_files(ws, old: str, new: str, merge: bool) -> tuple[list[_Recode], list[Path]]:
    """New text of every codings/*.csv that uses ``old``; nothing is written here.

    Each file is first read with the codings reader, so a malformed file stops the edit before
    anything is written. Only ``code`` cells change; rows that become exact duplicates of an
    existing coding (same transcript, start, end and code) are dropped, their memo kept.
    """
    from qualkit.coding.codebook_validate import codings_files, is_codings_file
    from qualkit.workspace.codings import read_codings

    out, skipped = [], []
    for path in codings_files(ws.codings_dir):
        if not is_codings_file(path):
            skipped.append(path)
            continue
        read_codings(path)  # raises CodingError (file and line) on a malformed file
        raw = path.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        if not re.search(re.escape(old), text):
            continue
        newline = "\r\n" if "\r\n" in text else "\n"
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header = [h.strip() for h in rows[0]]
        ci = {h: i for i, h in enumerate(header)}

        def cell(row, col):
            i = ci.get(col)
            return row[i].strip() if i is not None and i < len(row) else ""

        def key(row, code):
            return (cell(row, "transcript"), int(cell(row, "start")), int(cell(row, "end")), code)

        existing: dict[tuple, list[str]] = {}
        for row in rows[1:]:
            if any(v.strip() for v in row) and cell(row, "code") == new:
                existing[key(row, new)] = row
        kept, changed, dropped = [rows[0]], 0, 0
        for row in rows[1:]:
            if not any(v.strip() for v in row) or cell(row, "code") != old:
                kept.append(row)
                continue
            k = key(row, new)
            if merge and k in existing:
                dropped += 1
                _merge_memo(existing[k], row, ci)
                continue
            row = list(row)
            row[ci["code"]] = new
            existing[k] = row
            kept.append(row)
            changed += 1
        if not changed and not dropped:
            continue
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator=newline)
        writer.writerows(kept)
        out.append(_Recode(path, ("\ufeff" if bom else "") + buf.getvalue(), changed, dropped))
    return out, skipped


def _merge_memo(kept: list[str], dropped: list[str], ci: dict[str, int]) -> None:
    i = ci.get("memo")
    if i is None or i >= len(dropped) or not dropped[i].strip():
        return
    while len(kept) <= i:
        kept.append("")
    if dropped[i].strip() not in kept[i]:
        kept[i] = f"{kept[i]} | {dropped[i]}" if kept[i].strip() else dropped[i]


def _themes_mentions(ws, code_id: str) -> list[int]:
    """Lines of themes.yaml that mention a code id (themes are edited by hand or by `themes`)."""
    path = ws.root / "themes.yaml"
    if not path.is_file():
        return []
    pat = re.compile(rf"(?<![\w.\-]){re.escape(code_id)}(?![\w.\-])")
    try:
        return [i for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1)
                if pat.search(line.split("#", 1)[0])]
    except (OSError, UnicodeDecodeError):
        return []


def coding_counts(ws) -> dict[str, int]:
    """Code id -> number of codings across codings/*.csv (unreadable files are skipped)."""
    from qualkit.coding.codebook_validate import codings_files, is_codings_file
    from qualkit.errors import QualkitError
    from qualkit.workspace.codings import read_codings

    counts: dict[str, int] = {}
    for path in codings_files(ws.codings_dir):
        if not is_codings_file(path):
            continue
        try:
            for c in read_codings(path):
                counts[c.code] = counts.get(c.code, 0) + 1
        except QualkitError:
            continue
    return counts


# -- new --------------------------------------------------------------------------------------

def new_codebook(workspace, name: str, from_framework: str | None = None, id: str | None = None,  # noqa: A002
                 *, description: str | None = None, by: str | None = None) -> EditResult:
    """Create codebooks/<id>.yaml: empty (inductive) or one code per item of a framework.

    ``id`` defaults to a snake_case form of ``name``. Refuses to overwrite an existing file or to
    reuse a codebook id.
    """
    ws = workspace
    books = _Books(ws)
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
            raise CodebookError(f"codebook id {book_id!r} is already used by {b.path.name}", b.path, 1)
    who = by or default_user()
    book = Codebook(book_id, name.strip(), [], description or "", None, [], path)
    notes = []
    if from_framework:
        from qualkit.frameworks.catalog import get_framework

        fw = get_framework(from_framework, frameworks=ws.frameworks())
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
        what = f"created from framework {fw.id}: {len(book.codes)} codes ({', '.join(parts)})"
    else:
        if not book.description:
            book.description = "Inductive codebook."
        what = "created (empty, inductive)"
    book.log(who, what)
    _safety_net(books.books, [*books.books, book], ws)
    change = _Change(ws)
    change.add(path, dump_codebook(book))
    written, backups = change.commit()
    rel = path.relative_to(ws.root) if path.is_relative_to(ws.root) else path
    msg = f"Created {rel}: {len(book.codes)} code{'s' if len(book.codes) != 1 else ''}"
    msg += f" from {book.framework} ({what.split('(', 1)[1]}" if from_framework else " (empty inductive codebook)"
    if notes:
        msg += "; " + "; ".join(notes)
    return EditResult(msg + ".", book, None, written, backups, notes=notes)


def _code_from_item(item, fw, prefix: str) -> Code:
    kind = {"domain": "domain", "subdomain": "sub-domain", "construct": "construct",
            "subconstruct": "sub-construct"}[item.kind]
    definition = " ".join(item.definition.split())
    if not item.verified:
        source = f"the {fw.id.upper()} source"
        definition += (f" (Inherited from the parent framework; the name is not verified against {source}.)"
                       if item.status == "inherited" else f" (The name is not verified against {source}.)")
    brief = _brief(item.definition) or item.label
    include = f"Passages about {_lower_first(item.label)}, as the definition describes, that bear on implementation."
    if item.children:
        names = ", ".join(c.label for c in item.children[:4]) + (", ..." if len(item.children) > 4 else "")
        include += f" Use this {kind} code when no more specific item under it fits."
        exclude = f"A more specific item under this {kind} fits ({names}): code that item instead."
    else:
        exclude = "Passages that only mention the topic in passing; double-code with inductive codes where both apply."
    return Code(id=prefix + item.id, name=item.label, parent=(prefix + item.parent) if item.parent else None,
                origin="deductive", brief=brief, definition=definition, include=include, exclude=exclude,
                framework=[item.ref])


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


# -- add / edit -------------------------------------------------------------------------------

def add_code(workspace, name: str, *, id: str | None = None, codebook: str | None = None,  # noqa: A002
             parent: str | None = None, brief: str = "", definition: str = "", include: str = "",
             exclude: str = "", examples: Iterable[str] = (), keywords: Iterable[str] = (),
             framework: Iterable[str] = (), origin: str = "inductive", color: str | None = None,
             by: str | None = None) -> EditResult:
    """Add a code to a codebook (default: the workspace's default codebook)."""
    ws = workspace
    books = _Books(ws)
    book = books.by_id(codebook)
    before = [_clone(b) for b in books.books]
    name = " ".join(str(name or "").split())
    _check_origin_status(book, origin)
    parent_id = _resolve_parent(book, parent)
    _check_name(book, name, parent_id)
    if id:
        _check_id(books, id, book)
        code_id = id
    else:
        taken = books.all_ids()
        base = slugify(name)
        if base in taken and parent_id:
            base = slugify(f"{parent_id}_{base}")
        code_id = unique_id(base, taken)
    code = Code(code_id, name, parent_id, origin, brief.strip(), definition.strip(), include.strip(), exclude.strip(),
                [e for e in examples if e.strip()], _dedupe(keywords), [], _canonical_refs(framework, book, ws),
                color or None)
    book.codes.append(code)
    who = by or default_user()
    book.log(who, f"added {code_id} ({name})" + (f" under {parent_id}" if parent_id else ""))
    _safety_net(before, books.books, ws)
    change = _Change(ws)
    change.add(book.path, dump_codebook(book))
    written, backups = change.commit()
    where = f" under {parent_id}" if parent_id else ""
    return EditResult(f"Added {code_id} ({name}){where} to {book.path.name}.", book, code, written, backups)


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        x = str(x).strip()
        if x and x.casefold() not in {y.casefold() for y in out}:
            out.append(x)
    return out


def edit_code(workspace, code: str, *, codebook: str | None = None, clear: Iterable[str] = (),
              by: str | None = None, **changes) -> EditResult:
    """Change a code's fields (not its id: see rename_code, nor its parent: see move_code).

    ``changes``: name, brief, definition, include, exclude, color, origin, status (replace the
    value); examples, keywords, framework (lists: values are appended). ``clear`` names fields to
    empty first (e.g. ``clear=["keywords"]`` then ``keywords=[...]`` replaces the list).
    """
    ws = workspace
    books = _Books(ws)
    book, target = books.locate(code, codebook)
    before = [_clone(b) for b in books.books]
    unknown = [k for k in [*changes, *clear] if k not in TEXT_FIELDS + LIST_FIELDS]
    if unknown:
        raise _err(f"cannot edit field(s) {', '.join(unknown)} (fields: {', '.join(TEXT_FIELDS + LIST_FIELDS)})", book, target)
    changes = {k: v for k, v in changes.items() if v not in (None, (), [])}
    if not changes and not clear:
        raise _err(f"nothing to change for {target.id}: give a field to set", book, target)
    _check_origin_status(book, changes.get("origin"), changes.get("status"))
    if "name" in changes:
        changes["name"] = " ".join(str(changes["name"]).split())
        _check_name(book, changes["name"], target.parent, target.id)
    done = []
    for f in clear:
        if f in ("name", "origin", "status"):
            raise _err(f"'{f}' cannot be cleared", book, target)
        setattr(target, f, [] if f in LIST_FIELDS else ("" if f != "color" else None))
        done.append(f"cleared {f}")
    for f, v in changes.items():
        if f in LIST_FIELDS:
            values = [v] if isinstance(v, str) else list(v)
            if f == "framework":
                values = _canonical_refs(values, book, ws)
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
    _safety_net(before, books.books, ws)
    change = _Change(ws)
    change.add(book.path, dump_codebook(book))
    written, backups = change.commit()
    return EditResult(f"Updated {target.id} in {book.path.name}: {'; '.join(done)}.", book, target, written, backups)


# -- rename -----------------------------------------------------------------------------------

def rename_code(workspace, code: str, new_id: str | None = None, *, name: str | None = None,
                codebook: str | None = None, by: str | None = None) -> EditResult:
    """Change a code's id (rewriting every codings file that uses it) and/or its name."""
    ws = workspace
    books = _Books(ws)
    book, target = books.locate(code, codebook)
    before = [_clone(b) for b in books.books]
    old_id = target.id
    if new_id == old_id:
        new_id = None
    if new_id is None and name is None:
        raise _err(f"give a new id and/or --name for {old_id}", book, target)
    recodes, skipped = [], []
    if new_id is not None:
        _check_id(books, new_id, book)
        counts = coding_counts(ws)
        if counts.get(new_id):
            raise _err(f"code id {new_id!r} is already used by {counts[new_id]} coding(s) in codings/ although no codebook "
                       f"defines it; pick another id, or add {new_id!r} to a codebook and merge {old_id} into it", book, target)
        recodes, skipped = _recode_files(ws, old_id, new_id, merge=False)
    what = []
    if name is not None:
        name = " ".join(name.split())
        _check_name(book, name, target.parent, target.id)
        what.append(f"name {target.name!r} -> {name!r}")
        target.name = name
    if new_id is not None:
        target.id = new_id
        for c in book.codes:
            if c.parent == old_id:
                c.parent = new_id
        what.insert(0, f"renamed code {old_id} to {new_id}")
    n = sum(r.changed for r in recodes)
    if new_id is not None:
        what.append(f"{n} coding{'s' if n != 1 else ''} in {len(recodes)} file{'s' if len(recodes) != 1 else ''} recoded")
    who = by or default_user()
    book.log(who, "; ".join(what))
    _safety_net(before, books.books, ws)
    change = _Change(ws)
    change.add(book.path, dump_codebook(book))
    for r in recodes:
        change.add(r.path, r.text)
    written, backups = change.commit()
    result = EditResult("", book, target, written, backups, {r.path.name: r.changed for r in recodes}, {}, skipped)
    if new_id is not None:
        result.message = (f"Renamed {old_id} to {new_id} in {book.path.name}; {n} coding{'s' if n != 1 else ''} recoded in "
                          + (", ".join(f"{r.path.name} ({r.changed})" for r in recodes) or "no codings file") + ".")
        if name is not None:
            result.message = result.message[:-1] + f"; name now {name!r}."
    else:
        result.message = f"Renamed {old_id}: name now {name!r}."
    _add_notes(ws, result, old_id if new_id is not None else None, skipped)
    return result


def _add_notes(ws, result: EditResult, old_id: str | None, skipped: list[Path]) -> None:
    if old_id:
        lines = _themes_mentions(ws, old_id)
        if lines:
            result.notes.append(f"themes.yaml still refers to {old_id!r} (line{'s' if len(lines) > 1 else ''} "
                                f"{', '.join(map(str, lines))}); update it")
    for p in skipped:
        result.notes.append(f"{p.relative_to(ws.root)} is not a codings file and was left as it is")
    if result.backups:
        result.notes.append(f"previous versions are in {ws.backup_dir.relative_to(ws.root)}/")


# -- merge ------------------------------------------------------------------------------------

def merge_codes(workspace, source: str, target: str, *, codebook: str | None = None,
                by: str | None = None) -> EditResult:
    """Merge code ``source`` (A) into ``target`` (B): A's codings become B's; A is retired."""
    ws = workspace
    books = _Books(ws)
    book_a, a = books.locate(source, codebook)
    book_b, b = books.locate(target, None)
    before = [_clone(x) for x in books.books]
    if a.id == b.id:
        raise _err(f"cannot merge {a.id} into itself", book_a, a)
    if b.status == "retired":
        raise _err(f"{b.id} is retired; reactivate it (qualkit codebook edit {b.id} --status active) "
                   "or merge into an active code", book_b, b)
    if a.status == "retired" and not coding_counts(ws).get(a.id):
        raise _err(f"{a.id} is already retired and has no codings; nothing to merge", book_a, a)
    recodes, skipped = _recode_files(ws, a.id, b.id, merge=True)
    # hierarchy: A's children move under B (or A's parent when B is elsewhere or below A)
    same_book = book_a is book_b
    moved = []
    for c in book_a.codes:
        if c.parent != a.id:
            continue
        if same_book and c.id != b.id and b.id not in (_descendants(book_a, c.id) | {c.id}):
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
    _safety_net(before, books.books, ws)
    change = _Change(ws)
    change.add(book_a.path, dump_codebook(book_a))
    if book_b is not book_a:
        change.add(book_b.path, dump_codebook(book_b))
    for r in recodes:
        change.add(r.path, r.text)
    written, backups = change.commit()
    files = ", ".join(f"{r.path.name} ({r.changed} recoded, {r.dropped} dropped)" if r.dropped else
                      f"{r.path.name} ({r.changed})" for r in recodes) or "no codings file"
    msg = (f"Merged {a.id} into {b.id}: {n} coding{'s' if n != 1 else ''} now {b.id}, "
           f"{d} duplicate{'s' if d != 1 else ''} (same coder, same span, already {b.id}) dropped; "
           f"{a.id} is retired. Files: {files}.")
    if added_kw or added_ex:
        msg = msg[:-1] + f"; {len(added_kw)} keyword(s) and {len(added_ex)} example(s) of {a.id} added to {b.id}."
    result = EditResult(msg, book_b, b, written, backups, {r.path.name: r.changed for r in recodes},
                        {r.path.name: r.dropped for r in recodes if r.dropped}, skipped)
    if moved:
        result.notes.append(f"children of {a.id} moved: {', '.join(moved)}")
    _add_notes(ws, result, a.id, skipped)
    return result


# -- move / retire ----------------------------------------------------------------------------

def move_code(workspace, code: str, parent: str | None, *, codebook: str | None = None,
              by: str | None = None) -> EditResult:
    """Give a code a new parent (None: top level); refuses to make a cycle."""
    ws = workspace
    books = _Books(ws)
    book, target = books.locate(code, codebook)
    before = [_clone(b) for b in books.books]
    parent_id = _resolve_parent(book, parent)
    if parent_id == target.id:
        raise _err(f"{target.id} cannot be its own parent", book, target)
    if parent_id is not None and parent_id in _descendants(book, target.id):
        chain = [c.id for c in book.path_of(book.get(parent_id))]
        raise _err(f"moving {target.id} under {parent_id} would make a cycle ({' > '.join(chain)} > {target.id})", book, target)
    if parent_id == target.parent:
        where = f"under {parent_id}" if parent_id else "at the top level"
        raise _err(f"{target.id} is already {where}", book, target)
    _check_name(book, target.name, parent_id, target.id)
    old = target.parent
    target.parent = parent_id
    who = by or default_user()
    book.log(who, f"moved {target.id} from {old or '(top level)'} to {parent_id or '(top level)'}")
    _safety_net(before, books.books, ws)
    change = _Change(ws)
    change.add(book.path, dump_codebook(book))
    written, backups = change.commit()
    return EditResult(f"Moved {target.id} {'under ' + parent_id if parent_id else 'to the top level'} in {book.path.name}.",
                      book, target, written, backups)


def retire_code(workspace, code: str, *, codebook: str | None = None, by: str | None = None) -> EditResult:
    """Mark a code retired: it stays in the codebook and its codings stay; new use is a warning."""
    ws = workspace
    books = _Books(ws)
    book, target = books.locate(code, codebook)
    if target.status == "retired":
        return EditResult(f"{target.id} is already retired; nothing was changed.", book, target)
    target.status = "retired"
    who = by or default_user()
    n = coding_counts(ws).get(target.id, 0)
    book.log(who, f"retired {target.id}")
    change = _Change(ws)
    change.add(book.path, dump_codebook(book))
    written, backups = change.commit()
    msg = f"Retired {target.id} in {book.path.name}"
    msg += (f"; its {n} coding{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} kept "
            "(validate warns while a retired code is in use)." if n else ".")
    active_children = [c.id for c in book.codes if c.parent == target.id and c.status == "active"]
    result = EditResult(msg, book, target, written, backups)
    if active_children:
        result.notes.append(f"its children stay active: {', '.join(active_children)}")
    return result


# -- adding a whole codebook (import) ---------------------------------------------------------

def add_codebook(workspace, codebook: Codebook, *, replace: bool = False, by: str | None = None,
                 what: str | None = None) -> EditResult:
    """Write a codebook built elsewhere (e.g. by import_codebook) to codebooks/<id>.yaml.

    Refuses an existing file unless ``replace``; then the old file is backed up, its change log
    kept, and codes that disappear but are still used in codings are reported.
    """
    ws = workspace
    books = _Books(ws)
    if not ID_RE.match(codebook.id or ""):
        raise CodebookError(f"codebook id {codebook.id!r} must be lower-case letters, digits, _ . -", ws.codebooks_dir)
    old = next((b for b in books.books if b.id == codebook.id), None)
    path = old.path if old is not None else ws.codebooks_dir / f"{codebook.id}.yaml"
    if old is None and path.exists():
        raise CodebookError("already exists; choose another --id (nothing was changed)", path)
    if old is not None and not replace:
        raise CodebookError(f"codebook {codebook.id!r} already exists; use --replace to replace it "
                            "(the old file is backed up) or choose another --id; nothing was changed", path)
    others = [b for b in books.books if b is not old]
    for b in others:
        for c in b.codes:
            if codebook.get(c.id) is not None:
                raise CodebookError(f"code id {c.id!r} is already used in {b.path.name}; code ids must be unique "
                                    "across codebooks (change it in the file or leave the id blank)", b.path, c.line)
    codebook.path = path
    if old is not None:
        codebook.changelog = [*old.changelog, *codebook.changelog]
        if not codebook.description:
            codebook.description = old.description
        if not codebook.framework:
            codebook.framework = old.framework
    who = by or default_user()
    codebook.log(who, what or f"created with {len(codebook.codes)} codes")
    _safety_net(books.books, [*others, codebook], ws)
    change = _Change(ws)
    change.add(path, dump_codebook(codebook))
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
