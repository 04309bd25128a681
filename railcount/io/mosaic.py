"""Read the tiles of one acquisition as one image: an in-memory VRT mosaic.

Providers often deliver a scene as several GeoTIFF tiles. A station on a
tile edge needs pixels from two to four of them, so the tiles are stitched
into a GDAL VRT (written here as XML into ``/vsimem/``, never to disk) and
the loader reads the station's window from it as from any other raster: GDAL
opens only the tiles the window touches.

The tiles must share a CRS, pixel size, pixel grid, band layout and data type
(they are pieces of one product); anything else is refused with the reason, because
resampling one tile to match another would silently change the image. The
VRT's mask is the union of the tiles' own masks (nodata, alpha, internal
masks), so gaps between tiles are not data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from html import escape as _html_escape
from pathlib import Path
from typing import Any

from affine import Affine
from rasterio.io import DatasetReader, MemoryFile

from railcount.errors import SceneReadError
from railcount.io.gdalenv import is_remote
from railcount.io.planet import is_mask


def escape(text: str) -> str:
    """``text`` for an XML element's content (``&``, ``<``, ``>``). :mod:`html`'s escape, not
    ``xml.sax.saxutils``'s: that module imports ``urllib.request`` (and ``ssl``), about 20 ms of every
    count's start."""
    return _html_escape(text, quote=False)


def quoteattr(text: str) -> str:
    """``text`` as a double-quoted XML attribute value.

    >>> quoteattr('a "b" & <c>')
    '"a &quot;b&quot; &amp; &lt;c&gt;"'
    """
    return '"' + _html_escape(text, quote=True) + '"'


RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".jp2", ".ntf", ".img")

GRID_TOLERANCE_PX = 0.01
"""How far (in pixels) a tile's corner may lie off the first tile's pixel grid."""

_GDAL_TYPES = {
    "uint8": "Byte",
    "int8": "Int8",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "float32": "Float32",
    "float64": "Float64",
}


def listed_raster(path: Path, suffixes: Sequence[str] = RASTER_SUFFIXES) -> bool:
    """Whether a folder's entry is a raster to read: a file with one of ``suffixes``, or a link named
    so whose target is gone (an archive's drive not mounted), which is kept so that reading it
    fails with a line that says so (:func:`railcount.io.scenes.open_file`). macOS's ``._NAME`` files
    (AppleDouble: a file's Finder data, left beside it on drives that cannot hold it) are not rasters,
    whatever their suffix, and are left out, as are a Planet order's usable-data masks
    (``..._udm2.tif``: :func:`railcount.io.planet.is_mask`), which share their image's name and grid."""
    if path.suffix.lower() not in suffixes or path.name.startswith("._") or is_mask(path):
        return False
    return path.is_file() or (path.is_symlink() and not path.exists())


