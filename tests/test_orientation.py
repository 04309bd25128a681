"""Track directions: the fast paths give numpy's own numbers, to the bit."""

from __future__ import annotations

import numpy as np

from railcount.detect.orientation import N_BINS, _angle_bins, gradient_bins


def test_angle_bins_are_those_of_numpys_remainder():
    rng = np.random.default_rng(3)
    edges = [180.0, -180.0, 0.0, -0.0, 1e-6, -1e-6, -1e-30, 179.99998, -179.99998]
    angles = np.concatenate(
        [
            np.array(edges, np.float32),
            np.nextafter(np.float32([180, -180, 0, -0.0]), np.float32(0)),
            rng.uniform(-180, 180, 100_000).astype(np.float32),
            np.degrees(np.arctan2(*rng.normal(size=(2, 100_000)).astype(np.float32))),
        ]
    )
    want = ((angles % 180.0) * (N_BINS / 180.0)).astype(np.int64) % N_BINS
    assert np.array_equal(_angle_bins(angles.copy()), want)


def test_gradient_bins_are_numpys_arctan2_bins():
    """OpenCV's fast angle with numpy's arctan2 near bin edges gives numpy's bins exactly, over gradients of
    every size, on the axes and diagonals, signed zeros and values a hair from a bin's edge."""
    rng = np.random.default_rng(11)
    n = 400_000
    scale = 10.0 ** rng.uniform(-9, 4, n)
    gx = (rng.standard_normal(n) * scale).astype(np.float32)
    gy = (rng.standard_normal(n) * scale).astype(np.float32)
    gx[:1000], gy[1000:2000] = 0.0, 0.0
    gy[2000:2500] = -0.0
    gx[2500:3000] = -np.abs(gx[2500:3000])
    gy[3000:3500] = gx[3000:3500]
    gy[3500:4000] = -gx[3500:4000]
    # Angles a hundred-thousandth of a degree either side of half-degree edges.
    edge = np.deg2rad(rng.integers(0, 720, 20_000) * 0.5 + rng.choice([-1e-5, 1e-5], 20_000))
    gx[4000:24000], gy[4000:24000] = np.cos(edge).astype(np.float32), np.sin(edge).astype(np.float32)
    want = _angle_bins(np.degrees(np.arctan2(gy, gx)))
    got = gradient_bins(gx, gy)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)
    assert got.min() >= 0 and got.max() < N_BINS
