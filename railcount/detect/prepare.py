"""Normalise a window's pixels into the float images the detector works on."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from railcount.detect.masks import sparse_flatnonzero
from railcount.models import SceneWindow


@dataclass(frozen=True, eq=False)
class Prepared:
    """Float images of one window.

    Attributes
    ----------
    rgb : ndarray, float32, shape (rows, cols, 3)
        Colour stretched to [0, 1] (panchromatic data is repeated in all three).
    log_lum : ndarray, float32, shape (rows, cols)
        ``log(luminance + LOG_OFFSET)``. Shadows multiply brightness, so in
        log space the texture of a shadowed track keeps its contrast; the
        offset stops the log from magnifying sensor noise on dark roofs.
    linear_lum : ndarray, float32, shape (rows, cols)
        Luminance scaled by the file's value range only (no offset removed):
        ratios of these are ratios of radiance, which is what separates a
        cast shadow (a quarter to a third of the sunlit ground) from a dark
        material (a track bed at nearly half).
    data : ndarray of bool, shape (rows, cols)
        Pixels with data (inside the station or in the margin around it).
    snow_share : float
        Share of the station's valid pixels that look like snow: bright
        (linear luminance over :data:`SNOW_MIN_LUM`) and nearly grey
        (saturation under :data:`SNOW_MAX_SATURATION`; panchromatic data
        counts as grey).
    """

    rgb: np.ndarray
    log_lum: np.ndarray
    linear_lum: np.ndarray
    data: np.ndarray
    snow_share: float = 0.0
    levels: Levels | None = None
    """The stretch, haze and levelling these bands were prepared with (whether a light stretch was
    levelled: :attr:`Levels.lift`, :attr:`Levels.floor_ratio`); None where :func:`_finish` alone made
    them."""


@dataclass(frozen=True)
class Levels:
    """What :func:`prepare` reads from a whole window's pixels before it stretches them, for the parts
    of a window counted in tiles to be prepared alike (:func:`window_levels`)."""

    stretch: tuple[float, float]
    """The values stretched to 0 and 1 (the 0.5th and 99.5th percentiles of the valid values)."""
    haze: float
    """The haze taken off linear luminance (:func:`_haze_excess`; 0: none)."""
    snow_share: float | None = None
    """The share of the valid pixels that look like snow (:attr:`Prepared.snow_share`; None: each part's
    own)."""
    lift: float = 0.0
    """Added to linear luminance (white kept at 1) where the window's floor is darker, against its
    median, than any clear window's (:func:`_levelled`; 0: none)."""
    gain: float = 1.0
    """Linear luminance's scale where the window's median is brighter than any clear window's (1: none)."""
    floor_ratio: float | None = None
    """The 1st percentile of linear luminance over its :data:`LEVEL_REFERENCE_PCT` th, as read before
    any lift (None: not read, or no data): under ``level_floor_ratio`` the window is levelled
    (``lift`` > 0), and the count says why (:func:`~railcount.cautions.light_stretch_caution`)."""


FLOAT_BINS = 1 << 16
"""Bins of the value histograms of pixels that are not 8- or 16-bit (:func:`level_counts`)."""


@dataclass(frozen=True, eq=False)
class LevelCounts:
    """Histograms of part of a window's working pixels that add up over parts (``+``), from which
    :func:`window_levels` takes the whole window's :class:`Levels`."""

    values: np.ndarray
    """The values (8- or 16-bit: each one; else the centres of :data:`FLOAT_BINS` bins)."""
    bands: np.ndarray
    """How often each value occurs in the three bands of the valid pixels."""
    lit_values: np.ndarray
    """Linear luminance values (non-decreasing)."""
    lit: np.ndarray
    """How often each occurs over the pixels with data."""

    def __add__(self, other: LevelCounts) -> LevelCounts:
        return dataclasses.replace(self, bands=self.bands + other.bands, lit=self.lit + other.lit)


