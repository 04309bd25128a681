"""What `--out` writes: GeoJSON that GDAL reads with the right CRS and the cars in place,
a count.json with the parameters, and an overlay image."""

from __future__ import annotations

import json
import types

import cv2
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from railcount.cli import main

from .geofixtures import write_synth

pyogrio = pytest.importorskip("pyogrio", reason="pyogrio (test extra) reads GeoJSON through GDAL")


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    paths, station = write_synth(d, date="2021-05-02", cars=30, gsd_m=0.5, seed=77)
    assert main(["count", str(paths["tif"]), "--station", str(station), "--out", str(d / "result")]) == 0
    return d / "result", paths


def test_detections_open_in_gdal_with_wgs84_and_land_on_true_cars(counted):
    out, paths = counted
    info = pyogrio.read_info(out / "detections.geojson")
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Polygon"
    count = json.loads((out / "count.json").read_text())
    assert info["features"] == count["railcars"] + count["locomotives"]
    _, _, wkb, _ = pyogrio.raw.read(out / "detections.geojson")
    detected = shapely.from_wkb(wkb)
    truth = [
        shape(f["geometry"])
        for f in json.loads(paths["truth_geojson"].read_text())["features"]
        if f["properties"]["is_railcar"]
    ]
    hits = shapely.STRtree(truth).query(detected, predicate="intersects")
    # Most detected footprints overlap a true car footprint.
    assert len(np.unique(hits[0])) >= 0.8 * len(detected)


def test_count_json_records_parameters(counted):
    out, _ = counted
    rec = json.loads((out / "count.json").read_text())
    assert rec["detector_params"]["car_width_m"] > 2
    assert rec["gsd_m"] == pytest.approx(0.5, rel=0.01)


def test_overlay_is_an_image_of_the_station(counted):
    out, _ = counted
    img = cv2.imread(str(out / "overlay.png"))
    assert img is not None and img.ndim == 3 and min(img.shape[:2]) > 500
    # The station outline is drawn in yellow (BGR 66, 228, 240).
    yellow = np.all(np.abs(img.astype(int) - (66, 228, 240)) < 30, axis=2)
    assert yellow.sum() > 1000


def test_overlay_shading_dims_outside_greys_nodata_and_hatches_cloud():
    """The overlay's shading, against the rule written out plainly: outside the station each value
    times 0.45 (truncated), no data (40, 40, 40), opaque cloud striped on every third band of four
    diagonals, a cloud's shadow on every eighth band of two the other way, both inside the station
    only (outside they change no count); the rest as the detector saw it."""
    from railcount.io import outputs

    rng = np.random.default_rng(3)
    rows, cols = 120, 170
    yy, xx = np.mgrid[:rows, :cols]
    window = types.SimpleNamespace(
        inside=(yy - 60) ** 2 + (xx - 80) ** 2 < 50**2,
        data=~((yy > 100) & (xx > 130)),
    )
    cloud = (yy < 40) & (xx > 110)
    base = rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)
    expected = base.copy()
    expected[~window.inside] = (base[~window.inside] * 0.45).astype(np.uint8)
    expected[~window.data] = (40, 40, 40)
    expected[cloud & window.inside & (((yy + xx) // 4) % 3 == 0)] = outputs._CLOUD
    for mask in (cloud, None, np.zeros_like(cloud)):
        img = base.copy()
        assert outputs._shade(img, window, mask) == (mask is not None and bool(mask.any()), False)
        if mask is cloud:
            np.testing.assert_array_equal(img, expected)
    # A cloud's shadow: thin stripes the other way, every eighth band of two diagonals.
    shade = (yy > 60) & (xx < 60)
    with_shade = expected.copy()
    with_shade[shade & window.inside & (((yy - xx) // 2) % 8 == 0)] = outputs._SHADE
    img = base.copy()
    assert outputs._shade(img, window, cloud, shade) == (True, True)
    np.testing.assert_array_equal(img, with_shade)
    # Cloud and shadow wholly outside the station (a bright roof beside it): nothing hatched, and the
    # legend gets no key for them.
    img = base.copy()
    assert outputs._shade(img, window, cloud & ~window.inside, shade & ~window.inside) == (False, False)
    plain = base.copy()
    plain[~window.inside] = (base[~window.inside] * 0.45).astype(np.uint8)
    plain[~window.data] = (40, 40, 40)
    np.testing.assert_array_equal(img, plain)
    img = base.copy()
    outputs._shade(img, window, None)
    plain = expected.copy()
    plain[cloud] = base[cloud]
    plain[cloud & ~window.inside] = (base[cloud & ~window.inside] * 0.45).astype(np.uint8)
    np.testing.assert_array_equal(img, plain)


def test_the_overlay_png_holds_the_picture_compactly(tmp_path, counted_sample):
    """The overlay file decodes to exactly the picture drawn, and is saved at zlib level 1, well under
    what OpenCV's default PNG settings write (about half: 2.6 against 5.0 MB for the sample)."""
    from railcount.io import outputs

    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    paths = outputs.write_outputs(tmp_path, window, dets, result)
    picture = outputs.overlay_image(window, dets, result)
    assert np.array_equal(cv2.imread(str(paths["overlay"])), picture)
    ok, default = cv2.imencode(".png", picture)
    assert ok and paths["overlay"].stat().st_size < 0.7 * len(default)
