"""fit_car_model.py --sharpened / --sharpened-blocks: sharpened copies of tuned scenes added to a fit.

The shipped models are fitted without them (both default to none); session 77 measured a fit with
them (``docs/detector.md``, *Session 77*). A sharpened copy is the tuned scene put through
``benchmarks/processing.py``'s unsharp mask of 0.5 or 1, by turns, with the scene's own truth.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fit_car_model as fit


def _args(cache: Path, sharpened: str = "", blocks: str = "") -> argparse.Namespace:
    """The fit's options as its own parser reads them (ranges as on the command line: "3-4", "5-5")."""
    argv = ["--scenes", "2", "--lookalikes", "1", "--cache", str(cache)]
    argv += ["--sharpened", sharpened] if sharpened else []
    argv += ["--sharpened-blocks", blocks] if blocks else []
    return fit.argument_parser().parse_args(argv)


def test_the_sharpened_scenes_join_the_jobs_only_when_asked(tmp_path):
    plain = fit.fit_jobs(_args(tmp_path))
    assert {realism for _, realism, _ in plain} == {"v1", "v2", "town"}
    sharper = fit.fit_jobs(_args(tmp_path, "3-4", "5-5"))
    assert sharper[: len(plain) - 1] == plain[:-1]  # the yards first, then the blocks, as before
    added = [(i, r) for i, r, _ in sharper if r.endswith("-sharp")]
    assert added == [(3, "v1-sharp"), (4, "v1-sharp"), (5, "town-sharp")]
    yards_only = fit.fit_jobs(_args(tmp_path, "3-3", "5-5"), lookalikes=False)
    assert not any(r == "town-sharp" for _, r, _ in yards_only)
    said = fit.fitted_on(_args(tmp_path, "3-4", "5-5"))
    assert "2 tuned plain yards (3-4) sharpened by unsharp masks of 0.5 / 1" in said
    assert "1 tuned look-alike blocks (5) sharpened" in said
    assert "sharpened" not in fit.fitted_on(_args(tmp_path))


def _edge_contrast(band: np.ndarray) -> float:
    return float(np.abs(np.diff(band, axis=1)).mean())


def test_a_sharpened_scene_is_the_tuned_yard_with_its_truth_and_more_edge_contrast(tmp_path):
    plain, _ = fit.ensure_fit_scene(3, "v1", str(tmp_path))  # tuned yard 3 (1.0 m)
    tif, _ = fit.ensure_fit_scene(3, "v1-sharp", str(tmp_path))  # odd seeds take amount 1
    assert tif != plain and tif.parent.name == "v1" and tif.parent.parent.name == "sharpen-1"
    for suffix in (".truth.geojson", ".truth.json"):
        assert tif.with_suffix(suffix).read_bytes() == plain.with_suffix(suffix).read_bytes()
    with rasterio.open(tif) as sharp, rasterio.open(plain) as made:
        assert sharp.shape == made.shape and sharp.crs == made.crs and sharp.transform == made.transform
        a, b = sharp.read(1).astype(float), made.read(1).astype(float)
    # The same yard, its steps steeper: neighbouring pixels differ more.
    assert _edge_contrast(a) > 1.1 * _edge_contrast(b)
    # Made once: asking again returns the same file untouched.
    mtime = tif.stat().st_mtime_ns
    assert fit.ensure_fit_scene(3, "v1-sharp", str(tmp_path))[0] == tif
    assert tif.stat().st_mtime_ns == mtime
    # Even seeds take the milder amount.
    even, _ = fit.ensure_fit_scene(2, "v1-sharp", str(tmp_path))
    assert even.parent.parent.name == "sharpen-0.5"
    assert json.loads(even.with_suffix(".truth.json").read_text())["railcars"] is not None
