"""Find the directions of the tracks in a window from its gradient energy.

Rails, ballast edges and car sides all run along the tracks, so the gradient
directions of a yard pile up perpendicular to them. A magnitude-weighted
histogram of gradient direction (mod 180 degrees) has one peak per track
direction.
"""

from __future__ import annotations

import cv2
import numpy as np

N_BINS = 360  # half-degree bins over [0, 180)


def track_directions(
    log_lum: np.ndarray,
    valid: np.ndarray,
    gsd_m: float,
    *,
    max_directions: int = 2,
    min_share: float = 0.45,
    min_separation_deg: float = 20.0,
    refine: bool = False,
) -> list[float]:
    """Track directions in degrees from the +col axis towards the +row axis, in [0, 180).

    The directions of :func:`direction_peaks`, without their shares.

    Parameters
    ----------
    log_lum : ndarray, shape (rows, cols)
        Log luminance of the window.
    valid : ndarray of bool
        Pixels to use.
    gsd_m : float
        Ground sample distance; the gradient scale is about 0.3 m on the ground.
    max_directions : int
        Most directions returned, strongest first.
    min_share : float
        A further direction must hold at least this share of the strongest
        peak's energy.
    refine : bool
        Refine each direction to a few hundredths of a degree by the
        sharpness of its edges' cross-track profile (:func:`_refine`). The
        histogram's peak alone sits 0.2-0.9 degrees off on generated yards
        (a track drifts by up to 1.5 m over 100 m of frame). Off in the
        detector (``DetectorParams.refine_directions``): its models are
        fitted on the peak's directions, and refitted on refined ones they
        counted no better (docs/detector.md, *Session 21*).

    Examples
    --------
    >>> import numpy as np
    >>> rows = np.arange(200)[:, None] + 0 * np.arange(300)[None, :]
    >>> img = np.sin(rows / 3.0).astype(np.float32)
    >>> round(track_directions(img, np.ones(img.shape, bool), 0.5)[0]) % 180
    0
    """
    peaks = direction_peaks(
        log_lum,
        valid,
        gsd_m,
        max_directions=max_directions,
        min_share=min_share,
        min_separation_deg=min_separation_deg,
        refine=refine,
    )
    return [angle for angle, _ in peaks]


def direction_peaks(
    log_lum: np.ndarray,
    valid: np.ndarray,
    gsd_m: float,
    *,
    max_directions: int = 2,
    min_share: float = 0.45,
    min_separation_deg: float = 20.0,
    refine: bool = False,
) -> list[tuple[float, float]]:
    """Track directions (as :func:`track_directions`) with their peak's share of the strongest peak.

    The first has share 1.0; the others follow, strongest first.

    Examples
    --------
    >>> import numpy as np
    >>> rows = np.arange(200)[:, None] + 0 * np.arange(300)[None, :]
    >>> img = np.sin(rows / 3.0).astype(np.float32)
    >>> [(round(a) % 180, s) for a, s in direction_peaks(img, np.ones(img.shape, bool), 0.5)]
    [(0, 1.0)]
    """
    hist, n, kept = _histogram(log_lum, valid, gsd_m, keep=refine)
    picked, out, shares = _peaks(hist, n, max_directions, min_share, min_separation_deg)
    if kept is not None:
        bins, energy, where = kept
        out = [_refine(a, b, bins, energy, where, log_lum.shape[1]) for a, b in zip(out, picked, strict=True)]
    return list(zip(out, shares, strict=True))


