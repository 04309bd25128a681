"""What each condition (or product) costs the count: each scene against itself without it; prints a table.

Usage:  python benchmarks/conditions.py [--suite tuned] [--first 600] [--last 700] [--workers 2]
                                        [--take condition|product] [--verbose] [--set NAME=VALUE ...]

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

``--take product`` does the same for the product instead: every scene drawn
as another product than 8-bit RGB (4-band 11-bit, panchromatic, 8-bit RGB
cut by a nodata swath edge) is made again as plain 8-bit RGB with its
condition kept (cache folder ``SUITE-v2-rgb8``), one row per product. The
swath edge's truth leaves out the cars in the nodata, as cloud's does.

``--set NAME=VALUE`` (repeatable, as in accuracy.py) counts both sides with
a DetectorParams field changed: a variant meant to undo a condition should
close the gap to the "without" side without opening one there.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
from pathlib import Path
from typing import NamedTuple

from railcount.detect.params import DetectorParams
from railcount.io.stations import read_stations
from railcount.models import Station
from railcount.pipeline import StationEvaluation, evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import (
    add_set_argument,
    ensure_spec,
    known_warnings_ignored,
    map_scene_range,
    params_of,
    parse_overrides,
    scene_range_arguments,
    scene_spec,
)

FOLDERS = {"condition": "v2-without", "product": "v2-rgb8"}
"""The cache folder suffix of the scenes generated without their condition, or as 8-bit RGB."""
BASE_PRODUCT = "rgb8"


class Counted(NamedTuple):
    """One scene (one station) counted against its truth."""

    truth: int
    count: int
    found: int  # true railcars matched by a detection
    detections: int  # detections counted as railcars
    low: int = 0  # the count's interval
    high: int = 0
    methods: tuple[str, ...] = ()  # how each railcar was separated: gap, pitch or fill


class Pair(NamedTuple):
    scene: str
    label: str  # the condition's name without its strength, or the product taken away
    product: str
    drawn: Counted
    without: Counted


def condition_name(conditions: str) -> str:
    """The name of a scene's condition without its strength: ``"thin_cloud=0.4"`` -> ``"thin_cloud"``.

    >>> condition_name("thin_cloud=0.4"), condition_name("snow"), condition_name("")
    ('thin_cloud', 'snow', '')
    """
    return conditions.split("=")[0].strip()


def counted_against(
    scene: Path, stations: list[Station], truth: Path, params: DetectorParams | None = None
) -> Counted:
    """``scene`` (one station) counted and matched against ``truth``."""
    with known_warnings_ignored():
        (ev,) = evaluate_scene(scene, stations, truth, params=params)
    return counted_of(ev)


def counted_of(ev: StationEvaluation) -> Counted:
    """One station's evaluation as a :class:`Counted`."""
    r = ev.count.result
    return Counted(
        ev.truth_count,
        r.railcars,
        ev.match.true_positives,
        ev.match.detected,
        r.railcars_low,
        r.railcars_high,
        tuple(str(x) for x in ev.cars.method),
    )


def counted(tif: Path, station: Path, params: DetectorParams | None = None) -> Counted:
    """A generated scene counted against the truth written beside it; ``station``: its station file."""
    return counted_against(tif, read_stations(station), tif.with_suffix(".truth.geojson"), params)


def twin(spec: dict[str, object], take: str = "condition") -> tuple[str, dict[str, object]] | None:
    """What is taken away from a scene's spec and the spec without it (``take``: its condition, or
    its product for 8-bit RGB); None when there is nothing to take away.

    >>> twin({"seed": 1, "conditions": "haze=0.4", "product": "pan16"})
    ('haze', {'seed': 1, 'conditions': '', 'product': 'pan16'})
    >>> twin({"seed": 1, "conditions": "haze=0.4", "product": "pan16"}, "product")
    ('pan16', {'seed': 1, 'conditions': 'haze=0.4', 'product': 'rgb8'})
    >>> twin({"seed": 1, "conditions": "", "product": "rgb8"}) is None
    True
    """
    if take == "product":
        product = str(spec.get("product") or BASE_PRODUCT)
        return None if product == BASE_PRODUCT else (product, {**spec, "product": BASE_PRODUCT})
    conditions = str(spec.get("conditions") or "")
    return (condition_name(conditions), {**spec, "conditions": ""}) if conditions else None


