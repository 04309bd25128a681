"""Tests of the synthetic scene generator (railcount.synth) and `railcount synth`."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.warp import transform_geom
from shapely.geometry import shape

from railcount.errors import UsageError
from railcount.synth import (
    SAMPLE_SCENES,
    SITES,
    Conditions,
    Product,
    SceneSpec,
    site_layout,
    synthesize,
    write_scene,
    write_station,
)
from railcount.synth.atmosphere import lean_vector
from railcount.synth.layout import CAR_MARGIN_M, STRUCTURE_KINDS, Overhead, SiteLayout, Sun
from railcount.synth.placement import plan_scene
from railcount.synth.raster import Grid
from railcount.synth.structures import OverheadShadows
from railcount.synth.truth import build_truth

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_tiles"
SITE = SITES["tumangang"]

FAST = dict(site="tumangang", date="2023-10-05", gsd_m=1.0, seed=7)
V2 = dict(FAST, realism="v2")


@pytest.fixture(scope="module")
def scene_utm():
    return synthesize(SceneSpec(cars=30, **FAST))


def _footprint_masks(scene, geoms_lonlat):
    """Pixel masks (n, rows, cols) of lon/lat polygons burnt into the scene's grid."""
    rows, cols = scene.pixels.shape[:2]
    out = []
    for g in geoms_lonlat:
        gm = transform_geom("EPSG:4326", scene.crs, shapely.geometry.mapping(g))
        out.append(
            rasterize([(gm, 1)], out_shape=(rows, cols), transform=scene.transform, dtype="uint8").astype(
                bool
            )
        )
    return np.array(out)


# ------------------------------------------------------------------ determinism


def test_same_spec_gives_identical_pixels_and_truth(scene_utm):
    again = synthesize(SceneSpec(cars=30, **FAST))
    assert np.array_equal(again.pixels, scene_utm.pixels)
    assert again.transform == scene_utm.transform
    assert again.truth.to_geojson() == scene_utm.truth.to_geojson()
    assert again.counts() == scene_utm.counts()


def test_different_seed_gives_different_scene(scene_utm):
    other = synthesize(SceneSpec(cars=30, **{**FAST, "seed": 8}))
    assert other.pixels.shape == scene_utm.pixels.shape  # same ground area and grid
    assert np.mean(other.pixels != scene_utm.pixels) > 0.5
    assert not np.allclose(other.truth.center[:10], scene_utm.truth.center[:10])


def test_gsd_and_crs_do_not_change_the_cars(scene_utm):
    fine = synthesize(SceneSpec(cars=30, crs="EPSG:3857", **{**FAST, "gsd_m": 0.75}))
    assert fine.truth.to_geojson() == scene_utm.truth.to_geojson()


# ------------------------------------------------------------------ counts


@pytest.mark.parametrize("cars", [0, 1, 15, 40, 73, 160])
def test_inside_railcar_count_is_exact(cars):
    rng = np.random.Generator(np.random.PCG64(cars + 100))
    v = plan_scene(SITE, cars=cars, locomotives=2, outside_cars=True, distractors=True, rng=rng)
    counts = build_truth(v, SITE).counts()
    assert counts["railcars"] == cars
    assert counts["locomotives"] == 2
    assert sum(counts["by_class"].values()) == cars


def test_too_many_cars_is_a_usage_error():
    with pytest.raises(UsageError, match="cars=5000"):
        synthesize(SceneSpec(cars=5000, **FAST))


@pytest.mark.parametrize(
    "bad",
    [
        dict(date="2023-13-01"),
        dict(date="5 Oct 2023"),
        dict(gsd_m=0.1),
        dict(site="nowhere"),
        dict(cars=-1),
        dict(crs="EPSG:999999"),
    ],
)
def test_bad_spec_is_a_usage_error(bad):
    with pytest.raises(UsageError):
        SceneSpec(**{**FAST, **bad})


def test_vehicles_do_not_overlap_on_a_track():
    rng = np.random.Generator(np.random.PCG64(3))
    v = plan_scene(SITE, cars=160, locomotives=2, outside_cars=True, distractors=True, rng=rng)
    polys = [shapely.Polygon(c) for c in v.corners()]
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    assert np.all(left == right), "two vehicles overlap"


