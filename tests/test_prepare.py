"""Preparing a window: the fast paths give numpy's own numbers, to the bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from railcount.detect.prepare import _band_mean, prepare
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import write_synth


def test_band_mean_is_numpys_mean():
    rng = np.random.default_rng(11)
    image = (rng.random((300, 400, 3)) * rng.choice([1e-3, 1.0, 1e3], (300, 400, 3))).astype(np.float32)
    assert np.array_equal(_band_mean(image), image.mean(axis=2))


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    paths, station = write_synth(
        tmp_path_factory.mktemp("prepare"), date="2021-04-02", cars=20, gsd_m=0.5, seed=77
    )
    (window,) = read_windows(paths["tif"], read_stations(station))
    return window


def test_integer_pixels_prepare_as_their_float_values(window):
    """8-bit pixels give what the same values as float32 give (their percentiles are taken as integers).

    At full resolution only: averaging down rounds 8-bit pixels to 8 bits.
    """
    assert window.pixels.dtype == np.uint8
    as_float = dataclasses.replace(window, pixels=window.pixels.astype(np.float32))
    a = prepare(window, haze_floor=0.11)
    b = prepare(as_float, haze_floor=0.11)
    for field in dataclasses.fields(a):
        assert np.array_equal(getattr(a, field.name), getattr(b, field.name)), field.name
