"""What a provider's delivery files say of a scene, read through GDAL's IMAGERY metadata: the
acquisition time (before the TIFF's own DateTime, which is the file's creation time) and the cloud
cover, which is kept with the count and, from 10 %, comes with a caution."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import rasterio

from railcount.cautions import caption, is_provider_cloud
from railcount.cli import main
from railcount.io.scenes import acquisition_time, provider_cloud_cover
from railcount.store import read_counts

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
STATION = SAMPLES / "tumangang_station.geojson"


def _delivery(folder: Path, cloud_fraction: float) -> Path:
    """The 2021-03-18 sample (its TIFFTAG_DATETIME says 2021-03-18) delivered with a Maxar-style
    ``.IMD`` file beside it that says it was taken on 2023-10-05 with this share of cloud."""
    folder.mkdir(parents=True)
    tif = folder / "scene.tif"
    shutil.copy(SAMPLES / "tumangang_2021-03-18.tif", tif)
    (folder / "scene.IMD").write_text(
        'version = "28.3";\n'
        "BEGIN_GROUP = IMAGE_1\n"
        '\tsatId = "WV02";\n'
        "\tfirstLineTime = 2023-10-05T01:48:52.000000Z;\n"
        f"\tcloudCover = {cloud_fraction:.3f};\n"
        "END_GROUP = IMAGE_1\n"
        "END;\n"
    )
    return tif


def test_gdal_reads_the_delivery_files_and_railcount_prefers_them(tmp_path: Path) -> None:
    tif = _delivery(tmp_path / "d", 0.12)
    with rasterio.open(tif) as ds:
        assert ds.tags()["TIFFTAG_DATETIME"].startswith("2021:03:18")  # the file's own, older tag
        assert acquisition_time(ds).isoformat() == "2023-10-05T01:48:52+00:00"
        assert provider_cloud_cover(ds) == pytest.approx(12.0)
    with rasterio.open(SAMPLES / "tumangang_2021-03-18.tif") as ds:  # no delivery files: as before
        assert acquisition_time(ds).isoformat() == "2021-03-18T02:28:39+00:00"
        assert provider_cloud_cover(ds) is None


def test_a_cloudy_delivery_is_counted_with_a_caution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tif = _delivery(tmp_path / "d", 0.12)
    assert main(["count", str(tif), "--station", str(STATION), "--json"]) == 0
    out, err = capsys.readouterr()
    rec = json.loads(out)
    assert rec["acquired"] == "2023-10-05T01:48:52+00:00" and rec["provider_cloud_cover"] == pytest.approx(
        12.0
    )
    notes = [w for w in rec["warnings"] if is_provider_cloud(w)]
    assert len(notes) == 1 and "12 % cloud cover" in notes[0]
    assert "provider reports 12 % cloud cover" in err
    assert "provider reports cloud" in caption(rec["warnings"], rec["gsd_m"])  # the overlay's caption


def test_a_clear_delivery_keeps_its_figure_without_a_caution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tif = _delivery(tmp_path / "d", 0.05)
    assert main(["count", str(tif), "--station", str(STATION), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["provider_cloud_cover"] == pytest.approx(5.0)
    assert not any(is_provider_cloud(w) for w in rec.get("warnings", []))


def test_a_stac_items_cloud_cover_replaces_the_files(tmp_path: Path) -> None:
    tif = _delivery(tmp_path / "d", 0.40)
    with rasterio.open(tif) as ds:
        ring = [[float(x), float(y)] for x, y in _lonlat_box(ds)]
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "scene",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [
            min(p[0] for p in ring),
            min(p[1] for p in ring),
            max(p[0] for p in ring),
            max(p[1] for p in ring),
        ],
        "properties": {"datetime": "2023-10-05T01:48:52Z", "eo:cloud_cover": 3},
        "links": [],
        "assets": {"visual": {"href": "scene.tif", "type": "image/tiff; application=geotiff"}},
    }
    items = tmp_path / "d" / "items.json"
    items.write_text(json.dumps({"type": "FeatureCollection", "features": [item]}))
    db = tmp_path / "r.db"
    args = ["batch", "--station", str(STATION), "--scenes", str(items), "--db", str(db), "--workers", "1"]
    assert main(args) == 0
    (row,) = read_counts(db)
    assert row["status"] == "ok" and row["provider_cloud_cover"] == pytest.approx(3.0)
    assert not (row["warnings"] and is_provider_cloud(row["warnings"]))


def _lonlat_box(ds: rasterio.io.DatasetReader) -> list[tuple[float, float]]:
    from rasterio.warp import transform_bounds

    w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    return [(w, s), (e, s), (e, n), (w, n), (w, s)]


def test_max_cloud_cover_reads_a_folder_of_deliveries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a folder (no STAC), the batch reads each delivery's cloud cover while planning: the
    cloudy one is skipped with its figure, the clear one counted with it kept."""
    _delivery(tmp_path / "scenes" / "a", 0.45)
    _delivery(tmp_path / "scenes" / "b", 0.02)
    (tmp_path / "scenes" / "b" / "scene.tif").rename(tmp_path / "scenes" / "b" / "other.tif")
    (tmp_path / "scenes" / "b" / "scene.IMD").rename(tmp_path / "scenes" / "b" / "other.IMD")
    # The two copies differ in nothing but their delivery files: make the second's pixels its own.
    with rasterio.open(tmp_path / "scenes" / "b" / "other.tif", "r+") as ds:
        ds.update_tags(NOTE="second copy")
    db = tmp_path / "r.db"
    args = ["batch", "--station", str(STATION), "--scenes", str(tmp_path / "scenes"), "--db", str(db)]
    assert main([*args, "--workers", "1", "--max-cloud-cover", "30"]) == 0
    rows = {Path(r["scene"]).stem: r for r in read_counts(db)}
    assert rows["scene"]["status"] == "skipped" and "45 % cloud cover" in rows["scene"]["reason"]
    assert rows["other"]["status"] == "ok" and rows["other"]["provider_cloud_cover"] == pytest.approx(2.0)


def test_cloud_cover_given_on_the_command_line_replaces_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tif = _delivery(tmp_path / "d", 0.05)
    args = ["count", str(tif), "--station", str(STATION), "--json"]
    assert main([*args, "--cloud-cover", "30"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["provider_cloud_cover"] == pytest.approx(30.0)
    assert any(is_provider_cloud(w) and "30 % cloud cover" in w for w in rec["warnings"])
    assert main([*args, "--cloud-cover", "101"]) == 2  # not a percentage: a usage error