def test_v2_has_cuts_of_short_wagons_and_v1_none():
    """Realism v2 lays three in ten coupled runs of short wagons (10.5-13.5 m); v1's lengths are
    :data:`_DIMENSIONS`' (at least 12 m, tank cars; at least 13 m for the rest). The short ones
    come in cuts (one run shares them) and still do not overlap."""
    from railcount.synth.placement import SHORT_WAGON_M

    short_v1, short_v2, coupled_short = 0, 0, 0
    for seed in range(6):
        v1 = plan_scene(SITE, cars=80, locomotives=0, outside_cars=False, distractors=False,
                        rng=np.random.Generator(np.random.PCG64(seed)))  # fmt: skip
        v2 = plan_scene(SITE, cars=80, locomotives=0, outside_cars=False, distractors=False,
                        rng=np.random.Generator(np.random.PCG64(seed)),
                        lengths_rng=np.random.Generator(np.random.PCG64(1000 + seed)))  # fmt: skip
        short_v1 += int((v1.length < 12.0).sum())
        short = v2.length < 12.0
        short_v2 += int(short.sum())
        assert v2.length.min() >= SHORT_WAGON_M[0] - 1e-9
        # Short wagons come in cuts: a wagon under 12 m coupled to another (same track, ends under
        # 1.2 m apart; separate runs stand at least 1.3 m apart) is coupled to a short one.
        for i in np.flatnonzero(short):
            on = np.flatnonzero((v2.track == v2.track[i]) & (np.arange(len(v2)) != i))
            ends_apart = (
                np.linalg.norm(v2.center[on] - v2.center[i], axis=1) - (v2.length[on] + v2.length[i]) / 2
            )
            coupled = on[ends_apart < 1.2]
            coupled_short += int(coupled.size > 0)
            assert (v2.length[coupled] <= SHORT_WAGON_M[1]).all(), "a short wagon coupled to a long one"
        polys = [shapely.Polygon(c) for c in v2.corners()]
        left, right = shapely.STRtree(polys).query(polys, predicate="intersects")
        assert np.all(left == right), "two vehicles overlap"
    assert short_v1 == 0
    assert short_v2 >= 20 and coupled_short >= 6


# ------------------------------------------------------------------ truth on pixels


def _empty_twin(spec: SceneSpec):
    """The same scene with nothing on it: same ground, sun and noise streams."""
    return synthesize(
        SceneSpec(
            **{**spec.__dict__, "cars": 0, "locomotives": 0, "outside_cars": False, "distractors": False}
        )
    )


@pytest.mark.parametrize(
    ("crs", "realism"), [("EPSG:32652", "v1"), ("EPSG:4326", "v1"), ("EPSG:32652", "v2")]
)
def test_truth_footprints_land_where_vehicles_were_drawn(crs, realism):
    spec = SceneSpec(cars=25, crs=crs, **{**FAST, "gsd_m": 0.75, "realism": realism})
    scene, empty = synthesize(spec), _empty_twin(spec)
    assert scene.sun == empty.sun
    diff = np.abs(scene.pixels.astype(int) - empty.pixels.astype(int)).max(axis=2)
    vehicle = ~np.isin(scene.truth.kind, STRUCTURE_KINDS)  # structures stand in both scenes
    assert (~vehicle).any() == (realism == "v2")
    masks = _footprint_masks(scene, [p for p, v in zip(scene.truth.polygons(), vehicle, strict=True) if v])
    assert len(masks) == vehicle.sum() > 25
    for i, m in enumerate(masks):
        core = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        assert core.sum() >= 4, f"vehicle {i} covers almost no pixels"
        # a light-grey container on concrete may be faint; a railcar on ballast may not
        floor = 8 if scene.truth.kind[i] not in ("container", "truck", "trailer") else 3
        assert diff[core].mean() > floor, f"nothing drawn under truth footprint {i}"
    # far from every vehicle (and its shadow) the two rasters are the same
    near = cv2.dilate(
        masks.any(axis=0).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=int(12 / 0.75)
    ).astype(bool)
    assert diff[~near].max() == 0


