"""Describe each candidate car by what the band evidence saw along it, and score it.

The band evidence (:func:`~railcount.detect.cars.band_strength`) finds more
candidates than there are cars: the strip of ballast beside a dark car,
bands inside wide winter shadows, trucks beside the yard. What separates
them is not one threshold but the combination of a dozen measurements
(how dark the body is against the sunlit ground, how uneven the roof, how
solid the shadow, whether the dark band goes on a car width further...).

Boosted decision trees (:mod:`railcount.detect.boost`) combine them: 200
trees of depth 4 whose splits and leaf values live in
:mod:`railcount.detect.car_model`, written by ``benchmarks/fit_car_model.py``
from the candidates of the ``tuned`` generated suites (plain and v2) and of
tuned look-alike blocks (site ``town``, all negatives). They are numbers in
the source, fitted by a script in the repository; nothing is
downloaded. The locomotive model is a logistic model with squared terms
(:func:`design`, :func:`fit_logistic`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from railcount.detect.boost import Forest
from railcount.detect.cars import BandTerms, FrameCars, FrameMap
from railcount.detect.means import SegmentBatch, pixels_at, segment_pixels, segment_stds

BASE_FEATURES = (
    "strength",  # the band evidence
    "smoothness",  # 1 - roof texture / limit
    "body_dark",  # shadow-dark share of the body band
    "shade",  # solid shadow beyond the shadow-side edge
    "step_sun",  # colour step to the sun-side flank
    "dark_sun",  # shadow-dark share of the sun-side flank
    "step_shadow",  # colour step to the shadow-side flank
    "saturation",  # (max - min) / max of the body colour
    "rel_lum",  # body luminance / sunlit ground level
    "log_length",  # log of the car length in metres
    "run_score",  # mean band strength of the run it came from
    "lum_spread",  # std of luminance along the centreline / sunlit level
    "sun_flank_rel",  # sun-side flank luminance / sunlit level
    "dark_far_shadow",  # darkness 1.5 car widths out on the shadow side
    "dark_far_sun",  # darkness 1.5 car widths out on the sun side
    "gsd_m",
    "by_pitch",  # 1 when the piece was counted by pitch
    "sun_elevation",  # degrees
)
GSD_DECIMALS = 2
"""The ``gsd_m`` input is rounded to this many decimals (metres): see :func:`car_features`."""
SUN_ELEVATION_RANGE_DEG = (23.0, 65.0)
"""The ``sun_elevation`` input is clipped to this range (degrees). The generated
yards all stand at one latitude (Tumangang, 42.4 N) in mid-morning, so their sun
is 20-69 degrees high, while the look-alike blocks lie anywhere from 28 to 56 N
at any hour (10-77 degrees). Fed the raw value, the trees learned that a sun
under 19.6 degrees means no yard, and a real winter scene under such a sun lost
nearly all its cars (session 19, docs/detector.md). The bounds lie inside the
yards' range, so that the yards at each end (about 6 % under 23 degrees, 7 %
over 65) share the clipped value with the blocks beyond it and no split can
single the blocks out. Outside the range the models treat the sun as at the
bound: the generated yards teach them nothing there."""
CONTEXT_OFFSETS_M = (1.0, 2.0, 3.0, 4.5, 6.0)
"""Cross-track distances (metres, each side) at which the context profile is read."""

CONTEXT_FEATURES = (
    *(f"ctx_smooth_{side}{d:g}" for side in ("shadow", "sun") for d in CONTEXT_OFFSETS_M),
    *(f"ctx_rel_{side}{d:g}" for side in ("shadow", "sun") for d in CONTEXT_OFFSETS_M),
    *(f"ctx_dark_{side}{d:g}" for side in ("shadow", "sun") for d in CONTEXT_OFFSETS_M),
    "ext_smooth_min",  # smoothness just beyond the car's ends (the smoother and the rougher end)
    "ext_smooth_max",
    "ext_rel_min",  # luminance / sunlit level just beyond the ends
    "ext_rel_max",
)
"""What lies around a candidate: a cross-track profile of roof smoothness,
relative luminance and shadow-dark share out to two track spacings on each
side (shadow side and sun side told apart), and what the centreline meets
just beyond the car's ends. A truck on a road has smooth asphalt beside it
and no rails beyond its ends; a car in a yard has ballast, neighbouring
tracks and often its coupled neighbour. These enter the models linearly."""

YARD_FEATURES = ("rail_pair",)
"""Whether the candidate stands in a yard: the strongest pair of thin dark lines a
rail gauge apart (1.435 m) on a neighbouring track 3-7 m to either side, in the
cross-track profile of log luminance averaged along the car (averaging along
the track keeps lines parallel to it and washes out grain). Roofs, grass and
asphalt have none; at 0.75-1.0 m rails are below the pixel and it is near 0
everywhere."""

FEATURES: tuple[str, ...] = (*BASE_FEATURES, *CONTEXT_FEATURES, *YARD_FEATURES)
N_SQUARED = 15
"""The first N_SQUARED features also enter squared (the context features do not)."""


def car_features(
    terms: BandTerms,
    strength: np.ndarray,
    cars: FrameCars,
    gsd_m: float,
    sun_elevation_deg: float,
    log_lum: np.ndarray,
) -> np.ndarray:
    """One row of :data:`FEATURES` per car: means along the middle 80 % of its centreline.

    Each mean is numpy's float32 mean of its stretch of row, to the bit;
    the stretches of all cars are averaged together (:mod:`.means`).
    """
    n = cars.x.size
    out = np.empty((n, len(FEATURES)))
    if not n:
        return out
    up = terms.shadow_side == "up"
    sign = -1 if up else 1
    far = round(3.0 * terms.half_width_px)
    flank = round(terms.flank_offset_px)
    rows, cols = strength.shape
    # Cross-track offsets of the rows each map is read at (the context rows last:
    # the shadow side first, then the sun side).
    context = [side * round(d / gsd_m) for side in (sign, -sign) for d in CONTEXT_OFFSETS_M]
    smooth_rows = np.array([0, *context])
    rel_rows = np.array([0, -sign * flank, *context])
    dark_rows = np.array([sign * far, -sign * far, *context])
    # Each car's row and the middle 80 % of it (as int(), round() and min/max make them one by one).
    r = np.clip(np.round(cars.y), 0, rows - 1).astype(np.int64)
    a = np.maximum(0.0, cars.x - 0.4 * cars.length).astype(np.int64)
    b = np.minimum(cols, np.maximum(a + 1, cars.x + 0.4 * cars.length + 1)).astype(np.int64)

    # Every mean below is summed in one batch (:class:`.means.SegmentBatch`): the same bits, one call.
    batch = SegmentBatch()

    def beside(offsets: np.ndarray, image: FrameMap, divide_by: FrameMap | None = None) -> _Stretches:
        """Means at ``r + offsets`` (n, len(offsets)); 0 for rows outside the frame."""
        k = offsets.size
        rows_k = (r[:, None] + offsets).ravel()
        return _Stretches.of(batch, image, rows_k, np.repeat(a, k), np.repeat(b, k), divide_by)

    smooth_at = beside(smooth_rows, terms.smoothness)
    rel_at = beside(rel_rows, terms.lin, terms.sunlit)
    dark_at = beside(dark_rows, terms.flank_dark)
    maps = (strength, terms.body_dark, terms.shade, terms.step_sun, terms.dark_sun, terms.step_shadow)
    maps_at = [_Stretches.of(batch, m, r, a, b) for m in maps]
    # The pixels along each car's own row, for the colour and the luminance spread.
    pr, pc, _ = segment_pixels(r, a, b)
    counts = b - a
    colour = pixels_at(terms.interior, pr, pc)
    top, bottom = colour.max(axis=1), colour.min(axis=1)
    saturation_at = batch.add((top - bottom) / np.maximum(top, 1e-3), counts)
    sunlit_at = batch.add(np.maximum(pixels_at(terms.sunlit, pr, pc), 1e-3), counts)
    lum = pixels_at(terms.lin, pr, pc)
    lum_at = batch.add(lum, counts)
    ends_at = _ends_stretches(batch, terms, r, cars.x, cars.length)
    batch.compute()
    smooth = smooth_at.means(batch).reshape(n, -1)
    rel = rel_at.means(batch).reshape(n, -1)
    dark = dark_at.means(batch).reshape(n, -1)
    means = np.column_stack([m.means(batch) for m in maps_at])
    saturation = batch.means(saturation_at)
    sunlit = batch.means(sunlit_at)
    spread = segment_stds(lum, counts, mean=batch.means(lum_at))
    ends = _ends(ends_at, batch, r.size)
    out[:, 0] = means[:, 0]
    out[:, 1] = smooth[:, 0]
    out[:, 2:7] = means[:, 1:]
    out[:, 7] = saturation
    out[:, 8] = rel[:, 0]
    out[:, 10] = cars.score
    out[:, 12] = rel[:, 1]
    out[:, 13:15] = dark[:, :2]
    # To the centimetre: the generated yards share one GSD to the micrometre (one place,
    # one projection) and every look-alike block has its own, and the trees learned to tell
    # them apart by the sixth decimal (session 18); no real sensor's GSD means that.
    out[:, 15] = round(gsd_m, GSD_DECIMALS)
    # Clipped inside the generated yards' range (see SUN_ELEVATION_RANGE_DEG).
    out[:, 17] = min(max(sun_elevation_deg, SUN_ELEVATION_RANGE_DEG[0]), SUN_ELEVATION_RANGE_DEG[1])
    n_context = len(context)
    out[:, 18 : 18 + n_context] = smooth[:, 1:]
    out[:, 18 + n_context : 18 + 2 * n_context] = rel[:, 2:]
    out[:, 18 + 2 * n_context : 18 + 3 * n_context] = dark[:, 2:]
    out[:, 18 + 3 * n_context : 22 + 3 * n_context] = ends
    for i, (length, method) in enumerate(zip(cars.length, cars.method, strict=True)):
        out[i, 9] = np.log(max(length * gsd_m, 1.0))
        out[i, 11] = float(spread[i] / max(float(sunlit[i]), 1e-3))
        out[i, 16] = float(method == "pitch")
        out[i, -1] = rail_pair(log_lum, int(r[i]), int(a[i]), int(b[i]), gsd_m)
    return out


def _ends_stretches(
    batch: SegmentBatch, terms: BandTerms, r: np.ndarray, x: np.ndarray, length: np.ndarray
) -> list[tuple[int, np.ndarray, _Stretches, _Stretches]]:
    """Register the stretches just past each car's two ends (smoothness, luminance) for :func:`_ends`."""
    cols = terms.lin.shape[1]
    reach = np.array([max(2, round(0.25 * v)) for v in length.tolist()], np.int64)
    first = np.trunc(x - 0.5 * length).astype(np.int64)
    last = np.trunc(x + 0.5 * length).astype(np.int64) + 1
    out = []
    for end, (e0, e1) in enumerate(((first - reach, first), (last, last + reach))):
        e0, e1 = np.maximum(0, e0), np.minimum(cols, e1)
        seen = e1 - e0 >= 1
        if seen.any():
            at = (r[seen], e0[seen], e1[seen])
            out.append(
                (
                    end,
                    seen,
                    _Stretches.of(batch, terms.smoothness, *at),
                    _Stretches.of(batch, terms.lin, *at, terms.sunlit),
                )
            )
    return out


