"""A station window too large for the memory a count may use is counted in tiles (since session 68), and
one too large even for tiles is refused before its pixels are read: one line naming the scene and the
station and what to do, exit 1; in a batch that scene fails with the reason and the others are counted.

The limit is set with ``RAILCOUNT_MEMORY_LIMIT`` (the machine's free memory is the default), so a
window that fits anywhere can stand for one that fits nowhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rasterio.enums import Resampling

from railcount.batch import run_batch
from railcount.cautions import is_tiled
from railcount.cli import main
from railcount.io.memory import LIMIT_ENV, available_bytes, cgroup_room, needed_bytes, plan_tiles
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.store import read_counts

from .geofixtures import write_resampled

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def _need() -> int:
    """What the sample's window (0.5 m) is expected to need."""
    (w,) = read_windows(SCENE, read_stations(STATION))
    return needed_bytes(*w.pixels.shape[:2], w.gsd_m)


def test_a_window_over_the_limit_is_one_line_exit_1(monkeypatch, capsys):
    monkeypatch.setenv(LIMIT_ENV, str(_need() // 2))
    assert main(["count", str(SCENE), "--station", str(STATION)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    line = err[0]
    assert line.startswith(f"railcount: error: {SCENE}: station 'Tumangang' reads a ")
    assert f"{LIMIT_ENV} allows" in line and "split it into several polygons" in line


def test_a_window_under_the_limit_counts(monkeypatch, capsys):
    monkeypatch.setenv(LIMIT_ENV, str(_need() * 2))
    assert main(["count", str(SCENE), "--station", str(STATION)]) == 0
    assert "railcars" in capsys.readouterr().out


def _forks_of_a_count(limit: int) -> int:
    """How many helper processes a ``railcount count`` of the sample forks under ``limit`` bytes, in a
    fresh process (an earlier test's server thread in this one would forbid any fork)."""
    code = (
        "import sys; from railcount import runtime; from railcount.cli import main; "
        "rc = main(sys.argv[1:]); print('forks', runtime._forks); sys.exit(rc)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "count", str(SCENE), "--station", str(STATION)],
        capture_output=True,
        text=True,
        env={**os.environ, LIMIT_ENV: str(limit)},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert "railcars" in run.stdout
    return int(run.stdout.split("forks")[-1])


def test_a_window_that_fits_one_process_and_not_two_is_counted_in_one():
    """The command line's second process adds up to 0.6 of the need: with room for one count and not
    for two, no copy is forked; with room for two, copies are (where two cores may be used)."""
    assert _forks_of_a_count(int(_need() * 1.3)) == 0
    if len(os.sched_getaffinity(0)) >= 2:
        assert _forks_of_a_count(_need() * 2) > 0


def test_the_machine_s_free_memory_is_the_default(monkeypatch):
    """Without the variable the limit is what the machine has free (Linux), which the sample fits."""
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    free = available_bytes()
    if Path("/proc/meminfo").exists():
        assert free is not None and free > _need()
    else:
        assert free is None


@pytest.mark.parametrize("value", ["lots", "4 X", "-1G"])
def test_a_limit_that_is_not_a_size_is_a_usage_error(monkeypatch, capsys, value):
    monkeypatch.setenv(LIMIT_ENV, value)
    assert main(["count", str(SCENE), "--station", str(STATION)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{LIMIT_ENV}={value!r} is not a size" in err[0]


def _finer_copy(path: Path, gsd_m: float) -> Path:
    """The sample (0.5 m) resampled to ``gsd_m`` (same ground, more pixels), written by rasterio."""
    return write_resampled(path, SCENE, gsd_m / 0.5, Resampling.bilinear)


def test_in_a_batch_a_window_too_large_is_counted_in_tiles_or_fails_alone(tmp_path, monkeypatch):
    """Two scenes of the station's ground: the sample (0.5 m) and a 0.2 m copy, whose window holds six
    and a quarter times the pixels (counted on a 0.3 m grid: 2.8 times the pixels, 1.7 times the need
    with the count's base). A limit between the two needs counts the fine one in tiles, with the
    caution; a limit just over the sample's need, where even 64 tiles of the fine one do not fit,
    fails it with the reason and counts the other."""
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(SCENE, scenes / SCENE.name)
    fine = _finer_copy(scenes / "tumangang_2023-10-06.tif", 0.2)
    (w,) = read_windows(fine, read_stations(STATION))
    fine_need = needed_bytes(*w.pixels.shape[:2], w.gsd_m)
    assert fine_need > 1.5 * _need() and np.isclose(w.gsd_m, 0.2, atol=0.01)
    # The least limit (in steps of 1 % of the fine need) at which its tiles fit: tiles of 250 m or more
    # of this 440 x 613 m window, with their overlap and the whole window's pixels, need most of the
    # whole window's need.
    tiled = [
        limit
        for limit in range(_need(), fine_need, fine_need // 100)
        if plan_tiles(*w.pixels.shape[:2], w.gsd_m, limit) not in (None, (1, 1))
    ]
    assert tiled, "no limit between the two needs counts the fine copy in tiles"
    between = tiled[0]
    monkeypatch.setenv(LIMIT_ENV, str(between))
    db = tmp_path / "r.db"
    summary = run_batch(STATION, scenes, db=db, workers=1)
    assert (summary.ok, summary.failed) == (2, 0)
    rows = {Path(r["scene"]).name: r for r in read_counts(db)}
    # (The store keeps a count's warnings in one text cell.)
    assert rows[fine.name]["railcars"] > 0 and is_tiled(rows[fine.name]["warnings"] or "")
    assert not is_tiled(rows[SCENE.name]["warnings"] or "")

    just_over = int(_need() * 1.05)
    assert plan_tiles(*w.pixels.shape[:2], w.gsd_m, just_over) is None
    monkeypatch.setenv(LIMIT_ENV, str(just_over))
    db = tmp_path / "r2.db"
    summary = run_batch(STATION, scenes, db=db, workers=1)
    assert (summary.ok, summary.failed) == (1, 1)
    rows = {Path(r["scene"]).name: r for r in read_counts(db)}
    assert rows[SCENE.name]["status"] == "ok" and rows[SCENE.name]["railcars"] > 0
    failed = rows[fine.name]
    assert failed["status"] == "failed" and "whose count would need about" in failed["reason"]
    assert "too much even in tiles of 250 m" in failed["reason"]


def test_an_image_in_pixel_space_is_checked_too(tmp_path, monkeypatch, capsys):
    """With ``--gsd`` the whole image is the window: a 2000 x 1500 px PNG at 0.3 m needs about 0.2 GB."""
    import cv2

    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.full((1500, 2000, 3), 120, np.uint8))
    monkeypatch.setenv(LIMIT_ENV, "100M")
    assert main(["count", str(png), "--gsd", "0.3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "station 'yard' reads a 2000 x 1500 px window" in err[0], err


def _files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


GIB = 1 << 30


@pytest.mark.parametrize(
    ("proc", "files", "room"),
    [
        pytest.param(
            "0::/user.slice/notebook\n",
            {
                "user.slice/notebook/memory.max": f"{2 * GIB}\n",
                "user.slice/notebook/memory.current": f"{GIB}\n",
                "user.slice/notebook/memory.stat": f"anon 1\ninactive_file {GIB // 4}\n",
                "user.slice/memory.max": "max\n",
                "user.slice/memory.current": f"{3 * GIB}\n",
            },
            GIB + GIB // 4,
            id="v2: the group's limit less its use, page cache counted as room",
        ),
        pytest.param(
            "4:memory:/process_api/x\n3:cpuset:/\n",
            {
                "memory/process_api/x/memory.limit_in_bytes": f"{4 * GIB}\n",
                "memory/process_api/x/memory.usage_in_bytes": f"{3 * GIB}\n",
                "memory/process_api/memory.limit_in_bytes": "9223372036854771712\n",
                "memory/process_api/memory.usage_in_bytes": f"{5 * GIB}\n",
            },
            GIB,
            id="v1: the memory controller's line, a parent with no limit",
        ),
        pytest.param(
            "0::/\n",
            {"memory.max": f"{GIB}\n", "memory.current": f"{GIB // 2}\n"},
            GIB // 2,
            id="v2 in a container: the group is the root",
        ),
        pytest.param(
            "0::/a/b\n",
            {
                "a/b/memory.max": f"{8 * GIB}\n",
                "a/b/memory.current": f"{GIB}\n",
                "a/memory.max": f"{4 * GIB}\n",
                "a/memory.current": f"{3 * GIB + GIB // 2}\n",
            },
            GIB // 2,
            id="a parent's limit binds first",
        ),
        pytest.param("0::/a\n", {"a/memory.max": "max\n", "a/memory.current": "5\n"}, None, id="no limit"),
        pytest.param("0::/a\n", {}, None, id="nothing to read"),
    ],
)
def test_the_room_under_a_control_group_s_limit(tmp_path, proc, files, room):
    """Cgroup files as the kernel lays them out, written under a folder standing for /sys/fs/cgroup."""
    root = tmp_path / "cgroup"
    root.mkdir()
    _files(root, files)
    (tmp_path / "proc_cgroup").write_text(proc)
    assert cgroup_room(str(root), str(tmp_path / "proc_cgroup")) == room


def test_this_machine_s_control_group_is_read():
    """On Linux the real /proc/self/cgroup and /sys/fs/cgroup: no limit (None) or a byte count."""
    room = cgroup_room()
    assert room is None or room >= 0
    if room is not None:
        assert available_bytes() is not None and available_bytes() <= room


def _child_memory_cgroup(limit: int) -> Path:
    """A real cgroup v1 memory group under this process's own, limited to ``limit`` bytes; skips where
    the kernel or the permissions do not allow one (not Linux, cgroup v2 only, not root)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        pytest.skip("no /proc/self/cgroup")
    fields = [ln.split(":", 2) for ln in lines if ln.count(":") >= 2]
    own = [group for _, controllers, group in fields if "memory" in controllers.split(",")]
    base = Path("/sys/fs/cgroup/memory")
    if not own or not base.is_dir():
        pytest.skip("no cgroup v1 memory controller")
    group = base / own[0].strip("/") / f"railcount_test_{os.getpid()}"
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(limit))
    except OSError as e:
        pytest.skip(f"cannot make a memory cgroup here: {e}")
    return group


def count_in_group(limit: int, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """``railcount count ARGS`` in a fresh process inside a real memory cgroup of ``limit`` bytes (made
    by :func:`_child_memory_cgroup`, without ``RAILCOUNT_MEMORY_LIMIT``): the run and the group's peak
    memory (bytes)."""
    return run_in_group(limit, "count", *args)


def run_in_group(limit: int, command: str, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """``railcount COMMAND ARGS`` as :func:`count_in_group` runs ``count``."""
    group = _child_memory_cgroup(limit)
    try:
        env = {k: v for k, v in os.environ.items() if k != LIMIT_ENV}
        quoted = " ".join(f'"{a}"' for a in args)
        run = subprocess.run(
            [
                "sh",
                "-c",
                f'echo $$ > "{group}/cgroup.procs" && exec "{sys.executable}" -c '
                f'"import sys; from railcount.cli import main; sys.exit(main(sys.argv[1:]))" {command} '
                f"{quoted}",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        peak = int((group / "memory.max_usage_in_bytes").read_text())
    finally:
        for _ in range(50):  # the kernel lets the group go once its last process has
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
    return run, peak


def test_a_container_s_limit_is_heeded(tmp_path):
    """In a real memory cgroup of 200 MB (a container's or a notebook server's limit, where
    /proc/meminfo shows the whole host) the 0.3 m sample, which needs about 0.4 GB, is refused in one
    line instead of being killed by the kernel (exit 137, no word) as it was."""
    scene, station = SAMPLES / "tumangang_2022-08-30.tif", STATION
    run, _ = count_in_group(200_000_000, str(scene), "--station", str(station))
    err = run.stderr.strip().splitlines()
    assert run.returncode == 1, (run.returncode, run.stderr[-500:])
    assert len(err) == 1 and "whose count would need about 0.40 GB" in err[0] and "is free" in err[0], err


def test_a_batch_s_workers_share_the_memory(monkeypatch):
    """Each of a batch's worker processes plans its windows with its share of the memory free, and
    says so when one does not fit."""
    from railcount.io import memory

    monkeypatch.setenv(LIMIT_ENV, "1G")
    try:
        memory.share_memory(2)
        assert memory.available_bytes() == 2**29
        assert memory.room_words(2**29) == (
            f"{LIMIT_ENV} allows 0.54 GB to each of the 2 batch workers (fewer --workers give each more)"
        )
    finally:
        memory.share_memory(1)
    assert memory.available_bytes() == 2**30 and memory.room_words(2**30) == f"{LIMIT_ENV} allows 1.1 GB"


def test_in_a_real_memory_group_two_workers_count_what_fits_one_at_a_time(tmp_path):
    """Two distinct copies of the speed benchmark's window (0.66 GB each whole; counted alone in an
    800 MB group in tiles or whole), a batch with two workers in a real 800 MB memory cgroup. Before
    session 69 each worker planned with all of the memory free, both counted at once, the kernel
    killed them, and the batch stopped with "the worker processes stopped twice" and nothing counted.
    Now each worker has half; the windows that do not fit in half, even in tiles, are counted again
    once the pool is done, one at a time with all of it: both stored, exit 0."""
    import sqlite3

    import rasterio

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from speed import build_scene

    tif, station = build_scene(tmp_path)
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for k in range(2):
        with rasterio.open(tif) as ds:
            profile, data, tags = ds.profile, ds.read(), ds.tags()
        data[:, 0, k] = 7  # two scenes of distinct content (a batch counts one content once)
        with rasterio.open(scenes / f"yard_{k}_2022-08-30.tif", "w", **profile) as dst:
            dst.write(data)
            dst.update_tags(**tags)
    db = tmp_path / "b.db"
    run, peak = run_in_group(
        800_000_000, "batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db),
        "--workers", "2",
    )  # fmt: skip
    assert run.returncode == 0, (run.returncode, run.stderr[-800:])
    assert "too large for a worker's share of the memory" in run.stderr, run.stderr
    with sqlite3.connect(db) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM counts")]
    assert statuses == ["ok", "ok"], statuses
    assert peak < 800_000_000
