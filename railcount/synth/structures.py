"""Things that stand up from the ground: their shadows, buildings, and the overhead line.

Shadows are polygons in map metres, each footprint swept away from the sun by
``height / tan(elevation)``; :func:`paint_shadows` darkens the ground under
them. Buildings are painted as lit roofs; with realism v2 also sheds,
canopies, platforms and the masts and portals of the overhead line, all of
which lean away from the satellite when it looks from off nadir.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import shapely

from railcount.synth.layout import SiteLayout, Sun, Vehicles
from railcount.synth.raster import Grid, blend, quad, ramp, rect_frame

SHADOW_TINT = np.array([0.24, 0.25, 0.30], np.float32)  # sky-lit shadow: about a quarter, a little blue
SNOW_SHADOW_TINT = np.array([0.40, 0.44, 0.55], np.float32)  # snow lights its own shadows: lighter, bluer


def shadow_polys(vehicles: Vehicles, site: SiteLayout, sun: Sun) -> list[np.ndarray]:
    """Ground shadows: each footprint swept ``height / tan(elevation)`` away from the sun."""
    foot = list(vehicles.corners())
    heights = list(vehicles.height)
    for area in site.areas:
        if area.height_m > 0:
            foot.append(np.asarray(area.polygon.exterior.coords)[:-1])
            heights.append(area.height_m)
    return [_swept(fp, h, sun) for fp, h in zip(foot, heights, strict=False)]


def _swept(fp: np.ndarray, h: float, sun: Sun) -> np.ndarray:
    """A footprint swept away from the sun by the shadow of height ``h``."""
    off = sun.shadow_offset(h)
    pts = np.concatenate([fp, fp + off]).astype(np.float32)
    return cv2.convexHull(pts).reshape(-1, 2).astype(float)


def paint_buildings(canvas: np.ndarray, grid: Grid, site: SiteLayout, sun: Sun, grain: np.ndarray) -> None:
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
        a = ramp(u, grid.px) * ramp(length - u, grid.px) * ramp(width / 2 - np.abs(v), grid.px)
        blend(canvas[r0:r1, c0:c1], a.astype(np.float32), roof.astype(np.float32))


# --------------------------------------------------------------------- realism v2

_ROOFS = ((0.62, 0.63, 0.62), (0.45, 0.27, 0.21), (0.36, 0.41, 0.48), (0.50, 0.50, 0.50), (0.31, 0.40, 0.33))
_WALL = np.array([0.56, 0.53, 0.49], np.float32)
_STEEL = np.array([0.50, 0.51, 0.51], np.float32)
_SNOW = np.array([0.86, 0.87, 0.90], np.float32)
_ELEVATED = ("canopy",)  # roofs on columns: no walls, and their shadow is the roof alone


def shadow_polys_v2(vehicles: Vehicles, site: SiteLayout, sun: Sun) -> list[np.ndarray]:
    """Ground shadows of vehicles, buildings, sheds and platforms (swept footprints) and of
    canopies (the roof alone, moved away from the sun)."""
    polys = [_swept(fp, h, sun) for fp, h in zip(vehicles.corners(), vehicles.height, strict=True)]
    for area in site.areas:
        if area.height_m <= 0:
            continue
        fp = np.asarray(area.polygon.exterior.coords)[:-1]
        if area.kind in _ELEVATED:
            polys.append(fp + sun.shadow_offset(area.height_m))
        else:
            polys.append(_swept(fp, area.height_m, sun))
    return polys


def wall_light(normal: np.ndarray, sun: Sun) -> float:
    """Brightness of a vertical wall with horizontal unit ``normal`` (east, north)."""
    az, el = math.radians(sun.azimuth_deg), math.radians(sun.elevation_deg)
    facing = normal[0] * math.sin(az) + normal[1] * math.cos(az)
    return 0.42 + 0.75 * max(facing, 0.0) * math.cos(el)


def facing_walls(ring: np.ndarray, lean: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(a, b, outward normal) of the edges of footprint ``ring`` (n, 2) whose walls face the
    satellite, i.e. show when the top is displaced by ``lean`` (away from it)."""
    ccw = shapely.LinearRing(ring).is_ccw
    out = []
    for a, b in zip(ring, np.roll(ring, -1, axis=0), strict=True):
        edge = (b - a) / np.hypot(*(b - a))
        normal = np.array([edge[1], -edge[0]]) * (1.0 if ccw else -1.0)
        if normal @ lean < 0:
            out.append((a, b, normal))
    return out


