"""benchmarks/conditions.py: a scene without its condition is the same yard, and the table's figures."""

import doctest
import sys
from pathlib import Path

import numpy as np

from railcount.synth import SceneSpec, synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import conditions
from conditions import Counted, Pair, condition_name, figures, table, twin


def _scene(conditions: str, product: str = "rgb8"):
    spec = SceneSpec(
        site="tumangang",
        date="2021-05-03",
        cars=12,
        gsd_m=1.0,
        seed=7,
        realism="v2",
        product=product,
        conditions=conditions,
    )
    return synthesize(spec)


def test_the_docstring_examples():
    assert doctest.testmod(conditions).failed == 0


def test_a_twin_takes_away_one_thing_only():
    spec = {"seed": 3, "date": "2020-01-05", "conditions": "snow", "product": "bgrn16", "gsd_m": 0.5}
    assert twin(spec) == ("snow", {**spec, "conditions": ""})
    assert twin(spec, "product") == ("bgrn16", {**spec, "product": "rgb8"})
    assert twin({**spec, "product": "rgb8"}, "product") is None
    assert twin({**spec, "conditions": ""}) is None


def test_taking_the_condition_away_keeps_the_yard_and_lifts_the_veil():
    # The benchmark's premise: the generator draws the condition apart from the yard, so the
    # scene made without it has the same cars in the same places under the same sun.
    veiled, clear = _scene("thin_cloud=0.4"), _scene("")
    assert veiled.acquired == clear.acquired
    np.testing.assert_array_equal(veiled.truth.center, clear.truth.center)
    np.testing.assert_array_equal(veiled.truth.cls, clear.truth.cls)
    assert veiled.truth.is_railcar.sum() > 0
    # The veil is light added over the ground: the veiled scene is brighter, the darkest pixels most.
    dark_v, dark_c = (np.percentile(s.pixels.astype(float).mean(axis=2), 2) for s in (veiled, clear))
    assert dark_v > dark_c + 10
    assert float(veiled.pixels.mean()) > float(clear.pixels.mean())


def test_figures_pool_the_scenes_of_a_row():
    rows = [
        Counted(truth=10, count=8, found=7, detections=8),
        Counted(truth=30, count=33, found=28, detections=33),
    ]
    wape, bias, f1, found, truth = figures(rows)
    assert (found, truth) == (35, 40)
    assert abs(wape - (2 + 3) / 40) < 1e-12
    assert abs(bias - (-2 + 3) / 40) < 1e-12
    # F1 from the pooled matches: precision 35/41, recall 35/40.
    p, r = 35 / 41, 35 / 40
    assert abs(f1 - 2 * p * r / (p + r)) < 1e-12


def test_the_table_has_a_row_per_condition_and_one_for_all():
    a = Pair("s1", "thin_cloud", "rgb8", Counted(50, 30, 29, 31), Counted(50, 48, 45, 49))
    b = Pair("s2", "haze", "pan16", Counted(20, 19, 18, 20), Counted(20, 20, 19, 20))
    lines = table([a, b])
    names = [line.split()[0] for line in lines[3:]]
    assert names == ["haze", "thin_cloud", "all"]
    thin = next(line for line in lines if line.startswith("thin_cloud"))
    assert thin.split()[-1] == "+16"  # 45 found without the veil, 29 with it
    everything = next(line for line in lines if line.startswith("all"))
    assert everything.split()[-1] == "+17"
    assert condition_name("cloud=0.25") == "cloud"


def test_taking_the_product_away_keeps_the_yard():
    pan, rgb = _scene("", "pan16"), _scene("")
    np.testing.assert_array_equal(pan.truth.center, rgb.truth.center)
    assert pan.pixels.shape[2] == 1 and rgb.pixels.shape[2] == 3


def test_the_product_table_is_headed_by_product():
    a = Pair("s1", "pan16", "pan16", Counted(50, 45, 44, 46), Counted(50, 48, 46, 49))
    lines = table([a], "product")
    assert lines[1].split()[0] == "product"
    assert "8-bit RGB" in lines[0]
    assert lines[3].split()[0] == "pan16" and lines[3].split()[-1] == "+2"
