"""Realism v2 vehicle tops: smooth roofs, snow, off-nadir lean and overhead-line shadows.

Seen from 0.3-0.5 m, a wagon roof is one of the smoothest things in a yard:
a uniform (often faded or galvanised) surface with a gentle shading across
its curvature, while the ballast around it is a grainy ladder of sleepers and
rails (Muttenz: mean |Laplacian of log luminance| about half that of the
ground). The painters here keep fine structure faint and put the variation
into broad weathering instead. :func:`paint_vehicles_v2` also raises each
top by ``lean * height`` off nadir, draws the wall that faces the satellite,
lays snow on roofs and lets portal and mast shadows fall across them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from affine import Affine

from railcount.synth.layout import Sun, Vehicles
from railcount.synth.raster import Grid, blend, ramp
from railcount.synth.structures import SHADOW_TINT, OverheadShadows, facing_walls, wall_light
from railcount.synth.vehicles import Weathering, heap, inner_shadow, locomotive, shade, truck, vehicle_top

_SNOW = np.array([0.86, 0.87, 0.90])
WEATHERING_V2 = Weathering(streak=0.06, grain=0.006, dust=0.04)
_UNDERFRAME = np.array([0.12, 0.11, 0.11])


def _weathering(u: np.ndarray, v: np.ndarray, rng: np.random.Generator, amp: float) -> np.ndarray:
    """Broad, smooth patches of fading (metres-scale), mean 1."""
    k1, k2, k3 = rng.uniform(0.9, 2.2), rng.uniform(1.2, 2.6), rng.uniform(0.4, 0.9)
    p1, p2, p3 = rng.uniform(0, 2 * math.pi, 3)
    return 1 + amp * (0.6 * np.sin(k1 * u + p1) * np.sin(k2 * v + p2) + 0.4 * np.sin(k3 * u + p3))


LIGHT_ROOF_SHARE = 0.4
"""Share of box, hopper and gondola tops painted light (galvanised, aluminium or pale grey)."""


def _faded(body: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Roof paint: the body colour faded toward grey or, on :data:`LIGHT_ROOF_SHARE` of the cars, a
    light galvanised or pale grey roof.

    Seen from above, a wagon shows its roof, not its livery. On the real
    Muttenz scene averaged to 1 m, half the wagons' tops are as bright as
    the ballast beside them (median 0.50 of the range against 0.48-0.50),
    while the tuned scenes' were a third darker (0.32-0.38 against
    0.40-0.50), and the car model turned down a third of the real wagons
    there (session 31).
    """
    if rng.random() < LIGHT_ROOF_SHARE:
        grey, k = rng.uniform(0.58, 0.85), rng.uniform(0.75, 1.0)
    else:
        grey, k = rng.uniform(0.40, 0.66), rng.uniform(0.0, 0.6)
    return body * (1 - k) + grey * k


def _box_roof(u, v, L, W, body, s, rng, px):
    roof = _faded(body, rng)
    phi = 0.07 * np.clip(v / (W / 2), -1, 1)  # a low crown: about 10 cm over the width
    b = shade(0 * u, np.sin(phi), np.cos(phi), s)
    pitch = rng.uniform(1.0, 1.4)
    seams = 1 - 0.015 * (np.abs((u / pitch) % 1 - 0.5) > 0.44)
    eaves = 1 - 0.1 * ramp(np.abs(v) - (W / 2 - 0.12), px)
    ends = 1 - 0.08 * ramp(np.abs(u) - (L / 2 - 0.3), px)
    return roof * (b * seams * eaves * ends * _weathering(u, v, rng, 0.04))[..., None], 1.0


