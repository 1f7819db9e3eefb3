"""Checking codebooks (and the codings that use them): every problem at once, with file and line.

``validate(target)`` returns a list of :class:`Problem` (path, line, severity, message); it never
stops at the first one. ``target`` is a :class:`~qualkit.workspace.store.Workspace` (all of its
codebooks, plus the codings in ``codings/*.csv``), or one or more codebook file paths (checked on
their own).

Errors:
  * a file that is not valid YAML or not a codebook; a code field with a bad value (each bad field
    of each code is reported, not only the first);
  * duplicate code ids, within a codebook and across the workspace's codebooks (codings refer to
    codes by id alone); duplicate codebook ids;
  * two codes with the same name under the same parent;
  * a parent that is not a code of the same codebook; cycles in the hierarchy;
  * framework refs (``heif:societal_context``) that do not resolve;
  * codes used in codings files but defined in no codebook (naming the codings file and row).

Warnings: retired codes still used in codings; codings/*.csv files that are not codings files.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.errors import QualkitError
from qualkit.io.naming import plural_s
from qualkit.workspace.codebook import Code, Codebook, CodebookError, CodebookLines, read_codebook
from qualkit.workspace.store import Workspace

ERROR = "error"
WARNING = "warning"



@dataclass
class Problem:
    """One problem found by :func:`validate`: where (path, 1-based line), how bad, what."""

    path: Path | None
    line: int | None
    severity: str
    message: str
    code: str | None = None  # the code id concerned, when there is one

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path) + (f":{self.line}" if self.line is not None else "") + ": "
        return f"{where}{self.severity}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "line": self.line, "severity": self.severity,
                "message": self.message, "code": self.code}


# -- reading leniently ------------------------------------------------------------------------

_CODE_ENTRY = re.compile(r"^codes\[(\d+)\]")


def read_codebook_leniently(path: str | Path) -> tuple[Codebook | None, list[Problem], CodebookLines]:
    """Read a codebook file, collecting every problem instead of stopping at the first.

    Returns the codebook built from what could be read (None if the file is not a codebook at
    all), the problems (each naming the code concerned, when there is one), and the line numbers
    of its keys. The same schema as :func:`~qualkit.workspace.codebook.load_codebook`.
    """
    book, found, lines = read_codebook(path)
    raw_ids = _raw_code_ids(Path(path)) if found and book is not None else {}
    problems = []
    for p in found:
        entry = _CODE_ENTRY.match(p.field)
        problems.append(Problem(p.path, p.line, ERROR, p.message, raw_ids.get(int(entry.group(1))) if entry else None))
    return book, problems, lines


def _raw_code_ids(path: Path) -> dict[int, str]:
    """Index in ``codes:`` -> the id written there (for problems about codes that could not be read)."""
    from qualkit.io.yamlfile import load_yaml_file

    data, _ = load_yaml_file(path, CodebookError, "codebook file")
    items = data.get("codes") if isinstance(data, dict) else None
    return {i: str(item["id"]) for i, item in enumerate(items if isinstance(items, list) else [])
            if isinstance(item, dict) and item.get("id") not in (None, "")}


# -- structural checks ------------------------------------------------------------------------

def _norm_name(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def check_codebooks(books: list[Codebook], frameworks: Mapping[str, Any] | None = None,
                    lines: Mapping[str, CodebookLines] | None = None) -> list[Problem]:
    """Structural problems of codebooks taken together (ids, names, parents, cycles, refs).

    ``frameworks`` maps framework ids to loaded frameworks (default: the built-ins); ``lines``
    maps each codebook's path (as str) to the line numbers read from its file.
    """
    from qualkit.frameworks.catalog import builtin_frameworks

    if frameworks is None:
        frameworks = builtin_frameworks()
    lines = lines or {}
    none = CodebookLines()
    lines_of = {id(book): lines.get(str(book.path), none) for book in books}
    problems = _book_id_problems(books, lines_of) + _code_id_problems(books, lines_of)
    first: dict[str, tuple[Codebook, Code]] = {}
    for book in books:
        for code in book.codes:
            first.setdefault(code.id, (book, code))
    for book in books:
        lb = lines_of[id(book)]
        problems += _parent_problems(book, lb, first)
        problems += _cycle_problems(book, lb)
        problems += _name_problems(book, lb)
        problems += _ref_problems(book, lb, frameworks)
        problems += _group_problems(book, lb, first)
        problems += _boilerplate_problems(book, lb)
        problems += _control_problems(book, lb)
    return problems


def _control_problems(book: Codebook, lb: CodebookLines) -> list[Problem]:
    """Control characters in a code's text (Word and Excel exports cannot hold them): warnings."""
    from qualkit.render.cells import ILLEGAL_XML

    problems = []
    for code in book.codes:
        for name in ("name", "brief", "definition", "include", "exclude", "examples", "keywords"):
            value = getattr(code, name)
            text = "\n".join(map(str, value)) if isinstance(value, list) else str(value or "")
            bad = ILLEGAL_XML.search(text)
            if bad:
                problems.append(Problem(book.path, lb.of(code, name), WARNING,
                                        f"{name} of {code.id!r} holds control character U+{ord(bad.group()):04X}; "
                                        "exports leave it out", code.id))
    return problems


