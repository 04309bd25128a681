"""The Python interface (``import railcount``): the same counts, files, series and verdicts as the
commands, from Python's own types, and the same one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from shapely.geometry import box, mapping, shape

import railcount
from railcount.cli import main
from railcount.errors import CloudShadowWarning, PartialViewWarning, RailcountError, UsageError
from railcount.io.stations import read_stations

from .geofixtures import write_synth

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    """The sample counted by ``railcount.count`` with ``out``, and by ``railcount count --out --json``."""
    folder = tmp_path_factory.mktemp("api")
    (sc,) = railcount.count(str(SCENE), STATION, out=folder / "api")
    return sc, folder


def test_count_gives_what_the_command_prints_and_writes(counted, capsys):
    sc, folder = counted
    assert main(["count", str(SCENE), "--station", str(STATION), "--json", "--out", str(folder / "cli")]) == 0
    printed = json.loads(capsys.readouterr().out.strip())
    assert sc.record() == printed
    # The cars and the picture, as the command's files hold them.
    written = json.loads((folder / "cli" / "detections.geojson").read_text())
    assert sc.geojson() == written
    picture = cv2.imread(str(folder / "cli" / "overlay.png"))
    assert np.array_equal(sc.overlay(), picture[:, :, ::-1])
    # And the files railcount.count wrote itself.
    api_file, cli_file = folder / "api" / "detections.geojson", folder / "cli" / "detections.geojson"
    assert api_file.read_text() == cli_file.read_text()


def test_evaluate_count_scores_as_the_command(tmp_path, capsys):
    truth = SAMPLES / "tumangang_2023-10-05.truth.geojson"
    (ev,) = railcount.evaluate_count(SCENE, STATION, truth, out=tmp_path)
    assert main(["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip())
    assert ev.to_dict() == printed
    assert json.loads((tmp_path / "evaluation.json").read_text()) == printed


def test_a_station_as_a_path_a_polygon_a_geojson_dict_or_station_objects(counted):
    sc, _ = counted
    (from_file,) = read_stations(STATION)
    doc = json.loads(STATION.read_text())
    feature = doc["features"][0] if doc.get("type") == "FeatureCollection" else doc
    polygon = shape(feature["geometry"])
    for given in (str(STATION), STATION, from_file, [from_file], feature, polygon):
        (station,) = railcount.stations(given)
        assert station.geometry.equals(from_file.geometry)
    # A bare polygon has no name: it is named from its outline, so that two outlines never share a name
    # in a store (as station-1 each, a second polygon's batch replaced the first's counts); the count
    # is the same.
    (unnamed,) = railcount.count(SCENE, polygon)
    assert unnamed.result.station.startswith("station-") and len(unnamed.result.station) == 16
    assert unnamed.result.railcars == sc.result.railcars
    assert [s.name for s in railcount.stations(polygon)] == [unnamed.result.station]  # the same again
    west = polygon.intersection(box(*polygon.bounds[:2], polygon.centroid.x, polygon.bounds[3]))
    east = polygon.difference(west)
    names = {railcount.stations(p)[0].name for p in (polygon, west, east)}
    assert len(names) == 3
    with pytest.raises(UsageError, match="expected a file's path"):
        railcount.stations(42)


def test_times_bearings_and_bands_in_python_types():
    # The sample's file gives 01:48 UTC; a date alone is a day with no time of day, as --acquired reads it.
    a = railcount.count(SCENE, STATION, acquired=date(2023, 10, 5), workers=1)[0].result
    b = railcount.count(SCENE, STATION, acquired="2023-10-05", workers=1)[0].result
    assert a.acquired == b.acquired == datetime(2023, 10, 5, tzinfo=timezone.utc)
    assert a.to_dict() == b.to_dict()
    c = railcount.count(SCENE, STATION, shadows_toward="NW", bands=(1, 2, 3), workers=1)[0].result
    d = railcount.count(SCENE, STATION, shadows_toward=315, bands="1,2,3", workers=1)[0].result
    assert c.to_dict() == d.to_dict() and c.sun == d.sun and c.sun["time_of_day"] == "from shadows"
    with pytest.raises(UsageError) as err:
        railcount.count_series(STATION, SAMPLES, start="5 October 2023")
    assert "start" in str(err.value) and "YYYY-MM-DD" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(RailcountError, match="station="):
        railcount.count(SCENE)


def test_cloud_is_hatched_on_the_overlay_as_in_the_file(tmp_path):
    """A cloudy scene: the count's window has the cloud and its shadow taken out of its data, and the
    picture ``overlay()`` draws is still the file's (both hatched, not grey)."""
    paths, station = write_synth(
        tmp_path, conditions="cloud=0.35", date="2021-05-20", cars=60, gsd_m=0.75, seed=4321, realism="v2"
    )
    with pytest.warns(PartialViewWarning), pytest.warns(CloudShadowWarning):  # 19 % seen
        (sc,) = railcount.count(paths["tif"], station, out=tmp_path / "out")
    assert sc.cloud is not None and sc.cloud.any() and sc.result.observed_fraction < 0.9
    assert sc.shade is not None and sc.shade.any()
    assert np.array_equal(sc.overlay(), cv2.imread(str(tmp_path / "out" / "overlay.png"))[:, :, ::-1])


