"""Bad parts of a batch's SOURCE: a STAC catalog URL that answers 404, one unreadable STAC item among good
ones, an item with nothing to count, files with no georeferencing, and a station no scene covers. One bad
part is recorded with its reason and the rest are counted; only a SOURCE with nothing usable is an error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasterio import Affine

from railcount.batch import run_batch
from railcount.cli import main
from railcount.store import read_counts

from ..geofixtures import ORIGIN, box_ring, plain_tif, stac_item, write_station, write_tif


def _ring() -> list:
    x0, y0 = ORIGIN
    return box_ring(x0, y0 - 80, x0 + 120, y0)


def _batch(station: Path, source: str | Path, db: Path) -> list[str]:
    return ["batch", "--station", str(station), "--scenes", str(source), "--db", str(db), "-w", "1"]


def _rows(db: Path) -> list[tuple[str, str, str | None]]:
    return [(Path(r["scene"]).name, r["status"], r["reason"]) for r in read_counts(db, detections=False)]


def test_a_stac_catalog_url_that_answers_404_is_one_line_exit_2(
    tmp_path: Path, station: Path, http_root: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = http_root
    code = main(_batch(station, f"{url}/catalog.json", tmp_path / "r.db"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"railcount: error: {url}/catalog.json: cannot read as a STAC catalog or item collection "
        "(HTTP 404 Not Found); check the file or URL"
    ]


def _catalog(folder: Path, items: list[str]) -> Path:
    catalog = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "yard",
        "description": "test catalog",
        "links": [{"rel": "root", "href": "./catalog.json"}]
        + [{"rel": "item", "href": f"./items/{name}.json"} for name in items],
    }
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def test_a_missing_item_of_a_catalog_is_failed_and_the_good_one_counted(
    tmp_path: Path, station: Path, http_root: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The same catalog from a folder and over HTTP: its item 'gone' links to nothing.
    root, url = http_root
    (root / "items").mkdir()
    plain_tif(root / "good.tif", 1)
    parent = [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}]
    item = stac_item("good", "2022-06-01T10:30:00Z", _ring(), "../good.tif", parent)
    (root / "items" / "good.json").write_text(json.dumps(item))
    catalog = _catalog(root, ["gone", "good"])
    for source, why in ((catalog, "no such file"), (f"{url}/catalog.json", "HTTP 404 Not Found")):
        db = tmp_path / f"{len(why)}.db"
        assert main(_batch(station, source, db)) == 3
        gone = f"{root}/items/gone.json" if why == "no such file" else f"{url}/items/gone.json"
        assert _rows(db) == [
            ("good.tif", "ok", None),
            (
                "gone.json",
                "failed",
                f"{gone}: cannot read this STAC item ({why}); check the catalog's link to it",
            ),
        ]
        assert f"railcount: {gone}: failed for Inner: cannot read this STAC item" in capsys.readouterr().err


def test_an_item_with_a_bad_datetime_is_failed_naming_item_and_field_and_a_rerun_mends_it(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain_tif(tmp_path / "a.tif", 1)
    plain_tif(tmp_path / "b.tif", 2)
    items = [
        stac_item("good", "2022-06-01T10:30:00Z", _ring(), "a.tif"),
        stac_item("bad", "not-a-date", _ring(), "b.tif"),
    ]
    collection = tmp_path / "items.json"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    db = tmp_path / "r.db"
    assert main(_batch(station, collection, db)) == 3
    reason = (
        f"{collection}#bad: STAC item 'bad' has datetime 'not-a-date', which is not a date and time; "
        "give it as ISO 8601 (2023-10-05T01:48:52Z)"
    )
    assert _rows(db) == [("a.tif", "ok", None), ("items.json#bad", "failed", reason)]
    assert (
        f"railcount: {collection}#bad: failed for Inner: STAC item 'bad' has datetime"
        in capsys.readouterr().err
    )
    # Mended, the item is counted, and its failure is gone from the store.
    items[1]["properties"]["datetime"] = "2022-07-01T10:30:00Z"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    assert main(_batch(station, collection, db)) == 0
    assert _rows(db) == [("a.tif", "ok", None), ("b.tif", "ok", None)]


def test_a_source_with_nothing_usable_is_one_line(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "items").mkdir()
    catalog = _catalog(tmp_path, ["gone", "lost"])
    assert main(_batch(station, catalog, tmp_path / "r.db")) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"railcount: error: none of the 2 STAC items of {catalog} can be counted; the first: "
        f"{tmp_path}/items/gone.json: cannot read this STAC item (no such file); check the catalog's "
        "link to it"
    ]


def test_an_item_of_thumbnails_only_is_listed_as_skipped(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain_tif(tmp_path / "a.tif", 1)
    thumbs = stac_item("thumbs", "2022-07-01T10:30:00Z", _ring(), "a.png")
    thumbs["assets"] = {"thumbnail": {"href": "a.png", "type": "image/png", "roles": ["thumbnail"]}}
    items = [stac_item("good", "2022-06-01T10:30:00Z", _ring(), "a.tif"), thumbs]
    collection = tmp_path / "items.json"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    db = tmp_path / "r.db"
    assert main([*_batch(station, collection, db), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["skipped"] == 1
    reason = (
        f"{collection}#thumbs: STAC item 'thumbs' lists no image to count (only thumbnail); add the image "
        "(a GeoTIFF, asset key 'visual' or 'data') to the item to count it"
    )
    assert _rows(db) == [("a.tif", "ok", None), ("items.json#thumbs", "skipped", reason)]
    assert f"railcount: {collection}#thumbs: skipped for Inner: STAC item 'thumbs' lists no image" in err


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


def test_a_station_no_scene_covers_is_a_warning_line(
    tmp_path: Path, scenes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x0, y0 = ORIGIN
    stations = write_station(
        tmp_path / "two.geojson",
        {
            "Inner": box_ring(x0 + 30, y0 - 60, x0 + 90, y0 - 20),
            "Far": box_ring(x0 + 50_000, y0 - 60, x0 + 50_060, y0 - 20),
        },
    )
    db = tmp_path / "r.db"
    assert main([*_batch(stations, scenes, db), "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert (summary["ok"], summary["uncovered"]) == (3, ["Far"])
    warnings = [line for line in err.splitlines() if line.startswith("railcount: warning:")]
    assert warnings == [
        "railcount: warning: station 'Far' lies in none of the 3 scenes selected, so nothing was counted for "
        "it; check its polygon (the right place, longitude before latitude), or add scenes that cover it"
    ]
    # From Python too.
    again = run_batch(stations, scenes, db=db, workers=1)
    assert again.uncovered == ("Far",) and again.exit_code == 0
