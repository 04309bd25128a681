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
import dataclasses
import math
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.features import geometry_mask
from rasterio.warp import transform as warp_points
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from railcount.detect.sun import SHADOW_SUN_UP_DEG
from railcount.errors import (
    DataError,
    NoOverlapError,
    NotGeoreferencedError,
    NoValidPixelsError,
    SceneReadError,
    SlowReadWarning,
    StationNotCountedWarning,
    UsageError,
)
from railcount.io import planet
from railcount.io.bands import (
    band_choice,
    file_of,
    picture,
    read_validity,
    value_range,
    warn_negative_values,
    working_dtype,
)
from railcount.io.gdalenv import gdal_env, is_remote
from railcount.io.maxar import product_imd
from railcount.io.memory import check_window_fits
from railcount.io.mosaic import gdal_path, mosaic_vrt, scene_label, scene_sources, vrt_file
from railcount.models import SYNTHETIC_TAG, SceneWindow, Station, apply_affine

WGS84 = CRS.from_epsg(4326)
# WGS84 ellipsoid, for converting small lon/lat steps to metres.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)

_DATE_IN_NAME = re.compile(r"(?<!\d)(?:(\d{4})-(\d{2})-(\d{2})|((?:19|20)\d{2})([_.])(\d{2})\5(\d{2}))(?!\d)")
"""``YYYY-MM-DD``, or ``YYYY_MM_DD`` / ``YYYY.MM.DD`` with a year from 1900 on (``yard_2023_10_05.tif``)."""
_COMPACT_DATE_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
"""``YYYYMMDD`` standing alone (``20231005_014852_...``, ``yard_20231005.tif``), not inside a longer
run of digits such as an order number."""
_DATETIME_TAGS = ("ACQUISITION_DATETIME", "ACQUISITIONDATETIME", "DATETIME_ACQUIRED")
"""Tags of the file's own metadata that name its acquisition time, in the order they are trusted."""
IMAGERY_DOMAIN = "IMAGERY"
"""GDAL's metadata domain for what it reads from a provider's delivery files (a Maxar ``.IMD``, an
Airbus DIMAP ``.XML``, ...): ``ACQUISITIONDATETIME``, ``CLOUDCOVER`` (percent; 999 when unknown)."""


Scene = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
"""A scene: a path or URL, a directory of tiles, or a list of tiles of one acquisition."""


@contextlib.contextmanager
def open_scene(scene: Scene, *, dated: bool = False) -> Iterator[rasterio.io.DatasetReader]:
    """Open a scene as one raster, turning GDAL's errors into one-line :class:`SceneReadError`s.

    A path or URL opens as is (remote URLs through GDAL's network file
    systems, with the settings of :mod:`railcount.io.gdalenv`); several tiles
    or a directory of tiles open as one in-memory VRT mosaic. A rotated or
    sheared geotransform is resampled on the fly to a north-up grid (a
    ``WarpedVRT``), so the window arithmetic below stays axis-aligned; so is
    a file placed by ground control points alone (no geotransform), on a
    grid GDAL fits to them in their CRS. Tiles that say they were taken at
    different times are refused, unless the caller dates the scene itself
    (``dated``: a batch's planned time, ``--acquired``), which wins over
    what the files say.
    """
    sources = scene_sources(scene)
    with contextlib.ExitStack() as stack:
        stack.enter_context(gdal_env(remote=any(is_remote(s) for s in sources), names=sources))
        # The file whose metadata (acquisition time, the provider's, NBITS, band names) are the
        # scene's: the file itself, or a mosaic's first tile (an in-memory VRT keeps no sidecars').
        meta = stack.enter_context(open_file(sources[0]))
        if len(sources) == 1:
            ds = meta
        else:
            times: list[tuple[str, datetime | None]] = []
            # Each tile's own time is read in the one open the mosaic makes of it.
            note = None if dated else lambda name, tile: times.append((name, acquisition_time(tile, name)))
            xml = mosaic_vrt(sources, open_tile=open_file, seen=note)
            _one_acquisition(times)
            mem = stack.enter_context(vrt_file(xml))
            ds = stack.enter_context(mem.open())
        # A map grid in the GCPs' CRS for a file placed by ground control points alone (as
        # `gdal_translate -gcp` leaves a georeferenced screenshot); GDAL fits the grid to them.
        crs = ds.crs if ds.crs is not None else _gcp_crs(ds)
        warped = crs is not None and (ds.crs is None or _is_rotated(ds.transform))
        if warped:
            from rasterio.enums import Resampling
            from rasterio.vrt import WarpedVRT

            # Pixels the rotated grid does not cover become nodata: an alpha band is added
            # unless the file already has nodata or an alpha band, which the warp carries along.
            no_mask = ds.nodata is None and ColorInterp.alpha not in ds.colorinterp
            ds = stack.enter_context(
                WarpedVRT(ds, crs=crs, resampling=Resampling.bilinear, add_alpha=no_mask)
            )
        yield ds if ds is meta else cast(rasterio.io.DatasetReader, _Described(ds, meta, warped))


