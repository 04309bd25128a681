"""Why a true car had no band evidence (``benchmarks/misses.py``, :func:`weakest_term`).

Session 55 split ``no evidence`` by the factor of the band evidence that held each car down: on
Muttenz west made coarser to 0.5 m every such wagon lacked the shadow beside it (low flat wagons),
where on generated yards most lack smoothness. These tests check that the factor named is the one
that is missing, and that the detector's track frames carry the terms it is read from.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from railcount.detect.cars import BandTerms, FrameCars, Runs, band_maps
from railcount.detect.detector import TrackEvidence, track_evidence
from railcount.detect.frame import TrackFrame
from railcount.detect.params import DetectorParams, to_px
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_centres, truth_stock

from .geofixtures import write_synth

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from misses import DARKNESS, TERMS, _evidence_stage, _in_frame, body_lightness, evidence_factors, weakest_term

ROWS, COLS, GSD = 60, 120, 0.5
CAR = np.array([30.0, 60.0])  # window (row, col) of the car's centre: on row 30 of an unrotated frame


def _terms(**low: float) -> BandTerms:
    """Terms under which a car on row 30 has full evidence, except for the factors in ``low``
    (``shade``, ``step_sun``, ``smoothness``, ``body_dark``, ``dark_sun``), set there."""
    full = {"shade": 0.9, "step_sun": 0.4, "smoothness": 1.0, "body_dark": 0.0, "dark_sun": 0.0}
    maps = {}
    for name, value in full.items():
        a = np.full((ROWS, COLS), value, np.float32)
        if name in low:
            a[26:35, 40:81] = low[name]  # the car's rows and 10 m either side of its centre
        maps[name] = a
    zeros = np.zeros((ROWS, COLS), np.float32)
    return BandTerms(
        shadow_side="up",
        half_width_px=2.9,
        flank_offset_px=3.4,
        smoothness=maps["smoothness"],
        body_dark=maps["body_dark"],
        shade=maps["shade"],
        step_sun=maps["step_sun"],
        dark_sun=maps["dark_sun"],
        step_shadow=zeros,
        flank_dark=zeros,
        lin=zeros,
        sunlit=zeros,
        interior=np.zeros((ROWS, COLS, 3), np.float32),
    )


def _evidence(terms: BandTerms | None) -> TrackEvidence:
    empty = np.zeros(0)
    return TrackEvidence(
        frame=TrackFrame.for_direction((ROWS, COLS), 0.0),
        scale=1.0,
        gsd_m=GSD,
        strength=np.zeros((ROWS, COLS), np.float32),
        core=np.ones((ROWS, COLS), bool),
        runs=Runs(empty, empty, empty, empty),
        cars=FrameCars(empty, empty, empty, empty, empty),
        terms=terms,
    )


@pytest.mark.parametrize(
    ("low", "named"),
    [
        ({"shade": 0.5}, "no shadow"),
        ({"step_sun": 0.0}, "no sunlit step"),
        ({"dark_sun": 1.0}, "no sunlit step"),
        ({"smoothness": 0.1}, "rough"),
        ({"body_dark": 0.55}, "half-dark body"),
    ],
)
def test_the_missing_factor_is_named(low, named):
    assert weakest_term([_evidence(_terms(**low))], CAR, DetectorParams()) == named


def test_the_factor_at_the_car_decides_not_one_elsewhere():
    # A frame that misses the car's shadow beside a frame that reads it rough: the reading with the
    # larger product is kept (0.2 smoothness against nothing at all).
    no_shadow = _evidence(_terms(shade=0.5))
    rough = _evidence(_terms(smoothness=0.2))
    params = DetectorParams()
    assert weakest_term([no_shadow, rough], CAR, params) == "rough"
    assert weakest_term([rough, no_shadow], CAR, params) == "rough"


def test_no_side_where_no_frame_read_one():
    assert weakest_term([_evidence(None)], CAR, DetectorParams()) == "no side"
    assert weakest_term([], CAR, DetectorParams()) == "no side"
    assert set(TERMS) >= {"no shadow", "no sunlit step", "rough", "half-dark body", "no side"}


def test_the_detector_frames_carry_their_terms(tmp_path):
    paths, station = write_synth(tmp_path, date="2020-09-14", cars=20, gsd_m=0.5, seed=405)
    (window,) = read_windows(paths["tif"], read_stations(station))
    evidence = track_evidence(window, DetectorParams(), along=True)
    assert evidence and all(ev.terms is not None for ev in evidence)
    assert all(ev.terms.shade.shape == ev.strength.shape for ev in evidence if ev.terms is not None)
    # On a plain generated yard under an autumn sun every true car is read with a side.
    cars = truth_centres(paths["truth_geojson"], window)
    names = [weakest_term(evidence, c, DetectorParams()) for c in cars]
    assert names and "no side" not in names


def test_the_stage_reads_the_rows_around_the_nearest_row():
    """``_evidence_stage`` and :func:`weakest_term` read the rows within 0.8 m of the frame row
    nearest the car's centre (before session 56 the stage truncated, a row off for a centre in
    the lower half of its row)."""
    ev = _evidence(None)
    _, fy, _ = _in_frame(ev, CAR)
    car = CAR + np.array([0.7 - (fy - np.floor(fy)), 0.0])  # the centre 0.7 of a row below a row
    fx, fy, _ = _in_frame(ev, car)
    nearest, reach = round(fy), to_px(0.8, GSD)
    assert nearest != int(fy)
    params = DetectorParams()
    for row, stage in ((nearest + reach, "spotty"), (nearest - reach - 1, "off the car")):
        ev.strength[:] = 0.0
        ev.strength[row, round(fx) - 4 : round(fx) + 5] = 1.0
        assert _evidence_stage(ev, car, params) == stage


@pytest.mark.parametrize("gsd_m", [0.3, 1.0])
def test_the_factors_multiply_to_the_detectors_strength(tmp_path, gsd_m):
    """:func:`evidence_factors` restates the detector's band evidence (``BandMaps.evidence`` and the body
    factor) for :func:`weakest_term`: with the neighbour's relief off, their product is the strength
    the detector read, pixel by pixel, in every frame with a side."""
    paths, station = write_synth(tmp_path, date="2020-09-14", cars=20, gsd_m=gsd_m, seed=405)
    (window,) = read_windows(paths["tif"], read_stations(station))
    params = DetectorParams(neighbour_shadow=False)
    read = [ev for ev in track_evidence(window, params) if ev.terms is not None]
    assert read
    for ev in read:
        assert ev.terms is not None
        rows, cols = ev.strength.shape
        product = np.stack(
            [np.prod(evidence_factors(ev.terms, r, slice(0, cols), params), axis=0) for r in range(rows)]
        )
        assert product.max() > params.min_band_strength  # the cars are read
        np.testing.assert_allclose(product, ev.strength, atol=1e-5)


@pytest.mark.parametrize("side", ["up", "down"])
def test_the_factors_multiply_to_band_maps_strength_off_whole_shares(side):
    """The same on :class:`~railcount.detect.cars.BandMaps` whose dark shares are any fraction (in a
    detector frame they come in whole pixels of a narrow flank, which hides a wrong scale)."""
    rng = np.random.default_rng(3)
    lin = rng.uniform(0.05, 0.9, (ROWS, COLS)).astype(np.float32)
    params = DetectorParams(neighbour_shadow=False)
    maps = band_maps(np.repeat(lin[:, :, None], 3, axis=2), np.log(lin + 0.08), lin, GSD, params)
    maps = dataclasses.replace(
        maps,
        flank_dark=rng.uniform(0.0, 1.0, maps.flank_dark.shape).astype(np.float32),
        body_dark=rng.uniform(0.0, 1.0, maps.body_dark.shape).astype(np.float32),
        smoothness=rng.uniform(0.0, 1.0, maps.smoothness.shape).astype(np.float32),
    )
    maps.body = np.maximum(1.0 - maps.body_dark, 0.8 * maps.body_dark)
    terms = maps.terms(side)
    rows = [np.prod(evidence_factors(terms, r, slice(0, COLS), params), axis=0) for r in range(ROWS)]
    product = np.stack(rows)
    assert 0.0 < product.mean() < 1.0
    np.testing.assert_allclose(product, maps.strength(side), atol=1e-5)


def test_body_lightness_reads_the_luminance_inside_each_true_outline(tmp_path):
    """``body_lightness`` (the table by how light a body reads, session 76) classes a car painted black
    inside its outline as dark and one painted white as bright, and leaves the others' classes as the
    picture has them."""
    paths, station = write_synth(tmp_path, date="2020-09-14", cars=20, gsd_m=0.5, seed=405)
    (window,) = read_windows(paths["tif"], read_stations(station))
    stock = truth_stock(paths["truth_geojson"], window)
    assert len(stock.rings) >= 3
    before = body_lightness(window, stock)
    pixels = window.pixels.copy()
    top = np.iinfo(pixels.dtype).max
    for k, value in ((0, 0), (1, top)):
        ring = Polygon(np.asarray(stock.rings[k]))  # (row, col); a pixel (r, c) spans [r, r + 1)
        r0, c0, r1, c1 = (int(v) for v in ring.bounds)
        for r in range(r0, r1 + 2):
            for c in range(c0, c1 + 2):
                if ring.contains(Point(r + 0.5, c + 0.5)):
                    pixels[r, c] = value
    after = body_lightness(dataclasses.replace(window, pixels=pixels), stock)
    assert after[0] == DARKNESS[0] and after[1] == DARKNESS[2]
    assert len(after) == len(before) == len(stock.rings) and after[2:] == before[2:]
    assert set(before) <= set(DARKNESS)
