"""Process settings of the command line and its batch workers: freed memory kept, small pages."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from railcount.runtime import SMALL_PAGES_MAX_WINDOWS
from railcount.workers import _init_worker

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")

TOUCH = """
import sys
import numpy as np
from railcount.runtime import small_pages
if sys.argv[1] == "small":
    assert small_pages()
a = np.ones(96 * 2**20, np.uint8)  # numpy asks for huge pages for arrays of 4 MB or more
for line in open("/proc/self/smaps_rollup"):
    if line.startswith("AnonHugePages:"):
        print(int(line.split()[1]))
"""


def _huge_kb(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", TOUCH, mode], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1])


def _numpy_asks_for_huge_pages() -> bool:
    from numpy._core.multiarray import _set_madvise_hugepage

    was = _set_madvise_hugepage(True)  # reads the setting (and puts it back below)
    _set_madvise_hugepage(was)
    return bool(was)


@pytest.mark.skipif(not THP.exists(), reason="no transparent huge pages on this system (not Linux)")
def test_small_pages_keep_numpys_arrays_off_huge_pages():
    """Where the kernel gives huge pages only to memory that asks for them (this project's machines), a
    large array gets them by default and none after small_pages()."""
    mode = THP.read_text().split("[")[1].split("]")[0]
    small = _huge_kb("small")
    if mode == "madvise":
        assert _huge_kb("default") >= 2048
        assert small == 0
    elif mode == "never":
        assert small == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="numpy asks for huge pages on Linux only")
def test_batch_workers_use_small_pages_for_a_few_windows_only():
    """A spawned worker set up as the batch sets its workers up asks for no huge pages when it has a few
    windows to count, and keeps numpy's huge pages when it has many."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as plain:
        assert plain.submit(_numpy_asks_for_huge_pages).result()
    for windows, huge in ((3, False), (SMALL_PAGES_MAX_WINDOWS, False), (SMALL_PAGES_MAX_WINDOWS + 1, True)):
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=(windows,)) as tuned:
            assert tuned.submit(_numpy_asks_for_huge_pages).result() is huge


PAGES_FOR = """
import sys
from railcount.runtime import pages_for, tune_memory
from numpy._core.multiarray import _set_madvise_hugepage as ask
def asks():
    was = ask(True)
    ask(was)
    return int(was)
out = []
pages_for(100)
out.append(asks())  # a library caller's process: untouched
tune_memory()
out.append(asks())  # the command line's start: small pages
pages_for(5)
out.append(asks())
pages_for(100)
out.append(asks())
print(*out)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="numpy asks for huge pages on Linux only")
def test_pages_for_acts_only_where_the_command_line_set_small_pages():
    done = subprocess.run([sys.executable, "-c", PAGES_FOR], check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["1", "0", "0", "1"]
