"""benchmarks/accuracy.py --spread: the range of a row's figures over resamples of its scenes."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from accuracy import Outcome, spread


def _scene(truth: int, count: int, tp: int) -> Outcome:
    return Outcome("s", "x", 0.5, truth, count, 0, 0, tp, tp, 0.0)


def test_scenes_alike_give_no_spread():
    rows = [_scene(40, 44, 38)] * 10
    lo, hi = spread(rows)
    assert np.allclose(lo, hi)
    assert np.isclose(lo[0], 0.1) and np.isclose(lo[1], 0.1)  # WAPE and bias: 4 over 40
    p, r = 38 / 44, 38 / 40
    assert np.isclose(lo[2], 2 * p * r / (p + r))


def test_spread_holds_the_row_and_narrows_with_more_scenes():
    rng = np.random.default_rng(3)

    def rows(n: int) -> list[Outcome]:
        out = []
        for _ in range(n):
            truth = int(rng.integers(10, 90))
            count = max(0, truth + int(rng.integers(-8, 9)))
            out.append(_scene(truth, count, min(truth, count) - int(rng.integers(0, 3))))
        return out

    few, many = rows(20), rows(400)
    for sample in (few, many):
        truth = sum(o.truth for o in sample)
        wape = sum(abs(o.count - o.truth) for o in sample) / truth
        bias = sum(o.count - o.truth for o in sample) / truth
        lo, hi = spread(sample)
        assert lo[0] <= wape <= hi[0] and lo[1] <= bias <= hi[1]
        assert (lo < hi).all()
    (lo_few, hi_few), (lo_many, hi_many) = spread(few), spread(many)
    assert (hi_many - lo_many)[0] < 0.5 * (hi_few - lo_few)[0]  # about 1 / sqrt(20)
    assert np.array_equal(spread(few)[0], lo_few)  # the same ranges every run


def test_by_shadow_rows_put_each_scene_in_its_band_and_regime(capsys):
    from accuracy import print_by_shadow

    def scene(gsd: float, px: float, truth: int, count: int) -> Outcome:
        return Outcome("tuned", "x", gsd, truth, count, 0, 99, min(truth, count), 0, 0.0, shadow_px=px)

    rows = [
        scene(1.0, 1.5, 40, 30),  # coarse, under 2 px
        scene(0.75, 2.5, 50, 45),  # coarse, 2-3 px
        scene(1.0, 2.9, 10, 10),  # coarse, 2-3 px
        scene(0.5, 2.5, 20, 20),  # fine, 2-3 px: apart from the coarse ones
        scene(1.0, float("inf"), 30, 30),  # no sun given: 6+ px
    ]
    print_by_shadow(rows, ["tuned"])
    lines = {line[:22].strip(): line.split() for line in capsys.readouterr().out.splitlines()}
    n, truth, count, wape, bias = lines["tuned coarse 2-3 px"][4:9]
    assert (n, truth, count, wape, bias) == ("2", "60", "55", "8.3%", "-8.3%")
    assert lines["tuned coarse 0-2 px"][4:7] == ["1", "40", "30"]
    assert lines["tuned fine 2-3 px"][4:7] == ["1", "20", "20"]
    assert lines["tuned coarse 6+ px"][4:7] == ["1", "30", "30"]
    assert "tuned coarse 3-4 px" not in lines and "tuned fine 0-2 px" not in lines
