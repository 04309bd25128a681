"""railcount batch: selection, resume, failures recorded, duplicates, and the same records however run."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import sys
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from railcount.batch import run_batch
from railcount.cli import main
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.store import Record, open_store, read_counts

from ..geofixtures import ORIGIN, box_ring, plain_tif, write_station, write_tif

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tiles"


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT station, scene_key, detector_version, status, written FROM counts"
        ).fetchall()
    c.close()
    return sorted(rows)


def test_batch_records_match_count_json_and_duplicates_count_once(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    for name in ("tumangang_2019-06-12.tif", "tumangang_2021-03-18.tif"):
        shutil.copy(SAMPLES / name, folder / name)
    shutil.copy(SAMPLES / "tumangang_2019-06-12.tif", folder / "copy_of_june.tif")
    station = SAMPLES / "tumangang_station.geojson"
    notes: list[str] = []
    summary = run_batch(station, folder, db=tmp_path / "r.db", workers=1, log=notes.append)
    assert (summary.ok, summary.failed, summary.skipped, summary.duplicates) == (2, 0, 0, 1)
    assert summary.exit_code == 0
    assert any("same content as" in n for n in notes)
    rows = read_counts(tmp_path / "r.db")
    assert [r["acquired"][:10] for r in rows] == ["2019-06-12", "2021-03-18"]
    for row in rows:
        (sc,) = count_scene(row["scene"], read_stations(station))
        expected = sc.result.to_dict()
        for key in (
            "station",
            "railcars",
            "railcars_low",
            "railcars_high",
            "locomotives",
            "observed_fraction",
        ):
            assert row[key] == expected[key], key
        assert row["detector_version"] == expected["detector_version"]
        assert row["status"] == "ok" and row["reason"] is None
        assert len(row["detections"]["features"]) == len(sc.detections)
        assert row["params"]["car_width_m"] > 0


def test_rerun_counts_only_missing_or_failed_and_force_recounts(
    tmp_path: Path, scenes: Path, station: Path
) -> None:
    db = tmp_path / "r.db"
    first = run_batch(station, scenes, db=db, workers=1)
    assert (first.ok, first.failed, first.skipped, first.processed) == (3, 0, 0, 3)
    before = _rows(db)
    again = run_batch(station, scenes, db=db, workers=1)
    assert (again.ok, again.processed) == (3, 0)
    assert _rows(db) == before  # nothing rewritten
    plain_tif(scenes / "d_2023-01-01.tif", 4)
    more = run_batch(station, scenes, db=db, workers=1)
    assert (more.ok, more.processed) == (4, 1)
    assert [r for r in _rows(db) if r in before] == before
    forced = run_batch(station, scenes, db=db, workers=1, force=True)
    assert (forced.ok, forced.processed) == (4, 4)
    after = _rows(db)
    assert len(after) == 4  # replaced, never duplicated
    written = {r[:4]: r[4] for r in after}
    assert all(written[old[:4]] > old[4] for old in before)


def test_failed_scenes_are_recorded_retried_and_the_batch_goes_on(
    tmp_path: Path, scenes: Path, station: Path
) -> None:
    (scenes / "corrupt_2022-03-03.tif").write_bytes(b"II*\x00 not really a tiff")
    # Images the same ground but only nodata where the station is: fails at counting time.
    blank = np.zeros((160, 240, 3), dtype=np.uint8)
    write_tif(scenes / "blank_2022-04-04.tif", blank, nodata=0)
    db = tmp_path / "r.db"
    summary = run_batch(station, scenes, db=db, workers=1)
    assert (summary.ok, summary.failed, summary.skipped) == (3, 2, 0)
    assert summary.exit_code == 3
    failed = {Path(r["scene"]).name: r["reason"] for r in read_counts(db) if r["status"] == "failed"}
    assert "cannot open as a raster" in failed["corrupt_2022-03-03.tif"]
    assert "only nodata" in failed["blank_2022-04-04.tif"]
    rerun = run_batch(station, scenes, db=db, workers=1)
    assert rerun.processed == 1  # the blank one is counted again; the corrupt one re-read and refused
    assert (rerun.ok, rerun.failed) == (3, 2)
    assert len(_rows(db)) == 5


def test_undated_skipped_and_date_range_selects(tmp_path: Path, scenes: Path, station: Path) -> None:
    plain_tif(scenes / "undated.tif", 9)
    db = tmp_path / "r.db"
    summary = run_batch(station, scenes, db=db, workers=1, start=date(2022, 2, 3), end=date(2022, 7, 9))
    assert (summary.ok, summary.failed, summary.skipped) == (2, 0, 1)
    rows = read_counts(db)
    assert [Path(r["scene"]).name for r in rows] == ["b_2022-02-03.tif", "c.tif", "undated.tif"]
    assert rows[1]["acquired"] == "2022-07-09T03:04:05+00:00"
    assert rows[2]["status"] == "skipped" and "no acquisition date" in rows[2]["reason"]
    assert summary.exit_code == 0
    # The scene outside the range was dated from its header, never hashed.
    with sqlite3.connect(db) as c:
        hashed = {Path(p).name for (p,) in c.execute("SELECT path FROM files")}
    c.close()
    assert hashed == {"b_2022-02-03.tif", "c.tif", "undated.tif"}


def test_scene_elsewhere_fails_only_when_it_covers_no_station(tmp_path: Path, scenes: Path) -> None:
    x0, y0 = ORIGIN
    far = x0 + 5000
    stations = write_station(
        tmp_path / "two.geojson",
        {
            "Inner": box_ring(x0 + 30, y0 - 60, x0 + 90, y0 - 20),
            "Far": box_ring(far + 30, y0 - 60, far + 90, y0 - 20),
        },
    )
    plain_tif(scenes / "far_2022-09-09.tif", 5, shift_m=5000)
    plain_tif(scenes / "nowhere_2022-10-10.tif", 6, shift_m=20000)
    db = tmp_path / "r.db"
    summary = run_batch(stations, scenes, db=db, workers=1)
    # 3 scenes x Inner, 1 x Far, and the scene covering neither failed for both.
    assert (summary.ok, summary.failed) == (4, 2)
    bad = [r for r in read_counts(db) if r["status"] == "failed"]
    assert {r["station"] for r in bad} == {"Inner", "Far"}
    assert all("covers none of the stations" in r["reason"] for r in bad)


def test_two_workers_store_what_one_stores(tmp_path: Path, scenes: Path, station: Path) -> None:
    one = run_batch(station, scenes, db=tmp_path / "one.db", workers=1)
    two = run_batch(station, scenes, db=tmp_path / "two.db", workers=2)
    assert (one.ok, two.ok) == (3, 3)

    assert read_counts(tmp_path / "one.db") == read_counts(tmp_path / "two.db")


def test_a_new_detector_version_counts_again_and_keeps_the_old(
    tmp_path: Path, scenes: Path, station: Path
) -> None:
    db = tmp_path / "r.db"
    run_batch(station, scenes, db=db, workers=1)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE counts SET detector_version = '0.0.1'")
    c.close()
    summary = run_batch(station, scenes, db=db, workers=1)
    assert summary.processed == 3
    versions = {r[2] for r in _rows(db)}
    assert len(versions) == 2 and "0.0.1" in versions
    assert all(r["detector_version"] != "0.0.1" for r in read_counts(db))


def test_cli_batch_json_summary_and_exit_codes(tmp_path: Path, scenes: Path, station: Path, capsys) -> None:
    db = tmp_path / "r.db"
    args = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db), "--workers", "1"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] == 3 and out["failed"] == 0 and out["skipped"] == 0 and out["db"] == str(db)
    (scenes / "broken_2022-01-01.tif").write_text("not a raster")
    assert main([*args, "--json"]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["failed"] == 1
    assert "[" not in captured.out.splitlines()[0][:1]
    # Only failures selected: nothing could be counted.
    assert main([*args, "--from", "2022-01-01", "--to", "2022-01-01"]) == 1
    assert "0 ok, 1 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--scenes", "{tmp}/nothere"], "scene source not found"),
        (["--scenes", "{tmp}/empty"], "holds no scenes"),
        (["--scenes", "{scenes}", "--from", "2030-01-01"], "widen --from/--to"),
        (["--scenes", "{scenes}", "--db", "{tmp}/notes.txt"], "not a railcount results store"),
        (["--scenes", "{scenes}", "--workers", "0"], "--workers must be 1 or more"),
    ],
)
def test_cli_batch_bad_input_is_one_line(
    tmp_path: Path, scenes: Path, station: Path, capsys, extra, needle
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("my notes\n")
    args = [a.format(tmp=tmp_path, scenes=scenes) for a in extra]
    if "--db" not in args:
        args += ["--db", str(tmp_path / "r.db")]
    assert main(["batch", "--station", str(station), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"


def test_help_documents_exit_codes(capsys) -> None:
    assert main(["batch", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for code in (
        "0 every selected scene counted",
        "3 some failed",
        "1 none could be counted",
        "2 usage error",
    ):
        assert code in text


def test_list_file_with_relative_paths(tmp_path: Path, scenes: Path, station: Path) -> None:
    listing = scenes / "list.txt"
    listing.write_text("# my scenes\na_2021-05-01.tif\n\n2022/b_2022-02-03.tif  # the February one\n")
    summary = run_batch(station, listing, db=tmp_path / "r.db", workers=1)
    assert summary.ok == 2 and summary.warned == 0  # Tumangang's shadows fall across its tracks
    assert {Path(r["scene"]).name for r in read_counts(tmp_path / "r.db")} == {
        "a_2021-05-01.tif",
        "b_2022-02-03.tif",
    }


def test_list_file_saved_by_windows_notepad_or_excel(
    tmp_path: Path, scenes: Path, station: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A byte-order mark before the first path and CRLF line ends; before, the first scene was
    # "not found" (the mark read as part of its path).
    listing = tmp_path / "list.txt"
    lines = [str(scenes / "a_2021-05-01.tif"), str(scenes / "2022" / "b_2022-02-03.tif")]
    listing.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    summary = run_batch(station, listing, db=tmp_path / "r.db", workers=1)
    assert (summary.ok, summary.failed) == (2, 0)
    # Paths pasted with their quotes, and one from the home folder.
    home = tmp_path / "home"
    (home / "scenes").mkdir(parents=True)
    plain_tif(home / "scenes" / "c_2021-06-01.tif", 7)
    listing.write_text(f"\"{lines[0]}\"\n'{lines[1]}'  2022-02-03T03:00Z\n~/scenes/c_2021-06-01.tif\n")
    monkeypatch.setenv("HOME", str(home))
    summary = run_batch(station, listing, db=tmp_path / "q.db", workers=1)
    assert (summary.ok, summary.failed) == (3, 0)


def _stored_acquired(db: Path) -> dict[str, tuple[str, str]]:
    """Per scene file name: the store row's acquired, and the acquired of the count record stored in it."""
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT scene, acquired, record FROM counts WHERE status = 'ok'").fetchall()
    c.close()
    return {Path(scene).name: (acq, json.loads(record)["acquired"]) for scene, acq, record in rows}


