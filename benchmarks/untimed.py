"""Scenes with a date but no time of day: counted with their time, with the date and the shadows'
bearing (``--shadows-toward``), and with the date alone; prints a table.

Usage:  python benchmarks/untimed.py [--suite tuned] [--realism generic] [--first 600] [--last 680]
                                     [--offsets 0,10,-10] [--workers 2] [--no-real]
                                     [--afternoon 15:30 --scenes 40 --gsd 0.5 --dates ...]
                                     [--joplin-bearing 75] [--muttenz-bearing 28]
                                     [--set NAME=VALUE ...]

A file that gives its date but not its time of day is counted with the sun
assumed at 10:30 local solar time, and an image taken at another hour is
then read with the cars' shadows on the wrong side. ``railcount count
--shadows-toward DEGREES`` takes the compass bearing the shadows point to,
read off the image by the person counting, and places the sun at the time
of that day when they point there (:func:`railcount.detect.sun.sun_from_shadows`).

Generated scenes (from the benchmark cache, generated if missing; the
generated yards' shadows are known exactly) are each counted:

* ``time``: as drawn, with their acquisition time;
* ``bearing +D``: their date only, with the true shadows' bearing plus
  each offset D of ``--offsets`` (degrees; a person reading the bearing
  off an image is a few degrees out); a bearing the sun cannot give that
  day is counted as a failure of that side;
* ``date only``: their date only, the sun assumed at 10:30;
* ``Planet name``: the scene saved again with no tags (no acquisition
  time), its time only in a Planet file name, which Planet writes in UTC
  (``20210320_063900_ssc9_u0001_visual.tif``; detector 0.6.23 reads it;
  0.6.22 read the date alone, as ``date only``).

``--afternoon HH:MM`` counts instead fresh yards (``benchmarks/stress.py``'s
seeds, which no suite uses; ``--scenes``, ``--gsd``, ``--cars``, ``--dates``)
drawn at that local solar time, when the sun is far from where the
assumed 10:30 puts it: the case the bearing is for.

``--set NAME=VALUE`` (repeatable, as in ``accuracy.py``) counts every side with a
DetectorParams field changed.

Rows: the weighted count error (sum |count - truth| / sum truth), bias,
precision / recall / F1 (centres within half a car length), and in how many
scenes the count is the one made with the time. The generated yards are
drawn in mid-morning, near the assumed hour, so ``date only`` costs them
little except where the sun stands along their tracks (the ``generic``
yards' low suns).

With ``../shared/real`` (skipped without it), the real scenes whose files
give a date only: the Joplin parking lot and rail strip (no railcars),
natively and made coarser to 0.75 and 1.0 m as ``benchmarks/real_gsd.py``
makes them (four grid offsets), and Muttenz west (43 wagons) natively and
at 0.3-1.0 m, counted with the sun assumed and with the bearing read off
each image by eye; where a truth is given, each count comes with the
true railcars among its boxes (``COUNT/FOUND``) (``--joplin-bearing``, default 75: the houses' and
trees' shadows point east, a little north; ``--muttenz-bearing``, default
28: the masts' long shadows, north-north-east).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from railcount.errors import UsageError
from railcount.evaluate import Match
from railcount.io.stations import read_stations
from railcount.pipeline import StationEvaluation, evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import (
    NO_RAILCARS,
    ROOT,
    SHARED_REAL,
    add_set_argument,
    ensure_scene,
    ensure_spec,
    known_warnings_ignored,
    params_of,
    parse_overrides,
)
from conditions import Counted, counted_of, figures
from real_gsd import coarse_copies
from stress import stress_folder, stress_spec


def _side(ev: StationEvaluation | None) -> Counted | None:
    """One way of counting a scene, or None where the bearing asked for could not be given."""
    return None if ev is None else counted_of(ev)


def _evaluate(scene: Path, station: Path, truth: Path, **kw: object) -> StationEvaluation | None:
    """The scene's one station evaluated, or None when the bearing asked for cannot be given."""
    try:
        with known_warnings_ignored():
            (ev,) = evaluate_scene(scene, read_stations(station), truth, **kw)  # type: ignore[arg-type]
    except UsageError:
        return None
    return ev


