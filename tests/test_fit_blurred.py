"""fit_car_model.py --blurred / --blurred-blocks: softer copies of tuned scenes added to a fit (session 54).

The shipped models are fitted without them (both default to none); the options let a later fit add
the plain yards and look-alike blocks of ``benchmarks/blur.py`` rendered with 1.5 and 2 times the
sensor blur, by turns.
"""

import argparse
import json
import sys
from pathlib import Path

import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fit_car_model as fit


def _args(cache: Path, blurred: str = "", blocks: str = "") -> argparse.Namespace:
    """The fit's options as its own parser reads them (ranges as on the command line: "3-4", "5-5")."""
    argv = ["--scenes", "2", "--lookalikes", "1", "--cache", str(cache)]
    argv += ["--blurred", blurred] if blurred else []
    argv += ["--blurred-blocks", blocks] if blocks else []
    return fit.argument_parser().parse_args(argv)


def test_the_softer_scenes_join_the_jobs_only_when_asked(tmp_path):
    plain = fit.fit_jobs(_args(tmp_path))
    assert {realism for _, realism, _ in plain} == {"v1", "v2", "town"}
    softer = fit.fit_jobs(_args(tmp_path, "3-4", "5-5"))
    assert softer[: len(plain) - 1] == plain[:-1]  # the yards first, then the blocks, as before
    added = [(i, r) for i, r, _ in softer if r.endswith("-blur")]
    assert added == [(3, "v1-blur"), (4, "v1-blur"), (5, "town-blur")]
    yards_only = fit.fit_jobs(_args(tmp_path, "3-3", "5-5"), lookalikes=False)
    assert not any(r == "town-blur" for _, r, _ in yards_only)
    said = fit.fitted_on(_args(tmp_path, "3-4", "5-5"))
    assert "2 tuned plain yards (3-4) rendered with 1.5 / 2 times the sensor blur" in said
    assert "1 tuned look-alike blocks (5) rendered" in said
    assert "sensor blur" not in fit.fitted_on(_args(tmp_path))


def test_a_softer_scene_is_the_tuned_yard_with_the_wider_blur(tmp_path):
    tif, _ = fit.ensure_fit_scene(3, "v1-blur", str(tmp_path))  # tuned yard 3 (1.0 m), 2 times the blur
    plain, _ = fit.ensure_fit_scene(3, "v1", str(tmp_path))
    spec = json.loads(tif.with_suffix(".truth.json").read_text())
    assert "blur=2" in spec["conditions"]
    assert json.loads(plain.with_suffix(".truth.json").read_text())["railcars"] == spec["railcars"]
    with rasterio.open(tif) as soft, rasterio.open(plain) as sharp:
        assert soft.shape == sharp.shape
        a, b = soft.read(1).astype(float), sharp.read(1).astype(float)
    # The same yard, softer: neighbouring pixels differ less.
    assert abs(a[:, 1:] - a[:, :-1]).mean() < 0.9 * abs(b[:, 1:] - b[:, :-1]).mean()
