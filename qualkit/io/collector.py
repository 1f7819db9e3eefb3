"""The cyclic garbage collector paused while a command builds a large read-only picture of the study.

Building a report or every study table allocates millions of long-lived objects (transcripts,
codings, excerpts) and almost no reference cycles; the collector's full passes over them cost about
a fifth of the command's CPU and free next to nothing. Reference counting still frees everything
else, and the collector runs again when the block ends.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """``with gc_paused():`` the cyclic collector is off inside (nested use is harmless)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
