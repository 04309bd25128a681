"""Find car bodies along the tracks, and split occupied runs into cars.

All work happens in a :class:`~railcount.detect.frame.TrackFrame`, where
tracks run along the rows. From above, a car is a band about 3 m wide beside
the solid dark band of its own shadow, on the side the sun puts shadows
(see :func:`band_strength`).

An occupied run of centreline is a consist (or a single car). Where the gaps
between coupled cars are visible, the run is cut at them ("gap" method);
where a piece is longer than any single car, it is divided by the car pitch
measured on the scene's clearly separated cars ("pitch" method).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from railcount.detect.params import DetectorParams, to_px


@dataclass(frozen=True, eq=False)
class Runs:
    """Occupied runs along car centrelines in frame pixels: one row each."""

    y: np.ndarray  # centreline row (float)
    x0: np.ndarray  # first occupied column
    x1: np.ndarray  # one past the last occupied column
    score: np.ndarray  # mean band strength, 0-1


@dataclass(frozen=True, eq=False)
class FrameCars:
    """Cars found in one frame (frame pixel units)."""

    x: np.ndarray
    y: np.ndarray
    length: np.ndarray
    score: np.ndarray
    method: np.ndarray


@dataclass(frozen=True, eq=False)
class BandTerms:
    """The per-pixel terms behind :func:`band_strength`, for the side shadows were judged to fall on.

    All maps are frame-sized float32 and are read along car centrelines by
    :mod:`~railcount.detect.candidates` to describe each candidate car.
    """

    shadow_side: str  # "up" or "down"
    half_width_px: float  # car_width_m / 2 in frame pixels
    flank_offset_px: float  # centreline to the middle of a flank band
    smoothness: np.ndarray
    body_dark: np.ndarray  # share of the body band that is shadow-dark
    shade: np.ndarray  # solid shadow just beyond the shadow-side edge (0-1)
    step_sun: np.ndarray  # colour step from the body to the sun-side flank
    dark_sun: np.ndarray  # shadow-dark share of the sun-side flank
    step_shadow: np.ndarray  # colour step from the body to the shadow-side flank
    flank_dark: np.ndarray  # shadow-dark share of a flank-wide band centred on each row
    lin: np.ndarray  # linear luminance, smoothed along the track
    sunlit: np.ndarray  # the sunlit ground level near each pixel
    interior: np.ndarray  # mean colour of the body band, (rows, cols, 3)


def shift_rows(a: np.ndarray, d: float) -> np.ndarray:
    """``out[y] = a[y + d]``, zero where ``y + d`` falls outside (d rounded to whole rows)."""
    d = round(d)
    out = np.zeros_like(a)
    if d > 0:
        out[:-d] = a[d:]
    elif d < 0:
        out[-d:] = a[:d]
    else:
        out[:] = a
    return out


def max_shifted(a: np.ndarray, shifts: list[float]) -> np.ndarray:
    """``max over d of shift_rows(a, d)`` for non-negative ``a``, built in one array."""
    rows = a.shape[0]
    out = np.zeros_like(a)
    for d in shifts:
        d = round(d)
        if abs(d) >= rows:
            continue
        dst = out[max(0, -d) : rows - max(0, d)]
        np.maximum(dst, a[max(0, d) : rows - max(0, -d)], out=dst)
    return out


def colour_step(a: np.ndarray, b: np.ndarray, d: float) -> np.ndarray:
    """Euclidean colour distance between ``a[y]`` and ``b[y + d]`` for every row (0 where out of range).

    Works on row slices (no shifted copies of the three-band images) and sums
    the bands with OpenCV, which is several times faster than numpy here.
    """
    d = round(d)
    rows = a.shape[0]
    out = np.zeros(a.shape[:2], np.float32)
    if abs(d) >= rows:
        return out
    dst = slice(max(0, -d), rows - max(0, d))
    src = slice(max(0, d), rows - max(0, -d))
    diff = cv2.subtract(a[dst], b[src])
    sq = cv2.multiply(diff, diff)
    out[dst] = cv2.sqrt(cv2.transform(sq, np.ones((1, 3), np.float32)))
    return out


def texture(log_lum: np.ndarray, gsd_m: float, band_px: int) -> np.ndarray:
    """Fine-scale texture (mean |Laplacian| of log luminance) over a cross-track band centred on each row.

    Rails, sleepers and ballast grain are fine texture; a roof is smooth. In
    log space a shadow dims the track without smoothing it.
    """
    sigma = max(0.5, 0.08 / gsd_m)
    lap = np.abs(cv2.Laplacian(cv2.GaussianBlur(log_lum, (0, 0), sigma), cv2.CV_32F, ksize=3))
    return cv2.blur(lap, (1, band_px))


def band_strength(
    rgb: np.ndarray,
    log_lum: np.ndarray,
    linear_lum: np.ndarray,
    valid: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
    *,
    shadow_side: str | None = None,
    side_is_known: bool = False,
) -> tuple[np.ndarray, BandTerms | None]:
    """Evidence (0-1) that a car body's centreline runs along this row at this column, and its terms.

    A car seen from above is a band about ``car_width_m`` wide. In sunlight
    it casts a shadow on the side away from the sun, so a car is:

    * a band that is not shadow-dark, with solid shadow just beyond its long
      side on the shadow side and a colour step to sunlit ground on the other
      (a *lit body*); or
    * a dark band (black roof, shaded gondola interior) with its shadow beyond
      it and a sunlit step on its other side (a *black body*),

    weighted by the smoothness of the band (roofs hide rails, sleepers and
    ballast grain).

    ``shadow_side`` ("up": towards smaller rows, or "down") is where the sun
    puts shadows in this frame, from the solar position. With
    ``side_is_known`` (the acquisition time was known) it decides; otherwise
    the lit bodies decide when they are clear, and ``shadow_side`` breaks ties.
    A dark roof beside its shadow is locally symmetric (the shadow, with
    sunlit ground beyond it, looks the same mirrored), so black bodies are
    only looked for on the side chosen.

    Only when no side can be chosen (shadows along the track, diffuse light)
    does it fall back to *edged bands*: smooth inside, a colour step on both
    long sides, not darker than both (which is what a shadow is). In a yard
    the sunlit ballast between two tracks is such a band too, so this fallback
    over-counts on empty tracks.

    The terms are returned too (None for the edged-band fallback), so that
    candidate cars can be described by more than their strength.
    """
    w = params.car_width_m / gsd_m
    along = to_px(params.along_smooth_m, gsd_m)
    inner = max(1, round(0.6 * w))
    flank = to_px(0.8, gsd_m)
    off = w / 2.0 + flank / 2.0 + 0.5
    # Box means over along-track x cross-track rectangles (one 2-D pass each).
    interior = cv2.blur(rgb, (along, inner))
    flank_mean = cv2.blur(rgb, (along, flank))
    step_above = colour_step(interior, flank_mean, -off)
    step_below = colour_step(interior, flank_mean, off)
    tex = cv2.blur(texture(log_lum, gsd_m, inner), (along, 1))
    # Coarser than 0.6 m a roof is two or three pixels across and the texture
    # measure sees its edges, so the limit grows with the GSD from there.
    limit = params.max_roof_texture * max(1.0, gsd_m / 0.6) ** params.texture_gsd_power
    smoothness = np.clip(1.0 - tex / limit, 0.0, 1.0)

    # A shadow is dark next to the sunlit ground around it: compare linear
    # luminance with the brightest 1 m patch within ``sunlit_reach_m``.
    lin = cv2.blur(linear_lum, (along, 1))
    patch = to_px(1.0, gsd_m)
    reach = 2 * to_px(params.sunlit_reach_m, gsd_m) + 1
    sunlit = cv2.dilate(cv2.blur(lin, (patch, patch)), np.ones((reach, reach), np.uint8))
    dark_px = (lin < params.shadow_ratio * sunlit).astype(np.uint8)
    # Shadows of cars are solid bands metres wide; rails and sleepers are thin
    # dark lines. An opening with a 1.5 m x 1.0 m rectangle keeps only the former.
    rect = np.ones((to_px(1.0, gsd_m), to_px(1.5, gsd_m)), np.uint8)
    dark = cv2.morphologyEx(dark_px, cv2.MORPH_OPEN, rect).astype(np.float32)
    body_dark = cv2.blur(dark, (1, inner))
    flank_dark = cv2.blur(dark, (1, flank))
    # The shadow starts at the car's side, but blur and a centreline a pixel
    # off smear that edge: take the darkest of flanks stepped out 0.3-1.1 m.
    steps = [w / 2.0 + flank / 2.0 + d / gsd_m for d in (0.3, 0.7, 1.1)]

    @functools.cache
    def shade(side: str) -> np.ndarray:
        """Solid shadow beyond the car's edge on ``side``."""
        return max_shifted(flank_dark, [-o if side == "up" else o for o in steps])

    @functools.cache
    def dark_beside(side: str) -> np.ndarray:
        """Shadow-dark share of the flank at the car's edge on ``side`` (where the sunlit side is judged)."""
        return shift_rows(flank_dark, -off if side == "up" else off)

    # Body brightness factor: a lit roof (not dark) or, weighted 0.8, a black roof.
    body = np.maximum(1.0 - body_dark, 0.8 * body_dark)

    def evidence(shade: np.ndarray, dark_other: np.ndarray, step_other: np.ndarray) -> np.ndarray:
        """Shadow beyond one side, sunlit step on the other, smooth: shared by lit and black bodies."""
        sunlit_edge = np.clip(step_other / params.min_side_contrast, 0.0, 1.0) * (1.0 - dark_other)
        solid = np.clip((shade - 0.5) / 0.4, 0.0, 1.0)
        return solid * sunlit_edge * smoothness

    def terms(side: str) -> BandTerms:
        up = side == "up"
        return BandTerms(
            shadow_side=side,
            half_width_px=w / 2.0,
            flank_offset_px=off,
            smoothness=smoothness,
            body_dark=body_dark,
            shade=shade(side),
            step_sun=step_below if up else step_above,
            dark_sun=dark_beside("down" if up else "up"),
            step_shadow=step_above if up else step_below,
            flank_dark=flank_dark,
            lin=lin,
            sunlit=sunlit,
            interior=interior,
        )

    if side_is_known and shadow_side is not None:
        # The sun decides: compute the chosen side only.
        if shadow_side == "up":
            ev = evidence(shade("up"), dark_beside("down"), step_below)
        else:
            ev = evidence(shade("down"), dark_beside("up"), step_above)
        return (ev * body).astype(np.float32), terms(shadow_side)
    ev_up = evidence(shade("up"), dark_beside("down"), step_below)
    ev_dn = evidence(shade("down"), dark_beside("up"), step_above)
    lit_share = (1.0 - body_dark)[valid]
    side = _clear_side(ev_up[valid] * lit_share, ev_dn[valid] * lit_share)
    if side is None:
        side = _clear_side(ev_up[valid] * body[valid], ev_dn[valid] * body[valid])
    if side is None:
        side = shadow_side
    if side is not None:
        return ((ev_up if side == "up" else ev_dn) * body).astype(np.float32), terms(side)

    edge = np.minimum(step_above, step_below)
    lum_flank = flank_mean.mean(axis=2)
    lum_in, lum_up, lum_dn = interior.mean(axis=2), shift_rows(lum_flank, -off), shift_rows(lum_flank, off)
    shadow_like = (lum_in < lum_up - 0.04) & (lum_in < lum_dn - 0.04)
    edged = np.clip(edge / (1.5 * params.min_side_contrast), 0.0, 1.0)
    edged[shadow_like] = 0.0
    return (edged * smoothness).astype(np.float32), None


