"""The car models' scene-wide inputs carry nothing that tells the generators apart.

Every generated yard shares one working GSD to the micrometre (one place,
one projection: 0.3000561 m) and each look-alike block has its own
(0.30003, 0.30011, ...); with the raw value the trees learned to tell
yards from blocks by the sixth decimal (session 18). The yards also stand
at one latitude in mid-morning, so their sun is 20-69 degrees high, while
the blocks' sun is 10-77 degrees high; with the raw elevation the trees
learned that a sun under 19.6 degrees means no yard (session 19). See
docs/detector.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.candidates import FEATURES, SUN_ELEVATION_RANGE_DEG, car_features
from railcount.detect.cars import FrameCars, band_strength
from railcount.detect.params import DetectorParams

from .test_neighbour_shadow import CARS, _frame


def _inputs(gsd: float, *elevations: float) -> np.ndarray:
    """The car-model inputs of one lit car beside its shadow at ``gsd``, one row per sun elevation
    (the band maps do not depend on the sun's height and are made once)."""
    rgb, log_lum, linear = _frame(200, bodies=[(100, 0.8)], shadows=[(106, 113)])
    cars = FrameCars(
        x=np.array([(CARS.start + CARS.stop) / 2.0]),
        y=np.array([100.0]),
        length=np.array([float(CARS.stop - CARS.start)]),
        score=np.array([1.0]),
        method=np.array(["gap"]),
    )
    strength, terms = band_strength(
        rgb,
        log_lum,
        linear,
        np.ones(linear.shape, bool),
        gsd,
        DetectorParams(),
        shadow_side="down",
        side_is_known=True,
    )
    return np.vstack([car_features(terms, strength, cars, gsd, e, log_lum)[0] for e in elevations])


@pytest.mark.parametrize("nominal", [0.3, 0.5])
def test_gsds_a_fraction_of_a_millimetre_apart_give_the_same_input(nominal):
    at = FEATURES.index("gsd_m")
    gsds = (nominal - 0.00012, nominal, nominal + 0.0000561, nominal + 0.0004)
    seen = [_inputs(gsd, 40.0)[0, at] for gsd in gsds]
    assert seen == [nominal] * 4


def test_a_sun_outside_the_generated_yards_range_is_read_at_its_bound():
    at = FEATURES.index("sun_elevation")
    low, high = SUN_ELEVATION_RANGE_DEG
    # The bounds lie inside the 20-69 degrees the generated yards cover.
    assert 20.0 < low < high < 69.0
    suns = (8.0, 15.0, 19.5, low, 40.0, high, 70.0, 80.0)
    seen = dict(zip(suns, _inputs(0.5, *suns)[:, at], strict=True))
    assert seen[8.0] == seen[15.0] == seen[19.5] == low
    assert seen[70.0] == seen[80.0] == high
    assert seen[40.0] == 40.0
