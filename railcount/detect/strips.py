"""The band evidence of a track frame, computed strip by strip.

A track frame is the window rotated so the tracks run along its rows. For a
window at an angle, the frame's bounding box is up to twice the window, and
its corners hold no data. Filtering the whole frame at once wastes that
area and makes dozens of frame-sized temporary images (tens of megabytes
each), which costs page faults as much as arithmetic.

So the frame is cut into horizontal strips. Each strip is extended by
:data:`~railcount.detect.cars.SUPPORT_M` above and below and cropped to the
columns where it has data (plus the same margin), its maps are computed
with :func:`~railcount.detect.cars.band_maps`, and the strip's own rows are
copied into frame-sized outputs. Every map is local to within
``SUPPORT_M``, so the result is the one the whole frame would give (to
float32 rounding: OpenCV's box filters keep running sums from each block's
edge, so a few pixels differ in the last bit); the outputs are only written
where there is data, so the empty corners never take memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from railcount.detect.cars import SUPPORT_M, BandMaps, BandTerms, band_geometry, band_maps, choose_side
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
) -> tuple[np.ndarray, BandTerms | None]:
    """:func:`~railcount.detect.cars.band_strength` over a whole frame, strip by strip.

    ``data`` marks the frame's pixels with data (the strips follow it);
    ``core`` is where candidates may lie (it decides the shadow side when
    the sun does not).
    """
    margin = math.ceil(SUPPORT_M / gsd_m) + 2
    known = side_is_known and shadow_side is not None
    sides: list[str] = [shadow_side] if known and shadow_side is not None else ["up", "down"]
    out: dict[str, np.ndarray] = {}
    sums = np.zeros(4)

    def put(name: str, block: np.ndarray, rows: slice, cols: slice, own: slice) -> None:
        if name not in out:
            shape = data.shape + block.shape[2:]
            out[name] = np.zeros(shape, np.float32)  # untouched pages (no data) cost no memory
        out[name][rows, cols] = block[own]

    for rows, cols, own in strips(data, margin, strip_rows):
        maps: BandMaps = band_maps(
            rgb[rows, cols], log_lum[rows, cols], linear_lum[rows, cols], gsd_m, params
        )
        frame_rows = slice(rows.start + own.start, rows.start + own.stop)
        for name in _SHARED:
            put(name, getattr(maps, name), frame_rows, cols, own)
        for s in sides:
            other = "down" if s == "up" else "up"
            put(f"strength_{s}", maps.strength(s), frame_rows, cols, own)
            put(f"shade_{s}", maps.shade(s), frame_rows, cols, own)
            put(f"dark_beside_{other}", maps.dark_beside(other), frame_rows, cols, own)
        if not known:
            mine = np.zeros(core[rows, cols].shape, bool)
            mine[own] = core[rows, cols][own]
            sums += maps.side_sums(mine)
            if shadow_side is None:
                put("edged", maps.edged(), frame_rows, cols, own)
    if not out:
        return np.zeros(data.shape, np.float32), None
    side = shadow_side if known else choose_side(sums, shadow_side)
    if side is None:
        return out["edged"], None
    up = side == "up"
    width, offset, _ = band_geometry(gsd_m, params)
    terms = BandTerms(
        shadow_side=side,
        half_width_px=width / 2.0,
        flank_offset_px=offset,
        smoothness=out["smoothness"],
        body_dark=out["body_dark"],
        shade=out[f"shade_{side}"],
        step_sun=out["step_below"] if up else out["step_above"],
        dark_sun=out["dark_beside_down" if up else "dark_beside_up"],
        step_shadow=out["step_above"] if up else out["step_below"],
        flank_dark=out["flank_dark"],
        lin=out["lin"],
        sunlit=out["sunlit"],
        interior=out["interior"],
    )
    return out[f"strength_{side}"], terms
