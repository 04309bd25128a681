"""Ground painting: terrain, track beds, ballast, sleepers, rails, paved areas.

Materials are drawn as ids on the fine grid and coloured through a palette
(supersampling does the anti-aliasing, so hard-edged ids are enough there).
:func:`paint_ground` is realism v1, kept pixel for pixel; :func:`paint_ground_v2`
draws walkways smoother and track beds grainier, the way they read at
0.25-0.5 m (sleepers and rails as a ladder of light and dark, ballast
stones), with snow when asked.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon

from railcount.synth.layout import SiteLayout
from railcount.synth.raster import SHIFT, Grid, blend, quad, smooth_noise


def season_of(month: int) -> str:
    return {
        12: "winter",
        1: "winter",
        2: "winter",
        3: "winter",
        4: "spring",
        5: "spring",
        6: "summer",
        7: "summer",
        8: "summer",
        9: "autumn",
        10: "autumn",
        11: "winter",
    }[month]


_VEGETATION = {  # (lush, dry) display reflectance per season
    "spring": ((0.30, 0.37, 0.21), (0.46, 0.43, 0.33)),
    "summer": ((0.22, 0.31, 0.16), (0.40, 0.41, 0.27)),
    "autumn": ((0.37, 0.36, 0.23), (0.52, 0.46, 0.34)),
    "winter": ((0.44, 0.39, 0.31), (0.56, 0.51, 0.43)),
}
_SOIL = (0.50, 0.44, 0.36)

# Ground materials drawn as ids, then coloured through a palette: (name, colour, grain).
# Supersampling does the anti-aliasing, so hard-edged ids are enough at the fine grid.
_MATERIALS = (
    ("terrain", (0.0, 0.0, 0.0), 0.07),
    ("yard_bed", (0.62, 0.635, 0.64), 0.16),  # gravel between tracks: grainy
    ("apron", (0.52, 0.52, 0.50), 0.05),
    ("road", (0.29, 0.29, 0.30), 0.05),
    ("lot", (0.56, 0.55, 0.52), 0.05),
    ("marking", (0.78, 0.78, 0.74), 0.03),
    ("ballast", (0.44, 0.42, 0.39), 0.28),
    ("ballast_inner", (0.45, 0.40, 0.35), 0.28),
    ("concrete", (0.57, 0.56, 0.53), 0.08),
    ("timber", (0.27, 0.23, 0.19), 0.12),
    ("rail", (0.11, 0.10, 0.10), 0.05),
)
_MAT = {name: i for i, (name, _, _) in enumerate(_MATERIALS)}


def _terrain(shape: tuple[int, int], px: float, season: str, rng: np.random.Generator) -> np.ndarray:
    """Vegetation/soil mix, computed on a ~1 m grid and upsampled (it is all low-frequency)."""
    f = max(1, round(1.0 / px))
    small = (shape[0] // f + 2, shape[1] // f + 2)
    spx = px * f
    lush, dry = (np.array(c, np.float32) for c in _VEGETATION[season])
    n_big = smooth_noise(small, 70 / spx, rng)
    n_mid = smooth_noise(small, 14 / spx, rng)
    n_small = smooth_noise(small, 3 / spx, rng)
    wet = 1 / (1 + np.exp(-(1.7 * n_big + 0.9 * n_mid)))
    col = dry + (lush - dry) * wet[..., None]
    bare = 0.6 * np.clip(0.7 * n_big + 0.8 * n_mid - 1.0, 0, 1)
    blend(col, bare, np.array(_SOIL, np.float32))
    shrub = np.clip(1.2 * n_small + 0.6 * n_mid - 1.9, 0, 1)  # darker shrub clumps
    col *= (1 - 0.25 * shrub)[..., None] * (1 + 0.04 * n_small)[..., None]
    col = col[: math.ceil(shape[0] / f), : math.ceil(shape[1] / f)]
    return cv2.resize(col, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _track_shapes(grid: Grid, site: SiteLayout) -> dict[str, list[np.ndarray]]:
    """Ballast, sleeper and rail polygons of every track, clipped near the grid."""
    t = grid.transform
    view = shapely.box(t.c - 5, t.f + t.e * grid.shape[0] - 5, t.c + t.a * grid.shape[1] + 5, t.f + 5)
    out: dict[str, list[np.ndarray]] = {
        "ballast": [],
        "ballast_inner": [],
        "concrete": [],
        "timber": [],
        "rail": [],
    }
    for tr in site.tracks:
        line = shapely.LineString(tr.points).intersection(view)
        if line.is_empty:
            continue
        p = np.asarray(line.coords)
        for a, b in itertools.pairwise(p):
            ln = float(np.hypot(*(b - a)))
            u = (b - a) / ln
            n = np.array([-u[1], u[0]])
            out["ballast"].append(quad(a, b, 1.5))
            out["ballast_inner"].append(quad(a, b, tr.gauge_m / 2 - 0.05))
            s = np.arange(0.3, ln, 0.6)[:, None]
            c = a + u * s
            hw, hl = 0.13, 1.3
            out[tr.sleepers].extend(
                np.stack(
                    [c - u * hw - n * hl, c + u * hw - n * hl, c + u * hw + n * hl, c - u * hw + n * hl], 1
                )
            )
            for side in (-1, 1):
                off = n * side * (tr.gauge_m / 2 + 0.035)
                out["rail"].append(np.array([a + off, b + off]))
    return out


def _road_markings(poly: Polygon) -> list[np.ndarray]:
    xy = np.asarray(poly.exterior.coords)[:4]
    along, across = xy[1] - xy[0], xy[3] - xy[0]
    length, width = np.hypot(*along), np.hypot(*across)
    u, n = along / length, across / width
    quads = []
    for f, dash in ((0.06, False), (0.5, True), (0.94, False)):
        p0 = xy[0] + n * width * f
        for s in np.arange(0, length, 9.0) if dash else [0.0]:
            quads.append(quad(p0 + u * s, p0 + u * (s + (3.0 if dash else length)), 0.07))
    return quads


def formation(site: SiteLayout) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Rings of the formation (gravel walkways around every track, following the fan of the
    ladders) and of the holes in it, in map metres."""
    bed = shapely.union_all([shapely.LineString(t.points).buffer(3.3, cap_style="flat") for t in site.tracks])
    for area in site.areas:
        if area.kind == "yard_bed":
            bed = bed.union(area.polygon)
    bed = bed.buffer(1.5, join_style="mitre").buffer(-1.0, join_style="mitre")
    geoms = getattr(bed, "geoms", [bed])
    return [np.asarray(g.exterior.coords) for g in geoms], [
        np.asarray(r.coords) for g in geoms for r in g.interiors
    ]


