"""``railcount report``: is a count out of line with the station's history?"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from railcount.errors import UsageError


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: expected a date as YYYY-MM-DD") from None


_VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml")


def station_name_of(station: str, station_file: Path | None) -> tuple[str, Path | None]:
    """``--station`` as the report takes it: a name, as in the history; or, as ``count`` and ``batch``
    take it, a station file holding one station, whose name is then judged and which draws the overlays
    (the ``--station-file``) unless another is given."""
    path = Path(station)
    if not (path.suffix.lower() in _VECTOR_SUFFIXES or "|" in station) or not path.is_file():
        return station, station_file
    from railcount.io.stations import read_stations

    names = [s.name for s in read_stations(station)]
    if len(names) != 1:
        raise UsageError(
            f"{station}: --station here takes a station's name, and this file holds {len(names)} "
            f"({', '.join(repr(n) for n in names)}); give one with --station NAME and the file with "
            "--station-file"
        )
    return names[0], station_file if station_file is not None else path


def report(
    station: str = typer.Option(
        ...,
        "--station",
        "-s",
        help="Station name, as in the history (or a station file holding one station, as count takes it).",
    ),
    db: Path | None = typer.Option(None, "--db", help="Results store written by railcount batch."),
    history: Path | None = typer.Option(
        None,
        "--history",
        help="CSV of counts: date,railcars[,railcars_low,railcars_high,observed_fraction,"
        "scene,gsd_m,detector_version,warnings,station]; railcount export --format csv writes one.",
    ),
    on: str | None = typer.Option(None, "--date", help="Judge the count on this date (YYYY-MM-DD)."),
    scene: str | None = typer.Option(None, "--scene", help="Judge the count of this scene."),
    baseline_years: int = typer.Option(5, "--baseline-years", help="Baseline: the N years before the date."),
    baseline_from: str | None = typer.Option(None, "--baseline-from", help="Baseline start (YYYY-MM-DD)."),
    baseline_to: str | None = typer.Option(None, "--baseline-to", help="Baseline end (YYYY-MM-DD)."),
    period: list[str] = typer.Option(
        [], "--period", help="Named period compared too, NAME=FROM:TO (repeatable)."
    ),
    min_observed: float = typer.Option(
        0.8, "--min-observed", help="Leave out counts that saw less than this share of the station."
    ),
    min_baseline: int = typer.Option(
        5, "--min-baseline", help="Fewer baseline counts than this: insufficient-history."
    ),
    elevated_percentile: float = typer.Option(
        90.0, "--elevated-percentile", help="Above this baseline percentile: elevated."
    ),
    point: bool = typer.Option(
        False, "--point", help="Judge the count itself, not the low end of its interval."
    ),
    station_file: Path | None = typer.Option(
        None,
        "--station-file",
        help=(
            "Station polygon file (GeoJSON, GeoPackage or Shapefile): to draw overlays and count a --scene."
        ),
    ),
    thumbnails: int = typer.Option(4, "--thumbnails", min=0, help="Baseline scenes to draw in the report."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write report.json, chart.png, chart.svg and report.html here."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON object."),
    acquired: str | None = typer.Option(
        None,
        "--acquired",
        help="With --scene: its acquisition time when the file does not say, ISO 8601 "
        "(e.g. 2023-10-05T02:15Z); the sun and the count's date come from it.",
    ),
    shadows_toward: str | None = typer.Option(
        None,
        "--shadows-toward",
        metavar="DEGREES",
        help="With --scene: the compass bearing (or point, e.g. ENE) its shadows point to on the "
        "image, when its file gives no time of day; the sun is placed from it (as railcount count "
        "--shadows-toward).",
    ),
    bands: str | None = typer.Option(
        None,
        "--bands",
        help="With --scene: the file's bands to read as red, green, blue (e.g. 3,2,1 for a "
        "blue-green-red-NIR file whose bands carry no names) or one panchromatic band.",
    ),
) -> None:
    """Compare a station's count on a date with its history: verdict, statistics and one sentence.

    Example:
    railcount report --station Tumangang --history counts.csv --date 2023-10-05
    --period pre-pandemic=2018-01-01:2020-01-31 --out report
    """
    from railcount.io.bands import parse_bands
    from railcount.io.scenes import parse_acquired, parse_bearing
    from railcount.report.baseline import Thresholds
    from railcount.reporting import build_report, parse_period, write_report

    station, station_file = station_name_of(station, station_file)
    rep = build_report(
        station,
        history=history,
        db=db,
        day=_date(on, "--date"),
        scene=scene,
        baseline_years=baseline_years,
        baseline_from=_date(baseline_from, "--baseline-from"),
        baseline_to=_date(baseline_to, "--baseline-to"),
        periods=[parse_period(p) for p in period],
        min_observed=min_observed,
        thresholds=Thresholds(min_baseline, elevated_percentile, not point),
        station_file=station_file,
        evidence_dir=out,
        thumbnails=thumbnails,
        acquired=parse_acquired(acquired) if acquired is not None else None,
        shadows_toward=parse_bearing(shadows_toward) if shadows_toward is not None else None,
        bands=parse_bands(bands),
    )
    paths = write_report(rep, out) if out is not None else {}
    if as_json:
        typer.echo(json.dumps(rep.to_dict()))
    else:
        typer.echo(f"{rep.comparison.verdict}: {rep.comparison.sentence}")
        for note in rep.comparison.caveats:
            typer.echo(f"  caveat: {note}")
        for name, stats in rep.comparison.periods.items():
            if stats.n and stats.median is not None and stats.max is not None:
                ratio = (
                    f"{stats.ratio_to_median:.1f}x its median of {stats.median:g}, "
                    if stats.ratio_to_median is not None
                    else ""
                )
                above = "above all" if stats.above_all else f"{stats.reached} at or above it, of"
                typer.echo(
                    f"  {name}: {ratio}{above} {stats.n} observations (high {stats.max:g} "
                    f"on {stats.max_date})"
                )
            else:
                typer.echo(f"  {name}: no well-observed earlier observations")
    if paths:
        typer.echo(f"wrote {paths['report.html']} (and report.json, chart.png, chart.svg)", err=as_json)