def _ends(
    stretches: list[tuple[int, np.ndarray, _Stretches, _Stretches]], batch: SegmentBatch, n: int
) -> np.ndarray:
    """The ``ext_*`` :data:`CONTEXT_FEATURES` of cars, (n, 4): smoothness and luminance past their ends."""
    means = np.zeros((n, 2, 2))  # car, end (before, after), (smoothness, luminance)
    for end, seen, smooth, lum in stretches:
        means[seen, end, 0] = smooth.means(batch)
        means[seen, end, 1] = lum.means(batch)
    out = np.empty((n, 4))
    for i, ((s0, l0), (s1, l1)) in enumerate(means.tolist()):
        out[i] = [min(s0, s1), max(s0, s1), min(l0, l1), max(l0, l1)]
    return out


RAIL_GAUGE_M = 1.435
NEIGHBOUR_TRACK_M = (3.0, 7.0)


def rail_pair(log_lum: np.ndarray, row: int, a: int, b: int, gsd_m: float) -> float:
    """:data:`YARD_FEATURES`: the rail-pair response of the neighbouring tracks of a car (frame pixels)."""
    reach = round((NEIGHBOUR_TRACK_M[1] + 1.5) / gsd_m)
    r0, r1 = max(0, row - reach), min(log_lum.shape[0], row + reach + 1)
    if r1 - r0 < 5 or b <= a:
        return 0.0
    profile = np.asarray(log_lum[r0:r1, a:b], dtype=float).mean(axis=1)
    line = profile[:-2] + profile[2:] - 2.0 * profile[1:-1]  # a thin dark line: positive
    offsets = (np.arange(line.size) + 1 + r0 - row).astype(float)
    half_gauge = 0.5 * RAIL_GAUGE_M / gsd_m
    far = round(NEIGHBOUR_TRACK_M[1] / gsd_m)
    centres = np.arange(-2 * far, 2 * far + 1) / 2.0  # track centres every half pixel
    centres = centres[np.abs(centres) * gsd_m >= NEIGHBOUR_TRACK_M[0]]
    left = np.interp(centres - half_gauge, offsets, line, left=0.0, right=0.0)
    right = np.interp(centres + half_gauge, offsets, line, left=0.0, right=0.0)
    return float(max(0.0, np.minimum(left, right).max())) if centres.size else 0.0


