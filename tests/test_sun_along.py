"""A warning when the sun throws the shadows along the tracks (detector 0.6.9).

The detector finds cars beside their shadows. Where the shadows fall along
the tracks there are none beside the cars, and on generated yards about
half the cars are found there (two in five before the along model of
0.6.15; ``benchmarks/misses.py --realism generic``): the user is told, on
the command line, in ``count.json`` and on the overlay.
"""

from __future__ import annotations

import csv
import json
import warnings

import pytest

from railcount.cautions import is_along, scene_cautions
from railcount.counting import interval
from railcount.detect.detector import shadows_along_tracks
from railcount.errors import ShadowsAlongTracksWarning, ShortShadowsWarning
from railcount.io.export import export_rows
from railcount.io.history import read_history_csv, read_history_db, split_warnings
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.store import read_counts
from railcount.synth import SceneSpec, synthesize, write_scene, write_station

from .geofixtures import write_synth


def _generic(tmp_path, seed: int, date: str):
    scene = synthesize(SceneSpec(site="generic", seed=seed, gsd_m=1.0, cars=30, date=date))
    paths = write_scene(scene, tmp_path)
    return paths["tif"], write_station(scene.site, tmp_path)


def test_shadows_along_the_tracks_are_warned_of_everywhere_the_user_looks(tmp_path):
    # Generic yard 1018 on 2024-08-04: the sun at azimuth 148, the yard's tracks at a bearing of
    # about 153 degrees, so every car's shadow falls along its own track.
    tif, station = _generic(tmp_path, 1018, "2024-08-04")
    with pytest.warns(ShadowsAlongTracksWarning, match=r"Generic yard 1018: the sun .* along the tracks"):
        (sc,) = count_scene(tif, read_stations(station), out_dir=tmp_path / "out")
    record = json.loads((tmp_path / "out" / "count.json").read_text())
    # The yard is 1.0 m, so the coarse-imagery caution comes too (tests/test_cautions.py).
    (along,) = scene_cautions(record["warnings"])
    assert "expect the count to be low" in along and len(record["warnings"]) == 2
    assert sc.cautions == tuple(record["warnings"])  # what the report and the batch read
    # The interval allows for the cars missed there: wider than the same count's without the warning.
    r = sc.result
    assert (r.railcars_low, r.railcars_high) == (record["railcars_low"], record["railcars_high"])
    along = interval(r.railcars, r.unsure_share, r.observed_fraction, shadows_along=True)
    plain = interval(r.railcars, r.unsure_share, r.observed_fraction)
    assert (r.railcars_low, r.railcars_high) == along
    assert along[0] <= plain[0] and along[1] > plain[1]
    assert sc.outputs["overlay"].stat().st_size > 0


def test_no_warning_when_the_shadows_fall_across_the_tracks(tmp_path):
    # Generic yard 1020 (the sun at azimuth 136, its tracks well off it) and a Tumangang yard,
    # whose shadows always fall across the tracks in the generated suites.
    tif, station = _generic(tmp_path / "g", 1020, "2023-07-23")
    paths, tumangang = write_synth(tmp_path / "t", date="2021-06-02", cars=20, gsd_m=1.0, seed=515)
    for scene, stations in ((tif, station), (paths["tif"], tumangang)):
        (window,) = read_windows(scene, read_stations(stations))
        along, sun = shadows_along_tracks(window)
        assert along == [] and sun.elevation_deg > 20
        with warnings.catch_warnings():
            # Both July and June suns stand high over these 1.0 m yards: the short-shadow caution is
            # a different one (tests/test_short_shadows.py).
            warnings.simplefilter("ignore", ShortShadowsWarning)
            warnings.simplefilter("error", ShadowsAlongTracksWarning)
            (sc,) = count_scene(scene, read_stations(stations))
        assert not [c for c in sc.cautions if is_along(c)]


