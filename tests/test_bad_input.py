"""Bad and unusual input at the command line: one line on stderr, the right exit code, never a traceback.

Also the pixel-space mode (``--gsd``) for imagery without georeferencing, and stations with holes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import sys
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping

from railcount.cli import main
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import ORIGIN, box_ring, write_station, write_tif

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def one_line_error(capsys, argv: list[str], code: int) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and err.startswith("railcount: error: ")
    return err


def test_truncated_tiff_is_a_data_error(tmp_path, inner_station, capsys):
    rng = np.random.default_rng(5)
    good = write_tif(tmp_path / "good.tif", rng.integers(0, 255, (400, 600, 3), dtype=np.uint8))
    data = good.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])  # the header survives, half the tiles do not
    err = one_line_error(capsys, ["count", str(cut), "-s", str(inner_station)], 1)
    assert "cut.tif" in err and "truncated or corrupt" in err and "previous exception" not in err


def test_png_without_georeferencing_names_the_gsd_option(tmp_path, inner_station, capsys):
    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.full((100, 100, 3), 120, np.uint8))
    err = one_line_error(capsys, ["count", str(png), "-s", str(inner_station)], 1)
    assert "yard.png" in err and "no coordinate reference system" in err and "--gsd" in err


@pytest.fixture(scope="module")
def whole_scene_station(tmp_path_factory) -> Path:
    """A station polygon that is the sample scene's whole footprint."""
    with rasterio.open(SCENE) as ds:
        geom = transform_geom(ds.crs, "EPSG:4326", mapping(box(*ds.bounds)))
    path = tmp_path_factory.mktemp("whole") / "whole.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {"name": "whole"}, "geometry": geom}))
    return path


