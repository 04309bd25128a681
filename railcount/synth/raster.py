"""Pixel-grid helpers shared by the painters: the grid, masks, noise and blending.

Arrays are (rows, cols[, bands]). OpenCV wants (x, y) = (col, row) points; that
conversion happens only in :meth:`Grid.cv_points`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from affine import Affine

SHIFT = 3  # OpenCV sub-pixel bits for polygon vertices


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
        """Map polygons -> int32 OpenCV vertex arrays in (x, y) with ``SHIFT`` bits."""
        scale = float(1 << SHIFT)
        return [np.round((self.to_px(p) - 0.5) * scale).astype(np.int32).reshape(-1, 1, 2) for p in polys]

    def mask(self, polys: list[np.ndarray]) -> np.ndarray:
        """Anti-aliased coverage (rows, cols) float32 in 0-1 of the union of ``polys``."""
        m = np.zeros(self.shape, np.uint8)
        if polys:
            cv2.fillPoly(m, self.cv_points(polys), 255, lineType=cv2.LINE_AA, shift=SHIFT)
        return m.astype(np.float32) * np.float32(1 / 255)

    def centres(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """Map x (1, w) and y (h, 1) of pixel centres in a window."""
        t = self.transform
        x = t.c + (np.arange(c0, c1, dtype=np.float64) + 0.5) * t.a
        y = t.f + (np.arange(r0, r1, dtype=np.float64) + 0.5) * t.e
        return x[None, :], y[:, None]

    def window(self, xy: np.ndarray, pad: int = 2) -> tuple[int, int, int, int] | None:
        """Pixel window (r0, r1, c0, c1) around map points ``xy`` (n, 2), clipped; None if empty."""
        p = self.to_px(xy)
        c0, r0 = np.floor(p.min(axis=0)).astype(int) - pad
        c1, r1 = np.ceil(p.max(axis=0)).astype(int) + pad
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, self.shape[1]), min(r1, self.shape[0])
        if c1 <= c0 or r1 <= r0:
            return None
        return int(r0), int(r1), int(c0), int(c1)

    def sub(self, r0: int, r1: int, c0: int, c1: int) -> Grid:
        """The window rows r0:r1, cols c0:c1 as a grid of its own."""
        t = self.transform
        return Grid(Affine(t.a, t.b, t.c + c0 * t.a, t.d, t.e, t.f + r0 * t.e), (r1 - r0, c1 - c0))

    def fine(self, factor: int) -> Grid:
        """The same area with pixels ``factor`` times smaller."""
        t = self.transform
        return Grid(
            Affine(t.a / factor, 0, t.c, 0, t.e / factor, t.f),
            (self.shape[0] * factor, self.shape[1] * factor),
        )


def smooth_noise(shape: tuple[int, int], cell_px: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, roughly unit-variance noise with features about ``cell_px`` pixels across."""
    gh = max(2, math.ceil(shape[0] / cell_px) + 2)
    gw = max(2, math.ceil(shape[1] / cell_px) + 2)
    g = rng.standard_normal((gh, gw)).astype(np.float32)
    # crop the coarse grid so that one resize lands exactly on ``shape`` (no big copy)
    gh_used, gw_used = shape[0] / cell_px + 1, shape[1] / cell_px + 1
    g = g[: math.ceil(gh_used), : math.ceil(gw_used)]
    return cv2.resize(g, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def blend(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """canvas <- canvas * (1 - alpha) + colour * alpha, in place; colour broadcasts."""
    a = alpha[..., None]
    canvas *= 1 - a
    canvas += np.asarray(colour, np.float32) * a


def ramp(d: np.ndarray, px: float) -> np.ndarray:
    """Anti-aliased inside-ness of a signed distance ``d`` (m, positive inside)."""
    return np.clip(d / px + 0.5, 0.0, 1.0)


def quad(a: np.ndarray, b: np.ndarray, half: float) -> np.ndarray:
    """Rectangle of half-width ``half`` around segment a-b."""
    d = b - a
    n = np.array([-d[1], d[0]]) / np.hypot(*d)
    return np.array([a - n * half, b - n * half, b + n * half, a + n * half])


def rect_frame(poly_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(corner0, along, across, length, width) of a rectangle given by its first four vertices."""
    xy = np.asarray(poly_xy, dtype=float)[:4]
    along, across = xy[1] - xy[0], xy[3] - xy[0]
    length, width = float(np.hypot(*along)), float(np.hypot(*across))
    return xy[0], along / length, across / width, length, width
