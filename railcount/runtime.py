"""Process-wide settings the command line applies before it works (never on import).

The detector makes and drops many frame-sized float32 images (tens of
megabytes each). glibc's allocator returns blocks that large to the
operating system on free and asks for them again on the next allocation, so
every new image is paid for in page faults: on a 4000 x 1500 window that was
half the detector's wall time, spent in the kernel. Raising the allocator's
mmap and trim thresholds keeps freed blocks in the process for reuse. The
memory high-water mark is unchanged (measured: 1.67 GB either way on that
window); only the churn goes.

Library users (notebooks, other programs) are not affected unless they call
:func:`reuse_freed_memory` themselves.
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
