"""Speed of `railcount demo`: generating, counting and reporting a synthetic series; prints a table.

Usage:  python benchmarks/demo_speed.py [--dates 60] [--workers N]

Runs :func:`railcount.demo.run_demo` in a fresh temporary folder (nothing
reused), then again in the same folder (scenes and counts reused), and
prints the seconds of each phase. Timings on a shared machine are noisy:
run it twice and read the spread. Last, it sets the demo's counts against
the truth written beside each of its scenes (``.truth.json``): the
weighted count error, the bias and how many intervals hold the truth, so
that the demo's story is known to be told by counts as good as the
benchmarks' (session 72: drawn unsupersampled, the series ran 13.6 % high).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from railcount.demo import run_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dates", type=int, default=60)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"railcount demo, {args.dates} dates, workers={args.workers or 'default'}, {cores} cores")
    print(f"{'run':<8} {'generate s':>11} {'count s':>8} {'report s':>9} {'total s':>8}  verdict")
    with tempfile.TemporaryDirectory() as tmp:
        for run in ("fresh", "again"):
            res = run_demo(tmp, n_dates=args.dates, workers=args.workers)
            p = res.phases
            print(
                f"{run:<8} {p['generate']:>11.1f} {p['count']:>8.1f} {p['report']:>9.1f} {res.seconds:>8.1f}"
                f"  {res.verdict}"
            )
        print(against_truth(res.db))


def against_truth(db: str | os.PathLike[str]) -> str:
    """The demo's stored counts against the truth files beside their scenes, in one line."""
    from railcount.store import read_counts

    truth = error = bias = held = n = 0
    for row in read_counts(db, "Tumangang", detections=False):
        if row["status"] != "ok":
            continue
        true = json.loads(Path(row["scene"]).with_suffix(".truth.json").read_text())["railcars"]
        truth, n = truth + true, n + 1
        error += abs(row["railcars"] - true)
        bias += row["railcars"] - true
        held += row["railcars_low"] <= true <= row["railcars_high"]
    return (
        f"counts against truth: {n} scenes, error {100 * error / truth:.1f} %, "
        f"bias {100 * bias / truth:+.1f} %, interval holds the truth in {held} of {n}"
    )


if __name__ == "__main__":
    main()