def scene_sources(scene: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The files that make up a scene: one path or URL, the rasters in a directory, or a list.

    Raises
    ------
    SceneReadError
        A directory holds no raster files, or a list is empty.
    """
    if isinstance(scene, (str, os.PathLike)):
        name = os.fspath(scene)
        if not is_remote(name) and Path(name).is_dir():
            # A link whose target is gone is a tile too: reading it then fails with a line that says
            # so, rather than the mosaic leaving that tile's ground out unsaid.
            files = sorted(str(p) for p in Path(name).iterdir() if listed_raster(p))
            if not files:
                raise SceneReadError(
                    f"{name}: directory holds no raster tiles ({', '.join(RASTER_SUFFIXES)}); "
                    "pass a GeoTIFF or a directory of GeoTIFF tiles"
                )
            return files
        return [name]
    files = [os.fspath(s) for s in scene]
    if not files:
        raise SceneReadError("no scene given; pass a GeoTIFF, several tiles or a directory of tiles")
    return files


def scene_label(scene: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> str:
    """How a scene is named in records and messages: its path, or the first tile and how many more."""
    if isinstance(scene, (str, os.PathLike)):
        return os.fspath(scene)
    files = [os.fspath(s) for s in scene]
    if len(files) == 1:
        return files[0]
    more = len(files) - 1
    return f"{files[0]} (+{more} tile{'s' if more > 1 else ''})"


# Object-store URLs as GDAL names them (a VRT's tiles are opened by GDAL, not rasterio).
_VSI_PREFIXES = {
    "s3://": "/vsis3/",
    "gs://": "/vsigs/",
    "az://": "/vsiaz/",
    "azure://": "/vsiaz/",
    "oss://": "/vsioss/",
}


def gdal_path(name: str) -> str:
    """A path GDAL opens directly, as a VRT names its tiles (URLs mapped to its virtual file systems).

    >>> gdal_path("az://container/tile.tif")
    '/vsiaz/container/tile.tif'
    """
    low = name.lower()
    if low.startswith(("http://", "https://")):
        return "/vsicurl/" + name
    for scheme, prefix in _VSI_PREFIXES.items():
        if low.startswith(scheme):
            return prefix + name[len(scheme) :]
    return name if name.startswith("/vsi") or is_remote(name) else str(Path(name).resolve())


@dataclass(frozen=True)
class TileGrid:
    """What decides whether rasters are pieces of one product: CRS, pixel grid, size, bands and types."""

    crs: Any
    transform: Affine
    width: int
    height: int
    count: int
    dtypes: tuple[str, ...]

    @classmethod
    def of(cls, ds: DatasetReader) -> TileGrid:
        return cls(ds.crs, ds.transform, ds.width, ds.height, ds.count, tuple(ds.dtypes))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the CRS, for a north-up grid."""
        t = self.transform
        x0, x1 = sorted((t.c, t.c + self.width * t.a))
        y0, y1 = sorted((t.f, t.f + self.height * t.e))
        return x0, y0, x1, y1


def grid_mismatch(tile: TileGrid, first: TileGrid, first_name: str) -> str | None:
    """Why ``tile`` cannot be read with ``first`` (named ``first_name``) as one mosaic, or None when it
    can: both north-up in one CRS, with the same pixel size, bands and data types, on one pixel grid
    (within :data:`GRID_TOLERANCE_PX`)."""
    t, t0 = tile.transform, first.transform
    if tile.crs is None or t.b != 0 or t.d != 0:
        return "is not a north-up georeferenced tile"
    if tile.crs != first.crs:
        return f"has CRS {tile.crs} but {first_name} has {first.crs}"
    if not (abs(t.a - t0.a) <= 1e-6 * abs(t0.a) and abs(t.e - t0.e) <= 1e-6 * abs(t0.e)):
        return f"has pixel size {t.a:g} x {-t.e:g} but {first_name} has {t0.a:g} x {-t0.e:g}"
    if tile.count != first.count or tile.dtypes != first.dtypes:
        return (
            f"has {tile.count} {tile.dtypes[0]} bands but {first_name} has "
            f"{first.count} {first.dtypes[0]} bands"
        )
    # How far off the grid, as a signed fraction of a pixel in [-0.5, 0.5].
    fx, fy = ((off % 1.0) - (off % 1.0 > 0.5) for off in ((t.c - t0.c) / t0.a, (t.f - t0.f) / t0.e))
    if abs(fx) > GRID_TOLERANCE_PX or abs(fy) > GRID_TOLERANCE_PX:
        return f"is offset by {fx:+.2f}, {fy:+.2f} px from {first_name}'s pixel grid"
    return None


def mosaic_vrt(
    tiles: Sequence[str],
    *,
    open_tile: Callable[[str], AbstractContextManager[DatasetReader]],
    seen: Callable[[str, DatasetReader], None] | None = None,
) -> str:
    """VRT XML that places each tile at its position in a common grid.

    ``open_tile(name)`` opens one tile (so the caller's error handling applies); ``seen(name, ds)``,
    when given, reads what else the caller needs of each tile while it is open.
    """
    infos: list[dict[str, Any]] = []
    for name in tiles:
        with open_tile(name) as ds:
            if seen is not None:
                seen(name, ds)
            infos.append(
                {
                    "name": name,
                    "crs": ds.crs,
                    "transform": ds.transform,
                    "width": ds.width,
                    "height": ds.height,
                    "count": ds.count,
                    "dtypes": ds.dtypes,
                    "colorinterp": [ci.name for ci in ds.colorinterp],
                    "descriptions": ds.descriptions,
                    "nodata": ds.nodata,
                    "tags": ds.tags(),
                    "grid": TileGrid.of(ds),
                }
            )
    first = infos[0]
    t0 = first["transform"]
    for info in infos:
        reason = grid_mismatch(info["grid"], first["grid"], first["name"])
        _require(reason is None, info, reason or "")
    lefts = [i["transform"].c for i in infos]
    tops = [i["transform"].f for i in infos]
    rights = [i["transform"].c + i["width"] * t0.a for i in infos]
    bottoms = [i["transform"].f + i["height"] * t0.e for i in infos]
    left, top = min(lefts), max(tops)
    width = round((max(rights) - left) / t0.a)
    height = round((min(bottoms) - top) / t0.e)
    gt = f"{left!r}, {t0.a!r}, 0.0, {top!r}, 0.0, {t0.e!r}"

    def placed(info: dict[str, Any], band: str) -> str:
        t = info["transform"]
        xoff, yoff = round((t.c - left) / t0.a), round((t.f - top) / t0.e)
        return (
            "<SimpleSource>"
            f'<SourceFilename relativeToVRT="0">{escape(gdal_path(info["name"]))}</SourceFilename>'
            f"<SourceBand>{band}</SourceBand>"
            f'<SrcRect xOff="0" yOff="0" xSize="{info["width"]}" ySize="{info["height"]}"/>'
            f'<DstRect xOff="{xoff}" yOff="{yoff}" xSize="{info["width"]}" ySize="{info["height"]}"/>'
            "</SimpleSource>"
        )

    parts = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"<SRS>{escape(first['crs'].to_wkt())}</SRS>",
        f"<GeoTransform>{gt}</GeoTransform>",
        "<Metadata>"
        + "".join(f"<MDI key={quoteattr(k)}>{escape(v)}</MDI>" for k, v in first["tags"].items())
        + "</Metadata>",
    ]
    for b in range(1, first["count"] + 1):
        gdal_type = _GDAL_TYPES.get(first["dtypes"][b - 1], "Float32")
        parts.append(f'<VRTRasterBand dataType="{gdal_type}" band="{b}">')
        parts.append(f"<ColorInterp>{first['colorinterp'][b - 1].capitalize()}</ColorInterp>")
        if first["descriptions"][b - 1]:
            parts.append(f"<Description>{escape(first['descriptions'][b - 1])}</Description>")
        if first["nodata"] is not None:
            parts.append(f"<NoDataValue>{first['nodata']!r}</NoDataValue>")
        parts.extend(placed(info, str(b)) for info in infos)
        parts.append("</VRTRasterBand>")
    # One mask for the mosaic: each tile's own mask where it lies, 0 (no data) between tiles.
    parts.append('<MaskBand><VRTRasterBand dataType="Byte">')
    parts.extend(placed(info, "mask,1") for info in infos)
    parts.append("</VRTRasterBand></MaskBand>")
    parts.append("</VRTDataset>")
    return "".join(parts)


def vrt_file(xml: str) -> MemoryFile:
    """VRT XML as a GDAL in-memory file; open it with ``.open()`` and close it after the dataset."""
    return MemoryFile(xml.encode("utf-8"), ext=".vrt")


def _require(ok: bool, info: dict[str, Any], reason: str) -> None:
    if not ok:
        raise SceneReadError(
            f"{info['name']}: {reason}; tiles read as one scene must be pieces of one product "
            "(same CRS, pixel size and grid, bands and data type)"
        )
