"""Turn a window's detections into the count record (pure compute)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from railcount.cautions import PARTIAL_VIEW_SHARE
from railcount.detect.params import DETECTOR_VERSION
from railcount.models import RAILCAR_TYPES, CountResult, Detections, SceneWindow

UNSURE_BELOW = 0.7
"""A counted railcar is *unsure* when the car model gave it a probability below this."""

# How far the truth strays from the count depends on how sure the car model
# was of the cars it counted: scenes where many counted cars were unsure
# (snow, thin cloud, low sun, JPEG, dense look-alikes) miss or invent more.
# So the interval's ratios truth / count (5th and 95th percentiles) are
# calibrated per band of the unsure share, over tuned scenes 600-799, plain
# and v2, which no model is fitted on (``python benchmarks/accuracy.py
# --calibrate``); scenes partly under opaque cloud are left out of the
# percentiles, their upper bound has its own allowance (see :func:`interval`).
UNSURE_EDGES = (0.1, 0.25)
"""Bands of the unsure share: below 0.1, 0.1-0.25, 0.25 and above."""
CALIBRATION_SCENES = range(600, 800)
"""The tuned scenes (plain and v2) the interval is calibrated on: fitted on by no model."""
INTERVAL_RATIOS = ((0.88, 1.15), (0.79, 1.27), (0.53, 1.63))
"""(low, high) ratio truth / count per band of :data:`UNSURE_EDGES`: the 5th and
95th percentiles over the fully observed scenes of :data:`CALIBRATION_SCENES`
with detector 0.6.23 (0.889 / 1.148, 0.795 / 1.269 and 0.533 / 1.627 over 113,
149 and 85 scenes), rounded outwards, in use since detector 0.6.24. A band with
more unsure cars never gets a narrower interval than the band before it. Held
out (``untouched`` and ``fresh``, 100 scenes each) they hold the truth in 97-99 %
of plain scenes (median span 0.53 of the truth), 91-96 % of v2 ones and 93 %
of generic ones. Detectors 0.6.7-0.6.23 used 0.6.6's ratios, 0.88-1.24,
0.78-1.42 and 0.56-1.55, which with 0.6.23's counts held the truth in 99-100 %
of those plain scenes at a median span of 0.68-0.69: the detector had grown
more accurate on the first two bands and less on the third since they were
fitted. Until detector 0.6.7 the ratios were detector 0.5's, fitted on scenes
the models had been fitted on: 0.87-1.48, 0.75-1.84 and 0.67-2.05. Re-read on
detector 0.6.31's counts (session 79): 0.889 / 1.157, 0.786 / 1.257 and 0.569 /
1.565 over 99, 145 and 87 scenes, within 0.01 of these or inside them, so these
were kept; held out they then hold the truth in 97-98 % of plain scenes, 91-96 %
of v2 ones and 92-95 % of generic ones."""


ALONG_CALIBRATION_SCENES = range(400, 800)
"""The tuned ``generic`` scenes whose warned-of ones calibrate :data:`ALONG_INTERVAL_RATIOS` (the
along model is fitted on tuned generic 100-399, so these are held out from it)."""
ALONG_INTERVAL_RATIOS = (0.60, 2.10)
"""(low, high) ratio truth / count when the sun throws the shadows along the station's tracks
(:func:`~railcount.detect.detector.shadows_along_tracks`): there the detector finds about two cars
in three, so the truth lies well above the count. The 5th and 95th percentiles (0.63 and 2.08,
median 1.12) over the 93 fully observed tuned ``generic`` scenes 400-799 that warn of it, detector
0.6.16, rounded outwards (``python benchmarks/accuracy.py --realism generic --calibrate``; 0.6.15:
0.71 and 2.64, median 1.30, in use as 0.70-2.65; 0.6.10-0.6.14, without the along model: 0.66 and
4.04 from tuned generic 0-399; re-read with 0.6.31 in session 79: 0.63 and 2.03 over 92 scenes,
kept). The interval is never narrower than its unsure band's."""

