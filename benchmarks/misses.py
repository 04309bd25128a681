"""Where the detector loses the cars it misses; prints a table.

Usage:  python benchmarks/misses.py [--suite tuned] [--realism v1|v2|generic]
                                    [--first 50] [--last 100] [--gsd 0.5] [--real]
                                    [--crops DIR]

For every true railcar of the chosen generated scenes (from the benchmark
cache, generated if missing, as ``benchmarks/accuracy.py`` does) it says
where along the detector's pipeline the car was found or lost:

* ``found``: a detection matches it (centres within half a car length,
  one to one, as the accuracy benchmark matches them);
* ``judged out``: candidates lie within half a car length, and the car
  model turned all of them down (on a track direction the sun shines
  along, the along model, judging the readings of both shadow sides as
  the detector does; before session 36 such cars were diagnosed from the
  one-sided reading);
* ``lost after``: a candidate the car model kept lies there, but no
  detection matches the car (merged into a neighbour, called a
  locomotive, or matched to another car);
* no candidate on the car (within half a car length along the
  candidate's track and :data:`ON_CAR_M` across it: a candidate on the
  next track, 4.5-5.5 m over, is another car's), because, in the car's
  track frame, within 4 m along its centre:

  - ``no evidence``: the band evidence stays under ``min_band_strength``
    within 3.5 m across it;
  - ``off the car``: it passes only 0.8-3.5 m across (on a shadow band or
    the sunlit strip beside the car);
  - ``spotty``: it passes within 0.8 m, but centreline pixels cover under
    half of those 8 m;
  - ``short run``: a centreline run covers it, shorter than a car
    needs (``0.7 * car_length_min_m``);
  - ``other``: a run of a car's length is there, yet no candidate (an
    uncut run rejected as ground, or cut elsewhere).

A car is given the furthest stage it reached in any track direction.
``--real`` adds rows for the Muttenz west scene of ``../shared/real``: at
its own 0.255 m, then made coarser to each GSD of the table (or to
``--gsd``) as ``benchmarks/real_gsd.py`` makes it, the four grid offsets
pooled (172 wagon readings per GSD).

A second table splits the ``no evidence`` cars by the factor of the band
evidence that held each down most (:func:`weakest_term`): ``no shadow``
beside the car's shadow-side edge, ``no sunlit step`` on its sun side,
``rough`` (the roof's smoothness), ``half-dark body``, or ``no side``
(no frame read a shadow side there). Session 55: on Muttenz west every
such wagon, at every GSD, lacked the shadow (low flat wagons with dark
decks), where the generated yards' few are split between a missing
shadow and roughness.

A third table splits the cars by their neighbours, from the truth alone:
whether a true railcar or locomotive stands one track over (3.5-6.5 m
across, within 12 m along) on the car's sun side, whose shadow then falls
across the gap onto the car's sunlit edge, or only on its shadow side, or
neither; with the share of each found. (Session 17: at 0.5 m, 60 % of the
cars with a neighbour on the sun side were found, 95 % of the others.)
A fourth splits them by how far across the car its shadow falls (from the
sun at the scene's time and the car's true outline): under 0.3 there is no
shadow beside the car to find it by (session 21: the generic yards' worst
scenes). A fifth splits them by their true type (tank, covered, open,
flat; session 30: at 0.5 m tank cars and gondolas are found least).
A sixth splits them by how light their body reads: the mean linear
luminance inside the true outline over the window's upper quartile
(:func:`body_lightness`), with rows for Muttenz west under ``--real``
(session 76: on the generated yards the cars under half of it are found
least, 81 % at 0.5 m; Muttenz west has one such wagon, and its misses made
coarser are mid-toned wagons).
This is a diagnostic: its categories read the detector's internals
(:func:`railcount.detect.detector.track_evidence`). ``--crops DIR`` also
writes a picture of each missed railcar there, to look at: a 60 m square
of the scene centred on it, raw beside annotated (``benchmarks/crops.py``),
named after the suite, scene, stage, where its neighbours stand and the car.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from railcount.detect.cars import BandTerms, lit_or_black, shade_ramp, sunlit_edge
from railcount.detect.detector import TrackEvidence, detect, judged_candidates, track_evidence
from railcount.detect.frame import along_across
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.prepare import prepare
from railcount.detect.sun import ALONG_SHADOW_ACROSS, SunPosition, shadow_across, window_sun
from railcount.evaluate import match_pairs
from railcount.io.outputs import display_bgr
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import Stock, truth_stock
from railcount.models import Detections, SceneWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import GSDS, SHARED_REAL, ensure_scene, map_scene_range, scene_range_arguments, selected_gsds
from crops import error_crop, write_crop
from real_gsd import coarse_copies

STAGES = ("found", "judged out", "lost after", "no evidence", "off the car", "spotty", "short run", "other")
"""Where a true car ended, in the order of the pipeline (the furthest first reached last)."""
TYPES = ("tank", "covered", "open", "flat")
"""The truth's railcar classes, for the table by type."""
MATCH_M = 7.5  # half a car length
ON_CAR_M = 2.0
"""A candidate stands on a true car when their centres lie less than this across the candidate's
track (and less than :data:`MATCH_M` along it). Before, any candidate within MATCH_M counted,
and a car beside a found one on the next track read as ``lost after``."""


