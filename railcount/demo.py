"""The demo: a synthetic Tumangang series 2018-2023, batched, then judged.

Generates about 60 scenes of ordinary traffic and a surge to 73 railcars on
2023-10-05 (:func:`demo_series`), counts them into a results store with the
batch (:func:`railcount.batch.run_batch`) and writes the report of the surge
(:func:`railcount.reporting.build_report`). The scenes are drawn at 1 m ground
sample distance, so the whole run takes under a minute on two cores; their
counts are rougher, and their intervals wider, than at 0.5 m. Every output
says the data are synthetic (:data:`railcount.models.SYNTHETIC_TAG`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from railcount.errors import UsageError

STATION = "Tumangang"
SURGE_DATE = date(2023, 10, 5)
SURGE_CARS = 73
PERIODS = ("pre-pandemic=2018-01-01:2020-01-31",)
GSD_M = 1.0


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put things, and what the report says."""

    scenes: Path
    station_file: Path
    db: Path
    report_dir: Path
    html: Path
    verdict: str
    sentence: str
    caveats: tuple[str, ...]
    seconds: float
    phases: dict[str, float]
    """Seconds spent generating, counting (batch) and reporting."""


def demo_series(n_dates: int = 60, seed: int = 2023) -> list[tuple[date, int]]:
    """``n_dates`` (date, railcars) pairs: ordinary traffic 2018-2023, then the surge.

    Ordinary traffic is 10-38 railcars (around 24), on dates about a month
    apart from January 2018; the last pair is 73 railcars on 2023-10-05.
    """
    if n_dates < 2:
        raise UsageError(f"--dates {n_dates}: expected 2 or more")
    rng = np.random.default_rng(seed)
    start, end = date(2018, 1, 15), date(2023, 9, 20)
    span = (end - start).days
    steps = np.linspace(0, span, n_dates - 1) + rng.integers(-6, 7, n_dates - 1)
    days = sorted({start + timedelta(days=int(np.clip(s, 0, span))) for s in steps})
    cars = np.clip(np.round(rng.normal(24, 6, len(days))), 10, 38).astype(int)
    return [*zip(days, (int(c) for c in cars), strict=True), (SURGE_DATE, SURGE_CARS)]


def _make_scene(args: tuple[str, date, int, int]) -> str:
    from railcount.synth import SceneSpec, synthesize, write_scene

    folder, day, cars, seed = args
    # Supersampled as every benchmark scene is: drawn at the 1 m grid itself (until session 72, for
    # speed) the ballast's grain aliased into false cars, and the series counted 14 % high.
    spec = SceneSpec(site="tumangang", date=day.isoformat(), cars=cars, gsd_m=GSD_M, seed=seed)
    return str(write_scene(synthesize(spec), folder)["tif"])


def generate(folder: Path, series: list[tuple[date, int]], *, workers: int | None = None) -> Path:
    """Write the series' scenes (skipping those already there) and the station; return the station file."""
    from railcount.batch import usable_cores  # the batch's default
    from railcount.io.outputs import output_dir
    from railcount.synth import write_station

    _check_workers(workers)
    output_dir(folder)  # or one line saying why it cannot be
    todo = [
        (str(folder), day, cars, 1000 + i)
        for i, (day, cars) in enumerate(series)
        if not (folder / f"tumangang_{day.isoformat()}.tif").is_file()
    ]
    n = max(1, min(workers or usable_cores(), len(todo)))
    if n == 1:
        for job in todo:
            _make_scene(job)
    else:
        # spawn, not fork: forking a process that holds threads (GDAL, OpenCV) can deadlock.
        # Its workers die with this process (a demo stopped with kill -9 leaves none behind).
        from railcount.workers import die_with_parent

        pool = ProcessPoolExecutor(
            n, mp_context=get_context("spawn"), initializer=die_with_parent, initargs=(os.getpid(),)
        )
        with pool:
            list(pool.map(_make_scene, todo, chunksize=max(1, len(todo) // (4 * n))))
    return write_station("tumangang", folder)


def _check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more; got {workers}")


def run_demo(
    out_dir: str | os.PathLike[str] = "railcount-demo",
    *,
    n_dates: int = 60,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate the series into ``out_dir/scenes``, batch it into ``out_dir/railcount.db`` and
    write the report of 2023-10-05 into ``out_dir/report``.

    Run again, it reuses the scenes and the store (only what is missing is made or counted).
    """
    from railcount.batch import run_batch
    from railcount.reporting import build_report, parse_period, require_matplotlib, write_report

    require_matplotlib()  # before a minute's work, not after
    _check_workers(workers)
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    out = Path(out_dir)
    scenes, db, report_dir = out / "scenes", out / "railcount.db", out / "report"
    series = demo_series(n_dates)
    say(
        f"generating {len(series)} synthetic scenes of Tumangang "
        f"({series[0][0]} to {series[-1][0]}) in {scenes}"
    )
    station_file = generate(scenes, series, workers=workers)
    t1 = time.perf_counter()
    say(f"counting them into {db}")
    run_batch(station_file, scenes, db=db, workers=workers)
    t2 = time.perf_counter()
    say(f"judging {SURGE_DATE} against the five years before")
    rep = build_report(
        STATION,
        db=db,
        day=SURGE_DATE,
        periods=[parse_period(p) for p in PERIODS],
        station_file=station_file,
        evidence_dir=report_dir,
    )
    paths = write_report(rep, report_dir)
    t3 = time.perf_counter()
    c = rep.comparison
    return DemoResult(
        scenes,
        station_file,
        db,
        report_dir,
        paths["report.html"],
        c.verdict,
        c.sentence,
        c.caveats,
        t3 - t0,
        {"generate": t1 - t0, "count": t2 - t1, "report": t3 - t2},
    )
