"""benchmarks/untimed.py: generated scenes counted with their time, their date and bearing, their date."""

import doctest
import sys
from pathlib import Path

import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import untimed
from conditions import Counted
from untimed import generated_table


def test_the_docstring_examples():
    assert doctest.testmod(untimed).failed == 0


def test_a_side_the_bearing_could_not_give_is_left_out_and_counted_as_failed():
    timed = [Counted(10, 9, 9, 9), Counted(20, 20, 19, 20)]
    bearing = [Counted(10, 9, 9, 9), None]
    alone = [Counted(10, 7, 7, 8), Counted(20, 22, 19, 22)]
    planet = list(timed)
    lines = generated_table([list(s) for s in zip(timed, bearing, alone, planet, strict=True)], (0.0,))
    rows = {
        line.split()[0] + (" " + line.split()[1] if line.startswith("bearing") else ""): line
        for line in lines[2:]
    }
    time_row, bearing_row, alone_row = rows["time"].split(), rows["bearing +0"].split(), rows["date"].split()
    assert time_row[1:4] == ["2", "30", "29"] and time_row[4] == "3.3%" and time_row[-2:] == ["2/2", "0"]
    assert bearing_row[2:5] == ["1", "10", "9"] and bearing_row[-2:] == ["1/1", "1"]  # only the first scene
    assert alone_row[2:5] == ["2", "30", "29"] and alone_row[5] == "16.7%" and alone_row[-2:] == ["0/2", "0"]
    assert rows["Planet"].split()[2:] == [*time_row[1:-2], "2/2", "0"]


def test_the_true_bearing_counts_as_the_time_does(tmp_path, capsys):
    args = ["--realism", "v1", "--first", "601", "--last", "602", "--offsets", "0", "--workers", "1"]
    assert untimed.main([*args, "--cache", str(tmp_path), "--no-real"]) == 0
    out = capsys.readouterr().out.splitlines()
    time_row = next(line for line in out if line.startswith("time")).split()
    bearing_row = next(line for line in out if line.startswith("bearing +0")).split()
    assert bearing_row[2:] == [*time_row[1:-2], "1/1", "0"]
    assert int(time_row[2]) > 0  # a yard with cars
    # Saved without its time tag under a Planet name, the yard counts as with its time.
    planet_row = next(line for line in out if line.startswith("Planet name")).split()
    assert planet_row[2:] == [*time_row[1:-2], "1/1", "0"]
    (copy,) = tmp_path.glob("*-planet/*_ssc9_u*_visual.tif")
    with rasterio.open(copy) as ds:
        assert "TIFFTAG_DATETIME" not in ds.tags()


def test_afternoon_yards_are_drawn_at_the_hour_asked(tmp_path, capsys):
    import json

    args = ["--afternoon", "15:30", "--scenes", "1", "--realism", "v1", "--offsets", "0", "--workers", "1"]
    assert untimed.main([*args, "--cache", str(tmp_path), "--no-real"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "drawn at 15:30 local time" in out[0]
    time_row = next(line for line in out if line.startswith("time")).split()
    bearing_row = next(line for line in out if line.startswith("bearing +0")).split()
    assert bearing_row[2:] == [*time_row[1:-2], "1/1", "0"]
    (truth,) = tmp_path.glob("stress-v1-0.5m-40cars-1530/*.truth.json")
    acquired = json.loads(truth.read_text())["acquired"]
    assert acquired.endswith("T06:48:00Z")  # 15:30 at Tumangang's 130.6 E is 06:48 UTC
    assert 200 < json.loads(truth.read_text())["sun_azimuth_deg"] < 280  # an afternoon sun, in the west