SHORT_INTERVAL_SINCE = (0, 6, 18)
"""The detector version from which a count under short shadows has :data:`SHORT_INTERVAL_RATIOS`
(a stored count of an earlier version kept its unsure band's interval)."""
SHORT_INTERVAL_RATIOS = (0.77, 2.25)
"""(low, high) ratio truth / count when a 4 m car's shadow is under three pixels (the short-shadow
caution, :data:`railcount.cautions.SHORT_SHADOW_PX`: a high sun on 0.75-1.0 m pixels): the detector
finds cars beside their shadows, and a shadow a pixel or two wide leaves many unfound. The 5th and
95th percentiles (0.78 and 2.22, median 1.10) over the 100 fully observed short-shadow scenes of
tuned plain and v2 :data:`CALIBRATION_SCENES` and generic :data:`ALONG_CALIBRATION_SCENES`, each
fitted on by no model (32 plain, 24 v2, 44 generic), detector 0.6.17, rounded outwards
(``python benchmarks/accuracy.py --calibrate``). Tumangang-like yards alone stay near their unsure
band's ratios (plain 0.88-1.26, v2 0.76-1.74); yards of other layouts reach 2.94, and a user's yard
may be either. Before (detector 0.6.17 and earlier) such scenes kept their unsure band's interval,
which held the truth in 97 % of the plain ones, 89 % of v2's and 73 % of the generic ones. Re-read
with detector 0.6.31 (session 79; 93 scenes: 25 plain, 24 v2, 44 generic) the percentiles are 0.78
and 2.73, the upper one drawn by six yards counted at a fifth to a third of their cars (five of them
generic, at 1.0 m); these ratios were kept, as they hold the
truth in 96-100 % of the 93 held-out short-shadow scenes, and 2.73 would widen those intervals by a
quarter and hold no scene more. The interval is never narrower than its unsure band's."""

STRETCHED_INTERVAL_SINCE = (0, 6, 28)
"""The detector version from which a count of a contrast-stretched picture has
:data:`STRETCHED_INTERVAL_RATIOS`."""
STRETCHED_INTERVAL_RATIOS = (0.30, 1.30)
"""(low, high) ratio truth / count for a contrast-stretched picture (the stretched caution,
:data:`railcount.cautions.STRETCH_CLIP_SHARE`; lifted back by :mod:`railcount.detect.stretch`): such
pictures are counted high, some two or three times over. The 5th and 95th percentiles (0.305 and
1.296, median 0.90) over tuned plain scenes 700-799 stretched from their 0.5th and 2nd percentiles
(200 counts, detector 0.6.28, session 73), rounded outwards; on scenes 600-699 so stretched (those
``benchmarks/processing.py`` prints) the interval then holds the truth in 98 % of both, where the
unsure band's held it in 94 % and 77 %. The interval is never narrower than its unsure band's."""

LIGHT_STRETCH_INTERVAL_SINCE = (0, 6, 30)
"""The detector version from which a count of a lightly stretched picture has
:data:`LIGHT_STRETCH_INTERVAL_RATIOS`."""
LIGHT_STRETCH_INTERVAL_RATIOS = (0.50, 1.10)
"""(low, high) ratio truth / count for a picture that looks lightly contrast-stretched (the light
stretch's caution, :func:`railcount.cautions.light_stretch_caution`; nothing is lifted): the windows
so cautioned are those a stretch moved least visibly and hurt most, pale ones whose whole range was
spread, counted a fifth high and at times several times over. The 5th and 95th percentiles (0.500
and 1.073, median 0.83) over the 83 so cautioned of tuned plain scenes 700-799 stretched from their
0.02nd, 0.05th and 0.1th percentiles (detector 0.6.30, session 75), rounded outwards; on the 89 so
cautioned of scenes 600-699 so stretched (``benchmarks/processing.py``) the interval then holds the
truth in 81 (91 %), where the unsure band's held it in 78 (88 %; the 5th percentile there is 0.36:
the tail is heavy). The upper end is the unsure band's."""


def unsure_railcars(detections: Detections) -> np.ndarray:
    """Which detections are unsure railcars (bool per detection): not locomotives, and given less than
    :data:`UNSURE_BELOW` by the car model. The overlay draws them dashed, the detections say so."""
    return (detections.kind != "locomotive") & (np.asarray(detections.score, dtype=float) < UNSURE_BELOW)


def unsure_share(scores: np.ndarray) -> float:
    """Share of counted railcars the car model gave less than :data:`UNSURE_BELOW` (0 when none)."""
    scores = np.asarray(scores, dtype=float)
    return float((scores < UNSURE_BELOW).mean()) if scores.size else 0.0


FEW_SEEN_CARS = 3
"""Where a station is seen under four fifths (:data:`~railcount.cautions.PARTIAL_VIEW_SHARE`) and its
seen part holds fewer railcars than this, the interval's upper end scales this many to the unseen
part instead: three is the most a seen part counted empty could well have held (the rule of three:
with none seen, the 95 % upper bound of a Poisson mean). A station half seen and counted empty read
"0 railcars (0-1)"; it now reads (0-5). Seen more fully, the count's own cars are scaled as before."""