def paint_ground(
    grid: Grid, site: SiteLayout, season: str, rng: np.random.Generator, grain: np.ndarray
) -> np.ndarray:
    """Terrain, paved areas, track beds, sleepers and rails as (rows, cols, 3) float32."""
    ids = np.zeros(grid.shape, np.uint8)

    def fill(polys: list[np.ndarray], name: str) -> None:
        if polys:
            cv2.fillPoly(ids, grid.cv_points(polys), _MAT[name], lineType=cv2.LINE_8, shift=SHIFT)

    outer, holes = formation(site)
    fill(outer, "yard_bed")
    fill(holes, "terrain")
    for area in site.areas:
        if area.kind in ("apron", "road", "lot"):
            fill([np.asarray(area.polygon.exterior.coords)], area.kind)
            if area.kind == "road":
                fill(_road_markings(area.polygon), "marking")
    shapes = _track_shapes(grid, site)
    for name in ("ballast", "ballast_inner", "concrete", "timber"):
        fill(shapes[name], name)
    # rails as connected one-pixel lines; their palette colour fades with pixel size
    cv2.polylines(
        ids,
        grid.cv_points(shapes["rail"]),
        False,
        _MAT["rail"],
        thickness=1,
        lineType=cv2.LINE_8,
        shift=SHIFT,
    )

    palette = np.array([c for _, c, _ in _MATERIALS], np.float32)
    rail_w = min(1.0, 0.13 / grid.px)  # rail + its shadow cover ~0.13 m: fade it on coarse grids
    palette[_MAT["rail"]] = rail_w * palette[_MAT["rail"]] + (1 - rail_w) * palette[_MAT["ballast"]]
    amp = np.array([g for _, _, g in _MATERIALS], np.float32)
    canvas = palette[ids]
    terrain = _terrain(grid.shape, grid.px, season, rng)
    cv2.copyTo(terrain, (ids == 0).view(np.uint8), canvas)
    del terrain
    tone = amp[ids] * grain
    tone += 1 + 0.035 * smooth_noise(grid.shape, 6 / grid.px, rng)
    canvas *= tone[..., None]
    return canvas


