"""Black in every band over a square of 4 m or more, in a file that declares no nodata value (a collar, a
missing tile, a screenshot's margin), is read as no data: the station's ``observed_fraction`` drops
instead of the blackened part passing for ground without cars.

Before, the bundled sample with the western half of its window blackened read "23 railcars (19-28),
100 % observed".
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio

from railcount.cautions import is_stretched
from railcount.cli import main
from railcount.errors import StretchedPictureWarning
from railcount.io.pixelspace import read_image
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def _edited(path: Path, edit, dtype: str | None = None, nodata: float | None = None) -> Path:
    """The sample rewritten by rasterio with ``edit`` applied to its (bands, rows, cols) pixels; with
    ``nodata`` declared (as ``gdal_translate -a_nodata 0`` leaves it), else none."""
    with rasterio.open(SCENE) as src:
        pixels, tags = src.read(), src.tags()
        profile = {k: src.profile[k] for k in ("driver", "width", "height", "count", "crs", "transform")}
    assert src.nodata is None
    if dtype is not None:
        pixels = pixels.astype(dtype) * 8  # 11-bit-like data in 16 bits
    edit(pixels)
    with rasterio.open(path, "w", **profile, dtype=pixels.dtype, nodata=nodata) as dst:
        dst.write(pixels)
        dst.update_tags(**tags)
    return path


def _window(path: Path):
    (w,) = read_windows(path, read_stations(STATION))
    return w


def _west_half(pixels: np.ndarray) -> None:
    pixels[:, :, : pixels.shape[2] // 2] = 0


@pytest.mark.parametrize("dtype", [None, "uint16"])
def test_a_blackened_half_is_not_observed(tmp_path, dtype):
    whole = _window(SCENE)
    half = _window(_edited(tmp_path / "half.tif", _west_half, dtype))
    assert whole.observed_fraction == 1.0
    # What is left is the station's part east of the file's middle column, to a pixel's width.
    cols = np.arange(half.shape[1])
    with rasterio.open(SCENE) as src:
        middle = src.width // 2
        window_col0 = round((~src.transform * (half.transform.c, half.transform.f))[0])
    east = (cols + window_col0 >= middle)[None, :]
    expected = (half.inside & east).sum() / half.inside.sum()
    assert half.observed_fraction == pytest.approx(expected, abs=0.01)
    assert 0.3 < half.observed_fraction < 0.7


def test_black_specks_are_picture(tmp_path):
    """Black under 4 m a side (a pixel here and there, a 3 x 3 px speck) stays data."""

    def specks(pixels: np.ndarray) -> None:
        pixels[:, 100:103, 200:203] = 0
        pixels[:, 500, 40:640:7] = 0

    assert _window(_edited(tmp_path / "specks.tif", specks)).observed_fraction == 1.0


def test_an_all_black_window_is_one_line_exit_1(tmp_path, capsys):
    path = _edited(tmp_path / "black.tif", lambda p: p.fill(0))
    assert main(["count", str(path), "--station", str(STATION)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0] == (
        f"railcount: error: {path}: station 'Tumangang' covers only nodata pixels (or black fill) in this "
        "scene; choose a scene that images the station"
    )


def test_an_image_in_pixel_space_with_a_black_margin(tmp_path):
    png = tmp_path / "shot.png"
    rng = np.random.default_rng(0)
    img = rng.integers(40, 200, (400, 600, 3), dtype=np.uint8)
    img[:, :150] = 0  # a screenshot's black margin, a quarter of the width
    cv2.imwrite(str(png), img)
    w = read_image(png, gsd_m=0.5)
    assert w.observed_fraction == pytest.approx(0.75, abs=0.005)


def _darkest_to_zero(pixels: np.ndarray) -> None:
    """The darkest 1.6 % of the pixels (deep shadow) set to 0 in every band, as a hard stretch clips them."""
    pixels[:, pixels.mean(axis=0) < 35] = 0


def test_nodata_specks_in_shadows_are_read_as_data(tmp_path):
    """With nodata 0 declared, every pixel of a shadow that is 0 was no data: the shadows full of holes
    cost the sample a quarter of its cars (64 -> 48). Specks under a 4 m square are read as the picture's
    own black, so the file counts as the one without nodata declared."""
    plain = _edited(tmp_path / "clipped.tif", _darkest_to_zero)
    declared = _edited(tmp_path / "clipped_nodata.tif", _darkest_to_zero, nodata=0)
    stations = read_stations(STATION)
    # Shadows cut to black read as a contrast stretch's clipping (since detector 0.6.28): both files
    # are lifted back alike, and both counts say so.
    with pytest.warns(StretchedPictureWarning):
        (a,) = count_scene(plain, stations)
    with pytest.warns(StretchedPictureWarning):
        (b,) = count_scene(declared, stations)
    assert any(is_stretched(c) for c in a.cautions) and any(is_stretched(c) for c in b.cautions)
    assert b.window.observed_fraction == 1.0
    assert b.result.railcars == a.result.railcars
    assert np.allclose(b.detections.center, a.detections.center)


def test_a_declared_nodata_region_stays_no_data(tmp_path):
    half = _window(_edited(tmp_path / "half_nodata.tif", _west_half, nodata=0))
    assert 0.3 < half.observed_fraction < 0.7
