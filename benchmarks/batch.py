"""Throughput of `railcount batch`: scenes per minute with 1 and 2 workers; prints a table.

Usage:  python benchmarks/batch.py [--scenes N] [--workers 1,2] [--runs R] [--idle S] [--cache DIR]

Builds N (default 12) distinct 4000 x 1500 px, 0.3 m, tiled GeoTIFFs (the scene of
benchmarks/speed.py, each shifted by a different number of columns so no two
have the same content, and dated a day apart) with a station whose window
covers each whole, and caches them outside the repository (default
``~/.cache/railcount/bench-batch``). Then it times, over the same scenes:

* a read-only pass: every station window read with ``read_windows``, one
  after another, in this process: how fast the machine delivers the pixels;
* ``railcount batch --workers N`` for each worker count, in a fresh process
  and into a fresh results store, as a user runs it: start-up, listing,
  hashing, planning, counting and storing, wall clock from start to exit;

and reports scenes per minute, the speed-up over one worker, and each rate
as a share of the read-only pass and of the ideal (the 1-worker rate times
the number of workers). Figures depend on what else the machine is doing:
the load average is printed with them. The batches are run ``--runs`` times
(default 3), the worker counts taking turns, and the table gives each one's
median wall time; each run's own speed-ups are printed under it (on this
project's build machine one run's two-worker speed-up can stray by a
quarter either way). Twelve scenes give each of two workers six: a batch
of six gives them three each, and what of a two-worker batch does not
divide between the workers (the planning, their first scenes, the end;
about 1.7 s with spawned workers in session 42, about 1 s with the forked
workers of session 44) weighs more there (before session 42 the default
was 6).

Before each batch the script waits ``--idle`` seconds (default 10). On
this project's build machine (a virtual machine) a process's first touch of
fresh memory is dearer after memory has lain idle, and a batch run straight
after another finds the memory its predecessor freed still cheap to touch;
the wait starts every batch from the same state, as a user's batch starts
(docs/detector.md, *Session 41*). ``--idle 0`` runs them back to back, as
the script did before session 41. Most of that first-touch cost was the
huge pages numpy asks for, which railcount turns off since session 42.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import build_scene

from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations


def build_scenes(cache: Path, n: int) -> tuple[list[Path], Path]:
    """N distinct dated copies of the speed benchmark's scene, and its station (cached)."""
    cache.mkdir(parents=True, exist_ok=True)
    station = cache / "speed_station.geojson"
    base = cache / "speed_4000x1500.tif"
    if not base.exists() or not station.exists():
        with tempfile.TemporaryDirectory() as d:
            tif, st = build_scene(Path(d))
            base.write_bytes(tif.read_bytes())
            station.write_bytes(st.read_bytes())
    paths = []
    day0 = date(2022, 1, 1)
    with rasterio.open(base) as src:
        profile = src.profile
        pixels = None
        for i in range(n):
            when = day0 + timedelta(days=i)
            path = cache / f"scenes/bench_{when.isoformat()}.tif"
            paths.append(path)
            if path.exists():
                continue
            if pixels is None:
                pixels = src.read()
            path.parent.mkdir(exist_ok=True)
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(np.roll(pixels, 97 * i, axis=2))
                dst.update_tags(TIFFTAG_DATETIME=f"{when:%Y:%m:%d} 02:00:00")
    return paths, station


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=12, help="number of scenes (default 12)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--runs", type=int, default=3, help="times each batch is run, medians shown (default 3)")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds to wait before each batch (default 10)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "railcount" / "bench-batch")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    paths, station = build_scenes(args.cache, args.scenes)
    folder = paths[0].parent
    for extra in set(folder.glob("*.tif")) - set(paths):
        extra.unlink()  # a previous run with more scenes
    stations = read_stations(station)
    load_before = os.getloadavg()[0]

    t0 = time.perf_counter()
    for p in paths:
        (window,) = read_windows(p, stations)
    read_s = time.perf_counter() - t0
    shape = window.shape
    rates = {"read-only pass (1 process)": 60 * len(paths) / read_s}
    walls = {"read-only pass (1 process)": read_s}
    exe = shutil.which("railcount") or str(Path(sys.executable).with_name("railcount"))
    n_runs = max(1, args.runs)
    runs: dict[int, list[float]] = {w: [] for w in counts}
    for _ in range(n_runs):
        for w in counts:
            with tempfile.TemporaryDirectory() as d:
                db = f"{d}/bench.db"
                cmd = [exe, "batch", "--station", str(station), "--scenes", str(folder), "--db", db]
                time.sleep(args.idle)
                t0 = time.perf_counter()
                run = subprocess.run([*cmd, "--workers", str(w), "--json"], capture_output=True, text=True)
                runs[w].append(time.perf_counter() - t0)
            ok = json.loads(run.stdout)["ok"] if run.returncode == 0 else 0
            if ok != len(paths):
                why = run.stderr[-500:]
                print(f"batch with {w} workers: {ok} ok of {len(paths)}: {why}", file=sys.stderr)
                return 1
    for w in counts:
        label = f"railcount batch, {w} worker{'s' if w > 1 else ''}"
        wall = statistics.median(runs[w])
        rates[label], walls[label] = 60 * len(paths) / wall, wall
    one = rates.get("railcount batch, 1 worker")
    ceiling = rates["read-only pass (1 process)"]
    load_after = os.getloadavg()[0]
    print(f"{len(paths)} scenes, station window {shape[0]} x {shape[1]} px, tiled GeoTIFF, 0.3 m")
    cores = len(os.sched_getaffinity(0))
    print(f"cores usable: {cores}; 1-min load average before/after: {load_before:.1f}/{load_after:.1f}")
    print(f"each batch after {args.idle:g} s idle; median of {n_runs} run{'s' if n_runs > 1 else ''}")
    print()
    header = f"{'run':<32} {'wall s':>8} {'scenes/min':>11} {'x 1 worker':>11} {'of read':>8} {'of ideal':>9}"
    print(header)
    print("-" * len(header))
    for label, rate in rates.items():
        w = int(label.split(", ")[1].split()[0]) if label.startswith("railcount") else 0
        speedup = f"{rate / one:.2f}" if one and w else ""
        of_ideal = f"{rate / (one * w):.0%}" if one and w else ""
        of_read = f"{rate / ceiling:.0%}"
        print(f"{label:<32} {walls[label]:>8.1f} {rate:>11.1f} {speedup:>11} {of_read:>8} {of_ideal:>9}")
    if 1 in runs:
        print()
        for w in counts:
            if w != 1:
                each = ", ".join(f"{a / b:.2f}" for a, b in zip(runs[1], runs[w], strict=True))
                print(f"{w} workers, each run's speed-up: {each}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
