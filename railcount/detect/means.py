"""Means of many row segments of float32 maps at once, to the bit what numpy gives for each.

Candidate cars are described by means of frame maps along short stretches
of rows (:func:`~railcount.detect.candidates.car_features`): a few dozen
stretches per candidate, hundreds of candidates per frame. One numpy call
per stretch costs more in Python than in arithmetic, but the features must
not change by a bit, so the stretches cannot simply be summed in another
order: numpy sums a contiguous float32 row pairwise (:func:`pairwise_sums`
repeats its order of additions, in float32), and a mean is that sum
divided by the count in float64 and rounded to float32.

Here all stretches' pixels are gathered in one array and their sums are
built with a few dozen whole-array float32 additions, each the addition
numpy makes for every stretch at that step.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

UNROLL = 8
"""numpy's pairwise sum keeps this many running sums (``loops_utils.h.src``)."""
BLOCK = 128
"""Rows up to this long are summed with the running sums; longer ones are halved first."""


class PixelMap(Protocol):
    """A frame-sized map whose pixels can be read at arrays of (row, column) points."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __getitem__(self, index: Any) -> np.ndarray: ...


def pixels_at(image: PixelMap, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image[rows[k], cols[k]]`` for each k (points inside the frame), shape (len(rows), *bands)."""
    gather = getattr(image, "gather", None)
    if gather is not None:  # a StripMap reads its blocks
        return np.asarray(gather(rows, cols))
    return np.asarray(image)[rows, cols]


def segment_pixels(
    rows: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (row, column) of every pixel of the segments ``rows[i], a[i]:b[i]`` (each b > a), in order,
    and where each segment starts in that list."""
    counts = b - a
    starts = np.zeros(counts.size, np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    index = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    return np.repeat(rows, counts), np.repeat(a, counts) + index, starts


def pairwise_sums(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """float32 sums of ``values[starts[i] : starts[i] + counts[i]]`` (counts >= 1), to the bit ``.sum()``.

    ``values`` is 1-D float32. numpy sums a contiguous float32 row of n
    values pairwise: fewer than :data:`UNROLL` one after another (from
    -0.0); up to :data:`BLOCK` in :data:`UNROLL` running sums, combined as
    ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the last
    n % 8 added one by one; longer rows as the sum of two halves split at
    a multiple of :data:`UNROLL`. The same additions are made here, for
    all segments of each kind at once: each kind's values are laid in rows
    padded with -0.0, which every addition leaves as it is (x + -0.0 is x
    for every float, -0.0 included), so the rows are added whole. Last,
    as numpy's reduction does, the sum is added to +0.0 (a sum of -0.0s is
    +0.0).
    """
    values = np.asarray(values, np.float32)
    starts, counts = np.asarray(starts, np.int64), np.asarray(counts, np.int64)
    out = np.empty(counts.size, np.float32)
    short = counts < UNROLL
    if short.any():
        total = np.full(int(short.sum()), -0.0, np.float32)
        rows = _padded(values, starts[short], counts[short], UNROLL - 1)
        for k in range(UNROLL - 1):
            total += rows[:, k]
        out[short] = total
    block = (counts >= UNROLL) & (counts <= BLOCK)
    if block.any():
        s, n = starts[block], counts[block]
        whole = n - n % UNROLL
        rows = _padded(values, s, whole, int(whole.max()))
        running = rows[:, :UNROLL].copy()
        for k in range(UNROLL, int(whole.max()), UNROLL):
            running += rows[:, k : k + UNROLL]
        r = running.T
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        tail = _padded(values, s + whole, n - whole, UNROLL - 1)
        for k in range(UNROLL - 1):
            total += tail[:, k]
        out[block] = total
    long = counts > BLOCK
    if long.any():
        s, n = starts[long], counts[long]
        half = n // 2
        half -= half % UNROLL
        out[long] = pairwise_sums(values, s, half) + pairwise_sums(values, s + half, n - half)
    # numpy's reduction adds the pairwise sum to its identity, +0.0: a zero sum is never -0.0.
    out += np.float32(0.0)
    return out


def _padded(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, width: int) -> np.ndarray:
    """Row i holds ``values[starts[i] : starts[i] + counts[i]]`` (counts <= width), then -0.0."""
    rows = np.full((counts.size, width), -0.0, np.float32)
    total = int(counts.sum())
    if total:
        first = np.cumsum(counts) - counts
        offset = np.arange(total) - np.repeat(first, counts)
        where = np.repeat(np.arange(counts.size) * width, counts) + offset
        rows.ravel()[where] = values[np.repeat(starts, counts) + offset]
    return rows


def means_of_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """float32 means from float32 sums as numpy's ``mean`` makes them: sum / count in float64, rounded."""
    return (np.asarray(sums, np.float64) / counts).astype(np.float32)


def segment_means(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """float32 means of segments of ``values`` (see :func:`pairwise_sums`), to the bit their ``.mean()``."""
    return means_of_sums(pairwise_sums(values, starts, counts), counts)


def segment_stds(values: np.ndarray, counts: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """float32 standard deviations of segments laid one after another in ``values``, to the bit ``.std()``.

    numpy takes the mean (as :func:`segment_means`), the squares of the
    float32 deviations from it, their mean, and its float32 square root.
    ``mean``: the segments' float32 means, when already made.
    """
    values = np.asarray(values, np.float32)
    counts = np.asarray(counts, np.int64)
    starts = np.cumsum(counts) - counts
    if mean is None:
        mean = segment_means(values, starts, counts)
    deviation = values - np.repeat(mean, counts)
    np.multiply(deviation, deviation, out=deviation)
    return np.sqrt(segment_means(deviation, starts, counts))


class SegmentBatch:
    """Segments of many arrays summed in one :func:`pairwise_sums` call, each mean still numpy's to the bit.

    :func:`pairwise_sums` costs about the same for a few segments as for
    thousands (its steps are whole-array operations), so a caller that needs
    the means of many small sets of segments (one candidate car's dozen
    maps) registers them all with :meth:`add` or :meth:`stretch`, calls
    :meth:`compute` once, and reads each set back with :meth:`means`. Each
    segment is summed on its own, so every mean is what
    :func:`segment_means` gives for it alone.
    """

    def __init__(self) -> None:
        self._values: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._n = 0
        self._size = 0
        self._means: np.ndarray | None = None

    def add(self, values: np.ndarray, counts: np.ndarray) -> slice:
        """Register segments laid one after another in ``values`` (1-D float32); where their means go."""
        counts = np.asarray(counts, np.int64)
        self._values.append(np.asarray(values, np.float32))
        self._counts.append(counts)
        where = slice(self._n, self._n + counts.size)
        self._n += counts.size
        self._size += int(counts.sum())
        return where

    def compute(self) -> None:
        """Sum every registered segment (one :func:`pairwise_sums` call) and make the means."""
        if not self._n:
            self._means = np.zeros(0, np.float32)
            return
        values = np.concatenate(self._values) if len(self._values) > 1 else self._values[0]
        counts = np.concatenate(self._counts) if len(self._counts) > 1 else self._counts[0]
        starts = np.zeros(counts.size, np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        self._means = means_of_sums(pairwise_sums(values, starts, counts), counts)

    def means(self, where: slice) -> np.ndarray:
        """float32 means of the segments registered at ``where`` (after :meth:`compute`)."""
        if self._means is None:
            raise RuntimeError("SegmentBatch.means before compute")
        return self._means[where]