def _hopper(u, v, L, W, body, s, rng, px):
    roof = _faded(body, rng)
    slope_end = np.clip((np.abs(u) - (L / 2 - 1.5)) / 0.6, 0, 1)
    slope_side = np.clip((np.abs(v) - (W / 2 - 0.45)) / 0.25, 0, 1)
    b = shade(np.sign(u) * 0.5 * slope_end, np.sign(v) * 0.35 * slope_side, 1.0 + 0 * u, s)
    hatch = 1 - 0.035 * ramp(0.35 - np.abs(v), px) * (np.abs(u) < L / 2 - 1.8)
    return roof * (b * hatch * _weathering(u, v, rng, 0.035))[..., None], 1.0


def _tank(u, v, L, W, body, s, rng, px):
    if body.mean() < 0.5 and rng.random() < LIGHT_ROOF_SHARE / 2:
        body = np.full(3, rng.uniform(0.62, 0.85)) + rng.normal(0, 0.015, 3)  # a white or grey barrel
    lb, r = L / 2 - 0.9, W / 2 - 0.05
    q = np.clip(v / r, -0.999, 0.999)
    head = np.clip((np.abs(u) - (lb - 0.6)) / 0.6, 0, 1)
    nu = np.sign(u) * head * 0.8
    nz = np.sqrt(1 - q * q)
    b = shade(nu, q, nz, s)
    d = (nu * s[0] + q * s[1] + nz * s[2]) / np.sqrt(1 + nu * nu)
    sheen = 0.08 * np.clip(d, 0, 1) ** 6 * (body.mean() < 0.3)  # broad, not a sharp glint
    dome = 1 + 0.05 * ramp(0.5 - np.hypot(u - rng.uniform(-0.5, 0.5), v), px)
    rgb = body * (b * dome * _weathering(u, v, rng, 0.03))[..., None] + sheen[..., None]
    barrel = ramp(lb - np.abs(u), px) * ramp(r - np.abs(v), px)
    frame = ramp(1.3 - np.abs(v), px) * (1 - barrel)
    deck = np.array([0.16, 0.15, 0.15])
    return rgb * barrel[..., None] + deck * frame[..., None], barrel + frame


def _gondola(u, v, L, W, body, s, rng, px, load="empty", load_rgb=None):
    lu, lv = L / 2 - 0.2, W / 2 - 0.2
    inner = ramp(lu - np.abs(u), px) * ramp(lv - np.abs(v), px)
    rim = _faded(body, rng) * shade(0 * u, 0 * v, 1 + 0 * u, s)[..., None]
    if load == "empty":
        depth, b = 1.8, np.ones_like(u)
        floor = load_rgb * _weathering(u, v, rng, 0.05)[..., None]
    else:
        depth = rng.uniform(0.2, 0.6)
        dzu, dzv = heap(u, v, lu, lv, rng, {"coal": 0.3, "ore": 0.35, "scrap": 0.3}[load])
        b = shade(-dzu, -dzv, 1 + 0 * u, s)
        floor = np.broadcast_to(load_rgb, (*u.shape, 3))
        if load == "scrap":  # a jumble: a few waves in random directions, no lattice
            jumble = np.zeros_like(u)
            for _ in range(4):
                th, k, ph = rng.uniform(0, math.pi), rng.uniform(2.0, 6.0), rng.uniform(0, 2 * math.pi)
                jumble = jumble + np.sin(k * (u * math.cos(th) + v * math.sin(th)) + ph)
            floor = floor * (1 + 0.06 * jumble)[..., None]
    dark = np.where(inner_shadow(u, v, lu, lv, depth, s), 0.5, 1.0)
    interior = floor * (b * dark)[..., None]
    return rim * (1 - inner[..., None]) + interior * inner[..., None], 1.0


def _container(u, v, L, W, colour, px):
    m = ramp(L / 2 - np.abs(u), px) * ramp(W / 2 - np.abs(v), px)
    edge = 1 - 0.08 * ((np.abs(u) > L / 2 - 0.15) | (np.abs(v) > W / 2 - 0.1))
    ribs = 1 - 0.02 * (np.abs((u / 0.3) % 1 - 0.5) > 0.3)
    return colour * (ribs * edge)[..., None], m


