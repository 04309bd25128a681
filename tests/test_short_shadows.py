"""The caution when the sun stands so high that the cars' shadows are a few pixels long (session 46).

The detector finds cars beside their shadows. Where a 4 m car's shadow is
under three pixels (a summer sun on 0.75-1.0 m imagery) generated yards were
counted 6-9 % low, and yards of other layouts a third low
(``benchmarks/accuracy.py --by-shadow``). Such a count says so: on stderr, in
``count.json``, on the overlay's caption, in a batch's log line and store,
and in a report's caveats (not as a ring on its chart: in a coarse history
two in five of the demo's counts are summer ones).
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import date, timedelta

import pytest

from railcount.cautions import (
    SHORT_SHADOW_PX,
    caption,
    coarse_imagery_caution,
    is_along,
    is_coarse,
    is_short_shadow,
    scene_cautions,
    shadow_px,
    short_shadow_caution,
)
from railcount.counting import interval
from railcount.errors import ShortShadowsWarning
from railcount.io.stations import read_stations
from railcount.pipeline import count_scene
from railcount.report.baseline import Observation, compare

from .geofixtures import write_synth


def test_shadow_length_in_pixels_follows_the_sun_and_the_pixel():
    # 4 m under a sun 45 degrees up throws 4 m: 4 px at 1 m, 8 px at 0.5 m.
    assert shadow_px(45.0, 1.0) == pytest.approx(4.0)
    assert shadow_px(45.0, 0.5) == pytest.approx(8.0)
    assert shadow_px(60.0, 1.0) == pytest.approx(4.0 / math.sqrt(3.0))
    assert shadow_px(0.0, 1.0) == math.inf and shadow_px(-3.0, 0.5) == math.inf


def test_the_caution_fires_under_three_pixels_only():
    # 4 / tan(e) / gsd = 3 at e = atan(4 / 3) = 53.13 degrees for 1.0 m.
    edge = math.degrees(math.atan(4.0 / SHORT_SHADOW_PX))
    assert short_shadow_caution("Yard", 1.0, edge + 0.01) != ""  # higher sun, shorter shadow
    assert short_shadow_caution("Yard", 1.0, edge - 0.01) == ""
    assert short_shadow_caution("Yard", 0.5, edge + 10.0) == ""  # the same sun on finer pixels: 3+ px
    assert short_shadow_caution("Yard", 1.0, None) == ""  # no sun (pixel space, or no date)
    line = short_shadow_caution("Yard", 1.0, 66.0)
    assert line.startswith("Yard: the sun was 66 degrees up, so a 4 m car's shadow is 1.8 m, 1.8 pixels")
    assert "\n" not in line and is_short_shadow(line) and not is_along(line) and not is_coarse(line)


def test_it_is_a_scene_caution_with_its_own_words_on_the_overlay():
    short = short_shadow_caution("Yard", 1.0, 66.0)
    coarse = coarse_imagery_caution("Yard", 1.0, 0.65)
    along = "Yard: the sun (azimuth 120, 30 degrees up) throws the shadows along the tracks running at ..."
    assert scene_cautions([coarse, short]) == (short,)
    text = caption([short, coarse], 1.0)
    assert "high sun" in text and "1.00 m imagery" in text and "along the tracks" not in text
    both = caption([along, short], 1.0)
    assert "along the tracks" in both and "high sun" in both
    assert "high sun" not in caption([along], 1.0)


def test_a_summer_scene_at_one_metre_is_cautioned_a_winter_one_is_not(tmp_path, capsys):
    from railcount.cli import main

    # Tumangang, 2 June at 10:30 local solar time: the sun 63 degrees up, a 4 m shadow 2.0 m.
    june, station = write_synth(tmp_path / "june", date="2021-06-02", cars=20, gsd_m=1.0, seed=515)
    with pytest.warns(ShortShadowsWarning, match=r"Tumangang: the sun was 63 degrees up"):
        (sc,) = count_scene(june["tif"], read_stations(station), out_dir=tmp_path / "out")
    record = json.loads((tmp_path / "out" / "count.json").read_text())
    (short,) = [w for w in record["warnings"] if is_short_shadow(w)]
    assert any(is_coarse(w) for w in record["warnings"]) and short in sc.cautions
    assert record["sun"]["elevation_deg"] == pytest.approx(63.2, abs=0.1)
    # The interval is widened for it (detector 0.6.18): the short-shadow ratios, not the unsure band's.
    r = sc.result
    widened = interval(r.railcars, r.unsure_share, r.observed_fraction, short_shadows=True)
    plain = interval(r.railcars, r.unsure_share, r.observed_fraction)
    assert (record["railcars_low"], record["railcars_high"]) == (r.railcars_low, r.railcars_high) == widened
    assert r.railcars > 0 and widened[1] > plain[1]
    # ... and the report's chart draws it as widened (dotted): the count's version is one that widens.
    from railcount.io.history import observation_from_record
    from railcount.report.chart import widened_for_short_shadows

    observation = observation_from_record(record)
    assert observation is not None and widened_for_short_shadows(observation)
    assert main(["count", str(june["tif"]), "--station", str(station)]) == 0
    assert capsys.readouterr().err.count("shadows too short") == 1
    # December: the sun 24 degrees up, a 4 m shadow 9 px long at 1.0 m.
    dec, station = write_synth(tmp_path / "dec", date="2021-12-10", cars=20, gsd_m=1.0, seed=515)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortShadowsWarning)
        (sc,) = count_scene(dec["tif"], read_stations(station))
    assert not [c for c in sc.cautions if is_short_shadow(c)]
    r = sc.result
    assert (r.railcars_low, r.railcars_high) == interval(r.railcars, r.unsure_share, r.observed_fraction)
    # June again at 0.5 m: 4 px, no caution.
    fine, station = write_synth(tmp_path / "fine", date="2021-06-02", cars=20, gsd_m=0.5, seed=515)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortShadowsWarning)
        (sc,) = count_scene(fine["tif"], read_stations(station))
    assert sc.cautions == ()


def test_a_report_names_a_short_shadow_count_in_its_caveats_without_a_ring():
    from railcount.report.chart import PURPLE, baseline_chart

    short = short_shadow_caution("Yard", 1.0, 66.0)
    start = date(2020, 1, 1)
    base = [Observation(start + timedelta(days=30 * i), 20 + i % 3, gsd_m=1.0) for i in range(6)]
    c = compare(Observation(date(2023, 7, 5), 12, 9, 18, gsd_m=1.0, warnings=(short,)), base)
    said = "the count on 2023-07-05 came with a warning: Yard: the sun was 66"
    assert any(k.startswith(said) for k in c.caveats)
    # A coarse history rings none of its summer counts (two in five of the demo's): the caveats say it.
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert not [line for line in fig.axes[0].get_lines() if line.get_markeredgecolor() == PURPLE]
    along = "Yard: the sun (azimuth 120, 30 degrees up) throws the shadows along the tracks running at 30"
    c = compare(Observation(date(2023, 7, 5), 12, 9, 18, gsd_m=1.0, warnings=(along, short)), base)
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert [line for line in fig.axes[0].get_lines() if line.get_markeredgecolor() == PURPLE]
    # A history whose summer counts were cautioned says which warning its baseline counts came with.
    months = [
        Observation(
            date(2022, m, 15),
            20,
            gsd_m=1.0,
            detector_version="0.6.18",
            warnings=(short,) if m in (6, 7) else (),
        )
        for m in range(2, 10)
    ]
    c = compare(Observation(date(2023, 10, 5), 30, gsd_m=1.0), months)
    (said,) = [k for k in c.caveats if "baseline counts came with a warning" in k]
    assert said.startswith("2 of the 8 baseline counts came with a warning (a high sun's short shadows,")
    assert "the first on 2022-06-15" in said
    # Their interval lines are dotted (widened for the short shadows since detector 0.6.18), the others
    # solid, and the legend says why; the judged count's line is solid, as it has no such warning.
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    assert _dotted_bars(fig) == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "interval widened: high sun, short shadows" in labels
    c = compare(
        Observation(date(2023, 7, 5), 12, 9, 28, gsd_m=1.0, detector_version="0.6.18", warnings=(short,)),
        base,
    )
    assert _dotted_bars(baseline_chart(c, [*c.baseline_obs, c.judged])) == 1  # the judged count's
    # A count stored by an earlier (or unknown) detector kept its narrow interval: not dotted.
    for version in ("0.6.17", None, "dev"):
        old = compare(
            Observation(date(2023, 7, 5), 12, 9, 18, gsd_m=1.0, detector_version=version, warnings=(short,)),
            base,
        )
        assert _dotted_bars(baseline_chart(old, [*old.baseline_obs, old.judged])) == 0
    plain = compare(Observation(date(2023, 7, 5), 12, 9, 18, gsd_m=1.0), base)
    fig = baseline_chart(plain, [*plain.baseline_obs, plain.judged])
    assert _dotted_bars(fig) == 0
    assert "interval widened: high sun, short shadows" not in [
        t.get_text() for t in fig.axes[0].get_legend().get_texts()
    ]


def _dotted_bars(fig) -> int:
    """How many interval lines of the chart's counts are drawn dotted."""
    from matplotlib.collections import LineCollection

    n = 0
    for col in fig.axes[0].collections:
        if isinstance(col, LineCollection) and any(dash is not None for _, dash in col.get_linestyle()):
            n += len(col.get_segments())
    return n


def test_a_batch_log_line_names_the_high_sun(capsys):
    from railcount.batch import Progress
    from railcount.cli.batch import log_line

    short = short_shadow_caution("Yard", 1.0, 66.0)
    outcome = {"status": "ok", "station": "Yard", "count": {"railcars": 12, "warnings": [short]}}
    log_line(Progress(done=1, failed=0, total=1, elapsed_s=2.0, scene="/data/june.tif", outcomes=(outcome,)))
    err = capsys.readouterr().err
    assert "june.tif: Yard 12 railcars (warning: high sun, short shadows, likely low)" in err
    assert "along the tracks" not in err
