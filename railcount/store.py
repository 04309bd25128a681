"""The results store: every count of a batch in one SQLite file.

One record per (station, scene, detector version), holding every field of
``railcount count --json``, the status (``ok``, ``failed`` or ``skipped``
with its reason), the time the count took, the detector parameters and the
detected cars' outlines (GeoJSON, lon/lat). A scene is identified by its
content (see :func:`railcount.io.sources.scene_key`), so the same file
under two paths is one scene.

Each finished scene is written in its own transaction (WAL journal), by one
process: killing the writer at any moment loses at most the scenes in flight,
never a half-written record. Why SQLite is in ``docs/batch.md``.

The store carries its format in its header (``PRAGMA application_id``) and a
schema version (``PRAGMA user_version``). A file that is not a railcount
store, or was written by a newer railcount, is refused and left untouched;
an older one is migrated in place, in one transaction.

The public reader for other stages is :func:`read_counts`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from railcount import __version__
from railcount.cautions import codes as caution_codes
from railcount.errors import StoreError, StoreLockedError, StoreReadOnlyError, UsageError

LOCK_WAIT_S = 30.0
"""How long a write waits for another program's lock on the store (seconds) before giving up."""

APPLICATION_ID = 0x72636E74  # "rcnt"
SCHEMA_VERSION = 2
STATUSES = ("ok", "failed", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counts (
    station TEXT NOT NULL,
    scene_key TEXT NOT NULL,
    -- '' for records that never reached the detector (failed or skipped)
    detector_version TEXT NOT NULL,
    scene TEXT NOT NULL,
    acquired TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    reason TEXT,
    railcars INTEGER,
    railcars_low INTEGER,
    railcars_high INTEGER,
    locomotives INTEGER,
    observed_fraction REAL,
    gsd_m REAL,
    record TEXT,
    params TEXT,
    detections TEXT,
    seconds REAL,
    written REAL NOT NULL,
    -- the station outline the count was made with (railcount.io.stations.outline_text, WKT lon/lat);
    -- NULL for counts stored before schema 2
    outline TEXT,
    PRIMARY KEY (station, scene_key, detector_version)
);
CREATE INDEX IF NOT EXISTS counts_acquired ON counts (acquired);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    scene_key TEXT NOT NULL
);
"""

# Schema migrations: MIGRATIONS[v] turns a version-v store into version v + 1.
# Version 2 (session 62) keeps the station outline each count was made with; counts stored before
# it have none (NULL), and are taken to match the outline in use.
MIGRATIONS: dict[int, str] = {1: "ALTER TABLE counts ADD COLUMN outline TEXT;"}

COLUMNS = (
    "station",
    "scene",
    "acquired",
    "status",
    "reason",
    "railcars",
    "railcars_low",
    "railcars_high",
    "locomotives",
    "observed_fraction",
    "gsd_m",
    "detector_version",
    "warnings",
    "cautions",
    "time_of_day",
    "unsure_share",
    "provider_cloud_cover",
    "acquired_from",
    "synthetic",
)
"""The columns of the counts time series, in order (``read_counts`` adds ``params`` and ``detections``).

``warnings`` holds the count's warnings (e.g. the sun throwing the shadows along the tracks), joined
by :data:`WARNINGS_SEPARATOR`, or None; ``cautions`` their kinds' short names
(:func:`railcount.cautions.codes`: ``coarse;short_shadows``), or None; ``synthetic`` is true for a
count of a scene ``railcount synth`` made, None where no count was made (or one before session 72).
``time_of_day`` says whether the count was made with the acquisition's time of day (``given``) or
with the sun assumed at 10:30 local solar time (``assumed``); None for a count that was not made.
``provider_cloud_cover`` is the cloud cover the scene's provider reported (percent of the scene, a
STAC item's ``eo:cloud_cover``), kept with the count; None when the SOURCE gave none or the scene
was not counted. ``unsure_share`` is the count's share of railcars the car model gave under 0.7 (the
overlay's dashed boxes), from its record. ``acquired_from`` says where ``acquired`` came from (a key
of :data:`railcount.io.scenes.ACQUIRED_FROM`: ``planet_file_name``, ``stac_item``,
``tiff_datetime``...); None for counts made before railcount 0.6.23 or not made."""

WARNINGS_SEPARATOR = " | "
"""Joins a count's warnings into one text cell (they are one line each and hold no such bar)."""


