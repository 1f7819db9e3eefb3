"""The state of the files an analysis reads (``Workspace.inputs_stamp``), which ``Workspace.derived``
compares to tell whether a result kept for the command still holds.

Taken in full, it stats every transcript: 25 ms at 5,000 interviews, and `qualkit run` asks some 45
times. Inside :meth:`~qualkit.workspace.derived.DerivedCache.steady` (a command that reads the study:
run, status, report, exports) it is taken once per state instead: each later ask checks qualkit.yaml,
participants.csv, codebooks/, codings/ and the listing of transcripts/ (a file added, removed or
renamed there, as qualkit's own atomic writes do, changes its folder's mtime, which the listing
checks), and stats the transcripts again only when one of those changed. What it does not look for
is a transcript edited in place by another program while the command runs; outside such a block
(a script calling the library between edits) every ask takes the whole stamp, as before.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from qualkit.workspace.config import CONFIG_NAME
from qualkit.workspace.derived import DerivedCache
from qualkit.workspace.participants import PARTICIPANTS_NAME

__all__ = ["derived_stamp", "inputs_stamp"]


class Workspace(Protocol):
    """What the stamp reads of a workspace (qualkit.workspace.store.Workspace, which calls this module)."""

    root: Path
    derived_cache: DerivedCache
    _index: Any

    @property
    def codebooks_dir(self) -> Path: ...
    @property
    def codings_dir(self) -> Path: ...
    def transcript_paths(self) -> list[Path]: ...


_State = tuple[str, "int | None", "int | None", "int | None"]


def _states(files: Iterable[Path]) -> list[_State]:
    """(path, mtime, size, inode) of each file; None for the three when it cannot be stat'ed."""
    out: list[_State] = []
    for f in files:
        try:
            out.append((str(f), (st := f.stat()).st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append((str(f), None, None, None))
    return out


def _settings(ws: Workspace) -> tuple[list[_State], list[_State]]:
    """The states of qualkit.yaml and participants.csv, and of the files in codebooks/ and codings/."""
    folders: list[Path] = []
    for folder in (ws.codebooks_dir, ws.codings_dir):
        folders += sorted(folder.glob("*")) if folder.is_dir() else []
    return _states([ws.root / CONFIG_NAME, ws.root / PARTICIPANTS_NAME]), _states(folders)


def _stamp(ws: Workspace, settings: tuple[list[_State], list[_State]]) -> tuple:
    head, folders = settings
    return tuple(head + _states(ws.transcript_paths()) + folders)


def inputs_stamp(ws: Workspace) -> tuple:
    """(path, mtime, size, inode) of each file an analysis reads: qualkit.yaml, participants.csv, the
    transcripts, codebooks/ and codings/ (in that order)."""
    return _stamp(ws, _settings(ws))


def derived_stamp(ws: Workspace) -> tuple:
    """The stamp ``ws.derived`` compares: :func:`inputs_stamp`, taken once per state of the files
    inside a steady block of ``ws.derived_cache`` (see the module docstring)."""
    cache = ws.derived_cache
    if not cache.is_steady:
        return inputs_stamp(ws)
    ws.transcript_paths()  # brings the listing up to date: a new one when a folder of transcripts/ changed
    listing = ws._index
    settings = _settings(ws)
    kept = cache.kept_stamp
    if kept is not None and kept[0] is listing and kept[1] == settings:
        return kept[2]
    stamp = _stamp(ws, settings)
    cache.kept_stamp = (listing, settings, stamp)
    return stamp