def scene_pair(
    job: tuple[str, int, str, str], take: str = "condition", overrides: dict[str, object] | None = None
) -> Pair | None:
    """Scene i of ``job`` (suite, i, cache, realism: always v2) counted as drawn and without its
    condition (or product, ``take``); None when it has none. ``overrides``: DetectorParams fields."""
    suite, i, cache, _ = job
    params = params_of(overrides)
    spec = scene_spec(suite, i, "v2")
    other = twin(spec, take)
    if other is None:
        return None
    label, without_spec = other
    drawn = ensure_spec(spec, Path(cache) / f"{suite}-v2")
    without = ensure_spec(without_spec, Path(cache) / f"{suite}-{FOLDERS[take]}")
    product = str(spec.get("product", BASE_PRODUCT))
    return Pair(drawn[0].stem, label, product, counted(*drawn, params), counted(*without, params))


def figures(rows: list[Counted]) -> tuple[float, float, float, int, int]:
    """Weighted count error, bias, F1, true railcars found and their truth over ``rows``."""
    truth = sum(r.truth for r in rows)
    error = sum(abs(r.count - r.truth) for r in rows)
    bias = sum(r.count - r.truth for r in rows)
    found = sum(r.found for r in rows)
    dets = sum(r.detections for r in rows)
    f1 = 2 * found / (truth + dets) if truth + dets else 1.0
    return error / max(truth, 1), bias / max(truth, 1), f1, found, truth


def table(pairs: list[Pair], take: str = "condition") -> list[str]:
    by_label: dict[str, list[Pair]] = collections.defaultdict(list)
    for p in pairs:
        by_label[p.label].append(p)
    head = (
        f"{take:<12}{'n':>4}{'truth':>7} | {'WAPE':>7}{'bias':>8}{'F1':>6}{'found':>7}"
        f" | {'truth':>6}{'WAPE':>7}{'bias':>8}{'F1':>6}{'found':>7} | {'cost':>6}"
    )
    other = "without the condition" if take == "condition" else "the same as 8-bit RGB"
    lines = [f"{'':<23} | {'as drawn':^28} | {other:^34} |", head, "-" * len(head)]
    groups = [*sorted(by_label.items()), ("all", pairs)]
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
    scene_range_arguments(ap, suite="tuned", first=600, last=700, gsd_and_real=False)
    ap.add_argument(
        "--take",
        choices=tuple(FOLDERS),
        default="condition",
        help="what each scene is made again without: its condition, or its product (as 8-bit RGB)",
    )
    ap.add_argument("--verbose", action="store_true", help="print one row per scene too")
    add_set_argument(ap)
    args = ap.parse_args(argv)
    overrides = parse_overrides(args.set, ap)
    one = functools.partial(scene_pair, take=args.take, overrides=overrides)
    pairs = [p for p in map_scene_range(one, args, realism="v2") if p is not None]
    print(
        f"what each {args.take} costs ({args.suite} v2, scenes {args.first}-{args.last - 1}; "
        f"'cost' = true railcars found without the {args.take} less those found with it)"
    )
    if args.verbose:
        for p in pairs:
            print(
                f"  {p.scene:<24}{p.label:<12}{p.product:<11} truth {p.drawn.truth:>3}  "
                f"counted {p.drawn.count:>3} (found {p.drawn.found:>3})  without {p.without.count:>3} "
                f"(found {p.without.found:>3}, truth {p.without.truth:>3})"
            )
    for line in table(pairs, args.take):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
