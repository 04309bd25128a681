"""The railcar detector: a SceneWindow in, Detections out. Pure compute, no I/O.

Stages (each in its own module):

1. :mod:`~railcount.detect.prepare` -- robust stretch, log luminance;
2. :mod:`~railcount.detect.orientation` -- the yard's track directions;
3. per direction, a :class:`~railcount.detect.frame.TrackFrame` with the
   tracks along the rows, in which :mod:`~railcount.detect.cars` finds car
   bodies beside their shadows (the side from :mod:`~railcount.detect.sun`)
   and splits occupied runs into cars;
4. each candidate car is described by what the evidence saw along it and
   scored by a fitted logistic model (:mod:`~railcount.detect.candidates`);
5. candidates from all directions are mapped back to window pixels, those
   the model believes are kept; fitted models call locomotives and, from
   the shadow, cross-track profile, unevenness and colour of each car
   (:mod:`~railcount.detect.types`), its type and whether its load is
   tarped; kept candidates are merged, and those whose centre lies in the
   station polygon are returned.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from railcount.detect.candidates import FEATURES, car_features, car_probability, locomotive_probability
from railcount.detect.cars import centreline_runs, split_runs
from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.prepare import Prepared, prepare
from railcount.detect.strips import frame_evidence
from railcount.detect.sun import SunPosition, shadow_vector_px, solar_position
from railcount.detect.types import (
    TYPE_CLASSES,
    TYPE_FEATURES,
    shadow_per_height,
    type_features,
    type_probabilities,
)
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
        ``score`` is the car model's probability (or, where no shadow side
        could be chosen, the band strength of the run).
    """
    params = params or DetectorParams()
    dets, features, types = candidates(window, params)
    if not len(dets):
        return dets
    described = np.isfinite(features).all(axis=1)
    if params.car_model and described.any():
        prob = np.zeros(len(dets))
        prob[described] = car_probability(features[described])
        score = np.where(described, prob, dets.score)
        dets = dataclasses.replace(dets, score=score)
        keep = ~described | (prob >= params.min_car_probability)
        dets, features, types, described = dets.subset(keep), features[keep], types[keep], described[keep]
        dets = _name_kinds(dets, features, types, described, window.gsd_m, params)
    dets = _merge(dets, window.gsd_m, params)
    return dets.subset(_in_station(window, dets) & (dets.score >= params.min_score))


def _name_kinds(
    dets: Detections,
    features: np.ndarray,
    types: np.ndarray,
    described: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
) -> Detections:
    """Call kept candidates locomotives; classify the railcars by type and tarped load (fitted models)."""
    kind, tarped = dets.kind.copy(), dets.tarped.copy()
    if params.classify_types:
        typed = described & np.isfinite(types).all(axis=1)
        if typed.any():
            probs, p_tarp = type_probabilities(features[typed], types[typed], gsd_m)
            best = np.asarray(TYPE_CLASSES)[probs.argmax(axis=1)]
            sure = probs.max(axis=1) >= params.min_type_probability
            tarp = p_tarp >= params.min_tarp_probability
            # A tarped load rides on a flat car.
            kind[typed] = np.where(tarp, "flat", np.where(sure, best, "railcar"))
            tarped[typed] = tarp
    if params.locomotive_model and described.any():
        loco = np.zeros(len(dets), bool)
        loco[described] = locomotive_probability(features[described]) >= params.min_locomotive_probability
        kind[loco] = "locomotive"
        tarped[loco] = False
    return dataclasses.replace(dets, kind=kind, tarped=tarped)


