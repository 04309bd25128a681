"""A one-off count's second process (railcount.runtime.shared_map and aside): the same results in
the same order, work really shared, and nothing lost when the helper fails, dies or is not allowed;
and a batch's forked workers (railcount.workers.start_method), used only where forking is safe."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from railcount import runtime
from railcount.cli import main

from .geofixtures import write_synth


@pytest.fixture
def allowed():
    """Whether this machine lets a helper run (Linux, two cores or more); off again afterwards."""
    # No helper is forked while other threads run (conftest.py runs this file first for that).
    assert threading.active_count() == 1, [t.name for t in threading.enumerate()]
    with runtime.helper_allowed(True) as ok:
        yield ok


def _slow(i: int) -> tuple[int, int]:
    time.sleep(0.03)
    return i * i, os.getpid()


def test_shared_map_gives_every_result_in_order_and_shares_the_work(allowed):
    out = runtime.shared_map(_slow, 12)
    assert [v for v, _ in out] == [i * i for i in range(12)]
    pids = {p for _, p in out}
    assert os.getpid() in pids
    assert len(pids) == (2 if allowed else 1)


def test_without_the_setting_everything_is_done_here():
    with runtime.helper_allowed(False):
        out = runtime.shared_map(_slow, 6)
    assert [v for v, _ in out] == [i * i for i in range(6)]
    assert {p for _, p in out} == {os.getpid()}


def test_a_helper_that_fails_or_dies_loses_nothing(allowed):
    here = os.getpid()

    def fails_there(i: int) -> tuple[int, int]:
        if os.getpid() != here:
            raise RuntimeError("only in the helper")
        return _slow(i)

    def dies_there(i: int) -> tuple[int, int]:
        if os.getpid() != here and i > 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return _slow(i)

    for work in (fails_there, dies_there):
        out = runtime.shared_map(work, 10)
        assert [v for v, _ in out] == [i * i for i in range(10)]
    # A helper killed part-way hands back nothing: this process computed it all.
    assert {p for _, p in out} == {os.getpid()}


def test_an_error_here_propagates_and_the_helper_is_reaped(allowed):
    here = os.getpid()

    def fails_here(i: int) -> int:
        time.sleep(0.02)
        if os.getpid() == here and i >= 3:
            raise ValueError("in this process")
        return i

    forks = runtime._forks
    with pytest.raises(ValueError, match="in this process"):
        runtime.shared_map(fails_here, 40)
    assert runtime._forks == forks + allowed
    if allowed:
        with pytest.raises(ChildProcessError):
            os.waitpid(runtime._last_pid, os.WNOHANG)  # the helper was waited for, not left behind
        # ... and stopped, not left to finish work nobody will read.
        assert os.WIFSIGNALED(runtime._last_status)
        assert os.WTERMSIG(runtime._last_status) == signal.SIGKILL


def test_no_helper_while_other_threads_run(allowed):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        out = runtime.shared_map(_slow, 6)
        beside = runtime.aside(os.getpid).result()
    finally:
        stop.set()
        other.join()
    assert {p for _, p in out} == {os.getpid()} and beside == os.getpid()


def test_an_aside_nobody_will_read_is_stopped(allowed):
    forks = runtime._forks
    beside = runtime.aside(lambda: time.sleep(30))
    beside.cancel()
    assert runtime._forks == forks + allowed
    if allowed:
        assert os.WIFSIGNALED(runtime._last_status)
        with pytest.raises(ChildProcessError):
            os.waitpid(runtime._last_pid, os.WNOHANG)
    beside.cancel()  # (again: nothing happens)


def test_an_aside_leaves_as_soon_as_its_value_is_made(allowed):
    """Its copy does not wait, holding its memory, for this process to ask for the value."""
    big = np.arange(3_000_000)
    beside = runtime.aside(lambda: big[::-1].copy())
    if allowed:
        state = ""
        for _ in range(500):  # (up to 5 s) until the copy has ended: a zombie until it is waited for
            stat = Path(f"/proc/{runtime._last_pid}/stat").read_text()
            state = stat.rsplit(")", 1)[1].split()[0]
            if state == "Z":
                break
            time.sleep(0.01)
        assert state == "Z"
    np.testing.assert_array_equal(beside.result(), big[::-1])


def test_aside_computes_in_a_copy_and_falls_back_here(allowed):
    here = os.getpid()
    assert (runtime.aside(os.getpid).result() != here) is allowed

    def only_here() -> int:
        if os.getpid() != here:
            os._exit(3)
        return 7

    assert runtime.aside(only_here).result() == 7
    array = np.arange(1_000_000).reshape(1000, 1000)
    np.testing.assert_array_equal(runtime.aside(lambda: array * 2).result(), array * 2)


def test_count_with_two_processes_is_the_count_with_one(tmp_path, allowed):
    paths, station = write_synth(tmp_path, date="2022-04-11", cars=40, gsd_m=0.3, seed=131)
    records, forks = [], []
    for workers in ("1", "2"):
        before = runtime._forks
        out = tmp_path / f"out{workers}"
        argv = ["count", str(paths["tif"]), "--station", str(station), "--out", str(out)]
        argv += ["--workers", workers]
        assert main(argv) == 0
        forks.append(runtime._forks - before)
        records.append(
            (
                json.loads((out / "count.json").read_text()),
                (out / "detections.geojson").read_bytes(),
                (out / "overlay.png").read_bytes(),
            )
        )
    assert records[0] == records[1]
    # One process, then a helper beside the detector and one sharing its track frames (where this
    # machine allows them).
    assert forks == [0, 2 if allowed else 0]
    assert records[0][0]["railcars"] > 10
    assert runtime._helper == allowed  # the command put the setting back as the fixture had it


def test_evaluate_with_two_processes_is_the_evaluation_with_one(tmp_path, allowed):
    paths, station = write_synth(tmp_path, date="2020-09-03", cars=25, gsd_m=0.5, seed=57)
    printed, forks = [], []
    for workers in ("1", "2"):
        before = runtime._forks
        argv = ["evaluate", str(paths["tif"]), "--station", str(station)]
        argv += ["--truth", str(paths["truth_geojson"]), "--json", "--workers", workers]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(argv) == 0
        printed.append(json.loads(out.getvalue()))
        forks.append(runtime._forks - before)
    assert printed[0] == printed[1] and printed[0]["truth"] > 10
    assert forks == [0, 2 if allowed else 0]


def test_opencv_keeps_to_one_thread_while_a_helper_may_be_forked():
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        with runtime.helper_allowed(True) as ok:
            assert cv2.getNumThreads() == (1 if ok else 2)
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


def test_a_count_started_without_standard_output_still_counts(tmp_path):
    """A process started with its standard output closed has none to flush before forking."""
    paths, station = write_synth(tmp_path, date="2021-06-30", cars=15, gsd_m=0.5, seed=5)
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from railcount.cli import main; main()", "count", str(paths["tif"])]
    command += ["--station", str(station), "--out", str(out)]
    done = subprocess.run(command, preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((out / "count.json").read_text())["railcars"] > 5


def test_no_temporary_file_means_no_helper_and_the_same_results(allowed, monkeypatch, tmp_path):
    """Where no temporary file can be made (a read-only or missing temporary directory), everything
    is computed here."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    forks = runtime._forks
    out = runtime.shared_map(_slow, 5)
    assert [v for v, _ in out] == [i * i for i in range(5)] and {p for _, p in out} == {os.getpid()}
    assert runtime.aside(os.getpid).result() == os.getpid()
    assert runtime._forks == forks