def _clear_side(up: np.ndarray, down: np.ndarray, *, ratio: float = 0.6) -> str | None:
    """ "up" or "down" when one side's squared evidence clearly exceeds the other's, else None."""
    u, d = float(np.square(up).sum()), float(np.square(down).sum())
    if max(u, d) <= 0 or min(u, d) > ratio * max(u, d):
        return None
    return "up" if u > d else "down"


def centreline_runs(strength: np.ndarray, core: np.ndarray, gsd_m: float, params: DetectorParams) -> Runs:
    """Runs of rows where the band strength is a cross-track maximum above threshold."""
    half_w = to_px(0.5 * params.car_width_m, gsd_m)
    # Cross-track non-maximum suppression: a car gives one centreline.
    col_max = cv2.dilate(strength, np.ones((2 * half_w + 1, 1), np.uint8))
    on = core & (strength >= col_max - 1e-6) & (strength > params.min_band_strength)
    # Bridge one-row wobbles of the centreline and remove blips shorter than a few metres.
    on_u8 = cv2.dilate(on.astype(np.uint8), np.ones((3, 1), np.uint8))
    if gsd_m > params.gap_visible_gsd_m:
        # Coupling gaps are not resolved: bridge short breaks so a consist is one run.
        bridge = to_px(params.bridge_gap_m, gsd_m)
        on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_CLOSE, np.ones((1, 2 * bridge + 1), np.uint8))
    k = to_px(3.0, gsd_m)
    on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_OPEN, np.ones((1, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(on_u8, connectivity=8)
    if n <= 1:
        return Runs(*(np.zeros(0) for _ in range(4)))
    lab = labels.ravel()
    sel = lab > 0
    w8 = strength.ravel()[sel]
    ys = np.repeat(np.arange(labels.shape[0]), labels.shape[1])[sel]
    wsum = np.bincount(lab[sel], weights=w8, minlength=n)
    mean_y = np.bincount(lab[sel], weights=ys * w8, minlength=n) / np.maximum(wsum, 1e-9)
    cnt = np.bincount(lab[sel], minlength=n).astype(float)
    idx = np.arange(1, n)
    x0 = stats[idx, cv2.CC_STAT_LEFT].astype(float)
    x1 = x0 + stats[idx, cv2.CC_STAT_WIDTH]
    score = np.clip(wsum[idx] / np.maximum(cnt[idx], 1), 0.0, 1.0)
    return Runs(y=mean_y[idx], x0=x0, x1=x1, score=score)


def gap_signal(rgb: np.ndarray, y: float, x0: int, x1: int, gsd_m: float, band_px: int) -> np.ndarray:
    """Strength of a coupling gap or car boundary at each column of a run (colour units).

    A gap is a short stretch that differs from the roofs on both sides; a
    boundary between differently coloured cars is a step. Both cut a run.
    """
    r0 = max(0, round(y) - band_px // 2)
    r1 = min(rgb.shape[0], r0 + band_px)
    d = to_px(0.9, gsd_m)
    pad0, pad1 = max(0, x0 - d), min(rgb.shape[1], x1 + d)
    prof = rgb[r0:r1, pad0:pad1].mean(axis=0)  # (cols, 3)
    n = prof.shape[0]
    idx = np.arange(x0 - pad0, x1 - pad0)
    left = prof[np.clip(idx - d, 0, n - 1)]
    right = prof[np.clip(idx + d, 0, n - 1)]
    mid = prof[idx]
    d_left = np.linalg.norm(mid - left, axis=1)
    d_right = np.linalg.norm(mid - right, axis=1)
    step = np.linalg.norm(right - left, axis=1)
    return np.maximum(np.minimum(d_left, d_right), 0.5 * step)


def cut_points(signal: np.ndarray, gsd_m: float, params: DetectorParams) -> list[int]:
    """Columns (relative to the run) where the run is cut, strongest first, keeping pieces >= a car."""
    n = signal.size
    min_len = params.car_length_min_m / gsd_m
    is_max = (signal >= np.roll(signal, 1)) & (signal >= np.roll(signal, -1)) & (signal > params.gap_contrast)
    cand = np.flatnonzero(is_max)
    cand = cand[(cand >= min_len) & (cand <= n - min_len)]
    cuts: list[int] = []
    for c in cand[np.argsort(signal[cand])[::-1]]:
        bounds = sorted([0, n, *cuts])
        i = np.searchsorted(bounds, c)
        if c - bounds[i - 1] >= min_len and bounds[i] - c >= min_len:
            cuts.append(int(c))
    return sorted(cuts)


def split_runs(runs: Runs, rgb: np.ndarray, gsd_m: float, params: DetectorParams) -> FrameCars:
    """Split runs into cars.

    The car pitch for runs longer than any single car is the median length of
    the pieces cut out cleanly as single cars (``default_pitch_m`` when fewer
    than three).
    """
    band_px = to_px(0.5 * params.car_width_m, gsd_m)
    min_run = 0.7 * params.car_length_min_m / gsd_m
    max_len = params.car_length_max_m / gsd_m
    gaps_visible = gsd_m <= params.gap_visible_gsd_m
    xs, ys, lengths, scores, methods = [], [], [], [], []
    singles: list[float] = []
    pieces_all = []
    for y, x0f, x1f, score in zip(runs.y, runs.x0, runs.x1, runs.score, strict=True):
        x0, x1 = int(x0f), int(x1f)
        if x1 - x0 < min_run:
            continue
        if gaps_visible:
            sig = gap_signal(rgb, y, x0, x1, gsd_m, band_px)
            bounds = [0, *cut_points(sig, gsd_m, params), x1 - x0]
        else:
            bounds = [0, x1 - x0]  # gaps unresolved: the run is counted by pitch
        for a, b in itertools.pairwise(bounds):
            pieces_all.append((y, x0 + a, x0 + b, score, len(bounds) > 2))
            if b - a <= max_len and len(bounds) > 2:
                singles.append((b - a) * gsd_m)
    pitch = float(np.median(singles)) if len(singles) >= 3 else params.default_pitch_m
    pitch_px = pitch / gsd_m
    for y, a, b, score, was_cut in pieces_all:
        length = b - a
        if gaps_visible and not was_cut and length * gsd_m > params.max_uncut_run_m:
            # Where coupling gaps are resolved, a long stretch with none is
            # ground (a dark track bed beside a bright one), not a consist.
            continue
        n = 1 if length <= max_len else max(1, round(length / pitch_px))
        seg = length / n
        for i in range(n):
            xs.append(a + (i + 0.5) * seg)
            ys.append(y)
            lengths.append(seg)
            scores.append(score)
            methods.append("pitch" if n > 1 else "gap")
    cars = FrameCars(
        x=np.asarray(xs, float),
        y=np.asarray(ys, float),
        length=np.asarray(lengths, float),
        score=np.asarray(scores, float),
        method=np.asarray(methods, dtype="<U5"),
    )
    return cars
