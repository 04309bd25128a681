"""benchmarks/containers.py: each copy holds the scene's own pixels, and the table's figures."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from railcount.errors import BandOrderWarning
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import ORIGIN, box_ring, write_station, write_tif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from containers import CONTAINERS, Counted, copies, table


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path]:
    """A small 8-bit colour scene, its bands stored blue, green, red but named, and a station in it."""
    rng = np.random.default_rng(4)
    rgb = rng.integers(20, 240, (120, 160, 3), dtype=np.uint8)
    path = write_tif(
        tmp_path / "yard_2021-05-01.tif",
        rgb[:, :, ::-1].copy(),
        tags={"NOTE": "kept", "TIFFTAG_DATETIME": "2021:05:01 02:15:30"},
    )
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [ColorInterp.blue, ColorInterp.green, ColorInterp.red]
    x0, y0 = ORIGIN
    station = write_station(tmp_path / "st.geojson", {"In": box_ring(x0 + 10, y0 - 50, x0 + 70, y0 - 10)})
    return path, station


def test_every_copy_reads_as_the_scene(tmp_path: Path, scene) -> None:
    path, station = scene
    made = copies(path, tmp_path / "copies")
    assert list(made) == list(CONTAINERS)
    stations = read_stations(station)
    (own,) = read_windows(path, stations)
    reads = {}
    for container, copy in made.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BandOrderWarning)
            bands = (3, 2, 1) if container == "BGRN, --bands 3,2,1" else None
            (reads[container],) = read_windows(copy, stations, bands=bands)
        with rasterio.open(copy) as ds:
            assert ds.tags(1, "IMAGE_STRUCTURE").get("NBITS") is None
            # A Planet asset keeps nothing but the pixels: the time is in its name only.
            planet = container == "Planet analytic"
            assert ds.tags().get("NOTE") == (None if planet else "kept")
            assert ("TIFFTAG_DATETIME" in ds.tags()) is not planet
    assert made["Planet analytic"].name == "20210501_021530_ssc9_u0000_analytic.tif"
    assert {w.acquired for w in reads.values()} == {own.acquired}
    eight = own.pixels.astype(np.float64)
    np.testing.assert_array_equal(reads["16-bit, no NBITS"].pixels, eight * 8)
    np.testing.assert_array_equal(reads["float32"].pixels, eight)
    np.testing.assert_array_equal(reads["BGRN, --bands 3,2,1"].pixels, eight * 8)
    np.testing.assert_array_equal(reads["Planet analytic"].pixels, eight * 8)
    assert reads["Planet analytic"].bands == (3, 2, 1) and not reads["Planet analytic"].bands_guessed
    # Without names the file's first three bands (blue, green, red) are read as red, green, blue.
    np.testing.assert_array_equal(reads["BGRN, no names"].pixels, eight[:, :, ::-1] * 8)
    assert reads["16-bit, no NBITS"].value_range == reads["BGRN, --bands 3,2,1"].value_range == (0.0, 2047.0)
    assert reads["float32"].value_range == (0.0, 255.0)


def test_the_table_compares_each_copy_with_the_scene_as_generated() -> None:
    types = {"tank": 4, "covered": 4, "open": 2, "flat": 0, "unclassified": 0}
    moved = {"tank": 2, "covered": 4, "open": 4, "flat": 0, "unclassified": 0}
    scenes = [
        [Counted("as generated", 12, 10, types), Counted("float32", 12, 10, types)],
        [Counted("as generated", 8, 9, types), Counted("float32", 8, 10, moved)],
    ]
    lines = table(scenes)
    own = next(line for line in lines if line.startswith("as generated"))
    floats = next(line for line in lines if line.startswith("float32"))
    assert own.split()[2:] == ["2", "20", "15.0%", "-5.0%", "2", "of", "2", "0.0%"]
    # Error 2 + 2 of 20, bias -2 + 2; one of two counts the same; 2 of 19 railcars' types moved.
    assert floats.split()[1:] == ["2", "20", "20.0%", "+0.0%", "1", "of", "2", "10.5%"]
    assert not any(line.startswith("16-bit") for line in lines)


def test_a_swath_edge_s_mask_goes_with_every_copy(tmp_path: Path, scene) -> None:
    path, station = scene
    with rasterio.open(path, "r+") as ds:
        mask = np.full((ds.height, ds.width), 255, np.uint8)
        mask[:, :60] = 0  # the swath's edge: no data
        ds.write_mask(mask)
    (own,) = read_windows(path, read_stations(station))
    assert not own.data.all()
    for container, copy in copies(path, tmp_path / "copies").items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BandOrderWarning)
            (got,) = read_windows(copy, read_stations(station))
        np.testing.assert_array_equal(got.data, own.data, err_msg=container)
