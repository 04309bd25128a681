"""Remote scenes: a Cloud-Optimized GeoTIFF read over HTTP from a real server on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.shutil import copy as copy_raster

from railcount.cli import main
from railcount.io.gdalenv import REMOTE_DEFAULTS, gdal_options
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .rangeserver import held_server, range_server

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


@pytest.fixture(scope="module")
def cog(tmp_path_factory) -> Path:
    """A 3 x 3 mosaic of the 2023-10-05 sample as a tiled JPEG COG; the yard is the middle copy.

    The station covers about a ninth of the file, so a window read should fetch a small share of it.
    """
    folder = tmp_path_factory.mktemp("cog")
    with rasterio.open(SCENE) as ds:
        pix, profile, t, tags = ds.read(), ds.profile, ds.transform, ds.tags()
        width, height = ds.width, ds.height
    big = np.tile(pix, (1, 3, 3))
    shifted = Affine(t.a, 0.0, t.c - width * t.a, 0.0, t.e, t.f - height * t.e)
    profile.update(width=big.shape[2], height=big.shape[1], transform=shifted, compress="deflate")
    profile.pop("photometric", None)
    plain = folder / "plain.tif"
    with rasterio.open(plain, "w", **profile) as dst:
        dst.write(big)
        dst.update_tags(**tags)
    out = folder / "scene_2023-10-05.tif"
    copy_raster(plain, out, driver="COG", compress="JPEG", blocksize=256, quality=90)
    plain.unlink()
    return out


def test_remote_cog_reads_only_the_window_and_counts_as_the_local_file(cog):
    stations = read_stations(STATION)
    local = count_scene(cog, stations)[0].result
    with range_server(cog.parent) as (url, served):
        remote = count_scene(f"{url}/{cog.name}", stations)[0].result
    size = cog.stat().st_size
    assert served.requests >= 2  # the header, then tiles
    assert all(r.startswith("bytes=") for r in served.ranges), served.ranges
    # The station's window is about a ninth of the scene (plus a 25 m margin and the header).
    assert served.bytes_sent < 0.25 * size, (served.bytes_sent, size)
    assert remote.railcars == local.railcars and remote.railcars > 0
    assert (remote.railcars_low, remote.railcars_high) == (local.railcars_low, local.railcars_high)
    assert remote.scene.startswith("http://127.0.0.1")
    # GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR: no listing of the "directory", no side-car probes.
    assert set(served.paths) == {f"/{cog.name}"}, served.paths
    assert remote.acquired == local.acquired  # the date comes from the file's tags, over HTTP too


def test_remote_window_pixels_equal_local_with_or_without_an_extension(cog):
    stations = read_stations(STATION)
    (lw,) = read_windows(cog, stations)
    bare = cog.with_name("download")  # e.g. https://host/download?id=5
    bare.write_bytes(cog.read_bytes())
    with range_server(cog.parent) as (url, _):
        (rw,) = read_windows(f"{url}/{cog.name}?token=abc", stations)
        (bw,) = read_windows(f"{url}/download?id=5", stations)
    for w in (rw, bw):
        np.testing.assert_array_equal(lw.pixels, w.pixels)
        assert lw.transform == w.transform


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_url_is_one_line_exit_1(capsys):
    url = f"http://127.0.0.1:{_closed_port()}/scene.tif"
    assert main(["count", url, "--station", str(STATION)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert url in err and "check the URL" in err


def test_missing_remote_file_is_one_line_exit_1(cog, capsys):
    with range_server(cog.parent) as (url, _):
        code = main(["count", f"{url}/absent.tif", "--station", str(STATION)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "absent.tif" in err


def test_gdal_remote_defaults_yield_to_the_environment(monkeypatch):
    monkeypatch.delenv("GDAL_HTTP_TIMEOUT", raising=False)
    assert gdal_options(remote=True)["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"
    assert gdal_options(remote=True)["GDAL_HTTP_TIMEOUT"] == REMOTE_DEFAULTS["GDAL_HTTP_TIMEOUT"]
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "5")
    assert "GDAL_HTTP_TIMEOUT" not in gdal_options(remote=True)
    assert gdal_options(remote=False) == {}
    with_ext = gdal_options(remote=True, names=["https://h/a.tif?sig=1"])
    assert "CPL_VSIL_CURL_ALLOWED_EXTENSIONS" in with_ext
    assert "CPL_VSIL_CURL_ALLOWED_EXTENSIONS" not in gdal_options(remote=True, names=["https://h/get?id=5"])


def test_remote_tiles_read_as_one_mosaic(tmp_path):
    """Two tiles of the sample served over HTTP count as the local whole scene."""
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    with rasterio.open(SCENE) as ds:
        pix, profile, t, tags = ds.read(), ds.profile, ds.transform, ds.tags()
    profile.pop("photometric", None)
    half = pix.shape[2] // 2
    names = []
    for i, (c0, c1) in enumerate([(0, half), (half, pix.shape[2])]):
        win = Window(c0, 0, c1 - c0, pix.shape[1])
        part = profile | {"width": c1 - c0, "transform": window_transform(win, t), "compress": "deflate"}
        with rasterio.open(tmp_path / f"tile{i}.tif", "w", **part) as dst:
            dst.write(pix[:, :, c0:c1])
            dst.update_tags(**tags)
        names.append(f"tile{i}.tif")
    stations = read_stations(STATION)
    whole = count_scene(SCENE, stations)[0].result
    with range_server(tmp_path) as (url, served):
        got = count_scene([f"{url}/{n}" for n in names], stations)[0].result
    assert served.requests >= 2
    assert got.railcars == whole.railcars and got.by_type == whole.by_type
    assert got.acquired == whole.acquired


@pytest.mark.parametrize(
    ("url", "gdal_name"),
    [
        ("https://host/a/t.tif?x=1", "/vsicurl/https://host/a/t.tif?x=1"),
        ("s3://bucket/a/t.tif", "/vsis3/bucket/a/t.tif"),
        ("gs://bucket/t.tif", "/vsigs/bucket/t.tif"),
        ("az://container/t.tif", "/vsiaz/container/t.tif"),
        ("oss://bucket/t.tif", "/vsioss/bucket/t.tif"),
        ("/vsigs/bucket/t.tif", "/vsigs/bucket/t.tif"),
    ],
)
def test_urls_named_as_gdal_opens_them_in_a_mosaic(url, gdal_name):
    # A VRT's tiles are opened by GDAL itself, which knows only its /vsi names.
    from railcount.io.gdalenv import is_remote
    from railcount.io.mosaic import gdal_path

    assert gdal_path(url) == gdal_name
    assert is_remote(url) and is_remote(gdal_name)


def test_remote_image_in_pixel_space_asks_only_for_its_file(tmp_path):
    from railcount.io.pixelspace import read_image

    from .geofixtures import write_tif

    rng = np.random.default_rng(5)
    pix = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    write_tif(tmp_path / "photo.tif", pix, crs=None)
    with range_server(tmp_path) as (url, served):
        w = read_image(f"{url}/photo.tif", gsd_m=0.5)
    np.testing.assert_array_equal(w.pixels, pix)
    # The remote settings apply here too: no directory listing, no side-car probes.
    assert set(served.paths) == {"/photo.tif"}, served.paths


def test_a_server_that_takes_the_connection_and_never_answers_is_given_up_on(monkeypatch, capsys):
    """A real socket on 127.0.0.1 that accepts and then says nothing: the count gives up in one line.
    By default after 20 s without a byte (GDAL_HTTP_LOW_SPEED_TIME), and a minute with the retries;
    before, the 60 s timeout and its two retries held the count silent for three minutes. The test
    shortens the wait through the environment, which wins over railcount's defaults."""
    import time

    assert int(REMOTE_DEFAULTS["GDAL_HTTP_LOW_SPEED_TIME"]) <= 30
    monkeypatch.setenv("GDAL_HTTP_LOW_SPEED_TIME", "2")
    monkeypatch.setenv("GDAL_HTTP_MAX_RETRY", "0")
    start = time.monotonic()
    with held_server() as port:
        code = main(["count", f"http://127.0.0.1:{port}/stalled_2023-10-05.tif", "--station", str(STATION)])
    assert code == 1 and time.monotonic() - start < 30
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "stalled_2023-10-05.tif" in err and "Traceback" not in err


def test_a_server_without_range_requests_is_named_as_such(tmp_path, capsys):
    """Python's own file server answers whole files only: said so, with what to do, not 'check the
    network'."""
    import functools
    import shutil
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    shutil.copy(SCENE, tmp_path / SCENE.name)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # GDAL hangs up once it sees no range support: the server's broken pipe is not ours

    server = QuietServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{SCENE.name}"
        assert main(["count", url, "--station", str(STATION)]) == 1
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not answer range requests" in err
    assert "download the file" in err
