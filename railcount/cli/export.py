"""``railcount export``: a results store's counts or detections as CSV, Parquet or GeoJSON."""

from __future__ import annotations

from pathlib import Path

import typer


def export(
    db: Path = typer.Option(Path("railcount.db"), "--db", help="Results store written by railcount batch."),
    station: str | None = typer.Option(None, "--station", help="Only this station (by name)."),
    fmt: str = typer.Option(
        ...,
        "--format",
        "-f",
        help="csv or parquet: the counts time series, one row per station and scene; "
        "geojson: the detected cars as lon/lat polygons.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write [default: stdout; required for parquet]."
    ),
) -> None:
    """Export the counts time series (sorted by acquisition time) or the detections.

    Example:
    railcount export --db tumangang.db --format csv --output tumangang.csv
    """
    from railcount.io.export import export_rows
    from railcount.store import read_station_counts

    fmt = fmt.lower()
    rows = read_station_counts(db, station, detections=fmt == "geojson", mend="check --station")
    if not rows:  # an empty table is what was asked for, but say why it is empty
        said = f"railcount: warning: {db}: the store holds no counts yet; run railcount batch first"
        typer.echo(said, err=True)
    text = export_rows(rows, fmt, output)
    if text is not None:
        typer.echo(text, nl=not text.endswith("\n"))
