"""Count imagery without georeferencing, in pixel space, when the user supplies its GSD.

A PNG, a JPEG or a GeoTIFF stripped of its georeferencing cannot be clipped
to a station polygon: nothing says where on Earth its pixels are. With
``--gsd METRES`` railcount counts the **whole image** instead:

* the "station" is the image's footprint, named after the file;
* the pixels are placed on a stand-in local grid (an azimuthal equidistant
  projection in metres centred at 0 deg E, 45 deg N) only so that the rest
  of the pipeline, which speaks map coordinates, runs unchanged; those
  coordinates mean nothing and are never written out as if they did;
* ``detections.geojson`` is not written (it would put the cars at a made-up
  place); ``detections.csv`` gives each car in pixel coordinates instead,
  and ``count.json`` says ``"georeferenced": false``;
* the sun's direction is unknown, so the shadow side is taken from the image
  (as for scenes without an acquisition time), with the sun's height of a
  mid-latitude (45 deg) at the acquisition date, or the equinox.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import box, mapping, shape

from railcount.errors import SceneReadError, UsageError
from railcount.io.bands import band_choice, picture, value_range, warn_negative_values
from railcount.io.gdalenv import gdal_env, is_remote
from railcount.io.memory import check_window_fits
from railcount.io.mosaic import scene_label
from railcount.io.scenes import acquisition_source, has_geotransform, is_synthetic, open_file, read_bands
from railcount.models import SceneWindow, Station

PIXEL_CRS = CRS.from_proj4("+proj=aeqd +lat_0=45 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs")
"""The stand-in grid for ungeoreferenced images (see the module docstring)."""

MIN_GSD_M, MAX_GSD_M = 0.05, 5.0


def is_pixel_space(window: SceneWindow) -> bool:
    """True for a window read by :func:`read_image` (no real georeferencing)."""
    return window.crs == PIXEL_CRS


def read_image(
    scene: str | os.PathLike[str],
    *,
    gsd_m: float,
    bands: Sequence[int] | None = None,
) -> SceneWindow:
    """Read a whole ungeoreferenced image as one window with the given ground sample distance.

    Raises
    ------
    UsageError
        ``gsd_m`` is outside 0.05-5 m, or the image is georeferenced (then use a station).
    SceneReadError
        The file cannot be opened or read.
    """
    name = scene_label(scene)
    if not (MIN_GSD_M <= gsd_m <= MAX_GSD_M) or not math.isfinite(gsd_m):
        raise UsageError(
            f"--gsd {gsd_m:g}: expected the ground sample distance in metres, {MIN_GSD_M}-{MAX_GSD_M}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with gdal_env(remote=is_remote(name), names=[name]), open_file(name) as ds:
            if ds.crs is not None and has_geotransform(ds):
                raise UsageError(
                    f"{name}: is georeferenced ({ds.crs.to_string()}); drop --gsd and give --station, "
                    "so the station polygon is clipped and the GSD measured from the file"
                )
            label = Path(name).stem or "image"  # the stand-in station's name
            check_window_fits(ds.height, ds.width, gsd_m, name, label)
            band_idx, guessed = band_choice(ds, bands, name)
            data, data_mask = read_bands(ds, band_idx, Window(0, 0, ds.width, ds.height), name)
            pixels = np.ascontiguousarray(np.moveaxis(data, 0, -1))
            rows, cols = pixels.shape[:2]
            transform = Affine(gsd_m, 0.0, -cols * gsd_m / 2, 0.0, -gsd_m, rows * gsd_m / 2)
            footprint = box(-cols * gsd_m / 2, -rows * gsd_m / 2, cols * gsd_m / 2, rows * gsd_m / 2)
            lonlat = shape(transform_geom(PIXEL_CRS, "EPSG:4326", mapping(footprint)))
            station = Station(name=label, geometry=lonlat, properties={})
            inside = np.ones((rows, cols), dtype=bool)
            data_mask = picture(data_mask, pixels, gsd_m)
            if not data_mask.any():
                raise SceneReadError(f"{name}: every pixel is nodata (or black fill); nothing to count")
            warn_negative_values(pixels, data_mask, name)
            acquisition = acquisition_source(ds, name)
            return SceneWindow(
                pixels=pixels,
                data=data_mask,
                inside=inside,
                transform=transform,
                crs=PIXEL_CRS,
                gsd_m=gsd_m,
                scene_id=name,
                station=station,
                acquired=acquisition.when,
                acquired_from=acquisition.source,
                value_range=value_range(ds, pixels, data_mask),
                bands=tuple(band_idx),
                bands_guessed=guessed,
                synthetic=is_synthetic(ds),
            )
