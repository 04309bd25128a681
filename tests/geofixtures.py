"""Helpers that write real GeoTIFFs and station GeoJSON for tests."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points

SHARED_REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SAMPLE_SCENE = SAMPLES / "tumangang_2023-10-05.tif"
"""The bundled sample the README's first command counts."""
SAMPLE_STATION = SAMPLES / "tumangang_station.geojson"

# A small UTM (EPSG:32652) grid near Tumangang: 0.5 m pixels.
UTM = "EPSG:32652"
ORIGIN = (634000.0, 4697000.0)  # upper-left corner, metres


def write_tif(
    path: Path,
    pixels: np.ndarray,
    *,
    crs: str | None = UTM,
    transform=None,
    nodata=None,
    tags: dict | None = None,
    **extra,
) -> Path:
    """Write (rows, cols, bands) pixels as a tiled GeoTIFF."""
    rows, cols, bands = pixels.shape
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        count=bands,
        dtype=pixels.dtype,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
    )
    if crs is not None:
        profile["crs"] = crs
        profile["transform"] = transform or from_origin(*ORIGIN, 0.5, 0.5)
    if nodata is not None:
        profile["nodata"] = nodata
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.moveaxis(pixels, -1, 0))
        if tags:
            ds.update_tags(**tags)
    return path


def lonlat_ring(crs: str, xs, ys) -> list[list[float]]:
    lon, lat = warp_points(crs, "EPSG:4326", list(xs), list(ys))
    ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
    return [*ring, ring[0]]


def write_station(path: Path, rings: dict[str, list[list[float]]]) -> Path:
    feats = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for name, ring in rings.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def box_ring(x0: float, y0: float, x1: float, y1: float, crs: str = UTM) -> list[list[float]]:
    """A lon/lat ring of a map-coordinate box."""
    return lonlat_ring(crs, [x0, x1, x1, x0], [y0, y0, y1, y1])


def untimed_copy(tif: Path, dest: Path) -> datetime:
    """Copy a written scene's pixels and georeferencing to ``dest`` with no tags (no acquisition time);
    return the time its TIFFTAG_DATETIME gave (UTC).

    Lossless (DEFLATE), so the copy reads back the very pixels the original decodes to (generated
    scenes are JPEG-compressed).
    """
    with rasterio.open(tif) as src:
        profile, pixels, tags = src.profile, src.read(), src.tags()
    profile.update(compress="deflate", photometric="rgb")
    with rasterio.open(dest, "w", **profile) as dst:
        dst.write(pixels)
    with rasterio.open(dest) as ds:
        assert "TIFFTAG_DATETIME" not in ds.tags() and np.array_equal(ds.read(), pixels)
    return datetime.strptime(tags["TIFFTAG_DATETIME"], "%Y:%m:%d %H:%M:%S").replace(tzinfo=timezone.utc)


def write_synth(folder: Path, **spec) -> tuple[dict[str, Path], Path]:
    """Generate a scene (keyword arguments of SceneSpec; Tumangang unless ``site`` says) into ``folder``.

    Returns the written scene paths and the station file.
    """
    from railcount.synth import SceneSpec, synthesize, write_scene, write_station

    spec.setdefault("site", "tumangang")
    scene = synthesize(SceneSpec(**spec))
    paths = write_scene(scene, folder)
    return paths, write_station(scene.site, folder)  # a generic yard's layout comes with its seed


def synth_window(folder: Path, **spec):
    """:func:`write_synth` into ``folder``, read back: the station's window and its true stock."""
    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_stock

    paths, station = write_synth(folder, **spec)
    (window,) = read_windows(paths["tif"], read_stations(station))
    return window, truth_stock(paths["truth_geojson"], window)


