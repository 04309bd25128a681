"""The cautions a count can come with: one line each, kept with the count wherever it goes.

A caution says the count was made, but under conditions where the detector
is known to be weak, so the number needs a look before it is used. Each is
warned of on stderr by ``railcount count``, written into ``count.json`` as
``warnings``, stored by the batch (export's ``warnings`` column), drawn on
the overlay's caption and read back by the report. These kinds exist:

* the sun throws the shadows along the tracks (:func:`railcount.pipeline.along_tracks_caution`),
  a property of one scene's time and the station's tracks;
* the sun stands so high that the cars' shadows are a few pixels long
  (:func:`short_shadow_caution`), a property of one scene's date and time
  and the product's pixel size: on coarse imagery, summer scenes;
* the scene's provider reported cloud over it (:func:`provider_cloud_caution`): railcount cannot
  see thin cloud, so the provider's estimate (GDAL's ``IMAGERY`` metadata, a STAC item's
  ``eo:cloud_cover``) is the one cue there is;
* part of the station lay in a wide shadow, a cloud's or a tall building's
  (:func:`cloud_shadow_caution`), where the ground is lit by the sky alone and most cars are missed;
* under four fifths of the station was seen (:func:`partial_view_caution`): the rest lay outside
  the scene, held no data, or lay under opaque cloud or in a wide shadow;
* the imagery is too coarse to see the gaps between coupled cars
  (:func:`coarse_imagery_caution`), a property of the product, which every
  scene of a station's history may share. The report reads this kind from
  each count's ground sample distance and says it once, instead of ringing
  every count on the chart;
* the window was counted in tiles for lack of memory (:func:`tiled_caution`);
* the picture's darkest tones are clipped to black (:func:`stretched_caution`): a contrast stretch
  (or strong sharpening) made it for display, and such pictures are counted high.

All but the coarse-imagery kind are *scene cautions* (:func:`scene_cautions`), named in the
report's caveats; its chart rings the counts that came with the first kind
(the second marks every summer count of a coarse history).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PROVIDER_CLOUD_PCT = 10.0
"""From this much cloud over a scene (percent, as its provider reported it: GDAL's ``IMAGERY``
metadata from the delivery's files, or a STAC item's ``eo:cloud_cover``) a count comes with a
caution (:func:`provider_cloud_caution`). The detector cannot see thin cloud (generated yards under
a thin veil lose about a third of their cars, ``benchmarks/conditions.py``), so the provider's own
estimate is the one cue an analyst has. The figure is kept with every count that has one."""

PROVIDER_CLOUD_PHRASE = "provider reports"
"""Part of every provider-cloud caution's text (:func:`provider_cloud_caution`), by which a stored one
is recognised."""


def provider_cloud_caution(station: str, cloud_cover: float | None) -> str:
    """One line for the user when the scene's provider reported :data:`PROVIDER_CLOUD_PCT` or more
    cloud over it (else ""). The figure is the whole scene's, not the station's: a reason to look."""
    if cloud_cover is None or cloud_cover < PROVIDER_CLOUD_PCT:
        return ""
    return (
        f"{station}: the image's {PROVIDER_CLOUD_PHRASE} {cloud_cover:g} % cloud cover over the scene; "
        "thin cloud, which railcount cannot see, hid about a third of the cars under it on generated "
        "yards: if haze or cloud lies over the tracks on the overlay, read the count as a floor"
    )


def is_provider_cloud(caution: str) -> bool:
    """Whether a caution (as stored) is a provider-cloud one (:func:`provider_cloud_caution`)."""
    return PROVIDER_CLOUD_PHRASE in caution


CLOUD_SHADOW_SHARE = 0.01
"""From this share of the station in a cloud's shadow (:func:`railcount.detect.cloud.cloud_shadow`) a
count comes with a caution (:func:`cloud_shadow_caution`)."""

CLOUD_SHADOW_PHRASE = "in a wide shadow"
"""Part of every cloud-shadow caution's text, by which a stored one is recognised."""


