"""A car whose sunlit edge lies in the shadow of the car one track over still has band evidence.

On dense parallel tracks the car on the sun side casts its shadow across the
1.5-2.5 m between the two cars, so the next car's sun-side flank is dark
instead of sunlit. Built here in a track frame (tracks along the rows,
shadows falling towards larger rows) at 0.3 m: ballast with grain, a lit
car B, its shadow filling the gap down to car C, and C's own shadow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from railcount.detect.cars import band_strength
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.prepare import LOG_OFFSET

GSD = 0.3
COLS = 400
CARS = slice(60, 340)  # both consists, 84 m along the track


def _frame(rows: int, bodies: list[tuple[int, float]], shadows: list[tuple[int, int]], seed: int = 3):
    """Linear RGB, log and linear luminance of ballast with car bodies (centre row, brightness) and
    shadow bands (first row, one past the last), over the columns CARS."""
    rng = np.random.default_rng(seed)
    ballast = 0.42 + 0.10 * rng.standard_normal((rows, COLS)).astype(np.float32)  # grainy
    lum = np.clip(ballast, 0.05, 1.0)
    half = to_px(DetectorParams().car_width_m, GSD) // 2
    for top, stop in shadows:
        lum[top:stop, CARS] = 0.06 + 0.01 * rng.standard_normal((stop - top, CARS.stop - CARS.start))
    for centre, level in bodies:
        lum[centre - half : centre + half + 1, CARS] = level  # smooth roofs
    rgb = np.repeat(lum[..., None], 3, axis=2).astype(np.float32)
    rgb[..., 0] *= 1.05  # a little colour, as ballast and roofs have
    linear = rgb.mean(axis=2).astype(np.float32)
    log_lum = np.log(rgb.mean(axis=2) + np.float32(LOG_OFFSET)).astype(np.float32)
    return rgb, log_lum, linear


def _evidence_on(row: int, rgb, log_lum, linear, params: DetectorParams) -> float:
    """The median band strength along the centreline row ``row``, over the cars.

    (Without the neighbour's shadow allowed, C's edge row one below its centre
    passes half way: its flank is half C's roof and half the dark gap.)
    """
    strength, _ = band_strength(
        rgb, log_lum, linear, np.ones(linear.shape, bool), GSD, params, shadow_side="down", side_is_known=True
    )
    return float(np.median(strength[row, CARS]))


@pytest.mark.parametrize("spacing_m", [4.5, 5.0, 5.5])
def test_a_car_in_its_neighbours_shadow_has_evidence(spacing_m):
    b = 100
    c = b + round(spacing_m / GSD)
    half = to_px(DetectorParams().car_width_m, GSD) // 2
    shadow_px = round(2.0 / GSD)
    rgb, log_lum, linear = _frame(
        200,
        bodies=[(b, 0.80), (c, 0.72)],
        # B's shadow fills the gap down to C; C casts its own beyond it.
        shadows=[(b + half + 1, c - half), (c + half + 1, c + half + 1 + shadow_px)],
    )
    on = DetectorParams(neighbour_shadow=True)
    off = dataclasses.replace(on, neighbour_shadow=False)
    threshold = on.min_band_strength
    # B, with sunlit ballast on its sun side, is a car either way.
    assert _evidence_on(b, rgb, log_lum, linear, off) > threshold
    assert _evidence_on(b, rgb, log_lum, linear, on) > threshold
    # C's sun side is B's shadow: no evidence before, a car with the neighbour's shadow allowed.
    assert _evidence_on(c, rgb, log_lum, linear, off) < threshold
    assert _evidence_on(c, rgb, log_lum, linear, on) > threshold


def test_a_dark_strip_with_nothing_lit_beyond_it_is_not_a_neighbours_shadow():
    # The same car C, but above its dark sun-side flank lies more dark ground (a wide
    # asphalt apron, 8 m), not a lit car one track over: C gains nothing.
    c = 120
    half = to_px(DetectorParams().car_width_m, GSD) // 2
    shadow_px = round(2.0 / GSD)
    rgb, log_lum, linear = _frame(
        220,
        bodies=[(c, 0.72)],
        shadows=[(c - half - round(8.0 / GSD), c - half), (c + half + 1, c + half + 1 + shadow_px)],
    )
    on = DetectorParams(neighbour_shadow=True)
    assert _evidence_on(c, rgb, log_lum, linear, on) < on.min_band_strength
