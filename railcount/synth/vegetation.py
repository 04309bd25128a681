"""Hedges, trees and overgrown tracks: raised, textured green strips and crowns that cast shadows.

Real yards have them. On Muttenz west (``../shared/real``) five of the
detector's six false railcars at native resolution stand on a hedge or a
strip of rank grass between two track groups (docs/detector.md, *Session
39*): a long, narrow, raised thing with a dark band on its shadow side looks
to the band evidence like a car beside its shadow. The generator's ground
vegetation is flat and casts nothing, so no model had seen one.

With ``SceneSpec(vegetation=True)`` (realism v2) each scene gets a few
hedges, parallel to a track a few metres off it, and a scatter of trees,
all on free ground (off the track corridors, roads, buildings and lots),
and up to three overgrown stretches of idle yard or siding track inside the
station (:func:`plan_weeds`; session 40), between the busy tracks, where
the hedges cannot stand. They are drawn from streams of their own
(:data:`~railcount.synth.spec.STREAM_VEGETATION` and the two after it) so
that nothing else in the scene moves, and written to the truth as
``hedge``, ``tree`` and ``weeds`` structures (class ``vegetation``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from railcount.synth.layout import Area, SiteLayout, Sun, Track, Vehicles
from railcount.synth.raster import Grid, blend, smooth_noise

HEDGES = (1, 6)
"""Hedges per scene: at least, and one past the most."""
HEDGE_LENGTH_M = (12.0, 60.0)
HEDGE_HALF_WIDTH_M = (0.9, 2.4)
HEDGE_HEIGHT_M = (1.8, 6.0)
HEDGE_OFFSET_M = (3.4, 9.0)
"""Distance of a hedge's centreline from the track it follows (either side)."""
TREES = (0, 12)
TREE_RADIUS_M = (1.8, 5.0)
TREE_HEIGHT_M = (5.0, 15.0)
WEED_STRIPS = (0, 4)
"""Overgrown stretches of track per scene: at least, and one past the most."""
WEED_LENGTH_M = (30.0, 160.0)
WEED_HALF_WIDTH_M = (1.3, 3.2)
WEED_HEIGHT_M = (0.5, 2.5)
WEED_CLEARANCE_M = 0.6
"""Clearance of an overgrown stretch from every vehicle's footprint."""
_WEED_TRACKS = ("yard", "siding")
"""Tracks that may be overgrown (not main lines, branches or ladders)."""
REACH_M = 40.0
"""Hedges and trees stand within this of the station polygon."""
KEEP_CLEAR_M = {"track": 2.6, "road": 4.5, "area": 2.0}
"""Clearance from a track's centreline, a road's centreline and a paved or built area."""
_OPEN_KINDS = ("grass", "yard_bed")
"""Areas a hedge or a tree may stand in."""

# Foliage colour (display reflectance) per season: (mean, spread of the crown-to-crown variation).
_FOLIAGE = {
    "summer": ((0.24, 0.32, 0.16), 0.04),
    "spring": ((0.26, 0.35, 0.16), 0.04),
    "autumn": ((0.33, 0.30, 0.17), 0.05),
    "winter": ((0.30, 0.27, 0.22), 0.03),  # leafless twigs, and evergreens below
}
_EVERGREEN = (0.14, 0.20, 0.13)
_GRASS = {
    "summer": (0.40, 0.44, 0.25),
    "spring": (0.37, 0.46, 0.22),
    "autumn": (0.46, 0.43, 0.26),
    "winter": (0.46, 0.43, 0.33),  # dead grass
}
"""Rank grass on an overgrown track (display reflectance) per season."""


