"""What each imaging condition costs the count, scene by scene against itself without it; prints a table.

Usage:  python benchmarks/conditions.py [--suite tuned] [--first 600] [--last 700] [--workers 2]
                                        [--verbose]

The realism-v2 suites of ``benchmarks/accuracy.py`` give each scene one
condition (haze, snow, thin cloud, opaque cloud, off-nadir lean, noise,
JPEG) or none. A row of accuracy.py's table mixes what the condition does
with what that row's yards are like (how many cars, how dense, which sun).
This script takes the yard away from the comparison: every scene of the
range that has a condition is generated a second time from the same spec
with the condition left out (the same yard, cars, sun and product; a
second cache folder, ``SUITE-v2-without``, built once), both are counted,
and each condition gets one row: its scenes' weighted count error
(sum |count - truth| / sum truth), bias and F1 as drawn and without the
condition, and the true railcars found in each.

The difference is what the condition costs, and the "without" side is the
ceiling of anything that undoes the condition (a haze or veil removal, a
denoiser). Plain scenes (no condition) are left out: they have nothing to
take away. With opaque cloud the truth as drawn leaves out the cars under
the cloud (the count does not guess them, ``observed_fraction`` says how
much was seen); without the cloud they count, so that row's truth differs
between its two sides and its cost includes them.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import NamedTuple

from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import ROOT, SUITES, ensure_spec, scene_spec

WITHOUT = "v2-without"
"""The cache folder suffix of the scenes generated without their condition."""


class Counted(NamedTuple):
    truth: int
    count: int
    found: int  # true railcars matched by a detection
    detections: int  # detections counted as railcars


class Pair(NamedTuple):
    scene: str
    condition: str  # the condition's name, without its strength
    product: str
    drawn: Counted
    without: Counted


def condition_name(conditions: str) -> str:
    """The name of a scene's condition without its strength: ``"thin_cloud=0.4"`` -> ``"thin_cloud"``.

    >>> condition_name("thin_cloud=0.4"), condition_name("snow"), condition_name("")
    ('thin_cloud', 'snow', '')
    """
    return conditions.split("=")[0].strip()


def counted(tif: Path, station: Path) -> Counted:
    (ev,) = evaluate_scene(tif, read_stations(station), tif.with_suffix(".truth.geojson"))
    return Counted(ev.truth_count, ev.count.result.railcars, len(ev.pairs), len(ev.cars.center))


def scene_pair(job: tuple[str, int, str]) -> Pair | None:
    """Scene i counted as drawn and without its condition; None for a scene with no condition."""
    suite, i, cache = job
    spec = scene_spec(suite, i, "v2")
    conditions = str(spec.get("conditions") or "")
    if not conditions:
        return None
    drawn = ensure_spec(spec, Path(cache) / f"{suite}-v2")
    without = ensure_spec({**spec, "conditions": ""}, Path(cache) / f"{suite}-{WITHOUT}")
    product = str(spec.get("product", "rgb8"))
    return Pair(drawn[0].stem, condition_name(conditions), product, counted(*drawn), counted(*without))


def figures(rows: list[Counted]) -> tuple[float, float, float, int, int]:
    """Weighted count error, bias, F1, true railcars found and their truth over ``rows``."""
    truth = sum(r.truth for r in rows)
    error = sum(abs(r.count - r.truth) for r in rows)
    bias = sum(r.count - r.truth for r in rows)
    found = sum(r.found for r in rows)
    dets = sum(r.detections for r in rows)
    f1 = 2 * found / (truth + dets) if truth + dets else 1.0
    return error / max(truth, 1), bias / max(truth, 1), f1, found, truth


def table(pairs: list[Pair]) -> list[str]:
    by_condition: dict[str, list[Pair]] = collections.defaultdict(list)
    for p in pairs:
        by_condition[p.condition].append(p)
    head = (
        f"{'condition':<12}{'n':>4}{'truth':>7} | {'WAPE':>7}{'bias':>8}{'F1':>6}{'found':>7}"
        f" | {'truth':>6}{'WAPE':>7}{'bias':>8}{'F1':>6}{'found':>7} | {'cost':>6}"
    )
    lines = [f"{'':<23} | {'as drawn':^28} | {'without the condition':^34} |", head, "-" * len(head)]
    groups = [*sorted(by_condition.items()), ("all", pairs)]
    for name, group in groups:
        if not group:
            continue
        w, b, f, found, truth = figures([p.drawn for p in group])
        w0, b0, f0, found0, truth0 = figures([p.without for p in group])
        lines.append(
            f"{name:<12}{len(group):>4}{truth:>7} | {w:>7.1%}{b:>+8.1%}{f:>6.2f}{found:>7}"
            f" | {truth0:>6}{w0:>7.1%}{b0:>+8.1%}{f0:>6.2f}{found0:>7} | {found0 - found:>+6}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="tuned", choices=tuple(SUITES))
    ap.add_argument("--first", type=int, default=600)
    ap.add_argument("--last", type=int, default=700, help="one past the last scene")
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="print one row per scene too")
    args = ap.parse_args(argv)
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(args.suite, i, args.cache) for i in range(args.first, args.last)]
    with ProcessPoolExecutor(args.workers) as pool:
        pairs = [p for p in pool.map(scene_pair, jobs) if p is not None]
    print(
        f"what each condition costs ({args.suite} v2, scenes {args.first}-{args.last - 1}; "
        "'cost' = true railcars found without the condition less those found with it)"
    )
    if args.verbose:
        for p in pairs:
            print(
                f"  {p.scene:<24}{p.condition:<12}{p.product:<11} truth {p.drawn.truth:>3}  "
                f"counted {p.drawn.count:>3} (found {p.drawn.found:>3})  without {p.without.count:>3} "
                f"(found {p.without.found:>3}, truth {p.without.truth:>3})"
            )
    for line in table(pairs):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