def the_day(when: datetime) -> datetime:
    """Midnight UTC of ``when``'s UTC date: how a date with no time of day reads.

    >>> the_day(datetime(2021, 6, 15, 23, 30, tzinfo=timezone.utc)).isoformat()
    '2021-06-15T00:00:00+00:00'
    """
    d = when.astimezone(timezone.utc)
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def utc_of_local_solar(local: str, lon: float) -> str:
    """``HH:MM`` local solar time at longitude ``lon`` as an ``HH:MM:SS`` UTC time of the same day (the
    equation of time, a quarter of an hour at most, left out).

    >>> utc_of_local_solar("15:30", 130.6), utc_of_local_solar("10:30", -94.5)
    ('06:48:00', '16:48:00')
    """
    hh, mm = (int(x) for x in local.split(":"))
    minutes = round(hh * 60 + mm - 4.0 * lon) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def afternoon_scene(
    i: int, realism: str, gsd: float, dates: list[str], cars: int, local: str, cache: str
) -> tuple[Path, Path]:
    """Fresh yard ``i`` (:func:`stress.stress_spec`) drawn at the local solar time ``local``."""
    from railcount.synth import SceneSpec
    from railcount.synth.sites import spec_site

    spec = stress_spec(i, realism, gsd, dates, cars)
    lon = spec_site(SceneSpec(**spec)).lonlat[0]  # type: ignore[arg-type]
    spec["time_utc"] = utc_of_local_solar(local, lon)
    folder = Path(cache) / f"{stress_folder(realism, gsd, cars)}-{local.replace(':', '')}"
    return ensure_spec(spec, folder)


def scene_sides(job: tuple) -> list[Counted | None]:
    """A generated scene counted with its time, with its date and the true bearing plus each offset,
    and with its date alone. ``job``: (suite, i, cache, realism, offsets, overrides), or with
    ``suite`` ``"afternoon"`` (i, realism, gsd, dates, cars, local time, cache) after it; overrides:
    DetectorParams fields (``--set``)."""
    if job[0] == "afternoon":
        *_, offsets, overrides = job
        tif, station = afternoon_scene(*job[1:-2])
    else:
        suite, i, cache, realism, offsets, overrides = job
        tif, station = ensure_scene(suite, i, cache, realism)
    params = params_of(overrides)
    truth = tif.with_suffix(".truth.geojson")
    timed = _evaluate(tif, station, truth, params=params)
    assert timed is not None and timed.count.result.sun is not None and timed.count.result.acquired
    day = the_day(timed.count.result.acquired)
    toward = (float(timed.count.result.sun["azimuth_deg"]) + 180.0) % 360.0  # type: ignore[arg-type]
    sides = [_side(timed)]
    for off in offsets:
        bearing = (toward + off) % 360.0
        sides.append(
            _side(_evaluate(tif, station, truth, params=params, acquired=day, shadows_toward=bearing))
        )
    sides.append(_side(_evaluate(tif, station, truth, params=params, acquired=day)))
    sides.append(
        _side(_evaluate(planet_copy(tif, timed.count.result.acquired), station, truth, params=params))
    )
    return sides


def planet_copy(tif: Path, when: datetime) -> Path:
    """``tif``'s pixels (bands, mask and band names as they are) with no tags at all, named as Planet
    names a SkySat file taken at ``when`` (UTC), in a folder beside ``tif``'s; made once."""
    import rasterio
    from containers import copy_profile, internal_mask, planet_item

    folder = tif.parent.with_name(tif.parent.name + "-planet")
    with rasterio.open(tif) as ds:
        asset = "visual" if ds.count >= 3 else "panchromatic"
        out = folder / f"{planet_item(when, tif.stem)}_{asset}.tif"
        if out.exists():
            return out
        folder.mkdir(parents=True, exist_ok=True)
        profile = copy_profile(ds, ds.count, ds.dtypes[0])
        bits = ds.tags(1, "IMAGE_STRUCTURE").get("NBITS")
        mask = internal_mask(ds)
        part = out.with_suffix(".part.tif")
        with rasterio.open(part, "w", **profile) as dst:
            dst.write(ds.read())
            dst.colorinterp = ds.colorinterp
            if bits:
                dst.update_tags(1, ns="IMAGE_STRUCTURE", NBITS=bits)
            if mask is not None:
                dst.write_mask(mask)
        part.replace(out)
    return out


