"""The railcar detector: a SceneWindow in, Detections out. Pure compute, no I/O.

Stages (each in its own module):

1. :mod:`~railcount.detect.prepare` -- robust stretch, log luminance;
2. :mod:`~railcount.detect.orientation` -- the yard's track directions;
3. per direction, a :class:`~railcount.detect.frame.TrackFrame` with the
   tracks along the rows, in which :mod:`~railcount.detect.cars` finds car
   bodies beside their shadows (the side from :mod:`~railcount.detect.sun`)
   and splits occupied runs into cars;
4. detections from all directions are mapped back to window pixels, merged,
   and those whose centre lies in the station polygon are kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from railcount.detect.cars import band_strength, centreline_runs, split_runs
from railcount.detect.classify import car_features, classify
from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.prepare import Prepared, prepare
from railcount.detect.sun import SunPosition, shadow_vector_px, solar_position
from railcount.models import Detections, SceneWindow


def detect(window: SceneWindow, params: DetectorParams | None = None) -> Detections:
    """Find the railcars in a window.

    Parameters
    ----------
    window : SceneWindow
        Pixels clipped to a station (with a margin), with their GSD.
    params : DetectorParams, optional
        Defaults to ``DetectorParams()``.

    Returns
    -------
    Detections
        Cars whose centre lies inside the station polygon, in window pixels.
    """
    params = params or DetectorParams()
    # Work no finer than work_gsd_m: cars (about 3 m) and coupling gaps (0.6-1.5 m)
    # stay resolved and very fine imagery costs less. (At 0.5 m, Muttenz's 0.25 m
    # wagons lose precision: 0.77 against 0.92 at native resolution.)
    scale = min(1.0, window.gsd_m / params.work_gsd_m)
    prep = prepare(window, scale=scale)
    gsd = window.gsd_m / scale
    directions = track_directions(
        prep.log_lum,
        prep.data,
        gsd,
        max_directions=params.max_directions,
        min_share=params.direction_min_share,
    )
    centre = window.station.geometry.centroid
    sun = solar_position(centre.x, centre.y, window.acquired)
    found = [_detect_along(prep, gsd, angle, params, sun) for angle in directions]
    dets = _merge(Detections.concat(found), gsd, params)
    if not len(dets):
        return dets
    if scale < 1.0:
        dets = dets.scaled(1.0 / scale)
    rows = np.clip(np.round(dets.center[:, 0]).astype(int), 0, window.shape[0] - 1)
    cols = np.clip(np.round(dets.center[:, 1]).astype(int), 0, window.shape[1] - 1)
    keep = window.inside[rows, cols] & window.data[rows, cols] & (dets.score >= params.min_score)
    return dets.subset(keep)


def _detect_along(
    prep: Prepared, gsd: float, angle: float, params: DetectorParams, sun: SunPosition
) -> Detections:
    frame = TrackFrame.for_direction(prep.data.shape, angle)
    side = _shadow_side(frame, sun)
    log_f = frame.warp(prep.log_lum)
    rgb_f = frame.warp(prep.rgb)
    lin_f = frame.warp(prep.linear_lum)
    data_f = frame.warp(prep.data, nearest=True)
    # Keep filters away from the edge of the data, where the fill makes false edges.
    edge = to_px(1.0, gsd)
    core = cv2.erode(data_f.astype(np.uint8), np.ones((2 * edge + 1, 2 * edge + 1), np.uint8)).astype(bool)
    strength = band_strength(
        rgb_f, log_f, lin_f, core, gsd, params, shadow_side=side, side_is_known=not sun.assumed_time
    )
    runs = centreline_runs(strength, core, gsd, params)
    cars = split_runs(runs, rgb_f, gsd, params)
    if not cars.x.size:
        return Detections.empty()
    if params.classify_types:
        curvature, roughness = car_features(log_f, cars.x, cars.y, cars.length, gsd, params)
        seen_apart = (cars.method == "gap") & (gsd <= params.gap_visible_gsd_m)
        kind, tarped = classify(curvature, roughness, cars.length * gsd, seen_apart)
    else:
        kind, tarped = np.full(cars.x.size, "railcar", dtype="<U10"), np.zeros(cars.x.size, bool)
    xy = frame.to_window(np.column_stack([cars.x, cars.y]))
    n = cars.x.size
    return Detections(
        center=xy[:, ::-1].copy(),
        length=cars.length,
        width=np.full(n, params.car_width_m / gsd),
        angle_deg=np.full(n, angle % 180.0),
        score=cars.score,
        kind=kind,
        method=cars.method,
        tarped=tarped,
    )


def _shadow_side(frame: TrackFrame, sun: SunPosition) -> str | None:
    """The side ("up" = smaller rows) of the tracks shadows fall on in ``frame``, or None.

    None when the sun is low or below the horizon, or shadows run within
    about 17 degrees of the track (they then fall on the track itself).
    """
    if sun.elevation_deg < 5.0:
        return None
    dx, dy = shadow_vector_px(sun)
    across = float(frame.matrix[1, 0] * dx + frame.matrix[1, 1] * dy)
    if abs(across) < 0.3:
        return None
    return "up" if across < 0 else "down"


def _merge(dets: Detections, gsd: float, params: DetectorParams) -> Detections:
    """Drop detections whose centre lies within half a short car of a stronger one (greedy NMS)."""
    if len(dets) < 2:
        return dets
    radius = 0.5 * params.car_length_min_m / gsd
    order = np.argsort(-dets.score, kind="stable")
    c = dets.center[order]
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)
    close = d2 < radius * radius
    keep = np.ones(len(order), dtype=bool)
    for i in range(len(order)):
        if keep[i]:
            later = close[i].copy()
            later[: i + 1] = False
            keep[later] = False
    return dets.subset(np.sort(order[keep]))
