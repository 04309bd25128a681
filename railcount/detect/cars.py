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

import itertools
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

import cv2
import numpy as np

from railcount.detect.masks import sparse_flatnonzero
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.prepare import band_mean


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

    def subset(self, keep: np.ndarray) -> FrameCars:
        """The cars selected by a boolean mask or an index array."""
        return FrameCars(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    def concat(self, other: FrameCars) -> FrameCars:
        """These cars, then ``other``'s."""
        return FrameCars(
            **{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)}
        )


class FrameMap(Protocol):
    """A frame-sized image read a row (or a few rows) at a time: ``m[row, a:b]``, ``m[rows, a:b]``."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __getitem__(self, index: tuple[Any, slice]) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class BandTerms:
    """The per-pixel terms behind :func:`band_strength`, for the side shadows were judged to fall on.

    All maps are frame-sized float32 :class:`FrameMap` s, read along car
    centrelines by :mod:`~railcount.detect.candidates` and
    :mod:`~railcount.detect.types` to describe each candidate car: arrays
    from :func:`band_strength`, or, from the detector, maps left in the
    blocks they were computed in (:class:`~railcount.detect.strips.StripMap`).
    """

    shadow_side: str  # "up" or "down"
    half_width_px: float  # car_width_m / 2 in frame pixels
    flank_offset_px: float  # centreline to the middle of a flank band
    smoothness: FrameMap
    body_dark: FrameMap  # share of the body band that is shadow-dark
    shade: FrameMap  # solid shadow just beyond the shadow-side edge (0-1)
    step_sun: FrameMap  # colour step from the body to the sun-side flank
    dark_sun: FrameMap  # shadow-dark share of the sun-side flank
    step_shadow: FrameMap  # colour step from the body to the shadow-side flank
    flank_dark: FrameMap  # shadow-dark share of a flank-wide band centred on each row
    lin: FrameMap  # linear luminance, smoothed along the track
    sunlit: FrameMap  # the sunlit ground level near each pixel
    interior: FrameMap  # mean colour of the body band, (rows, cols, 3)


def rows_beside(a: np.ndarray, rows: slice, d: float) -> np.ndarray:
    """``out[i] = a[y + d]`` for the i-th row y of ``rows``, zero where ``y + d`` falls outside (d rounded).

    A view of ``a`` when every ``y + d`` falls inside it (a strip's own rows,
    read beside themselves within its margins), a new array otherwise.
    """
    d = round(d)
    start, stop, _ = rows.indices(a.shape[0])
    lo, hi = start + d, stop + d
    if 0 <= lo and hi <= a.shape[0]:
        return a[lo:hi]
    out = np.zeros((stop - start, *a.shape[1:]), a.dtype)
    inside = slice(max(lo, 0), min(hi, a.shape[0]))
    if inside.start < inside.stop:
        out[inside.start - lo : inside.stop - lo] = a[inside]
    return out


def max_shifted(a: np.ndarray, shifts: list[float], rows: slice = slice(None)) -> np.ndarray:
    """``max over d of rows_beside(a, rows, d)`` for non-negative ``a``, built in one array.

    (Non-negative and without -0.0, so the maximum of the shifted rows alone is
    also their maximum with zero.)
    """
    views = [rows_beside(a, rows, d) for d in shifts]
    if len(views) < 2:
        start, stop, _ = rows.indices(a.shape[0])
        return views[0].copy() if views else np.zeros((stop - start, *a.shape[1:]), a.dtype)
    out = np.maximum(views[0], views[1])
    for view in views[2:]:
        np.maximum(out, view, out=out)
    return out


def colour_step(a: np.ndarray, b: np.ndarray, d: float, rows: slice = slice(None)) -> np.ndarray:
    """Colour distance between ``a[i]`` and ``b[y + d]``, y the i-th row of ``rows`` (0 out of range).

    ``a`` holds the rows ``rows`` of an image the size of ``b``. Works on row
    slices (no shifted copies of the three-band images) and sums the bands
    with OpenCV, which is several times faster than numpy here.
    """
    d = round(d)
    start, stop, _ = rows.indices(b.shape[0])
    # The rows y whose y + d lies in b, counted from start.
    first, last = max(0, -d - start), min(stop, b.shape[0] - d) - start
    if first <= 0 and last >= stop - start:
        return _colour_distance(a, b[start + d : stop + d])
    out = np.zeros(a.shape[:2], np.float32)
    if first < last:
        out[first:last] = _colour_distance(a[first:last], b[start + first + d : start + last + d])
    return out


CACHE_PX = 1 << 15
"""Pixels (of one band) worked at a time by the chains of pixel-wise steps, so their
intermediate images stay in the cache between steps (a third faster on strips)."""


SHADE_FROM, SHADE_SPAN = 0.5, 0.4
"""A shadow-dark share (the share of a strip's pixels read as shadow) counts as shadow from
``SHADE_FROM`` and fully from ``SHADE_FROM + SHADE_SPAN``: :func:`shade_ramp`."""


def shade_ramp(share: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``clip((share - 0.5) / 0.4, 0, 1)`` (:data:`SHADE_FROM`, :data:`SHADE_SPAN`): how fully a
    strip with that shadow-dark share is shadow; in ``out`` when given. The band evidence's shadow
    factor (:meth:`BandMaps.evidence`) and the dark-body relief's own-shadow gate.

    >>> shade_ramp(np.array([0.3, 0.5, 0.7, 0.9, 1.0], np.float32)).round(2).tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    ramp = np.subtract(share, SHADE_FROM, out=out)
    ramp /= SHADE_SPAN
    return np.clip(ramp, 0.0, 1.0, out=ramp)


def sunlit_edge(step: np.ndarray, dark: np.ndarray, min_side_contrast: float) -> np.ndarray:
    """``clip(step / min_side_contrast, 0, 1) * (1 - dark)``: how fully a band's sun side shows a
    colour step (``step``) to a flank that is not shadow-dark (``dark``, its shadow-dark share). The
    band evidence's sunlit factor (:meth:`BandMaps.evidence`).

    >>> step, dark = np.array([0.1, 0.3, 0.3], np.float32), np.array([0.0, 0.0, 0.5], np.float32)
    >>> sunlit_edge(step, dark, 0.2).tolist()
    [0.5, 1.0, 0.5]
    """
    edge = np.divide(step, min_side_contrast)
    np.clip(edge, 0.0, 1.0, out=edge)
    edge *= np.subtract(1.0, dark)
    return edge


def lit_or_black(dark: np.ndarray) -> np.ndarray:
    """The body's brightness factor from its shadow-dark share: a lit roof (not dark) or, weighted
    0.8, a black roof; a half-dark body (neither) is weakest.

    >>> lit_or_black(np.array([0.0, 0.5, 1.0])).tolist()
    [1.0, 0.5, 0.8]
    """
    return np.maximum(1.0 - dark, 0.8 * dark)


def _colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between the colours of ``a`` and ``b``, pixel by pixel (a few rows at a time)."""
    out = np.empty(a.shape[:2], np.float32)
    ones = np.ones((1, 3), np.float32)
    rows = max(1, CACHE_PX // max(1, a.shape[1]))
    for r in range(0, a.shape[0], rows):
        diff = cv2.subtract(a[r : r + rows], b[r : r + rows])
        cv2.multiply(diff, diff, dst=diff)
        cv2.sqrt(cv2.transform(diff, ones), dst=out[r : r + rows])
    return out


def fine_blur(log_lum: np.ndarray, gsd_m: float) -> np.ndarray:
    """Log luminance after a blur of about 0.08 m (at least half a pixel): what the texture's
    derivatives are taken of."""
    return cv2.GaussianBlur(log_lum, (0, 0), max(0.5, 0.08 / gsd_m))


def laplacian_texture(log_lum: np.ndarray, gsd_m: float, *, blurred: np.ndarray | None = None) -> np.ndarray:
    """|Laplacian| of log luminance after :func:`fine_blur`, per pixel: what :func:`texture` averages
    (``benchmarks/car_profiles.py`` and ``ground_texture.py`` read it). ``blurred``: that blur, if
    already made."""
    lap = cv2.Laplacian(fine_blur(log_lum, gsd_m) if blurred is None else blurred, cv2.CV_32F, ksize=3)
    return np.abs(lap, out=lap)


def texture(log_lum: np.ndarray, gsd_m: float, band_px: int) -> np.ndarray:
    """Fine-scale texture (mean |Laplacian| of log luminance) over a cross-track band centred on each row.

    Rails, sleepers and ballast grain are fine texture; a roof is smooth. In
    log space a shadow dims the track without smoothing it.
    """
    return cv2.blur(laplacian_texture(log_lum, gsd_m), (1, band_px))


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
    the lit bodies decide when they are clear (:func:`choose_side`), and
    ``shadow_side`` breaks ties. A dark roof beside its shadow is locally
    symmetric (the shadow, with sunlit ground beyond it, looks the same
    mirrored), so black bodies are only looked for on the side chosen.

    When neither the sun nor the lit bodies give a side (shadows along the
    track, diffuse light), the side with more evidence of lit bodies is
    taken; with ``params.edged_fallback`` (detector 0.5.3 and before) it
    falls back to *edged bands* instead (:meth:`BandMaps.edged`).

    The terms are returned too (None for the edged-band fallback), so that
    candidate cars can be described by more than their strength. The work
    is done by :func:`band_maps`; the detector calls that strip by strip.
    """
    maps = band_maps(rgb, log_lum, linear_lum, gsd_m, params)
    side = (
        shadow_side
        if side_is_known
        else choose_side(
            maps.side_sums(valid), shadow_side, ratio=params.side_ratio, decide=not params.edged_fallback
        )
    )
    if side is None:
        return maps.edged(), None
    return maps.strength(side), maps.terms(side)


@dataclass(eq=False)
class BandMaps:
    """The side-independent maps behind the band evidence of one image; side-dependent ones on demand.

    Every map is local: a pixel depends only on pixels within
    :data:`SUPPORT_M` of it, which is what lets the detector compute them
    strip by strip. The maps describe the image's rows ``own`` (a strip's
    own rows; the rows around them only feed the filters), except
    ``flank_mean`` and ``flank_dark``, which cover every row of the image
    because they are read beside the rows they describe.
    """

    params: DetectorParams
    w: float  # car width, px
    off: float  # centreline to the middle of a flank band, px
    steps: list[float]  # offsets of the flanks stepped out 0.3-1.1 m beyond the edge, px
    own: slice  # the rows of the image the maps describe
    interior: np.ndarray
    flank_mean: np.ndarray  # every row
    step_above: np.ndarray
    step_below: np.ndarray
    smoothness: np.ndarray
    lin: np.ndarray
    sunlit: np.ndarray
    body_dark: np.ndarray
    flank_dark: np.ndarray  # every row
    body: np.ndarray  # brightness factor: a lit roof (not dark) or, weighted 0.8, a black roof
    body_lit: np.ndarray | None = None  # every row: 1 - the body band's dark share (with neighbour_shadow)

    def __post_init__(self) -> None:
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def _cached(self, key: tuple[str, str], make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def shade(self, side: str) -> np.ndarray:
        """Solid shadow beyond the car's edge on ``side``: the darkest of flanks stepped out 0.3-1.1 m.

        The shadow starts at the car's side, but blur and a centreline a
        pixel off smear that edge.
        """
        shifts = [-o if side == "up" else o for o in self.steps]
        return self._cached(("shade", side), lambda: max_shifted(self.flank_dark, shifts, self.own))

    def dark_beside(self, side: str) -> np.ndarray:
        """Shadow-dark share of the flank at the car's edge on ``side`` (where the sunlit side is judged)."""
        shift = -self.off if side == "up" else self.off
        return self._cached(("dark_beside", side), lambda: rows_beside(self.flank_dark, self.own, shift))

    def neighbour_cast(self, side: str) -> np.ndarray:
        """Evidence that the flank on ``side`` is dark with the shadow of a car one track over on that side.

        On dense parallel tracks the car on the sun side casts its shadow
        across the gap onto the next car's sunlit edge, and that edge is
        then dark. For track spacings of 4.2-6.0 m: the middle of the gap
        is dark and a band a track spacing over is lit; the best spacing
        (1 when both hold fully).
        """

        def make() -> np.ndarray:
            assert self.body_lit is not None
            sign = -1.0 if side == "up" else 1.0
            gsd = self.params.car_width_m / self.w
            out = None
            for spacing_m in self.params.neighbour_spacing_m:
                d = spacing_m / gsd
                both = rows_beside(self.body_lit, self.own, sign * d) * rows_beside(
                    self.flank_dark, self.own, sign * d / 2.0
                )
                out = both if out is None else np.maximum(out, both, out=out)
            assert out is not None
            return out.astype(np.float32, copy=False)

        return self._cached(("neighbour_cast", side), make)

    def evidence(self, side: str) -> np.ndarray:
        """Shadow beyond ``side``, a sunlit step on the other side, smooth: shared by lit and black bodies.

        With ``params.neighbour_shadow``, the other side of a lit body (not a
        black one) may instead be dark with the shadow of the car one track
        over (:meth:`neighbour_cast`).
        """

        def make() -> np.ndarray:
            other = "down" if side == "up" else "up"
            step_other = self.step_below if side == "up" else self.step_above
            dark_other, shade = self.dark_beside(other), self.shade(side)
            if self.body_lit is not None:
                # Only a lit body: a band in a long shadow is dark, and its neighbour's lit.
                dark_other = np.minimum(dark_other, 1.0 - self.neighbour_cast(other) * (1.0 - self.body_dark))
            out = np.empty(self.smoothness.shape, np.float32)
            # A few rows at a time, so the intermediate images stay in the cache, and in
            # place, in this order: sunlit_edge = clip(step_other / min_side_contrast, 0, 1)
            # * (1 - dark_beside(other)); shade_ramp(shade) * sunlit_edge * smoothness.
            n_rows, n_cols = np.shape(out)[:2]
            chunk = max(1, CACHE_PX // max(1, n_cols))
            for r in range(0, n_rows, chunk):
                rows = slice(r, r + chunk)
                edge = sunlit_edge(step_other[rows], dark_other[rows], self.params.min_side_contrast)
                solid = shade_ramp(shade[rows], out=out[rows])
                solid *= edge
                solid *= self.smoothness[rows]
            return out

        return self._cached(("evidence", side), make)

    def strength(self, side: str, out: np.ndarray | None = None) -> np.ndarray:
        """The band evidence for shadows falling on ``side`` (written into ``out`` when given)."""
        return np.multiply(self.evidence(side), self.body, out=out, dtype=np.float32)

    def terms(self, side: str) -> BandTerms:
        up = side == "up"
        return BandTerms(
            shadow_side=side,
            half_width_px=self.w / 2.0,
            flank_offset_px=self.off,
            smoothness=self.smoothness,
            body_dark=self.body_dark,
            shade=self.shade(side),
            step_sun=self.step_below if up else self.step_above,
            dark_sun=self.dark_beside("down" if up else "up"),
            step_shadow=self.step_above if up else self.step_below,
            flank_dark=self.flank_dark[self.own],
            lin=self.lin,
            sunlit=self.sunlit,
            interior=self.interior,
        )

    def side_sums(self, valid: np.ndarray) -> np.ndarray:
        """Squared evidence over ``valid`` pixels: (up, down) for lit bodies, then (up, down) for all bodies.

        ``valid`` covers the ``own`` rows. Sums add up over strips, so
        :func:`choose_side` can decide for a whole frame.
        """
        up, down = self.evidence("up")[valid], self.evidence("down")[valid]
        lit, body = (1.0 - self.body_dark)[valid], self.body[valid]
        return np.array([float(np.square(e * f).sum()) for f in (lit, body) for e in (up, down)])

    def edged(self) -> np.ndarray:
        """The fallback when no side can be chosen and ``params.edged_fallback`` is on: *edged bands*.

        Smooth inside, a colour step on both long sides, not darker than
        both (which is what a shadow is). In a yard the sunlit ballast
        between two tracks is such a band too, so this fallback over-counts
        on empty tracks.
        """
        edge = np.minimum(self.step_above, self.step_below)
        lum_flank = band_mean(self.flank_mean)
        lum_in = band_mean(self.interior)
        lum_up = rows_beside(lum_flank, self.own, -self.off)
        lum_dn = rows_beside(lum_flank, self.own, self.off)
        shadow_like = (lum_in < lum_up - 0.04) & (lum_in < lum_dn - 0.04)
        edged = np.clip(edge / (1.5 * self.params.min_side_contrast), 0.0, 1.0)
        edged[shadow_like] = 0.0
        return (edged * self.smoothness).astype(np.float32)


SUPPORT_M = 10.0
"""How far (metres, along or across the track) a pixel of :class:`BandMaps` can be
influenced by others: the sunlit reference's 4 m reach and 1 m patch, the 1 m x
1.5 m opening of the dark map, the flank blur and the shade's steps out to about
3 m from the centreline add up to under 9 m."""


def support_m(params: DetectorParams) -> float:
    """:data:`SUPPORT_M`, and with ``params.neighbour_shadow`` the reach of its look one track over:
    the body band's dark share up to the widest spacing away, whose dark map reaches about 5.3 m
    further (the sunlit reference, its patch and the opening)."""
    if not params.neighbour_shadow:
        return SUPPORT_M
    return max(SUPPORT_M, max(params.neighbour_spacing_m) + 0.5 * params.car_width_m + 6.0)


def band_geometry(gsd_m: float, params: DetectorParams) -> tuple[float, float, list[float]]:
    """Car width, centreline-to-flank offset and the shade's stepped-out flank offsets, in px."""
    w = params.car_width_m / gsd_m
    # centreline to the middle of a flank hugging the car
    edge = w / 2.0 + to_px(params.flank_width_m, gsd_m) / 2.0
    return w, edge + 0.5, [edge + d / gsd_m for d in (0.3, 0.7, 1.1)]


def body_rows(width_px: float) -> int:
    """Rows of the body band a car is read on, for a car ``width_px`` wide: 0.6 of it (at least 1)."""
    return max(1, round(0.6 * width_px))


def sunlit_reference(lin: np.ndarray, gsd_m: float, params: DetectorParams) -> np.ndarray:
    """Per pixel, the linear luminance of the brightest 1 m patch within ``params.sunlit_reach_m``:
    the sunlit ground a shadow there is dark against."""
    patch = to_px(1.0, gsd_m)
    reach = 2 * to_px(params.sunlit_reach_m, gsd_m) + 1
    return cv2.dilate(cv2.blur(lin, (patch, patch)), np.ones((reach, reach), np.uint8))


def band_maps(
    rgb: np.ndarray,
    log_lum: np.ndarray,
    linear_lum: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
    own: slice = slice(None),
) -> BandMaps:
    """The side-independent maps of the band evidence (see :func:`band_strength`) of the rows ``own``.

    The filters run over the whole image, so rows beyond ``own`` (a strip's
    margins) only feed them; what is computed pixel by pixel from the
    filtered images is computed for ``own`` alone.
    """
    w, off, steps = band_geometry(gsd_m, params)
    along = to_px(params.along_smooth_m, gsd_m)
    inner = body_rows(w)
    flank = to_px(params.flank_width_m, gsd_m)
    # Box means over along-track x cross-track rectangles (one 2-D pass each).
    interior = cv2.blur(rgb, (along, inner))[own]
    flank_mean = cv2.blur(rgb, (along, flank))
    step_above = colour_step(interior, flank_mean, -off, own)
    step_below = colour_step(interior, flank_mean, off, own)
    # A shadow is dark next to the sunlit ground around it: compare linear
    # luminance with the brightest 1 m patch within ``sunlit_reach_m``.
    lin = cv2.blur(linear_lum, (along, 1))
    sunlit = sunlit_reference(lin, gsd_m, params)
    dark_px = (lin < params.shadow_ratio * sunlit).view(np.uint8)
    # Shadows of cars are solid bands metres wide; rails and sleepers are thin
    # dark lines. An opening with a 1.5 m x 1.0 m rectangle keeps only the former.
    rect = np.ones((to_px(1.0, gsd_m), to_px(1.5, gsd_m)), np.uint8)
    dark = cv2.morphologyEx(dark_px, cv2.MORPH_OPEN, rect)  # 0 or 1

    body_lit = None
    if params.neighbour_shadow and gsd_m <= params.neighbour_max_gsd_m:
        # The neighbour's look reads the body band on every row: count once, slice the own rows.
        body_dark, body, body_lit = dark_share(dark, inner, slice(None), lit_or_black, lambda d: 1.0 - d)
        body_dark, body = body_dark[own], body[own]
    else:
        body_dark, body = dark_share(dark, inner, own, lit_or_black)
    (flank_dark,) = dark_share(dark, flank)

    # Coarser than 0.6 m a roof is two or three pixels across and the texture
    # measure sees its edges, so the limit grows with the GSD from there.
    limit = params.max_roof_texture * max(1.0, gsd_m / 0.6) ** params.texture_gsd_power
    if params.dark_along_texture > 0 and gsd_m <= params.dark_relief_max_gsd_m:
        tex = dark_body_texture(log_lum, dark, body_dark, gsd_m, params, limit, own)
    else:
        # An along-track box (one row high) treats each row alone: blurring own rows
        # only gives what blurring them all would.
        tex = cv2.blur(texture(log_lum, gsd_m, inner)[own], (along, 1))
    smoothness = np.divide(tex, limit, out=tex)  # in place: clip(1 - tex / limit, 0, 1)
    np.clip(np.subtract(1.0, smoothness, out=smoothness), 0.0, 1.0, out=smoothness)
    return BandMaps(
        params=params,
        w=w,
        off=off,
        steps=steps,
        own=own,
        interior=interior,
        flank_mean=flank_mean,
        step_above=step_above,
        step_below=step_below,
        smoothness=smoothness,
        lin=lin[own],
        sunlit=sunlit[own],
        body_dark=body_dark,
        flank_dark=flank_dark,
        body=body,
        body_lit=body_lit,
    )


def dark_body_texture(
    log_lum: np.ndarray,
    dark: np.ndarray,
    body_dark: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
    limit: float,
    own: slice,
) -> np.ndarray:
    """The body band's texture (:func:`texture`, averaged along the track) for the rows ``own``, relieved
    where the band may be a black car: read along the track there.

    A black tank car seen from above is a dark band whose curvature across
    the track (and the log stretching its dark noise) reads as rough as
    ballast, though along the car it is smooth (session 56). Where the body
    band is shadow-dark, its texture becomes the lesser of the usual one and
    ``dark_along_texture`` times the mean |second derivative along the
    track| (a Sobel dx = 2 of the same blurred log luminance), weighted by:

    * the body band's shadow-dark share (``body_dark``, for the rows ``own``; ``dark`` is the
      shadow-dark mask of every row);
    * how rough the ground is 1-2 m past the car's sides, the lesser of
      the two over the roof limit (0-1): a black car stands on ballast, a
      building's shaded roof edge beside a smooth roof;
    * how dark the ground is 0.5-1.5 m beyond the body band's edge on
      either side (the shadow-dark share of that metre, from 0.5, full at
      0.9): a black car's own shadow goes on past its edge, where a
      building's shadow strip beside its roof has lit ground beyond.

    Ballast, rough both ways, reads as before. Off by default
    (``dark_along_texture`` 0): measured in session 56 and 57, not shipped
    (docs/detector.md).
    """
    w, _, _ = band_geometry(gsd_m, params)
    inner = body_rows(w)
    along = to_px(params.along_smooth_m, gsd_m)
    smooth_log = fine_blur(log_lum, gsd_m)
    lap = laplacian_texture(log_lum, gsd_m, blurred=smooth_log)
    # As :func:`texture` then the along-track box over the own rows, from the Laplacian made here.
    tex = cv2.blur(cv2.blur(lap, (1, inner))[own], (along, 1))
    # The ground's texture in the metre 1-2 m past each side of the car (clear of the edge's own step).
    ground = cv2.blur(lap, (along, to_px(1.0, gsd_m)))
    out = 0.5 * w + 1.5 / gsd_m
    d2 = cv2.Sobel(smooth_log, cv2.CV_32F, 2, 0, ksize=3)
    # Across the band on every row before the own rows are cut out, so a strip reads as the whole frame.
    along_tex = cv2.blur(cv2.blur(np.abs(d2, out=d2), (1, inner))[own], (along, 1))
    rough = np.minimum(rows_beside(ground, own, -out), rows_beside(ground, own, out)) / limit
    (beyond,) = dark_share(dark, to_px(1.0, gsd_m))
    edge = 0.5 * w + 1.0 / gsd_m  # the middle of the metre 0.5-1.5 m past the car's side
    own_shadow = np.maximum(rows_beside(beyond, own, -edge), rows_beside(beyond, own, edge))
    gate = shade_ramp(own_shadow)
    weight = body_dark * np.clip(rough, 0.0, 1.0) * gate
    excess = np.maximum(tex - params.dark_along_texture * along_tex, 0.0)
    return np.subtract(tex, weight * excess, out=tex)


def dark_share(
    mask: np.ndarray,
    band_px: int,
    rows: slice = slice(None),
    *then: Callable[[np.ndarray], np.ndarray],
) -> list[np.ndarray]:
    """Share of set pixels of a 0/1 uint8 mask in a cross-track band of ``band_px`` rows centred on each row.

    To the bit ``cv2.blur(mask.astype(np.float32), (1, band_px))[rows]``:
    OpenCV's float box filter adds whole numbers there, exactly, and scales
    the sum by ``1 / band_px`` in double. Counting in 8 bits and looking the
    counts up in a table of those products is faster and makes no float copy
    of the mask. Returned in a list with, for each function given in
    ``then``, ``f(share)``, which must work pixel by pixel: it is applied to
    the table, not the image.
    """
    if band_px > 255:  # the count would not fit in 8 bits
        share = cv2.blur(mask.astype(np.float32), (1, band_px))[rows]
        return [share, *(f(share) for f in then)]
    counts = cv2.boxFilter(mask, cv2.CV_8U, (1, band_px), normalize=False)[rows]
    table = (np.arange(256) * (1.0 / band_px)).astype(np.float32)
    return [cv2.LUT(counts, t) for t in (table, *(f(table) for f in then))]


def choose_side(
    sums: np.ndarray, shadow_side: str | None, *, ratio: float = 0.6, decide: bool = False
) -> str | None:
    """The shadow side from :meth:`BandMaps.side_sums`: lit bodies decide if clear, then all, then the sun.

    A side is clear when its squared evidence exceeds the other's by more
    than 1 / ``ratio``. When none is clear and the sun gives none, None
    (the caller falls back to edged bands), or with ``decide`` the side
    with more evidence of lit bodies (of any bodies when that is equal).
    """
    for u, d in ((sums[0], sums[1]), (sums[2], sums[3])):
        if max(u, d) > 0 and min(u, d) <= ratio * max(u, d):
            return "up" if u > d else "down"
    if shadow_side is not None or not decide:
        return shadow_side
    # Lit bodies first, all bodies on a tie, "up" when both tie.
    return "up" if (sums[0], sums[2]) >= (sums[1], sums[3]) else "down"


def centreline_runs(strength: np.ndarray, core: np.ndarray, gsd_m: float, params: DetectorParams) -> Runs:
    """Runs of rows where the band strength is a cross-track maximum above threshold.

    Where coupling gaps are resolved, the strength is first averaged along
    the track over ``run_smooth_m``, so that a car whose evidence flickers
    along its length (texture on its roof, a dip in its shadow) still gives
    one centreline, and isolated spots of evidence do not.
    """
    half_w = to_px(0.5 * params.car_width_m, gsd_m)
    if params.run_smooth_m > 0 and gsd_m <= params.gap_visible_gsd_m:
        strength = cv2.blur(strength, (to_px(params.run_smooth_m, gsd_m), 1))
    # Cross-track non-maximum suppression: a car gives one centreline.
    ys, xs = cross_track_maxima(strength, core, half_w, params.min_band_strength)
    # Centrelines cross few of the frame's rows: the rest of the work is done on those
    # rows alone (frame_rows[i] is the frame row of row i of on_u8, -1 for a blank row).
    reach = to_px(params.centreline_wobble_m, gsd_m)
    frame_rows, on_u8 = _rows_around(ys, xs, strength.shape, reach)
    if not frame_rows.size:
        return Runs(*(np.zeros(0) for _ in range(4)))
    # Bridge wobbles of the centreline and remove blips shorter than a few metres.
    on_u8 = cv2.dilate(on_u8, np.ones((2 * reach + 1, 1), np.uint8))
    if gsd_m > params.gap_visible_gsd_m:
        # Coupling gaps are not resolved: bridge short breaks so a consist is one run.
        bridge = to_px(params.bridge_gap_m, gsd_m)
        on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_CLOSE, np.ones((1, 2 * bridge + 1), np.uint8))
    k = to_px(3.0, gsd_m)
    on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_OPEN, np.ones((1, k), np.uint8))
    # Labels only: OpenCV's statistics cost three times the labelling, and the two
    # needed (each run's first and last column) come from the pixels below.
    n, labels = cv2.connectedComponents(on_u8, connectivity=8)
    if n <= 1:
        return Runs(*(np.zeros(0) for _ in range(4)))
    # Centreline pixels are few: work on their coordinates only (row-major, like a ravel).
    # OpenCV lists them several times faster than np.nonzero scans the labels.
    xy = cv2.findNonZero(on_u8).reshape(-1, 2)  # (x, y) pairs; n > 1, so there is at least one
    lab = labels[xy[:, 1], xy[:, 0]]
    ys, xs = frame_rows[xy[:, 1]], xy[:, 0]
    w8 = strength[ys, xs].astype(np.float64)
    wsum = np.bincount(lab, weights=w8, minlength=n)
    mean_y = np.bincount(lab, weights=ys * w8, minlength=n) / np.maximum(wsum, 1e-9)
    cnt = np.bincount(lab, minlength=n).astype(float)
    first = np.full(n, strength.shape[1], np.int64)
    last = np.full(n, -1, np.int64)
    np.minimum.at(first, lab, xs)
    np.maximum.at(last, lab, xs)
    idx = np.arange(1, n)
    x0 = first[idx].astype(float)
    x1 = x0 + (last[idx] - first[idx] + 1)
    # The mean evidence over the run's pixels, which the dilation above spreads over
    # 2 * reach + 1 rows: scaled to three rows, as it was with one row of give at every GSD.
    score = np.clip(wsum[idx] / np.maximum(cnt[idx], 1) * ((2 * reach + 1) / 3), 0.0, 1.0)
    return Runs(y=mean_y[idx], x0=x0, x1=x1, score=score)


