"""Read the part of a scene that covers a station: the loader.

Opens a georeferenced raster, reprojects each station polygon from lon/lat
into the raster's CRS, reads only the window that covers it and returns a
:class:`~railcount.models.SceneWindow` with the pixels, their transform and
CRS, the ground sample distance in metres, the data/inside masks and the
acquisition time.

The window is the polygon's bounding box grown by a margin (25 m by default),
so cars that straddle the station's edge are seen whole; the counting rule
(a car counts when its centre is inside the polygon) is applied later.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.features import geometry_mask
from rasterio.warp import transform as warp_points
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from railcount.errors import (
    NoOverlapError,
    NotGeoreferencedError,
    NoValidPixelsError,
    SceneReadError,
)
from railcount.models import SceneWindow, Station, apply_affine

WGS84 = CRS.from_epsg(4326)
# WGS84 ellipsoid, for converting small lon/lat steps to metres.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DATETIME_TAGS = ("ACQUISITION_DATETIME", "ACQUISITIONDATETIME", "DATETIME_ACQUIRED", "TIFFTAG_DATETIME")


@contextlib.contextmanager
def open_scene(scene: str | os.PathLike[str]) -> Iterator[rasterio.io.DatasetReader]:
    """Open a raster scene, turning GDAL's errors into one-line :class:`SceneReadError`s."""
    name = str(scene)
    if "://" not in name and not Path(name).exists():
        raise SceneReadError(f"{name}: scene file not found; check the path")
    try:
        with warnings.catch_warnings():
            # Georeferencing is checked, with a message of our own, in _check_georeferenced.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(name)
    except RasterioIOError as exc:
        raise SceneReadError(
            f"{name}: cannot open as a raster ({_gdal_reason(exc)}); pass a GeoTIFF"
        ) from None
    except RasterioError as exc:
        raise SceneReadError(f"{name}: cannot open ({_gdal_reason(exc)})") from None
    try:
        yield ds
    finally:
        ds.close()


DEFAULT_MARGIN_M = 25.0


def read_windows(
    scene: str | os.PathLike[str], stations: Sequence[Station], *, margin_m: float = DEFAULT_MARGIN_M
) -> list[SceneWindow]:
    """Read one window per station from a scene, opening the file once.

    Raises
    ------
    SceneReadError, NotGeoreferencedError, NoOverlapError, NoValidPixelsError
    """
    with open_scene(scene) as ds:
        return [read_window(ds, st, margin_m=margin_m) for st in stations]


def read_window(
    ds: rasterio.io.DatasetReader, station: Station, *, margin_m: float = DEFAULT_MARGIN_M
) -> SceneWindow:
    """Read the window of an open dataset that covers ``station``.

    The window is the polygon's bounding box in pixel space; pixels outside
    the raster are filled with zeros and marked invalid, so a station partly
    outside the scene is counted on the imaged part and ``observed_fraction``
    says how much that was.
    """
    name = ds.name
    _check_georeferenced(ds)
    crs = ds.crs
    geom = station_in_crs(station.geometry, crs)
    inv = ~ds.transform
    xs, ys = np.asarray(
        geom.exterior.coords
        if geom.geom_type == "Polygon"
        else np.concatenate([np.asarray(p.exterior.coords) for p in geom.geoms])
    ).T
    cols, rows = apply_affine(inv, xs, ys)
    # The tolerance (1/50 px) absorbs the round trip through lon/lat and the slight
    # curvature of a lon/lat edge in a projected CRS.
    c0, c1 = math.floor(np.min(cols) + 0.02), math.ceil(np.max(cols) - 0.02)
    r0, r1 = math.floor(np.min(rows) + 0.02), math.ceil(np.max(rows) - 0.02)
    if c1 <= 0 or r1 <= 0 or c0 >= ds.width or r0 >= ds.height:
        raise NoOverlapError(_no_overlap_message(ds, station, geom))
    gx0, gy0 = ground_pixel_size(ds.transform, crs, (ds.height, ds.width))
    mc, mr = math.ceil(margin_m / gx0), math.ceil(margin_m / gy0)
    c0, c1, r0, r1 = c0 - mc, c1 + mc, r0 - mr, r1 + mr

    full = Window(c0, r0, c1 - c0, r1 - r0)
    win_transform = ds.window_transform(full)
    shape_rc = (full.height, full.width)
    inside = geometry_mask([mapping(geom)], out_shape=shape_rc, transform=win_transform, invert=True)
    if not inside.any():
        # A sliver narrower than a pixel: take the pixels it touches.
        inside = geometry_mask(
            [mapping(geom)], out_shape=shape_rc, transform=win_transform, invert=True, all_touched=True
        )

    band_idx = _rgb_band_indexes(ds)
    pixels = np.zeros((full.height, full.width, len(band_idx)), dtype=ds.dtypes[band_idx[0] - 1])
    valid_data = np.zeros((full.height, full.width), dtype=bool)
    # The part of the window that lies inside the raster.
    rc0, rc1 = max(c0, 0), min(c1, ds.width)
    rr0, rr1 = max(r0, 0), min(r1, ds.height)
    sub = Window(rc0, rr0, rc1 - rc0, rr1 - rr0)
    try:
        data = ds.read(band_idx, window=sub)
        masks = _read_validity(ds, band_idx, sub)
    except RasterioError as exc:
        raise SceneReadError(
            f"{name}: cannot read pixels ({_gdal_reason(exc)}); the file may be truncated or corrupt"
        ) from None
    dr, dc = rr0 - r0, rc0 - c0
    pixels[dr : dr + sub.height, dc : dc + sub.width] = np.moveaxis(data, 0, -1)
    valid_data[dr : dr + sub.height, dc : dc + sub.width] = masks

    valid = inside & valid_data
    if not valid.any():
        raise NoValidPixelsError(
            f"{name}: station {station.name!r} covers only nodata pixels in this scene; "
            "choose a scene that images the station"
        )
    gx, gy = ground_pixel_size(win_transform, crs, (full.height, full.width))
    window = SceneWindow(
        pixels=pixels,
        data=valid_data,
        inside=inside,
        transform=win_transform,
        crs=crs,
        gsd_m=math.sqrt(gx * gy),
        scene_id=name,
        station=station,
        acquired=acquisition_time(ds),
        value_range=_value_range(ds, pixels, valid),
    )
    return _square_pixels(window, gx, gy)


