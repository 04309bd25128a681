"""Property-based tests of the loader: random stations anywhere on, across or off a real GeoTIFF."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from railcount.errors import RailcountError
from railcount.io.scenes import MIN_SEEN_SHARE, read_windows
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
@example(poly=(0.0, 0.0, 8.0, [0.0, 1.0, 3.1875]))  # overlaps the raster's corner in a 0.73 m2 sliver
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
    except RailcountError as exc:
        # Refused only when no pixel centre of the raster lies inside the station: it
        # misses the raster, or overlaps it in a sliver between pixel centres (which
        # can be long: a 0.2 m x 3.6 m sliver along the edge has 0.73 m2, three pixels);
        # or (since session 71) when the raster images under MIN_SEEN_SHARE of it.
        share = (
            geom_map.intersection(
                shapely.box(ORIGIN[0], ORIGIN[1] - ROWS * GSD, ORIGIN[0] + COLS * GSD, ORIGIN[1])
            ).area
            / geom_map.area
        )
        if "too little to count" in str(exc):
            assert share < MIN_SEEN_SHARE + geom_map.length / GSD / (geom_map.area / GSD**2), share
            return
        cols, rows = np.meshgrid(np.arange(COLS) + 0.5, np.arange(ROWS) + 0.5)
        xs, ys = ORIGIN[0] + cols * GSD, ORIGIN[1] - rows * GSD
        assert not shapely.contains_xy(geom_map.buffer(-0.01), xs, ys).any()
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


# Random grids: CRS, pixel size, raster size and a box placed anywhere on, across, along or off the
# raster's edges, in pixel units so that "touching the edge" is hit exactly and often.
EDGE = st.sampled_from(["free", "left", "right", "top", "bottom", "corner", "whole"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    crs=st.sampled_from(["EPSG:32652", "EPSG:3857"]),
    px=st.floats(0.3, 1.0),
    shape=st.tuples(st.integers(24, 120), st.integers(24, 120)),
    box=st.tuples(st.integers(-30, 130), st.integers(-30, 130), st.integers(3, 60), st.integers(3, 60)),
    edge=EDGE,
    margin_px=st.integers(0, 6),
)
def test_windows_on_random_grids_and_edges(tmp_path, crs, px, shape, box, edge, margin_px):
    from rasterio.transform import from_origin

    from railcount.errors import NoOverlapError, NoValidPixelsError
    from railcount.io.scenes import ground_pixel_size

    rows, cols = shape
    c0, r0, w, h = box
    if edge in ("left", "corner"):
        c0 = 0
    if edge == "right":
        c0 = cols - w
    if edge in ("top", "corner"):
        r0 = 0
    if edge == "bottom":
        r0 = rows - h
    if edge == "whole":
        c0, r0, w, h = 0, 0, cols, rows
    origin = (634000.0, 4697000.0) if crs == "EPSG:32652" else (14537000.0, 5225000.0)
    transform = from_origin(*origin, px, px)
    rng = np.random.default_rng(rows * 1000 + cols)
    pix = rng.integers(1, 255, (rows, cols, 3), dtype=np.uint8)
    path = write_tif(tmp_path / f"grid_{rows}_{cols}.tif", pix, crs=crs, transform=transform)
    xs = [origin[0] + px * c for c in (c0, c0 + w, c0 + w, c0)]
    ys = [origin[1] - px * r for r in (r0, r0, r0 + h, r0 + h)]
    doc = {"type": "Polygon", "coordinates": [lonlat_ring(crs, xs, ys)]}
    stations = stations_from_geojson(doc)
    # Web Mercator's pixels are not quite square on the ellipsoid: the margin is whole pixels either way.
    gx, gy = ground_pixel_size(transform, rasterio_crs(crs), (rows, cols))
    margin_m = margin_px * min(gx, gy) * 0.999
    overlap_c = min(c0 + w, cols) - max(c0, 0)
    overlap_r = min(r0 + h, rows) - max(r0, 0)
    if overlap_c <= 0 or overlap_r <= 0:
        with pytest.raises(NoOverlapError):
            read_windows(path, stations, margin_m=margin_m)
        return
    if overlap_c * overlap_r < MIN_SEEN_SHARE * w * h:  # a sliver of the station: refused (session 71)
        with pytest.raises(NoValidPixelsError, match="too little to count"):
            read_windows(path, stations, margin_m=margin_m)
        return
    (win,) = read_windows(path, stations, margin_m=margin_m)
    # The window is the box grown by the margin, on the raster's own pixel grid.
    wc, wr = apply_affine(~transform, win.transform.c, win.transform.f)
    assert (wc, wr) == (pytest.approx(c0 - margin_px, abs=1e-6), pytest.approx(r0 - margin_px, abs=1e-6))
    assert win.shape == (h + 2 * margin_px, w + 2 * margin_px)
    # Data is exactly the part of the window on the raster, holding the file's pixels.
    rr, cc = np.indices(win.shape)
    on_raster = (rr + r0 - margin_px >= 0) & (rr + r0 - margin_px < rows)
    on_raster &= (cc + c0 - margin_px >= 0) & (cc + c0 - margin_px < cols)
    np.testing.assert_array_equal(win.data, on_raster)
    i, j = np.nonzero(on_raster)
    np.testing.assert_array_equal(win.pixels[i, j], pix[i + r0 - margin_px, j + c0 - margin_px])
    # The box is exactly the inside mask, and observed_fraction its imaged share.
    assert win.inside.sum() == w * h
    assert not win.inside[:margin_px].any() and not win.inside[:, :margin_px].any()
    assert win.observed_fraction == pytest.approx(overlap_c * overlap_r / (w * h))
    assert win.gsd_m == pytest.approx(math.sqrt(gx * gy), rel=1e-3)


def rasterio_crs(code: str):
    from rasterio.crs import CRS

    return CRS.from_string(code)
