"""Forked worker processes for :mod:`qualkit.io.parallel`: each inherits the items and the function,
takes the index of the next item from a shared pipe, and sends back each result through a pipe of its
own. ``concurrent.futures.ProcessPoolExecutor`` does the same job at a cost that counts when the whole
job takes a second: importing it (sockets, queues, threads) and its manager and feeder threads came to
~30 ms of CPU a call, ~5% of reading 1,000 interviews; here the parent only forks and reads.

POSIX only (callers check :func:`qualkit.io.parallel.can_fork`). A worker's exception is raised in
the parent (as the executor would); a worker that dies (killed, out of memory) is an error too, never
a silent loss; on any error or interrupt the other workers are stopped and reaped.
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MAX_TASKS", "fork_each"]

MAX_TASKS = 4096  # item indices written to the task pipe up front, before any worker reads (4 bytes each: 16 KiB, the smallest pipe buffer of the systems that fork)
_HEADER = struct.Struct("<BI")  # a frame: kind, payload length
_RESULT, _ERROR, _DONE = 0, 1, 2


def fork_each(fn: Callable[[Any], Any], items: Sequence[Any], jobs: int, on_result: Callable[[int, Any], None]) -> None:
    """``on_result(i, fn(items[i]))`` for every item, in the order results arrive, ``fn`` run in
    ``jobs`` forked processes (at most one per item, at most :data:`MAX_TASKS` items)."""
    import selectors

    if len(items) > MAX_TASKS:
        raise ValueError(f"fork_each takes at most {MAX_TASKS} items")
    tasks_r, tasks_w = os.pipe()
    os.write(tasks_w, b"".join(struct.pack("<i", i) for i in [*range(len(items)), *[-1] * jobs]))  # (-1: stop)
    os.close(tasks_w)
    for stream in (sys.stdout, sys.stderr):  # (what is buffered would be written again by each worker otherwise)
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # (None, or closed)
            pass
    workers: dict[int, int] = {}  # result pipe's read end -> pid
    try:
        for _ in range(min(jobs, len(items))):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                os.close(read_end)
                for fd in workers:
                    os.close(fd)
                _work(fn, items, tasks_r, write_end)
            os.close(write_end)
            workers[read_end] = pid
        os.close(tasks_r)
        tasks_r = -1
        with selectors.DefaultSelector() as selector:
            for fd in workers:
                selector.register(fd, selectors.EVENT_READ, bytearray())
            while selector.get_map():
                for key, _ in selector.select():
                    _read(key, selector, workers, on_result)
    finally:
        if tasks_r >= 0:
            os.close(tasks_r)
        _stop(workers)


def _read(key: Any, selector: Any, workers: dict[int, int], on_result: Callable[[int, Any], None]) -> None:
    """Take what one worker's pipe holds now: every whole frame in it is handled, the rest kept."""
    buffer: bytearray = key.data
    chunk = os.read(key.fd, 1 << 20)
    if not chunk:  # the worker closed its pipe: it must have said it was done
        selector.unregister(key.fd)
        done = buffer == _HEADER.pack(_DONE, 0)
        os.close(key.fd)
        pid = workers.pop(key.fd)
        status = os.waitpid(pid, 0)[1]
        if not done or status != 0:
            raise RuntimeError(f"a worker process stopped before it finished (exit status {status}); "
                               "the machine may be out of memory: try fewer jobs (QUALKIT_JOBS=1)")
        return
    buffer += chunk
    while len(buffer) >= _HEADER.size:
        kind, size = _HEADER.unpack_from(buffer)
        if kind == _DONE or len(buffer) < _HEADER.size + size:
            return
        payload = pickle.loads(bytes(buffer[_HEADER.size:_HEADER.size + size]))
        del buffer[:_HEADER.size + size]
        if kind == _ERROR:
            raise payload
        on_result(*payload)


def _work(fn: Callable[[Any], Any], items: Sequence[Any], tasks: int, out: int) -> None:
    """A worker's life: items by index from ``tasks`` until -1, each result (or the first error)
    framed into ``out``; then out, with no clean-up of the parent's state it inherited."""
    code = 1
    try:
        while True:
            got = os.read(tasks, 4)  # (a whole index: all were written before the fork, and a pipe read is atomic)
            i = struct.unpack("<i", got)[0] if len(got) == 4 else -1
            if i < 0:
                break
            try:
                frame = _frame(_RESULT, (i, fn(items[i])))
            except BaseException as exc:  # noqa: BLE001  (raised again in the parent)
                _write(out, _frame(_ERROR, _sendable(exc)))
                return
            _write(out, frame)
        _write(out, _HEADER.pack(_DONE, 0))
        code = 0
    finally:
        for stream in (sys.stdout, sys.stderr):  # (what fn printed: os._exit flushes nothing)
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        os._exit(code)


def _frame(kind: int, value: Any) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(kind, len(payload)) + payload


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (to be raised as itself in the parent), else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _stop(workers: dict[int, int]) -> None:
    """Stop and reap the workers still running (after an error or an interrupt) and close their pipes."""
    import signal

    for fd, pid in workers.items():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.close(fd)
    for pid in workers.values():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    workers.clear()
