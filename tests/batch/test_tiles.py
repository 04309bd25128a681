"""Scenes as providers deliver them. Tiles of one acquisition (``..._R1C1.tif``, ``..._R1C2.tif``):
the batch counts them once, as one mosaic, not as two half-counts of one date, and tiles counted one by
one before are replaced. NITF and JPEG 2000 files in a folder are scenes too, and a NITF image's own
acquisition time (``IDATIM``) dates it."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin

from railcount.batch import run_batch
from railcount.errors import PartialViewWarning
from railcount.io.mosaic import TileGrid
from railcount.io.sources import scene_key, tile_groups
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.store import Record, open_store, read_counts

from ..geofixtures import SAMPLE_SCENE, SAMPLE_STATION, SAMPLES, split_scene, tile_items, untimed_copy

OTHER = SAMPLES / "tumangang_2021-03-18.tif"


@pytest.fixture(scope="module")
def whole() -> int:
    """The 2023-10-05 sample counted from its one file."""
    return count_scene(SAMPLE_SCENE, read_stations(SAMPLE_STATION))[0].result.railcars


@pytest.fixture
def delivery(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A folder holding the 2023-10-05 sample in two tiles (the station crosses their edge) and the
    2021-03-18 sample as one file."""
    folder = tmp_path / "order"
    tiles = split_scene(SAMPLE_SCENE, folder / "23OCT05", 2, names="23OCT05014852-R1C{}")
    shutil.copy(OTHER, folder / OTHER.name)
    return folder, tiles


def _report_of_2023_10_05(db: Path, out: Path):
    """The sample station's report on 2023-10-05 from ``db``, its evidence pack written to ``out``."""
    from railcount.reporting import build_report

    return build_report(
        "Tumangang", db=db, day=date(2023, 10, 5), station_file=SAMPLE_STATION, evidence_dir=out, thumbnails=0
    )


def test_tiles_of_one_acquisition_are_one_count_of_the_whole_station(tmp_path, delivery, whole) -> None:
    folder, tiles = delivery
    db = tmp_path / "r.db"
    notes: list[str] = []
    s = run_batch(SAMPLE_STATION, folder, db=db, workers=1, log=notes.append)
    assert (s.ok, s.failed, s.processed) == (2, 0, 2)
    rows = {r["acquired"][:10]: r for r in read_counts(db)}
    assert sorted(rows) == ["2021-03-18", "2023-10-05"]
    tiled = rows["2023-10-05"]
    # The same pixels as the one file: the same count, the whole station seen.
    assert tiled["railcars"] == whole
    assert tiled["observed_fraction"] == pytest.approx(1.0)
    assert tiled["tiles"] == [str(t) for t in tiles]
    assert tiled["scene"] == f"{tiles[0]} (+1 tile)"
    assert rows["2021-03-18"]["tiles"] is None
    assert any("2 tiles of one acquisition" in n and "counted as one scene" in n for n in notes), notes
    # Run again: nothing new to count.
    again = run_batch(SAMPLE_STATION, folder, db=db, workers=1)
    assert (again.ok, again.processed) == (2, 0)


def test_tiles_counted_one_by_one_before_are_replaced(tmp_path, delivery, whole) -> None:
    folder, tiles = delivery
    db = tmp_path / "r.db"
    station = read_stations(SAMPLE_STATION)[0]
    with open_store(db) as store:  # as a railcount that counted each tile as a scene left them
        for tile in tiles:
            with pytest.warns(PartialViewWarning):  # each half alone: a part of the station seen
                (sc,) = count_scene(tile, [station])
            count = sc.result.to_dict()
            assert count["observed_fraction"] < 0.8  # each half alone: a part taken for a whole
            key = scene_key(str(tile), store)
            store.write(Record(station.name, key, str(tile), "ok", acquired=count["acquired"], count=count))
    notes: list[str] = []
    s = run_batch(SAMPLE_STATION, folder, db=db, workers=1, log=notes.append)
    assert s.processed == 2 and s.ok == 2
    assert any("it replaces the counts stored before of its tiles" in n for n in notes), notes
    rows = [r for r in read_counts(db) if r["acquired"].startswith("2023-10-05")]
    assert len(rows) == 1  # one count for the date, not three
    assert rows[0]["railcars"] == whole and rows[0]["tiles"] == [str(t) for t in tiles]


