"""benchmarks/margins.py: the real scenes counted with other margins read around their stations."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from margins import counted, main, margin_list

from railcount.detect.detector import detect
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations


def test_margins_are_read_as_metres():
    assert margin_list("0,10, 25") == [0.0, 10.0, 25.0]
    with pytest.raises(Exception, match="margins of 0 m or more"):
        margin_list("-5,10")


def test_each_margin_reads_the_window_the_loader_reads(shared_real, capsys):
    """A margin's count is the count of the window ``read_windows`` gives with that margin, the table
    has a row per scene and sun, and the wider margin holds more ground around the same station."""
    from accuracy import REAL_CASES

    lot = next(c for c in REAL_CASES if c[0] == "joplin lot")
    stations = read_stations(shared_real / lot[2])
    for margin in (10.0, 40.0):
        (window,) = read_windows(shared_real / lot[1], stations, margin_m=margin)
        want = int(np.sum(detect(window).kind != "locomotive"))
        assert counted(lot, margin, None, None) == (want, None, 0)
    narrow, wide = (read_windows(shared_real / lot[1], stations, margin_m=m)[0] for m in (10.0, 40.0))
    assert wide.shape[0] > narrow.shape[0] and wide.shape[1] > narrow.shape[1]
    assert narrow.inside.sum() == wide.inside.sum()
    assert main(["--margins", "25"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if line.startswith(("muttenz", "joplin"))]) == 6
    assert len([line for line in out if line.startswith("tumangang_")]) == 4
