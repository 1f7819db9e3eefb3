"""The one error type users see: a message naming the file and position, never a traceback."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "AdjudicationError",
    "AgreementError",
    "AgreementInputError",
    "AutocodeError",
    "CodebookError",
    "CodebookImportError",
    "CodingError",
    "ExportError",
    "FrameworkError",
    "FrameworkRefError",
    "ImportFileError",
    "MatrixError",
    "NlpError",
    "QualkitError",
    "RapidError",
    "ReconcileError",
    "RefiQdaError",
    "SearchError",
    "SessionError",
    "SpeakerPatternError",
    "SummaryError",
    "ThemesError",
    "DeidError",
    "TranscriptError",
    "UndefinedStatisticError",
    "WorkspaceError",
]


class QualkitError(Exception):
    """A problem with the user's input or workspace, reported as one line.

    ``path`` and ``line`` (1-based) say where; the CLI prints ``path:line: message``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
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


class SpeakerPatternError(QualkitError):
    """The workspace's speaker_pattern is not a usable regular expression."""


class AgreementError(QualkitError, ValueError):
    """Unusable input for an agreement statistic (a ``ValueError`` the CLI can print as one line)."""


class UndefinedStatisticError(AgreementError):
    """The statistic is mathematically undefined on these data (e.g. chance agreement is 1).

    Raised for the data as given; the bootstrap counts such resamples instead of failing.
    """


class RefiQdaError(QualkitError):
    """A REFI-QDA file cannot be read or written (names the file, and the member and line inside it)."""

    def __init__(self, message: str, path: str | Path | None = None, member: str | None = None,
                 line: int | None = None) -> None:
        # A line inside an archive member is said in the message; a line of the file itself is
        # the usual path:line.
        if member:
            super().__init__(member + (f", line {line}" if line else "") + ": " + message, path)
        else:
            super().__init__(message, path, line)
        self.member = member
        self.member_line = line


class CodebookError(QualkitError):
    """A codebook file is malformed or an edit would break it."""


class CodingError(QualkitError):
    """A codings file is malformed or a coding does not fit its transcript."""


class ExportError(QualkitError):
    """An export cannot be written (unknown format, unwritable place)."""


class ThemesError(QualkitError):
    """themes.yaml is malformed (or refers to things that do not exist)."""


class SummaryError(QualkitError):
    """A summary template or the interview guide is malformed (names the file and line/paragraph)."""


class RapidError(QualkitError):
    """A rapid matrix cannot be built (bad option, malformed templates)."""


class ReconcileError(QualkitError):
    """Reconciliation cannot run (bad --into, a consensus file reconcile did not write, a lock, ...)."""


class AdjudicationError(QualkitError):
    """An adjudication file that cannot be applied (names the file and row)."""


class MatrixError(QualkitError):
    """A matrix cannot be built from these options or this workspace."""


class AgreementInputError(QualkitError):
    """Coders or codings that agreement cannot be computed from."""


class CodebookImportError(CodebookError):
    """A spreadsheet cannot be read as a codebook (file and row named)."""


class SearchError(QualkitError):
    """A search cannot run as asked (empty term, bad option)."""


class NlpError(QualkitError):
    """The spaCy pipeline cannot be built (spaCy or its lookup tables missing, bad model)."""


class ImportFileError(QualkitError):
    """An input file cannot be imported at all (unreadable, missing columns, not a .docx)."""


class AutocodeError(QualkitError):
    """Auto-coding cannot run as asked (coder name, unit, codebook without keywords)."""


class SessionError(QualkitError):
    """A coding session cannot start (bad coder, transcript, journal, locked, ...)."""


class FrameworkError(QualkitError):
    """A framework file is missing, malformed or inconsistent (reported with file and line)."""


class FrameworkRefError(FrameworkError):
    """A framework or framework item reference does not resolve; ``suggestions`` holds close matches."""

    def __init__(self, message: str, ref: str, suggestions: Iterable[str] = (), path: str | Path | None = None,
                 line: int | None = None) -> None:
        self.ref = ref
        self.suggestions = list(suggestions)
        if self.suggestions:
            message += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(message, path, line)


class DeidError(QualkitError):
    """deid.csv or deid.yaml cannot be read, or a de-identification request names no span."""