def stages(
    window: SceneWindow, truth: np.ndarray, params: DetectorParams, dets: Detections | None = None
) -> list[str]:
    """The stage each true car (window (row, col) centres) reached; ``dets``, the detections of the
    window with ``params`` when the caller has them already."""
    return stages_and_terms(window, truth, params, dets)[0]


def stages_and_terms(
    window: SceneWindow, truth: np.ndarray, params: DetectorParams, dets: Detections | None = None
) -> tuple[list[str], list[str]]:
    """:func:`stages`, and for each car left with ``no evidence`` the factor of the band evidence that
    held it down most (:func:`weakest_term`; ``""`` for the other cars)."""
    radius = MATCH_M / window.gsd_m
    dets = detect(window, params) if dets is None else dets
    cars = dets.center[dets.kind != "locomotive"]
    matched = {j for _, j in match_pairs(cars, truth, radius)}
    # As the detector judges them: where the sun shines along a direction, both shadow sides are
    # read and the along model judges (since session 36; before, such cars were diagnosed from the
    # one-sided reading the car model is fitted on).
    cands, prob, least = judged_candidates(window, params)
    evidence = track_evidence(window, params, along=True)
    out, why = [], []
    for j, centre in enumerate(truth):
        why.append("")
        if j in matched:
            out.append("found")
            continue
        near = _on_car(cands, centre, window.gsd_m)
        if near.any():
            out.append("lost after" if (prob[near] >= least[near]).any() else "judged out")
            continue
        reached = [_evidence_stage(ev, centre, params) for ev in evidence]
        stage = max(reached, key=STAGES.index, default="no evidence")
        out.append(stage)
        if stage == "no evidence":
            why[-1] = weakest_term(evidence, centre, params)
    return out, why


def _on_car(cands: Detections, centre: np.ndarray, gsd_m: float) -> np.ndarray:
    """Which candidates stand on the true car at ``centre`` (window (row, col)): near it along their track
    (:data:`MATCH_M`) and across it (:data:`ON_CAR_M`)."""
    if not len(cands):
        return np.zeros(0, bool)
    d_row, d_col = (centre - cands.center).T
    along, across = along_across(d_row, d_col, cands.angle_deg)
    return (along * gsd_m < MATCH_M) & (across * gsd_m < ON_CAR_M)


def _in_frame(ev: TrackEvidence, centre: np.ndarray) -> tuple[float, float, slice]:
    """A window (row, col) point in ``ev``'s frame: its (x, y) there, and the frame's columns within
    4 m of it along the track."""
    # Window pixels to working pixels (pixel centres stay pixel centres), then to the frame.
    x, y = (centre[1] + 0.5) * ev.scale - 0.5, (centre[0] + 0.5) * ev.scale - 0.5
    fx, fy = ev.frame.matrix @ np.array([x, y, 1.0])
    reach = to_px(4.0, ev.gsd_m)
    return fx, fy, slice(max(0, round(fx) - reach), min(ev.strength.shape[1], round(fx) + reach + 1))


