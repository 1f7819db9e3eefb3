"""Results a command's steps share while the workspace's inputs are unchanged (``Workspace.derived``), and
how long they are held: a step that is the last to need a result lets it go, so a study of 5,000
interviews does not hold every step's excerpts, matrices and units to the end of the command.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["DerivedCache"]


def _kind(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) and key else key


class DerivedCache:
    """Key -> (the inputs' stamp it was built from, the result)."""

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[tuple, Any]] = {}
        self._passing: set[Any] = set()
        self._steady = 0
        # Inside steady(): (the transcripts' listing, the other inputs' states, the whole stamp) last taken.
        self.kept_stamp: tuple | None = None

    @property
    def is_steady(self) -> bool:
        """Whether a :meth:`steady` block is open."""
        return self._steady > 0

    @contextmanager
    def steady(self) -> Iterator[None]:
        """Inside the block (a command that reads the study), the inputs' stamp is taken once per state
        of the files instead of at every ask (:func:`qualkit.workspace.inputs.derived_stamp`); blocks nest."""
        self._steady += 1
        try:
            yield
        finally:
            self._steady -= 1
            if not self._steady:
                self.kept_stamp = None

    def get(self, key: Any, stamp: tuple, build: Callable[[], Any] | None) -> Any:
        """The result kept for ``key`` when built from ``stamp``, else ``build()``'s (kept for the next
        asker unless the key was marked :meth:`passing`); None when ``build`` is None and none is kept."""
        passing = _kind(key) in self._passing
        hit = self._entries.get(key)
        if hit is not None and hit[0] == stamp:
            if passing:
                del self._entries[key]  # this asker is the last: the caller's reference is the only one
            return hit[1]
        if build is None:
            return None
        value = build()
        if not passing:
            self._entries[key] = (stamp, value)
        return value

    def forget(self, key: Any) -> None:
        """Drop the result of ``key``, so its memory is given back once its users let go of it."""
        self._entries.pop(key, None)

    @contextmanager
    def passing(self, kind: str) -> Iterator[None]:
        """Inside the block, results of ``kind`` (a key's first item, e.g. "unit_codes") are handed out
        but not kept, and a kept one is taken out as it is handed out: for the step known to be the last
        to need them, which can then let go of them as soon as it is done with them."""
        self._passing.add(kind)
        try:
            yield
        finally:
            self._passing.discard(kind)

    @contextmanager
    def released(self) -> Iterator[None]:
        """Results first built inside the block are dropped when it ends (those built before it are kept):
        for a command whose later steps need none of them."""
        before = set(self._entries)
        try:
            yield
        finally:
            for key in [k for k in self._entries if k not in before]:
                del self._entries[key]
