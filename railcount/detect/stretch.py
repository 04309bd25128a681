"""Pictures whose darkest tones a contrast stretch clipped to black: found, and lifted back before counting.

A delivered product is sometimes not the sensor's radiance but a picture made
for the eye: a linear stretch from a low percentile (QGIS's default view, a
provider's dynamic-range adjustment) subtracts an offset from every value
and clips what falls below it to the band's bottom code. The detector reads
shadows by their ratio to the sunlit ground in linear light, and an offset
taken off deepens every ratio: on generated yards a stretch from the 0.5th
percentile put 20-25 % on the count, one from the 2nd 40 %
(``benchmarks/processing.py --kind stretch``; ``docs/accuracy.md``,
*Contrast-stretched imagery*).

The stretch leaves a mark the detector can read: a share of the pixels at
the bottom code. A sensor's picture of sunlit ground has none there (haze
and skylight light even deep shadow); of 1460 generated windows as made
(every suite, every product), none had over 0.16 % of a band at its bottom
code (0.19 % as :func:`band_lifts` samples it), and the Tumangang-like
yards and real scenes none over 0.03 %. Strong sharpening (an unsharp mask
of amount 2) clips the dark side of edges as much, and is lifted alike.
A stretch clips both ends, and a light one (from the 0.5th percentile of a
whole file, or less) can leave a station's window under that share of
black: since detector 0.6.29 a window with 0.08 % or more of a band at the
bottom and as much at the top reads as stretched too (Muttenz west so
stretched: 0.19-0.25 % black, 0.11 % white; of 1500 generated windows as
made the most at both ends was 0.05 %).

Where a band is so clipped, each band whose 1st percentile (above the
bottom) lies under :data:`LOW_RATIO` of its median is given back an offset: the one that puts
that percentile at :data:`LOW_RATIO` of the median, white kept where it was
(:func:`band_lifts`, :func:`lifted`). That is about the least offset a
clear window shows; a stretch's true offset is not in the file, so the lift
restores a typical one. The detector then stretches the lifted window's
colours from the bottom of the range, not from its darkest pixels
(``SceneWindow.stretch_lifted``), so that the floor put back is kept in the
log luminance too. Windows with no clipped band are not touched, to the bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from railcount.cautions import STRETCH_BOTH_SHARE, STRETCH_CLIP_SHARE, reads_stretched
from railcount.detect.params import DetectorParams
from railcount.models import SceneWindow

LOW_RATIO = 0.25
"""A clipped band's 1st percentile is lifted to this share of its median: about the least a clear
window's linear luminance shows (Muttenz west 0.26; the generated plain yards 0.29-0.73). Chosen
among 0.20, 0.25 and 0.30 on stretched generated yards and Muttenz west stretched and made coarser
(``docs/accuracy.md``, *Lifted back, since detector 0.6.28*): 0.30 took Muttenz at 1.0 m from 25
railcars as made to 9-13 stretched, 0.20 left the yards 29.5 % off at the 2nd percentile."""


STEP = 4
""":func:`band_lifts` reads every ``STEP`` th row and column."""


@dataclass(frozen=True)
class BandLifts:
    """What :func:`band_lifts` found in a window's colour bands (one entry per band)."""

    clipped: tuple[float, ...]
    """The share of each band's valid pixels at the bottom of the file's value range."""
    lifts: tuple[float, ...]
    """The offset (in the file's values) given back to each band (0: none)."""
    white: tuple[float, ...] = ()
    """The share of each band's valid pixels at the top of the value range, where it was read: only
    when the bottom's share alone is between :data:`~railcount.cautions.STRETCH_BOTH_SHARE` and
    :data:`~railcount.cautions.STRETCH_CLIP_SHARE` (then both are read at full resolution)."""
    ends: tuple[float, float] = (0.0, 0.0)
    """The most of any colour band's valid pixels at the bottom and at the top of the value range, read
    on every pixel wherever the sample finds a pixel at the bottom (else none: (0, 0)): what the light
    stretch's caution reads (:func:`~railcount.cautions.reads_lightly_stretched`; session 75). Nothing
    is lifted by them: with the rule of both ends read on them too, stretches from the 0.02nd
    percentile were counted 13.9 % off, against 13.0 %."""

    @property
    def stretched(self) -> bool:
        """Whether the bands read as clipped by a contrast stretch (:func:`.reads_stretched`)."""
        return reads_stretched(max(self.clipped, default=0.0), max(self.white, default=0.0))

    @property
    def any(self) -> bool:
        """Whether some band is lifted."""
        return any(v > 0 for v in self.lifts)


NONE = BandLifts((), ())
"""No band read, none lifted."""


def _colour_bands(window: SceneWindow) -> int:
    return 3 if window.pixels.shape[2] >= 3 else 1