# ------------------------------------------------------------------ files and CRSs


@pytest.mark.parametrize("crs", ["EPSG:32652", "EPSG:4326", "EPSG:3857"])
def test_written_files_are_georeferenced_and_consistent(tmp_path, crs):
    scene = synthesize(SceneSpec(cars=20, crs=crs, **FAST))
    paths = write_scene(scene, tmp_path)
    station_path = write_station("tumangang", tmp_path)
    assert paths["tif"].name == "tumangang_2023-10-05.tif"
    with rasterio.open(paths["tif"]) as ds:
        assert ds.crs == rasterio.crs.CRS.from_user_input(crs)
        assert ds.count == 3 and ds.dtypes == ("uint8",) * 3
        assert [c.name for c in ds.colorinterp] == ["red", "green", "blue"]
        assert ds.block_shapes[0] == (256, 256)
        assert ds.tags()["TIFFTAG_DATETIME"].startswith("2023:10:05 0")
        pixels = np.moveaxis(ds.read(), 0, -1)
        bounds = shapely.box(*ds.bounds)
        # ground pixel size is the GSD whatever the CRS
        cx, cy = (ds.bounds.left + ds.bounds.right) / 2, (ds.bounds.bottom + ds.bounds.top) / 2
        (lx, rx), (ly, ry) = rasterio.warp.transform(ds.crs, "EPSG:32652", [cx, cx + ds.res[0]], [cy, cy])
        assert np.hypot(rx - lx, ry - ly) == pytest.approx(1.0, rel=0.02)
    assert np.abs(pixels.astype(int) - scene.pixels).mean() < 3  # JPEG, not another image
    features = json.loads(paths["truth_geojson"].read_text())["features"]
    counts = json.loads(paths["truth_json"].read_text())
    station = shape(json.loads(station_path.read_text())["features"][0]["geometry"])
    assert json.loads(station_path.read_text())["features"][0]["properties"]["name"] == "Tumangang"
    assert len(features) == len(scene.truth)
    for f in features:
        g = transform_geom("EPSG:4326", crs, f["geometry"])
        assert bounds.contains(shape(g)), f"truth {f['properties']['id']} outside the raster"
    assert bounds.intersects(shape(transform_geom("EPSG:4326", crs, station.__geo_interface__)))
    assert counts["railcars"] == 20 and counts["crs"] == crs and counts["gsd_m"] == 1.0
    assert counts["scene"] == "tumangang_2023-10-05.tif"


def test_inside_station_matches_the_written_station_polygon(tmp_path):
    scene = synthesize(SceneSpec(cars=60, locomotives=2, **FAST))
    paths = write_scene(scene, tmp_path)
    station = shape(json.loads(write_station("tumangang", tmp_path).read_text())["features"][0]["geometry"])
    features = json.loads(paths["truth_geojson"].read_text())["features"]
    inside = [station.contains(shape(f["geometry"]).centroid) for f in features]
    assert inside == [f["properties"]["inside_station"] for f in features]
    props = [f["properties"] for f in features]
    rail_in = [p for p in props if p["inside_station"] and p["is_railcar"]]
    assert len(rail_in) == 60
    assert sum(p["kind"] == "locomotive" and p["inside_station"] for p in props) == 2
    assert all(p["class"] == "locomotive" and not p["is_railcar"] for p in props if p["kind"] == "locomotive")
    # the scene holds cars outside the station and look-alikes, which must not count
    assert any(p["is_railcar"] and not p["inside_station"] for p in props)
    trucks = [p for p in props if p["kind"] == "truck"]
    assert trucks and not any(p["is_railcar"] for p in trucks)
    assert any(p["inside_station"] for p in trucks), "the apron should hold a truck"
    assert {p["class"] for p in rail_in} <= {"tank", "covered", "open", "flat"}
    # railcar centroids keep clear of the boundary, so frames agree on inside/outside
    xy = np.array(
        [
            shapely.centroid(shape(transform_geom("EPSG:4326", "EPSG:32652", f["geometry"]))).coords[0]
            for f in features
            if f["properties"]["is_railcar"]
        ]
    )
    dist = shapely.distance(SITE.station.exterior, shapely.points(xy))
    assert dist.min() > CAR_MARGIN_M * 0.9


