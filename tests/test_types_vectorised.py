"""The vectorised type features are, to the bit, what describing each car on its own gives.

``reference_type_features`` is detector 0.6.10's per-car loop, kept here as
the reference: the detector's features (and so its types and counts) must
not move by a bit when the loop is vectorised.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from railcount.detect import detector as D
from railcount.detect.cars import BandTerms, FrameCars
from railcount.detect.params import DetectorParams, to_px
from railcount.detect.types import (
    MAX_SHADOW_M,
    N_ACROSS,
    SHADOW_STEP_M,
    TYPE_FEATURES,
    shadow_per_height,
    type_features,
)
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

from .geofixtures import write_synth


def reference_type_features(
    terms: BandTerms,
    lin: np.ndarray,
    cars: FrameCars,
    gsd_m: float,
    shadow_per_height_m: float,
) -> np.ndarray:
    """One row of :data:`TYPE_FEATURES` per car (frame pixel units in).

    ``lin`` is the frame's linear luminance before any smoothing (the
    along-track texture of a load is what smoothing removes).
    ``shadow_per_height_m`` is how many metres across the track a metre of
    height throws its shadow (``|across| / tan(elevation)``).
    """
    up = terms.shadow_side == "up"
    sign = -1 if up else 1
    hw = terms.half_width_px
    rows, cols = lin.shape
    offsets = np.arange(0.0, MAX_SHADOW_M, SHADOW_STEP_M)
    shadow_rows = np.round(hw + offsets / gsd_m).astype(int)
    bin_px = to_px(2.0, gsd_m)
    pad = to_px(0.5, gsd_m)
    out = np.full((cars.x.size, len(TYPE_FEATURES)), np.nan)
    for i, (x, y, length) in enumerate(zip(cars.x, cars.y, cars.length, strict=True)):
        r = round(y)
        a = int(max(0, x - 0.4 * length))
        b = int(min(cols, max(a + 1, x + 0.4 * length + 1)))
        r0, r1 = r - math.floor(hw), r + math.floor(hw) + 1
        if r0 < 0 or r1 > rows or b - a < 2:
            continue
        sunlit = max(float(terms.sunlit[r, a:b].mean()), 1e-3)
        # Cross-track profile of the body, ordered from the sun side to the shadow side.
        prof = lin[r0:r1, a:b].mean(axis=1) / sunlit
        if up:
            prof = prof[::-1]
        third = max(1, prof.size // 3)
        quarter = max(1, prof.size // 4)
        slope = float(prof[:third].mean() - prof[-third:].mean())
        middle = prof[quarter:-quarter] if prof.size > 2 * quarter else prof
        dip = float(0.5 * (prof[:quarter].mean() + prof[-quarter:].mean()) - middle.mean())
        spread = float(prof.std())
        # Shadow beyond the shadow-side edge: area under the darkness curve.
        srows = r + sign * shadow_rows
        inside = (srows >= 0) & (srows < rows)
        dark = np.zeros(offsets.size)
        dark[inside] = terms.flank_dark[srows[inside], a:b].mean(axis=1)
        # Stop at the first offset where the shadow has clearly ended.
        ended = np.flatnonzero(dark < 0.25)
        if ended.size:
            dark[ended[0] :] = 0.0
        extent = float(dark.sum() * SHADOW_STEP_M)
        height = min(MAX_SHADOW_M, extent / max(shadow_per_height_m, 0.05))
        # Unevenness along the middle half of the body.
        qrow = max(1, round(hw / 2))
        line = lin[r - qrow : r + qrow + 1, a:b].mean(axis=0) / sunlit
        nb = line.size // bin_px
        rough = float(np.std(line[: nb * bin_px].reshape(nb, bin_px).mean(axis=1))) if nb >= 2 else 0.0
        colour = terms.interior[r, a:b].mean(axis=0)
        total = max(float(colour.sum()), 1e-3)
        # The profile from half a metre outside the sun-side edge to the shadow-side edge, in bins.
        if up:  # the sun side is below: read down to half a metre past it, then reverse
            wide = lin[r0 : min(rows, r1 + pad), a:b].mean(axis=1)[::-1] / sunlit
        else:
            wide = lin[max(0, r0 - pad) : r1, a:b].mean(axis=1) / sunlit
        # Sampled at N_ACROSS evenly spaced points (interpolated: at 1 m the profile is only 4 px).
        bins = np.interp(np.linspace(0.0, wide.size - 1.0, N_ACROSS), np.arange(wide.size), wide)
        body = lin[r0:r1, a:b]
        mottle = float((body - body.mean(axis=1, keepdims=True)).std()) / sunlit
        out[i] = [extent, height, slope, dip, spread, rough, *(colour[[0, 2, 1]] / total), mottle, *bins]
    return out


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Frames (terms, luminance, candidates) of generated yards at 0.3 and 1.0 m, sun on either side."""
    out = []
    scenes = (
        ("tumangang", 0.3, "2021-06-15", 3),
        ("tumangang", 1.0, "2022-12-20", 4),
        ("generic", 0.5, "2020-03-10", 5),
    )
    for site, gsd, date, seed in scenes:
        folder = tmp_path_factory.mktemp(f"types{seed}")
        paths, station = write_synth(folder, site=site, date=date, cars=40, gsd_m=gsd, seed=seed)
        (window,) = read_windows(paths["tif"], read_stations(station))
        params = DetectorParams()
        prep, _, g, params, angles, sun, regions = D._set_up(window, params)
        for angle, region in zip(angles, regions, strict=True):
            _, (maps,) = D._frame_maps(prep, g, angle, params, sun, region)
            if maps.terms is not None and maps.cars.x.size:
                out.append(
                    (
                        maps.terms,
                        maps.linear_lum,
                        maps.cars,
                        g,
                        shadow_per_height(sun.elevation_deg, maps.across),
                    )
                )
    return out


def test_frames_cover_both_shadow_sides(frames):
    assert {terms.shadow_side for terms, *_ in frames} == {"up", "down"}
    assert sum(cars.x.size for _, _, cars, _, _ in frames) > 100


def test_vectorised_type_features_are_the_loops_to_the_bit(frames):
    for terms, lin, cars, gsd, per_height in frames:
        want = reference_type_features(terms, lin, cars, gsd, per_height)
        got = type_features(terms, lin, cars, gsd, per_height)
        assert got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)
        assert np.isfinite(got).all(axis=1).any()


def test_cars_at_the_frame_edge_or_too_short_get_nan_rows(frames):
    terms, lin, _, gsd, per_height = frames[0]
    rows, cols = lin.shape
    edge = FrameCars(
        x=np.array([cols / 2, cols / 2, 0.5, cols / 2]),
        y=np.array([0.0, rows - 1.0, rows / 2, rows / 2]),
        length=np.array([40.0, 40.0, 1.0, 40.0]),
        score=np.ones(4),
        method=np.array(["gap"] * 4),
    )
    got = type_features(terms, lin, edge, gsd, per_height)
    want = reference_type_features(terms, lin, edge, gsd, per_height)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[:3]).all() and np.isfinite(got[3]).all()
