"""The car model: its fitter, and that it separates cars from other candidates on an unseen scene."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from railcount.detect import car_model
from railcount.detect.boost import Forest, fit_forest
from railcount.detect.candidates import FEATURES, car_forest, car_probability, fit_logistic
from railcount.detect.detector import candidates_in_station, detect
from railcount.detect.params import DetectorParams
from railcount.detect.prepare import prepare
from railcount.detect.roofs import choose_rows
from railcount.evaluate import match_centres, match_pairs
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_centres, truth_stock
from railcount.models import RAILCAR_TYPES

from .geofixtures import write_synth


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20000, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -2.0]
    true_w = np.array([0.3, 1.5, -0.8, 2.0])  # on standardised inputs
    z = (x - x.mean(0)) / x.std(0)
    p = 1.0 / (1.0 + np.exp(-(true_w[0] + z @ true_w[1:])))
    y = rng.random(len(p)) < p
    w, mean, scale = fit_logistic(x, y, l2=0.0)
    assert np.allclose(w, true_w, atol=0.08), w
    assert np.allclose(mean, x.mean(0)) and np.allclose(scale, x.std(0), rtol=1e-6)


def test_shipped_model_matches_the_feature_list():
    assert tuple(car_model.FEATURES) == FEATURES
    forest = car_forest()
    trees, nodes = forest.feature.shape
    assert trees >= 50 and nodes == 2 ** (forest.depth + 1) - 1
    assert forest.threshold.shape == forest.value.shape == (trees, nodes)
    assert forest.feature.max() < len(FEATURES) and forest.feature.min() >= -1
    # inner nodes carry no value; every feature the model tests is one it was given
    assert not forest.value[forest.feature >= 0].any()


def _walk(forest: Forest, row: np.ndarray) -> float:
    """One sample's log-odds, tree by tree, node by node (the reference for the vectorised walk)."""
    total = forest.base
    for t in range(forest.feature.shape[0]):
        node = 0
        while forest.feature[t, node] >= 0:
            go_right = row[forest.feature[t, node]] > forest.threshold[t, node]
            node = 2 * node + (2 if go_right else 1)
        total += forest.value[t, node]
    return total


def test_forest_learns_an_interaction_a_sum_cannot():
    # y = 1 when exactly one of x0, x1 is positive (XOR); x2 is noise.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 3))
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(float)
    test = rng.normal(size=(2000, 3))
    y_test = (test[:, 0] > 0) != (test[:, 1] > 0)
    forest = fit_forest(x, y, trees=60, depth=3, rate=0.3)
    p = forest.probability(test)
    assert ((p > 0.5) == y_test).mean() > 0.95
    w, mean, scale = fit_logistic(x, y)
    p_logit = 1 / (1 + np.exp(-(w[0] + ((test - mean) / scale) @ w[1:])))
    assert ((p_logit > 0.5) == y_test).mean() < 0.65, "a logistic model cannot draw XOR"
    assert set(np.unique(forest.feature)) <= {-1, 0, 1, 2}


def test_forest_is_deterministic_and_its_walk_matches_a_plain_one():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1500, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + 0.3 * rng.normal(size=1500) > 0).astype(float)
    a = fit_forest(x, y, trees=25, depth=4)
    b = fit_forest(x, y, trees=25, depth=4)
    assert np.array_equal(a.feature, b.feature) and np.array_equal(a.value, b.value)
    assert np.array_equal(a.threshold, b.threshold) and a.base == b.base
    rows = rng.normal(size=(40, 4))
    assert np.allclose(a.log_odds(rows), [_walk(a, r) for r in rows])
    shipped = car_forest()
    cand = rng.normal(size=(5, len(FEATURES)))
    assert np.allclose(shipped.log_odds(cand), [_walk(shipped, r) for r in cand])
    assert np.allclose(car_probability(cand), 1 / (1 + np.exp(-shipped.log_odds(cand))))


def test_forest_respects_min_leaf():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] > 1.8).astype(float)  # about 10 positives: too few for a leaf of 20
    forest = fit_forest(x, y, trees=5, depth=3, min_leaf=20)
    for t in range(5):
        node_of = np.zeros(len(x), int)
        for _ in range(forest.depth):
            f = forest.feature[t, node_of]
            inner = f >= 0
            right = x[np.arange(len(x)), np.maximum(f, 0)] > forest.threshold[t, node_of]
            node_of = np.where(inner, 2 * node_of + 1 + right, node_of)
        assert np.bincount(node_of).max() <= len(x)
        assert np.bincount(node_of)[np.bincount(node_of) > 0].min() >= 20


