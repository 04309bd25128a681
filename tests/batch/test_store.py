"""The results store: records, the best record per pair, and refusing what is not ours."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from railcount.errors import RailcountError, StoreError
from railcount.store import SCHEMA_VERSION, Record, open_store, read_counts

MARCH = "2022-03-01T00:00:00+00:00"


def _ok(station: str, key: str, scene: str, acquired: str | None, railcars: int, version: str) -> Record:
    count = {
        "railcars": railcars,
        "railcars_low": railcars - 1,
        "railcars_high": railcars + 2,
        "locomotives": 1,
        "observed_fraction": 0.9,
        "gsd_m": 0.5,
        "detector_version": version,
    }
    fc = {"type": "FeatureCollection", "features": []}
    return Record(station, key, scene, "ok", acquired=acquired, count=count, params={"a": 1}, detections=fc)


def test_read_counts_best_record_per_pair_sorted_by_date(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with open_store(db) as s:
        s.write(Record("A", "k1", "one.tif", "failed", acquired=MARCH, reason="corrupt"))
        s.write(_ok("A", "k1", "one.tif", MARCH, 7, "0.1"))
        s.write(_ok("A", "k1", "one.tif", MARCH, 9, "0.2"))
        s.write(Record("A", "k2", "two.tif", "failed", acquired="2021-01-01T00:00:00+00:00", reason="bad"))
        s.write(Record("A", "k3", "undated.tif", "skipped", reason="no acquisition date"))
        s.write(_ok("B", "k1", "one.tif", MARCH, 3, "0.2"))
    rows = read_counts(db)
    assert [(r["station"], r["scene"]) for r in rows] == [
        ("A", "two.tif"),
        ("A", "one.tif"),
        ("B", "one.tif"),
        ("A", "undated.tif"),
    ]
    a_one = rows[1]
    assert a_one["status"] == "ok" and a_one["railcars"] == 9 and a_one["detector_version"] == "0.2"
    assert a_one["reason"] is None and a_one["params"] == {"a": 1}
    assert a_one["detections"]["type"] == "FeatureCollection"
    assert rows[0]["status"] == "failed" and rows[0]["reason"] == "bad"
    assert rows[0]["detector_version"] is None and rows[0]["railcars"] is None
    assert rows[3]["acquired"] is None and rows[3]["status"] == "skipped"
    assert [r["scene"] for r in read_counts(db, station="B")] == ["one.tif"]
    # Without the outlines: the same rows, detections left out.
    lean = read_counts(db, detections=False)
    assert all(r["detections"] is None for r in lean)
    assert lean == [{**r, "detections": None} for r in rows]
    # The retried pair left no failed record behind; the two versions stay.
    with sqlite3.connect(db) as c:
        assert c.execute(
            "SELECT count(*) FROM counts WHERE scene_key = 'k1' AND station = 'A'"
        ).fetchone() == (2,)


def test_failed_after_ok_keeps_the_ok_record(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with open_store(db) as s:
        s.write(_ok("A", "k1", "one.tif", None, 5, "0.1"))
        s.write(Record("A", "k1", "one.tif", "failed", reason="later read error"))
        assert s.states("0.2") == {("A", "k1"): "failed"}
        assert s.states("0.1") == {("A", "k1"): "ok"}
    (row,) = read_counts(db)
    assert row["status"] == "ok" and row["railcars"] == 5


def test_missing_store_is_a_railcount_error(tmp_path: Path) -> None:
    with pytest.raises(RailcountError, match="not found"):
        read_counts(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_a_new_store_gets_its_folder_and_a_blocked_one_a_line(tmp_path: Path) -> None:
    with open_store(tmp_path / "results" / "2023" / "r.db") as store:  # as --out makes its folder
        store.write(Record("A", "k1", "a.tif", "skipped", reason="no date"))
    assert (tmp_path / "results" / "2023" / "r.db").is_file()
    (tmp_path / "file").write_text("a file where the folder would go")
    with pytest.raises(RailcountError, match="cannot create the results store's folder"):
        open_store(tmp_path / "file" / "sub" / "r.db")


@pytest.mark.parametrize("kind", ["text", "other_sqlite", "newer"])
def test_foreign_or_newer_store_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "x.db"
    if kind == "text":
        db.write_text("station,railcars\nA,3\n")
    elif kind == "other_sqlite":
        with sqlite3.connect(db) as c:
            c.execute("CREATE TABLE notes (x TEXT)")
            c.execute("INSERT INTO notes VALUES ('keep me')")
        c.close()
    else:
        with open_store(db) as s:
            s.write(_ok("A", "k1", "one.tif", None, 5, "0.1"))
        with sqlite3.connect(db) as c:
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        c.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer railcount" if kind == "newer" else "not a railcount"):
        open_store(db)
    with pytest.raises(StoreError):
        read_counts(db)
    assert db.read_bytes() == before


def test_store_written_by_this_version_reopens_with_its_records(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with open_store(db) as s:
        s.write(_ok("A", "k1", "one.tif", None, 5, "0.1"))
    with open_store(db) as s:
        s.write(_ok("A", "k2", "two.tif", None, 6, "0.1"))
    assert [r["railcars"] for r in read_counts(db)] == [5, 6]


def test_older_store_is_migrated_in_place_with_its_records(tmp_path: Path, monkeypatch) -> None:
    import railcount.store as store_module

    db = tmp_path / "r.db"
    with open_store(db) as s:
        s.write(_ok("A", "k1", "one.tif", MARCH, 5, "0.1"))
    # The next schema adds a column; this railcount becomes that next version.
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_module.MIGRATIONS, SCHEMA_VERSION, "ALTER TABLE counts ADD COLUMN note TEXT;")
    (row,) = read_counts(db)
    assert row["railcars"] == 5 and row["acquired"] == MARCH
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
        assert "note" in [r[1] for r in c.execute("PRAGMA table_info(counts)")]
        assert c.execute("SELECT value FROM meta WHERE key = 'migrated_by'").fetchone() is not None
    c.close()


def test_a_store_whose_making_was_cut_short_is_made_on_the_next_run(tmp_path: Path) -> None:
    """A batch killed in its first milliseconds could leave an SQLite file with WAL's header and
    nothing else; every rerun refused it as someone else's database. Now it is made; a file with
    another application's mark, or with tables, is still left as it is."""
    cut = tmp_path / "cut.db"
    with sqlite3.connect(cut) as c:
        c.execute("PRAGMA journal_mode=WAL")  # writes the header; no table, no mark
    assert cut.stat().st_size > 0
    with open_store(cut) as store:
        store.write(
            Record("T", "k", "s.tif", "ok", acquired="2023-10-05T00:00:00+00:00", count={"railcars": 1})
        )
    assert [r["station"] for r in read_counts(cut)] == ["T"]
    theirs = tmp_path / "theirs.db"
    with sqlite3.connect(theirs) as c:
        c.execute("PRAGMA application_id = 1234")
        c.execute("PRAGMA journal_mode=WAL")
    with pytest.raises(StoreError, match="not a railcount results store"):
        open_store(theirs)


def _open_at_once(args: tuple[str, object]) -> str:
    path, barrier = args
    barrier.wait()  # type: ignore[attr-defined]
    try:
        with open_store(path):
            return "ok"
    except RailcountError as exc:
        return str(exc)


def test_two_processes_making_one_new_store_at_once_both_open_it(tmp_path: Path) -> None:
    """Two batches started together on a new store: the switch to WAL answered "locked" at once to
    one of them, which failed saying it had waited 30 s (12 of 12 times with the two opens aligned)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        for k in range(6):
            barrier = manager.Barrier(2)
            path = str(tmp_path / f"new{k}.db")
            with ctx.Pool(2) as pool:
                assert pool.map(_open_at_once, [(path, barrier), (path, barrier)]) == ["ok", "ok"]
