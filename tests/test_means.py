"""Means of many row stretches at once equal numpy's mean of each, to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from railcount.detect.means import pairwise_sums, pixels_at, segment_means, segment_pixels, segment_stds


def _segments(rng: np.random.Generator, longest: int) -> list[np.ndarray]:
    """float32 segments of every kind numpy sums differently: under 8, up to 128, longer; wide magnitudes."""
    counts = [*range(1, 20), 127, 128, 129, 136, *rng.integers(1, longest, 60).tolist()]
    return [(rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 3, n)).astype(np.float32) for n in counts]


@pytest.mark.parametrize("longest", [140, 1000])
def test_segment_sums_means_and_stds_are_numpys(longest):
    rng = np.random.default_rng(longest)
    for _ in range(5):
        segments = _segments(rng, longest)
        values = np.concatenate(segments)
        counts = np.array([s.size for s in segments])
        starts = np.cumsum(counts) - counts
        sums = pairwise_sums(values, starts, counts)
        assert sums.tobytes() == np.array([s.sum() for s in segments], np.float32).tobytes()
        means = segment_means(values, starts, counts)
        assert means.tobytes() == np.array([s.mean() for s in segments], np.float32).tobytes()
        stds = segment_stds(values, counts)
        assert stds.tobytes() == np.array([s.std() for s in segments], np.float32).tobytes()


def test_stretches_of_an_image_read_as_slices():
    """segment_pixels + pixels_at give each stretch's pixels in order; means of a 2-D row block agree."""
    rng = np.random.default_rng(3)
    image = rng.random((40, 300), dtype=np.float32)
    rows = rng.integers(0, 40, 30)
    a = rng.integers(0, 250, 30)
    b = a + rng.integers(1, 50, 30)
    pr, pc, starts = segment_pixels(rows, a, b)
    values = pixels_at(image, pr, pc)
    for i in range(rows.size):
        assert np.array_equal(values[starts[i] : starts[i] + b[i] - a[i]], image[rows[i], a[i] : b[i]])
    means = segment_means(values, starts, b - a)
    block = image[rows, 10:140]  # numpy's mean of each row of a 2-D block is that row's alone
    same = segment_means(block.ravel(), np.arange(rows.size) * 130, np.full(rows.size, 130))
    assert same.tobytes() == block.mean(axis=1).tobytes()
    each = [image[r, p:q].mean() for r, p, q in zip(rows, a, b, strict=True)]
    assert means.tobytes() == np.array(each, np.float32).tobytes()


def test_a_batch_of_sets_gives_each_sets_means_as_alone():
    """SegmentBatch: several sets of segments (of different arrays) summed in one call, each mean numpy's."""
    from railcount.detect.means import SegmentBatch

    rng = np.random.default_rng(7)
    batch = SegmentBatch()
    sets = [_segments(rng, n) for n in (9, 140, 1000)] + [[np.float32([2.5])]]
    places = [batch.add(np.concatenate(s), [x.size for x in s]) for s in sets]
    with pytest.raises(RuntimeError, match="before compute"):
        batch.means(places[0])
    batch.compute()
    for segments, where in zip(sets, places, strict=True):
        expected = np.array([x.mean() for x in segments], np.float32)
        assert batch.means(where).tobytes() == expected.tobytes()
        values = np.concatenate(segments)
        counts = np.array([x.size for x in segments])
        stds = segment_stds(values, counts, mean=batch.means(where))
        assert stds.tobytes() == np.array([x.std() for x in segments], np.float32).tobytes()
    empty = SegmentBatch()
    empty.compute()
    assert empty.means(slice(0, 0)).size == 0


@pytest.mark.parametrize("longest", [20, 300])
def test_signed_zeros_and_cancellations_keep_numpys_bits(longest):
    """Rows are padded with -0.0 (x + -0.0 is x): segments of -0.0, +0.0 and values that cancel exactly
    must still sum to numpy's bits, the sign of a zero included."""
    rng = np.random.default_rng(11)
    segments = []
    for n in [*range(1, 20), *rng.integers(1, longest, 40).tolist()]:
        kind = rng.integers(0, 4)
        if kind == 0:
            seg = np.full(n, -0.0, np.float32)
        elif kind == 1:
            seg = rng.choice(np.float32([0.0, -0.0]), n)
        elif kind == 2:
            half = rng.standard_normal(n // 2).astype(np.float32)
            seg = np.concatenate([half, -half, np.float32([-0.0] * (n % 2))])
        else:
            seg = (rng.standard_normal(n) * 1e3).astype(np.float32)
        segments.append(seg.astype(np.float32))
    values = np.concatenate(segments)
    counts = np.array([s.size for s in segments])
    starts = np.cumsum(counts) - counts
    assert (
        pairwise_sums(values, starts, counts).tobytes()
        == np.array([s.sum() for s in segments], np.float32).tobytes()
    )
    assert (
        segment_means(values, starts, counts).tobytes()
        == np.array([s.mean() for s in segments], np.float32).tobytes()
    )