#: phrases of codebooks generated without content (qualkit's own generator before 0.2 wrote these)
_BOILERPLATE = (re.compile(r"^passages about .{1,120}, as the definition describes", re.I),
                re.compile(r"only mention the topic in passing", re.I))


def _boilerplate_problems(book: Codebook, lb: CodebookLines, repeat: int = 3) -> list[Problem]:
    """Include/exclude text that says nothing about the code: a known template phrase, the definition
    repeated, or the same sentence (the code's name aside) in ``repeat`` or more codes of the book.

    MacQueen et al. (1998) ask for inclusion and exclusion criteria specific to each code; a template
    line gives coders nothing to decide with."""
    def skeleton(code: Code, text: str) -> str:
        out = " ".join(text.split()).casefold()
        for name in {code.name.casefold(), code.name.casefold()[:1] + code.name[1:]}:
            out = out.replace(name.casefold(), "<name>")
        return out

    problems: list[Problem] = []
    seen: dict[tuple[str, str], list[Code]] = {}
    for code in book.codes:
        for key in ("include", "exclude"):
            text = getattr(code, key)
            if text.strip():
                seen.setdefault((key, skeleton(code, text)), []).append(code)
    for code in book.codes:
        for key in ("include", "exclude"):
            text = " ".join(getattr(code, key).split())
            if not text:
                continue
            why = None
            if any(p.search(text) for p in _BOILERPLATE):
                why = "is template text"
            elif code.definition and text.casefold() == " ".join(code.definition.split()).casefold():
                why = "repeats the definition"
            elif len(seen[(key, skeleton(code, text))]) >= repeat:
                why = f"is the same sentence in {len(seen[(key, skeleton(code, text))])} code{plural_s(len(seen[(key, skeleton(code, text))]))}"
            if why:
                problems.append(Problem(book.path, lb.of(code, key), WARNING,
                                        f"boilerplate: the {key!r} of {code.id!r} {why}; say what a coder should "
                                        f"{'code' if key == 'include' else 'not code'} here and why", code.id))
    return problems


def _group_problems(book: Codebook, lb: CodebookLines, first: Mapping[str, tuple[Codebook, Code]]) -> list[Problem]:
    """A group (``groups:``) naming a code that is in no codebook of the workspace."""
    line = lb.book_keys.get("groups")
    return [Problem(book.path, line, ERROR, f"group {group.name!r} lists code {cid!r}, which is in no codebook")
            for group in book.groups for cid in group.codes if cid not in first]


def _book_id_problems(books: list[Codebook], lines_of: Mapping[int, CodebookLines]) -> list[Problem]:
    problems = []
    seen_books: dict[str, Codebook] = {}
    for book in books:
        other = seen_books.get(book.id)
        if other is not None:
            problems.append(Problem(book.path, lines_of[id(book)].book_keys.get("id", 1), ERROR,
                                    f"codebook id {book.id!r} is also used by {_name(other.path)}"))
        else:
            seen_books[book.id] = book
    return problems


def _code_id_problems(books: list[Codebook], lines_of: Mapping[int, CodebookLines]) -> list[Problem]:
    """Duplicate code ids within a codebook, and ids defined in more than one codebook (both sides)."""
    problems = []
    for book in books:
        lb = lines_of[id(book)]
        seen: dict[str, Code] = {}
        for code in book.codes:
            seen.setdefault(code.id, code)  # a duplicate within the file is reported by read_codebook
        for code in book.codes:
            if seen.get(code.id) is not code:
                continue
            others = [(b, c) for b in books if b is not book for c in b.codes if c.id == code.id][:1]
            for b, c in others:
                problems.append(Problem(book.path, lb.of(code, "id"), ERROR,
                                        f"code id {code.id!r} is also defined in {_name(b.path)}{_line_suffix(c)}; "
                                        "code ids must be unique across codebooks", code.id))
    return problems


def _parent_problems(book: Codebook, lb: CodebookLines, first: Mapping[str, tuple[Codebook, Code]]) -> list[Problem]:
    problems = []
    ids = {c.id: c for c in book.codes}
    for code in book.codes:
        if code.parent is None:
            continue
        if code.parent == code.id:
            problems.append(Problem(book.path, lb.of(code, "parent"), ERROR, f"code {code.id!r} is its own parent", code.id))
        elif code.parent not in ids:
            elsewhere = first.get(code.parent)
            if elsewhere is not None:
                msg = (f"parent {code.parent!r} of {code.id!r} is in {_name(elsewhere[0].path)}; "
                       "a parent must be in the same codebook")
            else:
                close = difflib.get_close_matches(code.parent, list(ids), n=1)
                msg = f"unknown parent {code.parent!r} of {code.id!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            problems.append(Problem(book.path, lb.of(code, "parent"), ERROR, msg, code.id))
    return problems


