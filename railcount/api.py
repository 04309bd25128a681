"""railcount's Python interface: the command line's jobs as functions, for notebooks and scripts.

Each function does what its command does, takes the same inputs in Python's own types (a path, a
:class:`datetime.date` or an ISO 8601 string, a bearing as a number or a compass point) and returns
the objects the command prints from, so that nothing is read back from files::

    import railcount

    (tumangang,) = railcount.count("scene.tif", "station.geojson", out="out/")
    tumangang.result.railcars, tumangang.result.railcars_low, tumangang.result.railcars_high
    tumangang.record()          # the record `railcount count --json` prints
    tumangang.geojson()         # the counted cars, lon/lat (geopandas.GeoDataFrame.from_features)
    tumangang.overlay()         # the overlay picture, RGB (matplotlib's imshow)

    railcount.evaluate_count("scene.tif", "station.geojson", "truth.geojson")  # railcount evaluate
    railcount.count_series("station.geojson", "scenes/", db="station.db", start="2018-01-01")  # batch
    railcount.counts("station.db", station="Tumangang")         # the time series, a dict a row
    judged = railcount.judge("Tumangang", db="station.db", day="2023-10-05", out="report/")  # report
    judged.comparison.verdict, judged.comparison.sentence

Bad input raises :class:`railcount.errors.RailcountError` (a :class:`ValueError` for a usage error,
:class:`railcount.errors.DataError` for a scene or store that cannot be used) whose message is the
one line the command prints. Warnings (an assumed time of day, a caution on the count) are Python
warnings of :class:`railcount.errors.RailcountWarning`'s kinds, which a notebook shows once each.

The functions are named for what they do, not for their commands: ``railcount.batch``,
``railcount.evaluate`` and ``railcount.report`` are the modules behind those commands. The names here
are the stable ones: :mod:`railcount.pipeline`, :mod:`railcount.batch` and the other
modules they call may change between versions.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast

from railcount.errors import UsageError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from railcount.batch import BatchSummary
    from railcount.models import Station
    from railcount.pipeline import StationCount, StationEvaluation
    from railcount.reporting import Report

PathLike = Union[str, "os.PathLike[str]"]
StationsLike = Union[PathLike, "Station", Sequence["Station"], "BaseGeometry", Mapping[str, Any], Any]
"""A station file's path, a :class:`~railcount.models.Station` or several, a shapely (Multi)Polygon in
lon/lat, a GeoJSON object (geometry, Feature or FeatureCollection) as a dict, or anything with
``__geo_interface__`` (a geopandas GeoDataFrame, reprojected to lon/lat from its ``crs``)."""

__all__ = ["count", "count_series", "counts", "detections", "evaluate_count", "judge", "stations"]


_F = TypeVar("_F", bound=Callable[..., Any])


def _warnings_at_caller(fn: _F) -> _F:
    """Warnings raised inside ``fn`` (railcount's cautions, a guessed band order ...) warned again from
    the line that called it, as a notebook's user reads them, not from deep inside railcount."""
    import functools
    import warnings

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
        from railcount.errors import RailcountWarning

        for w in caught:
            if issubclass(w.category, RailcountWarning):
                warnings.warn(w.message, w.category, stacklevel=2)
            else:  # another library's: where it was raised
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        return result

    return cast(_F, wrapper)


def stations(source: StationsLike) -> list[Station]:
    """The stations ``source`` gives, as :class:`~railcount.models.Station` objects (lon/lat).

    A polygon given without a name (a shapely geometry, or GeoJSON with no ``name`` property) is named
    from its outline, so that two different outlines never share a name in a results store (as
    ``station-1`` each, the second's counts replaced the first's):

    >>> from shapely.geometry import box
    >>> [s.name for s in stations(box(130.60, 42.42, 130.61, 42.43))]
    ['station-b21a2e8d']
    >>> [s.name for s in stations({"type": "Feature", "properties": {"name": "Tumangang"},
    ...     "geometry": {"type": "Polygon", "coordinates": [[[130.6, 42.42], [130.61, 42.42],
    ...     [130.61, 42.43], [130.6, 42.42]]]}})]
    ['Tumangang']
    """
    from shapely.geometry.base import BaseGeometry

    from railcount.io.stations import read_stations, stations_from_geojson
    from railcount.models import Station

    if isinstance(source, Station):
        return [source]
    if isinstance(source, (str, os.PathLike)):
        return read_stations(Path(source))
    if isinstance(source, BaseGeometry):
        from shapely.geometry import mapping

        return _named(stations_from_geojson(dict(mapping(source)), source="the station geometry"))
    if isinstance(source, Mapping):
        return _named(stations_from_geojson(dict(source), source="the station GeoJSON"))
    if hasattr(source, "__geo_interface__"):
        return _named(_from_geo_interface(source))
    if isinstance(source, Sequence) and source and all(isinstance(s, Station) for s in source):
        return list(source)
    raise UsageError(
        f"station: expected a file's path, a Station, a shapely Polygon in lon/lat, a GeoJSON dict or a "
        f"GeoDataFrame, not {type(source).__name__}"
    )


def _from_geo_interface(source: Any) -> list[Station]:
    """Stations from an object with ``__geo_interface__`` (a geopandas GeoDataFrame or GeoSeries, a
    fiona feature...): in lon/lat, the object reprojected there first when it says its ``crs``."""
    from railcount.io.stations import stations_from_geojson

    crs = getattr(source, "crs", None)
    if crs is not None and hasattr(source, "to_crs"):
        epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
        if epsg != 4326:
            source = source.to_crs(4326)
    doc = source.__geo_interface__
    if not isinstance(doc, Mapping):
        raise UsageError(f"station: the {type(source).__name__}'s __geo_interface__ is not a GeoJSON object")
    return stations_from_geojson(json_ready(doc), source=f"the station {type(source).__name__}")


def json_ready(doc: Any) -> Any:
    """A ``__geo_interface__`` mapping as plain JSON values (a GeoDataFrame's cells are numpy scalars,
    its coordinates tuples)."""
    if isinstance(doc, Mapping):
        return {str(k): json_ready(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [json_ready(v) for v in doc]
    if hasattr(doc, "item") and not isinstance(doc, (str, bytes)):
        return doc.item()  # a numpy scalar
    return doc


def _named(listed: list[Station]) -> list[Station]:
    """Stations given with no name property named ``station-`` and a fingerprint of their outline (to
    the centimetre), in place of their place in the list."""
    import hashlib
    from dataclasses import replace

    import shapely

    from railcount.io.stations import _name_of

    out = []
    for s in listed:
        if _name_of(dict(s.properties)) is None:
            outline = shapely.set_precision(s.geometry, 1e-7).normalize()
            s = replace(s, name="station-" + hashlib.sha1(shapely.to_wkb(outline)).hexdigest()[:8])
        out.append(s)
    return out


@_warnings_at_caller
def count(
    scene: PathLike | Sequence[PathLike],
    station: StationsLike | None = None,
    *,
    out: PathLike | None = None,
    acquired: str | date | datetime | None = None,
    shadows_toward: str | float | None = None,
    bands: str | Sequence[int] | None = None,
    gsd: float | None = None,
    cloud_cover: float | None = None,
    workers: int = 2,
) -> list[StationCount]:
    """Count the railcars of each station in ``scene``: ``railcount count``.

    ``scene`` is a path or URL, a folder of tiles, or a list of tiles of one acquisition. ``out``
    writes ``overlay.png``, ``detections.geojson`` and ``count.json`` there (a subfolder per station
    when there are several). ``acquired`` (ISO 8601 text, a date, a datetime; naive is UTC) replaces
    the scene's acquisition time; ``shadows_toward`` (degrees clockwise from north, or a compass point
    such as ``"ENE"``) places the sun from the shadows' bearing; ``bands`` (``"3,2,1"`` or ``(3, 2,
    1)``) picks red, green and blue; ``gsd`` counts an image without georeferencing whole, in pixel
    space (then no ``station``); ``workers`` 1 keeps the count in this process.

    Returns one :class:`~railcount.pipeline.StationCount` per station, in the station file's order.
    """
    from railcount.pipeline import count_scene
    from railcount.runtime import helper_allowed

    if station is None and gsd is None:
        raise UsageError("count: give station= (a station file or polygon), or gsd= to count an image whole")
    source = _scene(scene)
    gsd_m = _number(gsd, "gsd", 0.05, 5.0)
    cover = _number(cloud_cover, "cloud_cover", 0.0, 100.0)
    n_workers = _count_of(workers, "workers")
    listed = stations(station) if station is not None else []
    with helper_allowed(n_workers > 1):
        return count_scene(
            source,
            listed,
            out_dir=out,
            bands=_bands(bands),
            gsd_m=gsd_m,
            acquired=_moment(acquired),
            cloud_cover=cover,
            shadows_toward=_bearing(shadows_toward),
        )


@_warnings_at_caller
def evaluate_count(
    scene: PathLike,
    station: StationsLike,
    truth: PathLike,
    *,
    out: PathLike | None = None,
    acquired: str | date | datetime | None = None,
    shadows_toward: str | float | None = None,
    bands: str | Sequence[int] | None = None,
) -> list[StationEvaluation]:
    """Count ``scene`` and score each station's count against ``truth`` (car outlines or points):
    ``railcount evaluate``. ``.to_dict()`` of each result is the record ``--json`` prints (count,
    truth, error, precision, recall, F1, ...); ``out`` writes ``evaluation.png`` and
    ``errors.geojson`` beside the count's files."""
    from railcount.pipeline import evaluate_scene

    return evaluate_scene(
        _path(scene, "scene"),
        stations(station),
        _path(truth, "truth"),
        out_dir=out,
        acquired=_moment(acquired),
        shadows_toward=_bearing(shadows_toward),
        bands=_bands(bands),
    )


@_warnings_at_caller
def count_series(
    station: StationsLike,
    scenes: PathLike,
    *,
    db: PathLike = "railcount.db",
    start: str | date | None = None,
    end: str | date | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    max_cloud_cover: float | None = None,
    bands: str | Sequence[int] | None = None,
) -> BatchSummary:
    """Count every station in every scene of ``scenes`` (a folder, a list file or a STAC catalog),
    acquired from ``start`` to ``end``, into the results store ``db``: ``railcount batch``. A rerun
    counts only what is missing or failed (``force`` recounts all). Returns the summary the command
    prints (``ok``, ``failed``, ``skipped``: every selected scene's state in the store). What the
    command warns of while planning (a station's outline differs from its stored counts', which are
    counted again and replaced; a station no scene covers) is a
    :class:`~railcount.errors.BatchNoteWarning`."""
    from railcount.batch import run_batch

    return run_batch(
        stations(station),
        _path(scenes, "scenes"),
        db=_path(db, "db"),
        start=_day(start, "start"),
        end=_day(end, "end"),
        workers=None if workers is None else _count_of(workers, "workers"),
        scheduler=scheduler,
        force=force,
        max_cloud_cover=_number(max_cloud_cover, "max_cloud_cover", 0.0, 100.0),
        bands=_bands(bands),
        log=_warn_of_notes,
    )


def _warn_of_notes(line: str) -> None:
    """The batch's log, from Python: its warnings and the recounts it plans as warnings (its progress
    and the scenes' failures are in the summary and the store)."""
    import warnings

    from railcount.errors import BatchNoteWarning

    if line.startswith("warning: ") or "counted again" in line:
        warnings.warn(BatchNoteWarning(line.removeprefix("warning: ")), stacklevel=4)


@_warnings_at_caller
def counts(db: PathLike, station: str | None = None, *, detections: bool = False) -> list[dict[str, Any]]:
    """The counts time series in the results store ``db``: one dict per station and scene, sorted by
    acquisition time, with the columns ``railcount export --format csv`` writes (``station``,
    ``scene``, ``acquired``, ``status``, ``railcars``, ``railcars_low``, ``railcars_high``,
    ``locomotives``, ``observed_fraction``, ``gsd_m``, ``detector_version``, ...), except that
    ``acquired`` is a timezone-aware :class:`~datetime.datetime` in UTC (``None`` for a scene with no
    date), where the CSV writes ISO 8601 text. ``pandas.DataFrame(railcount.counts(db))`` makes a
    table of it, with ``acquired`` as a datetime column; where some scenes failed (their ``railcars``
    and interval are None) pandas makes those columns floats, and ``.convert_dtypes()`` on the table
    gives nullable integers (``Int64``, ``<NA>`` for the failed). Each row also holds the detector
    ``params`` the count was made with. ``detections`` also loads each count's cars (lon/lat
    outlines)."""
    from railcount.store import read_station_counts

    name = None if station is None else _name(station, "station")
    rows = read_station_counts(_path(db, "db"), name, detections=detections, mend="check station=")
    for row in rows:
        row["acquired"] = _stored_moment(row["acquired"])
    return rows


@_warnings_at_caller
def detections(db: PathLike, station: str | None = None) -> dict[str, Any]:
    """Every car the results store ``db`` holds (of ``station``, or of all), as one GeoJSON
    FeatureCollection in lon/lat: what ``railcount export --format geojson`` writes, each car with its
    ``station``, ``scene``, ``acquired``, ``date``, ``type``, ``car`` number and ``detector_version``.
    ``geopandas.GeoDataFrame.from_features(railcount.detections(db), crs=4326)`` makes a table of it."""
    from railcount.io.export import detections_collection
    from railcount.store import read_station_counts

    name = None if station is None else _name(station, "station")
    rows = read_station_counts(_path(db, "db"), name, detections=True, mend="check station=")
    return detections_collection(rows)


def _stored_moment(text: str | None) -> datetime | None:
    """A stored acquisition time (ISO 8601, as the store and the CSV keep it) as a UTC datetime."""
    from datetime import timezone

    from railcount.io.scenes import parse_datetime

    moment = parse_datetime(text) if text else None  # (naive is UTC, as the loader reads it)
    return None if moment is None else moment.astimezone(timezone.utc)


@_warnings_at_caller
def judge(
    station: str,
    *,
    db: PathLike | None = None,
    history: PathLike | None = None,
    day: str | date | None = None,
    scene: PathLike | None = None,
    out: PathLike | None = None,
    station_file: PathLike | None = None,
    periods: Sequence[str] = (),
    baseline_years: int = 5,
    min_observed: float = 0.8,
) -> Report:
    """Judge the count of ``station`` on ``day`` (or of ``scene``, counted afresh from
    ``station_file``) against its history in ``db`` (or a CSV ``history``): ``railcount report``.
    ``periods`` are named spans shaded on the chart (``"pre-pandemic=2018-01-01:2020-01-31"``).
    With ``out``, ``report.json``, ``chart.png``, ``chart.svg`` and ``report.html`` are written there,
    with the evidence pack's overlays when ``station_file`` is given. The returned report's
    ``comparison`` holds the verdict, the sentence and the baseline figures."""
    from railcount.errors import RailcountError
    from railcount.reporting import build_report, parse_period, write_report

    if periods is None or isinstance(periods, str):
        periods = () if periods is None else (periods,)
    name = _name(station, "station")  # one station's history, never every station's pooled
    db_path = None if db is None else _path(db, "db")
    history_path = None if history is None else _path(history, "history")
    on = _day(day, "day")
    scene_path = _path(scene, "scene") if scene is not None else None
    polygons = None if station_file is None else _path(station_file, "station_file")
    spans = [parse_period(_name(p, "periods")) for p in periods]
    years = _count_of(baseline_years, "baseline_years")
    least_seen = _number(min_observed, "min_observed", 0.0, 1.0) or 0.0
    if (day is None) == (scene is None):
        raise UsageError("judge: give day= (a date the history has a count of) or scene=, not both")
    try:
        judged = build_report(
            name,
            db=db_path,
            history=history_path,
            day=on,
            scene=scene_path,
            station_file=polygons,
            evidence_dir=out if out is not None and station_file is not None else None,
            periods=spans,
            baseline_years=years,
            min_observed=least_seen,
        )
    except RailcountError as exc:
        # The report's messages name the command's options; from Python, the function's arguments.
        said = python_words(str(exc))
        if said == str(exc):
            raise
        raise type(exc)(said) from None
    if out is not None:
        write_report(judged, out)
    return judged


_OPTIONS_AS_ARGUMENTS = (
    ("--station-file", "station_file="),
    ("--baseline-years", "baseline_years="),
    ("--min-observed", "min_observed="),
    ("--history", "history="),
    ("--station", "station="),
    ("--scene", "scene="),
    ("--date", "day="),
    ("--db", "db="),
)


def python_words(message: str) -> str:
    """A report's one-line message with the command's options named as :func:`judge`'s arguments.

    >>> python_words("x.db: no observation of 'T' on 2023-10-05; choose a --date with a count")
    "x.db: no observation of 'T' on 2023-10-05; choose a day= with a count"
    """
    import re

    for option, argument in _OPTIONS_AS_ARGUMENTS:
        message = re.sub(rf"{re.escape(option)}(?![\w-])", argument, message)
    return message


def _moment(value: str | date | datetime | None) -> datetime | None:
    """An acquisition time from text (as ``--acquired`` reads it), a date (its midnight UTC: a day
    with no time of day) or a datetime (naive is UTC)."""
    from datetime import timezone

    from railcount.io.scenes import parse_acquired

    if value is None:
        return None
    value = _from_numpy_time(value)
    if isinstance(value, str):
        return parse_acquired(value, "acquired")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise UsageError(f"acquired: expected ISO 8601 text, a date or a datetime, not {type(value).__name__}")


def _day(value: str | date | None, name: str) -> date | None:
    """A date from ``YYYY-MM-DD`` text or a date (a datetime gives its date)."""
    if value is None:
        return None
    value = _from_numpy_time(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{name}: {value!r} is not a date; expected YYYY-MM-DD, e.g. 2023-10-05") from None


def _from_numpy_time(value: Any) -> Any:
    """A numpy ``datetime64`` (a DataFrame column's ``.values``) as a UTC datetime; anything else as
    it is (pandas' Timestamp is a datetime already).

    >>> import numpy as np
    >>> _from_numpy_time(np.datetime64("2023-10-05T02:16:07.000000"))
    datetime.datetime(2023, 10, 5, 2, 16, 7, tzinfo=datetime.timezone.utc)
    """
    if type(value).__name__ != "datetime64":
        return value
    from datetime import timedelta, timezone

    import numpy as np

    if np.isnat(value):
        return None
    micros = int(value.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


def _bearing(value: str | float | None) -> float | None:
    """A compass bearing from a number or text (degrees, or a compass point)."""
    from railcount.io.scenes import parse_bearing

    if value is None:
        return None
    return parse_bearing(str(value), "shadows_toward")


def _bands(value: str | Sequence[int] | None) -> tuple[int, ...] | None:
    """Bands as ``"3,2,1"`` or a sequence of band numbers (from 1)."""
    from railcount.io.bands import parse_bands

    if value is None or isinstance(value, str):
        return parse_bands(value)
    if hasattr(value, "tolist") and not isinstance(value, Sequence):
        value = value.tolist()  # a numpy array of band numbers
    if not isinstance(value, Sequence) or not all(
        isinstance(b, numbers.Integral) and not isinstance(b, bool) for b in value
    ):
        raise UsageError(f"bands: expected band numbers from 1, as (3, 2, 1) or '3,2,1'; got {value!r}")
    return parse_bands(",".join(str(b) for b in value))


def _path(value: object, name: str) -> str:
    """A path given as text or a :class:`os.PathLike`, as text; else the one-line usage error."""
    if isinstance(value, (str, os.PathLike)) and os.fspath(value) != "":
        return str(os.fspath(value))
    raise UsageError(f"{name}: expected a path (text or pathlib.Path), not {value!r}")


def _scene(value: object) -> str | list[str]:
    """A scene: one path or URL, or a non-empty list of tiles' paths."""
    if isinstance(value, (str, os.PathLike)):
        return _path(value, "scene")
    if isinstance(value, Sequence) and value:
        return [_path(v, "scene") for v in value]
    raise UsageError(f"scene: expected a path or URL, or a list of tiles' paths, not {value!r}")


def _name(value: object, name: str) -> str:
    """Non-empty text (a station's name, a period)."""
    if isinstance(value, str) and value.strip():
        return value
    raise UsageError(f"{name}: expected a name (non-empty text), not {value!r}")


def _number(value: object, name: str, low: float, high: float) -> float | None:
    """None, or a number from ``low`` to ``high``; else the one-line usage error."""
    if value is None:
        return None
    # numbers.Real: numpy's scalars too (a DataFrame's cell is np.float64, np.int64 ...).
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else None
    if number is None or not low <= number <= high:
        raise UsageError(f"{name}: expected a number from {low:g} to {high:g}, not {value!r}")
    return number


def _count_of(value: object, name: str) -> int:
    """A whole number of 1 or more (workers, years)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise UsageError(f"{name}: expected a whole number of 1 or more, not {value!r}")
    return int(value)
