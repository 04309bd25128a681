"""Hedges and trees in generated scenes (SceneSpec(vegetation=True)): where they stand, what they cast,
and that nothing else in the scene moves for them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.warp import transform as warp_points
from shapely.geometry import LineString, Polygon

from railcount.errors import UsageError
from railcount.synth import SceneSpec, synthesize
from railcount.synth.layout import Area, Sun
from railcount.synth.raster import Grid
from railcount.synth.render import plan_layout
from railcount.synth.sites import spec_site
from railcount.synth.spec import STREAM_VEGETATION
from railcount.synth.vegetation import (
    KEEP_CLEAR_M,
    WEED_CLEARANCE_M,
    paint_vegetation,
    plan_vegetation,
    plan_weeds,
)

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
    assert set(b.kind[n:].tolist()) <= {"hedge", "tree", "weeds"} and len(b) > n
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
    px = 1.0 / green.spec.gsd_m
    # Weeds on an idle track darken the ground too (their own shadow): hedges near them are not judged.
    polys = t.polygons()
    weeds = [_pixel_polygon(green, *polys[i].exterior.coords.xy) for i in np.flatnonzero(t.kind == "weeds")]
    for i in np.flatnonzero(t.kind == "hedge"):
        poly = _pixel_polygon(green, *polys[i].exterior.coords.xy)
        if poly.area < 40 or not poly.within(frame):
            continue
        if any(poly.buffer(8.0 * px).distance(w) < 10.0 * px for w in weeds):
            continue
        c = np.array(poly.centroid.coords[0])
        r0, r1 = int(poly.bounds[1]) - 15, int(poly.bounds[3]) + 15
        c0, c1 = int(poly.bounds[0]) - 15, int(poly.bounds[2]) + 15
        sub = (slice(r0, r1), slice(c0, c1))
        inside = shapely.contains_xy(poly, cols[sub] + 0.5, rows[sub] + 0.5)
        # The ground the hedge darkened, 1.5-8 m out from its outline (past the ragged rim of foliage),
        # lies on its side away from the sun: its shadow.
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


def test_weeds_grow_on_idle_tracks_inside_the_station_clear_of_every_vehicle(pair):
    _, green = pair
    t = green.truth
    weeds = np.flatnonzero(t.kind == "weeds")
    assert weeds.size, "seed 80 plans overgrown track"
    polys = t.polygons()
    stock = [polys[i] for i in range(len(t)) if t.kind[i] not in ("weeds", "hedge", "tree")]
    station = green.station
    px = green.spec.gsd_m
    for i in weeds:
        w = _pixel_polygon(green, *polys[i].exterior.coords.xy)
        # Inside the station polygon (pixel space here too), apart from its anti-aliased edge.
        assert w.difference(_pixel_polygon(green, *station.exterior.coords.xy)).area < 0.02 * w.area
        for v in stock:
            gap_px = w.distance(_pixel_polygon(green, *v.exterior.coords.xy))
            assert gap_px * px > WEED_CLEARANCE_M - 0.1, (t.kind[i], gap_px * px)
        # Strips follow a track: long and narrow.
        rect = shapely.minimum_rotated_rectangle(w)
        sides = sorted(np.hypot(*np.diff(np.asarray(rect.exterior.coords), axis=0).T)[:2])
        assert sides[1] > 4 * sides[0]


def test_planned_weeds_keep_clear_of_stock_and_follow_idle_tracks():
    strips = 0
    for seed in range(12):
        spec = SceneSpec(**{**SPEC, "seed": seed, "cars": 30 + 5 * seed}, vegetation=True)
        layout = plan_layout(spec)
        site, vehicles = layout.site, layout.vehicles
        footprints = [Polygon(c) for c in vehicles.corners()]
        busy = set(vehicles.track.tolist())
        idle = [t for t in site.tracks if t.kind in ("yard", "siding") and t.id not in busy]
        for a in plan_weeds(site, vehicles, spec.named_rng(STREAM_VEGETATION + 2)):
            strips += 1
            assert a.kind == "weeds" and 0.4 < a.height_m < 3.0
            assert a.polygon.difference(site.station).area < 1e-6 * a.polygon.area
            assert min(a.polygon.distance(f) for f in footprints) >= WEED_CLEARANCE_M - 1e-6
            # It lies along one idle track: that track's centreline runs through it.
            along = [
                LineString(t.point_at(np.linspace(0, t.length, 400))).intersection(a.polygon).length
                for t in idle
            ]
            rect = np.asarray(shapely.minimum_rotated_rectangle(a.polygon).exterior.coords)
            long_side = np.hypot(*np.diff(rect, axis=0).T).max()
            assert max(along, default=0.0) > 0.7 * long_side
    assert strips >= 10


def test_weeds_lie_in_the_shadows_cast_on_them():
    # A strip of weeds under a band of shadow: where the shadow lies, the foliage is darker by the
    # shadow's tint; elsewhere it is the same as without the shadow.
    grid = Grid(Affine(0.25, 0, 0, 0, -0.25, 40.0), (160, 160))
    strip = Area("weeds", Polygon([(5, 15), (35, 15), (35, 25), (5, 25)]), 1.0)
    sun = Sun(azimuth_deg=150.0, elevation_deg=40.0)
    shade = np.zeros(grid.shape, np.float32)
    shade[:, :80] = 1.0  # the west half in shadow
    tint = (0.3, 0.3, 0.3)
    out = []
    for s in (None, shade):
        canvas = np.full((*grid.shape, 3), 0.5, np.float32)
        paint_vegetation(
            canvas,
            grid,
            (strip,),
            sun,
            np.random.default_rng(3),
            season="summer",
            snow=False,
            lean=np.zeros(2),
            shade=s,
            tint=tint,
        )
        out.append(canvas)
    lit, shaded = out
    rows = slice(70, 90)  # inside the strip (y 17.5-22.5 m)
    changed = np.abs(shaded - lit).max(axis=2)
    assert changed[rows, 90:].max() < 1e-6  # no shadow, no change
    drawn = np.abs(lit[rows, 30:70] - 0.5).max(axis=2) > 0.05  # foliage painted there
    assert drawn.mean() > 0.3
    ratio = (shaded[rows, 30:70][drawn] / np.maximum(lit[rows, 30:70][drawn], 1e-6)).mean()
    assert ratio < 0.6