def _cycle_problems(book: Codebook, lb: CodebookLines) -> list[Problem]:
    problems = []
    ids = {c.id: c for c in book.codes}
    reported: set[frozenset[str]] = set()
    for code in book.codes:
        chain: list[str] = []
        cur: Code | None = code
        while cur is not None and cur.parent and cur.parent != cur.id and cur.id not in chain:
            chain.append(cur.id)
            cur = ids.get(cur.parent)
        if cur is not None and cur.id in chain:
            cycle = chain[chain.index(cur.id):]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                problems.append(Problem(book.path, lb.of(ids[cycle[0]], "parent"), ERROR,
                                        "cycle in the hierarchy: " + " > ".join([*cycle, cycle[0]]), cycle[0]))
    return problems


def _name_problems(book: Codebook, lb: CodebookLines) -> list[Problem]:
    problems = []
    by_name: dict[tuple[str | None, str], Code] = {}
    for code in book.codes:
        key = (code.parent, _norm_name(code.name))
        prev = by_name.get(key)
        if prev is not None and prev.id != code.id:
            under = f"under {code.parent!r}" if code.parent else "at the top level"
            problems.append(Problem(book.path, lb.of(code, "name"), ERROR,
                                    f"two codes named {code.name!r} {under}: {prev.id!r}{_at_line(prev)} and {code.id!r}",
                                    code.id))
        else:
            by_name.setdefault(key, code)
    return problems


def _ref_problems(book: Codebook, lb: CodebookLines, frameworks: Mapping[str, Any]) -> list[Problem]:
    from qualkit.frameworks.catalog import FrameworkError, resolve_ref

    problems = []
    if book.framework and book.framework not in frameworks:
        problems.append(Problem(book.path, lb.book_keys.get("framework"), ERROR,
                                f"unknown framework {book.framework!r} (available: {', '.join(sorted(frameworks))})"))
    for code in book.codes:
        for i, ref in enumerate(code.framework):
            try:
                resolve_ref(ref, frameworks=frameworks, default=book.framework)
            except FrameworkError as exc:
                problems.append(Problem(book.path, lb.ref(code, i), ERROR,
                                        f"framework ref of {code.id!r}: {exc.message}", code.id))
    return problems


def _name(path: Path | None) -> str:
    return path.name if path is not None else "(unsaved codebook)"


def _at_line(code: Code) -> str:
    return f" on line {code.line}" if code.line else ""


def _line_suffix(code: Code) -> str:
    return f":{code.line}" if code.line else ""


# -- codings ----------------------------------------------------------------------------------

def codings_files(folder: Path) -> list[Path]:
    """codings/*.csv in name order."""
    return sorted(p for p in folder.glob("*.csv") if p.is_file()) if folder.is_dir() else []


def is_codings_file(path: Path) -> bool:
    """Whether a CSV file's header has the codings columns (transcript, start, end, code)."""
    import csv

    from qualkit.workspace.codings import REQUIRED

    # Only the header row is read: auto.csv is 226 MB at 5,000 interviews, and reading it whole (with a
    # StringIO copy at up to 4 bytes a character) was the 1.28 GB peak of `run`.
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = [h.strip() for h in next(csv.reader(f), [])]
            if not any(header):  # a blank first line: a file of nothing but blanks counts as empty
                f.seek(0)
                if all(not piece.strip() for piece in iter(lambda: f.read(1 << 20), "")):
                    return True
    except (OSError, UnicodeDecodeError, csv.Error):
        return True  # let the reader report it
    return all(c in header for c in REQUIRED)


