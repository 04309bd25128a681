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

A second table does the same for a cloud's shadow
(:func:`railcount.detect.cloud.cloud_shadow`, since detector 0.6.26). The
generator's own shadow is drawn again from each scene's spec (its sky, as
:func:`railcount.synth.render.synthesize` makes it) and read at the centre
of every 4 m block of the station: a block is in the shadow where the
shadow's opacity is 0.5 or more and no cloud covers it. Rows: the share of
the station truly in shadow and the share found, the found blocks that are
truly in shadow (precision) and the shadow's blocks found (recall), over
the scenes with opaque cloud; the share found on the others, by condition,
and on the real scenes. With ``--count``, the scenes with opaque cloud are
also counted: the true railcars in the shadow and in sunlight and how many
of each a detection matches, and how often the count's interval holds the
truth with the shadow left out of ``observed_fraction`` and without
(``--set mask_cloud_shadow=false`` of ``accuracy.py`` in one row).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from railcount.detect.cloud import SHADE_BLOCK_M, cloud_shadow, opaque_cloud
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.models import SceneWindow
from railcount.synth.spec import Conditions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REAL_CASES, SHARED_REAL, ensure_scene, map_scene_range, scene_range_arguments, scene_spec


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


SHADE_OPACITY = 0.5
"""A block is in the generator's shadow where the shadow's opacity at its centre is this or more."""


def generated_sky(suite: str, i: int, realism: str = "v2"):
    """The sky the generator drew for the i-th scene of a suite (None for a scene with none), and the
    site's CRS: drawn again from the spec as :func:`railcount.synth.render.synthesize` draws it."""
    from railcount.synth import SceneSpec
    from railcount.synth.atmosphere import lean_vector, make_sky
    from railcount.synth.render import plan_layout
    from railcount.synth.sites import spec_site
    from railcount.synth.spec import STREAM_CONDITIONS

    spec = SceneSpec(**scene_spec(suite, i, realism))  # type: ignore[arg-type]
    cond = spec.conditions
    if not (cond.cloud or cond.thin_cloud or cond.haze):
        return None, None
    site = spec_site(spec)
    layout = plan_layout(spec, site)
    rng = spec.named_rng(STREAM_CONDITIONS)
    lean_vector(cond, rng)  # (draws from the stream before the sky, as synthesize does)
    return make_sky(site, layout.sun, cond, rng), site.crs


