"""Shared fixtures: real GeoTIFFs and station files written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .geofixtures import (
    ORIGIN,
    SAMPLE_SCENE,
    SAMPLE_STATION,
    SHARED_REAL,
    box_ring,
    write_station,
    write_tif,
)


@pytest.fixture
def plain_scene(tmp_path: Path) -> Path:
    """A 400 x 600 px (200 x 300 m) grey uint8 scene with mild noise, dated in its tags."""
    rng = np.random.default_rng(0)
    pix = np.clip(120 + rng.normal(0, 6, (400, 600, 3)), 0, 255).astype(np.uint8)
    return write_tif(tmp_path / "plain_2022-05-01.tif", pix, tags={"TIFFTAG_DATETIME": "2022:05:01 02:30:00"})


@pytest.fixture
def inner_station(tmp_path: Path) -> Path:
    """A station covering the middle of ``plain_scene``."""
    x0, y0 = ORIGIN
    return write_station(
        tmp_path / "station.geojson", {"Inner": box_ring(x0 + 50, y0 - 150, x0 + 250, y0 - 50)}
    )


@pytest.fixture(scope="session")
def counted_sample():
    """The bundled 2023-10-05 sample counted once for the session (a
    :class:`~railcount.pipeline.StationCount`; a test that changes it makes its own copy with
    :func:`dataclasses.replace`)."""
    from railcount.io.stations import read_stations
    from railcount.pipeline import count_scene

    (one,) = count_scene(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    return one


@pytest.fixture
def shared_real() -> Path:
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real scenes not available ({SHARED_REAL} is absent)")
    return SHARED_REAL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run test_helper.py first: a count's second process is forked only while no other thread runs,
    and the Dask tests leave distributed's event-loop thread running for the rest of the session."""
    items.sort(key=lambda item: item.path.name != "test_helper.py")
