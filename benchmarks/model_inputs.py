"""Which of the car model's inputs tell real railcars from generated ones; prints tables.

Usage:  python benchmarks/model_inputs.py [--suite tuned] [--realism v1|v2|generic]
                                          [--first 600] [--last 700] [--gsds 0.75,1.0]

The car model (``railcount/detect/car_model.py``) is fitted on generated
scenes only. On Muttenz west averaged to 1.0 m it turns down a candidate
on a third of the wagons, where on generated yards it turns down almost
none (README, *Real imagery made coarser*). ``car_profiles.py`` compares
the pictures; this script compares what the model reads.

For every true railcar, the candidates the detector proposes within 2.5 m
of its centre (:func:`~railcount.detect.detector.candidates_in_station`,
before any model judges them) and their :data:`~railcount.detect.candidates.FEATURES`
rows are gathered: on the chosen generated scenes at each GSD, and on
Muttenz west made coarser as ``benchmarks/real_gsd.py`` makes it (area
average, the generator's 0.55 px blur, four half-pixel grid offsets
pooled). Per GSD it prints:

* how many of those on-car candidates the car model scores under
  ``min_car_probability``, generated against real;
* the same share for the real candidates after one group of inputs is set
  to the generated cars' median (the model then cannot tell them apart by
  that group): the groups whose values hold the real wagons back;
* the inputs whose real median lies outside the generated 10th-90th
  percentiles, with both distributions, and the median of the generated
  candidates the model turns down (not on a railcar): where the real
  wagons look like what the model learned to refuse.

``--sun-above DEG`` keeps only the generated candidates under a sun
higher than DEG (Muttenz's, assumed at 10:30 on its date, is 58.7 degrees):
whether the real wagons still stand apart from generated cars under a
sun as high. Needs ``../shared/real`` (prints a note and stops without
it). About 15 s for 100 scenes once they are cached.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from railcount.detect.candidates import FEATURES
from railcount.detect.detector import _car_probabilities, candidates_in_station
from railcount.detect.params import DetectorParams
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_centres
from railcount.models import SceneWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import SHARED_REAL, ensure_scene, map_scene_range, real_comparison_parser
from real_gsd import coarse_copies

ON_CAR_M = 2.5
"""A candidate within this of a true railcar's centre stands on it."""
GROUPS = {
    "body and shadow (base)": lambda n: not n.startswith(("ctx_", "ext_", "rail_", "gsd_")),
    "around: brightness (ctx_rel)": lambda n: n.startswith("ctx_rel_"),
    "around: texture (ctx_smooth)": lambda n: n.startswith("ctx_smooth_"),
    "around: shadow share (ctx_dark)": lambda n: n.startswith("ctx_dark_"),
    "around, shadow side (ctx_*_shadow)": lambda n: n.startswith("ctx_") and "_shadow" in n,
    "around, sun side (ctx_*_sun)": lambda n: n.startswith("ctx_") and "_sun" in n,
    "around: every ctx_ input": lambda n: n.startswith("ctx_"),
    "past the ends (ext_)": lambda n: n.startswith("ext_"),
    "rails one track over (rail_pair)": lambda n: n == "rail_pair",
}
"""Groups of inputs set to the generated median together (by name)."""


def split_candidates(window: SceneWindow, truth: Path) -> tuple[np.ndarray, np.ndarray]:
    """The described candidates' feature rows: those on a true railcar, and the others."""
    dets, features, _ = candidates_in_station(window)
    described = np.isfinite(features).all(axis=1)
    cars = truth_centres(truth, window)
    if not len(dets) or not len(cars):
        return np.zeros((0, len(FEATURES))), features[described]
    d = np.hypot(*(dets.center[:, None, :] - cars[None, :, :]).transpose(2, 0, 1))
    on = d.min(axis=1) < ON_CAR_M / window.gsd_m
    return features[on & described], features[~on & described]


def scene_rows(job: tuple[str, int, str, str]) -> tuple[float, np.ndarray, np.ndarray]:
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    (window,) = read_windows(tif, read_stations(station))
    on, off = split_candidates(window, tif.with_suffix(".truth.geojson"))
    return round(window.gsd_m, 2), on, off


