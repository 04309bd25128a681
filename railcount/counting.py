"""Turn a window's detections into the count record (pure compute)."""

from __future__ import annotations

import math

import numpy as np

from railcount.detect.params import DETECTOR_VERSION, DetectorParams
from railcount.models import RAILCAR_TYPES, CountResult, Detections, SceneWindow

# Ratio truth / count at the 5th and 95th percentiles over the 100 scenes of
# the ``tuned`` suite (``python benchmarks/accuracy.py --scenes 100 --calibrate``),
# for windows where coupling gaps are resolved ("gap") and where runs are
# counted by pitch ("pitch"). Checked on the ``untouched`` suite.
INTERVAL_RATIOS = {"gap": (0.61, 1.37), "pitch": (0.74, 1.28)}
GAP_VISIBLE_GSD_M = DetectorParams().gap_visible_gsd_m


def interval(railcars: int, gsd_m: float, observed: float = 1.0) -> tuple[int, int]:
    """The calibrated interval (low, high) for a count at a ground sample distance.

    About nine scenes in ten of the tuned suite have their truth inside it.
    The upper bound also allows for cars in the unobserved part of the
    station, which are not guessed.

    >>> interval(73, 0.5), interval(0, 1.0)
    ((43, 102), (0, 1))
    """
    regime = "gap" if gsd_m <= GAP_VISIBLE_GSD_M else "pitch"
    lo_ratio, hi_ratio = INTERVAL_RATIOS[regime]
    low = max(0, math.floor(lo_ratio * railcars) - 1)
    high = math.ceil(hi_ratio * railcars) + 1
    if 0 < observed < 1:
        high += math.ceil(railcars * (1.0 - observed) / observed)
    return low, high


def summarise(window: SceneWindow, detections: Detections) -> CountResult:
    """The count of railcars (and, apart, locomotives) in a window's detections.

    ``railcars_low``-``railcars_high`` is the calibrated interval of
    :func:`interval`: the detector's measured spread of the truth around its
    count on generated scenes, per counting regime.
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
    low, high = interval(railcars, window.gsd_m, observed)
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
    )
