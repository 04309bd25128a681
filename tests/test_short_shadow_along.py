"""Where a car's shadow across the tracks is under two pixels, the along model judges (detector 0.6.21).

The band evidence finds a car by the solid shadow just beyond its long
side. Under a high sun, on tracks the shadows cross at a slant, that shadow
is a pixel or two wide at 0.5 m, and whole consists went unfound; the
dashes the shadows leave along the track in the coupling gaps are still
there. Such a direction (at 0.65 m and finer) is now read as the detector
reads one the sun shines along: on the side the sun gives, with the edged
bands near the dashes proposed too, judged by the along model (figures in
docs/detector.md, *Session 53*).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from railcount.detect.detector import read_along, short_shadows_across
from railcount.detect.params import DetectorParams
from railcount.detect.sun import SunPosition

from .geofixtures import found_railcars, synth_window

P = DetectorParams()
# Noon, 70 degrees up: shadows point north, and a 4 m car's is 4 / tan(70) = 1.46 m long.
HIGH = SunPosition(azimuth_deg=180.0, elevation_deg=70.0, assumed_time=False)


def test_the_shadow_across_a_track_is_measured_in_pixels_of_the_working_grid():
    shadow_m = 4.0 / math.tan(math.radians(70.0))
    # East-west tracks (angle 0): the whole shadow lies across them, 2.9 px at 0.5 m.
    assert shadow_m / 0.5 > P.short_shadow_along_px
    assert not short_shadows_across(0.0, HIGH, 0.5, P)
    # Tracks at 60 degrees (from +col towards +row): half of it across, 1.46 px at 0.5 m ...
    assert 0.5 * shadow_m / 0.5 < P.short_shadow_along_px
    assert short_shadows_across(60.0, HIGH, 0.5, P)
    assert short_shadows_across(60.0, HIGH, 0.65, P)
    # ... but 2.4 px at 0.3 m, where the band evidence still reads it.
    assert not short_shadows_across(60.0, HIGH, 0.3, P)


def test_not_on_coarse_imagery_nor_under_a_guessed_or_low_sun_nor_when_off():
    assert not short_shadows_across(60.0, HIGH, 1.0, P)  # coarser than 0.65 m: the car model judges
    assert not short_shadows_across(60.0, dataclasses.replace(HIGH, assumed_time=True), 0.5, P)
    assert not short_shadows_across(60.0, dataclasses.replace(HIGH, elevation_deg=3.0), 0.5, P)
    assert not short_shadows_across(60.0, HIGH, 0.5, DetectorParams(short_shadow_along_px=0.0))


def test_the_along_reading_is_taken_for_either_reason_with_the_along_model_on():
    assert read_along(90.0, HIGH, 1.0, P)  # north-south tracks: the sun shines along them, at any GSD
    assert read_along(60.0, HIGH, 0.5, P)  # short shadows across
    assert not read_along(0.0, HIGH, 0.5, P)
    assert not read_along(60.0, HIGH, 0.5, DetectorParams(along_model=False))


@pytest.fixture(scope="module")
def june_yard(tmp_path_factory):
    """A generic yard at 0.5 m on 20 June (benchmarks/stress.py's yard 17): the sun 60-70 degrees up."""
    return synth_window(
        tmp_path_factory.mktemp("june_yard"),
        site="generic",
        seed=20017,
        gsd_m=0.5,
        cars=40,
        date="2021-06-20",
    )


def test_a_yard_under_a_high_sun_gets_more_of_its_cars_found(june_yard):
    window, truth = june_yard
    found_on, counted_on = found_railcars(window, truth, DetectorParams())
    found_off, _ = found_railcars(window, truth, DetectorParams(short_shadow_along_px=0.0))
    assert found_on >= found_off + 5
    # Not by proposing everything: nearly all of what is counted is on a car.
    assert found_on >= 0.85 * counted_on
