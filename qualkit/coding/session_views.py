"""What a coding session shows the terminal: plain data (units, codings, suggestions, replies).

:class:`qualkit.coding.session.CodingSession` returns these; ``qualkit code`` prints them. They
hold no behaviour, so the terminal loop and the tests read the same objects.
"""
from __future__ import annotations

from dataclasses import dataclass

from qualkit.workspace.codebook import Code
from qualkit.workspace.codings import Coding

__all__ = ["CodeEntry", "CodingView", "CommandError", "Reply", "SuggestionView", "UnitView"]


class CommandError(Exception):
    """A command the session cannot carry out; its message is shown to the coder."""


@dataclass
class CodeEntry:
    """A code as listed: its number (what the coder types), depth in the hierarchy, the code."""

    number: int
    code: Code
    depth: int


@dataclass
class CodingView:
    """One of this coder's codings touching the current unit, numbered for ``d N`` / ``m N``."""

    number: int
    coding: Coding
    name: str             # the code's name ('' if the code is not in the codebook)
    this_session: bool    # made in this session (undo can revert it)
    whole_unit: bool      # covers the whole unit


@dataclass
class UnitView:
    """What the coder sees of a unit."""

    number: int           # 1-based
    total: int
    kind: str             # turn | sentence
    start: int
    end: int
    text: str
    turn_number: int | None
    speaker: str | None
    participant: str | None
    attributes: dict[str, str]
    facilitator: bool
    timestamp: float | None
    context: str          # the end of the previous unit ('' for the first)
    context_speaker: str | None
    codings: list[CodingView]
    skipped: bool


@dataclass
class SuggestionView:
    """An auto-coding suggestion in its turn."""

    number: int           # 1-based
    total: int
    suggestion: Coding
    code_name: str
    term: str             # the matched term (auto.csv's memo)
    unit: UnitView        # the turn the suggestion is in
    decision: str | None  # accept | reject | edit | None
    in_codings: bool      # the coder already has this exact coding
    decided: int          # suggestions decided so far
    mismatch: bool = False  # auto.csv's quote is not the transcript's text there (it changed)


@dataclass
class Reply:
    """What a command did: a message, and what the terminal should show again."""

    message: str = ""
    error: bool = False
    moved: bool = False          # the current unit/suggestion changed: show it
    changed: bool = False        # codings changed: show the unit's codings again
    codes: list[CodeEntry] | None = None
    help: str | None = None
    quit: bool = False