# --------------------------------------------------------------------- realism v2

# (name, colour, grain, colour under snow)
_MATERIALS_V2 = (
    ("terrain", (0.0, 0.0, 0.0), 0.05, (0.86, 0.87, 0.90)),
    ("yard_bed", (0.60, 0.60, 0.59), 0.015, (0.85, 0.86, 0.89)),  # walkways: fine, smooth gravel
    ("apron", (0.54, 0.54, 0.52), 0.015, (0.80, 0.81, 0.84)),
    ("road", (0.27, 0.27, 0.28), 0.03, (0.36, 0.36, 0.38)),  # ploughed and wet
    ("lot", (0.52, 0.51, 0.49), 0.03, (0.78, 0.79, 0.82)),
    ("marking", (0.78, 0.78, 0.74), 0.02, (0.70, 0.71, 0.73)),
    ("platform", (0.63, 0.62, 0.59), 0.02, (0.84, 0.85, 0.88)),
    ("platform_edge", (0.80, 0.78, 0.55), 0.02, (0.80, 0.80, 0.80)),
    ("shoulder", (0.49, 0.47, 0.44), 0.09, (0.84, 0.85, 0.88)),  # ballast beyond the sleeper ends
    ("crib", (0.34, 0.31, 0.28), 0.08, (0.62, 0.63, 0.67)),  # ballast between sleepers, in their shadow
    ("concrete", (0.63, 0.61, 0.56), 0.04, (0.66, 0.67, 0.70)),
    ("timber", (0.24, 0.20, 0.16), 0.08, (0.55, 0.56, 0.60)),
    ("rail", (0.07, 0.07, 0.07), 0.03, (0.10, 0.10, 0.11)),  # rail and its shadow
    ("crib_concrete", (0.0, 0.0, 0.0), 0.05, (0.0, 0.0, 0.0)),  # sleepers and crib, area-mixed (below)
    ("crib_timber", (0.0, 0.0, 0.0), 0.05, (0.0, 0.0, 0.0)),
    ("parking", (0.31, 0.31, 0.32), 0.04, (0.42, 0.42, 0.45)),  # asphalt of car parks (town site)
    ("stall", (0.52, 0.52, 0.50), 0.02, (0.55, 0.55, 0.57)),  # worn stall lines
)
_MAT_V2 = {name: i for i, (name, _, _, _) in enumerate(_MATERIALS_V2)}
SLEEPER = {"concrete": (0.60, 0.28), "timber": (0.65, 0.24)}  # pitch and width along the track, m
_MIN_SLEEPER_PX = 3.0  # below this pitch in fine pixels, sleepers alias: paint their area mix instead
SLEEPER_LENGTH_M = 2.6
RAIL_WIDTH_M = 0.2  # rail head, web and the shadow of its head


def _along(points: np.ndarray, step: float, start: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 2) and unit directions (n, 2) every ``step`` m along a polyline."""
    seg = np.diff(points, axis=0)
    ln = np.hypot(*seg.T)
    ok = ln > 1e-9
    points = np.concatenate([points[:1], points[1:][ok]])
    seg, ln = seg[ok], ln[ok]
    cum = np.concatenate([[0.0], np.cumsum(ln)])
    s = np.arange(start, cum[-1], step)
    idx = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    d = seg[idx] / ln[idx, None]
    return points[idx] + d * (s - cum[idx])[:, None], d


def _band(points: np.ndarray, half: float) -> list[np.ndarray]:
    """Polygon rings of a polyline's flat-capped buffer."""
    g = shapely.LineString(points).buffer(half, cap_style="flat", join_style="round", quad_segs=2)
    geoms = getattr(g, "geoms", [g])
    return [np.asarray(p.exterior.coords) for p in geoms if not p.is_empty]