def _flat(u, v, L, W, body, s, rng, px, load="empty", load_rgb=None):
    planks = 1 + 0.03 * np.sin(2 * math.pi * v / 0.25)
    pockets = (np.abs(v) > W / 2 - 0.15) & (np.abs((u / 1.5) % 1 - 0.5) < 0.08)
    rgb = body * 0.95 * (planks * np.where(pockets, 0.6, 1.0))[..., None]
    if load == "container":
        if L >= 17.0 and rng.random() < 0.5:
            parts = [(-3.2, 6.06, load_rgb), (3.2, 6.06, np.clip(load_rgb[::-1] * 1.1, 0, 1))]
        else:
            parts = [(rng.uniform(-0.5, 0.5), 12.19, load_rgb)]
        for cu, cl, col in parts:
            top, m = _container(u - cu, v, cl, 2.44, col, px)
            rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    elif load in ("tarp", "timber"):
        lt = L / 2 - rng.uniform(0.4, 1.6)
        wt = W / 2 - 0.08
        wob = 0.35 * np.sin(v * rng.uniform(1, 3) + rng.uniform(0, 6))
        if load == "tarp":  # an irregular load: the sheet drapes over lumps and is strapped down
            wob = wob + 0.3 * np.sin(u * rng.uniform(0.5, 1.5) + rng.uniform(0, 6))
        m = ramp(lt - np.abs(u) + wob, px) * ramp(wt - np.abs(v), px)
        if load == "tarp":
            dzu, dzv = heap(u, v, lt, wt, rng, 0.7)
            pitch = rng.uniform(1.6, 2.4)
            straps = 1 - 0.12 * ramp(0.05 - np.abs((u / pitch) % 1 - 0.5) * pitch, px)
            top = load_rgb * (shade(-dzu, -dzv, 1 + 0 * u, s) * straps)[..., None]
        else:
            gaps = np.abs((u / rng.uniform(4, 6)) % 1 - 0.5) > 0.46
            m = m * np.where(gaps, 0.0, 1.0)
            q = np.clip(v / wt, -0.99, 0.99)
            logs = 1 + 0.08 * np.sin(2 * math.pi * v / 0.33)
            top = load_rgb * (shade(0 * u, q * 0.6, 1 + 0 * u, s) * logs)[..., None]
        rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    return rgb, 1.0


def _trailer(u, v, L, W, body, s, rng, px):
    ribs = 1 - 0.025 * (np.abs((u / 0.6) % 1 - 0.5) > 0.4)
    nose = 1 - 0.1 * ramp(np.abs(u) - (L / 2 - 0.2), px)
    return body * (shade(0 * u, 0 * v, 1 + 0 * u, s) * ribs * nose * _weathering(u, v, rng, 0.03))[
        ..., None
    ], 1.0


def _ground_container(u, v, L, W, body, s, rng, px):
    top, _ = _container(u, v, L, W, body, px)
    return top, 1.0


def _auto(u, v, L, W, body, s, rng, px):
    """A parked passenger car: bonnet, dark windscreen and rear window, roof, boot; rounded ends."""
    flat = shade(0 * u, 0 * v, 1 + 0 * u, s)
    glass = ((np.abs(u) > 0.2 * L) & (np.abs(u) < 0.33 * L)) | (np.abs(v) > W / 2 - 0.25) & (
        np.abs(u) < 0.33 * L
    )
    rgb = np.where(glass[..., None], np.array([0.08, 0.09, 0.10]), body * flat[..., None])
    corner = np.clip((np.abs(u) - (L / 2 - 0.5)) / 0.5, 0, 1) * np.clip(
        (np.abs(v) - (W / 2 - 0.5)) / 0.5, 0, 1
    )
    return rgb, np.where(np.hypot(corner, 0) > 0.7, 0.0, 1.0)


