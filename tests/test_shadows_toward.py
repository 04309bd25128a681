"""--shadows-toward: the sun placed from the shadows' bearing read off the image, for a scene with a
date but no time of day."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
import rasterio

from railcount.cli import main
from railcount.detect.sun import SHADOW_SUN_UP_DEG, solar_position, sun_from_shadows

from .geofixtures import untimed_copy, write_synth


@pytest.fixture(scope="module")
def tagged_and_bare(tmp_path_factory):
    """A generated yard with its time in its tags, and the same pixels in a file with no time."""
    folder = tmp_path_factory.mktemp("shadows")
    paths, station = write_synth(folder, date="2021-06-15", cars=20, gsd_m=0.5, seed=11)
    bare = folder / "yard.tif"
    when = untimed_copy(paths["tif"], bare)
    return paths["tif"], bare, station, when


def _count(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["count", *args, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[0]) if lines else {}), captured.err


@pytest.mark.parametrize(
    "lon, lat, when",
    [
        (-94.5, 37.08, datetime(2011, 5, 1, 22, 0, tzinfo=timezone.utc)),  # Joplin, late afternoon
        (130.6, 42.4, datetime(2023, 10, 5, 2, 15, tzinfo=timezone.utc)),  # Tumangang, mid-morning
        (7.6, 47.5, datetime(2018, 7, 1, 6, 0, tzinfo=timezone.utc)),  # Muttenz, early morning
        (151.2, -33.9, datetime(2020, 1, 10, 3, 0, tzinfo=timezone.utc)),  # Sydney, the sun in the north
    ],
)
def test_the_bearing_gives_back_the_suns_height(lon, lat, when):
    """With the date and the place, the shadows' bearing fixes the time of day, and so the height."""
    sun = solar_position(lon, lat, when)
    got = sun_from_shadows(lon, lat, when, (sun.azimuth_deg + 180.0) % 360.0)
    assert got.azimuth_deg == pytest.approx(sun.azimuth_deg, abs=1e-9)
    assert got.elevation_deg == pytest.approx(sun.elevation_deg, abs=0.1)
    assert not got.assumed_time


def test_a_bearing_the_sun_cannot_give_says_which_it_can():
    # At 42 N in October the sun stands in the south all day: shadows never point south.
    with pytest.raises(ValueError, match=r"cannot point to 180 degrees.*swing from (\d+) to (\d+)") as err:
        sun_from_shadows(130.6, 42.4, datetime(2023, 10, 5, tzinfo=timezone.utc), 180.0)
    found = re.search(r"swing from (\d+) to (\d+)", str(err.value))
    assert found is not None
    first, last = (float(x) for x in found.groups())
    assert 270 < first < 300 and 60 < last < 90  # north-west in the morning, north-east in the evening
    # A low evening sun is allowed down to SHADOW_SUN_UP_DEG, not below.
    low = sun_from_shadows(130.6, 42.4, datetime(2023, 10, 5, tzinfo=timezone.utc), last - 1.0)
    assert SHADOW_SUN_UP_DEG <= low.elevation_deg < 10.0


def test_the_bearing_places_the_sun_as_the_time_does(tagged_and_bare, capsys, tmp_path):
    tagged, bare, station, when = tagged_and_bare
    code, timed, _ = _count(capsys, str(tagged), "--station", str(station))
    assert code == 0 and timed["sun"]["time_of_day"] == "given"
    bearing = (timed["sun"]["azimuth_deg"] + 180.0) % 360.0
    day = when.date().isoformat()
    code, read, err = _count(
        capsys, str(bare), "--station", str(station), "--acquired", day, "--shadows-toward", f"{bearing:.1f}"
    )
    assert code == 0, err
    assert "no time of day" not in err  # the sun is no longer assumed, so no warning says so
    assert read["acquired"] == f"{day}T00:00:00+00:00"  # the acquisition time stays what was given
    assert read["sun"]["time_of_day"] == "from shadows"
    assert read["sun"]["shadows_toward_deg"] == pytest.approx(bearing, abs=0.05)
    assert read["sun"]["azimuth_deg"] == pytest.approx(timed["sun"]["azimuth_deg"], abs=0.05)
    assert read["sun"]["elevation_deg"] == pytest.approx(timed["sun"]["elevation_deg"], abs=0.2)
    for key in ("railcars", "railcars_low", "railcars_high", "locomotives", "by_type"):
        assert read[key] == timed[key], key


def test_the_bearing_reaches_the_detector(tagged_and_bare, capsys):
    """The detector reads the cars by the side the bearing puts their shadows on."""
    tagged, bare, station, when = tagged_and_bare
    _, timed, _ = _count(capsys, str(tagged), "--station", str(station))
    # Shadows cast to the east-south-east by a low evening sun, where the mid-morning sun cast them to the
    # north-north-west: on the other side of the cars.
    wrong = 110.0
    assert 120.0 < abs((timed["sun"]["azimuth_deg"] + 180.0 - wrong + 180.0) % 360.0 - 180.0)
    code, read, err = _count(
        capsys, str(bare), "--station", str(station), "--acquired", when.date().isoformat(),
        "--shadows-toward", f"{wrong:.1f}",
    )  # fmt: skip
    assert code == 0, err
    assert read["sun"]["azimuth_deg"] == pytest.approx((wrong + 180.0) % 360.0, abs=0.05)
    assert read["railcars"] != timed["railcars"]