def cloud_shadow_caution(station: str, share: float) -> str:
    """One line for the user when ``share`` (0-1) of the station, :data:`CLOUD_SHADOW_SHARE` or more,
    lay in a wide shadow, a cloud's or a tall building's (else "").

    >>> cloud_shadow_caution("Yard", 0.23)[:50]
    'Yard: 23 % of the station lay in a wide shadow (a '
    """
    if share < CLOUD_SHADOW_SHARE:
        return ""
    return (
        f"{station}: {share * 100:.0f} % of the station lay {CLOUD_SHADOW_PHRASE} (a cloud's, or a tall "
        "building's), lit by the sky alone, "
        "where cars cast no shadow to be found by (on generated yards one in ten of such cars was "
        "found): the cars found there are counted, but observed_fraction leaves that part out and the "
        "interval's upper end allows for the cars missed in it; read the count as a floor and look at "
        "the hatched part of the overlay"
    )


def is_cloud_shadow(caution: str) -> bool:
    """Whether a caution (as stored) is a cloud-shadow one (:func:`cloud_shadow_caution`)."""
    return CLOUD_SHADOW_PHRASE in caution


PARTIAL_VIEW_SHARE = 0.8
"""Under this share of the station seen (``observed_fraction``) a count comes with a caution
(:func:`partial_view_caution`); a report leaves such counts out of its baseline by default
(``--min-observed 0.8``)."""

PARTIAL_VIEW_PHRASE = "of the station was seen"
"""Part of every partial-view caution's text, by which a stored one is recognised."""


def partial_view_caution(station: str, observed: float) -> str:
    """One line for the user when under :data:`PARTIAL_VIEW_SHARE` of the station was seen (else "").

    >>> partial_view_caution("Yard", 0.48)[:42]
    'Yard: only 48 % of the station was seen (t'
    """
    if observed >= PARTIAL_VIEW_SHARE:
        return ""
    return (
        f"{station}: only {observed * 100:.0f} % {PARTIAL_VIEW_PHRASE} (the rest lay outside the scene, "
        "held no data, or lay under opaque cloud or a wide shadow); the count is of the seen part, "
        "and its interval's upper end allows for the rest in proportion to the cars seen (at least "
        "three): count a scene that covers the station to know it, and note that a report leaves "
        f"counts under {PARTIAL_VIEW_SHARE:.0%} observed out of its baseline"
    )


def is_partial_view(caution: str) -> bool:
    """Whether a caution (as stored) is a partial-view one (:func:`partial_view_caution`)."""
    return PARTIAL_VIEW_PHRASE in caution


COARSE_GSD_M = 0.65
"""Coarser than this (metres per pixel) a count is made on coarse imagery: the detector's default
``gap_visible_gsd_m``, past which it counts runs of coupled cars by their length. The report reads a
count as coarse from its ground sample distance, so histories written before this caution existed
are read the same way."""

COARSE_PHRASE = "too coarse to see the gaps between coupled cars"
"""Part of every coarse-imagery caution's text, by which a stored caution is recognised."""

COARSE_REAL_FINDINGS = (
    "on a real yard averaged to 0.75-1.0 m the count ran a third to over a half low (at 1.0 m under "
    "half the truth, inside its interval at three grid offsets of four), and an empty parking lot took "
    "five to a dozen false railcars"
)
"""What the one real yard with a truth (Muttenz west) and the empty Joplin lot gave when made
coarser (``benchmarks/real_gsd.py``, detector 0.6.14's counts: 20 % and 51 % low at 0.75 and 1.0 m
against its 43 wagons (24 % and 53 % against the 45 outlines read before session 49, two of them
repeats); 13-16 false railcars on the lot). Its scene is dated 1 June, so at 1.0 m a 4 m car's
shadow is 2.4 pixels: the short-shadow caution's widened interval (detector 0.6.18) holds the 43
at all four grid offsets, where the unsure band's interval (top 30-40) held it at none; at 0.75 m
(3.2 pixels, not widened) it holds it at all four. Since detector 0.6.32 (session 79), whose pixels
beyond the frame's edge are no longer black (read as shadow, they put false railcars on the empty track
along it), Muttenz made coarser reads 35 % and 56 % low at 0.75 and 1.0 m, the interval holding the 43
at two offsets of four at 1.0 m (three since 0.6.33, whose fill is the 75th percentile, not the
median), and the lot takes 5-10 and 12-13 false railcars."""


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