def plan_vegetation(site: SiteLayout, rng: np.random.Generator) -> tuple[Area, ...]:
    """Hedges and trees on the free ground around the station, as areas (kind, outline, height)."""
    station = site.station
    x0, y0, x1, y1 = site.extent
    ground = station.buffer(REACH_M).intersection(box(x0, y0, x1, y1))
    blocked = [_corridor(t, KEEP_CLEAR_M["track"]) for t in site.tracks] + _built(site)
    free = ground.difference(shapely.union_all(blocked)) if blocked else ground
    out: list[Area] = []
    tracks = [t for t in site.tracks if t.kind != "ladder" and t.length > 30.0]
    want = int(rng.integers(*HEDGES))
    for _ in range(400):
        if len(out) >= want or not tracks or free.is_empty:
            break
        track = tracks[int(rng.integers(len(tracks)))]
        length = rng.uniform(*HEDGE_LENGTH_M)
        if track.length <= length + 2.0:
            continue
        s0 = rng.uniform(0.0, track.length - length)
        s = np.linspace(s0, s0 + length, max(2, int(length)))
        heading = track.heading_at(s)
        normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
        offset = rng.uniform(*HEDGE_OFFSET_M) * (1.0 if rng.random() < 0.5 else -1.0)
        line = LineString(track.point_at(s) + normal * offset)
        hedge = line.buffer(rng.uniform(*HEDGE_HALF_WIDTH_M), cap_style="round")
        if not free.contains(hedge):
            continue
        out.append(Area("hedge", _ragged(hedge, rng), float(rng.uniform(*HEDGE_HEIGHT_M))))
        free = free.difference(hedge.buffer(2.0))
    bx0, by0, bx1, by1 = free.bounds if not free.is_empty else (0.0, 0.0, 0.0, 0.0)
    want = len(out) + int(rng.integers(*TREES))  # trees after the hedges
    for _ in range(200):
        if len(out) >= want or free.is_empty:
            break
        centre = Point(rng.uniform(bx0, bx1), rng.uniform(by0, by1))
        crown = centre.buffer(rng.uniform(*TREE_RADIUS_M), quad_segs=8)
        if not free.contains(crown):
            continue
        out.append(Area("tree", _ragged(crown, rng), float(rng.uniform(*TREE_HEIGHT_M))))
        free = free.difference(crown.buffer(1.0))
    return tuple(out)


def plan_weeds(site: SiteLayout, vehicles: Vehicles, rng: np.random.Generator) -> tuple[Area, ...]:
    """Overgrown tracks: strips of rank grass and shrubs over stretches of idle track inside the station.

    Real yards have them between their busy tracks: Muttenz west's false
    railcars stand on such a strip (docs/detector.md, *Session 40*). A strip
    follows a yard or siding track that no vehicle stands on, is cut to the
    station polygon and keeps clear of every vehicle, road and paved or
    built area; rails show through its gaps (:func:`paint_vegetation`).
    """
    blocked = _built(site)
    if len(vehicles):
        blocked += [Polygon(c).buffer(WEED_CLEARANCE_M) for c in vehicles.corners()]
    barrier = shapely.union_all(blocked) if blocked else Polygon()
    busy = {int(t) for t in vehicles.track}
    idle = [t for t in site.tracks if t.kind in _WEED_TRACKS and t.id not in busy and t.length > 40.0]
    out: list[Area] = []
    want = int(rng.integers(*WEED_STRIPS))
    for _ in range(60):
        if len(out) >= want or not idle:
            break
        track = idle[int(rng.integers(len(idle)))]
        lo, hi = track.usable
        length = min(rng.uniform(*WEED_LENGTH_M), hi - lo)
        s0 = rng.uniform(lo, hi - length)
        line = LineString(track.point_at(np.linspace(s0, s0 + length, max(2, int(length / 2.0)))))
        strip = line.buffer(rng.uniform(*WEED_HALF_WIDTH_M), cap_style="flat").intersection(site.station)
        strip = strip.difference(barrier)
        pieces = [g for g in getattr(strip, "geoms", [strip]) if isinstance(g, Polygon) and not g.is_empty]
        if not pieces:
            continue
        piece = max(pieces, key=lambda g: g.area)
        if piece.area < 0.5 * line.buffer(1.3, cap_style="flat").area:
            continue
        out.append(Area("weeds", piece, float(rng.uniform(*WEED_HEIGHT_M))))
        idle.remove(track)
    return tuple(out)


