"""Does the car model judge a candidate by the GSD's last decimals? Prints a table.

Usage:
    python benchmarks/gsd_leak.py [--first 600] [--last 700] [--per-gsd 6] [--cache DIR]

Every generated yard is made at one place in one projection, so its working
GSD is the same to the micrometre (0.3000561 m, 0.5000935, 0.7501403,
1.0001871), while each look-alike block has its own (0.30003, 0.30011,
...). A model that splits the ``gsd_m`` input between those values tells
yards from blocks by it, and a real scene, whose GSD is usually a round
number, falls on one side or the other by chance. For ``--per-gsd`` tuned
plain yards of each GSD (scenes FIRST..LAST-1, which no model is fitted on),
the shipped car model's share of candidates kept (p >= min_car_probability)
on rolling stock and off it is printed twice: with the GSD as generated,
and with the ``gsd_m`` input set to the round value. A model without the
leak prints the same shares twice. (Found in session 18; docs/detector.md.
Since detector 0.6.6 the input is rounded to the centimetre,
``candidates.GSD_DECIMALS``; the ``as generated`` column is the window's
own GSD, before that rounding.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import GSDS, scene_spec
from fit_car_model import scene_rows

from railcount.detect.candidates import FEATURES, car_probability
from railcount.detect.params import DetectorParams

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--first", type=int, default=600)
    ap.add_argument("--last", type=int, default=700, help="one past the last scene")
    ap.add_argument("--per-gsd", type=int, default=6, help="tuned plain yards per GSD")
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    args = ap.parse_args(argv)
    at = FEATURES.index("gsd_m")
    threshold = DetectorParams().min_car_probability
    print(
        f"{'gsd':>5} {'as generated':>13} {'cars kept':>10} {'others kept':>12}"
        f" {'as round':>9} {'cars kept':>10} {'others kept':>12}"
    )
    for nominal in GSDS:
        ids = [
            i for i in range(args.first, args.last) if float(scene_spec("tuned", i, "v1")["gsd_m"]) == nominal
        ]
        parts = [scene_rows((i, "v1", args.cache)) for i in ids[: args.per_gsd]]
        x = np.vstack([f for f, _, _ in parts])
        labels = np.vstack([y for _, y, _ in parts])
        on = labels[:, 0] > 0.5
        generated = car_probability(x) >= threshold
        rounded = x.copy()
        rounded[:, at] = nominal
        exact = car_probability(rounded) >= threshold
        print(
            f"{nominal:5.2f} {np.median(labels[:, 4]):13.7f} {generated[on].mean():10.2f}"
            f" {generated[~on].mean():12.2f}"
            f" {nominal:9.2f} {exact[on].mean():10.2f} {exact[~on].mean():12.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
