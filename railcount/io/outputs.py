"""Write a count's outputs: detections GeoJSON, count JSON and the overlay PNG."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rasterio.warp import transform as warp_points

from railcount.cautions import caption as caution_caption
from railcount.counting import unsure_railcars
from railcount.errors import UsageError
from railcount.io.fonts import title_face
from railcount.io.pixelspace import is_pixel_space
from railcount.io.scenes import WGS84, ground_pixel_size, station_in_crs
from railcount.models import CountResult, Detections, SceneWindow, apply_affine

# Colour-blind-safe palette (Okabe-Ito), as BGR for OpenCV.
_STATION = (66, 228, 240)  # yellow
_CAR = (233, 180, 86)  # sky blue
_LOCO = (167, 121, 204)  # reddish purple
_PITCH = (0, 159, 230)  # orange: cars counted by pitch, not seen apart
_FILL = (115, 158, 0)  # bluish green: cars found in a hole of a consist (gap filling)
_CLOUD = (178, 114, 0)  # blue: hatching over opaque cloud, not counted
_SHADE = (205, 205, 205)  # light grey: hatching the other way over a cloud's shadow (most cars missed)
_NODATA = (40, 40, 40)  # dark grey: pixels without data (not seen, so not counted)
_SEAM = (255, 255, 255)  # white dots: where the tiles of a window counted in tiles meet
_SEAM_SWATCH = (-4, -4, -4)  # the legend's key for the seams: drawn as a dotted line
_METHOD_COLOUR = {"gap": _CAR, "pitch": _PITCH, "fill": _FILL}
_UNSURE_SWATCH = (-1, -1, -1)  # the legend's key for dashed boxes: drawn as a dashed outline, not a colour
_TARP = (255, 255, 255)  # white dot, black rim: a railcar called tarped (the shape tells it, not the colour)
_TARP_SWATCH = (-2, -2, -2)  # the legend's key for tarped cars: drawn as the dot itself
_DASH, _GAP = 4, 4
"""An unsure box's dashes and the gaps between them, in outline thicknesses (about: the pattern is
stretched to close evenly around the box)."""
_FALSE = (0, 94, 213)  # vermillion: a detection no true car matched (evaluation)
_MISSED = (255, 255, 255)  # white: a true car no detection matched (evaluation)
_SHADOW_SWATCH = (-3, -3, -3)  # the legend's key for the shadows' direction: drawn as an arrow
_SCALE_SWATCH = (-5, -5, -5)  # the legend's key for the scale: the bar itself, to the picture's scale
_NORTH_SWATCH = (-6, -6, -6)  # the legend's key for true north: drawn as an arrow
_SHADOW_LABELS = {
    "given": "shadows (from the time)",
    "assumed": "shadows if 10:30 (no time): compare",
    "from shadows": "shadows (as given)",
}
"""The legend's words for the arrow, by the count's ``sun["time_of_day"]``: where the sun was put."""


def detections_lonlat(window: SceneWindow, dets: Detections) -> np.ndarray:
    """Footprint corners of every detection as lon/lat, shape (n, 4, 2)."""
    if not len(dets):
        return np.zeros((0, 4, 2))
    corners = dets.corners().reshape(-1, 2)
    mx, my = apply_affine(window.transform, corners[:, 0], corners[:, 1])
    lon, lat = warp_points(window.crs, WGS84, mx, my)
    return np.column_stack([lon, lat]).reshape(-1, 4, 2)


def detections_geojson(window: SceneWindow, dets: Detections, result: CountResult) -> dict[str, Any]:
    """RFC 7946 FeatureCollection: one Polygon per detected car, lon/lat."""
    feats = []
    unsure = unsure_railcars(dets)
    for i, ring in enumerate(detections_lonlat(window, dets)):
        coords = _ring_coords(ring)
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "id": i + 1,
                    "type": str(dets.kind[i]),
                    "score": round(float(dets.score[i]), 3),
                    "unsure": bool(unsure[i]),
                    "method": str(dets.method[i]),
                    "tarped": bool(dets.tarped[i]),
                    "length_m": round(float(dets.length[i]) * window.gsd_m, 2),
                    "station": result.station,
                    "acquired": result.to_dict()["acquired"],
                },
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def detections_csv(window: SceneWindow, dets: Detections) -> str:
    """Detections of an ungeoreferenced image as CSV in pixel coordinates (row, col of the centre)."""
    lines = ["row,col,length_m,width_m,angle_deg,type,score,method,tarped,unsure"]
    unsure = unsure_railcars(dets)
    for i in range(len(dets)):
        lines.append(
            f"{dets.center[i, 0]:.1f},{dets.center[i, 1]:.1f},{dets.length[i] * window.gsd_m:.2f},"
            f"{dets.width[i] * window.gsd_m:.2f},{dets.angle_deg[i]:.1f},{dets.kind[i]},"
            f"{dets.score[i]:.3f},{dets.method[i]},{str(bool(dets.tarped[i])).lower()},"
            f"{str(bool(unsure[i])).lower()}"
        )
    return "\n".join(lines) + "\n"


def display_bgr(window: SceneWindow) -> np.ndarray:
    """The window's pixels as the pictures show them, BGR uint8: the stretch the detector saw."""
    from railcount.detect.prepare import (
        prepare,
    )  # imported here: `railcount count` without --out never needs it

    shown = np.clip(prepare(window).rgb, 0.0, 1.0)
    shown *= 255
    bgr = np.empty(shown.shape, np.uint8)
    np.copyto(bgr, shown[:, :, ::-1], casting="unsafe")  # truncates, as astype does
    return bgr


