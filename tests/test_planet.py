"""A Planet delivery read as Planet writes it: the UTC time in its file names, the item's
``_metadata.json`` beside them, its multispectral assets' band order, and its usable-data masks."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from railcount.cli import main
from railcount.errors import BandOrderWarning
from railcount.io.scenes import read_windows
from railcount.io.sources import list_scenes
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene

from .geofixtures import write_tif

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"
ITEM = "20231005_014852_ssc9_u0001"  # the sample's own time, 2023-10-05T01:48:52Z


@pytest.fixture(scope="module")
def sample():
    """The 2023-10-05 sample's pixels, transform, CRS and its count (with the time its tags give)."""
    with rasterio.open(SCENE) as ds:
        pix, t, crs = ds.read(), ds.transform, ds.crs
        assert ds.tags()["TIFFTAG_DATETIME"] == "2023:10:05 01:48:52"
    return pix, t, crs, count_scene(SCENE, read_stations(STATION))[0].result


def _write(path: Path, pix: np.ndarray, t, crs, interp=None) -> Path:
    """A GeoTIFF as a provider writes it here: no tags at all (no time, no NBITS), bands unnamed."""
    write_tif(path, np.moveaxis(pix, 0, -1), crs=crs, transform=t)
    with rasterio.open(path, "r+") as dst:
        dst.colorinterp = interp or [ColorInterp.gray] + [ColorInterp.undefined] * (pix.shape[0] - 1)
    return path


def _analytic(pix: np.ndarray) -> np.ndarray:
    """The sample as a SkySat analytic asset: 16-bit blue, green, red, near-infrared."""
    r, g, b = pix.astype(np.uint16) * 8
    return np.stack([b, g, r, g])


def _same(a, b) -> bool:
    return (a.railcars, a.railcars_low, a.railcars_high, a.locomotives, a.by_type) == (
        b.railcars,
        b.railcars_low,
        b.railcars_high,
        b.locomotives,
        b.by_type,
    )


def test_a_skysat_analytic_asset_counts_as_the_sample(tmp_path, sample):
    """No tag gives the time and no band is named: the UTC time comes from the name and the bands
    from the asset, so the count, its interval and the types are the sample's exactly."""
    pix, t, crs, ref = sample
    scene = _write(tmp_path / f"{ITEM}_analytic.tif", _analytic(pix), t, crs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)
        (w,) = read_windows(scene, read_stations(STATION))
        got = count_scene(scene, read_stations(STATION))[0].result
    assert w.acquired.isoformat() == "2023-10-05T01:48:52+00:00"
    assert w.bands == (3, 2, 1) and not w.bands_guessed
    assert got.sun["time_of_day"] == "given" and got.acquired_from == "planet_file_name"
    assert _same(got, ref)


def test_another_name_keeps_the_date_alone(tmp_path, sample):
    """The same file under a name of the user's, with a date and a time: the time may be local, so
    only the date is read (the sun assumed) and the bands are guessed, with the warning."""
    pix, t, crs, _ = sample
    scene = _write(tmp_path / "tumangang_20231005_014852.tif", _analytic(pix), t, crs)
    with pytest.warns(BandOrderWarning):
        (w,) = read_windows(scene, read_stations(STATION))
    assert w.acquired.isoformat() == "2023-10-05T00:00:00+00:00" and w.acquired_from == "file_name_date"
    assert w.bands == (1, 2, 3) and w.bands_guessed


@pytest.mark.parametrize("name", ["20231005_104852_0001.tif", "20231005_104852_beef_west.tif"])
def test_a_numbered_name_is_not_taken_for_planetscope(tmp_path, sample, name):
    """A date, a time and four characters of a person's own numbering (a local 10:48 here) look like a
    PlanetScope item's name; without the product level Planet writes after it (``3B_``) the time is
    not read as UTC: only the date is kept. Read as UTC, 10:48 is 19:48 at Tumangang, after dark."""
    pix, t, crs, _ = sample
    scene = _write(tmp_path / name, pix, t, crs)
    (w,) = read_windows(scene, read_stations(STATION))
    assert w.acquired.isoformat() == "2023-10-05T00:00:00+00:00" and w.acquired_from == "file_name_date"
    assert not w.night_time


