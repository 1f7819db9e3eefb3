"""The one error type users see: a message naming the file and position, never a traceback."""
from __future__ import annotations

from pathlib import Path


class QualkitError(Exception):
    """A problem with the user's input or workspace, reported as one line.

    ``path`` and ``line`` (1-based) say where; the CLI prints ``path:line: message``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return where + self.message


class TranscriptError(QualkitError):
    """A transcript file cannot be read or parsed."""


class WorkspaceError(QualkitError):
    """The workspace (qualkit.yaml, participants.csv, folders) is missing or malformed."""
