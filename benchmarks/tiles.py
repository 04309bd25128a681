"""What counting a window in tiles costs against counting it whole; prints a table.

Usage:  python benchmarks/tiles.py [--suite tuned] [--realism v1|v2|generic] [--first 600]
                                   [--last 800] [--gsd 0.3] [--grids 1x1,1x2,2x2] [--workers 2]

Since session 68 a station's window too large to count whole in the memory free is counted in tiles
(``railcount.detect.tiles.tile_windows``): each tile reaches 60 m past its share of the window, and each
car is counted by the tile that holds its centre. Since session 69 the tiles read the whole window's
contrast, haze, snow, track directions, patches and curve pieces first
(``railcount.detect.tiles.window_stats``), but each track frame still chooses its shadow side and is
resampled from its own origin, so the count can differ from the whole window's. This script counts each
chosen generated scene (from the benchmark cache, generated if missing) whole and cut into each of
``--grids`` (rows x cols; the longer side of the window is cut into the cols), whatever the memory,
and prints per GSD and grid the weighted absolute error against the truth (sum |count - truth| / sum
truth), the bias, F1 (centres within half a car length, 7.5 m) and the mean |count - whole count|.
The real scenes of ``../shared/real`` follow when that folder is there (Muttenz west against its
truth; the Joplin rail line and parking lot against none).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (
    GSDS,
    REAL_CASES,
    SHARED_REAL,
    ensure_scene,
    map_scene_range,
    scene_range_arguments,
)

from railcount.io.memory import MIN_TILE_M
from railcount.models import SceneWindow

MATCH_M = 7.5


def grid_list(text: str) -> list[tuple[int, int]]:
    """An argparse type: grids as ``ROWSxCOLS``, comma-separated (``1x1,1x2``)."""
    try:
        grids = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",")]
    except ValueError:
        grids = []
    if not grids or any(len(g) != 2 or min(g) < 1 for g in grids):
        raise argparse.ArgumentTypeError(
            f"expected ROWSxCOLS grids of 1 or more, comma-separated; got {text!r}"
        )
    return [(g[0], g[1]) for g in grids]


def counted(window: SceneWindow, grid: tuple[int, int], truth: np.ndarray) -> tuple[int, int, int]:
    """(railcars, detections matched to a true car, true cars) for ``window`` counted in ``grid``
    tiles, the longer side cut into the columns."""
    import cv2

    from railcount.detect.detector import detect
    from railcount.detect.params import DetectorParams
    from railcount.detect.tiles import detect_in_tiles, tile_windows
    from railcount.evaluate import match_centres

    cv2.setNumThreads(1)
    rows, cols = grid
    if window.shape[0] > window.shape[1]:
        rows, cols = cols, rows
    if rows * cols == 1:
        found = detect(window)
    else:
        found = detect_in_tiles(window, tile_windows(window, (rows, cols)), DetectorParams())
    cars = found.subset(found.kind != "locomotive")
    match = match_centres(cars.center, truth, MATCH_M / window.gsd_m)
    return len(cars), match.true_positives, len(truth)


def scene_rows(
    job: tuple[str, int, str, str], grids: list[tuple[int, int]]
) -> tuple[float, list[tuple[int, int, int]]]:
    """(GSD, [(railcars, matched, truth) per grid]) of one generated scene."""
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_centres

    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cautions and assumed suns are the accuracy script's business
        (window,) = read_windows(tif, read_stations(station))
        truth = truth_centres(tif.with_suffix(".truth.geojson"), window)
        return round(window.gsd_m, 2), [counted(window, g, truth) for g in grids]


def table(
    rows: list[tuple[float, list[tuple[int, int, int]]]], grids: list[tuple[int, int]], label: str
) -> list[str]:
    head = (
        f"{'':<18}{'grid':>6}{'n':>5}{'truth':>7}{'count':>7}{'WAPE':>8}{'bias':>8}{'F1':>7}"
        f"{'|vs whole|':>12}"
    )
    out = [head, "-" * len(head)]
    groups = [(f"{label} {g:.2f} m", [r for r in rows if r[0] == round(g, 2)]) for g in GSDS]
    groups.append((f"{label} all", rows))
    for name, rs in groups:
        if not rs:
            continue
        for k, (gr, gc) in enumerate(grids):
            truth = sum(r[1][k][2] for r in rs)
            count = sum(r[1][k][0] for r in rs)
            wape = sum(abs(r[1][k][0] - r[1][k][2]) for r in rs) / max(1, truth)
            matched = sum(r[1][k][1] for r in rs)
            f1 = 2 * matched / max(1, count + truth)
            moved = float(np.mean([abs(r[1][k][0] - r[1][0][0]) for r in rs]))
            out.append(
                f"{name if k == 0 else '':<18}{gr}x{gc:<4}{len(rs):>5}{truth:>7}{count:>7}{wape:>8.1%}"
                f"{(count - truth) / max(1, truth):>+8.1%}{f1:>7.3f}{moved:>12.2f}"
            )
    return out


def real_lines(grids: list[tuple[int, int]]) -> list[str]:
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
            truth = truth_centres(SHARED_REAL / truth_file, window) if truth_file else np.zeros((0, 2))
            each = [counted(window, g, truth) for g in grids]
        shown = ", ".join(
            f"{gr}x{gc} {n}{'' if planned(window, (gr, gc)) else '*'}"
            for (gr, gc), (n, _, _) in zip(grids, each, strict=True)
        )
        out.append(f"real {name} (truth {len(truth)}, {window.shape[1]} x {window.shape[0]} px): {shown}")
    out.append(
        f"* tiles under {MIN_TILE_M:.0f} m across, which railcount count never makes (MIN_TILE_M); "
        "the generated rows count every grid whatever its tiles' size"
    )
    return out


def planned(window: SceneWindow, grid: tuple[int, int]) -> bool:
    """Whether ``railcount count`` could cut ``window`` into ``grid`` (rows x cols, the longer side into
    the cols, as :func:`counted` cuts it): one tile, or every cut side's share at least
    :data:`~railcount.io.memory.MIN_TILE_M` across.

    >>> from types import SimpleNamespace
    >>> w = SimpleNamespace(shape=(394, 544), gsd_m=0.6)  # the Joplin lot: 236 x 326 m
    >>> speed = SimpleNamespace(shape=(1500, 4000), gsd_m=0.3)  # 450 x 1200 m
    >>> planned(w, (1, 1)), planned(w, (1, 2)), planned(speed, (1, 4)), planned(speed, (2, 2))
    (True, False, True, False)
    """
    rows, cols = grid
    if window.shape[0] > window.shape[1]:
        rows, cols = cols, rows
    height, width = (n * window.gsd_m for n in window.shape)
    return all(n == 1 or side / n >= MIN_TILE_M for n, side in ((rows, height), (cols, width)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(
        ap,
        suite="tuned",
        first=600,
        last=800,
        realism="v1",
        realisms=("v1", "v2", "generic"),
        real_help="(not used: the real scenes are always counted when ../shared/real is there)",
    )
    ap.add_argument(
        "--grids", type=grid_list, default=grid_list("1x1,1x2,2x2"), help="the first is the whole"
    )
    args = ap.parse_args(argv)
    from functools import partial

    rows = map_scene_range(partial(scene_rows, grids=args.grids), args)
    chosen = f"{args.suite} {args.realism}, scenes {args.first}-{args.last - 1}"
    print(f"counted whole and in tiles (60 m overlap; the longer side cut into the columns; {chosen})")
    print("\n".join(table(rows, args.grids, args.suite)))
    print()
    print("\n".join(real_lines(args.grids)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