def track_shapes_v2(grid: Grid, site: SiteLayout) -> dict[str, list[np.ndarray]]:
    """Shoulder, crib, sleeper and rail shapes of every track, following its curves.

    On grids too coarse to resolve sleepers, each crib is returned as
    ``crib_concrete`` or ``crib_timber`` (to be painted in the area mix of
    sleepers and ballast) and no sleepers are drawn: this is the anti-aliasing.
    """
    t = grid.transform
    view = shapely.box(t.c - 5, t.f + t.e * grid.shape[0] - 5, t.c + t.a * grid.shape[1] + 5, t.f + 5)
    names = ("shoulder", "crib", "crib_concrete", "crib_timber", "concrete", "timber", "rail")
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for tr in site.tracks:
        line = shapely.LineString(tr.points).intersection(view)
        for part in getattr(line, "geoms", [line]):
            if part.is_empty or part.length < 1.0:
                continue
            p = np.asarray(part.coords)
            out["shoulder"] += _band(p, SLEEPER_LENGTH_M / 2 + 0.55)
            pitch, width = SLEEPER[tr.sleepers]
            if pitch / grid.px < _MIN_SLEEPER_PX:
                out[f"crib_{tr.sleepers}"] += _band(p, SLEEPER_LENGTH_M / 2)
            else:
                out["crib"] += _band(p, SLEEPER_LENGTH_M / 2)
            c, u = _along(p, pitch, pitch / 2)
            n = np.stack([-u[:, 1], u[:, 0]], -1)
            hw, hl = width / 2, SLEEPER_LENGTH_M / 2
            if pitch / grid.px >= _MIN_SLEEPER_PX:
                out[tr.sleepers].extend(
                    np.stack(
                        [c - u * hw - n * hl, c + u * hw - n * hl, c + u * hw + n * hl, c - u * hw + n * hl],
                        1,
                    )
                )
            for side in (-1.0, 1.0):
                off = shapely.offset_curve(part, side * (tr.gauge_m / 2 + 0.035), join_style="round")
                for r in getattr(off, "geoms", [off]):
                    if not r.is_empty:
                        out["rail"].append(np.asarray(r.coords))
    return out


def _stall_lines(poly: Polygon) -> list[np.ndarray]:
    """Painted stall lines across both long sides of a car park (2.7 m apart, 5 m long)."""
    ring = np.asarray(poly.exterior.coords)[:4]
    a, b, d = ring[0], ring[1], ring[3]
    along = (b - a) / np.hypot(*(b - a))
    across = (d - a) / np.hypot(*(d - a))
    depth = np.hypot(*(d - a))
    out = []
    for s in np.arange(1.0, np.hypot(*(b - a)) - 1.0, 2.7):
        for v0 in (0.3, depth - 5.3):
            p = a + along * s + across * v0
            out.append(quad(p, p + across * 5.0, 0.06))
    return out


def _platform_edges(poly: Polygon, tracks_near: shapely.Geometry) -> list[np.ndarray]:
    """The tactile/white line along the platform side that faces a track."""
    ring = np.asarray(poly.exterior.coords)
    out = []
    for a, b in itertools.pairwise(ring):
        if np.hypot(*(b - a)) > 20 and shapely.distance(tracks_near, shapely.Point((a + b) / 2)) < 3.0:
            out.append(quad(a, b, 0.25))
    return out


