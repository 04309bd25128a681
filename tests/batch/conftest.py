"""Fixtures for the batch tests: small dated scenes and a station inside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..geofixtures import ORIGIN, box_ring, plain_tif, write_station


@pytest.fixture
def station(tmp_path: Path) -> Path:
    """A 60 x 40 m station inside every :func:`plain_tif` scene."""
    x0, y0 = ORIGIN
    return write_station(
        tmp_path / "station.geojson", {"Inner": box_ring(x0 + 30, y0 - 60, x0 + 90, y0 - 20)}
    )


@pytest.fixture
def scenes(tmp_path: Path) -> Path:
    """Three dated scenes, one dated only in its tags, in nested folders."""
    folder = tmp_path / "scenes"
    (folder / "2022").mkdir(parents=True)
    plain_tif(folder / "a_2021-05-01.tif", 1)
    plain_tif(folder / "2022" / "b_2022-02-03.tif", 2)
    plain_tif(folder / "2022" / "c.tif", 3, {"TIFFTAG_DATETIME": "2022:07:09 03:04:05"})
    return folder