def _built(site: SiteLayout) -> list[Polygon]:
    """The ground vegetation keeps clear of: road corridors, and paved or built areas and lots with
    their clearance."""
    blocked = [_corridor(r, KEEP_CLEAR_M["road"]) for r in site.roads]
    blocked += [a.polygon.buffer(KEEP_CLEAR_M["area"]) for a in site.areas if a.kind not in _OPEN_KINDS]
    blocked += [p.buffer(KEEP_CLEAR_M["area"]) for p in (*site.lots, *site.parking, *site.car_parks)]
    return blocked


def _corridor(track: Track, half_m: float) -> Polygon:
    """The ground within ``half_m`` of a track's (or road's) centreline."""
    return LineString(track.point_at(np.linspace(0, track.length, 400))).buffer(half_m)


def _ragged(poly: Polygon, rng: np.random.Generator) -> Polygon:
    """The outline pushed in and out by up to about half a metre, as foliage is."""
    ring = np.asarray(poly.exterior.coords)[:-1]
    c = ring.mean(axis=0)
    d = ring - c
    r = np.hypot(d[:, 0], d[:, 1])
    k = np.arange(len(ring))
    wobble = sum(
        rng.uniform(0.1, 0.3) * np.sin(2 * math.pi * f * k / len(ring) + rng.uniform(0, 2 * math.pi))
        for f in (3, 7, 13)
    )
    scale = 1.0 + wobble / np.maximum(r, 1.0)
    out = Polygon(c + d * scale[:, None])
    return out if out.is_valid and not out.is_empty else poly


def vegetation_shadows(crowns: tuple[Area, ...], sun: Sun) -> list[np.ndarray]:
    """Ground shadows: a hedge's outline swept away from the sun by its height (an overgrown track's
    in steps, since it may curve); a tree's crown moved away by three quarters of its height, joined
    to its foot by the trunk's."""
    out: list[np.ndarray] = []
    for a in crowns:
        # From the foliage's solid core: its ragged rim lets light through.
        core = a.polygon.buffer(-0.4)
        core = core if isinstance(core, Polygon) and not core.is_empty else a.polygon
        ring = np.asarray(core.exterior.coords)[:-1]
        if a.kind == "weeds":
            # A long strip, maybe curved: the outline swept in steps, not its hull.
            step = sun.shadow_offset(a.height_m) / 4.0
            out.extend(ring + step * k for k in range(5))
        elif a.kind == "hedge":
            pts = np.concatenate([ring, ring + sun.shadow_offset(a.height_m)]).astype(np.float32)
            out.append(cv2.convexHull(pts).reshape(-1, 2).astype(float))
        else:
            out.append(ring + sun.shadow_offset(0.75 * a.height_m))
            foot = ring.mean(axis=0)
            tip = foot + sun.shadow_offset(0.5 * a.height_m)
            d = tip - foot
            n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6) * 0.2
            out.append(np.array([foot - n, tip - n, tip + n, foot + n]))
    return out


