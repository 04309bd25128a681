"""What a scene's file says of it (acquisition time, the provider's cloud cover) reaches the count when
the pixels are read through a virtual dataset: a rotated grid or ground control points warped north-up,
or tiles stitched into a mosaic. And a file placed only by ground control points is counted; one with
only a sensor model (RPCs) is refused with what to do."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.rpc import RPC
from rasterio.warp import Resampling

from railcount.cli import main
from railcount.errors import ProviderCloudWarning
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION, SAMPLES, rotated, split_scene, write_tif

IMD = (
    'version = "28.3";\nBEGIN_GROUP = IMAGE_1\n\tsatId = "WV02";\n'
    "\tfirstLineTime = 2023-10-05T01:48:52.000000Z;\n\tcloudCover = 0.120;\nEND_GROUP = IMAGE_1\nEND;\n"
)
"""A Maxar-style delivery file: taken on 2023-10-05 at 01:48:52 UTC, 12 % cloud."""


@pytest.fixture(scope="module")
def sample():
    with rasterio.open(SAMPLE_SCENE) as ds:
        pix, t, crs, tags = ds.read(), ds.transform, ds.crs, ds.tags()
    return pix, t, crs, tags, count_scene(SAMPLE_SCENE, read_stations(SAMPLE_STATION))[0].result


def _count(scene) -> dict:
    return count_scene(scene, read_stations(SAMPLE_STATION))[0].result.to_dict()


def test_a_rotated_file_keeps_its_delivery_metadata(tmp_path, sample):
    pix, t, crs, _, ref = sample
    out, rot = rotated(pix, t, crs, resampling=Resampling.bilinear)
    scene = write_tif(tmp_path / "scene.tif", np.moveaxis(out, 0, -1), crs=crs, transform=rot)  # no tags
    (tmp_path / "scene.IMD").write_text(IMD)
    with pytest.warns(ProviderCloudWarning):  # the caution the provider's 12 % brings
        got = _count(scene)
    # Before: the warped VRT dropped the delivery's metadata, and the sun was assumed at 10:30.
    assert got["acquired"] == "2023-10-05T01:48:52+00:00" and got["sun"]["time_of_day"] == "given"
    assert got["provider_cloud_cover"] == pytest.approx(12.0)
    assert ref.railcars_low <= got["railcars"] <= ref.railcars_high
    # A batch dates it too (before: skipped, "no acquisition date").
    from railcount.batch import run_batch

    summary = run_batch(SAMPLE_STATION, tmp_path, db=tmp_path / "r.db", workers=1)
    assert (summary.ok, summary.skipped) == (1, 0)


def test_a_file_placed_by_ground_control_points_is_counted(tmp_path, sample):
    pix, t, crs, tags, ref = sample
    rows, cols = pix.shape[1:]
    corners = [(0, 0), (0, cols), (rows, 0), (rows, cols), (rows // 2, cols // 3)]
    gcps = [GroundControlPoint(row=r, col=c, x=(t * (c, r))[0], y=(t * (c, r))[1]) for r, c in corners]
    scene = write_tif(tmp_path / "placed.tif", np.moveaxis(pix, 0, -1), crs=None)
    with rasterio.open(scene, "r+") as ds:
        ds.gcps = (gcps, crs)
        ds.update_tags(**tags)
    got = _count(scene)
    # The grid GDAL fits to the points is the original's: the same pixels, time and count.
    assert got["gsd_m"] == pytest.approx(ref.gsd_m, rel=1e-3)
    assert got["acquired"] == ref.acquired.isoformat() and got["railcars"] == ref.railcars


def test_a_file_with_only_a_sensor_model_is_refused_with_what_to_do(tmp_path, sample, capsys):
    pix = sample[0]
    scene = write_tif(tmp_path / "basic.tif", np.moveaxis(pix, 0, -1), crs=None)
    unit = [1.0] + [0.0] * 19
    with rasterio.open(scene, "r+") as ds:
        ds.rpcs = RPC(
            height_off=10,
            height_scale=100,
            lat_off=42.43,
            lat_scale=0.01,
            long_off=130.6,
            long_scale=0.01,
            line_off=500,
            line_scale=500,
            samp_off=680,
            samp_scale=680,
            line_den_coeff=unit,
            samp_den_coeff=unit,
            line_num_coeff=[0, 0, -1] + [0] * 17,
            samp_num_coeff=[0, 1] + [0] * 18,
        )
    code = main(["count", str(scene), "--station", str(SAMPLE_STATION)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "basic.tif: is not orthorectified" in err and "gdalwarp -rpc" in err


def test_a_mosaic_takes_its_first_tiles_delivery_metadata(tmp_path, capsys):
    # The 2021-03-18 sample (its own TIFF DateTime says so) in two tiles, each with a delivery file
    # that says 2023-10-05; an in-memory mosaic has no delivery files beside it.
    tiles = split_scene(SAMPLES / "tumangang_2021-03-18.tif", tmp_path / "tiles", 2)
    for tile in tiles:
        tile.with_suffix(".IMD").write_text(IMD)
    with pytest.warns(ProviderCloudWarning):
        (w,) = count_scene(tiles, read_stations(SAMPLE_STATION))
    got = w.result.to_dict()
    assert got["acquired"] == "2023-10-05T01:48:52+00:00"
    assert got["provider_cloud_cover"] == pytest.approx(12.0)
    assert got["tiles"] == [str(t) for t in tiles]
    assert main(["count", str(tmp_path / "tiles"), "--station", str(SAMPLE_STATION), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["acquired"] == "2023-10-05T01:48:52+00:00"


def test_tiles_of_different_dates_are_not_stitched_into_one_scene(tmp_path, capsys):
    # One product's grid, two dates (a folder of a station's scenes cut on a fixed tiling): before,
    # they were stitched together and dated by the first.
    tiles = split_scene(SAMPLE_SCENE, tmp_path / "mixed", 2)
    with rasterio.open(tiles[1], "r+") as ds:
        ds.update_tags(TIFFTAG_DATETIME="2021:03:18 02:28:39")
    code = main(["count", str(tmp_path / "mixed"), "--station", str(SAMPLE_STATION)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "R1C2.tif: taken 2021-03-18T02:28:39+00:00, but" in err and "of one acquisition" in err
    # Said to be one (--acquired), they are read as one: the time given wins, as everywhere.
    argv = ["count", str(tmp_path / "mixed"), "--station", str(SAMPLE_STATION)]
    assert main([*argv, "--acquired", "2023-10-05T01:48:52Z"]) == 0
    capsys.readouterr()
    # Tiles of one acquisition, one of them without any time of its own, still read as one.
    with rasterio.open(tiles[1], "r+") as ds:
        ds.update_tags(TIFFTAG_DATETIME="")
    assert main(["count", str(tmp_path / "mixed"), "--station", str(SAMPLE_STATION)]) == 0
