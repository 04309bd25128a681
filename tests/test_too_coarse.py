"""Imagery coarser than ``DetectorParams.max_gsd_m`` (1.1 m) is refused, not counted: one line naming the
file, its pixel size and the finest it should be, exit 1; a batch records that scene as skipped with the
reason and counts the others.

Without the refusal a 3 m (PlanetScope-like) copy of the bundled sample read "0 railcars (0-1)" where 73
stand: a number and an interval with nothing under them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from rasterio.enums import Resampling

from railcount.batch import run_batch
from railcount.cli import main
from railcount.detect.params import DetectorParams
from railcount.errors import TooCoarseError
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.store import read_counts

from .geofixtures import write_resampled

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def _coarser_copy(path: Path, gsd_m: float) -> Path:
    """The sample (0.5 m) averaged onto ``gsd_m`` pixels (same ground, same tags), written by rasterio."""
    return write_resampled(path, SCENE, gsd_m / 0.5, Resampling.average)


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[float, Path]:
    root = tmp_path_factory.mktemp("coarse")
    return {g: _coarser_copy(root / f"tumangang_{g:g}m_2023-10-05.tif", g) for g in (1.0, 3.0)}


def test_a_3_m_scene_is_refused_in_one_line(copies, capsys):
    scene = copies[3.0]
    assert main(["count", str(scene), "--station", str(STATION)]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith(f"railcount: error: {scene}: 3.00 m pixels are too coarse to count railcars")
    assert "1.1 m or finer" in err[0]
    assert "railcars" not in captured.out  # no count printed


def test_a_1_m_scene_is_still_counted(copies, capsys):
    assert main(["count", str(copies[1.0]), "--station", str(STATION), "--json"]) == 0
    assert '"railcars"' in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::railcount.errors.CautionWarning")
def test_the_limit_is_the_detector_parameter(copies):
    """Lifted, the same 3 m scene is counted (what the refusal spares the user: a count far from 73)."""
    stations = read_stations(STATION)
    with pytest.raises(TooCoarseError):
        count_scene(copies[3.0], stations)
    (sc,) = count_scene(copies[3.0], stations, params=DetectorParams(max_gsd_m=5.0))
    assert np.isclose(sc.window.gsd_m, 3.0, atol=0.01)
    assert sc.result.railcars_high < 73


def test_an_image_in_pixel_space_is_refused_too(tmp_path, capsys):
    import cv2

    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.full((300, 400, 3), 120, np.uint8))
    assert main(["count", str(png), "--gsd", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2.00 m pixels are too coarse" in err[0], err


def test_in_a_batch_the_coarse_scene_is_skipped_with_its_reason(tmp_path, copies):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(SCENE, scenes / SCENE.name)
    coarse = shutil.copy(copies[3.0], scenes / "tumangang_3m_2023-10-06.tif")
    db = tmp_path / "r.db"
    summary = run_batch(STATION, scenes, db=db, workers=1)
    assert (summary.ok, summary.failed, summary.skipped) == (1, 0, 1)
    assert summary.exit_code == 0
    assert summary.processed == 1  # skipped from its header: no worker read it
    again = run_batch(STATION, scenes, db=db, workers=1)
    assert (again.ok, again.skipped, again.processed) == (1, 1, 0)
    rows = {Path(r["scene"]).name: r for r in read_counts(db)}
    assert rows[SCENE.name]["status"] == "ok" and rows[SCENE.name]["railcars"] > 0
    skipped = rows[Path(coarse).name]
    assert skipped["status"] == "skipped" and skipped["railcars"] is None
    assert "3.00 m pixels are too coarse" in skipped["reason"]
