"""A results store another program holds locked, or that cannot be written: one line, an honest exit code,
and nothing already stored is lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from railcount import store as store_module
from railcount.batch import Progress, run_batch
from railcount.cli import main
from railcount.errors import BatchStoppedError
from railcount.store import read_counts

from ..geofixtures import plain_tif


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wait half a second for a lock, not the 30 s a batch waits: the same code path, quicker."""
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.5)


def _twelve(folder: Path) -> Path:
    folder.mkdir()
    for day in range(1, 13):
        plain_tif(folder / f"s_2022-01-{day:02d}.tif", day)
    return folder


def _statuses(db: Path) -> list[str]:
    return [r["status"] for r in read_counts(db, detections=False)]


def test_a_store_locked_by_another_connection_is_one_line_and_exit_1(
    tmp_path: Path, scenes: Path, station: Path, short_wait: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "locked.db"
    args = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db), "-w", "1"]
    assert main(args) == 0
    capsys.readouterr()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a DB browser with changes not written holds it
    try:
        code = main([*args, "--force"])
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1  # nothing could be processed
    assert err[-1].startswith(f"railcount: error: {db}: the results store is locked by another program")
    assert "run the same command again" in err[-1] and "Traceback" not in "\n".join(err)
    assert _statuses(db) == ["ok", "ok", "ok"]  # what was stored before is untouched


def test_a_lock_taken_mid_run_stops_the_batch_cleanly_and_keeps_what_it_stored(
    tmp_path: Path, station: Path, short_wait: None
) -> None:
    scenes = _twelve(tmp_path / "twelve")
    db = tmp_path / "r.db"
    holder = sqlite3.connect(db, isolation_level=None)

    def lock_after_three(p: Progress) -> None:
        if p.done == 3:
            holder.execute("BEGIN EXCLUSIVE")  # a second connection takes the store's lock

    try:
        with pytest.raises(BatchStoppedError) as caught:
            run_batch(station, scenes, db=db, workers=1, progress=lock_after_three)
    finally:
        holder.rollback()
    holder.close()
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{db}: the results store is locked")
    assert message.endswith("(3 scenes of this run stored before it stopped, 9 not)")
    assert _statuses(db) == ["ok"] * 3
    # The same command again counts only the rest.
    again = run_batch(station, scenes, db=db, workers=1)
    assert (again.ok, again.failed, again.processed) == (12, 0, 9)


def _writable(path: Path) -> bool:
    try:
        with path.open("r+b"):
            return True
    except OSError:
        return False


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """``path`` made read-only for this process: chmod 444, and for root (whom a mode does not stop)
    the immutable attribute, which root's writes also obey; skipped where neither holds."""
    path.chmod(0o444)
    immutable = False
    try:
        if _writable(path) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
        if _writable(path):
            pytest.skip("running as root where chattr +i does not work: the store file stays writable")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


def test_a_read_only_store_is_one_line_naming_it(
    tmp_path: Path, scenes: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ro.db"
    run_batch(station, scenes, db=db, workers=1)
    args = ["batch", "--station", str(station), "--scenes", str(scenes), "--db", str(db), "-w", "1"]
    with _read_only(db):
        code = main([*args, "--force"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1] == (
        f"railcount: error: {db}: the results store cannot be written (a read-only file, folder or disk); "
        f"make it writable (chmod u+w {db}) or pass another --db"
    )
    assert not any("Traceback" in line or "sqlite3" in line for line in err)
    assert _statuses(db) == ["ok", "ok", "ok"]


@contextmanager
def _read_only_folder(folder: Path) -> Iterator[None]:
    """``folder`` and its files made read-only for this process, as a mounted archive is (a mode, and
    for root the immutable attribute); skipped where neither holds."""
    files = [p for p in folder.iterdir() if p.is_file()]
    for p in [*files, folder]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    flagged: list[Path] = []
    try:
        if _writable(folder / files[0].name) and shutil.which("chattr"):
            for p in [*files, folder]:
                if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode == 0:
                    flagged.append(p)
        probe = folder / "probe"
        try:
            probe.touch()
            probe.unlink()
            pytest.skip("running as root where chattr +i does not work: the folder stays writable")
        except OSError:
            pass
        yield
    finally:
        for p in reversed(flagged):
            subprocess.run(["chattr", "-i", str(p)], check=True)
        for p in [folder, *files]:
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_a_store_on_read_only_storage_is_read(
    tmp_path: Path, scenes: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store in a folder nothing can be written to (an archive, a colleague's share) is read by export,
    railcount.counts and report as it is: SQLite's write-ahead log could not make its files beside it,
    and every reader said 'not a railcount results store (unable to open database file)'."""
    import railcount

    shelf = tmp_path / "shelf"
    shelf.mkdir()
    db = shelf / "archive.db"
    run_batch(station, scenes, db=db, workers=1)
    want = read_counts(db, detections=False)
    for extra in shelf.glob("archive.db-*"):  # a closed store leaves no log behind; be sure
        extra.unlink()
    with _read_only_folder(shelf):
        assert main(["export", "--db", str(db), "--format", "csv"]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 + len(want)
        assert [r["railcars"] for r in railcount.counts(db)] == [r["railcars"] for r in want]
        assert sorted(p.name for p in shelf.iterdir()) == ["archive.db"]  # nothing written beside it