def labels(offsets: tuple[float, ...]) -> list[str]:
    """The sides' row labels.

    >>> labels((0.0, 10.0, -10.0))
    ['time', 'bearing +0', 'bearing +10', 'bearing -10', 'date only', 'Planet name']
    """
    return ["time", *(f"bearing {o:+g}" for o in offsets), "date only", "Planet name"]


HEAD = f"{'side':<14}{'scenes':>7}{'truth':>7}{'count':>7}{'WAPE':>8}{'bias':>8}{'P':>6}{'R':>6}{'F1':>6}"
HEAD += f"{'same as time':>14}{'failed':>8}"


def side_row(label: str, sides: list[Counted | None], timed: list[Counted | None]) -> str:
    """A table row: the scenes one side counted, pooled (the scenes it failed on, None, left out)."""
    done = [(s, t) for s, t in zip(sides, timed, strict=True) if s is not None]
    counted = [s for s, _ in done]
    error, off, _, found, truth = figures(counted)
    m = Match(truth, sum(s.detections for s in counted), found)
    count = sum(s.count for s in counted)
    same = sum(t is not None and s.count == t.count for s, t in done)
    wape = f"{error:.1%}" if truth else "-"
    bias = f"{off:+.1%}" if truth else "-"
    failed = len(sides) - len(done)
    return (
        f"{label:<14}{len(done):>7}{truth:>7}{count:>7}{wape:>8}{bias:>8}"
        f"{m.precision:>6.2f}{m.recall:>6.2f}{m.f1:>6.2f}{f'{same}/{len(done)}':>14}{failed:>8}"
    )


def generated_table(per_scene: list[list[Counted | None]], offsets: tuple[float, ...]) -> list[str]:
    """The generated scenes' table: a row per side (each scene's first, counted with its time, is
    never None)."""
    lines = [HEAD, "-" * len(HEAD)]
    timed = [s[0] for s in per_scene]
    for k, label in enumerate(labels(offsets)):
        lines.append(side_row(label, [s[k] for s in per_scene], timed))
    return lines


REAL_BEARING_CASES = (
    ("joplin lot", "joplin/joplin_2011.tif", "joplin/station_lot.geojson", None, (0.75, 1.0)),
    ("joplin rail", "joplin/joplin_2011.tif", "joplin/station_rail.geojson", None, (0.75, 1.0)),
    (
        "muttenz west",
        "muttenz/muttenz_2018.tif",
        "muttenz/station_west.geojson",
        "muttenz/truth_west.geojson",
        (0.3, 0.5, 0.75, 1.0),
    ),
)
"""(name, scene, station, truth or None for no railcars, GSDs to make coarser) under ``../shared/real``."""


def _counted(ev: StationEvaluation | None, labelled: bool) -> str:
    """A count, with the true railcars among its boxes after a slash where the scene is labelled."""
    if ev is None:
        return "-"
    return (
        f"{ev.count.result.railcars}/{ev.match.true_positives}" if labelled else str(ev.count.result.railcars)
    )


