"""fit_car_model.py --set NAME=VALUE: a fit that reads every scene with a detector variant (session 57).

The models are fitted on what the detector describes, so refitting them for a variant needs the fit
to read its scenes with the variant, in its own process and in every worker of its pools, spawned
ones included (the fill model's pool is spawned).
"""

import argparse
import multiprocessing
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fit_car_model as fit


def _args() -> argparse.Namespace:
    return fit.argument_parser().parse_args(["--scenes", "2", "--lookalikes", "1", "--workers", "1"])


@pytest.fixture
def overrides():
    yield fit.use_overrides
    fit.use_overrides({})


def test_the_fit_reads_scenes_with_the_overrides(overrides):
    assert fit.base_params() == fit.DetectorParams()
    overrides({"dark_along_texture": 2.0})
    params = fit.base_params(car_model=False)
    assert params.dark_along_texture == 2.0 and not params.car_model
    assert fit.base_params().min_car_probability == fit.DetectorParams().min_car_probability


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_every_worker_reads_with_them(overrides, method):
    overrides({"dark_along_texture": 2.0, "neighbour_shadow": False})
    with fit.fit_pool(_args(), mp_context=multiprocessing.get_context(method)) as pool:
        seen = pool.submit(fit.base_params).result()
    assert seen.dark_along_texture == 2.0 and seen.neighbour_shadow is False


def test_the_provenance_names_them(overrides):
    assert "read with" not in fit.fitted_on(_args())
    overrides({"dark_along_texture": 2.0})
    assert fit.fitted_on(_args()).endswith(", read with dark_along_texture=2.0")


def test_the_option_sets_them(overrides):
    args = fit.parse_args(["--set", "dark_along_texture=2.0", "--set", "neighbour_spacing_m=[4.5, 5.0]"])
    assert args.set == ["dark_along_texture=2.0", "neighbour_spacing_m=[4.5, 5.0]"]
    params = fit.base_params()
    assert params.dark_along_texture == 2.0 and params.neighbour_spacing_m == (4.5, 5.0)
    fit.parse_args([])
    assert fit.base_params() == fit.DetectorParams()


def test_a_field_that_is_not_one_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        fit.main(["--set", "dark_along=2.0", "--check"])
    assert stop.value.code == 2
    assert "DetectorParams field" in capsys.readouterr().err