@dataclass(frozen=True)
class Record:
    """One result to store: a station in a scene, counted or not.

    ``count`` is the ``railcount count --json`` record (None unless ``status`` is ok);
    ``detections`` a GeoJSON FeatureCollection in lon/lat.
    """

    station: str
    scene_key: str
    scene: str
    status: str
    acquired: str | None = None
    reason: str | None = None
    count: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    detections: dict[str, Any] | None = None
    seconds: float | None = None
    outline: str | None = None  # the station outline the count was made with (WKT, lon/lat)
    # Scene keys of the tiles of this scene (one acquisition delivered as several files), whose
    # records, counted one tile at a time, an ok record of the whole replaces.
    replaces: tuple[str, ...] = ()


class Store:
    """An open results store. Use :func:`open_store`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def write(self, *records: Record) -> None:
        """Write records in one transaction, each replacing the same (station, scene, version).

        An ``ok`` record removes the pair's failed or skipped record: it was retried.
        It also removes the station's failed or skipped record for the same path
        under another key: the file there was broken (or missing) and has been
        replaced, so the time series shows the scene once. And it removes the
        station's records of the scene's tiles counted one by one (``replaces``,
        any detector version): each was a part of this scene taken for a whole.
        """
        with writing(self.path), self.conn:
            for record in records:
                self._write(record)

    def _write(self, record: Record) -> None:
        if record.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {record.status!r}")
        c = record.count or {}
        version = str(c.get("detector_version") or "") if record.status == "ok" else ""
        if record.status == "ok":
            self.conn.execute(
                "DELETE FROM counts WHERE station = ? AND (scene_key = ? OR scene = ?) AND status != 'ok'",
                (record.station, record.scene_key, record.scene),
            )
            if record.replaces:
                marks = ",".join("?" * len(record.replaces))
                self.conn.execute(
                    f"DELETE FROM counts WHERE station = ? AND scene_key IN ({marks})",
                    (record.station, *record.replaces),
                )
        self.conn.execute(
            "INSERT OR REPLACE INTO counts (station, scene_key, detector_version, scene, acquired, status, "
            "reason, railcars, railcars_low, railcars_high, locomotives, observed_fraction, gsd_m, record, "
            "params, detections, seconds, written, outline) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.station,
                record.scene_key,
                version,
                record.scene,
                record.acquired,
                record.status,
                record.reason,
                c.get("railcars"),
                c.get("railcars_low"),
                c.get("railcars_high"),
                c.get("locomotives"),
                c.get("observed_fraction"),
                c.get("gsd_m"),
                json.dumps(record.count) if record.count is not None else None,
                json.dumps(record.params) if record.params is not None else None,
                json.dumps(record.detections) if record.detections is not None else None,
                record.seconds,
                time.time(),
                record.outline,
            ),
        )

    def forget_problems(self, keys: Iterable[str]) -> None:
        """Remove the failed or skipped records of the scene ``keys``: a STAC item that could not be
        read before and can now (its record is of the item; its image is counted under its own)."""
        rows = self.conn.execute("SELECT DISTINCT scene_key FROM counts WHERE status != 'ok'")
        stale = {key for (key,) in rows} & set(keys)
        if not stale:
            return  # (no write: a rerun over a read-only copy of a store can still plan)
        with writing(self.path), self.conn:
            for key in sorted(stale):
                self.conn.execute("DELETE FROM counts WHERE scene_key = ? AND status != 'ok'", (key,))

    def states(self, detector_version: str) -> dict[tuple[str, str], str]:
        """Status of every stored (station, scene key) for ``detector_version``.

        ``ok`` when a record of that version is ok; otherwise the status of the
        pair's failed or skipped record. Pairs counted only by other versions
        are absent: they are still to do.
        """
        out: dict[tuple[str, str], str] = {}
        rows = self.conn.execute(
            "SELECT station, scene_key, status FROM counts WHERE detector_version IN (?, '')",
            (detector_version,),
        )
        for station, key, status in rows:
            if out.get((station, key)) != "ok":
                out[(station, key)] = status
        return out

    def outlines(self, detector_version: str) -> dict[tuple[str, str], str | None]:
        """The station outline (WKT) each ok count of ``detector_version`` was made with, by
        (station, scene key); None for counts stored before the store kept it."""
        rows = self.conn.execute(
            "SELECT station, scene_key, outline FROM counts WHERE detector_version = ? AND status = 'ok'",
            (detector_version,),
        )
        return {(station, key): outline for station, key, outline in rows}

    def bands(self, detector_version: str) -> dict[tuple[str, str], list[int] | None]:
        """The file's bands each ok count of ``detector_version`` was read from (red, green, blue,
        or one), by (station, scene key); None where the count does not say."""
        rows = self.conn.execute(
            "SELECT station, scene_key, record FROM counts WHERE detector_version = ? AND status = 'ok'",
            (detector_version,),
        )
        return {(station, key): _bands_of(_parsed(record)) for station, key, record in rows}

    def mosaics(self) -> dict[str, frozenset[str]]:
        """The tiles (paths) of every stored scene counted as a mosaic of tiles, by scene key."""
        rows = self.conn.execute(
            "SELECT DISTINCT scene_key, record FROM counts WHERE scene_key LIKE 'tiles:%' AND status = 'ok'"
        )
        return {key: frozenset(_tiles_of(_parsed(record)) or ()) for key, record in rows}

    def warned(self, detector_version: str) -> set[tuple[str, str]]:
        """The (station, scene key) pairs whose ok count of ``detector_version`` came with a warning
        (e.g. the sun throwing the shadows along the tracks)."""
        rows = self.conn.execute(
            "SELECT station, scene_key, record FROM counts WHERE detector_version = ? AND status = 'ok' "
            "AND record LIKE '%\"warnings\"%'",
            (detector_version,),
        )
        return {(station, key) for station, key, record in rows if _warnings_of(_parsed(record))}

    def time_unknown(self, detector_version: str) -> set[tuple[str, str]]:
        """The (station, scene key) pairs whose ok count of ``detector_version`` was made with no time of
        day (the sun assumed at 10:30 local solar time): the export's ``time_of_day`` is ``assumed``."""
        rows = self.conn.execute(
            "SELECT station, scene_key, record, acquired FROM counts "
            "WHERE detector_version = ? AND status = 'ok'",
            (detector_version,),
        )
        return {
            (station, key)
            for station, key, record, acquired in rows
            if _time_of_day(_parsed(record), acquired) == "assumed"
        }

    def cached_key(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The scene key remembered for a file of this size and modification time, if any."""
        row = self.conn.execute(
            "SELECT scene_key FROM files WHERE path = ? AND size = ? AND mtime_ns = ?", (path, size, mtime_ns)
        ).fetchone()
        return str(row[0]) if row else None

    def remember_key(self, path: str, size: int, mtime_ns: int, key: str) -> None:
        with writing(self.path), self.conn:
            self.conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?)", (path, size, mtime_ns, key))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(db: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open (and with ``create``, make) a results store, migrating an older schema.

    Raises
    ------
    StoreError
        The file is missing (without ``create``), is not a railcount store, or
        was written by a newer railcount. The file is not modified.
    """
    path = Path(db)
    if not path.exists() and not create:
        raise StoreError(f"{path}: results store not found; run `railcount batch --db {path}` first")
    if path.is_dir():
        raise StoreError(f"{path}: is a directory; --db wants a file name such as railcount.db")
    fresh = not path.exists() or path.stat().st_size == 0
    if not fresh:
        _check_header(path)
    elif create and not path.parent.exists():
        # As --out does: a new store's folder is made (`--db results/tumangang.db` in a new project).
        try:
            path.parent.mkdir(parents=True)
        except OSError as exc:
            raise StoreError(
                f"{path}: cannot create the results store's folder ({exc.strerror}); choose another --db"
            ) from None
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the results store ({exc}); check the path") from None
    try:
        with writing(path):
            _prepare(conn, path, fresh)
    except (sqlite3.DatabaseError, StoreReadOnlyError) as exc:
        conn.close()
        if not create and not fresh and _cannot_write(exc):
            # On read-only storage (a mounted archive, a colleague's share) a store is read as it is.
            return Store(_read_only(path), path)
        raise StoreError(f"{path}: not a railcount results store ({exc}); pass another --db file") from None
    except StoreError:
        conn.close()
        raise
    return Store(conn, path)


_SQLITE_CANTOPEN = 14


def _cannot_write(exc: BaseException) -> bool:
    """Whether opening a store failed for want of writing: a read-only file or folder, or SQLite's
    write-ahead log unable to make its files beside it ("unable to open database file")."""
    if isinstance(exc, StoreReadOnlyError):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CANTOPEN, _SQLITE_READONLY)
    return "unable to open database file" in str(exc) or "readonly database" in str(exc)