def _rows_around(ev: TrackEvidence, fy: float, metres: float) -> slice:
    """The rows of ``ev``'s frame within ``metres`` of the row nearest ``fy``."""
    reach = to_px(metres, ev.gsd_m)
    return slice(max(0, round(fy) - reach), min(ev.strength.shape[0], round(fy) + reach + 1))


def _evidence_stage(ev: TrackEvidence, centre: np.ndarray, params: DetectorParams) -> str:
    """How far a car with no candidate got in one track frame (see the module's docstring)."""
    gsd = ev.gsd_m
    fx, fy, along = _in_frame(ev, centre)
    near, wide = _rows_around(ev, fy, 0.8), _rows_around(ev, fy, 3.5)
    if along.start >= along.stop or wide.start >= wide.stop:
        return "no evidence"
    threshold = params.min_band_strength
    if ev.strength[near, along].max(initial=0.0) <= threshold:
        return "off the car" if ev.strength[wide, along].max(initial=0.0) > threshold else "no evidence"
    runs = ev.runs
    on_run = (np.abs(runs.y - fy) < to_px(2.5, gsd)) & (runs.x0 - 2 <= fx) & (fx <= runs.x1 + 2)
    if not on_run.any():
        return "spotty"
    length_m = float((runs.x1[on_run] - runs.x0[on_run]).max()) * gsd
    return "short run" if length_m < 0.7 * params.car_length_min_m else "other"


TERMS = ("no shadow", "no sunlit step", "rough", "half-dark body", "no side")
"""Why a car had no band evidence: the factor of :meth:`railcount.detect.cars.BandMaps.strength` that
held it down most, named by what its lack means (see :func:`weakest_term`)."""


def evidence_factors(terms: BandTerms, row: int, cols: slice, params: DetectorParams) -> list[np.ndarray]:
    """The four factors of the band evidence (:data:`TERMS` order: shadow, sunlit step, smoothness,
    body) on ``row`` of a frame over ``cols``, pixel by pixel, as
    :meth:`~railcount.detect.cars.BandMaps.evidence` and the body factor make them, without the relief
    a neighbour's shadow gives a lit body's sunlit side. Their product is the band strength wherever
    that relief is off (``tests/test_misses_terms.py`` holds the two together)."""
    shade = shade_ramp(np.asarray(terms.shade[row, cols]))
    sunlit = sunlit_edge(
        np.asarray(terms.step_sun[row, cols]), np.asarray(terms.dark_sun[row, cols]), params.min_side_contrast
    )
    body = lit_or_black(np.asarray(terms.body_dark[row, cols]))
    return [shade, sunlit, np.asarray(terms.smoothness[row, cols]), body]


def weakest_term(evidence: list[TrackEvidence], centre: np.ndarray, params: DetectorParams) -> str:
    """Which factor of the band evidence kept a car with none (under ``min_band_strength``) from it.

    The evidence is a product of four factors, each 0-1 (:meth:`~railcount.detect.cars.BandMaps.evidence`
    and the body factor): ``no shadow``, solid shadow just beyond the shadow-side edge
    (:func:`~railcount.detect.cars.shade_ramp` of its shadow-dark share); ``no sunlit step``, a
    colour step to a flank that is not shadow-dark on the sun side (read without the relief a
    neighbour's shadow gives at 0.65 m and finer, so it may be named where that relief would have
    lifted it); ``rough``, the roof's smoothness; ``half-dark
    body``, a body band neither lit nor black. In each track frame where the car's centre falls,
    over the rows within 0.8 m of its centreline and 4 m along each way, the row whose factors'
    means have the largest product is taken, and its least factor named; over the frames, the
    reading with the largest product. ``no side``: no frame read a shadow side there (the
    terms are not kept where no side was chosen)."""
    best: tuple[float, str] | None = None
    for ev in evidence:
        terms = ev.terms
        if terms is None:
            continue
        _, fy, along = _in_frame(ev, centre)
        if along.start >= along.stop:
            continue
        a, b = along.start, along.stop
        near = _rows_around(ev, fy, 0.8)
        for r in range(near.start, near.stop):
            factors = [float(f.mean()) for f in evidence_factors(terms, r, slice(a, b), params)]
            product = float(np.prod(factors))
            if best is None or product > best[0]:
                best = (product, TERMS[int(np.argmin(factors))])
    return "no side" if best is None else best[1]


