"""Find opaque cloud over a window, so that what it hides is not counted as empty track.

Cars under opaque cloud cannot be seen, and they are not guessed. What the
tool must do instead is say how much of the station it could not see: after
detection the cloud is taken out of the window's data mask, so
``observed_fraction`` drops and the count interval's upper bound allows for
the hidden part; detections under it (cloud edges) are dropped.

From above, an opaque cloud is large, bright, grey-white and smooth, and
nothing dark shows through it. Each block of :data:`BLOCK_M` on a side is
judged on its mean linear luminance, its spread, its darkest pixel and its
colour saturation; blocks that pass are joined, and only regions of at
least :data:`MIN_AREA_M2` are kept (white roofs and containers are smaller,
and have edges, ribs and shadows). Snow is bright too, but a snow-covered
yard keeps its dark rails, cars and shadows.

A cloud also throws a shadow, usually somewhere else in the scene. There the
ground is lit by the sky alone: the cars cast no shadow to be found by, and
nearly all of them are missed (on the tuned v2 cloud scenes 600-799, 20 of
195 cars in the generator's cloud shadow were found, against 242 of 293 in
sunlight; ``benchmarks/cloud.py --count``). They are seen,
and counted where found, but :func:`cloud_shadow` marks the region so that
``observed_fraction`` leaves it out and the interval's upper bound allows for
what was missed there, and the count says so (a caution).

Measured on the 100 tuned v2 scenes (``railcount synth --conditions
cloud=0.25`` and the rest): on the 14 cloudy scenes the share of the
station found under cloud follows the share of railcars the generator hid
(correlation 0.67, mean 0.27 against 0.31); on the other 86 it finds at most
0.5 % of the station, except snow scenes (up to 7 %: smooth snow-covered
aprons and verges).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from railcount.detect.prepare import band_mean
from railcount.models import Detections, SceneWindow

BLOCK_M = 6.0
"""Side of the blocks the window is judged in."""
MIN_MEAN = 0.6
"""Least mean linear luminance (0-1 of the value range) of a cloud block."""
MAX_SPREAD = 0.035
"""Most standard deviation of linear luminance within a cloud block."""
MIN_DARKEST = 0.45
"""Least linear luminance of the darkest pixel in a cloud block (nothing dark shows through)."""
MAX_SATURATION = 0.15
"""Most colour saturation, (max - min) / max of the block's mean colour."""
MIN_AREA_M2 = 1500.0
"""Least area of a cloud region."""
MAX_RECTANGULARITY = 0.8
"""A region filling more than this share of its smallest enclosing rectangle is a roof, not cloud."""


SHADE_CELL_M = 1.0
"""Side of the cells whose mean luminance :func:`cloud_shadow` reads."""
SHADE_BLOCK_M = 4.0
"""Side of the blocks :func:`cloud_shadow` judges: each by its brightest cell."""
SHADE_PERCENTILE = 90.0
"""The sunlit level of a window: this percentile of its station's blocks' brightest cells (a
shadow over half a station leaves it sunlit; at the 75th, 62 % of the cars in deep generated
shadow were marked, at the 90th 82 %, with no more marked on clear yards; session 70)."""
SHADE_RATIO = 0.5
"""A block whose brightest cell is under this share of the sunlit level has no sunlit ground."""
SHADE_OPEN_M = 20.0
"""Only regions of such blocks this wide everywhere are kept (an opening): a consist's shadow, even a
winter one, is narrower."""
SHADE_MIN_AREA_M2 = 1500.0
"""Least area of a region without sunlight."""


