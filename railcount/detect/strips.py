"""The band evidence of a track frame, computed strip by strip and kept in the strips' blocks.

A track frame is the window rotated so the tracks run along its rows. For a
window at an angle, the frame's bounding box is up to twice the window, and
its corners hold no data. Filtering the whole frame at once wastes that
area and makes dozens of frame-sized temporary images (tens of megabytes
each), which costs page faults as much as arithmetic.

So the frame is cut into horizontal strips. Each strip is extended by
:func:`~railcount.detect.cars.support_m` above and below and cropped to the
columns where it has data (plus the same margin), and its maps are computed
with :func:`~railcount.detect.cars.band_maps`, which filters the whole
block and computes the rest for the strip's own rows alone. Every map is
local to within that reach, so a strip's own rows hold what the whole
frame would give (to float32 rounding: OpenCV's box filters keep running
sums from each block's edge, so a few pixels differ in the last bit).

Only the band strength is needed over the whole frame (to find the
centrelines, :func:`~railcount.detect.cars.centreline_runs`); it is copied
into a frame-sized image. The maps that describe candidate cars are read
only at a few rows around each car, so they stay in their strips' blocks:
a :class:`StripMap` reads each row from the block of the strip that owns
it, and gives exactly what a frame-sized copy would hold (zero in columns
outside the block and in strips without data) without making one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from railcount.detect.cars import BandMaps, BandTerms, band_geometry, band_maps, choose_side, support_m
from railcount.detect.params import DetectorParams

STRIP_ROWS = 320
"""Rows of frame each strip contributes (before its margins)."""

_SHARED = ("smoothness", "body_dark", "flank_dark", "lin", "sunlit", "interior", "step_above", "step_below")


def strips(data: np.ndarray, margin: int, rows: int = STRIP_ROWS) -> Iterator[tuple[slice, slice, slice]]:
    """(block rows, block columns, the strip's own rows inside the block) of each strip holding data."""
    n_rows, n_cols = data.shape
    has_data = np.asarray(data.any(axis=1))
    for y0 in range(0, n_rows, rows):
        y1 = min(n_rows, y0 + rows)
        if not has_data[y0:y1].any():
            continue
        ya, yb = max(0, y0 - margin), min(n_rows, y1 + margin)
        cols = np.flatnonzero(data[ya:yb].any(axis=0))
        xa, xb = max(0, int(cols[0]) - margin), min(n_cols, int(cols[-1]) + 1 + margin)
        yield slice(ya, yb), slice(xa, xb), slice(y0 - ya, y1 - ya)


@dataclass(frozen=True, eq=False)
class Block:
    """One strip's maps (its own rows, the block's columns) and where the block lies in the frame."""

    rows: slice  # frame rows of the block
    cols: slice  # frame columns of the block
    own: slice  # the strip's own rows, in block rows
    maps: dict[str, np.ndarray]


class StripMap:
    """One map of a frame, held in its strips' blocks, whose rows read like a frame-sized array's.

    ``m[row, a:b]`` (one row) and ``m[rows, a:b]`` (an integer array of
    rows, one output row each) give what ``frame[row, a:b]`` would, had the
    strips' own rows been copied into a zero frame: each row comes from the
    strip that owns it, columns outside its block and rows of strips
    without data read as zero. Rows must lie in the frame (no negative
    indices). A row inside one block is returned as a view of it.

    Parameters
    ----------
    blocks : list of Block
        The frame's strips that hold data.
    name : str
        The key of the map in each block's ``maps``.
    shape : (rows, cols)
        The frame's shape.
    strip_rows : int
        The rows each strip owns (the last may own fewer).
    """

    def __init__(self, blocks: list[Block], name: str, shape: tuple[int, int], strip_rows: int) -> None:
        self._strip_rows = strip_rows
        self._owner: list[tuple[int, int, np.ndarray] | None] = [None] * -(-shape[0] // strip_rows)
        extra: tuple[int, ...] = ()
        for block in blocks:
            image = block.maps[name]
            extra = image.shape[2:]
            first = block.rows.start + block.own.start
            self._owner[first // strip_rows] = (first, block.cols.start, image)
        self.shape: tuple[int, ...] = (*shape, *extra)

    def __getitem__(self, index: tuple[int | np.ndarray, slice]) -> np.ndarray:
        row, cols = index
        a, b, step = cols.indices(self.shape[1])
        if step != 1:
            raise IndexError(f"StripMap reads contiguous columns; got a step of {step}")
        if np.ndim(row) == 0:
            return self._row(int(row), a, b)
        rows = np.asarray(row).ravel()
        block = self._block_of(rows, a, b)
        if block is not None:  # the common case: every row in one block, which holds the columns
            top, left, image = block
            return image[rows - top, a - left : b - left]
        out = np.empty((rows.size, max(0, b - a), *self.shape[2:]), np.float32)
        for i, r in enumerate(rows.tolist()):
            out[i] = self._row(r, a, b)
        return out

    def _block_of(self, rows: np.ndarray, a: int, b: int) -> tuple[int, int, np.ndarray] | None:
        """The owner (top, left, image) of all ``rows`` when one block holds them all and columns a:b."""
        if not rows.size or rows.min() < 0 or rows.max() >= self.shape[0]:
            return None
        first, last = int(rows.min()) // self._strip_rows, int(rows.max()) // self._strip_rows
        owner = self._owner[first]
        if first != last or owner is None:
            return None
        _, left, image = owner
        return owner if left <= a and b <= left + image.shape[1] else None

    def _row(self, row: int, a: int, b: int) -> np.ndarray:
        if not 0 <= row < self.shape[0]:
            raise IndexError(f"row {row} is outside the frame's {self.shape[0]} rows")
        width = max(0, b - a)
        owner = self._owner[row // self._strip_rows]
        if owner is None:
            return np.zeros((width, *self.shape[2:]), np.float32)
        top, left, image = owner
        right = left + image.shape[1]
        if left <= a and b <= right:
            return image[row - top, a - left : b - left]
        out = np.zeros((width, *self.shape[2:]), np.float32)
        lo, hi = max(a, left), min(b, right)
        if lo < hi:
            out[lo - a : hi - a] = image[row - top, lo - left : hi - left]
        return out

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``frame[rows[k], cols[k]]`` for each k, read from the owning blocks (points inside the frame).

        What a frame-sized copy holds at those points (zero outside the
        blocks), for many points at once: one fancy index per block.
        """
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        out = np.zeros((rows.size, *self.shape[2:]), np.float32)
        if not rows.size:
            return out
        if rows.min() < 0 or rows.max() >= self.shape[0]:
            raise IndexError(f"rows {rows.min()}..{rows.max()} reach beyond the frame's {self.shape[0]} rows")
        strip = rows // self._strip_rows
        for k in np.flatnonzero(np.bincount(strip)).tolist():
            owner = self._owner[k]
            if owner is None:
                continue
            top, left, image = owner
            at = np.flatnonzero(strip == k)
            col = cols[at] - left
            inside = (col >= 0) & (col < image.shape[1])
            at, col = at[inside], col[inside]
            out[at] = image[rows[at] - top, col]
        return out

    def to_frame(self) -> np.ndarray:
        """The frame-sized image (the strips' own rows in a zero frame)."""
        out = np.zeros(self.shape, np.float32)
        for k, owner in enumerate(self._owner):
            if owner is None:
                continue
            top, left, image = owner
            y0, y1 = k * self._strip_rows, min(self.shape[0], (k + 1) * self._strip_rows)
            out[y0:y1, left : left + image.shape[1]] = image[y0 - top : y1 - top]
        return out


def frame_evidence(
    rgb: np.ndarray,
    log_lum: np.ndarray,
    linear_lum: np.ndarray,
    data: np.ndarray,
    core: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
    *,
    shadow_side: str | None,
    side_is_known: bool,
    strip_rows: int = STRIP_ROWS,
    edged_gate: np.ndarray | None = None,
) -> tuple[np.ndarray, BandTerms | None]:
    """:func:`~railcount.detect.cars.band_strength` over a whole frame, strip by strip.

    ``data`` marks the frame's pixels with data (the strips follow it);
    ``core`` is where candidates may lie (it decides the shadow side when
    the sun does not).

    Returns the frame-sized band strength (or, when no side can be chosen
    and ``params.edged_fallback`` is on, the edged bands) and the terms,
    whose maps are :class:`StripMap` s
    reading the strips' blocks.

    With ``edged_gate`` (frame-sized, 0-1) and a known side, the strength is
    at least the edged bands (:meth:`~railcount.detect.cars.BandMaps.edged`)
    times the gate: where the sun shines along the tracks no shadow lies
    beside a car, and the gate (:func:`~railcount.detect.dashes.edged_gate`)
    says where the dash its shadow leaves along the track is near.
    """
    if side_is_known and shadow_side is not None:
        ((strength, terms),) = sided_evidence(
            rgb, log_lum, linear_lum, data, gsd_m, params, (shadow_side,), strip_rows, edged_gate
        )
        return strength, terms
    margin = math.ceil(support_m(params) / gsd_m) + 2
    sides = ("up", "down")
    blocks: list[Block] = []
    sums = np.zeros(4)
    for rows, cols, own in strips(data, margin, strip_rows):
        maps: BandMaps = band_maps(
            rgb[rows, cols], log_lum[rows, cols], linear_lum[rows, cols], gsd_m, params, own
        )
        kept = _kept_maps(maps, own, sides)
        # The side is chosen once every strip has been seen: keep both strengths until then.
        for s in sides:
            kept[f"strength_{s}"] = maps.strength(s)
        sums += maps.side_sums(core[rows, cols][own])
        if shadow_side is None and params.edged_fallback:
            kept["edged"] = maps.edged()
        blocks.append(Block(rows=rows, cols=cols, own=own, maps=kept))
    if not blocks:
        return np.zeros(data.shape, np.float32), None
    side = choose_side(sums, shadow_side, ratio=params.side_ratio, decide=not params.edged_fallback)
    if side is None:
        return StripMap(blocks, "edged", data.shape, strip_rows).to_frame(), None
    strength = StripMap(blocks, f"strength_{side}", data.shape, strip_rows).to_frame()
    return strength, _terms(blocks, side, data.shape, strip_rows, gsd_m, params)


def sided_evidence(
    rgb: np.ndarray,
    log_lum: np.ndarray,
    linear_lum: np.ndarray,
    data: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
    sides: tuple[str, ...],
    strip_rows: int = STRIP_ROWS,
    edged_gate: np.ndarray | None = None,
) -> list[tuple[np.ndarray, BandTerms | None]]:
    """The band strength and terms of a frame with the shadows on each of ``sides`` ("up", "down"):
    :func:`frame_evidence` for a known side, once per side, from one pass of
    :func:`~railcount.detect.cars.band_maps` over the strips (where the sun shines along the tracks
    the detector reads a frame with the shadows on each side in turn). The same numbers as one
    :func:`frame_evidence` call per side. The terms are None when the frame holds no data.
    """
    margin = math.ceil(support_m(params) / gsd_m) + 2
    blocks: list[Block] = []
    strengths = [np.zeros(data.shape, np.float32) for _ in sides]  # untouched pages (no data) cost no memory
    for rows, cols, own in strips(data, margin, strip_rows):
        maps: BandMaps = band_maps(
            rgb[rows, cols], log_lum[rows, cols], linear_lum[rows, cols], gsd_m, params, own
        )
        kept = _kept_maps(maps, own, sides)
        own_rows = slice(rows.start + own.start, rows.start + own.stop)
        gate = None if edged_gate is None else edged_gate[own_rows, cols]
        edged = None
        if gate is not None and gate.any():  # no dash near: no edged band is read
            edged = maps.edged()
            edged *= gate
        for s, strength in zip(sides, strengths, strict=True):
            out = strength[own_rows, cols]
            maps.strength(s, out=out)
            if edged is not None:
                np.maximum(out, edged, out=out)
        blocks.append(Block(rows=rows, cols=cols, own=own, maps=kept))
    if not blocks:
        return [(strength, None) for strength in strengths]
    return [
        (strength, _terms(blocks, s, data.shape, strip_rows, gsd_m, params))
        for s, strength in zip(sides, strengths, strict=True)
    ]


def _kept_maps(maps: BandMaps, own: slice, sides: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The maps the candidates read, for the shadows on each of ``sides``: only the strip's own rows
    (flank_dark covers the margins too); the rest of :class:`BandMaps` goes with it."""
    kept = {name: getattr(maps, name) for name in _SHARED}
    kept["flank_dark"] = maps.flank_dark[own]
    for s in sides:
        other = "down" if s == "up" else "up"
        kept[f"shade_{s}"] = maps.shade(s)
        kept[f"dark_beside_{other}"] = maps.dark_beside(other)
    return kept


def _terms(
    blocks: list[Block],
    side: str,
    shape: tuple[int, int],
    strip_rows: int,
    gsd_m: float,
    params: DetectorParams,
) -> BandTerms:
    """The :class:`~railcount.detect.cars.BandTerms` of a frame with the shadows on ``side``, read
    from the strips' blocks."""

    def frame_map(name: str) -> StripMap:
        return StripMap(blocks, name, shape, strip_rows)

    up = side == "up"
    width, offset, _ = band_geometry(gsd_m, params)
    return BandTerms(
        shadow_side=side,
        half_width_px=width / 2.0,
        flank_offset_px=offset,
        smoothness=frame_map("smoothness"),
        body_dark=frame_map("body_dark"),
        shade=frame_map(f"shade_{side}"),
        step_sun=frame_map("step_below" if up else "step_above"),
        dark_sun=frame_map("dark_beside_down" if up else "dark_beside_up"),
        step_shadow=frame_map("step_above" if up else "step_below"),
        flank_dark=frame_map("flank_dark"),
        lin=frame_map("lin"),
        sunlit=frame_map("sunlit"),
        interior=frame_map("interior"),
    )
