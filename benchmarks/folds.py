"""Compare detector variants on held-out tuned scenes: fit on one half, score the other; prints tables.

Usage:  python benchmarks/folds.py [--workers W] [--cache DIR]

The shipped models are fitted on tuned scenes 0-599 (plain and v2) and
tuned look-alike blocks 0-599 (``FIT_SCENES``), so the tuned rows of ``accuracy.py`` are not
held out, and the ``untouched`` and ``fresh`` suites are kept for the final
figures. To choose between variants of the detector, this script refits
the models on half of the tuned scenes and scores the other half, both
ways round:

* fold A fits on tuned scenes and blocks 0-49
  (``fit_car_model.py --scenes 0-49 --lookalikes 0-49``, plus tuned 100 on
  when the shipped models use more) and scores
  tuned scenes 50-99, plain and v2, blocks 50-99 and the real scenes
  (``../shared/real``, when present);
* fold B fits on 50-99 and scores 0-49.

The shipped model files are put back afterwards, also when the run fails
or is interrupted. Change the code (a default in ``DetectorParams``, say),
run this, and compare with the run before: the tables in
``docs/detector.md`` from detector 0.5.3 on were made this way. Scoring
runs in a fresh process after each fit, since the models are read once per
process. About 26 minutes on two cores once the scenes are cached (each fold
fits on 550 scenes of each kind); generating tuned scenes 100-599 first
took about 11 minutes per 300 (plain, v2 and block) on two cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import GSDS, ROOT, Outcome, at_gsd, real_outcomes, run_one, summary_row
from fit_car_model import FIT_SCENES

MODELS = [
    ROOT / "railcount" / "detect" / f"{name}_model.py" for name in ("car", "loco", "type", "roof", "fill")
]
HALF = 50
FOLDS = (("A", 0, HALF), ("B", HALF, 0))
"""(name, first scene fitted, first scene scored): the halves of tuned scenes 0-99."""


def fit_set(first: int) -> str:
    """The tuned scenes (and blocks) a fold is fitted on: its half of 0-99 and, as the shipped
    models, every tuned scene from 100 on that they are fitted on."""
    extra = f",{2 * HALF}-{FIT_SCENES - 1}" if FIT_SCENES > 2 * HALF else ""
    return f"{first}-{first + HALF - 1}{extra}"


def score(first: int, workers: int, cache: str) -> dict[str, object]:
    """Score tuned scenes and blocks ``first`` to ``first + HALF - 1`` and the real scenes; print the rows."""
    jobs = [
        ("tuned", i, cache, realism) for realism in ("v1", "v2", "town") for i in range(first, first + HALF)
    ]
    with ProcessPoolExecutor(workers) as pool:
        rows: list[Outcome] = list(pool.map(run_one, jobs, chunksize=2))
    by = {r: [o for o in rows if o.realism == r] for r in ("v1", "v2", "town")}
    summary: dict[str, object] = {}
    for realism, label in (("v1", "plain"), ("v2", "v2")):
        for g in GSDS:
            print(summary_row(f"{label} {g:.2f} m", at_gsd(by[realism], g)))
        print(summary_row(f"{label} all", by[realism]))
        summary[label] = wape(by[realism])
        summary[f"{label} 0.5 m"] = wape(at_gsd(by[realism], 0.5))
    true, called, right = (sum(o.locos[k] for o in by["v1"] + by["v2"]) for k in range(3))
    summary["locomotives"] = [true, called, right]
    print(f"locomotives, plain and v2: {true} true, {called} called, {right} right")
    blocks = [o.count for o in by["town"]]
    summary["blocks"] = sum(blocks)
    print(
        f"look-alike blocks {first}-{first + HALF - 1}: {sum(blocks)} false railcars, "
        f"{sum(b > 0 for b in blocks)} of {len(blocks)} blocks with any"
    )
    real = {o.name: (o.count, o.tp) for o in real_outcomes()}
    summary["real"] = real
    summary["scenes"] = [
        [o.realism, o.name, o.gsd, o.condition, o.truth, o.count, o.tp]
        for o in by["v1"] + by["v2"] + by["town"]
    ]
    if real:
        print("real: " + real_text(real, " found"))
    return summary


def wape(rows: list[Outcome]) -> float:
    """Weighted absolute percentage error of the counts: sum |error| / sum truth."""
    return sum(abs(o.count - o.truth) for o in rows) / max(1, sum(o.truth for o in rows))


def real_text(real: dict[str, tuple[int, int]], found: str = "") -> str:
    """The real scenes' counts on one line (Muttenz with its wagons found)."""
    return ", ".join(
        f"{name} {count}" + (f" ({tp}{found})" if name.startswith("muttenz") else "")
        for name, (count, tp) in real.items()
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    ap.add_argument(
        "--per-scene",
        metavar="FILE",
        help="also write each held-out scene's truth, count and matched cars (JSON, by fold) to FILE",
    )
    ap.add_argument("--score", type=int, default=None, help=argparse.SUPPRESS)  # internal: one fold's scoring
    args = ap.parse_args(argv)
    if args.score is not None:
        print("SUMMARY " + json.dumps(score(args.score, args.workers, args.cache)))
        return 0
    shipped = {path: path.read_bytes() for path in MODELS}
    results = {}
    try:
        for name, fit_first, score_first in FOLDS:
            print(
                f"fold {name}: models fitted on tuned scenes and blocks {fit_set(fit_first)}, "
                f"scored on {score_first}-{score_first + HALF - 1}",
                flush=True,
            )
            fit = [
                sys.executable,
                str(ROOT / "benchmarks" / "fit_car_model.py"),
                "--scenes",
                fit_set(fit_first),
                "--lookalikes",
                fit_set(fit_first),
                "--workers",
                str(args.workers),
                "--cache",
                args.cache,
            ]
            subprocess.run(fit, check=True, capture_output=True, text=True)
            run = [
                sys.executable,
                __file__,
                "--score",
                str(score_first),
                "--workers",
                str(args.workers),
                "--cache",
                args.cache,
            ]
            done = subprocess.run(run, check=True, capture_output=True, text=True)
            lines = done.stdout.splitlines()
            print("\n".join(line for line in lines if not line.startswith("SUMMARY ")), flush=True)
            results[name] = json.loads(next(line for line in lines if line.startswith("SUMMARY "))[8:])
    finally:
        for path, data in shipped.items():
            path.write_bytes(data)
    per_scene = {k: s.pop("scenes") for k, s in results.items()}
    if args.per_scene:
        Path(args.per_scene).write_text(json.dumps(per_scene))
    header = f"{'fold':<6} {'plain':>7} {'v2':>7} {'v2 0.5 m':>9} {'blocks':>7}  real"
    print()
    print(header)
    print("-" * 80)
    for name, s in results.items():
        shown = real_text(s["real"])
        print(f"{name:<6} {s['plain']:>7.1%} {s['v2']:>7.1%} {s['v2 0.5 m']:>9.1%} {s['blocks']:>7}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