ALONG_PHRASE = "throws the shadows along the tracks"
"""Part of every caution that the sun throws the shadows along the tracks
(:func:`railcount.pipeline.along_tracks_caution`), by which a stored one is recognised."""


def is_along(caution: str) -> bool:
    """Whether a caution (as stored) says the sun threw the shadows along the tracks."""
    return ALONG_PHRASE in caution


SHADOW_HEIGHT_M = 4.0
"""The height (metres) whose shadow :func:`shadow_px` measures: a boxcar's or a tank car's, about."""

SHORT_SHADOW_PX = 3.0
"""Under this many pixels a 4 m car's shadow is short (:func:`short_shadow_caution`). Measured with
``python benchmarks/accuracy.py --diagnose 600-800 --by-shadow`` and ``--realism v2`` / ``generic``
(detector 0.6.16; tuned scenes 600-799, fitted on by no model; session 46), at 0.75-1.0 m: where a
4 m car's shadow is under 3 pixels, Tumangang-like yards were counted 6 % low (plain, 32 scenes) and
9 % low (v2, 28) and the generic yards of other layouts 31 % low (30), against 1 %, 2 % and 3 % low
where it is 6 pixels or more. The interval held the truth in 95 % of the short-shadow Tumangang-like
scenes and 71 % of the generic ones. Since detector 0.6.18 it is widened for them
(:data:`railcount.counting.SHORT_INTERVAL_RATIOS`)."""

SHORT_SHADOW_PHRASE = "shadows too short to find every car by"
"""Part of every short-shadow caution's text, by which a stored caution is recognised."""


def shadow_px(elevation_deg: float, gsd_m: float, height_m: float = SHADOW_HEIGHT_M) -> float:
    """How many pixels long the shadow of something ``height_m`` tall is with the sun ``elevation_deg`` up.

    Infinite with the sun on or below the horizon.

    >>> round(shadow_px(40.16, 0.5), 1), round(shadow_px(68.0, 1.0), 1)
    (9.5, 1.6)
    """
    if elevation_deg <= 0.0 or gsd_m <= 0.0:
        return math.inf
    return height_m / math.tan(math.radians(elevation_deg)) / gsd_m


def short_shadow_caution(station: str, gsd_m: float, elevation_deg: float | None) -> str:
    """One line for the user when a 4 m car's shadow is under :data:`SHORT_SHADOW_PX` pixels (else "").

    The detector finds cars beside their shadows; under a high sun on coarse
    pixels the shadow is a pixel or two wide, blurred into the car and the
    ground, and cars with little colour step to the ballast are missed
    (``docs/detector.md``, *Session 46*). ``elevation_deg`` None (pixel
    space, no sun) gives "".
    """
    if elevation_deg is None:
        return ""
    px = shadow_px(elevation_deg, gsd_m)
    if px >= SHORT_SHADOW_PX:
        return ""
    metres = px * gsd_m
    return (
        f"{station}: the sun was {elevation_deg:.0f} degrees up, so a 4 m car's shadow is {metres:.1f} m, "
        f"{px:.1f} pixels at {gsd_m:.2f} m: {SHORT_SHADOW_PHRASE}; generated yards like Tumangang's "
        "were counted 6-9 % low in such scenes and yards of other layouts a third low: expect the count "
        "to be low (its interval is widened for it), compare it with scenes of a lower sun, and check the "
        "overlay"
    )


def is_short_shadow(caution: str) -> bool:
    """Whether a caution (as stored) is a short-shadow one (:func:`short_shadow_caution`)."""
    return SHORT_SHADOW_PHRASE in caution


def coarse_gsd(gsd_m: float | None, bound_m: float = COARSE_GSD_M) -> bool:
    """Whether a count at ``gsd_m`` was made on coarse imagery: coarser than ``bound_m`` (by default
    :data:`COARSE_GSD_M`; the detector passes its own ``gap_visible_gsd_m``). None: not known."""
    return gsd_m is not None and gsd_m > bound_m


