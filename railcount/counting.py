"""Turn a window's detections into the count record (pure compute)."""

from __future__ import annotations

import math

import numpy as np

from railcount.detect.params import DETECTOR_VERSION
from railcount.models import CountResult, Detections, SceneWindow


def summarise(window: SceneWindow, detections: Detections) -> CountResult:
    """The count of railcars (and, apart, locomotives) in a window's detections.

    The interval ``railcars_low``-``railcars_high`` widens with the number of
    cars counted by run length over pitch (``method == "pitch"``), whose
    individual cars were not seen, and with the part of the station that is
    not observed. Detector 0.1 uses a provisional rule (5 % of the count
    plus half the square root of the pitch-counted cars, rounded up); it is
    calibrated against generated truth in the accuracy benchmark.
    """
    kinds = detections.kind
    is_loco = kinds == "locomotive"
    railcars = int((~is_loco).sum())
    names, counts = np.unique(kinds[~is_loco], return_counts=True)
    by_type = {str(k): int(c) for k, c in zip(names, counts, strict=True)}
    methods, mcounts = np.unique(detections.method[~is_loco], return_counts=True)
    by_method = {str(k): int(c) for k, c in zip(methods, mcounts, strict=True)}
    n_pitch = by_method.get("pitch", 0)
    half = math.ceil(0.05 * railcars + 0.5 * math.sqrt(n_pitch)) if railcars else 0
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
        observed_fraction=observed,
        gsd_m=window.gsd_m,
        detector_version=DETECTOR_VERSION,
        count_method=by_method,
    )
