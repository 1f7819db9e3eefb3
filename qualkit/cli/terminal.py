"""Line-based terminal I/O shared by the interactive commands (`code`, `reconcile`).

Colours only on a TTY (and never with NO_COLOR); piped input is read line by line and echoed so
a scripted session reads like a typed one. Text to highlight is wrapped between HL_ON and HL_OFF
(private-use characters, so wrapping never splits the markup) and styled after wrapping.
"""
from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import Any

import click

HL_ON, HL_OFF = "\ue000", "\ue001"


def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def style(text: str, **styles: Any) -> str:
    return click.style(text, **styles) if styles and use_color() else text


def width() -> int:
    return max(40, min(110, shutil.get_terminal_size((100, 24)).columns))


def wrap(text: str, indent: str = "    ") -> str:
    """Wrap each paragraph to the terminal; highlighted spans become reverse video or [[...]]."""
    room = width() - len(indent)
    lines = [textwrap.fill(p, room, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)
             if p.strip() else "" for p in text.split("\n")]
    out = "\n".join(lines)
    if use_color():
        return out.replace(HL_ON, "\x1b[1;7m").replace(HL_OFF, "\x1b[0m")
    return out.replace(HL_ON, "[[").replace(HL_OFF, "]]")


class LineTerminal:
    """Output and line input for a session driven by typed (or piped) commands."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self.color = use_color()

    def out(self, text: str = "", **styles: Any) -> None:
        click.echo(style(text, **styles), color=self.color)

    def style(self, text: str, **styles: Any) -> str:
        return style(text, **styles)

    def width(self) -> int:
        return width()

    def wrap(self, text: str, indent: str = "    ") -> str:
        return wrap(text, indent)

    def read(self, prompt: str) -> str | None:
        """The next command: typed at the prompt, or the next piped line echoed; None at the end."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                self.out()
                return None
        line = sys.stdin.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        self.out(prompt + line)
        return line