def is_coarse(caution: str) -> bool:
    """Whether a caution (as stored: it may lead with the scene's name) is a coarse-imagery one."""
    return COARSE_PHRASE in caution


TILED_PHRASE = "was counted in tiles"
"""Part of every caution that a window was counted in tiles (:func:`tiled_caution`), by which a stored
one is recognised."""


def tiled_caution(station: str, grid: tuple[int, int], need_bytes: int, free_bytes: int) -> str:
    """One line for the user when a window too large for the memory free was counted in ``grid``
    (rows, cols) tiles (:func:`railcount.io.memory.plan_tiles`); "" for one tile.

    >>> tiled_caution("Yard", (2, 3), 3_100_000_000, 2_000_000_000)[:64]
    'Yard: the window was counted in tiles, 2 x 3, as a count of it w'
    """
    from railcount.io.memory import TILE_OVERLAP_M, gb_text, room_words

    rows, cols = grid
    if rows * cols <= 1:
        return ""
    return (
        f"{station}: the window {TILED_PHRASE}, {rows} x {cols}, as a count of it whole would need "
        f"about {gb_text(need_bytes)} of memory where {room_words(free_bytes)}; every tile reads "
        f"{TILE_OVERLAP_M:.0f} m past its share with the whole window's contrast and track directions, "
        "and each car is counted once, by the tile that holds its centre, but the count can differ from "
        "a whole one by a few cars: check the boxes along the seams on the overlay, or count on a "
        "machine with more memory"
    )


def is_tiled(caution: str) -> bool:
    """Whether a caution (as stored) says the window was counted in tiles."""
    return TILED_PHRASE in caution


STRETCH_CLIP_SHARE = 0.0025
"""From this share of a colour band's valid pixels at the bottom of the file's value range a window
reads as contrast-stretched (:func:`stretched_caution`; :mod:`railcount.detect.stretch` lifts it back
before counting). A sensor's picture of sunlit ground has almost none there: of 1460 generated windows
as made (every suite and product; ``benchmarks/processing.py`` prints their stretched copies) the most
was 0.16 % (a town block's black vehicles), the Tumangang-like yards' 0.03 %, the real scenes' none. A
stretch from the 0.5th percentile left 0.2-3 % of a band there, from the 2nd 1-10 %."""

STRETCH_BOTH_SHARE = 0.0008
"""A window with under :data:`STRETCH_CLIP_SHARE` at the bottom of the value range still reads as
contrast-stretched when a colour band holds this share or more at the bottom and one at the top: a
stretch clips both ends. Of the 1500 generated windows as made the most at both ends was 0.05 % (a
town block: 0.09 % black, 0.05 % white), the real scenes' 0.001 %; Muttenz west stretched from the
0.5th percentile holds 0.19-0.25 % black and 0.11 % white at every GSD, under the bottom rule alone
(session 74). Read at full resolution, as the top share of a small window is otherwise too coarse."""

STRETCH_FINDINGS = (
    "generated yards stretched from the 0.5th and the 2nd percentile were still counted 11 % and 27 % "
    "off (5 % and 21 % high), with more false cars on dark track edges, and a real yard stretched from "
    "the 0.5th 16 % low"
)
"""What ``python benchmarks/processing.py --kind stretch`` measured with the lift (detector 0.6.29,
session 74: 11.4 % and 26.7 % off, +4.5 % and +21.1 %; 26.5 % and 44.1 % off without it; Muttenz
west stretched from the 0.5th percentile: 36 railcars of 43): the caution's figures."""

STRETCHED_PHRASE = "clipped to black"
"""Part of every stretched-picture caution's text, by which a stored one is recognised."""


def reads_stretched(clipped: float, white: float = 0.0) -> bool:
    """Whether a window whose colour bands hold at most ``clipped`` (0-1) of their valid pixels at the
    bottom of the value range and at most ``white`` at its top reads as contrast-stretched:
    :data:`STRETCH_CLIP_SHARE` black, or :data:`STRETCH_BOTH_SHARE` at both ends.

    >>> reads_stretched(0.003), reads_stretched(0.002), reads_stretched(0.002, 0.001)
    (True, False, True)
    """
    return clipped >= STRETCH_CLIP_SHARE or (clipped >= STRETCH_BOTH_SHARE and white >= STRETCH_BOTH_SHARE)


