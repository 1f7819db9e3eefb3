"""LaTeX writer for ``qualkit.render.tables.export_tables``: one booktabs ``table`` float per table,
every special character escaped, long or multi-line text in ``p{}`` columns with ``\\newline``,
numbers right-aligned."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qualkit.io.outputs import output_open
from qualkit.render.cells import (
    display_text as _text,
)
from qualkit.render.cells import (
    headers_of as _headers,
)
from qualkit.render.cells import (
    heading_of as _heading,
)
from qualkit.render.cells import (
    longest_line as _longest_line,
)
from qualkit.render.cells import (
    longest_word as _longest_word,
)
from qualkit.render.cells import (
    numeric_columns as _numeric_columns,
)
from qualkit.render.cells import (
    rows_of as _rows,
)

__all__ = ["latex_escape", "write_latex"]


# -- LaTeX -----------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_LATEX_RE = re.compile("[" + re.escape("".join(_LATEX_SPECIAL)) + "]")
_LONG_TEXT = 30          # a text column wider than this (characters) wraps in a p{} column
_CHAR_FRACTION = 0.016   # one character as a share of \linewidth (10pt text, article class)
_COLSEP_FRACTION = 0.035  # 2\tabcolsep as a share of \linewidth


def latex_escape(text: str) -> str:
    """Escape the LaTeX special characters of one line of text (Unicode is left as it is)."""
    out = _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)
    return out.replace("--", "-{}-").replace("--", "-{}-")  # no en/em-dash ligatures from "--"


def _latex_cell(text: str, wraps: bool) -> str:
    """One cell: escaped; lines joined by \\newline in p{} columns, by spaces elsewhere."""
    lines = [line.strip() for line in text.strip("\n").split("\n")]
    if not wraps:
        out = " ".join(latex_escape(line) for line in lines if line)
    else:
        # An empty line between quotes stays an empty line (\mbox{} gives \newline a line to end).
        out = r" \newline ".join(latex_escape(line) if line else r"\mbox{}" for line in lines)
    out = out.replace("−∞", r"$-\infty$").replace("∞", r"$\infty$")
    if re.match(r"-\d", out):
        out = "$-$" + out[1:]  # a minus sign, not a hyphen
    if out.startswith("["):
        out = "{}" + out  # so the row end or \midrule before it does not read it as an option
    if wraps and out:
        # Ragged right reads better than justified text in a narrow column (and needs no package);
        # it redefines \\ inside the cell, which is why rows end with \tabularnewline.
        out = "\\raggedright " + out
    return out


def _latex_colspec(headers: list[str], rows: list[tuple], numeric: list[bool]) -> tuple[str, list[bool]]:
    """The tabular column spec and, per column, whether it wraps (a p{} column)."""
    texts = [[_text(r[j]) for r in rows] for j in range(len(headers))]
    wraps = []
    natural = []  # estimated width of each column in characters
    for j, head in enumerate(headers):
        longest = max((_longest_line(t) for t in texts[j]), default=0)
        multiline = any("\n" in t.strip("\n") for t in texts[j])
        wraps.append(not numeric[j] and (multiline or longest > _LONG_TEXT))
        natural.append(max(longest, _longest_word(head), 1 if wraps[-1] else _longest_line(head)))
    if not any(wraps):
        return "".join("r" if num else "l" for num in numeric), wraps
    fixed = sum(natural[j] * _CHAR_FRACTION + _COLSEP_FRACTION for j in range(len(headers)) if not wraps[j])
    room = max(1.0 - fixed, 0.3)  # the share of \linewidth left for the wrapped columns
    weights = {j: min(max(natural[j], 8), 60) for j in range(len(headers)) if wraps[j]}
    total = sum(weights.values())
    spec = []
    for j, num in enumerate(numeric):
        if wraps[j]:
            share = room * weights[j] / total
            spec.append(rf"p{{\dimexpr {share:.3f}\linewidth-2\tabcolsep\relax}}")
        else:
            spec.append("r" if num else "l")
    return "".join(spec), wraps


def _latex_label(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return "tab:" + (slug or "table")


def _latex_table(table, count: int, label: str) -> str:
    frame = table.frame
    headers = _headers(frame)
    rows = _rows(frame)
    numeric = _numeric_columns(frame, rows)
    lines = [f"% Table: {_text(table.name).replace(chr(10), ' ')}", r"\begin{table}[htbp]", r"\centering", r"\small"]
    heading = _heading(table, count)
    if heading:
        lines.append(rf"\caption{{{latex_escape(_text(heading).replace(chr(10), ' '))}}}")
        lines.append(rf"\label{{{label}}}")
    if headers:
        spec, wraps = _latex_colspec(headers, rows, numeric)
        lines.append(rf"\begin{{tabular}}{{@{{}}{spec}@{{}}}}")
        lines.append(r"\toprule")
        lines.append(" & ".join(_latex_cell(h, wraps[j]) for j, h in enumerate(headers)) + r" \tabularnewline")
        lines.append(r"\midrule")
        for i, row in enumerate(rows):
            if i and any(wraps):
                lines.append(r"\addlinespace")  # rows of several lines need air between them
            lines.append(" & ".join(_latex_cell(_text(v), wraps[j]) for j, v in enumerate(row)) + r" \tabularnewline")
        lines.append(r"\bottomrule")
        lines.append(r"\end{tabular}")
    if table.notes:
        notes = r" \newline ".join(latex_escape(line.strip()) for line in _text(table.notes).strip().split("\n") if line.strip())
        lines.append(r"\par\smallskip")
        lines.append(rf"\begin{{minipage}}{{\linewidth}}\footnotesize\emph{{{notes}}}\end{{minipage}}")
    lines.append(r"\end{table}")
    return "\n".join(lines)


def _latex_document(tables, title: str | None) -> str:
    head = [
        "% Generated by qualkit: one table float per table, ready to \\input{} into a manuscript.",
        "% Needs \\usepackage{booktabs} in the preamble. Text is UTF-8 and Unicode characters (curly",
        "% quotes, accents) are left as they are: compile with LuaLaTeX or XeLaTeX, or pdfLaTeX with",
        "% UTF-8 input (the default since 2018; \\usepackage[T1]{fontenc} recommended).",
        "% A float does not break across pages: for a longer table use the longtable package.",
    ]
    if title:
        head.append(f"% Title: {_text(title).replace(chr(10), ' ')}")
    labels: list[str] = []
    for t in tables:  # \label{} names must be unique within a document
        label, n = _latex_label(t.name), 1
        while label in labels:
            n += 1
            label = f"{_latex_label(t.name)}-{n}"
        labels.append(label)
    body = "\n\n".join(_latex_table(t, len(tables), label) for t, label in zip(tables, labels))
    return "\n".join(head) + "\n\n" + body + "\n"


def write_latex(tables: Iterable[Any], path: Path, title: str | None = None) -> list[Path]:
    """Write ``tables`` to a LaTeX fragment at ``path``: booktabs ``table`` floats, escaped."""
    path = Path(path)
    text = _latex_document(list(tables), title)
    with output_open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return [path]
