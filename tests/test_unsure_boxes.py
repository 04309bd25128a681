"""Unsure railcars (the car model gave them under 0.7) are marked where a person checks the count:
dashed on the overlay, with their number in its legend, and ``unsure`` in the detections."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from railcount.cli import main
from railcount.counting import UNSURE_BELOW, unsure_railcars
from railcount.io import outputs
from railcount.models import Detections

from .geofixtures import SAMPLE_SCENE as SCENE
from .geofixtures import SAMPLE_STATION as STATION
from .geofixtures import SAMPLES


def _edge_coverage(img: np.ndarray, corners: np.ndarray, colour: tuple[int, int, int]) -> float:
    """Share of the points along the middle 70 % of a box's two long sides drawn in ``colour``."""
    hits, total = 0, 0
    sides = [(corners[k], corners[(k + 1) % 4]) for k in range(4)]
    long_sides = sorted(sides, key=lambda s: -float(np.hypot(*(s[1] - s[0]))))[:2]
    for p, q in long_sides:
        n = int(np.hypot(*(q - p)))
        for t in np.linspace(0.15, 0.85, max(2, n)):
            x, y = np.round(p + t * (q - p)).astype(int)
            if 0 <= y < img.shape[0] and 0 <= x < img.shape[1]:
                total += 1
                hits += bool(np.all(np.abs(img[y, x].astype(int) - colour) < 45))
    return hits / max(total, 1)


def test_unsure_railcars_are_the_railcars_under_the_threshold():
    kinds = np.array(["tank", "railcar", "locomotive", "flat"])
    scores = np.array([0.5, UNSURE_BELOW, 0.2, 0.69])
    dets = Detections(
        center=np.zeros((4, 2)),
        length=np.full(4, 30.0),
        width=np.full(4, 6.0),
        angle_deg=np.zeros(4),
        score=scores,
        kind=kinds,
        method=np.array(["gap"] * 4),
        tarped=np.zeros(4, bool),
    )
    # A locomotive is counted apart, never as an unsure railcar; 0.7 itself is sure.
    assert unsure_railcars(dets).tolist() == [True, False, False, True]


def test_dashes_go_round_the_outline_evenly():
    box = np.array([[10.0, 10.0], [110.0, 10.0], [110.0, 30.0], [10.0, 30.0]])
    pieces = outputs._dash_pieces(box, 8.0, 6.0)
    perimeter = 240.0
    assert len(pieces) == round(perimeter / 14.0)
    drawn = sum(float(np.sum(np.hypot(*np.diff(p, axis=0).T))) for p in pieces)
    assert drawn == pytest.approx(perimeter * 8.0 / 14.0)
    np.testing.assert_allclose(pieces[0][0], box[0])
    # Every point of every dash lies on the outline.
    for p in pieces:
        on_x = np.isclose(p[:, 0], 10) | np.isclose(p[:, 0], 110)
        on_y = np.isclose(p[:, 1], 10) | np.isclose(p[:, 1], 30)
        assert np.all(on_x | on_y)
    # A small box still gets at least four dashes.
    assert len(outputs._dash_pieces(box / 10.0, 8.0, 6.0)) == 4


def test_a_dashed_box_leaves_gaps_a_solid_one_does_not():
    img = np.zeros((80, 300, 3), np.uint8)
    solid = np.array([[20.0, 20.0], [130.0, 20.0], [130.0, 50.0], [20.0, 50.0]])
    dashed = solid + np.array([150.0, 0.0])
    outputs._draw_box(img, solid, outputs._CAR, 2, dashed=False)
    outputs._draw_box(img, dashed, outputs._CAR, 2, dashed=True)
    assert _edge_coverage(img, solid, outputs._CAR) > 0.95
    assert 0.35 < _edge_coverage(img, dashed, outputs._CAR) < 0.8


