"""The overlay's scale bar and north arrow: a picture published without its count.json still says how
big a car is and which way is north. Both are checked against pyproj's geodesy, not railcount's own:
the bar's drawn length times the ground metres a picture pixel covers (pyproj's geodesic distance
between neighbouring pixel centres) must come to the metres it claims, on a UTM window, on a
lon/lat (EPSG:4326) copy warped by GDAL, and on a transverse Mercator copy whose grid north lies
7 degrees off true north."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from rasterio.warp import Resampling, calculate_default_transform, reproject

from railcount.io import outputs
from railcount.io.pixelspace import read_image
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.models import Detections, apply_affine

from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION

FAR_TMERC = "+proj=tmerc +lat_0=0 +lon_0=120 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
"""A transverse Mercator grid centred 10.6 degrees west of Tumangang: its north is about 7 degrees off
true north there (UTM zone 52's, about 1 degree)."""


def _warped(dest: Path, crs: str) -> Path:
    """The bundled sample warped by GDAL onto ``crs``, written as a real GeoTIFF."""
    with rasterio.open(SAMPLE_SCENE) as src:
        size = (src.width, src.height)
        transform, width, height = calculate_default_transform(src.crs, crs, *size, *src.bounds)
        profile = src.profile | {"crs": crs, "transform": transform, "width": width, "height": height}
        with rasterio.open(dest, "w", **profile) as out:
            for b in range(1, src.count + 1):
                reproject(
                    rasterio.band(src, b),
                    rasterio.band(out, b),
                    dst_transform=transform,
                    dst_crs=crs,
                    resampling=Resampling.bilinear,
                )
            out.update_tags(**src.tags())
    return dest


@pytest.fixture(scope="module", params=["EPSG:32652", "EPSG:4326", FAR_TMERC], ids=["utm", "lonlat", "tmerc"])
def window(request, tmp_path_factory):
    scene = SAMPLE_SCENE
    if request.param != "EPSG:32652":
        scene = _warped(tmp_path_factory.mktemp("warped") / "scene.tif", request.param)
    (w,) = read_windows(scene, read_stations(SAMPLE_STATION))
    return w


def _lonlat(window, cols, rows) -> tuple[np.ndarray, np.ndarray]:
    x, y = apply_affine(window.transform, cols, rows)
    lon, lat = pyproj.Transformer.from_crs(window.crs.to_wkt(), "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _bar_run(img: np.ndarray) -> int:
    """The longest run of pure white along one row of the banner: the scale bar's top edge."""
    margin_black = (img[:, :6] == 0).all(axis=(1, 2))
    top = int(np.argmin(margin_black))
    white = (img[:top] == 255).all(axis=2)
    best = 0
    for row in white:
        padded = np.concatenate([[0], row.astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(padded))
        if edges.size:
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


def test_the_scale_bar_is_as_long_as_it_says(window):
    """Drawn on the overlay, the bar spans the metres it is labelled with, to 1 %, whatever the CRS."""
    img = outputs.overlay_image(window, Detections.empty(), _result(window))
    scale = img.shape[1] / window.shape[1]
    assert scale == int(scale)
    metres, px = outputs.picture_scale_bar(window, int(scale), img.shape[1])
    assert _bar_run(img) == px + 1  # from its first pixel to its last, both ends drawn
    # Ground metres per picture pixel along a row, at the window's centre, by pyproj's geodesic.
    rows, cols = window.shape
    lon, lat = _lonlat(window, np.array([cols / 2, cols / 2 + 10]), np.array([rows / 2, rows / 2]))
    per_px = pyproj.Geod(ellps="WGS84").inv(lon[0], lat[0], lon[1], lat[1])[2] / 10 / scale
    assert px * per_px == pytest.approx(metres, rel=0.01)
    # A round length, 50 to 240 px long: readable, not a sliver.
    assert metres / 10 ** math.floor(math.log10(metres)) in (1, 2, 5)
    assert 50 <= px <= 240


def test_north_is_true_north(window):
    """The north key points along the meridian through the window's centre, not up the grid: pyproj's
    meridian convergence for the window's CRS says by how much they differ."""
    east, north = outputs.ground_axes(window)
    rows, cols = window.shape
    lon, lat = _lonlat(window, np.array([cols / 2]), np.array([rows / 2]))
    factors = pyproj.Proj(window.crs.to_wkt()).get_factors(lon[0], lat[0])
    # Clockwise from grid up to true north, in degrees (pyproj: the angle from true north to grid
    # north, so true north lies that far anticlockwise of grid up).
    drawn = math.degrees(math.atan2(north[0], -north[1]))
    assert drawn == pytest.approx(-factors.meridian_convergence, abs=0.1)
    # East a quarter turn clockwise of north on the ground (the window's pixels are square there).
    assert math.degrees(math.atan2(east[0], -east[1])) - drawn == pytest.approx(90.0, abs=0.5)


def test_far_from_the_central_meridian_the_arrow_leans(tmp_path):
    """On the transverse Mercator copy, true north at Tumangang lies about 7 degrees west of grid up:
    the drawn north key leans left, and the shadow arrow turns by the same angle as on the UTM
    window."""
    far = _warped(tmp_path / "far.tif", FAR_TMERC)
    (w_far,) = read_windows(far, read_stations(SAMPLE_STATION))
    (w_utm,) = read_windows(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    lean = {}
    for name, w in (("far", w_far), ("utm", w_utm)):
        north = outputs.ground_axes(w)[1]
        lean[name] = math.degrees(math.atan2(north[0], -north[1]))
    assert -8.0 < lean["far"] < -6.0 and -1.5 < lean["utm"] < -0.5
    sun = {"azimuth_deg": 150.0}
    turn = {}
    for name, w in (("far", w_far), ("utm", w_utm)):
        dx, dy = outputs.shadow_arrow(w, sun)
        turn[name] = math.degrees(math.atan2(dx, -dy))
    assert turn["far"] - turn["utm"] == pytest.approx(lean["far"] - lean["utm"], abs=0.2)


def test_an_image_without_georeferencing_has_a_bar_but_no_north(tmp_path):
    """An image read in pixel space (``--gsd``) has a scale, the one given, and no north."""
    plain = tmp_path / "plain.tif"
    with rasterio.open(SAMPLE_SCENE) as src:
        pixels = src.read()
    with rasterio.open(
        plain, "w", driver="GTiff", width=pixels.shape[2], height=pixels.shape[1], count=3, dtype="uint8"
    ) as out:
        out.write(pixels)
    w = read_image(plain, gsd_m=0.4)
    assert outputs.ground_axes(w) is None
    img = outputs.overlay_image(w, Detections.empty(), _result(w))
    scale = img.shape[1] / w.shape[1]
    metres, px = outputs.picture_scale_bar(w, int(scale), img.shape[1])
    assert _bar_run(img) == px + 1
    assert px * 0.4 / scale == pytest.approx(metres, rel=0.005)


def _result(window):
    from railcount.counting import summarise

    return dataclasses.replace(summarise(window, Detections.empty()), sun=None)
