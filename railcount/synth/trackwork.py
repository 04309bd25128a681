"""Track geometry for site builders: yard frames, turnout leads, ladders, crossovers, masts.

Sites are drawn in a yard frame ``(u, v)``: ``u`` along the tracks, ``v``
across them (to the left of ``u``), metres. :class:`Frame` maps it into the
site's UTM zone, straight or bent along a circular arc (a curved yard: every
line ``v = const`` is then a concentric arc, so parallel tracks stay parallel).

A turnout lead is a circular arc that leaves a straight ladder tangentially
and turns into a track (or the other way round); a crossover is two such arcs
and a straight joining two parallel tracks.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.ops import substring

from railcount.synth.layout import Overhead, Track

UV = tuple[float, float]

LEAD_RADIUS_M = 100.0
"""Radius of the turnout leads that join yard tracks to their ladders (realism v2)."""


def arc_length(uv: np.ndarray) -> float:
    return float(np.hypot(*np.diff(uv, axis=0).T).sum())


@dataclass(frozen=True)
class Frame:
    """Yard frame -> map metres: bend along an arc of ``radius`` (inf: straight), rotate by
    ``angle_deg`` (from east) and shift to ``origin``.

    With a finite radius, ``v = 0`` is an arc through the origin whose centre lies
    ``radius`` to the left (negative: to the right), and ``u`` is arc length on it.
    """

    origin: tuple[float, float]
    angle_deg: float
    radius: float = math.inf

    def xy(self, u: float, v: float) -> tuple[float, float]:
        a = math.radians(self.angle_deg)
        if math.isfinite(self.radius):
            r, th = self.radius, u / self.radius
            u, v = (r - v) * math.sin(th), r - (r - v) * math.cos(th)
        return (
            self.origin[0] + u * math.cos(a) - v * math.sin(a),
            self.origin[1] + u * math.sin(a) + v * math.cos(a),
        )

    def heading(self, u: float) -> float:
        """Map heading (radians from east) of the ``+u`` direction at ``u``."""
        bend = u / self.radius if math.isfinite(self.radius) else 0.0
        return math.radians(self.angle_deg) + bend

    def line(self, uv: list[UV] | np.ndarray, step: float = 4.0) -> tuple[tuple[float, float], ...]:
        """Map a (u, v) polyline, densified every ``step`` m so that bends stay smooth."""
        pts = np.asarray(uv, dtype=float)
        if math.isfinite(self.radius):
            pts = densify(pts, step)
        return tuple(self.xy(float(u), float(v)) for u, v in pts)

    def poly(self, uv: list[UV], step: float = 4.0) -> Polygon:
        ring = np.asarray([*uv, uv[0]], dtype=float)
        if math.isfinite(self.radius):
            ring = densify(ring, step)
        return Polygon([self.xy(float(u), float(v)) for u, v in ring[:-1]])

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> Polygon:
        return self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])


def densify(pts: np.ndarray, step: float) -> np.ndarray:
    """Insert vertices so that no segment of polyline ``pts`` (n, 2) is longer than ``step``."""
    out = [pts[:1]]
    for a, b in itertools.pairwise(pts):
        n = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def extent_around(core: shapely.Geometry, margin: float = 50.0) -> tuple[float, float, float, float]:
    """The ground area of a site: ``core``'s bounds plus ``margin``, out to whole 10 m."""
    xmin, ymin, xmax, ymax = core.bounds
    return (
        math.floor((xmin - margin) / 10) * 10,
        math.floor((ymin - margin) / 10) * 10,
        math.ceil((xmax + margin) / 10) * 10,
        math.ceil((ymax + margin) / 10) * 10,
    )


def clip_mains(tracks: list[Track], box: Polygon) -> list[Track]:
    """Main lines run out of the scene: cars stand on them only 30 m inside ``box``."""
    return [
        Track(t.id, t.kind, t.points, clip_usable(t.points, box, 30.0), t.sleepers) if t.kind == "main" else t
        for t in tracks
    ]


def clip_usable(points: tuple[tuple[float, float], ...], box: Polygon, margin: float) -> tuple[float, float]:
    """Arc-length range of a line that stays ``margin`` inside ``box``."""
    line = shapely.LineString(points)
    inner = line.intersection(box.buffer(-margin))
    a = line.project(shapely.Point(inner.coords[0]))
    b = line.project(shapely.Point(inner.coords[-1]))
    return (min(a, b), max(a, b))


def arc(centre: UV, radius: float, th0: float, th1: float, sigma: int, step: float = 2.0) -> np.ndarray:
    """Points (n, 2) of a circular path from heading ``th0`` to ``th1``; ``sigma`` +1 turns left."""
    n = max(2, math.ceil(abs(th1 - th0) * radius / step) + 1)
    th = np.linspace(th0, th1, n)
    return np.stack([centre[0] + sigma * radius * np.sin(th), centre[1] - sigma * radius * np.cos(th)], -1)


@dataclass(frozen=True)
class Ladder:
    """A straight diagonal in the yard frame through ``(u0, v0)`` at heading ``phi`` (radians)."""

    u0: float
    v0: float
    phi: float

    def u_at(self, v: float) -> float:
        return self.u0 + (v - self.v0) / math.tan(self.phi)

    def point(self, v: float) -> UV:
        return (self.u_at(v), v)