def _read_only(path: Path) -> sqlite3.Connection:
    """A store on storage this process cannot write, opened to read (as an immutable file where SQLite
    cannot even lock it: on such storage nothing can change it meanwhile), after the checks
    :func:`_prepare` makes of a store's mark and version (an older store cannot be migrated there)."""
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}"
    # Read-only with SQLite's locks first (another process may still write a file this one may not);
    # immutable where even that cannot open it (a folder where the write-ahead log's files cannot be).
    for mode in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=LOCK_WAIT_S)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            break
        except sqlite3.DatabaseError as exc:
            conn.close()
            if mode == "mode=ro" and _cannot_write(exc):
                continue
            raise StoreError(
                f"{path}: not a railcount results store ({exc}); pass another --db file"
            ) from None
    problem = ""
    if app_id != APPLICATION_ID:
        problem = "is an SQLite database but not a railcount results store; pass another --db file"
    elif version > SCHEMA_VERSION:
        problem = f"was written by a newer railcount (store schema {version}); upgrade railcount"
    elif version < SCHEMA_VERSION:
        problem = (
            f"was written by an older railcount (store schema {version}) and lies where it cannot be "
            "updated; copy it to a folder you can write and read the copy"
        )
    if problem:
        conn.close()
        raise StoreError(f"{path}: {problem}")
    return conn


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn SQLite's "database is locked" and "attempt to write a readonly database" into one-line
    :class:`StoreLockedError` and :class:`StoreReadOnlyError` naming the store ``path``."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        problem = _problem(exc)
        if problem == "locked":
            raise StoreLockedError(
                f"{path}: the results store is locked by another program (another railcount batch on "
                f"it, or a database browser with changes not written) and stayed locked for "
                f"{LOCK_WAIT_S:g} s; close or wait for it, then run the same command again: the scenes "
                "already stored are kept, and only the rest are counted"
            ) from None
        if problem == "readonly":
            raise StoreReadOnlyError(
                f"{path}: the results store cannot be written (a read-only file, folder or disk); "
                f"make it writable (chmod u+w {path}) or pass another --db"
            ) from None
        raise


