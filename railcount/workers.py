"""Where a batch's counting runs: in this process, in local worker processes, or on a Dask cluster.

Every engine runs the same task, :func:`count_task` (one scene, the
stations it covers), and hands each finished scene back to the caller, which
alone writes the results store. A task never raises: a scene that cannot be
counted comes back as ``failed`` with its reason, and the batch goes on.

Each worker uses one OpenCV thread and one GDAL thread
(:func:`limit_threads`), so N workers keep N cores busy instead of
oversubscribing them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from railcount.detect.params import DetectorParams
from railcount.errors import (
    AssumedSunWarning,
    BandOrderWarning,
    CautionWarning,
    DaskIdleWarning,
    RailcountError,
    TooCoarseError,
    UsageError,
    WindowTooLargeError,
)
from railcount.io.sources import is_url
from railcount.models import Station

_NO_START = (
    "the worker processes stopped twice before counting any scene: out of memory (try fewer --workers), "
    'or, from a Python script, run_batch is not called under `if __name__ == "__main__":` '
    "(each worker imports the main module)"
)
_THREAD_VARS = ("GDAL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class SceneTask:
    """One scene to count for the stations it covers (``acquired`` as ISO 8601 UTC; ``cloud_cover``
    the provider's estimate, percent, when the SOURCE gives one: a STAC item's, which replaces what
    the file's own metadata say; None leaves those to the count; ``shadows_toward`` the bearing its
    shadows point to, from a scene list's line, which places the sun)."""

    scene: str
    key: str
    acquired: str | None
    stations: tuple[Station, ...]
    cloud_cover: float | None = None
    shadows_toward: float | None = None
    tiles: tuple[str, ...] = ()
    """The files of a scene delivered as tiles, read as one mosaic (``scene`` is then its label,
    :func:`railcount.io.mosaic.scene_label`); () for a scene of one file."""
    replaces: tuple[str, ...] = ()
    """Scene keys of those tiles, whose counts stored one by one this count replaces."""
    bands: tuple[int, ...] = ()
    """The file's bands to read as red, green, blue (or one), numbered from 1 (a batch's ``--bands``);
    () lets each file's colour interpretation or band names choose."""
    acquired_from: str | None = None
    """Where ``acquired`` came from (a key of :data:`railcount.io.scenes.ACQUIRED_FROM`), kept with
    the count."""


Outcome = dict[str, Any]
"""One station's result: ``station``, ``status`` (ok or failed), ``reason``, ``count``
(the ``count --json`` record), ``detections`` (GeoJSON) and ``seconds``."""


def task_arguments(task: SceneTask, params: DetectorParams) -> tuple[Any, ...]:
    """:func:`count_task`'s arguments for ``task``, in order (every engine submits the same)."""
    scene = list(task.tiles) if task.tiles else task.scene
    return (
        scene,
        task.stations,
        params,
        task.acquired,
        task.cloud_cover,
        task.shadows_toward,
        task.bands or None,
        task.acquired_from,
    )


def limit_threads() -> None:
    """One OpenCV and one GDAL/OpenMP thread in this process (idempotent)."""
    import cv2

    for var in _THREAD_VARS:
        os.environ[var] = "1"
    cv2.setNumThreads(1)


@contextlib.contextmanager
def _one_thread_each() -> Iterator[None]:
    """Thread limits for the batch's duration; the caller's own settings come back after."""
    import cv2

    saved = {var: os.environ.get(var) for var in _THREAD_VARS}
    threads = cv2.getNumThreads()
    os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
    try:
        yield
    finally:
        cv2.setNumThreads(threads)
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _windows(tasks: Sequence[SceneTask]) -> int:
    """How many station windows ``tasks`` count."""
    return sum(len(t.stations) for t in tasks)


def _init_worker(windows: int, parent: int | None = None, workers: int = 1) -> None:
    """Set a batch worker up to count about ``windows`` windows: dying with the batch's process
    ``parent`` (:func:`die_with_parent`), one thread each, freed memory kept, small pages when that
    is few (:func:`~railcount.runtime.pages_for`), no helper process of its own (the workers
    already keep the cores busy; a forked worker would inherit the setting), and its share of the
    memory free among the pool's ``workers`` (:func:`~railcount.io.memory.share_memory`)."""
    from railcount.io.memory import share_memory
    from railcount.runtime import helper_process, pages_for, tune_memory

    if parent is not None:
        die_with_parent(parent)
    limit_threads()
    tune_memory()
    pages_for(windows)
    helper_process(False)
    share_memory(workers)


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies, however it dies (Linux).

    A pool's worker otherwise outlives a batch killed with ``kill -9`` (or by the out-of-memory
    killer): it waits for its next scene for ever, holding its memory. Where the parent is gone
    already (it died before this call), this process leaves at once. Elsewhere than Linux,
    nothing is done.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