def test_a_batch_of_one_scene_with_two_workers_counts_it_as_count_does(tmp_path, allowed):
    """One scene and two workers allowed: counted in the batch's own process with a helper (a daily
    rerun that finds one new scene uses both cores), and stored as with one worker."""
    from railcount.batch import run_batch
    from railcount.store import read_counts

    paths, station = write_synth(tmp_path, date="2022-10-20", cars=30, gsd_m=0.5, seed=91)
    folder = tmp_path / "scenes"
    folder.mkdir()
    paths["tif"].rename(folder / paths["tif"].name)
    forks = []
    for workers in (1, 2):
        before = runtime._forks
        done = run_batch(station, folder, db=tmp_path / f"w{workers}.db", workers=workers)
        assert done.ok == 1
        forks.append(runtime._forks - before)
    assert read_counts(tmp_path / "w1.db") == read_counts(tmp_path / "w2.db")
    assert forks == [0, 2 if allowed else 0]


def test_a_batch_forks_its_workers_only_when_safe_and_stores_the_same(tmp_path: Path) -> None:
    """Two workers forked, two spawned (another thread runs) and one in this process: the same records."""
    from railcount import workers
    from railcount.batch import run_batch
    from railcount.store import read_counts

    assert threading.active_count() == 1, [t.name for t in threading.enumerate()]
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for k, (date, seed) in enumerate((("2021-05-02", 3), ("2022-08-19", 8), ("2023-01-27", 21))):
        paths, station = write_synth(tmp_path / f"g{k}", date=date, cars=20, gsd_m=0.75, seed=seed)
        paths["tif"].rename(scenes / paths["tif"].name)
    runs = {}
    one = run_batch(station, scenes, db=tmp_path / "one.db", workers=1)
    forked = run_batch(station, scenes, db=tmp_path / "fork.db", workers=2)
    runs["fork"] = workers._last_start
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="another thread")
    other.start()
    try:
        spawned = run_batch(station, scenes, db=tmp_path / "spawn.db", workers=2)
        runs["spawn"] = workers._last_start
    finally:
        stop.set()
        other.join()
    linux = sys.platform.startswith("linux") and sys.version_info >= (3, 11)
    assert runs == {"fork": "fork" if linux else "spawn", "spawn": "spawn"}
    assert (one.ok, forked.ok, spawned.ok) == (3, 3, 3)
    records = read_counts(tmp_path / "one.db")
    assert sum(r["railcars"] for r in records) > 20  # cars were counted, not empty windows compared
    assert read_counts(tmp_path / "fork.db") == records
    assert read_counts(tmp_path / "spawn.db") == records


def test_scenes_read_over_http_are_counted_by_spawned_workers() -> None:
    """A forked worker would share any HTTP connection GDAL keeps open in this process."""
    from railcount.workers import SceneTask, start_method

    local = SceneTask("/data/a.tif", "k1", None, ())
    remote = SceneTask("https://example.org/b.tif", "k2", None, ())
    vrt = SceneTask("/data/mosaic.VRT", "k3", None, ())  # its sources may be remote
    assert start_method([local, remote]) == "spawn"
    assert start_method([local, vrt]) == "spawn"
    linux = sys.platform.startswith("linux") and sys.version_info >= (3, 11)
    assert start_method([local]) == ("fork" if linux else "spawn")
