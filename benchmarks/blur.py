"""How the count holds up on softer imagery than the generator's; prints a table.

Usage:  python benchmarks/blur.py [--scenes N] [--blocks M] [--levels 1,1.5,2] [--workers 2]

Real products are often softer than a sensor's nominal GSD suggests: many
"0.5 m" products are resampled from 0.7-0.8 m, and every one has its own
optics and processing. The generator's sensor blurs with a Gaussian of
0.55 output pixels; this script asks what happens when that is 1.5 or 2
times wider, with everything else the same:

* generated yards: the first N tuned plain scenes (default 40, ten per GSD),
  each rendered again with the sensor's blur multiplied by each level (the
  same yard, cars, sun and noise; realism v1 with a ``blur`` condition, so
  level 1 is the plain scene through the conditions path), cached in
  ``bench_cache/blur-<level>/``;
* look-alike blocks: the first M tuned ``town`` blocks (default 20, truth 0),
  their v2 condition plus the blur;
* real scenes (``../shared/real``, when present): Muttenz west and both
  Joplin polygons, their pixels blurred in memory by the Gaussian that
  widens an assumed 0.55 px blur to ``0.55 * level`` px, written to a
  temporary GeoTIFF and counted like any scene.

Rows are per level: the count error (WAPE, bias), F1 and the interval's
coverage on the yards, per GSD and overall; false railcars on the blocks;
the real counts; ``sec`` is the mean time to count a scene (two at a time).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (
    NO_RAILCARS,
    REAL_CASES,
    ROOT,
    SHARED_REAL,
    Outcome,
    ensure_spec,
    outcome,
    print_levels,
    scene_spec,
)

from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene

SENSOR_SIGMA_PX = 0.55
"""The generator's sensor blur (``railcount.synth.sensor``), in output pixels."""


def blurred_spec(kind: str, i: int, level: float) -> dict[str, object]:
    """The i-th tuned yard (``kind="yard"``) or look-alike block (``"town"``) with the blur at ``level``."""
    spec = scene_spec("tuned", i, "v1" if kind == "yard" else "town")
    conditions = [c for c in str(spec.get("conditions") or "").split(",") if c]
    spec["conditions"] = ",".join([*conditions, f"blur={level:g}"])
    return spec


def ensure_blurred(kind: str, i: int, level: float, cache: Path) -> tuple[Path, Path]:
    return ensure_spec(blurred_spec(kind, i, level), cache / f"blur-{level:g}" / kind)


def run_generated(job: tuple[str, int, float, str]) -> tuple[str, float, Outcome]:
    kind, i, level, cache = job
    tif, station = ensure_blurred(kind, i, level, Path(cache))
    t0 = time.perf_counter()
    (ev,) = evaluate_scene(tif, read_stations(station), tif.with_suffix(".truth.geojson"))
    return kind, level, outcome(kind, tif.stem, ev, time.perf_counter() - t0)


def extra_sigma_px(level: float) -> float:
    """The Gaussian that widens a ``SENSOR_SIGMA_PX`` blur to ``level`` times it."""
    return SENSOR_SIGMA_PX * math.sqrt(max(0.0, level * level - 1.0))


def blurred_copy(src: Path, level: float, folder: Path) -> Path:
    """``src`` with every band blurred by :func:`extra_sigma_px` (same profile), in ``folder``."""
    out = folder / f"{src.stem}_blur{level:g}.tif"
    if out.exists():
        return out
    with rasterio.open(src) as ds:
        profile, tags, colours = ds.profile, ds.tags(), ds.colorinterp
        descriptions = ds.descriptions
        bands = ds.read()
    sigma = extra_sigma_px(level)
    if sigma > 0:
        blurred = [cv2.GaussianBlur(b.astype(np.float32), (0, 0), sigma) for b in bands]
        info = np.iinfo(bands.dtype) if np.issubdtype(bands.dtype, np.integer) else None
        stack = np.stack(blurred)
        if info is not None:
            stack = np.clip(np.rint(stack), info.min, info.max)
        bands = stack.astype(bands.dtype)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(bands)
        dst.update_tags(**tags)  # the acquisition time is what places the sun
        dst.colorinterp = colours
        for k, text in enumerate(descriptions, start=1):
            if text:
                dst.set_band_description(k, text)
    return out


def real_rows(levels: list[float]) -> list[str]:
    if not SHARED_REAL.is_dir():
        return ["(../shared/real is absent: no real rows)"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for level in levels:
            cells = []
            for name, tif, st, truth in REAL_CASES:
                copy = blurred_copy(SHARED_REAL / tif, level, Path(tmp))
                truth_file = SHARED_REAL / truth if truth else NO_RAILCARS
                (ev,) = evaluate_scene(copy, read_stations(SHARED_REAL / st), truth_file)
                found = f" ({ev.match.true_positives} found)" if truth else ""
                cells.append(f"{name} {ev.count.result.railcars}{found}")
            rows.append(f"blur x{level:<4g} (+{extra_sigma_px(level):.2f} px)  " + ", ".join(cells))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=40, help="tuned plain yards (default 40)")
    ap.add_argument("--blocks", type=int, default=20, help="tuned look-alike blocks (default 20; 0: none)")
    ap.add_argument("--levels", default="1,1.5,2", help="blur levels, times the sensor's (default 1,1.5,2)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    args = ap.parse_args(argv)
    levels = [float(v) for v in args.levels.split(",")]
    jobs = [("yard", i, lv, args.cache) for lv in levels for i in range(args.scenes)]
    jobs += [("town", i, lv, args.cache) for lv in levels for i in range(args.blocks)]
    with ProcessPoolExecutor(args.workers) as pool:
        done = list(pool.map(run_generated, jobs, chunksize=2))

    print_levels(
        done,
        levels,
        name="blur",
        prefix="x",
        title=f"{args.scenes} tuned plain yards per level, the sensor's blur (0.55 px) times the level",
        blocks=f"look-alike blocks (tuned town 0-{args.blocks - 1}, truth 0): false railcars"
        if args.blocks
        else None,
    )
    print("real scenes, pixels blurred in memory (Muttenz west: 43 wagons; Joplin: 0)")
    for row in real_rows(levels):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