def level_counts(
    window: SceneWindow,
    scale: float,
    own: tuple[int, int, int, int],
    span: tuple[float, float] | None = None,
) -> LevelCounts:
    """:class:`LevelCounts` of the pixels of ``window`` (averaged down to ``scale``, as :func:`prepare`
    does) in rows ``own[0]:own[1]`` and columns ``own[2]:own[3]`` of the working grid. Pixels that are
    not 8- or 16-bit are counted in :data:`FLOAT_BINS` bins over ``span`` (the whole window's range of
    values: :func:`value_span`); their linear luminance in as many over [0, 1].

    For 8- and 16-bit pixels :func:`window_levels` of one part covering the window gives what
    :func:`prepare` finds, to the bit:

    >>> rng = np.random.default_rng(3)
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> from shapely.geometry import box
    >>> from railcount.models import Station
    >>> px = rng.integers(40, 220, (60, 80, 3), dtype=np.uint8)
    >>> w = SceneWindow(px, np.ones((60, 80), bool), np.ones((60, 80), bool), Affine(0.5, 0, 0, 0, -0.5, 0),
    ...     CRS.from_epsg(32652), 0.5, "s", Station("s", box(0, 0, 1, 1)))
    >>> levels = window_levels(level_counts(w, 1.0, (0, 60, 0, 80)), w.value_range, 0.11, 0.235)
    >>> own, given = prepare(w, haze_floor=0.11, haze_floor_ratio=0.235), prepare(w, levels=levels)
    >>> all(np.array_equal(getattr(own, k), getattr(given, k)) for k in ("rgb", "log_lum", "linear_lum"))
    True
    """
    pix, data, valid = _working(window, scale)
    part = np.s_[own[0] : own[1], own[2] : own[3]]
    pix, data, valid = np.ascontiguousarray(pix[part]), data[part], valid[part]
    if pix.dtype in (np.uint8, np.uint16):
        return _integer_counts(pix, data, valid, _band_sum(pix), window.value_range)
    lo, hi = span if span is not None else window.value_range
    hi = hi if hi > lo else lo + 1.0
    edges = np.linspace(lo, hi, FLOAT_BINS + 1)
    flat = pix.astype(np.float32).reshape(-1, 3)[valid.ravel()]
    bands, _ = np.histogram(flat, bins=edges)
    linear = _linear(band_mean(pix.astype(np.float32)), window.value_range)[data]
    lit, lit_edges = np.histogram(linear, bins=FLOAT_BINS, range=(0.0, 1.0))
    return LevelCounts(
        0.5 * (edges[:-1] + edges[1:]), bands.astype(np.int64), 0.5 * (lit_edges[:-1] + lit_edges[1:]), lit
    )


def value_span(window: SceneWindow) -> tuple[float, float]:
    """The least and the greatest valid value of the window's colour bands (for :func:`level_counts`)."""
    pix = window.pixels[:, :, :3] if window.pixels.shape[2] >= 3 else window.pixels[:, :, :1]
    valid = window.valid[:, :, None]
    if not window.valid.any():
        return window.value_range
    # (The starting values in the pixels' own type: an integer one, signed 16-bit reflectance, holds no
    # infinity.)
    big, small = (
        (np.inf, -np.inf) if pix.dtype.kind == "f" else (np.iinfo(pix.dtype).max, np.iinfo(pix.dtype).min)
    )
    lo = float(np.min(pix, where=valid, initial=big))
    hi = float(np.max(pix, where=valid, initial=small))
    return lo, hi


def window_levels(
    counts: LevelCounts,
    value_range: tuple[float, float],
    haze_floor: float | None,
    haze_floor_ratio: float | None,
    level: tuple[float | None, float | None] = (None, None),
    *,
    from_bottom: bool = False,
) -> Levels:
    """The :class:`Levels` :func:`prepare` would find in the pixels ``counts`` counted (the snow share is
    left to the parts); ``level`` the floor ratio and median bounds of :func:`_levelled`; with
    ``from_bottom`` (a window :func:`~railcount.detect.stretch.lifted`) the colour stretch starts at
    the bottom of ``value_range``."""
    if counts.bands.any():
        lo, hi = (float(v) for v in _percentiles_of_counts(counts.bands, counts.values, [0.5, 99.5]))
    else:
        lo, hi = value_range
    if from_bottom:
        lo = value_range[0]
    if (haze_floor is not None or level != (None, None)) and counts.bands.any() and counts.lit.any():
        floor, low, reference, median = (
            float(v)
            for v in _percentiles_of_counts(
                counts.lit, counts.lit_values, [0.1, 1.0, LEVEL_REFERENCE_PCT, 50.0]
            )
        )
        dark_share = 0.0
        if haze_floor is not None:
            dark = int(counts.lit[counts.lit_values < SHADOW_DARK * median].sum())
            dark_share = dark / int(counts.lit.sum())
        return _levels_from(
            (lo, hi), (floor, low, reference, median), dark_share, haze_floor, haze_floor_ratio, level
        )
    return Levels((lo, hi), 0.0)