class _Described:
    """A virtual dataset (a warped VRT, a mosaic) that answers for its metadata from the file it was
    made of. GDAL's warped VRT keeps the pixels but drops the tags, so a rotated file lost its
    acquisition time (the sun then assumed at 10:30) and the provider's cloud cover; a mosaic's
    in-memory VRT has no delivery files beside it. Everything else is the virtual dataset's."""

    def __init__(self, virtual: Any, source: rasterio.io.DatasetReader, warped: bool) -> None:
        self._virtual = virtual
        self._source = source
        self.warped = warped
        """Resampled onto another grid (a rotated or GCP-placed file), not only stitched."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._virtual, name)

    def tags(self, bidx: int = 0, ns: str | None = None) -> dict[str, str]:
        if bidx > self._source.count:  # an alpha band the warp added
            return {}
        return dict(self._source.tags(bidx, ns=ns))

    @property
    def source_path(self) -> str:
        """The file the metadata come from (a mosaic's first tile)."""
        return str(self._source.name)

    @property
    def descriptions(self) -> tuple[str | None, ...]:
        extra = max(0, self._virtual.count - self._source.count)
        return (*self._source.descriptions, *(None,) * extra)


def is_warped(ds: Any) -> bool:
    """Whether an :func:`open_scene` dataset was resampled onto a grid other than its file's."""
    return isinstance(ds, _Described) and ds.warped


ACQUISITION_SLACK_S = 600.0
"""How far apart two times of one acquisition's files may be (seconds): a tile stamped when it was
cut from the strip, a few seconds or minutes after another."""


def same_acquisition(a: datetime, b: datetime) -> bool:
    """Whether two acquisition times can be one acquisition's: within :data:`ACQUISITION_SLACK_S`,
    or the same day where either gives a date alone.

    >>> from datetime import datetime, timezone
    >>> day, t = datetime(2023, 10, 5, tzinfo=timezone.utc), datetime(2023, 10, 5, 1, 48, tzinfo=timezone.utc)
    >>> same_acquisition(day, t), same_acquisition(t, t.replace(minute=49))
    (True, True)
    >>> same_acquisition(t, t.replace(hour=3))
    False
    """
    from railcount.detect.sun import time_of_day_unknown

    if time_of_day_unknown(a) or time_of_day_unknown(b):
        return a.date() == b.date()
    return abs((a - b).total_seconds()) <= ACQUISITION_SLACK_S


def _one_acquisition(times: Sequence[tuple[str, datetime | None]]) -> None:
    """Refuse tiles that say they were taken at different times (``times``: each tile's name and
    own time): a folder of one product's scenes of several dates is on one grid too, and a mosaic of
    them would stitch the dates together under the first one's. Tiles that give no time are taken to
    be the others' (a date alone is compared as a date)."""
    first: tuple[str, datetime] | None = None
    for name, when in times:
        if when is None:
            continue
        if first is None:
            first = (name, when)
            continue
        other, then = first
        if not same_acquisition(when, then):
            raise SceneReadError(
                f"{name}: taken {when.isoformat()}, but {other} {then.isoformat()}; tiles read as one "
                "scene must be of one acquisition: count the scenes one by one, give the folder to "
                "railcount batch, which keeps them apart, or, if they are one, say when (--acquired)"
            )


_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".7z", ".rar")


def is_archive(name: str) -> bool:
    """Whether ``name`` is an archive a delivery comes in (``.zip``, ``.tar.gz``, ...), by its name."""
    return name.lower().endswith(_ARCHIVES)


def _gcp_crs(ds: rasterio.io.DatasetReader) -> CRS | None:
    """The CRS of a file placed by three or more ground control points and no geotransform, else None."""
    points, crs = ds.gcps
    return crs if crs is not None and len(points) >= 3 and not has_geotransform(ds) else None


