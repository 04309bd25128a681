"""benchmarks/real_gsd.py's coarser copies keep the place, the date and the light of the original."""

import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from .geofixtures import ORIGIN, write_tif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from real_gsd import coarser


def _write(path: Path, gsd: float) -> np.ndarray:
    rng = np.random.default_rng(5)
    rows, cols = 400, 600
    pixels = np.zeros((rows, cols, 3), np.uint8)
    pixels[:] = rng.integers(60, 200, (rows, cols, 1), dtype=np.uint8)
    pixels[100:140] = 250  # a bright band 40 px tall, across the image
    write_tif(
        path,
        pixels,
        transform=from_origin(*ORIGIN, gsd, gsd),
        tags={"TIFFTAG_DATETIME": "2018:06:01 00:00:00"},
    )
    return np.moveaxis(pixels, -1, 0)


def test_coarser_copy_keeps_place_date_and_mean(tmp_path):
    src = tmp_path / "fine.tif"
    fine = _write(src, 0.25)
    out = coarser(src, 0.75, 0.55, tmp_path / "coarse.tif")
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert b.res == (0.75, 0.75)
        assert (b.width, b.height) == (200, 133)
        assert b.crs == a.crs
        assert abs(b.bounds.left - a.bounds.left) < 1e-6 and abs(b.bounds.top - a.bounds.top) < 1e-6
        assert b.tags()["TIFFTAG_DATETIME"] == "2018:06:01 00:00:00"
        coarse = b.read()
    # Averaging and a blur keep the mean brightness, and the band stays where it was (rows 100-140
    # of 0.25 m pixels: 25-35 m down, rows 33-46 of 0.75 m pixels).
    assert abs(float(coarse.mean()) - float(fine[:, :399].mean())) < 2.0
    profile = coarse[0].mean(axis=1)
    assert 35 <= int(np.argmax(profile)) <= 44
    assert profile[38] > profile[20] + 60


def test_a_shifted_grid_starts_half_a_coarse_pixel_in(tmp_path):
    src = tmp_path / "fine.tif"
    _write(src, 0.25)
    out = coarser(src, 0.75, 0.0, tmp_path / "shifted.tif", phase=(0.5, 0.5))
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert abs(b.bounds.left - (a.bounds.left + 0.375)) < 1e-6
        assert abs(b.bounds.top - (a.bounds.top - 0.375)) < 1e-6
        assert b.res == (0.75, 0.75) and b.width == 199
        profile = b.read(1).mean(axis=1)
    # The band (25-35 m down) now starts 0.375 m nearer the grid's top.
    assert 32 <= int(np.argmax(profile)) <= 45