def stretched_caution(station: str, clipped: float, lifted: bool = True, white: float = 0.0) -> str:
    """One line for the user when ``clipped`` (0-1, the most of any colour band's valid pixels at the
    bottom of the file's value range) and ``white`` (at its top) read as stretched
    (:func:`reads_stretched`; else ""); ``lifted`` False: it was not lifted back (no band's darkest lay
    low enough, or ``DetectorParams.stretch_clip_share`` was None).

    >>> stretched_caution("Yard", 0.012)[:60]
    'Yard: 1.2 % of the picture is clipped to black in a band: it'
    >>> stretched_caution("Yard", 0.002, white=0.0011)[:77]
    'Yard: 0.20 % of the picture is clipped to black in a band and 0.11 % to white'
    """
    if not reads_stretched(clipped, white):
        return ""
    done = (
        "railcount lifted its darkest tones back before counting, but"
        if lifted
        else "it was counted as it is (no band needed lifting, or the lift was switched off: "
        "stretch_clip_share), and even lifted back"
    )
    amount = f"{clipped * 100:.1f} % of the picture is {STRETCHED_PHRASE} in a band"
    if clipped < STRETCH_CLIP_SHARE:  # (read by both ends: small shares, given to a hundredth)
        amount = (
            f"{clipped * 100:.2f} % of the picture is {STRETCHED_PHRASE} in a band and "
            f"{white * 100:.2f} % to white"
        )
    return (
        f"{station}: {amount}: it was "
        "processed for display (a contrast stretch, as a styled export or a provider's dynamic-range "
        f"adjustment makes, or strong sharpening), which deepens every shadow; {done} "
        f"{STRETCH_FINDINGS}: expect the count to be off, more often high than low, count the provider's "
        "unstretched file if there is one, and check the boxes on the overlay"
    )


def is_stretched(caution: str) -> bool:
    """Whether a caution (as stored) says the picture was contrast-stretched."""
    return STRETCHED_PHRASE in caution


LIGHT_STRETCH_SHARE = 0.0002
"""A window under :func:`reads_stretched`'s shares still looks lightly contrast-stretched where a colour
band holds this share of its valid pixels or more at the bottom code and one as much at the top
(:func:`reads_lightly_stretched`): a stretch from the 0.02nd percentile of a file leaves that at both
ends in 86 of 100 tuned plain yards, 88 generic and 36 of 44 v2 (600-699), where the same windows as
made hold no black pixel at all (v2 products under 0.01 %), and 2 of 100 look-alike town blocks as
made hold it at both (black vehicles; up to 0.05 %). Session 75; caution only, nothing is lifted."""

LIGHT_STRETCH_PHRASE = "looks lightly contrast-stretched"
"""Part of every light-stretch caution's text (:func:`light_stretch_caution`), by which a stored one is
recognised."""

LIGHT_STRETCH_FINDINGS = (
    "generated yards stretched from the 0.02nd-0.1th percentile of a file that read so were counted a "
    "fifth to a quarter high, some several times over, and a real parking lot so stretched, its time of "
    "day unknown, took 11-16 false railcars"
)
"""What was measured on tuned plain yards stretched from their 0.02nd, 0.05th and 0.1th percentiles
(detector 0.6.30, session 75; ``benchmarks/processing.py --kind stretch --levels 0,0.02,0.05,0.1``):
the 89 of 300 counts of scenes 600-699 with this caution 25.2 % off, +24.2 %, the 83 of 700-799 20.8 %,
+18.4 % (1.0 m yards with 5-7 cars counted 28-32); the Joplin lot at its own 0.6 m 16 / 11 / 15 false
railcars with the sun assumed, 0 as delivered: the :func:`light_stretch_caution`'s figures."""

CLEAR_FLOOR_RATIO = 0.26
"""The least 1st percentile of linear luminance over its lower quartile measured on generated windows
as made (tuned plain, v2 and generic; Muttenz west 0.31, Joplin 0.49; session 74,
``docs/accuracy.md``, *Levelled from the lower quartile*): what :func:`light_stretch_caution` sets a
levelled window's against."""