def _levels_from(
    stretch: tuple[float, float],
    percentiles: tuple[float, float, float, float],
    dark_share: float,
    haze_floor: float | None,
    haze_floor_ratio: float | None,
    level: tuple[float | None, float | None],
) -> Levels:
    """The :class:`Levels` of a window from the 0.1th, 1st, :data:`LEVEL_REFERENCE_PCT` th and 50th
    percentiles of its linear luminance and the share of it under :data:`SHADOW_DARK` of the median
    (read only with ``haze_floor``): the haze taken off (:func:`_haze_excess`), else the levelling
    (:func:`_levelled`), and the floor ratio the light stretch's caution reads. One rule for the
    histogram path (:func:`window_levels`) and the float path of :func:`prepare`."""
    floor, low, reference, median = percentiles
    haze, lift, gain = 0.0, 0.0, 1.0
    if haze_floor is not None:
        haze = _haze_excess(floor, dark_share, haze_floor, median, haze_floor_ratio)
    if haze <= 0:
        lift, gain = _levelled(low, median, *level, reference=reference)
    ratio = low / reference if reference > 0 else None
    return Levels(stretch, haze, lift=lift, gain=gain, floor_ratio=ratio)


LEVEL_LOW_RATIO = 0.30
"""The 1st percentile of a clear generated window's linear luminance over its median (0.26-0.73,
typically 0.30): what :func:`_levelled` lifts a stretched window's to."""


LEVEL_REFERENCE_PCT = 25.0
"""The percentile of linear luminance a window's 1st is set against by :func:`_levelled`: its lower
quartile, not its median, which opaque cloud raises (session 74: with the median, held-out v2 scenes
under cloud were lifted and lost cars). Clear generated windows as made hold their 1st percentile at
0.26 of it or more (Muttenz west 0.31); stretched lightly (from the 0.02nd-0.1th percentile of a
file) down to 0.07 (Muttenz west 0.19-0.23; ``docs/accuracy.md``, *Levelled from the lower
quartile*)."""


def _levelled(
    low: float,
    median: float,
    min_low_ratio: float | None,
    max_median: float | None,
    *,
    reference: float | None = None,
) -> tuple[float, float]:
    """(lift, gain) for a window whose linear luminance a product's contrast stretch has moved out of
    the range of clear scenes: a 1st percentile (``low``) under ``min_low_ratio`` of ``reference``
    (the :data:`LEVEL_REFERENCE_PCT` th percentile; the median when None) is lifted to
    :data:`LEVEL_LOW_RATIO` of it, as on clear windows (a stretch took an offset off and put the
    shadows near black); a median above ``max_median`` (a stretch that brightened the whole) is scaled
    down to it. (0, 1) within those bounds, or with them None.

    >>> _levelled(0.0, 0.5, 0.15, None)[0] > 0, _levelled(0.14, 0.45, 0.15, 0.55)
    (True, (0.0, 1.0))
    """
    ref = median if reference is None else reference
    lift = 0.0
    if min_low_ratio is not None and ref > 0 and low < min_low_ratio * ref:
        # (low + v) / (ref + v) = LEVEL_LOW_RATIO
        lift = max(0.0, (LEVEL_LOW_RATIO * ref - low) / (1.0 - LEVEL_LOW_RATIO))
    gain = 1.0
    lifted = (median + lift) / (1.0 + lift)
    if max_median is not None and lifted > max_median:
        gain = max_median / lifted
    return lift, gain


def _level(linear: np.ndarray, lift: float, gain: float) -> np.ndarray:
    """Linear luminance lifted by ``lift`` (white kept at 1) and scaled by ``gain`` (:func:`_levelled`)."""
    if lift <= 0 and gain == 1.0:
        return linear
    scale = np.float32(gain / (1.0 + lift))
    return np.clip((linear + np.float32(lift)) * scale, 0.0, 1.0)


