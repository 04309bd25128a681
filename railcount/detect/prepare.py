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
        Natural log of luminance. Shadows multiply brightness, so in log
        space the texture of a shadowed track keeps its contrast.
    valid : ndarray of bool, shape (rows, cols)
        Pixels inside the station with data.
    """

    rgb: np.ndarray
    log_lum: np.ndarray
    valid: np.ndarray


LOG_FLOOR = 0.02


def prepare(window: SceneWindow) -> Prepared:
    """Stretch the window to [0, 1] with robust percentiles of its valid pixels.

    The stretch is common to all bands so colours keep their hue; it makes
    the detector indifferent to bit depth (8, 11, 12, 16 bit) and to haze
    that lifts the darkest values.
    """
    pix = window.pixels.astype(np.float32)
    if pix.shape[2] >= 3:
        pix = pix[:, :, :3]
    else:
        pix = np.repeat(pix[:, :, :1], 3, axis=2)
    valid = window.valid
    sample = pix[valid]
    if sample.size:
        lo = float(np.percentile(sample, 0.5))
        hi = float(np.percentile(sample, 99.5))
    else:
        lo, hi = window.value_range
    if hi <= lo:
        hi = lo + 1.0
    rgb = np.clip((pix - lo) / (hi - lo), 0.0, 1.0)
    rgb[~valid] = 0.0
    lum = rgb.mean(axis=2)
    log_lum = np.log(np.maximum(lum, LOG_FLOOR)).astype(np.float32)
    return Prepared(rgb=np.ascontiguousarray(rgb, dtype=np.float32), log_lum=log_lum, valid=valid)
