"""railcount batch from STAC catalogs (file and HTTP), scenes by URL, kill -9, a Dask cluster, export."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from rasterio.transform import from_origin

from railcount.batch import run_batch
from railcount.cli import main
from railcount.io.stations import read_stations
from railcount.store import read_counts

from ..geofixtures import (
    ORIGIN,
    SAMPLE_SCENE,
    SAMPLE_STATION,
    box_ring,
    plain_tif,
    split_scene,
    stac_item,
    tile_items,
    write_station,
    write_tif,
)
from ..rangeserver import held_server

RAILCOUNT = str(Path(sys.executable).with_name("railcount"))


class _DaskCluster:
    """A real Dask scheduler on 127.0.0.1 (no dashboard, no fixed port: the tests may run beside
    others), and the workers a test starts on it; every process is stopped on leaving."""

    def __init__(self, folder: Path) -> None:
        self.dask = str(Path(sys.executable).with_name("dask"))
        self.env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        self.folder = folder
        sched_file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self._start("scheduler", "--port", "0", "--scheduler-file", str(sched_file))
        try:
            deadline = time.monotonic() + 60
            while not sched_file.exists() or not sched_file.read_text().strip():
                assert time.monotonic() < deadline and self.procs[0].poll() is None, (
                    "dask scheduler did not start"
                )
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        self.address = json.loads(sched_file.read_text())["address"]

    def start_worker(self, *options: str) -> None:
        self._start("worker", self.address, "--nthreads", "1", *options)

    def _start(self, *args: str) -> None:
        self.procs.append(
            subprocess.Popen(
                [self.dask, *args, "--host", "127.0.0.1", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=self.env,
                cwd=self.folder,
            )
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _footprint(shift_m: float = 0.0) -> list:
    x0, y0 = ORIGIN
    return box_ring(x0 + shift_m, y0 - 80, x0 + shift_m + 120, y0)


def test_stac_item_collection_selects_by_date_and_footprint(tmp_path: Path, station: Path) -> None:
    folder = tmp_path / "stac"
    folder.mkdir()
    plain_tif(folder / "a_2021-05-01.tif", 1)
    plain_tif(folder / "b.tif", 2)
    items = [
        # STAC's date wins over the one in the name
        stac_item("a", "2022-06-01T10:30:00Z", _footprint(), "a_2021-05-01.tif"),
        stac_item("b", "2023-01-02T00:00:00Z", _footprint(), str(folder / "b.tif")),
        stac_item("old", "2019-01-01T00:00:00Z", _footprint(), "never_opened_1.tif"),
        stac_item("far", "2022-07-01T00:00:00Z", _footprint(50_000), "never_opened_2.tif"),
    ]
    collection = folder / "items.json"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    db = tmp_path / "r.db"
    summary = run_batch(station, collection, db=db, workers=1, start=date(2020, 1, 1))
    assert (summary.ok, summary.failed, summary.skipped) == (2, 0, 0)
    rows = read_counts(db)
    assert [r["acquired"] for r in rows] == ["2022-06-01T10:30:00+00:00", "2023-01-02T00:00:00+00:00"]
    assert [Path(r["scene"]).name for r in rows] == ["a_2021-05-01.tif", "b.tif"]
    # The count itself was made at STAC's time (the sun placed for it), not at the name's date.
    with sqlite3.connect(db) as c:
        stored = [
            json.loads(r)["acquired"] for (r,) in c.execute("SELECT record FROM counts ORDER BY acquired")
        ]
    c.close()
    assert stored == ["2022-06-01T10:30:00+00:00", "2023-01-02T00:00:00+00:00"]
    assert [r["acquired_from"] for r in rows] == ["stac_item", "stac_item"]  # where the time came from


def test_stac_catalog_and_scenes_over_http(
    tmp_path: Path, station: Path, http_root: tuple[Path, str]
) -> None:
    root, url = http_root
    (root / "items").mkdir()
    plain_tif(root / "a_2021-05-01.tif", 1)
    plain_tif(root / "b_2021-06-01.tif", 2)
    catalog = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "yard",
        "description": "test catalog",
        "links": [
            {"rel": "root", "href": "./catalog.json", "type": "application/json"},
            {"rel": "item", "href": "./items/a.json", "type": "application/json"},
            {"rel": "item", "href": "./items/b.json", "type": "application/json"},
        ],
    }
    parent = [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}]
    (root / "catalog.json").write_text(json.dumps(catalog))
    for name, when in (("a", "2021-05-01T00:00:00Z"), ("b", "2021-06-01T00:00:00Z")):
        item = stac_item(name, when, _footprint(), f"../{name}_{when[:10]}.tif", parent)
        (root / "items" / f"{name}.json").write_text(json.dumps(item))
    db = tmp_path / "r.db"
    summary = run_batch(station, f"{url}/catalog.json", db=db, workers=1)
    assert (summary.ok, summary.failed) == (2, 0)
    rows = read_counts(db)
    assert [r["scene"] for r in rows] == [f"{url}/a_2021-05-01.tif", f"{url}/b_2021-06-01.tif"]
    # The same scenes by URL in a list file are the same (station, scene) pairs: nothing new to count.
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{url}/a_2021-05-01.tif\n{url}/b_2021-06-01.tif\n")
    again = run_batch(station, listing, db=db, workers=1)
    assert (again.ok, again.processed) == (2, 0)


def test_stac_tiles_of_one_acquisition_over_http_are_one_scene(
    tmp_path: Path, http_root: tuple[Path, str]
) -> None:
    # Analysis-ready deliveries are grids of tiles, each a STAC item at the acquisition's instant:
    # the sample cut in two, one item per tile, the station across their edge.
    from railcount.pipeline import count_scene

    root, url = http_root
    tiles = split_scene(SAMPLE_SCENE, root / "tiles", 2, names="tile_{}")
    items = tile_items(tiles, "2023-10-05T01:48:52Z", lambda tile: f"{url}/tiles/{tile.name}")
    (root / "items.json").write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    db = tmp_path / "r.db"
    summary = run_batch(SAMPLE_STATION, f"{url}/items.json", db=db, workers=2)
    assert (summary.ok, summary.failed, summary.processed) == (1, 0, 1)
    (row,) = read_counts(db)
    assert row["tiles"] == [f"{url}/tiles/{t.name}" for t in tiles]
    whole = count_scene(SAMPLE_SCENE, read_stations(SAMPLE_STATION))[0].result.railcars
    assert row["railcars"] == whole and row["observed_fraction"] == pytest.approx(1.0)


def test_kill_9_loses_only_scenes_in_flight_and_rerun_completes(tmp_path: Path, station: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    x0, y0 = ORIGIN

    big = write_station(tmp_path / "big.geojson", {"Inner": box_ring(x0 + 10, y0 - 190, x0 + 290, y0 - 10)})

    n = 8
    for i in range(n):
        rng = np.random.default_rng(i)
        pix = np.clip(120 + rng.normal(0, 6, (400, 600, 3)), 0, 255).astype(np.uint8)
        write_tif(folder / f"s_2022-01-{i + 1:02d}.tif", pix, transform=from_origin(x0, y0, 0.5, 0.5))
    db = tmp_path / "r.db"
    cmd = [RAILCOUNT, "batch", "--station", str(big), "--scenes", str(folder), "--db", str(db), "-w", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=1) as c:
                done = c.execute("SELECT count(*) FROM counts WHERE status = 'ok'").fetchone()[0]
            c.close()
        except sqlite3.Error:
            done = 0
        if done >= 1:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        before = dict(c.execute("SELECT scene, written FROM counts").fetchall())
    c.close()
    assert 1 <= len(before) < n
    rerun = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["ok"] == n and summary["processed"] == n - len(before)
    with sqlite3.connect(db) as c:
        after = dict(c.execute("SELECT scene, written FROM counts").fetchall())
        assert c.execute("SELECT count(*) FROM counts").fetchone() == (n,)
    c.close()
    assert {s: after[s] for s in before} == before  # kept, not recounted


@pytest.mark.slow
def test_dask_cluster_stores_what_local_workers_store(tmp_path: Path, scenes: Path, station: Path) -> None:
    pytest.importorskip("distributed")
    cluster = _DaskCluster(tmp_path)
    try:
        address = cluster.address
        cluster.start_worker("--nworkers", "2")
        (scenes / "broken_2022-05-05.tif").write_text("not a raster")  # refused when listed
        blank = np.zeros((160, 240, 3), dtype=np.uint8)
        write_tif(scenes / "blank_2022-04-04.tif", blank, nodata=0)  # fails on a worker
        # A scene delivered in two tiles (the station on their edge): a worker reads them as one.
        whole = plain_tif(tmp_path / "whole.tif", 4, {"TIFFTAG_DATETIME": "2022:09:09 03:04:05"})
        split_scene(whole, scenes / "order", 2)
        on_cluster = run_batch(station, scenes, db=tmp_path / "dask.db", scheduler=address)
        local = run_batch(station, scenes, db=tmp_path / "local.db", workers=1)
        assert (on_cluster.ok, on_cluster.failed) == (4, 2) == (local.ok, local.failed)
        rows = read_counts(tmp_path / "dask.db")
        assert rows == read_counts(tmp_path / "local.db")
        assert [len(r["tiles"] or ()) for r in rows if r["acquired"].startswith("2022-09-09")] == [2]
    finally:
        cluster.stop()


@pytest.mark.slow
def test_unreachable_scheduler_is_a_usage_error(tmp_path: Path, scenes: Path, station: Path, capsys) -> None:
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(tmp_path / "r.db")]
    code = main([*args, "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "cannot reach the Dask scheduler" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("greeting", "says"),
    [(None, "did not greet as a Dask scheduler does"), (b"SSH-2.0-OpenSSH_9.6\r\n", "it began 'SSH-2.0-'")],
)
def test_a_scheduler_address_where_something_else_listens_is_one_line(
    tmp_path: Path, scenes: Path, station: Path, capsys, monkeypatch, greeting, says
) -> None:
    """A real server on 127.0.0.1 that is not Dask's: a silent one (a web server, the dashboard's port)
    held the batch for ever; one greeting in text (SSH) crashed Dask's connect with 'Unable to
    allocate 2.82 EiB'."""
    pytest.importorskip("distributed")
    import railcount.workers as workers

    monkeypatch.setattr(workers, "DASK_GREETING_S", 1.0)
    args = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(tmp_path / "r.db")]
    with held_server(greeting) as port:
        code = main([*args, "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1, err


def test_export_csv_parquet_geojson(tmp_path: Path, capsys) -> None:
    import shutil

    root = Path(__file__).resolve().parents[2] / "sample_tiles"
    folder = tmp_path / "s"
    folder.mkdir()
    for name in ("tumangang_2021-03-18.tif", "tumangang_2019-06-12.tif"):
        shutil.copy(root / name, folder / name)
    (folder / "broken_2020-01-01.tif").write_text("not a raster")
    db = tmp_path / "r.db"
    run_batch(root / "tumangang_station.geojson", folder, db=db, workers=1)
    rows = read_counts(db)

    assert main(["export", "--db", str(db), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["acquired"][:10] for r in table] == ["2019-06-12", "2020-01-01", "2021-03-18"]
    assert [r["status"] for r in table] == ["ok", "failed", "ok"]
    stored = [r["railcars"] for r in rows if r["railcars"] is not None]
    assert [int(r["railcars"]) for r in table if r["railcars"]] == stored
    assert table[1]["railcars"] == "" and "cannot open" in table[1]["reason"]
    # Whether the scene was generated (the samples were made by railcount synth); not known of a failed
    # one. (Their counts come with no caution: the demo's test checks the cautions column.)
    assert [r["synthetic"] for r in table] == ["True", "", "True"]
    assert [r["cautions"] for r in table] == ["", "", ""]

    import pyarrow.parquet as pq

    out = tmp_path / "counts.parquet"
    assert main(["export", "--db", str(db), "--format", "parquet", "--output", str(out)]) == 0
    pt = pq.read_table(out)
    required = {"station", "scene", "acquired", "status", "railcars", "railcars_low", "railcars_high"}
    required |= {"locomotives", "observed_fraction", "gsd_m", "detector_version"}
    assert required <= set(pt.column_names)
    assert pt.column("railcars").to_pylist() == [r["railcars"] for r in rows]
    assert pt.schema.field("acquired").type.tz == "UTC"
    assert [t.isoformat() for t in pt.column("acquired").to_pylist()] == [r["acquired"] for r in rows]
    assert pt.column("synthetic").to_pylist() == [r["synthetic"] for r in rows] == [True, None, True]
    # The Parquet file is a history for railcount report as the CSV is (it was refused as undecodable).
    csv_file = tmp_path / "counts.csv"
    assert main(["export", "--db", str(db), "--format", "csv", "--output", str(csv_file)]) == 0
    judged = []
    for history in (out, csv_file):
        args = ["report", "--station", "Tumangang", "--history", str(history), "--date", "2021-03-18"]
        assert main([*args, "--json"]) == 0
        judged.append({k: v for k, v in json.loads(capsys.readouterr().out).items() if k != "source"})
    assert judged[0] == judged[1]
    assert judged[0]["railcars"] == int(table[2]["railcars"])

    import pyogrio

    gj = tmp_path / "new" / "folder" / "dets.geojson"  # its folder made, as --db's and --out's are
    args = ["export", "--db", str(db), "--station", "Tumangang", "--format", "geojson", "-o", str(gj)]
    assert main(args) == 0
    info = pyogrio.read_info(gj)
    assert info["features"] == sum(len(r["detections"]["features"]) for r in rows if r["detections"])
    assert info["features"] > 0 and info["geometry_type"] == "Polygon"
    assert {"station", "scene", "date", "type"} <= set(info["fields"])
    # Each count's car numbers repeat across counts: as "id" GDAL took them for feature ids.
    assert "car" in set(info["fields"]) and "id" not in set(info["fields"])
    assert main(["export", "--db", str(db), "--format", "parquet"]) == 2
    assert "--output" in capsys.readouterr().err
    assert main(["export", "--db", str(db), "--station", "Tumangan", "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "'Tumangan'" in captured.err and "'Tumangang'" in captured.err


def test_progress_bar_on_a_terminal_log_lines_otherwise(tmp_path: Path, scenes: Path, station: Path) -> None:
    import pty

    cmd = [
        RAILCOUNT,
        "batch",
        "--station",
        str(station),
        "--scenes",
        str(scenes),
        "--db",
        str(tmp_path / "r.db"),
    ]
    (scenes / "broken_2022-01-01.tif").write_text("not a raster")  # fails at listing: a note
    blank = np.zeros((160, 240, 3), dtype=np.uint8)
    write_tif(scenes / "blank_2022-04-04.tif", blank, nodata=0)  # fails at counting: shown above the bar
    master, slave = pty.openpty()
    with subprocess.Popen([*cmd, "-w", "1"], stdout=subprocess.PIPE, stderr=slave) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            chunks.append(data)
        out, _ = proc.communicate(timeout=120)
    os.close(master)
    tty = b"".join(chunks).decode()
    assert proc.returncode == 3
    assert "\r[" in tty and "4/4 done, 1 failed, 0 left" in tty and "scenes/min" in tty and "ETA" in tty
    assert "broken_2022-01-01.tif: failed for Inner" in tty
    note = next(line for line in tty.splitlines() if "failed for Inner" in line)
    assert note.count("broken_2022-01-01.tif: ") == 1, note  # the reason does not repeat the scene
    assert "blank_2022-04-04.tif: Inner FAILED:" in tty
    assert "a_2021-05-01.tif: Inner" not in tty  # no log lines for counted scenes on a terminal
    # c.tif (9 July, 03:04 UTC: the sun 69.6 degrees up) throws a 4 m car's shadow 2.98 px at 0.5 m.
    summary = "batch: 3 ok (1 with a warning: see export's warnings column), 2 failed, 0 skipped"
    assert out.decode().startswith(summary)
    piped = subprocess.run([*cmd, "-w", "1", "--force"], capture_output=True, text=True, timeout=120)
    assert "\r" not in piped.stderr
    assert [line.split("]")[0] for line in piped.stderr.splitlines() if "] " in line] == [
        f"railcount: [{i}/4" for i in range(1, 5)
    ]


def _pool_workers(pid: int) -> list[int]:
    """Process ids of the pool workers of process ``pid``: spawned ones, or forked copies of it (not
    its resource tracker)."""
    out = []
    parent = Path(f"/proc/{pid}/cmdline").read_bytes()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"spawn_main" in cmdline or cmdline == parent:
            out.append(int(child))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def _six_scenes(tmp_path: Path, seed: int, month: int) -> tuple[Path, Path]:
    """A folder of six distinct 600 x 900 px noisy scenes (a second or so each to count) and a
    station over most of them, for the tests that kill a batch or its workers."""
    folder = tmp_path / "many"
    folder.mkdir()
    x0, y0 = ORIGIN
    big = write_station(tmp_path / "big.geojson", {"Inner": box_ring(x0 + 10, y0 - 290, x0 + 440, y0 - 10)})
    for i in range(6):
        rng = np.random.default_rng(seed + i)
        pix = np.clip(120 + rng.normal(0, 6, (600, 900, 3)), 0, 255).astype(np.uint8)
        name = f"s_2022-{month:02d}-{i + 1:02d}.tif"
        write_tif(folder / name, pix, transform=from_origin(x0, y0, 0.5, 0.5))
    return folder, big


def test_a_killed_worker_costs_a_new_pool_not_the_batch(tmp_path: Path) -> None:
    folder, big = _six_scenes(tmp_path, 100, 2)
    n = 6
    db = tmp_path / "r.db"
    cmd = [RAILCOUNT, "batch", "--station", str(big), "--scenes", str(folder), "--db", str(db), "-w", "2"]
    proc = subprocess.Popen([*cmd, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=1) as c:
                done = c.execute("SELECT count(*) FROM counts").fetchone()[0]
            c.close()
        except sqlite3.Error:
            done = 0
        workers = _pool_workers(proc.pid) if done else []
        if workers and done < n:
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.01)
    out, err = proc.communicate(timeout=300)
    assert killed is not None, "the batch finished before a worker could be killed"
    assert proc.returncode == 0, err
    assert "a worker process died" in err
    summary = json.loads(out)
    assert (summary["ok"], summary["failed"], summary["processed"]) == (n, 0, n)
    assert [r["status"] for r in read_counts(db)] == ["ok"] * n


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_workers_die_with_a_batch_killed_with_kill_9(tmp_path: Path) -> None:
    """A worker left behind would wait for its next scene for ever, holding its memory."""
    folder, big = _six_scenes(tmp_path, 200, 3)
    cmd = [RAILCOUNT, "batch", "--station", str(big), "--scenes", str(folder), "--db", str(tmp_path / "r.db")]
    proc = subprocess.Popen([*cmd, "-w", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers = _pool_workers(proc.pid)
        time.sleep(0.01)
    assert len(workers) == 2, "the batch ended before its two workers could be seen"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "workers outlived the batch"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_export_of_an_empty_store_says_why_it_is_empty(tmp_path: Path, capsys) -> None:
    from railcount.store import open_store

    db = tmp_path / "empty.db"
    with open_store(db):
        pass
    assert main(["export", "--db", str(db), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("station,scene,acquired,status") and len(out.strip().splitlines()) == 1
    assert "holds no counts yet; run railcount batch first" in err


def test_a_dask_cluster_without_workers_is_said_and_a_worker_arriving_finishes_it(
    tmp_path: Path, scenes: Path, station: Path, monkeypatch
) -> None:
    """With no worker on the cluster the batch waited in silence (a helper killed it at 180 s). Now
    it says so, once, and goes on when a worker arrives. A real scheduler on 127.0.0.1, with its
    worker started only after the batch has said it waits."""
    pytest.importorskip("distributed")
    import threading
    import warnings

    import railcount.workers as workers
    from railcount.errors import DaskIdleWarning

    monkeypatch.setattr(workers, "DASK_WATCH_S", 0.5)
    monkeypatch.setattr(workers, "DASK_NO_WORKERS_S", 1.0)
    cluster = _DaskCluster(tmp_path)
    said = threading.Event()
    try:
        address = cluster.address

        def start_worker_once_said() -> None:
            said.wait(timeout=60)
            cluster.start_worker()

        threading.Thread(target=start_worker_once_said, daemon=True).start()
        shown = warnings.showwarning

        def show(message, category, *args, **kwargs):  # the batch's thread is this one
            if issubclass(category, DaskIdleWarning):
                said.set()
            else:
                shown(message, category, *args, **kwargs)

        with warnings.catch_warnings():
            warnings.simplefilter("always", DaskIdleWarning)
            monkeypatch.setattr(warnings, "showwarning", show)
            summary = run_batch(station, scenes, db=tmp_path / "dask.db", scheduler=address)
        assert said.is_set() and summary.ok > 0 and summary.failed == 0
    finally:
        cluster.stop()
