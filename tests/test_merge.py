"""Duplicates are merged; with a smaller circle, cars side by side on neighbouring tracks are not.

Tracks in a yard lie 4.5-5.5 m apart. When two cars stand level on
neighbouring tracks their centres are that far apart, which the default 5 m
circle (half a short car) takes for one car found twice; ``merge_radius_m``
3.6 keeps both (measured in session 17, docs/detector.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.detector import _merge
from railcount.detect.params import DetectorParams
from railcount.models import Detections

GSD = 0.5
SMALL = DetectorParams(merge_radius_m=3.6)


def _dets(centres_m: list[tuple[float, float]], scores: list[float], angle_deg: float = 0.0) -> Detections:
    """Detections 15 m long at (along, across) metres from the origin, in a yard at ``angle_deg``."""
    a = np.radians(angle_deg)
    along, across = np.asarray(centres_m, float).T
    cols = (along * np.cos(a) - across * np.sin(a)) / GSD + 500.0
    rows = (along * np.sin(a) + across * np.cos(a)) / GSD + 500.0
    n = len(scores)
    return Detections(
        center=np.column_stack([rows, cols]),
        length=np.full(n, 15.0 / GSD),
        width=np.full(n, 2.9 / GSD),
        angle_deg=np.full(n, angle_deg % 180.0),
        score=np.asarray(scores, float),
        kind=np.full(n, "railcar", dtype="<U10"),
        method=np.full(n, "gap", dtype="<U10"),
        tarped=np.zeros(n, bool),
    )


@pytest.mark.parametrize("angle_deg", [0.0, 33.0, 151.0])
@pytest.mark.parametrize("spacing_m", [4.2, 4.6, 4.9])
def test_cars_level_on_neighbouring_tracks_are_both_kept(angle_deg, spacing_m):
    dets = _dets([(0.0, 0.0), (0.5, spacing_m)], [0.9, 0.6], angle_deg)
    assert list(_merge(dets, GSD, DetectorParams(merge_radius_m=3.6))) == [0, 1]
    # The default circle of half a short car merges them.
    assert list(_merge(dets, GSD, DetectorParams())) == [0]


@pytest.mark.parametrize("angle_deg", [0.0, 33.0, 151.0])
def test_one_car_found_twice_is_merged_by_the_smaller_circle_too(angle_deg):
    # Found on two rows 1.5 m apart and cut 4 m apart along the track; a roof
    # width (3.1 m) apart but level; and found in the other track direction
    # too, 3 m off (no across/along rule there): each time the weaker goes.
    assert list(_merge(_dets([(0.0, 0.0), (4.0, 1.5)], [0.5, 0.8], angle_deg), GSD, SMALL)) == [1]
    assert list(_merge(_dets([(0.0, 0.0), (0.5, 3.1)], [0.9, 0.4], angle_deg), GSD, SMALL)) == [0]
    other = _dets([(0.0, 0.0), (1.0, 2.8)], [0.7, 0.9], angle_deg)
    other.angle_deg[1] = (angle_deg + 30.0) % 180.0
    assert list(_merge(other, GSD, SMALL)) == [1]