def reads_lightly_stretched(clipped: float, white: float) -> bool:
    """Whether a window that does not read as stretched (:func:`reads_stretched`) holds
    :data:`LIGHT_STRETCH_SHARE` or more of a band at each end of the value range (``clipped``: the most
    of any band at the bottom, ``white``: at the top).

    >>> reads_lightly_stretched(0.0003, 0.0005), reads_lightly_stretched(0.0003, 0.0)
    (True, False)
    >>> reads_lightly_stretched(0.003, 0.001)  # (stretched: the other caution)
    False
    """
    return not reads_stretched(clipped, white) and min(clipped, white) >= LIGHT_STRETCH_SHARE


def light_stretch_caution(
    station: str, clipped: float = 0.0, white: float = 0.0, levelled: float | None = None
) -> str:
    """One line for the user when a window looks lightly contrast-stretched: its ends hold a few
    black and white pixels (:func:`reads_lightly_stretched`; ``clipped`` and ``white`` as there), or
    the detector levelled it (``levelled``: the 1st percentile of its linear luminance over its lower
    quartile, under any clear scene's; :func:`~railcount.detect.prepare._levelled`); "" when neither.
    Not given beside :func:`stretched_caution`, which says more.

    >>> light_stretch_caution("Yard", 0.0003, 0.0005)[:96]
    'Yard: the picture looks lightly contrast-stretched for display (0.03 % of it black in a band and'
    >>> text = light_stretch_caution("Yard", levelled=0.19)
    >>> "luminance is 0.19 of its lower quartile" in text, "railcount levelled its luminance" in text
    (True, True)
    >>> light_stretch_caution("Yard", 0.0003, 0.0)
    ''
    """
    marks = []
    if reads_lightly_stretched(clipped, white):
        marks.append(f"{clipped * 100:.2f} % of it black in a band and {white * 100:.2f} % white")
    if levelled is not None:
        marks.append(
            "its darkest tones lie nearer black than a clear scene's: its 1st percentile of luminance is "
            f"{levelled:.2f} of its lower quartile, a clear scene's {CLEAR_FLOOR_RATIO:.2f} or more"
        )
    if not marks:
        return ""
    done = "railcount levelled its luminance before counting, but " if levelled is not None else ""
    return (
        f"{station}: the picture {LIGHT_STRETCH_PHRASE} for display ({'; '.join(marks)}), which "
        f"deepens every shadow; {done}{LIGHT_STRETCH_FINDINGS}: expect the count to run high, count the "
        "provider's unstretched file if there is one, and check the boxes on the overlay"
    )


def is_light_stretch(caution: str) -> bool:
    """Whether a caution (as stored) says the picture looks lightly contrast-stretched."""
    return LIGHT_STRETCH_PHRASE in caution


def scene_cautions(cautions: Iterable[str]) -> tuple[str, ...]:
    """The cautions that concern one scene, not the product (all but the coarse-imagery ones)."""
    return tuple(c for c in cautions if not is_coarse(c))


@dataclass(frozen=True)
class Kind:
    """One kind of caution, as every reader of stored cautions names it."""

    code: str
    """Its short name (the export's ``cautions`` column: :func:`codes`)."""
    test: Callable[[str], bool]
    """Whether a stored caution is of this kind."""
    caption: str
    """The overlay's few words for it (:func:`caption`; ``{gsd}``: the count's GSD)."""
    missed: str | None
    """How a report names it among the baseline's cautions where cars are missed (None: a report
    says it apart: the coarse imagery once for the whole history, a stretched picture as high)."""
    log: str
    """The batch log's words for it, after "warning: " (:func:`log_notes`; ``{observed}``: ", 70%
    observed" where the share is known, ``{seen}``: "70%", ``{cover}``: the provider's cloud cover in
    per cent; a note whose figure is unknown is left out)."""


