"""Cloud, haze and viewing geometry of one acquisition, as smooth fields in map metres.

:func:`make_sky` draws, from the conditions' own generator, an opaque cumulus
layer (with its shadow on the ground, displaced toward the anti-sun by the
cloud base height), thin streaky cloud and a haze veil on a coarse map grid
around the site. The sensor samples the fields on its pixel grid
(:meth:`Sky.on_grid`) and the truth samples the opaque layer over each
footprint (:meth:`Sky.hidden`), so both agree on which cars the cloud hides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from affine import Affine

from railcount.synth.layout import SiteLayout, Sun
from railcount.synth.raster import Grid, smooth_noise
from railcount.synth.spec import Conditions

CELL_M = 8.0
"""Size of a cell of the coarse grid the sky is drawn on."""

HIDDEN_OPACITY = 0.5
"""A vehicle counts as hidden by cloud when the opaque cloud's mean opacity over its footprint
reaches this (its top is then washed out beyond recognition)."""


def lean_vector(conditions: Conditions, rng: np.random.Generator) -> np.ndarray:
    """Map displacement (east, north) of a point per metre of height, seen off nadir.

    Tall things lean away from the satellite by ``tan(off_nadir)`` per metre.
    Always draws the view azimuth, so the stream stays aligned.
    """
    drawn = float(rng.uniform(0.0, 360.0))
    az = math.radians(conditions.view_azimuth_deg if conditions.view_azimuth_deg is not None else drawn)
    k = math.tan(math.radians(conditions.off_nadir_deg))
    return np.array([-k * math.sin(az), -k * math.cos(az)])


@dataclass(frozen=True, eq=False)
class Sky:
    """Fields (rows, cols) float32 on a coarse north-up map grid (``transform``).

    The opaque layer is a smooth field ``density`` whose level ``threshold``
    is the cloud's rim: opacity is a smoothstep of ``(density - threshold) /
    softness``, applied after resampling so that rims stay smooth at any
    pixel size. ``tone`` is the cloud tops' brightness, ``toward_sun`` the map
    offset from a ground point to the cloud above it along the sun ray (the
    shadow), ``thin`` the thin cloud's opacity and ``haze`` the veil's strength.
    """

    transform: Affine
    density: np.ndarray
    threshold: float
    softness: float
    toward_sun: np.ndarray
    tone: np.ndarray
    thin: np.ndarray
    haze: np.ndarray

    def opacity(self, density: np.ndarray) -> np.ndarray:
        """Opaque-cloud opacity (0-1) from density values."""
        if not math.isfinite(self.threshold):
            return np.zeros_like(density)
        z = np.clip((density - self.threshold) / self.softness + 0.5, 0, 1)
        return z * z * (3 - 2 * z)

    def sample(self, field: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """Bilinear samples of ``field`` at map points ``xy`` (..., 2)."""
        t = ~self.transform
        xy = np.asarray(xy, dtype=float)
        c = t.a * xy[..., 0] + t.b * xy[..., 1] + t.c - 0.5
        r = t.d * xy[..., 0] + t.e * xy[..., 1] + t.f - 0.5
        c = np.clip(c, 0, field.shape[1] - 1.001)
        r = np.clip(r, 0, field.shape[0] - 1.001)
        c0, r0 = np.floor(c).astype(int), np.floor(r).astype(int)
        fc, fr = c - c0, r - r0
        top = field[r0, c0] * (1 - fc) + field[r0, c0 + 1] * fc
        bottom = field[r0 + 1, c0] * (1 - fc) + field[r0 + 1, c0 + 1] * fc
        return top * (1 - fr) + bottom * fr

    def hidden(self, footprints: np.ndarray) -> np.ndarray:
        """True per footprint (n, 4, 2 map metres) under opaque cloud (see :data:`HIDDEN_OPACITY`)."""
        if len(footprints) == 0:
            return np.zeros(0, dtype=bool)
        w = np.linspace(0.1, 0.9, 3)
        a, b, d = footprints[:, 0], footprints[:, 1], footprints[:, 3]
        pts = (
            a[:, None, None, :]
            + (b - a)[:, None, None, :] * w[None, :, None, None]
            + (d - a)[:, None, None, :] * w[None, None, :, None]
        )
        return self.opacity(self.sample(self.density, pts)).mean(axis=(1, 2)) >= HIDDEN_OPACITY

    def on_grid(self, grid: Grid) -> dict[str, np.ndarray]:
        """Opacity of the cloud, of its shadow, of the thin cloud and of the haze, and the
        cloud's tone, on ``grid``'s pixel centres: (rows, cols) float32 each."""

        def resample(field: np.ndarray, shift: np.ndarray) -> np.ndarray:
            # dst pixel index -> map (+ shift) -> coarse pixel index (OpenCV: pixel centres on integers)
            m = (
                Affine.translation(-0.5, -0.5)
                @ ~self.transform
                @ Affine.translation(float(shift[0]), float(shift[1]))
                @ grid.transform
                @ Affine.translation(0.5, 0.5)
            )
            mat = np.array([[m.a, m.b, m.c], [m.d, m.e, m.f]], np.float64)
            return cv2.warpAffine(
                field,
                mat,
                (grid.shape[1], grid.shape[0]),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,  # as :meth:`sample`, which the truth uses
                borderMode=cv2.BORDER_REPLICATE,
            )

        still = np.zeros(2)
        return {
            "cloud": self.opacity(resample(self.density, still)),
            "shadow": self.opacity(resample(self.density, self.toward_sun)),
            "tone": resample(self.tone, still),
            "thin": np.clip(resample(self.thin, still), 0, 1),
            "haze": np.clip(resample(self.haze, still), 0, 1),
        }


def _fractal(shape: tuple[int, int], scales_cells: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    n = np.zeros(shape, np.float32)
    for k, cell in enumerate(scales_cells):
        n += smooth_noise(shape, max(cell, 1.5), rng) * np.float32(0.55**k)
    return (n - n.mean()) / max(float(n.std()), 1e-6)


def make_sky(site: SiteLayout, sun: Sun, conditions: Conditions, rng: np.random.Generator) -> Sky:
    """Draw the sky of one acquisition (deterministic in ``rng``; all fields always drawn)."""
    el = math.radians(sun.elevation_deg)
    base_h = float(rng.uniform(500.0, 1200.0))
    base_h = min(base_h, 1500.0 * math.tan(el))  # keep the shadow within reach of the grid
    toward_sun = -sun.shadow_offset(base_h)  # ground point -> the cloud above it along the sun ray
    xmin, ymin, xmax, ymax = site.extent
    margin = float(np.hypot(*toward_sun)) + 200.0
    x0, y1 = xmin - margin, ymax + margin
    cols = math.ceil((xmax - xmin + 2 * margin) / CELL_M)
    rows = math.ceil((ymax - ymin + 2 * margin) / CELL_M)
    transform = Affine(CELL_M, 0, x0, 0, -CELL_M, y1)
    shape = (rows, cols)

    # opaque cumulus: a fractal field thresholded to the asked cover, one cell always over the station
    n = _fractal(shape, (220 / CELL_M, 90 / CELL_M, 35 / CELL_M, 14 / CELL_M), rng)
    xs = x0 + (np.arange(cols) + 0.5) * CELL_M
    ys = y1 - (np.arange(rows) + 0.5) * CELL_M
    st = site.station
    for _ in range(200):
        px_, py_ = rng.uniform(st.bounds[0], st.bounds[2]), rng.uniform(st.bounds[1], st.bounds[3])
        if st.contains(shapely.Point(px_, py_)):
            break
    radius = float(rng.uniform(40.0, 90.0))
    bump = np.exp(-((xs[None, :] - px_) ** 2 + (ys[:, None] - py_) ** 2) / (2 * radius**2)).astype(np.float32)
    n += 1.3 * bump
    inner = (xs[None, :] >= xmin) & (xs[None, :] <= xmax) & (ys[:, None] >= ymin) & (ys[:, None] <= ymax)
    cover = conditions.cloud
    thr = float(np.quantile(n[inner], 1 - cover)) if cover > 0 else math.inf
    detail = _fractal(shape, (40 / CELL_M, 16 / CELL_M), rng)
    gy, gx = np.gradient(n)
    sun_dir = np.array([math.sin(math.radians(sun.azimuth_deg)), math.cos(math.radians(sun.azimuth_deg))])
    # flanks that face the sun are brighter (rows run south, so -gy is the northward slope)
    lit = np.clip(-(gx * sun_dir[0] - gy * sun_dir[1]) * 4, -1, 1)
    tone = np.clip(0.92 + 0.03 * detail + 0.05 * lit, 0.8, 1.0).astype(np.float32)

    # thin cloud: long streaks
    streak_az = rng.uniform(0, math.pi)
    wavelength = rng.uniform(60.0, 140.0)
    along = xs[None, :] * math.cos(streak_az) + ys[:, None] * math.sin(streak_az)
    across = -xs[None, :] * math.sin(streak_az) + ys[:, None] * math.cos(streak_az)
    phase = rng.uniform(0, 2 * math.pi)
    body = _fractal(shape, (160 / CELL_M, 60 / CELL_M), rng)
    streaks = 0.55 + 0.45 * np.sin(2 * math.pi * across / wavelength + 0.004 * along + phase)
    thin = (conditions.thin_cloud * np.clip(0.55 + 0.45 * body, 0, 1) * streaks).astype(np.float32)

    hz = _fractal(shape, (300 / CELL_M,), rng)
    haze = (conditions.haze * np.clip(0.85 + 0.15 * hz, 0, 1)).astype(np.float32)
    return Sky(transform, n, thr, 0.22, toward_sun, tone, thin, haze)
