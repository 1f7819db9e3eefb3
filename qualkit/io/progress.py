"""Progress of long steps, told to whoever listens; the library itself never prints.

Library loops that can take seconds on a large study mark themselves with :func:`track` (or
:func:`task` for work that is not one loop). Nothing is shown, and it costs nothing, unless an entry
point listens: the command line installs a listener with :func:`reporting` (a bar on a terminal,
nothing under ``--json`` or in a pipe). Tasks nest (a report reads transcripts): the listener gets
the whole stack of open tasks each time one starts, advances or ends.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["Listener", "Task", "reporting", "task", "track"]

T = TypeVar("T")


@dataclass
class Task:
    """One long step: ``done`` of ``total`` items (``total`` None when not known in advance)."""

    label: str
    total: int | None = None
    done: int = 0
    _notify: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def advance(self, n: int = 1) -> None:
        """``n`` more items done."""
        self.done += n
        if self._notify is not None:
            self._notify()


Listener = Callable[[list[Task]], None]


@dataclass
class _Channel:
    listener: Listener
    stack: list[Task] = field(default_factory=list)

    def tell(self) -> None:
        self.listener(list(self.stack))


_CHANNEL: ContextVar[_Channel | None] = ContextVar("qualkit_progress", default=None)


@contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    """Send the progress of every task started inside this block to ``listener(open_tasks)``;
    it is called once more with an empty list when the last task ends."""
    token = _CHANNEL.set(_Channel(listener))
    try:
        yield
    finally:
        _CHANNEL.reset(token)


@contextmanager
def task(label: str, total: int | None = None) -> Iterator[Task]:
    """A long step that is not one loop: call ``.advance()`` on what this yields as work gets done."""
    channel = _CHANNEL.get()
    if channel is None:
        yield Task(label, total)
        return
    t = Task(label, total, _notify=channel.tell)
    channel.stack.append(t)
    channel.tell()
    try:
        yield t
    finally:
        channel.stack.remove(t)
        channel.tell()


def track(items: Iterable[T], label: str, total: int | None = None) -> Iterator[T]:
    """``items``, one at a time, as a task named ``label`` (free when no one listens)."""
    if _CHANNEL.get() is None:
        yield from items
        return
    if total is None and isinstance(items, Sized):
        total = len(items)
    with task(label, total) as t:
        for item in items:
            yield item
            t.advance()