def peaks_of_histogram(
    hist: np.ndarray,
    n: int,
    *,
    max_directions: int = 2,
    min_share: float = 0.45,
    min_separation_deg: float = 20.0,
) -> list[tuple[float, float]]:
    """:func:`direction_peaks` of a gradient-energy histogram already made (:func:`direction_histogram`:
    a window counted in tiles adds up its tiles' own), without the refinement.

    >>> r, c = np.mgrid[0:200, 0:300]
    >>> img, ok = np.sin((0.87 * r + 0.5 * c) / 3.0).astype(np.float32), np.ones((200, 300), bool)
    >>> halves = [direction_histogram(img, ok, 0.5, own=(0, 200, c, c + 150)) for c in (0, 150)]
    >>> whole = direction_histogram(img, ok, 0.5)
    >>> bool(np.allclose(halves[0][0] + halves[1][0], whole[0])), halves[0][1] + halves[1][1] == whole[1]
    (True, True)
    >>> peaks_of_histogram(*whole) == direction_peaks(img, ok, 0.5)
    True
    """
    _, out, shares = _peaks(hist, n, max_directions, min_share, min_separation_deg)
    return list(zip(out, shares, strict=True))


def _peaks(
    hist: np.ndarray, n: int, max_directions: int, min_share: float, min_separation_deg: float
) -> tuple[list[int], list[float], list[float]]:
    """The picked bins, their directions (degrees, sub-bin) and their shares of the strongest peak."""
    if n < 100:
        return [], [], []
    # Circular smoothing with a Gaussian of 2 degrees.
    offsets = np.arange(-12, 13)
    kernel = np.exp(-0.5 * (offsets / 4.0) ** 2)
    padded = np.concatenate([hist[-12:], hist, hist[:12]])
    smooth = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    order = np.argsort(smooth)[::-1]
    if not smooth[order[0]] > 0:
        return [], [], []  # no gradient at all (a flat window): no direction
    picked: list[int] = []
    min_sep = int(min_separation_deg * N_BINS / 180.0)
    for b in order:
        if smooth[b] < min_share * smooth[order[0]] or len(picked) >= max_directions:
            break
        if all(min(abs(b - p), N_BINS - abs(b - p)) >= min_sep for p in picked):
            # Keep only true local maxima, not the shoulders of a picked peak.
            if smooth[b] >= smooth[(b - 1) % N_BINS] and smooth[b] >= smooth[(b + 1) % N_BINS]:
                picked.append(int(b))
    # Sub-bin refinement by a parabola through the peak and its neighbours.
    out = []
    shares = [float(smooth[b] / smooth[order[0]]) for b in picked]
    for b in picked:
        y0, y1, y2 = smooth[(b - 1) % N_BINS], smooth[b], smooth[(b + 1) % N_BINS]
        denom = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
        grad_dir = (b + frac) * 180.0 / N_BINS
        out.append(float((grad_dir + 90.0) % 180.0))
    return picked, out, shares


HISTOGRAM_ROWS = 128
"""Rows of the window each block of :func:`_histogram` contributes (before its halo)."""


def histogram_halo(gsd_m: float) -> int:
    """How many pixels around a pixel its gradient in :func:`direction_histogram` reads (and one spare).

    >>> histogram_halo(0.3), histogram_halo(1.0)
    (6, 5)
    """
    # OpenCV's float Gaussian reaches ceil(4 sigma) rows and the Sobel one more; the erosion's two
    # are fewer. One row spare.
    return int(np.ceil(4.0 * max(0.7, 0.3 / gsd_m))) + 2


def direction_histogram(
    log_lum: np.ndarray, valid: np.ndarray, gsd_m: float, *, own: tuple[int, int, int, int] | None = None
) -> tuple[np.ndarray, int]:
    """The gradient-energy histogram of direction (:data:`N_BINS` bins over [0, 180)) of the window's
    pixels and how many fed it, as :func:`direction_peaks` makes it; with ``own`` (rows ``own[0]:own[1]``,
    columns ``own[2]:own[3]``), of those pixels only, the rest of the window giving their
    neighbourhood: the histograms of tiles whose ``own`` parts cover a window once add up to the
    window's (up to the float sums' order)."""
    hist, n, _ = _histogram(log_lum, valid, gsd_m, own=own)
    return hist, n


