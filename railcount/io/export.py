"""Write a results store's time series or detections as CSV, Parquet or GeoJSON.

Input is what :func:`railcount.store.read_counts` returns; these functions
only lay it out. CSV and Parquet hold one row per (station, scene); GeoJSON
holds the detected cars as lon/lat polygons with station, scene, date and type.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from railcount.errors import UsageError
from railcount.store import COLUMNS

FORMATS = ("csv", "parquet", "geojson")


def counts_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The counts time series as CSV text (empty cells for missing values)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
    return buf.getvalue()


def write_counts_parquet(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """The counts time series as a Parquet file (``acquired`` as a UTC timestamp)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("--format parquet needs pyarrow; pip install 'railcount[parquet]'") from None
    from datetime import datetime

    types = {
        "station": pa.string(),
        "scene": pa.string(),
        "acquired": pa.timestamp("s", tz="UTC"),
        "status": pa.string(),
        "reason": pa.string(),
        "railcars": pa.int32(),
        "railcars_low": pa.int32(),
        "railcars_high": pa.int32(),
        "locomotives": pa.int32(),
        "observed_fraction": pa.float64(),
        "gsd_m": pa.float64(),
        "detector_version": pa.string(),
        "warnings": pa.string(),
        "cautions": pa.string(),
        "time_of_day": pa.string(),
        "unsure_share": pa.float64(),
        "provider_cloud_cover": pa.float64(),
        "acquired_from": pa.string(),
        "synthetic": pa.bool_(),
    }
    columns: dict[str, list[Any]] = {c: [r[c] for r in rows] for c in COLUMNS}
    columns["acquired"] = [datetime.fromisoformat(v) if v else None for v in columns["acquired"]]
    table = pa.table({c: pa.array(columns[c], type=types[c]) for c in COLUMNS})
    pq.write_table(table, path)


def detections_collection(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every stored detection as one FeatureCollection (lon/lat) with station, scene, date and type."""
    features = []
    for r in rows:
        if r["status"] != "ok" or not r["detections"]:
            continue
        for feat in r["detections"].get("features", []):
            props = dict(feat.get("properties") or {})
            # A count's car number repeats across counts; as "id" GDAL (QGIS) takes it for the feature's
            # id and renumbers the repeats with a warning: kept as "car".
            if "id" in props:
                props["car"] = props.pop("id")
            props.update(
                station=r["station"],
                scene=r["scene"],
                acquired=r["acquired"],
                date=r["acquired"][:10] if r["acquired"] else None,
                detector_version=r["detector_version"],
            )
            features.append({"type": "Feature", "properties": props, "geometry": feat["geometry"]})
    return {"type": "FeatureCollection", "features": features}


def export_rows(rows: Sequence[dict[str, Any]], fmt: str, output: Path | None) -> str | None:
    """Write ``rows`` in ``fmt`` to ``output``; without ``output``, return the text (csv, geojson).

    Raises
    ------
    UsageError
        Unknown format, Parquet without an output file, or an unwritable output.
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet writes a binary file; pass --output FILE.parquet")
    try:
        if output is not None and output.parent != output:  # its folder made, as --db's and --out's are
            output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            assert output is not None
            write_counts_parquet(rows, output)
            return None
        text = counts_csv(rows) if fmt == "csv" else json.dumps(detections_collection(rows))
        if output is None:
            return text
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write ({exc.strerror}); choose another --output") from None
    return None
