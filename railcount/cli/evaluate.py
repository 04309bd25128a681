"""``railcount evaluate``: compare a scene's count with ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from railcount.cli.options import ACQUIRED_HELP, SHADOWS_TOWARD_HELP, WORKERS_HELP
from railcount.io.stations import read_stations


def evaluate(
    scene: str = typer.Argument(..., help="GeoTIFF scene (path or URL)."),
    station: Path = typer.Option(
        ...,
        "--station",
        "-s",
        help=(
            "Station polygons, named by 'name': GeoJSON (lon/lat, or with a 'crs' member), a "
            "GeoPackage (FILE.gpkg|layername=NAME for one of several layers), a Shapefile or a KML."
        ),
    ),
    truth: Path = typer.Option(
        ...,
        "--truth",
        "-t",
        help="The true railcars, each an outline or a point on its centre: GeoJSON (lon/lat, or with a "
        "'crs' member), or a GeoPackage (FILE.gpkg|layername=NAME of several) or Shapefile layer as "
        "QGIS saves them; features with is_railcar false "
        "or class/kind 'locomotive' are not railcars; an outline centred under 2 m from an earlier "
        "one is that car drawn again, counted once (with a warning).",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Write the count's files and the evaluation's here: evaluation.png (missed true cars in "
        "white, false detections in vermillion), errors.geojson (the same, lon/lat, for QGIS) and "
        "evaluation.json; a subfolder per station when there are several.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per station per line."),
    acquired: str | None = typer.Option(None, "--acquired", help=ACQUIRED_HELP),
    shadows_toward: str | None = typer.Option(
        None, "--shadows-toward", help=SHADOWS_TOWARD_HELP, metavar="DEGREES"
    ),
    workers: int = typer.Option(2, "--workers", min=1, help=WORKERS_HELP),
    bands: str | None = typer.Option(
        None,
        "--bands",
        help="Bands to use, numbered from 1: three for red,green,blue (e.g. 3,2,1 for a BGRN file whose "
        "bands carry no names) or one (panchromatic). Default: from the file's colour names.",
    ),
) -> None:
    """Count SCENE and compare with TRUTH: count error and detection precision / recall / F1.

    A detection matches a true car when their centres lie within half a car
    length (7.5 m). Only true cars whose centre lies inside the station count.
    With --out, a picture and a GeoJSON show which true cars were missed
    and which detections matched no true car.

    Example:
    railcount evaluate sample_tiles/tumangang_2023-10-05.tif
    --station sample_tiles/tumangang_station.geojson
    --truth sample_tiles/tumangang_2023-10-05.truth.geojson --out eval/
    """
    from railcount.io.bands import parse_bands
    from railcount.io.scenes import parse_acquired, parse_bearing
    from railcount.models import RAILCAR_TYPES
    from railcount.pipeline import evaluate_scene
    from railcount.runtime import helper_allowed

    when = parse_acquired(acquired) if acquired is not None else None
    toward = parse_bearing(shadows_toward) if shadows_toward is not None else None
    with helper_allowed(workers > 1):
        evaluated = evaluate_scene(
            scene,
            read_stations(station),
            truth,
            out_dir=out,
            acquired=when,
            shadows_toward=toward,
            bands=parse_bands(bands),
        )
    for ev in evaluated:
        rec = ev.to_dict()
        if as_json:
            typer.echo(json.dumps(rec))
            continue
        typer.echo(ev.line())
        if rec["types_labelled"]:
            types = (
                f"types: {rec['types_right']} of {rec['types_classified']} classified cars right "
                f"({rec['types_labelled']} of {rec['true_positives']} matched cars have a true type)"
            )
        else:
            types = f"types: not scored, the truth names no car types ({', '.join(RAILCAR_TYPES)})"
        typer.echo(
            f"  {types}; tarped: {rec['tarped']} called, "
            f"{rec['tarped_matched']} right, of {rec['true_tarped']}; locomotives: "
            f"{rec['locomotives']} called, {rec['locomotives_matched']} right, of {rec['true_locomotives']}"
        )
        dashed = ev.dashed_boxes()
        typer.echo(
            f"  dashed (unsure) boxes: {dashed.unsure}, {dashed.unsure_false} of them false; "
            f"solid: {dashed.sure}, {dashed.sure_false} false"
        )
        if ev.outputs:
            where = ev.outputs["picture"].parent
            typer.echo(f"  wrote {where}/: " + ", ".join(p.name for p in ev.outputs.values()))