def check_codings(folder: Path, codes: Mapping[str, Code]) -> list[Problem]:
    """Codes used in codings/*.csv that no codebook defines (errors) or that are retired (warnings)."""
    from qualkit.workspace.codings import CodingError, iter_codings

    problems: list[Problem] = []
    for path in codings_files(folder):
        if not is_codings_file(path):
            problems.append(Problem(path, 1, WARNING, "not a codings file (no transcript, start, end, code columns); not checked"))
            continue
        rows: dict[str, list[int]] = {}
        try:  # one coding at a time: only each code's rows are kept
            for c in iter_codings(path):
                rows.setdefault(c.code, []).append(c.line or 0)
        except CodingError as exc:
            problems.append(Problem(exc.path or path, exc.line, ERROR, exc.message))
            continue
        for code_id, where in rows.items():
            code = codes.get(code_id)
            if code is not None and code.status != "retired":
                continue
            n = len(where)
            listed = ", ".join(str(r) for r in where[:5]) + (f" and {n - 5} more" if n > 5 else "")
            rows_text = f"row{'s' if n > 1 else ''} {listed}"
            if code is None:
                close = difflib.get_close_matches(code_id, list(codes), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(Problem(path, where[0], ERROR,
                                        f"code {code_id!r} is not in any codebook ({n} coding{'s' if n > 1 else ''}: {rows_text}){hint}",
                                        code_id))
            else:
                problems.append(Problem(path, where[0], WARNING,
                                        f"retired code {code_id!r} is still used ({n} coding{'s' if n > 1 else ''}: {rows_text})",
                                        code_id))
    return problems


# -- entry point ------------------------------------------------------------------------------

def validate(target: Workspace | str | Path | Iterable[str | Path], *,
             codebook: str | None = None) -> list[Problem]:
    """Every problem of a workspace's codebooks and codings, or of the given codebook file(s).

    ``target``: a Workspace, a codebook file's path, or a list of
    paths. With a workspace, ``codebook`` (an id) limits the report to that codebook's problems
    and to the codings problems. Problems are in file and line order; see :class:`Problem`.
    """
    if isinstance(target, Workspace):
        return _validate_workspace(target, codebook)
    paths = [Path(target)] if isinstance(target, (str, Path)) else [Path(p) for p in target]
    return _validate_files(paths, _frameworks_near(paths))


def _frameworks_near(paths: list[Path]):
    """Built-in frameworks plus those of the workspace around the first path, if any."""
    from qualkit.errors import WorkspaceError
    from qualkit.frameworks.catalog import available_frameworks, builtin_frameworks
    from qualkit.workspace.store import find_root

    try:
        root = find_root(paths[0].parent if paths else ".")
    except WorkspaceError:
        return builtin_frameworks(), None
    try:
        return available_frameworks([root / "frameworks"]), None
    except QualkitError as exc:
        return builtin_frameworks(), exc


def _validate_files(paths: list[Path], fws) -> list[Problem]:
    frameworks, fw_error = fws
    problems: list[Problem] = []
    if fw_error is not None:
        problems.append(Problem(fw_error.path, fw_error.line, ERROR, fw_error.message))
    books, lines = _read_books(paths, problems)
    problems += check_codebooks(books, frameworks, lines)
    return _sorted(problems)


def _read_books(paths: list[Path], problems: list[Problem]) -> tuple[list[Codebook], dict[str, CodebookLines]]:
    """Read each codebook leniently (its problems appended to ``problems``)."""
    books, lines = [], {}
    for path in paths:
        book, found, book_lines = read_codebook_leniently(path)
        problems += found
        if book is not None:
            books.append(book)
            lines[str(book.path)] = book_lines
    return books, lines


def _validate_workspace(ws, only: str | None) -> list[Problem]:
    from qualkit.frameworks.catalog import builtin_frameworks

    problems: list[Problem] = []
    try:
        frameworks = ws.frameworks()
    except QualkitError as exc:
        problems.append(Problem(exc.path, exc.line, ERROR, exc.message))
        frameworks = builtin_frameworks()
    folder = ws.codebooks_dir
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    books, lines = _read_books(paths, problems)
    problems += check_codebooks(books, frameworks, lines)
    if only is not None:
        keep = {str(b.path) for b in books if b.id == only} | {str(p) for p in paths if p.stem == only}
        if not keep:
            known = ", ".join(b.id for b in books) or "none"
            raise CodebookError(f"no codebook {only!r} (known: {known})", folder)
        problems = [p for p in problems if str(p.path) in keep]
    index: dict[str, Code] = {}
    for book in books:
        for code in book.codes:
            index.setdefault(code.id, code)
    codings_problems = check_codings(ws.codings_dir, index)
    if only is not None:
        mine = {c.id for b in books if str(b.path) in keep for c in b.codes}
        codings_problems = [p for p in codings_problems
                            if (p.severity == ERROR and p.code not in index) or p.code in mine]
    problems += codings_problems
    return _sorted(problems)


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    order = {}
    out = []
    for p in problems:
        key = (str(p), p.code)
        if key in order:
            continue
        order[key] = True
        out.append(p)
    return sorted(out, key=lambda p: (str(p.path or ""), p.line or 0))


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def summary(problems: list[Problem]) -> str:
    """'2 errors, 1 warning' (or 'no problems')."""
    n_err = sum(1 for p in problems if p.severity == ERROR)
    n_warn = len(problems) - n_err
    if not problems:
        return "no problems"
    parts = []
    if n_err:
        parts.append(f"{n_err} error{'s' if n_err != 1 else ''}")
    if n_warn:
        parts.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
    return ", ".join(parts)

