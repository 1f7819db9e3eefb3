"""The codebook as a table, one row per code: the columns, list cells, code paths and tree order.

Shared by the export (:mod:`qualkit.coding.codebook_export`) and the import
(:mod:`qualkit.coding.codebook_import`), so that an exported sheet always re-imports.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable

from qualkit.workspace.codebook import Code, Codebook

__all__ = ["COLUMNS", "FORMATS", "LIST_SEP", "PATH_SEP", "code_path", "join_list", "sheet_row", "split_list",
           "split_path", "tree_order", "visible_rows"]

COLUMNS = ("code", "id", "origin", "status", "brief", "definition", "include", "exclude", "examples",
           "keywords", "framework", "color", "patterns")
FORMATS = ("csv", "xlsx", "docx", "md")
PATH_SEP = " > "
LIST_SEP = "; "


def join_list(items: Iterable[str]) -> str:
    """List items in one cell, joined with '; ' (a ';' inside an item is written '\\;')."""
    return LIST_SEP.join(str(x).replace(";", "\\;") for x in items)


def split_list(text: str) -> list[str]:
    """The items of a list cell (the inverse of :func:`join_list`)."""
    parts = re.split(r"(?<!\\);", text or "")
    return [p.replace("\\;", ";").strip() for p in parts if p.strip()]


def _escape_name(name: str) -> str:
    return name.replace(">", "\\>")


def split_path(text: str) -> list[str]:
    """The names of a code path 'Parent > Child' (a '>' inside a name is written '\\>')."""
    return [p.replace("\\>", ">").strip() for p in re.split(r"(?<!\\)>", text)]


def tree_order(book: Codebook) -> list[tuple[Code, int]]:
    """Codes parent-first (children in file order) with their depth; codes outside the tree last."""
    ids = {c.id for c in book.codes}
    out: list[tuple[Code, int]] = []
    seen: set[int] = set()

    def walk(parent: str | None, depth: int) -> None:
        for c in book.codes:
            if id(c) in seen:
                continue
            is_root = parent is None and (c.parent is None or c.parent not in ids)
            if (parent is None and is_root) or (parent is not None and c.parent == parent):
                seen.add(id(c))
                out.append((c, depth))
                walk(c.id, depth + 1)

    walk(None, 0)
    for c in book.codes:  # codes caught in a cycle
        if id(c) not in seen:
            seen.add(id(c))
            out.append((c, len(book.path_of(c)) - 1))
    return out


def code_path(book: Codebook, code: Code) -> str:
    """The code's path of names, root first: 'Stigma > Self-stigma'."""
    return PATH_SEP.join(_escape_name(c.name) for c in book.path_of(code))


def sheet_row(book: Codebook, code: Code) -> dict[str, str]:
    """The code as one row of the sheet, column name -> cell text."""
    return {"code": code_path(book, code), "id": code.id, "origin": code.origin, "status": code.status,
            "brief": code.brief, "definition": code.definition, "include": code.include, "exclude": code.exclude,
            "examples": join_list(code.examples), "keywords": join_list(code.keywords), "framework": join_list(code.framework),
            "color": code.color or "", "patterns": json.dumps(code.patterns, ensure_ascii=False) if code.patterns else ""}


def visible_rows(book: Codebook, include_retired: bool) -> list[tuple[Code, int]]:
    """:func:`tree_order`, without the retired codes unless ``include_retired``."""
    rows = tree_order(book)
    if include_retired:
        return rows
    keep = []
    for c, depth in rows:
        if c.status != "retired":
            keep.append((c, depth))
    return keep
