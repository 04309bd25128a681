"""Gap filling (railcount.detect.fill): proposals in the holes of track lines, and what they add."""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect import fill_model
from railcount.detect.candidates import FEATURES
from railcount.detect.cars import FrameCars
from railcount.detect.detector import detect, fill_candidates
from railcount.detect.fill import FILL_CONTEXT, coupled_pitch, fill_forest, gap_fills
from railcount.detect.params import DetectorParams
from railcount.evaluate import match_pairs
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_stock

from .geofixtures import write_synth


def frame_cars(x, y, length=30.0):
    n = len(x)
    return FrameCars(
        x=np.asarray(x, float),
        y=np.asarray(y, float),
        length=np.full(n, length),
        score=np.ones(n),
        method=np.full(n, "gap", dtype="<U5"),
    )


def test_a_hole_one_car_long_gets_one_proposal_where_the_car_would_stand():
    # 0.5 m pixels, 15 m cars (30 px) at a 30 px pitch; the fourth car is missing.
    cars = frame_cars([100, 130, 160, 220, 250], [50.0, 50.4, 49.8, 50.2, 50.0])
    prob = np.array([0.9, 0.8, 0.95, 0.7, 0.9])
    params = DetectorParams(fill_ends=False)
    fills, context = gap_fills(cars, prob, 0.5, params)
    assert fills.x.tolist() == pytest.approx([190.0])
    assert fills.y.tolist() == pytest.approx([50.0])  # the mean row of the cars bounding the hole
    assert fills.length.tolist() == pytest.approx([30.0])
    row = dict(zip(FILL_CONTEXT, context[0], strict=True))
    assert row["fill_p_low"] == pytest.approx(0.7) and row["fill_p_high"] == pytest.approx(0.95)
    assert row["fill_cars"] == 1 and row["fill_misfit"] == pytest.approx(0.0)
    assert row["fill_line_cars"] == 5 and row["fill_pitch_m"] == pytest.approx(15.0)
    assert (fills.method == "fill").all()


def test_holes_are_filled_only_between_believed_cars_on_one_line():
    params = DetectorParams(fill_ends=False)
    # Two cars 5 m apart across stand on neighbouring tracks: no line, no hole.
    apart = frame_cars([100, 190], [50.0, 60.0])
    assert gap_fills(apart, np.array([0.9, 0.9]), 0.5, params)[0].x.size == 0
    # A hole of half a car: nothing fits.
    short = frame_cars([100, 145], [50.0, 50.0])
    assert gap_fills(short, np.array([0.9, 0.9]), 0.5, params)[0].x.size == 0
    # A car the model does not believe bounds no hole.
    doubted = frame_cars([100, 160], [50.0, 50.0])
    assert gap_fills(doubted, np.array([0.9, 0.2]), 0.5, params)[0].x.size == 0
    # A hole longer than fill_max_m (here 45 m) is open track, not missed cars.
    long = frame_cars([100, 220], [50.0, 50.0])
    assert gap_fills(long, np.array([0.9, 0.9]), 0.5, params)[0].x.size == 0
    # Three cars' worth within the limit: three proposals, evenly spaced.
    three = frame_cars([100, 220], [50.0, 50.0])
    fills, context = gap_fills(
        three, np.array([0.9, 0.9]), 0.5, DetectorParams(fill_ends=False, fill_max_m=50.0)
    )
    assert fills.x.tolist() == pytest.approx([130.0, 160.0, 190.0])
    assert (context[:, FILL_CONTEXT.index("fill_cars")] == 3).all()


def test_ends_of_a_line_are_proposed_one_pitch_out():
    cars = frame_cars([100, 130, 160], [50.0, 50.0, 50.0])
    fills, context = gap_fills(cars, np.array([0.9, 0.6, 0.8]), 0.5, DetectorParams(fill_ends=True))
    assert sorted(fills.x.tolist()) == pytest.approx([70.0, 190.0])
    # An end proposal is marked by fill_cars = 0 and carries its end car's probability.
    assert (context[:, FILL_CONTEXT.index("fill_cars")] == 0).all()
    assert sorted(context[:, FILL_CONTEXT.index("fill_p_low")].tolist()) == pytest.approx([0.8, 0.9])