def test_list_file_gives_acquisition_times(tmp_path: Path, scenes: Path, station: Path) -> None:
    """A scene list may date its scenes: an undated scene is counted, and the list's time wins over the
    file's, in the store and in the count itself (the sun is placed for it)."""
    plain_tif(scenes / "undated.tif", 9)
    listing = scenes / "list.txt"
    listing.write_text(
        "undated.tif   2022-03-04T02:30Z  # from the provider's order sheet\n"
        "a_2021-05-01.tif\t2021-05-02T10:00:00+09:00\n"
        "2022/c.tif\n"
    )
    db = tmp_path / "r.db"
    summary = run_batch(station, listing, db=db, workers=1)
    assert (summary.ok, summary.failed, summary.skipped) == (3, 0, 0)
    assert _stored_acquired(db) == {
        "undated.tif": ("2022-03-04T02:30:00+00:00",) * 2,
        "a_2021-05-01.tif": ("2021-05-02T01:00:00+00:00",) * 2,  # not the date in its name
        "c.tif": ("2022-07-09T03:04:05+00:00",) * 2,  # no time listed: its tag's
    }
    # Where each count's time came from: the list's line, or the file's own tag.
    sources = {Path(r["scene"]).name: r["acquired_from"] for r in read_counts(db)}
    assert sources == {
        "undated.tif": "scene_list",
        "a_2021-05-01.tif": "scene_list",
        "c.tif": "tiff_datetime",
    }
    # Listed without a time, the undated scene is skipped, as from a folder.
    listing.write_text("undated.tif\n")
    again = run_batch(station, listing, db=tmp_path / "r2.db", workers=1)
    assert (again.ok, again.skipped) == (0, 1)


