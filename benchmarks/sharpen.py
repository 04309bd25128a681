"""How the count holds up on sharpened imagery; prints a table.

Usage:  python benchmarks/sharpen.py [--first 600] [--last 700] [--amounts 0,0.5,1,2] [--workers 2]

Many image products are sharpened before delivery (an unsharp mask, or a
"modulation transfer function compensation"), and a picture viewed in a GIS
often is too. The generator's scenes are not: its sensor blurs with a
Gaussian of 0.55 output pixels and leaves it there. This script sharpens
the pixels with an unsharp mask (``x + a * (x - G(x))``, ``G`` a Gaussian of
:data:`SIGMA_PX` pixels, ``a`` each ``--amounts``; 0 is the scene as
generated) and counts them again:

* generated yards: tuned plain scenes ``--first`` to ``--last`` - 1 (default
  600-699, which no model is fitted on), from the accuracy benchmark's cache;
* look-alike blocks with no railcars: as many tuned ``town`` blocks
  (``--blocks``, default 20, from ``--first``);
* real scenes (``../shared/real``, when present): Muttenz west against its
  43 wagons and both Joplin polygons (no railcars), at their own GSD and made
  coarser to 0.75 and 1.0 m as ``benchmarks/real_gsd.py`` makes them (one
  grid offset), sharpened after the averaging, as a coarse product is; the
  Joplin file gives a date but no time of day, so it is counted with the sun
  assumed and again with its shadows' bearing (75 degrees, as
  ``benchmarks/untimed.py`` reads it).

Rows: per amount and GSD, the count error (WAPE, bias), F1 and the
interval's coverage, as ``benchmarks/accuracy.py`` prints them; false
railcars on the blocks; the real counts.
"""

from __future__ import annotations

import argparse
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
    GSDS,
    NO_RAILCARS,
    REAL_CASES,
    ROOT,
    SHARED_REAL,
    Outcome,
    at_gsd,
    ensure_scene,
    outcome,
    summary_row,
)
from real_gsd import coarser

from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene

SIGMA_PX = 1.0
"""The unsharp mask's Gaussian, in the image's pixels (a common setting of image software)."""

JOPLIN_BEARING = 75.0
"""Which way the Joplin scene's shadows point, read off the image (``benchmarks/untimed.py``)."""


def sharpened(src: Path, amount: float, dst: Path) -> Path:
    """``src`` with every band sharpened by an unsharp mask of ``amount`` (same profile and tags)."""
    with rasterio.open(src) as ds:
        profile, tags, colours, descriptions = ds.profile, ds.tags(), ds.colorinterp, ds.descriptions
        bands = ds.read()
        mask = ds.read_masks(1) if ds.nodata is None else None
    if amount > 0:
        top = float(np.iinfo(bands.dtype).max) if np.issubdtype(bands.dtype, np.integer) else np.inf
        out = []
        for b in bands.astype(np.float32):
            out.append(np.clip(np.rint(b + amount * (b - cv2.GaussianBlur(b, (0, 0), SIGMA_PX))), 0, top))
        bands = np.stack(out).astype(bands.dtype)
    if profile.get("compress", "").lower() == "jpeg":
        profile.update(compress="deflate", photometric=None)
    profile = {k: v for k, v in profile.items() if v is not None}
    with rasterio.open(dst, "w", **profile) as out_ds:
        out_ds.write(bands)
        out_ds.update_tags(**tags)  # the acquisition time is what places the sun
        out_ds.colorinterp = colours
        for k, text in enumerate(descriptions, start=1):
            if text:
                out_ds.set_band_description(k, text)
        if mask is not None and not mask.all():
            out_ds.write_mask(mask)
    return dst


def run_generated(job: tuple[str, int, float, str, str]) -> tuple[str, float, Outcome]:
    kind, i, amount, cache, tmp = job
    tif, station = ensure_scene("tuned", i, cache, "v1" if kind == "yard" else "town")
    copy = sharpened(tif, amount, Path(tmp) / f"{kind}_{i}_{amount:g}.tif")
    t0 = time.perf_counter()
    (ev,) = evaluate_scene(copy, read_stations(station), tif.with_suffix(".truth.geojson"))
    copy.unlink()
    return kind, amount, outcome(kind, tif.stem, ev, time.perf_counter() - t0)