def station_in_crs(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    """Reproject a lon/lat geometry into ``crs``, densified so edges follow the projection."""
    dense = shapely.segmentize(geom, max_segment_length=1e-4)  # about 10 m in lon/lat
    out = shape(transform_geom(WGS84, crs, mapping(dense)))
    if not out.is_valid:
        out = shapely.make_valid(out)
    return out


def ground_pixel_size(transform: Affine, crs: CRS, shape_rc: tuple[int, int]) -> tuple[float, float]:
    """Ground size in metres of one pixel's (x, y) sides at the window centre.

    Works for any CRS GDAL knows: steps along the pixel axes are converted to
    lon/lat and measured on the WGS84 ellipsoid, so projection scale factors
    (Web Mercator's above all) and non-metre units are accounted for.
    """
    rows, cols = shape_rc
    step = 16.0
    cc, rr = cols / 2.0, rows / 2.0
    mx, my = apply_affine(transform, [cc, cc + step, cc], [rr, rr, rr + step])
    lons, lats = warp_points(crs, WGS84, mx.tolist(), my.tolist())
    lat0 = math.radians(lats[0])
    s = math.sin(lat0)
    n = _A / math.sqrt(1 - _E2 * s * s)
    m = _A * (1 - _E2) / (1 - _E2 * s * s) ** 1.5

    def dist(i: int) -> float:
        dlon = math.radians(lons[i] - lons[0])
        dlat = math.radians(lats[i] - lats[0])
        return math.hypot(dlon * n * math.cos(lat0), dlat * m) / step

    return dist(1), dist(2)


def acquisition_time(ds: rasterio.io.DatasetReader) -> datetime | None:
    """Acquisition time from the file's metadata, else from a YYYY-MM-DD date in its name (UTC)."""
    tags = ds.tags()
    for key in _DATETIME_TAGS:
        if key in tags:
            parsed = parse_datetime(tags[key])
            if parsed is not None:
                return parsed
    return date_from_name(ds.name)


def parse_datetime(text: str) -> datetime | None:
    """Parse ISO 8601 or TIFF ("YYYY:MM:DD HH:MM:SS") date-times; naive values are taken as UTC."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})", text)
    if m:
        text = f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}"
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def date_from_name(name: str) -> datetime | None:
    """The YYYY-MM-DD date in a file name, as midnight UTC, or None."""
    match = _DATE_IN_NAME.search(Path(name).name)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None


def _check_georeferenced(ds: rasterio.io.DatasetReader) -> None:
    if ds.crs is None:
        raise NotGeoreferencedError(
            f"{ds.name}: has no coordinate reference system; railcount needs a georeferenced "
            "GeoTIFF (assign one with gdal_translate -a_srs / -a_ullr)"
        )
    t = ds.transform
    if t.is_identity or (t.a == 1 and t.e == 1 and t.c == 0 and t.f == 0):
        raise NotGeoreferencedError(
            f"{ds.name}: has no geotransform; railcount needs a georeferenced GeoTIFF "
            "(assign one with gdal_translate -a_ullr)"
        )
    if abs(t.b) > 1e-12 * abs(t.a) or abs(t.d) > 1e-12 * abs(t.e):
        raise NotGeoreferencedError(
            f"{ds.name}: has a rotated or sheared geotransform, which railcount does not read yet; "
            "warp it to a north-up grid first (gdalwarp)"
        )


def _rgb_band_indexes(ds: rasterio.io.DatasetReader) -> list[int]:
    """1-based band indexes: R, G, B by colour interpretation, else the first three, or the one band."""
    interp = list(ds.colorinterp)
    data_bands = [i + 1 for i, ci in enumerate(interp) if ci != ColorInterp.alpha]
    if len(data_bands) < 3:
        return data_bands[:1]
    by_ci = {ci: i + 1 for i, ci in enumerate(interp)}
    if all(c in by_ci for c in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)):
        return [by_ci[ColorInterp.red], by_ci[ColorInterp.green], by_ci[ColorInterp.blue]]
    return data_bands[:3]


def _read_validity(ds: rasterio.io.DatasetReader, band_idx: list[int], window: Window) -> np.ndarray:
    """True where every used band holds data (nodata values, internal masks and alpha honoured)."""
    flags = [ds.mask_flag_enums[i - 1] for i in band_idx]
    if all(f == [MaskFlags.all_valid] for f in flags):
        return np.ones((int(window.height), int(window.width)), dtype=bool)
    masks = ds.read_masks(band_idx, window=window)
    return np.all(masks > 0, axis=0)


def _value_range(ds: rasterio.io.DatasetReader, pixels: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    dtype = np.dtype(ds.dtypes[0])
    if dtype == np.uint8:
        return 0.0, 255.0
    nbits = ds.tags(1, "IMAGE_STRUCTURE").get("NBITS") or ds.tags().get("NBITS")
    if nbits and nbits.isdigit() and dtype.kind in "ui":
        return 0.0, float(2 ** int(nbits) - 1)
    sample = pixels[valid]
    if sample.size == 0:
        return 0.0, 1.0
    return float(np.min(sample)), float(np.max(sample))


def _square_pixels(window: SceneWindow, gx: float, gy: float) -> SceneWindow:
    """Resample a window whose pixels are not square on the ground (e.g. EPSG:4326) to square ones.

    The detector's kernels assume square pixels; the transform is updated so
    the georeferencing stays exact.
    """
    if abs(gx / gy - 1.0) < 0.02:
        return window
    rows, cols = window.shape
    g = math.sqrt(gx * gy)
    new_cols = max(1, round(cols * gx / g))
    new_rows = max(1, round(rows * gy / g))
    pix = cv2.resize(window.pixels, (new_cols, new_rows), interpolation=cv2.INTER_LINEAR)
    if pix.ndim == 2:
        pix = pix[:, :, None]
    near = cv2.INTER_NEAREST

    def resize_mask(m: np.ndarray) -> np.ndarray:
        return cv2.resize(m.astype(np.uint8), (new_cols, new_rows), interpolation=near).astype(bool)

    sx, sy = cols / new_cols, rows / new_rows
    t = window.transform
    transform = Affine(t.a * sx, t.b * sy, t.c, t.d * sx, t.e * sy, t.f)
    return SceneWindow(
        pixels=pix,
        data=resize_mask(window.data),
        inside=resize_mask(window.inside),
        transform=transform,
        crs=window.crs,
        gsd_m=g,
        scene_id=window.scene_id,
        station=window.station,
        acquired=window.acquired,
        value_range=window.value_range,
    )


def _no_overlap_message(ds: rasterio.io.DatasetReader, station: Station, geom: BaseGeometry) -> str:
    b = ds.bounds
    g = geom.bounds
    msg = (
        f"{ds.name}: station {station.name!r} does not overlap the scene "
        f"(station bounds {g[0]:.1f}, {g[1]:.1f}, {g[2]:.1f}, {g[3]:.1f}; scene bounds "
        f"{b.left:.1f}, {b.bottom:.1f}, {b.right:.1f}, {b.top:.1f}; both in {ds.crs.to_string()}); "
        "check the station's coordinates and that the scene images it"
    )
    swapped = shapely.transform(station.geometry, lambda xy: xy[:, ::-1])
    if swapped.bounds[1] >= -90 and swapped.bounds[3] <= 90:
        try:
            sw = station_in_crs(swapped, ds.crs)
            scene_box = shapely.box(b.left, b.bottom, b.right, b.top)
            if sw.intersects(scene_box):
                msg += "; swapping longitude and latitude would make it overlap (GeoJSON wants lon, lat)"
        except (RasterioError, ValueError, shapely.errors.GEOSException):
            pass
    return msg


def _gdal_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.rstrip(".")