def paint_ground_v2(
    grid: Grid, site: SiteLayout, season: str, rng: np.random.Generator, grain: np.ndarray, *, snow: bool
) -> np.ndarray:
    """Realism v2 ground as (rows, cols, 3) float32 reflectance.

    Walkways are smooth pale gravel with stains and (in the growing season)
    weeds; each track is a shoulder of ballast stones, a darker crib between
    bright concrete (or dark timber) sleepers, and two dark rails; platforms
    have an edge line. With ``snow`` most of it turns white: rails, roads and
    the cribs of the tracks stay darker.
    """
    ids = np.zeros(grid.shape, np.uint8)

    def fill(polys: list[np.ndarray], name: str) -> None:
        if polys:
            cv2.fillPoly(ids, grid.cv_points(polys), _MAT_V2[name], lineType=cv2.LINE_8, shift=SHIFT)

    outer, holes = formation(site)
    fill(outer, "yard_bed")
    fill(holes, "terrain")
    rails_all = shapely.union_all([shapely.LineString(t.points) for t in site.tracks])
    for area in site.areas:
        if area.kind in ("apron", "road", "lot", "platform", "parking"):
            fill([np.asarray(area.polygon.exterior.coords)], area.kind)
            if area.kind == "road":
                fill(_road_markings(area.polygon), "marking")
            if area.kind == "parking":
                fill(_stall_lines(area.polygon), "stall")
            if area.kind == "platform":
                fill(_platform_edges(area.polygon, rails_all), "platform_edge")
    shapes = track_shapes_v2(grid, site)
    tone_map = np.ones(grid.shape, np.float32)  # each track a little lighter or darker than the next
    for tr in site.tracks:
        cv2.fillPoly(
            tone_map,
            grid.cv_points(_band(np.asarray(tr.points), SLEEPER_LENGTH_M / 2 + 0.55)),
            float(rng.uniform(0.88, 1.1)),
            lineType=cv2.LINE_8,
            shift=SHIFT,
        )
    for name in ("shoulder", "crib", "crib_concrete", "crib_timber", "concrete", "timber"):
        fill(shapes[name], name)
    thick = max(1, round(RAIL_WIDTH_M / grid.px))
    cv2.polylines(
        ids,
        grid.cv_points(shapes["rail"]),
        False,
        _MAT_V2["rail"],
        thickness=thick,
        lineType=cv2.LINE_8,
        shift=SHIFT,
    )

    col = 3 if snow else 1
    palette = np.array([m[col] for m in _MATERIALS_V2], np.float32)
    for kind, (pitch, width) in SLEEPER.items():
        share = width / pitch
        palette[_MAT_V2[f"crib_{kind}"]] = (
            share * palette[_MAT_V2[kind]] + (1 - share) * palette[_MAT_V2["crib"]]
        )
    rail_w = min(1.0, RAIL_WIDTH_M / (thick * grid.px))  # on coarse grids a rail pixel is partly ballast
    palette[_MAT_V2["rail"]] = rail_w * palette[_MAT_V2["rail"]] + (1 - rail_w) * palette[_MAT_V2["crib"]]
    amp = np.array([m[2] for m in _MATERIALS_V2], np.float32)
    canvas = palette[ids]
    terrain = _terrain(grid.shape, grid.px, season, rng)
    if snow:  # snow over the fields, shrubs and bare patches showing through a little
        grey = terrain.mean(axis=-1, keepdims=True)
        terrain = palette[_MAT_V2["terrain"]] * (0.93 + 0.07 * np.clip(grey / 0.45, 0, 1.2))
        amp[_MAT_V2["terrain"]] = 0.012  # a smooth blanket
    cv2.copyTo(terrain, (ids == 0).view(np.uint8), canvas)
    del terrain
    # stains on walkways and paving, weeds in the growing season
    stain = smooth_noise(grid.shape, 3.0 / grid.px, rng)
    patches = smooth_noise(grid.shape, 1.2 / grid.px, rng)
    paved = np.isin(ids, [_MAT_V2[k] for k in ("yard_bed", "apron", "lot", "shoulder")])
    dark = np.clip(0.7 * stain + 0.5 * patches - 1.1, 0, 1) * paved * (0.2 if not snow else 0.05)
    canvas *= (1 - dark)[..., None]
    if season in ("spring", "summer") and not snow:
        weeds = np.clip(0.9 * patches + 0.5 * stain - 1.5, 0, 1) * np.isin(
            ids, [_MAT_V2["yard_bed"], _MAT_V2["shoulder"]]
        )
        blend(canvas, (0.8 * weeds).astype(np.float32), np.array(_VEGETATION[season][0], np.float32))
    del stain, patches, paved, dark
    tone = amp[ids] * grain
    tone += tone_map
    tone += 0.035 * smooth_noise(grid.shape, 6 / grid.px, rng)
    canvas *= tone[..., None]
    return canvas
