"""Opaque cloud: what it hides is not counted, and the observed fraction says how much that was."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from railcount.detect import cloud
from railcount.detect.cloud import (
    BLOCK_M,
    MAX_SATURATION,
    MAX_SPREAD,
    MIN_DARKEST,
    MIN_MEAN,
    opaque_cloud,
)
from railcount.detect.params import DetectorParams
from railcount.errors import CloudShadowWarning, PartialViewWarning
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
    # The cloud's shadow lies over the rest of the yard (seen on the overlay): the count says so.
    with pytest.warns(PartialViewWarning), pytest.warns(CloudShadowWarning):  # 19 % seen
        (sc,) = count_scene(paths["tif"], stations)
    under = float((sc.cloud & sc.window.inside).sum()) / float(sc.window.inside.sum())
    # The share of the station found under cloud follows the share of cars the cloud hid
    # (measured: 35 % of the station under cloud, 24 of 60 railcars hidden); the shadow's share is
    # left out of the observed fraction too.
    assert under >= 0.5 * hidden and under <= 2.0 * hidden + 0.05, (under, hidden)
    assert sc.shade is not None and 1.0 - sc.result.observed_fraction > under + 0.1
    # No counted car sits under the cloud; the interval's upper bound makes room for what it hid.
    (window,) = read_windows(paths["tif"], stations)
    cloud = opaque_cloud(window)
    rows, cols = sc.detections.center.round().astype(int).T
    assert not cloud[rows, cols].any()
    off = count_scene(paths["tif"], stations, params=DetectorParams(mask_cloud=False))[0].result
    assert off.observed_fraction > 0.99 and sc.result.railcars_high > off.railcars_high


def _cloud_blocks_whole_window(window) -> np.ndarray:
    """The blocks passing every cloud test, each statistic taken over the whole window (as first written)."""
    rows, cols = window.shape
    k = max(2, round(BLOCK_M / window.gsd_m))
    nr, nc = rows // k, cols // k
    v0, v1 = window.value_range
    bands = window.pixels[: nr * k, : nc * k, :3].astype(np.float32)
    lin = np.clip((bands - np.float32(v0)) * np.float32(1.0 / max(v1 - v0, 1e-6)), 0.0, 1.0)
    blocks = lin.mean(axis=2).reshape(nr, k, nc, k)
    colour = lin.reshape(nr, k, nc, k, -1).mean(axis=(1, 3))
    top = colour.max(axis=-1)
    saturation = (top - colour.min(axis=-1)) / np.maximum(top, 1e-3)
    has_data = window.data[: nr * k, : nc * k].reshape(nr, k, nc, k).all(axis=(1, 3))
    return (
        has_data
        & (blocks.mean(axis=(1, 3)) > MIN_MEAN)
        & (blocks.std(axis=(1, 3)) < MAX_SPREAD)
        & (blocks.min(axis=(1, 3)) > MIN_DARKEST)
        & (saturation < MAX_SATURATION)
    )


def _judged_blocks(window, monkeypatch) -> np.ndarray:
    """The blocks :func:`opaque_cloud` judged to be cloud, before joining them into regions (what it
    hands to the morphological close)."""
    judged = []
    real_close = cv2.morphologyEx

    def spy(image, *args, **kwargs):
        judged.append(image.astype(bool))
        return real_close(image, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(cloud.cv2, "morphologyEx", spy)
        opaque_cloud(window)
    return judged[0]


def test_cloud_blocks_are_judged_as_over_the_whole_window(cloudy, clear, monkeypatch):
    """Statistics taken on the rows of bright blocks alone pick the same blocks, cloudy or clear."""
    found = []
    for paths, stations in (cloudy, clear):
        (window,) = read_windows(paths["tif"], stations)
        judged = _judged_blocks(window, monkeypatch)
        assert np.array_equal(judged, _cloud_blocks_whole_window(window))
        found.append(int(judged.sum()))
    assert found[0] > 50  # the cloudy scene has cloud blocks to judge


@pytest.mark.parametrize("product", ["bgrn16", "pan16", "pan8"])
def test_cloud_blocks_of_other_products_are_judged_as_over_the_whole_window(tmp_path, product, monkeypatch):
    """The bound that spares clear rows holds for 11-bit and panchromatic data, and float data is judged
    whole; each picks the blocks the whole-window statistics pick."""
    paths, station = write_synth(tmp_path, conditions="cloud=0.35", product=product, **SCENE)
    (window,) = read_windows(paths["tif"], read_stations(station))
    as_float = dataclasses.replace(window, pixels=window.pixels.astype(np.float32))
    for w in (window, as_float):
        judged = _judged_blocks(w, monkeypatch)
        assert np.array_equal(judged, _cloud_blocks_whole_window(w))
        assert judged.sum() > 50  # cloud blocks to judge


def test_only_rows_that_may_hold_a_bright_block_are_converted(cloudy, clear):
    """The raw-value bound leaves out rows of blocks that cannot be bright, and never a row holding one."""
    for paths, stations in (cloudy, clear):
        (window,) = read_windows(paths["tif"], stations)
        k = max(2, round(BLOCK_M / window.gsd_m))
        nr, nc = window.shape[0] // k, window.shape[1] // k
        raw = window.pixels[: nr * k, : nc * k, :3]
        maybe = cloud._rows_maybe_bright(raw, k, *window.value_range)
        v0, v1 = window.value_range
        lin = np.clip((raw.astype(np.float64) - v0) / (v1 - v0), 0.0, 1.0).mean(axis=2)
        bright_rows = np.flatnonzero((lin.reshape(nr, k, nc, k).mean(axis=(1, 3)) > MIN_MEAN).any(axis=1))
        assert set(bright_rows) <= set(maybe)
        assert maybe.size < nr  # some rows are spared
