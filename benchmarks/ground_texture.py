"""How rough the ground around the cars is, generated against real, at each GSD; prints a table.

Usage:  python benchmarks/ground_texture.py [--suite tuned] [--realism v1|v2|v3|generic]
                                            [--first 600] [--last 640] [--gsds 0.3,0.5,0.75,1.0]

The car model reads the roughness of the ground around each candidate
(its ``ctx_smooth_*`` inputs, from the detector's texture measure) and on
Muttenz west averaged to 1.0 m it finds the real wagons' surroundings far
rougher than any generated car's (``benchmarks/model_inputs.py``). This
script measures that roughness with no detector in it: the detector's
fine texture, the absolute Laplacian of log luminance after its small
blur (:func:`railcount.detect.cars.texture` before the band average), on
the window prepared as the detector prepares it (no finer than its working
grid, :func:`railcount.detect.prepare.prepare`), over the
station polygon's pixels that lie more than ``CLEAR_M`` from every true
railcar's outline and every locomotive's centre (so ground, track,
ballast, masts and buildings, not the cars and their shadows).

Rows: per GSD, the generated scenes' median texture (the 10th, 50th and
90th percentiles over the scenes of each scene's 25th / 50th / 75th
percentile), then Muttenz west at its own 0.255 m and averaged to each GSD
as ``benchmarks/real_gsd.py`` makes it (grid offset 0). Needs
``../shared/real`` for the real rows (prints a note without it). About a
second a scene once the scenes are cached.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_stock
from railcount.models import SceneWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import SHARED_REAL, ensure_scene, gsd_list
from car_profiles import working_texture
from real_gsd import coarser

CLEAR_M = 6.0
"""Pixels within this of a true railcar's outline (or 12 m of a locomotive's centre) are left out."""
QUANTILES = (25, 50, 75)


def ground_mask(window: SceneWindow, truth: Path) -> np.ndarray:
    """The station's pixels (window grid) clear of the true rolling stock and its shadows."""
    stock = truth_stock(truth, window)
    near = np.zeros(window.shape, np.uint8)
    rings = [np.round(r[:, ::-1]).astype(np.int32) for r in stock.rings]  # (col, row) for OpenCV
    if rings:
        cv2.fillPoly(near, rings, 1)
    reach = max(1, round(CLEAR_M / window.gsd_m))
    near = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    for row, col in stock.locomotives:
        cv2.circle(near, (round(col), round(row)), 2 * reach, 1, -1)
    return window.inside & window.data & (near == 0)


def texture_quantiles(window: SceneWindow, truth: Path) -> np.ndarray:
    """The 25th / 50th / 75th percentiles of the detector's fine texture over the ground of ``window``."""
    lap, data = working_texture(window)
    mask = ground_mask(window, truth).view(np.uint8)
    if mask.shape != lap.shape:
        mask = cv2.resize(mask, (lap.shape[1], lap.shape[0]), interpolation=cv2.INTER_NEAREST)
    mask = mask.view(bool) & data
    if not mask.any():
        return np.full(len(QUANTILES), np.nan)
    return np.percentile(lap[mask], QUANTILES)


def generated_rows(args: argparse.Namespace, gsds: list[float]) -> list[tuple[str, int, np.ndarray]]:
    by_gsd: dict[float, list[np.ndarray]] = {g: [] for g in gsds}
    for i in range(args.first, args.last):
        tif, station = ensure_scene(args.suite, i, args.cache, args.realism)
        (window,) = read_windows(tif, read_stations(station))
        gsd = round(window.gsd_m, 2)
        if gsd in by_gsd:
            by_gsd[gsd].append(texture_quantiles(window, tif.with_suffix(".truth.geojson")))
    rows = []
    for gsd, found in by_gsd.items():
        if found:
            rows.append((f"{args.suite} {args.realism} {gsd:.2f} m", len(found), np.vstack(found)))
    return rows


def real_rows(gsds: list[float]) -> list[tuple[str, int, np.ndarray]]:
    folder = SHARED_REAL / "muttenz"
    src, truth = folder / "muttenz_2018.tif", folder / "truth_west.geojson"
    stations = read_stations(folder / "station_west.geojson")
    rows = []
    (window,) = read_windows(src, stations)
    rows.append((f"muttenz west {window.gsd_m:.3f} m", 1, texture_quantiles(window, truth)[None]))
    with tempfile.TemporaryDirectory() as tmp:
        for gsd in gsds:
            path = coarser(src, gsd, 0.55, Path(tmp) / f"muttenz_{gsd:g}.tif")
            (window,) = read_windows(path, stations)
            rows.append((f"muttenz west {gsd:.2f} m", 1, texture_quantiles(window, truth)[None]))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="tuned", choices=("tuned", "untouched", "fresh"))
    ap.add_argument("--realism", default="v1", choices=("v1", "v2", "v3", "generic"))
    ap.add_argument("--first", type=int, default=600)
    ap.add_argument("--last", type=int, default=640, help="one past the last scene")
    ap.add_argument("--gsds", type=gsd_list, default="0.3,0.5,0.75,1.0")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parents[1] / "bench_cache"))
    args = ap.parse_args(argv)
    gsds = args.gsds
    rows = generated_rows(args, gsds)
    if SHARED_REAL.is_dir():
        rows += real_rows(gsds)
    else:
        print(f"note: {SHARED_REAL} not found; the real rows are left out")
    print("fine texture of the ground (|Laplacian of log luminance|), cars and 6 m around them left out")
    print(f"{'scenes':<26} {'n':>3}   {'p25':>17}   {'p50':>17}   {'p75':>17}")
    print("-" * 90)
    for label, n, q in rows:
        cells = []
        for k in range(len(QUANTILES)):
            if n > 1:
                lo, mid, hi = np.percentile(q[:, k], (10, 50, 90))
                cells.append(f"{mid:5.3f} ({lo:5.3f}-{hi:5.3f})")
            else:
                cells.append(f"{q[0, k]:5.3f}{'':12}")
        print(f"{label:<26} {n:>3}   " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
