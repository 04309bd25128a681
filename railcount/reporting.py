"""Judge a count against the station's history: load -> compare -> (evidence) -> write.

The stage after counting and storing: read the history (an analyst's CSV or
the batch results store), pick the observation being judged, compare it with
its baseline (:mod:`railcount.report.baseline`), optionally gather the
evidence (overlays of the judged scene and of some baseline scenes, counted
again from their files) and write ``report.json``, ``chart.png``,
``chart.svg`` and ``report.html``.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from railcount.errors import (
    CautionWarning,
    ChartFontWarning,
    CoarseImageryWarning,
    EmptyBaselineError,
    NoObservationError,
    OverlayUnavailableWarning,
    RailcountError,
    SeveralCountsWarning,
    StationError,
    UsageError,
)
from railcount.io.history import observation_from_record, read_history_csv, read_history_db
from railcount.models import Station
from railcount.report.baseline import Comparison, Observation, Period, Thresholds, compare


@dataclass(frozen=True)
class Overlay:
    """A counted scene's overlay picture (PNG bytes) and where its outputs were written."""

    observation: Observation
    png: bytes
    folder: Path


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a report shows: the comparison, the history it came from and the evidence."""

    comparison: Comparison
    history: tuple[Observation, ...]
    source: str
    judged_overlay: Overlay | None = None
    overlay_note: str = ""
    """Why the judged scene's overlay is missing, when it is."""
    thumbnails: tuple[Overlay, ...] = ()
    thumbnail_note: str = ""
    """Why the previous high has no thumbnail, when it has none though one was asked for."""
    detector: dict[str, Any] = field(default_factory=dict)
    """Detector version and parameters of the judged count, when known."""

    def to_dict(self) -> dict[str, Any]:
        out = self.comparison.to_dict()
        out["source"] = self.source
        out["detector"] = self.detector
        return out

    def __repr__(self) -> str:
        # (The dataclass's own printed every observation's detector parameters: 80,000 characters in a
        # notebook's cell.) The verdict's line, and where the rest is.
        c = self.comparison
        return (
            f"<Report {c.station!r} {c.judged.date.isoformat()}: {c.verdict}; {len(c.caveats)} caveat(s), "
            f"{c.baseline.n} baseline counts; .comparison.sentence, .to_dict()>"
        )


def parse_period(text: str) -> Period:
    """``NAME=YYYY-MM-DD:YYYY-MM-DD`` as a :class:`Period`."""
    name, eq, span = text.partition("=")
    start, colon, end = span.partition(":")
    try:
        if not (eq and colon and name.strip()):
            raise ValueError
        p = Period(name.strip(), date.fromisoformat(start.strip()), date.fromisoformat(end.strip()))
    except ValueError:
        raise UsageError(
            f"--period {text!r}: expected NAME=FROM:TO with dates YYYY-MM-DD, "
            "e.g. pre-pandemic=2018-01-01:2020-01-31"
        ) from None
    if p.end < p.start:
        raise UsageError(f"--period {text!r}: ends before it starts; give FROM:TO in order")
    return p


def load_history(
    station: str, *, history: str | os.PathLike[str] | None = None, db: str | os.PathLike[str] | None = None
) -> tuple[list[Observation], str]:
    """The station's observations and a name for their source (exactly one of ``history``/``db``)."""
    if (history is None) == (db is None):
        raise UsageError("give exactly one of --history FILE.csv or --db PATH")
    if history is not None:
        return read_history_csv(history, station), str(history)
    assert db is not None
    return read_history_db(db, station), str(db)