def paint_structures_v2(
    canvas: np.ndarray,
    grid: Grid,
    site: SiteLayout,
    sun: Sun,
    grain: np.ndarray,
    *,
    lean: np.ndarray,
    snow: bool,
) -> None:
    """Roofs of buildings, sheds and canopies, raised by ``lean * height`` when seen off nadir
    (the walls facing the satellite then show between footprint and roof)."""
    for k, area in enumerate(site.areas):
        if area.kind not in ("building", "shed", "canopy", "house"):
            continue
        xy = np.asarray(area.polygon.exterior.coords)[:4]
        d = np.asarray(lean) * area.height_m
        win = grid.window(np.concatenate([xy, xy + d]))
        if win is None:
            continue
        r0, r1, c0, c1 = win
        sub = grid.sub(r0, r1, c0, c1)
        if area.kind not in _ELEVATED and np.hypot(*d) > 0.05:
            for a, b, normal in facing_walls(xy, d):
                wall = np.array([a, b, b + d, a + d])
                blend(canvas[r0:r1, c0:c1], sub.mask([wall]), _WALL * wall_light(normal, sun))
        corner, along, across, length, width = rect_frame(xy + d)
        x, y = sub.centres(0, r1 - r0, 0, c1 - c0)
        u = (x - corner[0]) * along[0] + (y - corner[1]) * along[1]
        v = (x - corner[0]) * across[0] + (y - corner[1]) * across[1] - width / 2
        az, el = math.radians(sun.azimuth_deg), math.radians(sun.elevation_deg)
        s_v = math.sin(az) * across[0] + math.cos(az) * across[1]
        if area.kind == "house":
            roof = _pitched_roof(u, v, width, s_v, el, grain[r0:r1, c0:c1], xy, grid.px)
            if snow:
                roof = _SNOW * np.clip(roof.mean(axis=-1, keepdims=True) / 0.4, 0.6, 1.0)
        else:
            light = 1 + 0.06 * np.sign(v) * s_v * math.cos(el) / math.sin(el)
            base = np.array(
                _ROOFS[0] if area.kind == "building" else _ROOFS[(k * 7 + 3) % len(_ROOFS)], np.float32
            )
            rib = 1 - 0.03 * (np.abs((u / 0.9) % 1 - 0.5) > 0.35)
            ridge = 1 - 0.06 * (np.abs(v) < 0.25)
            roof = base * (light * rib * ridge * (1 + 0.01 * grain[r0:r1, c0:c1]))[..., None]
            if snow:
                roof = _SNOW * (0.92 + 0.08 * light)[..., None]
        a = ramp(u, grid.px) * ramp(length - u, grid.px) * ramp(width / 2 - np.abs(v), grid.px)
        blend(canvas[r0:r1, c0:c1], a.astype(np.float32), roof.astype(np.float32))


_SHINGLES = (
    (0.36, 0.24, 0.18),
    (0.42, 0.20, 0.15),
    (0.30, 0.30, 0.31),
    (0.20, 0.20, 0.22),
    (0.40, 0.36, 0.30),
)


def _pitched_roof(
    u: np.ndarray,
    v: np.ndarray,
    width: float,
    s_v: float,
    el: float,
    grain: np.ndarray,
    xy: np.ndarray,
    px: float,
) -> np.ndarray:
    """A shingled gable roof (ridge along ``u``, halves at ``v`` < 0 and > 0) lit by the sun.

    Each half is lit by the cosine of the angle between its normal and the
    sun, relative to flat ground: the half facing the sun is brighter, the
    other darker (black when the sun is behind it). Pitch and colour follow
    from the footprint, so a building keeps them across acquisitions.
    """
    rng = np.random.default_rng([int(abs(xy[0][0] * 10)) % 2**31, int(abs(xy[0][1] * 10)) % 2**31, 5152])
    pitch = math.radians(rng.uniform(20.0, 40.0))
    base = np.array(_SHINGLES[int(rng.integers(len(_SHINGLES)))], np.float32)
    # sun (across, up) components; the horizontal one along the ridge does not light either half
    sun_across, sun_up = s_v * math.cos(el), math.sin(el)
    half = np.sign(v)
    cos_i = half * math.sin(pitch) * sun_across + math.cos(pitch) * sun_up
    light = np.clip(0.18 + 0.82 * np.maximum(cos_i, 0.0) / max(sun_up, 0.2), 0.18, 1.7)
    courses = 1 - 0.05 * (np.abs((v / 0.35) % 1 - 0.5) > 0.38)  # shingle courses parallel to the ridge
    ridge = 1 + 0.12 * (np.abs(v) < max(0.3, 0.6 * px))
    eaves = 1 - 0.15 * (width / 2 - np.abs(v) < 0.4)
    stain = 1 + 0.06 * np.sin(u / rng.uniform(3.0, 9.0) + rng.uniform(0, 6.3))
    shade = light * courses * ridge * eaves * stain * (1 + 0.05 * grain)
    return base * shade[..., None].astype(np.float32)


