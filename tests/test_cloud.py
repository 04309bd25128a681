"""Opaque cloud: what it hides is not counted, and the observed fraction says how much that was."""

from __future__ import annotations

import json

import pytest

from railcount.detect.cloud import opaque_cloud
from railcount.detect.params import DetectorParams
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import write_synth

SCENE = dict(date="2021-05-20", cars=60, gsd_m=0.75, seed=4321, realism="v2")


@pytest.fixture(scope="module")
def cloudy(tmp_path_factory):
    paths, station = write_synth(tmp_path_factory.mktemp("cloudy"), conditions="cloud=0.35", **SCENE)
    return paths, read_stations(station)


@pytest.fixture(scope="module")
def clear(tmp_path_factory):
    paths, station = write_synth(tmp_path_factory.mktemp("clear"), **SCENE)
    return paths, read_stations(station)


def test_clear_scene_has_no_cloud(clear):
    paths, stations = clear
    (window,) = read_windows(paths["tif"], stations)
    # Measured: 0.6 % of the window (a smooth bright roof beside the yard), none of the station.
    assert opaque_cloud(window).mean() < 0.02
    (sc,) = count_scene(paths["tif"], stations)
    assert sc.result.observed_fraction > 0.99


def test_cloud_lowers_the_observed_fraction_and_hides_its_cars(cloudy):
    paths, stations = cloudy
    summary = json.loads(paths["truth_json"].read_text())
    hidden = summary["railcars_hidden_by_cloud"] / summary["railcars"]
    assert hidden >= 0.1, summary  # the scene is a real test: cloud over the yard
    (sc,) = count_scene(paths["tif"], stations)
    unseen = 1.0 - sc.result.observed_fraction
    # The share of the station found under cloud follows the share of cars the cloud hid
    # (measured: 35 % of the station unseen, 24 of 60 railcars hidden).
    assert unseen >= 0.5 * hidden and unseen <= 2.0 * hidden + 0.05, (unseen, hidden)
    # No counted car sits under the cloud; the interval's upper bound makes room for what it hid.
    (window,) = read_windows(paths["tif"], stations)
    cloud = opaque_cloud(window)
    rows, cols = sc.detections.center.round().astype(int).T
    assert not cloud[rows, cols].any()
    off = count_scene(paths["tif"], stations, params=DetectorParams(mask_cloud=False))[0].result
    assert off.observed_fraction > 0.99 and sc.result.railcars_high > off.railcars_high