def cross_track_maxima(
    strength: np.ndarray, core: np.ndarray, half_w: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the ``core`` pixels above ``threshold`` that are the maximum of their column
    within ``half_w`` rows (to 1e-6), in row-major order.

    To the bit the pixels ``core & (strength >= col_max - 1e-6) & (strength > threshold)``
    marks, ``col_max`` being ``cv2.dilate`` of ``strength`` with a ``2 * half_w + 1``
    row column (which ignores rows beyond the frame). Under 1 % of a frame's
    pixels pass the threshold, so the column maxima are taken at those alone,
    not over the frame.
    """
    ys, xs = np.divmod(sparse_flatnonzero(np.greater(strength, threshold)), strength.shape[1])
    inside = core[ys, xs]
    ys, xs = ys[inside], xs[inside]
    own = strength[ys, xs]
    col_max = own.copy()
    n_rows = strength.shape[0]
    for d in (*range(-half_w, 0), *range(1, half_w + 1)):
        rows = ys + d
        beyond = (rows < 0) | (rows >= n_rows)
        other = strength[np.clip(rows, 0, n_rows - 1), xs]
        np.maximum(col_max, np.where(beyond, own, other), out=col_max)
    keep = own >= col_max - 1e-6
    return ys[keep], xs[keep]


def _rows_around(
    ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int], reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """The frame rows within ``reach`` rows of the pixels (ys, xs), as a uint8 image with those pixels set.

    Returns ``frame_rows`` (the frame row of each image row, -1 for a blank
    one) and the image. :func:`centreline_runs` dilates it by ``reach`` rows,
    opens (or closes) it along its rows and labels it: on this image they
    give, on its rows, what they give on the frame, several times faster.
    Every row within ``reach`` of a set pixel is kept, so the dilation
    meets the same rows here as in the frame. Rows are taken in the frame's
    aligned pairs (2k, 2k + 1), so row pairs are the frame's and OpenCV's
    labelling (which scans two rows at a time) numbers the components in
    the same order; runs of pairs that are not adjacent in the frame are
    kept apart by a blank pair, as they are in the frame by at least one
    pair with nothing set, and a row beside a blank one has nothing set
    within ``reach`` rows of it, in the frame as here.
    """
    n_rows = shape[0]
    marked = np.zeros(n_rows, np.int64)
    marked[ys] = 1
    upto = np.concatenate([[0], np.cumsum(marked)])  # upto[k]: marked rows before row k
    rows = np.arange(n_rows)
    near = np.zeros(n_rows + n_rows % 2, bool)
    near[:n_rows] = upto[np.minimum(rows + reach + 1, n_rows)] > upto[np.maximum(rows - reach, 0)]
    pairs = np.flatnonzero(near.reshape(-1, 2).any(axis=1))
    # A blank pair before each run of adjacent pairs but the first.
    starts = np.ones(pairs.size, bool)
    starts[1:] = pairs[1:] != pairs[:-1] + 1
    starts[:1] = False
    slots = 2 * (np.arange(pairs.size) + np.cumsum(starts))  # each kept pair's first image row
    frame_rows = np.full(2 * (pairs.size + int(starts.sum())), -1, np.int64)
    frame_rows[slots] = 2 * pairs
    frame_rows[slots + 1] = 2 * pairs + 1
    if frame_rows.size and frame_rows[-1] == n_rows:
        frame_rows = frame_rows[:-1]  # an odd last row is the frame's last: nothing below it
    image_row = np.full(n_rows, -1, np.int64)
    taken = frame_rows >= 0
    image_row[frame_rows[taken]] = np.flatnonzero(taken)
    out = np.zeros((frame_rows.size, shape[1]), np.uint8)
    out[image_row[ys], xs] = 1
    return frame_rows, out


def gap_signal(rgb: np.ndarray, y: float, x0: int, x1: int, gsd_m: float, band_px: int) -> np.ndarray:
    """Strength of a coupling gap or car boundary at each column of a run (colour units).

    A gap is a short stretch that differs from the roofs on both sides; a
    boundary between differently coloured cars is a step. Both cut a run.
    """
    r0 = max(0, round(y) - band_px // 2)
    r1 = min(rgb.shape[0], r0 + band_px)
    d = to_px(0.9, gsd_m)
    pad0, pad1 = max(0, x0 - d), min(rgb.shape[1], x1 + d)
    if r1 <= r0 or pad1 <= pad0:
        return np.zeros(max(0, x1 - x0))
    prof = rgb[r0:r1, pad0:pad1].mean(axis=0)  # (cols, 3)
    n = prof.shape[0]
    idx = np.arange(x0 - pad0, x1 - pad0)
    left = prof[np.clip(idx - d, 0, n - 1)]
    right = prof[np.clip(idx + d, 0, n - 1)]
    mid = prof[np.clip(idx, 0, n - 1)]
    d_left = np.linalg.norm(mid - left, axis=1)
    d_right = np.linalg.norm(mid - right, axis=1)
    step = np.linalg.norm(right - left, axis=1)
    signal = np.maximum(np.minimum(d_left, d_right), 0.5 * step)
    # Columns beyond the frame (a run counted by pitch may end past a small frame's edge) show no gap.
    signal[(idx < 0) | (idx >= n)] = 0.0
    return signal


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


def snap_joints(
    joints: np.ndarray, rgb: np.ndarray, y: float, gsd_m: float, band_px: int, contrast: float
) -> np.ndarray:
    """The inner joints of a run counted by pitch, each moved to the strongest colour step near it.

    Coarser than the coupling gaps, the steps between cars of different
    colours still show. Each inner joint moves to the strongest local
    maximum of :func:`gap_signal` above ``contrast`` within a third of a
    piece of where the equal split put it (and stays when there is none),
    so the count is the pitch's and the boxes sit on the cars. The run's
    ends stay.
    """
    out = np.asarray(joints, float).copy()
    seg = (out[-1] - out[0]) / (out.size - 1)
    reach = seg / 3.0
    x0, x1 = int(out[0]), int(np.ceil(out[-1]))
    sig = gap_signal(rgb, y, x0, x1, gsd_m, band_px)
    if sig.size < 3:
        return out
    peak = np.zeros(sig.size, bool)
    peak[1:-1] = (sig[1:-1] >= sig[:-2]) & (sig[1:-1] >= sig[2:]) & (sig[1:-1] > contrast)
    cols = np.flatnonzero(peak) + x0
    for k in range(1, out.size - 1):
        near = cols[np.abs(cols - out[k]) <= reach]
        near = near[(near > out[k - 1] + 0.5 * seg) & (near < out[k + 1] - 0.5 * seg)]
        if near.size:
            out[k] = float(near[np.argmax(sig[near - x0])])
    return out


def pitch_box_centres(cars: FrameCars, rgb: np.ndarray, gsd_m: float, params: DetectorParams) -> np.ndarray:
    """Where each car's box goes along the track: for cars counted by pitch, between snapped joints.

    The pieces of one run counted by pitch share its row and length and
    follow each other (:func:`split_runs`); their joints are moved by
    :func:`snap_joints` and each box is centred between its two. Other cars
    keep their ``x``. Only where boxes are drawn (and merged) changes: the
    models judged the equal pieces.
    """
    out = np.asarray(cars.x, float).copy()
    pitch = np.flatnonzero(cars.method == "pitch")
    if not pitch.size or params.snap_joints_contrast is None:
        return out
    band_px = to_px(0.5 * params.car_width_m, gsd_m)
    order = pitch[np.lexsort((cars.x[pitch], cars.y[pitch]))]
    new_run = np.ones(order.size, bool)
    step = cars.x[order[1:]] - cars.x[order[:-1]]
    new_run[1:] = (cars.y[order[1:]] != cars.y[order[:-1]]) | (np.abs(step - cars.length[order[:-1]]) > 1e-3)
    for run in np.split(order, np.flatnonzero(new_run)[1:]):
        if run.size < 2:
            continue
        seg = float(cars.length[run[0]])
        joints = float(cars.x[run[0]]) - 0.5 * seg + seg * np.arange(run.size + 1)
        snapped = snap_joints(joints, rgb, float(cars.y[run[0]]), gsd_m, band_px, params.snap_joints_contrast)
        out[run] = 0.5 * (snapped[:-1] + snapped[1:])
    return out