def test_a_delivery_still_arriving_is_counted_again_whole(tmp_path, whole) -> None:
    # Three tiles; the batch first sees two of them (the third still downloading), then all three.
    folder = tmp_path / "order"
    tiles = split_scene(SAMPLE_SCENE, tmp_path / "all", 3, names="23OCT05014852-R1C{}")
    folder.mkdir()
    for tile in tiles[:2]:
        shutil.copy(tile, folder / tile.name)
    db = tmp_path / "r.db"
    first = run_batch(SAMPLE_STATION, folder, db=db, workers=1)
    (partial,) = read_counts(db)
    assert first.ok == 1 and partial["observed_fraction"] < 0.95 and len(partial["tiles"]) == 2
    shutil.copy(tiles[2], folder / tiles[2].name)
    notes: list[str] = []
    then = run_batch(SAMPLE_STATION, folder, db=db, workers=1, log=notes.append)
    assert then.processed == 1 and any("3 tiles of one acquisition" in n for n in notes), notes
    (complete,) = read_counts(db)  # the two-tile count is replaced, not kept beside it
    assert complete["tiles"] == [str(folder / t.name) for t in tiles]
    assert complete["observed_fraction"] == pytest.approx(1.0) and complete["railcars"] == whole


def test_the_report_draws_a_tiled_scene_from_its_tiles(tmp_path, delivery, whole) -> None:
    from railcount.reporting import build_report

    folder, tiles = delivery
    db = tmp_path / "r.db"
    run_batch(SAMPLE_STATION, folder, db=db, workers=1)
    report = _report_of_2023_10_05(db, tmp_path / "report")
    assert report.judged_overlay is not None, report.overlay_note
    assert report.judged_overlay.observation.railcars == whole
    assert report.judged_overlay.png.startswith(b"\x89PNG")
    # A tile's own path names the scene it belongs to.
    picked = build_report("Tumangang", db=db, scene=str(tiles[1]))
    assert picked.comparison.judged.railcars == whole


