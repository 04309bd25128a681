"""Baseline statistics and verdicts: pure functions on plain observations."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from railcount.report.baseline import (
    Observation,
    Period,
    Thresholds,
    compare,
    years_before,
)

JUDGED_DAY = date(2023, 10, 5)


def series(values, *, start=date(2019, 1, 1), step=10, **kw):
    return [Observation(start + timedelta(days=step * i), v, **kw) for i, v in enumerate(values)]


def judged(n, low=None, high=None, **kw):
    return Observation(JUDGED_DAY, n, low, high, **kw)


def test_statistics_of_a_known_baseline():
    values = list(range(1, 21))  # 1..20, dated from 2019
    hist = series(values)
    c = compare(judged(15), hist)
    s = c.baseline
    assert s.n == 20
    assert s.median == statistics.median(values) == 10.5
    assert s.mean == pytest.approx(statistics.mean(values))
    assert s.max == 20 and s.max_date == hist[-1].date
    assert s.q1 == pytest.approx(5.75) and s.q3 == pytest.approx(15.25) and s.iqr == pytest.approx(9.5)
    # 14 values below 15, one equal: (14 + 0.5) / 20
    assert s.percentile == pytest.approx(72.5)
    assert s.reached == 6  # 15..20
    # MAD of 1..20 around 10.5 is 5
    assert s.robust_z == pytest.approx((15 - 10.5) / (1.4826 * 5))
    assert s.ratio_to_median == pytest.approx(15 / 10.5)
    assert s.ratio_to_max == pytest.approx(15 / 20)
    assert c.verdict == "normal"


def test_verdicts_follow_the_thresholds():
    hist = series([10] * 9 + [12, 14, 16, 18, 20, 30] + [10] * 5)
    p90 = compare(judged(0), hist).baseline.p90
    assert p90 is not None and 10 < p90 and p90 + 1 < 30
    assert compare(judged(p90), hist).verdict == "normal"  # at the 90th percentile, not above
    assert compare(judged(p90 + 1), hist).verdict == "elevated"
    assert compare(judged(30), hist).verdict == "elevated"  # equal to the maximum is not above it
    assert compare(judged(31), hist).verdict == "unprecedented"
    # Configurable: a higher percentile turns the same count normal.
    assert compare(judged(p90 + 1), hist, thresholds=Thresholds(elevated_percentile=99)).verdict == "normal"


def test_unprecedented_needs_the_low_end_above_the_previous_high():
    hist = series([20, 22, 25, 41, 23, 21, 19])
    assert compare(judged(73, 70, 76), hist).verdict == "unprecedented"
    wide = compare(judged(73, 35, 110), hist)
    assert wide.verdict == "elevated"  # the point is above 41 but the interval reaches below it
    assert not wide.baseline.above_all
    assert (
        compare(judged(73, 35, 110), hist, thresholds=Thresholds(use_interval=False)).verdict
        == "unprecedented"
    )


def test_too_few_observations_give_no_verdict():
    hist = series([5, 6, 7, 8])
    c = compare(judged(100), hist)
    assert c.verdict == "insufficient-history"
    assert "only 4" in c.sentence and "no verdict" in c.sentence
    assert compare(judged(100), hist, thresholds=Thresholds(min_observations=4)).verdict == "unprecedented"


def test_baseline_window_keeps_earlier_well_observed_counts_only():
    old = Observation(date(2017, 1, 1), 500)  # more than five years before
    later = Observation(date(2023, 12, 1), 900)  # after the judged date
    same_day = Observation(JUDGED_DAY, 800)
    poor = Observation(date(2022, 1, 1), 600, observed_fraction=0.5)
    good = series([10, 11, 12, 13, 14], start=date(2020, 1, 1), observed_fraction=0.95)
    c = compare(judged(20), [old, later, same_day, poor, *good], min_observed=0.8)
    assert c.baseline.n == 5 and c.baseline.max == 14
    assert c.excluded == (poor,)
    assert c.baseline_start == date(2018, 10, 5) and c.baseline_end == date(2023, 10, 4)
    assert c.verdict == "unprecedented"
    # Lowering --min-observed lets the poorly observed count back in.
    assert compare(judged(20), [poor, *good], min_observed=0.4).baseline.max == 600


def test_explicit_window_and_periods():
    hist = series([10, 30, 12, 14, 40, 16], start=date(2018, 1, 1), step=120)
    c = compare(
        judged(35),
        hist,
        baseline_from=date(2018, 12, 1),
        baseline_to=date(2030, 1, 1),  # clipped to the day before the judged date
        periods=[Period("early", date(2018, 1, 1), date(2018, 6, 1))],
        thresholds=Thresholds(min_observations=2),
    )
    assert c.baseline_end == JUDGED_DAY - timedelta(days=1)
    assert [o.railcars for o in c.baseline_obs] == [14, 40, 16]
    assert c.baseline_label == "baseline" and "from 2018-12-01 to 2023-10-04" in c.sentence
    early = c.periods["early"]
    assert early.n == 2 and early.max == 30 and early.above_all
    assert c.to_dict()["periods"]["early"]["max"] == 30


def test_order_of_the_history_does_not_matter():
    hist = series([random.Random(1).randint(0, 50) for _ in range(40)])
    shuffled = hist[:]
    random.Random(2).shuffle(shuffled)
    a, b = compare(judged(45, 40, 50), hist), compare(judged(45, 40, 50), shuffled)
    assert a.baseline == b.baseline and a.sentence == b.sentence


def test_sentence_states_the_numbers():
    hist = series([23] * 60 + [41] + [20] * 50 + [25] * 7, start=date(2018, 10, 6), step=15)
    c = compare(judged(73, 70, 76), hist)
    assert c.baseline.n == 118 and c.baseline.median == 23
    assert c.sentence == (
        "73 railcars (likely 70-76) on 2023-10-05: 3.2x the 5-year median of 23 and above all 118 "
        f"observations since 2018-10-06; the previous high was 41 on {hist[60].date.isoformat()}."
    )


def test_zero_spread_gives_no_robust_z():
    c = compare(judged(12), series([10] * 8))
    assert c.baseline.robust_z is None and c.to_dict()["robust_z"] is None
    assert c.verdict == "unprecedented"


def test_years_before_on_a_leap_day():
    assert years_before(date(2024, 2, 29), 5) == date(2019, 2, 28)
    assert years_before(date(2023, 10, 5), 5) == date(2018, 10, 5)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 200), min_size=1, max_size=60),
    count=st.integers(0, 250),
    spread=st.integers(0, 20),
)
def test_invariants(values, count, spread):
    c = compare(judged(count, max(0, count - spread), count + spread), series(values), baseline_years=10)
    s = c.baseline
    assert 0 <= s.percentile <= 100
    assert s.reached == sum(v >= count for v in values)
    assert s.above_all == (max(0, count - spread) > max(values))
    assert (c.verdict == "unprecedented") == (s.above_all and len(values) >= 5)
    assert s.q1 <= s.median <= s.q3 and s.p10 <= s.median <= s.p90 <= s.max
    if c.verdict == "unprecedented":
        assert s.percentile == 100


def test_caveats_name_what_weakens_the_comparison():
    base = series([20, 22, 25, 21, 23], gsd_m=0.5, detector_version="0.3.0")
    clean = compare(judged(60, 55, 65, observed_fraction=0.95, gsd_m=0.5, detector_version="0.3.0"), base)
    assert clean.caveats == ()
    rough = compare(judged(60, 55, 65, observed_fraction=0.5, gsd_m=1.0, detector_version="0.4.0"), base)
    assert len(rough.caveats) == 4
    assert "50% of the station" in rough.caveats[0]
    assert "0.4.0" in rough.caveats[1] and "0.3.0" in rough.caveats[1]
    assert rough.caveats[2].startswith(f"the count on {JUDGED_DAY.isoformat()} was made on imagery coarser")
    assert "1.00 m" in rough.caveats[3] and "0.50 m" in rough.caveats[3]
    assert rough.to_dict()["caveats"] == list(rough.caveats)
    assert rough.verdict == clean.verdict == "unprecedented"  # caveats inform, they do not change the verdict


def test_caveats_carry_the_counts_warnings():
    # A count made with the sun along the tracks is likely low: the judged count's warning is
    # repeated, and baseline counts that came with one are counted and dated.
    note = "the sun throws the shadows along the tracks"
    base = series([20, 22, 25, 21, 23])
    quiet = compare(judged(60, 55, 65), base)
    assert quiet.caveats == ()
    warned_base = [*base[:2], replace(base[2], warnings=(note,)), replace(base[3], warnings=(note, note))]
    warned_base.append(base[4])
    c = compare(judged(60, 40, 200, warnings=(note,)), warned_base)
    assert c.caveats[0] == f"the count on {JUDGED_DAY.isoformat()} came with a warning: {note}"
    assert c.caveats[1].startswith("2 of the 5 baseline counts came with a warning")
    assert base[2].date.isoformat() in c.caveats[1]
    assert c.verdict == quiet.verdict  # they inform, they do not change the verdict


def test_the_chart_rings_the_counts_that_came_with_a_warning():
    from railcount.report.chart import PURPLE, baseline_chart

    note = "the sun throws the shadows along the tracks"
    base = series([20, 22, 25, 21, 23, 24])
    warned_base = [*base[:3], replace(base[3], warnings=(note,)), *base[4:]]

    def rings(c):
        fig = baseline_chart(c, [*c.baseline_obs, c.judged])
        ax = fig.axes[0]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        ringed = [line for line in ax.get_lines() if line.get_markeredgecolor() == PURPLE]
        return sum(len(line.get_xdata()) for line in ringed), legend

    n, legend = rings(compare(judged(60, 55, 65), base))
    assert n == 0 and not any("warning" in t for t in legend)
    n, legend = rings(compare(judged(60, 40, 200, warnings=(note,)), warned_base))
    assert n == 2 and "count with a warning (likely low)" in legend  # one baseline count and the judged one


@pytest.mark.parametrize("at", [0, 3, 8])
def test_the_previous_highs_label_stays_inside_the_plot(at):
    """Wherever in the window the previous high falls (first, middle or last of the baseline), its
    label lies inside the axes, clear of the y axis and its labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from railcount.report.chart import baseline_chart

    values = [20, 22, 25, 21, 23, 24, 22, 20, 21]
    values[at] = 40
    hist = series(values, start=date(2018, 11, 1), step=180)
    c = compare(judged(60, 55, 65), hist)
    fig = baseline_chart(c, [*c.baseline_obs, c.judged])
    ax = fig.axes[0]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (label,) = [t for t in ax.texts if t.get_text().startswith("previous high")]
    box, frame = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (box, frame)
