"""benchmarks/real_gsd.py's coarser copies keep the place, the date and the light of the original."""

import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from .geofixtures import ORIGIN, write_tif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from real_gsd import coarser, main


def _write(path: Path, gsd: float) -> np.ndarray:
    rng = np.random.default_rng(5)
    rows, cols = 400, 600
    pixels = np.zeros((rows, cols, 3), np.uint8)
    pixels[:] = rng.integers(60, 200, (rows, cols, 1), dtype=np.uint8)
    pixels[100:140] = 250  # a bright band 40 px tall, across the image
    write_tif(
        path,
        pixels,
        transform=from_origin(*ORIGIN, gsd, gsd),
        tags={"TIFFTAG_DATETIME": "2018:06:01 00:00:00"},
    )
    return np.moveaxis(pixels, -1, 0)


def test_coarser_copy_keeps_place_date_and_mean(tmp_path):
    src = tmp_path / "fine.tif"
    fine = _write(src, 0.25)
    out = coarser(src, 0.75, 0.55, tmp_path / "coarse.tif")
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert b.res == (0.75, 0.75)
        assert (b.width, b.height) == (200, 133)
        assert b.crs == a.crs
        assert abs(b.bounds.left - a.bounds.left) < 1e-6 and abs(b.bounds.top - a.bounds.top) < 1e-6
        assert b.tags()["TIFFTAG_DATETIME"] == "2018:06:01 00:00:00"
        coarse = b.read()
    # Averaging and a blur keep the mean brightness, and the band stays where it was (rows 100-140
    # of 0.25 m pixels: 25-35 m down, rows 33-46 of 0.75 m pixels).
    assert abs(float(coarse.mean()) - float(fine[:, :399].mean())) < 2.0
    profile = coarse[0].mean(axis=1)
    assert 35 <= int(np.argmax(profile)) <= 44
    assert profile[38] > profile[20] + 60


def test_a_shifted_grid_starts_half_a_coarse_pixel_in(tmp_path):
    src = tmp_path / "fine.tif"
    _write(src, 0.25)
    out = coarser(src, 0.75, 0.0, tmp_path / "shifted.tif", phase=(0.5, 0.5))
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert abs(b.bounds.left - (a.bounds.left + 0.375)) < 1e-6
        assert abs(b.bounds.top - (a.bounds.top - 0.375)) < 1e-6
        assert b.res == (0.75, 0.75) and b.width == 199
        profile = b.read(1).mean(axis=1)
    # The band (25-35 m down) now starts 0.375 m nearer the grid's top.
    assert 32 <= int(np.argmax(profile)) <= 45


def _copy(truth: int, count: int, tp: int, low: int = 0, high: int = 999, methods=("gap",)):
    from conditions import Counted

    return Counted(truth, count, found=tp, detections=count, low=low, high=high, methods=tuple(methods))


def test_a_pooled_row_weighs_every_copy_by_its_own_truth():
    from real_gsd import pooled_row

    # Two scenes (truth 10 and 30) at two offsets: one scene over by 2, the other under by 6.
    per_offset = [
        [_copy(10, 12, 9), _copy(30, 24, 24, low=20, high=28)],
        [_copy(10, 10, 10, methods=("pitch", "pitch")), _copy(30, 30, 28, methods=("fill",))],
    ]
    row = pooled_row("v1 yards", 0.75, per_offset, wide=True).split()
    assert row[:2] == ["v1", "yards"]
    assert float(row[2]) == 0.75
    assert int(row[3]) == 40  # the truth of one offset: the scenes' sum
    assert [int(x) for x in row[4:6]] == [36, 40]  # each offset's total count
    assert row[6] == "10%"  # (2 + 6 + 0 + 0) / 80: errors of copies, not of totals (36 + 40 = 76 is 5 %)
    assert row[7] == "-5%"
    assert row[11] == "3/4"  # the second scene's first copy (24, 20-28) misses its truth
    assert row[12:] == ["2", "/", "2", "/", "1"]  # gap (one each, first offset), pitch, fill


def test_the_control_counts_generated_yards_made_coarser(tmp_path):
    import json

    from accuracy import ensure_scene
    from real_gsd import control_scenes, control_table

    from railcount.detect.params import DetectorParams

    cache = tmp_path / "cache"
    (scene,) = control_scenes(1)
    tif, _ = ensure_scene("tuned", scene, str(cache), "v1")
    truth = json.loads(tif.with_suffix(".truth.json").read_text())["railcars"]
    assert json.loads(tif.with_suffix(".truth.json").read_text())["gsd_m"] == 0.3

    def rows(params):
        lines = list(
            control_table(params, [0.3, 1.0], tmp_path, [scene], phases=1, cache=str(cache), workers=1)
        )
        return [line.split() for line in lines if line.startswith("v1 yards")]

    (row,) = rows(None)  # 0.3 m is no coarser than the yards: one row, for 1.0 m
    assert float(row[2]) == 1.0 and int(row[3]) == truth
    assert 0.5 * truth < int(row[4]) < 1.5 * truth
    assert (tmp_path / f"v1_{tif.stem}_1m_0.tif").exists()
    # The detector's settings reach the control: keeping no candidate counts nothing.
    (none,) = rows(DetectorParams(min_car_probability=1.01, fill_gaps=False))
    assert int(none[4]) == 0 and none[5] == "100%"


def test_a_gsd_the_detector_refuses_is_a_usage_error_not_a_traceback(capsys):
    """The README's command for imagery coarser than 1.1 m crashed mid-table on 1.15 m once the
    detector refused such imagery (0.6.25); now it stops before anything is made, saying how to
    measure it anyway, and with the refusal lifted it is accepted."""
    with pytest.raises(SystemExit) as stop:
        main(["--gsds", "1.1,1.15"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--gsds 1.15 is coarser than the detector counts" in err and "--set max_gsd_m=10" in err
    assert "Traceback" not in err
