"""The band evidence computed strip by strip equals the evidence of the whole frame.

Equal to float32 rounding: OpenCV's box filters keep running sums that start
at each block's edge, so a few pixels differ in the last bit (measured: 15
of 2 million, by at most 9e-8).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from railcount.detect.cars import band_strength
from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.params import DetectorParams
from railcount.detect.prepare import prepare
from railcount.detect.strips import frame_evidence
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import write_synth

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def frame_inputs(tmp_path_factory):
    """A generated yard's window turned into the frame of its main track direction."""
    paths, station = write_synth(
        tmp_path_factory.mktemp("strips"), date="2021-04-02", cars=50, gsd_m=0.5, seed=4242
    )
    (window,) = read_windows(paths["tif"], read_stations(station))
    prep = prepare(window)
    angle = track_directions(prep.log_lum, prep.data, window.gsd_m)[0]
    frame = TrackFrame.for_direction(prep.data.shape, angle)
    data = frame.warp(prep.data, nearest=True)
    core = cv2.erode(data.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return (
        frame.warp(prep.rgb),
        frame.warp(prep.log_lum),
        frame.warp(prep.linear_lum),
        data,
        core,
        window.gsd_m,
    )


@pytest.mark.parametrize(
    "side, known",
    [("up", True), ("down", True), ("down", False), (None, False)],
    ids=["sun-up", "sun-down", "evidence-decides", "no-sun"],
)
def test_strips_give_the_whole_frame_result(frame_inputs, side, known):
    rgb, log_lum, lin, data, core, gsd = frame_inputs
    params = DetectorParams()
    whole, whole_terms = band_strength(
        rgb, log_lum, lin, core, gsd, params, shadow_side=side, side_is_known=known
    )
    # Strips far shorter than the default, so that many strip boundaries cross the yard.
    strips, strip_terms = frame_evidence(
        rgb, log_lum, lin, data, core, gsd, params, shadow_side=side, side_is_known=known, strip_rows=37
    )
    assert np.abs(whole[data] - strips[data]).max() <= TOLERANCE
    assert (whole_terms is None) == (strip_terms is None)
    if whole_terms is not None and strip_terms is not None:
        assert whole_terms.shadow_side == strip_terms.shadow_side
        for field in dataclasses.fields(whole_terms):
            a, b = getattr(whole_terms, field.name), getattr(strip_terms, field.name)
            if isinstance(a, np.ndarray):
                assert np.abs(a[data] - b[data]).max() <= TOLERANCE, field.name
            else:
                assert a == b, field.name
    assert (strips[data] > 0).any()