# ------------------------------------------------------------------ bundled samples


def test_sample_scenes_match_regenerate_script():
    script = (SAMPLES / "regenerate.sh").read_text()
    for spec in SAMPLE_SCENES:
        line = (
            f'railcount synth "$out" --site {spec.site} --date {spec.date} --cars '
            f"{spec.cars} --gsd {spec.gsd_m} --crs {spec.crs} --seed {spec.seed} --realism {spec.realism}"
        )
        assert line in script, line


@pytest.mark.slow
def test_regenerate_reproduces_the_committed_samples(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        ["bash", str(SAMPLES / "regenerate.sh"), str(tmp_path)],
        check=True,
        cwd=REPO,
        env=env,
        capture_output=True,
    )
    committed = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".tif", ".geojson", ".json"))
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    assert len([n for n in committed if n.endswith(".tif")]) == len(SAMPLE_SCENES)
    for name in committed:
        if name.endswith(".tif"):
            with rasterio.open(SAMPLES / name) as a, rasterio.open(tmp_path / name) as b:
                assert a.crs == b.crs and a.transform == b.transform
                assert a.tags() == b.tags()
                d = np.abs(a.read().astype(int) - b.read().astype(int))
            assert d.max() <= 1 and np.mean(d > 0) <= 0.001, name
        else:
            assert (SAMPLES / name).read_text() == (tmp_path / name).read_text(), name


def test_sample_truth_counts_match_specs():
    for spec in SAMPLE_SCENES:
        counts = json.loads((SAMPLES / f"{spec.site}_{spec.date}.truth.json").read_text())
        assert counts["railcars"] == spec.cars
        assert counts["crs"] == spec.crs and counts["gsd_m"] == spec.gsd_m


def test_cli_writes_scene_and_station(tmp_path):
    from typer.testing import CliRunner

    from railcount.cli import app

    res = CliRunner().invoke(
        app, ["synth", str(tmp_path), "--cars", "5", "--gsd", "1.0", "--seed", "2", "--date", "2020-01-15"]
    )
    assert res.exit_code == 0, res.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "tumangang_2020-01-15.tif",
        "tumangang_2020-01-15.truth.geojson",
        "tumangang_2020-01-15.truth.json",
        "tumangang_station.geojson",
    }
    assert json.loads((tmp_path / "tumangang_2020-01-15.truth.json").read_text())["railcars"] == 5