def find_judged(
    obs: Sequence[Observation],
    source: str,
    station: str,
    *,
    day: date | None = None,
    scene: str | None = None,
) -> Observation | None:
    """The observation on ``day`` (the best-observed one if several) or of ``scene``.

    Raises :class:`NoObservationError` for a date with no observation; returns
    ``None`` for a scene not in the history (the caller may count it).
    """
    if day is not None:
        same = [o for o in obs if o.date == day]
        if not same:
            before = [o.date for o in obs if o.date < day]
            after = [o.date for o in obs if o.date > day]
            near = []
            if before:
                near.append(f"{max(before).isoformat()} before")
            if after:
                near.append(f"{min(after).isoformat()} after")
            raise NoObservationError(
                f"{source}: no observation of {station!r} on {day.isoformat()} "
                f"(nearest: {', '.join(near) or 'none'}); choose a --date with a count"
            )
        best = max(same, key=lambda o: o.observed_fraction if o.observed_fraction is not None else 1.0)
        if len(same) > 1:  # said, not chosen silently

            def said(o: Observation) -> str:
                return str(o.railcars) + (f" ({Path(o.scene).name})" if o.scene else "")

            warnings.warn(
                SeveralCountsWarning(
                    f"{source}: {len(same)} counts of {station!r} on {day.isoformat()} "
                    f"({', '.join(map(said, same))}); the best observed, {said(best)}, is judged: pass "
                    "--scene to judge another, or keep one row a date"
                ),
                stacklevel=2,
            )
        return best
    assert scene is not None
    from railcount.io.sources import is_url, scene_key

    exact = [o for o in obs if o.scene == scene or scene in o.tiles]
    if not exact and not is_url(scene):
        path = os.path.abspath(scene)
        exact = [o for o in obs if o.scene and not is_url(o.scene) and os.path.abspath(o.scene) == path]
    if exact:
        return exact[0]
    keyed = [o for o in obs if o.scene_key and o.scene_key.startswith("sha256:")]
    if keyed and not is_url(scene) and os.path.isfile(scene):
        # A file here, and a store that knows its scenes' content: the same content under another
        # path is the stored count; another file of the same name (providers reuse names) is not,
        # and is counted afresh.
        key = scene_key(scene)
        return next((o for o in keyed if o.scene_key == key), None)
    # A history CSV (scenes by name), or a scene named but not here: its name.
    by_name = [o for o in obs if o.scene and Path(o.scene).name == Path(scene).name]
    return by_name[0] if by_name else None


def _not_counted_that_day(
    exc: NoObservationError, db: str | os.PathLike[str] | None, station: str, day: date | None
) -> NoObservationError:
    """``exc``, or, where the store holds the station's scene of ``day`` as failed or skipped, the same
    error saying so and why (it read only 'choose a --date with a count')."""
    if db is None or day is None:
        return exc
    from railcount.store import read_counts

    try:
        rows = read_counts(db, station, detections=False)
    except RailcountError:
        return exc
    missed = [
        r
        for r in rows
        if r.get("status") in ("failed", "skipped") and str(r.get("acquired") or "")[:10] == day.isoformat()
    ]
    if not missed:
        return exc
    r = missed[0]
    return NoObservationError(
        f"{db}: {station!r} on {day.isoformat()} was not counted: its scene {Path(str(r['scene'])).name} "
        f"is stored as {r['status']} ({r.get('reason') or 'no reason given'}); fix it and run the batch "
        "again, or choose a --date with a count"
    )


