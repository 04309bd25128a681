"""Where the sun shines along the tracks: the dark dash each car's shadow leaves beyond its end.

With the shadows falling within about 17 degrees of the track
(:func:`~railcount.detect.detector.sun_along`) no shadow lies beside a car,
and the band evidence, which looks for one, finds few cars. The shadow is
still there: it falls along the track, beyond the car's end away from the
sun, on the coupling gap to the next car (or past the end of the consist),
so a consist reads along its track as lit roofs broken by short dark
dashes across the whole car width, one per car. An empty track, the
ballast between two tracks or a road does not.

:func:`dash_map` marks such dashes in a track frame (x along the track,
y across), :func:`edged_gate` says where one lies within a car length
along the same line (there a smooth band with a colour step on both long
sides, :meth:`~railcount.detect.cars.BandMaps.edged`, may propose a car),
and :func:`dash_context` describes each candidate by the dashes at its two
ends and inside it, for the along model (:data:`ALONG_CONTEXT`).
"""

from __future__ import annotations

import cv2
import numpy as np

from railcount.detect.cars import FrameCars, band_geometry, body_rows, sunlit_reference
from railcount.detect.params import DetectorParams, to_px

ALONG_CONTEXT = (
    "end_dash",  # the strongest dash from half a metre inside the car's end away from the sun to 2 m beyond
    "sun_end_dash",  # the same at its end toward the sun (the shadow of the car in front, in a consist)
    "inner_dash",  # the strongest dash in the middle 60 % of the car (two cars, or a broken stripe)
)
"""What the along model reads besides the car model's features, per candidate (0-1)."""

END_INSIDE_M, END_BEYOND_M = 0.5, 2.0
"""The stretch read at each end of a candidate: this far inside its end and this far beyond."""


def dash_map(linear_lum: np.ndarray, core: np.ndarray, gsd_m: float, params: DetectorParams) -> np.ndarray:
    """Per frame pixel (float32, 0-1): the shadow-dark share of a band 0.6 of a car wide centred on it,
    where that share is at least ``params.along_dash_share`` over less than ``params.along_dash_max_m``
    along the track; 0 elsewhere and outside ``core``.

    Dark is darker than ``params.along_dash_ratio`` of the brightest 1 m patch within
    ``sunlit_reach_m`` (as the band evidence's shadows are read, but on luminance not smoothed
    along the track: a coupling gap is 0.6-1.5 m long). A dark stretch longer than a dash is a
    track bed, a road's edge or a building's shadow, not the gap behind a car.
    """
    width, _, _ = band_geometry(gsd_m, params)
    lin = np.asarray(linear_lum, np.float32)
    dark = (lin < params.along_dash_ratio * sunlit_reference(lin, gsd_m, params)).astype(np.float32)
    share = cv2.blur(dark, (1, body_rows(width)))
    share[~core] = 0.0
    band = (share >= params.along_dash_share).view(np.uint8)
    longest = to_px(params.along_dash_max_m, gsd_m) + 1
    stripes = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, longest), np.uint8)).view(bool)
    share[stripes | (band == 0)] = 0.0
    return share


def edged_gate(dashes: np.ndarray, gsd_m: float, params: DetectorParams) -> np.ndarray:
    """1 (float32) where a dash of :func:`dash_map` lies on the same frame row within the longest car
    (``car_length_max_m``) along the track, else 0."""
    length = 2 * to_px(params.car_length_max_m, gsd_m) + 1
    return cv2.dilate((dashes > 0).view(np.uint8), np.ones((1, length), np.uint8)).astype(np.float32)


def dash_context(dashes: np.ndarray, cars: FrameCars, shadow_x: float, gsd_m: float) -> np.ndarray:
    """:data:`ALONG_CONTEXT` rows of one frame's candidates, shape (n, 3).

    ``shadow_x`` is the along-track (frame x) component of the direction shadows point in: its
    sign says which end of a car is away from the sun. Each value is the largest of
    :func:`dash_map` over the stretch read, on the candidate's row and the rows either side.
    """
    n = cars.x.size
    out = np.zeros((n, len(ALONG_CONTEXT)))
    if not n:
        return out
    rows, cols = dashes.shape
    away = 1.0 if shadow_x >= 0 else -1.0
    inside, beyond = END_INSIDE_M / gsd_m, END_BEYOND_M / gsd_m
    for k, (x, y, length) in enumerate(zip(cars.x, cars.y, cars.length, strict=True)):
        r = round(float(y))
        band = dashes[max(0, r - 1) : min(rows, r + 2)]
        if not band.size:
            continue
        half = 0.5 * length
        stretches = (
            sorted((x + away * (half - inside), x + away * (half + beyond))),
            sorted((x - away * (half + beyond), x - away * (half - inside))),
            (x - 0.3 * length, x + 0.3 * length),
        )
        for j, (a, b) in enumerate(stretches):
            c0, c1 = max(0, int(np.floor(a))), min(cols, int(np.ceil(b)) + 1)
            if c1 > c0:
                out[k, j] = float(band[:, c0:c1].max())
    return out