def band_lifts(
    window: SceneWindow,
    clip_share: float | None = STRETCH_CLIP_SHARE,
    low_ratio: float = LOW_RATIO,
    both_share: float | None = STRETCH_BOTH_SHARE,
) -> BandLifts:
    """The clipped share of each colour band of ``window`` and the offset that lifts it back
    (see the module's text); ``clip_share`` None reads the shares and lifts nothing. A window with
    less than ``clip_share`` black is lifted too where ``both_share`` or more of a band is black and
    as much white (a stretch clips both ends; None: not so).

    Read on every :data:`STEP` th row and column of the valid pixels (a share and two percentiles need no
    more: about 3 ms for a 4000 x 1500 window, read once per count); where the black
    share so read lies between the two thresholds, both ends are read again on every pixel (the few
    white pixels of a small window are too few on a sample).

    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> from shapely.geometry import box
    >>> from railcount.models import Station
    >>> rng = np.random.default_rng(1)
    >>> px = rng.integers(60, 200, (80, 80, 3)).astype(np.uint8)
    >>> w = SceneWindow(px, np.ones((80, 80), bool), np.ones((80, 80), bool), Affine(0.5, 0, 0, 0, -0.5, 0),
    ...     CRS.from_epsg(32652), 0.5, "s", Station("s", box(0, 0, 1, 1)))
    >>> band_lifts(w).any, band_lifts(w).stretched
    (False, False)
    >>> px[:8, :, 0] = 0  # 10 % of the red band clipped to black
    >>> found = band_lifts(w)
    >>> found.stretched, [round(c, 2) for c in found.clipped], found.lifts[0] > 0, found.lifts[1:]
    (True, [0.1, 0.0, 0.0], True, (0.0, 0.0))
    """
    n = _colour_bands(window)
    valid = window.valid[::STEP, ::STEP]
    if not valid.any():
        return BandLifts((0.0,) * n, (0.0,) * n)
    v0 = window.value_range[0]
    seen = np.count_nonzero(valid)
    strided = window.pixels[::STEP, ::STEP]
    # Exactly at the bottom: values below it (a surface-reflectance product's over-corrected dark
    # pixels, which read as black) are no stretch's clipping.
    clipped = tuple(int(np.count_nonzero((strided[:, :, b] == v0) & valid)) / int(seen) for b in range(n))
    white: tuple[float, ...] = ()
    lows = [t for t in (both_share, STRETCH_BOTH_SHARE) if t is not None]
    highs = [t for t in (clip_share, STRETCH_CLIP_SHARE) if t is not None]
    ends = (0.0, 0.0)
    if 0 < max(clipped) < max(highs):
        # Any black on the sample under the black rule: both ends read on every pixel, for the light
        # stretch's caution (no generated yard as made holds a black pixel but a few of the v2
        # products', under 0.01 %) and, from the rule of both ends' share, for that rule.
        black, top = _end_shares(window, v0, n)
        ends = (max(black), max(top))
        if lows and min(lows) <= max(clipped):
            clipped, white = black, top
    lifting = clip_share is not None and (
        max(clipped) >= clip_share
        or (both_share is not None and min(max(clipped), max(white, default=0.0)) >= both_share)
    )
    if not lifting:
        return BandLifts(clipped, (0.0,) * n, white, ends)
    # A stretch is made of every band: each whose darkest lie too far under its median is lifted.
    lifts = []
    for b in range(n):
        values = strided[:, :, b][valid]
        low, median = (float(v) - v0 for v in _percentiles(values, (1.0, 50.0)))
        lift = 0.0
        if median > 0 and low < low_ratio * median:
            # (low + c) / (median + c) = low_ratio
            lift = (low_ratio * median - low) / (1.0 - low_ratio)
        lifts.append(lift)
    return BandLifts(clipped, tuple(lifts), white, ends)


def lifts_for(window: SceneWindow, params: DetectorParams) -> BandLifts:
    """:func:`band_lifts` of ``window`` with the thresholds of ``params`` (``stretch_clip_share``,
    ``stretch_both_share``)."""
    return band_lifts(window, params.stretch_clip_share, both_share=params.stretch_both_share)


def _end_shares(window: SceneWindow, v0: float, n: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Each colour band's share of the valid pixels at the bottom (``v0``) and at the top of the
    window's value range, read on every pixel."""
    top = window.value_range[1]
    valid = window.valid
    seen = max(1, int(np.count_nonzero(valid)))
    black, white = [], []
    for b in range(n):
        band = window.pixels[:, :, b]
        black.append(int(np.count_nonzero((band == v0) & valid)) / seen)
        white.append(int(np.count_nonzero((band >= top) & valid)) / seen)
    return tuple(black), tuple(white)


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Percentiles ``qs`` of ``values`` (by counting, for 8- and 16-bit values)."""
    if values.dtype in (np.uint8, np.uint16):
        counts = np.bincount(values, minlength=1)
        cum = np.cumsum(counts)
        ranks = [min(cum[-1] - 1, int(np.floor(q / 100.0 * (cum[-1] - 1)))) for q in qs]
        return np.searchsorted(cum, np.array(ranks) + 1).astype(np.float64)
    return np.percentile(values.astype(np.float64), qs)


def lifted(window: SceneWindow, found: BandLifts) -> SceneWindow:
    """``window`` with each band's offset (``found.lifts``) added back and the band scaled to keep its
    white where it was, in the file's dtype, marked ``stretch_lifted`` (``window`` itself when no band
    is lifted).

    The mark tells :func:`~railcount.detect.prepare.prepare` to stretch the colour bands from the
    bottom of the value range: its usual stretch from the darkest valid values would take the floor
    the lift put back off again, and the log luminance's shadows would stay as deep as the stretch
    made them."""
    if not found.any:
        return window
    v0, top = window.value_range
    span = top - v0
    pixels = window.pixels.copy()
    for b, lift in enumerate(found.lifts):
        if lift <= 0:
            continue
        scale = span / (span + lift)
        if pixels.dtype in (np.uint8, np.uint16):
            table = np.arange(np.iinfo(pixels.dtype).max + 1, dtype=np.float64)
            table = np.clip(np.rint((table - v0 + lift) * scale + v0), 0, np.iinfo(pixels.dtype).max)
            pixels[:, :, b] = table.astype(pixels.dtype)[window.pixels[:, :, b]]
        else:
            band = (window.pixels[:, :, b].astype(np.float64) - v0 + lift) * scale + v0
            pixels[:, :, b] = band.astype(pixels.dtype)
    return dataclasses.replace(window, pixels=pixels, stretch_lifted=True)
