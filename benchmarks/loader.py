"""Reading one station from a full-size scene: time and memory against a file of the window's size.

Usage:  python benchmarks/loader.py [--dir DIR] [--size 40000] [--repeat 5]

Builds (once, into DIR, default ``bench_cache/loader``; about 20 s and 40 MB
of disk per file) a SIZE x SIZE px, 3-band uint8, 0.5 m GeoTIFF of mostly
constant ground with the 2023-10-05 bundled sample pasted in its middle,
written block row by block row so memory stays small:

* ``big_tiled.tif``: 512 x 512 tiles, DEFLATE;
* ``big_striped.tif``: the same pixels untiled (one strip per row, DEFLATE);
* ``window.tif``: just the station's window (as the loader reads it) on its
  own, tiled the same way: the reference for "reading only the window".

Then, in a fresh process per run (so each measures its own peak memory),
``read_windows`` reads the Tumangang station from each file. It prints the
median read time of REPEAT runs, the ratio to the standalone window, the
peak resident memory of the process, and how much of it the read added on
top of the imports (the process's own high-water mark, ``VmHWM``, before and
after the read). Files come
from the page cache after the first run: this measures decoding and
copying, not the disk. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_tiles" / "tumangang_2023-10-05.tif"
STATION = ROOT / "sample_tiles" / "tumangang_station.geojson"
BLOCK = 512

CHILD = r"""
import json, resource, sys, time, warnings
from railcount.errors import RailcountWarning
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

def peak_kb():
    # Linux keeps ru_maxrss across exec (it would report the parent's size);
    # VmHWM belongs to this process image alone.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

stations = read_stations(sys.argv[2])
before = peak_kb()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", RailcountWarning)
    t0 = time.perf_counter()
    (w,) = read_windows(sys.argv[1], stations)
    dt = time.perf_counter() - t0
after = peak_kb()
print(json.dumps({"time": dt, "before_kb": before, "after_kb": after, "shape": list(w.shape),
                  "warnings": [str(c.message)[:80] for c in caught]}))
"""


def build(folder: Path, size: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(SAMPLE) as ds:
        sample, t, crs, tags = ds.read(), ds.transform, ds.crs, ds.tags()
    rows, cols = sample.shape[1:]
    r0, c0 = size // 2 - rows // 2, size // 2 - cols // 2
    big_t = Affine(t.a, 0.0, t.c - c0 * t.a, 0.0, t.e, t.f - r0 * t.e)
    base = dict(
        driver="GTiff",
        width=size,
        height=size,
        count=3,
        dtype="uint8",
        crs=crs,
        transform=big_t,
        compress="deflate",
        zlevel=1,
        BIGTIFF="IF_SAFER",
    )
    layouts = {
        "big_tiled.tif": dict(tiled=True, blockxsize=BLOCK, blockysize=BLOCK),
        "big_striped.tif": dict(tiled=False, blockysize=1),
    }
    out = {}
    for fname, layout in layouts.items():
        path = folder / fname
        out[fname] = path
        if path.exists():
            continue
        t0 = time.perf_counter()
        tmp = path.with_suffix(".part")
        with rasterio.open(tmp, "w", **base, **layout) as dst:
            for top in range(0, size, BLOCK):
                h = min(BLOCK, size - top)
                chunk = np.full((3, h, size), 118, np.uint8)
                lo, hi = max(top, r0), min(top + h, r0 + rows)
                if lo < hi:
                    chunk[:, lo - top : hi - top, c0 : c0 + cols] = sample[:, lo - r0 : hi - r0]
                dst.write(chunk, window=rasterio.windows.Window(0, top, size, h))
            dst.update_tags(**tags)
        tmp.rename(path)
        print(f"built {path} in {time.perf_counter() - t0:.0f} s ({path.stat().st_size / 1e6:.0f} MB)")
    window = folder / "window.tif"
    out["window.tif"] = window
    if not window.exists():
        from railcount.io.scenes import read_windows
        from railcount.io.stations import read_stations

        (w,) = read_windows(out["big_tiled.tif"], read_stations(STATION))
        with rasterio.open(
            window,
            "w",
            driver="GTiff",
            width=w.shape[1],
            height=w.shape[0],
            count=3,
            dtype="uint8",
            crs=w.crs,
            transform=w.transform,
            compress="deflate",
            zlevel=1,
            tiled=True,
            blockxsize=BLOCK,
            blockysize=BLOCK,
        ) as dst:
            dst.write(np.moveaxis(w.pixels, -1, 0))
            dst.update_tags(**tags)
    return out


def measure(path: Path, repeat: int) -> dict[str, float | str]:
    runs = []
    for _ in range(repeat + 1):  # the first run warms the page cache and is dropped
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(STATION)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(proc.stdout))
    runs = runs[1:]
    return {
        "time": statistics.median(r["time"] for r in runs),
        "peak_mb": max(r["after_kb"] for r in runs) / 1024,
        "read_mb": max(r["after_kb"] - r["before_kb"] for r in runs) / 1024,
        "shape": "x".join(map(str, runs[0]["shape"])),
        "warned": "yes" if runs[0]["warnings"] else "no",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT / "bench_cache" / "loader")
    ap.add_argument("--size", type=int, default=40000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = build(args.dir, args.size)
    rows = {name: measure(path, args.repeat) for name, path in files.items()}
    ref = float(rows["window.tif"]["time"])
    print(
        f"scene {args.size} x {args.size} px, station window {rows['window.tif']['shape']} px; "
        f"median of {args.repeat} fresh processes"
    )
    head = f"{'file':<18}{'size MB':>9}{'read s':>9}{'x window':>10}{'peak MB':>9}{'read MB':>9}{'warned':>8}"
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        size_mb = files[name].stat().st_size / 1e6
        print(
            f"{name:<18}{size_mb:>9.1f}{float(r['time']):>9.3f}{float(r['time']) / ref:>10.2f}"
            f"{float(r['peak_mb']):>9.0f}{float(r['read_mb']):>9.0f}{r['warned']:>8}"
        )


if __name__ == "__main__":
    main()
