"""Turn a window's detections into the count record (pure compute)."""

from __future__ import annotations

import math

import numpy as np

from railcount.detect.params import DETECTOR_VERSION
from railcount.models import RAILCAR_TYPES, CountResult, Detections, SceneWindow

UNSURE_BELOW = 0.7
"""A counted railcar is *unsure* when the car model gave it a probability below this."""

# How far the truth strays from the count depends on how sure the car model
# was of the cars it counted: scenes where many counted cars were unsure
# (snow, thin cloud, low sun, JPEG, dense look-alikes) miss or invent more.
# So the interval's ratios truth / count (5th and 95th percentiles) are
# calibrated per band of the unsure share, over the 200 scenes of the
# ``tuned`` suites, plain and v2 (``python benchmarks/accuracy.py --calibrate``).
UNSURE_EDGES = (0.1, 0.25)
"""Bands of the unsure share: below 0.1, 0.1-0.25, 0.25 and above."""
INTERVAL_RATIOS = ((0.87, 1.48), (0.75, 1.84), (0.67, 2.05))
"""(low, high) ratio truth / count per band of :data:`UNSURE_EDGES` (detector 0.5;
92, 77 and 31 tuned scenes). A band with more unsure cars never gets a narrower
interval than the band before it. The high ends are wide because hard scenes
(snow, haze, thin cloud) are under-counted."""


def unsure_share(scores: np.ndarray) -> float:
    """Share of counted railcars the car model gave less than :data:`UNSURE_BELOW` (0 when none)."""
    scores = np.asarray(scores, dtype=float)
    return float((scores < UNSURE_BELOW).mean()) if scores.size else 0.0


def interval(railcars: int, unsure: float = 0.0, observed: float = 1.0) -> tuple[int, int]:
    """The calibrated interval (low, high) for a count with a given unsure share.

    About nine scenes in ten of the tuned suites have their truth inside it.
    The upper bound also allows for cars in the unobserved part of the
    station, which are not guessed.

    >>> interval(73, 0.05), interval(73, 0.5), interval(0)
    ((62, 110), (47, 151), (0, 1))
    """
    band = int(np.searchsorted(UNSURE_EDGES, unsure, side="right"))
    lo_ratio, hi_ratio = INTERVAL_RATIOS[band]
    low = max(0, math.floor(lo_ratio * railcars) - 1)
    high = math.ceil(hi_ratio * railcars) + 1
    if 0 < observed < 1:
        high += math.ceil(railcars * (1.0 - observed) / observed)
    return low, high


def summarise(window: SceneWindow, detections: Detections) -> CountResult:
    """The count of railcars (and, apart, locomotives) in a window's detections.

    ``railcars_low``-``railcars_high`` is the calibrated interval of
    :func:`interval`: the detector's measured spread of the truth around its
    count on generated scenes, wider when more of the counted cars were
    unsure (:func:`unsure_share`).
    """
    kinds = detections.kind
    is_loco = kinds == "locomotive"
    railcars = int((~is_loco).sum())
    # Every class is reported (0 when absent), so the schema is the same for every scene.
    by_type = {name: int((kinds == name).sum()) for name in RAILCAR_TYPES}
    by_type["unclassified"] = railcars - sum(by_type.values())
    methods, mcounts = np.unique(detections.method[~is_loco], return_counts=True)
    by_method = {str(k): int(c) for k, c in zip(methods, mcounts, strict=True)}
    observed = window.observed_fraction
    unsure = unsure_share(detections.score[~is_loco])
    low, high = interval(railcars, unsure, observed)
    return CountResult(
        station=window.station.name,
        scene=window.scene_id,
        acquired=window.acquired,
        railcars=railcars,
        railcars_low=low,
        railcars_high=high,
        locomotives=int(is_loco.sum()),
        by_type=by_type,
        tarped=int((detections.tarped & ~is_loco).sum()),
        observed_fraction=observed,
        gsd_m=window.gsd_m,
        detector_version=DETECTOR_VERSION,
        count_method=by_method,
        unsure_share=unsure,
    )
