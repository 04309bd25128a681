"""Hedges and trees in generated scenes (SceneSpec(vegetation=True)): where they stand, what they cast,
and that nothing else in the scene moves for them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from rasterio.warp import transform as warp_points
from shapely.geometry import LineString, Polygon

from railcount.errors import UsageError
from railcount.synth import SceneSpec, synthesize
from railcount.synth.sites import spec_site
from railcount.synth.spec import STREAM_VEGETATION
from railcount.synth.vegetation import KEEP_CLEAR_M, plan_vegetation

SPEC = dict(site="tumangang", date="2021-11-20", cars=40, gsd_m=0.5, seed=80, realism="v2")


@pytest.fixture(scope="module")
def pair():
    return synthesize(SceneSpec(**SPEC)), synthesize(SceneSpec(**SPEC, vegetation=True))


def test_vegetation_needs_the_v2_painter():
    with pytest.raises(UsageError, match="--realism v2"):
        SceneSpec(**{**SPEC, "realism": "v1"}, vegetation=True)


def test_hedges_and_trees_stand_clear_of_tracks_roads_and_buildings():
    site = spec_site(SceneSpec(**SPEC))
    kinds = []
    for seed in range(5):
        spec = SceneSpec(**{**SPEC, "seed": seed}, vegetation=True)
        crowns = plan_vegetation(site, spec.named_rng(STREAM_VEGETATION))
        kinds += [a.kind for a in crowns]
        for a in crowns:
            for t in site.tracks:
                centre = LineString(t.point_at(np.linspace(0, t.length, 400)))
                # The planned outline keeps the clearance; its ragged rim may reach half a metre further.
                assert a.polygon.distance(centre) > KEEP_CLEAR_M["track"] - 0.6, (seed, a.kind)
            for b in site.structures:
                assert not a.polygon.intersects(b.polygon)
            assert a.polygon.distance(site.station) < 45.0
    assert kinds.count("hedge") >= 5 and kinds.count("tree") >= 5, kinds


def test_the_rest_of_the_scene_is_unchanged(pair):
    plain, green = pair
    a, b = plain.truth, green.truth
    assert b.counts()["railcars"] == a.counts()["railcars"]
    # The same vehicles and structures, in the same order; the hedges and trees come after them.
    n = len(a)
    assert np.array_equal(a.kind, b.kind[:n]) and np.array_equal(a.center, b.center[:n])
    assert set(b.kind[n:].tolist()) <= {"hedge", "tree"} and len(b) > n
    assert set(b.cls[n:].tolist()) == {"vegetation"}
    # Pixels differ only around the vegetation (and its shadows): most of the scene is untouched.
    same = np.all(plain.pixels == green.pixels, axis=-1)
    assert same.mean() > 0.9


def _pixel_polygon(scene, lon, lat) -> Polygon:
    x, y = warp_points("EPSG:4326", scene.crs, list(lon), list(lat))
    inv = ~scene.transform
    cols, rows = zip(*(inv * p for p in zip(x, y, strict=True)), strict=True)
    return Polygon(np.column_stack([cols, rows]))


def test_a_hedge_under_a_low_sun_covers_its_outline_and_casts_its_shadow_away_from_the_sun(pair):
    plain, green = pair
    t = green.truth
    lum = green.pixels.astype(float).mean(axis=2)
    rows, cols = np.mgrid[0 : lum.shape[0], 0 : lum.shape[1]]
    az = math.radians(green.sun.azimuth_deg)
    away = np.array([-math.sin(az), math.cos(az)])  # shadow direction in (col, row): rows run south
    checked = 0
    frame = shapely.box(0, 0, lum.shape[1] - 1, lum.shape[0] - 1).buffer(-20)
    for i in np.flatnonzero(t.kind == "hedge"):
        poly = _pixel_polygon(green, *t.polygons()[i].exterior.coords.xy)
        if poly.area < 40 or not poly.within(frame):
            continue
        c = np.array(poly.centroid.coords[0])
        r0, r1 = int(poly.bounds[1]) - 15, int(poly.bounds[3]) + 15
        c0, c1 = int(poly.bounds[0]) - 15, int(poly.bounds[2]) + 15
        sub = (slice(r0, r1), slice(c0, c1))
        inside = shapely.contains_xy(poly, cols[sub] + 0.5, rows[sub] + 0.5)
        # The ground the hedge darkened, 1.5-8 m out from its outline (past the ragged rim of foliage),
        # lies on its side away from the sun: its shadow.
        px = 1.0 / green.spec.gsd_m
        near = shapely.contains_xy(poly.buffer(1.5 * px), cols[sub] + 0.5, rows[sub] + 0.5)
        ring = shapely.contains_xy(poly.buffer(8.0 * px), cols[sub] + 0.5, rows[sub] + 0.5) & ~near
        before = plain.pixels.astype(float).mean(axis=2)[sub]
        darkened = ring & (lum[sub] < 0.85 * before)
        side = (cols[sub] + 0.5 - c[0]) * away[0] + (rows[sub] + 0.5 - c[1]) * away[1]
        assert darkened.sum() > 10
        assert (side[darkened] > 0).mean() > 0.9
        # Foliage covers the outline: its pixels are not the ground's.
        drawn = np.abs(green.pixels[sub][inside].astype(float) - plain.pixels[sub][inside]).mean()
        assert drawn > 10.0
        checked += 1
    assert checked >= 1