def build_report(
    station: str,
    *,
    history: str | os.PathLike[str] | None = None,
    db: str | os.PathLike[str] | None = None,
    day: date | None = None,
    scene: str | None = None,
    baseline_years: int = 5,
    baseline_from: date | None = None,
    baseline_to: date | None = None,
    periods: Sequence[Period] = (),
    min_observed: float = 0.8,
    thresholds: Thresholds | None = None,
    station_file: str | os.PathLike[str] | None = None,
    evidence_dir: str | os.PathLike[str] | None = None,
    thumbnails: int = 4,
    acquired: datetime | None = None,
    shadows_toward: float | None = None,
    bands: Sequence[int] | None = None,
) -> Report:
    """Compare the count on ``day`` (or of ``scene``) with the station's earlier counts.

    With ``evidence_dir`` and ``station_file`` (the station polygon, GeoJSON),
    the judged scene and up to ``thumbnails`` baseline scenes are counted again
    from their files and their outputs (overlay, detections, count) written
    under ``evidence_dir``; scenes that cannot be read are left out.
    A ``scene`` that is not in the history is counted (``station_file`` needed),
    at ``acquired`` when given (the time its file does not give), and with the sun placed from the
    shadows' bearing ``shadows_toward`` when given (see :func:`railcount.pipeline.count_scene`), and
    from the file's ``bands`` when given (red, green, blue, or one).
    """
    if (day is None) == (scene is None):
        raise UsageError("give exactly one of --date YYYY-MM-DD or --scene SCENE")
    fresh_only = ((acquired, "--acquired"), (shadows_toward, "--shadows-toward"), (bands, "--bands"))
    for given, option in fresh_only:
        if given is not None and scene is None:
            raise UsageError(f"{option} is for a --scene counted afresh; with --date drop it")
    if not 0.0 <= min_observed <= 1.0:
        raise UsageError(f"--min-observed {min_observed}: expected a share between 0 and 1, e.g. 0.8")
    if baseline_years < 1:
        raise UsageError(f"--baseline-years {baseline_years}: expected 1 or more")
    th = thresholds or Thresholds()
    if not 0 < th.elevated_percentile < 100:
        raise UsageError(f"--elevated-percentile {th.elevated_percentile}: expected between 0 and 100")
    if th.min_observations < 1:
        raise UsageError(f"--min-baseline {th.min_observations}: expected 1 or more")
    if baseline_from and baseline_to and baseline_to < baseline_from:
        raise UsageError("--baseline-to is before --baseline-from; give the window in order")
    if evidence_dir is not None:
        require_matplotlib()
    obs, source = load_history(station, history=history, db=db)
    # Read once, before any work: a wrong polygon file is a usage error.
    polygon = None if station_file is None else station_polygon(station_file, station)
    try:
        judged = find_judged(obs, source, station, day=day, scene=scene)
    except NoObservationError as exc:
        raise _not_counted_that_day(exc, db, station, day) from None
    for given, option in fresh_only:
        if judged is not None and given is not None:
            raise UsageError(
                f"{source}: scene {scene} is already in the history of {station!r} (counted as of "
                f"{judged.date.isoformat()}); {option} is for a scene counted afresh: drop it"
            )
    if evidence_dir is not None:
        from railcount.io.outputs import output_dir

        # An --out that cannot be made fails here, not after every evidence scene was counted for nothing.
        output_dir(Path(evidence_dir))
    fresh = None
    if judged is None:
        assert scene is not None
        if polygon is None:
            raise NoObservationError(
                f"{source}: scene {scene} is not in the history of {station!r}; "
                "give --station-file STATION.geojson to count it, or choose a --date"
            )
        folder = None if evidence_dir is None else Path(evidence_dir) / "judged"
        fresh = _count(scene, polygon, folder, acquired, shadows_toward, bands)
        judged = fresh.observation
    comp = compare(
        judged,
        obs,
        station=station,
        baseline_years=baseline_years,
        baseline_from=baseline_from,
        baseline_to=baseline_to,
        periods=periods,
        min_observed=min_observed,
        thresholds=th,
    )
    if comp.baseline.n == 0:
        raise EmptyBaselineError(
            f"{source}: no well-observed count of {station!r} between {comp.baseline_start.isoformat()} "
            f"and {comp.baseline_end.isoformat()} ({len(comp.excluded)} left out for observed_fraction "
            f"below {min_observed}); widen the window (--baseline-years, --baseline-from) "
            "or lower --min-observed"
        )
    detector: dict[str, Any] = {}
    if judged.detector_version:
        detector = {"version": judged.detector_version, "params": judged.params}
    report = Report(comp, tuple(obs), source, detector=detector)
    if evidence_dir is None:
        return report
    return _with_evidence(report, fresh, polygon, Path(evidence_dir), thumbnails, history)