def lead_from(ladder: Ladder, v: float, radius: float) -> tuple[np.ndarray, float]:
    """A track at ``v`` (heading +u) that *starts* on ``ladder``: the turnout lead.

    Returns the lead's points (from the ladder to where the straight track
    begins) and the ``v`` of its junction on the ladder.
    """
    sigma = -1 if ladder.phi > 0 else 1
    v_j = v + sigma * radius * (1 - math.cos(ladder.phi))
    u_e = ladder.u_at(v_j) - sigma * radius * math.sin(ladder.phi)
    pts = arc((u_e, v + sigma * radius), radius, ladder.phi, 0.0, sigma)
    return pts, v_j


def lead_into(ladder: Ladder, v: float, radius: float) -> tuple[np.ndarray, float]:
    """A track at ``v`` (heading +u) that *ends* on ``ladder``: the turnout lead.

    Returns the lead's points (from the end of the straight track to the
    ladder) and the ``v`` of its junction on the ladder.
    """
    sigma = 1 if ladder.phi > 0 else -1
    v_j = v + sigma * radius * (1 - math.cos(ladder.phi))
    u_s = ladder.u_at(v_j) - sigma * radius * math.sin(ladder.phi)
    pts = arc((u_s, v + sigma * radius), radius, 0.0, ladder.phi, sigma)
    return pts, v_j


def crossover(
    u0: float, v_from: float, v_to: float, radius: float = 190.0, angle_deg: float = 6.0
) -> np.ndarray:
    """An S of two turnout arcs and a straight from track ``v_from`` to parallel track ``v_to``,
    starting at ``u0`` and heading +u."""
    psi = math.radians(angle_deg) * (1 if v_to > v_from else -1)
    sigma = 1 if psi > 0 else -1
    first = arc((u0, v_from + sigma * radius), radius, 0.0, psi, sigma)
    rise = abs(v_to - v_from) - 2 * radius * (1 - math.cos(psi))
    if rise < 0:
        raise ValueError(f"tracks {abs(v_to - v_from):.1f} m apart are too close for this crossover")
    run = rise / abs(math.sin(psi))
    p = first[-1] + run * np.array([math.cos(psi), math.sin(psi)])
    # the second arc turns back (the other way) to heading 0 and ends on v_to
    centre = (p[0] + sigma * radius * math.sin(psi), p[1] - sigma * radius * math.cos(psi))
    second = arc(centre, radius, psi, 0.0, -sigma)
    return np.concatenate([first, second])


def masts_along(
    points: tuple[tuple[float, float], ...],
    s_range: tuple[float, float],
    *,
    spacing: float,
    side: float,
    height: float,
    rng: np.random.Generator,
) -> list[Overhead]:
    """Masts beside a track every ``spacing`` m (jittered), ``side`` m to its left (negative: right),
    each with an arm over the track centreline."""
    line = shapely.LineString(points)
    out = []
    s = s_range[0] + rng.uniform(0, spacing)
    while s < s_range[1]:
        a = np.asarray(line.interpolate(s - 0.5).coords[0])
        b = np.asarray(line.interpolate(s + 0.5).coords[0])
        d = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
        on = (a + b) / 2
        foot = on + side * np.array([-d[1], d[0]])
        out.append(
            Overhead(
                "mast",
                ((float(foot[0]), float(foot[1])), (float(on[0]), float(on[1]))),
                height * rng.uniform(0.96, 1.04),
            )
        )
        s += spacing * rng.uniform(0.92, 1.08)
    return out


def branch_group(
    f: Frame, v0: float, *, u0: float, radius: float, beta: float, n: int, rng: np.random.Generator
) -> tuple[list[tuple[np.ndarray, str]], np.ndarray]:
    """A group of ``n`` concentric tracks leaving track ``v0`` at ``u0`` to the left, turning
    through ``beta`` on ``radius`` (outer ones tighter) and running straight on.

    Returns the tracks' (u, v) polylines with their sleeper kinds, and the
    diagonal ladder that feeds tracks 1.. from track 0.
    """
    spacing = rng.uniform(4.6, 5.0)
    centre = (u0, v0 + radius)
    length = rng.uniform(95.0, 115.0)
    end_ref = np.array([u0 + radius * math.sin(beta), v0 + radius * (1 - math.cos(beta))])
    end_ref = end_ref + length * np.array([math.cos(beta), math.sin(beta)])
    normal = np.array([-math.sin(beta), math.cos(beta)])
    paths = []
    for j in range(n):
        r = radius - j * spacing
        pts = arc(centre, r, 0.0, beta, 1)
        paths.append(np.concatenate([pts, [end_ref + j * spacing * normal]]))
    # a ladder leaves track 0 a little into the curve and crosses the others at a steeper angle
    th, rel = 0.1, 0.45  # the curve turns on under the ladder, so it must be steep to reach them all
    p = np.array([u0 + radius * math.sin(th), v0 + radius * (1 - math.cos(th))])
    d = np.array([math.cos(th + rel), math.sin(th + rel)])
    ladder = shapely.LineString([p, p + d * (n * spacing / math.sin(rel) + 40.0)])
    out = [(paths[0], "concrete")]
    cut = p
    for j in range(1, n):
        line = shapely.LineString(paths[j])
        hit = line.intersection(ladder)
        s = line.project(hit)
        tail = substring(line, s, line.length)
        out.append((np.asarray(tail.coords), "timber" if rng.random() < 0.5 else "concrete"))
        cut = np.asarray(hit.coords[0])
    return out, np.array([p, cut])