@contextlib.contextmanager
def open_file(name: str) -> Iterator[rasterio.io.DatasetReader]:
    """Open one raster file or URL, turning GDAL's errors into one-line :class:`SceneReadError`s."""
    remote = is_remote(name)
    if planet.is_mask(name):
        raise SceneReadError(
            f"{name}: is a Planet usable-data mask (udm), not an image; count the image of the same "
            "item (its visual, pansharpened or analytic file)"
        )
    if not remote and not name.startswith("/vsi"):  # GDAL's virtual paths (/vsizip/...) are GDAL's to check
        path = Path(name)
        if not path.exists():
            if path.is_symlink():
                target = os.readlink(path)
                if os.path.lexists(path.parent / target) and not os.path.exists(path.parent / target):
                    raise SceneReadError(  # the target is itself a link that leads nowhere, or back
                        f"{name}: a link to {target}, a link that leads back to itself or to a missing "
                        "file (a loop of links); point it at the scene file itself"
                    )
                raise SceneReadError(
                    f"{name}: a link to {target}, which is not there; "
                    "mount its drive or fix the link, then run again"
                )
            raise SceneReadError(f"{name}: scene file not found; check the path")
        if path.is_file() and not os.access(path, os.R_OK):
            raise SceneReadError(
                f"{name}: permission denied; ask the file's owner for read access (chmod +r) or copy it"
            )
    try:
        with warnings.catch_warnings():
            # Georeferencing is checked, with a message of our own, in check_georeferenced.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(gdal_path(name) if remote else name)
    except RasterioIOError as exc:
        reason = _gdal_reason(exc)
        if remote and "range" in reason.lower() and "not supported" in reason.lower():
            raise SceneReadError(  # a plain web server: the file is there, but not readable in parts
                f"{name}: the server does not answer range requests ({reason}), which reading a "
                "window of a remote scene needs; download the file and count the local copy, or serve "
                "it from a server or object store that answers them"
            ) from None
        if remote:
            raise SceneReadError(
                f"{name}: cannot open the remote scene ({reason}); check the URL, the network "
                "and, for object stores, the credentials in the environment"
            ) from None
        if "permission denied" in reason.lower():
            raise SceneReadError(
                f"{name}: permission denied; ask the file's owner for read access (chmod +r) or copy it"
            ) from None
        if is_archive(name):
            raise SceneReadError(
                f"{name}: is an archive, not a raster; unpack it and pass the scene, or the folder of tiles"
            ) from None
        raise SceneReadError(
            f"{name}: cannot open as a raster ({reason}); pass a GeoTIFF (or another format GDAL reads)"
        ) from None
    except RasterioError as exc:
        raise SceneReadError(f"{name}: cannot open ({_gdal_reason(exc)})") from None
    try:
        yield ds
    finally:
        ds.close()


DEFAULT_MARGIN_M = 25.0
MIN_SEEN_SHARE = 0.02
"""A scene whose data covers less of a station than this (0-1) is refused for it (exit 1; in a batch
the pair is recorded failed with the line): a count of a sliver says nothing of the station, and its
interval, scaled from the cars in the sliver, said less (a one-pixel overlap read "0 railcars (0-1),
0% observed", exit 0)."""
STRIPED_WARN_BYTES = 64 * 2**20
"""Warn when a striped file makes a window read decode more than this many bytes..."""
STRIPED_WARN_RATIO = 8
"""...and more than this many times the window's own bytes."""


def read_windows(
    scene: Scene,
    stations: Sequence[Station],
    *,
    margin_m: float = DEFAULT_MARGIN_M,
    bands: Sequence[int] | None = None,
    dated: bool = False,
    skip_outside: bool = False,
) -> list[SceneWindow]:
    """Read one window per station from a scene, opening it once.

    Parameters
    ----------
    scene : path, URL, directory or list of tiles
        See :func:`open_scene`.
    stations : sequence of Station
    margin_m : float, default 25
        How far beyond each polygon's bounding box to read.
    bands : sequence of int, optional
        1-based bands to use (three for R, G, B or one); by default chosen by
        :func:`railcount.io.bands.choose_bands`.
    dated : bool, default False
        The caller gives the acquisition time: tiles' own differing times are not refused
        (see :func:`open_scene`).
    skip_outside : bool, default False
        A station the scene does not image (no overlap, or too little of it with data) is left out
        with a :class:`~railcount.errors.StationNotCountedWarning` saying why, and the others are
        read; only when none is left is its error raised. (A station file may hold stations
        beyond any one scene.)

    Raises
    ------
    SceneReadError, NotGeoreferencedError, NoOverlapError, NoValidPixelsError, UsageError
    """
    label = scene_label(scene)
    files = scene_sources(scene)
    tiles = tuple(files) if len(files) > 1 else ()
    windows: list[SceneWindow] = []
    outside: list[DataError] = []
    with open_scene(scene, dated=dated) as ds:
        for st in stations:
            try:
                windows.append(
                    replace(read_window(ds, st, margin_m=margin_m, bands=bands, name=label), tiles=tiles)
                )
            except (NoOverlapError, NoValidPixelsError) as exc:
                if not skip_outside:
                    raise
                outside.append(exc)
    if outside and not windows:
        raise outside[0]
    for missed in outside:
        warnings.warn(
            StationNotCountedWarning(f"{missed} (not counted; the other stations were)"), stacklevel=2
        )
    return windows


