"""Count every bundled sample scene and compare with its truth; print a table.

Usage:  python benchmarks/samples.py [SAMPLE_DIR]

Columns: scene, GSD, CRS, true railcars in the station, counted railcars and
interval, count error, detection precision / recall / F1 (centres within
half a car length), whether the interval holds the truth, and the wall time
of the whole count (read + detect + summarise) for that scene.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from railcount.counting import summarise
from railcount.detect.detector import detect
from railcount.evaluate import match_centres
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_centres


def main(sample_dir: str = "sample_tiles") -> int:
    root = Path(sample_dir)
    station_files = sorted(root.glob("*_station.geojson"))
    if not station_files:
        print(f"no *_station.geojson in {root}", file=sys.stderr)
        return 2
    stations = read_stations(station_files[0])
    header = (
        f"{'scene':<28} {'gsd':>5} {'crs':>10} {'truth':>5} {'count':>5} {'interval':>9} {'err':>4} "
        f"{'P':>5} {'R':>5} {'F1':>5} {'in':>3} {'time_s':>6}"
    )
    print(header)
    print("-" * len(header))
    abs_err = total = 0
    for tif in sorted(root.glob("*.tif")):
        truth_file = tif.with_suffix(".truth.geojson")
        meta = json.loads(tif.with_suffix(".truth.json").read_text())
        t0 = time.perf_counter()
        (window,) = read_windows(tif, stations)
        dets = detect(window)
        result = summarise(window, dets)
        elapsed = time.perf_counter() - t0
        true_rc = truth_centres(truth_file, window)
        m = match_centres(dets.center, true_rc, 7.5 / window.gsd_m)
        inside = result.railcars_low <= len(true_rc) <= result.railcars_high
        abs_err += abs(result.railcars - len(true_rc))
        total += len(true_rc)
        print(
            f"{tif.name:<28} {window.gsd_m:5.2f} {meta['crs']:>10} {len(true_rc):5d} {result.railcars:5d} "
            f"{result.railcars_low:>4}-{result.railcars_high:<4} {result.railcars - len(true_rc):+4d} "
            f"{m.precision:5.2f} {m.recall:5.2f} {m.f1:5.2f} {'yes' if inside else 'no':>3} {elapsed:6.2f}"
        )
    print("-" * len(header))
    print(f"weighted absolute count error: {abs_err}/{total} = {abs_err / max(total, 1):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
