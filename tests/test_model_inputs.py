"""benchmarks/model_inputs.py splits the candidates into those on true railcars and the rest."""

import sys
from pathlib import Path

import numpy as np
import pytest

from railcount.detect.candidates import FEATURES
from railcount.detect.detector import candidates_in_station
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import car_profiles
import model_inputs
from model_inputs import GROUPS, split_candidates

ROOT = Path(__file__).resolve().parents[1]

SCENE = ROOT / "sample_tiles" / "tumangang_2022-08-30.tif"
TRUTH = ROOT / "sample_tiles" / "tumangang_2022-08-30.truth.geojson"
STATION = ROOT / "sample_tiles" / "tumangang_station.geojson"


def test_candidates_are_split_by_the_truth():
    (window,) = read_windows(SCENE, read_stations(STATION))
    _, features, _ = candidates_in_station(window)
    described = int(np.isfinite(features).all(axis=1).sum())
    on, off = split_candidates(window, TRUTH)
    assert on.shape[1] == off.shape[1] == len(FEATURES)
    assert len(on) + len(off) == described  # every described candidate, once
    assert len(on) >= 20  # the sample's 28 railcars stand under candidates
    assert np.isfinite(on).all() and np.isfinite(off).all()
    # With no railcars in the truth, every candidate is off the cars.
    none_on, all_off = split_candidates(window, ROOT / "benchmarks" / "no_railcars.geojson")
    assert len(none_on) == 0 and len(all_off) == described


def test_every_input_belongs_to_a_named_group():
    grouped = {name for name in FEATURES for member in GROUPS.values() if member(name)}
    assert grouped == set(FEATURES) - {"gsd_m"}


@pytest.mark.parametrize("script", [model_inputs, car_profiles])
def test_scripts_offer_no_options_they_would_ignore(script, capsys):
    """GSDs are chosen with --gsds and the real rows are always added: --gsd and --real, which these
    scripts once took and ignored, are refused (not read as abbreviations of --gsds or --realism)."""
    for option in (["--gsd", "1.0"], ["--real"]):
        with pytest.raises(SystemExit) as exit_info:
            script.main(option)
        assert exit_info.value.code == 2
        assert f"unrecognized arguments: {option[0]}" in capsys.readouterr().err