def interval(
    railcars: int,
    unsure: float = 0.0,
    observed: float = 1.0,
    *,
    shadows_along: bool = False,
    short_shadows: bool = False,
    stretched: bool = False,
    light_stretch: bool = False,
) -> tuple[int, int]:
    """The calibrated interval (low, high) for a count with a given unsure share.

    It is meant to hold the truth in nine scenes in ten (a 5th-95th
    percentile interval), and does so on held-out generated scenes.
    The upper bound also allows for cars in the unobserved part of the
    station, which are not guessed. Where the sun throws the shadows along
    the tracks (``shadows_along``), the ratios widen to
    :data:`ALONG_INTERVAL_RATIOS`, and where a 4 m car's shadow is under
    three pixels (``short_shadows``) to :data:`SHORT_INTERVAL_RATIOS`: many
    cars there are missed. On a contrast-stretched picture (``stretched``) they widen to
    :data:`STRETCHED_INTERVAL_RATIOS`, on a lightly stretched one (``light_stretch``) to
    :data:`LIGHT_STRETCH_INTERVAL_RATIOS`: such pictures are counted high.

    >>> interval(73, 0.05), interval(73, 0.5), interval(0), interval(20, 0.05, short_shadows=True)
    ((63, 85), (37, 120), (0, 1), (14, 46))
    >>> interval(0, observed=0.48), interval(40, observed=0.48), interval(73, 0.05, stretched=True)
    ((0, 5), (34, 91), (20, 96))
    >>> interval(73, 0.05, light_stretch=True)
    (35, 85)
    """
    band = int(np.searchsorted(UNSURE_EDGES, unsure, side="right"))
    lo_ratio, hi_ratio = INTERVAL_RATIOS[band]
    for widened, ratios in (
        (shadows_along, ALONG_INTERVAL_RATIOS),
        (short_shadows, SHORT_INTERVAL_RATIOS),
        (stretched, STRETCHED_INTERVAL_RATIOS),
        (light_stretch, LIGHT_STRETCH_INTERVAL_RATIOS),
    ):
        if widened:
            lo_ratio, hi_ratio = min(lo_ratio, ratios[0]), max(hi_ratio, ratios[1])
    low = max(0, math.floor(lo_ratio * railcars) - 1)
    high = math.ceil(hi_ratio * railcars) + 1
    if 0 < observed < 1:
        # The cars of the unseen part, in proportion to the seen part's; where a fifth or more is
        # unseen, never fewer than FEW_SEEN_CARS' share, so a part seen empty does not vouch for
        # the rest.
        seen = max(railcars, FEW_SEEN_CARS) if observed < PARTIAL_VIEW_SHARE else railcars
        high += math.ceil(seen * (1.0 - observed) / observed)
    return low, high


def summarise(
    window: SceneWindow,
    detections: Detections,
    *,
    shadows_along: bool = False,
    short_shadows: bool = False,
    stretched: bool = False,
    light_stretch: bool = False,
    sun: dict[str, Any] | None = None,
) -> CountResult:
    """The count of railcars (and, apart, locomotives) in a window's detections.

    ``railcars_low``-``railcars_high`` is the calibrated interval of
    :func:`interval`: the detector's measured spread of the truth around its
    count on generated scenes, wider when more of the counted cars were
    unsure (:func:`unsure_share`), and wider still upwards when the sun
    throws the shadows along the station's tracks (``shadows_along``) or a
    4 m car's shadow is under three pixels (``short_shadows``, the
    short-shadow caution of :mod:`railcount.cautions`), and downwards on a
    contrast-stretched picture (``stretched``, the stretched caution) or a lightly stretched one
    (``light_stretch``, the light stretch's caution).
    ``sun`` is where the detector put the sun, kept with the count.
    """
    kinds = detections.kind
    is_loco = kinds == "locomotive"
    railcars = int((~is_loco).sum())
    # Every class is reported (0 when absent), so the schema is the same for every scene.
    by_type = {name: int((kinds == name).sum()) for name in RAILCAR_TYPES}
    by_type["unclassified"] = railcars - sum(by_type.values())
    methods, mcounts = np.unique(detections.method[~is_loco], return_counts=True)
    by_method = {str(k): int(c) for k, c in zip(methods, mcounts, strict=True)}
    observed = window.observed_fraction
    unsure = unsure_share(detections.score[~is_loco])
    low, high = interval(
        railcars,
        unsure,
        observed,
        shadows_along=shadows_along,
        short_shadows=short_shadows,
        stretched=stretched,
        light_stretch=light_stretch,
    )
    return CountResult(
        station=window.station.name,
        scene=window.scene_id,
        acquired=window.acquired,
        acquired_from=window.acquired_from if window.acquired is not None else None,
        railcars=railcars,
        railcars_low=low,
        railcars_high=high,
        locomotives=int(is_loco.sum()),
        by_type=by_type,
        tarped=int((detections.tarped & ~is_loco).sum()),
        observed_fraction=observed,
        gsd_m=window.gsd_m,
        detector_version=DETECTOR_VERSION,
        count_method=by_method,
        unsure_share=unsure,
        sun=sun,
        provider_cloud_cover=window.cloud_cover,
        tiles=window.tiles,
        bands=window.bands,
        bands_guessed=window.bands_guessed,
        synthetic=window.synthetic,
    )