def test_eight_band_planetscope_order(tmp_path, sample):
    """An 8-band PlanetScope asset: coastal blue, blue, green I, green, yellow, red, red edge, NIR."""
    pix, t, crs, ref = sample
    r, g, b = pix.astype(np.uint16) * 8
    eight = np.stack([b, b, g, g, (r + g) // 2, r, r, g])
    scene = _write(tmp_path / "20231005_014852_12_2463_3B_AnalyticMS_SR_8b_clip.tif", eight, t, crs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandOrderWarning)
        (w,) = read_windows(scene, read_stations(STATION))
        got = count_scene(scene, read_stations(STATION))[0].result
    assert w.bands == (6, 4, 2) and w.acquired.isoformat() == "2023-10-05T01:48:52+00:00"
    assert _same(got, ref)


def test_the_item_metadata_beside_the_image(tmp_path, sample, capsys):
    """An order's ITEM_metadata.json gives the time (over the name's) and the cloud cover: its
    ``cloud_percent``, else its ``cloud_cover`` (a share, 0-1)."""
    pix, t, crs, _ = sample
    scene = _write(
        tmp_path / f"{ITEM}_visual.tif", pix, t, crs, [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    )
    meta = tmp_path / f"{ITEM}_metadata.json"
    meta.write_text(
        json.dumps({"id": ITEM, "properties": {"acquired": "2023-10-05T01:50:00.5Z", "cloud_cover": 0.3}})
    )
    assert main(["count", str(scene), "-s", str(STATION), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["acquired"] == "2023-10-05T01:50:00.500000+00:00" and out["acquired_from"] == "planet_metadata"
    assert out["provider_cloud_cover"] == pytest.approx(30.0)
    meta.write_text(json.dumps({"properties": {"cloud_percent": 12, "cloud_cover": 0.3}}))
    assert main(["count", str(scene), "-s", str(STATION), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["acquired"] == "2023-10-05T01:48:52+00:00"  # no "acquired": the name's
    assert out["acquired_from"] == "planet_file_name"
    assert out["provider_cloud_cover"] == pytest.approx(12.0)


def test_usable_data_masks_are_not_scenes(tmp_path, sample, capsys):
    """An order's folder holds each image's udm2 mask (8 bands of 0/1, the image's grid and name):
    a batch over the folder lists the image only, a folder counted as tiles mosaics the image only,
    and the mask counted by itself is a one-line error that names it and says what to count."""
    pix, t, crs, ref = sample
    order = tmp_path / "order" / "SkySatCollect"
    order.mkdir(parents=True)
    scene = _write(order / f"{ITEM}_analytic.tif", _analytic(pix), t, crs)
    udm2 = (pix[:1] > 0).astype(np.uint8).repeat(8, axis=0)
    mask = _write(order / f"{ITEM}_analytic_udm2.tif", udm2, t, crs)
    assert [s.path for s in list_scenes(tmp_path / "order")] == [str(scene)]
    got = count_scene(order, read_stations(STATION))[0].result
    assert _same(got, ref)
    assert main(["count", str(mask), "-s", str(STATION)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{mask}: is a Planet usable-data mask" in err and "count the image" in err
    db = tmp_path / "r.db"
    assert (
        main(["batch", "--station", str(STATION), "--scenes", str(tmp_path / "order"), "--db", str(db)]) == 0
    )
    with sqlite3.connect(db) as con:
        rows = list(con.execute("select scene, acquired, railcars, record from counts"))
    assert [(r[0], r[1], r[2]) for r in rows] == [(str(scene), "2023-10-05T01:48:52+00:00", ref.railcars)]
    assert json.loads(rows[0][3])["bands"] == [3, 2, 1]
    assert json.loads(rows[0][3])["acquired_from"] == "planet_file_name"


def test_an_item_s_two_images_are_counted_once(tmp_path, sample):
    """An order with the item's analytic and visual images (and their masks): one acquisition, so a
    batch counts the visual one and leaves the other out as a duplicate, saying which it counted."""
    from railcount.batch import run_batch
    from railcount.store import read_counts

    pix, t, crs, ref = sample
    order = tmp_path / "order"
    order.mkdir()
    _write(order / f"{ITEM}_analytic.tif", _analytic(pix), t, crs)
    visual = _write(
        order / f"{ITEM}_visual.tif", pix, t, crs, [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    )
    _write(order / f"{ITEM}_visual_udm2.tif", (pix[:1] > 0).astype(np.uint8).repeat(8, axis=0), t, crs)
    other = _write(order / "20231006_020000_ssc9_u0001_analytic.tif", _analytic(pix), t, crs)
    notes: list[str] = []
    summary = run_batch(STATION, order, db=tmp_path / "r.db", workers=1, log=notes.append)
    assert (summary.ok, summary.failed, summary.duplicates) == (2, 0, 1)
    rows = {r["scene"]: r for r in read_counts(tmp_path / "r.db")}
    assert set(rows) == {str(visual), str(other)}
    assert rows[str(visual)]["railcars"] == ref.railcars
    assert any(f"{ITEM}_analytic.tif: the same Planet item as {ITEM}_visual.tif" in n for n in notes)


def test_a_stac_item_s_image_is_picked_not_its_mask(tmp_path, sample):
    """A STAC item as Planet's delivery writes its assets (ortho_udm2 first, then the XML, the
    analytic and the visual image): the visual image is counted, and without it the analytic one;
    never the mask, which before was taken as the item's first GeoTIFF."""
    from railcount.io.sources import list_scenes

    from .geofixtures import stac_item

    pix, t, crs, _ = sample
    visual = _write(
        tmp_path / f"{ITEM}_visual.tif", pix, t, crs, [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    )
    analytic = _write(tmp_path / f"{ITEM}_analytic.tif", _analytic(pix), t, crs)
    udm2 = _write(tmp_path / f"{ITEM}_udm2.tif", (pix[:1] > 0).astype(np.uint8).repeat(8, axis=0), t, crs)
    ring = [[130.6, 42.4], [130.7, 42.4], [130.7, 42.5], [130.6, 42.5], [130.6, 42.4]]
    item = stac_item(ITEM, "2023-10-05T01:48:52Z", ring, str(udm2))
    tiff = "image/tiff; application=geotiff"
    item["assets"] = {
        "ortho_udm2": {"href": udm2.name, "type": tiff},
        "ortho_analytic_4b_xml": {"href": "meta.xml", "type": "application/xml"},
        "ortho_analytic_4b": {"href": analytic.name, "type": tiff, "roles": ["data"]},
        "ortho_visual": {"href": visual.name, "type": tiff, "roles": ["data"]},
    }
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item))
    assert [s.path for s in list_scenes(path)] == [str(visual)]
    del item["assets"]["ortho_visual"]
    path.write_text(json.dumps(item))
    assert [s.path for s in list_scenes(path)] == [str(analytic)]
    item["assets"] = {"udm": {"href": udm2.name, "type": tiff, "roles": ["data-mask"]}}
    path.write_text(json.dumps(item))
    # With only its mask the item has no image to count: listed as skipped, with the reason.
    (only_mask,) = list_scenes(path)
    assert only_mask.problem_status == "skipped" and only_mask.path == str(path)
    assert only_mask.problem == (
        f"{path}: STAC item {ITEM!r} lists no image to count (only udm); add the image (a GeoTIFF, "
        "asset key 'visual' or 'data') to the item to count it"
    )


def test_an_order_s_manifest_lists_its_images(tmp_path, sample):
    """A Planet order's manifest.json as the batch's SOURCE: the images it lists (paths relative to it),
    without their masks or metadata files; before, it was read as STAC and refused."""
    pix, t, crs, ref = sample
    order = tmp_path / "order"
    (order / "SkySatCollect").mkdir(parents=True)
    image = _write(order / "SkySatCollect" / f"{ITEM}_analytic.tif", _analytic(pix), t, crs)
    _write(
        order / "SkySatCollect" / f"{ITEM}_analytic_udm2.tif",
        (pix[:1] > 0).astype(np.uint8).repeat(8, 0),
        t,
        crs,
    )
    files = [
        {"path": f"SkySatCollect/{ITEM}_analytic.tif", "media_type": "image/tiff"},
        {"path": f"SkySatCollect/{ITEM}_analytic_udm2.tif", "media_type": "image/tiff"},
        {"path": f"SkySatCollect/{ITEM}_metadata.json", "media_type": "application/json"},
    ]
    manifest = order / "manifest.json"
    manifest.write_text(json.dumps({"name": "tumangang", "files": files}))
    assert [s.path for s in list_scenes(manifest)] == [str(image)]
    db = tmp_path / "r.db"
    assert main(["batch", "--station", str(STATION), "--scenes", str(manifest), "--db", str(db)]) == 0
    with sqlite3.connect(db) as con:
        assert [r[0] for r in con.execute("select railcars from counts")] == [ref.railcars]
