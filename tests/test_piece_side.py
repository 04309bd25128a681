"""Curve pieces taking their main frame's side when the time of day is unknown
(``DetectorParams.piece_side_from_main``; a switch, off by default)."""

from __future__ import annotations

import dataclasses

import numpy as np

from railcount.detect.detector import _read_pieces_after_mains, detect
from railcount.detect.params import DetectorParams
from railcount.detect.regions import Piece
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import found_railcars, muttenz_west_coarser, write_synth

ON = DetectorParams(piece_side_from_main=True)


def _piece(angle: float) -> Piece:
    return Piece(angle, np.zeros((4, 2)), np.ones((2, 2), bool), 8)


def test_each_piece_takes_the_side_of_the_nearest_main_frame_within_reach():
    directions = [10.0, 12.0, 60.0, 100.0, 172.0]
    regions = [None, _piece(12.0), _piece(60.0), None, _piece(172.0)]
    up = {0: np.array([0.0, -1.0]), 3: np.array([1.0, 0.0])}  # the sides the two main frames chose
    calls: list[tuple[int, object]] = []

    def read(k: int, side: np.ndarray | None):
        calls.append((k, None if side is None else tuple(side)))
        return [f"reading {k}"], up.get(k)

    out = _read_pieces_after_mains(read, directions, regions, DetectorParams(piece_side_max_deg=30.0))
    assert out == [[f"reading {k}"] for k in range(5)]  # in the frames' order
    assert [k for k, _ in calls[:2]] == [0, 3]  # the main frames first, on their own
    given = dict(calls[2:])
    assert given[1] == (0.0, -1.0)  # 2 degrees from the first main frame
    assert given[2] is None  # 50 and 40 degrees from them: its own choice
    assert given[4] == (0.0, -1.0)  # 18 degrees from the first across 180


def test_a_count_with_a_known_time_is_the_same_either_way(tmp_path):
    paths, station = write_synth(tmp_path, date="2021-06-15", cars=20, gsd_m=0.5, seed=11)
    (window,) = read_windows(paths["tif"], read_stations(station))
    off, on = detect(window), detect(window, ON)
    assert len(off) > 5
    for field in dataclasses.fields(off):
        assert np.array_equal(getattr(off, field.name), getattr(on, field.name)), field.name


def test_muttenz_made_coarser_keeps_its_wagons_and_drops_false_boxes(shared_real, tmp_path):
    """Muttenz west averaged to 0.5 m, its file a date only: with the switch, the pieces read their
    shadows where the main frame does (as a known sun puts them), the same wagons are found and
    fewer railcars stand on no wagon (5 -> 3 with detector 0.6.32). Until 0.6.32 this read the 0.75 m
    copy; there the false railcars stood on empty track along the frame's edge, beside the black
    pixels without data, and with those filled no railcar stands on no wagon either way."""
    window, truth = muttenz_west_coarser(shared_real, tmp_path, 0.5)
    found_off, counted_off = found_railcars(window, truth)
    found_on, counted_on = found_railcars(window, truth, ON)
    assert found_on >= found_off
    assert counted_on - found_on < counted_off - found_off  # fewer railcars on no wagon
