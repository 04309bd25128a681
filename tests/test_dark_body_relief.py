"""The dark-body relief (``DetectorParams.dark_along_texture``, off by default): a black car's body band
read along the track where it stands on rough ground with its own shadow beyond, and nowhere else.

The pictures are track frames (the track along the columns): log luminance
and linear luminance of a 0.5 m frame with rough ballast, and across it a
dark band whose roughness runs across the track only (a black cylinder:
its curvature across and the noise of its dark paint, smooth along).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from railcount.detect.cars import band_maps
from railcount.detect.params import DetectorParams

GSD = 0.5
ROWS, COLS = 80, 120
CENTRE = 40


def frame(
    *, band_m: float, beyond: str, ground: str = "ballast", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rgb, log luminance, linear luminance) of a frame: ``ground`` (rough ``ballast`` or a smooth
    ``roof``) around a dark band ``band_m`` wide centred on row ``CENTRE``, the band rough across the
    track only; past its lower edge ``beyond`` is a 2 m ``shadow`` (a black car's own) or ``lit`` ground."""
    rng = np.random.default_rng(seed)
    lin = np.full((ROWS, COLS), 0.55, np.float32)
    if ground == "ballast":
        lin += rng.normal(0.0, 0.12, (ROWS, COLS)).astype(np.float32)
    else:
        lin += rng.normal(0.0, 0.01, (ROWS, COLS)).astype(np.float32)
    half = round(band_m / GSD / 2)
    top, bottom = CENTRE - half, CENTRE + half
    # A cylinder's shading across the track, plus noise that varies across the rows only.
    across = np.linspace(-1.0, 1.0, bottom - top)
    profile = 0.06 + 0.05 * np.cos(np.pi * across) ** 8 + rng.normal(0.0, 0.02, bottom - top)
    lin[top:bottom] = np.clip(profile, 0.02, None)[:, None]
    if beyond == "shadow":
        lin[bottom : bottom + round(2.0 / GSD)] = 0.07
    lin = np.clip(lin, 0.01, 1.0).astype(np.float32)
    log_lum = np.log(lin + 0.08).astype(np.float32)
    rgb = np.repeat(lin[:, :, None], 3, axis=2)
    return rgb, log_lum, lin


def smoothness_at_centre(params: DetectorParams, **kwargs: object) -> float:
    rgb, log_lum, lin = frame(**kwargs)  # type: ignore[arg-type]
    maps = band_maps(rgb, log_lum, lin, GSD, params)
    return float(maps.smoothness[CENTRE, 20:-20].mean())


ON = DetectorParams(dark_along_texture=2.0)
OFF = DetectorParams()


def test_off_by_default() -> None:
    assert OFF.dark_along_texture == 0.0
    rgb, log_lum, lin = frame(band_m=3.0, beyond="shadow")
    off = band_maps(rgb, log_lum, lin, GSD, OFF).smoothness
    zero = band_maps(rgb, log_lum, lin, GSD, dataclasses.replace(ON, dark_along_texture=0.0)).smoothness
    np.testing.assert_array_equal(off, zero)


def test_black_barrel_with_its_shadow_reads_smoother() -> None:
    before = smoothness_at_centre(OFF, band_m=3.0, beyond="shadow")
    after = smoothness_at_centre(ON, band_m=3.0, beyond="shadow")
    assert before < 0.5  # the barrel reads rough across the track ...
    assert after > before + 0.2  # ... and smoother along it


def test_strip_with_lit_ground_beyond_reads_as_before() -> None:
    """A building's shadow strip: dark, no shadow of its own past its edge."""
    before = smoothness_at_centre(OFF, band_m=3.0, beyond="lit")
    after = smoothness_at_centre(ON, band_m=3.0, beyond="lit")
    assert after == pytest.approx(before, abs=0.02)


def test_smooth_flanks_read_as_before() -> None:
    """A dark band between smooth surfaces (a shaded roof edge beside a roof) is not relieved."""
    before = smoothness_at_centre(OFF, band_m=3.0, beyond="shadow", ground="roof")
    after = smoothness_at_centre(ON, band_m=3.0, beyond="shadow", ground="roof")
    on_ballast = smoothness_at_centre(ON, band_m=3.0, beyond="shadow") - smoothness_at_centre(
        OFF, band_m=3.0, beyond="shadow"
    )
    assert after - before < 0.2 * on_ballast


def test_coarse_frames_read_as_before() -> None:
    """Coarser than ``dark_relief_max_gsd_m`` the switch does nothing."""
    rgb, log_lum, lin = frame(band_m=3.0, beyond="shadow")
    coarse = dataclasses.replace(ON, dark_relief_max_gsd_m=0.4)
    relieved = band_maps(rgb, log_lum, lin, GSD, coarse).smoothness
    np.testing.assert_array_equal(relieved, band_maps(rgb, log_lum, lin, GSD, OFF).smoothness)
