"""benchmarks/accuracy.py map_scene_range: ``--gsd`` picks the scenes before they are counted."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from accuracy import map_scene_range, scene_spec


def _job_index(job: tuple[str, int, str, str]) -> int:
    return job[1]


def _args(gsd: float | None) -> argparse.Namespace:
    return argparse.Namespace(
        suite="tuned", first=600, last=612, cache="unused", workers=1, realism="v1", gsd=gsd
    )


def test_gsd_counts_only_the_scenes_of_that_gsd():
    for gsd in (0.3, 0.5, 0.75, 1.0):
        done = map_scene_range(_job_index, _args(gsd))
        assert len(done) == 3
        assert all(scene_spec("tuned", i)["gsd_m"] == gsd for i in done)


def test_without_gsd_every_scene_is_counted_in_order():
    assert map_scene_range(_job_index, _args(None)) == list(range(600, 612))


def test_scripts_without_gsd_count_every_scene():
    args = _args(None)
    del args.gsd  # cloud.py and conditions.py offer no --gsd
    assert map_scene_range(_job_index, args, realism="v2") == list(range(600, 612))
