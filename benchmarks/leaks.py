"""Do the models judge a candidate by what tells the generators apart? Prints two tables.

Usage:
    python benchmarks/leaks.py [--first 600] [--last 800] [--per-gsd 6] [--per-sun 8] [--cache DIR]

The car model is fitted on generated yards (positives and negatives) and on
generated look-alike blocks (negatives only). Whatever tells the two
generators apart, and not what is in the picture, the trees may learn as
"no yard here", and a real scene that happens to fall on the blocks' side
loses its cars. Two such inputs were found:

- ``gsd_m`` (session 18). Every generated yard is made at one place in one
  projection, so its working GSD is the same to the micrometre (0.3000561 m,
  0.5000935, 0.7501403, 1.0001871), while each block has its own (0.30003,
  0.30011, ...). Since detector 0.6.6 the input is rounded to the centimetre
  (``candidates.GSD_DECIMALS``).
- ``sun_elevation`` (session 19). The yards all stand at one latitude in
  mid-morning, so their sun is 20-69 degrees high; the blocks' is 10-77.
  Since detector 0.6.6 the input is clipped to 23-65 degrees
  (``candidates.SUN_ELEVATION_RANGE_DEG``).

First table: for ``--per-gsd`` tuned plain yards of each GSD, the share of
candidates the shipped car model keeps (p >= min_car_probability) on
rolling stock and off it, with the GSD as generated (the window's own GSD,
before any rounding) and with the ``gsd_m`` input set to the round value.
Second table: for the ``--per-sun`` tuned plain yards with the lowest sun
and the ``--per-sun`` with the highest, the same shares with the
``sun_elevation`` input as the detector computed it and set to values
beyond the yards' range. Without a leak each row prints the same shares
across. Scenes FIRST..LAST-1 (tuned 600-799 are fitted on by no model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import GSDS, ensure_scene, scene_spec
from fit_car_model import scene_rows

from railcount.detect.candidates import FEATURES, car_probability
from railcount.detect.params import DetectorParams

ROOT = Path(__file__).resolve().parents[1]
LOW_SUNS = (19.0, 15.0, 10.0)
HIGH_SUNS = (72.0, 77.0)


def kept_shares(x: np.ndarray, on: np.ndarray, column: int | None = None, value: float = 0.0) -> str:
    """'cars kept  others kept' of candidates ``x`` (with input ``column`` set to ``value``)."""
    if column is not None:
        x = x.copy()
        x[:, column] = value
    kept = car_probability(x) >= DetectorParams().min_car_probability
    return f"{kept[on].mean():5.2f} {kept[~on].mean():5.2f}"


def rows_of(ids: list[int], cache: str) -> tuple[np.ndarray, np.ndarray]:
    """Candidate inputs and labels of tuned plain yards ``ids``."""
    parts = [scene_rows((i, "v1", cache)) for i in ids]
    return np.vstack([f for f, _, _ in parts]), np.vstack([y for _, y, _ in parts])


def sun_of(i: int, cache: str) -> float:
    """The generator's sun elevation (degrees) for tuned plain yard ``i``."""
    tif, _ = ensure_scene("tuned", i, cache)
    return float(json.loads(tif.with_suffix(".truth.json").read_text())["sun_elevation_deg"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--first", type=int, default=600)
    ap.add_argument("--last", type=int, default=800, help="one past the last scene")
    ap.add_argument("--per-gsd", type=int, default=6, help="tuned plain yards per GSD")
    ap.add_argument(
        "--per-sun", type=int, default=8, help="tuned plain yards with the lowest (and highest) sun"
    )
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    args = ap.parse_args(argv)
    scenes = range(args.first, args.last)

    at = FEATURES.index("gsd_m")
    print("cars kept / others kept: shares of candidates on rolling stock / off it that the car model keeps")
    print(f"{'gsd':>5} {'as generated':>13} {'cars  others':>12} {'as round':>9} {'cars  others':>12}")
    for nominal in GSDS:
        ids = [i for i in scenes if float(scene_spec("tuned", i, "v1")["gsd_m"]) == nominal][: args.per_gsd]
        x, labels = rows_of(ids, args.cache)
        on = labels[:, 0] > 0.5
        print(
            f"{nominal:5.2f} {np.median(labels[:, 4]):13.7f} {kept_shares(x, on):>12}"
            f" {nominal:9.2f} {kept_shares(x, on, at, nominal):>12}"
        )

    at = FEATURES.index("sun_elevation")
    sun = {i: sun_of(i, args.cache) for i in scenes}
    by_sun = sorted(scenes, key=sun.__getitem__)
    print()
    print("sun elevation input (degrees): as the detector computed it, then set to each value")
    for name, ids, values in (
        ("lowest", by_sun[: args.per_sun], LOW_SUNS),
        ("highest", by_sun[-args.per_sun :], HIGH_SUNS),
    ):
        x, labels = rows_of(ids, args.cache)
        on = labels[:, 0] > 0.5
        suns = [sun[i] for i in ids]
        head = f"{len(ids)} yards, {name} sun ({min(suns):.1f}-{max(suns):.1f}): as computed"
        cells = "   ".join(f"{v:g}: {kept_shares(x, on, at, v)}" for v in values)
        print(f"{head:<45} {kept_shares(x, on)}   {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