def test_a_listed_time_after_dark_fails_that_scene_with_the_reason(
    tmp_path: Path, scenes: Path, station: Path
) -> None:
    """A time typed into a scene list in local time without its offset reads as UTC; at night over the
    station no picture was taken then: that scene is failed with the reason (the way to write the
    time), and the others are counted."""
    plain_tif(scenes / "undated.tif", 9)
    listing = scenes / "list.txt"
    listing.write_text("undated.tif   2022-03-04T14:30\na_2021-05-01.tif   2021-05-01T02:00Z\n")
    db = tmp_path / "r.db"
    summary = run_batch(station, listing, db=db, workers=1)
    assert (summary.ok, summary.failed) == (1, 1)
    rows = {Path(r["scene"]).name: r for r in read_counts(db)}
    reason = rows["undated.tif"]["reason"]
    assert rows["undated.tif"]["status"] == "failed" and "the time listed, 14:30Z," in reason
    assert "below the horizon" in reason and "+09:00" in reason
    assert rows["a_2021-05-01.tif"]["status"] == "ok"


def test_list_file_with_a_bad_time_is_a_one_line_error(
    tmp_path: Path, scenes: Path, station: Path, capsys
) -> None:
    listing = scenes / "list.txt"
    listing.write_text("a_2021-05-01.tif\n2022/c.tif 2022-13-45T99:00Z\n")
    code = main(
        ["batch", "--station", str(station), "--scenes", str(listing), "--db", str(tmp_path / "r.db")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"{listing}, line 2: '2022-13-45T99:00Z' is not a date and time" in err[0]
    assert not (tmp_path / "r.db").exists() or read_counts(tmp_path / "r.db") == []


def test_list_file_gives_the_shadows_bearing(tmp_path: Path, scenes: Path, station: Path, capsys) -> None:
    """``shadows=BEARING`` after a listed scene places its sun from the shadows (degrees or a compass
    point): stored as such, not counted as a scene with no time of day; a bearing the sun cannot give
    that day fails that scene alone, with the reason."""
    listing = scenes / "list.txt"
    listing.write_text(
        "a_2021-05-01.tif shadows=NW\n2022/b_2022-02-03.tif 2022-02-03 shadows=180\n2022/c.tif\n"
    )
    db = tmp_path / "r.db"
    notes: list[str] = []
    summary = run_batch(station, listing, db=db, workers=1, log=notes.append)
    assert (summary.ok, summary.failed, summary.time_unknown) == (2, 1, 0), notes
    rows = {Path(r["scene"]).name: r for r in read_counts(db)}
    assert rows["b_2022-02-03.tif"]["status"] == "failed"
    assert "shadows cannot point to 180 degrees" in rows["b_2022-02-03.tif"]["reason"]
    with sqlite3.connect(db) as c:
        (record,) = c.execute("SELECT record FROM counts WHERE scene LIKE '%a_2021-05-01.tif'").fetchone()
    c.close()
    sun = json.loads(record)["sun"]
    assert sun["time_of_day"] == "from shadows" and sun["shadows_toward_deg"] == 315.0
    assert sun["azimuth_deg"] == 135.0
    # A last word that is not a bearing is a one-line usage error naming the line.
    listing.write_text("a_2021-05-01.tif shadows=up\n")
    args = ["batch", "--station", str(station), "--scenes", str(listing), "--db", str(tmp_path / "x.db")]
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{listing}, line 1: shadows= 'up': not a bearing" in err[0]


def test_store_record_of_old_failure_replaced_by_success(tmp_path: Path, scenes: Path, station: Path) -> None:
    db = tmp_path / "r.db"
    from railcount.io.sources import scene_key

    key = scene_key(str(scenes / "a_2021-05-01.tif"))
    with open_store(db) as s:
        s.write(Record("Inner", key, str(scenes / "a_2021-05-01.tif"), "failed", reason="disk was unplugged"))
    summary = run_batch(station, scenes, db=db, workers=1)
    assert summary.processed == 3 and summary.ok == 3
    assert [r[3] for r in _rows(db)] == ["ok", "ok", "ok"]


def test_paths_only_the_cluster_sees_are_left_to_its_workers(tmp_path: Path, station: Path) -> None:
    from railcount.batch import plan_batch
    from railcount.io.sources import SceneSource

    elsewhere = SceneSource("/data/on/the/workers/yard_2022-03-04.tif")
    stations = read_stations(station)
    with open_store(tmp_path / "r.db") as store:
        local = plan_batch([elsewhere], stations, store)
        remote = plan_batch([elsewhere], stations, store, remote=True)
    assert not local.tasks and "scene file not found" in str(local.records[0].reason)
    (task,) = remote.tasks
    assert task.scene == elsewhere.path and task.acquired == "2022-03-04T00:00:00+00:00"
    assert [st.name for st in task.stations] == ["Inner"] and not remote.records


def test_a_repaired_file_leaves_no_failed_row(tmp_path: Path, scenes: Path, station: Path) -> None:
    # A truncated download fails; the same path, downloaded again, counts: the time series
    # shows the scene once, counted (its old failure was under the broken content's key).
    good = scenes / "a_2021-05-01.tif"
    content = good.read_bytes()
    good.write_bytes(content[:300])
    db = tmp_path / "r.db"
    first = run_batch(station, scenes, db=db, workers=1)
    assert (first.ok, first.failed) == (2, 1)
    good.write_bytes(content)
    second = run_batch(station, scenes, db=db, workers=1)
    assert (second.ok, second.failed, second.processed) == (3, 0, 1)
    rows = [r for r in read_counts(db) if r["scene"] == str(good)]
    assert [r["status"] for r in rows] == ["ok"]


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="symbolic links")
def test_a_link_to_a_missing_file_is_recorded_failed_then_counted(
    tmp_path: Path, scenes: Path, station: Path
) -> None:
    # A folder of links into an archive whose drive is not mounted: each dangling link is a scene
    # that failed, with a reason that says so, not a scene left out unsaid.
    target = tmp_path / "archive" / "d_2022-11-12.tif"
    link = scenes / "d_2022-11-12.tif"
    link.symlink_to(target)
    db = tmp_path / "r.db"
    first = run_batch(station, scenes, db=db, workers=1)
    assert (first.ok, first.failed) == (3, 1)
    (row,) = [r for r in read_counts(db) if r["scene"] == str(link)]
    assert row["status"] == "failed"
    assert row["reason"].startswith(f"{link}: a link to {target}, which is not there"), row["reason"]
    target.parent.mkdir()
    plain_tif(target, 4)
    second = run_batch(station, scenes, db=db, workers=1)
    assert (second.ok, second.failed, second.processed) == (4, 0, 1)
    assert [r["status"] for r in read_counts(db) if r["scene"] == str(link)] == ["ok"]


def test_an_in_process_batch_gives_back_the_callers_thread_settings(
    tmp_path: Path, scenes: Path, station: Path, monkeypatch
) -> None:
    import os

    import cv2

    before = cv2.getNumThreads()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("GDAL_NUM_THREADS", raising=False)
    cv2.setNumThreads(3)
    try:
        summary = run_batch(station, scenes, db=tmp_path / "r.db", workers=1)
        assert summary.ok == 3
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)
    assert os.environ["OMP_NUM_THREADS"] == "3" and "GDAL_NUM_THREADS" not in os.environ


