"""Read station polygons: GeoJSON, or the vector files QGIS saves (GeoPackage, Shapefile, ...).

GeoJSON is read as RFC 7946 has it (lon/lat, EPSG:4326), unless it carries
the older specification's ``crs`` member, as QGIS and GDAL write it for a
layer in a projected system: then its coordinates are taken in that system.
Any other file goes to GDAL's vector drivers through pyogrio, with the
layer's own coordinate system. Either way the stations come out in lon/lat,
which is what the loader clips scenes with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from railcount.errors import StationError
from railcount.models import Station

_AREA_TYPES = ("Polygon", "MultiPolygon")
ZERO_AREA_SHARE = 1e-9
"""A polygon filling less than this share of its bounding box is a line in floating-point disguise."""


GEOJSON_SUFFIXES = (".geojson", ".json")


def read_stations(path: str | Path) -> list[Station]:
    """Read every station in a GeoJSON file or another vector file (GeoPackage, Shapefile, ...).

    A GeoJSON file may hold a bare geometry, a Feature or a
    FeatureCollection; another file must hold one layer. Each Polygon or
    MultiPolygon feature is one station, named by its ``name`` property
    (any capitalisation; ``station-N`` when it has none).

    Parameters
    ----------
    path : str or Path
        GeoJSON with lon/lat coordinates (or a ``crs`` member naming its
        system), or a GDAL vector file with its coordinate system
        (GeoPackage, Shapefile with its ``.prj``, a zipped Shapefile, ...).

    Returns
    -------
    list of Station

    Raises
    ------
    StationError
        The file is missing, is neither GeoJSON nor a vector file GDAL reads,
        holds no polygon, or a polygon is empty, has no area or lies outside
        lon/lat bounds.
    """
    path = Path(path)
    if not path.exists():
        raise StationError(f"{path}: station file not found; pass a GeoJSON or GeoPackage polygon file")
    if path.is_file() and path.suffix.lower() not in GEOJSON_SUFFIXES and not _looks_like_json(path):
        return _read_vector_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
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


def _looks_like_json(path: Path) -> bool:
    """Whether the file starts (after white space and a byte-order mark) like a JSON object."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")


def _read_vector_file(path: Path) -> list[Station]:
    """Stations from one layer of a file GDAL's vector drivers read (through pyogrio), in lon/lat."""
    try:
        import pyogrio
        from pyogrio.errors import DataSourceError
        from pyogrio.raw import read as read_layer
    except ImportError:
        raise StationError(
            f"{path}: not GeoJSON, and reading other vector files needs pyogrio (pip install pyogrio); "
            "or save the station layer as GeoJSON"
        ) from None
    try:
        layers = pyogrio.list_layers(path)
    except DataSourceError:
        raise StationError(
            f"{path}: not a station file railcount can read (GeoJSON, GeoPackage, Shapefile or another "
            "vector format GDAL knows); save the station polygons as GeoJSON or GeoPackage"
        ) from None
    if len(layers) != 1:
        names = ", ".join(str(n) for n, _ in layers) or "none"
        raise StationError(
            f"{path}: holds {len(layers)} layers ({names}); railcount reads one: save the station "
            "layer alone (in QGIS: Export > Save Features As...)"
        )
    try:
        meta, _, wkb, fields = read_layer(path)
    except (DataSourceError, RuntimeError, ValueError) as exc:
        raise StationError(f"{path}: cannot read its layer ({exc}); save the station layer again") from None
    crs = meta.get("crs")
    features = []
    for i, blob in enumerate(wkb):
        props = {str(k): _plain(v[i]) for k, v in zip(meta["fields"], fields, strict=True)}
        geom = None if blob is None else shapely.geometry.mapping(shapely.from_wkb(blob))
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs is None:
        hint = "the layer has no coordinate system (a Shapefile without its .prj?): give it one"
        return stations_from_geojson(doc, source=str(path), no_crs_hint=hint)
    return stations_from_geojson(doc, source=str(path), crs=str(crs))


