"""Describe what kind of railcar each candidate is, and how high it stands.

The type of a car shows from above in a few ways, and these measurements
are made for a fitted model (:mod:`railcount.detect.type_model`) to combine:

* **height**, from its shadow: a covered hopper or boxcar (4-4.6 m) throws a
  shadow two to four times as long as an empty flat car (1.2 m). The extent
  of solid shadow beyond the car's shadow-side edge, divided by how far a
  metre of height throws a shadow across the track at this sun elevation
  and azimuth, estimates the height. A neighbouring car cuts a long shadow
  short, which the model sees as a lower estimate, not as a wrong type;
* **the cross-track profile** of the roof's brightness relative to the
  sunlit ground: a tank's cylinder is lit on the sun side and shaded on
  the other (a slope), an open car's floor lies below its sunlit rims and
  its sun-side wall shades the floor beside it (a dip), a flat roof is even;
* **unevenness along the car**: coal, ore, scrap and tarped loads are lumpy;
  roofs and containers are not;
* **colour**: the chromaticity of the body.

Measurements are means over the middle 80 % of each car, read from the
frame maps the band evidence already made (no further filtering).
"""

from __future__ import annotations

import functools
import math
from importlib import resources

import numpy as np

from railcount.detect.boost import Forest, forests_from_bytes
from railcount.detect.candidates import CONTEXT_FEATURES, FEATURES
from railcount.detect.cars import BandTerms, FrameCars, FrameMap
from railcount.detect.means import SegmentBatch, pixels_at, segment_pixels, segment_stds
from railcount.detect.params import to_px
from railcount.models import RAILCAR_TYPES

N_ACROSS = 6
TYPE_FEATURES = (
    "shadow_extent_m",  # solid shadow beyond the shadow-side edge, metres (area under darkness)
    "height_m",  # shadow_extent_m / (cross-track shadow per metre of height), capped at 8 m
    "cross_slope",  # sun-side third minus shadow-side third of the body, / sunlit level
    "cross_dip",  # outer quarters minus the middle half of the body, / sunlit level
    "cross_spread",  # std of the cross-track profile of the body, / sunlit level
    "rough_along",  # std of 2 m bins along the middle of the body, / sunlit level
    "chroma_r",  # r / (r + g + b) of the body
    "chroma_b",  # b / (r + g + b) of the body
    "chroma_g",  # g / (r + g + b) of the body
    "mottle",  # std over the body of luminance minus its row means, / sunlit level (drapes, lumps)
    *(f"across_{k}" for k in range(N_ACROSS)),  # the cross-track profile / sunlit level, sun side first
)
MAX_SHADOW_M = 8.0
SHADOW_STEP_M = 0.25


