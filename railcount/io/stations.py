"""Read station polygons: GeoJSON, or the vector files QGIS saves (GeoPackage, Shapefile, ...).

GeoJSON is read as RFC 7946 has it (lon/lat, EPSG:4326), unless it carries
the older specification's ``crs`` member, as QGIS and GDAL write it for a
layer in a projected system: then its coordinates are taken in that system.
Any other file goes to GDAL's vector drivers through pyogrio, with the
layer's own coordinate system. Either way the stations come out in lon/lat,
which is what the loader clips scenes with.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from railcount.errors import StationError, StationRepairedWarning
from railcount.io.vectors import doc_crs, read_vector_doc, source_crs, to_lonlat
from railcount.models import RAILCAR_TYPES, Station

_AREA_TYPES = ("Polygon", "MultiPolygon")
ZERO_AREA_SHARE = 1e-9
"""A polygon filling less than this share of its bounding box is a line in floating-point disguise."""


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
    doc, crs, hint = read_vector_doc(path, what="station", error=StationError)
    return stations_from_geojson(doc, source=str(path), crs=crs, no_crs_hint=hint)


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
    if crs is None:
        crs = doc_crs(doc, source, StationError)
    from_crs = None if crs is None else source_crs(crs, source, StationError)
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
            if isinstance(geom_doc, dict) and "type" not in geom_doc:
                raise StationError(
                    f"{source}: feature {i}'s geometry has no 'type'; give it "
                    '"type": "Polygon" (or "MultiPolygon") beside its coordinates'
                )
            got = geom_doc.get("type") if isinstance(geom_doc, dict) else geom_doc
            raise StationError(
                f"{source}: feature {i} has geometry {got!r}; stations must be Polygon or MultiPolygon"
            )
        name = str(_name_of(props) or f"station-{i + 1}")
        if from_crs is not None:
            _refuse_degrees_as_metres(geom_doc, from_crs, name, source)
            geom_doc = to_lonlat(geom_doc, from_crs, f"station {name!r}", source, StationError)
        geometry = _polygon(geom_doc, name, source, no_crs_hint)
        stations.append(Station(name=name, geometry=geometry, properties=dict(props)))
    if not stations:
        raise StationError(
            f"{source}: holds no station polygon; add a Polygon feature with a 'name' property"
        )
    if all(_marks_stock(s.properties) for s in stations):
        raise StationError(
            f"{source}: its {len(stations)} polygon{'s are' if len(stations) > 1 else ' is'} marked as "
            "rolling stock ('is_railcar', or a class such as 'flat' or 'wagon'), so it looks like a truth "
            "file, not stations; give --station the polygons drawn around the tracks, and this file to "
            "railcount evaluate --truth"
        )
    names = [s.name for s in stations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StationError(f"{source}: station names must be unique; repeated: {', '.join(dupes)}")
    return stations


STOCK_CLASSES = (*RAILCAR_TYPES, "railcar", "wagon", "locomotive")
"""Values of a ``class`` or ``kind`` property that mark a polygon as one car of a truth file
(railcount's own, as ``railcount synth`` writes it, or a wagon outlined by hand), not a station."""


def _marks_stock(props: dict) -> bool:
    """Whether a polygon's properties mark it as rolling stock: an ``is_railcar`` property, or a
    ``class`` or ``kind`` among :data:`STOCK_CLASSES`."""
    if "is_railcar" in props:
        return True
    return any(str(props.get(key) or "").strip().lower() in STOCK_CLASSES for key in ("class", "kind"))


OUTLINE_TOLERANCE_DEG = 1e-7
"""Two outlines whose corners lie within this (about a centimetre) are the same station outline."""


def outline_text(station: Station) -> str:
    """A station's outline as the batch's store keeps it with every count: normalised WKT (rings
    and corners in a canonical order), lon/lat to 8 decimals (about a millimetre)."""
    return str(shapely.to_wkt(shapely.normalize(station.geometry), rounding_precision=8))


def same_outline(text: str, station: Station) -> bool:
    """Whether an outline kept by :func:`outline_text` is ``station``'s, to
    :data:`OUTLINE_TOLERANCE_DEG`: a polygon saved again (in another coordinate system, format or
    vertex order) is the same; one with a corner moved, a hole cut or a part added is not."""
    try:
        kept = shapely.from_wkt(text)
    except shapely.errors.GEOSException:
        return False
    return bool(kept.equals_exact(shapely.normalize(station.geometry), OUTLINE_TOLERANCE_DEG))


def _name_of(props: dict[str, Any]) -> Any:
    """The ``name`` property, or failing that one named so in other capitals (``Name``, ``NAME``)."""
    if props.get("name"):
        return props["name"]
    return next((v for k, v in props.items() if str(k).lower() == "name" and v), None)


def _refuse_degrees_as_metres(geom_doc: dict[str, Any], crs: Any, name: str, source: str) -> None:
    """A station whose file names a projected 'crs' but whose corners read as lon/lat, all within a
    unit of each other (a yard under a metre across), was written in lon/lat with a wrong 'crs' member:
    say so of the file, not later of the scene ("does not overlap")."""
    if not getattr(crs, "is_projected", False):
        return
    try:
        minx, miny, maxx, maxy = shape(geom_doc).bounds
    except Exception:  # malformed coordinates are said where they are parsed
        return
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90 and max(maxx - minx, maxy - miny) < 1:
        raise StationError(
            f"{source}: station {name!r} has lon/lat-like coordinates (bounds {minx:.6g}, {miny:.6g}, "
            f"{maxx:.6g}, {maxy:.6g}), but the file's 'crs' member says {crs}, in metres: a yard under "
            "a metre across; delete the 'crs' member (GeoJSON is lon/lat) or write the coordinates in "
            "that system"
        )


def _polygon(
    geom_doc: dict[str, Any], name: str, source: str, no_crs_hint: str | None = None
) -> Polygon | MultiPolygon:
    try:
        # Heights (GeoJSON's optional third coordinate; KML always has one) say nothing of the outline.
        geom = shapely.force_2d(shape(geom_doc))
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
        parts = len(getattr(geom, "geoms", [geom]))
        warnings.warn(
            StationRepairedWarning(
                f"{source}: station {name!r} is an invalid polygon ({reason}); it was repaired into "
                f"{parts} part{'s' if parts > 1 else ''}, and that is the area counted: check it on the "
                "overlay, and fix the outline (QGIS: Vector > Geometry Tools > Check Validity)"
            ),
            stacklevel=2,
        )
    minx, miny, maxx, maxy = geom.bounds
    if geom.area <= ZERO_AREA_SHARE * (maxx - minx) * (maxy - miny) or geom.area < 1e-16:
        raise StationError(
            f"{source}: station {name!r} has zero area (its corners lie on a line or on top of each "
            "other); give it at least three corners that enclose the yard"
        )
    return geom