# SQLite's primary result codes (the low byte of an extended one).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 5, 6, 8


def _problem(exc: sqlite3.OperationalError) -> str | None:
    """``locked``, ``readonly`` or None: what an SQLite error says of the store, by its result code
    (Python 3.11+), else (3.10 keeps no code) by SQLite's fixed message."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return "locked"
        return "readonly" if primary == _SQLITE_READONLY else None
    text = str(exc)
    if "database is locked" in text or "database table is locked" in text:
        return "locked"
    return "readonly" if "readonly database" in text else None


def _check_header(path: Path) -> None:
    """Refuse a non-SQLite file before SQLite touches it."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the results store ({exc.strerror})") from None
    if not head.startswith(b"SQLite format 3\x00"):
        raise StoreError(
            f"{path}: is not a railcount results store (not an SQLite file); "
            "pass another --db file, this one is left as it is"
        )


def _prepare(conn: sqlite3.Connection, path: Path, fresh: bool) -> None:
    # The three read at one moment (one read transaction): another process may be making this store
    # now, and its tables without its mark read as someone else's database.
    conn.execute("BEGIN")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        conn.execute("COMMIT")
    # An SQLite file with nothing in it and no application's mark is a store whose making was cut
    # short (a batch killed in its first milliseconds, once WAL had written the header): made now.
    # One with tables, or another application's mark, is someone else's and left as it is.
    if (app_id != APPLICATION_ID and has_tables) or app_id not in (0, APPLICATION_ID):
        raise StoreError(
            f"{path}: is an SQLite database but not a railcount results store; "
            "pass another --db file, this one is left as it is"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: was written by a newer railcount (store schema {version}, this railcount "
            f"reads up to {SCHEMA_VERSION}); upgrade railcount (pip install -U railcount)"
        )
    _wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a killed process
    stamp = f"railcount {__version__}".replace("'", "")
    if app_id != APPLICATION_ID:
        _in_one_transaction(
            conn,
            f"{_SCHEMA} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; "
            f"INSERT OR REPLACE INTO meta VALUES ('created_by', '{stamp}');",
        )
    elif version < SCHEMA_VERSION:
        steps = " ".join(MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
        _in_one_transaction(
            conn,
            f"{steps} PRAGMA user_version = {SCHEMA_VERSION}; "
            f"INSERT OR REPLACE INTO meta VALUES ('migrated_by', '{stamp}');",
        )


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting for a lock as long as other writes do: the switch answers "database is
    locked" at once, without SQLite's busy wait, while another process makes the same new store (two
    batches started together: one failed at once, saying it had waited 30 s)."""
    import time

    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if _problem(exc) != "locked" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _in_one_transaction(conn: sqlite3.Connection, script: str) -> None:
    """Run an SQL script all or nothing (schema changes and PRAGMAs included)."""
    try:
        conn.executescript(f"BEGIN IMMEDIATE; {script} COMMIT;")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.rollback()
        raise


def read_counts(
    db: str | os.PathLike[str], station: str | None = None, *, detections: bool = True
) -> list[dict[str, Any]]:
    """The counts time series stored in ``db``: one dict per (station, scene).

    For each pair, the record of the newest detector version (the most
    recently written) that counted it ``ok``, or else its failed or skipped
    record. Sorted by acquisition time (undated last), then station and scene.

    Parameters
    ----------
    db : str or PathLike
        A results store written by ``railcount batch``.
    station : str, optional
        Only this station's records.
    detections : bool, default True
        Load the detected cars' outlines; False leaves ``detections`` None
        and spares reading and parsing them (a time series needs only counts).

    Returns
    -------
    list of dict
        Keys: ``station``, ``scene`` (path or URL), ``acquired`` (ISO 8601 or
        None), ``status`` (``ok``, ``failed``, ``skipped``), ``reason`` (None
        when ok), ``railcars``, ``railcars_low``, ``railcars_high``,
        ``locomotives``, ``observed_fraction``, ``gsd_m`` (None unless ok),
        ``detector_version`` (None for records that never reached the
        detector), ``warnings`` (the count's warnings joined by
        :data:`WARNINGS_SEPARATOR`, or None), ``time_of_day``,
        ``unsure_share``, ``provider_cloud_cover``, ``acquired_from`` (see :data:`COLUMNS`),
        ``tiles`` (the files of a scene counted as a mosaic of tiles, or None),
        ``shadows_toward_deg`` (the bearing a count placed its sun from, or None), ``bands`` (the
        file's bands read as red, green, blue, or None), ``params`` (detector parameters dict or
        None) and
        ``detections`` (GeoJSON FeatureCollection dict in lon/lat, or None).

    Raises
    ------
    StoreError
        ``db`` does not exist, is not a railcount store, or is newer than this railcount.

    Examples
    --------
    >>> rows = read_counts("railcount.db", station="Tumangang")  # doctest: +SKIP
    >>> [(r["acquired"], r["railcars"]) for r in rows if r["status"] == "ok"]  # doctest: +SKIP
    """
    with open_store(db, create=False) as store:
        return list(_best_records(store, station, detections))


def read_station_counts(
    db: str | os.PathLike[str], station: str | None, *, detections: bool, mend: str
) -> list[dict[str, Any]]:
    """:func:`read_counts`, but a ``station`` the store holds no record of is a usage error naming the
    stations it does hold, and ``mend`` (a misspelt name must not read as an empty history)."""
    rows = read_counts(db, station, detections=detections)
    if station is not None and not rows:
        names = sorted({r["station"] for r in read_counts(db, detections=False)})
        raise UsageError(
            f"{db}: no records for station {station!r} (stations in the store: "
            f"{', '.join(repr(n) for n in names) or 'none'}); {mend}"
        )
    return rows


def _best_records(store: Store, station: str | None, detections: bool) -> Iterator[dict[str, Any]]:
    sql = (
        "SELECT station, scene_key, scene, acquired, status, reason, railcars, railcars_low, railcars_high, "
        "locomotives, observed_fraction, gsd_m, detector_version, params, "
        f"{'detections' if detections else 'NULL'}, written, record FROM counts"
    )
    args: tuple[str, ...] = ()
    if station is not None:
        sql += " WHERE station = ?"
        args = (station,)
    best: dict[tuple[str, str], tuple[tuple[int, float], tuple[Any, ...]]] = {}
    for row in store.conn.execute(sql, args):
        rank = (1 if row[4] == "ok" else 0, row[15])
        key = (row[0], row[1])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, row)
    rows = [r for _, r in best.values()]
    rows.sort(key=lambda r: (r[3] is None, r[3] or "", r[0], r[2]))
    for r in rows:
        rec = _parsed(r[16])  # the count record, read once for every column taken from it
        yield {
            "station": r[0],
            "scene": r[2],
            "scene_key": r[1],
            "acquired": r[3],
            "status": r[4],
            "reason": r[5],
            "railcars": r[6],
            "railcars_low": r[7],
            "railcars_high": r[8],
            "locomotives": r[9],
            "observed_fraction": r[10],
            "gsd_m": r[11],
            "detector_version": r[12] or None,
            "warnings": _warnings_of(rec),
            "cautions": ";".join(caution_codes(rec.get("warnings") or [])) or None,
            "time_of_day": _time_of_day(rec, r[3]) if r[4] == "ok" else None,
            "unsure_share": _number(rec.get("unsure_share")),
            "provider_cloud_cover": _number(rec.get("provider_cloud_cover")),
            "acquired_from": rec.get("acquired_from") if isinstance(rec.get("acquired_from"), str) else None,
            "tiles": _tiles_of(rec),
            "shadows_toward_deg": _shadows_of(rec),
            "bands": _bands_of(rec),
            # Known only where a count was made (since session 72): None for a failed or skipped scene.
            "synthetic": rec["synthetic"] is True if "synthetic" in rec else None,
            "params": json.loads(r[13]) if r[13] else None,
            "detections": json.loads(r[14]) if r[14] else None,
        }


def _parsed(record: str | None) -> dict[str, Any]:
    """A stored count record (``count --json``'s object) as a dict; {} when there is none or it is not
    one."""
    try:
        value = json.loads(record) if record else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _time_of_day(rec: dict[str, Any], acquired: str | None) -> str:
    """``given``, ``assumed`` or ``from shadows``: the count record's own ``sun`` (since session 24), else
    its acquisition time (none, or exactly midnight UTC, is how date-only metadata reads: the sun was
    assumed)."""
    from railcount.io.history import TIMES_OF_DAY
    from railcount.io.scenes import stored_time_unknown

    sun = rec.get("sun")
    if isinstance(sun, dict) and sun.get("time_of_day") in TIMES_OF_DAY:
        return str(sun["time_of_day"])
    return "assumed" if stored_time_unknown(acquired) else "given"


def _shadows_of(rec: dict[str, Any]) -> float | None:
    """The shadows' bearing a stored count placed its sun from (``from shadows``), or None."""
    sun = rec.get("sun")
    return _number(sun.get("shadows_toward_deg")) if isinstance(sun, dict) else None


def _number(value: Any) -> float | None:
    """A number kept in a stored count record (``unsure_share``, ``provider_cloud_cover``...), or None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _bands_of(rec: dict[str, Any]) -> list[int] | None:
    """The file's bands a stored count read as red, green, blue (or one), numbered from 1; None when
    the record does not say (the file's own choice, or a count older than railcount 0.6.22)."""
    bands = rec.get("bands")
    if isinstance(bands, list) and bands and all(type(b) is int for b in bands):
        return list(bands)
    return None


def _tiles_of(rec: dict[str, Any]) -> list[str] | None:
    """The files a stored count's scene was stitched from (a mosaic of tiles), or None for one file."""
    tiles = rec.get("tiles")
    return [str(t) for t in tiles] if isinstance(tiles, list) and tiles else None


def _warnings_of(rec: dict[str, Any]) -> str | None:
    """The warnings of a stored count record, joined into one text (None when it has none)."""
    notes = rec.get("warnings") or []
    return WARNINGS_SEPARATOR.join(str(n) for n in notes) or None


def count_states(states: dict[tuple[str, str], str], pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """How many of ``pairs`` are ok, failed or skipped (missing ones count as failed)."""
    tally = dict.fromkeys(STATUSES, 0)
    for pair in pairs:
        tally[states.get(pair, "failed")] += 1
    return tally
