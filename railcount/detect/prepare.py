"""Normalise a window's pixels into the float images the detector works on."""

from __future__ import annotations

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
) -> Prepared:
    """Stretch the window to [0, 1] with robust percentiles of its valid pixels.

    The stretch is common to all bands so colours keep their hue; it makes
    the detector indifferent to bit depth (8, 11, 12, 16 bit) and to haze
    that lifts the darkest values. Statistics come from the station's pixels;
    the margin around it keeps its pixels (cars straddling the edge are seen
    whole) and only pixels without data are blanked.

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
    as on clear windows (see :func:`_dehaze`).

    8- and 16-bit pixels take a faster path to the same numbers
    (:func:`_prepare_integer`).
    """
    pix = window.pixels[:, :, :3] if window.pixels.shape[2] >= 3 else window.pixels[:, :, :1]
    data, valid = window.data, window.valid
    if scale < 1.0:
        rows, cols = data.shape
        size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
        if pix.dtype not in (np.uint8, np.uint16, np.float32):
            pix = pix.astype(np.float32)
        pix = cv2.resize(np.ascontiguousarray(pix), size, interpolation=cv2.INTER_AREA)
        pix = pix.reshape(size[1], size[0], -1)
        data = _resize_mask(data, size)
        valid = _resize_mask(valid, size)
    if pix.shape[2] == 1:
        pix = np.repeat(pix, 3, axis=2)
    if pix.dtype in (np.uint8, np.uint16):
        return _prepare_integer(window, np.ascontiguousarray(pix), data, valid, haze_floor, haze_floor_ratio)
    # Percentiles of every valid value (np.compress gathers them several
    # times faster than a boolean index).
    pix = pix.astype(np.float32)
    sample = np.compress(valid.ravel(), pix.reshape(-1, 3), axis=0)
    if sample.size:
        lo, hi = (float(v) for v in np.percentile(sample, [0.5, 99.5]))
    else:
        lo, hi = window.value_range
    rgb = _stretch(pix, lo, hi)
    linear = _linear(band_mean(pix), window.value_range)
    if haze_floor is not None and sample.size:
        lit = linear[data]
        floor, median = (float(v) for v in np.percentile(lit, [0.1, 50.0]))
        linear = _dehaze(
            linear, floor, float(np.mean(lit < SHADOW_DARK * median)), haze_floor, median, haze_floor_ratio
        )
    return _finish(rgb, linear, data, valid)


def _prepare_integer(
    window: SceneWindow,
    pix: np.ndarray,
    data: np.ndarray,
    valid: np.ndarray,
    haze_floor: float | None,
    haze_floor_ratio: float | None,
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
    top = int(np.iinfo(pix.dtype).max)
    values = np.arange(top + 1, dtype=pix.dtype)
    counts = (
        _counts(pix, 0, valid, top + 1) + _counts(pix, 1, valid, top + 1) + _counts(pix, 2, valid, top + 1)
    )
    if counts.any():
        lo, hi = (float(v) for v in _percentiles_of_counts(counts, values, [0.5, 99.5]))
    else:
        lo, hi = window.value_range
    table = _stretch(values.astype(np.float32), lo, hi)
    rgb = cv2.LUT(pix, table) if pix.dtype == np.uint8 else table[pix]
    total = _band_sum(pix)
    by_sum = _counts(total, 0, data, 3 * top + 1) if haze_floor is not None and counts.any() else None
    linear = _linear(np.divide(total, np.float32(3.0), out=total), window.value_range)
    if haze_floor is not None and by_sum is not None:
        lit_of_sum = _linear(np.arange(by_sum.size, dtype=np.float32) / np.float32(3.0), window.value_range)
        floor, median = (float(v) for v in _percentiles_of_counts(by_sum, lit_of_sum, [0.1, 50.0]))
        # np.mean of the comparison: a count over the number of data pixels (both exact).
        dark_share = int(by_sum[lit_of_sum < SHADOW_DARK * median].sum()) / int(by_sum.sum())
        linear = _dehaze(linear, floor, dark_share, haze_floor, median, haze_floor_ratio)
    return _finish(rgb, linear, data, valid)


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


def _dehaze(
    linear: np.ndarray,
    floor: float,
    dark_share: float,
    haze_floor: float,
    median: float,
    floor_ratio: float | None,
) -> np.ndarray:
    """Linear luminance corrected for haze when the window looks hazy (see :func:`prepare`).

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
        return linear  # not hazy
    if floor_ratio is not None and floor >= SHADOW_DARK * median:
        # (floor - v) / (median - v) = floor_ratio
        excess = (floor - floor_ratio * median) / (1.0 - floor_ratio)
        if excess <= 0:
            return linear
    return np.clip((linear - np.float32(excess)) * np.float32(1.0 / (1.0 - excess)), 0.0, 1.0)


def _finish(rgb: np.ndarray, linear: np.ndarray, data: np.ndarray, valid: np.ndarray) -> Prepared:
    """Blank the pixels without data (in place), take the log luminance and the snow share."""
    # Pixels without data are few (a scene's edge, a gap): set them by their index
    # rather than through a boolean mask over every band of every pixel.
    rgb, linear = np.ascontiguousarray(rgb), np.ascontiguousarray(linear)  # (so the reshapes are views)
    blank = sparse_flatnonzero(~data)
    rgb.reshape(-1, 3)[blank] = 0.0
    log_lum = band_mean(rgb)
    log_lum += np.float32(LOG_OFFSET)
    np.log(log_lum, out=log_lum)
    linear.reshape(-1)[blank] = 0.0
    return Prepared(
        rgb=rgb,
        log_lum=log_lum.astype(np.float32, copy=False),
        linear_lum=linear.astype(np.float32, copy=False),
        data=data,
        snow_share=_snow_share(rgb, linear, valid),
    )


def _snow_share(rgb: np.ndarray, linear: np.ndarray, valid: np.ndarray) -> float:
    """Share of ``valid`` pixels that are bright and nearly grey (see :attr:`Prepared.snow_share`).

    Snow-covered ground is the brightest, greyest surface a yard has: on
    generated snow scenes 77-88 % of the pixels, on the clear scenes (the
    bundled samples, Muttenz's concrete and ballast, Joplin) 2-23 %.
    """
    # Every other row and column is plenty for a share, and four times cheaper.
    rgb, linear, valid = rgb[::2, ::2], linear[::2, ::2], valid[::2, ::2]
    n_valid = np.count_nonzero(valid)
    if not n_valid:
        return 0.0
    # Only bright pixels can be snow: their colour alone is looked at (on clear
    # scenes a few of them, gathered from the strided views instead of whole bands).
    rows, cols = np.divmod(np.flatnonzero((linear > SNOW_MIN_LUM) & valid), valid.shape[1])
    colour = rgb[rows, cols]
    top = np.maximum(np.maximum(colour[:, 0], colour[:, 1]), colour[:, 2])
    bottom = np.minimum(np.minimum(colour[:, 0], colour[:, 1]), colour[:, 2])
    grey = (top - bottom) < np.float32(SNOW_MAX_SATURATION) * np.maximum(top, np.float32(1e-3))
    return float(np.count_nonzero(grey) / n_valid)


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
