"""Write synthetic scenes to disk: the GeoTIFF, its truth files and station polygons.

This is the I/O edge of :mod:`railcount.synth`; everything it writes is
computed elsewhere. Files for a scene with stem ``S``:

* ``S.tif`` -- 3-band uint8 RGB GeoTIFF, 256x256 tiles, JPEG-in-TIFF
  (YCbCr, quality 90) by default to keep the bundled samples small; pass
  ``compress="deflate"`` for lossless output (horizontal predictor).
  ``TIFFTAG_DATETIME`` holds the acquisition time (UTC).
* ``S.truth.geojson`` -- one Polygon Feature per vehicle (lon/lat).
* ``S.truth.json`` -- the counts inside the station.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from shapely.geometry import mapping

from railcount.errors import UsageError
from railcount.synth.render import SynthScene
from railcount.synth.sites import SITES

_COMPRESSION = {
    "jpeg": {"compress": "jpeg", "photometric": "ycbcr", "jpeg_quality": 90},
    "deflate": {"compress": "deflate", "predictor": 2, "zlevel": 9},
}


def _dump_features(collection: dict[str, Any]) -> str:
    """GeoJSON text with one feature per line: small, and diffs read well."""
    feats = ",\n".join(json.dumps(f, separators=(", ", ": ")) for f in collection["features"])
    return '{"type": "FeatureCollection", "features": [\n' + feats + "\n]}\n"


def write_geotiff(path: Path, pixels: np.ndarray, scene: SynthScene, *, compress: str = "jpeg") -> None:
    """Write (rows, cols, 3) uint8 RGB ``pixels`` with the scene's georeferencing."""
    if compress not in _COMPRESSION:
        raise UsageError(f"compress must be one of {sorted(_COMPRESSION)}; got {compress!r}")
    rows, cols, bands = pixels.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": bands,
        "dtype": "uint8",
        "crs": scene.crs,
        "transform": scene.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "interleave": "pixel",
        **_COMPRESSION[compress],
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(pixels, -1, 0))
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
        dst.update_tags(TIFFTAG_DATETIME=scene.acquired.strftime("%Y:%m:%d %H:%M:%S"), AREA_OR_POINT="Area")


def write_scene(
    scene: SynthScene, out_dir: str | Path, stem: str | None = None, *, compress: str = "jpeg"
) -> dict[str, Path]:
    """Write a scene's GeoTIFF and truth files into ``out_dir``.

    Parameters
    ----------
    scene : SynthScene
    out_dir : str or Path
        Created if missing.
    stem : str or None
        File stem; default ``f"{site}_{date}"``.
    compress : {"jpeg", "deflate"}
        GeoTIFF compression (see module docstring).

    Returns
    -------
    dict
        ``{"tif": ..., "truth_geojson": ..., "truth_json": ...}`` paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or f"{scene.spec.site}_{scene.spec.date}"
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


def write_station(site: str, out_dir: str | Path) -> Path:
    """Write ``{site}_station.geojson``: the site's station polygon in lon/lat."""
    if site not in SITES:
        raise UsageError(f"unknown site {site!r}; known sites: {', '.join(sorted(SITES))}")
    layout = SITES[site]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{site}_station.geojson"
    feature = {
        "type": "Feature",
        "properties": {"name": layout.station_name},
        "geometry": mapping(layout.station_lonlat),
    }
    path.write_text(_dump_features({"features": [feature]}))
    return path