def read_window(
    ds: rasterio.io.DatasetReader,
    station: Station,
    *,
    margin_m: float = DEFAULT_MARGIN_M,
    bands: Sequence[int] | None = None,
    name: str | None = None,
) -> SceneWindow:
    """Read the window of an open dataset that covers ``station``.

    The window is the polygon's bounding box in pixel space; pixels outside
    the raster are filled with zeros and marked invalid, so a station partly
    outside the scene is counted on the imaged part and ``observed_fraction``
    says how much that was. ``name`` is the scene's name in messages and
    records (default: the dataset's).
    """
    name = name or ds.name
    check_georeferenced(ds, name)
    crs = ds.crs
    geom = station_in_crs(station.geometry, crs)
    inv = ~ds.transform
    xs, ys = np.concatenate([np.asarray(p.exterior.coords) for p in getattr(geom, "geoms", [geom])]).T
    cols, rows = apply_affine(inv, xs, ys)
    # The tolerance (1/50 px) absorbs the round trip through lon/lat and the slight
    # curvature of a lon/lat edge in a projected CRS.
    c0, c1 = math.floor(np.min(cols) + 0.02), math.ceil(np.max(cols) - 0.02)
    r0, r1 = math.floor(np.min(rows) + 0.02), math.ceil(np.max(rows) - 0.02)
    if c1 <= 0 or r1 <= 0 or c0 >= ds.width or r0 >= ds.height:
        raise NoOverlapError(_no_overlap_message(ds, station, geom, name))
    gx0, gy0 = ground_pixel_size(ds.transform, crs, (ds.height, ds.width))
    mc, mr = math.ceil(margin_m / gx0), math.ceil(margin_m / gy0)
    c0, c1, r0, r1 = c0 - mc, c1 + mc, r0 - mr, r1 + mr

    full = Window(c0, r0, c1 - c0, r1 - r0)
    check_window_fits(full.height, full.width, math.sqrt(gx0 * gy0), name, station.name)
    win_transform = ds.window_transform(full)
    shape_rc = (full.height, full.width)
    inside = geometry_mask([mapping(geom)], out_shape=shape_rc, transform=win_transform, invert=True)
    if not inside.any():
        # A sliver narrower than a pixel: take the pixels it touches.
        inside = geometry_mask(
            [mapping(geom)], out_shape=shape_rc, transform=win_transform, invert=True, all_touched=True
        )

    band_idx, guessed = band_choice(ds, bands, name)
    # The part of the window that lies inside the raster.
    rc0, rc1 = max(c0, 0), min(c1, ds.width)
    rr0, rr1 = max(r0, 0), min(r1, ds.height)
    sub = Window(rc0, rr0, rc1 - rc0, rr1 - rr0)
    _warn_if_striped(ds, sub, len(band_idx), name)
    data, masks = read_bands(ds, band_idx, sub, name)
    # (On the pixels read: the window's margin past the raster's edge holds no data already.)
    masks = picture(masks, np.moveaxis(data, 0, -1), math.sqrt(gx0 * gy0))
    pixels = np.zeros((full.height, full.width, data.shape[0]), dtype=data.dtype)
    valid_data = np.zeros((full.height, full.width), dtype=bool)
    dr, dc = rr0 - r0, rc0 - c0
    pixels[dr : dr + sub.height, dc : dc + sub.width] = np.moveaxis(data, 0, -1)
    valid_data[dr : dr + sub.height, dc : dc + sub.width] = masks

    valid = inside & valid_data
    if not valid.any():
        if not inside[dr : dr + sub.height, dc : dc + sub.width].any():
            raise NoValidPixelsError(
                f"{name}: station {station.name!r} overlaps this scene only in a sliver between its "
                "pixel centres; choose a scene that covers the station"
            )
        raise NoValidPixelsError(
            f"{name}: station {station.name!r} covers only nodata pixels (or black fill) in this "
            "scene; choose a scene that images the station"
        )
    seen_share = float(valid.sum()) / float(inside.sum())
    if seen_share < MIN_SEEN_SHARE:
        share_text = f"{seen_share:.1%}" if seen_share >= 0.001 else "under 0.1%"
        raise NoValidPixelsError(
            f"{name}: this scene's data covers {share_text} of station {station.name!r} (the "
            "rest lies outside the scene or is nodata), too little to count; choose a scene that images "
            "the station, or draw the station around what this one covers"
        )
    warn_negative_values(pixels, valid, name)
    acquisition = acquisition_source(ds, name)
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
        acquired=acquisition.when,
        acquired_from=acquisition.source,
        night_time=acquisition.night,
        value_range=value_range(ds, pixels, valid),
        cloud_cover=provider_cloud_cover(ds),
        bands=tuple(band_idx),
        bands_guessed=guessed,
        synthetic=is_synthetic(ds),
    )
    return _square_pixels(_north_up(window), gx, gy)