def test_a_single_vrt_source_is_one_scene(tmp_path: Path, scenes: Path, station: Path) -> None:
    from rasterio.shutil import copy as copy_raster

    vrt = tmp_path / "yard_2021-05-01.vrt"  # XML: must not be read as a list of paths
    copy_raster(scenes / "a_2021-05-01.tif", vrt, driver="VRT")
    summary = run_batch(station, vrt, db=tmp_path / "r.db", workers=1)
    assert (summary.ok, summary.failed, summary.processed) == (1, 0, 1)
    assert [r["scene"] for r in read_counts(tmp_path / "r.db")] == [str(vrt)]


def test_scenes_with_no_time_of_day_are_said_once_not_per_scene(
    tmp_path: Path, scenes: Path, station: Path, capsys
) -> None:
    """Two worker processes, stderr as a user's: each such scene's log line says so, one warning line sums
    it up (no worker's raw Python warning), and --json counts them (the store's acquisition times)."""
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("railcount"))
    db = tmp_path / "r.db"
    args = [
        exe,
        "batch",
        "--station",
        str(station),
        "--scenes",
        str(scenes),
        "--db",
        str(db),
        "--workers",
        "2",
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    assert all(line.startswith("railcount: ") for line in err), err  # nothing like "workers.py:120: ..."
    dated_by_name = [line for line in err if "(no time of day: sun assumed)" in line]
    assert sorted(line.split(": ")[1].split("]")[1].strip() for line in dated_by_name) == [
        "a_2021-05-01.tif",
        "b_2022-02-03.tif",
    ]  # c.tif has its time in its tags
    summary = [line for line in err if line.startswith("railcount: warning: ")]
    assert len(summary) == 1 and "2 of the 3 counts were made with no time of day" in summary[0]
    assert "acquisition times" in summary[0]
    again = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=300, check=False)
    rec = json.loads(again.stdout)
    assert (rec["ok"], rec["time_unknown"], rec["processed"]) == (3, 2, 0)
    assert "warning" not in again.stderr  # --json: the count is in the object
    # The export says which, and a history read back from it keeps it (for the report's caveats).
    assert main(["export", "--db", str(db), "--format", "csv"]) == 0
    exported = tmp_path / "counts.csv"
    exported.write_text(capsys.readouterr().out)
    with exported.open() as f:
        table = {Path(r["scene"]).name: r["time_of_day"] for r in csv.DictReader(f)}
    assert table == {"a_2021-05-01.tif": "assumed", "b_2022-02-03.tif": "assumed", "c.tif": "given"}
    from railcount.io.history import read_history_csv

    assert [o.time_unknown for o in read_history_csv(exported, "Inner")] == [True, True, False]
    # Listed with their times, none is.
    listing = scenes / "timed.txt"
    listing.write_text(
        "a_2021-05-01.tif 2021-05-01T01:30Z\n2022/b_2022-02-03.tif 2022-02-03T01:40Z\n2022/c.tif\n"
    )
    timed = run_batch(station, listing, db=tmp_path / "timed.db", workers=1)
    assert (timed.ok, timed.time_unknown) == (3, 0)


