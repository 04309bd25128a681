"""``railcount synth``: write a synthetic rail-yard scene with exact ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def synth(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the scene into (created).")],
    site: Annotated[
        str,
        typer.Option(
            help="Site: tumangang; generic (a different yard for every seed); or town (apartment "
            "blocks and car parks with no railcars, a look-alike test; needs --cars 0 "
            "--realism v2)."
        ),
    ] = "tumangang",
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
    realism: Annotated[
        str,
        typer.Option(
            help="v2 (the bundled samples: masts, turnouts, curves, smooth roofs, look-alikes) or v1 "
            "(plain yards: the accuracy benchmark's plain suites)."
        ),
    ] = "v2",
    vegetation: Annotated[
        bool,
        typer.Option(
            "--vegetation/--no-vegetation",
            help="Hedges beside the tracks, trees around the yard and overgrown idle tracks in the station, "
            "casting shadows (needs --realism v2).",
        ),
    ] = False,
    conditions: Annotated[
        str,
        typer.Option(
            help="Comma-separated conditions, e.g. 'snow,haze=0.4,cloud=0.3,thin_cloud,off_nadir=20,"
            "view_azimuth=135,blur=1.5,noise=2,jpeg=35' (snow and off_nadir need --realism v2)."
        ),
    ] = "",
    product: Annotated[
        str,
        typer.Option(
            help="rgb8, bgrn16 (11-bit B,G,R,NIR), pan16 or pan8; add +edge for a nodata swath edge."
        ),
    ] = "rgb8",
    stem: Annotated[str | None, typer.Option(help="File stem (default SITE_DATE).")] = None,
    compress: Annotated[
        str | None,
        typer.Option(
            help="GeoTIFF compression: jpeg (YCbCr, quality 90; 8-bit default) or deflate (16-bit)."
        ),
    ] = None,
) -> None:
    """Synthesise one scene of SITE on DATE and write it to OUT_DIR.

    Writes STEM.tif, STEM.truth.geojson, STEM.truth.json and NAME_station.geojson (NAME the
    site, or for generic yards generic-SEED).

    Example: railcount synth sample_tiles --site tumangang --date 2023-10-05
    --cars 73 --gsd 0.5 --crs EPSG:32652 --seed 7

    Example: railcount synth out --site generic --seed 3 --realism v2
    --conditions cloud=0.3,off_nadir=15 --product bgrn16+edge
    """
    from railcount.errors import UsageError
    from railcount.io.outputs import output_dir
    from railcount.synth import SceneSpec, synthesize, write_scene, write_station

    if compress not in (None, "jpeg", "deflate"):
        raise UsageError(f"--compress must be jpeg or deflate; got {compress!r}")
    output_dir(out_dir, "OUT_DIR")  # made before the scene is drawn, or said why not
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
        realism=realism,
        vegetation=vegetation,
        conditions=conditions,  # type: ignore[arg-type]  # SceneSpec parses the text forms
        product=product,  # type: ignore[arg-type]
    )
    scene = synthesize(spec)
    paths = write_scene(scene, out_dir, stem, compress=compress)
    station = write_station(scene.site if scene.site is not None else site, out_dir)
    c = scene.truth.counts()
    rows, cols = scene.pixels.shape[:2]
    typer.echo(
        f"{paths['tif']}  {cols}x{rows} px  {scene.crs.to_string()}  "
        f"{c['railcars']} railcars + {c['locomotives']} locomotives in "
        f"{scene.station_name} ({c['railcars_in_scene']} railcars in the scene)"
        + (f", {c['railcars_visible']} of them visible" if "railcars_visible" in c else "")
    )
    typer.echo(f"  wrote {paths['truth_geojson'].name}, {paths['truth_json'].name}, {station.name}")
