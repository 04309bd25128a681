"""Speed of railcount's detector and of `railcount count`; prints a table.

Usage:  python benchmarks/speed.py [--repeat N]

Builds a 4000 x 1500 px, 0.3 m, tiled GeoTIFF (the 0.3 m bundled sample
tiled with its mirror image, so the pixels are yard, not noise) and a
station whose window covers it, then reports:

* detector throughput in megapixels per second on one thread
  (``cv2.setNumThreads(1)``), best of N runs of ``detect`` on the loaded window,
  and its first call, made after ten idle seconds;
* the wall time of the loader alone (read the window from the tiled file);
* the wall time of ``railcount count SCENE --station S --json`` end to end in
  a fresh process (interpreter start-up, imports, read, detect, print),
  median of N runs after ten idle seconds, as a one-off count starts, and
  of N runs each straight after one of those (the wall time includes a
  small Python process that starts it and reports its peak resident
  memory, about 0.03 s); the same with ``--workers 1`` (the command line
  counts in two processes by default where there are two cores: a forked
  copy reads the cloud and the track frames in turn), and with ``--out``
  in place of ``--json`` (the overlay PNG, detections and count.json
  written, as the README's first command does). The peak memory is the
  largest process's; a count's helper, forked from it, shares its pages
  until either writes them.

Last, how this machine hands over fresh memory: a fresh process fills
450 MB (about what ``railcount count`` touches on this window) after the
machine has left its memory idle for ten seconds, with the small pages the
command line and its batch workers use (:func:`railcount.runtime.small_pages`)
and, after ten more idle seconds, with the huge pages numpy asks for by
default; then with huge pages again at once. On this project's build
machine (a virtual machine) the huge-page fill after idle costs about a
second and the one at once a few hundredths; the small-page fill about
0.3 s (session 42): most of the first-touch cost was the kernel finding
huge pages.

The detector is timed with memory set as the command line sets it
(:func:`railcount.runtime.tune_memory`: freed blocks kept for reuse, small
pages); ``--default-allocator`` leaves both alone, to see what they are worth. The first call is
reported too: a one-off ``railcount count`` pays for it.
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
from pathlib import Path

import cv2
import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points

from railcount.detect.detector import detect
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.runtime import tune_memory

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_tiles" / "tumangang_2022-08-30.tif"
COLS, ROWS, GSD = 4000, 1500, 0.3
MARGIN_M = 25.0  # the loader's margin around the station


def build_scene(folder: Path) -> tuple[Path, Path]:
    with rasterio.open(SAMPLE) as ds:
        src = np.moveaxis(ds.read(), 0, -1)
    tile = np.concatenate([src, src[:, ::-1]], axis=1)  # 2x width, seamless at the join
    pixels = np.ascontiguousarray(tile[:ROWS, :COLS])
    x0, y0 = 634000.0, 4697000.0
    transform = from_origin(x0, y0, GSD, GSD)
    tif = folder / "speed_4000x1500.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=COLS,
        height=ROWS,
        count=3,
        dtype="uint8",
        crs="EPSG:32652",
        transform=transform,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
    ) as ds:
        ds.write(np.moveaxis(pixels, -1, 0))
        ds.update_tags(TIFFTAG_DATETIME="2022:08:30 02:02:39")
    # The station sits MARGIN_M inside the raster so the window (station + margin) is the raster.
    xs = [x0 + MARGIN_M, x0 + COLS * GSD - MARGIN_M]
    ys = [y0 - ROWS * GSD + MARGIN_M, y0 - MARGIN_M]
    lon, lat = warp_points(
        "EPSG:32652", "EPSG:4326", [xs[0], xs[1], xs[1], xs[0]], [ys[0], ys[0], ys[1], ys[1]]
    )
    ring = [[a, b] for a, b in zip(lon, lat, strict=True)]
    station = folder / "speed_station.geojson"
    station.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"name": "speed"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    )
    return tif, station


PEAK_OF_CHILD = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
"""Run the command given after ``-c``'s script and print its peak resident memory (kB)."""

FIRST_TOUCH = (
    "import time; import numpy as np; t0 = time.perf_counter(); "
    "np.ones(450 * 2**20, np.uint8); print(time.perf_counter() - t0)"
)
"""Fill 450 MB of fresh memory and print how long it took (s)."""
IDLE_S = 10.0
"""How long the machine's memory is left idle before the first fill."""


