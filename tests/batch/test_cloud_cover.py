"""The provider's cloud cover (a STAC item's eo:cloud_cover): kept with every count, in the log when
high, and ``--max-cloud-cover`` skips the cloudier scenes without losing anything already counted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from railcount.cli import main
from railcount.io.sources import list_scenes
from railcount.store import read_counts

from ..geofixtures import plain_tif, stac_item
from .test_batch_sources import _footprint


def _collection(folder: Path, covers: dict[str, object]) -> Path:
    """One dated scene per entry of ``covers`` (name: its eo:cloud_cover, or None for none given)."""
    folder.mkdir()
    items = []
    for k, (name, cover) in enumerate(covers.items()):
        plain_tif(folder / f"{name}.tif", k + 1)
        item = stac_item(name, f"2022-0{k + 1}-15T02:00:00Z", _footprint(), f"{name}.tif")
        if cover is not None:
            item["properties"]["eo:cloud_cover"] = cover
        items.append(item)
    path = folder / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return path


def test_stac_cloud_cover_is_read_as_a_percentage_or_left_out(tmp_path: Path) -> None:
    covers = {"clear": 0, "some": 12.5, "none": None, "words": "cloudy", "over": 140, "flag": True}
    listed = list_scenes(str(_collection(tmp_path / "stac", covers)))
    got = {Path(s.path).stem: s.cloud_cover for s in listed}
    assert got == {"clear": 0.0, "some": 12.5, "none": None, "words": None, "over": None, "flag": None}


def test_max_cloud_cover_skips_then_a_higher_one_counts_and_the_cover_is_kept(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _collection(tmp_path / "stac", {"clear": 3, "cloudy": 40, "unsaid": None})
    db = tmp_path / "r.db"
    base = ["batch", "--station", str(station), "--scenes", str(items), "--db", str(db), "--workers", "1"]
    assert main([*base, "--max-cloud-cover", "20"]) == 0
    err = capsys.readouterr().err
    rows = {Path(r["scene"]).stem: r for r in read_counts(db)}
    assert rows["cloudy"]["status"] == "skipped"
    assert "cloudy.tif" in rows["cloudy"]["reason"] and "40 % cloud cover" in rows["cloudy"]["reason"]
    assert "--max-cloud-cover 20" in rows["cloudy"]["reason"] and "cloudy.tif: skipped" in err
    assert (rows["clear"]["status"], rows["clear"]["provider_cloud_cover"]) == ("ok", 3.0)
    assert (rows["unsaid"]["status"], rows["unsaid"]["provider_cloud_cover"]) == ("ok", None)
    # Raised: the skipped scene is counted, its cover kept and named in its log line (40 % >= 10 %);
    # the two counted before are not counted again.
    assert main([*base, "--max-cloud-cover", "50", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["ok"] == 3
    assert "1 scene to count" in err and "provider reports 40 % cloud" in err
    rows = {Path(r["scene"]).stem: r for r in read_counts(db)}
    assert (rows["cloudy"]["status"], rows["cloudy"]["provider_cloud_cover"]) == ("ok", 40.0)
    # Lowered again: what is counted stays counted.
    assert main([*base, "--max-cloud-cover", "1"]) == 0
    assert all(r["status"] == "ok" for r in read_counts(db))
    # The export carries the column.
    capsys.readouterr()
    assert main(["export", "--db", str(db), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(Path(r["scene"]).stem, r["provider_cloud_cover"]) for r in table] == [
        ("clear", "3.0"),
        ("cloudy", "40.0"),
        ("unsaid", ""),
    ]


def test_max_cloud_cover_outside_0_to_100_is_a_usage_error(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _collection(tmp_path / "stac", {"clear": 3})
    args = ["batch", "--station", str(station), "--scenes", str(items), "--db", str(tmp_path / "r.db")]
    assert main([*args, "--max-cloud-cover", "120"]) == 2
    assert "--max-cloud-cover" in capsys.readouterr().err
    assert not (tmp_path / "r.db").exists()


def test_report_names_cloudy_scenes_in_its_caveats() -> None:
    """A count whose provider reported 10 % cloud or more carries a caution, which the report names
    for the judged count and counts among the baseline's warned ones; under 10 % there is none."""
    from datetime import date, timedelta

    from railcount.cautions import provider_cloud_caution
    from railcount.io.history import observation_from_record
    from railcount.report.baseline import compare

    assert provider_cloud_caution("S", None) == provider_cloud_caution("S", 9.9) == ""
    first = date(2021, 1, 1)
    covers = [0.0, 35.0, None, 12.5, 2.0, 9.9, 60.0]  # the last is the judged scene's
    rows = [
        {
            "acquired": (first + timedelta(days=30 * k)).isoformat() + "T02:00:00+00:00",
            "status": "ok",
            "railcars": 20 + k,
            "warnings": [w for w in [provider_cloud_caution("S", cover)] if w],
        }
        for k, cover in enumerate(covers)
    ]
    obs = [observation_from_record(r) for r in rows]
    notes = compare(obs[-1], obs[:-1], station="S").caveats
    judged = [n for n in notes if n.startswith("the count on 2021-06-30") and "60 % cloud cover" in n]
    assert len(judged) == 1 and "read the count as a floor" in judged[0]
    (baseline,) = [n for n in notes if "baseline counts came with a warning" in n]
    assert baseline.startswith("2 of the 6 baseline") and "cloud its provider reported" in baseline
    clear = compare(obs[4], obs[:1], station="S").caveats  # 2 % judged against a 0 % baseline
    assert not any("cloud" in n for n in clear)
