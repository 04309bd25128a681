"""The railcar detector: a SceneWindow in, Detections out. Pure compute, no I/O.

Stages (each in its own module):

1. :mod:`~railcount.detect.prepare` -- robust stretch, log luminance;
2. :mod:`~railcount.detect.orientation` -- the yard's track directions;
3. per direction, a :class:`~railcount.detect.frame.TrackFrame` with the
   tracks along the rows, in which :mod:`~railcount.detect.cars` finds car
   bodies beside their shadows (the side from :mod:`~railcount.detect.sun`)
   and splits occupied runs into cars;
4. each candidate car is described by what the evidence saw along it and
   scored by the fitted car model (boosted trees,
   :mod:`~railcount.detect.candidates`); the holes that the believed
   candidates leave on each track line, and the ends of the lines, are
   proposed as cars too and judged by the fitted fill model
   (:mod:`~railcount.detect.fill`); the roof model says where each box goes
   (:mod:`~railcount.detect.roofs`);
5. candidates from all directions are mapped back to window pixels, those
   the models believe are kept; fitted models call locomotives and, from
   the shadow, cross-track profile, unevenness and colour of each car
   (:mod:`~railcount.detect.types`), its type and whether its load is
   tarped; kept candidates are merged where their boxes were placed, and
   those whose centre lies in the station polygon are returned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from railcount.cautions import shadow_px
from railcount.detect.candidates import (
    FEATURES,
    along_probability,
    car_features,
    car_probability,
    locomotive_probability,
)
from railcount.detect.cars import BandTerms, FrameCars, Runs, centreline_runs, pitch_box_centres, split_runs
from railcount.detect.dashes import ALONG_CONTEXT, dash_context, dash_map, edged_gate
from railcount.detect.exemplars import angle_apart, rescued
from railcount.detect.fill import FILL_CONTEXT, fill_probability, gap_fills
from railcount.detect.frame import TrackFrame, along_across
from railcount.detect.orientation import direction_peaks
from railcount.detect.params import DetectorParams, to_px, working_scale
from railcount.detect.prepare import Levels, Prepared, prepare
from railcount.detect.regions import (
    MIN_SHARE,
    PIECE_SHARE,
    REGION_GSD_M,
    Piece,
    coarse,
    curve_pieces,
    direction_regions,
)
from railcount.detect.roofs import alternatives, choose_rows, roof_probability
from railcount.detect.stretch import NONE as NO_LIFTS
from railcount.detect.stretch import BandLifts, lifted, lifts_for
from railcount.detect.strips import frame_evidence, sided_evidence
from railcount.detect.sun import (
    ALONG_SHADOW_ACROSS,
    SunPosition,
    shadow_across,
    shadow_vector_px,
    window_sun,
)
from railcount.detect.types import (
    TYPE_CLASSES,
    TYPE_FEATURES,
    shadow_per_height,
    type_features,
    type_probabilities,
)
from railcount.models import Detections, SceneWindow
from railcount.runtime import shared_map


def detect(
    window: SceneWindow,
    params: DetectorParams | None = None,
    *,
    stats: WindowStats | None = None,
    lifts: BandLifts | None = None,
    levels_out: list[Levels] | None = None,
) -> Detections:
    """Find the railcars in a window.

    Parameters
    ----------
    window : SceneWindow
        Pixels clipped to a station (with a margin), with their GSD.
    params : DetectorParams, optional
        Defaults to ``DetectorParams()``.
    stats : WindowStats, optional
        For a tile of a larger window (:func:`~railcount.detect.tiles.detect_in_tiles`): the larger
        window's stretch, haze, snow and track directions, used instead of the tile's own.
    lifts : BandLifts, optional
        :func:`~railcount.detect.stretch.lifts_for` of ``window`` with ``params``, when the caller
        has it already (a count reads it for its caution too); read here otherwise.
    levels_out : list, optional
        Where the :class:`~railcount.detect.prepare.Levels` the bands were prepared with are appended
        (whether a light stretch was levelled, for the count's caution).

    Returns
    -------
    Detections
        Cars whose centre lies inside the station polygon, in window pixels.
        ``score`` is the car model's probability (the along model's where
        the sun shines along the tracks, the fill model's for a car in a
        hole of a consist; where no shadow side could be chosen and no model
        judged, the band strength of the run).
    """
    params = params or DetectorParams()
    # A picture a contrast stretch clipped is lifted back first (the window's own lifts, or for a
    # tile the whole window's).
    if stats is not None:
        lifts = stats.lifts
    elif lifts is None:
        lifts = lifts_for(window, params)
    window = lifted(window, lifts)
    found = _candidates(window, params, stats=stats)
    if levels_out is not None and found.levels is not None:
        levels_out.append(found.levels)
    dets, features, types = found.dets, found.features, found.types
    placed, beside = found.placed, found.beside
    if not len(dets):
        return dets
    index = np.arange(len(dets))
    described = np.isfinite(features).all(axis=1)
    if params.car_model and described.any():
        prob, threshold = _judge(found, window.gsd_m, params)
        # With ``exemplar_rescue`` (off by default, session 60), a turned-down candidate that looks
        # like the scene's own confident cars, in a chain of candidates end to end, is kept, scored at
        # the threshold it missed.
        judged = described & ~np.isfinite(found.fill_context).all(axis=1) & ~found.along
        second = rescued(window, placed, dets.angle_deg, dets.length, prob, threshold, judged, params)
        prob = np.where(second, threshold, prob)
        dets = dataclasses.replace(dets, score=np.where(described, prob, dets.score))
        keep = ~described | (prob >= threshold)
        dets, features, types, described = dets.subset(keep), features[keep], types[keep], described[keep]
        index = index[keep]
        dets = _name_kinds(dets, features, types, described, window.gsd_m, params)
    if params.merge_placed:
        dets = dataclasses.replace(dets, center=placed[index])
        dets = dets.subset(_merge(dets, window.gsd_m, params, beside[index]))
    else:
        kept = _merge(dets, window.gsd_m, params, beside[index])
        # The count is decided where the band evidence found each car; its box is then
        # drawn where the roof model puts it (the same place when placement is off).
        dets = dataclasses.replace(dets.subset(kept), center=placed[index[kept]])
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
    # Cars counted in a hole of a consist: the type, tarp and locomotive models never saw one, and
    # their tarp and locomotive calls there were nearly all wrong (detector 0.6.19).
    fill = dets.method == "fill"
    if params.classify_types:
        typed = described & np.isfinite(types).all(axis=1)
        if typed.any():
            probs, p_tarp = type_probabilities(features[typed], types[typed], gsd_m)
            best = np.asarray(TYPE_CLASSES)[probs.argmax(axis=1)]
            sure = probs.max(axis=1) >= params.min_type_probability
            tarp = p_tarp >= params.min_tarp_probability
            if not params.tarps_on_fills:
                tarp &= ~fill[typed]
            # A tarped load rides on a flat car.
            kind[typed] = np.where(tarp, "flat", np.where(sure, best, "railcar"))
            tarped[typed] = tarp
    if params.locomotive_model and described.any():
        loco = np.zeros(len(dets), bool)
        loco[described] = locomotive_probability(features[described]) >= params.min_locomotive_probability
        if not params.locomotives_on_fills:
            loco &= ~fill
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
    then keeps its band strength as score). The gap-fill proposals are not
    among them (:func:`fill_candidates`). Used, to fit the models, by
    ``benchmarks/fit_car_model.py``, and by ``benchmarks/misses.py``.
    """
    # Where boxes would be drawn is not asked for here: skip placing them. Gap-fill
    # proposals are made from scored candidates (see fill_candidates).
    params = dataclasses.replace(
        params or DetectorParams(), localise_roofs=False, fill_gaps=False, along_model=False
    )
    found = _candidates(window, params)
    return found.dets, found.features, found.types


