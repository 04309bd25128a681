"""The dashes a car's shadow leaves along the track where the sun shines along it (detector 0.6.16).

A track frame here is an image with x along the track and y across; the
luminance is linear (a shadow multiplies it), 0.8 for sunlit ground and
0.2 in shadow. At 0.5 m a car (3 m wide) is six rows across.
"""

from __future__ import annotations

import numpy as np

from railcount.detect.cars import FrameCars
from railcount.detect.dashes import ALONG_CONTEXT, dash_context, dash_map, edged_gate
from railcount.detect.params import DetectorParams

GSD = 0.5
ROWS, COLS = 60, 400
ROW = 30  # the centreline of the track drawn on


def _ground() -> tuple[np.ndarray, np.ndarray]:
    return np.full((ROWS, COLS), 0.8, np.float32), np.ones((ROWS, COLS), bool)


def _dark(lum: np.ndarray, x0: int, x1: int, half_rows: int = 3) -> None:
    lum[ROW - half_rows : ROW + half_rows, x0:x1] = 0.2


def test_a_short_dark_dash_across_the_car_is_a_dash():
    lum, core = _ground()
    _dark(lum, 200, 203)  # 1.5 m: a coupling gap in shadow
    dashes = dash_map(lum, core, GSD, DetectorParams())
    assert dashes[ROW, 201] > 0.8
    assert dashes[ROW, 150] == 0.0 and dashes[ROW - 10, 201] == 0.0


def test_a_long_dark_stripe_is_no_dash():
    lum, core = _ground()
    _dark(lum, 100, 160)  # 30 m: a track bed or a building's shadow, longer than any dash
    assert not dash_map(lum, core, GSD, DetectorParams()).any()


def test_a_thin_dark_line_is_no_dash():
    lum, core = _ground()
    _dark(lum, 200, 203, half_rows=1)  # dark across a third of the car's width only
    assert not dash_map(lum, core, GSD, DetectorParams()).any()


def test_no_dash_outside_the_core():
    lum, core = _ground()
    _dark(lum, 200, 203)
    core[:, 190:] = False
    assert not dash_map(lum, core, GSD, DetectorParams()).any()


def test_the_gate_reaches_a_longest_car_along_the_same_line():
    lum, core = _ground()
    _dark(lum, 200, 203)
    params = DetectorParams()
    gate = edged_gate(dash_map(lum, core, GSD, params), GSD, params)
    reach = int(params.car_length_max_m / GSD)
    assert gate[ROW, 201 - reach + 2] == 1.0 and gate[ROW, 201 + reach - 2] == 1.0
    assert gate[ROW, 201 - reach - 4] == 0.0 and gate[ROW, 201 + reach + 4] == 0.0
    assert gate[ROW - 10, 201] == 0.0


def _car(x: float, length_m: float) -> FrameCars:
    return FrameCars(
        x=np.array([x]),
        y=np.array([float(ROW)]),
        length=np.array([length_m / GSD]),
        score=np.ones(1),
        method=np.array(["gap"]),
    )


def test_the_context_reads_the_dash_at_each_end_by_the_sun():
    lum, core = _ground()
    _dark(lum, 230, 233)  # just past the car's end at larger x
    dashes = dash_map(lum, core, GSD, DetectorParams())
    car = _car(200.0, 30.0)  # 15 m: ends at x 170 and 230
    end, sun_end, inner = (
        dash_context(dashes, car, 1.0, GSD)[0, ALONG_CONTEXT.index(k)] for k in ALONG_CONTEXT
    )
    assert end > 0.8 and sun_end == 0.0 and inner == 0.0  # shadows fall toward larger x: the dash is behind
    flipped = dash_context(dashes, car, -1.0, GSD)[0]
    assert (
        flipped[ALONG_CONTEXT.index("sun_end_dash")] > 0.8 and flipped[ALONG_CONTEXT.index("end_dash")] == 0.0
    )


def test_the_context_sees_a_dash_inside_a_candidate():
    lum, core = _ground()
    _dark(lum, 199, 202)
    dashes = dash_map(lum, core, GSD, DetectorParams())
    row = dash_context(dashes, _car(200.0, 30.0), 1.0, GSD)[0]
    assert row[ALONG_CONTEXT.index("inner_dash")] > 0.8
    assert row[ALONG_CONTEXT.index("end_dash")] == 0.0


def test_no_candidates_no_rows():
    lum, core = _ground()
    empty = FrameCars(
        x=np.zeros(0), y=np.zeros(0), length=np.zeros(0), score=np.zeros(0), method=np.zeros(0, "<U5")
    )
    assert dash_context(dash_map(lum, core, GSD, DetectorParams()), empty, 1.0, GSD).shape == (
        0,
        len(ALONG_CONTEXT),
    )
