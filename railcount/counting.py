"""Turn a window's detections into the count record (pure compute)."""

from __future__ import annotations

import math

import numpy as np

from railcount.detect.params import DETECTOR_VERSION
from railcount.models import CountResult, Detections, SceneWindow

INTERVAL_SHARE = 0.25
"""Half-width of the count interval as a share of the count (plus one car)."""


def summarise(window: SceneWindow, detections: Detections) -> CountResult:
    """The count of railcars (and, apart, locomotives) in a window's detections.

    The interval ``railcars_low``-``railcars_high`` is detector 0.1's measured
    uncertainty: on 14 generated scenes (the four samples and ten untuned
    seeds, 0.3-0.5 m) the 85th percentile of the absolute count error was
    about 28 %, so the half-width is a quarter of the count plus one,
    rounded up. The upper bound also allows for cars in the unobserved part
    of the station, which are not guessed. The accuracy benchmark of issue 3
    recalibrates this on a larger suite.
    """
    kinds = detections.kind
    is_loco = kinds == "locomotive"
    railcars = int((~is_loco).sum())
    names, counts = np.unique(kinds[~is_loco], return_counts=True)
    by_type = {str(k): int(c) for k, c in zip(names, counts, strict=True)}
    methods, mcounts = np.unique(detections.method[~is_loco], return_counts=True)
    by_method = {str(k): int(c) for k, c in zip(methods, mcounts, strict=True)}
    half = math.ceil(INTERVAL_SHARE * railcars + 1) if railcars else 1
    observed = window.observed_fraction
    # Cars in the unobserved part are not guessed; the upper bound says they might exist.
    hidden = math.ceil(railcars * (1.0 - observed) / observed) if 0 < observed < 1 else 0
    return CountResult(
        station=window.station.name,
        scene=window.scene_id,
        acquired=window.acquired,
        railcars=railcars,
        railcars_low=max(0, railcars - half),
        railcars_high=railcars + half + hidden,
        locomotives=int(is_loco.sum()),
        by_type=by_type,
        tarped=int((detections.tarped & ~is_loco).sum()),
        observed_fraction=observed,
        gsd_m=window.gsd_m,
        detector_version=DETECTOR_VERSION,
        count_method=by_method,
    )
