"""Rasterise a scene layout into pixels, then image it through a simple sensor.

Three stages, each a pure function of arrays and plain values:

1. :func:`paint` draws ground, tracks, shadows and vehicles as display
   reflectance (float32, 0-1) on a fine grid (``gsd / supersample``);
2. :func:`sense` area-downsamples to the target GSD, blurs with the PSF,
   adds haze, shot and read noise and quantises to uint8;
3. :func:`synthesize` chains layout -> paint -> sense and, when the output CRS
   is not the site's UTM zone, reprojects with :func:`rasterio.warp.reproject`.

Arrays are (rows, cols, 3) RGB. OpenCV wants (x, y) = (col, row) points; the
conversion happens only in :meth:`Grid.cv_points`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import cv2
import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.synth.layout import (
    SceneLayout,
    SceneSpec,
    SiteLayout,
    Sun,
    Truth,
    Vehicles,
    acquisition_time,
    build_truth,
    parse_date,
    plan_scene,
    solar_position,
)
from railcount.synth.sites import SITES

_SHIFT = 3  # OpenCV sub-pixel bits for polygon vertices
_MAX_RENDER_PIXELS = 20_000_000  # keeps peak memory (a few float canvases) under 1 GB


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: ``transform`` maps (col, row) to map (x, y)."""

    transform: Affine
    shape: tuple[int, int]

    @property
    def px(self) -> float:
        """Pixel size in map units."""
        return float(self.transform.a)

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        """Map (..., 2) -> continuous pixel (..., 2) as (col, row); pixel centres at +0.5."""
        t = ~self.transform
        xy = np.asarray(xy, dtype=float)
        return np.stack(
            [t.a * xy[..., 0] + t.b * xy[..., 1] + t.c, t.d * xy[..., 0] + t.e * xy[..., 1] + t.f], axis=-1
        )

    def cv_points(self, polys: list[np.ndarray]) -> list[np.ndarray]:
        """Map polygons -> int32 OpenCV vertex arrays in (x, y) with ``_SHIFT`` bits."""
        scale = float(1 << _SHIFT)
        return [np.round((self.to_px(p) - 0.5) * scale).astype(np.int32).reshape(-1, 1, 2) for p in polys]

    def mask(self, polys: list[np.ndarray]) -> np.ndarray:
        """Anti-aliased coverage (rows, cols) float32 in 0-1 of the union of ``polys``."""
        m = np.zeros(self.shape, np.uint8)
        if polys:
            cv2.fillPoly(m, self.cv_points(polys), 255, lineType=cv2.LINE_AA, shift=_SHIFT)
        return m.astype(np.float32) * np.float32(1 / 255)

    def centres(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """Map x (1, w) and y (h, 1) of pixel centres in a window."""
        t = self.transform
        x = t.c + (np.arange(c0, c1, dtype=np.float64) + 0.5) * t.a
        y = t.f + (np.arange(r0, r1, dtype=np.float64) + 0.5) * t.e
        return x[None, :], y[:, None]


# ------------------------------------------------------------------------- ground


def _season(month: int) -> str:
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
_SHADOW_TINT = np.array([0.24, 0.25, 0.30], np.float32)  # sky-lit shadow: about a quarter, a little blue


def _smooth_noise(shape: tuple[int, int], cell_px: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, roughly unit-variance noise with features about ``cell_px`` pixels across."""
    gh = max(2, math.ceil(shape[0] / cell_px) + 2)
    gw = max(2, math.ceil(shape[1] / cell_px) + 2)
    g = rng.standard_normal((gh, gw)).astype(np.float32)
    # crop the coarse grid so that one resize lands exactly on ``shape`` (no big copy)
    gh_used, gw_used = shape[0] / cell_px + 1, shape[1] / cell_px + 1
    g = g[: math.ceil(gh_used), : math.ceil(gw_used)]
    return cv2.resize(g, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _blend(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """canvas <- canvas * (1 - alpha) + colour * alpha, in place; colour broadcasts."""
    a = alpha[..., None]
    canvas *= 1 - a
    canvas += np.asarray(colour, np.float32) * a


def _terrain(shape: tuple[int, int], px: float, season: str, rng: np.random.Generator) -> np.ndarray:
    """Vegetation/soil mix, computed on a ~1 m grid and upsampled (it is all low-frequency)."""
    f = max(1, round(1.0 / px))
    small = (shape[0] // f + 2, shape[1] // f + 2)
    spx = px * f
    lush, dry = (np.array(c, np.float32) for c in _VEGETATION[season])
    n_big = _smooth_noise(small, 70 / spx, rng)
    n_mid = _smooth_noise(small, 14 / spx, rng)
    n_small = _smooth_noise(small, 3 / spx, rng)
    wet = 1 / (1 + np.exp(-(1.7 * n_big + 0.9 * n_mid)))
    col = dry + (lush - dry) * wet[..., None]
    bare = 0.6 * np.clip(0.7 * n_big + 0.8 * n_mid - 1.0, 0, 1)
    _blend(col, bare, np.array(_SOIL, np.float32))
    shrub = np.clip(1.2 * n_small + 0.6 * n_mid - 1.9, 0, 1)  # darker shrub clumps
    col *= (1 - 0.25 * shrub)[..., None] * (1 + 0.04 * n_small)[..., None]
    col = col[: math.ceil(shape[0] / f), : math.ceil(shape[1] / f)]
    return cv2.resize(col, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _quad(a: np.ndarray, b: np.ndarray, half: float) -> np.ndarray:
    """Rectangle of half-width ``half`` around segment a-b."""
    d = b - a
    n = np.array([-d[1], d[0]]) / np.hypot(*d)
    return np.array([a - n * half, b - n * half, b + n * half, a + n * half])


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
            out["ballast"].append(_quad(a, b, 1.5))
            out["ballast_inner"].append(_quad(a, b, tr.gauge_m / 2 - 0.05))
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
            quads.append(_quad(p0 + u * s, p0 + u * (s + (3.0 if dash else length)), 0.07))
    return quads


def _ground(
    grid: Grid, site: SiteLayout, season: str, rng: np.random.Generator, grain: np.ndarray
) -> np.ndarray:
    """Terrain, paved areas, track beds, sleepers and rails as (rows, cols, 3) float32."""
    ids = np.zeros(grid.shape, np.uint8)

    def fill(polys: list[np.ndarray], name: str) -> None:
        if polys:
            cv2.fillPoly(ids, grid.cv_points(polys), _MAT[name], lineType=cv2.LINE_8, shift=_SHIFT)

    # the formation: gravel walkways around every track, following the fan of the ladders
    bed = shapely.union_all([shapely.LineString(t.points).buffer(3.3, cap_style="flat") for t in site.tracks])
    for area in site.areas:
        if area.kind == "yard_bed":
            bed = bed.union(area.polygon)
    bed = bed.buffer(1.5, join_style="mitre").buffer(-1.0, join_style="mitre")
    geoms = getattr(bed, "geoms", [bed])
    fill([np.asarray(g.exterior.coords) for g in geoms], "yard_bed")
    fill([np.asarray(r.coords) for g in geoms for r in g.interiors], "terrain")
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
        shift=_SHIFT,
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
    tone += 1 + 0.035 * _smooth_noise(grid.shape, 6 / grid.px, rng)
    canvas *= tone[..., None]
    return canvas


def _shadow_polys(vehicles: Vehicles, site: SiteLayout, sun: Sun) -> list[np.ndarray]:
    """Ground shadows: each footprint swept ``height / tan(elevation)`` away from the sun."""
    polys = []
    foot = list(vehicles.corners())
    heights = list(vehicles.height)
    for area in site.areas:
        if area.height_m > 0:
            foot.append(np.asarray(area.polygon.exterior.coords)[:-1])
            heights.append(area.height_m)
    for fp, h in zip(foot, heights, strict=False):
        off = sun.shadow_offset(h)
        pts = np.concatenate([fp, fp + off]).astype(np.float32)
        polys.append(cv2.convexHull(pts).reshape(-1, 2).astype(float))
    return polys


def _buildings(canvas: np.ndarray, grid: Grid, site: SiteLayout, sun: Sun, grain: np.ndarray) -> None:
    """Shallow-pitched metal roofs with ribs and a ridge, lit by the sun."""
    for area in site.areas:
        if area.kind != "building":
            continue
        xy = np.asarray(area.polygon.exterior.coords)[:4]
        px_xy = grid.to_px(xy)
        c0, r0 = np.maximum(np.floor(px_xy.min(0)).astype(int) - 2, 0)
        c1, r1 = np.ceil(px_xy.max(0)).astype(int) + 2
        c1, r1 = min(c1, grid.shape[1]), min(r1, grid.shape[0])
        if c1 <= c0 or r1 <= r0:
            continue
        x, y = grid.centres(r0, r1, c0, c1)
        along = (xy[1] - xy[0]) / np.hypot(*(xy[1] - xy[0]))
        across = (xy[3] - xy[0]) / np.hypot(*(xy[3] - xy[0]))
        length, width = np.hypot(*(xy[1] - xy[0])), np.hypot(*(xy[3] - xy[0]))
        u = (x - xy[0][0]) * along[0] + (y - xy[0][1]) * along[1]
        v = (x - xy[0][0]) * across[0] + (y - xy[0][1]) * across[1] - width / 2
        az, el = math.radians(sun.azimuth_deg), math.radians(sun.elevation_deg)
        s_v = math.sin(az) * across[0] + math.cos(az) * across[1]
        light = 1 + 0.6 * 0.1 * np.sign(v) * s_v * math.cos(el) / math.sin(el)
        rib = 1 - 0.06 * (np.abs((u / 0.9) % 1 - 0.5) > 0.35)
        panel = 1 - 0.05 * ((u // 30) % 2) - 0.1 * (np.abs(v) < 0.3)
        roof = np.array([0.66, 0.67, 0.66]) * (light * rib * panel)[..., None]
        roof = roof * (1 + 0.03 * grain[r0:r1, c0:c1])[..., None]
        a = _ramp(u, grid.px) * _ramp(length - u, grid.px) * _ramp(width / 2 - np.abs(v), grid.px)
        _blend(canvas[r0:r1, c0:c1], a.astype(np.float32), roof.astype(np.float32))


def paint(layout: SceneLayout, grid: Grid, *, rng: np.random.Generator) -> np.ndarray:
    """Draw a scene layout as display reflectance.

    Parameters
    ----------
    layout : SceneLayout
    grid : Grid
        The (fine) grid to draw on, in the site's UTM zone.
    rng : numpy.random.Generator
        Texture stream (terrain, grain).

    Returns
    -------
    ndarray of float32, shape (rows, cols, 3)
        RGB reflectance, mostly within 0-1.
    """
    site = layout.site
    grain = rng.standard_normal(grid.shape, dtype=np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), max(0.4, 0.05 / grid.px)) * np.float32(1.6)
    canvas = _ground(grid, site, _season(layout.acquired.month), rng, grain)
    shade = grid.mask(_shadow_polys(layout.vehicles, site, layout.sun))
    shade = cv2.GaussianBlur(shade, (0, 0), max(0.5, 0.12 / grid.px))
    for ch, k in enumerate(_SHADOW_TINT):  # per band: one small temporary at a time
        canvas[..., ch] *= 1 - shade * np.float32(1 - k)
    _buildings(canvas, grid, site, layout.sun, grain)
    paint_vehicles(canvas, grid, layout.vehicles, layout.sun, grain)
    return canvas


# ------------------------------------------------------------------------ vehicles

_AMBIENT = 0.42


def _shade(nu: np.ndarray, nv: np.ndarray, nz: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Lambert shading of a surface with normal (nu, nv, nz), 1.0 for a flat sunlit roof."""
    norm = np.sqrt(nu * nu + nv * nv + nz * nz)
    d = (nu * s[0] + nv * s[1] + nz * s[2]) / norm
    return np.minimum(_AMBIENT + (1 - _AMBIENT) * np.maximum(d, 0) / s[2], 1.3)


def _ramp(d: np.ndarray, px: float) -> np.ndarray:
    """Anti-aliased inside-ness of a signed distance ``d`` (m, positive inside)."""
    return np.clip(d / px + 0.5, 0.0, 1.0)


def _heap(
    u: np.ndarray, v: np.ndarray, lu: float, lv: float, rng: np.random.Generator, amp: float
) -> tuple[np.ndarray, np.ndarray]:
    """Slopes (dz/du, dz/dv) of a heaped load: a ridge along the car plus random waves."""
    dzu = np.zeros(np.broadcast(u, v).shape)
    dzv = -2 * amp * v / (lv * lv) + dzu
    for _ in range(4):
        k = rng.uniform(0.6, 3.0)
        th = rng.uniform(0, math.pi)
        ph = rng.uniform(0, 2 * math.pi)
        a = amp * rng.uniform(0.05, 0.2)
        arg = k * (u * math.cos(th) + v * math.sin(th)) + ph
        dzu = dzu + a * k * math.cos(th) * np.cos(arg)
        dzv = dzv + a * k * math.sin(th) * np.cos(arg)
    return dzu, dzv


def _inner_shadow(
    u: np.ndarray, v: np.ndarray, lu: float, lv: float, depth: float, s: np.ndarray
) -> np.ndarray:
    """True where the floor of an open box (half sizes lu, lv) is shaded by its walls."""
    reach = depth * math.hypot(s[0], s[1]) / s[2]
    su, sv = s[0] / math.hypot(s[0], s[1]), s[1] / math.hypot(s[0], s[1])
    return (np.abs(u + su * reach) > lu) | (np.abs(v + sv * reach) > lv)


def _corrugated(u: np.ndarray, pitch: float) -> np.ndarray:
    return 1 - 0.04 * (np.abs((u / pitch) % 1 - 0.5) > 0.3)


def _box_roof(u, v, L, W, body, s, rng, px):
    phi = 0.22 * np.clip(v / (W / 2), -1, 1)
    b = _shade(0 * u, np.sin(phi), np.cos(phi), s)
    seams = 1 - 0.05 * (np.abs((u / rng.uniform(0.9, 1.3)) % 1 - 0.5) > 0.42)
    ends = 1 - 0.25 * (np.abs(u) > L / 2 - 0.35)
    return body * (b * seams * ends)[..., None], 1.0


def _hopper(u, v, L, W, body, s, rng, px):
    side = np.abs(v) > W / 2 - 0.4
    end = np.abs(u) > L / 2 - 1.6
    nu = np.where(end, np.sign(u) * 0.55, 0.0)
    nv = np.where(side, np.sign(v) * 0.5, 0.0)
    b = _shade(nu, nv, 1.0 + 0 * u, s)
    walk = 1 - 0.18 * (np.abs(v) < 0.33)
    pitch = rng.uniform(2.0, 2.6)
    hatch = (np.abs(v) < 0.45) & (np.abs((u / pitch) % 1 - 0.5) < 0.17) & (np.abs(u) < L / 2 - 2)
    ribs = 1 - 0.12 * (side & (np.abs((u / 1.1) % 1 - 0.5) > 0.44))
    return body * (b * walk * ribs * np.where(hatch, 1.12, 1.0))[..., None], 1.0


def _tank(u, v, L, W, body, s, rng, px):
    lb = L / 2 - 0.9
    r = W / 2 - 0.05
    q = np.clip(v / r, -0.999, 0.999)
    head = np.clip((np.abs(u) - (lb - 0.6)) / 0.6, 0, 1)
    nu = np.sign(u) * head * 0.8
    b = _shade(nu, q, np.sqrt(1 - q * q), s)
    d = (nu * s[0] + q * s[1] + np.sqrt(1 - q * q) * s[2]) / np.sqrt(1 + nu * nu)
    spec = 0.35 * np.clip(d, 0, 1) ** 30 * (body.mean() < 0.3)
    dome = np.hypot(u - rng.uniform(-1, 1), v) < 0.5
    rgb = body * (b * np.where(dome, 1.1, 1.0))[..., None] + spec[..., None]
    barrel = _ramp(lb - np.abs(u), px) * _ramp(r - np.abs(v), px)
    frame = _ramp(1.3 - np.abs(v), px) * (1 - barrel)
    deck = np.array([0.16, 0.15, 0.15])
    return rgb * barrel[..., None] + deck * frame[..., None], barrel + frame


def _gondola(u, v, L, W, body, s, rng, px, load="empty", load_rgb=None):
    lu, lv = L / 2 - 0.2, W / 2 - 0.2
    inner = _ramp(lu - np.abs(u), px) * _ramp(lv - np.abs(v), px)
    flat = _shade(0 * u, 0 * v, 1 + 0 * u, s)
    rim = body * flat[..., None]
    if load == "empty":
        depth, floor = 1.8, load_rgb * (1 + 0.08 * np.sin(u * 2.1))[..., None]
        b = np.ones_like(u)
    else:
        depth = rng.uniform(0.2, 0.7)
        amp = {"coal": 0.5, "ore": 0.6, "scrap": 0.4}[load]
        dzu, dzv = _heap(u, v, lu, lv, rng, amp)
        b = _shade(-dzu, -dzv, 1 + 0 * u, s)
        floor = np.broadcast_to(load_rgb, (*u.shape, 3))
        if load == "scrap":
            floor = floor * (1 + 0.25 * np.sin(u * 3.7 + 1.3 * v) * np.sin(v * 5.1 - u))[..., None]
    shadow = _inner_shadow(u, v, lu, lv, depth, s)
    interior = floor * (b * np.where(shadow, 0.5, 1.0))[..., None]
    return rim * (1 - inner[..., None]) + interior * inner[..., None], 1.0


def _container_top(u, v, L, W, colour, s, px):
    m = _ramp(L / 2 - np.abs(u), px) * _ramp(W / 2 - np.abs(v), px)
    edge = 1 - 0.15 * ((np.abs(u) > L / 2 - 0.15) | (np.abs(v) > W / 2 - 0.1))
    return colour * (_corrugated(u, 0.3) * edge)[..., None], m


def _flat(u, v, L, W, body, s, rng, px, load="empty", load_rgb=None):
    planks = 1 + 0.05 * np.sin(2 * math.pi * v / 0.25)
    pockets = (np.abs(v) > W / 2 - 0.15) & (np.abs((u / 1.5) % 1 - 0.5) < 0.08)
    rgb = body * 0.95 * (planks * np.where(pockets, 0.5, 1.0))[..., None]
    if load == "container":
        if L >= 17.0 and rng.random() < 0.5:
            parts = [(-3.2, 6.06, load_rgb), (3.2, 6.06, np.clip(load_rgb[::-1] * 1.1, 0, 1))]
        else:
            parts = [(rng.uniform(-0.5, 0.5), 12.19, load_rgb)]
        for cu, cl, col in parts:
            top, m = _container_top(u - cu, v, cl, 2.44, col, s, px)
            rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    elif load in ("tarp", "timber"):
        lt = L / 2 - rng.uniform(0.4, 1.6)
        wt = W / 2 - 0.08
        wob = 0.35 * np.sin(v * rng.uniform(1, 3) + rng.uniform(0, 6)) + 0.25 * np.sin(
            u * rng.uniform(0.5, 1.5) + rng.uniform(0, 6)
        ) * (load == "tarp")
        m = _ramp(lt - np.abs(u) + wob, px) * _ramp(wt - np.abs(v), px)
        if load == "tarp":
            dzu, dzv = _heap(u, v, lt, wt, rng, 0.9)
            b = _shade(-dzu, -dzv, 1 + 0 * u, s)
            top = load_rgb * b[..., None]
        else:
            gaps = np.abs((u / rng.uniform(4, 6)) % 1 - 0.5) > 0.46
            m = m * np.where(gaps, 0.0, 1.0)
            q = np.clip(v / wt, -0.99, 0.99)
            logs = 1 + 0.12 * np.sin(2 * math.pi * v / 0.33)
            top = load_rgb * (_shade(0 * u, q * 0.6, 1 + 0 * u, s) * logs)[..., None]
        rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    return rgb, 1.0


def _locomotive(u, v, L, W, body, s, rng, px):
    hood = (np.abs(v) < W / 2 - 0.35) & (np.abs(u) < L / 2 - 0.5)
    side = np.clip((np.abs(v) - (W / 2 - 0.75)) / 0.4, 0, 1) * np.sign(v) * 0.5
    b = _shade(0 * u, side, 1 + 0 * u, s)
    rgb = np.where(hood[..., None], body * b[..., None], np.array([0.2, 0.2, 0.21]))
    front = rng.choice([-1.0, 1.0])
    fu = u * front
    cab = hood & (fu > L / 2 - 4.4) & (fu < L / 2 - 1.6)
    rgb = np.where(cab[..., None], np.clip(body * 1.25 + 0.08, 0, 1) * b[..., None], rgb)
    grille = hood & (fu < -(L / 2 - 5.5)) & (fu > -(L / 2 - 1.0)) & (np.abs(v) < 1.1)
    stripes = 1 + 0.3 * (np.abs((u / 0.2) % 1 - 0.5) > 0.3)
    rgb = np.where(grille[..., None], (np.array([0.12, 0.12, 0.13]) * stripes[..., None]), rgb)
    for fc in (-(L / 2 - 2.2), -(L / 2 - 4.2)):
        fan = np.hypot(fu - fc, v) < 0.6
        rgb = np.where(fan[..., None], np.array([0.06, 0.06, 0.07]), rgb)
    exhaust = hood & (np.abs(fu - 0.5) < 0.25) & (np.abs(v) < 0.2)
    rgb = np.where(exhaust[..., None], np.array([0.05, 0.05, 0.05]), rgb)
    return rgb, 1.0


def _truck(u, v, L, W, body, s, rng, px):
    cab = u > L / 2 - 2.4
    gap = (u <= L / 2 - 2.4) & (u > L / 2 - 2.9)
    flat = _shade(0 * u, 0 * v, 1 + 0 * u, s)
    style = rng.integers(3)
    if style == 0:  # box or curtain trailer
        trailer = np.array([0.82, 0.82, 0.80]) * rng.uniform(0.8, 1.05) * _corrugated(u, 1.2)[..., None]
    elif style == 1:  # container chassis
        trailer = np.clip(body[::-1], 0, 1) * _corrugated(u, 0.3)[..., None]
    else:  # tanker
        q = np.clip(v / (W / 2), -0.99, 0.99)
        trailer = np.array([0.66, 0.67, 0.68]) * _shade(0 * u, q, np.sqrt(1 - q * q), s)[..., None]
    rgb = np.where(cab[..., None], body * flat[..., None], trailer)
    alpha = np.where(gap, 0.0, 1.0) * np.where(cab, _ramp(W / 2 - 0.1 - np.abs(v), px), 1.0)
    return rgb, alpha


def _ground_container(u, v, L, W, body, s, rng, px):
    top, _ = _container_top(u, v, L, W, body, s, px)
    return top, 1.0


_PAINTERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "boxcar": _box_roof,
    "hopper": _hopper,
    "tank": _tank,
    "gondola": _gondola,
    "flat": _flat,
    "locomotive": _locomotive,
    "truck": _truck,
    "container": _ground_container,
}


def paint_vehicles(canvas: np.ndarray, grid: Grid, vehicles: Vehicles, sun: Sun, grain: np.ndarray) -> None:
    """Draw every vehicle's top in place; shadows are drawn beforehand by :func:`paint`."""
    h, w = grid.shape
    px = grid.px
    el, az = math.radians(sun.elevation_deg), math.radians(sun.azimuth_deg)
    corners = grid.to_px(vehicles.corners())
    for i in range(len(vehicles)):
        c = corners[i]
        c0, r0 = np.floor(c.min(axis=0)).astype(int) - 2
        c1, r1 = np.ceil(c.max(axis=0)).astype(int) + 2
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
        if c1 <= c0 or r1 <= r0:
            continue
        x, y = grid.centres(r0, r1, c0, c1)
        hd = float(vehicles.heading[i])
        ch, sh = math.cos(hd), math.sin(hd)
        dx, dy = x - vehicles.center[i, 0], y - vehicles.center[i, 1]
        u, v = dx * ch + dy * sh, -dx * sh + dy * ch
        # the sun in the vehicle's frame: toward-sun (along, across, up)
        se, sn = math.sin(az) * math.cos(el), math.cos(az) * math.cos(el)
        s = np.array([se * ch + sn * sh, -se * sh + sn * ch, math.sin(el)])
        L, W = float(vehicles.length[i]), float(vehicles.width[i])
        kind = str(vehicles.kind[i])
        rng = np.random.Generator(np.random.PCG64(int(vehicles.look_seed[i])))
        body = vehicles.body_rgb[i]
        painter = _PAINTERS[kind]
        if kind in ("gondola", "flat"):
            rgb, alpha = painter(
                u, v, L, W, body, s, rng, px, load=str(vehicles.load[i]), load_rgb=vehicles.load_rgb[i]
            )
        else:
            rgb, alpha = painter(u, v, L, W, body, s, rng, px)
        cover = _ramp(L / 2 - np.abs(u), px) * _ramp(W / 2 - np.abs(v), px) * alpha
        dirt = float(vehicles.dirt[i])
        streak = 0.5 + 0.5 * np.sin(2 * math.pi * u / rng.uniform(2.5, 7.0) + rng.uniform(0, 6))
        # Roofs are smooth next to ballast (Muttenz: about half its fine texture): keep dirt and grain faint.
        tone = (1 - 0.08 * dirt * streak) * (1 + 0.015 * grain[r0:r1, c0:c1])
        rgb = rgb * tone[..., None] + 0.05 * dirt * np.array([0.45, 0.38, 0.30])
        grey = rgb.mean(axis=-1, keepdims=True)  # weathered paint is duller than new paint
        rgb = grey + (0.72 - 0.15 * dirt) * (rgb - grey)
        _blend(canvas[r0:r1, c0:c1], cover.astype(np.float32), rgb.astype(np.float32))


# -------------------------------------------------------------------------- sensor


def sense(
    reflectance: np.ndarray,
    supersample: int,
    rng: np.random.Generator,
    *,
    psf_sigma_px: float = 0.55,
    haze: tuple[float, float, float] = (0.02, 0.026, 0.042),
    shot: float = 0.05,
    read: float = 1.1,
) -> np.ndarray:
    """Image fine-grid reflectance through a simple sensor.

    Parameters
    ----------
    reflectance : ndarray of float32, shape (rows * supersample, cols * supersample, 3)
    supersample : int
        Fine pixels per output pixel along each axis (block mean = detector area).
    rng : numpy.random.Generator
        Noise stream.
    psf_sigma_px : float
        Gaussian optics + motion blur, in output pixels.
    haze : (float, float, float)
        Additive path radiance per band (reflectance units).
    shot, read : float
        Shot-noise variance per DN and read-noise sigma in DN.

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)
    """
    h, w = reflectance.shape[:2]
    img = reflectance
    if supersample > 1:
        img = cv2.resize(img, (w // supersample, h // supersample), interpolation=cv2.INTER_AREA)
    img = cv2.GaussianBlur(img, (0, 0), psf_sigma_px)
    dn = 255 * (0.94 * img + np.asarray(haze, np.float32))
    sigma = np.sqrt(shot * np.maximum(dn, 0) + read * read)
    common = rng.standard_normal(dn.shape[:2], dtype=np.float32)[..., None]
    own = rng.standard_normal(dn.shape, dtype=np.float32)
    dn += sigma * (0.6 * common + 0.8 * own)
    return np.clip(np.rint(dn), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- scene


@dataclass(frozen=True, eq=False)
class SynthScene:
    """A synthesised scene: pixels with georeferencing, and its exact ground truth.

    Attributes
    ----------
    spec : SceneSpec
        What was asked for.
    pixels : ndarray of uint8, shape (rows, cols, 3)
        RGB.
    transform : Affine
        Maps (col, row) to ``crs`` coordinates.
    crs : CRS
    truth : Truth
        Every vehicle whose centre lies in the raster, lon/lat columns.
    station : Polygon
        The site's station polygon in lon/lat.
    station_name : str
    acquired : datetime
        Acquisition time (UTC, aware).
    sun : Sun
    """

    spec: SceneSpec
    pixels: np.ndarray
    transform: Affine
    crs: CRS
    truth: Truth
    station: Polygon
    station_name: str
    acquired: datetime
    sun: Sun

    def counts(self) -> dict[str, object]:
        """The truth summary written to ``*.truth.json`` (without the file name)."""
        out: dict[str, object] = {
            "station": self.station_name,
            "acquired": self.acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gsd_m": float(self.spec.gsd_m),
            "crs": self.crs.to_string(),
            "seed": int(self.spec.seed),
        }
        out.update(self.truth.counts())
        out["sun_azimuth_deg"] = round(self.sun.azimuth_deg, 2)
        out["sun_elevation_deg"] = round(self.sun.elevation_deg, 2)
        return out


def _auto_supersample(gsd: float, n_pixels: int) -> int:
    ss = int(np.clip(round(gsd / 0.16), 2, 4))
    while ss > 1 and n_pixels * ss * ss > _MAX_RENDER_PIXELS:
        ss -= 1
    return ss


def _output_grids(site: SiteLayout, gsd: float, dst: CRS) -> tuple[Grid, Grid | None]:
    """(UTM grid to render on at output GSD, output grid in ``dst`` or None if same CRS).

    For another CRS the output grid covers the site's extent with pixels that
    are ``gsd`` metres on the ground, and the UTM grid is grown (on the same
    pixel lattice) until it covers the whole output grid, so no edge is empty.
    """
    xmin, ymin, xmax, ymax = site.extent
    cols, rows = round((xmax - xmin) / gsd), round((ymax - ymin) / gsd)
    if dst == CRS.from_epsg(site.epsg):
        return Grid(Affine(gsd, 0, xmin, 0, -gsd, ymax), (rows, cols)), None
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ex, ey = warp_transform(site.crs, dst, [cx, cx + gsd, cx], [cy, cy, cy + gsd])
    res_x, res_y = math.hypot(ex[1] - ex[0], ey[1] - ey[0]), math.hypot(ex[2] - ex[0], ey[2] - ey[0])
    left, bottom, right, top = transform_bounds(site.crs, dst, *site.extent, densify_pts=21)
    d_cols, d_rows = math.ceil((right - left) / res_x), math.ceil((top - bottom) / res_y)
    out = Grid(Affine(res_x, 0, left, 0, -res_y, top), (d_rows, d_cols))
    sx0, sy0, sx1, sy1 = transform_bounds(
        dst, site.crs, left, top - d_rows * res_y, left + d_cols * res_x, top, densify_pts=21
    )
    c0 = math.floor((sx0 - xmin) / gsd) - 2
    c1 = math.ceil((sx1 - xmin) / gsd) + 2
    r0 = math.floor((ymax - sy1) / gsd) - 2
    r1 = math.ceil((ymax - sy0) / gsd) + 2
    src = Grid(Affine(gsd, 0, xmin + c0 * gsd, 0, -gsd, ymax - r0 * gsd), (r1 - r0, c1 - c0))
    return src, out


def _acquisition(spec: SceneSpec, site: SiteLayout, rng: np.random.Generator) -> tuple[datetime, Sun]:
    day = parse_date(spec.date)
    when = acquisition_time(day, site.lonlat[0], rng)  # always drawn: keeps streams aligned
    if spec.time_utc is not None:
        hh, mm, ss = (int(p) for p in spec.time_utc.split(":"))
        when = datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=timezone.utc)
    sun = solar_position(when, *site.lonlat)
    sun = Sun(
        spec.sun_azimuth_deg if spec.sun_azimuth_deg is not None else sun.azimuth_deg,
        spec.sun_elevation_deg if spec.sun_elevation_deg is not None else max(sun.elevation_deg, 8.0),
    )
    return when, sun


def synthesize(spec: SceneSpec) -> SynthScene:
    """Synthesise one scene: plan the layout, paint it, image it, georeference it.

    Pure: no files are read or written; equal specs give identical pixels and truth.

    >>> scene = synthesize(SceneSpec(cars=5, gsd_m=1.0, seed=3))
    >>> scene.truth.counts()["railcars"], scene.pixels.dtype.name
    (5, 'uint8')
    """
    site = SITES[spec.site]
    r_layout, r_texture, r_noise = spec.streams()
    acquired, sun = _acquisition(spec, site, r_layout)
    locos = int(r_layout.integers(0, 3))
    if spec.locomotives is not None:
        locos = spec.locomotives
    vehicles = plan_scene(
        site,
        cars=spec.cars,
        locomotives=locos,
        outside_cars=spec.outside_cars,
        distractors=spec.distractors,
        rng=r_layout,
    )
    layout = SceneLayout(site, vehicles, sun, acquired)

    dst = CRS.from_user_input(spec.crs) if spec.crs else CRS.from_epsg(site.epsg)
    src, out = _output_grids(site, float(spec.gsd_m), dst)
    ss = spec.supersample or _auto_supersample(float(spec.gsd_m), src.shape[0] * src.shape[1])
    t = src.transform
    fine = Grid(Affine(t.a / ss, 0, t.c, 0, t.e / ss, t.f), (src.shape[0] * ss, src.shape[1] * ss))
    pixels = sense(paint(layout, fine, rng=r_texture), ss, r_noise)

    if out is None:
        out = src
    else:
        dst_pixels = np.zeros((3, *out.shape), np.uint8)
        reproject(
            np.moveaxis(pixels, -1, 0),
            dst_pixels,
            src_transform=src.transform,
            src_crs=CRS.from_epsg(site.epsg),
            dst_transform=out.transform,
            dst_crs=dst,
            resampling=Resampling.bilinear,
            num_threads=1,
        )
        pixels = np.ascontiguousarray(np.moveaxis(dst_pixels, 0, -1))
    # truth: vehicles whose centre falls inside the output raster
    cx, cy = warp_transform(site.crs, dst, vehicles.center[:, 0], vehicles.center[:, 1])
    col_row = out.to_px(np.stack([cx, cy], -1))
    keep = (
        (col_row[:, 0] >= 0)
        & (col_row[:, 0] < out.shape[1])
        & (col_row[:, 1] >= 0)
        & (col_row[:, 1] < out.shape[0])
    )
    truth = build_truth(vehicles, site, keep)
    return SynthScene(
        spec=spec,
        pixels=pixels,
        transform=out.transform,
        crs=dst,
        truth=truth,
        station=site.station_lonlat,
        station_name=site.station_name,
        acquired=acquired,
        sun=sun,
    )