def test_boxes_short_of_their_cars_do_not_make_one_missing_car_two():
    """Boxes that stop short of their cars' ends (the band evidence's habit) leave a hole longer than
    a box where one car is missing. The line's pitch is read from its coupled cars' centres, so the
    hole gets one car where it stands, and a line's end car is proposed a pitch out."""
    # 0.5 m pixels: cars 30 px apart centre to centre, each found as a 22 px box; the fourth is missing.
    cars = frame_cars([100, 130, 160, 220, 250], [50.0] * 5, length=22.0)
    prob = np.full(5, 0.9)
    assert coupled_pitch(cars.x, cars.length) == pytest.approx(30.0)
    fills, context = gap_fills(cars, prob, 0.5, DetectorParams(fill_ends=False))
    assert fills.x.tolist() == pytest.approx([190.0])  # the hole (38 px) fits one car, not two boxes
    assert context[0, FILL_CONTEXT.index("fill_misfit")] == pytest.approx(0.0)
    # Read from the boxes' length, as detector 0.6.19 did, the same hole took two half-cars.
    old = DetectorParams(fill_ends=False, fill_pitch_from_spacing=False)
    assert gap_fills(cars, prob, 0.5, old)[0].x.size == 2
    # Two missing cars: two proposals, spread evenly over the hole (171-239 px), each 34 px long; the
    # box length read three cars into it.
    gap_of_two = frame_cars([100, 130, 160, 250, 280], [50.0] * 5, length=22.0)
    assert gap_fills(gap_of_two, prob, 0.5, old)[0].x.size == 3
    two = gap_fills(gap_of_two, prob, 0.5, DetectorParams(fill_ends=False))[0]
    assert two.x.tolist() == pytest.approx([188.0, 222.0])
    assert two.length.tolist() == pytest.approx([34.0, 34.0])
    ends = gap_fills(cars, prob, 0.5, DetectorParams(fill_ends=True))[0]
    assert sorted(ends.x[ends.x < 100].tolist() + ends.x[ends.x > 250].tolist()) == pytest.approx(
        [70.0, 280.0]
    )


def test_a_line_with_no_coupled_cars_falls_back_on_the_box_length():
    # Two believed cars with a hole between them and no coupled pair: no spacing to read.
    assert coupled_pitch(np.array([100.0, 190.0]), np.array([30.0, 30.0])) is None
    fills, _ = gap_fills(frame_cars([100, 190], [50.0, 50.0]), np.array([0.9, 0.9]), 0.5, DetectorParams())
    assert sorted(fills.x.tolist()) == pytest.approx([70.0, 130.0, 160.0, 220.0])


def test_shipped_fill_model_matches_the_feature_list():
    assert tuple(fill_model.FEATURES) == (*FEATURES, *FILL_CONTEXT)
    forest = fill_forest()
    assert forest.feature.max() < len(FEATURES) + len(FILL_CONTEXT)
    assert np.isfinite(forest.value).all()


SCENES = [  # (seed, GSD, date, realism): seeds no suite, sample or other test uses
    (781, 0.5, "2022-03-10", "v2"),
    (782, 0.5, "2021-08-15", "v2"),
    (772, 0.5, "2022-06-01", "v1"),
    (783, 0.3, "2020-10-01", "v2"),
]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    out = []
    for seed, gsd, date, realism in SCENES:
        folder = tmp_path_factory.mktemp(f"fill{seed}")
        paths, station = write_synth(folder, date=date, cars=60, gsd_m=gsd, seed=seed, realism=realism)
        (window,) = read_windows(paths["tif"], read_stations(station))
        out.append((window, truth_stock(paths["truth_geojson"], window)))
    return out


def test_filling_finds_missed_cars_and_most_fills_are_cars(scenes):
    """On unseen scenes, filled holes add true cars, and more accepted fills match one than not."""
    found = {False: 0, True: 0}
    fills = fills_on_cars = 0
    for window, stock in scenes:
        radius = 7.5 / window.gsd_m
        for on in (False, True):
            dets = detect(window, DetectorParams(fill_gaps=on))
            cars = dets.subset(dets.kind != "locomotive")
            pairs = match_pairs(cars.center, stock.cars, radius)
            found[on] += len(pairs)
            if on:
                filled = np.flatnonzero(cars.method == "fill")
                fills += filled.size
                fills_on_cars += len(set(filled.tolist()) & set(pairs[:, 0].tolist()))
        # Without gap filling no detection is a fill.
        assert not (detect(window, DetectorParams(fill_gaps=False)).method == "fill").any()
    assert fills >= 8, fills
    # Fills are kept from a low probability (0.2, chosen on the count error):
    # more of them must land on a car than off one, and they must add cars found.
    assert fills_on_cars > fills - fills_on_cars, (fills_on_cars, fills)
    assert found[True] >= found[False] + 0.5 * fills_on_cars, (found, fills_on_cars)


def test_fill_candidates_are_described_inside_the_station(scenes):
    window, _ = scenes[0]
    dets, features, context = fill_candidates(window)
    assert len(dets) == len(features) == len(context) > 0
    assert np.isfinite(features).all() and np.isfinite(context).all()
    assert (dets.method == "fill").all()
    rows, cols = np.round(dets.center).astype(int).T
    assert window.inside[rows, cols].all()
    low, high = context[:, FILL_CONTEXT.index("fill_p_low")], context[:, FILL_CONTEXT.index("fill_p_high")]
    assert (low <= high).all() and (low >= DetectorParams().min_car_probability).all()