def cloud_shadow(window: SceneWindow, cloud: np.ndarray | None = None) -> np.ndarray:
    """True where the station's ground is lit by the sky alone over a wide area: a cloud's shadow (or
    a tall building's), where the cars cast no shadow (bool, window shape; only inside the station
    polygon, and never under ``cloud``, the window's :func:`opaque_cloud` when given).

    In sunlight nearly every 4 m block holds some sunlit ground, ballast or a roof, as bright as the
    rest of the yard's; in a cloud's shadow none does. So each block of :data:`SHADE_BLOCK_M` is
    judged by its brightest 1 m cell against the station's sunlit level
    (:data:`SHADE_PERCENTILE`), blocks under :data:`SHADE_RATIO` of it are opened with a disk of
    :data:`SHADE_OPEN_M` and regions of :data:`SHADE_MIN_AREA_M2` or more are kept. Measured by
    ``benchmarks/cloud.py`` against the generator's own shadow (session 70): on the v2 scenes with
    opaque cloud, 99-100 % of the blocks marked are in it and 67-77 % of its blocks are marked; on
    the v2 scenes without cloud nothing, on 200 plain ones at most 0.3 % of a station; on the bundled
    samples and the real scenes nothing.
    """
    rows, cols = window.shape
    out = np.zeros((rows, cols), bool)
    c = max(1, round(SHADE_CELL_M / window.gsd_m))
    b = max(1, round(SHADE_BLOCK_M / (c * window.gsd_m)))
    k = b * c
    nr, nc = rows // k, cols // k
    if nr == 0 or nc == 0:
        return out
    raw = window.pixels[: nr * k, : nc * k, :3]
    if raw.dtype not in (np.uint8, np.uint16, np.float32):
        raw = raw.astype(np.float32)
    # Cell means of each band, then linear luminance (clipping after averaging: the same but where a
    # cell's pixels straddle the value range's ends).
    v0, v1 = window.value_range
    cells = cv2.resize(raw, (nc * b, nr * b), interpolation=cv2.INTER_AREA).astype(np.float32)
    cells = cells.reshape(nr * b, nc * b, -1)
    cells = np.clip((cells - np.float32(v0)) * np.float32(1.0 / max(v1 - v0, 1e-6)), 0.0, 1.0)
    lum = cells.mean(axis=2)
    full = window.data[: nr * k, : nc * k].reshape(nr * b, c, nc * b, c).all(axis=(1, 3))
    brightest = np.where(full, lum, 0.0).reshape(nr, b, nc, b).max(axis=(1, 3))
    judged = full.reshape(nr, b, nc, b).all(axis=(1, 3))
    if cloud is not None:
        judged &= ~cloud[: nr * k, : nc * k].reshape(nr, k, nc, k).any(axis=(1, 3))
    station = judged & window.inside[: nr * k, : nc * k].reshape(nr, k, nc, k).any(axis=(1, 3))
    if station.sum() < 10:
        return out
    sunlit = float(np.percentile(brightest[station], SHADE_PERCENTILE))
    dark = (judged & (brightest < SHADE_RATIO * sunlit)).view(np.uint8)
    block_m = k * window.gsd_m
    width = max(1, round(SHADE_OPEN_M / block_m))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    opened = cv2.morphologyEx(dark, cv2.MORPH_OPEN, disk)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    large = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] * block_m**2 >= SHADE_MIN_AREA_M2)
    keep = np.isin(labels, large[large > 0])
    out[: nr * k, : nc * k] = np.repeat(np.repeat(keep, k, axis=0), k, axis=1)
    # Only the station's part matters (and only it is hatched: dark fields beyond it are not shadow).
    out &= window.data & window.inside
    if cloud is not None:
        out &= ~cloud
    return out


