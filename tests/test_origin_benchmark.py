"""benchmarks/origin.py: the count with only the window's origin moved."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from origin import moved, railcars_at, shift_list, table

from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION


@pytest.fixture(scope="module")
def window():
    return read_windows(SAMPLE_SCENE, read_stations(SAMPLE_STATION))[0]


def test_a_moved_window_holds_the_same_ground_in_the_same_place(window):
    m = moved(window, 3, 2)
    assert m.shape == (window.shape[0] + 3, window.shape[1] + 2)
    # Every valid pixel is where it was on the ground, with its value; the padding holds no data.
    assert (
        np.array_equal(m.pixels[3:, 2:], window.pixels) and not m.data[:3].any() and not m.data[:, :2].any()
    )
    assert m.valid.sum() == window.valid.sum() and m.observed_fraction == window.observed_fraction
    assert m.transform * (2, 3) == pytest.approx(window.transform * (0, 0))


def test_the_first_origin_is_the_count_as_read(window):
    from railcount.detect.detector import detect

    (first,) = railcars_at(window, [(0, 0)])
    assert first == int((detect(window).kind != "locomotive").sum())


def test_shifts_are_parsed_and_bad_ones_refused():
    assert shift_list("0:0,1:1, 3:2") == [(0, 0), (1, 1), (3, 2)]
    for bad in ("1", "a:b", "-1:0", "1:2:3"):
        with pytest.raises(argparse.ArgumentTypeError):
            shift_list(bad)


def test_the_table_pools_origins_and_scenes():
    # Two 0.5 m scenes of truth 10 and 20 counted at two origins.
    rows = [(0.5, 10, [12, 10]), (0.5, 20, [18, 17])]
    lines = table(rows, [(0, 0), (1, 1)], "t")
    cells = next(line for line in lines if line.startswith("t 0.50 m")).split()
    # origin 0:0 |2| + |2| = 4 / 30; 1:1 0 + 3 = 3 / 30; mean 11 and 17.5: 1 + 2.5 = 3.5 / 30
    assert cells[3:6] == ["2", "30", "13.3%"] and cells[6] == "10.0%" and cells[7] == "11.7%"
    # spread (2 + 1) / 2 = 1.5 cars; of truth (0.2 + 0.05) / 2 = 12.5 %; sd (1 + 0.5) / 2 = 0.75
    assert cells[8:] == ["1.5", "12.5%", "0.75"]
    assert any(line.startswith("t all") for line in lines)


@pytest.mark.real
def test_the_real_scenes_are_counted_at_each_origin(shared_real):
    """One line per real scene: its truth (Muttenz west's 43 wagons, its two outlines drawn twice
    counted once; none on the Joplin polygons) and a count at each origin, the first as read."""
    import origin
    from accuracy import REAL_CASES

    from railcount.detect.detector import detect

    lines = origin.real_lines([(0, 0), (1, 1)])
    assert [line.split(" (")[0] for line in lines] == [f"real {name}" for name, *_ in REAL_CASES]
    assert "(truth 43)" in lines[0] and "(truth 0)" in lines[1] and "(truth 0)" in lines[2]
    _, tif, station, _ = REAL_CASES[0]
    (w,) = read_windows(shared_real / tif, read_stations(shared_real / station))
    as_read = int((detect(w).kind != "locomotive").sum())
    assert lines[0].endswith(f"0:0 {as_read}, 1:1 {railcars_at(w, [(1, 1)])[0]}")
