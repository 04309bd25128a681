"""Bad parts of a batch's SOURCE: files with no georeferencing. One bad part is recorded with its reason
and the rest are counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasterio import Affine

from railcount.cli import main
from railcount.store import read_counts

from ..geofixtures import plain_tif, write_tif


def _batch(station: Path, source: str | Path, db: Path) -> list[str]:
    return ["batch", "--station", str(station), "--scenes", str(source), "--db", str(db), "-w", "1"]


def _rows(db: Path) -> list[tuple[str, str, str | None]]:
    return [(Path(r["scene"]).name, r["status"], r["reason"]) for r in read_counts(db, detections=False)]


def test_files_with_no_georeferencing_are_failed_with_the_reason_count_gives(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenes"
    folder.mkdir()
    plain_tif(folder / "good_2022-01-01.tif", 1)
    pix = np.full((160, 240, 3), 120, np.uint8)
    no_transform = write_tif(folder / "no_transform_2022-01-02.tif", pix, transform=Affine.identity())
    no_crs = write_tif(folder / "no_crs_2022-01-03.tif", pix, crs=None)
    counted = {}
    for scene in (no_transform, no_crs):
        assert main(["count", str(scene), "--station", str(station)]) == 1
        (line,) = capsys.readouterr().err.strip().splitlines()
        counted[scene.name] = line.removeprefix("railcount: error: ")
    assert (
        "has no geotransform" in counted[no_transform.name]
        and "gdal_translate -a_ullr" in counted[no_transform.name]
    )
    assert "gdal_translate -a_srs" in counted[no_crs.name]
    db = tmp_path / "r.db"
    assert main(_batch(station, folder, db)) == 3
    failed = {name: reason for name, status, reason in _rows(db) if status == "failed"}
    assert failed == counted