def paint_vegetation(
    canvas: np.ndarray,
    grid: Grid,
    crowns: tuple[Area, ...],
    sun: Sun,
    rng: np.random.Generator,
    *,
    season: str,
    snow: bool,
    lean: np.ndarray,
    shade: np.ndarray | None = None,
    tint: Sequence[float] | np.ndarray = (1.0, 1.0, 1.0),
) -> None:
    """Foliage over each outline: clumps lit on their sunny side, dark gaps between them, a ragged
    rim and the crown's own shadowed flank; raised by ``lean * height`` off nadir."""
    base, spread = _FOLIAGE[season]
    px = grid.px
    # The sun's direction in pixel (col, row) terms: rows run south.
    az = math.radians(sun.azimuth_deg)
    to_sun = np.array([math.sin(az), -math.cos(az)])
    for a in crowns:
        ring = np.asarray(a.polygon.exterior.coords)[:-1] + np.asarray(lean) * a.height_m * 0.8
        win = grid.window(ring, pad=math.ceil(1.5 / px) + 2)
        if win is None:
            continue
        r0, r1, c0, c1 = win
        sub = grid.sub(r0, r1, c0, c1)
        shape = (r1 - r0, c1 - c0)
        cover = cv2.GaussianBlur(sub.mask([ring]), (0, 0), max(0.5, 0.35 / px))
        clumps = smooth_noise(shape, max(1.5, 1.3 / px), rng)
        leaves = smooth_noise(shape, max(1.2, 0.35 / px), rng)
        weeds = a.kind == "weeds"
        if weeds:
            # Rank grass in tussocks with a ragged edge: the rails and ballast show through its gaps.
            edge = np.clip((cover - 0.5 + 0.3 * clumps) * 4.0, 0.0, 1.0)
            alpha = edge * np.clip((0.5 + 0.35 * clumps + 0.08 * leaves) * 3.0, 0.0, 1.0)
        else:
            alpha = np.clip((cover - 0.35 + 0.12 * clumps + 0.05 * leaves) * 5.0, 0.0, 1.0)
        # Only on and around the outline: a strong clump of noise far from it is not foliage.
        alpha *= cover > 0.02
        # Each clump is lit on the side facing the sun: the noise's slope towards it.
        gy, gx = np.gradient(clumps)
        slope = (gx * to_sun[0] + gy * to_sun[1]) * (1.3 / px)
        if weeds:
            # Grass is lower and finer than a hedge: its clumps throw less shade (Muttenz's strip varies
            # by about a fifth across a box, a generated hedge-like strip by a third; session 40).
            light = 0.90 + 0.14 * np.tanh(slope) + 0.06 * leaves
        else:
            light = 0.78 + 0.30 * np.tanh(slope) + 0.10 * leaves
        # The crown's flank away from the sun is in its own shadow.
        shift = max(1, round(1.2 / px))
        dx, dy = -to_sun * shift
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        away = cv2.warpAffine(cover, m, (shape[1], shape[0]), borderMode=cv2.BORDER_CONSTANT)
        light *= 1.0 - 0.35 * np.clip(cover - away, 0.0, 1.0)
        light = np.where(leaves < -1.4, light * (0.8 if weeds else 0.55), light)  # gaps between the leaves
        if weeds:
            # Paler grass and darker shrubs, mixed in patches a few metres across.
            grass = np.array(_GRASS[season], np.float32) + rng.normal(0, spread, 3).astype(np.float32)
            shrub = np.array(base, np.float32) * np.float32(0.85)
            shrub = shrub + rng.normal(0, spread, 3).astype(np.float32)
            mix = np.clip(0.35 + 0.5 * smooth_noise(shape, max(2.0, 3.0 / px), rng), 0.0, 1.0)[..., None]
            colour = np.clip(grass * (1 - mix) + shrub * mix, 0.02, 0.9)
            foliage = colour * light[..., None].astype(np.float32)
        else:
            evergreen = season == "winter" and rng.random() < 0.4
            colour = np.array(_EVERGREEN if evergreen else base, np.float32) + rng.normal(0, spread, 3)
            foliage = np.clip(colour, 0.02, 0.9)[None, None, :] * light[..., None].astype(np.float32)
        if weeds and shade is not None:
            # Shadows the cars and masts beside it cast on the strip (weeds are too low to rise out of them).
            dark = shade[r0:r1, c0:c1, None] * (1 - np.asarray(tint, np.float32))
            foliage = foliage * (1 - dark)
        if snow:
            dusting = np.clip(0.5 + 0.5 * leaves, 0.0, 1.0)[..., None] * np.float32(0.45)
            foliage = foliage * (1 - dusting) + np.float32(0.85) * dusting
        blend(canvas[r0:r1, c0:c1], alpha.astype(np.float32), foliage.astype(np.float32))
