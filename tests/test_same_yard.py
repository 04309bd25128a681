"""Same yard, same count: the bundled samples resampled, reprojected, or converted to 16-bit or
panchromatic count within the original's interval (railcars_low..railcars_high)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.vrt import WarpedVRT
from rasterio.warp import Resampling, calculate_default_transform, reproject

from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import resampled

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
STATION = SAMPLES / "tumangang_station.geojson"


def _count(scene: Path):
    return count_scene(scene, read_stations(STATION))[0].result


@pytest.fixture(scope="module")
def reference():
    """Counts of the two samples the variants are made from, computed once."""
    return {d: _count(SAMPLES / f"tumangang_{d}.tif") for d in ("2022-08-30", "2023-10-05")}


def _save(path: Path, pix: np.ndarray, profile: dict, tags: dict, **extra) -> Path:
    profile = {**profile, "count": pix.shape[0], "dtype": pix.dtype, "compress": "deflate", **extra}
    profile.pop("photometric", None)
    profile.pop("nodata", None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pix)
        dst.update_tags(**tags)
    return path


def _within(got, ref) -> None:
    assert ref.railcars_low <= got.railcars <= ref.railcars_high, (got.railcars, ref)
    assert got.observed_fraction > 0.97


def test_resampled_from_0_3_to_0_5_m(tmp_path, reference):
    ref = reference["2022-08-30"]
    pix, profile, tags = resampled(SAMPLES / "tumangang_2022-08-30.tif", 0.5 / ref.gsd_m, Resampling.average)
    got = _count(_save(tmp_path / "coarse.tif", pix, profile, tags))
    assert got.gsd_m == pytest.approx(0.5, rel=0.02)
    _within(got, ref)


@pytest.mark.parametrize("dst_crs", ["EPSG:4326", "EPSG:3857", "EPSG:32652"])
def test_reprojected(tmp_path, reference, dst_crs):
    """2023-10-05 (UTM 52N) warped to lon/lat or Web Mercator; 2022-08-30 (Web Mercator) to UTM."""
    date = "2022-08-30" if dst_crs == "EPSG:32652" else "2023-10-05"
    ref = reference[date]
    with rasterio.open(SAMPLES / f"tumangang_{date}.tif") as ds:
        t, w, h = calculate_default_transform(ds.crs, dst_crs, ds.width, ds.height, *ds.bounds)
        with WarpedVRT(
            ds, crs=dst_crs, transform=t, width=w, height=h, resampling=Resampling.bilinear
        ) as vrt:
            pix = vrt.read()
        profile = {**ds.profile, "crs": dst_crs, "transform": t, "width": w, "height": h}
        tags = ds.tags()
    got = _count(_save(tmp_path / "warped.tif", pix, profile, tags))
    assert got.gsd_m == pytest.approx(ref.gsd_m, rel=0.08)
    _within(got, ref)


@pytest.mark.parametrize("bits", [11, 16])
def test_sixteen_bit(tmp_path, reference, bits):
    ref = reference["2023-10-05"]
    with rasterio.open(SAMPLES / "tumangang_2023-10-05.tif") as ds:
        pix, profile, tags = ds.read(), ds.profile, ds.tags()
    scaled = np.round(pix.astype(np.float64) * (2**bits - 1) / 255).astype(np.uint16)
    extra = {"nbits": bits} if bits < 16 else {}
    scene = _save(tmp_path / f"u{bits}.tif", scaled, profile, tags, **extra)
    got = _count(scene)
    _within(got, ref)


def test_panchromatic(tmp_path, reference):
    ref = reference["2023-10-05"]
    with rasterio.open(SAMPLES / "tumangang_2023-10-05.tif") as ds:
        pix, profile, tags = ds.read().astype(np.float32), ds.profile, ds.tags()
    pan = (0.299 * pix[0] + 0.587 * pix[1] + 0.114 * pix[2])[None].round().astype(np.uint8)
    got = _count(_save(tmp_path / "pan.tif", pan, profile, tags))
    _within(got, ref)


def test_resampled_reprojected_and_panchromatic_together(tmp_path, reference):
    """All three at once, 16-bit too: a different product of the same yard."""
    ref = reference["2022-08-30"]
    with rasterio.open(SAMPLES / "tumangang_2022-08-30.tif") as ds:
        t, w, h = calculate_default_transform(
            ds.crs, "EPSG:32652", ds.width, ds.height, *ds.bounds, resolution=0.5
        )
        pix = np.zeros((3, h, w), np.uint8)
        reproject(
            ds.read(),
            pix,
            src_transform=ds.transform,
            src_crs=ds.crs,
            dst_transform=t,
            dst_crs="EPSG:32652",
            resampling=Resampling.average,
        )
        profile = {**ds.profile, "crs": "EPSG:32652", "transform": t, "width": w, "height": h}
        tags = ds.tags()
    pan = (pix.astype(np.float32).mean(axis=0, keepdims=True) * 4).round().astype(np.uint16)
    got = _count(_save(tmp_path / "product.tif", pan, profile, tags, nbits=10))
    assert got.gsd_m == pytest.approx(0.5, rel=0.02)
    _within(got, ref)
