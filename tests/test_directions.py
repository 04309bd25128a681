"""Track directions refined to a few hundredths of a degree (an option, off in the detector), and each
frame cut to its yard."""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.regions import coarse, curve_pieces, direction_regions


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


def _curve(shape=(900, 1400), gsd=0.5, radius_m=250.0, seed=3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log luminance of four tracks (two rails each) bent round one centre, the outermost at
    ``radius_m``; the centre (x, y) in pixels, and where the tracks are."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    centre = np.array([shape[1] / 2.0, shape[0] + 0.6 * radius_m / gsd])
    r = np.hypot(x - centre[0], y - centre[1]) * gsd  # metres from the centre
    within = np.mod(radius_m - r, 5.0)
    tracks = (radius_m - r >= 0) & (radius_m - r < 20.0)
    rail = np.exp(-0.5 * ((within - 1.0) / 0.08) ** 2) + np.exp(-0.5 * ((within - 2.435) / 0.08) ** 2)
    img = rng.normal(0.0, 0.08, shape)
    img[tracks] += (0.3 * (np.abs(within - 1.7) < 1.6) + rail)[tracks]
    return img.astype(np.float32), centre, tracks


def test_a_curve_is_cut_into_pieces_that_follow_its_bend():
    img, centre, tracks = _curve()
    valid = np.ones(img.shape, bool)
    small, ok, f = coarse(img, valid, 0.5, 0.6)
    pieces = curve_pieces(small, ok, 0.5, f, img.shape, [])
    assert len(pieces) >= 5  # the tracks turn through some 90 degrees in the window
    for p in pieces:
        cy, cx = np.argwhere(p.cells).mean(axis=0) * p.cell_px + p.cell_px / 2
        tangent = (np.degrees(np.arctan2(cy - centre[1], cx - centre[0])) + 90.0) % 180.0
        assert abs((p.angle_deg - tangent + 90.0) % 180.0 - 90.0) < 3.0, (p.angle_deg, tangent)
    # Between them the pieces own nearly all the track.
    ys, xs = np.nonzero(tracks)
    pick = np.random.default_rng(0).choice(len(xs), 2000, replace=False)
    xy = np.column_stack([xs[pick], ys[pick]]).astype(float)
    owned = np.zeros(len(xy), bool)
    for p in pieces:
        owned |= p.owns(xy)
    assert owned.mean() > 0.9, owned.mean()


def test_no_piece_where_a_direction_is_already_searched():
    img = _yard(27.3, seed=27)
    valid = np.ones(img.shape, bool)
    small, ok, f = coarse(img, valid, 0.3, 0.6)
    assert curve_pieces(small, ok, 0.3, f, img.shape, [27.3]) == []
    # Without the direction, the straight yard is one piece at its angle.
    (piece,) = curve_pieces(small, ok, 0.3, f, img.shape, [])
    assert abs(piece.angle_deg - 27.3) < 1.0
