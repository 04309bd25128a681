"""``railcount batch``: count every scene of a source into a results store."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from railcount.batch import Progress


def batch(
    station: Path = typer.Option(
        ...,
        "--station",
        "-s",
        help=(
            "One or more station polygons, named by 'name': GeoJSON (lon/lat, or with a 'crs' member), "
            "a GeoPackage (FILE.gpkg|layername=NAME for one of several layers), a Shapefile or a KML, "
            "as QGIS or Google Earth save them."
        ),
    ),
    scenes: str = typer.Option(
        ...,
        "--scenes",
        help="A folder of GeoTIFFs, NITF or JPEG 2000 files (searched recursively; tiles of one "
        "acquisition are counted as one scene), a text file listing paths or URLs, "
        "or a STAC catalog / ItemCollection (JSON file or URL).",
    ),
    date_from: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help="First acquisition date (YYYY-MM-DD, UTC) to count."
    ),
    date_to: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="Last acquisition date (YYYY-MM-DD, UTC, inclusive)."
    ),
    db: Path = typer.Option(Path("railcount.db"), "--db", help="Results store (one SQLite file)."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        help="Worker processes, one OpenCV/GDAL thread each (default: the number of cores).",
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Run on a Dask cluster at tcp://HOST:PORT "
        "(needs the dask extra: pip install 'railcount\\[dask]').",
    ),
    force: bool = typer.Option(False, "--force", help="Recount scenes the store already holds."),
    max_cloud_cover: float | None = typer.Option(
        None,
        "--max-cloud-cover",
        min=0.0,
        max=100.0,
        help="Skip scenes whose provider reports more cloud than this, percent of the scene "
        "(a STAC item's eo:cloud_cover, else the delivery's metadata files as GDAL reads them); "
        "scenes that report none are counted. Thin cloud the detector cannot see hides cars.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the summary as one JSON object (ok, failed, skipped, db)."
    ),
    bands: str | None = typer.Option(
        None,
        "--bands",
        help="The files' bands to read as red, green, blue (e.g. 3,2,1 for blue-green-red-NIR "
        "files whose bands carry no names) or one panchromatic band, for every scene. Scenes "
        "stored from other bands are counted again.",
    ),
) -> None:
    """Count every station in every scene of SCENES that covers it, into a results store.

    Finished scenes are written as they come, one transaction each: a batch
    stopped at any moment (even kill -9) loses only the scenes in flight, and
    the same command run again counts only what is missing or failed.

    Exit codes: 0 every selected scene counted (undated ones, and ones
    coarser than 1.1 m, are listed as skipped); 3 some failed (the rest are
    stored), or the store was locked by another program or made read-only
    part-way (what was counted is stored: run the same command again);
    1 none could be counted (also: the store stayed locked by another
    program for 30 s); 2 usage error (bad options, missing SOURCE or station
    file, a store that is not one or is read-only).

    A scene whose station window would need more memory than is free fails
    with the reason; RAILCOUNT_MEMORY_LIMIT (e.g. 4G) sets that limit.

    Example:
    railcount batch --station tumangang_station.geojson --scenes scenes/
    --from 2022-01-01 --to 2023-12-31 --db tumangang.db
    """
    from railcount.batch import run_batch
    from railcount.io.bands import parse_bands

    summary = run_batch(
        station,
        scenes,
        db=db,
        start=date_from.date() if date_from else None,
        end=date_to.date() if date_to else None,
        workers=workers,
        scheduler=scheduler,
        force=force,
        max_cloud_cover=max_cloud_cover,
        bands=parse_bands(bands),
        progress=ProgressBar() if sys.stderr.isatty() else log_line,
        log=_note,
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
    else:
        dup = f", {summary.duplicates} duplicate scene(s) counted once" if summary.duplicates else ""
        # Counts made with the sun along the tracks run low: say how many, and where to see which.
        warned = f" ({summary.warned} with a warning: see export's warnings column)" if summary.warned else ""
        typer.echo(
            f"batch: {summary.ok} ok{warned}, {summary.failed} failed, {summary.skipped} skipped"
            f" ({summary.processed} counted in this run, {summary.seconds:.0f} s{dup}) -> {summary.db}"
        )
        if summary.time_unknown:
            # Once, not per scene: an archive dated by its file names has no time of day at all.
            _note(
                f"warning: {summary.time_unknown} of the {summary.ok} counts were made with no time of day "
                "(the sun assumed at 10:30 local solar time, so shadows may be read on the wrong side and "
                "buildings taken for cars); list the scenes with their acquisition times (a line 'PATH "
                "2023-10-05T01:48Z'), or with the bearing their shadows point to on the image ('PATH "
                "shadows=75'), or set TIFFTAG_DATETIME"
            )
    raise typer.Exit(summary.exit_code)


_CLEAR = "\r" + " " * 100 + "\r"


def _note(text: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(_CLEAR)
    print(f"railcount: {text}", file=sys.stderr, flush=True)


def log_line(p: Progress) -> None:
    """One plain line on stderr per finished scene (for logs and pipes)."""
    from railcount.cautions import log_notes
    from railcount.io.scenes import stored_time_unknown

    parts = []
    for o in p.outcomes:
        if o["status"] == "ok":
            count = o["count"]
            warned = log_notes(
                count.get("warnings") or [], count.get("observed_fraction"), count.get("provider_cloud_cover")
            )
            note = "".join(f" (warning: {w})" for w in warned)
            sun = count.get("sun") or {}
            if sun.get("time_of_day") == "from shadows":
                note += f" (sun placed from shadows toward {sun.get('shadows_toward_deg'):g})"
            elif stored_time_unknown(count.get("acquired")):
                note += " (no time of day: sun assumed)"
            parts.append(f"{o['station']} {o['count']['railcars']} railcars{note}")
        elif o["status"] == "skipped":
            parts.append(f"{o['station']} skipped: {o['reason']}")
        else:
            parts.append(f"{o['station']} FAILED: {o['reason']}")
    print(
        f"railcount: [{p.done}/{p.total}] {Path(p.scene).name}: {'; '.join(parts)}",
        file=sys.stderr,
        flush=True,
    )


class ProgressBar:
    """A one-line bar on a terminal: done / failed / remaining, rate and ETA."""

    width = 28

    def __call__(self, p: Progress) -> None:
        if any(o["status"] != "ok" for o in p.outcomes):
            sys.stderr.write(_CLEAR)  # the failure stays on screen, above the bar
            log_line(p)
        filled = round(self.width * p.done / p.total) if p.total else self.width
        eta = p.eta_s
        eta_text = f"ETA {_duration(eta)}" if eta is not None else ""
        line = (
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {p.done}/{p.total} done, {p.failed} failed, "
            f"{p.remaining} left, {p.rate_per_min:.1f} scenes/min {eta_text}"
        )
        sys.stderr.write(line.ljust(100))
        sys.stderr.flush()


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
