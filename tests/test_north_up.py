"""A GeoTIFF whose grid runs north (a "bottom-up" raster: positive pixel height) or west is turned the
right way up as it is read, exactly, so the count is the file's as delivered north-up.

Before, the bundled sample written south-up read 37 of its 67 railcars: the detector took the sun's
shadows on the wrong side of every track.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def _flipped(path: Path, rows: bool, cols: bool) -> Path:
    """The sample's pixels and grid flipped (the same ground at every pixel), written by rasterio."""
    with rasterio.open(SCENE) as src:
        pixels, tags, t = src.read(), src.tags(), src.transform
        profile = {k: src.profile[k] for k in ("driver", "dtype", "width", "height", "count", "crs")}
    if rows:
        pixels = pixels[:, ::-1, :]
        t = t * Affine.translation(0, src.height) * Affine.scale(1, -1)
    if cols:
        pixels = pixels[:, :, ::-1]
        t = t * Affine.translation(src.width, 0) * Affine.scale(-1, 1)
    with rasterio.open(path, "w", **profile, transform=t) as dst:
        dst.write(np.ascontiguousarray(pixels))
        dst.update_tags(**tags)
    with rasterio.open(path) as check:  # written as meant: rows run north, or columns west
        assert (check.transform.e > 0) == rows and (check.transform.a < 0) == cols
    return path


@pytest.mark.parametrize(("rows", "cols"), [(True, False), (False, True), (True, True)])
def test_a_flipped_grid_reads_as_the_north_up_one(tmp_path, rows, cols):
    stations = read_stations(STATION)
    (north_up,) = read_windows(SCENE, stations)
    (w,) = read_windows(_flipped(tmp_path / "flipped.tif", rows, cols), stations)
    assert np.array_equal(w.pixels, north_up.pixels)
    assert np.array_equal(w.inside, north_up.inside) and np.array_equal(w.data, north_up.data)
    assert w.transform.almost_equals(north_up.transform)


def test_a_south_up_file_counts_as_delivered_north_up(tmp_path):
    stations = read_stations(STATION)
    (north_up,) = count_scene(SCENE, stations)
    (south_up,) = count_scene(_flipped(tmp_path / "south_up.tif", True, False), stations)
    assert south_up.result.railcars == north_up.result.railcars
    assert np.allclose(south_up.detections.center, north_up.detections.center)