KINDS = (
    Kind(
        "along_tracks",
        is_along,
        "shadows fall along the tracks; cars there are often missed",
        "the sun along the tracks",
        "the sun along the tracks, likely low",
    ),
    Kind(
        "short_shadows",
        is_short_shadow,
        "high sun, shadows under 3 px: likely low",
        "a high sun's short shadows",
        "high sun, short shadows, likely low",
    ),
    Kind(
        "provider_cloud",
        is_provider_cloud,
        "provider reports cloud: look for haze over the tracks",
        "cloud its provider reported",
        "its provider reports {cover:g} % cloud, may be low",
    ),
    Kind(
        "wide_shadow",
        is_cloud_shadow,
        "wide shadow (hatched): most cars there missed",
        "a cloud's or building's wide shadow",
        "a wide shadow{observed}, likely low",
    ),
    Kind(
        "partial_view",
        is_partial_view,
        "part of the station not seen: the count is of the seen part",
        "part of the station not seen",
        "{seen} observed, the rest not counted",
    ),
    Kind(
        "coarse",
        is_coarse,
        "{gsd} m imagery: count runs by length; likely low, check every box",
        None,
        "coarse imagery, likely low",
    ),
    Kind(
        "tiled",
        is_tiled,
        "counted in tiles for lack of memory: check along the seams",
        "a window counted in tiles",
        "counted in tiles for lack of memory, check the seams",
    ),
    Kind(
        "stretched",
        is_stretched,
        "contrast-stretched picture: a tenth or more off, often high",
        None,
        "a contrast-stretched picture, a tenth or more off, often high",
    ),
    Kind(
        "light_stretch",
        is_light_stretch,
        "lightly stretched picture?: likely high",
        None,
        "a lightly stretched picture, likely high",
    ),
)
"""Every kind of caution, in this module's order: the one list :func:`codes`, :func:`caption`, a
report's caveats (:func:`missed_kinds`) and the batch log (:func:`log_notes`) read."""


def kinds_of(cautions: Iterable[str]) -> tuple[Kind, ...]:
    """The kinds of ``cautions`` (as stored), in :data:`KINDS`' order, each once."""
    notes = list(cautions)
    return tuple(k for k in KINDS if any(k.test(n) for n in notes))


def codes(cautions: Iterable[str]) -> tuple[str, ...]:
    """Short names of the kinds of ``cautions`` (as stored), in this module's order, each once: a column
    a spreadsheet can filter on where the cautions' own text runs to hundreds of characters.

    >>> codes([coarse_imagery_caution("Y", 1.0, 0.65), partial_view_caution("Y", 0.5)])
    ('partial_view', 'coarse')
    """
    return tuple(k.code for k in kinds_of(cautions))


def missed_kinds(cautions: Iterable[str]) -> tuple[str, ...]:
    """How a report names the kinds of ``cautions`` where cars are missed (:attr:`Kind.missed`)."""
    return tuple(k.missed for k in kinds_of(cautions) if k.missed is not None)


def log_notes(cautions: Iterable[str], observed: float | None, cover: float | None) -> list[str]:
    """The batch log's warnings for ``cautions`` (as stored), in :data:`KINDS`' order: each kind's
    :attr:`Kind.log` with the count's ``observed`` share and the provider's cloud ``cover`` filled in.
    A wide shadow's note gives the observed share, so the partial view's is then left out.

    >>> log_notes([partial_view_caution("Y", 0.5)], 0.5, None)
    ['50% observed, the rest not counted']
    >>> log_notes([partial_view_caution("Y", 0.5)], None, None)
    []
    """
    kinds = kinds_of(cautions)
    codes_found = {k.code for k in kinds}
    figures = {
        "observed": "" if observed is None else f", {observed:.0%} observed",
        "seen": None if observed is None else f"{observed:.0%}",
        "cover": cover,
    }
    notes = []
    for k in kinds:
        if k.code == "partial_view" and "wide_shadow" in codes_found:
            continue
        if any(f"{{{name}" in k.log and value is None for name, value in figures.items()):
            continue
        notes.append(k.log.format(**figures))
    return notes


def caption(cautions: Iterable[str], gsd_m: float) -> str:
    """The overlay's short caution line for ``cautions`` ("" when there are none)."""
    parts = [k.caption.format(gsd=f"{gsd_m:.2f}") for k in kinds_of(cautions)]
    return "caution: " + "; ".join(parts) if parts else ""