def _histogram(
    log_lum: np.ndarray,
    valid: np.ndarray,
    gsd_m: float,
    *,
    keep: bool = False,
    own: tuple[int, int, int, int] | None = None,
) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """The gradient-energy histogram of direction (:data:`N_BINS` bins over [0, 180)) and how many
    pixels fed it; with ``keep``, also their bins, energies and flat window indices (for
    :func:`_refine`).

    The gradient is a Sobel of the log luminance blurred to about 0.3 m, at the pixels more than two
    from the window's edge and from nodata (whose own edges would count). It is computed in blocks of
    :data:`HISTOGRAM_ROWS` rows, each read with a halo beyond the reach of the blur, the Sobel and the
    erosion, so every pixel gets what a whole-window pass gives while the temporary images stay a
    block's size (a whole 4000 x 1500 window's took about 200 MB, each megabyte of which costs time
    the first time a process touches it).
    """
    sigma = max(0.7, 0.3 / gsd_m)
    halo = histogram_halo(gsd_m)
    rows = log_lum.shape[0]
    hist = np.zeros(N_BINS)
    n = 0
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cross = np.ones((5, 5), np.uint8)
    first, last = (0, rows) if own is None else (own[0], own[1])
    # With ``own``, the columns read reach the halo past its own (``keep`` is never asked with it).
    c0, c1 = (
        (0, log_lum.shape[1])
        if own is None
        else (max(0, own[2] - halo), min(log_lum.shape[1], own[3] + halo))
    )
    for y0 in range(first, last, HISTOGRAM_ROWS):
        y1 = min(last, y0 + HISTOGRAM_ROWS)
        a, b = max(0, y0 - halo), min(rows, y1 + halo)
        mine = slice(y0 - a, y1 - a)
        # Pixels next to the window's edge or nodata carry the mask's own edges.
        inner = cv2.erode(np.ascontiguousarray(valid[a:b, c0:c1]).view(np.uint8), cross).view(bool)[mine]
        if own is not None:
            inner[:, : own[2] - c0] = False
            inner[:, own[3] - c0 :] = False
        if not inner.any():
            continue
        blurred = cv2.GaussianBlur(np.ascontiguousarray(log_lum[a:b, c0:c1]), (0, 0), sigma)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)[mine][inner]
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)[mine][inner]
        energy = gx * gx + gy * gy
        bins = gradient_bins(gx, gy, energy)
        hist += np.bincount(bins, weights=energy, minlength=N_BINS)
        n += gx.size
        if keep:
            parts.append((bins, energy, np.flatnonzero(inner) + y0 * log_lum.shape[1]))
    if not keep:
        return hist, n, None
    if not parts:
        return hist, n, (np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
    bins, energy, where = (np.concatenate(p) for p in zip(*parts, strict=True))
    return hist, n, (bins, energy, where)


REFINE_TOLERANCE_BINS = 20
"""Pixels whose gradient lies within this many bins (10 degrees) of a direction's normal refine it."""

REFINE_TOP_SHARE = 0.03
"""The strongest share of those pixels (by gradient energy) that is projected."""

REFINE_STEPS_DEG = ((1.6, 0.2), (0.2, 0.04), (0.04, 0.01))
"""Searches of the refinement: half-width and step (degrees), each centred on the last one's best."""


def _refine(
    angle: float, peak_bin: int, bins: np.ndarray, energy: np.ndarray, where: np.ndarray, cols: int
) -> float:
    """The direction near ``angle`` along which the strongest edges across it line up best.

    Edges of rails, ballast and car sides lie on lines along the track. Seen
    along the right direction their cross-track positions pile up in a few
    sharp peaks; seen a little askew every peak smears. The sharpness is the
    sum of squares of the energy-weighted histogram of cross-track position
    (one-pixel bins), maximised by a coarse-to-fine search (the projection
    profile method of document skew estimation). ``bins`` and ``energy``
    are per pixel, at flat window indices ``where``.
    """
    off = np.abs(bins - peak_bin)
    near = np.minimum(off, N_BINS - off) <= REFINE_TOLERANCE_BINS
    e = energy[near]
    if e.size < 200:
        return angle
    k = max(100, int(REFINE_TOP_SHARE * e.size))
    strong = np.argpartition(e, e.size - k)[e.size - k :]
    rows, cs = np.divmod(where[near][strong], cols)
    rows, cs, w = rows.astype(np.float64), cs.astype(np.float64), e[strong].astype(np.float64)
    best = angle
    for half, step in REFINE_STEPS_DEG:
        tries = best + np.arange(-half, half + 0.5 * step, step)
        scores = [_sharpness(a, rows, cs, w) for a in tries]
        best = float(tries[int(np.argmax(scores))])
    return best % 180.0


def _sharpness(angle: float, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> float:
    """Sum of squares of the weighted histogram (one-pixel bins) of the points' cross-track position."""
    t = np.deg2rad(angle)
    across = rows * np.cos(t) - cols * np.sin(t)
    h = np.bincount((across - across.min()).astype(np.int64), weights=weights)
    return float(h @ h)


PHASE_MARGIN_BINS = 0.04
"""How near (in bins: 0.02 degrees) a bin's edge OpenCV's angle must fall for numpy's to be taken.

OpenCV's ``cv2.phase`` is within 0.0096 degrees of the true angle (measured
on 60 million random gradients and on yards); numpy's float32 ``arctan2`` in
degrees, within a few hundred-thousandths. An angle further than this from a
bin's edge by OpenCV's reckoning lies in the same bin by numpy's."""

PHASE_MIN_ENERGY = 4e-12
"""Below this squared gradient (both components under about 1e-6) OpenCV's angle is not trusted: it
divides by the larger component plus ``DBL_EPSILON``."""


def gradient_bins(gx: np.ndarray, gy: np.ndarray, energy: np.ndarray | None = None) -> np.ndarray:
    """Bins (:data:`N_BINS` over [0, 180)) of the gradient directions of float32 ``gx``, ``gy`` (1-D).

    To the bit ``_angle_bins(np.degrees(np.arctan2(gy, gx)))``, about five
    times faster: the angle is OpenCV's (a polynomial, SIMD), and numpy's
    ``arctan2`` is run only for the pixels whose angle lies within
    :data:`PHASE_MARGIN_BINS` of a bin's edge (about one in twelve) or whose
    gradient is tiny (``energy``, ``gx**2 + gy**2``, under
    :data:`PHASE_MIN_ENERGY`).
    """
    half = cv2.phase(gx, gy, angleInDegrees=True).reshape(-1)  # [0, 360]
    v = np.multiply(half, np.float32(N_BINS / 180.0), out=half)
    np.subtract(v, np.float32(N_BINS), out=v, where=v >= N_BINS)  # [0, N_BINS]
    whole = np.floor(v)
    bins = whole.astype(np.int64)
    frac = np.subtract(v, whole, out=v)
    unsure = (frac < PHASE_MARGIN_BINS) | (frac > 1.0 - PHASE_MARGIN_BINS)
    unsure |= (gx * gx + gy * gy if energy is None else energy) < PHASE_MIN_ENERGY
    # Bin N_BINS (an angle of exactly 180 or 360 by OpenCV) sits on an edge, so it is redone here.
    redo = np.flatnonzero(unsure)
    bins[redo] = _angle_bins(np.degrees(np.arctan2(gy[redo], gx[redo])))
    return bins


def _angle_bins(deg: np.ndarray) -> np.ndarray:
    """Bins (:data:`N_BINS` over [0, 180)) of ``deg % 180.0`` for float32 angles in [-180, 180] (in place).

    To the bit ``((deg % 180.0) * (N_BINS / 180.0)).astype(np.int64) % N_BINS``
    without numpy's floating remainder (``fmod`` with a sign fix-up, several
    times slower) or an integer modulo: an angle in (-180, 0) gets 180 added
    in float32, so a tiny negative angle becomes 180.0 as it does in numpy,
    and bin N_BINS (180 degrees) is bin 0. numpy's remainder turns 180 and
    -180 into 0 and -0.0 into 0.0; here 180 stays 180 and -0.0 stays -0.0,
    which fall in bin 0 all the same.
    """
    np.add(deg, np.float32(180.0), out=deg, where=deg < 0)
    bins = np.multiply(deg, N_BINS / 180.0, out=deg).astype(np.int64)
    bins[bins == N_BINS] = 0
    return bins
