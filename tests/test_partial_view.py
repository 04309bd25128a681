"""A station the scene sees only part of: said in a caution, and refused when the part is a sliver.

Before, a scene whose data covered a sliver of the station (one pixel) counted "0 railcars (0-1), 0%
observed" with exit 0, and half a station seen empty read "0 railcars (0-1)" without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from railcount.cautions import PARTIAL_VIEW_PHRASE, caption, is_partial_view, partial_view_caution
from railcount.cli import main
from railcount.errors import PartialViewWarning

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2023-10-05.tif"
STATION = SAMPLES / "tumangang_station.geojson"


def _masked_copy(path: Path, keep: tuple[slice, slice]) -> Path:
    """The bundled sample with every pixel outside ``keep`` (rows, cols) set to nodata (0)."""
    with rasterio.open(SCENE) as src:
        data = src.read()
        profile = src.profile | {"nodata": 0, "compress": "deflate", "photometric": "RGB"}
        tags = src.tags()
    out = np.zeros_like(data)
    out[:, keep[0], keep[1]] = np.maximum(data[:, keep[0], keep[1]], 1)  # (0 is nodata now)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(out)
        dst.update_tags(**tags)
    return path


def test_half_a_station_seen_comes_with_a_caution(tmp_path, capsys):
    with rasterio.open(SCENE) as src:
        cols = src.width
    scene = _masked_copy(tmp_path / "west_half_2023-10-05.tif", (slice(None), slice(0, cols // 2)))
    out = tmp_path / "out"
    assert main(["count", str(scene), "--station", str(STATION), "--out", str(out)]) == 0
    record = json.loads((out / "count.json").read_text())
    assert 0.02 < record["observed_fraction"] < 0.8
    assert any(is_partial_view(w) for w in record["warnings"])
    said = [line for line in capsys.readouterr().err.splitlines() if PARTIAL_VIEW_PHRASE in line]
    assert len(said) == 1 and said[0].startswith("railcount: warning: ") and "west_half" in said[0]
    # The interval's upper end allows for the unseen part in proportion to the cars seen.
    seen = record["observed_fraction"]
    assert record["railcars_high"] >= record["railcars"] * (1 + (1 - seen) / seen)


def test_a_sliver_of_the_station_is_refused_in_one_line(tmp_path, capsys):
    scene = _masked_copy(tmp_path / "sliver_2023-10-05.tif", (slice(500, 510), slice(700, 710)))
    assert main(["count", str(scene), "--station", str(STATION)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sliver_2023-10-05.tif" in err and "too little to count" in err


def test_the_library_warns_with_its_class(tmp_path):
    import railcount

    with rasterio.open(SCENE) as src:
        rows = src.height
    scene = _masked_copy(tmp_path / "north_2023-10-05.tif", (slice(0, rows // 3), slice(None)))
    with pytest.warns(PartialViewWarning, match=PARTIAL_VIEW_PHRASE):
        (count,) = railcount.count(str(scene), str(STATION))
    assert count.result.observed_fraction < 0.8


def test_the_caption_says_it():
    assert caption(["Yard: only 48 % of the station was seen (...)"], 0.5).endswith(
        "part of the station not seen: the count is of the seen part"
    )
    assert not is_partial_view("Yard: 23 % of the station lay in a wide shadow")
    # Nor is a partial view read as any other kind (the overlay once said "wide shadow (hatched)").
    said = caption([partial_view_caution("Yard", 0.48)], 0.5)
    assert said == "caution: part of the station not seen: the count is of the seen part"


def test_the_batch_log_line_says_how_much_was_seen(tmp_path, capsys):
    with rasterio.open(SCENE) as src:
        cols = src.width
    folder = tmp_path / "scenes"
    folder.mkdir()
    _masked_copy(folder / "west_half_2023-10-05.tif", (slice(None), slice(0, cols // 2)))
    db = tmp_path / "b.db"
    assert (
        main(["batch", "--station", str(STATION), "--scenes", str(folder), "--db", str(db), "-w", "1"]) == 0
    )
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "west_half" in x and "railcars" in x]
    assert "% observed, the rest not counted)" in line
