"""Count every scene of a station over a date range into a results store, resumably.

The flow: list the SOURCE's scenes (:mod:`railcount.io.sources`) -> plan
(date, footprint, duplicates, what the store already holds) -> run the scene
tasks (:mod:`railcount.workers`: in process, local processes or Dask) ->
write each finished scene to the store in its own transaction
(:mod:`railcount.store`) -> summarise the state of every selected scene.

Because only finished scenes are written, and each in one transaction,
stopping the batch at any moment (Ctrl-C, ``kill -9``) loses at most the
scenes in flight; running it again does only what is missing or
failed.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from railcount.detect.params import DETECTOR_VERSION, DetectorParams, too_coarse
from railcount.errors import BatchStoppedError, StoreError, TooCoarseError, UsageError
from railcount.io.mosaic import TileGrid, scene_label
from railcount.io.planet import one_image_per_item
from railcount.io.scenes import date_from_name, ground_pixel_size
from railcount.io.sources import SceneSource, is_url, list_scenes, probe_scene, scene_key, tile_groups
from railcount.io.stations import outline_text, same_outline
from railcount.models import Station
from railcount.store import Record, Store, count_states, open_store
from railcount.workers import SceneTask, connect_dask, describe, run_tasks

PLAN_LOG_EVERY_S = 10.0
"""How often a batch still planning says how far it has got (seconds)."""

NO_DATE = (
    "no acquisition date (no STAC datetime, no TIFFTAG_DATETIME or acquisition tag, no YYYY-MM-DD, "
    "YYYY_MM_DD or YYYYMMDD in the file name); add one to count it"
)


@dataclass(frozen=True)
class BatchSummary:
    """The state, in the store after the run, of every (station, scene) the batch selected.

    ``ok``, ``failed`` and ``skipped`` count station-scene pairs (scenes, with
    one station), whichever run did the work; ``processed`` is how many
    scenes this run counted; ``duplicates`` how many scenes were found again
    under another path and counted once; ``warned`` how many of the ``ok``
    counts came with a warning (the sun along the tracks, or imagery too coarse to see the
    gaps between coupled cars: likely low);
    ``time_unknown`` how many of them were made with the time of day unknown
    (the sun assumed at 10:30 local solar time: shadows may be read on the
    wrong side); ``uncovered`` the stations no selected scene covers, when
    some other station is covered (nothing was counted for them: a warning line each).
    """

    ok: int
    failed: int
    skipped: int
    db: str
    processed: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    warned: int = 0
    time_unknown: int = 0
    uncovered: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 all selected scenes counted, 3 some failed, 1 none could be counted (a batch stopped
        part-way by its store exits 3 too: :class:`~railcount.errors.BatchStoppedError`)."""
        if self.ok == 0:
            return 1
        return 3 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "db": self.db,
            "processed": self.processed,
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 2),
            "warned": self.warned,
            "time_unknown": self.time_unknown,
            "uncovered": list(self.uncovered),
        }


@dataclass(frozen=True)
class Progress:
    """Where a running batch stands, after one more scene finished."""

    done: int
    failed: int
    total: int
    elapsed_s: float
    scene: str
    outcomes: tuple[dict[str, Any], ...] = ()

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def rate_per_min(self) -> float:
        return 60.0 * self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return self.elapsed_s / self.done * self.remaining if self.done else None


@dataclass
class Plan:
    """What a batch will do: the scene tasks, the records known without counting, the selection."""

    tasks: list[SceneTask] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    selected: set[tuple[str, str]] = field(default_factory=set)
    duplicates: int = 0
    found: int = 0
    dated: list[datetime] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """One line for each scene left out or not counted, and why."""
    uncovered: list[str] = field(default_factory=list)
    """Stations that no selected scene covers, when another station is covered (each has a note)."""
    mended: list[str] = field(default_factory=list)
    """Scene keys of STAC items read now whose problem a run before recorded (:func:`problem_key`)."""