PAINTERS_V2: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "boxcar": _box_roof,
    "hopper": _hopper,
    "tank": _tank,
    "gondola": _gondola,
    "flat": _flat,
    "locomotive": locomotive,
    "truck": truck,
    "trailer": _trailer,
    "container": _ground_container,
    "auto": _auto,
}
_SNOW_ZONE = {"tank": 0.33, "locomotive": 0.0}  # fraction of the width that holds snow, default all


def _walls(
    canvas: np.ndarray,
    sub: Grid,
    r0: int,
    c0: int,
    corners: np.ndarray,
    d: np.ndarray,
    h: float,
    body,
    sun: Sun,
) -> None:
    """The sides that face the satellite, between the footprint and the raised top."""
    r1, c1 = r0 + sub.shape[0], c0 + sub.shape[1]
    frame = min(1.1, 0.35 * h) / h  # the underframe and bogies: dark
    for a, b, normal in facing_walls(corners, d):
        lit = wall_light(normal, sun)
        low = np.array([a, b, b + d * frame, a + d * frame])
        high = np.array([a + d * frame, b + d * frame, b + d, a + d])
        blend(canvas[r0:r1, c0:c1], sub.mask([low]), (_UNDERFRAME * lit).astype(np.float32))
        blend(canvas[r0:r1, c0:c1], sub.mask([high]), (np.clip(body * 0.9, 0, 1) * lit).astype(np.float32))


def paint_vehicles_v2(
    canvas: np.ndarray,
    grid: Grid,
    vehicles: Vehicles,
    sun: Sun,
    grain: np.ndarray,
    *,
    lean: np.ndarray,
    overhead: OverheadShadows | None,
) -> None:
    """Draw every vehicle's top (and, off nadir, its near side) in place; shadows come first."""
    px = grid.px
    lean = np.asarray(lean, dtype=float)
    all_corners = vehicles.corners()
    tint = (1 - SHADOW_TINT).astype(np.float32)
    for i in range(len(vehicles)):
        h = float(vehicles.height[i])
        d = lean * h
        corners = all_corners[i]
        win = grid.window(np.concatenate([corners, corners + d]))
        if win is None:
            continue
        r0, r1, c0, c1 = win
        sub = grid.sub(r0, r1, c0, c1)
        body = vehicles.body_rgb[i]
        if np.hypot(*d) > 0.05:
            _walls(canvas, sub, r0, c0, corners, d, h, body, sun)
        x, y = sub.centres(0, r1 - r0, 0, c1 - c0)
        top = vehicle_top(
            vehicles, i, x, y, sun, px, grain[r0:r1, c0:c1], PAINTERS_V2, WEATHERING_V2, lift=(d[0], d[1])
        )
        rgb, u, v, rng = top.rgb, top.u, top.v, top.rng
        W = float(vehicles.width[i])
        snow = float(vehicles.snow[i])
        if snow > 0:
            zone = _SNOW_ZONE.get(str(vehicles.kind[i]), 1.0) * W / 2
            drift = (
                0.5
                + 0.25 * np.sin(u * rng.uniform(0.8, 2.0) + rng.uniform(0, 6))
                + 0.25 * np.sin(v * rng.uniform(2, 4) + u * 0.3)
            )
            lay = np.clip((snow - drift) * 5 + 0.5, 0, 1) * ramp(zone - np.abs(v), px)
            rgb = rgb * (1 - lay[..., None]) + _SNOW * (0.93 + 0.07 * top.sun[2]) * lay[..., None]
        if overhead is not None and overhead.items:
            # the overhead line shades the roof where it really is, h metres up, before the lean
            t = sub.transform
            raised = Grid(Affine(t.a, 0, t.c - d[0], 0, t.e, t.f - d[1]), sub.shape)
            sh_roof = overhead.shade(raised, z=h)
            rgb = rgb * (1 - sh_roof[..., None] * tint)
        blend(canvas[r0:r1, c0:c1], top.cover.astype(np.float32), rgb.astype(np.float32))
