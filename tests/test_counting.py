"""The count interval: its shape follows the calibration constants and the observed fraction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from railcount.counting import GAP_VISIBLE_GSD_M, INTERVAL_RATIOS, interval


@given(n=st.integers(0, 2000), gsd=st.floats(0.1, 2.0), observed=st.floats(0.01, 1.0))
def test_interval_brackets_the_count(n, gsd, observed):
    low, high = interval(n, gsd, observed)
    assert 0 <= low <= n <= high


@pytest.mark.parametrize("n", [0, 1, 5, 40, 73, 300])
def test_interval_follows_calibrated_ratios(n):
    for gsd, regime in ((0.5, "gap"), (1.0, "pitch")):
        lo_ratio, hi_ratio = INTERVAL_RATIOS[regime]
        low, high = interval(n, gsd)
        # Within one car (the additive term) of the ratios times the count.
        assert lo_ratio * n - 2 <= low <= lo_ratio * n
        assert hi_ratio * n <= high <= hi_ratio * n + 2


def test_regime_follows_the_gap_visibility_threshold():
    # The suites' GSDs fall on either side of it: 0.3 and 0.5 m see gaps, 0.75 and 1.0 m count by pitch.
    assert 0.5 < GAP_VISIBLE_GSD_M < 0.75
    lo_ratio, hi_ratio = INTERVAL_RATIOS["pitch"]
    assert interval(60, 0.75) == (int(lo_ratio * 60) - 1, int(np.ceil(hi_ratio * 60)) + 1)


def test_unobserved_part_widens_only_the_upper_bound():
    full = interval(50, 0.5, 1.0)
    half = interval(50, 0.5, 0.5)
    assert half[0] == full[0]
    assert half[1] == full[1] + 50
