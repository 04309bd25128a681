"""Where the sun shines along the tracks, both shadow sides are read and the along model judges (0.6.15).

With the shadows along a track there is none beside its cars, and the
band evidence, read with the shadows on the side that shows more lit
bodies, found two cars in five on generated yards. The detector now reads
such a direction with the shadows on each side in turn and lets a model
fitted on such candidates judge them (``benchmarks/fit_car_model.py
--along-only``; figures in docs/detector.md, *Session 34*).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from railcount.detect.candidates import FEATURES, along_probability
from railcount.detect.dashes import ALONG_CONTEXT
from railcount.detect.detector import along_candidates, detect, judged_candidates, sun_along, track_evidence
from railcount.detect.params import DetectorParams
from railcount.detect.sun import SunPosition
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import found_railcars, synth_window, write_synth


def test_a_direction_is_along_the_sun_only_at_a_known_time_and_a_sun_up():
    # Frame angles run from +col towards +row (rows go south): 90 degrees is a north-south track.
    noon = SunPosition(azimuth_deg=180.0, elevation_deg=40.0, assumed_time=False)
    assert sun_along(90.0, noon)  # shadows fall north, along the track
    assert sun_along(100.0, noon)  # 10 degrees off: still along
    assert not sun_along(0.0, noon)  # east-west: across
    assert not sun_along(60.0, noon)
    assumed = dataclasses.replace(noon, assumed_time=True)
    assert not sun_along(90.0, assumed)  # a guessed sun is not trusted for this
    low = dataclasses.replace(noon, elevation_deg=3.0)
    assert not sun_along(90.0, low)


def test_the_along_model_reads_the_car_features_and_the_dashes():
    rng = np.random.default_rng(0)
    p = along_probability(rng.normal(size=(5, len(FEATURES))), rng.uniform(size=(5, len(ALONG_CONTEXT))))
    assert p.shape == (5,) and np.all((p >= 0) & (p <= 1))


@pytest.fixture(scope="module")
def along_yard(tmp_path_factory):
    """Generic yard 1092 on 2024-01-20: the sun at azimuth 162, the tracks at a bearing of 154."""
    return synth_window(
        tmp_path_factory.mktemp("along_yard"),
        site="generic",
        seed=1092,
        gsd_m=0.5,
        cars=30,
        date="2024-01-20",
    )


def test_a_yard_with_the_sun_along_its_tracks_gets_more_of_its_cars_found(along_yard):
    window, truth = along_yard
    props, features = along_candidates(window)
    assert len(props) > 0 and features.shape == (len(props), len(FEATURES) + len(ALONG_CONTEXT))
    found_on, counted_on = found_railcars(window, truth, DetectorParams())
    found_off, _ = found_railcars(window, truth, DetectorParams(along_model=False))
    assert found_on > found_off
    assert found_on >= 0.5 * len(truth.cars)
    # Not by counting everything twice: most of what is counted is on a car.
    assert found_on >= 0.6 * counted_on


def test_where_the_shadows_fall_across_nothing_changes(tmp_path):
    # Tumangang's generated yards always have the shadows across their tracks.
    paths, station = write_synth(tmp_path, date="2021-06-02", cars=20, gsd_m=0.5, seed=515)
    (window,) = read_windows(paths["tif"], read_stations(station))
    props, _ = along_candidates(window)
    assert len(props) == 0
    on, off = detect(window), detect(window, DetectorParams(along_model=False))
    assert np.array_equal(on.center, off.center) and np.array_equal(on.score, off.score)


def test_the_diagnosis_reads_a_direction_along_the_sun_as_the_detector_does(along_yard):
    # benchmarks/misses.py reads the candidates and the evidence through these two.
    window, _ = along_yard
    # A threshold of the along model's no other candidate has, to tell its candidates apart.
    params = DetectorParams(min_along_probability=0.45)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_sided = track_evidence(window)
        both = track_evidence(window, along=True)
        cands, prob, least = judged_candidates(window, params)
        props, _ = along_candidates(window)
        off = track_evidence(window, DetectorParams(along_model=False), along=True)
    # The direction along the sun is read twice: one more entry per such frame.
    assert len(both) > len(one_sided) and len(off) == len(one_sided)
    # Its candidates are judged by the along model, against its own threshold.
    along = least == params.min_along_probability
    assert len(cands) == len(prob) == len(least)
    assert along.any() and (~along).any() and np.all((prob >= 0) & (prob <= 1))
    assert along.sum() >= len(props)  # along_candidates keeps only the described ones in the station