def _judge(found: _Found, gsd_m: float, params: DetectorParams) -> tuple[np.ndarray, np.ndarray]:
    """The probability the judging model gives each candidate (0 where not described) and the least
    it must reach to be kept: the along model where the sun shines along the tracks, the fill model
    for a car in a hole of a consist, the car model elsewhere. ``gsd_m``: of the candidates' pixels."""
    features, fill_context, along = found.features, found.fill_context, found.along
    described = np.isfinite(features).all(axis=1)
    filled = described & np.isfinite(fill_context).all(axis=1)
    own = described & ~filled & ~along
    judged_along = described & along
    prob = np.zeros(len(found.dets))
    prob[own] = car_probability(features[own])
    if judged_along.any():
        prob[judged_along] = along_probability(features[judged_along], found.along_ctx[judged_along])
    if filled.any():
        prob[filled] = fill_probability(features[filled], fill_context[filled])
    # A piece shorter than nearly every railcar needs more of the car model (0.6.2).
    short = found.dets.length * gsd_m < params.short_car_m
    short_least = max(params.min_car_probability, params.min_short_car_probability)
    car_least = np.where(short, short_least, params.min_car_probability)
    # A car beyond the end of a line (FILL_CONTEXT fill_cars 0) has one believed neighbour, not two.
    at_end = filled & (fill_context[:, FILL_CONTEXT.index("fill_cars")] == 0)
    fill_least = np.where(at_end, params.min_fill_end_probability, params.min_fill_probability)
    threshold = np.where(filled, fill_least, car_least)
    return prob, np.where(along, params.min_along_probability, threshold)