def test_cli_reports_bad_arguments_in_one_line(tmp_path, capsys):
    from railcount.cli import main

    assert main(["synth", str(tmp_path), "--gsd", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "gsd_m must be between 0.3 and 1.0" in err
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ realism v2, conditions, products

ALL_CONDITIONS = "snow,haze=0.3,thin_cloud=0.3,cloud=0.3,off_nadir=15,blur=1.2,noise=1.5"


@pytest.fixture(scope="module")
def scene_v2():
    return synthesize(SceneSpec(cars=30, **V2))


@pytest.fixture(scope="module")
def scene_all():
    """Every condition and a 16-bit product with a swath edge, at 1 m."""
    return synthesize(SceneSpec(cars=30, conditions=ALL_CONDITIONS, product="bgrn16+edge", **V2))


def test_v2_and_conditions_are_deterministic(scene_v2, scene_all):
    for scene in (scene_v2, scene_all):
        again = synthesize(scene.spec)
        assert np.array_equal(again.pixels, scene.pixels)
        assert again.truth.to_geojson() == scene.truth.to_geojson()
        assert again.counts() == scene.counts()
    assert np.array_equal(synthesize(scene_all.spec).valid, scene_all.valid)


def test_conditions_and_products_do_not_move_the_cars(scene_v2, scene_all):
    assert np.array_equal(scene_all.truth.footprint, scene_v2.truth.footprint)
    assert list(scene_all.truth.kind) == list(scene_v2.truth.kind)
    # nor does the realism-v1 layout change when a v1 scene asks for a product
    plain = synthesize(SceneSpec(cars=30, **FAST))
    product = synthesize(SceneSpec(cars=30, product="pan16", **FAST))
    assert np.array_equal(product.truth.footprint, plain.truth.footprint)


def test_v1_files_keep_their_layout_and_v2_adds_visibility(scene_utm, scene_v2):
    assert set(scene_utm.truth.records()[0]) == {
        "id", "kind", "class", "is_railcar", "inside_station", "track", "tarped", "length_m", "width_m"
    }  # fmt: skip
    assert "railcars_visible" not in scene_utm.counts() and "realism" not in scene_utm.counts()
    rec = scene_v2.truth.records()[0]
    assert rec["hidden_by_cloud"] is False and rec["in_nodata"] is False
    c = scene_v2.counts()
    assert c["railcars_visible"] == c["railcars"] == 30 and c["realism"] == "v2"


def test_v2_has_structures_as_non_railcar_truth(scene_v2):
    t = scene_v2.truth
    kinds = set(t.kind)
    assert {"building", "shed", "platform", "canopy", "trailer", "truck", "container"} <= kinds
    look_alikes = ~np.isin(t.kind, ("boxcar", "hopper", "tank", "gondola", "flat"))
    assert not t.is_railcar[look_alikes].any()
    assert scene_v2.counts()["railcars"] == 30  # structures never count


def test_cloud_hides_cars_and_the_truth_says_which(scene_all):
    c = scene_all.counts()
    hidden = scene_all.truth.hidden_by_cloud & scene_all.truth.is_railcar
    assert hidden.any(), "the cloud should cover some railcars (it always passes over the station)"
    t = scene_all.truth
    both = int((t.hidden_by_cloud & t.in_nodata & t.inside_station & t.is_railcar).sum())
    assert (
        c["railcars_visible"]
        == c["railcars"] - c["railcars_hidden_by_cloud"] - c["railcars_in_nodata"] + both
    )
    # under a hidden car the image is flat cloud: little of the car is left
    lum = scene_all.pixels[..., :3].astype(float).mean(axis=2)
    contrast = {True: [], False: []}
    for m, h, nodata in zip(
        _footprint_masks(scene_all, scene_all.truth.polygons()),
        hidden,
        scene_all.truth.in_nodata,
        strict=True,
    ):
        core = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if core.sum() >= 4 and not nodata:
            contrast[bool(h)].append(lum[core].std() / lum[core].mean())
    assert np.median(contrast[True]) < 0.5 * np.median(contrast[False])


def test_swath_edge_is_nodata_and_flagged(scene_all):
    px, valid = scene_all.pixels, scene_all.valid
    assert 0.1 < valid.mean() < 0.9
    assert (px[~valid] == 0).all() and (px[valid] > 0).all()
    centres = _footprint_masks(scene_all, [shapely.Point(c).buffer(1e-6) for c in scene_all.truth.center])
    for m, nodata in zip(centres, scene_all.truth.in_nodata, strict=True):
        if m.any():
            assert valid[m].any() != nodata


@pytest.mark.parametrize(
    ("product", "dtype", "bands", "interp"),
    [
        ("bgrn16+edge", "uint16", 4, ["blue", "green", "red", "nir"]),
        ("pan16", "uint16", 1, ["pan"]),
        ("pan8+edge", "uint8", 1, ["pan"]),
        ("rgb8+edge", "uint8", 3, ["red", "green", "blue"]),
    ],
)
def test_products_are_written_with_bands_bit_depth_and_nodata(tmp_path, product, dtype, bands, interp):
    scene = synthesize(SceneSpec(cars=10, product=product, **FAST))
    assert scene.pixels.dtype == np.dtype(dtype) and scene.pixels.shape[-1] == bands
    assert scene.band_names == tuple(interp)
    if dtype == "uint16":
        assert scene.pixels.max() <= 2047 and np.percentile(scene.pixels, 50) > 150
    paths = write_scene(scene, tmp_path)
    with rasterio.open(paths["tif"]) as ds:
        assert ds.count == bands and ds.dtypes[0] == dtype
        assert [c.name for c in ds.colorinterp] == interp
        assert list(ds.descriptions) == interp
        if dtype == "uint16":
            assert ds.tags(1, "IMAGE_STRUCTURE")["NBITS"] == "11"
            assert ds.profile["compress"] == "deflate"
        data = ds.read()
        if "+edge" in product:
            valid = ds.read_masks(1) > 0
            assert np.array_equal(valid, scene.valid)
            if dtype == "uint16":
                assert ds.nodata == 0 and np.array_equal(data[0] != 0, scene.valid)
            else:  # JPEG: the edge is an internal mask, not a lossy zero
                assert ds.nodata is None and ds.mask_flag_enums[0] == [rasterio.enums.MaskFlags.per_dataset]
        if dtype == "uint16":
            assert np.array_equal(np.moveaxis(data, 0, -1), scene.pixels)
    counts = json.loads(paths["truth_json"].read_text())
    assert counts["product"] == product and counts["bands"] == interp


def test_jpeg_condition_leaves_block_artefacts():
    clean = synthesize(SceneSpec(cars=10, product="pan8", **FAST))
    blocky = synthesize(SceneSpec(cars=10, product="pan8", conditions="jpeg=10", **FAST))
    d = blocky.pixels[..., 0].astype(float) - clean.pixels[..., 0].astype(float)
    assert np.abs(d).mean() > 1
    # JPEG works in 8x8 blocks: steps across block borders are larger than inside them
    step = np.abs(np.diff(blocky.pixels[..., 0].astype(float), axis=1))
    assert step[:, 7::8].mean() > 1.1 * step[:, 3::8].mean()


def test_lean_points_away_from_the_satellite():
    lean = lean_vector(Conditions(off_nadir_deg=30, view_azimuth_deg=90.0), np.random.default_rng(0))
    # the satellite is east: tops move west by tan(30 deg) per metre
    assert lean == pytest.approx([-np.tan(np.radians(30)), 0.0], abs=1e-12)
    assert not lean_vector(Conditions(), np.random.default_rng(0)).any()


def test_off_nadir_moves_tops_not_footprints(scene_v2):
    spec = SceneSpec(cars=30, conditions="off_nadir=30,view_azimuth=90", **V2)
    leaning = synthesize(spec)
    assert np.array_equal(leaning.truth.footprint, scene_v2.truth.footprint)
    # a railcar's top (about 4 m up) now lies about 2.3 m west: the scene changes mostly there
    diff = np.abs(leaning.pixels.astype(int) - scene_v2.pixels.astype(int)).max(axis=2)
    assert diff.mean() > 0.5


def test_overhead_shadows_fall_away_from_the_sun():
    sun = Sun(azimuth_deg=180.0, elevation_deg=45.0)  # sun in the south: shadows point north
    portal = Overhead("portal", ((0.0, 0.0), (40.0, 0.0)), 10.0)
    site = SiteLayout(
        "t", "T", 32652, (0, 0), (), shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1), (0, 0, 1, 1),
        overhead=(portal,),
    )  # fmt: skip
    grid = Grid(rasterio.Affine(0.1, 0, -5.0, 0, -0.1, 20.0), (250, 500))
    shade = OverheadShadows(site, sun).shade(grid, z=0.0)
    row = lambda y: int((20.0 - y) / 0.1)  # noqa: E731
    assert shade[row(10.0), 200] > 0.5  # the beam's shadow: 10 m north of the beam, on the ground
    assert shade[row(0.0) - 3, 200] == 0  # nothing just north of the beam itself
    on_roof = OverheadShadows(site, sun).shade(grid, z=4.0)
    assert on_roof[row(6.0), 200] > 0.5 and on_roof[row(10.0), 200] == 0  # nearer on a 4 m roof


def test_v2_roofs_are_smoother_than_the_ground_around_them():
    """Real yards (Muttenz, 0.25 m): roofs about half as rough as the ballast; v1 had them alike."""

    def roughness(scene):
        lum = scene.pixels.astype(np.float32).mean(axis=2)
        lap = np.abs(cv2.Laplacian(np.log(lum / 255 + 0.08), cv2.CV_32F))
        lap = cv2.blur(lap, (2, 2))
        inside = _footprint_masks(scene, [scene.station])[0]
        rail = scene.truth.is_railcar & scene.truth.inside_station
        lon, lat = scene.truth.center[rail].T
        xs, ys = rasterio.warp.transform("EPSG:4326", scene.crs, lon.tolist(), lat.tolist())
        t = ~scene.transform
        cols, rows = (np.array([t * xy for xy in zip(xs, ys, strict=True)]).T).astype(int)
        return lap[rows, cols].mean() / np.median(lap[inside])

    v2 = roughness(synthesize(SceneSpec(cars=40, **{**V2, "gsd_m": 0.5})))
    v1 = roughness(synthesize(SceneSpec(cars=40, **{**FAST, "gsd_m": 0.5})))
    assert v2 < 0.8 < v1


# ------------------------------------------------------------------ sites and track geometry


def test_v2_tumangang_keeps_the_station_and_adds_trackwork():
    v1, v2 = SITES["tumangang"], site_layout("tumangang", realism="v2")
    assert v2.station_lonlat.equals(v1.station_lonlat) and v2.extent == v1.extent
    kinds = [t.kind for t in v2.tracks]
    assert kinds.count("branch") >= 3 and kinds.count("ladder") > [t.kind for t in v1.tracks].count("ladder")
    assert {o.kind for o in v2.overhead} == {"mast", "portal"}
    headings = []
    for t in v2.tracks:
        d = np.diff(np.asarray(t.points), axis=0)
        ang = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
        if t.kind in ("yard", "branch"):
            headings.append(np.degrees(t.heading_at(t.length / 2)))
        if t.kind == "branch":
            assert np.ptp(ang) > 15, "branch tracks curve"
    assert np.ptp(headings) > 25, "a second track direction"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generic_sites_differ_and_hold_exact_counts(tmp_path, seed):
    site = site_layout("generic", seed=seed)
    assert site.name == f"generic-{seed}" and site.station.is_valid
    scene = synthesize(SceneSpec(cars=20, locomotives=1, **{**V2, "site": "generic", "seed": seed}))
    assert scene.counts()["railcars"] == 20 and scene.counts()["locomotives"] == 1
    path = write_station(scene.site, tmp_path)
    assert path.name == f"generic-{seed}_station.geojson"
    written = shape(json.loads(path.read_text())["features"][0]["geometry"])
    assert written.equals(scene.station)


def test_generic_sites_vary_in_angle_and_curvature():
    angles, curved = set(), 0
    for seed in range(8):
        site = site_layout("generic", seed=seed)
        yard = [t for t in site.tracks if t.kind == "yard"]
        p = np.asarray(yard[0].points)
        angles.add(round(float(np.degrees(np.arctan2(*(p[-1] - p[0])[::-1]))) % 180 / 20))
        mid = np.asarray(yard[0].points)[len(yard[0].points) // 2]
        chord = shapely.LineString([p[0], p[-1]])
        curved += shapely.distance(chord, shapely.Point(mid)) > 3.0
    assert len(angles) >= 4 and 1 <= curved <= 7


# ------------------------------------------------------------------ spec validation and CLI


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (dict(realism="v3"), "realism"),
        (dict(conditions="fog"), "unknown condition"),
        (dict(conditions="cloud=2"), "cloud"),
        (dict(conditions="snow"), "realism 'v2'"),
        (dict(product="cmyk8"), "product bands"),
        (dict(product="rgb8+blur"), "edge"),
        (dict(product="bgrn16", conditions="jpeg"), "8-bit"),
    ],
)
def test_bad_conditions_and_products_are_usage_errors(bad, match):
    with pytest.raises(UsageError, match=match):
        SceneSpec(**{**FAST, **bad})