def read_bands(
    ds: rasterio.io.DatasetReader, band_idx: list[int], window: Window, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read bands (bands first, in :func:`~railcount.io.bands.working_dtype`) and their validity mask.

    Non-finite float values are set to 0 and marked invalid; a paletted band
    (e.g. an indexed PNG) is expanded to the RGB of its colour table, whose
    transparent entries are not data.
    """
    dtype = working_dtype(ds.dtypes[band_idx[0] - 1])
    try:
        data = ds.read(band_idx, window=window, out_dtype=dtype)
        masks = read_validity(ds, band_idx, window)
    except RasterioError as exc:
        lost = " or the connection was lost; check the network" if is_remote(name) else ""
        raise SceneReadError(
            f"{name}: cannot read pixels ({_gdal_reason(exc)}); the file may be truncated or corrupt{lost}"
        ) from None
    if dtype.kind == "f":
        finite = np.all(np.isfinite(data), axis=0)
        masks &= finite
        data[:, ~finite] = 0
    if len(band_idx) == 1 and ds.colorinterp[band_idx[0] - 1] == ColorInterp.palette and dtype == np.uint8:
        cmap = ds.colormap(band_idx[0])
        lut = np.array([cmap.get(i, (0, 0, 0, 0)) for i in range(256)], dtype=np.uint8)
        rgba = lut[data[0]]
        data = np.ascontiguousarray(np.moveaxis(rgba[:, :, :3], -1, 0))
        masks &= rgba[:, :, 3] > 0
    return data, masks


def has_geotransform(ds: rasterio.io.DatasetReader) -> bool:
    """False when the file has no geotransform (GDAL then reports the identity)."""
    t = ds.transform
    return not (t.is_identity or (t.a == 1 and t.e == 1 and t.c == 0 and t.f == 0))


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


ACQUIRED_FROM = {
    "file_tags": "an acquisition-time tag of the file (ACQUISITION_DATETIME, ...)",
    "delivery_files": "the provider's delivery files beside the image as GDAL reads them (a Maxar .IMD...)",
    "nitf_header": "the NITF image header's acquisition time (IDATIM)",
    "maxar_file_name": "the UTC time a Maxar product's file name starts with",
    "planet_metadata": "the Planet item's acquired time in the _metadata.json beside the image",
    "planet_file_name": "the UTC time a Planet file name starts with",
    "tiff_datetime": "TIFFTAG_DATETIME, which the TIFF standard defines as the file's creation time",
    "file_name_date": "a date in the file name (no time of day)",
    "given": "given by the caller (railcount count --acquired, or the Python API)",
    "stac_item": "the STAC item's datetime",
    "scene_list": "the time on the scene's line of a scene list",
}
"""Where a count's acquisition time came from (``count.json``'s ``acquired_from``), and what each means."""


def acquisition_time(ds: rasterio.io.DatasetReader, name: str | None = None) -> datetime | None:
    """Acquisition time from the file's metadata, else from a YYYY-MM-DD date in its name (UTC).

    The metadata are read in this order: an acquisition-time tag of the file's own
    (:data:`_DATETIME_TAGS`); the time GDAL reads from the provider's delivery files
    (:data:`IMAGERY_DOMAIN`); a NITF image's own acquisition time (``IDATIM``); the time a Maxar
    product's file name starts with (:func:`maxar_time_from_name`); a Planet item's ``acquired``
    from the ``_metadata.json`` beside it, else the UTC time its file name starts with
    (:mod:`railcount.io.planet`); last ``TIFFTAG_DATETIME``,
    which the TIFF format defines as the image's creation time (often a processing date), trusted
    only when nothing better is there.
    ``name`` is the scene's name when it differs from the dataset's (a mosaic).
    """
    return acquisition_source(ds, name).when


@dataclasses.dataclass(frozen=True)
class Acquisition:
    """When a scene was taken, as its files say, and which of them said it."""

    when: datetime | None
    source: str | None
    """A key of :data:`ACQUIRED_FROM`; None with no time."""
    night: datetime | None = None
    """A time of day the files gave that puts the sun below the horizon over the scene (or under
    :data:`~railcount.detect.sun.SHADOW_SUN_UP_DEG` up), so not when a picture that can be counted
    was taken (a processing time, or a local time written as UTC): ``when`` is then its date alone,
    and the sun is assumed."""


def acquisition_source(ds: rasterio.io.DatasetReader, name: str | None = None) -> Acquisition:
    """:func:`acquisition_time`, where it came from, and a night-time time of day it was given (see
    :class:`Acquisition`): a time that puts the sun below the horizon over the scene's centre keeps
    only its date."""
    tags = ds.tags()
    imagery = _imagery_tags(ds)
    own = file_of(ds)
    candidates = [("file_tags", tags.get(key)) for key in _DATETIME_TAGS]
    candidates += [
        ("delivery_files", imagery.get("ACQUISITIONDATETIME")),
        ("nitf_header", _nitf_time(tags.get("NITF_IDATIM"))),
        ("maxar_file_name", maxar_time_from_name(name or ds.name)),
        ("planet_metadata", planet.metadata_time(own)),
        ("planet_file_name", planet.time_from_name(own)),
        ("tiff_datetime", tags.get("TIFFTAG_DATETIME")),
    ]
    for source, text in candidates:
        parsed = parse_datetime(text) if text else None
        if parsed is not None:
            height = sun_height_over(ds, parsed)
            if height is not None and height < SHADOW_SUN_UP_DEG:
                d = parsed.astimezone(timezone.utc)
                return Acquisition(
                    datetime(d.year, d.month, d.day, tzinfo=timezone.utc), source, night=parsed
                )
            return Acquisition(parsed, source)
    day = date_from_name(name or ds.name)
    return Acquisition(day, "file_name_date" if day is not None else None)


def sun_height_over(ds: Any, when: datetime) -> float | None:
    """The sun's elevation (degrees) over the centre of ``ds`` at ``when``; None for a time with no time
    of day, or a dataset that cannot be placed on Earth."""
    from railcount.detect.sun import solar_position, time_of_day_unknown

    if time_of_day_unknown(when) or ds.crs is None:
        return None
    try:
        left, bottom, right, top = ds.bounds
        (lon,), (lat,) = warp_points(ds.crs, WGS84, [(left + right) / 2], [(bottom + top) / 2])
    except Exception:  # a CRS GDAL cannot turn to lon/lat: no check, as before
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return solar_position(lon, lat, when).elevation_deg


_MAXAR_NAME = re.compile(
    r"^(\d{2})(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(\d{2})(\d{2})(\d{2})(\d{2})-", re.IGNORECASE
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def maxar_time_from_name(name: str) -> str | None:
    """The acquisition time a Maxar (DigitalGlobe) product's file name starts with, ``YYMONDDhhmmss``
    in UTC (``14SEP24105008-S2AS_R1C1-054565869010_01_P001.TIF``), as ISO 8601; None for other names.
    The product's ``.IMD`` says the same, but GDAL finds it only beside an untiled file (a tile's
    name carries ``_R1C1`` that the ``.IMD``'s lacks).

    >>> maxar_time_from_name("/d/14SEP24105008-S2AS_R1C1-054565869010_01_P001.TIF")
    '2014-09-24T10:50:08+00:00'
    >>> maxar_time_from_name("tumangang_2023-10-05.tif") is None
    True
    """
    m = _MAXAR_NAME.match(Path(name).name)
    if m is None:
        return None
    yy, month = int(m[1]), _MONTHS.index(m[2].upper()) + 1
    try:
        day, hour, minute, second = (int(m[k]) for k in range(3, 7))
        when = datetime(1900 + yy if yy >= 90 else 2000 + yy, month, day, hour, minute, second)
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc).isoformat()


def _nitf_time(idatim: str | None) -> str | None:
    """A NITF 2.1 image's acquisition time (its header's ``IDATIM``, ``CCYYMMDDhhmmss`` in UTC, as GDAL
    gives it in ``NITF_IDATIM``) as ISO 8601; None when absent or not in that form (the spec allows
    ``-`` for unknown digits).

    >>> _nitf_time("20231005014852")
    '2023-10-05T01:48:52+00:00'
    """
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})", (idatim or "").strip())
    return f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}+00:00" if m else None


def is_synthetic(ds: rasterio.io.DatasetReader) -> bool:
    """Whether the file was made by ``railcount synth`` (its :data:`~railcount.models.SYNTHETIC_TAG`)."""
    return bool(ds.tags().get(SYNTHETIC_TAG))


def provider_cloud_cover(ds: rasterio.io.DatasetReader, name: str | None = None) -> float | None:
    """Percent of the scene its provider reported cloudy, from GDAL's :data:`IMAGERY_DOMAIN`
    (``CLOUDCOVER``), else a ``CLOUDCOVER`` or ``CLOUD_COVER`` tag of the file's own, else, for a
    tile of a Maxar product, the product's ``.IMD`` (:func:`~railcount.io.maxar.product_imd`; ``name`` is the
    file's path when the dataset's is not), else a Planet item's ``_metadata.json``
    (:func:`railcount.io.planet.metadata_cloud_cover`); None when none is given, or it is GDAL's
    999 (not known) or not a percentage."""
    tags, imagery = ds.tags(), _imagery_tags(ds)
    for text in (imagery.get("CLOUDCOVER"), tags.get("CLOUDCOVER"), tags.get("CLOUD_COVER")):
        try:
            value = float(text) if text is not None else math.nan
        except ValueError:
            continue
        if 0.0 <= value <= 100.0:
            return value
    if imagery:
        return None  # GDAL read the delivery's files, and they give none
    imd = product_imd(name or file_of(ds))
    return _imd_cloud_cover(imd) if imd is not None else planet.metadata_cloud_cover(file_of(ds))


def _imd_cloud_cover(imd: Path) -> float | None:
    """The first ``cloudCover`` an ``.IMD`` gives (a share of the image, 0-1), as a percentage; None
    when it gives none or an unknown one (-999)."""
    try:
        text = imd.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r"^\s*cloudCover\s*=\s*([-+0-9.eE]+)\s*;", text, re.MULTILINE)
    if m is None:
        return None
    try:
        share = float(m[1])
    except ValueError:
        return None
    return round(100.0 * share, 6) if 0.0 <= share <= 1.0 else None


def _imagery_tags(ds: rasterio.io.DatasetReader) -> dict[str, str]:
    """The dataset's :data:`IMAGERY_DOMAIN` metadata ({} when GDAL found no delivery files)."""
    return dict(ds.tags(ns=IMAGERY_DOMAIN))


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