def test_a_long_plan_says_how_far_it_has_got(tmp_path: Path, scenes: Path, station: Path) -> None:
    from railcount.batch import plan_batch
    from railcount.io.sources import list_scenes

    sources = list_scenes(scenes)
    stations = read_stations(station)
    with open_store(tmp_path / "r.db") as store:
        lines: list[str] = []
        plan_batch(sources, stations, store, log=lines.append, log_every_s=0.0)
        # With no interval, a line before each scene, counting up; none for a plan quicker than the interval.
        assert [line.split(" of ")[0] for line in lines] == [f"planning: {n}" for n in range(len(sources))]
        assert f"of {len(sources)} scenes looked at" in lines[-1]
        quiet: list[str] = []
        plan_batch(sources, stations, store, log=quiet.append)
        assert quiet == []


def test_a_compact_date_in_a_name_dates_the_scene(tmp_path: Path, station: Path) -> None:
    # A date written YYYYMMDD and standing alone in a name dates the scene, where before session 63 it
    # was skipped; the time beside it is not taken (it could be local), unless the name is Planet's,
    # whose times are UTC (20211105_031502_ssc2_u0001_visual.tif; detector 0.6.23). A run of more
    # digits (an order number) is no date.
    folder = tmp_path / "scenes"
    folder.mkdir()
    plain_tif(folder / "20211105_031502_ssc2_u0001_visual.tif", 11)
    plain_tif(folder / "yard_20211106_031502.tif", 13)
    plain_tif(folder / "order_058012345010.tif", 12)
    summary = run_batch(station, folder, db=tmp_path / "r.db", workers=1)
    assert (summary.ok, summary.skipped, summary.time_unknown) == (2, 1, 1)
    rows = {Path(r["scene"]).name: r for r in read_counts(tmp_path / "r.db")}
    assert rows["20211105_031502_ssc2_u0001_visual.tif"]["acquired"] == "2021-11-05T03:15:02+00:00"
    assert rows["yard_20211106_031502.tif"]["acquired"] == "2021-11-06T00:00:00+00:00"
    assert rows["order_058012345010.tif"]["status"] == "skipped"
    assert "YYYYMMDD" in rows["order_058012345010.tif"]["reason"]


