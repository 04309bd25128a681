"""Products the loader takes: band layouts, data types, masks, rotated grids and tiled mosaics."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.warp import Resampling
from rasterio.windows import Window

from railcount.cli import main
from railcount.errors import BandOrderWarning, NegativeValuesWarning, SceneReadError, UsageError
from railcount.io.bands import parse_bands
from railcount.io.mosaic import mosaic_vrt
from railcount.io.scenes import open_file, read_windows
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import ORIGIN, rotated, write_tif

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


@pytest.fixture(scope="module")
def sample():
    """The 2023-10-05 sample's pixels (bands, rows, cols), transform, CRS, tags and its count."""
    with rasterio.open(SCENE) as ds:
        pix, t, crs, tags = ds.read(), ds.transform, ds.crs, ds.tags()
    result = count_scene(SCENE, read_stations(STATION))[0].result
    return pix, t, crs, tags, result


def _write(path: Path, pix: np.ndarray, t, crs, tags, **extra) -> Path:
    """``pix`` (bands, rows, cols) written as a tiled GeoTIFF on ``t`` and ``crs``, with ``tags``."""
    return write_tif(path, np.moveaxis(pix, 0, -1), crs=crs, transform=t, tags=tags, **extra)


def _count(scene, **kw):
    return count_scene(scene, read_stations(STATION), **kw)[0].result