class OverheadShadows:
    """Shadows of the overhead line (masts, arms, portal beams) on a surface at any height.

    A point at height ``t`` shades the surface at height ``z`` at its foot
    plus ``sun.shadow_offset(t - z)``; so on a car roof a portal's shadow falls
    nearer the portal than on the ground beside the car.
    """

    POLE, ARM, BEAM = 0.17, 0.05, 0.30  # half-widths, m
    SOLID, LATTICE = 0.85, 0.65  # how much light a pole and a lattice beam stop

    def __init__(self, site: SiteLayout, sun: Sun) -> None:
        self.sun = sun
        self.items = list(site.overhead)
        reach = [np.asarray(o.points) for o in self.items]
        self.boxes = np.array(
            [
                np.concatenate(
                    [
                        (r.min(0) + np.minimum(self.sun.shadow_offset(o.height_m), 0)) - 1,
                        (r.max(0) + np.maximum(self.sun.shadow_offset(o.height_m), 0)) + 1,
                    ]
                )
                for r, o in zip(reach, self.items, strict=True)
            ]
        ).reshape(-1, 4)

    def polys(self, z: float, box: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(solid, lattice) shadow polygons on a surface at height ``z`` (near ``box`` if given)."""
        off = self.sun.shadow_offset
        solid: list[np.ndarray] = []
        lattice: list[np.ndarray] = []
        for o, b in zip(self.items, self.boxes, strict=True):
            if o.height_m <= z:
                continue
            if box is not None and (b[0] > box[2] or b[2] < box[0] or b[1] > box[3] or b[3] < box[1]):
                continue
            p, q = np.asarray(o.points[0]), np.asarray(o.points[1])
            h = o.height_m
            if o.kind == "mast":
                ha = 0.85 * h
                solid.append(quad(p, p + off(h - z) + 1e-3, self.POLE))
                if ha > z:
                    solid.append(quad(p + off(ha - z), q + off(ha - z), self.ARM))
                if 0.6 * h > z:
                    solid.append(quad(p + off(0.6 * h - z), q + off(ha - z), self.ARM * 0.8))
            else:
                for foot in (p, q):
                    solid.append(quad(foot, foot + off(h - z) + 1e-3, self.POLE * 1.3))
                lattice.append(quad(p + off(h - z), q + off(h - z), self.BEAM))
        return solid, lattice

    def shade(self, grid: Grid, z: float = 0.0) -> np.ndarray:
        """Fraction of direct sun blocked (rows, cols) on a surface at height ``z``."""
        t = grid.transform
        box = np.array([t.c, t.f + t.e * grid.shape[0], t.c + t.a * grid.shape[1], t.f])
        solid, lattice = self.polys(z, box)
        out = grid.mask(solid) * np.float32(self.SOLID)
        if lattice:
            np.maximum(out, grid.mask(lattice) * np.float32(self.LATTICE), out=out)
        return out


def paint_overhead(canvas: np.ndarray, grid: Grid, site: SiteLayout, *, lean: np.ndarray) -> None:
    """Poles, arms and portal beams seen from above (leaning away from the satellite)."""
    lean = np.asarray(lean, dtype=float)
    poles, arms, beams = [], [], []
    for o in site.overhead:
        p, q = np.asarray(o.points[0]), np.asarray(o.points[1])
        h = o.height_m
        feet = (p,) if o.kind == "mast" else (p, q)
        for foot in feet:
            top = foot + lean * h
            if np.hypot(*(top - foot)) < 0.3:  # seen from above: the cap of the pole
                top = foot + np.array([0.3, 0.0])
            poles.append(quad(foot, top, OverheadShadows.POLE))
        if o.kind == "mast":
            arms.append(quad(p + lean * 0.85 * h, q + lean * 0.85 * h, OverheadShadows.ARM))
        else:
            beams.append(quad(p + lean * h, q + lean * h, OverheadShadows.BEAM))
    for polys, colour, alpha in (
        (beams, _STEEL * 1.2, 0.55),
        (arms, _STEEL, 0.8),
        (poles, _STEEL * 0.85, 1.0),
    ):
        if polys:
            blend(canvas, grid.mask(polys) * np.float32(alpha), colour)