UNSEEN = [  # (seed, GSD, date): seeds no suite or sample uses, summer and winter sun
    (771, 0.3, "2021-12-20"),
    (772, 0.5, "2022-06-01"),
    (773, 0.75, "2019-02-11"),
    (774, 1.0, "2020-09-03"),
    (775, 0.5, "2023-11-20"),
    (776, 0.75, "2018-07-07"),
]


COARSE_EXTRA = [  # more unseen coarse scenes for the type test (seeds no suite or sample uses)
    (777, 1.0, "2021-03-30"),
    (778, 0.75, "2019-08-19"),
    (779, 1.0, "2023-01-09"),
]


def _unseen_scenes(tmp_path_factory, specs):
    scenes = []
    for seed, gsd, date in specs:
        folder = tmp_path_factory.mktemp(f"unseen{seed}")
        paths, station = write_synth(folder, date=date, cars=60, gsd_m=gsd, seed=seed)
        (window,) = read_windows(paths["tif"], read_stations(station))
        scenes.append((window, truth_stock(paths["truth_geojson"], window)))
    return scenes


@pytest.fixture(scope="module")
def coarse_extra(tmp_path_factory):
    """Three more unseen scenes at 0.75-1.0 m: with only the three of :data:`UNSEEN`, the coarse type
    test judged about 75 classified cars, and one car more or less moved it across its margin."""
    return _unseen_scenes(tmp_path_factory, COARSE_EXTRA)


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    """Six generated scenes the models were not fitted on, with their true rolling stock."""
    return _unseen_scenes(tmp_path_factory, UNSEEN)


def test_model_ranks_candidates_on_cars_above_the_rest(unseen):
    probs, on_car = [], []
    for window, stock in unseen:
        truth = stock.cars
        dets, features, _ = candidates_in_station(window, DetectorParams(car_model=False))
        described = np.isfinite(features).all(axis=1)
        dist = np.linalg.norm(dets.center[:, None] - truth[None], axis=2).min(axis=1) * window.gsd_m
        on_car.append(dist[described] <= 7.5)
        probs.append(car_probability(features[described]))
    prob, on = np.concatenate(probs), np.concatenate(on_car)
    assert on.sum() >= 50 and (~on).sum() >= 20
    # Probability that a candidate on a car outranks one that is not (AUC), pooled.
    auc = (prob[on][:, None] > prob[~on][None, :]).mean()
    assert auc >= 0.7, auc


def test_model_improves_f1_over_the_band_strength_alone(unseen):
    totals = {True: np.zeros(3), False: np.zeros(3)}
    for window, stock in unseen:
        for use_model in (True, False):
            dets = detect(window, DetectorParams(car_model=use_model))
            m = match_centres(dets.center, stock.cars, 7.5 / window.gsd_m)
            totals[use_model] += (m.truth, m.detected, m.true_positives)
    f1 = {k: 2 * tp / (t + n) for k, (t, n, tp) in totals.items()}
    assert f1[True] >= f1[False], totals
    assert DetectorParams().car_model  # on by default


def test_choose_rows_moves_a_box_only_when_another_position_is_more_surely_a_roof():
    prob = np.array([[0.2, 0.9, 0.1], [0.5, 0.6, 0.4], [-np.inf, 0.9, 0.9], [0.1, 0.3, 0.8]])
    assert choose_rows(prob, 0.2).tolist() == [1, 0, 0, 2]
    assert choose_rows(prob, 0.0).tolist() == [1, 1, 0, 2]
    assert choose_rows(np.zeros((0, 3)), 0.0).size == 0


