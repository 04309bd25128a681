"""Fit the roof, car, locomotive, type, fill and along models (railcount/detect/*_model.py) on tuned scenes.

Usage:
    python benchmarks/fit_car_model.py [--scenes N|RANGES] [--generic RANGES] [--lookalikes N|RANGES]
                                       [--along-generic RANGES] [--workers W] [--cache DIR] [--check]
                                       [--roof-only | --fill-only | --along-only | --types-only]
                                       [--set NAME=VALUE ...]

First the roof model (``roof_model.py``, :mod:`railcount.detect.roofs`):
every candidate near true rolling stock is described where the band
evidence found it and one roof width to either side, and boosted trees
learn which of the three lies on a roof (within 1.5 m across the track of
the car). The share of held-out candidates on a roof before and after
placement is printed. The roof model only moves boxes once the count is
decided, so the other models are fitted on the candidates where the band
evidence found them (``--roof-only`` stops after the roof model).

Runs the detector with the car model off over the first N (default 600,
``FIT_SCENES``) scenes of the ``tuned`` suite, plain (v1) and v2 (conditions,
products, look-alikes), with ``--generic RANGES`` over tuned generic yards
too (each seed its own layout, angle and latitude: ``accuracy.py --realism
generic``; none by default, as the shipped models, which have never seen
one; ``--generic 100-399`` leaves tuned 0-99 to diagnose; a generic yard's
candidates on a track direction the sun shines along are left out of the car,
locomotive, type and fill models' rows, since the along model judges those),
and over the
first M (``--lookalikes``, default 600)
tuned look-alike blocks (site ``town``: pitched-roof apartments, car parks, trucks,
no railcars), generating any scene that is missing into the benchmark cache
exactly as ``benchmarks/accuracy.py`` does. Every candidate car inside the
station is described (``railcount.detect.candidates.FEATURES``) and labelled
1 when its centre lies within half a car length (7.5 m) of true rolling stock
(a railcar or a locomotive); every candidate on a look-alike block is a 0.
(Before the ``rail_pair`` input the blocks taught the model to refuse the
real Muttenz wagons, whose surroundings are as smooth as a roof's; see
docs/detector.md.)

Gradient-boosted trees (``railcount.detect.boost``, numpy only) are fitted
to those labels and written to ``railcount/detect/car_model.py``; the
held-out AUC of the trees and of a logistic model with squared terms, each
fitted on half the scenes, is printed first. A logistic model fitted by
Newton's method on the candidates that lie on rolling stock says whether the
nearest piece is a locomotive (``loco_model.py``), and boosted trees (one per
GSD regime and class, one-vs-rest, and one for a tarped load; logistic models
before detector 0.6.17) classify the cars the car model keeps
(``type_model.py`` and ``type_forests.npz``; their held-out scores and the
logistic models', each fitted on half the scenes, are printed first;
``--types-only`` fits them alone, on the candidates the shipped car model
keeps).

Last, the fill model (``fill_model.py``, :mod:`railcount.detect.fill`): with
the car model just written, the detector proposes cars in the holes between
believed cars on each track line of the same scenes and blocks; each
proposal is labelled 1 when its centre lies within 5 m of a true railcar
the detector without gap filling misses, and boosted trees (smaller:
about 23,000 proposals against 87,000 candidates) learn from its own features
and its neighbours which holes hold a car. With
``--check`` the proposals are made with the shipped car model.

Then the along model (``along_model.py``, detector 0.6.15): where the sun
throws the shadows along a track direction no shadow lies beside its cars,
so the detector reads the band evidence there with the shadows on each
side in turn (since 0.6.16 with edged bands near the dashes the shadows
leave along the track, ``railcount/detect/dashes.py``), and boosted trees
judge what both readings propose from the car model's features and the
dashes at each candidate's ends and inside it (``ALONG_CONTEXT``). They are
fitted on those candidates of tuned generic yards (``--along-generic``,
default 100-399: the main tracks of Tumangang's yards never have the sun along them)
and of the look-alike blocks, labelled as the car model's are
(``--along-only`` fits it alone, with the shipped car model).

Only ``tuned`` seeds are used; ``untouched`` and ``fresh`` stay out of the
fit so that ``benchmarks/accuracy.py`` measures the model on scenes it never
saw. ``--check`` prints the fit's figures without writing the module.

``--set NAME=VALUE`` (repeatable, as in ``benchmarks/accuracy.py``) reads
every scene with that DetectorParams field changed, in this process and in
every worker: the way to refit the models for a detector variant, e.g.
``--set dark_along_texture=2.0`` (session 57). The fit writes the model
modules of the checkout it runs in, so do it in a scratch worktree, and
measure there with the same ``--set``; the models' provenance names the
settings.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import ROOT, add_set_argument, ensure_scene, parse_overrides
from false_cars import lookalikes
from shapely.geometry import Point

from railcount.detect.boost import Forest, fit_forest, forests_bytes
from railcount.detect.candidates import FEATURES, car_forest, design, fit_logistic, logistic
from railcount.detect.dashes import ALONG_CONTEXT
from railcount.detect.detector import (
    along_candidates,
    candidates_in_station,
    detect,
    fill_candidates,
    read_along,
    roof_alternatives,
    working_scale,
)
from railcount.detect.fill import FILL_CONTEXT
from railcount.detect.params import DetectorParams
from railcount.detect.roofs import ON_ROOF_M, choose_rows, roof_forest
from railcount.detect.sun import window_sun
from railcount.detect.types import TYPE_CLASSES, TYPE_FEATURES, type_design
from railcount.evaluate import match_pairs
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import Stock, truth_stock
from railcount.models import SceneWindow
from railcount.pipeline import STRICT_RADIUS_M

MODULE = ROOT / "railcount" / "detect" / "car_model.py"
LOCO_MODULE = ROOT / "railcount" / "detect" / "loco_model.py"
TYPE_MODULE = ROOT / "railcount" / "detect" / "type_model.py"
TYPE_FORESTS = ROOT / "railcount" / "detect" / "type_forests.npz"
ROOF_MODULE = ROOT / "railcount" / "detect" / "roof_model.py"
FILL_MODULE = ROOT / "railcount" / "detect" / "fill_model.py"
ALONG_MODULE = ROOT / "railcount" / "detect" / "along_model.py"
MATCH_M = 7.5
FILL_MATCH_M = 5.0
TYPE_MATCH_M = 3.0
ON_PLANT_M = 1.0
"""With ``--vegetation``, a candidate centred within this of a hedge, a tree or an overgrown track (and
not within STRICT_RADIUS_M of rolling stock) is labelled off rolling stock."""


BLURRED_LEVELS = (1.5, 2.0)
"""The sensor blurs (times the generator's 0.55 px) of ``--blurred`` scenes, taken in turn by seed."""

SHARPENED_AMOUNTS = (0.5, 1.0)
"""The unsharp masks (a 1 px Gaussian, ``benchmarks/processing.py``'s) of ``--sharpened`` scenes, taken
in turn by seed: what providers' sharpening does to a picture the generator draws unsharpened."""


_SET: dict[str, object] = {}
"""This fit's ``--set`` overrides of the detector's settings (each worker's copy is set by
:func:`use_overrides`, the pools' initializer)."""


def use_overrides(overrides: dict[str, object]) -> None:
    """Read every scene of this process with ``overrides`` of the default DetectorParams."""
    _SET.clear()
    _SET.update(overrides)


def base_params(**changes: object) -> DetectorParams:
    """The detector settings the fit reads scenes with: the defaults, ``--set``'s overrides, then
    ``changes``."""
    return DetectorParams(**{**_SET, **changes})  # type: ignore[arg-type]


def fit_pool(args: argparse.Namespace, **kwargs: object) -> ProcessPoolExecutor:
    """A pool of ``args.workers`` processes that read scenes with this fit's overrides."""
    return ProcessPoolExecutor(
        max_workers=args.workers,
        initializer=use_overrides,
        initargs=(dict(_SET),),
        **kwargs,  # type: ignore[arg-type]
    )


def ensure_fit_scene(i: int, realism: str, cache: str) -> tuple[Path, Path]:
    """Tuned scene ``i`` of ``realism`` (generated into the cache if missing): its GeoTIFF and station.
    ``v1-blur`` and ``town-blur`` are the plain yard or the look-alike block rendered with a wider
    sensor blur (:data:`BLURRED_LEVELS`, by the seed's turn; ``benchmarks/blur.py``'s scenes)."""
    if realism in ("v1-blur", "town-blur"):
        from blur import ensure_blurred

        kind = "yard" if realism == "v1-blur" else "town"
        return ensure_blurred(kind, i, BLURRED_LEVELS[i % len(BLURRED_LEVELS)], Path(cache))
    if realism in ("v1-sharp", "town-sharp"):
        return ensure_sharpened(i, realism.removesuffix("-sharp"), cache)
    return ensure_scene("tuned", i, cache, realism)


def ensure_sharpened(i: int, realism: str, cache: str) -> tuple[Path, Path]:
    """Tuned scene ``i`` of ``realism`` sharpened by :data:`SHARPENED_AMOUNTS`' amount for its turn (made
    once, beside the cache's scenes), with its station; its truth is the scene's own, copied."""
    import shutil

    from processing import sharpened

    tif, station = ensure_scene("tuned", i, cache, realism)
    amount = SHARPENED_AMOUNTS[i % len(SHARPENED_AMOUNTS)]
    folder = Path(cache) / f"sharpen-{amount:g}" / realism
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / tif.name
    for suffix in (".truth.geojson", ".truth.json"):
        if tif.with_suffix(suffix).exists() and not out.with_suffix(suffix).exists():
            shutil.copyfile(tif.with_suffix(suffix), out.with_suffix(suffix))
    if not out.exists():
        partial = folder / f".{tif.name}"
        sharpened(tif, amount, partial)
        partial.replace(out)
    return out, station


def tif_of(i: int, realism: str, cache: str) -> Path:
    """The GeoTIFF of tuned scene ``i`` (generated into the cache if missing)."""
    return ensure_fit_scene(i, realism, cache)[0]


def tuned_scene(i: int, realism: str, cache: str) -> tuple[SceneWindow, Stock, DetectorParams]:
    """Tuned scene ``i`` (generated into the cache if missing): its window, true stock, and the
    detector settings the fit describes candidates with (car model off)."""
    tif, station = ensure_fit_scene(i, realism, cache)
    (window,) = read_windows(tif, read_stations(station))
    stock = truth_stock(tif.with_suffix(".truth.geojson"), window)
    return window, stock, base_params(car_model=False)


def shadow_side_rows(realism: str, window: SceneWindow, angles: np.ndarray) -> np.ndarray:
    """Which candidates (by their track direction) the car, locomotive, type and fill models learn
    from: all but, on a generic yard, those on a direction the along model judges: the sun shines
    along it (0.6.15) or its shadows across are too short to read (0.6.21, at the working GSD).
    Tumangang yards never have one."""
    if realism != "generic":
        return np.ones(len(angles), bool)
    sun = window_sun(window)
    params = base_params()
    gsd = window.gsd_m / working_scale(window.gsd_m, params)  # the detector's working grid
    return np.array([not read_along(float(a), sun, gsd, params) for a in angles], bool)


def scene_rows(args: tuple[int, str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Described candidates of one tuned scene: (features, labels, type features).

    Label columns: 0, on rolling stock, a railcar or a locomotive (the car
    model's label: the locomotive model tells the two apart); 1, on rolling
    stock and the nearest piece is a locomotive (1) or a railcar (0), -1 off
    both; 2, the class (index into TYPE_CLASSES) of the railcar within
    TYPE_MATCH_M, -1 if none; 3, that railcar is tarped (1) or not (0), -1
    if none; 4, the scene's GSD.
    """
    window, stock, params = tuned_scene(*args)
    dets, features, types = candidates_in_station(window, params)
    keep = shadow_side_rows(args[1], window, dets.angle_deg)
    dets, features, types = dets.subset(keep), features[keep], types[keep]
    if not len(dets):
        return np.zeros((0, len(FEATURES))), np.zeros((0, 5)), np.zeros((0, len(TYPE_FEATURES)))
    car_m, nearest = _nearest_m(dets.center, stock.cars, window.gsd_m)
    loco_m, _ = _nearest_m(dets.center, stock.locomotives, window.gsd_m)
    stock_m = np.minimum(car_m, loco_m)
    on_stock = stock_m <= MATCH_M
    if args[1] == "v3":
        # A candidate on a hedge, a tree or an overgrown track is not a car, even when a car stands on
        # the next track, within half a car length of it (the label's radius).
        truth = tif_of(*args).with_suffix(".truth.geojson")
        plants = [poly for kind, poly in lookalikes(truth, window) if kind == "vegetation"]
        reach = ON_PLANT_M / window.gsd_m
        on_plant = np.array(
            [any(p.distance(Point(c[1], c[0])) <= reach for p in plants) for c in dets.center]
        )
        on_stock &= ~(on_plant & (stock_m > STRICT_RADIUS_M))
    on_car = car_m <= TYPE_MATCH_M
    cls = np.array([TYPE_CLASSES.index(c) if c in TYPE_CLASSES else -1 for c in stock.classes], int)
    labels = np.column_stack(
        [
            on_stock,
            np.where(on_stock, loco_m < car_m, -1),
            np.where(on_car, cls[nearest] if len(cls) else -1, -1),
            np.where(on_car, stock.tarped[nearest] if len(cls) else -1, -1),
            np.full(len(dets), window.gsd_m),
        ]
    ).astype(float)
    described = np.isfinite(features).all(axis=1) & np.isfinite(types).all(axis=1)
    return features[described], labels[described], types[described]


def roof_rows(args: tuple[int, str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The roof model's examples from one tuned scene: (features, labels), three per candidate.

    Every described candidate within MATCH_M of true rolling stock, where the
    band evidence put it and one roof width to either side (roof placement
    off), labelled 1 where the position lies within ON_ROOF_M across the
    track (and MATCH_M along it) of a railcar or locomotive.
    """
    window, stock, params = tuned_scene(*args)
    centres, angles, three = roof_alternatives(window, params)
    pieces = np.vstack([stock.cars.reshape(-1, 2), stock.locomotives.reshape(-1, 2)])
    nf = len(FEATURES)
    if not len(centres) or not len(pieces):
        return np.zeros((0, nf)), np.zeros(0)
    a = np.radians(angles)
    along = np.column_stack([np.sin(a), np.cos(a)])[:, None, None, :]  # (row, col) along the track
    across = np.column_stack([np.cos(a), -np.sin(a)])[:, None, None, :]
    rel = (pieces[None, None, :, :] - centres[:, :, None, :]) * window.gsd_m  # (n, 3, pieces, 2) metres
    d_along, d_across = np.abs((rel * along).sum(-1)), np.abs((rel * across).sum(-1))
    near = np.hypot(d_along[:, 0], d_across[:, 0]).min(axis=1) <= MATCH_M
    on_roof = ((d_across <= ON_ROOF_M) & (d_along <= MATCH_M)).any(axis=2)
    keep = near & np.isfinite(three).all(axis=(1, 2))
    return three[keep].reshape(-1, nf), on_roof[keep].reshape(-1).astype(float)


def fit_roof_model(args: argparse.Namespace) -> None:
    """Fit the roof model (railcount/detect/roof_model.py); print how well it places held-out candidates."""
    with fit_pool(args) as pool:
        jobs = fit_jobs(args, lookalikes=False)
        parts = list(pool.map(roof_rows, jobs, chunksize=2))
    scene = scene_index([len(y) for _, y in parts], jobs)
    x = np.vstack([f for f, _ in parts])
    y = np.concatenate([lab for _, lab in parts])
    test = held_out(scene)
    held = fit_forest(x[~test], y[~test], **FOREST).probability(x[test]).reshape(-1, 3)
    truth = y[test].reshape(-1, 3) > 0.5
    pick = choose_rows(held, base_params().roof_margin)
    print(
        f"roof model: {len(y) // 3} candidates near rolling stock, "
        f"{truth[:, 0].mean():.1%} on a roof where found; "
        f"held out: {truth[np.arange(len(pick)), pick].mean():.1%} on a roof after placement "
        f"({(pick > 0).mean():.1%} moved; {truth.any(axis=1).mean():.1%} have a roof among the three)"
    )
    forest = shipped_forest(fit_forest(x, y, **FOREST))
    if not args.check:
        provenance = (
            f"Fitted {date.today().isoformat()} on {len(y)} positions (each candidate near rolling stock, "
            f"where found and {base_params().roof_shift_m} m to either side) from {which(args)} "
            f"of the tuned suite, {kinds_text(args)}; label: within {ON_ROOF_M} m across the track "
            f"(and {MATCH_M} m along) of a railcar or locomotive; {trees_text(FOREST)}"
        )
        write_forest_module(ROOF_MODULE, forest, provenance, "roof")
        roof_forest.cache_clear()
        print(f"wrote {ROOF_MODULE.relative_to(ROOT)}")


def _nearest_m(centres: np.ndarray, truth: np.ndarray, gsd_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each centre to the nearest truth point, and that point's index."""
    if not len(truth):
        return np.full(len(centres), np.inf), np.zeros(len(centres), int)
    d = np.linalg.norm(centres[:, None, :] - truth[None, :, :], axis=2)
    return d.min(axis=1) * gsd_m, d.argmin(axis=1)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (probability a random positive outranks a random negative)."""
    order = np.argsort(score)
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = label > 0.5
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1))


FIT_SCENES = 600
"""Tuned scenes per realism (and look-alike blocks) the shipped models are fitted on."""

FIT_GENERIC = "0"
"""Tuned generic yards (each seed its own layout) the shipped models are fitted on: none yet (the
shipped models are 0.6.6's; ``--generic 100-399`` adds them, and leaves 0-99 to diagnose)."""

FIT_ALONG_GENERIC = "100-399"
"""Tuned generic yards the along model is fitted on (0-99 are left to diagnose)."""

FOREST = {"trees": 200, "depth": 4, "rate": 0.1, "l2": 1.0, "min_leaf": 20, "bins": 64}
"""Settings of the car model's boosted trees (railcount.detect.boost.fit_forest)."""

FILL_FOREST = {"trees": 100, "depth": 3, "rate": 0.1, "l2": 1.0, "min_leaf": 20, "bins": 64}
"""Settings of the fill model's trees: fewer and shallower, for about a tenth of the examples."""


def shipped_forest(forest: Forest) -> Forest:
    """``forest`` as the written module stores it: thresholds as float32, leaf values to 9 digits."""
    return Forest(
        base=float(f"{forest.base:.9g}"),
        feature=forest.feature,
        threshold=forest.threshold.astype(np.float32).astype(float),
        value=np.vectorize(lambda v: float(f"{v:.9g}"))(forest.value),
    )


def write_forest_module(
    path: Path, forest: Forest, provenance: str, what: str = "car", features: tuple[str, ...] = FEATURES
) -> None:
    """Write a trees module (car, roof or fill model): FEATURES, BASE, FEATURE, THRESHOLD and VALUE."""

    def rows(table: np.ndarray, fmt) -> str:
        return "(\n" + "".join("    (" + ", ".join(fmt(v) for v in row) + "),\n" for row in table) + ")"

    names = "(\n" + "".join(f'    "{name}",\n' for name in features) + ")"
    text = (
        f'"""The fitted {what} model: written by benchmarks/fit_car_model.py, do not edit by hand.\n\n'
        + "\n".join(textwrap.wrap(provenance, 88))
        + '\n"""\n\n'
        "# fmt: off\n"
        f"FEATURES = {names}\n\n"
        f"BASE = {forest.base:.9g}\n\n"
        "# One row per tree; nodes level by level (the children of node i are 2i+1 and 2i+2).\n"
        "# FEATURE: the feature a node tests (-1: a leaf); a sample goes right when the feature\n"
        "# is above THRESHOLD (float32); VALUE: the log-odds a leaf adds.\n"
        f"FEATURE = {rows(forest.feature, lambda v: str(int(v)))}\n\n"
        f"THRESHOLD = {rows(forest.threshold, lambda v: str(np.float32(v)) if v else '0')}\n\n"
        f"VALUE = {rows(forest.value, lambda v: f'{v:.9g}' if v else '0')}\n"
    )
    path.write_text(text, encoding="utf-8")


def held_out_auc(features: np.ndarray, labels: np.ndarray, scene: np.ndarray) -> tuple[float, float]:
    """AUC of the logistic model and of the boosted trees, each fitted on half the scenes and scored
    on the other half (:func:`held_out`)."""
    test = held_out(scene)
    w, m, s = fit_logistic(design(features[~test]), labels[~test])
    p_logit = logistic(design(features[test]), w, m, s)
    p_trees = fit_forest(features[~test], labels[~test], **FOREST).probability(features[test])
    return auc(p_logit, labels[test]), auc(p_trees, labels[test])


def scene_set(text: str) -> list[int]:
    """Tuned scene (or block) indices from ``--scenes``/``--lookalikes``: ``N`` (the first N) or
    ranges such as ``0-49,100-599``."""
    try:
        if text.strip().isdigit():
            return list(range(int(text)))
        out: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out += range(int(lo), int(hi or lo) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or ranges like 0-49,100-599; got {text!r}") from None
    return sorted(set(out))


def ranges_text(indices: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    if not indices:
        return "none"
    parts, start = [], indices[0]
    for a, b in zip(indices, [*indices[1:], indices[-1] + 2], strict=True):  # a sentinel closes the last
        if b != a + 1:
            parts.append(f"{start}-{a}" if a > start else f"{a}")
            start = b
    return ", ".join(parts)


def which(args: argparse.Namespace) -> str:
    """The fitted scenes, as the models' provenance says it."""
    return f"{len(args.scenes)} scenes ({ranges_text(args.scenes)})"


def blocks_text(args: argparse.Namespace) -> str:
    """The look-alike blocks a model is fitted on, as its provenance says it ("" for none)."""
    if not args.lookalikes:
        return ""
    return f", and {len(args.lookalikes)} tuned look-alike blocks (site town; {ranges_text(args.lookalikes)})"


def fitted_on(args: argparse.Namespace) -> str:
    """What the car and fill models are fitted on, as their provenance says it."""
    blocks = blocks_text(args)
    generic = (
        f", {len(args.generic)} tuned generic yards ({ranges_text(args.generic)})" if args.generic else ""
    )
    levels = " / ".join(f"{b:g}" for b in BLURRED_LEVELS)
    softer = [
        f"{len(picked)} tuned {what} ({ranges_text(picked)}) rendered with {levels} times the sensor blur"
        for what, picked in (("plain yards", args.blurred), ("look-alike blocks", args.blurred_blocks))
        if picked
    ]
    amounts = " / ".join(f"{a:g}" for a in SHARPENED_AMOUNTS)
    softer += [
        f"{len(picked)} tuned {what} ({ranges_text(picked)}) sharpened by unsharp masks of {amounts}"
        for what, picked in (("plain yards", args.sharpened), ("look-alike blocks", args.sharpened_blocks))
        if picked
    ]
    blurred = "".join(f", {text}" for text in softer)
    settings = f", read with {', '.join(f'{k}={v}' for k, v in sorted(_SET.items()))}" if _SET else ""
    return f"{which(args)} of the tuned suite, {kinds_text(args)}{generic}{blurred}{blocks}{settings}"


def second_realism(args: argparse.Namespace) -> str:
    """The realism of the fit's second set of Tumangang yards: v2, or v3 (v2 with vegetation)."""
    return "v3" if getattr(args, "vegetation", False) else "v2"


def kinds_text(args: argparse.Namespace) -> str:
    """Which Tumangang yards a fit uses, as the provenance says it."""
    if second_realism(args) == "v3":
        return "plain (v1) and v3 (v2 with hedges, trees and overgrown tracks)"
    return "plain (v1) and v2"


def trees_text(settings: dict[str, float]) -> str:
    """The boosted trees' settings, as the models' provenance says them."""
    return "gradient-boosted trees " + ", ".join(f"{k} {v}" for k, v in settings.items()) + "."


def fit_jobs(args: argparse.Namespace, *, lookalikes: bool = True) -> list[tuple[int, str, str]]:
    """(scene, realism, cache) of the tuned scenes a fit uses, plain (v1) and v2 Tumangang yards,
    then the generic yards, then the tuned look-alike blocks (site town) unless ``lookalikes`` is off."""
    jobs = [(i, realism, args.cache) for realism in ("v1", second_realism(args)) for i in args.scenes]
    jobs += [(i, "generic", args.cache) for i in args.generic]
    jobs += [(i, "v1-blur", args.cache) for i in args.blurred]
    jobs += [(i, "v1-sharp", args.cache) for i in args.sharpened]
    if lookalikes:
        jobs += [(i, "town", args.cache) for i in args.lookalikes]
        jobs += [(i, "town-blur", args.cache) for i in args.blurred_blocks]
        jobs += [(i, "town-sharp", args.cache) for i in args.sharpened_blocks]
    return jobs


def scene_index(sizes: list[int], jobs: list[tuple[int, str, str]]) -> np.ndarray:
    """Per example row, the index of its scene within its realism (``sizes``: rows of each job of
    ``jobs``, :func:`fit_jobs`' list), for :func:`held_out`."""
    seen: dict[str, int] = {}
    index = []
    for (_, realism, _), n in zip(jobs, sizes, strict=True):
        index.append(np.full(n, seen.get(realism, 0)))
        seen[realism] = seen.get(realism, 0) + 1
    return np.concatenate(index) if index else np.zeros(0, int)


def held_out(scene: np.ndarray) -> np.ndarray:
    """The rows scored held out: alternate blocks of four scenes (so both halves hold every GSD)."""
    return (scene // 4) % 2 == 1


def argument_parser() -> argparse.ArgumentParser:
    """The fit's options (parsing them applies nothing: :func:`parse_args` does)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--scenes",
        type=scene_set,
        default=scene_set(str(FIT_SCENES)),
        help=f"tuned scenes per realism: N (the first N) or ranges like 0-49,100-599 (default {FIT_SCENES})",
    )
    ap.add_argument(
        "--generic",
        type=scene_set,
        default=scene_set(FIT_GENERIC),
        help="tuned generic yards (another layout per seed: accuracy.py --realism generic): "
        f"ranges as --scenes, or 0 for none (default {FIT_GENERIC}, as the shipped models; "
        "e.g. 100-399, leaving 0-99 to diagnose)",
    )
    ap.add_argument(
        "--blurred",
        type=scene_set,
        default=[],
        help="tuned plain yards also fitted on rendered with 1.5 and 2 times the sensor blur, by turns "
        "(benchmarks/blur.py's scenes): ranges as --scenes (default none, as the shipped models; "
        "session 54 measured 100-199)",
    )
    ap.add_argument(
        "--blurred-blocks",
        type=scene_set,
        default=[],
        help="tuned look-alike blocks so rendered, as negatives: ranges as --scenes (default none; "
        "session 54 measured 100-199 and 0-399)",
    )
    ap.add_argument(
        "--sharpened",
        type=scene_set,
        default=[],
        help="tuned plain yards also fitted on sharpened by unsharp masks of amount 0.5 and 1, by turns "
        "(benchmarks/processing.py's): ranges as --scenes (default none, as the shipped models)",
    )
    ap.add_argument(
        "--sharpened-blocks",
        type=scene_set,
        default=[],
        help="tuned look-alike blocks so sharpened, as negatives: ranges as --scenes (default none)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    ap.add_argument(
        "--lookalikes",
        type=scene_set,
        default=scene_set(str(FIT_SCENES)),
        help="tuned look-alike blocks (site town, no railcars) whose candidates are negatives: "
        f"N or ranges, as --scenes (default {FIT_SCENES})",
    )
    ap.add_argument(
        "--along-generic",
        type=scene_set,
        default=scene_set(FIT_ALONG_GENERIC),
        help="tuned generic yards whose candidates where the sun shines along the tracks fit the along "
        f"model, with those of the look-alike blocks (ranges as --scenes; default {FIT_ALONG_GENERIC}, "
        "leaving 0-99 to diagnose)",
    )
    ap.add_argument("--check", action="store_true", help="print the fit, do not write the module")
    ap.add_argument("--roof-only", action="store_true", help="fit the roof model only")
    ap.add_argument(
        "--fill-only", action="store_true", help="fit the fill model only (with the shipped car model)"
    )
    ap.add_argument(
        "--along-only", action="store_true", help="fit the along model only (with the shipped car model)"
    )
    ap.add_argument(
        "--types-only",
        action="store_true",
        help="fit the type models only (on the candidates the shipped car model keeps)",
    )
    ap.add_argument(
        "--vegetation",
        action="store_true",
        help="fit on v3 Tumangang yards (v2 with hedges, trees and overgrown tracks) instead of v2; "
        "candidates on vegetation are negatives",
    )
    ap.add_argument("--keep-roof", action="store_true", help="keep the shipped roof model (do not refit it)")
    ap.add_argument(
        "--keep-along", action="store_true", help="keep the shipped along model (do not refit it)"
    )
    add_set_argument(ap)
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The fit's options, with ``--set``'s overrides applied to this process (:func:`use_overrides`)."""
    ap = argument_parser()
    args = ap.parse_args(argv)
    use_overrides(parse_overrides(args.set, ap))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The roof model places boxes after the count is decided; the other models
    # are fitted on the candidates where the band evidence found them.
    if args.fill_only:
        fit_fill_model(args)
        return 0
    if args.along_only:
        fit_along_model(args)
        return 0
    if args.types_only:
        fit_types_only(args)
        return 0
    if not args.keep_roof:
        fit_roof_model(args)
    if args.roof_only:
        return 0
    with fit_pool(args) as pool:
        jobs = fit_jobs(args)
        parts = list(pool.map(scene_rows, jobs, chunksize=2))
    features = np.vstack([f for f, _, _ in parts])
    both = np.vstack([y for _, y, _ in parts])
    types = np.vstack([t for _, _, t in parts])
    scene = scene_index([len(f) for f, _, _ in parts], jobs)
    labels = both[:, 0]
    a_logit, a_trees = held_out_auc(features, labels, scene)
    print(f"held-out AUC (half the scenes each way): logistic {a_logit:.3f}, boosted trees {a_trees:.3f}")
    forest = shipped_forest(fit_forest(features, labels, **FOREST))
    prob = forest.probability(features)
    kept = prob >= base_params().min_car_probability
    print(f"candidates {len(labels)}, on rolling stock {labels.mean():.1%}, fit AUC {auc(prob, labels):.3f}")
    print(
        f"at p >= {base_params().min_car_probability}: kept {kept.mean():.1%}, of those on rolling stock "
        f"{labels[kept].mean():.1%}; candidates on rolling stock kept {kept[labels > 0.5].mean():.1%}"
    )
    used = np.bincount(forest.feature[forest.feature >= 0], minlength=len(FEATURES))
    print(
        "  splits per feature (most used): "
        + ", ".join(f"{FEATURES[i]} {used[i]}" for i in np.argsort(-used)[:8])
    )
    if not args.check:
        provenance = (
            f"Fitted {date.today().isoformat()} on {len(labels)} candidate cars from {fitted_on(args)}; "
            f"label: centre within {MATCH_M} m of true rolling stock (railcar or locomotive); "
            f"{trees_text(FOREST)}"
        )
        write_forest_module(MODULE, forest, provenance)
        print(f"wrote {MODULE.relative_to(ROOT)}")
    # The locomotive model: among candidates on rolling stock, locomotive or railcar?
    on_stock = both[:, 1] >= 0
    loco = both[on_stock, 1]
    l_logit, l_trees = held_out_auc(features[on_stock], loco, scene[on_stock])
    print(
        f"locomotives, held-out AUC (half the scenes each way): logistic {l_logit:.3f}, "
        f"boosted trees {l_trees:.3f}"
    )
    loco_forest = shipped_forest(fit_forest(features[on_stock], loco, **FOREST))
    lprob = loco_forest.probability(features[on_stock])
    called = lprob >= base_params().min_locomotive_probability
    print(
        f"locomotives: {int(loco.sum())} of {len(loco)} candidates on rolling stock, "
        f"fit AUC {auc(lprob, loco):.3f}; "
        f"called {int(called.sum())}, {loco[called].mean() if called.any() else 0:.0%} right, "
        f"{called[loco > 0.5].mean():.0%} of locomotives"
    )
    if not args.check:
        provenance = (
            f"Fitted {date.today().isoformat()} on {len(loco)} candidates on rolling stock from "
            f"{which(args)} of the tuned suite, {kinds_text(args)}; label: the nearest piece of "
            f"rolling stock within {MATCH_M} m is a locomotive; {trees_text(FOREST)}"
        )
        write_forest_module(LOCO_MODULE, loco_forest, provenance, "locomotive")
        print(f"wrote {LOCO_MODULE.relative_to(ROOT)}")
    fit_types(features, both, types, kept, scene, args)
    fit_fill_model(args)
    if not args.keep_along:
        fit_along_model(args)
    return 0


def fill_rows(args: tuple[int, str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The fill model's examples from one tuned scene: (FEATURES + FILL_CONTEXT rows, labels).

    A proposal is labelled 1 when its centre lies within FILL_MATCH_M of a
    true railcar that the detector without gap filling misses (no railcar
    detection matched to it, as the accuracy benchmark matches): a hole next
    to a car whose box is drawn off-centre is not a missed car.
    """
    window, stock, _ = tuned_scene(*args)
    dets, features, context = fill_candidates(window, base_params())
    keep = shadow_side_rows(args[1], window, dets.angle_deg)
    dets, features, context = dets.subset(keep), features[keep], context[keep]
    found = detect(window, base_params(fill_gaps=False))
    found_cars = found.center[found.kind != "locomotive"]
    matched = {j for _, j in match_pairs(found_cars, stock.cars, MATCH_M / window.gsd_m)}
    missed = np.array([c for j, c in enumerate(stock.cars) if j not in matched]).reshape(-1, 2)
    missed_m, _ = _nearest_m(dets.center, missed, window.gsd_m)
    return np.column_stack([features, context]), (missed_m <= FILL_MATCH_M).astype(float)


def fit_fill_model(args: argparse.Namespace) -> None:
    """The fill model: which proposals in the holes of track lines hold a car (see the module's docstring)."""
    jobs = fit_jobs(args)
    # Fresh interpreters, so the proposals are made with the car model just written.
    with fit_pool(args, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(fill_rows, jobs, chunksize=2))
    x = np.vstack([f for f, _ in parts])
    y = np.concatenate([lab for _, lab in parts])
    scene = scene_index([len(lab) for _, lab in parts], jobs)
    test = held_out(scene)
    held = fit_forest(x[~test], y[~test], **FILL_FOREST).probability(x[test])
    forest = shipped_forest(fit_forest(x, y, **FILL_FOREST))
    threshold = base_params().min_fill_probability
    kept = forest.probability(x) >= threshold
    print(
        f"fill proposals {len(y)}, a missed car within {FILL_MATCH_M} m {y.mean():.0%}; held-out AUC "
        f"(half the scenes each way) {auc(held, y[test]):.3f}; at p >= {threshold} (fit): kept "
        f"{int(kept.sum())}, {int(y[kept].sum())} on a car"
    )
    if not args.check:
        provenance = (
            f"Fitted {date.today().isoformat()} on {len(y)} proposals in the holes between believed cars "
            f"from {fitted_on(args)}; label: centre within {FILL_MATCH_M} m of a true railcar the detector "
            f"without gap filling misses; {trees_text(FILL_FOREST)}"
        )
        write_forest_module(FILL_MODULE, forest, provenance, "fill", (*FEATURES, *FILL_CONTEXT))
        print(f"wrote {FILL_MODULE.relative_to(ROOT)}")


def along_rows(args: tuple[int, str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The along model's examples from one tuned scene or block: (FEATURES and ALONG_CONTEXT rows, labels).

    The candidates proposed where the sun shines along the tracks, read with
    the shadows on each side in turn (:func:`~railcount.detect.detector.along_candidates`,
    with the shipped car model for the neighbour rule), labelled 1 when the
    centre lies within MATCH_M of true rolling stock, as the car model's are.
    """
    window, stock, _ = tuned_scene(*args)
    dets, features = along_candidates(window, base_params())  # the car model judges the neighbours
    if not len(dets):
        return np.zeros((0, len(FEATURES) + len(ALONG_CONTEXT))), np.zeros(0)
    car_m, _ = _nearest_m(dets.center, stock.cars, window.gsd_m)
    loco_m, _ = _nearest_m(dets.center, stock.locomotives, window.gsd_m)
    return features, (np.minimum(car_m, loco_m) <= MATCH_M).astype(float)


def fit_along_model(args: argparse.Namespace) -> None:
    """Fit the along model (railcount/detect/along_model.py) on the candidates of tuned generic yards and
    look-alike blocks where the sun shines along the tracks; print its held-out AUC."""
    jobs = [(i, "generic", args.cache) for i in args.along_generic]
    jobs += [(i, "town", args.cache) for i in args.lookalikes]
    with fit_pool(args) as pool:
        parts = list(pool.map(along_rows, jobs, chunksize=2))
    x = np.vstack([f for f, _ in parts])
    y = np.concatenate([lab for _, lab in parts])
    if not len(y):
        print("along model: no candidate where the sun shines along the tracks; nothing fitted")
        return
    scene = scene_index([len(lab) for _, lab in parts], jobs)
    test = held_out(scene)
    held = fit_forest(x[~test], y[~test], **FOREST).probability(x[test])
    scenes_with = sum(1 for _, lab in parts if len(lab))
    print(
        f"along model: {len(y)} candidates from {scenes_with} of {len(jobs)} scenes and blocks, "
        f"on rolling stock {y.mean():.1%}; held-out AUC {auc(held, y[test]):.3f}"
    )
    forest = shipped_forest(fit_forest(x, y, **FOREST))
    if not args.check:
        provenance = (
            f"Fitted {date.today().isoformat()} on {len(y)} candidate cars proposed where the sun shines "
            f"along the tracks (the band evidence read with the shadows on each side in turn), from tuned "
            f"generic yards ({ranges_text(args.along_generic)}){blocks_text(args)}; label: centre within "
            f"{MATCH_M} m of true rolling stock (railcar or locomotive); {trees_text(FOREST)}"
        )
        write_forest_module(ALONG_MODULE, forest, provenance, "along", (*FEATURES, *ALONG_CONTEXT))
        print(f"wrote {ALONG_MODULE.relative_to(ROOT)}")


TYPE_FOREST = {"trees": 200, "depth": 4, "rate": 0.1, "l2": 1.0, "min_leaf": 20, "bins": 64}
"""Settings of the type models' boosted trees (one forest per GSD regime and class, and for a tarp)."""
TARP_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
"""Tarp probabilities at which the held-out calls are printed (``min_tarp_probability`` is one)."""


def _type_forests(x: np.ndarray, cls: np.ndarray, tarp: np.ndarray) -> dict[str, Forest]:
    """One forest per class (one-vs-rest) and one for a tarped load, fitted on ``x``."""
    out = {
        name: fit_forest(x, (cls == k).astype(float), **TYPE_FOREST) for k, name in enumerate(TYPE_CLASSES)
    }
    out["tarped"] = fit_forest(x, tarp.astype(float), **TYPE_FOREST)
    return {name: shipped_forest(f) for name, f in out.items()}


def _type_logistic(x: np.ndarray, cls: np.ndarray, tarp: np.ndarray) -> dict[str, tuple]:
    """The models before detector 0.6.17, for comparison: one-vs-rest logistic with squared terms."""
    out = {name: fit_logistic(x, cls == k) for k, name in enumerate(TYPE_CLASSES)}
    out["tarped"] = fit_logistic(x, tarp)
    return out


def _type_scores(p: np.ndarray, pt: np.ndarray, cls: np.ndarray, tarp: np.ndarray) -> str:
    """Classes right, classified and right among them; tarps called, right and true at each threshold."""
    best, sure = p.argmax(axis=1), p.max(axis=1) >= base_params().min_type_probability
    text = (
        f"right {np.mean(best == cls):.1%}; at p >= {base_params().min_type_probability}: "
        f"{sure.mean():.1%} classified, {np.mean(best[sure] == cls[sure]):.1%} of them right; "
        f"tarped AUC {auc(pt, tarp.astype(float)):.3f}, called / right of {int(tarp.sum())}:"
    )
    for th in TARP_THRESHOLDS:
        called = pt >= th
        text += f" {th:g}: {int(called.sum())} / {int((called & tarp).sum())}"
    return text


def fit_types(
    features: np.ndarray,
    labels: np.ndarray,
    types: np.ndarray,
    kept: np.ndarray,
    scene: np.ndarray,
    args: argparse.Namespace,
) -> None:
    """The type models: per GSD regime, boosted trees (one-vs-rest) for each class and for a tarped load.

    Fitted on the candidates the car model keeps that lie within
    TYPE_MATCH_M of a true railcar (labelled with its class), so the models
    see what the detector will hand them. First, each regime's models are
    fitted on half the scenes and scored on the other half, both ways
    (:func:`held_out`), beside the logistic models of detector 0.3-0.6.16
    fitted and scored the same way.
    """
    fine_max = base_params().gap_visible_gsd_m
    on_car = kept & (labels[:, 2] >= 0)
    x_all = np.column_stack([features, types])
    x_logistic = type_design(features, types)
    forests: dict[str, Forest] = {}
    for regime in ("fine", "coarse"):
        gsd = labels[:, 4]
        sel = on_car & ((gsd <= fine_max) if regime == "fine" else (gsd > fine_max))
        cls, tarp = labels[sel, 2].astype(int), labels[sel, 3] > 0.5
        x, xl, half = x_all[sel], x_logistic[sel], held_out(scene[sel])
        by_class = np.bincount(cls, minlength=len(TYPE_CLASSES))
        print(f"types, {regime}: {len(cls)} cars, {by_class} by class, {int(tarp.sum())} tarped")
        for kind in ("logistic", "trees"):
            p, pt = np.zeros((len(cls), len(TYPE_CLASSES))), np.zeros(len(cls))
            for fit, score in ((~half, half), (half, ~half)):
                if kind == "trees":
                    models = _type_forests(x[fit], cls[fit], tarp[fit])
                    for k, name in enumerate(TYPE_CLASSES):
                        p[score, k] = models[name].probability(x[score])
                    pt[score] = models["tarped"].probability(x[score])
                else:
                    logit = _type_logistic(xl[fit], cls[fit], tarp[fit])
                    for k, name in enumerate(TYPE_CLASSES):
                        p[score, k] = logistic(xl[score], *logit[name])
                    pt[score] = logistic(xl[score], *logit["tarped"])
            print(f"  held out, {kind}: {_type_scores(p, pt, cls, tarp)}")
        models = _type_forests(x, cls, tarp)
        p = np.column_stack([models[name].probability(x) for name in TYPE_CLASSES])
        print(f"  fit, trees: {_type_scores(p, models['tarped'].probability(x), cls, tarp)}")
        forests.update({f"{regime}/{name}": f for name, f in models.items()})
    if not args.check:
        kinds = kinds_text(args)
        if args.generic:
            kinds += f", and {len(args.generic)} generic yards ({ranges_text(args.generic)})"
        write_type_module(TYPE_MODULE, forests, fine_max, int(on_car.sum()), which(args), kinds)
        print(f"wrote {TYPE_MODULE.relative_to(ROOT)} and {TYPE_FORESTS.relative_to(ROOT)}")


def fit_types_only(args: argparse.Namespace) -> None:
    """``--types-only``: the type models alone, on the candidates the shipped car model keeps."""
    with fit_pool(args) as pool:
        jobs = fit_jobs(args, lookalikes=False)
        parts = list(pool.map(scene_rows, jobs, chunksize=2))
    features = np.vstack([f for f, _, _ in parts])
    both = np.vstack([y for _, y, _ in parts])
    types = np.vstack([t for _, _, t in parts])
    scene = scene_index([len(f) for f, _, _ in parts], jobs)
    kept = car_forest().probability(features) >= base_params().min_car_probability
    fit_types(features, both, types, kept, scene, args)


def write_type_module(
    path: Path,
    forests: dict[str, Forest],
    fine_max: float,
    n: int,
    scenes: str,
    kinds: str,
) -> None:
    """Write ``type_model.py`` (provenance, feature list, regimes) and the forests beside it (``.npz``)."""
    provenance = (
        f"Fitted {date.today().isoformat()} on {n} kept candidate cars within {TYPE_MATCH_M} m of a true "
        f"railcar, from {scenes} of the tuned suite, {kinds}; one-vs-rest "
        f"{trees_text(TYPE_FOREST).rstrip('.')}; one set per GSD regime."
    )
    names = "(\n" + "".join(f'    "{name}",\n' for name in (*FEATURES, *TYPE_FEATURES)) + ")"
    text = (
        '"""The fitted type models: written by benchmarks/fit_car_model.py, do not edit by hand.\n\n'
        + "\n".join(textwrap.wrap(provenance, 88))
        + "\n\nTen forests (each regime: tank, covered, open, flat and tarped) are too many to keep as\n"
        "Python source as the other models are; they live in FORESTS_FILE beside this module\n"
        "(railcount.detect.boost.forests_bytes), read by railcount.detect.types.type_forests.\n"
        '"""\n\n'
        f"FEATURES = {names}\n\n"
        f"FINE_MAX_GSD_M = {fine_max!r}\n"
        '"""Cars at this GSD or finer are typed by the "fine" models, coarser ones by the "coarse"."""\n\n'
        f'FORESTS_FILE = "{TYPE_FORESTS.name}"\n'
    )
    path.write_text(text, encoding="utf-8")
    TYPE_FORESTS.write_bytes(forests_bytes(forests))


if __name__ == "__main__":
    sys.exit(main())
