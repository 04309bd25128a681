"""Read ground-truth railcar footprints (GeoJSON, GeoPackage, Shapefile) into a window's pixel frame."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rasterio.warp import transform as warp_points
from shapely.geometry import MultiPoint

from railcount.errors import UsageError
from railcount.io.scenes import WGS84
from railcount.io.vectors import doc_crs, read_vector_doc, source_crs, to_lonlat
from railcount.models import SceneWindow, Station, apply_affine


def truth_centres(path: str | os.PathLike[str], window: SceneWindow) -> np.ndarray:
    """Centres, as (row, col) window pixels, of the true railcars counted in ``window``'s station.

    See :func:`truth_cars`.
    """
    return truth_cars(path, window)[0]


def truth_locomotives(path: str | os.PathLike[str], window: SceneWindow) -> np.ndarray:
    """Centres (row, col window pixels) of the true locomotives in ``window``'s station (same rules)."""
    return truth_stock(path, window).locomotives


def truth_cars(path: str | os.PathLike[str], window: SceneWindow) -> tuple[np.ndarray, np.ndarray]:
    """Centres (row, col window pixels) and classes of the true railcars in ``window``'s station.

    See :func:`truth_stock`.
    """
    stock = truth_stock(path, window)
    return stock.cars, stock.classes


class Stock(NamedTuple):
    """The true rolling stock of a station, in window pixels (row, col)."""

    cars: np.ndarray  # railcar centres, (n, 2)
    classes: np.ndarray  # railcar classes ("tank", "covered", "open", "flat", ...), (n,)
    tarped: np.ndarray  # railcars whose load is under a tarp, bool (n,)
    locomotives: np.ndarray  # locomotive centres, (m, 2)
    rings: tuple[np.ndarray, ...] = ()  # each railcar's outline, (k, 2) window pixels (row, col)
    rings_lonlat: tuple[np.ndarray, ...] = ()  # the same outlines as given, (k, 2) lon/lat
    repeats: tuple[tuple[int, int], ...] = ()  # (kept, left out): features numbered from 0, see REPEAT_M


REPEAT_M = 2.0
"""Two true railcars (or two locomotives) whose centres lie closer than this, in metres, are one car
drawn twice: no two cars stand so close (neighbouring tracks are 4.5 m or more apart, and coupled
cars 10 m or more from centre to centre). The later outline is left out, and the pair is reported.
Hand-drawn truth has such repeats: Muttenz west's 45 outlines are 43 wagons."""


def truth_features(path: str | os.PathLike[str]) -> list[dict]:
    """The features of a truth file, in lon/lat, or a one-line error that says what is wrong.

    The file is a GeoJSON FeatureCollection (lon/lat, or in the system its ``crs`` member names, as
    QGIS writes a projected layer), or one layer of a GeoPackage, Shapefile or another file GDAL
    reads, in its layer's system (:mod:`railcount.io.vectors`): cars outlined in QGIS can be
    passed as saved. Railcars and locomotives are transformed to lon/lat; other features are
    passed on as they are.
    """
    path = Path(path)
    doc, crs, no_crs_hint = read_vector_doc(path, what="truth", error=UsageError)
    try:
        feats = doc["features"]
        if not isinstance(feats, list):
            raise TypeError("features is not a list")
    except (KeyError, TypeError) as exc:
        raise UsageError(
            f"{path}: not a GeoJSON FeatureCollection ({exc}); pass the true cars as a FeatureCollection "
            "of polygons (lon/lat, or a GeoPackage or Shapefile layer)"
        ) from None
    if crs is None:
        crs = doc_crs(doc, str(path), UsageError)
    from_crs = None if crs is None else source_crs(crs, str(path), UsageError)
    if from_crs is not None:
        feats = [_to_lonlat_if_stock(f, k, from_crs, path) for k, f in enumerate(feats)]
    _check_lonlat_polygons(path, feats, no_crs_hint)
    return feats