def test_gsd_counts_an_ungeoreferenced_image_whole(tmp_path, whole_scene_station, capsys):
    """A PNG of the sample counted in pixel space finds what the georeferenced scene finds
    when its station is the whole footprint; outputs stay in pixel coordinates."""
    with rasterio.open(SCENE) as ds:
        rgb = np.moveaxis(ds.read(), 0, -1)
    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.ascontiguousarray(rgb[:, :, ::-1]))
    assert main(["count", str(SCENE), "-s", str(whole_scene_station), "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    out = tmp_path / "out"
    assert main(["count", str(png), "--gsd", "0.5", "--json", "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out.splitlines()[0])
    assert got["station"] == "yard" and got["gsd_m"] == 0.5
    assert got["observed_fraction"] == 1.0
    assert ref["railcars_low"] <= got["railcars"] <= ref["railcars_high"]
    assert not (out / "detections.geojson").exists()
    rows = (out / "detections.csv").read_text().strip().splitlines()
    assert rows[0].startswith("row,col,")
    assert len(rows) - 1 == got["railcars"] + got["locomotives"]
    centres = np.array([[float(v) for v in r.split(",")[:2]] for r in rows[1:]])
    assert centres.min() >= 0 and centres[:, 0].max() < rgb.shape[0] and centres[:, 1].max() < rgb.shape[1]
    assert json.loads((out / "count.json").read_text())["georeferenced"] is False


@pytest.mark.parametrize(
    "args, words",
    [
        (["--gsd", "0.5", "-s", str(STATION)], "drop --station"),
        (["--gsd", "50"], "--gsd 50"),
        ([], "missing --station"),
    ],
)
def test_gsd_misuse_is_a_usage_error(tmp_path, capsys, args, words):
    png = tmp_path / "img.png"
    cv2.imwrite(str(png), np.full((64, 64, 3), 100, np.uint8))
    err = one_line_error(capsys, ["count", str(png), *args], 2)
    assert words in err


def test_gsd_on_a_georeferenced_scene_is_refused(capsys):
    err = one_line_error(capsys, ["count", str(SCENE), "--gsd", "0.5"], 2)
    assert "is georeferenced (EPSG:32652)" in err


@pytest.mark.parametrize(
    "coords, words",
    [
        ([], "empty"),
        ([[[130.0, 42.0], [130.001, 42.001], [130.002, 42.002], [130.0, 42.0]]], "zero area"),
        (
            [[[130.0, 42.0], [130.001, 42.0], [130.002, 42.0], [130.001, 42.0], [130.0, 42.0]]],
            "invalid polygon (Ring Self-intersection",
        ),
    ],
)
def test_empty_zero_area_and_unrepairable_polygons_exit_2(tmp_path, plain_scene, capsys, coords, words):
    st = tmp_path / "bad.geojson"
    st.write_text(json.dumps({"type": "Polygon", "coordinates": coords}))
    err = one_line_error(capsys, ["count", str(plain_scene), "-s", str(st)], 2)
    assert "bad.geojson" in err and words in err


def test_all_nodata_window_exit_1(tmp_path, inner_station, capsys):
    scene = write_tif(tmp_path / "blank.tif", np.zeros((400, 600, 3), np.uint8), nodata=0)
    err = one_line_error(capsys, ["count", str(scene), "-s", str(inner_station)], 1)
    assert "blank.tif" in err and "only nodata" in err


def test_station_with_a_hole_leaves_the_hole_out(tmp_path, plain_scene):
    x0, y0 = ORIGIN
    outer = box_ring(x0 + 50, y0 - 150, x0 + 250, y0 - 50)
    hole = box_ring(x0 + 100, y0 - 125, x0 + 150, y0 - 75)[::-1]
    doc = {"type": "Polygon", "coordinates": [outer, hole]}
    path = tmp_path / "holed.geojson"
    path.write_text(json.dumps(doc))
    (w,) = read_windows(plain_scene, read_stations(path), margin_m=0.0)
    # 200 x 100 m minus 50 x 50 m at 0.5 m pixels.
    assert w.inside.sum() == pytest.approx((20000 - 2500) / 0.25, rel=0.01)
    assert not w.inside[50:150, 100:200].any()  # the hole, in window pixels


def test_several_stations_share_one_open(tmp_path, plain_scene, monkeypatch):
    x0, y0 = ORIGIN
    st = write_station(
        tmp_path / "two.geojson",
        {
            "A": box_ring(x0 + 20, y0 - 100, x0 + 80, y0 - 20),
            "B": box_ring(x0 + 150, y0 - 180, x0 + 280, y0 - 120),
        },
    )
    opened: list[str] = []
    real_open = rasterio.open

    def counting_open(path, *args, **kwargs):  # passes through to rasterio, only counts
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", counting_open)
    windows = read_windows(plain_scene, read_stations(st))
    assert [w.station.name for w in windows] == ["A", "B"]
    assert opened == [str(plain_scene)]


CANNOT_DROP_ROOT = 98


def _run_unprivileged(argv: list[str]) -> tuple[int, str]:
    """Run the command line with a user's rights, not root's: root reads a chmod-000 file anyway.

    As root, a forked child drops to 'nobody' and calls :func:`main` with the modules the
    parent has already imported (the interpreter's own files may be unreadable to nobody).
    Otherwise it runs in this process.
    """
    if os.geteuid() != 0:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(argv)
        return code, err.getvalue()
    try:
        import pwd

        uid = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        uid = 65534
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only runs main
        pid = os.fork()
    if pid == 0:  # the child
        code = 99
        try:
            os.close(read_fd)
            sys.stderr = os.fdopen(write_fd, "w")
            try:
                os.setgid(uid)
                os.setuid(uid)
            except OSError:
                code = CANNOT_DROP_ROOT
                raise
            code = main(argv)
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        err = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_unreadable_scene_is_one_line_exit_1(inner_station, plain_scene):
    folder = Path(tempfile.mkdtemp(prefix="railcount-perm-"))
    try:
        folder.chmod(0o755)
        scene = write_tif(folder / "secret.tif", np.full((400, 600, 3), 50, np.uint8))
        station = folder / "station.geojson"
        shutil.copy(inner_station, station)
        station.chmod(0o644)
        # Import everything a count needs before the child gives up root's rights.
        assert main(["count", str(scene), "-s", str(station), "--json"]) == 0
        scene.chmod(0)
        code, err = _run_unprivileged(["count", str(scene), "-s", str(station)])
        if code == CANNOT_DROP_ROOT:  # e.g. a user namespace that maps only root
            pytest.skip("running as root and cannot switch to another user to test a read permission")
        assert code == 1, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err
        assert "secret.tif" in lines[0] and "permission denied" in lines[0]
    finally:
        (folder / "secret.tif").chmod(stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "truth file not found; check the path"),
        ('{"type": "Feature', "not valid JSON (line 1"),
        ('{"type": "FeatureCollection"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": {}}', "not a GeoJSON FeatureCollection"),
        # A crs member naming a system GDAL does not know (one it knows is transformed to lon/lat:
        # tests/test_station_files.py); metre coordinates with no crs member at all.
        (
            '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:999999"}}, '
            '"features": []}',
            "coordinate system 'EPSG:999999' is not one GDAL knows",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
            '{"type": "Polygon", "coordinates": [[[634010, 4696990], [634024, 4696990], [634024, 4696987], '
            "[634010, 4696990]]]}}]}",
            "feature 0 has coordinates outside longitude/latitude (634010, 4.69699e+06)",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
            '{"type": "LineString", "coordinates": [[130.6, 42.4], [130.6002, 42.4]]}}]}',
            "feature 0 is not a polygon or a point (LineString)",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"properties": {"class": "tank"}}]}',
            "feature 0 is not a polygon or a point (no geometry)",
        ),
    ],
)
def test_a_bad_truth_file_fails_before_the_scene_is_counted(tmp_path, capsys, content, says):
    truth = tmp_path / "truth.geojson"
    if content is not None:
        truth.write_text(content)
    out = tmp_path / "out"
    argv = ["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth), "--out", str(out)]
    err = one_line_error(capsys, argv, 2)
    assert str(truth) in err and says in err
    # Nothing was counted or written: the truth is checked first.
    assert not out.exists()


def test_the_station_file_given_as_the_truth_is_refused(tmp_path, capsys):
    # An easy slip: --truth given the station polygon, which would count as one true railcar.
    out = tmp_path / "out"
    argv = ["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(STATION), "--out", str(out)]
    err = one_line_error(capsys, argv, 2)
    assert str(STATION) in err and "feature 0 is" in err and "larger than any railcar" in err
    assert not out.exists()


def test_a_truth_file_given_as_the_station_is_refused(tmp_path, capsys):
    # The other slip: --station given the truth, whose 176 car outlines would each be counted as a
    # station of their own (exit 0, a line each). Marked by is_railcar, or by a car's class alone
    # (as a hand-drawn file like Muttenz's marks its wagons); a station named like one is not.
    truth = SAMPLES / "tumangang_2023-10-05.truth.geojson"
    err = one_line_error(capsys, ["count", str(SCENE), "--station", str(truth)], 2)
    assert str(truth) in err and "176 polygons are marked as rolling stock" in err
    ring = [[130.6, 42.4], [130.6002, 42.4], [130.6002, 42.40003], [130.6, 42.4]]

    def outlines(props):
        path = tmp_path / "outlines.geojson"
        geometry = {"type": "Polygon", "coordinates": [ring]}
        feats = [{"type": "Feature", "properties": p, "geometry": geometry} for p in props]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
        return path

    hand = outlines([{"class": "wagon"}, {"class": "Wagon"}])
    err = one_line_error(capsys, ["count", str(SCENE), "--station", str(hand)], 2)
    assert "2 polygons are marked as rolling stock" in err
    from railcount.io.stations import read_stations

    assert len(read_stations(outlines([{"class": "wagon"}, {"name": "Flat"}]))) == 2
    assert len(read_stations(outlines([{"name": "tank"}]))) == 1


def test_another_places_truth_is_refused_before_counting(tmp_path, capsys):
    # The sample's truth moved a degree east (about 80 km): every car far from the station, which
    # would read as "truth 0" and every box false.
    doc = json.loads((SAMPLES / "tumangang_2023-10-05.truth.geojson").read_text())
    for f in doc["features"]:
        f["geometry"]["coordinates"] = [
            [[x + 1.0, y] for x, y in ring] for ring in f["geometry"]["coordinates"]
        ]
    truth = tmp_path / "elsewhere.geojson"
    truth.write_text(json.dumps(doc))
    out = tmp_path / "out"
    argv = ["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth), "--out", str(out)]
    err = one_line_error(capsys, argv, 2)
    stock = sum(
        f["properties"]["is_railcar"] or f["properties"]["class"] == "locomotive" for f in doc["features"]
    )
    assert str(truth) in err and f"none of its {stock} cars lies within 1 km of the station" in err
    assert not out.exists()


def test_a_truth_near_the_station_or_empty_is_read():
    # Cars 300 m beyond the station's east edge, or none at all (an empty yard's truth), pass;
    # 1.5 km beyond, they do not.
    from railcount.errors import UsageError
    from railcount.io.truth import check_truth_near

    stations = read_stations(STATION)
    east, north = stations[0].geometry.bounds[2], stations[0].geometry.centroid.y
    per_metre = 1 / (111_320.0 * np.cos(np.radians(north)))

    def cars_beyond(metres):
        x = east + metres * per_metre
        ring = [[x, north], [x + 0.0002, north], [x + 0.0002, north + 0.00003], [x, north]]
        return [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]

    check_truth_near("near.geojson", cars_beyond(300), stations)
    check_truth_near("empty.geojson", [], stations)
    with pytest.raises(UsageError, match="none of its 1 cars lies within 1 km"):
        check_truth_near("far.geojson", cars_beyond(1500), stations)


def test_the_longest_cars_pass_the_truths_size_check(tmp_path):
    # A 93 m articulated set, at 45 degrees (its bounding box's diagonal is its length), is a car;
    # 120 m is not. Metres east and north of 42.4 N, 130.6 E.
    from railcount.errors import UsageError
    from railcount.io.truth import truth_features

    def car(length_m):
        lon0, lat0 = 130.6, 42.4
        dlon = length_m / np.sqrt(2) / (111_320.0 * np.cos(np.radians(lat0)))
        dlat = length_m / np.sqrt(2) / 110_574.0
        ring = [[lon0, lat0], [lon0 + dlon, lat0 + dlat], [lon0 + dlon + 1e-5, lat0 + dlat], [lon0, lat0]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        feature = {"type": "Feature", "properties": {}, "geometry": geometry}
        truth = tmp_path / f"truth_{length_m}.geojson"
        truth.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        return truth

    assert len(truth_features(car(93))) == 1
    with pytest.raises(UsageError, match=r"feature 0 is 12\d m across"):
        truth_features(car(120))


def test_truth_features_that_are_not_cars_need_not_be_polygons(tmp_path):
    # A note or a look-alike (is_railcar false) is not read, so its geometry is not checked; a car is.
    from railcount.io.truth import truth_features

    note = {
        "type": "Feature",
        "properties": {"is_railcar": False},
        "geometry": {"type": "Point", "coordinates": [1, 2]},
    }
    car = {
        "type": "Feature",
        "properties": {"class": "tank"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[130.6, 42.4], [130.6002, 42.4], [130.6002, 42.40003], [130.6, 42.4]]],
        },
    }
    truth = tmp_path / "truth.geojson"
    truth.write_text(json.dumps({"type": "FeatureCollection", "features": [note, car]}))
    assert len(truth_features(truth)) == 2


def test_a_delivery_still_in_its_zip_is_named_as_one(tmp_path, capsys):
    import zipfile

    archive = tmp_path / "058012345010_01.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SCENE, SCENE.name)
    err = one_line_error(capsys, ["count", str(archive), "--station", str(STATION)], 1)
    assert f"{archive}: is an archive, not a raster; unpack it" in err
    argv = ["batch", "--station", str(STATION), "--scenes", str(archive), "--db", str(tmp_path / "r.db")]
    err = one_line_error(capsys, argv, 2)
    assert f"{archive}: is an archive; unpack it and pass the folder it holds" in err


@pytest.mark.parametrize(
    "args, words",
    [
        (["count", "x.tif", "--gsd", "abc"], "'--gsd'"),
        (["count", "x.tif", "--bogus"], "No such option: --bogus"),
        (["bogus"], "No such command 'bogus'"),
        (["count"], "Missing argument 'SCENE'"),
        (["evaluate", "x.tif", "--station", "s.geojson"], "Missing option '--truth'"),
        (
            ["batch", "--station", "s.geojson", "--scenes", "d", "--from", "2023-02-30"],
            "not a date that exists",
        ),
    ],
)
def test_the_parsers_usage_errors_are_one_line_too(capsys, args, words):
    """What the option parser refuses reads as railcount's own errors do: one line, exit 2, with
    where the usage is (it was a box of five or six lines drawn by the parser)."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("railcount: error: "), err
    assert words in err and "--help')" in err


def test_the_console_script_exits_with_the_code(tmp_path):
    """The installed `railcount` exits with what main returns (2 for a usage error, 0 for --help)."""
    import subprocess

    exe = Path(sys.executable).with_name("railcount")
    bad = subprocess.run([str(exe), "count", "x.tif", "--gsd", "abc"], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    ok = subprocess.run([str(exe), "count", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "Usage" in ok.stdout


def test_an_output_folder_that_cannot_be_is_said_before_any_work(tmp_path, capsys):
    """--out on a file (or below one) is refused in one line before the scene is even opened, so a
    long count is not thrown away at the end; synth and demo say so before drawing anything (they
    ended in a traceback)."""
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    missing_scene = str(tmp_path / "nowhere.tif")  # would fail too, later: the folder is said first
    for out in (taken, taken / "sub"):
        assert main(["count", missing_scene, "--gsd", "0.5", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot be an output directory" in err and "nowhere" not in err
    assert main(["synth", str(taken), "--cars", "3"]) == 2
    assert "choose another OUT_DIR" in capsys.readouterr().err
    assert main(["demo", "--out", str(taken), "--dates", "3"]) == 2
    assert "choose another --out" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing drawn or written


def test_a_station_the_scene_does_not_image_is_left_out_and_the_others_counted(tmp_path, capsys):
    """One of two stations far from the scene used to fail the whole count (the other's count, made,
    was never printed); now it is said in one warning line and the other is counted and written."""
    doc = json.loads(STATION.read_text())
    far = {
        "type": "Feature",
        "properties": {"name": "Far"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[8.60, 47.53], [8.61, 47.53], [8.61, 47.54], [8.60, 47.54], [8.60, 47.53]]],
        },
    }
    both = tmp_path / "both.geojson"
    both.write_text(json.dumps({**doc, "features": [*doc["features"], far]}))
    out = tmp_path / "out"
    assert main(["count", str(SCENE), "--station", str(both), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    (record,) = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    assert record["station"] == "Tumangang" and record["railcars"] > 0
    said = [line for line in captured.err.splitlines() if "'Far'" in line]
    assert len(said) == 1 and said[0].startswith("railcount: warning:") and "not counted" in said[0]
    assert (out / "Tumangang" / "count.json").is_file() and not (out / "Far").exists()
    only_far = tmp_path / "far.geojson"
    only_far.write_text(json.dumps({"type": "FeatureCollection", "features": [far]}))
    err = one_line_error(capsys, ["count", str(SCENE), "--station", str(only_far)], 1)
    assert "does not overlap the scene" in err


def test_a_loop_of_links_is_not_called_a_missing_drive(tmp_path, capsys):
    a, b = tmp_path / "a_2023-10-05.tif", tmp_path / "b_2023-10-05.tif"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    err = one_line_error(capsys, ["count", str(a), "--station", str(STATION)], 1)
    assert "a loop of links" in err and "mount its drive" not in err


def test_an_unknown_crs_for_synth_is_one_line_without_gdal_s_own(tmp_path):
    """GDAL printed its own 'ERROR 1: PROJ: ...' line to stderr before railcount's (two lines)."""
    import subprocess

    exe = Path(sys.executable).with_name("railcount")
    done = subprocess.run(
        [str(exe), "synth", str(tmp_path / "out"), "--crs", "EPSG:999999", "--cars", "3"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "EPSG:999999" in done.stderr and "ERROR 1" not in done.stderr


def test_a_truth_named_for_another_day_is_warned_of(tmp_path, capsys):
    # The same station's truth for another day passes every other check: its name's date, more
    # than a day from the scene's acquisition, is the only clue. A day apart (UTC against a local
    # date) is the same acquisition and is not warned of.
    import warnings

    from railcount.errors import TruthDateWarning
    from railcount.pipeline import evaluate_scene

    text = (SAMPLES / "tumangang_2023-10-05.truth.geojson").read_text()
    other_day = tmp_path / "tumangang_2021-03-18.truth.geojson"
    other_day.write_text(text)
    argv = ["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(other_day), "--workers", "1"]
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    said = [line for line in err if "its name says" in line]
    assert len(said) == 1 and said[0].startswith("railcount: warning: ")
    assert (
        f"{other_day}: its name says 2021-03-18" in said[0]
        and "acquired 2023-10-05, 931 days apart" in said[0]
    )
    next_day = tmp_path / "tumangang_2023-10-06.truth.geojson"
    next_day.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (ev,) = evaluate_scene(SCENE, read_stations(STATION), next_day)
    assert not [w for w in caught if issubclass(w.category, TruthDateWarning)]
    assert ev.truth_count == 73
