"""The band evidence computed strip by strip equals the evidence of the whole frame.

Equal to float32 rounding: OpenCV's box filters keep running sums that start
at each block's edge, so a few pixels differ in the last bit (measured: 15
of 2 million, by at most 9e-8). The maps left in the strips' blocks read
exactly like the frame-sized images made from them.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from railcount.detect.cars import band_maps, band_strength, choose_side, dark_share
from railcount.detect.frame import TrackFrame
from railcount.detect.orientation import track_directions
from railcount.detect.params import DetectorParams
from railcount.detect.prepare import prepare
from railcount.detect.strips import StripMap, frame_evidence, sided_evidence
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
@pytest.mark.parametrize("neighbour", [True, False], ids=["neighbour-shadow", "no-neighbour-shadow"])
def test_strips_give_the_whole_frame_result(frame_inputs, side, known, neighbour):
    # With the look one track over (the neighbour_shadow option) the strips' margins grow to its reach.
    rgb, log_lum, lin, data, core, gsd = frame_inputs
    params = DetectorParams(neighbour_shadow=neighbour)
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
                assert isinstance(b, StripMap), field.name
                b = b.to_frame()
                assert np.abs(a[data] - b[data]).max() <= TOLERANCE, field.name
            else:
                assert a == b, field.name
    assert (strips[data] > 0).any()


@pytest.mark.parametrize("gated", [False, True], ids=["no-gate", "edged-gate"])
def test_both_sides_at_once_are_each_side_alone(frame_inputs, gated):
    """One pass over the strips for both shadow sides (a frame the sun shines along) gives, side by
    side, what a reading of each side alone gives: the strength to the bit and the same terms."""
    rgb, log_lum, lin, data, core, gsd = frame_inputs
    params = DetectorParams()
    gate = None
    if gated:  # the edged bands raised where a gate reaches (a band of rows and a ramp along it)
        gate = np.zeros(data.shape, np.float32)
        gate[data.shape[0] // 3 : data.shape[0] // 2] = np.linspace(0, 1, data.shape[1], dtype=np.float32)
    both = sided_evidence(
        rgb, log_lum, lin, data, gsd, params, ("up", "down"), strip_rows=37, edged_gate=gate
    )
    for side, (strength, terms) in zip(("up", "down"), both, strict=True):
        alone, alone_terms = frame_evidence(
            rgb,
            log_lum,
            lin,
            data,
            core,
            gsd,
            params,
            shadow_side=side,
            side_is_known=True,
            strip_rows=37,
            edged_gate=gate,
        )
        assert np.array_equal(strength, alone), side
        assert terms is not None and alone_terms is not None and terms.shadow_side == side
        for field in dataclasses.fields(terms):
            a, b = getattr(terms, field.name), getattr(alone_terms, field.name)
            if isinstance(a, StripMap):
                assert np.array_equal(a.to_frame(), b.to_frame()), (side, field.name)
            else:
                assert a == b, (side, field.name)
    # The two sides read different evidence, and the gate raised some of it.
    assert not np.array_equal(both[0][0], both[1][0])
    if gate is not None:
        ungated = sided_evidence(rgb, log_lum, lin, data, gsd, params, ("up",), strip_rows=37)[0][0]
        assert (both[0][0] > ungated).any() and (both[0][0] >= ungated).all()


def test_strip_maps_read_like_the_frame_made_from_them(frame_inputs):
    """Rows read from the blocks equal the frame-sized image's, at block edges and in empty strips too."""
    rgb, log_lum, lin, data, core, gsd = frame_inputs
    # Rows without data at the top, so that two strips hold none.
    pad = ((80, 0), (0, 0))
    rgb, log_lum, lin = np.pad(rgb, (*pad, (0, 0))), np.pad(log_lum, pad), np.pad(lin, pad)
    data, core = np.pad(data, pad), np.pad(core, pad)
    params = DetectorParams()
    _, terms = frame_evidence(
        rgb, log_lum, lin, data, core, gsd, params, shadow_side="up", side_is_known=True, strip_rows=37
    )
    assert terms is not None
    rng = np.random.default_rng(7)
    rows, cols = data.shape
    for field in ("smoothness", "shade", "dark_sun", "interior"):
        m = getattr(terms, field)
        frame = m.to_frame()
        assert m.shape == frame.shape
        assert not frame[:74].any()  # two empty 37-row strips
        for row in [0, 36, 37, rows - 1, *rng.integers(0, rows, 40).tolist()]:
            for a, b in [(0, cols), (0, 1), (cols - 3, cols), *rng.integers(0, cols, (5, 2)).tolist()]:
                a, b = min(a, b), max(a, b)
                assert np.array_equal(m[row, a:b], frame[row, a:b]), (field, row, a, b)
        some = rng.integers(0, rows, 9)
        assert np.array_equal(m[some, 10 : cols - 10], frame[some, 10 : cols - 10]), field
        with pytest.raises(IndexError):
            m[rows, 0:cols]
        points = (rng.integers(0, rows, 500), rng.integers(0, cols, 500))
        assert np.array_equal(m.gather(*points), frame[points]), field
        with pytest.raises(IndexError):
            m.gather(np.array([rows]), np.array([0]))