def stored_time_unknown(acquired: str | None) -> bool:
    """Whether an acquisition time as a count stores it (ISO 8601, or None) gives no time of day: none,
    or exactly midnight UTC, how date-only metadata reads (the sun was then assumed)."""
    from railcount.detect.sun import time_of_day_unknown

    return time_of_day_unknown(parse_datetime(acquired) if acquired else None)


def parse_acquired(text: str, option: str = "--acquired") -> datetime:
    """A user's acquisition time: ISO 8601 (``2023-10-05T02:15Z``, an offset, or a bare date), UTC when naive.

    A bare date (or exactly midnight UTC) gives the day but no time of day,
    as date-only metadata does. Anything else is a one-line error.

    >>> parse_acquired("2023-10-05T11:15+09:00").isoformat()
    '2023-10-05T02:15:00+00:00'
    """
    value = parse_datetime(text)
    if value is None or not 1900 <= value.year <= 2200:
        raise UsageError(
            f"{option} {text!r}: not a date and time; give it as ISO 8601, e.g. 2023-10-05T02:15Z (UTC), "
            "2023-10-05T11:15+09:00, or a bare date 2023-10-05"
        )
    return value.astimezone(timezone.utc)


COMPASS_POINTS = tuple("N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())
"""The sixteen compass points, clockwise from north, 22.5 degrees apart."""
_COMPASS_WORDS = {"NORTH": "N", "EAST": "E", "SOUTH": "S", "WEST": "W"}


def parse_bearing(text: str, option: str = "--shadows-toward") -> float:
    """A compass bearing given on the command line: degrees clockwise from north (0-360), or one of
    the sixteen compass points (``E``, ``ENE``, ``north-west`` ...); anything else is a one-line error.

    >>> parse_bearing("75"), parse_bearing("ENE"), parse_bearing("north-west"), parse_bearing("360")
    (75.0, 67.5, 315.0, 0.0)
    """
    word = text.strip().upper().replace("-", "").replace(" ", "")
    for full, short in _COMPASS_WORDS.items():
        word = word.replace(full, short)
    if word in COMPASS_POINTS:
        return 22.5 * COMPASS_POINTS.index(word)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 360.0:
        raise UsageError(
            f"{option} {text!r}: not a bearing; give the way the shadows point on the image as degrees "
            "clockwise from north (0-360, east is 90) or a compass point such as E or NNW"
        )
    return value % 360.0


def date_from_name(name: str) -> datetime | None:
    """The date in a file name, ``YYYY-MM-DD`` (or ``YYYY_MM_DD``, ``YYYY.MM.DD``) or else ``YYYYMMDD``
    standing alone, as midnight UTC (a date alone: a time of day beside it may be local), or None.
    Day-first and two-digit-year dates (``05-10-2023``, ``231005``) are not read: they are ambiguous.

    >>> names = ("a_2023-10-05.tif", "20231005_014852_ssc2_visual.tif", "yard_2023_10_05.tif")
    >>> [date_from_name(n).date().isoformat() for n in names]
    ['2023-10-05', '2023-10-05', '2023-10-05']
    >>> date_from_name("058012345010_01_P001.tif") is None
    True
    """
    base = Path(name).name
    match = _DATE_IN_NAME.search(base)
    if match:
        y, m, d = (match[1], match[2], match[3]) if match[1] else (match[4], match[6], match[7])
    elif match := _COMPACT_DATE_IN_NAME.search(base):
        y, m, d = match[1], match[2], match[3]
    else:
        return None
    try:
        return datetime(int(y), int(m), int(d), tzinfo=timezone.utc)
    except ValueError:
        return None


def check_georeferenced(ds: rasterio.io.DatasetReader, name: str) -> None:
    """Raise :class:`NotGeoreferencedError`, whose line says how to georeference the file, unless the
    open scene ``ds`` (named ``name``) has a coordinate reference system and a geotransform."""
    if ds.crs is None and ds.rpcs is not None:
        raise NotGeoreferencedError(
            f"{name}: is not orthorectified (it carries RPCs, the sensor's model, but no map grid); "
            "orthorectify it first (gdalwarp -rpc -to RPC_DEM=dem.tif -t_srs EPSG:326NN in out.tif) or "
            "use the provider's orthorectified product"
        )
    if ds.crs is None:
        raise NotGeoreferencedError(
            f"{name}: has no coordinate reference system; railcount needs a georeferenced "
            "GeoTIFF (assign one with gdal_translate -a_srs / -a_ullr), or count the whole "
            "image in pixel space with railcount count --gsd METRES"
        )
    if not has_geotransform(ds):
        raise NotGeoreferencedError(
            f"{name}: has no geotransform; railcount needs a georeferenced GeoTIFF "
            "(assign one with gdal_translate -a_ullr), or count the whole image in pixel space "
            "with railcount count --gsd METRES"
        )


def _is_rotated(t: Affine) -> bool:
    return abs(t.b) > 1e-12 * abs(t.a) or abs(t.d) > 1e-12 * abs(t.e)


def _warn_if_striped(ds: rasterio.io.DatasetReader, sub: Window, nbands: int, name: str) -> None:
    """Warn when the file's blocks are full-width strips and the window is a small part of them.

    GDAL decodes whole blocks: for a striped file every row of the window
    costs a full row of the scene.
    """
    block_rows, block_cols = ds.block_shapes[0]
    if block_cols < ds.width:
        return
    itemsize = np.dtype(ds.dtypes[0]).itemsize
    decoded = int(sub.height + block_rows) * ds.width * nbands * itemsize
    wanted = int(sub.height) * int(sub.width) * nbands * itemsize
    if decoded < STRIPED_WARN_BYTES or decoded < STRIPED_WARN_RATIO * wanted:
        return
    warnings.warn(
        SlowReadWarning(
            f"{name}: the file is striped (untiled), so reading this {sub.width} x {sub.height} px window "
            f"decodes {decoded / 2**20:.0f} MB of full-width rows; it works but is slow. For faster reads "
            "convert it once to a tiled GeoTIFF (gdal_translate -co TILED=YES -co COMPRESS=DEFLATE) "
            "or a COG (-of COG)"
        ),
        stacklevel=3,
    )


def _north_up(window: SceneWindow) -> SceneWindow:
    """A window whose grid runs north (rows) or west (columns) turned the right way up, exactly (a flip
    of its arrays, the transform changed to match): the detector reads the sun's shadows on the side
    the transform says, and some tools write "bottom-up" rasters. The bundled sample written south-up
    read 37 of the 67 railcars it reads as delivered, the shadows taken on the wrong side of every
    track. (A rotated grid is warped when the file is opened, :func:`open_scene`.)"""
    t = window.transform
    rows, cols = window.shape
    flip_rows, flip_cols = t.e > 0, t.a < 0
    if not (flip_rows or flip_cols):
        return window
    turn = Affine.identity()
    if flip_rows:
        turn = turn * Affine.translation(0, rows) * Affine.scale(1, -1)
    if flip_cols:
        turn = turn * Affine.translation(cols, 0) * Affine.scale(-1, 1)
    take = (slice(None, None, -1 if flip_rows else 1), slice(None, None, -1 if flip_cols else 1))
    return replace(
        window,
        pixels=np.ascontiguousarray(window.pixels[take]),
        data=np.ascontiguousarray(window.data[take]),
        inside=np.ascontiguousarray(window.inside[take]),
        transform=t * turn,
    )


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
    # Everything else the window carries (its name, time, tiles, provider's cloud cover) stays.
    return replace(
        window,
        pixels=pix,
        data=resize_mask(window.data),
        inside=resize_mask(window.inside),
        transform=transform,
        gsd_m=g,
    )


def _no_overlap_message(
    ds: rasterio.io.DatasetReader, station: Station, geom: BaseGeometry, name: str
) -> str:
    b = ds.bounds
    g = geom.bounds
    msg = (
        f"{name}: station {station.name!r} does not overlap the scene "
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


def _gdal_reason(exc: BaseException) -> str:
    """GDAL's own first line, following rasterio's "see previous exception" to its cause."""
    if "previous exception" in str(exc) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.rstrip(".")
