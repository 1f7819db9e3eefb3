"""Independent pieces of work spread over the machine's cores: a process pool, serial when it cannot pay.

Reading and parsing transcripts and matching keywords are CPU-bound Python, so threads do not help;
processes do. Results come back in the order of the inputs, so a parallel run gives exactly what a
serial one does. Processes are forked where the platform allows it (Linux), so a worker starts with
everything the parent has already loaded; elsewhere the work stays serial.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["MAX_DEFAULT_JOBS", "can_fork", "chunks", "default_jobs", "parallel_each", "parallel_feed", "parallel_map",
           "resolve_jobs"]

T = TypeVar("T")
R = TypeVar("R")
MAX_DEFAULT_JOBS = 8  # more processes than this rarely pays for the memory each one holds


def default_jobs() -> int:
    """``QUALKIT_JOBS`` when set, else the processors this process may run on (at most 8)."""
    raw = os.environ.get("QUALKIT_JOBS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_JOBS))


def resolve_jobs(jobs: int | None) -> int:
    """``jobs`` as asked (0 or None: :func:`default_jobs`), at least 1."""
    return default_jobs() if not jobs else max(1, int(jobs))


def can_fork() -> bool:
    """True where worker processes can be forked (POSIX but not macOS, where forking is unsafe)."""
    import sys

    return hasattr(os, "fork") and sys.platform != "darwin"


def parallel_map(fn: Callable[[T], R], items: Sequence[T], jobs: int,
                 on_done: Callable[[int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, computed in up to ``jobs`` forked processes, in the order of ``items``.

    ``fn`` must be a module-level function and its items and results picklable. Serial (in this
    process) when ``jobs`` is 1, there is one item, or processes cannot be forked here.
    ``on_done(i)`` is called in this process as item ``i`` finishes (for a progress bar).
    """
    return _map(fn, items, jobs, on_done, None)


def parallel_each(fn: Callable[[T], R], items: Sequence[T], jobs: int, on_result: Callable[[int, R], None]) -> None:
    """:func:`parallel_map`, but each result goes to ``on_result(i, result)`` in the order of
    ``items`` as soon as it and those before it are done, and none is held after that: a caller
    that stores each result somewhere never holds them all at once."""
    waiting: dict[int, R] = {}
    nxt = [0]

    def arrived(i: int, result: R) -> None:
        waiting[i] = result
        while nxt[0] in waiting:
            on_result(nxt[0], waiting.pop(nxt[0]))
            nxt[0] += 1

    _map(fn, items, jobs, None, arrived)


def _map(fn: Callable[[T], R], items: Sequence[T], jobs: int, on_done: Callable[[int], None] | None,
         on_result: Callable[[int, Any], None] | None) -> list[Any]:
    items = list(items)
    results: list[Any] = [None] * len(items)

    def arrived(i: int, result: Any) -> None:  # (given to on_result, else kept in results)
        if on_result is not None:
            on_result(i, result)
        else:
            results[i] = result
        if on_done is not None:
            on_done(i)

    if jobs <= 1 or len(items) <= 1 or not can_fork():
        for i, x in enumerate(items):
            arrived(i, fn(x))
        return results
    from qualkit.io.forkpool import MAX_TASKS, fork_each

    if len(items) <= MAX_TASKS:  # (the usual call: a few chunks a process)
        fork_each(fn, items, jobs, arrived)
        return results
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with warnings.catch_warnings(), ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=multiprocessing.get_context("fork")) as pool:
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: "multi-threaded, fork() may deadlock" (numpy's idle threads)
        futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
        for fut in as_completed(futures):
            arrived(futures.pop(fut), fut.result())  # (a done future holds its result: none is kept here)
    return results


@contextmanager
def parallel_feed(fn: Callable[[T], R], jobs: int, on_result: Callable[[T, R], None],
                  ahead: int | None = None) -> Iterator[Callable[[T], None]]:
    """``with parallel_feed(fn, jobs, on_result) as put:`` items handed in one at a time by ``put(item)``
    (from a loop that never has them all at once), ``fn(item)`` computed in up to ``jobs`` forked
    processes and ``on_result(item, result)`` called here in the order of the items, with at most
    ``ahead`` (default 2 x ``jobs``) items waiting: neither the items nor their results pile up.

    Serial (``put`` calls ``fn`` itself) when ``jobs`` is 1 or processes cannot be forked here. The
    workers are forked at the first ``put``, so they see what this process holds then.
    """
    if jobs <= 1 or not can_fork():
        yield lambda x: on_result(x, fn(x))
        return
    import multiprocessing
    import warnings
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    waiting: deque[tuple[T, Future[R]]] = deque()
    limit = max(1, ahead if ahead is not None else 2 * jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:

        def put(x: T) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: "multi-threaded, fork() may deadlock"
                waiting.append((x, pool.submit(fn, x)))
            while len(waiting) > limit:
                item, fut = waiting.popleft()
                on_result(item, fut.result())

        try:
            yield put
            while waiting:
                item, fut = waiting.popleft()
                on_result(item, fut.result())
        except BaseException:
            for _item, fut in waiting:  # what has not started is dropped; the pool waits for the rest
                fut.cancel()
            raise


def chunks(items: Iterable[T], n: int) -> list[list[T]]:
    """``items`` in ``n`` runs of consecutive items of about equal length (none empty)."""
    items = list(items)
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for k in range(n):
        end = start + size + (1 if k < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]
