"""What the detector's false railcars stand on; prints a table.

Usage:  python benchmarks/false_cars.py [--suite untouched] [--realism v1|v2|town]
                                        [--first 0] [--last 100] [--gsd 0.5] [--real]

The counterpart of ``benchmarks/misses.py``: for every detection counted
as a railcar that matches no true railcar (centres within half a car
length, one to one, as ``benchmarks/accuracy.py`` matches them) in the
chosen generated scenes (from the benchmark cache, generated if missing),
it says what lies under the detection's centre, from the scene's truth,
which also lists the look-alikes the generator drew:

* ``locomotive``: within half a car length of a true locomotive the
  detector did not call one (a locomotive counted as a railcar);
* ``truck``: on a truck or a trailer (within 2 m of its outline);
* ``container``: on a shipping container on the ground;
* ``building``: on a building, platform or canopy;
* ``off a missed``: within a car length (15 m) of a true railcar no
  detection matched: a box more than half a car length off its car (the
  count is right, the box is not);
* ``by a found``: within a car length of true railcars that other
  detections matched, and of no missed one: an extra box, a second box on
  one car, or a car on the next track or a car length off that is not
  there (these raise the count);
* ``other``: none of these (ground, track, ballast, shadows, masts).

Each detection takes the first of these that applies. ``--real`` adds
rows for the real scenes of ``../shared/real`` (Muttenz west labels only
its wagons, Joplin nothing, so their false cars are ``off a missed``,
``by a found`` or ``other``). The default, ``untouched`` v2 scenes 0-99, are held out from
the fit, so false cars are not suppressed by construction as on ``tuned``.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from rasterio.warp import transform as warp_points
from shapely.geometry import Point, Polygon

from railcount.io.scenes import WGS84
from railcount.io.stations import read_stations
from railcount.models import SceneWindow, apply_affine
from railcount.pipeline import StationEvaluation, evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import GSDS, NO_RAILCARS, REAL_CASES, SHARED_REAL, ensure_scene

KINDS = ("locomotive", "truck", "container", "building", "off a missed", "by a found", "other")
MATCH_M = 7.5  # half a car length: the accuracy benchmark's matching radius
BESIDE_M = 15.0  # a car length
ON_OBJECT_M = 2.0
LOOKALIKE = {"truck": "truck", "trailer": "truck", "container": "container"}
LOOKALIKE.update({k: "building" for k in ("building", "platform", "canopy")})


def lookalikes(truth: Path, window: SceneWindow) -> list[tuple[str, Polygon]]:
    """The truth's trucks, containers and buildings as polygons in window pixels (col, row)."""
    doc = json.loads(truth.read_text(encoding="utf-8"))
    out = []
    for feat in doc["features"]:
        kind = LOOKALIKE.get(str(feat["properties"].get("class")))
        if kind is None:
            continue
        geom = feat["geometry"]
        ring = np.asarray((geom["coordinates"] if geom["type"] == "Polygon" else geom["coordinates"][0])[0])
        x, y = warp_points(WGS84, window.crs, ring[:, 0].tolist(), ring[:, 1].tolist())
        cols, rows = apply_affine(~window.transform, np.asarray(x), np.asarray(y))
        out.append((kind, Polygon(np.column_stack([cols, rows]))))
    return out


def false_kinds(ev: StationEvaluation, objects: list[tuple[str, Polygon]]) -> list[str]:
    """What each false railcar of an evaluation stands on (see the module's docstring)."""
    window = ev.count.window
    px = 1.0 / window.gsd_m
    cars = ev.cars
    missed = ev.missed
    out = []
    for i in ev.false:
        centre = cars.center[i]
        kind = "other"
        locos = ev.truth.locomotives
        railcars = ev.truth.cars
        if len(locos) and np.hypot(*(locos - centre).T).min() < MATCH_M * px:
            kind = "locomotive"
        else:
            point = Point(centre[1], centre[0])
            near = [k for k, poly in objects if poly.distance(point) < ON_OBJECT_M * px]
            if near:
                kind = min(near, key=KINDS.index)
            elif len(railcars) and np.hypot(*(railcars - centre).T).min() < BESIDE_M * px:
                near_cars = np.flatnonzero(np.hypot(*(railcars - centre).T) < BESIDE_M * px)
                kind = "off a missed" if np.isin(near_cars, missed).any() else "by a found"
        out.append(kind)
    return out


def scene_kinds(job: tuple[str, int, str, str]) -> tuple[float, list[str]]:
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    truth = tif.with_suffix(".truth.geojson")
    (ev,) = evaluate_scene(tif, read_stations(station), truth)
    return round(ev.count.window.gsd_m, 2), false_kinds(ev, lookalikes(truth, ev.count.window))


def real_rows() -> list[tuple[str, list[str]]]:
    rows = []
    for name, tif, station, truth_file in REAL_CASES:
        truth = SHARED_REAL / truth_file if truth_file else NO_RAILCARS
        (ev,) = evaluate_scene(SHARED_REAL / tif, read_stations(SHARED_REAL / station), truth)
        rows.append((f"real {name}", false_kinds(ev, [])))
    return rows


def row(label: str, kinds: Iterable[str]) -> str:
    tally = collections.Counter(kinds)
    n = sum(tally.values())
    cells = "".join(f"{tally[k]:>13}" for k in KINDS)
    return f"{label:<22}{n:>7}{cells}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="untouched", choices=("tuned", "untouched", "fresh"))
    ap.add_argument("--realism", default="v2", choices=("v1", "v2", "town"))
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--last", type=int, default=100, help="one past the last scene")
    ap.add_argument("--gsd", type=float, help="only scenes of this GSD (m)")
    ap.add_argument("--real", action="store_true", help="add the real scenes (../shared/real)")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parents[1] / "bench_cache"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    jobs = [(args.suite, i, args.cache, args.realism) for i in range(args.first, args.last)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(scene_kinds, jobs))
    if args.gsd is not None:
        results = [(g, k) for g, k in results if abs(g - args.gsd) < 0.01]
    chosen = f"{args.suite} {args.realism}, scenes {args.first}-{args.last - 1}"
    print(f"false railcars by what they stand on ({chosen})")
    print(f"{'':<22}{'false':>7}" + "".join(f"{k:>13}" for k in KINDS))
    print("-" * (29 + 13 * len(KINDS)))
    for gsd in GSDS:
        at_gsd = [k for g, ks in results if g == round(gsd, 2) for k in ks]
        if at_gsd or any(g == round(gsd, 2) for g, _ in results):
            print(row(f"{args.suite} {gsd:.2f} m", at_gsd))
    print(row(f"{args.suite} all", [k for _, ks in results for k in ks]))
    if args.real:
        if SHARED_REAL.is_dir():
            for label, kinds in real_rows():
                print(row(label, kinds))
        else:
            print(f"(no {SHARED_REAL}: the real scenes are skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
