"""Vehicle painting: lit tops of railcars, locomotives and look-alikes, drawn in place.

Each painter gets the pixel centres of a window in the vehicle's own frame
(``u`` along, ``v`` across, metres from its centre), its size and paint, the
sun in that frame and a per-vehicle generator, and returns (rgb, alpha).
These are realism v1's painters; :mod:`railcount.synth.roofs` holds the
smoother v2 roofs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from railcount.synth.layout import Sun, Vehicles
from railcount.synth.raster import Grid, blend, ramp

AMBIENT = 0.42


def shade(nu: np.ndarray, nv: np.ndarray, nz: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Lambert shading of a surface with normal (nu, nv, nz), 1.0 for a flat sunlit roof."""
    norm = np.sqrt(nu * nu + nv * nv + nz * nz)
    d = (nu * s[0] + nv * s[1] + nz * s[2]) / norm
    return np.minimum(AMBIENT + (1 - AMBIENT) * np.maximum(d, 0) / s[2], 1.3)


def heap(
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


def inner_shadow(
    u: np.ndarray, v: np.ndarray, lu: float, lv: float, depth: float, s: np.ndarray
) -> np.ndarray:
    """True where the floor of an open box (half sizes lu, lv) is shaded by its walls."""
    reach = depth * math.hypot(s[0], s[1]) / s[2]
    su, sv = s[0] / math.hypot(s[0], s[1]), s[1] / math.hypot(s[0], s[1])
    return (np.abs(u + su * reach) > lu) | (np.abs(v + sv * reach) > lv)


def corrugated(u: np.ndarray, pitch: float) -> np.ndarray:
    return 1 - 0.04 * (np.abs((u / pitch) % 1 - 0.5) > 0.3)


def _box_roof(u, v, L, W, body, s, rng, px):
    phi = 0.22 * np.clip(v / (W / 2), -1, 1)
    b = shade(0 * u, np.sin(phi), np.cos(phi), s)
    seams = 1 - 0.05 * (np.abs((u / rng.uniform(0.9, 1.3)) % 1 - 0.5) > 0.42)
    ends = 1 - 0.25 * (np.abs(u) > L / 2 - 0.35)
    return body * (b * seams * ends)[..., None], 1.0


def _hopper(u, v, L, W, body, s, rng, px):
    side = np.abs(v) > W / 2 - 0.4
    end = np.abs(u) > L / 2 - 1.6
    nu = np.where(end, np.sign(u) * 0.55, 0.0)
    nv = np.where(side, np.sign(v) * 0.5, 0.0)
    b = shade(nu, nv, 1.0 + 0 * u, s)
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
    b = shade(nu, q, np.sqrt(1 - q * q), s)
    d = (nu * s[0] + q * s[1] + np.sqrt(1 - q * q) * s[2]) / np.sqrt(1 + nu * nu)
    spec = 0.35 * np.clip(d, 0, 1) ** 30 * (body.mean() < 0.3)
    dome = np.hypot(u - rng.uniform(-1, 1), v) < 0.5
    rgb = body * (b * np.where(dome, 1.1, 1.0))[..., None] + spec[..., None]
    barrel = ramp(lb - np.abs(u), px) * ramp(r - np.abs(v), px)
    frame = ramp(1.3 - np.abs(v), px) * (1 - barrel)
    deck = np.array([0.16, 0.15, 0.15])
    return rgb * barrel[..., None] + deck * frame[..., None], barrel + frame


def _gondola(u, v, L, W, body, s, rng, px, load="empty", load_rgb=None):
    lu, lv = L / 2 - 0.2, W / 2 - 0.2
    inner = ramp(lu - np.abs(u), px) * ramp(lv - np.abs(v), px)
    flat = shade(0 * u, 0 * v, 1 + 0 * u, s)
    rim = body * flat[..., None]
    if load == "empty":
        depth, floor = 1.8, load_rgb * (1 + 0.08 * np.sin(u * 2.1))[..., None]
        b = np.ones_like(u)
    else:
        depth = rng.uniform(0.2, 0.7)
        amp = {"coal": 0.5, "ore": 0.6, "scrap": 0.4}[load]
        dzu, dzv = heap(u, v, lu, lv, rng, amp)
        b = shade(-dzu, -dzv, 1 + 0 * u, s)
        floor = np.broadcast_to(load_rgb, (*u.shape, 3))
        if load == "scrap":
            floor = floor * (1 + 0.25 * np.sin(u * 3.7 + 1.3 * v) * np.sin(v * 5.1 - u))[..., None]
    shadow = inner_shadow(u, v, lu, lv, depth, s)
    interior = floor * (b * np.where(shadow, 0.5, 1.0))[..., None]
    return rim * (1 - inner[..., None]) + interior * inner[..., None], 1.0


def container_top(u, v, L, W, colour, s, px):
    m = ramp(L / 2 - np.abs(u), px) * ramp(W / 2 - np.abs(v), px)
    edge = 1 - 0.15 * ((np.abs(u) > L / 2 - 0.15) | (np.abs(v) > W / 2 - 0.1))
    return colour * (corrugated(u, 0.3) * edge)[..., None], m


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
            top, m = container_top(u - cu, v, cl, 2.44, col, s, px)
            rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    elif load in ("tarp", "timber"):
        lt = L / 2 - rng.uniform(0.4, 1.6)
        wt = W / 2 - 0.08
        wob = 0.35 * np.sin(v * rng.uniform(1, 3) + rng.uniform(0, 6)) + 0.25 * np.sin(
            u * rng.uniform(0.5, 1.5) + rng.uniform(0, 6)
        ) * (load == "tarp")
        m = ramp(lt - np.abs(u) + wob, px) * ramp(wt - np.abs(v), px)
        if load == "tarp":
            dzu, dzv = heap(u, v, lt, wt, rng, 0.9)
            b = shade(-dzu, -dzv, 1 + 0 * u, s)
            top = load_rgb * b[..., None]
        else:
            gaps = np.abs((u / rng.uniform(4, 6)) % 1 - 0.5) > 0.46
            m = m * np.where(gaps, 0.0, 1.0)
            q = np.clip(v / wt, -0.99, 0.99)
            logs = 1 + 0.12 * np.sin(2 * math.pi * v / 0.33)
            top = load_rgb * (shade(0 * u, q * 0.6, 1 + 0 * u, s) * logs)[..., None]
        rgb = rgb * (1 - m[..., None]) + top * m[..., None]
    return rgb, 1.0


def locomotive(u, v, L, W, body, s, rng, px):
    hood = (np.abs(v) < W / 2 - 0.35) & (np.abs(u) < L / 2 - 0.5)
    side = np.clip((np.abs(v) - (W / 2 - 0.75)) / 0.4, 0, 1) * np.sign(v) * 0.5
    b = shade(0 * u, side, 1 + 0 * u, s)
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


def truck(u, v, L, W, body, s, rng, px):
    cab = u > L / 2 - 2.4
    gap = (u <= L / 2 - 2.4) & (u > L / 2 - 2.9)
    flat = shade(0 * u, 0 * v, 1 + 0 * u, s)
    style = rng.integers(3)
    if style == 0:  # box or curtain trailer
        trailer = np.array([0.82, 0.82, 0.80]) * rng.uniform(0.8, 1.05) * corrugated(u, 1.2)[..., None]
    elif style == 1:  # container chassis
        trailer = np.clip(body[::-1], 0, 1) * corrugated(u, 0.3)[..., None]
    else:  # tanker
        q = np.clip(v / (W / 2), -0.99, 0.99)
        trailer = np.array([0.66, 0.67, 0.68]) * shade(0 * u, q, np.sqrt(1 - q * q), s)[..., None]
    rgb = np.where(cab[..., None], body * flat[..., None], trailer)
    alpha = np.where(gap, 0.0, 1.0) * np.where(cab, ramp(W / 2 - 0.1 - np.abs(v), px), 1.0)
    return rgb, alpha


def _ground_container(u, v, L, W, body, s, rng, px):
    top, _ = container_top(u, v, L, W, body, s, px)
    return top, 1.0


_PAINTERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "boxcar": _box_roof,
    "hopper": _hopper,
    "tank": _tank,
    "gondola": _gondola,
    "flat": _flat,
    "locomotive": locomotive,
    "truck": truck,
    "container": _ground_container,
}


