"""Track directions: the fast paths give numpy's own numbers, to the bit."""

from __future__ import annotations

import numpy as np

from railcount.detect.orientation import N_BINS, _angle_bins


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