def sky_at(
    sky, site_crs, window: SceneWindow, cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the generator's opaque cloud and its shadow cover points of ``window`` (``cols``, ``rows``:
    continuous pixel coordinates from its corner): each one's opacity is :data:`SHADE_OPACITY` or
    more."""
    from rasterio.warp import transform as warp_points

    x, y = window.transform * (cols, rows)
    if window.crs != site_crs:
        x, y = warp_points(window.crs, site_crs, x, y)
    xy = np.column_stack([x, y]).reshape(-1, 2)
    cloud = sky.opacity(sky.sample(sky.density, xy)) >= SHADE_OPACITY
    shadow = sky.opacity(sky.sample(sky.density, xy + sky.toward_sun)) >= SHADE_OPACITY
    return cloud, shadow


def real_windows():
    """(name, window) of each real scene's station (``../shared/real``), in :data:`REAL_CASES`' order."""
    for name, tif, station, _ in REAL_CASES:
        for window in read_windows(SHARED_REAL / tif, read_stations(SHARED_REAL / station)):
            yield name, window


def shade_blocks(window: SceneWindow, sky, site_crs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 4 m block of ``window`` holding station pixels: whether the generator's cloud shadow covers
    its centre (no shadow without a sky), whether :func:`cloud_shadow` found it, and whether opaque
    cloud covers it (the generator's, or where there is none, nothing)."""
    k = max(1, round(SHADE_BLOCK_M / window.gsd_m))
    rows, cols = window.shape
    nr, nc = rows // k, cols // k
    inside = window.inside[: nr * k, : nc * k].reshape(nr, k, nc, k).any(axis=(1, 3))
    br, bc = np.nonzero(inside)
    found = cloud_shadow(window, opaque_cloud(window))[br * k + k // 2, bc * k + k // 2]
    if sky is None:
        return np.zeros(len(br), bool), found, np.zeros(len(br), bool)
    cloud, shadow = sky_at(sky, site_crs, window, bc * k + k / 2, br * k + k / 2)
    return shadow & ~cloud, found, cloud


def scene_shade(job: tuple[str, int, str, str]) -> tuple[str, int, int, int, int]:
    """(conditions, station blocks out of cloud, blocks truly in shadow, found, found and true)."""
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    facts = json.loads(tif.with_suffix(".truth.json").read_text())
    (window,) = read_windows(tif, read_stations(station))
    sky, crs = generated_sky(suite, i, realism)
    shade, found, cloud = shade_blocks(window, sky, crs)
    found &= ~cloud
    return (
        str(facts.get("conditions") or "none"),
        int((~cloud).sum()),
        int(shade.sum()),
        int(found.sum()),
        int((found & shade).sum()),
    )


def scene_cars(job: tuple[str, int, str, str]) -> tuple[int, int, int, int, bool, bool]:
    """For a scene with opaque cloud: (true railcars in the generator's shadow, of them matched, in
    sunlight, of them matched, the interval holds the truth, it does without the shadow taken out)."""
    import warnings

    from railcount.detect.params import DetectorParams
    from railcount.evaluate import match_pairs
    from railcount.io.truth import truth_centres
    from railcount.pipeline import count_scene

    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    stations = read_stations(station)
    sky, crs = generated_sky(suite, i, realism)
    counts = []
    for params in (DetectorParams(), DetectorParams(mask_cloud_shadow=False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (sc,) = count_scene(tif, stations, params=params)
        counts.append(sc)
    truth = truth_centres(tif.with_suffix(".truth.geojson"), sc.window)
    held = [c.result.railcars_low <= len(truth) <= c.result.railcars_high for c in counts]
    cars = sc.detections.subset(sc.detections.kind != "locomotive")
    matched = np.zeros(len(truth), bool)
    for _, j in match_pairs(cars.center, truth, 7.5 / sc.window.gsd_m):
        matched[j] = True
    _, shaded = sky_at(sky, crs, sc.window, truth[:, 1] + 0.5, truth[:, 0] + 0.5)
    return (
        int(shaded.sum()),
        int((shaded & matched).sum()),
        int((~shaded).sum()),
        int((~shaded & matched).sum()),
        held[0],
        held[1],
    )


def print_shade(results: list[tuple[str, int, int, int, int]], args: argparse.Namespace) -> None:
    """The second table: a cloud's shadow, true against found, per group of scenes."""
    print()
    print(
        f"a cloud's shadow found (4 m blocks of the station out of cloud), {args.suite} v2 scenes "
        f"{args.first}-{args.last - 1} and the real scenes"
    )
    head = f"{'scenes':<30}{'n':>5}{'true mean':>11}{'found mean':>12}{'found max':>11}{'> 1 %':>7}"
    print(head + f"{'precision':>11}{'recall':>8}")
    print("-" * 95)
    groups = [("cloudy (cloud=...)", [r for r in results if opaque(r[0])])]
    clear = [r for r in results if not opaque(r[0])]
    groups += [
        (f"clear: {k}", [r for r in clear if condition_kind(r[0]) == k])
        for k in sorted({condition_kind(r[0]) for r in clear})
    ]
    for label, rows in groups:
        if not rows:
            continue
        n_blocks = np.array([max(r[1], 1) for r in rows], float)
        true = np.array([r[2] for r in rows]) / n_blocks
        found = np.array([r[3] for r in rows]) / n_blocks
        hits, n_found, n_true = sum(r[4] for r in rows), sum(r[3] for r in rows), sum(r[2] for r in rows)
        precision = f"{hits / n_found:.2f}" if n_found else "-"
        recall = f"{hits / n_true:.2f}" if n_true else "-"
        print(
            f"{label:<30}{len(rows):>5}{true.mean():>11.3f}{found.mean():>12.3f}{found.max():>11.3f}"
            f"{int((found > 0.01).sum()):>7}{precision:>11}{recall:>8}"
        )
    if SHARED_REAL.is_dir():
        for name, window in real_windows():
            _, found, _ = shade_blocks(window, None, None)
            share = float(found.mean()) if found.size else 0.0
            print(
                f"{'real: ' + name:<30}{1:>5}{0.0:>11.3f}{share:>12.3f}{share:>11.3f}{int(share > 0.01):>7}"
            )


def print_cars(args: argparse.Namespace) -> None:
    """With ``--count``: the railcars in the shadow and in sunlight found, and the interval."""
    jobs = [(args.suite, i, args.cache, "v2") for i in range(args.first, args.last)]
    jobs = [j for j in jobs if opaque(str(scene_spec(j[0], j[1], "v2").get("conditions") or ""))]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(scene_cars, jobs))
    print()
    print(f"railcars of the {len(rows)} scenes with opaque cloud, counted (matched within 7.5 m)")
    ins, in_found, sun, sun_found = (sum(r[k] for r in rows) for k in range(4))
    print(f"  in the generator's shadow   {in_found:>5} of {ins:<5} found ({in_found / max(ins, 1):.0%})")
    print(f"  in sunlight                 {sun_found:>5} of {sun:<5} found ({sun_found / max(sun, 1):.0%})")
    print(
        f"  interval holds the truth    {sum(r[4] for r in rows)} of {len(rows)} scenes "
        f"(without the shadow taken out: {sum(r[5] for r in rows)})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(ap, suite="tuned", first=0, last=200, gsd_and_real=False)
    ap.add_argument("--count", action="store_true", help="also count the cloudy scenes (the detector)")
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
        for name, window in real_windows():
            share = cloud_share(window)
            print(f"{'real: ' + name:<30}{1:>5}{share:>12.3f}{share:>11.3f}{int(share > 0.01):>7}")
    else:
        print(f"(no {SHARED_REAL}: the real rows are left out)")
    print_shade(map_scene_range(scene_shade, args, realism="v2"), args)
    if args.count:
        print_cars(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