def test_batch_counts_and_report_as_the_commands(tmp_path, capsys):
    """A short synthetic series: ``railcount.count_series`` fills the store as ``railcount batch`` would,
    ``railcount.counts`` reads back what ``railcount export`` writes, and ``railcount.judge`` gives
    the verdict and files of ``railcount report``."""
    from railcount.demo import demo_series, generate

    series = demo_series(8)
    station_file = generate(tmp_path / "scenes", series)
    db = tmp_path / "station.db"
    summary = railcount.count_series(station_file, tmp_path / "scenes", db=db, workers=1, start="2018-01-01")
    assert summary.ok == len(series) and summary.failed == 0
    rows = railcount.counts(db, station="Tumangang")
    # The cars: what export --format geojson writes, one feature per car.
    cars = railcount.detections(db, station="Tumangang")
    assert main(["export", "--db", str(db), "--format", "geojson"]) == 0
    assert cars == json.loads(capsys.readouterr().out)
    counted = sum(r["railcars"] + r["locomotives"] for r in rows if r["status"] == "ok")
    assert len(cars["features"]) == counted > 0
    assert main(["export", "--db", str(db), "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == len(csv_lines) - 1 == len(series)
    header = csv_lines[0].split(",")
    for row, line in zip(rows, csv_lines[1:], strict=True):
        values = dict(zip(header, line.split(","), strict=False))
        assert values["scene"] == row["scene"] and int(values["railcars"]) == row["railcars"]
        # The CSV's text, as a UTC datetime (pandas makes a datetime column of it, not strings).
        assert isinstance(row["acquired"], datetime) and row["acquired"].utcoffset() == timedelta(0)
        assert row["acquired"] == datetime.fromisoformat(values["acquired"])
    assert [r["acquired"] for r in rows] == sorted(r["acquired"] for r in rows)
    last = series[-1][0]
    judged = railcount.judge("Tumangang", db=db, day=last, out=tmp_path / "report", baseline_years=6)
    # A notebook cell ending in the report shows a line, not every observation's parameters.
    assert len(repr(judged)) < 300 and f": {judged.comparison.verdict};" in repr(judged)
    assert len(repr(judged.comparison)) < 500 and judged.comparison.sentence in repr(judged.comparison)
    assert (
        main(
            [
                "report",
                "--station",
                "Tumangang",
                "--db",
                str(db),
                "--date",
                last.isoformat(),
                "--baseline-years",
                "6",
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out.strip())
    assert judged.to_dict() == printed
    assert printed["verdict"] in {"unprecedented", "elevated", "typical", "low"}
    assert {p.name for p in (tmp_path / "report").iterdir()} >= {"chart.png", "report.html", "report.json"}


def test_import_railcount_stays_light():
    """``import railcount`` loads none of the heavy modules until a function is used."""
    code = (
        "import sys, railcount; heavy = [m for m in ('cv2', 'rasterio', 'shapely', 'railcount.pipeline') "
        "if m in sys.modules]; print(heavy); railcount.stations; "
        "print('railcount.api' in sys.modules, sorted(railcount.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    first, second = out.strip().splitlines()
    assert first == "[]"
    assert second.startswith("True") and "count" in second
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        railcount.nothing  # noqa: B018


def test_a_result_shows_as_its_command_s_line(counted, capsys):
    """In a notebook a count shows as the line ``railcount count`` prints, not as its pixel arrays."""
    sc, _ = counted
    assert main(["count", str(SCENE), "--station", str(STATION)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()[0]
    assert repr(sc) == f"<StationCount {printed}>" and sc.line() == printed
    truth = SAMPLES / "tumangang_2023-10-05.truth.geojson"
    (ev,) = railcount.evaluate_count(SCENE, STATION, truth)
    assert main(["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth)]) == 0
    assert repr(ev) == f"<StationEvaluation {capsys.readouterr().out.splitlines()[0]}>"


_T, _S = str(SCENE), str(STATION)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: railcount.count(123, _S), "scene: expected a path"),
        (lambda: railcount.count([], _S), "scene: expected a path"),
        (lambda: railcount.count(_T, []), "station: expected"),
        (lambda: railcount.count(_T, _S, bands=3), "bands: expected band numbers"),
        (lambda: railcount.count(_T, _S, bands=("r", "g", "b")), "bands: expected band numbers"),
        (lambda: railcount.count(_T, _S, bands=(3.7, 2, 1)), "bands: expected band numbers"),
        (lambda: railcount.count(_T, _S, workers="2"), "workers: expected a whole number"),
        (lambda: railcount.count(_T, _S, workers=0), "workers: expected a whole number"),
        (lambda: railcount.count(_T, gsd="abc"), "gsd: expected a number from 0.05 to 5"),
        (lambda: railcount.count(_T, _S, cloud_cover=150), "cloud_cover: expected a number from 0 to 100"),
        (lambda: railcount.evaluate_count(_T, _S, None), "truth: expected a path"),
        (lambda: railcount.count_series(_S, 5), "scenes: expected a path"),
        (lambda: railcount.count_series(_S, "d", db=None), "db: expected a path"),
        (lambda: railcount.count_series(_S, "d", max_cloud_cover=-5), "max_cloud_cover: expected"),
        (lambda: railcount.counts(5), "db: expected a path"),
        (lambda: railcount.counts("r.db", station=["Tumangang"]), "station: expected a name"),
        (lambda: railcount.judge(None, history="h.csv"), "station: expected a name"),
        (lambda: railcount.judge(["Tumangang"], history="h.csv"), "station: expected a name"),
        (lambda: railcount.judge("Tumangang", history="h.csv", baseline_years="5"), "baseline_years"),
        (lambda: railcount.judge("Tumangang", history="h.csv", min_observed=2), "min_observed"),
        (lambda: railcount.judge("Tumangang", history="h.csv", periods=[5]), "periods: expected a name"),
    ],
)
def test_wrong_types_are_one_line_usage_errors(call, words):
    """What the command line's parser refuses, the functions refuse too, in one line naming the
    parameter, before any work: they raised TypeError, IndexError or sqlite3's ProgrammingError from
    deep inside, some after a whole count, and judge(None, ...) pooled every station of the store
    into one baseline and judged against it without a word."""
    with pytest.raises(UsageError, match=words) as err:
        call()
    assert "\n" not in str(err.value)


def test_counts_of_a_station_the_store_does_not_hold_say_which_it_does(tmp_path):
    db = tmp_path / "t.db"
    assert (
        main(["batch", "--station", _S, "--scenes", str(SAMPLES), "--db", str(db), "--from", "2023-01-01"])
        == 0
    )
    assert [r["station"] for r in railcount.counts(db, station="Tumangang")] == ["Tumangang"]
    with pytest.raises(
        UsageError, match=r"no records for station 'Tumangan' \(stations in the store: 'Tumangang'\)"
    ):
        railcount.counts(db, station="Tumangan")


def test_numpy_and_pandas_values_are_taken_as_python_ones():
    """A DataFrame's cells are numpy scalars and datetime64: taken as their Python values, with the
    same count as the plain ones (they were refused as 'not a number', 'not a date')."""
    plain = railcount.count(
        SCENE, STATION, acquired="2023-10-05T01:48:52Z", bands=(1, 2, 3), cloud_cover=5.0, workers=1
    )[0].result
    numpyish = railcount.count(
        SCENE,
        STATION,
        acquired=np.datetime64("2023-10-05T01:48:52"),
        bands=np.array([1, 2, 3]),
        cloud_cover=np.float32(5),
        workers=np.int64(1),
    )[0].result
    assert numpyish.acquired == plain.acquired == datetime(2023, 10, 5, 1, 48, 52, tzinfo=timezone.utc)
    assert (numpyish.railcars, numpyish.bands, numpyish.provider_cloud_cover) == (
        plain.railcars,
        plain.bands,
        plain.provider_cloud_cover,
    )
    with pytest.raises(UsageError, match="workers: expected a whole number of 1 or more"):
        railcount.count(SCENE, STATION, workers=np.float64(1.5))


def test_count_series_warns_of_what_the_batch_command_prints_while_planning(tmp_path):
    """A station whose outline differs from the one its stored counts were made with is counted again,
    replacing them: the command says so in its log; from Python it is a warning (it was silent)."""
    from railcount.errors import BatchNoteWarning

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / SCENE.name).write_bytes(SCENE.read_bytes())
    doc = json.loads(STATION.read_text())
    feature = doc["features"][0] if doc.get("type") == "FeatureCollection" else doc
    polygon = shape(feature["geometry"])
    smaller = polygon.buffer(-0.0002)
    db = tmp_path / "s.db"
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchNoteWarning)
        first = railcount.count_series({**feature, "geometry": mapping(polygon)}, scenes, db=db, workers=1)
    assert first.ok == 1
    with pytest.warns(BatchNoteWarning, match="the station's outline differs from the one 1 stored count"):
        again = railcount.count_series({**feature, "geometry": mapping(smaller)}, scenes, db=db, workers=1)
    assert again.ok == 1


def test_a_geodataframe_is_a_station_in_any_crs(counted):
    """A notebook's station is often a GeoDataFrame: read with geopandas and reprojected to UTM, it is
    taken (back in lon/lat, named from its 'name' column) and counts as the file does."""
    import geopandas

    sc, _ = counted
    frame = geopandas.read_file(STATION).to_crs(32652)
    (station,) = railcount.stations(frame)
    (from_file,) = read_stations(STATION)
    assert station.name == from_file.name
    assert station.geometry.symmetric_difference(from_file.geometry).area < 1e-9
    (got,) = railcount.count(SCENE, frame, workers=1)
    assert (got.result.station, got.result.railcars) == (sc.result.station, sc.result.railcars)
    (unnamed,) = railcount.stations(frame.geometry)  # a GeoSeries: no name column
    assert unnamed.name.startswith("station-")


def test_judge_s_messages_name_its_arguments_not_the_command_s_options(tmp_path):
    """From Python the report's one-line errors say day=, station=, not --date, --station."""
    from railcount.errors import HistoryError, NoObservationError

    db = tmp_path / "t.db"
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / SCENE.name).write_bytes(SCENE.read_bytes())
    railcount.count_series(STATION, scenes, db=db, workers=1)
    with pytest.raises(UsageError, match=r"^judge: give day= \(a date the history has a count of\)"):
        railcount.judge("Tumangang", db=db)
    with pytest.raises(NoObservationError) as missing:
        railcount.judge("Tumangang", db=db, day="2023-10-06")
    assert "choose a day= with a count" in str(missing.value) and "--" not in str(missing.value)
    with pytest.raises(HistoryError, match=r"check station=$"):
        railcount.judge("Tumangan", db=db, day="2023-10-05")


def test_railcount_s_warnings_point_at_the_caller_s_line():
    """A notebook's user reads a warning's file and line: railcount's own point at the call, not into
    railcount's modules."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        railcount.count(SCENE, STATION, acquired="2023-10-05", workers=1)  # a date alone: the sun assumed
    ours = [w for w in caught if issubclass(w.category, railcount.errors.RailcountWarning)]
    assert ours and all(w.filename == __file__ for w in ours)
