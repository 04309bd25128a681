"""Normalise a window's pixels into the float images the detector works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    """

    rgb: np.ndarray
    log_lum: np.ndarray
    linear_lum: np.ndarray
    data: np.ndarray


LOG_OFFSET = 0.08


def prepare(window: SceneWindow) -> Prepared:
    """Stretch the window to [0, 1] with robust percentiles of its valid pixels.

    The stretch is common to all bands so colours keep their hue; it makes
    the detector indifferent to bit depth (8, 11, 12, 16 bit) and to haze
    that lifts the darkest values. Statistics come from the station's pixels;
    the margin around it keeps its pixels (cars straddling the edge are seen
    whole) and only pixels without data are blanked.
    """
    pix = window.pixels.astype(np.float32)
    if pix.shape[2] >= 3:
        pix = pix[:, :, :3]
    else:
        pix = np.repeat(pix[:, :, :1], 3, axis=2)
    sample = pix[window.valid]
    if sample.size:
        lo = float(np.percentile(sample, 0.5))
        hi = float(np.percentile(sample, 99.5))
    else:
        lo, hi = window.value_range
    if hi <= lo:
        hi = lo + 1.0
    rgb = np.clip((pix - lo) / (hi - lo), 0.0, 1.0)
    rgb[~window.data] = 0.0
    lum = rgb.mean(axis=2)
    log_lum = np.log(lum + LOG_OFFSET).astype(np.float32)
    v0, v1 = window.value_range
    linear = np.clip((pix.mean(axis=2) - v0) / max(v1 - v0, 1e-6), 0.0, 1.0).astype(np.float32)
    linear[~window.data] = 0.0
    return Prepared(
        rgb=np.ascontiguousarray(rgb, dtype=np.float32), log_lum=log_lum, linear_lum=linear, data=window.data
    )
