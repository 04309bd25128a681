"""A caution when the imagery is too coarse to see the gaps between coupled cars (session 33).

Coarser than the detector's ``gap_visible_gsd_m`` (0.65 m) runs of coupled
cars are counted by their length. On the one real yard with a truth, made
coarser (``benchmarks/real_gsd.py``), that count ran a fifth to a half
low, and at 1.0 m its interval held the truth only as widened for that
scene's high sun (detector 0.6.18); since detector 0.6.32 a third to over
a half low, the interval holding it at half the offsets at 1.0 m. The user is told on the
command line, in ``count.json``, on the overlay, in a batch's log and store,
and once in a report's caveats (not by ringing every count of a history
that is coarse throughout).
"""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import pytest

from railcount.cautions import (
    COARSE_GSD_M,
    caption,
    coarse_imagery_caution,
    is_coarse,
    scene_cautions,
)
from railcount.detect.params import DetectorParams
from railcount.errors import CoarseImageryWarning, ShortShadowsWarning
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.report.baseline import Observation, compare

from .geofixtures import write_synth


def test_the_caution_starts_where_the_detector_counts_by_pitch():
    gap = DetectorParams().gap_visible_gsd_m
    assert COARSE_GSD_M == gap  # the report reads "coarse" from a count's GSD with the same bound
    assert coarse_imagery_caution("Yard", gap, gap) == ""
    line = coarse_imagery_caution("Yard", 0.75, gap)
    assert line.startswith("Yard: at 0.75 m ") and is_coarse(line) and "\n" not in line
    along = "Yard: the sun ... along the tracks"
    assert scene_cautions([line, along]) == (along,)
    assert caption([line], 0.75).startswith("caution: 0.75 m imagery") and caption([], 0.75) == ""