def test_nitf_and_jpeg2000_deliveries_are_found_and_dated(tmp_path, whole) -> None:
    import rasterio
    from rasterio.shutil import copy as copy_raster

    folder = tmp_path / "order"
    folder.mkdir()
    plain = tmp_path / "plain.tif"
    untimed_copy(SAMPLE_SCENE, plain)  # its pixels as JPEG decodes them, without time tags
    with rasterio.open(plain) as ds:  # the NITF's header alone gives the time
        copy_raster(ds, folder / "23OCT05014852-P2AS.NTF", driver="NITF", IDATIM="20231005014852")
        jp2 = folder / "IMG_PHR_2021-03-18.JP2"
        copy_raster(ds, jp2, driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
    db = tmp_path / "r.db"
    s = run_batch(SAMPLE_STATION, folder, db=db, workers=1)
    assert (s.ok, s.failed, s.skipped) == (2, 0, 0)
    rows = {Path(r["scene"]).suffix: r for r in read_counts(db)}
    assert rows[".NTF"]["acquired"] == "2023-10-05T01:48:52+00:00"
    assert rows[".NTF"]["time_of_day"] == "given"
    assert rows[".JP2"]["acquired"].startswith("2021-03-18")  # from its name: no time tag
    # The JPEG 2000 copy keeps the pixels and georeferencing exactly: the count of the same pixels at
    # the same (date-only) time.
    day = datetime(2021, 3, 18, tzinfo=timezone.utc)
    (same,) = count_scene(plain, read_stations(SAMPLE_STATION), acquired=day)
    assert rows[".JP2"]["railcars"] == same.result.railcars
    # NITF keeps UTM corners to the whole metre, so its grid is off by a fraction of a pixel.
    assert abs(rows[".NTF"]["railcars"] - whole) <= 0.15 * whole


# Which files are tiles of one acquisition: the rule, on grids alone.
UTM = CRS.from_epsg(32652)
NOON = datetime(2023, 10, 5, 1, 48, 52, tzinfo=timezone.utc)


def _grid(x0: float, *, res: float = 0.5, width: int = 100, y0: float = 4697000.0) -> TileGrid:
    return TileGrid(UTM, from_origin(x0, y0, res, res), width, 100, 3, ("uint8",) * 3)


def test_tile_groups_rule() -> None:
    a, b, c = _grid(0.0), _grid(50.0), _grid(100.0)  # side by side, 50 m wide each
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/b.tif", NOON, b), ("/d/c.tif", NOON, c)]) == [[0, 1, 2]]
    # Joined through a middle tile listed last.
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/c.tif", NOON, c), ("/d/b.tif", NOON, b)]) == [[0, 1, 2]]
    apart = _grid(75.0 + 50.0)  # a 25 m gap
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/x.tif", NOON, apart)]) == [[0], [1]]
    later = NOON.replace(second=53)
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/b.tif", later, b)]) == [[0], [1]]
    midnight = datetime(2023, 10, 5, tzinfo=timezone.utc)  # a date alone: maybe two passes that day
    assert tile_groups([("/d/a.tif", midnight, a), ("/d/b.tif", midnight, b)]) == [[0], [1]]
    assert tile_groups([("/d/a.tif", None, a), ("/d/b.tif", None, b)]) == [[0], [1]]
    assert tile_groups([("/d/a.tif", NOON, a), ("/e/b.tif", NOON, b)]) == [[0], [1]]  # other folders
    finer = _grid(50.0, res=0.25, width=200)  # another product of the same pass (pan beside colour)
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/p.tif", NOON, finer)]) == [[0], [1]]
    off = _grid(50.2)  # off the pixel grid by 0.4 px
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/o.tif", NOON, off)]) == [[0], [1]]
    assert tile_groups([("/d/a.tif", NOON, None), ("/d/b.tif", NOON, b)]) == [[0], [1]]  # rotated
    # Two files of the same ground stamped with one time: a clip beside its scene, or two dates
    # whose files carry one processing time; not tiles.
    same_ground = _grid(10.0)  # 40 of its 50 m over a's
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/s.tif", NOON, same_ground)]) == [[0], [1]]
    edge = _grid(45.0)  # 5 m over a's edge: tiles cut with an overlap
    assert tile_groups([("/d/a.tif", NOON, a), ("/d/e.tif", NOON, edge)]) == [[0, 1]]
    # Names that give two dates are two scenes, whatever the tags say.
    assert tile_groups([("/d/a_2021-03-18.tif", NOON, a), ("/d/b_2023-10-05.tif", NOON, b)]) == [[0], [1]]
    # URLs in one folder too; and where a SOURCE says which scenes may go together (STAC items of
    # one collection), that, not their folders.
    assert tile_groups([("https://h/x/a.tif", NOON, a), ("https://h/x/b.tif", NOON, b)]) == [[0, 1]]
    assert tile_groups([("https://h/x/a.tif", NOON, a), ("https://h/y/b.tif", NOON, b)]) == [[0], [1]]
    items = [("https://h/i1/visual.tif", NOON, a), ("https://h/i2/visual.tif", NOON, b)]
    assert tile_groups(items, ["stac:ard", "stac:ard"]) == [[0, 1]]
    assert tile_groups(items, ["stac:ard", "stac:other"]) == [[0], [1]]


def test_stac_tiles_are_one_scene_whatever_their_files_tags_say(tmp_path, whole) -> None:
    # Two items of one collection at one instant, one file's own tags naming another day (a
    # processing date): the item's time wins, as a SOURCE's time does everywhere in a batch.
    import json

    import rasterio

    tiles = split_scene(SAMPLE_SCENE, tmp_path / "ard", 2, names="tile_{}")
    with rasterio.open(tiles[1], "r+") as ds:
        ds.update_tags(TIFFTAG_DATETIME="2021:03:18 02:28:39")
    features = tile_items(tiles, "2023-10-05T01:48:52Z")
    listing = tmp_path / "items.json"
    listing.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    s = run_batch(SAMPLE_STATION, listing, db=tmp_path / "r.db", workers=1)
    assert (s.ok, s.failed, s.processed) == (1, 0, 1)
    (row,) = read_counts(tmp_path / "r.db")
    assert row["tiles"] == [str(t) for t in tiles] and row["acquired"] == "2023-10-05T01:48:52+00:00"
    assert row["railcars"] == whole


def test_a_maxar_tiled_delivery_is_dated_by_its_names_and_counted_whole(tmp_path, whole) -> None:
    # Maxar names a product's files after its acquisition time (YYMONDDhhmmss) and its .IMD after the
    # product, without the tiles' R1C1: GDAL finds no .IMD beside a tile. The tiles carry no time tag.
    folder = tmp_path / "058012345010_01" / "058012345010_01_P001_MUL"
    tiles = split_scene(
        SAMPLE_SCENE, folder, 2, names="23OCT05014852-S2AS_R1C{}-058012345010_01_P001", TIFFTAG_DATETIME=""
    )
    imd = 'version = "28.3";\nBEGIN_GROUP = IMAGE_1\n\tcloudCover = 0.120;\nEND_GROUP = IMAGE_1\nEND;\n'
    (folder / "23OCT05014852-S2AS-058012345010_01_P001.IMD").write_text(imd)
    s = run_batch(SAMPLE_STATION, tmp_path, db=tmp_path / "r.db", workers=1)
    assert (s.ok, s.skipped, s.processed) == (1, 0, 1)  # before: both skipped, "no acquisition date"
    (row,) = read_counts(tmp_path / "r.db")
    assert row["acquired"] == "2023-10-05T01:48:52+00:00" and row["time_of_day"] == "given"
    assert row["tiles"] == [str(t) for t in tiles] and row["railcars"] == whole
    # The product's .IMD gives its cloud cover (12 %), kept with the count, with its caution.
    assert row["provider_cloud_cover"] == pytest.approx(12.0) and "cloud" in (row["warnings"] or "")
    from railcount.errors import ProviderCloudWarning

    with pytest.warns(ProviderCloudWarning):  # and railcount count on the folder reads it too
        (sc,) = count_scene(folder, read_stations(SAMPLE_STATION))
    assert sc.result.provider_cloud_cover == pytest.approx(12.0)


@pytest.mark.parametrize(
    "given, stored",
    [
        # A time on the scene's line
        ("2023-10-05T06:30Z", {"acquired": "2023-10-05T06:30:00+00:00"}),
        # The bearing its shadows point to, the date from the name
        ("shadows=N", {"time_of_day": "from shadows", "shadows_toward_deg": 0.0}),
    ],
)
def test_the_report_counts_a_scene_again_as_its_count_was_made(tmp_path, given, stored) -> None:
    # A scene whose file gives no time, listed with its time or its shadows' bearing: the report's
    # evidence pack counts it again so (before: at the sun assumed for a date alone, another count
    # than the stored one).
    scene = tmp_path / "yard_2023-10-05.tif"
    untimed_copy(SAMPLE_SCENE, scene)  # the name gives the date alone
    listing = tmp_path / "scenes.txt"
    listing.write_text(f"{scene}  {given}\n{SAMPLES / 'tumangang_2021-03-18.tif'}\n")
    db = tmp_path / "r.db"
    run_batch(SAMPLE_STATION, listing, db=db, workers=1)
    row = next(r for r in read_counts(db) if r["acquired"].startswith("2023-10-05"))
    assert {k: row[k] for k in stored} == stored
    report = _report_of_2023_10_05(db, tmp_path / "report")
    assert report.judged_overlay is not None, report.overlay_note
    assert report.judged_overlay.observation.railcars == row["railcars"]
