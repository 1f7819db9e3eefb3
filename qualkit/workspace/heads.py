"""A transcript's header (:class:`~qualkit.workspace.cache.TranscriptHead`: format, counts, speaker
labels, the text above the first labelled turn) without its turns and text.

A pass over every transcript that wants only such facts (interview dates) reads each header from
the on-disk cache: at 5,000 interviews, after another pass has filled this command's transcript memo,
reading the whole parse again was every transcript decoded a second time (1.8 s of `matrix
saturation`). A transcript this command holds, one the cache does not, or a workspace whose reading
changes the text (the de-identified view) gives the header of the transcript as read.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.workspace.cache import TranscriptHead
from qualkit.workspace.ingest import TranscriptRef, TranscriptsById, _plan, held

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["TranscriptHead", "cached_paths", "head_in", "read_head"]


def read_head(ws: Workspace, path: Path) -> TranscriptHead:
    """The header of the transcript at ``path``: from this command's memo, else the on-disk cache's
    entry (its turns and text not decoded), else the transcript read as :meth:`Workspace.read` reads it."""
    if ws.reads_files_as_they_are:
        transcript, stamp = held(ws, path)
        if transcript is not None:
            return TranscriptHead.of(transcript)
        key = _plan(ws, path, stamp)[2]
        head = ws.disk_cache.head(key) if key is not None else None
        if head is not None:
            return head
    return TranscriptHead.of(ws.read(path))


def head_in(ws: Workspace, transcripts: Mapping[str, Any], tid: str) -> TranscriptHead:
    """The header of transcript ``tid`` of ``transcripts`` (a :class:`TranscriptsById`, or a mapping to
    Transcripts or :class:`TranscriptRef` s), without reading the transcript where that can be avoided."""
    if isinstance(transcripts, TranscriptsById):
        return read_head(ws, transcripts.path(tid))
    t = transcripts[tid]
    return read_head(ws, t.path) if isinstance(t, TranscriptRef) else TranscriptHead.of(t)


def cached_paths(ws: Workspace, paths: list[Path]) -> set[Path]:
    """The files among ``paths`` whose parse for their state now this command holds or the on-disk
    cache keeps (each was read without a problem), found without decoding any: one query per 500."""
    out: set[Path] = set()
    keys: dict[str, Path] = {}
    for path in paths:
        transcript, stamp = held(ws, path)
        if transcript is not None:
            out.add(path)
            continue
        key = _plan(ws, path, stamp)[2]
        if key is not None:
            keys[key] = path
    out.update(keys[k] for k in ws.disk_cache.held(list(keys)))
    return out
