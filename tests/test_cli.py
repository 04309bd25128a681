"""The command line as a user meets it: the real console script, its output and its errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from railcount.cli import main

from .geofixtures import ORIGIN, box_ring, write_station, write_synth, write_tif


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("railcount") or str(Path(sys.executable).with_name("railcount"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, check=False)


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("count", "synth"):
        assert command in proc.stdout


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("railcount ")


def test_count_json_has_the_contract_fields(plain_scene, inner_station, capsys):
    assert main(["count", str(plain_scene), "--station", str(inner_station), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    for key in (
        "station",
        "scene",
        "acquired",
        "railcars",
        "railcars_low",
        "railcars_high",
        "locomotives",
        "by_type",
        "observed_fraction",
        "gsd_m",
        "detector_version",
    ):
        assert key in rec, key
    assert rec["station"] == "Inner"
    assert rec["acquired"] == "2022-05-01T02:30:00+00:00"
    assert rec["railcars"] == 0  # a plain grey field holds no cars
    assert rec["railcars_low"] <= rec["railcars"] <= rec["railcars_high"]
    assert rec["observed_fraction"] == pytest.approx(1.0)


def test_several_stations_one_line_and_one_folder_each(tmp_path, plain_scene, capsys):
    x0, y0 = ORIGIN
    st = write_station(
        tmp_path / "two.geojson",
        {
            "West yard": box_ring(x0 + 10, y0 - 100, x0 + 100, y0 - 10),
            "East yard": box_ring(x0 + 150, y0 - 100, x0 + 290, y0 - 10),
        },
    )
    out = tmp_path / "out"
    assert main(["count", str(plain_scene), "--station", str(st), "--json", "--out", str(out)]) == 0
    recs = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [r["station"] for r in recs] == ["West yard", "East yard"]
    for folder in ("West_yard", "East_yard"):
        for name in ("detections.geojson", "overlay.png", "count.json"):
            assert (out / folder / name).is_file()


def test_stations_whose_names_share_a_folder_name_keep_their_own_folders(tmp_path, plain_scene, capsys):
    # Korean and Cyrillic names (before: both "station", the second's files over the first's), and
    # two names that differ only in capitals (one folder on Windows and macOS).
    x0, y0 = ORIGIN
    names = ["두만강역", "Туманган", "Yard", "yard"]
    rings = {n: box_ring(x0 + 10 + 70 * k, y0 - 100, x0 + 70 + 70 * k, y0 - 10) for k, n in enumerate(names)}
    st = write_station(tmp_path / "four.geojson", rings)
    out = tmp_path / "out"
    assert main(["count", str(plain_scene), "--station", str(st), "--json", "--out", str(out)]) == 0
    capsys.readouterr()
    folders = ["두만강역", "Туманган", "Yard", "yard_2"]
    assert sorted(p.name for p in out.iterdir()) == sorted(folders)
    for name, folder in zip(names, folders, strict=True):
        assert json.loads((out / folder / "count.json").read_text(encoding="utf-8"))["station"] == name


def test_human_summary(plain_scene, inner_station, capsys):
    assert main(["count", str(plain_scene), "--station", str(inner_station)]) == 0
    out = capsys.readouterr().out
    assert "Inner" in out and "2022-05-01" in out and "railcars" in out


@pytest.mark.parametrize(
    "tags, warned",
    [
        ({"TIFFTAG_DATETIME": "2022:05:01 02:30:00"}, False),
        ({"TIFFTAG_DATETIME": "2022:05:01 00:00:00"}, True),  # how date-only metadata reads
        ({}, True),  # dated by its file name alone
    ],
)
def test_a_scene_without_a_time_of_day_is_counted_with_a_one_line_warning(
    tmp_path, inner_station, capsys, tags, warned
):
    rng = np.random.default_rng(0)
    pix = np.clip(120 + rng.normal(0, 6, (400, 600, 3)), 0, 255).astype(np.uint8)
    scene = write_tif(tmp_path / "plain_2022-05-01.tif", pix, tags=tags)
    assert main(["count", str(scene), "--station", str(inner_station)]) == 0
    captured = capsys.readouterr()
    assert "2022-05-01" in captured.out and "railcars" in captured.out
    err = captured.err.strip().splitlines()
    if warned:
        assert len(err) == 1 and err[0].startswith("railcount: warning: "), err
        assert "plain_2022-05-01.tif" in err[0] and "no time of day" in err[0]
        assert "TIFFTAG_DATETIME" in err[0]
    else:
        assert err == []


@pytest.mark.parametrize(
    "make_bad, exit_code, words",
    [
        (lambda d: (d / "missing.tif", None), 1, "not found"),
        (
            lambda d: (write_tif(d / "nogeo.tif", np.zeros((20, 20, 3), np.uint8), crs=None), None),
            1,
            "no coordinate reference system",
        ),
        (lambda d: ((d / "text.tif").write_text("hello") and d / "text.tif", None), 1, "cannot open"),
        (lambda d: (None, d / "missing.geojson"), 2, "station file not found"),
        (
            lambda d: (None, (d / "bad.geojson").write_text("[1, 2") and d / "bad.geojson"),
            2,
            "not valid JSON",
        ),
        (
            lambda d: (
                None,
                write_station(d / "far.geojson", {"Far": box_ring(0, 0, 100, 100, crs="EPSG:3857")}),
            ),
            1,
            "station 'Far' does not overlap",
        ),
    ],
)
def test_bad_input_is_one_line_with_exit_code(
    tmp_path, plain_scene, inner_station, make_bad, exit_code, words
):
    scene, station = make_bad(tmp_path)
    proc = run_cli("count", str(scene or plain_scene), "--station", str(station or inner_station))
    assert proc.returncode == exit_code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert words in lines[0]
    # The message names the offending file (the scene, for a station that misses it).
    named = scene if scene is not None else plain_scene if "overlap" in words else station
    assert Path(str(named)).name in lines[0]


def test_missing_required_option_is_a_usage_error():
    proc = run_cli("count", "x.tif")
    assert proc.returncode == 2
    assert "--station" in proc.stderr and "Traceback" not in proc.stderr


def test_evaluate_reports_error_and_f1_against_truth(tmp_path, capsys):
    paths, station = write_synth(tmp_path, date="2022-04-20", cars=20, gsd_m=0.5, seed=31)
    args = ["evaluate", str(paths["tif"]), "--station", str(station), "--truth", str(paths["truth_geojson"])]
    assert main([*args, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["truth"] == 20
    assert rec["count_error"] == rec["railcars"] - 20
    assert 0 <= rec["precision"] <= 1 and 0 <= rec["recall"] <= 1
    assert rec["true_positives"] <= min(rec["railcars"], 20)
    # Against an empty truth every detection is a false positive.
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    assert main([*args[:4], "--truth", str(empty), "--json"]) == 0
    rec0 = json.loads(capsys.readouterr().out)
    assert rec0["truth"] == 0 and rec0["true_positives"] == 0 and rec0["recall"] == 1.0
    assert rec["types_right"] <= rec["types_classified"] <= rec["true_positives"]
    assert rec["tarped_matched"] <= min(rec["tarped"], rec["true_tarped"])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "precision" in out and f"{rec['types_right']} of {rec['types_classified']} classified" in out
    # The generator's truth names every car's type, so every matched car is scored.
    assert rec["types_labelled"] == rec["true_positives"]
    # Truth that calls every car a "wagon" (as Muttenz's does) says nothing about types: they are
    # not scored, rather than reported as all wrong.
    doc = json.loads(Path(paths["truth_geojson"]).read_text())
    for feat in doc["features"]:
        feat["properties"]["class"] = "wagon"
    wagons = tmp_path / "wagons.geojson"
    wagons.write_text(json.dumps(doc))
    assert main([*args[:4], "--truth", str(wagons), "--json"]) == 0
    recw = json.loads(capsys.readouterr().out)
    assert recw["truth"] == 20 and recw["true_positives"] == rec["true_positives"]
    assert recw["types_labelled"] == recw["types_classified"] == recw["types_right"] == 0
    assert main([*args[:4], "--truth", str(wagons)]) == 0
    assert "types: not scored, the truth names no car types" in capsys.readouterr().out


def test_readme_shows_what_the_first_command_prints(tmp_path):
    """The README's example output of its first command is the real output on the bundled sample."""
    repo = Path(__file__).resolve().parents[1]
    proc = run_cli(
        "count",
        str(repo / "sample_tiles" / "tumangang_2023-10-05.tif"),
        "--station",
        str(repo / "sample_tiles" / "tumangang_station.geojson"),
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.splitlines()[0]
    # The scene is printed as given; the README gives the file name as the example line does.
    shown = line.replace(str(repo / "sample_tiles") + "/", "")
    assert shown in (repo / "README.md").read_text(encoding="utf-8"), shown
