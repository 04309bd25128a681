"""Whether a station's window fits in this machine's memory, asked before its pixels are read.

A station polygon drawn generously (a whole town around its yard, a scene's
footprint) makes a window of hundreds of megapixels at 0.3 m. The detector
needs memory in proportion, and past what the machine has free the operating
system first swaps, then kills the process with no word of why. So the loader
estimates the need first. A window that does not fit whole is counted in tiles that do
(:func:`plan_tiles`, since session 68; ``railcount.detect.tiles.tile_windows``), and one that does not
fit even so is refused with a one-line error that says what to do; a batch records that scene as
failed and goes on.

The estimate (:func:`needed_bytes`) is what a count adds to its process once
the window is known: :data:`BASE_BYTES` plus :data:`BYTES_PER_PIXEL` bytes per
pixel of the window on the detector's working grid (windows finer than 0.3 m
are counted on a 0.3 m grid). Measured in session 67 as the largest process's
peak less the 105 MB a count holds when the check runs, on the tiled speed
scene (6, 24, 54 Mpx: 425, 1445, 2245 MB more), two generated yards of other
layouts at 1-3 times their size (1.7, 10.8, 24.3 Mpx: 210, 549, 1526 MB), and
one whose tracks run with the sun and are read twice (2.3, 14.4, 32.3 Mpx:
305, 1228, 2147 MB): the estimate is above every one (by 12 % at 14.4 Mpx,
twice at 54 Mpx). Session 66's 70 bytes a pixel with no base fell short on
small windows and on the sun-along yard, where the count would still have
been killed.

A count of one window may fork a second process (:mod:`railcount.runtime`),
which adds up to :data:`HELPER_SHARE` of the estimate (its summed memory was
1.35-1.55 times one process's): where the window fits one process and not
two, the count is made in one (:func:`helper_fits`).

Memory free is the smaller of Linux's ``MemAvailable`` (``/proc/meminfo``)
and the room left under the process's control-group limit (cgroup v1 or v2: a
container's, a notebook server's, where ``MemAvailable`` shows the whole
host's; in a 200 MB group the 0.3 m sample was killed by the kernel, exit
137, with no word). The environment variable ``RAILCOUNT_MEMORY_LIMIT``
(``"4G"``, ``"500M"``, bytes) replaces both, and serves where neither can be
read (off Linux); with none of them the check is skipped.
"""

from __future__ import annotations

import math
import os
import re

from railcount.detect.params import DetectorParams, working_scale
from railcount.errors import UsageError, WindowTooLargeError
from railcount.runtime import release_freed_memory

BASE_BYTES = 150_000_000
"""What a count adds to its process whatever the window's size (reading, the detector's tables and models)."""

BYTES_PER_PIXEL = 85
"""What a count adds per pixel of the window on the working grid, above :data:`BASE_BYTES`: the most any
measured window took (a 14.4 Mpx yard whose tracks run with the sun, read on both sides: 75)."""

HELPER_SHARE = 0.6
"""What a count's forked second process adds, as a share of :func:`needed_bytes`: measured 0.37-0.59."""

LIMIT_ENV = "RAILCOUNT_MEMORY_LIMIT"
"""An environment variable that caps the memory a window may need (``4G``, ``500M``, bytes)."""

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from ``"4G"``, ``"500M"``, ``"1.5GB"``, ``"64k"`` or a plain number.

    >>> parse_size("4G"), parse_size("500m"), parse_size("1.5GiB"), parse_size("2048")
    (4294967296, 524288000, 1610612736, 2048)
    """
    m = _SIZE.match(text)
    if m is None:
        raise UsageError(
            f"{LIMIT_ENV}={text!r} is not a size; give bytes or a number with K, M, G or T (e.g. 4G)"
        )
    power = " KMGT".index((m[2] or " ").upper())
    return int(float(m[1]) * 1024**power)


_share = 1
"""How many processes count windows at once on this machine, this one among them (:func:`share_memory`)."""


def share_memory(processes: int) -> None:
    """Have this process plan its windows as one of ``processes`` that count at once (a batch's
    worker processes): each may use that share of the memory free (:func:`available_bytes`), so that
    all of them together fit. Before session 69 each planned with all of it, and a batch of two
    workers in an 800 MB container, each counting a window that fitted alone in tiles, was killed
    by the kernel and counted nothing."""
    global _share
    _share = max(1, int(processes))


def memory_share() -> int:
    """How many processes this one shares the memory free with, itself included (:func:`share_memory`)."""
    return _share


def available_bytes() -> int | None:
    """The memory a window may use: :data:`LIMIT_ENV` if set, else the smaller of Linux's
    ``MemAvailable`` and the room left under this process's control-group limit (a container's, a
    notebook server's: there ``MemAvailable`` is the whole host's); None when neither is known. In a
    process that counts beside others (:func:`share_memory`), its share of that."""
    limit = limit_from_env()
    if limit is not None:
        return limit // _share
    known = [n for n in (_mem_available(), cgroup_room()) if n is not None]
    return min(known) // _share if known else None


def room_words(free: int) -> str:
    """The memory a window was planned for, in words: ``"0.52 GB is free"`` or
    ``"RAILCOUNT_MEMORY_LIMIT allows 0.35 GB"``, in a batch's worker to each of its workers.

    >>> room_words(520_000_000)  # (a process of its own, RAILCOUNT_MEMORY_LIMIT unset)
    '0.52 GB is free'
    """
    words = (
        f"{LIMIT_ENV} allows {gb_text(free)}" if limit_from_env() is not None else f"{gb_text(free)} is free"
    )
    if _share > 1:
        words += f" to each of the {_share} batch workers (fewer --workers give each more)"
    return words


def limit_from_env() -> int | None:
    """:data:`LIMIT_ENV`'s size in bytes; None when it is unset or blank."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    return parse_size(text) if text else None