def test_a_coarse_scene_is_cautioned_where_the_user_looks(tmp_path, capsys):
    from railcount.cli import main

    paths, station = write_synth(tmp_path, date="2021-06-02", cars=20, gsd_m=1.0, seed=515)
    with pytest.warns(CoarseImageryWarning, match=r"Tumangang: at 1\.00 m a pixel is too coarse"):
        warnings.simplefilter("ignore", ShortShadowsWarning)
        (sc,) = count_scene(paths["tif"], read_stations(station), out_dir=tmp_path / "out")
    record = json.loads((tmp_path / "out" / "count.json").read_text())
    # (Beside it, the June sun's short-shadow caution: tests/test_short_shadows.py.)
    (note,) = [w for w in record["warnings"] if is_coarse(w)]
    assert sc.cautions == tuple(record["warnings"]) and note in sc.cautions
    assert sc.outputs["overlay"].stat().st_size > 0
    # The command line prints it once on stderr, the count itself on stdout.
    assert main(["count", str(paths["tif"]), "--station", str(station)]) == 0
    out, err = capsys.readouterr()
    assert err.count("too coarse to see the gaps") == 1 and "too coarse" not in out
    # --json prints the record with its warnings, as count.json keeps them.
    assert main(["count", str(paths["tif"]), "--station", str(station), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["warnings"] == record["warnings"] and printed["railcars"] == record["railcars"]


def test_no_coarse_caution_at_half_a_metre(tmp_path):
    paths, station = write_synth(tmp_path, date="2021-06-02", cars=20, gsd_m=0.5, seed=515)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoarseImageryWarning)
        (sc,) = count_scene(paths["tif"], read_stations(station), out_dir=tmp_path / "out")
    assert sc.cautions == ()
    assert "warnings" not in json.loads((tmp_path / "out" / "count.json").read_text())


def _history(gsds, warned=()):
    start = date(2020, 1, 1)
    return [
        Observation(start + timedelta(days=30 * i), 20 + i % 3, gsd_m=g, warnings=tuple(warned))
        for i, g in enumerate(gsds)
    ]


def test_a_report_says_coarse_imagery_once_and_rings_no_count():
    from railcount.report.chart import PURPLE, baseline_chart

    coarse_note = coarse_imagery_caution("Yard", 1.0, COARSE_GSD_M)
    base = _history([1.0] * 6, warned=(coarse_note,))
    c = compare(Observation(date(2023, 10, 5), 60, 40, 90, gsd_m=1.0, warnings=(coarse_note,)), base)
    (coarse,) = [k for k in c.caveats if "coarser than 0.65 m" in k]
    assert coarse.startswith("the count on 2023-10-05 and 6 of the 6 baseline counts were made")
    assert not any("came with a warning" in k for k in c.caveats)  # not per count
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert not [line for line in fig.axes[0].get_lines() if line.get_markeredgecolor() == PURPLE]
    # A fine history judged against a fine count: no such caveat; one coarse baseline count: named.
    fine = compare(Observation(date(2023, 10, 5), 60, gsd_m=0.5), _history([0.5] * 6))
    assert not any("coarser than" in k for k in fine.caveats)
    mixed = compare(Observation(date(2023, 10, 5), 60, gsd_m=0.5), _history([0.5] * 5 + [0.75]))
    (named,) = [k for k in mixed.caveats if "coarser than" in k]
    assert named.startswith("1 of the 6 baseline counts was made")


def test_every_kind_of_caution_is_read_back_as_itself_alone():
    """One table (:data:`railcount.cautions.KINDS`) names each kind for the export's codes, the overlay's
    caption and a report's caveats: each caution the count can give is read back as its own kind only."""
    from railcount import cautions as k

    made = {
        "along_tracks": f"Yard: the sun {k.ALONG_PHRASE} (azimuth 120)",
        "short_shadows": k.short_shadow_caution("Yard", 1.0, 70.0),
        "provider_cloud": k.provider_cloud_caution("Yard", 23.0),
        "wide_shadow": k.cloud_shadow_caution("Yard", 0.2),
        "partial_view": k.partial_view_caution("Yard", 0.5),
        "coarse": k.coarse_imagery_caution("Yard", 1.0, 0.65),
        "tiled": k.tiled_caution("Yard", (2, 2), 3_000_000_000, 1_000_000_000),
        "stretched": k.stretched_caution("Yard", 0.02),
        "light_stretch": k.light_stretch_caution("Yard", 0.0003, 0.0004),
    }
    assert [kind.code for kind in k.KINDS] == list(made)
    for code, text in made.items():
        assert text and k.codes([text]) == (code,), code
        (kind,) = k.kinds_of([text])
        assert k.caption([text], 0.75) == "caution: " + kind.caption.format(gsd="0.75")
        assert k.missed_kinds([text]) == (() if kind.missed is None else (kind.missed,))
    assert k.codes(made.values()) == tuple(made)


def test_the_batch_log_names_every_kind_once(capsys):
    """The batch's log line reads the same table: each caution alone gives one warning note, its
    figures filled in; all of them together give one note per kind, the partial view's left out
    where the wide shadow's already says how much was observed."""
    from railcount import cautions as k
    from railcount.batch import Progress
    from railcount.cli.batch import log_line

    made = [
        f"Yard: the sun {k.ALONG_PHRASE} (azimuth 120)",
        k.short_shadow_caution("Yard", 1.0, 70.0),
        k.provider_cloud_caution("Yard", 23.0),
        k.cloud_shadow_caution("Yard", 0.2),
        k.partial_view_caution("Yard", 0.5),
        k.coarse_imagery_caution("Yard", 1.0, 0.65),
        k.tiled_caution("Yard", (2, 2), 3_000_000_000, 1_000_000_000),
        k.stretched_caution("Yard", 0.02),
        k.light_stretch_caution("Yard", levelled=0.2),
    ]

    def logged(warnings: list[str], seen: float | None = 0.7, cover: float | None = 23.0) -> str:
        count = {
            "railcars": 12,
            "warnings": warnings,
            "observed_fraction": seen,
            "provider_cloud_cover": cover,
        }
        count["acquired"] = "2023-10-05T01:48:00Z"
        outcome = {"status": "ok", "station": "Yard", "count": count}
        log_line(Progress(1, 0, 1, 1.0, "scene.tif", (outcome,)))
        return capsys.readouterr().err

    for text in made:
        assert logged([text]).count("(warning: ") == 1, text
    assert "(warning: 70% observed, the rest not counted)" in logged([made[4]])
    assert "provider reports 23 % cloud" in logged([made[2]])
    both = logged(made)
    assert both.count("(warning: ") == len(made) - 1
    assert "a wide shadow, 70% observed, likely low" in both and "the rest not counted" not in both
    # A figure the count lacks: its note is left out rather than printed with a gap.
    assert "(warning: " not in logged([made[2]], cover=None)
    assert "(warning: " not in logged([made[4]], seen=None)