def test_bgrn_by_description_and_by_bands_option_count_as_rgb(tmp_path, sample, capsys):
    pix, t, crs, tags, ref = sample
    bgrn = np.stack([pix[2], pix[1], pix[0], pix[1]]).astype(np.uint16) * 8  # 11-bit-like
    named = _write(tmp_path / "named.tif", bgrn, t, crs, tags)
    with rasterio.open(named, "r+") as ds:
        ds.descriptions = ("Blue", "Green", "Red", "NIR")
        ds.colorinterp = [ColorInterp.undefined] * 4
    (w,) = read_windows(named, read_stations(STATION))
    with rasterio.open(named) as ds:
        assert list(ds.colorinterp) == [ColorInterp.gray] + [ColorInterp.undefined] * 3
    # The window's bands are red, green, blue: the file's bands 3, 2, 1.
    rgb = _write(tmp_path / "rgb.tif", bgrn[[2, 1, 0]], t, crs, tags)
    (w_rgb,) = read_windows(rgb, read_stations(STATION))
    np.testing.assert_array_equal(w.pixels, w_rgb.pixels)
    same = _count(rgb)
    assert _count(named).railcars == same.railcars
    assert ref.railcars_low <= same.railcars <= ref.railcars_high  # 16 bit or 8 bit: the same yard
    # Without names the first three bands (B, G, R) are taken, with a warning; --bands puts them right.
    anonymous = _write(tmp_path / "anon.tif", bgrn, t, crs, tags)
    with pytest.warns(BandOrderWarning, match=r"anon\.tif: its 4 bands carry no colour names.*--bands 3,2,1"):
        (w_first3,) = read_windows(anonymous, read_stations(STATION))
    assert w_first3.bands == (1, 2, 3)
    (w_chosen,) = read_windows(anonymous, read_stations(STATION), bands=(3, 2, 1))
    assert w_chosen.bands == (3, 2, 1)
    assert not np.array_equal(w_first3.pixels, w_rgb.pixels)
    np.testing.assert_array_equal(w_chosen.pixels, w_rgb.pixels)
    assert main(["count", str(anonymous), "-s", str(STATION), "--bands", "3,2,1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["railcars"] == same.railcars and out["bands"] == [3, 2, 1]


def test_a_four_band_file_without_colour_names_is_warned_of_and_its_types_follow_the_bands(
    tmp_path, sample, capsys
):
    """The cars' types are read from their colours: blue read as red turns the sample's tank cars
    into open ones. The first three bands are read (as before), with one warning line naming the
    file and the way out; with --bands 3,2,1 the 16-bit BGRN copy counts exactly as the 8-bit file,
    types and all, and count.json says which bands were read."""
    pix, t, crs, tags, ref = sample
    bgrn = np.stack([pix[2], pix[1], pix[0], pix[1]]).astype(np.uint16) * 8
    anonymous = _write(tmp_path / "bgrn.tif", bgrn, t, crs, tags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BandOrderWarning)  # the command line prints it; checked below
        assert main(["count", str(anonymous), "-s", str(STATION), "--json"]) == 0
    captured = capsys.readouterr()
    guessed = json.loads(captured.out)
    assert guessed["bands"] == [1, 2, 3] and guessed["bands_guessed"] is True
    assert guessed["by_type"] != ref.by_type
    assert main(["count", str(anonymous), "-s", str(STATION), "--bands", "3,2,1", "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert chosen["bands"] == [3, 2, 1] and chosen["bands_guessed"] is False
    assert (chosen["railcars"], chosen["railcars_low"], chosen["railcars_high"], chosen["by_type"]) == (
        ref.railcars,
        ref.railcars_low,
        ref.railcars_high,
        ref.by_type,
    )
    # A three-band file without names, and a named four-band one, are read without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)
        read_windows(_write(tmp_path / "rgb_anon.tif", pix, t, crs, tags), read_stations(STATION))
        named = _write(tmp_path / "named.tif", bgrn, t, crs, tags)
        with rasterio.open(named, "r+") as ds:
            ds.descriptions = ("blue", "green", "red", "nir")
        (w,) = read_windows(named, read_stations(STATION))
    assert w.bands == (3, 2, 1)


@pytest.mark.parametrize(
    ("name", "scale", "dtype", "nbits"),
    [
        ("8-bit values in 16 bits", 1, np.uint16, None),
        ("11-bit values without NBITS", 8, np.uint16, None),
        ("11-bit values with NBITS", 8, np.uint16, 11),
        ("8-bit values as float", 1, np.float32, None),
    ],
)
def test_the_same_pixels_in_another_container_count_the_same(tmp_path, sample, name, scale, dtype, nbits):
    """Zero stays zero: the detector reads shadows as fractions of the sunlit level, so a 16-bit
    file without NBITS must not have its darkest pixel subtracted (it was, until 0.6.22: the sample
    stored in 16 bits counted 70 where the 8-bit file counts 67)."""
    pix, t, crs, tags, ref = sample
    extra = {"nbits": nbits} if nbits else {}
    scene = _write(tmp_path / "copy.tif", pix.astype(dtype) * dtype(scale), t, crs, tags, **extra)
    (w,) = read_windows(scene, read_stations(STATION))
    assert w.value_range == ((0.0, 255.0) if scale == 1 else (0.0, 2047.0)), name
    got = _count(scene)
    assert (got.railcars, got.railcars_low, got.railcars_high, got.by_type) == (
        ref.railcars,
        ref.railcars_low,
        ref.railcars_high,
        ref.by_type,
    ), name


def test_a_window_s_darkest_value_is_not_its_zero(tmp_path, sample):
    """A 16-bit window whose darkest pixel is far above zero keeps zero as zero, and one whose
    values need 12 bits is read on 12 bits."""
    pix, t, crs, tags, _ = sample
    lifted = _write(tmp_path / "lifted.tif", pix.astype(np.uint16) * 12 + 400, t, crs, tags)
    (w,) = read_windows(lifted, read_stations(STATION))
    assert int(w.pixels.min()) >= 400
    assert w.value_range == (0.0, 4095.0)


@pytest.mark.parametrize("text", ["3,2", "0,1,2", "red", "1,2,3,4"])
def test_bad_bands_option_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--bands"):
        parse_bands(text)


def test_bands_beyond_the_file_exit_2(capsys):
    assert main(["count", str(SCENE), "-s", str(STATION), "--bands", "4,2,1"]) == 2
    err = capsys.readouterr().err
    assert "has 3 bands" in err and len(err.strip().splitlines()) == 1


def test_only_an_alpha_band_exits_1_with_the_way_out(tmp_path, plain_scene, inner_station, capsys):
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read([1]), ds.transform, ds.crs
    scene = _write(tmp_path / "alpha_only.tif", pix, t, crs, {})
    with rasterio.open(scene, "r+") as ds:
        ds.colorinterp = [ColorInterp.alpha]
    assert main(["count", str(scene), "-s", str(inner_station)]) == 1
    err = capsys.readouterr().err
    assert "alpha_only.tif: every band is an alpha" in err and len(err.strip().splitlines()) == 1
    assert main(["count", str(scene), "-s", str(inner_station), "--bands", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["observed_fraction"] > 0.99


def test_float32_reflectance_and_panchromatic(tmp_path, sample):
    pix, t, crs, tags, ref = sample
    refl = _write(tmp_path / "refl.tif", (pix / 255.0).astype(np.float32), t, crs, tags)
    (w,) = read_windows(refl, read_stations(STATION))
    assert w.pixels.dtype == np.float32 and w.value_range == (0.0, 1.0)
    assert ref.railcars_low <= _count(refl).railcars <= ref.railcars_high
    pan = _write(tmp_path / "pan.tif", pix.mean(axis=0, keepdims=True).astype(np.uint8), t, crs, tags)
    (w,) = read_windows(pan, read_stations(STATION))
    assert w.pixels.shape[2] == 1
    assert ref.railcars_low <= _count(pan).railcars <= ref.railcars_high


def test_float_nan_is_not_data(tmp_path, plain_scene, inner_station):
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read().astype(np.float32), ds.transform, ds.crs
    pix[:, :, :200] = np.nan  # the station's first quarter (columns 100-199 of 100-499)
    scene = _write(tmp_path / "nan.tif", pix, t, crs, {})
    (w,) = read_windows(scene, read_stations(inner_station), margin_m=0.0)
    assert w.observed_fraction == pytest.approx(0.75, abs=0.01)
    assert np.isfinite(w.pixels).all()


def test_alpha_band_and_internal_mask_are_masks(tmp_path, plain_scene, inner_station):
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read(), ds.transform, ds.crs
    alpha = np.full((1, *pix.shape[1:]), 255, np.uint8)
    alpha[:, :, :200] = 0
    rgba = _write(tmp_path / "rgba.tif", np.concatenate([pix, alpha]), t, crs, {})
    with rasterio.open(rgba, "r+") as ds:
        ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    (w,) = read_windows(rgba, read_stations(inner_station), margin_m=0.0)
    assert w.pixels.shape[2] == 3
    assert w.observed_fraction == pytest.approx(0.75, abs=0.01)
    masked = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        _write(masked, pix, t, crs, {})
        with rasterio.open(masked, "r+") as ds:
            ds.write_mask(alpha[0])
    (w,) = read_windows(masked, read_stations(inner_station), margin_m=0.0)
    assert w.observed_fraction == pytest.approx(0.75, abs=0.01)


def test_rotated_geotransform_is_warped_north_up(tmp_path, sample):
    """The sample resampled onto a grid rotated by 20 degrees counts within the original's interval."""
    pix, t, crs, tags, ref = sample
    out, rot = rotated(pix, t, crs, resampling=Resampling.bilinear)
    scene = _write(tmp_path / "rotated.tif", out, rot, crs, tags)
    with rasterio.open(scene) as ds:
        assert ds.transform.b != 0  # really rotated
    (w,) = read_windows(scene, read_stations(STATION))
    assert w.transform.b == 0 and w.gsd_m == pytest.approx(0.5, rel=0.05)
    got = _count(scene)
    assert 0.9 <= got.observed_fraction <= 1.0
    assert ref.railcars_low <= got.railcars <= ref.railcars_high


def test_rotated_file_with_its_own_alpha_band(tmp_path, plain_scene, inner_station):
    """A rotated RGBA file opens (its alpha is warped with it, none added) and its alpha stays a mask."""
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read(), ds.transform, ds.crs
    alpha = np.full((1, *pix.shape[1:]), 255, np.uint8)
    alpha[:, :, :200] = 0  # the station's first quarter (columns 100-199 of 100-499)
    out, rot = rotated(np.concatenate([pix, alpha]), t, crs)
    rgba = _write(tmp_path / "rot_rgba.tif", out, rot, crs, {}, photometric="RGB", alpha="YES")
    (w,) = read_windows(rgba, read_stations(inner_station), margin_m=0.0)
    assert w.transform.b == 0 and w.pixels.shape[2] == 3
    assert w.observed_fraction == pytest.approx(0.75, abs=0.03)


def _split(folder: Path, pix, t, crs, tags, rows: int, cols: int) -> list[Path]:
    folder.mkdir()
    h, w = pix.shape[1], pix.shape[2]
    rs = np.linspace(0, h, rows + 1).astype(int)
    cs = np.linspace(0, w, cols + 1).astype(int)
    paths = []
    for i in range(rows):
        for j in range(cols):
            win = Window(cs[j], rs[i], cs[j + 1] - cs[j], rs[i + 1] - rs[i])
            part = pix[:, rs[i] : rs[i + 1], cs[j] : cs[j + 1]]
            wt = rasterio.windows.transform(win, t)
            paths.append(_write(folder / f"tile_{i}{j}.tif", part, wt, crs, tags))
    return paths


@pytest.mark.parametrize("grid", [(1, 2), (2, 2)])
def test_tiles_count_as_the_whole_scene(tmp_path, sample, grid):
    pix, t, crs, tags, _ = sample
    whole = _count(_write(tmp_path / "whole.tif", pix, t, crs, tags))
    tiles = _split(tmp_path / "tiles", pix, t, crs, tags, *grid)
    as_list = _count(tiles)
    as_dir = _count(tmp_path / "tiles")
    for got in (as_list, as_dir):
        assert got.railcars == whole.railcars
        assert got.by_type == whole.by_type
        assert got.observed_fraction == pytest.approx(whole.observed_fraction)
        assert got.acquired == whole.acquired
    vrt = tmp_path / "tiles.vrt"
    vrt.write_text(mosaic_vrt([str(p) for p in tiles], open_tile=open_file))
    assert _count(vrt).railcars == whole.railcars


def test_tiles_with_a_gap_lower_the_observed_fraction(tmp_path, plain_scene, inner_station):
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read(), ds.transform, ds.crs
    tiles = _split(tmp_path / "tiles", pix, t, crs, {}, 1, 3)
    (w,) = read_windows(tiles[:1] + tiles[2:], read_stations(inner_station), margin_m=0.0)
    # The middle third (columns 200-399) is missing: half of the station (columns 100-499).
    assert w.observed_fraction == pytest.approx(0.5, abs=0.01)


def test_a_tile_whose_link_is_broken_is_refused_not_left_out(tmp_path, plain_scene, inner_station):
    # A folder of links to tiles on a drive that is not mounted: counting the tiles that are there
    # would leave the missing tile's ground out; the count is refused with a line that says why.
    with rasterio.open(plain_scene) as ds:
        pix, t, crs = ds.read(), ds.transform, ds.crs
    tiles = _split(tmp_path / "tiles", pix, t, crs, {}, 1, 2)
    gone = tmp_path / "unmounted" / "tile_01.tif"
    tiles[1].unlink()
    tiles[1].symlink_to(gone)
    with pytest.raises(SceneReadError, match=f"a link to {re.escape(str(gone))}, which is not there"):
        read_windows(tmp_path / "tiles", read_stations(inner_station))


def test_tiles_of_different_products_are_refused(tmp_path, inner_station):
    a = write_tif(tmp_path / "a.tif", np.full((100, 100, 3), 9, np.uint8))
    b = write_tif(
        tmp_path / "b.tif",
        np.full((100, 100, 3), 9, np.uint8),
        crs="EPSG:32653",
        transform=Affine(0.5, 0, ORIGIN[0] + 50, 0, -0.5, ORIGIN[1]),
    )
    c = write_tif(
        tmp_path / "c.tif",
        np.full((100, 100, 3), 9, np.uint8),
        transform=Affine(1.0, 0, ORIGIN[0] + 50, 0, -1.0, ORIGIN[1]),
    )
    # Half a pixel off a's grid: placing it would shift its pixels by a quarter of a metre.
    d = write_tif(
        tmp_path / "d.tif",
        np.full((100, 100, 3), 9, np.uint8),
        transform=Affine(0.5, 0, ORIGIN[0] + 50.25, 0, -0.5, ORIGIN[1]),
    )
    with pytest.raises(SceneReadError, match=r"offset by \+0\.50, \+0\.00 px"):
        read_windows([a, d], read_stations(inner_station))
    with pytest.raises(SceneReadError, match="has CRS"):
        read_windows([a, b], read_stations(inner_station))
    with pytest.raises(SceneReadError, match="pixel size"):
        read_windows([a, c], read_stations(inner_station))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SceneReadError, match="no raster tiles"):
        read_windows(empty, read_stations(inner_station))


def test_cli_counts_several_tiles(tmp_path, sample, capsys):
    pix, t, crs, tags, ref = sample
    tiles = _split(tmp_path / "tiles", pix, t, crs, tags, 1, 2)
    assert main(["count", *map(str, tiles), "-s", str(STATION), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["scene"].endswith("(+1 tile)")
    assert rec["tiles"] == [str(p) for p in tiles]  # which files made the count
    assert rec["railcars"] == ref.railcars


def test_striped_file_warns_with_the_reason_and_still_reads(tmp_path, monkeypatch, capsys):
    from railcount.errors import SlowReadWarning
    from railcount.io import scenes

    from .geofixtures import box_ring, write_station

    rng = np.random.default_rng(2)
    pix = rng.integers(1, 255, (3, 200, 3000), dtype=np.uint8)
    t = Affine(0.5, 0, ORIGIN[0], 0, -0.5, ORIGIN[1])
    timed = {"TIFFTAG_DATETIME": "2022:05:01 02:30:00"}  # so the only warning is about the layout
    striped = _write(tmp_path / "striped.tif", pix, t, "EPSG:32652", timed, tiled=False, blockysize=1)
    tiled = _write(tmp_path / "tiled.tif", pix, t, "EPSG:32652", timed)
    x0, y0 = ORIGIN
    station = write_station(tmp_path / "s.geojson", {"S": box_ring(x0 + 50, y0 - 70, x0 + 70, y0 - 50)})
    # The real threshold is 64 MB of decoded rows; a small file shows the same logic.
    monkeypatch.setattr(scenes, "STRIPED_WARN_BYTES", 10_000)
    with pytest.warns(SlowReadWarning, match="striped"):
        (ws,) = read_windows(striped, read_stations(station))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SlowReadWarning)
        (wt,) = read_windows(tiled, read_stations(station))
    np.testing.assert_array_equal(ws.pixels, wt.pixels)
    assert main(["count", str(striped), "-s", str(station), "--json"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("railcount: warning: ") and "TILED=YES" in err[0]


@pytest.mark.parametrize(
    "descriptions, interp, expected",
    [
        # WorldView-3's eight bands: red is band 5 (not "Red Edge", band 6).
        (("Coastal", "Blue", "Green", "Yellow", "Red", "Red Edge", "NIR1", "NIR2"), None, [5, 3, 2]),
        (("B04 red", "B03 green", "B02 blue", "B08 nir"), None, [1, 2, 3]),
        (("pan", ""), [ColorInterp.gray, ColorInterp.alpha], [1]),
        (
            ("", "", "", ""),
            [ColorInterp.blue, ColorInterp.green, ColorInterp.red, ColorInterp.undefined],
            [3, 2, 1],
        ),
    ],
)
def test_band_choice_from_names_and_colour_interpretation(tmp_path, descriptions, interp, expected):
    from railcount.io.bands import choose_bands

    n = len(descriptions)
    path = write_tif(tmp_path / "b.tif", np.zeros((16, 16, n), np.uint16))
    with rasterio.open(path, "r+") as ds:
        ds.descriptions = descriptions
        ds.colorinterp = interp or [ColorInterp.undefined] * n
    with rasterio.open(path) as ds:
        assert choose_bands(ds) == expected


def test_paletted_band_is_expanded_to_rgb_and_transparent_entries_are_masks(tmp_path, inner_station):
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as copy_raster

    from railcount.io.pixelspace import read_image

    rng = np.random.default_rng(4)
    idx = rng.integers(1, 200, (400, 600), dtype=np.uint8)
    idx[:, :200] = 0  # palette entry 0 is transparent
    colours = {i: (i, 255 - i, (7 * i) % 256, 255) for i in range(1, 256)}
    colours[0] = (0, 0, 0, 0)
    lut = np.array([colours[i][:3] for i in range(256)], np.uint8)
    # A georeferenced indexed GeoTIFF (TIFF colour tables carry no transparency).
    scene = write_tif(tmp_path / "indexed.tif", idx[:, :, None])
    with rasterio.open(scene, "r+") as ds:
        ds.write_colormap(1, colours)
        ds.colorinterp = [ColorInterp.palette]
    (w,) = read_windows(scene, read_stations(inner_station), margin_m=0.0)
    assert w.pixels.shape[2] == 3
    np.testing.assert_array_equal(w.pixels, lut[idx[100:300, 100:500]])
    # An indexed PNG with a transparent entry, counted in pixel space: transparent is not data.
    png = tmp_path / "indexed.png"
    with MemoryFile() as mem, mem.open(driver="MEM", width=600, height=400, count=1, dtype="uint8") as m:
        m.write(idx, 1)
        m.write_colormap(1, colours)
        copy_raster(m, png, driver="PNG")
    img = read_image(png, gsd_m=0.5)
    np.testing.assert_array_equal(img.pixels, lut[idx])
    np.testing.assert_array_equal(img.data, idx > 0)


def test_eight_unnamed_bands_are_warned_of_with_worldview_s_order(tmp_path, sample):
    """A WorldView-like 8-band file (coastal, blue, green, yellow, red, red edge, NIR1, NIR2) without
    band names: the warning gives WorldView's red, green, blue (5, 3, 2), which count as the sample."""
    pix, t, crs, tags, ref = sample
    r, g, b = pix.astype(np.uint16) * 8
    eight = np.stack([b, b, g, (r + g) // 2, r, g, g, g])
    scene = _write(tmp_path / "wv3.tif", eight, t, crs, tags)
    with pytest.warns(BandOrderWarning, match=r"wv3\.tif: its 8 bands .* pass --bands 5,3,2"):
        read_windows(scene, read_stations(STATION))
    got = _count(scene, bands=(5, 3, 2))
    assert got.bands == (5, 3, 2)
    assert (got.railcars, got.railcars_low, got.railcars_high, got.by_type) == (
        ref.railcars,
        ref.railcars_low,
        ref.railcars_high,
        ref.by_type,
    )


@pytest.mark.parametrize(("dtype", "scale", "top"), [(np.int16, 8, 2047.0), (np.float32, 1 / 255, 1.0)])
def test_negative_values_read_as_black(tmp_path, sample, dtype, scale, top):
    """A surface-reflectance product's few negative values (signed 16-bit, or float reflectance)
    are black: the window keeps zero as zero, and counts as the same data with them set to 0."""
    pix, t, crs, tags, _ = sample
    values = (pix.astype(np.float64) * scale).astype(dtype)
    values[:, 600:603, 700:703] = dtype(-20 * scale)  # inside the station, on the yard
    signed = _write(tmp_path / "signed.tif", values, t, crs, tags)
    clipped = _write(tmp_path / "clipped.tif", np.maximum(values, dtype(0)), t, crs, tags)
    (w,) = read_windows(signed, read_stations(STATION))
    assert float(w.pixels.min()) < 0 and w.value_range == (0.0, top)
    a, b = _count(signed), _count(clipped)
    assert (a.railcars, a.railcars_low, a.railcars_high, a.by_type) == (
        b.railcars,
        b.railcars_low,
        b.railcars_high,
        b.by_type,
    )


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_an_image_shifted_below_zero_is_warned_of(tmp_path, sample, dtype):
    """A signed or float file whose values are shifted down (most of the yard below zero) reads mostly
    black: a warning names the file and the share, where a surface-reflectance product's few negative
    pixels (the test above) are not warned of."""
    pix, t, crs, tags, _ = sample
    values = (pix.astype(np.float64) * 8 - 1500).astype(dtype)
    scene = _write(tmp_path / "shifted.tif", values, t, crs, tags)
    below = r"shifted\.tif: \d+% of the station's pixels hold values below zero"
    with pytest.warns(NegativeValuesWarning, match=below):
        read_windows(scene, read_stations(STATION))
    few = (pix.astype(np.float64) * 8).astype(dtype)
    few[:, 600:603, 700:703] = -160
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegativeValuesWarning)
        read_windows(_write(tmp_path / "few.tif", few, t, crs, tags), read_stations(STATION))
    # Every value below zero: the window keeps its own range (it is not read as black), no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegativeValuesWarning)
        (w,) = read_windows(_write(tmp_path / "all.tif", values - 3000, t, crs, tags), read_stations(STATION))
    assert w.value_range[1] <= 0


_IMD_BANDS = {
    4: ("B", "G", "R", "N"),
    8: ("C", "B", "G", "Y", "R", "RE", "N", "N2"),
}


def _imd(bands: tuple[str, ...]) -> str:
    groups = "".join(
        f"BEGIN_GROUP = BAND_{b}\n\tabsCalFactor = 1.0e-02;\nEND_GROUP = BAND_{b}\n" for b in bands
    )
    return f'version = "28.3";\n{groups}BEGIN_GROUP = IMAGE_1\n\tsatId = "WV03";\nEND_GROUP = IMAGE_1\nEND;\n'


@pytest.mark.parametrize("tiled", [False, True])
@pytest.mark.parametrize("n", [4, 8])
def test_a_maxar_delivery_s_imd_gives_the_band_order(tmp_path, sample, n, tiled):
    """A Maxar image names none of its bands, but its .IMD lists them in order (BAND_B, BAND_G, ...):
    red, green and blue are taken from it, without a warning, for the image (its own .IMD) and for a
    tile of a tiled product (the product's .IMD, named without R1C1); the count is the sample's."""
    pix, t, crs, tags, ref = sample
    r, g, b = pix.astype(np.uint16) * 8
    layers = {"B": b, "G": g, "R": r, "C": b, "Y": (r + g) // 2, "RE": g, "N": g, "N2": g}
    stack = np.stack([layers[k] for k in _IMD_BANDS[n]])
    product = "23OCT05014852-M2AS-058012345010_01_P001"
    image = "23OCT05014852-M2AS_R1C1-058012345010_01_P001" if tiled else product
    scene = _write(tmp_path / f"{image}.TIF", stack, t, crs, tags)
    (tmp_path / f"{product}.IMD").write_text(_imd(_IMD_BANDS[n]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)
        (w,) = read_windows(scene, read_stations(STATION))
        got = _count(scene)
    assert w.bands == ((3, 2, 1) if n == 4 else (5, 3, 2))
    assert (got.railcars, got.by_type) == (ref.railcars, ref.by_type)
    # An .IMD listing another number of bands than the image holds is not trusted: the warning stands.
    (tmp_path / f"{product}.IMD").write_text(_imd(("B", "G", "R")))
    with pytest.warns(BandOrderWarning):
        read_windows(scene, read_stations(STATION))


def test_two_unnamed_bands_are_a_guess_and_said(tmp_path):
    """Two image bands, neither colours nor a mask: the first is read as panchromatic, as before, but
    now as a guess, said (it was silent, and the count said its bands were not guessed)."""
    from railcount.io.bands import band_choice

    path = write_tif(tmp_path / "two.tif", np.zeros((16, 16, 2), np.uint16))
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [ColorInterp.undefined] * 2
    with rasterio.open(path) as ds, pytest.warns(BandOrderWarning, match=r"two\.tif: has two image bands"):
        assert band_choice(ds, None, "two.tif") == ([1], True)