def type_features(
    terms: BandTerms,
    lin: np.ndarray,
    cars: FrameCars,
    gsd_m: float,
    shadow_per_height_m: float,
) -> np.ndarray:
    """One row of :data:`TYPE_FEATURES` per car (frame pixel units in).

    ``lin`` is the frame's linear luminance before any smoothing (the
    along-track texture of a load is what smoothing removes).
    ``shadow_per_height_m`` is how many metres across the track a metre of
    height throws its shadow (``|across| / tan(elevation)``).

    Every mean is numpy's float32 mean of its slice of a map, to the bit:
    the stretches of all cars are averaged together (:mod:`.means`), and the
    few per-car steps left (a short sum, an interpolation) are numpy's own.
    A car too near the frame's edge, or under 2 px long, has a NaN row.
    """
    up = terms.shadow_side == "up"
    sign = -1 if up else 1
    hw = terms.half_width_px
    rows, cols = lin.shape
    offsets = np.arange(0.0, MAX_SHADOW_M, SHADOW_STEP_M)
    shadow_rows = np.round(hw + offsets / gsd_m).astype(int)
    bin_px = to_px(2.0, gsd_m)
    pad = to_px(0.5, gsd_m)
    out = np.full((cars.x.size, len(TYPE_FEATURES)), np.nan)
    r = np.array([round(y) for y in cars.y.tolist()], np.int64)
    a = np.maximum(0.0, cars.x - 0.4 * cars.length).astype(np.int64)
    b = np.minimum(cols, np.maximum(a + 1, cars.x + 0.4 * cars.length + 1)).astype(np.int64)
    half = math.floor(hw)
    keep = (r - half >= 0) & (r + half + 1 <= rows) & (b - a >= 2)
    if not keep.any():
        return out
    r, a, b = r[keep], a[keep], b[keep]
    n, width = r.size, b - a
    span = 2 * half + 1  # rows of the body, r - half .. r + half
    body_rows = (r[:, None] + np.arange(-half, half + 1)).ravel()  # car-major
    first = SegmentBatch()
    sunlit_at = _stretches(first, terms.sunlit, r, a, b)
    body_at = _stretches(first, lin, body_rows, np.repeat(a, span), np.repeat(b, span))
    # Shadow beyond the shadow-side edge: each offset's row, where it lies in the frame.
    srows = r[:, None] + sign * shadow_rows[None, :]
    shade_in = (srows >= 0) & (srows < rows)
    k = offsets.size
    dark_at = _stretches(
        first,
        terms.flank_dark,
        srows[shade_in],
        np.repeat(a, k)[shade_in.ravel()],
        np.repeat(b, k)[shade_in.ravel()],
    )
    # The profile from half a metre outside the sun-side edge to the shadow-side edge.
    w0 = r - half if up else np.maximum(0, r - half - pad)
    w1 = np.minimum(rows, r + half + 1 + pad) if up else r + half + 1
    wide_n = w1 - w0
    wide_rows = np.concatenate([np.arange(p, q) for p, q in zip(w0.tolist(), w1.tolist(), strict=True)])
    wide_at = _stretches(first, lin, wide_rows, np.repeat(a, wide_n), np.repeat(b, wide_n))
    # The colour of the body's middle row, one channel at a time (numpy sums (W, 3) down its rows in order).
    colour = _column_means(pixels_at(terms.interior, *_row_pixels(r, a, b)), width)
    first.compute()
    sunlit = np.maximum(first.means(sunlit_at).astype(np.float64), 1e-3)
    s32 = sunlit.astype(np.float32)  # how numpy divides a float32 map by that Python float
    row_means = first.means(body_at).reshape(n, span)
    prof = row_means / s32[:, None]
    if up:  # ordered from the sun side to the shadow side
        prof = prof[:, ::-1]
    prof = np.ascontiguousarray(prof)
    third = max(1, span // 3)
    quarter = max(1, span // 4)
    middle = (quarter, span - quarter) if span > 2 * quarter else (0, span)
    second = SegmentBatch()
    pieces = [(0, third), (span - third, span), (0, quarter), (span - quarter, span), middle]
    piece_at = [second.add(prof[:, p:q].ravel(), np.full(n, q - p)) for p, q in pieces]
    # Unevenness along the middle half of the body: 2 m bins of the column means of its rows.
    qrow = max(1, round(hw / 2))
    line = _column_means_of_rows(lin, r, a, b, qrow) / np.repeat(s32, width)
    nb = width // bin_px
    binned = nb >= 2
    line_starts = np.concatenate([[0], np.cumsum(width)[:-1]])
    bin_rows = [line_starts[i] + np.arange(nb[i] * bin_px) for i in np.flatnonzero(binned).tolist()]
    bins_at = second.add(
        line[np.concatenate(bin_rows)] if bin_rows else np.zeros(0, np.float32),
        np.full(int(nb[binned].sum()), bin_px),
    )
    second.compute()
    t0, t1, q0, q1, mid = (second.means(w) for w in piece_at)
    slope = t0 - t1
    dip = 0.5 * (q0 + q1) - mid
    spread = segment_stds(prof.ravel(), np.full(n, span))
    rough = np.zeros(n)
    if binned.any():
        rough[binned] = segment_stds(second.means(bins_at), nb[binned])
    # Mottle: the body less its row means, its spread over every pixel.
    pixels = pixels_at(lin, *_row_pixels(body_rows, np.repeat(a, span), np.repeat(b, span)))
    deviation = pixels - np.repeat(row_means.ravel(), np.repeat(width, span))
    body_from = np.concatenate([[0], np.cumsum(width * span)])
    dark = np.zeros((n, k))
    dark[shade_in] = first.means(dark_at)
    wide_means = first.means(wide_at)
    wide_from = np.concatenate([[0], np.cumsum(wide_n)[:-1]])
    rows_out = np.empty((n, len(TYPE_FEATURES)))
    samples: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per profile length, where it is sampled
    for i in range(n):
        # Stop at the first offset where the shadow has clearly ended.
        d = dark[i]
        ended = np.flatnonzero(d < 0.25)
        if ended.size:
            d[ended[0] :] = 0.0
        extent = float(d.sum() * SHADOW_STEP_M)
        height = min(MAX_SHADOW_M, extent / max(shadow_per_height_m, 0.05))
        total = max(float(colour[i].sum()), 1e-3)
        wide = wide_means[wide_from[i] : wide_from[i] + wide_n[i]]
        wide = (wide[::-1] if up else wide) / s32[i]
        # Sampled at N_ACROSS evenly spaced points (interpolated: at 1 m the profile is only 4 px).
        if wide.size not in samples:
            samples[wide.size] = (np.linspace(0.0, wide.size - 1.0, N_ACROSS), np.arange(wide.size))
        across = np.interp(*samples[wide.size], wide)
        # The body less its row means: its spread over every pixel (numpy's std of that block).
        mottle = float(deviation[body_from[i] : body_from[i + 1]].std())
        rows_out[i] = [
            extent,
            height,
            float(slope[i]),
            float(dip[i]),
            float(spread[i]),
            float(rough[i]),
            *(colour[i, [0, 2, 1]] / np.float32(total)),
            mottle / float(sunlit[i]),
            *across,
        ]
    out[keep] = rows_out
    return out


def _stretches(batch: SegmentBatch, image: FrameMap, rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> slice:
    """Register the stretches ``image[rows[i], a[i]:b[i]]`` (rows inside the frame) in ``batch``."""
    return batch.add(pixels_at(image, *_row_pixels(rows, a, b)), b - a)


def _row_pixels(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of every pixel of the stretches, in order."""
    pr, pc, _ = segment_pixels(np.asarray(rows, np.int64), np.asarray(a, np.int64), np.asarray(b, np.int64))
    return pr, pc


def _column_means(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per segment of rows of ``values`` (n_pixels, channels), the mean of each channel, as numpy's
    ``.mean(axis=0)`` of that (count, channels) block makes it: the rows added one by one in order, then
    divided by the count (float32)."""
    counts = np.asarray(counts, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = values[starts].copy()
    for j in range(1, int(counts.max())):
        more = counts > j
        total[more] = total[more] + values[starts[more] + j]
    return total / counts.astype(np.float32)[:, None]


def _column_means_of_rows(lin: np.ndarray, r: np.ndarray, a: np.ndarray, b: np.ndarray, q: int) -> np.ndarray:
    """Per car, ``lin[r - q : r + q + 1, a:b].mean(axis=0)`` laid one car after another (float32): the rows
    added one by one in order, then divided by their number, as numpy reduces down a block's rows."""
    total = pixels_at(lin, *_row_pixels(r - q, a, b)).astype(np.float32)
    for j in range(-q + 1, q + 1):
        total = total + pixels_at(lin, *_row_pixels(r + j, a, b))
    return total / np.float32(2 * q + 1)


def shadow_per_height(elevation_deg: float, across: float) -> float:
    """Metres across the track that one metre of height throws its shadow."""
    return abs(across) / max(math.tan(math.radians(max(elevation_deg, 1.0))), 1e-3)


TYPE_CLASSES = RAILCAR_TYPES
"""The classes the type model tells apart: tank cars; covered hoppers and boxcars;
open cars (gondolas); flat cars, empty or loaded (containers, timber, tarped loads)."""
NOT_SQUARED = ("gsd_m", "by_pitch", "sun_elevation")
"""Model inputs that enter the type model only linearly."""
_SQUARED = [
    i
    for i, name in enumerate(FEATURES + TYPE_FEATURES)
    if name not in NOT_SQUARED and name not in CONTEXT_FEATURES
]


def type_design(features: np.ndarray, types: np.ndarray) -> np.ndarray:
    """Type-model inputs: car features, type features, then the squares of all but :data:`NOT_SQUARED`."""
    x = np.column_stack(
        [
            np.asarray(features, float).reshape(-1, len(FEATURES)),
            np.asarray(types, float).reshape(-1, len(TYPE_FEATURES)),
        ]
    )
    return np.column_stack([x, x[:, _SQUARED] ** 2])


def type_probabilities(
    features: np.ndarray, types: np.ndarray, gsd_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per car, the probability of each of :data:`TYPE_CLASSES` (n, 4, one-vs-rest) and of a tarped load (n,).

    The models of the GSD's regime (gaps visible or not) are used: boosted
    trees (:mod:`railcount.detect.boost`) on the car features and the type
    features, since detector 0.6.17 (logistic models with squared terms
    before). They are fitted by ``benchmarks/fit_car_model.py``; see
    :mod:`railcount.detect.type_model`.
    """
    from railcount.detect import type_model

    regime = "fine" if gsd_m <= type_model.FINE_MAX_GSD_M else "coarse"
    forests = type_forests()
    x = np.column_stack(
        [
            np.asarray(features, float).reshape(-1, len(FEATURES)),
            np.asarray(types, float).reshape(-1, len(TYPE_FEATURES)),
        ]
    )
    probs = np.column_stack([forests[f"{regime}/{c}"].probability(x) for c in TYPE_CLASSES])
    return probs, forests[f"{regime}/tarped"].probability(x)


TYPE_MODEL_NAMES = tuple(
    f"{regime}/{name}" for regime in ("fine", "coarse") for name in (*TYPE_CLASSES, "tarped")
)
"""The type model's forests: one per GSD regime and class, and one per regime for a tarped load."""


@functools.lru_cache(maxsize=1)
def type_forests() -> dict[str, Forest]:
    """The shipped type models (read once): ``"REGIME/NAME"`` -> forest, for each of :data:`TYPE_MODEL_NAMES`.

    Refuses a file fitted on other feature lists or missing a model.
    """
    from railcount.detect import type_model

    if tuple(type_model.FEATURES) != FEATURES + TYPE_FEATURES:
        raise RuntimeError("the fitted type model does not match the feature lists; rerun fit_car_model.py")
    data = resources.files("railcount.detect").joinpath(type_model.FORESTS_FILE).read_bytes()
    forests = forests_from_bytes(data)
    if set(forests) != set(TYPE_MODEL_NAMES):
        raise RuntimeError(
            f"{type_model.FORESTS_FILE} holds {sorted(forests)}, not the type models; rerun fit_car_model.py"
        )
    return forests
