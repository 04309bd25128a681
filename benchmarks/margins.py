"""How a real scene's count moves with the margin read around its station; prints a table.

Usage:  python benchmarks/margins.py [--margins 0,10,25,40,60,100] [--set NAME=VALUE ...]

A station's window is its polygon's bounding box and a margin (25 m by default, ``read_windows``'s
``margin_m``), so that a car across the polygon's edge is seen whole. Nothing inside the polygon
changes with the margin, and only cars whose centre lies in the polygon are counted, but the
detector makes some decisions over its whole window: each track frame chooses the side its cars'
shadows fall on from the window's evidence where that evidence is clear, and from the sun where it
is not. This script counts the four bundled samples (their files give the time; against their truth)
and the real scenes of ``../shared/real`` (Muttenz west against its 43 wagons, the Joplin rail line
and parking lot against none) with each margin of ``--margins``; the real scenes twice: as their
files give the time (a date only, so the sun is assumed at 10:30 local solar time), and with the
shadows' bearing read off the image (``--shadows-toward``: Muttenz 28 degrees, Joplin 75). Each row
gives the railcars counted at each margin and, where there is a truth, the true cars found
(centres within half a car length).

Session 69 found the Joplin lot's 0 true at the default margin only (docs/loader.md, *Tiles read
the whole window's levels and directions*).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import REAL_CASES, SHARED_REAL, add_set_argument, params_of, parse_overrides

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SAMPLE_CASES = tuple(
    (tif.stem, tif, SAMPLES / "tumangang_station.geojson", tif.with_suffix(".truth.geojson"))
    for tif in sorted(SAMPLES.glob("tumangang_*.tif"))
)
"""The bundled samples, as :data:`REAL_CASES` lists the real scenes (paths here are absolute)."""

BEARINGS = {"muttenz west": 28.0, "joplin rail": 75.0, "joplin lot": 75.0}
"""The compass bearing each scene's shadows point to, read off the image (as benchmarks/untimed.py)."""

MATCH_M = 7.5


def margin_list(text: str) -> list[float]:
    """An argparse type: margins in metres, comma-separated."""
    try:
        out = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        out = []
    if not out or any(m < 0 for m in out):
        raise argparse.ArgumentTypeError(f"expected margins of 0 m or more, comma-separated; got {text!r}")
    return out


def counted(case: tuple, margin: float, bearing: float | None, params) -> tuple[int, int | None, int]:
    """(railcars, true cars found or None, true cars) of one real scene read with ``margin`` (metres)
    around its station, with the shadows' ``bearing`` when given."""
    import cv2

    from railcount.detect.detector import detect
    from railcount.evaluate import match_centres
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_centres

    cv2.setNumThreads(1)
    _, tif, station, truth_file = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the assumed sun's warning is what this table is about
        (window,) = read_windows(SHARED_REAL / tif, read_stations(SHARED_REAL / station), margin_m=margin)
        # (a sample's paths are absolute: SHARED_REAL / an absolute path is that path)
        if bearing is not None:
            window = dataclasses.replace(window, shadows_toward_deg=bearing)
        found = detect(window, params)
    cars = found.subset(found.kind != "locomotive")
    if truth_file is None:
        return len(cars), None, 0
    truth = truth_centres(SHARED_REAL / truth_file, window)
    return len(cars), match_centres(cars.center, truth, MATCH_M / window.gsd_m).true_positives, len(truth)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--margins", type=margin_list, default=margin_list("0,10,25,40,60,100"))
    add_set_argument(ap)
    args = ap.parse_args(argv)
    params = params_of(parse_overrides(args.set, ap))
    head = f"{'scene':<26}{'sun':<10}{'truth':>6}  " + "".join(f"{f'{m:g} m':>9}" for m in args.margins)
    print("railcars counted (true cars found) with each margin read around the station")
    print(head)
    print("-" * len(head))
    rows = [(case, "time", None) for case in SAMPLE_CASES]
    if SHARED_REAL.is_dir():
        for case in REAL_CASES:
            bearing = BEARINGS[case[0]]
            rows += [(case, "assumed", None), (case, f"{bearing:g} deg", bearing)]
    for case, label, bearing in rows:
        cells, truth = [], 0
        for m in args.margins:
            n, hit, truth = counted(case, m, bearing, params)
            cells.append(f"{n}" if hit is None else f"{n} ({hit})")
        print(f"{case[0]:<26}{label:<10}{truth:>6}  " + "".join(f"{c:>9}" for c in cells), flush=True)
    if not SHARED_REAL.is_dir():
        print(f"(real scenes skipped: {SHARED_REAL} not found)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