def run_batch(
    stations: str | os.PathLike[str] | Sequence[Station],
    scenes: str | os.PathLike[str],
    *,
    db: str | os.PathLike[str] = "railcount.db",
    start: date | None = None,
    end: date | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    params: DetectorParams | None = None,
    progress: Callable[[Progress], None] | None = None,
    log: Callable[[str], None] | None = None,
    max_cloud_cover: float | None = None,
    bands: Sequence[int] | None = None,
) -> BatchSummary:
    """Count every station in every scene of ``scenes`` that covers it, into the store ``db``.

    Parameters
    ----------
    stations : path or sequence of Station
        Station GeoJSON (lon/lat), or stations already read.
    scenes : str or PathLike
        A folder of GeoTIFFs (recursive), a text file of paths or URLs (each
        optionally followed by its acquisition time, ISO 8601), or a
        STAC Catalog/Collection/ItemCollection (file or URL).
    db : str or PathLike, default "railcount.db"
        The results store (SQLite file), created if missing.
    start, end : date, optional
        Only scenes acquired on or after ``start`` and on or before ``end`` (UTC dates).
    workers : int, optional
        Local worker processes (default: the cores this process may use); 1
        counts in this process.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:PORT``) to run the scene
        tasks on instead; needs ``railcount[dask]``.
    force : bool, default False
        Recount scenes the store already holds for this detector version.
    params : DetectorParams, optional
        Detector parameters (defaults otherwise); stored with every count.
    progress : callable, optional
        Called with a :class:`Progress` after each scene finishes.
    log : callable, optional
        Called with one line for each scene left out, failed before counting
        or skipped (and why), and one saying what will be counted.
    max_cloud_cover : float, optional
        Skip scenes whose provider reports more cloud than this (percent of the
        scene: a STAC item's ``eo:cloud_cover``, else the delivery's metadata files as
        GDAL reads them); scenes that report none are counted. The provider's figure is
        kept with every count either way.
    bands : sequence of int, optional
        The files' bands to read as red, green, blue (or one panchromatic band),
        numbered from 1, for every scene (``--bands``; an archive of one product
        shares its band order); kept with each count (``bands``). A count stored
        from other bands is made again.

    Returns
    -------
    BatchSummary
        ok/failed/skipped over the selection, after the run; ``exit_code`` is
        what the command line exits with.

    Raises
    ------
    UsageError
        Bad stations, a missing or empty SOURCE, no scene in the date range,
        or an unusable store (:class:`~railcount.errors.StoreError`: not a store, locked by another
        program for :data:`railcount.store.LOCK_WAIT_S`, read-only).
    BatchStoppedError
        The store was locked by another program, or made read-only, after this run had stored some
        scenes (exit code 3): they are kept, and the same call again counts the rest.

    Examples
    --------
    >>> s = run_batch("station.geojson", "scenes/", db="counts.db", start=date(2023, 1, 1))  # doctest: +SKIP
    >>> s.ok, s.failed, s.skipped  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if isinstance(stations, (str, os.PathLike)):
        from railcount.io.stations import read_stations

        stations = read_stations(Path(stations))
    stations = list(stations)
    names = [st.name for st in stations]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise UsageError(f"station names must be unique to be stored apart; repeated: {', '.join(dup)}")
    if start and end and end < start:
        raise UsageError(f"--from {start} is after --to {end}; swap them")
    n_workers = workers if workers is not None else usable_cores()
    if n_workers < 1:
        raise UsageError(f"--workers must be 1 or more; got {n_workers}")
    params = params or DetectorParams()
    lo = datetime.combine(start, dtime(), timezone.utc) if start else None
    hi = datetime.combine(end + timedelta(days=1), dtime(), timezone.utc) if end else None
    sources = list_scenes(scenes, bbox=_bbox(stations), start=lo, end=hi)
    if not sources:
        raise UsageError(f"{scenes}: holds no scenes (GeoTIFF files, paths or STAC items); check the SOURCE")
    if all(src.problem is not None for src in sources):
        # Nothing in it can be counted: one line, as for a SOURCE that cannot be read at all.
        first = sources[0].problem
        raise UsageError(
            first
            if len(sources) == 1
            else f"none of the {len(sources)} STAC items of {scenes} can be counted; the first: {first}"
        )
    client = connect_dask(scheduler) if scheduler else None
    try:
        with open_store(db) as store:
            remote = client is not None
            plan = plan_batch(
                sources,
                stations,
                store,
                start=lo,
                end=hi,
                force=force,
                remote=remote,
                bands=bands,
                max_cloud_cover=max_cloud_cover,
                log=log,
                params=params,
            )
            if not plan.selected:
                raise UsageError(_nothing_selected(scenes, plan, lo, hi))
            store.write(*plan.records)
            store.forget_problems(plan.mended)
            if log is not None:
                for note in plan.notes:
                    log(note)
                log(
                    f"{_n(plan.found, 'scene')} found, {_n(len(plan.selected), 'station-scene pair')} "
                    f"selected, {_n(len(plan.tasks), 'scene')} to count"
                )
            done = failed = 0
            guessed: list[str] = []  # one line per scene read from unnamed bands
            tasks = [replace(t, bands=tuple(bands)) for t in plan.tasks] if bands else plan.tasks
            # (closing: a batch stopped part-way shuts its worker processes down as it stops.)
            with contextlib.closing(
                run_tasks(tasks, params, workers=n_workers, client=client, log=log)
            ) as running:
                for task, outcomes in running:
                    try:
                        store.write(*_records(task, outcomes, params))
                    except StoreError as exc:  # locked by another program, or made read-only
                        if not done:
                            raise
                        raise BatchStoppedError(
                            f"{exc} ({_n(done, 'scene')} of this run stored before it stopped, "
                            f"{len(tasks) - done} not)"
                        ) from None
                    done += 1
                    failed += any(o["status"] == "failed" for o in outcomes)
                    guessed += [o["bands_guessed"] for o in outcomes if o.get("bands_guessed")][:1]
                    if progress is not None:
                        elapsed = time.perf_counter() - t0
                        progress(
                            Progress(done, failed, len(plan.tasks), elapsed, task.scene, tuple(outcomes))
                        )
            if guessed and log is not None:
                log(
                    f"warning: {_n(len(guessed), 'scene')} counted in this run name none of their bands "
                    f"red, green or blue, so their first three were read as such; the first: {guessed[0]} "
                    "(run again with --bands: the scenes read from other bands are counted again)"
                )
            tally = count_states(store.states(DETECTOR_VERSION), plan.selected)
            warned = len(store.warned(DETECTOR_VERSION) & plan.selected)
            time_unknown = len(store.time_unknown(DETECTOR_VERSION) & plan.selected)
        return BatchSummary(
            ok=tally["ok"],
            failed=tally["failed"],
            skipped=tally["skipped"],
            db=str(db),
            processed=len(plan.tasks),
            duplicates=plan.duplicates,
            seconds=time.perf_counter() - t0,
            warned=warned,
            time_unknown=time_unknown,
            uncovered=tuple(plan.uncovered),
        )
    finally:
        if client is not None:
            client.close()


def plan_batch(
    sources: Sequence[SceneSource],
    stations: Sequence[Station],
    store: Store,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    force: bool = False,
    remote: bool = False,
    max_cloud_cover: float | None = None,
    log: Callable[[str], None] | None = None,
    log_every_s: float = PLAN_LOG_EVERY_S,
    bands: Sequence[int] | None = None,
    params: DetectorParams | None = None,
) -> Plan:
    """Decide what to do with every scene: count it, record it failed or skipped, or leave it out.

    A scene acquired outside [start, end) is left out before its content is
    hashed (an archive of years costs a month's hashing for a month's
    batch). Scenes whose content was already seen under another path are
    left out (counted once), and so are the other image assets of a Planet item whose best one
    (:func:`~railcount.io.planet.one_image_per_item`) is there. A scene that cannot be opened, or covers no
    station, is failed for every station; an undated one is skipped for the
    stations it covers. What the store already holds ``ok`` for this
    detector version is not counted again unless ``force``. With ``remote``
    (a Dask cluster does the reading), a local path this process cannot see
    is left for the workers: it is dated by its file name and identified by
    its path. A scene whose provider reports more cloud than ``max_cloud_cover`` (percent) is
    skipped for the stations it covers. Files that are tiles of one acquisition
    (:func:`~railcount.io.sources.tile_groups`) are planned as one scene, read as a mosaic.

    Planning reads every new file once (its header, and all its bytes for the content key), which
    over an archive of large scenes takes minutes before anything is counted: ``log`` is then given
    a line on how far it has got every ``log_every_s`` seconds (none for a plan quicker than that).
    With ``bands`` (a batch's ``--bands``), a count stored with other bands than those is made again.
    A scene whose header shows pixels coarser than ``params.max_gsd_m`` is skipped for the stations it
    covers with :class:`~railcount.errors.TooCoarseError`'s line, before any worker reads it (a rerun
    does not read it again).
    """
    plan = Plan()
    params = params or DetectorParams()
    states = {} if force else store.states(DETECTOR_VERSION)
    # A count made with another outline of the station (a polygon edited since) is made again.
    outlines = {} if force else store.outlines(DETECTOR_VERSION)
    redone: dict[str, int] = {}
    same: dict[tuple[str, str], bool] = {}  # (station, kept outline): a store of years holds few outlines
    # A count read from other bands than a --bands given now (the band order put right) is made again.
    wanted = list(bands) if bands else None
    stored_bands = {} if force or wanted is None else store.bands(DETECTOR_VERSION)
    rebanded: dict[str, int] = {}

    def stored(st: Station, key: str) -> bool:
        if states.get((st.name, key)) != "ok":
            return False
        if wanted is not None and stored_bands.get((st.name, key)) != wanted:
            rebanded[st.name] = rebanded.get(st.name, 0) + 1
            return False
        was = outlines.get((st.name, key))
        if was is None:
            return True
        if (st.name, was) not in same:
            same[(st.name, was)] = same_outline(was, st)
        if same[(st.name, was)]:
            return True
        redone[st.name] = redone.get(st.name, 0) + 1
        return False

    seen: dict[str, str] = {}
    found: list[_Found] = []
    # An order holding a Planet item's visual and analytic images: one acquisition, counted once.
    files = [i for i, src in enumerate(sources) if not src.from_stac]
    other_assets = {
        files[i]: files[j] for i, j in one_image_per_item([sources[k].path for k in files]).items()
    }
    started = last = time.perf_counter()
    for n, src in enumerate(sources):
        if n in other_assets:
            plan.duplicates += 1
            kept = os.path.basename(sources[other_assets[n]].path)
            plan.notes.append(
                f"{src.path}: the same Planet item as {kept}, which is counted instead; counted once"
            )
            continue
        now = time.perf_counter()
        if log is not None and now - last >= log_every_s:
            last = now
            log(
                f"planning: {n} of {_n(len(sources), 'scene')} looked at in {now - started:.0f} s (each new "
                "file is read whole once, to tell duplicates apart, and remembered for later runs)"
            )
        # A time the SOURCE gives (a STAC item's datetime, a scene list's column) wins over the file's.
        acquired, footprint, problem, grid = src.acquired, src.footprint, None, None
        # Where the time came from, kept with the count: the SOURCE's, else the file's.
        given = ("stac_item" if src.from_stac else "scene_list") if src.acquired is not None else None
        source = given
        # A STAC item's cloud cover, else (for the skip only: the count reads it itself) the file's.
        cover = src.cloud_cover
        if src.item is not None:
            plan.mended.append(problem_key(src.item))
        if src.problem is not None:  # a STAC item that cannot be read, or has no image to count
            problem = src.problem
        elif remote and not is_url(src.path) and not os.path.exists(src.path):
            acquired = src.acquired or date_from_name(src.path)
            source = given or ("file_name_date" if acquired is not None else None)
        elif not src.from_stac:
            try:
                info = probe_scene(src.path)
                acquired, footprint, grid = src.acquired or info.acquired, info.footprint, info.grid
                source = given or info.acquired_from
                cover = info.cloud_cover if cover is None else cover
            except Exception as exc:  # unreadable or corrupt: recorded, and the batch goes on
                problem = describe(exc)
                acquired = src.acquired or date_from_name(src.path)
                source = given or ("file_name_date" if acquired is not None else None)
        if acquired is not None:
            acquired = acquired.astimezone(timezone.utc)
            plan.dated.append(acquired)
            if (start and acquired < start) or (end and acquired >= end):
                plan.found += 1
                continue
        key = scene_key(src.path, store) if src.problem is None else problem_key(src.path)
        if key in seen:
            plan.duplicates += 1
            plan.notes.append(f"{src.path}: same content as {seen[key]}; counted once")
            continue
        seen[key] = src.path
        plan.found += 1
        found.append(_Found(src, key, acquired, footprint, cover, problem, grid, acquired_from=source))

    stored_keys = {key for _, key in store.states(DETECTOR_VERSION)}
    mosaics = store.mosaics()
    found = _stac_grids(found)
    scenes = [(f.src.path, f.acquired, f.grid) for f in found]
    seen_over: set[str] = set()  # the stations some scene's footprint covers
    groups = tile_groups(scenes, [f.src.group for f in found])
    for group in groups:
        f = found[group[0]] if len(group) == 1 else _mosaic([found[i] for i in group], mosaics)
        if f.tiles:
            again = sum(k in stored_keys for k in f.replaces)
            plan.notes.append(
                f"{f.label}: {len(f.tiles)} tiles of one acquisition "
                f"({', '.join(os.path.basename(t) for t in f.tiles)}), counted as one scene"
                + ("; it replaces the counts stored before of its tiles" if again else "")
            )
        key, label = f.key, f.label
        iso = f.acquired.isoformat() if f.acquired else None
        if f.problem is not None:
            # A STAC item's problem is recorded for the stations its footprint covers, if it gives one.
            hit = [st for st in stations if f.footprint is None or f.footprint.intersects(st.geometry)]
            status = f.src.problem_status if f.src.problem is not None else "failed"
            plan.records += _records_for(hit, key, label, iso, status, f.problem)
            plan.selected.update((st.name, key) for st in hit)
            if f.footprint is not None:
                seen_over.update(st.name for st in hit)
            continue
        covered = [st for st in stations if f.footprint is None or f.footprint.intersects(st.geometry)]
        if not covered:
            reason = f"{label}: covers none of the stations ({_names(stations)}); check the scene's area"
            plan.records += _records_for(stations, key, label, iso, "failed", reason)
            plan.selected.update((st.name, key) for st in stations)
            continue
        plan.selected.update((st.name, key) for st in covered)
        seen_over.update(st.name for st in covered)
        if f.acquired is None:
            plan.records += _records_for(covered, key, label, None, "skipped", NO_DATE)
            continue
        gsd = _grid_gsd(f.grid)
        if gsd is not None and too_coarse(gsd, params):
            reason = str(TooCoarseError.of(label, gsd, params.max_gsd_m))
            plan.records += _records_for(covered, key, label, iso, "skipped", reason)
            continue
        todo = tuple(st for st in covered if not stored(st, key))
        cover = f.cover
        if todo and max_cloud_cover is not None and cover is not None and cover > max_cloud_cover:
            # (A count already stored stays: nothing computed is thrown away.)
            reason = (
                f"{label}: its provider reports {cover:g} % cloud cover, more than --max-cloud-cover "
                f"{max_cloud_cover:g}; raise it to count this scene"
            )
            plan.records += _records_for(todo, key, label, iso, "skipped", reason)
            continue
        if todo:
            src = f.src
            plan.tasks.append(
                SceneTask(
                    label,
                    key,
                    iso,
                    todo,
                    src.cloud_cover,
                    src.shadows_toward,
                    f.tiles,
                    f.replaces,
                    acquired_from=f.acquired_from,
                )
            )
    plan.notes += [_note(r) for r in plan.records]
    if seen_over:  # (when no station is covered, each scene's failure says so)
        plan.uncovered = [st.name for st in stations if st.name not in seen_over]
        plan.notes += [
            f"warning: station {name!r} lies in none of the {_n(len(groups), 'scene')} selected, so "
            "nothing was counted for it; check its polygon (the right place, longitude before "
            "latitude), or add scenes that cover it"
            for name in plan.uncovered
        ]
    plan.notes += [
        f"{name}: the station's outline differs from the one {_n(n, 'stored count')} of it "
        f"{'was' if n == 1 else 'were'} made with; {'that scene is' if n == 1 else 'those scenes are'} "
        "counted again"
        for name, n in redone.items()
    ]
    plan.notes += [
        f"{name}: {_n(n, 'stored count')} {'was' if n == 1 else 'were'} read from other bands than "
        f"--bands {','.join(map(str, wanted or ()))}; {'that scene is' if n == 1 else 'those scenes are'} "
        "counted again"
        for name, n in rebanded.items()
    ]
    plan.tasks.sort(key=lambda t: (t.acquired or "", t.scene))
    return plan


@dataclass(frozen=True)
class _Found:
    """A scene found, dated, identified and selected by date, before it is planned."""

    src: SceneSource
    key: str
    acquired: datetime | None
    footprint: BaseGeometry | None
    cover: float | None
    problem: str | None
    grid: TileGrid | None = None
    tiles: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    acquired_from: str | None = None

    @property
    def label(self) -> str:
        return scene_label(list(self.tiles)) if self.tiles else self.src.path


def problem_key(item: str) -> str:
    """The scene key a STAC item's problem is stored under: its own path (its JSON's file or URL, or
    ``COLLECTION#ID``), as it has no image to identify it by."""
    return "stac-item:" + item


