"""Runs counted by pitch: the count stays the pitch's, the boxes move onto the cars (detector 0.6.1)."""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.cars import FrameCars, Runs, pitch_box_centres, snap_joints, split_runs
from railcount.detect.params import DetectorParams

GSD = 1.0
ROW = 20


def _consist(lengths_m: list[float], colours: list[tuple[float, float, float]], lead_m: float) -> np.ndarray:
    """A frame with cars of these lengths and colours end to end on row ROW, after ``lead_m`` of ballast."""
    cols = int(lead_m + sum(lengths_m) + 20)
    rgb = np.full((2 * ROW + 1, cols, 3), 0.55, np.float32)  # grey ballast
    x = lead_m
    for length, colour in zip(lengths_m, colours, strict=True):
        rgb[ROW - 1 : ROW + 2, round(x) : round(x + length)] = colour
        x += length
    return rgb


def test_inner_joints_move_to_the_colour_steps_and_the_ends_stay():
    # Three cars, 12, 18 and 15 m, in three colours: the equal split of the 45 m run
    # puts its joints at 15 and 30 m; the cars meet at 12 and 30 m.
    rgb = _consist([12.0, 18.0, 15.0], [(0.2, 0.2, 0.25), (0.6, 0.3, 0.2), (0.85, 0.85, 0.8)], lead_m=5.0)
    joints = 5.0 + np.array([0.0, 15.0, 30.0, 45.0])
    snapped = snap_joints(joints, rgb, float(ROW), GSD, 1, contrast=0.1)
    assert snapped[0] == joints[0] and snapped[-1] == joints[-1]
    assert snapped[1] == pytest.approx(5.0 + 12.0, abs=1.0)
    assert snapped[2] == pytest.approx(5.0 + 30.0, abs=1.0)


def test_joints_stay_without_a_step_or_beyond_a_third_of_a_piece():
    # One colour throughout: nothing to snap to.
    plain = _consist([15.0, 15.0, 15.0], [(0.3, 0.3, 0.3)] * 3, lead_m=5.0)
    joints = 5.0 + np.array([0.0, 14.0, 31.0, 45.0])
    assert np.array_equal(snap_joints(joints, plain, float(ROW), GSD, 1, contrast=0.1), joints)
    # A step 7 m from an equal-split joint of 15 m pieces lies beyond a third of a piece.
    far = _consist([8.0, 37.0], [(0.2, 0.2, 0.25), (0.85, 0.85, 0.8)], lead_m=5.0)
    joints = 5.0 + np.array([0.0, 15.0, 30.0, 45.0])
    out = snap_joints(joints, far, float(ROW), GSD, 1, contrast=0.1)
    assert out[1] == joints[1]


def test_boxes_of_a_run_counted_by_pitch_move_onto_its_cars_and_the_pieces_stay():
    lengths = [12.0, 20.0, 12.0, 20.0]
    colours = [(0.2, 0.2, 0.25), (0.6, 0.3, 0.2), (0.85, 0.85, 0.8), (0.3, 0.45, 0.3)]
    rgb = _consist(lengths, colours, lead_m=5.0)
    end = np.array([5.0 + sum(lengths)])
    runs = Runs(y=np.array([float(ROW)]), x0=np.array([5.0]), x1=end, score=np.ones(1))
    params = DetectorParams()
    assert GSD > params.gap_visible_gsd_m
    cars = split_runs(runs, rgb, GSD, params)
    # The models judge equal pieces: 64 m over the default 16 m pitch, all by pitch,
    # whether or not the boxes are snapped.
    assert cars.x.size == 4 and set(cars.method) == {"pitch"}
    assert np.allclose(cars.x, 5.0 + 16.0 * (np.arange(4) + 0.5))
    plain = split_runs(runs, rgb, GSD, DetectorParams(snap_joints_contrast=None))
    assert np.array_equal(plain.x, cars.x)
    centres = 5.0 + np.cumsum(lengths) - 0.5 * np.asarray(lengths)
    boxes = pitch_box_centres(cars, rgb, GSD, params)
    # Every box is within a metre of its car's centre; the equal pieces miss each by 2 m.
    assert np.abs(boxes - centres).max() <= 1.0
    assert np.abs(cars.x - centres).min() >= 2.0
    unsnapped = pitch_box_centres(cars, rgb, GSD, DetectorParams(snap_joints_contrast=None))
    assert np.array_equal(unsnapped, cars.x)


def test_only_pieces_of_one_run_are_snapped_together():
    # Two runs on one row, and a car seen apart: the single car keeps its place.
    rgb = _consist([12.0, 20.0, 12.0, 20.0], [(0.2, 0.2, 0.25), (0.6, 0.3, 0.2)] * 2, lead_m=5.0)
    cars = FrameCars(
        x=np.array([13.0, 29.0, 45.0, 61.0, 80.0]),
        y=np.full(5, float(ROW)),
        length=np.array([16.0, 16.0, 16.0, 16.0, 12.0]),
        score=np.ones(5),
        method=np.array(["pitch", "pitch", "pitch", "pitch", "gap"]),
    )
    boxes = pitch_box_centres(cars, rgb, GSD, DetectorParams())
    assert boxes[4] == 80.0
    assert np.abs(boxes[:4] - np.array([11.0, 27.0, 43.0, 59.0])).max() <= 1.0


def test_a_run_that_ends_past_the_frame_edge_is_snapped_inside_it():
    # A small frame (a curve piece's, detector 0.6.9) can end inside a run counted by pitch:
    # the run's last joint lies beyond the frame's last column. Before the fix this raised
    # IndexError and sank the whole scene.
    rgb = _consist([12.0, 18.0, 15.0], [(0.2, 0.2, 0.25), (0.6, 0.3, 0.2), (0.85, 0.85, 0.8)], lead_m=5.0)
    frame = rgb[:, :40]  # cuts the third car
    joints = 5.0 + np.array([0.0, 15.0, 30.0, 45.0])  # the last joint at column 50
    snapped = snap_joints(joints, frame, float(ROW), GSD, 1, contrast=0.1)
    assert snapped[0] == joints[0] and snapped[-1] == joints[-1]
    assert snapped[1] == pytest.approx(5.0 + 12.0, abs=1.0)  # the step inside the frame is still found
    # Columns past the frame carry no gap, and a run wholly outside gives none at all.
    from railcount.detect.cars import gap_signal

    sig = gap_signal(frame, float(ROW), 30, 50, GSD, 1)
    assert sig.shape == (20,) and (sig[10:] == 0).all()
    assert not gap_signal(frame, float(ROW), 45, 60, GSD, 1).any()
