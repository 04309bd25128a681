"""``railcount count``: count the railcars of each station in one scene."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from railcount.io.stations import read_stations


def count(
    scene: str = typer.Argument(..., help="GeoTIFF scene (path or URL)."),
    station: Path = typer.Option(
        ..., "--station", "-s", help="GeoJSON with one or more station polygons (lon/lat), named by 'name'."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write detections.geojson, overlay.png and count.json here "
        "(one subfolder per station when there are several).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per station per line."),
) -> None:
    """Count the railcars of each station in SCENE.

    Example:
    railcount count sample_tiles/tumangang_2023-10-05.tif
    --station sample_tiles/tumangang_station.geojson --out out
    """
    from railcount.pipeline import count_scene

    stations = read_stations(station)
    for sc in count_scene(scene, stations, out_dir=out):
        r = sc.result
        if as_json:
            typer.echo(json.dumps(r.to_dict()))
            continue
        date = r.acquired.date().isoformat() if r.acquired else "date unknown"
        locos = f", {r.locomotives} locomotive{'s' if r.locomotives != 1 else ''}" if r.locomotives else ""
        typer.echo(
            f"{r.station}  {date}  {r.railcars} railcars ({r.railcars_low}-{r.railcars_high}){locos}"
            f"  [gsd {r.gsd_m:.2f} m, {r.observed_fraction:.0%} observed]  {Path(r.scene).name}"
        )
        if sc.outputs:
            typer.echo(
                f"  wrote {sc.outputs['overlay'].parent}/: " + ", ".join(p.name for p in sc.outputs.values())
            )