_REPROJECT = "reproject it to lon/lat (EPSG:4326), e.g. ogr2ogr -t_srs EPSG:4326 truth_lonlat.geojson"


def _to_lonlat_if_stock(feat: Any, k: int, crs: Any, path: Path) -> Any:
    """A railcar or locomotive feature with its polygon transformed from ``crs`` to lon/lat; any
    other feature, or one that is not a polygon (left for :func:`_check_lonlat_polygons` to refuse),
    as it is."""
    if not isinstance(feat, dict):
        return feat
    car, loco = _kind(feat.get("properties") or {})
    geom = feat.get("geometry")
    if not (car or loco) or not isinstance(geom, dict) or geom.get("type") not in STOCK_GEOMETRIES:
        return feat
    return {**feat, "geometry": to_lonlat(geom, crs, f"feature {k}", str(path), UsageError)}


def _check_lonlat_polygons(path: Path, feats: list, no_crs_hint: str | None = None) -> None:
    """A one-line error unless every railcar and locomotive of ``feats`` is a polygon in lon/lat.

    GeoJSON is lon/lat (RFC 7946); a file written in a projected system that does not say so (metre
    coordinates with no ``crs`` member) would otherwise put every car off the map, or fail deep in
    the reprojection. Other features (look-alikes, notes) are not read, so not checked.
    ``no_crs_hint`` replaces the advice for a layer that names no coordinate system.
    """
    for k, f in enumerate(feats):
        if not isinstance(f, dict):
            raise UsageError(f"{path}: feature {k} is not a GeoJSON Feature; give each car as a Feature")
        car, loco = _kind(f.get("properties") or {})
        if not (car or loco):
            continue
        geom = f.get("geometry") or {}
        kind = geom.get("type") if isinstance(geom, dict) else None
        try:
            if kind not in STOCK_GEOMETRIES:
                raise ValueError
            xy = _outer_ring(geom)
            if len(xy) < (1 if kind == "Point" else 3):
                raise ValueError
        except (ValueError, TypeError, KeyError, IndexError):
            raise UsageError(
                f"{path}: feature {k} is not a polygon or a point ({kind or 'no geometry'}); outline each "
                "car as a Polygon, or mark its centre with a Point, in lon/lat"
            ) from None
        far = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90) | ~np.isfinite(xy).all(axis=1)
        if far.any():
            x, y = xy[far][0]
            advice = no_crs_hint or (
                "GeoJSON truth must be lon/lat or name its system in a 'crs' member: "
                f"{_REPROJECT} {path.name}"
            )
            raise UsageError(
                f"{path}: feature {k} has coordinates outside longitude/latitude ({x:.6g}, {y:.6g}); {advice}"
            )
        span = _span_m(xy)
        if span > MAX_STOCK_M:
            raise UsageError(
                f"{path}: feature {k} is {span:,.0f} m across, larger than any railcar or locomotive "
                f"(at most {MAX_STOCK_M:g} m): is it the station's outline? give each true car as its own "
                "polygon, or a point on its centre"
            )


M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
"""Metres in a degree of latitude, and of longitude at the equator (times the cosine of the latitude
elsewhere): near enough for the truth file's size and distance checks."""

NEAR_STATION_M = 1000.0
"""A truth file none of whose cars lies this near any of the stations (metres) is another place's."""


