"""Shared fixtures: real GeoTIFFs and station files written into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points

SHARED_REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"

# A small UTM (EPSG:32652) grid near Tumangang: 0.5 m pixels.
UTM = "EPSG:32652"
ORIGIN = (634000.0, 4697000.0)  # upper-left corner, metres


def write_tif(path: Path, pixels: np.ndarray, *, crs: str | None = UTM, transform=None,
              nodata=None, tags: dict | None = None, **extra) -> Path:
    """Write (rows, cols, bands) pixels as a tiled GeoTIFF."""
    rows, cols, bands = pixels.shape
    profile = dict(driver="GTiff", width=cols, height=rows, count=bands, dtype=pixels.dtype,
                   tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    if crs is not None:
        profile["crs"] = crs
        profile["transform"] = transform or from_origin(*ORIGIN, 0.5, 0.5)
    if nodata is not None:
        profile["nodata"] = nodata
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.moveaxis(pixels, -1, 0))
        if tags:
            ds.update_tags(**tags)
    return path


def lonlat_ring(crs: str, xs, ys) -> list[list[float]]:
    lon, lat = warp_points(crs, "EPSG:4326", list(xs), list(ys))
    ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
    return [*ring, ring[0]]


def write_station(path: Path, rings: dict[str, list[list[float]]]) -> Path:
    feats = [{"type": "Feature", "properties": {"name": name},
              "geometry": {"type": "Polygon", "coordinates": [ring]}} for name, ring in rings.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def box_ring(x0: float, y0: float, x1: float, y1: float, crs: str = UTM) -> list[list[float]]:
    """A lon/lat ring of a map-coordinate box."""
    return lonlat_ring(crs, [x0, x1, x1, x0], [y0, y0, y1, y1])


@pytest.fixture
def plain_scene(tmp_path: Path) -> Path:
    """A 400 x 600 px (200 x 300 m) grey uint8 scene with mild noise, dated in its tags."""
    rng = np.random.default_rng(0)
    pix = np.clip(120 + rng.normal(0, 6, (400, 600, 3)), 0, 255).astype(np.uint8)
    return write_tif(tmp_path / "plain_2022-05-01.tif", pix, tags={"TIFFTAG_DATETIME": "2022:05:01 02:30:00"})


@pytest.fixture
def inner_station(tmp_path: Path) -> Path:
    """A station covering the middle of ``plain_scene``."""
    x0, y0 = ORIGIN
    return write_station(tmp_path / "station.geojson",
                         {"Inner": box_ring(x0 + 50, y0 - 150, x0 + 250, y0 - 50)})


@pytest.fixture
def shared_real() -> Path:
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real scenes not available ({SHARED_REAL} is absent)")
    return SHARED_REAL