def test_a_batch_stores_the_warning_with_the_count(tmp_path):
    # In a batch the warning would be lost in a worker's stderr: it is kept in the stored record,
    # as count.json keeps it.
    import sqlite3

    from railcount.batch import run_batch

    folder = tmp_path / "scenes"
    folder.mkdir()
    _, station = _generic(folder, 1018, "2024-08-04")
    summary = run_batch(station, folder, db=tmp_path / "r.db", workers=1)
    assert summary.ok == 1 and summary.warned == 1 and summary.to_dict()["warned"] == 1
    with sqlite3.connect(tmp_path / "r.db") as c:
        (record,) = c.execute("SELECT record FROM counts WHERE status = 'ok'").fetchone()
    notes = tuple(json.loads(record)["warnings"])
    (along,) = scene_cautions(notes)  # beside it, the 1.0 m yard's coarse-imagery caution
    assert "along the tracks" in along and len(notes) == 2
    # ... and they travel with the time series: the store's rows, the exported CSV (which a report
    # reads back as history) and the observations a report judges.
    (row,) = read_counts(tmp_path / "r.db")
    assert split_warnings(row["warnings"]) == notes
    exported = tmp_path / "counts.csv"
    export_rows([row], "csv", exported)
    with exported.open(newline="") as fh:
        (line,) = csv.DictReader(fh)
    assert split_warnings(line["warnings"]) == notes
    (from_csv,) = read_history_csv(exported, row["station"])
    (from_db,) = read_history_db(tmp_path / "r.db", row["station"])
    assert from_csv.warnings == from_db.warnings == notes


def test_a_report_on_such_a_scene_says_so(tmp_path, capsys):
    # railcount report --scene counts the scene itself: the judged count keeps the warning as a caveat.
    from railcount.cli import main

    tif, station = _generic(tmp_path, 1018, "2024-08-04")
    hist = tmp_path / "hist.csv"
    days = [f"2024-0{m}-01" for m in range(1, 7)]
    hist.write_text("date,railcars\n" + "".join(f"{d},{20 + i}\n" for i, d in enumerate(days)))
    args = ["report", "--station", "Generic yard 1018", "--history", str(hist), "--scene", str(tif)]
    assert main([*args, "--station-file", str(station), "--json"]) == 0
    out, err = capsys.readouterr()
    rec = json.loads(out)
    assert err.count("along the tracks") == 1  # the warning is printed once, as by railcount count
    (caveat,) = [c for c in rec["caveats"] if "came with a warning" in c]
    assert caveat.startswith("the count on 2024-08-04 came with a warning: ") and "along the tracks" in caveat
    assert not caveat.split("warning: ", 1)[1].startswith(str(tif))  # the caution itself, not its scene


def test_a_report_that_draws_such_a_scene_again_does_not_warn_again(tmp_path, capsys):
    # railcount report --out with no --scene counts the judged scene of the history again, only to draw
    # it. Its stored count carries the warning (the report's caveat); the recount prints nothing more.
    from railcount.cli import main
    from railcount.store import WARNINGS_SEPARATOR

    tif, station = _generic(tmp_path, 1018, "2024-08-04")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        (sc,) = count_scene(str(tif), read_stations(station))
    assert any(is_along(c) for c in sc.cautions)
    hist = tmp_path / "hist.csv"
    with hist.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "railcars", "scene", "warnings"])
        w.writerows([f"2024-0{m}-01", 20 + m, "", ""] for m in range(1, 7))
        w.writerow(["2024-08-04", sc.result.railcars, tif.name, WARNINGS_SEPARATOR.join(sc.cautions)])
    args = ["report", "--station", "Generic yard 1018", "--date", "2024-08-04"]
    args += ["--station-file", str(station)]
    assert main([*args, "--history", str(hist), "--out", str(tmp_path / "pack"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert (tmp_path / "pack" / "judged" / "overlay.png").is_file()  # the scene was counted again
    assert "along the tracks" not in err and "too coarse" not in err
    rec = json.loads(out)
    (caveat,) = [c for c in rec["caveats"] if "came with a warning" in c]
    assert "along the tracks" in caveat  # said once, where the report says such things
    # A history that did not keep the warning: the recount is the only one to say it, so it does.
    bare = tmp_path / "bare.csv"
    with hist.open(newline="") as fh, bare.open("w", newline="") as out_fh:
        w = csv.writer(out_fh)
        w.writerows(row[:3] for row in csv.reader(fh))
    assert main([*args, "--history", str(bare), "--out", str(tmp_path / "bare"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.count("along the tracks") == 1 and "too coarse" not in err
    assert not [c for c in json.loads(out)["caveats"] if "came with a warning" in c]
