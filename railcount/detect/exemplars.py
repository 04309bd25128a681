"""A second look at turned-down candidates, judged against the scene's own cars (a switch, off).

The car model is fitted on generated yards. On real imagery made coarser
(Muttenz west averaged to 0.75-1.0 m) it turns down whole consists of real
wagons that a person sees at once, because they look like the wagons it did
believe *in the same picture*, not like the generated ones it was taught
on. This module asks that question directly: a candidate the car model
turned down, but not out of hand, is kept when

* its surroundings look like those of the scene's confident cars: the
  normalised cross-correlation of a car-aligned patch of luminance
  (``exemplar_along_m`` either way along the track, ``exemplar_across_m``
  either way across it, centred where the box is drawn) with the patches of
  the confident cars of nearly the same direction, averaged over the best
  ``exemplar_top`` of them, is at least ``rescue_min_similarity``; the
  patch is mid-body, so cars of any length compare, and across the track
  it holds the roof, its shadow and the ground on the sun side;
* and it is one of a chain of at least ``rescue_chain`` candidates standing
  end to end on one line (:func:`chain_sizes`): railcars come coupled in
  consists, where a truck parked beside a road, the likeliest thing to look
  like a car at 1.0 m, stands alone or with metres between.

Off by default (``DetectorParams.exemplar_rescue``): measured in session 60
and not shipped. On Muttenz west made coarser to 0.75 / 1.0 m it finds
real wagons (20 / 49 -> 15 / 44 % low, nearly all it adds on wagons), but
on held-out generated yards under harder conditions (noise, a
panchromatic product, off-nadir, snow) at 0.75-1.0 m it adds false
railcars and finds no car: it believes more of whatever the car model
already believed, false runs on empty track included
(``docs/detector.md``, *Session 60*).

Nothing is looked at unless the scene has at least ``exemplar_min_count``
confident cars (the car model's probability at least
``exemplar_min_probability``) of their direction. A rescued car is scored
at the keep threshold the car model applies to it, so it is drawn dashed
(unsure) like any car the model barely believed.
"""

from __future__ import annotations

import cv2
import numpy as np

from railcount.detect.frame import along_across
from railcount.detect.params import DetectorParams
from railcount.models import SceneWindow

ANGLE_TOLERANCE_DEG = 5.0
"""Cars compared (patches, chains) lie within this many degrees of one direction."""

CHAIN_GAP_M = 2.5
"""Two candidates are end to end when the gap between their ends is under this (coupled cars)."""

CHAIN_ACROSS_M = 1.5
"""... and their centres lie within this of one line across the track."""