LOG_OFFSET = 0.08
SHADOW_DARK = 0.45
"""A pixel below this share of its window's median linear luminance reads as shadow-dark."""
HAZE_MAX_DARK_SHARE = 0.003
"""A window with less than this share of shadow-dark pixels (:data:`SHADOW_DARK`) may be hazy."""
SNOW_MIN_LUM = 0.6
SNOW_MAX_SATURATION = 0.15


def prepare(
    window: SceneWindow,
    *,
    scale: float = 1.0,
    haze_floor: float | None = None,
    haze_floor_ratio: float | None = None,
    levels: Levels | None = None,
    level: tuple[float | None, float | None] = (None, None),
) -> Prepared:
    """Stretch the window to [0, 1] with robust percentiles of its valid pixels.

    The stretch is common to all bands so colours keep their hue; it makes
    the detector indifferent to bit depth (8, 11, 12, 16 bit) and to haze
    that lifts the darkest values. Statistics come from the station's pixels;
    the margin around it keeps its pixels (cars straddling the edge are seen
    whole) and only pixels without data are filled (:func:`no_data_fill`).

    With ``scale`` < 1 the pixels are first averaged down (``cv2.INTER_AREA``
    on the file's own dtype, which is cheap), so nothing else runs at full
    resolution.

    With ``haze_floor``, linear luminance is corrected for haze when the
    window looks hazy: almost no pixel (under ``HAZE_MAX_DARK_SHARE``) is
    below 0.45 of the median, and the darkest 0.1 % sit above
    ``haze_floor``. The excess is subtracted and the rest rescaled, so cast
    shadows are dark again. Both conditions are needed: generated hazy yards
    have floors of 0.19-0.26 and no dark pixels, but the clear Joplin scene
    has a floor of 0.18 with 1.3-1.8 % dark pixels, and correcting it
    invented false cars there. With ``haze_floor_ratio``, a window whose
    floor is above :data:`SHADOW_DARK` of its median (nothing in it is
    shadow) loses the haze that puts its floor at that share of the median,
    as on clear windows (see :func:`_haze_excess`).

    8- and 16-bit pixels take a faster path to the same numbers
    (:func:`_prepare_integer`).

    With ``levels`` (a window counted in tiles: :func:`window_levels`), the stretch, the haze removed
    and the snow share are the whole window's, not this part's own, and ``haze_floor`` is not read.

    A window :func:`~railcount.detect.stretch.lifted` back from a product's contrast stretch
    (``window.stretch_lifted``) is stretched from the bottom of its value range instead of its 0.5th
    percentile, which would take off again the floor the lift put back.

    ``level`` (a floor ratio and a median, or None) brings a window a product's contrast stretch
    moved out of clear scenes' range back into it (:func:`_levelled`; an experiment, off by default).
    """
    pix, data, valid = _working(window, scale)
    if levels is not None:
        return _prepare_at(window, pix, data, valid, levels)
    if pix.dtype in (np.uint8, np.uint16):
        return _prepare_integer(window, pix, data, valid, haze_floor, haze_floor_ratio, level)
    # Percentiles of every valid value (np.compress gathers them several
    # times faster than a boolean index).
    pix = pix.astype(np.float32)
    sample = np.compress(valid.ravel(), pix.reshape(-1, 3), axis=0)
    if sample.size:
        lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    else:
        lo, hi = window.value_range
    if window.stretch_lifted:
        lo = window.value_range[0]
    rgb = _stretch(pix, lo, hi)
    linear = _linear(band_mean(pix), window.value_range)
    levels = Levels((lo, hi), 0.0)
    if (haze_floor is not None or level != (None, None)) and sample.size:
        lit = linear[data]
        floor, low, reference, median = (
            float(v) for v in np.percentile(lit, [0.1, 1.0, LEVEL_REFERENCE_PCT, 50.0])
        )
        dark = float(np.mean(lit < SHADOW_DARK * median)) if haze_floor is not None else 0.0
        levels = _levels_from(
            (lo, hi), (floor, low, reference, median), dark, haze_floor, haze_floor_ratio, level
        )
        linear = _level(_remove_haze(linear, levels.haze), levels.lift, levels.gain)
    return dataclasses.replace(_finish(rgb, linear, data, valid), levels=levels)