def check_truth_near(path: str | os.PathLike[str], feats: list[dict], stations: Sequence[Station]) -> None:
    """A one-line error when ``feats`` (a truth file's, :func:`truth_features`) hold railcars or
    locomotives and none lies within :data:`NEAR_STATION_M` of any of ``stations``: the truth of
    another station or scene, which would otherwise read as "truth 0" and every box false. A file with
    no cars (an empty yard's truth) and one whose cars lie near a station but outside it pass."""
    centres = [
        _outer_ring(f["geometry"])[:-1].mean(axis=0) for f in feats if any(_kind(f.get("properties") or {}))
    ]
    if not centres or not stations:
        return
    xy = np.asarray(centres)
    # Degrees to metres by the shortest degree (of longitude at the stations' highest latitude, or of
    # latitude): the distance is never overstated, so a truth beside a station is never refused.
    lat = max(max(abs(s.geometry.bounds[1]), abs(s.geometry.bounds[3])) for s in stations)
    metres_per_deg = max(min(M_PER_DEG_LAT, M_PER_DEG_LON * float(np.cos(np.radians(min(lat, 90.0))))), 1.0)
    pts = MultiPoint([tuple(p) for p in xy])
    nearest = min(s.geometry.distance(pts) for s in stations) * metres_per_deg
    if nearest > NEAR_STATION_M:
        where = f"{xy[:, 0].mean():.4f}, {xy[:, 1].mean():.4f}"
        raise UsageError(
            f"{path}: none of its {len(xy)} cars lies within {NEAR_STATION_M / 1000:g} km of the "
            f"station{'s' if len(stations) > 1 else ''} (the nearest is {nearest / 1000:,.0f} km away; the "
            f"cars centre on lon/lat {where}): is it the truth of another station or scene? give this "
            "scene's truth"
        )


MAX_STOCK_M = 100.0
"""No railcar or locomotive outline is longer than this, in metres (the longest cars, five-unit
articulated container sets, are about 93 m): a truth feature larger than it is something else, most
often the station polygon passed as the truth, which would otherwise count as one true car."""


def _span_m(ring: np.ndarray) -> float:
    """The diagonal, in metres, of a lon/lat ring's bounding box in a local east/north frame (about
    its length for a car's thin outline, whatever its bearing)."""
    lon0, lat0 = ring[0]
    east = ((ring[:, 0] - lon0 + 180.0) % 360.0 - 180.0) * M_PER_DEG_LON * np.cos(np.radians(lat0))
    north = (ring[:, 1] - lat0) * M_PER_DEG_LAT
    return float(np.hypot(np.ptp(east), np.ptp(north)))


STOCK_GEOMETRIES = ("Polygon", "MultiPolygon", "Point")
"""How a true car may be given: its outline, or a point on its centre (quicker to mark by hand; the
evaluation matches centres, and a point's missed car is drawn as a ring round it)."""


def _outer_ring(geom: dict) -> np.ndarray:
    """The outer ring of a Polygon, or of a MultiPolygon's first polygon: (k, 2) lon/lat, the closing
    vertex included; a Point as a ring of that one vertex, closed: (2, 2)."""
    if geom["type"] == "Point":
        xy = np.asarray(geom["coordinates"], dtype=float)[:2].reshape(1, 2)
        return np.vstack([xy, xy])
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return np.asarray(polys[0][0], dtype=float)[:, :2]


def _kind(props: dict) -> tuple[bool, bool]:
    """(railcar, locomotive) for a truth feature's properties; see :func:`stock_in_window`."""
    loco = "locomotive" in (props.get("class"), props.get("kind"))
    car = _flag(props["is_railcar"], missing=True) if "is_railcar" in props else not loco
    return car, loco


def _flag(value: Any, *, missing: bool = False) -> bool:
    """A yes/no property as written by GeoJSON (true/false), or by a GeoPackage or Shapefile, which
    keep it as 1/0 or as text ("true", "no", ...); ``missing`` for null."""
    if value is None:
        return missing
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "f", "no", "n")
    return bool(value)


def truth_stock(path: str | os.PathLike[str], window: SceneWindow) -> Stock:
    """The true rolling stock of a truth file in ``window``'s station; see :func:`stock_in_window`."""
    return stock_in_window(truth_features(path), window)


