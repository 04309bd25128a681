"""``railcount evaluate --out``: a picture and a GeoJSON of the missed and the false cars."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from rasterio.warp import transform as warp_points

from railcount.cli import main
from railcount.detect.cloud import opaque_cloud
from railcount.io.outputs import _FALSE, _MISSED, _NODATA
from railcount.io.scenes import WGS84, read_windows
from railcount.io.stations import read_stations
from railcount.models import apply_affine
from railcount.pipeline import evaluate_scene

from .geofixtures import write_synth


def _centroid(feature: dict) -> np.ndarray:
    return np.asarray(feature["geometry"]["coordinates"][0][:-1], dtype=float).mean(axis=0)


def _metres(window, lonlat: np.ndarray) -> np.ndarray:
    x, y = warp_points(WGS84, window.crs, lonlat[:, 0].tolist(), lonlat[:, 1].tolist())
    return np.column_stack([x, y])


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A generated yard whose truth is altered: two matched cars taken out, one empty spot put in."""
    folder = tmp_path_factory.mktemp("evalout")
    paths, station = write_synth(folder, date="2022-04-20", cars=20, gsd_m=0.5, seed=31)
    stations = read_stations(station)
    (ev,) = evaluate_scene(paths["tif"], stations, paths["truth_geojson"])
    window = ev.count.window
    doc = json.loads(Path(paths["truth_geojson"]).read_text())
    # The features of the true railcars, in the order the evaluation numbers them.
    centres = np.array([_centroid(f) for f in doc["features"]])
    cars_m = _metres(window, np.array([r.mean(axis=0) for r in ev.truth.rings_lonlat]))
    feats_m = _metres(window, centres)
    feature_of = [int(np.argmin(np.hypot(*(feats_m - c).T))) for c in cars_m]
    # Two matched true cars leave the truth: their detections become false.
    dropped_truth = ev.pairs[:2, 1]
    dropped_dets = ev.cars.center[ev.pairs[:2, 0]]
    keep = [f for k, f in enumerate(doc["features"]) if k not in {feature_of[j] for j in dropped_truth}]
    # An empty spot inside the station, far from every detection, becomes a true car: it is missed.
    rows, cols = np.nonzero(window.inside & window.data)
    pix = np.column_stack([rows, cols])[::97]
    dist = np.min(np.hypot(*(pix[:, None, :] - ev.count.detections.center[None]).transpose(2, 0, 1)), axis=1)
    spot = pix[int(np.argmax(dist))].astype(float)
    assert dist.max() * window.gsd_m > 20
    half_len, half_w = 7.5 / window.gsd_m, 1.5 / window.gsd_m
    ring_rc = spot + np.array(
        [[-half_w, -half_len], [-half_w, half_len], [half_w, half_len], [half_w, -half_len]]
    )
    x, y = apply_affine(window.transform, ring_rc[:, 1], ring_rc[:, 0])
    lon, lat = warp_points(window.crs, WGS84, list(x), list(y))
    ring = [[a, b] for a, b in zip(lon, lat, strict=True)]
    keep.append(
        {
            "type": "Feature",
            "properties": {"class": "covered", "is_railcar": True},
            "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        }
    )
    doc["features"] = keep
    truth = folder / "altered.truth.geojson"
    truth.write_text(json.dumps(doc))
    out = folder / "out"
    assert (
        main(
            [
                "evaluate",
                str(paths["tif"]),
                "--station",
                str(station),
                "--truth",
                str(truth),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    (window,) = read_windows(paths["tif"], stations)
    return {
        "out": out,
        "window": window,
        "spot": spot,
        "ring_rc": ring_rc,
        "spot_lonlat": np.array([np.mean(lon), np.mean(lat)]),
        "dropped_dets": dropped_dets,
    }


def test_evaluate_out_writes_the_count_and_the_evaluation(case):
    names = sorted(p.name for p in case["out"].iterdir())
    assert names == sorted(
        [
            "count.json",
            "detections.geojson",
            "overlay.png",
            "evaluation.json",
            "errors.geojson",
            "evaluation.png",
        ]
    )
    rec = json.loads((case["out"] / "evaluation.json").read_text())
    errors = json.loads((case["out"] / "errors.geojson").read_text())["features"]
    kinds = [f["properties"]["error"] for f in errors]
    # Every true car is matched or missed, every compared detection matched or false.
    assert kinds.count("missed") == rec["truth"] - rec["true_positives"] >= 1
    # `railcars` leaves out locomotives, as the comparison does.
    assert kinds.count("false") == rec["railcars"] - rec["true_positives"] >= 2


def test_the_planted_car_is_missed_and_the_dropped_cars_are_false(case):
    window = case["window"]
    errors = json.loads((case["out"] / "errors.geojson").read_text())["features"]
    missed = [f for f in errors if f["properties"]["error"] == "missed"]
    false = [f for f in errors if f["properties"]["error"] == "false"]
    spot_m = _metres(window, case["spot_lonlat"][None])[0]
    missed_m = _metres(window, np.array([_centroid(f) for f in missed]))
    assert np.min(np.hypot(*(missed_m - spot_m).T)) < 0.5
    false_m = _metres(window, np.array([_centroid(f) for f in false]))
    for rc in case["dropped_dets"]:
        x, y = apply_affine(window.transform, np.array([rc[1]]), np.array([rc[0]]))
        assert np.min(np.hypot(false_m[:, 0] - x[0], false_m[:, 1] - y[0])) < 2.0
    # A false car keeps the detection's own properties, so it can be judged in QGIS.
    assert {"type", "score", "method"} <= set(false[0]["properties"])


def test_the_picture_marks_the_missed_and_the_false_cars(case):
    window = case["window"]
    picture = cv2.imread(str(case["out"] / "evaluation.png"))
    overlay = cv2.imread(str(case["out"] / "overlay.png"))
    # The same picture under each banner (the evaluation's caption is longer, so its banner may be taller).
    assert picture.shape[1] == overlay.shape[1]
    scale = picture.shape[1] / window.shape[1]
    height = round(window.shape[0] * scale)

    def patch(img: np.ndarray, rc: np.ndarray, radius: int) -> np.ndarray:
        r, c = np.round(rc * scale).astype(int)
        r += img.shape[0] - height  # below the banner
        return img[max(0, r - radius) : r + radius + 1, max(0, c - radius) : c + radius + 1].reshape(-1, 3)

    def has(px: np.ndarray, colour: tuple[int, int, int]) -> bool:
        return bool((np.abs(px.astype(int) - colour).sum(axis=1) < 40).any())

    # The planted car's outline is white in the evaluation picture, not in the count's overlay.
    corner = case["ring_rc"][0]
    assert has(patch(picture, corner, 3), _MISSED)
    assert not has(patch(overlay, corner, 3), _MISSED)
    # Each dropped car's detection is ringed in vermillion.
    for rc in case["dropped_dets"]:
        area = patch(picture, rc, int(4 / window.gsd_m * scale))
        assert has(area, _FALSE)
        assert not has(patch(overlay, rc, int(4 / window.gsd_m * scale)), _FALSE)


def test_the_picture_shows_what_was_taken_for_cloud_outside_the_station_as_the_overlay_does(case):
    """This yard's warehouse roof, outside the station, reads as opaque cloud: the overlay shows it as
    it is (cloud is hatched only inside the station), and so must the evaluation picture, which
    painted it no-data grey, block by block, as if the file had a hole there."""
    window = case["window"]
    cloud = opaque_cloud(window)
    assert cloud.any() and not (cloud & window.inside).any()  # (what this test is about)
    picture = cv2.imread(str(case["out"] / "evaluation.png"))
    overlay = cv2.imread(str(case["out"] / "overlay.png"))
    scale = picture.shape[1] / window.shape[1]
    rows, cols = np.nonzero(cloud)
    r = np.round((rows + 0.5) * scale - 0.5).astype(int)
    c = np.round((cols + 0.5) * scale - 0.5).astype(int)
    for img in (picture, overlay):
        below = img[img.shape[0] - round(window.shape[0] * scale) :]
        grey = (below[r, c] == np.array(_NODATA, np.uint8)).all(axis=1)
        assert grey.mean() < 0.01