def test_macos_finder_files_are_not_scenes(tmp_path: Path, scenes: Path, station: Path) -> None:
    # A folder copied from a Mac onto a FAT or exFAT drive holds a "._NAME" file beside each file.
    for tif in list(scenes.rglob("*.tif")):
        (tif.parent / f"._{tif.name}").write_bytes(b"\x00\x05\x16\x07" + bytes(4092))
    summary = run_batch(station, scenes, db=tmp_path / "r.db", workers=1)
    assert (summary.ok, summary.failed) == (3, 0)  # before: three more scenes, all failed


def test_bands_for_a_four_band_archive_are_kept_and_a_change_counts_again(
    tmp_path: Path, station: Path
) -> None:
    """``--bands`` reads every scene's bands as given and keeps them with each count; a batch run
    again with other bands (the band order put right after the warning) counts the stored scenes
    again and says so, and once more counts nothing; the report's evidence pack draws a stored count
    from the bands it was read from."""
    from railcount.errors import BandOrderWarning
    from railcount.reporting import build_report

    folder = tmp_path / "scenes"
    folder.mkdir()
    for seed, day in ((1, "2021-05-01"), (2, "2022-02-03")):
        rng = np.random.default_rng(seed)
        bgr = np.clip(120 + rng.normal(0, 6, (160, 240, 3)), 0, 255)
        write_tif(folder / f"bgrn_{day}.tif", np.dstack([bgr, bgr[:, :, 1:2]]).astype(np.uint16) * 8)
    db = tmp_path / "r.db"

    def stored_bands() -> dict[str, list[int] | None]:
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT scene, record FROM counts").fetchall()
        c.close()
        return {Path(s).name: json.loads(r).get("bands") for s, r in rows}

    # Said once for the batch, not once per scene; the first scene's own line is quoted.
    said: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)
        first = run_batch(station, folder, db=db, workers=1, log=said.append)
    guessed = [line for line in said if "name none of their bands" in line]
    assert len(guessed) == 1 and guessed[0].startswith("warning: 2 scenes counted in this run"), said
    assert "bgrn_2021-05-01.tif: its 4 bands carry no colour names" in guessed[0]
    assert (first.ok, first.processed) == (2, 2)
    assert stored_bands() == {"bgrn_2021-05-01.tif": [1, 2, 3], "bgrn_2022-02-03.tif": [1, 2, 3]}
    notes: list[str] = []
    again = run_batch(station, folder, db=db, workers=1, bands=(3, 2, 1), log=notes.append)
    assert (again.ok, again.processed) == (2, 2)
    assert any("2 stored counts were read from other bands than --bands 3,2,1" in n for n in notes), notes
    assert all(b == [3, 2, 1] for b in stored_bands().values())
    assert not any("name none of their bands" in n for n in notes)
    assert run_batch(station, folder, db=db, workers=1, bands=(3, 2, 1)).processed == 0
    assert {tuple(r["bands"]) for r in read_counts(db)} == {(3, 2, 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)  # read from its stored bands: no guess, no warning
        rep = build_report(
            "Inner",
            db=db,
            day=date(2022, 2, 3),
            station_file=station,
            evidence_dir=tmp_path / "report",
            min_observed=0.0,
        )
    assert rep is not None
    judged = json.loads((tmp_path / "report" / "judged" / "count.json").read_text())
    assert judged["bands"] == [3, 2, 1]