@dataclasses.dataclass(frozen=True)
class _Stretches:
    """Stretches of rows of a frame map registered in a :class:`.means.SegmentBatch`."""

    size: int
    inside: np.ndarray  # which stretches' rows lie inside the frame (the others read 0)
    where: slice | None  # their place in the batch's results

    @classmethod
    def of(
        cls,
        batch: SegmentBatch,
        image: FrameMap,
        rows: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        divide_by: FrameMap | None = None,
    ) -> _Stretches:
        """Register ``image[rows[i], a[i]:b[i]]`` (divided pixel by pixel by ``max(divide_by, 1e-3)``).

        Every ``b[i] > a[i]``. Each mean is, to the bit, numpy's float32 mean of
        that stretch (:mod:`.means`).
        """
        inside = (rows >= 0) & (rows < image.shape[0])
        if not inside.any():
            return cls(rows.size, inside, None)
        pr, pc, _ = segment_pixels(rows[inside], a[inside], b[inside])
        values = pixels_at(image, pr, pc)
        if divide_by is not None:
            values = values / np.maximum(pixels_at(divide_by, pr, pc), 1e-3)
        return cls(rows.size, inside, batch.add(values, (b - a)[inside]))

    def means(self, batch: SegmentBatch) -> np.ndarray:
        """The stretches' means, float64; 0 where the row lies outside the frame."""
        out = np.zeros(self.size)
        if self.where is not None:
            out[self.inside] = batch.means(self.where)
        return out


