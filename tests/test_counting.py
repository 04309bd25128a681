"""The count interval: its shape follows the calibration constants and the observed fraction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from railcount.counting import (
    ALONG_INTERVAL_RATIOS,
    INTERVAL_RATIOS,
    SHORT_INTERVAL_RATIOS,
    UNSURE_BELOW,
    UNSURE_EDGES,
    interval,
    unsure_share,
)


@given(n=st.integers(0, 2000), unsure=st.floats(0.0, 1.0), observed=st.floats(0.01, 1.0))
def test_interval_brackets_the_count(n, unsure, observed):
    low, high = interval(n, unsure, observed)
    assert 0 <= low <= n <= high


@pytest.mark.parametrize("n", [0, 1, 5, 40, 73, 300])
@pytest.mark.parametrize("band", [0, 1, 2])
def test_interval_follows_calibrated_ratios(n, band):
    lo_ratio, hi_ratio = INTERVAL_RATIOS[band]
    unsure = (0.0, *UNSURE_EDGES)[band]  # the lower edge belongs to the band
    low, high = interval(n, unsure)
    # Within one car (the additive term) of the ratios times the count.
    assert lo_ratio * n - 2 <= low <= lo_ratio * n
    assert hi_ratio * n <= high <= hi_ratio * n + 2


@given(n=st.integers(1, 500), a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_more_unsure_cars_never_narrow_the_interval(n, a, b):
    lo_a, hi_a = interval(n, min(a, b))
    lo_b, hi_b = interval(n, max(a, b))
    assert lo_b <= lo_a and hi_a <= hi_b


def test_unsure_share_counts_scores_below_the_threshold():
    assert unsure_share(np.array([])) == 0.0
    assert unsure_share(np.array([0.5, UNSURE_BELOW, 0.9, 0.69])) == 0.5


def test_unobserved_part_widens_only_the_upper_bound():
    full = interval(50, 0.1, 1.0)
    half = interval(50, 0.1, 0.5)
    assert half[0] == full[0]
    assert half[1] == full[1] + 50


@pytest.mark.parametrize(
    ("widened", "ratios"),
    [("shadows_along", ALONG_INTERVAL_RATIOS), ("short_shadows", SHORT_INTERVAL_RATIOS)],
    ids=["sun along the tracks", "short shadows"],
)
@given(n=st.integers(0, 500), unsure=st.floats(0.0, 1.0), observed=st.floats(0.01, 1.0))
def test_a_cautioned_count_widens_the_interval_to_its_ratios(widened, ratios, n, unsure, observed):
    # The detector misses many cars when the sun shines along the tracks, or under a high sun on coarse
    # pixels (the short-shadow caution): the interval holds the unsure band's and reaches the ratios
    # calibrated for that case.
    low, high = interval(n, unsure, observed, **{widened: True})
    base_low, base_high = interval(n, unsure, observed)
    assert low <= base_low and high >= base_high
    lo_ratio, hi_ratio = ratios
    assert low <= max(0, lo_ratio * n) and high >= hi_ratio * n


@given(n=st.integers(0, 500), unsure=st.floats(0.0, 1.0), observed=st.floats(0.01, 1.0))
def test_both_cautions_widen_the_interval_as_far_as_either(n, unsure, observed):
    both = interval(n, unsure, observed, shadows_along=True, short_shadows=True)
    along = interval(n, unsure, observed, shadows_along=True)
    short = interval(n, unsure, observed, short_shadows=True)
    assert both[0] <= min(short[0], along[0]) and both[1] >= max(short[1], along[1])
