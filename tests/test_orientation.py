"""Track directions: the fast paths give numpy's own numbers, to the bit."""

from __future__ import annotations

import numpy as np

from railcount.detect.orientation import _mod_180


def test_mod_180_is_numpys_remainder():
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
    want = angles % 180.0
    got = _mod_180(angles.copy())
    assert got.dtype == want.dtype and np.array_equal(got.view(np.uint32), want.view(np.uint32))