def real_rows(amounts: list[float]) -> list[str]:
    if not SHARED_REAL.is_dir():
        return ["(../shared/real is absent: no real rows)"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for gsd in (None, 0.75, 1.0):
            for amount in amounts:
                cells = []
                for name, tif, st, truth in REAL_CASES:
                    src = SHARED_REAL / tif
                    if gsd is not None:
                        src = coarser(src, gsd, 0.55, folder / f"{src.stem}_{gsd:g}m.tif")
                    copy = sharpened(src, amount, folder / f"{src.stem}_sharp{amount:g}.tif")
                    truth_file = SHARED_REAL / truth if truth else NO_RAILCARS
                    (ev,) = evaluate_scene(copy, read_stations(SHARED_REAL / st), truth_file)
                    cell = f"{name} {ev.count.result.railcars}"
                    if truth:
                        cell += f" ({ev.match.true_positives} found)"
                    else:
                        (bear,) = evaluate_scene(
                            copy, read_stations(SHARED_REAL / st), truth_file, shadows_toward=JOPLIN_BEARING
                        )
                        cell += f" / {bear.count.result.railcars}"
                    cells.append(cell)
                where = "native" if gsd is None else f"{gsd:.2f} m"
                rows.append(f"{where:<7} sharpen {amount:<4g}  " + ", ".join(cells))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=600, help="first tuned scene (default 600)")
    ap.add_argument("--last", type=int, default=700, help="one past the last tuned scene (default 700)")
    ap.add_argument("--blocks", type=int, default=20, help="tuned look-alike blocks (default 20; 0: none)")
    ap.add_argument("--amounts", default="0,0.5,1,2", help="unsharp-mask amounts (default 0,0.5,1,2)")
    ap.add_argument("--no-real", action="store_true", help="leave out the real scenes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    args = ap.parse_args(argv)
    amounts = [float(v) for v in args.amounts.split(",")]
    if any(a < 0 for a in amounts) or args.last <= args.first:
        ap.error("amounts must be 0 or more, and --last above --first")
    with tempfile.TemporaryDirectory() as tmp:
        scenes = range(args.first, args.last)
        jobs = [("yard", i, a, args.cache, tmp) for a in amounts for i in scenes]
        blocks = range(args.first, args.first + args.blocks)
        jobs += [("town", i, a, args.cache, tmp) for a in amounts for i in blocks]
        with ProcessPoolExecutor(args.workers) as pool:
            done = list(pool.map(run_generated, jobs, chunksize=2))

    header = (
        f"{'sharpen / gsd':<22} {'n':>4} {'truth':>6} {'count':>6} {'WAPE':>6} {'bias':>7} "
        f"{'P':>5} {'R':>5} {'F1':>5} {'P2.5':>6} {'R2.5':>6} {'in':>5} {'span':>5} {'sec':>6}"
    )
    print(
        f"tuned plain yards {args.first}-{args.last - 1}, sharpened by an unsharp mask "
        f"(amount a, Gaussian {SIGMA_PX:g} px; 0: as generated)"
    )
    print(header)
    print("-" * len(header))
    for amount in amounts:
        mine = [o for kind, a, o in done if kind == "yard" and a == amount]
        for g in GSDS:
            part = at_gsd(mine, g)
            if part:
                print(summary_row(f"a {amount:g} {g:.2f} m", part))
        print(summary_row(f"a {amount:g} all", mine))
        print("-" * len(header))
    if args.blocks:
        span = f"{args.first}-{args.first + args.blocks - 1}"
        print(f"look-alike blocks (tuned town {span}, truth 0): false railcars")
        for amount in amounts:
            counts = [o.count for kind, a, o in done if kind == "town" and a == amount]
            with_any = sum(c > 0 for c in counts)
            print(f"a {amount:<5g} {sum(counts):>5} false railcars, {with_any} of {len(counts)} blocks")
        print("-" * len(header))
    if not args.no_real:
        print(
            "real scenes sharpened (Muttenz west: railcars (wagons found) of 43; Joplin: railcars with the "
            f"sun assumed / with its shadows' bearing {JOPLIN_BEARING:g}, of 0)"
        )
        for row in real_rows(amounts):
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