def _plain(value: Any) -> Any:
    """A field value as plain Python (numpy scalars to numbers, NaN and dates to None or text)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def stations_from_geojson(
    doc: Any, *, source: str = "<geojson>", crs: str | None = None, no_crs_hint: str | None = None
) -> list[Station]:
    """Stations from a parsed GeoJSON object (geometry, Feature or FeatureCollection), in lon/lat.

    The coordinates are lon/lat (RFC 7946) unless ``crs`` names their system,
    or the object carries a ``crs`` member (GeoJSON 2008, as GDAL writes a
    projected layer); then they are transformed to lon/lat. ``no_crs_hint``
    replaces the advice given when lon/lat coordinates are out of range."""
    if not isinstance(doc, dict) or "type" not in doc:
        raise StationError(
            f"{source}: not a GeoJSON object (no 'type'); expected a Polygon, Feature or FeatureCollection"
        )
    if crs is None and doc.get("crs") is not None:
        crs = _crs_member(doc["crs"], source)
    source_crs = None if crs is None else _source_crs(crs, source)
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
        name = str(_name_of(props) or f"station-{i + 1}")
        if source_crs is not None:
            geom_doc = _to_lonlat(geom_doc, source_crs, name, source)
        geometry = _polygon(geom_doc, name, source, no_crs_hint)
        stations.append(Station(name=name, geometry=geometry, properties=dict(props)))
    if not stations:
        raise StationError(
            f"{source}: holds no station polygon; add a Polygon feature with a 'name' property"
        )
    names = [s.name for s in stations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StationError(f"{source}: station names must be unique; repeated: {', '.join(dupes)}")
    return stations


def _name_of(props: dict[str, Any]) -> Any:
    """The ``name`` property, or failing that one named so in other capitals (``Name``, ``NAME``)."""
    if props.get("name"):
        return props["name"]
    return next((v for k, v in props.items() if str(k).lower() == "name" and v), None)


def _crs_member(member: Any, source: str) -> str:
    """The coordinate system a GeoJSON ``crs`` member names (``{"type": "name", ...}`` or the
    older ``{"type": "EPSG", "properties": {"code": N}}``)."""
    props = member.get("properties") if isinstance(member, dict) else None
    if isinstance(props, dict):
        if member.get("type") == "name" and isinstance(props.get("name"), str):
            return str(props["name"])
        if str(member.get("type")).upper() == "EPSG" and props.get("code") is not None:
            return f"EPSG:{props['code']}"
    raise StationError(
        f"{source}: its 'crs' member {json.dumps(member)[:80]} names no coordinate system railcount "
        "can read; save the stations in lon/lat (EPSG:4326) and drop the member"
    )


def _source_crs(crs: str, source: str) -> Any:
    """The rasterio CRS of ``crs``, or None where it is lon/lat on WGS 84 (no transform needed)."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        with rasterio.Env():  # GDAL's own messages go to rasterio's logger, not to stderr
            parsed = CRS.from_user_input(crs)
    except CRSError:
        raise StationError(
            f"{source}: coordinate system {crs[:80]!r} is not one GDAL knows; save the stations in "
            "lon/lat (EPSG:4326)"
        ) from None
    if parsed.to_epsg() == 4326 or parsed.to_string() == "OGC:CRS84":
        return None
    return parsed


def _to_lonlat(geom_doc: dict[str, Any], crs: Any, name: str, source: str) -> dict[str, Any]:
    """A GeoJSON geometry transformed from ``crs`` to lon/lat."""
    import rasterio
    from rasterio.warp import transform_geom

    try:
        with rasterio.Env():
            return dict(transform_geom(crs, "EPSG:4326", geom_doc))
    except Exception as exc:  # GDAL's errors here are of several kinds, all of them bad coordinates
        raise StationError(
            f"{source}: station {name!r} cannot be transformed from {crs} to lon/lat ({exc}); "
            "check its coordinates and coordinate system"
        ) from None


def _polygon(
    geom_doc: dict[str, Any], name: str, source: str, no_crs_hint: str | None = None
) -> Polygon | MultiPolygon:
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
        if no_crs_hint is not None:
            advice = no_crs_hint
        else:
            advice = (
                "GeoJSON stations must be in longitude/latitude (EPSG:4326), or name their coordinate "
                "system in a 'crs' member (as QGIS writes it)"
            )
            if -90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180:
                advice += "; they look like latitude, longitude: swap them (GeoJSON wants lon, lat)"
        raise StationError(
            f"{source}: station {name!r} has coordinates outside lon/lat range "
            f"(bounds {minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}); {advice}"
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
