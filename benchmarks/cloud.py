"""How well opaque cloud is found: the station share taken out against the railcars it hid; prints a table.

Usage:  python benchmarks/cloud.py [--suite tuned] [--first 0] [--last 200] [--workers 2]

Runs :func:`railcount.detect.cloud.opaque_cloud` (no detector) over the
chosen realism-v2 scenes (from the benchmark cache, generated if missing, as
``benchmarks/accuracy.py`` does; one scene in seven or so draws opaque cloud)
and over the real scenes of ``../shared/real`` (all clear). For each scene it
takes the share of the station polygon found under cloud, and from the
truth the share of the station's railcars the generator's cloud hid. Rows:

* cloudy scenes (``cloud=`` in their conditions): how many, the mean share
  found against the mean share of cars hidden, and their correlation over
  the scenes (the cloud is not meant to be found to the pixel; the count's
  interval and ``observed_fraction`` need its share);
* clear scenes, by condition: the largest and mean share found, and how
  many lost more than 1 % of the station to cloud that is not there;
* each real scene: the share found (all should be 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from railcount.detect.cloud import opaque_cloud
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.models import SceneWindow
from railcount.synth.spec import Conditions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REAL_CASES, SHARED_REAL, ensure_scene, map_scene_range, scene_range_arguments


def cloud_share(window: SceneWindow) -> float:
    """Share of the station polygon (pixels inside it) found under opaque cloud."""
    inside = window.inside
    return float((opaque_cloud(window) & inside).sum() / max(int(inside.sum()), 1))


def opaque(conditions: str) -> bool:
    """Whether scene conditions (``"cloud=0.25"``, ``"thin_cloud=0.4"``, ``"none"``) hold opaque cloud."""
    return Conditions.parse(conditions).cloud > 0


def condition_kind(conditions: str) -> str:
    """The first condition's name (``"haze=0.4,jpeg"`` -> ``"haze"``): a clear scene's row."""
    return conditions.split(",")[0].split("=")[0]


def scene_cloud(job: tuple[str, int, str, str]) -> tuple[str, float, float]:
    """(conditions, share found under cloud, share of the station's railcars hidden by cloud)."""
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    facts = json.loads(tif.with_suffix(".truth.json").read_text())
    (window,) = read_windows(tif, read_stations(station))
    hidden = facts["railcars_hidden_by_cloud"] / max(facts["railcars"], 1)
    return str(facts.get("conditions") or "none"), cloud_share(window), hidden


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(ap, suite="tuned", first=0, last=200, gsd_and_real=False)
    args = ap.parse_args(argv)
    results = map_scene_range(scene_cloud, args, realism="v2")
    cloudy = [(f, h) for c, f, h in results if opaque(c)]
    print(f"opaque cloud found, {args.suite} v2 scenes {args.first}-{args.last - 1} and the real scenes")
    head = f"{'scenes':<30}{'n':>5}{'found mean':>12}{'found max':>11}{'> 1 %':>7}"
    print(head + f"{'hidden mean':>13}{'corr':>7}")
    print("-" * 85)
    if cloudy:
        found, hidden = np.array(cloudy).T
        corr = float(np.corrcoef(found, hidden)[0, 1]) if len(cloudy) > 2 else float("nan")
        print(
            f"{'cloudy (cloud=...)':<30}{len(cloudy):>5}{found.mean():>12.3f}{found.max():>11.3f}"
            f"{int((found > 0.01).sum()):>7}{hidden.mean():>13.3f}{corr:>7.2f}"
        )
    clear = [(c, f) for c, f, _ in results if not opaque(c)]
    for kind in sorted({condition_kind(c) for c, _ in clear}):
        found = np.array([f for c, f in clear if condition_kind(c) == kind])
        print(
            f"{'clear: ' + kind:<30}{len(found):>5}{found.mean():>12.3f}{found.max():>11.3f}"
            f"{int((found > 0.01).sum()):>7}"
        )
    if SHARED_REAL.is_dir():
        for name, tif, station, _ in REAL_CASES:
            for window in read_windows(SHARED_REAL / tif, read_stations(SHARED_REAL / station)):
                share = cloud_share(window)
                print(f"{'real: ' + name:<30}{1:>5}{share:>12.3f}{share:>11.3f}{int(share > 0.01):>7}")
    else:
        print(f"(no {SHARED_REAL}: the real rows are left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
