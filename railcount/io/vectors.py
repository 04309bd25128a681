"""Polygon files as a person saves them, turned into lon/lat GeoJSON: station polygons and truth.

Analysts draw station outlines and label cars in QGIS, whose default for a
new layer is a GeoPackage in the project's coordinate system, and whose
GeoJSON export of a projected layer carries the older specification's
``crs`` member. RFC 7946 GeoJSON is lon/lat; everything else is brought to
it here, at the edge, so the rest of railcount sees lon/lat only:

* GeoJSON is parsed as JSON; a ``crs`` member names the system its
  coordinates are in (:func:`crs_member`), and they are transformed.
* Any other file (GeoPackage, Shapefile with its ``.prj``, a zipped
  Shapefile, ...) is read through GDAL's vector drivers (pyogrio), one
  layer, in the layer's own system.

Every failure is the caller's one-line error (``error``), naming the file
and saying what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely

from railcount.errors import UsageError

GEOJSON_SUFFIXES = (".geojson", ".json")


class VectorDoc(NamedTuple):
    """A polygon file read as a GeoJSON object, in its own coordinates."""

    doc: Any
    crs: str | None
    """The layer's coordinate system (None for GeoJSON, whose ``crs`` member stays in ``doc``: see
    :func:`doc_crs`, and for a layer that names none)."""
    no_crs_hint: str | None
    """What to do about coordinates out of lon/lat range: :data:`NO_CRS_HINT` for a layer with no
    coordinate system, None (the reader's own advice) otherwise."""


def read_vector_doc(path: Path, *, what: str, error: type[UsageError]) -> VectorDoc:
    """The file as a GeoJSON object in its own coordinates (:class:`VectorDoc`).

    A GeoJSON file's ``crs`` member is left in the object (see :func:`doc_crs`); a layer read
    through GDAL comes back as a FeatureCollection with its layer's system. ``what`` names the file
    in messages ("station", "truth").

    A layer of a file with several is named as QGIS names a layer's source:
    ``project.gpkg|layername=stations``. Without a name, a file whose layers hold one of the
    geometries ``what`` needs (polygons for a station; polygons or points for truth) in only one of
    them reads that one.
    """
    path, layer = split_layer(path)
    if not path.exists():
        raise error(f"{path}: {what} file not found; check the path")
    if layer is not None or (
        path.is_file() and path.suffix.lower() not in GEOJSON_SUFFIXES and not looks_like_json(path)
    ):
        return read_layer(path, what=what, error=error, layer=layer)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise error(
            f"{path}: cannot read the {what} file ({reason}); check the path and permissions"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            f"the {what} file must be GeoJSON, a GeoPackage or a Shapefile"
        ) from None
    return VectorDoc(doc, None, None)


LAYER_MARK = "|layername="
"""How QGIS names one layer of a file in a layer's source (``project.gpkg|layername=stations``)."""


def split_layer(path: Path | str) -> tuple[Path, str | None]:
    """The file and the layer named after :data:`LAYER_MARK` (None when no layer is named)."""
    text = str(path)
    if LAYER_MARK not in text:
        return Path(path), None
    file, _, rest = text.partition(LAYER_MARK)
    return Path(file), rest.split("|")[0]


def looks_like_json(path: Path) -> bool:
    """Whether the file starts (after white space and a byte-order mark) like a JSON object."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")


NO_CRS_HINT = "the layer has no coordinate system (a Shapefile without its .prj?): give it one"
"""What to do about a layer with no coordinate system whose coordinates are not lon/lat."""


WANTED_GEOMETRIES = {
    "station": ("Polygon", "MultiPolygon"),
    "truth": ("Polygon", "MultiPolygon", "Point"),
}
"""The layer geometry types each kind of file is read for (as GDAL names them, any Z or M dropped)."""


def read_layer(path: Path, *, what: str, error: type[UsageError], layer: str | None = None) -> VectorDoc:
    """One layer of a file GDAL's vector drivers read, as a FeatureCollection in its own
    coordinates, and its coordinate system (None where it has none): ``layer``, or the file's only
    layer, or its only layer of the geometries ``what`` needs (:data:`WANTED_GEOMETRIES`)."""
    try:
        import pyogrio
        from pyogrio.errors import DataSourceError
        from pyogrio.raw import read as read_raw
    except ImportError:
        raise error(
            f"{path}: not GeoJSON, and reading other vector files needs pyogrio (pip install pyogrio); "
            f"or save the {what} layer as GeoJSON"
        ) from None
    try:
        layers = pyogrio.list_layers(path)
    except DataSourceError:
        if path.suffix.lower() == ".shp":  # a Shapefile is several files; say which one is missing
            missing = [s for s in (".shx", ".dbf") if not path.with_suffix(s).exists()]
            if missing:
                raise error(
                    f"{path}: a Shapefile without its {' and '.join(missing)} beside it (a Shapefile is "
                    f"several files of one name); copy all of them, or save the {what} layer as GeoJSON "
                    "or GeoPackage"
                ) from None
        raise error(
            f"{path}: not a {what} file railcount can read (GeoJSON, GeoPackage, Shapefile or another "
            f"vector format GDAL knows); save the {what} polygons as GeoJSON or GeoPackage"
        ) from None
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise error(
                f"{path}: has no layer {layer!r} (it holds {', '.join(names) or 'none'}); "
                f"name one of them after {LAYER_MARK.strip('=')}="
            )
    elif len(layers) == 1:
        layer = names[0]
    else:
        wanted = WANTED_GEOMETRIES.get(what, ())
        fitting = [str(n) for n, kind in layers if _base_geometry(str(kind)) in wanted]
        if len(fitting) != 1:
            raise error(
                f"{path}: holds {len(layers)} layers ({', '.join(names) or 'none'}); name the {what} "
                f"layer as QGIS does, {path.name}{LAYER_MARK}NAME, or save it alone (in QGIS: Export > "
                "Save Features As...)"
            )
        layer = fitting[0]
    try:
        meta, _, wkb, fields = read_raw(path, layer=layer)
    except (DataSourceError, RuntimeError, ValueError) as exc:
        raise error(f"{path}: cannot read its layer ({exc}); save the {what} layer again") from None
    features = []
    for i, blob in enumerate(wkb):
        props = {str(k): plain(v[i]) for k, v in zip(meta["fields"], fields, strict=True)}
        geom = None if blob is None else shapely.geometry.mapping(shapely.from_wkb(blob))
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    crs = meta.get("crs")
    doc = {"type": "FeatureCollection", "features": features}
    return VectorDoc(doc, None, NO_CRS_HINT) if crs is None else VectorDoc(doc, str(crs), None)


def _base_geometry(kind: str) -> str:
    """A GDAL layer geometry type without its dimensions: "Polygon Z" and "3D Polygon" are "Polygon"."""
    return kind.replace("3D ", "").split(" ")[0]


def plain(value: Any) -> Any:
    """A field value as plain JSON (numpy scalars to numbers; NaN to None; dates and others to text)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def doc_crs(doc: Any, source: str, error: type[UsageError]) -> str | None:
    """The coordinate system a GeoJSON object's ``crs`` member names (None without one)."""
    member = doc.get("crs") if isinstance(doc, dict) else None
    return None if member is None else crs_member(member, source, error)


def crs_member(member: Any, source: str, error: type[UsageError]) -> str:
    """The coordinate system a GeoJSON ``crs`` member names: ``{"type": "name", ...}`` as GDAL and
    QGIS write it, or the older ``{"type": "EPSG", "properties": {"code": N}}``."""
    if isinstance(member, str) and member.strip():  # not the specification's form, but unambiguous
        return member.strip()
    props = member.get("properties") if isinstance(member, dict) else None
    if isinstance(props, dict):
        if member.get("type") == "name" and isinstance(props.get("name"), str):
            return str(props["name"])
        if str(member.get("type")).upper() == "EPSG" and props.get("code") is not None:
            return f"EPSG:{props['code']}"
    raise error(
        f"{source}: its 'crs' member {json.dumps(member)[:80]} names no coordinate system railcount "
        "can read; save it in lon/lat (EPSG:4326) and drop the member"
    )


def source_crs(crs: str, source: str, error: type[UsageError]) -> Any:
    """The rasterio CRS ``crs`` names, or None where it is lon/lat on WGS 84 (nothing to transform)."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        with rasterio.Env():  # GDAL's own messages go to rasterio's logger, not to stderr
            parsed = CRS.from_user_input(crs)
    except CRSError:
        raise error(
            f"{source}: coordinate system {crs[:80]!r} is not one GDAL knows; save it in lon/lat (EPSG:4326)"
        ) from None
    if parsed.to_epsg() == 4326 or parsed.to_string() == "OGC:CRS84":
        return None
    return parsed


def to_lonlat(
    geom: dict[str, Any], crs: Any, label: str, source: str, error: type[UsageError]
) -> dict[str, Any]:
    """A GeoJSON geometry transformed from ``crs`` to lon/lat (``label`` names it in an error)."""
    import rasterio
    from rasterio.warp import transform_geom

    try:
        with rasterio.Env():
            return dict(transform_geom(crs, "EPSG:4326", geom))
    except Exception as exc:  # GDAL's errors here are of several kinds, all of them bad coordinates
        raise error(
            f"{source}: {label} cannot be transformed from {crs} to lon/lat ({exc}); "
            "check its coordinates and coordinate system"
        ) from None
