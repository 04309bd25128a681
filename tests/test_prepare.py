"""Preparing a window: the fast paths give numpy's own numbers, to the bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from railcount.detect.prepare import (
    SNOW_MAX_SATURATION,
    SNOW_MIN_LUM,
    _counts,
    _percentiles_of_counts,
    _snow_share,
    band_mean,
    prepare,
)
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import write_synth


def test_band_mean_is_numpys_mean():
    rng = np.random.default_rng(11)
    image = (rng.random((300, 400, 3)) * rng.choice([1e-3, 1.0, 1e3], (300, 400, 3))).astype(np.float32)
    assert np.array_equal(band_mean(image), image.mean(axis=2))


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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_percentiles_of_counts_are_numpys(dtype):
    """Percentiles from a histogram are np.percentile's, dtype included, at the ends and between."""
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 1001, 54321):
        if dtype == np.float32:
            values = np.sort(rng.random(300).astype(np.float32))
        else:
            values = np.arange(np.iinfo(dtype).max + 1, dtype=dtype)
        index = rng.integers(0, min(values.size, 3000), n)
        sample = values[index]
        counts = np.bincount(index, minlength=values.size)
        for q in ([0.5, 99.5], [0.1, 50.0], [0.0, 100.0], [33.3, 66.7]):
            want = np.percentile(sample, q)
            got = _percentiles_of_counts(counts, values, q)
            assert got.dtype == want.dtype and np.array_equal(got, want), (n, q)


def test_counts_are_exact_beyond_float32():
    """OpenCV's histogram is float32: a bin past 2**24 (here an odd count) must still be exact."""
    image = np.zeros((9001, 2001, 1), np.uint8)
    assert _counts(image, 0, np.ones(image.shape[:2], bool), 256)[0] == 9001 * 2001


def test_16_bit_pixels_prepare_as_their_float_values(window):
    """11-bit values in uint16 (and a patch without data) give what float32 gives."""
    pixels = window.pixels.astype(np.uint16) * 8 + 3
    data = window.data.copy()
    data[:40, :60] = False
    wide = dataclasses.replace(window, pixels=pixels, data=data, value_range=(0.0, 2047.0))
    as_float = dataclasses.replace(wide, pixels=pixels.astype(np.float32))
    for haze_floor in (None, 0.11, 0.0):
        a = prepare(wide, haze_floor=haze_floor)
        b = prepare(as_float, haze_floor=haze_floor)
        for field in dataclasses.fields(a):
            assert np.array_equal(getattr(a, field.name), getattr(b, field.name)), (haze_floor, field.name)


@pytest.mark.parametrize("bright", [0.0, 0.05, 0.5, 1.0])
def test_snow_share_looks_at_bright_pixels_only_and_counts_the_same(bright):
    """The share from the bright pixels' colour alone equals the share from whole bands."""
    rng = np.random.default_rng(int(bright * 100))
    rgb = rng.random((101, 77, 3), dtype=np.float32)
    grey = rng.random((101, 77)) < 0.5
    rgb[grey] = rgb[grey][:, :1] * np.float32(0.95) + np.float32(0.05) * rgb[grey]
    linear = np.where(rng.random((101, 77)) < bright, np.float32(0.9), np.float32(0.3)).astype(np.float32)
    valid = rng.random((101, 77)) < 0.9
    q, lin, ok = rgb[::2, ::2], linear[::2, ::2], valid[::2, ::2]
    top, bottom = q.max(axis=2), q.min(axis=2)
    snow = ((top - bottom) < np.float32(SNOW_MAX_SATURATION) * np.maximum(top, np.float32(1e-3))) & (
        lin > SNOW_MIN_LUM
    )
    assert _snow_share(rgb, linear, valid) == np.count_nonzero(snow & ok) / np.count_nonzero(ok)
    assert _snow_share(rgb, linear, np.zeros_like(valid)) == 0.0
