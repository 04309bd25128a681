"""Track directions refined to a few hundredths of a degree (an option, off in the detector), and each
frame cut to its yard."""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.regions import coarse, direction_regions


def _yard(
    angle_deg: float, shape=(900, 1400), gsd=0.3, seed=0, rows=slice(None), cols=slice(None)
) -> np.ndarray:
    """Log luminance of parallel tracks (two rails each, 1.435 m apart, tracks 5 m apart) at ``angle_deg``
    on noisy ground, drawn from exact distances so every line is where the angle puts it; ground
    alone outside ``rows`` x ``cols``."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    t = np.deg2rad(angle_deg)
    across = (y * np.cos(t) - x * np.sin(t)) * gsd  # metres across the track direction
    within = np.mod(across, 5.0)
    rail = np.exp(-0.5 * ((within - 1.0) / 0.08) ** 2) + np.exp(-0.5 * ((within - 2.435) / 0.08) ** 2)
    ballast = 0.3 * (np.abs(within - 1.7) < 1.6)
    img = rng.normal(0.0, 0.08, shape)
    yard = np.zeros(shape, bool)
    yard[rows, cols] = True
    img[yard] += (ballast + rail)[yard]
    return img.astype(np.float32)


@pytest.mark.parametrize("angle", [152.5, 27.3, 3.7, 88.2, 61.0, 118.9])
def test_direction_is_found_within_five_hundredths_of_a_degree(angle):
    img = _yard(angle, seed=int(angle))
    valid = np.ones(img.shape, bool)
    (found,) = track_directions(img, valid, 0.3, max_directions=1, refine=True)
    err = (found - angle + 90.0) % 180.0 - 90.0
    assert abs(err) < 0.05, f"found {found:.3f} for {angle}"


def test_refinement_is_what_gets_there():
    # The histogram's peak alone is off by more than the refined direction on this yard:
    # if the refinement did nothing, the test above could not pass at this angle.
    img = _yard(152.5, seed=152)
    valid = np.ones(img.shape, bool)
    (peak,) = track_directions(img, valid, 0.3, max_directions=1, refine=False)
    (refined,) = track_directions(img, valid, 0.3, max_directions=1, refine=True)
    assert abs(refined - 152.5) < abs(peak - 152.5)


def test_frame_is_cut_to_the_yard_and_maps_back_exactly():
    # Tracks in the left third of the window only; the rest is ground.
    shape = (900, 2400)
    img = _yard(152.5, shape=shape, cols=slice(0, 800))
    valid = np.ones(shape, bool)
    small, ok, f = coarse(img, valid, 0.3, 0.6)
    (patches,) = direction_regions(small, ok, 0.3, f, shape, [152.5])
    assert len(patches) == 1
    # The patch holds the tracks and leaves most of the ground out.
    assert patches[0][:, 0].min() < 50 and 700 < patches[0][:, 0].max() < 1100
    whole = TrackFrame.for_direction(shape, 152.5)
    cut = TrackFrame.for_direction(shape, 152.5, patches[0], 100.0)
    assert cut.shape[0] * cut.shape[1] < 0.5 * whole.shape[0] * whole.shape[1]
    # A window pixel lands in the cut frame where it lands in the whole one, shifted by the cut.
    pts = np.array([[10.0, 20.0], [700.0, 850.0], [400.0, 400.0]])
    shift = (pts @ whole.matrix[:, :2].T + whole.matrix[:, 2]) - (
        pts @ cut.matrix[:, :2].T + cut.matrix[:, 2]
    )
    assert np.allclose(shift, shift[0]) and np.allclose(shift[0], np.round(shift[0]))
    assert np.allclose(cut.to_window(pts @ cut.matrix[:, :2].T + cut.matrix[:, 2]), pts)


def test_ground_alone_gives_no_patch():
    img = np.random.default_rng(5).normal(0.0, 0.08, (600, 900)).astype(np.float32)
    valid = np.ones(img.shape, bool)
    small, ok, f = coarse(img, valid, 0.3, 0.6)
    assert direction_regions(small, ok, 0.3, f, img.shape, [30.0, 120.0]) == [[], []]