@pytest.mark.parametrize("relief", [0.0, 2.0], ids=["shipped", "dark-body relief"])
@pytest.mark.parametrize(
    "own", [slice(30, 170), slice(0, 40), slice(150, 200)], ids=["middle", "top", "bottom"]
)
def test_band_maps_of_own_rows_are_the_whole_blocks_rows(frame_inputs, own, relief):
    """Maps made for a strip's own rows alone equal the whole block's maps at those rows, to the bit.

    At the block's top and bottom edges too, where rows read beside them fall
    outside the block; and with the dark-body relief (``dark_along_texture``) on.
    """
    rgb, log_lum, lin, _, core, gsd = frame_inputs
    block = (slice(200, 400), slice(0, rgb.shape[1]))
    params = DetectorParams(dark_along_texture=relief)  # the frame is 0.5 m: the relief applies
    args = (rgb[block], log_lum[block], lin[block], gsd, params)
    whole, mine = band_maps(*args), band_maps(*args, own=own)

    def same(a, b):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)

    for name in ("interior", "step_above", "step_below", "smoothness", "lin", "sunlit", "body_dark", "body"):
        assert same(getattr(whole, name)[own], getattr(mine, name)), name
    for name in ("flank_mean", "flank_dark"):
        assert same(getattr(whole, name), getattr(mine, name)), name
    for side in ("up", "down"):
        for name in ("shade", "dark_beside", "evidence", "strength"):
            assert same(getattr(whole, name)(side)[own], getattr(mine, name)(side)), (name, side)
    assert same(whole.edged()[own], mine.edged())
    valid = core[block]
    mask = np.zeros_like(valid)
    mask[own] = valid[own]
    assert same(whole.side_sums(mask), mine.side_sums(valid[own]))


@pytest.mark.parametrize("band_px", [1, 2, 3, 6, 11, 300])
def test_dark_share_is_the_float_box_mean(band_px):
    rng = np.random.default_rng(band_px)
    mask = (rng.random((400, 300)) < 0.4).astype(np.uint8)
    want = cv2.blur(mask.astype(np.float32), (1, band_px))
    share, body = dark_share(mask, band_px, slice(5, 390), lambda d: np.maximum(1.0 - d, 0.8 * d))
    assert np.array_equal(share, want[5:390])
    assert np.array_equal(body, np.maximum(1.0 - want, 0.8 * want)[5:390])


def test_choose_side_decides_only_when_asked():
    clear_up = np.array([10.0, 2.0, 10.0, 2.0])  # lit bodies clearly on the up side
    close = np.array([10.0, 8.0, 12.0, 9.0])  # within the ratio: not clear
    assert choose_side(clear_up, "down") == "up"
    assert choose_side(close, "down") == "down"  # the sun breaks the tie
    assert choose_side(close, None) is None  # edged-band fallback
    assert choose_side(close, None, decide=True) == "up"  # more lit evidence up
    assert choose_side(close[[1, 0, 3, 2]], None, decide=True) == "down"
    assert choose_side(np.array([5.0, 5.0, 1.0, 3.0]), None, decide=True) == "down"  # lit tie: all bodies