def _mem_available(meminfo: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


_NO_LIMIT = 1 << 60
"""Limits at or above this (cgroup v1 writes 9223372036854771712 for none) are no limit."""


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except OSError:
        return None
    if text == "max":
        return _NO_LIMIT
    try:
        return int(text)
    except ValueError:
        return None


def _stat(path: str, key: str) -> int:
    """A value of a cgroup ``memory.stat`` file (0 when absent)."""
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def cgroup_room(root: str = "/sys/fs/cgroup", proc_cgroup: str = "/proc/self/cgroup") -> int | None:
    """Bytes left under the memory limit of this process's control group and its parents, counting
    reclaimable page cache (``inactive_file``) as room; None when no limit applies or none can be read.

    Both cgroup versions are read: v2 (``0::/path``, ``memory.max`` and ``memory.current`` under
    ``root/path`` and each parent) and v1 (``N:memory:/path``, ``memory.limit_in_bytes`` and
    ``memory.usage_in_bytes`` under ``root/memory/path`` and each parent). Inside a container the
    group's own directory is usually ``root`` itself, which is tried too.
    """
    try:
        with open(proc_cgroup, encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    rooms: list[int] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, group = parts
        if controllers == "":
            base, limit_f, usage_f, stat_key = root, "memory.max", "memory.current", "inactive_file"
        elif "memory" in controllers.split(","):
            base, limit_f, usage_f, stat_key = (
                os.path.join(root, "memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "total_inactive_file",
            )
        else:
            continue
        rel = group.strip("/")
        while True:  # the group's folder, then each parent's up to ``base``
            folder = os.path.join(base, rel) if rel else base
            limit = _read_int(os.path.join(folder, limit_f))
            usage = _read_int(os.path.join(folder, usage_f))
            if limit is not None and limit < _NO_LIMIT and usage is not None:
                cache = _stat(os.path.join(folder, "memory.stat"), stat_key)
                rooms.append(max(0, limit - usage + cache))
            if not rel:
                break
            rel = os.path.dirname(rel)
    return min(rooms) if rooms else None


def needed_bytes(height: int, width: int, gsd_m: float) -> int:
    """The memory a count of a ``height`` x ``width`` window of ``gsd_m`` pixels is expected to add to
    its process (one process).

    >>> needed_bytes(1500, 4000, 0.3) / 1e9, needed_bytes(3000, 8000, 0.15) / 1e9
    (0.66, 0.66)
    """
    share = working_scale(gsd_m, DetectorParams()) ** 2 if gsd_m > 0 else 1.0
    return BASE_BYTES + math.ceil(height * width * share * BYTES_PER_PIXEL)


def helper_fits(height: int, width: int, gsd_m: float, held: int = 0) -> bool:
    """Whether a count of this window may also fork its second process (:data:`HELPER_SHARE`) within
    the memory free now, less ``held`` bytes already spoken for (a window counted in tiles holds its
    whole window's pixels); True when that cannot be known."""
    free = available_bytes()
    return free is None or needed_bytes(height, width, gsd_m) * (1.0 + HELPER_SHARE) <= free - held


def gb_text(n: float) -> str:
    """``0.21 GB``, ``1.7 GB``, ``24 GB``: two figures, so a need and a room that differ read apart."""
    gb = n / 1e9
    return f"{gb:.2f} GB" if gb < 1 else f"{gb:.1f} GB" if gb < 10 else f"{gb:.0f} GB"


WINDOW_BYTES_PER_PIXEL = 10
"""What a window holds per pixel while it is counted in tiles: its pixels (up to four 16-bit bands) and
its two masks."""

TILE_OVERLAP_M = 60.0
"""A tile reaches this far past its share of the window on every side it shares with another (ground
metres), so that a car on the seam, its shadow and the track beyond its ends lie whole in the tile
that holds its centre."""

MAX_TILES = 64
"""A window needing more tiles than this is refused."""

MIN_TILE_M = 250.0
"""A tile's share of the window is at least this long (ground metres) on a side the window is cut
along: a smaller tile would be mostly overlap, so read twice over for little (the curve pieces and
the regions of each track direction are still found per tile; ``benchmarks/tiles.py``)."""


def plan_tiles(height: int, width: int, gsd_m: float, free: int | None = None) -> tuple[int, int] | None:
    """(rows, cols) of tiles to count a ``height`` x ``width`` window of ``gsd_m`` pixels in, within
    ``free`` bytes (default :func:`available_bytes`): ``(1, 1)`` where the whole window fits (or the
    memory free is unknown); else the fewest tiles (of as many, the squarest), each reaching
    :data:`TILE_OVERLAP_M` past its share and none under :data:`MIN_TILE_M` across where the window is
    cut, whose count fits beside the whole window's pixels; None where no such tiles do.

    >>> plan_tiles(1500, 4000, 0.3, free=10**9), plan_tiles(6000, 16000, 0.3, free=2 * 10**9)
    ((1, 1), (2, 6))
    >>> plan_tiles(6000, 16000, 0.3, free=10**9) is None
    True
    """
    free = available_bytes() if free is None else free
    if free is None or needed_bytes(height, width, gsd_m) <= free:
        return (1, 1)
    room = free - height * width * WINDOW_BYTES_PER_PIXEL
    pad = 2 * math.ceil(TILE_OVERLAP_M / gsd_m) if gsd_m > 0 else 0
    least = math.ceil(MIN_TILE_M / gsd_m) if gsd_m > 0 else 0
    fits: list[tuple[int, int, tuple[int, int]]] = []
    for rows in range(1, MAX_TILES + 1):
        for cols in range(1, MAX_TILES // rows + 1):
            tile_h, tile_w = math.ceil(height / rows), math.ceil(width / cols)
            if (rows > 1 and tile_h < least) or (cols > 1 and tile_w < least):
                continue
            reach_h = min(height, tile_h + (pad if rows > 1 else 0))
            reach_w = min(width, tile_w + (pad if cols > 1 else 0))
            if needed_bytes(reach_h, reach_w, gsd_m) <= room:
                # The fewest tiles; of as many, the squarer ones (less seam for their ground).
                fits.append((rows * cols, abs(tile_h - tile_w), (rows, cols)))
    return min(fits)[2] if fits else None


def check_window_fits(height: int, width: int, gsd_m: float, scene: str, station: str) -> None:
    """Raise :class:`WindowTooLargeError` when the window would need more memory than is free, even
    counted in tiles (:func:`plan_tiles`)."""
    window_plan(height, width, gsd_m, scene, station)


def window_plan(
    height: int, width: int, gsd_m: float, scene: str, station: str, *, held: int = 0
) -> tuple[tuple[int, int], int | None]:
    """The tiles (rows, cols) to count the window in (:func:`plan_tiles`) and the memory free they
    were planned for, or :class:`WindowTooLargeError` when none fit. ``held`` is what the window's
    arrays already hold once it is read: the memory free now, plus that, is what the count may use
    (asked before the read, it is 0; :data:`LIMIT_ENV` is taken as it is, before and after)."""
    free = available_bytes()
    if free is None:
        return (1, 1), None
    if limit_from_env() is None:  # (a limit set by the user is the same before and after the read)
        free += held
    grid = plan_tiles(height, width, gsd_m, free)
    if grid != (1, 1) and limit_from_env() is None and release_freed_memory():
        # A process that has counted other windows keeps what it freed (runtime.reuse_freed_memory),
        # which the memory free does not show: given back, it is free again.
        free = (available_bytes() or 0) + held
        grid = plan_tiles(height, width, gsd_m, free)
    if grid is not None:
        return grid, free
    need = needed_bytes(height, width, gsd_m)
    side_km = math.sqrt(height * width) * gsd_m / 1000.0
    room = room_words(free)
    raise WindowTooLargeError(
        f"{scene}: station {station!r} reads a {width} x {height} px window ({height * width / 1e6:.0f} "
        f"Mpx at {gsd_m:.2f} m, as much ground as a square {side_km:.1f} km a side), whose count would "
        f"need about {gb_text(need)} of memory, too much even in tiles of {MIN_TILE_M:.0f} m, where "
        f"{room}; draw the station around the tracks only, or split it into several polygons (each is "
        "counted on its own window)"
    )
