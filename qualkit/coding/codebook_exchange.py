"""Codebooks for people and other tools: export (CSV, XLSX, DOCX, Markdown), import (CSV, XLSX), diff.

One entry point over :mod:`~qualkit.coding.codebook_export`, :mod:`~qualkit.coding.codebook_import`,
:mod:`~qualkit.coding.codebook_diff` and the sheet layout they share (:mod:`~qualkit.coding.codebook_sheet`).

Spreadsheet layout (CSV and XLSX, one row per code)::

    code                      id               origin     status  brief  definition  include  exclude  examples      keywords      framework       color  patterns
    Stigma                    stigma           inductive  active  ...    ...         ...      ...      "a"; "b"      shame; judged  heif:societal_context
    Stigma > Self-stigma      stigma_self      inductive  active  ...

* ``code`` is the code's path of names, root first, joined by ``" > "`` (as MAXQDA users keep
  them); a ``>`` inside a name is written ``\\>``. Import builds the hierarchy from these paths and
  creates parents that have no row of their own.
* List fields (examples, keywords, framework) are joined with ``"; "``; a ``;`` inside an item is
  written ``\\;``. ``patterns`` (spaCy token patterns) is JSON.
* ``id`` may be left blank (or the column left out): ids are then generated from names
  (snake_case; a clash gets the parent's id as prefix, then ``_2``, ``_3``...).
* Header names are matched loosely ("When to use" = include, "Exclusion criteria" = exclude, ...);
  columns that mean nothing to qualkit are ignored and reported.

Every import error names the file and the row (the spreadsheet's row number; the header is row 1).
Exports are written atomically. The DOCX export is a manuscript appendix: landscape, a title, one
table row per code (hierarchy shown by indentation), with name, definition, when to use / not to
use and an example, and the header row repeated on every page.
"""
from __future__ import annotations

from qualkit.coding.codebook_diff import CodebookDiff, diff_codebooks
from qualkit.coding.codebook_export import export_codebook
from qualkit.coding.codebook_import import CodebookImportError, import_codebook
from qualkit.coding.codebook_sheet import COLUMNS, FORMATS, LIST_SEP, PATH_SEP, code_path, tree_order

__all__ = ["COLUMNS", "FORMATS", "LIST_SEP", "PATH_SEP", "CodebookDiff", "CodebookImportError", "code_path",
           "diff_codebooks", "export_codebook", "import_codebook", "tree_order"]
