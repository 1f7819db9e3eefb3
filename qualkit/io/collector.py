"""The cyclic garbage collector paused while a command builds a large read-only picture of the study.

Building a report or every study table allocates millions of long-lived objects (transcripts,
codings, excerpts) and almost no reference cycles; the collector's full passes over them cost about
a fifth of the command's CPU and free next to nothing. Reference counting still frees everything
else, and the collector runs again when the block ends. A command-line process that ends right after
asks for what it built to be frozen first (``freeze_after``): re-enabled, the collector would walk the
millions of objects made inside once more, about half a second at 1,000 transcripts, for nothing.
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["GIVE_BACK_FROM", "collected_after", "gc_paused", "give_back"]

# Below this peak (bytes) a process has little to give back: the small study's `run` does not even load ctypes.
GIVE_BACK_FROM = 256 * 2**20


@contextmanager
def gc_paused(*, freeze_after: bool = False) -> Iterator[None]:
    """``with gc_paused():`` the cyclic collector is off inside (nested use is harmless: the outer block
    decides). ``freeze_after``: for a process about to end, every object alive at the end is moved out
    of the collector's reach (:func:`gc.freeze`) before it is switched on again; not for long-lived
    processes, where frozen reference cycles would never be freed."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if freeze_after:
                gc.freeze()
            gc.enable()


@contextmanager
def collected_after() -> Iterator[None]:
    """``with collected_after():`` reference cycles that became garbage inside the block are freed when it
    ends, even while the collector is paused. A Word document and its parts point at each other: left to
    a paused collector, each 5,000-row table kept its 160 MB of XML to the end of the command. Only what
    was made inside is examined (what existed before is set aside with :func:`gc.freeze` meanwhile), so
    it costs what the block made, not the whole study. When objects are frozen already (a caller's own
    :func:`gc.freeze`, or a block of this inside), they stay frozen and the collection walks the rest."""
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        if ours:
            gc.unfreeze()


_TRIM: list[Callable[[int], Any] | None] = []


def give_back() -> bool:
    """Hand the memory freed so far back to the system, once the process has grown past
    :data:`GIVE_BACK_FROM` (glibc's ``malloc_trim``; elsewhere nothing); True if it did. glibc keeps what a
    step freed for its own reuse, and the pages of it the next step's allocations do not reuse still count
    in the process's memory: between the steps of `run` at 5,000 interviews this was ~50 MB of its peak,
    for ~10 ms."""
    if not sys.platform.startswith("linux"):
        return False
    import resource

    if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < GIVE_BACK_FROM:  # KiB on Linux
        return False
    if not _TRIM:
        try:
            import ctypes

            _TRIM.append(ctypes.CDLL("libc.so.6").malloc_trim)
        except (OSError, AttributeError):  # not glibc (musl): nothing to call
            _TRIM.append(None)
    if _TRIM[0] is None:
        return False
    _TRIM[0](0)
    return True