def test_boxes_are_placed_on_roofs_and_the_count_stays(unseen):
    """Placement moves boxes onto the cars (centre within 2.5 m); the count is decided before it.

    That holds when duplicates are merged where the evidence found them
    (``merge_placed`` off); the shipped detector merges them where the boxes
    are placed (0.6.0), so there two boxes placed on one roof also count once.
    """
    on_car = {True: 0, False: 0}
    params = DetectorParams(merge_placed=False)
    for window, stock in unseen:
        # Metres from each pixel to the station's edge (inside or out).
        inside = window.inside.astype(np.uint8)
        to_edge = window.gsd_m * np.maximum(
            cv2.distanceTransform(inside, cv2.DIST_L2, 5), cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
        )
        counts, near = {}, {}
        for placed in (True, False):
            dets = detect(window, dataclasses.replace(params, localise_roofs=placed))
            cars = dets.subset(dets.kind != "locomotive")
            on_car[placed] += match_centres(cars.center, stock.cars, 2.5 / window.gsd_m).true_positives
            rows, cols = np.round(dets.center).astype(int).T
            counts[placed] = len(dets)
            near[placed] = int((to_edge[rows, cols] <= params.roof_shift_m + 1.0).sum())
        # Only a box moved across the station's edge can change the count, and such
        # a box lies within a move (roof_shift_m) of the edge in the one run that counts it.
        assert abs(counts[True] - counts[False]) <= near[True] + near[False], (counts, near)
    # Placement puts 232 boxes on their cars with detector 0.6.5 and 0.6.6 alike; without it
    # 199 (0.6.5) and 203 (0.6.6, whose refitted car model keeps other candidates), a gain of
    # 17 and 14 %. Without placement working the two would be equal.
    assert on_car[True] >= 1.1 * on_car[False], on_car


def test_haze_correction_finds_cars_without_inventing_them(tmp_path):
    hazy, station = write_synth(
        tmp_path / "hazy",
        date="2020-09-14",
        cars=50,
        gsd_m=0.5,
        seed=991,
        realism="v2",
        conditions="haze=0.4",
    )
    (window,) = read_windows(hazy["tif"], read_stations(station))
    truth = truth_centres(hazy["truth_geojson"], window)
    found = {h: len(detect(window, DetectorParams(haze_floor=h))) for h in (None, 0.11)}
    assert found[0.11] >= found[None] + 0.3 * len(truth), (found, len(truth))
    assert found[0.11] <= 1.25 * len(truth) + 2, (found, len(truth))
    # Empty yards: corrected for haze, they show few more false cars than the
    # same yards in clear air (v2 yards carry trucks and containers, so that
    # is not zero). Detector 0.5 on these four yards: 11 in clear air, 17 in
    # haze; the correction makes the detector keener, and about one truck or
    # container in a yard more passes for a car (README, known limitations).
    counts = {"": 0, "haze=0.4": 0}
    for seed in (992, 993, 994, 995):
        for condition in counts:
            empty, station = write_synth(
                tmp_path / f"empty{seed}{condition}",
                date="2020-09-14",
                cars=0,
                gsd_m=0.5,
                seed=seed,
                realism="v2",
                conditions=condition,
            )
            (window,) = read_windows(empty["tif"], read_stations(station))
            counts[condition] += len(detect(window))
    assert counts["haze=0.4"] <= counts[""] + 2 * 4, counts


def test_a_hazy_yard_under_a_high_sun_is_counted_as_in_clear_air(tmp_path):
    """Haze over 0.75 m yards in July (the sun 67 degrees up, shadows a pixel or two wide): with the haze
    taken out (``haze_floor``, and to a clear window's floor, ``haze_floor_ratio``) the cars found in haze
    stay near those of the same yards in clear air. Without the correction (both None) these three yards
    keep 20 of the 176 cars found in clear air; with the floor's excess alone (0.6.11's ``haze_floor``)
    145, with both 151 (session 78; docs/detector.md, *Sessions 26, 31 and 78*).

    Seed 1770 is the hardest of twenty neighbouring seeds (1765-1784): 0.6.12 found 49 of its 81 cars
    against 69, 0.6.13-0.6.30 31 against 47, and 0.6.31 (refitted with sharpened yards) 24 against 46,
    while the other seeds keep 0.86-1.11 of their clear-air finds under either model set. So it is
    judged with its two neighbours, pooled, and alone only against a collapse.
    """
    found, counted = {"": 0, "haze=0.4": 0}, {"": 0, "haze=0.4": 0}
    worst = 1.0
    for seed in (1769, 1770, 1771):
        spec = dict(date="2023-07-12", cars=81, gsd_m=0.75, seed=seed, realism="v2", product="rgb8")
        seed_found = {}
        for condition in ("", "haze=0.4"):
            paths, station = write_synth(
                tmp_path / f"{seed}{condition or 'clear'}", conditions=condition, **spec
            )
            (window,) = read_windows(paths["tif"], read_stations(station))
            cars = detect(window)
            cars = cars.subset(cars.kind != "locomotive")
            truth = truth_centres(paths["truth_geojson"], window)
            counted[condition] += len(cars)
            seed_found[condition] = match_centres(cars.center, truth, 7.5 / window.gsd_m).true_positives
            found[condition] += seed_found[condition]
        worst = min(worst, seed_found["haze=0.4"] / seed_found[""])
    assert found["haze=0.4"] >= 0.8 * found[""], (found, counted)
    assert counted["haze=0.4"] >= 0.8 * counted[""], (found, counted)
    assert counted["haze=0.4"] <= counted[""] + 10, (found, counted)
    assert worst >= 0.45, (worst, found)


