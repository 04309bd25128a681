"""Tests of the synthetic scene generator (railcount.synth) and `railcount synth`."""

from __future__ import annotations

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
from railcount.synth import SAMPLE_SCENES, SITES, SceneSpec, synthesize, write_scene, write_station
from railcount.synth.layout import CAR_MARGIN_M, build_truth, plan_scene

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_tiles"
SITE = SITES["tumangang"]

FAST = dict(site="tumangang", date="2023-10-05", gsd_m=1.0, seed=7)


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


# ------------------------------------------------------------------ truth on pixels


def _empty_twin(spec: SceneSpec):
    """The same scene with nothing on it: same ground, sun and noise streams."""
    return synthesize(
        SceneSpec(
            **{**spec.__dict__, "cars": 0, "locomotives": 0, "outside_cars": False, "distractors": False}
        )
    )


@pytest.mark.parametrize("crs", ["EPSG:32652", "EPSG:4326"])
def test_truth_footprints_land_where_vehicles_were_drawn(crs):
    spec = SceneSpec(cars=25, crs=crs, **{**FAST, "gsd_m": 0.75})
    scene, empty = synthesize(spec), _empty_twin(spec)
    assert scene.sun == empty.sun
    diff = np.abs(scene.pixels.astype(int) - empty.pixels.astype(int)).max(axis=2)
    masks = _footprint_masks(scene, scene.truth.polygons())
    assert len(masks) == len(scene.truth) > 25
    for i, m in enumerate(masks):
        core = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        assert core.sum() >= 4, f"vehicle {i} covers almost no pixels"
        # a light-grey container on concrete may be faint; a railcar on ballast may not
        floor = 8 if scene.truth.kind[i] not in ("container", "truck") else 3
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
            f"{spec.cars} --gsd {spec.gsd_m} --crs {spec.crs} --seed {spec.seed}"
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