_DIM = (np.arange(256) * 0.45).astype(np.uint8)
"""Pixels outside the station, dimmed (a lookup table: each value times 0.45, truncated)."""


_EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius: a metre's step east or north at the window's centre, in degrees (the
ellipsoid would turn a direction by under 0.2 degrees)."""


def ground_axes(window: SceneWindow) -> tuple[np.ndarray, np.ndarray] | None:
    """The pixel steps (column, row) of one metre due east and one metre due north on the ground at
    the window's centre, or None where the window has no real place on Earth (no CRS, or an image
    read in pixel space).

    True north, not the grid's: a projected grid's north (UTM's, say) differs from it by the
    convergence of the meridians, about a degree at Tumangang and up to three at a zone's edge.

    >>> from affine import Affine
    >>> from railcount.models import SceneWindow, Station
    >>> from railcount.io.scenes import WGS84
    >>> from shapely.geometry import box
    >>> t = Affine(1e-5, 0, 130.0, 0, -1e-5, 42.0)  # a lon/lat grid at 42 N
    >>> w = SceneWindow(np.zeros((4, 4, 3)), np.ones((4, 4), bool), np.ones((4, 4), bool),
    ...                 t, WGS84, 0.9, "s", Station("s", box(0, 0, 1, 1)))
    >>> east, north = ground_axes(w)  # a degree of longitude is shorter than one of latitude at 42 N
    >>> [round(float(v), 2) + 0.0 for v in (*east, *north)]
    [1.21, 0.0, 0.0, -0.9]
    """
    if window.crs is None or is_pixel_space(window):
        return None
    rows, cols = window.shape
    cx, cy = apply_affine(window.transform, [cols / 2.0], [rows / 2.0])
    lon, lat = (v[0] for v in warp_points(window.crs, WGS84, list(cx), list(cy)))
    step = np.degrees(1.0 / _EARTH_RADIUS_M)
    lons = [lon, lon + step / np.cos(np.radians(lat)), lon]
    lats = [lat, lat, lat + step]
    mx, my = warp_points(WGS84, window.crs, lons, lats)
    col, row = apply_affine(~window.transform, mx, my)
    east = np.array([col[1] - col[0], row[1] - row[0]])
    north = np.array([col[2] - col[0], row[2] - row[0]])
    if not (np.isfinite(east).all() and np.isfinite(north).all()):
        return None
    return east, north


def scale_bar(metres_per_px: float, longest_px: float) -> tuple[float, int] | None:
    """The longest round length of ground (1, 2 or 5 times a power of ten metres) whose bar on the
    picture is at most ``longest_px`` long, with that bar's length in pixels; None when no such bar
    is at least 20 px long or the scale is unknown.

    >>> scale_bar(0.5, 240)  # a 0.5 m window drawn at its own size
    (100.0, 200)
    >>> scale_bar(0.3 / 4, 240)  # a 0.3 m window enlarged four times
    (10.0, 133)
    >>> scale_bar(2.0, 900)
    (1000.0, 500)
    """
    if not (np.isfinite(metres_per_px) and metres_per_px > 0 and longest_px >= 20):
        return None
    most = longest_px * metres_per_px
    power = 10.0 ** np.floor(np.log10(most))
    length = max(k * power for k in (1, 2, 5) if k * power <= most * (1 + 1e-9))
    px = round(length / metres_per_px)
    return (float(length), int(px)) if px >= 20 else None


def picture_scale_bar(window: SceneWindow, scale: int, width: int) -> tuple[float, int] | None:
    """The overlay's scale bar (metres, pixels; :func:`scale_bar`) for ``window`` drawn ``scale``
    times its size on a picture ``width`` pixels wide: to the picture's own scale along its rows
    (ground metres per column at the window's centre), at most 240 px long (more on pictures over
    2500 px wide, as the banner's text grows) and never over 0.4 of the banner's width."""
    across_m = window.gsd_m
    if window.crs is not None and not is_pixel_space(window):
        across_m = ground_pixel_size(window.transform, window.crs, window.shape)[0]
    return scale_bar(across_m / scale, min(240.0 * max(1.0, width / 2500), 0.4 * (width - 16)))


def scale_label(metres: float) -> str:
    """``"100 m"``, ``"2 km"``, ``"0.5 m"``: a scale bar's length as its label gives it."""
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def shadow_arrow(window: SceneWindow, sun: dict[str, Any] | None) -> tuple[float, float] | None:
    """The unit direction (x = column, y = row) in which the count took the shadows to point on the
    window's picture, from the sun it placed (``CountResult.sun``); None without one.

    The bearing (the sun's azimuth turned round) is a direction on the ground, east and north, from
    true north (:func:`ground_axes`), so a rotated grid or a projected grid's convergence turns the
    arrow too. A window with no place on Earth takes its grid's axes for east and north.

    >>> from affine import Affine
    >>> from railcount.models import SceneWindow, Station
    >>> from shapely.geometry import box
    >>> w = SceneWindow(np.zeros((4, 4, 3)), np.ones((4, 4), bool), np.ones((4, 4), bool),
    ...                 Affine(0.5, 0, 0, 0, -0.5, 0), None, 0.5, "s", Station("s", box(0, 0, 1, 1)))
    >>> [round(v, 6) + 0.0 for v in shadow_arrow(w, {"azimuth_deg": 180.0})]  # a noon sun: shadows north, up
    [0.0, -1.0]
    >>> [round(v, 6) + 0.0 for v in shadow_arrow(w, {"azimuth_deg": 90.0})]  # a morning sun: shadows west
    [-1.0, 0.0]
    """
    if not sun or sun.get("azimuth_deg") is None:
        return None
    toward = np.radians(float(sun["azimuth_deg"]) + 180.0)
    east, north = np.sin(toward), np.cos(toward)
    axes = ground_axes(window)
    if axes is not None:
        step = east * axes[0] + north * axes[1]
        norm = float(np.hypot(*step))
        return (float(step[0] / norm), float(step[1] / norm)) if norm > 0 else None
    t = window.transform
    # The pixel step (col, row) that moves (east, north) on the map: the inverse of the linear part.
    det = t.a * t.e - t.b * t.d
    if det == 0:
        return None
    col = (t.e * east - t.b * north) / det
    row = (-t.d * east + t.a * north) / det
    norm = float(np.hypot(col, row))
    return (float(col / norm), float(row / norm)) if norm > 0 else None


def overlay_image(
    window: SceneWindow,
    dets: Detections,
    result: CountResult,
    cloud: np.ndarray | None = None,
    *,
    errors: ErrorMarks | None = None,
    caution: str = "",
    shown: np.ndarray | None = None,
    seams: tuple[Sequence[int], Sequence[int]] = ((), ()),
    shade: np.ndarray | None = None,
) -> np.ndarray:
    """BGR uint8 picture of the station: polygon in yellow, every counted car outlined.

    Small windows are enlarged so outlines stay legible; pixels outside the
    station are dimmed; opaque ``cloud`` (not counted) is hatched; a caption
    states the count. With ``errors`` (an evaluation against truth), false
    detections are outlined again in vermillion and the true cars no
    detection matched are drawn in white, and the caption says how many.
    A ``caution`` is written on the caption's last line, in amber. ``shown`` is
    :func:`display_bgr` of the window when already made (it is drawn on). ``seams`` (rows, columns of
    the window) are where the tiles of a window counted in tiles meet: drawn as dotted white lines,
    as a car on one may be read differently by the tiles either side. ``shade`` (a cloud's shadow,
    :func:`~railcount.detect.cloud.cloud_shadow`) is hatched the other way, in light grey.
    """
    img = display_bgr(window) if shown is None else shown
    hatched, shaded = _shade(img, window, cloud, shade)
    # Enlarge small windows so a car is at least ~40 px long on screen.
    scale = max(1, min(4, int(np.ceil(max(1600 / max(window.shape), 30.0 * window.gsd_m / 15.0)))))
    if scale > 1:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    thick = 2 if scale < 3 else 3
    # Station outline
    geom = station_in_crs(window.station.geometry, window.crs)
    inv = ~window.transform
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            rx, ry = np.asarray(ring.coords)[:, :2].T
            xy = np.column_stack(apply_affine(inv, rx, ry)) * scale
            cv2.polylines(
                img, [np.round(xy * 8).astype(np.int32)], True, _STATION, thick + 1, cv2.LINE_AA, shift=3
            )
    seam_rows, seam_cols = seams
    for at, across in [*((r, False) for r in seam_rows), *((c, True) for c in seam_cols)]:
        # Under the boxes: a car on a seam stays legible.
        h, w = img.shape[:2]
        ends = (
            np.array([[at * scale, 0.0], [at * scale, h]])
            if across
            else np.array([[0.0, at * scale], [w, at * scale]])
        )
        dots = [np.round(p * 8).astype(np.int32) for p in _segment_dashes(ends, 3.0 * thick, 3.0 * thick)]
        cv2.polylines(img, dots, False, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=3)
        cv2.polylines(img, dots, False, _SEAM, thick, cv2.LINE_AA, shift=3)
    corners = dets.corners() * scale
    unsure = unsure_railcars(dets)
    for i in range(len(dets)):
        colour = _LOCO if dets.kind[i] == "locomotive" else _METHOD_COLOUR.get(str(dets.method[i]), _CAR)
        _draw_box(img, corners[i], colour, thick, dashed=bool(unsure[i]))
    # The tarped count is the motivating case's figure: each car it counts gets a dot, to be checked.
    tarped = np.flatnonzero(dets.tarped & (dets.kind != "locomotive"))
    for k in tarped.tolist():
        _draw_dot(img, corners[k].mean(axis=0), _tarp_radius(thick))
    if errors is not None:
        for i in errors.false:
            # A second, wider outline around the box, so its method colour still shows inside.
            pts = np.round(_grow(corners[i], 2.0 * thick) * 8).astype(np.int32)
            cv2.polylines(img, [pts], True, _FALSE, thick + 1, cv2.LINE_AA, shift=3)
            # Thin diagonals: told apart from an orange pitch box without relying on colour.
            cv2.polylines(img, [pts[[0, 2]], pts[[1, 3]]], False, _FALSE, 1, cv2.LINE_AA, shift=3)
        for ring in errors.missed_rings:
            if len(ring) == 1:
                # A car the truth gives by its centre: a ring round that point, wider than the car and
                # open in the middle (a tarped car's dot is filled and smaller).
                centre = tuple(int(v) for v in np.round(ring[0, ::-1] * scale * 8))
                radius = max(4 * thick, round(MISSED_POINT_RADIUS_M / window.gsd_m * scale)) * 8
                cv2.circle(img, centre, radius, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=3)
                cv2.circle(img, centre, radius, _MISSED, thick, cv2.LINE_AA, shift=3)
                continue
            pts = np.round(ring[:, ::-1] * scale * 8).astype(np.int32)
            cv2.polylines(img, [pts], True, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=3)
            cv2.polylines(img, [pts], True, _MISSED, thick, cv2.LINE_AA, shift=3)
    when = result.acquired.strftime("%Y-%m-%d %H:%M UTC") if result.acquired else "date unknown"
    if result.acquired and result.acquired.strftime("%H:%M:%S") == "00:00:00":
        when = result.acquired.strftime("%Y-%m-%d")
    # The picture travels without the README: the interval says what it is (calibrated to hold the
    # truth nine times in ten).
    caption = (
        f"{result.station} | {when} | {result.railcars} railcars "
        f"(likely {result.railcars_low}-{result.railcars_high})"
    )
    if result.synthetic:
        # A picture travels without its count.json: say on it that the scene was generated.
        caption = f"SYNTHETIC SCENE | {caption}"
    seen = observed_note(result.observed_fraction)
    if seen:
        # The share of the station the count saw: a partly covered station's count is a floor.
        caption += f" | {seen}"
    legend = [(_CAR, "car seen apart"), (_PITCH, "car counted by pitch")]
    if (dets.method == "fill").any():
        legend.append((_FILL, "car in a hole of a consist"))
    if result.locomotives:
        plural = "s" if result.locomotives != 1 else ""
        caption += f" | {result.locomotives} locomotive{plural}"
        legend.append((_LOCO, "locomotive"))
    if unsure.any():
        # Under p 0.7: a tenth to a quarter of generated yards' boxes, half to two thirds of the false ones.
        legend.append((_UNSURE_SWATCH, f"{int(unsure.sum())} unsure (dashed): check first"))
    if tarped.size:
        legend.append((_TARP_SWATCH, "tarped load"))
    if hatched:
        legend.append((_CLOUD, "cloud: not seen"))
    if shaded:
        legend.append((_SHADE, "wide shadow (cloud, building): most cars missed"))
    if seam_rows or seam_cols:
        legend.append((_SEAM_SWATCH, "tile seam: check the boxes on it"))
    if (window.inside & ~window.data).any():
        legend.append((_NODATA, "no data: not seen"))
    if errors is not None:
        caption += f" | truth {errors.truth}: {len(errors.missed_rings)} missed, {len(errors.false)} false"
        legend += [(_MISSED, "missed (true car)"), (_FALSE, "false (no true car)")]
    note = types_note(result)
    legend.append((_STATION, "station"))
    arrow = shadow_arrow(window, result.sun)
    if arrow is not None and result.sun is not None:
        # Which way the count took the shadows to fall: set it against the shadows in the picture.
        legend.append((_SHADOW_SWATCH, _SHADOW_LABELS.get(str(result.sun.get("time_of_day")), "shadows")))
    axes = ground_axes(window)
    north = None
    if axes is not None and (length := float(np.hypot(*axes[1]))) > 0:
        north = (float(axes[1][0]) / length, float(axes[1][1]) / length)
        legend.append((_NORTH_SWATCH, "north"))
    # A picture published without its count.json still says how big a car is.
    bar = picture_scale_bar(window, scale, img.shape[1])
    if bar is not None:
        legend.append((_SCALE_SWATCH, scale_label(bar[0])))
    return _caption(
        img, caption, legend, note, caution, arrow=arrow, north=north, bar_px=0 if bar is None else bar[1]
    )


def observed_note(observed_fraction: float | None) -> str:
    """``"46% observed"`` for the caption where a count saw less of its station than would print as
    100 % (no data or opaque cloud), else ``""``: the share as the printed line gives it.

    >>> observed_note(0.4612), observed_note(0.996), observed_note(None)
    ('46% observed', '', '')
    """
    if observed_fraction is None:
        return ""
    text = f"{observed_fraction:.0%}"
    return "" if text == "100%" else f"{text} observed"


def _draw_box(
    img: np.ndarray, corners: np.ndarray, colour: tuple[int, int, int], thick: int, *, dashed: bool
) -> None:
    """One detection's outline (four corners, (x, y) picture pixels) on a black edge, solid or dashed."""
    if not dashed:
        pts = np.round(corners * 8).astype(np.int32)
        cv2.polylines(img, [pts], True, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=3)
        cv2.polylines(img, [pts], True, colour, thick, cv2.LINE_AA, shift=3)
        return
    pieces = [np.round(p * 8).astype(np.int32) for p in _dash_pieces(corners, _DASH * thick, _GAP * thick)]
    cv2.polylines(img, pieces, False, (0, 0, 0), thick + 2, cv2.LINE_AA, shift=3)
    cv2.polylines(img, pieces, False, colour, thick, cv2.LINE_AA, shift=3)


def _tarp_radius(thick: int) -> int:
    """The tarped dot's radius (picture pixels) for boxes drawn ``thick``: well inside a car's box."""
    return 2 * thick + 1


def _draw_dot(img: np.ndarray, centre: np.ndarray, radius: int) -> None:
    """The tarped marker: a white dot on a black rim at ``centre`` ((x, y) picture pixels)."""
    at = tuple(int(v) for v in np.round(centre * 8))
    cv2.circle(img, at, (radius + 2) * 8, (0, 0, 0), -1, cv2.LINE_AA, shift=3)
    cv2.circle(img, at, radius * 8, _TARP, -1, cv2.LINE_AA, shift=3)


def _dash_pieces(corners: np.ndarray, dash: float, gap: float) -> list[np.ndarray]:
    """The dashes of a closed outline through ``corners`` (k, 2): open polylines, a dash starting
    at the first corner; the pattern is stretched so that a whole number of dash-and-gap periods
    (at least four) goes round, and a dash may turn a corner."""
    ring = np.vstack([corners, corners[:1]]).astype(float)
    steps = np.diff(ring, axis=0)
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    total = float(along[-1])
    if total <= 0.0:
        return []
    n = max(4, round(total / (dash + gap)))
    period = total / n
    on = period * dash / (dash + gap)

    def point(s: float) -> np.ndarray:
        j = min(int(np.searchsorted(along, s, side="right")) - 1, len(lengths) - 1)
        t = (s - along[j]) / lengths[j] if lengths[j] > 0 else 0.0
        return ring[j] + t * steps[j]

    pieces = []
    for k in range(n):
        s0, s1 = k * period, k * period + on
        turns = [ring[j] for j in range(1, len(ring) - 1) if s0 < along[j] < s1]
        pieces.append(np.array([point(s0), *turns, point(s1)]))
    return pieces


def _segment_dashes(ends: np.ndarray, dash: float, gap: float) -> list[np.ndarray]:
    """The dashes of a straight line between ``ends`` (2, 2) ((x, y) picture pixels), a dash first.

    >>> [p.tolist() for p in _segment_dashes(np.array([[0.0, 0.0], [10.0, 0.0]]), 2.0, 3.0)]
    [[[0.0, 0.0], [2.0, 0.0]], [[5.0, 0.0], [7.0, 0.0]], [[10.0, 0.0], [10.0, 0.0]]]
    """
    start, stop = ends.astype(float)
    length = float(np.hypot(*(stop - start)))
    if length <= 0:
        return []
    step = (stop - start) / length
    return [
        np.array([start + s * step, start + min(s + dash, length) * step])
        for s in np.arange(0.0, length + 1e-9, dash + gap)
    ]


def _shade(
    img: np.ndarray, window: SceneWindow, cloud: np.ndarray | None, shade: np.ndarray | None = None
) -> tuple[bool, bool]:
    """In place on the window's BGR picture: pixels outside the station dimmed to 0.45 (truncated),
    pixels without data dark grey, opaque ``cloud`` hatched with diagonal stripes (every third
    band of four pixels) and a cloud's ``shade`` with thin stripes the other way (every eighth band
    of two pixels), both only inside the station: outside it they change no count, and there a bright
    flat roof or apron the cloud test took for cloud (*Known limitations*) only misled. Whether there
    was cloud, and shade, to hatch."""
    cv2.copyTo(cv2.LUT(img, _DIM), (~window.inside).view(np.uint8), img)  # (writes into img)
    nodata = ~window.data
    if nodata.any():
        img[nodata] = _NODATA
    drawn = []
    # The cloud's stripes cover a third of it (nothing shows through); the shadow's, thin and sparse,
    # an eighth: the cars in it are to be looked at.
    for mask, colour, sign, width, every in ((cloud, _CLOUD, 1, 4, 3), (shade, _SHADE, -1, 2, 8)):
        if mask is None or not (mask := mask & window.inside).any():
            drawn.append(False)
            continue
        rows, cols = np.nonzero(mask)  # (only the mask's pixels: it is usually a small part)
        stripe = ((rows + sign * cols) // width) % every == 0
        img[rows[stripe], cols[stripe]] = colour
        drawn.append(True)
    return drawn[0], drawn[1]


MISSED_POINT_RADIUS_M = 2.5
"""The radius of the ring the evaluation picture draws round a missed car the truth gives as a point."""


@dataclass(frozen=True)
class ErrorMarks:
    """Where a count disagrees with ground truth, for the evaluation picture."""

    truth: int
    """How many true railcars the station holds."""
    missed_rings: tuple[np.ndarray, ...]
    """Outline of each true railcar no detection matched, (k, 2) window pixels (row, col)."""
    missed_lonlat: tuple[np.ndarray, ...]
    """The same outlines as the truth gives them, (k, 2) lon/lat."""
    false: np.ndarray
    """Indices of the detections (as drawn) that matched no true railcar."""


def _grow(corners: np.ndarray, px: float) -> np.ndarray:
    """A box's four corners moved ``px`` outwards from its centre along both of its axes."""
    centre = corners.mean(axis=0)
    out = corners.astype(float).copy()
    for axis in (corners[1] - corners[0], corners[2] - corners[1]):
        unit = axis / max(float(np.hypot(*axis)), 1e-9)
        side = np.sign((corners - centre) @ unit)
        out += side[:, None] * unit[None, :] * px
    return out


def errors_geojson(
    window: SceneWindow, dets: Detections, result: CountResult, errors: ErrorMarks
) -> dict[str, Any]:
    """RFC 7946 FeatureCollection of what an evaluation found wrong, lon/lat.

    Each true railcar no detection matched (``error: missed``, its outline
    as the truth gives it) and each detection no true railcar matched
    (``error: false``, with the detection's own properties), so that they
    can be stepped through in QGIS.
    """
    feats: list[dict[str, Any]] = []
    for ring in errors.missed_lonlat:
        geometry: dict[str, Any]
        if len(ring) == 1:  # a car the truth gives by its centre
            geometry = {
                "type": "Point",
                "coordinates": [round(float(ring[0, 0]), 8), round(float(ring[0, 1]), 8)],
            }
        else:
            geometry = {"type": "Polygon", "coordinates": [_ring_coords(ring)]}
        feats.append(
            {
                "type": "Feature",
                "properties": {"error": "missed", "station": result.station},
                "geometry": geometry,
            }
        )
    detected = detections_geojson(window, dets, result)["features"]
    for i in errors.false:
        feat = detected[int(i)]
        feat["properties"] = {"error": "false", **feat["properties"]}
        feats.append(feat)
    return {"type": "FeatureCollection", "features": feats}


def write_evaluation(
    out_dir: str | Path,
    window: SceneWindow,
    dets: Detections,
    result: CountResult,
    record: dict[str, Any],
    errors: ErrorMarks,
    seams: tuple[Sequence[int], Sequence[int]] = ((), ()),
    *,
    cloud: np.ndarray | None = None,
    shade: np.ndarray | None = None,
) -> dict[str, Path]:
    """Write ``evaluation.json``, ``errors.geojson`` and ``evaluation.png`` into ``out_dir`` (``seams``:
    where the tiles of a window counted in tiles meet, as on the overlay; ``cloud`` and ``shade``:
    opaque cloud and a cloud's shadow, hatched as on the overlay)."""
    out = output_dir(out_dir)
    paths = {
        "evaluation": out / "evaluation.json",
        "errors": out / "errors.geojson",
        "picture": out / "evaluation.png",
    }
    paths["evaluation"].write_text(json.dumps(record, indent=2), encoding="utf-8")
    feats = errors_geojson(window, dets, result, errors)
    paths["errors"].write_text(json.dumps(feats), encoding="utf-8")
    if not write_png(
        paths["picture"], overlay_image(window, dets, result, cloud, errors=errors, seams=seams, shade=shade)
    ):
        raise UsageError(f"{paths['picture']}: could not write the evaluation image; check the directory")
    return paths


def types_note(result: CountResult) -> str:
    """The overlay's line of car types, "" when none: indicative, and when the file named none of its
    bands, which bands were taken for red, green and blue (types are read from colour).

    >>> from railcount.models import CountResult
    >>> r = CountResult("S", "s.tif", None, 3, 2, 4, 0, {"tank": 2, "open": 1}, 1, 1.0, 0.5, "x",
    ...                 bands=(1, 2, 3), bands_guessed=True)
    >>> types_note(r)
    'types (indicative; bands 1, 2, 3 taken for red, green, blue): 2 tank, 1 open; 1 tarped'
    """
    types = ", ".join(f"{n} {name}" for name, n in result.by_type.items() if n)
    if result.tarped:
        types += f"; {result.tarped} tarped"
    read = (
        f"indicative; bands {', '.join(map(str, result.bands))} taken for red, green, blue"
        if result.bands_guessed
        else "indicative"
    )
    return f"types ({read}): {types}" if types else ""


def write_outputs(
    out_dir: str | Path,
    window: SceneWindow,
    dets: Detections,
    result: CountResult,
    *,
    params: dict[str, Any] | None = None,
    cloud: np.ndarray | None = None,
    cautions: Sequence[str] = (),
    shown: np.ndarray | None = None,
    seams: tuple[Sequence[int], Sequence[int]] = ((), ()),
    shade: np.ndarray | None = None,
) -> dict[str, Path]:
    """Write ``detections.geojson``, ``count.json`` and ``overlay.png`` into ``out_dir``.

    ``cloud`` marks window pixels under opaque cloud (hatched on the overlay), ``shade`` those in a
    cloud's shadow (hatched the other way).
    ``cautions`` (one line each, e.g. the sun along the tracks) go into
    ``count.json`` as ``warnings`` and onto the overlay's caption. ``shown``
    is :func:`display_bgr` of the window when already made. ``seams`` are the rows and columns where
    the tiles of a window counted in tiles meet (drawn dotted on the overlay).
    """
    out = output_dir(out_dir)
    georeferenced = not is_pixel_space(window)
    paths = {
        "detections": out / ("detections.geojson" if georeferenced else "detections.csv"),
        "count": out / "count.json",
        "overlay": out / "overlay.png",
    }
    if georeferenced:
        text = json.dumps(detections_geojson(window, dets, result))
    else:
        # No real georeferencing: cars in pixel coordinates, never at a made-up place on a map.
        text = detections_csv(window, dets)
    paths["detections"].write_text(text, encoding="utf-8")
    record = result.to_dict()
    if not georeferenced:
        record["georeferenced"] = False
    if cautions:
        record["warnings"] = list(cautions)
    if params is not None:
        record["detector_params"] = params
    paths["count"].write_text(json.dumps(record, indent=2), encoding="utf-8")
    caution = caution_caption(cautions, window.gsd_m)
    picture = overlay_image(
        window, dets, result, cloud, caution=caution, shown=shown, seams=seams, shade=shade
    )
    if not write_png(paths["overlay"], picture):
        raise UsageError(f"{paths['overlay']}: could not write the overlay image; check the directory")
    return paths


PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # (OpenCV 4.11 and later; before, libpng's adaptive filters)
    PNG_OPTIONS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
"""How the pictures are saved: zlib level 1, each row stored as its difference from the row above
(PNG's "up" filter). OpenCV 5's default settings wrote the README's overlay in 4.97 MB and a 12,000 px
wide one in 93 MB; level 1 writes the same pixels in 2.58 MB and 42 MB, in as long (0.13 against
0.12 s; 2.1 against 1.9 s). The one filter for every row in place of libpng's choice per row (session
68) writes them 30-40 % faster, within 5 % of the size: the README's overlay 0.152 -> 0.089 s (2.58 ->
2.69 MB), the 4002 x 1814 px speed window's 0.39 -> 0.27 s (9.70 -> 9.12 MB), Muttenz's evaluation
picture 0.122 -> 0.080 s (2.49 -> 2.42 MB), pixel for pixel the same. Smaller pictures are quicker to
send and to put in a report's evidence pack."""


def write_png(path: str | Path, img: np.ndarray) -> bool:
    """Save a picture as PNG with :data:`PNG_OPTIONS`; False when it could not be written."""
    return bool(cv2.imwrite(str(path), img, PNG_OPTIONS))


def check_output_dir(path: str | os.PathLike[str], option: str = "--out") -> None:
    """Say in one line, before any counting, why ``path`` cannot take outputs: a file stands where it
    or a folder above it would be, or the nearest folder that exists cannot be written in. Nothing is
    created (a count that then fails leaves no empty folder behind)."""
    out = Path(path)
    probe = out
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "it is a file" if probe == out else f"{probe} is a file"
        raise UsageError(f"{out}: cannot be an output directory ({where}); choose another {option}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(
            f"{out}: cannot create output directory ({probe} cannot be written in); choose another {option}"
        )


def output_dir(path: str | Path, option: str = "--out") -> Path:
    """Create ``path`` (and its parents) for outputs, or say in one line why it cannot be."""
    out = Path(path)
    check_output_dir(out, option)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{out}: cannot create output directory ({exc.strerror}); choose another {option}"
        ) from None
    return out


_SIZE_REFERENCE = "0123456789"
"""Text in every title (its date), drawn as tall in a title face as in the built-in font."""


def _face_size(face: cv2.FontFace, height: int) -> int:
    """The size in pixels at which ``face`` draws :data:`_SIZE_REFERENCE` ``height`` pixels tall."""
    at_100 = cv2.getTextSize((0, 0), _SIZE_REFERENCE, (0, 0), face, 100)[3]
    return max(8, round(100 * height / max(at_100, 1)))


def _caption(
    img: np.ndarray,
    text: str,
    legend: list[tuple[tuple[int, int, int], str]],
    note: str = "",
    caution: str = "",
    *,
    arrow: tuple[float, float] | None = None,
    north: tuple[float, float] | None = None,
    bar_px: int = 0,
) -> np.ndarray:
    """``img`` under a black banner: the count, a colour legend, then an optional note line and an
    optional caution line (amber). The legend's shadow key is ``arrow`` (x, y), drawn as an arrow,
    its north key ``north`` likewise, and its scale key a bar ``bar_px`` long (the picture's pixels).

    The banner is added above the picture, not drawn over it, so it hides none of the station.
    Each part is wrapped onto more lines where the picture is too narrow for it (the count at its
    ``|`` separators, the legend between its keys, the note and caution between words), so nothing
    is cut off at the picture's edge."""
    font, size = cv2.FONT_HERSHEY_SIMPLEX, max(0.55, img.shape[1] / 2000)
    thick = max(1, round(size * 2))
    # The legend's keys are drawn to the text's scale past pictures 2500 px wide (a large station's
    # window at full resolution), where keys of fixed size shrank to slivers under the text.
    key_scale = max(1.0, size / _KEY_SCALE_FROM)
    (_, th), base = cv2.getTextSize(text, font, size, thick)
    line = th + base + 10
    small = 0.8 * size
    room = img.shape[1] - 16
    # A station named in letters the built-in font lacks (Korean, Greek...) is titled with a font
    # file that has them (railcount.io.fonts), its capitals as tall as the built-in font's.
    face = title_face(text)
    px = 0 if face is None else _face_size(face, cv2.getTextSize(_SIZE_REFERENCE, font, size, thick)[0][1])

    def wide(t: str, scale: float) -> int:
        return int(cv2.getTextSize(t, font, scale, thick)[0][0])

    def title_wide(t: str) -> int:
        return wide(t, size) if face is None else int(cv2.getTextSize((0, 0), t, (0, 0), face, px)[2])

    titles = _wrap(text.split(" | "), " | ", title_wide, room)

    def key_room(colour: tuple[int, int, int]) -> int:
        """Pixels from a key's left edge to its label's."""
        return bar_px + round(8 * key_scale) if colour == _SCALE_SWATCH else round(28 * key_scale)

    rows = _legend_rows(
        [key_room(colour) + round(12 * key_scale) + wide(label, small) for colour, label in legend],
        room,
        round(12 * key_scale),
    )
    extra = [
        (piece, colour)
        for t, colour in ((note, (255, 255, 255)), (caution, (0, 191, 255)))
        if t
        for piece in _wrap(t.split(" "), " ", lambda t: wide(t, small), room)
    ]
    lines = len(titles) + len(rows) + len(extra)
    picture = img
    img = np.zeros((lines * line + 8, picture.shape[1], 3), np.uint8)
    for k, t in enumerate(titles):
        org = (8, k * line + th + (7 if k == 0 else 4))
        if face is None:
            cv2.putText(img, t, org, font, size, (255, 255, 255), thick, cv2.LINE_AA)
        else:
            cv2.putText(img, t, org, (255, 255, 255), face, px)
    first_extra = len(titles) + len(rows)
    for k, (t, colour) in enumerate(extra):
        y = (first_extra + k) * line + th + 4
        cv2.putText(img, t, (8, y), font, small, colour, max(1, thick - 1), cv2.LINE_AA)
    for r, row in enumerate(rows):
        x, y = 8, (len(titles) + r) * line + th + 4
        for i in row:
            colour, label = legend[i]
            _legend_key(img, colour, x, y, th, north if colour == _NORTH_SWATCH else arrow, key_scale, bar_px)
            at = (x + key_room(colour), y)
            cv2.putText(img, label, at, font, small, (255, 255, 255), max(1, thick - 1), cv2.LINE_AA)
            x += key_room(colour) + round(12 * key_scale) + wide(label, small)
    return np.vstack([img, picture])


_KEY_SCALE_FROM = 1.25
"""The caption's text scale (a picture 2500 px wide) past which the legend's keys grow with the text."""


def _legend_key(
    img: np.ndarray,
    colour: tuple[int, int, int],
    x: int,
    y: int,
    th: int,
    arrow: tuple[float, float] | None,
    k: float = 1.0,
    bar_px: int = 0,
) -> None:
    """One legend key, left of its label, on the text line whose baseline is ``y``; ``k`` scales its
    width, lines and dashes with the text (1 up to pictures 2500 px wide). ``arrow`` is the direction
    an arrow key points (shadows, north); the scale key is a bar ``bar_px`` long."""
    mid = 11.0 * k
    line = max(2, round(2 * k))
    if colour == _SCALE_SWATCH:
        # Four segments, white and hollow in turn, with ticks at both ends: the map-maker's bar.
        top, bottom = y - th + 2 + th // 4, y - th // 4
        edges = np.round(np.linspace(x, x + bar_px, 5)).astype(int)
        for i in range(4):
            fill = -1 if i % 2 == 0 else 1
            cv2.rectangle(img, (edges[i], top), (edges[i + 1], bottom), (255, 255, 255), fill)
        for at in (edges[0], edges[-1]):
            cv2.line(img, (at, y - th + 2), (at, y), (255, 255, 255), max(1, line // 2))
    elif colour in (_SHADOW_SWATCH, _NORTH_SWATCH):
        if arrow is not None:
            centre, half = np.array([x + mid, y - th / 2 + 1]), 0.5 * max(12.0 * k, th + 2.0)
            tail = np.round((centre - half * np.array(arrow)) * 8).astype(int)
            head = np.round((centre + half * np.array(arrow)) * 8).astype(int)
            ends = (tuple(tail), tuple(head))
            ink = _STATION if colour == _SHADOW_SWATCH else (255, 255, 255)
            # The head's barbs (at 45 degrees) kept within the key's width, whichever way it points.
            tip = min(0.45, (mid - line - 1) / (2 * half * np.sqrt(0.5)))
            cv2.arrowedLine(img, *ends, ink, line, cv2.LINE_AA, shift=3, tipLength=tip)
    elif colour == _TARP_SWATCH:
        # Within the key's width (its black rim 2 px wider), clear of its label.
        _draw_dot(img, np.array([x + mid, y - th / 2 + 1]), max(3, min(th // 2 - 1, round(mid) - 3)))
    elif colour == _SEAM_SWATCH:
        key = np.array([[x + 1, y - th / 2 + 1], [x + 22 * k, y - th / 2 + 1]])
        dots = [np.round(p * 8).astype(np.int32) for p in _segment_dashes(key, 3.0 * k, 3.0 * k)]
        cv2.polylines(img, dots, False, _SEAM, line, cv2.LINE_AA, shift=3)
    elif colour == _UNSURE_SWATCH:
        right = x + round(21 * k)
        box = np.array([[x + 1, y - th + 3], [right, y - th + 3], [right, y - 1], [x + 1, y - 1]], float)
        dashes = [np.round(piece * 8).astype(np.int32) for piece in _dash_pieces(box, 5.0 * k, 3.0 * k)]
        # Light grey, not a box colour: a dashed box of any colour (apart, by pitch, a fill) is unsure.
        cv2.polylines(img, dashes, False, (210, 210, 210), line, cv2.LINE_AA, shift=3)
    else:
        cv2.rectangle(img, (x, y - th + 2), (x + round(22 * k), y), colour, -1)
        if colour == _NODATA:  # (dark grey on the black banner: outlined so that it shows)
            cv2.rectangle(img, (x, y - th + 2), (x + round(22 * k), y), (128, 128, 128), 1)


def _wrap(pieces: list[str], sep: str, width: Callable[[str], int], room: int) -> list[str]:
    """``pieces`` joined by ``sep`` into as few lines as fit ``room`` (by ``width``), greedily; a piece
    wider than ``room`` has a line of its own.

    >>> _wrap(["aa", "bbb", "c", "dddd"], " ", len, 6)
    ['aa bbb', 'c dddd']
    >>> _wrap(["aaaaaaaa", "b"], " ", len, 6)
    ['aaaaaaaa', 'b']
    """
    out: list[str] = []
    for piece in pieces:
        if out and width(out[-1] + sep + piece) <= room:
            out[-1] += sep + piece
        else:
            out.append(piece)
    return out


def _legend_rows(widths: list[int], room: int, gap: int = 12) -> list[list[int]]:
    """The legend's keys (their widths, key and label and the ``gap`` after) in rows that fit ``room``
    past the 8 px margin, greedily: each row the indices of its keys.

    >>> _legend_rows([100, 200, 300, 50], 400)
    [[0, 1], [2, 3]]
    """
    rows: list[list[int]] = []
    used = 0
    for i, w in enumerate(widths):
        # The last key's trailing gap need not fit.
        if rows and used + w - gap <= room:
            rows[-1].append(i)
            used += w
        else:
            rows.append([i])
            used = w
    return rows


def _ring_coords(ring: np.ndarray) -> list[list[float]]:
    """A lon/lat ring (k, 2), open, as GeoJSON coordinates: closed, rounded, counter-clockwise
    (RFC 7946 exterior rings)."""
    coords = [[round(float(x), 8), round(float(y), 8)] for x, y in ring[:, :2]]
    coords.append(coords[0])
    if _signed_area(coords) < 0:
        coords.reverse()
    return coords


def _signed_area(coords: list[list[float]]) -> float:
    a = np.asarray(coords)
    return 0.5 * float(np.sum(a[:-1, 0] * a[1:, 1] - a[1:, 0] * a[:-1, 1]))