SUN_ANGLES = ("along (<0.3)", "0.3-0.7", "across (>=0.7)")
"""How far across a car its shadow falls: |sine| of the angle between the shadow and the car's axis."""


def toward_sun(sun: SunPosition) -> np.ndarray:
    """The unit (row, col) direction toward the sun: north is -row, east +col."""
    az = np.radians(sun.azimuth_deg)
    return np.array([-np.cos(az), np.sin(az)])


def long_axes(stock: Stock) -> np.ndarray:
    """The unit (row, col) direction of each true railcar's longest outline edge, (len(rings), 2)."""
    axes = []
    for ring in stock.rings:
        edges = np.diff(np.vstack([ring, ring[:1]]), axis=0)
        lengths = np.hypot(edges[:, 0], edges[:, 1])
        axes.append(edges[np.argmax(lengths)] / lengths.max())
    return np.array(axes, dtype=float).reshape(-1, 2)


def sun_angles(window: SceneWindow, stock: Stock) -> list[str]:
    """For each true railcar, how far across its own axis its shadow falls (:data:`SUN_ANGLES`).

    Under 0.3 (the shadow within about 17 degrees of the track) there is no
    shadow beside the car: the detector has no side to look on
    (:func:`railcount.detect.detector._shadow_side`).
    """
    sun = window_sun(window)
    out = []
    for d_row, d_col in long_axes(stock):
        across = shadow_across(float(np.degrees(np.arctan2(d_row, d_col))), sun)
        out.append(
            SUN_ANGLES[0]
            if across < ALONG_SHADOW_ACROSS
            else SUN_ANGLES[1]
            if across < 0.7
            else SUN_ANGLES[2]
        )
    return out


NEIGHBOURS = ("sun side", "shadow side only", "neither")
"""Where a car's neighbours one track over stand (:func:`neighbours`)."""


def neighbours(window: SceneWindow, stock: Stock) -> list[str]:
    """For each true railcar, where true rolling stock one track over stands: on its ``sun side`` (whose
    shadow falls across the gap onto the car's sunlit edge), on its ``shadow side only``, or ``neither``.

    One track over: 3.5-6.5 m across the car's long axis (from its outline)
    and within 12 m along it. The sun is where the detector puts it.
    """
    to_sun = toward_sun(window_sun(window))
    others = np.vstack([stock.cars, stock.locomotives.reshape(-1, 2)])
    out = []
    for k, axis in enumerate(long_axes(stock)):
        normal = np.array([-axis[1], axis[0]])
        d = (others - stock.cars[k]) * window.gsd_m
        along, across = d @ axis, d @ normal
        over = (np.abs(along) < 12.0) & (np.abs(across) > 3.5) & (np.abs(across) < 6.5)
        sun_sign = np.sign(normal @ to_sun)
        if (over & (np.sign(across) == sun_sign)).any():
            out.append(NEIGHBOURS[0])
        elif over.any():
            out.append(NEIGHBOURS[1])
        else:
            out.append(NEIGHBOURS[2])
    return out


DARKNESS = ("dark (<0.5)", "0.5-1", "bright (>=1)")
"""How light a car's body reads: the mean linear luminance inside its true outline over the window's
upper quartile (:func:`body_lightness`)."""


