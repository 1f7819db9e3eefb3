"""Listing the files of transcripts/: one ``os.scandir`` walk, with each entry's kind read from the
directory itself (no stat per file), hidden and Office-lock entries left out, links checked."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from qualkit.errors import QualkitError

__all__ = ["HIDDEN_PREFIXES", "folder_mtimes", "list_folder"]

HIDDEN_PREFIXES = (".", "~$")  # .DS_Store, .git, ~$x.docx: not ours


def list_folder(folder: Path, on_link: Callable[[Path, list[Path], list[QualkitError]], None]
                ) -> tuple[list[Path], tuple[int | None, ...], list[Path], list[QualkitError]]:
    """(the folders walked, each one's mtime in ns, the regular files found, the links refused) of
    ``folder``, recursively. A link is neither followed nor listed here: ``on_link(path, files,
    refused)`` decides (a link to a file inside the workspace is a file; a dangling one, or one out
    of it, is refused). A hidden folder is not walked: everything in it is hidden. A folder that
    cannot be read is left out, as ``Path.rglob`` leaves it. ``folder``'s own mtime is taken before
    it is listed, so that a change during the walk shows the next time."""
    dirs: list[Path] = [folder]
    stamps: list[int | None] = list(folder_mtimes([folder]))
    files: list[Path] = []
    refused: list[QualkitError] = []
    if stamps[0] is None or not folder.is_dir():
        return dirs, tuple(stamps), files, refused
    todo = [folder]
    while todo:
        here = todo.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(HIDDEN_PREFIXES):
                continue
            try:
                if entry.is_symlink():
                    on_link(here / name, files, refused)
                elif entry.is_dir(follow_symlinks=False):
                    sub = here / name
                    dirs.append(sub)
                    stamps.append(entry.stat(follow_symlinks=False).st_mtime_ns)
                    todo.append(sub)
                elif entry.is_file(follow_symlinks=False):
                    files.append(here / name)
            except OSError:  # (gone between the listing and the look)
                continue
    return dirs, tuple(stamps), files, refused


def folder_mtimes(dirs: Iterable[Path]) -> tuple[int | None, ...]:
    """Each folder's mtime in nanoseconds (None when it does not exist): a listing stays good while they do."""
    out: list[int | None] = []
    for d in dirs:
        try:
            out.append(d.stat().st_mtime_ns)
        except OSError:
            out.append(None)
    return tuple(out)
