"""benchmarks/sharpen.py: scenes sharpened by an unsharp mask, as many products are, and counted again."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from sharpen import SIGMA_PX, main, sharpened

from .geofixtures import SAMPLE_SCENE


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


def test_bad_amounts_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--amounts", "0,-1"])
    assert exc.value.code == 2 and "amounts must be 0 or more" in capsys.readouterr().err
