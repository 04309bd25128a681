"""The cautions a count can come with: one line each, kept with the count wherever it goes.

A caution says the count was made, but under conditions where the detector
is known to be weak, so the number needs a look before it is used. Each is
warned of on stderr by ``railcount count``, written into ``count.json`` as
``warnings``, stored by the batch (export's ``warnings`` column), drawn on
the overlay's caption and read back by the report. Two kinds exist:

* the sun throws the shadows along the tracks (:func:`railcount.pipeline.along_tracks_caution`),
  a property of one scene's time and the station's tracks;
* the imagery is too coarse to see the gaps between coupled cars
  (:func:`coarse_imagery_caution`), a property of the product, which every
  scene of a station's history may share. The report reads this kind from
  each count's ground sample distance and says it once, instead of ringing
  every count on the chart.
"""

from __future__ import annotations

from collections.abc import Iterable

COARSE_GSD_M = 0.65
"""Coarser than this (metres per pixel) a count is made on coarse imagery: the detector's default
``gap_visible_gsd_m``, past which it counts runs of coupled cars by their length. The report reads a
count as coarse from its ground sample distance, so histories written before this caution existed
are read the same way."""

COARSE_PHRASE = "too coarse to see the gaps between coupled cars"
"""Part of every coarse-imagery caution's text, by which a stored caution is recognised."""

COARSE_REAL_FINDINGS = (
    "on a real yard averaged to 0.75-1.0 m the count ran a quarter to a half low and its interval "
    "missed the truth at 1.0 m, and an empty parking lot took a dozen false railcars"
)
"""What the one real yard with a truth (Muttenz west) and the empty Joplin lot gave when made
coarser (``benchmarks/real_gsd.py``, detector 0.6.14: 24 % and 53 % low at 0.75 and 1.0 m, the
interval's top 30-40 against 45 wagons at 1.0 m; 13-16 false railcars on the lot)."""


def coarse_imagery_caution(station: str, gsd_m: float, gap_visible_gsd_m: float) -> str:
    """One line for the user when the window's pixels are coarser than ``gap_visible_gsd_m`` (else "").

    There the detector counts runs of coupled cars by their length over a car
    pitch (:func:`railcount.detect.cars.split_runs`), and on real imagery
    that has proved much weaker than on the generated yards it is measured on.
    """
    if not coarse_gsd(gsd_m, gap_visible_gsd_m):
        return ""
    return (
        f"{station}: at {gsd_m:.2f} m a pixel is {COARSE_PHRASE}, so runs of cars are counted by their "
        f"length; {COARSE_REAL_FINDINGS}: treat the count as a floor that may hold look-alikes, check "
        "every box on the overlay, and prefer imagery of 0.5 m or finer"
    )


def coarse_gsd(gsd_m: float | None, bound_m: float = COARSE_GSD_M) -> bool:
    """Whether a count at ``gsd_m`` was made on coarse imagery: coarser than ``bound_m`` (by default
    :data:`COARSE_GSD_M`; the detector passes its own ``gap_visible_gsd_m``). None: not known."""
    return gsd_m is not None and gsd_m > bound_m


def is_coarse(caution: str) -> bool:
    """Whether a caution (as stored: it may lead with the scene's name) is a coarse-imagery one."""
    return COARSE_PHRASE in caution


def scene_cautions(cautions: Iterable[str]) -> tuple[str, ...]:
    """The cautions that concern one scene, not the product (all but the coarse-imagery ones)."""
    return tuple(c for c in cautions if not is_coarse(c))


def caption(cautions: Iterable[str], gsd_m: float) -> str:
    """The overlay's short caution line for ``cautions`` ("" when there are none)."""
    parts = []
    if scene_cautions(cautions):
        parts.append("shadows fall along the tracks; cars there are often missed")
    if any(is_coarse(c) for c in cautions):
        parts.append(f"{gsd_m:.2f} m imagery: count runs by length; likely low, check every box")
    return "caution: " + "; ".join(parts) if parts else ""
