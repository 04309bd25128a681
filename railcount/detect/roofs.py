"""Put each candidate on its roof: choose between its row and one roof width to either side.

The band evidence finds a car as a band beside a shadow, but the band it
finds is not always the roof. In winter a lit car's shadow is wider than
the car, and the shadow band, with the lit roof on its sunny side and more
shadow beyond, looks like a black car; beside a dark car, the sunlit strip
of ground looks like a lit car whose shadow is the car. Either way the
candidate is a roof width (about 3 m) off its car. It is still near the
car, so it counts, but its box is drawn on the ground or on the shadow,
which is not what an analyst can check a count against. On the tuned
scenes, 40 % of the candidates near a car were more than 1.5 m across the
track from it.

So each candidate the car model keeps is also described
(:data:`~railcount.detect.candidates.FEATURES`, read at the other row) one
roof width to either side across the track, and a second fitted model
(boosted trees, :mod:`railcount.detect.roof_model`, written by
``benchmarks/fit_car_model.py``) gives the probability that each of the
three lies on a roof, within 1.5 m across of the car's centreline. Its box
goes to the most probable of the three when that beats its own row by
``roof_margin``. Only the box moves: the count, the merge and the car's
kind are decided where the band evidence found it (letting the car model
judge the moved candidates counted worse; see docs/detector.md).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from railcount.detect.boost import Forest
from railcount.detect.candidates import forest_of
from railcount.detect.cars import FrameCars

ON_ROOF_M = 1.5
"""A position lies on a roof when it is within this distance across the track from a car's centreline
(and within half a car length along it): the label the roof model is fitted to."""


def alternatives(cars: FrameCars, shift_px: float) -> tuple[FrameCars, FrameCars]:
    """The cars moved ``shift_px`` rows up and down (towards smaller and larger rows)."""
    return dataclasses.replace(cars, y=cars.y - shift_px), dataclasses.replace(cars, y=cars.y + shift_px)


def roof_probability(features: np.ndarray) -> np.ndarray:
    """Roof model probabilities of the three positions of each candidate, (n, 3).

    ``features`` holds the :data:`FEATURES` rows at the own row, one roof
    width up and one down, shape (n, 3, len(FEATURES)); a position whose
    row has a NaN gets -inf.
    """
    flat = features.reshape(-1, features.shape[-1])
    prob = np.full(flat.shape[0], -np.inf)
    ok = np.isfinite(flat).all(axis=1)
    if ok.any():
        prob[ok] = roof_forest().probability(flat[ok])
    return prob.reshape(-1, 3)


def choose_rows(prob: np.ndarray, margin: float) -> np.ndarray:
    """Index (0: own row, 1: up, 2: down) of the position each candidate's box goes to.

    Another position wins when its probability (:func:`roof_probability`)
    beats the own row's by more than ``margin``; a candidate whose own row
    could not be described stays.

    >>> choose_rows(np.array([[0.2, 0.9, 0.1], [0.5, 0.6, 0.4], [-np.inf, 0.9, 0.9]]), 0.2)
    array([1, 0, 0])
    """
    prob = np.asarray(prob, dtype=float).reshape(-1, 3)
    best = 1 + prob[:, 1:].argmax(axis=1)
    better = prob[np.arange(len(prob)), best] > prob[:, 0] + margin
    return np.where(better & np.isfinite(prob[:, 0]), best, 0)


@functools.lru_cache(maxsize=1)
def roof_forest() -> Forest:
    """The shipped roof model as a :class:`~railcount.detect.boost.Forest` (read once)."""
    from railcount.detect import roof_model

    return forest_of(roof_model, "roof")