def candidates(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[Detections, np.ndarray, np.ndarray]:
    """Every candidate car before scoring and merging, in window pixels, with its feature rows.

    Returns the candidates, their :data:`FEATURES` rows (for the car and
    locomotive models) and their :data:`TYPE_FEATURES` rows (for the type
    model). Rows are NaN where no shadow side could be chosen (the candidate
    then keeps its band strength as score). Used by :func:`detect` and, to
    fit the models, by ``benchmarks/fit_car_model.py``.
    """
    params = params or DetectorParams()
    # Work no finer than work_gsd_m: cars (about 3 m) and coupling gaps (0.6-1.5 m)
    # stay resolved and very fine imagery costs less. (At 0.5 m, Muttenz's 0.25 m
    # wagons lose precision: 0.77 against 0.92 at native resolution.)
    scale = min(1.0, window.gsd_m / params.work_gsd_m)
    prep = prepare(window, scale=scale, haze_floor=params.haze_floor)
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
    dets = Detections.concat([d for d, _, _ in found])
    features = np.vstack([f for _, f, _ in found]) if found else np.zeros((0, len(FEATURES)))
    types = np.vstack([t for _, _, t in found]) if found else np.zeros((0, len(TYPE_FEATURES)))
    if scale < 1.0 and len(dets):
        dets = dets.scaled(1.0 / scale)
    return dets, features, types


def _in_station(window: SceneWindow, dets: Detections) -> np.ndarray:
    rows = np.clip(np.round(dets.center[:, 0]).astype(int), 0, window.shape[0] - 1)
    cols = np.clip(np.round(dets.center[:, 1]).astype(int), 0, window.shape[1] - 1)
    return window.inside[rows, cols] & window.data[rows, cols]


def candidates_in_station(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[Detections, np.ndarray, np.ndarray]:
    """:func:`candidates` whose centre lies inside the station polygon."""
    dets, features, types = candidates(window, params)
    if not len(dets):
        return dets, features, types
    keep = _in_station(window, dets)
    return dets.subset(keep), features[keep], types[keep]


def _detect_along(
    prep: Prepared, gsd: float, angle: float, params: DetectorParams, sun: SunPosition
) -> tuple[Detections, np.ndarray, np.ndarray]:
    frame = TrackFrame.for_direction(prep.data.shape, angle)
    side, across = _shadow_side(frame, sun)
    log_f = frame.warp(prep.log_lum)
    rgb_f = frame.warp(prep.rgb)
    lin_f = frame.warp(prep.linear_lum)
    data_f = frame.warp(prep.data, nearest=True)
    # Keep filters away from the edge of the data, where the fill makes false edges.
    edge = to_px(1.0, gsd)
    core = cv2.erode(data_f.view(np.uint8), np.ones((2 * edge + 1, 2 * edge + 1), np.uint8)).view(bool)
    strength, terms = frame_evidence(
        rgb_f, log_f, lin_f, data_f, core, gsd, params, shadow_side=side, side_is_known=not sun.assumed_time
    )
    runs = centreline_runs(strength, core, gsd, params)
    cars = split_runs(runs, rgb_f, gsd, params)
    if not cars.x.size:
        return Detections.empty(), np.zeros((0, len(FEATURES))), np.zeros((0, len(TYPE_FEATURES)))
    if terms is not None:
        features = car_features(terms, strength, cars, gsd, sun.elevation_deg, log_f)
        types = type_features(terms, lin_f, cars, gsd, shadow_per_height(sun.elevation_deg, across))
    else:
        features = np.full((cars.x.size, len(FEATURES)), np.nan)
        types = np.full((cars.x.size, len(TYPE_FEATURES)), np.nan)
    xy = frame.to_window(np.column_stack([cars.x, cars.y]))
    n = cars.x.size
    dets = Detections(
        center=xy[:, ::-1].copy(),
        length=cars.length,
        width=np.full(n, params.car_width_m / gsd),
        angle_deg=np.full(n, angle % 180.0),
        score=cars.score,
        kind=np.full(n, "railcar", dtype="<U10"),
        method=cars.method,
        tarped=np.zeros(n, bool),
    )
    return dets, features, types


def _shadow_side(frame: TrackFrame, sun: SunPosition) -> tuple[str | None, float]:
    """The side ("up" = smaller rows) of the tracks shadows fall on in ``frame`` (or None), and ``across``.

    ``across`` is the cross-track component of the unit shadow direction.
    The side is None when the sun is low or below the horizon, or shadows
    run within about 17 degrees of the track (they then fall on the track
    itself).
    """
    dx, dy = shadow_vector_px(sun)
    across = float(frame.matrix[1, 0] * dx + frame.matrix[1, 1] * dy)
    if sun.elevation_deg < 5.0 or abs(across) < 0.3:
        return None, across
    return ("up" if across < 0 else "down"), across


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
