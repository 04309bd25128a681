"""Process-wide settings the command line applies before it works (never on import).

The detector makes and drops many frame-sized float32 images (tens of
megabytes each). glibc's allocator returns blocks that large to the
operating system on free and asks for them again on the next allocation, so
every new image is paid for in page faults: on a 4000 x 1500 window that was
half the detector's wall time, spent in the kernel. Raising the allocator's
mmap and trim thresholds keeps freed blocks in the process for reuse. The
memory high-water mark is unchanged (measured: 1.67 GB either way on that
window); only the churn goes.

numpy also asks the kernel to back every array of 4 MB or more with 2 MB
"huge" pages (``madvise(MADV_HUGEPAGE)``). Where the kernel compacts memory
synchronously to find them (transparent huge pages' ``defrag`` setting
``madvise``, the kernel's default) the first touch of that memory can cost
several times what small pages do: on this project's build machine a fresh
process filling 450 MB after ten idle seconds took 0.9-1.1 s with huge pages
and 0.28-0.31 s without, and the detector's first call on a 4000 x 1500
window 2.5-2.8 s against 1.5-1.8 s; later calls, which reuse the memory,
took 5-10 % longer with small pages, and ten calls in a row about the same
time either way (docs/detector.md, *Session 42*). :func:`small_pages` turns
the request off for the process; a process that will count more windows
than :data:`SMALL_PAGES_MAX_WINDOWS` keeps it (:func:`pages_for`).

Library users (notebooks, other programs) are not affected unless they call
these functions themselves.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Generic, TypeVar, cast

T = TypeVar("T")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def _libc_function(name: str) -> Any:
    """The C library's function ``name`` on Linux (glibc's allocator controls); None elsewhere, or
    where the C library has no such function (musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


def reuse_freed_memory() -> bool:
    """Keep freed large blocks in the process (glibc only); True when applied.

    A no-op returning False on other C libraries (macOS, Windows, musl).
    """
    global _applied
    if _applied:
        return True
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # 1 GiB: blocks up to that size come from (and go back to) the heap, and
    # up to 2 GiB of free heap is kept before any is returned to the system.
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
    return _applied


def release_freed_memory() -> bool:
    """Give the memory this process has freed but kept (:func:`reuse_freed_memory`) back to the
    operating system (glibc's ``malloc_trim``); True when some was. For a window about to be planned
    in a process that has counted others: what it kept is memory the window may use, but the memory
    free, as the system and a control group report it, does not include it. A no-op returning False
    off glibc."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


SMALL_PAGES_MAX_WINDOWS = 12
"""A process that will count more windows than this keeps numpy's huge pages (:func:`pages_for`).

Measured on the 4000 x 1500 speed window (docs/detector.md, *Session 42*):
small pages save about a second on the first count after idle and cost 5-10 %
on every later one, so they pay for up to 10-15 windows."""

_small = False
_tuned = False


def small_pages(on: bool = True) -> bool:
    """Stop numpy asking for huge pages for its large arrays in this process (``on=False``: ask again,
    numpy's default); True when applied.

    Arrays made afterwards follow the setting. A no-op returning False where
    numpy does not ask for them (not Linux) or does not offer the switch (the
    environment variable ``NUMPY_MADVISE_HUGEPAGE=0`` does the same for a
    process started with it).
    """
    global _small
    if not sys.platform.startswith("linux"):
        return False
    import numpy as np

    internals = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(internals, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is None:
        return False
    switch(not on)
    _small = on
    return True


def tune_memory() -> str:
    """:func:`reuse_freed_memory` and :func:`small_pages`, as the command line sets them before it
    knows how many windows it will count; says what was applied ("default" when neither could be)."""
    global _tuned
    settings = (("reuse freed", reuse_freed_memory()), ("small pages", small_pages()))
    _tuned = True
    return ", ".join(name for name, done in settings if done) or "default"


def pages_for(windows: int) -> None:
    """In a process whose memory :func:`tune_memory` set, keep small pages to count up to
    :data:`SMALL_PAGES_MAX_WINDOWS` windows and go back to huge pages for more (a batch counting in
    its own process). Elsewhere (a library caller's process) nothing changes."""
    if _tuned and _small and windows > SMALL_PAGES_MAX_WINDOWS:
        small_pages(False)


# --- A second process for one count --------------------------------------------------------------

_helper = False
_forks = 0
"""How many helpers this process has started (for tests and diagnostics)."""
_last_pid = 0
"""The process id of the last one."""
_last_status = 0
"""How the last helper waited for ended (``os.waitpid``'s status)."""


def helper_process(on: bool = True) -> bool:
    """Let :func:`shared_map` share its work with one forked helper process (``on=False``: never);
    True when it may, that is on Linux with at least two cores this process may run on.

    The command line's ``count`` and ``evaluate`` turn it on: a one-off count then uses two cores
    (the detector's track frames are independent of one another), and so does a batch with one
    scene to count and more than one worker allowed; with more, its workers each count on one
    core. Library callers are not affected unless they call this themselves.
    """
    global _helper
    import os

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    _helper = bool(on) and sys.platform.startswith("linux") and hasattr(os, "fork") and usable >= 2
    return _helper


def _may_fork() -> bool:
    """Whether a helper may be forked now: :func:`helper_process` allows one and no other thread
    runs (forking copies none of them, and a lock one of them holds would never be released in the
    copy)."""
    import threading

    return _helper and threading.active_count() == 1


def _started(pid: int) -> None:
    global _forks, _last_pid
    _forks += 1
    _last_pid = pid


@contextlib.contextmanager
def helper_allowed(on: bool = True) -> Iterator[bool]:
    """:func:`helper_process` for the duration of a ``with`` block, then back to what it was; yields
    whether a helper may be used.

    While one may, OpenCV keeps to one thread: the two processes already use two cores, and a copy
    forked while OpenCV's thread pool exists would inherit the pool without its threads.
    """
    global _helper
    import cv2

    before, threads = _helper, cv2.getNumThreads()
    try:
        allowed = helper_process(on)
        if allowed:
            cv2.setNumThreads(1)  # (stops the pool's threads if it has any)
        yield allowed
    finally:
        _helper = before
        cv2.setNumThreads(threads)


def shared_map(work: Callable[[int], T], n: int) -> list[T]:
    """``[work(0), ..., work(n - 1)]``, computed by this process and, where :func:`helper_process`
    allows it, by one forked copy of it taking the next index in turn, so long and short items
    balance. The results are the same either way: each item is computed by one process from the
    same memory (the copy is forked after everything ``work`` reads was made).

    The helper is not used where :func:`_may_fork` says no (another thread runs) or for fewer than
    two items. If the
    helper fails or dies, this process computes what it had taken; an error ``work`` raises here
    propagates as it would without the helper (which is then stopped).
    """
    if n < 2 or n > MAX_SHARED_ITEMS or not _may_fork():
        return [work(i) for i in range(n)]
    import os
    import struct

    # The items' indices wait in a pipe, four bytes each: a read of four bytes takes one whole, and
    # a process killed at any moment holds nothing the other would wait for (as a lock would).
    queue, refill = os.pipe()
    os.write(refill, struct.pack(f"<{n}i", *range(n)))  # (fits in the pipe's buffer: MAX_SHARED_ITEMS)
    os.close(refill)

    def take() -> int:
        got = os.read(queue, 4)
        return int(struct.unpack("<i", got)[0]) if len(got) == 4 else n

    def helper_part() -> list[tuple[int, T]]:
        done = []
        while (i := take()) < n:
            done.append((i, work(i)))
        return done

    results: dict[int, T] = {}
    try:
        helper = _Forked(helper_part)
    except OSError:  # no temporary file or no fork to be had: all here
        os.close(queue)
        return [work(i) for i in range(n)]
    try:
        while (i := take()) < n:
            results[i] = work(i)
        results.update(helper.value(default=[]))
    finally:
        os.close(queue)
        helper.cancel()  # (nothing left to stop once its value was taken)
    return [results[i] if i in results else work(i) for i in range(n)]


MAX_SHARED_ITEMS = 8192
""":func:`shared_map` shares at most this many items (their indices must fit in a pipe's buffer);
more are computed here."""


class _Forked(Generic[T]):
    """``work()`` run by a forked copy of this process, its value pickled into an unlinked temporary
    file: the copy leaves, and gives its memory back, as soon as it is done, whether or not this
    process is ready to read the value."""

    def __init__(self, work: Callable[[], T]) -> None:
        import os
        import pickle
        import tempfile

        file = tempfile.TemporaryFile()
        _flush()
        try:
            pid = os.fork()
        except OSError:
            file.close()
            raise
        if pid == 0:  # the copy: work, write the value, leave without running any cleanup
            status = 1
            try:
                pickle.dump(work(), file, protocol=pickle.HIGHEST_PROTOCOL)
                file.flush()
                status = 0
            except BaseException:  # whatever happens, this process computes it instead
                pass
            finally:
                os._exit(status)
        self._pid = pid
        self._file: BinaryIO | None = file
        _started(pid)

    def value(self, default: T) -> T:
        """Wait for the copy to end; its value, or ``default`` if it failed or was killed."""
        import pickle

        file, self._file = self._file, None
        if file is None:
            return default
        try:
            if _reap(self._pid, kill=False) == 0:
                file.seek(0)
                return cast(T, pickle.load(file))
        except Exception:  # a value only partly written
            pass
        finally:
            file.close()
        return default

    def cancel(self) -> None:
        """Stop the copy and wait for it to end, if its value has not been taken."""
        file, self._file = self._file, None
        if file is not None:
            _reap(self._pid, kill=True)
            file.close()


def _flush() -> None:
    """Flush this process's output before forking (so the copy holds none of it to write twice);
    streams closed or gone (None when the process started without them) are passed over."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _reap(pid: int, *, kill: bool) -> int:
    """Wait for helper ``pid`` to end, killing it first with ``kill``; its ``os.waitpid`` status."""
    import os
    import signal

    global _last_status
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        _last_status = os.waitpid(pid, 0)[1]
    except ChildProcessError:
        _last_status = -1
    return _last_status


_MISSING = object()


class Aside(Generic[T]):
    """A value being computed by a forked copy of this process (:func:`aside`); :meth:`result` waits
    for it. Computed here instead, when it is asked for, if no copy could be used or the copy failed."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._forked: _Forked[object] | None = None
        if _may_fork():
            try:
                self._forked = _Forked(work)
            except OSError:  # no temporary file or no fork to be had: computed here when asked for
                pass

    def result(self) -> T:
        forked, self._forked = self._forked, None
        if forked is not None:
            value = forked.value(default=_MISSING)
            if value is not _MISSING:
                return cast(T, value)
        return self._work()

    def cancel(self) -> None:
        """Stop the copy and wait for it to end, when its value will not be asked for (nothing
        happens once :meth:`result` has been called)."""
        forked, self._forked = self._forked, None
        if forked is not None:
            forked.cancel()


def aside(work: Callable[[], T]) -> Aside[T]:
    """Start computing ``work()`` in a forked copy of this process, where :func:`helper_process`
    allows it, while this process goes on; ``.result()`` gives the value (computed here if not)."""
    return Aside(work)
