"""How much a count moves when only the window's origin moves; prints a table.

Usage:  python benchmarks/origin.py [--suite tuned] [--realism v1|v2|generic] [--first 600]
                                    [--last 800] [--gsd 0.5] [--shifts 0:0,1:1,2:0,0:2,3:3]
                                    [--workers 2]

A station's window starts where its polygon's bounding box (and a 25 m
margin) falls on the scene's pixel grid, so redrawing the polygon, or a
scene whose georeferencing sits a fraction of a pixel elsewhere (a NITF
copy of a GeoTIFF), moves the window's origin by a pixel or two. Nothing
on the ground changes, but the detector's track frames are rotated about
the window and its block grids are laid from its corner, so the pixels are
resampled at other places, and the count moves.

For each chosen generated scene (from the benchmark cache, generated if
missing) this script reads the station's window once, then counts it with
its top-left corner moved out by each of ``--shifts`` (rows:cols, padding
with pixels that hold no data: the ground, the polygon and every valid
pixel are the same) and compares each count with the truth. Rows per GSD:
the weighted absolute error (sum |count - truth| / sum truth) at each
origin (the first is the window as ``railcount count`` reads it, the row
``benchmarks/accuracy.py`` prints), the error of the mean of the origins'
counts, the mean spread of a scene's counts over the origins (largest
minus smallest, in cars and as a share of its truth) and their mean
standard deviation. The bundled 2023-10-05 sample follows, counted at each
origin (no truth: its hand count is "roughly 73"), then the real scenes of
``../shared/real`` (Muttenz west against its truth, the Joplin rail line and
parking lot against none) when that folder is there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (  # noqa: E402
    GSDS,
    REAL_CASES,
    SHARED_REAL,
    ensure_scene,
    map_scene_range,
    scene_range_arguments,
)

from railcount.models import SceneWindow  # noqa: E402

SAMPLE = ROOT / "sample_tiles" / "tumangang_2023-10-05.tif"
SAMPLE_STATION = ROOT / "sample_tiles" / "tumangang_station.geojson"
DEFAULT_SHIFTS = "0:0,1:1,2:0,0:2,3:3"


def moved(window: SceneWindow, rows: int, cols: int) -> SceneWindow:
    """``window`` with its top-left corner moved ``rows`` and ``cols`` pixels out, over pixels that
    hold no data: the same ground, polygon and valid pixels, at other places in the window."""
    from rasterio.transform import Affine

    pad = ((rows, 0), (cols, 0))
    return replace(
        window,
        pixels=np.pad(window.pixels, (*pad, (0, 0))),
        data=np.pad(window.data, pad, constant_values=False),
        inside=np.pad(window.inside, pad, constant_values=False),
        transform=window.transform * Affine.translation(-cols, -rows),
    )


def railcars_at(window: SceneWindow, shifts: list[tuple[int, int]]) -> list[int]:
    """The railcars counted in ``window`` with its origin moved by each of ``shifts``."""
    import cv2

    from railcount.detect.detector import detect

    cv2.setNumThreads(1)
    counts = []
    for rows, cols in shifts:
        found = detect(moved(window, rows, cols))
        counts.append(int((found.kind != "locomotive").sum()))
    return counts


def scene_counts(
    job: tuple[str, int, str, str], shifts: list[tuple[int, int]]
) -> tuple[float, int, list[int]]:
    """(GSD, truth, counts at each origin) of one generated scene."""
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_centres

    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cautions and assumed suns are the accuracy script's business
        (window,) = read_windows(tif, read_stations(station))
        truth = len(truth_centres(tif.with_suffix(".truth.geojson"), window))
        return round(window.gsd_m, 2), truth, railcars_at(window, shifts)


def shift_list(text: str) -> list[tuple[int, int]]:
    """An argparse type: origins as ``rows:cols`` pixel moves, comma-separated (``0:0,1:1``)."""
    try:
        pairs = [tuple(int(v) for v in item.split(":")) for item in text.split(",")]
    except ValueError:
        pairs = []
    if not pairs or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise argparse.ArgumentTypeError(
            f"expected rows:cols moves of 0 or more, comma-separated; got {text!r}"
        )
    return [(p[0], p[1]) for p in pairs]


def table(rows: list[tuple[float, int, list[int]]], shifts: list[tuple[int, int]], label: str) -> list[str]:
    """The printed rows: one per GSD present and one for all."""
    heads = [f"{r}:{c}" for r, c in shifts]
    out = [
        f"{'':<18}{'n':>4}{'truth':>7}" + "".join(f"{h:>7}" for h in heads) + f"{'mean':>7}"
        f"{'spread':>8}{'of truth':>10}{'sd':>6}",
    ]
    out.append("-" * len(out[0]))
    groups = [(f"{label} {g:.2f} m", [r for r in rows if r[0] == round(g, 2)]) for g in GSDS]
    groups.append((f"{label} all", rows))
    for name, rs in groups:
        if not rs:
            continue
        truth = sum(r[1] for r in rs)
        errs = [sum(abs(r[2][k] - r[1]) for r in rs) / max(1, truth) for k in range(len(shifts))]
        mean_err = sum(abs(statistics.mean(r[2]) - r[1]) for r in rs) / max(1, truth)
        spread = statistics.mean(max(r[2]) - min(r[2]) for r in rs)
        share = statistics.mean((max(r[2]) - min(r[2])) / max(1, r[1]) for r in rs)
        sd = statistics.mean(statistics.pstdev(r[2]) for r in rs)
        out.append(
            f"{name:<18}{len(rs):>4}{truth:>7}"
            + "".join(f"{e:>7.1%}" for e in errs)
            + f"{mean_err:>7.1%}{spread:>8.1f}{share:>10.1%}{sd:>6.2f}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(
        ap,
        suite="tuned",
        first=600,
        last=800,
        realism="v1",
        realisms=("v1", "v2", "generic"),
        real_help="(not used: the real scenes' rows are accuracy.py's)",
    )
    ap.add_argument(
        "--shifts",
        type=shift_list,
        default=shift_list(DEFAULT_SHIFTS),
        help=f"origins, rows:cols pixels moved, comma-separated (default {DEFAULT_SHIFTS}; the first is "
        "the window as read)",
    )
    args = ap.parse_args(argv)
    from functools import partial

    rows = map_scene_range(partial(scene_counts, shifts=args.shifts), args)
    chosen = f"{args.suite} {args.realism}, scenes {args.first}-{args.last - 1}"
    print(f"the count with the window's origin moved (rows:cols pixels, over no data; {chosen})")
    print("\n".join(table(rows, args.shifts, args.suite)))
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (window,) = read_windows(SAMPLE, read_stations(SAMPLE_STATION))
        counts = railcars_at(window, args.shifts)
    print()
    each = ", ".join(f"{r}:{c} {n}" for (r, c), n in zip(args.shifts, counts, strict=True))
    print(f"bundled sample {SAMPLE.name}, railcars at each origin: {each}")
    for line in real_lines(args.shifts):
        print(line)
    return 0


def real_lines(shifts: list[tuple[int, int]]) -> list[str]:
    """One line per real scene of ``../shared/real``: its truth and the railcars at each origin
    (none when the folder is absent)."""
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_centres

    if not SHARED_REAL.is_dir():
        return [f"(real scenes skipped: {SHARED_REAL} not found)"]
    out = []
    for name, tif, station, truth_file in REAL_CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (window,) = read_windows(SHARED_REAL / tif, read_stations(SHARED_REAL / station))
            truth = len(truth_centres(SHARED_REAL / truth_file, window)) if truth_file else 0
            counts = railcars_at(window, shifts)
        each = ", ".join(f"{r}:{c} {n}" for (r, c), n in zip(shifts, counts, strict=True))
        out.append(f"real {name} (truth {truth}), railcars at each origin: {each}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
