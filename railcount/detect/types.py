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

import math

import numpy as np

from railcount.detect.candidates import CONTEXT_FEATURES, FEATURES, logistic
from railcount.detect.cars import BandTerms, FrameCars
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
    for i, (x, y, length) in enumerate(zip(cars.x, cars.y, cars.length, strict=True)):
        r = round(y)
        a = int(max(0, x - 0.4 * length))
        b = int(min(cols, max(a + 1, x + 0.4 * length + 1)))
        r0, r1 = r - math.floor(hw), r + math.floor(hw) + 1
        if r0 < 0 or r1 > rows or b - a < 2:
            continue
        sunlit = max(float(terms.sunlit[r, a:b].mean()), 1e-3)
        # Cross-track profile of the body, ordered from the sun side to the shadow side.
        prof = lin[r0:r1, a:b].mean(axis=1) / sunlit
        if up:
            prof = prof[::-1]
        third = max(1, prof.size // 3)
        quarter = max(1, prof.size // 4)
        slope = float(prof[:third].mean() - prof[-third:].mean())
        middle = prof[quarter:-quarter] if prof.size > 2 * quarter else prof
        dip = float(0.5 * (prof[:quarter].mean() + prof[-quarter:].mean()) - middle.mean())
        spread = float(prof.std())
        # Shadow beyond the shadow-side edge: area under the darkness curve.
        srows = r + sign * shadow_rows
        inside = (srows >= 0) & (srows < rows)
        dark = np.zeros(offsets.size)
        dark[inside] = terms.flank_dark[srows[inside], a:b].mean(axis=1)
        # Stop at the first offset where the shadow has clearly ended.
        ended = np.flatnonzero(dark < 0.25)
        if ended.size:
            dark[ended[0] :] = 0.0
        extent = float(dark.sum() * SHADOW_STEP_M)
        height = min(MAX_SHADOW_M, extent / max(shadow_per_height_m, 0.05))
        # Unevenness along the middle half of the body.
        qrow = max(1, round(hw / 2))
        line = lin[r - qrow : r + qrow + 1, a:b].mean(axis=0) / sunlit
        nb = line.size // bin_px
        rough = float(np.std(line[: nb * bin_px].reshape(nb, bin_px).mean(axis=1))) if nb >= 2 else 0.0
        colour = terms.interior[r, a:b].mean(axis=0)
        total = max(float(colour.sum()), 1e-3)
        # The profile from half a metre outside the sun-side edge to the shadow-side edge, in bins.
        if up:  # the sun side is below: read down to half a metre past it, then reverse
            wide = lin[r0 : min(rows, r1 + pad), a:b].mean(axis=1)[::-1] / sunlit
        else:
            wide = lin[max(0, r0 - pad) : r1, a:b].mean(axis=1) / sunlit
        # Sampled at N_ACROSS evenly spaced points (interpolated: at 1 m the profile is only 4 px).
        bins = np.interp(np.linspace(0.0, wide.size - 1.0, N_ACROSS), np.arange(wide.size), wide)
        body = lin[r0:r1, a:b]
        mottle = float((body - body.mean(axis=1, keepdims=True)).std()) / sunlit
        out[i] = [extent, height, slope, dip, spread, rough, *(colour[[0, 2, 1]] / total), mottle, *bins]
    return out


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

    The models of the GSD's regime (gaps visible or not) are used; they are
    fitted by ``benchmarks/fit_car_model.py`` and live in
    :mod:`railcount.detect.type_model`.
    """
    from railcount.detect import type_model

    if tuple(type_model.FEATURES) != FEATURES + TYPE_FEATURES:
        raise RuntimeError("the fitted type model does not match the feature lists; rerun fit_car_model.py")
    regime = "fine" if gsd_m <= type_model.FINE_MAX_GSD_M else "coarse"
    x = type_design(features, types)
    mean, scale = np.asarray(type_model.MEAN[regime]), np.asarray(type_model.SCALE[regime])

    def prob(name: str) -> np.ndarray:
        return logistic(x, np.asarray(type_model.WEIGHTS[regime][name]), mean, scale)

    return np.column_stack([prob(c) for c in TYPE_CLASSES]), prob("tarped")
