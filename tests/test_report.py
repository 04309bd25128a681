"""``railcount report`` as a user meets it: history CSV in, verdict, JSON and evidence pack out."""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from railcount.cli import main
from railcount.io.history import read_history_csv

from .geofixtures import untimed_copy, write_synth

EVIL = "<script>alert(1)</script>"


def write_history(path: Path, rows: list[dict], columns=None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def tumangang_rows(station: str | None = None, judged_scene: str = "tumangang_2023-10-05.tif") -> list[dict]:
    """About 120 ordinary counts 2018-2023 (a high of 41), then 73 (70-76) on 2023-10-05."""
    rng = np.random.default_rng(11)
    rows, day = [], date(2018, 1, 3)
    while day < date(2023, 9, 25):
        n = int(np.clip(rng.normal(23, 5), 6, 36))
        rows.append(
            {
                "date": day.isoformat(),
                "railcars": n,
                "railcars_low": n - 3,
                "railcars_high": n + 3,
                "observed_fraction": 0.95,
                "scene": f"tumangang_{day}.tif",
            }
        )
        day += timedelta(days=int(rng.integers(12, 20)))
    rows[40].update(railcars=41, railcars_low=38, railcars_high=44)
    rows[55].update(observed_fraction=0.4, railcars=60, railcars_low=55, railcars_high=66)  # poorly seen
    rows.append(
        {
            "date": "2023-10-05",
            "railcars": 73,
            "railcars_low": 70,
            "railcars_high": 76,
            "observed_fraction": 1.0,
            "scene": judged_scene,
        }
    )
    if station:
        for r in rows:
            r["station"] = station
    return rows


@pytest.fixture
def history(tmp_path: Path) -> Path:
    rows = tumangang_rows("Tumangang")
    rows += [dict(r, station="Elsewhere", railcars=1, railcars_low=1, railcars_high=1) for r in rows[:10]]
    return write_history(tmp_path / "counts.csv", rows)


def scene_args(history: Path, scene: Path, station: Path) -> list[str]:
    """``report``'s arguments that judge ``scene``, counted afresh, against the CSV ``history``."""
    return [
        "--station",
        "Tumangang",
        "--history",
        str(history),
        "--scene",
        str(scene),
        "--station-file",
        str(station),
    ]


def run_json(capsys, *args: str) -> dict:
    assert main(["report", *args, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


def test_json_has_the_contract_and_the_right_numbers(history, capsys):
    rec = run_json(
        capsys,
        "--station",
        "Tumangang",
        "--history",
        str(history),
        "--date",
        "2023-10-05",
        "--period",
        "pre-pandemic=2018-01-01:2020-01-31",
    )
    for key in ("verdict", "railcars", "baseline", "percentile", "robust_z", "periods", "sentence"):
        assert key in rec, key
    # The baseline by hand: Tumangang rows in the 5 years before, well observed, excluding the judged day.
    with history.open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["station"] == "Tumangang"]
    base = [
        int(r["railcars"])
        for r in rows
        if "2018-10-05" <= r["date"] <= "2023-10-04" and float(r["observed_fraction"]) >= 0.8
    ]
    b = rec["baseline"]
    assert b["n"] == len(base) and b["median"] == statistics.median(base) and b["max"] == max(base) == 41
    assert b["excluded_poorly_observed"] == 1
    assert rec["verdict"] == "unprecedented" and rec["railcars"] == 73 and rec["percentile"] == 100
    assert rec["sentence"].startswith("73 railcars (likely 70-76) on 2023-10-05: ")
    assert f"above all {len(base)} observations" in rec["sentence"]
    pre = [
        int(r["railcars"]) for r in rows if r["date"] <= "2020-01-31" and float(r["observed_fraction"]) >= 0.8
    ]
    assert rec["periods"]["pre-pandemic"]["n"] == len(pre)
    assert rec["periods"]["pre-pandemic"]["median"] == statistics.median(pre)


def test_text_output_and_interval_rule(tmp_path, capsys):
    rows = tumangang_rows()
    rows[-1].update(railcars_low=30)  # 73 but possibly as few as 30: not above the previous high of 41
    hist = write_history(tmp_path / "h.csv", rows)
    assert main(["report", "--station", "T", "--history", str(hist), "--date", "2023-10-05"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("elevated: 73 railcars (likely 30-76) on 2023-10-05")
    assert main(["report", "--station", "T", "--history", str(hist), "--date", "2023-10-05", "--point"]) == 0
    assert capsys.readouterr().out.startswith("unprecedented: ")


def test_scene_picks_the_observation_by_file_name(history, capsys):
    rec = run_json(
        capsys,
        "--station",
        "Tumangang",
        "--history",
        str(history),
        "--scene",
        "/somewhere/else/tumangang_2023-10-05.tif",
    )
    assert rec["date"] == "2023-10-05" and rec["railcars"] == 73


BAD = [
    ("missing column", "date,count\n2020-01-01,3\n", ["--date", "2020-01-01"], 2, "missing column railcars"),
    ("bad date", "date,railcars\n2020-01-01,3\n01/02/2020,4\n", ["--date", "2020-01-01"], 2, "line 3"),
    ("bad count", "date,railcars\n2020-01-01,many\n", ["--date", "2020-01-01"], 2, "railcars is 'many'"),
    (
        "unknown station",
        "date,railcars,station\n2020-01-01,3,Other\n",
        ["--date", "2020-01-01"],
        2,
        "'Other'",
    ),
    (
        "no observation",
        "date,railcars\n2020-01-01,3\n2020-03-01,3\n",
        ["--date", "2020-02-01"],
        1,
        "nearest: 2020-01-01 before, 2020-03-01 after",
    ),
    (
        "empty baseline",
        "date,railcars\n2020-01-01,3\n",
        ["--date", "2020-01-01"],
        1,
        "no well-observed count",
    ),
    (
        "bad period",
        "date,railcars\n2020-01-01,3\n",
        ["--date", "2020-01-01", "--period", "pre:2019"],
        2,
        "NAME=FROM:TO",
    ),
    (
        "date and scene",
        "date,railcars\n2020-01-01,3\n",
        ["--date", "2020-01-01", "--scene", "x.tif"],
        2,
        "exactly one of --date",
    ),
    ("unknown scene", "date,railcars\n2020-01-01,3\n", ["--scene", "x.tif"], 1, "give --station-file"),
    ("empty file", "", ["--date", "2020-01-01"], 2, "missing columns date, railcars"),
    (
        "percent seen",
        "date,railcars,observed_fraction\n2020-01-01,3,1\n2020-02-01,3,95\n",
        ["--date", "2020-02-01"],
        2,
        "line 3: observed_fraction is '95'; expected a share between 0 and 1",
    ),
    (
        "bad percentile",
        "date,railcars\n2020-01-01,3\n",
        ["--date", "2020-01-01", "--elevated-percentile", "100"],
        2,
        "--elevated-percentile 100.0: expected between 0 and 100",
    ),
    (
        "bad min baseline",
        "date,railcars\n2020-01-01,3\n",
        ["--date", "2020-01-01", "--min-baseline", "0"],
        2,
        "--min-baseline 0: expected 1 or more",
    ),
]


@pytest.mark.parametrize(("text", "args", "code", "needle"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line(tmp_path, capsys, text, args, code, needle):
    hist = tmp_path / "hist.csv"
    hist.write_text(text)
    assert main(["report", "--station", "Tumangang", "--history", str(hist), *args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("railcount: error: ")
    assert needle in err
    assert "Traceback" not in err


def test_missing_history_and_no_source(tmp_path, capsys):
    assert (
        main(["report", "--station", "T", "--history", str(tmp_path / "nope.csv"), "--date", "2020-01-01"])
        == 2
    )
    err = capsys.readouterr().err
    assert "nope.csv" in err and err.count("\n") == 1
    assert main(["report", "--station", "T", "--date", "2020-01-01"]) == 2
    assert "exactly one of --history" in capsys.readouterr().err


def test_evidence_pack_is_self_contained_and_escaped(tmp_path, capsys):
    hist = write_history(tmp_path / "evil.csv", tumangang_rows(EVIL, judged_scene=f"{EVIL}.tif"))
    out = tmp_path / "pack"
    rec = run_json(
        capsys,
        "--station",
        EVIL,
        "--history",
        str(hist),
        "--date",
        "2023-10-05",
        "--out",
        str(out),
        "--period",
        f"{EVIL}=2018-01-01:2020-01-31",
    )
    assert sorted(p.name for p in out.iterdir()) == ["chart.png", "chart.svg", "report.html", "report.json"]
    assert json.loads((out / "report.json").read_text())["sentence"] == rec["sentence"]
    png = cv2.imread(str(out / "chart.png"))
    assert png is not None and png.shape[1] > 800 and png.std() > 10
    ET.parse(out / "chart.svg")  # well-formed XML
    page = (out / "report.html").read_text()
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    # Nothing fetched from elsewhere: every src is an inline image, no links to stylesheets.
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in page and "http://" not in page and "https://" not in page
    assert rec["sentence"] in page
    assert "Overlay unavailable" in page  # no station polygon given


@pytest.fixture(scope="module")
def synth_pair(tmp_path_factory):
    """Two small generated Tumangang scenes (1 m GSD): a baseline date and the judged date."""
    folder = tmp_path_factory.mktemp("synth")
    base, station = write_synth(folder, date="2021-06-01", cars=18, gsd_m=1.0, seed=21, supersample=1)
    judged, _ = write_synth(folder, date="2023-10-05", cars=40, gsd_m=1.0, seed=22, supersample=1)
    return base["tif"], judged["tif"], station


def test_scene_is_counted_and_drawn(tmp_path, capsys, synth_pair):
    base_tif, judged_tif, station = synth_pair
    rows = tumangang_rows()[:-1]
    rows[-1].update(scene=base_tif.name, date="2021-06-01")  # relative to the CSV's folder: a thumbnail
    hist = write_history(base_tif.parent / "hist.csv", rows)
    out = tmp_path / "pack"
    rec = run_json(capsys, *scene_args(hist, judged_tif, station), "--out", str(out))
    assert main(["count", str(judged_tif), "--station", str(station), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert rec["railcars"] == counted["railcars"] and rec["date"] == "2023-10-05"
    assert rec["detector"]["version"] == counted["detector_version"] and rec["detector"]["params"]
    assert (out / "judged" / "overlay.png").is_file() and (out / "judged" / "detections.geojson").is_file()
    page = (out / "report.html").read_text()
    assert 'id="overlay"' in page and "Overlay unavailable" not in page
    assert f"overlay {rows[-1]['date']}" in page  # the baseline scene's thumbnail
    assert (out / "baseline" / rows[-1]["date"] / "overlay.png").is_file()


def test_a_scene_is_known_to_the_store_by_its_content_not_its_name(tmp_path, capsys, synth_pair):
    """``--scene`` against a results store: the stored count of the same file under another path or name;
    never the stored count of another file that shares its name (providers reuse names, and the report
    judged the stored one without a word); by name only where the file named is not here."""
    from railcount.reporting import find_judged, load_history

    base_tif, judged_tif, _ = synth_pair
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    stored = scenes / "scene.tif"
    shutil.copy(base_tif, stored)
    station = tmp_path / "station.geojson"
    shutil.copy(synth_pair[2], station)
    db = tmp_path / "t.db"
    batch = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db), "-w", "1"]
    assert main(batch) == 0
    capsys.readouterr()
    obs, source = load_history("Tumangang", db=db)
    (mine,) = obs
    assert mine.scene_key and mine.scene_key.startswith("sha256:")
    renamed = tmp_path / "elsewhere" / "renamed.tif"
    renamed.parent.mkdir()
    shutil.copy(stored, renamed)
    namesake = tmp_path / "other" / "scene.tif"
    namesake.parent.mkdir()
    shutil.copy(judged_tif, namesake)
    assert find_judged(obs, source, "Tumangang", scene=str(stored)) == mine
    assert find_judged(obs, source, "Tumangang", scene=str(renamed)) == mine
    assert find_judged(obs, source, "Tumangang", scene=str(namesake)) is None  # counted afresh
    assert find_judged(obs, source, "Tumangang", scene=str(tmp_path / "gone" / "scene.tif")) == mine
    # The command: the namesake is counted (its own 2023-10-05 count), not judged as the stored 2021 one.
    args = ["report", "--station", "Tumangang", "--db", str(db), "--scene", str(namesake)]
    assert main([*args, "--station-file", str(station), "--json"]) == 0
    out = capsys.readouterr().out
    assert main(["count", str(namesake), "--station", str(station), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    rec = json.loads(out)
    assert rec["date"] == "2023-10-05" and rec["railcars"] == counted["railcars"]


def test_out_that_cannot_be_made_fails_before_counting(tmp_path, capsys, synth_pair):
    _, judged_tif, station = synth_pair
    hist = write_history(tmp_path / "h.csv", tumangang_rows()[:-1])
    out = tmp_path / "a-file"
    out.write_text("not a folder")
    args = ["report", "--station", "Tumangang", "--history", str(hist), "--scene", str(judged_tif)]
    assert main([*args, "--station-file", str(station), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # The --out itself is named (not a sub-folder the counting reached first), in one line.
    assert err.count("\n") == 1 and f"{out}: cannot be an output directory (it is a file)" in err
    assert out.read_text() == "not a folder"


def test_unreadable_scene_says_why(tmp_path, capsys, synth_pair):
    _, _, station = synth_pair
    hist = write_history(tmp_path / "h.csv", tumangang_rows())  # scenes that do not exist
    assert (
        main(
            [
                "report",
                "--station",
                "Tumangang",
                "--history",
                str(hist),
                "--date",
                "2023-10-05",
                "--station-file",
                str(station),
                "--out",
                str(tmp_path / "o"),
                "--thumbnails",
                "1",
            ]
        )
        == 0
    )
    page = (tmp_path / "o" / "report.html").read_text()
    assert "Overlay unavailable" in page and "tumangang_2023-10-05.tif" in page
    # The previous high's thumbnail is missing too, and the page says why (it was left out unsaid).
    assert 'id="thumbnail-note"' in page and "The previous high (" in page and "scene file not found" in page
    # ...and on stderr, in one warning line (it was only inside report.html, exit 0 without a word).
    said = [x for x in capsys.readouterr().err.splitlines() if "no overlay of the judged count" in x]
    assert len(said) == 1 and said[0].startswith("railcount: warning: ") and "tumangang_2023-10-05" in said[0]
    # A polygon file without the station is a usage error, said before any work.
    capsys.readouterr()
    args = ["report", "--station", "Elsewhere", "--history", str(hist), "--date", "2023-10-05"]
    assert main([*args, "--station-file", str(station)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no station named 'Elsewhere'" in err and "'Tumangang'" in err
    assert main([*args, "--station-file", str(tmp_path / "none.geojson")]) == 2
    assert "none.geojson" in capsys.readouterr().err


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
def test_report_in_a_real_browser(tmp_path, capsys):
    exe = _browser()
    if exe is None:
        pytest.skip("no headless browser installed (chromium); the evidence pack was not opened in one")
    hist = write_history(tmp_path / "evil.csv", tumangang_rows(EVIL))
    out = tmp_path / "pack"
    assert (
        main(["report", "--station", EVIL, "--history", str(hist), "--date", "2023-10-05", "--out", str(out)])
        == 0
    )
    capsys.readouterr()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (out / "report.html").as_uri()
    dom = subprocess.run(
        [exe, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    # The station's name is text, not a script: the parsed page holds no script element.
    assert "<script" not in dom.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert 'id="verdict"' in dom and "UNPRECEDENTED" in dom and 'id="stats"' in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [exe, *flags, "--window-size=1200,1600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=90,
        check=True,
    )
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1200)
    # The chart was decoded and drawn: the vermillion of the judged count is on screen.
    b, g, r = (img[..., i].astype(int) for i in range(3))
    assert np.sum((abs(r - 0xD5) < 25) & (abs(g - 0x5E) < 25) & (b < 40)) > 200


@pytest.mark.slow
def test_report_from_a_real_batch_store(tmp_path, capsys):
    """Generate a small series, run the real batch into a store, then judge the last date from the store."""
    from railcount.batch import run_batch
    from railcount.store import read_counts

    scenes = tmp_path / "scenes"
    days = [("2021-03-01", 12), ("2021-09-01", 15), ("2022-03-01", 10), ("2023-10-05", 45)]
    for i, (day, cars) in enumerate(days):
        _, station = write_synth(scenes, date=day, cars=cars, gsd_m=1.0, seed=40 + i, supersample=1)
    (scenes / "tumangang_2022-06-01.tif").write_bytes(b"not a tiff")  # recorded as failed, not an observation
    db = tmp_path / "counts.db"
    summary = run_batch(station, scenes, db=db, workers=1)
    assert summary.ok == 4 and summary.failed == 1
    stored = {r["acquired"][:10]: r for r in read_counts(db, "Tumangang") if r["status"] == "ok"}
    out = tmp_path / "pack"
    rec = run_json(
        capsys,
        "--station",
        "Tumangang",
        "--db",
        str(db),
        "--date",
        "2023-10-05",
        "--min-baseline",
        "3",
        "--station-file",
        str(station),
        "--out",
        str(out),
    )
    judged = stored["2023-10-05"]
    assert rec["railcars"] == judged["railcars"] and rec["railcars_low"] == judged["railcars_low"]
    assert rec["baseline"]["n"] == 3
    assert rec["baseline"]["max"] == max(stored[d]["railcars"] for d in stored if d < "2023")
    assert rec["detector"]["version"] == judged["detector_version"]
    assert rec["detector"]["params"] == judged["params"]
    base = [stored[d]["railcars"] for d in stored if d < "2023"]
    low = judged["railcars_low"]
    expected = (
        "unprecedented" if low > max(base) else "elevated" if low > np.percentile(base, 90) else "normal"
    )
    assert rec["verdict"] == expected  # the documented rule, on the interval's low end
    page = (out / "report.html").read_text()
    assert 'id="overlay"' in page and page.count("<figure>") == 3  # the three baseline scenes
    # The same history exported to CSV (failed row included) gives the same comparison.
    export = tmp_path / "export.csv"
    assert main(["export", "--db", str(db), "--format", "csv", "--output", str(export)]) == 0
    capsys.readouterr()
    from_csv = run_json(
        capsys,
        "--station",
        "Tumangang",
        "--history",
        str(export),
        "--date",
        "2023-10-05",
        "--min-baseline",
        "3",
    )
    for key in ("verdict", "railcars", "railcars_low", "percentile", "robust_z", "sentence"):
        assert from_csv[key] == rec[key], key
    assert from_csv["baseline"] == rec["baseline"]
    # An unknown station says which ones there are.
    assert main(["report", "--station", "Nowhere", "--db", str(db), "--date", "2023-10-05"]) == 2
    assert "'Tumangang'" in capsys.readouterr().err
    assert (
        main(["report", "--station", "Tumangang", "--db", str(tmp_path / "none.db"), "--date", "2023-10-05"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.db" in err


def test_ragged_rows_and_status_column(tmp_path, capsys):
    lines = ["acquired,railcars,status", "2019-12-15,12,ok,an extra cell on the first row"]
    lines += [f"2020-0{m}-01T10:00:00+00:00,{10 + m},ok" for m in range(1, 7)]
    lines += ["2020-07-01,,failed", "2020-08-01,99,skipped", "2020-09-01,30,ok,an extra cell"]
    hist = tmp_path / "h.csv"
    hist.write_text("\n".join(lines) + "\n")
    rec = run_json(capsys, "--station", "T", "--history", str(hist), "--date", "2020-09-01")
    assert rec["baseline"]["n"] == 7 and rec["baseline"]["max"] == 16 and rec["railcars"] == 30
    assert rec["verdict"] == "unprecedented"


def test_an_undated_scene_is_judged_at_the_time_given(tmp_path, capsys, synth_pair):
    """A new scene whose file gives no date at all: --acquired dates it, and places the sun."""
    _, judged_tif, station = synth_pair
    bare = tmp_path / "new_scene.tif"  # no date in its name, none in its tags
    when = untimed_copy(judged_tif, bare)
    hist = write_history(tmp_path / "h.csv", tumangang_rows()[:-1])
    args = scene_args(hist, bare, station)
    assert main(["report", *args, "--json"]) == 1  # undated: nothing to put on the time line
    # The count's warnings (the assumed sun; the 1 m scene's coarse imagery), then the error.
    *warned, error = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("railcount: error: ") and "no acquisition date" in error and "--acquired" in error
    assert len(warned) == 2 and all(w.startswith("railcount: warning: ") for w in warned)
    assert "no acquisition date, so the sun is assumed" in warned[0] and "too coarse" in warned[1]
    stamp = when.isoformat()
    rec = run_json(capsys, *args, "--acquired", stamp)
    assert main(["count", str(judged_tif), "--station", str(station), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert rec["date"] == "2023-10-05" and rec["railcars"] == counted["railcars"]


def test_acquired_goes_with_a_scene_counted_afresh(tmp_path, capsys, history):
    args = ["report", "--station", "Tumangang", "--history", str(history)]
    assert main([*args, "--date", "2023-10-05", "--acquired", "2023-10-05T02:00Z"]) == 2
    assert "with --date drop it" in capsys.readouterr().err
    assert main([*args, "--scene", "tumangang_2023-10-05.tif", "--acquired", "2023-10-05T02:00Z"]) == 2
    assert "already in the history" in capsys.readouterr().err


def test_a_count_made_with_no_time_of_day_is_a_caveat(tmp_path, capsys, synth_pair):
    """The judged count's assumed sun, and the baseline's, are caveats; given the time, neither is."""
    _, judged_tif, station = synth_pair
    named = tmp_path / "tumangang_2023-10-05_untagged.tif"  # dated by its name alone: no time of day
    when = untimed_copy(judged_tif, named)
    hist = write_history(tmp_path / "h.csv", tumangang_rows()[:-1])  # CSV dates: the hour is not known
    args = scene_args(hist, named, station)
    rec = run_json(capsys, *args)
    assert any("made with no time of day" in c and "--acquired" in c for c in rec["caveats"])
    assert not any("baseline counts were made with no time of day" in c for c in rec["caveats"])
    stamp = when.isoformat()
    rec = run_json(capsys, *args, "--acquired", stamp)
    assert not any("no time of day" in c for c in rec["caveats"])


def test_a_count_with_the_sun_from_the_shadows_bearing_is_no_caveat(tmp_path, capsys, synth_pair):
    """--shadows-toward places the judged scene's sun: no caveat of an assumed one, and the count is the
    one made with the time."""
    _, judged_tif, station = synth_pair
    named = tmp_path / "tumangang_2023-10-05_untagged.tif"
    untimed_copy(judged_tif, named)
    assert main(["count", str(judged_tif), "--station", str(station), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    bearing = f"{(counted['sun']['azimuth_deg'] + 180.0) % 360.0:.1f}"
    hist = write_history(tmp_path / "h.csv", tumangang_rows()[:-1])
    rec = run_json(capsys, *scene_args(hist, named, station), "--shadows-toward", bearing)
    assert not any("no time of day" in c for c in rec["caveats"]), rec["caveats"]
    assert rec["date"] == "2023-10-05" and rec["railcars"] == counted["railcars"]
    args = ["report", "--station", "Tumangang", "--history", str(hist), "--date", "2023-10-05"]
    assert main([*args, "--shadows-toward", bearing]) == 2
    assert "--shadows-toward is for a --scene counted afresh" in capsys.readouterr().err


def test_baseline_counts_with_no_time_of_day_are_counted_in_a_caveat(tmp_path, capsys):
    from railcount.io.history import observation_from_record

    rows = tumangang_rows("Tumangang")
    late = len(rows) - 4  # the three counts before the judged one were dated by their names alone
    stored = [
        dict(r, acquired=f"{r['date']}T{'00:00:00' if late <= i < len(rows) - 1 else '01:48:52'}+00:00")
        for i, r in enumerate(rows)
    ]
    obs = [observation_from_record(r) for r in stored]
    assert [o.time_unknown for o in obs[late - 1 :]] == [False, True, True, True, False]
    assert observation_from_record(dict(rows[0], acquired=rows[0]["date"])).time_unknown is None
    given = observation_from_record(dict(stored[0], sun={"time_of_day": "given"}))
    assert given.time_unknown is False  # the record's own word wins
    from railcount.report.baseline import compare

    comp = compare(obs[-1], obs[:-1], station="Tumangang")
    notes = [c for c in comp.caveats if "baseline counts were made with no time of day" in c]
    n_baseline = len(comp.baseline_obs)
    unknown = sum(1 for o in comp.baseline_obs if o.time_unknown)
    assert unknown == 3 and len(notes) == 1 and notes[0].startswith(f"3 of the {n_baseline} baseline")


def test_coarse_imagery_is_one_caveat_and_redrawn_scenes_warn_of_it_no_more(tmp_path, capsys, synth_pair):
    """The 1 m judged scene, counted afresh, warns of coarse imagery once (as railcount count does); the
    baseline scene counted again for its thumbnail does not, and the report says it once as a caveat."""
    base_tif, judged_tif, station = synth_pair
    rows = tumangang_rows()[:-1]
    rows[-1].update(scene=base_tif.name, date="2021-06-01")
    hist = write_history(base_tif.parent / "hist_coarse.csv", rows)
    out = tmp_path / "pack"
    assert main(["report", *scene_args(hist, judged_tif, station), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    rec = json.loads(captured.out)
    assert (out / "baseline" / "2021-06-01" / "overlay.png").is_file()  # the thumbnail was counted again
    assert captured.err.count("too coarse to see the gaps") == 1
    (caveat,) = [c for c in rec["caveats"] if "coarser than 0.65 m" in c]
    assert caveat.startswith("the count on 2023-10-05 was made on imagery coarser than 0.65 m")


@pytest.mark.parametrize(
    ("sep", "point"),
    [(";", ","), ("\t", "."), (",", ".")],
    ids=["semicolons and decimal commas (a European spreadsheet)", "tabs", "commas"],
)
def test_a_history_from_a_spreadsheet_reads_the_same_whatever_its_separator(tmp_path, capsys, sep, point):
    # A spreadsheet saved as CSV where the decimal mark is a comma separates its cells with
    # semicolons (and writes 0,95); others save tab-separated text. All read as the comma-separated file.
    rows = [("2023-01-01", 20, 0.95), ("2023-02-01", 22, 0.9), ("2023-03-01", 25, 1.0)]
    rows += [("2023-04-01", 21, 0.85), ("2023-05-01", 23, 0.95), ("2023-10-05", 60, 0.75)]
    lines = [sep.join(["date", "railcars", "observed_fraction"])]
    lines += [sep.join([d, str(n), str(f).replace(".", point)]) for d, n, f in rows]
    hist = tmp_path / "hist.csv"
    hist.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    args = ["--history", str(hist), "--date", "2023-10-05", "--json"]
    assert main(["report", "--station", "Tumangang", *args]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["railcars"] == 60 and rec["baseline"]["n"] == 5 and rec["baseline"]["median"] == 22
    (judged,) = [o for o in read_history_csv(hist, "Tumangang") if o.railcars == 60]
    assert judged.observed_fraction == 0.75


def test_a_semicolon_history_with_a_decimal_point_is_read_too(tmp_path):
    hist = tmp_path / "hist.csv"
    hist.write_text("date;railcars;observed_fraction;gsd_m\n2023-01-01;20;0.9;0,5\n")
    (o,) = read_history_csv(hist, "T")
    assert (o.railcars, o.observed_fraction, o.gsd_m) == (20, 0.9, 0.5)


def test_two_counts_on_the_judged_date_are_said_not_chosen_silently(tmp_path, capsys):
    rows = tumangang_rows()
    rows.append({**rows[-1], "railcars": 12, "railcars_low": 10, "railcars_high": 15, "scene": "other.tif"})
    hist = write_history(tmp_path / "h.csv", rows)
    assert main(["report", "--station", "Tumangang", "--history", str(hist), "--date", "2023-10-05"]) == 0
    out, err = capsys.readouterr()
    (said,) = [x for x in err.splitlines() if "2 counts of 'Tumangang' on 2023-10-05" in x]
    assert "73 (tumangang_2023-10-05.tif), 12 (other.tif)" in said and "pass --scene" in said
    assert out.startswith("unprecedented: 73 railcars")


def test_a_name_the_chart_font_cannot_draw_is_said_once(tmp_path, capsys):
    """Matplotlib warned once per missing character (six raw lines for a Chinese name)."""
    name = "Tumen 图们江"
    rows = [{**r, "station": name} for r in tumangang_rows()]
    hist = write_history(tmp_path / "h.csv", rows)
    args = ["report", "--station", name, "--history", str(hist), "--date", "2023-10-05"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    said = [x for x in err.splitlines() if "no glyphs" in x]
    assert len(said) == 1 and "'图们江'" in said[0] and "UserWarning" not in err
    assert name in json.loads((tmp_path / "o" / "report.json").read_text())["station"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('date,railcars,observed_fraction\n2023-01-01,20,"0,935"\n', "with a decimal point (0.935), or"),
        ("date,railcars,observed_fraction\n2023-01-01,20,93%\n", "not a percentage"),
        ("date,railcars,observed_fraction\n2023-01-01,20,x\n", "expected a share between 0 and 1"),
        ("date,railcars\n2023-01-01,12.5\n", "expected a whole number of cars"),
    ],
)
def test_a_bad_history_cell_says_what_it_should_be(tmp_path, text, says):
    """A decimal comma in a comma-separated file, a percentage, a word where a share goes, half a car:
    each said for what it is (all read 'expected a number of 0 or more', or were taken as they were)."""
    from railcount.errors import HistoryError

    hist = tmp_path / "hist.csv"
    hist.write_text(text)
    with pytest.raises(HistoryError, match=r"hist\.csv: line 2: ") as err:
        read_history_csv(hist, "T")
    assert says in str(err.value)


def test_a_date_whose_scene_failed_says_so_and_why(tmp_path, capsys):
    """--date of a scene the batch stored as failed read only 'no observation ...; choose a --date with
    a count'; it now says the scene failed, and the reason the store keeps."""
    samples = Path(__file__).resolve().parents[1] / "sample_tiles"
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    good = samples / "tumangang_2023-10-05.tif"
    (scenes / good.name).write_bytes(good.read_bytes())
    (scenes / "tumangang_2022-01-01.tif").write_bytes(good.read_bytes()[:4000])  # cut short: corrupt
    station = samples / "tumangang_station.geojson"
    db = tmp_path / "t.db"
    assert (
        main(["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db), "-w", "1"]) == 3
    )
    capsys.readouterr()
    assert main(["report", "--station", "Tumangang", "--db", str(db), "--date", "2022-01-01"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "on 2022-01-01 was not counted" in err
    assert "tumangang_2022-01-01.tif is stored as failed (" in err


def test_synthetic_counts_say_so_in_the_chart_title_and_first_caveat():
    """A report on counts made from railcount synth's scenes: SYNTHETIC DATA leads the chart's title and
    the caveats; on counts of acquisitions (a CSV history) neither says it."""
    from railcount.report.baseline import Observation, compare
    from railcount.report.chart import title_of

    rows = tumangang_rows()
    history = [Observation(date.fromisoformat(r["date"]), r["railcars"]) for r in rows[:-1]]
    judged = Observation(date(2023, 10, 5), 73, 70, 76)
    real = compare(judged, history, station="Tumangang")
    assert not title_of(real).startswith("SYNTHETIC") and not any("SYNTHETIC" in n for n in real.caveats)
    made = compare(
        replace(judged, synthetic=True), [replace(o, synthetic=True) for o in history], station="Tumangang"
    )
    assert title_of(made).startswith("SYNTHETIC DATA \N{EM DASH} Tumangang: ")
    assert made.caveats[0].startswith("SYNTHETIC DATA: the count on 2023-10-05 and ")
    assert made.caveats[0].endswith("says nothing about the real Tumangang")
    assert made.verdict == real.verdict  # the flag says what the data are; it judges nothing


def test_station_may_be_the_station_file_as_count_and_batch_take_it(history, capsys, tmp_path):
    """``--station`` is a name for report but a file for count and batch: a file holding one station is
    read for its name (and draws the overlays); one holding several is one line naming them, exit 2."""
    from railcount.io.stations import read_stations

    samples = Path(__file__).resolve().parents[1] / "sample_tiles"
    one = samples / "tumangang_station.geojson"
    (name,) = [s.name for s in read_stations(one)]
    by_name = run_json(capsys, "--station", name, "--history", str(history), "--date", "2023-10-05")
    by_file = run_json(capsys, "--station", str(one), "--history", str(history), "--date", "2023-10-05")
    assert by_file == by_name
    both = json.loads(one.read_text())
    second = json.loads(json.dumps(both["features"][0]))
    second["properties"]["name"] = "Elsewhere"
    both["features"].append(second)
    two = tmp_path / "two.geojson"
    two.write_text(json.dumps(both))
    assert main(["report", "--station", str(two), "--history", str(history), "--date", "2023-10-05"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this file holds 2 ('Tumangang', 'Elsewhere')" in err


def test_the_chart_says_its_rule_detector_and_caveats_in_a_footnote():
    """A chart shared without its report still says what the verdict compared, which detector counted,
    at what GSD, and how many caveats the report has."""
    from railcount.report.baseline import Observation, compare
    from railcount.report.chart import baseline_chart, footnote

    rows = tumangang_rows()
    history = [
        Observation(date.fromisoformat(r["date"]), r["railcars"], detector_version="0.6.27", gsd_m=0.5)
        for r in rows[:-1]
    ]
    judged = Observation(date(2023, 10, 5), 73, 70, 76, detector_version="0.6.27", gsd_m=0.5)
    c = compare(judged, history, station="Tumangang")
    note = footnote(c)
    assert c.verdict == "unprecedented"
    assert note.startswith("Verdict: the count's low end above every baseline count.")
    assert "detector 0.6.27; judged scene at 0.50 m;" in note
    n = len(c.caveats)
    assert note.endswith(f"{n} caveat{'s' if n != 1 else ''} in the report." if n else "no caveats.")
    fig = baseline_chart(c, [*history, judged])
    assert fig.get_supxlabel() == note