@dataclass(frozen=True)
class Weathering:
    """How strongly dirt streaks, fine grain and dust mark a vehicle's top."""

    streak: float
    grain: float
    dust: float


# Roofs are smooth next to ballast (Muttenz: about half its fine texture): keep dirt and grain faint.
WEATHERING_V1 = Weathering(streak=0.08, grain=0.015, dust=0.05)


@dataclass(frozen=True, eq=False)
class Top:
    """A painted vehicle top in its window: colour, coverage, the vehicle frame and the sun in it."""

    rgb: np.ndarray
    cover: np.ndarray
    u: np.ndarray
    v: np.ndarray
    sun: np.ndarray
    rng: np.random.Generator


def vehicle_top(
    vehicles: Vehicles,
    i: int,
    x: np.ndarray,
    y: np.ndarray,
    sun: Sun,
    px: float,
    grain: np.ndarray,
    painters: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]],
    weathering: Weathering,
    lift: tuple[float, float] = (0.0, 0.0),
) -> Top:
    """Paint vehicle ``i``'s top at map pixel centres ``x`` (1, w), ``y`` (h, 1), moved by ``lift``.

    ``grain`` is the window of the fine-grain field; the vehicle's own
    generator (its ``look_seed``) drives its texture and weathering.
    """
    el, az = math.radians(sun.elevation_deg), math.radians(sun.azimuth_deg)
    hd = float(vehicles.heading[i])
    ch, sh = math.cos(hd), math.sin(hd)
    dx, dy = x - vehicles.center[i, 0] - lift[0], y - vehicles.center[i, 1] - lift[1]
    u, v = dx * ch + dy * sh, -dx * sh + dy * ch
    # the sun in the vehicle's frame: toward-sun (along, across, up)
    se, sn = math.sin(az) * math.cos(el), math.cos(az) * math.cos(el)
    s = np.array([se * ch + sn * sh, -se * sh + sn * ch, math.sin(el)])
    L, W = float(vehicles.length[i]), float(vehicles.width[i])
    kind = str(vehicles.kind[i])
    rng = np.random.Generator(np.random.PCG64(int(vehicles.look_seed[i])))
    body = vehicles.body_rgb[i]
    painter = painters[kind]
    if kind in ("gondola", "flat"):
        rgb, alpha = painter(
            u, v, L, W, body, s, rng, px, load=str(vehicles.load[i]), load_rgb=vehicles.load_rgb[i]
        )
    else:
        rgb, alpha = painter(u, v, L, W, body, s, rng, px)
    cover = ramp(L / 2 - np.abs(u), px) * ramp(W / 2 - np.abs(v), px) * alpha
    dirt = float(vehicles.dirt[i])
    streak = 0.5 + 0.5 * np.sin(2 * math.pi * u / rng.uniform(2.5, 7.0) + rng.uniform(0, 6))
    tone = (1 - weathering.streak * dirt * streak) * (1 + weathering.grain * grain)
    rgb = rgb * tone[..., None] + weathering.dust * dirt * np.array([0.45, 0.38, 0.30])
    grey = rgb.mean(axis=-1, keepdims=True)  # weathered paint is duller than new paint
    rgb = grey + (0.72 - 0.15 * dirt) * (rgb - grey)
    return Top(rgb, cover, u, v, s, rng)


def paint_vehicles(canvas: np.ndarray, grid: Grid, vehicles: Vehicles, sun: Sun, grain: np.ndarray) -> None:
    """Draw every vehicle's top in place; shadows are drawn beforehand by :func:`paint`."""
    h, w = grid.shape
    px = grid.px
    corners = grid.to_px(vehicles.corners())
    for i in range(len(vehicles)):
        c = corners[i]
        c0, r0 = np.floor(c.min(axis=0)).astype(int) - 2
        c1, r1 = np.ceil(c.max(axis=0)).astype(int) + 2
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
        if c1 <= c0 or r1 <= r0:
            continue
        x, y = grid.centres(r0, r1, c0, c1)
        top = vehicle_top(vehicles, i, x, y, sun, px, grain[r0:r1, c0:c1], _PAINTERS, WEATHERING_V1)
        blend(canvas[r0:r1, c0:c1], top.cover.astype(np.float32), top.rgb.astype(np.float32))
