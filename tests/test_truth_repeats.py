"""A truth file that outlines one car twice: the car is counted once, and the user is told which."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from railcount.cli import main
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import REPEAT_M, stock_in_window, truth_features

from .geofixtures import write_synth


def _shifted(feature: dict, east_m: float) -> dict:
    """A copy of a truth feature moved ``east_m`` metres east (as a second hand-drawn outline is)."""
    out = copy.deepcopy(feature)
    geom = out["geometry"]
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    lat = polys[0][0][0][1]
    step = east_m / (111_320.0 * math.cos(math.radians(lat)))
    for poly in polys:
        for ring in poly:
            for vertex in ring:
                vertex[0] += step
    return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("repeats")
    paths, station = write_synth(folder, date="2022-04-20", cars=20, gsd_m=0.5, seed=31)
    (window,) = read_windows(paths["tif"], read_stations(station))
    feats = truth_features(paths["truth_geojson"])
    # The first railcar and the first locomotive inside the station, by their place in the file.
    stock = stock_in_window(feats, window)
    numbers = [k for k, f in enumerate(feats) if len(stock_in_window([f], window).cars)]
    locos = [k for k, f in enumerate(feats) if len(stock_in_window([f], window).locomotives)]
    return paths, station, window, feats, stock, numbers[0], locos


def test_an_outline_drawn_again_nearby_is_one_car_and_a_farther_one_is_another(scene):
    _, _, window, feats, stock, first, locos = scene
    assert len(stock.cars) == 20 and stock.repeats == ()
    near = _shifted(feats[first], 0.75 * REPEAT_M)
    far = _shifted(feats[first], 1.25 * REPEAT_M)
    twice = stock_in_window([*feats, near], window)
    assert len(twice.cars) == 20
    assert twice.repeats == ((first, len(feats)),)  # numbered from 0, as the warning says
    assert len(twice.rings) == len(twice.cars) == len(twice.classes) == len(twice.tarped)
    # Beyond REPEAT_M the outline is taken as a car of its own (two outlines, two cars).
    apart = stock_in_window([*feats, far], window)
    assert len(apart.cars) == 21 and apart.repeats == ()
    # A locomotive drawn twice is one locomotive too (the scene has one).
    assert locos
    again = stock_in_window([*feats, _shifted(feats[locos[0]], 0.5)], window)
    assert len(again.locomotives) == len(stock.locomotives)
    assert again.repeats == ((locos[0], len(feats)),)


def test_evaluate_counts_a_repeated_outline_once_and_names_it(scene, tmp_path, capsys):
    paths, station, _, feats, _, first, _ = scene
    args = ["evaluate", str(paths["tif"]), "--station", str(station), "--json"]
    assert main([*args, "--truth", str(paths["truth_geojson"])]) == 0
    clean = json.loads(capsys.readouterr().out)
    assert clean["truth"] == 20 and clean["truth_repeats"] == []

    doc = json.loads(Path(paths["truth_geojson"]).read_text())
    doc["features"].append(_shifted(doc["features"][first], 0.5))
    repeated = tmp_path / "repeated.geojson"
    repeated.write_text(json.dumps(doc))
    assert main([*args, "--truth", str(repeated)]) == 0
    captured = capsys.readouterr()
    rec = json.loads(captured.out)
    # The same truth, the same matches: the repeat neither adds a car nor a miss.
    assert rec["truth"] == 20 and rec["count_error"] == clean["count_error"]
    assert rec["true_positives"] == clean["true_positives"] and rec["recall"] == clean["recall"]
    assert rec["truth_repeats"] == [[first, len(feats)]]
    warning = [line for line in captured.err.splitlines() if "repeat" in line]
    assert len(warning) == 1, captured.err
    assert warning[0].startswith("railcount: warning: ") and str(repeated) in warning[0]
    assert f"feature {len(feats)} repeats {first}" in warning[0]
    assert "Traceback" not in captured.err