def real_lines(
    bearings: dict[str, float], folder: Path, overrides: dict[str, object] | None = None
) -> list[str]:
    """A row per real scene and GSD: its counts (each grid offset; where labelled, COUNT/FOUND: the
    true railcars among the boxes) with the sun assumed and with the bearing read off the image, and
    the truth."""
    head = f"{'scene':<14}{'gsd':>6}{'bearing':>9}{'truth':>7}{'assumed sun':>26}{'with the bearing':>26}"
    lines = [head, "-" * len(head)]
    for name, tif, station, truth_file, gsds in REAL_BEARING_CASES:
        src, stations = SHARED_REAL / tif, SHARED_REAL / station
        truth = SHARED_REAL / truth_file if truth_file else NO_RAILCARS
        bearing = bearings[name.split()[0]]
        for gsd in (None, *gsds):
            copies = [src] if gsd is None else coarse_copies(src, gsd, 0.55, folder)
            assumed, given = [], []
            for copy in copies:
                a = _evaluate(copy, stations, truth, params=params_of(overrides))
                g = _evaluate(copy, stations, truth, params=params_of(overrides), shadows_toward=bearing)
                assumed.append(_counted(a, truth_file is not None))
                given.append(_counted(g, truth_file is not None))
                n = (a or g).truth_count if (a or g) else 0
            label = "native" if gsd is None else f"{gsd:.2f}"
            lines.append(
                f"{name:<14}{label:>6}{bearing:>9g}{n:>7}{' '.join(assumed):>26}{' '.join(given):>26}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="tuned")
    ap.add_argument("--realism", default="generic", help="v1 (plain), v2 or generic (default)")
    ap.add_argument("--first", type=int, default=600)
    ap.add_argument("--last", type=int, default=680, help="one past the last scene")
    ap.add_argument(
        "--offsets", default="0,10,-10", help="degrees added to the true bearing, comma-separated"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    ap.add_argument("--no-real", action="store_true", help="leave out the real scenes")
    ap.add_argument("--afternoon", metavar="HH:MM", help="fresh yards drawn at this local solar time")
    ap.add_argument("--scenes", type=int, default=40, help="with --afternoon: how many yards")
    ap.add_argument("--gsd", type=float, default=0.5, help="with --afternoon: their GSD (metres)")
    ap.add_argument("--cars", type=int, default=40, help="with --afternoon: railcars drawn in each")
    ap.add_argument(
        "--dates", default="2021-03-20,2021-06-20,2021-09-22,2021-12-21", help="with --afternoon: in turn"
    )
    add_set_argument(ap)
    ap.add_argument("--joplin-bearing", type=float, default=75.0)
    ap.add_argument("--muttenz-bearing", type=float, default=28.0)
    args = ap.parse_args(argv)
    overrides = parse_overrides(args.set, ap)
    offsets = tuple(float(x) for x in args.offsets.split(",") if x.strip())
    if args.afternoon:
        dates = [d.strip() for d in args.dates.split(",") if d.strip()]
        jobs: list[tuple] = [
            (
                "afternoon",
                i,
                args.realism,
                args.gsd,
                dates,
                args.cars,
                args.afternoon,
                args.cache,
                offsets,
                overrides,
            )
            for i in range(args.scenes)
        ]
        what = (
            f"{args.scenes} fresh {args.realism} yards at {args.gsd:g} m drawn at {args.afternoon} local time"
        )
    else:
        jobs = [
            (args.suite, i, args.cache, args.realism, offsets, overrides)
            for i in range(args.first, args.last)
        ]
        what = f"{args.suite} {args.realism} scenes {args.first}-{args.last - 1}"
    with ProcessPoolExecutor(args.workers) as pool:
        per_scene = list(pool.map(scene_sides, jobs))
    print(
        f"{what}: with their time, with their date and the shadows' bearing (true + offset), with their "
        "date alone (sun assumed at 10:30), and saved with their time only in a Planet file name"
    )
    print("\n".join(generated_table(per_scene, offsets)))
    if args.no_real:
        return 0
    if not SHARED_REAL.is_dir():
        print(f"\nreal scenes: {SHARED_REAL} not found, skipped")
        return 0
    print("\nreal scenes (date only), counts per grid offset (native: one)")
    with tempfile.TemporaryDirectory() as tmp:
        bearings = {"joplin": args.joplin_bearing, "muttenz": args.muttenz_bearing}
        print("\n".join(real_lines(bearings, Path(tmp), overrides)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