def test_conditions_text_round_trips():
    c = Conditions.parse("snow, cloud=0.25,off-nadir=12,view_azimuth=100,jpeg")
    assert c == Conditions(snow=True, cloud=0.25, off_nadir_deg=12.0, view_azimuth_deg=100.0, jpeg_quality=35)
    assert Conditions.parse(c.to_text()) == c and Conditions.parse("").clear
    assert Product.parse("bgrn16+edge").to_text() == "bgrn16+edge"


def test_cli_writes_v2_products_with_conditions(tmp_path):
    from typer.testing import CliRunner

    from railcount.cli import app

    args = ["synth", str(tmp_path), "--site", "generic", "--cars", "8", "--gsd", "1.0", "--seed", "4"]
    args += ["--realism", "v2", "--conditions", "cloud=0.3,haze", "--product", "pan16+edge"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "visible" in res.output
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {
        "generic-4_2023-10-05.tif",
        "generic-4_2023-10-05.truth.geojson",
        "generic-4_2023-10-05.truth.json",
        "generic-4_station.geojson",
    }
    counts = json.loads((tmp_path / "generic-4_2023-10-05.truth.json").read_text())
    assert counts["railcars"] == 8 and counts["conditions"] == "haze=0.5,cloud=0.3"
    assert counts["product"] == "pan16+edge"


# ------------------------------------------------------------------ town (look-alikes, no railcars)


def _house_halves(scene, area):
    """Mean luminance of the two roof halves of a house (pixels 1-3 m either side of the ridge)."""
    xy = np.asarray(area.polygon.exterior.coords)[:4]
    along = (xy[1] - xy[0]) / np.hypot(*(xy[1] - xy[0]))
    across = (xy[3] - xy[0]) / np.hypot(*(xy[3] - xy[0]))
    width = np.hypot(*(xy[3] - xy[0]))
    centre = xy.mean(axis=0)
    inv = ~scene.transform
    lum = scene.pixels[..., :3].astype(float).mean(axis=-1)
    means = []
    for side in (-1, 1):
        values = []
        for t in np.linspace(-0.3, 0.3, 7) * np.hypot(*(xy[1] - xy[0])):
            for d in np.linspace(1.0, min(3.0, width / 2 - 1.0), 3):
                col, row = inv * tuple(centre + along * t + across * side * d)
                values.append(lum[int(row), int(col)])
        means.append(float(np.mean(values)))
    return means


def test_town_refuses_railcars_and_needs_realism_v2(tmp_path, capsys):
    with pytest.raises(UsageError, match="no railcars"):
        SceneSpec(site="town", cars=5, realism="v2")
    with pytest.raises(UsageError, match="realism v2"):
        SceneSpec(site="town", cars=0)
    from railcount.cli import main

    assert main(["synth", str(tmp_path), "--site", "town", "--realism", "v2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pass --cars 0" in err
    assert not list(tmp_path.iterdir())


def test_town_has_no_railcars_and_its_houses_are_buildings_in_the_station():
    scene = synthesize(
        SceneSpec(site="town", cars=0, locomotives=0, date="2021-06-01", gsd_m=0.5, seed=2, realism="v2")
    )
    counts = scene.counts()
    assert counts["railcars"] == 0 and counts["locomotives"] == 0
    houses = [a for a in scene.site.areas if a.kind == "house"]
    assert len(houses) >= 2
    assert all(scene.site.station.contains(h.polygon.centroid) for h in houses)
    truth = scene.truth
    assert (truth.cls == "building").sum() >= len(houses)
    assert (truth.kind == "auto").sum() > 10, "parked cars fill the car parks"


def test_town_roof_half_facing_the_sun_is_brighter():
    site = site_layout("town", seed=5)
    house = next(a for a in site.areas if a.kind == "house")
    xy = np.asarray(house.polygon.exterior.coords)[:4]
    across = (xy[3] - xy[0]) / np.hypot(*(xy[3] - xy[0]))
    # the sun stands across the ridge, on the side of the half at +across
    azimuth = float(np.degrees(np.arctan2(across[0], across[1])) % 360)
    spec = SceneSpec(
        site="town",
        cars=0,
        gsd_m=0.3,
        seed=5,
        realism="v2",
        sun_azimuth_deg=azimuth,
        sun_elevation_deg=35.0,
    )
    scene = synthesize(spec)
    minus, plus = _house_halves(scene, house)
    assert plus > 1.3 * minus, (minus, plus)
    # with the sun along the ridge both halves are lit alike
    along_az = float(np.degrees(np.arctan2(-across[1], across[0])) % 360)
    scene = synthesize(dataclasses.replace(spec, sun_azimuth_deg=along_az))
    minus, plus = _house_halves(scene, house)
    assert abs(plus - minus) < 0.15 * max(plus, minus), (minus, plus)