def test_a_bearing_the_sun_cannot_give_is_a_one_line_usage_error(tagged_and_bare, capsys):
    _, bare, station, _ = tagged_and_bare
    code = main(
        ["count", str(bare), "--station", str(station), "--acquired", "2021-06-15", "--shadows-toward", "180"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"railcount: error: {bare}: --shadows-toward: "), err
    assert "check the bearing and the date" in err[0]


@pytest.mark.parametrize("value", ["-5", "360.5", "eastish", "nan", ""])
def test_a_bearing_that_is_not_one_is_a_one_line_usage_error(tagged_and_bare, capsys, value):
    _, bare, station, _ = tagged_and_bare
    assert main(["count", str(bare), "--station", str(station), "--shadows-toward", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"railcount: error: --shadows-toward {value!r}: not a bearing")


def test_a_compass_point_is_a_bearing(tagged_and_bare, capsys):
    _, bare, station, _ = tagged_and_bare
    code, rec, err = _count(capsys, str(bare), "--station", str(station), "--acquired", "2021-06-15",
                            "--shadows-toward", "north-west")  # fmt: skip
    assert code == 0, err
    assert rec["sun"]["shadows_toward_deg"] == 315.0 and rec["sun"]["azimuth_deg"] == 135.0


def test_with_no_date_the_height_is_the_equinoxs_and_a_warning_says_so(tagged_and_bare, capsys):
    _, bare, station, _ = tagged_and_bare  # no date in its name or tags
    code, rec, err = _count(capsys, str(bare), "--station", str(station), "--shadows-toward", "300")
    assert code == 0 and rec["acquired"] is None
    assert "no acquisition date, so the sun's height for the shadows' bearing is taken at the spring" in err
    code, dated, err = _count(
        capsys, str(bare), "--station", str(station), "--shadows-toward", "300", "--acquired", "2021-06-15"
    )
    assert code == 0 and "no acquisition date" not in err
    assert dated["sun"]["elevation_deg"] != rec["sun"]["elevation_deg"]  # June's sun, not March's


def test_the_assumed_suns_warning_says_where_it_puts_the_shadows(tagged_and_bare, capsys):
    """So that a person can set it against the picture's shadows without opening the overlay."""
    _, bare, station, _ = tagged_and_bare
    code, rec, err = _count(capsys, str(bare), "--station", str(station), "--acquired", "2021-06-15")
    assert code == 0 and rec["sun"]["time_of_day"] == "assumed"
    toward = round((rec["sun"]["azimuth_deg"] + 180.0) % 360.0)
    found = re.search(r"shadows pointing about (\d+) degrees, clockwise from north", err)
    assert found is not None, err
    assert abs(int(found.group(1)) - toward) <= 1


def test_pixel_space_takes_the_bearing_from_the_images_top(tagged_and_bare, capsys, tmp_path):
    """An image with no georeferencing: the bearing sets the side, from the image's top."""
    tagged, *_ = tagged_and_bare
    with rasterio.open(tagged) as ds:
        rgb = np.moveaxis(ds.read([1, 2, 3]), 0, -1)
    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.ascontiguousarray(rgb[..., ::-1]))
    assert (
        main(["count", str(png), "--gsd", "0.5", "--shadows-toward", "300", "--out", str(tmp_path / "o")])
        == 0
    )
    assert "name the file with its date" in capsys.readouterr().err  # (--acquired is refused with --gsd)
    sun = json.loads((tmp_path / "o" / "count.json").read_text())["sun"]
    assert sun["azimuth_deg"] == 120.0 and sun["time_of_day"] == "from shadows"
    assert sun["shadows_toward_deg"] == 300.0 and 0.0 < sun["elevation_deg"] < 90.0


def test_evaluate_takes_it_too(tagged_and_bare, capsys):
    tagged, bare, station, when = tagged_and_bare
    truth = str(tagged)[: -len(".tif")] + ".truth.geojson"
    assert main(["evaluate", str(tagged), "--station", str(station), "--truth", truth, "--json"]) == 0
    timed = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    bearing = f"{(timed['sun']['azimuth_deg'] + 180.0) % 360.0:.1f}"
    args = ["evaluate", str(bare), "--station", str(station), "--truth", truth, "--json"]
    assert main([*args, "--acquired", when.date().isoformat(), "--shadows-toward", bearing]) == 0
    read = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert read["sun"]["time_of_day"] == "from shadows"
    assert (read["railcars"], read["true_positives"]) == (timed["railcars"], timed["true_positives"])