def test_the_sample_overlay_dashes_its_unsure_railcars_and_counts_them(counted_sample):
    dets, result = counted_sample.detections, counted_sample.result
    unsure = unsure_railcars(dets)
    assert 0 < unsure.sum() < len(dets)  # the sample has both, so both are checked
    img = outputs.overlay_image(counted_sample.window, dets, result)
    scale = img.shape[1] / counted_sample.window.shape[1]
    below = img.shape[0] - round(counted_sample.window.shape[0] * scale)  # the banner's rows, above
    cover = []
    for i in range(len(dets)):
        if dets.kind[i] == "locomotive":
            continue
        colour = outputs._METHOD_COLOUR[str(dets.method[i])]
        cover.append((bool(unsure[i]), _edge_coverage(img, dets.corners()[i] * scale + (0, below), colour)))
    sure_cover = [c for u, c in cover if not u]
    unsure_cover = [c for u, c in cover if u]
    # Boxes overlap their neighbours here and there, so compare the typical box of each kind.
    assert np.median(sure_cover) > 0.9
    assert np.median(unsure_cover) < 0.8
    # The unsure share in count.json is the dashed boxes' share of the railcars.
    assert result.unsure_share == pytest.approx(unsure.sum() / result.railcars)


def test_detections_say_which_railcars_are_unsure(tmp_path, capsys):
    assert main(["count", str(SCENE), "--station", str(STATION), "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    feats = json.loads((tmp_path / "detections.geojson").read_text())["features"]
    flags = [f["properties"]["unsure"] for f in feats]
    expected = [
        f["properties"]["type"] != "locomotive" and f["properties"]["score"] < UNSURE_BELOW for f in feats
    ]
    assert flags == expected and any(flags) and not all(flags)
    # The count's line says how many are dashed (and that the bundled sample is a generated scene).
    assert f"observed, {sum(flags)} unsure, synthetic scene]" in line
    count = json.loads((tmp_path / "count.json").read_text())
    assert sum(flags) == round(count["unsure_share"] * count["railcars"])


def test_false_cars_benchmark_tallies_dashed_and_solid_boxes():
    """``benchmarks/false_cars.py``'s table of dashed boxes, on a tally worked out by hand: two
    scenes, five boxes, two dashed (one false), three solid (one false)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from false_cars import unsure_row

    from railcount.pipeline import DashedBoxes

    scenes = [DashedBoxes(unsure=1, sure=2, unsure_false=1, sure_false=0), DashedBoxes(1, 1, 0, 1)]
    cells = unsure_row("x", scenes).split()
    assert cells[:2] == ["x", "5"]
    assert cells[2:4] == ["2/5", "40%"]  # dashed
    assert cells[4:6] == ["1/2", "50%"]  # false among the dashed
    assert cells[6:8] == ["1/3", "33%"]  # false among the solid
    assert cells[8:10] == ["1/2", "50%"]  # the false that are dashed
    assert unsure_row("none", []).split()[1:] == ["0", "-", "-", "-", "-"]


def test_an_evaluation_splits_the_false_boxes_into_dashed_and_solid(capsys: pytest.CaptureFixture[str]):
    truth = SAMPLES / "tumangang_2023-10-05.truth.geojson"
    assert main(["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    # Every false railcar box is dashed or solid; every box that is not a true positive is false.
    assert rec["unsure_false"] + rec["sure_false"] == rec["railcars"] - rec["true_positives"]
    assert 0 < rec["unsure"] < rec["railcars"]
    assert rec["unsure_false"] <= rec["unsure"] and rec["sure_false"] <= rec["railcars"] - rec["unsure"]
    assert main(["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(truth)]) == 0
    line = [t for t in capsys.readouterr().out.splitlines() if "dashed (unsure) boxes" in t]
    assert line == [
        f"  dashed (unsure) boxes: {rec['unsure']}, {rec['unsure_false']} of them false; "
        f"solid: {rec['railcars'] - rec['unsure']}, {rec['sure_false']} false"
    ]


def test_export_gives_each_count_its_unsure_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], counted_sample
):
    folder = tmp_path / "scenes"
    folder.mkdir()
    (folder / SCENE.name).write_bytes(SCENE.read_bytes())
    db = str(tmp_path / "r.db")
    assert (
        main(["batch", "--station", str(STATION), "--scenes", str(folder), "--db", db, "--workers", "1"]) == 0
    )
    capsys.readouterr()
    assert main(["export", "--db", db, "--format", "csv"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert float(row["unsure_share"]) == pytest.approx(
        counted_sample.result.unsure_share, abs=1e-4
    )  # as rounded
    dashed = unsure_railcars(counted_sample.detections).sum()
    assert float(row["unsure_share"]) == pytest.approx(dashed / int(row["railcars"]), abs=1e-4)