def _stac_grids(found: list[_Found]) -> list[_Found]:
    """``found`` with the pixel grids of the STAC items that may be tiles of one acquisition: two or
    more of one collection at one instant with a time of day (a grid tiling's items, such as
    analysis-ready tiles). Only those assets' headers are read (a few range requests each); an item
    whose header cannot be read is left alone, to be counted (or failed) on its own."""
    from collections import Counter

    from railcount.detect.sun import time_of_day_unknown

    def slot(f: _Found) -> tuple[str, datetime] | None:
        if not f.src.from_stac or f.problem or f.acquired is None or time_of_day_unknown(f.acquired):
            return None
        return (f.src.group or "", f.acquired)

    shared = Counter(s for s in map(slot, found) if s is not None)
    out = []
    for f in found:
        s = slot(f)
        if s is not None and shared[s] > 1 and f.grid is None:
            # (The item's time wins over what its file's tags say, as everywhere in a batch.)
            try:
                f = replace(f, grid=probe_scene(f.src.path).grid)
            except Exception:  # counted on its own; its own count says what is wrong
                pass
        out.append(f)
    return out


def _mosaic(parts: Sequence[_Found], stored: dict[str, frozenset[str]]) -> _Found:
    """Tiles of one acquisition (:func:`~railcount.io.sources.tile_groups`) as one scene: identified by
    its tiles' contents together, its footprint theirs joined, its cloud cover the provider's. It
    replaces the counts stored of its tiles one by one, and of ``stored`` mosaics (scene key: tile
    paths) that share a tile with it: the same scene with fewer tiles (a delivery still arriving)."""
    import hashlib

    import shapely

    keys = sorted(p.key for p in parts)
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    paths = {p.src.path for p in parts}
    key = "tiles:" + digest
    fewer = sorted(k for k, tiles in stored.items() if k != key and tiles & paths)
    covers = [p.cover for p in parts if p.cover is not None]
    # A STAC item's cloud cover replaces the file's in the count: the tiles' highest stands for all.
    stac_covers = [p.src.cloud_cover for p in parts if p.src.cloud_cover is not None]
    src = replace(parts[0].src, cloud_cover=max(stac_covers) if stac_covers else None)
    return _Found(
        src,
        key,
        parts[0].acquired,
        shapely.union_all([p.footprint for p in parts]),
        max(covers) if covers else None,
        None,
        tiles=tuple(p.src.path for p in parts),
        replaces=(*keys, *fewer),
        acquired_from=parts[0].acquired_from,
    )


