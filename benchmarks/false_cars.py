"""What the detector's false railcars stand on; prints a table.

Usage:  python benchmarks/false_cars.py [--suite untouched] [--realism v1|v2|v3|town]
                                        [--first 0] [--last 100] [--gsd 0.5] [--real]
                                        [--crops DIR]

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
* ``vegetation``: on a hedge, a tree or an overgrown track (realism ``v3``);
* ``off a missed``: within a car length (15 m) of a true railcar no
  detection matched: a box more than half a car length off its car (the
  count is right, the box is not);
* ``by a found``: within a car length of true railcars that other
  detections matched, and of no missed one: an extra box, a second box on
  one car, or a car on the next track or a car length off that is not
  there (these raise the count);
* ``other``: none of these (ground, track, ballast, shadows, masts).

Each detection takes the first of these that applies. Below that table,
each way of counting a car (seen apart at a gap, a piece of a run counted
by pitch, a gap fill) with how many of its detections are false, per GSD,
and where the ``by a found`` boxes stand against the nearest true railcar
(on its track, on the next, or further). A last table counts the railcar
boxes the overlay draws dashed (the car model under 0.7: ``unsure``) and
solid, how many of each are false, and what share of the false ones are
dashed: whether checking the dashed boxes first finds most false railcars. ``--real`` adds
rows for the real scenes of ``../shared/real`` (Muttenz west labels only
its wagons, Joplin nothing, so their false cars are ``off a missed``,
``by a found`` or ``other``). The default, ``untouched`` v2 scenes 0-99, are held out from
the fit, so false cars are not suppressed by construction as on ``tuned``.
``--crops DIR`` also writes a picture of each false railcar there, to look
at: a 60 m square of the scene, raw beside annotated (``benchmarks/crops.py``),
named after the suite, scene, what it stands on and the detection.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rasterio.warp import transform as warp_points
from shapely.geometry import Point, Polygon

from railcount.counting import UNSURE_BELOW
from railcount.detect.frame import along_across
from railcount.io.outputs import display_bgr
from railcount.io.scenes import WGS84
from railcount.io.stations import read_stations
from railcount.io.truth import truth_features
from railcount.models import SceneWindow, apply_affine
from railcount.pipeline import DashedBoxes, StationEvaluation, evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import (
    GSDS,
    NO_RAILCARS,
    REAL_CASES,
    SHARED_REAL,
    ensure_scene,
    map_scene_range,
    scene_range_arguments,
)
from crops import error_crop, write_crop

METHODS = ("gap", "pitch", "fill")
"""How a detection was counted: seen apart, a piece of a run counted by pitch, a gap fill."""
KINDS = ("locomotive", "truck", "container", "building", "vegetation", "off a missed", "by a found", "other")
MATCH_M = 7.5  # half a car length: the accuracy benchmark's matching radius
BESIDE_M = 15.0  # a car length
ON_OBJECT_M = 2.0
LOOKALIKE = {"truck": "truck", "trailer": "truck", "container": "container"}
LOOKALIKE.update({k: "building" for k in ("building", "platform", "canopy")})
LOOKALIKE["vegetation"] = "vegetation"  # hedges and trees (realism v3)


def lookalikes(truth: Path, window: SceneWindow) -> list[tuple[str, Polygon]]:
    """The truth's trucks, containers and buildings as polygons in window pixels (col, row)."""
    out = []
    for feat in truth_features(truth):
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
    cars, missed = ev.cars, ev.missed
    locos, railcars = ev.truth.locomotives, ev.truth.cars
    out = []
    for i in ev.false:
        centre = cars.center[i]
        kind = "other"
        if len(locos) and np.hypot(*(locos - centre).T).min() < MATCH_M * px:
            kind = "locomotive"
        else:
            point = Point(centre[1], centre[0])
            near = [k for k, poly in objects if poly.distance(point) < ON_OBJECT_M * px]
            near_cars = np.flatnonzero(np.hypot(*(railcars - centre).T) < BESIDE_M * px)
            if near:
                kind = min(near, key=KINDS.index)
            elif near_cars.size:
                kind = "off a missed" if np.isin(near_cars, missed).any() else "by a found"
        out.append(kind)
    return out


def offsets(ev: StationEvaluation, kinds: list[str]) -> list[str]:
    """Where each ``by a found`` box stands against the nearest true railcar: on its track (under
    2 m across it), on the next track (2-7 m) or further."""
    cars, railcars, gsd = ev.cars, ev.truth.cars, ev.count.window.gsd_m
    out = []
    for i, kind in zip(ev.false, kinds, strict=True):
        if kind != "by a found":
            continue
        d = railcars[np.argmin(np.hypot(*(railcars - cars.center[i]).T))] - cars.center[i]
        _, across = along_across(d[:1], d[1:], cars.angle_deg[i : i + 1])
        across_m = float(abs(across[0])) * gsd
        out.append("same track" if across_m < 2.0 else "next track" if across_m < 7.0 else "further")
    return out


class SceneResult(NamedTuple):
    gsd: float
    kinds: list[str]  # what each false railcar stands on
    methods: list[tuple[str, bool]]  # every compared detection's method, and whether it is false
    offsets: list[str]  # where each ``by a found`` box stands
    dashed: DashedBoxes  # the railcar boxes drawn dashed (unsure) and solid, and how many of each are false


