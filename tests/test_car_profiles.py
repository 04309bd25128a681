"""benchmarks/car_profiles.py reads the brightness across a car from the sun side to the shadow side."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from car_profiles import OFFSETS_M, car_profiles, summary

GSD = 0.5


def _yard(roof: float) -> np.ndarray:
    """Ground 0.4; a 15 x 3 m car along the rows, centred at (200, 200); its shadow south of it."""
    lum = np.full((400, 400), 0.4, np.float32)
    half_len, half_w = int(7.5 / GSD), int(1.5 / GSD)
    lum[200 + half_w : 200 + int(4.0 / GSD), 200 - half_len : 200 + half_len] = 0.1  # shadow, 1.5-4 m
    lum[200 - half_w : 200 + half_w + 1, 200 - half_len : 200 + half_len] = roof
    return lum


def test_profile_runs_from_sun_side_to_shadow_side():
    lum = _yard(0.8)
    north = np.array([-1.0, 0.0])  # the sun in the north: the shadow falls south (+rows)
    (profile,) = car_profiles(lum, np.array([[200.0, 200.0]]), np.array([[0.0, 1.0]]), north, GSD)
    at = dict(zip(OFFSETS_M.round(1), profile, strict=True))
    assert at[0.0] == np.float32(0.8)
    assert at[2.0] == np.float32(0.1) and at[3.0] == np.float32(0.1)
    assert at[-5.0] == np.float32(0.4) and at[5.0] == np.float32(0.4)
    roof_over_ground, shadow_over_ground = summary(profile)
    assert abs(roof_over_ground - 2.0) < 1e-6 and abs(shadow_over_ground - 0.25) < 1e-6


def test_the_axis_sign_does_not_matter_and_a_dark_roof_reads_dark():
    lum = _yard(0.2)
    north = np.array([-1.0, 0.0])
    a = car_profiles(lum, np.array([[200.0, 200.0]]), np.array([[0.0, 1.0]]), north, GSD)
    b = car_profiles(lum, np.array([[200.0, 200.0]]), np.array([[0.0, -1.0]]), north, GSD)
    assert np.array_equal(a, b)
    assert summary(a[0])[0] < 0.6


def test_a_car_whose_shadow_runs_along_it_is_left_out():
    lum = _yard(0.8)
    west = np.array([0.0, -1.0])  # the sun along the car's axis
    out = car_profiles(lum, np.array([[200.0, 200.0]]), np.array([[0.0, 1.0]]), west, GSD)
    assert out.shape == (0, len(OFFSETS_M))


def test_sun_above_keeps_only_scenes_under_a_higher_sun():
    import doctest

    import car_profiles

    assert doctest.testmod(car_profiles).failed == 0
    assert car_profiles.sun_kept(50.1, 50.0) and not car_profiles.sun_kept(50.0, 50.0)
