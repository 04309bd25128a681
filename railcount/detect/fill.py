"""Cars the band evidence missed inside a consist: proposals in the gaps between believed cars.

Cars in a yard stand coupled in consists. When the band evidence misses one
(a dark roof beside its own shadow, a car in a neighbour's shadow, a roof
whose smoothness dips), the consist shows a hole exactly one or a few car
lengths long between two cars the car model believes. A hole that long is
either an empty stretch of track or a car nobody proposed; the pixels tell
which (ballast and rails, or a smooth roof with a shadow beside it).

:func:`gap_fills` finds such holes on each track line of one track frame
and proposes cars in them, evenly spaced, and one car beyond each end of a
line (a consist's end car is missed as often as its middle ones); :data:`FILL_CONTEXT` describes
each proposal by its neighbours. The fill model (boosted trees in
:mod:`railcount.detect.fill_model`, fitted by
``benchmarks/fit_car_model.py`` on the proposals of the tuned generated
scenes and look-alike blocks) reads the proposal's own
:data:`~railcount.detect.candidates.FEATURES`, measured where it is
proposed, together with these, and says whether a car stands there.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from railcount.detect.boost import Forest
from railcount.detect.cars import FrameCars
from railcount.detect.params import DetectorParams

FILL_CONTEXT = (
    "fill_p_low",  # the car model's probability of the less believed car bounding the hole
    "fill_p_high",  # and of the more believed one
    "fill_cars",  # how many cars were proposed in the hole (0: one beyond the end of a line)
    "fill_misfit",  # |space per car - pitch| / pitch: how well the hole fits that many cars (gap_fills)
    "fill_line_cars",  # believed cars on the line
    "fill_pitch_m",  # the line's pitch (median length of its believed cars)
)

LINE_M = 1.5
"""Believed cars closer than this across the track (metres) stand on the same line."""

MIN_HOLE = 0.7
"""A hole between two believed cars of a line is filled from this share of the line's box length up;
two neighbours with less than that free between their boxes stand coupled (:func:`coupled_pitch`)."""


def gap_fills(
    cars: FrameCars, prob: np.ndarray, gsd_m: float, params: DetectorParams
) -> tuple[FrameCars, np.ndarray]:
    """Proposed cars in the holes of each track line, and their :data:`FILL_CONTEXT` rows.

    Parameters
    ----------
    cars : FrameCars
        One track frame's candidates (frame pixels: x along the track, y across).
    prob : (n,) array
        The car model's probability of each (NaN where not described).
    gsd_m : float
        Metres per frame pixel.
    params : DetectorParams
        ``min_car_probability`` says which candidates are believed;
        ``fill_max_m`` is the longest hole filled.

    A hole is the free stretch between two consecutive believed cars on a
    line (their centres less half their lengths). It is filled when it is at
    least ``MIN_HOLE`` of the line's box length (the median length of its believed
    cars) and at most ``fill_max_m`` long, with cars spaced evenly over it, on
    the mean row of the two cars bounding it. With ``fill_ends``, each line of
    two or more believed cars also gets one car beyond each end (``fill_cars``
    0), on its end car's row.

    How many cars a hole takes, and how far beyond an end the end car is
    proposed, come from the line's pitch. With ``fill_pitch_from_spacing``
    (detector 0.6.20) the pitch is :func:`coupled_pitch`, the median distance
    between the centres of the line's coupled cars, and a hole whose bounding
    cars stand ``d`` apart takes ``round(d / pitch) - 1`` cars (at least one).
    Before, the pitch was the box length and a hole took ``round(hole /
    length)``: since a box often stops short of its car's ends (at 0.3-0.5 m
    on generated yards, about a metre at each), a hole that held one car read
    as two and was filled with two half-cars, one of them a false railcar.
    """
    p = np.nan_to_num(np.asarray(prob, float), nan=0.0)
    believed = np.flatnonzero(p >= params.min_car_probability)
    xs: list[float] = []
    ys: list[float] = []
    lengths: list[float] = []
    rows: list[list[float]] = []
    if believed.size >= 2:
        order = believed[np.argsort(cars.y[believed], kind="stable")]
        breaks = np.flatnonzero(np.diff(cars.y[order]) * gsd_m > LINE_M) + 1
        for line in np.split(order, breaks):
            if line.size < 2:
                continue
            line = line[np.argsort(cars.x[line], kind="stable")]
            pitch = float(np.median(cars.length[line]))
            spacing = None
            if params.fill_pitch_from_spacing:
                spacing = coupled_pitch(cars.x[line], cars.length[line])
            for a, b in itertools.pairwise(line):
                start = cars.x[a] + 0.5 * cars.length[a]
                hole = cars.x[b] - 0.5 * cars.length[b] - start
                if hole < MIN_HOLE * pitch or hole * gsd_m > params.fill_max_m:
                    continue
                if spacing is None:
                    k = max(1, round(hole / pitch))
                    misfit = abs(hole / k - pitch) / pitch
                else:
                    apart = cars.x[b] - cars.x[a]
                    k = max(1, round(apart / spacing) - 1)
                    misfit = abs(apart / (k + 1) - spacing) / spacing
                seg = hole / k
                y = 0.5 * (cars.y[a] + cars.y[b])
                context = [min(p[a], p[b]), max(p[a], p[b]), k, misfit, line.size, pitch * gsd_m]
                for i in range(k):
                    xs.append(start + (i + 0.5) * seg)
                    ys.append(y)
                    lengths.append(seg)
                    rows.append(context)
            if params.fill_ends:
                for end, sign in ((line[0], -1.0), (line[-1], 1.0)):
                    step = 0.5 * (cars.length[end] + pitch) if spacing is None else spacing
                    xs.append(cars.x[end] + sign * step)
                    ys.append(cars.y[end])
                    lengths.append(pitch)
                    rows.append([p[end], p[end], 0, 0.0, line.size, pitch * gsd_m])
    n = len(xs)
    fills = FrameCars(
        x=np.asarray(xs, float),
        y=np.asarray(ys, float),
        length=np.asarray(lengths, float),
        score=np.zeros(n),
        method=np.full(n, "fill", dtype="<U5"),
    )
    return fills, np.asarray(rows, float).reshape(n, len(FILL_CONTEXT))


def coupled_pitch(x: np.ndarray, length: np.ndarray) -> float | None:
    """The pitch of one line's cars: the median distance between the centres of neighbouring cars
    that stand coupled, never less than the median box length; None when no two stand so.

    ``x`` are the centres along the track, sorted, and ``length`` the box lengths, in the same
    units. Two neighbours stand coupled when less than ``MIN_HOLE`` of the median box length lies free
    between their boxes (the least hole :func:`gap_fills` fills) and their centres are at least half
    of it apart (closer, they are one car found twice). Read from the centres, the pitch does not
    depend on where the boxes end.
    """
    box = float(np.median(length))
    spacing = np.diff(x)
    free = spacing - 0.5 * (length[:-1] + length[1:])
    coupled = spacing[(free < MIN_HOLE * box) & (spacing >= 0.5 * box)]
    return max(float(np.median(coupled)), box) if coupled.size else None


def fill_probability(features: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Probability that a car stands at each proposal (the fitted fill model).

    ``features`` are the proposals' :data:`~railcount.detect.candidates.FEATURES`
    rows, ``context`` their :data:`FILL_CONTEXT` rows.
    """
    from railcount.detect.candidates import FEATURES

    x = np.column_stack([np.asarray(features, float).reshape(-1, len(FEATURES)), context])
    return fill_forest().probability(x)


@functools.lru_cache(maxsize=1)
def fill_forest() -> Forest:
    """The shipped fill model as a :class:`~railcount.detect.boost.Forest` (read once)."""
    from railcount.detect import fill_model
    from railcount.detect.candidates import FEATURES, forest_of

    return forest_of(fill_model, "fill", (*FEATURES, *FILL_CONTEXT))
