"""``railcount count``: count the railcars of each station in one scene."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from railcount.cli.options import ACQUIRED_HELP, SHADOWS_TOWARD_HELP, WORKERS_HELP
from railcount.errors import UsageError
from railcount.io.stations import read_stations


def count(
    scene: list[str] = typer.Argument(
        ...,
        help="GeoTIFF scene (or NITF, JPEG 2000...): a path, an http(s):// or s3:// URL (a COG is read "
        "by byte ranges), a VRT, a directory of tiles, or several tiles of one acquisition (read as "
        "one mosaic).",
        show_default=False,
        metavar="SCENE",
    ),
    station: Path | None = typer.Option(
        None,
        "--station",
        "-s",
        help=(
            "One or more station polygons, named by 'name': GeoJSON (lon/lat, or with a 'crs' member), "
            "a GeoPackage (FILE.gpkg|layername=NAME for one of several layers), a Shapefile or a KML, "
            "as QGIS or Google Earth save them. Required unless --gsd."
        ),
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write detections.geojson, overlay.png and count.json here "
        "(one subfolder per station when there are several).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per station per line."),
    bands: str | None = typer.Option(
        None,
        "--bands",
        help="Bands to use, numbered from 1: three for red,green,blue (e.g. 3,2,1 for a BGRN file) "
        "or one (panchromatic). Default: chosen from the file's colour interpretation or band names.",
    ),
    gsd: float | None = typer.Option(
        None,
        "--gsd",
        help="Count an image WITHOUT georeferencing (PNG, JPEG, plain TIFF) in pixel space at this "
        "ground sample distance in metres: the whole image is counted, no --station; --out writes "
        "detections.csv in pixel coordinates instead of detections.geojson.",
    ),
    acquired: str | None = typer.Option(None, "--acquired", help=ACQUIRED_HELP),
    shadows_toward: str | None = typer.Option(
        None, "--shadows-toward", help=SHADOWS_TOWARD_HELP, metavar="DEGREES"
    ),
    cloud_cover: float | None = typer.Option(
        None,
        "--cloud-cover",
        min=0.0,
        max=100.0,
        help="The provider's cloud cover for the scene, percent (from its order sheet or catalogue), "
        "when the file's metadata do not say: kept with the count, and from 10 % a caution, as "
        "railcount cannot see thin cloud.",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help=WORKERS_HELP),
) -> None:
    """Count the railcars of each station in SCENE.

    Each count is printed with its interval, e.g. "81 railcars (likely 62-117)": the
    range meant to hold the true number nine times in ten, calibrated on
    generated scenes (wider when the detector was unsure of more of the cars;
    not guaranteed on hazy, cloudy or soft imagery). Locomotives are counted
    apart. The observed share leaves out what opaque cloud hides and what
    lies in a cloud's (or a tall building's) wide shadow, where cars cast no
    shadow and most are missed; the count says so. A station seen under four
    fifths comes with a caution; one the scene holds under 2 % of is refused,
    and of several stations, one the scene does not image is left out with a
    warning while the others are counted.

    A station whose window would need more memory than is free (a large
    yard, a polygon drawn round a town) is counted in tiles, with a caution;
    one too large even for tiles is refused before it is read: split it. The
    environment variable RAILCOUNT_MEMORY_LIMIT (e.g. 4G) sets that limit.
    Imagery coarser than 1.1 m (PlanetScope's 3 m) is refused: a railcar is
    under three pixels across there.

    Examples:
    railcount count sample_tiles/tumangang_2023-10-05.tif
    --station sample_tiles/tumangang_station.geojson --out out

    railcount count https://example.org/yard_cog.tif --station yard.geojson --json

    railcount count tiles/ --station yard.geojson --bands 3,2,1

    railcount count scene.tif --station yard_drawn_in_qgis.gpkg

    railcount count photo.png --gsd 0.5 --out out

    railcount count scene.tif --station yard.geojson --acquired 2023-10-05T02:15Z

    railcount count yard_2011-05-01.tif --station yard.geojson --shadows-toward 80
    """
    from railcount.io.bands import parse_bands
    from railcount.io.scenes import parse_acquired, parse_bearing
    from railcount.pipeline import count_scene
    from railcount.runtime import helper_allowed

    band_idx = parse_bands(bands)
    if station is None and gsd is None:
        raise UsageError(
            "missing --station STATION.geojson (or --gsd METRES to count an ungeoreferenced image whole)"
        )
    when = parse_acquired(acquired) if acquired is not None else None
    toward = parse_bearing(shadows_toward) if shadows_toward is not None else None
    stations = read_stations(station) if station is not None else []
    source = scene[0] if len(scene) == 1 else scene
    with helper_allowed(workers > 1):
        counted = count_scene(
            source,
            stations,
            out_dir=out,
            bands=band_idx,
            gsd_m=gsd,
            acquired=when,
            cloud_cover=cloud_cover,
            shadows_toward=toward,
        )
    for sc in counted:
        r = sc.result
        if as_json:
            # As count.json: the cautions travel with the record (they are on stderr too).
            record = {**r.to_dict(), **({"warnings": list(sc.cautions)} if sc.cautions else {})}
            typer.echo(json.dumps(record))
            continue
        typer.echo(sc.line())
        if sc.outputs:
            typer.echo(
                f"  wrote {sc.outputs['overlay'].parent}/: " + ", ".join(p.name for p in sc.outputs.values())
            )