def test_snow_cover_is_recognised_and_its_pale_shadows_count(tmp_path):
    """On snow, shadows sit at 0.40-0.50 of the sunlit snow; the detector takes them as shadows there.

    Three snowy winter yards at 0.3 m: with the rule 109 of 150 cars found
    (140 detections), without it 86 (103 detections).
    """
    params = DetectorParams()
    no_rule = dataclasses.replace(params, snow_min_share=2.0)
    totals = {"rule": np.zeros(3), "no rule": np.zeros(3)}
    for seed, date in ((996, "2023-01-18"), (997, "2022-12-10"), (998, "2021-02-05")):
        snowy, station = write_synth(
            tmp_path / f"snow{seed}",
            date=date,
            cars=50,
            gsd_m=0.3,
            seed=seed,
            realism="v2",
            conditions="snow",
        )
        (window,) = read_windows(snowy["tif"], read_stations(station))
        assert prepare(window).snow_share >= params.snow_min_share
        truth = truth_centres(snowy["truth_geojson"], window)
        for name, p in (("rule", params), ("no rule", no_rule)):
            m = match_centres(detect(window, p).center, truth, 7.5 / window.gsd_m)
            totals[name] += (m.truth, m.detected, m.true_positives)
    (truth, detected, found), (_, _, found_before) = totals["rule"], totals["no rule"]
    assert found >= found_before + 0.05 * truth, totals
    assert detected <= 1.25 * truth, totals
    # A clear yard is not snow, and its detections do not depend on the rule.
    clear, station = write_synth(
        tmp_path / "clear", date="2023-01-18", cars=30, gsd_m=0.5, seed=996, realism="v2"
    )
    (window,) = read_windows(clear["tif"], read_stations(station))
    assert prepare(window).snow_share < 0.2
    assert np.array_equal(detect(window, params).center, detect(window, no_rule).center)


def test_locomotives_are_read_and_counted_apart(tmp_path):
    import json

    from railcount.io.truth import truth_locomotives
    from railcount.pipeline import evaluate_scene

    paths, station = write_synth(tmp_path, date="2022-06-01", cars=60, gsd_m=0.5, seed=772)
    summary = json.loads(paths["truth_json"].read_text())
    (window,) = read_windows(paths["tif"], read_stations(station))
    assert len(truth_locomotives(paths["truth_geojson"], window)) == summary["locomotives"] >= 1
    assert len(truth_centres(paths["truth_geojson"], window)) == summary["railcars"]
    (ev,) = evaluate_scene(paths["tif"], read_stations(station), paths["truth_geojson"])
    kinds = ev.count.detections.kind
    # Detections called locomotives are neither railcars in the count nor in the railcar match.
    assert ev.count.result.railcars == int((kinds != "locomotive").sum()) == ev.match.detected
    assert ev.count.result.locomotives == int((kinds == "locomotive").sum()) == ev.locomotives.detected
    assert ev.locomotives.truth == summary["locomotives"]


def _typed_pairs(unseen, params, fine):
    """(detected kind, true class, detected tarped, true tarped) of detections within 3 m of a true car."""
    pairs = []
    for window, stock in unseen:
        if (window.gsd_m <= DetectorParams().gap_visible_gsd_m) != fine or not len(stock.cars):
            continue
        dets = detect(window, params)
        for i, j in match_pairs(dets.center, stock.cars, 3.0 / window.gsd_m):
            pairs.append((dets.kind[i], stock.classes[j], bool(dets.tarped[i]), bool(stock.tarped[j])))
    return pairs


@pytest.mark.parametrize("fine", [True, False], ids=["fine", "coarse"])
def test_types_beat_guessing_the_commonest_class(unseen, fine, request):
    scenes = unseen if fine else unseen + request.getfixturevalue("coarse_extra")
    pairs = _typed_pairs(scenes, DetectorParams(), fine)
    classified = [(d, t) for d, t, _, _ in pairs if d not in ("railcar", "locomotive")]
    assert len(pairs) >= 60 and len(classified) >= 0.4 * len(pairs), (len(pairs), len(classified))
    right = np.mean([d == t for d, t in classified])
    commonest = max(np.mean([t == c for _, t in classified]) for c in RAILCAR_TYPES)
    assert right >= commonest + 0.15, (right, commonest)
    # With classification off every railcar stays unclassified.
    off = _typed_pairs(scenes, DetectorParams(classify_types=False), fine)
    assert {d for d, _, _, _ in off} <= {"railcar", "locomotive"}


