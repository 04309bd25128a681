"""Fixtures for the batch tests: small dated scenes and a station inside them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
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


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP (with range requests) by a separate process on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parents[1] / "rangeserver.py"), str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield root, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
