"""A window too large to count whole, counted in tiles that read the whole window's levels.

Each tile reaches :data:`~railcount.io.memory.TILE_OVERLAP_M` past its share of the window, and each
car is counted by the tile that holds its centre (:func:`detect_in_tiles`). Before any tile is
counted, the window is read twice, a strip at a time, to take what the detector would read from it
whole (:func:`window_stats`): its contrast stretch, its haze and snow, and its track directions. Counted
with its own, a tile of a long yard sets its contrast by its part alone and may find one of the
yard's two track directions only (see docs/loader.md, *Counted in tiles*).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
from affine import Affine

from railcount.detect.detector import (
    WindowStats,
    detect,
    direction_patches,
    near_station,
    weakest_direction_share,
)
from railcount.detect.orientation import N_BINS, direction_histogram, histogram_halo, peaks_of_histogram
from railcount.detect.params import DetectorParams, working_scale
from railcount.detect.prepare import (
    LevelCounts,
    Levels,
    level_counts,
    prepare,
    snow_counts,
    value_span,
    window_levels,
    working_shape,
    working_valid,
)
from railcount.detect.regions import REGION_GSD_M, Piece, coarse, curve_pieces
from railcount.detect.stretch import BandLifts, lifted, lifts_for
from railcount.io.memory import TILE_OVERLAP_M
from railcount.models import Detections, SceneWindow


@dataclass(frozen=True)
class Tile:
    """One tile of a window counted in tiles (:func:`tile_windows`)."""

    offset: tuple[int, int]
    """Its top-left pixel in the whole window (row, col)."""
    shape: tuple[int, int]
    """Its rows and columns."""
    share: tuple[int, int, int, int]
    """The part of the whole window whose cars it counts: rows ``[share[0], share[1])``, columns
    ``[share[2], share[3])``; the shares of a window's tiles cover it once."""

    def cut(self, window: SceneWindow) -> SceneWindow:
        """The tile's pixels out of ``window``, a window of their own (its transform places them)."""
        (top, left), (rows, cols) = self.offset, self.shape
        if (top, left) == (0, 0) and (rows, cols) == window.shape:
            return window
        part = np.s_[top : top + rows, left : left + cols]
        return dataclasses.replace(
            window,
            pixels=np.ascontiguousarray(window.pixels[part]),
            data=np.ascontiguousarray(window.data[part]),
            inside=np.ascontiguousarray(window.inside[part]),
            transform=window.transform * Affine.translation(left, top),
        )

    def own(self, scale: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """Its share in its own pixels averaged down to ``scale`` (``shape``: their rows and columns),
        as rows ``[0]:[1]`` and columns ``[2]:[3]``.

        >>> Tile((0, 1380), (1000, 1620), (0, 1000, 1500, 3000)).own(1.0, (1000, 1620))
        (0, 1000, 120, 1620)
        >>> Tile((0, 1380), (1000, 1620), (0, 1000, 1500, 3000)).own(0.5, (500, 810))
        (0, 500, 60, 810)
        """
        (top, left), (r0, r1, c0, c1) = self.offset, self.share
        rows, cols = shape
        return (
            min(rows, round((r0 - top) * scale)),
            min(rows, round((r1 - top) * scale)),
            min(cols, round((c0 - left) * scale)),
            min(cols, round((c1 - left) * scale)),
        )


def tile_windows(window: SceneWindow, grid: tuple[int, int]) -> list[Tile]:
    """The tiles (:class:`Tile`) of ``window`` cut into ``grid`` (rows, cols), each reaching
    :data:`~railcount.io.memory.TILE_OVERLAP_M` past its share on every side it shares with another
    tile. One tile: the window whole. A tile's pixels are copied out only when it is counted
    (:meth:`Tile.cut`), so that the tiles of a window never all hold a copy at once.

    >>> from rasterio.crs import CRS
    >>> from shapely.geometry import box
    >>> from railcount.models import Station
    >>> w = SceneWindow(np.zeros((1000, 3000, 3), np.uint8), np.ones((1000, 3000), bool),
    ...     np.ones((1000, 3000), bool), Affine(0.5, 0, 0, 0, -0.5, 0), CRS.from_epsg(32652), 0.5, "s",
    ...     Station("s", box(0, 0, 1, 1)))
    >>> [(t.shape, t.cut(w).transform.c, t.offset, t.share) for t in tile_windows(w, (1, 2))]
    [((1000, 1620), 0.0, (0, 0), (0, 1000, 0, 1500)), ((1000, 1620), 690.0, (0, 1380), (0, 1000, 1500, 3000))]
    """
    rows, cols = grid
    height, width = window.shape
    if rows * cols <= 1:
        return [Tile((0, 0), (height, width), (0, height, 0, width))]
    reach = math.ceil(TILE_OVERLAP_M / window.gsd_m)
    out = []
    for r0, r1 in itertools.pairwise(_cuts(height, rows)):
        for c0, c1 in itertools.pairwise(_cuts(width, cols)):
            top, bottom = max(0, r0 - reach), min(height, r1 + reach)
            left, right = max(0, c0 - reach), min(width, c1 + reach)
            out.append(Tile((top, left), (bottom - top, right - left), (r0, r1, c0, c1)))
    return out


def _cuts(size: int, parts: int) -> list[int]:
    """Where ``size`` pixels are cut into ``parts`` shares, both ends included."""
    return [round(k * size / parts) for k in range(parts + 1)]


def tile_seams(shape: tuple[int, int], grid: tuple[int, int]) -> tuple[list[int], list[int]]:
    """The rows and the columns of a window of ``shape`` where its ``grid`` tiles' shares meet (none
    for one tile), for the overlay to draw.

    >>> tile_seams((1000, 3000), (1, 2)), tile_seams((1000, 3000), (1, 1))
    (([], [1500]), ([], []))
    """
    return _cuts(shape[0], grid[0])[1:-1], _cuts(shape[1], grid[1])[1:-1]


STATS_ROWS = 256
"""Rows of the window :func:`window_stats` reads at a time (before the halo its gradients need)."""


def whole_levels(window: SceneWindow, params: DetectorParams, lifts: BandLifts) -> Levels:
    """The :class:`~railcount.detect.prepare.Levels` the detector prepares ``window`` with (lifted back
    by ``lifts``, :func:`~railcount.detect.stretch.lifts_for`): its stretch, haze and levelling, read a
    strip of :data:`STATS_ROWS` rows at a time (the histograms of the strips add up), so that the memory
    taken is a strip's. For 8- and 16-bit pixels on the file's own grid, to the bit what
    :func:`~railcount.detect.prepare.prepare` finds on the whole window; the snow share is left to
    the parts."""
    scale = working_scale(window.gsd_m, params)
    rows, cols = window.shape
    span = None if window.pixels.dtype in (np.uint8, np.uint16) else value_span(window)
    counts: LevelCounts | None = None
    for y0 in range(0, rows, STATS_ROWS):
        y1 = min(rows, y0 + STATS_ROWS)
        strip = Tile((y0, 0), (y1 - y0, cols), (y0, y1, 0, cols))
        part = lifted(strip.cut(window), lifts)
        c = level_counts(part, scale, strip.own(scale, working_shape(part.shape, scale)), span)
        counts = c if counts is None else counts + c
    assert counts is not None
    return window_levels(
        counts,
        window.value_range,
        params.haze_floor,
        params.haze_floor_ratio,
        (params.level_floor_ratio, params.level_max_median),
        from_bottom=lifts.any,
    )


def window_stats(window: SceneWindow, params: DetectorParams, lifts: BandLifts | None = None) -> WindowStats:
    """What the detector reads from the whole of ``window`` before it looks for cars
    (:class:`~railcount.detect.detector.WindowStats`), made a strip of :data:`STATS_ROWS` rows at a
    time, so that the memory it takes is a strip's, not a window's: a first pass adds up the strips'
    histograms of values and of luminance (the stretch and the haze follow from them), a second
    prepares each strip, with a halo of rows, with those, and adds up its snow, its gradient-energy
    histogram of direction (the track directions follow) and its copy at
    :data:`~railcount.detect.regions.REGION_GSD_M`, on which the directions' patches and the curve
    pieces are then found as the whole window would find them.

    Where the working grid is the file's (0.3 m imagery and coarser) and the pixels are 8- or 16-bit,
    the stretch, the haze and the snow share are the whole window's to the bit, and the histogram of
    direction adds up the same pixels' gradients. Finer imagery is averaged down strip by strip (a row
    or so differs at the strips' edges); other pixels are counted in
    :data:`~railcount.detect.prepare.FLOAT_BINS` bins over their range. ``lifts`` are the window's
    :func:`~railcount.detect.stretch.lifts_for`, read here when not given.
    """
    scale = working_scale(window.gsd_m, params)
    gsd = window.gsd_m / scale
    rows, cols = window.shape
    lifts = lifts if lifts is not None else lifts_for(window, params)
    levels = whole_levels(window, params, lifts)
    halo = math.ceil(histogram_halo(gsd) / scale)
    hist, n, grey, seen = np.zeros(N_BINS), 0, 0, 0
    smalls: list[tuple[np.ndarray, np.ndarray]] = []
    f, working_rows, working_cols = 1, 0, cols
    for y0 in range(0, rows, STATS_ROWS):
        y1 = min(rows, y0 + STATS_ROWS)
        top, bottom = max(0, y0 - halo), min(rows, y1 + halo)
        strip = Tile((top, 0), (bottom - top, cols), (y0, y1, 0, cols))
        part = lifted(strip.cut(window), lifts)
        prep = prepare(part, scale=scale, levels=levels)
        own = strip.own(scale, prep.data.shape)
        mine = np.s_[own[0] : own[1], own[2] : own[3]]
        g, v = snow_counts(prep.rgb[mine], prep.linear_lum[mine], working_valid(part, scale)[mine])
        grey, seen = grey + g, seen + v
        h, k = direction_histogram(prep.log_lum, prep.data, gsd, own=own)
        hist, n = hist + h, n + k
        # The coarse copy the track directions' patches are read on, strip by strip (a strip's rows
        # are a multiple of its factor, but for the last).
        small, ok, f = coarse(prep.log_lum[mine], prep.data[mine], gsd, REGION_GSD_M)
        smalls.append((small.copy(), ok.copy()))
        working_rows, working_cols = working_rows + own[1] - own[0], prep.data.shape[1]
    snow = grey / seen if seen else 0.0
    peaks = peaks_of_histogram(
        hist, n, max_directions=params.max_directions, min_share=weakest_direction_share(params)
    )
    patched = [False] * len(peaks)
    found: list[list[np.ndarray]] | None = None
    pieces: list[Piece] | None = None
    if params.crop_frames and peaks:
        small, ok = (np.concatenate(parts) for parts in zip(*smalls, strict=True))
        shape = (working_rows, working_cols)
        found = direction_patches(small, ok, gsd, f, shape, peaks, params)
        patched = [bool(ps) for ps in found]
        if params.curve_pieces:
            directions = [a for a, _ in peaks]
            pieces = curve_pieces(small, ok, gsd, f, shape, directions, near_station(window, small))
    # (The lift and gain of a levelled window too: each tile is levelled as the whole window.)
    return WindowStats(dataclasses.replace(levels, snow_share=snow), peaks, patched, found, pieces, lifts)


def detect_in_tiles(
    window: SceneWindow,
    tiles: list[Tile],
    params: DetectorParams,
    *,
    stats: WindowStats | None = None,
    lifts: BandLifts | None = None,
    levels_out: list[Levels] | None = None,
) -> Detections:
    """:func:`~railcount.detect.detector.detect` on each tile of ``window`` in turn, each reading the
    whole window's :func:`window_stats` (``stats``, or made here, with the window's ``lifts`` when
    given), keeping the cars whose centre lies in the tile's share, in the whole window's pixels: each
    car is counted once, by the tile that holds its centre. The whole window's levels are appended to
    ``levels_out``, as :func:`~railcount.detect.detector.detect` appends a window's."""
    stats = stats if stats is not None else window_stats(window, params, lifts)
    if levels_out is not None:
        levels_out.append(stats.levels)
    scale = working_scale(window.gsd_m, params)
    parts = []
    for t in tiles:
        (top, left), (rows, cols) = t.offset, working_shape(t.shape, scale)
        dets = detect(t.cut(window), params, stats=stats.in_tile(left * scale, top * scale, cols, rows))
        if not len(dets):
            continue
        center = dets.center + np.array(t.offset, float)
        r0, r1, c0, c1 = t.share
        mine = (center[:, 0] >= r0) & (center[:, 0] < r1) & (center[:, 1] >= c0) & (center[:, 1] < c1)
        parts.append(dataclasses.replace(dets, center=center).subset(mine))
    return Detections.concat(parts) if parts else Detections.empty()