def _with_evidence(
    report: Report,
    fresh: Overlay | None,
    polygon: Station | None,
    out: Path,
    thumbnails: int,
    history: str | os.PathLike[str] | None,
) -> Report:
    comp = report.comparison
    if polygon is None:
        return replace(
            report,
            overlay_note=(
                "Overlay unavailable: give --station-file STATION.geojson (the station polygon) "
                "to count the scene again and draw every car."
            ),
        )
    base_dir = Path(history).parent if history is not None else Path.cwd()
    judged, note = fresh, ""
    if judged is None:
        judged, note = _try_count(comp.judged, polygon, out / "judged", base_dir)
        if judged is None and comp.judged.scene:  # said here too, not only inside report.html
            warnings.warn(
                OverlayUnavailableWarning(
                    f"{note.removeprefix('Overlay unavailable: ')} (the report has no overlay of the "
                    "judged count; its figures are the history's)"
                ),
                stacklevel=2,
            )
    thumbs: list[Overlay] = []
    tries = 0
    thumb_note = ""
    for k, o in enumerate(_thumbnail_candidates(comp)):
        if len(thumbs) >= thumbnails or tries >= 3 * thumbnails:
            break
        path = _resolve(o.tiles[0] if o.tiles else o.scene or "", base_dir)
        why = ""
        if "://" not in path and not Path(path).is_file():
            why = f"{path}: scene file not found"  # a missing local file costs nothing to skip
        else:
            tries += 1
            ov, why = _try_count(o, polygon, out / "baseline" / o.date.isoformat(), base_dir)
            if ov is not None:
                thumbs.append(ov)
        if why and k == 0:  # the previous high, the picture a reader looks for first: say why not
            thumb_note = (
                f"The previous high ({o.date.isoformat()}, {o.railcars} railcars) could not be drawn: "
                f"{why.removeprefix('Overlay unavailable: ')}."
            )
    thumbs.sort(key=lambda t: t.observation.date)
    detector = report.detector
    if fresh is not None:
        detector = {"version": fresh.observation.detector_version, "params": fresh.observation.params}
    return replace(
        report,
        judged_overlay=judged,
        overlay_note=note,
        thumbnails=tuple(thumbs),
        thumbnail_note=thumb_note,
        detector=detector,
    )


def _thumbnail_candidates(comp: Comparison) -> list[Observation]:
    """Baseline counts worth a picture, best first: the previous high, then the most recent."""
    with_scene = [o for o in comp.baseline_obs if o.scene]
    if not with_scene:
        return []
    top = max(with_scene, key=lambda o: o.railcars)
    return [top, *(o for o in reversed(with_scene) if o is not top)]


def _resolve(scene: str, base_dir: Path) -> str:
    if "://" in scene or Path(scene).is_absolute() or Path(scene).exists():
        return scene
    return str(base_dir / scene)


def _try_count(o: Observation, polygon: Station, folder: Path, base_dir: Path) -> tuple[Overlay | None, str]:
    if not o.scene:
        return None, "Overlay unavailable: the history gives no scene for this count."
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # A scene counted as a mosaic of tiles is read from its tiles again, as one.
            scene = [_resolve(t, base_dir) for t in o.tiles] if o.tiles else _resolve(o.scene, base_dir)
            # At the time (and the shadows' bearing) the stored count was made with: a STAC item's or a
            # scene list's may not be the file's.
            drawn = _count(
                scene, polygon, folder, o.acquired_at, o.shadows_toward, o.bands or None, o.acquired_from
            )
    except RailcountError as exc:
        return None, f"Overlay unavailable: {exc}"
    for w in caught:
        # A count already in the history is counted again only to draw it. A caution its stored
        # count carries reaches the report's caveats and the chart's rings (coarse imagery from the
        # counts' GSDs), so it is not printed again; one the history did not keep is.
        m = w.message
        if isinstance(m, CoarseImageryWarning) or (
            isinstance(m, CautionWarning) and any(str(m).endswith(c) for c in o.warnings)
        ):
            continue
        warnings.warn(m, stacklevel=2)
    return drawn, ""


