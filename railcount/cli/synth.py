"""``railcount synth``: write a synthetic rail-yard scene with exact ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def synth(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the scene into (created).")],
    site: Annotated[str, typer.Option(help="Named site (see railcount.synth.SITES).")] = "tumangang",
    date: Annotated[str, typer.Option(help="Acquisition date YYYY-MM-DD.")] = "2023-10-05",
    cars: Annotated[
        int, typer.Option(help="Railcars (locomotives excluded) inside the station polygon.")
    ] = 40,
    gsd: Annotated[float, typer.Option(help="Ground sample distance in metres (0.3-1.0).")] = 0.5,
    crs: Annotated[
        str | None, typer.Option(help="Output CRS, e.g. EPSG:32652 (default: the site's UTM zone).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    locomotives: Annotated[
        int | None, typer.Option(help="Locomotives inside the station (default: 0-2 from the seed).")
    ] = None,
    outside_cars: Annotated[
        bool,
        typer.Option(
            "--outside-cars/--no-outside-cars", help="Also park cars on track ends outside the station."
        ),
    ] = True,
    distractors: Annotated[
        bool,
        typer.Option(
            "--distractors/--no-distractors", help="Trucks on the road and containers on the ground."
        ),
    ] = True,
    stem: Annotated[str | None, typer.Option(help="File stem (default SITE_DATE).")] = None,
    compress: Annotated[
        str, typer.Option(help="GeoTIFF compression: jpeg (YCbCr, quality 90) or deflate.")
    ] = "jpeg",
) -> None:
    """Synthesise one scene of SITE on DATE and write it to OUT_DIR.

    Writes STEM.tif, STEM.truth.geojson, STEM.truth.json and SITE_station.geojson.

    Example: railcount synth sample_tiles --site tumangang --date 2023-10-05
    --cars 73 --gsd 0.5 --crs EPSG:32652 --seed 7
    """
    from railcount.errors import UsageError
    from railcount.synth import SceneSpec, synthesize, write_scene, write_station

    if compress not in ("jpeg", "deflate"):
        raise UsageError(f"--compress must be jpeg or deflate; got {compress!r}")
    spec = SceneSpec(
        site=site,
        date=date,
        cars=cars,
        gsd_m=gsd,
        crs=crs,
        seed=seed,
        locomotives=locomotives,
        outside_cars=outside_cars,
        distractors=distractors,
    )
    scene = synthesize(spec)
    paths = write_scene(scene, out_dir, stem, compress=compress)
    station = write_station(site, out_dir)
    c = scene.truth.counts()
    rows, cols = scene.pixels.shape[:2]
    typer.echo(
        f"{paths['tif']}  {cols}x{rows} px  {scene.crs.to_string()}  "
        f"{c['railcars']} railcars + {c['locomotives']} locomotives in "
        f"{scene.station_name} ({c['railcars_in_scene']} railcars in the scene)"
    )
    typer.echo(f"  wrote {paths['truth_geojson'].name}, {paths['truth_json'].name}, {station.name}")
