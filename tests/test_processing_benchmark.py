"""benchmarks/processing.py: scenes processed as products often are (sharpened, stretched ...), counted."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from processing import SIGMA_PX, applies, main, processed_bands, sharpened

from .geofixtures import SAMPLE_SCENE, write_tif


def test_sharpened_is_the_unsharp_mask_of_every_band_and_keeps_the_file_s_tags(tmp_path):
    """Amount 0 copies the pixels exactly; amount 1 is x + (x - G(x)) per band, rounded and clipped to
    the type; the tags (the acquisition time, which places the sun) and band order are kept."""
    with rasterio.open(SAMPLE_SCENE) as ds:
        bands, tags, colours = ds.read(), ds.tags(), ds.colorinterp
    same = sharpened(SAMPLE_SCENE, 0.0, tmp_path / "same.tif")
    sharp = sharpened(SAMPLE_SCENE, 1.0, tmp_path / "sharp.tif")
    with rasterio.open(same) as a, rasterio.open(sharp) as b:
        np.testing.assert_array_equal(a.read(), bands)
        got = b.read()
        assert a.tags() == b.tags() == tags and b.colorinterp == colours
    x = bands.astype(np.float32)
    want = np.stack([np.clip(np.rint(c + (c - cv2.GaussianBlur(c, (0, 0), SIGMA_PX))), 0, 255) for c in x])
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    # Sharper: more of the picture's variance in its finest detail.
    pictures = (x[0], got[0].astype(np.float32))
    detail = [float(np.var(im - cv2.GaussianBlur(im, (0, 0), 1.0))) for im in pictures]
    assert detail[1] > 2 * detail[0]


def test_bad_levels_are_refused(capsys):
    for levels, says in (
        ("0,-1", "levels must be 0 or more"),
        ("0,x", "expected numbers separated by commas"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["--levels", levels])
        assert exc.value.code == 2 and says in capsys.readouterr().err


def test_each_processing_at_its_identity_leaves_the_pixels_and_otherwise_does_what_it_says():
    """The first level of each kind is the scene as generated; a gamma above 1 darkens mid-tones and
    keeps black and white; a 2 % stretch puts each band's 2nd percentile at 0; JPEG and noise move
    pixels a little; CLAHE raises the luminance's contrast."""
    from processing import IDENTITY, KINDS

    with rasterio.open(SAMPLE_SCENE) as ds:
        bands = ds.read()
    for kind in KINDS:
        np.testing.assert_array_equal(processed_bands(bands, kind, IDENTITY[kind]), bands)
    dark = processed_bands(bands, "gamma", 1.4)
    assert dark.mean() < bands.mean() and dark.max() == bands.max()
    wide = processed_bands(bands, "stretch", 2.0)
    for b, w in zip(bands, wide, strict=True):
        assert np.percentile(w, 2) <= 1 and np.percentile(w, 98) >= 254 and w.std() > b.std()
    for kind, level in (("jpeg", 30), ("noise", 4)):
        moved = np.abs(processed_bands(bands, kind, level).astype(int) - bands)
        assert 0 < moved.mean() < 8
    assert processed_bands(bands, "clahe", 2.0).std() > bands.std()


def test_clahe_and_jpeg_leave_out_scenes_that_are_not_8_bit_rgb(tmp_path):
    """They process 8-bit RGB only: an 11-bit or a single-band scene is left out of every level (it
    raised in a worker and lost the whole run), and the other kinds take every product."""
    eleven = write_tif(tmp_path / "eleven.tif", np.full((32, 32, 4), 900, np.uint16))
    pan = write_tif(tmp_path / "pan.tif", np.full((32, 32, 1), 90, np.uint8))
    for kind in ("clahe", "jpeg"):
        assert applies(kind, SAMPLE_SCENE) and not applies(kind, eleven) and not applies(kind, pan)
        with pytest.raises(ValueError, match="needs 8-bit RGB"):
            processed_bands(np.full((4, 8, 8), 900, np.uint16), kind, 1.0)
    assert all(applies(kind, f) for kind in ("sharpen", "stretch", "gamma", "noise") for f in (eleven, pan))


def test_the_caution_tally_counts_each_scene_once_and_scores_the_quiet_ones(capsys):
    """Per level: yards and blocks by the picture caution their count came with (both: the first kind),
    and the error of the yards that came with none, the counts a user takes at their word."""
    from accuracy import Outcome
    from processing import print_picture_cautions

    def yard(truth: int, count: int, *cautions: str) -> Outcome:
        low, high = count - 5, count + 5
        return Outcome("tuned", "s", 0.5, truth, count, low, high, count, count, 0.1, cautions=cautions)

    done = [
        ("yard", 0.0, yard(40, 42)),
        ("yard", 0.02, yard(40, 50, "stretched", "light_stretch")),
        ("yard", 0.02, yard(40, 46, "coarse", "light_stretch")),
        ("yard", 0.02, yard(50, 45, "along_tracks")),
        ("yard", 0.02, yard(50, 60)),
        ("town", 0.02, yard(0, 3, "light_stretch")),
    ]
    print_picture_cautions(done, [0.0, 0.02], prefix="stretch ")
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "stretch 0     yards 0 stretched, 0 light_stretch, 1 with none (5.0%, +5.0%, 1 held)"
    assert out[2] == (
        "stretch 0.02  yards 1 stretched (25.0%, +25.0%, 0 held), 1 light_stretch (15.0%, +15.0%, 0 held), "
        "2 with none (15.0%, +5.0%, 1 held); blocks 0 stretched, 1 light_stretch, 0 with none"
    )
