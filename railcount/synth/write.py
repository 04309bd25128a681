"""Write synthetic scenes to disk: the GeoTIFF, its truth files and station polygons.

This is the I/O edge of :mod:`railcount.synth`; everything it writes is
computed elsewhere. Files for a scene with stem ``S``:

* ``S.tif`` -- GeoTIFF, 256x256 tiles. The default product is 3-band uint8
  RGB, JPEG-in-TIFF (YCbCr, quality 90) to keep the bundled samples small;
  ``compress="deflate"`` is lossless (horizontal predictor). 16-bit products
  (11-bit B, G, R, NIR or panchromatic data) are always deflated and carry
  ``NBITS=11`` in their IMAGE_STRUCTURE metadata. Bands have their colour
  interpretation and a description. A swath edge is written as nodata 0, or
  as an internal mask in JPEG files (where lossy zeros would not be safe).
  ``TIFFTAG_DATETIME`` holds the acquisition time (UTC).
* ``S.truth.geojson`` -- one Polygon Feature per vehicle (lon/lat).
* ``S.truth.json`` -- the counts inside the station.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from shapely.geometry import mapping

from railcount.errors import UsageError
from railcount.synth.layout import SiteLayout
from railcount.synth.render import SynthScene
from railcount.synth.sites import SITES

_COMPRESSION = {
    "jpeg": {"compress": "jpeg", "photometric": "ycbcr", "jpeg_quality": 90},
    "deflate": {"compress": "deflate", "predictor": 2, "zlevel": 9},
}
_INTERP = {
    "red": ColorInterp.red,
    "green": ColorInterp.green,
    "blue": ColorInterp.blue,
    "nir": ColorInterp.nir,
    "pan": ColorInterp.pan,
}


def _dump_features(collection: dict[str, Any]) -> str:
    """GeoJSON text with one feature per line: small, and diffs read well."""
    feats = ",\n".join(json.dumps(f, separators=(", ", ": ")) for f in collection["features"])
    return '{"type": "FeatureCollection", "features": [\n' + feats + "\n]}\n"


def write_geotiff(path: Path, pixels: np.ndarray, scene: SynthScene, *, compress: str | None = None) -> None:
    """Write (rows, cols, bands) ``pixels`` with the scene's georeferencing, bands and validity.

    ``compress`` is ``"jpeg"`` or ``"deflate"``; None picks JPEG for 8-bit and
    deflate for 16-bit data (JPEG is refused for 16-bit data).
    """
    rows, cols, bands = pixels.shape
    dtype = np.dtype(pixels.dtype)
    compress = compress or ("jpeg" if dtype == np.uint8 else "deflate")
    if compress not in _COMPRESSION:
        raise UsageError(f"compress must be one of {sorted(_COMPRESSION)}; got {compress!r}")
    if compress == "jpeg" and dtype != np.uint8:
        raise UsageError(f"JPEG compression needs 8-bit data; this product is {dtype.name}: use deflate")
    options: dict[str, Any] = dict(_COMPRESSION[compress])
    if compress == "jpeg" and bands != 3:
        options["photometric"] = "minisblack"
    if dtype == np.uint16:
        options.update(nbits=11, predictor=1)  # bit-packed 11-bit samples; the predictor wants whole words
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": bands,
        "dtype": dtype.name,
        "crs": scene.crs,
        "transform": scene.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "interleave": "pixel",
        **options,
    }
    masked = scene.valid is not None
    if masked and compress != "jpeg":
        profile["nodata"] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(pixels, -1, 0))
        dst.colorinterp = [_INTERP[name] for name in scene.band_names]
        if not scene.spec.plain:
            dst.descriptions = tuple(scene.band_names)
        if scene.valid is not None and compress == "jpeg":
            dst.write_mask(np.where(scene.valid, 255, 0).astype(np.uint8))
        dst.update_tags(TIFFTAG_DATETIME=scene.acquired.strftime("%Y:%m:%d %H:%M:%S"), AREA_OR_POINT="Area")


def write_scene(
    scene: SynthScene, out_dir: str | Path, stem: str | None = None, *, compress: str | None = None
) -> dict[str, Path]:
    """Write a scene's GeoTIFF and truth files into ``out_dir``.

    Parameters
    ----------
    scene : SynthScene
    out_dir : str or Path
        Created if missing.
    stem : str or None
        File stem; default ``f"{site}_{date}"`` (``site`` is e.g. ``generic-7`` for a generic yard).
    compress : {"jpeg", "deflate"} or None
        GeoTIFF compression (see module docstring); None: JPEG for 8-bit, deflate for 16-bit data.

    Returns
    -------
    dict
        ``{"tif": ..., "truth_geojson": ..., "truth_json": ...}`` paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    site = scene.site.name if scene.site is not None else scene.spec.site
    stem = stem or f"{site}_{scene.spec.date}"
    paths = {
        "tif": out / f"{stem}.tif",
        "truth_geojson": out / f"{stem}.truth.geojson",
        "truth_json": out / f"{stem}.truth.json",
    }
    write_geotiff(paths["tif"], scene.pixels, scene, compress=compress)
    paths["truth_geojson"].write_text(_dump_features(scene.truth.to_geojson()))
    counts = {"scene": paths["tif"].name, **scene.counts()}
    paths["truth_json"].write_text(json.dumps(counts, indent=2) + "\n")
    return paths


def write_station(site: str | SiteLayout, out_dir: str | Path) -> Path:
    """Write ``{name}_station.geojson``: a site's station polygon in lon/lat.

    ``site`` is a fixed site's name (see :data:`~railcount.synth.SITES`) or a
    layout, such as ``scene.site`` of a generic yard.
    """
    if isinstance(site, SiteLayout):
        layout = site
    elif site in SITES:
        layout = SITES[site]
    elif site == "generic":
        raise UsageError("a generic site depends on the seed: pass the scene's layout (scene.site)")
    else:
        raise UsageError(f"unknown site {site!r}; known sites: {', '.join(sorted(SITES))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{layout.name}_station.geojson"
    feature = {
        "type": "Feature",
        "properties": {"name": layout.station_name},
        "geometry": mapping(layout.station_lonlat),
    }
    # Written whole and then renamed: processes generating scenes of one site side by
    # side write the same station, and one must never read it half written.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(_dump_features({"features": [feature]}))
    os.replace(partial, path)
    return path
