"""The loader: windows, masks, georeferencing, GSD, dates and its errors."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import calculate_default_transform, reproject

from railcount.errors import (
    NoOverlapError,
    NotGeoreferencedError,
    NoValidPixelsError,
    SceneReadError,
    StationError,
)
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import ORIGIN, UTM, box_ring, write_station, write_tif


def test_window_covers_station_with_margin(plain_scene, inner_station):
    (w,) = read_windows(plain_scene, read_stations(inner_station), margin_m=10.0)
    # 200 x 100 m station at 0.5 m, plus 10 m (20 px) each side.
    assert w.shape == (200 + 40, 400 + 40)
    assert w.gsd_m == pytest.approx(0.5, rel=2e-3)
    assert w.inside.sum() == pytest.approx(200 * 400, rel=0.01)
    assert not w.inside[:20].any() and not w.inside[:, :20].any()
    assert w.observed_fraction == pytest.approx(1.0)
    assert w.acquired == datetime(2022, 5, 1, 2, 30, tzinfo=timezone.utc)
    # The window's transform puts its upper-left pixel 40 m right and 40 m down of the scene's.
    assert w.transform.c == pytest.approx(ORIGIN[0] + 40.0)
    assert w.transform.f == pytest.approx(ORIGIN[1] - 40.0)
    assert w.crs.to_epsg() == 32652


def test_pixels_match_the_file(tmp_path, inner_station):
    rng = np.random.default_rng(3)
    pix = rng.integers(0, 255, (400, 600, 3), dtype=np.uint8)
    scene = write_tif(tmp_path / "s.tif", pix)
    (w,) = read_windows(scene, read_stations(inner_station), margin_m=0.0)
    r0, c0 = 100, 100  # the station's upper-left in scene pixels
    np.testing.assert_array_equal(w.pixels, pix[r0 : r0 + 200, c0 : c0 + 400])


def test_station_partly_outside_counts_imaged_part(tmp_path, plain_scene):
    x0, y0 = ORIGIN
    # Half of the station hangs off the scene's left edge.
    st = write_station(tmp_path / "half.geojson", {"Half": box_ring(x0 - 50, y0 - 150, x0 + 50, y0 - 50)})
    (w,) = read_windows(plain_scene, read_stations(st), margin_m=0.0)
    assert w.observed_fraction == pytest.approx(0.5, abs=0.02)
    assert not w.data[:, :90].any()


def test_nodata_lowers_observed_fraction(tmp_path, inner_station):
    pix = np.full((400, 600, 3), 100, np.uint8)
    pix[:, :200] = 0  # left third is nodata, covering the station's first 100 columns (a quarter)
    scene = write_tif(tmp_path / "nd.tif", pix, nodata=0)
    (w,) = read_windows(scene, read_stations(inner_station), margin_m=0.0)
    assert w.observed_fraction == pytest.approx(0.25 * 0 + 0.75, abs=0.01)


def test_all_nodata_window_is_an_error(tmp_path, inner_station):
    scene = write_tif(tmp_path / "empty.tif", np.zeros((400, 600, 3), np.uint8), nodata=0)
    with pytest.raises(NoValidPixelsError, match="only nodata"):
        read_windows(scene, read_stations(inner_station))


def test_station_outside_names_both_extents_and_hints_at_swapped_axes(tmp_path):
    # Near Basel both axis orders are valid lon/lat, so the swap is only caught by the overlap test.
    crs, x0, y0 = "EPSG:32632", 390000.0, 5265000.0
    scene = write_tif(
        tmp_path / "basel.tif",
        np.full((400, 600, 3), 90, np.uint8),
        crs=crs,
        transform=from_origin(x0, y0, 0.5, 0.5),
    )
    ring = box_ring(x0 + 50, y0 - 150, x0 + 250, y0 - 50, crs=crs)
    swapped = [[lat, lon] for lon, lat in ring]
    st = write_station(tmp_path / "swapped.geojson", {"Swapped": swapped})
    with pytest.raises(NoOverlapError) as exc:
        read_windows(scene, read_stations(st))
    msg = str(exc.value)
    assert "EPSG:32632" in msg and "station bounds" in msg and "scene bounds" in msg
    assert "swapping longitude and latitude" in msg


def test_swapped_coordinates_out_of_range_get_a_hint(tmp_path):
    x0, y0 = ORIGIN
    swapped = [[lat, lon] for lon, lat in box_ring(x0 + 50, y0 - 150, x0 + 250, y0 - 50)]
    st = write_station(tmp_path / "swapped.geojson", {"Swapped": swapped})
    with pytest.raises(StationError, match="look like latitude, longitude"):
        read_stations(st)


def test_far_station_has_no_swap_hint(tmp_path, plain_scene):
    st = write_station(tmp_path / "far.geojson", {"Far": box_ring(0, 0, 100, 100, crs="EPSG:3857")})
    with pytest.raises(NoOverlapError) as exc:
        read_windows(plain_scene, read_stations(st))
    assert "swapping" not in str(exc.value)


def test_missing_corrupt_and_ungeoreferenced(tmp_path, inner_station):
    stations = read_stations(inner_station)
    with pytest.raises(SceneReadError, match="not found"):
        read_windows(tmp_path / "missing.tif", stations)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\x17" * 300)
    with pytest.raises(SceneReadError, match=r"junk\.tif"):
        read_windows(junk, stations)
    plain = write_tif(tmp_path / "nocrs.tif", np.zeros((50, 50, 3), np.uint8), crs=None)
    with pytest.raises(NotGeoreferencedError, match="no coordinate reference system"):
        read_windows(plain, stations)


def test_scene_inside_a_zip_reads_as_the_file(tmp_path, plain_scene, inner_station):
    import zipfile

    stations = read_stations(inner_station)
    with zipfile.ZipFile(tmp_path / "delivery.zip", "w") as z:
        z.write(plain_scene, "scene.tif")
    (zipped,) = read_windows(f"/vsizip/{tmp_path / 'delivery.zip'}/scene.tif", stations)
    (plain,) = read_windows(plain_scene, stations)
    np.testing.assert_array_equal(zipped.pixels, plain.pixels)
    assert zipped.transform == plain.transform
    with pytest.raises(SceneReadError, match=r"missing\.tif"):
        read_windows(f"/vsizip/{tmp_path / 'delivery.zip'}/missing.tif", stations)


def test_single_band_and_uint16(tmp_path, inner_station):
    pix = (np.arange(400 * 600, dtype=np.uint32).reshape(400, 600, 1) % 2048).astype(np.uint16)
    scene = write_tif(tmp_path / "pan.tif", pix, tags={"NBITS": "11"})
    (w,) = read_windows(scene, read_stations(inner_station))
    assert w.pixels.shape[2] == 1 and w.pixels.dtype == np.uint16
    assert w.value_range == (0.0, 2047.0)


def test_date_from_file_name_when_no_tag(tmp_path, inner_station):
    scene = write_tif(tmp_path / "yard_2019-06-12_pan.tif", np.full((400, 600, 3), 9, np.uint8))
    (w,) = read_windows(scene, read_stations(inner_station))
    assert w.acquired == datetime(2019, 6, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("yard_2023_10_05.tif", (2023, 10, 5)),
        ("yard.2023.10.05.tif", (2023, 10, 5)),
        ("2023_10_05_1200_yard.tif", (2023, 10, 5)),
        ("yard_2023_13_05.tif", None),  # no thirteenth month
        ("yard_2023_10-05.tif", None),  # separators that differ are not a date
        ("yard_05-10-2023.tif", None),  # day first: 5 October or 10 May?
        ("yard_05_10_2023.tif", None),
        ("yard_231005.tif", None),  # a two-digit year
    ],
)
def test_dates_with_underscores_or_dots_in_names_and_ambiguous_ones_not(tmp_path, inner_station, name, day):
    """``YYYY_MM_DD`` and ``YYYY.MM.DD`` date a scene as ``YYYY-MM-DD`` does (since detector 0.6.25); a
    day-first or two-digit-year date is ambiguous and leaves the scene undated."""
    scene = write_tif(tmp_path / name, np.full((400, 600, 3), 9, np.uint8))
    (w,) = read_windows(scene, read_stations(inner_station))
    assert w.acquired == (None if day is None else datetime(*day, tzinfo=timezone.utc))


@pytest.mark.parametrize("dst_crs", ["EPSG:4326", "EPSG:3857"])
def test_gsd_in_metres_for_geographic_and_web_mercator(tmp_path, inner_station, dst_crs):
    """The same 0.5 m scene warped to degrees or Web Mercator still reports about 0.5 m,
    and the station window covers the same ground."""
    rng = np.random.default_rng(1)
    src = rng.integers(0, 255, (400, 600), dtype=np.uint8)
    src_t = from_origin(*ORIGIN, 0.5, 0.5)
    t, w, h = calculate_default_transform(
        UTM, dst_crs, 600, 400, *rasterio.transform.array_bounds(400, 600, src_t)
    )
    dst = np.zeros((h, w), np.uint8)
    reproject(src, dst, src_transform=src_t, src_crs=UTM, dst_transform=t, dst_crs=dst_crs)
    scene = write_tif(
        tmp_path / "warped.tif", np.repeat(dst[:, :, None], 3, axis=2), crs=dst_crs, transform=t
    )
    (win,) = read_windows(scene, read_stations(inner_station), margin_m=0.0)
    assert win.gsd_m == pytest.approx(0.5, rel=0.08)
    # Pixels are square on the ground after loading; the station is 200 m x 100 m.
    area_m2 = win.inside.sum() * win.gsd_m**2
    assert area_m2 == pytest.approx(20000, rel=0.05)