def _note(r: Record) -> str:
    """A log line for a record made while planning; its reason names the scene, so it is not repeated."""
    reason = r.reason or ""
    if reason.startswith(f"{r.scene}: "):
        reason = reason[len(r.scene) + 2 :]
    return f"{r.scene}: {r.status} for {r.station}: {reason}"


def _grid_gsd(grid: TileGrid | None) -> float | None:
    """The ground size (metres) of a scene's pixels from its header's grid; None without one (a
    rotated, GCP-placed or STAC-listed scene, a mosaic: its count checks the window itself)."""
    if grid is None or grid.crs is None:
        return None
    try:
        gx, gy = ground_pixel_size(grid.transform, grid.crs, (grid.height, grid.width))
    except Exception:  # a grid GDAL cannot place: the count will say why
        return None
    return math.sqrt(gx * gy)


def _records_for(
    stations: Sequence[Station], key: str, scene: str, acquired: str | None, status: str, reason: str
) -> list[Record]:
    return [Record(st.name, key, scene, status, acquired=acquired, reason=reason) for st in stations]


def _records(task: SceneTask, outcomes: list[dict[str, Any]], params: DetectorParams) -> list[Record]:
    p = params.to_dict()
    outline = {st.name: outline_text(st) for st in task.stations}
    return [
        Record(
            o["station"],
            task.key,
            task.scene,
            o["status"],
            acquired=task.acquired,
            reason=o.get("reason"),
            count=o.get("count"),
            params=p if o["status"] == "ok" else None,
            detections=o.get("detections"),
            seconds=o.get("seconds"),
            outline=outline.get(o["station"]) if o["status"] == "ok" else None,
            replaces=task.replaces,
        )
        for o in outcomes
    ]


def _bbox(stations: Sequence[Station]) -> tuple[float, float, float, float]:
    b = [st.geometry.bounds for st in stations]
    return min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _names(stations: Sequence[Station]) -> str:
    return ", ".join(st.name for st in stations)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), the default number of workers."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _nothing_selected(scenes: Any, plan: Plan, lo: datetime | None, hi: datetime | None) -> str:
    start = lo.date() if lo else None
    end = (hi - timedelta(days=1)).date() if hi else None
    if plan.dated:
        first, last = min(plan.dated).date(), max(plan.dated).date()
        return (
            f"{scenes}: no scene acquired between {start or 'the first'} and {end or 'the last'} "
            f"({plan.found} scenes dated {first} to {last}); widen --from/--to"
        )
    return f"{Path(str(scenes))}: no scene to process; check the SOURCE and --from/--to"