def _working(window: SceneWindow, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window's colour bands (rows, cols, 3; a single band repeated), data and valid masks, averaged
    down to ``scale`` (see :func:`prepare`)."""
    pix = window.pixels[:, :, :3] if window.pixels.shape[2] >= 3 else window.pixels[:, :, :1]
    data, valid = window.data, window.valid
    if scale < 1.0:
        rows, cols = working_shape(data.shape, scale)
        size = (cols, rows)
        if pix.dtype not in (np.uint8, np.uint16, np.float32):
            pix = pix.astype(np.float32)
        pix = cv2.resize(np.ascontiguousarray(pix), size, interpolation=cv2.INTER_AREA)
        pix = pix.reshape(size[1], size[0], -1)
        data = _resize_mask(data, size)
        valid = _resize_mask(valid, size)
    if pix.shape[2] == 1:
        pix = np.repeat(pix, 3, axis=2)
    return np.ascontiguousarray(pix), data, valid


def working_valid(window: SceneWindow, scale: float) -> np.ndarray:
    """The window's valid pixels on the working grid of ``scale`` (as :func:`prepare` averages it down)."""
    if scale >= 1.0:
        return window.valid
    rows, cols = working_shape(window.shape, scale)
    return _resize_mask(window.valid, (cols, rows))


def working_shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    """Rows and columns of a window of ``shape`` on the working grid of ``scale`` (as :func:`prepare`
    averages it down; as it is for ``scale`` 1).

    >>> working_shape((1501, 4002), 1.0), working_shape((1501, 4002), 0.85)
    ((1501, 4002), (1276, 3402))
    """
    if scale >= 1.0:
        return shape
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def _prepare_at(
    window: SceneWindow,
    pix: np.ndarray,
    data: np.ndarray,
    valid: np.ndarray,
    levels: Levels,
    total: np.ndarray | None = None,
) -> Prepared:
    """:func:`prepare` of working pixels with ``levels`` (their own, or a whole window's); ``total``:
    8- or 16-bit pixels' band sum when it was made already (it is overwritten)."""
    lo, hi = levels.stretch
    if pix.dtype in (np.uint8, np.uint16):
        top = int(np.iinfo(pix.dtype).max)
        table = _stretch(np.arange(top + 1, dtype=np.float32), lo, hi)
        rgb = cv2.LUT(pix, table) if pix.dtype == np.uint8 else table[pix]
        total = _band_sum(pix) if total is None else total
        linear = _linear(np.divide(total, np.float32(3.0), out=total), window.value_range)
    else:
        pix = pix.astype(np.float32)
        rgb = _stretch(pix, lo, hi)
        linear = _linear(band_mean(pix), window.value_range)
    prep = _finish(rgb, _level(_remove_haze(linear, levels.haze), levels.lift, levels.gain), data, valid)
    if levels.snow_share is None:
        return dataclasses.replace(prep, levels=levels)
    return dataclasses.replace(prep, snow_share=levels.snow_share, levels=levels)


def _prepare_integer(
    window: SceneWindow,
    pix: np.ndarray,
    data: np.ndarray,
    valid: np.ndarray,
    haze_floor: float | None,
    haze_floor_ratio: float | None,
    level: tuple[float | None, float | None] = (None, None),
) -> Prepared:
    """:func:`prepare` of 8- or 16-bit pixels, shape (rows, cols, 3): the float path's numbers, to the bit.

    Integer pixels take few values, so the percentiles come from a histogram
    of them (:func:`_percentiles_of_counts`) instead of a partition of every
    valid value, and the stretch is a table over the values (the float path
    stretches float32(value), which is exact). The band mean adds the three
    float32 bands and divides by 3; their sum is an integer float32 holds
    exactly, so the mean, and linear luminance from it, are non-decreasing
    functions of the sum: the haze test's percentiles and dark share come
    from a histogram of the sum over the data.
    """
    total = _band_sum(pix)
    wants_lit = haze_floor is not None or level != (None, None)
    counts = _integer_counts(pix, data, valid, total, window.value_range, lit=wants_lit)
    levels = window_levels(
        counts, window.value_range, haze_floor, haze_floor_ratio, level, from_bottom=window.stretch_lifted
    )
    return _prepare_at(window, pix, data, valid, levels, total)


def _integer_counts(
    pix: np.ndarray,
    data: np.ndarray,
    valid: np.ndarray,
    total: np.ndarray,
    value_range: tuple[float, float],
    *,
    lit: bool = True,
) -> LevelCounts:
    """:class:`LevelCounts` of 8- or 16-bit pixels (rows, cols, 3) whose band sum is ``total``
    (:func:`_band_sum`): how often each value occurs in the valid pixels' bands and, with ``lit``, each
    band sum over the pixels with data (linear luminance is a non-decreasing function of the sum)."""
    top = int(np.iinfo(pix.dtype).max)
    values = np.arange(top + 1, dtype=pix.dtype)
    bands = (
        _counts(pix, 0, valid, top + 1) + _counts(pix, 1, valid, top + 1) + _counts(pix, 2, valid, top + 1)
    )
    by_sum = _sum_counts(total, data, 3 * top + 1) if lit else np.zeros(1, np.int64)
    lit_values = _linear(np.arange(by_sum.size, dtype=np.float32) / np.float32(3.0), value_range)
    return LevelCounts(values, bands, lit_values, by_sum)


def _stretch(pix: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """float32 values stretched from [lo, hi] to [0, 1], clipped."""
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((pix - lo) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)


def _linear(mean: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Band mean scaled by the file's value range to [0, 1], in place (``mean`` is overwritten)."""
    v0, v1 = value_range
    np.subtract(mean, v0, out=mean)  # v0 is taken as float32, as in ``mean - v0``
    mean *= np.float32(1.0 / max(v1 - v0, 1e-6))
    return np.clip(mean, 0.0, 1.0, out=mean)


def _haze_excess(
    floor: float,
    dark_share: float,
    haze_floor: float,
    median: float,
    floor_ratio: float | None,
) -> float:
    """The haze to take off linear luminance when the window looks hazy (see :func:`prepare`); 0 when
    it does not.

    Haze adds light to every pixel, shadows included, so cast shadows stop
    looking dark. Clear scenes' darkest pixels (deep shadow) sit below
    haze_floor; whatever the floor (the 0.1th percentile of the data's
    linear luminance) rises above that is taken as haze -- but only when
    almost nothing in the window is shadow-dark (``dark_share``, the share
    below :data:`SHADOW_DARK` of the ``median``), since a clear scene can have a high floor too
    (Joplin's is 0.18).

    With ``floor_ratio``, a window whose floor is above :data:`SHADOW_DARK`
    of its median has no shadow left at all: haze of level ``v`` turns
    luminance ``x`` into about ``v + (1 - v) x`` (shadow and sunlit ground
    alike), so the ``v`` that puts the corrected floor at ``floor_ratio`` of
    the corrected median, as on clear windows, is subtracted instead. The
    old excess (floor over ``haze_floor``) left the shadows of hazy
    generated yards at 0.4 of the ground, too pale to pass for shadow.
    """
    excess = floor - haze_floor
    if excess <= 0 or dark_share >= HAZE_MAX_DARK_SHARE:
        return 0.0  # not hazy
    if floor_ratio is not None and floor >= SHADOW_DARK * median:
        # (floor - v) / (median - v) = floor_ratio
        excess = (floor - floor_ratio * median) / (1.0 - floor_ratio)
        if excess <= 0:
            return 0.0
    return float(excess)


def _remove_haze(linear: np.ndarray, excess: float) -> np.ndarray:
    """Linear luminance with the haze ``excess`` (:func:`_haze_excess`) taken off and the rest rescaled
    (``linear`` itself when there is none)."""
    if excess <= 0:
        return linear
    return np.clip((linear - np.float32(excess)) * np.float32(1.0 / (1.0 - excess)), 0.0, 1.0)


def _finish(rgb: np.ndarray, linear: np.ndarray, data: np.ndarray, valid: np.ndarray) -> Prepared:
    """Fill the pixels without data (in place, :func:`no_data_fill`), take the log luminance and
    the snow share."""
    # Pixels without data are few (a scene's edge, a gap): set them by their index
    # rather than through a boolean mask over every band of every pixel.
    rgb, linear = np.ascontiguousarray(rgb), np.ascontiguousarray(linear)  # (so the reshapes are views)
    blank = sparse_flatnonzero(~data)
    if blank.size:
        fill_rgb, fill_linear = no_data_fill(rgb, linear, data)
        rgb.reshape(-1, 3)[blank] = fill_rgb
        linear.reshape(-1)[blank] = fill_linear
    log_lum = band_mean(rgb)
    log_lum += np.float32(LOG_OFFSET)
    np.log(log_lum, out=log_lum)
    return Prepared(
        rgb=rgb,
        log_lum=log_lum.astype(np.float32, copy=False),
        linear_lum=linear.astype(np.float32, copy=False),
        data=data,
        snow_share=_snow_share(rgb, linear, valid),
    )


NO_DATA_FILL_PCT = 75.0
"""The percentile of the pixels with data that those without data take (:func:`no_data_fill`)."""


def no_data_fill(rgb: np.ndarray, linear: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, float]:
    """What the pixels without data are set to: the 75th percentile of the colour and of the linear
    luminance of the pixels with data (every fourth row and column of them; black where none has data).

    Until detector 0.6.32 they were black. Black reads as shadow, so where a scene's edge (or a gap in
    it) runs beside a track on the side its cars' shadows fall, the lit ballast beside it read as a
    car beside its shadow: Muttenz west averaged to 0.75 m took four or five false railcars on empty
    track along the frame's edge, and generated empty yards cut on that side six to ten. The track
    frames still keep their filters a metre inside the data; the fill only stops the edge itself from
    passing for a shadow. Detector 0.6.32 took the median; it is darker than lit ballast, so the edge
    still read a little like shade (those six cut yards took 15 railcars in all, 6 of them within 7 m
    of the edge). The 75th percentile (0.6.33) puts them at 9, 2 near the edge, and counts the
    generated v2 yards, whose products cut some scenes, as the median did.
    """
    sample = data[::4, ::4]
    if not sample.any():
        return np.zeros(3, np.float32), 0.0
    colour = np.percentile(rgb[::4, ::4][sample], NO_DATA_FILL_PCT, axis=0).astype(np.float32)
    return colour, float(np.percentile(linear[::4, ::4][sample], NO_DATA_FILL_PCT))


def _snow_share(rgb: np.ndarray, linear: np.ndarray, valid: np.ndarray) -> float:
    """Share of ``valid`` pixels that are bright and nearly grey (see :attr:`Prepared.snow_share`).

    Snow-covered ground is the brightest, greyest surface a yard has: on
    generated snow scenes 77-88 % of the pixels, on the clear scenes (the
    bundled samples, Muttenz's concrete and ballast, Joplin) 2-23 %.
    """
    grey, n_valid = snow_counts(rgb, linear, valid)
    return grey / n_valid if n_valid else 0.0


def snow_counts(rgb: np.ndarray, linear: np.ndarray, valid: np.ndarray) -> tuple[int, int]:
    """The pixels :func:`_snow_share` looks at that look like snow, and how many it looks at (those of
    ``valid``, on every other row and column)."""
    # Every other row and column is plenty for a share, and four times cheaper.
    rgb, linear, valid = rgb[::2, ::2], linear[::2, ::2], valid[::2, ::2]
    n_valid = np.count_nonzero(valid)
    if not n_valid:
        return 0, 0
    # Only bright pixels can be snow: their colour alone is looked at (on clear
    # scenes a few of them, gathered from the strided views instead of whole bands).
    rows, cols = np.divmod(np.flatnonzero((linear > SNOW_MIN_LUM) & valid), valid.shape[1])
    colour = rgb[rows, cols]
    top = np.maximum(np.maximum(colour[:, 0], colour[:, 1]), colour[:, 2])
    bottom = np.minimum(np.minimum(colour[:, 0], colour[:, 1]), colour[:, 2])
    grey = (top - bottom) < np.float32(SNOW_MAX_SATURATION) * np.maximum(top, np.float32(1e-3))
    return int(np.count_nonzero(grey)), int(n_valid)


def _counts(image: np.ndarray, channel: int, mask: np.ndarray, n: int) -> np.ndarray:
    """How often each of the values 0..n-1 of one channel of ``image`` occurs where ``mask`` is set (int64).

    ``image`` is 8- or 16-bit, or float32 holding integers below 2**24.
    OpenCV's histogram counts several times faster than ``np.bincount``
    (which needs the values gathered and widened first); it returns float32,
    exact up to 2**24, so a tall image is counted in bands of rows fewer
    pixels than that.
    """
    mask = np.ascontiguousarray(mask).view(np.uint8)
    step = max(1, (1 << 24) // max(1, image.shape[1]))
    out = np.zeros(n, np.int64)
    for r in range(0, image.shape[0], step):
        hist = cv2.calcHist([image[r : r + step]], [channel], mask[r : r + step], [n], [0, n])
        out += hist.ravel().astype(np.int64)
    return out


def _sum_counts(total: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """:func:`_counts` of a band sum ``total`` (float32 holding integers 0..n-1) where ``mask`` is set.

    OpenCV counts float values several times slower than bytes (on the
    speed window 0.11 s against 0.03 s for 8-bit pixels' sums). Where the
    sum fits in 16 bits (8-bit pixels: n = 766) it is counted as two bytes
    instead, high and low, in one two-dimensional histogram; the pixels
    outside ``mask`` are given the value ``n`` first, counted apart and
    dropped, which costs less than the mask. The same counts, exactly.
    """
    if n >= 1 << 16:
        return _counts(total, 0, mask, n)
    wide = total.astype(np.uint16)
    np.copyto(wide, np.uint16(n), where=~np.asarray(mask, bool))
    two = wide.view(np.uint8).reshape(*wide.shape, 2)
    high = (n >> 8) + 1
    hi_lo = [1, 0] if sys.byteorder == "little" else [0, 1]
    out = np.zeros(high * 256, np.int64)
    step = max(1, (1 << 24) // max(1, wide.shape[1]))
    for r in range(0, wide.shape[0], step):
        hist = cv2.calcHist([two[r : r + step]], hi_lo, None, [high, 256], [0, high, 0, 256])
        out += hist.ravel().astype(np.int64)
    return out[:n]


def _percentiles_of_counts(counts: np.ndarray, values: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.percentile(sample, q)`` from the sample's histogram, to the bit.

    ``counts[k]`` is how often ``values[k]`` occurs in the sample, and
    ``values`` is non-decreasing, so the sorted sample is each value
    repeated by its count. numpy's default (linear) method interpolates
    between the two order statistics around ``(n - 1) * q / 100``; its
    arithmetic and dtypes are repeated here (the difference of the two
    values is taken in their own dtype, the interpolation in float64, from
    the upper value where the weight is at least 0.5).
    """
    n = int(counts.sum())
    virtual = (n - 1) * np.true_divide(np.asarray(q, dtype=float), 100)
    below = np.floor(virtual)
    gamma = virtual - below
    first = np.clip(below, 0, n - 1).astype(np.int64)
    second = np.minimum(first + 1, n - 1)
    ends = np.cumsum(counts)  # sorted positions 0..ends[k]-1 hold values[0..k]
    a = values[np.searchsorted(ends, first, side="right")]
    b = values[np.searchsorted(ends, second, side="right")]
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe", dtype=out.dtype.type)
    return out


def _band_sum(pix: np.ndarray) -> np.ndarray:
    """The sum of the three bands of 8- or 16-bit pixels as float32 (exact)."""
    r, g, b = cv2.split(pix)
    return cv2.add(cv2.add(r, g, dtype=cv2.CV_32F), b, dtype=cv2.CV_32F)


def band_mean(image: np.ndarray) -> np.ndarray:
    """``image.mean(axis=2)`` of a float32 (rows, cols, 3) image, to the bit, several times faster.

    numpy adds the three bands in order and divides by 3 in float32; its
    reduction over so short a last axis is slow, adding whole bands is not.
    """
    out = np.add(image[..., 0], image[..., 1])
    out += image[..., 2]
    out /= np.float32(3.0)
    return out


def _resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
