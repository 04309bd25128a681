"""The car models' ``gsd_m`` input carries the GSD to the centimetre, nothing finer.

Every generated yard shares one working GSD to the micrometre (one place,
one projection: 0.3000561 m) and each look-alike block has its own
(0.30003, 0.30011, ...); with the raw value the trees learned to tell
yards from blocks by the sixth decimal (session 18, docs/detector.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.candidates import FEATURES, car_features
from railcount.detect.cars import FrameCars, band_strength
from railcount.detect.params import DetectorParams

from .test_neighbour_shadow import CARS, _frame


@pytest.mark.parametrize("nominal", [0.3, 0.5])
def test_gsds_a_fraction_of_a_millimetre_apart_give_the_same_input(nominal):
    rgb, log_lum, linear = _frame(200, bodies=[(100, 0.8)], shadows=[(106, 113)])
    cars = FrameCars(
        x=np.array([(CARS.start + CARS.stop) / 2.0]),
        y=np.array([100.0]),
        length=np.array([float(CARS.stop - CARS.start)]),
        score=np.array([1.0]),
        method=np.array(["gap"]),
    )
    at = FEATURES.index("gsd_m")
    seen = []
    for gsd in (nominal - 0.00012, nominal, nominal + 0.0000561, nominal + 0.0004):
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
        seen.append(car_features(terms, strength, cars, gsd, 40.0, log_lum)[0, at])
    assert seen == [nominal] * 4
