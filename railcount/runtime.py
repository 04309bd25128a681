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

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def reuse_freed_memory() -> bool:
    """Keep freed large blocks in the process (glibc only); True when applied.

    A no-op returning False on other C libraries (macOS, Windows, musl).
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # 1 GiB: blocks up to that size come from (and go back to) the heap, and
    # up to 2 GiB of free heap is kept before any is returned to the system.
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1))
    return _applied


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
