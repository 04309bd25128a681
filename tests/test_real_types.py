"""benchmarks/real_types.py: the detector's type calls against types given by eye to Muttenz west."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from railcount.io.stations import read_stations
from railcount.io.truth import truth_features
from railcount.models import RAILCAR_TYPES
from railcount.pipeline import evaluate_scene

from .geofixtures import write_synth

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from accuracy import SHARED_REAL, known_warnings_ignored
from real_types import (
    DOUBT,
    LABELS,
    ROWS,
    confusion,
    labelled_truth,
    read_labels,
    right_of_classified,
    type_calls,
)


def _feature(cls: str = "wagon") -> dict:
    ring = [[7.0, 47.0], [7.0001, 47.0], [7.0001, 47.00002], [7.0, 47.00002], [7.0, 47.0]]
    return {
        "type": "Feature",
        "properties": {"class": cls},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_the_labels_become_the_classes_and_doubt_is_marked():
    labels = [
        {"feature": 0, "class": "tank", "sure": True},
        {"feature": 1, "class": "covered", "sure": False},
        {"feature": 2, "class": "unsure"},
    ]
    out = labelled_truth([_feature(), _feature(), _feature()], labels)
    assert [f["properties"]["class"] for f in out["features"]] == ["tank", "covered" + DOUBT, "unsure"]
    assert out["features"][0]["geometry"] == _feature()["geometry"]


def test_labels_that_do_not_fit_the_truth_are_refused():
    with pytest.raises(ValueError, match="2 labels for 3 truth outlines"):
        labelled_truth([_feature()] * 3, [{"feature": 0, "class": "tank"}, {"feature": 1, "class": "flat"}])
    with pytest.raises(ValueError, match="'boxcar' is none of"):
        labelled_truth([_feature()], [{"feature": 0, "class": "boxcar"}])


def test_the_tally_counts_doubtful_labels_with_their_type():
    pairs = [
        ("tank", "tank"),
        ("covered", "tank" + DOUBT),
        ("railcar", "covered"),
        ("covered", "covered"),
        ("flat", "unsure"),
    ]
    table = confusion(pairs)
    assert table["tank"] == {"tank": 1, "covered": 1, "open": 0, "flat": 0, "railcar": 0}
    assert table["covered"]["railcar"] == 1 and table["covered"]["covered"] == 1
    assert table["unsure"]["flat"] == 1
    # Unclassified calls and unsure labels are left out; doubtful labels only when asked.
    assert right_of_classified(pairs, sure_only=True) == (2, 2)
    assert right_of_classified(pairs, sure_only=False) == (2, 3)


def test_the_shipped_labels_number_every_outline():
    labels = read_labels()
    assert len(labels) == 45
    assert all(lab["class"] in ROWS for lab in labels)
    assert {lab["class"] for lab in labels} >= {"tank", "covered", "flat"}


def test_the_labelled_truth_matches_as_the_truth_does(tmp_path):
    """Counted against a copy of a generated truth labelled with its own classes, the calls and the
    labels pair up exactly as the evaluation pairs the calls with the true classes."""
    paths, station = write_synth(tmp_path, date="2020-09-14", cars=30, gsd_m=0.5, seed=11)
    feats = truth_features(paths["truth_geojson"])
    labels = [
        {"feature": k, "class": c if (c := f["properties"].get("class")) in RAILCAR_TYPES else "unsure"}
        for k, f in enumerate(feats)
    ]
    pairs, missed = type_calls(paths["tif"], station, feats, labels)
    with known_warnings_ignored():
        (ev,) = evaluate_scene(paths["tif"], read_stations(station), paths["truth_geojson"])
    assert pairs == [(str(d), str(t)) for d, t in ev.type_pairs]
    assert len(pairs) >= 10 and any(d != "railcar" for d, _ in pairs)
    assert missed and sorted(missed) == sorted(str(ev.truth.classes[j]) for j in ev.missed)


@pytest.mark.skipif(not (SHARED_REAL / "muttenz").is_dir(), reason="../shared/real is absent")
def test_the_labels_fit_the_real_truth():
    feats = truth_features(SHARED_REAL / "muttenz" / "truth_west.geojson")
    assert len(labelled_truth(feats, read_labels(LABELS))["features"]) == len(feats)