def stock_in_window(feats: list[dict], window: SceneWindow) -> Stock:
    """Railcar centres, classes and tarped flags, and locomotive centres (row, col window pixels).

    Features count when they are observable (not flagged ``hidden_by_cloud``
    or ``in_nodata``) and their centre lies inside the station polygon
    (decided here, in the window's pixels, with the same rule the detector's
    count uses). Railcars are those with ``is_railcar`` true, or no such
    property and ``class``/``kind`` not ``locomotive``; locomotives are those
    whose ``class`` or ``kind`` is ``locomotive``. A railcar or locomotive
    centred within :data:`REPEAT_M` of an earlier one of its kind is that car
    drawn again: it is left out, and the pair is listed in ``repeats``.
    ``feats`` are a truth file's features (:func:`truth_features`).
    """
    lonlat, rings, classes, tarped, is_car, is_loco, number = [], [], [], [], [], [], []
    for k, f in enumerate(feats):
        props = f.get("properties") or {}
        # Cars under opaque cloud or in nodata cannot be seen, so they are not counted.
        if _flag(props.get("hidden_by_cloud")) or _flag(props.get("in_nodata")):
            continue
        car, loco = _kind(props)
        if not (car or loco):
            continue
        ring = _outer_ring(f["geometry"])[:-1]
        lonlat.append(ring.mean(axis=0))
        rings.append(ring)
        classes.append(str(props.get("class") or props.get("kind") or "railcar"))
        tarped.append(_flag(props.get("tarped")))
        is_car.append(car)
        is_loco.append(loco)
        number.append(k)
    if not lonlat:
        return Stock(np.zeros((0, 2)), np.zeros(0, dtype="<U10"), np.zeros(0, bool), np.zeros((0, 2)))
    ll = np.asarray(lonlat)
    mx, my = warp_points(WGS84, window.crs, ll[:, 0].tolist(), ll[:, 1].tolist())
    cols, rows = apply_affine(~window.transform, np.asarray(mx), np.asarray(my))
    rc = np.column_stack([rows, cols])
    r = np.round(rows).astype(int)
    c = np.round(cols).astype(int)
    ok = (r >= 0) & (r < window.shape[0]) & (c >= 0) & (c < window.shape[1])
    inside = np.zeros(len(rc), dtype=bool)
    inside[ok] = window.inside[r[ok], c[ok]]
    cars = inside & np.asarray(is_car)
    locos = inside & np.asarray(is_loco)
    repeats = _leave_out_repeats(rc, cars, REPEAT_M / window.gsd_m, number)
    repeats += _leave_out_repeats(rc, locos, REPEAT_M / window.gsd_m, number)
    # Every outline's vertices in one transform, then split back per car.
    kept = [rings[i] for i in np.flatnonzero(cars)]
    rings_px: tuple[np.ndarray, ...] = ()
    if kept:
        allv = np.concatenate(kept)
        vx, vy = warp_points(WGS84, window.crs, allv[:, 0].tolist(), allv[:, 1].tolist())
        vc, vr = apply_affine(~window.transform, np.asarray(vx), np.asarray(vy))
        split = np.cumsum([len(k) for k in kept])[:-1]
        rings_px = tuple(np.split(np.column_stack([vr, vc]), split))
    return Stock(
        rc[cars],
        np.asarray(classes, dtype="<U10")[cars],
        np.asarray(tarped)[cars],
        rc[locos],
        rings_px,
        tuple(kept),
        tuple(sorted(repeats, key=lambda pair: pair[1])),
    )


def _leave_out_repeats(
    rc: np.ndarray, chosen: np.ndarray, radius_px: float, number: list[int]
) -> list[tuple[int, int]]:
    """Clear ``chosen`` (in place) where a centre lies within ``radius_px`` of an earlier chosen one;
    return the (kept, left out) feature numbers of each such pair."""
    pairs = []
    kept: list[int] = []
    for i in np.flatnonzero(chosen):
        if kept:
            d = np.hypot(*(rc[kept] - rc[i]).T)
            j = int(d.argmin())
            if d[j] < radius_px:
                chosen[i] = False
                pairs.append((number[kept[j]], number[i]))
                continue
        kept.append(int(i))
    return pairs