def test_tarped_calls_find_tarped_cars_well_above_chance(unseen):
    pairs = _typed_pairs(unseen, DetectorParams(), True)
    called = [(t, true_tarp) for d, t, tarp, true_tarp in pairs if tarp]
    base = np.mean([true_tarp for _, _, _, true_tarp in pairs])
    assert called, "no tarped load called in the fine scenes"
    # A car called tarped is several times likelier than a random matched car to be tarped
    # (measured on these scenes: 2 of 5 calls right, against 1 car in 20 tarped).
    assert np.mean([tt for _, tt in called]) >= 3 * base, (called, base)


def test_shipped_type_model_matches_the_feature_lists():
    from railcount.detect import type_model
    from railcount.detect.types import TYPE_FEATURES, TYPE_MODEL_NAMES, type_forests

    assert tuple(type_model.FEATURES) == FEATURES + TYPE_FEATURES
    forests = type_forests()
    assert set(forests) == set(TYPE_MODEL_NAMES) and len(TYPE_MODEL_NAMES) == 10
    n_inputs = len(FEATURES) + len(TYPE_FEATURES)
    for name, forest in forests.items():
        inner = forest.feature >= 0
        assert inner.any(), name
        assert forest.feature.max() < n_inputs, name
        # A leaf adds log-odds, an inner node only splits.
        assert not forest.value[inner].any() and forest.value[~inner].any(), name


def test_forests_file_round_trips_to_the_same_bytes():
    import io
    import zipfile

    from railcount.detect.boost import fit_forest, forests_bytes, forests_from_bytes

    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 6))
    y = (x[:, 0] + 0.5 * x[:, 3] * x[:, 4] + rng.normal(0, 0.5, 400) > 0).astype(float)
    # Not in name order, as a fit writes them (fine before coarse): the file must not depend on it.
    forests = {"b/two": fit_forest(x, 1 - y, trees=10, depth=2), "a/one": fit_forest(x, y, trees=20, depth=3)}
    data = forests_bytes(forests)
    back = forests_from_bytes(data)
    assert set(back) == set(forests)
    for name, forest in forests.items():
        # Thresholds are kept as the float32 values the fit cut at: every prediction is the same.
        assert np.array_equal(back[name].probability(x), forest.probability(x)), name
    # Written twice (as a refit on the same data would), the file is the same to the byte: no member
    # carries the time it was written, and the members come in name order.
    assert forests_bytes(back) == data
    dates = {info.date_time for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert dates == {(1980, 1, 1, 0, 0, 0)}


def _track_frame(gsd: float, rail_rows_m: list[float], rng: np.random.Generator) -> np.ndarray:
    """A frame of grainy ground (log luminance) with thin dark rails along the rows at the given offsets."""
    rows, cols = round(20 / gsd), 200
    frame = rng.normal(0.0, 0.05, (rows, cols)).astype(np.float32)
    centre = rows // 2
    for off in rail_rows_m:
        frame[centre + round(off / gsd)] -= 0.4
    return frame


@pytest.mark.parametrize("gsd", [0.3, 0.5])
def test_rail_pair_sees_a_neighbouring_track_and_nothing_else(gsd):
    from railcount.detect.candidates import RAIL_GAUGE_M, rail_pair

    rng = np.random.default_rng(2)
    half = RAIL_GAUGE_M / 2
    track = _track_frame(gsd, [4.8 - half, 4.8 + half], rng)
    bare = _track_frame(gsd, [], rng)
    own = _track_frame(gsd, [-half, half], rng)  # the car's own rails are under it: not counted
    single = _track_frame(gsd, [4.8], rng)  # one line (an eave, a kerb) is not a pair
    row = track.shape[0] // 2
    values = {
        name: rail_pair(f, row, 20, 180, gsd)
        for name, f in [("track", track), ("bare", bare), ("own", own), ("single", single)]
    }
    assert values["track"] > 0.1, values
    assert max(values["bare"], values["own"], values["single"]) < 0.25 * values["track"], values