def first_touch_s(*, huge_pages: bool = True) -> float:
    """Seconds a fresh process takes to fill 450 MB (interpreter start-up not counted), with the huge
    pages numpy asks for by default or without (``NUMPY_MADVISE_HUGEPAGE``)."""
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "1" if huge_pages else "0"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_TOUCH], check=True, capture_output=True, text=True, env=env
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--default-allocator",
        action="store_true",
        help="leave glibc's thresholds and numpy's huge pages as they are",
    )
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    allocator = "default" if args.default_allocator else tune_memory()
    with tempfile.TemporaryDirectory() as d:
        tif, station = build_scene(Path(d))
        stations = read_stations(station)
        t0 = time.perf_counter()
        (window,) = read_windows(tif, stations)
        read_s = time.perf_counter() - t0
        mpx = window.shape[0] * window.shape[1] / 1e6
        times = []
        time.sleep(IDLE_S)  # the first call starts as a user's one-off count does
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            dets = detect(window)
            times.append(time.perf_counter() - t0)
        exe = shutil.which("railcount") or str(Path(sys.executable).with_name("railcount"))
        out = Path(d) / "out"
        variants = {
            "": ["--json"],  # two processes, the default
            " --workers 1": ["--json", "--workers", "1"],
            " --out": ["--out", str(out)],  # and the overlay, detections and count.json written
        }
        walls: dict[tuple[str, str], list[float]] = {
            (v, w): [] for v in variants for w in ("idle", "at once")
        }
        peaks: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(args.repeat):
            for variant, options in variants.items():
                # Each pair: one after the machine's memory has lain idle ("idle"), as a one-off
                # count starts, and one straight after it ("at once"). The variants take turns.
                time.sleep(IDLE_S)
                for when in ("idle", "at once"):
                    t0 = time.perf_counter()
                    # A small Python process runs the command and reports its peak: a
                    # child's ru_maxrss starts from its parent's at fork, and this
                    # process has just run the detector on the whole window. (It is
                    # the largest process's: a count's helper is another.)
                    command = [exe, "count", str(tif), "--station", str(station), *options]
                    done = subprocess.run(
                        [sys.executable, "-c", PEAK_OF_CHILD, *command],
                        check=True,
                        capture_output=True,
                        text=True,
                        env={"OMP_NUM_THREADS": "1", "PATH": ""},
                    )
                    walls[variant, when].append(time.perf_counter() - t0)
                    peaks[variant].append(int(done.stdout.strip().splitlines()[-1]) / 1024)
    time.sleep(IDLE_S)
    idle_small = first_touch_s(huge_pages=False)
    time.sleep(IDLE_S)
    idle_fill, again_fill = first_touch_s(), first_touch_s()
    best = min(times)
    print(f"{'measure':<46} {'value':>12}")
    print("-" * 59)
    print(f"{'window (rows x cols)':<46} {window.shape[0]:>5} x {window.shape[1]:<5}")
    print(f"{'cars detected':<46} {len(dets):>12}")
    print(f"{'memory':<34} {allocator:>24}")
    print(f"{'detector, one thread, first call (s)':<46} {times[0]:>12.3f}")
    print(f"{'detector, one thread, best of ' + str(args.repeat) + ' (s)':<46} {best:>12.3f}")
    print(f"{'detector throughput (Mpx/s, one thread)':<46} {mpx / best:>12.1f}")
    print(f"{'loader: read window from tiled GeoTIFF (s)':<46} {read_s:>12.3f}")
    for variant in variants:
        cold = statistics.median(walls[variant, "idle"])
        warm = statistics.median(walls[variant, "at once"])
        print(f"{f'railcount count{variant}, {IDLE_S:g} s idle (s)':<46} {cold:>12.3f}")
        print(f"{f'railcount count{variant}, at once (s)':<46} {warm:>12.3f}")
        print(f"{f'railcount count{variant}, peak (MB)':<46} {max(peaks[variant]):>12.0f}")
    print(f"{f'fill 450 MB after {IDLE_S:g} s idle, huge pages (s)':<46} {idle_fill:>12.3f}")
    print(f"{f'fill 450 MB after {IDLE_S:g} s idle, small pages (s)':<46} {idle_small:>12.3f}")
    print(f"{'fill 450 MB again at once, huge pages (s)':<46} {again_fill:>12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