def body_lightness(window: SceneWindow, stock: Stock) -> list[str]:
    """For each true railcar, how light its body reads (:data:`DARKNESS`): the mean of the prepared
    linear luminance inside its true outline, over the 75th percentile of the window's (about the
    sunlit ground of a yard).

    Under half of it a roof reads darker than most shadows' surroundings: black tank cars, dark
    hoppers and box cars, gondolas whose floor is in their own walls' shadow. Session 76, tuned
    plain 600-799: at 0.5 m such cars were found 81 % of the time, mid-toned ones 94 %, bright ones 97 %.
    """
    prepared = prepare(window)
    lum = prepared.linear_lum
    upper = float(np.percentile(lum[prepared.data], 75.0)) if prepared.data.any() else 0.0
    out = []
    for ring in stock.rings:
        mask = np.zeros(lum.shape, np.uint8)
        # Outline vertices are window coordinates (a pixel spans [r, r + 1)); OpenCV's are centres.
        points = np.round((np.asarray(ring)[:, ::-1] - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(mask, [points], 1, shift=4)
        inside = lum[mask.view(bool)]
        ratio = float(inside.mean()) / upper if inside.size and upper > 0 else 1.0
        out.append(DARKNESS[0] if ratio < 0.5 else DARKNESS[1] if ratio < 1.0 else DARKNESS[2])
    return out


def scene_stages(
    job: tuple[str, int, str, str], crops: str | None = None
) -> tuple[float, list[str], list[str], list[str], list[str], list[str], list[str]]:
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    (window,) = read_windows(tif, read_stations(station))
    stock = truth_stock(tif.with_suffix(".truth.geojson"), window)
    params = DetectorParams()
    dets = detect(window, params)
    found, why = stages_and_terms(window, stock.cars, params, dets)
    beside = neighbours(window, stock)
    if crops is not None and any(s != "found" for s in found):
        write_miss_crops(Path(crops), f"{suite}-{realism}_{i}", window, stock, dets, found, beside)
    classes = [str(c) for c in stock.classes]
    lightness = body_lightness(window, stock)
    return round(window.gsd_m, 2), found, beside, sun_angles(window, stock), classes, lightness, why


def write_miss_crops(
    folder: Path,
    stem: str,
    window: SceneWindow,
    stock: Stock,
    dets: Detections,
    found: list[str],
    beside: list[str],
) -> None:
    """One picture per missed true railcar (:func:`crops.error_crop`, centred on it), named
    ``STEM_STAGE_NEIGHBOURS_CAR.png`` (where it was lost, where its neighbours one track over stand)."""
    cars = dets.subset(dets.kind != "locomotive")
    pairs = match_pairs(cars.center, stock.cars, MATCH_M / window.gsd_m)
    false = np.setdiff1d(np.arange(len(cars)), pairs[:, 0])
    shown = display_bgr(window)
    for j, (stage, where) in enumerate(zip(found, beside, strict=True)):
        if stage == "found":
            continue
        picture = error_crop(window, shown, cars, false, list(stock.rings), stock.cars[j])
        name = f"{stem}_{stage.replace(' ', '-')}_{where.replace(' ', '-')}_{j}.png"
        write_crop(folder / name, picture)


def real_stages(gsds: Iterable[float] = ()) -> list[tuple[str, list[str], list[str], list[str]]]:
    """Muttenz west's wagons: at its own GSD, then made coarser to each of ``gsds`` (the four grid
    offsets of ``benchmarks/real_gsd.py`` pooled); (label, stages, the :func:`weakest_term` of each,
    the :func:`body_lightness` of each)."""
    muttenz = SHARED_REAL / "muttenz"
    stations = read_stations(muttenz / "station_west.geojson")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        copies = [("real muttenz west", [muttenz / "muttenz_2018.tif"])]
        for gsd in gsds:
            tifs = coarse_copies(muttenz / "muttenz_2018.tif", gsd, 0.55, Path(tmp))
            copies.append((f"real muttenz {gsd:.2f} m", tifs))
        for label, tifs in copies:
            found: list[str] = []
            why: list[str] = []
            light: list[str] = []
            for tif in tifs:
                (window,) = read_windows(tif, stations)
                stock = truth_stock(muttenz / "truth_west.geojson", window)
                f, w = stages_and_terms(window, stock.cars, DetectorParams())
                found += f
                why += w
                light += body_lightness(window, stock)
            out.append((label, found, why, light))
    return out


def row(label: str, ends: Iterable[str]) -> str:
    tally = collections.Counter(ends)
    n = sum(tally.values())
    cells = "".join(f"{tally[s]:>12}" for s in STAGES)
    return f"{label:<20}{n:>7}{cells}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(
        ap,
        suite="tuned",
        realism="v1",
        realisms=("v1", "v2", "v3", "generic"),
        first=50,
        real_help="add Muttenz west (../shared/real)",
    )
    ap.add_argument(
        "--crops",
        metavar="DIR",
        help="write a picture of each missed railcar there (raw | annotated, benchmarks/crops.py)",
    )
    args = ap.parse_args(argv)
    results = map_scene_range(functools.partial(scene_stages, crops=args.crops), args)
    chosen = f"{args.suite} {args.realism}, scenes {args.first}-{args.last - 1}"
    print(f"true railcars by where the detector found or lost them ({chosen})")
    print(f"{'':<20}{'cars':>7}" + "".join(f"{s:>12}" for s in STAGES))
    print("-" * (27 + 12 * len(STAGES)))
    for gsd in GSDS:
        at_gsd = [s for g, ss, *_ in results if g == round(gsd, 2) for s in ss]
        if at_gsd:
            print(row(f"{args.suite} {gsd:.2f} m", at_gsd))
    print(row(f"{args.suite} all", [s for _, ss, *_ in results for s in ss]))
    real = []
    if args.real:
        if SHARED_REAL.is_dir():
            real = real_stages(selected_gsds(args.gsd))
            for label, found, *_ in real:
                print(row(label, found))
        else:
            print(f"(no {SHARED_REAL}: the real scene is skipped)")
    print()
    print("true railcars with no band evidence, by the factor that held it down most (weakest_term)")
    print(f"{'':<24}{'cars':>7}" + "".join(f"{t:>16}" for t in TERMS))
    print("-" * (31 + 16 * len(TERMS)))
    term_rows = [
        (f"{args.suite} {gsd:.2f} m", [w for g, ss, *_, ws in results if g == round(gsd, 2) for w in ws])
        for gsd in GSDS
    ]
    term_rows.append((f"{args.suite} all", [w for *_, ws in results for w in ws]))
    for label, _, why, _ in real:
        term_rows.append((label, why))
    for label, why in term_rows:
        tally = collections.Counter(w for w in why if w)
        n = sum(tally.values())
        if n or not label.startswith(args.suite):
            print(f"{label:<24}{n:>7}" + "".join(f"{tally[t]:>16}" for t in TERMS))
    for title, column, names in (
        ("found / true railcars by where true stock one track over stands", 2, NEIGHBOURS),
        ("found / true railcars by how far across the car its shadow falls (|sin|)", 3, SUN_ANGLES),
        ("found / true railcars by their true type", 4, TYPES),
        (
            "found / true railcars by how light their body reads (over the window's upper quartile)",
            5,
            DARKNESS,
        ),
    ):
        print()
        print(title)
        print(f"{'':<20}" + "".join(f"{n:>22}" for n in names))
        print("-" * (20 + 22 * len(names)))
        for gsd in [*GSDS, None]:
            chosen_rows = [r for r in results if gsd is None or r[0] == round(gsd, 2)]
            stages = [s for r in chosen_rows for s in r[1]]
            groups = [g for r in chosen_rows for g in r[column]]
            if not stages:
                continue
            label = f"{args.suite} all" if gsd is None else f"{args.suite} {gsd:.2f} m"
            print(f"{label:<20}" + "".join(share_cell(stages, groups, where) for where in names))
        if column == 5:
            for label, found, _, light in real:
                print(f"{label:<20}" + "".join(share_cell(found, light, where) for where in names))
    return 0


def share_cell(found: list[str], groups: list[str], where: str) -> str:
    """``found/all share`` of the cars of ``groups`` equal to ``where``, right-aligned in 22 columns."""
    ends = [s for s, g in zip(found, groups, strict=True) if g == where]
    hits = sum(s == "found" for s in ends)
    share = f"{hits / len(ends):.0%}" if ends else "-"
    return f"{f'{hits}/{len(ends)} {share}':>22}"


if __name__ == "__main__":
    sys.exit(main())