def station_polygon(station_file: str | os.PathLike[str], station: str) -> Station:
    """The station named ``station`` in a GeoJSON file (a one-line error when it is not there)."""
    from railcount.io.stations import read_stations

    stations = read_stations(Path(station_file))
    for s in stations:
        if s.name == station:
            return s
    names = ", ".join(repr(s.name) for s in stations[:8])
    raise StationError(f"{station_file}: no station named {station!r} (found: {names}); check --station-file")


def _count(
    scene: str | list[str],
    polygon: Station,
    folder: Path | None,
    acquired: datetime | None = None,
    shadows_toward: float | None = None,
    bands: Sequence[int] | None = None,
    acquired_from: str | None = None,
) -> Overlay:
    from railcount.detect.params import DetectorParams
    from railcount.io.mosaic import scene_label
    from railcount.pipeline import count_scene

    params = DetectorParams()  # passed, so that the parameters recorded are the ones used
    (sc,) = count_scene(
        scene,
        [polygon],
        params=params,
        out_dir=folder,
        acquired=acquired,
        shadows_toward=shadows_toward,
        bands=bands,
        acquired_from=acquired_from or "given",
    )
    # The judged count keeps what it was warned of (a caveat of the report).
    record = {**sc.result.to_dict(), "params": params.to_dict(), "warnings": list(sc.cautions)}
    o = observation_from_record(record)
    if o is None:
        raise NoObservationError(
            f"{scene_label(scene)}: has no acquisition date (no date tag, no YYYY-MM-DD, YYYY_MM_DD or "
            "YYYYMMDD in its name); pass --acquired YYYY-MM-DDTHH:MMZ, name the file with its date, or "
            "judge a --date from the history"
        )
    png = sc.outputs["overlay"].read_bytes() if sc.outputs else b""
    return Overlay(o, png, folder or Path("."))


def require_matplotlib() -> None:
    """Fail early, in one line, when the chart cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(
            "--out needs matplotlib for the chart; install it with: pip install 'railcount[report]'"
        ) from None


def _say_missing_glyphs(caught: list[warnings.WarningMessage], station: str) -> None:
    """Matplotlib warns once per character its font cannot draw (a station named in Chinese: six raw
    lines); say it once, as railcount's, and pass any other warning on."""
    import re

    missing: list[str] = []
    for w in caught:
        found = re.search(r"Glyph (\d+) .*missing from font", str(w.message))
        if found:
            char = chr(int(found.group(1)))
            missing += [] if char in missing else [char]
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing:
        warnings.warn(
            ChartFontWarning(
                f"chart: its font has no glyphs for {''.join(missing)!r} (in {station!r}), drawn as boxes "
                "in chart.png and chart.svg; report.html and report.json give the name in full"
            ),
            stacklevel=3,
        )


def write_report(report: Report, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``report.json``, ``chart.png``, ``chart.svg`` and ``report.html`` into ``out_dir``."""
    require_matplotlib()
    from railcount.io.outputs import output_dir
    from railcount.report.chart import baseline_chart
    from railcount.report.pack import render_html

    out = output_dir(Path(out_dir))
    paths = {name: out / name for name in ("report.json", "chart.png", "chart.svg", "report.html")}
    png = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = baseline_chart(report.comparison, report.history)
        fig.savefig(png, format="png")
        fig.savefig(paths["chart.svg"], format="svg")
    _say_missing_glyphs(caught, report.comparison.station)
    paths["chart.png"].write_bytes(png.getvalue())
    paths["report.json"].write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    paths["report.html"].write_text(render_html(report, png.getvalue()), encoding="utf-8")
    return paths
