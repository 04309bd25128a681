"""Read station polygons from GeoJSON (RFC 7946: lon/lat, EPSG:4326)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from railcount.errors import StationError
from railcount.models import Station

_AREA_TYPES = ("Polygon", "MultiPolygon")
ZERO_AREA_SHARE = 1e-9
"""A polygon filling less than this share of its bounding box is a line in floating-point disguise."""


def read_stations(path: str | Path) -> list[Station]:
    """Read every station in a GeoJSON file.

    The file may hold a bare geometry, a Feature or a FeatureCollection. Each
    Polygon or MultiPolygon feature is one station, named by its ``name``
    property (or ``station-N`` when it has none).

    Parameters
    ----------
    path : str or Path
        GeoJSON file with lon/lat coordinates.

    Returns
    -------
    list of Station

    Raises
    ------
    StationError
        The file is missing, is not GeoJSON, holds no polygon, or a polygon
        is empty, has no area or lies outside lon/lat bounds.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StationError(f"{path}: station file not found; pass a GeoJSON polygon file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StationError(
            f"{path}: cannot read station file ({exc}); check the path and permissions"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StationError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the station file must be GeoJSON"
        ) from None
    return stations_from_geojson(doc, source=str(path))


def stations_from_geojson(doc: Any, *, source: str = "<geojson>") -> list[Station]:
    """Stations from a parsed GeoJSON object (geometry, Feature or FeatureCollection)."""
    if not isinstance(doc, dict) or "type" not in doc:
        raise StationError(
            f"{source}: not a GeoJSON object (no 'type'); expected a Polygon, Feature or FeatureCollection"
        )
    kind = doc["type"]
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise StationError(f"{source}: FeatureCollection has no 'features' list")
    elif kind == "Feature":
        features = [doc]
    elif kind in _AREA_TYPES:
        features = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise StationError(
            f"{source}: GeoJSON type {kind!r} is not a station; expected a Polygon or MultiPolygon"
        )

    stations: list[Station] = []
    for i, feat in enumerate(features):
        if not isinstance(feat, dict):
            raise StationError(f"{source}: feature {i} is not a JSON object")
        props = feat.get("properties") or {}
        geom_doc = feat.get("geometry")
        if not isinstance(geom_doc, dict) or geom_doc.get("type") not in _AREA_TYPES:
            got = geom_doc.get("type") if isinstance(geom_doc, dict) else geom_doc
            raise StationError(
                f"{source}: feature {i} has geometry {got!r}; stations must be Polygon or MultiPolygon"
            )
        name = str(props.get("name") or f"station-{i + 1}")
        stations.append(Station(name=name, geometry=_polygon(geom_doc, name, source), properties=dict(props)))
    if not stations:
        raise StationError(
            f"{source}: holds no station polygon; add a Polygon feature with a 'name' property"
        )
    names = [s.name for s in stations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StationError(f"{source}: station names must be unique; repeated: {', '.join(dupes)}")
    return stations


def _polygon(geom_doc: dict[str, Any], name: str, source: str) -> Polygon | MultiPolygon:
    try:
        geom = shape(geom_doc)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise StationError(f"{source}: station {name!r} has malformed coordinates ({exc})") from None
    if geom.is_empty:
        raise StationError(f"{source}: station {name!r} is empty; give it at least three corners")
    distinct = {tuple(c) for poly in getattr(geom, "geoms", [geom]) for c in poly.exterior.coords}
    if len(distinct) < 3:
        raise StationError(f"{source}: station {name!r} has zero area (fewer than three distinct corners)")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        hint = ""
        if -90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180:
            hint = "; they look like latitude, longitude: swap them (GeoJSON wants lon, lat)"
        raise StationError(
            f"{source}: station {name!r} has coordinates outside lon/lat range "
            f"(bounds {minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}); "
            f"GeoJSON stations must be in longitude/latitude (EPSG:4326){hint}"
        )
    if not geom.is_valid:
        reason = explain_validity(geom)
        repaired = shapely.make_valid(geom)
        polys = [g for g in getattr(repaired, "geoms", [repaired]) if g.geom_type in _AREA_TYPES]
        geom = shapely.union_all(polys) if polys else Polygon()
        if geom.is_empty or geom.area == 0:
            raise StationError(
                f"{source}: station {name!r} is an invalid polygon ({reason}) and cannot be repaired"
            )
    minx, miny, maxx, maxy = geom.bounds
    if geom.area <= ZERO_AREA_SHARE * (maxx - minx) * (maxy - miny) or geom.area < 1e-16:
        raise StationError(
            f"{source}: station {name!r} has zero area (its corners lie on a line or on top of each "
            "other); give it at least three corners that enclose the yard"
        )
    return geom
