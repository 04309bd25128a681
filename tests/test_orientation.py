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


def _whole_window_histogram(log_lum, valid, gsd_m):
    """The histogram's inputs computed over the whole window at once (what the blocks must reproduce)."""
    import cv2

    sigma = max(0.7, 0.3 / gsd_m)
    blurred = cv2.GaussianBlur(log_lum, (0, 0), sigma)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    inner = cv2.erode(valid.view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    gx, gy = gx[inner], gy[inner]
    energy = gx * gx + gy * gy
    bins = gradient_bins(gx, gy, energy)
    return bins, energy, np.flatnonzero(inner)


def test_histogram_in_blocks_is_the_whole_windows():
    """Every pixel's bin and energy, block by block, are what one pass over the whole window gives: at the
    blocks' seams, the window's edges and round nodata holes, at the finest and the coarsest blur."""
    from railcount.detect.orientation import HISTOGRAM_ROWS, _histogram

    rng = np.random.default_rng(5)
    rows, cols = 3 * HISTOGRAM_ROWS + 37, 301
    yy, xx = np.mgrid[:rows, :cols]
    stripes = np.sin((xx * np.sin(0.4) + yy * np.cos(0.4)) / 2.3)
    log_lum = (stripes + 0.3 * rng.standard_normal((rows, cols))).astype(np.float32)
    valid = np.ones((rows, cols), bool)
    valid[(yy - HISTOGRAM_ROWS) ** 2 + (xx - 150) ** 2 < 30**2] = False  # a hole across a seam
    valid[2 * HISTOGRAM_ROWS - 3 : 2 * HISTOGRAM_ROWS + 2, :40] = False  # nodata rows at a seam
    for gsd in (0.1, 0.3, 1.0):
        want_bins, want_energy, want_where = _whole_window_histogram(log_lum, valid, gsd)
        hist, n, kept = _histogram(log_lum, valid, gsd, keep=True)
        assert kept is not None
        bins, energy, where = kept
        assert n == want_bins.size
        assert np.array_equal(where, want_where)
        assert np.array_equal(bins, want_bins)
        assert np.array_equal(energy, want_energy)
        want_hist = np.bincount(want_bins, weights=want_energy, minlength=N_BINS)
        assert np.allclose(hist, want_hist, rtol=1e-12, atol=0)
        plain, n_plain, none = _histogram(log_lum, valid, gsd)
        assert none is None and n_plain == n and np.array_equal(plain, hist)