def muttenz_west_coarser(shared_real: Path, folder: Path, gsd_m: float):
    """Muttenz west made coarser to ``gsd_m`` as ``benchmarks/real_gsd.py`` makes it (area average,
    a 0.55 px blur), written in ``folder`` and read back: the station's window and its true stock."""
    import sys
    import warnings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from real_gsd import coarser

    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.io.truth import truth_stock

    muttenz = shared_real / "muttenz"
    copy = coarser(muttenz / "muttenz_2018.tif", gsd_m, 0.55, folder / f"muttenz_{gsd_m:g}m.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (window,) = read_windows(copy, read_stations(muttenz / "station_west.geojson"))
    return window, truth_stock(muttenz / "truth_west.geojson", window)


def found_railcars(window, truth, params=None) -> tuple[int, int]:
    """Detect in ``window``: (true railcars matched, railcars counted), a match within 7.5 m. The
    detector's warnings are ignored: these yards are drawn to be what they warn of."""
    import warnings

    from railcount.detect.detector import detect
    from railcount.evaluate import match_pairs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dets = detect(window, params)
    cars = dets.subset(dets.kind != "locomotive")
    return len(match_pairs(cars.center, truth.cars, 7.5 / window.gsd_m)), len(cars)


def plain_tif(path: Path, seed: int, tags: dict | None = None, *, shift_m: float = 0.0) -> Path:
    """A small (160 x 240 px, 80 x 120 m) noisy grey scene; distinct content per seed."""
    rng = np.random.default_rng(seed)
    pix = np.clip(120 + rng.normal(0, 6, (160, 240, 3)), 0, 255).astype(np.uint8)
    return write_tif(path, pix, tags=tags, transform=from_origin(ORIGIN[0] + shift_m, ORIGIN[1], 0.5, 0.5))


def split_scene(scene: Path, folder: Path, cols: int, *, names: str = "R1C{}", **tags: str) -> list[Path]:
    """``scene`` cut into ``cols`` tiles side by side, as a provider delivers a large scene, written
    losslessly (DEFLATE) with the scene's tags, and ``tags`` over them, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(scene) as ds:
        pix, t, crs, kept = ds.read(), ds.transform, ds.crs, ds.tags()
    edges = np.linspace(0, pix.shape[2], cols + 1).astype(int)
    out = []
    for i in range(cols):
        part = np.moveaxis(pix[:, :, edges[i] : edges[i + 1]], 0, -1)
        wt = t * rasterio.Affine.translation(int(edges[i]), 0)
        name = folder / f"{names.format(i + 1)}.tif"
        out.append(write_tif(name, part, crs=crs, transform=wt, tags={**kept, **tags}))
    return out


def rotated(pix: np.ndarray, t, crs, **warp) -> tuple[np.ndarray, rasterio.Affine]:
    """(bands, rows, cols) pixels resampled onto their grid turned by 20 degrees about its centre, and
    that rotated transform (``warp``: more of ``rasterio.warp.reproject``'s arguments)."""
    from rasterio import Affine
    from rasterio.warp import reproject

    cx, cy = t * (pix.shape[2] / 2, pix.shape[1] / 2)
    rot = Affine.translation(cx, cy) * Affine.rotation(20) * Affine.translation(-cx, -cy) * t
    out = np.zeros_like(pix)
    reproject(pix, out, src_transform=t, src_crs=crs, dst_transform=rot, dst_crs=crs, **warp)
    return out, rot


def stac_item(item_id: str, when: str, ring: list, asset: str, links: list | None = None, **more) -> dict:
    """A STAC Item (a GeoJSON Feature) of one ``visual`` GeoTIFF asset over ``ring`` (lon/lat), taken at
    ``when``; ``more`` are further top-level members (``collection="ard"``)."""
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "properties": {"datetime": when},
        "links": links or [],
        "assets": {"visual": {"href": asset, "type": "image/tiff; application=geotiff"}},
        **more,
    }


def tile_items(tiles: list[Path], when: str, href=str) -> list[dict]:
    """One STAC item per tile of collection ``ard``, all taken at ``when``, each over its tile's lon/lat
    bounds, with ``href(tile)`` for its asset: a delivery cut into a grid of tiles, an item each."""
    from rasterio.warp import transform_bounds

    items = []
    for k, tile in enumerate(tiles):
        with rasterio.open(tile) as ds:
            w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        items.append(stac_item(f"t{k}", when, ring, href(tile), collection="ard"))
    return items


def resampled(scene: Path, factor: float, resampling: Resampling) -> tuple[np.ndarray, dict, dict]:
    """A scene read onto pixels ``factor`` times as large (same ground, same corner): its (bands, rows,
    cols) pixels, the profile to write them with and its tags."""
    with rasterio.open(scene) as ds:
        width, height = round(ds.width / factor), round(ds.height / factor)
        pix = ds.read(out_shape=(ds.count, height, width), resampling=resampling)
        t = ds.transform * ds.transform.scale(ds.width / width, ds.height / height)
        return pix, {**ds.profile, "width": width, "height": height, "transform": t}, ds.tags()


def write_resampled(path: Path, scene: Path, factor: float, resampling: Resampling) -> Path:
    """:func:`resampled` written to ``path`` by rasterio, with the scene's profile and tags."""
    pixels, profile, tags = resampled(scene, factor, resampling)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pixels)
        dst.update_tags(**tags)
    return path


def array_window(pixels: np.ndarray, gsd: float = 0.5):
    """A :class:`~railcount.models.SceneWindow` of ``pixels`` (rows, cols, bands) that are all data and
    all inside the station: a UTM grid of ``gsd`` m pixels, north up, no file behind it."""
    from affine import Affine
    from rasterio.crs import CRS
    from shapely.geometry import box

    from railcount.models import SceneWindow, Station

    rows, cols = pixels.shape[:2]
    return SceneWindow(
        pixels,
        np.ones((rows, cols), bool),
        np.ones((rows, cols), bool),
        Affine(gsd, 0, 500000, 0, -gsd, 4700000),
        CRS.from_epsg(32652),
        gsd,
        "s",
        Station("s", box(0, 0, 1, 1)),
    )
