"""Terminal output helpers shared by commands: aligned tables and JSON."""
from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import click

from qualkit.io.naming import plural_s


def describe_error(exc: Exception) -> str:
    """A QualkitError as one line, its path shown relative to the current folder when inside it."""
    import os
    from pathlib import Path

    path = getattr(exc, "path", None)
    if path is None:
        return str(exc)
    try:
        shown = os.path.relpath(Path(path).resolve(), Path.cwd())
        if shown.startswith(".."):
            shown = str(path)
    except (OSError, ValueError):
        shown = str(path)
    line = getattr(exc, "line", None)
    return f"{shown}{'' if line is None else f':{line}'}: {getattr(exc, 'message', exc)}"


def echo_json(data: Any) -> None:
    """Machine output: pretty JSON, UTF-8, no ASCII escaping of names."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_table(rows: Iterable[Sequence[Any]], headers: Sequence[str], right: Sequence[int] = ()) -> None:
    """Print rows as an aligned plain-text table (numbers right-aligned by column index). Padded a
    column at a time (`qualkit ingest` prints a row per transcript: thousands of cells); a row
    shorter than the headers is blank to the right."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    width = max([len(headers), *map(len, cells)])
    columns = [list(column) for column in zip(*([*headers, *[""] * (width - len(headers))],
                                                *[row + [""] * (width - len(row)) for row in cells]))]
    padded = [list(map(str.rjust if i in right else str.ljust, column, repeat(max(map(len, column)))))
              for i, column in enumerate(columns)]
    lines = list(map(str.rstrip, map("  ".join, zip(*padded)))) or [""] * (1 + len(cells))
    click.echo(click.style(lines[0], bold=True))
    if cells:  # one write, not one per row
        click.echo("\n".join(lines[1:]))


def wrap(text: str, indent: str = "    ") -> str:
    """Wrap text to the terminal width, keeping the transcript's own line breaks."""
    width = max(40, min(100, shutil.get_terminal_size((100, 20)).columns) - len(indent))
    out = []
    for para in text.split("\n"):
        out.append(textwrap.fill(para, width, initial_indent=indent, subsequent_indent=indent) if para.strip() else "")
    return "\n".join(out)


def progress_bar(label: str) -> Callable[[Iterable[Any]], Iterator[Any]]:
    """A wrapper for long loops of the library's ``progress=`` arguments: the loop becomes a
    :func:`qualkit.io.progress.track` task, shown by :class:`TerminalProgress` like every other
    (short loops never show, since a bar waits before it appears)."""
    from qualkit.io.progress import track

    def wrap_items(items: Iterable[Any]) -> Iterator[Any]:
        return track(list(items), label)

    return wrap_items


class TerminalProgress:
    """Shows the library's progress (:mod:`qualkit.io.progress`) as one line on standard error:
    the open tasks, the innermost as a bar with its count and time left. It appears only once a
    step has run for ``delay`` seconds, redraws at most ten times a second, and is erased when the
    step ends, so quick commands and the lines printed after it are untouched. Nothing is drawn
    while the running command was given ``--json`` (its output is for machines)."""

    WIDTH = 24

    def __init__(self, stream: Any = None, delay: float = 0.5) -> None:
        import sys

        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.began: float | None = None
        self.drawn = 0.0
        self.shown = False
        self.started: dict[int, float] = {}  # when each open task was first seen (for the time left)

    def __call__(self, tasks: list[Any]) -> None:
        import time

        now = time.monotonic()
        if not tasks:
            self.began = None
            self.started.clear()
            if self.shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self.shown = False
            return
        if self.began is None:
            self.began = now
        self.started.setdefault(id(tasks[-1]), now)
        if now - self.began < self.delay or now - self.drawn < 0.1 or _machine_output():
            return
        self.drawn = now
        self.stream.write("\r\033[K" + self.line(tasks, now)[: shutil.get_terminal_size((100, 20)).columns - 1])
        self.stream.flush()
        self.shown = True

    def line(self, tasks: list[Any], now: float) -> str:
        """``outer 3/12 > Reading transcripts [######------] 500/1000  ~4 s left``."""
        outer = [f"{t.label} {t.done}/{t.total}" if t.total else t.label for t in tasks[:-1]]
        t = tasks[-1]
        if t.total:
            filled = int(self.WIDTH * min(t.done, t.total) / t.total)
            bar = f"{t.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {t.done}/{t.total}"
            took = now - self.started.get(id(t), now)
            if 0 < t.done < t.total and not outer and took > 1:
                bar += f"  ~{took * (t.total - t.done) / t.done:.0f} s left"
        else:
            bar = f"{t.label} ..." + (f" {t.done}" if t.done else "")
        return " > ".join([*outer, bar])


def _machine_output() -> bool:
    """True when the command running now was asked for JSON (``--json``)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json") or ctx.params.get("json"):
            return True
        ctx = ctx.parent
    return False


def strict_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--strict``: a transcript that could not be read (and was skipped) makes the command exit 1."""
    return click.option("--strict", is_flag=True,
                        help="Exit 1 when any transcript was skipped as unreadable (default: warn, exit 0).")(func)


def report_skipped(ctx: click.Context, errors: Sequence[Exception], strict: bool) -> None:
    """List the transcripts a command skipped, each with its one-line reason, at the end of its output.

    A study never stops on one file: the command carries on and exits 0 with this warning,
    unless ``strict`` (then exit 1).
    """
    if not errors:
        return
    click.echo(click.style("Warning: ", fg="yellow")
               + f"{len(errors)} transcript file{plural_s(len(errors))} skipped (fix or remove them; `qualkit ingest` lists them):", err=True)
    for exc in errors:
        click.echo(f"  skipped {describe_error(exc)}", err=True)
    if strict:
        ctx.exit(1)


class OutputFile(click.Path):
    """A file a command writes. Every output creates the folders it needs (as `export all` and the
    defaults in exports/ must), and says so on stderr when a folder is new, so a mistyped folder name
    does not pass unnoticed."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        value = super().convert(value, param, ctx)
        folder = Path(str(value)).parent
        if not folder.exists():
            click.echo(f"Note: folder {folder}/ does not exist; it will be created for {Path(str(value)).name}.", err=True)
        return value
