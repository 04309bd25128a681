"""Count every bundled sample scene and compare with its truth; print a table.

Usage:  python benchmarks/samples.py [SAMPLE_DIR]

Columns: scene, GSD, CRS, true railcars in the station, counted railcars and
interval, count error, detection precision / recall / F1 (centres within
half a car length), whether the interval holds the truth, and the wall time
of the whole count and comparison (read + detect + summarise + match).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene


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
        meta = json.loads(tif.with_suffix(".truth.json").read_text())
        t0 = time.perf_counter()
        (ev,) = evaluate_scene(tif, stations, tif.with_suffix(".truth.geojson"))
        elapsed = time.perf_counter() - t0
        r = ev.to_dict()
        abs_err += abs(r["count_error"])
        total += ev.truth_count
        print(
            f"{tif.name:<28} {r['gsd_m']:5.2f} {meta['crs']:>10} {ev.truth_count:5d} {r['railcars']:5d} "
            f"{r['railcars_low']:>4}-{r['railcars_high']:<4} {r['count_error']:+4d} "
            f"{r['precision']:5.2f} {r['recall']:5.2f} {r['f1']:5.2f} "
            f"{'yes' if r['interval_holds_truth'] else 'no':>3} {elapsed:6.2f}"
        )
    print("-" * len(header))
    print(f"weighted absolute count error: {abs_err}/{total} = {abs_err / max(total, 1):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
