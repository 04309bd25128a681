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
    window: SceneWindow, dets: Detections, cloud: np.ndarray | None = None
) -> tuple[SceneWindow, Detections, np.ndarray]:
    """Take opaque cloud out of a counted window: drop detections under it, and its pixels from ``data``.

    Detection itself runs on the whole window: taking the cloud out before
    it changes the contrast stretch, and on the real Joplin scene (where
    bright concrete passes for cloud) that invented railcars. So the cloud
    only decides what was *seen*. Returns the seen window, the detections
    outside the cloud and the cloud mask (``cloud``: :func:`opaque_cloud` of the window, when
    already made).
    """
    if cloud is None:
        cloud = opaque_cloud(window)
    if not cloud.any():
        return window, dets, cloud
    rows = np.clip(np.round(dets.center[:, 0]).astype(int), 0, window.shape[0] - 1)
    cols = np.clip(np.round(dets.center[:, 1]).astype(int), 0, window.shape[1] - 1)
    seen = ~cloud[rows, cols]
    return dataclasses.replace(window, data=window.data & ~cloud), dets.subset(seen), cloud