_last_start = ""
"""How the last pool's workers were started, "fork" or "spawn" (for tests and diagnostics)."""


def start_method(tasks: Sequence[SceneTask]) -> str:
    """How a pool's workers start for ``tasks``: "fork" where that is safe, else "spawn".

    A forked worker is a copy of this process with railcount already imported, so it starts
    counting at once; a spawned one is a fresh interpreter that imports railcount first (about
    half a second, on the critical path of a short batch). Forking is safe here only on Linux,
    on Python 3.11 or newer (whose process pool forks all its workers before its own threads
    start), while no other Python thread runs (a copy would inherit a lock it holds, never to be
    released), and when every scene is a local file and none a VRT (a copy would share any HTTP
    connection GDAL keeps open to a remote scene, or to a remote source a VRT names, since this
    process read its header). The pool holds OpenCV to one thread while it forks (a copy forked
    while OpenCV's thread pool exists inherits the pool without its threads).
    """
    import threading

    if not (sys.platform.startswith("linux") and sys.version_info >= (3, 11) and hasattr(os, "fork")):
        return "spawn"
    if threading.active_count() != 1:
        return "spawn"
    if any(is_url(t.scene) or t.scene.lower().endswith(".vrt") for t in tasks):
        return "spawn"
    return "fork"


def describe(exc: BaseException) -> str:
    """A one-line reason for a scene that could not be counted."""
    if isinstance(exc, RailcountError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected error ({type(exc).__name__}: {text}); please report it"


def count_task(
    scene: str | Sequence[str],
    stations: Sequence[Station],
    params: DetectorParams,
    acquired: str | None = None,
    cloud_cover: float | None = None,
    shadows_toward: float | None = None,
    bands: Sequence[int] | None = None,
    acquired_from: str | None = None,
) -> list[Outcome]:
    """Count ``scene`` (a file or URL, or the tiles of one acquisition) for each station separately;
    never raises.

    A station the scene cannot be counted for (no overlap, only nodata, a
    corrupt tile) is ``failed`` with its reason; the others are still counted.
    ``acquired`` (ISO 8601) is the time the batch planned the scene at (a
    STAC item's ``datetime``, a scene list's time, else what the file says):
    the count is made, and the sun placed, at that time, so the stored
    count and the store's ``acquired`` agree. ``cloud_cover`` is a STAC item's ``eo:cloud_cover``
    (percent), which replaces what the file's metadata say. ``shadows_toward`` (a scene list's
    ``shadows=``) places the sun from the shadows' bearing; a bearing the sun cannot give that day
    fails the scene with the reason. ``bands`` (a batch's ``--bands``) are the file's bands read as
    red, green, blue, or one; a file without them fails with the reason.
    """
    from railcount.io.memory import memory_share
    from railcount.io.outputs import detections_geojson
    from railcount.pipeline import count_scene

    limit_threads()
    out: list[Outcome] = []
    for st in stations:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                # Kept with the stored record instead of lost in a worker's stderr; others go on.
                warnings.simplefilter("ignore", CautionWarning)
                # An assumed sun shows in the stored acquisition time (no time of day); the batch's
                # log line and summary say so, once, not a worker's raw warning per scene.
                warnings.simplefilter("ignore", AssumedSunWarning)
                # Bands read without colour names: the batch says so once, for all its scenes.
                warnings.simplefilter("always", BandOrderWarning)
                when = datetime.fromisoformat(acquired) if acquired else None
                (sc,) = count_scene(
                    scene,
                    [st],
                    params=params,
                    acquired=when,
                    cloud_cover=cloud_cover,
                    shadows_toward=shadows_toward,
                    bands=bands,
                    acquired_from=acquired_from or "given",
                )
            guessed = [str(w.message) for w in caught if issubclass(w.category, BandOrderWarning)]
            for w in caught:  # any other warning is shown as it would have been
                if not issubclass(w.category, BandOrderWarning):
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            count = sc.result.to_dict()
            if sc.cautions:  # as the warning's line reads, scene first
                count["warnings"] = [f"{sc.window.scene_id}: {c}" for c in sc.cautions]
            out.append(
                {
                    "station": st.name,
                    "status": "ok",
                    "reason": None,
                    "count": count,
                    "detections": detections_geojson(sc.window, sc.detections, sc.result),
                    "seconds": time.perf_counter() - t0,
                    # Its bands were read without colour names (the warning's line), or None.
                    "bands_guessed": guessed[0] if guessed else None,
                }
            )
        except TooCoarseError as exc:  # not a failure: no later run would count it either
            out.append(_failed(st.name, str(exc), time.perf_counter() - t0) | {"status": "skipped"})
        except WindowTooLargeError as exc:  # in a worker's share of the memory: the pool counts it alone
            alone = {ALONE: True} if memory_share() > 1 else {}
            out.append(_failed(st.name, describe(exc), time.perf_counter() - t0) | alone)
        except Exception as exc:  # one bad scene must not stop the batch
            out.append(_failed(st.name, describe(exc), time.perf_counter() - t0))
    return out


ALONE = "alone"
"""An outcome's key (never stored) for a station refused for lack of memory in a worker that shares the
memory with others (:func:`~railcount.io.memory.share_memory`): :func:`_run_pool` counts that scene
again once the pool is done, in a pool of one worker that has all of it."""


def _failed(station: str, reason: str, seconds: float | None = None) -> Outcome:
    return {"station": station, "status": "failed", "reason": reason, "seconds": seconds}


def failed_task(task: SceneTask, reason: str) -> list[Outcome]:
    return [_failed(st.name, reason) for st in task.stations]


def run_tasks(
    tasks: Sequence[SceneTask],
    params: DetectorParams,
    *,
    workers: int = 1,
    client: Any = None,
    log: Callable[[str], None] | None = None,
) -> Generator[tuple[SceneTask, list[Outcome]], None, None]:
    """Run every task and yield (task, outcomes) as each scene finishes, in completion order.

    ``client`` (a ``distributed.Client``, see :func:`connect_dask`) runs them
    on its Dask cluster; else ``workers`` > 1 local processes; else this process.
    """
    if not tasks:
        return
    if client is not None:
        yield from _run_dask(tasks, params, client)
    elif workers > 1 and len(tasks) > 1:
        yield from _run_pool(tasks, params, min(workers, len(tasks)), log or (lambda _: None))
    else:
        # In this process: a library caller (a notebook) keeps its thread settings and
        # allocator afterwards; the command line has tuned the allocator already. One scene
        # with more than one worker allowed is counted as `railcount count` counts it, with a
        # forked helper where one may be used (runtime.helper_allowed): a daily rerun that finds
        # one new scene uses both cores.
        from railcount.runtime import helper_allowed, pages_for

        pages_for(_windows(tasks))  # only where the command line set small pages
        with _one_thread_each(), helper_allowed(workers > 1):
            for task in tasks:
                yield task, count_task(*task_arguments(task, params))


MAX_POOL_RESTARTS = 3
"""How many times a batch replaces a pool whose worker died before it gives up on the rest."""


def _run_pool(
    tasks: Sequence[SceneTask], params: DetectorParams, workers: int, log: Callable[[str], None]
) -> Iterator[tuple[SceneTask, list[Outcome]]]:
    """Run tasks in a pool of worker processes (forked or spawned, :func:`start_method`); a dead
    worker costs a new pool, not the batch.

    When a worker dies (killed, out of memory, a crash in native code) every
    unfinished task of that pool is lost; they are submitted again to a new
    pool, up to :data:`MAX_POOL_RESTARTS` times, after which the rest are
    recorded as failed (a rerun retries them).

    Each worker plans its windows with its share of the memory free (:func:`_init_worker`). A scene
    with a station too large for that share, even in tiles (:data:`ALONE`), is counted again once
    the pool is done, in a pool of one worker, which has all of the memory free.
    """
    import multiprocessing

    import cv2

    global _last_start
    pending = list(tasks)
    alone: list[SceneTask] = []
    finished = restarts = 0
    with _one_thread_each():  # (which gives OpenCV its thread count back at the end)
        while pending:
            size = min(workers, len(pending))
            each = -(-_windows(pending) // size)  # windows per worker, about
            # Decided for each pool: a pool replaced after a worker died may find the old pool's
            # thread still running, and then spawns.
            _last_start = start_method(pending)
            if _last_start == "fork":
                cv2.setNumThreads(1)  # (stops the pool's threads if it has any)
            pool = ProcessPoolExecutor(
                max_workers=size,
                mp_context=multiprocessing.get_context(_last_start),
                initializer=_init_worker,
                initargs=(each, os.getpid(), size),
            )
            broken = False
            try:
                futures = {pool.submit(count_task, *task_arguments(t, params)): t for t in pending}
                for fut in as_completed(futures):
                    task, exc = futures[fut], fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                        continue
                    outcomes = failed_task(task, describe(exc)) if exc is not None else fut.result()
                    pending.remove(task)
                    finished += 1
                    if any(o.pop(ALONE, False) for o in outcomes) and size > 1:
                        alone.append(task)
                        continue
                    yield task, outcomes
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if not broken:
                continue
            restarts += 1
            if not finished and restarts > 1:
                raise UsageError(_NO_START)
            if restarts > MAX_POOL_RESTARTS:
                reason = "worker processes kept dying (killed, or out of memory?); rerun to retry"
                for task in pending:
                    yield task, failed_task(task, reason)
                break
            log(
                f"a worker process died (killed, or out of memory?); counting the {len(pending)} "
                "unfinished scene(s) in new worker processes"
            )
    if alone:
        log(
            f"{len(alone)} scene(s) too large for a worker's share of the memory: counting them again "
            "one at a time, with all of it"
        )
        yield from _run_pool(alone, params, 1, log)


def connect_dask(scheduler: str, *, timeout_s: float = 10.0) -> Any:
    """A ``distributed.Client`` connected to ``scheduler``.

    Raises
    ------
    UsageError
        dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            f"--scheduler {scheduler}: running on a Dask cluster needs dask.distributed; "
            "pip install 'railcount[dask]'"
        ) from None
    _probe_dask(scheduler, timeout_s)
    try:
        return Client(scheduler, timeout=timeout_s)
    except Exception as exc:  # OSError, TimeoutError, ValueError; or what a stranger's bytes raise inside
        raise UsageError(
            f"--scheduler {scheduler}: cannot reach the Dask scheduler ({type(exc).__name__}: "
            f"{str(exc)[:200]}); check the address (tcp://HOST:PORT) and that the scheduler is running"
        ) from None


DASK_GREETING_S = 5.0
"""How long a ``tcp://`` address has to greet before railcount says no Dask scheduler listens there."""


def _probe_dask(scheduler: str, timeout_s: float) -> None:
    """Refuse, in one line, a ``tcp://`` address where something other than a Dask scheduler listens.

    A Dask scheduler greets a new connection at once with its handshake, a frame whose first eight
    bytes are its length as a small little-endian integer. Dask's own connect waited for ever on a
    server that says nothing (the dashboard's port, a web server) and crashed on one that greets in
    text (an SSH server's "SSH-2.0-...": an 'allocation of 2.82 EiB')."""
    import socket
    from urllib.parse import urlsplit

    if not scheduler.startswith("tcp://"):
        return  # tls:// and the rest are Dask's to check
    try:
        where = urlsplit(scheduler)
        host, port = where.hostname, where.port
    except ValueError:
        return
    if not host or port is None:
        return
    head = b""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(DASK_GREETING_S)
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except TimeoutError:
        if not head:
            raise UsageError(
                f"--scheduler {scheduler}: something listens there but did not greet as a Dask "
                f"scheduler does within {DASK_GREETING_S:g} s (the dashboard's port, 8787, rather than the "
                "scheduler's, 8786?); check the address"
            ) from None
        return
    except OSError:
        return  # unreachable: Client says so, as before
    if len(head) == 8 and int.from_bytes(head, "little") > 2**32:
        shown = head.decode("ascii", "replace")
        raise UsageError(
            f"--scheduler {scheduler}: something other than a Dask scheduler answers there "
            f"(it began {shown!r}); check the address (tcp://HOST:PORT of the scheduler, usually 8786)"
        )


def _run_dask(
    tasks: Sequence[SceneTask], params: DetectorParams, client: Any
) -> Iterator[tuple[SceneTask, list[Outcome]]]:
    from distributed import wait as dask_wait

    futures = {client.submit(count_task, *task_arguments(t, params), pure=False): t for t in tasks}
    pending = set(futures)
    idle_s, said = 0.0, False
    while pending:
        try:
            done, pending = dask_wait(pending, timeout=DASK_WATCH_S, return_when="FIRST_COMPLETED")
        except TimeoutError:  # (distributed raises where concurrent.futures would return none done)
            done = set()
        if not done:  # nothing finished for a while: say so if the cluster has no worker left
            idle_s += DASK_WATCH_S
            if not said and idle_s >= DASK_NO_WORKERS_S and not client.scheduler_info().get("workers"):
                warnings.warn(
                    DaskIdleWarning(
                        f"the Dask cluster at {client.scheduler.address} has no worker left, so "
                        f"{len(pending)} scene(s) wait for one; start workers and the batch goes on, or "
                        "stop it (Ctrl-C): what is stored is kept, and the same command counts the rest"
                    ),
                    stacklevel=2,
                )
                said = True
            continue
        idle_s, said = 0.0, False
        for fut in done:
            yield _dask_outcome(futures[fut], fut)


DASK_WATCH_S = 5.0
"""How often a Dask batch with nothing finished looks at the cluster's workers (seconds)."""
DASK_NO_WORKERS_S = 30.0
"""After this long with nothing finished and no worker on the cluster, a Dask batch says so."""


def _dask_outcome(task: SceneTask, fut: Any) -> tuple[SceneTask, list[Outcome]]:
    """A finished Dask future's outcomes, or the task failed with why."""
    try:
        outcomes = fut.result()
    except Exception as exc:  # a worker lost, or the task could not run there
        if type(exc).__name__ == "KilledWorker":  # expected on a cluster, not a bug to report
            why = "the worker counting it died, and Dask gave up on it; run the same command again"
        else:
            why = describe(exc)
        outcomes = failed_task(task, f"on the Dask cluster: {why}")
    return task, outcomes