def opaque_cloud(window: SceneWindow) -> np.ndarray:
    """True where opaque cloud covers the window (bool, window shape)."""
    rows, cols = window.shape
    k = max(2, round(BLOCK_M / window.gsd_m))
    nr, nc = rows // k, cols // k
    out = np.zeros((rows, cols), bool)
    if nr == 0 or nc == 0:
        return out
    v0, v1 = window.value_range
    raw = window.pixels[: nr * k, : nc * k, :3]
    # Only bright blocks can be cloud. A bound from the raw values finds the rows of blocks that
    # may hold one (on a clear scene, none, and the window is never converted to float).
    maybe = _rows_maybe_bright(raw, k, v0, v1)
    if maybe is None:
        maybe = np.arange(nr)
    cloud = np.zeros((nr, nc), bool)
    if maybe.size:
        # clip((bands - v0) / (v1 - v0), 0, 1), in place; its band mean as lin.mean(axis=2), to the bit.
        # Taken on the rows of blocks in question alone: a row of blocks keeps its layout, so numpy
        # sums each block in the same order as over the whole window.
        lin = raw.reshape(nr, k, nc * k, -1)[maybe].astype(np.float32)
        np.subtract(lin, np.float32(v0), out=lin)
        np.multiply(lin, np.float32(1.0 / max(v1 - v0, 1e-6)), out=lin)
        np.clip(lin, 0.0, 1.0, out=lin)
        lum = band_mean(lin) if lin.shape[3] == 3 else lin.mean(axis=3)
        blocks = lum.reshape(maybe.size, k, nc, k)
        mean = blocks.mean(axis=(1, 3))
        # Blocks touching pixels without data are not judged (a nodata edge is not cloud).
        data = window.data[: nr * k, : nc * k].reshape(nr, k, nc, k)[maybe]
        bright = data.all(axis=(1, 3)) & (mean > MIN_MEAN)
        # The other statistics only on the rows of blocks holding a bright one (on most scenes, few).
        judged = np.flatnonzero(bright.any(axis=1))
        if judged.size:
            some = blocks[judged]
            spread = some.std(axis=(1, 3))
            darkest = some.min(axis=(1, 3))
            colour = lin.reshape(maybe.size, k, nc, k, -1)[judged].mean(axis=(1, 3))
            top = colour.max(axis=-1)
            saturation = (top - colour.min(axis=-1)) / np.maximum(top, 1e-3)
            cloud[maybe[judged]] = (
                bright[judged]
                & (spread < MAX_SPREAD)
                & (darkest > MIN_DARKEST)
                & (saturation < MAX_SATURATION)
            )
    cloud = cv2.morphologyEx(cloud.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cloud, connectivity=8)
    block_m2 = (k * window.gsd_m) ** 2
    keep = np.zeros(labels.shape, bool)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] * block_m2 < MIN_AREA_M2:
            continue
        region = labels == i
        # A flat roof fills the rectangle around it; a cloud is ragged.
        ys, xs = np.nonzero(region)
        (_, _), (w, h), _ = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
        if region.sum() >= MAX_RECTANGULARITY * (w + 1) * (h + 1):
            continue
        keep |= region
    out[: nr * k, : nc * k] = np.repeat(np.repeat(keep, k, axis=0), k, axis=1)
    return out & window.data


def _rows_maybe_bright(raw: np.ndarray, k: int, v0: float, v1: float) -> np.ndarray | None:
    """Rows of ``k``-pixel blocks of ``raw`` whose mean linear luminance may exceed :data:`MIN_MEAN`.

    For unsigned integers and ``v0 >= 0`` each band's linear value
    ``clip((v - v0) / (v1 - v0), 0, 1)`` is at most ``v / (v1 - v0)``, so a
    block's mean luminance is at most its bands' mean raw value over
    ``v1 - v0``. The block means come from an area resize (exact sums, rounded:
    within half a unit), taken a unit high. None when no such bound holds
    (other data types): every row is then in question.
    """
    if raw.dtype not in (np.uint8, np.uint16) or v0 < 0 or v1 <= v0:
        return None
    nr, nc = raw.shape[0] // k, raw.shape[1] // k
    means = cv2.resize(raw, (nc, nr), interpolation=cv2.INTER_AREA).reshape(nr, nc, -1)
    bound = (means.astype(np.float64).mean(axis=2) + 1.0) / (v1 - v0)
    return np.flatnonzero((bound > MIN_MEAN - 1e-4).any(axis=1))


def hide_cloud(
    window: SceneWindow, dets: Detections, cloud: np.ndarray | None = None, shade: np.ndarray | None = None
) -> tuple[SceneWindow, Detections, np.ndarray]:
    """Take opaque cloud out of a counted window: drop detections under it, and its pixels from ``data``.

    Detection itself runs on the whole window: taking the cloud out before
    it changes the contrast stretch, and on the real Joplin scene (where
    bright concrete passes for cloud) that invented railcars. So the cloud
    only decides what was *seen*. Returns the seen window, the detections
    outside the cloud and the cloud mask (``cloud``: :func:`opaque_cloud` of the window, when
    already made).

    ``shade`` (:func:`cloud_shadow`) is taken out of ``data`` too, so that ``observed_fraction`` leaves
    it out, but the cars found there are kept: they were seen.
    """
    if cloud is None:
        cloud = opaque_cloud(window)
    hidden = cloud if shade is None else cloud | shade
    seen_window = dataclasses.replace(window, data=window.data & ~hidden) if hidden.any() else window
    if cloud.any():
        rows = np.clip(np.round(dets.center[:, 0]).astype(int), 0, window.shape[0] - 1)
        cols = np.clip(np.round(dets.center[:, 1]).astype(int), 0, window.shape[1] - 1)
        dets = dets.subset(~cloud[rows, cols])
    return seen_window, dets, cloud
