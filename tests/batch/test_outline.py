"""A station polygon edited between two batches: its scenes are counted again with the new outline,
not left with counts made inside the old one; the same polygon saved again is not recounted."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from rasterio.warp import transform_geom
from shapely.geometry import mapping, shape

from railcount.batch import run_batch
from railcount.detect.params import DETECTOR_VERSION
from railcount.io.stations import outline_text, read_stations, same_outline
from railcount.models import Station
from railcount.pipeline import count_scene
from railcount.store import SCHEMA_VERSION, open_store, read_counts

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tiles"
SCENES = ("tumangang_2021-03-18.tif", "tumangang_2023-10-05.tif")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "scenes"
    out.mkdir()
    for name in SCENES:
        shutil.copy(SAMPLES / name, out / name)
    return out


def _station_doc() -> dict:
    return json.loads((SAMPLES / "tumangang_station.geojson").read_text())


def _write(path: Path, geometry: dict) -> Path:
    doc = _station_doc()
    doc["features"][0]["geometry"] = geometry
    path.write_text(json.dumps(doc))
    return path


def _trimmed(tmp_path: Path) -> Path:
    """The station with its south-east third cut away (the apron where trucks stand, and more)."""
    geom = shape(_station_doc()["features"][0]["geometry"])
    minx, miny, maxx, maxy = geom.bounds
    keep = geom.intersection(
        shape(
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        (minx, miny + 0.33 * (maxy - miny)),
                        (maxx, miny + 0.33 * (maxy - miny)),
                        (maxx, maxy),
                        (minx, maxy),
                        (minx, miny + 0.33 * (maxy - miny)),
                    ]
                ],
            }
        )
    )
    return _write(tmp_path / "trimmed.geojson", mapping(keep))


def test_an_edited_polygon_is_counted_again_and_replaces_the_old_counts(tmp_path, folder) -> None:
    db = tmp_path / "r.db"
    station = SAMPLES / "tumangang_station.geojson"
    first = run_batch(station, folder, db=db, workers=1)
    assert (first.ok, first.processed) == (2, 2)
    again = run_batch(station, folder, db=db, workers=1)
    assert again.processed == 0  # nothing changed: nothing counted
    trimmed = _trimmed(tmp_path)
    notes: list[str] = []
    edited = run_batch(trimmed, folder, db=db, workers=1, log=notes.append)
    assert (edited.ok, edited.processed) == (2, 2)
    said = [n for n in notes if "outline differs" in n]
    assert said == [
        "Tumangang: the station's outline differs from the one 2 stored counts of it were made with; "
        "those scenes are counted again"
    ]
    rows = read_counts(db)
    assert len(rows) == 2  # replaced, not added beside the old ones
    (new_station,) = read_stations(trimmed)
    for row in rows:
        (sc,) = count_scene(row["scene"], [new_station])
        assert row["railcars"] == sc.result.railcars
    # The trimmed polygon counts fewer cars on the October scene than the whole one did.
    (whole,) = count_scene(str(folder / SCENES[1]), read_stations(station))
    october = next(r for r in rows if r["scene"].endswith(SCENES[1]))
    assert october["railcars"] < whole.result.railcars
    # And a third run with the trimmed polygon counts nothing.
    assert run_batch(trimmed, folder, db=db, workers=1).processed == 0


def test_the_same_polygon_saved_again_is_not_counted_again(tmp_path, folder) -> None:
    db = tmp_path / "r.db"
    run_batch(SAMPLES / "tumangang_station.geojson", folder, db=db, workers=1)
    geom = _station_doc()["features"][0]["geometry"]
    # Through UTM and back (as a GIS re-saves it), its corners listed the other way round.
    there_and_back = transform_geom(
        "EPSG:32652", "EPSG:4326", transform_geom("EPSG:4326", "EPSG:32652", geom)
    )
    ring = list(reversed(there_and_back["coordinates"][0]))
    resaved = _write(tmp_path / "resaved.geojson", {"type": "Polygon", "coordinates": [ring]})
    notes: list[str] = []
    summary = run_batch(resaved, folder, db=db, workers=1, log=notes.append)
    assert summary.processed == 0 and summary.ok == 2
    assert not any("outline differs" in n for n in notes)


def test_same_outline_tells_a_moved_corner_from_a_resaved_polygon() -> None:
    geom = shape(_station_doc()["features"][0]["geometry"])
    station = Station("Y", geom)
    kept = outline_text(station)
    assert same_outline(kept, Station("Y", shape(mapping(geom))))
    moved = list(geom.exterior.coords)
    moved[1] = (moved[1][0] + 2e-5, moved[1][1])  # about 1.6 m east
    moved[-1] = moved[0]
    assert not same_outline(kept, Station("Y", shape({"type": "Polygon", "coordinates": [moved]})))
    assert not same_outline("not wkt", station)


def test_counts_stored_before_outlines_were_kept_are_left_alone(tmp_path, folder) -> None:
    db = tmp_path / "r.db"
    run_batch(SAMPLES / "tumangang_station.geojson", folder, db=db, workers=1)
    # Make it a schema-1 store, as railcount before session 62 wrote it: no outline column.
    with sqlite3.connect(db) as c:
        c.execute("ALTER TABLE counts DROP COLUMN outline")
        c.execute("PRAGMA user_version = 1")
    c.close()
    before = read_counts(db)
    # Opened by this railcount: migrated in place, its counts kept, their outline unknown ...
    with open_store(db) as s:
        assert set(s.outlines(DETECTOR_VERSION).values()) <= {None}
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    c.close()
    # ... and taken to match: even an edited polygon does not recount them (--force does).
    summary = run_batch(_trimmed(tmp_path), folder, db=db, workers=1)
    assert summary.processed == 0
    assert [r["railcars"] for r in read_counts(db)] == [r["railcars"] for r in before]
