"""Property-based tests of the loader: random stations anywhere on, across or off a real GeoTIFF."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from railcount.errors import RailcountError
from railcount.io.scenes import read_windows
from railcount.io.stations import stations_from_geojson
from railcount.models import apply_affine

from .geofixtures import ORIGIN, UTM, lonlat_ring, write_tif

ROWS, COLS, GSD = 300, 400, 0.5  # 150 m x 200 m


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    rng = np.random.default_rng(7)
    pix = rng.integers(1, 255, (ROWS, COLS, 3), dtype=np.uint8)
    return write_tif(tmp_path_factory.mktemp("prop") / "scene.tif", pix), pix


# A convex-ish polygon: a centre, a radius and angles, in map metres relative to the scene's corner.
polygons = st.tuples(
    st.floats(-60, 260),  # centre x (m), beyond the raster on both sides
    st.floats(-210, 60),  # centre y offset (m, negative is down)
    st.floats(8, 90),  # radius (m)
    st.lists(st.floats(0, 2 * math.pi), min_size=3, max_size=8, unique=True),
)


def to_station(poly_spec):
    cx, cy, r, angles = poly_spec
    angles = sorted(angles)
    xs = [ORIGIN[0] + cx + r * math.cos(a) for a in angles]
    ys = [ORIGIN[1] + cy + r * math.sin(a) for a in angles]
    ring = lonlat_ring(UTM, xs, ys)
    geom = Polygon([(x, y) for x, y in zip(xs, ys, strict=True)])
    doc = {
        "type": "Feature",
        "properties": {"name": "p"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return stations_from_geojson(doc), geom


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(poly=polygons)
def test_window_invariants(scene, poly):
    path, pix = scene
    try:
        stations, geom_map = to_station(poly)
    except RailcountError:
        return  # degenerate polygon refused with a reason: fine
    if geom_map.area < 50:
        return
    raster = shapely.box(ORIGIN[0], ORIGIN[1] - ROWS * GSD, ORIGIN[0] + COLS * GSD, ORIGIN[1])
    try:
        (w,) = read_windows(path, stations, margin_m=0.0)
    except RailcountError:
        # Refused only when the station misses the raster or covers less than a pixel of it.
        assert geom_map.intersection(raster).area < 2 * GSD * GSD + 1e-6
        return
    # The inside mask has the polygon's area (to within the pixels along its outline).
    outline_px = geom_map.length / GSD
    assert abs(w.inside.sum() - geom_map.area / GSD**2) <= outline_px + 4
    # The observed fraction is the imaged share of the polygon.
    share = geom_map.intersection(raster).area / geom_map.area
    assert 0.0 <= w.observed_fraction <= 1.0
    assert abs(w.observed_fraction - share) <= outline_px / max(w.inside.sum(), 1) + 0.02
    # Data is exactly the window's part of the raster, and those pixels are the file's.
    c0, r0 = (round(v) for v in apply_affine(~stations_transform(), w.transform.c, w.transform.f))
    rr, cc = np.nonzero(w.data)
    assert np.all((rr + r0 >= 0) & (rr + r0 < ROWS) & (cc + c0 >= 0) & (cc + c0 < COLS))
    np.testing.assert_array_equal(w.pixels[rr, cc], pix[rr + r0, cc + c0])


def stations_transform():
    from rasterio.transform import from_origin

    return from_origin(*ORIGIN, GSD, GSD)