def judged_candidates(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[Detections, np.ndarray, np.ndarray]:
    """Every candidate car as the detector judges it, before merging: the candidates, the probability
    the judging model gives each and the least it must reach to be kept. For diagnosis
    (``benchmarks/misses.py``).

    Unlike :func:`candidates`, a direction the sun shines along is read as the detector reads it
    (both shadow sides, the along model judging, :func:`sun_along`); elsewhere the car model
    judges, with the detector's thresholds (:func:`_judge`). Gap-fill proposals are left out, as
    in :func:`candidates`. Undescribed candidates get probability 1 (they keep their band
    strength, nothing judges them).
    """
    params = dataclasses.replace(params or DetectorParams(), localise_roofs=False, fill_gaps=False)
    found = _candidates(window, params)
    prob, least = _judge(found, window.gsd_m, params)
    described = np.isfinite(found.features).all(axis=1)
    return found.dets, np.where(described, prob, 1.0), least


def along_candidates(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[Detections, np.ndarray]:
    """The candidates proposed where the sun shines along the tracks, in the station, before the along model.

    Where a track direction has no shadow side (:func:`sun_along`) the
    band evidence is read with the shadows on each side in turn; this
    returns the described candidates both readings propose whose centre
    lies in the station, and their :data:`FEATURES` rows followed by their
    :data:`~railcount.detect.dashes.ALONG_CONTEXT` columns (what
    :func:`~railcount.detect.candidates.along_probability` reads). Used by
    ``benchmarks/fit_car_model.py`` to fit the along model.
    """
    params = dataclasses.replace(params or DetectorParams(), localise_roofs=False, along_model=True)
    found = _candidates(window, params)
    dets, rows = found.dets, np.hstack([found.features, found.along_ctx])
    keep = found.along & np.isfinite(rows).all(axis=1)
    if len(dets):
        keep &= _in_station(window, dets)
    return dets.subset(keep), rows[keep]


def fill_candidates(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[Detections, np.ndarray, np.ndarray]:
    """The gap-fill proposals (:mod:`.fill`) whose centre lies in the station, before the fill model.

    Returns the proposals, their :data:`FEATURES` rows and their
    :data:`~railcount.detect.fill.FILL_CONTEXT` rows (only described ones).
    The proposals are made from the candidates the shipped car model
    believes, so ``fill_gaps`` and ``car_model`` are switched on. Used by
    ``benchmarks/fit_car_model.py`` to fit the fill model.
    """
    params = dataclasses.replace(
        params or DetectorParams(), localise_roofs=False, fill_gaps=True, car_model=True, along_model=False
    )
    found = _candidates(window, params)
    dets, features, fill_context = found.dets, found.features, found.fill_context
    keep = np.isfinite(fill_context).all(axis=1) & np.isfinite(features).all(axis=1)
    if len(dets):
        keep &= _in_station(window, dets)
    return dets.subset(keep), features[keep], fill_context[keep]


_Reading = tuple[Detections, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""What one reading of a frame proposes (:func:`_detect_along`)."""


class _Found(NamedTuple):
    """What :func:`_candidates` finds in a window: one row per candidate in each."""

    dets: Detections
    features: np.ndarray  # FEATURES rows (NaN where not described)
    types: np.ndarray  # TYPE_FEATURES rows
    placed: np.ndarray  # where each box goes, window (row, col)
    fill_context: np.ndarray  # FILL_CONTEXT rows (NaN but for gap-fill proposals)
    beside: np.ndarray  # in the shadow of a believed car a track over
    along: np.ndarray  # proposed where the sun shines along the tracks
    along_ctx: np.ndarray  # ALONG_CONTEXT rows (NaN but where ``along``)
    levels: Levels | None = None  # what the window's bands were prepared with


def _candidates(
    window: SceneWindow,
    params: DetectorParams | None = None,
    *,
    log: list[tuple[np.ndarray, float, np.ndarray]] | None = None,
    stats: WindowStats | None = None,
) -> _Found:
    """Every candidate of every track frame (:class:`_Found`): :func:`candidates`, where each
    candidate's box goes, the :data:`~railcount.detect.fill.FILL_CONTEXT` rows, which candidates
    stand in the shadow of a believed car a track over (:func:`_beside_believed`), which were
    proposed where the sun shines along the tracks, for the along model (with
    ``params.along_model``; see :func:`sun_along`), and their
    :data:`~railcount.detect.dashes.ALONG_CONTEXT` rows.

    With ``log``, each track direction appends its candidates' three
    positions (window pixels), direction and feature rows
    (:func:`roof_alternatives`).
    """
    prep, scale, gsd, params, directions, sun, regions = _set_up(window, params or DetectorParams(), stats)
    first = len(log) if log is not None else 0
    # (The roof model's fit, with ``log``, reads every direction the one-sided way.)
    reads = [bool(log is None and read_along(a, sun, gsd, params)) for a in directions]

    def read(k: int, side: np.ndarray | None = None) -> tuple[list[_Reading], np.ndarray | None]:
        return _read_direction(prep, gsd, directions[k], params, sun, regions[k], log, reads[k], side)

    # The frames are independent: a second process may read some of them (never with ``log``,
    # which this process must fill), and the results come back in the frames' order.
    n = len(directions)
    if params.piece_side_from_main and sun.assumed_time and log is None:
        per_frame = _read_pieces_after_mains(read, directions, regions, params)
    else:
        per_frame = [r for r, _ in (shared_map(read, n) if log is None else [read(k) for k in range(n)])]
    found = []
    along_rows = []
    for reads_along, readings in zip(reads, per_frame, strict=True):
        for one in readings:
            found.append(one)
            along_rows.append(np.full(len(one[0]), reads_along))
    along = np.concatenate(along_rows) if along_rows else np.zeros(0, bool)
    dets = Detections.concat([d for d, *_ in found])
    features = np.vstack([f[1] for f in found]) if found else np.zeros((0, len(FEATURES)))
    types = np.vstack([f[2] for f in found]) if found else np.zeros((0, len(TYPE_FEATURES)))
    placed = np.vstack([f[3] for f in found]) if found else np.zeros((0, 2))
    fill_context = np.vstack([f[4] for f in found]) if found else np.zeros((0, len(FILL_CONTEXT)))
    beside = np.concatenate([f[5] for f in found]) if found else np.zeros(0, bool)
    along_ctx = np.vstack([f[6] for f in found]) if found else np.zeros((0, len(ALONG_CONTEXT)))
    if scale < 1.0 and len(dets):
        dets = dets.scaled(1.0 / scale)
        placed = (placed + 0.5) / scale - 0.5
    if log is not None and scale < 1.0:
        log[first:] = [((at + 0.5) / scale - 0.5, angle, three) for at, angle, three in log[first:]]
    return _Found(dets, features, types, placed, fill_context, beside, along, along_ctx, prep.levels)


def _read_pieces_after_mains(
    read: Callable[[int, np.ndarray | None], tuple[list[_Reading], np.ndarray | None]],
    directions: list[float],
    regions: list[np.ndarray | Piece | None],
    params: DetectorParams,
) -> list[list[_Reading]]:
    """Every frame's readings, the main frames read first and each curve piece then on the side of the
    window the nearest main frame (within ``params.piece_side_max_deg``) chose
    (``params.piece_side_from_main``); in the frames' order."""
    n = len(directions)
    mains = [k for k in range(n) if not isinstance(regions[k], Piece)]
    pieces = [k for k in range(n) if isinstance(regions[k], Piece)]
    first = shared_map(lambda i: read(mains[i], None), len(mains))
    chosen = [(directions[k], side) for k, (_, side) in zip(mains, first, strict=True) if side is not None]

    def side_for(k: int) -> np.ndarray | None:
        if not chosen:
            return None
        off = angle_apart(np.array(directions[k]), np.array([a for a, _ in chosen]))
        return None if off.min() > params.piece_side_max_deg else chosen[int(np.argmin(off))][1]

    later = shared_map(lambda i: read(pieces[i], side_for(pieces[i])), len(pieces))
    out: list[list[_Reading]] = [[] for _ in range(n)]
    for k, (readings, _) in [*zip(mains, first, strict=True), *zip(pieces, later, strict=True)]:
        out[k] = readings
    return out


def _read_direction(
    prep: Prepared,
    gsd: float,
    angle: float,
    params: DetectorParams,
    sun: SunPosition,
    region: np.ndarray | Piece | None,
    log: list[tuple[np.ndarray, float, np.ndarray]] | None,
    along: bool,
    side: np.ndarray | None = None,
) -> tuple[list[_Reading], np.ndarray | None]:
    """:func:`_detect_along` on each reading of one direction's frame: one, or with ``along`` two.

    With ``along`` (the sun shines along the direction, :func:`sun_along`) no shadow lies beside
    the cars: the band evidence is read with the shadows on each side in turn (one warp, one dash
    map and one pass of the band maps serve both), without gap fills, and the along model judges
    what both readings propose. The frame's maps go when this returns: the next direction's frame
    is not made while they are held. Where the sun does give the frame a side (its shadows across
    the tracks are short, :func:`short_shadows_across`), the one reading on that side is made.

    Also returned: the side of the window (x, y) the one reading took its shadows to fall on, as
    the unit vector across the frame towards it (None for two readings or none taken); ``side``,
    such a vector, makes the reading take the side of this frame that lies towards it.
    """
    if along:
        no_fills = dataclasses.replace(params, fill_gaps=False)
        frame, readings = _frame_maps(prep, gsd, angle, no_fills, sun, region, ("up", "down"))
        return [
            _detect_along(frame, maps, gsd, angle, no_fills, sun, None, region) for maps in readings
        ], None
    frame, (maps,) = _frame_maps(prep, gsd, angle, params, sun, region, world_side=side)
    taken = None if maps.terms is None else _side_vector(frame, maps.terms.shadow_side)
    return [_detect_along(frame, maps, gsd, angle, params, sun, log, region)], taken


def _side_vector(frame: TrackFrame, side: str) -> np.ndarray:
    """The unit vector in window (x, y) across ``frame`` towards its ``side`` ("up": smaller rows)."""
    up = -np.array([frame.matrix[1, 0], frame.matrix[1, 1]], dtype=float)
    up /= max(float(np.hypot(*up)), 1e-12)
    return up if side == "up" else -up


def sun_along(angle: float, sun: SunPosition) -> bool:
    """Whether the sun (at a known time, 5 degrees up or more) throws the shadows along the tracks of
    direction ``angle`` (within about 17 degrees), so that a frame of it has no shadow side
    (:func:`_shadow_side` reads the same cross-track component from the frame's rotation)."""
    if sun.assumed_time or sun.elevation_deg < 5.0:
        return False
    return shadow_across(angle, sun) < ALONG_SHADOW_ACROSS


def short_shadows_across(angle: float, sun: SunPosition, gsd: float, params: DetectorParams) -> bool:
    """Whether the shadow a 4 m car casts across the tracks of direction ``angle`` (the short-shadow
    caution's :func:`~railcount.cautions.shadow_px`, times its cross-track share) is under
    ``params.short_shadow_along_px`` pixels at ``gsd`` (no coarser than
    ``params.short_shadow_along_max_gsd_m``; the sun at a known time, 5 degrees up or more): too
    short for the band evidence's shadow test, so the direction is read as :func:`sun_along`'s are
    (detector 0.6.21)."""
    if params.short_shadow_along_px <= 0 or gsd > params.short_shadow_along_max_gsd_m:
        return False
    if sun.assumed_time or sun.elevation_deg < 5.0:
        return False
    return shadow_px(sun.elevation_deg, gsd) * shadow_across(angle, sun) < params.short_shadow_along_px


def read_along(angle: float, sun: SunPosition, gsd: float, params: DetectorParams) -> bool:
    """Whether the detector reads direction ``angle`` as it reads the sun shining along the tracks,
    the along model judging: the sun does shine along it (:func:`sun_along`; the shadows are then
    put on each side in turn) or its shadows across the tracks are too short to read
    (:func:`short_shadows_across`; on the side the sun gives); with ``params.along_model``."""
    return params.along_model and (sun_along(angle, sun) or short_shadows_across(angle, sun, gsd, params))


def roof_alternatives(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every described candidate where it was found and one roof width to either side (roof model fit).

    Finds the candidates with the roof placement off. Returns the
    centres, shape (n, 3, 2) in window (row, col) pixels (own row, then
    towards smaller and larger frame rows), the track direction of each
    (degrees, (n,)), and the :data:`FEATURES` rows at the three positions,
    shape (n, 3, len(FEATURES)). Used by ``benchmarks/fit_car_model.py``.
    """
    params = dataclasses.replace(params or DetectorParams(), localise_roofs=False)
    log: list[tuple[np.ndarray, float, np.ndarray]] = []
    _candidates(window, params, log=log)
    if not log:
        return np.zeros((0, 3, 2)), np.zeros(0), np.zeros((0, 3, len(FEATURES)))
    centres = np.concatenate([at for at, _, _ in log])
    angles = np.concatenate([np.full(len(at), angle) for at, angle, _ in log])
    three = np.concatenate([f for _, _, f in log])
    return centres, angles, three


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


def _prepare(
    window: SceneWindow, scale: float, params: DetectorParams, levels: Levels | None = None
) -> Prepared:
    """:func:`~railcount.detect.prepare.prepare` at ``scale``, with ``params``' haze correction (or
    ``levels``, a larger window's)."""
    return prepare(
        window,
        scale=scale,
        haze_floor=params.haze_floor,
        haze_floor_ratio=params.haze_floor_ratio,
        levels=levels,
        level=(params.level_floor_ratio, params.level_max_median),
    )


@dataclass(frozen=True, eq=False)
class WindowStats:
    """What the detector reads from a whole window before it looks for cars, for the tiles of a window
    too large to count whole to read the same (:func:`~railcount.detect.tiles.window_stats`): each
    tile's own would set its contrast, its haze and snow, and which track directions its frames
    follow, by its part of the yard alone."""

    levels: Levels
    """The stretch, the haze and the snow share (:func:`~railcount.detect.prepare.prepare`)."""
    peaks: list[tuple[float, float]]
    """The track directions and their shares of the strongest
    (:func:`~railcount.detect.orientation.direction_peaks`)."""
    patched: list[bool]
    """For each direction, whether it has a patch in the window (:func:`direction_patches`): a tile
    with none of its own does not search a direction that has one elsewhere, as the whole window
    would not have searched there."""
    patches: list[list[np.ndarray]] | None = None
    """Each direction's patches in the window (with ``params.crop_frames``), in the working pixels of
    the window or, after :meth:`in_tile`, of a tile: a tile searches where the whole window would (its
    own blocks' energy is judged against the window's, not the tile's)."""
    pieces: list[Piece] | None = None
    """The window's curve pieces (with ``params.curve_pieces``), as ``patches``."""
    lifts: BandLifts = NO_LIFTS
    """The offsets given back to the bands of a contrast-stretched window
    (:func:`~railcount.detect.stretch.band_lifts`), every tile's alike."""

    def in_tile(self, x0: float, y0: float, cols: int, rows: int) -> WindowStats:
        """These statistics for the tile whose working pixels start at the window's working (``x0``,
        ``y0``) and are ``cols`` x ``rows``: the patches and pieces moved into its pixels, those that
        miss it left out."""

        def meets(points: np.ndarray) -> bool:
            lo, hi = points.min(axis=0), points.max(axis=0)
            return bool(lo[0] < cols and hi[0] >= 0 and lo[1] < rows and hi[1] >= 0)

        shift = np.array([x0, y0], float)
        patches = None
        if self.patches is not None:
            moved = [[np.asarray(p, float) - shift for p in ps] for ps in self.patches]
            patches = [[p for p in ps if len(p) and meets(p)] for ps in moved]
        pieces = None
        if self.pieces is not None:
            pieces = [q for q in (p.moved(x0, y0) for p in self.pieces) if meets(q.corners)]
        return dataclasses.replace(self, patches=patches, pieces=pieces)


def weakest_direction_share(params: DetectorParams) -> float:
    """The least share of the strongest peak a track direction needs to be followed at all."""
    weak = params.weak_direction_min_share if params.crop_frames else params.direction_min_share
    return min(weak, params.direction_min_share)


def direction_patches(
    small: np.ndarray,
    ok: np.ndarray,
    gsd: float,
    f: int,
    shape: tuple[int, int],
    peaks: list[tuple[float, float]],
    params: DetectorParams,
) -> list[list[np.ndarray]]:
    """Each track direction's patches (:func:`~railcount.detect.regions.direction_regions`), a strong
    direction's blocks held to :data:`~railcount.detect.regions.MIN_SHARE` and a weak one's to
    ``params.weak_direction_block_share``."""
    strong = [share >= params.direction_min_share for _, share in peaks]
    least = [MIN_SHARE if k else params.weak_direction_block_share for k in strong]
    return direction_regions(small, ok, gsd, f, shape, [a for a, _ in peaks], least)


def _set_up(
    window: SceneWindow, params: DetectorParams, stats: WindowStats | None = None
) -> tuple[Prepared, float, float, DetectorParams, list[float], SunPosition, list[np.ndarray | Piece | None]]:
    """What every track direction shares: the prepared bands, their scale and GSD, the
    parameters (with the snow ratio when the window is snow-covered), the track
    directions (one entry per frame: a direction may have several patches), the
    sun, and the patch each frame is cut to
    (:func:`~railcount.detect.regions.direction_regions`; None: the whole window). With
    ``params.curve_pieces``, stretches of track off every direction (curves) follow, each a
    :class:`~railcount.detect.regions.Piece` at its own direction. With ``stats`` (a tile of a larger
    window), the stretch, haze, snow share and track directions are the larger window's (and not
    refined)."""
    scale = working_scale(window.gsd_m, params)
    prep = _prepare(window, scale, params, stats.levels if stats is not None else None)
    gsd = window.gsd_m / scale
    if prep.snow_share >= params.snow_min_share:
        # Snow lights its own shadows with skylight: they sit at 0.40-0.50 of the
        # sunlit snow, astride the usual threshold (see docs/detector.md).
        params = dataclasses.replace(
            params,
            shadow_ratio=params.snow_shadow_ratio,
            # Under snow's looser shadow threshold many true cars read a partly dark sun-side
            # flank, and the believed-neighbour rule would drop those that stand alone (0.6.11).
            neighbour_shadow=params.neighbour_shadow and params.neighbour_on_snow,
        )
    if stats is not None:
        peaks = stats.peaks
    else:
        peaks = direction_peaks(
            prep.log_lum,
            prep.data,
            gsd,
            max_directions=params.max_directions,
            min_share=weakest_direction_share(params),
            refine=params.refine_directions,
        )
    directions = [a for a, _ in peaks]
    sun = window_sun(window)
    if sun.assumed_time and params.assumed_side_ratio is not None:
        params = dataclasses.replace(params, side_ratio=params.assumed_side_ratio)
    angles = list(directions)
    regions: list[np.ndarray | Piece | None] = [None] * len(directions)
    if params.crop_frames and directions:
        # One frame per patch of each direction. A strong direction with no patch keeps the whole
        # window; a weak one (a branch, or a road's edges) is searched only where it has a patch.
        # Where each direction's lines run is read from pixels of REGION_GSD_M or coarser. In a tile,
        # a strong direction with patches elsewhere in the window and none here is not searched here.
        if stats is not None and stats.patches is not None:
            # A tile: the whole window's patches and curve pieces, moved into its pixels.
            found, pieces = stats.patches, stats.pieces or []
        else:
            small, ok, f = coarse(prep.log_lum, prep.data, gsd, REGION_GSD_M)
            found = direction_patches(small, ok, gsd, f, prep.data.shape, peaks, params)
            pieces = []
            if params.curve_pieces:
                near = near_station(window, small)
                pieces = curve_pieces(small, ok, gsd, f, prep.data.shape, directions, near)
        elsewhere = stats.patched if stats is not None else [False] * len(peaks)
        patches: list[list[np.ndarray | None]] = [
            list(ps) or ([None] if share >= params.direction_min_share and not other else [])
            for ps, (_, share), other in zip(found, peaks, elsewhere, strict=True)
        ]
        angles = [a for a, ps in zip(directions, patches, strict=True) for _ in ps]
        regions = [p for ps in patches for p in ps]
        angles += [p.angle_deg for p in pieces]
        regions += pieces
    return prep, scale, gsd, params, angles, sun, regions


def shadows_along_tracks(
    window: SceneWindow, params: DetectorParams | None = None
) -> tuple[list[float], SunPosition]:
    """The window's track directions (degrees from +col towards +row) along which the sun throws the
    shadows (within about 17 degrees, :data:`~railcount.detect.sun.ALONG_SHADOW_ACROSS`), and the sun.

    The detector finds cars beside their shadows; on the generated yards of
    other layouts, where the sun sometimes shines along the tracks, it finds
    about two cars in three there (0.6.16, with the dashes the shadows leave along the track; about
    half with 0.6.15's along model, two in five before it) against four in five elsewhere
    (``benchmarks/misses.py --realism generic``). Directions are read on a
    copy of the window no finer than 0.6 m (a warning needs them to a few
    degrees), and count only where blocks of track run that way
    (:func:`~railcount.detect.regions.direction_regions`: not on plain
    ground or a town). None when the time of day is assumed (that has its
    own warning) or the sun is below 5 degrees.
    """
    params = params or DetectorParams()
    sun = window_sun(window)
    if sun.assumed_time or sun.elevation_deg < 5.0:
        return [], sun
    scale = min(1.0, window.gsd_m / REGION_GSD_M)
    prep = _prepare(window, scale, params)
    gsd = window.gsd_m / scale
    peaks = direction_peaks(
        prep.log_lum,
        prep.data,
        gsd,
        max_directions=params.max_directions,
        min_share=params.direction_min_share,
    )
    along = [a for a, _ in peaks if sun_along(a, sun)]
    if not along:
        return [], sun
    # Orderly blocks (as curve pieces ask): a town's rows of houses and cars pass the detector's 60 %.
    orderly = [PIECE_SHARE] * len(along)
    patches = direction_regions(prep.log_lum, prep.data, gsd, 1, prep.data.shape, along, orderly)
    return [a for a, ps in zip(along, patches, strict=True) if ps], sun


PIECE_REACH_M = 10.0
"""Curve pieces are looked for within this of the station polygon (a car's centre inside it may
stand on a track just outside)."""


def near_station(window: SceneWindow, small: np.ndarray) -> np.ndarray:
    """Where ``small`` (the window resampled to a coarser grid) lies within :data:`PIECE_REACH_M` of the
    station polygon."""
    rows, cols = small.shape
    inside = cv2.resize(window.inside.view(np.uint8), (cols, rows), interpolation=cv2.INTER_AREA) > 0
    px_m = window.gsd_m * window.inside.shape[1] / cols
    reach = max(1, round(PIECE_REACH_M / px_m))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    return cv2.dilate(inside.view(np.uint8), disk).view(bool)


@dataclasses.dataclass(frozen=True, eq=False)
class TrackEvidence:
    """One track direction's band evidence and what was made of it, in its frame.

    For diagnosis (``benchmarks/misses.py``): a window pixel (x, y) is the
    working pixel ((x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5), which
    ``frame.matrix`` maps into the frame.
    """

    frame: TrackFrame
    scale: float  # working pixels per window pixel
    gsd_m: float  # of the working pixels
    strength: np.ndarray  # band evidence, frame-sized
    core: np.ndarray  # where candidates may lie
    runs: Runs  # centreline runs
    cars: FrameCars  # the runs cut into candidate cars
    terms: BandTerms | None = None  # the terms behind ``strength`` (None where no side was read)


def track_evidence(
    window: SceneWindow, params: DetectorParams | None = None, *, along: bool = False
) -> list[TrackEvidence]:
    """The band evidence, runs and candidate cars of each track direction (see :class:`TrackEvidence`).

    Each direction is read once, as :func:`candidates` reads it. With ``along`` (and
    ``params.along_model``), a direction the sun shines along or whose shadows across are too short
    to read (:func:`read_along`) is read as the detector reads it instead: twice, with the shadows
    forced onto each side, one entry each (once, on the sun's side, where the sun gives one).
    """
    prep, scale, gsd, params, directions, sun, regions = _set_up(window, params or DetectorParams())
    out = []
    for angle, region in zip(directions, regions, strict=True):
        sides: tuple[str, ...] = ()
        if along and read_along(angle, sun, gsd, params):
            sides = ("up", "down")
        frame, readings = _frame_maps(prep, gsd, angle, params, sun, region, sides)
        for maps in readings:
            cars = maps.cars.subset(_owned(maps.cars, frame, region))
            if maps.terms is not None and cars.x.size and _judges_neighbours(params, gsd):
                # As the detector does: a candidate in a shadow no believed car casts is none.
                features = car_features(maps.terms, maps.strength, cars, gsd, sun.elevation_deg, maps.log_lum)
                kept, _ = _beside_believed(
                    cars, features, _car_probabilities(features), maps.terms.shadow_side, gsd, params
                )
                cars = cars.subset(kept)
            out.append(
                TrackEvidence(frame, scale, gsd, maps.strength, maps.core, maps.runs, cars, maps.terms)
            )
        del readings, maps  # the strips' maps go before the next frame is made
    return out


def _owned(cars: FrameCars, frame: TrackFrame, region: np.ndarray | Piece | None) -> np.ndarray:
    """Which of a frame's cars it answers for: all, or for a curve piece those on its own stretch (the
    rest of its frame runs off its direction, and the neighbouring pieces or a direction's frame own
    those cars)."""
    if not isinstance(region, Piece) or not cars.x.size:
        return np.ones(cars.x.size, bool)
    return region.owns(frame.to_window(np.column_stack([cars.x, cars.y])))


@dataclasses.dataclass(frozen=True, eq=False)
class _FrameMaps:
    log_lum: np.ndarray
    linear_lum: np.ndarray
    core: np.ndarray
    strength: np.ndarray
    terms: BandTerms | None
    across: float
    runs: Runs
    cars: FrameCars
    box_x: np.ndarray  # where each car's box goes along the track (frame x)
    dashes: np.ndarray | None = None  # read along the sun: :func:`~railcount.detect.dashes.dash_map`


def _frame_maps(
    prep: Prepared,
    gsd: float,
    angle: float,
    params: DetectorParams,
    sun: SunPosition,
    region: np.ndarray | Piece | None = None,
    force_sides: tuple[str, ...] = (),
    *,
    world_side: np.ndarray | None = None,
) -> tuple[TrackFrame, list[_FrameMaps]]:
    """The bands warped into the frame of one track direction (cut to ``region``, window (x, y)
    points, widened by ``frame_margin_m``), the band evidence there, and the centreline runs and
    candidate cars made of it: one reading, with the shadows on the side the sun puts them.

    With ``force_sides`` ("up", "down" or both), one reading per entry instead, each with the
    shadows on that side where the sun gives none (:func:`sun_along`), and the dashes the shadows
    leave along the track mapped (with ``params.along_edged``, edged bands near them are proposed
    too). The readings share the warped bands, the dash map and one pass of the band maps
    (:func:`~railcount.detect.strips.sided_evidence`); each is what a reading of its side alone
    gives. Where the sun does give the frame a side, there is one reading, on that side.

    ``world_side`` (a window (x, y) vector; :func:`_read_pieces_after_mains`) gives the one reading
    its side: the side of this frame towards it, as known."""
    if isinstance(region, Piece):
        frame = TrackFrame.for_direction(prep.data.shape, angle, region.corners, params.piece_margin_m / gsd)
    else:
        frame = TrackFrame.for_direction(prep.data.shape, angle, region, params.frame_margin_m / gsd)
    side, across = _shadow_side(frame, sun)
    log_f = frame.warp(prep.log_lum)
    rgb_f = frame.warp(prep.rgb)
    lin_f = frame.warp(prep.linear_lum)
    data_f = frame.warp(prep.data, nearest=True)
    if region is not None:
        # A cut frame's edge runs through data; treat it as the data's edge.
        data_f[[0, -1], :] = False
        data_f[:, [0, -1]] = False
    # Keep filters away from the edge of the data, where the fill makes false edges.
    edge = to_px(1.0, gsd)
    core = cv2.erode(data_f.view(np.uint8), np.ones((2 * edge + 1, 2 * edge + 1), np.uint8)).view(bool)
    bands = (rgb_f, log_f, lin_f, data_f)
    dashes = None
    if not force_sides:
        known = not sun.assumed_time
        if world_side is not None:
            side, known = ("up" if float(_side_vector(frame, "up") @ world_side) > 0 else "down"), True
        evidence = [frame_evidence(*bands, core, gsd, params, shadow_side=side, side_is_known=known)]
    else:
        # Read along the sun (at a known time, :func:`sun_along`): the dashes its shadows leave along
        # the track (:mod:`.dashes`), and each forced side read as known.
        dashes = dash_map(lin_f, core, gsd, params)
        gate = edged_gate(dashes, gsd, params) if params.along_edged else None
        # Where the sun does give a side (shadows short across the tracks, or a curve piece a little
        # off the sun's line), the one reading takes it.
        sides = tuple(dict.fromkeys(side if side is not None else s for s in force_sides))
        evidence = list(sided_evidence(*bands, gsd, params, sides, edged_gate=gate))
    readings = []
    for strength, terms in evidence:
        runs = centreline_runs(strength, core, gsd, params)
        cars = split_runs(runs, rgb_f, gsd, params)
        box_x = _box_centres_along(cars, rgb_f, gsd, params)
        readings.append(_FrameMaps(log_f, lin_f, core, strength, terms, across, runs, cars, box_x, dashes))
    return frame, readings


def _detect_along(
    frame: TrackFrame,
    maps: _FrameMaps,
    gsd: float,
    angle: float,
    params: DetectorParams,
    sun: SunPosition,
    log: list[tuple[np.ndarray, float, np.ndarray]] | None = None,
    region: np.ndarray | Piece | None = None,
) -> tuple[Detections, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates along one track direction, from one reading of its frame (:func:`_frame_maps`):
    detections, feature rows, type rows, box centres,
    :data:`~railcount.detect.fill.FILL_CONTEXT` rows (NaN but for gap-fill proposals), which
    candidates stand in the shadow of a believed car one track over (:func:`_beside_believed`),
    and :data:`~railcount.detect.dashes.ALONG_CONTEXT` rows (NaN but in a reading along the sun,
    one with its shadow side forced).

    The box centres are where the roof model places each candidate (window
    (row, col)); with ``localise_roofs`` off, the candidates' own centres.
    With ``log``, the candidates' three positions and feature rows are
    appended to it (:func:`roof_alternatives`). With ``fill_gaps`` (and the
    car model), the holes in the track lines of the believed candidates are
    proposed as cars too (:func:`~railcount.detect.fill.gap_fills`).
    """
    log_f, lin_f, strength, terms, cars = maps.log_lum, maps.linear_lum, maps.strength, maps.terms, maps.cars
    own = _owned(cars, frame, region)
    cars, placed_x = cars.subset(own), maps.box_x[own]
    if not cars.x.size:
        return (
            Detections.empty(),
            np.zeros((0, len(FEATURES))),
            np.zeros((0, len(TYPE_FEATURES))),
            np.zeros((0, 2)),
            np.zeros((0, len(FILL_CONTEXT))),
            np.zeros(0, bool),
            np.zeros((0, len(ALONG_CONTEXT))),
        )
    if maps.dashes is not None:
        dx, dy = shadow_vector_px(sun)
        shadow_x = float(frame.matrix[0, 0] * dx + frame.matrix[0, 1] * dy)  # along the frame's x
        along_ctx = dash_context(maps.dashes, cars, shadow_x, gsd)
    else:
        along_ctx = np.full((cars.x.size, len(ALONG_CONTEXT)), np.nan)
    if terms is not None:

        def describe(some: FrameCars) -> np.ndarray:
            return car_features(terms, strength, some, gsd, sun.elevation_deg, log_f)

        features = describe(cars)
        judges, fills_gaps = (
            _judges_neighbours(params, gsd),
            log is None and params.fill_gaps and params.car_model,
        )
        # The car model's belief in each candidate, read once for the neighbour rule and the gap fills.
        prob = _car_probabilities(features) if judges or fills_gaps else np.full(cars.x.size, np.nan)
        if judges:
            kept, beside = _beside_believed(cars, features, prob, terms.shadow_side, gsd, params)
            cars, placed_x, features, prob, beside, along_ctx = (
                cars.subset(kept),
                placed_x[kept],
                features[kept],
                prob[kept],
                beside[kept],
                along_ctx[kept],
            )
        else:
            beside = np.zeros(cars.x.size, bool)
        fill_context = np.full((cars.x.size, len(FILL_CONTEXT)), np.nan)
        if fills_gaps:
            fills, context = _gap_fills_in_frame(cars, prob, strength.shape[1], gsd, params)
            if fills.x.size:
                cars = cars.concat(fills)
                placed_x = np.concatenate([placed_x, fills.x])  # filled cars are not counted by pitch
                features = np.vstack([features, describe(fills)])
                fill_context = np.vstack([fill_context, context])
                beside = np.concatenate([beside, np.zeros(fills.x.size, bool)])
                along_ctx = np.vstack([along_ctx, np.full((fills.x.size, len(ALONG_CONTEXT)), np.nan)])
        placed_y = cars.y
        if log is not None:
            # For the roof model's fit: every candidate, where found and a roof width to either side.
            moved, three = _at_three_rows(cars, features, describe, gsd, params)
            at = [frame.to_window(np.column_stack([c.x, c.y]))[:, ::-1] for c in (cars, *moved)]
            log.append((np.stack(at, axis=1), angle % 180.0, three))
        elif params.localise_roofs:
            placed_y = _place_on_roofs(cars, features, describe, gsd, params)
        # A car's type is read where its box goes along the track.
        boxed = dataclasses.replace(cars, x=placed_x)
        types = type_features(terms, lin_f, boxed, gsd, shadow_per_height(sun.elevation_deg, maps.across))
    else:
        placed_y = cars.y
        beside = np.zeros(cars.x.size, bool)
        fill_context = np.full((cars.x.size, len(FILL_CONTEXT)), np.nan)
        features = np.full((cars.x.size, len(FEATURES)), np.nan)
        types = np.full((cars.x.size, len(TYPE_FEATURES)), np.nan)
    xy = frame.to_window(np.column_stack([cars.x, cars.y]))
    placed = frame.to_window(np.column_stack([placed_x, placed_y]))[:, ::-1]
    if isinstance(region, Piece):
        # Gap fills may reach beyond the piece's stretch.
        own = region.owns(xy)
        cars, xy, placed, beside = cars.subset(own), xy[own], placed[own], beside[own]
        features, types, fill_context, along_ctx = (
            features[own],
            types[own],
            fill_context[own],
            along_ctx[own],
        )
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
    return dets, features, types, placed, fill_context, beside, along_ctx


def _judges_neighbours(params: DetectorParams, gsd: float) -> bool:
    """Whether candidates with a dark sun-side flank need a believed car to cast the shadow."""
    return params.neighbour_shadow and params.neighbour_believed and gsd <= params.neighbour_max_gsd_m


def _car_probabilities(features: np.ndarray) -> np.ndarray:
    """The car model's probability for each feature row; NaN for rows not described (NaN inputs)."""
    prob = np.full(len(features), np.nan)
    described = np.isfinite(features).all(axis=1)
    prob[described] = car_probability(features[described])
    return prob


def _beside_believed(
    cars: FrameCars,
    features: np.ndarray,
    prob: np.ndarray,
    shadow_side: str,
    gsd: float,
    params: DetectorParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Which of one frame's candidates to keep, and which are cars in the shadow of a believed neighbour.

    A candidate whose sun-side flank is dark (``dark_sun`` at least
    ``params.neighbour_dark_sun``: with ``neighbour_shadow`` the band
    evidence lets such a flank pass when a lit band lies a track over) is
    kept only when the car model believes a candidate with a lit sun-side
    flank one track over on its sun side (``neighbour_across_m`` across,
    overlapping it along the track by ``neighbour_overlap`` of the shorter
    of the two): a car there casts the shadow. Elsewhere (a pitched roof's
    shaded slope beside the lit one, a strip between two shadows) nothing
    the model believes stands there. ``prob`` is the car model's
    probability for each row of ``features`` (:func:`_car_probabilities`).
    Returns (keep, beside), both boolean over ``cars``.
    """
    n = cars.x.size
    described = np.isfinite(features).all(axis=1)
    dark = np.where(described, features[:, FEATURES.index("dark_sun")], 0.0)
    shaded = described & (dark >= params.neighbour_dark_sun)
    if not shaded.any():
        return np.ones(n, bool), np.zeros(n, bool)
    likely = described & (prob >= params.min_car_probability)
    shade = np.flatnonzero(shaded)
    # Frame rows grow "down"; shadows falling "up" come from a sun on the side of larger rows.
    towards_sun = (cars.y[None, :] - cars.y[shade][:, None]) * (1.0 if shadow_side == "up" else -1.0)
    lo, hi = (d / gsd for d in params.neighbour_across_m)
    half_s, half_all = 0.5 * cars.length[shade][:, None], 0.5 * cars.length[None, :]
    x_s, x_all = cars.x[shade][:, None], cars.x[None, :]
    overlap = np.minimum(x_s + half_s, x_all + half_all) - np.maximum(x_s - half_s, x_all - half_all)
    enough = overlap >= params.neighbour_overlap * 2.0 * np.minimum(half_s, half_all)
    casts = (towards_sun >= lo) & (towards_sun <= hi) & enough  # (shaded, all): j could shade i
    # A believed car with a lit flank shades the next track; a shaded car kept so shades the one after.
    believed = described & ~shaded & likely
    beside = np.zeros(n, bool)
    for _ in range(3):
        has = (casts & believed[None, :]).any(axis=1)
        if not (has & ~beside[shade]).any():
            break
        beside[shade[has]] = True
        believed = believed | (beside & likely)
    return ~shaded | beside, beside


def _box_centres_along(cars: FrameCars, rgb: np.ndarray, gsd: float, params: DetectorParams) -> np.ndarray:
    """Where each car's box goes along the track (frame x): moved onto the cars of runs counted by pitch
    where coupling gaps are not resolved (:func:`~railcount.detect.cars.pitch_box_centres`), else ``x``."""
    if gsd > params.gap_visible_gsd_m:
        return pitch_box_centres(cars, rgb, gsd, params)
    return np.asarray(cars.x, float)


def _gap_fills_in_frame(
    cars: FrameCars, prob: np.ndarray, cols: int, gsd: float, params: DetectorParams
) -> tuple[FrameCars, np.ndarray]:
    """The gap-fill proposals of one frame's candidates (:func:`~railcount.detect.fill.gap_fills`),
    given the car model's probability of each (NaN where not described), that lie wholly inside its
    ``cols`` columns, and their FILL_CONTEXT rows."""
    fills, context = gap_fills(cars, prob, gsd, params)
    inside = (fills.x - 0.5 * fills.length >= 0) & (fills.x + 0.5 * fills.length <= cols)
    return fills.subset(inside), context[inside]


def _place_on_roofs(
    cars: FrameCars,
    features: np.ndarray,
    describe: Callable[[FrameCars], np.ndarray],
    gsd: float,
    params: DetectorParams,
) -> np.ndarray:
    """The row each candidate's box goes on: its own, or a roof width to either side (:mod:`.roofs`).

    Only candidates the car model keeps are described at the other rows (the
    rest are dropped by :func:`detect` whatever their row). ``describe``
    gives the :data:`FEATURES` rows of cars.
    """
    placed_y = np.asarray(cars.y, float).copy()
    worth = np.isfinite(features).all(axis=1)
    if params.car_model and worth.any():
        worth[worth] = car_probability(features[worth]) >= params.min_car_probability
    if not worth.any():
        return placed_y
    some = cars.subset(worth)
    (up, down), three = _at_three_rows(some, features[worth], describe, gsd, params)
    pick = choose_rows(roof_probability(three), params.roof_margin)
    placed_y[worth] = np.stack([some.y, up.y, down.y], axis=1)[np.arange(len(pick)), pick]
    return placed_y


def _at_three_rows(
    cars: FrameCars,
    features: np.ndarray,
    describe: Callable[[FrameCars], np.ndarray],
    gsd: float,
    params: DetectorParams,
) -> tuple[tuple[FrameCars, FrameCars], np.ndarray]:
    """The cars moved a roof width up and down, and the FEATURES rows at the three positions.

    ``features`` are the rows where the cars were found; the result has
    shape (n, 3, len(FEATURES)): own row, up, down (:mod:`.roofs`).
    """
    moved = alternatives(cars, params.roof_shift_m / gsd)
    # Both shifted copies described in one call: each row is what describing it alone gives
    # (every mean is its own stretch's, :mod:`.means`), for half the calls' fixed cost.
    both = describe(moved[0].concat(moved[1]))
    n = cars.x.size
    three = np.stack([features, both[:n], both[n:]], axis=1)
    return moved, three


def _shadow_side(frame: TrackFrame, sun: SunPosition) -> tuple[str | None, float]:
    """The side ("up" = smaller rows) of the tracks shadows fall on in ``frame`` (or None), and ``across``.

    ``across`` is the cross-track component of the unit shadow direction.
    The side is None when the sun is low or below the horizon, or shadows
    run within about 17 degrees of the track (they then fall on the track
    itself).
    """
    dx, dy = shadow_vector_px(sun)
    across = float(frame.matrix[1, 0] * dx + frame.matrix[1, 1] * dy)
    if sun.elevation_deg < 5.0 or abs(across) < ALONG_SHADOW_ACROSS:
        return None, across
    return ("up" if across < 0 else "down"), across


def _merge(
    dets: Detections, gsd: float, params: DetectorParams, beside: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the detections kept when duplicates of a stronger one are dropped (greedy NMS), in order.

    A detection duplicates a stronger one when its centre lies within
    ``merge_radius_m`` (by default half a short car) of it, or, in the
    stronger one's track direction, less than ``merge_across_m`` across and
    less than ``merge_along`` of their mean length along it (the same car
    found on two rows, cut at another place). Where either of the two is a
    car in the shadow of a believed car a track over (``beside``, see
    :func:`_beside_believed`), the circle is ``neighbour_merge_radius_m``.
    """
    if len(dets) < 2:
        return np.arange(len(dets))
    radius: float | np.ndarray = (
        0.5 * params.car_length_min_m if params.merge_radius_m is None else params.merge_radius_m
    ) / gsd
    order = np.argsort(-dets.score, kind="stable")
    c = dets.center[order]
    d = c[None, :, :] - c[:, None, :]  # (i, j): from i to j, (row, col)
    if beside is not None and beside.any():
        b = beside[order]
        radius = np.where(b[:, None] | b[None, :], params.neighbour_merge_radius_m / gsd, radius)
    close = (d**2).sum(axis=-1) < radius * radius
    if params.merge_across_m > 0:
        along, across = along_across(d[..., 0], d[..., 1], dets.angle_deg[order][:, None])
        length = dets.length[order]
        mean_len = 0.5 * (length[:, None] + length[None, :])
        close |= (across < params.merge_across_m / gsd) & (along < params.merge_along * mean_len)
    keep = np.ones(len(order), dtype=bool)
    for i in range(len(order)):
        if keep[i]:
            later = close[i].copy()
            later[: i + 1] = False
            keep[later] = False
    return np.sort(order[keep])