def scene_kinds(job: tuple[str, int, str, str], crops: str | None = None) -> SceneResult:
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    truth = tif.with_suffix(".truth.geojson")
    (ev,) = evaluate_scene(tif, read_stations(station), truth)
    kinds = false_kinds(ev, lookalikes(truth, ev.count.window))
    if crops is not None and len(ev.false):
        write_false_crops(Path(crops), f"{suite}-{realism}_{i}", ev, kinds)
    false = set(ev.false.tolist())
    methods = [(str(m), k in false) for k, m in enumerate(ev.cars.method)]
    return SceneResult(round(ev.count.window.gsd_m, 2), kinds, methods, offsets(ev, kinds), ev.dashed_boxes())


def write_false_crops(folder: Path, stem: str, ev: StationEvaluation, kinds: list[str]) -> None:
    """One picture per false railcar (:func:`crops.error_crop`), named ``STEM_KIND_DETECTION.png``."""
    window, cars = ev.count.window, ev.cars
    shown = display_bgr(window)
    for k, kind in zip(ev.false.tolist(), kinds, strict=True):
        picture = error_crop(window, shown, cars, ev.false, list(ev.truth.rings), cars.center[k], k)
        write_crop(folder / f"{stem}_{kind.replace(' ', '-')}_{k}.png", picture)


def real_rows() -> list[tuple[str, list[str], DashedBoxes]]:
    """Per real scene: what its false railcars stand on, and its railcar boxes (dashed, false)."""
    rows = []
    for name, tif, station, truth_file in REAL_CASES:
        truth = SHARED_REAL / truth_file if truth_file else NO_RAILCARS
        (ev,) = evaluate_scene(SHARED_REAL / tif, read_stations(SHARED_REAL / station), truth)
        rows.append((f"real {name}", false_kinds(ev, []), ev.dashed_boxes()))
    return rows


UNSURE_WIDTHS = (7, 16, 16, 16, 23)


def unsure_row(label: str, boxes: Iterable[DashedBoxes]) -> str:
    """How many railcar boxes (summed over ``boxes``), the share drawn dashed, the share of the dashed
    and of the solid ones that are false, and the share of the false ones that are dashed."""
    one = list(boxes)
    unsure, sure = sum(b.unsure for b in one), sum(b.sure for b in one)
    unsure_false, sure_false = sum(b.unsure_false for b in one), sum(b.sure_false for b in one)

    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} {part / whole:4.0%}" if whole else "-"

    values = (
        str(unsure + sure),
        share(unsure, unsure + sure),
        share(unsure_false, unsure),
        share(sure_false, sure),
        share(unsure_false, unsure_false + sure_false),
    )
    return f"{label:<22}" + "".join(f"{v:>{w}}" for v, w in zip(values, UNSURE_WIDTHS, strict=True))


def row(label: str, kinds: Iterable[str]) -> str:
    tally = collections.Counter(kinds)
    n = sum(tally.values())
    cells = "".join(f"{tally[k]:>13}" for k in KINDS)
    return f"{label:<22}{n:>7}{cells}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(
        ap,
        suite="untouched",
        realism="v2",
        realisms=("v1", "v2", "v3", "town", "generic"),
        first=0,
        real_help="add the real scenes (../shared/real)",
    )
    ap.add_argument(
        "--crops",
        metavar="DIR",
        help="write a picture of each false railcar there (raw | annotated, benchmarks/crops.py)",
    )
    args = ap.parse_args(argv)
    results = map_scene_range(functools.partial(scene_kinds, crops=args.crops), args)
    chosen = f"{args.suite} {args.realism}, scenes {args.first}-{args.last - 1}"
    print(f"false railcars by what they stand on ({chosen})")
    print(f"{'':<22}{'false':>7}" + "".join(f"{k:>13}" for k in KINDS))
    print("-" * (29 + 13 * len(KINDS)))
    gsds = [g for g in GSDS if any(r.gsd == round(g, 2) for r in results)]
    for gsd in gsds:
        print(
            row(f"{args.suite} {gsd:.2f} m", [k for r in results if r.gsd == round(gsd, 2) for k in r.kinds])
        )
    print(row(f"{args.suite} all", [k for r in results for k in r.kinds]))
    print()
    print("false / all detections compared, by how the car was counted")
    print(f"{'':<22}" + "".join(f"{m:>16}" for m in METHODS))
    for gsd in gsds:
        pairs = [p for r in results if r.gsd == round(gsd, 2) for p in r.methods]
        cells = []
        for m in METHODS:
            flags = [f for meth, f in pairs if meth == m]
            cells.append(f"{sum(flags)}/{len(flags)} {sum(flags) / len(flags):4.0%}" if flags else "-")
        print(f"{args.suite + f' {gsd:.2f} m':<22}" + "".join(f"{c:>16}" for c in cells))
    print()
    print(f"railcar boxes the overlay draws dashed (unsure: the car model under {UNSURE_BELOW:g}) and solid")
    heads = ("boxes", "dashed", "false dashed", "false solid", "false that are dashed")
    print(f"{'':<22}" + "".join(f"{h:>{w}}" for h, w in zip(heads, UNSURE_WIDTHS, strict=True)))
    for gsd in gsds:
        print(unsure_row(f"{args.suite} {gsd:.2f} m", (r.dashed for r in results if r.gsd == round(gsd, 2))))
    print(unsure_row(f"{args.suite} all", (r.dashed for r in results)))
    where = collections.Counter(o for r in results for o in r.offsets)
    print(
        f"'by a found' boxes against the nearest true railcar: {where['same track']} on its track "
        f"(under 2 m across), {where['next track']} on the next (2-7 m), {where['further']} further"
    )
    if args.real:
        if SHARED_REAL.is_dir():
            real = real_rows()
            for label, kinds, _ in real:
                print(row(label, kinds))
            for label, _, boxes in real:
                print(unsure_row(label, [boxes]))
        else:
            print(f"(no {SHARED_REAL}: the real scenes are skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