def design(features: np.ndarray) -> np.ndarray:
    """Model inputs: the features, then the first :data:`N_SQUARED` of them squared."""
    features = np.asarray(features, dtype=float).reshape(-1, len(FEATURES))
    return np.column_stack([features, features[:, :N_SQUARED] ** 2])


def car_probability(features: np.ndarray) -> np.ndarray:
    """Probability that each candidate is on a railcar (within half a car length), from the fitted model.

    The car model is an ensemble of boosted trees (:mod:`railcount.detect.boost`)
    over :data:`FEATURES`, written into :mod:`railcount.detect.car_model` by
    ``benchmarks/fit_car_model.py``.
    """
    return car_forest().probability(np.asarray(features, dtype=float).reshape(-1, len(FEATURES)))


@functools.lru_cache(maxsize=1)
def car_forest() -> Forest:
    """The shipped car model as a :class:`~railcount.detect.boost.Forest` (read once)."""
    from railcount.detect import car_model

    return forest_of(car_model, "car")


def along_probability(features: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Probability that each candidate proposed where the sun shines along the tracks is on rolling stock.

    The along model is boosted trees over :data:`FEATURES`, read with the
    shadows forced to one side, and the dashes the shadows leave along the
    track at and inside the candidate (``context``, the
    :data:`~railcount.detect.dashes.ALONG_CONTEXT` rows), fitted on such
    candidates of generated yards of other layouts (and look-alike blocks),
    written into :mod:`railcount.detect.along_model` by
    ``benchmarks/fit_car_model.py``.
    """
    from railcount.detect.dashes import ALONG_CONTEXT

    x = np.column_stack(
        [
            np.asarray(features, float).reshape(-1, len(FEATURES)),
            np.asarray(context, float).reshape(-1, len(ALONG_CONTEXT)),
        ]
    )
    return along_forest().probability(x)


@functools.lru_cache(maxsize=1)
def along_forest() -> Forest:
    """The shipped along model as a :class:`~railcount.detect.boost.Forest` (read once)."""
    from railcount.detect import along_model
    from railcount.detect.dashes import ALONG_CONTEXT

    return forest_of(along_model, "along", (*FEATURES, *ALONG_CONTEXT))


def forest_of(module: object, what: str, features: tuple[str, ...] = FEATURES) -> Forest:
    """The trees a fitted-model module holds (FEATURES, BASE, FEATURE, THRESHOLD, VALUE) as a Forest.

    Refuses a module fitted on another feature list than ``features``.
    """
    if tuple(module.FEATURES) != features:  # type: ignore[attr-defined]
        raise RuntimeError(f"the fitted {what} model does not match the feature list; rerun fit_car_model.py")
    return Forest(
        base=float(module.BASE),  # type: ignore[attr-defined]
        feature=np.asarray(module.FEATURE, dtype=np.int64),  # type: ignore[attr-defined]
        # thresholds were cut at float32 values: read them back exactly as the fit compared them
        threshold=np.asarray(module.THRESHOLD, dtype=np.float32).astype(float),  # type: ignore[attr-defined]
        value=np.asarray(module.VALUE, dtype=float),  # type: ignore[attr-defined]
    )


def locomotive_probability(features: np.ndarray) -> np.ndarray:
    """Probability that a candidate on rolling stock is a locomotive, from the fitted locomotive model
    (boosted trees since detector 0.6.3; a logistic model before)."""
    return loco_forest().probability(np.asarray(features, float).reshape(-1, len(FEATURES)))


@functools.lru_cache(maxsize=1)
def loco_forest() -> Forest:
    """The shipped locomotive model as a :class:`~railcount.detect.boost.Forest` (read once)."""
    from railcount.detect import loco_model

    return forest_of(loco_model, "locomotive")


def logistic(x: np.ndarray, weights: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """sigmoid(w0 + w . (x - mean) / scale) for model inputs ``x`` (:func:`design`; :func:`fit_logistic`)."""
    z = (np.asarray(x, dtype=float) - np.asarray(mean)) / np.asarray(scale)
    weights = np.asarray(weights)
    return 1.0 / (1.0 + np.exp(-np.clip(weights[0] + z @ weights[1:], -40.0, 40.0)))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit P(y=1) = sigmoid(w0 + w . (x - mean) / scale) by Newton's method with an L2 penalty.

    Returns (weights with the intercept first, mean, scale).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -40.0, 40.0)))
        hessian = z.T @ (z * (p * (1.0 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, z.T @ (y - p) - penalty @ w)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w, mean, scale
