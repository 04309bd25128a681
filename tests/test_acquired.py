"""--acquired: the user's acquisition time replaces what the file says (or does not say)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import rasterio

from railcount.cli import main
from railcount.errors import UsageError
from railcount.io.scenes import parse_acquired

from .geofixtures import untimed_copy, write_synth


@pytest.fixture(scope="module")
def tagged_and_bare(tmp_path_factory):
    """A generated yard as written (its time in TIFFTAG_DATETIME, its date in its name), and the same
    pixels and georeferencing in a file that says nothing of when it was taken."""
    folder = tmp_path_factory.mktemp("acquired")
    paths, station = write_synth(folder, date="2021-06-15", cars=20, gsd_m=0.5, seed=11)
    tagged = paths["tif"]
    bare = folder / "yard.tif"
    when = untimed_copy(tagged, bare)
    return tagged, bare, station, when


def _count(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["count", *args, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    return code, (json.loads(lines[0]) if lines else {}), captured.err


def test_the_given_time_places_the_sun_as_the_files_own_tag_does(tagged_and_bare, capsys, tmp_path):
    tagged, bare, station, when = tagged_and_bare
    code, from_tag, err = _count(capsys, str(tagged), "--station", str(station), "--out", str(tmp_path / "a"))
    assert code == 0 and "no acquisition date" not in err and "no time of day" not in err
    code, undated, err = _count(capsys, str(bare), "--station", str(station))
    assert code == 0 and undated["acquired"] is None and undated["acquired_from"] is None
    # Where each time came from is kept with the count: the tag TIFF calls the file's creation time.
    assert from_tag["acquired_from"] == "tiff_datetime"
    assert "no acquisition date" in err and "--acquired" in err  # the warning says how to mend it
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    code, given, err = _count(
        capsys, str(bare), "--station", str(station), "--acquired", stamp, "--out", str(tmp_path / "b")
    )
    assert code == 0 and "no acquisition date" not in err and "no time of day" not in err, err
    assert given["acquired"] == when.isoformat() and given["acquired_from"] == "given"
    written = json.loads((tmp_path / "b" / "count.json").read_text())
    assert written["acquired"] == given["acquired"]
    for key in ("railcars", "railcars_low", "railcars_high", "locomotives", "by_type"):
        assert given[key] == from_tag[key], key
    a = json.loads((tmp_path / "a" / "detections.geojson").read_text())["features"]
    b = json.loads((tmp_path / "b" / "detections.geojson").read_text())["features"]
    assert [f["geometry"] for f in a] == [f["geometry"] for f in b]


def test_the_given_time_overrides_the_files_own(tagged_and_bare, capsys):
    tagged, _, station, when = tagged_and_bare
    code, rec, _ = _count(
        capsys, str(tagged), "--station", str(station), "--acquired", "2021-06-15T14:30+09:00"
    )
    assert code == 0 and rec["acquired"] == "2021-06-15T05:30:00+00:00" != when.isoformat()


def test_a_bare_date_gives_the_day_and_still_warns_of_the_time(tagged_and_bare, capsys):
    _, bare, station, _ = tagged_and_bare
    code, rec, err = _count(capsys, str(bare), "--station", str(station), "--acquired", "2021-06-15")
    assert code == 0 and rec["acquired"] == "2021-06-15T00:00:00+00:00"
    assert "a date but no time of day" in err


@pytest.mark.parametrize("text", ["yesterday", "2021-13-40T10:00Z", "10:30", ""])
def test_a_value_that_is_not_a_time_is_a_one_line_usage_error(tagged_and_bare, capsys, text):
    tagged, _, station, _ = tagged_and_bare
    code = main(["count", str(tagged), "--station", str(station), "--acquired", text])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("railcount: error: --acquired ") and repr(text) in err[0]


def test_pixel_space_has_no_sun_to_place(tagged_and_bare, capsys):
    tagged, *_ = tagged_and_bare
    assert main(["count", str(tagged), "--gsd", "0.5", "--acquired", "2021-06-15T02:00Z"]) == 2
    assert "drop --acquired" in capsys.readouterr().err


def test_evaluate_takes_it_too(tagged_and_bare, capsys):
    tagged, bare, station, when = tagged_and_bare
    truth = str(tagged)[: -len(".tif")] + ".truth.geojson"
    stamp = when.isoformat()
    assert main(["evaluate", str(bare), "--station", str(station), "--truth", truth, "--json"]) == 0
    undated = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert (
        main(
            [
                "evaluate",
                str(bare),
                "--station",
                str(station),
                "--truth",
                truth,
                "--json",
                "--acquired",
                stamp,
            ]
        )
        == 0
    )
    given = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert main(["evaluate", str(tagged), "--station", str(station), "--truth", truth, "--json"]) == 0
    from_tag = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert given["acquired"] == from_tag["acquired"] and undated["acquired"] is None
    assert given["sun"] == from_tag["sun"] and from_tag["sun"]["time_of_day"] == "given"
    assert undated["sun"]["time_of_day"] == "assumed"
    assert (given["railcars"], given["true_positives"]) == (from_tag["railcars"], from_tag["true_positives"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-10-05T02:15Z", datetime(2023, 10, 5, 2, 15, tzinfo=timezone.utc)),
        ("2023-10-05T11:15+09:00", datetime(2023, 10, 5, 2, 15, tzinfo=timezone.utc)),
        ("2023-10-05T02:15:30", datetime(2023, 10, 5, 2, 15, 30, tzinfo=timezone.utc)),  # naive: UTC
        ("2023:10:05 02:15:30", datetime(2023, 10, 5, 2, 15, 30, tzinfo=timezone.utc)),  # TIFF's form
        ("2023-10-04T20:00-06:00", datetime(2023, 10, 5, 2, 0, tzinfo=timezone.utc)),  # the day changes
        ("2023-10-05", datetime(2023, 10, 5, tzinfo=timezone.utc)),
    ],
)
def test_parse_acquired(text, expected):
    got = parse_acquired(text)
    assert got == expected and got.utcoffset() == timezone.utc.utcoffset(None)


def test_parse_acquired_rejects_out_of_range_years():
    with pytest.raises(UsageError, match="--acquired '0999-01-01'"):
        parse_acquired("0999-01-01")
    assert np.isfinite(parse_acquired("2200-12-31").timestamp())


def test_the_count_says_where_it_put_the_sun(tagged_and_bare, capsys, tmp_path):
    """count.json's ``sun``: the position the detector used, and whether the time of day was given."""
    from railcount.detect.sun import solar_position
    from railcount.io.stations import read_stations

    tagged, bare, station, when = tagged_and_bare
    centre = read_stations(station)[0].geometry.centroid
    _, rec, _ = _count(capsys, str(tagged), "--station", str(station))
    expected = solar_position(centre.x, centre.y, when)
    assert rec["sun"] == {
        "azimuth_deg": round(expected.azimuth_deg, 1),
        "elevation_deg": round(expected.elevation_deg, 1),
        "time_of_day": "given",
    }
    _, undated, _ = _count(capsys, str(bare), "--station", str(station))
    assert undated["sun"]["time_of_day"] == "assumed"
    _, later, _ = _count(capsys, str(bare), "--station", str(station), "--acquired", "2021-06-15T07:30Z")
    assert (
        later["sun"]["time_of_day"] == "given"
        and later["sun"]["azimuth_deg"] > rec["sun"]["azimuth_deg"] + 30
    )
    # An image counted in pixel space has no place on Earth: no sun.
    png = tmp_path / "yard.png"
    with rasterio.open(tagged) as src:
        import cv2

        cv2.imwrite(str(png), np.moveaxis(src.read(), 0, -1)[:, :, ::-1])
    assert main(["count", str(png), "--gsd", "0.5", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[0])["sun"] is None
    # Its warning asks only for what such an image can take: the shadows' bearing, not a time
    # (--acquired is refused in pixel space), and following it is accepted.
    (said,) = [line for line in err.splitlines() if "local solar time" in line]
    assert "--shadows-toward" in said and "--acquired" not in said and "TIFFTAG" not in said
    assert main(["count", str(png), "--gsd", "0.5", "--json", "--shadows-toward", "315"]) == 0
    assert "local solar time" not in capsys.readouterr().err


def test_a_local_time_written_as_utc_is_refused_with_its_offset_form(tagged_and_bare, capsys):
    """The yard's time written in Tumangang's local time without its offset reads as UTC, nine hours
    late: after dark there. That is refused in one line (the sun below the horizon), which shows the
    time with the offset; given so, the count is the one the file's own time gives."""
    tagged, _, station, when = tagged_and_bare
    local = when + timedelta(hours=9)  # the wall clock at Tumangang (UTC+9)
    naive = local.strftime("%Y-%m-%dT%H:%M")
    code, rec, err = _count(capsys, str(tagged), "--station", str(station), "--acquired", naive)
    assert code == 2 and rec == {} and len(err.strip().splitlines()) == 1
    assert "below the horizon" in err and f"{naive}+09:00" in err
    code, with_offset, _ = _count(
        capsys, str(tagged), "--station", str(station), "--acquired", f"{naive}+09:00"
    )
    code_tag, from_tag, _ = _count(capsys, str(tagged), "--station", str(station))
    assert code == code_tag == 0
    assert with_offset["railcars"] == from_tag["railcars"] and with_offset["by_type"] == from_tag["by_type"]


def test_a_file_time_after_dark_keeps_only_its_date(tagged_and_bare, capsys, tmp_path):
    """A TIFFTAG_DATETIME that is a processing time (after dark over the station) is not the
    picture's: only its date is kept, the sun assumed, with a warning saying what the file said and
    where; the count is the one a date-only file gives. Before, the night sun was used as given."""
    tagged, bare, station, when = tagged_and_bare
    night = tmp_path / "night.tif"
    untimed_copy(tagged, night)
    stamp = when.replace(hour=14, minute=5, second=0)  # 23:05 at Tumangang
    with rasterio.open(night, "r+") as ds:
        ds.update_tags(TIFFTAG_DATETIME=stamp.strftime("%Y:%m:%d %H:%M:%S"))
    code, rec, err = _count(capsys, str(night), "--station", str(station))
    assert code == 0 and rec["acquired"] == f"{when:%Y-%m-%d}T00:00:00+00:00"
    assert rec["acquired_from"] == "tiff_datetime" and rec["sun"]["time_of_day"] == "assumed"
    assert f"{stamp:%Y-%m-%dT%H:%M}Z (from TIFFTAG_DATETIME" in err and "below the horizon" in err
    code, day_only, _ = _count(capsys, str(bare), "--station", str(station), "--acquired", f"{when:%Y-%m-%d}")
    assert code == 0
    for key in ("railcars", "railcars_low", "railcars_high", "by_type"):
        assert rec[key] == day_only[key], key


def test_a_given_date_far_from_the_files_own_is_warned_of(tagged_and_bare, capsys, tmp_path):
    """--acquired with a date more than a day from the one the file's name gives: likely mistyped, and
    the sun would be placed for another day of the year; a time of day for the same date is what the
    option is for, and a day apart is a local date against UTC."""
    _, bare, station, when = tagged_and_bare
    named = tmp_path / f"yard_{when:%Y-%m-%d}.tif"  # dated by its name alone (no time of day)
    shutil.copy(bare, named)
    code, rec, err = _count(capsys, str(named), "--station", str(station), "--acquired", "2021-01-15T02:00Z")
    said = [line for line in err.splitlines() if "--acquired 2021-01-15" in line]
    assert code == 0 and rec["acquired"].startswith("2021-01-15")  # the given time is still used
    assert len(said) == 1 and said[0].startswith("railcount: warning: ")
    assert "is 151 days from 2021-06-15, the date from a date in the file name" in said[0]
    for close in (f"{when:%Y-%m-%d}T{when:%H:%M}Z", "2021-06-16T01:00Z"):
        code, rec, err = _count(capsys, str(named), "--station", str(station), "--acquired", close)
        assert code == 0 and "days from" not in err, err
    # TIFFTAG_DATETIME is the file's creation time by the TIFF standard: --acquired replaces it unwarned.
    tagged = tagged_and_bare[0]
    code, rec, err = _count(capsys, str(tagged), "--station", str(station), "--acquired", "2021-01-15T02:00Z")
    assert code == 0 and "days from" not in err
