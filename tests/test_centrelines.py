"""Centreline runs found on the rows near centrelines equal those found on the whole frame, to the bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from railcount.detect.cars import Runs, centreline_runs
from railcount.detect.masks import sparse_flatnonzero
from railcount.detect.params import DetectorParams, to_px


def _whole_frame_runs(strength: np.ndarray, core: np.ndarray, gsd_m: float, params: DetectorParams) -> Runs:
    """centreline_runs as first written: every step on the whole frame, OpenCV's statistics."""
    half_w = to_px(0.5 * params.car_width_m, gsd_m)
    col_max = cv2.dilate(strength, np.ones((2 * half_w + 1, 1), np.uint8))
    on = core & (strength >= col_max - 1e-6) & (strength > params.min_band_strength)
    reach = to_px(params.centreline_wobble_m, gsd_m)
    on_u8 = cv2.dilate(on.astype(np.uint8), np.ones((2 * reach + 1, 1), np.uint8))
    if gsd_m > params.gap_visible_gsd_m:
        bridge = to_px(params.bridge_gap_m, gsd_m)
        on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_CLOSE, np.ones((1, 2 * bridge + 1), np.uint8))
    on_u8 = cv2.morphologyEx(on_u8, cv2.MORPH_OPEN, np.ones((1, to_px(3.0, gsd_m)), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(on_u8, connectivity=8)
    if n <= 1:
        return Runs(*(np.zeros(0) for _ in range(4)))
    xy = cv2.findNonZero(on_u8).reshape(-1, 2)
    ys, xs = xy[:, 1], xy[:, 0]
    lab = labels[ys, xs]
    w8 = strength[ys, xs].astype(np.float64)
    wsum = np.bincount(lab, weights=w8, minlength=n)
    mean_y = np.bincount(lab, weights=ys * w8, minlength=n) / np.maximum(wsum, 1e-9)
    cnt = np.bincount(lab, minlength=n).astype(float)
    idx = np.arange(1, n)
    x0 = stats[idx, cv2.CC_STAT_LEFT].astype(float)
    x1 = x0 + stats[idx, cv2.CC_STAT_WIDTH]
    score = np.clip(wsum[idx] / np.maximum(cnt[idx], 1) * ((2 * reach + 1) / 3), 0.0, 1.0)
    return Runs(y=mean_y[idx], x0=x0, x1=x1, score=score)


def _bands(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A strength map of horizontal bands (cars along tracks) of random strength, length and wobble."""
    strength = np.zeros(shape, np.float32)
    for _ in range(60):
        y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1] - 5))
        length, height = int(rng.integers(3, 120)), int(rng.integers(1, 9))
        block = strength[y : y + height, x : x + length]
        block[:] = np.maximum(block, rng.random(block.shape, dtype=np.float32))
    # Bands on the first and last rows, where the frame's edge meets the kept row pairs.
    strength[0, 10:80] = 0.9
    strength[-1, 100:190] = 0.8
    return strength


@pytest.mark.parametrize("gsd_m", [0.3, 1.0])
@pytest.mark.parametrize("shape", [(301, 400), (300, 257)], ids=["odd rows", "even rows"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("wobble_m", [0.0, 0.6, 1.5])
def test_centreline_runs_are_the_whole_frames(gsd_m, shape, threads, wobble_m):
    # The rows-near-centrelines algorithm against the whole frame's, on the same strength
    # (the along-track smoothing before it is tested on its own below); at 0.3 m the
    # centreline may step 1 row (the default), 2 (0.6 m) or 5 (1.5 m), at 1.0 m 1, 1 or 2.
    params = DetectorParams(run_smooth_m=0.0, centreline_wobble_m=wobble_m)
    rng = np.random.default_rng(int(gsd_m * 10) + shape[0])
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        for _ in range(4):
            strength = _bands(rng, shape)
            core = rng.random(shape) < 0.97
            ours, whole = (
                centreline_runs(strength, core, gsd_m, params),
                _whole_frame_runs(strength, core, gsd_m, params),
            )
            assert len(whole.y) > 5
            for field in ("y", "x0", "x1", "score"):
                assert getattr(ours, field).tobytes() == getattr(whole, field).tobytes(), field
    finally:
        cv2.setNumThreads(before)


def test_no_centrelines():
    params = DetectorParams()
    runs = centreline_runs(np.zeros((50, 60), np.float32), np.ones((50, 60), bool), 0.5, params)
    assert all(getattr(runs, f).size == 0 for f in ("y", "x0", "x1", "score"))


@pytest.mark.parametrize("shape", [(311, 425), (7, 3), (1, 1), (5, 8), (0, 4)])
@pytest.mark.parametrize("share", [0.0, 0.004, 0.5, 1.0])
def test_sparse_flatnonzero_is_numpys(shape, share):
    mask = np.random.default_rng(1).random(shape) < share
    found = sparse_flatnonzero(mask)
    assert found.dtype == np.int64
    assert np.array_equal(found, np.flatnonzero(mask))


def _flickering_car(gsd_m: float) -> tuple[np.ndarray, np.ndarray]:
    """One 15 m car centreline whose evidence flickers between 0.75 and 0.2 every 1.2 m."""
    strength = np.zeros((40, 200), np.float32)
    start, length, period = 30, round(15.0 / gsd_m), round(1.2 / gsd_m)
    along = np.arange(length)
    strength[20, start : start + length] = np.where((along // period) % 2 == 0, 0.75, 0.2)
    return strength, np.ones(strength.shape, bool)


def test_flickering_evidence_is_one_run_after_smoothing_along_the_track():
    gsd_m = 0.3
    strength, core = _flickering_car(gsd_m)
    smoothed = centreline_runs(strength, core, gsd_m, DetectorParams(run_smooth_m=3.0))
    raw = centreline_runs(strength, core, gsd_m, DetectorParams(run_smooth_m=0.0))
    # Unsmoothed, each 1.2 m stretch is a blip under the 3 m a run needs.
    assert len(raw.y) == 0
    assert len(smoothed.y) == 1
    assert smoothed.y[0] == pytest.approx(20.0)
    assert (smoothed.x1[0] - smoothed.x0[0]) * gsd_m > 12.0


def test_smoothing_is_only_where_coupling_gaps_are_resolved():
    # Coarser, runs are counted by pitch: a longer run is directly more cars, so the
    # evidence is traced as it is (breaks are bridged there instead).
    gsd_m = 1.0
    strength, core = _flickering_car(gsd_m)
    params = DetectorParams(run_smooth_m=3.0)
    assert gsd_m > params.gap_visible_gsd_m
    ours = centreline_runs(strength, core, gsd_m, params)
    unsmoothed = centreline_runs(strength, core, gsd_m, DetectorParams(run_smooth_m=0.0))
    for field in ("y", "x0", "x1", "score"):
        assert getattr(ours, field).tobytes() == getattr(unsmoothed, field).tobytes(), field


def _stepping_car(gsd_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """A 15 m car whose evidence peaks on one ridge, then on another ``step_m`` across, every 2 m."""
    strength = np.zeros((60, 200), np.float32)
    start, length, period = 30, round(15.0 / gsd_m), round(2.0 / gsd_m)
    step = round(step_m / gsd_m)
    for k, x in enumerate(range(start, start + length, period)):
        strength[30 + (step if k % 2 else 0), x : min(x + period, start + length)] = 0.8
    return strength, np.ones(strength.shape, bool)


def test_a_roof_whose_evidence_steps_between_two_ridges_is_one_run():
    # Muttenz: flat-roofed wagons whose evidence has two ridges about 0.6 m apart. With
    # one row of give at 0.3 m the centreline broke into 2 m pieces, too short for a run.
    gsd_m = 0.3
    strength, core = _stepping_car(gsd_m, 0.6)
    params = DetectorParams(run_smooth_m=0.0, centreline_wobble_m=0.6)
    runs = centreline_runs(strength, core, gsd_m, params)
    assert len(runs.y) == 1
    assert (runs.x1[0] - runs.x0[0]) * gsd_m == pytest.approx(15.0, abs=gsd_m)
    assert 30.0 < runs.y[0] < 32.0 and runs.score[0] > 0.1
    # With one row of give (detector 0.6.4), only the empty row between the ridges is
    # long enough to survive: a "run" with no evidence, which the detector drops.
    one_row_params = DetectorParams(run_smooth_m=0.0, centreline_wobble_m=0.0)
    one_row = centreline_runs(strength, core, gsd_m, one_row_params)
    assert np.all(one_row.score < params.min_band_strength)


@pytest.mark.parametrize("gsd_m", [0.3, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("wobble_m", [0.0, 0.6])
def test_cars_on_neighbouring_tracks_stay_apart(gsd_m, wobble_m):
    # Tracks 4.5 m apart (the tightest spacing the generator draws): the give a
    # centreline has must never join a car to the one beside it.
    strength = np.zeros((round(20 / gsd_m), round(60 / gsd_m)), np.float32)
    length = round(15.0 / gsd_m)
    for k in range(3):
        strength[round((4 + 4.5 * k) / gsd_m), 5 : 5 + length] = 0.8
    params = DetectorParams(run_smooth_m=0.0, centreline_wobble_m=wobble_m)
    runs = centreline_runs(strength, np.ones(strength.shape, bool), gsd_m, params)
    assert len(runs.y) == 3
    assert np.diff(np.sort(runs.y)) * gsd_m == pytest.approx([4.5, 4.5], abs=gsd_m)