def real_rows(gsd: float, folder: Path) -> np.ndarray:
    """On-car candidates of Muttenz west made ``gsd`` coarse, the four grid offsets pooled."""
    muttenz = SHARED_REAL / "muttenz"
    stations = read_stations(muttenz / "station_west.geojson")
    rows = []
    for tif in coarse_copies(muttenz / "muttenz_2018.tif", gsd, 0.55, folder):
        (window,) = read_windows(tif, stations)
        rows.append(split_candidates(window, muttenz / "truth_west.geojson")[0])
    return np.vstack(rows)


def turned_down(features: np.ndarray, least: float) -> float:
    return float((_car_probabilities(features) < least).mean()) if len(features) else float("nan")


def report(gsd: float, generated: np.ndarray, refused: np.ndarray, real: np.ndarray, least: float) -> None:
    print(f"\n{gsd:g} m: on-car candidates, generated {len(generated)}, Muttenz west (4 offsets) {len(real)}")
    print(
        f"  turned down (p < {least:g}): generated {turned_down(generated, least):.1%}, "
        f"real {turned_down(real, least):.1%}"
    )
    median = np.median(generated, axis=0)
    print(f"  {'real, turned down after setting a group to the generated median':<66}")
    for name, member in GROUPS.items():
        cols = [j for j, f in enumerate(FEATURES) if member(f)]
        moved = real.copy()
        moved[:, cols] = median[cols]
        print(f"    {name:<40}{len(cols):>4} inputs {turned_down(moved, least):>8.1%}")
    print(f"  {'input':<22}{'generated p10/50/90':>22}{'real p10/50/90':>22}{'refused p50':>13}")
    for j, name in enumerate(FEATURES):
        lo, hi = np.percentile(generated[:, j], [10, 90])
        mid = float(np.median(real[:, j]))
        if lo == hi or lo <= mid <= hi:
            continue  # inside the generated range (or a constant there)

        def pct(x: np.ndarray, j: int = j) -> str:
            return "/".join(f"{v:.2f}" for v in np.percentile(x[:, j], [10, 50, 90]))

        refused_mid = f"{np.median(refused[:, j]):.2f}" if len(refused) else "-"
        print(f"  {name:<22}{pct(generated):>22}{pct(real):>22}{refused_mid:>13}")


def main(argv: list[str] | None = None) -> int:
    ap = real_comparison_parser(
        __doc__.split("\n")[0],
        last=700,
        gsds="0.75,1.0",
        gsds_help="GSDs to compare (metres, comma-separated)",
    )
    ap.add_argument(
        "--sun-above",
        type=float,
        metavar="DEG",
        help="only generated candidates under a sun higher than DEG degrees (the model's sun_elevation "
        "input; Muttenz's is 58.7)",
    )
    args = ap.parse_args(argv)
    if not (SHARED_REAL / "muttenz").is_dir():
        print(f"no {SHARED_REAL / 'muttenz'}: nothing to compare with (the real scenes are not in the repo)")
        return 0
    gsds = args.gsds
    least = DetectorParams().min_car_probability
    results = map_scene_range(scene_rows, args)
    under = f", under a sun above {args.sun_above:g} degrees" if args.sun_above is not None else ""
    print(
        f"the car model's inputs on candidates standing on true railcars: {args.suite} {args.realism} "
        f"scenes {args.first}-{args.last - 1}{under}, against Muttenz west made coarser"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for gsd in gsds:
            mine = [r for r in results if abs(r[0] - gsd) < 1e-6]
            if not mine:
                print(f"\n{gsd:g} m: no generated scene of this GSD in the range")
                continue
            generated = np.vstack([on for _, on, _ in mine])
            others = np.vstack([off for _, _, off in mine])
            if args.sun_above is not None:
                sun = FEATURES.index("sun_elevation")
                generated = generated[generated[:, sun] > args.sun_above]
                others = others[others[:, sun] > args.sun_above]
            refused = others[_car_probabilities(others) < least] if len(others) else others
            report(gsd, generated, refused, real_rows(gsd, Path(tmp)), least)
    return 0


if __name__ == "__main__":
    sys.exit(main())