def angle_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unsigned angle (degrees, 0-90) between directions ``a`` and ``b`` (degrees, any range), broadcast.

    >>> float(angle_apart(np.array(179.0), np.array(1.0)))
    2.0
    """
    return np.abs((np.asarray(a) - np.asarray(b) + 90.0) % 180.0 - 90.0)


def chain_sizes(centres: np.ndarray, angles: np.ndarray, lengths: np.ndarray, gsd_m: float) -> np.ndarray:
    """How many candidates each one's chain holds: candidates linked end to end on one line.

    ``centres`` (n, 2) window (row, col) pixels, ``angles`` (n,) degrees of
    the long axis, ``lengths`` (n,) pixels. Two candidates are linked when
    they lie within :data:`ANGLE_TOLERANCE_DEG` of one direction, their
    centres within :data:`CHAIN_ACROSS_M` across it, and the gap between
    their ends is under :data:`CHAIN_GAP_M` (an overlap of up to half the
    shorter one counts too). Chains are the connected groups of links.

    >>> centres = np.array([[0.0, 0.0], [0.0, 15.0], [0.0, 30.0], [0.0, 60.0], [5.0, 15.0]])
    >>> chain_sizes(centres, np.zeros(5), np.full(5, 14.0), 1.0).tolist()
    [3, 3, 3, 1, 1]
    """
    n = len(centres)
    if n == 0:
        return np.zeros(0, np.int64)
    d = (centres[:, None, :] - centres[None, :, :]) * gsd_m
    along, across = along_across(d[..., 0], d[..., 1], angles[None, :])
    length = np.asarray(lengths, float) * gsd_m
    gap = along - 0.5 * (length[:, None] + length[None, :])
    linked = (
        (across <= CHAIN_ACROSS_M)
        & (gap <= CHAIN_GAP_M)
        & (gap >= -0.5 * np.minimum(length[:, None], length[None, :]))
        & (angle_apart(angles[:, None], angles[None, :]) <= ANGLE_TOLERANCE_DEG)
    )
    linked |= linked.T  # "across" is measured in the second candidate's direction
    labels = _components(linked)
    return np.bincount(labels, minlength=labels.max() + 1)[labels]


def _components(linked: np.ndarray) -> np.ndarray:
    """Connected-component label of each node of a symmetric boolean adjacency matrix."""
    n = len(linked)
    labels = np.full(n, -1, np.int64)
    k = 0
    for start in range(n):
        if labels[start] >= 0:
            continue
        stack = [start]
        labels[start] = k
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(linked[i] & (labels < 0)).tolist():
                labels[j] = k
                stack.append(j)
        k += 1
    return labels


def luminance(window: SceneWindow) -> np.ndarray:
    """The window's luminance as float32 (the first three bands' grey, or the one band), any scale."""
    px = window.pixels
    if px.shape[2] >= 3:
        grey = cv2.cvtColor(np.ascontiguousarray(px[..., :3]), cv2.COLOR_RGB2GRAY)
    else:
        grey = np.ascontiguousarray(px[..., 0])
    return grey.astype(np.float32)


def car_patches(
    lum: np.ndarray, centres: np.ndarray, angles: np.ndarray, gsd_m: float, params: DetectorParams
) -> np.ndarray:
    """Car-aligned patches of ``lum`` (n, across, along), one pixel apart, bilinear: rows run across
    the track (``exemplar_across_m`` either way), columns along it (``exemplar_along_m`` either way)."""
    n_across = round(params.exemplar_across_m / gsd_m)
    n_along = round(params.exemplar_along_m / gsd_m)
    u = np.arange(-n_along, n_along + 1, dtype=np.float32)  # along
    v = np.arange(-n_across, n_across + 1, dtype=np.float32)  # across
    t = np.deg2rad(np.asarray(angles, np.float64))
    cos, sin = np.cos(t)[:, None, None], np.sin(t)[:, None, None]
    # Along the track (col, row) = (cos, sin); across it (-sin, cos).
    cols = centres[:, 1, None, None] + u[None, None, :] * cos - v[None, :, None] * sin
    rows = centres[:, 0, None, None] + u[None, None, :] * sin + v[None, :, None] * cos
    n = len(centres)
    map_x = cols.reshape(n * v.size, u.size).astype(np.float32)
    map_y = rows.reshape(n * v.size, u.size).astype(np.float32)
    out = cv2.remap(lum, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out.reshape(n, v.size, u.size)


def standardised(patches: np.ndarray) -> np.ndarray:
    """Each patch flattened, less its mean, over its norm (so a dot product is their correlation)."""
    flat = patches.reshape(len(patches), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-9)


def rescued(
    window: SceneWindow,
    centres: np.ndarray,
    angles: np.ndarray,
    lengths: np.ndarray,
    prob: np.ndarray,
    threshold: np.ndarray,
    judged: np.ndarray,
    params: DetectorParams,
) -> np.ndarray:
    """Which candidates to keep although the car model turned them down (bool, one per candidate).

    ``centres`` are where the boxes go (window pixels), ``prob`` and
    ``threshold`` the car model's probability and the least it asks,
    ``judged`` the candidates the car model itself judged (not fills, not
    readings along the sun). See the module's docstring.
    """
    out = np.zeros(len(prob), bool)
    if not params.exemplar_rescue or not len(prob):
        return out
    gsd = window.gsd_m
    exemplar = judged & (prob >= threshold) & (prob >= params.exemplar_min_probability)
    pool = judged & (prob < threshold) & (prob >= params.rescue_min_probability)
    if exemplar.sum() < params.exemplar_min_count or not pool.any():
        return out
    members = np.flatnonzero(judged & (prob >= params.rescue_min_probability))
    chains = chain_sizes(centres[members], angles[members], lengths[members], gsd)
    in_chain = np.zeros(len(prob), bool)
    in_chain[members[chains >= params.rescue_chain]] = True
    asked = np.flatnonzero(pool & in_chain)
    if not asked.size:
        return out
    ex = np.flatnonzero(exemplar)
    near = angle_apart(angles[asked][:, None], angles[ex][None, :]) <= ANGLE_TOLERANCE_DEG
    enough = near.sum(axis=1) >= params.exemplar_min_count
    if not enough.any():
        return out
    asked, near = asked[enough], near[enough]
    ex = ex[near.any(axis=0)]
    near = near[:, near.any(axis=0)]
    lum = luminance(window)
    similarity = (
        standardised(car_patches(lum, centres[asked], angles[asked], gsd, params))
        @ standardised(car_patches(lum, centres[ex], angles[ex], gsd, params)).T
    )
    similarity[~near] = -1.0
    top = min(params.exemplar_top, similarity.shape[1])
    best = np.sort(similarity, axis=1)[:, -top:].mean(axis=1)
    out[asked[best >= params.rescue_min_similarity]] = True
    return out
