"""A picture whose darkest tones a contrast stretch clipped to black is lifted back before counting and
its count comes with a caution; a picture as a sensor made it is not touched."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from railcount.cautions import (
    STRETCH_BOTH_SHARE,
    STRETCH_CLIP_SHARE,
    caption,
    codes,
    is_stretched,
    stretched_caution,
)
from railcount.counting import LIGHT_STRETCH_INTERVAL_RATIOS, STRETCHED_INTERVAL_RATIOS, interval
from railcount.detect.detector import detect
from railcount.detect.params import DetectorParams
from railcount.detect.stretch import LOW_RATIO, band_lifts, lifted
from railcount.errors import StretchedPictureWarning
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION, array_window

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from processing import processed

SAMPLES = SAMPLE_SCENE.parent


@pytest.fixture(scope="module")
def stretched(tmp_path_factory) -> Path:
    """The 0.5 m sample as a styled view exports it: each band stretched from its 2nd to its 98th
    percentile, what falls outside clipped (a GeoTIFF written by rasterio, the sample's tags kept)."""
    return processed(SAMPLE_SCENE, "stretch", 2.0, tmp_path_factory.mktemp("stretch") / "stretched.tif")


def _window(path: Path):
    (window,) = read_windows(path, read_stations(SAMPLE_STATION))
    return window


@pytest.mark.parametrize("tif", sorted(SAMPLES.glob("*.tif")), ids=lambda p: p.stem)
def test_a_picture_as_made_is_not_touched(tif):
    window = _window(tif)
    found = band_lifts(window)
    assert len(found.clipped) == 3 and max(found.clipped) < STRETCH_CLIP_SHARE
    assert not found.stretched and not found.any and found.lifts == (0.0, 0.0, 0.0)
    assert lifted(window, found) is window


def test_a_stretched_picture_is_found_and_its_darkest_lifted_with_white_kept(stretched):
    window = _window(stretched)
    found = band_lifts(window)
    assert found.stretched and all(c >= STRETCH_CLIP_SHARE for c in found.clipped)
    assert all(v > 0 for v in found.lifts)
    up = lifted(window, found)
    assert up.pixels.dtype == window.pixels.dtype and up.pixels.shape == window.pixels.shape
    assert up.pixels is not window.pixels and window.pixels[window.valid].min() == 0  # the input kept
    for b in range(3):
        before, after = window.pixels[:, :, b][window.valid], up.pixels[:, :, b][window.valid]
        # White stays white, black is lifted, and the order of the values is kept.
        assert after[before == 255].min() == 255 and after[before == 0].min() > 0
        order = np.argsort(before, kind="stable")
        assert (np.diff(after[order].astype(int)) >= 0).all()
        # The darkest 1 % now sit at about LOW_RATIO of the median, as on a clear picture.
        low, median = np.percentile(after.astype(float), [1, 50])
        assert low / median == pytest.approx(LOW_RATIO, abs=0.03)
    # Read without a threshold, nothing is lifted but the shares are read.
    unread = band_lifts(window, None)
    assert unread.clipped == found.clipped and not unread.any


def test_an_11_bit_and_a_float_picture_are_lifted_alike():
    """The lift works in the file's values: an 11-bit copy of a clipped picture gets the 8-bit one's
    offsets times 2047/255, a float copy (reflectance 0-1) the same over 255."""
    window = _window(SAMPLE_SCENE)
    pix = window.pixels.astype(np.float64)
    clipped = np.clip((pix - 40.0) * 1.4, 0, 255).astype(np.uint8)
    eight = dataclasses.replace(window, pixels=clipped)
    eleven = dataclasses.replace(
        window,
        pixels=np.rint(clipped.astype(np.float64) * 2047 / 255).astype(np.uint16),
        value_range=(0.0, 2047.0),
    )
    reflect = dataclasses.replace(window, pixels=clipped.astype(np.float32) / 255, value_range=(0.0, 1.0))
    a, b, c = (band_lifts(w) for w in (eight, eleven, reflect))
    assert a.stretched and b.stretched and c.stretched
    np.testing.assert_allclose(np.array(b.lifts) * 255 / 2047, a.lifts, rtol=0.03)
    np.testing.assert_allclose(np.array(c.lifts) * 255, a.lifts, rtol=0.03)
    for w, f in ((eleven, b), (reflect, c)):
        up = lifted(w, f)
        assert up.pixels.dtype == w.pixels.dtype
        assert float(up.pixels[w.valid].min()) > 0


def test_a_count_of_a_stretched_picture_lifts_it_and_says_so(stretched, tmp_path):
    stations = read_stations(SAMPLE_STATION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (plain,) = count_scene(SAMPLE_SCENE, stations)
    assert not any(isinstance(w.message, StretchedPictureWarning) for w in caught)
    assert not any(is_stretched(c) for c in plain.cautions)
    with pytest.warns(StretchedPictureWarning, match="clipped to black"):
        (sc,) = count_scene(stretched, stations, out_dir=tmp_path)
    record = json.loads((tmp_path / "count.json").read_text())
    assert any(is_stretched(w) for w in record["warnings"])
    # Its interval reaches down as far as such pictures were found counted high.
    r = sc.result
    want = interval(r.railcars, r.unsure_share, r.observed_fraction, stretched=True)
    assert (r.railcars_low, r.railcars_high) == want
    assert r.railcars_low < interval(r.railcars, r.unsure_share, r.observed_fraction)[0]
    assert r.railcars_low <= STRETCHED_INTERVAL_RATIOS[0] * r.railcars
    assert "stretched" in codes(record["warnings"])
    # Counted on the lifted picture: the detector's own reading of the window lifted gives the same cars.
    window = _window(stretched)
    lifted_first = detect(lifted(window, band_lifts(window)), DetectorParams())
    as_given = detect(window, DetectorParams())
    assert len(as_given) == len(lifted_first)
    np.testing.assert_array_equal(as_given.center, lifted_first.center)
    # Switched off, the picture is counted as delivered, and differently.
    off = detect(window, DetectorParams(stretch_clip_share=None))
    assert len(off) != len(as_given) or not np.array_equal(off.center, as_given.center)


def test_the_command_warns_of_a_stretched_picture_on_stderr(stretched, tmp_path):
    exe = shutil.which("railcount") or str(Path(sys.executable).with_name("railcount"))
    done = subprocess.run(
        [exe, "count", str(stretched), "--station", str(SAMPLE_STATION), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert any(is_stretched(line) and str(stretched.name) in line for line in done.stderr.splitlines())
    (row,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert any(is_stretched(w) for w in row["warnings"])


def test_the_caution_s_threshold_caption_and_code():
    assert stretched_caution("Yard", STRETCH_CLIP_SHARE * 0.99) == ""
    text = stretched_caution("Yard", 0.031)
    assert text.startswith("Yard: 3.1 % of the picture is clipped to black") and is_stretched(text)
    assert "count the provider's unstretched file" in text
    assert caption([text], 0.5) == "caution: contrast-stretched picture: a tenth or more off, often high"
    assert codes([text]) == ("stretched",)


def test_a_baseline_of_stretched_counts_is_a_caveat_of_high_counts_not_of_low_ones():
    from datetime import date

    from railcount.report.baseline import Observation, compare

    note = stretched_caution("Yard", 0.02)
    history = [
        Observation(date(2023, m, 1), 40 + m, detector_version="0.6.28", gsd_m=0.5) for m in range(1, 9)
    ]
    history[2] = dataclasses.replace(history[2], warnings=(note,))
    judged = Observation(date(2023, 10, 5), 44, 40, 48, gsd_m=0.5)
    comp = compare(judged, history)
    said = [c for c in comp.caveats if "contrast-stretched" in c]
    assert len(said) == 1 and said[0].startswith("1 of the 8 baseline counts") and "counted high" in said[0]
    assert not any("may be low" in c for c in comp.caveats)


def test_a_reflectance_product_s_negative_pixels_are_no_stretch():
    """A surface-reflectance product puts a few over-corrected dark pixels below zero; they read as
    black, but they are not a stretch's clipping (which puts values exactly at the bottom)."""
    window = _window(SAMPLE_SCENE)
    reflect = window.pixels.astype(np.float32) / 255
    dark = window.pixels.mean(axis=2) < np.percentile(window.pixels.mean(axis=2)[window.valid], 2)
    reflect[dark] -= 0.2  # 2 % of the pixels below zero
    w = dataclasses.replace(window, pixels=reflect, value_range=(0.0, 1.0))
    found = band_lifts(w)
    assert not found.stretched and not found.any
    # Clipped to exactly zero instead, they are.
    w = dataclasses.replace(window, pixels=np.where(dark[:, :, None], 0.0, reflect).astype(np.float32))
    assert band_lifts(w).stretched


def test_a_lifted_window_keeps_its_floor_in_the_detectors_colour_stretch(stretched):
    """The detector's own colour stretch starts at the bottom of a lifted window's range: from its
    darkest pixels, it would take off the floor the lift put back, and the log luminance's shadows would
    stay as deep as the product's stretch made them. Linear luminance is the file's values either way."""
    from railcount.detect.prepare import band_mean, prepare

    window = _window(stretched)
    up = lifted(window, band_lifts(window))
    assert up.stretch_lifted and not window.stretch_lifted
    kept = prepare(up)
    taken = prepare(dataclasses.replace(up, stretch_lifted=False))
    floor = [float(np.percentile(band_mean(p.rgb)[up.valid], 1)) for p in (kept, taken)]
    assert floor[0] > 0.1 and floor[1] < 0.05, floor
    np.testing.assert_array_equal(kept.linear_lum, taken.linear_lum)


def test_with_the_lift_switched_off_the_caution_says_the_picture_was_counted_as_it_is(stretched):
    with pytest.warns(StretchedPictureWarning, match="counted as it is"):
        (sc,) = count_scene(
            stretched, read_stations(SAMPLE_STATION), params=DetectorParams(stretch_clip_share=None)
        )
    (note,) = [c for c in sc.cautions if is_stretched(c)]
    assert "railcount lifted" not in note and "switched off" in note


def test_a_stretched_count_s_widened_interval_is_dotted_on_the_chart():
    from datetime import date

    from railcount.report.baseline import Observation, compare
    from railcount.report.chart import baseline_chart

    from .test_short_shadows import _dotted_bars

    note = stretched_caution("Yard", 0.02)
    history = [Observation(date(2023, m, 1), 40 + m, 36 + m, 46 + m, gsd_m=0.5) for m in range(1, 9)]
    history[2] = dataclasses.replace(history[2], railcars_low=13, detector_version="0.6.28", warnings=(note,))
    judged = Observation(date(2023, 10, 5), 44, 40, 48, gsd_m=0.5)
    c = compare(judged, history)
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert _dotted_bars(fig) == 1
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "interval widened: stretched picture" in labels
    # Stored by a detector before the widening, the same count keeps a solid line.
    history[2] = dataclasses.replace(history[2], detector_version="0.6.27")
    c = compare(judged, history)
    assert _dotted_bars(baseline_chart(c, [*c.baseline_obs, c.judged])) == 0


def test_a_light_stretch_is_read_by_both_ends(tmp_path):
    """A stretch from the 0.02nd percentile clips less of the sample's window to black than the black
    rule asks (0.2 %), but clips about as much to white: a stretch clips both ends, so it is read as
    stretched (since detector 0.6.29), lifted back and cautioned, its white share given. With
    ``stretch_both_share`` None the black share alone decides, and it is counted as it is."""
    light = processed(SAMPLE_SCENE, "stretch", 0.02, tmp_path / "light.tif")
    window = _window(light)
    found = band_lifts(window)
    assert STRETCH_BOTH_SHARE <= max(found.clipped) < STRETCH_CLIP_SHARE
    assert max(found.white) >= STRETCH_BOTH_SHARE and found.stretched and found.any
    assert lifted(window, found).stretch_lifted
    assert not band_lifts(window, both_share=None).any
    with pytest.warns(StretchedPictureWarning, match="to white"):
        (sc,) = count_scene(light, read_stations(SAMPLE_STATION))
    (note,) = [c for c in sc.cautions if is_stretched(c)]
    assert "railcount lifted" in note and codes([note]) == ("stretched",)
    assert sc.result.railcars_low <= STRETCHED_INTERVAL_RATIOS[0] * sc.result.railcars + 1


def test_black_alone_under_the_threshold_is_no_stretch_and_white_is_read_on_every_pixel():
    """Black vehicles in a town block put up to 0.16 % of a band at the bottom with little white: no
    stretch. The same black with 0.1 % white is one, though the white pixels lie on rows the sampled
    first reading skips (a small window's few white pixels are read again on every pixel)."""
    rng = np.random.default_rng(7)
    px = rng.integers(10, 200, (400, 400, 3)).astype(np.uint8)  # dark enough to need a lift
    black = rng.choice(400 * 400, 320, replace=False)  # 0.2 %, scattered
    px.reshape(-1, 3)[black] = 0
    w = array_window(px)
    alone = band_lifts(w)
    assert max(alone.clipped) == pytest.approx(0.002) and max(alone.white) < STRETCH_BOTH_SHARE
    assert not alone.stretched and not alone.any
    px[1:400:4, :2, 0] = 255  # 200 white pixels, all on rows the sample skips: 0.125 %
    both = band_lifts(w)
    assert max(both.white) == pytest.approx(0.00125) and both.stretched and both.any
    assert stretched_caution("s", max(both.clipped), white=max(both.white)).startswith(
        "s: 0.20 % of the picture is clipped to black in a band and 0.12 % to white"
    )


def _offset_copy(src: Path, dst: Path, offset: int) -> Path:
    """``src`` with ``offset`` grey levels taken off every band, none taken to 0 (a levels adjustment
    that pushes the darkest tones near black but clips none): same profile and tags."""
    import rasterio

    with rasterio.open(src) as ds:
        profile, tags, bands = ds.profile, ds.tags(), ds.read()
    profile.update(compress="deflate", photometric="rgb")  # (JPEG would take some of the 1s to 0)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(np.clip(bands.astype(np.int16) - offset, 1, 255).astype(np.uint8))
        out.update_tags(**tags)
    return dst


def test_darks_pushed_near_black_without_clipping_are_levelled_and_cautioned(tmp_path):
    """A picture whose darkest tones were pushed near black with none at black (a levels adjustment)
    is not read as stretched, but the detector levels it (since 0.6.29): the count says the picture
    looks lightly stretched (since session 75), with its floor against a clear scene's, and its
    interval reaches down to half the count. With the levelling off there is nothing to say; the sample
    as made has no such caution."""
    from railcount.cautions import CLEAR_FLOOR_RATIO, is_light_stretch, log_notes

    darker = _offset_copy(SAMPLE_SCENE, tmp_path / "darker.tif", 20)
    assert not band_lifts(_window(darker)).stretched
    with pytest.warns(StretchedPictureWarning, match="nearer black than a clear scene's"):
        (sc,) = count_scene(darker, read_stations(SAMPLE_STATION))
    (note,) = [c for c in sc.cautions if is_light_stretch(c)]
    assert not any(is_stretched(c) for c in sc.cautions) and "% white" not in note
    ratio = float(note.split("its 1st percentile of luminance is ")[1].split()[0])
    assert 0.0 < ratio < DetectorParams().level_floor_ratio < CLEAR_FLOOR_RATIO
    assert codes([note]) == ("light_stretch",) and "lightly stretched" in caption([note], 0.5)
    assert log_notes([note], 1.0, None) == ["a lightly stretched picture, likely high"]
    r = sc.result  # the interval reaches down to half the count: such pictures are counted high
    assert (r.railcars_low, r.railcars_high) == interval(
        r.railcars, r.unsure_share, r.observed_fraction, light_stretch=True
    )
    assert (
        r.railcars_low
        <= LIGHT_STRETCH_INTERVAL_RATIOS[0] * r.railcars
        < interval(r.railcars, r.unsure_share)[0]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", StretchedPictureWarning)
        (off,) = count_scene(
            darker, read_stations(SAMPLE_STATION), params=DetectorParams(level_floor_ratio=None)
        )
        (plain,) = count_scene(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    assert not any(is_light_stretch(c) for c in (*off.cautions, *plain.cautions))


def test_a_few_black_and_white_pixels_read_on_every_pixel_say_a_light_stretch():
    """0.04 % of a band black and as much white, under both lift rules: nothing is lifted and the lift's
    shares are the sample's, but both ends are read on every pixel (most of the black lies where the
    sample does not look) and the picture is said to look lightly stretched; as much black with no
    white is not, nor white alone (bright roofs: the sample finds no black, and nothing more is read)."""
    from railcount.cautions import light_stretch_caution, reads_lightly_stretched

    rng = np.random.default_rng(11)
    px = rng.integers(40, 200, (400, 400, 3)).astype(np.uint8)
    w = array_window(px)
    px[0:16:4, 0, 1] = 0  # 4 black pixels the sample reads (every 4th row and column) ...
    px[1:361:6, 2, 1] = 0  # ... and 60 it does not
    found = band_lifts(w)
    assert found.ends == (pytest.approx(64 / 160000), 0.0) and not reads_lightly_stretched(*found.ends)
    px[1:321:5, 3, 2] = 255  # 64 white pixels
    found = band_lifts(w)
    assert found.ends == (pytest.approx(64 / 160000), pytest.approx(64 / 160000))
    assert max(found.clipped) == pytest.approx(4 / 10000) and found.white == ()  # (the sample's)
    assert not found.stretched and not found.any and reads_lightly_stretched(*found.ends)
    assert light_stretch_caution("s", *found.ends).startswith(
        "s: the picture looks lightly contrast-stretched for display (0.04 % of it black in a band and "
        "0.04 % white)"
    )
    px[px == 0] = 1
    assert band_lifts(w).ends == (0.0, 0.0) and light_stretch_caution("s", 0.0, 0.0004) == ""


def test_a_lightly_stretched_count_s_widened_interval_is_dotted_on_the_chart():
    from datetime import date

    from railcount.cautions import light_stretch_caution
    from railcount.report.baseline import Observation, compare
    from railcount.report.chart import baseline_chart

    from .test_short_shadows import _dotted_bars

    note = light_stretch_caution("Yard", 0.0003, 0.0004)
    history = [Observation(date(2023, m, 1), 40 + m, 36 + m, 46 + m, gsd_m=0.5) for m in range(1, 9)]
    history[2] = dataclasses.replace(history[2], railcars_low=20, detector_version="0.6.30", warnings=(note,))
    c = compare(Observation(date(2023, 10, 5), 44, 40, 48, gsd_m=0.5), history)
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert _dotted_bars(fig) == 1
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "interval widened: lightly stretched picture" in labels
    history[2] = dataclasses.replace(history[2], detector_version="0.6.29")  # (before the widening)
    c = compare(Observation(date(2023, 10, 5), 44, 40, 48, gsd_m=0.5), history)
    assert _dotted_bars(baseline_chart(c, [*c.baseline_obs, c.judged])) == 0


def test_the_detector_reports_the_levels_it_prepared_with_for_integer_and_float_pixels(tmp_path):
    """The count's light-stretch caution reads the levels the detector itself prepared the bands with
    (``detect(levels_out=)``): the same levelling for the 8-bit picture and for the same pixels as
    float reflectance (prepared by percentiles, not histograms), and none for the sample as made."""
    darker = _window(_offset_copy(SAMPLE_SCENE, tmp_path / "darker.tif", 20))
    reflectance = dataclasses.replace(
        darker, pixels=darker.pixels.astype(np.float32) / np.float32(255.0), value_range=(0.0, 1.0)
    )
    got = []
    for w in (darker, reflectance, _window(SAMPLE_SCENE)):
        out: list = []
        detect(w, levels_out=out)
        (levels,) = out
        got.append(levels)
    assert got[0].lift > 0 and got[1].lift > 0 and got[2].lift == 0
    assert got[1].floor_ratio == pytest.approx(got[0].floor_ratio, abs=0.01)
    assert got[2].floor_ratio is not None and got[2].floor_ratio > DetectorParams().level_floor_ratio
